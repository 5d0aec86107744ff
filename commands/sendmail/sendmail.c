/*
 * NAME
 *	sendmail - the Sendmail-compatible submission command
 * SYNOPSIS
 *	sendmail [option ...] [recipient ...]
 *	mailq
 *	newaliases
 * DESCRIPTION
 *	sendmail takes a message on standard input and hands it to
 *	postdrop(1), which stores it in maildrop/ for pickup(8). It accepts
 *	the command line that programs have always passed to Sendmail:
 *	options postern has no use for are accepted and ignored, the ones
 *	that matter behave as in Postfix. man/man1/sendmail.1 lists them.
 *
 *	This file parses the command line and runs the chosen mode:
 *	enqueue (the default: sendmail_enqueue.c), SMTP on standard input
 *	and output (-bs: sendmail_smtp.c), or one of the modes that run
 *	another command in place of sendmail: mailq and -bp run postqueue
 *	-p, newaliases, -bi and -I run postalias on $alias_database (or
 *	the -oA table), -q runs postqueue -f (or, without postqueue, asks
 *	the queue manager to flush through public/qmgr), -bd runs postern
 *	start. Invoked under the name mailq or newaliases, sendmail takes
 *	that mode.
 *
 *	Options: -C main.cf or directory (and, as in every postern
 *	command, "-c directory" when the next argument is a directory:
 *	a bare -c is Sendmail's ignored -c); -F full name; -f and -r
 *	sender; -G gateway submission (rewrite_context remote); -I; -i and
 *	-oi; -N dsn; -R return; -V envid; -B body type; -t; -v (twice or
 *	more: verbose logging); -q, -qRsite, -qIqueueid; -b mode; -oAtable.
 *	Ignored: -Am -Ac -h -L -m -n -O -o7 -o8 -om -o* -p -U -X -x -c,
 *	-bh -bH, -qinterval.
 *
 *	sendmail is not privileged: it runs with the rights of whoever
 *	runs it, and postdrop checks all it is given again.
 * DIAGNOSTICS
 *	Problems go to standard error and to the mail log. The exit status
 *	follows sysexits.h: EX_USAGE for a bad command line or a message
 *	without recipients, EX_NOPERM for a user not in
 *	authorized_submit_users, EX_DATAERR for a message larger than
 *	message_size_limit, EX_NOINPUT when standard input cannot be read,
 *	EX_UNAVAILABLE when a needed command is missing, EX_TEMPFAIL when
 *	the queue cannot take the message now; postdrop's own status
 *	otherwise.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "address.h"
#include "argv.h"
#include "cleanup_proto.h"
#include "mail_conf.h"
#include "mail_flush.h"
#include "mail_server.h"
#include "msg.h"
#include "mymalloc.h"
#include "sendmail.h"
#include "sig.h"

#define SM_MODE_ENQUEUE 1
#define SM_MODE_SMTP 2
#define SM_MODE_MAILQ 3
#define SM_MODE_NEWALIAS 4
#define SM_MODE_FLUSHQ 5
#define SM_MODE_FLUSH_SITE 6
#define SM_MODE_FLUSH_ID 7
#define SM_MODE_DAEMON 8
#define SM_MODE_VERIFY 9

uid_t sm_uid;
const char *sm_user;
int sm_dot_ends = 1;

static void __attribute__((noreturn)) sm_usage(void)
{
    msg_fatal_status(EX_USAGE, "usage: %s [options] [recipient ...]", msg_prog());
}

/* sm_std_fds - never write mail or messages into a descriptor opened later */

static void sm_std_fds(void)
{
    int fd;

    for (int i = 0; i < 3; i++) {
        if (fcntl(i, F_GETFD) >= 0)
            continue;
        if ((fd = open("/dev/null", O_RDWR)) != i)
            _exit(EX_OSERR);
    }
}

int sm_parse_notify(const char *value)
{
    ARGV *words = argv_split(value, ", \t");
    int bits = 0;

    for (int i = 0; i < words->argc && bits >= 0; i++) {
        if (strcasecmp(words->argv[i], "never") == 0)
            bits = (bits == 0 && words->argc == 1) ? DSN_NOTIFY_NEVER : -1;
        else if (strcasecmp(words->argv[i], "success") == 0)
            bits |= DSN_NOTIFY_SUCCESS;
        else if (strcasecmp(words->argv[i], "failure") == 0)
            bits |= DSN_NOTIFY_FAILURE;
        else if (strcasecmp(words->argv[i], "delay") == 0)
            bits |= DSN_NOTIFY_DELAY;
        else
            bits = -1;
    }
    argv_free(words);
    return bits == 0 ? -1 : bits;
}

int sm_parse_address(const char *text, VSTRING *addr)
{
    VSTRING *why = vstring_alloc(60);
    ARGV *list;
    int status = -1;

    if (*text == 0 || strcmp(text, "<>") == 0) {
        vstring_strcpy(addr, "");
        status = 0;
    } else if ((list = address_parse_list(text, strlen(text), why)) != NULL) {
        if (list->argc == 1) {
            vstring_strcpy(addr, list->argv[0]);
            status = 0;
        }
        argv_free(list);
    } else if (address_parse_path(text, strlen(text), ADDRESS_NULL_OK | ADDRESS_UTF8, addr, NULL,
                                  why) == 0) {
        status = 0;
    }
    vstring_free(why);
    return status;
}

/* sm_add_recipients - one command-line argument: an address list */

static void sm_add_recipients(SM_ENVELOPE *env, const char *arg, int notify)
{
    VSTRING *why = vstring_alloc(60);
    VSTRING *addr = vstring_alloc(60);
    ARGV *list;

    if ((list = address_parse_list(arg, strlen(arg), why)) != NULL) {
        for (int i = 0; i < list->argc; i++)
            sm_envelope_add_rcpt(env, list->argv[i], notify, NULL);
        argv_free(list);
    } else if (address_parse_path(arg, strlen(arg), ADDRESS_UTF8, addr, NULL, why) == 0 &&
               vstring_len(addr) > 0) {
        sm_envelope_add_rcpt(env, vstring_str(addr), notify, NULL);
    } else {
        msg_fatal_status(EX_USAGE, "bad recipient address syntax: %s", arg);
    }
    vstring_free(why);
    vstring_free(addr);
}

/* sm_clean_name - a full name fit for a header: no control characters, bounded */

static char *sm_clean_name(const char *name)
{
    VSTRING *buf = vstring_alloc(60);

    for (const char *cp = name; *cp && vstring_len(buf) < MAILDROP_FULL_NAME_MAX; cp++)
        vstring_addch(buf, ((unsigned char)*cp < 0x20 || *cp == 0x7f) ? ' ' : *cp);
    vstring_trim_right(buf);
    while (vstring_len(buf) > 0 && vstring_str(buf)[0] == ' ')
        vstring_strcpy(buf, vstring_str(buf) + 1);
    if (vstring_len(buf) == 0) {
        vstring_free(buf);
        return NULL;
    }
    return vstring_export(buf);
}

/* sm_full_name - -F, else $NAME, else the password file's GECOS field */

static char *sm_full_name(const char *option)
{
    VSTRING *buf;
    struct passwd *pw;
    const char *env;
    char *result;

    if (option)
        return sm_clean_name(option);
    if ((env = getenv("NAME")) != NULL && *env)
        return sm_clean_name(env);
    if ((pw = getpwuid(sm_uid)) == NULL || pw->pw_gecos == NULL)
        return NULL;
    buf = vstring_alloc(60);
    for (const char *cp = pw->pw_gecos; *cp && *cp != ','; cp++) {
        if (*cp == '&') { /* the login name, capitalised */
            for (const char *np = pw->pw_name; *np; np++)
                vstring_addch(buf, np == pw->pw_name ? toupper((unsigned char)*np) : *np);
        } else {
            vstring_addch(buf, *cp);
        }
        if (vstring_len(buf) > MAILDROP_FULL_NAME_MAX)
            break;
    }
    result = sm_clean_name(vstring_str(buf));
    vstring_free(buf);
    return result;
}

/* sm_envid_ok - RFC 3461 ENVID: printable US-ASCII, at most 100 bytes */

static int sm_envid_ok(const char *envid)
{
    size_t len = strlen(envid);

    if (len == 0 || len > MAILDROP_ENVID_MAX)
        return 0;
    for (const char *cp = envid; *cp; cp++)
        if ((unsigned char)*cp < 0x20 || (unsigned char)*cp > 0x7e)
            return 0;
    return 1;
}

/* sm_config_option - "-c dir": the postern way to name the configuration */

static const char *sm_config_option(int *argc, char **argv)
{
    static const char with_arg[] = "ABCFLNORVXbfhopr";
    const char *dir = NULL;
    struct stat st;
    int i;

    for (i = 1; i < *argc; i++) {
        const char *arg = argv[i];

        if (arg[0] != '-' || arg[1] == 0 || strcmp(arg, "--") == 0)
            break;
        if (strcmp(arg, "-c") == 0 && i + 1 < *argc && argv[i + 1][0] == '/' &&
            stat(argv[i + 1], &st) == 0 && S_ISDIR(st.st_mode)) {
            dir = argv[i + 1];
            memmove(argv + i, argv + i + 2, sizeof(char *) * (size_t)(*argc - i - 1));
            *argc -= 2;
            i--;
            continue;
        }
        /* skip a separate option argument */
        if (arg[2] == 0 && strchr(with_arg, arg[1]) != NULL)
            i++;
    }
    return dir;
}

/* sm_command_path - $command_directory/name, or fatal when it cannot run */

static char *sm_command_path(const char *name)
{
    VSTRING *path = vstring_alloc(100);

    vstring_sprintf(path, "%s/%s", var_command_directory, name);
    if (access(vstring_str(path), X_OK) < 0)
        msg_fatal_status(EX_UNAVAILABLE, "%s: not available", name);
    return vstring_export(path);
}

/* sm_exec - run another postern command in place of sendmail */

static void __attribute__((noreturn)) sm_exec(ARGV *args)
{
    vstream_fflush(VSTREAM_OUT);
    signal(SIGPIPE, SIG_DFL);
    execv(args->argv[0], args->argv);
    msg_fatal_status(EX_UNAVAILABLE, "execute %s: %m", args->argv[0]);
}

/* sm_command - args for running command_directory/name */

static ARGV *sm_command(const char *name)
{
    ARGV *args = argv_alloc(8);
    char *path = sm_command_path(name);

    argv_add(args, path);
    myfree(path);
    for (int i = 0; i < msg_verbose && i < 5; i++)
        argv_add(args, "-v");
    return args;
}

/* sm_newaliases - postalias on the -oA tables or $alias_database */

static int sm_newaliases(ARGV *alias_files)
{
    ARGV *tables =
        alias_files->argc > 0 ? alias_files : argv_split(var_alias_database, ARGV_DELIM_LIST);
    ARGV *args;

    if (tables->argc == 0)
        return 0;
    args = sm_command("postalias");
    for (int i = 0; i < tables->argc; i++)
        argv_add(args, tables->argv[i]);
    sm_exec(args);
}

/* sm_flush - postqueue -f, or without postqueue a flush request to qmgr */

static int sm_flush(void)
{
    VSTRING *path = vstring_alloc(100);
    ARGV *args;

    vstring_sprintf(path, "%s/postqueue", var_command_directory);
    if (access(vstring_str(path), X_OK) == 0) {
        args = sm_command("postqueue");
        argv_add(args, "-f");
        sm_exec(args);
    }
    vstring_free(path);
    if (mail_flush_queue() < 0)
        msg_fatal_status(EX_UNAVAILABLE, "cannot flush the mail queue: %s/%s: %m",
                         var_queue_directory, MAIL_FLUSH_SERVICE_PATH);
    return 0;
}

/* sm_submit_check - authorized_submit_users */

static void sm_submit_check(void)
{
    VSTRING *why = vstring_alloc(60);
    int status = maildrop_submit_ok(sm_user, why);

    if (status < 0)
        msg_fatal_status(EX_TEMPFAIL, "%s(%ld): %s", sm_user, (long)sm_uid, vstring_str(why));
    if (status == 0)
        msg_fatal_status(EX_NOPERM, "User %s(%ld) is not allowed to submit mail", sm_user,
                         (long)sm_uid);
    vstring_free(why);
}

int main(int argc, char **argv)
{
    SM_ENVELOPE env;
    ARGV *alias_files = argv_alloc(1);
    VSTRING *addr = vstring_alloc(60);
    const char *config_dir;
    const char *sender = NULL;
    const char *full_name = NULL;
    const char *site = NULL;
    const char *slash;
    const char *prog;
    struct passwd *pw;
    struct stat st;
    ARGV *args;
    char *dir;
    int mode = SM_MODE_ENQUEUE;
    int verbose = 0;
    int notify = 0;
    int ch;

    sm_std_fds();
    prog = (slash = strrchr(argv[0], '/')) != NULL && slash[1] ? slash + 1 : argv[0];
    msg_init(prog);
    msg_set_stderr(1);
    sig_ignore_pipe();
    if (strcmp(prog, "mailq") == 0)
        mode = SM_MODE_MAILQ;
    else if (strcmp(prog, "newaliases") == 0)
        mode = SM_MODE_NEWALIAS;
    sm_envelope_init(&env);

    config_dir = sm_config_option(&argc, argv);
    opterr = 0;
    while ((ch = getopt(argc, argv, "+A:B:C:F:GIL:N:O:R:UV:X:b:cf:h:imno:p:q::r:tvx")) != -1) {
        switch (ch) {
        case 'A':
        case 'L':
        case 'O':
        case 'h':
        case 'p':
        case 'U':
        case 'c':
        case 'm':
        case 'n':
        case 'x':
            break; /* ignored, as in Postfix */
        case 'B':
            if (strcasecmp(optarg, "8bitmime") == 0)
                env.encoding = "8bit";
            else if (strcasecmp(optarg, "7bit") == 0)
                env.encoding = "7bit";
            else
                msg_fatal_status(EX_USAGE, "-B option needs 8BITMIME or 7BIT");
            break;
        case 'C':
            config_dir = optarg;
            break;
        case 'F':
            full_name = optarg;
            break;
        case 'G':
            env.rewrite = "remote";
            break;
        case 'I':
            mode = SM_MODE_NEWALIAS;
            break;
        case 'i':
            sm_dot_ends = 0;
            break;
        case 'N':
            if ((notify = sm_parse_notify(optarg)) < 0)
                msg_fatal_status(EX_USAGE, "bad -N option value: %s", optarg);
            break;
        case 'R':
            if (strcasecmp(optarg, "hdrs") == 0)
                env.dsn_ret = "HDRS";
            else if (strcasecmp(optarg, "full") == 0)
                env.dsn_ret = "FULL";
            else
                msg_fatal_status(EX_USAGE, "-R option needs hdrs or full");
            break;
        case 'V':
            if (!sm_envid_ok(optarg))
                msg_fatal_status(EX_USAGE,
                                 "bad -V option value: envid must be 1 to %d "
                                 "printable ASCII characters",
                                 MAILDROP_ENVID_MAX);
            myfree(env.dsn_envid);
            env.dsn_envid = mystrdup(optarg);
            break;
        case 'X':
            if (optarg[0] == 'V' && strlen(optarg) <= 3)
                msg_warn("-XV: variable envelope return paths are not supported; "
                         "option ignored");
            break; /* -X log_file: ignored */
        case 'b':
            switch (optarg[0]) {
            case 'm':
                mode = SM_MODE_ENQUEUE;
                break;
            case 's':
                mode = SM_MODE_SMTP;
                break;
            case 'p':
                mode = SM_MODE_MAILQ;
                break;
            case 'i':
                mode = SM_MODE_NEWALIAS;
                break;
            case 'd':
            case 'l':
                mode = SM_MODE_DAEMON;
                break;
            case 'v':
                mode = SM_MODE_VERIFY;
                break;
            case 'h':
            case 'H':
                break;
            default:
                msg_fatal_status(EX_USAGE, "unsupported: -%c%c", ch, optarg[0]);
            }
            if (optarg[0] && optarg[1])
                msg_fatal_status(EX_USAGE, "unsupported: -%c%s", ch, optarg);
            break;
        case 'f':
        case 'r':
            sender = optarg;
            break;
        case 'o':
            if (optarg[0] == 'A') {
                if (optarg[1] == 0)
                    msg_fatal_status(EX_USAGE, "-oA requires the name of an alias database");
                argv_add(alias_files, optarg + 1);
            } else if (optarg[0] == 'i') {
                sm_dot_ends = 0;
            }
            break; /* -o7 -o8 -om -o*: ignored */
        case 'q':
            if (optarg == NULL) {
                mode = SM_MODE_FLUSHQ;
            } else if (optarg[0] == 'R') {
                mode = SM_MODE_FLUSH_SITE;
                site = optarg + 1;
            } else if (optarg[0] == 'I') {
                mode = SM_MODE_FLUSH_ID;
                site = optarg + 1;
            } else if (optarg[0] == 'S') {
                msg_fatal_status(EX_UNAVAILABLE, "-qS is not implemented; use \"sendmail -q\"");
            } else if (!isdigit((unsigned char)optarg[0])) {
                msg_fatal_status(EX_USAGE, "bad -q option: -q%s", optarg);
            }
            break; /* -qinterval: ignored */
        case 't':
            env.extract = 1;
            break;
        case 'v':
            verbose++;
            break;
        default:
            msg_error("unknown option: -%c", optopt ? optopt : '?');
            sm_usage();
        }
    }
    if (verbose > 1)
        msg_verbose = verbose - 1;

    /* configuration: -C names main.cf or its directory */
    if (config_dir) {
        if (stat(config_dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
            dir = mystrdup(config_dir);
            if ((slash = strrchr(dir, '/')) != NULL)
                dir[slash == dir ? 1 : slash - dir] = 0;
            else
                strcpy(dir, ".");
            config_dir = dir;
        }
        if (setenv("MAIL_CONFIG", config_dir, 1) < 0)
            msg_fatal_status(EX_OSERR, "setenv MAIL_CONFIG: %m");
    }
    mail_conf_read(config_dir);
    mail_conf_eval();
    msg_set_syslog_name(var_syslog_name);
    if (var_maillog_file[0] && access(var_maillog_file, W_OK) == 0)
        msg_set_logfile(var_maillog_file);

    sm_uid = getuid();
    if ((pw = getpwuid(sm_uid)) == NULL)
        msg_fatal_status(EX_OSERR, "no login name found for user ID %lu", (unsigned long)sm_uid);
    sm_user = mystrdup(pw->pw_name);

    switch (mode) {
    case SM_MODE_MAILQ:
        args = sm_command("postqueue");
        argv_add(args, "-p");
        sm_exec(args);
    case SM_MODE_NEWALIAS:
        return sm_newaliases(alias_files);
    case SM_MODE_FLUSHQ:
        return sm_flush();
    case SM_MODE_FLUSH_SITE:
    case SM_MODE_FLUSH_ID:
        args = sm_command("postqueue");
        argv_add(args, mode == SM_MODE_FLUSH_SITE ? "-s" : "-i");
        argv_add(args, site);
        sm_exec(args);
    case SM_MODE_DAEMON:
        args = sm_command("postern");
        argv_add(args, "start");
        sm_exec(args);
    case SM_MODE_VERIFY:
        msg_fatal_status(EX_UNAVAILABLE, "-bv: address verification reports are not supported");
    default:
        break;
    }

    /* SMTP or enqueue: a message from this user */
    sm_submit_check();
    env.full_name = sm_full_name(full_name);
    myfree(env.sender);
    if (sender == NULL) {
        env.sender = mystrdup(sm_user);
    } else {
        if (sm_parse_address(sender, addr) < 0)
            msg_fatal_status(EX_USAGE, "-f option specified malformed sender: %s", sender);
        env.sender = mystrdup(vstring_str(addr));
    }
    if (mode == SM_MODE_SMTP)
        return sm_smtp(&env);

    for (int i = optind; i < argc; i++)
        if (argv[i][0])
            sm_add_recipients(&env, argv[i], notify);
    if (env.rcpt_count == 0 && !env.extract)
        msg_fatal_status(EX_USAGE, "Recipient addresses must be specified on the command line "
                                   "or via the -t option");
    if (env.extract)
        env.dsn_notify = notify;
    return sm_enqueue(&env);
}
