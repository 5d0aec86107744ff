/*
 * NAME
 *	test_dns_ptr - unit tests for PTR lookups and the name server override
 * SYNOPSIS
 *	build/unit/test_dns_ptr
 * DESCRIPTION
 *	dns_ptr_set_servers(): every accepted form and the refused ones
 *	(nothing changes on refusal). Queries that can never be sent (bad
 *	names, text that is not an address) are permanent failures; a name
 *	server that does not answer is a temporary one, for dns_ptr_query(),
 *	dns_ptr_lookup() and dns_ptr_verify() alike, so that a client is
 *	never judged "unknown" because the DNS was down. Answers from a
 *	real name server are tested by the integration tests (dnsmasq).
 */
#include <arpa/nameser.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "argv.h"
#include "dns.h"
#include "dns_ptr.h"
#include "msg.h"
#include "vstring.h"

static void test_servers(void **state)
{
    static const char *good[] = {
        "127.0.0.1", "127.0.0.1:5353",
        "[::1]",     "[::1]:53",
        "::1",       "127.0.0.1, 127.0.0.2:54 [::1]:55",
        "",          NULL,
    };
    static const char *bad[] = {
        "localhost",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "127.0.0.1:x",
        "[::1",
        "[::1]x",
        "[127.0.0.1:53",
        "1.2.3.4:53:54",
        "1.2.3.4, 1.2.3.5, 1.2.3.6, 1.2.3.7",
        "01.2.3.4",
        "[]",
        "::1%lo",
        NULL,
    };
    VSTRING *why = vstring_alloc(10);

    (void)state;
    for (const char **cp = good; *cp; cp++)
        if (dns_ptr_set_servers(*cp, why) < 0)
            fail_msg("refused \"%s\": %s", *cp, vstring_str(why));
    for (const char **cp = bad; *cp; cp++) {
        vstring_reset(why);
        if (dns_ptr_set_servers(*cp, why) == 0)
            fail_msg("accepted \"%s\"", *cp);
        assert_true(vstring_len(why) > 0);
    }
    vstring_free(why);
}

static void test_permanent_failures(void **state)
{
    VSTRING *why = vstring_alloc(10);
    ARGV *names = argv_alloc(2);
    unsigned char answer[512];
    int len;
    int reverse;

    (void)state;
    assert_int_equal(dns_ptr_set_servers("127.0.0.1:1", why), 0);
    assert_int_equal(dns_ptr_query("bad..name", ns_t_txt, answer, sizeof(answer), &len, why),
                     DNS_FAIL);
    assert_int_equal(dns_ptr_query("", ns_t_txt, answer, sizeof(answer), &len, why), DNS_FAIL);
    assert_int_equal(dns_ptr_query("a b.example", ns_t_a, answer, sizeof(answer), &len, why),
                     DNS_FAIL);
    assert_int_equal(dns_ptr_query(NULL, ns_t_a, answer, sizeof(answer), &len, why), DNS_FAIL);
    assert_int_equal(dns_ptr_lookup("not-an-address", names, why), DNS_FAIL);
    assert_int_equal(dns_ptr_lookup("1.2.3", names, why), DNS_FAIL);
    assert_int_equal(names->argc, 0);
    assert_int_equal(dns_ptr_verify("unix", &reverse, NULL, NULL, why), DNS_NOTFOUND);
    assert_int_equal(reverse, DNS_FAIL);
    argv_free(names);
    vstring_free(why);
}

static void test_no_server_is_temporary(void **state)
{
    VSTRING *why = vstring_alloc(10);
    VSTRING *name = vstring_alloc(10);
    ARGV *names = argv_alloc(2);
    unsigned char answer[512];
    int len = 99;
    int reverse;

    (void)state;
    assert_int_equal(dns_ptr_set_servers("127.0.0.1:1", why), 0);
    assert_int_equal(dns_set_servers("127.0.0.1:1", why), 0);
    assert_int_equal(dns_ptr_query("example.test", ns_t_txt, answer, sizeof(answer), &len, why),
                     DNS_TEMP);
    assert_int_equal(len, DNS_PTR_NODATA);
    assert_non_null(strstr(vstring_str(why), "try again"));
    assert_int_equal(dns_ptr_lookup("192.0.2.1", names, why), DNS_TEMP);
    assert_int_equal(dns_ptr_lookup("2001:db8::1", names, why), DNS_TEMP);
    assert_int_equal(dns_ptr_verify("192.0.2.1", &reverse, NULL, name, why), DNS_TEMP);
    assert_int_equal(reverse, DNS_TEMP);
    assert_int_equal(vstring_len(name), 0);
    argv_free(names);
    vstring_free(why);
    vstring_free(name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_servers),
        cmocka_unit_test(test_permanent_failures),
        cmocka_unit_test(test_no_server_is_temporary),
    };

    msg_init("test_dns_ptr");
    msg_set_syslog(0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
