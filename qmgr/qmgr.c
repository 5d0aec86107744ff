/*
 * NAME
 *	qmgr - postern queue manager
 * SYNOPSIS
 *	qmgr [generic daemon options]
 * DESCRIPTION
 *	qmgr(8) is the one long-running process that moves mail through the
 *	queue. It takes complete messages from incoming/ (when cleanup or
 *	pickup announce them, and every $queue_run_delay) and due ones from
 *	deferred/ into active/, as long as the active queue has room
 *	($qmgr_message_active_limit, $qmgr_message_recipient_limit);
 *	resolves each recipient (lib/resolve.h) to a transport and next
 *	hop; groups recipients per destination ($TRANSPORT_destination_-
 *	recipient_limit); and hands them to the delivery agents over
 *	private/TRANSPORT (lib/deliver_proto.h) within the concurrency
 *	limits of each destination and of each master.cf service. When every
 *	recipient of a message has an outcome it asks bounce(8) to return
 *	failed recipients (lib/bounce_proto.h), then removes the message or
 *	moves it to deferred/ with its next attempt time.
 *
 *	Wake-up requests on public/qmgr, one letter each:
 *	I	scan the incoming queue.
 *	D	scan the deferred queue for messages that are due.
 *	A	scan both queues and take deferred messages whatever their
 *		next attempt time.
 *	F	flush: forget dead destinations and transports, take every
 *		deferred message, and deliver to defer_transports too.
 *	W	the master's wake-up timer: like I and D.
 *	postern flush sends "FADI".
 *
 *	At start-up, messages left in active/ by a previous queue manager
 *	(a crash or kill) go back to incoming/: they are never lost, and
 *	recipients already marked done are not delivered again. A message
 *	that a delivery agent of the previous process still has locked is
 *	left alone until the agent lets go.
 *
 *	Files: qmgr.c (start-up, wake-ups, timers), qmgr_scan.c (queue
 *	directories), qmgr_message.c (messages and their bookkeeping),
 *	qmgr_transport.c (destinations, concurrency, the scheduler),
 *	qmgr_deliver.c (delivery agent connections), qmgr_bounce.c
 *	(requests to bounce(8)), qmgr_remove.c (removal of finished files by
 *	helper processes).
 * DIAGNOSTICS
 *	Logs the Postfix lines "QUEUE_ID: from=<...>, size=N, nrcpt=N
 *	(queue active)", "QUEUE_ID: removed" and "QUEUE_ID: from=<...>,
 *	status=expired, returned to sender", the status lines of recipients
 *	it defers itself, and warnings for unreachable transports and
 *	corrupt queue files (moved to corrupt/).
 * SEE ALSO
 *	qmgr(8) man page, lib/deliver_proto.h, lib/bounce_proto.h
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "events.h"
#include "htable.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_server.h"
#include "master_cf.h"
#include "msg.h"
#include "mymalloc.h"
#include "qmgr.h"
#include "resolve.h"
#include "vstring.h"

int qmgr_active_count;
long qmgr_rcpt_count;
int qmgr_bounce_proc_limit;

static HTABLE *qmgr_proc_limits;        /* master.cf unix service -> maxproc */
static int qmgr_scan_flags;             /* scans waiting for the scan timer */
static EVENT_TIMER_ID qmgr_scan_timer;
static EVENT_TIMER_ID qmgr_sched_timer;

/* qmgr_room - may another message enter the active queue? */

int qmgr_room(void)
{
    if (qmgr_active_count == 0)
        return 1;
    return qmgr_active_count < var_qmgr_message_active_limit
           && qmgr_rcpt_count < var_qmgr_message_recipient_limit;
}

/* qmgr_master_proc_limit - the process limit of a master.cf unix service */

int qmgr_master_proc_limit(const char *service)
{
    long *limit = qmgr_proc_limits ? htable_find(qmgr_proc_limits, service) : NULL;

    return (int) (limit ? *limit : var_default_process_limit);
}

static void qmgr_read_master_cf(void)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    MASTER_CF *cf;

    qmgr_proc_limits = htable_create(20);
    vstring_sprintf(path, "%s/master.cf", var_config_dir);
    if ((cf = master_cf_read(vstring_str(path), why)) == NULL) {
        msg_warn("cannot read process limits: %s", vstring_str(why));
    } else {
        for (int i = 0; i < cf->count; i++) {
            MASTER_CF_ENTRY *e = cf->entries + i;
            long *limit;

            if (strcmp(e->type, "unix") != 0)
                continue;
            limit = mymalloc(sizeof(*limit));
            *limit = strcmp(e->maxproc, "-") == 0 ? var_default_process_limit
                                                  : strtol(e->maxproc, NULL, 10);
            if (*limit < 0)
                *limit = var_default_process_limit;
            htable_enter(qmgr_proc_limits, e->service, limit);
        }
        master_cf_free(cf);
    }
    vstring_free(path);
    vstring_free(why);
}

/* qmgr_scan_event - run the scans that were asked for */

static void qmgr_scan_event(void *context)
{
    int flags = qmgr_scan_flags;

    (void) context;
    qmgr_scan_timer = 0;
    qmgr_scan_flags = 0;
    if (flags & QMGR_SCAN_FLUSH)
        qmgr_transport_flush();
    if (flags & QMGR_SCAN_INCOMING)
        qmgr_scan_dir("incoming", flags);
    if (flags & (QMGR_SCAN_DEFERRED | QMGR_SCAN_ALL))
        qmgr_scan_dir("deferred", flags);
    qmgr_scan_dir(NULL, 0);                  /* take what fits, alternating */
    qmgr_schedule_soon();
}

void qmgr_scan_request(int flags)
{
    qmgr_scan_flags |= flags;
    if (qmgr_scan_timer == 0)
        qmgr_scan_timer = event_request_timer(qmgr_scan_event, NULL, 0);
}

/* qmgr_sched_event - run the scheduler once for everything that happened */

static void qmgr_sched_event(void *context)
{
    (void) context;
    qmgr_sched_timer = 0;
    qmgr_schedule();
}

void qmgr_schedule_soon(void)
{
    if (qmgr_sched_timer == 0)
        qmgr_sched_timer = event_request_timer(qmgr_sched_event, NULL, 0);
}

/* qmgr_periodic - the deferred queue scan every $queue_run_delay */

static void qmgr_periodic(void *context)
{
    (void) context;
    qmgr_scan_request(QMGR_SCAN_INCOMING | QMGR_SCAN_DEFERRED);
    event_request_timer(qmgr_periodic, NULL, var_queue_run_delay * 1000L);
}

/* qmgr_trigger - a wake-up request */

static void qmgr_trigger(const char *buf, size_t len, const char *service, char **args)
{
    int flags = 0;

    (void) service;
    (void) args;
    for (size_t i = 0; i < len; i++) {
        switch (buf[i]) {
        case 'I':
            flags |= QMGR_SCAN_INCOMING;
            break;
        case 'D':
            flags |= QMGR_SCAN_DEFERRED;
            break;
        case 'A':
            flags |= QMGR_SCAN_INCOMING | QMGR_SCAN_DEFERRED | QMGR_SCAN_ALL;
            break;
        case 'F':
            flags |= QMGR_SCAN_DEFERRED | QMGR_SCAN_ALL | QMGR_SCAN_FLUSH;
            break;
        case 'W':
            flags |= QMGR_SCAN_INCOMING | QMGR_SCAN_DEFERRED;
            break;
        default:
            if (msg_verbose)
                msg_info("ignoring wake-up byte 0x%02x", (unsigned char) buf[i]);
            break;
        }
    }
    if (flags)
        qmgr_scan_request(flags);
}

static void qmgr_pre_init(const char *service, char **args)
{
    (void) service;
    (void) args;
    resolve_init();                          /* tables open before privileges go */
    qmgr_read_master_cf();
    qmgr_bounce_proc_limit = qmgr_master_proc_limit("bounce");
}

static void qmgr_post_init(const char *service, char **args)
{
    (void) service;
    (void) args;
    if (var_maximal_backoff_time < var_minimal_backoff_time)
        msg_warn("maximal_backoff_time (%ld) is smaller than minimal_backoff_time (%ld)",
                 var_maximal_backoff_time, var_minimal_backoff_time);
    qmgr_remove_init();
    qmgr_scan_recover();
    qmgr_scan_request(QMGR_SCAN_INCOMING | QMGR_SCAN_DEFERRED);
    event_request_timer(qmgr_periodic, NULL, var_queue_run_delay * 1000L);
}

static void qmgr_on_exit(const char *service, char **args)
{
    (void) service;
    (void) args;
    qmgr_remove_exit();
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
        .flags = MAIL_SERVER_LONG_RUNNING,
        .pre_init = qmgr_pre_init,
        .post_init = qmgr_post_init,
        .on_exit = qmgr_on_exit,
    };

    trigger_server_main(argc, argv, qmgr_trigger, &opts);
}
