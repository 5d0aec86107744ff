/*
 * NAME
 *	deliver_request - both ends of a delivery request
 * SYNOPSIS
 *	#include "deliver_request.h"
 *
 *	DELIVER_REQUEST *deliver_request_read(VSTREAM *stream)
 *	VSTREAM *deliver_request_open(DELIVER_REQUEST *req)
 *	int deliver_request_content(DELIVER_REQUEST *req, VSTRING *buf)
 *	void deliver_request_rewind(DELIVER_REQUEST *req)
 *	int deliver_request_copy(DELIVER_REQUEST *req, VSTREAM *out, const char *eol)
 *	void deliver_request_conn_done(DELIVER_REQUEST *req)
 *	int deliver_request_done(DELIVER_REQUEST *req, int status)
 *
 *	DELIVER_REQUEST *deliver_request_alloc(void)
 *	void deliver_request_free(DELIVER_REQUEST *req)
 *	void deliver_request_set(char **field, const char *value)
 *	DELIVER_RCPT *deliver_request_add_rcpt(DELIVER_REQUEST *req,
 *			const char *address, const char *orig, off_t offset,
 *			long notify, const char *orcpt)
 *
 *	void deliver_request_format(const DELIVER_REQUEST *req, VSTRING *out)
 *	void deliver_attr_format(NVTABLE *nv, VSTRING *out)
 *	int deliver_attr_parse(const char *buf, size_t len, NVTABLE *nv)
 *	int deliver_request_send(const DELIVER_REQUEST *req, VSTREAM *stream)
 *	ssize_t deliver_attr_complete(const char *buf, size_t len)
 *	int deliver_reply_parse(const char *buf, size_t len, DELIVER_REQUEST *req)
 *	int deliver_reply_read(VSTREAM *stream, DELIVER_REQUEST *req)
 * DESCRIPTION
 *	This module keeps the wire format of lib/deliver_proto.h in one
 *	place. deliver_request.h describes each function.
 *
 *	The qmgr side formats requests into memory and parses replies
 *	from memory, so that qmgr(8) can move the bytes with non-blocking
 *	I/O from its event loop; the attribute encoding itself is done by
 *	lib/attr.c through a stream whose I/O hooks read from or append to
 *	memory.
 *
 *	deliver_request_read() opens the queue file and takes a shared
 *	lock on it (lock_file.h) for as long as the request lives; qmgr(8)
 *	tests with an exclusive lock that no delivery agent still works on
 *	a file before it schedules it (after a queue manager restart).
 *
 *	The agent side reads with the stream's timeout ($ipc_timeout) and
 *	refuses anything out of bounds: a missing or malformed required
 *	attribute, more than DELIVER_RCPT_LIMIT recipients, an unknown
 *	queue name, a queue ID that could name another file, control
 *	characters in addresses or in the next hop.
 * DIAGNOSTICS
 *	Problems are logged with msg_warn() and reported by the return
 *	value; nothing here is fatal except running out of memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "deliver_request.h"
#include "lock_file.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "queue_id.h"
#include "rec.h"
#include "safe_open.h"

#define DELIVER_LOCK_WAIT 10       /* seconds to wait for the shared queue file lock */

/* the request's fixed attributes; with 5 per recipient they fit ATTR_COUNT_MAX */
#define DELIVER_HEADER_ATTRS 24

_Static_assert(DELIVER_HEADER_ATTRS + DELIVER_RCPT_ATTRS * DELIVER_RCPT_LIMIT <= ATTR_COUNT_MAX,
               "a full delivery request must fit in one attribute list");
_Static_assert(DELIVER_RCPT_LIMIT <= DEL_REQ_RCPT_MAX, "recipient limit");

/* ---------------------------------------------------------------- */
/* memory streams: attr.c encodes and decodes, we move the bytes */

typedef struct MEM_SRC {
    const char *data;
    size_t len;
    size_t pos;
} MEM_SRC;

static ssize_t mem_write(int fd, void *buf, size_t len, int timeout, void *context)
{
    (void) fd;
    (void) timeout;
    vstring_memcat((VSTRING *) context, buf, len);
    return (ssize_t) len;
}

static ssize_t mem_read(int fd, void *buf, size_t len, int timeout, void *context)
{
    MEM_SRC *src = context;
    size_t n = src->len - src->pos;

    (void) fd;
    (void) timeout;
    if (n > len)
        n = len;
    memcpy(buf, src->data + src->pos, n);
    src->pos += n;
    return (ssize_t) n;
}

static VSTREAM *mem_stream(const char *name)
{
    VSTREAM *fp = vstream_fdopen(-1, O_RDWR);

    vstream_set_path(fp, name);
    return fp;
}

/* ---------------------------------------------------------------- */
/* construction */

DELIVER_REQUEST *deliver_request_alloc(void)
{
    DELIVER_REQUEST *req = mycalloc(1, sizeof(*req));

#define EMPTY(f) (req->f = mystrdup(""))
    EMPTY(queue_name);
    EMPTY(queue_id);
    EMPTY(nexthop);
    EMPTY(encoding);
    EMPTY(sender);
    EMPTY(dsn_envid);
    EMPTY(dsn_ret);
    EMPTY(client_name);
    EMPTY(client_address);
    EMPTY(helo_name);
    EMPTY(protocol);
    EMPTY(sasl_username);
#undef EMPTY
    req->note_fd[0] = req->note_fd[1] = -1;
    return req;
}

void deliver_request_set(char **field, const char *value)
{
    myfree(*field);
    *field = mystrdup(value ? value : "");
}

DELIVER_RCPT *deliver_request_add_rcpt(DELIVER_REQUEST *req, const char *address,
                                       const char *orig, off_t offset, long notify,
                                       const char *orcpt)
{
    DELIVER_RCPT *rcpt;

    if (req->rcpt_count >= req->rcpt_size) {
        req->rcpt_size = req->rcpt_size ? req->rcpt_size * 2 : 4;
        req->rcpt = myrealloc(req->rcpt, sizeof(*req->rcpt) * (size_t) req->rcpt_size);
    }
    rcpt = req->rcpt + req->rcpt_count++;
    rcpt->address = mystrdup(address);
    rcpt->orig = mystrdup(orig ? orig : "");
    rcpt->offset = offset;
    rcpt->notify = notify;
    rcpt->orcpt = mystrdup(orcpt ? orcpt : "");
    rcpt->result = DELIVER_RESULT_NONE;
    return rcpt;
}

void deliver_request_free(DELIVER_REQUEST *req)
{
    for (int i = 0; i < req->rcpt_count; i++) {
        myfree(req->rcpt[i].address);
        myfree(req->rcpt[i].orig);
        myfree(req->rcpt[i].orcpt);
    }
    myfree(req->rcpt);
    myfree(req->queue_name);
    myfree(req->queue_id);
    myfree(req->nexthop);
    myfree(req->encoding);
    myfree(req->sender);
    myfree(req->dsn_envid);
    myfree(req->dsn_ret);
    myfree(req->client_name);
    myfree(req->client_address);
    myfree(req->helo_name);
    myfree(req->protocol);
    myfree(req->sasl_username);
    if (req->fp)
        vstream_fclose(req->fp);
    for (int i = 0; i < 2; i++)
        if (req->note_fd[i] >= 0)
            close(req->note_fd[i]);
    myfree(req);
}

/* ---------------------------------------------------------------- */
/* the qmgr side */

void deliver_request_format(const DELIVER_REQUEST *req, VSTRING *out)
{
    NVTABLE *nv = attr_nv_create();
    VSTRING *buf = vstring_alloc(100);
    VSTREAM *fp;

#define PUT_STR(name, value) attr_nv_update(nv, (name), (value))
#define PUT_NUM(name, fmt, value)                                                                  \
    do {                                                                                           \
        vstring_sprintf(buf, (fmt), (value));                                                      \
        attr_nv_update(nv, (name), vstring_str(buf));                                              \
    } while (0)

    PUT_NUM("flags", "%d", req->flags);
    PUT_STR("queue_name", req->queue_name);
    PUT_STR("queue_id", req->queue_id);
    PUT_NUM("data_offset", "%lld", (long long) req->data_offset);
    PUT_NUM("data_size", "%ld", req->data_size);
    PUT_STR("nexthop", req->nexthop);
    PUT_STR("encoding", req->encoding);
    PUT_NUM("smtputf8", "%d", req->smtputf8 ? 1 : 0);
    PUT_STR("sender", req->sender);
    PUT_STR("dsn_envid", req->dsn_envid);
    PUT_STR("dsn_ret", req->dsn_ret);
    vstring_sprintf(buf, "%lld.%06ld", (long long) req->arrival.tv_sec,
                    (long) req->arrival.tv_usec);
    PUT_STR("arrival_time", vstring_str(buf));
    PUT_STR("client_name", req->client_name);
    PUT_STR("client_address", req->client_address);
    PUT_STR("helo_name", req->helo_name);
    PUT_STR("protocol", req->protocol);
    PUT_STR("sasl_username", req->sasl_username);
    vstring_sprintf(buf, "%.6f/%.6f", req->delay_a < 0 ? 0 : req->delay_a,
                    req->delay_b < 0 ? 0 : req->delay_b);
    PUT_STR("queue_delays", vstring_str(buf));
    PUT_NUM("rcpt_count", "%d", req->rcpt_count);
    for (int i = 0; i < req->rcpt_count; i++) {
        char name[64];
        const DELIVER_RCPT *rcpt = req->rcpt + i;

        snprintf(name, sizeof(name), "rcpt.%d.address", i);
        PUT_STR(name, rcpt->address);
        snprintf(name, sizeof(name), "rcpt.%d.orig", i);
        PUT_STR(name, rcpt->orig);
        snprintf(name, sizeof(name), "rcpt.%d.offset", i);
        PUT_NUM(name, "%lld", (long long) rcpt->offset);
        snprintf(name, sizeof(name), "rcpt.%d.notify", i);
        PUT_NUM(name, "%ld", rcpt->notify);
        snprintf(name, sizeof(name), "rcpt.%d.orcpt", i);
        PUT_STR(name, rcpt->orcpt);
    }
    vstring_reset(out);
    fp = mem_stream("delivery request");
    vstream_set_io(fp, NULL, mem_write, out);
    if (attr_print(fp, ATTR_NV(nv), ATTR_END) != 0)
        msg_panic("deliver_request_format: cannot format request for %s", req->queue_id);
    vstream_fdclose(fp);
    attr_nv_free(nv);
    vstring_free(buf);
}

void deliver_attr_format(NVTABLE *nv, VSTRING *out)
{
    VSTREAM *fp = mem_stream("attribute list");

    vstring_reset(out);
    vstream_set_io(fp, NULL, mem_write, out);
    if (attr_print(fp, ATTR_NV(nv), ATTR_END) != 0)
        msg_panic("deliver_attr_format: cannot format attributes");
    vstream_fdclose(fp);
}

int deliver_attr_parse(const char *buf, size_t len, NVTABLE *nv)
{
    MEM_SRC src = {buf, len, 0};
    VSTREAM *fp = mem_stream("attribute list");
    int ret;

    vstream_set_io(fp, mem_read, NULL, &src);
    ret = attr_scan_nv(fp, ATTR_VALUE_MAX, nv);
    vstream_fdclose(fp);
    return ret;
}

ssize_t deliver_attr_complete(const char *buf, size_t len)
{
    size_t pos = 0;
    size_t field;
    int pairs = 0;

    for (;;) {
        if (pos >= len)
            return 0;
        if (buf[pos] == 0)
            return (ssize_t) pos + 1;           /* the empty name ends the list */
        if (++pairs > ATTR_COUNT_MAX)
            return -1;
        /* name */
        field = strnlen(buf + pos, len - pos);
        if (pos + field >= len)
            return field > ATTR_NAME_MAX ? -1 : 0;
        if (field > ATTR_NAME_MAX)
            return -1;
        pos += field + 1;
        /* value */
        field = strnlen(buf + pos, len - pos);
        if (pos + field >= len)
            return field > ATTR_VALUE_MAX ? -1 : 0;
        if (field > ATTR_VALUE_MAX)
            return -1;
        pos += field + 1;
    }
}

/* deliver_reply_scan - read a reply from a stream into req */

static int deliver_reply_scan(VSTREAM *fp, DELIVER_REQUEST *req)
{
    NVTABLE *nv = attr_nv_create();
    HTABLE_INFO **list;
    const char *value;
    char *end;
    long status;
    long idx;
    int result;
    int ret = -1;

    if (attr_scan_nv(fp, ATTR_VALUE_MAX, nv) < 0)
        goto out;
    if ((value = attr_nv_find(nv, "status")) == NULL) {
        msg_warn("%s: reply without status", vstream_path(fp));
        goto out;
    }
    errno = 0;
    status = strtol(value, &end, 10);
    if (errno || *end || end == value || status < 0 || status > 1000) {
        msg_warn("%s: bad reply status \"%.30s\"", vstream_path(fp), value);
        goto out;
    }
    list = htable_list(nv);
    for (HTABLE_INFO **ht = list; *ht; ht++) {
        const char *name = (*ht)->key;

        if (strcmp(name, "status") == 0)
            continue;
        if (strncmp(name, "rcpt.", 5) != 0 || req == NULL || name[5] < '0' || name[5] > '9')
            goto unexpected;
        errno = 0;
        idx = strtol(name + 5, &end, 10);
        if (errno || end == name + 5 || strcmp(end, ".result") != 0 || idx < 0
            || idx >= req->rcpt_count || (name[5] == '0' && name[6] != '.'))
            goto unexpected;
        value = (*ht)->value;
        if (strcmp(value, DEL_RESULT_SENT) == 0)
            result = DELIVER_RESULT_SENT;
        else if (strcmp(value, DEL_RESULT_DEFERRED) == 0)
            result = DELIVER_RESULT_DEFERRED;
        else if (strcmp(value, DEL_RESULT_BOUNCED) == 0)
            result = DELIVER_RESULT_BOUNCED;
        else
            goto unexpected;
        req->rcpt[idx].result = result;
        continue;
unexpected:
        msg_warn("%s: unexpected reply attribute %.100s=%.100s", vstream_path(fp), name,
                 (const char *) (*ht)->value);
        myfree(list);
        goto out;
    }
    myfree(list);
    ret = (int) status;
out:
    attr_nv_free(nv);
    return ret;
}

int deliver_reply_parse(const char *buf, size_t len, DELIVER_REQUEST *req)
{
    MEM_SRC src = {buf, len, 0};
    VSTREAM *fp = mem_stream(req && *req->queue_id ? req->queue_id : "delivery reply");
    int ret;

    vstream_set_io(fp, mem_read, NULL, &src);
    ret = deliver_reply_scan(fp, req);
    vstream_fdclose(fp);
    return ret;
}

int deliver_reply_read(VSTREAM *stream, DELIVER_REQUEST *req)
{
    return deliver_reply_scan(stream, req);
}

int deliver_request_send(const DELIVER_REQUEST *req, VSTREAM *stream)
{
    VSTRING *buf = vstring_alloc(1000);
    int ret = 0;

    if (deliver_reply_scan(stream, NULL) != 0) {
        msg_warn("%s: no ready status from delivery agent", vstream_path(stream));
        ret = -1;
    } else {
        deliver_request_format(req, buf);
        if (vstream_fwrite(stream, vstring_str(buf), vstring_len(buf)) != 0
            || vstream_fflush(stream) != 0) {
            msg_warn("%s: cannot send delivery request: %m", vstream_path(stream));
            ret = -1;
        }
    }
    vstring_free(buf);
    return ret;
}

/* ---------------------------------------------------------------- */
/* the agent side: reading and checking a request */

static int deliver_text_ok(const char *text)
{
    for (const unsigned char *cp = (const unsigned char *) text; *cp; cp++)
        if (*cp < 0x20 || *cp == 0x7f)
            return 0;
    return 1;
}

static int deliver_parse_long(const char *text, long min, long max, long *out)
{
    char *end;
    long val;

    if (text == NULL || *text == 0 || *text == ' ' || *text == '+')
        return -1;
    errno = 0;
    val = strtol(text, &end, 10);
    if (errno || *end || val < min || val > max)
        return -1;
    *out = val;
    return 0;
}

static int deliver_parse_time(const char *text, struct timeval *tv)
{
    long sec, usec = 0;
    const char *dot = strchr(text, '.');
    char *head = dot ? mystrndup(text, (size_t) (dot - text)) : mystrdup(text);
    int ok = deliver_parse_long(head, 0, 0x7fffffffL, &sec) == 0
             && (dot == NULL || deliver_parse_long(dot + 1, 0, 999999, &usec) == 0);

    myfree(head);
    if (!ok)
        return -1;
    tv->tv_sec = sec;
    tv->tv_usec = usec;
    return 0;
}

static int deliver_parse_delays(const char *text, double *a, double *b)
{
    char *end;

    errno = 0;
    *a = strtod(text, &end);
    if (errno || end == text || *end != '/' || !(*a >= 0 && *a <= 1e9))
        return -1;
    text = end + 1;
    *b = strtod(text, &end);
    if (errno || end == text || *end || !(*b >= 0 && *b <= 1e9))
        return -1;
    return 0;
}

static int deliver_queue_name_ok(const char *name)
{
    static const char *names[] = {DELIVER_QUEUE_NAMES};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

/* deliver_request_parse - fill req from the table; 0 or -1 with why */

static int deliver_request_parse(NVTABLE *nv, DELIVER_REQUEST *req, VSTRING *why)
{
    const char *v;
    long num;
    long count;
    char name[64];

#define GET_REQUIRED(n)                                                                            \
    do {                                                                                           \
        if ((v = attr_nv_find(nv, (n))) == NULL) {                                                 \
            vstring_sprintf(why, "missing attribute %s", (n));                                     \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)
#define BAD(n)                                                                                     \
    do {                                                                                           \
        vstring_sprintf(why, "bad %s value \"%.60s\"", (n), v);                                    \
        return -1;                                                                                 \
    } while (0)
#define GET_TEXT(n, field)                                                                         \
    do {                                                                                           \
        if ((v = attr_nv_find(nv, (n))) != NULL) {                                                 \
            if (!deliver_text_ok(v))                                                               \
                BAD(n);                                                                            \
            deliver_request_set(&req->field, v);                                                   \
        }                                                                                          \
    } while (0)

    GET_REQUIRED("queue_id");
    if (!queue_id_ok(v))
        BAD("queue_id");
    deliver_request_set(&req->queue_id, v);
    GET_REQUIRED("queue_name");
    if (!deliver_queue_name_ok(v))
        BAD("queue_name");
    deliver_request_set(&req->queue_name, v);
    GET_REQUIRED("flags");
    if (deliver_parse_long(v, 0, 0x7fffffffL, &num) < 0)
        BAD("flags");
    req->flags = (int) num;
    GET_REQUIRED("data_offset");
    if (deliver_parse_long(v, 1, 0x7fffffffffffffffL, &num) < 0)
        BAD("data_offset");
    req->data_offset = (off_t) num;
    GET_REQUIRED("data_size");
    if (deliver_parse_long(v, 0, 0x7fffffffffffffffL, &num) < 0)
        BAD("data_size");
    req->data_size = num;
    GET_REQUIRED("sender");
    if (!deliver_text_ok(v))
        BAD("sender");
    deliver_request_set(&req->sender, v);
    GET_REQUIRED("arrival_time");
    if (deliver_parse_time(v, &req->arrival) < 0)
        BAD("arrival_time");
    if ((v = attr_nv_find(nv, "smtputf8")) != NULL) {
        if (deliver_parse_long(v, 0, 1, &num) < 0)
            BAD("smtputf8");
        req->smtputf8 = (int) num;
    }
    if ((v = attr_nv_find(nv, "queue_delays")) != NULL
        && deliver_parse_delays(v, &req->delay_a, &req->delay_b) < 0)
        BAD("queue_delays");
    GET_TEXT("nexthop", nexthop);
    GET_TEXT("encoding", encoding);
    GET_TEXT("dsn_envid", dsn_envid);
    GET_TEXT("dsn_ret", dsn_ret);
    GET_TEXT("client_name", client_name);
    GET_TEXT("client_address", client_address);
    GET_TEXT("helo_name", helo_name);
    GET_TEXT("protocol", protocol);
    GET_TEXT("sasl_username", sasl_username);

    GET_REQUIRED("rcpt_count");
    if (deliver_parse_long(v, 1, DELIVER_RCPT_LIMIT, &count) < 0)
        BAD("rcpt_count");
    for (int i = 0; i < count; i++) {
        const char *addr, *orig, *orcpt;
        long offset, notify = 0;

        snprintf(name, sizeof(name), "rcpt.%d.address", i);
        GET_REQUIRED(name);
        if (!deliver_text_ok(v))
            BAD(name);
        addr = v;
        snprintf(name, sizeof(name), "rcpt.%d.offset", i);
        GET_REQUIRED(name);
        if (deliver_parse_long(v, 1, 0x7fffffffffffffffL, &offset) < 0)
            BAD(name);
        snprintf(name, sizeof(name), "rcpt.%d.orig", i);
        if ((orig = v = attr_nv_find(nv, name)) != NULL && !deliver_text_ok(v))
            BAD(name);
        snprintf(name, sizeof(name), "rcpt.%d.orcpt", i);
        if ((orcpt = v = attr_nv_find(nv, name)) != NULL && !deliver_text_ok(v))
            BAD(name);
        snprintf(name, sizeof(name), "rcpt.%d.notify", i);
        if ((v = attr_nv_find(nv, name)) != NULL && deliver_parse_long(v, 0, 0xffff, &notify) < 0)
            BAD(name);
        deliver_request_add_rcpt(req, addr, orig, (off_t) offset, notify, orcpt);
    }
    return 0;
}

DELIVER_REQUEST *deliver_request_read(VSTREAM *stream)
{
    DELIVER_REQUEST *req;
    NVTABLE *nv;
    VSTRING *why;

    vstream_set_timeout(stream, (int) var_ipc_timeout);
    if (attr_print(stream, ATTR_INT("status", DEL_STAT_OK), ATTR_END) != 0) {
        msg_warn("%s: cannot send ready status to queue manager", vstream_path(stream));
        return NULL;
    }
    nv = attr_nv_create();
    if (attr_scan_nv(stream, ATTR_VALUE_MAX, nv) < 0) {
        if (!vstream_feof(stream) || vstream_ferror(stream))
            msg_warn("%s: cannot read delivery request", vstream_path(stream));
        attr_nv_free(nv);
        return NULL;
    }
    req = deliver_request_alloc();
    gettimeofday(&req->start, NULL);
    req->client = stream;
    why = vstring_alloc(100);
    if (deliver_request_parse(nv, req, why) < 0) {
        msg_warn("%s: malformed delivery request: %s", vstream_path(stream), vstring_str(why));
        (void) attr_print(stream, ATTR_INT("status", DEL_STAT_DEFER), ATTR_END);
        deliver_request_free(req);
        req = NULL;
    } else if (deliver_request_open(req) == NULL
               || lock_file_wait(vstream_fileno(req->fp), LOCK_FILE_SHARED,
                                 DELIVER_LOCK_WAIT) < 0) {
        if (req->fp)
            msg_warn("%s: cannot lock queue file: %m", req->queue_id);
        (void) attr_print(stream, ATTR_INT("status", DEL_STAT_DEFER), ATTR_END);
        deliver_request_free(req);
        req = NULL;
    }
    vstring_free(why);
    attr_nv_free(nv);
    return req;
}

/* ---------------------------------------------------------------- */
/* the agent side: the queue file */

VSTREAM *deliver_request_open(DELIVER_REQUEST *req)
{
    VSTRING *path;
    VSTRING *why;
    VSTRING *buf;
    int fd;
    int type;

    if (req->fp)
        return req->fp;
    path = vstring_alloc(100);
    why = vstring_alloc(100);
    vstring_sprintf(path, "%s/%s", req->queue_name, req->queue_id);
    fd = safe_open_existing(vstring_str(path), O_RDWR, SAFE_OPEN_ANY_UID, NULL, why);
    if (fd < 0) {
        msg_warn("%s: cannot open queue file: %s", req->queue_id, vstring_str(why));
    } else {
        req->fp = vstream_fdopen(fd, O_RDWR);
        vstream_set_path(req->fp, vstring_str(path));
        buf = vstring_alloc(10);
        if (rec_goto(req->fp, req->data_offset) < 0
            || (type = rec_get(req->fp, buf, 0)) != REC_TYPE_MESG) {
            msg_warn("%s: no message content at offset %lld", vstring_str(path),
                     (long long) req->data_offset);
            vstream_fclose(req->fp);
            req->fp = NULL;
        } else {
            req->content_started = 1;
        }
        vstring_free(buf);
    }
    vstring_free(path);
    vstring_free(why);
    return req->fp;
}

void deliver_request_rewind(DELIVER_REQUEST *req)
{
    req->content_started = 0;
}

int deliver_request_content(DELIVER_REQUEST *req, VSTRING *buf)
{
    int type;

    if (req->fp == NULL) {
        if (deliver_request_open(req) == NULL)
            return -1;
    } else if (!req->content_started) {
        if (rec_goto(req->fp, req->data_offset) < 0 || rec_get(req->fp, buf, 0) != REC_TYPE_MESG) {
            msg_warn("%s: no message content at offset %lld", vstream_path(req->fp),
                     (long long) req->data_offset);
            return -1;
        }
        req->content_started = 1;
    }
    type = rec_get(req->fp, buf, 0);
    switch (type) {
    case REC_TYPE_NORM:
    case REC_TYPE_CONT:
        return type;
    case REC_TYPE_XTRA:
        req->content_started = 0;
        return 0;
    default:
        if (type != REC_TYPE_ERROR)
            msg_warn("%s: unexpected %s record in message content", vstream_path(req->fp),
                     rec_type_name(type));
        req->content_started = 0;
        return -1;
    }
}

int deliver_request_copy(DELIVER_REQUEST *req, VSTREAM *out, const char *eol)
{
    VSTRING *buf = vstring_alloc(1000);
    int type;
    int ret = 0;

    deliver_request_rewind(req);
    while ((type = deliver_request_content(req, buf)) > 0) {
        if (vstream_fwrite(out, vstring_str(buf), vstring_len(buf)) != 0
            || (type == REC_TYPE_NORM && vstream_fputs(eol, out) == VSTREAM_EOF)) {
            ret = DELIVER_COPY_WRITE;
            break;
        }
    }
    if (type < 0)
        ret = DELIVER_COPY_READ;
    vstring_free(buf);
    return ret;
}

void deliver_request_conn_done(DELIVER_REQUEST *req)
{
    gettimeofday(&req->conn_done, NULL);
}

/* ---------------------------------------------------------------- */
/* the agent side: the reply */

int deliver_request_done(DELIVER_REQUEST *req, int status)
{
    static const char *words[] = {NULL, DEL_RESULT_SENT, DEL_RESULT_DEFERRED, DEL_RESULT_BOUNCED};
    NVTABLE *nv = attr_nv_create();
    char name[64];
    int ret;

    for (int i = 0; i < req->rcpt_count; i++) {
        int result = req->rcpt[i].result;

        if (result <= DELIVER_RESULT_NONE || result > DELIVER_RESULT_BOUNCED)
            continue;
        snprintf(name, sizeof(name), "rcpt.%d.result", i);
        attr_nv_update(nv, name, words[result]);
    }
    ret = attr_print(req->client, ATTR_INT("status", status), ATTR_NV(nv), ATTR_END);
    if (ret != 0)
        msg_warn("%s: cannot send delivery status to queue manager: %m", req->queue_id);
    attr_nv_free(nv);
    deliver_request_free(req);
    return ret == 0 ? 0 : -1;
}
