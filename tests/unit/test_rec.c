/*
 * NAME
 *	test_rec - unit tests for queue file records
 * SYNOPSIS
 *	build/unit/test_rec
 * DESCRIPTION
 *	Round trips through a temporary file (every record type, empty and
 *	binary data, lengths on each varint byte boundary), the exact wire
 *	encoding, long-line splitting, rec_mark_done() in place and its
 *	refusals, rec_attr_split(), and hostile input: unknown types, a
 *	varint that is too long, non-minimal or over the limit, and a file
 *	cut at every byte offset.
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

#include "msg.h"
#include "mymalloc.h"
#include "rec.h"

static char tmp_path[] = "/tmp/test_rec.XXXXXX";
static int tmp_fd = -1;
static VSTRING *buf;

static int setup(void **state)
{
    (void)state;
    tmp_fd = mkstemp(tmp_path);
    assert_true(tmp_fd >= 0);
    unlink(tmp_path);
    buf = vstring_alloc(100);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    close(tmp_fd);
    vstring_free(buf);
    return 0;
}

/* fresh_stream - empty the temp file and return a read-write stream on it */
static VSTREAM *fresh_stream(void)
{
    assert_int_equal(ftruncate(tmp_fd, 0), 0);
    assert_int_equal(lseek(tmp_fd, 0, SEEK_SET), 0);
    return vstream_fdopen(tmp_fd, O_RDWR);
}

/* stream_on - temp file holding exactly data[0..len), positioned at 0 */
static VSTREAM *stream_on(const void *data, size_t len)
{
    assert_int_equal(ftruncate(tmp_fd, 0), 0);
    assert_int_equal(pwrite(tmp_fd, data, len, 0), (ssize_t)len);
    assert_int_equal(lseek(tmp_fd, 0, SEEK_SET), 0);
    return vstream_fdopen(tmp_fd, O_RDWR);
}

/* file_bytes - the whole temp file */
static size_t file_bytes(char *out, size_t size)
{
    ssize_t n = pread(tmp_fd, out, size, 0);

    assert_true(n >= 0);
    return (size_t)n;
}

static void test_round_trip(void **state)
{
    static const int types[] = {
        REC_TYPE_SIZE,      REC_TYPE_TIME, REC_TYPE_FROM, REC_TYPE_ORCP, REC_TYPE_NOTIFY,
        REC_TYPE_DSN_ORCPT, REC_TYPE_RCPT, REC_TYPE_DONE, REC_TYPE_ATTR, REC_TYPE_MESG,
        REC_TYPE_NORM,      REC_TYPE_CONT, REC_TYPE_XTRA, REC_TYPE_END,
    };
    static const size_t sizes[] = {0, 1, 127, 128, 129, 16383, 16384, 100000};
    VSTREAM *fp = fresh_stream();
    char *data = mymalloc(100000);
    char binary[] = "a\0b\r\n\xff";
    size_t i;

    (void)state;
    for (i = 0; i < 100000; i++)
        data[i] = (char)(i * 7 + 3);
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        assert_int_equal(rec_put(fp, types[i], "x", 1), types[i]);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        assert_int_equal(rec_put(fp, REC_TYPE_NORM, data, sizes[i]), REC_TYPE_NORM);
    assert_int_equal(rec_put(fp, REC_TYPE_NORM, binary, sizeof(binary) - 1), REC_TYPE_NORM);
    assert_int_equal(rec_fprintf(fp, REC_TYPE_TIME, "%ld.%06ld", 1700000000L, 42L), REC_TYPE_TIME);
    assert_int_equal(vstream_fflush(fp), 0);

    assert_int_equal(rec_goto(fp, 0), 0);
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        assert_int_equal(rec_get(fp, buf, 0), types[i]);
        assert_string_equal(vstring_str(buf), "x");
    }
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        assert_int_equal(rec_get(fp, buf, 200000), REC_TYPE_NORM);
        assert_int_equal(vstring_len(buf), sizes[i]);
        assert_memory_equal(vstring_str(buf), data, sizes[i]);
    }
    assert_int_equal(rec_get(fp, buf, 100), REC_TYPE_NORM);
    assert_int_equal(vstring_len(buf), sizeof(binary) - 1);
    assert_memory_equal(vstring_str(buf), binary, sizeof(binary) - 1);
    assert_int_equal(rec_get(fp, buf, 100), REC_TYPE_TIME);
    assert_string_equal(vstring_str(buf), "1700000000.000042");
    assert_int_equal(rec_get(fp, buf, 100), REC_TYPE_EOF);
    assert_int_equal(rec_get(fp, buf, 100), REC_TYPE_EOF);
    vstream_fdclose(fp);
    myfree(data);
}

static void test_encoding(void **state)
{
    VSTREAM *fp = fresh_stream();
    char *data = mycalloc(1, 300);
    char raw[400];
    size_t n;

    (void)state;
    assert_int_equal(rec_put(fp, REC_TYPE_RCPT, "ab", 2), REC_TYPE_RCPT);
    assert_int_equal(rec_put(fp, REC_TYPE_NORM, data, 300), REC_TYPE_NORM);
    assert_int_equal(rec_put(fp, REC_TYPE_END, "", 0), REC_TYPE_END);
    assert_int_equal(vstream_fflush(fp), 0);
    n = file_bytes(raw, sizeof(raw));
    assert_int_equal(n, 4 + 3 + 300 + 2);
    assert_memory_equal(raw,
                        "R\x02"
                        "ab",
                        4);
    /* 300 = 0b10_0101100: low 7 bits 0x2c with the continuation bit, then 0x02 */
    assert_memory_equal(raw + 4, "N\xac\x02", 3);
    assert_memory_equal(raw + 4 + 3 + 300, "E\x00", 2);
    vstream_fdclose(fp);
    myfree(data);
}

static void test_put_line(void **state)
{
    const char *line = "0123456789abcdefghijKLMNO";
    VSTREAM *fp = fresh_stream();

    (void)state;
    assert_int_equal(rec_put_line(fp, line, 25, 10), REC_TYPE_NORM);
    assert_int_equal(rec_put_line(fp, line, 20, 10), REC_TYPE_NORM);
    assert_int_equal(rec_put_line(fp, line, 10, 10), REC_TYPE_NORM);
    assert_int_equal(rec_put_line(fp, "", 0, 10), REC_TYPE_NORM);
    assert_int_equal(rec_put_line(fp, line, 3, 1), REC_TYPE_NORM);
    assert_int_equal(rec_goto(fp, 0), 0);

    assert_int_equal(rec_get(fp, buf, 10), REC_TYPE_CONT);
    assert_string_equal(vstring_str(buf), "0123456789");
    assert_int_equal(rec_get(fp, buf, 10), REC_TYPE_CONT);
    assert_string_equal(vstring_str(buf), "abcdefghij");
    assert_int_equal(rec_get(fp, buf, 10), REC_TYPE_NORM);
    assert_string_equal(vstring_str(buf), "KLMNO");

    assert_int_equal(rec_get(fp, buf, 10), REC_TYPE_CONT);
    assert_string_equal(vstring_str(buf), "0123456789");
    assert_int_equal(rec_get(fp, buf, 10), REC_TYPE_NORM);
    assert_string_equal(vstring_str(buf), "abcdefghij");

    assert_int_equal(rec_get(fp, buf, 10), REC_TYPE_NORM);
    assert_string_equal(vstring_str(buf), "0123456789");

    assert_int_equal(rec_get(fp, buf, 10), REC_TYPE_NORM);
    assert_int_equal(vstring_len(buf), 0);

    assert_int_equal(rec_get(fp, buf, 10), REC_TYPE_CONT);
    assert_int_equal(rec_get(fp, buf, 10), REC_TYPE_CONT);
    assert_int_equal(rec_get(fp, buf, 10), REC_TYPE_NORM);
    assert_string_equal(vstring_str(buf), "2");
    assert_int_equal(rec_get(fp, buf, 10), REC_TYPE_EOF);
    vstream_fdclose(fp);
}

static int get_one(const void *data, size_t len, size_t maxlen)
{
    VSTREAM *fp = stream_on(data, len);
    int type = rec_get(fp, buf, maxlen);

    vstream_fdclose(fp);
    return type;
}

static void test_hostile_header(void **state)
{
    (void)state;
    /* unknown types */
    assert_int_equal(get_one("\x00\x00", 2, 10), REC_TYPE_ERROR);
    assert_int_equal(get_one("Z\x00", 2, 10), REC_TYPE_ERROR);
    assert_int_equal(get_one("\xff\x00", 2, 10), REC_TYPE_ERROR);
    assert_int_equal(get_one("n\x00", 2, 10), REC_TYPE_ERROR);
    /* an empty file is a clean EOF */
    assert_int_equal(get_one("", 0, 10), REC_TYPE_EOF);
    /* varint: non-minimal */
    assert_int_equal(get_one("N\x80\x00", 3, 10), REC_TYPE_ERROR);
    assert_int_equal(get_one("N\x81\x80\x00"
                             "a",
                             5, 10),
                     REC_TYPE_ERROR);
    /* varint: 6 bytes */
    assert_int_equal(get_one("N\x80\x80\x80\x80\x80\x01", 7, 10), REC_TYPE_ERROR);
    /* varint: 5 bytes, huge */
    assert_int_equal(get_one("N\xff\xff\xff\xff\x7f", 6, 0), REC_TYPE_ERROR);
    /* varint: 5 bytes, legal encoding of 1 << 28, over REC_DATA_MAX */
    assert_int_equal(get_one("N\x80\x80\x80\x80\x01", 6, 0), REC_TYPE_ERROR);
    /* length just over maxlen, with the data present */
    assert_int_equal(get_one("N\x04"
                             "abcd",
                             6, 3),
                     REC_TYPE_ERROR);
    assert_int_equal(vstring_len(buf), 0);
    assert_int_equal(get_one("N\x04"
                             "abcd",
                             6, 4),
                     REC_TYPE_NORM);
    assert_string_equal(vstring_str(buf), "abcd");
    /* a forged large length with little data: error, bounded memory */
    assert_int_equal(get_one("N\xff\xff\xff\x1f"
                             "abc",
                             8, 0),
                     REC_TYPE_ERROR);
    assert_int_equal(vstring_len(buf), 0);
    /* the longest legal 4-byte varint within REC_DATA_MAX, data missing */
    assert_int_equal(get_one("N\xff\xff\xff\x1f", 5, 0), REC_TYPE_ERROR);
    /* truncated varint */
    assert_int_equal(get_one("N\x80", 2, 10), REC_TYPE_ERROR);
    assert_int_equal(get_one("N", 1, 10), REC_TYPE_ERROR);
}

static void test_put_refusals(void **state)
{
    VSTREAM *fp = fresh_stream();
    char raw[16];

    (void)state;
    assert_int_equal(rec_put(fp, 'Z', "x", 1), REC_TYPE_ERROR);
    assert_int_equal(rec_put(fp, 0, "x", 1), REC_TYPE_ERROR);
    assert_int_equal(rec_put(fp, REC_TYPE_EOF, "x", 1), REC_TYPE_ERROR);
    assert_int_equal(rec_put(fp, REC_TYPE_NORM, "x", (size_t)REC_DATA_MAX + 1), REC_TYPE_ERROR);
    assert_int_equal(vstream_fflush(fp), 0);
    assert_int_equal(file_bytes(raw, sizeof(raw)), 0);
    vstream_fdclose(fp);
}

/* a queue file cut at every byte offset reads as EOF only on a boundary */
static void test_truncated_everywhere(void **state)
{
    VSTREAM *fp = fresh_stream();
    char raw[2000];
    size_t bounds[32];
    int types[32];
    int nrec = 0;
    size_t total;
    char *big = mymalloc(300);

    (void)state;
    memset(big, 'b', 300);
#define PUT(t, d, l)                                                                               \
    do {                                                                                           \
        bounds[nrec] = (size_t)vstream_ftell(fp);                                                  \
        types[nrec++] = (t);                                                                       \
        assert_int_equal(rec_put(fp, (t), (d), (l)), (t));                                         \
    } while (0)
    PUT(REC_TYPE_SIZE, "123 45 1", 8);
    PUT(REC_TYPE_TIME, "1700000000.000001", 17);
    PUT(REC_TYPE_FROM, "", 0);
    PUT(REC_TYPE_RCPT, "user@example.com", 16);
    PUT(REC_TYPE_ATTR, "helo=client", 11);
    PUT(REC_TYPE_MESG, "", 0);
    PUT(REC_TYPE_NORM, big, 300);
    PUT(REC_TYPE_XTRA, "", 0);
    PUT(REC_TYPE_END, "", 0);
    bounds[nrec] = (size_t)vstream_ftell(fp);
    assert_int_equal(vstream_fflush(fp), 0);
    vstream_fdclose(fp);
    total = file_bytes(raw, sizeof(raw));
    assert_int_equal(total, bounds[nrec]);

    for (size_t cut = 0; cut <= total; cut++) {
        int complete = 0; /* records wholly inside the cut */
        int on_boundary = 0;
        int i, type;

        for (i = 0; i <= nrec; i++) {
            if (bounds[i] == cut)
                on_boundary = 1;
            if (i < nrec && bounds[i + 1] <= cut)
                complete++;
        }
        fp = stream_on(raw, cut);
        for (i = 0; i < complete; i++)
            assert_int_equal(rec_get(fp, buf, 1000), types[i]);
        type = rec_get(fp, buf, 1000);
        if (on_boundary)
            assert_int_equal(type, REC_TYPE_EOF);
        else
            assert_int_equal(type, REC_TYPE_ERROR);
        vstream_fdclose(fp);
    }
    myfree(big);
}

static void test_mark_done(void **state)
{
    VSTREAM *fp = fresh_stream();
    off_t rcpt1, rcpt2, attr, here;
    char before[200], after[200];
    size_t n1, n2;

    (void)state;
    rec_put(fp, REC_TYPE_FROM, "sender@example.com", 18);
    rcpt1 = vstream_ftell(fp);
    rec_put(fp, REC_TYPE_RCPT, "one@example.com", 15);
    rcpt2 = vstream_ftell(fp);
    rec_put(fp, REC_TYPE_RCPT, "two@example.com", 15);
    attr = vstream_ftell(fp);
    rec_put(fp, REC_TYPE_ATTR, "a=b", 3);
    rec_put(fp, REC_TYPE_END, "", 0);
    assert_int_equal(vstream_fflush(fp), 0);

    /* read to the middle, mark, and continue reading where we were */
    assert_int_equal(rec_goto(fp, 0), 0);
    assert_int_equal(rec_get(fp, buf, 100), REC_TYPE_FROM);
    here = vstream_ftell(fp);
    assert_int_equal(rec_mark_done(fp, rcpt2), 0);
    assert_int_equal(vstream_ftell(fp), here);
    assert_int_equal(rec_get(fp, buf, 100), REC_TYPE_RCPT);
    assert_string_equal(vstring_str(buf), "one@example.com");
    assert_int_equal(rec_get(fp, buf, 100), REC_TYPE_DONE);
    assert_string_equal(vstring_str(buf), "two@example.com");

    /* a second mark is harmless; the data never changes */
    assert_int_equal(rec_mark_done(fp, rcpt2), 0);
    n1 = file_bytes(before, sizeof(before));
    /* refusals leave the file alone */
    assert_int_equal(rec_mark_done(fp, attr), -1);
    assert_int_equal(rec_mark_done(fp, 0), -1);
    assert_int_equal(rec_mark_done(fp, rcpt1 + 1), -1);
    assert_int_equal(rec_mark_done(fp, 100000), -1);
    assert_int_equal(rec_mark_done(fp, -1), -1);
    n2 = file_bytes(after, sizeof(after));
    assert_int_equal(n1, n2);
    assert_memory_equal(before, after, n1);

    /* mark the other one too: a fresh reader of the file sees two DONE */
    assert_int_equal(rec_mark_done(fp, rcpt1), 0);
    vstream_fdclose(fp);
    n2 = file_bytes(after, sizeof(after));
    assert_int_equal(after[rcpt1], REC_TYPE_DONE);
    assert_int_equal(after[rcpt2], REC_TYPE_DONE);
    assert_int_equal(lseek(tmp_fd, 0, SEEK_SET), 0);
    fp = vstream_fdopen(tmp_fd, O_RDONLY);
    assert_int_equal(rec_get(fp, buf, 100), REC_TYPE_FROM);
    assert_int_equal(rec_get(fp, buf, 100), REC_TYPE_DONE);
    assert_string_equal(vstring_str(buf), "one@example.com");
    assert_int_equal(rec_get(fp, buf, 100), REC_TYPE_DONE);
    assert_int_equal(rec_get(fp, buf, 100), REC_TYPE_ATTR);
    assert_int_equal(rec_get(fp, buf, 100), REC_TYPE_END);
    assert_int_equal(rec_get(fp, buf, 100), REC_TYPE_EOF);
    vstream_fdclose(fp);
}

static void test_mark_done_on_disk(void **state)
{
    VSTREAM *fp = fresh_stream();
    off_t rcpt;
    char raw[100];

    (void)state;
    rec_put(fp, REC_TYPE_FROM, "", 0);
    rcpt = vstream_ftell(fp);
    rec_put(fp, REC_TYPE_RCPT, "x@y", 3);
    rec_put(fp, REC_TYPE_END, "", 0);
    assert_int_equal(rec_mark_done(fp, rcpt), 0);
    /* visible to another reader of the file without any flush by us */
    assert_true(file_bytes(raw, sizeof(raw)) > (size_t)rcpt);
    assert_int_equal(raw[rcpt], REC_TYPE_DONE);
    assert_int_equal(raw[rcpt + 1], 3);
    assert_memory_equal(raw + rcpt + 2, "x@y", 3);
    vstream_fdclose(fp);
}

static void test_attr_split(void **state)
{
    const char *name, *value;

    (void)state;
    vstring_strcpy(buf, "client_address=192.0.2.1");
    assert_int_equal(rec_attr_split(buf, &name, &value), 0);
    assert_string_equal(name, "client_address");
    assert_string_equal(value, "192.0.2.1");
    vstring_strcpy(buf, "helo=a=b");
    assert_int_equal(rec_attr_split(buf, &name, &value), 0);
    assert_string_equal(name, "helo");
    assert_string_equal(value, "a=b");
    vstring_strcpy(buf, "empty=");
    assert_int_equal(rec_attr_split(buf, &name, &value), 0);
    assert_string_equal(value, "");
    vstring_strcpy(buf, "=value");
    assert_int_equal(rec_attr_split(buf, &name, &value), -1);
    vstring_strcpy(buf, "novalue");
    assert_int_equal(rec_attr_split(buf, &name, &value), -1);
    vstring_memcpy(buf, "na\0me=v", 7);
    assert_int_equal(rec_attr_split(buf, &name, &value), -1);
    vstring_memcpy(buf, "name=v\0x", 8);
    assert_int_equal(rec_attr_split(buf, &name, &value), -1);
    vstring_reset(buf);
    for (int i = 0; i < REC_ATTR_NAME_MAX + 1; i++)
        vstring_addch(buf, 'n');
    vstring_strcat(buf, "=v");
    assert_int_equal(rec_attr_split(buf, &name, &value), -1);
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(rec_type_name(REC_TYPE_RCPT), "rcpt");
    assert_string_equal(rec_type_name(REC_TYPE_DONE), "done");
    assert_string_equal(rec_type_name(REC_TYPE_EOF), "eof");
    assert_string_equal(rec_type_name(REC_TYPE_ERROR), "error");
    assert_string_equal(rec_type_name('z'), "unknown");
    assert_true(rec_type_ok(REC_TYPE_END));
    assert_false(rec_type_ok(0));
    assert_false(rec_type_ok(REC_TYPE_EOF));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),   cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_put_line),     cmocka_unit_test(test_hostile_header),
        cmocka_unit_test(test_put_refusals), cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_mark_done),    cmocka_unit_test(test_mark_done_on_disk),
        cmocka_unit_test(test_attr_split),   cmocka_unit_test(test_type_names),
    };

    msg_set_logfile("/dev/null");
    return cmocka_run_group_tests(tests, setup, teardown);
}
