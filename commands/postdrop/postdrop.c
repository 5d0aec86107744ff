/*
 * NAME
 *	postdrop - the set-gid door from local users into maildrop/
 * SYNOPSIS
 *	postdrop [-rv] [-c config_dir]
 * DESCRIPTION
 *	postdrop reads one message as a maildrop record stream (lib/maildrop.h)
 *	on standard input, as sendmail(1) writes it, and stores it in
 *	$queue_directory/maildrop for pickup(8). It is installed set-gid
 *	$setgid_group, the group that may write into maildrop/ and reach
 *	public/pickup; it is never set-uid, so every file it creates
 *	belongs to the real user, and that owner is what pickup reports as
 *	the submitting user ("uid=N").
 *
 *	postdrop trusts nothing it reads: every record goes through the
 *	maildrop checker (order, types, allowed attributes, lengths,
 *	$message_size_limit), and the arrival time is postdrop's own
 *	clock. The file is written as maildrop/tmp.* with mode 0600, then
 *	made mode 0644, fsync'd, and only then renamed to its queue ID (the
 *	rename never replaces a file), and the directory is synced when the
 *	process may read it (the set-gid group may not: should a crash undo
 *	the rename, pickup finds the ready file under its temporary name).
 *	pickup takes only files named by a queue ID, or ready temporary
 *	files long untouched, so it never sees a partial file. Any failure or a terminating signal
 *removes the temporary file. Last, postdrop wakes pickup through public/pickup; when that fails,
 *the message still waits safely for pickup's next scan.
 *
 *	-r	Report the queue ID of the new file on standard output, on
 *		success (sendmail -bs uses it).
 *	-c config_dir	Read main.cf in config_dir. When postdrop runs set-gid,
 *		a directory other than the default one (from -c or
 *		MAIL_CONFIG) must be listed in alternate_config_directories
 *		of the default main.cf, or it and its main.cf must belong to
 *		root and not be writable by group or others.
 *	-v	More verbose logging.
 *
 *	When set-gid, postdrop keeps only the environment variables named
 *	by import_environment, and only users on authorized_submit_users
 *	may submit mail.
 * DIAGNOSTICS
 *	Problems go to standard error and to the mail log. Exit status
 *	(sysexits.h): 0 when the message is stored; EX_USAGE bad arguments;
 *	EX_NOPERM not authorized; EX_DATAERR malformed input or a message
 *	larger than message_size_limit; EX_NOINPUT input that ends before
 *	the message does; EX_TEMPFAIL the queue could not be written.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "mail_conf.h"
#include "mail_server.h"
#include "maildrop.h"
#include "msg.h"
#include "mymalloc.h"
#include "queue_id.h"
#include "rec.h"
#include "safe_open.h"
#include "setgid_conf.h"
#include "sig.h"
#include "vstream.h"
#include "vstring.h"

#define POSTDROP_TEMP_TRIES 20
#define POSTDROP_TRIGGER_PATH "public/pickup"

static char postdrop_temp[256];                  /* the temporary file, for cleanup */
static volatile sig_atomic_t postdrop_have_temp; /* postdrop_temp exists */
static long postdrop_uid;

/* postdrop_remove_temp - fatal-error hook: no partial file is left behind */

static void postdrop_remove_temp(void)
{
    if (postdrop_have_temp) {
        (void)unlink(postdrop_temp);
        postdrop_have_temp = 0;
    }
}

/* postdrop_sig - a terminating signal: clean up and leave quietly */

static void postdrop_sig(int sig)
{
    (void)sig;
    if (postdrop_have_temp)
        (void)unlink(postdrop_temp);
    _exit(EX_TEMPFAIL);
}

/* postdrop_block - block (1) or unblock (0) the terminating signals */

static void postdrop_block(int on)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGTERM);
    sigprocmask(on ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/* postdrop_create - the temporary file in maildrop/, and the time it got */

static int postdrop_create(struct timeval *tv)
{
    VSTRING *why = vstring_alloc(100);
    int fd = -1;

    for (int tries = 0; fd < 0; tries++) {
        gettimeofday(tv, NULL);
        snprintf(postdrop_temp, sizeof(postdrop_temp), "%s/%s%ld.%06ld.%04x", MAILDROP_DIR,
                 MAILDROP_TEMP_PREFIX, (long)getpid(), (long)tv->tv_usec,
                 (unsigned)(random() & 0xffff));
        postdrop_block(1);
        fd = safe_create(postdrop_temp, O_WRONLY, MAILDROP_MODE_WRITING, why);
        if (fd >= 0)
            postdrop_have_temp = 1;
        postdrop_block(0);
        if (fd < 0 && (errno != EEXIST || tries >= POSTDROP_TEMP_TRIES))
            msg_fatal_status(EX_TEMPFAIL, "uid=%ld: create file %s: %m", postdrop_uid,
                             postdrop_temp);
    }
    vstring_free(why);
    return fd;
}

/* postdrop_write_error - the queue file could not be written */

static void __attribute__((noreturn)) postdrop_write_error(void)
{
    if (errno == EFBIG)
        msg_fatal_status(EX_DATAERR, "uid=%ld: message file too big", postdrop_uid);
    msg_fatal_status(EX_TEMPFAIL, "uid=%ld: write file %s: %m", postdrop_uid, postdrop_temp);
}

/* postdrop_copy - check and store the record stream */

static void postdrop_copy(int fd, const struct timeval *arrival)
{
    VSTREAM *out = vstream_fdopen(fd, O_WRONLY);
    VSTRING *buf = vstring_alloc(1024);
    MAILDROP_CHECK *mc = maildrop_check_create(var_message_size_limit);
    int type;

    vstream_set_path(out, postdrop_temp);
    for (;;) {
        type = maildrop_get(VSTREAM_IN, buf);
        if (type == REC_TYPE_EOF) {
            if (maildrop_check_done(mc))
                break;
            msg_fatal_status(EX_NOINPUT, "uid=%ld: premature end of input", postdrop_uid);
        }
        if (type == REC_TYPE_ERROR)
            msg_fatal_status(EX_DATAERR, "uid=%ld: malformed input", postdrop_uid);
        if (maildrop_check(mc, type, vstring_str(buf), vstring_len(buf)) < 0)
            msg_fatal_status(EX_DATAERR, "uid=%ld: %s", postdrop_uid,
                             maildrop_check_error(mc) == MAILDROP_CHECK_TOO_BIG
                                 ? "message file too big"
                                 : maildrop_check_why(mc));
        if (type == REC_TYPE_TIME) {
            if (rec_fprintf(out, REC_TYPE_TIME, "%ld.%06ld", (long)arrival->tv_sec,
                            (long)arrival->tv_usec) != REC_TYPE_TIME)
                postdrop_write_error();
        } else if (rec_put(out, type, vstring_str(buf), vstring_len(buf)) != type) {
            postdrop_write_error();
        }
    }
    if (vstream_fflush(out) != 0 || fchmod(fd, MAILDROP_MODE_READY) < 0 || vstream_fsync(out) != 0)
        postdrop_write_error();
    if (vstream_fclose(out) != 0)
        postdrop_write_error();
    if (msg_verbose)
        msg_info("uid=%ld: %ld bytes, %d recipients", postdrop_uid, (long)maildrop_check_size(mc),
                 maildrop_check_rcpt_count(mc));
    maildrop_check_free(mc);
    vstring_free(buf);
}

/* postdrop_commit - rename the complete file to its queue ID, durably */

static void postdrop_commit(const char *final)
{
    struct stat st;
    int status;

    postdrop_block(1);
    status = renameat2(AT_FDCWD, postdrop_temp, AT_FDCWD, final, RENAME_NOREPLACE);
    if (status < 0 && (errno == EINVAL || errno == ENOSYS)) {
        /* a file system without RENAME_NOREPLACE: queue IDs are unique anyway */
        if (lstat(final, &st) == 0)
            errno = EEXIST;
        else
            status = rename(postdrop_temp, final);
    }
    if (status == 0)
        postdrop_have_temp = 0;
    postdrop_block(0);
    if (status < 0)
        msg_fatal_status(EX_TEMPFAIL, "uid=%ld: rename %s to %s: %m", postdrop_uid, postdrop_temp,
                         final);
    /*
     * The set-gid group may write maildrop/ but not read it, so it cannot
     * open the directory to sync it. The file itself is synced and in its
     * ready mode: should a crash undo the rename, pickup(8) finds the
     * complete file under its temporary name and passes it on.
     */
    if (safe_fsync_dir(final) < 0 && errno != EACCES)
        msg_warn("uid=%ld: sync directory of %s: %m", postdrop_uid, final);
}

int main(int argc, char **argv)
{
    VSTRING *id = vstring_alloc(QUEUE_ID_BUFSIZE);
    VSTRING *final = vstring_alloc(100);
    VSTRING *name = vstring_alloc(32);
    VSTRING *why = vstring_alloc(100);
    const char *config_dir = NULL;
    struct timeval arrival;
    struct stat st;
    int report_id = 0;
    int status;
    int fd;
    int ch;

    setgid_std_fds();
    umask(077);
    msg_init("postdrop");
    msg_set_stderr(1);
    sig_ignore_pipe();
    signal(SIGXFSZ, SIG_IGN); /* a file size limit is a write error */
    postdrop_uid = (long)getuid();
    if (geteuid() != getuid())
        msg_fatal_status(EX_USAGE, "postdrop must not be set-uid");

    while ((ch = getopt(argc, argv, "c:rv")) != -1) {
        switch (ch) {
        case 'c':
            config_dir = optarg;
            break;
        case 'r':
            report_id = 1;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            msg_fatal_status(EX_USAGE, "usage: %s [-rv] [-c config_dir]", msg_prog());
        }
    }
    if (optind != argc)
        msg_fatal_status(EX_USAGE, "usage: %s [-rv] [-c config_dir]", msg_prog());

    config_dir = setgid_conf_dir(config_dir);
    mail_conf_read(config_dir);
    mail_conf_eval();
    msg_set_syslog_name(var_syslog_name);
    if (var_maillog_file[0] && access(var_maillog_file, W_OK) == 0)
        msg_set_logfile(var_maillog_file);
    if (setgid_running())
        setgid_clean_env();

    status = maildrop_submit_ok(maildrop_user_name(getuid(), name), why);
    if (status < 0)
        msg_fatal_status(EX_TEMPFAIL, "uid=%ld: %s", postdrop_uid, vstring_str(why));
    if (status == 0)
        msg_fatal_status(EX_NOPERM, "User %s(%ld) is not allowed to submit mail", vstring_str(name),
                         postdrop_uid);

    if (chdir(var_queue_directory) < 0)
        msg_fatal_status(EX_TEMPFAIL, "chdir %s: %m", var_queue_directory);
    msg_set_cleanup(postdrop_remove_temp);
    sig_catch(SIGHUP, postdrop_sig, 0);
    sig_catch(SIGINT, postdrop_sig, 0);
    sig_catch(SIGQUIT, postdrop_sig, 0);
    sig_catch(SIGTERM, postdrop_sig, 0);
    srandom((unsigned)getpid() ^ (unsigned)time(NULL));

    fd = postdrop_create(&arrival);
    if (fstat(fd, &st) < 0)
        msg_fatal_status(EX_TEMPFAIL, "uid=%ld: fstat %s: %m", postdrop_uid, postdrop_temp);
    queue_id_make(id, st.st_ino, &arrival);
    vstring_sprintf(final, "%s/%s", MAILDROP_DIR, vstring_str(id));

    postdrop_copy(fd, &arrival);
    postdrop_commit(vstring_str(final));

    if (mail_trigger(POSTDROP_TRIGGER_PATH, MAIL_TRIGGER_WAKEUP, 1, 0) < 0)
        msg_warn("unable to look up %s: %m", POSTDROP_TRIGGER_PATH);
    if (msg_verbose)
        msg_info("uid=%ld: queued as %s", postdrop_uid, vstring_str(final));
    if (report_id) {
        vstream_fprintf(VSTREAM_OUT, "%s\n", vstring_str(id));
        if (vstream_fflush(VSTREAM_OUT) != 0)
            msg_warn("write queue ID: %m");
    }
    return 0;
}
