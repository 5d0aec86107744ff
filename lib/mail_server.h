#ifndef POSTERN_MAIL_SERVER_H
#define POSTERN_MAIL_SERVER_H
/*
 * mail_server - the daemon side of master(8)'s protocol: the skeleton
 * every postern daemon is built on
 *
 * A daemon's main() hands over to one of three skeletons, which never
 * return:
 *
 *   single_server_main(argc, argv, service, opts)
 *	One client at a time (smtpd, cleanup, bounce, smtp, local, ...).
 *	service(stream, service_name, args) is called for each connection
 *	and returns when it is done with it; the skeleton then closes the
 *	stream. The process serves up to $max_use connections in turn.
 *
 *   multi_server_main(argc, argv, service, opts)
 *	Many clients in one event loop. service(stream, service_name, args)
 *	is called for each new connection and returns at once, after
 *	registering the stream's descriptor with events.h; the daemon calls
 *	multi_server_disconnect(stream) when it is done with a client.
 *
 *   trigger_server_main(argc, argv, trigger, opts)
 *	Wake-up requests (qmgr, pickup): each request is a few bytes written
 *	to a fifo, a unix-dgram socket or a unix stream connection (read up
 *	to MAIL_TRIGGER_MAX bytes or EOF, then closed); trigger(buf, len,
 *	service_name, args) is called with them. master(8) sends "W" on
 *	the service's wakeup timer. The daemon may run its own events.h
 *	descriptors and timers: the skeleton's loop is event_loop().
 *
 * What master(8) passes (the standard daemon arguments), all optional
 * except when noted, parsed with getopt and stopping at the first
 * non-option argument:
 *	-c dir		configuration directory (else $MAIL_CONFIG or the default)
 *	-n name		service name (master.cf column 1)
 *	-t type		inet, unix, unix-dgram, fifo or pass
 *	-s count	number of listening descriptors (default 1)
 *	-u		run as mail_owner (master.cf unpriv column y)
 *	-r		chroot into queue_directory (master.cf chroot column y)
 *	-o name=value	parameter override, applied after main.cf (repeatable)
 *	-v		more verbose logging (repeatable)
 *	-S		stand-alone: no master; serve descriptor 0 (which must be
 *			a socket) once, then exit (single and multi servers)
 * The arguments after the options are passed to the service as args
 * (NULL-terminated).
 *
 * Descriptors (fixed): MAIL_SERVER_STATUS_FD (3) is the write end of the
 * status pipe; MAIL_SERVER_LISTEN_FD (4) up to 4 + count - 1 are the
 * listening descriptors (non-blocking): stream sockets for inet, unix
 * and pass, a datagram socket for unix-dgram, a fifo opened read-write
 * for fifo. A pass socket delivers, per connection, one descriptor
 * (SCM_RIGHTS) that is then served as the client connection.
 *
 * Status protocol: each record is one struct MAIL_SERVER_STATUS written
 * in one write(2) to the status pipe (atomic: smaller than PIPE_BUF).
 * A process reports MAIL_SERVER_BUSY as soon as it has taken a request
 * and MAIL_SERVER_AVAIL when it is ready for the next one; master counts
 * a new process as available until it says otherwise. When master
 * closes its end (stop, reload, removed service), the process stops
 * taking new requests and exits once it is idle.
 *
 * Start-up order: msg_init(program name); options; mail_conf_read();
 * service_name (the -n value) and process_name (the program name) set as
 * overrides, so that -o values may refer to them; each -o through
 * mail_conf_override(); mail_conf_eval(); logging set
 * from syslog_name and maillog_file; opts->pre_init (still root, outside
 * any chroot: open keys and tables here); then, only when the process
 * runs as root: look up mail_owner, chroot (-r), set_ugid to mail_owner
 * with no other groups (-u); opts->post_init. A process started by a
 * user other than root skips every privilege change.
 *
 * Limits: after $max_use requests the process exits (0 = no limit);
 * after $max_idle seconds without one it exits; a request that takes
 * longer than $daemon_timeout is killed by a watchdog (SIGALRM: daemons
 * must not use alarm(2) themselves). MAIL_SERVER_LONG_RUNNING turns off
 * max_use and max_idle (qmgr). All three exit at once, with status 0,
 * when master goes away.
 *
 * opts may be NULL (no hooks, no flags).
 *
 * Errors: bad arguments, missing descriptors and failed privilege
 * changes are fatal (the process exits 1 before it takes a request,
 * which master treats as a start-up failure and throttles).
 *
 * mail_trigger(path, buf, len, timeout) is the client side of the
 * trigger protocol: it sends buf to the fifo, unix-dgram socket or unix
 * stream socket at path (whichever is there) and closes. timeout 0 never
 * blocks (a full fifo or socket backlog is then an error, EAGAIN).
 * Returns 0, or -1 with errno.
 */
#include <sys/types.h>

#include "vstream.h"

#define MAIL_SERVER_STATUS_FD 3
#define MAIL_SERVER_LISTEN_FD 4
#define MAIL_SERVER_MAX_LISTEN 64   /* most listening descriptors per service */

#define MAIL_SERVER_AVAIL 1
#define MAIL_SERVER_BUSY 2

typedef struct MAIL_SERVER_STATUS {
    int pid;     /* getpid() of the reporting process */
    int status;  /* MAIL_SERVER_AVAIL or MAIL_SERVER_BUSY */
} MAIL_SERVER_STATUS;

#define MAIL_TRIGGER_MAX 1024        /* most bytes in one trigger request */
#define MAIL_TRIGGER_WAKEUP "W"      /* what master sends on a wakeup timer */

/* flags in MAIL_SERVER_OPTS */
#define MAIL_SERVER_LONG_RUNNING 1   /* ignore max_use and max_idle */
#define MAIL_SERVER_PRIVILEGED 2     /* refuse to run with -u as root (local, virtual) */

typedef void (*MAIL_SERVER_INIT_FN)(const char *service, char **args);

typedef struct MAIL_SERVER_OPTS {
    int flags;                        /* MAIL_SERVER_* */
    MAIL_SERVER_INIT_FN pre_init;     /* as root, before chroot/setuid */
    MAIL_SERVER_INIT_FN post_init;    /* after privileges are dropped */
    MAIL_SERVER_INIT_FN pre_accept;   /* before each wait for a request */
    MAIL_SERVER_INIT_FN on_exit;      /* before a voluntary exit (limits, master gone) */
} MAIL_SERVER_OPTS;

typedef void (*SINGLE_SERVER_FN)(VSTREAM *stream, const char *service, char **args);
typedef void (*MULTI_SERVER_FN)(VSTREAM *stream, const char *service, char **args);
typedef void (*TRIGGER_SERVER_FN)(const char *buf, size_t len, const char *service, char **args);

void single_server_main(int argc, char **argv, SINGLE_SERVER_FN service,
                        const MAIL_SERVER_OPTS *opts) __attribute__((noreturn));
void multi_server_main(int argc, char **argv, MULTI_SERVER_FN service,
                       const MAIL_SERVER_OPTS *opts) __attribute__((noreturn));
void multi_server_disconnect(VSTREAM *stream);  /* closes and frees the stream */
void trigger_server_main(int argc, char **argv, TRIGGER_SERVER_FN trigger,
                         const MAIL_SERVER_OPTS *opts) __attribute__((noreturn));

/* what the skeleton learned from its arguments (valid once a *_main runs) */
const char *mail_server_service(void);      /* -n, or the program name */
const char *mail_server_type(void);         /* -t, or "unix" */
int mail_server_use_count(void);            /* requests taken so far */

int mail_trigger(const char *path, const void *buf, size_t len, int timeout);

#endif
