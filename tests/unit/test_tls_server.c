/*
 * test_tls_server - server contexts from every certificate layout (key and
 * certificate files, chain files, RSA plus ECDSA) and every refusal
 * (missing file, key that does not match, encrypted key, certificate
 * before its key, no PEM data, bad protocol or cipher lists); real
 * handshakes with a forked OpenSSL client over a socketpair, data both
 * ways through the vstream hooks, a peer that sends garbage, a peer that
 * says nothing (timeout); file change detection; the shared ticket key
 * file and session resumption from one context to another.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls_server.h"
#include "vstream.h"
#include "vstring.h"

static char dir[] = "/tmp/test_tls_server.XXXXXX";
static char rsa_key[256], rsa_crt[256], ec_key[256], ec_crt[256], rsa_pem[256], ec_pem[256];
static char other_key[256], enc_key[256], junk[256], backwards[256], ticket[256];

/* ---- certificates made in memory ---- */

static X509 *self_signed(EVP_PKEY *key, const char *cn)
{
    X509 *x = X509_new();
    X509_NAME *name;

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)random());
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    return x;
}

static void write_pem(const char *path, EVP_PKEY *key, X509 *cert, int key_first,
                      const EVP_CIPHER *enc)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    if (key && key_first)
        assert_true(PEM_write_PrivateKey(fp, key, enc, (unsigned char *)(enc ? "pass" : NULL),
                                         enc ? 4 : 0, NULL, NULL));
    if (cert)
        assert_true(PEM_write_X509(fp, cert));
    if (key && !key_first)
        assert_true(PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL));
    fclose(fp);
    chmod(path, 0600);
}

static X509 *rsa_cert, *ec_cert;

static int setup(void **unused)
{
    EVP_PKEY *rsa, *ec, *other;

    (void)unused;
    assert_non_null(mkdtemp(dir));
#define P(var, name) snprintf(var, sizeof(var), "%s/%s", dir, name)
    P(rsa_key, "rsa.key");
    P(rsa_crt, "rsa.crt");
    P(ec_key, "ec.key");
    P(ec_crt, "ec.crt");
    P(rsa_pem, "rsa.pem");
    P(ec_pem, "ec.pem");
    P(other_key, "other.key");
    P(enc_key, "enc.key");
    P(junk, "junk.pem");
    P(backwards, "backwards.pem");
    P(ticket, "ticket.key");
    rsa = EVP_RSA_gen(2048);
    ec = EVP_EC_gen("P-256");
    other = EVP_RSA_gen(2048);
    assert_non_null(rsa);
    assert_non_null(ec);
    rsa_cert = self_signed(rsa, "rsa.example.com");
    ec_cert = self_signed(ec, "ec.example.com");
    write_pem(rsa_key, rsa, NULL, 1, NULL);
    write_pem(rsa_crt, NULL, rsa_cert, 1, NULL);
    write_pem(ec_key, ec, NULL, 1, NULL);
    write_pem(ec_crt, NULL, ec_cert, 1, NULL);
    write_pem(rsa_pem, rsa, rsa_cert, 1, NULL);
    write_pem(ec_pem, ec, ec_cert, 1, NULL);
    write_pem(other_key, other, NULL, 1, NULL);
    write_pem(enc_key, rsa, NULL, 1, EVP_aes_128_cbc());
    write_pem(backwards, rsa, rsa_cert, 0, NULL);
    {
        FILE *fp = fopen(junk, "w");

        fputs("this is not PEM\n", fp);
        fclose(fp);
    }
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(other);
    return 0;
}

static int teardown(void **unused)
{
    char cmd[512];

    (void)unused;
    X509_free(rsa_cert);
    X509_free(ec_cert);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static TLS_SERVER_PROPS props(void)
{
    TLS_SERVER_PROPS p;

    memset(&p, 0, sizeof(p));
    p.protocols = ">=TLSv1.2";
    p.ciphers = "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH";
    p.ticket_lifetime = 3600;
    return p;
}

static TLS_SERVER_CTX *init_ok(TLS_SERVER_PROPS *p)
{
    VSTRING *why = vstring_alloc(10);
    TLS_SERVER_CTX *ctx = tls_server_init(p, why);

    if (ctx == NULL)
        fail_msg("tls_server_init: %s", vstring_str(why));
    vstring_free(why);
    return ctx;
}

static void init_fails(TLS_SERVER_PROPS *p, const char *expect)
{
    VSTRING *why = vstring_alloc(10);
    TLS_SERVER_CTX *ctx = tls_server_init(p, why);

    if (ctx != NULL)
        fail_msg("tls_server_init succeeded, expected \"%s\"", expect);
    if (strstr(vstring_str(why), expect) == NULL)
        fail_msg("why \"%s\" does not contain \"%s\"", vstring_str(why), expect);
    vstring_free(why);
}

static void test_layouts(void **unused)
{
    TLS_SERVER_PROPS p = props();

    (void)unused;
    p.cert_file = rsa_crt;
    p.key_file = rsa_key;
    tls_server_free(init_ok(&p));

    p = props();
    p.cert_file = rsa_pem; /* key in the same file; key_file empty */
    tls_server_free(init_ok(&p));

    p = props();
    p.cert_file = rsa_crt;
    p.key_file = rsa_key;
    p.eccert_file = ec_crt;
    p.eckey_file = ec_key;
    tls_server_free(init_ok(&p));

    p = props();
    p.chain_files = rsa_pem;
    tls_server_free(init_ok(&p));

    p = props();
    {
        char both[600];

        snprintf(both, sizeof(both), "%s, %s", rsa_pem, ec_pem);
        p.chain_files = both;
        tls_server_free(init_ok(&p));
        /* a key and its certificate split over consecutive files */
        snprintf(both, sizeof(both), "%s %s", ec_key, ec_crt);
        p.chain_files = both;
        tls_server_free(init_ok(&p));
    }
    /* ECDSA alone, through the ec parameters */
    p = props();
    p.eccert_file = ec_pem;
    tls_server_free(init_ok(&p));
}

static void test_refusals(void **unused)
{
    TLS_SERVER_PROPS p;
    char path[300];

    (void)unused;
    p = props();
    init_fails(&p, "no server certificate");

    p = props();
    snprintf(path, sizeof(path), "%s/missing.pem", dir);
    p.cert_file = path;
    init_fails(&p, "cannot open");

    p = props();
    p.cert_file = rsa_crt;
    p.key_file = other_key;
    init_fails(&p, "do they match");

    p = props();
    p.cert_file = rsa_crt;
    p.key_file = enc_key;
    init_fails(&p, "encrypted");

    p = props();
    p.cert_file = rsa_crt;
    p.key_file = rsa_crt;
    init_fails(&p, "private key"); /* certificate without a key */

    p = props();
    p.chain_files = backwards;
    init_fails(&p, "comes before its private key");

    p = props();
    p.chain_files = rsa_key;
    init_fails(&p, "private key without a certificate");

    p = props();
    p.chain_files = junk;
    init_fails(&p, "no PEM data");

    p = props();
    p.cert_file = rsa_pem;
    p.protocols = "!TLSv9";
    init_fails(&p, "unknown TLS protocol");

    p = props();
    p.cert_file = rsa_pem;
    p.ciphers = "NO-SUCH-CIPHER-AT-ALL";
    init_fails(&p, "invalid cipher list");
}

/* ---- handshakes with a forked client ---- */

#define CLIENT_HELLO 1   /* handshake, "hello\n" out, "world\n" in */
#define CLIENT_GARBAGE 2 /* plaintext instead of a handshake */
#define CLIENT_SILENT 3  /* connect, then say nothing */
#define CLIENT_RESUME 4  /* two handshakes on two sockets; exit 0 if resumed */

static int client_hello(SSL_CTX *cctx, int fd, SSL_SESSION *sess, SSL_SESSION **out)
{
    SSL *ssl = SSL_new(cctx);
    char buf[64];
    int n;
    int reused;

    SSL_set_fd(ssl, fd);
    if (sess)
        SSL_set_session(ssl, sess);
    if (SSL_connect(ssl) != 1)
        return -1;
    if (SSL_write(ssl, "hello\n", 6) != 6)
        return -1;
    n = SSL_read(ssl, buf, sizeof(buf) - 1);
    if (n != 6 || memcmp(buf, "world\n", 6) != 0)
        return -1;
    reused = SSL_session_reused(ssl);
    if (out)
        *out = SSL_get1_session(ssl);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    return reused;
}

static pid_t client(int mode, int fd, int fd2)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid > 0)
        return pid;
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL_SESSION *sess = NULL;

    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
    if (mode == CLIENT_RESUME)
        SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION);
    switch (mode) {
    case CLIENT_HELLO:
        _exit(client_hello(cctx, fd, NULL, NULL) < 0 ? 1 : 0);
    case CLIENT_GARBAGE:
        (void)!write(fd, "EHLO client.example.com\r\nMAIL FROM:<a@b>\r\n", 43);
        shutdown(fd, SHUT_WR);
        sleep(2);
        _exit(0);
    case CLIENT_SILENT:
        sleep(3);
        _exit(0);
    case CLIENT_RESUME:
        if (client_hello(cctx, fd, NULL, &sess) != 0)
            _exit(2);
        _exit(client_hello(cctx, fd2, sess, NULL) == 1 ? 0 : 3);
    }
    _exit(4);
}

static int client_status(pid_t pid)
{
    int status;

    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

static void serve_hello(TLS_SERVER_CTX *ctx, int fd, int *reused)
{
    VSTREAM *fp = vstream_fdopen(fd, O_RDWR);
    VSTRING *line = vstring_alloc(10);
    TLS_SESS *sess;

    vstream_set_timeout(fp, 10);
    sess = tls_server_start(ctx, fp, 10, "client[192.0.2.1]");
    assert_non_null(sess);
    assert_non_null(sess->protocol);
    assert_true(sess->cipher_bits >= 128);
    if (reused)
        *reused = sess->reused;
    assert_int_equal(vstream_get_line(fp, line, 100), '\n');
    assert_string_equal(vstring_str(line), "hello\n");
    vstream_fputs("world\n", fp);
    tls_server_stop(fp, sess, 5, 0);
    vstream_fclose(fp);
    vstring_free(line);
}

static void test_handshake(void **unused)
{
    TLS_SERVER_PROPS p = props();
    TLS_SERVER_CTX *ctx;
    int sv[2];
    pid_t pid;

    (void)unused;
    p.cert_file = rsa_pem;
    p.log_level = 2;
    ctx = init_ok(&p);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pid = client(CLIENT_HELLO, sv[1], -1);
    close(sv[1]);
    serve_hello(ctx, sv[0], NULL);
    assert_int_equal(client_status(pid), 0);
    tls_server_free(ctx);
}

static void test_garbage_and_silence(void **unused)
{
    TLS_SERVER_PROPS p = props();
    TLS_SERVER_CTX *ctx;
    VSTREAM *fp;
    int sv[2];
    pid_t pid;
    struct timeval t0, t1;
    double elapsed;

    (void)unused;
    p.cert_file = rsa_pem;
    ctx = init_ok(&p);

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pid = client(CLIENT_GARBAGE, sv[1], -1);
    close(sv[1]);
    fp = vstream_fdopen(sv[0], O_RDWR);
    assert_null(tls_server_start(ctx, fp, 10, "garbage[192.0.2.2]"));
    vstream_fclose(fp);
    assert_int_equal(client_status(pid), 0);

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pid = client(CLIENT_SILENT, sv[1], -1);
    close(sv[1]);
    fp = vstream_fdopen(sv[0], O_RDWR);
    gettimeofday(&t0, NULL);
    assert_null(tls_server_start(ctx, fp, 1, "silent[192.0.2.3]"));
    gettimeofday(&t1, NULL);
    elapsed = (t1.tv_sec - t0.tv_sec) + (t1.tv_usec - t0.tv_usec) / 1e6;
    assert_true(elapsed >= 0.9 && elapsed < 2.5);
    vstream_fclose(fp);
    kill(pid, SIGKILL);
    client_status(pid);
    tls_server_free(ctx);
}

static void test_changed(void **unused)
{
    TLS_SERVER_PROPS p = props();
    TLS_SERVER_CTX *ctx;
    char copy[300], tmp[300], cmd[1400];

    (void)unused;
    snprintf(copy, sizeof(copy), "%s/live.pem", dir);
    snprintf(tmp, sizeof(tmp), "%s/live.pem.new", dir);
    snprintf(cmd, sizeof(cmd), "cp %s %s", rsa_pem, copy);
    assert_int_equal(system(cmd), 0);
    p.chain_files = copy;
    ctx = init_ok(&p);
    assert_null(tls_server_changed(ctx));
    snprintf(cmd, sizeof(cmd), "cp %s %s && mv %s %s", ec_pem, tmp, tmp, copy);
    assert_int_equal(system(cmd), 0);
    assert_string_equal(tls_server_changed(ctx), copy);
    unlink(copy);
    assert_string_equal(tls_server_changed(ctx), copy);
    tls_server_free(ctx);
}

static void read_file(const char *path, unsigned char *buf, size_t len)
{
    int fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, len), (ssize_t)len);
    close(fd);
}

static void test_ticket_key_and_resumption(void **unused)
{
    TLS_SERVER_PROPS p = props();
    TLS_SERVER_CTX *ctx1, *ctx2;
    unsigned char key1[TLS_TICKET_KEY_LEN], key2[TLS_TICKET_KEY_LEN];
    struct stat st;
    struct utimbuf old;
    int a[2], b[2];
    int reused = -1;
    pid_t pid;

    (void)unused;
    unlink(ticket);
    p.cert_file = rsa_pem;
    p.ticket_key_file = ticket;
    ctx1 = init_ok(&p);
    assert_int_equal(stat(ticket, &st), 0);
    assert_int_equal(st.st_size, TLS_TICKET_KEY_LEN);
    assert_int_equal(st.st_mode & 0777, 0600);
    read_file(ticket, key1, sizeof(key1));

    /* a second "process" reads the same key and resumes the first's session */
    ctx2 = init_ok(&p);
    read_file(ticket, key2, sizeof(key2));
    assert_memory_equal(key1, key2, sizeof(key1));
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
    pid = client(CLIENT_RESUME, a[1], b[1]);
    close(a[1]);
    close(b[1]);
    serve_hello(ctx1, a[0], &reused);
    assert_int_equal(reused, 0);
    serve_hello(ctx2, b[0], &reused);
    assert_int_equal(reused, 1);
    assert_int_equal(client_status(pid), 0);
    tls_server_free(ctx1);
    tls_server_free(ctx2);

    /* an old key is replaced */
    old.actime = old.modtime = time(NULL) - 7200;
    assert_int_equal(utime(ticket, &old), 0);
    ctx1 = init_ok(&p);
    read_file(ticket, key2, sizeof(key2));
    assert_memory_not_equal(key1, key2, sizeof(key1));
    tls_server_free(ctx1);

    /* a short (damaged) key file is replaced too */
    truncate(ticket, 10);
    ctx1 = init_ok(&p);
    assert_int_equal(stat(ticket, &st), 0);
    assert_int_equal(st.st_size, TLS_TICKET_KEY_LEN);
    tls_server_free(ctx1);

    /* a key file that cannot be written: a per-process key, and TLS still works */
    p.ticket_key_file = "/nonexistent-dir/ticket.key";
    tls_server_free(init_ok(&p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layouts),   cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_handshake), cmocka_unit_test(test_garbage_and_silence),
        cmocka_unit_test(test_changed),   cmocka_unit_test(test_ticket_key_and_resumption),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, setup, teardown);
}
