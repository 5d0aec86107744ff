/*
 * NAME
 *	qmgr_transport - transports, destinations, concurrency and the scheduler
 * SYNOPSIS
 *	#include "qmgr.h"
 *
 *	QMGR_TRANSPORT *qmgr_transport_find(const char *name)
 *	QMGR_QUEUE *qmgr_queue_find(QMGR_TRANSPORT *transport, const char *name,
 *			const char *nexthop)
 *	QMGR_ENTRY *qmgr_entry_alloc(QMGR_MESSAGE *msg, QMGR_QUEUE *queue)
 *	void qmgr_entry_add(QMGR_QUEUE *queue, QMGR_ENTRY *entry)
 *	void qmgr_entry_free(QMGR_ENTRY *entry)
 *	void qmgr_schedule(void)
 *	void qmgr_transport_throttle(QMGR_TRANSPORT *transport, const char *reason)
 *	void qmgr_queue_feedback(QMGR_QUEUE *queue, int result)
 *	void qmgr_transport_flush(void)
 *	void qmgr_queue_release(QMGR_QUEUE *queue)
 * DESCRIPTION
 *	qmgr_transport_find() returns the transport named after a master.cf
 *	service, creating it on first use with its limits:
 *	TRANSPORT_destination_concurrency_limit,
 *	TRANSPORT_destination_recipient_limit (at most DELIVER_RCPT_LIMIT),
 *	TRANSPORT_initial_destination_concurrency and
 *	TRANSPORT_destination_concurrency_failed_cohort_limit, each falling
 *	back to its default_* (or initial_destination_concurrency)
 *	parameter; the process limit of the master.cf service; whether it
 *	is listed in defer_transports. The settings are read once: qmgr is
 *	restarted by "postern reload".
 *
 *	qmgr_queue_find() returns the destination queue of a transport,
 *	creating it with the transport's initial concurrency window.
 *	qmgr_entry_alloc() makes an empty entry; qmgr_entry_add() appends
 *	it to its queue's todo list and puts the queue on its transport's
 *	round-robin ring; qmgr_entry_free() frees it.
 *
 *	qmgr_schedule() starts deliveries: for each transport with waiting
 *	entries, while the transport is under its process limit, it takes
 *	the first entry of the next queue in round-robin order whose busy
 *	count is under its window. A dead transport or destination gets its
 *	waiting recipients deferred instead.
 *
 *	qmgr_queue_feedback() adjusts a destination after a delivery:
 *	result > 0 (some recipient sent or bounced) widens the window by
 *	one up to the limit and clears the failure count; result 0 (every
 *	recipient deferred) narrows it by one down to 1; result < 0 (the
 *	delivery agent failed) narrows it too and counts a failure, and a
 *	destination that fails while its window is 1, cohort_limit times
 *	in a row, is dead for $transport_retry_time: its waiting recipients
 *	are deferred ("delivery temporarily suspended").
 *
 *	qmgr_queue_release() ends one delivery of a queue (the scheduler
 *	counted it busy) and frees the queue when nothing waits for it,
 *	nothing is in progress and it is not dead.
 *
 *	qmgr_transport_throttle() marks a transport that cannot be reached
 *	dead for $transport_retry_time and defers everything waiting for
 *	it with the reason. qmgr_transport_flush() forgets every dead
 *	transport and destination (postern flush).
 * DIAGNOSTICS
 *	A transport that cannot be reached is logged as a warning once per
 *	throttle; bad per-transport parameter values are logged and
 *	replaced by the default.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "argv.h"
#include "events.h"
#include "htable.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "qmgr.h"
#include "vstring.h"

static HTABLE *qmgr_transports;
static QMGR_TRANSPORT *qmgr_work;     /* transports with queues on their ring */

/* qmgr_transport_param - TRANSPORT_suffix, or the default */

static int qmgr_transport_param(const char *transport, const char *suffix, long def, long min,
                                long max)
{
    VSTRING *name = vstring_alloc(100);
    char *value;
    char *end;
    long num = def;

    vstring_sprintf(name, "%s_%s", transport, suffix);
    if ((value = mail_conf_lookup_eval(vstring_str(name))) != NULL && *value) {
        errno = 0;
        num = strtol(value, &end, 10);
        if (errno || *end || end == value || num < min || (max > 0 && num > max)) {
            msg_warn("bad %s value \"%s\": using %ld", vstring_str(name), value, def);
            num = def;
        }
    }
    myfree(value);
    vstring_free(name);
    return (int) num;
}

QMGR_TRANSPORT *qmgr_transport_find(const char *name)
{
    QMGR_TRANSPORT *t;
    ARGV *deferred;

    if (qmgr_transports == NULL)
        qmgr_transports = htable_create(13);
    if ((t = htable_find(qmgr_transports, name)) != NULL)
        return t;
    t = mycalloc(1, sizeof(*t));
    t->name = mystrdup(name);
    t->dest_limit = qmgr_transport_param(name, "destination_concurrency_limit",
                                         var_default_destination_concurrency_limit, 1, 100000);
    t->rcpt_limit = qmgr_transport_param(name, "destination_recipient_limit",
                                         var_default_destination_recipient_limit, 1, 1000);
    if (t->rcpt_limit > DELIVER_RCPT_LIMIT)
        t->rcpt_limit = DELIVER_RCPT_LIMIT;
    t->init_window = qmgr_transport_param(name, "initial_destination_concurrency",
                                          var_initial_destination_concurrency, 1, 100000);
    if (t->init_window > t->dest_limit)
        t->init_window = t->dest_limit;
    t->cohort_limit = qmgr_transport_param(name, "destination_concurrency_failed_cohort_limit",
                                           var_default_destination_concurrency_failed_cohort_limit,
                                           1, 100000);
    t->proc_limit = qmgr_master_proc_limit(name);
    deferred = argv_split(var_defer_transports, ARGV_DELIM_LIST);
    for (int i = 0; i < deferred->argc; i++)
        if (strcmp(deferred->argv[i], name) == 0)
            t->deferred = 1;
    argv_free(deferred);
    t->dead_reason = mystrdup("");
    t->queues = htable_create(13);
    htable_enter(qmgr_transports, name, t);
    if (msg_verbose)
        msg_info("transport %s: concurrency %d..%d, recipients %d, processes %d", name,
                 t->init_window, t->dest_limit, t->rcpt_limit, t->proc_limit);
    return t;
}

QMGR_QUEUE *qmgr_queue_find(QMGR_TRANSPORT *transport, const char *name, const char *nexthop)
{
    QMGR_QUEUE *q;

    if ((q = htable_find(transport->queues, name)) != NULL)
        return q;
    q = mycalloc(1, sizeof(*q));
    q->name = mystrdup(name);
    q->nexthop = mystrdup(nexthop);
    q->transport = transport;
    q->window = transport->init_window;
    htable_enter(transport->queues, name, q);
    return q;
}

/* ---------------------------------------------------------------- */
/* entries and the ring of queues with work */

QMGR_ENTRY *qmgr_entry_alloc(QMGR_MESSAGE *msg, QMGR_QUEUE *queue)
{
    QMGR_ENTRY *entry = mycalloc(1, sizeof(*entry));

    entry->message = msg;
    entry->queue = queue;
    return entry;
}

void qmgr_entry_free(QMGR_ENTRY *entry)
{
    myfree(entry->rcpt);
    myfree(entry);
}

static void qmgr_ring_add(QMGR_TRANSPORT *t, QMGR_QUEUE *q)
{
    if (q->in_ring)
        return;
    if (t->ring == NULL) {
        q->ring_next = q->ring_prev = q;
        t->ring = q;
    } else {
        q->ring_next = t->ring;
        q->ring_prev = t->ring->ring_prev;
        t->ring->ring_prev->ring_next = q;
        t->ring->ring_prev = q;
    }
    q->in_ring = 1;
    if (!t->in_list) {
        t->next = qmgr_work;
        qmgr_work = t;
        t->in_list = 1;
    }
}

static void qmgr_ring_remove(QMGR_TRANSPORT *t, QMGR_QUEUE *q)
{
    if (!q->in_ring)
        return;
    if (q->ring_next == q) {
        t->ring = NULL;
    } else {
        q->ring_prev->ring_next = q->ring_next;
        q->ring_next->ring_prev = q->ring_prev;
        if (t->ring == q)
            t->ring = q->ring_next;
    }
    q->ring_next = q->ring_prev = NULL;
    q->in_ring = 0;
}

void qmgr_entry_add(QMGR_QUEUE *queue, QMGR_ENTRY *entry)
{
    entry->next = NULL;
    if (queue->todo_tail)
        queue->todo_tail->next = entry;
    else
        queue->todo_head = entry;
    queue->todo_tail = entry;
    queue->todo_count++;
    qmgr_ring_add(queue->transport, queue);
}

static QMGR_ENTRY *qmgr_entry_pop(QMGR_QUEUE *queue)
{
    QMGR_ENTRY *entry = queue->todo_head;

    if (entry == NULL)
        return NULL;
    queue->todo_head = entry->next;
    if (queue->todo_head == NULL)
        queue->todo_tail = NULL;
    queue->todo_count--;
    entry->next = NULL;
    if (queue->todo_count == 0)
        qmgr_ring_remove(queue->transport, queue);
    return entry;
}

/* qmgr_queue_defer_all - defer every waiting entry of a queue */

static void qmgr_queue_defer_all(QMGR_QUEUE *queue, const char *reason)
{
    QMGR_ENTRY *entry;
    QMGR_MESSAGE *msg;

    while ((entry = qmgr_entry_pop(queue)) != NULL) {
        msg = entry->message;
        qmgr_message_defer_rcpts(msg, entry->rcpt, entry->count, "4.3.0", reason);
        qmgr_entry_free(entry);
        qmgr_message_entry_done(msg);
    }
}

static void qmgr_transport_defer_all(QMGR_TRANSPORT *t, const char *reason)
{
    while (t->ring)
        qmgr_queue_defer_all(t->ring, reason);
}

/* ---------------------------------------------------------------- */
/* the scheduler */

static void qmgr_transport_run(QMGR_TRANSPORT *t, time_t now)
{
    QMGR_QUEUE *q, *start;
    QMGR_ENTRY *entry;
    int found;

    if (t->dead_until > now) {
        qmgr_transport_defer_all(t, t->dead_reason);
        return;
    }
    if (t->paused_until > event_now_ms())
        return;
    /* dead destinations give up their waiting recipients first */
    for (int again = 1; again && t->ring;) {
        again = 0;
        q = start = t->ring;
        do {
            if (q->dead_until > now) {
                qmgr_queue_defer_all(q, "delivery temporarily suspended: unknown mail "
                                        "transport error");
                again = 1;
                break;
            }
            q = q->ring_next;
        } while (q != start);
    }
    while (t->ring && (t->proc_limit <= 0 || t->busy < t->proc_limit)) {
        found = 0;
        q = start = t->ring;
        do {
            if (q->busy < q->window) {
                found = 1;
                break;
            }
            q = q->ring_next;
        } while (q != start);
        if (!found)
            break;
        t->ring = q->ring_next;               /* the next pick starts after q */
        entry = qmgr_entry_pop(q);
        q->busy++;
        t->busy++;
        qmgr_deliver(entry);                  /* never completes synchronously */
    }
}

void qmgr_schedule(void)
{
    time_t now = time(NULL);
    QMGR_TRANSPORT **tp = &qmgr_work;
    QMGR_TRANSPORT *t;

    while ((t = *tp) != NULL) {
        qmgr_transport_run(t, now);
        if (t->ring == NULL) {
            *tp = t->next;
            t->next = NULL;
            t->in_list = 0;
        } else {
            tp = &t->next;
        }
    }
}

/* ---------------------------------------------------------------- */
/* feedback and failures */

void qmgr_transport_throttle(QMGR_TRANSPORT *t, const char *reason)
{
    time_t now = time(NULL);

    if (t->dead_until <= now)
        msg_warn("transport %s: %s: deliveries suspended for %lds", t->name, reason,
                 var_transport_retry_time);
    t->dead_until = now + var_transport_retry_time;
    myfree(t->dead_reason);
    t->dead_reason = mystrdup(reason);
    qmgr_transport_defer_all(t, reason);
}

void qmgr_queue_feedback(QMGR_QUEUE *q, int result)
{
    QMGR_TRANSPORT *t = q->transport;

    if (result > 0) {
        q->failures = 0;
        if (q->window < t->dest_limit)
            q->window++;
        return;
    }
    if (result == 0) {
        if (q->window > 1)
            q->window--;
        return;
    }
    if (q->window > 1) {
        q->window--;
        return;
    }
    if (++q->failures >= t->cohort_limit) {
        msg_warn("transport %s: destination %s: delivery agent failed: deliveries suspended "
                 "for %lds", t->name, q->nexthop, var_transport_retry_time);
        q->dead_until = time(NULL) + var_transport_retry_time;
        q->failures = 0;
        q->window = t->init_window;
        qmgr_schedule_soon();                 /* defers the waiting recipients */
    }
}

void qmgr_queue_release(QMGR_QUEUE *q)
{
    QMGR_TRANSPORT *t = q->transport;

    q->busy--;
    t->busy--;
    if (q->busy == 0 && q->todo_count == 0 && !q->in_ring && q->dead_until <= time(NULL)) {
        htable_delete(t->queues, q->name, NULL);
        myfree(q->name);
        myfree(q->nexthop);
        myfree(q);
    }
    qmgr_schedule_soon();
}

void qmgr_transport_flush(void)
{
    HTABLE_INFO **list;
    HTABLE_INFO **qlist;

    if (qmgr_transports == NULL)
        return;
    list = htable_list(qmgr_transports);
    for (HTABLE_INFO **tp = list; *tp; tp++) {
        QMGR_TRANSPORT *t = (*tp)->value;

        t->dead_until = 0;
        qlist = htable_list(t->queues);
        for (HTABLE_INFO **qp = qlist; *qp; qp++) {
            QMGR_QUEUE *q = (*qp)->value;

            q->dead_until = 0;
            q->failures = 0;
        }
        myfree(qlist);
    }
    myfree(list);
}
