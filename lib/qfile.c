/*
 * NAME
 *	qfile - read a queue file's envelope for the queue tools
 * SYNOPSIS
 *	#include "qfile.h"
 *
 *	QFILE_ENV *qfile_env_alloc(void)
 *	void qfile_env_free(QFILE_ENV *env)
 *	VSTREAM *qfile_open(const char *queue, const char *id, struct stat *st,
 *			VSTRING *why)
 *	int qfile_queue_ok(const char *queue)
 *	int qfile_read(VSTREAM *fp, int flags, QFILE_ENV *env, VSTRING *why)
 *	int qfile_read_reasons(QFILE_ENV *env, const char *queue_id)
 *	int qfile_undone(const QFILE_ENV *env)
 * DESCRIPTION
 *	qfile_open() checks the queue name and the queue ID before either
 *	becomes part of a path, then opens the file without following a
 *	symbolic link and refuses anything but a regular file with one
 *	link.
 *
 *	qfile_read() is a small state machine over the records of
 *	lib/rec.h: the envelope (SIZE first in a queue file, TIME first in
 *	a maildrop file), then MESG; with QFILE_FLAG_CONTENT the content
 *	records are stepped over (never kept) up to XTRA, and what follows
 *	it up to END and the end of the file is read too. Recipient
 *	records collect the ORCP, NOTIFY and DSN_ORCPT records that came
 *	just before them. Anything out of place refuses the whole file with
 *	a reason, so that a caller never shows half a message as if it were
 *	all of it.
 *
 *	qfile_read_reasons() pairs the defer notes of a message with its
 *	recipients, by the offset of the recipient record (what qmgr and
 *	the delivery agents write), else by address, and keeps the newest.
 * DIAGNOSTICS
 *	qfile_read() logs nothing itself (rec_get() warns about a broken
 *	record framing); the caller decides what a refused file means.
 *	qfile_read_reasons() warns when a note file cannot be opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deliver_proto.h"
#include "deliver_status.h"
#include "msg.h"
#include "mymalloc.h"
#include "qfile.h"
#include "queue_id.h"
#include "rec.h"
#include "safe_open.h"

/* where the reader is */
#define QF_ENVELOPE 0 /* before MESG */
#define QF_CONTENT 1  /* between MESG and XTRA */
#define QF_EXTRA 2    /* between XTRA and END */
#define QF_END 3      /* after END */

static const char *qfile_queues[] = {QFILE_QUEUE_NAMES, NULL};

QFILE_ENV *qfile_env_alloc(void)
{
    QFILE_ENV *env = mycalloc(1, sizeof(*env));

    env->sender = mystrdup("");
    env->attrs = attr_nv_create();
    env->content_size = -1;
    env->data_offset = -1;
    env->rcpt_total = -1;
    return env;
}

static void qfile_env_reset(QFILE_ENV *env)
{
    for (int i = 0; i < env->rcpt_count; i++) {
        myfree(env->rcpt[i].address);
        myfree(env->rcpt[i].orig);
        myfree(env->rcpt[i].orcpt);
        myfree(env->rcpt[i].reason);
    }
    env->rcpt_count = 0;
    myfree(env->sender);
    env->sender = mystrdup("");
    attr_nv_free(env->attrs);
    env->attrs = attr_nv_create();
    env->content_size = -1;
    env->data_offset = -1;
    env->rcpt_total = -1;
    env->arrival.tv_sec = 0;
    env->arrival.tv_usec = 0;
    env->mesg_offset = 0;
    env->complete = 0;
}

void qfile_env_free(QFILE_ENV *env)
{
    qfile_env_reset(env);
    myfree(env->rcpt);
    myfree(env->sender);
    attr_nv_free(env->attrs);
    myfree(env);
}

int qfile_queue_ok(const char *queue)
{
    for (int i = 0; qfile_queues[i]; i++)
        if (strcmp(queue, qfile_queues[i]) == 0)
            return 1;
    return 0;
}

VSTREAM *qfile_open(const char *queue, const char *id, struct stat *st, VSTRING *why)
{
    VSTRING *path;
    VSTREAM *fp;
    int fd;
    int saved;

    if (!qfile_queue_ok(queue) || !queue_id_ok(id)) {
        if (why)
            vstring_sprintf(why, "bad queue name or queue ID");
        errno = EINVAL;
        return NULL;
    }
    path = vstring_alloc(64);
    vstring_sprintf(path, "%s/%s", queue, id);
    if ((fd = safe_open_existing(vstring_str(path), O_RDONLY, SAFE_OPEN_ANY_UID, st, why)) < 0) {
        saved = errno;
        vstring_free(path);
        errno = saved;
        return NULL;
    }
    fp = vstream_fdopen(fd, O_RDONLY);
    vstream_set_path(fp, vstring_str(path));
    vstring_free(path);
    return fp;
}

/* qfile_time - "seconds[.microseconds]"; 0 or -1 */

static int qfile_time(const char *text, struct timeval *tv)
{
    long long sec;
    long usec = 0;
    char *end;

    if (*text < '0' || *text > '9')
        return -1;
    errno = 0;
    sec = strtoll(text, &end, 10);
    if (errno)
        return -1;
    if (*end == '.') {
        const char *frac = end + 1;

        if (*frac < '0' || *frac > '9')
            return -1;
        usec = strtol(frac, &end, 10);
        if (errno || usec > 999999)
            return -1;
    }
    if (*end)
        return -1;
    tv->tv_sec = (time_t)sec;
    tv->tv_usec = usec;
    return 0;
}

/* qfile_size - the SIZE record "content_size data_offset rcpt_count" */

static int qfile_size(const char *text, QFILE_ENV *env)
{
    long long val[3];
    const char *cp = text;
    char *end;

    for (int i = 0; i < 3; i++) {
        while (*cp == ' ')
            cp++;
        if (*cp < '0' || *cp > '9')
            return -1;
        errno = 0;
        val[i] = strtoll(cp, &end, 10);
        if (errno)
            return -1;
        cp = end;
    }
    while (*cp == ' ')
        cp++;
    if (*cp || val[1] <= 0 || val[2] > 0x7fffffffL)
        return -1;
    env->content_size = val[0];
    env->data_offset = (off_t)val[1];
    env->rcpt_total = (long)val[2];
    return 0;
}

static void qfile_add_rcpt(QFILE_ENV *env, const char *addr, const char *orig, const char *orcpt,
                           long notify, off_t offset, int done, int extracted)
{
    QFILE_RCPT *rcpt;

    if (env->rcpt_count >= env->rcpt_size) {
        env->rcpt_size = env->rcpt_size ? 2 * env->rcpt_size : 4;
        env->rcpt = myrealloc(env->rcpt, sizeof(*env->rcpt) * (size_t)env->rcpt_size);
    }
    rcpt = env->rcpt + env->rcpt_count++;
    rcpt->address = mystrdup(addr);
    rcpt->orig = mystrdup(orig);
    rcpt->orcpt = mystrdup(orcpt);
    rcpt->notify = notify;
    rcpt->offset = offset;
    rcpt->done = done;
    rcpt->extracted = extracted;
    rcpt->reason = mystrdup("");
}

#define QF_FAIL(...)                                                                               \
    do {                                                                                           \
        vstring_sprintf(why, __VA_ARGS__);                                                         \
        goto out;                                                                                  \
    } while (0)

int qfile_read(VSTREAM *fp, int flags, QFILE_ENV *env, VSTRING *why)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *orig = vstring_alloc(50);
    VSTRING *orcpt = vstring_alloc(50);
    const char *name, *value;
    long notify = 0;
    int pending = 0; /* ORCP/NOTIFY/DSN_ORCPT waiting for their recipient */
    int have_time = 0, have_from = 0;
    int state = QF_ENVELOPE;
    int first = 1;
    int type;
    off_t at;
    char *end;
    int ret = -1;

    qfile_env_reset(env);
    for (;;) {
        at = vstream_ftell(fp);
        type = rec_get(fp, buf, QFILE_REC_MAX);
        if (type == REC_TYPE_EOF) {
            if (state == QF_END) {
                env->complete = 1;
                ret = 0;
                goto out;
            }
            QF_FAIL(state == QF_ENVELOPE ? "no content record" : "no end record");
        }
        if (type == REC_TYPE_ERROR)
            QF_FAIL("malformed record at offset %lld", (long long)at);
        if (state == QF_END)
            QF_FAIL("%s record after the end record", rec_type_name(type));
        if (first) {
            first = 0;
            if (!(flags & QFILE_FLAG_MAILDROP)) {
                if (type != REC_TYPE_SIZE || qfile_size(vstring_str(buf), env) < 0)
                    QF_FAIL("no valid size record");
                continue;
            }
        }
        if (state == QF_CONTENT) {
            if (type == REC_TYPE_NORM || type == REC_TYPE_CONT)
                continue;
            if (type != REC_TYPE_XTRA)
                QF_FAIL("unexpected %s record in the content", rec_type_name(type));
            state = QF_EXTRA;
            continue;
        }
        /* envelope records, before MESG or after XTRA */
        switch (type) {
        case REC_TYPE_TIME:
            if (state != QF_ENVELOPE || have_time++)
                QF_FAIL("misplaced time record");
            if (qfile_time(vstring_str(buf), &env->arrival) < 0)
                QF_FAIL("bad time record");
            break;
        case REC_TYPE_FROM:
            if (state != QF_ENVELOPE || have_from++)
                QF_FAIL("misplaced sender record");
            if (strlen(vstring_str(buf)) != vstring_len(buf))
                QF_FAIL("sender record holds a NUL byte");
            myfree(env->sender);
            env->sender = mystrdup(vstring_str(buf));
            break;
        case REC_TYPE_ATTR:
            if (rec_attr_split(buf, &name, &value) < 0)
                QF_FAIL("bad attribute record");
            attr_nv_update(env->attrs, name, value);
            break;
        case REC_TYPE_ORCP:
        case REC_TYPE_DSN_ORCPT:
            if (strlen(vstring_str(buf)) != vstring_len(buf))
                QF_FAIL("%s record holds a NUL byte", rec_type_name(type));
            vstring_strcpy(type == REC_TYPE_ORCP ? orig : orcpt, vstring_str(buf));
            pending = 1;
            break;
        case REC_TYPE_NOTIFY:
            errno = 0;
            notify = strtol(vstring_str(buf), &end, 10);
            if (errno || end == vstring_str(buf) || *end || notify < 0 || notify > 15)
                QF_FAIL("bad notify record");
            pending = 1;
            break;
        case REC_TYPE_RCPT:
        case REC_TYPE_DONE:
            if (!have_from)
                QF_FAIL("recipient before sender");
            if (vstring_len(buf) == 0 || strlen(vstring_str(buf)) != vstring_len(buf))
                QF_FAIL("bad recipient record at offset %lld", (long long)at);
            qfile_add_rcpt(env, vstring_str(buf), vstring_str(orig), vstring_str(orcpt), notify, at,
                           type == REC_TYPE_DONE, state == QF_EXTRA);
            vstring_reset(orig);
            vstring_reset(orcpt);
            notify = 0;
            pending = 0;
            break;
        case REC_TYPE_MESG:
            if (state != QF_ENVELOPE)
                QF_FAIL("misplaced content record");
            if (pending)
                QF_FAIL("recipient attributes without a recipient");
            if (!have_time || !have_from)
                QF_FAIL("no time or sender record");
            if (env->data_offset >= 0 && at != env->data_offset)
                QF_FAIL("content at offset %lld, size record says %lld", (long long)at,
                        (long long)env->data_offset);
            env->mesg_offset = at;
            if (!(flags & QFILE_FLAG_CONTENT)) {
                ret = 0;
                goto out;
            }
            state = QF_CONTENT;
            break;
        case REC_TYPE_END:
            if (state != QF_EXTRA)
                QF_FAIL("misplaced end record");
            if (pending)
                QF_FAIL("recipient attributes without a recipient");
            state = QF_END;
            break;
        default:
            QF_FAIL("unexpected %s record in the envelope", rec_type_name(type));
        }
    }
out:
    vstring_free(buf);
    vstring_free(orig);
    vstring_free(orcpt);
    return ret;
}

int qfile_read_reasons(QFILE_ENV *env, const char *queue_id)
{
    DELIVER_NOTE *note;
    VSTREAM *fp;
    int found;
    int count = 0;

    if ((fp = deliver_note_open(DEFER_LOG_DIR, queue_id)) == NULL)
        return errno == ENOENT ? 0 : -1;
    note = deliver_note_alloc();
    while (deliver_note_read(fp, note) > 0) {
        found = -1;
        for (int i = 0; i < env->rcpt_count && found < 0; i++)
            if (!env->rcpt[i].done && env->rcpt[i].offset == note->offset)
                found = i;
        for (int i = 0; i < env->rcpt_count && found < 0; i++)
            if (!env->rcpt[i].done && strcmp(env->rcpt[i].address, note->recipient) == 0)
                found = i;
        if (found < 0)
            continue;
        myfree(env->rcpt[found].reason);
        env->rcpt[found].reason = mystrdup(note->reason ? note->reason : "");
    }
    vstream_fclose(fp);
    deliver_note_free(note);
    for (int i = 0; i < env->rcpt_count; i++)
        if (!env->rcpt[i].done && env->rcpt[i].reason[0])
            count++;
    return count;
}

int qfile_undone(const QFILE_ENV *env)
{
    int count = 0;

    for (int i = 0; i < env->rcpt_count; i++)
        if (!env->rcpt[i].done)
            count++;
    return count;
}
