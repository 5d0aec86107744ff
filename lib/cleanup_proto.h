#ifndef POSTERN_CLEANUP_PROTO_H
#define POSTERN_CLEANUP_PROTO_H
/*
 * cleanup_proto - how a client (smtpd, pickup, bounce) hands a message to
 * cleanup(8), and what the queue file looks like afterwards
 *
 * Transport: a UNIX stream connection to $queue_directory/public/cleanup
 * (service name "cleanup" in master.cf; CLEANUP_SERVICE_PATH below is
 * relative to queue_directory). It is public, not private, because that
 * is where an admin's existing Postfix master.cf puts it
 * ("cleanup unix n ..."): postern must work with that file unchanged.
 *
 * 1. cleanup -> client:  ATTR_STR("queue_id", id)
 *        cleanup has created the queue file in incoming/ (mode 0600,
 *        not yet complete) and names it by its queue ID.
 * 2. client -> cleanup:  ATTR_INT("flags", CLEANUP_FLAG_* bits)
 * 3. client -> cleanup:  records (lib/rec.h), in this order:
 *        TIME    arrival "seconds.microseconds"
 *        ATTR*   "name=value", names below (CLEANUP_ATTR_*); any order
 *        FROM    sender, internal (unquoted) form; "" for <>
 *        per recipient: [ORCP original address] [NOTIFY bits] [DSN_ORCPT
 *                "type;xtext"] RCPT address
 *        MESG    start of content (empty)
 *        NORM/CONT  the message, one line per NORM (CONT for pieces of a
 *                long line): headers then body, line ends removed, SMTP
 *                dot-stuffing already undone. smtpd sends its Received:
 *                header as the first content line(s).
 *        XTRA    end of content (empty)
 *        END     end of request (empty)
 *    A client that goes away before END aborts the request: cleanup
 *    removes the file and logs nothing but a warning.
 * 4. cleanup -> client:  ATTR_INT("status", CLEANUP_STAT_* bits, 0 = ok),
 *                        ATTR_STR("reason", text)
 *        status 0 is sent only after the queue file is complete and
 *        durable: END record written, mode set to CLEANUP_MODE_READY,
 *        fsync'd; then qmgr is triggered (mail_trigger public/qmgr "I").
 *        On any failure the file is removed before the reply.
 *        reason, when not empty, starts with an RFC 3463 code and is meant
 *        for the SMTP reply: "5.7.1 message content rejected",
 *        "4.3.0 queue file write error".
 *
 * The queue file cleanup writes (read by qmgr, bounce, postcat, showq):
 *        SIZE    "content_size data_offset rcpt_count" (decimal; space
 *                padded to a fixed width so it can be rewritten in place):
 *                content_size = bytes of the content as text with one
 *                byte per line end; data_offset = file offset of the
 *                MESG record; rcpt_count = RCPT records
 *        TIME, ATTR* (as received), FROM
 *        recipients after rewriting (canonical, virtual aliases),
 *                duplicates removed, each [ORCP] [NOTIFY] [DSN_ORCPT] RCPT
 *        MESG    content: headers as rewritten/added, then the body
 *        XTRA
 *        what is known only after the content: recipients taken from
 *                the headers (CLEANUP_FLAG_EXTRACT), each [ORCP] RCPT;
 *                ATTR "message_id=<...>" when the message has one
 *        END
 *    and the file mode CLEANUP_MODE_READY marks it complete. qmgr takes
 *    only files in that mode that end with END.
 *
 * Content actions (header_checks(5), and the same actions of access(5)
 * tables that smtpd(8) evaluates):
 *    A client asks for them with envelope ATTR records (before MESG);
 *    cleanup honours them exactly like the header_checks action of the
 *    same name, does not copy them into the queue file, and logs
 *    nothing for them (the client logged its own decision):
 *        action_hold=TEXT       the queue file goes to hold/ instead of
 *                               incoming/ (TEXT, the reason, may be empty)
 *        action_discard=TEXT    the message is accepted (status 0) and
 *                               dropped: no queue file is left
 *        action_redirect=ADDR   every recipient is replaced by ADDR
 *                               (internal form) at delivery time
 *        action_filter=T:D      the content filter transport:destination
 *    smtpd sends action_filter for an access(5) FILTER action, else the
 *    value of its content_filter parameter when that is not empty;
 *    pickup sends its content_filter the same way (content_filter is
 *    read by the client, so that "-o content_filter=" on a master.cf
 *    service such as a filter's re-injection smtpd turns it off). When
 *    one of these comes more than once, the last one counts; a
 *    header_checks or body_checks FILTER or REDIRECT that fires later
 *    overrides it. PREPEND needs nothing from cleanup: a client adds
 *    the header to the content it sends.
 *
 *    In the queue file: every file has, just before MESG, an ATTR
 *    record "xtra_offset=NNNNNNNNNNNNNNN" (15 decimal digits, rewritten
 *    in place at the end, like SIZE) that holds the offset of the XTRA
 *    record, so that a reader can skip the content. A filter and a
 *    redirection are written after XTRA as ATTR "content_filter=T:D"
 *    and "redirect=ADDR" (at most one of each); qmgr(8) then routes
 *    every recipient to transport T, next hop D (the recipient domain
 *    when D is empty, or $default_filter_nexthop when that is set), or
 *    resolves ADDR instead of each recipient. A redirection overrides
 *    a filter. A held file is complete (mode CLEANUP_MODE_READY) in
 *    hold/ instead of incoming/. Clients may not send content_filter,
 *    redirect or xtra_offset themselves: cleanup ignores them.
 */

#define CLEANUP_SERVICE_PATH "public/cleanup"

/* flags: what the client wants cleanup to do */
#define CLEANUP_FLAG_NONE 0
#define CLEANUP_FLAG_FILTER (1 << 0)   /* header_checks, body_checks, milters */
#define CLEANUP_FLAG_MAP_OK (1 << 1)   /* canonical and virtual alias mapping */
#define CLEANUP_FLAG_EXTRACT (1 << 2)  /* sendmail -t: recipients from To/Cc/Bcc */
#define CLEANUP_FLAG_LOCAL (1 << 3)    /* local submission: add From: if missing */
#define CLEANUP_FLAG_BOUNCE (1 << 4)   /* a notice from bounce(8): sender is <> */

/* status bits in the reply */
#define CLEANUP_STAT_OK 0
#define CLEANUP_STAT_BAD (1 << 0)    /* protocol or internal error */
#define CLEANUP_STAT_WRITE (1 << 1)  /* queue file write error */
#define CLEANUP_STAT_SIZE (1 << 2)   /* message_size_limit exceeded */
#define CLEANUP_STAT_CONT (1 << 3)   /* content rejected (checks); reason says why */
#define CLEANUP_STAT_HOPS (1 << 4)   /* too many Received: hops */
#define CLEANUP_STAT_RCPT (1 << 5)   /* no recipients */
#define CLEANUP_STAT_DEFER (1 << 6)  /* temporary: table lookup error etc. */

/* ATTR record names (envelope attributes) */
#define CLEANUP_ATTR_CLIENT_NAME "client_name"        /* verified host name or "unknown" */
#define CLEANUP_ATTR_CLIENT_ADDR "client_address"
#define CLEANUP_ATTR_CLIENT_PORT "client_port"
#define CLEANUP_ATTR_HELO "helo_name"
#define CLEANUP_ATTR_PROTOCOL "protocol"              /* SMTP ESMTP ESMTPS ESMTPA ESMTPSA */
#define CLEANUP_ATTR_SASL_USER "sasl_username"
#define CLEANUP_ATTR_SASL_METHOD "sasl_method"
#define CLEANUP_ATTR_ENCODING "encoding"              /* 7bit 8bit (BODY=) */
#define CLEANUP_ATTR_SMTPUTF8 "smtputf8"              /* 1 when requested */
#define CLEANUP_ATTR_DSN_ENVID "dsn_envid"
#define CLEANUP_ATTR_DSN_RET "dsn_ret"                /* FULL or HDRS */
#define CLEANUP_ATTR_MESSAGE_ID "message_id"          /* written by cleanup */
#define CLEANUP_ATTR_FULL_NAME "full_name"            /* sendmail -F: for an added From: */
#define CLEANUP_ATTR_ORIGIN "origin"                  /* "smtpd", "pickup", "bounce" */

/* client requests for content actions (see "Content actions" above) */
#define CLEANUP_ATTR_ACT_HOLD "action_hold"           /* reason text, may be empty */
#define CLEANUP_ATTR_ACT_DISCARD "action_discard"     /* reason text, may be empty */
#define CLEANUP_ATTR_ACT_REDIRECT "action_redirect"   /* address, internal form */
#define CLEANUP_ATTR_ACT_FILTER "action_filter"       /* transport:destination */
#define CLEANUP_ATTR_ACT_PREFIX "action_"

/* written by cleanup only */
#define CLEANUP_ATTR_FILTER "content_filter"          /* after XTRA: transport:destination */
#define CLEANUP_ATTR_REDIRECT "redirect"              /* after XTRA: address */
#define CLEANUP_ATTR_XTRA_OFFSET "xtra_offset"        /* before MESG: offset of XTRA */
#define CLEANUP_XTRA_OFFSET_FORMAT "%015lld"          /* fixed width, rewritten in place */

/* DSN NOTIFY bits (NOTIFY record, decimal) */
#define DSN_NOTIFY_NEVER (1 << 0)
#define DSN_NOTIFY_SUCCESS (1 << 1)
#define DSN_NOTIFY_FAILURE (1 << 2)
#define DSN_NOTIFY_DELAY (1 << 3)

#define CLEANUP_MODE_WRITING 0600   /* being written: never delivered */
#define CLEANUP_MODE_READY 0700     /* complete and durable */

#endif
