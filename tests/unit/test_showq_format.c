/*
 * NAME
 *	test_showq_format - unit tests for the mailq text and JSON listings
 * SYNOPSIS
 *	build/unit/test_showq_format
 * DESCRIPTION
 *	Exact output, column for column, of Postfix's listing: the heading,
 *	the active ('*'), hold ('!') and forced-expiry ('#') marks, size
 *	and arrival time columns, reason lines right-aligned to column 78
 *	(or not indented when longer), "(reason unavailable)", recipient
 *	indentation, the trailer in its three forms; JSON lines with and
 *	without delay reasons, and the escaping of quotes, backslashes,
 *	control characters, DEL, UTF-8 and bytes that are not UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "msg.h"
#include "showq_format.h"
#include "showq_proto.h"
#include "vstring.h"

static SHOWQ_MSG *make_msg(const char *queue, const char *id, long size, const char *sender)
{
    SHOWQ_MSG *msg = showq_msg_alloc();

    showq_msg_set(&msg->queue_name, queue);
    showq_msg_set(&msg->queue_id, id);
    showq_msg_set(&msg->sender, sender);
    msg->arrival_time = 1700000000; /* Tue Nov 14 22:13:20 2023 UTC */
    msg->message_size = size;
    return msg;
}

static void test_heading_and_trailer(void **state)
{
    VSTRING *out = vstring_alloc(100);

    (void)state;
    showq_text_heading(out);
    assert_string_equal(vstring_str(out),
                        "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n");
    vstring_reset(out);
    showq_text_trailer(out, 0, 0);
    assert_string_equal(vstring_str(out), "Mail queue is empty\n");
    vstring_reset(out);
    showq_text_trailer(out, 1, 1023);
    assert_string_equal(vstring_str(out), "\n-- 0 Kbytes in 1 Request.\n");
    vstring_reset(out);
    showq_text_trailer(out, 3, 5000);
    assert_string_equal(vstring_str(out), "\n-- 4 Kbytes in 3 Requests.\n");
    vstring_free(out);
}

static void test_deferred_message(void **state)
{
    SHOWQ_MSG *msg = make_msg("deferred", "4C87949727", 380, "root@example.com");
    VSTRING *out = vstring_alloc(100);
    const char *reason = "connect to 203.0.113.1[203.0.113.1]:25: Connection timed out";

    (void)state;
    showq_msg_add_rcpt(msg, "nobody@[203.0.113.1]", reason);
    showq_msg_add_rcpt(msg, "other@[203.0.113.1]", reason);
    showq_msg_add_rcpt(msg, "late@example.com", "");
    showq_text_message(out, msg);
    assert_string_equal(
        vstring_str(out),
        "4C87949727      380 Tue Nov 14 22:13:20  root@example.com\n"
        "                (connect to 203.0.113.1[203.0.113.1]:25: Connection timed out)\n"
        "                                         nobody@[203.0.113.1]\n"
        "                                         other@[203.0.113.1]\n"
        "                                                          (reason unavailable)\n"
        "                                         late@example.com\n");
    showq_msg_free(msg);
    vstring_free(out);
}

static void test_marks_and_widths(void **state)
{
    SHOWQ_MSG *msg = make_msg("active", "4C87949727", 380, "MAILER-DAEMON");
    VSTRING *out = vstring_alloc(100);
    VSTRING *reason = vstring_alloc(100);

    (void)state;
    showq_msg_add_rcpt(msg, "a@example.com", "");
    showq_text_message(out, msg);
    assert_string_equal(vstring_str(out),
                        "4C87949727*     380 Tue Nov 14 22:13:20  MAILER-DAEMON\n"
                        "                                         a@example.com\n");

    vstring_reset(out);
    showq_msg_set(&msg->queue_name, "hold");
    showq_msg_set(&msg->queue_id, "4C879497271A");
    msg->message_size = 123456789;
    msg->arrival_time += 20 * 86400; /* Mon Dec  4: a space-padded day */
    msg->forced_expire = 1;
    showq_text_message(out, msg);
    assert_string_equal(vstring_str(out),
                        "4C879497271A!# 123456789 Mon Dec  4 22:13:20  MAILER-DAEMON\n"
                        "                                         a@example.com\n");

    /* a reason of 76 bytes starts in column 1, a longer one too */
    for (int len = 76; len <= 77; len++) {
        vstring_reset(out);
        vstring_reset(reason);
        for (int i = 0; i < len; i++)
            vstring_addch(reason, 'r');
        showq_msg_reset(msg);
        showq_msg_set(&msg->queue_name, "deferred");
        showq_msg_set(&msg->queue_id, "ABCDEF");
        showq_msg_set(&msg->sender, "s@x");
        showq_msg_add_rcpt(msg, "a@x", vstring_str(reason));
        showq_text_message(out, msg);
        assert_non_null(strstr(vstring_str(out), "\n(rrrr"));
    }
    /* a 75-byte reason is indented by one */
    vstring_truncate(reason, 75);
    vstring_reset(out);
    showq_msg_reset(msg);
    showq_msg_set(&msg->queue_name, "incoming");
    showq_msg_set(&msg->queue_id, "ABCDEF");
    showq_msg_set(&msg->sender, "s@x");
    showq_msg_add_rcpt(msg, "a@x", vstring_str(reason));
    showq_text_message(out, msg);
    assert_non_null(strstr(vstring_str(out), "\n (rrrr"));
    assert_non_null(strstr(vstring_str(out), "ABCDEF            0 Thu Jan  1 00:00:00  s@x\n"));
    showq_msg_free(msg);
    vstring_free(out);
    vstring_free(reason);
}

static void test_json(void **state)
{
    SHOWQ_MSG *msg = make_msg("deferred", "3F373F5418", 5794, "no-reply@example.com");
    VSTRING *out = vstring_alloc(100);

    (void)state;
    showq_msg_add_rcpt(msg, "user@example.net", "host mx[192.0.2.22] said: 451 4.7.7 later");
    showq_msg_add_rcpt(msg, "\"a b\"@example.net", "");
    showq_json_message(out, msg);
    assert_string_equal(
        vstring_str(out),
        "{\"queue_name\": \"deferred\", \"queue_id\": \"3F373F5418\", \"arrival_time\": "
        "1700000000, \"message_size\": 5794, \"forced_expire\": false, \"sender\": "
        "\"no-reply@example.com\", \"recipients\": [{\"address\": \"user@example.net\", "
        "\"delay_reason\": \"host mx[192.0.2.22] said: 451 4.7.7 later\"}, {\"address\": "
        "\"\\\"a b\\\"@example.net\"}]}\n");

    vstring_reset(out);
    showq_msg_reset(msg);
    msg->forced_expire = 1;
    showq_json_message(out, msg);
    assert_string_equal(
        vstring_str(out),
        "{\"queue_name\": \"\", \"queue_id\": \"\", \"arrival_time\": 0, \"message_size\": 0, "
        "\"forced_expire\": true, \"sender\": \"\", \"recipients\": []}\n");
    showq_msg_free(msg);
    vstring_free(out);
}

static void test_json_quote(void **state)
{
    VSTRING *out = vstring_alloc(100);

    (void)state;
    showq_json_quote(out, "q\"b\\n\nt\tr\rf\fb\bc\001d\x7f");
    assert_string_equal(vstring_str(out), "\"q\\\"b\\\\n\\nt\\tr\\rf\\fb\\bc\\u0001d\\u007f\"");
    vstring_reset(out);
    showq_json_quote(out, "caf\xc3\xa9 \xf0\x9f\x98\x80 \xc3 \xc0\xaf \xed\xa0\x80 \xff");
    assert_string_equal(vstring_str(out), "\"caf\xc3\xa9 \xf0\x9f\x98\x80 \\ufffd \\ufffd\\ufffd "
                                          "\\ufffd\\ufffd\\ufffd \\ufffd\"");
    vstring_reset(out);
    showq_json_quote(out, "");
    assert_string_equal(vstring_str(out), "\"\"");
    vstring_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heading_and_trailer), cmocka_unit_test(test_deferred_message),
        cmocka_unit_test(test_marks_and_widths),    cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_quote),
    };

    msg_init("test_showq_format");
    setenv("TZ", "UTC", 1);
    tzset();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
