/*
 * NAME
 *	master_status - the status pipe between a service and its processes
 * SYNOPSIS
 *	#include "master.h"
 *
 *	void master_status_open(MASTER_SERV *serv)
 *	void master_status_close(MASTER_SERV *serv)
 * DESCRIPTION
 *	master_status_open() creates the service's status pipe: processes
 *	inherit the write end as MAIL_SERVER_STATUS_FD and write one
 *	MAIL_SERVER_STATUS record whenever they become busy or available
 *	again; master watches the read end and passes each record to
 *	master_status_report(). Both ends are close-on-exec in master.
 *
 *	master_status_close() stops watching and closes both ends. The
 *	service's processes see the pipe close, stop taking requests and
 *	exit once idle: that is how master retires them on reload and stop.
 * DIAGNOSTICS
 *	Failure to create the pipe is fatal. A record of the wrong size is
 *	logged and dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "events.h"
#include "master.h"
#include "msg.h"

/* master_status_event - read the records that processes wrote */

static void master_status_event(int fd, int event, void *context)
{
    MASTER_SERV *serv = context;
    MAIL_SERVER_STATUS recs[64];
    ssize_t n;

    (void) event;
    for (;;) {
        n = read(fd, recs, sizeof(recs));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (n % (ssize_t) sizeof(recs[0]) != 0) {
            msg_warn("service %s: status message of %ld bytes -- ignored", serv->name, (long) n);
            continue;
        }
        for (ssize_t i = 0; i < n / (ssize_t) sizeof(recs[0]); i++)
            master_status_report(serv, (pid_t) recs[i].pid, recs[i].status);
        if (serv->status_fd[0] != fd)
            break;                              /* the service was retired meanwhile */
        if (n < (ssize_t) sizeof(recs))
            break;                              /* drained: no read just to see EAGAIN */
    }
}

void master_status_open(MASTER_SERV *serv)
{
    if (pipe2(serv->status_fd, O_CLOEXEC) < 0)
        msg_fatal("service %s: create status pipe: %m", serv->name);
    if (fcntl(serv->status_fd[0], F_SETFL, O_NONBLOCK) < 0)
        msg_fatal("service %s: status pipe: %m", serv->name);
    event_enable_read(serv->status_fd[0], master_status_event, serv);
}

void master_status_close(MASTER_SERV *serv)
{
    if (serv->status_fd[0] >= 0) {
        event_disable_read(serv->status_fd[0]);
        close(serv->status_fd[0]);
    }
    if (serv->status_fd[1] >= 0)
        close(serv->status_fd[1]);
    serv->status_fd[0] = serv->status_fd[1] = -1;
}
