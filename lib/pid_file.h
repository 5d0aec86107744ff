#ifndef POSTERN_PID_FILE_H
#define POSTERN_PID_FILE_H
/*
 * pid_file - a locked pid file that says "this instance is running"
 *
 * pid_file_open() opens or creates path (mode 0644, no symlinks, regular
 * file only), takes a non-blocking exclusive lock (lock_file), truncates it
 * and writes our pid as "%10d\n" (Postfix's layout), fsyncs, and returns
 * the descriptor, which the caller keeps open for the life of the process
 * (close-on-exec; the lock dies with the process). When another process
 * holds the lock it returns -1 with errno EAGAIN and why set to
 * "already running as PID n" (n read from the file). Other errors: -1,
 * errno, why "open PATH: reason" etc. why may be NULL.
 * Call it after daemonize(): the lock must belong to the final process.
 *
 * pid_file_read() returns the pid of the running owner of path: the pid
 * written in the file when the file is locked by a live owner, 0 when the
 * file does not exist or nobody holds the lock (a stale file), -1 with
 * errno on error. Safe to call from the owning process too.
 *
 * pid_file_remove() removes path if fd still refers to it (call before
 * exit); the lock goes away at exit either way.
 */
#include <sys/types.h>

#include "vstring.h"

int pid_file_open(const char *path, VSTRING *why);
pid_t pid_file_read(const char *path);
void pid_file_remove(int fd, const char *path);

#endif
