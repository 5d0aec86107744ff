#ifndef POSTERN_MIME_STATE_H
#define POSTERN_MIME_STATE_H
/*
 * mime_state - the MIME structure of a message body, line by line
 *
 * Sorts the body of a message (RFC 2045, RFC 2046) into what content
 * inspection needs to tell apart: text, multipart boundary lines, the
 * headers of multipart body parts, and the headers of attached messages
 * (message/rfc822), so that cleanup(8) can apply body_checks,
 * mime_header_checks and nested_header_checks. Nothing is decoded: a
 * base64 or quoted-printable part is text, and so is a multipart or
 * message part that claims such an encoding (it cannot hold MIME
 * structure that a mail reader would honour).
 *
 * The input is the body as records (lib/rec.h): REC_TYPE_NORM for a
 * line, or REC_TYPE_CONT pieces followed by a REC_TYPE_NORM for a long
 * line, as header_state(3) hands them over, starting with the line
 * that ended the message's own header section (usually the empty
 * line). Everything given comes back exactly once, in input order,
 * through one of the two callbacks: a caller that writes what it gets
 * writes the body as it came.
 *
 * mime_state_create(header_limit, depth_limit, boundary_limit,
 *			head_fn, body_fn, context)
 *	head_fn(context, class, field) gets each complete header field of
 *	a body part (class MIME_CLASS_PART) or of an attached message
 *	(MIME_CLASS_NESTED), with its continuation lines, as header_state(3)
 *	assembles them: field and its text are valid during the call only.
 *	header_limit bounds one field (the excess is dropped, the field
 *	marked truncated).
 *	body_fn(context, class, type, data, len, offset) gets every other
 *	record: class MIME_CLASS_BODY for text (also the preamble and
 *	epilogue of a multipart, and the line that ends a header section)
 *	or MIME_CLASS_BOUNDARY for a delimiter or close-delimiter line;
 *	type REC_TYPE_NORM or REC_TYPE_CONT as in the input (pieces may be
 *	cut differently; the text of a line is the same); offset is the
 *	number of bytes (one per line end) of the current body segment
 *	before this record. A segment starts after each header section
 *	and at each boundary line (which has offset 0).
 *	depth_limit (>= 1) bounds how deeply multiparts and attached
 *	messages may nest; deeper structure is text, and MIME_ERR_NESTING
 *	is noted. boundary_limit (>= 1) is the number of bytes of a
 *	boundary string that are compared: longer boundaries are cut, so
 *	two that share their first boundary_limit bytes look the same.
 *	Memory stays within about depth_limit * boundary_limit plus two
 *	header fields.
 *
 * mime_state_header(state, field) takes a header of the message's own
 *	header section (as header_state(3) gives it): its Content-Type:
 *	and Content-Transfer-Encoding: decide how the body is read (the
 *	last of each counts). Call it for each header before the first
 *	mime_state_update().
 * mime_state_update(state, type, data, len) takes one body record;
 *	any type but REC_TYPE_NORM and REC_TYPE_CONT is a programming
 *	error.
 * mime_state_finish(state) marks the end of the body: a pending header
 *	field is handed over and an unfinished line is ended (body_fn gets
 *	an empty REC_TYPE_NORM record). After it, only mime_state_errors()
 *	and mime_state_free() may be called.
 * mime_state_errors(state) returns the MIME_ERR_* bits noted so far.
 * mime_state_free(state) releases everything.
 *
 * mime_state_is_mime_header(name, len) tells whether a header name (len
 *	bytes, any case, no colon) is one of the MIME headers that
 *	mime_header_checks inspects: Content-Description, Content-
 *	Disposition, Content-ID, Content-Transfer-Encoding, Content-Type,
 *	MIME-Version.
 *
 * The callbacks may not call the MIME_STATE they are called from.
 */
#include <stddef.h>

#include "header_state.h"

/* what a piece of the body is */
#define MIME_CLASS_BODY 1     /* text, preamble, epilogue, end of a header section */
#define MIME_CLASS_BOUNDARY 2 /* --boundary or --boundary-- */
#define MIME_CLASS_PART 3     /* a header of a multipart body part */
#define MIME_CLASS_NESTED 4   /* a header of an attached message */

/* what went wrong (mime_state_errors) */
#define MIME_ERR_NESTING (1 << 0)  /* nested deeper than depth_limit */
#define MIME_ERR_BOUNDARY (1 << 1) /* a boundary was cut to boundary_limit bytes */

typedef struct MIME_STATE MIME_STATE;

typedef void (*MIME_STATE_HEAD_FN)(void *context, int class, HEADER_FIELD *field);
typedef void (*MIME_STATE_BODY_FN)(void *context, int class, int type, const char *data, size_t len,
                                   long long offset);

MIME_STATE *mime_state_create(size_t header_limit, int depth_limit, size_t boundary_limit,
                              MIME_STATE_HEAD_FN head_fn, MIME_STATE_BODY_FN body_fn,
                              void *context);
void mime_state_header(MIME_STATE *state, const HEADER_FIELD *field);
void mime_state_update(MIME_STATE *state, int type, const char *data, size_t len);
void mime_state_finish(MIME_STATE *state);
int mime_state_errors(MIME_STATE *state);
void mime_state_free(MIME_STATE *state);

int mime_state_is_mime_header(const char *name, size_t len);

#endif
