#ifndef POSTERN_SIG_H
#define POSTERN_SIG_H
/*
 * sig - signal handling that is safe with an event loop
 *
 * sig_watch(signo) routes signo to a self-pipe: the handler (installed with
 * sigaction, SA_RESTART) only records the signal and writes a byte to the
 * pipe. The event loop watches sig_watch_fd() for reading and then calls
 * sig_next() repeatedly: each call returns one pending signal number (each
 * signal at most once per delivery batch, never lost even if the pipe is
 * full), or 0 when none is pending. The pipe is created on first use; both
 * ends are non-blocking and close-on-exec. Typical: SIGHUP, SIGTERM,
 * SIGCHLD in master.
 *
 * sig_catch(signo, handler, restart) installs an ordinary handler with
 * sigaction (SA_RESTART when restart is non-zero); handler may be SIG_IGN
 * or SIG_DFL. Returns 0 or -1 with errno.
 *
 * sig_ignore_pipe() ignores SIGPIPE (writes then fail with EPIPE).
 *
 * sig_child_reset() is for a freshly forked child: it restores the default
 * disposition of every watched signal and of SIGPIPE, closes the
 * self-pipe in the child (without touching the parent's) and unblocks all
 * signals. Call it before exec or before running other code in the child.
 *
 * Errors in sig_watch() (no pipe, bad signal) are fatal: they happen at
 * start-up only.
 */
#include <signal.h>

void sig_watch(int signo);
int sig_watch_fd(void);
int sig_next(void);
int sig_catch(int signo, void (*handler)(int), int restart);
void sig_ignore_pipe(void);
void sig_child_reset(void);

#endif
