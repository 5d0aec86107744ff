#ifndef POSTERN_SMTPD_TEXT_H
#define POSTERN_SMTPD_TEXT_H
/*
 * smtpd_text - message content from an SMTP client, cut into lines
 *
 * An SMTPD_TEXT turns what a client sends after DATA, or in BDAT chunks,
 * into content lines without their line ends, and hands each to the
 * output function fn(type, data, len, context):
 *	REC_TYPE_NORM  a whole line, or the last piece of a long line
 *	REC_TYPE_CONT  a piece of a line longer than line_limit bytes
 * (the record types of rec.h, so lines can go straight into records).
 * Nothing is copied beyond one line piece; fn decides what to keep.
 *
 * Line ends. The only line end is LF; a CR immediately before it belongs
 * to the line end, any other CR is data (a "bare CR" is never a line
 * end in any mode). A line whose LF has no CR before it ends in a "bare
 * LF"; what happens then is the lf_mode:
 *	SMTPD_TEXT_LF_REJECT     reading stops at once with
 *	                         SMTPD_TEXT_BARE_LF (nothing of that line is
 *	                         passed on; the caller disconnects)
 *	SMTPD_TEXT_LF_NORMALIZE  the bare LF ends the line like CR LF
 *	SMTPD_TEXT_LF_ALLOW      as NORMALIZE, and see end of data below
 *
 * smtpd_text_data(text, client, prev_crlf) reads DATA content from
 *	client up to and including the end-of-data line and leaves any
 *	bytes after it (pipelined commands) in the stream. A line that is
 *	exactly "." ends the data when it ends in CR LF and so did the line
 *	before it (prev_crlf says whether the DATA command line did): only
 *	<CR><LF>.<CR><LF> ends a message, so "\n.\n", "\r.\r", "\n.\r\n",
 *	"\r\n.\n" and their kin are content (or, with REJECT, refused).
 *	With SMTPD_TEXT_LF_ALLOW (Postfix's smtpd_forbid_bare_newline = no)
 *	a "." line ends the data whatever its line ends. Any other line
 *	that starts with "." loses that first dot (RFC 5321 4.5.2).
 *	Returns SMTPD_TEXT_END, SMTPD_TEXT_BARE_LF, SMTPD_TEXT_EOF (the
 *	client went away, or a read error) or SMTPD_TEXT_TIMEOUT.
 *
 * smtpd_text_bdat(text, client, size, last) reads exactly size bytes of
 *	a BDAT chunk (RFC 3030: no dot-stuffing, no end-of-data line).
 *	A line may span chunks; it is held (at most line_limit bytes of it)
 *	until its end arrives. With last set, a final line without a line
 *	end is passed on as it is. Returns SMTPD_TEXT_END when the chunk
 *	is consumed, else as smtpd_text_data(); after SMTPD_TEXT_BARE_LF
 *	the rest of the chunk is left unread.
 * smtpd_text_skip(client, size) reads and throws away size bytes
 *	(a refused chunk): SMTPD_TEXT_END, _EOF or _TIMEOUT.
 * smtpd_text_reset(text) forgets a partly received line (a transaction
 *	that ends without BDAT LAST).
 *
 * line_limit (at least SMTPD_TEXT_LIMIT_MIN) bounds every piece passed
 * to fn; a longer line arrives as CONT pieces and a final NORM piece.
 * A CR that would end a piece is held back so that a CR LF pair is
 * never split between pieces.
 */
#include <sys/types.h>

#include "vstream.h"
#include "vstring.h"

#define SMTPD_TEXT_LF_REJECT 1
#define SMTPD_TEXT_LF_NORMALIZE 2
#define SMTPD_TEXT_LF_ALLOW 3

#define SMTPD_TEXT_END 0
#define SMTPD_TEXT_BARE_LF 1
#define SMTPD_TEXT_EOF 2
#define SMTPD_TEXT_TIMEOUT 3

#define SMTPD_TEXT_LIMIT_MIN 16

typedef void (*SMTPD_TEXT_FN)(int type, const char *data, size_t len, void *context);
typedef struct SMTPD_TEXT SMTPD_TEXT;

SMTPD_TEXT *smtpd_text_create(int lf_mode, size_t line_limit, SMTPD_TEXT_FN fn, void *context);
void smtpd_text_free(SMTPD_TEXT *text);
void smtpd_text_reset(SMTPD_TEXT *text);
int smtpd_text_data(SMTPD_TEXT *text, VSTREAM *client, int prev_crlf);
int smtpd_text_bdat(SMTPD_TEXT *text, VSTREAM *client, off_t size, int last);
int smtpd_text_skip(VSTREAM *client, off_t size);

#endif
