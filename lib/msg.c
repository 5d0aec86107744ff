/*
 * NAME
 *	msg - logging in Postfix's line format
 * SYNOPSIS
 *	#include "msg.h"
 *
 *	int msg_verbose
 *	void msg_init(const char *prog)
 *	void msg_set_syslog_name(const char *name)
 *	void msg_set_logfile(const char *path)
 *	void msg_set_stderr(int on)
 *	void msg_set_syslog(int on)
 *	void msg_open(void)
 *	void msg_set_cleanup(void (*fn)(void))
 *	const char *msg_prog(void)
 *	void msg_info(const char *fmt, ...)
 *	void msg_warn(const char *fmt, ...)
 *	void msg_error(const char *fmt, ...)
 *	void msg_fatal(const char *fmt, ...)
 *	void msg_fatal_status(int status, const char *fmt, ...)
 *	void msg_panic(const char *fmt, ...)
 *	void msg_vlog(int level, const char *fmt, va_list ap)
 * DESCRIPTION
 *	msg_init() names the program ("smtpd"); lines are tagged with
 *	"SYSLOG_NAME/PROG[PID]" where SYSLOG_NAME is "postern" unless
 *	msg_set_syslog_name() says otherwise (main.cf syslog_name).
 *
 *	By default lines go to syslog with facility LOG_MAIL. After
 *	msg_set_logfile(path) with a non-empty path they are appended to
 *	that file instead, each as one write(2) on an O_APPEND descriptor,
 *	so lines from many processes never interleave. A file that cannot
 *	be opened sends the line to standard error.
 *
 *	The log file (kept on a descriptor >= 64, away from the fixed
 *	descriptors of lib/mail_server.h) and the syslog connection are
 *	opened at the first line, or at once by msg_open(): a daemon calls
 *	that before it chroots, so it keeps logging, in local time.
 *
 *	msg_set_syslog(0) stops lines from going to syslog (a maillog_file,
 *	when set, still gets them): for commands whose output is for the
 *	person at the terminal only.
 *
 *	msg_set_stderr(1) copies every line to standard error as
 *	"PROG: level: text", as commands do for the person running them.
 *
 *	Levels prefix the text with "warning: ", "error: ", "fatal: " or
 *	"panic: ". Control characters in the text become '?', and a line is
 *	cut at MSG_LINE_MAX bytes: a log line can never be split or forged
 *	by data from a client. The formatting uses no heap memory, so it
 *	is safe to call when allocation fails.
 *
 *	msg_fatal() and msg_fatal_status() log, run the cleanup hook set
 *	by msg_set_cleanup() (once), and exit with status 1 or the given
 *	status. msg_panic() logs and aborts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"

#define MSG_LINE_MAX 4096
#define MSG_FD_LOW 64 /* the log file lives at or above this descriptor */

int msg_verbose;

static char msg_progname[64] = "postern";
static char msg_syslog_name[64] = "postern";
static char msg_logfile[1024];
static int msg_logfd = -1;
static int msg_to_stderr;
static int msg_syslog_open;
static void msg_open_syslog(void);
static int msg_syslog_off;
static void (*msg_cleanup_fn)(void);

static void msg_copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

void msg_init(const char *prog)
{
    const char *slash = strrchr(prog, '/');

    msg_copy(msg_progname, sizeof(msg_progname), slash ? slash + 1 : prog);
    if (msg_syslog_open)
        msg_open_syslog();
}

const char *msg_prog(void)
{
    return msg_progname;
}

/* msg_open_syslog - (re)connect to syslog now, before any chroot */
static void msg_open_syslog(void)
{
    static char ident[160];

    if (msg_syslog_open)
        closelog();
    snprintf(ident, sizeof(ident), "%s/%s", msg_syslog_name, msg_progname);
    openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
    msg_syslog_open = 1;
}

void msg_set_syslog_name(const char *name)
{
    if (name == NULL || *name == 0)
        name = "postern";
    msg_copy(msg_syslog_name, sizeof(msg_syslog_name), name);
    if (msg_syslog_open)
        msg_open_syslog();
}

void msg_set_logfile(const char *path)
{
    if (msg_logfd >= 0) {
        close(msg_logfd);
        msg_logfd = -1;
    }
    msg_copy(msg_logfile, sizeof(msg_logfile), path ? path : "");
}

/*
 * msg_open_file - open the log file on a descriptor above the ones
 * daemons use at fixed numbers (lib/mail_server.h: 0-4 and up)
 */
static int msg_open_file(void)
{
    int fd = open(msg_logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    int high;

    if (fd < 0 || fd >= MSG_FD_LOW)
        return fd;
    high = fcntl(fd, F_DUPFD_CLOEXEC, MSG_FD_LOW);
    close(fd);
    return high;
}

void msg_open(void)
{
    tzset(); /* time stamps stay local after a chroot */
    if (msg_logfile[0]) {
        if (msg_logfd < 0)
            msg_logfd = msg_open_file();
    } else if (!msg_syslog_off) {
        msg_open_syslog();
    }
}

void msg_set_stderr(int on)
{
    msg_to_stderr = on;
}

void msg_set_syslog(int on)
{
    msg_syslog_off = !on;
}

void msg_set_cleanup(void (*fn)(void))
{
    msg_cleanup_fn = fn;
}

static const char *msg_level_text[] = {"", "warning: ", "error: ", "fatal: ", "panic: "};

static void msg_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t) n;
    }
}

static void msg_to_file(const char *text)
{
    char line[MSG_LINE_MAX + 256];
    char stamp[32];
    char host[256];
    time_t now = time(NULL);
    struct tm tm;
    int len;

    if (msg_logfd < 0) {
        msg_logfd = msg_open_file();
        if (msg_logfd < 0) {
            dprintf(2, "%s: warning: open %s: %s\n", msg_progname, msg_logfile, strerror(errno));
            dprintf(2, "%s: %s\n", msg_progname, text);
            return;
        }
    }
    localtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
    if (gethostname(host, sizeof(host)) < 0)
        msg_copy(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = 0;
    len = snprintf(line, sizeof(line), "%s %s %s/%s[%ld]: %s\n", stamp, host, msg_syslog_name,
                   msg_progname, (long) getpid(), text);
    if (len < 0)
        return;
    if ((size_t) len >= sizeof(line)) {
        len = sizeof(line) - 1;
        line[len - 1] = '\n';
    }
    msg_write_all(msg_logfd, line, (size_t) len);
}

static void msg_to_syslog(int level, const char *text)
{
    static const int prio[] = {LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_CRIT};

    if (!msg_syslog_open)
        msg_open_syslog();
    syslog(prio[level], "%s", text);
}

void msg_vlog(int level, const char *fmt, va_list ap)
{
    char text[MSG_LINE_MAX];
    size_t prefix;
    int saved_errno = errno;

    if (level < MSG_INFO || level > MSG_PANIC)
        level = MSG_PANIC;
    prefix = (size_t) snprintf(text, sizeof(text), "%s", msg_level_text[level]);
    errno = saved_errno; /* keep %m working */
    vsnprintf(text + prefix, sizeof(text) - prefix, fmt, ap);
    for (char *cp = text; *cp; cp++)
        if ((unsigned char) *cp < 0x20 || *cp == 0x7f)
            *cp = '?';
    if (msg_logfile[0])
        msg_to_file(text);
    else if (!msg_syslog_off)
        msg_to_syslog(level, text);
    if (msg_to_stderr)
        dprintf(2, "%s: %s\n", msg_progname, text);
    errno = saved_errno;
}

#define MSG_FORWARD(level)                                                                         \
    do {                                                                                           \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        msg_vlog(level, fmt, ap);                                                                  \
        va_end(ap);                                                                                \
    } while (0)

void msg_info(const char *fmt, ...)
{
    MSG_FORWARD(MSG_INFO);
}

void msg_warn(const char *fmt, ...)
{
    MSG_FORWARD(MSG_WARN);
}

void msg_error(const char *fmt, ...)
{
    MSG_FORWARD(MSG_ERROR);
}

static void msg_run_cleanup(void)
{
    void (*fn)(void) = msg_cleanup_fn;

    msg_cleanup_fn = NULL; /* a fatal error inside the hook must not loop */
    if (fn)
        fn();
}

void msg_fatal(const char *fmt, ...)
{
    MSG_FORWARD(MSG_FATAL);
    msg_run_cleanup();
    exit(1);
}

void msg_fatal_status(int status, const char *fmt, ...)
{
    MSG_FORWARD(MSG_FATAL);
    msg_run_cleanup();
    exit(status);
}

void msg_panic(const char *fmt, ...)
{
    MSG_FORWARD(MSG_PANIC);
    abort();
}
