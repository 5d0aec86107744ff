/*
 * NAME
 *	test_mail_addr_find - unit tests for address and domain lookup order
 * SYNOPSIS
 *	build/unit/test_mail_addr_find
 * DESCRIPTION
 *	The address order user+ext@domain, user@domain, user+ext and user
 *	(local domains only), @domain; the extension returned for
 *	propagation; several and empty recipient delimiters; addresses
 *	without a domain; pattern tables seeing only the full address;
 *	errors stopping the search. Domain lookups with and without
 *	parent_domain_matches_subdomains style; extension propagation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mail_addr_find.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"

static int is_local(const char *domain)
{
    return strcasecmp(domain, "local.example") == 0;
}

typedef struct CASE {
    const char *address;
    int status;
    const char *value;
    const char *ext;
} CASE;

static void run(MAPS *maps, const char *delims, const CASE *cases)
{
    for (const CASE *c = cases; c->address; c++) {
        const char *value;
        char *ext;
        int status = mail_addr_find_opt(maps, c->address, delims, is_local, &value, &ext);

        if (status != c->status)
            fail_msg("\"%s\": status %d, wanted %d", c->address, status, c->status);
        if (c->value && strcmp(value, c->value) != 0)
            fail_msg("\"%s\": \"%s\", wanted \"%s\"", c->address, value, c->value);
        if ((ext == NULL) != (c->ext == NULL) || (ext && strcmp(ext, c->ext) != 0))
            fail_msg("\"%s\": extension \"%s\", wanted \"%s\"", c->address, ext ? ext : "(none)",
                     c->ext ? c->ext : "(none)");
        myfree(ext);
    }
}

#define F DICT_STAT_FOUND
#define N DICT_STAT_NOTFOUND
#define E DICT_STAT_ERROR

static void test_order(void **state)
{
    MAPS *maps = maps_create("virtual_alias_maps",
                             "inline:{ joe+list@remote.example=full, joe@remote.example=plain, "
                             "ann+x=user-ext, ann=user, bob=bob-user, @remote.example=catchall, "
                             "@local.example=local-catchall }",
                             DICT_FLAG_DEFAULT);
    const CASE cases[] = {
        {"joe+list@remote.example", F, "full", NULL},
        {"Joe+List@Remote.Example", F, "full", NULL},
        {"joe+other@remote.example", F, "plain", "+other"},
        {"joe@remote.example", F, "plain", NULL},
        {"ann@remote.example", F, "catchall", NULL},     /* user part: local domains only */
        {"ann+x@local.example", F, "user-ext", NULL},
        {"ann+y@local.example", F, "user", "+y"},
        {"ann@local.example", F, "user", NULL},
        {"nobody@local.example", F, "local-catchall", NULL},
        {"bob", F, "bob-user", NULL},
        {"bob+z", F, "bob-user", "+z"},
        {"+bob", N, NULL, NULL},                          /* leading delimiter: no extension */
        {"nobody@elsewhere.example", N, NULL, NULL},
        {"", N, NULL, NULL},
        {NULL, 0, NULL, NULL},
    };

    (void) state;
    run(maps, "+", cases);
    maps_free(maps);
}

static void test_delimiters(void **state)
{
    MAPS *maps = maps_create("t", "inline:{ joe@d.example=joe }", DICT_FLAG_DEFAULT);
    const CASE several[] = {
        {"joe-a@d.example", F, "joe", "-a"},
        {"joe+b@d.example", F, "joe", "+b"},
        {"joe+b-c@d.example", F, "joe", "+b-c"},
        {NULL, 0, NULL, NULL},
    };
    const CASE none[] = {
        {"joe+b@d.example", N, NULL, NULL},
        {NULL, 0, NULL, NULL},
    };

    (void) state;
    run(maps, "+-", several);
    run(maps, "", none);
    run(maps, NULL, none);
    maps_free(maps);
}

static void test_patterns_full_only(void **state)
{
    char path[] = "/tmp/test_mail_addr_find.XXXXXX";
    int fd = mkstemp(path);
    const char text[] = "/^joe(\\+.*)?@d\\.example$/ pattern\n/^joe$/ user-pattern\n/^@/ at\n";
    char names[200];
    MAPS *maps;
    const CASE cases[] = {
        {"joe+x@d.example", F, "pattern", NULL},
        {"joe@local.example", N, NULL, NULL}, /* "joe" and "@local.example" not asked */
        {NULL, 0, NULL, NULL},
    };

    (void) state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t) sizeof(text) - 1);
    close(fd);
    snprintf(names, sizeof(names), "pcre:%s", path);
    maps = maps_create("t", names, DICT_FLAG_DEFAULT);
    run(maps, "+", cases);
    maps_free(maps);
    unlink(path);
}

static void test_errors(void **state)
{
    MAPS *maps = maps_create("t", "inline:{ a@d.example=found }, fail:broken", DICT_FLAG_DEFAULT);
    const CASE cases[] = {
        {"a@d.example", F, "found", NULL},
        {"a+x@d.example", E, NULL, NULL},  /* the full address fails in fail:broken first */
        {"b@d.example", E, NULL, NULL},
        {NULL, 0, NULL, NULL},
    };

    (void) state;
    run(maps, "+", cases);
    maps_free(maps);
}

static void test_globals(void **state)
{
    MAPS *maps = maps_create("t", "inline:{ joe@d.example=joe }", DICT_FLAG_DEFAULT);
    const char *value;
    char *ext;

    (void) state;
    var_recipient_delimiter = "+";
    assert_int_equal(mail_addr_find(maps, "joe+x@d.example", &value, &ext), DICT_STAT_FOUND);
    assert_string_equal(ext, "+x");
    myfree(ext);
    assert_int_equal(mail_addr_find(maps, "joe+x@d.example", &value, NULL), DICT_STAT_FOUND);
    var_recipient_delimiter = "";
    assert_int_equal(mail_addr_find(maps, "joe+x@d.example", &value, &ext), DICT_STAT_NOTFOUND);
    assert_null(ext);
    maps_free(maps);
}

static void test_domains(void **state)
{
    MAPS *maps = maps_create("t", "inline:{ example.com=exact, .sub.example.org=dot-parent, "
                                  "example.org=parent }",
                             DICT_FLAG_DEFAULT);
    const char *value;

    (void) state;
    var_parent_domain_matches_subdomains = "relay_domains, smtpd_access_maps";
    assert_true(mail_domain_parent_style("smtpd_access_maps"));
    assert_false(mail_domain_parent_style("virtual_alias_domains"));
    assert_false(mail_domain_parent_style(NULL));

    assert_int_equal(mail_domain_find(maps, "Example.COM", "relay_domains", &value), DICT_STAT_FOUND);
    assert_string_equal(value, "exact");
    assert_int_equal(mail_domain_find(maps, "example.com.", "relay_domains", &value), DICT_STAT_FOUND);
    /* parent style: example.org matches its subdomains */
    assert_int_equal(mail_domain_find(maps, "a.b.example.org", "smtpd_access_maps", &value),
                     DICT_STAT_FOUND);
    assert_string_equal(value, "parent");
    /* dot style: only .sub.example.org entries match subdomains */
    assert_int_equal(mail_domain_find(maps, "a.b.example.org", "virtual_alias_domains", &value),
                     DICT_STAT_NOTFOUND);
    assert_int_equal(mail_domain_find(maps, "x.sub.example.org", "virtual_alias_domains", &value),
                     DICT_STAT_FOUND);
    assert_string_equal(value, "dot-parent");
    assert_int_equal(mail_domain_find(maps, "sub.example.org", "virtual_alias_domains", &value),
                     DICT_STAT_NOTFOUND);
    assert_int_equal(mail_domain_find(maps, "com", "relay_domains", &value), DICT_STAT_NOTFOUND);
    assert_int_equal(mail_domain_find(maps, "", "relay_domains", &value), DICT_STAT_NOTFOUND);
    assert_int_equal(mail_domain_find(maps, "...", "relay_domains", &value), DICT_STAT_NOTFOUND);
    maps_free(maps);

    maps = maps_create("t", "inline:{ x=y }, fail:broken", DICT_FLAG_DEFAULT);
    assert_int_equal(mail_domain_find(maps, "a.example", "relay_domains", &value), DICT_STAT_ERROR);
    maps_free(maps);
}

static void test_extensions(void **state)
{
    char *s;

    (void) state;
    var_propagate_unmatched_extensions = "canonical, virtual";
    assert_true(mail_addr_propagate("virtual"));
    assert_false(mail_addr_propagate("alias"));
    s = mail_addr_add_ext("other@x.example", "+foo");
    assert_string_equal(s, "other+foo@x.example");
    myfree(s);
    s = mail_addr_add_ext("local", "-bar");
    assert_string_equal(s, "local-bar");
    myfree(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_delimiters),
        cmocka_unit_test(test_patterns_full_only),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_globals),
        cmocka_unit_test(test_domains),
        cmocka_unit_test(test_extensions),
    };

    msg_set_logfile("/dev/null");
    mail_addr_find_set_local(is_local);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
