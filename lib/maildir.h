#ifndef POSTERN_MAILDIR_H
#define POSTERN_MAILDIR_H
/*
 * maildir - deliver one message into a Maildir (tmp, then new)
 *
 * maildir_deliver(path, stable, limit, write_fn, context, dsn, why, name)
 * delivers a message into the Maildir at path (with or without a
 * trailing '/'):
 *   1. path, path/tmp, path/new and path/cur are created when missing
 *      (mode 0700, missing parents too), with the caller's current
 *      (effective) privileges: the caller switches to the mailbox
 *      owner first.
 *   2. A new file tmp/UNIQUE is created exclusively (mode 0600) and
 *      write_fn(stream, context, why) writes the message into it
 *      (mailbox_copy() for a queued message). limit (0 = none) caps its
 *      size: a larger message fails with EFBIG.
 *   3. The file is fsync'd and closed, then linked as new/NAME and its
 *      tmp name removed (rename when the file system has no hard
 *      links), and the new/ directory is fsync'd. Only then is the
 *      delivery done.
 * Names follow the Maildir convention, unique per host: tmp names are
 * "SECONDS.MMICROSECONDSPPID_COUNT.HOST"; new names are
 * "SECONDS.VDEVICEIINODEMMICROSECONDS.HOST" (device and inode in hex),
 * or "STABLE.HOST" when stable is not NULL. '/' and ':' in the host name
 * are written \057 and \072. The path of the delivered file goes into
 * the optional out parameter name.
 *
 * stable makes a delivery idempotent: the caller passes a name that is
 * the same for every attempt to deliver the same message to the same
 * recipient (local and virtual use "ARRIVAL.QQUEUEIDROFFSET") and
 * different for anything else. When new/STABLE.HOST already exists
 * (an earlier attempt was cut short after its delivery, or another
 * process delivers the same copy at the same time) nothing is written
 * and the delivery counts as done. stable may hold only [A-Za-z0-9._-].
 *
 * On any failure nothing is left in new/ and the tmp file is removed.
 * Returns MAILBOX_OK, or MAILBOX_DEFER / MAILBOX_BOUNCE (lib/mailbox_copy.h)
 * with an RFC 3463 code in dsn and a one-line reason in why:
 *   "create maildir file PATH: ERROR", "error writing message: ERROR",
 *   or the writer's own "error reading message: ..." (always deferred).
 * EDQUOT and EFBIG (over limit) bounce with 5.2.2; other errors defer.
 */
#include <sys/types.h>

#include "mailbox_copy.h"
#include "vstring.h"

int maildir_deliver(const char *path, const char *stable, off_t limit, MAILBOX_WRITE_FN write_fn,
                    void *context, VSTRING *dsn, VSTRING *why, VSTRING *name);

/* maildir_make_dirs - mkdir -p path with mode; 0 or -1 with errno */
int maildir_make_dirs(const char *path, mode_t mode);

#endif
