#ifndef POSTERN_ATTR_H
#define POSTERN_ATTR_H
/*
 * attr - the inter-process request/reply format (DESIGN 5)
 *
 * On the wire a request or a reply is a list of pairs, name NUL value NUL,
 * ended by an empty name (a lone NUL). Names are 1..ATTR_NAME_MAX bytes of
 * [A-Za-z0-9_.-]; values are any bytes but NUL (so a value can never
 * carry a NUL: C strings in, C strings out), at most a per-call limit.
 * Integers travel as decimal text.
 *
 * Writing. attr_print(fp, items..., ATTR_END) checks every item, then
 *	writes them all and the terminator, and flushes. Items:
 *	    ATTR_STR(name, const char *value)
 *	    ATTR_INT(name, long value)
 *	    ATTR_NV(NVTABLE *table)      every pair in the table
 *	A bad name (empty, too long, bad character) or a scan item in the
 *	list is a programming error (msg_panic). A value longer than
 *	ATTR_VALUE_HARD_MAX is refused before anything is written (-1,
 *	logged). Returns 0, or -1 on a write error or timeout.
 *
 * Reading. attr_scan(fp, flags, items..., ATTR_END) reads one list and
 *	stores the pairs asked for by name. Items:
 *	    ATTR_GET_STR(name, VSTRING *value)
 *	    ATTR_GET_INT(name, long *value)  decimal, optional '-', no
 *	                                     spaces, must fit a long
 *	    ATTR_GET_NV(NVTABLE *table)      emptied first; then receives
 *	                                     every pair not asked for by name
 *	flags: ATTR_FLAG_MISSING: a pair asked for by name must be present;
 *	ATTR_FLAG_EXTRA: a pair not asked for (and no ATTR_GET_NV) is an
 *	error, otherwise it is read and ignored; ATTR_FLAG_STRICT is both.
 *	Returns how many named items were filled (0..n), or -1 for: EOF or
 *	an I/O error or timeout at any point (a clean EOF before the first
 *	byte is not logged: check vstream_feof()); a name over ATTR_NAME_MAX
 *	or with a bad byte; a value over the limit; more than ATTR_COUNT_MAX
 *	pairs; the same name twice; a bad integer; the flags' conditions.
 *	Protocol errors are logged with msg_warn(). After -1 the stream is
 *	out of step: close it. Targets may hold partial data after -1.
 *	attr_scan_limit() is attr_scan() with a value limit other than
 *	ATTR_VALUE_MAX (1..ATTR_VALUE_HARD_MAX; 0 means ATTR_VALUE_MAX).
 *	attr_scan_nv(fp, value_max, table) reads every pair into table.
 *
 * Request/reply. attr_clnt_request(path, timeout, reply_flags,
 *	request items..., ATTR_END, reply items..., ATTR_END) connects to the
 *	UNIX stream socket path, sends the request, reads the reply with
 *	attr_scan(reply_flags), closes, and returns what attr_scan()
 *	returned, or -1 (connection failure logged). timeout (seconds,
 *	0 = none) bounds the connect and every read and write.
 *	attr_clnt_stream(fp, reply_flags, ...) does the same on an open
 *	stream (its own timeout applies) and leaves it open.
 *
 * NVTABLE: a name->value table (an HTABLE whose values are strings the
 *	table owns). attr_nv_create() makes one; attr_nv_update() stores a
 *	copy of value under name (replacing); attr_nv_find() returns the
 *	value or NULL; attr_nv_free() frees the table and its strings.
 */
#include <stdarg.h>
#include <stddef.h>

#include "htable.h"
#include "vstream.h"
#include "vstring.h"

#define ATTR_NAME_MAX 256                      /* bytes of a name */
#define ATTR_VALUE_MAX (64 * 1024)             /* default bytes of a value */
#define ATTR_VALUE_HARD_MAX (16 * 1024 * 1024) /* largest limit a caller may set */
#define ATTR_COUNT_MAX 1024                    /* pairs in one request or reply */

typedef HTABLE NVTABLE;

/* item types (use the macros below) */
#define ATTR_TYPE_END 0
#define ATTR_TYPE_STR 1
#define ATTR_TYPE_INT 2
#define ATTR_TYPE_NV 3
#define ATTR_TYPE_GET_STR 11
#define ATTR_TYPE_GET_INT 12
#define ATTR_TYPE_GET_NV 13

/* identity functions: the compiler checks each argument's type */
static inline const char *attr_arg_str(const char *s)
{
    return s;
}
static inline VSTRING *attr_arg_vstring(VSTRING *vp)
{
    return vp;
}
static inline long *attr_arg_longp(long *lp)
{
    return lp;
}
static inline NVTABLE *attr_arg_nv(NVTABLE *table)
{
    return table;
}

#define ATTR_STR(name, value) ATTR_TYPE_STR, attr_arg_str(name), attr_arg_str(value)
#define ATTR_INT(name, value) ATTR_TYPE_INT, attr_arg_str(name), (long)(value)
#define ATTR_NV(table) ATTR_TYPE_NV, attr_arg_nv(table)
#define ATTR_GET_STR(name, vp) ATTR_TYPE_GET_STR, attr_arg_str(name), attr_arg_vstring(vp)
#define ATTR_GET_INT(name, lp) ATTR_TYPE_GET_INT, attr_arg_str(name), attr_arg_longp(lp)
#define ATTR_GET_NV(table) ATTR_TYPE_GET_NV, attr_arg_nv(table)
#define ATTR_END ATTR_TYPE_END

/* attr_scan() flags */
#define ATTR_FLAG_NONE 0
#define ATTR_FLAG_MISSING (1 << 0)
#define ATTR_FLAG_EXTRA (1 << 1)
#define ATTR_FLAG_STRICT (ATTR_FLAG_MISSING | ATTR_FLAG_EXTRA)

int attr_print(VSTREAM *fp, ...);
int attr_vprint(VSTREAM *fp, va_list ap);
int attr_scan(VSTREAM *fp, int flags, ...);
int attr_scan_limit(VSTREAM *fp, int flags, size_t value_max, ...);
int attr_vscan(VSTREAM *fp, int flags, size_t value_max, va_list ap);
int attr_scan_nv(VSTREAM *fp, size_t value_max, NVTABLE *table);
int attr_clnt_request(const char *path, int timeout, int reply_flags, ...);
int attr_clnt_stream(VSTREAM *fp, int reply_flags, ...);

NVTABLE *attr_nv_create(void);
void attr_nv_update(NVTABLE *table, const char *name, const char *value);
const char *attr_nv_find(NVTABLE *table, const char *name);
void attr_nv_free(NVTABLE *table);

#endif
