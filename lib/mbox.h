#ifndef POSTERN_MBOX_H
#define POSTERN_MBOX_H
/*
 * mbox - append one message to a UNIX mailbox file, locked
 *
 * mbox_deliver(path, opts, write_fn, context, dsn, why) appends a message
 * to the mailbox file path:
 *   1. with MBOX_LOCK_DOT, creates the dot-lock PATH.lock (lib/lock_file:
 *      opts->lock_attempts tries, opts->lock_delay seconds apart, a lock
 *      older than opts->stale_time seconds is removed). When the lock
 *      cannot be made for another reason than "someone holds it" (the
 *      directory is not writable, say) and MBOX_LOCK_DOT_MAY_FAIL is
 *      set, a warning is logged and delivery goes on with the fcntl lock.
 *   2. opens path for appending, creating it (mode 0600) when missing.
 *      A symbolic link, a file that is not regular, a file with several
 *      hard links or, when opts->owner is not SAFE_OPEN_ANY_UID, a file
 *      owned by another uid is refused (strict_mailbox_ownership).
 *      With opts->chown_uid not (uid_t) -1 and the caller root, a file
 *      the call created is given to chown_uid:chown_gid.
 *   3. with MBOX_LOCK_FCNTL, takes an exclusive fcntl lock (the kind
 *      mail readers take), waiting up to lock_attempts * lock_delay s.
 *   4. notes the size, writes the message at the end through write_fn
 *      (mailbox_copy with MAILBOX_COPY_MBOX for a queued message), with
 *      opts->limit (0 = none) capping the size of the whole mailbox
 *      (mailbox_size_limit), then fsyncs. With opts->write_uid not
 *      (uid_t) -1 and the caller root, steps 4 runs with the effective
 *      ids write_uid/write_gid (groups of write_user), and the call
 *      returns to root afterwards: a root caller creates and locks a
 *      file in a root-owned spool directory, and writes as the user.
 *   5. on any failure in step 4, truncates the file back to its old size
 *      (and syncs), so that no partial message is left behind; then
 *      unlocks and removes the dot-lock.
 * Returns MAILBOX_OK, or MAILBOX_DEFER / MAILBOX_BOUNCE with an RFC 3463
 * code in dsn and a one-line reason in why, e.g. "cannot open file:
 * Permission denied", "unable to lock for exclusive access: Resource
 * temporarily unavailable", "error writing message: File too large"
 * (5.2.2, bounced), or the writer's "error reading message: ..."
 * (deferred). A mailbox that is not a regular file bounces (5.2.0),
 * one with the wrong owner defers (4.2.0).
 */
#include <sys/types.h>

#include "mailbox_copy.h"
#include "vstring.h"

#define MBOX_LOCK_FCNTL (1 << 0)
#define MBOX_LOCK_DOT (1 << 1)
#define MBOX_LOCK_DOT_MAY_FAIL (1 << 2)

typedef struct MBOX_OPTS {
    int lock;          /* MBOX_LOCK_* */
    int lock_attempts; /* deliver_lock_attempts; 0 means 1 */
    int lock_delay;    /* deliver_lock_delay, seconds; 0 means 1 */
    int stale_time;    /* stale_lock_time, seconds; 0 = never stale */
    off_t limit;       /* largest mailbox size; 0 = none */
    uid_t owner;       /* required owner of an existing file, or SAFE_OPEN_ANY_UID */
    uid_t chown_uid;   /* owner of a file we create (root only), or (uid_t) -1 */
    gid_t chown_gid;
    uid_t write_uid; /* effective ids while writing (root only), or (uid_t) -1 */
    gid_t write_gid;
    const char *write_user; /* for the group list; NULL: write_gid alone */
} MBOX_OPTS;

void mbox_opts_init(MBOX_OPTS *opts); /* fcntl+dot, 20 x 1s, 500s stale, no ids */
int mbox_deliver(const char *path, const MBOX_OPTS *opts, MAILBOX_WRITE_FN write_fn, void *context,
                 VSTRING *dsn, VSTRING *why);

#endif
