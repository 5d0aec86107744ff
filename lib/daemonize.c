/*
 * NAME
 *	daemonize - detach from the terminal, optionally waiting for readiness
 * SYNOPSIS
 *	#include "daemonize.h"
 *
 *	int daemonize(int flags, int timeout)
 *	void daemonize_ready(void)
 * DESCRIPTION
 *	daemonize() forks once. The child calls setsid() (it is not a
 *	process group leader, so this cannot fail), so it has no
 *	controlling terminal; since it never opens a terminal without
 *	O_NOCTTY it cannot acquire one. It changes to "/" unless
 *	DAEMONIZE_NOCHDIR, and points descriptors 0 and 1 (and 2, unless
 *	it will report readiness) at /dev/null.
 *
 *	With DAEMONIZE_WAIT a close-on-exec pipe links the two: the parent
 *	waits up to timeout seconds for one byte that daemonize_ready()
 *	writes, then exits 0. If the pipe closes first (the child died, for
 *	instance through msg_fatal after printing why on stderr), the parent
 *	collects the child and exits with its exit status (1 if it was
 *	killed); on a timeout it exits 1 and leaves the child alone.
 *
 *	The parent leaves through _exit(): buffers it shares with the child
 *	(VSTREAM_OUT) are not written twice. Flush them before calling.
 *
 *	daemonize() returns -1 with errno when pipe() or fork() fails; the
 *	caller is then still attached and should report it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemonize.h"
#include "iostuff.h"

static int daemonize_ready_fd = -1;

/* daemonize_devnull - point fd at /dev/null */
static void daemonize_devnull(int fd)
{
    int null = open("/dev/null", O_RDWR | O_NOCTTY);

    if (null < 0)
        return;
    if (null != fd) {
        dup2(null, fd);
        close(null);
    }
}

/* daemonize_parent - wait for the child's word, then leave */
static void daemonize_parent(pid_t pid, int fd, int timeout)
{
    char byte;
    ssize_t n;
    int status;

    if (read_wait(fd, timeout > 0 ? timeout : -1) < 0)
        _exit(1);
    do {
        n = read(fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    if (n == 1)
        _exit(0);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            _exit(1);
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

int daemonize(int flags, int timeout)
{
    int fds[2] = {-1, -1};
    pid_t pid;
    int err;

    if ((flags & DAEMONIZE_WAIT) && pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    if ((pid = fork()) < 0) {
        err = errno;
        if (fds[0] >= 0) {
            close(fds[0]);
            close(fds[1]);
        }
        errno = err;
        return -1;
    }
    if (pid > 0) {
        if (!(flags & DAEMONIZE_WAIT))
            _exit(0);
        close(fds[1]);
        daemonize_parent(pid, fds[0], timeout);
    }
    if (fds[0] >= 0)
        close(fds[0]);
    daemonize_ready_fd = fds[1];
    (void) setsid();
    if (!(flags & DAEMONIZE_NOCHDIR) && chdir("/") < 0) {
        /* "/" always exists; nothing useful to do */
    }
    daemonize_devnull(0);
    daemonize_devnull(1);
    if (!(flags & DAEMONIZE_WAIT))
        daemonize_devnull(2);
    return 0;
}

void daemonize_ready(void)
{
    char byte = 0;

    if (daemonize_ready_fd < 0)
        return;
    (void) write_buf(daemonize_ready_fd, &byte, 1, 10);
    close(daemonize_ready_fd);
    daemonize_ready_fd = -1;
    daemonize_devnull(2);
}
