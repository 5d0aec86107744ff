#ifndef POSTERN_DAEMONIZE_H
#define POSTERN_DAEMONIZE_H
/*
 * daemonize - detach from the terminal, optionally waiting for readiness
 *
 * daemonize() forks; the child becomes a session leader (setsid), changes
 * to "/" (unless DAEMONIZE_NOCHDIR) and points stdin and stdout at
 * /dev/null. It returns 0 in the child only; -1 with errno (fork/pipe
 * failure) in the original process, which otherwise exits:
 *
 * - without DAEMONIZE_WAIT the parent exits 0 at once and the child's
 *   stderr goes to /dev/null too;
 * - with DAEMONIZE_WAIT the child keeps stderr (so start-up errors reach
 *   the person who started it) and the parent waits up to timeout seconds
 *   (<= 0: forever) for the child to call daemonize_ready(): then it exits
 *   0. If the child exits or the wait times out first, the parent exits 1.
 *
 * daemonize_ready() (child, DAEMONIZE_WAIT) tells the parent that start-up
 * succeeded and points stderr at /dev/null. It is a no-op otherwise or
 * when called twice.
 */

#define DAEMONIZE_WAIT 1
#define DAEMONIZE_NOCHDIR 2

int daemonize(int flags, int timeout);
void daemonize_ready(void);

#endif
