/*
 * NAME
 *	test_maps - unit tests for ordered table lists
 * SYNOPSIS
 *	build/unit/test_maps
 * DESCRIPTION
 *	maps_split() keeps braced tables whole; maps_find() returns the
 *	first table's answer, skips pattern tables with MAPS_FIXED_ONLY,
 *	and stops with DICT_STAT_ERROR at a broken table placed before the
 *	one that has the key (but not after it); an empty list finds
 *	nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "maps.h"
#include "msg.h"
#include "vstring.h"

static void test_split(void **state)
{
    ARGV *names;

    (void) state;
    names = maps_split(" hash:/a,pcre:/b  inline:{ x=1, { y = 2, 3 } },\tstatic:{ a b }, cidr:/c");
    assert_int_equal(names->argc, 5);
    assert_string_equal(names->argv[0], "hash:/a");
    assert_string_equal(names->argv[1], "pcre:/b");
    assert_string_equal(names->argv[2], "inline:{ x=1, { y = 2, 3 } }");
    assert_string_equal(names->argv[3], "static:{ a b }");
    assert_string_equal(names->argv[4], "cidr:/c");
    argv_free(names);
    names = maps_split("");
    assert_int_equal(names->argc, 0);
    argv_free(names);
    names = maps_split("inline:{ a=b");
    assert_int_equal(names->argc, 1);
    argv_free(names);
}

static void test_order(void **state)
{
    MAPS *maps = maps_create("test_maps", "inline:{ a=first }, inline:{ a=second, b=two }",
                             DICT_FLAG_DEFAULT);
    const char *value;

    (void) state;
    assert_int_equal(maps_find(maps, "A", MAPS_FIND_ALL, &value), DICT_STAT_FOUND);
    assert_string_equal(value, "first");
    assert_int_equal(maps_find(maps, "b", MAPS_FIND_ALL, &value), DICT_STAT_FOUND);
    assert_string_equal(value, "two");
    assert_int_equal(maps_find(maps, "c", MAPS_FIND_ALL, &value), DICT_STAT_NOTFOUND);
    assert_null(value);
    maps_free(maps);

    maps = maps_create("empty", "", DICT_FLAG_DEFAULT);
    assert_int_equal(maps_find(maps, "a", MAPS_FIND_ALL, &value), DICT_STAT_NOTFOUND);
    maps_free(maps);
    maps = maps_create("null", NULL, DICT_FLAG_DEFAULT);
    assert_int_equal(maps_find(maps, "a", MAPS_FIND_ALL, &value), DICT_STAT_NOTFOUND);
    maps_free(maps);
}

static void test_errors(void **state)
{
    MAPS *maps;
    const char *value;

    (void) state;
    maps = maps_create("virtual_alias_maps", "inline:{ a=1 }, fail:broken, inline:{ b=2 }",
                       DICT_FLAG_DEFAULT);
    assert_int_equal(maps_find(maps, "a", MAPS_FIND_ALL, &value), DICT_STAT_FOUND);
    assert_int_equal(maps_find(maps, "b", MAPS_FIND_ALL, &value), DICT_STAT_ERROR);
    assert_non_null(strstr(maps_error(maps), "virtual_alias_maps"));
    assert_non_null(strstr(maps_error(maps), "fail:broken"));
    maps_free(maps);

    maps = maps_create("x", "hash:/nonexistent/file", DICT_FLAG_DEFAULT);
    assert_int_equal(maps_find(maps, "a", MAPS_FIND_ALL, &value), DICT_STAT_ERROR);
    maps_free(maps);
}

static void test_fixed_only(void **state)
{
    char path[] = "/tmp/test_maps.XXXXXX";
    int fd = mkstemp(path);
    const char text[] = "/^user$/ from-pcre\n";
    VSTRING *names = vstring_alloc(100);
    MAPS *maps;
    const char *value;

    (void) state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t) sizeof(text) - 1);
    close(fd);
    vstring_sprintf(names, "pcre:%s inline:{ user=from-inline }", path);
    maps = maps_create("t", vstring_str(names), DICT_FLAG_DEFAULT);
    assert_int_equal(maps_find(maps, "user", MAPS_FIND_ALL, &value), DICT_STAT_FOUND);
    assert_string_equal(value, "from-pcre");
    assert_int_equal(maps_find(maps, "user", MAPS_FIXED_ONLY, &value), DICT_STAT_FOUND);
    assert_string_equal(value, "from-inline");
    maps_free(maps);
    unlink(path);
    vstring_free(names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_fixed_only),
    };

    msg_set_logfile("/dev/null");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
