/*
 * NAME
 *	postern - postern control program
 * SYNOPSIS
 *	postern [-c config_dir] [-v] command
 * DESCRIPTION
 *	postern starts, stops and inspects the mail system: it runs master(8)
 *	and signals it, and prepares the queue directory. Commands:
 *
 *	check		create or repair the queue directory tree (owners,
 *			modes; see postern_check.c), validate main.cf and
 *			master.cf, warn about unsafe permissions.
 *	start		check, then start master(8) in the background; return
 *			once it listens (exit 0) or has failed (exit 1).
 *	start-fg	check, then run master(8) in the foreground, in place
 *			of this process (containers, systemd Type=simple).
 *	stop		ask master(8) to stop gracefully (SIGTERM) and wait
 *			until it has exited; force it after a while.
 *	abort		stop at once (SIGINT): running processes are signalled
 *			to stop immediately.
 *	reload		validate the configuration, then have master(8) re-read
 *			it (SIGHUP).
 *	status		say whether the mail system runs, and its PID.
 *	flush		ask the queue manager to retry deferred mail now.
 *	set-permissions	like check, and also give queue contents to mail_owner.
 *
 *	-c config_dir	use main.cf and master.cf in config_dir; exported to
 *			master(8) as MAIL_CONFIG.
 *	-v		more verbose logging (repeatable).
 *
 *	Whether the mail system runs is decided by the lock on
 *	$queue_directory/$process_id_directory/master.pid, which master(8)
 *	holds for as long as it runs.
 * DIAGNOSTICS
 *	Messages go to the mail log and to standard error, tagged
 *	"postern". Exit status 0 on success; 1 on failure, when start finds
 *	the mail system already running, when stop, abort, reload or flush
 *	find it not running, and when status finds it not running.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mail_conf.h"
#include "mail_flush.h"
#include "mail_server.h"
#include "master_cf.h"
#include "msg.h"
#include "mymalloc.h"
#include "pid_file.h"
#include "postern.h"
#include "vstring.h"

#define POSTERN_POLL_MS 50           /* how often stop/abort look at master */
#define POSTERN_STOP_EXTRA 10        /* seconds beyond $master_stop_time before force */
#define POSTERN_ABORT_WAIT 10        /* seconds abort waits for master to exit */

static char *postern_pid_path;

static void __attribute__((noreturn)) postern_usage(void)
{
    msg_fatal("usage: postern [-c config_dir] [-v] start | start-fg | stop | abort | reload "
              "| status | check | flush | set-permissions");
}

/* postern_running - master's pid, or 0 when it does not run */

static pid_t postern_running(void)
{
    pid_t pid = pid_file_read(postern_pid_path);

    if (pid < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        msg_fatal("%s: %m", postern_pid_path);
    }
    return pid;
}

/* postern_alive - does process pid exist (zombies do not count)? */

static int postern_alive(pid_t pid)
{
    char path[64];
    char buf[512];
    FILE *fp;
    char *cp;
    int alive = 1;

    if (kill(pid, 0) < 0 && errno == ESRCH)
        return 0;
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long) pid);
    if ((fp = fopen(path, "re")) != NULL) {
        if (fgets(buf, sizeof(buf), fp) && (cp = strrchr(buf, ')')) && cp[1] && cp[2] == 'Z')
            alive = 0;
        fclose(fp);
    }
    return alive;
}

/* postern_wait - wait up to secs for master to be gone; 1 when it is */

static int postern_wait(pid_t pid, long secs)
{
    long long deadline = (long long) time(NULL) + secs;
    int told = 0;

    for (;;) {
        if (postern_running() == 0 && !postern_alive(pid))
            return 1;
        if (time(NULL) >= deadline)
            return 0;
        if (!told && time(NULL) >= deadline - secs + 3) {
            msg_info("waiting for the postern mail system to terminate");
            told = 1;
        }
        usleep(POSTERN_POLL_MS * 1000);
    }
}

/* postern_master_path - the master program */

static char *postern_master_path(void)
{
    VSTRING *path = vstring_alloc(100);

    vstring_sprintf(path, "%s/master", var_daemon_directory);
    return vstring_export(path);
}

/* postern_start - start master; in the foreground this never returns */

static int postern_start(int foreground)
{
    char *path = postern_master_path();
    char *args[8];
    int n = 0;
    int status;
    pid_t pid;

    if (postern_running() > 0)
        msg_fatal("the postern mail system is already running");
    postern_check(0);
    msg_info("starting the postern mail system");
    args[n++] = "master";
    args[n++] = "-c";
    args[n++] = var_config_dir;
    args[n++] = foreground ? "-d" : "-w";
    if (msg_verbose)
        args[n++] = "-v";
    args[n] = NULL;
    if (foreground) {
        execv(path, args);
        msg_fatal("exec %s: %m", path);
    }
    if ((pid = fork()) < 0)
        msg_fatal("fork: %m");
    if (pid == 0) {
        execv(path, args);
        msg_fatal("exec %s: %m", path);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            msg_fatal("waitpid: %m");
    myfree(path);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    msg_warn("the postern mail system did not start");
    return 1;
}

/* postern_signal - send sig to a running master, or fail */

static pid_t postern_signal(int sig, const char *what)
{
    pid_t pid = postern_running();

    if (pid == 0)
        msg_fatal("the postern mail system is not running");
    msg_info("%s the postern mail system", what);
    if (kill(pid, sig) < 0)
        msg_fatal("send signal %d to PID %ld: %m", sig, (long) pid);
    return pid;
}

static int postern_stop(void)
{
    pid_t pid = postern_signal(SIGTERM, "stopping");

    if (postern_wait(pid, var_master_stop_time + POSTERN_STOP_EXTRA))
        return 0;
    msg_warn("stopping the postern mail system with force");
    if (getpgid(pid) == pid)
        kill(-pid, SIGKILL);                    /* master and its daemons */
    else
        kill(pid, SIGKILL);
    return postern_wait(pid, 5) ? 0 : 1;
}

static int postern_abort(void)
{
    pid_t pid = postern_signal(SIGINT, "aborting");

    return postern_wait(pid, POSTERN_ABORT_WAIT) ? 0 : 1;
}

static int postern_reload(void)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    MASTER_CF *cf;

    if (postern_running() == 0)
        msg_fatal("the postern mail system is not running");
    vstring_sprintf(path, "%s/master.cf", var_config_dir);
    if ((cf = master_cf_read(vstring_str(path), why)) == NULL)
        msg_fatal("%s", vstring_str(why));
    master_cf_free(cf);
    vstring_free(path);
    vstring_free(why);
    postern_signal(SIGHUP, "refreshing");
    return 0;
}

static int postern_status(void)
{
    pid_t pid = postern_running();

    if (pid == 0) {
        msg_info("the postern mail system is not running");
        return 1;
    }
    msg_info("the postern mail system is running: PID: %ld", (long) pid);
    return 0;
}

static int postern_flush(void)
{
    if (postern_running() == 0)
        msg_fatal("the postern mail system is not running");
    if (mail_flush_queue() < 0)
        msg_fatal("cannot flush the mail queue: %s/%s: %m", var_queue_directory,
                  MAIL_FLUSH_SERVICE_PATH);
    return 0;
}

int main(int argc, char **argv)
{
    VSTRING *buf = vstring_alloc(100);
    const char *config_dir = NULL;
    const char *command;
    int ch;

    msg_init("postern");
    msg_set_stderr(1);
    while ((ch = getopt(argc, argv, "+c:v")) != -1) {
        switch (ch) {
        case 'c':
            config_dir = optarg;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            postern_usage();
        }
    }
    if (argc - optind != 1)
        postern_usage();
    command = argv[optind];
    if (config_dir && setenv("MAIL_CONFIG", config_dir, 1) < 0)
        msg_fatal("setenv MAIL_CONFIG: %m");
    mail_conf_read(config_dir);
    mail_conf_eval();
    if (var_process_id_directory[0] == '/')
        vstring_sprintf(buf, "%s/master.pid", var_process_id_directory);
    else
        vstring_sprintf(buf, "%s/%s/master.pid", var_queue_directory, var_process_id_directory);
    postern_pid_path = vstring_export(buf);

    if (strcmp(command, "check") == 0 || strcmp(command, "set-permissions") == 0) {
        postern_check(strcmp(command, "check") == 0 ? 0 : POSTERN_CHECK_DEEP);
        return 0;
    }
    if (strcmp(command, "start") == 0)
        return postern_start(0);
    if (strcmp(command, "start-fg") == 0)
        return postern_start(1);
    if (strcmp(command, "stop") == 0)
        return postern_stop();
    if (strcmp(command, "abort") == 0)
        return postern_abort();
    if (strcmp(command, "reload") == 0)
        return postern_reload();
    if (strcmp(command, "status") == 0)
        return postern_status();
    if (strcmp(command, "flush") == 0)
        return postern_flush();
    msg_error("unknown command: \"%s\"", command);
    postern_usage();
}
