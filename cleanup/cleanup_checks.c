/*
 * NAME
 *	cleanup_checks - where content inspection plugs into cleanup(8)
 * SYNOPSIS
 *	#include "cleanup.h"
 *
 *	int cleanup_checks_header(CLEANUP_STATE *state, HEADER_FIELD *field)
 *	void cleanup_checks_eoh(CLEANUP_STATE *state)
 *	int cleanup_checks_body(CLEANUP_STATE *state, int type,
 *				const char *data, size_t len)
 *	void cleanup_checks_eom(CLEANUP_STATE *state)
 * DESCRIPTION
 *	These functions are called only for messages whose client asked
 *	for content inspection (CLEANUP_FLAG_FILTER); they are the place
 *	where header_checks, body_checks and milters will be applied. For
 *	now they inspect nothing.
 *
 *	cleanup_checks_header() sees each header field of the primary
 *	header section, complete with its continuation lines, before
 *	message_drop_headers and address rewriting apply. It returns
 *	CLEANUP_ACT_KEEP (write it out), CLEANUP_ACT_DROP (leave it out),
 *	or CLEANUP_ACT_REJECT after it called cleanup_error() with the
 *	status (CLEANUP_STAT_CONT, or CLEANUP_STAT_DEFER for a table
 *	error) and the reason for the client ("5.7.1 message content
 *	rejected").
 *
 *	cleanup_checks_eoh() is called once the headers are complete
 *	(cleanup's own missing headers included), before the first body
 *	record: a milter's end-of-header step goes here.
 *
 *	cleanup_checks_body() sees each body record: type REC_TYPE_NORM
 *	for the end of a line, REC_TYPE_CONT for a piece of a long line
 *	that goes on. Same results as cleanup_checks_header().
 *
 *	cleanup_checks_eom() is called at the end of the content, before
 *	XTRA is written: a milter's end-of-message step goes here.
 *
 *	A hook that changes text will need to write its replacement
 *	itself through cleanup_out_text() and return CLEANUP_ACT_DROP.
 */
#include "cleanup.h"

int cleanup_checks_header(CLEANUP_STATE *state, HEADER_FIELD *field)
{
    (void) state;
    (void) field;
    return CLEANUP_ACT_KEEP;
}

void cleanup_checks_eoh(CLEANUP_STATE *state)
{
    (void) state;
}

int cleanup_checks_body(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    (void) state;
    (void) type;
    (void) data;
    (void) len;
    return CLEANUP_ACT_KEEP;
}

void cleanup_checks_eom(CLEANUP_STATE *state)
{
    (void) state;
}
