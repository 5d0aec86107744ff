#ifndef POSTERN_DELIVER_PROTO_H
#define POSTERN_DELIVER_PROTO_H
/*
 * deliver_proto - how qmgr(8) hands recipients to a delivery agent
 * (local, virtual, smtp, lmtp, discard, error), how the agent reports
 * each recipient's fate, and where defer/bounce notes are kept
 *
 * Every daemon runs with queue_directory as its working directory, so
 * every path below is relative to it.
 *
 * Transport: qmgr connects to private/TRANSPORT (the master.cf service
 * named by the transport part of "transport:nexthop").
 *
 * 1. agent -> qmgr:  ATTR_INT("status", 0)            ready
 * 2. qmgr -> agent:  one request (lib/attr.h), names:
 *      flags            DEL_REQ_FLAG_* bits
 *      queue_name       "active"
 *      queue_id         the queue file is QUEUE_NAME/QUEUE_ID
 *      data_offset      byte offset of the MESG record in the queue file
 *      data_size        content size in bytes (from the SIZE record)
 *      nexthop          "domain", "[host]:port", "unix:/path", the text
 *                       after the ':' of transport:nexthop (may be empty)
 *      encoding         "7bit" or "8bit"     smtputf8  "0" or "1"
 *      sender           envelope sender, internal form ("" = <>)
 *      dsn_envid        dsn_ret ("FULL", "HDRS" or "")
 *      arrival_time     "seconds.microseconds" from the TIME record
 *      client_name, client_address, helo_name, protocol, sasl_username
 *                       from the ATTR records (may be empty)
 *      rcpt_count       N (1 .. DEL_REQ_RCPT_MAX)
 *      rcpt.I.address   for I in 0..N-1: recipient, internal form
 *      rcpt.I.orig      original recipient ("" when the same)
 *      rcpt.I.offset    byte offset of its RCPT record in the queue file
 *      rcpt.I.notify    DSN NOTIFY bits (lib/cleanup_proto.h), 0 = default
 *      rcpt.I.orcpt     DSN ORCPT "type;xtext" or ""
 *      queue_delays     "a/b" seconds spent before qmgr took the message
 *                       (arrival to active, active to this request), for
 *                       the delays= field of the log line
 * 3. The agent delivers and, for EACH recipient, before replying, calls
 *    exactly one of deliver_sent(), deliver_defer(), deliver_bounce()
 *    (lib/deliver_status.h), which log the Postfix status line
 *      QUEUEID: to=<addr>, orig_to=<orig>, relay=R, delay=D,
 *      delays=a/b/c/d, dsn=X.Y.Z, status=sent|deferred|bounced (text)
 *    and make the outcome durable:
 *      sent     the RCPT record at rcpt.I.offset is marked DONE (rec.h)
 *      bounced  a note is appended to bounce/QUEUEID and synced, then
 *               the RCPT record is marked DONE
 *      deferred a note is appended to defer/QUEUEID and synced
 * 4. agent -> qmgr:  ATTR_INT("status", S), and for each I
 *      ATTR_STR("rcpt.I.result", "sent" | "deferred" | "bounced")
 *    S is DEL_STAT_OK when every recipient was handled as above, or
 *    DEL_STAT_DEFER when the agent could not even try (qmgr then treats
 *    every recipient without a result as deferred and logs nothing new).
 *
 * Notes in defer/QUEUEID and bounce/QUEUEID (one file per message, append
 * only, O_APPEND, one write per note, fsync before the DONE mark): each
 * note is a block of "name=value" lines ended by an empty line:
 *      recipient=ADDR  orig_recipient=ORIG  offset=N  notify=BITS
 *      orcpt=TYPE;XTEXT  status=X.Y.Z  action=failed|delayed|delivered
 *      reason=TEXT (one line; the remote reply or local explanation)
 *      relay=R  time=SECONDS (when the outcome happened)
 * bounce(8) turns them into RFC 3464 notices; mailq shows the newest
 * defer reason per recipient.
 *
 * qmgr, once every recipient of a message has a result: when bounce/ID
 * exists, asks bounce(8) to send the notice (which removes the note
 * file once the notice is queued); if any recipient was deferred, moves
 * the file to deferred/ with its mtime set to the next attempt time;
 * otherwise removes the queue file and defer/ID and logs "QUEUEID: removed".
 */

#define DEL_REQ_FLAG_NONE 0
#define DEL_REQ_FLAG_VERBOSE (1 << 0)   /* log more for this delivery */

#define DEL_REQ_RCPT_MAX 200          /* most recipients in one request (attr.h pair limit) */

#define DEL_STAT_OK 0
#define DEL_STAT_DEFER 1

#define DEL_RESULT_SENT "sent"
#define DEL_RESULT_DEFERRED "deferred"
#define DEL_RESULT_BOUNCED "bounced"

#define DEFER_LOG_DIR "defer"
#define BOUNCE_LOG_DIR "bounce"

#endif
