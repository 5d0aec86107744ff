#ifndef POSTERN_HEADER_MAKE_H
#define POSTERN_HEADER_MAKE_H
/*
 * header_make - the values of headers that postern adds to a message
 *
 * header_make_date(buf, when) replaces buf with an RFC 5322 date-time
 *	for when, in local time with a numeric zone, followed by the zone
 *	abbreviation as a comment when the C library knows one made of
 *	letters only: "Tue, 21 Nov 2023 21:05:00 +0100 (CET)". Day and
 *	month names are English whatever the locale. Returns
 *	vstring_str(buf).
 *
 * header_make_message_id(buf, when, queue_id, hostname) replaces buf
 *	with "<YYYYMMDDhhmmss.QUEUEID@HOSTNAME>" (the time in UTC) and
 *	returns vstring_str(buf). The queue ID makes it unique on this
 *	host; the time keeps it unique when queue IDs are reused.
 */
#include <time.h>

#include "vstring.h"

const char *header_make_date(VSTRING *buf, time_t when);
const char *header_make_message_id(VSTRING *buf, time_t when, const char *queue_id,
                                   const char *hostname);

#endif
