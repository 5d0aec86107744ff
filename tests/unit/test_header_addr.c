/*
 * NAME
 *	test_header_addr - unit tests for finding addresses in header values
 * SYNOPSIS
 *	build/unit/test_header_addr
 * DESCRIPTION
 *	Bare addresses, angle addresses with display names, quoted strings
 *	and comments holding specials, groups, source routes, folding,
 *	empty elements; malformed values (unterminated quotes, comments
 *	and brackets, nested or stray brackets) are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "header_addr.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

/* spans as "[text]" joined, or "ERROR" */

static void check(const char *value, const char *want)
{
    HEADER_ADDR_SPAN *spans;
    int n = header_addr_scan(value, strlen(value), &spans);
    VSTRING *got = vstring_alloc(100);

    if (n < 0) {
        vstring_strcpy(got, "ERROR");
        assert_null(spans);
    }
    for (int i = 0; i < n; i++) {
        assert_true(spans[i].start + spans[i].len <= strlen(value));
        vstring_sprintf_append(got, "[%.*s]", (int) spans[i].len, value + spans[i].start);
    }
    if (strcmp(vstring_str(got), want) != 0)
        fail_msg("\"%s\": got %s, wanted %s", value, vstring_str(got), want);
    myfree(spans);
    vstring_free(got);
}

static void test_forms(void **unused)
{
    (void) unused;
    check("a@example.org", "[a@example.org]");
    check("  a@example.org  ", "[a@example.org]");
    check("a@x, b@y", "[a@x][b@y]");
    check("Name <a@x>", "[a@x]");
    check("\"Last, First\" <a@x>, b@y (Comment, with <specials>)", "[a@x][b@y]");
    check("< a@x >", "[a@x]");
    check("(lead) a@x (trail)", "[a@x]");
    check("\"quoted local\"@x", "[\"quoted local\"@x]");
    check("team: a@x, Name <b@y>;, c@z", "[a@x][b@y][c@z]");
    check("undisclosed-recipients:;", "");
    check("<@r1.example,@r2.example:user@x>", "[user@x]");
    check("a@x,\n\tb@y", "[a@x][b@y]");
    check(",, a@x ,,", "[a@x]");
    check("", "");
    check("   ", "");
    check("<>", "");
    check("bob", "[bob]");
    check("John Doe", "[John Doe]");            /* the caller checks that it is an address */
    check("\"a\\\"b\"@x", "[\"a\\\"b\"@x]");
    check("(nested (comment)) a@x", "[a@x]");
    check("a\\,b@x", "[a\\,b@x]");
}

static void test_malformed(void **unused)
{
    (void) unused;
    check("\"unterminated@x", "ERROR");
    check("(unterminated a@x", "ERROR");
    check("Name <a@x", "ERROR");
    check("a@x>", "ERROR");
    check("<<a@x>>", "ERROR");
    check("(a (b) c", "ERROR");
}

static void test_nul_and_limit(void **unused)
{
    HEADER_ADDR_SPAN *spans;
    VSTRING *many = vstring_alloc(100);
    static const char nul[] = "a@x, b\0c@y";

    (void) unused;
    assert_int_equal(header_addr_scan(nul, sizeof(nul) - 1, &spans), 2);
    assert_int_equal(spans[1].len, 5);
    myfree(spans);
    for (int i = 0; i < HEADER_ADDR_MAX; i++)
        vstring_strcat(many, "a,");
    assert_int_equal(header_addr_scan(vstring_str(many), vstring_len(many), &spans),
                     HEADER_ADDR_MAX);
    myfree(spans);
    vstring_strcat(many, "a");
    assert_int_equal(header_addr_scan(vstring_str(many), vstring_len(many), &spans), -1);
    assert_null(spans);
    vstring_free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_nul_and_limit),
    };

    msg_init("test_header_addr");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
