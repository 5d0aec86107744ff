/*
 * NAME
 *	test_maildir - unit tests for Maildir delivery and message copying
 * SYNOPSIS
 *	build/unit/test_maildir
 * DESCRIPTION
 *	maildir_deliver(): directories created, exactly one complete file in
 *	new/ and nothing left in tmp/, unique names for many deliveries,
 *	size limit (bounce, nothing left), writer read error (defer, nothing
 *	left), a path that cannot be a directory (defer); stable names:
 *	a second delivery of the same copy, also by several processes at
 *	once, leaves exactly one file.
 *	mailbox_copy() from a real queue file: the envelope lines each flag
 *	adds and their order, the null sender, long lines stored in pieces,
 *	"From " quoting, a blank line at the end, a corrupt queue file.
 *	mailbox_header_find(): folded, case-insensitive Delivered-To tests
 *	that stop at the body.
 */
#include <dirent.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "maildir.h"
#include "mailbox_copy.h"
#include "mymalloc.h"
#include "rec.h"
#include "vstream.h"
#include "vstring.h"

static char dir[256];

static int setup_dir(void **state)
{
    const char *base = getenv("TMPDIR");

    (void)state;
    snprintf(dir, sizeof(dir), "%s/maildir.XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[300];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* count_entries - files in a directory, name of the last one */
static int count_entries(const char *path, char *last, size_t size)
{
    DIR *dp = opendir(path);
    struct dirent *de;
    int n = 0;

    if (dp == NULL)
        return -1;
    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        n++;
        if (last)
            snprintf(last, size, "%s/%s", path, de->d_name);
    }
    closedir(dp);
    return n;
}

static char *slurp(const char *path)
{
    VSTRING *out = vstring_alloc(100);
    char buf[4096];
    ssize_t n;
    int fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        vstring_memcat(out, buf, (size_t)n);
    close(fd);
    return vstring_export(out);
}

/* a writer that writes a fixed text */
static int write_text(VSTREAM *dst, void *context, VSTRING *why)
{
    vstream_fputs((const char *)context, dst);
    if (vstream_fflush(dst) == VSTREAM_EOF) {
        vstring_strcpy(why, "error writing message");
        return MAILBOX_COPY_ERR_WRITE;
    }
    return MAILBOX_COPY_OK;
}

/* a writer that writes a little, then fails to read its source */
static int write_then_fail(VSTREAM *dst, void *context, VSTRING *why)
{
    (void)context;
    vstream_fputs("partial\n", dst);
    vstream_fflush(dst);
    vstring_strcpy(why, "error reading message: test");
    return MAILBOX_COPY_ERR_READ;
}

static void test_deliver(void **state)
{
    VSTRING *dsn = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);
    VSTRING *name = vstring_alloc(10);
    char md[300], sub[320], last[600];
    char *text;

    (void)state;
    snprintf(md, sizeof(md), "%s/a/b/Maildir/", dir);
    assert_int_equal(
        maildir_deliver(md, NULL, 0, write_text, "Subject: hi\n\nbody\n", dsn, why, name),
        MAILBOX_OK);
    snprintf(sub, sizeof(sub), "%s/a/b/Maildir/new", dir);
    assert_int_equal(count_entries(sub, last, sizeof(last)), 1);
    assert_string_equal(last, vstring_str(name));
    text = slurp(last);
    assert_string_equal(text, "Subject: hi\n\nbody\n");
    myfree(text);
    snprintf(sub, sizeof(sub), "%s/a/b/Maildir/tmp", dir);
    assert_int_equal(count_entries(sub, NULL, 0), 0);
    snprintf(sub, sizeof(sub), "%s/a/b/Maildir/cur", dir);
    assert_int_equal(count_entries(sub, NULL, 0), 0);

    /* the name has no '/' or ':' and starts with the time */
    assert_null(strchr(strrchr(last, '/') + 1, ':'));
    assert_true(strchr(strrchr(last, '/') + 1, '.') != NULL);

    vstring_free(dsn);
    vstring_free(why);
    vstring_free(name);
}

static void test_unique_names(void **state)
{
    VSTRING *dsn = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);
    char md[300], sub[320];

    (void)state;
    snprintf(md, sizeof(md), "%s/many", dir);
    for (int i = 0; i < 200; i++)
        assert_int_equal(maildir_deliver(md, NULL, 0, write_text, "x\n", dsn, why, NULL),
                         MAILBOX_OK);
    snprintf(sub, sizeof(sub), "%s/many/new", dir);
    assert_int_equal(count_entries(sub, NULL, 0), 200);
    vstring_free(dsn);
    vstring_free(why);
}

static void test_limit_and_errors(void **state)
{
    VSTRING *dsn = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);
    char md[300], sub[320], big[5000];
    int fd;

    (void)state;
    memset(big, 'a', sizeof(big) - 2);
    big[sizeof(big) - 2] = '\n';
    big[sizeof(big) - 1] = 0;
    snprintf(md, sizeof(md), "%s/lim", dir);

    /* over the limit: bounced as mailbox full, nothing anywhere */
    assert_int_equal(maildir_deliver(md, NULL, 1000, write_text, big, dsn, why, NULL),
                     MAILBOX_BOUNCE);
    assert_string_equal(vstring_str(dsn), "5.2.2");
    assert_non_null(strstr(vstring_str(why), "error writing message: File too large"));
    snprintf(sub, sizeof(sub), "%s/lim/new", dir);
    assert_int_equal(count_entries(sub, NULL, 0), 0);
    snprintf(sub, sizeof(sub), "%s/lim/tmp", dir);
    assert_int_equal(count_entries(sub, NULL, 0), 0);

    /* under the limit */
    assert_int_equal(maildir_deliver(md, NULL, 10000, write_text, big, dsn, why, NULL), MAILBOX_OK);

    /* the writer cannot read the queue file: deferred, nothing left */
    assert_int_equal(maildir_deliver(md, NULL, 0, write_then_fail, NULL, dsn, why, NULL),
                     MAILBOX_DEFER);
    assert_string_equal(vstring_str(dsn), "4.3.0");
    assert_string_equal(vstring_str(why), "error reading message: test");
    snprintf(sub, sizeof(sub), "%s/lim/new", dir);
    assert_int_equal(count_entries(sub, NULL, 0), 1);
    snprintf(sub, sizeof(sub), "%s/lim/tmp", dir);
    assert_int_equal(count_entries(sub, NULL, 0), 0);

    /* a file where a directory must be: deferred */
    snprintf(md, sizeof(md), "%s/plainfile", dir);
    fd = open(md, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(maildir_deliver(md, NULL, 0, write_text, "x\n", dsn, why, NULL),
                     MAILBOX_DEFER);
    assert_string_equal(vstring_str(dsn), "4.2.0");
    assert_non_null(strstr(vstring_str(why), "create maildir directory"));

    /* a symbolic link to a maildir is followed */
    snprintf(sub, sizeof(sub), "%s/link", dir);
    snprintf(md, sizeof(md), "%s/lim", dir);
    assert_int_equal(symlink(md, sub), 0);
    assert_int_equal(maildir_deliver(sub, NULL, 0, write_text, "x\n", dsn, why, NULL), MAILBOX_OK);
    snprintf(sub, sizeof(sub), "%s/lim/new", dir);
    assert_int_equal(count_entries(sub, NULL, 0), 2);

    vstring_free(dsn);
    vstring_free(why);
}

static void test_stable_name(void **state)
{
    VSTRING *dsn = vstring_alloc(10);
    VSTRING *why = vstring_alloc(10);
    VSTRING *name = vstring_alloc(10);
    char md[300], sub[320], last[600];
    char *text;
    pid_t pids[8];
    int status;

    (void)state;
    snprintf(md, sizeof(md), "%s/stable", dir);
    assert_int_equal(
        maildir_deliver(md, "1700000000.QABC123R456", 0, write_text, "one\n", dsn, why, name),
        MAILBOX_OK);
    assert_non_null(strstr(vstring_str(name), "/new/1700000000.QABC123R456."));
    /* the same copy again: nothing new, the first one kept */
    assert_int_equal(
        maildir_deliver(md, "1700000000.QABC123R456", 0, write_text, "two\n", dsn, why, NULL),
        MAILBOX_OK);
    snprintf(sub, sizeof(sub), "%s/stable/new", dir);
    assert_int_equal(count_entries(sub, last, sizeof(last)), 1);
    text = slurp(last);
    assert_string_equal(text, "one\n");
    myfree(text);
    /* another copy */
    assert_int_equal(
        maildir_deliver(md, "1700000000.QABC123R789", 0, write_text, "3\n", dsn, why, NULL),
        MAILBOX_OK);
    assert_int_equal(count_entries(sub, NULL, 0), 2);

    /* eight processes deliver the same copy at once: one file, no tmp left */
    for (int i = 0; i < 8; i++) {
        if ((pids[i] = fork()) == 0)
            _exit(maildir_deliver(md, "1700000001.QRACER1", 0, write_text, "race\n", dsn, why,
                                  NULL) == MAILBOX_OK
                      ? 0
                      : 1);
    }
    for (int i = 0; i < 8; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_int_equal(count_entries(sub, NULL, 0), 3);
    snprintf(sub, sizeof(sub), "%s/stable/tmp", dir);
    assert_int_equal(count_entries(sub, NULL, 0), 0);
    vstring_free(dsn);
    vstring_free(why);
    vstring_free(name);
}

/* make_queue_file - a queue file with the given content lines; returns its stream */
static VSTREAM *make_queue_file(const char *const *lines, int nlines, size_t piece, off_t *offset)
{
    char path[320];
    VSTREAM *fp;

    snprintf(path, sizeof(path), "%s/queuefile.XXXXXX", dir);
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    unlink(path);
    fp = vstream_fdopen(fd, O_RDWR);
    rec_fprintf(fp, REC_TYPE_TIME, "%ld.0", 1000000000L);
    rec_fprintf(fp, REC_TYPE_FROM, "%s", "sender@example.com");
    rec_fprintf(fp, REC_TYPE_RCPT, "%s", "rcpt@example.com");
    vstream_fflush(fp);
    *offset = vstream_ftell(fp);
    rec_put(fp, REC_TYPE_MESG, "", 0);
    for (int i = 0; i < nlines; i++)
        rec_put_line(fp, lines[i], strlen(lines[i]), piece);
    rec_put(fp, REC_TYPE_XTRA, "", 0);
    rec_put(fp, REC_TYPE_END, "", 0);
    assert_int_equal(vstream_fflush(fp), 0);
    return fp;
}

/* copy_to_string - run mailbox_copy into a temporary file and read it back */
static char *copy_to_string(MAILBOX_SRC *src, int *rc, VSTRING *why)
{
    char path[320];
    VSTREAM *out;
    char *text;

    snprintf(path, sizeof(path), "%s/copy.out", dir);
    out = vstream_fopen(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_non_null(out);
    *rc = mailbox_copy(out, src, why);
    vstream_fclose(out);
    text = slurp(path);
    unlink(path);
    return text;
}

static void test_copy(void **state)
{
    static const char *const lines[] = {
        "Subject: test",
        "From: a@example.com",
        "",
        "From here on",
        ">From is left alone",
        "a very long line that is stored in several pieces",
        "From the last line",
    };
    VSTRING *why = vstring_alloc(10);
    MAILBOX_SRC src;
    off_t offset;
    char *text;
    int rc;

    (void)state;
    memset(&src, 0, sizeof(src));
    src.queue = make_queue_file(lines, 7, 7, &offset);
    src.data_offset = offset;
    src.sender = "sender@example.com";
    src.delivered = "user@example.com";
    src.orig_rcpt = "alias@example.com";
    src.now = 1000000000;

    /* maildir style: envelope headers, no quoting, no blank line */
    src.flags = MAILBOX_COPY_MAILDIR;
    text = copy_to_string(&src, &rc, why);
    assert_int_equal(rc, MAILBOX_COPY_OK);
    assert_string_equal(text, "Return-Path: <sender@example.com>\n"
                              "Delivered-To: user@example.com\n"
                              "X-Original-To: alias@example.com\n"
                              "Subject: test\n"
                              "From: a@example.com\n"
                              "\n"
                              "From here on\n"
                              ">From is left alone\n"
                              "a very long line that is stored in several pieces\n"
                              "From the last line\n");
    myfree(text);

    /* mbox style: From line, quoting, blank line; null sender */
    src.flags = MAILBOX_COPY_MBOX;
    src.sender = "";
    src.orig_rcpt = NULL;
    text = copy_to_string(&src, &rc, why);
    assert_int_equal(rc, MAILBOX_COPY_OK);
    assert_true(strncmp(text, "From MAILER-DAEMON ", 19) == 0);
    assert_non_null(strstr(text, " 2001\nReturn-Path: <>\nDelivered-To: user@example.com\n"
                                 "Subject: test\n"));
    assert_null(strstr(text, "X-Original-To"));
    assert_non_null(strstr(text, "\n\n>From here on\n>From is left alone\n"));
    assert_true(strlen(text) > 21);
    assert_string_equal(text + strlen(text) - 22, "\n>From the last line\n\n");
    myfree(text);

    /* a sender that needs quoting */
    src.flags = MAILBOX_COPY_RETURN;
    src.sender = "a b@example.com";
    text = copy_to_string(&src, &rc, why);
    assert_true(strncmp(text, "Return-Path: <\"a b\"@example.com>\n", 33) == 0);
    myfree(text);

    /* a bad offset: read error */
    src.data_offset = offset + 1;
    text = copy_to_string(&src, &rc, why);
    assert_int_equal(rc, MAILBOX_COPY_ERR_READ);
    assert_non_null(strstr(vstring_str(why), "error reading message"));
    myfree(text);

    vstream_fclose(src.queue);
    vstring_free(why);
}

static void test_copy_truncated(void **state)
{
    VSTRING *why = vstring_alloc(10);
    MAILBOX_SRC src;
    char path[320];
    off_t offset;
    VSTREAM *fp;
    char *text;
    int rc;

    (void)state;
    snprintf(path, sizeof(path), "%s/trunc.XXXXXX", dir);
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    unlink(path);
    fp = vstream_fdopen(fd, O_RDWR);
    offset = 0;
    rec_put(fp, REC_TYPE_MESG, "", 0);
    rec_put(fp, REC_TYPE_NORM, "line", 4);
    vstream_fflush(fp); /* no XTRA: the file ends early */
    memset(&src, 0, sizeof(src));
    src.queue = fp;
    src.data_offset = offset;
    src.sender = "s@x";
    text = copy_to_string(&src, &rc, why);
    assert_int_equal(rc, MAILBOX_COPY_ERR_READ);
    assert_non_null(strstr(vstring_str(why), "premature end of file"));
    myfree(text);
    vstream_fclose(fp);
    vstring_free(why);
}

static void test_header_find(void **state)
{
    static const char *const lines[] = {
        "Received: from x",
        "\tby y",
        "delivered-to:   User@Example.com  ",
        "Delivered-To: other@example.com,",
        " folded@example.com",
        "Subject: s",
        "",
        "Delivered-To: body@example.com",
    };
    VSTREAM *fp;
    off_t offset;

    (void)state;
    fp = make_queue_file(lines, 8, 2048, &offset);
    assert_int_equal(mailbox_header_find(fp, offset, "Delivered-To", "user@example.com"), 1);
    assert_int_equal(mailbox_header_find(fp, offset, "DELIVERED-TO", "USER@EXAMPLE.COM"), 1);
    assert_int_equal(mailbox_header_find(fp, offset, "Delivered-To", "user@example"), 0);
    assert_int_equal(
        mailbox_header_find(fp, offset, "Delivered-To", "other@example.com, folded@example.com"),
        1);
    assert_int_equal(mailbox_header_find(fp, offset, "Delivered-To", "body@example.com"), 0);
    assert_int_equal(mailbox_header_find(fp, offset, "Subject", "s"), 1);
    assert_int_equal(mailbox_header_find(fp, offset + 3, "Subject", "s"), -1);
    vstream_fclose(fp);

    /* a message without headers, and one whose last header ends the content */
    static const char *const body_only[] = {"just text", "From: not a header now"};
    fp = make_queue_file(body_only, 2, 2048, &offset);
    assert_int_equal(mailbox_header_find(fp, offset, "From", "not a header now"), 0);
    vstream_fclose(fp);
    static const char *const last_hdr[] = {"X-A: 1", "Delivered-To: last@x"};
    fp = make_queue_file(last_hdr, 2, 2048, &offset);
    assert_int_equal(mailbox_header_find(fp, offset, "Delivered-To", "last@x"), 1);
    vstream_fclose(fp);
}

static void test_dsn(void **state)
{
    (void)state;
    assert_string_equal(mailbox_dsn(EDQUOT, "4.2.0"), "5.2.2");
    assert_string_equal(mailbox_dsn(EFBIG, "4.2.0"), "5.2.2");
    assert_string_equal(mailbox_dsn(ENOSPC, "5.2.0"), "4.3.0");
    assert_string_equal(mailbox_dsn(EAGAIN, "5.2.0"), "4.2.0");
    assert_string_equal(mailbox_dsn(EACCES, "4.2.0"), "4.2.0");
    assert_int_equal(mailbox_status("5.1.1"), MAILBOX_BOUNCE);
    assert_int_equal(mailbox_status("4.3.0"), MAILBOX_DEFER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deliver),
        cmocka_unit_test(test_unique_names),
        cmocka_unit_test(test_limit_and_errors),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_copy_truncated),
        cmocka_unit_test(test_header_find),
        cmocka_unit_test(test_dsn),
        cmocka_unit_test(test_stable_name),
    };

    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
