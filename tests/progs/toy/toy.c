/*
 * NAME
 *	toy - a small daemon for testing master(8) and mail_server
 * SYNOPSIS
 *	toy [daemon options] [server]
 *	toy [daemon options] fail-start
 *	toy [daemon options] trigger logfile
 *	toy [daemon options] long-trigger logfile
 *	toy [daemon options] privileged
 *	toy [daemon options] multi
 * DESCRIPTION
 *	toy is built on lib/mail_server and runs under master(8) like any
 *	daemon; the integration tests list it in master.cf. The argument
 *	after the daemon options selects its behaviour:
 *
 *	server (the default)
 *		A single server. On each connection it sends "hello PID USE"
 *		(USE counts the connections this process has taken, this one
 *		included), then answers one line per request line:
 *		"echo TEXT" -> TEXT; "info" -> "pid=.. uid=.. gid=.. euid=..
 *		egid=.. groups=a,b cwd=.. service=.. type=.."; "env NAME" ->
 *		the variable's value or "(unset)"; "sleep N" ->
 *		"slept N" after N seconds; "crash" -> dies of SIGSEGV;
 *		"exit N" -> exits with status N; "quit" -> "bye", then the
 *		connection ends. Anything else gets "unknown command".
 *	fail-start
 *		Exits with status 1 during start-up, every time (for the
 *		throttling tests).
 *	trigger logfile
 *		A trigger server: appends "PID TEXT" to logfile for each
 *		request. long-trigger does the same with
 *		MAIL_SERVER_LONG_RUNNING (no max_use, no max_idle).
 *	privileged
 *		The server, with MAIL_SERVER_PRIVILEGED: refuses to run as
 *		mail_owner.
 *	multi
 *		A multi server with the same line protocol (without sleep
 *		and crash), serving many connections in one process.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "mail_server.h"
#include "msg.h"
#include "vstream.h"
#include "vstring.h"

#define TOY_LINE_MAX 1024
#define TOY_TIMEOUT 60

static const char *toy_logfile;

/* toy_info - describe this process */

static void toy_info(VSTRING *out)
{
    gid_t groups[256];
    int n = getgroups(256, groups);
    char cwd[4096];

    vstring_sprintf(out, "pid=%d uid=%d gid=%d euid=%d egid=%d groups=", (int) getpid(),
                    (int) getuid(), (int) getgid(), (int) geteuid(), (int) getegid());
    for (int i = 0; i < n; i++)
        vstring_sprintf_append(out, "%s%d", i ? "," : "", (int) groups[i]);
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        strcpy(cwd, "?");
    vstring_sprintf_append(out, " cwd=%s service=%s type=%s", cwd, mail_server_service(),
                           mail_server_type());
}

/* toy_command - answer one request line; 0 ends the session */

static int toy_command(VSTREAM *stream, VSTRING *line, VSTRING *out)
{
    char *cmd = vstring_str(line);

    vstring_reset(out);
    if (strncmp(cmd, "echo ", 5) == 0) {
        vstring_strcpy(out, cmd + 5);
    } else if (strcmp(cmd, "info") == 0) {
        toy_info(out);
    } else if (strncmp(cmd, "env ", 4) == 0) {
        const char *value = getenv(cmd + 4);

        vstring_strcpy(out, value ? value : "(unset)");
    } else if (strncmp(cmd, "sleep ", 6) == 0) {
        int secs = atoi(cmd + 6);

        for (int left = secs; left > 0;)
            left = (int) sleep((unsigned) left);
        vstring_sprintf(out, "slept %d", secs);
    } else if (strcmp(cmd, "crash") == 0) {
        vstream_fflush(stream);
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    } else if (strncmp(cmd, "exit ", 5) == 0) {
        exit(atoi(cmd + 5));
    } else if (strcmp(cmd, "quit") == 0) {
        vstream_fprintf(stream, "bye\n");
        return 0;
    } else {
        vstring_strcpy(out, "unknown command");
    }
    vstream_fprintf(stream, "%s\n", vstring_str(out));
    return 1;
}

/* toy_read_line - one request line without its newline; -1 at EOF */

static int toy_read_line(VSTREAM *stream, VSTRING *line)
{
    int ch = vstream_get_line(stream, line, TOY_LINE_MAX);

    if (ch == VSTREAM_EOF || vstring_len(line) == 0)
        return -1;
    while (vstring_len(line) > 0
           && (vstring_end(line)[-1] == '\n' || vstring_end(line)[-1] == '\r'))
        vstring_truncate(line, vstring_len(line) - 1);
    return 0;
}

/* toy_service - the single server: one session per connection */

static void toy_service(VSTREAM *stream, const char *service, char **args)
{
    VSTRING *line = vstring_alloc(100);
    VSTRING *out = vstring_alloc(100);

    (void) service;
    (void) args;
    vstream_set_timeout(stream, TOY_TIMEOUT);
    vstream_fprintf(stream, "hello %d %d\n", (int) getpid(), mail_server_use_count() + 1);
    vstream_fflush(stream);
    while (toy_read_line(stream, line) == 0) {
        if (!toy_command(stream, line, out))
            break;
        if (vstream_fflush(stream) != 0)
            break;
    }
    vstream_fflush(stream);
    vstring_free(line);
    vstring_free(out);
}

/* toy_multi_event - a multi-server client sent something */

static void toy_multi_event(int fd, int event, void *context)
{
    VSTREAM *stream = context;
    VSTRING *line = vstring_alloc(100);
    VSTRING *out = vstring_alloc(100);
    int done = 0;

    (void) event;
    do {
        if (toy_read_line(stream, line) < 0 || !toy_command(stream, line, out))
            done = 1;
    } while (!done && vstream_bufferred(stream) > 0);
    if (vstream_fflush(stream) != 0)
        done = 1;
    vstring_free(line);
    vstring_free(out);
    if (done) {
        event_disable_read(fd);
        multi_server_disconnect(stream);
    }
}

static void toy_multi_service(VSTREAM *stream, const char *service, char **args)
{
    (void) service;
    (void) args;
    vstream_set_timeout(stream, TOY_TIMEOUT);
    vstream_fprintf(stream, "hello %d %d\n", (int) getpid(), mail_server_use_count() + 1);
    vstream_fflush(stream);
    event_enable_read(vstream_fileno(stream), toy_multi_event, stream);
}

/* toy_trigger - log each wake-up request */

static void toy_trigger(const char *buf, size_t len, const char *service, char **args)
{
    char line[MAIL_TRIGGER_MAX + 64];
    int n;
    int fd;

    (void) service;
    (void) args;
    n = snprintf(line, sizeof(line), "%d %.*s\n", (int) getpid(), (int) len, buf);
    if ((fd = open(toy_logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0)
        msg_fatal("open %s: %m", toy_logfile);
    if (write(fd, line, (size_t) n) != n)
        msg_fatal("write %s: %m", toy_logfile);
    close(fd);
}

static void toy_fail_start(const char *service, char **args)
{
    (void) args;
    msg_fatal("service %s: failing at start-up, as asked", service);
}

int main(int argc, char **argv)
{
    const char *mode = "server";
    MAIL_SERVER_OPTS opts = {0};

    /* find the mode: the first argument after the daemon options */
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-') {
            mode = argv[i];
            if ((strcmp(mode, "trigger") == 0 || strcmp(mode, "long-trigger") == 0)
                && i + 1 < argc)
                toy_logfile = argv[i + 1];
            break;
        }
        if (strchr("cnost", argv[i][1]) && argv[i][2] == 0)
            i++;                                /* skip the option's argument */
    }
    if (strcmp(mode, "server") == 0)
        single_server_main(argc, argv, toy_service, &opts);
    if (strcmp(mode, "privileged") == 0) {
        opts.flags = MAIL_SERVER_PRIVILEGED;
        single_server_main(argc, argv, toy_service, &opts);
    }
    if (strcmp(mode, "fail-start") == 0) {
        opts.post_init = toy_fail_start;
        single_server_main(argc, argv, toy_service, &opts);
    }
    if (strcmp(mode, "multi") == 0)
        multi_server_main(argc, argv, toy_multi_service, &opts);
    if (strcmp(mode, "trigger") == 0 || strcmp(mode, "long-trigger") == 0) {
        if (toy_logfile == NULL)
            msg_fatal("usage: toy %s logfile", mode);
        if (strcmp(mode, "long-trigger") == 0)
            opts.flags = MAIL_SERVER_LONG_RUNNING;
        trigger_server_main(argc, argv, toy_trigger, &opts);
    }
    msg_fatal("unknown mode: %s", mode);
}
