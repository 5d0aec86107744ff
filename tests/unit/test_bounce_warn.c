/*
 * NAME
 *	test_bounce_warn - unit tests for the delay warning mark
 * SYNOPSIS
 *	build/unit/test_bounce_warn
 * DESCRIPTION
 *	bounce_warn_due() against delay_warning_time (0 = off, the age
 *	boundary); bounce_warn_sent() and bounce_warn_mark() on a defer
 *	note file: unmarked, marked (the owner-execute bit), the content
 *	and other bits kept, marking twice, no file, a symbolic link, and
 *	hostile queue IDs. When the tests run as root they also mark a
 *	file owned by another user through a process that is not root,
 *	which takes the copy-and-rename path.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bounce_warn.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "msg.h"
#include "vstring.h"

static char tmpdir[] = "/tmp/test_bounce_warn.XXXXXX";

#define QID "ABCDE12345"
#define NOTE "recipient=a@example.com\nstatus=4.0.0\n\n"

static void write_note(const char *path, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, NOTE, strlen(NOTE)), (ssize_t)strlen(NOTE));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void test_due(void **unused)
{
    long saved = var_delay_warning_time;

    (void)unused;
    var_delay_warning_time = 0;
    assert_int_equal(bounce_warn_due(1000, 1000000), 0);
    var_delay_warning_time = 4 * 3600;
    assert_int_equal(bounce_warn_due(1000, 1000 + 4 * 3600 - 1), 0);
    assert_int_equal(bounce_warn_due(1000, 1000 + 4 * 3600), 1);
    assert_int_equal(bounce_warn_due(1000, 900), 0); /* clock went back */
    var_delay_warning_time = saved;
}

static void test_mark(void **unused)
{
    struct stat st;
    char buf[200];
    int fd;

    (void)unused;
    unlink("defer/" QID);
    assert_int_equal(bounce_warn_sent(QID), 0); /* no file */
    errno = 0;
    assert_int_equal(bounce_warn_mark(QID), -1);
    assert_int_equal(errno, ENOENT);

    write_note("defer/" QID, 0600);
    assert_int_equal(bounce_warn_sent(QID), 0);
    assert_int_equal(bounce_warn_mark(QID), 0);
    assert_int_equal(bounce_warn_sent(QID), 1);
    assert_int_equal(stat("defer/" QID, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(bounce_warn_mark(QID), 0); /* twice is fine */
    assert_int_equal(bounce_warn_sent(QID), 1);

    /* content untouched, other bits kept */
    fd = open("defer/" QID, O_RDONLY);
    assert_int_equal(read(fd, buf, sizeof(buf)), (ssize_t)strlen(NOTE));
    close(fd);
    write_note("defer/" QID, 0640);
    assert_int_equal(bounce_warn_mark(QID), 0);
    assert_int_equal(stat("defer/" QID, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0740);

    /* removing the notes removes the mark */
    unlink("defer/" QID);
    write_note("defer/" QID, 0600);
    assert_int_equal(bounce_warn_sent(QID), 0);
    unlink("defer/" QID);
}

static void test_hostile(void **unused)
{
    (void)unused;
    assert_int_equal(bounce_warn_sent("../active"), -1);
    assert_int_equal(bounce_warn_mark("../active"), -1);
    assert_int_equal(bounce_warn_sent(""), -1);

    /* a symbolic link is never followed, nor counted as marked */
    write_note("target", 0700);
    assert_int_equal(symlink("../target", "defer/" QID), 0);
    assert_int_equal(bounce_warn_sent(QID), 0);
    assert_int_equal(bounce_warn_mark(QID), -1);
    unlink("defer/" QID);
    unlink("target");
}

static void test_not_owner(void **unused)
{
    struct stat st;
    pid_t pid;
    int status;
    char buf[200];
    int fd;

    (void)unused;
    if (geteuid() != 0)
        skip();
    /* a note file that root owns, marked by a process that is not root */
    write_note("defer/" QID, 0600);
    assert_int_equal(chmod("defer", 0777), 0);
    assert_int_equal(chmod("defer/" QID, 0644), 0);
    if ((pid = fork()) == 0) {
        if (setgid(65534) < 0 || setuid(65534) < 0)
            _exit(2);
        _exit(bounce_warn_mark(QID) == 0 && bounce_warn_sent(QID) == 1 ? 0 : 1);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(stat("defer/" QID, &st), 0);
    assert_int_equal(st.st_uid, 65534);
    assert_int_equal(st.st_mode & 07777, 0700);
    fd = open("defer/" QID, O_RDONLY);
    assert_int_equal(read(fd, buf, sizeof(buf)), (ssize_t)strlen(NOTE));
    close(fd);
    assert_int_equal(access("defer/." QID ".warn", F_OK), -1);
    unlink("defer/" QID);
    chmod("defer", 0700);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due),
        cmocka_unit_test(test_mark),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_not_owner),
    };
    VSTRING *cmd = vstring_alloc(100);
    int ret;

    msg_init("test_bounce_warn");
    mail_conf_eval();
    if (mkdtemp(tmpdir) == NULL || chmod(tmpdir, 0755) < 0 || chdir(tmpdir) < 0)
        return 1;
    mkdir("defer", 0700);
    msg_set_logfile("maillog");
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    msg_set_logfile(NULL);
    vstring_sprintf(cmd, "rm -rf %s", tmpdir);
    if (chdir("/") < 0 || system(vstring_str(cmd)) != 0)
        ret = 1;
    vstring_free(cmd);
    return ret;
}
