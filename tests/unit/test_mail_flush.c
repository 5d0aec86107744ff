/*
 * NAME
 *	test_mail_flush - unit tests for the flush wake-up requests
 * SYNOPSIS
 *	build/unit/test_mail_flush
 * DESCRIPTION
 *	mail_flush_queue() and mail_flush_deferred() deliver exactly their
 *	request bytes to $queue_directory/public/qmgr (a unix stream socket
 *	here, as master(8) makes it), and fail with ENOENT when nothing
 *	listens there.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "iostuff.h"
#include "mail_conf.h"
#include "mail_flush.h"
#include "msg.h"
#include "sock.h"
#include "vstring.h"

static char tmpdir[] = "/tmp/test_mail_flush.XXXXXX";

/* received - what one client wrote to the listener before closing */

static void received(int listen_fd, const char *expect)
{
    char buf[100];
    ssize_t n;
    size_t got = 0;
    int fd;

    assert_int_equal(read_wait(listen_fd, 5), 0);
    fd = sock_accept(listen_fd, NULL, NULL);
    assert_true(fd >= 0);
    while ((n = timed_read(fd, buf + got, sizeof(buf) - got - 1, 5, NULL)) > 0)
        got += (size_t)n;
    buf[got] = 0;
    close(fd);
    assert_string_equal(buf, expect);
}

static void test_requests(void **state)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    int fd;

    (void)state;
    vstring_sprintf(path, "%s/%s", tmpdir, MAIL_FLUSH_SERVICE_PATH);
    errno = 0;
    assert_int_equal(mail_flush_queue(), -1);
    assert_int_equal(errno, ENOENT);

    fd = unix_listen(vstring_str(path), 10, 0666, why);
    assert_true(fd >= 0);
    assert_int_equal(mail_flush_queue(), 0);
    received(fd, MAIL_FLUSH_ALL);
    assert_int_equal(mail_flush_deferred(), 0);
    received(fd, MAIL_FLUSH_DUE);
    assert_string_equal(MAIL_FLUSH_ALL, "FADI");
    assert_string_equal(MAIL_FLUSH_DUE, "D");
    close(fd);
    unlink(vstring_str(path));
    vstring_free(path);
    vstring_free(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests),
    };
    VSTRING *cmd = vstring_alloc(100);
    VSTRING *dir = vstring_alloc(100);
    int ret;

    msg_init("test_mail_flush");
    msg_set_logfile("/dev/null");
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    vstring_sprintf(dir, "%s/public", tmpdir);
    mkdir(vstring_str(dir), 0700);
    mail_conf_override("queue_directory", tmpdir);
    mail_conf_eval();
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    vstring_sprintf(cmd, "rm -rf %s", tmpdir);
    if (system(vstring_str(cmd)) != 0)
        ret = 1;
    vstring_free(cmd);
    vstring_free(dir);
    return ret;
}
