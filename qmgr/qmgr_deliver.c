/*
 * NAME
 *	qmgr_deliver - one delivery request to a delivery agent, without blocking
 * SYNOPSIS
 *	#include "qmgr.h"
 *
 *	void qmgr_deliver(QMGR_ENTRY *entry)
 * DESCRIPTION
 *	qmgr_deliver() connects to private/TRANSPORT without blocking and
 *	runs the exchange of lib/deliver_proto.h from the event loop: wait
 *	for the agent's ready status, send the request (bytes formatted by
 *	deliver_request_format(), written as the socket takes them), wait
 *	for the reply. It never completes before it returns, so the
 *	scheduler may call it in a loop.
 *
 *	Outcomes, for the entry's recipients:
 *	  reply DEL_STAT_OK  each result is recorded; a recipient without
 *	       one is looked up in the queue file: marked done there means
 *	       delivered, else deferred (a warning: the agent broke the
 *	       protocol);
 *	  reply DEL_STAT_DEFER  recipients without a result are deferred
 *	       without a log line (the agent could not even try);
 *	  no connection (no such service, refused) or no ready status
 *	       (the agent died at start-up, or $qmgr_ipc_timeout passed):
 *	       the transport is throttled for $transport_retry_time and
 *	       every recipient waiting for it is deferred with "mail
 *	       transport unavailable";
 *	  the agent went away after the request, or sent garbage: each
 *	       recipient it marked done in the queue file counts as
 *	       delivered (it was, or it was bounced with a note), the rest
 *	       are deferred with "unknown mail transport error", and the
 *	       destination is told of the failure (qmgr_queue_feedback);
 *	  the socket backlog is full (EAGAIN): the entry waits, and the
 *	       transport gets no new deliveries for a second.
 *	Then the destination's window is adjusted, the entry freed and the
 *	message told (qmgr_message_entry_done).
 * DIAGNOSTICS
 *	Warnings for unreachable transports and protocol errors.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "deliver_request.h"
#include "events.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "qmgr.h"
#include "rec.h"
#include "vstring.h"

#define QMGR_READ_CHUNK 8192
#define QMGR_EAGAIN_PAUSE_MS 1000

#define ST_READY 1      /* waiting for the agent's ready status */
#define ST_SEND 2       /* writing the request */
#define ST_REPLY 3      /* waiting for the reply */

/* failure kinds */
#define FAIL_NONE 0
#define FAIL_CONNECT 1  /* no agent: throttle the transport */
#define FAIL_EARLY 2    /* agent gone before the request: throttle the transport */
#define FAIL_LATE 3     /* agent gone or garbled after the request */
#define FAIL_BUSY 4     /* backlog full: try again soon */

typedef struct QMGR_DELIVERY {
    QMGR_ENTRY *entry;
    DELIVER_REQUEST *req;
    int fd;
    int state;
    VSTRING *out;
    size_t out_pos;
    VSTRING *in;
    EVENT_TIMER_ID timer;
    int fail;               /* FAIL_* for a failure found while connecting */
    int fail_errno;
} QMGR_DELIVERY;

static void qmgr_deliver_finish(QMGR_DELIVERY *d, int fail, int status);

/* ---------------------------------------------------------------- */
/* outcomes */

/* qmgr_deliver_marked - is the recipient's record marked done in the queue file? */

static int qmgr_deliver_marked(int *fd, const char *queue_id, off_t offset)
{
    char path[64];
    unsigned char type;

    if (*fd < 0) {
        snprintf(path, sizeof(path), "active/%s", queue_id);
        if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            return 0;
    }
    return pread(*fd, &type, 1, offset) == 1 && type == REC_TYPE_DONE;
}

static void qmgr_deliver_results(QMGR_DELIVERY *d, int fail, int status)
{
    QMGR_ENTRY *entry = d->entry;
    QMGR_MESSAGE *msg = entry->message;
    DELIVER_REQUEST *req = d->req;
    int *late = mymalloc(sizeof(int) * (size_t) entry->count);
    int nlate = 0;
    int fd = -1;
    int delivered = 0;
    int missing = 0;

    for (int k = 0; k < entry->count; k++) {
        int idx = entry->rcpt[k];

        switch (req->rcpt[k].result) {
        case DELIVER_RESULT_SENT:
            qmgr_message_rcpt_done(msg, idx, QMGR_RCPT_SENT);
            delivered++;
            break;
        case DELIVER_RESULT_BOUNCED:
            qmgr_message_rcpt_done(msg, idx, QMGR_RCPT_BOUNCED);
            delivered++;
            break;
        case DELIVER_RESULT_DEFERRED:
            qmgr_message_rcpt_done(msg, idx, QMGR_RCPT_DEFERRED);
            break;
        default:
            if (fail == FAIL_NONE && status == DEL_STAT_DEFER) {
                qmgr_message_rcpt_done(msg, idx, QMGR_RCPT_DEFERRED);
            } else if (qmgr_deliver_marked(&fd, msg->queue_id, req->rcpt[k].offset)) {
                qmgr_message_rcpt_done(msg, idx, QMGR_RCPT_SENT);
                delivered++;
            } else if (fail == FAIL_NONE) {
                missing++;
                qmgr_message_rcpt_done(msg, idx, QMGR_RCPT_DEFERRED);
            } else {
                late[nlate++] = idx;
            }
            break;
        }
    }
    if (fd >= 0)
        close(fd);
    if (missing)
        msg_warn("%s: transport %s: %d recipient%s without a result: deferred", msg->queue_id,
                 entry->queue->transport->name, missing, missing == 1 ? "" : "s");
    if (nlate)
        qmgr_message_defer_rcpts(msg, late, nlate, "4.3.0", "unknown mail transport error");
    myfree(late);
    qmgr_queue_feedback(entry->queue, fail == FAIL_LATE ? -1 : delivered > 0 ? 1 : 0);
}

static void qmgr_deliver_free(QMGR_DELIVERY *d)
{
    if (d->fd >= 0) {
        event_disable_readwrite(d->fd);
        close(d->fd);
    }
    if (d->timer)
        event_cancel_timer(d->timer);
    deliver_request_free(d->req);
    vstring_free(d->out);
    vstring_free(d->in);
    myfree(d);
}

static void qmgr_busy_event(void *context)
{
    (void) context;
    qmgr_schedule_soon();
}

static void qmgr_deliver_finish(QMGR_DELIVERY *d, int fail, int status)
{
    QMGR_ENTRY *entry = d->entry;
    QMGR_QUEUE *queue = entry->queue;
    QMGR_TRANSPORT *transport = queue->transport;
    QMGR_MESSAGE *msg = entry->message;
    VSTRING *why;

    switch (fail) {
    case FAIL_BUSY:
        /* the entry waits at the end of its queue; the transport pauses */
        qmgr_deliver_free(d);
        qmgr_entry_add(queue, entry);
        if (transport->paused_until <= event_now_ms())
            event_request_timer(qmgr_busy_event, NULL, QMGR_EAGAIN_PAUSE_MS);
        transport->paused_until = event_now_ms() + QMGR_EAGAIN_PAUSE_MS;
        qmgr_queue_release(queue);
        return;
    case FAIL_CONNECT:
    case FAIL_EARLY:
        why = vstring_alloc(100);
        if (fail == FAIL_CONNECT)
            vstring_sprintf(why, "connect to private/%s: %s", transport->name,
                            strerror(d->fail_errno));
        else
            vstring_sprintf(why, "private/%s: no response from the delivery agent",
                            transport->name);
        msg_warn("%s", vstring_str(why));
        vstring_free(why);
        qmgr_message_defer_rcpts(msg, entry->rcpt, entry->count, "4.3.0",
                                 "mail transport unavailable");
        qmgr_deliver_free(d);
        qmgr_queue_release(queue);
        qmgr_transport_throttle(transport, "mail transport unavailable");
        break;
    default:
        qmgr_deliver_results(d, fail, status);
        qmgr_deliver_free(d);
        qmgr_queue_release(queue);
        break;
    }
    qmgr_entry_free(entry);
    qmgr_message_entry_done(msg);
}

/* ---------------------------------------------------------------- */
/* events */

static void qmgr_deliver_timeout(void *context)
{
    QMGR_DELIVERY *d = context;

    d->timer = 0;
    qmgr_deliver_finish(d, d->state == ST_REPLY ? FAIL_LATE : FAIL_EARLY, 0);
}

static void qmgr_deliver_connect_failed(void *context)
{
    QMGR_DELIVERY *d = context;

    d->timer = 0;
    qmgr_deliver_finish(d, d->fail, 0);
}

static void qmgr_deliver_event(int fd, int event, void *context);

/* qmgr_deliver_send - write what the socket takes; 0 = more to write, 1 = sent, -1 = error */

static int qmgr_deliver_send(QMGR_DELIVERY *d)
{
    ssize_t n;

    while (d->out_pos < vstring_len(d->out)) {
        n = send(d->fd, vstring_str(d->out) + d->out_pos, vstring_len(d->out) - d->out_pos,
                 MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -1;
        }
        d->out_pos += (size_t) n;
    }
    return 1;
}

static void qmgr_deliver_start_reply(QMGR_DELIVERY *d)
{
    d->state = ST_REPLY;
    event_disable_write(d->fd);
    event_enable_read(d->fd, qmgr_deliver_event, d);
    if (d->timer) {
        event_cancel_timer(d->timer);           /* the agent takes as long as it takes */
        d->timer = 0;
    }
}

static void qmgr_deliver_event(int fd, int event, void *context)
{
    QMGR_DELIVERY *d = context;
    char buf[QMGR_READ_CHUNK];
    struct timeval now;
    ssize_t n;
    ssize_t len;
    int status;

    (void) fd;
    if (d->state == ST_SEND) {
        if ((status = qmgr_deliver_send(d)) < 0)
            qmgr_deliver_finish(d, FAIL_LATE, 0);
        else if (status > 0)
            qmgr_deliver_start_reply(d);
        return;
    }
    n = recv(d->fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        if (d->state == ST_READY)
            qmgr_deliver_finish(d, FAIL_EARLY, 0);
        else
            qmgr_deliver_finish(d, FAIL_LATE, 0);
        return;
    }
    (void) event;
    vstring_memcat(d->in, buf, (size_t) n);
    if ((len = deliver_attr_complete(vstring_str(d->in), vstring_len(d->in))) == 0)
        return;
    if (len < 0) {
        msg_warn("%s: transport %s: malformed reply from the delivery agent",
                 d->req->queue_id, d->entry->queue->transport->name);
        qmgr_deliver_finish(d, d->state == ST_READY ? FAIL_EARLY : FAIL_LATE, 0);
        return;
    }
    if (d->state == ST_READY) {
        status = deliver_reply_parse(vstring_str(d->in), (size_t) len, NULL);
        if (status != 0) {
            qmgr_deliver_finish(d, FAIL_EARLY, 0);
            return;
        }
        /* the time in qmgr ends now; the request goes out */
        gettimeofday(&now, NULL);
        d->req->delay_b = (double) (now.tv_sec - d->entry->message->active.tv_sec)
                          + (double) (now.tv_usec - d->entry->message->active.tv_usec) / 1e6;
        deliver_request_format(d->req, d->out);
        d->out_pos = 0;
        vstring_strcpy(d->in, "");               /* an agent speaks only when asked */
        d->state = ST_SEND;
        if ((status = qmgr_deliver_send(d)) < 0) {
            qmgr_deliver_finish(d, FAIL_LATE, 0);
        } else if (status > 0) {
            qmgr_deliver_start_reply(d);
        } else {
            event_disable_read(d->fd);
            event_enable_write(d->fd, qmgr_deliver_event, d);
        }
        return;
    }
    status = deliver_reply_parse(vstring_str(d->in), (size_t) len, d->req);
    if (status < 0)
        qmgr_deliver_finish(d, FAIL_LATE, 0);
    else
        qmgr_deliver_finish(d, FAIL_NONE, status);
}

/* ---------------------------------------------------------------- */
/* start */

/* qmgr_deliver_name_ok - a master.cf service name that stays inside private/ */

static int qmgr_deliver_name_ok(const char *name)
{
    if (*name == 0 || *name == '.')
        return 0;
    for (const char *cp = name; *cp; cp++)
        if (!(isalnum((unsigned char) *cp) || *cp == '-' || *cp == '_' || *cp == '.'))
            return 0;
    return 1;
}

void qmgr_deliver(QMGR_ENTRY *entry)
{
    QMGR_DELIVERY *d = mycalloc(1, sizeof(*d));
    QMGR_MESSAGE *msg = entry->message;
    struct sockaddr_un sun;

    d->entry = entry;
    d->req = qmgr_message_request(msg, entry->queue->nexthop);
    for (int k = 0; k < entry->count; k++) {
        QMGR_RCPT *r = msg->rcpt + entry->rcpt[k];

        deliver_request_add_rcpt(d->req, r->address, r->orig, r->offset, r->notify, r->orcpt);
    }
    d->out = vstring_alloc(1000);
    d->in = vstring_alloc(100);
    d->state = ST_READY;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    d->fd = -1;
    if (!qmgr_deliver_name_ok(entry->queue->transport->name)) {
        d->fail = FAIL_CONNECT;
        d->fail_errno = EINVAL;                 /* "../x", "a/b": not a service name */
    } else if ((size_t) snprintf(sun.sun_path, sizeof(sun.sun_path), "private/%s",
                                 entry->queue->transport->name) >= sizeof(sun.sun_path)) {
        d->fail = FAIL_CONNECT;
        d->fail_errno = ENAMETOOLONG;
    } else if ((d->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
        d->fail = FAIL_CONNECT;
        d->fail_errno = errno;
    } else if (connect(d->fd, (struct sockaddr *) &sun, sizeof(sun)) < 0
               && errno != EINPROGRESS) {
        d->fail = (errno == EAGAIN || errno == EWOULDBLOCK) ? FAIL_BUSY : FAIL_CONNECT;
        d->fail_errno = errno;
    }
    if (d->fail) {
        /* report from the event loop, never from inside the scheduler */
        d->timer = event_request_timer(qmgr_deliver_connect_failed, d, 0);
        return;
    }
    event_enable_read(d->fd, qmgr_deliver_event, d);
    d->timer = event_request_timer(qmgr_deliver_timeout, d, var_qmgr_ipc_timeout * 1000L);
}
