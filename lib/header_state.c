/*
 * NAME
 *	header_state - split message content into header fields and body
 * SYNOPSIS
 *	#include "header_state.h"
 *
 *	HEADER_STATE *header_state_create(size_t header_limit,
 *				HEADER_STATE_HEADER_FN header_fn,
 *				HEADER_STATE_EOH_FN eoh_fn,
 *				HEADER_STATE_BODY_FN body_fn, void *context)
 *	void header_state_update(HEADER_STATE *state, int type,
 *				const char *data, size_t len)
 *	void header_state_finish(HEADER_STATE *state)
 *	int header_state_in_body(HEADER_STATE *state)
 *	void header_state_free(HEADER_STATE *state)
 *	const char *header_field_line(const HEADER_FIELD *field, int i,
 *				size_t *len)
 * DESCRIPTION
 *	header_state is a small state machine fed one content record at
 *	a time. While in the header section it must decide, for each new
 *	line, whether the line starts a header field, continues the
 *	current one, or starts the body. It keeps the first bytes of the
 *	line (at most HEADER_NAME_MAX + HEADER_WSP_MAX + 2) until it can
 *	tell; pieces of a header line then go straight into the field.
 *	A field is handed to header_fn only when the next line shows that
 *	it has no more continuation lines.
 *
 *	Once in the body, records are passed to body_fn as they come,
 *	without copying. The first body line may come as two pieces: the
 *	bytes kept to classify it, then the rest of the record.
 *
 *	A header_limit below HEADER_NAME_MAX + HEADER_WSP_MAX + 2 is raised
 *	to that, so that a field always holds its whole name.
 * DIAGNOSTICS
 *	A record type other than NORM or CONT, or a call after
 *	header_state_finish(), is a programming error (msg_panic).
 */
#include <string.h>

#include "header_state.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"

#define HS_CLASSIFY_MAX (HEADER_NAME_MAX + HEADER_WSP_MAX + 2)

/* where the next record goes */
#define HS_LINE_START 0      /* a new line: nothing kept yet */
#define HS_LINE_UNDECIDED 1  /* the start of a line is kept in state->line */
#define HS_LINE_FIELD 2      /* the rest of a header line goes into the field */
#define HS_BODY 3            /* everything goes to body_fn */
#define HS_DONE 4            /* finished */

/* what a line is */
#define HS_CLASS_UNDECIDED 0
#define HS_CLASS_HEADER 1
#define HS_CLASS_CONT 2
#define HS_CLASS_BODY 3

struct HEADER_STATE {
    size_t limit;
    HEADER_STATE_HEADER_FN header_fn;
    HEADER_STATE_EOH_FN eoh_fn;
    HEADER_STATE_BODY_FN body_fn;
    void *context;
    HEADER_FIELD field;
    int have_field;        /* field holds a header not yet handed over */
    VSTRING *line;         /* the start of an undecided line */
    size_t line_name_len;  /* name length when the line starts a header */
    int mode;              /* HS_LINE_* etc. */
    int body_mid_line;     /* in the body, the last record was CONT */
};

HEADER_STATE *header_state_create(size_t header_limit, HEADER_STATE_HEADER_FN header_fn,
                                  HEADER_STATE_EOH_FN eoh_fn, HEADER_STATE_BODY_FN body_fn,
                                  void *context)
{
    HEADER_STATE *state = mycalloc(1, sizeof(*state));

    state->limit = header_limit < HS_CLASSIFY_MAX ? HS_CLASSIFY_MAX : header_limit;
    state->header_fn = header_fn;
    state->eoh_fn = eoh_fn;
    state->body_fn = body_fn;
    state->context = context;
    state->field.text = vstring_alloc(256);
    state->field.line_alloc = 8;
    state->field.line_ends = mymalloc(sizeof(size_t) * (size_t) state->field.line_alloc);
    state->line = vstring_alloc(HS_CLASSIFY_MAX + 1);
    state->mode = HS_LINE_START;
    return state;
}

void header_state_free(HEADER_STATE *state)
{
    vstring_free(state->field.text);
    myfree(state->field.line_ends);
    vstring_free(state->line);
    myfree(state);
}

int header_state_in_body(HEADER_STATE *state)
{
    return state->mode == HS_BODY || (state->mode == HS_DONE);
}

const char *header_field_line(const HEADER_FIELD *field, int i, size_t *len)
{
    size_t start;

    if (i < 0 || i >= field->line_count)
        msg_panic("header_field_line: line %d of %d", i, field->line_count);
    start = i == 0 ? 0 : field->line_ends[i - 1] + 1;
    *len = field->line_ends[i] - start;
    return vstring_str(field->text) + start;
}

/* header_state_append - add bytes to the last line of the field, within the limit */

static void header_state_append(HEADER_STATE *state, const char *data, size_t len)
{
    HEADER_FIELD *field = &state->field;
    size_t used = vstring_len(field->text);
    size_t room = used < state->limit ? state->limit - used : 0;

    if (len > room) {
        len = room;
        field->truncated = 1;
    }
    if (len > 0) {
        vstring_memcat(field->text, data, len);
        field->line_ends[field->line_count - 1] = vstring_len(field->text);
    }
}

/* header_state_flush - hand the pending field over */

static void header_state_flush(HEADER_STATE *state)
{
    if (state->have_field) {
        state->have_field = 0;
        state->header_fn(state->context, &state->field);
    }
}

/* header_state_new_field - a line that starts a header field */

static void header_state_new_field(HEADER_STATE *state, size_t name_len)
{
    HEADER_FIELD *field = &state->field;

    header_state_flush(state);
    vstring_reset(field->text);
    field->line_count = 1;
    field->line_ends[0] = 0;
    field->truncated = 0;
    field->name_len = name_len;
    field->opts = NULL;                         /* set once the name is in text */
    state->have_field = 1;
}

/* header_state_new_line - a continuation line of the pending field */

static void header_state_new_line(HEADER_STATE *state)
{
    HEADER_FIELD *field = &state->field;

    if (vstring_len(field->text) >= state->limit) {
        field->truncated = 1;                   /* the whole line is excess */
        return;
    }
    if (field->line_count == field->line_alloc) {
        field->line_alloc *= 2;
        field->line_ends = myrealloc(field->line_ends, sizeof(size_t) * (size_t) field->line_alloc);
    }
    vstring_addch(field->text, '\n');
    field->line_ends[field->line_count++] = vstring_len(field->text);
}

/* header_state_prefix_ok - can more bytes still make this a header line? */

static int header_state_prefix_ok(const char *buf, size_t len)
{
    size_t i = 0, wsp;

    while (i < len && i <= HEADER_NAME_MAX) {
        unsigned char ch = (unsigned char) buf[i];

        if (ch < '!' || ch > '~' || ch == ':')
            break;
        i++;
    }
    if (i == 0 || i > HEADER_NAME_MAX)
        return 0;
    for (wsp = 0; i < len; i++, wsp++)
        if ((buf[i] != ' ' && buf[i] != '\t') || wsp >= HEADER_WSP_MAX)
            return 0;
    return 1;
}

/* header_state_classify - what is the line that starts with buf? */

static int header_state_classify(HEADER_STATE *state, const char *buf, size_t len, int ended)
{
    if (len == 0)
        return ended ? HS_CLASS_BODY : HS_CLASS_UNDECIDED;
    if (buf[0] == ' ' || buf[0] == '\t')
        return state->have_field ? HS_CLASS_CONT : HS_CLASS_BODY;
    if ((state->line_name_len = header_name_len(buf, len)) > 0)
        return HS_CLASS_HEADER;
    if (!ended && len < HS_CLASSIFY_MAX && header_state_prefix_ok(buf, len))
        return HS_CLASS_UNDECIDED;
    return HS_CLASS_BODY;
}

void header_state_update(HEADER_STATE *state, int type, const char *data, size_t len)
{
    size_t prev, take;
    int class;

    if (type != REC_TYPE_NORM && type != REC_TYPE_CONT)
        msg_panic("header_state_update: record type %d", type);

    switch (state->mode) {
    case HS_BODY:
        state->body_fn(state->context, type, data, len);
        state->body_mid_line = (type == REC_TYPE_CONT);
        return;
    case HS_LINE_FIELD:
        header_state_append(state, data, len);
        if (type == REC_TYPE_NORM)
            state->mode = HS_LINE_START;
        return;
    case HS_LINE_START:
    case HS_LINE_UNDECIDED:
        break;
    default:
        msg_panic("header_state_update: called after header_state_finish");
    }

    /* keep enough of the line to tell what it is */
    prev = vstring_len(state->line);
    take = HS_CLASSIFY_MAX - prev;
    if (take > len)
        take = len;
    vstring_memcat(state->line, data, take);
    class = header_state_classify(state, vstring_str(state->line), vstring_len(state->line),
                                  type == REC_TYPE_NORM && take == len);
    switch (class) {
    case HS_CLASS_UNDECIDED:
        state->mode = HS_LINE_UNDECIDED;
        return;
    case HS_CLASS_HEADER:
    case HS_CLASS_CONT:
        if (class == HS_CLASS_HEADER)
            header_state_new_field(state, state->line_name_len);
        else
            header_state_new_line(state);
        header_state_append(state, vstring_str(state->line), prev);
        header_state_append(state, data, len);
        if (class == HS_CLASS_HEADER)
            state->field.opts = header_opts_find(vstring_str(state->field.text),
                                                 state->field.name_len);
        vstring_reset(state->line);
        state->mode = (type == REC_TYPE_NORM) ? HS_LINE_START : HS_LINE_FIELD;
        return;
    default:
        header_state_flush(state);
        state->mode = HS_BODY;
        state->eoh_fn(state->context);
        if (prev > 0)
            state->body_fn(state->context, REC_TYPE_CONT, vstring_str(state->line), prev);
        vstring_reset(state->line);
        state->body_fn(state->context, type, data, len);
        state->body_mid_line = (type == REC_TYPE_CONT);
        return;
    }
}

void header_state_finish(HEADER_STATE *state)
{
    switch (state->mode) {
    case HS_LINE_UNDECIDED:
        header_state_update(state, REC_TYPE_NORM, "", 0);     /* end the last line */
        break;
    case HS_DONE:
        msg_panic("header_state_finish: called twice");
    default:
        break;
    }
    if (state->mode == HS_BODY) {
        if (state->body_mid_line)
            state->body_fn(state->context, REC_TYPE_NORM, "", 0);
    } else {
        header_state_flush(state);
        state->eoh_fn(state->context);
    }
    state->mode = HS_DONE;
}
