/*
 * test_smtp_reply - reply lines, whole replies (multi-line, bare LF,
 * over-long and endless replies, malformed and truncated ones), RFC 3463
 * status extraction, EHLO keywords.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "argv.h"
#include "smtp_reply.h"
#include "vstream.h"
#include "vstring.h"

/* stream_from - a stream that reads the given bytes (a temporary file) */

static VSTREAM *stream_from(const char *data, size_t len)
{
    char path[] = "/tmp/test_smtp_reply.XXXXXX";
    int fd = mkstemp(path);
    VSTREAM *fp;

    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    lseek(fd, 0, SEEK_SET);
    fp = vstream_fdopen(fd, O_RDONLY);
    return fp;
}

static int read_one(const char *data, SMTP_REPLY *reply)
{
    VSTREAM *fp = stream_from(data, strlen(data));
    int rc = smtp_reply_read(fp, reply);

    vstream_fclose(fp);
    return rc;
}

static void test_parse_line(void **state)
{
    int code;
    int last;
    const char *text;

    (void)state;
    assert_int_equal(smtp_reply_parse_line("250 ok", 6, &code, &last, &text), 0);
    assert_int_equal(code, 250);
    assert_int_equal(last, 1);
    assert_string_equal(text, "ok");
    assert_int_equal(smtp_reply_parse_line("250-PIPELINING", 14, &code, &last, &text), 0);
    assert_int_equal(last, 0);
    assert_string_equal(text, "PIPELINING");
    assert_int_equal(smtp_reply_parse_line("354", 3, &code, &last, &text), 0);
    assert_int_equal(code, 354);
    assert_int_equal(last, 1);
    assert_string_equal(text, "");
    assert_int_equal(smtp_reply_parse_line("25 ok", 5, &code, &last, &text), -1);
    assert_int_equal(smtp_reply_parse_line("250ok", 5, &code, &last, &text), -1);
    assert_int_equal(smtp_reply_parse_line("abc ok", 6, &code, &last, &text), -1);
    assert_int_equal(smtp_reply_parse_line("", 0, &code, &last, &text), -1);
}

static void test_dsn_valid(void **state)
{
    (void)state;
    assert_int_equal(smtp_dsn_valid("5.1.1 user", 10), 5);
    assert_int_equal(smtp_dsn_valid("2.0.0", 5), 5);
    assert_int_equal(smtp_dsn_valid("4.123.456 x", 11), 9);
    assert_int_equal(smtp_dsn_valid("4.1234.1 x", 10), 0);
    assert_int_equal(smtp_dsn_valid("3.1.1 x", 7), 0);
    assert_int_equal(smtp_dsn_valid("5.1. x", 6), 0);
    assert_int_equal(smtp_dsn_valid("5.1.1x", 6), 0);
    assert_int_equal(smtp_dsn_valid("5..1", 4), 0);
    assert_int_equal(smtp_dsn_valid("", 0), 0);
}

static void test_single_and_multi(void **state)
{
    SMTP_REPLY *reply = smtp_reply_alloc();

    (void)state;
    assert_int_equal(read_one("250 2.1.0 Ok\r\n", reply), 250);
    assert_string_equal(reply->dsn, "2.1.0");
    assert_int_equal(reply->has_dsn, 1);
    assert_string_equal(vstring_str(reply->text), "250 2.1.0 Ok");

    assert_int_equal(
        read_one("550-5.7.1 first line\r\n550-5.7.1 second\r\n550 5.7.1 last\r\n", reply), 550);
    assert_string_equal(reply->dsn, "5.7.1");
    assert_string_equal(vstring_str(reply->text),
                        "550-5.7.1 first line 550-5.7.1 second 550 5.7.1 last");
    assert_int_equal(reply->lines->argc, 3);
    assert_string_equal(reply->lines->argv[2], "5.7.1 last");

    /* bare LF, no status: derived from the code */
    assert_int_equal(read_one("451 try later\n", reply), 451);
    assert_string_equal(reply->dsn, "4.0.0");
    assert_int_equal(reply->has_dsn, 0);
    /* a status whose class does not match the code is not used */
    assert_int_equal(read_one("550 2.0.0 odd\r\n", reply), 550);
    assert_string_equal(reply->dsn, "5.0.0");
    /* only the first reply is read */
    {
        VSTREAM *fp = stream_from("220 hi\r\n250 next\r\n", 18);

        assert_int_equal(smtp_reply_read(fp, reply), 220);
        assert_int_equal(smtp_reply_read(fp, reply), 250);
        assert_int_equal(smtp_reply_read(fp, reply), SMTP_REPLY_EOF);
        vstream_fclose(fp);
    }
    /* control characters in the text become spaces */
    assert_int_equal(read_one("250 a\tb\033c\r\n", reply), 250);
    assert_string_equal(vstring_str(reply->text), "250 a b c");
    smtp_reply_free(reply);
}

static void test_malformed(void **state)
{
    SMTP_REPLY *reply = smtp_reply_alloc();

    (void)state;
    assert_int_equal(read_one("hello\r\n", reply), SMTP_REPLY_BAD);
    assert_int_equal(read_one("250-first\r\nnot a reply\r\n", reply), SMTP_REPLY_BAD);
    assert_int_equal(read_one("250-first\r\n251 second\r\n", reply), SMTP_REPLY_BAD);
    assert_int_equal(read_one("199 too low\r\n", reply), SMTP_REPLY_BAD);
    assert_int_equal(read_one("600 too high\r\n", reply), SMTP_REPLY_BAD);
    /* cut short */
    assert_int_equal(read_one("250-first\r\n", reply), SMTP_REPLY_EOF);
    assert_int_equal(read_one("250 no line end", reply), SMTP_REPLY_EOF);
    assert_int_equal(read_one("", reply), SMTP_REPLY_EOF);
    smtp_reply_free(reply);
}

static void test_limits(void **state)
{
    SMTP_REPLY *reply = smtp_reply_alloc();
    VSTRING *big = vstring_alloc(100000);
    VSTREAM *fp;

    (void)state;
    /* an over-long line is cut, the next reply still reads */
    vstring_strcpy(big, "250 ");
    for (int i = 0; i < 10000; i++)
        vstring_addch(big, 'x');
    vstring_strcat(big, "\r\n221 bye\r\n");
    fp = stream_from(vstring_str(big), vstring_len(big));
    assert_int_equal(smtp_reply_read(fp, reply), 250);
    assert_true(vstring_len(reply->text) <= SMTP_REPLY_LINE_MAX);
    assert_int_equal(smtp_reply_read(fp, reply), 221);
    vstream_fclose(fp);

    /* many lines: the first SMTP_REPLY_LINES_MAX are kept */
    vstring_reset(big);
    for (int i = 0; i < 500; i++)
        vstring_strcat(big, "250-line\r\n");
    vstring_strcat(big, "250 end\r\n");
    assert_int_equal(read_one(vstring_str(big), reply), 250);
    assert_int_equal(reply->lines->argc, SMTP_REPLY_LINES_MAX);

    /* an endless reply is malformed */
    vstring_reset(big);
    for (int i = 0; i < SMTP_REPLY_READ_MAX + 10; i++)
        vstring_strcat(big, "250-line\r\n");
    vstring_strcat(big, "250 end\r\n");
    assert_int_equal(read_one(vstring_str(big), reply), SMTP_REPLY_BAD);
    vstring_free(big);
    smtp_reply_free(reply);
}

static void test_ehlo(void **state)
{
    SMTP_REPLY *reply = smtp_reply_alloc();
    ARGV *discard = argv_split("dsn, Pipelining", ARGV_DELIM_LIST);
    unsigned long long size;
    int bits;

    (void)state;
    assert_int_equal(read_one("250-mx.example.com hello\r\n250-PIPELINING\r\n"
                              "250-SIZE 10240000\r\n250-8BITMIME\r\n250-smtputf8\r\n"
                              "250-DSN\r\n250-AUTH=PLAIN\r\n250-STARTTLS\r\n"
                              "250-ENHANCEDSTATUSCODES\r\n250-PIPELININGX\r\n"
                              "250 CHUNKING\r\n",
                              reply),
                     250);
    bits = smtp_reply_ehlo(reply, NULL, &size);
    assert_int_equal(bits, SMTP_FEATURE_PIPELINING | SMTP_FEATURE_SIZE | SMTP_FEATURE_8BITMIME |
                               SMTP_FEATURE_SMTPUTF8 | SMTP_FEATURE_DSN | SMTP_FEATURE_AUTH |
                               SMTP_FEATURE_STARTTLS | SMTP_FEATURE_ENHANCEDSTATUSCODES |
                               SMTP_FEATURE_CHUNKING);
    assert_true(size == 10240000ULL);
    bits = smtp_reply_ehlo(reply, discard, &size);
    assert_int_equal(bits & (SMTP_FEATURE_PIPELINING | SMTP_FEATURE_DSN), 0);
    assert_true(bits & SMTP_FEATURE_SIZE);

    /* the greeting line is not a keyword; SIZE without a number, or a silly one */
    assert_int_equal(read_one("250-PIPELINING\r\n250 SIZE\r\n", reply), 250);
    assert_int_equal(smtp_reply_ehlo(reply, NULL, &size), SMTP_FEATURE_SIZE);
    assert_true(size == 0);
    assert_int_equal(read_one("250-x\r\n250 SIZE 99999999999999999999999\r\n", reply), 250);
    assert_int_equal(smtp_reply_ehlo(reply, NULL, &size), SMTP_FEATURE_SIZE);
    assert_true(size == 0);
    assert_int_equal(read_one("250-x\r\n250 SIZE -5\r\n", reply), 250);
    smtp_reply_ehlo(reply, NULL, &size);
    assert_true(size == 0);
    /* HELO-style single line: no features */
    assert_int_equal(read_one("250 mx.example.com\r\n", reply), 250);
    assert_int_equal(smtp_reply_ehlo(reply, NULL, &size), 0);
    argv_free(discard);
    smtp_reply_free(reply);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_line),       cmocka_unit_test(test_dsn_valid),
        cmocka_unit_test(test_single_and_multi), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),           cmocka_unit_test(test_ehlo),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
