/*
 * NAME
 *	test_cleanup_local - unit tests for local_header_rewrite_clients
 * SYNOPSIS
 *	build/unit/test_cleanup_local
 * DESCRIPTION
 *	Each rule on its own and in order: permit_inet_interfaces with
 *	loopback-only, listed addresses (bracketed, IPv6) and
 *	proxy_interfaces; permit_mynetworks with networks of both families
 *	and negation; permit_sasl_authenticated; check_address_map with a
 *	table, and a table that fails; rules that never match and unknown
 *	rules; empty, malformed and IPv4-mapped client addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup_local.h"
#include "msg.h"

static void check(const char *rules, const char *mynetworks, const char *inet,
                  const char *proxy, const char *addr, const char *sasl, int want)
{
    CLEANUP_LOCAL *local = cleanup_local_create(rules, mynetworks, inet, proxy);
    int got = cleanup_local_match(local, addr, sasl);

    if (got != want)
        fail_msg("rules \"%s\" addr \"%s\" sasl \"%s\": %d, wanted %d", rules,
                 addr ? addr : "(null)", sasl ? sasl : "(null)", got, want);
    cleanup_local_free(local);
}

static void test_inet_interfaces(void **unused)
{
    const char *r = "permit_inet_interfaces";

    (void) unused;
    check(r, "", "loopback-only", "", "127.0.0.1", NULL, 1);
    check(r, "", "loopback-only", "", "::1", NULL, 1);
    check(r, "", "loopback-only", "", "::ffff:127.0.0.1", NULL, 1);
    check(r, "", "loopback-only", "", "127.0.0.2", NULL, 0);
    check(r, "", "192.0.2.1, [2001:db8::1]", "", "192.0.2.1", NULL, 1);
    check(r, "", "192.0.2.1, [2001:db8::1]", "", "2001:db8:0::1", NULL, 1);
    check(r, "", "192.0.2.1, [2001:db8::1]", "", "192.0.2.2", NULL, 0);
    check(r, "", "192.0.2.1", "198.51.100.1", "198.51.100.1", NULL, 1);
    check(r, "", "192.0.2.1", "all", "127.0.0.1", NULL, 0);      /* "all" only in inet_interfaces */
    check(r, "", "all", "", "127.0.0.1", NULL, 1);               /* every interface has loopback */
    check(r, "", "localhost", "", "127.0.0.1", NULL, 1);         /* a name, resolved */
    check(r, "", "loopback-only", "", "", NULL, 0);
    check(r, "", "loopback-only", "", NULL, NULL, 0);
    check(r, "", "loopback-only", "", "unknown", NULL, 0);
    check(r, "", "loopback-only", "", "127.0.0.1x", NULL, 0);
}

static void test_mynetworks(void **unused)
{
    const char *r = "permit_mynetworks";
    const char *nets = "192.0.2.0/24, [2001:db8::]/32, !198.51.100.7, 198.51.100.0/24";

    (void) unused;
    check(r, nets, "", "", "192.0.2.200", NULL, 1);
    check(r, nets, "", "", "192.0.3.1", NULL, 0);
    check(r, nets, "", "", "2001:db8:ffff::1", NULL, 1);
    check(r, nets, "", "", "2001:db9::1", NULL, 0);
    check(r, nets, "", "", "198.51.100.8", NULL, 1);
    check(r, nets, "", "", "198.51.100.7", NULL, 0);
    check(r, nets, "", "", "::ffff:192.0.2.5", NULL, 1);
    check(r, "", "", "", "192.0.2.1", NULL, 0);
}

static void test_sasl_and_maps(void **unused)
{
    (void) unused;
    check("permit_sasl_authenticated", "", "", "", "192.0.2.1", "alice", 1);
    check("permit_sasl_authenticated", "", "", "", "192.0.2.1", "", 0);
    check("permit_sasl_authenticated", "", "", "", NULL, "bob", 1);
    check("check_address_map inline:{192.0.2.9=OK}", "", "", "", "192.0.2.9", NULL, 1);
    check("check_address_map inline:{192.0.2.9=OK}", "", "", "", "192.0.2.8", NULL, 0);
    check("check_address_map fail:broken", "", "", "", "192.0.2.8", NULL, -1);
    /* an earlier rule answers before a failing table is asked */
    check("permit_sasl_authenticated, check_address_map fail:broken", "", "", "", "192.0.2.8",
          "carol", 1);
    /* rules that never match, unknown rules, a table missing its name */
    check("permit_tls_clientcerts, permit_tls_all_clientcerts, reject, check_address_map", "", "",
          "", "192.0.2.8", "dave", 0);
    check("", "", "all", "", "127.0.0.1", "erin", 0);
    check("{unbalanced", "", "all", "", "127.0.0.1", NULL, 0);
    /* in order: first match */
    check("permit_mynetworks, permit_inet_interfaces", "10.0.0.0/8", "loopback-only", "",
          "127.0.0.1", NULL, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inet_interfaces),
        cmocka_unit_test(test_mynetworks),
        cmocka_unit_test(test_sasl_and_maps),
    };

    msg_init("test_cleanup_local");
    msg_set_logfile("/dev/null");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
