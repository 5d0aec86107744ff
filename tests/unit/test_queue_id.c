/*
 * NAME
 *	test_queue_id - unit tests for queue ID creation and checking
 * SYNOPSIS
 *	build/unit/test_queue_id
 * DESCRIPTION
 *	queue_id_make() output shape and uniqueness for distinct inodes at
 *	the same instant, and queue_id_ok() on good IDs and on the path
 *	tricks and malformed names queue tools must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "htable.h"
#include "msg.h"
#include "queue_id.h"

static void test_make_format(void **state)
{
    VSTRING *buf = vstring_alloc(10);
    struct timeval tv = {1700000000, 0x3F2A8};

    (void)state;
    assert_string_equal(queue_id_make(buf, (ino_t)0x1C0D5, &tv), "3F2A81C0D5");
    tv.tv_usec = 0;
    assert_string_equal(queue_id_make(buf, (ino_t)1, &tv), "000001");
    tv.tv_usec = 999999;
    assert_string_equal(queue_id_make(buf, (ino_t)0xFFFFFFFFFFFFFFFFULL, &tv),
                        "F423FFFFFFFFFFFFFFFFF");
    assert_int_equal(strlen(vstring_str(buf)), QUEUE_ID_LEN_MAX);
    assert_true(queue_id_ok(vstring_str(buf)));
    vstring_free(buf);
}

static void test_make_unique(void **state)
{
    VSTRING *buf = vstring_alloc(10);
    HTABLE *seen = htable_create(100);
    struct timeval tv = {1700000000, 123456};

    (void)state;
    /* same instant, different inodes: all distinct and all well-formed */
    for (ino_t ino = 1; ino <= 5000; ino++) {
        queue_id_make(buf, ino, &tv);
        assert_true(queue_id_ok(vstring_str(buf)));
        assert_null(htable_find(seen, vstring_str(buf)));
        htable_enter(seen, vstring_str(buf), (void *)1);
    }
    htable_free(seen, NULL);
    vstring_free(buf);
}

static void test_ok(void **state)
{
    static const char *good[] = {"3F2A81C0D5", "000001", "ABCDEF0123456789ABCDE", NULL};
    static const char *bad[] = {
        "",
        "00000",
        "3f2a81c0d5",
        "3F2A81C0D5/",
        "../3F2A81C0D5",
        "3F2A81 C0D5",
        "3F2A81C0D5\n",
        "*",
        "3F2A81C0DG",
        ".",
        "..",
        "ABCDEF0123456789ABCDEF",
        "3F2A-81C0D5",
        "/etc/passwd",
        NULL,
    };

    (void)state;
    for (const char **cp = good; *cp; cp++)
        if (!queue_id_ok(*cp))
            fail_msg("rejected %s", *cp);
    for (const char **cp = bad; *cp; cp++)
        if (queue_id_ok(*cp))
            fail_msg("accepted \"%s\"", *cp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_format),
        cmocka_unit_test(test_make_unique),
        cmocka_unit_test(test_ok),
    };

    msg_set_logfile("/dev/null");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
