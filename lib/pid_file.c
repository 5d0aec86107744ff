/*
 * NAME
 *	pid_file - a locked pid file that says "this instance is running"
 * SYNOPSIS
 *	#include "pid_file.h"
 *
 *	int pid_file_open(const char *path, VSTRING *why)
 *	pid_t pid_file_read(const char *path)
 *	void pid_file_remove(int fd, const char *path)
 * DESCRIPTION
 *	pid_file_open() opens or creates path with safe_open() (owned by
 *	the effective uid, regular, no symlink), takes a non-blocking
 *	exclusive lock_file() lock, then replaces the content with the pid
 *	as "%10d\n" and fsyncs. The lock, not the file's existence, says
 *	that an instance runs: a file left by a crashed instance is simply
 *	taken over. When the lock is held elsewhere the pid written by the
 *	holder is reported in why ("already running as PID n").
 *
 *	pid_file_read() opens path read-only and tests the lock without
 *	taking it; when held it returns the pid in the file. A holder that
 *	has locked but not yet written the file is given a few short
 *	retries; a locked file with no valid pid yields -1 with EINVAL.
 *
 *	pid_file_remove() unlinks path only when it is still the file that
 *	fd refers to.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lock_file.h"
#include "pid_file.h"
#include "safe_open.h"
#include "vstring.h"

/* pid_file_parse - the pid in an open pid file, or 0 */
static pid_t pid_file_parse(int fd)
{
    char buf[32];
    ssize_t n;
    char *end;
    long pid;

    n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    errno = 0;
    pid = strtol(buf, &end, 10);
    if (errno || end == buf || (*end != '\n' && *end != 0) || pid <= 0 || pid > 0x7fffffff)
        return 0;
    return (pid_t) pid;
}

int pid_file_open(const char *path, VSTRING *why)
{
    char buf[32];
    pid_t owner;
    int fd;
    int err;
    int n;

    if ((fd = safe_open(path, O_RDWR, 0644, geteuid(), NULL, why)) < 0)
        return -1;
    if (lock_file(fd, LOCK_FILE_EXCLUSIVE | LOCK_FILE_NONBLOCK) < 0) {
        err = errno;
        if (err == EAGAIN) {
            struct timespec pause = {0, 20 * 1000 * 1000};

            /* the holder may not have written its pid yet */
            for (int i = 0; i < 10 && (owner = pid_file_parse(fd)) == 0; i++)
                nanosleep(&pause, NULL);
            if (why && owner > 0)
                vstring_sprintf(why, "already running as PID %ld", (long) owner);
            else if (why)
                vstring_sprintf(why, "%s is locked by another process", path);
        } else if (why) {
            vstring_sprintf(why, "lock %s: %s", path, strerror(err));
        }
        close(fd);
        errno = err;
        return -1;
    }
    n = snprintf(buf, sizeof(buf), "%10ld\n", (long) getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t) n, 0) != n || fsync(fd) < 0) {
        err = errno;
        if (why)
            vstring_sprintf(why, "write %s: %s", path, strerror(err));
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

pid_t pid_file_read(const char *path)
{
    struct timespec pause = {0, 20 * 1000 * 1000};
    pid_t holder;
    pid_t pid = 0;
    int fd;
    int err;

    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0)
        return errno == ENOENT ? 0 : -1;
    if ((holder = lock_file_owner(fd)) == -2) {
        err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    if (holder != 0) {
        for (int i = 0; i < 10 && (pid = pid_file_parse(fd)) == 0; i++)
            nanosleep(&pause, NULL);
        if (pid == 0 && holder > 0)
            pid = holder;
    }
    close(fd);
    if (holder != 0 && pid == 0) {
        errno = EINVAL;
        return -1;
    }
    return pid;
}

void pid_file_remove(int fd, const char *path)
{
    struct stat fst, pst;

    if (fstat(fd, &fst) == 0 && lstat(path, &pst) == 0 && fst.st_dev == pst.st_dev
        && fst.st_ino == pst.st_ino)
        (void) unlink(path);
}
