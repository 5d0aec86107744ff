/*
 * NAME
 *	sendmail_drop - hand one message to postdrop(1)
 * SYNOPSIS
 *	#include "sendmail.h"
 *
 *	void sm_envelope_init(SM_ENVELOPE *env)
 *	void sm_envelope_add_rcpt(SM_ENVELOPE *env, const char *addr, int notify,
 *				  const char *orcpt)
 *	void sm_envelope_reset_rcpt(SM_ENVELOPE *env)
 *
 *	SM_DROP *sm_drop_open(const SM_ENVELOPE *env, VSTRING *why)
 *	int sm_drop_line(SM_DROP *drop, const char *data, size_t len, int partial)
 *	int sm_drop_too_big(const SM_DROP *drop)
 *	int sm_drop_broken(const SM_DROP *drop)
 *	int sm_drop_close(SM_DROP *drop, VSTRING *id, VSTRING *why)
 *	void sm_drop_abort(SM_DROP *drop)
 * DESCRIPTION
 *	sm_envelope_init() empties an envelope (rewrite context local);
 *	sm_envelope_add_rcpt() appends a recipient with its DSN notify bits
 *	(0: none given) and DSN original recipient (NULL: none);
 *	sm_envelope_reset_rcpt() forgets the recipients.
 *
 *	sm_drop_open() runs $command_directory/postdrop -r with a pipe on
 *	its standard input and one on its standard output, and writes the
 *	envelope records (lib/maildrop.h). sm_drop_line() writes a content
 *	line as a NORM record, or a piece of a long line as a CONT record.
 *	Everything written also passes sendmail's own maildrop checker, so
 *	that a message larger than message_size_limit is noticed here
 *	(sm_drop_too_big()) and never sent in full to postdrop.
 *	sm_drop_broken() says that nothing more reaches postdrop (too big,
 *	or postdrop has gone away).
 *
 *	sm_drop_close() writes the end of the message, closes postdrop's
 *	input, reads the queue ID it reports and waits for it. It returns
 *	0 when the message is in maildrop/, else the exit status postdrop
 *	gave, with why empty (postdrop has explained itself on standard
 *	error), or an EX_* code of sendmail's own with a reason in why.
 *	sm_drop_abort() terminates postdrop (which then removes its
 *	temporary file) and waits for it. Both free the handle.
 *
 *	While a postdrop runs, a fatal error in sendmail aborts it first.
 * DIAGNOSTICS
 *	sm_drop_open() returns NULL with a reason when postdrop cannot be
 *	run. sm_drop_line() returns -1 once the message is too big or
 *	postdrop has gone away; sm_drop_close() then reports why.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"
#include "sendmail.h"

#define SM_DROP_ID_MAX 128 /* bytes of postdrop's report we read */

struct SM_DROP {
    pid_t pid;
    VSTREAM *to;        /* postdrop's standard input */
    int from_fd;        /* postdrop's standard output */
    MAILDROP_CHECK *mc; /* the same check postdrop makes */
    int too_big;
    int broken; /* a write failed or the check refused */
};

static SM_DROP *sm_drop_current; /* for the fatal-error hook */

void sm_envelope_init(SM_ENVELOPE *env)
{
    memset(env, 0, sizeof(*env));
    env->sender = mystrdup("");
    env->rewrite = "local";
}

void sm_envelope_add_rcpt(SM_ENVELOPE *env, const char *addr, int notify, const char *orcpt)
{
    if (env->rcpt_count >= env->rcpt_size) {
        env->rcpt_size = env->rcpt_size ? env->rcpt_size * 2 : 8;
        env->rcpt = myrealloc(env->rcpt, sizeof(SM_RCPT) * (size_t)env->rcpt_size);
    }
    env->rcpt[env->rcpt_count].addr = mystrdup(addr);
    env->rcpt[env->rcpt_count].notify = notify;
    env->rcpt[env->rcpt_count].dsn_orcpt = orcpt ? mystrdup(orcpt) : NULL;
    env->rcpt_count++;
}

void sm_envelope_reset_rcpt(SM_ENVELOPE *env)
{
    for (int i = 0; i < env->rcpt_count; i++) {
        myfree(env->rcpt[i].addr);
        myfree(env->rcpt[i].dsn_orcpt);
    }
    env->rcpt_count = 0;
}

/* sm_drop_put - write one record that passed the check */

static int sm_drop_put(SM_DROP *drop, int type, const char *data, size_t len)
{
    /* keep counting after a failure: a message that is too big stays so */
    if (!drop->too_big && maildrop_check(drop->mc, type, data, len) < 0) {
        if (maildrop_check_error(drop->mc) == MAILDROP_CHECK_TOO_BIG)
            drop->too_big = 1;
        else if (!drop->broken)
            msg_warn("internal error: %s", maildrop_check_why(drop->mc));
        drop->broken = 1;
    }
    if (drop->broken)
        return -1;
    if (rec_put(drop->to, type, data, len) != type) {
        drop->broken = 1;
        return -1;
    }
    return 0;
}

/* sm_drop_attr - write one ATTR record */

static void sm_drop_attr(SM_DROP *drop, const char *name, const char *value)
{
    VSTRING *buf;

    if (value == NULL)
        return;
    buf = vstring_alloc(100);
    vstring_sprintf(buf, "%s=%s", name, value);
    sm_drop_put(drop, REC_TYPE_ATTR, vstring_str(buf), vstring_len(buf));
    vstring_free(buf);
}

/* sm_drop_fatal_hook - a fatal error must not leave a message half-queued */

static void sm_drop_fatal_hook(void)
{
    if (sm_drop_current)
        sm_drop_abort(sm_drop_current);
}

SM_DROP *sm_drop_open(const SM_ENVELOPE *env, VSTRING *why)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    ARGV *args = argv_alloc(4);
    struct timeval now;
    SM_DROP *drop;
    int in[2];
    int out[2];
    pid_t pid;

    vstring_sprintf(path, "%s/postdrop", var_command_directory);
    if (access(vstring_str(path), X_OK) < 0) {
        vstring_sprintf(why, "unable to execute %s: %s", vstring_str(path), strerror(errno));
        vstring_free(path);
        vstring_free(buf);
        argv_free(args);
        return NULL;
    }
    argv_add(args, vstring_str(path));
    argv_add(args, "-r");
    for (int i = 0; i < msg_verbose && i < 5; i++)
        argv_add(args, "-v");
    if (pipe2(in, O_CLOEXEC) < 0)
        msg_fatal_status(EX_OSERR, "pipe: %m");
    if (pipe2(out, O_CLOEXEC) < 0)
        msg_fatal_status(EX_OSERR, "pipe: %m");
    vstream_fflush(VSTREAM_OUT);
    if ((pid = fork()) < 0)
        msg_fatal_status(EX_OSERR, "fork: %m");
    if (pid == 0) {
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
            _exit(EX_OSERR);
        signal(SIGPIPE, SIG_DFL);
        execv(args->argv[0], args->argv);
        dprintf(2, "%s: fatal: unable to execute %s: %s\n", msg_prog(), args->argv[0],
                strerror(errno));
        _exit(EX_UNAVAILABLE);
    }
    close(in[0]);
    close(out[1]);
    drop = mycalloc(1, sizeof(*drop));
    drop->pid = pid;
    drop->to = vstream_fdopen(in[1], O_WRONLY);
    drop->from_fd = out[0];
    drop->mc = maildrop_check_create(var_message_size_limit);
    sm_drop_current = drop;
    msg_set_cleanup(sm_drop_fatal_hook);

    gettimeofday(&now, NULL);
    vstring_sprintf(buf, "%ld.%06ld", (long)now.tv_sec, (long)now.tv_usec);
    sm_drop_put(drop, REC_TYPE_TIME, vstring_str(buf), vstring_len(buf));
    sm_drop_attr(drop, MAILDROP_ATTR_REWRITE, env->rewrite);
    sm_drop_attr(drop, MAILDROP_ATTR_FULL_NAME, env->full_name);
    sm_drop_attr(drop, MAILDROP_ATTR_DSN_ENVID, env->dsn_envid);
    sm_drop_attr(drop, MAILDROP_ATTR_DSN_RET, env->dsn_ret);
    sm_drop_attr(drop, MAILDROP_ATTR_ENCODING, env->encoding);
    if (env->extract) {
        sm_drop_attr(drop, MAILDROP_ATTR_EXTRACT, "yes");
        if (env->dsn_notify) {
            vstring_sprintf(buf, "%d", env->dsn_notify);
            sm_drop_attr(drop, MAILDROP_ATTR_DSN_NOTIFY, vstring_str(buf));
        }
    }
    sm_drop_put(drop, REC_TYPE_FROM, env->sender, strlen(env->sender));
    for (int i = 0; i < env->rcpt_count; i++) {
        if (env->rcpt[i].notify) {
            vstring_sprintf(buf, "%d", env->rcpt[i].notify);
            sm_drop_put(drop, REC_TYPE_NOTIFY, vstring_str(buf), vstring_len(buf));
        }
        if (env->rcpt[i].dsn_orcpt)
            sm_drop_put(drop, REC_TYPE_DSN_ORCPT, env->rcpt[i].dsn_orcpt,
                        strlen(env->rcpt[i].dsn_orcpt));
        sm_drop_put(drop, REC_TYPE_RCPT, env->rcpt[i].addr, strlen(env->rcpt[i].addr));
    }
    sm_drop_put(drop, REC_TYPE_MESG, "", 0);

    vstring_free(path);
    vstring_free(buf);
    argv_free(args);
    return drop;
}

int sm_drop_line(SM_DROP *drop, const char *data, size_t len, int partial)
{
    return sm_drop_put(drop, partial ? REC_TYPE_CONT : REC_TYPE_NORM, data, len);
}

int sm_drop_too_big(const SM_DROP *drop)
{
    return drop->too_big;
}

int sm_drop_broken(const SM_DROP *drop)
{
    return drop->broken;
}

/* sm_drop_wait - reap postdrop; its exit status, or EX_TEMPFAIL for a signal */

static int sm_drop_wait(SM_DROP *drop, VSTRING *why)
{
    int status;

    while (waitpid(drop->pid, &status, 0) < 0) {
        if (errno != EINTR) {
            vstring_sprintf(why, "wait for postdrop: %s", strerror(errno));
            return EX_OSERR;
        }
    }
    if (WIFEXITED(status)) {
        vstring_truncate(why, 0); /* postdrop has said why */
        return WEXITSTATUS(status);
    }
    vstring_sprintf(why, "postdrop was killed by signal %d",
                    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return EX_TEMPFAIL;
}

/* sm_drop_free - release the handle */

static void sm_drop_free(SM_DROP *drop)
{
    if (drop->to)
        (void)vstream_fclose(drop->to);
    if (drop->from_fd >= 0)
        close(drop->from_fd);
    maildrop_check_free(drop->mc);
    if (sm_drop_current == drop)
        sm_drop_current = NULL;
    myfree(drop);
}

void sm_drop_abort(SM_DROP *drop)
{
    VSTRING *why = vstring_alloc(60);

    (void)kill(drop->pid, SIGTERM);
    (void)vstream_fclose(drop->to);
    drop->to = NULL;
    (void)sm_drop_wait(drop, why);
    vstring_free(why);
    sm_drop_free(drop);
}

int sm_drop_close(SM_DROP *drop, VSTRING *id, VSTRING *why)
{
    char buf[SM_DROP_ID_MAX + 1];
    size_t got = 0;
    ssize_t n;
    int status;
    int write_error;

    if (drop->too_big) {
        vstring_strcpy(why, "message file too big");
        sm_drop_abort(drop);
        return EX_DATAERR;
    }
    sm_drop_put(drop, REC_TYPE_XTRA, "", 0);
    sm_drop_put(drop, REC_TYPE_END, "", 0);
    write_error = drop->broken;
    if (vstream_fclose(drop->to) != 0)
        write_error = 1;
    drop->to = NULL;
    while (got < SM_DROP_ID_MAX &&
           ((n = read(drop->from_fd, buf + got, SM_DROP_ID_MAX - got)) > 0 ||
            (n < 0 && errno == EINTR)))
        if (n > 0)
            got += (size_t)n;
    buf[got] = 0;
    status = sm_drop_wait(drop, why);
    if (status == 0 && write_error) {
        vstring_strcpy(why, "error writing to postdrop");
        status = EX_TEMPFAIL;
    }
    if (status == 0 && id != NULL) {
        buf[strcspn(buf, "\r\n")] = 0;
        vstring_strcpy(id, buf);
    }
    sm_drop_free(drop);
    return status;
}
