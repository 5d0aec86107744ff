/*
 * NAME
 *	qmgr_bounce - ask bounce(8) to return failed recipients, without blocking
 * SYNOPSIS
 *	#include "qmgr.h"
 *
 *	void qmgr_bounce_flush(QMGR_MESSAGE *msg)
 *	void qmgr_bounce_warn(QMGR_MESSAGE *msg)
 * DESCRIPTION
 *	qmgr_bounce_flush() sends the flush request of lib/bounce_proto.h
 *	for msg to private/bounce from the event loop, and calls
 *	qmgr_message_bounce_done(msg, ok) when it knows the outcome: ok is
 *	1 only for a BOUNCE_STAT_OK reply. qmgr_bounce_warn() sends the warn
 *	request (a delay warning) the same way and calls
 *	qmgr_message_warn_done(msg) whatever the outcome. No connection, no reply within
 *	QMGR_BOUNCE_TIMEOUT seconds, or anything else counts as a failure,
 *	and the message then stays in the queue (deferred) with its notes.
 *	At most as many requests run at a time as the bounce service has
 *	processes (master.cf); the others wait in order.
 * DIAGNOSTICS
 *	A bounce service that cannot be reached is logged as a warning at
 *	most once a minute.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "bounce_proto.h"
#include "deliver_request.h"
#include "events.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "qmgr.h"
#include "vstring.h"

#define QMGR_BOUNCE_TIMEOUT 300          /* seconds for the whole exchange */

typedef struct QMGR_BOUNCE {
    QMGR_MESSAGE *msg;
    const char *request;                 /* BOUNCE_REQ_FLUSH or BOUNCE_REQ_WARN */
    int fd;
    int sending;
    VSTRING *out;
    size_t out_pos;
    VSTRING *in;
    EVENT_TIMER_ID timer;
    struct QMGR_BOUNCE *next;            /* waiting list */
} QMGR_BOUNCE;

static int qmgr_bounce_busy;
static QMGR_BOUNCE *qmgr_bounce_head, *qmgr_bounce_tail;
static time_t qmgr_bounce_warned;

static void qmgr_bounce_start(QMGR_BOUNCE *b);

static void qmgr_bounce_done(QMGR_BOUNCE *b, int ok, const char *why)
{
    QMGR_MESSAGE *msg = b->msg;
    int warn = strcmp(b->request, BOUNCE_REQ_WARN) == 0;
    QMGR_BOUNCE *next;

    if (!ok && why && time(NULL) - qmgr_bounce_warned >= 60) {
        msg_warn("%s: %s: the message stays queued until the bounce service works",
                 msg->queue_id, why);
        qmgr_bounce_warned = time(NULL);
    }
    if (b->fd >= 0) {
        event_disable_readwrite(b->fd);
        close(b->fd);
    }
    if (b->timer)
        event_cancel_timer(b->timer);
    vstring_free(b->out);
    vstring_free(b->in);
    myfree(b);
    qmgr_bounce_busy--;
    if ((next = qmgr_bounce_head) != NULL) {
        qmgr_bounce_head = next->next;
        if (qmgr_bounce_head == NULL)
            qmgr_bounce_tail = NULL;
        qmgr_bounce_start(next);
    }
    if (warn)
        qmgr_message_warn_done(msg);
    else
        qmgr_message_bounce_done(msg, ok);
}

static void qmgr_bounce_timeout(void *context)
{
    QMGR_BOUNCE *b = context;

    b->timer = 0;
    qmgr_bounce_done(b, 0, "bounce service: no reply");
}

static void qmgr_bounce_failed(void *context)
{
    QMGR_BOUNCE *b = context;

    b->timer = 0;
    qmgr_bounce_done(b, 0, "cannot connect to the bounce service");
}

static void qmgr_bounce_event(int fd, int event, void *context)
{
    QMGR_BOUNCE *b = context;
    NVTABLE *nv;
    char buf[1024];
    const char *status;
    ssize_t n, len;

    (void) fd;
    (void) event;
    if (b->sending) {
        while (b->out_pos < vstring_len(b->out)) {
            n = send(b->fd, vstring_str(b->out) + b->out_pos, vstring_len(b->out) - b->out_pos,
                     MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                return;
            if (n < 0) {
                qmgr_bounce_done(b, 0, "bounce service: cannot send the request");
                return;
            }
            b->out_pos += (size_t) n;
        }
        b->sending = 0;
        event_disable_write(b->fd);
        event_enable_read(b->fd, qmgr_bounce_event, b);
        return;
    }
    n = recv(b->fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        qmgr_bounce_done(b, 0, "bounce service: connection closed before the reply");
        return;
    }
    vstring_memcat(b->in, buf, (size_t) n);
    if ((len = deliver_attr_complete(vstring_str(b->in), vstring_len(b->in))) == 0)
        return;
    nv = attr_nv_create();
    if (len < 0 || deliver_attr_parse(vstring_str(b->in), (size_t) len, nv) < 0
        || (status = attr_nv_find(nv, "status")) == NULL) {
        attr_nv_free(nv);
        qmgr_bounce_done(b, 0, "bounce service: malformed reply");
        return;
    }
    if (strcmp(status, "0") == 0) {
        attr_nv_free(nv);
        qmgr_bounce_done(b, 1, NULL);
    } else {
        attr_nv_free(nv);
        qmgr_bounce_done(b, 0, "bounce service: request failed");
    }
}

static void qmgr_bounce_start(QMGR_BOUNCE *b)
{
    QMGR_MESSAGE *msg = b->msg;
    NVTABLE *nv = attr_nv_create();
    struct sockaddr_un sun;
    char num[32];

    qmgr_bounce_busy++;
    attr_nv_update(nv, "request", b->request);
    snprintf(num, sizeof(num), "%d",
             (msg->flags & QMGR_MSG_EXPIRED) && strcmp(b->request, BOUNCE_REQ_FLUSH) == 0
                 ? BOUNCE_FLAG_EXPIRED : BOUNCE_FLAG_NONE);
    attr_nv_update(nv, "flags", num);
    attr_nv_update(nv, "queue_name", "active");
    attr_nv_update(nv, "queue_id", msg->queue_id);
    attr_nv_update(nv, "sender", msg->sender);
    attr_nv_update(nv, "dsn_envid", msg->dsn_envid);
    attr_nv_update(nv, "dsn_ret", msg->dsn_ret);
    attr_nv_update(nv, "smtputf8", msg->smtputf8 ? "1" : "0");
    deliver_attr_format(nv, b->out);
    attr_nv_free(nv);

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", BOUNCE_SERVICE_PATH);
    if ((b->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0
        || (connect(b->fd, (struct sockaddr *) &sun, sizeof(sun)) < 0 && errno != EINPROGRESS)) {
        b->timer = event_request_timer(qmgr_bounce_failed, b, 0);
        return;
    }
    b->sending = 1;
    event_enable_write(b->fd, qmgr_bounce_event, b);
    b->timer = event_request_timer(qmgr_bounce_timeout, b, QMGR_BOUNCE_TIMEOUT * 1000L);
}

static void qmgr_bounce_request(QMGR_MESSAGE *msg, const char *request)
{
    QMGR_BOUNCE *b = mycalloc(1, sizeof(*b));

    b->msg = msg;
    b->request = request;
    b->fd = -1;
    b->out = vstring_alloc(200);
    b->in = vstring_alloc(50);
    if (qmgr_bounce_proc_limit > 0 && qmgr_bounce_busy >= qmgr_bounce_proc_limit) {
        if (qmgr_bounce_tail)
            qmgr_bounce_tail->next = b;
        else
            qmgr_bounce_head = b;
        qmgr_bounce_tail = b;
        return;
    }
    qmgr_bounce_start(b);
}

void qmgr_bounce_flush(QMGR_MESSAGE *msg)
{
    qmgr_bounce_request(msg, BOUNCE_REQ_FLUSH);
}

void qmgr_bounce_warn(QMGR_MESSAGE *msg)
{
    qmgr_bounce_request(msg, BOUNCE_REQ_WARN);
}
