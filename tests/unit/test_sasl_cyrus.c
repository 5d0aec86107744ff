/*
 * test_sasl_cyrus - the Cyrus SASL backend with a real sasldb (made with
 * saslpasswd2, skipped when that is missing): mechanism lists per
 * security options, PLAIN, LOGIN and CRAM-MD5 with good and bad
 * passwords, unknown users reported like bad passwords, malformed
 * responses, and a second start of the library.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sasl_srv.h"
#include "vstring.h"

/* Cyrus keeps its plugins loaded for the life of the process. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libsasl2\nleak:libsasldb\nleak:libplain\nleak:liblogin\nleak:libcrammd5\n"
           "leak:libdb\n";
}

static char dir[] = "/tmp/test_sasl_cyrus.XXXXXX";
static SASL_SERVER_IMPL *impl;
static int have_saslpasswd2;

static int setup(void **unused)
{
    char path[300], cmd[700];
    FILE *fp;
    VSTRING *why = vstring_alloc(10);

    (void)unused;
    if (system("command -v saslpasswd2 >/dev/null 2>&1") != 0)
        return 0;
    have_saslpasswd2 = 1;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/smtpd.conf", dir);
    fp = fopen(path, "w");
    fprintf(fp,
            "pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s/sasldb2\n"
            "mech_list: PLAIN LOGIN CRAM-MD5\n",
            dir);
    fclose(fp);
    snprintf(cmd, sizeof(cmd),
             "printf %%s 'secret-1' | saslpasswd2 -f %s/sasldb2 -c -p -u mx.example.com alice",
             dir);
    if (system(cmd) != 0)
        fail_msg("saslpasswd2 failed");
    impl = sasl_srv_init("cyrus", "smtpd", dir, 5, why);
    if (impl == NULL)
        fail_msg("sasl_srv_init: %s", vstring_str(why));
    vstring_free(why);
    return 0;
}

static int teardown(void **unused)
{
    char cmd[300];

    (void)unused;
    if (!have_saslpasswd2)
        return 0;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static SASL_SERVER *server(int opts)
{
    SASL_SERVER_PROPS p;
    VSTRING *why = vstring_alloc(10);
    SASL_SERVER *s;

    memset(&p, 0, sizeof(p));
    p.service = "smtp";
    p.server_name = "mx.example.com";
    p.user_realm = "";
    p.client_addr = "192.0.2.7";
    p.client_port = "40000";
    p.local_addr = "192.0.2.1";
    p.local_port = "25";
    p.sec_options = opts;
    s = sasl_srv_create(impl, &p, why);
    if (s == NULL)
        fail_msg("sasl_srv_create: %s", vstring_str(why));
    vstring_free(why);
    return s;
}

static char *b64(const char *data, size_t len)
{
    static char out[400];

    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
    return out;
}

static int has_mech(SASL_SERVER *s, const char *mech)
{
    char list[200];

    snprintf(list, sizeof(list), " %s ", sasl_srv_mechs(s));
    char want[50];

    snprintf(want, sizeof(want), " %s ", mech);
    return strstr(list, want) != NULL;
}

static void test_mechanisms(void **unused)
{
    SASL_SERVER *s;

    (void)unused;
    if (!have_saslpasswd2)
        skip();
    s = server(SASL_SEC_OPT_NOANONYMOUS);
    assert_true(has_mech(s, "PLAIN") && has_mech(s, "LOGIN") && has_mech(s, "CRAM-MD5"));
    sasl_srv_free(s);
    s = server(SASL_SEC_OPT_NOANONYMOUS | SASL_SEC_OPT_NOPLAINTEXT);
    assert_false(has_mech(s, "PLAIN") || has_mech(s, "LOGIN"));
    assert_true(has_mech(s, "CRAM-MD5"));
    sasl_srv_free(s);
}

static void test_plain(void **unused)
{
    VSTRING *reply = vstring_alloc(10);
    SASL_SERVER *s;

    (void)unused;
    if (!have_saslpasswd2)
        skip();
    s = server(0);
    assert_int_equal(sasl_srv_first(s, "PLAIN", b64("\0alice\0secret-1", 15), reply),
                     SASL_AUTH_DONE);
    assert_string_equal(sasl_srv_username(s), "alice");
    sasl_srv_free(s);

    s = server(0);
    assert_int_equal(sasl_srv_first(s, "PLAIN", b64("\0alice\0wrong", 12), reply), SASL_AUTH_FAIL);
    assert_string_equal(vstring_str(reply), "authentication failure");
    assert_null(sasl_srv_username(s));
    /* an unknown user reads exactly like a wrong password */
    assert_int_equal(sasl_srv_first(s, "PLAIN", b64("\0nobody\0secret-1", 16), reply),
                     SASL_AUTH_FAIL);
    assert_string_equal(vstring_str(reply), "authentication failure");
    /* no initial response: an empty challenge, then the response */
    assert_int_equal(sasl_srv_first(s, "PLAIN", NULL, reply), SASL_AUTH_MORE);
    assert_string_equal(vstring_str(reply), "");
    assert_int_equal(sasl_srv_next(s, b64("\0alice\0secret-1", 15), reply), SASL_AUTH_DONE);
    sasl_srv_free(s);

    /* malformed PLAIN data */
    s = server(0);
    assert_int_equal(sasl_srv_first(s, "PLAIN", b64("alice", 5), reply) == SASL_AUTH_DONE, 0);
    sasl_srv_free(s);
    vstring_free(reply);
}

static void test_login(void **unused)
{
    VSTRING *reply = vstring_alloc(10);
    SASL_SERVER *s;

    (void)unused;
    if (!have_saslpasswd2)
        skip();
    s = server(0);
    assert_int_equal(sasl_srv_first(s, "LOGIN", NULL, reply), SASL_AUTH_MORE);
    assert_string_equal(vstring_str(reply), "VXNlcm5hbWU6"); /* Username: */
    assert_int_equal(sasl_srv_next(s, b64("alice", 5), reply), SASL_AUTH_MORE);
    assert_string_equal(vstring_str(reply), "UGFzc3dvcmQ6"); /* Password: */
    assert_int_equal(sasl_srv_next(s, b64("secret-1", 8), reply), SASL_AUTH_DONE);
    assert_string_equal(sasl_srv_username(s), "alice");
    sasl_srv_free(s);

    s = server(0);
    assert_int_equal(sasl_srv_first(s, "LOGIN", b64("alice", 5), reply), SASL_AUTH_MORE);
    assert_int_equal(sasl_srv_next(s, b64("nope", 4), reply), SASL_AUTH_FAIL);
    sasl_srv_free(s);
    vstring_free(reply);
}

static void cram(SASL_SERVER *s, const char *password, int expect)
{
    VSTRING *reply = vstring_alloc(10);
    unsigned char challenge[300];
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen;
    char response[200];
    int n;

    assert_int_equal(sasl_srv_first(s, "CRAM-MD5", NULL, reply), SASL_AUTH_MORE);
    n = EVP_DecodeBlock(challenge, (unsigned char *)vstring_str(reply), (int)vstring_len(reply));
    assert_true(n > 0);
    while (n > 0 && challenge[n - 1] == 0) /* DecodeBlock keeps the padding */
        n--;
    HMAC(EVP_md5(), password, (int)strlen(password), challenge, (size_t)n, mac, &maclen);
    n = snprintf(response, sizeof(response), "alice ");
    for (unsigned i = 0; i < maclen; i++)
        n += snprintf(response + n, sizeof(response) - (size_t)n, "%02x", mac[i]);
    assert_int_equal(sasl_srv_next(s, b64(response, (size_t)n), reply), expect);
    vstring_free(reply);
}

static void test_cram_md5(void **unused)
{
    SASL_SERVER *s;

    (void)unused;
    if (!have_saslpasswd2)
        skip();
    s = server(0);
    cram(s, "wrong", SASL_AUTH_FAIL);
    sasl_srv_free(s);
    s = server(0);
    cram(s, "secret-1", SASL_AUTH_DONE);
    assert_string_equal(sasl_srv_username(s), "alice");
    sasl_srv_free(s);
}

static void test_malformed_and_restart(void **unused)
{
    VSTRING *reply = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);
    SASL_SERVER *s;

    (void)unused;
    if (!have_saslpasswd2)
        skip();
    s = server(0);
    assert_int_equal(sasl_srv_first(s, "PLAIN", "!!!!", reply), SASL_AUTH_FORM);
    assert_int_equal(sasl_srv_first(s, "LOGIN", NULL, reply), SASL_AUTH_MORE);
    assert_int_equal(sasl_srv_next(s, "a\tb=", reply), SASL_AUTH_FORM);
    assert_int_equal(sasl_srv_first(s, "DIGEST-MD5", NULL, reply), SASL_AUTH_FORM);
    sasl_srv_free(s);
    /* starting the library again gives the same backend */
    assert_ptr_equal(sasl_srv_init("cyrus", "smtpd", dir, 5, why), impl);
    vstring_free(reply);
    vstring_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mechanisms),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_login),
        cmocka_unit_test(test_cram_md5),
        cmocka_unit_test(test_malformed_and_restart),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
