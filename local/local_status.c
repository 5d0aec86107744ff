/*
 * NAME
 *	local_status - the outcome of each destination local(8) reaches
 * SYNOPSIS
 *	#include "local.h"
 *
 *	int local_sent(LOCAL_STATE *state, const LOCAL_ATTR *attr,
 *		       const char *dsn, const char *fmt, ...)
 *	int local_defer(LOCAL_STATE *state, const LOCAL_ATTR *attr,
 *		       const char *dsn, const char *fmt, ...)
 *	int local_bounce(LOCAL_STATE *state, const LOCAL_ATTR *attr,
 *		       const char *dsn, const char *fmt, ...)
 *	int local_outcome(LOCAL_STATE *state, const LOCAL_ATTR *attr,
 *		       int mailbox_status, const char *dsn, const char *fmt, ...)
 *	void local_finish(LOCAL_STATE *state)
 * DESCRIPTION
 *	A queue file recipient that local(8) delivers itself (level 0: its
 *	mailbox, or "unknown user") gets its outcome through
 *	deliver_sent(), deliver_defer() and deliver_bounce(), which log,
 *	write the note and mark the recipient in one step.
 *
 *	A recipient that an alias, .forward or :include: file expands may
 *	reach many destinations. Each of them is logged with its own
 *	address, and the queue file recipient as orig_to (Postfix's
 *	"to=<member>, orig_to=<list>"). A deferred destination writes a
 *	defer note; a bounced one a bounce note for its own address, so
 *	that the notice names the member that failed. The queue file
 *	recipient is settled once, by local_finish(): when any destination
 *	was deferred it stays as it is (the whole expansion is tried
 *	again later, as Postfix does); otherwise it is marked DONE, and
 *	reported to qmgr as sent, or bounced when nothing was delivered.
 *	A crash before the DONE mark repeats deliveries; it never loses one.
 *
 *	local_outcome() calls one of the three according to a
 *	MAILBOX_OK/DEFER/BOUNCE result. All return the MAILBOX_* code of
 *	the outcome recorded (a bounce whose note could not be written is
 *	recorded as a deferral).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "address.h"
#include "deliver_status.h"
#include "local.h"
#include "mailbox_copy.h"
#include "msg.h"
#include "rec.h"

/* local_top_orig - what the log calls orig_to for an expanded destination */
static const char *local_top_orig(const LOCAL_STATE *state)
{
    const DELIVER_RCPT *rcpt = state->req->rcpt + state->index;

    return *rcpt->orig ? rcpt->orig : rcpt->address;
}

/* local_clean - one printable line */
static void local_clean(VSTRING *buf)
{
    for (char *cp = vstring_str(buf); *cp; cp++)
        if ((unsigned char)*cp < 0x20 || *cp == 0x7f)
            *cp = ' ';
    vstring_trim_right(buf);
}

/* local_dsn - "X.Y.Z" with the class the outcome needs */
static void local_dsn(VSTRING *out, const char *dsn, char class)
{
    if (dsn && strlen(dsn) >= 5 && strlen(dsn) <= 11 && dsn[1] == '.' &&
        strspn(dsn + 2, "0123456789.") == strlen(dsn + 2))
        vstring_sprintf(out, "%c%s", class, dsn + 1);
    else
        vstring_sprintf(out, "%c.0.0", class);
}

/* local_log - the status line of an expanded destination */
static void local_log(LOCAL_STATE *state, const char *to, const char *dsn, const char *status,
                      const char *reason)
{
    deliver_log_line(state->req, to, local_top_orig(state), LOCAL_RELAY, dsn, status, reason);
}

/* local_note - a defer or bounce note for an expanded destination */
static int local_note(LOCAL_STATE *state, const char *to, const char *dir, const char *dsn,
                      const char *action, const char *reason)
{
    const DELIVER_RCPT *rcpt = state->req->rcpt + state->index;
    DELIVER_NOTE note;

    note.recipient = (char *)to;
    note.orig_recipient = (char *)local_top_orig(state);
    note.offset = rcpt->offset;
    note.notify = rcpt->notify;
    note.orcpt = rcpt->orcpt;
    note.status = (char *)dsn;
    note.action = (char *)action;
    note.reason = (char *)reason;
    note.relay = (char *)LOCAL_RELAY;
    note.time = time(NULL);
    return deliver_note_append(state->req, dir, &note);
}

/* local_record - record one outcome */
static int local_record(LOCAL_STATE *state, const LOCAL_ATTR *attr, int outcome, const char *dsn,
                        const char *fmt, va_list ap)
{
    VSTRING *reason = vstring_alloc(100);
    VSTRING *code = vstring_alloc(10);
    int i = state->index;

    vstring_vsprintf_append(reason, fmt, ap);
    local_clean(reason);

    if (attr->level == 0) {
        /* the queue file recipient itself: one outcome, through deliver_status */
        state->direct = 1;
        if (outcome == MAILBOX_OK) {
            (void)deliver_sent(state->req, i, LOCAL_RELAY, dsn, "%s", vstring_str(reason));
            state->sent++;
        } else if (outcome == MAILBOX_BOUNCE && deliver_bounce(state->req, i, LOCAL_RELAY, dsn,
                                                               "%s", vstring_str(reason)) == 0) {
            state->bounced++;
        } else {
            if (outcome != MAILBOX_BOUNCE)
                (void)deliver_defer(state->req, i, LOCAL_RELAY, dsn, "%s", vstring_str(reason));
            outcome = state->req->rcpt[i].result == DELIVER_RESULT_BOUNCED ? MAILBOX_BOUNCE
                                                                           : MAILBOX_DEFER;
            if (outcome == MAILBOX_BOUNCE)
                state->bounced++;
            else
                state->deferred++;
        }
    } else if (outcome == MAILBOX_OK) {
        local_dsn(code, dsn, '2');
        local_log(state, attr->recipient, vstring_str(code), "sent", vstring_str(reason));
        state->sent++;
    } else if (outcome == MAILBOX_BOUNCE) {
        local_dsn(code, dsn, '5');
        if (local_note(state, attr->recipient, BOUNCE_LOG_DIR, vstring_str(code),
                       DELIVER_ACTION_FAILED, vstring_str(reason)) == 0) {
            local_log(state, attr->recipient, vstring_str(code), "bounced", vstring_str(reason));
            state->bounced++;
        } else {
            outcome = MAILBOX_DEFER;
            dsn = "4.3.0";
        }
    }
    if (attr->level > 0 && outcome == MAILBOX_DEFER) {
        local_dsn(code, dsn, '4');
        (void)local_note(state, attr->recipient, DEFER_LOG_DIR, vstring_str(code),
                         DELIVER_ACTION_DELAYED, vstring_str(reason));
        local_log(state, attr->recipient, vstring_str(code), "deferred", vstring_str(reason));
        state->deferred++;
    }
    vstring_free(reason);
    vstring_free(code);
    return outcome;
}

int local_sent(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *dsn, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = local_record(state, attr, MAILBOX_OK, dsn, fmt, ap);
    va_end(ap);
    return rc;
}

int local_defer(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *dsn, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = local_record(state, attr, MAILBOX_DEFER, dsn, fmt, ap);
    va_end(ap);
    return rc;
}

int local_bounce(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *dsn, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = local_record(state, attr, MAILBOX_BOUNCE, dsn, fmt, ap);
    va_end(ap);
    return rc;
}

int local_outcome(LOCAL_STATE *state, const LOCAL_ATTR *attr, int mailbox_status, const char *dsn,
                  const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = local_record(state, attr, mailbox_status, dsn, fmt, ap);
    va_end(ap);
    return rc;
}

void local_finish(LOCAL_STATE *state)
{
    DELIVER_REQUEST *req = state->req;
    DELIVER_RCPT *rcpt = req->rcpt + state->index;
    VSTREAM *fp;

    if (state->direct)
        return;
    if (state->deferred > 0) {
        rcpt->result = DELIVER_RESULT_DEFERRED;
        return;
    }
    fp = deliver_request_open(req);
    if (fp == NULL || rec_mark_done(fp, rcpt->offset) < 0)
        msg_warn("%s: cannot mark recipient %s done in the queue file: it may be delivered again",
                 req->queue_id, rcpt->address);
    rcpt->result =
        state->sent > 0 || state->bounced == 0 ? DELIVER_RESULT_SENT : DELIVER_RESULT_BOUNCED;
}
