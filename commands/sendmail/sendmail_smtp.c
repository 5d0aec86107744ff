/*
 * NAME
 *	sendmail_smtp - sendmail -bs: SMTP on standard input and output
 * SYNOPSIS
 *	#include "sendmail.h"
 *
 *	int sm_smtp(SM_ENVELOPE *defaults)
 * DESCRIPTION
 *	sm_smtp() speaks the server side of SMTP (RFC 5321) on standard
 *	input and output, for mail programs that submit through a pipe to
 *	"sendmail -bs", and queues each message it is given through
 *	postdrop(1), exactly like a message submitted with "sendmail": the
 *	submitting user is the one who runs sendmail, whatever the client
 *	says. (Postfix runs smtpd(8) for this; postern's smtpd serves
 *	sockets only, and a stand-alone submission needs none of its
 *	access controls, so sendmail has its own small reader.)
 *
 *	Commands: HELO, EHLO (PIPELINING, SIZE, 8BITMIME, DSN,
 *	ENHANCEDSTATUSCODES), MAIL FROM with SIZE, BODY, RET, ENVID,
 *	RCPT TO with NOTIFY and ORCPT, DATA, RSET, NOOP, QUIT; VRFY is
 *	refused. Lines end in CRLF or LF. Each DATA is queued separately
 *	and answered "250 2.0.0 Ok: queued as ID" with the maildrop queue
 *	ID. A message larger than message_size_limit is read to its end
 *	and refused (552); a queue problem gives 451.
 *
 *	Limits: commands of at most line_length_limit bytes, at most
 *	SM_SMTP_RCPT_MAX recipients per message, SM_SMTP_ERROR_MAX errors
 *	and SM_SMTP_TIMEOUT seconds of silence per session.
 * DIAGNOSTICS
 *	The exit status is 0 when the client says QUIT or goes away, and
 *	EX_PROTOCOL after too many errors or a timeout.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "address.h"
#include "cleanup_proto.h"
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "sendmail.h"

#define SM_SMTP_TIMEOUT 300   /* seconds, as smtpd_timeout */
#define SM_SMTP_RCPT_MAX 1000 /* as smtpd_recipient_limit */
#define SM_SMTP_ERROR_MAX 20  /* as smtpd_hard_error_limit */

typedef struct SM_SMTP {
    SM_ENVELOPE *defaults;
    SM_ENVELOPE txn; /* the current transaction */
    int have_mail;
    int errors;
    VSTRING *line;
} SM_SMTP;

/* sm_smtp_reply - one reply line, flushed */

static void __attribute__((format(printf, 2, 3))) sm_smtp_reply(SM_SMTP *sm, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vstream_vfprintf(VSTREAM_OUT, fmt, ap);
    va_end(ap);
    vstream_fputs("\r\n", VSTREAM_OUT);
    if (vstream_fflush(VSTREAM_OUT) != 0)
        exit(0); /* the client has gone */
    (void)sm;
}

/* sm_smtp_error - an error reply, counted */

static void __attribute__((format(printf, 2, 3))) sm_smtp_error(SM_SMTP *sm, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vstream_vfprintf(VSTREAM_OUT, fmt, ap);
    va_end(ap);
    vstream_fputs("\r\n", VSTREAM_OUT);
    if (vstream_fflush(VSTREAM_OUT) != 0)
        exit(0);
    if (++sm->errors >= SM_SMTP_ERROR_MAX) {
        sm_smtp_reply(sm, "421 4.7.0 %s Error: too many errors", var_myhostname);
        exit(EX_PROTOCOL);
    }
}

/* sm_smtp_reset - forget the transaction */

static void sm_smtp_reset(SM_SMTP *sm)
{
    sm_envelope_reset_rcpt(&sm->txn);
    myfree(sm->txn.dsn_envid);
    sm->txn.dsn_envid = NULL;
    sm->txn.dsn_ret = NULL;
    sm->txn.encoding = NULL;
    sm->have_mail = 0;
}

/* sm_smtp_get - read one line (without its line end); -1 at EOF */

static int sm_smtp_get(SM_SMTP *sm, int *whole)
{
    int ch = vstream_get_line(VSTREAM_IN, sm->line, (size_t)var_line_length_limit);

    if (ch == VSTREAM_EOF)
        return -1;
    *whole = (ch == '\n');
    if (*whole) {
        vstring_truncate(sm->line, vstring_len(sm->line) - 1);
        if (vstring_len(sm->line) > 0 && vstring_end(sm->line)[-1] == '\r')
            vstring_truncate(sm->line, vstring_len(sm->line) - 1);
    } else if (vstream_feof(VSTREAM_IN) || vstream_ftimeout(VSTREAM_IN) ||
               vstream_ferror(VSTREAM_IN)) {
        return -1; /* a line cut short by EOF is no command */
    } else if (vstring_len(sm->line) > 1 && vstring_end(sm->line)[-1] == '\r') {
        vstream_ungetc(VSTREAM_IN, '\r');
        vstring_truncate(sm->line, vstring_len(sm->line) - 1);
    }
    return 0;
}

/* sm_smtp_xtext - decode RFC 3461 xtext in place; -1 when malformed */

static int sm_smtp_xtext(char *text)
{
    char *out = text;
    unsigned hex;

    for (char *cp = text; *cp; cp++) {
        if (*cp == '+') {
            if (!isxdigit((unsigned char)cp[1]) || !isxdigit((unsigned char)cp[2]))
                return -1;
            if (sscanf(cp + 1, "%2x", &hex) != 1)
                return -1;
            *out++ = (char)hex;
            cp += 2;
        } else if ((unsigned char)*cp < 0x21 || (unsigned char)*cp > 0x7e || *cp == '=') {
            return -1;
        } else {
            *out++ = *cp;
        }
    }
    *out = 0;
    return 0;
}

/* sm_smtp_path - "FROM:" or "TO:" then a path; the parameters after it */

static int sm_smtp_path(const char *arg, const char *keyword, int flags, VSTRING *addr,
                        ARGV **params)
{
    VSTRING *why = vstring_alloc(60);
    size_t klen = strlen(keyword);
    size_t used;
    int status;

    *params = NULL;
    if (strncasecmp(arg, keyword, klen) != 0) {
        vstring_free(why);
        return -1;
    }
    arg += klen;
    while (*arg == ' ')
        arg++;
    status = address_parse_path(arg, strlen(arg), flags, addr, &used, why);
    if (status == 0)
        *params = argv_split(arg + used, " ");
    vstring_free(why);
    return status;
}

static void sm_smtp_mail(SM_SMTP *sm, const char *arg)
{
    VSTRING *addr = vstring_alloc(60);
    ARGV *params = NULL;
    char *value;
    char *end;
    unsigned long long size;

    if (sm->have_mail) {
        sm_smtp_error(sm, "503 5.5.1 Error: nested MAIL command");
    } else if (sm_smtp_path(arg, "FROM:", ADDRESS_NULL_OK | ADDRESS_UTF8, addr, &params) < 0) {
        sm_smtp_error(sm, "501 5.1.7 Bad sender address syntax");
    } else {
        for (int i = 0; i < params->argc; i++) {
            value = strchr(params->argv[i], '=');
            if (value)
                *value++ = 0;
            if (strcasecmp(params->argv[i], "SIZE") == 0 && value) {
                size = strtoull(value, &end, 10);
                if (*end || !isdigit((unsigned char)*value)) {
                    sm_smtp_error(sm, "501 5.5.4 Bad message size syntax");
                    goto done;
                }
                if (var_message_size_limit > 0 &&
                    size > (unsigned long long)var_message_size_limit) {
                    sm_smtp_error(sm, "552 5.3.4 Message size exceeds fixed limit");
                    goto done;
                }
            } else if (strcasecmp(params->argv[i], "BODY") == 0 && value &&
                       strcasecmp(value, "8BITMIME") == 0) {
                sm->txn.encoding = "8bit";
            } else if (strcasecmp(params->argv[i], "BODY") == 0 && value &&
                       strcasecmp(value, "7BIT") == 0) {
                sm->txn.encoding = "7bit";
            } else if (strcasecmp(params->argv[i], "RET") == 0 && value &&
                       (strcasecmp(value, "FULL") == 0 || strcasecmp(value, "HDRS") == 0)) {
                sm->txn.dsn_ret = toupper((unsigned char)value[0]) == 'F' ? "FULL" : "HDRS";
            } else if (strcasecmp(params->argv[i], "ENVID") == 0 && value &&
                       sm->txn.dsn_envid == NULL && sm_smtp_xtext(value) == 0 && *value &&
                       strlen(value) <= MAILDROP_ENVID_MAX) {
                sm->txn.dsn_envid = mystrdup(value);
            } else {
                sm_smtp_error(sm, "555 5.5.4 Unsupported option: %.100s", params->argv[i]);
                goto done;
            }
        }
        myfree(sm->txn.sender);
        sm->txn.sender = mystrdup(vstring_str(addr));
        sm->have_mail = 1;
        sm_smtp_reply(sm, "250 2.1.0 Ok");
    }
done:
    if (params)
        argv_free(params);
    if (!sm->have_mail)
        sm_smtp_reset(sm);
    vstring_free(addr);
}

static void sm_smtp_rcpt(SM_SMTP *sm, const char *arg)
{
    VSTRING *addr = vstring_alloc(60);
    ARGV *params = NULL;
    char *orcpt = NULL;
    char *value;
    int notify = 0;

    if (!sm->have_mail) {
        sm_smtp_error(sm, "503 5.5.1 Error: need MAIL command");
    } else if (sm->txn.rcpt_count >= SM_SMTP_RCPT_MAX) {
        sm_smtp_error(sm, "452 4.5.3 Error: too many recipients");
    } else if (sm_smtp_path(arg, "TO:", ADDRESS_UTF8, addr, &params) < 0 ||
               vstring_len(addr) == 0) {
        sm_smtp_error(sm, "501 5.1.3 Bad recipient address syntax");
    } else {
        for (int i = 0; i < params->argc; i++) {
            value = strchr(params->argv[i], '=');
            if (value)
                *value++ = 0;
            if (strcasecmp(params->argv[i], "NOTIFY") == 0 && value && notify == 0 &&
                (notify = sm_parse_notify(value)) > 0) {
                continue;
            } else if (strcasecmp(params->argv[i], "ORCPT") == 0 && value && orcpt == NULL &&
                       strchr(value, ';') != NULL && strlen(value) <= MAILDROP_ORCPT_MAX) {
                orcpt = mystrdup(value);
                /* keep the xtext form: "rfc822;" plus the encoded address */
                for (char *cp = orcpt; *cp; cp++)
                    if ((unsigned char)*cp < 0x20 || (unsigned char)*cp > 0x7e)
                        *cp = '?';
                continue;
            }
            sm_smtp_error(sm, "555 5.5.4 Unsupported option: %.100s", params->argv[i]);
            goto done;
        }
        sm_envelope_add_rcpt(&sm->txn, vstring_str(addr), notify, orcpt);
        sm_smtp_reply(sm, "250 2.1.5 Ok");
    }
done:
    if (params)
        argv_free(params);
    myfree(orcpt);
    vstring_free(addr);
}

static void sm_smtp_data(SM_SMTP *sm, const char *arg)
{
    VSTRING *why = vstring_alloc(60);
    VSTRING *id = vstring_alloc(32);
    SM_DROP *drop;
    int line_start = 1;
    int whole;
    int status;
    const char *data;
    size_t len;

    if (*arg) {
        sm_smtp_error(sm, "501 5.5.4 Syntax: DATA");
        goto done;
    }
    if (!sm->have_mail || sm->txn.rcpt_count == 0) {
        sm_smtp_error(sm, sm->have_mail ? "554 5.5.1 Error: no valid recipients"
                                        : "503 5.5.1 Error: need RCPT command");
        goto done;
    }
    if ((drop = sm_drop_open(&sm->txn, why)) == NULL) {
        msg_warn("%s(%ld): %s", sm_user, (long)sm_uid, vstring_str(why));
        sm_smtp_reply(sm, "451 4.3.0 Error: queue file write error");
        sm_smtp_reset(sm);
        goto done;
    }
    sm_smtp_reply(sm, "354 End data with <CR><LF>.<CR><LF>");
    for (;;) {
        if (sm_smtp_get(sm, &whole) < 0) { /* the client went away mid-message */
            sm_drop_abort(drop);
            exit(0);
        }
        data = vstring_str(sm->line);
        len = vstring_len(sm->line);
        if (line_start && whole && len == 1 && data[0] == '.')
            break;
        if (line_start && len > 0 && data[0] == '.') {
            data++;
            len--;
        }
        (void)sm_drop_line(drop, data, len, !whole);
        line_start = whole;
    }
    status = sm_drop_close(drop, id, why);
    if (status == 0)
        sm_smtp_reply(sm, "250 2.0.0 Ok: queued as %s", vstring_str(id));
    else if (status == EX_DATAERR && strcmp(vstring_str(why), "message file too big") == 0)
        sm_smtp_reply(sm, "552 5.3.4 Error: message file too big");
    else if (status == EX_NOPERM)
        sm_smtp_reply(sm, "550 5.7.1 Error: not allowed to submit mail");
    else
        sm_smtp_reply(sm, "451 4.3.0 Error: queue file write error");
    sm_smtp_reset(sm);
done:
    vstring_free(why);
    vstring_free(id);
}

int sm_smtp(SM_ENVELOPE *defaults)
{
    SM_SMTP sm;
    const char *arg;
    char *cmd;
    int whole;

    memset(&sm, 0, sizeof(sm));
    sm.defaults = defaults;
    sm_envelope_init(&sm.txn);
    sm.txn.full_name = defaults->full_name;
    sm.txn.rewrite = defaults->rewrite;
    sm.line = vstring_alloc(512);
    vstream_set_timeout(VSTREAM_IN, SM_SMTP_TIMEOUT);
    vstream_set_timeout(VSTREAM_OUT, SM_SMTP_TIMEOUT);

    sm_smtp_reply(&sm, "220 %s ESMTP %s", var_myhostname, var_mail_name);
    for (;;) {
        if (sm_smtp_get(&sm, &whole) < 0) {
            if (vstream_ftimeout(VSTREAM_IN)) {
                sm_smtp_reply(&sm, "421 4.4.2 %s Error: timeout exceeded", var_myhostname);
                return EX_PROTOCOL;
            }
            return 0;
        }
        if (!whole) { /* drop the rest of an over-long line */
            while (sm_smtp_get(&sm, &whole) == 0 && !whole)
                ;
            sm_smtp_error(&sm, "500 5.5.0 Error: line too long");
            continue;
        }
        cmd = vstring_str(sm.line);
        while (*cmd == ' ')
            cmd++;
        arg = cmd + strcspn(cmd, " ");
        if (*arg)
            *(char *)arg++ = 0;
        while (*arg == ' ')
            arg++;
        if (strcasecmp(cmd, "HELO") == 0 || strcasecmp(cmd, "EHLO") == 0) {
            if (*arg == 0) {
                sm_smtp_error(&sm, "501 Syntax: %s hostname", cmd);
                continue;
            }
            sm_smtp_reset(&sm);
            if (toupper((unsigned char)cmd[0]) == 'H') {
                sm_smtp_reply(&sm, "250 %s", var_myhostname);
            } else {
                vstream_fprintf(VSTREAM_OUT, "250-%s\r\n250-PIPELINING\r\n", var_myhostname);
                if (var_message_size_limit > 0)
                    vstream_fprintf(VSTREAM_OUT, "250-SIZE %ld\r\n", var_message_size_limit);
                else
                    vstream_fprintf(VSTREAM_OUT, "250-SIZE\r\n");
                vstream_fprintf(VSTREAM_OUT, "250-8BITMIME\r\n250-DSN\r\n");
                sm_smtp_reply(&sm, "250 ENHANCEDSTATUSCODES");
            }
        } else if (strcasecmp(cmd, "MAIL") == 0) {
            sm_smtp_mail(&sm, arg);
        } else if (strcasecmp(cmd, "RCPT") == 0) {
            sm_smtp_rcpt(&sm, arg);
        } else if (strcasecmp(cmd, "DATA") == 0) {
            sm_smtp_data(&sm, arg);
        } else if (strcasecmp(cmd, "RSET") == 0) {
            sm_smtp_reset(&sm);
            sm_smtp_reply(&sm, "250 2.0.0 Ok");
        } else if (strcasecmp(cmd, "NOOP") == 0) {
            sm_smtp_reply(&sm, "250 2.0.0 Ok");
        } else if (strcasecmp(cmd, "QUIT") == 0) {
            sm_smtp_reply(&sm, "221 2.0.0 Bye");
            return 0;
        } else if (strcasecmp(cmd, "VRFY") == 0) {
            sm_smtp_error(&sm, "502 5.5.1 VRFY command is disabled");
        } else {
            sm_smtp_error(&sm, "502 5.5.2 Error: command not recognized");
        }
    }
}
