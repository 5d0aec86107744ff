/*
 * test_tls_proto - protocol lists in every syntax main.cf allows (ranges,
 * exclusions, inclusions, holes, separators, case), refusals (unknown
 * names, nothing left, SSL only), and cipher lists with exclusions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "tls_proto.h"
#include "vstring.h"

#define ALL TLS_PROTO_ALL_TLS

static int parse(const char *spec, TLS_PROTO *p)
{
    VSTRING *why = vstring_alloc(10);
    int status = tls_proto_parse(spec, p, why);

    if (status < 0)
        assert_true(vstring_len(why) > 0);
    vstring_free(why);
    return status;
}

static void test_defaults_and_ranges(void **unused)
{
    TLS_PROTO p;

    (void)unused;
    assert_int_equal(parse("", &p), 0);
    assert_int_equal(p.mask, ALL);
    assert_int_equal(p.min_version, TLS1_VERSION);
    assert_int_equal(p.max_version, TLS1_3_VERSION);
    assert_int_equal(p.ssl_options, 0);

    assert_int_equal(parse(">=TLSv1", &p), 0);
    assert_int_equal(p.mask, ALL);

    assert_int_equal(parse(">=TLSv1.2", &p), 0);
    assert_int_equal(p.mask, TLS_PROTO_TLSv1_2 | TLS_PROTO_TLSv1_3);
    assert_int_equal(p.min_version, TLS1_2_VERSION);
    assert_int_equal(p.max_version, TLS1_3_VERSION);

    assert_int_equal(parse("<=TLSv1.2", &p), 0);
    assert_int_equal(p.max_version, TLS1_2_VERSION);
    assert_int_equal(p.min_version, TLS1_VERSION);

    assert_int_equal(parse(">=TLSv1.1 <=TLSv1.2", &p), 0);
    assert_int_equal(p.mask, TLS_PROTO_TLSv1_1 | TLS_PROTO_TLSv1_2);

    /* the stricter of two bounds wins */
    assert_int_equal(parse(">=TLSv1.1, >=TLSv1.3", &p), 0);
    assert_int_equal(p.mask, TLS_PROTO_TLSv1_3);

    /* SSL is never allowed, even when a range starts there */
    assert_int_equal(parse(">=SSLv2", &p), 0);
    assert_int_equal(p.mask, ALL);
    assert_int_equal(p.min_version, TLS1_VERSION);
}

static void test_exclusions_and_inclusions(void **unused)
{
    TLS_PROTO p;

    (void)unused;
    assert_int_equal(parse("!SSLv2, !SSLv3", &p), 0);
    assert_int_equal(p.mask, ALL);

    assert_int_equal(parse("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1", &p), 0);
    assert_int_equal(p.mask, TLS_PROTO_TLSv1_2 | TLS_PROTO_TLSv1_3);
    assert_int_equal(p.min_version, TLS1_2_VERSION);
    assert_int_equal(p.ssl_options, 0);

    /* colons and any case, as Postfix accepts */
    assert_int_equal(parse("!sslv3:!tlsv1:!TLSV1.1", &p), 0);
    assert_int_equal(p.mask, TLS_PROTO_TLSv1_2 | TLS_PROTO_TLSv1_3);

    /* a hole in the middle becomes SSL_OP_NO_* */
    assert_int_equal(parse("!TLSv1.2", &p), 0);
    assert_int_equal(p.min_version, TLS1_VERSION);
    assert_int_equal(p.max_version, TLS1_3_VERSION);
    assert_true(p.ssl_options & SSL_OP_NO_TLSv1_2);
    assert_false(p.ssl_options & SSL_OP_NO_TLSv1_1);

    /* inclusion lists: only what is named */
    assert_int_equal(parse("TLSv1.2", &p), 0);
    assert_int_equal(p.mask, TLS_PROTO_TLSv1_2);
    assert_int_equal(p.min_version, TLS1_2_VERSION);
    assert_int_equal(p.max_version, TLS1_2_VERSION);

    assert_int_equal(parse("TLSv1, TLSv1.2", &p), 0);
    assert_int_equal(p.mask, TLS_PROTO_TLSv1 | TLS_PROTO_TLSv1_2);
    assert_true(p.ssl_options & SSL_OP_NO_TLSv1_1);

    /* inclusion, exclusion and range together */
    assert_int_equal(parse("TLSv1.1 TLSv1.2 TLSv1.3 !TLSv1.2 >=TLSv1.1", &p), 0);
    assert_int_equal(p.mask, TLS_PROTO_TLSv1_1 | TLS_PROTO_TLSv1_3);
}

static void test_refusals(void **unused)
{
    TLS_PROTO p;

    (void)unused;
    assert_int_equal(parse("!TLSv9", &p), -1);
    assert_int_equal(parse("TLSv1.4", &p), -1);
    assert_int_equal(parse(">=", &p), -1);
    assert_int_equal(parse("!", &p), -1);
    assert_int_equal(parse(">TLSv1", &p), -1);
    assert_int_equal(parse("SSLv3", &p), -1); /* SSL only: nothing left */
    assert_int_equal(parse("<=SSLv3", &p), -1);
    assert_int_equal(parse(">=TLSv1.3 <=TLSv1.2", &p), -1);
    assert_int_equal(parse("!TLSv1 !TLSv1.1 !TLSv1.2 !TLSv1.3", &p), -1);
    assert_int_equal(parse("TLSv1.2\x01", &p), -1);
}

static void test_names(void **unused)
{
    (void)unused;
    assert_string_equal(tls_proto_name(TLS_PROTO_TLSv1_3), "TLSv1.3");
    assert_string_equal(tls_proto_name(TLS_PROTO_TLSv1), "TLSv1");
    assert_string_equal(tls_proto_name(0), "unknown");
}

static void test_ciphers(void **unused)
{
    VSTRING *out = vstring_alloc(10);

    (void)unused;
    assert_int_equal(tls_proto_ciphers(out, "HIGH:@STRENGTH", NULL, NULL), 0);
    assert_string_equal(vstring_str(out), "HIGH:@STRENGTH");
    assert_int_equal(tls_proto_ciphers(out, "HIGH", "aNULL, RC4 3DES", ""), 0);
    assert_string_equal(vstring_str(out), "HIGH:!aNULL:!RC4:!3DES");
    assert_int_equal(tls_proto_ciphers(out, "HIGH", "MD5", "AESGCM:CHACHA20"), 0);
    assert_string_equal(vstring_str(out), "HIGH:!MD5:!AESGCM:!CHACHA20");
    /* an "exclusion" that would add or reorder ciphers is refused */
    assert_int_equal(tls_proto_ciphers(out, "HIGH", "+RC4", NULL), -1);
    assert_int_equal(vstring_len(out), 0);
    assert_int_equal(tls_proto_ciphers(out, "HIGH", "!x", NULL), -1);
    assert_int_equal(tls_proto_ciphers(out, "HIGH", NULL, "@SECLEVEL=0"), -1);
    assert_int_equal(tls_proto_ciphers(out, "HIGH", "-x", NULL), -1);
    assert_int_equal(tls_proto_ciphers(out, "", NULL, NULL), -1);
    assert_int_equal(tls_proto_ciphers(out, NULL, NULL, NULL), -1);
    /* every list built this way is one OpenSSL accepts */
    {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

        assert_int_equal(tls_proto_ciphers(out, "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH",
                                           "aNULL, 3DES", "CAMELLIA"),
                         0);
        assert_int_equal(SSL_CTX_set_cipher_list(ctx, vstring_str(out)), 1);
        SSL_CTX_free(ctx);
    }
    vstring_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_ranges),
        cmocka_unit_test(test_exclusions_and_inclusions),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_ciphers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
