/*
 * NAME
 *	test_resolve - unit tests for the address resolver
 * SYNOPSIS
 *	build/unit/test_resolve
 * DESCRIPTION
 *	Address classes in Postfix's order (local, virtual alias, virtual
 *	mailbox, relay, default); local address literals; domain list
 *	syntax (names, .subdomain, !exclusion, /file/name, type:table,
 *	parent-domain style); the next hop of each class with and without
 *	relayhost; transport_maps search order and the empty-field rules
 *	of transport(5); malformed domains; table failures that must
 *	defer rather than decide. (An unreadable /file/name is fatal, in
 *	lib/smtpd_match.c, and tested there.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mail_conf.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve.h"
#include "vstring.h"

static char pattern_file[] = "/tmp/test_resolve.XXXXXX";

static void configure(const char *text)
{
    VSTRING *why = vstring_alloc(100);

    resolve_reset();
    mail_conf_reset();
    if (mail_conf_parse(text, strlen(text), "/test/main.cf", why) != 0)
        fail_msg("main.cf: %s", vstring_str(why));
    mail_conf_eval();
    vstring_free(why);
}

typedef struct CASE {
    const char *addr;
    int flags;                  /* expected flags (class and outcome) */
    const char *transport;
    const char *nexthop;
    const char *recipient;      /* NULL: same as addr */
} CASE;

static void run(const CASE *cases)
{
    RESOLVE_REPLY *reply = resolve_reply_alloc();

    for (const CASE *c = cases; c->addr; c++) {
        int flags = resolve_addr(c->addr, reply);

        if (flags != c->flags)
            fail_msg("\"%s\": flags 0x%x, wanted 0x%x (%s:%s)", c->addr, flags, c->flags,
                     vstring_str(reply->transport), vstring_str(reply->nexthop));
        if (strcmp(vstring_str(reply->transport), c->transport) != 0
            || strcmp(vstring_str(reply->nexthop), c->nexthop) != 0)
            fail_msg("\"%s\": %s:%s, wanted %s:%s", c->addr, vstring_str(reply->transport),
                     vstring_str(reply->nexthop), c->transport, c->nexthop);
        if (strcmp(vstring_str(reply->recipient), c->recipient ? c->recipient : c->addr) != 0)
            fail_msg("\"%s\": recipient \"%s\"", c->addr, vstring_str(reply->recipient));
    }
    resolve_reply_free(reply);
}

#define LOCAL RESOLVE_CLASS_LOCAL
#define ALIAS RESOLVE_CLASS_ALIAS
#define VIRT RESOLVE_CLASS_VIRTUAL
#define RELAY RESOLVE_CLASS_RELAY
#define DEF RESOLVE_CLASS_DEFAULT
#define ROUTED RESOLVE_FLAG_ROUTED
#define ERR RESOLVE_FLAG_ERROR
#define FAIL RESOLVE_FLAG_FAIL

static const char *base_conf =
    "myhostname = mail.example.com\n"
    "mydomain = example.com\n"
    "mydestination = $myhostname, localhost, !bad.sub.example.com, .sub.example.com,"
    " inline:{ tabledomain.example=yes }\n"
    "inet_interfaces = 127.0.0.1\n"
    "proxy_interfaces = 192.0.2.10, [2001:db8::10]\n"
    "virtual_alias_domains = alias.example\n"
    "virtual_mailbox_domains = vbox.example\n";

static void test_classes(void **state)
{
    VSTRING *conf = vstring_alloc(500);

    (void) state;
    vstring_sprintf(conf, "%srelay_domains = relay.example, %s\n", base_conf, pattern_file);
    configure(vstring_str(conf));
    const CASE cases[] = {
        {"user", LOCAL, "local", "mail.example.com", NULL},
        {"user@mail.example.com", LOCAL, "local", "mail.example.com", NULL},
        {"User@LOCALHOST.", LOCAL, "local", "mail.example.com", "User@LOCALHOST"},
        {"u@x.sub.example.com", LOCAL, "local", "mail.example.com", NULL},
        {"u@sub.example.com", DEF, "smtp", "sub.example.com", NULL},
        {"u@bad.sub.example.com", DEF, "smtp", "bad.sub.example.com", NULL},
        {"u@tabledomain.example", LOCAL, "local", "mail.example.com", NULL},
        {"u@[127.0.0.1]", LOCAL, "local", "mail.example.com", NULL},
        {"u@[192.0.2.10]", LOCAL, "local", "mail.example.com", NULL},
        {"u@[IPv6:2001:db8:0::10]", LOCAL, "local", "mail.example.com", NULL},
        {"u@[192.0.2.99]", DEF, "smtp", "[192.0.2.99]", NULL},
        {"u@alias.example", ALIAS, "error", RESOLVE_REASON_ALIAS, NULL},
        {"u@vbox.example", VIRT, "virtual", "vbox.example", NULL},
        {"u@VBox.Example", VIRT, "virtual", "vbox.example", NULL},
        {"u@relay.example", RELAY, "relay", "relay.example", NULL},
        {"u@sub.relay.example", RELAY, "relay", "sub.relay.example", NULL},
        {"u@fromfile.example", RELAY, "relay", "fromfile.example", NULL},
        {"u@notfile.example", DEF, "smtp", "notfile.example", NULL},
        {"u@other.example", DEF, "smtp", "other.example", NULL},
        {"\"a b\"@other.example", DEF, "smtp", "other.example", NULL},
        {"a@b@other.example", DEF, "smtp", "other.example", NULL},
        {"u@", ERR, "error", RESOLVE_REASON_SYNTAX, NULL},
        {"u@bad..example", ERR, "error", RESOLVE_REASON_SYNTAX, NULL},
        {"u@bad example", ERR, "error", RESOLVE_REASON_SYNTAX, NULL},
        {"u@[300.1.1.1]", ERR, "error", RESOLVE_REASON_SYNTAX, NULL},
        {"u@[127.0.0.1", ERR, "error", RESOLVE_REASON_SYNTAX, NULL},
        /* notices that bounced back to their own sender address end here */
        {"double-bounce@mail.example.com", LOCAL, "discard", RESOLVE_REASON_DOUBLE_BOUNCE, NULL},
        {"Double-Bounce", LOCAL, "discard", RESOLVE_REASON_DOUBLE_BOUNCE, NULL},
        {"double-bouncer@mail.example.com", LOCAL, "local", "mail.example.com", NULL},
        {"double-bounce@other.example", DEF, "smtp", "other.example", NULL},
        {NULL},
    };
    run(cases);
    vstring_free(conf);
}

static void test_nexthops(void **state)
{
    VSTRING *conf = vstring_alloc(500);

    (void) state;
    /* relayhost applies to relay and default classes only */
    vstring_sprintf(conf, "%srelay_domains = relay.example\nrelayhost = [gw.example]:587\n",
                    base_conf);
    configure(vstring_str(conf));
    const CASE with_relayhost[] = {
        {"u@relay.example", RELAY, "relay", "[gw.example]:587", NULL},
        {"u@other.example", DEF, "smtp", "[gw.example]:587", NULL},
        {"u@vbox.example", VIRT, "virtual", "vbox.example", NULL},
        {"u@localhost", LOCAL, "local", "mail.example.com", NULL},
        {NULL},
    };
    run(with_relayhost);

    /* a nexthop in the transport setting wins over relayhost */
    vstring_sprintf(conf,
                    "%srelay_domains = relay.example\nrelayhost = [gw.example]\n"
                    "default_transport = discard:bench\nrelay_transport = relay:[in.example]\n"
                    "virtual_transport = lmtp:unix:/run/lmtp\nlocal_transport = local\n",
                    base_conf);
    configure(vstring_str(conf));
    const CASE with_transports[] = {
        {"u@relay.example", RELAY, "relay", "[in.example]", NULL},
        {"u@other.example", DEF, "discard", "bench", NULL},
        {"u@vbox.example", VIRT, "lmtp", "unix:/run/lmtp", NULL},
        {"u@localhost", LOCAL, "local", "localhost", NULL},
        {"u", LOCAL, "local", "mail.example.com", NULL},
        {NULL},
    };
    run(with_transports);
    vstring_free(conf);
}

static void test_transport_maps(void **state)
{
    VSTRING *conf = vstring_alloc(500);

    (void) state;
    vstring_sprintf(conf,
                    "%srelay_domains = relay.example\nrelayhost = [gw.example]\n"
                    "recipient_delimiter = +\n"
                    "transport_maps = inline:{ {special+x@routed.example=slow:[one.example]},"
                    " {special@routed.example=slow:}, {routed.example=smtp:[mx.routed.example]},"
                    " {.routed.example=:[inner.example]}, {nexthop.example=:nh.example},"
                    " {nochange.example=:}, {u@vbox.example=lmtp:unix:/x},"
                    " {alias.example=smtp:escape}, {bare.example=uucp},"
                    " {u@localhost=error:5.7.1 go away} }\n",
                    base_conf);
    configure(vstring_str(conf));
    const CASE cases[] = {
        {"special+x@routed.example", DEF | ROUTED, "slow", "[one.example]", NULL},
        {"special+y@routed.example", DEF | ROUTED, "slow", "routed.example", NULL},
        {"special@routed.example", DEF | ROUTED, "slow", "routed.example", NULL},
        {"other@routed.example", DEF | ROUTED, "smtp", "[mx.routed.example]", NULL},
        {"other@a.b.routed.example", DEF | ROUTED, "smtp", "[inner.example]", NULL},
        {"u@nexthop.example", DEF | ROUTED, "smtp", "nh.example", NULL},
        {"u@nochange.example", DEF, "smtp", "[gw.example]", NULL},
        {"u@vbox.example", VIRT | ROUTED, "lmtp", "unix:/x", NULL},
        {"v@vbox.example", VIRT, "virtual", "vbox.example", NULL},
        {"u@alias.example", ALIAS, "error", RESOLVE_REASON_ALIAS, NULL},
        {"u@bare.example", DEF | ROUTED, "uucp", "bare.example", NULL},
        {"u@localhost", LOCAL | ROUTED, "error", "5.7.1 go away", NULL},
        {"u@unlisted.example", DEF, "smtp", "[gw.example]", NULL},
        {NULL},
    };
    run(cases);

    /* the wildcard, and parent style for transport_maps */
    vstring_sprintf(conf,
                    "%sparent_domain_matches_subdomains = transport_maps\n"
                    "transport_maps = inline:{ {parent.example=smtp:[p.example]},"
                    " {*=smtp:[all.example]} }\n",
                    base_conf);
    configure(vstring_str(conf));
    const CASE wild[] = {
        {"u@x.parent.example", DEF | ROUTED, "smtp", "[p.example]", NULL},
        {"u@elsewhere.example", DEF | ROUTED, "smtp", "[all.example]", NULL},
        {"u@localhost", LOCAL | ROUTED, "smtp", "[all.example]", NULL},
        {NULL},
    };
    run(wild);
    vstring_free(conf);
}

static void test_failures(void **state)
{
    VSTRING *conf = vstring_alloc(500);

    (void) state;
    vstring_sprintf(conf, "%stransport_maps = fail:broken\n", base_conf);
    configure(vstring_str(conf));
    const CASE tmaps[] = {
        {"u@other.example", FAIL, "", "", NULL},
        {"u@alias.example", ALIAS, "error", RESOLVE_REASON_ALIAS, NULL},
        {NULL},
    };
    run(tmaps);

    /* a failing domain list defers; a later list is never consulted instead */
    configure("myhostname = mail.example.com\nmydestination = fail:broken\n"
              "relay_domains = other.example\n");
    const CASE lists[] = {
        {"u@other.example", FAIL, "", "", NULL},
        {"u", LOCAL, "local", "mail.example.com", NULL},
        {NULL},
    };
    run(lists);

    /* an empty transport setting is a configuration error: defer */
    configure("myhostname = mail.example.com\ndefault_transport =\n");
    const CASE empty[] = {
        {"u@other.example", FAIL, "", "", NULL},
        {NULL},
    };
    run(empty);
    vstring_free(conf);
}

static void test_domain_match(void **state)
{
    (void) state;
    configure("relay_domains = Example.COM., !no.example.net, .example.net\n"
              "mydestination = example.org\n");
    assert_int_equal(resolve_domain_match("relay_domains", "example.com"), 1);
    assert_int_equal(resolve_domain_match("relay_domains", "EXAMPLE.com."), 1);
    assert_int_equal(resolve_domain_match("relay_domains", "x.example.com"), 1); /* parent style */
    assert_int_equal(resolve_domain_match("relay_domains", "xexample.com"), 0);
    assert_int_equal(resolve_domain_match("relay_domains", "example.net"), 0);
    assert_int_equal(resolve_domain_match("relay_domains", "a.example.net"), 1);
    assert_int_equal(resolve_domain_match("relay_domains", "no.example.net"), 0);
    assert_int_equal(resolve_domain_match("mydestination", "example.org"), 1);
    assert_int_equal(resolve_domain_match("mydestination", "x.example.org"), 0);
    assert_int_equal(resolve_domain_match("mydestination", ""), 0);
}

static void test_split(void **state)
{
    VSTRING *t = vstring_alloc(10);
    VSTRING *n = vstring_alloc(10);

    (void) state;
    resolve_split("smtp:[mx.example]:25", t, n);
    assert_string_equal(vstring_str(t), "smtp");
    assert_string_equal(vstring_str(n), "[mx.example]:25");
    resolve_split("smtp", t, n);
    assert_string_equal(vstring_str(t), "smtp");
    assert_string_equal(vstring_str(n), "");
    resolve_split(":x", t, n);
    assert_string_equal(vstring_str(t), "");
    assert_string_equal(vstring_str(n), "x");
    resolve_split(" error : 5.1.1 gone ", t, n);
    assert_string_equal(vstring_str(t), "error");
    assert_string_equal(vstring_str(n), "5.1.1 gone");
    resolve_split("", t, n);
    assert_string_equal(vstring_str(t), "");
    assert_string_equal(vstring_str(n), "");
    vstring_free(t);
    vstring_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_nexthops),
        cmocka_unit_test(test_transport_maps),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_domain_match),
        cmocka_unit_test(test_split),
    };
    int fd;
    int ret;

    msg_init("test_resolve");
    if ((fd = mkstemp(pattern_file)) < 0)
        return 1;
    const char *text = "# relay domains from a file\nfromfile.example, !notfile.example\n";
    if (write(fd, text, strlen(text)) < 0)
        return 1;
    close(fd);
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(pattern_file);
    resolve_reset();
    return ret;
}
