/*
 * test_argv - string arrays: list splitting, brace groups, growth, truncation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "argv.h"

static void assert_fields(ARGV *ap, const char *const *want, int count)
{
    assert_non_null(ap);
    assert_int_equal(ap->argc, count);
    for (int i = 0; i < count; i++)
        assert_string_equal(ap->argv[i], want[i]);
    assert_null(ap->argv[count]);
}

static void test_split_list(void **state)
{
    static const char *const want[] = {"hash:/etc/aliases", "texthash:/x", "inline:{a=b}"};
    ARGV *ap;

    (void) state;
    ap = argv_split(" hash:/etc/aliases,, texthash:/x\t\r\ninline:{a=b} ,", ARGV_DELIM_LIST);
    assert_fields(ap, want, 3);
    argv_free(ap);
    ap = argv_split("", ARGV_DELIM_LIST);
    assert_fields(ap, NULL, 0);
    argv_free(ap);
    ap = argv_split(" ,,\t ", ARGV_DELIM_LIST);
    assert_fields(ap, NULL, 0);
    argv_free(ap);
    argv_free(NULL);
}

static void test_split_braces(void **state)
{
    static const char *const want1[] = {"-o", "a b c", "x"};
    static const char *const want2[] = {"inline:", "a=1, b=2", "z"};
    static const char *const want3[] = {"outer {inner} tail"};
    static const char *const want4[] = {""};
    ARGV *ap;

    (void) state;
    ap = argv_split_braces("-o {  a b c\t}  x", ARGV_DELIM_SPACE);
    assert_fields(ap, want1, 3);
    argv_free(ap);
    ap = argv_split_braces("inline: { a=1, b=2 }, z", ARGV_DELIM_LIST);
    /* inside braces the delimiters are data */
    assert_fields(ap, want2, 3);
    argv_free(ap);
    ap = argv_split_braces("{ outer {inner} tail }", ARGV_DELIM_SPACE);
    assert_fields(ap, want3, 1);
    argv_free(ap);
    ap = argv_split_braces("{ }", ARGV_DELIM_SPACE);
    assert_fields(ap, want4, 1);
    argv_free(ap);
    assert_null(argv_split_braces("a { b c", ARGV_DELIM_SPACE));
    assert_null(argv_split_braces("{ {b }", ARGV_DELIM_SPACE));
}

static void test_add_grow_truncate(void **state)
{
    ARGV *ap = argv_alloc(0);
    char buf[32];

    (void) state;
    for (int i = 0; i < 1000; i++) {
        snprintf(buf, sizeof(buf), "item%d", i);
        argv_add(ap, buf);
    }
    assert_int_equal(ap->argc, 1000);
    assert_string_equal(ap->argv[999], "item999");
    assert_null(ap->argv[1000]);
    argv_truncate(ap, 10);
    assert_int_equal(ap->argc, 10);
    assert_null(ap->argv[10]);
    argv_truncate(ap, 50); /* no growth */
    assert_int_equal(ap->argc, 10);
    argv_truncate(ap, -5);
    assert_int_equal(ap->argc, 0);
    assert_null(ap->argv[0]);
    argv_addn(ap, "abcdef", 3);
    assert_string_equal(ap->argv[0], "abc");
    argv_addn(ap, "a\0b", 3); /* stored as given; C string view stops at NUL */
    assert_string_equal(ap->argv[1], "a");
    argv_free(ap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_list),
        cmocka_unit_test(test_split_braces),
        cmocka_unit_test(test_add_grow_truncate),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
