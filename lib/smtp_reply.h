#ifndef POSTERN_SMTP_REPLY_H
#define POSTERN_SMTP_REPLY_H
/*
 * smtp_reply - SMTP and LMTP replies as a client reads them
 *
 * A reply is one or more lines "NNN-text" ending with "NNN text" or
 * "NNN" (RFC 5321 4.2), each ended by CRLF (a bare LF is accepted).
 *
 * smtp_reply_read(fp, reply) reads one reply from fp (the caller sets
 *	fp's timeout) into reply, replacing its content. Limits: a line
 *	longer than SMTP_REPLY_LINE_MAX bytes is cut there (the rest of it
 *	read and dropped); at most SMTP_REPLY_LINES_MAX lines are kept
 *	(further ones read and dropped, up to SMTP_REPLY_READ_MAX lines in
 *	all, then the reply is malformed). Returns the reply code 200..599
 *	(also reply->code), SMTP_REPLY_EOF when the stream ended, failed or
 *	timed out before the reply was complete (vstream_ftimeout() tells
 *	which), or SMTP_REPLY_BAD when a line does not start with a reply
 *	code (1xx and codes outside 200..599 count as malformed) or the
 *	lines' codes differ. After either error the session is unusable.
 *	reply->text then holds what was read, for the log.
 *
 * smtp_reply_parse_line(line, len, &code, &last, &text) takes one line
 *	apart (without its line end): code is its three digits, last is 1
 *	for "NNN text"/"NNN" and 0 for "NNN-text", text points after the
 *	separator (or at the end). Returns 0, or -1 for a line that is not
 *	a reply line.
 *
 * The reply fields:
 *	code	200..599
 *	dsn	the RFC 3463 status: the one at the start of the first line's
 *		text when its class digit matches the code's first digit
 *		("550 5.1.1 ..."), else "X.0.0" from the code
 *	has_dsn	1 when the server gave the status, 0 when derived
 *	text	the whole reply for logs and notices: its lines, each with
 *		its code and separator, joined by single spaces; control
 *		characters turned into spaces
 *	lines	the text part of each line (after "NNN-"), as received,
 *		for EHLO keywords
 *
 * smtp_reply_ehlo(reply, discard, &size) reads the EHLO/LHLO reply's
 *	keywords (lines after the first) and returns SMTP_FEATURE_* bits.
 *	Keywords listed in discard (an ARGV or NULL; compared without
 *	regard to case) are ignored. *size gets the SIZE limit: the
 *	parameter of SIZE when it is a decimal number that fits, else 0
 *	(no limit stated); 0 too without SIZE.
 *
 * smtp_dsn_valid(text, len) is the length of an RFC 3463 status at
 *	text ("X.Y.Z", X in 2,4,5, Y and Z of 1..3 digits, followed by
 *	the end, a space or tab), or 0.
 *
 * Ownership: smtp_reply_alloc() makes a reply, smtp_reply_free() frees
 * it and everything in it.
 */
#include <stddef.h>

#include "argv.h"
#include "vstream.h"
#include "vstring.h"

#define SMTP_REPLY_LINE_MAX 2048 /* bytes kept of one reply line */
#define SMTP_REPLY_LINES_MAX 100 /* lines kept of one reply */
#define SMTP_REPLY_READ_MAX 1000 /* lines read in all before giving up */
#define SMTP_DSN_MAX 16          /* "X.YYY.ZZZ" + NUL, with room */

#define SMTP_REPLY_EOF (-1)
#define SMTP_REPLY_BAD (-2)

#define SMTP_FEATURE_PIPELINING (1 << 0)
#define SMTP_FEATURE_SIZE (1 << 1)
#define SMTP_FEATURE_8BITMIME (1 << 2)
#define SMTP_FEATURE_SMTPUTF8 (1 << 3)
#define SMTP_FEATURE_DSN (1 << 4)
#define SMTP_FEATURE_STARTTLS (1 << 5)
#define SMTP_FEATURE_AUTH (1 << 6)
#define SMTP_FEATURE_ENHANCEDSTATUSCODES (1 << 7)
#define SMTP_FEATURE_CHUNKING (1 << 8)

typedef struct SMTP_REPLY {
    int code;
    char dsn[SMTP_DSN_MAX];
    int has_dsn;
    VSTRING *text;
    ARGV *lines;
} SMTP_REPLY;

SMTP_REPLY *smtp_reply_alloc(void);
void smtp_reply_free(SMTP_REPLY *reply);
void smtp_reply_reset(SMTP_REPLY *reply);
int smtp_reply_read(VSTREAM *fp, SMTP_REPLY *reply);
int smtp_reply_parse_line(const char *line, size_t len, int *code, int *last, const char **text);
int smtp_reply_ehlo(const SMTP_REPLY *reply, const ARGV *discard, unsigned long long *size);
size_t smtp_dsn_valid(const char *text, size_t len);

#endif
