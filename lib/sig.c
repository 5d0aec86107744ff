/*
 * NAME
 *	sig - signal handling that is safe with an event loop
 * SYNOPSIS
 *	#include "sig.h"
 *
 *	void sig_watch(int signo)
 *	int sig_watch_fd(void)
 *	int sig_next(void)
 *	int sig_catch(int signo, void (*handler)(int), int restart)
 *	void sig_ignore_pipe(void)
 *	void sig_child_reset(void)
 * DESCRIPTION
 *	sig_watch() installs, with sigaction() and SA_RESTART (plus
 *	SA_NOCLDSTOP for SIGCHLD), a handler that only marks signo pending
 *	and writes one byte to a self-pipe. The pipe is made on the first
 *	call (non-blocking, close-on-exec); an invalid signal number or a
 *	failing pipe() or sigaction() is fatal.
 *
 *	sig_watch_fd() returns the read end of the pipe (-1 before the
 *	first sig_watch()): register it with event_enable_read(). When it
 *	is readable, call sig_next() until it returns 0; each call drains
 *	the pipe and returns one pending signal, lowest number first,
 *	clearing its mark. Several deliveries of one signal before
 *	sig_next() runs are reported once (as with any Unix signal). The
 *	mark, not the byte, is what counts, so a full pipe loses nothing.
 *
 *	sig_catch() installs handler (or SIG_IGN, SIG_DFL) for signo with an
 *	empty mask, with SA_RESTART when restart is non-zero. It returns 0
 *	or -1 with errno.
 *
 *	sig_ignore_pipe() sets SIGPIPE to SIG_IGN.
 *
 *	sig_child_reset() is for a child after fork(): watched signals and
 *	SIGPIPE get their default action, the child's copy of the self-pipe
 *	is closed and pending marks are forgotten, and the signal mask is
 *	emptied, so that an exec()ed program starts with a clean state.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "sig.h"

static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t sig_pending[NSIG];
static char sig_watched[NSIG];

static void sig_handler(int signo)
{
    int saved_errno = errno;
    char byte = (char) signo;

    if (signo > 0 && signo < NSIG)
        sig_pending[signo] = 1;
    if (sig_pipe[1] >= 0 && write(sig_pipe[1], &byte, 1) < 0) {
        /* pipe full: the mark is enough */
    }
    errno = saved_errno;
}

int sig_catch(int signo, void (*handler)(int), int restart)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = restart ? SA_RESTART : 0;
    if (signo == SIGCHLD)
        sa.sa_flags |= SA_NOCLDSTOP;
    return sigaction(signo, &sa, NULL);
}

void sig_watch(int signo)
{
    if (signo <= 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP)
        msg_fatal("sig_watch: bad signal number %d", signo);
    if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
        msg_fatal("sig_watch: pipe: %m");
    sig_watched[signo] = 1;
    if (sig_catch(signo, sig_handler, 1) < 0)
        msg_fatal("sig_watch: sigaction %d: %m", signo);
}

int sig_watch_fd(void)
{
    return sig_pipe[0];
}

int sig_next(void)
{
    char junk[64];

    if (sig_pipe[0] >= 0)
        while (read(sig_pipe[0], junk, sizeof(junk)) > 0)
            /* drain */ ;
    for (int signo = 1; signo < NSIG; signo++) {
        if (sig_pending[signo]) {
            sig_pending[signo] = 0;
            return signo;
        }
    }
    return 0;
}

void sig_ignore_pipe(void)
{
    if (sig_catch(SIGPIPE, SIG_IGN, 0) < 0)
        msg_warn("sig_ignore_pipe: sigaction: %m");
}

void sig_child_reset(void)
{
    sigset_t none;

    for (int signo = 1; signo < NSIG; signo++) {
        if (sig_watched[signo]) {
            (void) sig_catch(signo, SIG_DFL, 0);
            sig_watched[signo] = 0;
        }
        sig_pending[signo] = 0;
    }
    (void) sig_catch(SIGPIPE, SIG_DFL, 0);
    for (int i = 0; i < 2; i++) {
        if (sig_pipe[i] >= 0) {
            close(sig_pipe[i]);
            sig_pipe[i] = -1;
        }
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}
