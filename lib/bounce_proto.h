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
 * Who gets the notice (bounce decides, from the configuration):
 *      - sender not <>: the sender, from <> (CLEANUP_FLAG_BOUNCE), the
 *        notes that NOTIFY allows; with "bounce" in notify_classes also
 *        a copy (headers only, every note) to bounce_notice_recipient;
 *      - sender <>: one notice to 2bounce_notice_recipient, every note,
 *        the failed notice attached; dropped (logged) when that
 *        parameter is empty;
 *      - sender $double_bounce_sender@$myhostname (a notice to the
 *        postmaster that failed in turn): nothing is sent, a warning
 *        "QUEUE_ID: undeliverable postmaster notification discarded" is
 *        logged and the notes are removed.
 *      Notices to the postmaster have $double_bounce_sender@$myhostname
 *      as their envelope sender, so that their failure ends there.
 *      A sender notice that cleanup refuses for good (content, size,
 *      no recipient) is reported to 2bounce_notice_recipient instead.
 *
 * Delay warnings (delay_warning_time > 0): the "warn" request.
 *
 * When: at the end of a delivery attempt that leaves recipients of a
 * message deferred (qmgr is about to move it to deferred/), qmgr sends
 *      request      BOUNCE_REQ_WARN
 * with the other attributes exactly as for flush (flags BOUNCE_FLAG_NONE,
 * queue_name where the file is now, normally "active"), to the same
 * socket, when ALL of these hold:
 *      - delay_warning_time is not 0;
 *      - now - arrival time (TIME record) >= delay_warning_time;
 *      - the message has not expired (an expired message is bounced
 *        with flush instead, and gets no warning);
 *      - bounce_warn_sent(queue_id) (lib/bounce_warn.h) returns 0: no
 *        warning was sent for this message yet. This only saves a
 *        connection; bounce checks it again itself.
 * The sender may be <> (then only the postmaster copy, if any, goes).
 * The queue file stays at QUEUE_NAME/QUEUE_ID until the reply; qmgr
 * moves it to deferred/ after the reply (or after a failure to get one).
 *
 * bounce, before it answers:
 *      - replies BOUNCE_STAT_OK at once when bounce_warn_sent() says a
 *        warning was already sent, or when there is no DEFER_LOG_DIR
 *        note file (nothing to warn about);
 *      - reads the notes in DEFER_LOG_DIR/QUEUE_ID and keeps, per
 *        recipient (the RCPT record offset), the newest one, and only
 *        for recipients whose RCPT record is still not DONE;
 *      - sends "Delayed Mail (still being retried)" (Action: delayed,
 *        Status 4.X.Y, Will-Retry-Until arrival +
 *        maximal_queue_lifetime) to the sender for the recipients whose
 *        NOTIFY allows DELAY (default, or a list with DELAY), and with
 *        "delay" in notify_classes a copy (headers only) to
 *        delay_notice_recipient; logs "QUEUE_ID: sender delay
 *        notification: NEWID" (and "postmaster delay notification");
 *      - then marks DEFER_LOG_DIR/QUEUE_ID as warned (bounce_warn_mark():
 *        the owner-execute bit of the note file, fsync'd). The notes are
 *        NOT removed: they still serve the final bounce and mailq.
 * bounce -> qmgr: ATTR_INT("status", BOUNCE_STAT_OK or BOUNCE_STAT_FAIL).
 *      On BOUNCE_STAT_FAIL (or no answer) qmgr does nothing special: the
 *      next attempt that defers the message asks again. A warning is
 *      thus sent at most once per defer note file, and at worst twice
 *      (bounce died between queuing the notice and marking the file).
 *
 * Because the mark lives on the note file, it goes away with it: qmgr
 * (message done), postsuper -d/-r and the like remove DEFER_LOG_DIR/ID
 * as they do now, and nothing else. A requeued message whose defer notes
 * were removed may be warned about again, as in Postfix.
 *
 * Service names: master.cf runs this program as the services "bounce",
 * "defer" and "trace"; each accepts both requests. qmgr uses
 * BOUNCE_SERVICE_PATH for both.
 */
#include "deliver_proto.h"

#define BOUNCE_SERVICE_PATH "private/bounce"

#define BOUNCE_REQ_FLUSH "flush"
#define BOUNCE_REQ_WARN "warn"

#define BOUNCE_FLAG_NONE 0
#define BOUNCE_FLAG_EXPIRED (1 << 0)    /* the notes include expired recipients */

#define BOUNCE_STAT_OK 0
#define BOUNCE_STAT_FAIL 1

#endif
