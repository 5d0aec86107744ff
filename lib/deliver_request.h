#ifndef POSTERN_DELIVER_REQUEST_H
#define POSTERN_DELIVER_REQUEST_H
/*
 * deliver_request - both ends of a delivery request (lib/deliver_proto.h)
 *
 * One DELIVER_REQUEST describes one request: a message (queue file,
 * envelope) and 1..DELIVER_RCPT_LIMIT of its recipients that go to one
 * transport and next hop. qmgr(8) fills one in and sends it; a delivery
 * agent reads one, delivers, records each recipient's outcome with
 * lib/deliver_status.h, and replies.
 *
 * Agent side (single_server_main service function):
 *
 *   req = deliver_request_read(stream)
 *	Sends the "ready" status, reads the request with hard limits
 *	(attr.h limits; DELIVER_RCPT_LIMIT recipients; queue_name one of
 *	DELIVER_QUEUE_NAMES; queue_id as queue_id_ok(); offsets > 0;
 *	sender/recipients without control characters or NUL), opens the
 *	queue file (deliver_request_open) and takes a shared lock on it,
 *	held until the request is freed, and returns the request. NULL
 *	when the request is malformed, the queue file cannot be opened or
 *	locked, or the stream failed: the problem is logged and, when the
 *	stream still works, answered with DEL_STAT_DEFER; the caller just
 *	returns. (qmgr takes no file that a delivery agent holds locked.)
 *   deliver_request_open(req)
 *	Opens QUEUE_NAME/QUEUE_ID read-write (once; later calls return the
 *	same stream) and positions it at the first content record after
 *	the MESG record at data_offset. Returns the stream, or NULL with a
 *	warning logged ("cannot open queue file"; the record at data_offset
 *	is not MESG). The stream belongs to the request.
 *   deliver_request_content(req, buf)
 *	Reads the next content record: REC_TYPE_NORM (a whole line, or the
 *	last piece of a long one: write a newline after it), REC_TYPE_CONT
 *	(a piece of a long line: no newline), 0 at the end of the content,
 *	-1 on a read error or a corrupt file (logged). Opens the file and
 *	seeks on first use; deliver_request_rewind() starts again.
 *   deliver_request_copy(req, out, eol)
 *	Copies the whole content to out, writing eol after each line.
 *	Returns 0, DELIVER_COPY_READ (queue file problem, logged) or
 *	DELIVER_COPY_WRITE (write to out failed; errno kept, not logged).
 *   deliver_request_conn_done(req)
 *	Marks the end of connection set-up: the time before it counts as
 *	delays "c", the time after it as "d" (else everything is "d").
 *   deliver_request_done(req, status)
 *	Sends the reply: status (DEL_STAT_OK, or DEL_STAT_DEFER when the
 *	agent could not even try) and rcpt.I.result for each recipient
 *	that has one; then frees req (and closes the queue file and note
 *	files). Returns 0, or -1 when the reply could not be written.
 *   deliver_request_free(req)
 *	Frees without replying.
 *
 * qmgr side:
 *
 *   deliver_request_alloc(), then fill the fields marked [q] below and
 *	add recipients with deliver_request_add_rcpt().
 *   deliver_request_format(req, out)
 *	Replaces out with the request in wire form (lib/attr.h), ready to
 *	be written to an agent's socket without blocking.
 *   deliver_request_send(req, stream)
 *	Blocking variant: reads the agent's ready status, writes the
 *	request. 0 or -1 (logged).
 *   deliver_attr_complete(buf, len)
 *	The number of bytes of the first complete attribute list at buf
 *	(name NUL value NUL ... NUL), 0 when more bytes are needed, -1
 *	when the bytes cannot be an attribute list within attr.h limits.
 *   deliver_reply_parse(buf, len, req)
 *	Parses one complete reply (or the ready status) from buf and stores
 *	the results in req->rcpt[i].result. Returns the status (>= 0), or
 *	-1 for a malformed reply (logged). A result for an index out of
 *	range, or an unknown result word, is malformed.
 *   deliver_reply_read(stream, req)
 *	Blocking variant on a stream.
 *   deliver_attr_format(nv, out), deliver_attr_parse(buf, len, nv)
 *	Any attribute list to and from memory (for qmgr's other
 *	non-blocking clients): format replaces out with every pair of nv;
 *	parse reads one complete list into nv (emptied first) and returns
 *	what attr_scan_nv() returns (-1 malformed, logged).
 *
 * Ownership: a DELIVER_REQUEST owns every string in it. Strings set by
 * the caller must be mystrdup()ed (deliver_request_set() does so).
 */
#include <sys/time.h>
#include <sys/types.h>

#include "attr.h"
#include "deliver_proto.h"
#include "vstream.h"
#include "vstring.h"

/* per-recipient attributes times rcpt_count must fit ATTR_COUNT_MAX */
#define DELIVER_RCPT_ATTRS 5
#define DELIVER_RCPT_LIMIT 200          /* most recipients accepted in one request */

#define DELIVER_QUEUE_NAMES "active", "deferred", "incoming", "hold"

/* per-recipient outcome, as known to either side */
#define DELIVER_RESULT_NONE 0
#define DELIVER_RESULT_SENT 1
#define DELIVER_RESULT_DEFERRED 2
#define DELIVER_RESULT_BOUNCED 3

#define DELIVER_COPY_READ (-1)
#define DELIVER_COPY_WRITE (-2)

typedef struct DELIVER_RCPT {
    char *address;     /* [q] internal form */
    char *orig;        /* [q] original recipient, "" when the same or unknown */
    off_t offset;      /* [q] of its RCPT record in the queue file */
    long notify;       /* [q] DSN NOTIFY bits, 0 = default */
    char *orcpt;       /* [q] DSN ORCPT "type;xtext" or "" */
    int result;        /* DELIVER_RESULT_* */
} DELIVER_RCPT;

typedef struct DELIVER_REQUEST {
    int flags;               /* [q] DEL_REQ_FLAG_* */
    char *queue_name;        /* [q] "active" */
    char *queue_id;          /* [q] */
    off_t data_offset;       /* [q] of the MESG record */
    long data_size;          /* [q] content bytes */
    char *nexthop;           /* [q] may be "" */
    char *encoding;          /* [q] "7bit", "8bit" or "" */
    int smtputf8;            /* [q] */
    char *sender;            /* [q] "" = null sender */
    char *dsn_envid;         /* [q] */
    char *dsn_ret;           /* [q] "FULL", "HDRS" or "" */
    struct timeval arrival;  /* [q] from the TIME record */
    char *client_name;       /* [q] the ATTR records, "" when absent */
    char *client_address;    /* [q] */
    char *helo_name;         /* [q] */
    char *protocol;          /* [q] */
    char *sasl_username;     /* [q] */
    double delay_a;          /* [q] seconds from arrival to entering the active queue */
    double delay_b;          /* [q] seconds from then to this request */
    int rcpt_count;
    DELIVER_RCPT *rcpt;
    /* agent side */
    struct timeval start;    /* request received; 0 on the qmgr side */
    struct timeval conn_done;/* end of connection set-up, 0 = not marked */
    VSTREAM *client;         /* the connection to qmgr */
    VSTREAM *fp;             /* the queue file, opened on demand */
    int content_started;     /* fp is positioned inside the content */
    int note_fd[2];          /* defer/ and bounce/ note files, -1 = closed */
    int rcpt_size;           /* slots allocated in rcpt */
} DELIVER_REQUEST;

/* agent side */
DELIVER_REQUEST *deliver_request_read(VSTREAM *stream);
VSTREAM *deliver_request_open(DELIVER_REQUEST *req);
int deliver_request_content(DELIVER_REQUEST *req, VSTRING *buf);
void deliver_request_rewind(DELIVER_REQUEST *req);
int deliver_request_copy(DELIVER_REQUEST *req, VSTREAM *out, const char *eol);
void deliver_request_conn_done(DELIVER_REQUEST *req);
int deliver_request_done(DELIVER_REQUEST *req, int status);

/* both */
DELIVER_REQUEST *deliver_request_alloc(void);
void deliver_request_free(DELIVER_REQUEST *req);
void deliver_request_set(char **field, const char *value);
DELIVER_RCPT *deliver_request_add_rcpt(DELIVER_REQUEST *req, const char *address,
                                       const char *orig, off_t offset, long notify,
                                       const char *orcpt);

/* qmgr side */
void deliver_request_format(const DELIVER_REQUEST *req, VSTRING *out);
int deliver_request_send(const DELIVER_REQUEST *req, VSTREAM *stream);
ssize_t deliver_attr_complete(const char *buf, size_t len);
int deliver_reply_parse(const char *buf, size_t len, DELIVER_REQUEST *req);
int deliver_reply_read(VSTREAM *stream, DELIVER_REQUEST *req);
void deliver_attr_format(NVTABLE *nv, VSTRING *out);
int deliver_attr_parse(const char *buf, size_t len, NVTABLE *nv);

#endif
