/*
 * NAME
 *	queue_id - queue file names that are unique per queue directory
 * SYNOPSIS
 *	#include "queue_id.h"
 *
 *	const char *queue_id_make(VSTRING *buf, ino_t ino, const struct timeval *tv)
 *	int queue_id_ok(const char *id)
 * DESCRIPTION
 *	queue_id_make() formats the microseconds of tv as five upper-case
 *	hex digits followed by ino in upper-case hex (no leading zeros),
 *	stores the result in buf and returns it. The caller creates the
 *	queue file under a temporary name, takes its inode number and
 *	creation time, and renames it to the ID.
 *
 *	queue_id_ok() returns 1 when id consists only of the digits 0-9
 *	and A-F and its length is within QUEUE_ID_LEN_MIN and
 *	QUEUE_ID_LEN_MAX, 0 otherwise.
 */
#include <string.h>

#include "msg.h"
#include "queue_id.h"

const char *queue_id_make(VSTRING *buf, ino_t ino, const struct timeval *tv)
{
    if (tv->tv_usec < 0 || tv->tv_usec > 999999)
        msg_panic("queue_id_make: bad microseconds %ld", (long)tv->tv_usec);
    vstring_sprintf(buf, "%05lX%llX", (unsigned long)tv->tv_usec, (unsigned long long)ino);
    return vstring_str(buf);
}

int queue_id_ok(const char *id)
{
    size_t len = strnlen(id, QUEUE_ID_LEN_MAX + 1);

    if (len < QUEUE_ID_LEN_MIN || len > QUEUE_ID_LEN_MAX)
        return 0;
    return strspn(id, "0123456789ABCDEF") == len;
}
