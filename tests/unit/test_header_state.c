/*
 * NAME
 *	test_header_state - unit tests for header/body splitting
 * SYNOPSIS
 *	build/unit/test_header_state
 * DESCRIPTION
 *	Content given as NORM/CONT records is split into header fields
 *	and body records: continuation lines join their field; the header
 *	section ends at the empty line, at a line that is not a header, or
 *	at a continuation line with no field before it; header names are
 *	recognised in pieces, with white space before the colon and up to
 *	the name limit; header_size_limit truncates a field (and drops its
 *	further continuation lines) without losing body text; the end of
 *	content ends an unfinished line; the body text comes out exactly as
 *	it went in, whatever the cut into records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "header_state.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"
#include "vstring.h"

/* what the callbacks saw, as text: "H[name](lines)|..." "E|" "B:line|" */
typedef struct SEEN {
    VSTRING *log;
    VSTRING *body_line;     /* the body line being assembled from pieces */
    int eoh_count;
    int truncated;
    int types[40];
    int ntypes;
} SEEN;

static void seen_header(void *context, HEADER_FIELD *field)
{
    SEEN *seen = context;
    size_t len;

    vstring_sprintf_append(seen->log, "H[%.*s]", (int) field->name_len, vstring_str(field->text));
    for (int i = 0; i < field->line_count; i++) {
        const char *line = header_field_line(field, i, &len);

        vstring_sprintf_append(seen->log, "(%.*s)", (int) len, line);
    }
    vstring_strcat(seen->log, "|");
    if (field->truncated)
        seen->truncated++;
    if (seen->ntypes < 40)
        seen->types[seen->ntypes++] = field->opts ? field->opts->type : -1;
}

static void seen_eoh(void *context)
{
    SEEN *seen = context;

    seen->eoh_count++;
    vstring_strcat(seen->log, "E|");
}

static void seen_body(void *context, int type, const char *data, size_t len)
{
    SEEN *seen = context;

    vstring_memcat(seen->body_line, data, len);
    if (type == REC_TYPE_NORM) {
        vstring_sprintf_append(seen->log, "B:%s|", vstring_str(seen->body_line));
        vstring_reset(seen->body_line);
    }
}

static HEADER_STATE *seen_start(SEEN *seen, size_t limit)
{
    memset(seen, 0, sizeof(*seen));
    seen->log = vstring_alloc(100);
    seen->body_line = vstring_alloc(100);
    return header_state_create(limit, seen_header, seen_eoh, seen_body, seen);
}

static void seen_done(SEEN *seen, HEADER_STATE *hs)
{
    header_state_free(hs);
    vstring_free(seen->log);
    vstring_free(seen->body_line);
}

/* feed - each string is one NORM record; a string ending in '\\' (removed) is a CONT */

static void feed(HEADER_STATE *hs, const char *const *lines)
{
    for (; *lines; lines++) {
        size_t len = strlen(*lines);

        if (len > 0 && (*lines)[len - 1] == '\\')
            header_state_update(hs, REC_TYPE_CONT, *lines, len - 1);
        else
            header_state_update(hs, REC_TYPE_NORM, *lines, len);
    }
}

static void run(const char *const *lines, const char *want)
{
    SEEN seen;
    HEADER_STATE *hs = seen_start(&seen, 102400);

    feed(hs, lines);
    header_state_finish(hs);
    assert_string_equal(vstring_str(seen.log), want);
    assert_int_equal(seen.eoh_count, 1);
    seen_done(&seen, hs);
}

static void test_basic(void **unused)
{
    (void) unused;
    static const char *const msg[] = {"From: a@example.org", "Subject: hello", "", "body", NULL};

    run(msg, "H[From](From: a@example.org)|H[Subject](Subject: hello)|E|B:|B:body|");
}

static void test_folding(void **unused)
{
    (void) unused;
    static const char *const msg[] = {"To: a@example.org,", " b@example.org,", "\tc@example.org",
                                      "X-Y: z", "", NULL};

    run(msg, "H[To](To: a@example.org,)( b@example.org,)(\tc@example.org)|H[X-Y](X-Y: z)|E|B:|");
}

static void test_end_without_empty_line(void **unused)
{
    (void) unused;
    static const char *const a[] = {"Subject: s", "not a header line", "Subject: body", NULL};
    static const char *const b[] = {" leading white space", "Subject: x", NULL};
    static const char *const c[] = {"Subject: only headers", " folded", NULL};
    static const char *const d[] = {NULL};
    static const char *const e[] = {":colon first", NULL};
    static const char *const f[] = {"From sender@example.org Tue Nov 21", "Subject: x", NULL};
    static const char *const g[] = {"Bad\x01Name: x", NULL};

    run(a, "H[Subject](Subject: s)|E|B:not a header line|B:Subject: body|");
    run(b, "E|B: leading white space|B:Subject: x|");
    run(c, "H[Subject](Subject: only headers)( folded)|E|");
    run(d, "E|");
    run(e, "E|B::colon first|");
    run(f, "E|B:From sender@example.org Tue Nov 21|B:Subject: x|");
    run(g, "E|B:Bad\x01Name: x|");
}

static void test_obsolete_space_before_colon(void **unused)
{
    (void) unused;
    static const char *const msg[] = {"Subject  : old style", "Subject\t:tab", "", NULL};

    run(msg, "H[Subject](Subject  : old style)|H[Subject](Subject\t:tab)|E|B:|");
}

static void test_pieces(void **unused)
{
    (void) unused;
    /* a header name cut into pieces, a long header, a body line in pieces */
    static const char *const msg[] = {"Sub\\", "ject: \\", "cut", "X-Long: a\\", "b\\", "c",
                                      " d\\", "e", "", "bo\\", "dy\\", " text", "x\\", NULL};

    run(msg, "H[Subject](Subject: cut)|H[X-Long](X-Long: abc)( de)|E|B:|B:body text|B:x|");
}

static void test_body_line_undecided_then_body(void **unused)
{
    (void) unused;
    /* "abc" could start a header name until the end of the line says no */
    static const char *const msg[] = {"Subject: s", "abc\\", "def\\", " ghi", NULL};

    run(msg, "H[Subject](Subject: s)|E|B:abcdef ghi|");
}

static void test_name_limits(void **unused)
{
    SEEN seen;
    HEADER_STATE *hs;
    VSTRING *line = vstring_alloc(600);

    (void) unused;
    /* a name of HEADER_NAME_MAX bytes is a header; one more is body */
    for (int extra = 0; extra <= 1; extra++) {
        hs = seen_start(&seen, 102400);
        vstring_reset(line);
        for (int i = 0; i < HEADER_NAME_MAX + extra; i++)
            vstring_addch(line, 'n');
        vstring_strcat(line, ": v");
        header_state_update(hs, REC_TYPE_NORM, vstring_str(line), vstring_len(line));
        header_state_finish(hs);
        if (extra)
            assert_int_equal(strncmp(vstring_str(seen.log), "E|B:", 4), 0);
        else
            assert_int_equal(strncmp(vstring_str(seen.log), "H[", 2), 0);
        seen_done(&seen, hs);
    }
    /* too much white space before the colon: body */
    hs = seen_start(&seen, 102400);
    vstring_strcpy(line, "Name");
    for (int i = 0; i < HEADER_WSP_MAX + 1; i++)
        vstring_addch(line, ' ');
    vstring_strcat(line, ": v");
    header_state_update(hs, REC_TYPE_NORM, vstring_str(line), vstring_len(line));
    header_state_finish(hs);
    assert_int_equal(strncmp(vstring_str(seen.log), "E|B:Name", 8), 0);
    seen_done(&seen, hs);
    vstring_free(line);
}

static void test_truncation(void **unused)
{
    SEEN seen;
    HEADER_STATE *hs = seen_start(&seen, 1000);
    char big[1500];

    (void) unused;
    memset(big, 'a', sizeof(big));
    memcpy(big, "X-Big: ", 7);
    header_state_update(hs, REC_TYPE_CONT, big, 600);
    header_state_update(hs, REC_TYPE_NORM, big + 600, 900);
    header_state_update(hs, REC_TYPE_NORM, " more continuation", 18);
    header_state_update(hs, REC_TYPE_NORM, "Subject: next", 13);
    header_state_update(hs, REC_TYPE_NORM, "", 0);
    header_state_update(hs, REC_TYPE_NORM, big, sizeof(big));
    header_state_finish(hs);
    assert_int_equal(seen.truncated, 1);
    /* the field holds exactly the limit; the next header and the whole body survive */
    assert_non_null(strstr(vstring_str(seen.log), "|H[Subject](Subject: next)|E|B:|B:X-Big: "));
    {
        const char *first = strchr(vstring_str(seen.log), '(');
        const char *close = strchr(first, ')');

        assert_int_equal(close - first - 1, 1000);
    }
    {
        const char *last = strstr(vstring_str(seen.log), "|B:X-Big: ") + 3;

        assert_int_equal(strlen(last), sizeof(big) + 1);      /* the whole line and "|" */
    }
    seen_done(&seen, hs);

    /* continuation lines past the limit are dropped whole */
    hs = seen_start(&seen, 600);
    header_state_update(hs, REC_TYPE_NORM, big, 599);
    header_state_update(hs, REC_TYPE_NORM, " x", 2);
    header_state_update(hs, REC_TYPE_NORM, " y", 2);
    header_state_finish(hs);
    assert_int_equal(seen.truncated, 1);
    assert_null(strstr(vstring_str(seen.log), "( y)"));
    seen_done(&seen, hs);
}

static void test_known_headers(void **unused)
{
    SEEN seen;
    HEADER_STATE *hs = seen_start(&seen, 102400);
    static const char *const msg[] = {"message-id: <x@y>", "RECEIVED: from x", "X-Other: 1",
                                      "resent-bcc: a", "", NULL};

    (void) unused;
    feed(hs, msg);
    header_state_finish(hs);
    assert_int_equal(seen.ntypes, 4);
    assert_int_equal(seen.types[0], HDR_MESSAGE_ID);
    assert_int_equal(seen.types[1], HDR_RECEIVED);
    assert_int_equal(seen.types[2], -1);
    assert_int_equal(seen.types[3], HDR_RESENT_BCC);
    seen_done(&seen, hs);
}

static void test_finish_ends_lines(void **unused)
{
    SEEN seen;
    HEADER_STATE *hs = seen_start(&seen, 102400);

    (void) unused;
    header_state_update(hs, REC_TYPE_NORM, "", 0);
    header_state_update(hs, REC_TYPE_CONT, "unfinished", 10);
    assert_true(header_state_in_body(hs));
    header_state_finish(hs);
    assert_string_equal(vstring_str(seen.log), "E|B:|B:unfinished|");
    seen_done(&seen, hs);

    hs = seen_start(&seen, 102400);
    header_state_update(hs, REC_TYPE_CONT, "Subj", 4);
    assert_false(header_state_in_body(hs));
    header_state_finish(hs);
    assert_string_equal(vstring_str(seen.log), "E|B:Subj|");
    seen_done(&seen, hs);
}

/* the same text cut at every place gives the same result */

static void test_any_cut(void **unused)
{
    static const char text[] = "Subject: a\n b\nX: y\n\nbody\n";
    SEEN seen;
    VSTRING *want = vstring_alloc(100);

    (void) unused;
    for (size_t cut = 0; cut <= sizeof(text) - 1; cut++) {
        HEADER_STATE *hs = seen_start(&seen, 102400);
        const char *cp = text;
        const char *end = text + sizeof(text) - 1;

        while (cp < end) {
            const char *nl = memchr(cp, '\n', (size_t) (end - cp));
            size_t len = (size_t) (nl - cp);
            size_t at = (size_t) (cp - text);

            if (cut > at && cut < at + len) {
                header_state_update(hs, REC_TYPE_CONT, cp, cut - at);
                header_state_update(hs, REC_TYPE_NORM, cp + (cut - at), len - (cut - at));
            } else {
                header_state_update(hs, REC_TYPE_NORM, cp, len);
            }
            cp = nl + 1;
        }
        header_state_finish(hs);
        if (cut == 0)
            vstring_strcpy(want, vstring_str(seen.log));
        else
            assert_string_equal(vstring_str(seen.log), vstring_str(want));
        seen_done(&seen, hs);
    }
    assert_string_equal(vstring_str(want), "H[Subject](Subject: a)( b)|H[X](X: y)|E|B:|B:body|");
    vstring_free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_folding),
        cmocka_unit_test(test_end_without_empty_line),
        cmocka_unit_test(test_obsolete_space_before_colon),
        cmocka_unit_test(test_pieces),
        cmocka_unit_test(test_body_line_undecided_then_body),
        cmocka_unit_test(test_name_limits),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_known_headers),
        cmocka_unit_test(test_finish_ends_lines),
        cmocka_unit_test(test_any_cut),
    };

    msg_init("test_header_state");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
