#ifndef POSTERN_QUEUE_ID_H
#define POSTERN_QUEUE_ID_H
/*
 * queue_id - queue file names that are unique per queue directory
 *
 * A queue ID is upper-case hexadecimal: five digits of the creation
 * time's microseconds (0..999999 < 0xFFFFF) followed by the queue file's
 * inode number, e.g. "3F2A81C0D5". Two files that exist at the same time
 * on one file system never share an inode, so they never share an ID;
 * the microseconds make it unlikely that a reused inode reuses a recent
 * ID. A queue directory must not span file systems (it never does).
 *
 * queue_id_make(buf, ino, tv) replaces the content of buf with the ID and
 *	returns vstring_str(buf). tv->tv_usec outside 0..999999 is a
 *	programming error (msg_panic).
 * queue_id_ok(id) returns 1 when id has the shape queue_id_make()
 *	produces: only [0-9A-F], QUEUE_ID_LEN_MIN..QUEUE_ID_LEN_MAX bytes.
 *	Queue tools call it on every ID a user or a file name supplies, so
 *	that "../x", "", "*" or a lower-case alias never reaches a path.
 */
#include <sys/time.h>
#include <sys/types.h>

#include "vstring.h"

#define QUEUE_ID_USEC_DIGITS 5
#define QUEUE_ID_LEN_MIN (QUEUE_ID_USEC_DIGITS + 1)
#define QUEUE_ID_LEN_MAX (QUEUE_ID_USEC_DIGITS + 16) /* 64-bit inode */
#define QUEUE_ID_BUFSIZE (QUEUE_ID_LEN_MAX + 1)

const char *queue_id_make(VSTRING *buf, ino_t ino, const struct timeval *tv);
int queue_id_ok(const char *id);

#endif
