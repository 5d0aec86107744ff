/*
 * test_events - the epoll event loop and timers, and sig's self-pipe with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "events.h"
#include "sig.h"

static int calls;
static int last_fd;
static int last_event;

static void count_fn(int fd, int event, void *context)
{
    char buf[64];

    calls++;
    last_fd = fd;
    last_event = event;
    if ((event & EVENT_READ) && context)
        (void) read(fd, buf, sizeof(buf));
}

static void test_read_event(void **state)
{
    int fds[2];

    (void) state;
    calls = 0;
    assert_int_equal(pipe(fds), 0);
    event_enable_read(fds[0], count_fn, &calls);
    assert_int_equal(event_loop(0), 0);
    assert_int_equal(write(fds[1], "x", 1), 1);
    assert_int_equal(event_loop(1000), 1);
    assert_int_equal(last_fd, fds[0]);
    assert_int_equal(last_event, EVENT_READ);
    /* drained: nothing more */
    assert_int_equal(event_loop(0), 0);
    /* hang-up: EVENT_XCPT with EVENT_READ */
    close(fds[1]);
    assert_int_equal(event_loop(1000), 1);
    assert_int_equal(last_event, EVENT_READ | EVENT_XCPT);
    event_disable_read(fds[0]);
    assert_int_equal(event_loop(0), 0);
    close(fds[0]);
}

static void test_level_triggered_and_write(void **state)
{
    int fds[2];

    (void) state;
    calls = 0;
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "x", 1), 1);
    event_enable_read(fds[0], count_fn, NULL); /* does not read */
    assert_int_equal(event_loop(0), 1);
    assert_int_equal(event_loop(0), 1); /* still readable */
    event_disable_readwrite(fds[0]);
    event_enable_write(fds[1], count_fn, NULL);
    assert_int_equal(event_loop(0), 1);
    assert_int_equal(last_event, EVENT_WRITE);
    assert_int_equal(last_fd, fds[1]);
    event_disable_write(fds[1]);
    assert_int_equal(event_loop(0), 0);
    close(fds[0]);
    close(fds[1]);
}

/* two ready pipes; whichever callback runs first kills the other and
 * puts a fresh, empty pipe on the same descriptor number */
static int pair_a[2], pair_b[2];
static int swapped;
static int bad_calls;

static void bad_fn(int fd, int event, void *context)
{
    (void) fd;
    (void) event;
    (void) context;
    bad_calls++;
}

static int fresh_writer = -1;

static void swap_fn(int fd, int event, void *context)
{
    int victim = fd == pair_a[0] ? pair_b[0] : pair_a[0];
    int fresh[2];

    (void) event;
    (void) context;
    calls++;
    if (swapped)
        return;
    swapped = 1;
    event_disable_read(victim);
    assert_int_equal(pipe(fresh), 0);
    assert_int_equal(dup2(fresh[0], victim), victim); /* victim: an empty pipe */
    close(fresh[0]);
    fresh_writer = fresh[1];
    event_enable_read(victim, bad_fn, NULL);
}

static void test_stale_event_not_delivered(void **state)
{
    (void) state;
    calls = bad_calls = swapped = 0;
    assert_int_equal(pipe(pair_a), 0);
    assert_int_equal(pipe(pair_b), 0);
    assert_int_equal(write(pair_a[1], "a", 1), 1);
    assert_int_equal(write(pair_b[1], "b", 1), 1);
    event_enable_read(pair_a[0], swap_fn, NULL);
    event_enable_read(pair_b[0], swap_fn, NULL);
    event_loop(1000);
    assert_int_equal(calls, 1);
    assert_int_equal(bad_calls, 0);
    event_disable_readwrite(pair_a[0]);
    event_disable_readwrite(pair_b[0]);
    close(pair_a[0]);
    close(pair_a[1]);
    close(pair_b[0]);
    close(pair_b[1]);
    close(fresh_writer);
}

static char order[32];
static size_t order_len;

static void mark_fn(void *context)
{
    order[order_len++] = *(char *) context;
    order[order_len] = 0;
}

static void test_timers(void **state)
{
    static char a = 'a', b = 'b', c = 'c', d = 'd';
    EVENT_TIMER_ID id_c;
    long long t0;

    (void) state;
    order_len = 0;
    order[0] = 0;
    event_request_timer(mark_fn, &b, 60);
    event_request_timer(mark_fn, &a, 20);
    id_c = event_request_timer(mark_fn, &c, 40);
    event_request_timer(mark_fn, &d, 60);
    assert_true(id_c != 0);
    assert_int_equal(event_cancel_timer(id_c), 1);
    assert_int_equal(event_cancel_timer(id_c), 0);
    t0 = event_now_ms();
    while (order_len < 3 && event_now_ms() - t0 < 2000)
        event_loop(-1);
    assert_string_equal(order, "abd");
    assert_true(event_now_ms() - t0 >= 55);
    /* cancel by function and context */
    event_request_timer(mark_fn, &a, 10);
    event_request_timer(mark_fn, &a, 20);
    event_request_timer(mark_fn, &b, 30);
    assert_int_equal(event_cancel_timers(mark_fn, &a), 2);
    assert_int_equal(event_cancel_timers(mark_fn, &b), 1);
    assert_int_equal(event_loop(100), 0);
    assert_int_equal(order_len, 3);
}

static int rearm_count;

static void rearm_fn(void *context)
{
    (void) context;
    rearm_count++;
    event_request_timer(rearm_fn, NULL, 0);
}

static void test_timer_rearm_does_not_starve(void **state)
{
    (void) state;
    rearm_count = 0;
    event_request_timer(rearm_fn, NULL, 0);
    assert_int_equal(event_loop(0), 1);
    assert_int_equal(event_loop(0), 1);
    assert_int_equal(rearm_count, 2);
    assert_int_equal(event_cancel_timers(rearm_fn, NULL), 1);
}

static void test_loop_timeout(void **state)
{
    long long t0 = event_now_ms();

    (void) state;
    assert_int_equal(event_loop(200), 0);
    assert_true(event_now_ms() - t0 >= 190);
    assert_true(event_time() > 1600000000);
}

static void test_signals(void **state)
{
    int got_read = 0;

    (void) state;
    sig_watch(SIGUSR1);
    sig_watch(SIGHUP);
    assert_true(sig_watch_fd() >= 0);
    assert_int_equal(sig_next(), 0);
    calls = 0;
    event_enable_read(sig_watch_fd(), count_fn, NULL);
    raise(SIGUSR1);
    raise(SIGUSR1);
    raise(SIGHUP);
    got_read = event_loop(1000);
    assert_int_equal(got_read, 1);
    assert_int_equal(sig_next(), SIGHUP);
    assert_int_equal(sig_next(), SIGUSR1);
    assert_int_equal(sig_next(), 0);
    assert_int_equal(event_loop(0), 0); /* pipe drained */
    event_disable_read(sig_watch_fd());
}

static void test_fork_child_reset(void **state)
{
    int fds[2];
    pid_t pid;
    int status;

    (void) state;
    calls = 0;
    sig_ignore_pipe();
    assert_int_equal(pipe(fds), 0);
    event_enable_read(fds[0], count_fn, &calls);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sigaction sa;
        int ok;

        event_fork();
        sig_child_reset();
        sigaction(SIGUSR1, NULL, &sa);
        ok = sa.sa_handler == SIG_DFL && sig_watch_fd() < 0;
        sigaction(SIGPIPE, NULL, &sa);
        ok = ok && sa.sa_handler == SIG_DFL;
        /* the child's loop is independent and empty */
        ok = ok && event_loop(0) == 0;
        _exit(ok ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(status, 0);
    /* parent's registration survived the child's reset */
    assert_int_equal(write(fds[1], "x", 1), 1);
    assert_int_equal(event_loop(1000), 1);
    event_disable_read(fds[0]);
    close(fds[0]);
    close(fds[1]);
}

static void test_many_fds(void **state)
{
    int fds[200][2];

    (void) state;
    calls = 0;
    for (int i = 0; i < 200; i++) {
        assert_int_equal(pipe(fds[i]), 0);
        event_enable_read(fds[i][0], count_fn, &calls);
        assert_int_equal(write(fds[i][1], "x", 1), 1);
    }
    while (calls < 200 && event_loop(1000) > 0)
        ;
    assert_int_equal(calls, 200);
    for (int i = 0; i < 200; i++) {
        event_disable_readwrite(fds[i][0]);
        close(fds[i][0]);
        close(fds[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_event),
        cmocka_unit_test(test_level_triggered_and_write),
        cmocka_unit_test(test_stale_event_not_delivered),
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_timer_rearm_does_not_starve),
        cmocka_unit_test(test_loop_timeout),
        cmocka_unit_test(test_signals),
        cmocka_unit_test(test_fork_child_reset),
        cmocka_unit_test(test_many_fds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
