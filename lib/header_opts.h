#ifndef POSTERN_HEADER_OPTS_H
#define POSTERN_HEADER_OPTS_H
/*
 * header_opts - message header names that postern treats specially
 *
 * header_opts_find(name, len) looks up a header name (len bytes, no
 *	colon, any case) and returns its entry, or NULL for a name that
 *	has no special meaning. Entries are static: never freed.
 *
 * header_name_len(line, len) tells whether line (len bytes, a NUL is
 *	data) starts a header field: a name of 1..HEADER_NAME_MAX
 *	printable US-ASCII characters other than ':', then optionally up
 *	to HEADER_WSP_MAX spaces or tabs (the obsolete syntax of RFC 5322
 *	section 4.5), then ':'. Returns the length of the name, 0 when the
 *	line does not start a header field.
 *
 * header_value(text, len, name_len, &vlen) returns a pointer to the
 *	value of a header field whose name is name_len bytes long (as
 *	header_name_len() measured it): what follows the colon, leading
 *	white space skipped; *vlen receives its length.
 *
 * Each entry has an identifier (HDR_*, for bit masks of headers seen:
 * HDR_MASK(type)) and flags: HDR_OPT_SENDER (the value lists sender-type
 * addresses), HDR_OPT_RECIP (recipient-type addresses), HDR_OPT_RESENT
 * (a Resent- header), HDR_OPT_EXTRACT (sendmail -t takes recipients from
 * it; a Resent- one when the message has Resent- headers).
 */
#include <stddef.h>

#define HEADER_NAME_MAX 256  /* bytes of a header name we recognise */
#define HEADER_WSP_MAX 64    /* white space between a name and its colon */

#define HDR_OTHER 0
#define HDR_APPARENTLY_TO 1
#define HDR_BCC 2
#define HDR_CC 3
#define HDR_CONTENT_LENGTH 4
#define HDR_CONTENT_TRANSFER_ENCODING 5
#define HDR_CONTENT_TYPE 6
#define HDR_DATE 7
#define HDR_DELIVERED_TO 8
#define HDR_ERRORS_TO 9
#define HDR_FROM 10
#define HDR_MESSAGE_ID 11
#define HDR_MIME_VERSION 12
#define HDR_RECEIVED 13
#define HDR_REPLY_TO 14
#define HDR_RESENT_BCC 15
#define HDR_RESENT_CC 16
#define HDR_RESENT_DATE 17
#define HDR_RESENT_FROM 18
#define HDR_RESENT_MESSAGE_ID 19
#define HDR_RESENT_REPLY_TO 20
#define HDR_RESENT_SENDER 21
#define HDR_RESENT_TO 22
#define HDR_RETURN_PATH 23
#define HDR_RETURN_RECEIPT_TO 24
#define HDR_SENDER 25
#define HDR_TO 26
#define HDR_X_ORIGINAL_TO 27
#define HDR_COUNT 28

#define HDR_MASK(type) (1UL << (type))

#define HDR_OPT_SENDER (1 << 0)
#define HDR_OPT_RECIP (1 << 1)
#define HDR_OPT_RESENT (1 << 2)
#define HDR_OPT_EXTRACT (1 << 3)

typedef struct HEADER_OPTS {
    const char *name;  /* canonical spelling, e.g. "Message-Id" */
    int type;          /* HDR_* */
    int flags;         /* HDR_OPT_* */
} HEADER_OPTS;

const HEADER_OPTS *header_opts_find(const char *name, size_t len);
size_t header_name_len(const char *line, size_t len);
const char *header_value(const char *text, size_t len, size_t name_len, size_t *vlen);

#endif
