/*
 * test_vstring - growable strings: NUL bytes, growth, formatting,
 * truncation, self-append, overflow is fatal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "msg.h"
#include "vstring.h"

static void test_basic(void **state)
{
    VSTRING *vp = vstring_alloc(0);

    (void) state;
    assert_int_equal(vstring_len(vp), 0);
    assert_string_equal(vstring_str(vp), "");
    vstring_strcpy(vp, "hello");
    vstring_strcat(vp, ", world");
    assert_string_equal(vstring_str(vp), "hello, world");
    assert_int_equal(vstring_len(vp), 12);
    assert_ptr_equal(vstring_end(vp), vstring_str(vp) + 12);
    vstring_addch(vp, '!');
    assert_string_equal(vstring_str(vp), "hello, world!");
    vstring_truncate(vp, 5);
    assert_string_equal(vstring_str(vp), "hello");
    vstring_truncate(vp, 50); /* never lengthens */
    assert_string_equal(vstring_str(vp), "hello");
    vstring_reset(vp);
    assert_int_equal(vstring_len(vp), 0);
    assert_string_equal(vstring_str(vp), "");
    vstring_free(vp);
    vstring_free(NULL);
}

static void test_nul_bytes(void **state)
{
    VSTRING *vp = vstring_alloc(2);

    (void) state;
    vstring_memcpy(vp, "a\0b", 3);
    assert_int_equal(vstring_len(vp), 3);
    assert_memory_equal(vstring_str(vp), "a\0b", 4); /* plus terminator */
    vstring_memcat(vp, "\0\0", 2);
    assert_int_equal(vstring_len(vp), 5);
    vstring_addch(vp, 0);
    assert_int_equal(vstring_len(vp), 6);
    /* strn variants stop at a NUL */
    vstring_strncpy(vp, "abc\0def", 7);
    assert_int_equal(vstring_len(vp), 3);
    vstring_strncat(vp, "xyz", 2);
    assert_string_equal(vstring_str(vp), "abcxy");
    vstring_free(vp);
}

static void test_growth(void **state)
{
    VSTRING *vp = vstring_alloc(1);

    (void) state;
    for (int i = 0; i < 100000; i++)
        vstring_addch(vp, 'a' + i % 26);
    assert_int_equal(vstring_len(vp), 100000);
    assert_int_equal(strlen(vstring_str(vp)), 100000);
    assert_int_equal(vstring_str(vp)[99999], 'a' + 99999 % 26);
    vstring_reserve(vp, 1 << 20);
    assert_true(vp->size >= vstring_len(vp) + (1 << 20) + 1);
    assert_int_equal(vstring_len(vp), 100000);
    vstring_free(vp);
}

static void test_sprintf(void **state)
{
    VSTRING *vp = vstring_alloc(4);
    char big[5000];

    (void) state;
    vstring_sprintf(vp, "%d-%s", 42, "x");
    assert_string_equal(vstring_str(vp), "42-x");
    vstring_sprintf_append(vp, "/%05d", 7);
    assert_string_equal(vstring_str(vp), "42-x/00007");
    memset(big, 'B', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    vstring_sprintf_append(vp, "[%s]", big);
    assert_int_equal(vstring_len(vp), 10 + 2 + sizeof(big) - 1);
    assert_int_equal(vstring_str(vp)[vstring_len(vp) - 1], ']');
    assert_int_equal(vstring_str(vp)[vstring_len(vp)], 0);
    vstring_sprintf(vp, "%s", "");
    assert_int_equal(vstring_len(vp), 0);
    vstring_free(vp);
}

static void test_self_append(void **state)
{
    VSTRING *vp = vstring_alloc(1);

    (void) state;
    vstring_strcpy(vp, "abc");
    /* the source is inside the buffer that has to grow */
    for (int i = 0; i < 10; i++)
        vstring_memcat(vp, vstring_str(vp), vstring_len(vp));
    assert_int_equal(vstring_len(vp), 3 << 10);
    for (size_t i = 0; i < vstring_len(vp); i++)
        assert_int_equal(vstring_str(vp)[i], "abc"[i % 3]);
    vstring_strcat(vp, vstring_str(vp) + vstring_len(vp) - 3);
    assert_int_equal(vstring_len(vp), (3 << 10) + 3);
    vstring_free(vp);
}

static void test_case_and_trim(void **state)
{
    VSTRING *vp = vstring_alloc(10);

    (void) state;
    vstring_strcpy(vp, "MiXeD Case\xC3\x84  \t\r\n");
    vstring_lowercase(vp);
    assert_string_equal(vstring_str(vp), "mixed case\xC3\x84  \t\r\n");
    vstring_trim_right(vp);
    assert_string_equal(vstring_str(vp), "mixed case\xC3\x84");
    vstring_strcpy(vp, "   ");
    vstring_trim_right(vp);
    assert_string_equal(vstring_str(vp), "");
    vstring_free(vp);
}

static void test_export(void **state)
{
    VSTRING *vp = vstring_alloc(1);
    char *str;

    (void) state;
    vstring_strcpy(vp, "mine now");
    str = vstring_export(vp);
    assert_string_equal(str, "mine now");
    free(str);
}

static void test_overflow_is_fatal(void **state)
{
    pid_t pid;
    int status;

    (void) state;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        VSTRING *vp = vstring_alloc(10);

        msg_set_logfile("/dev/null");
        vstring_addch(vp, 'x');
        vstring_reserve(vp, SIZE_MAX - 1);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_sprintf),
        cmocka_unit_test(test_self_append),
        cmocka_unit_test(test_case_and_trim),
        cmocka_unit_test(test_export),
        cmocka_unit_test(test_overflow_is_fatal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
