#ifndef POSTERN_TLS_IO_H
#define POSTERN_TLS_IO_H
/*
 * tls_io - one TLS session on a connected socket, as a vstream's I/O
 * (shared by the SMTP server and client)
 *
 * A TLS_SESS wraps an OpenSSL SSL object bound to a socket. Every
 * operation has a timeout (seconds; <= 0 means none) that bounds the
 * whole call however many network round trips OpenSSL needs: the
 * socket is switched to non-blocking mode and waited on with poll(2).
 *
 * tls_sess_create(ctx, fd, peer, log_level, server) makes a session from
 *	an SSL_CTX for the socket fd; peer ("host[addr]") names the other
 *	end in log lines; server says which end we are. NULL (after
 *	logging the library's errors) when OpenSSL cannot make one.
 * tls_sess_handshake(sess, timeout) runs the handshake (SSL_accept or
 *	SSL_connect). Returns 0, or -1 after logging "SSL_accept error
 *	from peer: reason" (SSL_connect ... to peer for a client) and the
 *	library's errors. On success sess->protocol ("TLSv1.3"),
 *	sess->cipher ("TLS_AES_256_GCM_SHA384"), sess->cipher_bits (secret
 *	bits), sess->cipher_algbits and sess->reused (session resumed)
 *	are set.
 * tls_sess_attach(sess, stream) makes every later read and write of
 *	stream go through the session (vstream_set_io). The stream's
 *	buffers must be empty: the caller flushes and purges first (what
 *	was read ahead before the handshake is plaintext and must never be
 *	taken as protected input).
 * tls_sess_detach(sess, stream) flushes stream through the session and
 *	restores plain I/O on it. Call it before tls_sess_free() whenever
 *	the stream outlives the session.
 * tls_sess_pending(sess) is the number of decrypted bytes OpenSSL holds
 *	that no read has taken yet (they are input "waiting", as far as
 *	pipelining is concerned).
 * tls_sess_free(sess, timeout, failure) sends the TLS close_notify
 *	alert (unless failure is set, or the session broke) without
 *	waiting for the peer's, and frees the session.
 * tls_io_read() and tls_io_write() are the vstream hooks (context is
 *	the TLS_SESS): bytes moved, 0 at the end of the TLS stream, or -1
 *	with errno (ETIMEDOUT for a timeout, EIO for a protocol error,
 *	logged).
 * tls_print_errors() logs and clears OpenSSL's error queue, one
 *	"TLS library problem: ..." warning per error.
 *
 * Ownership: the TLS_SESS owns its SSL object and strings; the socket
 * stays the caller's.
 */
#include <sys/types.h>

#include <openssl/ssl.h>

#include "vstream.h"

typedef struct TLS_SESS {
    SSL *ssl;
    int fd;
    int server; /* 1: we accepted, 0: we connected */
    int log_level;
    char *peer; /* "host[addr]" */
    int broken; /* a fatal error was seen: no close_notify */
    /* after the handshake */
    char *protocol;     /* "TLSv1.3" */
    char *cipher;       /* "TLS_AES_256_GCM_SHA384" */
    int cipher_bits;    /* secret bits */
    int cipher_algbits; /* algorithm bits */
    int reused;         /* the session was resumed */
} TLS_SESS;

TLS_SESS *tls_sess_create(SSL_CTX *ctx, int fd, const char *peer, int log_level, int server);
int tls_sess_handshake(TLS_SESS *sess, int timeout);
void tls_sess_attach(TLS_SESS *sess, VSTREAM *stream);
void tls_sess_detach(TLS_SESS *sess, VSTREAM *stream);
size_t tls_sess_pending(TLS_SESS *sess);
void tls_sess_free(TLS_SESS *sess, int timeout, int failure);

ssize_t tls_io_read(int fd, void *buf, size_t len, int timeout, void *context);
ssize_t tls_io_write(int fd, void *buf, size_t len, int timeout, void *context);

void tls_print_errors(void);

#endif
