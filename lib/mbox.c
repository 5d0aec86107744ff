/*
 * NAME
 *	mbox - append one message to a UNIX mailbox file, locked
 * SYNOPSIS
 *	#include "mbox.h"
 *
 *	void mbox_opts_init(MBOX_OPTS *opts)
 *	int mbox_deliver(const char *path, const MBOX_OPTS *opts,
 *			 MAILBOX_WRITE_FN write_fn, void *context,
 *			 VSTRING *dsn, VSTRING *why)
 * DESCRIPTION
 *	mbox_opts_init() fills opts with the defaults of Postfix's
 *	mailbox_delivery_lock (fcntl and dot-lock), deliver_lock_attempts
 *	(20), deliver_lock_delay (1s) and stale_lock_time (500s), no size
 *	limit, any owner and no change of ids.
 *
 *	mbox_deliver() appends a message, locked, and leaves the mailbox as
 *	it was when anything fails; see mbox.h for the steps and results.
 *	The file is opened without following a symbolic link, and checked
 *	to be the regular, singly linked file that lstat() saw, so that a
 *	user who controls the directory cannot make the delivery write
 *	elsewhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lock_file.h"
#include "mbox.h"
#include "msg.h"
#include "safe_open.h"
#include "set_ugid.h"
#include "vstream.h"

#define MBOX_DEF_DSN "4.2.0"

void mbox_opts_init(MBOX_OPTS *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->lock = MBOX_LOCK_FCNTL | MBOX_LOCK_DOT;
    opts->lock_attempts = 20;
    opts->lock_delay = 1;
    opts->stale_time = 500;
    opts->owner = SAFE_OPEN_ANY_UID;
    opts->chown_uid = (uid_t)-1;
    opts->chown_gid = (gid_t)-1;
    opts->write_uid = (uid_t)-1;
    opts->write_gid = (gid_t)-1;
}

/* mbox_open - open for appending, creating; report whether we created it */
static int mbox_open(const char *path, uid_t owner, struct stat *st, int *created, VSTRING *why)
{
    int fd;

    *created = 0;
    for (int tries = 0; tries < 10; tries++) {
        fd = safe_open_existing(path, O_WRONLY | O_APPEND, owner, st, why);
        if (fd >= 0 || errno != ENOENT)
            return fd;
        fd = safe_create(path, O_WRONLY | O_APPEND, 0600, why);
        if (fd >= 0) {
            *created = 1;
            if (fstat(fd, st) < 0) {
                int err = errno;

                close(fd);
                errno = err;
                return -1;
            }
            return fd;
        }
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}

/* mbox_errno_fail - dsn from errno, reason "what: strerror" */
static int mbox_errno_fail(VSTRING *dsn, VSTRING *why, int err, const char *def_dsn,
                           const char *what)
{
    vstring_strcpy(dsn, mailbox_dsn(err, def_dsn));
    vstring_sprintf(why, "%s: %s", what, strerror(err));
    return mailbox_status(vstring_str(dsn));
}

/* mbox_privs - effective ids for the write phase (root callers only) */
static int mbox_privs(const MBOX_OPTS *opts, int on)
{
    if (opts->write_uid == (uid_t)-1 || getuid() != 0)
        return 0;
    if (on)
        set_eugid(opts->write_uid, opts->write_gid, opts->write_user);
    else
        set_eugid(0, 0, NULL);
    return 1;
}

int mbox_deliver(const char *path, const MBOX_OPTS *opts, MAILBOX_WRITE_FN write_fn, void *context,
                 VSTRING *dsn, VSTRING *why)
{
    VSTRING *tmp = vstring_alloc(100);
    int attempts = opts->lock_attempts > 0 ? opts->lock_attempts : 1;
    int delay = opts->lock_delay > 0 ? opts->lock_delay : 1;
    int dot_locked = 0;
    int status = MAILBOX_OK;
    int created;
    struct stat st;
    off_t old_size;
    VSTREAM *fp;
    MAILBOX_LIMIT *lim;
    int fd = -1;
    int err;
    int rc;

    /* 1. dot-lock */
    if (opts->lock & MBOX_LOCK_DOT) {
        if (dot_lock(path, attempts, delay, opts->stale_time, tmp) == 0) {
            dot_locked = 1;
        } else if (errno != EEXIST && (opts->lock & MBOX_LOCK_DOT_MAY_FAIL)) {
            msg_warn("%s", vstring_str(tmp));
        } else {
            err = errno;
            vstring_strcpy(dsn, mailbox_dsn(err == EEXIST ? EAGAIN : err, MBOX_DEF_DSN));
            vstring_sprintf(why, "unable to create lock file %s.lock: %s", path, strerror(err));
            status = mailbox_status(vstring_str(dsn));
            goto done;
        }
    }

    /* 2. open or create */
    if ((fd = mbox_open(path, opts->owner, &st, &created, tmp)) < 0) {
        err = errno;
        if (err == EPERM) {
            vstring_strcpy(dsn, "5.2.0");
            vstring_sprintf(why, "cannot open file: %s is not a regular file with one link", path);
            status = MAILBOX_BOUNCE;
        } else if (err == EACCES && opts->owner != SAFE_OPEN_ANY_UID && lstat(path, &st) == 0 &&
                   st.st_uid != opts->owner) {
            vstring_strcpy(dsn, "4.2.0");
            vstring_sprintf(why, "cannot open file: %s is owned by uid %ld, not uid %ld", path,
                            (long)st.st_uid, (long)opts->owner);
            status = MAILBOX_DEFER;
        } else {
            status = mbox_errno_fail(dsn, why, err, MBOX_DEF_DSN, "cannot open file");
        }
        goto done;
    }
    if (created && opts->chown_uid != (uid_t)-1 && geteuid() == 0 &&
        fchown(fd, opts->chown_uid, opts->chown_gid) < 0) {
        err = errno;
        (void)unlink(path);
        status = mbox_errno_fail(dsn, why, err, MBOX_DEF_DSN, "cannot set mailbox owner");
        goto done;
    }

    /* 3. fcntl lock */
    if ((opts->lock & MBOX_LOCK_FCNTL) &&
        lock_file_wait(fd, LOCK_FILE_EXCLUSIVE, attempts * delay) < 0) {
        status = mbox_errno_fail(dsn, why, errno == EAGAIN ? EAGAIN : errno, MBOX_DEF_DSN,
                                 "unable to lock for exclusive access");
        goto done;
    }

    /* 4. append */
    if (fstat(fd, &st) < 0) {
        status = mbox_errno_fail(dsn, why, errno, MBOX_DEF_DSN, "cannot stat mailbox");
        goto done;
    }
    old_size = st.st_size;
    fp = vstream_fdopen(fd, O_WRONLY);
    vstream_set_path(fp, path);
    lim = mailbox_limit_attach(fp, opts->limit, old_size);
    int switched = mbox_privs(opts, 1);
    rc = write_fn(fp, context, why);
    if (rc == MAILBOX_COPY_OK && vstream_fflush(fp) == VSTREAM_EOF)
        rc = MAILBOX_COPY_ERR_WRITE;
    err = rc == MAILBOX_COPY_ERR_WRITE ? (mailbox_limit_errno(lim) ? mailbox_limit_errno(lim) : EIO)
                                       : 0;
    if (rc == MAILBOX_COPY_OK && fsync(fd) < 0) {
        rc = MAILBOX_COPY_ERR_WRITE;
        err = errno;
    }

    /* 5. undo a partial append */
    if (rc != MAILBOX_COPY_OK) {
        if (ftruncate(fd, old_size) < 0 || fsync(fd) < 0)
            msg_warn("%s: cannot truncate mailbox back to %lld bytes: %m", path,
                     (long long)old_size);
    }
    if (switched)
        (void)mbox_privs(opts, 0);
    mailbox_limit_detach(fp, lim);
    vstream_fdclose(fp);
    if (rc == MAILBOX_COPY_ERR_READ) {
        vstring_strcpy(dsn, "4.3.0");
        status = MAILBOX_DEFER;
    } else if (rc != MAILBOX_COPY_OK) {
        status = mbox_errno_fail(dsn, why, err, MBOX_DEF_DSN, "error writing message");
    }

done:
    if (fd >= 0) {
        if (opts->lock & MBOX_LOCK_FCNTL)
            (void)lock_file(fd, LOCK_FILE_UNLOCK);
        if (close(fd) < 0 && status == MAILBOX_OK)
            status = mbox_errno_fail(dsn, why, errno, MBOX_DEF_DSN, "error writing message");
    }
    if (dot_locked && dot_unlock(path) < 0)
        msg_warn("remove lock file %s.lock: %m", path);
    vstring_free(tmp);
    return status;
}
