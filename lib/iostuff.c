/*
 * NAME
 *	iostuff - descriptor flags, waiting with a timeout, timed I/O
 * SYNOPSIS
 *	#include "iostuff.h"
 *
 *	int non_blocking(int fd, int on)
 *	int close_on_exec(int fd, int on)
 *	int read_wait(int fd, int timeout)
 *	int write_wait(int fd, int timeout)
 *	int readable(int fd)
 *	ssize_t peekfd(int fd)
 *	ssize_t timed_read(int fd, void *buf, size_t len, int timeout, void *context)
 *	ssize_t timed_write(int fd, void *buf, size_t len, int timeout, void *context)
 *	ssize_t write_buf(int fd, const void *buf, size_t len, int timeout)
 * DESCRIPTION
 *	non_blocking() and close_on_exec() set (on != 0) or clear O_NONBLOCK
 *	and FD_CLOEXEC, returning the previous setting (0 or 1), or -1.
 *
 *	read_wait() and write_wait() wait with poll(2) until fd is ready
 *	for reading (data, EOF or an error pending) or writing. timeout is
 *	in seconds: < 0 waits forever, 0 polls once. They return 0 when
 *	ready, -1 with errno ETIMEDOUT when the time ran out, -1 with errno
 *	EBADF for a descriptor that is not open. An interrupted wait is
 *	resumed with the time that remains.
 *
 *	readable() returns 1 when a read would not block now. peekfd()
 *	returns the number of bytes that can be read now (FIONREAD).
 *
 *	timed_read() waits (timeout > 0) and reads once: bytes read, 0 at
 *	EOF, -1 on error. timed_write() waits (timeout > 0) and writes once:
 *	bytes written, -1 on error. On a socket it uses send() with
 *	MSG_NOSIGNAL, so a closed peer yields EPIPE and never SIGPIPE; with
 *	a timeout it also uses MSG_DONTWAIT, and on other descriptors it
 *	writes at most PIPE_BUF bytes per call, so that a write after poll
 *	says "writable" cannot block past the timeout. EINTR is retried. The
 *	context argument exists for the VSTREAM_IO_FN signature and is not
 *	used.
 *
 *	write_buf() writes all of buf with timed_write(), each call bounded
 *	by timeout; it returns len or -1.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "iostuff.h"

int non_blocking(int fd, int on)
{
    int flags = fcntl(fd, F_GETFL);
    int want;

    if (flags < 0)
        return -1;
    want = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    if (want != flags && fcntl(fd, F_SETFL, want) < 0)
        return -1;
    return (flags & O_NONBLOCK) != 0;
}

int close_on_exec(int fd, int on)
{
    int flags = fcntl(fd, F_GETFD);
    int want;

    if (flags < 0)
        return -1;
    want = on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
    if (want != flags && fcntl(fd, F_SETFD, want) < 0)
        return -1;
    return (flags & FD_CLOEXEC) != 0;
}

static long long iostuff_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* iostuff_poll - poll one fd for events, timeout in ms (< 0 forever) */
static int iostuff_poll(int fd, short events, long long timeout_ms)
{
    long long deadline = timeout_ms > 0 ? iostuff_now_ms() + timeout_ms : 0;
    struct pollfd pfd;
    int wait_ms;
    int n;

    for (;;) {
        if (timeout_ms < 0)
            wait_ms = -1;
        else if (timeout_ms == 0)
            wait_ms = 0;
        else {
            long long left = deadline - iostuff_now_ms();

            if (left < 0)
                left = 0;
            wait_ms = left > INT_MAX ? INT_MAX : (int) left;
        }
        pfd.fd = fd;
        pfd.events = events;
        pfd.revents = 0;
        n = poll(&pfd, 1, wait_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            if (timeout_ms > 0 && iostuff_now_ms() < deadline)
                continue;
            errno = ETIMEDOUT;
            return -1;
        }
        if (pfd.revents & POLLNVAL) {
            errno = EBADF;
            return -1;
        }
        return 0;
    }
}

static long long iostuff_sec_to_ms(int timeout)
{
    return timeout < 0 ? -1 : (long long) timeout * 1000;
}

int read_wait(int fd, int timeout)
{
    return iostuff_poll(fd, POLLIN, iostuff_sec_to_ms(timeout));
}

int write_wait(int fd, int timeout)
{
    return iostuff_poll(fd, POLLOUT, iostuff_sec_to_ms(timeout));
}

int readable(int fd)
{
    return iostuff_poll(fd, POLLIN, 0) == 0;
}

ssize_t peekfd(int fd)
{
    int count;

    if (ioctl(fd, FIONREAD, &count) < 0)
        return -1;
    return count;
}

ssize_t timed_read(int fd, void *buf, size_t len, int timeout, void *context)
{
    ssize_t n;

    (void) context;
    for (;;) {
        if (timeout > 0 && read_wait(fd, timeout) < 0)
            return -1;
        n = read(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        /* spurious readiness on a non-blocking descriptor: wait again */
        if (n < 0 && timeout > 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        return n;
    }
}

ssize_t timed_write(int fd, void *buf, size_t len, int timeout, void *context)
{
    long long deadline = timeout > 0 ? iostuff_now_ms() + (long long) timeout * 1000 : 0;
    int flags = MSG_NOSIGNAL | (timeout > 0 ? MSG_DONTWAIT : 0);
    ssize_t n;

    (void) context;
    for (;;) {
        if (timeout > 0) {
            long long left = deadline - iostuff_now_ms();

            if (left <= 0) {
                errno = ETIMEDOUT;
                return -1;
            }
            if (iostuff_poll(fd, POLLOUT, left) < 0)
                return -1;
        }
        n = send(fd, buf, len, flags);
        if (n < 0 && errno == ENOTSOCK)
            n = write(fd, buf, timeout > 0 && len > PIPE_BUF ? PIPE_BUF : len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && timeout > 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        return n;
    }
}

ssize_t write_buf(int fd, const void *buf, size_t len, int timeout)
{
    const char *cp = buf;
    size_t done = 0;
    ssize_t n;

    while (done < len) {
        n = timed_write(fd, (void *) (cp + done), len - done, timeout, NULL);
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        done += (size_t) n;
    }
    return (ssize_t) len;
}
