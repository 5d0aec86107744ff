/*
 * NAME
 *	master_wakeup - wakeup timers (master.cf column 6)
 * SYNOPSIS
 *	#include "master.h"
 *
 *	void master_wakeup_start(MASTER_SERV *serv)
 *	void master_wakeup_stop(MASTER_SERV *serv)
 * DESCRIPTION
 *	A service with a wakeup time of N seconds gets a trigger request
 *	("W", MAIL_TRIGGER_WAKEUP) every N seconds, as if a client had
 *	asked; when no process is running, that request makes master start
 *	one. master_wakeup_start() sends the first request at once and
 *	arms the timer; with "N?" (conditional wakeup) it sends nothing
 *	while the service has no process, so that an unused service is not
 *	started just to be woken up. No request is sent while the service
 *	is throttled. Wakeups work for fifo, unix and unix-dgram services.
 *
 *	master_wakeup_stop() cancels the timer.
 * DIAGNOSTICS
 *	A request that cannot be delivered at once (a full fifo or socket
 *	backlog) is skipped silently; other failures are logged.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "master.h"
#include "msg.h"

/* master_wakeup_send - deliver one wakeup request without waiting */

static void master_wakeup_send(MASTER_SERV *serv)
{
    const char *req = MAIL_TRIGGER_WAKEUP;
    ssize_t n;

    if (serv->listen_count == 0 || serv->throttled)
        return;
    if (serv->wakeup_cond && serv->total_proc == 0)
        return;
    switch (serv->type) {
    case MASTER_SERV_TYPE_FIFO:
        n = write(serv->listen_fd[0], req, strlen(req));
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            msg_warn("service %s: wakeup %s: %m", serv->name, serv->unix_path);
        break;
    case MASTER_SERV_TYPE_UNIX:
    case MASTER_SERV_TYPE_DGRAM:
        if (mail_trigger(serv->unix_path, req, strlen(req), 0) < 0 && errno != EAGAIN)
            msg_warn("service %s: wakeup %s: %m", serv->name, serv->unix_path);
        break;
    default:
        break;
    }
}

static void master_wakeup_event(void *context)
{
    MASTER_SERV *serv = context;

    serv->wakeup_timer = 0;
    master_wakeup_send(serv);
    serv->wakeup_timer = event_request_timer(master_wakeup_event, serv, serv->wakeup * 1000L);
}

void master_wakeup_start(MASTER_SERV *serv)
{
    if (serv->wakeup <= 0 || serv->type == MASTER_SERV_TYPE_INET
        || serv->type == MASTER_SERV_TYPE_PASS)
        return;
    master_wakeup_stop(serv);
    serv->wakeup_timer = event_request_timer(master_wakeup_event, serv,
                                             serv->wakeup_cond ? serv->wakeup * 1000L : 0);
}

void master_wakeup_stop(MASTER_SERV *serv)
{
    if (serv->wakeup_timer)
        event_cancel_timer(serv->wakeup_timer);
    serv->wakeup_timer = 0;
}
