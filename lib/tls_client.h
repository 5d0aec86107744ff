#ifndef POSTERN_TLS_CLIENT_H
#define POSTERN_TLS_CLIENT_H
/*
 * tls_client - the client end of TLS: trust anchors, starting TLS on a
 * connection to a server, and what the server's certificate proves
 *
 * Security levels (smtp_tls_security_level and the policy tables):
 *	tls_level_lookup(name) maps "none", "may", "encrypt", "verify",
 *	"secure" (any case) to TLS_LEV_*; "dane" to TLS_LEV_MAY (no DNSSEC
 *	here: Postfix also treats dane as may without it); "dane-only" and
 *	"fingerprint" to TLS_LEV_UNSUPPORTED (a caller must defer: they
 *	promise checks this module does not make); anything else is -1.
 *	tls_level_name(level) is the canonical name.
 *	tls_cipher_grade(name, high, medium, low, export, null) picks the
 *	OpenSSL cipher list of a grade name (any case), or NULL.
 *
 * Context (once per process, at start-up, before the chroot):
 *	ctx = tls_client_init(props, why)
 *	    props->CAfile (PEM, read now), props->CApath (hashed directory,
 *	    read when needed), props->append_default_CA (also OpenSSL's
 *	    default locations), props->cert_file/key_file (a client
 *	    certificate with its chain, and its key; optional),
 *	    props->log_level. NULL with why when a file cannot be used.
 *	    No TLS compression, no renegotiation; the bare end of a TCP
 *	    connection reads as the end of the TLS stream.
 *
 * Per connection:
 *	sess = tls_client_start(ctx, stream, start, &trust, why)
 *	    flushes stream (the STARTTLS command has had its reply; nothing
 *	    may be left for the server in clear), throws away input that
 *	    was read ahead in clear (a server must not send anything after
 *	    its 220 reply to STARTTLS; such bytes are never taken as
 *	    protected input), and runs the handshake within start->timeout
 *	    seconds with:
 *	      start->servername  SNI host name (NULL, "" or an IP address:
 *	                         none is sent)
 *	      start->protocols   tls_proto.h syntax (NULL or "": any)
 *	      start->ciphers     OpenSSL cipher list (NULL or "": default)
 *	      start->match       names the certificate should carry, or
 *	                         NULL: a host name, ".domain" for any
 *	                         subdomain, or an IP address
 *	      start->peer        "host[addr]:port", for the log
 *	    The handshake never fails because of the certificate: the
 *	    certificate is judged afterwards and *trust says what it
 *	    proved:
 *	      TLS_TRUST_ANONYMOUS  no certificate
 *	      TLS_TRUST_UNTRUSTED  no trusted CA signed it (why: the reason)
 *	      TLS_TRUST_TRUSTED    signed by a trusted CA; start->match was
 *	                           NULL or empty, or no name matched (why
 *	                           says so)
 *	      TLS_TRUST_VERIFIED   trusted, and a name of start->match
 *	                           matched
 *	    so that the caller decides what its level requires, and can
 *	    still say QUIT over TLS. The session is attached to stream
 *	    (every later read and write is protected). With log_level >= 1
 *	    it logs "Verified TLS connection established to PEER: TLSv1.3
 *	    with cipher NAME (256/256 bits)" (Anonymous, Untrusted,
 *	    Trusted, Verified as *trust says); with log_level >= 2 also
 *	    why a certificate is not trusted or verified, the
 *	    certificate's subject and issuer common names and the
 *	    handshake's progress.
 *	    Returns NULL when the handshake failed (logged, why says so):
 *	    the connection is then unusable, close it without a word.
 *	tls_client_stop(stream, sess, timeout, failure)
 *	    flushes what is left (unless failure), detaches the session
 *	    from stream, sends the TLS close_notify (unless failure) and
 *	    frees the session. The stream may then be closed as usual.
 *
 * tls_trust_name(trust) is "Anonymous", "Untrusted", "Trusted" or
 * "Verified".
 *
 * tls_client_match(cert, name) says whether the certificate carries
 * name (RFC 6125: DNS subject alternative names, else the common name;
 * a wildcard matches one whole label) or, for ".domain", a name below
 * domain, or, for an IP address, that address in an IP subject
 * alternative name. 1 or 0.
 *
 * Ownership: the context and each session belong to the caller. The
 * client side reuses tls_io.h for the session (TLS_SESS) and its vstream
 * hooks.
 */
#include <openssl/x509.h>

#include "argv.h"
#include "tls_io.h"
#include "vstream.h"
#include "vstring.h"

#define TLS_LEV_UNSUPPORTED (-2)
#define TLS_LEV_NONE 0
#define TLS_LEV_MAY 1
#define TLS_LEV_ENCRYPT 2
#define TLS_LEV_VERIFY 3
#define TLS_LEV_SECURE 4

#define TLS_TRUST_ANONYMOUS 0
#define TLS_TRUST_UNTRUSTED 1
#define TLS_TRUST_TRUSTED 2
#define TLS_TRUST_VERIFIED 3

typedef struct TLS_CLIENT_PROPS {
    const char *CAfile;
    const char *CApath;
    int append_default_CA;
    const char *cert_file; /* "" = no client certificate */
    const char *key_file;  /* "" = in cert_file */
    int log_level;
} TLS_CLIENT_PROPS;

typedef struct TLS_CLIENT_START {
    const char *peer;       /* "host[addr]:port" */
    const char *servername; /* SNI, or NULL */
    const char *protocols;  /* tls_proto.h syntax, or NULL */
    const char *ciphers;    /* OpenSSL cipher list, or NULL */
    const ARGV *match;      /* names the certificate may carry, or NULL */
    int timeout;            /* seconds */
} TLS_CLIENT_START;

typedef struct TLS_CLIENT_CTX TLS_CLIENT_CTX;

int tls_level_lookup(const char *name);
const char *tls_level_name(int level);
const char *tls_trust_name(int trust);
const char *tls_cipher_grade(const char *grade, const char *high, const char *medium,
                             const char *low, const char *export_list, const char *null_list);

TLS_CLIENT_CTX *tls_client_init(const TLS_CLIENT_PROPS *props, VSTRING *why);
void tls_client_free(TLS_CLIENT_CTX *ctx);
TLS_SESS *tls_client_start(TLS_CLIENT_CTX *ctx, VSTREAM *stream, const TLS_CLIENT_START *start,
                           int *trust, VSTRING *why);
void tls_client_stop(VSTREAM *stream, TLS_SESS *sess, int timeout, int failure);
int tls_client_match(X509 *cert, const char *name);

#endif
