/*
 * NAME
 *	smtp_proto - the SMTP/LMTP conversation
 * SYNOPSIS
 *	#include "smtp.h"
 *
 *	int smtp_helo(SMTP_STATE *state)
 *	int smtp_xfer(SMTP_STATE *state)
 *	int smtp_send(SMTP_SESSION *session, const char *cmd, int flush,
 *			long timeout)
 *	int smtp_read(SMTP_SESSION *session, SMTP_REPLY *reply, long timeout)
 *	void smtp_lost(SMTP_STATE *state, const char *stage, int rc)
 * DESCRIPTION
 *	smtp_helo() reads the server's greeting on the new session in
 *	state->session and introduces the client: EHLO (HELO when EHLO is
 *	refused, or only HELO with smtp_never_send_ehlo), or LHLO for LMTP.
 *	It learns the server's extensions from the reply. With implicit
 *	TLS the handshake comes first (smtp_tls_wrapper()); after EHLO come
 *	STARTTLS and a second EHLO over TLS (smtp_tls_starttls()), then
 *	AUTH (smtp_sasl_auth()). Returns
 *	SMTP_SESSION_OK, or SMTP_SESSION_NEXT after recording a temporary
 *	failure for every pending recipient (the caller closes the session
 *	and tries the next server), or SMTP_SESSION_STOP after a permanent
 *	one (a 5xx greeting with smtp_skip_5xx_greeting = no, a refused
 *	HELO).
 *
 *	smtp_xfer() runs one mail transaction for every pending recipient
 *	of state->req over state->session: MAIL FROM (with SIZE, BODY,
 *	SMTPUTF8, RET and ENVID as the server allows), one RCPT TO per
 *	recipient (NOTIFY, ORCPT), DATA, the content with dot-stuffing,
 *	and the final dot; content lines longer than $smtp_line_length_limit
 *	are broken with CRLF SPACE. With PIPELINING every command up to DATA goes
 *	out in one write and the replies are read afterwards, in order
 *	(RFC 2920); otherwise each command waits for its reply. Each reply
 *	is read under its own timeout (smtp_mail_timeout and so on).
 *	Before it starts, it refuses, for every pending recipient, what the
 *	server cannot take: a message larger than the server's SIZE
 *	(5.3.4), 8-bit content for a server without 8BITMIME (5.6.3; a
 *	message only declared 8-bit is sent as 7-bit when its content has
 *	no 8-bit byte), and an address that needs SMTPUTF8 for a server
 *	without it (5.6.7).
 *
 *	Recipient outcomes (smtp_trouble.c): a recipient is sent only
 *	after the 2xx reply to the final dot (SMTP) or its own 2xx reply
 *	after the dot (LMTP: one reply per accepted recipient, in RCPT
 *	order). A lost connection or a timeout before that leaves it with
 *	a temporary failure, never sent. When the session can carry no
 *	further transaction (I/O error, timeout, malformed reply, 421), it
 *	is marked broken. smtp_xfer() returns SMTP_XFER_DONE.
 *
 *	On a session taken from the connection cache (rset_pending),
 *	smtp_xfer() first sends RSET: with PIPELINING in the same write as
 *	MAIL FROM and the rest, otherwise alone. When RSET does not get a
 *	2xx reply, the session is marked broken and smtp_xfer() returns
 *	SMTP_XFER_STALE at once, with no outcome recorded from this server
 *	(it cannot have taken the message: the content was not sent), so
 *	that the caller can open a fresh connection.
 *
 *	smtp_send() queues one command line (flushed when flush is set)
 *	and smtp_read() reads one reply, each under the timeout given;
 *	both < 0 on failure (smtp_read() marks the session broken on 421).
 *	smtp_lost() records, for every pending recipient, that the
 *	connection failed (rc: SMTP_REPLY_BAD, or EOF/timeout) while doing
 *	stage ("sending MAIL FROM"), and marks the session broken.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "cleanup_proto.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"
#include "smtp.h"

/* what a step of the conversation was doing, for "while ..." texts */
#define SMTP_STAGE_GREETING "receiving the initial server greeting"
#define SMTP_STAGE_HELO "performing the %s handshake"
#define SMTP_STAGE_MAIL "sending MAIL FROM"
#define SMTP_STAGE_RCPT "sending RCPT TO"
#define SMTP_STAGE_DATA "sending DATA command"
#define SMTP_STAGE_BODY "sending message body"
#define SMTP_STAGE_DOT "sending end of data -- message may be sent more than once"

/* smtp_lost - the connection failed while doing stage */

void smtp_lost(SMTP_STATE *state, const char *stage, int rc)
{
    SMTP_SESSION *session = state->session;
    const char *relay = vstring_str(session->relay);

    session->broken = 1;
    if (rc == SMTP_REPLY_BAD)
        smtp_all_fail(state, relay, "4.4.2", "malformed reply from %s[%s] while %s: %s",
                      session->host, session->addr, stage, vstring_str(state->reply->text));
    else if (vstream_ftimeout(session->stream))
        smtp_all_fail(state, relay, "4.4.2", "conversation with %s[%s] timed out while %s",
                      session->host, session->addr, stage);
    else
        smtp_all_fail(state, relay, "4.4.2", "lost connection with %s[%s] while %s", session->host,
                      session->addr, stage);
}

/* smtp_read - read one reply under a timeout; < 0 on failure */

int smtp_read(SMTP_SESSION *session, SMTP_REPLY *reply, long timeout)
{
    int rc;

    vstream_set_timeout(session->stream, (int)timeout);
    rc = smtp_reply_read(session->stream, reply);
    if (rc == 421)
        session->broken = 1;
    if (msg_verbose)
        msg_info("< %s: %s", session->host, vstring_str(reply->text));
    return rc;
}

/* smtp_send - queue one command line; flush when asked */

int smtp_send(SMTP_SESSION *session, const char *cmd, int flush, long timeout)
{
    if (msg_verbose)
        msg_info("> %s: %s", session->host, cmd);
    vstream_set_timeout(session->stream, (int)timeout);
    if (vstream_fputs(cmd, session->stream) == VSTREAM_EOF ||
        vstream_fputs("\r\n", session->stream) == VSTREAM_EOF)
        return -1;
    if (flush && vstream_fflush(session->stream) == VSTREAM_EOF)
        return -1;
    return 0;
}

/* smtp_rset_reply - the reply to RSET on a reused session: 0 when good */

static int smtp_rset_reply(SMTP_SESSION *session, SMTP_REPLY *reply)
{
    int rc = smtp_read(session, reply, smtp_params.rset_timeout);

    session->rset_pending = 0;
    if (rc >= 200 && rc < 300)
        return 0;
    session->broken = 1;
    return -1;
}

/* smtp_greeting_fail - the server will not talk: record it for everyone */

static int smtp_refused(SMTP_STATE *state, int soft)
{
    SMTP_SESSION *session = state->session;
    SMTP_REPLY *reply = state->reply;
    char dsn[SMTP_DSN_MAX];

    strcpy(dsn, reply->dsn);
    if (soft)
        dsn[0] = '4';
    smtp_all_fail(state, vstring_str(session->relay), dsn, "host %s[%s] refused to talk to me: %s",
                  session->host, session->addr, vstring_str(reply->text));
    return soft ? SMTP_SESSION_NEXT : SMTP_SESSION_STOP;
}

/* smtp_hello - EHLO (HELO), or LHLO; learn the server's extensions */

static int smtp_hello(SMTP_STATE *state)
{
    SMTP_SESSION *session = state->session;
    SMTP_REPLY *reply = state->reply;
    VSTRING *stage = state->buf;
    const char *cmd;
    int rc;

    cmd = smtp_params.lmtp ? "LHLO" : smtp_params.never_ehlo ? "HELO" : "EHLO";
    for (;;) {
        vstring_sprintf(stage, SMTP_STAGE_HELO, cmd);
        vstring_sprintf(state->why, "%s %s", cmd, smtp_params.helo_name);
        if (smtp_send(session, vstring_str(state->why), 1, smtp_params.helo_timeout) < 0 ||
            (rc = smtp_read(session, reply, smtp_params.helo_timeout)) < 0) {
            smtp_lost(state, vstring_str(stage), rc == SMTP_REPLY_BAD ? rc : SMTP_REPLY_EOF);
            return SMTP_SESSION_NEXT;
        }
        if (rc >= 200 && rc < 300)
            break;
        if (strcmp(cmd, "EHLO") == 0 && rc != 421) {
            cmd = "HELO"; /* an old server: try HELO */
            continue;
        }
        session->broken = 1;
        smtp_all_reply_fail(state, reply, cmd);
        return rc < 500 ? SMTP_SESSION_NEXT : SMTP_SESSION_STOP;
    }
    session->features = 0;
    session->size_limit = 0;
    if (strcmp(cmd, "HELO") != 0)
        session->features =
            smtp_reply_ehlo(reply, smtp_params.discard_keywords, &session->size_limit);
    if (session->features & SMTP_FEATURE_AUTH)
        smtp_sasl_mechs(session, reply);
    else if (session->auth_mechs)
        vstring_reset(session->auth_mechs);
    if (msg_verbose)
        msg_info("%s: features 0x%x size limit %llu", session->host, session->features,
                 session->size_limit);
    return SMTP_SESSION_OK;
}

int smtp_helo(SMTP_STATE *state)
{
    SMTP_SESSION *session = state->session;
    SMTP_REPLY *reply = state->reply;
    int rc;

    /* implicit TLS comes before the greeting */
    if ((rc = smtp_tls_wrapper(state)) != SMTP_SESSION_OK)
        return rc;

    /* the greeting */
    rc = smtp_read(session, reply, smtp_params.helo_timeout);
    if (rc < 0) {
        smtp_lost(state, SMTP_STAGE_GREETING, rc);
        return SMTP_SESSION_NEXT;
    }
    if (rc >= 400 || rc < 200) {
        session->broken = 1;
        return smtp_refused(state,
                            rc < 500 || (!smtp_params.lmtp && smtp_params.skip_5xx_greeting));
    }

    /* EHLO, LHLO or HELO; STARTTLS and EHLO again (RFC 3207); AUTH */
    if ((rc = smtp_hello(state)) != SMTP_SESSION_OK)
        return rc;
    if (session->tls == NULL) {
        if ((rc = smtp_tls_starttls(state)) != SMTP_SESSION_OK)
            return rc;
        if (session->tls != NULL && (rc = smtp_hello(state)) != SMTP_SESSION_OK)
            return rc;
    }
    return smtp_sasl_auth(state);
}

/* smtp_has_8bit - does text hold a byte over 127? */

static int smtp_has_8bit(const char *text)
{
    for (; *text; text++)
        if ((unsigned char)*text & 0x80)
            return 1;
    return 0;
}

/* smtp_content_8bit - does the message content hold an 8-bit byte? (cached) */

static int smtp_content_8bit(SMTP_STATE *state)
{
    int type;

    if (state->content_8bit >= 0)
        return state->content_8bit;
    state->content_8bit = 0;
    if (state->content_read)
        deliver_request_rewind(state->req);
    while ((type = deliver_request_content(state->req, state->buf)) > 0) {
        for (size_t i = 0; i < vstring_len(state->buf); i++) {
            if ((unsigned char)vstring_str(state->buf)[i] & 0x80) {
                state->content_8bit = 1;
                break;
            }
        }
        if (state->content_8bit)
            break;
    }
    if (type < 0)
        state->content_8bit = 1; /* unreadable: do not claim 7-bit */
    deliver_request_rewind(state->req);
    state->content_read = 0;
    return state->content_8bit;
}

/* smtp_xtext - RFC 3461 xtext encoding */

static void smtp_xtext(VSTRING *out, const char *text)
{
    for (const unsigned char *cp = (const unsigned char *)text; *cp; cp++) {
        if (*cp < '!' || *cp > '~' || *cp == '+' || *cp == '=')
            vstring_sprintf_append(out, "+%02X", *cp);
        else
            vstring_addch(out, *cp);
    }
}

/* smtp_path - "<address>" in the form the server gets; -1 when impossible */

static int smtp_path(VSTRING *out, const char *addr)
{
    VSTRING *tmp;

    vstring_addch(out, '<');
    if (*addr) {
        if (!smtp_params.quote_821) {
            for (const char *cp = addr; *cp; cp++)
                if ((unsigned char)*cp < ' ' || *cp == 0x7f)
                    return -1;
            vstring_strcat(out, addr);
        } else {
            tmp = vstring_alloc(100);
            if (address_quote(tmp, addr) < 0) {
                vstring_free(tmp);
                return -1;
            }
            vstring_strcat(out, vstring_str(tmp));
            vstring_free(tmp);
        }
    }
    vstring_addch(out, '>');
    return 0;
}

/* smtp_precheck - refuse what this server cannot take; return pending count */

static int smtp_precheck(SMTP_STATE *state, int *use_utf8)
{
    DELIVER_REQUEST *req = state->req;
    SMTP_SESSION *session = state->session;
    const char *relay = vstring_str(session->relay);
    int server_utf8 = (session->features & SMTP_FEATURE_SMTPUTF8) != 0;

    if ((session->features & SMTP_FEATURE_SIZE) && session->size_limit > 0 &&
        (unsigned long long)req->data_size > session->size_limit)
        smtp_all_fail(state, relay, "5.3.4",
                      "message size %ld exceeds size limit %llu of server %s[%s]", req->data_size,
                      session->size_limit, session->host, session->addr);
    if (strcasecmp(req->encoding, "8bit") == 0 && !(session->features & SMTP_FEATURE_8BITMIME) &&
        smtp_pending_count(state) > 0 && smtp_content_8bit(state))
        smtp_all_fail(state, relay, "5.6.3",
                      "host %s[%s] does not support 8BITMIME, and the message content is 8-bit",
                      session->host, session->addr);
    *use_utf8 = server_utf8 && req->smtputf8;
    if (smtp_has_8bit(req->sender)) {
        if (!server_utf8)
            smtp_all_fail(state, relay, "5.6.7",
                          "SMTPUTF8 is required, but was not offered by host %s[%s]", session->host,
                          session->addr);
        *use_utf8 = server_utf8;
    }
    for (int i = 0; i < req->rcpt_count; i++) {
        if (!smtp_rcpt_pending(state, i) || !smtp_has_8bit(req->rcpt[i].address))
            continue;
        if (!server_utf8)
            smtp_rcpt_fail(state, i, relay, "5.6.7",
                           "SMTPUTF8 is required, but was not offered by host %s[%s]",
                           session->host, session->addr);
        *use_utf8 = server_utf8;
    }
    return smtp_pending_count(state);
}

/* smtp_mail_cmd - the MAIL FROM command */

static int smtp_mail_cmd(SMTP_STATE *state, VSTRING *cmd, int use_utf8)
{
    DELIVER_REQUEST *req = state->req;
    int features = state->session->features;

    vstring_strcpy(cmd, "MAIL FROM:");
    if (smtp_path(cmd, req->sender) < 0)
        return -1;
    if (features & SMTP_FEATURE_SIZE)
        vstring_sprintf_append(cmd, " SIZE=%ld", req->data_size);
    if ((features & SMTP_FEATURE_8BITMIME) && strcasecmp(req->encoding, "8bit") == 0)
        vstring_strcat(cmd, " BODY=8BITMIME");
    if (use_utf8)
        vstring_strcat(cmd, " SMTPUTF8");
    if (features & SMTP_FEATURE_DSN) {
        if (*req->dsn_ret)
            vstring_sprintf_append(cmd, " RET=%s", req->dsn_ret);
        if (*req->dsn_envid) {
            vstring_strcat(cmd, " ENVID=");
            smtp_xtext(cmd, req->dsn_envid);
        }
    }
    return 0;
}

/* smtp_rcpt_cmd - one RCPT TO command */

static int smtp_rcpt_cmd(SMTP_STATE *state, int i, VSTRING *cmd)
{
    DELIVER_RCPT *rcpt = state->req->rcpt + i;

    vstring_strcpy(cmd, "RCPT TO:");
    if (smtp_path(cmd, rcpt->address) < 0)
        return -1;
    if (state->session->features & SMTP_FEATURE_DSN) {
        if (rcpt->notify & DSN_NOTIFY_NEVER) {
            vstring_strcat(cmd, " NOTIFY=NEVER");
        } else if (rcpt->notify & (DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY)) {
            const char *sep = " NOTIFY=";

            if (rcpt->notify & DSN_NOTIFY_SUCCESS) {
                vstring_sprintf_append(cmd, "%sSUCCESS", sep);
                sep = ",";
            }
            if (rcpt->notify & DSN_NOTIFY_FAILURE) {
                vstring_sprintf_append(cmd, "%sFAILURE", sep);
                sep = ",";
            }
            if (rcpt->notify & DSN_NOTIFY_DELAY)
                vstring_sprintf_append(cmd, "%sDELAY", sep);
        }
        if (*rcpt->orcpt)
            vstring_sprintf_append(cmd, " ORCPT=%s", rcpt->orcpt);
    }
    return 0;
}

/* smtp_put_piece - write part of a line, breaking it at the line length limit */

static int smtp_put_piece(VSTREAM *fp, const char *data, size_t len, size_t *col)
{
    size_t limit = (size_t)smtp_params.line_length_limit;
    size_t room;

    while (limit > 0 && *col + len > limit) {
        room = limit > *col ? limit - *col : 0;
        if ((room > 0 && vstream_fwrite(fp, data, room) != 0) ||
            vstream_fwrite(fp, "\r\n ", 3) != 0)
            return -1;
        data += room;
        len -= room;
        *col = 1;
    }
    if (len > 0 && vstream_fwrite(fp, data, len) != 0)
        return -1;
    *col += len;
    return 0;
}

/*
 * smtp_content - send the message content with dot-stuffing and CRLF line
 * ends, lines longer than the limit broken with CRLF SPACE. Returns 0, -1
 * on a write error (connection), -2 on a queue file read error.
 */
static int smtp_content(SMTP_STATE *state)
{
    VSTREAM *fp = state->session->stream;
    VSTRING *buf = state->buf;
    size_t col = 0;
    int type;

    vstream_set_timeout(fp, (int)smtp_params.data_xfer_timeout);
    if (state->content_read)
        deliver_request_rewind(state->req);
    state->content_read = 1;
    while ((type = deliver_request_content(state->req, buf)) > 0) {
        if (col == 0 && vstring_len(buf) > 0 && vstring_str(buf)[0] == '.') {
            if (vstream_putc('.', fp) == VSTREAM_EOF)
                return -1;
            col = 1; /* the stuffed dot counts */
        }
        if (smtp_put_piece(fp, vstring_str(buf), vstring_len(buf), &col) < 0)
            return -1;
        if (type == REC_TYPE_NORM) {
            if (vstream_fwrite(fp, "\r\n", 2) != 0)
                return -1;
            col = 0;
        }
    }
    if (type < 0)
        return -2;
    if (col > 0 && vstream_fwrite(fp, "\r\n", 2) != 0)
        return -1;
    if (vstream_fwrite(fp, ".\r\n", 3) != 0 || vstream_fflush(fp) == VSTREAM_EOF)
        return -1;
    return 0;
}

/* smtp_mail_reply - handle the reply to MAIL FROM; 0 when accepted */

static int smtp_mail_reply(SMTP_STATE *state, int rc)
{
    if (rc < 0) {
        smtp_lost(state, SMTP_STAGE_MAIL, rc);
        return -1;
    }
    if (rc >= 200 && rc < 300)
        return 0;
    smtp_all_reply_fail(state, state->reply, "MAIL FROM");
    return -1;
}

/* smtp_rcpt_reply - handle the reply to RCPT TO for recipient i; 1 if accepted */

static int smtp_rcpt_reply(SMTP_STATE *state, int i, int rc)
{
    if (rc < 0) {
        smtp_lost(state, SMTP_STAGE_RCPT, rc);
        return -1;
    }
    if (rc >= 200 && rc < 300)
        return 1;
    if (rc == 421) { /* the server is closing: for everyone */
        smtp_all_reply_fail(state, state->reply, "RCPT TO");
        return -1;
    }
    smtp_rcpt_reply_fail(state, i, state->reply, "RCPT TO");
    return 0;
}

/* smtp_bad_address - an address that cannot be written to the wire */

static void smtp_bad_address(SMTP_STATE *state, int i)
{
    const char *relay = vstring_str(state->session->relay);

    if (i < 0)
        smtp_all_fail(state, relay, "5.1.7", "bad sender address syntax");
    else
        smtp_rcpt_fail(state, i, relay, "5.1.3", "bad recipient address syntax");
}

int smtp_xfer(SMTP_STATE *state)
{
    DELIVER_REQUEST *req = state->req;
    SMTP_SESSION *session = state->session;
    SMTP_REPLY *reply = state->reply;
    int pipelined = (session->features & SMTP_FEATURE_PIPELINING) != 0;
    VSTRING *cmd = vstring_alloc(256);
    int *todo = mymalloc(sizeof(int) * (size_t)(req->rcpt_count + 1));
    int *accepted = mymalloc(sizeof(int) * (size_t)(req->rcpt_count + 1));
    int ntodo = 0;
    int naccepted = 0;
    int use_utf8;
    int rc;
    int mail_ok = 0;
    int data_rc = 0;
    int ret = SMTP_XFER_DONE;

    if (session->rset_pending && !pipelined) {
        if (smtp_send(session, "RSET", 1, smtp_params.rset_timeout) < 0 ||
            smtp_rset_reply(session, reply) < 0) {
            session->broken = 1;
            ret = SMTP_XFER_STALE;
            goto done;
        }
    }
    if (smtp_precheck(state, &use_utf8) == 0)
        goto done;
    if (smtp_mail_cmd(state, cmd, use_utf8) < 0) {
        smtp_bad_address(state, -1);
        goto done;
    }
    for (int i = 0; i < req->rcpt_count; i++)
        if (smtp_rcpt_pending(state, i))
            todo[ntodo++] = i;

    /* MAIL FROM, after RSET on a reused session */
    if (session->rset_pending && smtp_send(session, "RSET", 0, smtp_params.rset_timeout) < 0) {
        session->broken = 1;
        ret = SMTP_XFER_STALE;
        goto done;
    }
    if (smtp_send(session, vstring_str(cmd), !pipelined, smtp_params.mail_timeout) < 0) {
        if (session->rset_pending) { /* the write failed: the server is gone */
            session->broken = 1;
            ret = SMTP_XFER_STALE;
            goto done;
        }
        smtp_lost(state, SMTP_STAGE_MAIL, SMTP_REPLY_EOF);
        goto done;
    }
    if (!pipelined) {
        if (smtp_mail_reply(state, smtp_read(session, reply, smtp_params.mail_timeout)) < 0)
            goto done;
        mail_ok = 1;
    }

    /* RCPT TO, each */
    for (int k = 0; k < ntodo; k++) {
        int i = todo[k];

        if (smtp_rcpt_cmd(state, i, cmd) < 0) {
            smtp_bad_address(state, i);
            todo[k] = -1;
            continue;
        }
        if (smtp_send(session, vstring_str(cmd), !pipelined, smtp_params.rcpt_timeout) < 0) {
            if (session->rset_pending) { /* nothing reached a live server */
                session->broken = 1;
                ret = SMTP_XFER_STALE;
                goto done;
            }
            smtp_lost(state, SMTP_STAGE_RCPT, SMTP_REPLY_EOF);
            goto done;
        }
        if (!pipelined) {
            rc = smtp_rcpt_reply(state, i, smtp_read(session, reply, smtp_params.rcpt_timeout));
            if (rc < 0)
                goto done;
            if (rc > 0)
                accepted[naccepted++] = i;
        }
    }
    if (!pipelined && naccepted == 0)
        goto done;

    /* DATA */
    if (smtp_send(session, "DATA", 1, smtp_params.data_init_timeout) < 0) {
        if (session->rset_pending) { /* nothing reached a live server */
            session->broken = 1;
            ret = SMTP_XFER_STALE;
            goto done;
        }
        smtp_lost(state, pipelined ? SMTP_STAGE_MAIL : SMTP_STAGE_DATA, SMTP_REPLY_EOF);
        goto done;
    }
    if (pipelined) {
        if (session->rset_pending && smtp_rset_reply(session, reply) < 0) {
            ret = SMTP_XFER_STALE;
            goto done;
        }
        if (smtp_mail_reply(state, smtp_read(session, reply, smtp_params.mail_timeout)) == 0)
            mail_ok = 1;
        else if (session->broken)
            goto done;
        for (int k = 0; k < ntodo; k++) {
            if (todo[k] < 0)
                continue;
            rc = smtp_read(session, reply, smtp_params.rcpt_timeout);
            if (!mail_ok) { /* replies to a failed transaction: ignore */
                if (rc < 0) {
                    session->broken = 1;
                    goto done;
                }
                continue;
            }
            rc = smtp_rcpt_reply(state, todo[k], rc);
            if (rc < 0)
                goto done;
            if (rc > 0)
                accepted[naccepted++] = todo[k];
        }
    }
    data_rc = smtp_read(session, reply, smtp_params.data_init_timeout);
    if (data_rc < 0) {
        if (mail_ok)
            smtp_lost(state, SMTP_STAGE_DATA, data_rc);
        session->broken = 1;
        goto done;
    }
    if (data_rc != 354) {
        if (data_rc == 421)
            smtp_all_reply_fail(state, reply, "DATA");
        else if (mail_ok && naccepted > 0)
            for (int k = 0; k < naccepted; k++)
                smtp_rcpt_reply_fail(state, accepted[k], reply, "DATA");
        goto done;
    }
    if (!mail_ok || naccepted == 0) {
        /* the server wants content we have no recipient for: end it empty */
        if (smtp_send(session, ".", 1, smtp_params.data_xfer_timeout) < 0 ||
            smtp_read(session, reply, smtp_params.data_done_timeout) < 0)
            session->broken = 1;
        goto done;
    }

    /* the content */
    rc = smtp_content(state);
    if (rc == -2) {
        /* never send the final dot of a message we could not read */
        session->broken = 1;
        smtp_all_fail(state, "none", "4.3.0", "error reading the queue file");
        goto done;
    }
    if (rc < 0) {
        smtp_lost(state, SMTP_STAGE_BODY, SMTP_REPLY_EOF);
        goto done;
    }

    /* the replies to the final dot */
    for (int k = 0; k < (smtp_params.lmtp ? naccepted : 1); k++) {
        rc = smtp_read(session, reply, smtp_params.data_done_timeout);
        if (rc < 0) {
            smtp_lost(state, SMTP_STAGE_DOT, rc);
            goto done;
        }
        if (smtp_params.lmtp) {
            if (rc == 421) { /* the server is closing: for everyone left */
                smtp_all_reply_fail(state, reply, "end of DATA");
                goto done;
            }
            if (rc >= 200 && rc < 300)
                smtp_rcpt_sent(state, accepted[k], reply);
            else
                smtp_rcpt_reply_fail(state, accepted[k], reply, "end of DATA");
        } else {
            for (int j = 0; j < naccepted; j++) {
                if (rc >= 200 && rc < 300)
                    smtp_rcpt_sent(state, accepted[j], reply);
                else
                    smtp_rcpt_reply_fail(state, accepted[j], reply, "end of DATA");
            }
        }
    }

done:
    myfree(todo);
    myfree(accepted);
    vstring_free(cmd);
    return ret;
}
