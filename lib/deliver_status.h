#ifndef POSTERN_DELIVER_STATUS_H
#define POSTERN_DELIVER_STATUS_H
/*
 * deliver_status - each recipient's outcome: the log line, the durable
 * note, the DONE mark (lib/deliver_proto.h step 3)
 *
 * deliver_sent(req, i, relay, dsn, fmt, ...)
 * deliver_defer(req, i, relay, dsn, fmt, ...)
 * deliver_bounce(req, i, relay, dsn, fmt, ...)
 *	Record the outcome of recipient req->rcpt[i]. relay is the relay=
 *	field ("local", "none", "mx.example.com[192.0.2.1]:25"); dsn the
 *	RFC 3463 status "X.Y.Z" (its class digit is forced to 2, 4 or 5 to
 *	match the outcome; a malformed one becomes X.0.0); fmt and the
 *	arguments the reason text (one line: control characters become
 *	spaces). Order of events, so that a crash never loses a recipient:
 *	  sent:    RCPT record at rcpt.offset marked DONE (rec_mark_done,
 *	           synced), then the status=sent line is logged;
 *	  defer:   note appended to defer/QUEUE_ID and synced, then the
 *	           status=deferred line;
 *	  bounce:  note appended to bounce/QUEUE_ID and synced, the RCPT
 *	           record marked DONE, then the status=bounced line.
 *	Each sets req->rcpt[i].result and returns 0, or -1 when a step
 *	failed (logged): a sent recipient whose DONE mark failed is still
 *	reported sent (it was delivered; a later attempt may deliver it
 *	again, it is never lost); a deferral whose note failed is still a
 *	deferral (only the reason text is lost); a bounce whose note
 *	failed is turned into a deferral (logged as such, result
 *	DEFERRED), because a bounce without its note would go unreported.
 *	The queue file is opened on demand through deliver_request_open();
 *	note files stay open in req until it is freed.
 *	Works for qmgr too: a request with start == 0 logs delays
 *	a/b/0/0 from req->delay_a and req->delay_b.
 *
 * The log line (Postfix's format):
 *	QUEUE_ID: to=<rcpt>, orig_to=<orig>, relay=R, delay=D,
 *	delays=a/b/c/d, dsn=X.Y.Z, status=sent (reason)
 *	Addresses in external (quoted) form; orig_to only when the original
 *	recipient is known and differs (case-insensitively). delay is the
 *	time since arrival; a = arrival to active queue, b = active queue
 *	to delivery request, c = connection set-up in the agent (see
 *	deliver_request_conn_done), d = the rest. deliver_delay_format()
 *	formats one value: whole seconds from 10 s up, otherwise two
 *	significant digits with at most $delay_logging_resolution_limit
 *	decimals, trailing zeros dropped ("0.13", "1.2", "0", "357").
 *
 * Notes (the files defer/QUEUE_ID and bounce/QUEUE_ID):
 *	deliver_note_append(req, dir, note) appends one note and syncs it
 *	(and the directory, when it created the file; a file created by
 *	root is given to mail_owner, so that qmgr and bounce can read it).
 *	A field too long for one note line (a reason that quotes a huge
 *	SMTP reply) is cut to fit, so that every note can be read back.
 *	dir is
 *	DEFER_LOG_DIR or BOUNCE_LOG_DIR. 0 or -1 (logged). A file that a
 *	root process (local, virtual) creates is given to mail_owner.
 *	deliver_note_open(dir, queue_id) opens the note file for reading:
 *	NULL with errno ENOENT when there is none (not logged), or another
 *	errno (logged). deliver_note_read(fp, note) reads the next note
 *	into note (fields replaced; caller keeps one DELIVER_NOTE, made
 *	with deliver_note_alloc(), freed with deliver_note_free()): 1, or
 *	0 at the end. A malformed block (a line without '=', a line over
 *	DELIVER_NOTE_LINE_MAX, no recipient) is logged and skipped; an
 *	unfinished last block (no empty line after it) is ignored;
 *	unknown names are ignored. deliver_note_remove(dir, queue_id)
 *	removes the file: 0, or -1 with errno (ENOENT is not logged).
 */
#include <sys/types.h>
#include <time.h>

#include "deliver_request.h"
#include "vstream.h"
#include "vstring.h"

#define DELIVER_NOTE_LINE_MAX (64 * 1024)   /* bytes of one "name=value" line */

#define DELIVER_ACTION_FAILED "failed"
#define DELIVER_ACTION_DELAYED "delayed"
#define DELIVER_ACTION_DELIVERED "delivered"

typedef struct DELIVER_NOTE {
    char *recipient;
    char *orig_recipient;   /* "" when none */
    off_t offset;           /* of the recipient's RCPT record */
    long notify;            /* DSN NOTIFY bits */
    char *orcpt;            /* "" when none */
    char *status;           /* "5.1.1" */
    char *action;           /* failed, delayed, delivered */
    char *reason;
    char *relay;
    time_t time;            /* when it happened */
} DELIVER_NOTE;

/*
 * deliver_log_line() logs the status line for any destination address of
 * the request, with orig as orig_to= (omitted when empty or equal to to):
 * for agents that reach several destinations for one queue file recipient
 * (local(8) aliases). It logs only: no note, no DONE mark.
 */
void deliver_log_line(DELIVER_REQUEST *req, const char *to, const char *orig, const char *relay,
                      const char *dsn, const char *status, const char *reason);

int deliver_sent(DELIVER_REQUEST *req, int i, const char *relay, const char *dsn,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int deliver_defer(DELIVER_REQUEST *req, int i, const char *relay, const char *dsn,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int deliver_bounce(DELIVER_REQUEST *req, int i, const char *relay, const char *dsn,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

VSTRING *deliver_delay_format(VSTRING *out, double seconds);

DELIVER_NOTE *deliver_note_alloc(void);
void deliver_note_free(DELIVER_NOTE *note);
int deliver_note_append(DELIVER_REQUEST *req, const char *dir, const DELIVER_NOTE *note);
VSTREAM *deliver_note_open(const char *dir, const char *queue_id);
int deliver_note_read(VSTREAM *fp, DELIVER_NOTE *note);
int deliver_note_remove(const char *dir, const char *queue_id);

#endif
