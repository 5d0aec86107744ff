/*
 * NAME
 *	test_attr - unit tests for the attribute request/reply protocol
 * SYNOPSIS
 *	build/unit/test_attr
 * DESCRIPTION
 *	Round trips over a socketpair (strings, integers, name/value
 *	tables, back-to-back lists, 1024 pairs, 64 KiB values), the exact
 *	wire bytes, the reader's flags (missing, unexpected, collected),
 *	and hostile input fed from a file: a request cut at every byte
 *	offset, a missing terminator, names and values one byte over their
 *	limits, too many pairs, duplicates, bad names and bad numbers.
 *	attr_clnt_request() is tested against a forked server on a UNIX
 *	socket, and against a path where nothing listens.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "attr.h"
#include "msg.h"
#include "mymalloc.h"
#include "sock.h"

static char tmp_path[] = "/tmp/test_attr.XXXXXX";
static int tmp_fd = -1;
static VSTRING *v1, *v2, *raw;

static int setup(void **state)
{
    (void)state;
    tmp_fd = mkstemp(tmp_path);
    assert_true(tmp_fd >= 0);
    unlink(tmp_path);
    v1 = vstring_alloc(10);
    v2 = vstring_alloc(10);
    raw = vstring_alloc(100);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    close(tmp_fd);
    vstring_free(v1);
    vstring_free(v2);
    vstring_free(raw);
    return 0;
}

/* stream_on - a read stream over exactly data[0..len) */
static VSTREAM *stream_on(const void *data, size_t len)
{
    assert_int_equal(ftruncate(tmp_fd, 0), 0);
    if (len > 0)
        assert_int_equal(pwrite(tmp_fd, data, len, 0), (ssize_t)len);
    assert_int_equal(lseek(tmp_fd, 0, SEEK_SET), 0);
    return vstream_fdopen(tmp_fd, O_RDONLY);
}

/* pair - append name NUL value NUL to raw */
static void pair(const char *name, const char *value)
{
    vstring_memcat(raw, name, strlen(name) + 1);
    vstring_memcat(raw, value, strlen(value) + 1);
}

static void end_list(void)
{
    vstring_addch(raw, 0);
}

static void socket_pair(VSTREAM **a, VSTREAM **b)
{
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    *a = vstream_fdopen(sv[0], O_RDWR);
    *b = vstream_fdopen(sv[1], O_RDWR);
    vstream_set_timeout(*a, 10);
    vstream_set_timeout(*b, 10);
}

static void test_round_trip(void **state)
{
    VSTREAM *a, *b;
    NVTABLE *nv = attr_nv_create();
    NVTABLE *got = attr_nv_create();
    long n1 = 0, n2 = 0, n3 = 0;

    (void)state;
    socket_pair(&a, &b);
    attr_nv_update(nv, "client_address", "192.0.2.1");
    attr_nv_update(nv, "helo_name", "mail.example.com");
    assert_int_equal(attr_print(a, ATTR_STR("sender", "a@example.com"), ATTR_INT("count", 42),
                                ATTR_INT("neg", -7), ATTR_INT("max", LONG_MAX),
                                ATTR_STR("empty", ""), ATTR_NV(nv), ATTR_END),
                     0);
    assert_int_equal(attr_scan(b, ATTR_FLAG_MISSING, ATTR_GET_STR("sender", v1),
                               ATTR_GET_INT("count", &n1), ATTR_GET_INT("neg", &n2),
                               ATTR_GET_INT("max", &n3), ATTR_GET_STR("empty", v2),
                               ATTR_GET_NV(got), ATTR_END),
                     5);
    assert_string_equal(vstring_str(v1), "a@example.com");
    assert_int_equal(n1, 42);
    assert_int_equal(n2, -7);
    assert_true(n3 == LONG_MAX);
    assert_string_equal(vstring_str(v2), "");
    assert_int_equal(got->used, 2);
    assert_string_equal(attr_nv_find(got, "client_address"), "192.0.2.1");
    assert_string_equal(attr_nv_find(got, "helo_name"), "mail.example.com");

    /* two lists back to back, the second read into a table */
    assert_int_equal(attr_print(a, ATTR_STR("x", "1"), ATTR_END), 0);
    assert_int_equal(attr_print(a, ATTR_STR("y", "2"), ATTR_STR("z", "3"), ATTR_END), 0);
    assert_int_equal(attr_scan(b, ATTR_FLAG_STRICT, ATTR_GET_STR("x", v1), ATTR_END), 1);
    assert_string_equal(vstring_str(v1), "1");
    assert_int_equal(attr_scan_nv(b, 0, got), 2);
    assert_null(attr_nv_find(got, "client_address")); /* the table was emptied */
    assert_string_equal(attr_nv_find(got, "z"), "3");

    /* an empty list */
    assert_int_equal(attr_print(a, ATTR_END), 0);
    assert_int_equal(attr_scan(b, ATTR_FLAG_NONE, ATTR_END), 0);

    /* the peer closes: a clean EOF, not logged, feof set */
    vstream_fclose(a);
    assert_int_equal(attr_scan(b, ATTR_FLAG_NONE, ATTR_GET_STR("x", v1), ATTR_END), -1);
    assert_true(vstream_feof(b));
    vstream_fclose(b);
    attr_nv_free(nv);
    attr_nv_free(got);
}

static void test_wire_format(void **state)
{
    VSTREAM *a, *b;
    char bytes[64];
    const char want[] = "name\0value\0n\0-12\0\0";
    ssize_t n;

    (void)state;
    socket_pair(&a, &b);
    assert_int_equal(attr_print(a, ATTR_STR("name", "value"), ATTR_INT("n", -12), ATTR_END), 0);
    n = read(vstream_fileno(b), bytes, sizeof(bytes));
    assert_int_equal(n, sizeof(want) - 1);
    assert_memory_equal(bytes, want, sizeof(want) - 1);

    /* a C string cannot carry a NUL: the value ends at the first one */
    assert_int_equal(attr_print(a, ATTR_STR("v", "a\0b"), ATTR_END), 0);
    assert_int_equal(attr_scan(b, ATTR_FLAG_STRICT, ATTR_GET_STR("v", v1), ATTR_END), 1);
    assert_int_equal(vstring_len(v1), 1);
    assert_string_equal(vstring_str(v1), "a");
    vstream_fclose(a);
    vstream_fclose(b);
}

static void test_flags(void **state)
{
    VSTREAM *fp;
    NVTABLE *nv = attr_nv_create();
    long n = 0;

    (void)state;
    vstring_reset(raw);
    pair("a", "1");
    pair("extra", "x");
    end_list();

    /* extra ignored by default */
    fp = stream_on(vstring_str(raw), vstring_len(raw));
    assert_int_equal(attr_scan(fp, ATTR_FLAG_NONE, ATTR_GET_STR("a", v1), ATTR_END), 1);
    vstream_fdclose(fp);
    /* extra is an error with ATTR_FLAG_EXTRA */
    fp = stream_on(vstring_str(raw), vstring_len(raw));
    assert_int_equal(attr_scan(fp, ATTR_FLAG_EXTRA, ATTR_GET_STR("a", v1), ATTR_END), -1);
    vstream_fdclose(fp);
    /* ... unless a table collects it */
    fp = stream_on(vstring_str(raw), vstring_len(raw));
    assert_int_equal(
        attr_scan(fp, ATTR_FLAG_STRICT, ATTR_GET_STR("a", v1), ATTR_GET_NV(nv), ATTR_END), 1);
    assert_string_equal(attr_nv_find(nv, "extra"), "x");
    assert_null(attr_nv_find(nv, "a"));
    vstream_fdclose(fp);
    /* missing: count tells, the flag makes it an error */
    fp = stream_on(vstring_str(raw), vstring_len(raw));
    assert_int_equal(
        attr_scan(fp, ATTR_FLAG_NONE, ATTR_GET_STR("a", v1), ATTR_GET_INT("b", &n), ATTR_END), 1);
    vstream_fdclose(fp);
    fp = stream_on(vstring_str(raw), vstring_len(raw));
    assert_int_equal(
        attr_scan(fp, ATTR_FLAG_MISSING, ATTR_GET_STR("a", v1), ATTR_GET_INT("b", &n), ATTR_END),
        -1);
    vstream_fdclose(fp);
    attr_nv_free(nv);
}

/* scan_raw - attr_scan of the bytes in raw asking for "a" and "b" */
static int scan_raw(int flags, size_t limit)
{
    VSTREAM *fp = stream_on(vstring_str(raw), vstring_len(raw));
    long n = 0;
    int ret =
        attr_scan_limit(fp, flags, limit, ATTR_GET_STR("a", v1), ATTR_GET_INT("n", &n), ATTR_END);

    vstream_fdclose(fp);
    return ret;
}

static void test_hostile(void **state)
{
    (void)state;
    /* empty input, missing terminator, EOF inside a name or value */
    vstring_reset(raw);
    assert_int_equal(scan_raw(0, 0), -1);
    pair("a", "1");
    assert_int_equal(scan_raw(0, 0), -1);
    vstring_memcat(raw, "n", 1);
    assert_int_equal(scan_raw(0, 0), -1);
    vstring_reset(raw);
    vstring_memcat(raw, "a\0val", 5);
    assert_int_equal(scan_raw(0, 0), -1);

    /* duplicates, asked for or not */
    vstring_reset(raw);
    pair("a", "1");
    pair("a", "2");
    end_list();
    assert_int_equal(scan_raw(0, 0), -1);

    /* bad names */
    static const char *bad_names[] = {"a b", "a=b", "a\x01", "\xc3\xa9", "a/b", "a:b", NULL};
    for (const char **cp = bad_names; *cp; cp++) {
        vstring_reset(raw);
        pair(*cp, "1");
        end_list();
        if (scan_raw(0, 0) != -1)
            fail_msg("accepted name \"%s\"", *cp);
    }

    /* numbers */
    static const char *bad_nums[] = {
        "",
        " 1",
        "1 ",
        "+1",
        "-",
        "1x",
        "0x10",
        "99999999999999999999",
        "-99999999999999999999",
        "1.5",
        "--1",
        NULL,
    };
    for (const char **cp = bad_nums; *cp; cp++) {
        vstring_reset(raw);
        pair("n", *cp);
        end_list();
        if (scan_raw(0, 0) != -1)
            fail_msg("accepted number \"%s\"", *cp);
    }
    vstring_reset(raw);
    pair("n", "-9223372036854775808");
    end_list();
    assert_int_equal(scan_raw(ATTR_FLAG_STRICT & ~ATTR_FLAG_MISSING, 0), 1);

    /* values: binary bytes other than NUL are data */
    vstring_reset(raw);
    pair("a", "\x01\xff\r\n=");
    end_list();
    assert_int_equal(scan_raw(0, 0), 1);
    assert_string_equal(vstring_str(v1), "\x01\xff\r\n=");
}

static void test_limits(void **state)
{
    VSTRING *big = vstring_alloc(ATTR_VALUE_MAX + 10);

    (void)state;
    /* name of ATTR_NAME_MAX is fine, one more is not */
    vstring_reset(big);
    for (int i = 0; i < ATTR_NAME_MAX; i++)
        vstring_addch(big, 'n');
    vstring_reset(raw);
    pair(vstring_str(big), "v");
    end_list();
    assert_int_equal(scan_raw(0, 0), 0);
    vstring_addch(big, 'n');
    vstring_reset(raw);
    pair(vstring_str(big), "v");
    end_list();
    assert_int_equal(scan_raw(0, 0), -1);

    /* value of ATTR_VALUE_MAX is fine, one more is not, also when ignored */
    vstring_reset(big);
    for (int i = 0; i < ATTR_VALUE_MAX; i++)
        vstring_addch(big, 'v');
    vstring_reset(raw);
    pair("a", vstring_str(big));
    end_list();
    assert_int_equal(scan_raw(0, 0), 1);
    assert_int_equal(vstring_len(v1), ATTR_VALUE_MAX);
    vstring_addch(big, 'v');
    vstring_reset(raw);
    pair("a", vstring_str(big));
    end_list();
    assert_int_equal(scan_raw(0, 0), -1);
    vstring_reset(raw);
    pair("ignored", vstring_str(big));
    end_list();
    assert_int_equal(scan_raw(0, 0), -1);
    /* a per-call limit, smaller and larger */
    assert_int_equal(scan_raw(0, ATTR_VALUE_MAX + 1), 0);
    vstring_reset(raw);
    pair("a", "12345");
    end_list();
    assert_int_equal(scan_raw(0, 5), 1);
    assert_int_equal(scan_raw(0, 4), -1);

    /* ATTR_COUNT_MAX pairs are fine, one more is not */
    vstring_reset(raw);
    for (int i = 0; i < ATTR_COUNT_MAX; i++) {
        char name[32];

        snprintf(name, sizeof(name), "k%d", i);
        pair(name, "v");
    }
    end_list();
    assert_int_equal(scan_raw(0, 0), 0);
    vstring_truncate(raw, vstring_len(raw) - 1);
    pair("one_more", "v");
    end_list();
    assert_int_equal(scan_raw(0, 0), -1);
    vstring_free(big);
}

static void test_truncated_everywhere(void **state)
{
    NVTABLE *nv = attr_nv_create();
    VSTREAM *fp;

    (void)state;
    vstring_reset(raw);
    pair("a", "hello world");
    pair("n", "123");
    pair("other", "");
    pair("x", "y");
    end_list();
    for (size_t cut = 0; cut <= vstring_len(raw); cut++) {
        int want = cut == vstring_len(raw) ? 2 : -1;

        fp = stream_on(vstring_str(raw), cut);
        long n = 0;
        assert_int_equal(attr_scan(fp, ATTR_FLAG_MISSING, ATTR_GET_STR("a", v1),
                                   ATTR_GET_INT("n", &n), ATTR_END),
                         want);
        vstream_fdclose(fp);
        fp = stream_on(vstring_str(raw), cut);
        assert_int_equal(attr_scan_nv(fp, 0, nv), want < 0 ? -1 : 4);
        vstream_fdclose(fp);
    }
    attr_nv_free(nv);
}

static void test_many_pairs_socket(void **state)
{
    VSTREAM *a, *b;
    NVTABLE *out = attr_nv_create();
    NVTABLE *in = attr_nv_create();
    VSTRING *big = vstring_alloc(ATTR_VALUE_MAX);
    char name[32], value[32];
    pid_t pid;
    int status;

    (void)state;
    for (int i = 0; i < ATTR_COUNT_MAX - 1; i++) {
        snprintf(name, sizeof(name), "name%d", i);
        snprintf(value, sizeof(value), "value%d", i);
        attr_nv_update(out, name, value);
    }
    for (int i = 0; i < ATTR_VALUE_MAX; i++)
        vstring_addch(big, 'a' + i % 26);
    socket_pair(&a, &b);
    /* the writer runs in a child: more than a socket buffer of data */
    if ((pid = fork()) == 0) {
        vstream_fclose(b);
        _exit(attr_print(a, ATTR_NV(out), ATTR_STR("big", vstring_str(big)), ATTR_END) == 0 ? 0
                                                                                            : 1);
    }
    assert_true(pid > 0);
    vstream_fclose(a);
    assert_int_equal(
        attr_scan(b, ATTR_FLAG_STRICT, ATTR_GET_STR("big", v1), ATTR_GET_NV(in), ATTR_END), 1);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_string_equal(vstring_str(v1), vstring_str(big));
    assert_int_equal(in->used, ATTR_COUNT_MAX - 1);
    assert_string_equal(attr_nv_find(in, "name77"), "value77");
    vstream_fclose(b);
    attr_nv_free(out);
    attr_nv_free(in);
    vstring_free(big);
}

static void test_print_refuses(void **state)
{
    VSTREAM *a, *b;
    char *huge = mymalloc(ATTR_VALUE_HARD_MAX + 2);
    char c;

    (void)state;
    memset(huge, 'h', ATTR_VALUE_HARD_MAX + 1);
    huge[ATTR_VALUE_HARD_MAX + 1] = 0;
    socket_pair(&a, &b);
    /* refused before anything is written: the peer sees nothing at all */
    assert_int_equal(attr_print(a, ATTR_STR("ok", "1"), ATTR_STR("huge", huge), ATTR_END), -1);
    vstream_fclose(a);
    assert_int_equal(read(vstream_fileno(b), &c, 1), 0);
    vstream_fclose(b);
    myfree(huge);
}

static void test_print_to_closed_peer(void **state)
{
    VSTREAM *a, *b;

    (void)state;
    socket_pair(&a, &b);
    vstream_fclose(b);
    assert_int_equal(attr_print(a, ATTR_STR("x", "y"), ATTR_END), -1);
    vstream_fclose(a);
}

/* serve_one - child: accept one connection, answer one request */
static void serve_one(int listen_fd, int behaviour)
{
    VSTRING *name = vstring_alloc(10);
    long num = 0;
    VSTREAM *fp;
    int fd;

    while ((fd = accept(listen_fd, NULL, NULL)) < 0 && (errno == EAGAIN || errno == EINTR))
        usleep(1000);
    if (fd < 0)
        _exit(2);
    fp = vstream_fdopen(fd, O_RDWR);
    vstream_set_timeout(fp, 10);
    if (attr_scan(fp, ATTR_FLAG_STRICT, ATTR_GET_STR("request", name), ATTR_GET_INT("n", &num),
                  ATTR_END) != 2)
        _exit(3);
    if (behaviour == 0)
        attr_print(fp, ATTR_STR("status", "ok"), ATTR_STR("echo", vstring_str(name)),
                   ATTR_INT("n", num + 1), ATTR_END);
    else
        vstream_fwrite(fp, "status\0o", 8); /* cut short */
    vstream_fclose(fp);
    _exit(0);
}

static void test_clnt_request(void **state)
{
    char dir[] = "/tmp/test_attr_sock.XXXXXX";
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    long n = 0;
    int listen_fd, status;
    pid_t pid;

    (void)state;
    assert_non_null(mkdtemp(dir));
    vstring_sprintf(path, "%s/sock", dir);
    listen_fd = unix_listen(vstring_str(path), 10, 0600, why);
    assert_true(listen_fd >= 0);

    for (int behaviour = 0; behaviour < 2; behaviour++) {
        if ((pid = fork()) == 0)
            serve_one(listen_fd, behaviour);
        assert_true(pid > 0);
        vstring_reset(v1);
        int ret =
            attr_clnt_request(vstring_str(path), 10, ATTR_FLAG_STRICT, ATTR_STR("request", "ping"),
                              ATTR_INT("n", 41), ATTR_END, ATTR_GET_STR("status", v1),
                              ATTR_GET_STR("echo", v2), ATTR_GET_INT("n", &n), ATTR_END);
        if (behaviour == 0) {
            assert_int_equal(ret, 3);
            assert_string_equal(vstring_str(v1), "ok");
            assert_string_equal(vstring_str(v2), "ping");
            assert_int_equal(n, 42);
        } else {
            assert_int_equal(ret, -1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    close(listen_fd);
    unlink(vstring_str(path));

    /* nobody listens there any more */
    assert_int_equal(attr_clnt_request(vstring_str(path), 2, ATTR_FLAG_NONE, ATTR_STR("a", "b"),
                                       ATTR_END, ATTR_GET_STR("status", v1), ATTR_END),
                     -1);
    assert_int_equal(
        attr_clnt_request("/nonexistent/dir/sock", 2, ATTR_FLAG_NONE, ATTR_END, ATTR_END), -1);
    rmdir(dir);
    vstring_free(path);
    vstring_free(why);
}

static void test_clnt_stream(void **state)
{
    VSTREAM *a, *b;
    long n = 0;
    pid_t pid;
    int status;

    (void)state;
    socket_pair(&a, &b);
    if ((pid = fork()) == 0) {
        VSTRING *req = vstring_alloc(10);

        vstream_fclose(a);
        for (int i = 0; i < 3; i++) {
            if (attr_scan(b, ATTR_FLAG_STRICT, ATTR_GET_STR("q", req), ATTR_END) != 1)
                _exit(1);
            attr_print(b, ATTR_INT("len", (long)vstring_len(req)), ATTR_END);
        }
        _exit(0);
    }
    assert_true(pid > 0);
    vstream_fclose(b);
    assert_int_equal(attr_clnt_stream(a, ATTR_FLAG_STRICT, ATTR_STR("q", "abc"), ATTR_END,
                                      ATTR_GET_INT("len", &n), ATTR_END),
                     1);
    assert_int_equal(n, 3);
    assert_int_equal(attr_clnt_stream(a, ATTR_FLAG_STRICT, ATTR_STR("q", ""), ATTR_END,
                                      ATTR_GET_INT("len", &n), ATTR_END),
                     1);
    assert_int_equal(n, 0);
    assert_int_equal(attr_clnt_stream(a, ATTR_FLAG_STRICT, ATTR_STR("q", "12345678"), ATTR_END,
                                      ATTR_GET_INT("len", &n), ATTR_END),
                     1);
    assert_int_equal(n, 8);
    /* the server is gone: the next exchange fails */
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(attr_clnt_stream(a, ATTR_FLAG_STRICT, ATTR_STR("q", "x"), ATTR_END,
                                      ATTR_GET_INT("len", &n), ATTR_END),
                     -1);
    vstream_fclose(a);
}

/* log_size - bytes in the test log file */
static off_t log_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? st.st_size : 0;
}

static void test_logging(void **state)
{
    char log_path[] = "/tmp/test_attr_log.XXXXXX";
    int log_fd = mkstemp(log_path);
    VSTREAM *fp;
    char buf[4096];
    ssize_t n;

    (void)state;
    assert_true(log_fd >= 0);
    msg_set_logfile(log_path);
    /* a clean EOF before a list is a peer going away: silent */
    fp = stream_on("", 0);
    assert_int_equal(attr_scan(fp, ATTR_FLAG_NONE, ATTR_GET_STR("a", v1), ATTR_END), -1);
    assert_true(vstream_feof(fp));
    vstream_fdclose(fp);
    assert_int_equal(log_size(log_path), 0);
    /* EOF inside a list is a protocol error: logged */
    fp = stream_on("a\0b", 3);
    assert_int_equal(attr_scan(fp, ATTR_FLAG_NONE, ATTR_GET_STR("a", v1), ATTR_END), -1);
    vstream_fdclose(fp);
    assert_true(log_size(log_path) > 0);
    n = pread(log_fd, buf, sizeof(buf) - 1, 0);
    assert_true(n > 0);
    buf[n] = 0;
    assert_non_null(strstr(buf, "warning: "));
    assert_non_null(strstr(buf, "premature end-of-input"));
    msg_set_logfile("/dev/null");
    close(log_fd);
    unlink(log_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_wire_format),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_many_pairs_socket),
        cmocka_unit_test(test_print_refuses),
        cmocka_unit_test(test_print_to_closed_peer),
        cmocka_unit_test(test_clnt_request),
        cmocka_unit_test(test_clnt_stream),
        cmocka_unit_test(test_logging),
    };

    signal(SIGPIPE, SIG_IGN);
    msg_set_logfile("/dev/null");
    return cmocka_run_group_tests(tests, setup, teardown);
}
