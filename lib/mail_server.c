/*
 * NAME
 *	mail_server - skeletons for daemons that master(8) runs
 * SYNOPSIS
 *	#include "mail_server.h"
 *
 *	void single_server_main(int argc, char **argv, SINGLE_SERVER_FN service,
 *				const MAIL_SERVER_OPTS *opts)
 *	void multi_server_main(int argc, char **argv, MULTI_SERVER_FN service,
 *				const MAIL_SERVER_OPTS *opts)
 *	void multi_server_disconnect(VSTREAM *stream)
 *	void trigger_server_main(int argc, char **argv, TRIGGER_SERVER_FN trigger,
 *				const MAIL_SERVER_OPTS *opts)
 *	const char *mail_server_service(void)
 *	const char *mail_server_type(void)
 *	int mail_server_use_count(void)
 *	int mail_trigger(const char *path, const void *buf, size_t len, int timeout)
 * DESCRIPTION
 *	The three *_main() functions turn a program into a daemon that
 *	master(8) can run: they parse the standard daemon arguments, read
 *	main.cf with the -o overrides, drop privileges as master asked,
 *	and then wait for requests on the inherited listening descriptors,
 *	telling master on the status pipe whether the process is busy or
 *	available. mail_server.h states the protocol (descriptor numbers,
 *	options, status records) and the order of start-up.
 *
 *	single_server_main() serves one connection at a time and calls
 *	service() for it; the skeleton closes the stream afterwards.
 *	multi_server_main() calls service() for each new connection and
 *	leaves the stream to the daemon, which hands it back with
 *	multi_server_disconnect(). The process counts as busy while it has
 *	at least one client. trigger_server_main() calls trigger() with the
 *	bytes of each wake-up request.
 *
 *	Every skeleton exits (status 0, after opts->on_exit) when it has
 *	served $max_use requests, when it has waited $max_idle seconds for
 *	one (both unless MAIL_SERVER_LONG_RUNNING), and when master closes
 *	the status pipe; a busy process finishes its request first. A
 *	new client wakes only one of the idle processes that share a
 *	listening socket (events.c), so a process that master retires
 *	first serves a client already waiting on its listening descriptors
 *	(which may have woken it alone), and takes no other. A
 *	request that runs longer than $daemon_timeout is ended by SIGALRM.
 *
 *	mail_server_service() and mail_server_type() return the -n and -t
 *	arguments; mail_server_use_count() the number of requests taken.
 *
 *	mail_trigger() is the client side of the trigger protocol: it
 *	writes buf to whatever is at path (a fifo, a unix datagram socket
 *	or a unix stream socket) and closes it. With timeout 0 it never
 *	waits; otherwise each step may wait that many seconds.
 * DIAGNOSTICS
 *	Problems with arguments, descriptors, configuration or privileges
 *	are fatal. A request that fails is the service's business: the
 *	skeleton logs nothing about it. mail_trigger() returns -1 with
 *	errno set.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "argv.h"
#include "events.h"
#include "iostuff.h"
#include "mail_conf.h"
#include "mail_server.h"
#include "msg.h"
#include "mymalloc.h"
#include "set_ugid.h"
#include "sig.h"
#include "sock.h"
#include "vstream.h"

#define MAIL_TRIGGER_READ_TIMEOUT 1   /* seconds a trigger client may take: a silent local client must not stall qmgr */

#define KIND_SINGLE 1
#define KIND_MULTI 2
#define KIND_TRIGGER 3

static struct {
    int kind;
    const char *service;            /* -n */
    const char *type;               /* -t */
    int nlisten;                    /* -s */
    int unpriv;                     /* -u */
    int chroot;                     /* -r */
    int standalone;                 /* -S */
    char **args;                    /* after the options */
    int use_count;                  /* requests taken */
    int clients;                    /* multi server: open connections */
    int master_gone;                /* status pipe closed by master */
    int accepting;                  /* listening descriptors enabled */
    EVENT_TIMER_ID idle_timer;
    MAIL_SERVER_OPTS opts;
    SINGLE_SERVER_FN single_fn;
    MULTI_SERVER_FN multi_fn;
    TRIGGER_SERVER_FN trigger_fn;
} ms;

const char *mail_server_service(void)
{
    return ms.service;
}

const char *mail_server_type(void)
{
    return ms.type;
}

int mail_server_use_count(void)
{
    return ms.use_count;
}

/* mail_server_exit - leave voluntarily */

static void __attribute__((noreturn)) mail_server_exit(void)
{
    if (ms.opts.on_exit)
        ms.opts.on_exit(ms.service, ms.args);
    vstream_fflush(VSTREAM_OUT);
    exit(0);
}

/* mail_server_status - tell master whether we are busy */

static void mail_server_status(int status)
{
    MAIL_SERVER_STATUS rec;
    ssize_t n;

    if (ms.standalone || ms.master_gone)
        return;
    memset(&rec, 0, sizeof(rec));
    rec.pid = (int) getpid();
    rec.status = status;
    do {
        n = write(MAIL_SERVER_STATUS_FD, &rec, sizeof(rec));
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t) sizeof(rec)) {
        if (n < 0 && errno == EPIPE) {
            ms.master_gone = 1;         /* noticed on the next check */
            return;
        }
        msg_fatal("write to master status descriptor: %m");
    }
}

/* mail_server_limits_reached - true when this process should not take more */

static int mail_server_limits_reached(void)
{
    if (ms.master_gone)
        return 1;
    if (ms.opts.flags & MAIL_SERVER_LONG_RUNNING)
        return 0;
    return var_max_use > 0 && ms.use_count >= var_max_use;
}

/* mail_server_idle - max_idle expired */

static void mail_server_idle(void *unused)
{
    (void) unused;
    ms.idle_timer = 0;
    if (msg_verbose)
        msg_info("idle timeout -- exiting");
    mail_server_exit();
}

static void mail_server_idle_stop(void)
{
    if (ms.idle_timer) {
        event_cancel_timer(ms.idle_timer);
        ms.idle_timer = 0;
    }
}

static void mail_server_idle_start(void)
{
    mail_server_idle_stop();
    if ((ms.opts.flags & MAIL_SERVER_LONG_RUNNING) == 0 && !ms.standalone)
        ms.idle_timer = event_request_timer(mail_server_idle, NULL, var_max_idle * 1000L);
}

/* mail_server_listen_enable - start or stop waiting for new requests */

static void mail_server_accept_event(int fd, int event, void *context);

static void mail_server_listen_enable(int on)
{
    if (ms.standalone || on == ms.accepting)
        return;
    for (int i = 0; i < ms.nlisten; i++) {
        if (on)
            event_enable_read(MAIL_SERVER_LISTEN_FD + i, mail_server_accept_event, NULL);
        else
            event_disable_read(MAIL_SERVER_LISTEN_FD + i);
    }
    ms.accepting = on;
}

/* mail_server_request_done - account for one request, then exit or wait */

static void mail_server_request_done(void)
{
    alarm(0);
    ms.use_count++;
    if (ms.standalone || mail_server_limits_reached())
        mail_server_exit();
    mail_server_status(MAIL_SERVER_AVAIL);
    mail_server_idle_start();
}

/* mail_server_request_start - we have taken a request */

static void mail_server_request_start(void)
{
    mail_server_status(MAIL_SERVER_BUSY);
    mail_server_idle_stop();
    alarm((unsigned) (var_daemon_timeout > 0 ? var_daemon_timeout : 0));
}

/* mail_server_master_event - master closed the status pipe */

static void mail_server_take(int fd);

static void mail_server_master_event(int fd, int event, void *context)
{
    (void) event;
    (void) context;
    event_disable_read(fd);
    ms.master_gone = 1;
    if (msg_verbose)
        msg_info("master disconnect -- exiting");
    mail_server_listen_enable(0);
    /*
     * A listening socket wakes one idle process per client (events.c,
     * EPOLLEXCLUSIVE): a client that woke this process may be waiting for
     * it alone, so serve it rather than leave it stranded.
     */
    for (int i = 0; i < ms.nlisten && !ms.standalone; i++)
        if (readable(MAIL_SERVER_LISTEN_FD + i))
            mail_server_take(MAIL_SERVER_LISTEN_FD + i);
    if (ms.kind != KIND_MULTI || ms.clients == 0)
        mail_server_exit();
}

/*
 * mail_server_master_closed - has master closed the status pipe? Checked
 * before taking a request, so that a retired process (reload) leaves new
 * clients to its successors even when both events arrive together.
 */
static int mail_server_master_closed(void)
{
    struct pollfd pfd;

    if (ms.standalone)
        return 0;
    pfd.fd = MAIL_SERVER_STATUS_FD;
    pfd.events = 0;
    pfd.revents = 0;
    if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))) {
        mail_server_master_event(MAIL_SERVER_STATUS_FD, EVENT_READ | EVENT_XCPT, NULL);
        return 1;
    }
    return 0;
}

/* mail_server_recv_fd - receive one descriptor from a pass connection */

static int mail_server_recv_fd(int sock)
{
    struct msghdr msg;
    struct iovec iov;
    char byte;
    union {
        struct cmsghdr hdr;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    struct cmsghdr *cmsg;
    int fd = -1;

    if (read_wait(sock, MAIL_TRIGGER_READ_TIMEOUT) < 0)
        return -1;
    memset(&msg, 0, sizeof(msg));
    iov.iov_base = &byte;
    iov.iov_len = 1;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof(control.buf);
    if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) < 0)
        return -1;
    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS
            && cmsg->cmsg_len == CMSG_LEN(sizeof(int))) {
            memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
            break;
        }
    }
    if (fd < 0)
        errno = EPROTO;
    return fd;
}

/* mail_server_serve - hand one client connection to the service */

static void mail_server_serve(int fd)
{
    VSTREAM *stream = vstream_fdopen(fd, O_RDWR);

    if (ms.kind == KIND_SINGLE) {
        mail_server_request_start();
        ms.single_fn(stream, ms.service, ms.args);
        vstream_fclose(stream);
        mail_server_request_done();
        return;
    }
    if (ms.clients++ == 0) {
        mail_server_status(MAIL_SERVER_BUSY);
        mail_server_idle_stop();
    }
    if ((ms.opts.flags & MAIL_SERVER_LONG_RUNNING) == 0 && var_max_use > 0
        && ms.use_count + ms.clients >= var_max_use)
        mail_server_listen_enable(0);
    ms.multi_fn(stream, ms.service, ms.args);
}

void multi_server_disconnect(VSTREAM *stream)
{
    vstream_fclose(stream);
    if (ms.clients <= 0)
        msg_panic("multi_server_disconnect: no client connected");
    ms.use_count++;
    if (--ms.clients > 0)
        return;
    if (ms.standalone || mail_server_limits_reached())
        mail_server_exit();
    mail_server_status(MAIL_SERVER_AVAIL);
    mail_server_idle_start();
}

/* mail_server_trigger - run the trigger function on one request */

static void mail_server_trigger(const char *buf, size_t len)
{
    mail_server_request_start();
    ms.trigger_fn(buf, len, ms.service, ms.args);
    mail_server_request_done();
}

/* mail_server_read_trigger - collect a trigger request from a connection */

static void mail_server_read_trigger(int fd)
{
    char buf[MAIL_TRIGGER_MAX];
    size_t len = 0;
    ssize_t n;

    while (len < sizeof(buf)) {
        n = timed_read(fd, buf + len, sizeof(buf) - len, MAIL_TRIGGER_READ_TIMEOUT, NULL);
        if (n <= 0)
            break;
        len += (size_t) n;
    }
    close(fd);
    if (len > 0)
        mail_server_trigger(buf, len);
}

/* mail_server_take - take one request from a listening descriptor */

static void mail_server_take(int fd)
{
    char buf[MAIL_TRIGGER_MAX];
    ssize_t n;
    int cfd;
    int pfd;

    if (ms.kind == KIND_TRIGGER && (strcmp(ms.type, "fifo") == 0
                                    || strcmp(ms.type, "unix-dgram") == 0)) {
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0 && errno == ENOTSOCK)
            n = read(fd, buf, sizeof(buf));
        if (n > 0)
            mail_server_trigger(buf, (size_t) n);
        else if (n < 0 && errno != EAGAIN && errno != EINTR)
            msg_fatal("read trigger on %s service %s: %m", ms.type, ms.service);
        return;
    }
    if ((cfd = sock_accept(fd, NULL, NULL)) < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED
            && errno != EPROTO && errno != EINTR)
            msg_warn("accept connection on %s service %s: %m", ms.type, ms.service);
        return;
    }
    if (ms.kind == KIND_TRIGGER) {
        mail_server_read_trigger(cfd);
        return;
    }
    if (strcmp(ms.type, "pass") == 0) {
        pfd = mail_server_recv_fd(cfd);
        close(cfd);
        if (pfd < 0) {
            msg_warn("receive connection on pass service %s: %m", ms.service);
            return;
        }
        cfd = pfd;
    }
    mail_server_serve(cfd);
}

/* mail_server_accept_event - a listening descriptor is ready */

static void mail_server_accept_event(int fd, int event, void *context)
{
    (void) event;
    (void) context;
    /* a retired process takes only what already waits (master_event) */
    if (ms.master_gone || mail_server_master_closed())
        return;
    mail_server_take(fd);
}

/* mail_server_usage - bad arguments */

static void __attribute__((noreturn)) mail_server_usage(const char *why)
{
    msg_fatal("%s; usage: %s [-c config_dir] [-n service] [-t type] [-s count] [-u] [-r] "
              "[-o name=value] [-v] [-S] [args]", why, msg_prog());
}

/* mail_server_args - parse the standard daemon arguments */

static void mail_server_args(int argc, char **argv, ARGV *overrides, const char **config_dir)
{
    int ch;
    char *end;
    long count;

    ms.service = NULL;
    ms.type = "unix";
    ms.nlisten = 1;
    opterr = 0;
    optind = 1;
    while ((ch = getopt(argc, argv, "+c:n:o:s:t:urvS")) != -1) {
        switch (ch) {
        case 'c':
            *config_dir = optarg;
            break;
        case 'n':
            ms.service = optarg;
            break;
        case 'o':
            if (strchr(optarg, '=') == NULL || optarg[0] == '=')
                mail_server_usage("-o needs name=value");
            argv_add(overrides, optarg);
            break;
        case 's':
            errno = 0;
            count = strtol(optarg, &end, 10);
            if (errno || *end || count < 1 || count > MAIL_SERVER_MAX_LISTEN)
                mail_server_usage("bad -s count");
            ms.nlisten = (int) count;
            break;
        case 't':
            if (strcmp(optarg, "inet") && strcmp(optarg, "unix") && strcmp(optarg, "unix-dgram")
                && strcmp(optarg, "fifo") && strcmp(optarg, "pass"))
                mail_server_usage("bad -t type");
            ms.type = optarg;
            break;
        case 'u':
            ms.unpriv = 1;
            break;
        case 'r':
            ms.chroot = 1;
            break;
        case 'v':
            msg_verbose++;
            break;
        case 'S':
            ms.standalone = 1;
            break;
        default:
            mail_server_usage("invalid option");
        }
    }
    if (ms.service == NULL)
        ms.service = msg_prog();
    ms.args = argv + optind;
}

/* mail_server_descriptors - check what master gave us, keep it from exec'd programs */

static void mail_server_descriptors(void)
{
    int fd;

    if (ms.standalone) {
        if (fcntl(0, F_GETFD) < 0)
            msg_fatal("stand-alone mode: standard input is closed");
        ms.nlisten = 0;
        return;
    }
    if (fcntl(MAIL_SERVER_STATUS_FD, F_GETFD) < 0) {
        msg_set_stderr(1);                      /* someone ran us by hand */
        msg_fatal("no status descriptor %d: run this program from master(8), or use -S",
                  MAIL_SERVER_STATUS_FD);
    }
    close_on_exec(MAIL_SERVER_STATUS_FD, 1);
    for (int i = 0; i < ms.nlisten; i++) {
        fd = MAIL_SERVER_LISTEN_FD + i;
        if (fcntl(fd, F_GETFD) < 0)
            msg_fatal("no listening descriptor %d for service %s", fd, ms.service);
        close_on_exec(fd, 1);
        non_blocking(fd, 1);
    }
}

/* mail_server_privileges - chroot and become mail_owner, as master asked */

static void mail_server_privileges(void)
{
    UGID_USER owner;
    int found;

    if (getuid() != 0 && geteuid() != 0)
        return;                                 /* a user's private instance */
    if (ms.unpriv && (ms.opts.flags & MAIL_SERVER_PRIVILEGED))
        msg_fatal("service %s requires privileged operation: set its unpriv column in "
                  "master.cf to n", ms.service);
    if (ms.unpriv) {
        if ((found = ugid_user_byname(var_mail_owner, &owner)) < 0)
            msg_fatal("look up mail_owner %s: %m", var_mail_owner);
        if (found == 0)
            msg_fatal("parameter mail_owner: unknown user name value: %s", var_mail_owner);
        if (owner.uid == 0)
            msg_fatal("parameter mail_owner: user %s has privileged user ID", var_mail_owner);
    }
    if (ms.chroot) {
        msg_open();                             /* the log is outside the chroot */
        set_root_dir(var_queue_directory);
    }
    if (ms.unpriv)
        set_ugid(owner.uid, owner.gid, NULL);
}

/* mail_server_init - everything up to the first request */

static void mail_server_init(int kind, int argc, char **argv, const MAIL_SERVER_OPTS *opts)
{
    ARGV *overrides = argv_alloc(4);
    const char *config_dir = NULL;
    int was_root;
    char *eq;

    memset(&ms, 0, sizeof(ms));
    ms.kind = kind;
    if (opts)
        ms.opts = *opts;
    if (argc < 1 || argv[0] == NULL)
        msg_fatal("mail_server: no program name");
    msg_init(argv[0]);
    umask(077);
    sig_ignore_pipe();
    mail_server_args(argc, argv, overrides, &config_dir);

    mail_conf_read(config_dir ? config_dir : getenv("MAIL_CONFIG"));
    /* master.cf may say -o syslog_name=postern/$service_name */
    mail_conf_override("service_name", ms.service);
    mail_conf_override("process_name", msg_prog());
    for (int i = 0; i < overrides->argc; i++) {
        eq = strchr(overrides->argv[i], '=');
        *eq = 0;
        mail_conf_override(overrides->argv[i], eq + 1);
        *eq = '=';
    }
    mail_conf_eval();
    msg_set_syslog_name(var_syslog_name);
    msg_set_logfile(var_maillog_file);
    if (msg_verbose)
        msg_info("starting %s service %s", ms.type, ms.service);
    mail_server_descriptors();

    if (ms.opts.pre_init)
        ms.opts.pre_init(ms.service, ms.args);
    was_root = getuid() == 0 || geteuid() == 0;
    mail_server_privileges();
    if (!ms.chroot || !was_root)
        if (chdir(var_queue_directory) < 0)
            msg_fatal("chdir %s: %m", var_queue_directory);
    if (ms.opts.post_init)
        ms.opts.post_init(ms.service, ms.args);
    /* overrides stays allocated: mail_conf may keep pointers into it */
}

/* mail_server_run - the event loop; never returns */

static void __attribute__((noreturn)) mail_server_run(void)
{
    if (ms.standalone) {
        if (ms.kind == KIND_TRIGGER) {
            char buf[MAIL_TRIGGER_MAX];
            ssize_t n = timed_read(0, buf, sizeof(buf), MAIL_TRIGGER_READ_TIMEOUT, NULL);

            if (n > 0)
                mail_server_trigger(buf, (size_t) n);
            mail_server_exit();
        }
        mail_server_serve(dup(0));              /* exits when done */
    } else {
        event_enable_read(MAIL_SERVER_STATUS_FD, mail_server_master_event, NULL);
        mail_server_listen_enable(1);
        mail_server_idle_start();
    }
    for (;;) {
        if (ms.opts.pre_accept && ms.clients == 0)
            ms.opts.pre_accept(ms.service, ms.args);
        event_loop(-1);
    }
}

void single_server_main(int argc, char **argv, SINGLE_SERVER_FN service,
                        const MAIL_SERVER_OPTS *opts)
{
    mail_server_init(KIND_SINGLE, argc, argv, opts);
    ms.single_fn = service;
    if (strcmp(ms.type, "unix-dgram") == 0 || strcmp(ms.type, "fifo") == 0)
        msg_fatal("service %s: a %s service needs a trigger server, not %s", ms.service,
                  ms.type, msg_prog());
    mail_server_run();
}

void multi_server_main(int argc, char **argv, MULTI_SERVER_FN service,
                       const MAIL_SERVER_OPTS *opts)
{
    mail_server_init(KIND_MULTI, argc, argv, opts);
    ms.multi_fn = service;
    if (strcmp(ms.type, "unix-dgram") == 0 || strcmp(ms.type, "fifo") == 0)
        msg_fatal("service %s: a %s service needs a trigger server, not %s", ms.service,
                  ms.type, msg_prog());
    mail_server_run();
}

void trigger_server_main(int argc, char **argv, TRIGGER_SERVER_FN trigger,
                         const MAIL_SERVER_OPTS *opts)
{
    mail_server_init(KIND_TRIGGER, argc, argv, opts);
    ms.trigger_fn = trigger;
    mail_server_run();
}

/* mail_trigger_stream - send a trigger over a unix stream or datagram socket */

static int mail_trigger_socket(const char *path, const void *buf, size_t len, int timeout)
{
    struct sockaddr_un sun;
    int fd;
    int saved;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        return -1;
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
        saved = errno;
        close(fd);
        if (saved == EPROTOTYPE) {              /* a datagram socket */
            if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
                return -1;
            if (timeout == 0)
                non_blocking(fd, 1);
            if (sendto(fd, buf, len, 0, (struct sockaddr *) &sun, sizeof(sun)) != (ssize_t) len) {
                saved = errno;
                close(fd);
                errno = saved;
                return -1;
            }
            close(fd);
            return 0;
        }
        if ((saved != EAGAIN && saved != EINPROGRESS) || timeout == 0) {
            errno = saved;
            return -1;
        }
        if ((fd = unix_connect(path, timeout, NULL)) < 0)
            return -1;
    }
    if (write_buf(fd, buf, len, timeout > 0 ? timeout : 1) < 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    close(fd);
    return 0;
}

int mail_trigger(const char *path, const void *buf, size_t len, int timeout)
{
    struct stat st;
    ssize_t n;
    int fd;
    int saved;

    if (stat(path, &st) < 0)
        return -1;
    if (S_ISSOCK(st.st_mode))
        return mail_trigger_socket(path, buf, len, timeout);
    if (!S_ISFIFO(st.st_mode)) {
        errno = ENOTSOCK;
        return -1;
    }
    if ((fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
        close(fd);
        errno = ENOTSOCK;
        return -1;
    }
    if (timeout > 0) {
        n = write_buf(fd, buf, len, timeout);
    } else {
        n = write(fd, buf, len);
        if (n >= 0 && (size_t) n != len) {
            n = -1;
            errno = EAGAIN;
        }
    }
    saved = errno;
    close(fd);
    errno = saved;
    return n < 0 ? -1 : 0;
}
