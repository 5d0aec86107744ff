/*
 * test_tls_client - the TLS client: level and grade names; contexts (CA
 * file, CA directory, client certificate, refusals); certificate name
 * matching (exact, case, wildcards, subdomains, IP addresses, common name
 * only when there is no DNS name); real handshakes with a forked OpenSSL
 * server over a socketpair: what a self-signed, a CA-signed and a
 * foreign-CA certificate prove, with and without names to match; SNI
 * (sent, not sent, never an IP address); protocol limits; data both ways
 * through the stream after the handshake; plaintext read ahead before
 * the handshake is thrown away; a server that sends garbage or says
 * nothing.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "argv.h"
#include "tls_client.h"
#include "vstream.h"
#include "vstring.h"

static char dir[] = "/tmp/test_tls_client.XXXXXX";
static char ca_file[256], other_ca_file[256], capath[256], client_pem[256], junk[256];
static EVP_PKEY *ca_key, *other_key, *leaf_key;
static X509 *ca_cert, *other_ca_cert, *leaf_cert, *self_cert, *cn_only_cert, *wild_cert;

/* ---- certificates made in memory ---- */

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(ext);
    assert_true(X509_add_ext(cert, ext, -1));
    X509_EXTENSION_free(ext);
}

/* make_cert - a certificate for key, signed by issuer/issuer_key (NULL: self) */

static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *san, X509 *issuer,
                       EVP_PKEY *issuer_key, int ca)
{
    X509 *x = X509_new();
    X509_NAME *name;

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), random());
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    if (ca) {
        add_ext(x, issuer ? issuer : x, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, issuer ? issuer : x, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    if (san)
        add_ext(x, issuer ? issuer : x, NID_subject_alt_name, san);
    assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    return x;
}

static void write_pem(const char *path, EVP_PKEY *key, X509 *cert)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    if (cert)
        assert_true(PEM_write_X509(fp, cert));
    if (key)
        assert_true(PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL));
    fclose(fp);
}

static int setup(void **unused)
{
    char path[512];
    EVP_PKEY *client_key;
    X509 *client_cert;

    (void)unused;
    signal(SIGPIPE, SIG_IGN);
    assert_non_null(mkdtemp(dir));
#define P(var, name) snprintf(var, sizeof(var), "%s/%s", dir, name)
    P(ca_file, "ca.pem");
    P(other_ca_file, "other_ca.pem");
    P(capath, "capath");
    P(client_pem, "client.pem");
    P(junk, "junk.pem");
    ca_key = EVP_EC_gen("P-256");
    other_key = EVP_EC_gen("P-256");
    leaf_key = EVP_EC_gen("P-256");
    client_key = EVP_EC_gen("P-256");
    assert_non_null(ca_key);
    ca_cert = make_cert(ca_key, "Test CA", NULL, NULL, NULL, 1);
    other_ca_cert = make_cert(other_key, "Other CA", NULL, NULL, NULL, 1);
    leaf_cert =
        make_cert(leaf_key, "mx.example.com",
                  "DNS:mx.example.com,DNS:mail.example.net,IP:192.0.2.1", ca_cert, ca_key, 0);
    self_cert = make_cert(leaf_key, "mx.example.com", "DNS:mx.example.com", NULL, NULL, 0);
    cn_only_cert = make_cert(leaf_key, "cn.example.org", NULL, ca_cert, ca_key, 0);
    wild_cert = make_cert(leaf_key, "wild", "DNS:*.wild.example", ca_cert, ca_key, 0);
    client_cert = make_cert(client_key, "client.example.com", NULL, ca_cert, ca_key, 0);
    write_pem(ca_file, NULL, ca_cert);
    write_pem(other_ca_file, NULL, other_ca_cert);
    write_pem(client_pem, client_key, client_cert);
    {
        FILE *fp = fopen(junk, "w");

        fputs("this is not PEM\n", fp);
        fclose(fp);
    }
    assert_int_equal(mkdir(capath, 0755), 0);
    snprintf(path, sizeof(path), "%s/%08lx.0", capath, X509_subject_name_hash(ca_cert));
    write_pem(path, NULL, ca_cert);
    EVP_PKEY_free(client_key);
    X509_free(client_cert);
    return 0;
}

static int teardown(void **unused)
{
    char cmd[512];

    (void)unused;
    X509_free(ca_cert);
    X509_free(other_ca_cert);
    X509_free(leaf_cert);
    X509_free(self_cert);
    X509_free(cn_only_cert);
    X509_free(wild_cert);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(other_key);
    EVP_PKEY_free(leaf_key);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- names ---- */

static void test_names(void **unused)
{
    (void)unused;
    assert_int_equal(tls_level_lookup("none"), TLS_LEV_NONE);
    assert_int_equal(tls_level_lookup("MAY"), TLS_LEV_MAY);
    assert_int_equal(tls_level_lookup("encrypt"), TLS_LEV_ENCRYPT);
    assert_int_equal(tls_level_lookup("Verify"), TLS_LEV_VERIFY);
    assert_int_equal(tls_level_lookup("secure"), TLS_LEV_SECURE);
    assert_int_equal(tls_level_lookup("dane"), TLS_LEV_MAY);
    assert_int_equal(tls_level_lookup("dane-only"), TLS_LEV_UNSUPPORTED);
    assert_int_equal(tls_level_lookup("fingerprint"), TLS_LEV_UNSUPPORTED);
    assert_int_equal(tls_level_lookup(""), -1);
    assert_int_equal(tls_level_lookup("maybe"), -1);
    assert_string_equal(tls_level_name(TLS_LEV_SECURE), "secure");
    assert_string_equal(tls_level_name(TLS_LEV_UNSUPPORTED), "unsupported");
    assert_string_equal(tls_trust_name(TLS_TRUST_ANONYMOUS), "Anonymous");
    assert_string_equal(tls_trust_name(TLS_TRUST_UNTRUSTED), "Untrusted");
    assert_string_equal(tls_trust_name(TLS_TRUST_TRUSTED), "Trusted");
    assert_string_equal(tls_trust_name(TLS_TRUST_VERIFIED), "Verified");
    assert_string_equal(tls_cipher_grade("HIGH", "h", "m", "l", "e", "n"), "h");
    assert_string_equal(tls_cipher_grade("medium", "h", "m", "l", "e", "n"), "m");
    assert_string_equal(tls_cipher_grade("null", "h", "m", "l", "e", "n"), "n");
    assert_null(tls_cipher_grade("strong", "h", "m", "l", "e", "n"));
}

static void test_match(void **unused)
{
    X509 *cn_and_dns = make_cert(leaf_key, "other.example", "DNS:mx.example.com", NULL, NULL, 0);

    (void)unused;
    assert_true(tls_client_match(leaf_cert, "mx.example.com"));
    assert_true(tls_client_match(leaf_cert, "MX.Example.COM"));
    assert_true(tls_client_match(leaf_cert, "mail.example.net"));
    assert_false(tls_client_match(leaf_cert, "example.com"));
    assert_false(tls_client_match(leaf_cert, "www.mx.example.com"));
    /* the common name does not count when there are DNS names */
    assert_false(tls_client_match(cn_and_dns, "other.example"));
    assert_true(tls_client_match(cn_and_dns, "mx.example.com"));
    X509_free(cn_and_dns);
    /* subdomains */
    assert_true(tls_client_match(leaf_cert, ".example.com"));
    assert_true(tls_client_match(leaf_cert, ".example.net"));
    assert_false(tls_client_match(leaf_cert, ".mx.example.com"));
    assert_false(tls_client_match(leaf_cert, "."));
    /* IP addresses, in IP names only */
    assert_true(tls_client_match(leaf_cert, "192.0.2.1"));
    assert_false(tls_client_match(leaf_cert, "192.0.2.2"));
    assert_false(tls_client_match(self_cert, "192.0.2.1"));
    /* common name only */
    assert_true(tls_client_match(cn_only_cert, "cn.example.org"));
    assert_false(tls_client_match(cn_only_cert, "x.cn.example.org"));
    /* a wildcard stands for one whole label */
    assert_true(tls_client_match(wild_cert, "a.wild.example"));
    assert_false(tls_client_match(wild_cert, "a.b.wild.example"));
    assert_false(tls_client_match(wild_cert, "wild.example"));
    /* nothing */
    assert_false(tls_client_match(NULL, "mx.example.com"));
    assert_false(tls_client_match(leaf_cert, ""));
    assert_false(tls_client_match(leaf_cert, NULL));
}

/* ---- contexts ---- */

static TLS_CLIENT_PROPS props(void)
{
    TLS_CLIENT_PROPS p;

    memset(&p, 0, sizeof(p));
    p.CAfile = ca_file;
    p.log_level = 0;
    return p;
}

static void test_contexts(void **unused)
{
    VSTRING *why = vstring_alloc(100);
    TLS_CLIENT_PROPS p = props();
    TLS_CLIENT_CTX *ctx;

    (void)unused;
    assert_non_null(ctx = tls_client_init(&p, why));
    tls_client_free(ctx);
    p.CAfile = "";
    p.CApath = capath;
    assert_non_null(ctx = tls_client_init(&p, why));
    tls_client_free(ctx);
    p.CApath = NULL; /* no CA at all: fine, nothing is trusted */
    assert_non_null(ctx = tls_client_init(&p, why));
    tls_client_free(ctx);
    p.cert_file = client_pem; /* key in the same file */
    assert_non_null(ctx = tls_client_init(&p, why));
    tls_client_free(ctx);
    tls_client_free(NULL);

    p = props();
    p.CAfile = "/nonexistent/ca.pem";
    assert_null(tls_client_init(&p, why));
    assert_non_null(strstr(vstring_str(why), "cannot load the trusted CA certificates from "
                                             "/nonexistent/ca.pem"));
    p.CAfile = junk;
    assert_null(tls_client_init(&p, why));
    p = props();
    p.cert_file = junk;
    assert_null(tls_client_init(&p, why));
    assert_non_null(strstr(vstring_str(why), "cannot load the client certificate"));
    p.cert_file = ca_file; /* a certificate without its key */
    assert_null(tls_client_init(&p, why));
    assert_non_null(strstr(vstring_str(why), "cannot use the private key"));
    vstring_free(why);
}

/* ---- handshakes with a forked server ---- */

#define SERVE_NORMAL 0
#define SERVE_GARBAGE 1
#define SERVE_SILENT 2
#define SERVE_PLAIN_FIRST 3 /* "220 go" plus unsolicited bytes in clear, then TLS */

static int sni_cb(SSL *ssl, int *alert, void *arg)
{
    (void)alert;
    (void)arg;
    (void)ssl;
    return SSL_TLSEXT_ERR_OK;
}

/*
 * server - child: TLS server with cert; after the handshake it sends
 * "sni=NAME\n" (or "sni=-\n"), then echoes one line, then closes.
 */
static pid_t server(int fd, X509 *cert, int mode)
{
    pid_t pid = fork();
    SSL_CTX *ctx;
    SSL *ssl;
    char buf[512];
    const char *sni;
    int n;

    assert_true(pid >= 0);
    if (pid > 0) {
        close(fd);
        return pid;
    }
    if (mode == SERVE_GARBAGE) {
        (void)!write(fd, "220 this is no TLS server\r\n", 27);
        sleep(1);
        _exit(0);
    }
    if (mode == SERVE_SILENT) {
        sleep(4);
        _exit(0);
    }
    if (mode == SERVE_PLAIN_FIRST)
        (void)!write(fd, "220 go\r\nINJECTED\r\n", 18);
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx, cert);
    SSL_CTX_use_PrivateKey(ctx, cert == ca_cert ? ca_key : leaf_key);
    SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1)
        _exit(2);
    sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    n = snprintf(buf, sizeof(buf), "sni=%s\n", sni ? sni : "-");
    if (SSL_write(ssl, buf, n) != n)
        _exit(3);
    if ((n = SSL_read(ssl, buf, sizeof(buf))) <= 0)
        _exit(4);
    if (SSL_write(ssl, buf, n) != n)
        _exit(5);
    SSL_shutdown(ssl);
    _exit(0);
}

static int server_status(pid_t pid)
{
    int status;

    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

typedef struct RESULT {
    int ok; /* a session was made */
    int trust;
    char sni[128];
    char protocol[32];
    char why[512];
} RESULT;

/* handshake - one client session against a forked server */

static RESULT handshake(TLS_CLIENT_CTX *ctx, X509 *cert, int mode, const char *servername,
                        const char *match, const char *protocols, int timeout)
{
    RESULT r;
    int sv[2];
    pid_t pid;
    VSTREAM *fp;
    VSTRING *line = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    TLS_CLIENT_START start;
    ARGV *names = match ? argv_split(match, ", ") : NULL;
    TLS_SESS *sess;

    memset(&r, 0, sizeof(r));
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pid = server(sv[1], cert, mode);
    fp = vstream_fdopen(sv[0], O_RDWR);
    vstream_set_timeout(fp, 5);
    if (mode == SERVE_PLAIN_FIRST) {
        usleep(200000); /* both lines arrive in one read */
        assert_int_equal(vstream_get_line(fp, line, 100), '\n');
        assert_string_equal(vstring_str(line), "220 go\r\n");
        assert_int_equal(vstream_bufferred(fp), 10); /* "INJECTED\r\n", read ahead */
    }
    memset(&start, 0, sizeof(start));
    start.peer = "server[192.0.2.1]:25";
    start.servername = servername;
    start.protocols = protocols;
    start.match = names;
    start.timeout = timeout;
    sess = tls_client_start(ctx, fp, &start, &r.trust, why);
    snprintf(r.why, sizeof(r.why), "%s", vstring_str(why));
    if (sess) {
        r.ok = 1;
        snprintf(r.protocol, sizeof(r.protocol), "%s", sess->protocol);
        assert_int_equal(vstream_get_line(fp, line, 200), '\n');
        snprintf(r.sni, sizeof(r.sni), "%.*s", (int)vstring_len(line) - 1, vstring_str(line));
        vstream_fputs("echo this\n", fp);
        vstream_fflush(fp);
        assert_int_equal(vstream_get_line(fp, line, 200), '\n');
        assert_string_equal(vstring_str(line), "echo this\n");
        tls_client_stop(fp, sess, 5, 0);
        assert_int_equal(server_status(pid), 0);
    } else {
        kill(pid, SIGKILL);
        server_status(pid);
    }
    vstream_fclose(fp);
    vstring_free(line);
    vstring_free(why);
    if (names)
        argv_free(names);
    return r;
}

static void test_trust(void **unused)
{
    VSTRING *why = vstring_alloc(100);
    TLS_CLIENT_PROPS p = props();
    TLS_CLIENT_CTX *ctx = tls_client_init(&p, why);
    TLS_CLIENT_CTX *none, *other;
    RESULT r;

    (void)unused;
    assert_non_null(ctx);
    /* self-signed: untrusted */
    r = handshake(ctx, self_cert, SERVE_NORMAL, NULL, NULL, NULL, 5);
    assert_true(r.ok);
    assert_int_equal(r.trust, TLS_TRUST_UNTRUSTED);
    assert_non_null(strstr(r.why, "certificate verification failed for server[192.0.2.1]:25: "
                                  "num=18:self-signed certificate"));
    r = handshake(ctx, self_cert, SERVE_NORMAL, NULL, "mx.example.com", NULL, 5);
    assert_int_equal(r.trust, TLS_TRUST_UNTRUSTED); /* a name does not make it trusted */
    /* signed by our CA: trusted; verified when a name matches */
    r = handshake(ctx, leaf_cert, SERVE_NORMAL, NULL, NULL, NULL, 5);
    assert_int_equal(r.trust, TLS_TRUST_TRUSTED);
    r = handshake(ctx, leaf_cert, SERVE_NORMAL, NULL, "other.example, mail.example.net", NULL, 5);
    assert_int_equal(r.trust, TLS_TRUST_VERIFIED);
    r = handshake(ctx, leaf_cert, SERVE_NORMAL, NULL, "other.example, .example.org", NULL, 5);
    assert_int_equal(r.trust, TLS_TRUST_TRUSTED);
    assert_string_equal(r.why, "server certificate name mismatch for server[192.0.2.1]:25: "
                               "expected other.example, .example.org");
    /* a CA directory */
    p.CAfile = NULL;
    p.CApath = capath;
    other = tls_client_init(&p, why);
    r = handshake(other, leaf_cert, SERVE_NORMAL, NULL, "mx.example.com", NULL, 5);
    assert_int_equal(r.trust, TLS_TRUST_VERIFIED);
    tls_client_free(other);
    /* another CA, or none at all */
    p.CApath = NULL;
    p.CAfile = other_ca_file;
    other = tls_client_init(&p, why);
    r = handshake(other, leaf_cert, SERVE_NORMAL, NULL, "mx.example.com", NULL, 5);
    assert_int_equal(r.trust, TLS_TRUST_UNTRUSTED);
    tls_client_free(other);
    p.CAfile = NULL;
    none = tls_client_init(&p, why);
    r = handshake(none, leaf_cert, SERVE_NORMAL, NULL, "mx.example.com", NULL, 5);
    assert_int_equal(r.trust, TLS_TRUST_UNTRUSTED);
    tls_client_free(none);
    tls_client_free(ctx);
    vstring_free(why);
}

static void test_sni_and_protocols(void **unused)
{
    VSTRING *why = vstring_alloc(100);
    TLS_CLIENT_PROPS p = props();
    TLS_CLIENT_CTX *ctx = tls_client_init(&p, why);
    RESULT r;

    (void)unused;
    r = handshake(ctx, leaf_cert, SERVE_NORMAL, "mx.example.com", NULL, NULL, 5);
    assert_string_equal(r.sni, "sni=mx.example.com");
    r = handshake(ctx, leaf_cert, SERVE_NORMAL, NULL, NULL, NULL, 5);
    assert_string_equal(r.sni, "sni=-");
    r = handshake(ctx, leaf_cert, SERVE_NORMAL, "", NULL, NULL, 5);
    assert_string_equal(r.sni, "sni=-");
    r = handshake(ctx, leaf_cert, SERVE_NORMAL, "192.0.2.1", NULL, NULL, 5);
    assert_string_equal(r.sni, "sni=-"); /* never an IP address */
    r = handshake(ctx, leaf_cert, SERVE_NORMAL, NULL, NULL, "<=TLSv1.2", 5);
    assert_string_equal(r.protocol, "TLSv1.2");
    r = handshake(ctx, leaf_cert, SERVE_NORMAL, NULL, NULL, ">=TLSv1.3", 5);
    assert_string_equal(r.protocol, "TLSv1.3");
    r = handshake(ctx, leaf_cert, SERVE_NORMAL, NULL, NULL, "TLSv9", 5);
    assert_false(r.ok);
    tls_client_free(ctx);
    vstring_free(why);
}

static void test_hostile_servers(void **unused)
{
    VSTRING *why = vstring_alloc(100);
    TLS_CLIENT_PROPS p = props();
    TLS_CLIENT_CTX *ctx = tls_client_init(&p, why);
    RESULT r;

    (void)unused;
    r = handshake(ctx, leaf_cert, SERVE_GARBAGE, NULL, NULL, NULL, 5);
    assert_false(r.ok);
    assert_string_equal(r.why, "handshake failure");
    r = handshake(ctx, leaf_cert, SERVE_SILENT, NULL, NULL, NULL, 1);
    assert_false(r.ok);
    /* clear text after "220" is dropped, never read as protected input */
    r = handshake(ctx, leaf_cert, SERVE_PLAIN_FIRST, NULL, "mx.example.com", NULL, 5);
    assert_true(r.ok);
    assert_int_equal(r.trust, TLS_TRUST_VERIFIED);
    assert_string_equal(r.sni, "sni=-");
    tls_client_free(ctx);
    vstring_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_contexts),
        cmocka_unit_test(test_trust),
        cmocka_unit_test(test_sni_and_protocols),
        cmocka_unit_test(test_hostile_servers),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
