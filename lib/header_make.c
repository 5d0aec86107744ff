/*
 * NAME
 *	header_make - the values of headers that postern adds to a message
 * SYNOPSIS
 *	#include "header_make.h"
 *
 *	const char *header_make_date(VSTRING *buf, time_t when)
 *	const char *header_make_message_id(VSTRING *buf, time_t when,
 *				const char *queue_id, const char *hostname)
 * DESCRIPTION
 *	header_make_date() formats when as the date-time of RFC 5322
 *	section 3.3 in the local time zone: day of week, day, month name,
 *	four-digit year, hh:mm:ss and the offset from UTC as +hhmm or
 *	-hhmm, computed from the broken-down local time itself (so that
 *	it is right in summer time too). A zone abbreviation of letters
 *	only (CET, EST, UTC) is appended in parentheses; others ("+03")
 *	are left out, as they would only repeat the offset.
 *
 *	header_make_message_id() formats a msg-id from the UTC time of
 *	when, the queue ID and the host name.
 *
 *	Neither function depends on the locale. A time that the C library
 *	cannot convert (far outside the range of years 0..9999) is
 *	formatted as the epoch.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "header_make.h"

static const char header_days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char header_months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* header_make_tm - broken-down time, falling back to the epoch */

static void header_make_tm(time_t when, int local, struct tm *tm)
{
    time_t zero = 0;

    if ((local ? localtime_r(&when, tm) : gmtime_r(&when, tm)) == NULL
        || tm->tm_year < -1900 || tm->tm_year > 9999 - 1900)
        gmtime_r(&zero, tm);
}

const char *header_make_date(VSTRING *buf, time_t when)
{
    struct tm tm;
    long offset;
    int sign = '+';
    const char *zone;

    header_make_tm(when, 1, &tm);
    offset = tm.tm_gmtoff / 60;
    if (offset < 0) {
        sign = '-';
        offset = -offset;
    }
    if (offset > 99 * 60 + 59)
        offset = 0;                             /* cannot be written as hhmm */
    vstring_sprintf(buf, "%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld",
                    header_days[tm.tm_wday % 7], tm.tm_mday, header_months[tm.tm_mon % 12],
                    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, offset / 60,
                    offset % 60);
    zone = tm.tm_zone;
    if (zone && *zone && strlen(zone) <= 10) {
        const char *cp;

        for (cp = zone; *cp && isalpha((unsigned char) *cp); cp++)
            /* void */ ;
        if (*cp == 0)
            vstring_sprintf_append(buf, " (%s)", zone);
    }
    return vstring_str(buf);
}

const char *header_make_message_id(VSTRING *buf, time_t when, const char *queue_id,
                                   const char *hostname)
{
    struct tm tm;

    header_make_tm(when, 0, &tm);
    vstring_sprintf(buf, "<%04d%02d%02d%02d%02d%02d.%s@%s>", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, queue_id, hostname);
    return vstring_str(buf);
}
