/*
 * NAME
 *	test_header_opts - unit tests for header names and added header values
 * SYNOPSIS
 *	build/unit/test_header_opts
 * DESCRIPTION
 *	header_opts_find(): every table entry is found in any case, names
 *	that are prefixes or extensions of entries are not, nor are names
 *	with bytes outside the table's alphabet; types and flags of the
 *	headers cleanup relies on. header_name_len(): names, white space
 *	before the colon, limits, hostile bytes. header_value(): the value
 *	after the colon and folding white space. header_make_date() and
 *	header_make_message_id(): RFC 5322 format in several time zones,
 *	including half-hour zones and summer time; the epoch fallback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "header_make.h"
#include "header_opts.h"
#include "msg.h"
#include "vstring.h"

static const char *const names[] = {
    "Apparently-To", "Bcc", "Cc", "Content-Length", "Content-Transfer-Encoding",
    "Content-Type", "Date", "Delivered-To", "Errors-To", "From", "Message-Id", "Mime-Version",
    "Received", "Reply-To", "Resent-Bcc", "Resent-Cc", "Resent-Date", "Resent-From",
    "Resent-Message-Id", "Resent-Reply-To", "Resent-Sender", "Resent-To", "Return-Path",
    "Return-Receipt-To", "Sender", "To", "X-Original-To", NULL,
};

static void test_find_all(void **unused)
{
    char buf[64];

    (void) unused;
    for (int i = 0; names[i]; i++) {
        const HEADER_OPTS *opts = header_opts_find(names[i], strlen(names[i]));

        assert_non_null(opts);
        assert_string_equal(opts->name, names[i]);
        /* lower and upper case too */
        for (size_t j = 0; j <= strlen(names[i]); j++)
            buf[j] = (char) (names[i][j] | 0x20);
        buf[strlen(names[i])] = 0;
        assert_ptr_equal(header_opts_find(buf, strlen(buf)), opts);
        for (size_t j = 0; j < strlen(names[i]); j++)
            buf[j] =
                (char)(names[i][j] >= 'a' && names[i][j] <= 'z' ? names[i][j] - 32 : names[i][j]);
        assert_ptr_equal(header_opts_find(buf, strlen(buf)), opts);
        /* counted: the name may be followed by anything */
        snprintf(buf, sizeof(buf), "%s: value", names[i]);
        assert_ptr_equal(header_opts_find(buf, strlen(names[i])), opts);
    }
    assert_int_equal(HDR_COUNT, 28);
}

static void test_find_misses(void **unused)
{
    static const char *const misses[] = {
        "", "T", "Too", "Fro", "Froms", "Resent", "Resent-", "X-Mailer", "Subject",
        "Message_Id", "Message-Id ", "To:", "\xc6rom", "Bcc1", NULL,
    };

    (void) unused;
    for (int i = 0; misses[i]; i++)
        assert_null(header_opts_find(misses[i], strlen(misses[i])));
    assert_null(header_opts_find("From\0", 5));
    assert_null(header_opts_find("a", 0));
    {
        char longname[200];

        memset(longname, 'a', sizeof(longname));
        assert_null(header_opts_find(longname, sizeof(longname)));
    }
}

static void test_flags(void **unused)
{
    const HEADER_OPTS *o;

    (void) unused;
    o = header_opts_find("bcc", 3);
    assert_int_equal(o->type, HDR_BCC);
    assert_true(o->flags & HDR_OPT_RECIP && o->flags & HDR_OPT_EXTRACT);
    assert_false(o->flags & HDR_OPT_RESENT);
    o = header_opts_find("resent-to", 9);
    assert_true(o->flags & HDR_OPT_RESENT && o->flags & HDR_OPT_EXTRACT &&
                o->flags & HDR_OPT_RECIP);
    o = header_opts_find("from", 4);
    assert_true(o->flags & HDR_OPT_SENDER);
    assert_false(o->flags & (HDR_OPT_RECIP | HDR_OPT_EXTRACT));
    o = header_opts_find("Apparently-To", 13);
    assert_false(o->flags & HDR_OPT_EXTRACT);
    o = header_opts_find("received", 8);
    assert_int_equal(o->type, HDR_RECEIVED);
    assert_int_equal(o->flags, 0);
    assert_true(HDR_MASK(HDR_X_ORIGINAL_TO) != 0);
}

static void test_name_len(void **unused)
{
    static const struct {
        const char *line;
        size_t want;
    } cases[] = {
        {"Subject: x", 7},
        {"Subject:", 7},
        {"Subject  : x", 7},
        {"Subject\t: x", 7},
        {"X-a.b_c!#$%&'*+/=?^`{|}~: v", 24},
        {"Subject", 0},
        {"Subject x: y", 0},
        {": x", 0},
        {" Subject: x", 0},
        {"\tx: y", 0},
        {"", 0},
        {"Sub\x7fject: x", 0},
        {"Sub\xc3\xa9: x", 0},
        {"Sub ject: x", 0},
        {"a:", 1},
        {NULL, 0},
    };
    char line[600];

    (void) unused;
    for (int i = 0; cases[i].line; i++)
        assert_int_equal(header_name_len(cases[i].line, strlen(cases[i].line)), cases[i].want);
    /* NUL is data: it ends nothing and belongs to no name */
    assert_int_equal(header_name_len("Sub\0ject: x", 11), 0);
    assert_int_equal(header_name_len("Subject: x", 7), 0);       /* no colon within len */
    /* limits */
    memset(line, 'n', sizeof(line));
    line[HEADER_NAME_MAX] = ':';
    assert_int_equal(header_name_len(line, HEADER_NAME_MAX + 1), HEADER_NAME_MAX);
    memset(line, 'n', sizeof(line));
    line[HEADER_NAME_MAX + 1] = ':';
    assert_int_equal(header_name_len(line, HEADER_NAME_MAX + 2), 0);
    memset(line, ' ', sizeof(line));
    line[0] = 'n';
    line[1 + HEADER_WSP_MAX] = ':';
    assert_int_equal(header_name_len(line, 2 + HEADER_WSP_MAX), 1);
    line[1 + HEADER_WSP_MAX] = ' ';
    line[2 + HEADER_WSP_MAX] = ':';
    assert_int_equal(header_name_len(line, 3 + HEADER_WSP_MAX), 0);
}

static void test_value(void **unused)
{
    size_t vlen;
    const char *v;
    static const char text[] = "Message-Id:\n \t<a@b> ";

    (void) unused;
    v = header_value(text, strlen(text), 10, &vlen);
    assert_int_equal(vlen, 6);
    assert_memory_equal(v, "<a@b> ", 6);
    v = header_value("To  :x", 6, 2, &vlen);
    assert_int_equal(vlen, 1);
    assert_memory_equal(v, "x", 1);
    v = header_value("Subject:", 8, 7, &vlen);
    assert_int_equal(vlen, 0);
    /* a name length beyond the text is clamped, never read past */
    v = header_value("abc", 3, 10, &vlen);
    assert_int_equal(vlen, 0);
}

static void check_date(const char *tz, time_t when, const char *want)
{
    VSTRING *buf = vstring_alloc(10);

    setenv("TZ", tz, 1);
    tzset();
    assert_string_equal(header_make_date(buf, when), want);
    vstring_free(buf);
}

static void test_date(void **unused)
{
    (void) unused;
    check_date("UTC0", 1700000000, "Tue, 14 Nov 2023 22:13:20 +0000 (UTC)");
    check_date("Europe/Berlin", 1700000000, "Tue, 14 Nov 2023 23:13:20 +0100 (CET)");
    check_date("Europe/Berlin", 1690000000, "Sat, 22 Jul 2023 06:26:40 +0200 (CEST)");
    check_date("America/New_York", 1700000000, "Tue, 14 Nov 2023 17:13:20 -0500 (EST)");
    check_date("Asia/Kolkata", 1700000000, "Wed, 15 Nov 2023 03:43:20 +0530 (IST)");
    check_date("America/St_Johns", 1700000000, "Tue, 14 Nov 2023 18:43:20 -0330 (NST)");
    /* a numeric zone name is left out: it would only repeat the offset */
    check_date("Asia/Dubai", 1700000000, "Wed, 15 Nov 2023 02:13:20 +0400");
    check_date("UTC0", 0, "Thu, 1 Jan 1970 00:00:00 +0000 (UTC)");
    /* out of the range of four-digit years: the epoch */
    check_date("UTC0", (time_t) 400000000000LL, "Thu, 1 Jan 1970 00:00:00 +0000 (GMT)");
    unsetenv("TZ");
    tzset();
}

static void test_message_id(void **unused)
{
    VSTRING *buf = vstring_alloc(10);

    (void) unused;
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    assert_string_equal(header_make_message_id(buf, 1700000000, "3F2A81C0D5", "mx.example.com"),
                        "<20231114221320.3F2A81C0D5@mx.example.com>");
    assert_string_equal(header_make_message_id(buf, 0, "000001", "h"), "<19700101000000.000001@h>");
    unsetenv("TZ");
    tzset();
    vstring_free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_all),
        cmocka_unit_test(test_find_misses),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_name_len),
        cmocka_unit_test(test_value),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_message_id),
    };

    msg_init("test_header_opts");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
