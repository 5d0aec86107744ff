/*
 * NAME
 *	mime_state - the MIME structure of a message body, line by line
 * SYNOPSIS
 *	#include "mime_state.h"
 *
 *	MIME_STATE *mime_state_create(size_t header_limit, int depth_limit,
 *				size_t boundary_limit,
 *				MIME_STATE_HEAD_FN head_fn,
 *				MIME_STATE_BODY_FN body_fn, void *context)
 *	void mime_state_header(MIME_STATE *state, const HEADER_FIELD *field)
 *	void mime_state_update(MIME_STATE *state, int type,
 *				const char *data, size_t len)
 *	void mime_state_finish(MIME_STATE *state)
 *	int mime_state_errors(MIME_STATE *state)
 *	void mime_state_free(MIME_STATE *state)
 *	int mime_state_is_mime_header(const char *name, size_t len)
 * DESCRIPTION
 *	The contract is in mime_state.h. How it is kept:
 *
 *	The state is a stack of the multiparts that are open (each with
 *	its boundary, cut to boundary_limit bytes, and the depth of its
 *	parts) and the mode of the current section: the line that ended
 *	the message's own headers, a header section (of a body part or of
 *	an attached message, split by a header_state(3) of its own), the
 *	rest of the line that ended such a section, a boundary line, or
 *	text.
 *
 *	Only a line that starts with "--" while a multipart is open can
 *	be a boundary. Such a line is compared with the open boundaries,
 *	innermost first, as a prefix: "--" boundary, then "--" for the
 *	close delimiter; whatever follows (transport padding) does not
 *	matter. When a line of that kind arrives in pieces, its start is
 *	kept until there are enough bytes to decide (boundary_limit + 4)
 *	or the line ends, so that cutting a line into small records cannot
 *	hide a boundary.
 *
 *	At the end of a header section its Content-Type: decides what
 *	follows: multipart/ANY with a non-empty boundary opens a level
 *	(multipart/digest makes message/rfc822 the default type of its
 *	parts), message/rfc822 and message/global start the header section
 *	of the attached message, anything else is text; a
 *	Content-Transfer-Encoding: other than 7bit, 8bit or binary makes
 *	any part text. A delimiter closes the levels inside its own and
 *	starts the headers of the next part; a close delimiter closes its
 *	level too, and what follows is the epilogue, text of the enclosing
 *	part.
 *
 *	Content-Type: values are read leniently (RFC 2045 tokens, quoted
 *	strings, comments, line breaks of folded headers); a value that
 *	does not parse means text/plain. RFC 2231 parameter continuations
 *	are not joined.
 * SEE ALSO
 *	header_state(3), RFC 2045, RFC 2046
 */
#include <string.h>
#include <strings.h>

#include "header_opts.h"
#include "mime_state.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"
#include "vstring.h"

/* what the headers of a section said */
#define MS_KIND_TEXT 0
#define MS_KIND_MULTIPART 1
#define MS_KIND_MESSAGE 2

/* modes */
#define MS_FIRST 0    /* the line that ended the message's own headers */
#define MS_HEADERS 1  /* a header section, fed to ms->hs */
#define MS_TAIL 2     /* the rest of the line that ended a header section */
#define MS_BOUNDARY 3 /* the rest of a boundary line */
#define MS_BODY 4     /* text */
#define MS_DONE 5

typedef struct MS_LEVEL {
    VSTRING *boundary; /* cut to boundary_limit */
    int depth;         /* depth of the parts of this multipart */
    int digest;        /* multipart/digest */
} MS_LEVEL;

struct MIME_STATE {
    size_t header_limit;
    int depth_limit;
    size_t boundary_limit;
    MIME_STATE_HEAD_FN head_fn;
    MIME_STATE_BODY_FN body_fn;
    void *context;
    int errors;
    /* open multiparts */
    MS_LEVEL *stack;
    int stack_len;
    int stack_alloc;
    int depth;
    /* the type the headers of the current section announce */
    int kind;
    int digest;
    int opaque;        /* not an identity encoding */
    VSTRING *boundary; /* empty: none */
    /* the current section */
    int mode;
    HEADER_STATE *hs;
    int hs_class;
    int hs_eoh;
    int boundary_close;
    int boundary_digest;
    int mid_line; /* the last record handled was a CONT piece */
    long long offset;
    /* the start of a line that may still turn out to be a boundary */
    VSTRING *pending;
    int pending_on;
    size_t decide_len;
};

/* ms_name_is - does the header field have this name? */

static int ms_name_is(const HEADER_FIELD *field, const char *name)
{
    size_t len = strlen(name);

    return field->name_len == len && strncasecmp(vstring_str(field->text), name, len) == 0;
}

int mime_state_is_mime_header(const char *name, size_t len)
{
    static const char *names[] = {
        "Content-Description", "Content-Disposition", "Content-ID", "Content-Transfer-Encoding",
        "Content-Type",        "MIME-Version",        NULL,
    };

    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
            return 1;
    return 0;
}

/* ---------------------------------------------------------------- parsing */

/* ms_skip_cfws - skip white space (line breaks included) and comments */

static const char *ms_skip_cfws(const char *cp, const char *end)
{
    int level;

    while (cp < end) {
        if (*cp == ' ' || *cp == '\t' || *cp == '\r' || *cp == '\n') {
            cp++;
        } else if (*cp == '(') {
            for (level = 0; cp < end; cp++) {
                if (*cp == '\\' && cp + 1 < end)
                    cp++;
                else if (*cp == '(')
                    level++;
                else if (*cp == ')' && --level == 0) {
                    cp++;
                    break;
                }
            }
        } else {
            break;
        }
    }
    return cp;
}

/* ms_token - an RFC 2045 token: returns its end (== cp when there is none) */

static const char *ms_token(const char *cp, const char *end)
{
    static const char tspecials[] = "()<>@,;:\\\"/[]?=";

    while (cp < end && (unsigned char)*cp > ' ' && (unsigned char)*cp < 0x7f &&
           strchr(tspecials, *cp) == NULL)
        cp++;
    return cp;
}

/* ms_is - is [cp, end) equal to word, ignoring case? */

static int ms_is(const char *cp, const char *end, const char *word)
{
    size_t len = strlen(word);

    return (size_t)(end - cp) == len && strncasecmp(cp, word, len) == 0;
}

/* ms_value - a parameter value (token or quoted string) into buf; returns where it ends */

static const char *ms_value(const char *cp, const char *end, VSTRING *buf)
{
    const char *start;

    vstring_reset(buf);
    if (cp < end && *cp == '"') {
        for (cp++; cp < end && *cp != '"'; cp++) {
            if (*cp == '\\' && cp + 1 < end)
                cp++;
            if (*cp != '\r' && *cp != '\n')
                vstring_addch(buf, *cp);
        }
        return cp < end ? cp + 1 : cp;
    }
    start = cp;
    cp = ms_token(cp, end);
    vstring_memcpy(buf, start, (size_t)(cp - start));
    return cp;
}

/* ms_parse_type - a Content-Type: value */

static void ms_parse_type(MIME_STATE *ms, const char *cp, size_t len)
{
    const char *end = cp + len;
    const char *type, *type_end, *sub, *sub_end, *attr, *attr_end;
    VSTRING *value;

    ms->kind = MS_KIND_TEXT;
    ms->digest = 0;
    vstring_reset(ms->boundary);
    cp = ms_skip_cfws(cp, end);
    type = cp;
    cp = type_end = ms_token(cp, end);
    cp = ms_skip_cfws(cp, end);
    if (type == type_end || cp >= end || *cp != '/')
        return;
    cp = ms_skip_cfws(cp + 1, end);
    sub = cp;
    cp = sub_end = ms_token(cp, end);
    if (sub == sub_end)
        return;
    if (ms_is(type, type_end, "multipart")) {
        ms->kind = MS_KIND_MULTIPART;
        ms->digest = ms_is(sub, sub_end, "digest");
    } else if (ms_is(type, type_end, "message") &&
               (ms_is(sub, sub_end, "rfc822") || ms_is(sub, sub_end, "global"))) {
        ms->kind = MS_KIND_MESSAGE;
        return;
    } else {
        return;
    }
    /* parameters: only the boundary matters */
    value = vstring_alloc(64);
    for (;;) {
        cp = ms_skip_cfws(cp, end);
        if (cp >= end)
            break;
        if (*cp != ';') {
            /* junk: go on at the next ';' */
            while (cp < end && *cp != ';')
                cp++;
            continue;
        }
        cp = ms_skip_cfws(cp + 1, end);
        attr = cp;
        cp = attr_end = ms_token(cp, end);
        cp = ms_skip_cfws(cp, end);
        if (cp >= end || *cp != '=')
            continue;
        cp = ms_skip_cfws(cp + 1, end);
        cp = ms_value(cp, end, value);
        if (ms_is(attr, attr_end, "boundary") && vstring_len(value) > 0) {
            if (vstring_len(value) > ms->boundary_limit) {
                vstring_truncate(value, ms->boundary_limit);
                ms->errors |= MIME_ERR_BOUNDARY;
            }
            vstring_memcpy(ms->boundary, vstring_str(value), vstring_len(value));
        }
    }
    vstring_free(value);
}

/* ms_parse_encoding - a Content-Transfer-Encoding: value */

static void ms_parse_encoding(MIME_STATE *ms, const char *cp, size_t len)
{
    const char *end = cp + len;
    const char *word;

    cp = ms_skip_cfws(cp, end);
    word = cp;
    cp = ms_token(cp, end);
    ms->opaque = !(ms_is(word, cp, "7bit") || ms_is(word, cp, "8bit") || ms_is(word, cp, "binary"));
}

/* ms_note - remember what a header says about the section's content */

static void ms_note(MIME_STATE *ms, const HEADER_FIELD *field)
{
    const char *value;
    size_t vlen;

    if (ms_name_is(field, "Content-Type")) {
        value = header_value(vstring_str(field->text), vstring_len(field->text), field->name_len,
                             &vlen);
        ms_parse_type(ms, value, vlen);
    } else if (ms_name_is(field, "Content-Transfer-Encoding")) {
        value = header_value(vstring_str(field->text), vstring_len(field->text), field->name_len,
                             &vlen);
        ms_parse_encoding(ms, value, vlen);
    }
}

/* ---------------------------------------------------------------- output */

static void ms_emit(MIME_STATE *ms, int class, int type, const char *data, size_t len)
{
    ms->body_fn(ms->context, class, type, data, len, ms->offset);
    ms->offset += (long long)len + (type == REC_TYPE_NORM);
}

static void ms_hs_header(void *context, HEADER_FIELD *field)
{
    MIME_STATE *ms = context;

    ms_note(ms, field);
    ms->head_fn(ms->context, ms->hs_class, field);
}

static void ms_hs_eoh(void *context)
{
    MIME_STATE *ms = context;

    ms->hs_eoh = 1;
    ms->offset = 0; /* a body segment starts */
}

static void ms_hs_body(void *context, int type, const char *data, size_t len)
{
    ms_emit((MIME_STATE *)context, MIME_CLASS_BODY, type, data, len);
}

/* ---------------------------------------------------------------- structure */

/* ms_headers - a header section starts; kind is the default type of its content */

static void ms_headers(MIME_STATE *ms, int class, int kind)
{
    ms->kind = kind;
    ms->digest = 0;
    ms->opaque = 0;
    vstring_reset(ms->boundary);
    ms->hs = header_state_create(ms->header_limit, ms_hs_header, ms_hs_eoh, ms_hs_body, ms);
    ms->hs_class = class;
    ms->hs_eoh = 0;
    ms->mode = MS_HEADERS;
}

/* ms_end_headers - drop the header splitter of the current section */

static void ms_end_headers(MIME_STATE *ms, int finish)
{
    if (ms->hs == NULL)
        return;
    if (finish)
        header_state_finish(ms->hs);
    header_state_free(ms->hs);
    ms->hs = NULL;
}

/* ms_enter - the line that ended a header section is over: what follows? */

static void ms_enter(MIME_STATE *ms)
{
    MS_LEVEL *level;

    ms->mode = MS_BODY;
    if (ms->opaque)
        return;
    if (ms->kind == MS_KIND_MULTIPART && vstring_len(ms->boundary) > 0) {
        if (ms->depth >= ms->depth_limit) {
            ms->errors |= MIME_ERR_NESTING;
            return;
        }
        if (ms->stack_len == ms->stack_alloc) {
            ms->stack_alloc = ms->stack_alloc ? 2 * ms->stack_alloc : 4;
            ms->stack = myrealloc(ms->stack, sizeof(*ms->stack) * (size_t)ms->stack_alloc);
            for (int i = ms->stack_len; i < ms->stack_alloc; i++)
                ms->stack[i].boundary = NULL;
        }
        level = ms->stack + ms->stack_len++;
        if (level->boundary == NULL)
            level->boundary = vstring_alloc(64);
        vstring_memcpy(level->boundary, vstring_str(ms->boundary), vstring_len(ms->boundary));
        level->depth = ++ms->depth;
        level->digest = ms->digest;
    } else if (ms->kind == MS_KIND_MESSAGE) {
        if (ms->depth >= ms->depth_limit) {
            ms->errors |= MIME_ERR_NESTING;
            return;
        }
        ms->depth++;
        ms_headers(ms, MIME_CLASS_NESTED, MS_KIND_TEXT);
    }
}

/* ms_match - which open multipart does this line delimit? -1 when none */

static int ms_match(MIME_STATE *ms, const char *data, size_t len, int *close)
{
    if (len < 2 || data[0] != '-' || data[1] != '-')
        return -1;
    for (int k = ms->stack_len - 1; k >= 0; k--) {
        const VSTRING *b = ms->stack[k].boundary;
        size_t blen = vstring_len(b);

        if (len - 2 >= blen && memcmp(data + 2, vstring_str(b), blen) == 0) {
            *close = len - 2 - blen >= 2 && data[2 + blen] == '-' && data[3 + blen] == '-';
            return k;
        }
    }
    return -1;
}

/* ms_boundary - a boundary line of level k starts */

static void ms_boundary(MIME_STATE *ms, int k, int close)
{
    MS_LEVEL *level = ms->stack + k;

    ms_end_headers(ms, 1);
    ms->boundary_close = close;
    ms->boundary_digest = level->digest;
    if (close) {
        ms->depth = level->depth - 1;
        ms->stack_len = k;
    } else {
        ms->depth = level->depth;
        ms->stack_len = k + 1;
    }
    ms->offset = 0;
    ms->mode = MS_BOUNDARY;
}

/* ms_after_boundary - the boundary line is over */

static void ms_after_boundary(MIME_STATE *ms)
{
    ms->offset = 0;
    if (ms->boundary_close)
        ms->mode = MS_BODY; /* the epilogue */
    else
        ms_headers(ms, MIME_CLASS_PART, ms->boundary_digest ? MS_KIND_MESSAGE : MS_KIND_TEXT);
}

/* ms_piece - one record whose place in the line is known */

static void ms_piece(MIME_STATE *ms, int type, const char *data, size_t len)
{
    int at_start = !ms->mid_line;
    int close, k;

    ms->mid_line = (type == REC_TYPE_CONT);
    if (ms->mode == MS_BOUNDARY) {
        ms_emit(ms, MIME_CLASS_BOUNDARY, type, data, len);
        if (type == REC_TYPE_NORM)
            ms_after_boundary(ms);
        return;
    }
    if (at_start && ms->stack_len > 0 && (k = ms_match(ms, data, len, &close)) >= 0) {
        ms_boundary(ms, k, close);
        ms_emit(ms, MIME_CLASS_BOUNDARY, type, data, len);
        if (type == REC_TYPE_NORM)
            ms_after_boundary(ms);
        return;
    }
    switch (ms->mode) {
    case MS_FIRST:
    case MS_TAIL:
        ms_emit(ms, MIME_CLASS_BODY, type, data, len);
        if (type == REC_TYPE_NORM)
            ms_enter(ms);
        return;
    case MS_HEADERS:
        header_state_update(ms->hs, type, data, len);
        if (ms->hs_eoh) {
            ms_end_headers(ms, 0);
            if (type == REC_TYPE_NORM)
                ms_enter(ms);
            else
                ms->mode = MS_TAIL;
        }
        return;
    case MS_BODY:
        ms_emit(ms, MIME_CLASS_BODY, type, data, len);
        return;
    default:
        msg_panic("mime_state: bad mode %d", ms->mode);
    }
}

/* ms_dash_prefix - could a line that starts with these bytes begin with "--"? */

static int ms_dash_prefix(const char *data, size_t len)
{
    return len >= 2 ? data[0] == '-' && data[1] == '-' : len == 0 || data[0] == '-';
}

/* ---------------------------------------------------------------- interface */

MIME_STATE *mime_state_create(size_t header_limit, int depth_limit, size_t boundary_limit,
                              MIME_STATE_HEAD_FN head_fn, MIME_STATE_BODY_FN body_fn, void *context)
{
    MIME_STATE *ms = mycalloc(1, sizeof(*ms));

    if (depth_limit < 1 || boundary_limit < 1 || header_limit < 1)
        msg_panic("mime_state_create: bad limits");
    ms->header_limit = header_limit;
    ms->depth_limit = depth_limit;
    ms->boundary_limit = boundary_limit;
    ms->head_fn = head_fn;
    ms->body_fn = body_fn;
    ms->context = context;
    ms->boundary = vstring_alloc(64);
    ms->pending = vstring_alloc(64);
    ms->decide_len = boundary_limit + 4;
    ms->kind = MS_KIND_TEXT;
    ms->mode = MS_FIRST;
    return ms;
}

void mime_state_header(MIME_STATE *ms, const HEADER_FIELD *field)
{
    if (ms->mode == MS_FIRST && ms->offset == 0 && !ms->mid_line)
        ms_note(ms, field);
}

void mime_state_update(MIME_STATE *ms, int type, const char *data, size_t len)
{
    if (type != REC_TYPE_NORM && type != REC_TYPE_CONT)
        msg_panic("mime_state_update: record type %d", type);
    if (ms->mode == MS_DONE)
        msg_panic("mime_state_update: called after mime_state_finish");
    if (ms->pending_on) {
        vstring_memcat(ms->pending, data, len);
        if (type == REC_TYPE_NORM || vstring_len(ms->pending) >= ms->decide_len) {
            ms->pending_on = 0;
            ms_piece(ms, type, vstring_str(ms->pending), vstring_len(ms->pending));
        }
        return;
    }
    if (!ms->mid_line && ms->stack_len > 0 && ms->mode != MS_BOUNDARY && type == REC_TYPE_CONT &&
        len < ms->decide_len && ms_dash_prefix(data, len)) {
        vstring_memcpy(ms->pending, data, len);
        ms->pending_on = 1;
        return;
    }
    ms_piece(ms, type, data, len);
}

void mime_state_finish(MIME_STATE *ms)
{
    if (ms->mode == MS_DONE)
        msg_panic("mime_state_finish: called twice");
    if (ms->pending_on) {
        ms->pending_on = 0;
        ms_piece(ms, REC_TYPE_CONT, vstring_str(ms->pending), vstring_len(ms->pending));
    }
    if (ms->mid_line)
        ms_piece(ms, REC_TYPE_NORM, "", 0);
    ms_end_headers(ms, 1);
    ms->mode = MS_DONE;
}

int mime_state_errors(MIME_STATE *ms)
{
    return ms->errors;
}

void mime_state_free(MIME_STATE *ms)
{
    if (ms->hs)
        header_state_free(ms->hs);
    for (int i = 0; i < ms->stack_alloc; i++)
        if (ms->stack[i].boundary)
            vstring_free(ms->stack[i].boundary);
    myfree(ms->stack);
    vstring_free(ms->boundary);
    vstring_free(ms->pending);
    myfree(ms);
}
