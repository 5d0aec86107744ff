/*
 * NAME
 *	tls_client - client-side TLS: trust anchors, handshake, certificate
 *	judgement
 * SYNOPSIS
 *	#include "tls_client.h"
 *
 *	int tls_level_lookup(const char *name)
 *	const char *tls_level_name(int level)
 *	const char *tls_trust_name(int trust)
 *	const char *tls_cipher_grade(const char *grade, const char *high,
 *			const char *medium, const char *low,
 *			const char *export_list, const char *null_list)
 *	TLS_CLIENT_CTX *tls_client_init(const TLS_CLIENT_PROPS *props,
 *			VSTRING *why)
 *	void tls_client_free(TLS_CLIENT_CTX *ctx)
 *	TLS_SESS *tls_client_start(TLS_CLIENT_CTX *ctx, VSTREAM *stream,
 *			const TLS_CLIENT_START *start, int *trust, VSTRING *why)
 *	void tls_client_stop(VSTREAM *stream, TLS_SESS *sess, int timeout,
 *			int failure)
 *	int tls_client_match(X509 *cert, const char *name)
 * DESCRIPTION
 *	The context is an OpenSSL client context with the trusted CAs of
 *	the configuration and, optionally, a client certificate. Its
 *	verification mode is SSL_VERIFY_NONE on purpose: OpenSSL still
 *	checks the server's chain during the handshake and keeps the
 *	result (SSL_get_verify_result), but does not abort the handshake
 *	on an untrusted chain. The judgement comes afterwards, in
 *	tls_client_start(), which tells the caller what the certificate
 *	proved; the caller (smtp(8)) refuses to send mail when its level
 *	asks for more. This is how opportunistic TLS can still encrypt to
 *	a server with a self-signed certificate, and how a failed check at
 *	level verify is logged as "Trusted TLS connection established"
 *	followed by a deferral, as Postfix logs it.
 *
 *	The name check is OpenSSL's X509_check_host() (no partial-label
 *	wildcards) or X509_check_ip_asc(), applied to each candidate name
 *	in turn; the chain check is OpenSSL's, against the context's
 *	store. Protocol versions and cipher lists are set per connection
 *	on the SSL object, so one context serves every security level.
 *
 *	Sessions are lib/tls_io.c sessions (shared with the server side):
 *	every operation has a deadline, the socket is non-blocking while
 *	TLS is active.
 *
 *	tls_cipher_grade() could move to lib/tls_proto.c, next to the
 *	other policy parsing that both TLS ends share.
 *
 *	See tls_client.h for the contract.
 */
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "dns.h"
#include "msg.h"
#include "mymalloc.h"
#include "tls_client.h"
#include "tls_io.h"
#include "tls_proto.h"
#include "vstream.h"
#include "vstring.h"

#define TLS_CLIENT_VERIFY_DEPTH 9 /* CA certificates between server and anchor */
#define TLS_CLIENT_CN_MAX 256     /* bytes of a common name we log */

struct TLS_CLIENT_CTX {
    SSL_CTX *ssl_ctx;
    int log_level;
};

static const struct {
    const char *name;
    int level;
} tls_level_table[] = {
    {"none", TLS_LEV_NONE},
    {"may", TLS_LEV_MAY},
    {"encrypt", TLS_LEV_ENCRYPT},
    {"verify", TLS_LEV_VERIFY},
    {"secure", TLS_LEV_SECURE},
    {"dane", TLS_LEV_MAY},
    {"dane-only", TLS_LEV_UNSUPPORTED},
    {"fingerprint", TLS_LEV_UNSUPPORTED},
    {NULL, 0},
};

int tls_level_lookup(const char *name)
{
    for (int i = 0; tls_level_table[i].name; i++)
        if (strcasecmp(name, tls_level_table[i].name) == 0)
            return tls_level_table[i].level;
    return -1;
}

const char *tls_level_name(int level)
{
    switch (level) {
    case TLS_LEV_NONE:
        return "none";
    case TLS_LEV_MAY:
        return "may";
    case TLS_LEV_ENCRYPT:
        return "encrypt";
    case TLS_LEV_VERIFY:
        return "verify";
    case TLS_LEV_SECURE:
        return "secure";
    default:
        return "unsupported";
    }
}

const char *tls_trust_name(int trust)
{
    switch (trust) {
    case TLS_TRUST_ANONYMOUS:
        return "Anonymous";
    case TLS_TRUST_UNTRUSTED:
        return "Untrusted";
    case TLS_TRUST_TRUSTED:
        return "Trusted";
    case TLS_TRUST_VERIFIED:
        return "Verified";
    default:
        msg_panic("tls_trust_name: unknown trust value %d", trust);
    }
}

const char *tls_cipher_grade(const char *grade, const char *high, const char *medium,
                             const char *low, const char *export_list, const char *null_list)
{
    if (strcasecmp(grade, "high") == 0)
        return high;
    if (strcasecmp(grade, "medium") == 0)
        return medium;
    if (strcasecmp(grade, "low") == 0)
        return low;
    if (strcasecmp(grade, "export") == 0)
        return export_list;
    if (strcasecmp(grade, "null") == 0)
        return null_list;
    return NULL;
}

/* tls_client_info - handshake progress (log level 2 and up) */

static void tls_client_info(const SSL *ssl, int where, int ret)
{
    TLS_SESS *sess = SSL_get_app_data(ssl);

    if (sess == NULL || sess->log_level < 2)
        return;
    if (where & SSL_CB_LOOP)
        msg_info("%s: SSL_connect:%s", sess->peer, SSL_state_string_long(ssl));
    else if (where & SSL_CB_ALERT)
        msg_info("%s: SSL3 alert %s:%s:%s", sess->peer, (where & SSL_CB_READ) ? "read" : "write",
                 SSL_alert_type_string_long(ret), SSL_alert_desc_string_long(ret));
    else if ((where & SSL_CB_EXIT) && ret == 0)
        msg_info("%s: SSL_connect:failed in %s", sess->peer, SSL_state_string_long(ssl));
}

TLS_CLIENT_CTX *tls_client_init(const TLS_CLIENT_PROPS *props, VSTRING *why)
{
    TLS_CLIENT_CTX *ctx;
    const char *CAfile = props->CAfile && *props->CAfile ? props->CAfile : NULL;
    const char *CApath = props->CApath && *props->CApath ? props->CApath : NULL;
    const char *key;

    ERR_clear_error();
    ctx = mycalloc(1, sizeof(*ctx));
    ctx->log_level = props->log_level;
    if ((ctx->ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
        tls_print_errors();
        vstring_strcpy(why, "cannot create an OpenSSL client context");
        myfree(ctx);
        return NULL;
    }
    SSL_CTX_set_options(ctx->ssl_ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                          SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_verify_depth(ctx->ssl_ctx, TLS_CLIENT_VERIFY_DEPTH);
    SSL_CTX_set_session_cache_mode(ctx->ssl_ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_info_callback(ctx->ssl_ctx, tls_client_info);

    if ((CAfile || CApath) && SSL_CTX_load_verify_locations(ctx->ssl_ctx, CAfile, CApath) != 1) {
        tls_print_errors();
        vstring_sprintf(why, "cannot load the trusted CA certificates from %s%s%s",
                        CAfile ? CAfile : "", CAfile && CApath ? " and " : "",
                        CApath ? CApath : "");
        goto fail;
    }
    if (props->append_default_CA && SSL_CTX_set_default_verify_paths(ctx->ssl_ctx) != 1) {
        tls_print_errors();
        vstring_strcpy(why, "cannot load OpenSSL's default CA certificates");
        goto fail;
    }
    if (props->cert_file && *props->cert_file) {
        key = props->key_file && *props->key_file ? props->key_file : props->cert_file;
        if (SSL_CTX_use_certificate_chain_file(ctx->ssl_ctx, props->cert_file) != 1) {
            tls_print_errors();
            vstring_sprintf(why, "cannot load the client certificate from %s", props->cert_file);
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx->ssl_ctx, key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx->ssl_ctx) != 1) {
            tls_print_errors();
            vstring_sprintf(why, "cannot use the private key in %s with the certificate in %s", key,
                            props->cert_file);
            goto fail;
        }
    }
    ERR_clear_error();
    return ctx;

fail:
    tls_client_free(ctx);
    return NULL;
}

void tls_client_free(TLS_CLIENT_CTX *ctx)
{
    if (ctx == NULL)
        return;
    if (ctx->ssl_ctx)
        SSL_CTX_free(ctx->ssl_ctx);
    myfree(ctx);
}

int tls_client_match(X509 *cert, const char *name)
{
    DNS_ADDR addr;

    if (cert == NULL || name == NULL || *name == 0)
        return 0;
    if (dns_addr_parse(name, &addr) == 0)
        return X509_check_ip_asc(cert, name, 0) == 1;
    if (name[0] == '.' && name[1] == 0)
        return 0;
    return X509_check_host(cert, name, strlen(name), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) ==
           1;
}

/* tls_client_cn - the common name of an X509 name, printable, for the log */

static void tls_client_cn(X509_NAME *name, VSTRING *out)
{
    char buf[TLS_CLIENT_CN_MAX];
    int len;

    vstring_reset(out);
    if (name == NULL ||
        (len = X509_NAME_get_text_by_NID(name, NID_commonName, buf, sizeof(buf))) < 0) {
        vstring_strcpy(out, "unknown");
        return;
    }
    for (int i = 0; i < len && buf[i]; i++)
        vstring_addch(out,
                      (unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] >= 0x7f ? '?' : buf[i]);
}

/* tls_client_judge - what the server's certificate proves */

static int tls_client_judge(TLS_SESS *sess, const TLS_CLIENT_START *start, VSTRING *why)
{
    X509 *cert = SSL_get0_peer_certificate(sess->ssl);
    long result;

    if (cert == NULL) {
        vstring_strcpy(why, "the server presented no certificate");
        return TLS_TRUST_ANONYMOUS;
    }
    if ((result = SSL_get_verify_result(sess->ssl)) != X509_V_OK) {
        vstring_sprintf(why, "certificate verification failed for %s: num=%ld:%s", start->peer,
                        result, X509_verify_cert_error_string(result));
        return TLS_TRUST_UNTRUSTED;
    }
    if (start->match == NULL || start->match->argc == 0) {
        vstring_reset(why);
        return TLS_TRUST_TRUSTED;
    }
    for (int i = 0; i < start->match->argc; i++)
        if (tls_client_match(cert, start->match->argv[i]))
            return TLS_TRUST_VERIFIED;
    vstring_sprintf(why, "server certificate name mismatch for %s: expected", start->peer);
    for (int i = 0; i < start->match->argc && i < 10; i++)
        vstring_sprintf_append(why, "%s %.100s", i ? "," : "", start->match->argv[i]);
    return TLS_TRUST_TRUSTED;
}

/* tls_client_setup - per-connection settings on the SSL object; 0 or -1 */

static int tls_client_setup(TLS_SESS *sess, const TLS_CLIENT_START *start, VSTRING *why)
{
    TLS_PROTO proto;
    DNS_ADDR addr;

    if (start->protocols && *start->protocols) {
        if (tls_proto_parse(start->protocols, &proto, why) < 0)
            return -1;
        if (SSL_set_min_proto_version(sess->ssl, proto.min_version) != 1 ||
            SSL_set_max_proto_version(sess->ssl, proto.max_version) != 1) {
            tls_print_errors();
            vstring_sprintf(why, "cannot set TLS protocol versions \"%s\"", start->protocols);
            return -1;
        }
        SSL_set_options(sess->ssl, proto.ssl_options);
    }
    if (start->ciphers && *start->ciphers && SSL_set_cipher_list(sess->ssl, start->ciphers) != 1) {
        tls_print_errors();
        vstring_sprintf(why, "invalid cipher list \"%s\"", start->ciphers);
        return -1;
    }
    if (start->servername && *start->servername && dns_addr_parse(start->servername, &addr) < 0 &&
        SSL_set_tlsext_host_name(sess->ssl, start->servername) != 1) {
        tls_print_errors();
        vstring_sprintf(why, "cannot use server name \"%s\" for SNI", start->servername);
        return -1;
    }
    return 0;
}

TLS_SESS *tls_client_start(TLS_CLIENT_CTX *ctx, VSTREAM *stream, const TLS_CLIENT_START *start,
                           int *trust, VSTRING *why)
{
    TLS_SESS *sess;
    VSTRING *subject;
    VSTRING *issuer;
    X509 *cert;

    *trust = TLS_TRUST_ANONYMOUS;
    if (vstream_fflush(stream) == VSTREAM_EOF) {
        vstring_sprintf(why, "lost connection with %s before the TLS handshake", start->peer);
        return NULL;
    }
    vstream_purge_input(stream);
    ERR_clear_error();
    if ((sess = tls_sess_create(ctx->ssl_ctx, vstream_fileno(stream), start->peer, ctx->log_level,
                                0)) == NULL) {
        vstring_sprintf(why, "cannot start a TLS session with %s", start->peer);
        return NULL;
    }
    SSL_set_app_data(sess->ssl, sess);
    if (tls_client_setup(sess, start, why) < 0) {
        tls_sess_free(sess, 0, 1);
        return NULL;
    }
    if (ctx->log_level >= 2)
        msg_info("setting up TLS connection to %s", start->peer);
    if (tls_sess_handshake(sess, start->timeout) < 0) {
        vstring_strcpy(why, "handshake failure");
        tls_sess_free(sess, 0, 1);
        return NULL;
    }
    *trust = tls_client_judge(sess, start, why);
    tls_sess_attach(sess, stream);
    if (ctx->log_level >= 2 && (cert = SSL_get0_peer_certificate(sess->ssl)) != NULL) {
        subject = vstring_alloc(64);
        issuer = vstring_alloc(64);
        tls_client_cn(X509_get_subject_name(cert), subject);
        tls_client_cn(X509_get_issuer_name(cert), issuer);
        msg_info("%s: subject_CN=%s, issuer_CN=%s", start->peer, vstring_str(subject),
                 vstring_str(issuer));
        vstring_free(subject);
        vstring_free(issuer);
    }
    if (ctx->log_level >= 2 && *trust < TLS_TRUST_VERIFIED && vstring_len(why) > 0)
        msg_info("%s", vstring_str(why));
    if (ctx->log_level >= 1)
        msg_info("%s TLS connection established to %s: %s with cipher %s (%d/%d bits)",
                 tls_trust_name(*trust), start->peer, sess->protocol, sess->cipher,
                 sess->cipher_bits, sess->cipher_algbits);
    return sess;
}

void tls_client_stop(VSTREAM *stream, TLS_SESS *sess, int timeout, int failure)
{
    if (sess == NULL)
        return;
    if (!failure)
        vstream_fflush(stream);
    vstream_set_io(stream, NULL, NULL, NULL);
    tls_sess_free(sess, timeout, failure || vstream_ferror(stream));
}
