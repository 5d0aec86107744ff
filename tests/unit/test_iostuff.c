/*
 * test_iostuff - descriptor flags, waits with timeouts, timed read/write.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "iostuff.h"

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_flags(void **state)
{
    int fds[2];

    (void) state;
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(non_blocking(fds[0], 1), 0);
    assert_true(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
    assert_int_equal(non_blocking(fds[0], 1), 1);
    assert_int_equal(non_blocking(fds[0], 0), 1);
    assert_false(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
    assert_int_equal(close_on_exec(fds[1], 1), 0);
    assert_true(fcntl(fds[1], F_GETFD) & FD_CLOEXEC);
    assert_int_equal(close_on_exec(fds[1], 0), 1);
    assert_false(fcntl(fds[1], F_GETFD) & FD_CLOEXEC);
    close(fds[0]);
    close(fds[1]);
    assert_int_equal(non_blocking(fds[0], 1), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(close_on_exec(fds[0], 1), -1);
}

static void test_read_wait(void **state)
{
    int fds[2];
    long t0;

    (void) state;
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(read_wait(fds[0], 0), -1);
    assert_int_equal(errno, ETIMEDOUT);
    assert_false(readable(fds[0]));
    t0 = now_ms();
    assert_int_equal(read_wait(fds[0], 1), -1);
    assert_int_equal(errno, ETIMEDOUT);
    assert_true(now_ms() - t0 >= 900);
    assert_int_equal(write(fds[1], "abc", 3), 3);
    assert_int_equal(read_wait(fds[0], 1), 0);
    assert_true(readable(fds[0]));
    assert_int_equal(peekfd(fds[0]), 3);
    close(fds[1]);
    close(fds[0]);
    assert_int_equal(read_wait(fds[0], 1), -1);
    assert_int_equal(errno, EBADF);
}

static void test_eof_is_ready(void **state)
{
    int fds[2];
    char buf[10];

    (void) state;
    assert_int_equal(pipe(fds), 0);
    close(fds[1]);
    assert_int_equal(read_wait(fds[0], 1), 0);
    assert_int_equal(timed_read(fds[0], buf, sizeof(buf), 1, NULL), 0);
    close(fds[0]);
}

static void test_timed_read(void **state)
{
    int fds[2];
    char buf[10];
    long t0;

    (void) state;
    assert_int_equal(pipe(fds), 0);
    t0 = now_ms();
    assert_int_equal(timed_read(fds[0], buf, sizeof(buf), 1, NULL), -1);
    assert_int_equal(errno, ETIMEDOUT);
    assert_true(now_ms() - t0 >= 900 && now_ms() - t0 < 3000);
    assert_int_equal(write(fds[1], "hi", 2), 2);
    assert_int_equal(timed_read(fds[0], buf, sizeof(buf), 1, NULL), 2);
    assert_memory_equal(buf, "hi", 2);
    /* a non-blocking descriptor with a timeout still waits */
    non_blocking(fds[0], 1);
    assert_int_equal(timed_read(fds[0], buf, sizeof(buf), 1, NULL), -1);
    assert_int_equal(errno, ETIMEDOUT);
    close(fds[0]);
    close(fds[1]);
}

static void test_write_wait_full_pipe(void **state)
{
    int fds[2];
    char block[4096];
    long t0;

    (void) state;
    assert_int_equal(pipe(fds), 0);
    memset(block, 'z', sizeof(block));
    non_blocking(fds[1], 1);
    while (write(fds[1], block, sizeof(block)) > 0)
        ;
    non_blocking(fds[1], 0);
    assert_int_equal(write_wait(fds[1], 0), -1);
    assert_int_equal(errno, ETIMEDOUT);
    /* blocking descriptor, full pipe: timed_write must still time out */
    t0 = now_ms();
    assert_int_equal(timed_write(fds[1], block, sizeof(block), 1, NULL), -1);
    assert_int_equal(errno, ETIMEDOUT);
    assert_true(now_ms() - t0 >= 900 && now_ms() - t0 < 3000);
    assert_int_equal(write_buf(fds[1], block, sizeof(block), 1), -1);
    assert_int_equal(errno, ETIMEDOUT);
    close(fds[0]);
    close(fds[1]);
}

static void test_big_blocking_write_bounded(void **state)
{
    int fds[2];
    static char block[1 << 20];
    ssize_t n;

    (void) state;
    /* a write bigger than the pipe, with nobody reading: partial, no hang */
    assert_int_equal(pipe(fds), 0);
    n = timed_write(fds[1], block, sizeof(block), 1, NULL);
    assert_true(n > 0 && n < (ssize_t) sizeof(block));
    close(fds[0]);
    close(fds[1]);
}

static void test_socket_epipe_no_signal(void **state)
{
    int sv[2];

    (void) state;
    signal(SIGPIPE, SIG_DFL);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    assert_int_equal(timed_write(sv[0], "x", 1, 0, NULL), -1);
    assert_int_equal(errno, EPIPE);
    assert_int_equal(timed_write(sv[0], "x", 1, 1, NULL), -1);
    assert_int_equal(errno, EPIPE);
    assert_int_equal(write_buf(sv[0], "abc", 3, 1), -1);
    close(sv[0]);
}

static void test_write_buf(void **state)
{
    int sv[2];
    char out[8];

    (void) state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(write_buf(sv[0], "hello", 5, 1), 5);
    assert_int_equal(read(sv[1], out, sizeof(out)), 5);
    assert_memory_equal(out, "hello", 5);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_read_wait),
        cmocka_unit_test(test_eof_is_ready),
        cmocka_unit_test(test_timed_read),
        cmocka_unit_test(test_write_wait_full_pipe),
        cmocka_unit_test(test_big_blocking_write_bounded),
        cmocka_unit_test(test_socket_epipe_no_signal),
        cmocka_unit_test(test_write_buf),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
