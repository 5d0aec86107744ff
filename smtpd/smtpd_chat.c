/*
 * NAME
 *	smtpd_chat - SMTP server conversation: commands in, replies out
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	int smtpd_chat_query(SMTPD_STATE *state)
 *	void smtpd_chat_reply(SMTPD_STATE *state, const char *fmt, ...)
 *	void smtpd_chat_text(SMTPD_STATE *state, const char *reply)
 *	void smtpd_chat_multi(SMTPD_STATE *state, int code, char **lines,
 *			int count)
 *	void smtpd_chat_lost(SMTPD_STATE *state, int status)
 *	void smtpd_chat_bare_lf(SMTPD_STATE *state)
 *	int smtpd_chat_pending(SMTPD_STATE *state)
 *	void smtpd_chat_pipelining(SMTPD_STATE *state)
 *	void smtpd_chat_disconnect_log(SMTPD_STATE *state)
 *	void smtpd_log_reject(SMTPD_STATE *state, const char *kind,
 *			const char *what, const char *reply, const char *rcpt)
 * DESCRIPTION
 *	smtpd_chat_query() reads one command line of at most
 *	$line_length_limit bytes into state->buffer, without its line end.
 *	It returns SMTPD_READ_OK; SMTPD_READ_TOO_LONG when the line was
 *	longer (the rest of it has been read and dropped, up to a bound
 *	beyond which the session is marked for disconnection);
 *	SMTPD_READ_BARE_LF when the line ended in a bare LF and this client
 *	may not do that; SMTPD_READ_EOF or SMTPD_READ_TIMEOUT.
 *
 *	smtpd_chat_reply() formats a one-line reply ("250 2.1.0 Ok") and
 *	smtpd_chat_text() sends one as given; smtpd_chat_multi() sends a
 *	multi-line reply (EHLO). Replies are buffered: they leave when the
 *	client has no more pipelined input for us (vstream flushes before
 *	any read that has to wait), which is the RFC 2920 rule. Every 4xx
 *	or 5xx reply counts as an error; once the client has made more than
 *	$smtpd_soft_error_limit of them each such reply waits
 *	$smtpd_error_sleep_time first. Control characters in a reply (from
 *	an access table, say) become spaces, and a reply is cut at 510 bytes
 *	(RFC 5321 4.5.3.1.5).
 *
 *	smtpd_chat_lost() logs a lost connection or a timeout (with the
 *	421 4.4.2 reply for the latter), naming the command in progress
 *	as Postfix does ("timeout after DATA (1234 bytes) from ...").
 *	smtpd_chat_bare_lf() refuses a bare LF and ends the session.
 *
 *	smtpd_chat_pending() tells whether client input is waiting (in the
 *	stream buffer or on the socket). smtpd_chat_pipelining() handles
 *	improper pipelining: it notes it for reject_unauth_pipelining and,
 *	with $smtpd_forbid_unauth_pipelining, logs the unexpected input,
 *	replies 554 5.5.0 and ends the session.
 *
 *	smtpd_chat_disconnect_log() writes the "disconnect from ..." line
 *	with per-command counts ("rcpt=0/1" when one of one failed).
 *	smtpd_log_reject() writes "QUEUEID: reject: RCPT from host[addr]:
 *	reply; from=<...> to=<...> proto=ESMTP helo=<...>" (NOQUEUE before
 *	there is a queue file; kind may be "reject_warning").
 */
#include <string.h>
#include <unistd.h>

#include "iostuff.h"
#include "mail_params.h"
#include "msg.h"
#include "smtpd.h"
#include "vstream.h"
#include "vstring.h"

#define SMTPD_REPLY_MAX 510          /* RFC 5321 4.5.3.1.5, without CR LF */
#define SMTPD_SKIP_FACTOR 64         /* most line_length_limits skipped of one line */
#define SMTPD_PIPE_LOG_MAX 100       /* bytes of unexpected input logged */

/* the disconnect line's counters, in Postfix's order */
static const struct {
    const char *name;
    int stat;
} smtpd_stat_order[] = {
    {"helo", SMTPD_STAT_HELO},   {"ehlo", SMTPD_STAT_EHLO},
    {"starttls", SMTPD_STAT_STARTTLS}, {"auth", SMTPD_STAT_AUTH},
    {"mail", SMTPD_STAT_MAIL},   {"rcpt", SMTPD_STAT_RCPT},
    {"data", SMTPD_STAT_DATA},   {"bdat", SMTPD_STAT_BDAT},
    {"rset", SMTPD_STAT_RSET},   {"noop", SMTPD_STAT_NOOP},
    {"vrfy", SMTPD_STAT_VRFY},   {"help", SMTPD_STAT_HELP},
    {"quit", SMTPD_STAT_QUIT},   {"unknown", SMTPD_STAT_UNKNOWN},
};

#define SMTPD_STAT_SHOWN ((int) (sizeof(smtpd_stat_order) / sizeof(smtpd_stat_order[0])))

int smtpd_chat_query(SMTPD_STATE *state)
{
    VSTREAM *fp = state->client;
    VSTRING *buf = state->buffer;
    size_t limit = (size_t) var_line_length_limit;
    int ch = vstream_get_line(fp, buf, limit);

    if (ch == VSTREAM_EOF)
        return vstream_ftimeout(fp) ? SMTPD_READ_TIMEOUT : SMTPD_READ_EOF;
    if (ch != '\n') {
        if (vstream_feof(fp) || vstream_ferror(fp))
            return vstream_ftimeout(fp) ? SMTPD_READ_TIMEOUT : SMTPD_READ_EOF;
        /* too long: drop the rest of the line, within bounds */
        for (int n = 0; ch != '\n'; n++) {
            if (n >= SMTPD_SKIP_FACTOR) {
                state->disconnect = 1;
                break;
            }
            ch = vstream_get_line(fp, state->why, limit);
            if (ch == VSTREAM_EOF || vstream_feof(fp) || vstream_ferror(fp))
                return vstream_ftimeout(fp) ? SMTPD_READ_TIMEOUT : SMTPD_READ_EOF;
        }
        vstring_reset(buf);
        return SMTPD_READ_TOO_LONG;
    }
    size_t len = vstring_len(buf);

    if (len >= 2 && vstring_str(buf)[len - 2] == '\r') {
        vstring_truncate(buf, len - 2);
        state->prev_crlf = 1;
    } else {
        vstring_truncate(buf, len - 1);
        state->prev_crlf = 0;
        if (state->lf_mode == SMTPD_TEXT_LF_REJECT)
            return SMTPD_READ_BARE_LF;
    }
    return SMTPD_READ_OK;
}

void smtpd_chat_text(SMTPD_STATE *state, const char *reply)
{
    char line[SMTPD_REPLY_MAX + 3];
    size_t len = strlen(reply);

    if (len > SMTPD_REPLY_MAX)
        len = SMTPD_REPLY_MAX;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) reply[i];

        line[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char) c;
    }
    if (reply[0] == '4' || reply[0] == '5') {
        if (++state->error_count > var_smtpd_soft_error_limit && var_smtpd_error_sleep_time > 0) {
            vstream_fflush(state->client);
            sleep((unsigned) var_smtpd_error_sleep_time);
        }
    }
    line[len] = '\r';
    line[len + 1] = '\n';
    vstream_fwrite(state->client, line, len + 2);
    if (msg_verbose)
        msg_info("> %s: %.*s", state->namaddr, (int) len, line);
}

void smtpd_chat_reply(SMTPD_STATE *state, const char *fmt, ...)
{
    static VSTRING *buf;
    va_list ap;

    if (buf == NULL)
        buf = vstring_alloc(100);
    vstring_reset(buf);
    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    smtpd_chat_text(state, vstring_str(buf));
}

void smtpd_chat_multi(SMTPD_STATE *state, int code, char **lines, int count)
{
    for (int i = 0; i < count; i++) {
        vstream_fprintf(state->client, "%d%c%s\r\n", code, i + 1 < count ? '-' : ' ', lines[i]);
        if (msg_verbose)
            msg_info("> %s: %d%c%s", state->namaddr, code, i + 1 < count ? '-' : ' ', lines[i]);
    }
}

/* smtpd_chat_where - "DATA (123 bytes)" or the command name */

static const char *smtpd_chat_where(SMTPD_STATE *state, VSTRING *buf)
{
    if (strcmp(state->where, "DATA") == 0 || strcmp(state->where, "BDAT") == 0)
        vstring_sprintf(buf, "%s (%lld bytes)", state->where, (long long) state->act_size);
    else
        vstring_strcpy(buf, state->where);
    return vstring_str(buf);
}

void smtpd_chat_lost(SMTPD_STATE *state, int status)
{
    VSTRING *where = vstring_alloc(50);

    if (status == SMTPD_READ_TIMEOUT) {
        vstream_clearerr(state->client);
        smtpd_chat_reply(state, "421 4.4.2 %s Error: timeout exceeded", var_myhostname);
        vstream_fflush(state->client);
        msg_info("timeout after %s from %s", smtpd_chat_where(state, where), state->namaddr);
    } else {
        msg_info("lost connection after %s from %s", smtpd_chat_where(state, where),
                 state->namaddr);
    }
    vstring_free(where);
    state->disconnect = 1;
}

void smtpd_chat_bare_lf(SMTPD_STATE *state)
{
    VSTRING *where = vstring_alloc(50);

    msg_info("bare <LF> received after %s from %s", smtpd_chat_where(state, where),
             state->namaddr);
    smtpd_chat_reply(state, "%ld 5.5.2 Error: bare <LF> received",
                     var_smtpd_forbid_bare_newline_reject_code);
    vstring_free(where);
    state->disconnect = 1;
}

int smtpd_chat_pending(SMTPD_STATE *state)
{
    return vstream_bufferred(state->client) > 0 || smtpd_tls_pending(state) > 0
           || readable(vstream_fileno(state->client));
}

void smtpd_chat_pipelining(SMTPD_STATE *state)
{
    VSTRING *input;
    VSTRING *shown;

    state->bad_pipelining = 1;
    if (!var_smtpd_forbid_unauth_pipelining)
        return;
    input = vstring_alloc(SMTPD_PIPE_LOG_MAX + 1);
    shown = vstring_alloc(SMTPD_PIPE_LOG_MAX * 2);
    vstream_set_timeout(state->client, 1);
    (void) vstream_get_line(state->client, input, SMTPD_PIPE_LOG_MAX);
    vstream_clearerr(state->client);
    vstream_set_timeout(state->client, (int) var_smtpd_timeout);
    for (size_t i = 0; i < vstring_len(input); i++) {
        unsigned char c = (unsigned char) vstring_str(input)[i];

        if (c == '\r')
            vstring_strcat(shown, "\\r");
        else if (c == '\n')
            vstring_strcat(shown, "\\n");
        else if (c < 0x20 || c >= 0x7f)
            vstring_sprintf_append(shown, "\\x%02x", c);
        else
            vstring_addch(shown, (char) c);
    }
    msg_info("improper command pipelining after %s from %s: %s", state->where, state->namaddr,
             vstring_str(shown));
    smtpd_chat_reply(state, "554 5.5.0 Error: SMTP protocol synchronization");
    vstring_free(input);
    vstring_free(shown);
    state->disconnect = 1;
}

void smtpd_chat_disconnect_log(SMTPD_STATE *state)
{
    VSTRING *buf = vstring_alloc(200);
    int ok = 0, total = 0;

    vstring_sprintf(buf, "disconnect from %s", state->namaddr);
    for (int i = 0; i < SMTPD_STAT_SHOWN; i++) {
        int stat = smtpd_stat_order[i].stat;
        int n_ok, n_total;

        if (stat >= SMTPD_STAT_COUNT) {
            n_ok = state->stat_ok_tls_auth[stat - SMTPD_STAT_COUNT];
            n_total = state->stat_total_tls_auth[stat - SMTPD_STAT_COUNT];
        } else {
            n_ok = state->stat_ok[stat];
            n_total = state->stat_total[stat];
        }
        if (n_total == 0)
            continue;
        ok += n_ok;
        total += n_total;
        if (n_ok == n_total)
            vstring_sprintf_append(buf, " %s=%d", smtpd_stat_order[i].name, n_ok);
        else
            vstring_sprintf_append(buf, " %s=%d/%d", smtpd_stat_order[i].name, n_ok, n_total);
    }
    if (ok == total)
        vstring_sprintf_append(buf, " commands=%d", ok);
    else
        vstring_sprintf_append(buf, " commands=%d/%d", ok, total);
    msg_info("%s", vstring_str(buf));
    vstring_free(buf);
}

void smtpd_log_reject(SMTPD_STATE *state, const char *kind, const char *what, const char *reply,
                      const char *rcpt)
{
    VSTRING *buf = vstring_alloc(200);

    vstring_sprintf(buf, "%s: %s: %s from %s: %s;", state->queue_id ? state->queue_id : "NOQUEUE",
                    kind, what, state->namaddr, reply);
    if (state->in_mail)
        vstring_sprintf_append(buf, " from=<%s>", state->sender);
    if (rcpt)
        vstring_sprintf_append(buf, " to=<%s>", rcpt);
    vstring_sprintf_append(buf, " proto=%s", state->protocol);
    if (state->helo_name)
        vstring_sprintf_append(buf, " helo=<%s>", state->helo_name);
    msg_info("%s", vstring_str(buf));
    vstring_free(buf);
}
