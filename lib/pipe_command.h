#ifndef POSTERN_PIPE_COMMAND_H
#define POSTERN_PIPE_COMMAND_H
/*
 * pipe_command - deliver a message to a shell command and judge its exit
 *
 * pipe_command(args, dsn, why) runs args->command and feeds it a message:
 *   - the command runs as argv = args->shell split on white space, plus
 *     the command as the last argument ("/bin/sh -c" when shell is NULL
 *     or empty), with exactly the environment args->env (a NULL-terminated
 *     "NAME=value" list; NULL = empty), in args->cwd (NULL: unchanged),
 *     in a new process group, with every descriptor above 2 closed;
 *   - when the caller is root the child permanently becomes args->uid /
 *     args->gid (supplementary groups of args->user, or gid alone when
 *     user is NULL) before it runs anything; uid 0 is refused (the
 *     command never runs as root; the delivery is deferred). A caller
 *     that is not root runs the command as itself;
 *   - args->file_limit (0 = none) becomes RLIMIT_FSIZE of the command
 *     (mailbox_size_limit: a limit on every file the command writes);
 *   - standard input receives what args->write_fn(stream, args->context,
 *     why) writes; standard output and standard error are captured
 *     together, the first PIPE_COMMAND_OUTPUT_MAX bytes kept;
 *   - after args->time_limit seconds (0 = none) the whole process group
 *     is killed with SIGKILL.
 * A command that exits before it has read all of its input is not an
 * error by itself: only its exit status counts.
 *
 * Result (Postfix's rules for command delivery):
 *   exit 0                      MAILBOX_OK
 *   time limit                  MAILBOX_BOUNCE 5.3.0 "Command time limit
 *                               exceeded: "CMD""
 *   killed by a signal          MAILBOX_DEFER 4.3.0 "Command died with
 *                               signal N: "CMD""
 *   non-zero, and the output    the code of the output decides (4.x.x
 *   starts with "X.Y.Z "        DEFER, 5.x.x BOUNCE); why is the output
 *   a sysexits.h code 64..78    the table below; why is its text
 *   any other non-zero N        MAILBOX_BOUNCE 5.3.0 "Command died with
 *                               status N: "CMD""
 * with ". Command output: OUTPUT" appended whenever the command wrote
 * something (control characters and line breaks become spaces).
 * sysexits: 64 5.3.0 command line usage error, 65 5.6.0 data format
 * error, 66 5.3.0 cannot open input, 67 5.1.1 user unknown, 68 5.1.2
 * host name unknown, 69 5.3.0 service unavailable, 70 5.3.0 internal
 * software error, 71 4.3.0 system resource problem, 72 5.3.0 critical OS
 * file missing, 73 5.2.0 can't create user output file, 74 5.3.0
 * input/output error, 75 4.3.0 temporary failure, 76 5.5.0 remote error
 * in protocol, 77 5.7.0 permission denied, 78 5.3.5 local configuration
 * error. Only 71 and 75 are temporary.
 * Failures before the command runs (no pipe, no fork) and queue file
 * read errors in write_fn are MAILBOX_DEFER 4.3.0 with a reason.
 *
 * pipe_command_exit_detail(status, dsn, text) gives the table entry for
 * a sysexits code: 1 when status is in 64..78, else 0.
 */
#include <sys/types.h>

#include "mailbox_copy.h"
#include "vstring.h"

#define PIPE_COMMAND_OUTPUT_MAX 1000 /* bytes of command output kept */
#define PIPE_COMMAND_DEF_SHELL "/bin/sh -c"

typedef struct PIPE_COMMAND_ARGS {
    const char *command; /* the command text */
    const char *shell;   /* "/bin/sh -c" style prefix; NULL/"" = default */
    char **env;          /* whole environment; NULL = empty */
    const char *cwd;     /* working directory of the command, or NULL */
    uid_t uid;           /* identity of the command (root callers) */
    gid_t gid;
    const char *user;          /* group list of this user; NULL = gid alone */
    int time_limit;            /* seconds; 0 = none */
    off_t file_limit;          /* RLIMIT_FSIZE; 0 = none */
    MAILBOX_WRITE_FN write_fn; /* writes the message to standard input */
    void *context;
} PIPE_COMMAND_ARGS;

int pipe_command(const PIPE_COMMAND_ARGS *args, VSTRING *dsn, VSTRING *why);
int pipe_command_exit_detail(int status, const char **dsn, const char **text);

#endif
