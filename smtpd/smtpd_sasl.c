/*
 * NAME
 *	smtpd_sasl - SMTP authentication in the SMTP server (RFC 4954)
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_sasl_init(void)
 *	void smtpd_sasl_session(SMTPD_STATE *state)
 *	void smtpd_sasl_session_end(SMTPD_STATE *state)
 *	int smtpd_sasl_enabled(void)
 *	void smtpd_sasl_ehlo(SMTPD_STATE *state, ARGV *lines)
 *	int smtpd_auth_cmd(SMTPD_STATE *state, const char *args)
 *	int smtpd_sasl_mail_param(SMTPD_STATE *state, const char *value)
 *	void smtpd_sasl_mail_reset(SMTPD_STATE *state)
 *	const char *smtpd_sasl_log_reason(VSTRING *buf, const char *reason)
 * DESCRIPTION
 *	smtpd_sasl_init() runs before the chroot and privilege drop: with
 *	$smtpd_sasl_auth_enable it starts the backend named by
 *	$smtpd_sasl_type (Cyrus SASL loads its plugins and reads
 *	$smtpd_sasl_path.conf from $cyrus_sasl_config_path; Dovecot is
 *	only connected to later, and every exchange with it is bounded by
 *	SMTPD_SASL_TIMEOUT seconds, so that a hung authentication server
 *	cannot hold a session for long) and checks both security option
 *	lists.
 *	Any problem is fatal: a server that was told to authenticate and
 *	cannot would otherwise silently refuse every user's mail.
 *
 *	smtpd_sasl_session() prepares SASL for a session, with the security
 *	options of $smtpd_sasl_tls_security_options once TLS is active and
 *	$smtpd_sasl_security_options before (so PLAIN may be offered only
 *	over TLS). When the backend is not available (Dovecot down) the
 *	session offers no AUTH. smtpd_sasl_session_end() forgets the
 *	login and releases the backend's session (STARTTLS calls both).
 *
 *	smtpd_sasl_ehlo() adds "AUTH MECH..." to the EHLO reply (and
 *	"AUTH=MECH..." with $broken_sasl_auth_clients) when AUTH may be
 *	used now: SASL is enabled, the backend offers mechanisms, nobody
 *	has logged in yet, and TLS is active when $smtpd_tls_auth_only (or
 *	smtpd_tls_security_level = encrypt) says it must be.
 *
 *	smtpd_auth_cmd() is the AUTH command: "AUTH mechanism [initial
 *	response]", then "334 challenge" and a response line for each
 *	round, until the backend decides. Replies, in the order the checks
 *	are made: 503 5.5.1 Error: authentication not enabled; 503 5.5.1
 *	Error: send HELO/EHLO first; 504 5.5.4 Encryption required for
 *	requested authentication mechanism; 503 5.5.1 Error: already
 *	authenticated; 503 5.5.1 Error: MAIL transaction in progress; 501
 *	5.5.4 Syntax: AUTH mechanism; 504 5.5.4 Unsupported authentication
 *	mechanism; then 235 2.7.0 Authentication successful, 535 5.7.8
 *	Error: authentication failed: REASON, 454 4.7.0 Temporary
 *	authentication failure: REASON, 501 5.5.2 REASON (malformed
 *	response), 501 5.7.0 Authentication aborted (the client sent "*"),
 *	or 500 5.5.6 Authentication exchange line is too long (longer than
 *	$smtpd_sasl_response_limit; the session then ends). A failure is
 *	logged as "warning: host[addr]: SASL PLAIN authentication failed:
 *	REASON", the line fail2ban's postfix-sasl filter looks for.
 *
 *	smtpd_sasl_mail_param() takes the AUTH= parameter of MAIL FROM
 *	(RFC 4954 section 5): xtext, decoding to "<>" or an address of
 *	printable ASCII. It is kept as state->sasl_sender only for a
 *	client that has logged in (anyone else's claim is worth nothing).
 *	Returns 0, or -1 after the reply 501 5.5.4 Bad AUTH parameter
 *	syntax. smtpd_sasl_mail_reset() forgets it at the end of the
 *	transaction.
 *
 *	smtpd_sasl_log_reason() makes the reason of a failure safe for the
 *	warning line: any byte other than letters, digits, space, '+' and
 *	'/' becomes a space and trailing spaces go, so that a reason from
 *	the backend can never stop the line from matching fail2ban's
 *	pattern (which allows only those characters after "failed: ").
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "sasl_srv.h"
#include "smtpd.h"
#include "smtpd_cmd.h"
#include "sock.h"
#include "vstream.h"
#include "vstring.h"

#define SMTPD_SASL_ROUNDS_MAX 20   /* challenges in one exchange */
#define SMTPD_SASL_SENDER_MAX 2048 /* bytes of a decoded AUTH= value */
#define SMTPD_SASL_TIMEOUT 10      /* seconds for one exchange with Dovecot */

static SASL_SERVER_IMPL *smtpd_sasl_impl;
static int smtpd_sasl_opts;     /* without TLS */
static int smtpd_sasl_tls_opts; /* with TLS */

void smtpd_sasl_init(void)
{
    VSTRING *why;

    if (!var_smtpd_sasl_auth_enable)
        return;
    why = vstring_alloc(100);
    if (sasl_sec_options(var_smtpd_sasl_security_options, &smtpd_sasl_opts, why) < 0)
        msg_fatal("smtpd_sasl_security_options: %s", vstring_str(why));
    if (sasl_sec_options(var_smtpd_sasl_tls_security_options, &smtpd_sasl_tls_opts, why) < 0)
        msg_fatal("smtpd_sasl_tls_security_options: %s", vstring_str(why));
    smtpd_sasl_impl = sasl_srv_init(var_smtpd_sasl_type, var_smtpd_sasl_path,
                                    var_cyrus_sasl_config_path, SMTPD_SASL_TIMEOUT, why);
    if (smtpd_sasl_impl == NULL)
        msg_fatal("SASL per-process initialization failed: %s", vstring_str(why));
    vstring_free(why);
}

int smtpd_sasl_enabled(void)
{
    return smtpd_sasl_impl != NULL;
}

void smtpd_sasl_session(SMTPD_STATE *state)
{
    SASL_SERVER_PROPS props;
    VSTRING *why;
    SOCK_ADDR_TEXT local;
    const char *local_port = "";

    if (smtpd_sasl_impl == NULL || state->sasl_context)
        return;
    if (sock_local_text(vstream_fileno(state->client), &local) == 0 && local.family != AF_UNIX)
        local_port = local.port;
    memset(&props, 0, sizeof(props));
    props.service = var_smtpd_sasl_service;
    props.server_name = var_myhostname;
    props.user_realm = var_smtpd_sasl_local_domain;
    props.client_addr = state->addr;
    props.client_port = state->port;
    props.local_addr = state->local_addr;
    props.local_port = local_port;
    props.tls_active = state->tls_active;
    props.sec_options = state->tls_active ? smtpd_sasl_tls_opts : smtpd_sasl_opts;
    why = vstring_alloc(100);
    if ((state->sasl_context = sasl_srv_create(smtpd_sasl_impl, &props, why)) == NULL)
        msg_warn("%s: SASL authentication is not available: %s", state->namaddr, vstring_str(why));
    vstring_free(why);
}

void smtpd_sasl_session_end(SMTPD_STATE *state)
{
    if (state->sasl_context) {
        sasl_srv_free(state->sasl_context);
        state->sasl_context = NULL;
    }
    if (state->sasl_username)
        myfree(state->sasl_username);
    if (state->sasl_method)
        myfree(state->sasl_method);
    state->sasl_username = state->sasl_method = NULL;
    smtpd_sasl_mail_reset(state);
}

/* smtpd_sasl_mechs - what may be offered now, or NULL */

static const char *smtpd_sasl_mechs(SMTPD_STATE *state)
{
    const char *mechs;

    if (smtpd_sasl_impl == NULL || state->sasl_context == NULL || state->sasl_username)
        return NULL;
    if (smtpd_tls_auth_only() && !state->tls_active)
        return NULL;
    mechs = sasl_srv_mechs(state->sasl_context);
    return *mechs ? mechs : NULL;
}

void smtpd_sasl_ehlo(SMTPD_STATE *state, ARGV *lines)
{
    const char *mechs = smtpd_sasl_mechs(state);
    VSTRING *buf;

    if (mechs == NULL)
        return;
    buf = vstring_alloc(100);
    vstring_sprintf(buf, "AUTH %s", mechs);
    argv_add(lines, vstring_str(buf));
    if (var_broken_sasl_auth_clients) {
        vstring_sprintf(buf, "AUTH=%s", mechs);
        argv_add(lines, vstring_str(buf));
    }
    vstring_free(buf);
}

const char *smtpd_sasl_log_reason(VSTRING *buf, const char *reason)
{
    vstring_reset(buf);
    for (const char *cp = reason; *cp; cp++) {
        unsigned char c = (unsigned char)*cp;

        vstring_addch(buf, (isascii(c) && (isalnum(c) || c == '+' || c == '/')) ? (char)c : ' ');
    }
    vstring_trim_right(buf);
    return vstring_str(buf);
}

/* smtpd_sasl_failed - log and reply for an exchange that did not succeed */

static void smtpd_sasl_failed(SMTPD_STATE *state, const char *mech, int status, VSTRING *reason)
{
    VSTRING *clean = vstring_alloc(100);

    msg_warn("%s: SASL %s authentication failed: %s", state->namaddr, mech,
             smtpd_sasl_log_reason(clean, vstring_str(reason)));
    vstring_free(clean);
    switch (status) {
    case SASL_AUTH_TEMP:
        smtpd_chat_reply(state, "454 4.7.0 Temporary authentication failure: %s",
                         vstring_str(reason));
        break;
    case SASL_AUTH_FORM:
        smtpd_chat_reply(state, "501 5.5.2 %s", vstring_str(reason));
        break;
    default:
        smtpd_chat_reply(state, "535 5.7.8 Error: authentication failed: %s", vstring_str(reason));
        break;
    }
}

/*
 * smtpd_sasl_response - read one response line of an exchange into buf,
 * without its line end. Returns SMTPD_READ_OK, _EOF, _TIMEOUT, _BARE_LF
 * or _TOO_LONG.
 */
static int smtpd_sasl_response(SMTPD_STATE *state, VSTRING *buf)
{
    size_t limit = (size_t)var_smtpd_sasl_response_limit + 2;
    int ch = vstream_get_line(state->client, buf, limit);
    size_t len;

    if (ch == VSTREAM_EOF ||
        (ch != '\n' && (vstream_feof(state->client) || vstream_ferror(state->client))))
        return vstream_ftimeout(state->client) ? SMTPD_READ_TIMEOUT : SMTPD_READ_EOF;
    if (ch != '\n')
        return SMTPD_READ_TOO_LONG;
    len = vstring_len(buf);
    if (len >= 2 && vstring_str(buf)[len - 2] == '\r') {
        vstring_truncate(buf, len - 2);
    } else {
        vstring_truncate(buf, len - 1);
        if (state->lf_mode == SMTPD_TEXT_LF_REJECT)
            return SMTPD_READ_BARE_LF;
    }
    return SMTPD_READ_OK;
}

/* smtpd_sasl_offered - the canonical name of mech if we offer it, else NULL */

static char *smtpd_sasl_offered(SMTPD_STATE *state, const char *mech, size_t len)
{
    const char *cp = smtpd_sasl_mechs(state);

    while (cp && *cp) {
        size_t n = strcspn(cp, " ");

        if (n == len && strncasecmp(cp, mech, len) == 0)
            return mystrndup(cp, n);
        cp += n;
        cp += strspn(cp, " ");
    }
    return NULL;
}

int smtpd_auth_cmd(SMTPD_STATE *state, const char *args)
{
    VSTRING *reply;
    VSTRING *line;
    char *mech;
    const char *init = NULL;
    size_t mech_len;
    int status;
    int rounds = 0;
    int read_status;

    if (smtpd_sasl_impl == NULL) {
        smtpd_chat_reply(state, "503 5.5.1 Error: authentication not enabled");
        return -1;
    }
    if (state->helo_name == NULL) {
        smtpd_chat_reply(state, "503 5.5.1 Error: send HELO/EHLO first");
        return -1;
    }
    if (smtpd_tls_auth_only() && !state->tls_active) {
        smtpd_chat_reply(state, "504 5.5.4 Encryption required for requested authentication "
                                "mechanism");
        return -1;
    }
    if (state->sasl_username) {
        smtpd_chat_reply(state, "503 5.5.1 Error: already authenticated");
        return -1;
    }
    if (state->in_mail) {
        smtpd_chat_reply(state, "503 5.5.1 Error: MAIL transaction in progress");
        return -1;
    }
    mech_len = strcspn(args, " \t");
    if (mech_len == 0) {
        smtpd_chat_reply(state, "501 5.5.4 Syntax: AUTH mechanism");
        return -1;
    }
    if (args[mech_len]) {
        init = args + mech_len + strspn(args + mech_len, " \t");
        if (*init == 0 || init[strcspn(init, " \t")] != 0) {
            smtpd_chat_reply(state, "501 5.5.4 Syntax: AUTH mechanism");
            return -1;
        }
    }
    if (state->sasl_context == NULL)
        smtpd_sasl_session(state); /* the backend may be back */
    if (state->sasl_context == NULL) {
        smtpd_chat_reply(state, "454 4.7.0 Temporary authentication failure: authentication "
                                "service unavailable");
        return -1;
    }
    if ((mech = smtpd_sasl_offered(state, args, mech_len)) == NULL) {
        smtpd_chat_reply(state, "504 5.5.4 Unsupported authentication mechanism");
        return -1;
    }

    reply = vstring_alloc(100);
    line = vstring_alloc(100);
    status = sasl_srv_first(state->sasl_context, mech, init, reply);
    while (status == SASL_AUTH_MORE) {
        if (++rounds > SMTPD_SASL_ROUNDS_MAX) {
            vstring_strcpy(reply, "too many authentication rounds");
            status = SASL_AUTH_FAIL;
            break;
        }
        smtpd_chat_reply(state, "334 %s", vstring_str(reply));
        read_status = smtpd_sasl_response(state, line);
        if (read_status == SMTPD_READ_EOF || read_status == SMTPD_READ_TIMEOUT) {
            smtpd_chat_lost(state, read_status);
            status = -1;
            break;
        }
        if (read_status == SMTPD_READ_BARE_LF) {
            smtpd_chat_bare_lf(state);
            status = -1;
            break;
        }
        if (read_status == SMTPD_READ_TOO_LONG) {
            smtpd_chat_reply(state, "500 5.5.6 Authentication exchange line is too long");
            state->disconnect = 1;
            status = -1;
            break;
        }
        if (strcmp(vstring_str(line), "*") == 0) {
            msg_warn("%s: SASL %s authentication aborted", state->namaddr, mech);
            smtpd_chat_reply(state, "501 5.7.0 Authentication aborted");
            status = -1;
            break;
        }
        status = sasl_srv_next(state->sasl_context, vstring_str(line), reply);
    }
    if (status == SASL_AUTH_DONE) {
        state->sasl_username = mystrdup(sasl_srv_username(state->sasl_context));
        state->sasl_method = mystrdup(mech);
        smtpd_chat_reply(state, "235 2.7.0 Authentication successful");
    } else if (status >= 0) {
        smtpd_sasl_failed(state, mech, status, reply);
    }
    myfree(mech);
    vstring_free(reply);
    vstring_free(line);
    return status == SASL_AUTH_DONE ? 0 : -1;
}

int smtpd_sasl_mail_param(SMTPD_STATE *state, const char *value)
{
    VSTRING *decoded;
    const char *cp;

    if (value == NULL || *value == 0) {
        smtpd_chat_reply(state, "501 5.5.4 Bad AUTH parameter syntax");
        return -1;
    }
    decoded = vstring_alloc(100);
    if (smtpd_xtext_decode(decoded, value, strlen(value)) < 0 ||
        vstring_len(decoded) > SMTPD_SASL_SENDER_MAX) {
        vstring_free(decoded);
        smtpd_chat_reply(state, "501 5.5.4 Bad AUTH parameter syntax");
        return -1;
    }
    for (cp = vstring_str(decoded); *cp; cp++) {
        if ((unsigned char)*cp <= ' ' || (unsigned char)*cp >= 0x7f) {
            vstring_free(decoded);
            smtpd_chat_reply(state, "501 5.5.4 Bad AUTH parameter syntax");
            return -1;
        }
    }
    smtpd_sasl_mail_reset(state);
    if (state->sasl_username) {
        if (strcmp(vstring_str(decoded), "<>") == 0)
            vstring_reset(decoded);
        state->sasl_sender = vstring_export(decoded);
    } else {
        vstring_free(decoded);
    }
    return 0;
}

void smtpd_sasl_mail_reset(SMTPD_STATE *state)
{
    if (state->sasl_sender) {
        myfree(state->sasl_sender);
        state->sasl_sender = NULL;
    }
}
