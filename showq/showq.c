/*
 * NAME
 *	showq - list the mail queue for postqueue(1) and mailq(1)
 * SYNOPSIS
 *	showq [generic daemon options]
 * DESCRIPTION
 *	showq is a single-threaded server (lib/mail_server.h) on
 *	public/showq (master.cf: "showq unix n - n - - showq"). For each
 *	client it walks the queue directories maildrop, active, incoming,
 *	deferred and hold, in that order and each in queue ID order, and
 *	streams one listing entry per message (lib/showq_proto.h): queue,
 *	queue ID, arrival time, content size, sender, and the recipients
 *	that are not yet delivered, each with the newest reason why its
 *	delivery was deferred (the defer/QUEUE_ID notes). Recipients with
 *	the same reason are sent together, in queue file order, those
 *	without a reason last. It takes no input from the client.
 *
 *	showq reads envelopes only, never message content, and it runs
 *	as mail_owner: it is how users who may not read the queue
 *	(postqueue is set-gid $setgid_group, which can reach public/) see
 *	what is queued. Files that are still being written (incoming/ or
 *	active/, deferred/, hold/ files not in mode 0700) and files that
 *	are not queue files are left out; a corrupt queue file is left
 *	out with a warning (qmgr moves it to corrupt/ when it gets to it).
 *	Recipients taken from the headers (sendmail -t) follow the content
 *	in the queue file; showq reads through the content to reach them
 *	only when the SIZE record counts more recipients than the envelope
 *	holds.
 *
 *	The null sender is shown as $empty_address_recipient. Addresses
 *	are shown in their external (quoted) form, and anything that is
 *	not printable becomes '?'.
 *
 *	Run by hand with -S (stand-alone) on a socket as descriptor 0,
 *	showq lists the queue once and exits: postqueue(1) does that when
 *	the mail system is down and the caller may read the queue.
 * DIAGNOSTICS
 *	Problems are logged as warnings. A client that goes away ends the
 *	listing quietly.
 * SEE ALSO
 *	showq(8), postqueue(1), lib/showq_proto.h, lib/qfile.h
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address.h"
#include "argv.h"
#include "cleanup_proto.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_server.h"
#include "msg.h"
#include "mymalloc.h"
#include "qfile.h"
#include "queue_id.h"
#include "showq_proto.h"
#include "vstream.h"
#include "vstring.h"

static const char *showq_queues[] = {QFILE_QUEUE_NAMES, NULL};

/* showq_names - the queue IDs in a queue directory, sorted */

static int showq_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static ARGV *showq_names(const char *queue)
{
    ARGV *names = argv_alloc(32);
    struct dirent *dp;
    DIR *dir;

    if ((dir = opendir(queue)) == NULL) {
        if (errno != ENOENT)
            msg_warn("open queue directory %s: %m", queue);
        return names;
    }
    while ((dp = readdir(dir)) != NULL)
        if (queue_id_ok(dp->d_name))
            argv_add(names, dp->d_name);
    closedir(dir);
    qsort(names->argv, (size_t)names->argc, sizeof(names->argv[0]), showq_cmp);
    return names;
}

/* showq_quote - external form, printable */

static const char *showq_quote(VSTRING *out, const char *addr)
{
    if (*addr == 0)
        return vstring_str(vstring_strcpy(out, var_empty_address_recipient));
    if (address_quote(out, addr) < 0)
        vstring_strcpy(out, addr);
    return showq_printable(out, vstring_str(out));
}

/* showq_fill - the listing entry of one message from its envelope */

static void showq_fill(SHOWQ_MSG *msg, const char *queue, const char *id, const struct stat *st,
                       QFILE_ENV *env)
{
    VSTRING *buf = vstring_alloc(100);
    ARGV *reasons = argv_alloc(4);
    int seen;

    showq_msg_set(&msg->queue_name, queue);
    showq_msg_set(&msg->queue_id, id);
    msg->arrival_time = env->arrival.tv_sec > 0 ? (long)env->arrival.tv_sec : (long)st->st_mtime;
    msg->message_size = env->content_size >= 0 ? (long)env->content_size : (long)st->st_size;
    msg->forced_expire = 0;
    showq_msg_set(&msg->sender, showq_quote(buf, env->sender));

    /* the distinct reasons in order of first appearance, then "" */
    for (int i = 0; i < env->rcpt_count; i++) {
        if (env->rcpt[i].done || env->rcpt[i].reason[0] == 0)
            continue;
        seen = 0;
        for (int r = 0; r < reasons->argc && !seen; r++)
            seen = strcmp(reasons->argv[r], env->rcpt[i].reason) == 0;
        if (!seen)
            argv_add(reasons, env->rcpt[i].reason);
    }
    argv_add(reasons, "");
    for (int r = 0; r < reasons->argc; r++) {
        for (int i = 0; i < env->rcpt_count; i++) {
            if (env->rcpt[i].done || strcmp(env->rcpt[i].reason, reasons->argv[r]) != 0)
                continue;
            showq_quote(buf, env->rcpt[i].address);
            showq_msg_add_rcpt(msg, vstring_str(buf), "");
            showq_msg_set(&msg->rcpt[msg->rcpt_count - 1].reason,
                          showq_printable(buf, env->rcpt[i].reason));
        }
    }
    argv_free(reasons);
    vstring_free(buf);
}

/* showq_one - one message; -1 when the client went away */

static int showq_one(VSTREAM *client, const char *queue, const char *id, SHOWQ_MSG *msg,
                     QFILE_ENV *env)
{
    VSTRING *why = vstring_alloc(100);
    int maildrop = strcmp(queue, "maildrop") == 0;
    struct stat st;
    VSTREAM *fp;
    int ret = 0;

    if ((fp = qfile_open(queue, id, &st, why)) == NULL) {
        if (errno != ENOENT)
            msg_warn("%s", vstring_str(why));
        goto out;
    }
    if (!maildrop && (st.st_mode & 07777) != CLEANUP_MODE_READY)
        goto out; /* still being written */
    if (qfile_read(fp, maildrop ? QFILE_FLAG_MAILDROP : QFILE_FLAG_NONE, env, why) < 0) {
        msg_warn("%s: %s: skipped", vstream_path(fp), vstring_str(why));
        goto out;
    }
    /* recipients taken from the headers follow the content */
    if (!maildrop && env->rcpt_total > env->rcpt_count) {
        if (vstream_fseek(fp, 0, SEEK_SET) < 0) {
            msg_warn("%s: seek: %m: skipped", vstream_path(fp));
            goto out;
        }
        if (qfile_read(fp, QFILE_FLAG_CONTENT, env, why) < 0) {
            msg_warn("%s: %s: skipped", vstream_path(fp), vstring_str(why));
            goto out;
        }
    }
    if (!maildrop && qfile_read_reasons(env, id) < 0)
        msg_warn("%s: cannot read its delay reasons", id);
    showq_fill(msg, queue, id, &st, env);
    ret = showq_send_message(client, msg);
    showq_msg_reset(msg);
out:
    if (fp)
        vstream_fclose(fp);
    vstring_free(why);
    return ret;
}

static void showq_service(VSTREAM *client, const char *service, char **args)
{
    SHOWQ_MSG *msg = showq_msg_alloc();
    QFILE_ENV *env = qfile_env_alloc();
    ARGV *names;
    int gone = 0;

    (void)service;
    if (args[0])
        msg_fatal("unexpected command-line argument: %s", args[0]);
    vstream_set_timeout(client, (int)var_ipc_timeout);
    for (int q = 0; showq_queues[q] && !gone; q++) {
        names = showq_names(showq_queues[q]);
        for (int i = 0; i < names->argc && !gone; i++)
            gone = showq_one(client, showq_queues[q], names->argv[i], msg, env) < 0;
        argv_free(names);
    }
    if (!gone)
        (void)showq_send_end(client);
    showq_msg_free(msg);
    qfile_env_free(env);
}

int main(int argc, char **argv)
{
    single_server_main(argc, argv, showq_service, NULL);
}
