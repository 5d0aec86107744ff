/*
 * NAME
 *	safe_open - careful file creation and opening, and durable replacement
 * SYNOPSIS
 *	#include "safe_open.h"
 *
 *	int safe_create(const char *path, int oflags, mode_t mode, VSTRING *why)
 *	int safe_open_existing(const char *path, int oflags, uid_t owner,
 *			struct stat *st, VSTRING *why)
 *	int safe_open(const char *path, int oflags, mode_t mode, uid_t owner,
 *			struct stat *st, VSTRING *why)
 *	int safe_fsync_dir(const char *path)
 *	int fsync_path(const char *path)
 *	int safe_replace_begin(const char *path, mode_t mode, VSTRING *tmp, VSTRING *why)
 *	int safe_replace_commit(int fd, const char *tmp, const char *path, VSTRING *why)
 *	void safe_replace_abort(int fd, const char *tmp)
 *	int safe_replace_file(const char *path, const void *data, size_t len,
 *			mode_t mode, VSTRING *why)
 * DESCRIPTION
 *	safe_create() opens with O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
 *	added: it never opens a file that already exists, nor follows a
 *	symbolic link planted at path.
 *
 *	safe_open_existing() lstat()s path and refuses a symbolic link, a
 *	non-regular file or a file with several hard links; it then opens
 *	it with O_NOFOLLOW and O_NONBLOCK (so that a FIFO swapped in at the
 *	last moment cannot block the open), and fstat()s the result: it
 *	must be the same file (device and inode) that lstat() saw, still
 *	regular with one link, and owned by owner unless owner is
 *	SAFE_OPEN_ANY_UID. O_TRUNC is applied only after these checks, with
 *	ftruncate(), so a file swapped in between is never truncated.
 *	O_NONBLOCK is cleared again unless the caller asked for it.
 *
 *	safe_open() combines the two: open an existing file, else create
 *	one, and when the file appears or disappears between the attempts
 *	(EEXIST, ENOENT) try again, a bounded number of times.
 *
 *	safe_fsync_dir() makes a rename or creation in path's directory
 *	durable; fsync_path() makes a file written through another
 *	descriptor durable. Both return 0 or -1 with errno.
 *
 *	The safe_replace functions write a new version of a file next to it
 *	under a unique temporary name and move it into place only once its
 *	content is on disk; readers see the old file or the new one, never a
 *	partial one, and a crash leaves at worst a stray temporary file.
 *	A symbolic link at path is refused (EPERM) rather than replaced.
 *
 *	Errors return -1 with errno set and a message in why (if not NULL).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iostuff.h"
#include "safe_open.h"
#include "vstring.h"

#define SAFE_OPEN_TRIES 10

static int safe_fail(VSTRING *why, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int safe_fail(VSTRING *why, int err, const char *fmt, ...)
{
    va_list ap;

    if (why) {
        vstring_reset(why);
        va_start(ap, fmt);
        vstring_vsprintf_append(why, fmt, ap);
        va_end(ap);
    }
    errno = err;
    return -1;
}

int safe_create(const char *path, int oflags, mode_t mode, VSTRING *why)
{
    int fd = open(path, oflags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

    if (fd < 0)
        return safe_fail(why, errno, "create %s: %m", path);
    return fd;
}

/* safe_check - the tests that an existing file must pass */
static int safe_check(const char *path, const struct stat *st, uid_t owner, VSTRING *why)
{
    if (S_ISLNK(st->st_mode))
        return safe_fail(why, EPERM, "open %s: is a symbolic link", path);
    if (!S_ISREG(st->st_mode))
        return safe_fail(why, EPERM, "open %s: not a regular file", path);
    if (st->st_nlink != 1)
        return safe_fail(why, EPERM, "open %s: file has %lu hard links", path,
                         (unsigned long) st->st_nlink);
    if (owner != SAFE_OPEN_ANY_UID && st->st_uid != owner)
        return safe_fail(why, EACCES, "open %s: file is owned by uid %ld, not %ld", path,
                         (long) st->st_uid, (long) owner);
    return 0;
}

int safe_open_existing(const char *path, int oflags, uid_t owner, struct stat *st, VSTRING *why)
{
    struct stat lst, fst;
    int fd;
    int err;

    if (lstat(path, &lst) < 0)
        return safe_fail(why, errno, "open %s: %m", path);
    if (safe_check(path, &lst, owner, why) < 0)
        return -1;
    fd = open(path, (oflags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return safe_fail(why, errno, "open %s: %m", path);
    if (fstat(fd, &fst) < 0) {
        err = errno;
        close(fd);
        return safe_fail(why, err, "fstat %s: %s", path, strerror(err));
    }
    if (fst.st_dev != lst.st_dev || fst.st_ino != lst.st_ino) {
        close(fd);
        return safe_fail(why, EPERM, "open %s: file was replaced while being opened", path);
    }
    if (safe_check(path, &fst, owner, why) < 0) {
        err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    if ((!(oflags & O_NONBLOCK) && non_blocking(fd, 0) < 0)
        || ((oflags & O_TRUNC) && ftruncate(fd, 0) < 0)) {
        err = errno;
        close(fd);
        return safe_fail(why, err, "open %s: %s", path, strerror(err));
    }
    if (st)
        *st = fst;
    return fd;
}

int safe_open(const char *path, int oflags, mode_t mode, uid_t owner, struct stat *st,
              VSTRING *why)
{
    int fd = -1;
    int err;

    oflags &= ~(O_CREAT | O_EXCL);
    for (int i = 0; i < SAFE_OPEN_TRIES; i++) {
        if ((fd = safe_open_existing(path, oflags, owner, st, why)) >= 0)
            return fd;
        if (errno != ENOENT)
            return -1;
        if ((fd = safe_create(path, oflags, mode, why)) >= 0) {
            if (st && fstat(fd, st) < 0) {
                err = errno;
                close(fd);
                return safe_fail(why, err, "fstat %s: %s", path, strerror(err));
            }
            return fd;
        }
        if (errno != EEXIST)
            return -1;
    }
    return safe_fail(why, EAGAIN, "open %s: file keeps appearing and disappearing", path);
}

/* safe_dirname - the directory part of path */
static VSTRING *safe_dirname(VSTRING *dir, const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return vstring_strcpy(dir, ".");
    while (slash > path && slash[-1] == '/')
        slash--;
    if (slash == path)
        return vstring_strcpy(dir, "/");
    return vstring_memcpy(dir, path, (size_t) (slash - path));
}

int safe_fsync_dir(const char *path)
{
    VSTRING *dir = safe_dirname(vstring_alloc(100), path);
    int fd;
    int rc;
    int err;

    fd = open(vstring_str(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    vstring_free(dir);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    err = errno;
    close(fd);
    errno = err;
    return rc;
}

int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int rc;
    int err;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    err = errno;
    close(fd);
    errno = err;
    return rc;
}

int safe_replace_begin(const char *path, mode_t mode, VSTRING *tmp, VSTRING *why)
{
    struct stat st;
    int exists;
    int fd;
    int err;

    if (lstat(path, &st) == 0) {
        if (S_ISLNK(st.st_mode))
            return safe_fail(why, EPERM, "%s is a symbolic link; not replacing it", path);
        if (!S_ISREG(st.st_mode))
            return safe_fail(why, EPERM, "%s is not a regular file; not replacing it", path);
        exists = 1;
    } else if (errno == ENOENT) {
        exists = 0;
    } else {
        return safe_fail(why, errno, "stat %s: %m", path);
    }
    if (mode == SAFE_REPLACE_KEEP_MODE)
        mode = exists ? (st.st_mode & 07777) : 0644;
    vstring_sprintf(tmp, "%s.XXXXXX", path);
    if ((fd = mkostemp(vstring_str(tmp), O_CLOEXEC)) < 0)
        return safe_fail(why, errno, "create temporary file for %s: %m", path);
    if (fchmod(fd, mode) < 0
        || (exists && geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0)) {
        err = errno;
        safe_replace_abort(fd, vstring_str(tmp));
        return safe_fail(why, err, "set mode/owner of %s: %s", vstring_str(tmp), strerror(err));
    }
    return fd;
}

int safe_replace_commit(int fd, const char *tmp, const char *path, VSTRING *why)
{
    int err;

    if (fd >= 0) {
        if (fsync(fd) < 0) {
            err = errno;
            safe_replace_abort(fd, tmp);
            return safe_fail(why, err, "fsync %s: %s", tmp, strerror(err));
        }
        if (close(fd) < 0) {
            err = errno;
            safe_replace_abort(-1, tmp);
            return safe_fail(why, err, "close %s: %s", tmp, strerror(err));
        }
    } else if (fsync_path(tmp) < 0) {
        err = errno;
        safe_replace_abort(-1, tmp);
        return safe_fail(why, err, "fsync %s: %s", tmp, strerror(err));
    }
    if (rename(tmp, path) < 0) {
        err = errno;
        safe_replace_abort(-1, tmp);
        return safe_fail(why, err, "rename %s to %s: %s", tmp, path, strerror(err));
    }
    if (safe_fsync_dir(path) < 0)
        return safe_fail(why, errno, "fsync directory of %s: %m", path);
    return 0;
}

void safe_replace_abort(int fd, const char *tmp)
{
    int saved_errno = errno;

    if (fd >= 0)
        close(fd);
    (void) unlink(tmp);
    errno = saved_errno;
}

int safe_replace_file(const char *path, const void *data, size_t len, mode_t mode, VSTRING *why)
{
    VSTRING *tmp = vstring_alloc(100);
    int fd;
    int rc;
    int err;

    if ((fd = safe_replace_begin(path, mode, tmp, why)) < 0) {
        vstring_free(tmp);
        return -1;
    }
    if (write_buf(fd, data, len, 0) < 0) {
        err = errno;
        safe_replace_abort(fd, vstring_str(tmp));
        safe_fail(why, err, "write %s: %s", vstring_str(tmp), strerror(err));
        vstring_free(tmp);
        return -1;
    }
    rc = safe_replace_commit(fd, vstring_str(tmp), path, why);
    err = errno;
    vstring_free(tmp);
    errno = err;
    return rc;
}
