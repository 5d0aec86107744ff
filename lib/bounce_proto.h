#ifndef POSTERN_BOUNCE_PROTO_H
#define POSTERN_BOUNCE_PROTO_H
/*
 * bounce_proto - how qmgr(8) asks bounce(8) to return mail to its sender
 *
 * Every path is relative to queue_directory (every daemon's working
 * directory).
 *
 * When: qmgr sends this request once every recipient of a message has a
 * result for this delivery attempt and bounce/QUEUE_ID exists (some
 * recipient was bounced by an agent, or qmgr turned the deferred
 * recipients of an expired message into bounced ones). The queue file
 * is still at QUEUE_NAME/QUEUE_ID and does not change until the reply.
 *
 * Transport: a UNIX stream connection to BOUNCE_SERVICE_PATH (master.cf
 * service "bounce", type unix); qmgr talks to it without blocking.
 *
 * 1. qmgr -> bounce:  one request (lib/attr.h):
 *      request      BOUNCE_REQ_FLUSH
 *      flags        BOUNCE_FLAG_* bits
 *      queue_name   "active"
 *      queue_id     the message; its notes are BOUNCE_LOG_DIR/QUEUE_ID
 *      sender       envelope sender, internal form ("" = null sender)
 *      dsn_envid    DSN ENVID ("" when none)
 *      dsn_ret      "FULL", "HDRS" or "" (default: FULL, but bounce may
 *                   cut the content to a size limit)
 *      smtputf8     "0" or "1"
 * 2. bounce, before it answers:
 *      - reads the notes (deliver_note_open/deliver_note_read in
 *        lib/deliver_status.h): one per failed recipient, with its
 *        status, reason, relay, original recipient and DSN fields;
 *        notes with notify bits that exclude FAILURE (NOTIFY=NEVER, or
 *        a NOTIFY list without FAILURE) are left out of the notice;
 *      - reads the message content from QUEUE_NAME/QUEUE_ID (the MESG
 *        record at the SIZE record's data_offset) for the returned
 *        message or headers;
 *      - submits an RFC 3464 delivery status notification through
 *        cleanup(8) (lib/cleanup_proto.h, CLEANUP_FLAG_BOUNCE, null
 *        sender) to the sender; when the sender is the null sender
 *        (a notice about a notice), the notice goes to the postmaster
 *        (2bounce_notice_recipient) or is dropped, never to <>;
 *        when every note is excluded by NOTIFY, no notice is sent;
 *      - removes BOUNCE_LOG_DIR/QUEUE_ID once the notice is safely
 *        queued (cleanup said CLEANUP_STAT_OK), or when no notice was
 *        needed;
 *      - logs "QUEUE_ID: sender non-delivery notification: NEWID" as
 *        Postfix does.
 * 3. bounce -> qmgr:  ATTR_INT("status", BOUNCE_STAT_OK or BOUNCE_STAT_FAIL)
 *      BOUNCE_STAT_OK only when the notes file has been consumed as
 *      above. On BOUNCE_STAT_FAIL (or no answer, or no bounce service)
 *      the notes stay where they are and qmgr keeps the message in the
 *      deferred queue, to ask again at its next attempt: a notice is
 *      never lost, and at worst sent twice (bounce died after cleanup
 *      took the notice but before it removed the notes).
 *
 * Expired messages: qmgr, not bounce, decides that a message is too old
 * (maximal_queue_lifetime, bounce_queue_lifetime). It then appends a
 * bounce note for every recipient that is still deferred (status and
 * reason taken from that recipient's newest note in DEFER_LOG_DIR,
 * action "failed"), marks those recipients done, logs
 * "QUEUE_ID: from=<sender>, status=expired, returned to sender", and
 * sends the same flush request with BOUNCE_FLAG_EXPIRED set (a hint for
 * the wording of the notice).
 *
 * Delay warnings (delay_warning_time) are not part of this version.
 */
#include "deliver_proto.h"

#define BOUNCE_SERVICE_PATH "private/bounce"

#define BOUNCE_REQ_FLUSH "flush"

#define BOUNCE_FLAG_NONE 0
#define BOUNCE_FLAG_EXPIRED (1 << 0)    /* the notes include expired recipients */

#define BOUNCE_STAT_OK 0
#define BOUNCE_STAT_FAIL 1

#endif
