#ifndef POSTERN_HEADER_STATE_H
#define POSTERN_HEADER_STATE_H
/*
 * header_state - split message content into header fields and body
 *
 * The content arrives as records (lib/rec.h): each line of text is a
 * NORM record, or CONT records followed by a NORM record when a long
 * line was cut into pieces. header_state reassembles each header field
 * of the primary header section, with its continuation lines, and hands
 * it over whole; everything from the end of the headers on is handed
 * over record by record.
 *
 * The header section ends at the first line that is neither the start
 * of a header field ("name:" as header_name_len() says) nor a
 * continuation (a line that starts with a space or a tab and follows a
 * header field). That line, which is usually the empty line, is the
 * first body line.
 *
 * header_state_create(header_limit, header_fn, eoh_fn, body_fn, context)
 *	header_fn(context, field) is called for each header field, in
 *	order, once it is complete (when the next line starts, or at the
 *	end). The field and its text belong to header_state and are valid
 *	during the call only; the callback may not call header_state.
 *	eoh_fn(context) is called once, at the end of the header section
 *	(before the first body record; also when there is no body, and
 *	when there are no headers).
 *	body_fn(context, type, data, len) is called for each body record:
 *	type REC_TYPE_NORM (the end of a line) or REC_TYPE_CONT (a piece
 *	with more to follow). Pieces may differ from the records given:
 *	the text of a line is the same.
 *	header_limit (> 0) bounds the bytes of one header field, counting
 *	one byte per line break: the excess, including any further
 *	continuation lines of that field, is dropped, and the field is
 *	marked truncated. Lines of header fields are always complete
 *	lines; header_state never buffers more than header_limit bytes
 *	plus HEADER_NAME_MAX + HEADER_WSP_MAX + 1.
 *
 * header_state_update(state, type, data, len) takes one content record,
 *	REC_TYPE_NORM or REC_TYPE_CONT (anything else is a programming
 *	error).
 * header_state_finish(state) marks the end of the content: a pending
 *	field is handed over, eoh_fn is called if it has not been, and a
 *	line left unfinished (the last record was a CONT) is ended. After
 *	this, only header_state_free() may be called.
 * header_state_in_body(state) tells whether the header section ended.
 * header_state_free(state) releases the state.
 *
 * HEADER_FIELD: text holds the lines of the field joined by '\n' (line
 * breaks are not data: a '\n' inside a line is data too, so use
 * header_field_line() to get the lines), name_len is the length of the
 * name (text starts with it), opts what header_opts_find() says of it
 * (NULL for other names), line_count the number of lines (at least 1),
 * truncated whether bytes were dropped.
 */
#include <stddef.h>

#include "header_opts.h"
#include "vstring.h"

typedef struct HEADER_FIELD {
    VSTRING *text;
    size_t name_len;
    const HEADER_OPTS *opts;
    int line_count;
    int truncated;
    /* private: end offset of each line in text */
    size_t *line_ends;
    int line_alloc;
} HEADER_FIELD;

typedef struct HEADER_STATE HEADER_STATE;

typedef void (*HEADER_STATE_HEADER_FN)(void *context, HEADER_FIELD *field);
typedef void (*HEADER_STATE_EOH_FN)(void *context);
typedef void (*HEADER_STATE_BODY_FN)(void *context, int type, const char *data, size_t len);

HEADER_STATE *header_state_create(size_t header_limit, HEADER_STATE_HEADER_FN header_fn,
                                  HEADER_STATE_EOH_FN eoh_fn, HEADER_STATE_BODY_FN body_fn,
                                  void *context);
void header_state_update(HEADER_STATE *state, int type, const char *data, size_t len);
void header_state_finish(HEADER_STATE *state);
int header_state_in_body(HEADER_STATE *state);
void header_state_free(HEADER_STATE *state);

/* line i (0..line_count-1) of a field: returns its start, *len its length */
const char *header_field_line(const HEADER_FIELD *field, int i, size_t *len);

#endif
