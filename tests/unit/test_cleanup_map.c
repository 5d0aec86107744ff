/*
 * NAME
 *	test_cleanup_map - unit tests for canonical mapping and virtual alias expansion
 * SYNOPSIS
 *	build/unit/test_cleanup_map
 * DESCRIPTION
 *	cleanup_map_canon(): no match, one step, chains, an address that
 *	maps to itself, loops, multi-valued and unparsable values, table
 *	errors, "@domain" catch-alls with "@otherdomain" results, results
 *	without a domain, extension propagation.
 *	cleanup_map_virtual(): fan-out in order, nesting, self-inclusion,
 *	loops, diamonds and duplicates (any case), the recursion,
 *	expansion and length limits, table errors, hostile values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "argv.h"
#include "cleanup_map.h"
#include "dict.h"
#include "mail_addr_find.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

static char table_dir[] = "/tmp/test_cleanup_map.XXXXXX";

static int is_local(const char *domain)
{
    return strcasecmp(domain, "local.example") == 0;
}

/* make_maps - a texthash table with the given text */

static MAPS *make_maps(const char *name, const char *text)
{
    char path[256];
    char spec[300];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", table_dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    snprintf(spec, sizeof(spec), "texthash:%s", path);
    return maps_create(name, spec, DICT_FLAG_DEFAULT);
}

static CLEANUP_MAP_OPTS opts = {"test_maps", "origin.example", 1, 1000, 1000, 1000};

static void canon(MAPS *maps, const char *addr, int want_status, const char *want)
{
    VSTRING *result = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);
    int status = cleanup_map_canon(maps, &opts, addr, result, why);

    if (status != want_status)
        fail_msg("%s: status %d, wanted %d (%s)", addr, status, want_status, vstring_str(why));
    if (want && strcmp(vstring_str(result), want) != 0)
        fail_msg("%s: \"%s\", wanted \"%s\"", addr, vstring_str(result), want);
    if (status != CLEANUP_MAP_OK)
        assert_true(vstring_len(why) > 0);
    vstring_free(result);
    vstring_free(why);
}

static void test_canon(void **unused)
{
    MAPS *maps = make_maps("canonical",
                           "a@example.org b@example.org\n"
                           "b@example.org c@example.org\n"
                           "self@example.org SELF@example.org\n"
                           "loop1@example.org loop2@example.org\n"
                           "loop2@example.org loop1@example.org\n"
                           "multi@example.org x@example.org, y@example.org\n"
                           "bad@example.org <<<\n"
                           "@old.example @new.example\n"
                           "short@example.org shortname\n"
                           "quoted@example.org \"first last\"@example.org\n"
                           "bracket@example.org Name <named@example.org>\n"
                           "user@example.org mapped@example.org\n"
                           "luser mapped-local@example.org\n");

    (void) unused;
    canon(maps, "none@example.org", CLEANUP_MAP_OK, "none@example.org");
    canon(maps, "b@example.org", CLEANUP_MAP_OK, "c@example.org");
    canon(maps, "A@Example.org", CLEANUP_MAP_OK, "c@example.org");
    canon(maps, "self@example.org", CLEANUP_MAP_OK, "SELF@example.org");
    canon(maps, "loop1@example.org", CLEANUP_MAP_BAD, NULL);
    canon(maps, "multi@example.org", CLEANUP_MAP_BAD, NULL);
    canon(maps, "bad@example.org", CLEANUP_MAP_BAD, NULL);
    canon(maps, "someone@old.example", CLEANUP_MAP_OK, "someone@new.example");
    canon(maps, "short@example.org", CLEANUP_MAP_OK, "shortname@origin.example");
    canon(maps, "quoted@example.org", CLEANUP_MAP_OK, "first last@example.org");
    canon(maps, "bracket@example.org", CLEANUP_MAP_OK, "named@example.org");
    canon(maps, "luser@local.example", CLEANUP_MAP_OK, "mapped-local@example.org");
    canon(maps, "luser@remote.example", CLEANUP_MAP_OK, "luser@remote.example");

    /* extensions: found without it, put back when propagating */
    var_recipient_delimiter = "+";
    canon(maps, "user+tag@example.org", CLEANUP_MAP_OK, "mapped+tag@example.org");
    opts.propagate = 0;
    canon(maps, "user+tag@example.org", CLEANUP_MAP_OK, "mapped@example.org");
    opts.propagate = 1;
    var_recipient_delimiter = "";
    maps_free(maps);

    maps = maps_create("broken", "fail:broken", DICT_FLAG_DEFAULT);
    canon(maps, "a@example.org", CLEANUP_MAP_DEFER, NULL);
    maps_free(maps);
}

static void virt(MAPS *maps, const char *addr, int want_status, const char *want)
{
    ARGV *result = argv_alloc(1);
    VSTRING *why = vstring_alloc(10);
    VSTRING *got = vstring_alloc(10);
    int status;

    argv_add(result, "stale entry");
    status = cleanup_map_virtual(maps, &opts, addr, result, why);
    for (int i = 0; i < result->argc; i++)
        vstring_sprintf_append(got, "%s%s", i ? " " : "", result->argv[i]);
    if (status != want_status)
        fail_msg("%s: status %d, wanted %d (%s)", addr, status, want_status, vstring_str(why));
    if (want && strcmp(vstring_str(got), want) != 0)
        fail_msg("%s: \"%s\", wanted \"%s\"", addr, vstring_str(got), want);
    if (status != CLEANUP_MAP_OK) {
        assert_int_equal(result->argc, 0);
        assert_true(vstring_len(why) > 0);
    }
    argv_free(result);
    vstring_free(why);
    vstring_free(got);
}

static void test_virtual(void **unused)
{
    MAPS *maps = make_maps("virtual",
                           "list@x a@x, b@x, nested@x\n"
                           "nested@x c@x, A@X\n"
                           "self@x self@x, copy@x\n"
                           "loop1@x loop2@x\n"
                           "loop2@x loop3@x\n"
                           "loop3@x loop1@x, out@x\n"
                           "diamond@x left@x, right@x\n"
                           "left@x bottom@x\n"
                           "right@x bottom@x, extra@x\n"
                           "@catch.example catch@x\n"
                           "@rename.example @renamed.example, also@x\n"
                           "empty@x ,\n"
                           "garbage@x <<<\n"
                           "local@x bare\n"
                           "onlyself@x onlyself@x\n");

    (void) unused;
    virt(maps, "other@x", CLEANUP_MAP_OK, "other@x");
    virt(maps, "list@x", CLEANUP_MAP_OK, "a@x b@x c@x");
    virt(maps, "self@x", CLEANUP_MAP_OK, "self@x copy@x");
    virt(maps, "onlyself@x", CLEANUP_MAP_OK, "onlyself@x");
    virt(maps, "loop1@x", CLEANUP_MAP_OK, "loop1@x out@x");
    virt(maps, "loop2@x", CLEANUP_MAP_OK, "loop2@x out@x");
    virt(maps, "diamond@x", CLEANUP_MAP_OK, "bottom@x extra@x");
    virt(maps, "who@catch.example", CLEANUP_MAP_OK, "catch@x");
    virt(maps, "who@rename.example", CLEANUP_MAP_OK, "who@renamed.example also@x");
    virt(maps, "local@x", CLEANUP_MAP_OK, "bare@origin.example");
    virt(maps, "empty@x", CLEANUP_MAP_BAD, NULL);
    virt(maps, "garbage@x", CLEANUP_MAP_BAD, NULL);
    maps_free(maps);

    maps = maps_create("broken", "fail:broken", DICT_FLAG_DEFAULT);
    virt(maps, "a@x", CLEANUP_MAP_DEFER, NULL);
    maps_free(maps);
}

static void test_virtual_limits(void **unused)
{
    VSTRING *text = vstring_alloc(1000);
    MAPS *maps;

    (void) unused;
    /* a chain of 30: fine with a limit of 30, too deep with 29 */
    for (int i = 0; i < 30; i++)
        vstring_sprintf_append(text, "d%d@x d%d@x\n", i, i + 1);
    /* 40 leaves */
    vstring_strcat(text, "wide@x ");
    for (int i = 0; i < 40; i++)
        vstring_sprintf_append(text, "%sw%d@x", i ? ", " : "", i);
    vstring_strcat(text, "\n");
    /* 5 levels of 3-way fan-out through distinct inner addresses: 3^5 = 243 leaves */
    for (int level = 0, count = 1; level < 5; level++, count *= 3)
        for (int n = 0; n < count; n++)
            vstring_sprintf_append(text, "t%d_%d@x t%d_%d@x, t%d_%d@x, t%d_%d@x\n", level, n,
                                   level + 1, 3 * n, level + 1, 3 * n + 1, level + 1, 3 * n + 2);
    vstring_sprintf_append(text, "long@x %0600d@x\n", 0);
    maps = make_maps("limits", vstring_str(text));

    opts.recursion_limit = 30;
    virt(maps, "d0@x", CLEANUP_MAP_OK, "d30@x");
    opts.recursion_limit = 29;
    virt(maps, "d0@x", CLEANUP_MAP_BAD, NULL);
    opts.recursion_limit = 1000;

    opts.expansion_limit = 40;
    virt(maps, "wide@x", CLEANUP_MAP_OK, NULL);
    opts.expansion_limit = 39;
    virt(maps, "wide@x", CLEANUP_MAP_BAD, NULL);

    /* the tree: 243 leaves, 1 + 2 * (1 + 3 + 9 + 27 + 81) = 243 addresses carried */
    opts.expansion_limit = 243;
    virt(maps, "t0_0@x", CLEANUP_MAP_OK, NULL);
    opts.expansion_limit = 242;
    virt(maps, "t0_0@x", CLEANUP_MAP_BAD, NULL);
    opts.expansion_limit = 1000;

    opts.length_limit = 600;
    virt(maps, "long@x", CLEANUP_MAP_BAD, NULL);
    opts.length_limit = 602;
    virt(maps, "long@x", CLEANUP_MAP_OK, NULL);
    opts.length_limit = 1000;

    maps_free(maps);
    vstring_free(text);
}

static int setup(void **unused)
{
    (void) unused;
    assert_non_null(mkdtemp(table_dir));
    mail_addr_find_set_local(is_local);
    var_recipient_delimiter = "";
    return 0;
}

static int teardown(void **unused)
{
    char cmd[300];

    (void) unused;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", table_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canon),
        cmocka_unit_test(test_virtual),
        cmocka_unit_test(test_virtual_limits),
    };

    msg_init("test_cleanup_map");
    msg_set_logfile("/dev/null");
    return cmocka_run_group_tests(tests, setup, teardown);
}
