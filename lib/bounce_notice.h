#ifndef POSTERN_BOUNCE_NOTICE_H
#define POSTERN_BOUNCE_NOTICE_H
/*
 * bounce_notice - the text of a delivery status notification
 * (RFC 3464 in an RFC 6522 multipart/report; RFC 6533 for SMTPUTF8)
 *
 * bounce_notice_write(out, info, notes, count, content, offset)
 *	Writes one notice to out as content records (lib/rec.h: NORM, and
 *	CONT for pieces of long lines copied from the original; no MESG or
 *	XTRA): the headers of the notice, an empty line, then a
 *	multipart/report; report-type=delivery-status body of three parts:
 *	  1. text/plain: who writes, what happened, and each recipient of
 *	     notes[0..count-1] with its reason (the remote reply when there
 *	     was one);
 *	  2. message/delivery-status: Reporting-MTA, X-Postern-Queue-ID,
 *	     X-Postern-Sender, Arrival-Date (and Original-Envelope-Id), then
 *	     per note Final-Recipient, Original-Recipient (the ORCPT, else
 *	     the original recipient when it differs), Action, Status,
 *	     Remote-MTA and Diagnostic-Code (see bounce_notice_diagnostic),
 *	     Last-Attempt-Date, and Will-Retry-Until for delay notices;
 *	  3. the returned message, read from content (a queue file) at
 *	     offset (the first record after MESG) up to XTRA:
 *	     message/rfc822 with the whole message, or text/rfc822-headers
 *	     with its headers only. Whole only for failure notices to the
 *	     sender or for undeliverable notices, when dsn_ret is not
 *	     "HDRS" and the content is at most size_limit bytes (one byte
 *	     per line end); otherwise headers only, themselves cut at a
 *	     header boundary when they pass size_limit. The text part says
 *	     when the message was too large. content NULL, or a content that
 *	     cannot be read (a record that is not NORM/CONT, a read error),
 *	     leaves this part out and the text says so.
 *	With info->smtputf8 the types are message/global-delivery-status,
 *	message/global and message/global-headers (report-type
 *	global-delivery-status), addresses that are not ASCII are typed
 *	utf-8, and UTF-8 text is kept; otherwise every byte of generated
 *	text outside printable ASCII becomes '?'. A returned part with
 *	8-bit bytes is declared Content-Transfer-Encoding: 8bit (and so is
 *	the notice). The MIME boundary is made from notice_id, the time
 *	and hostname, and changed until no line of the returned content
 *	starts with it.
 *	Returns 0, or -1 when writing to out failed (nothing logged).
 *	Problems reading content are logged with msg_warn().
 *
 * bounce_notice_diagnostic(note, mta, diag)
 *	The Remote-MTA and Diagnostic-Code values for a note: mta is
 *	"dns; HOST" when the relay is "HOST[address]" or
 *	"HOST[address]:port", else empty; diag is "smtp; REPLY" when the
 *	reason holds an SMTP reply (the text after "said: ", without a
 *	trailing "(in reply to ... command)", or the whole reason when it
 *	starts with a 4xx/5xx code), else "X-Postern; REASON".
 *
 * bounce_notice_subject(kind) is the Subject: of a kind of notice.
 */
#include <sys/types.h>
#include <time.h>

#include "deliver_status.h"
#include "vstream.h"
#include "vstring.h"

/* kinds of notice */
#define BOUNCE_NOTICE_FAILED 1        /* non-delivery notice, to the sender */
#define BOUNCE_NOTICE_FAILED_COPY 2   /* its postmaster copy */
#define BOUNCE_NOTICE_UNDELIVERABLE 3 /* a failed notice (sender <>), to the postmaster */
#define BOUNCE_NOTICE_DELAYED 4       /* delay warning, to the sender */
#define BOUNCE_NOTICE_DELAYED_COPY 5  /* its postmaster copy */

#define BOUNCE_NOTICE_REC_MAX (1024 * 1024) /* bytes of one content record read */

typedef struct BOUNCE_NOTICE_INFO {
    int kind;              /* BOUNCE_NOTICE_* */
    const char *hostname;  /* $myhostname: From:, Reporting-MTA */
    const char *mail_name; /* $mail_name */
    const char *recipient; /* the notice's own recipient (To:), internal form */
    const char *notice_id; /* the notice's queue ID ("" when unknown) */
    const char *queue_id;  /* the message reported on */
    const char *sender;    /* its envelope sender, internal form, "" = <> */
    const char *dsn_envid; /* its DSN ENVID, decoded, "" when none */
    const char *dsn_ret;   /* "FULL", "HDRS" or "" */
    int smtputf8;          /* the message was sent with SMTPUTF8 */
    int expired;           /* failed because it stayed too long in the queue */
    time_t arrival;        /* when it arrived */
    time_t now;            /* Date: of the notice */
    time_t retry_until;    /* delay notices: Will-Retry-Until; 0 = leave out */
    long size_limit;       /* $bounce_size_limit */
} BOUNCE_NOTICE_INFO;

int bounce_notice_write(VSTREAM *out, const BOUNCE_NOTICE_INFO *info, DELIVER_NOTE *const *notes,
                        int count, VSTREAM *content, off_t offset);
void bounce_notice_diagnostic(const DELIVER_NOTE *note, VSTRING *mta, VSTRING *diag);
const char *bounce_notice_subject(int kind);

#endif
