/*
 * NAME
 *	fuzz_deliver_request - libFuzzer harness for the delivery agent's
 *	request reader and qmgr's reply and list parsers
 * SYNOPSIS
 *	build/fuzz/fuzz_deliver_request [libFuzzer options] [corpus...]
 * DESCRIPTION
 *	At start-up the harness makes a private queue directory under /tmp
 *	(removed at exit); the agent opens queue files by relative names, so
 *	the harness enters it only during each deliver_request_read() call
 *	(a crash inside that call leaves libFuzzer's artifact there):
 *	active/ and deferred/ hold a
 *	queue file whose every offset starts a MESG record, one holds a
 *	file without any, and one ID has no file.
 *
 *	The first input byte selects the mode. In raw mode the rest is
 *	what qmgr sends; in list mode it is a small program that changes a
 *	valid request: set a name of the request's vocabulary ("rcpt.I.*"
 *	with varying I) to a canned or raw value, delete one, or add a raw
 *	name and value; in qmgr mode see below. The bytes go
 *	to deliver_request_read() through a stream whose hooks read them
 *	and collect what the agent writes. The harness aborts when:
 *	- an accepted request breaks a documented limit: queue_name not one
 *	  of DELIVER_QUEUE_NAMES, a queue_id that is not [0-9A-F]{6,21},
 *	  data_offset or a recipient offset not > 0, rcpt_count outside
 *	  1..DELIVER_RCPT_LIMIT or different from the list's rcpt_count, a
 *	  control character in the sender, an address or any other text
 *	  field, arrival microseconds outside 0..999999, negative or
 *	  non-finite queue delays, smtputf8 not 0 or 1, a field that differs
 *	  from the attribute it came from (orig, orcpt, notify default to
 *	  "", "", 0), or no queue file open;
 *	- the agent writes anything but its ready status, then (only when
 *	  the list itself could be read and the request is refused) one
 *	  DEL_STAT_DEFER reply;
 *	- an accepted request, formatted by deliver_request_format() (the
 *	  qmgr side) and read again, is not accepted with the same fields;
 *	  its reply from deliver_request_done() with random results, parsed
 *	  by deliver_reply_parse(), does not give the same status and
 *	  results;
 *	- a request that qmgr builds from fuzz data within the limits
 *	  (deliver_request_add_rcpt() etc.) is not accepted back intact;
 *	- deliver_attr_complete() disagrees with attr_scan_nv() on the
 *	  same bytes (the length of the first list, "need more", or "bad");
 *	- deliver_reply_parse() of the bytes returns a status outside
 *	  0..1000 or stores a result word that is not sent, deferred or
 *	  bounced.
 *	Attributes "rcpt.I.*" with I >= rcpt_count are ignored by the reader
 *	(deliver_request.h does not say they are refused); the harness
 *	does not treat them as an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attr.h"
#include "deliver_request.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"
#include "vstream.h"
#include "vstring.h"

#define QUEUE_FILE_SIZE 4096 /* of 'M' bytes: a MESG record at every offset up to ... */
#define MESG_OFFSET_MAX (QUEUE_FILE_SIZE - 2 - 'M')

#define ID_GOOD "ABCDEF0123"  /* active/ and deferred/: MESG everywhere */
#define ID_NOMESG "ABCDEF0124" /* active/: no MESG record */
#define ID_NONE "ABCDEF0125"   /* no file */

static char queue_dir[64];
static int home_fd = -1; /* the working directory, where libFuzzer writes its files */

/* ---- the private queue directory ---- */

static void queue_path(char *buf, size_t len, const char *dir, const char *id)
{
    snprintf(buf, len, "%s/%s%s%s", queue_dir, dir, id ? "/" : "", id ? id : "");
}

static void queue_file(const char *dir, const char *id, int byte)
{
    char path[128], buf[QUEUE_FILE_SIZE];
    int fd;

    queue_path(path, sizeof(path), dir, id);
    memset(buf, byte, sizeof(buf));
    if ((fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600)) < 0 ||
        write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || close(fd) < 0)
        abort();
}

static const char *queue_dirs[] = {"active", "deferred", "incoming", "hold"};

static void queue_cleanup(void)
{
    char path[128];

    queue_path(path, sizeof(path), "active", ID_GOOD);
    unlink(path);
    queue_path(path, sizeof(path), "active", ID_NOMESG);
    unlink(path);
    queue_path(path, sizeof(path), "deferred", ID_GOOD);
    unlink(path);
    for (size_t i = 0; i < sizeof(queue_dirs) / sizeof(queue_dirs[0]); i++) {
        queue_path(path, sizeof(path), queue_dirs[i], NULL);
        rmdir(path);
    }
    rmdir(queue_dir);
}

static void queue_setup(void)
{
    char path[128];

    strcpy(queue_dir, "/tmp/fuzz_deliver_request.XXXXXX");
    if (mkdtemp(queue_dir) == NULL)
        abort();
    atexit(queue_cleanup);
    for (size_t i = 0; i < sizeof(queue_dirs) / sizeof(queue_dirs[0]); i++) {
        queue_path(path, sizeof(path), queue_dirs[i], NULL);
        if (mkdir(path, 0700) < 0)
            abort();
    }
    queue_file("active", ID_GOOD, 'M');
    queue_file("deferred", ID_GOOD, 'M');
    queue_file("active", ID_NOMESG, 'N');
}

/* ---- a stream between qmgr (the harness) and the agent ---- */

typedef struct PEER {
    const char *data;
    size_t len;
    size_t pos;
    VSTRING *written;
} PEER;

static ssize_t peer_read(int fd, void *buf, size_t len, int timeout, void *context)
{
    PEER *peer = context;
    size_t n = peer->len - peer->pos;

    (void)fd;
    (void)timeout;
    if (n > len)
        n = len;
    if (n > 97) /* not all at once */
        n = 97;
    memcpy(buf, peer->data + peer->pos, n);
    peer->pos += n;
    return (ssize_t)n;
}

static ssize_t peer_write(int fd, void *buf, size_t len, int timeout, void *context)
{
    PEER *peer = context;

    (void)fd;
    (void)timeout;
    vstring_memcat(peer->written, buf, len);
    return (ssize_t)len;
}

static VSTREAM *peer_open(PEER *peer, const char *data, size_t len)
{
    VSTREAM *fp = vstream_fdopen(-1, O_RDWR);

    peer->data = data;
    peer->len = len;
    peer->pos = 0;
    vstring_reset(peer->written);
    vstream_set_io(fp, peer_read, peer_write, peer);
    return fp;
}

/* ---- checks ---- */

static const char ready[] = "status\0" "0\0";     /* then the list's end NUL */
static const char deferred[] = "status\0" "1\0";

static int text_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static int id_ok(const char *id)
{
    size_t len = strlen(id);

    return len >= 6 && len <= 21 && strspn(id, "0123456789ABCDEF") == len;
}

static int same_text(NVTABLE *nv, const char *name, const char *field)
{
    const char *v = attr_nv_find(nv, name);

    return strcmp(v ? v : "", field) == 0;
}

static int same_num(NVTABLE *nv, const char *name, long long field, long long dflt)
{
    const char *v = attr_nv_find(nv, name);

    return v ? strtoll(v, NULL, 10) == field : field == dflt;
}

/* check_accepted - an accepted request against the list it came from */

static void check_accepted(const DELIVER_REQUEST *req, NVTABLE *nv)
{
    static const char *texts[] = {"sender",      "nexthop",        "encoding",  "dsn_envid",
                                  "dsn_ret",     "client_name",    "client_address",
                                  "helo_name",   "protocol",       "sasl_username"};
    const char *fields[] = {req->sender,      req->nexthop,        req->encoding,
                            req->dsn_envid,   req->dsn_ret,        req->client_name,
                            req->client_address, req->helo_name,   req->protocol,
                            req->sasl_username};
    int found = 0;
    char name[64];

    for (size_t i = 0; i < sizeof(queue_dirs) / sizeof(queue_dirs[0]); i++)
        found |= strcmp(req->queue_name, queue_dirs[i]) == 0;
    if (!found || !same_text(nv, "queue_name", req->queue_name))
        abort();
    if (!id_ok(req->queue_id) || !same_text(nv, "queue_id", req->queue_id))
        abort();
    if (req->data_offset <= 0 || !same_num(nv, "data_offset", req->data_offset, -1))
        abort();
    if (req->data_size < 0 || !same_num(nv, "data_size", req->data_size, -1))
        abort();
    if (req->flags < 0 || !same_num(nv, "flags", req->flags, -1))
        abort();
    if ((req->smtputf8 != 0 && req->smtputf8 != 1) || !same_num(nv, "smtputf8", req->smtputf8, 0))
        abort();
    if (req->arrival.tv_sec < 0 || req->arrival.tv_usec < 0 || req->arrival.tv_usec > 999999)
        abort();
    if (!isfinite(req->delay_a) || !isfinite(req->delay_b) || req->delay_a < 0 ||
        req->delay_b < 0)
        abort();
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (!text_ok(fields[i]) || !same_text(nv, texts[i], fields[i]))
            abort();
    if (req->rcpt_count < 1 || req->rcpt_count > DELIVER_RCPT_LIMIT ||
        !same_num(nv, "rcpt_count", req->rcpt_count, -1))
        abort();
    for (int i = 0; i < req->rcpt_count; i++) {
        const DELIVER_RCPT *r = req->rcpt + i;

        if (!text_ok(r->address) || !text_ok(r->orig) || !text_ok(r->orcpt) || r->offset <= 0 ||
            r->notify < 0 || r->result != DELIVER_RESULT_NONE)
            abort();
        snprintf(name, sizeof(name), "rcpt.%d.address", i);
        if (attr_nv_find(nv, name) == NULL || !same_text(nv, name, r->address))
            abort();
        snprintf(name, sizeof(name), "rcpt.%d.orig", i);
        if (!same_text(nv, name, r->orig))
            abort();
        snprintf(name, sizeof(name), "rcpt.%d.orcpt", i);
        if (!same_text(nv, name, r->orcpt))
            abort();
        snprintf(name, sizeof(name), "rcpt.%d.offset", i);
        if (!same_num(nv, name, r->offset, -1))
            abort();
        snprintf(name, sizeof(name), "rcpt.%d.notify", i);
        if (!same_num(nv, name, r->notify, 0))
            abort();
    }
    if (req->fp == NULL || req->client == NULL)
        abort();
}

/* same_request - every field qmgr sends */

static void same_request(const DELIVER_REQUEST *a, const DELIVER_REQUEST *b)
{
    if (strcmp(a->queue_name, b->queue_name) || strcmp(a->queue_id, b->queue_id) ||
        a->data_offset != b->data_offset || a->data_size != b->data_size ||
        a->flags != b->flags || a->smtputf8 != b->smtputf8 || strcmp(a->sender, b->sender) ||
        strcmp(a->nexthop, b->nexthop) || strcmp(a->encoding, b->encoding) ||
        strcmp(a->dsn_envid, b->dsn_envid) || strcmp(a->dsn_ret, b->dsn_ret) ||
        strcmp(a->client_name, b->client_name) || strcmp(a->client_address, b->client_address) ||
        strcmp(a->helo_name, b->helo_name) || strcmp(a->protocol, b->protocol) ||
        strcmp(a->sasl_username, b->sasl_username) || a->arrival.tv_sec != b->arrival.tv_sec ||
        a->arrival.tv_usec != b->arrival.tv_usec || a->rcpt_count != b->rcpt_count)
        abort();
    /* delays travel as "%.6f": equal to a microsecond */
    if (fabs(a->delay_a - b->delay_a) > 1e-6 * (1 + a->delay_a) ||
        fabs(a->delay_b - b->delay_b) > 1e-6 * (1 + a->delay_b))
        abort();
    for (int i = 0; i < a->rcpt_count; i++) {
        const DELIVER_RCPT *x = a->rcpt + i, *y = b->rcpt + i;

        if (strcmp(x->address, y->address) || strcmp(x->orig, y->orig) ||
            strcmp(x->orcpt, y->orcpt) || x->offset != y->offset || x->notify != y->notify)
            abort();
    }
}

/* read_request - deliver_request_read() on bytes, with the checks on what it writes */

static DELIVER_REQUEST *read_request(PEER *peer, const char *data, size_t len, NVTABLE *nv)
{
    VSTREAM *fp = peer_open(peer, data, len);
    DELIVER_REQUEST *req;
    PEER scan_peer;
    VSTREAM *scan_fp;
    int listed;
    size_t written;

    /* the list as attr_scan_nv() reads it, for reference */
    scan_peer.written = peer->written;
    scan_fp = peer_open(&scan_peer, data, len);
    listed = attr_scan_nv(scan_fp, ATTR_VALUE_MAX, nv) >= 0;
    vstream_fdclose(scan_fp);
    vstring_reset(peer->written);

    /* the agent opens QUEUE_NAME/QUEUE_ID: in the queue directory only for that */
    if (chdir(queue_dir) < 0)
        abort();
    req = deliver_request_read(fp);
    if (fchdir(home_fd) < 0)
        abort();
    written = vstring_len(peer->written);
    if (written < sizeof(ready) || memcmp(vstring_str(peer->written), ready, sizeof(ready)) != 0)
        abort();
    if (req == NULL && listed) {
        if (written != 2 * sizeof(ready) ||
            memcmp(vstring_str(peer->written) + sizeof(ready), deferred, sizeof(deferred)) != 0)
            abort();
    } else if (written != sizeof(ready)) {
        abort();
    }
    if (req != NULL) {
        if (!listed)
            abort();
        check_accepted(req, nv); /* the reply will go to peer too */
    } else {
        vstream_fdclose(fp);
    }
    return req;
}

static void done_request(DELIVER_REQUEST *req)
{
    VSTREAM *fp = req->client;

    if (deliver_request_done(req, DEL_STAT_OK) != 0)
        abort();
    vstream_fdclose(fp);
}

/* check_round_trip - qmgr's format of req is accepted back intact; the reply parses back */

static void check_round_trip(DELIVER_REQUEST *req, PEER *peer, const uint8_t *data, size_t size)
{
    VSTRING *wire = vstring_alloc(1000);
    NVTABLE *nv = attr_nv_create();
    DELIVER_REQUEST *again, *mirror;
    VSTREAM *fp;
    int status;

    deliver_request_format(req, wire);
    again = read_request(peer, vstring_str(wire), vstring_len(wire), nv);
    if (again == NULL)
        abort();
    same_request(req, again);

    /* the reply: random results, read back by qmgr */
    mirror = deliver_request_alloc();
    for (int i = 0; i < again->rcpt_count; i++) {
        again->rcpt[i].result = size ? data[i % size] % 4 : i % 4;
        deliver_request_add_rcpt(mirror, again->rcpt[i].address, NULL, 1, 0, NULL);
    }
    status = size && (data[0] & 0x10) ? DEL_STAT_DEFER : DEL_STAT_OK;
    fp = again->client;
    vstring_reset(peer->written);
    {
        int results[DELIVER_RCPT_LIMIT];
        int count = again->rcpt_count;

        for (int i = 0; i < count; i++)
            results[i] = again->rcpt[i].result;
        if (deliver_request_done(again, status) != 0)
            abort();
        vstream_fdclose(fp);
        if (deliver_reply_parse(vstring_str(peer->written), vstring_len(peer->written), mirror) !=
                status ||
            deliver_attr_complete(vstring_str(peer->written), vstring_len(peer->written)) !=
                (ssize_t)vstring_len(peer->written))
            abort();
        for (int i = 0; i < count; i++)
            if (mirror->rcpt[i].result != results[i])
                abort();
    }
    deliver_request_free(mirror);
    attr_nv_free(nv);
    vstring_free(wire);
}

/* ---- list mode: a program that writes an attribute list ---- */

static const char *names[] = {
    "flags",          "queue_name",    "queue_id",  "data_offset", "data_size",
    "nexthop",        "encoding",      "smtputf8",  "sender",      "dsn_envid",
    "dsn_ret",        "arrival_time",  "client_name", "client_address", "helo_name",
    "protocol",       "sasl_username", "rcpt_count", "queue_delays",
    "rcpt.%d.address", "rcpt.%d.orig", "rcpt.%d.offset", "rcpt.%d.notify", "rcpt.%d.orcpt",
};
static const char *values[] = {
    "active", "deferred", "incoming", "hold", "maildrop", "../active", ID_GOOD, ID_NOMESG,
    ID_NONE, "abcdef0123", "ABCDE", "../active/" ID_GOOD, "0", "1", "2", "3", "17", "200",
    "201", "4000", "-1", "+1", " 1", "1x", "65535", "65536", "9223372036854775807",
    "9223372036854775808", "2147483648", "", "1700000000.123456", "1700000000", "1.1000000",
    "1.-1", "1.", ".5", "0.5/1.25", "1e9/0", "1e10/0", "nan/1", "inf/0", "1/", "-0/0",
    "user@example.com", "a\tb@example.com", "mx.example.com[192.0.2.1]:25", "\xc3\xa9t\xc3\xa9",
    "rfc822;user@example.com", "7bit", "8bit", "FULL", "HDRS", "a\x7f",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* the request that list programs change: valid as it is */
static const char *base_list[][2] = {
    {"flags", "0"},           {"queue_name", "active"},   {"queue_id", ID_GOOD},
    {"data_offset", "120"},   {"data_size", "345"},       {"nexthop", "example.com"},
    {"encoding", "8bit"},     {"smtputf8", "0"},          {"sender", "alice@example.org"},
    {"dsn_envid", ""},        {"dsn_ret", "FULL"},        {"arrival_time", "1700000000.123456"},
    {"client_name", "mail.example.org"}, {"client_address", "192.0.2.7"},
    {"helo_name", "mail.example.org"},   {"protocol", "ESMTP"}, {"sasl_username", ""},
    {"queue_delays", "0.500000/0.010000"}, {"rcpt_count", "2"},
    {"rcpt.0.address", "bob@example.com"}, {"rcpt.0.orig", ""}, {"rcpt.0.offset", "60"},
    {"rcpt.0.notify", "0"},   {"rcpt.0.orcpt", ""},
    {"rcpt.1.address", "carol@example.com"}, {"rcpt.1.orig", "c@example.com"},
    {"rcpt.1.offset", "90"},  {"rcpt.1.notify", "6"},     {"rcpt.1.orcpt", "rfc822;c@example.com"},
};

#define LIST_MAX 256

/*
 * make_list - the base request changed by the program in data: each op
 * sets a known name (added when absent) to a canned or raw value, deletes
 * a known name, or appends a raw name and value
 */
static void make_list(const uint8_t *data, size_t size, VSTRING *out)
{
    static VSTRING *name[LIST_MAX], *value[LIST_MAX];
    size_t pos = 0;
    int count = 0;
    char buf[64];

    if (name[0] == NULL)
        for (int i = 0; i < LIST_MAX; i++) {
            name[i] = vstring_alloc(32);
            value[i] = vstring_alloc(32);
        }
    for (size_t i = 0; i < COUNT(base_list); i++, count++) {
        vstring_strcpy(name[count], base_list[i][0]);
        vstring_strcpy(value[count], base_list[i][1]);
    }
    while (pos < size) {
        uint8_t op = data[pos++];
        const char *n = NULL;
        int at;

        if ((op & 0xc0) || (op & 0x20)) {
            n = names[op % COUNT(names)];
            if (strchr(n, '%')) {
                uint8_t b = pos < size ? data[pos++] : 0;

                snprintf(buf, sizeof(buf), n, b & 0x80 ? b : b & 3);
                n = buf;
            }
        }
        for (at = n ? 0 : count; at < count; at++)
            if (strcmp(vstring_str(name[at]), n) == 0)
                break;
        if (!(op & 0xc0) && n) { /* delete */
            if (at < count) {
                VSTRING *tn = name[at], *tv = value[at];

                memmove(name + at, name + at + 1, sizeof(name[0]) * (size_t)(count - at - 1));
                memmove(value + at, value + at + 1, sizeof(value[0]) * (size_t)(count - at - 1));
                name[count - 1] = tn;
                value[count - 1] = tv;
                count--;
            }
            continue;
        }
        if (at >= count) { /* a new pair */
            if (count >= LIST_MAX)
                break;
            at = count++;
            if (n) {
                vstring_strcpy(name[at], n);
            } else {
                size_t len = op & 0x1f;

                if (len > size - pos)
                    len = size - pos;
                vstring_memcpy(name[at], data + pos, len);
                pos += len;
            }
        }
        /* the value */
        uint8_t v = pos < size ? data[pos++] : 0;

        if (v & 0x80) {
            vstring_strcpy(value[at], values[(v & 0x7f) % COUNT(values)]);
        } else {
            size_t len = v;

            if (len > size - pos)
                len = size - pos;
            vstring_memcpy(value[at], data + pos, len);
            pos += len;
        }
    }
    vstring_reset(out);
    for (int i = 0; i < count; i++) {
        vstring_memcat(out, vstring_str(name[i]), vstring_len(name[i]));
        vstring_addch(out, 0);
        vstring_memcat(out, vstring_str(value[i]), vstring_len(value[i]));
        vstring_addch(out, 0);
    }
    vstring_addch(out, 0);
}

/* ---- a request that qmgr builds ---- */

static char *fuzz_text(const uint8_t **data, size_t *size, size_t max)
{
    size_t len = 0;
    char *s;

    while (len < *size && len < max && (*data)[len] != 0)
        len++;
    s = mystrndup((const char *)*data, len);
    for (char *cp = s; *cp; cp++)
        if ((unsigned char)*cp < 0x20 || *cp == 0x7f)
            *cp = ' ';
    *data += len < *size ? len + 1 : len;
    *size -= len < *size ? len + 1 : len;
    return s;
}

static unsigned long fuzz_num(const uint8_t **data, size_t *size)
{
    unsigned long v = 0;

    for (int i = 0; i < 4 && *size > 0; i++, (*data)++, (*size)--)
        v = v << 8 | **data;
    return v;
}

static void check_qmgr_request(PEER *peer, const uint8_t *data, size_t size)
{
    DELIVER_REQUEST *req = deliver_request_alloc();
    char *text[4];
    int count;

#define SET_TEXT(f)                                                                                \
    do {                                                                                           \
        char *t_ = fuzz_text(&data, &size, 300);                                                   \
        deliver_request_set(&req->f, t_);                                                          \
        myfree(t_);                                                                                \
    } while (0)

    deliver_request_set(&req->queue_name, size && (data[0] & 1) ? "deferred" : "active");
    deliver_request_set(&req->queue_id, ID_GOOD);
    req->flags = (int)(fuzz_num(&data, &size) & 0x7fffffff);
    req->data_offset = 1 + (off_t)(fuzz_num(&data, &size) % MESG_OFFSET_MAX);
    req->data_size = (long)fuzz_num(&data, &size);
    req->smtputf8 = (int)(fuzz_num(&data, &size) & 1);
    req->arrival.tv_sec = (time_t)(fuzz_num(&data, &size) & 0x7fffffff);
    req->arrival.tv_usec = (suseconds_t)(fuzz_num(&data, &size) % 1000000);
    req->delay_a = fuzz_num(&data, &size) / 1000.0;
    req->delay_b = fuzz_num(&data, &size) / 1000000.0;
    SET_TEXT(sender);
    SET_TEXT(nexthop);
    SET_TEXT(encoding);
    SET_TEXT(dsn_envid);
    SET_TEXT(dsn_ret);
    SET_TEXT(client_name);
    SET_TEXT(client_address);
    SET_TEXT(helo_name);
    SET_TEXT(protocol);
    SET_TEXT(sasl_username);
    count = (int)fuzz_num(&data, &size) & 0xff; /* a few, or close to the limit */
    count = count & 0x80 ? DELIVER_RCPT_LIMIT - (count & 7) : 1 + (count & 7);
    for (int i = 0; i < count; i++) {
        long notify = (long)(fuzz_num(&data, &size) & 0xffff);
        off_t offset = 1 + (off_t)fuzz_num(&data, &size);

        for (int j = 0; j < 3; j++)
            text[j] = fuzz_text(&data, &size, 100);
        deliver_request_add_rcpt(req, text[0], text[1], offset, notify, text[2]);
        for (int j = 0; j < 3; j++)
            myfree(text[j]);
    }
    check_round_trip(req, peer, data, size);
    deliver_request_free(req);
#undef SET_TEXT
}

/* ---- the qmgr side parsers on raw bytes ---- */

static void check_qmgr_parsers(PEER *peer, const char *data, size_t size)
{
    NVTABLE *nv = attr_nv_create();
    DELIVER_REQUEST *req = deliver_request_alloc();
    ssize_t complete = deliver_attr_complete(data, size);
    VSTREAM *fp = peer_open(peer, data, size);
    int scanned = attr_scan_nv(fp, ATTR_VALUE_MAX, nv);
    size_t used = peer->pos - vstream_bufferred(fp);
    int status;

    vstream_fdclose(fp);
    if (scanned >= 0 && complete != (ssize_t)used)
        abort(); /* a list that reads must be complete, of that length */
    if (complete == 0 && scanned >= 0)
        abort();
    if (complete > 0 && scanned < 0) {
        /* framing is fine, so the names or the count must be what attr_scan refused */
        NVTABLE *again = attr_nv_create();

        fp = peer_open(peer, data, (size_t)complete);
        if (attr_scan_nv(fp, ATTR_VALUE_MAX, again) >= 0)
            abort();
        vstream_fdclose(fp);
        attr_nv_free(again);
    }
    for (int i = 0; i < 4; i++)
        deliver_request_add_rcpt(req, "x", NULL, 1, 0, NULL);
    status = deliver_reply_parse(data, size, req);
    if (status < -1 || status > 1000)
        abort();
    for (int i = 0; i < 4; i++)
        if (req->rcpt[i].result < DELIVER_RESULT_NONE || req->rcpt[i].result > DELIVER_RESULT_BOUNCED)
            abort();
    deliver_request_free(req);
    attr_nv_free(nv);
}

static void fuzz_one(const uint8_t *data, size_t size)
{
    static PEER peer;
    static VSTRING *list;
    DELIVER_REQUEST *req;
    NVTABLE *nv;
    const char *bytes;
    size_t len;

    if (list == NULL) {
        list = vstring_alloc(1000);
        peer.written = vstring_alloc(1000);
    }
    switch (data[0] % 3) {
    case 0: /* raw */
        bytes = (const char *)data + 1;
        len = size - 1;
        break;
    case 1: /* list program */
        make_list(data + 1, size - 1, list);
        bytes = vstring_str(list);
        len = vstring_len(list);
        break;
    default: /* qmgr builds one */
        check_qmgr_request(&peer, data + 1, size - 1);
        return;
    }
    check_qmgr_parsers(&peer, bytes, len);
    nv = attr_nv_create();
    req = read_request(&peer, bytes, len, nv);
    if (req != NULL) {
        check_round_trip(req, &peer, data, size);
        done_request(req);
    }
    attr_nv_free(nv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (home_fd < 0) {
        msg_set_logfile("/dev/null");
        queue_setup();
        if ((home_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
            abort();
    }
    if (size == 0)
        return 0;
    fuzz_one(data, size);
    return 0;
}
