#ifndef POSTERN_BOUNCE_WARN_H
#define POSTERN_BOUNCE_WARN_H
/*
 * bounce_warn - has the sender of a deferred message been warned?
 * (lib/bounce_proto.h, the "warn" request)
 *
 * The answer is kept on the message's defer note file itself
 * (DEFER_LOG_DIR/QUEUE_ID): its owner-execute permission bit is set once
 * a delay warning is queued. It therefore disappears with the note file,
 * and needs no bookkeeping of its own. Paths are relative to the queue
 * directory (every daemon's working directory).
 *
 * bounce_warn_due(arrival, now) returns 1 when delay warnings are on
 *	(var_delay_warning_time > 0) and a message that arrived at arrival
 *	is at least var_delay_warning_time seconds old at now, else 0.
 * bounce_warn_sent(queue_id) returns 1 when the note file exists and is
 *	marked, 0 when it exists unmarked or does not exist, -1 (logged)
 *	for a bad queue ID or another error of lstat(2).
 * bounce_warn_mark(queue_id) marks the note file and makes the mark
 *	durable (the file, or the directory after a replacement, fsync'd).
 *	A file that this process may not chmod (written by a root-owned
 *	agent) is replaced by a marked copy owned by this process (write a
 *	temporary file in DEFER_LOG_DIR, fsync, rename): the caller must
 *	make sure nobody appends to the file meanwhile (qmgr sends the
 *	warn request only between delivery attempts). Returns 0, or -1
 *	(logged); ENOENT when there is no note file.
 */
#include <time.h>

int bounce_warn_due(time_t arrival, time_t now);
int bounce_warn_sent(const char *queue_id);
int bounce_warn_mark(const char *queue_id);

#endif
