/*
 * NAME
 *	tls_io - one TLS session on a socket, with timeouts, as vstream I/O
 * SYNOPSIS
 *	#include "tls_io.h"
 *
 *	TLS_SESS *tls_sess_create(SSL_CTX *ctx, int fd, const char *peer,
 *			int log_level, int server)
 *	int tls_sess_handshake(TLS_SESS *sess, int timeout)
 *	void tls_sess_attach(TLS_SESS *sess, VSTREAM *stream)
 *	void tls_sess_detach(TLS_SESS *sess, VSTREAM *stream)
 *	size_t tls_sess_pending(TLS_SESS *sess)
 *	void tls_sess_free(TLS_SESS *sess, int timeout, int failure)
 *	ssize_t tls_io_read(int fd, void *buf, size_t len, int timeout,
 *			void *context)
 *	ssize_t tls_io_write(int fd, void *buf, size_t len, int timeout,
 *			void *context)
 *	void tls_print_errors(void)
 * DESCRIPTION
 *	These functions drive OpenSSL on a non-blocking socket: each
 *	SSL_read, SSL_write, handshake or shutdown step that OpenSSL
 *	cannot finish at once (SSL_ERROR_WANT_READ/WANT_WRITE) waits with
 *	poll(2) for the socket, until the call's deadline. A call can thus
 *	never block for longer than its timeout, whatever the peer does.
 *
 *	The end of the peer's TLS stream (close_notify, or the bare end of
 *	the TCP connection, which OpenSSL is told to accept: SMTP has its
 *	own framing and a cut message is never taken as complete) reads
 *	as end of file. Any other failure is an I/O error; the library's
 *	reasons are logged as warnings.
 *
 *	See tls_io.h for each function's contract.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "iostuff.h"
#include "msg.h"
#include "mymalloc.h"
#include "tls_io.h"
#include "vstream.h"

#define TLS_IO_OP_READ 1
#define TLS_IO_OP_WRITE 2
#define TLS_IO_OP_HANDSHAKE 3
#define TLS_IO_OP_SHUTDOWN 4

/* tls_io_now_ms - monotonic clock */

static long long tls_io_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tls_print_errors(void)
{
    unsigned long err;
    const char *file;
    const char *data;
    int line;
    int flags;
    char buf[256];

    while ((err = ERR_get_error_all(&file, &line, NULL, &data, &flags)) != 0) {
        ERR_error_string_n(err, buf, sizeof(buf));
        if ((flags & ERR_TXT_STRING) && data && *data)
            msg_warn("TLS library problem: %s:%s:%d:%s", buf, file, line, data);
        else
            msg_warn("TLS library problem: %s:%s:%d:", buf, file, line);
    }
}

/* tls_io_wait - wait for the socket as OpenSSL asked; 0, or -1 ETIMEDOUT */

static int tls_io_wait(TLS_SESS *sess, int want, long long deadline)
{
    struct pollfd pfd;
    int wait_ms;
    int n;

    for (;;) {
        if (deadline > 0) {
            long long left = deadline - tls_io_now_ms();

            if (left <= 0) {
                errno = ETIMEDOUT;
                return -1;
            }
            wait_ms = left > 1000000000 ? 1000000000 : (int)left;
        } else {
            wait_ms = -1;
        }
        pfd.fd = sess->fd;
        pfd.events = want == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
        pfd.revents = 0;
        n = poll(&pfd, 1, wait_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        return 0; /* ready, or an error/hang-up that the next call will see */
    }
}

/*
 * tls_io_op - one SSL operation to completion within timeout. Returns
 * what the SSL function returned when it succeeded (> 0, or 1 for a
 * handshake or shutdown), 0 at the end of the peer's stream, or -1 with
 * errno.
 */
static int tls_io_op(TLS_SESS *sess, int op, void *buf, int len, int timeout)
{
    long long deadline = timeout > 0 ? tls_io_now_ms() + (long long)timeout * 1000 : 0;
    int n;
    int err;

    if (sess->broken) {
        errno = EIO;
        return -1;
    }
    for (;;) {
        ERR_clear_error();
        errno = 0;
        switch (op) {
        case TLS_IO_OP_READ:
            n = SSL_read(sess->ssl, buf, len);
            break;
        case TLS_IO_OP_WRITE:
            n = SSL_write(sess->ssl, buf, len);
            break;
        case TLS_IO_OP_HANDSHAKE:
            n = sess->server ? SSL_accept(sess->ssl) : SSL_connect(sess->ssl);
            break;
        case TLS_IO_OP_SHUTDOWN:
            n = SSL_shutdown(sess->ssl);
            if (n == 0)
                n = 1; /* our close_notify is out; we do not wait for theirs */
            break;
        default:
            msg_panic("tls_io_op: unknown operation %d", op);
        }
        if (n > 0)
            return n;
        err = SSL_get_error(sess->ssl, n);
        switch (err) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
            if (tls_io_wait(sess, err, deadline) < 0)
                return -1;
            continue;
        case SSL_ERROR_ZERO_RETURN:
            return 0;
        case SSL_ERROR_SYSCALL:
            sess->broken = 1;
            if (ERR_peek_error() != 0)
                tls_print_errors();
            if (errno == 0)
                return 0; /* the connection ended */
            return -1;
        default:
            sess->broken = 1;
            tls_print_errors();
            errno = EIO;
            return -1;
        }
    }
}

TLS_SESS *tls_sess_create(SSL_CTX *ctx, int fd, const char *peer, int log_level, int server)
{
    TLS_SESS *sess;
    SSL *ssl;

    ERR_clear_error();
    if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
        tls_print_errors();
        if (ssl)
            SSL_free(ssl);
        return NULL;
    }
    sess = mycalloc(1, sizeof(*sess));
    sess->ssl = ssl;
    sess->fd = fd;
    sess->server = server;
    sess->log_level = log_level;
    sess->peer = mystrdup(peer);
    non_blocking(fd, 1);
    return sess;
}

int tls_sess_handshake(TLS_SESS *sess, int timeout)
{
    const SSL_CIPHER *cipher;
    const char *what = sess->server ? "SSL_accept" : "SSL_connect";
    const char *dir = sess->server ? "from" : "to";
    int n;

    n = tls_io_op(sess, TLS_IO_OP_HANDSHAKE, NULL, 0, timeout);
    if (n <= 0) {
        if (n == 0)
            msg_info("%s error %s %s: lost connection", what, dir, sess->peer);
        else if (errno == ETIMEDOUT)
            msg_info("%s error %s %s: timed out", what, dir, sess->peer);
        else
            msg_info("%s error %s %s: -1", what, dir, sess->peer);
        sess->broken = 1;
        return -1;
    }
    sess->protocol = mystrdup(SSL_get_version(sess->ssl));
    if ((cipher = SSL_get_current_cipher(sess->ssl)) != NULL) {
        sess->cipher = mystrdup(SSL_CIPHER_get_name(cipher));
        sess->cipher_bits = SSL_CIPHER_get_bits(cipher, &sess->cipher_algbits);
    } else {
        sess->cipher = mystrdup("unknown");
    }
    sess->reused = SSL_session_reused(sess->ssl);
    return 0;
}

ssize_t tls_io_read(int fd, void *buf, size_t len, int timeout, void *context)
{
    TLS_SESS *sess = context;
    int n;

    (void)fd;
    if (len > 1024 * 1024 * 1024)
        len = 1024 * 1024 * 1024;
    n = tls_io_op(sess, TLS_IO_OP_READ, buf, (int)len, timeout);
    return n;
}

ssize_t tls_io_write(int fd, void *buf, size_t len, int timeout, void *context)
{
    TLS_SESS *sess = context;
    int n;

    (void)fd;
    if (len == 0)
        return 0;
    if (len > 1024 * 1024 * 1024)
        len = 1024 * 1024 * 1024;
    n = tls_io_op(sess, TLS_IO_OP_WRITE, buf, (int)len, timeout);
    if (n == 0) {
        errno = EPIPE;
        return -1;
    }
    return n;
}

void tls_sess_attach(TLS_SESS *sess, VSTREAM *stream)
{
    if (vstream_bufferred(stream) > 0)
        msg_panic("tls_sess_attach: %s: plaintext input is still buffered", sess->peer);
    vstream_set_io(stream, tls_io_read, tls_io_write, sess);
}

void tls_sess_detach(TLS_SESS *sess, VSTREAM *stream)
{
    (void)sess;
    vstream_fflush(stream);
    vstream_set_io(stream, NULL, NULL, NULL);
}

size_t tls_sess_pending(TLS_SESS *sess)
{
    int n = SSL_pending(sess->ssl);

    return n > 0 ? (size_t)n : 0;
}

void tls_sess_free(TLS_SESS *sess, int timeout, int failure)
{
    if (sess == NULL)
        return;
    if (!failure && !sess->broken && SSL_is_init_finished(sess->ssl))
        (void)tls_io_op(sess, TLS_IO_OP_SHUTDOWN, NULL, 0, timeout);
    ERR_clear_error();
    SSL_free(sess->ssl);
    myfree(sess->peer);
    if (sess->protocol)
        myfree(sess->protocol);
    if (sess->cipher)
        myfree(sess->cipher);
    myfree(sess);
}
