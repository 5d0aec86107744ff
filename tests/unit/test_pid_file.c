/*
 * test_pid_file - pid file locking and reading (same process, another
 * process, stale file), and daemonize with and without readiness waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemonize.h"
#include "pid_file.h"
#include "vstring.h"

static char dir[256];

static int setup_dir(void **state)
{
    const char *base = getenv("TMPDIR");

    (void) state;
    snprintf(dir, sizeof(dir), "%s/pid_file.XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[300];

    (void) state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_open_lock_read(void **state)
{
    char path[300], buf[64], expect[64];
    VSTRING *why = vstring_alloc(10);
    int fd, fd2, rfd;
    ssize_t n;

    (void) state;
    snprintf(path, sizeof(path), "%s/master.pid", dir);
    assert_int_equal(pid_file_read(path), 0); /* no file */
    fd = pid_file_open(path, why);
    assert_true(fd >= 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    rfd = open(path, O_RDONLY);
    n = read(rfd, buf, sizeof(buf) - 1);
    close(rfd);
    assert_int_equal(n, 11);
    buf[n] = 0;
    snprintf(expect, sizeof(expect), "%10ld\n", (long) getpid());
    assert_string_equal(buf, expect);
    /* reading from the owner process does not drop the lock */
    assert_int_equal(pid_file_read(path), getpid());
    assert_int_equal(pid_file_read(path), getpid());
    /* a second instance is refused */
    fd2 = pid_file_open(path, why);
    assert_int_equal(fd2, -1);
    assert_int_equal(errno, EAGAIN);
    snprintf(expect, sizeof(expect), "already running as PID %ld", (long) getpid());
    assert_string_equal(vstring_str(why), expect);
    /* after the owner goes, the file is stale: 0, and can be taken over */
    close(fd);
    assert_int_equal(pid_file_read(path), 0);
    fd = pid_file_open(path, why);
    assert_true(fd >= 0);
    pid_file_remove(fd, path);
    assert_int_equal(access(path, F_OK), -1);
    close(fd);
    vstring_free(why);
}

static void test_other_process(void **state)
{
    char path[300];
    VSTRING *why = vstring_alloc(10);
    int fds[2];
    pid_t pid;
    char c;
    int status;

    (void) state;
    snprintf(path, sizeof(path), "%s/other.pid", dir);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        if (pid_file_open(path, NULL) < 0)
            _exit(1);
        if (write(fds[1], "R", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &c, 1), 1);
    close(fds[0]);
    assert_int_equal(pid_file_read(path), pid);
    assert_int_equal(pid_file_open(path, why), -1);
    assert_non_null(strstr(vstring_str(why), "already running as PID"));
    kill(pid, SIGTERM);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(pid_file_read(path), 0);
    vstring_free(why);
}

static void test_refuses_symlink(void **state)
{
    char path[300], target[300];
    VSTRING *why = vstring_alloc(10);

    (void) state;
    snprintf(path, sizeof(path), "%s/link.pid", dir);
    snprintf(target, sizeof(target), "%s/target", dir);
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(pid_file_open(path, why), -1);
    assert_int_equal(access(target, F_OK), -1);
    vstring_free(why);
}

static void test_garbage_content(void **state)
{
    char path[300];
    int fd;

    (void) state;
    snprintf(path, sizeof(path), "%s/garbage.pid", dir);
    fd = open(path, O_CREAT | O_WRONLY, 0644);
    assert_int_equal(write(fd, "not a pid\n", 10), 10);
    close(fd);
    assert_int_equal(pid_file_read(path), 0); /* not locked: stale */
}

/* run daemonize(flags) in a throw-away process; the daemon runs child_fn */
static int run_daemon(int flags, int timeout, int (*child_fn)(const char *), const char *arg)
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        if (daemonize(flags, timeout) < 0)
            _exit(99);
        _exit(child_fn(arg));
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int wait_for_file(const char *path)
{
    for (int i = 0; i < 300; i++) {
        if (access(path, F_OK) == 0)
            return 0;
        usleep(10000);
    }
    return -1;
}

/* the daemon records facts about itself, says ready, then lingers */
static int daemon_ready(const char *path)
{
    char tmp[320];
    FILE *fp;
    char cwd[256];

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fp = fopen(tmp, "w");
    if (fp == NULL)
        return 2;
    fprintf(fp, "%ld %ld %ld %d %s\n", (long) getpid(), (long) getsid(0), (long) getppid(),
            isatty(0), getcwd(cwd, sizeof(cwd)) ? cwd : "?");
    fclose(fp);
    rename(tmp, path);
    daemonize_ready();
    usleep(200 * 1000);
    return 0;
}

static int daemon_fail(const char *path)
{
    (void) path;
    return 3;
}

static int daemon_hang(const char *path)
{
    char tmp[320];
    FILE *fp;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if ((fp = fopen(tmp, "w")) != NULL) {
        fprintf(fp, "%ld\n", (long) getpid());
        fclose(fp);
        rename(tmp, path);
    }
    sleep(5);
    return 0;
}

static void test_daemonize_wait_ready(void **state)
{
    char path[300], cwd[256];
    long pid, sid, ppid;
    int tty;
    FILE *fp;

    (void) state;
    snprintf(path, sizeof(path), "%s/ready", dir);
    assert_int_equal(run_daemon(DAEMONIZE_WAIT, 10, daemon_ready, path), 0);
    assert_int_equal(wait_for_file(path), 0);
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_int_equal(fscanf(fp, "%ld %ld %ld %d %255s", &pid, &sid, &ppid, &tty, cwd), 5);
    fclose(fp);
    assert_int_equal(pid, sid); /* session leader */
    assert_int_equal(tty, 0);
    assert_string_equal(cwd, "/");
}

static void test_daemonize_nowait(void **state)
{
    char path[300];

    (void) state;
    snprintf(path, sizeof(path), "%s/nowait", dir);
    assert_int_equal(run_daemon(DAEMONIZE_NOCHDIR, 0, daemon_ready, path), 0);
    assert_int_equal(wait_for_file(path), 0);
}

static void test_daemonize_child_fails(void **state)
{
    (void) state;
    assert_int_equal(run_daemon(DAEMONIZE_WAIT, 10, daemon_fail, NULL), 3);
}

static void test_daemonize_timeout(void **state)
{
    char path[300];
    long pid = 0;
    FILE *fp;

    (void) state;
    snprintf(path, sizeof(path), "%s/hang", dir);
    assert_int_equal(run_daemon(DAEMONIZE_WAIT, 1, daemon_hang, path), 1);
    assert_int_equal(wait_for_file(path), 0);
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_int_equal(fscanf(fp, "%ld", &pid), 1);
    fclose(fp);
    assert_true(pid > 1);
    kill((pid_t) pid, SIGKILL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_lock_read),
        cmocka_unit_test(test_other_process),
        cmocka_unit_test(test_refuses_symlink),
        cmocka_unit_test(test_garbage_content),
        cmocka_unit_test(test_daemonize_wait_ready),
        cmocka_unit_test(test_daemonize_nowait),
        cmocka_unit_test(test_daemonize_child_fails),
        cmocka_unit_test(test_daemonize_timeout),
    };

    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
