/*
 * NAME
 *	fuzz_smtpd_sasl - libFuzzer harness for the SMTP server's plaintext
 *	STARTTLS and AUTH state machine
 * SYNOPSIS
 *	build/fuzz/fuzz_smtpd_sasl [libFuzzer options] [corpus...]
 * DESCRIPTION
 *	The harness compiles the SMTP server's own session code into itself
 *	(smtpd/smtpd.c with its command table and loop, smtpd_chat.c,
 *	smtpd_tls.c, smtpd_sasl.c, smtpd_peer.c) and runs whole sessions:
 *	the input is what a client sends, written to one end of a socket
 *	pair before the session starts (so it is all "pipelined"), and
 *	smtpd_service() serves the other end. A thread collects what the
 *	server says.
 *
 *	The first input byte chooses the configuration: bit 0 pretends TLS
 *	is already active (as on a wrapper-mode service) so that the
 *	protected branches run in clear; bit 1 smtpd_tls_auth_only; bit 2
 *	broken_sasl_auth_clients; bit 3 smtpd_tls_security_level =
 *	encrypt; bit 4 smtpd_forbid_unauth_pipelining = yes (off otherwise:
 *	every input is "pipelined" and would mostly end before the
 *	greeting); bit 5 bare LF accepted as a line end. The TLS context is
 *	real (a certificate made at start-up); the SASL backend is this
 *	file's: PLAIN accepts "\0u\0p", LOGIN asks for user and password,
 *	X-LOOP keeps asking, X-TEMP fails temporarily; its answers depend
 *	only on the input.
 *
 *	Properties checked (abort when one fails):
 *	  - nothing follows "220 2.0.0 Ready to start TLS" in clear text:
 *	    the plaintext pipelined behind STARTTLS is never answered
 *	    (CVE-2011-0411), and a failed handshake ends the session;
 *	  - "235 2.7.0 Authentication successful" is sent only after the
 *	    backend accepted the credentials, never twice in a session, and
 *	    never while TLS is required for AUTH and not active;
 *	  - every reply line is a well-formed reply (three digits, then a
 *	    space or a dash) of at most 512 bytes;
 *	  - the session frees everything (LeakSanitizer).
 *	With FUZZ_SMTPD_SASL_SHOW set in the environment the server's replies
 *	are copied to standard error (for looking at one seed).
 *	Dependencies the session does not exercise here are stubbed: the
 *	restrictions accept everything, and the cleanup service is never
 *	there (451 at the first recipient).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* the server's session code, compiled in */
#define main smtpd_main_unused
#include "../../smtpd/smtpd.c"
#undef main
#include "../../smtpd/smtpd_chat.c"
#include "../../smtpd/smtpd_peer.c"
#include "../../smtpd/smtpd_sasl.c"
#include "../../smtpd/smtpd_tls.c"

#include "mail_conf.h"
#include "msg.h"
#include "sasl_srv.h"

/* ---- stubs for what the session does not exercise here ---- */

void smtpd_check_init(void)
{
}

int smtpd_check_client(SMTPD_STATE *state, VSTRING *reply)
{
    (void)state;
    (void)reply;
    return SMTPD_CHECK_OK;
}

int smtpd_check_helo(SMTPD_STATE *state, VSTRING *reply)
{
    return smtpd_check_client(state, reply);
}

int smtpd_check_mail(SMTPD_STATE *state, VSTRING *reply)
{
    return smtpd_check_client(state, reply);
}

int smtpd_check_rcpt(SMTPD_STATE *state, const char *rcpt, VSTRING *reply)
{
    (void)rcpt;
    return smtpd_check_client(state, reply);
}

int smtpd_check_vrfy(SMTPD_STATE *state, const char *rcpt, VSTRING *reply)
{
    (void)rcpt;
    return smtpd_check_client(state, reply);
}

int smtpd_check_data(SMTPD_STATE *state, VSTRING *reply)
{
    return smtpd_check_client(state, reply);
}

int smtpd_check_bare_lf_excluded(SMTPD_STATE *state)
{
    (void)state;
    return 0;
}

int smtpd_check_eod(SMTPD_STATE *state, VSTRING *reply)
{
    return smtpd_check_client(state, reply);
}

void smtpd_check_headers(SMTPD_STATE *state)
{
    (void)state;
}

void smtpd_check_reset(SMTPD_STATE *state)
{
    (void)state;
}

void smtpd_check_session_end(SMTPD_STATE *state)
{
    (void)state;
}

int smtpd_data_open(SMTPD_STATE *state, VSTRING *reply)
{
    (void)state;
    vstring_strcpy(reply, "451 4.3.0 Error: queue file write error");
    return -1;
}

int smtpd_data_rcpt(SMTPD_STATE *state, const char *rcpt, int notify, const char *orcpt)
{
    (void)state;
    (void)rcpt;
    (void)notify;
    (void)orcpt;
    return -1;
}

int smtpd_data_start(SMTPD_STATE *state, VSTRING *reply)
{
    return smtpd_data_open(state, reply);
}

int smtpd_data_finish(SMTPD_STATE *state, VSTRING *reply)
{
    return smtpd_data_open(state, reply);
}

void smtpd_data_abort(SMTPD_STATE *state)
{
    (void)state;
}

void smtpd_data_line(int type, const char *data, size_t len, void *context)
{
    (void)type;
    (void)data;
    (void)len;
    (void)context;
}

/* ---- a SASL backend of our own ---- */

static int fuzz_accepted; /* the backend said DONE in this session */

typedef struct FUZZ_SASL {
    SASL_SERVER server;
    int step;
    char mech[16];
    char user[64];
    char *username;
} FUZZ_SASL;

static int fuzz_decode(const char *b64, char *out, size_t outlen, size_t *len)
{
    unsigned char buf[4096];
    size_t inlen = strlen(b64);
    int n;

    if (inlen == 0) {
        *len = 0;
        return 0;
    }
    if (inlen > sizeof(buf) / 3 * 4 - 4 || inlen % 4)
        return -1;
    n = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)inlen);
    if (n < 0)
        return -1;
    if (b64[inlen - 1] == '=')
        n--;
    if (inlen > 1 && b64[inlen - 2] == '=')
        n--;
    if ((size_t)n >= outlen)
        return -1;
    memcpy(out, buf, (size_t)n);
    out[n] = 0;
    *len = (size_t)n;
    return 0;
}

static const char *fuzz_mechs(SASL_SERVER *s)
{
    (void)s;
    return "PLAIN LOGIN X-LOOP X-TEMP";
}

static int fuzz_done(FUZZ_SASL *f, const char *user, VSTRING *reply)
{
    if (f->username)
        myfree(f->username);
    f->username = mystrdup(user);
    vstring_reset(reply);
    fuzz_accepted = 1;
    return SASL_AUTH_DONE;
}

static int fuzz_step(FUZZ_SASL *f, const char *resp, VSTRING *reply)
{
    char data[600];
    size_t len;

    if (resp && fuzz_decode(resp, data, sizeof(data), &len) < 0) {
        vstring_strcpy(reply, "bad data");
        return SASL_AUTH_FORM;
    }
    if (strcmp(f->mech, "X-TEMP") == 0) {
        vstring_strcpy(reply, "backend (unavailable).");
        return SASL_AUTH_TEMP;
    }
    if (strcmp(f->mech, "X-LOOP") == 0) {
        vstring_strcpy(reply, "TW9yZT8=");
        return SASL_AUTH_MORE;
    }
    if (strcmp(f->mech, "PLAIN") == 0) {
        if (resp == NULL) {
            vstring_reset(reply);
            return SASL_AUTH_MORE;
        }
        if (len == 4 && memcmp(data, "\0u\0p", 4) == 0)
            return fuzz_done(f, "u", reply);
        vstring_strcpy(reply, "authentication failure");
        return SASL_AUTH_FAIL;
    }
    /* LOGIN */
    if (f->step == 0 && resp == NULL) {
        f->step = 1;
        vstring_strcpy(reply, "VXNlcm5hbWU6");
        return SASL_AUTH_MORE;
    }
    if (f->step <= 1) {
        snprintf(f->user, sizeof(f->user), "%.*s", (int)(len < 63 ? len : 63), data);
        f->step = 2;
        vstring_strcpy(reply, "UGFzc3dvcmQ6");
        return SASL_AUTH_MORE;
    }
    if (strcmp(f->user, "u") == 0 && len == 1 && data[0] == 'p')
        return fuzz_done(f, f->user, reply);
    vstring_strcpy(reply, "authentication failure");
    return SASL_AUTH_FAIL;
}

static int fuzz_first(SASL_SERVER *s, const char *mech, const char *init, VSTRING *reply)
{
    FUZZ_SASL *f = (FUZZ_SASL *)s;

    snprintf(f->mech, sizeof(f->mech), "%s", mech);
    for (char *cp = f->mech; *cp; cp++)
        *cp = (char)toupper((unsigned char)*cp);
    f->step = 0;
    if (init && strcmp(init, "=") == 0)
        init = "";
    return fuzz_step(f, init, reply);
}

static int fuzz_next(SASL_SERVER *s, const char *resp, VSTRING *reply)
{
    return fuzz_step((FUZZ_SASL *)s, resp, reply);
}

static const char *fuzz_username(SASL_SERVER *s)
{
    return ((FUZZ_SASL *)s)->username;
}

static void fuzz_free(SASL_SERVER *s)
{
    FUZZ_SASL *f = (FUZZ_SASL *)s;

    if (f->username)
        myfree(f->username);
    myfree(f);
}

static SASL_SERVER *fuzz_create(SASL_SERVER_IMPL *impl, const SASL_SERVER_PROPS *props,
                                VSTRING *why)
{
    FUZZ_SASL *f = mycalloc(1, sizeof(*f));

    (void)impl;
    (void)props;
    (void)why;
    f->server.mechs = fuzz_mechs;
    f->server.first = fuzz_first;
    f->server.next = fuzz_next;
    f->server.username = fuzz_username;
    f->server.free = fuzz_free;
    return &f->server;
}

static SASL_SERVER_IMPL fuzz_impl = {"fuzz", fuzz_create, NULL};

/* ---- start-up: configuration, a certificate ---- */

static void fuzz_certificate(const char *path)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    FILE *fp;

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"fuzz.example", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_sign(x, key, EVP_sha256());
    if ((fp = fopen(path, "w")) == NULL)
        abort();
    PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL);
    PEM_write_X509(fp, x);
    fclose(fp);
    X509_free(x);
    EVP_PKEY_free(key);
}

static int fuzz_level_encrypt_ready;

static void fuzz_init(void)
{
    static char cert[] = "/tmp/fuzz_smtpd_sasl.XXXXXX";
    int fd;

    msg_init("smtpd");
    msg_set_syslog(0);
    if ((fd = mkstemp(cert)) < 0)
        abort();
    close(fd);
    fuzz_certificate(cert);
    mail_conf_reset();
    mail_conf_override("myhostname", "mx.example.com");
    mail_conf_override("smtpd_tls_security_level", "may");
    mail_conf_override("smtpd_tls_chain_files", cert);
    mail_conf_override("smtpd_tls_session_cache_timeout", "0");
    mail_conf_override("smtpd_timeout", "2");
    mail_conf_override("smtpd_starttls_timeout", "2");
    mail_conf_override("smtpd_error_sleep_time", "0");
    mail_conf_override("smtpd_peername_lookup", "no");
    mail_conf_override("smtpd_sasl_response_limit", "600");
    mail_conf_eval();
    smtpd_pre_init("smtp", NULL); /* parses settings, loads the certificate */
    if (smtpd_tls_ctx == NULL)
        abort();
    smtpd_sasl_impl = &fuzz_impl;
    unlink(cert);
    fuzz_level_encrypt_ready = 1;
}

/* ---- one session ---- */

/*
 * fuzz_wrapped_session - smtpd_service() for a session whose TLS layer is
 * already up (wrapper mode), without a TLS session object: the same
 * set-up and tear-down, with tls_active set.
 */
static void fuzz_wrapped_session(VSTREAM *stream, SMTPD_STATE *state)
{
    state->client = stream;
    state->buffer = vstring_alloc(512);
    state->verb = vstring_alloc(SMTPD_CMD_VERB_MAX + 1);
    state->addr_buf = vstring_alloc(100);
    state->why = vstring_alloc(100);
    state->params = smtpd_params_alloc();
    state->protocol = "SMTP";
    state->prev_crlf = 1;
    vstream_set_timeout(stream, (int)var_smtpd_timeout);
    smtpd_peer_init(state);
    state->lf_mode = smtpd_lf_mode;
    state->text =
        smtpd_text_create(state->lf_mode, (size_t)var_line_length_limit, smtpd_data_line, state);
    state->tls_active = 1;
    state->tls_protocol = mystrdup("TLSv1.3");
    state->tls_cipher = mystrdup("TLS_AES_256_GCM_SHA384");
    smtpd_sasl_session(state);
    smtpd_proto(state);
    smtpd_mail_reset(state);
    smtpd_check_session_end(state);
    smtpd_chat_disconnect_log(state);
    smtpd_sasl_session_end(state);
    smtpd_tls_session_end(state);
    smtpd_text_free(state->text);
    if (state->helo_name)
        myfree(state->helo_name);
    if (state->client_reject)
        myfree(state->client_reject);
    smtpd_params_free(state->params);
    vstring_free(state->buffer);
    vstring_free(state->verb);
    vstring_free(state->addr_buf);
    vstring_free(state->why);
    smtpd_peer_reset(state);
}

typedef struct FUZZ_OUT {
    int fd;
    VSTRING *text;
} FUZZ_OUT;

static void *fuzz_drain(void *arg)
{
    FUZZ_OUT *out = arg;
    char buf[8192];
    ssize_t n;

    while ((n = read(out->fd, buf, sizeof(buf))) > 0)
        vstring_memcat(out->text, buf, (size_t)n);
    return NULL;
}

/* fuzz_check - the properties of the server's output */

static void fuzz_check(const VSTRING *text, int auth_needs_tls)
{
    const char *data = vstring_str(text);
    size_t len = vstring_len(text);
    const char *ready = "220 2.0.0 Ready to start TLS\r\n";
    const char *found;
    int successes = 0;

    if ((found = memmem(data, len, ready, strlen(ready))) != NULL &&
        found + strlen(ready) != data + len)
        abort(); /* a reply in clear after STARTTLS */
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t line_len;

        if (nl == NULL)
            abort(); /* a reply without a line end */
        line_len = (size_t)(nl - (data + pos)) + 1;
        if (line_len < 5 || line_len > 512 || data[pos + line_len - 2] != '\r')
            abort();
        for (int i = 0; i < 3; i++)
            if (data[pos + i] < '0' || data[pos + i] > '9')
                abort();
        if (data[pos + 3] != ' ' && data[pos + 3] != '-')
            abort();
        if (line_len >= 8 && memcmp(data + pos, "235 ", 4) == 0)
            successes++;
        pos += line_len;
    }
    if (successes > 1 || (successes && !fuzz_accepted) || (successes && auth_needs_tls))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    FUZZ_OUT out;
    pthread_t thread;
    VSTREAM *stream;
    int sv[2];
    int flags;
    int saved_level;

    if (!ready) {
        fuzz_init();
        ready = 1;
    }
    if (size < 1 || size > 16384)
        return 0;
    flags = data[0];
    data++;
    size--;

    var_smtpd_tls_auth_only = (flags & 2) != 0;
    var_broken_sasl_auth_clients = (flags & 4) != 0;
    saved_level = smtpd_tls_level;
    if (flags & 8)
        smtpd_tls_level = SMTPD_TLS_ENCRYPT;
    var_smtpd_forbid_unauth_pipelining = (flags & 16) != 0;
    smtpd_lf_mode = (flags & 32) ? SMTPD_TEXT_LF_NORMALIZE : SMTPD_TEXT_LF_REJECT;
    fuzz_accepted = 0;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    if (size > 0 && write(sv[1], data, size) != (ssize_t)size)
        abort();
    shutdown(sv[1], SHUT_WR);
    out.fd = sv[1];
    out.text = vstring_alloc(1024);
    if (pthread_create(&thread, NULL, fuzz_drain, &out) != 0)
        abort();

    stream = vstream_fdopen(sv[0], O_RDWR);
    if (flags & 1) {
        /* as if on a wrapper-mode service whose handshake is done */
        SMTPD_STATE state;

        memset(&state, 0, sizeof(state));
        fuzz_wrapped_session(stream, &state);
    } else {
        smtpd_service(stream, "smtp", NULL);
    }
    vstream_fclose(stream);
    pthread_join(thread, NULL);
    close(sv[1]);
    if (getenv("FUZZ_SMTPD_SASL_SHOW")) /* debugging a seed: show the replies */
        fprintf(stderr, "%s", vstring_str(out.text));
    fuzz_check(out.text, (flags & 1) == 0 && ((flags & 2) || (flags & 8)));
    vstring_free(out.text);
    smtpd_tls_level = saved_level;
    return 0;
}
