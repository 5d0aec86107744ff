/*
 * test_vstream - buffered I/O: lines and limits, hostile input, timeouts,
 * errors, positioning and rewrite in place, custom hooks.
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
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vstream.h"
#include "vstring.h"

static void write_all(int fd, const void *buf, size_t len)
{
    assert_int_equal(write(fd, buf, len), (ssize_t) len);
}

/* make_pipe_with - a pipe whose read end is wrapped in a stream */
static VSTREAM *make_pipe_with(const void *data, size_t len, int close_writer, int *wfd)
{
    int fds[2];

    assert_int_equal(pipe(fds), 0);
    if (len)
        write_all(fds[1], data, len);
    if (close_writer) {
        close(fds[1]);
        if (wfd)
            *wfd = -1;
    } else {
        *wfd = fds[1];
    }
    return vstream_fdopen(fds[0], O_RDONLY);
}

static void test_lines(void **state)
{
    const char data[] = "one\r\ntwo\nthree";
    VSTREAM *vp = make_pipe_with(data, sizeof(data) - 1, 1, NULL);
    VSTRING *buf = vstring_alloc(10);

    (void) state;
    assert_int_equal(vstream_get_line(vp, buf, 100), '\n');
    assert_string_equal(vstring_str(buf), "one\r\n");
    assert_int_equal(vstream_get_line(vp, buf, 100), '\n');
    assert_string_equal(vstring_str(buf), "two\n");
    /* EOF mid-line: the partial line and its last byte */
    assert_int_equal(vstream_get_line(vp, buf, 100), 'e');
    assert_string_equal(vstring_str(buf), "three");
    assert_true(vstream_feof(vp));
    assert_false(vstream_ferror(vp));
    assert_int_equal(vstream_get_line(vp, buf, 100), VSTREAM_EOF);
    assert_int_equal(vstring_len(buf), 0);
    assert_int_equal(vstream_getc(vp), VSTREAM_EOF);
    vstring_free(buf);
    assert_int_equal(vstream_fclose(vp), 0);
}

static void test_long_line_limit(void **state)
{
    VSTRING *buf = vstring_alloc(10);
    VSTRING *data = vstring_alloc(30000);
    VSTREAM *vp;
    int wfd;
    size_t total = 0;

    (void) state;
    for (int i = 0; i < 20000; i++)
        vstring_addch(data, 'a' + i % 26);
    vstring_strcat(data, "\nnext\n");
    /* a pipe holds 64k by default, enough for this */
    vp = make_pipe_with(vstring_str(data), vstring_len(data), 0, &wfd);
    assert_int_equal(vstream_get_line(vp, buf, 1000), 'a' + 999 % 26);
    assert_int_equal(vstring_len(buf), 1000);
    assert_memory_equal(vstring_str(buf), vstring_str(data), 1000);
    total = 1000;
    /* the rest of the line stays readable */
    for (;;) {
        int ch = vstream_get_line(vp, buf, 1000);

        assert_int_not_equal(ch, VSTREAM_EOF);
        assert_true(vstring_len(buf) <= 1000);
        assert_memory_equal(vstring_str(buf), vstring_str(data) + total, vstring_len(buf));
        total += vstring_len(buf);
        if (ch == '\n')
            break;
    }
    assert_int_equal(total, 20001);
    assert_int_equal(vstream_get_line(vp, buf, 1000), '\n');
    assert_string_equal(vstring_str(buf), "next\n");
    /* limit that falls exactly after the newline is a whole line */
    write_all(wfd, "abc\n", 4);
    assert_int_equal(vstream_get_line(vp, buf, 4), '\n');
    assert_int_equal(vstring_len(buf), 4);
    close(wfd);
    assert_int_equal(vstream_get_line(vp, buf, 4), VSTREAM_EOF);
    vstring_free(buf);
    vstring_free(data);
    vstream_fclose(vp);
}

static void test_nul_bytes(void **state)
{
    const char data[] = "a\0b\0\nc\0";
    VSTREAM *vp = make_pipe_with(data, sizeof(data) - 1, 1, NULL);
    VSTRING *buf = vstring_alloc(1);

    (void) state;
    assert_int_equal(vstream_get_line(vp, buf, 100), '\n');
    assert_int_equal(vstring_len(buf), 5);
    assert_memory_equal(vstring_str(buf), "a\0b\0\n", 5);
    assert_int_equal(vstream_get_line(vp, buf, 100), 0);
    assert_int_equal(vstring_len(buf), 2);
    assert_memory_equal(vstring_str(buf), "c\0", 2);
    vstring_free(buf);
    vstream_fclose(vp);
}

static long elapsed_ms(const struct timespec *a, const struct timespec *b)
{
    return (b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

static void test_read_timeout(void **state)
{
    VSTREAM *vp;
    VSTRING *buf = vstring_alloc(10);
    struct timespec t0, t1;
    int wfd;

    (void) state;
    vp = make_pipe_with("partial", 7, 0, &wfd);
    vstream_set_timeout(vp, 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(vstream_get_line(vp, buf, 100), 'l');
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_string_equal(vstring_str(buf), "partial");
    assert_true(vstream_ftimeout(vp));
    assert_true(vstream_ferror(vp));
    assert_false(vstream_feof(vp));
    assert_true(elapsed_ms(&t0, &t1) >= 900);
    assert_true(elapsed_ms(&t0, &t1) <= 3000);
    /* sticky: no further wait */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(vstream_getc(vp), VSTREAM_EOF);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(elapsed_ms(&t0, &t1) < 500);
    /* cleared: data that arrives later is readable */
    vstream_clearerr(vp);
    write_all(wfd, "x", 1);
    assert_int_equal(vstream_getc(vp), 'x');
    close(wfd);
    vstring_free(buf);
    vstream_fclose(vp);
}

static void test_write_closed_pipe(void **state)
{
    int fds[2];
    VSTREAM *vp;
    char block[4096];

    (void) state;
    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(pipe(fds), 0);
    close(fds[0]);
    vp = vstream_fdopen(fds[1], O_WRONLY);
    memset(block, 'x', sizeof(block));
    assert_int_equal(vstream_fwrite(vp, block, 10), 0); /* buffered */
    assert_int_equal(vstream_fflush(vp), VSTREAM_EOF);
    assert_true(vstream_ferror(vp));
    assert_false(vstream_ftimeout(vp));
    assert_int_equal(vstream_fputs("more", vp), VSTREAM_EOF);
    assert_int_equal(vstream_fclose(vp), 0); /* nothing pending any more */
}

static void test_socket_no_sigpipe(void **state)
{
    int sv[2];
    VSTREAM *vp;

    (void) state;
    signal(SIGPIPE, SIG_DFL); /* the default hook must not raise it */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    vp = vstream_fdopen(sv[0], O_RDWR);
    vstream_set_timeout(vp, 2);
    vstream_fputs("hello\n", vp);
    assert_int_equal(vstream_fflush(vp), VSTREAM_EOF);
    assert_true(vstream_ferror(vp));
    vstream_fclose(vp);
    signal(SIGPIPE, SIG_IGN);
}

static void test_write_timeout(void **state)
{
    int sv[2];
    VSTREAM *vp;
    char block[65536];
    int rc = 0;

    (void) state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    vp = vstream_fdopen(sv[0], O_RDWR);
    vstream_set_timeout(vp, 1);
    memset(block, 'y', sizeof(block));
    for (int i = 0; i < 1000 && rc == 0; i++)
        rc = vstream_fwrite(vp, block, sizeof(block));
    assert_int_equal(rc, VSTREAM_EOF);
    assert_true(vstream_ftimeout(vp));
    vstream_fclose(vp);
    close(sv[1]);
}

static void test_pipelining(void **state)
{
    int sv[2];
    VSTREAM *vp;
    VSTRING *buf = vstring_alloc(10);
    char reply[100];

    (void) state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    write_all(sv[1], "MAIL FROM:<a>\r\nRCPT TO:<b>\r\nDATA\r\n", 34);
    vp = vstream_fdopen(sv[0], O_RDWR);
    vstream_set_timeout(vp, 2);
    assert_int_equal(vstream_get_line(vp, buf, 512), '\n');
    assert_string_equal(vstring_str(buf), "MAIL FROM:<a>\r\n");
    assert_int_equal(vstream_bufferred(vp), 34 - 15);
    vstream_fputs("250 ok\r\n", vp);
    /* output stays buffered while input is */
    assert_int_equal(recv(sv[1], reply, sizeof(reply), MSG_DONTWAIT), -1);
    assert_int_equal(vstream_get_line(vp, buf, 512), '\n');
    vstream_fputs("250 ok\r\n", vp);
    assert_int_equal(vstream_get_line(vp, buf, 512), '\n');
    assert_string_equal(vstring_str(buf), "DATA\r\n");
    assert_int_equal(vstream_bufferred(vp), 0);
    vstream_fputs("354 go\r\n", vp);
    /* purge then read: needs the descriptor, so output is flushed first */
    write_all(sv[1], "x", 1);
    assert_int_equal(vstream_getc(vp), 'x');
    assert_int_equal(recv(sv[1], reply, sizeof(reply), 0), 24);
    write_all(sv[1], "STARTTLS\r\nJUNK", 14);
    assert_int_equal(vstream_get_line(vp, buf, 512), '\n');
    assert_int_equal(vstream_bufferred(vp), 4);
    vstream_purge_input(vp);
    assert_int_equal(vstream_bufferred(vp), 0);
    vstring_free(buf);
    vstream_fclose(vp);
    close(sv[1]);
}

static char *temp_path(char *buf, size_t len)
{
    const char *dir = getenv("TMPDIR");

    snprintf(buf, len, "%s/vstream.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(buf);

    assert_true(fd >= 0);
    close(fd);
    return buf;
}

static void test_file_rewrite(void **state)
{
    char path[256];
    VSTREAM *vp;
    VSTRING *buf = vstring_alloc(10);
    off_t pos;

    (void) state;
    temp_path(path, sizeof(path));
    vp = vstream_fopen(path, O_RDWR | O_TRUNC, 0600);
    assert_non_null(vp);
    assert_string_equal(vstream_path(vp), path);
    vstream_fputs("R:alice\nR:bob\nE\n", vp);
    assert_int_equal(vstream_ftell(vp), 16);
    assert_int_equal(vstream_fsync(vp), 0);
    assert_int_equal(vstream_fseek(vp, 0, SEEK_SET), 0);
    assert_int_equal(vstream_get_line(vp, buf, 100), '\n');
    assert_int_equal(vstream_ftell(vp), 8);
    pos = vstream_ftell(vp);
    /* mark the second record done: overwrite its type byte in place */
    assert_int_equal(vstream_fseek(vp, pos, SEEK_SET), pos);
    assert_int_equal(vstream_putc('D', vp), 'D');
    assert_int_equal(vstream_fflush(vp), 0);
    assert_int_equal(vstream_fseek(vp, 0, SEEK_SET), 0);
    assert_int_equal(vstream_get_line(vp, buf, 100), '\n');
    assert_int_equal(vstream_get_line(vp, buf, 100), '\n');
    assert_string_equal(vstring_str(buf), "D:bob\n");
    /* a write after reads, without a seek, lands at the logical position */
    assert_int_equal(vstream_fseek(vp, 0, SEEK_SET), 0);
    assert_int_equal(vstream_getc(vp), 'R');
    assert_int_equal(vstream_putc('X', vp), 'X');
    assert_int_equal(vstream_getc(vp), 'a'); /* flushes, then reads on */
    assert_int_equal(vstream_fseek(vp, -1, SEEK_CUR), 2);
    assert_int_equal(vstream_getc(vp), 'a');
    assert_int_equal(vstream_fseek(vp, 0, SEEK_SET), 0);
    assert_int_equal(vstream_get_line(vp, buf, 100), '\n');
    assert_string_equal(vstring_str(buf), "RXalice\n");
    /* EOF is cleared by a seek */
    while (vstream_getc(vp) != VSTREAM_EOF)
        ;
    assert_true(vstream_feof(vp));
    assert_int_equal(vstream_fseek(vp, 0, SEEK_SET), 0);
    assert_false(vstream_feof(vp));
    assert_int_equal(vstream_getc(vp), 'R');
    assert_int_equal(vstream_fclose(vp), 0);
    unlink(path);
    vstring_free(buf);
}

static void test_fopen_fail(void **state)
{
    (void) state;
    errno = 0;
    assert_null(vstream_fopen("/nonexistent/dir/file", O_RDONLY, 0));
    assert_int_equal(errno, ENOENT);
}

static void test_ungetc_fread(void **state)
{
    const char data[] = "hello world";
    VSTREAM *vp = make_pipe_with(data, sizeof(data) - 1, 1, NULL);
    char out[64];

    (void) state;
    assert_int_equal(vstream_ungetc(vp, 'z'), VSTREAM_EOF); /* nothing read yet */
    assert_int_equal(vstream_getc(vp), 'h');
    assert_int_equal(vstream_ungetc(vp, 'H'), 'H');
    assert_int_equal(vstream_fread(vp, out, 5), 5);
    assert_memory_equal(out, "Hello", 5);
    assert_int_equal(vstream_fread(vp, out, sizeof(out)), 6);
    assert_memory_equal(out, " world", 6);
    assert_true(vstream_feof(vp));
    vstream_fclose(vp);
}

static void test_big_transfer(void **state)
{
    int sv[2];
    VSTREAM *in, *out;
    pid_t pid;
    int status;
    size_t total = 0;
    char buf[3000];
    ssize_t n;

    (void) state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sv[0]);
        out = vstream_fdopen(sv[1], O_WRONLY);
        vstream_set_timeout(out, 5);
        for (int i = 0; i < 1000; i++)
            vstream_fprintf(out, "%0999d\n", i);
        _exit(vstream_fclose(out) == 0 ? 0 : 1);
    }
    close(sv[1]);
    in = vstream_fdopen(sv[0], O_RDONLY);
    vstream_set_timeout(in, 5);
    while ((n = vstream_fread(in, buf, sizeof(buf))) > 0)
        total += (size_t) n;
    assert_int_equal(total, 1000 * 1000);
    assert_true(vstream_feof(in));
    assert_false(vstream_ferror(in));
    vstream_fclose(in);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(status, 0);
}

/* custom hooks: rot13 on both directions, counting calls */
static int hook_calls;

static ssize_t rot_read(int fd, void *buf, size_t len, int timeout, void *context)
{
    ssize_t n = read(fd, buf, len);

    (void) timeout;
    hook_calls += *(int *) context;
    for (ssize_t i = 0; i < n; i++) {
        char *c = (char *) buf + i;

        if (*c >= 'a' && *c <= 'z')
            *c = (char) ('a' + (*c - 'a' + 13) % 26);
    }
    return n;
}

static ssize_t rot_write(int fd, void *buf, size_t len, int timeout, void *context)
{
    char tmp[VSTREAM_BUFSIZE * 2];

    (void) timeout;
    hook_calls += *(int *) context;
    if (len > sizeof(tmp))
        len = sizeof(tmp);
    for (size_t i = 0; i < len; i++) {
        char c = ((char *) buf)[i];

        tmp[i] = (c >= 'a' && c <= 'z') ? (char) ('a' + (c - 'a' + 13) % 26) : c;
    }
    return write(fd, tmp, len);
}

static void test_io_hooks(void **state)
{
    int sv[2];
    VSTREAM *a, *b;
    VSTRING *buf = vstring_alloc(10);
    int one = 1;

    (void) state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    a = vstream_fdopen(sv[0], O_RDWR);
    b = vstream_fdopen(sv[1], O_RDWR);
    vstream_set_io(a, rot_read, rot_write, &one);
    vstream_fputs("hello\n", a);
    vstream_fflush(a);
    assert_int_equal(vstream_get_line(b, buf, 100), '\n');
    assert_string_equal(vstring_str(buf), "uryyb\n");
    vstream_fputs("uryyb\n", b);
    vstream_fflush(b);
    assert_int_equal(vstream_get_line(a, buf, 100), '\n');
    assert_string_equal(vstring_str(buf), "hello\n");
    assert_int_equal(hook_calls, 2);
    vstream_set_io(a, NULL, NULL, NULL);
    vstream_fputs("plain\n", a);
    vstream_fflush(a);
    assert_int_equal(vstream_get_line(b, buf, 100), '\n');
    assert_string_equal(vstring_str(buf), "plain\n");
    assert_int_equal(hook_calls, 2);
    vstring_free(buf);
    vstream_fclose(a);
    vstream_fclose(b);
}

static void test_wrong_direction(void **state)
{
    int fds[2];
    VSTREAM *r, *w;

    (void) state;
    assert_int_equal(pipe(fds), 0);
    r = vstream_fdopen(fds[0], O_RDONLY);
    w = vstream_fdopen(fds[1], O_WRONLY);
    assert_int_equal(vstream_fputs("x", r), VSTREAM_EOF);
    assert_true(vstream_ferror(r));
    assert_int_equal(vstream_getc(w), VSTREAM_EOF);
    assert_true(vstream_ferror(w));
    vstream_fclose(r);
    vstream_fclose(w);
}

static void test_fdclose_keeps_fd(void **state)
{
    int fds[2];
    VSTREAM *w;
    char c;

    (void) state;
    assert_int_equal(pipe(fds), 0);
    w = vstream_fdopen(fds[1], O_WRONLY);
    vstream_putc('q', w);
    assert_int_equal(vstream_fdclose(w), 0);
    assert_int_equal(write(fds[1], "r", 1), 1);
    assert_int_equal(read(fds[0], &c, 1), 1);
    assert_int_equal(c, 'q');
    close(fds[0]);
    close(fds[1]);
}

static void test_std(void **state)
{
    (void) state;
    assert_ptr_equal(VSTREAM_OUT, vstream_std(1));
    assert_int_equal(vstream_fileno(VSTREAM_ERR), 2);
    assert_string_equal(vstream_path(VSTREAM_IN), "stdin");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_long_line_limit),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_read_timeout),
        cmocka_unit_test(test_write_closed_pipe),
        cmocka_unit_test(test_socket_no_sigpipe),
        cmocka_unit_test(test_write_timeout),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_file_rewrite),
        cmocka_unit_test(test_fopen_fail),
        cmocka_unit_test(test_ungetc_fread),
        cmocka_unit_test(test_big_transfer),
        cmocka_unit_test(test_io_hooks),
        cmocka_unit_test(test_wrong_direction),
        cmocka_unit_test(test_fdclose_keeps_fd),
        cmocka_unit_test(test_std),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
