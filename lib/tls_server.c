/*
 * NAME
 *	tls_server - server-side TLS: context, certificates, resumption
 * SYNOPSIS
 *	#include "tls_server.h"
 *
 *	TLS_SERVER_CTX *tls_server_init(const TLS_SERVER_PROPS *props,
 *			VSTRING *why)
 *	TLS_SESS *tls_server_start(TLS_SERVER_CTX *ctx, VSTREAM *stream,
 *			int timeout, const char *peer)
 *	void tls_server_stop(VSTREAM *stream, TLS_SESS *sess, int timeout,
 *			int failure)
 *	const char *tls_server_changed(TLS_SERVER_CTX *ctx)
 *	void tls_server_free(TLS_SERVER_CTX *ctx)
 * DESCRIPTION
 *	tls_server_init() makes an OpenSSL server context from the
 *	properties: certificate sets, protocol range, cipher list, session
 *	tickets. Certificates and keys are read from PEM files with
 *	OpenSSL's PEM reader; every key is checked against its certificate
 *	by OpenSSL (SSL_CTX_use_cert_and_key). An encrypted private key is
 *	refused: a daemon has nobody to ask for a passphrase.
 *
 *	Options beyond the properties: no TLS compression (CRIME), no
 *	renegotiation (a client could make the server do expensive work
 *	again and again), automatic DH and ECDH parameters, and the bare
 *	end of a TCP connection read as the end of the TLS stream.
 *
 *	Session tickets are encrypted by OpenSSL with the 80-byte key set
 *	through SSL_CTX_set_tlsext_ticket_keys(); sharing that key through
 *	a file is what lets one smtpd process resume a session another one
 *	started. The key is made with RAND_bytes() and written with
 *	safe_replace_file(), so a reader sees the old key or the new one.
 *
 *	tls_server_start(), tls_server_stop() and tls_server_changed()
 *	are described in tls_server.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "argv.h"
#include "msg.h"
#include "mymalloc.h"
#include "safe_open.h"
#include "tls_io.h"
#include "tls_proto.h"
#include "tls_server.h"
#include "vstream.h"
#include "vstring.h"

#define TLS_SERVER_SID_CTX "postern-smtpd"
#define TLS_SERVER_MAX_FILES 32 /* certificate/key files watched */
#define TLS_SERVER_MAX_CERTS 20 /* certificates in one chain */

typedef struct TLS_WATCH {
    char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} TLS_WATCH;

struct TLS_SERVER_CTX {
    SSL_CTX *ssl_ctx;
    int log_level;
    int nwatch;
    TLS_WATCH watch[TLS_SERVER_MAX_FILES];
};

/* tls_server_watch - remember a file's identity for tls_server_changed() */

static void tls_server_watch(TLS_SERVER_CTX *ctx, const char *path)
{
    struct stat st;
    TLS_WATCH *w;

    for (int i = 0; i < ctx->nwatch; i++)
        if (strcmp(ctx->watch[i].path, path) == 0)
            return;
    if (ctx->nwatch >= TLS_SERVER_MAX_FILES || stat(path, &st) < 0)
        return;
    w = ctx->watch + ctx->nwatch++;
    w->path = mystrdup(path);
    w->dev = st.st_dev;
    w->ino = st.st_ino;
    w->size = st.st_size;
    w->mtime = st.st_mtim;
}

const char *tls_server_changed(TLS_SERVER_CTX *ctx)
{
    struct stat st;

    for (int i = 0; i < ctx->nwatch; i++) {
        TLS_WATCH *w = ctx->watch + i;

        if (stat(w->path, &st) < 0 || st.st_dev != w->dev || st.st_ino != w->ino ||
            st.st_size != w->size || st.st_mtim.tv_sec != w->mtime.tv_sec ||
            st.st_mtim.tv_nsec != w->mtime.tv_nsec)
            return w->path;
    }
    return NULL;
}

/*
 * A certificate set being read: a key, its certificate, the chain.
 */
typedef struct TLS_CERT_SET {
    EVP_PKEY *key;
    X509 *leaf;
    STACK_OF(X509) * chain;
    const char *origin; /* file of the key, for messages */
} TLS_CERT_SET;

static void tls_set_clear(TLS_CERT_SET *set)
{
    if (set->key)
        EVP_PKEY_free(set->key);
    if (set->leaf)
        X509_free(set->leaf);
    if (set->chain)
        sk_X509_pop_free(set->chain, X509_free);
    memset(set, 0, sizeof(*set));
}

/* tls_set_commit - install a complete set in the context; 0 or -1 */

static int tls_set_commit(SSL_CTX *ssl_ctx, TLS_CERT_SET *set, VSTRING *why)
{
    int status = 0;

    if (set->key == NULL && set->leaf == NULL)
        return 0;
    if (set->key == NULL) {
        vstring_sprintf(why, "certificate without a private key in %s", set->origin);
        status = -1;
    } else if (set->leaf == NULL) {
        vstring_sprintf(why, "private key without a certificate in %s", set->origin);
        status = -1;
    } else {
        ERR_clear_error();
        if (SSL_CTX_use_cert_and_key(ssl_ctx, set->leaf, set->key, set->chain, 1) != 1) {
            tls_print_errors();
            vstring_sprintf(why,
                            "cannot use the certificate and private key from %s (do they "
                            "match?)",
                            set->origin);
            status = -1;
        }
    }
    tls_set_clear(set);
    return status;
}

#define TLS_PEM_KEYS 1
#define TLS_PEM_CERTS 2

/*
 * tls_server_read_pem - read the keys and/or certificates of one PEM
 * file into set, committing a set when a new key starts the next one.
 * Returns 0 or -1 with why.
 */
static int tls_server_read_pem(SSL_CTX *ssl_ctx, const char *path, int what, TLS_CERT_SET *set,
                               VSTRING *why)
{
    BIO *bio;
    char *name = NULL;
    char *header = NULL;
    unsigned char *data = NULL;
    long len = 0;
    int count = 0;
    int status = 0;

    ERR_clear_error();
    if ((bio = BIO_new_file(path, "r")) == NULL) {
        ERR_clear_error();
        vstring_sprintf(why, "cannot open %s: %s", path, strerror(errno ? errno : ENOENT));
        return -1;
    }
    while (PEM_read_bio(bio, &name, &header, &data, &len) == 1) {
        const unsigned char *p = data;

        count++;
        if (header && *header) {
            vstring_sprintf(why, "%s: encrypted PEM object %s is not supported", path, name);
            status = -1;
        } else if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0) {
            vstring_sprintf(why, "%s: the private key is encrypted with a passphrase", path);
            status = -1;
        } else if (strstr(name, "PRIVATE KEY") != NULL && (what & TLS_PEM_KEYS)) {
            EVP_PKEY *key = d2i_AutoPrivateKey(NULL, &p, len);

            if (key == NULL) {
                tls_print_errors();
                vstring_sprintf(why, "%s: cannot decode the private key", path);
                status = -1;
            } else if (set->key && (status = tls_set_commit(ssl_ctx, set, why)) < 0) {
                EVP_PKEY_free(key);
            } else if (set->key == NULL && set->leaf) {
                EVP_PKEY_free(key);
                vstring_sprintf(why, "%s: a certificate comes before its private key", path);
                status = -1;
            } else {
                set->key = key;
                set->origin = path;
            }
        } else if ((strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "TRUSTED CERTIFICATE") == 0) &&
                   (what & TLS_PEM_CERTS)) {
            X509 *cert = strcmp(name, "CERTIFICATE") == 0 ? d2i_X509(NULL, &p, len)
                                                          : d2i_X509_AUX(NULL, &p, len);

            if (cert == NULL) {
                tls_print_errors();
                vstring_sprintf(why, "%s: cannot decode a certificate", path);
                status = -1;
            } else if (set->leaf == NULL) {
                set->leaf = cert;
                if (set->origin == NULL)
                    set->origin = path;
            } else {
                if (set->chain == NULL)
                    set->chain = sk_X509_new_null();
                if (sk_X509_num(set->chain) >= TLS_SERVER_MAX_CERTS ||
                    !sk_X509_push(set->chain, cert)) {
                    X509_free(cert);
                    vstring_sprintf(why, "%s: too many certificates in one chain", path);
                    status = -1;
                }
            }
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        name = header = NULL;
        data = NULL;
        if (status < 0)
            break;
    }
    ERR_clear_error(); /* the end of the file reads as "no start line" */
    BIO_free(bio);
    if (status == 0 && count == 0) {
        vstring_sprintf(why, "%s: no PEM data found", path);
        status = -1;
    }
    return status;
}

/* tls_server_load_chains - smtpd_tls_chain_files style; 0 or -1 */

static int tls_server_load_chains(TLS_SERVER_CTX *ctx, const char *files, VSTRING *why)
{
    ARGV *list = argv_split(files, ARGV_DELIM_LIST);
    TLS_CERT_SET set;
    int status = 0;

    memset(&set, 0, sizeof(set));
    for (int i = 0; i < list->argc && status == 0; i++) {
        status = tls_server_read_pem(ctx->ssl_ctx, list->argv[i], TLS_PEM_KEYS | TLS_PEM_CERTS,
                                     &set, why);
        tls_server_watch(ctx, list->argv[i]);
    }
    if (status == 0)
        status = tls_set_commit(ctx->ssl_ctx, &set, why);
    tls_set_clear(&set);
    argv_free(list);
    return status;
}

/* tls_server_load_pair - certificate file plus key file; 0 or -1 */

static int tls_server_load_pair(TLS_SERVER_CTX *ctx, const char *cert, const char *key,
                                VSTRING *why)
{
    TLS_CERT_SET set;
    int status;

    memset(&set, 0, sizeof(set));
    if (key == NULL || *key == 0)
        key = cert;
    status = tls_server_read_pem(ctx->ssl_ctx, key, TLS_PEM_KEYS, &set, why);
    if (status == 0)
        status = tls_server_read_pem(ctx->ssl_ctx, cert, TLS_PEM_CERTS, &set, why);
    if (status == 0)
        status = tls_set_commit(ctx->ssl_ctx, &set, why);
    tls_set_clear(&set);
    tls_server_watch(ctx, cert);
    tls_server_watch(ctx, key);
    return status;
}

/*
 * tls_server_ticket_key - read, or make, the shared ticket key. Returns 1
 * when key holds the shared key, 0 when the caller should keep OpenSSL's
 * own (a warning was logged).
 */
static int tls_server_ticket_key(const char *path, long lifetime, unsigned char *key)
{
    VSTRING *why = vstring_alloc(100);
    struct stat st;
    int fd;
    int ok = 0;

    if ((fd = safe_open_existing(path, O_RDONLY, SAFE_OPEN_ANY_UID, &st, why)) >= 0) {
        if (st.st_size == TLS_TICKET_KEY_LEN && time(NULL) - st.st_mtime < lifetime &&
            time(NULL) >= st.st_mtime && read(fd, key, TLS_TICKET_KEY_LEN) == TLS_TICKET_KEY_LEN)
            ok = 1;
        close(fd);
    }
    if (!ok) {
        if (RAND_bytes(key, TLS_TICKET_KEY_LEN) != 1) {
            tls_print_errors();
            msg_warn("cannot make a TLS session ticket key: sessions resume only with the same "
                     "process");
        } else if (safe_replace_file(path, key, TLS_TICKET_KEY_LEN, 0600, why) < 0) {
            msg_warn("cannot save the TLS session ticket key: %s: sessions resume only with the "
                     "same process",
                     vstring_str(why));
        } else {
            ok = 1;
        }
    }
    vstring_free(why);
    return ok;
}

/* tls_server_info - handshake progress (log level 2 and up) */

static void tls_server_info(const SSL *ssl, int where, int ret)
{
    TLS_SESS *sess = SSL_get_app_data(ssl);
    const char *peer = sess ? sess->peer : "unknown";

    if (sess == NULL || sess->log_level < 2)
        return;
    if (where & SSL_CB_LOOP)
        msg_info("%s: SSL_accept:%s", peer, SSL_state_string_long(ssl));
    else if (where & SSL_CB_ALERT)
        msg_info("%s: SSL3 alert %s:%s:%s", peer, (where & SSL_CB_READ) ? "read" : "write",
                 SSL_alert_type_string_long(ret), SSL_alert_desc_string_long(ret));
    else if ((where & SSL_CB_EXIT) && ret == 0)
        msg_info("%s: SSL_accept:failed in %s", peer, SSL_state_string_long(ssl));
}

TLS_SERVER_CTX *tls_server_init(const TLS_SERVER_PROPS *props, VSTRING *why)
{
    TLS_SERVER_CTX *ctx;
    TLS_PROTO proto;
    unsigned char key[TLS_TICKET_KEY_LEN];
    int status = 0;

    if (tls_proto_parse(props->protocols, &proto, why) < 0)
        return NULL;
    ERR_clear_error();
    ctx = mycalloc(1, sizeof(*ctx));
    ctx->log_level = props->log_level;
    if ((ctx->ssl_ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
        tls_print_errors();
        vstring_strcpy(why, "cannot create an OpenSSL server context");
        myfree(ctx);
        return NULL;
    }
    SSL_CTX_set_options(ctx->ssl_ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                          SSL_OP_IGNORE_UNEXPECTED_EOF | proto.ssl_options);
    if (SSL_CTX_set_min_proto_version(ctx->ssl_ctx, proto.min_version) != 1 ||
        SSL_CTX_set_max_proto_version(ctx->ssl_ctx, proto.max_version) != 1) {
        tls_print_errors();
        vstring_sprintf(why, "cannot set TLS protocol versions \"%s\"", props->protocols);
        goto fail;
    }
    if (props->ciphers && *props->ciphers &&
        SSL_CTX_set_cipher_list(ctx->ssl_ctx, props->ciphers) != 1) {
        tls_print_errors();
        vstring_sprintf(why, "invalid cipher list \"%s\"", props->ciphers);
        goto fail;
    }
    SSL_CTX_set_dh_auto(ctx->ssl_ctx, 1);
    SSL_CTX_set_info_callback(ctx->ssl_ctx, tls_server_info);

    if (props->chain_files && *props->chain_files)
        status = tls_server_load_chains(ctx, props->chain_files, why);
    else if (props->cert_file && *props->cert_file)
        status = tls_server_load_pair(ctx, props->cert_file, props->key_file, why);
    else if (!(props->eccert_file && *props->eccert_file)) {
        vstring_strcpy(why, "no server certificate is configured");
        status = -1;
    }
    if (status == 0 && props->eccert_file && *props->eccert_file &&
        !(props->chain_files && *props->chain_files))
        status = tls_server_load_pair(ctx, props->eccert_file, props->eckey_file, why);
    if (status < 0)
        goto fail;

    SSL_CTX_set_session_id_context(ctx->ssl_ctx, (const unsigned char *)TLS_SERVER_SID_CTX,
                                   sizeof(TLS_SERVER_SID_CTX) - 1);
    if (props->ticket_lifetime > 0) {
        SSL_CTX_set_timeout(ctx->ssl_ctx, props->ticket_lifetime);
        SSL_CTX_set_session_cache_mode(ctx->ssl_ctx, SSL_SESS_CACHE_SERVER);
        if (props->ticket_key_file && *props->ticket_key_file &&
            tls_server_ticket_key(props->ticket_key_file, props->ticket_lifetime, key)) {
            if (SSL_CTX_set_tlsext_ticket_keys(ctx->ssl_ctx, key, sizeof(key)) != 1) {
                tls_print_errors();
                msg_warn("cannot install the TLS session ticket key: sessions resume only with "
                         "the same process");
            }
            OPENSSL_cleanse(key, sizeof(key));
        }
    } else {
        SSL_CTX_set_options(ctx->ssl_ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_session_cache_mode(ctx->ssl_ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(ctx->ssl_ctx, 0);
    }
    return ctx;

fail:
    tls_server_free(ctx);
    return NULL;
}

TLS_SESS *tls_server_start(TLS_SERVER_CTX *ctx, VSTREAM *stream, int timeout, const char *peer)
{
    TLS_SESS *sess;

    vstream_fflush(stream);
    if (vstream_bufferred(stream) > 0)
        msg_panic("tls_server_start: %s: plaintext input still buffered", peer);
    if ((sess = tls_sess_create(ctx->ssl_ctx, vstream_fileno(stream), peer, ctx->log_level, 1)) ==
        NULL) {
        msg_warn("cannot start a TLS session for %s", peer);
        return NULL;
    }
    SSL_set_app_data(sess->ssl, sess);
    if (tls_sess_handshake(sess, timeout) < 0) {
        tls_sess_free(sess, 0, 1);
        return NULL;
    }
    tls_sess_attach(sess, stream);
    if (ctx->log_level >= 2 && sess->reused)
        msg_info("%s: Reusing old session", peer);
    if (ctx->log_level >= 1)
        msg_info("Anonymous TLS connection established from %s: %s with cipher %s (%d/%d bits)",
                 peer, sess->protocol, sess->cipher, sess->cipher_bits, sess->cipher_algbits);
    return sess;
}

void tls_server_stop(VSTREAM *stream, TLS_SESS *sess, int timeout, int failure)
{
    if (sess == NULL)
        return;
    if (!failure)
        vstream_fflush(stream);
    vstream_set_io(stream, NULL, NULL, NULL);
    tls_sess_free(sess, timeout, failure || vstream_ferror(stream));
}

void tls_server_free(TLS_SERVER_CTX *ctx)
{
    if (ctx == NULL)
        return;
    if (ctx->ssl_ctx)
        SSL_CTX_free(ctx->ssl_ctx);
    for (int i = 0; i < ctx->nwatch; i++)
        myfree(ctx->watch[i].path);
    myfree(ctx);
}
