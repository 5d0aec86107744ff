#ifndef POSTERN_IOSTUFF_H
#define POSTERN_IOSTUFF_H
/*
 * iostuff - small descriptor helpers: flags, waiting with a timeout,
 * timed reads and writes
 *
 * Timeouts are in seconds. For read_wait()/write_wait() a timeout < 0
 * waits forever and 0 only polls; for timed_read()/timed_write() a
 * timeout <= 0 means "no limit" (the vstream convention).
 *
 * Errors: functions returning int or ssize_t return -1 with errno set;
 * a timeout is reported as -1 with errno ETIMEDOUT. EINTR is retried
 * internally (the remaining time is recomputed), never returned.
 * No function here allocates memory or logs.
 */
#include <sys/types.h>

/* set or clear O_NONBLOCK / FD_CLOEXEC; return the previous state (0/1) or -1 */
int non_blocking(int fd, int on);
int close_on_exec(int fd, int on);

/* wait until fd is readable (or at EOF/error) / writable: 0, or -1 (ETIMEDOUT) */
int read_wait(int fd, int timeout);
int write_wait(int fd, int timeout);
int readable(int fd);       /* 1 if a read would not block now, else 0 */
ssize_t peekfd(int fd);     /* bytes readable now (FIONREAD), -1 on error */

/*
 * timed_read()/timed_write() have the VSTREAM_IO_FN signature (context is
 * ignored) so they serve as vstream's default hooks. timed_read() returns
 * bytes read, 0 at EOF, -1 on error. timed_write() returns bytes written
 * (possibly fewer than len), -1 on error; it never raises SIGPIPE on a
 * socket (EPIPE is returned instead). With a timeout, a single call never
 * blocks longer than the timeout even on a blocking descriptor.
 */
ssize_t timed_read(int fd, void *buf, size_t len, int timeout, void *context);
ssize_t timed_write(int fd, void *buf, size_t len, int timeout, void *context);

/* write all of buf, or -1 (errno) on error/timeout; timeout applies per write */
ssize_t write_buf(int fd, const void *buf, size_t len, int timeout);

#endif
