/*
 * NAME
 *	smtpd - the postern SMTP server
 * SYNOPSIS
 *	smtpd [generic daemon options]
 * DESCRIPTION
 *	smtpd(8) receives mail over SMTP (RFC 5321) from one client per
 *	process at a time; master(8) hands it connections and a process
 *	serves up to $max_use of them in turn (lib/mail_server.h,
 *	single_server_main). Everything that can be prepared once is
 *	prepared before the first client: restriction lists are parsed and
 *	their tables opened (smtpd_check.c), the TLS certificates loaded and
 *	the SASL library started (smtpd_tls.c, smtpd_sasl.c), as root before
 *	the chroot and privilege drop. Between sessions a process exits when
 *	a table or a certificate file has changed, so that its successor
 *	reads the new one.
 *
 *	A session: "connect from host[addr]", the 220 greeting
 *	($smtpd_banner), then commands until QUIT, a fatal protocol error,
 *	a timeout ($smtpd_timeout) or too many errors
 *	($smtpd_hard_error_limit), then "disconnect from host[addr]" with
 *	per-command counts. Commands: HELO, EHLO (PIPELINING, SIZE, VRFY,
 *	STARTTLS, AUTH, ENHANCEDSTATUSCODES, 8BITMIME, DSN, SMTPUTF8,
 *	CHUNKING), STARTTLS and AUTH (smtpd_tls.c, smtpd_sasl.c), MAIL FROM
 *	(SIZE BODY RET ENVID SMTPUTF8 AUTH), RCPT TO (NOTIFY ORCPT), DATA,
 *	BDAT, RSET, NOOP, VRFY, HELP, QUIT. At smtpd_tls_security_level =
 *	encrypt (and in wrapper mode before the handshake) commands other
 *	than EHLO, HELO, STARTTLS, NOOP, RSET and QUIT get 530 5.7.0 until
 *	TLS is active. On a wrapper-mode service TLS starts before the
 *	greeting. Every reply but the greeting and the
 *	HELO/EHLO replies carries an RFC 3463 code; the wording is
 *	Postfix's.
 *
 *	Transactions: the cleanup(8) stream is opened at the first
 *	accepted recipient ($smtpd_delay_open_until_valid_rcpt), and the
 *	envelope and content go to it as records as they arrive
 *	(smtpd_data.c). The reply to the end of the message is 250 only
 *	when cleanup has made the queue file durable. Any reply that ends
 *	a transaction (RSET, HELO/EHLO, the end of a message, a failed
 *	BDAT, a lost cleanup stream) goes through smtpd_mail_reset(), so
 *	that nothing of one transaction survives into the next.
 *
 *	Pipelining (RFC 2920): replies are buffered while pipelined
 *	commands are waiting and sent before smtpd would block. With
 *	$smtpd_forbid_unauth_pipelining a client that talks before the
 *	greeting, sends more after a command that must end a group, or
 *	pipelines without having been offered PIPELINING is disconnected.
 *
 *	Message content ends only at <CR><LF>.<CR><LF>; lines ending in a
 *	bare LF are handled per $smtpd_forbid_bare_newline (smtpd_text.h).
 *
 *	Lines that look like message headers or forbidden commands
 *	($smtpd_forbidden_commands: web proxy probes) instead of SMTP
 *	commands are logged as "non-SMTP command" and end the session with
 *	521 5.5.1 Protocol error.
 * SEE ALSO
 *	smtpd(8) man page, cleanup(8), master(8), lib/cleanup_proto.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "dict.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_server.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtpd.h"
#include "smtpd_cmd.h"
#include "smtpd_text.h"
#include "vstream.h"
#include "vstring.h"

/* command flags */
#define CMD_LAST (1 << 0)        /* must be the last command of a pipelined group */
#define CMD_JUNK (1 << 1)        /* counts towards smtpd_junk_command_limit */
#define CMD_NOCHECK (1 << 2)     /* no pipelining check (QUIT, BDAT) */
#define CMD_PRE_TLS (1 << 3)     /* allowed before STARTTLS at level encrypt */

typedef struct SMTPD_COMMAND {
    const char *name;
    int (*action)(SMTPD_STATE *state, const char *args);
    int flags;
    int stat;
} SMTPD_COMMAND;

static int smtpd_lf_mode;        /* from smtpd_forbid_bare_newline */
static ARGV *smtpd_forbidden;    /* smtpd_forbidden_commands */

/* ---- transaction state ---- */

void smtpd_mail_reset(SMTPD_STATE *state)
{
    if (state->cleanup || state->queue_id)
        smtpd_data_abort(state);
    if (state->sender)
        myfree(state->sender);
    if (state->envid)
        myfree(state->envid);
    smtpd_sasl_mail_reset(state);
    if (state->first_rcpt)
        myfree(state->first_rcpt);
    state->sender = state->envid = state->first_rcpt = NULL;
    state->in_mail = 0;
    state->mail_size = 0;
    state->body = state->ret = state->smtputf8 = 0;
    state->rcpt_count = 0;
    state->bdat = 0;
    state->act_size = 0;
    state->err = 0;
    if (state->text)
        smtpd_text_reset(state->text);
    smtpd_check_reset(state);       /* H15: restriction state of the transaction */
}

/* smtpd_reply_reject - send a restriction's verdict */

static int smtpd_reply_reject(SMTPD_STATE *state, VSTRING *reply)
{
    smtpd_chat_text(state, vstring_str(reply));
    return -1;
}

static int smtpd_need_helo(SMTPD_STATE *state)
{
    if (var_smtpd_helo_required && state->helo_name == NULL) {
        smtpd_chat_reply(state, "503 5.5.1 Error: send HELO/EHLO first");
        return 1;
    }
    return 0;
}

/* ---- HELO, EHLO ---- */

static int helo_common(SMTPD_STATE *state, const char *args, int ehlo)
{
    VSTRING *reply;
    size_t len = strlen(args);

    if (len == 0) {
        smtpd_chat_reply(state, "501 Syntax: %s hostname", ehlo ? "EHLO" : "HELO");
        return -1;
    }
    while (len > 0 && (args[len - 1] == ' ' || args[len - 1] == '\t'))
        len--;
    if (state->client_reject) {
        smtpd_chat_text(state, state->client_reject);
        return -1;
    }
    smtpd_mail_reset(state);
    if (state->helo_name)
        myfree(state->helo_name);
    state->helo_name = mystrndup(args, len);
    state->protocol = ehlo ? "ESMTP" : "SMTP";
    state->pipelining = 0;
    if (!var_smtpd_delay_reject) {
        reply = vstring_alloc(100);
        if (smtpd_check_helo(state, reply) == SMTPD_CHECK_REJECT) {
            myfree(state->helo_name);
            state->helo_name = NULL;
            smtpd_reply_reject(state, reply);
            vstring_free(reply);
            return -1;
        }
        vstring_free(reply);
    }
    if (!ehlo) {
        smtpd_chat_reply(state, "250 %s", var_myhostname);
        return 0;
    }
    ARGV *lines = argv_alloc(16);
    VSTRING *size = vstring_alloc(40);

    argv_add(lines, var_myhostname);
    argv_add(lines, "PIPELINING");
    if (var_message_size_limit > 0)
        vstring_sprintf(size, "SIZE %ld", var_message_size_limit);
    else
        vstring_strcpy(size, "SIZE");
    argv_add(lines, vstring_str(size));
    if (!var_disable_vrfy_command)
        argv_add(lines, "VRFY");
    if (smtpd_tls_offer(state))
        argv_add(lines, "STARTTLS");
    smtpd_sasl_ehlo(state, lines);
    argv_add(lines, "ENHANCEDSTATUSCODES");
    argv_add(lines, "8BITMIME");
    argv_add(lines, "DSN");
    if (var_smtputf8_enable)
        argv_add(lines, "SMTPUTF8");
    argv_add(lines, "CHUNKING");
    smtpd_chat_multi(state, 250, lines->argv, lines->argc);
    argv_free(lines);
    vstring_free(size);
    state->pipelining = 1;
    return 0;
}

static int helo_cmd(SMTPD_STATE *state, const char *args)
{
    return helo_common(state, args, 0);
}

static int ehlo_cmd(SMTPD_STATE *state, const char *args)
{
    return helo_common(state, args, 1);
}

/* ---- MAIL ---- */

static int mail_params(SMTPD_STATE *state)
{
    SMTPD_PARAMS *params = state->params;
    VSTRING *envid = NULL;

    for (int i = 0; i < params->count; i++) {
        const char *name = params->name[i];
        const char *value = params->value[i];

        if (strcasecmp(name, "SIZE") == 0) {
            if (smtpd_cmd_size(value, &state->mail_size) < 0) {
                smtpd_chat_reply(state, "501 5.5.4 Bad message size syntax");
                return -1;
            }
            if (var_message_size_limit > 0 && state->mail_size > var_message_size_limit) {
                smtpd_chat_reply(state, "552 5.3.4 Message size exceeds fixed limit");
                return -1;
            }
        } else if (strcasecmp(name, "BODY") == 0) {
            if ((state->body = smtpd_cmd_body(value)) < 0) {
                state->body = 0;
                smtpd_chat_reply(state, "501 5.5.4 Bad BODY keyword value");
                return -1;
            }
        } else if (strcasecmp(name, "RET") == 0) {
            if ((state->ret = smtpd_cmd_ret(value)) < 0) {
                state->ret = 0;
                smtpd_chat_reply(state, "501 5.5.4 Bad RET parameter syntax");
                return -1;
            }
        } else if (strcasecmp(name, "ENVID") == 0) {
            envid = envid ? envid : vstring_alloc(100);
            if (smtpd_cmd_envid(value, envid) < 0) {
                vstring_free(envid);
                smtpd_chat_reply(state, "501 5.5.4 Bad ENVID parameter syntax");
                return -1;
            }
        } else if (strcasecmp(name, "SMTPUTF8") == 0 && value == NULL && var_smtputf8_enable) {
            state->smtputf8 = 1;
        } else if (strcasecmp(name, "AUTH") == 0 && smtpd_sasl_enabled()) {
            if (smtpd_sasl_mail_param(state, value) < 0) {
                if (envid)
                    vstring_free(envid);
                return -1;
            }
        } else {
            smtpd_chat_reply(state, "555 5.5.4 Unsupported option: %s%s%s", name, value ? "=" : "",
                             value ? value : "");
            if (envid)
                vstring_free(envid);
            return -1;
        }
    }
    if (envid)
        state->envid = vstring_export(envid);
    return 0;
}

static int mail_cmd(SMTPD_STATE *state, const char *args)
{
    int flags = SMTPD_CMD_NULL_OK;
    VSTRING *reply;

    if (smtpd_need_helo(state))
        return -1;
    if (state->in_mail) {
        smtpd_chat_reply(state, "503 5.5.1 Error: nested MAIL command");
        return -1;
    }
    if (state->client_reject) {
        smtpd_chat_text(state, state->client_reject);
        return -1;
    }
    if (var_strict_rfc821_envelopes)
        flags |= SMTPD_CMD_STRICT;
    if (var_smtputf8_enable)
        flags |= SMTPD_CMD_UTF8;
    switch (smtpd_cmd_path(args, "FROM", flags, state->addr_buf, state->params, state->why)) {
    case SMTPD_CMD_OK:
        break;
    case SMTPD_CMD_ERR_ADDR:
        smtpd_chat_reply(state, "501 5.1.7 Bad sender address syntax");
        return -1;
    case SMTPD_CMD_ERR_PARAM:
        smtpd_chat_reply(state, "501 5.5.4 Error: %s", vstring_str(state->why));
        return -1;
    default:
        smtpd_chat_reply(state, "501 5.5.4 Syntax: MAIL FROM:<address>");
        return -1;
    }
    if (mail_params(state) < 0) {
        smtpd_mail_reset(state);
        return -1;
    }
    if (!state->smtputf8 && smtpd_cmd_has_8bit(vstring_str(state->addr_buf))) {
        smtpd_mail_reset(state);
        smtpd_chat_reply(state, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
        return -1;
    }
    state->sender = mystrdup(vstring_str(state->addr_buf));
    state->in_mail = 1;
    if (!var_smtpd_delay_reject) {
        reply = vstring_alloc(100);
        if (smtpd_check_mail(state, reply) == SMTPD_CHECK_REJECT) {
            smtpd_mail_reset(state);
            smtpd_reply_reject(state, reply);
            vstring_free(reply);
            return -1;
        }
        vstring_free(reply);
    }
    if (!var_smtpd_delay_open_until_valid_rcpt) {
        reply = vstring_alloc(100);
        if (smtpd_data_open(state, reply) < 0) {
            smtpd_mail_reset(state);
            smtpd_reply_reject(state, reply);
            vstring_free(reply);
            return -1;
        }
        vstring_free(reply);
    }
    smtpd_chat_reply(state, "250 2.1.0 Ok");
    return 0;
}

/* ---- RCPT ---- */

static int rcpt_cmd(SMTPD_STATE *state, const char *args)
{
    int flags = SMTPD_CMD_POSTMASTER;
    SMTPD_PARAMS *params = state->params;
    VSTRING *orcpt_buf = NULL;
    const char *orcpt = NULL;
    int notify = 0;
    VSTRING *reply;
    int status;

    if (!state->in_mail) {
        smtpd_chat_reply(state, "503 5.5.1 Error: need MAIL command");
        return -1;
    }
    if (state->bdat) {
        smtpd_chat_reply(state, "503 5.5.1 Error: RCPT after BDAT");
        return -1;
    }
    if (state->client_reject) {
        smtpd_chat_text(state, state->client_reject);
        return -1;
    }
    if (state->rcpt_count >= var_smtpd_recipient_limit) {
        smtpd_chat_reply(state, "452 4.5.3 Error: too many recipients");
        return -1;
    }
    if (var_strict_rfc821_envelopes)
        flags |= SMTPD_CMD_STRICT;
    if (var_smtputf8_enable)
        flags |= SMTPD_CMD_UTF8;
    switch (smtpd_cmd_path(args, "TO", flags, state->addr_buf, params, state->why)) {
    case SMTPD_CMD_OK:
        break;
    case SMTPD_CMD_ERR_ADDR:
        smtpd_chat_reply(state, "501 5.1.3 Bad recipient address syntax");
        return -1;
    case SMTPD_CMD_ERR_PARAM:
        smtpd_chat_reply(state, "501 5.5.4 Error: %s", vstring_str(state->why));
        return -1;
    default:
        smtpd_chat_reply(state, "501 5.5.4 Syntax: RCPT TO:<address>");
        return -1;
    }
    for (int i = 0; i < params->count; i++) {
        const char *name = params->name[i];
        const char *value = params->value[i];

        if (strcasecmp(name, "NOTIFY") == 0) {
            if ((notify = smtpd_cmd_notify(value)) < 0) {
                smtpd_chat_reply(state, "501 5.5.4 Error: Bad NOTIFY parameter syntax");
                goto fail;
            }
        } else if (strcasecmp(name, "ORCPT") == 0) {
            orcpt_buf = vstring_alloc(100);
            if (smtpd_cmd_orcpt(value, orcpt_buf) < 0) {
                smtpd_chat_reply(state, "501 5.5.4 Error: Bad ORCPT parameter syntax");
                goto fail;
            }
            orcpt = value;
        } else {
            smtpd_chat_reply(state, "555 5.5.4 Unsupported option: %s%s%s", name, value ? "=" : "",
                             value ? value : "");
            goto fail;
        }
    }
    if (!state->smtputf8 && smtpd_cmd_has_8bit(vstring_str(state->addr_buf))) {
        smtpd_chat_reply(state, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
        goto fail;
    }
    char *rcpt = mystrdup(vstring_str(state->addr_buf));

    reply = vstring_alloc(100);
    status = smtpd_check_rcpt(state, rcpt, reply);
    if (status == SMTPD_CHECK_OK && state->cleanup == NULL && smtpd_data_open(state, reply) < 0) {
        smtpd_mail_reset(state);
        status = SMTPD_CHECK_REJECT;
    }
    if (status == SMTPD_CHECK_OK && smtpd_data_rcpt(state, rcpt, notify, orcpt) < 0) {
        smtpd_mail_reset(state);
        vstring_strcpy(reply, "451 4.3.0 Error: queue file write error");
        status = SMTPD_CHECK_REJECT;
    }
    if (status == SMTPD_CHECK_REJECT) {
        smtpd_reply_reject(state, reply);
        vstring_free(reply);
        myfree(rcpt);
        goto fail;
    }
    vstring_free(reply);
    if (state->rcpt_count++ == 0)
        state->first_rcpt = rcpt;
    else
        myfree(rcpt);
    if (orcpt_buf)
        vstring_free(orcpt_buf);
    smtpd_chat_reply(state, "250 2.1.5 Ok");
    return 0;

fail:
    if (orcpt_buf)
        vstring_free(orcpt_buf);
    return -1;
}

/* ---- DATA, BDAT ---- */

/* smtpd_content_begin - the checks and set-up DATA and the first BDAT share */

static int smtpd_content_begin(SMTPD_STATE *state)
{
    VSTRING *reply = vstring_alloc(100);

    if (smtpd_check_data(state, reply) == SMTPD_CHECK_REJECT) {
        smtpd_reply_reject(state, reply);
        vstring_free(reply);
        return -1;
    }
    if (smtpd_data_start(state, reply) < 0) {
        smtpd_mail_reset(state);
        smtpd_reply_reject(state, reply);
        vstring_free(reply);
        return -1;
    }
    vstring_free(reply);
    return 0;
}

/* smtpd_content_end - cleanup's verdict, and a fresh transaction state */

static int smtpd_content_end(SMTPD_STATE *state)
{
    VSTRING *reply = vstring_alloc(100);
    int status;

    state->where = "END-OF-MESSAGE";
    if (state->err == 0 && smtpd_check_eod(state, reply) == SMTPD_CHECK_REJECT) {
        smtpd_data_abort(state);    /* H15: smtpd_end_of_data_restrictions */
        status = -1;
    } else
        status = smtpd_data_finish(state, reply);
    smtpd_chat_text(state, vstring_str(reply));
    if (status == 0)
        state->error_count = state->junk_count = 0;
    vstring_free(reply);
    smtpd_mail_reset(state);
    return status;
}

/* smtpd_content_lost - the client went away or misbehaved in mid-content */

static int smtpd_content_lost(SMTPD_STATE *state, int status)
{
    if (status == SMTPD_TEXT_BARE_LF)
        smtpd_chat_bare_lf(state);
    else
        smtpd_chat_lost(state, status == SMTPD_TEXT_TIMEOUT ? SMTPD_READ_TIMEOUT : SMTPD_READ_EOF);
    smtpd_mail_reset(state);
    return -1;
}

static int data_cmd(SMTPD_STATE *state, const char *args)
{
    int status;

    if (*args) {
        smtpd_chat_reply(state, "501 5.5.4 Syntax: DATA");
        return -1;
    }
    if (!state->in_mail) {
        smtpd_chat_reply(state, "503 5.5.1 Error: need RCPT command");
        return -1;
    }
    if (state->bdat) {
        smtpd_chat_reply(state, "503 5.5.1 Error: DATA after BDAT");
        return -1;
    }
    if (state->rcpt_count == 0) {
        smtpd_chat_reply(state, "554 5.5.1 Error: no valid recipients");
        return -1;
    }
    if (smtpd_content_begin(state) < 0)
        return -1;
    smtpd_chat_reply(state, "354 End data with <CR><LF>.<CR><LF>");
    status = smtpd_text_data(state->text, state->client, state->prev_crlf);
    if (status != SMTPD_TEXT_END)
        return smtpd_content_lost(state, status);
    return smtpd_content_end(state);
}

static int bdat_cmd(SMTPD_STATE *state, const char *args)
{
    long long size;
    int last;
    int status;

    if (smtpd_cmd_bdat(args, &size, &last) < 0) {
        smtpd_chat_reply(state, "521 5.5.4 Syntax: BDAT count [LAST]");
        state->disconnect = 1;
        return -1;
    }
    if (!state->in_mail || state->rcpt_count == 0 || !state->bdat) {
        const char *refusal = NULL;

        if (!state->in_mail)
            refusal = "503 5.5.1 Error: need RCPT command";
        else if (state->rcpt_count == 0)
            refusal = "554 5.5.1 Error: no valid recipients";
        if (refusal) {
            if ((status = smtpd_text_skip(state->client, (off_t) size)) != SMTPD_TEXT_END)
                return smtpd_content_lost(state, status);
            smtpd_mail_reset(state);
            smtpd_chat_reply(state, "%s", refusal);
            return -1;
        }
        if (smtpd_content_begin(state) < 0) {
            smtpd_mail_reset(state);
            if ((status = smtpd_text_skip(state->client, (off_t) size)) != SMTPD_TEXT_END)
                return smtpd_content_lost(state, status);
            return -1;
        }
        state->bdat = 1;
    }
    status = smtpd_text_bdat(state->text, state->client, (off_t) size, last);
    if (status != SMTPD_TEXT_END)
        return smtpd_content_lost(state, status);
    if (last)
        return smtpd_content_end(state);
    if (state->err & SMTPD_ERR_SIZE) {
        smtpd_mail_reset(state);
        smtpd_chat_reply(state, "552 5.3.4 Message size exceeds fixed limit");
        return -1;
    }
    if (state->err & SMTPD_ERR_WRITE) {
        smtpd_mail_reset(state);
        smtpd_chat_reply(state, "451 4.3.0 Error: queue file write error");
        return -1;
    }
    smtpd_chat_reply(state, "250 2.0.0 Ok: %lld bytes", size);
    return 0;
}

/* ---- the small ones ---- */

static int rset_cmd(SMTPD_STATE *state, const char *args)
{
    if (*args) {
        smtpd_chat_reply(state, "501 5.5.4 Syntax: RSET");
        return -1;
    }
    smtpd_mail_reset(state);
    smtpd_chat_reply(state, "250 2.0.0 Ok");
    return 0;
}

static int noop_cmd(SMTPD_STATE *state, const char *args)
{
    (void) args;
    smtpd_chat_reply(state, "250 2.0.0 Ok");
    return 0;
}

static int quit_cmd(SMTPD_STATE *state, const char *args)
{
    (void) args;
    smtpd_chat_reply(state, "221 2.0.0 Bye");
    state->disconnect = 1;
    return 0;
}

static int help_cmd(SMTPD_STATE *state, const char *args)
{
    (void) args;
    smtpd_chat_reply(state, "214 2.0.0 Commands: HELO EHLO STARTTLS AUTH MAIL RCPT DATA BDAT RSET "
                            "NOOP VRFY HELP QUIT");
    return 0;
}

static int vrfy_cmd(SMTPD_STATE *state, const char *args)
{
    int flags = ADDRESS_POSTMASTER;
    VSTRING *reply;
    VSTRING *quoted;
    int status;

    if (var_disable_vrfy_command) {
        smtpd_chat_reply(state, "502 5.5.1 VRFY command is disabled");
        return -1;
    }
    if (smtpd_need_helo(state))
        return -1;
    if (*args == 0) {
        smtpd_chat_reply(state, "501 5.5.4 Syntax: VRFY address");
        return -1;
    }
    if (state->client_reject) {
        smtpd_chat_text(state, state->client_reject);
        return -1;
    }
    if (var_smtputf8_enable)
        flags |= ADDRESS_UTF8;
    if (address_parse_path(args, strlen(args), flags, state->addr_buf, NULL, state->why) < 0
        || *vstring_str(state->addr_buf) == 0) {
        smtpd_chat_reply(state, "501 5.1.3 Bad recipient address syntax");
        return -1;
    }
    reply = vstring_alloc(100);
    status = smtpd_check_vrfy(state, vstring_str(state->addr_buf), reply);
    if (status == SMTPD_CHECK_REJECT) {
        smtpd_reply_reject(state, reply);
        vstring_free(reply);
        return -1;
    }
    vstring_free(reply);
    quoted = vstring_alloc(100);
    if (address_quote(quoted, vstring_str(state->addr_buf)) < 0)
        vstring_strcpy(quoted, vstring_str(state->addr_buf));
    smtpd_chat_reply(state, "252 2.0.0 %s", vstring_str(quoted));
    vstring_free(quoted);
    return 0;
}

static const SMTPD_COMMAND smtpd_commands[] = {
    {"HELO", helo_cmd, CMD_LAST | CMD_PRE_TLS, SMTPD_STAT_HELO},
    {"EHLO", ehlo_cmd, CMD_LAST | CMD_PRE_TLS, SMTPD_STAT_EHLO},
    {"STARTTLS", smtpd_starttls_cmd, CMD_LAST | CMD_PRE_TLS, SMTPD_STAT_STARTTLS},
    {"AUTH", smtpd_auth_cmd, 0, SMTPD_STAT_AUTH},
    {"MAIL", mail_cmd, 0, SMTPD_STAT_MAIL},
    {"RCPT", rcpt_cmd, 0, SMTPD_STAT_RCPT},
    {"DATA", data_cmd, CMD_LAST, SMTPD_STAT_DATA},
    {"BDAT", bdat_cmd, CMD_NOCHECK, SMTPD_STAT_BDAT},
    {"RSET", rset_cmd, CMD_JUNK | CMD_PRE_TLS, SMTPD_STAT_RSET},
    {"NOOP", noop_cmd, CMD_LAST | CMD_JUNK | CMD_PRE_TLS, SMTPD_STAT_NOOP},
    {"VRFY", vrfy_cmd, CMD_LAST | CMD_JUNK, SMTPD_STAT_VRFY},
    {"HELP", help_cmd, CMD_LAST, SMTPD_STAT_HELP},
    {"QUIT", quit_cmd, CMD_NOCHECK | CMD_PRE_TLS, SMTPD_STAT_QUIT},
    {NULL, NULL, 0, 0},
};

/* smtpd_non_smtp - does the line look like a header, or a forbidden command? */

static int smtpd_non_smtp(SMTPD_STATE *state)
{
    const char *line = vstring_str(state->buffer);
    size_t len = strspn(line, "!\"#$%&'()*+,-./0123456789;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
                              "abcdefghijklmnopqrstuvwxyz{|}~");

    if (len > 0 && line[len] == ':')
        return 1;
    for (int i = 0; smtpd_forbidden && i < smtpd_forbidden->argc; i++)
        if (strcasecmp(smtpd_forbidden->argv[i], vstring_str(state->verb)) == 0)
            return 1;
    return 0;
}

/* ---- the session ---- */

/* smtpd_stat - count a command (ok = 0) or its success (ok = 1) */

static void smtpd_stat(SMTPD_STATE *state, int stat, int ok)
{
    if (stat >= SMTPD_STAT_COUNT && stat < SMTPD_STAT_COUNT + SMTPD_STAT_TLS_AUTH) {
        if (ok)
            state->stat_ok_tls_auth[stat - SMTPD_STAT_COUNT]++;
        else
            state->stat_total_tls_auth[stat - SMTPD_STAT_COUNT]++;
    } else if (stat >= 0 && stat < SMTPD_STAT_COUNT) {
        if (ok)
            state->stat_ok[stat]++;
        else
            state->stat_total[stat]++;
    } else {
        msg_panic("smtpd_stat: bad statistics index %d", stat);
    }
}

static void smtpd_proto(SMTPD_STATE *state)
{
    VSTRING *reply;

    state->where = "CONNECT";
    if (var_smtpd_forbid_unauth_pipelining && smtpd_chat_pending(state)) {
        smtpd_chat_pipelining(state);
        return;
    }
    if (!var_smtpd_delay_reject) {
        reply = vstring_alloc(100);
        if (smtpd_check_client(state, reply) == SMTPD_CHECK_REJECT)
            state->client_reject = vstring_export(reply);
        else
            vstring_free(reply);
    }
    smtpd_chat_reply(state, "220 %s", var_smtpd_banner);

    while (!state->disconnect) {
        const SMTPD_COMMAND *cmd;
        const char *args;
        int status;

        if (state->error_count >= var_smtpd_hard_error_limit) {
            msg_info("too many errors after %s from %s", state->where, state->namaddr);
            smtpd_chat_reply(state, "421 4.7.0 %s Error: too many errors", var_myhostname);
            break;
        }
        status = smtpd_chat_query(state);
        if (status == SMTPD_READ_EOF || status == SMTPD_READ_TIMEOUT) {
            smtpd_chat_lost(state, status);
            break;
        }
        if (status == SMTPD_READ_BARE_LF) {
            smtpd_chat_bare_lf(state);
            break;
        }
        if (msg_verbose)
            msg_info("< %s: %s", state->namaddr, vstring_str(state->buffer));
        if (status == SMTPD_READ_TOO_LONG) {
            state->stat_total[SMTPD_STAT_UNKNOWN]++;
            smtpd_chat_reply(state, "500 5.5.2 Error: line too long");
            continue;
        }
        switch (smtpd_cmd_check(vstring_str(state->buffer), vstring_len(state->buffer))) {
        case SMTPD_CMD_ERR_CTRL:
            state->stat_total[SMTPD_STAT_UNKNOWN]++;
            smtpd_chat_reply(state, "500 5.5.2 Error: bad syntax");
            continue;
        case SMTPD_CMD_ERR_UTF8:
            state->stat_total[SMTPD_STAT_UNKNOWN]++;
            smtpd_chat_reply(state, "500 5.5.2 Error: bad UTF-8 syntax");
            continue;
        }
        if (smtpd_cmd_split(vstring_str(state->buffer), state->verb, &args) < 0) {
            state->stat_total[SMTPD_STAT_UNKNOWN]++;
            smtpd_chat_reply(state, "500 5.5.2 Error: bad syntax");
            continue;
        }
        for (cmd = smtpd_commands; cmd->name; cmd++)
            if (strcmp(cmd->name, vstring_str(state->verb)) == 0)
                break;
        if (cmd->name == NULL) {
            state->where = "UNKNOWN";
            state->stat_total[SMTPD_STAT_UNKNOWN]++;
            if (smtpd_non_smtp(state)) {
                msg_warn("non-SMTP command from %s: %.100s", state->namaddr,
                         vstring_str(state->buffer));
                smtpd_chat_reply(state, "521 5.5.1 Protocol error");
                break;
            }
            smtpd_chat_reply(state, "502 5.5.2 Error: command not recognized");
            continue;
        }
        state->where = cmd->name;
        if (!(cmd->flags & CMD_NOCHECK) && ((cmd->flags & CMD_LAST) || !state->pipelining)
            && smtpd_chat_pending(state)) {
            smtpd_chat_pipelining(state);
            if (state->disconnect) {
                smtpd_stat(state, cmd->stat, 0);
                break;
            }
        }
        if ((cmd->flags & CMD_JUNK) && ++state->junk_count > var_smtpd_junk_command_limit)
            state->error_count++;
        smtpd_stat(state, cmd->stat, 0);
        if (!(cmd->flags & CMD_PRE_TLS) && smtpd_tls_required(state)) {
            smtpd_chat_reply(state, "530 5.7.0 Must issue a STARTTLS command first");
            continue;
        }
        if (cmd->action(state, args) == 0)
            smtpd_stat(state, cmd->stat, 1);
    }
    vstream_fflush(state->client);
}

static void smtpd_service(VSTREAM *stream, const char *service, char **args)
{
    SMTPD_STATE state;

    (void) service;
    (void) args;
    memset(&state, 0, sizeof(state));
    state.client = stream;
    state.buffer = vstring_alloc(512);
    state.verb = vstring_alloc(SMTPD_CMD_VERB_MAX + 1);
    state.addr_buf = vstring_alloc(100);
    state.why = vstring_alloc(100);
    state.params = smtpd_params_alloc();
    state.protocol = "SMTP";
    state.prev_crlf = 1;
    vstream_set_timeout(stream, (int) var_smtpd_timeout);
    smtpd_peer_init(&state);
    state.lf_mode = smtpd_lf_mode;
    if (state.lf_mode == SMTPD_TEXT_LF_REJECT && smtpd_check_bare_lf_excluded(&state))
        state.lf_mode = SMTPD_TEXT_LF_NORMALIZE;
    state.text = smtpd_text_create(state.lf_mode, (size_t) var_line_length_limit, smtpd_data_line,
                                   &state);
    msg_info("connect from %s", state.namaddr);

    if (smtpd_tls_wrapper(&state) == 0) {
        smtpd_sasl_session(&state);
        smtpd_proto(&state);
    } else {
        state.disconnect = 1;
        msg_info("lost connection after CONNECT from %s", state.namaddr);
    }

    smtpd_mail_reset(&state);
    smtpd_check_session_end(&state);    /* H15 */
    smtpd_chat_disconnect_log(&state);
    smtpd_sasl_session_end(&state);
    smtpd_tls_session_end(&state);
    smtpd_text_free(state.text);
    if (state.helo_name)
        myfree(state.helo_name);
    if (state.client_reject)
        myfree(state.client_reject);
    smtpd_params_free(state.params);
    vstring_free(state.buffer);
    vstring_free(state.verb);
    vstring_free(state.addr_buf);
    vstring_free(state.why);
    smtpd_peer_reset(&state);
}

static void smtpd_pre_init(const char *service, char **args)
{
    (void) service;
    (void) args;
    if (strcasecmp(var_smtpd_forbid_bare_newline, "yes") == 0
        || strcasecmp(var_smtpd_forbid_bare_newline, "reject") == 0)
        smtpd_lf_mode = SMTPD_TEXT_LF_REJECT;
    else if (strcasecmp(var_smtpd_forbid_bare_newline, "normalize") == 0)
        smtpd_lf_mode = SMTPD_TEXT_LF_NORMALIZE;
    else if (strcasecmp(var_smtpd_forbid_bare_newline, "no") == 0)
        smtpd_lf_mode = SMTPD_TEXT_LF_ALLOW;
    else
        msg_fatal("smtpd_forbid_bare_newline: bad value \"%s\": use yes, normalize or no",
                  var_smtpd_forbid_bare_newline);
    smtpd_forbidden = argv_split(var_smtpd_forbidden_commands, ARGV_DELIM_LIST);
    smtpd_check_init();
    smtpd_tls_init();
    smtpd_sasl_init();
}

/*
 * smtpd_post_init - note a table whose file cannot be watched from here
 * (after the privilege drop its directory may not be searchable): such a
 * table would look "changed" at every check, and the process would never
 * serve a client.
 */
static int smtpd_watch_tables = 1;

static void smtpd_post_init(const char *service, char **args)
{
    const char *name;

    (void) service;
    (void) args;
    if ((name = dict_changed_name()) != NULL) {
        msg_warn("cannot watch table %s for changes: restart postern after changing it", name);
        smtpd_watch_tables = 0;
    }
    smtpd_tls_post_init();
}

/* smtpd_pre_accept - between sessions: restart when a table was rebuilt */

static void smtpd_pre_accept(const char *service, char **args)
{
    const char *name;

    (void) service;
    (void) args;
    if (smtpd_watch_tables && mail_server_use_count() > 0 && (name = dict_changed_name()) != NULL) {
        msg_info("table %s has changed -- restarting", name);
        exit(0);
    }
    if (mail_server_use_count() > 0 && (name = smtpd_tls_changed()) != NULL) {
        msg_info("certificate or key file %s has changed -- restarting", name);
        exit(0);
    }
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
        .pre_init = smtpd_pre_init,
        .post_init = smtpd_post_init,
        .pre_accept = smtpd_pre_accept,
    };

    msg_init("smtpd");
    single_server_main(argc, argv, smtpd_service, &opts);
}
