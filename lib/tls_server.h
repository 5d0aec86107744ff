#ifndef POSTERN_TLS_SERVER_H
#define POSTERN_TLS_SERVER_H
/*
 * tls_server - the server end of TLS: certificates, protocol and cipher
 * policy, session resumption, and starting TLS on a client stream
 *
 * tls_server_init(props, why) builds the server context once, at
 *	start-up (as root, before the chroot, so that keys readable only
 *	by root can be read):
 *	  - certificates and keys: props->chain_files (a list of PEM files;
 *	    each private key is followed by its certificate and chain, one
 *	    such set per algorithm, RSA and/or ECDSA), or else
 *	    props->cert_file/key_file (RSA or any one algorithm) and
 *	    props->eccert_file/eckey_file (a second, ECDSA, set). Every key
 *	    must match its certificate. At least one set is required.
 *	  - props->protocols: a list in tls_proto.h syntax;
 *	    props->ciphers: an OpenSSL cipher list (TLSv1.2 and older).
 *	  - resumption: with props->ticket_lifetime > 0, stateless session
 *	    tickets (and OpenSSL's in-process session cache), lifetime in
 *	    seconds. The ticket key comes from props->ticket_key_file when
 *	    set: an 80-byte file of random bytes, created (mode 0600) when
 *	    missing, shorter, or older than the lifetime, so that every
 *	    process that reads it can resume the others' sessions; without
 *	    the file, or when it cannot be read or written, OpenSSL's own
 *	    per-process key is used (and a warning logged). With 0,
 *	    resumption is off.
 *	  - props->log_level (smtpd_tls_loglevel): 1 logs each session
 *	    established, 2 also the handshake's progress.
 *	Returns the context, or NULL with the reason in why (library
 *	errors are logged too).
 *
 * tls_server_start(ctx, stream, timeout, peer) flushes stream (the 220
 *	reply to STARTTLS leaves in clear), then runs the TLS handshake on
 *	its socket within timeout seconds and, when it succeeds, attaches
 *	the session to stream. Input that was read ahead in clear must have
 *	been thrown away by the caller (vstream_purge_input): a stream with
 *	buffered input is a programming error. Returns the session, or NULL
 *	after the failure was logged; the stream is then unusable (close
 *	it). With log_level >= 1 it logs "Anonymous TLS connection
 *	established from peer: TLSv1.3 with cipher NAME (256/256 bits)".
 *
 * tls_server_stop(stream, sess, timeout, failure) flushes what is left
 *	for the client, detaches the session from stream, sends the TLS
 *	close_notify (unless failure is set) and frees the session. The
 *	stream may then be closed as usual.
 *
 * tls_server_changed(ctx) stats every certificate and key file the
 *	context was built from and returns the name of the first one that
 *	has changed (another file, size or modification time) or cannot be
 *	stat'ed any more, or NULL: a long-running process calls it between
 *	sessions and exits when it returns a name, so that its successor
 *	loads the renewed certificate.
 *
 * tls_server_free(ctx) releases a context.
 */
#include "tls_io.h"
#include "vstream.h"
#include "vstring.h"

typedef struct TLS_SERVER_PROPS {
    const char *chain_files; /* list; takes precedence when set */
    const char *cert_file;
    const char *key_file;
    const char *eccert_file;
    const char *eckey_file;
    const char *protocols; /* ">=TLSv1.2", "!SSLv2, !SSLv3" */
    const char *ciphers;   /* OpenSSL cipher list */
    int log_level;
    long ticket_lifetime;        /* seconds; 0 = no resumption */
    const char *ticket_key_file; /* NULL or "": per-process key */
} TLS_SERVER_PROPS;

typedef struct TLS_SERVER_CTX TLS_SERVER_CTX;

TLS_SERVER_CTX *tls_server_init(const TLS_SERVER_PROPS *props, VSTRING *why);
TLS_SESS *tls_server_start(TLS_SERVER_CTX *ctx, VSTREAM *stream, int timeout, const char *peer);
void tls_server_stop(VSTREAM *stream, TLS_SESS *sess, int timeout, int failure);
const char *tls_server_changed(TLS_SERVER_CTX *ctx);
void tls_server_free(TLS_SERVER_CTX *ctx);

#define TLS_TICKET_KEY_LEN 80 /* key name 16, HMAC key 32, AES key 32 */

#endif
