/*
 * test_smtpd_match - network lists (mynetworks) and domain lists
 * (mydestination, relay_domains): CIDR, brackets, negation, tables,
 * files, parent-domain style, table errors, fatal configuration errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mail_params.h"
#include "msg.h"
#include "smtpd_match.h"
#include "vstring.h"

static void test_netlist(void **state)
{
    SMTPD_NETLIST *nl;

    (void) state;
    nl = smtpd_netlist_create("mynetworks", "127.0.0.0/8, 192.0.2.1 [2001:db8::]/32 [::1]/128");
    assert_int_equal(smtpd_netlist_match(nl, "127.0.0.1"), 1);
    assert_int_equal(smtpd_netlist_match(nl, "127.255.255.255"), 1);
    assert_int_equal(smtpd_netlist_match(nl, "128.0.0.1"), 0);
    assert_int_equal(smtpd_netlist_match(nl, "192.0.2.1"), 1);
    assert_int_equal(smtpd_netlist_match(nl, "192.0.2.2"), 0);
    assert_int_equal(smtpd_netlist_match(nl, "2001:db8:1::5"), 1);
    assert_int_equal(smtpd_netlist_match(nl, "2001:db9::5"), 0);
    assert_int_equal(smtpd_netlist_match(nl, "::1"), 1);
    assert_int_equal(smtpd_netlist_match(nl, "::2"), 0);
    assert_int_equal(smtpd_netlist_match(nl, "not an address"), 0);
    assert_int_equal(smtpd_netlist_match(nl, ""), 0);
    smtpd_netlist_free(nl);

    nl = smtpd_netlist_create("mynetworks", "!192.0.2.128/25 192.0.2.0/24");
    assert_int_equal(smtpd_netlist_match(nl, "192.0.2.1"), 1);
    assert_int_equal(smtpd_netlist_match(nl, "192.0.2.200"), 0);
    smtpd_netlist_free(nl);

    nl = smtpd_netlist_create("mynetworks", "");
    assert_int_equal(smtpd_netlist_match(nl, "127.0.0.1"), 0);
    smtpd_netlist_free(nl);

    nl = smtpd_netlist_create("mynetworks", "inline:{ 10.1.2.3=yes } 10.0.0.0/8");
    assert_int_equal(smtpd_netlist_match(nl, "10.1.2.3"), 1);
    assert_int_equal(smtpd_netlist_match(nl, "10.9.9.9"), 1);
    smtpd_netlist_free(nl);

    /* a table that cannot answer is an error, never a match or a miss */
    nl = smtpd_netlist_create("mynetworks", "hash:/nonexistent/table 127.0.0.0/8");
    assert_int_equal(smtpd_netlist_match(nl, "127.0.0.1"), -1);
    smtpd_netlist_free(nl);
}

static void test_netlist_file(void **state)
{
    char path[] = "/tmp/test_smtpd_match.XXXXXX";
    int fd = mkstemp(path);
    VSTRING *spec = vstring_alloc(100);
    SMTPD_NETLIST *nl;
    FILE *fp;

    (void) state;
    assert_true(fd >= 0);
    fp = fdopen(fd, "w");
    fputs("# trusted\n192.0.2.0/24, 198.51.100.7\n  203.0.113.0/24\n", fp);
    fclose(fp);
    vstring_sprintf(spec, "%s [::1]/128", path);
    nl = smtpd_netlist_create("mynetworks", vstring_str(spec));
    assert_int_equal(smtpd_netlist_match(nl, "192.0.2.9"), 1);
    assert_int_equal(smtpd_netlist_match(nl, "198.51.100.7"), 1);
    assert_int_equal(smtpd_netlist_match(nl, "203.0.113.1"), 1);  /* continuation line */
    assert_int_equal(smtpd_netlist_match(nl, "::1"), 1);
    assert_int_equal(smtpd_netlist_match(nl, "198.51.100.8"), 0);
    smtpd_netlist_free(nl);
    unlink(path);
    vstring_free(spec);
}

static int fatal_in_child(const char *title, const char *value, int domain)
{
    pid_t pid = fork();
    int status;

    if (pid == 0) {
        msg_init("test");
        msg_set_logfile("/dev/null");
        if (domain)
            smtpd_domlist_create(title, value);
        else
            smtpd_netlist_create(title, value);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_netlist_fatal(void **state)
{
    (void) state;
    assert_int_equal(fatal_in_child("mynetworks", "192.0.2.1/24", 0), 1);   /* host bits */
    assert_int_equal(fatal_in_child("mynetworks", "192.0.2.0/33", 0), 1);
    assert_int_equal(fatal_in_child("mynetworks", "example.com", 0), 1);
    assert_int_equal(fatal_in_child("mynetworks", "/nonexistent/file", 0), 1);
    assert_int_equal(fatal_in_child("mynetworks", "!", 0), 1);
    assert_int_equal(fatal_in_child("mynetworks", "192.0.2.0/24", 0), 0);
    assert_int_equal(fatal_in_child("relay_domains", "/nonexistent/file", 1), 1);
}

static void test_domlist(void **state)
{
    SMTPD_DOMLIST *dl;

    (void) state;
    var_parent_domain_matches_subdomains = "relay_domains, smtpd_access_maps";
    dl = smtpd_domlist_create("mydestination", "mx.example.com, localhost, .sub.example");
    assert_int_equal(smtpd_domlist_match(dl, "mx.example.com"), 1);
    assert_int_equal(smtpd_domlist_match(dl, "MX.Example.COM."), 1);
    assert_int_equal(smtpd_domlist_match(dl, "a.mx.example.com"), 0);   /* not parent style */
    assert_int_equal(smtpd_domlist_match(dl, "example.com"), 0);
    assert_int_equal(smtpd_domlist_match(dl, "a.sub.example"), 1);
    assert_int_equal(smtpd_domlist_match(dl, "sub.example"), 0);
    assert_int_equal(smtpd_domlist_match(dl, "xsub.example"), 0);
    assert_int_equal(smtpd_domlist_match(dl, ""), 0);
    smtpd_domlist_free(dl);

    dl = smtpd_domlist_create("relay_domains", "example.org, !bad.example.net, example.net");
    assert_int_equal(smtpd_domlist_match(dl, "example.org"), 1);
    assert_int_equal(smtpd_domlist_match(dl, "deep.sub.example.org"), 1);
    assert_int_equal(smtpd_domlist_match(dl, "notexample.org"), 0);
    assert_int_equal(smtpd_domlist_match(dl, "bad.example.net"), 0);
    assert_int_equal(smtpd_domlist_match(dl, "good.example.net"), 1);
    smtpd_domlist_free(dl);

    dl = smtpd_domlist_create("relay_domains", "inline:{ example.com=x }");
    assert_int_equal(smtpd_domlist_match(dl, "example.com"), 1);
    assert_int_equal(smtpd_domlist_match(dl, "a.example.com"), 1);
    assert_int_equal(smtpd_domlist_match(dl, "example.org"), 0);
    smtpd_domlist_free(dl);

    dl = smtpd_domlist_create("relay_domains", "hash:/nonexistent/domains");
    assert_int_equal(smtpd_domlist_match(dl, "example.com"), -1);
    smtpd_domlist_free(dl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netlist),
        cmocka_unit_test(test_netlist_file),
        cmocka_unit_test(test_netlist_fatal),
        cmocka_unit_test(test_domlist),
    };

    msg_set_logfile("/dev/null");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
