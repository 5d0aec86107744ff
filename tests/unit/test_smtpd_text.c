/*
 * test_smtpd_text - DATA and BDAT content as lines: end of data only at
 * CR LF . CR LF, dot-unstuffing, bare LF and bare CR in every mode (the
 * SMTP smuggling variants), long lines and CR LF split across pieces and
 * chunks, what is left in the stream after the end, EOF.
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

#include "rec.h"
#include "smtpd_text.h"
#include "vstream.h"
#include "vstring.h"

/* collected output: "N:text|L:text|..." */
static VSTRING *out;

static void collect(int type, const char *data, size_t len, void *context)
{
    (void) context;
    vstring_addch(out, type == REC_TYPE_NORM ? 'N' : type == REC_TYPE_CONT ? 'L' : '?');
    vstring_addch(out, ':');
    vstring_memcat(out, data, len);
    vstring_addch(out, '|');
}

/* stream_of - a read stream holding the given bytes */

static VSTREAM *stream_of(const char *data, size_t len)
{
    char path[] = "/tmp/test_smtpd_text.XXXXXX";
    int fd = mkstemp(path);
    VSTREAM *fp;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t) len);
    close(fd);
    fp = vstream_fopen(path, O_RDONLY, 0);
    assert_non_null(fp);
    unlink(path);
    return fp;
}

/* run_data - DATA on input; returns status, output in out, rest in *rest */

static int run_data(int mode, size_t limit, const char *input, int prev_crlf, VSTRING *rest)
{
    VSTREAM *fp = stream_of(input, strlen(input));
    SMTPD_TEXT *text = smtpd_text_create(mode, limit, collect, NULL);
    int status;
    int ch;

    vstring_reset(out);
    status = smtpd_text_data(text, fp, prev_crlf);
    if (rest) {
        vstring_reset(rest);
        while ((ch = vstream_getc(fp)) != VSTREAM_EOF)
            vstring_addch(rest, ch);
    }
    smtpd_text_free(text);
    vstream_fclose(fp);
    return status;
}

static void test_data_basic(void **state)
{
    VSTRING *rest = vstring_alloc(10);

    (void) state;
    assert_int_equal(run_data(SMTPD_TEXT_LF_REJECT, 100,
                              "Subject: x\r\n\r\nbody\r\n..dot\r\n...\r\n.x\r\n.\r\nQUIT\r\n", 1,
                              rest),
                     SMTPD_TEXT_END);
    assert_string_equal(vstring_str(out), "N:Subject: x|N:|N:body|N:.dot|N:..|N:x|");
    assert_string_equal(vstring_str(rest), "QUIT\r\n");
    /* empty message */
    assert_int_equal(run_data(SMTPD_TEXT_LF_REJECT, 100, ".\r\n", 1, NULL), SMTPD_TEXT_END);
    assert_string_equal(vstring_str(out), "");
    /* EOF before the end */
    assert_int_equal(run_data(SMTPD_TEXT_LF_REJECT, 100, "a\r\nb", 1, NULL), SMTPD_TEXT_EOF);
    assert_int_equal(run_data(SMTPD_TEXT_LF_REJECT, 100, "a\r\n", 1, NULL), SMTPD_TEXT_EOF);
    assert_int_equal(run_data(SMTPD_TEXT_LF_REJECT, 100, "", 1, NULL), SMTPD_TEXT_EOF);
    vstring_free(rest);
}

/* the smuggling variants: fake end, then the rest, then the real end */

static const char *fake_ends[] = {
    "\n.\n", "\r.\r", "\r\n.\r", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\n.\r", "\r\n.\r\r", "\r\r.\r\r",
    NULL,
};

static void test_smuggling(void **state)
{
    VSTRING *input = vstring_alloc(100);
    VSTRING *rest = vstring_alloc(10);

    (void) state;
    for (int i = 0; fake_ends[i]; i++) {
        vstring_sprintf(input, "first%sMAIL FROM:<evil>\r\n.\r\nQUIT\r\n", fake_ends[i]);
        int has_bare_lf = 0;

        for (const char *cp = fake_ends[i]; *cp; cp++)
            if (*cp == '\n' && (cp == fake_ends[i] || cp[-1] != '\r'))
                has_bare_lf = 1;
        /* strict: a bare LF stops everything; otherwise one message */
        int status = run_data(SMTPD_TEXT_LF_REJECT, 100, vstring_str(input), 1, rest);

        if (has_bare_lf) {
            assert_int_equal(status, SMTPD_TEXT_BARE_LF);
        } else {
            assert_int_equal(status, SMTPD_TEXT_END);
            assert_non_null(strstr(vstring_str(out), "MAIL FROM:<evil>"));
            assert_string_equal(vstring_str(rest), "QUIT\r\n");
        }
        /* normalize: always exactly one message, the fake end is content */
        status = run_data(SMTPD_TEXT_LF_NORMALIZE, 100, vstring_str(input), 1, rest);
        assert_int_equal(status, SMTPD_TEXT_END);
        assert_non_null(strstr(vstring_str(out), "MAIL FROM:<evil>"));
        assert_string_equal(vstring_str(rest), "QUIT\r\n");
    }
    /* no (legacy): LF . LF ends the message */
    assert_int_equal(run_data(SMTPD_TEXT_LF_ALLOW, 100, "a\n.\nMAIL\r\n", 1, rest),
                     SMTPD_TEXT_END);
    assert_string_equal(vstring_str(out), "N:a|");
    assert_string_equal(vstring_str(rest), "MAIL\r\n");
    /* the line before counts: after a DATA command ending in bare LF, CR LF . CR LF does not end */
    assert_int_equal(run_data(SMTPD_TEXT_LF_NORMALIZE, 100, ".\r\nx\r\n.\r\n", 0, rest),
                     SMTPD_TEXT_END);
    assert_string_equal(vstring_str(out), "N:|N:x|");
    vstring_free(input);
    vstring_free(rest);
}

static void test_data_long_lines(void **state)
{
    VSTRING *input = vstring_alloc(100);
    VSTRING *want = vstring_alloc(100);

    (void) state;
    /* 40 x's with limit 16: pieces of 16, 16, then the rest */
    vstring_strcpy(input, ".");
    for (int i = 0; i < 40; i++)
        vstring_addch(input, 'x');
    vstring_strcat(input, "\r\n.\r\n");
    assert_int_equal(run_data(SMTPD_TEXT_LF_REJECT, 16, vstring_str(input), 1, NULL),
                     SMTPD_TEXT_END);
    /* the leading dot is removed from the first piece only */
    assert_string_equal(vstring_str(out),
                        "L:xxxxxxxxxxxxxxx|L:xxxxxxxxxxxxxxxx|N:xxxxxxxxx|");
    /* a CR LF split by the limit stays a line end, and a line of exactly the limit */
    vstring_strcpy(input, "aaaaaaaaaaaaaaa\r\nbbbbbbbbbbbbbb\r\n.\r\n");
    assert_int_equal(run_data(SMTPD_TEXT_LF_REJECT, 16, vstring_str(input), 1, NULL),
                     SMTPD_TEXT_END);
    assert_string_equal(vstring_str(out), "L:aaaaaaaaaaaaaaa|N:|N:bbbbbbbbbbbbbb|");
    vstring_free(input);
    vstring_free(want);
}

/* ---- BDAT ---- */

static int run_bdat(SMTPD_TEXT *text, const char *data, size_t len, int last)
{
    VSTREAM *fp = stream_of(data, len);
    int status = smtpd_text_bdat(text, fp, (off_t) len, last);

    vstream_fclose(fp);
    return status;
}

static void test_bdat(void **state)
{
    SMTPD_TEXT *text = smtpd_text_create(SMTPD_TEXT_LF_REJECT, 16, collect, NULL);

    (void) state;
    vstring_reset(out);
    assert_int_equal(run_bdat(text, "Subject: a\r\n\r\nline\r", 19, 0), SMTPD_TEXT_END);
    assert_int_equal(run_bdat(text, "\n.no stuffing\r\nab", 17, 0), SMTPD_TEXT_END);
    assert_int_equal(run_bdat(text, "c\r\n", 3, 0), SMTPD_TEXT_END);
    assert_int_equal(run_bdat(text, "", 0, 0), SMTPD_TEXT_END);
    assert_int_equal(run_bdat(text, "tail\r", 5, 1), SMTPD_TEXT_END);
    assert_string_equal(vstring_str(out), "N:Subject: a|N:|N:line|N:.no stuffing|N:abc|N:tail\r|");

    /* long lines across chunks, CR LF at a piece boundary */
    vstring_reset(out);
    assert_int_equal(run_bdat(text, "0123456789", 10, 0), SMTPD_TEXT_END);
    assert_int_equal(run_bdat(text, "abcdefghijklmnopqrstuvwxyz\r\n", 28, 0), SMTPD_TEXT_END);
    assert_int_equal(run_bdat(text, "0123456789abcde\r", 16, 0), SMTPD_TEXT_END);
    assert_int_equal(run_bdat(text, "\n", 1, 1), SMTPD_TEXT_END);
    assert_string_equal(vstring_str(out),
                        "L:0123456789abcdef|L:ghijklmnopqrstuv|N:wxyz|N:0123456789abcde|");

    /* bare LF: refused in REJECT mode, a line end otherwise */
    vstring_reset(out);
    assert_int_equal(run_bdat(text, "a\nb\r\n", 5, 1), SMTPD_TEXT_BARE_LF);
    smtpd_text_free(text);
    text = smtpd_text_create(SMTPD_TEXT_LF_NORMALIZE, 16, collect, NULL);
    vstring_reset(out);
    assert_int_equal(run_bdat(text, "a\nb\r\n\n", 6, 1), SMTPD_TEXT_END);
    assert_string_equal(vstring_str(out), "N:a|N:b|N:|");
    /* reset forgets a partial line */
    vstring_reset(out);
    assert_int_equal(run_bdat(text, "partial", 7, 0), SMTPD_TEXT_END);
    smtpd_text_reset(text);
    assert_int_equal(run_bdat(text, "new\r\n", 5, 1), SMTPD_TEXT_END);
    assert_string_equal(vstring_str(out), "N:new|");
    /* a chunk cut short by EOF */
    VSTREAM *fp = stream_of("abc", 3);

    assert_int_equal(smtpd_text_bdat(text, fp, 10, 1), SMTPD_TEXT_EOF);
    vstream_fclose(fp);
    fp = stream_of("abcdefghij!", 11);
    assert_int_equal(smtpd_text_skip(fp, 10), SMTPD_TEXT_END);
    assert_int_equal(vstream_getc(fp), '!');
    assert_int_equal(smtpd_text_skip(fp, 1), SMTPD_TEXT_EOF);
    vstream_fclose(fp);
    smtpd_text_free(text);
}

static void test_big_chunk(void **state)
{
    /* a chunk far larger than the block size, lines of every length */
    VSTRING *input = vstring_alloc(100000);
    VSTRING *want = vstring_alloc(100000);
    SMTPD_TEXT *text = smtpd_text_create(SMTPD_TEXT_LF_REJECT, 1000, collect, NULL);

    (void) state;
    for (int n = 0; n < 300; n++) {
        for (int i = 0; i < n * 7; i++)
            vstring_addch(input, 'a' + (i % 26));
        vstring_strcat(input, "\r\n");
    }
    vstring_reset(out);
    assert_int_equal(run_bdat(text, vstring_str(input), vstring_len(input), 1), SMTPD_TEXT_END);
    /* rebuild the input from the pieces */
    for (char *cp = vstring_str(out); *cp;) {
        char type = cp[0];
        char *bar = strchr(cp + 2, '|');

        vstring_memcat(want, cp + 2, (size_t) (bar - cp - 2));
        if (type == 'N')
            vstring_strcat(want, "\r\n");
        else
            assert_true(bar - cp - 2 <= 1000);
        cp = bar + 1;
    }
    assert_int_equal(vstring_len(want), vstring_len(input));
    assert_memory_equal(vstring_str(want), vstring_str(input), vstring_len(input));
    smtpd_text_free(text);
    vstring_free(input);
    vstring_free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_basic), cmocka_unit_test(test_smuggling),
        cmocka_unit_test(test_data_long_lines), cmocka_unit_test(test_bdat),
        cmocka_unit_test(test_big_chunk),
    };
    int status;

    out = vstring_alloc(1000);
    status = cmocka_run_group_tests(tests, NULL, NULL);
    vstring_free(out);
    return status;
}
