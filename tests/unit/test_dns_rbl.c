/*
 * NAME
 *	test_dns_rbl - unit tests for DNS list names, filters and reply templates
 * SYNOPSIS
 *	build/unit/test_dns_rbl
 * DESCRIPTION
 *	dns_rbl_reverse() for IPv4 and IPv6 (RFC 5782 examples) and for
 *	text that is not an address; dns_rbl_domain() limits;
 *	dns_rbl_split() and the filter syntax (numbers, ranges, lists,
 *	every malformed form); dns_rbl_expand() macros, conditionals,
 *	nesting, values that must not be expanded, and hostile templates
 *	(unbalanced braces, bad names, nesting and length limits).
 *	dns_rbl_lookup() against a name server that is not there is a
 *	temporary failure, never "not listed".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dns.h"
#include "dns_rbl.h"
#include "msg.h"
#include "vstring.h"

static void test_reverse(void **state)
{
    VSTRING *out = vstring_alloc(10);

    (void)state;
    assert_int_equal(dns_rbl_reverse(out, "192.0.2.99", "bl.example"), 0);
    assert_string_equal(vstring_str(out), "99.2.0.192.bl.example");
    assert_int_equal(dns_rbl_reverse(out, "127.0.0.2", NULL), 0);
    assert_string_equal(vstring_str(out), "2.0.0.127");
    assert_int_equal(dns_rbl_reverse(out, "2001:db8:1:2:3:4:567:89ab", "bl.example"), 0);
    assert_string_equal(
        vstring_str(out),
        "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example");
    assert_int_equal(dns_rbl_reverse(out, "::1", ""), 0);
    assert_string_equal(vstring_str(out),
                        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0");
    for (const char *const *bad =
             (const char *const[]){"", "unix", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1",
                                   "fe80::1%eth0", "[::1]", "1.2.3.4 ", NULL};
         *bad; bad++) {
        assert_int_equal(dns_rbl_reverse(out, *bad, "z"), -1);
        assert_int_equal(vstring_len(out), 0);
    }
    vstring_free(out);
}

static void test_domain(void **state)
{
    VSTRING *out = vstring_alloc(10);
    char longname[300];

    (void)state;
    assert_int_equal(dns_rbl_domain(out, "spam.example.", "dbl.example"), 0);
    assert_string_equal(vstring_str(out), "spam.example.dbl.example");
    assert_int_equal(dns_rbl_domain(out, "under_score.example", "z"), 0);
    assert_int_equal(dns_rbl_domain(out, "", "z"), -1);
    assert_int_equal(dns_rbl_domain(out, "[192.0.2.1]", "z"), -1);
    assert_int_equal(dns_rbl_domain(out, "a..b", "z"), -1);
    assert_int_equal(dns_rbl_domain(out, "a b", "z"), -1);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    for (size_t i = 60; i < sizeof(longname) - 1; i += 61)
        longname[i] = '.';
    assert_int_equal(dns_rbl_domain(out, longname + 100, "zone.example"), 0);
    assert_int_equal(dns_rbl_domain(out, longname + 50, "zone.example"), -1);
    vstring_free(out);
}

static void test_split_and_filters(void **state)
{
    VSTRING *zone = vstring_alloc(10);
    VSTRING *filter = vstring_alloc(10);
    static const unsigned char ip2[4] = {127, 0, 0, 2};
    static const unsigned char ip10[4] = {127, 0, 1, 10};

    (void)state;
    assert_int_equal(dns_rbl_split("zen.example", zone, filter), 0);
    assert_string_equal(vstring_str(zone), "zen.example");
    assert_string_equal(vstring_str(filter), "");
    assert_int_equal(dns_rbl_split("zen.example=127.0.0.[2..11]", zone, filter), 0);
    assert_string_equal(vstring_str(zone), "zen.example");
    assert_string_equal(vstring_str(filter), "127.0.0.[2..11]");
    assert_int_equal(dns_rbl_split("=127.0.0.2", zone, filter), -1);
    assert_int_equal(dns_rbl_split("z=127.0.0", zone, filter), -1);
    assert_string_equal(vstring_str(filter), "");

    assert_true(dns_rbl_filter_match("127.0.0.2", ip2));
    assert_false(dns_rbl_filter_match("127.0.0.3", ip2));
    assert_true(dns_rbl_filter_match("127.0.0.[1..3]", ip2));
    assert_true(dns_rbl_filter_match("127.0.0.[5;2;9]", ip2));
    assert_false(dns_rbl_filter_match("127.0.0.[5;9]", ip2));
    assert_true(dns_rbl_filter_match("127.0.[0;1].[2..4;10]", ip10));
    assert_true(dns_rbl_filter_match("[0..255].[0..255].[0..255].[0..255]", ip10));
    assert_false(dns_rbl_filter_match("127.0.0.[2..4;9]", ip10));
    for (const char *const *bad =
             (const char *const[]){"", "127.0.0", "127.0.0.2.", "127.0.0.256", "127.0.0.0002",
                                   "127.0.0.-1", "127.0.0.[", "127.0.0.[]", "127.0.0.[2..]",
                                   "127.0.0.[..2]", "127.0.0.[4..2]", "127.0.0.[2;]", "127.0.0.[2",
                                   "127.0.0.2]", "127.0.0.[2..3..4]", "127.0.0.x", "127..0.2",
                                   " 127.0.0.2", NULL};
         *bad; bad++) {
        if (dns_rbl_filter_valid(*bad))
            fail_msg("accepted filter \"%s\"", *bad);
        assert_false(dns_rbl_filter_match(*bad, ip2));
    }
    vstring_free(zone);
    vstring_free(filter);
}

static const char *test_lookup(const char *name, void *context)
{
    (void)context;
    if (strcmp(name, "code") == 0)
        return "554";
    if (strcmp(name, "reason") == 0)
        return "see ${code} $$ {x}"; /* a value is never expanded */
    if (strcmp(name, "empty") == 0)
        return "";
    if (strcmp(name, "a_1") == 0)
        return "A";
    return NULL;
}

static void test_expand(void **state)
{
    static const struct {
        const char *template;
        const char *result;
    } good[] = {
        {"plain text", "plain text"},
        {"$code go away", "554 go away"},
        {"${code}x$(code)", "554x554"},
        {"$undefined|$empty|", "||"},
        {"$a_1.", "A."},
        {"${reason?; $reason}", "; see ${code} $$ {x}"},
        {"${empty?never}${empty:shown}", "shown"},
        {"${undefined?never}${undefined:shown}", "shown"},
        {"${code?{braced $code}}", "braced 554"},
        {"${code?a ${reason:no} b}", "a  b"},
        {"${code:no}${code?${empty:deep ${a_1}}}", "deep A"},
        {"$$code", "$code"},
        {"", ""},
    };
    static const char *bad[] = {
        "$",
        "$ x",
        "${code",
        "${code?x",
        "${}",
        "${code!x}",
        "$(code",
        "${?x}",
        "${code?${code?${code?${code?${code?${code?${code?${code?${code?${code?${code?x}}}}}}}}}}}",
        NULL,
    };
    VSTRING *out = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);
    VSTRING *big = vstring_alloc(10);

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (dns_rbl_expand(out, good[i].template, test_lookup, NULL, why) < 0)
            fail_msg("\"%s\": %s", good[i].template, vstring_str(why));
        if (strcmp(vstring_str(out), good[i].result) != 0)
            fail_msg("\"%s\": got \"%s\"", good[i].template, vstring_str(out));
    }
    for (const char **cp = bad; *cp; cp++) {
        vstring_reset(why);
        if (dns_rbl_expand(out, *cp, test_lookup, NULL, why) == 0)
            fail_msg("accepted \"%s\" as \"%s\"", *cp, vstring_str(out));
        assert_true(vstring_len(why) > 0);
    }
    for (int i = 0; i < DNS_RBL_EXPAND_MAX; i++)
        vstring_strcat(big, "$code");
    assert_int_equal(dns_rbl_expand(out, vstring_str(big), test_lookup, NULL, why), -1);
    assert_true(vstring_len(out) <= DNS_RBL_EXPAND_MAX);
    vstring_free(out);
    vstring_free(why);
    vstring_free(big);
}

static void test_lookup_without_server(void **state)
{
    VSTRING *why = vstring_alloc(10);
    VSTRING *txt = vstring_alloc(10);
    char found[DNS_ADDR_TEXT_MAX];

    (void)state;
    assert_int_equal(dns_set_servers("127.0.0.1:1", why), 0);
    assert_int_equal(dns_rbl_lookup("2.0.0.127.zen.example", NULL, found, txt, why), DNS_TEMP);
    assert_int_equal(dns_rbl_lookup("bad..name", NULL, found, txt, why), DNS_FAIL);
    vstring_free(why);
    vstring_free(txt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reverse),
        cmocka_unit_test(test_domain),
        cmocka_unit_test(test_split_and_filters),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_lookup_without_server),
    };

    msg_init("test_dns_rbl");
    msg_set_syslog(0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
