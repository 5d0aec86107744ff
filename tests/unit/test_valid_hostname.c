/*
 * NAME
 *	test_valid_hostname - unit tests for host name and address checks
 * SYNOPSIS
 *	build/unit/test_valid_hostname
 * DESCRIPTION
 *	Table-driven checks of valid_hostname(), valid_hostname_flags(),
 *	valid_ipv4(), valid_ipv6(), valid_hostaddr(), valid_mailhost_addr()
 *	and valid_mailhost_literal(): good names and addresses, every
 *	boundary (label 63/64, name 255/256, octet 255/256), and hostile
 *	text (control bytes, leading zeros, zone ids, stray brackets).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"
#include "valid_hostname.h"

static void test_hostname_good(void **state)
{
    static const char *good[] = {
        "example.com",
        "a",
        "a.b",
        "mail-1.example.org",
        "xn--bcher-kva.example",
        "1host.example",
        "x.y.z.w.v",
        "EXAMPLE.COM",
        "a1",
        "host.c0m",
        NULL,
    };

    (void)state;
    for (const char **cp = good; *cp; cp++) {
        if (!valid_hostname(*cp, 0))
            fail_msg("rejected good name %s", *cp);
    }
}

static void test_hostname_bad(void **state)
{
    static const char *bad[] = {
        "",
        ".",
        "a.",
        ".a",
        "a..b",
        "-a.com",
        "a-.com",
        "a.-b.com",
        "a.b-",
        "a b.com",
        "a_b.com",
        "a@b.com",
        "192.0.2.1",
        "host.123",
        "123",
        "a.b\n",
        "a\tb",
        "[1.2.3.4]",
        "caf\xc3\xa9.example",
        "a/b",
        "a:b",
        NULL,
    };

    (void)state;
    for (const char **cp = bad; *cp; cp++) {
        if (valid_hostname(*cp, 0))
            fail_msg("accepted bad name \"%s\"", *cp);
    }
}

static void test_hostname_flags(void **state)
{
    (void)state;
    assert_false(valid_hostname("_dmarc.example.com", 0));
    assert_true(valid_hostname_flags("_dmarc.example.com", VALID_HOSTNAME_UNDERSCORE, 0));
    assert_true(valid_hostname_flags("a_b.example.com", VALID_HOSTNAME_UNDERSCORE, 0));
    assert_false(valid_hostname_flags("a b.example.com", VALID_HOSTNAME_UNDERSCORE, 0));
    assert_true(valid_hostname_flags("caf\xc3\xa9.example", VALID_HOSTNAME_UTF8, 0));
    assert_false(valid_hostname_flags("caf\xc3\xa9..example", VALID_HOSTNAME_UTF8, 0));
}

static void test_hostname_lengths(void **state)
{
    char name[600];

    (void)state;
    /* one label of 63 is fine, 64 is not */
    memset(name, 'a', 63);
    strcpy(name + 63, ".com");
    assert_true(valid_hostname(name, 0));
    memset(name, 'a', 64);
    strcpy(name + 64, ".com");
    assert_false(valid_hostname(name, 0));

    /* 255 bytes in all is fine, 256 is not: 63+1+63+1+63+1+63 = 255 */
    memset(name, 'b', 255);
    name[63] = name[127] = name[191] = '.';
    name[255] = 0;
    assert_int_equal(strlen(name), 255);
    assert_true(valid_hostname(name, 0));
    name[255] = 'c';
    name[256] = 0;
    assert_false(valid_hostname(name, 0));

    /* a very long name is refused without reading it all wrongly */
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = 0;
    assert_false(valid_hostname(name, 1));
}

static void test_ipv4(void **state)
{
    static const char *good[] = {"0.0.0.0", "192.0.2.1", "255.255.255.255", "10.0.0.10", NULL};
    static const char *bad[] = {
        "",         "1.2.3",     "1.2.3.4.5",  "256.1.1.1", "1.2.3.256",  "01.2.3.4", "1.2.3.04",
        "1..3.4",   ".1.2.3",    "1.2.3.4.",   "1.2.3.-4",  "+1.2.3.4",   " 1.2.3.4", "1.2.3.4 ",
        "1.2.3.4x", "0x1.2.3.4", "1000.2.3.4", "1.2.3.4\n", "1.2.3.0000", NULL,
    };

    (void)state;
    for (const char **cp = good; *cp; cp++)
        if (!valid_ipv4(*cp, 0))
            fail_msg("rejected %s", *cp);
    for (const char **cp = bad; *cp; cp++)
        if (valid_ipv4(*cp, 0))
            fail_msg("accepted \"%s\"", *cp);
}

static void test_ipv6(void **state)
{
    static const char *good[] = {
        "::1",
        "::",
        "2001:db8::1",
        "2001:DB8:0:0:0:0:0:1",
        "fe80::1:2:3:4",
        "::ffff:192.0.2.1",
        "1:2:3:4:5:6:7:8",
        NULL,
    };
    static const char *bad[] = {
        "",
        ":",
        "1:2:3:4:5:6:7:8:9",
        "2001:db8::1::2",
        "fe80::1%eth0",
        "[::1]",
        "::1 ",
        "gggg::1",
        "2001:db8:::1",
        "1.2.3.4",
        "12345::1",
        "::ffff:192.0.2.256",
        NULL,
    };

    (void)state;
    for (const char **cp = good; *cp; cp++)
        if (!valid_ipv6(*cp, 0))
            fail_msg("rejected %s", *cp);
    for (const char **cp = bad; *cp; cp++)
        if (valid_ipv6(*cp, 0))
            fail_msg("accepted \"%s\"", *cp);
    /* over the length bound even if it would otherwise parse */
    assert_false(valid_ipv6("0000:0000:0000:0000:0000:ffff:192.168.100.228x", 0));
}

static void test_hostaddr(void **state)
{
    (void)state;
    assert_true(valid_hostaddr("192.0.2.1", 0));
    assert_true(valid_hostaddr("2001:db8::1", 0));
    assert_false(valid_hostaddr("example.com", 0));
    assert_false(valid_hostaddr("", 0));
}

static void test_mailhost(void **state)
{
    (void)state;
    assert_true(valid_mailhost_addr("192.0.2.1", 0));
    assert_true(valid_mailhost_addr("IPv6:2001:db8::1", 0));
    assert_true(valid_mailhost_addr("ipv6:2001:db8::1", 0));
    assert_false(valid_mailhost_addr("2001:db8::1", 0));
    assert_false(valid_mailhost_addr("IPv6:192.0.2.1", 0));
    assert_false(valid_mailhost_addr("X-tag:foo", 0));

    assert_true(valid_mailhost_literal("[192.0.2.1]", 0));
    assert_true(valid_mailhost_literal("[IPv6:2001:db8::1]", 0));
    assert_true(valid_mailhost_literal("[IPv6:::ffff:192.0.2.1]", 0));
    assert_false(valid_mailhost_literal("192.0.2.1", 0));
    assert_false(valid_mailhost_literal("[192.0.2.1", 0));
    assert_false(valid_mailhost_literal("192.0.2.1]", 0));
    assert_false(valid_mailhost_literal("[]", 0));
    assert_false(valid_mailhost_literal("[", 0));
    assert_false(valid_mailhost_literal("", 0));
    assert_false(valid_mailhost_literal("[[192.0.2.1]]", 0));
    assert_false(valid_mailhost_literal("[192.0.2.1]x", 0));
    assert_false(valid_mailhost_literal("[2001:db8::1]", 0));
    assert_false(valid_mailhost_literal("[IPv6:2001:db8::1%lo]", 0));
    assert_false(valid_mailhost_literal("[IPv6:0000:0000:0000:0000:0000:0000:0000:0000:0000]", 0));
    assert_false(valid_mailhost_literal("[ 192.0.2.1]", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostname_good),  cmocka_unit_test(test_hostname_bad),
        cmocka_unit_test(test_hostname_flags), cmocka_unit_test(test_hostname_lengths),
        cmocka_unit_test(test_ipv4),           cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_hostaddr),       cmocka_unit_test(test_mailhost),
    };

    msg_set_logfile("/dev/null");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
