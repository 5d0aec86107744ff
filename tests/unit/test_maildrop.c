/*
 * NAME
 *	test_maildrop - unit tests for the local submission stream checker
 * SYNOPSIS
 *	build/unit/test_maildrop
 * DESCRIPTION
 *	maildrop_check() on a complete stream and on every kind of misorder,
 *	forged attribute, bad value and over-long field a local user could
 *	send to postdrop; the size limit; streams cut at every offset and
 *	streams with random damage read back with maildrop_get(); the
 *	authorized_submit_users matcher (names, negation, tables, files,
 *	errors); temporary file names.
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

#include "cleanup_proto.h"
#include "mail_params.h"
#include "maildrop.h"
#include "msg.h"
#include "rec.h"
#include "vstream.h"
#include "vstring.h"

/* a record for the table-driven tests */
typedef struct {
    int type;
    const char *data;
} REC;

#define END_OF_LIST                                                                                \
    {                                                                                              \
        0, NULL                                                                                    \
    }

/* run - feed records; index of the first refused one, or -1 when all passed */

static int run(MAILDROP_CHECK *mc, const REC *recs)
{
    for (int i = 0; recs[i].type; i++)
        if (maildrop_check(mc, recs[i].type, recs[i].data, strlen(recs[i].data)) < 0)
            return i;
    return -1;
}

static const REC good_stream[] = {
    {REC_TYPE_TIME, "1700000000.123456"},
    {REC_TYPE_ATTR, "rewrite_context=local"},
    {REC_TYPE_ATTR, "full_name=J\xc3\xb6rg O'Brien"},
    {REC_TYPE_ATTR, "dsn_envid=QQ314159"},
    {REC_TYPE_ATTR, "dsn_ret=HDRS"},
    {REC_TYPE_ATTR, "encoding=8bit"},
    {REC_TYPE_FROM, "joe@example.com"},
    {REC_TYPE_NOTIFY, "6"},
    {REC_TYPE_DSN_ORCPT, "rfc822;ann@example.org"},
    {REC_TYPE_RCPT, "ann@example.org"},
    {REC_TYPE_ORCP, "Ann@Example.org"},
    {REC_TYPE_RCPT, "bob"},
    {REC_TYPE_MESG, ""},
    {REC_TYPE_NORM, "Subject: test"},
    {REC_TYPE_NORM, ""},
    {REC_TYPE_CONT, "a long line, first piece "},
    {REC_TYPE_NORM, "and its last piece"},
    {REC_TYPE_XTRA, ""},
    {REC_TYPE_END, ""},
    END_OF_LIST,
};

static void test_good_stream(void **state)
{
    MAILDROP_CHECK *mc = maildrop_check_create(0);

    (void)state;
    assert_int_equal(run(mc, good_stream), -1);
    assert_true(maildrop_check_done(mc));
    assert_int_equal(maildrop_check_error(mc), MAILDROP_CHECK_OK);
    assert_string_equal(maildrop_check_sender(mc), "joe@example.com");
    assert_int_equal(maildrop_check_rcpt_count(mc), 2);
    assert_false(maildrop_check_extract(mc));
    /* nothing may follow END */
    assert_int_equal(maildrop_check(mc, REC_TYPE_NORM, "x", 1), -1);
    assert_false(maildrop_check_done(mc));
    maildrop_check_free(mc);
}

static void test_null_sender_and_extract(void **state)
{
    static const REC recs[] = {
        {REC_TYPE_TIME, "1.0"},
        {REC_TYPE_ATTR, "extract_recipients=yes"},
        {REC_TYPE_ATTR, "dsn_notify=1"},
        {REC_TYPE_FROM, ""},
        {REC_TYPE_MESG, ""},
        {REC_TYPE_XTRA, ""},
        {REC_TYPE_END, ""},
        END_OF_LIST,
    };
    MAILDROP_CHECK *mc = maildrop_check_create(0);

    (void)state;
    assert_int_equal(run(mc, recs), -1);
    assert_true(maildrop_check_done(mc));
    assert_true(maildrop_check_extract(mc));
    assert_string_equal(maildrop_check_sender(mc), "");
    assert_int_equal(maildrop_check_rcpt_count(mc), 0);
    maildrop_check_free(mc);
}

/* one bad stream: which record must be refused */
typedef struct {
    const char *what;
    int refused_at;
    REC recs[12];
} BAD;

static const BAD bad_streams[] = {
    {"no time first", 0, {{REC_TYPE_FROM, "a"}, END_OF_LIST}},
    {"size record", 0, {{REC_TYPE_SIZE, "1 2 3"}, END_OF_LIST}},
    {"bad time", 0, {{REC_TYPE_TIME, "yesterday"}, END_OF_LIST}},
    {"time without fraction", 0, {{REC_TYPE_TIME, "1700000000"}, END_OF_LIST}},
    {"time with sign", 0, {{REC_TYPE_TIME, "-1.5"}, END_OF_LIST}},
    {"two times", 1, {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_TIME, "1.0"}, END_OF_LIST}},
    {"recipient before sender", 1, {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_RCPT, "a"}, END_OF_LIST}},
    {"forged client address",
     1,
     {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_ATTR, "client_address=10.0.0.1"}, END_OF_LIST}},
    {"forged origin", 1, {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_ATTR, "origin=smtpd"}, END_OF_LIST}},
    {"forged sasl login",
     1,
     {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_ATTR, "sasl_username=root"}, END_OF_LIST}},
    {"forged uid", 1, {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_ATTR, "submit_uid=0"}, END_OF_LIST}},
    {"attribute without =", 1, {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_ATTR, "full_name"}, END_OF_LIST}},
    {"attribute without name", 1, {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_ATTR, "=x"}, END_OF_LIST}},
    {"duplicate attribute",
     2,
     {{REC_TYPE_TIME, "1.0"},
      {REC_TYPE_ATTR, "full_name=a"},
      {REC_TYPE_ATTR, "full_name=b"},
      END_OF_LIST}},
    {"header injection in full name",
     1,
     {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_ATTR, "full_name=x\nBcc: all@example.com"}, END_OF_LIST}},
    {"bad rewrite context",
     1,
     {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_ATTR, "rewrite_context=trusted"}, END_OF_LIST}},
    {"bad dsn_ret", 1, {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_ATTR, "dsn_ret=full"}, END_OF_LIST}},
    {"bad encoding", 1, {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_ATTR, "encoding=binary"}, END_OF_LIST}},
    {"empty envid", 1, {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_ATTR, "dsn_envid="}, END_OF_LIST}},
    {"8-bit envid",
     1,
     {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_ATTR, "dsn_envid=\xc3\xa9"}, END_OF_LIST}},
    {"bad extract value",
     1,
     {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_ATTR, "extract_recipients=no"}, END_OF_LIST}},
    {"bad dsn_notify", 1, {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_ATTR, "dsn_notify=3"}, END_OF_LIST}},
    {"attribute after sender",
     2,
     {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_FROM, "a"}, {REC_TYPE_ATTR, "full_name=x"}, END_OF_LIST}},
    {"sender with newline", 1, {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_FROM, "a\nb"}, END_OF_LIST}},
    {"sender with DEL", 1, {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_FROM, "a\177b"}, END_OF_LIST}},
    {"empty recipient",
     2,
     {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_FROM, "a"}, {REC_TYPE_RCPT, ""}, END_OF_LIST}},
    {"recipient with CR",
     2,
     {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_FROM, "a"}, {REC_TYPE_RCPT, "b\r"}, END_OF_LIST}},
    {"done record",
     2,
     {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_FROM, "a"}, {REC_TYPE_DONE, "b"}, END_OF_LIST}},
    {"notify never with others",
     2,
     {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_FROM, "a"}, {REC_TYPE_NOTIFY, "3"}, END_OF_LIST}},
    {"notify zero",
     2,
     {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_FROM, "a"}, {REC_TYPE_NOTIFY, "0"}, END_OF_LIST}},
    {"notify unknown bit",
     2,
     {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_FROM, "a"}, {REC_TYPE_NOTIFY, "16"}, END_OF_LIST}},
    {"two notify records",
     3,
     {{REC_TYPE_TIME, "1.0"},
      {REC_TYPE_FROM, "a"},
      {REC_TYPE_NOTIFY, "2"},
      {REC_TYPE_NOTIFY, "4"},
      END_OF_LIST}},
    {"orcpt without type",
     2,
     {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_FROM, "a"}, {REC_TYPE_DSN_ORCPT, "b@c"}, END_OF_LIST}},
    {"notify without recipient",
     4,
     {{REC_TYPE_TIME, "1.0"},
      {REC_TYPE_FROM, "a"},
      {REC_TYPE_RCPT, "b"},
      {REC_TYPE_NOTIFY, "2"},
      {REC_TYPE_MESG, ""},
      END_OF_LIST}},
    {"no recipients",
     2,
     {{REC_TYPE_TIME, "1.0"}, {REC_TYPE_FROM, "a"}, {REC_TYPE_MESG, ""}, END_OF_LIST}},
    {"data in message start",
     3,
     {{REC_TYPE_TIME, "1.0"},
      {REC_TYPE_FROM, "a"},
      {REC_TYPE_RCPT, "b"},
      {REC_TYPE_MESG, "x"},
      END_OF_LIST}},
    {"recipient in content",
     5,
     {{REC_TYPE_TIME, "1.0"},
      {REC_TYPE_FROM, "a"},
      {REC_TYPE_RCPT, "b"},
      {REC_TYPE_MESG, ""},
      {REC_TYPE_NORM, "x"},
      {REC_TYPE_RCPT, "c"},
      END_OF_LIST}},
    {"content ends inside a line",
     5,
     {{REC_TYPE_TIME, "1.0"},
      {REC_TYPE_FROM, "a"},
      {REC_TYPE_RCPT, "b"},
      {REC_TYPE_MESG, ""},
      {REC_TYPE_CONT, "x"},
      {REC_TYPE_XTRA, ""},
      END_OF_LIST}},
    {"end without xtra",
     4,
     {{REC_TYPE_TIME, "1.0"},
      {REC_TYPE_FROM, "a"},
      {REC_TYPE_RCPT, "b"},
      {REC_TYPE_MESG, ""},
      {REC_TYPE_END, ""},
      END_OF_LIST}},
    {"content after xtra",
     5,
     {{REC_TYPE_TIME, "1.0"},
      {REC_TYPE_FROM, "a"},
      {REC_TYPE_RCPT, "b"},
      {REC_TYPE_MESG, ""},
      {REC_TYPE_XTRA, ""},
      {REC_TYPE_NORM, "x"},
      END_OF_LIST}},
    {"data in end record",
     5,
     {{REC_TYPE_TIME, "1.0"},
      {REC_TYPE_FROM, "a"},
      {REC_TYPE_RCPT, "b"},
      {REC_TYPE_MESG, ""},
      {REC_TYPE_XTRA, ""},
      {REC_TYPE_END, "x"},
      END_OF_LIST}},
};

static void test_bad_streams(void **state)
{
    MAILDROP_CHECK *mc;
    int at;

    (void)state;
    for (size_t i = 0; i < sizeof(bad_streams) / sizeof(bad_streams[0]); i++) {
        mc = maildrop_check_create(0);
        at = run(mc, bad_streams[i].recs);
        if (at != bad_streams[i].refused_at)
            fail_msg("%s: refused at %d, expected %d (%s)", bad_streams[i].what, at,
                     bad_streams[i].refused_at, maildrop_check_why(mc));
        assert_int_equal(maildrop_check_error(mc), MAILDROP_CHECK_BAD);
        assert_true(strlen(maildrop_check_why(mc)) > 0);
        assert_false(maildrop_check_done(mc));
        /* once refused, always refused: even a record that would fit */
        assert_int_equal(maildrop_check(mc, REC_TYPE_END, "", 0), -1);
        maildrop_check_free(mc);
    }
}

static void test_lengths(void **state)
{
    VSTRING *buf = vstring_alloc(100);
    MAILDROP_CHECK *mc;

    (void)state;
    /* an address at the limit passes, one byte more does not */
    mc = maildrop_check_create(0);
    assert_int_equal(maildrop_check(mc, REC_TYPE_TIME, "1.0", 3), 0);
    vstring_truncate(buf, 0);
    for (int i = 0; i < MAILDROP_ADDR_MAX; i++)
        vstring_addch(buf, 'a');
    assert_int_equal(maildrop_check(mc, REC_TYPE_FROM, vstring_str(buf), vstring_len(buf)), 0);
    vstring_addch(buf, 'a');
    assert_int_equal(maildrop_check(mc, REC_TYPE_RCPT, vstring_str(buf), vstring_len(buf)), -1);
    maildrop_check_free(mc);

    /* a full name at the limit passes, one byte more does not */
    for (int extra = 0; extra <= 1; extra++) {
        mc = maildrop_check_create(0);
        assert_int_equal(maildrop_check(mc, REC_TYPE_TIME, "1.0", 3), 0);
        vstring_strcpy(buf, "full_name=");
        for (int i = 0; i < MAILDROP_FULL_NAME_MAX + extra; i++)
            vstring_addch(buf, 'n');
        assert_int_equal(maildrop_check(mc, REC_TYPE_ATTR, vstring_str(buf), vstring_len(buf)),
                         extra ? -1 : 0);
        maildrop_check_free(mc);
    }

    /* an envid of 101 bytes is refused */
    mc = maildrop_check_create(0);
    assert_int_equal(maildrop_check(mc, REC_TYPE_TIME, "1.0", 3), 0);
    vstring_strcpy(buf, "dsn_envid=");
    for (int i = 0; i < MAILDROP_ENVID_MAX + 1; i++)
        vstring_addch(buf, 'e');
    assert_int_equal(maildrop_check(mc, REC_TYPE_ATTR, vstring_str(buf), vstring_len(buf)), -1);
    maildrop_check_free(mc);

    /* a NUL inside an address is refused */
    mc = maildrop_check_create(0);
    assert_int_equal(maildrop_check(mc, REC_TYPE_TIME, "1.0", 3), 0);
    assert_int_equal(maildrop_check(mc, REC_TYPE_FROM, "a\0b", 3), -1);
    maildrop_check_free(mc);

    /* content records: up to MAILDROP_LINE_MAX, any bytes, NUL included */
    mc = maildrop_check_create(0);
    assert_int_equal(run(mc, (REC[]){{REC_TYPE_TIME, "1.0"},
                                     {REC_TYPE_FROM, "a"},
                                     {REC_TYPE_RCPT, "b"},
                                     {REC_TYPE_MESG, ""},
                                     END_OF_LIST}),
                     -1);
    assert_int_equal(maildrop_check(mc, REC_TYPE_NORM, "x\0\r\n\377", 5), 0);
    {
        char *big = calloc(1, MAILDROP_LINE_MAX + 1);

        assert_int_equal(maildrop_check(mc, REC_TYPE_CONT, big, MAILDROP_LINE_MAX), 0);
        assert_int_equal(maildrop_check(mc, REC_TYPE_NORM, big, MAILDROP_LINE_MAX + 1), -1);
        free(big);
    }
    maildrop_check_free(mc);
    vstring_free(buf);
}

static void test_recipient_limit(void **state)
{
    MAILDROP_CHECK *mc = maildrop_check_create(0);

    (void)state;
    assert_int_equal(maildrop_check(mc, REC_TYPE_TIME, "1.0", 3), 0);
    assert_int_equal(maildrop_check(mc, REC_TYPE_FROM, "a", 1), 0);
    for (int i = 0; i < MAILDROP_RCPT_MAX; i++)
        assert_int_equal(maildrop_check(mc, REC_TYPE_RCPT, "r", 1), 0);
    assert_int_equal(maildrop_check(mc, REC_TYPE_RCPT, "r", 1), -1);
    assert_int_equal(maildrop_check_rcpt_count(mc), MAILDROP_RCPT_MAX);
    maildrop_check_free(mc);
}

static void test_size_limit(void **state)
{
    MAILDROP_CHECK *mc;
    off_t full;

    (void)state;
    mc = maildrop_check_create(0);
    assert_int_equal(run(mc, good_stream), -1);
    full = maildrop_check_size(mc);
    maildrop_check_free(mc);
    assert_true(full > 0);

    /* exactly the size passes */
    mc = maildrop_check_create(full);
    assert_int_equal(run(mc, good_stream), -1);
    assert_true(maildrop_check_done(mc));
    maildrop_check_free(mc);

    /* one byte less fails, as too big */
    mc = maildrop_check_create(full - 1);
    assert_true(run(mc, good_stream) >= 0);
    assert_int_equal(maildrop_check_error(mc), MAILDROP_CHECK_TOO_BIG);
    maildrop_check_free(mc);
}

/* write a stream to a file; return its path (caller unlinks) */

static char *write_stream(const REC *recs, VSTRING *bytes)
{
    char *path = strdup("/tmp/test_maildrop.XXXXXX");
    int fd = mkstemp(path);
    VSTREAM *fp;

    assert_true(fd >= 0);
    fp = vstream_fdopen(fd, O_RDWR);
    for (int i = 0; recs[i].type; i++)
        assert_int_equal(rec_put(fp, recs[i].type, recs[i].data, strlen(recs[i].data)),
                         recs[i].type);
    assert_int_equal(vstream_fclose(fp), 0);
    fp = vstream_fopen(path, O_RDONLY, 0);
    vstring_truncate(bytes, 0);
    for (int ch; (ch = vstream_getc(fp)) != VSTREAM_EOF;)
        vstring_addch(bytes, ch);
    vstream_fclose(fp);
    return path;
}

/* check_bytes - read bytes as a maildrop file would be read: 1 when complete */

static int check_bytes(const char *data, size_t len)
{
    char path[] = "/tmp/test_maildrop.XXXXXX";
    int fd = mkstemp(path);
    VSTRING *buf = vstring_alloc(100);
    MAILDROP_CHECK *mc = maildrop_check_create(0);
    VSTREAM *fp;
    int complete = 0;
    int type;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    lseek(fd, 0, SEEK_SET);
    fp = vstream_fdopen(fd, O_RDONLY);
    for (;;) {
        type = maildrop_get(fp, buf);
        if (type == REC_TYPE_EOF) {
            complete = maildrop_check_done(mc);
            break;
        }
        if (type == REC_TYPE_ERROR ||
            maildrop_check(mc, type, vstring_str(buf), vstring_len(buf)) < 0)
            break;
    }
    vstream_fclose(fp);
    unlink(path);
    maildrop_check_free(mc);
    vstring_free(buf);
    return complete;
}

static void test_truncated_everywhere(void **state)
{
    VSTRING *bytes = vstring_alloc(1000);
    char *path = write_stream(good_stream, bytes);

    (void)state;
    unlink(path);
    free(path);
    assert_true(check_bytes(vstring_str(bytes), vstring_len(bytes)));
    /* a file cut anywhere is never complete: a half-written file is never delivered */
    for (size_t len = 0; len < vstring_len(bytes); len++)
        if (check_bytes(vstring_str(bytes), len))
            fail_msg("stream cut at %zu of %zu bytes was accepted", len, vstring_len(bytes));
    /* and one byte of garbage after END makes it unacceptable too */
    vstring_addch(bytes, REC_TYPE_NORM);
    assert_false(check_bytes(vstring_str(bytes), vstring_len(bytes)));
    vstring_free(bytes);
}

static void test_random_damage(void **state)
{
    VSTRING *bytes = vstring_alloc(1000);
    VSTRING *copy = vstring_alloc(1000);
    char *path = write_stream(good_stream, bytes);
    size_t pos;

    (void)state;
    unlink(path);
    free(path);
    srandom(4711);
    /* damaged streams must never crash the reader or the checker */
    for (int round = 0; round < 2000; round++) {
        vstring_memcpy(copy, vstring_str(bytes), vstring_len(bytes));
        for (int n = 1 + (int)(random() % 4); n > 0; n--) {
            pos = (size_t)random() % vstring_len(copy);
            vstring_str(copy)[pos] = (char)(random() & 0xff);
        }
        (void)check_bytes(vstring_str(copy), vstring_len(copy));
    }
    vstring_free(bytes);
    vstring_free(copy);
}

static void test_submit_ok(void **state)
{
    VSTRING *why = vstring_alloc(100);
    char path[] = "/tmp/test_maildrop_users.XXXXXX";
    char list[200];
    int fd;

    (void)state;
    var_authorized_submit_users = "static:anyone";
    assert_int_equal(maildrop_submit_ok("alice", why), 1);
    assert_int_equal(maildrop_submit_ok("unknown", why), 1);

    var_authorized_submit_users = "";
    assert_int_equal(maildrop_submit_ok("root", why), 0);

    var_authorized_submit_users = "alice, Bob";
    assert_int_equal(maildrop_submit_ok("alice", why), 1);
    assert_int_equal(maildrop_submit_ok("bob", why), 1);
    assert_int_equal(maildrop_submit_ok("carol", why), 0);

    var_authorized_submit_users = "!alice, static:anyone";
    assert_int_equal(maildrop_submit_ok("alice", why), 0);
    assert_int_equal(maildrop_submit_ok("bob", why), 1);

    var_authorized_submit_users = "inline:{ alice=ok }";
    assert_int_equal(maildrop_submit_ok("alice", why), 1);
    assert_int_equal(maildrop_submit_ok("bob", why), 0);

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "# users\nalice bob\n  carol\n", 26), 26);
    close(fd);
    snprintf(list, sizeof(list), "%s", path);
    var_authorized_submit_users = list;
    assert_int_equal(maildrop_submit_ok("carol", why), 1);
    assert_int_equal(maildrop_submit_ok("users", why), 0); /* in a comment */
    assert_int_equal(maildrop_submit_ok("dave", why), 0);
    snprintf(list, sizeof(list), "!%s, static:anyone", path);
    assert_int_equal(maildrop_submit_ok("bob", why), 0);
    assert_int_equal(maildrop_submit_ok("dave", why), 1);
    unlink(path);

    /* a table or file that cannot answer is an error, never a yes or a no */
    var_authorized_submit_users = "fail:broken, static:anyone";
    assert_int_equal(maildrop_submit_ok("alice", why), -1);
    assert_true(vstring_len(why) > 0);
    snprintf(list, sizeof(list), "%s, static:anyone", path); /* now removed */
    var_authorized_submit_users = list;
    assert_int_equal(maildrop_submit_ok("alice", why), -1);
    /* an earlier match decides before a broken element is reached */
    var_authorized_submit_users = "alice, fail:broken";
    assert_int_equal(maildrop_submit_ok("alice", why), 1);
    vstring_free(why);
}

static void test_names(void **state)
{
    VSTRING *buf = vstring_alloc(10);

    (void)state;
    assert_true(maildrop_temp_name("tmp.123.000001.abcd"));
    assert_false(maildrop_temp_name("3F2A81C0D5"));
    assert_false(maildrop_temp_name("tm"));
    assert_string_equal(maildrop_user_name(0, buf), "root");
    assert_string_equal(maildrop_user_name((uid_t)4000000000u, buf), "unknown");
    vstring_free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_stream),
        cmocka_unit_test(test_null_sender_and_extract),
        cmocka_unit_test(test_bad_streams),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_recipient_limit),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_random_damage),
        cmocka_unit_test(test_submit_ok),
        cmocka_unit_test(test_names),
    };

    msg_init("test_maildrop");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
