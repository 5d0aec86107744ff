#ifndef POSTERN_LOCK_FILE_H
#define POSTERN_LOCK_FILE_H
/*
 * lock_file - fcntl record locks on a whole file, and dot-locks
 *
 * lock_file() applies a whole-file lock on fd. Locks are Linux "open file
 * description" locks (F_OFD_SETLK) where the kernel has them, else classic
 * POSIX locks; both conflict with the fcntl() locks that mail readers take.
 * An OFD lock belongs to the open file (it is shared with fork()ed children
 * and dup()s) and goes away when the last descriptor for it is closed;
 * closing some other descriptor for the same file does not release it.
 *
 * how: LOCK_FILE_SHARED or LOCK_FILE_EXCLUSIVE, optionally or'ed with
 * LOCK_FILE_NONBLOCK; or LOCK_FILE_UNLOCK. Returns 0, or -1 with errno
 * (EAGAIN when NONBLOCK and someone else holds a conflicting lock).
 * A shared lock needs fd open for reading, an exclusive one for writing.
 *
 * lock_file_wait() tries a non-blocking lock every 100ms for up to timeout
 * seconds; -1 with errno EAGAIN when it never succeeded.
 *
 * lock_file_owner() tests whether another open file holds a lock that
 * conflicts with an exclusive lock on fd: 0 when none, the holder's pid
 * when the kernel reports it (classic POSIX lock), -1 when held but the
 * holder is unknown (OFD locks report no pid; pid_file stores the pid in
 * the file for that reason), -2 with errno on error.
 *
 * dot_lock() creates PATH.lock exclusively (mode 0600, with our pid in it),
 * trying up to attempts times, delay seconds apart; a lock file older than
 * stale_time seconds (0 = never stale) is removed and retried. Returns 0,
 * or -1 with why (may be NULL) and errno set (EEXIST when still locked).
 * dot_unlock() removes PATH.lock; 0 or -1 with errno.
 */
#include <sys/types.h>

#include "vstring.h"

#define LOCK_FILE_SHARED 1
#define LOCK_FILE_EXCLUSIVE 2
#define LOCK_FILE_NONBLOCK 4
#define LOCK_FILE_UNLOCK 8

int lock_file(int fd, int how);
int lock_file_wait(int fd, int how, int timeout);
pid_t lock_file_owner(int fd);

int dot_lock(const char *path, int attempts, int delay, int stale_time, VSTRING *why);
int dot_unlock(const char *path);

#endif
