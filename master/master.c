/*
 * NAME
 *	master - the postern process supervisor
 * SYNOPSIS
 *	master [-c config_dir] [-d] [-e exit_time] [-t] [-v] [-w]
 * DESCRIPTION
 *	master runs the postern daemons that master.cf lists, on demand:
 *	it owns every listening socket, starts processes when requests
 *	wait and none is free (up to each service's process limit),
 *	replaces processes that exit, throttles programs that cannot start,
 *	sends wakeup requests, re-reads its configuration on SIGHUP and
 *	stops on SIGTERM. See master(8) for the administrator's view and
 *	master.h for the modules.
 *
 *	Options:
 *	-c config_dir	read main.cf and master.cf from config_dir.
 *	-d		stay in the foreground (postern start-fg).
 *	-e exit_time	stop, as on SIGTERM, after exit_time seconds.
 *	-t		test: exit 0 when no master runs on this queue, else 1.
 *	-v		more verbose logging (repeatable).
 *	-w		detach, and have the original process exit 0 only once
 *			the new master is listening (1 if it fails to start).
 *
 *	Start-up, in order: read main.cf; keep only the environment that
 *	$import_environment names; as root, check that mail_owner exists
 *	and is not root; check that the queue directory belongs to root
 *	(to the invoking user when not root) and is not writable by group
 *	or others; detach; lock $process_id_directory/master.pid (a second
 *	master on the same queue stops here); open every service; report
 *	"daemon started".
 *
 *	Signals: SIGHUP reloads (master_conf_reload()). SIGTERM stops
 *	gracefully: no new requests are taken, idle processes exit at once,
 *	busy ones get $master_stop_time to finish before they are sent
 *	SIGTERM (then SIGKILL); master removes master.pid and exits once
 *	they are gone. SIGINT aborts: every process is sent SIGTERM at once.
 * DIAGNOSTICS
 *	Problems at start-up are fatal, and also printed on standard error
 *	while the person who started master is still waiting for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "daemonize.h"
#include "events.h"
#include "mail_conf.h"
#include "master.h"
#include "msg.h"
#include "mymalloc.h"
#include "pid_file.h"
#include "set_ugid.h"
#include "sig.h"
#include "vstring.h"

#define MASTER_START_TIMEOUT 60   /* seconds "master -w" waits for the daemon */
#define MASTER_TERM_GRACE 2       /* seconds between SIGTERM and SIGKILL at stop */

MASTER_SERV *master_services;
int master_stopping;
int master_root;
uid_t master_owner_uid;
gid_t master_owner_gid;

static int master_pid_fd = -1;
static char *master_pid_path;
static int master_aborting;

/* master_cleanup - on the way out: the pid file goes */

static void master_cleanup(void)
{
    if (master_pid_fd >= 0)
        pid_file_remove(master_pid_fd, master_pid_path);
    master_pid_fd = -1;
}

void master_stop_done(void)
{
    master_cleanup();
    exit(0);
}

/* master_owner_init - who owns sockets and runs unprivileged daemons */

int master_owner_init(VSTRING *why)
{
    UGID_USER owner;
    int found;

    if (!master_root) {
        master_owner_uid = getuid();
        master_owner_gid = getgid();
        return 0;
    }
    if ((found = ugid_user_byname(var_mail_owner, &owner)) < 0) {
        vstring_sprintf(why, "look up mail_owner %s: %s", var_mail_owner, strerror(errno));
        return -1;
    }
    if (found == 0) {
        vstring_sprintf(why, "file %s/main.cf: parameter mail_owner: unknown user name value: %s",
                        var_config_dir, var_mail_owner);
        return -1;
    }
    if (owner.uid == 0) {
        vstring_sprintf(why, "file %s/main.cf: parameter mail_owner: user %s has privileged "
                        "user ID", var_config_dir, var_mail_owner);
        return -1;
    }
    master_owner_uid = owner.uid;
    master_owner_gid = owner.gid;
    return 0;
}

/* master_env_init - keep only $import_environment, and MAIL_CONFIG */

static void master_env_init(void)
{
    ARGV *names = argv_split(var_import_environment, ARGV_DELIM_LIST);
    ARGV *keep = argv_alloc(10);
    VSTRING *buf = vstring_alloc(100);
    const char *value;
    char *eq;

    for (int i = 0; i < names->argc; i++) {
        if (strchr(names->argv[i], '=') != NULL) {
            argv_add(keep, names->argv[i]);
        } else if ((value = getenv(names->argv[i])) != NULL) {
            vstring_sprintf(buf, "%s=%s", names->argv[i], value);
            argv_add(keep, vstring_str(buf));
        }
    }
    if (clearenv() != 0)
        msg_fatal("clear the environment: %m");
    for (int i = 0; i < keep->argc; i++) {
        eq = strchr(keep->argv[i], '=');
        *eq = 0;
        if (setenv(keep->argv[i], eq + 1, 1) < 0)
            msg_fatal("setenv %s: %m", keep->argv[i]);
    }
    if (setenv("MAIL_CONFIG", var_config_dir, 1) < 0)
        msg_fatal("setenv MAIL_CONFIG: %m");
    argv_free(names);
    argv_free(keep);
    vstring_free(buf);
}

/* master_queue_check - refuse a queue directory that others could tamper with */

static void master_queue_check(void)
{
    struct stat st;
    uid_t want = master_root ? 0 : getuid();

    if (stat(var_queue_directory, &st) < 0)
        msg_fatal("queue directory %s: %m", var_queue_directory);
    if (!S_ISDIR(st.st_mode))
        msg_fatal("queue directory %s: not a directory", var_queue_directory);
    if (st.st_uid != want)
        msg_fatal("queue directory %s is owned by UID %ld, not by %s (UID %ld); "
                  "run postern check", var_queue_directory, (long) st.st_uid,
                  master_root ? "root" : "the user who runs postern", (long) want);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        msg_fatal("queue directory %s is writable by group or others; run postern check",
                  var_queue_directory);
}

/* master_stop_kill, master_stop_term - processes that do not finish in time */

static void master_stop_kill(void *unused)
{
    (void) unused;
    master_signal_procs(SIGKILL);
    master_reap();
}

static void master_stop_term(void *unused)
{
    (void) unused;
    master_signal_procs(SIGTERM);
    event_request_timer(master_stop_kill, NULL, MASTER_TERM_GRACE * 1000L);
}

/* master_stop - stop (hard == 0) or abort */

static void master_stop(int hard, int sig)
{
    if (master_stopping) {
        if (hard && !master_aborting) {
            master_aborting = 1;
            event_cancel_timers(master_stop_term, NULL);
            master_stop_term(NULL);
        }
        return;
    }
    if (sig)
        msg_info("terminating on signal %d", sig);
    else
        msg_info("terminating: exit time reached");
    master_stopping = 1;
    master_aborting = hard;
    master_conf_stop();
    if (master_proc_count() == 0)
        master_stop_done();
    if (hard)
        master_stop_term(NULL);
    else
        event_request_timer(master_stop_term, NULL, var_master_stop_time * 1000L);
}

static void master_exit_event(void *unused)
{
    (void) unused;
    master_stop(0, 0);
}

/* master_sig_event - signals, one at a time, from the self-pipe */

static void master_sig_event(int fd, int event, void *context)
{
    int sig;

    (void) fd;
    (void) event;
    (void) context;
    while ((sig = sig_next()) != 0) {
        switch (sig) {
        case SIGCHLD:
            master_reap();
            break;
        case SIGHUP:
            if (master_stopping)
                break;
            msg_info("reload -- version %s, configuration %s", var_mail_version, var_config_dir);
            master_conf_reload();
            break;
        case SIGTERM:
            master_stop(0, sig);
            break;
        case SIGINT:
            master_stop(1, sig);
            break;
        default:
            break;
        }
    }
}

static void __attribute__((noreturn)) master_usage(void)
{
    msg_fatal("usage: master [-c config_dir] [-d] [-e exit_time] [-t] [-v] [-w]");
}

int main(int argc, char **argv)
{
    VSTRING *why = vstring_alloc(100);
    const char *config_dir = NULL;
    int foreground = 0;
    int test_mode = 0;
    int wait_ready = 0;
    long exit_time = 0;
    char *end;
    int fd;
    int ch;

    msg_init("master");
    msg_set_stderr(1);
    while ((ch = getopt(argc, argv, "c:de:tvw")) != -1) {
        switch (ch) {
        case 'c':
            config_dir = optarg;
            break;
        case 'd':
            foreground = 1;
            break;
        case 'e':
            errno = 0;
            exit_time = strtol(optarg, &end, 10);
            if (errno || *end || exit_time <= 0)
                master_usage();
            break;
        case 't':
            test_mode = 1;
            break;
        case 'v':
            msg_verbose++;
            break;
        case 'w':
            wait_ready = 1;
            break;
        default:
            master_usage();
        }
    }
    if (optind != argc)
        master_usage();

    mail_conf_read(config_dir);
    mail_conf_eval();
    vstring_sprintf(why, "%s/master.pid", var_process_id_directory);
    master_pid_path = mystrdup(vstring_str(why));

    if (test_mode) {
        if (chdir(var_queue_directory) < 0)
            exit(0);
        exit(pid_file_read(master_pid_path) > 0 ? 1 : 0);
    }

    master_root = geteuid() == 0;
    master_env_init();
    if (master_owner_init(why) < 0)
        msg_fatal("%s", vstring_str(why));
    master_queue_check();
    if (chdir(var_queue_directory) < 0)
        msg_fatal("chdir %s: %m", var_queue_directory);
    umask(022);

    if (!foreground) {
        if (daemonize(DAEMONIZE_NOCHDIR | (wait_ready ? DAEMONIZE_WAIT : 0),
                      MASTER_START_TIMEOUT) < 0)
            msg_fatal("detach: %m");
    } else if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
        if (fd != 0) {
            dup2(fd, 0);
            close(fd);
        }
    }

    if ((master_pid_fd = pid_file_open(master_pid_path, why)) < 0) {
        if (errno == EAGAIN)
            msg_fatal("the postern mail system is %s", vstring_str(why));
        msg_fatal("%s", vstring_str(why));
    }
    msg_set_cleanup(master_cleanup);

    sig_ignore_pipe();
    sig_catch(SIGQUIT, SIG_IGN, 1);
    sig_watch(SIGCHLD);
    sig_watch(SIGHUP);
    sig_watch(SIGTERM);
    sig_watch(SIGINT);
    event_enable_read(sig_watch_fd(), master_sig_event, NULL);

    master_conf_start();
    msg_set_stderr(0);
    msg_info("daemon started -- version %s, configuration %s", var_mail_version, var_config_dir);
    daemonize_ready();
    if (exit_time > 0)
        event_request_timer(master_exit_event, NULL, exit_time * 1000L);
    vstring_free(why);

    for (;;)
        event_loop(-1);
}
