/*
 * NAME
 *	pipe_command - deliver a message to a shell command and judge its exit
 * SYNOPSIS
 *	#include "pipe_command.h"
 *
 *	int pipe_command(const PIPE_COMMAND_ARGS *args, VSTRING *dsn, VSTRING *why)
 *	int pipe_command_exit_detail(int status, const char **dsn, const char **text)
 * DESCRIPTION
 *	pipe_command() forks, and the child sets up its descriptors,
 *	identity, file size limit and working directory, then executes the
 *	shell with the command. The parent feeds the message through a
 *	stream whose write hook waits for the command's standard input and
 *	its output at the same time (poll(2)), so that a command that
 *	writes a lot before it reads cannot deadlock the delivery; output
 *	beyond PIPE_COMMAND_OUTPUT_MAX bytes is read and dropped. Every
 *	wait stops at the time limit, after which the process group is
 *	killed. SIGPIPE is ignored while the message is written (a command
 *	may exit without reading its input) and restored afterwards.
 *	See pipe_command.h for the outcome rules.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "iostuff.h"
#include "msg.h"
#include "mymalloc.h"
#include "pipe_command.h"
#include "set_ugid.h"
#include "sig.h"
#include "vstream.h"

typedef struct PIPE_IO {
    int out_fd;      /* command output, non-blocking read end */
    int out_eof;     /* output closed */
    VSTRING *output; /* first PIPE_COMMAND_OUTPUT_MAX bytes */
    struct timespec deadline;
    int has_deadline;
    int timed_out;
    int broken; /* the command closed its input */
    int err;    /* errno of a failed write to the command */
} PIPE_IO;

static const struct {
    int status;
    const char *dsn;
    const char *text;
} pipe_exits[] = {
    {64, "5.3.0", "command line usage error"},  {65, "5.6.0", "data format error"},
    {66, "5.3.0", "cannot open input"},         {67, "5.1.1", "user unknown"},
    {68, "5.1.2", "host name unknown"},         {69, "5.3.0", "service unavailable"},
    {70, "5.3.0", "internal software error"},   {71, "4.3.0", "system resource problem"},
    {72, "5.3.0", "critical OS file missing"},  {73, "5.2.0", "can't create user output file"},
    {74, "5.3.0", "input/output error"},        {75, "4.3.0", "temporary failure"},
    {76, "5.5.0", "remote error in protocol"},  {77, "5.7.0", "permission denied"},
    {78, "5.3.5", "local configuration error"},
};

int pipe_command_exit_detail(int status, const char **dsn, const char **text)
{
    for (size_t i = 0; i < sizeof(pipe_exits) / sizeof(pipe_exits[0]); i++) {
        if (pipe_exits[i].status == status) {
            *dsn = pipe_exits[i].dsn;
            *text = pipe_exits[i].text;
            return 1;
        }
    }
    return 0;
}

/* pipe_ms_left - milliseconds until the deadline; -1 = none; 0 = passed */
static int pipe_ms_left(PIPE_IO *io)
{
    struct timespec now;
    long ms;

    if (!io->has_deadline)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (io->deadline.tv_sec - now.tv_sec) * 1000 + (io->deadline.tv_nsec - now.tv_nsec) / 1000000;
    if (ms <= 0) {
        io->timed_out = 1;
        return 0;
    }
    return ms > 1000000 ? 1000000 : (int)ms;
}

/* pipe_drain - read the output that is there now */
static void pipe_drain(PIPE_IO *io)
{
    char buf[4096];
    ssize_t n;

    while (!io->out_eof) {
        n = read(io->out_fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            io->out_eof = 1;
            return;
        }
        if (vstring_len(io->output) < PIPE_COMMAND_OUTPUT_MAX) {
            size_t room = PIPE_COMMAND_OUTPUT_MAX - vstring_len(io->output);

            vstring_memcat(io->output, buf, (size_t)n < room ? (size_t)n : room);
        }
    }
}

/* pipe_write - VSTREAM write hook: write stdin, read output, watch the clock */
static ssize_t pipe_write(int fd, void *buf, size_t len, int timeout, void *context)
{
    PIPE_IO *io = context;
    struct pollfd pfd[2];
    int wait_ms;
    ssize_t n;

    (void)timeout;
    for (;;) {
        if ((wait_ms = pipe_ms_left(io)) == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        pfd[0].fd = fd;
        pfd[0].events = POLLOUT;
        pfd[1].fd = io->out_eof ? -1 : io->out_fd;
        pfd[1].events = POLLIN;
        pfd[0].revents = pfd[1].revents = 0;
        if (poll(pfd, 2, wait_ms) < 0) {
            if (errno == EINTR)
                continue;
            io->err = errno;
            return -1;
        }
        if (pfd[1].revents)
            pipe_drain(io);
        if (pfd[0].revents & (POLLOUT | POLLERR | POLLHUP)) {
            n = write(fd, buf, len);
            if (n > 0)
                return n;
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (n == 0)
                errno = EPIPE;
            if (errno == EPIPE)
                io->broken = 1;
            io->err = errno;
            return -1;
        }
    }
}

/* pipe_child - set up and execute the command; never returns */
static void pipe_child(const PIPE_COMMAND_ARGS *args, int in_fd, int out_fd)
{
    ARGV *argv = argv_split(args->shell && *args->shell ? args->shell : PIPE_COMMAND_DEF_SHELL,
                            ARGV_DELIM_SPACE);
    static char *empty_env[] = {NULL};
    struct rlimit rl;

    sig_child_reset();
    (void)setsid();
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        _exit(71);
    (void)close_range(3, ~0U, 0);
    if (getuid() == 0 || geteuid() == 0) {
        if (args->uid == 0) {
            dprintf(1, "refusing to run a command as root\n");
            _exit(75);
        }
        msg_set_cleanup(NULL); /* the parent's hook must not run here */
        set_ugid(args->uid, args->gid, args->user);
    }
    if (args->file_limit > 0) {
        rl.rlim_cur = rl.rlim_max = (rlim_t)args->file_limit;
        (void)setrlimit(RLIMIT_FSIZE, &rl);
    }
    if (args->cwd && chdir(args->cwd) < 0) {
        dprintf(1, "chdir %s: %s\n", args->cwd, strerror(errno));
        _exit(75);
    }
    argv_add(argv, args->command);
    execve(argv->argv[0], argv->argv, args->env ? args->env : empty_env);
    dprintf(1, "execute %s: %s\n", argv->argv[0], strerror(errno));
    _exit(71);
}

/* pipe_output_text - the captured output as one printable line */
static void pipe_output_text(VSTRING *output)
{
    char *cp;

    for (cp = vstring_str(output); cp < vstring_end(output); cp++)
        if (iscntrl((unsigned char)*cp))
            *cp = ' ';
    vstring_trim_right(output);
    cp = vstring_str(output);
    while (*cp == ' ')
        cp++;
    if (cp != vstring_str(output))
        vstring_strcpy(output, cp);
}

/* pipe_output_dsn - does the output start with an enhanced status code? */
static int pipe_output_dsn(const char *text, VSTRING *dsn)
{
    const char *cp = text;
    int digits;

    if (*cp != '4' && *cp != '5')
        return 0;
    cp++;
    for (int part = 0; part < 2; part++) {
        if (*cp++ != '.')
            return 0;
        for (digits = 0; isdigit((unsigned char)*cp); cp++)
            digits++;
        if (digits < 1 || digits > 3)
            return 0;
    }
    if (*cp != 0 && *cp != ' ')
        return 0;
    vstring_strncpy(dsn, text, (size_t)(cp - text));
    return 1;
}

/* pipe_judge - turn the wait status into an outcome */
static int pipe_judge(const PIPE_COMMAND_ARGS *args, PIPE_IO *io, int wstatus, VSTRING *dsn,
                      VSTRING *why)
{
    const char *out = vstring_str(io->output);
    const char *sep = *out ? ". Command output: " : "";
    const char *sx_dsn;
    const char *sx_text;
    int code;

    if (io->timed_out) {
        vstring_strcpy(dsn, "5.3.0");
        vstring_sprintf(why, "Command time limit exceeded: \"%s\"%s%s", args->command, sep, out);
        return MAILBOX_BOUNCE;
    }
    if (WIFSIGNALED(wstatus)) {
        vstring_strcpy(dsn, "4.3.0");
        vstring_sprintf(why, "Command died with signal %d: \"%s\"%s%s", WTERMSIG(wstatus),
                        args->command, sep, out);
        return MAILBOX_DEFER;
    }
    code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 255;
    if (code == 0)
        return MAILBOX_OK;
    if (pipe_output_dsn(out, dsn)) {
        vstring_strcpy(why, out);
        return mailbox_status(vstring_str(dsn));
    }
    if (pipe_command_exit_detail(code, &sx_dsn, &sx_text)) {
        vstring_strcpy(dsn, sx_dsn);
        vstring_sprintf(why, "%s%s%s", sx_text, sep, out);
        return mailbox_status(sx_dsn);
    }
    vstring_strcpy(dsn, "5.3.0");
    vstring_sprintf(why, "Command died with status %d: \"%s\"%s%s", code, args->command, sep, out);
    return MAILBOX_BOUNCE;
}

/* pipe_wait - wait for the child, within the deadline; kill it after */
static int pipe_wait(PIPE_IO *io, pid_t pid)
{
    int wstatus = 0;
    struct pollfd pfd;
    int wait_ms;
    pid_t rc;

    for (;;) {
        rc = waitpid(pid, &wstatus, WNOHANG);
        if (rc == pid)
            break;
        if (rc < 0 && errno != EINTR)
            msg_fatal("waitpid %ld: %m", (long)pid);
        if ((wait_ms = pipe_ms_left(io)) == 0) {
            (void)kill(-pid, SIGKILL);
            (void)kill(pid, SIGKILL);
            while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
                ;
            break;
        }
        /* read output while we wait; poll at most 50ms so an exit is seen */
        pfd.fd = io->out_eof ? -1 : io->out_fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, wait_ms < 0 || wait_ms > 50 ? 50 : wait_ms) > 0)
            pipe_drain(io);
    }
    pipe_drain(io);
    return wstatus;
}

int pipe_command(const PIPE_COMMAND_ARGS *args, VSTRING *dsn, VSTRING *why)
{
    struct sigaction ign, old_pipe;
    int in_pipe[2], out_pipe[2];
    PIPE_IO io;
    VSTREAM *fp;
    pid_t pid;
    int rc;
    int wstatus;
    int status;

    if ((getuid() == 0 || geteuid() == 0) && args->uid == 0) {
        vstring_strcpy(dsn, "4.3.0");
        vstring_sprintf(why, "will not run command \"%s\" as root", args->command);
        return MAILBOX_DEFER;
    }
    if (pipe2(in_pipe, O_CLOEXEC) < 0) {
        vstring_strcpy(dsn, "4.3.0");
        vstring_sprintf(why, "cannot create pipe: %m");
        return MAILBOX_DEFER;
    }
    if (pipe2(out_pipe, O_CLOEXEC) < 0) {
        vstring_strcpy(dsn, "4.3.0");
        vstring_sprintf(why, "cannot create pipe: %m");
        close(in_pipe[0]);
        close(in_pipe[1]);
        return MAILBOX_DEFER;
    }
    if ((pid = fork()) < 0) {
        vstring_strcpy(dsn, "4.3.0");
        vstring_sprintf(why, "cannot fork: %m");
        close(in_pipe[0]);
        close(in_pipe[1]);
        close(out_pipe[0]);
        close(out_pipe[1]);
        return MAILBOX_DEFER;
    }
    if (pid == 0)
        pipe_child(args, in_pipe[0], out_pipe[1]);

    close(in_pipe[0]);
    close(out_pipe[1]);
    memset(&io, 0, sizeof(io));
    io.out_fd = out_pipe[0];
    io.output = vstring_alloc(100);
    if (args->time_limit > 0) {
        clock_gettime(CLOCK_MONOTONIC, &io.deadline);
        io.deadline.tv_sec += args->time_limit;
        io.has_deadline = 1;
    }
    (void)non_blocking(in_pipe[1], 1);
    (void)non_blocking(out_pipe[0], 1);

    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    (void)sigaction(SIGPIPE, &ign, &old_pipe);
    fp = vstream_fdopen(in_pipe[1], O_WRONLY);
    vstream_set_io(fp, NULL, pipe_write, &io);
    rc = args->write_fn(fp, args->context, why);
    if (rc == MAILBOX_COPY_OK && vstream_fflush(fp) == VSTREAM_EOF)
        rc = MAILBOX_COPY_ERR_WRITE;
    vstream_set_io(fp, NULL, NULL, NULL);
    (void)vstream_fdclose(fp);
    close(in_pipe[1]);
    (void)sigaction(SIGPIPE, &old_pipe, NULL);

    if (rc == MAILBOX_COPY_ERR_READ) {
        (void)kill(-pid, SIGKILL);
        (void)kill(pid, SIGKILL);
    }
    wstatus = pipe_wait(&io, pid);
    close(out_pipe[0]);
    pipe_output_text(io.output);

    if (rc == MAILBOX_COPY_ERR_READ) {
        vstring_strcpy(dsn, "4.3.0");
        status = MAILBOX_DEFER;
    } else if (rc == MAILBOX_COPY_ERR_WRITE && !io.broken && !io.timed_out) {
        vstring_strcpy(dsn, "4.3.0");
        vstring_sprintf(why, "error writing to command \"%s\": %s", args->command,
                        strerror(io.err ? io.err : EIO));
        status = MAILBOX_DEFER;
    } else {
        status = pipe_judge(args, &io, wstatus, dsn, why);
    }
    vstring_free(io.output);
    return status;
}
