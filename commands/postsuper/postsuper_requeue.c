/*
 * NAME
 *	postsuper_requeue - postsuper -r: send a message through cleanup again
 * SYNOPSIS
 *	#include "postsuper.h"
 *
 *	int ps_requeue(const char *queue, const char *id)
 * DESCRIPTION
 *	ps_requeue() turns QUEUE/ID into a maildrop file (lib/maildrop.h)
 *	and removes it, so that pickup(8) hands it to cleanup(8) as a new
 *	message: canonical and virtual alias mapping, header and body
 *	checks and the other cleanup work happen again with today's
 *	configuration, and the message gets a new queue ID. What is kept:
 *	the arrival time, the sender, every recipient that is not yet
 *	delivered with its original address and DSN options (recipients
 *	taken from the headers included), the DSN envelope ID and RET,
 *	the body encoding, the rewriting context (remote for mail that came
 *	in over SMTP, else local) and the content as it is. What is lost:
 *	the client attributes (client name and address, HELO, protocol,
 *	SASL login) and the SMTPUTF8 flag, which a maildrop file cannot
 *	carry, and delivered recipients, which are not delivered again.
 *
 *	The file is written under a temporary name (MAILDROP_TEMP_PREFIX),
 *	every record is run through the maildrop checker that pickup(8)
 *	applies, so pickup never refuses what postsuper wrote, and it is
 *	renamed to its queue ID only when it is complete, in mode
 *	MAILDROP_MODE_READY and synced. Only then is the original removed
 *	with its defer and trace notes, under the lock that ps_open()
 *	took; a crash in between can deliver the message twice, never lose
 *	it. pickup is then woken through public/pickup.
 *
 *	A message that still has bounce notes (a notice that bounce(8) has
 *	not sent yet) is not requeued: its notes would lose their message.
 *	A message without recipients left is not requeued either.
 *
 *	Returns 1 when the message was requeued, 0 when it is not in the
 *	queue, -1 when it was left alone (a warning says why).
 * DIAGNOSTICS
 *	Warnings for every message that is left alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "attr.h"
#include "cleanup_proto.h"
#include "mail_server.h"
#include "maildrop.h"
#include "msg.h"
#include "postsuper.h"
#include "qfile.h"
#include "queue_id.h"
#include "rec.h"
#include "safe_open.h"
#include "vstream.h"
#include "vstring.h"

#define PS_TEMP_TRIES 20

typedef struct PS_OUT {
    VSTREAM *fp;
    MAILDROP_CHECK *mc;
    VSTRING *why;
} PS_OUT;

/* ps_put - one record, checked as pickup will check it; 0 or -1 with why */

static int ps_put(PS_OUT *out, int type, const char *data, size_t len)
{
    if (maildrop_check(out->mc, type, data, len) < 0) {
        vstring_strcpy(out->why, maildrop_check_why(out->mc));
        return -1;
    }
    if (rec_put(out->fp, type, data, len) != type) {
        vstring_sprintf(out->why, "write %s: %m", vstream_path(out->fp));
        return -1;
    }
    return 0;
}

static int ps_put_str(PS_OUT *out, int type, const char *data)
{
    return ps_put(out, type, data, strlen(data));
}

static int ps_put_attr(PS_OUT *out, const char *name, const char *value)
{
    VSTRING *buf = vstring_alloc(100);
    int ret;

    vstring_sprintf(buf, "%s=%s", name, value);
    ret = ps_put(out, REC_TYPE_ATTR, vstring_str(buf), vstring_len(buf));
    vstring_free(buf);
    return ret;
}

/* ps_write_envelope - TIME, ATTR, FROM and the recipients still to do */

static int ps_write_envelope(PS_OUT *out, QFILE_ENV *env)
{
    static const char *kept[] = {CLEANUP_ATTR_DSN_ENVID, CLEANUP_ATTR_DSN_RET,
                                 CLEANUP_ATTR_ENCODING, NULL};
    VSTRING *buf = vstring_alloc(100);
    const char *origin = attr_nv_find(env->attrs, CLEANUP_ATTR_ORIGIN);
    const char *context = attr_nv_find(env->attrs, MAILDROP_ATTR_REWRITE);
    const char *value;
    int ret = -1;

    vstring_sprintf(buf, "%ld.%06ld", (long)env->arrival.tv_sec, (long)env->arrival.tv_usec);
    if (ps_put_str(out, REC_TYPE_TIME, vstring_str(buf)) < 0)
        goto out;
    if (context == NULL || (strcmp(context, "local") != 0 && strcmp(context, "remote") != 0))
        context = origin && strcmp(origin, "smtpd") == 0 ? "remote" : "local";
    if (ps_put_attr(out, MAILDROP_ATTR_REWRITE, context) < 0)
        goto out;
    for (int i = 0; kept[i]; i++)
        if ((value = attr_nv_find(env->attrs, kept[i])) != NULL && *value &&
            ps_put_attr(out, kept[i], value) < 0)
            goto out;
    if (ps_put_str(out, REC_TYPE_FROM, env->sender) < 0)
        goto out;
    for (int i = 0; i < env->rcpt_count; i++) {
        QFILE_RCPT *rcpt = env->rcpt + i;

        if (rcpt->done)
            continue;
        if (rcpt->orig[0] && ps_put_str(out, REC_TYPE_ORCP, rcpt->orig) < 0)
            goto out;
        vstring_sprintf(buf, "%ld", rcpt->notify);
        if (rcpt->notify && ps_put_str(out, REC_TYPE_NOTIFY, vstring_str(buf)) < 0)
            goto out;
        if (rcpt->orcpt[0] && ps_put_str(out, REC_TYPE_DSN_ORCPT, rcpt->orcpt) < 0)
            goto out;
        if (ps_put_str(out, REC_TYPE_RCPT, rcpt->address) < 0)
            goto out;
    }
    ret = 0;
out:
    vstring_free(buf);
    return ret;
}

/* ps_write_content - MESG, the content records as they are, XTRA, END */

static int ps_write_content(PS_OUT *out, VSTREAM *in, QFILE_ENV *env)
{
    VSTRING *buf = vstring_alloc(1024);
    int type;
    int ret = -1;

    if (vstream_fseek(in, env->mesg_offset, SEEK_SET) < 0 ||
        rec_get(in, buf, QFILE_REC_MAX) != REC_TYPE_MESG) {
        vstring_sprintf(out->why, "cannot find the content of %s", vstream_path(in));
        goto out;
    }
    if (ps_put(out, REC_TYPE_MESG, "", 0) < 0)
        goto out;
    while ((type = rec_get(in, buf, QFILE_REC_MAX)) == REC_TYPE_NORM || type == REC_TYPE_CONT)
        if (ps_put(out, type, vstring_str(buf), vstring_len(buf)) < 0)
            goto out;
    if (type != REC_TYPE_XTRA) {
        vstring_sprintf(out->why, "malformed content in %s", vstream_path(in));
        goto out;
    }
    if (ps_put(out, REC_TYPE_XTRA, "", 0) < 0 || ps_put(out, REC_TYPE_END, "", 0) < 0)
        goto out;
    ret = 0;
out:
    vstring_free(buf);
    return ret;
}

/* ps_maildrop_create - a new temporary file in maildrop/ */

static int ps_maildrop_create(VSTRING *temp, VSTRING *why)
{
    struct timeval tv;
    int fd = -1;

    for (int tries = 0; fd < 0 && tries < PS_TEMP_TRIES; tries++) {
        gettimeofday(&tv, NULL);
        vstring_sprintf(temp, "%s/%spostsuper.%ld.%06ld.%04x", MAILDROP_DIR, MAILDROP_TEMP_PREFIX,
                        (long)getpid(), (long)tv.tv_usec, (unsigned)(random() & 0xffff));
        fd = safe_create(vstring_str(temp), O_WRONLY, MAILDROP_MODE_WRITING, why);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    return fd;
}

/* ps_maildrop_commit - complete, sync and name the file; 0 or -1 with why */

static int ps_maildrop_commit(PS_OUT *out, const char *temp, VSTRING *new_id)
{
    VSTRING *final = vstring_alloc(50);
    struct timeval tv;
    struct stat st;
    int fd = vstream_fileno(out->fp);
    int ret = -1;

    if (!maildrop_check_done(out->mc)) {
        vstring_strcpy(out->why, "incomplete maildrop file");
        goto out;
    }
    if (vstream_fflush(out->fp) != 0 || fchmod(fd, MAILDROP_MODE_READY) < 0 ||
        vstream_fsync(out->fp) != 0 || fstat(fd, &st) < 0) {
        vstring_sprintf(out->why, "write %s: %m", temp);
        goto out;
    }
    gettimeofday(&tv, NULL);
    queue_id_make(new_id, st.st_ino, &tv);
    vstring_sprintf(final, "%s/%s", MAILDROP_DIR, vstring_str(new_id));
    if (renameat2(AT_FDCWD, temp, AT_FDCWD, vstring_str(final), RENAME_NOREPLACE) < 0) {
        vstring_sprintf(out->why, "rename %s to %s: %m", temp, vstring_str(final));
        goto out;
    }
    if (safe_fsync_dir(vstring_str(final)) < 0)
        msg_warn("sync directory of %s: %m", vstring_str(final));
    ret = 0;
out:
    vstring_free(final);
    return ret;
}

int ps_requeue(const char *queue, const char *id)
{
    QFILE_ENV *env = qfile_env_alloc();
    VSTRING *path = vstring_alloc(50);
    VSTRING *temp = vstring_alloc(100);
    VSTRING *new_id = vstring_alloc(QUEUE_ID_BUFSIZE);
    PS_OUT out = {NULL, NULL, vstring_alloc(100)};
    VSTREAM *in = NULL;
    struct stat st;
    int temp_fd = -1;
    int fd;
    int ret = -1;

    if ((fd = ps_open(queue, id, &st)) < 0) {
        ret = fd == PS_MISSING ? 0 : -1;
        goto out;
    }
    vstring_sprintf(path, "%s/%s", queue, id);
    /* the stream must not close fd: that would release the lock */
    in = vstream_fdopen(fd, O_RDONLY);
    vstream_set_path(in, vstring_str(path));
    if (qfile_read(in, QFILE_FLAG_CONTENT, env, out.why) < 0) {
        msg_warn("%s: not requeued: %s: %s", id, vstring_str(path), vstring_str(out.why));
        goto out;
    }
    vstring_sprintf(temp, "%s/%s", "bounce", id);
    if (access(vstring_str(temp), F_OK) == 0) {
        msg_warn("%s: not requeued: bounce(8) has not yet returned its failed recipients "
                 "(try again after the next delivery attempt)",
                 id);
        goto out;
    }
    if (qfile_undone(env) == 0) {
        msg_warn("%s: not requeued: no recipient left to deliver", id);
        goto out;
    }
    if ((temp_fd = ps_maildrop_create(temp, out.why)) < 0) {
        msg_warn("%s: not requeued: %s", id, vstring_str(out.why));
        goto out;
    }
    out.fp = vstream_fdopen(temp_fd, O_WRONLY);
    vstream_set_path(out.fp, vstring_str(temp));
    out.mc = maildrop_check_create(0);
    if (ps_write_envelope(&out, env) < 0 || ps_write_content(&out, in, env) < 0 ||
        ps_maildrop_commit(&out, vstring_str(temp), new_id) < 0) {
        msg_warn("%s: not requeued: %s", id, vstring_str(out.why));
        (void)unlink(vstring_str(temp));
        goto out;
    }
    if (unlink(vstring_str(path)) < 0)
        msg_warn("%s: requeued as %s, but remove %s: %m", id, vstring_str(new_id),
                 vstring_str(path));
    ps_remove_notes(id);
    if (msg_verbose)
        msg_info("%s: requeued as maildrop/%s", id, vstring_str(new_id));
    (void)mail_trigger("public/pickup", MAIL_TRIGGER_WAKEUP, 1, 0);
    ret = 1;
out:
    if (out.fp && vstream_fclose(out.fp) != 0 && ret > 0)
        msg_warn("close %s: %m", vstring_str(temp));
    if (out.mc)
        maildrop_check_free(out.mc);
    if (in)
        vstream_fdclose(in);
    if (fd >= 0)
        close(fd);
    vstring_free(out.why);
    vstring_free(path);
    vstring_free(temp);
    vstring_free(new_id);
    qfile_env_free(env);
    return ret;
}
