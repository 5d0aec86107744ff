/*
 * NAME
 *	maildir - deliver one message into a Maildir
 * SYNOPSIS
 *	#include "maildir.h"
 *
 *	int maildir_deliver(const char *path, const char *stable, off_t limit,
 *			    MAILBOX_WRITE_FN write_fn, void *context,
 *			    VSTRING *dsn, VSTRING *why, VSTRING *name)
 *	int maildir_make_dirs(const char *path, mode_t mode)
 * DESCRIPTION
 *	maildir_deliver() writes a message into PATH/tmp under a name no
 *	other delivery can use (time, microseconds, process id and a
 *	per-process counter, host name), syncs it, and gives it its final
 *	name in PATH/new (time, device, inode, microseconds, host name)
 *	with link(2) and unlink(2), falling back to rename(2) when the file
 *	system refuses hard links. A reader of new/ therefore sees a
 *	complete message or nothing. The directory new/ is synced last.
 *	With a stable name, a file already in new/ under that name (found
 *	before writing, or by link(2) failing with EEXIST) means the
 *	message is there: the delivery succeeds without a second copy.
 *	PATH and its tmp, new and cur directories are made (as by
 *	maildir_make_dirs()) when the file cannot be made in tmp/, or
 *	linked into new/, because a directory is missing; an existing
 *	maildir costs no directory system call. See maildir.h for the
 *	result codes and texts.
 *
 *	maildir_make_dirs() creates path and any missing parent with mode
 *	(subject to the umask), like "mkdir -p", trying path itself first
 *	and its parents only when one is missing. An existing component
 *	that is not a directory fails with ENOTDIR; a symbolic link to a
 *	directory is followed (deliveries run with the mailbox owner's
 *	privileges, so a link can lead nowhere the owner cannot write).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "maildir.h"
#include "msg.h"
#include "mymalloc.h"
#include "safe_open.h"
#include "vstream.h"

#define MAILDIR_DEF_DSN "4.2.0"

/* maildir_mkdir - one directory that may exist already; 0 or -1 with errno */
static int maildir_mkdir(const char *path, mode_t mode)
{
    struct stat st;

    if (mkdir(path, mode) == 0)
        return 0;
    if (errno != EEXIST || stat(path, &st) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int maildir_make_dirs(const char *path, mode_t mode)
{
    char *copy = mystrdup(path);
    char *cp;
    int status = 0;
    size_t len = strlen(copy);

    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = 0;
    /* usually nothing, or only the last component, is missing */
    if ((status = maildir_mkdir(copy, mode)) == 0 || errno != ENOENT) {
        int saved = errno;

        myfree(copy);
        errno = saved;
        return status;
    }
    status = 0;
    for (cp = copy + 1;; cp++) {
        int last = (*cp == 0);

        if (*cp != '/' && !last)
            continue;
        *cp = 0;
        if (maildir_mkdir(copy, mode) < 0) {
            status = -1;
            break;
        }
        if (last)
            break;
        *cp = '/';
    }
    myfree(copy);
    return status;
}

/* maildir_host - this host's name, with '/' and ':' escaped (asked once per process) */
static void maildir_host(VSTRING *out)
{
    static char host[256];

    if (host[0] == 0) {
        if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == 0)
            strcpy(host, "localhost");
        host[sizeof(host) - 1] = 0;
    }
    vstring_reset(out);
    for (const char *cp = host; *cp; cp++) {
        if (*cp == '/')
            vstring_strcat(out, "\\057");
        else if (*cp == ':')
            vstring_strcat(out, "\\072");
        else
            vstring_addch(out, *cp);
    }
}

/* maildir_fail - the dsn for errno err; return the outcome */
static int maildir_fail(VSTRING *dsn, int err, VSTRING *why)
{
    (void)why; /* already filled by the caller */
    vstring_strcpy(dsn, mailbox_dsn(err, MAILDIR_DEF_DSN));
    return mailbox_status(vstring_str(dsn));
}

/* maildir_dirs - make the maildir and its tmp, new and cur directories */
static int maildir_dirs(const char *base, VSTRING *dsn, VSTRING *why)
{
    static const char *subdirs[] = {"", "/tmp", "/new", "/cur"};
    VSTRING *dir = vstring_alloc(100);
    int status = MAILBOX_OK;
    int err;

    for (int i = 0; i < 4; i++) {
        vstring_sprintf(dir, "%s%s", base, subdirs[i]);
        if (maildir_make_dirs(vstring_str(dir), 0700) < 0) {
            err = errno;
            vstring_sprintf(why, "create maildir directory %s: %s", vstring_str(dir),
                            strerror(err));
            status = maildir_fail(dsn, err, why);
            break;
        }
    }
    vstring_free(dir);
    return status;
}

int maildir_deliver(const char *path, const char *stable, off_t limit, MAILBOX_WRITE_FN write_fn,
                    void *context, VSTRING *dsn, VSTRING *why, VSTRING *name)
{
    static unsigned long counter;
    VSTRING *base = vstring_alloc(100);
    VSTRING *host = vstring_alloc(100);
    VSTRING *tmp = vstring_alloc(100);
    VSTRING *dst = vstring_alloc(100);
    VSTREAM *fp = NULL;
    MAILBOX_LIMIT *lim = NULL;
    struct timeval tv;
    struct stat st;
    int fd = -1;
    int created = 0; /* tmp names our file: remove it on failure */
    int status = MAILBOX_OK;
    int err;
    int rc;

    vstring_strcpy(base, path);
    while (vstring_len(base) > 1 && vstring_end(base)[-1] == '/')
        vstring_truncate(base, vstring_len(base) - 1);
    maildir_host(host);

    /* a stable name: is this copy already there? */
    if (stable) {
        if (stable[strspn(stable, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789._-")] != 0 ||
            *stable == 0)
            msg_panic("maildir_deliver: bad stable name \"%.100s\"", stable);
        vstring_sprintf(dst, "%s/new/%s.%s", vstring_str(base), stable, vstring_str(host));
        if (lstat(vstring_str(dst), &st) == 0)
            goto done;
    }

    /* 1. the file in tmp/ (the directories are made when they are missing) */
    gettimeofday(&tv, NULL);
    vstring_sprintf(tmp, "%s/tmp/%ld.M%ldP%ld_%lu.%s", vstring_str(base), (long)tv.tv_sec,
                    (long)tv.tv_usec, (long)getpid(), counter++, vstring_str(host));
    if ((fd = safe_create(vstring_str(tmp), O_WRONLY, 0600, NULL)) < 0
        && (errno == ENOENT || errno == ENOTDIR)) {
        if ((status = maildir_dirs(vstring_str(base), dsn, why)) != MAILBOX_OK)
            goto done;
        fd = safe_create(vstring_str(tmp), O_WRONLY, 0600, NULL);
    }
    if (fd < 0) {
        err = errno;
        vstring_sprintf(why, "create maildir file %s: %s", vstring_str(tmp), strerror(err));
        status = maildir_fail(dsn, err, why);
        goto done;
    }
    created = 1;
    fp = vstream_fdopen(fd, O_WRONLY);
    vstream_set_path(fp, vstring_str(tmp));
    lim = mailbox_limit_attach(fp, limit, 0);
    rc = write_fn(fp, context, why);
    if (rc == MAILBOX_COPY_OK && vstream_fflush(fp) == VSTREAM_EOF)
        rc = MAILBOX_COPY_ERR_WRITE;
    if (rc == MAILBOX_COPY_OK && fsync(fd) < 0) {
        err = errno;
        vstring_sprintf(why, "error writing message: %s", strerror(err));
        status = maildir_fail(dsn, err, why);
        goto done;
    }
    if (rc == MAILBOX_COPY_ERR_READ) {
        vstring_strcpy(dsn, "4.3.0");
        status = MAILBOX_DEFER;
        goto done;
    }
    if (rc != MAILBOX_COPY_OK) {
        err = mailbox_limit_errno(lim) ? mailbox_limit_errno(lim) : EIO;
        vstring_sprintf(why, "error writing message: %s", strerror(err));
        status = maildir_fail(dsn, err, why);
        goto done;
    }
    if (fstat(fd, &st) < 0) {
        err = errno;
        vstring_sprintf(why, "fstat maildir file %s: %s", vstring_str(tmp), strerror(err));
        status = maildir_fail(dsn, err, why);
        goto done;
    }
    mailbox_limit_detach(fp, lim);
    lim = NULL;
    rc = vstream_fclose(fp);
    fp = NULL;
    fd = -1;
    if (rc == VSTREAM_EOF) {
        err = errno;
        vstring_sprintf(why, "error writing message: %s", strerror(err));
        status = maildir_fail(dsn, err, why);
        goto done;
    }

    /* 2. the final name in new/ */
    if (stable == NULL)
        vstring_sprintf(dst, "%s/new/%ld.V%lxI%lxM%ld.%s", vstring_str(base), (long)tv.tv_sec,
                        (unsigned long)st.st_dev, (unsigned long)st.st_ino, (long)tv.tv_usec,
                        vstring_str(host));
    if ((rc = link(vstring_str(tmp), vstring_str(dst))) < 0 && errno == ENOENT) {
        /* new/ went away since the file was made in tmp/ */
        if ((status = maildir_dirs(vstring_str(base), dsn, why)) != MAILBOX_OK)
            goto done;
        rc = link(vstring_str(tmp), vstring_str(dst));
    }
    if (rc == 0) {
        (void)unlink(vstring_str(tmp));
    } else if (errno == EEXIST && stable) {
        (void)unlink(vstring_str(tmp)); /* delivered meanwhile by someone else */
        created = 0;
        goto done;
    } else if (errno == EEXIST || (stable && errno != EPERM && errno != ENOSYS && errno != EXDEV) ||
               rename(vstring_str(tmp), vstring_str(dst)) < 0) {
        err = errno;
        vstring_sprintf(why, "create maildir file %s: %s", vstring_str(dst), strerror(err));
        status = maildir_fail(dsn, err, why);
        goto done;
    }
    created = 0;
    if (safe_fsync_dir(vstring_str(dst)) < 0) {
        err = errno;
        vstring_sprintf(why, "sync maildir directory of %s: %s", vstring_str(dst), strerror(err));
        (void)unlink(vstring_str(dst));
        status = maildir_fail(dsn, err, why);
        goto done;
    }

done:
    if (name && status == MAILBOX_OK)
        vstring_strcpy(name, vstring_str(dst));
    if (fp) {
        if (lim)
            mailbox_limit_detach(fp, lim);
        (void)vstream_fclose(fp);
    }
    if (status != MAILBOX_OK && created)
        (void)unlink(vstring_str(tmp));
    vstring_free(base);
    vstring_free(host);
    vstring_free(tmp);
    vstring_free(dst);
    return status;
}
