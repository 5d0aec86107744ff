/*
 * NAME
 *	fuzz_header - libFuzzer harness for header/body splitting
 * SYNOPSIS
 *	build/fuzz/fuzz_header [libFuzzer options] [corpus...]
 * DESCRIPTION
 *	The first input byte picks header_size_limit (64 * (byte + 1),
 *	raised by header_state to its minimum); the rest is message text,
 *	split into records at each '\n': a line that ends in '\\' (removed)
 *	is a CONT record, any other a NORM record. The text goes through
 *	header_state, and the harness checks that:
 *	- the end-of-headers callback runs exactly once, before any body
 *	  record and after every header field;
 *	- each field starts with a name that header_name_len() accepts,
 *	  of the length reported, is within the limit, and its lines join
 *	  back to its text;
 *	- when no field was truncated, the header lines followed by the
 *	  body lines give back exactly the lines that went in (with CONT
 *	  pieces joined): nothing is lost, added or reordered;
 *	- header_opts_find() agrees with the field's opts;
 *	- header_addr_scan() of each field's value gives ranges inside the
 *	  value, in order, not overlapping, never empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "header_addr.h"
#include "header_state.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"
#include "vstring.h"

typedef struct FUZZ_STATE {
    VSTRING *out;       /* lines seen, each followed by '\n' */
    VSTRING *piece;     /* body line being assembled */
    size_t limit;
    int eoh;
    int truncated;
} FUZZ_STATE;

static void fuzz_header_fn(void *context, HEADER_FIELD *field)
{
    FUZZ_STATE *fs = context;
    size_t len, total = 0;

    if (fs->eoh)
        abort();                                /* a header after the end of headers */
    if (field->name_len == 0 || header_name_len(vstring_str(field->text),
                                                vstring_len(field->text)) != field->name_len)
        abort();
    if (field->opts != header_opts_find(vstring_str(field->text), field->name_len))
        abort();
    if (vstring_len(field->text) > fs->limit && vstring_len(field->text) > 512)
        abort();
    if (field->line_count < 1)
        abort();
    for (int i = 0; i < field->line_count; i++) {
        const char *line = header_field_line(field, i, &len);

        total += len + (i > 0);
        vstring_memcat(fs->out, line, len);
        vstring_addch(fs->out, '\n');
    }
    if (total != vstring_len(field->text))
        abort();
    if (field->truncated)
        fs->truncated = 1;
    {
        HEADER_ADDR_SPAN *spans;
        size_t vlen, prev_end = 0;
        const char *value = header_value(vstring_str(field->text), vstring_len(field->text),
                                         field->name_len, &vlen);
        int n = header_addr_scan(value, vlen, &spans);

        for (int i = 0; i < n; i++) {
            if (spans[i].len == 0 || spans[i].start < prev_end ||
                spans[i].start + spans[i].len > vlen)
                abort();
            prev_end = spans[i].start + spans[i].len;
        }
        if (n < 0 && spans != NULL)
            abort();
        myfree(spans);
    }
}

static void fuzz_eoh_fn(void *context)
{
    FUZZ_STATE *fs = context;

    if (fs->eoh++)
        abort();
}

static void fuzz_body_fn(void *context, int type, const char *data, size_t len)
{
    FUZZ_STATE *fs = context;

    if (!fs->eoh)
        abort();
    vstring_memcat(fs->piece, data, len);
    if (type == REC_TYPE_NORM) {
        vstring_memcat(fs->out, vstring_str(fs->piece), vstring_len(fs->piece));
        vstring_addch(fs->out, '\n');
        vstring_reset(fs->piece);
    } else if (type != REC_TYPE_CONT) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialized;
    FUZZ_STATE fs;
    HEADER_STATE *hs;
    VSTRING *want;
    VSTRING *line;
    const char *cp, *end, *nl;
    int pending = 0;                            /* a CONT began a line not yet ended */

    if (!initialized) {
        msg_set_logfile("/dev/null");
        initialized = 1;
    }
    if (size < 1)
        return 0;
    memset(&fs, 0, sizeof(fs));
    fs.limit = 64 * ((size_t) data[0] + 1);
    fs.out = vstring_alloc(size + 10);
    fs.piece = vstring_alloc(100);
    want = vstring_alloc(size + 10);
    line = vstring_alloc(100);
    hs = header_state_create(fs.limit, fuzz_header_fn, fuzz_eoh_fn, fuzz_body_fn, &fs);

    cp = (const char *) data + 1;
    end = (const char *) data + size;
    while (cp < end) {
        size_t len;

        nl = memchr(cp, '\n', (size_t) (end - cp));
        len = nl ? (size_t) (nl - cp) : (size_t) (end - cp);
        if (len > 0 && cp[len - 1] == '\\') {
            header_state_update(hs, REC_TYPE_CONT, cp, len - 1);
            vstring_memcat(line, cp, len - 1);
            pending = 1;
        } else {
            header_state_update(hs, REC_TYPE_NORM, cp, len);
            vstring_memcat(line, cp, len);
            vstring_memcat(want, vstring_str(line), vstring_len(line));
            vstring_addch(want, '\n');
            vstring_reset(line);
            pending = 0;
        }
        cp += len + 1;
    }
    header_state_finish(hs);
    if (pending) {                              /* the unfinished last line was ended */
        vstring_memcat(want, vstring_str(line), vstring_len(line));
        vstring_addch(want, '\n');
    }
    if (fs.eoh != 1)
        abort();
    if (!fs.truncated && (vstring_len(want) != vstring_len(fs.out) ||
                          memcmp(vstring_str(want), vstring_str(fs.out), vstring_len(want)) != 0))
        abort();

    header_state_free(hs);
    vstring_free(fs.out);
    vstring_free(fs.piece);
    vstring_free(want);
    vstring_free(line);
    return 0;
}
