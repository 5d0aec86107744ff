/*
 * test_msg - logfile line format, levels, syslog_name, control characters,
 * long lines, many concurrent writers, fatal cleanup and exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "msg.h"

static char dir[256];
static char logpath[300];

static int setup_dir(void **state)
{
    const char *base = getenv("TMPDIR");

    (void) state;
    snprintf(dir, sizeof(dir), "%s/msg.XXXXXX", base && *base ? base : "/tmp");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(logpath, sizeof(logpath), "%s/maillog", dir);
    return 0;
}

static int teardown_dir(void **state)
{
    char cmd[300];

    (void) state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* read_log - the whole log file as a NUL-terminated string (caller frees) */
static char *read_log(const char *path, size_t *lenp)
{
    struct stat st;
    char *buf;
    int fd = open(path, O_RDONLY);
    ssize_t n;

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    buf = malloc((size_t) st.st_size + 1);
    assert_non_null(buf);
    n = read(fd, buf, (size_t) st.st_size);
    assert_int_equal(n, st.st_size);
    buf[n] = 0;
    close(fd);
    if (lenp)
        *lenp = (size_t) n;
    return buf;
}

static void fresh_log(const char *name)
{
    snprintf(logpath, sizeof(logpath), "%s/%s", dir, name);
    unlink(logpath);
    msg_init("smtpd");
    msg_set_syslog_name(NULL);
    msg_set_stderr(0);
    msg_set_logfile(logpath);
}

static void assert_matches(const char *text, const char *pattern)
{
    regex_t re;

    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    if (regexec(&re, text, 0, NULL, 0) != 0)
        fail_msg("\"%s\" does not match /%s/", text, pattern);
    regfree(&re);
}

#define STAMP "^[A-Z][a-z]{2} [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [^ ]+ "

static void test_format_and_levels(void **state)
{
    char pattern[256];
    char *log;
    char *line;
    char *save = NULL;

    (void) state;
    fresh_log("format");
    msg_info("hello %d", 42);
    msg_warn("careful");
    msg_error("broken");
    msg_set_syslog_name("postfix");
    msg_init("/usr/libexec/postern/cleanup");
    assert_string_equal(msg_prog(), "cleanup");
    msg_info("renamed");
    log = read_log(logpath, NULL);
    line = strtok_r(log, "\n", &save);
    snprintf(pattern, sizeof(pattern), STAMP "postern/smtpd\\[%ld\\]: hello 42$", (long) getpid());
    assert_matches(line, pattern);
    line = strtok_r(NULL, "\n", &save);
    snprintf(pattern, sizeof(pattern), STAMP "postern/smtpd\\[%ld\\]: warning: careful$",
             (long) getpid());
    assert_matches(line, pattern);
    line = strtok_r(NULL, "\n", &save);
    assert_matches(line, "\\]: error: broken$");
    line = strtok_r(NULL, "\n", &save);
    snprintf(pattern, sizeof(pattern), STAMP "postfix/cleanup\\[%ld\\]: renamed$",
             (long) getpid());
    assert_matches(line, pattern);
    assert_null(strtok_r(NULL, "\n", &save));
    free(log);
}

static void test_control_chars_and_errno(void **state)
{
    char *log;

    (void) state;
    fresh_log("control");
    msg_info("a\rb\nc\x7f" "d\te\x1b[31m");
    errno = ENOENT;
    msg_info("open x: %m");
    assert_int_equal(errno, ENOENT); /* preserved */
    log = read_log(logpath, NULL);
    assert_non_null(strstr(log, "]: a?b?c?d?e?[31m\n"));
    assert_non_null(strstr(log, "]: open x: No such file or directory\n"));
    /* exactly two lines: the embedded newline did not split anything */
    assert_int_equal(strchr(strchr(log, '\n') + 1, '\n')[1], 0);
    free(log);
}

static void test_long_line(void **state)
{
    static char big[20000];
    size_t len;
    char *log;

    (void) state;
    fresh_log("long");
    memset(big, 'L', sizeof(big) - 1);
    msg_info("%s", big);
    msg_info("after");
    log = read_log(logpath, &len);
    assert_true(len < 4096 + 300);
    /* the long line is cut but still ends with a newline; next line intact */
    assert_non_null(strstr(log, "LLLL\n"));
    assert_matches(strchr(log, '\n') + 1, STAMP "postern/smtpd\\[[0-9]+\\]: after\n$");
    free(log);
}

static void test_many_writers(void **state)
{
    enum { CHILDREN = 20, LINES = 200 };
    pid_t pids[CHILDREN];
    int counts[CHILDREN] = {0};
    char *log, *line, *save = NULL;
    int total = 0;
    regex_t re;
    regmatch_t m[3];
    int status;

    (void) state;
    fresh_log("many");
    for (int i = 0; i < CHILDREN; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            msg_set_logfile(logpath); /* own descriptor, as a new daemon has */
            for (int j = 0; j < LINES; j++)
                msg_info("child %d line %d padding %0200d", i, j, j);
            _exit(0);
        }
    }
    for (int i = 0; i < CHILDREN; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_int_equal(status, 0);
    }
    assert_int_equal(regcomp(&re,
                             STAMP "postern/smtpd\\[([0-9]+)\\]: child ([0-9]+) line [0-9]+ "
                                   "padding [0-9]{200}$",
                             REG_EXTENDED),
                     0);
    log = read_log(logpath, NULL);
    for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        long pid;
        int child;

        if (regexec(&re, line, 3, m, 0) != 0)
            fail_msg("damaged line: %.300s", line);
        pid = atol(line + m[1].rm_so);
        child = atoi(line + m[2].rm_so);
        assert_true(child >= 0 && child < CHILDREN);
        assert_int_equal(pid, (long) pids[child]);
        counts[child]++;
        total++;
    }
    regfree(&re);
    free(log);
    assert_int_equal(total, CHILDREN * LINES);
    for (int i = 0; i < CHILDREN; i++)
        assert_int_equal(counts[i], LINES);
}

static char marker[320];

static void cleanup_hook(void)
{
    int fd = open(marker, O_CREAT | O_WRONLY, 0600);

    if (fd >= 0)
        close(fd);
}

static void looping_hook(void)
{
    cleanup_hook();
    msg_fatal("fatal inside the cleanup hook");
}

static int run_child(void (*fn)(void))
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        fn();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

static void do_fatal(void)
{
    msg_set_cleanup(cleanup_hook);
    msg_fatal("boom %s", "now");
}

static void do_fatal_status(void)
{
    msg_fatal_status(7, "seven");
}

static void do_fatal_loop(void)
{
    msg_set_cleanup(looping_hook);
    msg_fatal("first");
}

static void do_panic(void)
{
    signal(SIGABRT, SIG_DFL);
    msg_panic("impossible");
}

static void test_fatal(void **state)
{
    char *log;

    (void) state;
    fresh_log("fatal");
    snprintf(marker, sizeof(marker), "%s/cleanup-ran", dir);
    assert_int_equal(run_child(do_fatal), 1);
    assert_int_equal(access(marker, F_OK), 0);
    unlink(marker);
    assert_int_equal(run_child(do_fatal_status), 7);
    assert_int_equal(access(marker, F_OK), -1); /* no hook set there */
    assert_int_equal(run_child(do_fatal_loop), 1);
    assert_int_equal(access(marker, F_OK), 0);
    assert_int_equal(run_child(do_panic), 128 + SIGABRT);
    log = read_log(logpath, NULL);
    assert_non_null(strstr(log, "]: fatal: boom now\n"));
    assert_non_null(strstr(log, "]: fatal: seven\n"));
    assert_non_null(strstr(log, "]: fatal: first\n"));
    assert_non_null(strstr(log, "]: fatal: fatal inside the cleanup hook\n"));
    assert_non_null(strstr(log, "]: panic: impossible\n"));
    free(log);
}

static void test_stderr_copy(void **state)
{
    int fds[2];
    int saved;
    char buf[256];
    ssize_t n;

    (void) state;
    fresh_log("stderr");
    assert_int_equal(pipe(fds), 0);
    saved = dup(2);
    dup2(fds[1], 2);
    msg_set_stderr(1);
    msg_warn("to the person");
    msg_set_stderr(0);
    dup2(saved, 2);
    close(saved);
    close(fds[1]);
    n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    assert_true(n > 0);
    buf[n] = 0;
    assert_string_equal(buf, "smtpd: warning: to the person\n");
}

static void test_unwritable_logfile(void **state)
{
    int fds[2];
    int saved;
    char buf[512];
    ssize_t n;

    (void) state;
    msg_init("smtpd");
    assert_int_equal(pipe(fds), 0);
    saved = dup(2);
    dup2(fds[1], 2);
    msg_set_logfile("/nonexistent/dir/maillog");
    msg_info("lost?");
    dup2(saved, 2);
    close(saved);
    close(fds[1]);
    n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    assert_true(n > 0);
    buf[n] = 0;
    assert_non_null(strstr(buf, "lost?"));
    msg_set_logfile(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_and_levels),
        cmocka_unit_test(test_control_chars_and_errno),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_many_writers),
        cmocka_unit_test(test_fatal),
        cmocka_unit_test(test_stderr_copy),
        cmocka_unit_test(test_unwritable_logfile),
    };

    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
