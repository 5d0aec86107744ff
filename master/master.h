#ifndef POSTERN_MASTER_H
#define POSTERN_MASTER_H
/*
 * master.h - the supervisor's internal interfaces
 *
 * One MASTER_SERV per enabled master.cf entry. It owns its listening
 * descriptors, its status pipe and its timers; its processes are
 * MASTER_PROCs, kept in one table by pid. When a service is retired
 * (reload, stop) its processes stay in the table with serv == NULL
 * until they are reaped, and no longer count against any service.
 *
 * Modules:
 *	master.c	 main(), start-up checks, signals, stop
 *	master_ent.c	 master.cf entries -> MASTER_SERV (defaults, endpoints)
 *	master_listen.c  listening sockets and fifos
 *	master_spawn.c	 process table: spawn, reap, throttle, on-demand logic
 *	master_status.c	 status pipes
 *	master_wakeup.c	 wakeup timers
 *	master_conf.c	 starting, reloading and stopping the service table
 */
#include <sys/types.h>
#include <time.h>

#include "argv.h"
#include "events.h"
#include "mail_server.h"
#include "vstring.h"

#define MASTER_SERV_TYPE_INET 1
#define MASTER_SERV_TYPE_UNIX 2
#define MASTER_SERV_TYPE_DGRAM 3
#define MASTER_SERV_TYPE_FIFO 4
#define MASTER_SERV_TYPE_PASS 5

#define MASTER_LISTEN_BACKLOG 100

typedef struct MASTER_SERV {
    char *name;                /* master.cf column 1 */
    char *type_name;           /* master.cf column 2 */
    int type;                  /* MASTER_SERV_TYPE_* */
    char *key;                 /* "name/type": identity across reloads */
    char *endpoint;            /* what is listened on; equal = same sockets */
    int priv;                  /* private: socket under private/ */
    int unpriv;                /* run as mail_owner */
    int chroot;                /* chroot into queue_directory */
    int wakeup;                /* seconds between wakeups, 0 = none */
    int wakeup_cond;           /* "N?": only while the service has processes */
    int max_proc;              /* 0 = no limit */
    char *path;                /* program to run */
    ARGV *args;                /* master.cf command and arguments */
    char *unix_path;           /* socket or fifo path (unix, fifo, pass, dgram) */
    ARGV *inet_hosts;          /* inet: addresses to bind, "" = every address */
    char *inet_port;           /* inet: port number or name */
    int inet_v4;               /* inet: IPv4 allowed (inet_protocols) */
    int inet_v6;               /* inet: IPv6 allowed */
    int listen_fd[MAIL_SERVER_MAX_LISTEN];
    int listen_count;
    int status_fd[2];          /* [0] master reads, [1] children write */
    int total_proc;            /* running processes */
    int avail_proc;            /* of which ready for a request */
    int throttled;             /* start-up failures: not spawning */
    EVENT_TIMER_ID throttle_timer;
    EVENT_TIMER_ID wakeup_timer;
    int watch;                 /* MASTER_WATCH_*: what the listen fds are watched for */
    time_t limit_warned;       /* last process-limit warning */
    EVENT_TIMER_ID limit_timer; /* a request waits at the limit: warn if it still does */
    struct MASTER_SERV *next;
} MASTER_SERV;

#define MASTER_WATCH_NONE 0
#define MASTER_WATCH_SPAWN 1   /* readable -> start a process */
#define MASTER_WATCH_LIMIT 2   /* readable -> warn that the limit is reached */

typedef struct MASTER_PROC {
    pid_t pid;
    MASTER_SERV *serv;         /* NULL once the service is retired */
    char *path;                /* for log lines */
    int avail;                 /* reported (or assumed) ready */
    int use_count;             /* busy reports received */
} MASTER_PROC;

/* master.c */
extern MASTER_SERV *master_services;   /* the running service table */
extern int master_stopping;            /* stop or abort in progress */
extern int master_root;                /* running as root: change owners, drop privileges */
extern uid_t master_owner_uid;         /* mail_owner (the invoking user when not root) */
extern gid_t master_owner_gid;
void master_stop_done(void);           /* the last process of a stop is gone */
int master_owner_init(VSTRING *why);   /* look up mail_owner; -1 and why on error */

/* master_ent.c */
MASTER_SERV *master_ent_load(const char *path, VSTRING *why);
void master_ent_free(MASTER_SERV *serv);

/* master_listen.c */
int master_listen_open(MASTER_SERV *serv, VSTRING *why);
void master_listen_close(MASTER_SERV *serv, int unlink_path);

/* master_status.c */
void master_status_open(MASTER_SERV *serv);
void master_status_close(MASTER_SERV *serv);

/* master_spawn.c */
void master_avail_update(MASTER_SERV *serv);
void master_spawn(MASTER_SERV *serv);
void master_reap(void);
void master_status_report(MASTER_SERV *serv, pid_t pid, int status);
void master_retire_procs(MASTER_SERV *serv);
void master_signal_procs(int sig);
int master_proc_count(void);
void master_throttle_cancel(MASTER_SERV *serv);

/* master_wakeup.c */
void master_wakeup_start(MASTER_SERV *serv);
void master_wakeup_stop(MASTER_SERV *serv);

/* master_conf.c */
void master_conf_start(void);
int master_conf_reload(void);
void master_conf_stop(void);

#endif
