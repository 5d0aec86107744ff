#ifndef POSTERN_REC_H
#define POSTERN_REC_H
/*
 * rec - typed records: the queue file format, and message content in transit
 *
 * A record is one type byte, the data length as a little-endian base-128
 * varint (7 bits per byte, low bits first, high bit set on every byte but
 * the last; at most REC_VARINT_MAX bytes, shortest encoding only), then
 * the data bytes (any bytes, NUL included).
 *
 * A queue file is, in order:
 *	envelope:  SIZE TIME FROM, then per recipient [ORCP] [NOTIFY]
 *	           [DSN_ORCPT] RCPT (or DONE), and ATTR records, in any order
 *	           after FROM
 *	MESG       start of content (empty data)
 *	content:   NORM and CONT records, one text line each (CONT pieces
 *	           of a long line, then its last piece as NORM)
 *	XTRA       end of content; extracted information may follow
 *	END        the file is complete (empty data)
 * A file without END is incomplete and must not be delivered. Which
 * records each program writes and requires is cleanup's and qmgr's
 * contract; this module only moves records and checks their framing.
 *
 * rec_put(fp, type, data, len) writes one record (buffered: the caller
 *	flushes or fsyncs). Returns type, or REC_TYPE_ERROR for an unknown
 *	type (also logged), len over REC_DATA_MAX or a write error.
 * rec_fprintf(fp, type, fmt, ...) formats the data and calls rec_put().
 * rec_put_line(fp, data, len, piece_max) writes one content line (no
 *	newline) as CONT records of piece_max bytes followed by a NORM
 *	record with the rest (an empty line is one empty NORM). Returns
 *	REC_TYPE_NORM or REC_TYPE_ERROR; piece_max 0 is a programming error.
 *
 * rec_get(fp, buf, maxlen) reads one record, replacing buf with its data
 *	(NUL-terminated for convenience; the data may itself hold NULs).
 *	Returns the type; REC_TYPE_EOF at a clean end of file (nothing read);
 *	REC_TYPE_ERROR, with a warning logged and buf emptied, for an unknown
 *	type byte, a varint longer than REC_VARINT_MAX bytes or not in
 *	shortest form, a length over maxlen (0 means REC_DATA_MAX; larger
 *	values are cut to REC_DATA_MAX), or a record cut short by end of
 *	file, an error or a timeout. After REC_TYPE_ERROR the stream position
 *	is undefined: stop reading, treat the file as corrupt.
 *
 * rec_goto(fp, offset) seeks to a record boundary the caller noted with
 *	vstream_ftell() (0 or -1). rec_mark_done(fp, offset) rewrites the
 *	type byte of the recipient record at offset from RCPT to DONE and
 *	syncs the file before returning 0, so a recipient is never delivered
 *	twice from the same copy after a crash; a record already DONE is
 *	left alone (0); anything else there is refused (-1, logged, file
 *	untouched). The stream position is restored. The stream must be
 *	open for reading and writing.
 *
 * rec_attr_split(buf, name, value) splits the data of an ATTR record
 *	"name=value" in place at the first '=' and points name and value
 *	into buf. Returns 0, or -1 when there is no '=', the name is empty
 *	or longer than REC_ATTR_NAME_MAX, or the data holds a NUL.
 * rec_type_name(type) returns a printable name ("rcpt"; "unknown") for
 *	logs and postcat; rec_type_ok(type) says whether type is defined.
 */
#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#include "vstream.h"
#include "vstring.h"

/* record types: printable letters, so a hex dump of a queue file reads */
#define REC_TYPE_SIZE 'C'      /* content size: "size data_offset rcpt_count" (decimal) */
#define REC_TYPE_TIME 'T'      /* arrival time: "seconds.microseconds" */
#define REC_TYPE_FROM 'S'      /* sender, internal form ("" = null sender) */
#define REC_TYPE_RCPT 'R'      /* recipient to deliver, internal form */
#define REC_TYPE_DONE 'D'      /* a RCPT record rewritten in place: delivered */
#define REC_TYPE_ORCP 'O'      /* original recipient of the next RCPT (before rewriting) */
#define REC_TYPE_NOTIFY 'Y'    /* DSN NOTIFY of the next RCPT: decimal bitmask */
#define REC_TYPE_DSN_ORCPT 'Q' /* DSN ORCPT of the next RCPT: "addr-type;xtext" */
#define REC_TYPE_ATTR 'A'      /* named attribute "name=value" (client_address, helo...) */
#define REC_TYPE_MESG 'M'      /* start of content */
#define REC_TYPE_NORM 'N'      /* a complete content line, or the last piece of one */
#define REC_TYPE_CONT 'L'      /* a piece of a long content line that continues */
#define REC_TYPE_XTRA 'X'      /* end of content; extracted information follows */
#define REC_TYPE_END 'E'       /* end marker: the file is complete */

#define REC_TYPE_EOF (-1)   /* clean end of file */
#define REC_TYPE_ERROR (-2) /* malformed, truncated or I/O error */

#define REC_VARINT_MAX 5                /* bytes of length */
#define REC_DATA_MAX (64 * 1024 * 1024) /* bytes of data in any record */
#define REC_ATTR_NAME_MAX 256           /* bytes of an ATTR record's name */

int rec_put(VSTREAM *fp, int type, const char *data, size_t len);
int rec_fprintf(VSTREAM *fp, int type, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int rec_vfprintf(VSTREAM *fp, int type, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int rec_put_line(VSTREAM *fp, const char *data, size_t len, size_t piece_max);
int rec_get(VSTREAM *fp, VSTRING *buf, size_t maxlen);
int rec_goto(VSTREAM *fp, off_t offset);
int rec_mark_done(VSTREAM *fp, off_t offset);
int rec_attr_split(VSTRING *buf, const char **name, const char **value);
int rec_type_ok(int type);
const char *rec_type_name(int type);

#endif
