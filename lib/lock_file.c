/*
 * NAME
 *	lock_file - fcntl record locks on a whole file, and dot-locks
 * SYNOPSIS
 *	#include "lock_file.h"
 *
 *	int lock_file(int fd, int how)
 *	int lock_file_wait(int fd, int how, int timeout)
 *	pid_t lock_file_owner(int fd)
 *	int dot_lock(const char *path, int attempts, int delay, int stale_time, VSTRING *why)
 *	int dot_unlock(const char *path)
 * DESCRIPTION
 *	lock_file() locks or unlocks the whole of fd's file with fcntl():
 *	F_OFD_SETLK(W) when the kernel supports open-file-description
 *	locks, F_SETLK(W) otherwise (decided once, on the first EINVAL). A
 *	blocking request interrupted by a signal is retried. EACCES from
 *	the kernel is reported as EAGAIN. An unknown how gives EINVAL.
 *
 *	lock_file_wait() retries a non-blocking lock every 100 ms until
 *	timeout seconds have passed (timeout <= 0: one attempt).
 *
 *	lock_file_owner() asks the kernel (F_OFD_GETLK / F_GETLK) whether
 *	an exclusive lock could be taken; see lock_file.h for the result.
 *
 *	dot_lock() implements the mailbox convention of an exclusively
 *	created PATH.lock file. The lock file holds the creator's pid. A
 *	lock file whose modification time is more than stale_time seconds
 *	in the past is considered abandoned and removed. Between attempts it
 *	sleeps delay seconds (no sleep after the last attempt).
 *	dot_unlock() removes the lock file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lock_file.h"
#include "vstring.h"

static int lock_file_no_ofd;

/* lock_file_fcntl - try an OFD lock command, fall back to a POSIX one */
static int lock_file_fcntl(int fd, int ofd_cmd, int posix_cmd, struct flock *fl)
{
    if (!lock_file_no_ofd) {
        fl->l_pid = 0;
        if (fcntl(fd, ofd_cmd, fl) == 0)
            return 0;
        if (errno != EINVAL)
            return -1;
        lock_file_no_ofd = 1;
    }
    return fcntl(fd, posix_cmd, fl);
}

int lock_file(int fd, int how)
{
    struct flock fl;
    int nonblock = (how & LOCK_FILE_NONBLOCK) != 0;
    int rc;

    memset(&fl, 0, sizeof(fl));
    switch (how & ~LOCK_FILE_NONBLOCK) {
    case LOCK_FILE_SHARED:
        fl.l_type = F_RDLCK;
        break;
    case LOCK_FILE_EXCLUSIVE:
        fl.l_type = F_WRLCK;
        break;
    case LOCK_FILE_UNLOCK:
        fl.l_type = F_UNLCK;
        break;
    default:
        errno = EINVAL;
        return -1;
    }
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0;
    do {
        if (nonblock)
            rc = lock_file_fcntl(fd, F_OFD_SETLK, F_SETLK, &fl);
        else
            rc = lock_file_fcntl(fd, F_OFD_SETLKW, F_SETLKW, &fl);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0 && errno == EACCES)
        errno = EAGAIN;
    return rc;
}

int lock_file_wait(int fd, int how, int timeout)
{
    struct timespec pause = {0, 100 * 1000 * 1000};
    struct timespec start, now;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (lock_file(fd, how | LOCK_FILE_NONBLOCK) == 0)
            return 0;
        if (errno != EAGAIN)
            return -1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (timeout <= 0
            || (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000
                   >= (long) timeout * 1000) {
            errno = EAGAIN;
            return -1;
        }
        nanosleep(&pause, NULL);
    }
}

pid_t lock_file_owner(int fd)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (lock_file_fcntl(fd, F_OFD_GETLK, F_GETLK, &fl) < 0)
        return -2;
    if (fl.l_type == F_UNLCK)
        return 0;
    return fl.l_pid > 0 ? fl.l_pid : -1;
}

int dot_lock(const char *path, int attempts, int delay, int stale_time, VSTRING *why)
{
    VSTRING *lock = vstring_alloc(100);
    struct stat st;
    char pid[32];
    int fd;
    int err = EEXIST;
    int n;

    vstring_sprintf(lock, "%s.lock", path);
    if (attempts < 1)
        attempts = 1;
    for (int i = 0; i < attempts; i++) {
        fd = open(vstring_str(lock), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            n = snprintf(pid, sizeof(pid), "%ld\n", (long) getpid());
            if (write(fd, pid, (size_t) n) != n || close(fd) < 0) {
                err = errno;
                (void) unlink(vstring_str(lock));
                if (why)
                    vstring_sprintf(why, "write %s: %s", vstring_str(lock), strerror(err));
                vstring_free(lock);
                errno = err;
                return -1;
            }
            vstring_free(lock);
            return 0;
        }
        if (errno != EEXIST) {
            err = errno;
            if (why)
                vstring_sprintf(why, "create %s: %s", vstring_str(lock), strerror(err));
            vstring_free(lock);
            errno = err;
            return -1;
        }
        if (stale_time > 0 && lstat(vstring_str(lock), &st) == 0
            && time(NULL) - st.st_mtime > stale_time) {
            (void) unlink(vstring_str(lock));
            continue;
        }
        if (i + 1 < attempts && delay > 0)
            sleep((unsigned) delay);
    }
    if (why)
        vstring_sprintf(why, "unable to create %s: file exists", vstring_str(lock));
    vstring_free(lock);
    errno = err;
    return -1;
}

int dot_unlock(const char *path)
{
    VSTRING *lock = vstring_alloc(100);
    int rc;
    int err;

    vstring_sprintf(lock, "%s.lock", path);
    rc = unlink(vstring_str(lock));
    err = errno;
    vstring_free(lock);
    errno = err;
    return rc;
}
