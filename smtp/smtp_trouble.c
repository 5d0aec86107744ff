/*
 * NAME
 *	smtp_trouble - recipient outcomes of the SMTP/LMTP client
 * SYNOPSIS
 *	#include "smtp.h"
 *
 *	int smtp_rcpt_pending(SMTP_STATE *state, int i)
 *	int smtp_pending_count(SMTP_STATE *state)
 *	void smtp_rcpt_sent(SMTP_STATE *state, int i, const SMTP_REPLY *reply)
 *	void smtp_rcpt_fail(SMTP_STATE *state, int i, const char *relay,
 *			    const char *dsn, const char *fmt, ...)
 *	void smtp_all_fail(SMTP_STATE *state, const char *relay,
 *			   const char *dsn, const char *fmt, ...)
 *	void smtp_rcpt_reply_fail(SMTP_STATE *state, int i,
 *				  const SMTP_REPLY *reply, const char *command)
 *	void smtp_all_reply_fail(SMTP_STATE *state, const SMTP_REPLY *reply,
 *				 const char *command)
 *	void smtp_finish(SMTP_STATE *state)
 * DESCRIPTION
 *	A recipient is pending while it has no outcome. Permanent failures
 *	(dsn class 5) are final at once: deliver_bounce() logs them and
 *	writes the bounce note. Temporary failures (class 4) are only
 *	recorded, because another server of the destination (the next MX
 *	host, the next address, a fallback relay) may still take the
 *	recipient; smtp_finish() defers every recipient that is still
 *	pending when no server is left, with the last reason recorded.
 *	So the server's own words reach the log and the notices, and a
 *	recipient gets exactly one outcome per request.
 *
 *	smtp_rcpt_sent() is called only after the server's final 2xx: the
 *	reply to the end of the content (SMTP), or the recipient's own
 *	reply after it (LMTP).
 *
 *	The _reply_ variants build Postfix's text "host NAME[ADDR] said:
 *	REPLY (in reply to COMMAND command)" from the current session,
 *	with the reply's status code.
 */
#include <stdarg.h>
#include <string.h>

#include "deliver_status.h"
#include "msg.h"
#include "smtp.h"

int smtp_rcpt_pending(SMTP_STATE *state, int i)
{
    return state->req->rcpt[i].result == DELIVER_RESULT_NONE;
}

int smtp_pending_count(SMTP_STATE *state)
{
    int n = 0;

    for (int i = 0; i < state->req->rcpt_count; i++)
        n += smtp_rcpt_pending(state, i);
    return n;
}

void smtp_rcpt_sent(SMTP_STATE *state, int i, const SMTP_REPLY *reply)
{
    if (!smtp_rcpt_pending(state, i))
        msg_panic("smtp_rcpt_sent: recipient %d already has an outcome", i);
    (void)deliver_sent(state->req, i, vstring_str(state->session->relay), reply->dsn, "%s",
                       vstring_str(reply->text));
}

/* smtp_rcpt_vfail - bounce now, or record a temporary failure */

static void smtp_rcpt_vfail(SMTP_STATE *state, int i, const char *relay, const char *dsn,
                            const char *text)
{
    SMTP_RCPT_STATE *rs = state->rcpt + i;

    if (!smtp_rcpt_pending(state, i))
        return;
    if (dsn[0] == '5') {
        (void)deliver_bounce(state->req, i, relay, dsn, "%s", text);
        return;
    }
    rs->soft = 1;
    strncpy(rs->dsn, dsn, sizeof(rs->dsn) - 1);
    rs->dsn[sizeof(rs->dsn) - 1] = 0;
    vstring_strcpy(rs->why, text);
    vstring_strcpy(rs->relay, relay);
}

void smtp_rcpt_fail(SMTP_STATE *state, int i, const char *relay, const char *dsn, const char *fmt,
                    ...)
{
    va_list ap;

    va_start(ap, fmt);
    vstring_reset(state->why);
    vstring_vsprintf_append(state->why, fmt, ap);
    va_end(ap);
    smtp_rcpt_vfail(state, i, relay, dsn, vstring_str(state->why));
}

void smtp_all_fail(SMTP_STATE *state, const char *relay, const char *dsn, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vstring_reset(state->why);
    vstring_vsprintf_append(state->why, fmt, ap);
    va_end(ap);
    for (int i = 0; i < state->req->rcpt_count; i++)
        smtp_rcpt_vfail(state, i, relay, dsn, vstring_str(state->why));
}

/* smtp_reply_why - "host NAME[ADDR] said: ... (in reply to X command)" */

static const char *smtp_reply_why(SMTP_STATE *state, const SMTP_REPLY *reply, const char *command)
{
    SMTP_SESSION *session = state->session;

    vstring_sprintf(state->why, "host %s[%s] said: %s (in reply to %s command)", session->host,
                    session->addr, vstring_str(reply->text), command);
    return vstring_str(state->why);
}

void smtp_rcpt_reply_fail(SMTP_STATE *state, int i, const SMTP_REPLY *reply, const char *command)
{
    smtp_rcpt_vfail(state, i, vstring_str(state->session->relay), reply->dsn,
                    smtp_reply_why(state, reply, command));
}

void smtp_all_reply_fail(SMTP_STATE *state, const SMTP_REPLY *reply, const char *command)
{
    const char *why = smtp_reply_why(state, reply, command);

    for (int i = 0; i < state->req->rcpt_count; i++)
        smtp_rcpt_vfail(state, i, vstring_str(state->session->relay), reply->dsn, why);
}

void smtp_finish(SMTP_STATE *state)
{
    for (int i = 0; i < state->req->rcpt_count; i++) {
        SMTP_RCPT_STATE *rs = state->rcpt + i;

        if (!smtp_rcpt_pending(state, i))
            continue;
        if (rs->soft)
            (void)deliver_defer(state->req, i, vstring_str(rs->relay), rs->dsn, "%s",
                                vstring_str(rs->why));
        else
            (void)deliver_defer(state->req, i, "none", "4.3.0",
                                "delivery temporarily suspended: no server was tried");
    }
}
