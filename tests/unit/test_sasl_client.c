/*
 * test_sasl_client - the SASL client over Cyrus: PLAIN (initial response),
 * LOGIN and CRAM-MD5 (challenges, the response checked against an HMAC
 * computed here), the choice among offered mechanisms under security
 * options (noplaintext), no mechanism at all, hostile challenges (not
 * base64, too long), and the mechanism filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sasl_client.h"
#include "sasl_srv.h"
#include "vstring.h"

static VSTRING *mech, *data, *why;

static int setup(void **unused)
{
    (void)unused;
    mech = vstring_alloc(20);
    data = vstring_alloc(100);
    why = vstring_alloc(100);
    assert_int_equal(sasl_clnt_init(why), 0);
    assert_int_equal(sasl_clnt_init(why), 0); /* a second call does nothing */
    return 0;
}

static int teardown(void **unused)
{
    (void)unused;
    vstring_free(mech);
    vstring_free(data);
    vstring_free(why);
    return 0;
}

static SASL_CLNT *client(const char *user, const char *pass, int options)
{
    SASL_CLNT_PROPS props = {"smtp", "mx.example.com", user, pass, options};
    SASL_CLNT *c = sasl_clnt_create(&props, why);

    assert_non_null(c);
    return c;
}

/* b64 - base64 of len bytes (OpenSSL), into a static buffer */

static const char *b64(const void *in, size_t len)
{
    static char out[1024];

    assert_true(len < 600);
    EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    return out;
}

/* unb64 - decode into out; the decoded length */

static size_t unb64(const char *in, unsigned char *out)
{
    size_t len = strlen(in);
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);

    assert_true(n >= 0);
    while (len > 0 && in[len - 1] == '=') {
        len--;
        n--;
    }
    return (size_t)n;
}

static void test_plain(void **unused)
{
    SASL_CLNT *c = client("alice", "s3cret:pass word", 0);
    unsigned char buf[256];
    size_t n;

    (void)unused;
    assert_int_equal(sasl_clnt_first(c, "PLAIN", mech, data, why), SASL_CLNT_OK);
    assert_string_equal(vstring_str(mech), "PLAIN");
    n = unb64(vstring_str(data), buf);
    /* [authzid] NUL authcid NUL password; Cyrus leaves out an authzid equal to authcid */
    assert_true(n > 23);
    assert_memory_equal(buf + n - 23, "\0alice\0s3cret:pass word", 23);
    sasl_clnt_free(c);
}

static void test_login(void **unused)
{
    SASL_CLNT *c = client("alice", "s3cret", 0);

    (void)unused;
    assert_int_equal(sasl_clnt_first(c, "LOGIN", mech, data, why), SASL_CLNT_OK);
    assert_string_equal(vstring_str(mech), "LOGIN");
    assert_string_equal(vstring_str(data), ""); /* no initial response */
    assert_int_equal(sasl_clnt_next(c, b64("Username:", 9), data, why), SASL_CLNT_OK);
    assert_string_equal(vstring_str(data), b64("alice", 5));
    assert_int_equal(sasl_clnt_next(c, b64("Password:", 9), data, why), SASL_CLNT_OK);
    assert_string_equal(vstring_str(data), b64("s3cret", 6));
    sasl_clnt_free(c);
}

static void test_cram_md5(void **unused)
{
    const char *challenge = "<1896.697170952@postoffice.example.net>";
    SASL_CLNT *c = client("bob", "tanstaaftanstaaf", SASL_SEC_OPT_NOPLAINTEXT);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    char expect[128];
    unsigned char got[256];
    size_t n;
    int off;

    (void)unused;
    /* PLAIN and LOGIN are not allowed: CRAM-MD5 is chosen */
    assert_int_equal(sasl_clnt_first(c, "PLAIN LOGIN CRAM-MD5", mech, data, why), SASL_CLNT_OK);
    assert_string_equal(vstring_str(mech), "CRAM-MD5");
    assert_string_equal(vstring_str(data), "");
    assert_int_equal(sasl_clnt_next(c, b64(challenge, strlen(challenge)), data, why), SASL_CLNT_OK);
    assert_non_null(HMAC(EVP_md5(), "tanstaaftanstaaf", 16, (const unsigned char *)challenge,
                         strlen(challenge), mac, &mac_len));
    off = snprintf(expect, sizeof(expect), "bob ");
    for (unsigned i = 0; i < mac_len; i++)
        off += snprintf(expect + off, sizeof(expect) - (size_t)off, "%02x", mac[i]);
    n = unb64(vstring_str(data), got);
    assert_int_equal(n, strlen(expect));
    assert_memory_equal(got, expect, n);
    sasl_clnt_free(c);
}

static void test_no_mechanism(void **unused)
{
    SASL_CLNT *c = client("alice", "x", SASL_SEC_OPT_NOPLAINTEXT | SASL_SEC_OPT_NOANONYMOUS);

    (void)unused;
    assert_int_equal(sasl_clnt_first(c, "PLAIN LOGIN", mech, data, why), SASL_CLNT_NOMECH);
    assert_string_equal(vstring_str(why), "no mechanism available");
    assert_int_equal(sasl_clnt_first(c, "", mech, data, why), SASL_CLNT_NOMECH);
    assert_int_equal(sasl_clnt_first(c, "X-UNKNOWN-MECH", mech, data, why), SASL_CLNT_NOMECH);
    sasl_clnt_free(c);
}

static void test_hostile_challenges(void **unused)
{
    SASL_CLNT *c = client("alice", "s3cret", 0);
    char *huge;

    (void)unused;
    assert_int_equal(sasl_clnt_first(c, "LOGIN", mech, data, why), SASL_CLNT_OK);
    assert_int_equal(sasl_clnt_next(c, "not base64!", data, why), SASL_CLNT_FAIL);
    assert_string_equal(vstring_str(why), "malformed SASL challenge from the server");
    assert_int_equal(sasl_clnt_next(c, "QQ=", data, why), SASL_CLNT_FAIL);
    huge = malloc(4 * SASL_CLNT_DATA_MAX);
    memset(huge, 'Q', 4 * SASL_CLNT_DATA_MAX - 1);
    huge[4 * SASL_CLNT_DATA_MAX - 1] = 0;
    assert_int_equal(sasl_clnt_next(c, huge, data, why), SASL_CLNT_FAIL);
    free(huge);
    sasl_clnt_free(c);
    sasl_clnt_free(NULL);
}

static void test_filter(void **unused)
{
    VSTRING *out = vstring_alloc(10);

    (void)unused;
    sasl_clnt_filter("PLAIN LOGIN CRAM-MD5", NULL, out);
    assert_string_equal(vstring_str(out), "PLAIN LOGIN CRAM-MD5");
    sasl_clnt_filter("plain  login\tcram-md5", "", out);
    assert_string_equal(vstring_str(out), "PLAIN LOGIN CRAM-MD5");
    sasl_clnt_filter("PLAIN LOGIN CRAM-MD5", "cram-md5, login", out);
    assert_string_equal(vstring_str(out), "LOGIN CRAM-MD5");
    sasl_clnt_filter("PLAIN PLAIN plain", NULL, out);
    assert_string_equal(vstring_str(out), "PLAIN");
    /* names that are not mechanism names are dropped */
    sasl_clnt_filter("PLAIN bad*name =LOGIN THIS-NAME-IS-FAR-TOO-LONG-X LOGIN", NULL, out);
    assert_string_equal(vstring_str(out), "PLAIN LOGIN");
    sasl_clnt_filter("PLAIN", "LOGIN", out);
    assert_string_equal(vstring_str(out), "");
    sasl_clnt_filter(NULL, NULL, out);
    assert_string_equal(vstring_str(out), "");
    vstring_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_login),
        cmocka_unit_test(test_cram_md5),
        cmocka_unit_test(test_no_mechanism),
        cmocka_unit_test(test_hostile_challenges),
        cmocka_unit_test(test_filter),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
