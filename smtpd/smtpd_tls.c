/*
 * NAME
 *	smtpd_tls - TLS in the SMTP server: STARTTLS and wrapper mode
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_tls_init(void)
 *	void smtpd_tls_post_init(void)
 *	int smtpd_tls_offer(SMTPD_STATE *state)
 *	int smtpd_tls_required(SMTPD_STATE *state)
 *	int smtpd_tls_auth_only(void)
 *	int smtpd_tls_wrapper(SMTPD_STATE *state)
 *	int smtpd_starttls_cmd(SMTPD_STATE *state, const char *args)
 *	size_t smtpd_tls_pending(SMTPD_STATE *state)
 *	void smtpd_tls_session_end(SMTPD_STATE *state)
 *	const char *smtpd_tls_changed(void)
 * DESCRIPTION
 *	smtpd_tls_init() runs before the chroot and privilege drop. It
 *	works out the security level (smtpd_tls_security_level, or the
 *	old smtpd_use_tls and smtpd_enforce_tls when that is empty; a bad
 *	value is fatal) and, unless it is none and wrapper mode is off,
 *	loads the certificates and keys into a TLS server context with
 *	the protocols and cipher grade of the level: the mandatory ones at
 *	encrypt and in wrapper mode, the others at may. A context that
 *	cannot be made is logged and leaves the server without TLS: at
 *	level may mail still flows in clear; at encrypt every transaction
 *	is refused; in wrapper mode every connection is dropped. The
 *	session ticket key is shared through
 *	$data_directory/smtpd_tls_ticket.key (tls_server.h).
 *	smtpd_tls_post_init(), after the privilege drop, checks that the
 *	certificate files can still be watched for changes (in a chroot
 *	they cannot; watching is then off and only "postern reload" renews).
 *
 *	smtpd_tls_offer() says whether EHLO announces STARTTLS (a level
 *	other than none, no TLS yet, not wrapper mode: it is announced
 *	even when the context failed, so that the 454 reply tells the
 *	client why). smtpd_tls_required() says whether a command other
 *	than EHLO, HELO, STARTTLS, NOOP, RSET and QUIT must be refused
 *	with 530 5.7.0 Must issue a STARTTLS command first.
 *	smtpd_tls_auth_only() says whether AUTH needs TLS
 *	(smtpd_tls_auth_only, or level encrypt).
 *
 *	smtpd_tls_wrapper() starts TLS at once on a wrapper-mode service
 *	(RFC 8314 implicit TLS); it returns 0 when the session may go on
 *	(TLS is up, or wrapper mode is off) and -1 when it must end
 *	without a word.
 *
 *	smtpd_starttls_cmd() is the STARTTLS command (RFC 3207). After
 *	"220 2.0.0 Ready to start TLS" is flushed, everything the client
 *	has sent after the command and smtpd has already read is thrown
 *	away unread (vstream_purge_input): commands pipelined in clear
 *	text behind STARTTLS must never be taken as sent over TLS. Bytes
 *	not yet read are the handshake's, which then fails if they are not
 *	TLS. After the handshake the session starts afresh: no HELO name,
 *	no transaction, no SASL login (RFC 3207 section 4.2); SASL is
 *	prepared again with the TLS security options. A failed handshake
 *	ends the session.
 *
 *	smtpd_tls_pending() is the number of decrypted bytes waiting in
 *	the TLS layer (pipelining detection). smtpd_tls_session_end()
 *	sends the TLS close_notify and releases the session; it must run
 *	before the stream is closed. smtpd_tls_changed() names a
 *	certificate or key file that has changed since it was loaded, or
 *	returns NULL (also when nothing can be watched).
 */
#include <string.h>
#include <strings.h>

#include "mail_params.h"
#include "mail_server.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtpd.h"
#include "tls_proto.h"
#include "tls_server.h"
#include "vstream.h"
#include "vstring.h"

#define SMTPD_TLS_NONE 0
#define SMTPD_TLS_MAY 1
#define SMTPD_TLS_ENCRYPT 2

#define SMTPD_TLS_TICKET_FILE "smtpd_tls_ticket.key"

static int smtpd_tls_level;
static TLS_SERVER_CTX *smtpd_tls_ctx;
static int smtpd_tls_watch; /* certificate files can be stat'ed */

/* smtpd_tls_grade - the OpenSSL cipher list of a grade name */

static const char *smtpd_tls_grade(const char *grade)
{
    if (strcasecmp(grade, "high") == 0)
        return var_tls_high_cipherlist;
    if (strcasecmp(grade, "medium") == 0)
        return var_tls_medium_cipherlist;
    if (strcasecmp(grade, "low") == 0)
        return var_tls_low_cipherlist;
    if (strcasecmp(grade, "export") == 0)
        return var_tls_export_cipherlist;
    if (strcasecmp(grade, "null") == 0)
        return var_tls_null_cipherlist;
    return NULL;
}

void smtpd_tls_init(void)
{
    const char *level = var_smtpd_tls_security_level;
    TLS_SERVER_PROPS props;
    VSTRING *why;
    VSTRING *ciphers;
    VSTRING *ticket_file;
    const char *grade;
    const char *base;
    int mandatory;

    if (*level == 0)
        smtpd_tls_level = var_smtpd_enforce_tls ? SMTPD_TLS_ENCRYPT
                          : var_smtpd_use_tls   ? SMTPD_TLS_MAY
                                                : SMTPD_TLS_NONE;
    else if (strcasecmp(level, "none") == 0)
        smtpd_tls_level = SMTPD_TLS_NONE;
    else if (strcasecmp(level, "may") == 0)
        smtpd_tls_level = SMTPD_TLS_MAY;
    else if (strcasecmp(level, "encrypt") == 0)
        smtpd_tls_level = SMTPD_TLS_ENCRYPT;
    else
        msg_fatal("invalid smtpd_tls_security_level value \"%s\": use none, may or encrypt", level);
    if (smtpd_tls_level == SMTPD_TLS_NONE && !var_smtpd_tls_wrappermode)
        return;

    mandatory = smtpd_tls_level == SMTPD_TLS_ENCRYPT || var_smtpd_tls_wrappermode;
    grade = mandatory ? var_smtpd_tls_mandatory_ciphers : var_smtpd_tls_ciphers;
    if ((base = smtpd_tls_grade(grade)) == NULL)
        msg_fatal("invalid %s value \"%s\": use high, medium, low, export or null",
                  mandatory ? "smtpd_tls_mandatory_ciphers" : "smtpd_tls_ciphers", grade);
    why = vstring_alloc(100);
    ciphers = vstring_alloc(100);
    ticket_file = vstring_alloc(100);
    if (tls_proto_ciphers(ciphers, base, var_smtpd_tls_exclude_ciphers,
                          mandatory ? var_smtpd_tls_mandatory_exclude_ciphers : NULL) < 0)
        msg_fatal("invalid cipher exclusion list in smtpd_tls_exclude_ciphers or "
                  "smtpd_tls_mandatory_exclude_ciphers");
    if (*var_data_directory)
        vstring_sprintf(ticket_file, "%s/%s", var_data_directory, SMTPD_TLS_TICKET_FILE);

    memset(&props, 0, sizeof(props));
    props.chain_files = var_smtpd_tls_chain_files;
    props.cert_file = var_smtpd_tls_cert_file;
    props.key_file = var_smtpd_tls_key_file;
    props.eccert_file = var_smtpd_tls_eccert_file;
    props.eckey_file = var_smtpd_tls_eckey_file;
    props.protocols = mandatory ? var_smtpd_tls_mandatory_protocols : var_smtpd_tls_protocols;
    props.ciphers = vstring_str(ciphers);
    props.log_level = (int)var_smtpd_tls_loglevel;
    props.ticket_lifetime = var_smtpd_tls_session_cache_timeout;
    props.ticket_key_file = vstring_str(ticket_file);
    if ((smtpd_tls_ctx = tls_server_init(&props, why)) == NULL)
        msg_warn("cannot start the TLS server engine: %s: disabling TLS support", vstring_str(why));
    smtpd_tls_watch = smtpd_tls_ctx != NULL;
    vstring_free(why);
    vstring_free(ciphers);
    vstring_free(ticket_file);
}

void smtpd_tls_post_init(void)
{
    const char *name;

    /*
     * Inside a chroot (the default for smtp in master.cf) the files are
     * out of sight: that is normal, and "postern reload" is the way to
     * renew, so this is said only in verbose mode.
     */
    if (smtpd_tls_ctx && (name = tls_server_changed(smtpd_tls_ctx)) != NULL) {
        if (msg_verbose)
            msg_info("cannot watch %s for changes from here: run \"postern reload\" after "
                     "renewing the certificate",
                     name);
        smtpd_tls_watch = 0;
    }
}

const char *smtpd_tls_changed(void)
{
    if (!smtpd_tls_watch || smtpd_tls_ctx == NULL)
        return NULL;
    return tls_server_changed(smtpd_tls_ctx);
}

int smtpd_tls_offer(SMTPD_STATE *state)
{
    return smtpd_tls_level != SMTPD_TLS_NONE && !var_smtpd_tls_wrappermode && !state->tls_active;
}

int smtpd_tls_required(SMTPD_STATE *state)
{
    return (smtpd_tls_level == SMTPD_TLS_ENCRYPT || var_smtpd_tls_wrappermode) &&
           !state->tls_active;
}

int smtpd_tls_auth_only(void)
{
    return var_smtpd_tls_auth_only || smtpd_tls_level == SMTPD_TLS_ENCRYPT;
}

/* smtpd_tls_start - the handshake; 0, or -1 (logged) */

static int smtpd_tls_start(SMTPD_STATE *state)
{
    TLS_SESS *sess;

    sess = tls_server_start(smtpd_tls_ctx, state->client, (int)var_smtpd_starttls_timeout,
                            state->namaddr);
    if (sess == NULL)
        return -1;
    state->tls_context = sess;
    state->tls_active = 1;
    state->tls_protocol = mystrdup(sess->protocol);
    state->tls_cipher = mystrdup(sess->cipher);
    state->tls_cipher_bits = sess->cipher_bits;
    state->tls_cipher_algbits = sess->cipher_algbits;
    return 0;
}

int smtpd_tls_wrapper(SMTPD_STATE *state)
{
    if (!var_smtpd_tls_wrappermode)
        return 0;
    if (smtpd_tls_ctx == NULL) {
        msg_warn("Wrapper-mode request dropped from %s for service %s. TLS context "
                 "initialization failed. For details see earlier warnings in your logs.",
                 state->namaddr, mail_server_service());
        return -1;
    }
    state->where = "CONNECT";
    return smtpd_tls_start(state);
}

int smtpd_starttls_cmd(SMTPD_STATE *state, const char *args)
{
    if (smtpd_tls_level == SMTPD_TLS_NONE || var_smtpd_tls_wrappermode) {
        smtpd_chat_reply(state, "502 5.5.2 Error: command not recognized");
        return -1;
    }
    if (*args) {
        smtpd_chat_reply(state, "501 5.5.4 Syntax: STARTTLS");
        return -1;
    }
    if (state->tls_active) {
        smtpd_chat_reply(state, "554 5.5.1 Error: TLS already active");
        return -1;
    }
    if (state->in_mail) {
        smtpd_chat_reply(state, "503 5.5.1 Error: MAIL transaction in progress");
        return -1;
    }
    if (smtpd_tls_ctx == NULL) {
        smtpd_chat_reply(state, "454 4.7.0 TLS not available due to local problem");
        return -1;
    }
    smtpd_chat_reply(state, "220 2.0.0 Ready to start TLS");
    if (vstream_fflush(state->client) != 0) {
        smtpd_chat_lost(state, SMTPD_READ_EOF);
        return -1;
    }
    /* RFC 3207 5: what was pipelined in clear behind STARTTLS is not TLS input */
    vstream_purge_input(state->client);
    if (smtpd_tls_start(state) < 0) {
        state->disconnect = 1;
        msg_info("lost connection after STARTTLS from %s", state->namaddr);
        return -1;
    }
    /* RFC 3207 4.2: forget what the client said before */
    smtpd_mail_reset(state);
    if (state->helo_name) {
        myfree(state->helo_name);
        state->helo_name = NULL;
    }
    state->protocol = "SMTP";
    state->pipelining = 0;
    smtpd_sasl_session_end(state);
    smtpd_sasl_session(state);
    return 0;
}

size_t smtpd_tls_pending(SMTPD_STATE *state)
{
    return state->tls_context ? tls_sess_pending(state->tls_context) : 0;
}

void smtpd_tls_session_end(SMTPD_STATE *state)
{
    if (state->tls_context) {
        tls_server_stop(state->client, state->tls_context, (int)var_smtpd_starttls_timeout,
                        vstream_ferror(state->client) || vstream_feof(state->client));
        state->tls_context = NULL;
    }
    state->tls_active = 0;
    if (state->tls_protocol)
        myfree(state->tls_protocol);
    if (state->tls_cipher)
        myfree(state->tls_cipher);
    state->tls_protocol = state->tls_cipher = NULL;
}
