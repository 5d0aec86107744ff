/*
 * NAME
 *	fuzz_mime_state - libFuzzer harness for the MIME structure parser
 * SYNOPSIS
 *	build/fuzz/fuzz_mime_state [libFuzzer options] [corpus...]
 * DESCRIPTION
 *	The first three input bytes pick the nesting limit (1 + byte % 8),
 *	the boundary limit (1 + byte % 64) and the record size (0: whole
 *	lines, else 1 + byte % 31); the rest is a message, split into
 *	lines at each '\n' and each line into records of that size. The
 *	message goes through header_state (its own headers to
 *	mime_state_header(), the body to mime_state_update()) as cleanup(8)
 *	does, and the harness checks that:
 *	- every byte comes back exactly once and in order, through the
 *	  header callbacks (primary, part and nested) and the body
 *	  callback, with an unfinished last line ended;
 *	- each part or nested header field starts with a header name of
 *	  the length reported and its lines join back to its text;
 *	- each body line has one class from start to end, classes and
 *	  record types are valid;
 *	- offsets count the bytes of the current segment: each record's
 *	  offset is the previous one plus its length (plus one for a line
 *	  end), or 0 where a segment starts, and boundary lines start one;
 *	- mime_state_errors() holds only defined bits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "header_opts.h"
#include "header_state.h"
#include "mime_state.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"
#include "vstring.h"

#define FUZZ_HEADER_LIMIT (1 << 20) /* larger than any input: nothing truncated */

typedef struct FUZZ_STATE {
    MIME_STATE *ms;
    VSTRING *out;          /* what came back */
    int line_class;        /* class of the current body line, 0 at a line start */
    long long next_offset; /* what the next body record's offset should be */
} FUZZ_STATE;

static void fuzz_field(FUZZ_STATE *fs, HEADER_FIELD *field)
{
    size_t len, total = 0;

    if (field->name_len == 0 ||
        header_name_len(vstring_str(field->text), vstring_len(field->text)) != field->name_len ||
        field->truncated || field->line_count < 1)
        abort();
    for (int i = 0; i < field->line_count; i++) {
        const char *line = header_field_line(field, i, &len);

        total += len + (i > 0);
        vstring_memcat(fs->out, line, len);
        vstring_addch(fs->out, '\n');
    }
    if (total != vstring_len(field->text))
        abort();
}

static void fuzz_head(void *context, int class, HEADER_FIELD *field)
{
    FUZZ_STATE *fs = context;

    if ((class != MIME_CLASS_PART && class != MIME_CLASS_NESTED) || fs->line_class != 0)
        abort();
    fuzz_field(fs, field);
}

static void fuzz_body(void *context, int class, int type, const char *data, size_t len,
                      long long offset)
{
    FUZZ_STATE *fs = context;

    if (class != MIME_CLASS_BODY && class != MIME_CLASS_BOUNDARY)
        abort();
    if (type != REC_TYPE_NORM && type != REC_TYPE_CONT)
        abort();
    if (fs->line_class == 0) {
        if (class == MIME_CLASS_BOUNDARY && offset != 0)
            abort();
        fs->line_class = class;
    } else if (fs->line_class != class) {
        abort();
    }
    if (offset != 0 && offset != fs->next_offset)
        abort();
    fs->next_offset = offset + (long long)len + (type == REC_TYPE_NORM);
    vstring_memcat(fs->out, data, len);
    if (type == REC_TYPE_NORM) {
        vstring_addch(fs->out, '\n');
        fs->line_class = 0;
    }
}

static void fuzz_primary_header(void *context, HEADER_FIELD *field)
{
    FUZZ_STATE *fs = context;

    fuzz_field(fs, field);
    mime_state_header(fs->ms, field);
}

static void fuzz_primary_eoh(void *context)
{
    (void)context;
}

static void fuzz_primary_body(void *context, int type, const char *data, size_t len)
{
    FUZZ_STATE *fs = context;

    mime_state_update(fs->ms, type, data, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialized;
    FUZZ_STATE fs;
    HEADER_STATE *hs;
    const char *cp, *end, *nl;
    size_t piece;
    int depth;
    size_t blimit;

    if (!initialized) {
        msg_init("fuzz_mime_state");
        initialized = 1;
    }
    if (size < 3)
        return 0;
    depth = 1 + data[0] % 8;
    blimit = 1 + data[1] % 64;
    piece = data[2] == 0 ? 0 : 1 + data[2] % 31;
    cp = (const char *)data + 3;
    end = (const char *)data + size;

    memset(&fs, 0, sizeof(fs));
    fs.out = vstring_alloc(size + 16);
    fs.ms = mime_state_create(FUZZ_HEADER_LIMIT, depth, blimit, fuzz_head, fuzz_body, &fs);
    hs = header_state_create(FUZZ_HEADER_LIMIT, fuzz_primary_header, fuzz_primary_eoh,
                             fuzz_primary_body, &fs);
    while (cp < end) {
        size_t len;

        nl = memchr(cp, '\n', (size_t)(end - cp));
        len = (size_t)((nl ? nl : end) - cp);
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
    mime_state_finish(fs.ms);
    if (mime_state_errors(fs.ms) & ~(MIME_ERR_NESTING | MIME_ERR_BOUNDARY))
        abort();
    if (fs.line_class != 0)
        abort();

    /* everything back, in order; an unfinished last line gets its end */
    {
        size_t in_len = size - 3;
        const char *in = (const char *)data + 3;
        size_t want = in_len + (in_len > 0 && in[in_len - 1] != '\n');

        if (vstring_len(fs.out) != want || memcmp(vstring_str(fs.out), in, in_len) != 0)
            abort();
    }
    mime_state_free(fs.ms);
    vstring_free(fs.out);
    return 0;
}
