/*
 * test_lock_file - fcntl locks between open files and processes, timed
 * waits, lock owner tests, dot-locks with stale removal.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lock_file.h"
#include "vstring.h"

static char dir[256];
static char path[300];

static int setup_dir(void **state)
{
    const char *base = getenv("TMPDIR");
    int fd;

    (void) state;
    snprintf(dir, sizeof(dir), "%s/lock_file.XXXXXX", base && *base ? base : "/tmp");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/mbox", dir);
    if ((fd = open(path, O_CREAT | O_RDWR, 0600)) < 0)
        return -1;
    close(fd);
    return 0;
}

static int teardown_dir(void **state)
{
    char cmd[300];

    (void) state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_exclusive_between_opens(void **state)
{
    int a = open(path, O_RDWR);
    int b = open(path, O_RDWR);
    int c;

    (void) state;
    assert_int_equal(lock_file(a, LOCK_FILE_EXCLUSIVE | LOCK_FILE_NONBLOCK), 0);
    assert_int_equal(lock_file(b, LOCK_FILE_EXCLUSIVE | LOCK_FILE_NONBLOCK), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(lock_file(b, LOCK_FILE_SHARED | LOCK_FILE_NONBLOCK), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_not_equal(lock_file_owner(b), 0);
    /* closing some other descriptor of the file does not drop a's lock */
    c = open(path, O_RDONLY);
    close(c);
    assert_int_equal(lock_file(b, LOCK_FILE_EXCLUSIVE | LOCK_FILE_NONBLOCK), -1);
    assert_int_equal(lock_file(a, LOCK_FILE_UNLOCK), 0);
    assert_int_equal(lock_file_owner(b), 0);
    assert_int_equal(lock_file(b, LOCK_FILE_EXCLUSIVE | LOCK_FILE_NONBLOCK), 0);
    close(b); /* closing releases */
    assert_int_equal(lock_file(a, LOCK_FILE_EXCLUSIVE | LOCK_FILE_NONBLOCK), 0);
    close(a);
}

static void test_shared(void **state)
{
    int a = open(path, O_RDONLY);
    int b = open(path, O_RDONLY);
    int w = open(path, O_RDWR);

    (void) state;
    assert_int_equal(lock_file(a, LOCK_FILE_SHARED | LOCK_FILE_NONBLOCK), 0);
    assert_int_equal(lock_file(b, LOCK_FILE_SHARED | LOCK_FILE_NONBLOCK), 0);
    assert_int_equal(lock_file(w, LOCK_FILE_EXCLUSIVE | LOCK_FILE_NONBLOCK), -1);
    assert_int_equal(errno, EAGAIN);
    close(a);
    close(b);
    assert_int_equal(lock_file(w, LOCK_FILE_EXCLUSIVE), 0);
    close(w);
    assert_int_equal(lock_file(w, 99), -1);
    assert_int_equal(errno, EINVAL);
}

static void test_between_processes(void **state)
{
    int fds[2];
    int fd;
    pid_t pid;
    char c;
    int status;
    long t0;

    (void) state;
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int cfd = open(path, O_RDWR);

        if (lock_file(cfd, LOCK_FILE_EXCLUSIVE) < 0)
            _exit(1);
        if (write(fds[1], "L", 1) != 1)
            _exit(1);
        usleep(700 * 1000);
        _exit(0); /* lock goes with the process */
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &c, 1), 1);
    fd = open(path, O_RDWR);
    assert_int_equal(lock_file(fd, LOCK_FILE_EXCLUSIVE | LOCK_FILE_NONBLOCK), -1);
    /* a timed wait that gives up */
    t0 = now_ms();
    assert_int_equal(lock_file_wait(fd, LOCK_FILE_EXCLUSIVE, 0), -1);
    assert_int_equal(errno, EAGAIN);
    assert_true(now_ms() - t0 < 300);
    /* and one that succeeds once the child exits */
    assert_int_equal(lock_file_wait(fd, LOCK_FILE_EXCLUSIVE, 5), 0);
    assert_true(now_ms() - t0 >= 400);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(status, 0);
    close(fd);
    close(fds[0]);
}

static void test_wait_times_out(void **state)
{
    int a = open(path, O_RDWR);
    int b = open(path, O_RDWR);
    long t0;

    (void) state;
    assert_int_equal(lock_file(a, LOCK_FILE_EXCLUSIVE), 0);
    t0 = now_ms();
    assert_int_equal(lock_file_wait(b, LOCK_FILE_EXCLUSIVE, 1), -1);
    assert_int_equal(errno, EAGAIN);
    assert_true(now_ms() - t0 >= 900 && now_ms() - t0 < 3000);
    close(a);
    close(b);
}

static void test_dot_lock(void **state)
{
    VSTRING *why = vstring_alloc(10);
    char lock[320], buf[32];
    struct timeval old[2];
    int fd;
    ssize_t n;
    long t0;

    (void) state;
    snprintf(lock, sizeof(lock), "%s.lock", path);
    assert_int_equal(dot_lock(path, 1, 0, 0, why), 0);
    fd = open(lock, O_RDONLY);
    assert_true(fd >= 0);
    n = read(fd, buf, sizeof(buf) - 1);
    assert_true(n > 0);
    buf[n] = 0;
    assert_int_equal(atol(buf), (long) getpid());
    close(fd);
    /* held: bounded retries, then EEXIST */
    t0 = now_ms();
    assert_int_equal(dot_lock(path, 2, 1, 0, why), -1);
    assert_int_equal(errno, EEXIST);
    assert_true(now_ms() - t0 >= 900 && now_ms() - t0 < 3000);
    assert_non_null(strstr(vstring_str(why), lock));
    /* fresh lock is not stale */
    assert_int_equal(dot_lock(path, 1, 0, 60, why), -1);
    /* old lock is stale and gets taken over */
    old[0].tv_sec = old[1].tv_sec = time(NULL) - 600;
    old[0].tv_usec = old[1].tv_usec = 0;
    assert_int_equal(utimes(lock, old), 0);
    assert_int_equal(dot_lock(path, 2, 0, 500, why), 0);
    assert_int_equal(dot_unlock(path), 0);
    assert_int_equal(access(lock, F_OK), -1);
    assert_int_equal(dot_unlock(path), -1);
    assert_int_equal(errno, ENOENT);
    /* a directory that does not exist: error, not EEXIST */
    assert_int_equal(dot_lock("/nonexistent/dir/mbox", 3, 1, 0, why), -1);
    assert_int_equal(errno, ENOENT);
    vstring_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exclusive_between_opens),
        cmocka_unit_test(test_shared),
        cmocka_unit_test(test_between_processes),
        cmocka_unit_test(test_wait_times_out),
        cmocka_unit_test(test_dot_lock),
    };

    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
