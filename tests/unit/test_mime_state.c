/*
 * NAME
 *	test_mime_state - unit tests for the MIME structure of message bodies
 * SYNOPSIS
 *	build/unit/test_mime_state
 * DESCRIPTION
 *	Messages are split by header_state(3) as cleanup(8) does (their
 *	own headers go to mime_state_header(), the body to
 *	mime_state_update()) and the callbacks are recorded as text. The
 *	tests check: a plain body is text; multipart boundaries, part
 *	headers, preamble and epilogue; attached messages and their
 *	headers, nested multiparts inside them, multipart/digest; the
 *	close delimiter of an outer level closing the inner ones; the
 *	nesting limit; encodings that make a part opaque; lenient
 *	Content-Type: parsing (comments, folding, quoting, case); boundary
 *	cutting; body segment offsets; the same result whatever the cut
 *	into records (boundaries split into small pieces are still found);
 *	an unfinished last line; and, for random garbage, that every byte
 *	comes back exactly once and in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "header_state.h"
#include "mime_state.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"
#include "vstring.h"

typedef struct SEEN {
    MIME_STATE *ms;
    VSTRING *log;     /* "P(line)(line)|N(..)|b:line|=:line|" */
    VSTRING *line;    /* the body line being assembled */
    int line_class;   /* class of its first piece */
    VSTRING *out;     /* the body as given back */
    VSTRING *offsets; /* "offset," of each line start */
    int body_started;
} SEEN;

static void seen_head(void *context, int class, HEADER_FIELD *field)
{
    SEEN *seen = context;
    size_t len;

    assert_true(class == MIME_CLASS_PART || class == MIME_CLASS_NESTED);
    assert_int_equal(vstring_len(seen->line), 0);
    vstring_addch(seen->log, class == MIME_CLASS_PART ? 'P' : 'N');
    for (int i = 0; i < field->line_count; i++) {
        const char *line = header_field_line(field, i, &len);

        vstring_sprintf_append(seen->log, "(%.*s)", (int)len, line);
        vstring_memcat(seen->out, line, len);
        vstring_addch(seen->out, '\n');
    }
    vstring_strcat(seen->log, "|");
}

static void seen_body(void *context, int class, int type, const char *data, size_t len,
                      long long offset)
{
    SEEN *seen = context;

    assert_true(class == MIME_CLASS_BODY || class == MIME_CLASS_BOUNDARY);
    assert_true(type == REC_TYPE_NORM || type == REC_TYPE_CONT);
    if (vstring_len(seen->line) == 0 && seen->line_class == 0) {
        seen->line_class = class;
        vstring_sprintf_append(seen->offsets, "%lld,", offset);
    }
    assert_int_equal(class, seen->line_class); /* one class per line */
    vstring_memcat(seen->line, data, len);
    vstring_memcat(seen->out, data, len);
    if (type == REC_TYPE_NORM) {
        vstring_addch(seen->out, '\n');
        vstring_sprintf_append(seen->log, "%s:%s|", class == MIME_CLASS_BODY ? "b" : "=",
                               vstring_str(seen->line));
        vstring_reset(seen->line);
        seen->line_class = 0;
    }
}

/* the message's own header section goes through header_state, as in cleanup */
static void primary_header(void *context, HEADER_FIELD *field)
{
    SEEN *seen = context;

    mime_state_header(seen->ms, field);
}

static void primary_eoh(void *context)
{
    (void)context;
}

static void primary_body(void *context, int type, const char *data, size_t len)
{
    SEEN *seen = context;

    seen->body_started = 1;
    mime_state_update(seen->ms, type, data, len);
}

static void seen_init(SEEN *seen, int depth, size_t boundary_limit)
{
    memset(seen, 0, sizeof(*seen));
    seen->log = vstring_alloc(256);
    seen->line = vstring_alloc(100);
    seen->out = vstring_alloc(256);
    seen->offsets = vstring_alloc(100);
    seen->ms = mime_state_create(1 << 20, depth, boundary_limit, seen_head, seen_body, seen);
}

static void seen_free(SEEN *seen)
{
    mime_state_free(seen->ms);
    vstring_free(seen->log);
    vstring_free(seen->line);
    vstring_free(seen->out);
    vstring_free(seen->offsets);
}

/*
 * run - feed text (lines ended by '\n'; a last line without one stays
 * unfinished) in records of at most piece bytes (0: whole lines); return
 * what the body looked like; check that every body byte came back.
 */
static void run(SEEN *seen, const char *text, size_t piece)
{
    HEADER_STATE *hs = header_state_create(10240, primary_header, primary_eoh, primary_body, seen);
    const char *cp = text;
    const char *end = text + strlen(text);

    while (cp < end) {
        const char *nl = memchr(cp, '\n', (size_t)(end - cp));
        size_t len = (size_t)((nl ? nl : end) - cp);

        if (piece == 0) {
            header_state_update(hs, nl ? REC_TYPE_NORM : REC_TYPE_CONT, cp, len);
            cp += len;
        } else {
            do {
                size_t n = len > piece ? piece : len;

                header_state_update(hs, (n == len && nl) ? REC_TYPE_NORM : REC_TYPE_CONT, cp, n);
                cp += n;
                len -= n;
            } while (len > 0);
        }
        if (nl)
            cp++;
    }
    header_state_finish(hs);
    header_state_free(hs);
    mime_state_finish(seen->ms);
    assert_int_equal(vstring_len(seen->line), 0);
}

/* body_of - the text after the first empty line (what the callbacks give back) */
static const char *body_of(const char *text)
{
    const char *cp = strstr(text, "\n\n");

    return cp ? cp + 1 : NULL;
}

static void check_log(const char *text, size_t piece, const char *expect)
{
    SEEN seen;

    seen_init(&seen, 100, 2048);
    run(&seen, text, piece);
    if (strcmp(vstring_str(seen.log), expect) != 0)
        fail_msg("piece %zu:\n got  %s\n want %s", piece, vstring_str(seen.log), expect);
    if (body_of(text))
        assert_string_equal(vstring_str(seen.out), body_of(text));
    seen_free(&seen);
}

/* every cut into records gives the same result */
static void check_all_cuts(const char *text, const char *expect)
{
    static const size_t pieces[] = {0, 1, 2, 3, 5, 7, 64};

    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++)
        check_log(text, pieces[i], expect);
}

static void test_plain(void **unused)
{
    (void)unused;
    check_all_cuts("Subject: x\n\nhello\n--not a boundary\n\nbye\n",
                   "b:|b:hello|b:--not a boundary|b:|b:bye|");
}

static const char multipart[] = "From: a@example.org\n"
                                "Content-Type: multipart/mixed; boundary=\"XX\"\n"
                                "\n"
                                "preamble\n"
                                "--XX\n"
                                "Content-Type: text/plain\n"
                                "X-Foo: bar\n"
                                "\n"
                                "part one\n"
                                "--XX  \n"
                                "Content-Type: application/octet-stream;\n"
                                "\tname=\"evil.exe\"\n"
                                "Content-Transfer-Encoding: base64\n"
                                "\n"
                                "AAAA\n"
                                "--XXY\n" /* a delimiter too: only the prefix is compared */
                                "--XX--\n"
                                "epilogue\n";

static void test_multipart(void **unused)
{
    (void)unused;
    check_all_cuts(multipart,
                   "b:|b:preamble|=:--XX|P(Content-Type: text/plain)|P(X-Foo: bar)|b:|"
                   "b:part one|=:--XX  |P(Content-Type: application/octet-stream;)"
                   "(\tname=\"evil.exe\")|P(Content-Transfer-Encoding: base64)|b:|b:AAAA|"
                   "=:--XXY|=:--XX--|b:epilogue|");
}

static void test_offsets(void **unused)
{
    SEEN seen;

    (void)unused;
    seen_init(&seen, 100, 2048);
    run(&seen, multipart, 0);
    /* the terminator line of the primary headers starts the body at 0;
     * a boundary is at 0; so is the line that ends a part's headers */
    assert_string_equal(vstring_str(seen.offsets), "0,1,0,0,1,0,0,1,0,0,0,");
    seen_free(&seen);
}

static const char nested[] = "Content-Type: multipart/mixed; boundary=outer\n"
                             "\n"
                             "--outer\n"
                             "Content-Type: message/rfc822\n"
                             "\n"
                             "Subject: inner\n"
                             "Content-Type: multipart/alternative;\n"
                             " boundary=\"inner\"\n"
                             "\n"
                             "--inner\n"
                             "Content-Type: text/html\n"
                             "\n"
                             "<p>hi</p>\n"
                             "--outer\n"
                             "X-Part: 2\n"
                             "\n"
                             "--inner\n"
                             "--outer--\n"
                             "after\n";

static void test_nested(void **unused)
{
    (void)unused;
    /* the outer delimiter closes the inner multipart: "--inner" after it is text */
    check_all_cuts(nested, "b:|=:--outer|P(Content-Type: message/rfc822)|b:|N(Subject: inner)|"
                           "N(Content-Type: multipart/alternative;)( boundary=\"inner\")|b:|"
                           "=:--inner|P(Content-Type: text/html)|b:|b:<p>hi</p>|=:--outer|"
                           "P(X-Part: 2)|b:|b:--inner|=:--outer--|b:after|");
}

static void test_top_message(void **unused)
{
    (void)unused;
    check_all_cuts("Content-Type: message/rfc822\n\nFrom: x@y\nSubject: s\n\nbody\n",
                   "b:|N(From: x@y)|N(Subject: s)|b:|b:body|");
}

static void test_digest(void **unused)
{
    (void)unused;
    check_all_cuts("Content-Type: multipart/digest; boundary=d\n\n"
                   "--d\n\nSubject: one\n\nm1\n"
                   "--d\nContent-Type: text/plain\n\nnot a header: here\n--d--\n",
                   "b:|=:--d|b:|N(Subject: one)|b:|b:m1|=:--d|P(Content-Type: text/plain)|b:|"
                   "b:not a header: here|=:--d--|");
}

static void test_opaque(void **unused)
{
    (void)unused;
    check_all_cuts("Content-Type: multipart/mixed; boundary=b\n"
                   "Content-Transfer-Encoding: base64\n\n--b\nX: y\n\n--b--\n",
                   "b:|b:--b|b:X: y|b:|b:--b--|");
    check_all_cuts("Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                   "Content-Type: message/rfc822\nContent-Transfer-Encoding: quoted-printable\n\n"
                   "Subject: hidden\n--b--\n",
                   "b:|=:--b|P(Content-Type: message/rfc822)|"
                   "P(Content-Transfer-Encoding: quoted-printable)|b:|b:Subject: hidden|=:--b--|");
    /* 7bit, 8bit and binary are identity encodings */
    check_all_cuts("Content-Type: multipart/mixed; boundary=b\n"
                   "Content-Transfer-Encoding: (c) 8BIT\n\n--b\nX: y\n\n--b--\n",
                   "b:|=:--b|P(X: y)|b:|=:--b--|");
}

static void test_type_parsing(void **unused)
{
    (void)unused;
    /* comments, folding, case, spaces around '=', quoted boundary with a space */
    check_all_cuts("content-type: (c) MultiPart (x) / Mixed (y);\n"
                   "\tcharset=us-ascii; BOUNDARY = \"a \\\"b\"\n\n"
                   "--a \"b\nX: 1\n\n--a \"b--\n",
                   "b:|=:--a \"b|P(X: 1)|b:|=:--a \"b--|");
    /* no boundary, an empty boundary, or no subtype: text */
    check_all_cuts("Content-Type: multipart/mixed\n\n--\nx\n", "b:|b:--|b:x|");
    check_all_cuts("Content-Type: multipart/mixed; boundary=\"\"\n\n--\nx\n", "b:|b:--|b:x|");
    check_all_cuts("Content-Type: multipart; boundary=z\n\n--z\n", "b:|b:--z|");
    /* message/partial is not an attached message */
    check_all_cuts("Content-Type: message/partial\n\nSubject: x\n", "b:|b:Subject: x|");
    /* the last Content-Type: counts */
    check_all_cuts("Content-Type: multipart/mixed; boundary=q\nContent-Type: text/plain\n\n--q\n",
                   "b:|b:--q|");
    /* junk between parameters */
    check_all_cuts("Content-Type: multipart/mixed junk ; x ; =y; boundary=k\n\n--k\n\n--k--\n",
                   "b:|=:--k|b:|=:--k--|");
}

static void test_depth_limit(void **unused)
{
    SEEN seen;
    const char *text = "Content-Type: multipart/mixed; boundary=a\n\n"
                       "--a\nContent-Type: multipart/mixed; boundary=b\n\n"
                       "--b\nContent-Type: multipart/mixed; boundary=c\n\n"
                       "--c\nX: 1\n\n--a--\n";

    (void)unused;
    seen_init(&seen, 2, 2048);
    run(&seen, text, 0);
    assert_string_equal(vstring_str(seen.log),
                        "b:|=:--a|P(Content-Type: multipart/mixed; boundary=b)|b:|=:--b|"
                        "P(Content-Type: multipart/mixed; boundary=c)|b:|b:--c|b:X: 1|b:|=:--a--|");
    assert_true(mime_state_errors(seen.ms) & MIME_ERR_NESTING);
    seen_free(&seen);

    /* attached messages count too */
    seen_init(&seen, 1, 2048);
    run(&seen, "Content-Type: message/rfc822\n\nContent-Type: message/rfc822\n\nX: y\n", 0);
    assert_string_equal(vstring_str(seen.log), "b:|N(Content-Type: message/rfc822)|b:|b:X: y|");
    assert_true(mime_state_errors(seen.ms) & MIME_ERR_NESTING);
    seen_free(&seen);

    seen_init(&seen, 100, 2048);
    run(&seen, text, 0);
    assert_int_equal(mime_state_errors(seen.ms), 0);
    seen_free(&seen);
}

static void test_deep_bounded(void **unused)
{
    VSTRING *text = vstring_alloc(100000);
    SEEN seen;

    (void)unused;
    /* 5000 levels against a limit of 100: no recursion, no growth past the limit */
    for (int i = 0; i < 5000; i++)
        vstring_sprintf_append(text, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i,
                               i);
    vstring_strcat(text, "X: y\n\nend\n");
    seen_init(&seen, 100, 2048);
    run(&seen, vstring_str(text), 0);
    assert_true(mime_state_errors(seen.ms) & MIME_ERR_NESTING);
    assert_string_equal(vstring_str(seen.out), body_of(vstring_str(text)));
    seen_free(&seen);
    vstring_free(text);
}

static void test_boundary_limit(void **unused)
{
    SEEN seen;

    (void)unused;
    seen_init(&seen, 100, 4);
    run(&seen, "Content-Type: multipart/mixed; boundary=abcdefgh\n\n--abcdXYZ\nX: 1\n\n--abcd--\n",
        0);
    /* only the first 4 bytes of the boundary are compared */
    assert_string_equal(vstring_str(seen.log), "b:|=:--abcdXYZ|P(X: 1)|b:|=:--abcd--|");
    assert_true(mime_state_errors(seen.ms) & MIME_ERR_BOUNDARY);
    seen_free(&seen);
}

static void test_long_boundary_line(void **unused)
{
    VSTRING *text = vstring_alloc(10000);
    VSTRING *expect = vstring_alloc(10000);

    (void)unused;
    /* transport padding longer than any piece: still a boundary */
    vstring_strcpy(text, "Content-Type: multipart/mixed; boundary=zz\n\n--zz");
    for (int i = 0; i < 5000; i++)
        vstring_addch(text, ' ');
    vstring_strcat(text, "\nX: 1\n\n--zz--\n");
    vstring_strcpy(expect, "b:|=:--zz");
    for (int i = 0; i < 5000; i++)
        vstring_addch(expect, ' ');
    vstring_strcat(expect, "|P(X: 1)|b:|=:--zz--|");
    check_all_cuts(vstring_str(text), vstring_str(expect));
    vstring_free(text);
    vstring_free(expect);
}

static void test_unfinished(void **unused)
{
    SEEN seen;

    (void)unused;
    /* the last line has no end: the body gets an end of line */
    seen_init(&seen, 100, 2048);
    run(&seen, "Content-Type: multipart/mixed; boundary=b\n\n--b\nX: 1\n\ntext\n--b-", 3);
    assert_string_equal(vstring_str(seen.log), "b:|=:--b|P(X: 1)|b:|b:text|=:--b-|");
    seen_free(&seen);

    /* a header section cut short */
    seen_init(&seen, 100, 2048);
    run(&seen, "Content-Type: multipart/mixed; boundary=b\n\n--b\nX: 1\n continued", 0);
    assert_string_equal(vstring_str(seen.log), "b:|=:--b|P(X: 1)( continued)|");
    seen_free(&seen);

    /* an empty body */
    seen_init(&seen, 100, 2048);
    run(&seen, "Subject: x\n", 0);
    assert_string_equal(vstring_str(seen.log), "");
    seen_free(&seen);
}

static void test_part_ends_in_headers(void **unused)
{
    (void)unused;
    /* a boundary while a part's headers are still open ends them */
    check_all_cuts("Content-Type: multipart/mixed; boundary=b\n\n--b\nX: 1\n--b\nY: 2\n\n--b--\n",
                   "b:|=:--b|P(X: 1)|=:--b|P(Y: 2)|b:|=:--b--|");
    /* a part whose headers end with a line that is not empty */
    check_all_cuts("Content-Type: multipart/mixed; boundary=b\n\n--b\nX: 1\nnot a header\n--b--\n",
                   "b:|=:--b|P(X: 1)|b:not a header|=:--b--|");
}

static void test_is_mime_header(void **unused)
{
    (void)unused;
    assert_true(mime_state_is_mime_header("content-type", 12));
    assert_true(mime_state_is_mime_header("Content-Transfer-Encoding", 25));
    assert_true(mime_state_is_mime_header("MIME-VERSION", 12));
    assert_true(mime_state_is_mime_header("Content-ID", 10));
    assert_true(mime_state_is_mime_header("Content-Disposition", 19));
    assert_true(mime_state_is_mime_header("Content-Description", 19));
    assert_false(mime_state_is_mime_header("Content-Typ", 11));
    assert_false(mime_state_is_mime_header("Content-Length", 14));
    assert_false(mime_state_is_mime_header("Subject", 7));
    assert_false(mime_state_is_mime_header("Content-Typex", 13));
}

/* garbage: every byte comes back once, in order, whatever the cut */
static void test_garbage(void **unused)
{
    static const char *words[] = {
        "--",
        "-",
        "a",
        "b",
        "\n",
        "\n\n",
        " ",
        "\t",
        ":",
        "X: y\n",
        "Content-Type: multipart/mixed; boundary=a\n",
        "Content-Type: message/rfc822\n",
        "Content-Type: multipart/digest; boundary=\"b\"\n",
        "Content-Transfer-Encoding: base64\n",
        "--a\n",
        "--b\n",
        "--a--\n",
        "(",
        ")",
        "\"",
        ";",
        "=",
        "\\",
        "\0",
    };
    VSTRING *text = vstring_alloc(4096);
    unsigned seed = 12345;

    (void)unused;
    for (int round = 0; round < 400; round++) {
        SEEN seen;
        size_t piece, pos;

        vstring_strcpy(text, round % 2 ? "Content-Type: multipart/mixed; boundary=a\n\n" : "");
        for (int n = 0; n < 200; n++) {
            seed = seed * 1103515245 + 12345;
            const char *w = words[(seed >> 16) % (sizeof(words) / sizeof(words[0]))];

            vstring_memcat(text, w, *w ? strlen(w) : 1);
        }
        seed = seed * 1103515245 + 12345;
        piece = 1 + (seed >> 16) % 17;
        seen_init(&seen, 1 + round % 5, 1 + round % 7);
        for (pos = 0; pos < vstring_len(text);) {
            const char *cp = vstring_str(text) + pos;
            const char *nl = memchr(cp, '\n', vstring_len(text) - pos);
            size_t len = nl ? (size_t)(nl - cp) : vstring_len(text) - pos;
            size_t n = len > piece ? piece : len;

            mime_state_update(seen.ms, (n == len && nl) ? REC_TYPE_NORM : REC_TYPE_CONT, cp, n);
            pos += n + ((n == len && nl) ? 1 : 0);
        }
        mime_state_finish(seen.ms);
        /* an unfinished last line is ended with a newline */
        if (vstring_len(text) && vstring_str(text)[vstring_len(text) - 1] != '\n')
            vstring_addch(text, '\n');
        assert_int_equal(vstring_len(seen.out), vstring_len(text));
        assert_memory_equal(vstring_str(seen.out), vstring_str(text), vstring_len(text));
        seen_free(&seen);
    }
    vstring_free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),          cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_offsets),        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_top_message),    cmocka_unit_test(test_digest),
        cmocka_unit_test(test_opaque),         cmocka_unit_test(test_type_parsing),
        cmocka_unit_test(test_depth_limit),    cmocka_unit_test(test_deep_bounded),
        cmocka_unit_test(test_boundary_limit), cmocka_unit_test(test_long_boundary_line),
        cmocka_unit_test(test_unfinished),     cmocka_unit_test(test_part_ends_in_headers),
        cmocka_unit_test(test_is_mime_header), cmocka_unit_test(test_garbage),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
