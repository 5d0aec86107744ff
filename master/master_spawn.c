/*
 * NAME
 *	master_spawn - process pools: start on demand, account, reap, throttle
 * SYNOPSIS
 *	#include "master.h"
 *
 *	void master_avail_update(MASTER_SERV *serv)
 *	void master_spawn(MASTER_SERV *serv)
 *	void master_reap(void)
 *	void master_status_report(MASTER_SERV *serv, pid_t pid, int status)
 *	void master_retire_procs(MASTER_SERV *serv)
 *	void master_signal_procs(int sig)
 *	int master_proc_count(void)
 *	void master_throttle_cancel(MASTER_SERV *serv)
 * DESCRIPTION
 *	A service's processes are started on demand. While at least one of
 *	them is available, master leaves the listening descriptors to them.
 *	When none is available and the service is below its process limit,
 *	master watches the descriptors itself and starts one more process
 *	as soon as a request is waiting. At the limit it watches them only
 *	to warn, at most once a minute, that new clients may be delayed
 *	(when a request still waits a second later).
 *	master_avail_update() applies this rule after every change.
 *
 *	master_spawn() forks and runs the service's program with the
 *	standard daemon options (see mail_server.h) followed by the
 *	master.cf arguments, the status pipe on MAIL_SERVER_STATUS_FD and
 *	the listening descriptors from MAIL_SERVER_LISTEN_FD on; no other
 *	descriptor is inherited. A new process counts as available.
 *
 *	master_status_report() applies one status record. master_reap()
 *	collects exited processes and logs each one that failed: "process
 *	PATH pid N exit status S" or "process PATH pid N killed by signal
 *	S". A process that fails before it took any request means the
 *	program cannot start: the service is throttled, i.e. no process is
 *	started for $service_throttle_time seconds ("PATH: bad command
 *	startup -- throttling"). Other failures are simply replaced on
 *	demand. When a stop is in progress and the last process is gone,
 *	master_reap() calls master_stop_done().
 *
 *	master_retire_procs() detaches a service's processes from it (they
 *	finish on their own and are only reaped); master_signal_procs()
 *	sends a signal to every process; master_proc_count() counts them.
 *	master_throttle_cancel() ends a throttle and a pending process-limit
 *	check without re-arming watches (for a service being retired).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "events.h"
#include "htable.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "master.h"
#include "msg.h"
#include "mymalloc.h"
#include "sig.h"

#define MASTER_LIMIT_WARN_INTERVAL 60   /* seconds between process-limit warnings */
#define MASTER_LIMIT_WAIT 1             /* seconds a request waits before we warn */

static HTABLE *master_procs;

static void master_proc_key(pid_t pid, char *buf, size_t len)
{
    snprintf(buf, len, "%ld", (long) pid);
}

static MASTER_PROC *master_proc_find(pid_t pid)
{
    char key[32];

    if (master_procs == NULL)
        return NULL;
    master_proc_key(pid, key, sizeof(key));
    return htable_find(master_procs, key);
}

int master_proc_count(void)
{
    return master_procs ? (int) master_procs->used : 0;
}

/* master_throttle_event - the throttle time is over */

static void master_throttle_event(void *context)
{
    MASTER_SERV *serv = context;

    serv->throttle_timer = 0;
    serv->throttled = 0;
    master_avail_update(serv);
}

static void master_throttle(MASTER_SERV *serv)
{
    if (serv->throttled)
        return;
    serv->throttled = 1;
    serv->throttle_timer = event_request_timer(master_throttle_event, serv,
                                               var_service_throttle_time * 1000L);
    master_avail_update(serv);
}

void master_throttle_cancel(MASTER_SERV *serv)
{
    if (serv->throttle_timer)
        event_cancel_timer(serv->throttle_timer);
    serv->throttle_timer = 0;
    serv->throttled = 0;
    if (serv->limit_timer)
        event_cancel_timer(serv->limit_timer);
    serv->limit_timer = 0;
}

/* master_listen_text - how log lines name what a service listens on */

static const char *master_listen_text(const MASTER_SERV *serv)
{
    if (serv->unix_path)
        return serv->unix_path;
    return serv->name;
}

/* master_spawn_event - a request waits and no process is available */

static void master_spawn_event(int fd, int event, void *context)
{
    (void) fd;
    (void) event;
    master_spawn(context);
}

/*
 * master_limit_check - a request has waited a second at the process limit:
 * warn, unless a process became free meanwhile (a client that comes just
 * before a process reports that it is free again is no reason to warn)
 */
static void master_limit_check(void *context)
{
    MASTER_SERV *serv = context;
    int waiting = 0;

    serv->limit_timer = 0;
    for (int i = 0; i < serv->listen_count && !waiting; i++)
        waiting = readable(serv->listen_fd[i]);
    if (waiting && serv->avail_proc == 0 && serv->max_proc > 0
        && serv->total_proc >= serv->max_proc) {
        serv->limit_warned = time(NULL);
        msg_warn("service \"%s\" (%s) has reached its process limit \"%d\": "
                 "new clients may be delayed", serv->name, master_listen_text(serv),
                 serv->max_proc);
        msg_warn("to avoid this condition, increase the process count in master.cf "
                 "or reduce the service time per client");
    }
    master_avail_update(serv);
}

/* master_limit_event - a request waits and the process limit is reached */

static void master_limit_event(int fd, int event, void *context)
{
    MASTER_SERV *serv = context;

    (void) fd;
    (void) event;
    if (serv->limit_timer == 0)
        serv->limit_timer = event_request_timer(master_limit_check, serv,
                                                MASTER_LIMIT_WAIT * 1000L);
    master_avail_update(serv);
}

void master_avail_update(MASTER_SERV *serv)
{
    int want;

    if (master_stopping || serv->listen_count == 0 || serv->status_fd[0] < 0 || serv->throttled
        || serv->avail_proc > 0)
        want = MASTER_WATCH_NONE;
    else if (serv->max_proc == 0 || serv->total_proc < serv->max_proc)
        want = MASTER_WATCH_SPAWN;
    else if (serv->limit_timer == 0
             && time(NULL) >= serv->limit_warned + MASTER_LIMIT_WARN_INTERVAL)
        want = MASTER_WATCH_LIMIT;
    else
        want = MASTER_WATCH_NONE;
    if (want == serv->watch)
        return;
    for (int i = 0; i < serv->listen_count; i++) {
        if (want == MASTER_WATCH_NONE)
            event_disable_read(serv->listen_fd[i]);
        else
            event_enable_read(serv->listen_fd[i], want == MASTER_WATCH_SPAWN ?
                              master_spawn_event : master_limit_event, serv);
    }
    serv->watch = want;
}

/* master_exec - in the child: arrange descriptors and run the program */

static void __attribute__((noreturn)) master_exec(MASTER_SERV *serv, ARGV *av)
{
    int src[MAIL_SERVER_MAX_LISTEN + 1];
    int tmp[MAIL_SERVER_MAX_LISTEN + 1];
    int n = 0;

    msg_set_cleanup(NULL);
    /* forget master's log descriptors: the moves below may reuse their numbers */
    msg_set_logfile(var_maillog_file);
    msg_set_syslog_name(var_syslog_name);
    sig_child_reset();
    src[n++] = serv->status_fd[1];
    for (int i = 0; i < serv->listen_count; i++)
        src[n++] = serv->listen_fd[i];
    /* move everything above the target range first, so no move clobbers another */
    for (int i = 0; i < n; i++)
        if ((tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, MAIL_SERVER_STATUS_FD + n)) < 0)
            msg_fatal("dup descriptor %d: %m", src[i]);
    for (int i = 0; i < n; i++)
        if (dup2(tmp[i], MAIL_SERVER_STATUS_FD + i) < 0)
            msg_fatal("dup2 descriptor %d: %m", tmp[i]);
    if (close_range((unsigned) (MAIL_SERVER_STATUS_FD + n), ~0U, 0) < 0)
        for (int fd = MAIL_SERVER_STATUS_FD + n; fd < 1024; fd++)
            close(fd);
    execv(serv->path, av->argv);
    msg_fatal("exec %s: %m", serv->path);
}

void master_spawn(MASTER_SERV *serv)
{
    MASTER_PROC *proc;
    ARGV *av;
    char key[32];
    char count[16];
    pid_t pid;

    if (master_stopping || serv->throttled
        || (serv->max_proc > 0 && serv->total_proc >= serv->max_proc))
        return;
    av = argv_alloc(serv->args->argc + 12);
    argv_add(av, serv->args->argv[0]);
    argv_add(av, "-c");
    argv_add(av, var_config_dir);
    argv_add(av, "-n");
    argv_add(av, serv->name);
    argv_add(av, "-t");
    argv_add(av, serv->type_name);
    if (serv->listen_count != 1) {
        snprintf(count, sizeof(count), "%d", serv->listen_count);
        argv_add(av, "-s");
        argv_add(av, count);
    }
    if (serv->unpriv)
        argv_add(av, "-u");
    if (serv->chroot)
        argv_add(av, "-r");
    for (int i = 1; i < serv->args->argc; i++)
        argv_add(av, serv->args->argv[i]);

    if ((pid = fork()) < 0) {
        msg_warn("fork: %m -- throttling");
        argv_free(av);
        master_throttle(serv);
        return;
    }
    if (pid == 0)
        master_exec(serv, av);
    argv_free(av);
    if (msg_verbose)
        msg_info("spawn %s pid %ld for service %s", serv->path, (long) pid, serv->name);
    if (master_procs == NULL)
        master_procs = htable_create(100);
    proc = mycalloc(1, sizeof(*proc));
    proc->pid = pid;
    proc->serv = serv;
    proc->path = mystrdup(serv->path);
    proc->avail = 1;
    master_proc_key(pid, key, sizeof(key));
    htable_enter(master_procs, key, proc);
    serv->total_proc++;
    serv->avail_proc++;
    master_avail_update(serv);
}

void master_status_report(MASTER_SERV *serv, pid_t pid, int status)
{
    MASTER_PROC *proc = master_proc_find(pid);

    if (proc == NULL || proc->serv != serv)
        return;                                 /* already reaped, or retired */
    switch (status) {
    case MAIL_SERVER_BUSY:
        if (proc->avail) {
            proc->avail = 0;
            serv->avail_proc--;
        }
        proc->use_count++;
        break;
    case MAIL_SERVER_AVAIL:
        if (!proc->avail) {
            proc->avail = 1;
            serv->avail_proc++;
        }
        break;
    default:
        msg_warn("service %s: process %ld sent bad status %d", serv->name, (long) pid, status);
        return;
    }
    master_avail_update(serv);
}

static void master_proc_free(void *ptr)
{
    MASTER_PROC *proc = ptr;

    myfree(proc->path);
    myfree(proc);
}

void master_reap(void)
{
    MASTER_PROC *proc;
    MASTER_SERV *serv;
    char key[32];
    int status;
    int failed;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if ((proc = master_proc_find(pid)) == NULL)
            continue;                           /* not ours (init mode) */
        failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
            msg_warn("process %s pid %ld exit status %d", proc->path, (long) pid,
                     WEXITSTATUS(status));
        if (WIFSIGNALED(status)
            && !(master_stopping && (WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGKILL)))
            msg_warn("process %s pid %ld killed by signal %d", proc->path, (long) pid,
                     WTERMSIG(status));
        if ((serv = proc->serv) != NULL) {
            serv->total_proc--;
            if (proc->avail)
                serv->avail_proc--;
            if (failed && proc->use_count == 0 && !master_stopping && !serv->throttled) {
                msg_warn("%s: bad command startup -- throttling", serv->path);
                master_throttle(serv);
            }
            master_avail_update(serv);
        }
        master_proc_key(pid, key, sizeof(key));
        htable_delete(master_procs, key, master_proc_free);
    }
    if (pid < 0 && errno != ECHILD && errno != EINTR)
        msg_warn("waitpid: %m");
    if (master_stopping && master_proc_count() == 0)
        master_stop_done();
}

void master_retire_procs(MASTER_SERV *serv)
{
    HTABLE_INFO **list;

    if (master_procs == NULL)
        return;
    list = htable_list(master_procs);
    for (HTABLE_INFO **ht = list; *ht; ht++) {
        MASTER_PROC *proc = (*ht)->value;

        if (proc->serv == serv)
            proc->serv = NULL;
    }
    myfree(list);
    serv->total_proc = serv->avail_proc = 0;
}

void master_signal_procs(int sig)
{
    HTABLE_INFO **list;

    if (master_procs == NULL)
        return;
    list = htable_list(master_procs);
    for (HTABLE_INFO **ht = list; *ht; ht++) {
        MASTER_PROC *proc = (*ht)->value;

        if (kill(proc->pid, sig) < 0 && errno != ESRCH)
            msg_warn("kill process %ld: %m", (long) proc->pid);
    }
    myfree(list);
}
