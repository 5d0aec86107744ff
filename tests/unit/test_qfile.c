/*
 * NAME
 *	test_qfile - unit tests for the queue tools' envelope reader
 * SYNOPSIS
 *	build/unit/test_qfile
 * DESCRIPTION
 *	A complete queue file read with and without its content (fields,
 *	recipients with their ORCP/NOTIFY/DSN_ORCPT, DONE marks, offsets,
 *	recipients extracted from headers after XTRA, attributes); the
 *	maildrop layout; every refusal the reader promises (size record,
 *	order, duplicates, NUL bytes, bad numbers, misplaced records,
 *	missing end, data after the end); the file cut at every offset and
 *	damaged at every byte (never accepted as complete, never a crash);
 *	qfile_open() refusing path tricks, symbolic links and hard links;
 *	defer reasons paired by offset, then by address, newest first.
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
#include <unistd.h>

#include <cmocka.h>

#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "qfile.h"
#include "rec.h"
#include "vstream.h"
#include "vstring.h"

static char tmpdir[] = "/tmp/test_qfile.XXXXXX";

#define QID "ABCDE12345"
#define QPATH "deferred/" QID

static off_t rcpt_off[4];

/* a record list: type, data (NULL ends) */
typedef struct REC {
    int type;
    const char *data;
} REC;

/* write_file - records into path; the SIZE record (fixed width) names the MESG offset */

static void write_file(const char *path, const REC *recs, int size_record)
{
    off_t mesg = 0;

    for (int pass = 0; pass < 2; pass++) {
        VSTREAM *fp = vstream_fopen(path, O_WRONLY | O_CREAT | O_TRUNC, 0700);
        int n = 0;
        int seen = 0;

        assert_non_null(fp);
        if (size_record)
            rec_fprintf(fp, REC_TYPE_SIZE, "%15d %15lld %15d", 123, (long long)mesg, 4);
        for (const REC *r = recs; r->data; r++) {
            if (r->type == REC_TYPE_MESG && !seen++)
                mesg = vstream_ftell(fp);
            if (r->type == REC_TYPE_RCPT || r->type == REC_TYPE_DONE)
                rcpt_off[n++ % 4] = vstream_ftell(fp);
            rec_put(fp, r->type, r->data, strlen(r->data));
        }
        assert_int_equal(vstream_fclose(fp), 0);
    }
}

static const REC good[] = {
    {REC_TYPE_TIME, "1700000000.250000"},
    {REC_TYPE_ATTR, "client_address=192.0.2.1"},
    {REC_TYPE_ATTR, "origin=smtpd"},
    {REC_TYPE_FROM, "alice@example.com"},
    {REC_TYPE_ORCP, "Bob@Example.NET"},
    {REC_TYPE_NOTIFY, "6"},
    {REC_TYPE_DSN_ORCPT, "rfc822;Bob@Example.NET"},
    {REC_TYPE_RCPT, "bob@example.net"},
    {REC_TYPE_DONE, "carol@example.net"},
    {REC_TYPE_RCPT, "d d@example.org"},
    {REC_TYPE_MESG, ""},
    {REC_TYPE_NORM, "Subject: hi"},
    {REC_TYPE_NORM, ""},
    {REC_TYPE_CONT, "long "},
    {REC_TYPE_NORM, "line"},
    {REC_TYPE_XTRA, ""},
    {REC_TYPE_ORCP, "eve@example.com"},
    {REC_TYPE_RCPT, "eve@example.com"},
    {REC_TYPE_ATTR, "message_id=<x@y>"},
    {REC_TYPE_END, ""},
    {0, NULL},
};

static int read_path(const char *path, int flags, QFILE_ENV *env, VSTRING *why)
{
    VSTREAM *fp = vstream_fopen(path, O_RDONLY, 0);
    int ret;

    assert_non_null(fp);
    ret = qfile_read(fp, flags, env, why);
    vstream_fclose(fp);
    return ret;
}

static void test_good_file(void **state)
{
    QFILE_ENV *env = qfile_env_alloc();
    VSTRING *why = vstring_alloc(10);

    (void)state;
    write_file(QPATH, good, 1);
    assert_int_equal(read_path(QPATH, QFILE_FLAG_NONE, env, why), 0);
    assert_int_equal(env->content_size, 123);
    assert_int_equal(env->rcpt_total, 4);
    assert_int_equal(env->data_offset, env->mesg_offset);
    assert_int_equal(env->arrival.tv_sec, 1700000000);
    assert_int_equal(env->arrival.tv_usec, 250000);
    assert_string_equal(env->sender, "alice@example.com");
    assert_string_equal(attr_nv_find(env->attrs, "client_address"), "192.0.2.1");
    assert_int_equal(env->rcpt_count, 3);
    assert_string_equal(env->rcpt[0].address, "bob@example.net");
    assert_string_equal(env->rcpt[0].orig, "Bob@Example.NET");
    assert_string_equal(env->rcpt[0].orcpt, "rfc822;Bob@Example.NET");
    assert_int_equal(env->rcpt[0].notify, 6);
    assert_int_equal(env->rcpt[0].offset, rcpt_off[0]);
    assert_false(env->rcpt[0].done);
    assert_true(env->rcpt[1].done);
    assert_string_equal(env->rcpt[1].orig, "");
    assert_int_equal(env->rcpt[1].notify, 0);
    assert_int_equal(env->rcpt[2].offset, rcpt_off[2]);
    assert_string_equal(env->rcpt[2].address, "d d@example.org");
    assert_int_equal(qfile_undone(env), 2);
    assert_false(env->complete);

    assert_int_equal(read_path(QPATH, QFILE_FLAG_CONTENT, env, why), 0);
    assert_int_equal(env->rcpt_count, 4);
    assert_true(env->rcpt[3].extracted);
    assert_false(env->rcpt[2].extracted);
    assert_string_equal(env->rcpt[3].orig, "eve@example.com");
    assert_int_equal(env->rcpt[3].offset, rcpt_off[3]);
    assert_string_equal(attr_nv_find(env->attrs, "message_id"), "<x@y>");
    assert_int_equal(qfile_undone(env), 3);
    assert_true(env->complete);
    qfile_env_free(env);
    vstring_free(why);
}

static void test_maildrop_layout(void **state)
{
    QFILE_ENV *env = qfile_env_alloc();
    VSTRING *why = vstring_alloc(10);
    const REC drop[] = {
        {REC_TYPE_TIME, "1700000001"},
        {REC_TYPE_ATTR, "rewrite_context=local"},
        {REC_TYPE_FROM, ""},
        {REC_TYPE_RCPT, "x@example.com"},
        {REC_TYPE_MESG, ""},
        {REC_TYPE_NORM, "hello"},
        {REC_TYPE_XTRA, ""},
        {REC_TYPE_END, ""},
        {0, NULL},
    };

    (void)state;
    write_file("maildrop/" QID, drop, 0);
    assert_int_equal(read_path("maildrop/" QID, QFILE_FLAG_MAILDROP | QFILE_FLAG_CONTENT, env, why),
                     0);
    assert_int_equal(env->content_size, -1);
    assert_int_equal(env->data_offset, -1);
    assert_int_equal(env->arrival.tv_sec, 1700000001);
    assert_int_equal(env->arrival.tv_usec, 0);
    assert_string_equal(env->sender, "");
    assert_int_equal(env->rcpt_count, 1);
    assert_true(env->complete);
    /* the same file as a queue file: no size record */
    assert_int_equal(read_path("maildrop/" QID, QFILE_FLAG_NONE, env, why), -1);
    assert_string_equal(vstring_str(why), "no valid size record");
    qfile_env_free(env);
    vstring_free(why);
}

/* refused - a one-record change of the good file must be refused with reason */

static void refused(const REC *recs, int flags, const char *reason)
{
    QFILE_ENV *env = qfile_env_alloc();
    VSTRING *why = vstring_alloc(10);

    write_file(QPATH, recs, 1);
    assert_int_equal(read_path(QPATH, flags, env, why), -1);
    if (strstr(vstring_str(why), reason) == NULL)
        fail_msg("expected \"%s\", got \"%s\"", reason, vstring_str(why));
    qfile_env_free(env);
    vstring_free(why);
}

static REC *with(int index, int type, const char *data)
{
    static REC copy[64];
    int n = 0;

    for (; good[n].data; n++)
        copy[n] = good[n];
    copy[n] = good[n];
    if (type == -1) { /* delete */
        memmove(copy + index, copy + index + 1, sizeof(REC) * (size_t)(n - index));
    } else if (type < -1) { /* insert -type before index */
        memmove(copy + index + 1, copy + index, sizeof(REC) * (size_t)(n - index + 1));
        copy[index].type = -type;
        copy[index].data = data;
    } else {
        copy[index].type = type;
        copy[index].data = data;
    }
    return copy;
}

static void test_refusals(void **state)
{
    (void)state;
    refused(with(0, REC_TYPE_TIME, "soon"), 0, "bad time record");
    refused(with(0, REC_TYPE_TIME, "1700000000.1234567"), 0, "bad time record");
    refused(with(0, REC_TYPE_TIME, "-5"), 0, "bad time record");
    refused(with(1, -REC_TYPE_TIME, "1"), 0, "misplaced time record");
    refused(with(0, -1, NULL), 0, "no time or sender record");
    refused(with(4, -REC_TYPE_FROM, "x@y"), 0, "misplaced sender record");
    refused(with(3, -REC_TYPE_RCPT, "early@example.com"), 0, "recipient before sender");
    refused(with(1, REC_TYPE_ATTR, "no equals sign"), 0, "bad attribute record");
    refused(with(1, REC_TYPE_ATTR, "=empty name"), 0, "bad attribute record");
    refused(with(5, REC_TYPE_NOTIFY, "99"), 0, "bad notify record");
    refused(with(5, REC_TYPE_NOTIFY, "x"), 0, "bad notify record");
    refused(with(7, REC_TYPE_RCPT, ""), 0, "bad recipient record");
    refused(with(10, -REC_TYPE_ORCP, "dangling@example.com"), 0,
            "recipient attributes without a recipient");
    refused(with(11, -REC_TYPE_RCPT, "in@content"), QFILE_FLAG_CONTENT,
            "unexpected rcpt record in the content");
    refused(with(16, -REC_TYPE_FROM, "late@x"), QFILE_FLAG_CONTENT, "misplaced sender record");
    refused(with(16, -REC_TYPE_MESG, ""), QFILE_FLAG_CONTENT, "misplaced content record");
    refused(with(19, -1, NULL), QFILE_FLAG_CONTENT, "no end record");
    refused(with(20, -REC_TYPE_NORM, "after"), QFILE_FLAG_CONTENT, "after the end record");
    refused(with(2, -REC_TYPE_XTRA, ""), 0, "unexpected xtra record in the envelope");
    refused(with(2, -REC_TYPE_END, ""), 0, "misplaced end record");
}

static void test_size_record(void **state)
{
    QFILE_ENV *env = qfile_env_alloc();
    VSTRING *why = vstring_alloc(10);
    VSTREAM *fp;
    const char *bad[] = {
        "", "1 2", "1 2 3 4", "-1 2 3", "1 0 3", "1 2 x", "99999999999999999999 2 3", "1\t2 3"};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fp = vstream_fopen(QPATH, O_WRONLY | O_CREAT | O_TRUNC, 0700);
        rec_fprintf(fp, REC_TYPE_SIZE, "%s", bad[i]);
        rec_fprintf(fp, REC_TYPE_TIME, "1");
        vstream_fclose(fp);
        assert_int_equal(read_path(QPATH, 0, env, why), -1);
        assert_string_equal(vstring_str(why), "no valid size record");
    }
    /* MESG somewhere else than the size record says */
    fp = vstream_fopen(QPATH, O_WRONLY | O_CREAT | O_TRUNC, 0700);
    rec_fprintf(fp, REC_TYPE_SIZE, "%15d %15d %15d", 10, 7, 1);
    rec_fprintf(fp, REC_TYPE_TIME, "1");
    rec_fprintf(fp, REC_TYPE_FROM, "a@b");
    rec_fprintf(fp, REC_TYPE_RCPT, "c@d");
    rec_put(fp, REC_TYPE_MESG, "", 0);
    vstream_fclose(fp);
    assert_int_equal(read_path(QPATH, 0, env, why), -1);
    assert_non_null(strstr(vstring_str(why), "size record says 7"));
    /* a NUL inside the sender */
    fp = vstream_fopen(QPATH, O_WRONLY | O_CREAT | O_TRUNC, 0700);
    rec_fprintf(fp, REC_TYPE_SIZE, "%15d %15d %15d", 10, 7, 1);
    rec_fprintf(fp, REC_TYPE_TIME, "1");
    rec_put(fp, REC_TYPE_FROM, "a\0b", 3);
    vstream_fclose(fp);
    assert_int_equal(read_path(QPATH, 0, env, why), -1);
    assert_string_equal(vstring_str(why), "sender record holds a NUL byte");
    /* nothing at all */
    fp = vstream_fopen(QPATH, O_WRONLY | O_CREAT | O_TRUNC, 0700);
    vstream_fclose(fp);
    assert_int_equal(read_path(QPATH, 0, env, why), -1);
    qfile_env_free(env);
    vstring_free(why);
}

static char *slurp(const char *path, size_t *len)
{
    struct stat st;
    char *buf;
    int fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    buf = mymalloc((size_t)st.st_size + 1);
    assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    return buf;
}

static void spill(const char *path, const char *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0700);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    close(fd);
}

static void test_truncated_and_damaged(void **state)
{
    QFILE_ENV *env = qfile_env_alloc();
    VSTRING *why = vstring_alloc(10);
    size_t len;
    char *whole;
    char *copy;
    int saved = msg_verbose;

    (void)state;
    write_file(QPATH, good, 1);
    whole = slurp(QPATH, &len);
    copy = mymalloc(len);
    /* every proper prefix is refused when the whole file is asked for */
    for (size_t cut = 0; cut < len; cut++) {
        spill("deferred/CUT", whole, cut);
        assert_int_equal(read_path("deferred/CUT", QFILE_FLAG_CONTENT, env, why), -1);
    }
    /* every single damaged byte: no crash, and never a different "complete" file */
    for (size_t at = 0; at < len; at++) {
        for (int flip = 1; flip < 256; flip <<= 1) {
            memcpy(copy, whole, len);
            copy[at] ^= (char)flip;
            spill("deferred/CUT", copy, len);
            if (read_path("deferred/CUT", QFILE_FLAG_CONTENT, env, why) == 0)
                assert_true(env->complete);
        }
    }
    msg_verbose = saved;
    myfree(whole);
    myfree(copy);
    unlink("deferred/CUT");
    qfile_env_free(env);
    vstring_free(why);
}

static void test_open(void **state)
{
    VSTRING *why = vstring_alloc(10);
    struct stat st;
    VSTREAM *fp;

    (void)state;
    write_file(QPATH, good, 1);
    fp = qfile_open("deferred", QID, &st, why);
    assert_non_null(fp);
    assert_string_equal(vstream_path(fp), QPATH);
    assert_true(S_ISREG(st.st_mode));
    vstream_fclose(fp);

    const char *bad_ids[] = {"../deferred/" QID, "", "*", "abcde12345", QID "/", "ABC"};

    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        errno = 0;
        assert_null(qfile_open("deferred", bad_ids[i], NULL, why));
        assert_int_equal(errno, EINVAL);
    }
    assert_null(qfile_open("corrupt", QID, NULL, why));
    assert_int_equal(errno, EINVAL);
    assert_null(qfile_open("../deferred", QID, NULL, why));
    assert_int_equal(errno, EINVAL);
    assert_null(qfile_open("hold", QID, NULL, why));
    assert_int_equal(errno, ENOENT);
    assert_true(qfile_queue_ok("maildrop"));
    assert_false(qfile_queue_ok("defer"));

    /* a symbolic link and a hard link are refused */
    assert_int_equal(symlink("../" QPATH, "hold/" QID), 0);
    assert_null(qfile_open("hold", QID, NULL, why));
    unlink("hold/" QID);
    assert_int_equal(link(QPATH, "hold/" QID), 0);
    assert_null(qfile_open("hold", QID, NULL, why));
    assert_null(qfile_open("deferred", QID, NULL, why));
    unlink("hold/" QID);
    vstring_free(why);
}

static void write_note(const char *text)
{
    int fd = open("defer/" QID, O_WRONLY | O_CREAT | O_APPEND, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void test_reasons(void **state)
{
    QFILE_ENV *env = qfile_env_alloc();
    VSTRING *why = vstring_alloc(10);
    VSTRING *note = vstring_alloc(100);

    (void)state;
    write_file(QPATH, good, 1);
    unlink("defer/" QID);
    assert_int_equal(read_path(QPATH, QFILE_FLAG_CONTENT, env, why), 0);
    assert_int_equal(qfile_read_reasons(env, QID), 0);
    assert_string_equal(env->rcpt[0].reason, "");

    /* by offset: the older note loses; the done recipient gets nothing */
    vstring_sprintf(note,
                    "recipient=bob@example.net\noffset=%lld\nreason=first try\n\n"
                    "recipient=bob@example.net\noffset=%lld\nreason=second try\n\n"
                    "recipient=carol@example.net\noffset=%lld\nreason=done anyway\n\n",
                    (long long)rcpt_off[0], (long long)rcpt_off[0], (long long)rcpt_off[1]);
    write_note(vstring_str(note));
    /* no matching offset: by address; unknown recipients are ignored */
    write_note("recipient=eve@example.com\noffset=1\nreason=by address\n\n"
               "recipient=nobody@example.com\noffset=2\nreason=stray\n\n"
               "recipient=d d@example.org\noffset=3\nreason=unfinished");
    assert_int_equal(qfile_read_reasons(env, QID), 2);
    assert_string_equal(env->rcpt[0].reason, "second try");
    assert_string_equal(env->rcpt[1].reason, "");
    assert_string_equal(env->rcpt[2].reason, "");
    assert_string_equal(env->rcpt[3].reason, "by address");
    unlink("defer/" QID);
    qfile_env_free(env);
    vstring_free(why);
    vstring_free(note);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file),
        cmocka_unit_test(test_maildrop_layout),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_size_record),
        cmocka_unit_test(test_truncated_and_damaged),
        cmocka_unit_test(test_open),
        cmocka_unit_test(test_reasons),
    };
    VSTRING *cmd = vstring_alloc(100);
    int ret;

    msg_init("test_qfile");
    msg_set_logfile("/dev/null");
    mail_conf_eval();
    if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) < 0)
        return 1;
    mkdir("deferred", 0700);
    mkdir("hold", 0700);
    mkdir("maildrop", 0700);
    mkdir("defer", 0700);
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    vstring_sprintf(cmd, "rm -rf %s", tmpdir);
    if (chdir("/") < 0 || system(vstring_str(cmd)) != 0)
        ret = 1;
    vstring_free(cmd);
    return ret;
}
