#ifndef POSTERN_MSG_H
#define POSTERN_MSG_H
/*
 * msg - the one logging interface
 *
 * Lines go out in Postfix's format, "Mon DD HH:MM:SS host NAME/PROG[PID]: text",
 * to syslog (facility mail) or, after msg_set_logfile(), appended to a file
 * in single whole-line writes. msg_set_stderr() also copies each line to
 * standard error as "PROG: text" (for commands run by people).
 *
 * msg_fatal() runs the cleanup hook and exits 1; msg_panic() aborts.
 */
#include <stdarg.h>

extern int msg_verbose;

void msg_init(const char *prog);               /* program name, e.g. "smtpd" */
void msg_set_syslog_name(const char *name);    /* default "postern" */
void msg_set_logfile(const char *path);        /* NULL or "" = syslog */
void msg_set_stderr(int on);                   /* also copy to stderr */
void msg_set_syslog(int on);
void msg_open(void);                           /* connect now (before a chroot) */                   /* 0: no syslog (interactive commands) */
void msg_set_cleanup(void (*fn)(void));        /* run before a fatal exit */
const char *msg_prog(void);

void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void msg_fatal_status(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
void msg_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void msg_vlog(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* levels for msg_vlog */
#define MSG_INFO 0
#define MSG_WARN 1
#define MSG_ERROR 2
#define MSG_FATAL 3
#define MSG_PANIC 4

#endif
