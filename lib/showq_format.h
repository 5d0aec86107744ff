#ifndef POSTERN_SHOWQ_FORMAT_H
#define POSTERN_SHOWQ_FORMAT_H
/*
 * showq_format - the two queue listings of postqueue(1): Postfix's
 * Sendmail-style text (postqueue -p, mailq) and JSON lines (postqueue -j)
 *
 * Text (the widths of Postfix's listing with short queue IDs, which
 * scripts written for Postfix parse):
 *	showq_text_heading(out)
 *	    appends "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------"
 *	    and a newline (before the first message only).
 *	showq_text_message(out, msg)
 *	    appends one message: the queue ID followed by '*' when in the
 *	    active queue, '!' when on hold (and '#' when forced to expire),
 *	    left-aligned in 11 columns; a space; the size right-aligned in
 *	    7; a space; the arrival time as asctime() writes it, cut to 20
 *	    columns ("Sat Nov 21 21:05:55 "); a space; the sender. Then for
 *	    each recipient: when its delay reason differs from that of the
 *	    recipient before it (the first is compared with ""), the line
 *	    "(reason)", right-aligned to end in column 78, or starting in
 *	    column 1 when longer ("(reason unavailable)" when a recipient
 *	    has none after one that had one); then the address indented by
 *	    41 spaces. Local time (TZ) is used for the arrival time.
 *	showq_text_trailer(out, count, total_size)
 *	    appends "Mail queue is empty" when count is 0, else a blank line
 *	    and "-- N Kbytes in M Requests." (N = total_size / 1024, and
 *	    "Request" for one), each ended with a newline.
 *	Callers put a blank line between two messages.
 *
 * JSON (one object per message, each on a line of its own):
 *	showq_json_message(out, msg)
 *	    appends {"queue_name": "...", "queue_id": "...",
 *	    "arrival_time": N, "message_size": N, "forced_expire": false,
 *	    "sender": "...", "recipients": [{"address": "...",
 *	    "delay_reason": "..."}, ...]} and a newline; delay_reason is
 *	    left out for a recipient without one.
 *	showq_json_quote(out, str)
 *	    appends str as a JSON string with its quotes: '"' and '\' are
 *	    escaped, control characters written as \b \f \n \r \t or
 *	    \u00XX, DEL as \u007f, valid UTF-8 kept as is and any other byte
 *	    written as \ufffd.
 *
 * Every function appends to out (it never empties it).
 */
#include "showq_proto.h"
#include "vstring.h"

void showq_text_heading(VSTRING *out);
void showq_text_message(VSTRING *out, const SHOWQ_MSG *msg);
void showq_text_trailer(VSTRING *out, unsigned long count, unsigned long long total_size);
void showq_json_message(VSTRING *out, const SHOWQ_MSG *msg);
void showq_json_quote(VSTRING *out, const char *str);

#endif
