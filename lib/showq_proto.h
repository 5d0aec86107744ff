#ifndef POSTERN_SHOWQ_PROTO_H
#define POSTERN_SHOWQ_PROTO_H
/*
 * showq_proto - the queue listing that showq(8) streams to postqueue(1)
 *
 * Transport: a UNIX stream connection to SHOWQ_SERVICE_PATH (relative to
 * queue_directory; master.cf "showq unix n - n - - showq": the private
 * column is n, so the socket is in public/ and any member of
 * setgid_group, that is the set-gid postqueue(1), may connect). The
 * client sends nothing. showq sends, for every message it lists, in the
 * order of the queues in QFILE_QUEUE_NAMES (lib/qfile.h):
 *
 *   one attribute list (lib/attr.h) describing the message:
 *	queue_name	maildrop, active, incoming, deferred or hold
 *	queue_id	the queue file name (queue_id_ok())
 *	arrival_time	seconds since the epoch
 *	message_size	bytes of content (the SIZE record; the file size
 *			for a maildrop file, which has none)
 *	forced_expire	0 or 1 (always 0: postern has no forced expiry yet)
 *	sender		external (quoted) form; the null sender is sent as
 *			$empty_address_recipient ("MAILER-DAEMON")
 *	rcpt_count	N, the recipients that are not yet delivered
 *   then N lists, one per recipient:
 *	address		external form
 *	delay_reason	the newest reason why delivery was deferred, or ""
 *
 * and, after the last message, a list with only
 *	status		SHOWQ_STAT_OK
 * so that a listing cut short (showq died, a timeout) is never taken for
 * a complete one. Every value is printable: showq_printable() has
 * replaced control characters and bytes that are not UTF-8 with '?'.
 * Message content never travels.
 *
 * Writing (showq). showq_send_message(fp, msg) writes a message and
 *	its recipients; showq_send_end(fp) the final status. 0, or -1
 *	when the client went away or a write timed out.
 *
 * Reading (postqueue). showq_read(fp, msg) reads the next message into
 *	msg (replacing what was there) and returns 1; 0 after the final
 *	status; -1 for EOF or an error before it, a malformed list, a
 *	value over its limit, or a recipient count over SHOWQ_RCPT_MAX
 *	(logged with msg_warn()).
 *
 * SHOWQ_MSG: showq_msg_alloc() makes an empty one; showq_msg_add_rcpt()
 *	appends a recipient (copies); showq_msg_set() replaces one of its
 *	string fields with a copy; showq_msg_reset() empties it;
 *	showq_msg_free() frees it. Every string in it belongs to it.
 *
 * showq_printable(out, in) replaces out with in, each control
 *	character (below 0x20, and 0x7f) and each byte that is not part of
 *	a valid UTF-8 sequence replaced by '?'; returns vstring_str(out).
 *	in may point into out. showq_utf8_len(cp) returns the length (2..4)
 *	of the well-formed UTF-8 sequence that starts at cp, or 0.
 */
#include <stddef.h>

#include "vstream.h"
#include "vstring.h"

#define SHOWQ_SERVICE_PATH "public/showq"
#define SHOWQ_STAT_OK 0
#define SHOWQ_RCPT_MAX 10000000 /* recipients of one message */

#define SHOWQ_ATTR_QUEUE_NAME "queue_name"
#define SHOWQ_ATTR_QUEUE_ID "queue_id"
#define SHOWQ_ATTR_ARRIVAL "arrival_time"
#define SHOWQ_ATTR_SIZE "message_size"
#define SHOWQ_ATTR_EXPIRE "forced_expire"
#define SHOWQ_ATTR_SENDER "sender"
#define SHOWQ_ATTR_RCPT_COUNT "rcpt_count"
#define SHOWQ_ATTR_ADDRESS "address"
#define SHOWQ_ATTR_REASON "delay_reason"
#define SHOWQ_ATTR_STATUS "status"

typedef struct SHOWQ_RCPT {
    char *address;
    char *reason; /* "" when none */
} SHOWQ_RCPT;

typedef struct SHOWQ_MSG {
    char *queue_name;
    char *queue_id;
    long arrival_time;
    long message_size;
    int forced_expire;
    char *sender;
    int rcpt_count;
    SHOWQ_RCPT *rcpt;
    int rcpt_size; /* slots allocated */
} SHOWQ_MSG;

SHOWQ_MSG *showq_msg_alloc(void);
void showq_msg_reset(SHOWQ_MSG *msg);
void showq_msg_free(SHOWQ_MSG *msg);
void showq_msg_set(char **field, const char *value);
void showq_msg_add_rcpt(SHOWQ_MSG *msg, const char *address, const char *reason);

int showq_send_message(VSTREAM *fp, const SHOWQ_MSG *msg);
int showq_send_end(VSTREAM *fp);
int showq_read(VSTREAM *fp, SHOWQ_MSG *msg);

const char *showq_printable(VSTRING *out, const char *in);
size_t showq_utf8_len(const char *cp);

#endif
