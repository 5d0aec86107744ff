/*
 * NAME
 *	test_showq_proto - unit tests for the showq listing protocol
 * SYNOPSIS
 *	build/unit/test_showq_proto
 * DESCRIPTION
 *	A listing written by showq_send_message()/showq_send_end() reads
 *	back field for field (also with thousands of recipients and with
 *	no message at all); values that are not printable arrive as '?'
 *	(control characters, broken UTF-8) while UTF-8 is kept; a listing
 *	that ends early, a missing or unknown attribute, bad numbers, a
 *	recipient count over the limit, a failed status and a status list
 *	with extra names are all refused.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "attr.h"
#include "msg.h"
#include "showq_proto.h"
#include "vstream.h"
#include "vstring.h"

static char path[] = "/tmp/test_showq_proto.XXXXXX";

static VSTREAM *start_write(void)
{
    VSTREAM *fp = vstream_fopen(path, O_WRONLY | O_TRUNC, 0600);

    assert_non_null(fp);
    return fp;
}

static VSTREAM *start_read(VSTREAM *wr)
{
    VSTREAM *fp;

    assert_int_equal(vstream_fclose(wr), 0);
    fp = vstream_fopen(path, O_RDONLY, 0);
    assert_non_null(fp);
    return fp;
}

static void test_roundtrip(void **state)
{
    SHOWQ_MSG *msg = showq_msg_alloc();
    SHOWQ_MSG *got = showq_msg_alloc();
    VSTREAM *fp = start_write();
    char addr[64];

    (void)state;
    showq_msg_set(&msg->queue_name, "deferred");
    showq_msg_set(&msg->queue_id, "ABCDE12345");
    showq_msg_set(&msg->sender, "\"a b\"@example.com");
    msg->arrival_time = 1700000000;
    msg->message_size = 4242;
    msg->forced_expire = 1;
    showq_msg_add_rcpt(msg, "x@example.net", "connect: refused");
    showq_msg_add_rcpt(msg, "y@example.net", "");
    assert_int_equal(showq_send_message(fp, msg), 0);
    showq_msg_reset(msg);
    showq_msg_set(&msg->queue_name, "hold");
    showq_msg_set(&msg->queue_id, "FFFFF1");
    for (int i = 0; i < 3000; i++) {
        snprintf(addr, sizeof(addr), "r%d@example.org", i);
        showq_msg_add_rcpt(msg, addr, i % 2 ? "odd" : "");
    }
    assert_int_equal(showq_send_message(fp, msg), 0);
    assert_int_equal(showq_send_end(fp), 0);
    fp = start_read(fp);

    assert_int_equal(showq_read(fp, got), 1);
    assert_string_equal(got->queue_name, "deferred");
    assert_string_equal(got->queue_id, "ABCDE12345");
    assert_string_equal(got->sender, "\"a b\"@example.com");
    assert_int_equal(got->arrival_time, 1700000000);
    assert_int_equal(got->message_size, 4242);
    assert_int_equal(got->forced_expire, 1);
    assert_int_equal(got->rcpt_count, 2);
    assert_string_equal(got->rcpt[0].address, "x@example.net");
    assert_string_equal(got->rcpt[0].reason, "connect: refused");
    assert_string_equal(got->rcpt[1].reason, "");

    assert_int_equal(showq_read(fp, got), 1);
    assert_string_equal(got->queue_name, "hold");
    assert_int_equal(got->forced_expire, 0);
    assert_int_equal(got->rcpt_count, 3000);
    assert_string_equal(got->rcpt[2999].address, "r2999@example.org");
    assert_string_equal(got->rcpt[2999].reason, "odd");
    assert_string_equal(got->rcpt[2998].reason, "");

    assert_int_equal(showq_read(fp, got), 0);
    assert_int_equal(got->rcpt_count, 0);
    vstream_fclose(fp);

    /* an empty listing */
    fp = start_write();
    assert_int_equal(showq_send_end(fp), 0);
    fp = start_read(fp);
    assert_int_equal(showq_read(fp, got), 0);
    vstream_fclose(fp);
    showq_msg_free(msg);
    showq_msg_free(got);
}

static void test_printable(void **state)
{
    VSTRING *out = vstring_alloc(10);

    (void)state;
    assert_string_equal(showq_printable(out, "plain text"), "plain text");
    assert_string_equal(showq_printable(out, "a\tb\nc\033[1md\x7f"), "a?b?c?[1md?");
    assert_string_equal(showq_printable(out, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
                        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    assert_string_equal(showq_printable(out, "\xc3"), "?");
    assert_string_equal(showq_printable(out, "\xc3x"), "?x");
    assert_string_equal(showq_printable(out, "\xc0\xaf"), "??");
    assert_string_equal(showq_printable(out, "\xed\xa0\x80"), "???");
    assert_string_equal(showq_printable(out, "\xf4\x90\x80\x80"), "????");
    assert_string_equal(showq_printable(out, "\xe2\x82"), "??");
    /* in place */
    vstring_strcpy(out, "x\001y");
    assert_string_equal(showq_printable(out, vstring_str(out)), "x?y");
    assert_int_equal(showq_utf8_len("\xc3\xa9"), 2);
    assert_int_equal(showq_utf8_len("\xf0\x9f\x98\x80"), 4);
    assert_int_equal(showq_utf8_len("\xf0\x9f\x98"), 0);
    assert_int_equal(showq_utf8_len("a"), 0);
    vstring_free(out);
}

static void test_printable_on_read(void **state)
{
    SHOWQ_MSG *got = showq_msg_alloc();
    VSTREAM *fp = start_write();

    (void)state;
    attr_print(fp, ATTR_STR("queue_name", "deferred"), ATTR_STR("queue_id", "ABC\033DE1"),
               ATTR_INT("arrival_time", 1), ATTR_INT("message_size", 2),
               ATTR_INT("forced_expire", 0), ATTR_STR("sender", "s\x01@x"),
               ATTR_INT("rcpt_count", 1), ATTR_END);
    attr_print(fp, ATTR_STR("address", "r\xff@x"), ATTR_STR("delay_reason", "why\r\n"), ATTR_END);
    showq_send_end(fp);
    fp = start_read(fp);
    assert_int_equal(showq_read(fp, got), 1);
    assert_string_equal(got->queue_id, "ABC?DE1");
    assert_string_equal(got->sender, "s?@x");
    assert_string_equal(got->rcpt[0].address, "r?@x");
    assert_string_equal(got->rcpt[0].reason, "why??");
    vstream_fclose(fp);
    showq_msg_free(got);
}

/* expect_bad - the bytes written by fn() must not read as a listing */

static void expect_bad(void (*fn)(VSTREAM *))
{
    SHOWQ_MSG *got = showq_msg_alloc();
    VSTREAM *fp = start_write();
    int ret;

    fn(fp);
    fp = start_read(fp);
    while ((ret = showq_read(fp, got)) > 0)
        /* skip good messages before the bad part */;
    assert_int_equal(ret, -1);
    vstream_fclose(fp);
    showq_msg_free(got);
}

static void msg_head(VSTREAM *fp, const char *count, const char *expire, const char *size)
{
    attr_print(fp, ATTR_STR("queue_name", "deferred"), ATTR_STR("queue_id", "ABCDE1"),
               ATTR_INT("arrival_time", 1), ATTR_STR("message_size", size),
               ATTR_STR("forced_expire", expire), ATTR_STR("sender", "s@x"),
               ATTR_STR("rcpt_count", count), ATTR_END);
}

static void bad_nothing(VSTREAM *fp)
{
    (void)fp;
}

static void bad_no_end(VSTREAM *fp)
{
    msg_head(fp, "0", "0", "1");
}

static void bad_short(VSTREAM *fp)
{
    msg_head(fp, "2", "0", "1");
    attr_print(fp, ATTR_STR("address", "a@x"), ATTR_STR("delay_reason", ""), ATTR_END);
    showq_send_end(fp); /* read as the second recipient: refused */
}

static void bad_count(VSTREAM *fp)
{
    msg_head(fp, "10000001", "0", "1");
}

static void bad_negative(VSTREAM *fp)
{
    msg_head(fp, "-1", "0", "1");
}

static void bad_expire(VSTREAM *fp)
{
    msg_head(fp, "0", "2", "1");
}

static void bad_size(VSTREAM *fp)
{
    msg_head(fp, "0", "0", "12x");
}

static void bad_missing(VSTREAM *fp)
{
    attr_print(fp, ATTR_STR("queue_name", "deferred"), ATTR_INT("arrival_time", 1),
               ATTR_INT("message_size", 1), ATTR_INT("forced_expire", 0), ATTR_STR("sender", "s@x"),
               ATTR_INT("rcpt_count", 0), ATTR_END);
}

static void bad_rcpt_extra(VSTREAM *fp)
{
    msg_head(fp, "1", "0", "1");
    attr_print(fp, ATTR_STR("address", "a@x"), ATTR_STR("delay_reason", ""), ATTR_STR("extra", "1"),
               ATTR_END);
}

static void bad_rcpt_missing(VSTREAM *fp)
{
    msg_head(fp, "1", "0", "1");
    attr_print(fp, ATTR_STR("address", "a@x"), ATTR_END);
}

static void bad_status(VSTREAM *fp)
{
    attr_print(fp, ATTR_INT("status", 1), ATTR_END);
}

static void bad_status_extra(VSTREAM *fp)
{
    attr_print(fp, ATTR_INT("status", 0), ATTR_STR("queue_id", "ABCDE1"), ATTR_END);
}

static void bad_garbage(VSTREAM *fp)
{
    vstream_fwrite(fp, "no NUL bytes at all", 19);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_bad(bad_nothing);
    expect_bad(bad_no_end);
    expect_bad(bad_short);
    expect_bad(bad_count);
    expect_bad(bad_negative);
    expect_bad(bad_expire);
    expect_bad(bad_size);
    expect_bad(bad_missing);
    expect_bad(bad_rcpt_extra);
    expect_bad(bad_rcpt_missing);
    expect_bad(bad_status);
    expect_bad(bad_status_extra);
    expect_bad(bad_garbage);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_printable),
        cmocka_unit_test(test_printable_on_read),
        cmocka_unit_test(test_malformed),
    };
    int fd;
    int ret;

    msg_init("test_showq_proto");
    msg_set_logfile("/dev/null");
    if ((fd = mkstemp(path)) < 0)
        return 1;
    close(fd);
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    return ret;
}
