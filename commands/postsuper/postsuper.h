#ifndef POSTERN_POSTSUPER_H
#define POSTERN_POSTSUPER_H
/*
 * postsuper.h - what the files of postsuper(1) share
 *
 * Every path is relative to the queue directory, postsuper's working
 * directory. A message file is changed only through ps_open(): open,
 * exclusive lock (the lock qmgr takes before it moves a file into
 * active/, and that conflicts with the shared lock of a delivery agent),
 * then a check that the path still names the locked file. Whoever holds
 * that lock and still finds the file at its path may move or remove it.
 */
#include <sys/stat.h>

#include "vstring.h"

/* ps_open() results besides a descriptor */
#define PS_MISSING (-1) /* not in that queue (now) */
#define PS_SKIPPED (-2) /* there, but left alone; a warning was logged */

extern int ps_master_running; /* a master(8) holds the pid file lock */

int ps_open(const char *queue, const char *id, struct stat *st);
int ps_rename(const char *from_queue, const char *to_queue, const char *id);
void ps_remove_notes(const char *id);
void ps_rename_notes(const char *id, const char *new_id);

/* postsuper_requeue.c */
int ps_requeue(const char *queue, const char *id);

/* postsuper_struct.c */
int ps_structure(int *renamed, int *moved, int *fixed);
int ps_purge(void);

#endif
