/*
 * NAME
 *	postsuper - queue maintenance for the super-user
 * SYNOPSIS
 *	postsuper [-psv] [-c config_dir] [-d queue_id] [-h queue_id]
 *		[-H queue_id] [-r queue_id] [queue ...]
 * DESCRIPTION
 *	postsuper deletes, holds, releases and requeues messages and checks
 *	the structure of the queue. Only root and mail_owner may run it.
 *	Operations run in this order, whatever the order of the options:
 *	-s, -p, -d, -h, -H, -r; without any of them, -s and -p.
 *
 *	-d queue_id	Delete the message and its defer, bounce and trace
 *			notes (default queues: hold incoming active deferred).
 *	-h queue_id	Put the message on hold: move it to hold/, where
 *			qmgr never looks (default: incoming active deferred).
 *	-H queue_id	Release a held message into deferred/, due now
 *			(default: hold).
 *	-r queue_id	Requeue: write the message again into maildrop/,
 *			so that pickup(8) and cleanup(8) process it anew
 *			(address rewriting, virtual aliases, checks), with
 *			the recipients that are not yet delivered; the
 *			original is then removed (postsuper_requeue.c)
 *			(default: hold incoming active deferred).
 *	Each of these may be repeated. queue_id ALL (upper case) means
 *	every message in the queues; "-" reads queue IDs from standard
 *	input, one per line. Every queue ID is checked with queue_id_ok()
 *	before anything is done; one bad ID ends the program with nothing
 *	changed. Queue arguments replace the default queues (each must be
 *	one of maildrop incoming active deferred hold, and fit the
 *	operation).
 *	-s	Structure check and repair (postsuper_struct.c).
 *	-p	Purge temporary files left by crashed programs.
 *	-c config_dir	Read main.cf in config_dir.
 *	-v	More verbose logging.
 *
 *	Locking (postsuper.h): a message is changed only under the
 *	exclusive lock qmgr takes before it moves a file into active/. A
 *	message that a delivery agent holds, or that qmgr is taking right
 *	now, is skipped with a warning. While master(8) runs, a message in
 *	active/ belongs to qmgr (it keeps the message's state in memory
 *	and no lock on the file between deliveries), so postsuper leaves
 *	it alone with a warning; when the mail system is stopped, active/
 *	is handled like the other queues (qmgr returns it to incoming/ at
 *	start-up). Files in incoming/ that cleanup(8) is still writing
 *	(mode 0600) are skipped too.
 * DIAGNOSTICS
 *	Postfix's lines, on standard error and in the mail log:
 *	"QUEUE_ID: removed", "QUEUE_ID: placed on hold", "QUEUE_ID:
 *	released from hold", "QUEUE_ID: requeued", and per operation
 *	"Deleted: N messages", "Placed on hold: N messages", "Released
 *	from hold: N messages", "Requeued: N messages" (when N > 0).
 *	Exit status 1 for a bad command line, a bad queue ID, a user who
 *	is not root or mail_owner, or a queue directory that cannot be
 *	read; 0 otherwise.
 * SEE ALSO
 *	postsuper(1), postqueue(1), qmgr(8)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "lock_file.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "pid_file.h"
#include "postsuper.h"
#include "qfile.h"
#include "queue_id.h"
#include "safe_open.h"
#include "set_ugid.h"
#include "vstream.h"
#include "vstring.h"

#define PS_DELETE 0
#define PS_HOLD 1
#define PS_RELEASE 2
#define PS_REQUEUE 3
#define PS_NOPS 4

typedef struct PS_OP {
    int option;              /* command-line letter */
    const char *allowed[6];  /* queues the operation applies to */
    const char *defaults[6]; /* the queues it uses by default */
    const char *verb;        /* per message: "QUEUE_ID: verb" */
    const char *summary;     /* "Summary: N messages" */
} PS_OP;

static const PS_OP ps_ops[PS_NOPS] = {
    {'d',
     {"maildrop", "incoming", "active", "deferred", "hold", NULL},
     {"hold", "incoming", "active", "deferred", NULL},
     "removed",
     "Deleted"},
    {'h',
     {"incoming", "active", "deferred", NULL},
     {"incoming", "active", "deferred", NULL},
     "placed on hold",
     "Placed on hold"},
    {'H', {"hold", NULL}, {"hold", NULL}, "released from hold", "Released from hold"},
    {'r',
     {"incoming", "active", "deferred", "hold", NULL},
     {"hold", "incoming", "active", "deferred", NULL},
     "requeued",
     "Requeued"},
};

int ps_master_running;

static ARGV *ps_ids[PS_NOPS]; /* queue IDs per operation */
static int ps_all[PS_NOPS];   /* ALL given */
static ARGV *ps_stdin_ids;    /* read once for every "-" */

/* ---------------------------------------------------------------- */
/* shared file handling (postsuper.h) */

int ps_open(const char *queue, const char *id, struct stat *st)
{
    VSTRING *path = vstring_alloc(50);
    int maildrop = strcmp(queue, "maildrop") == 0;
    struct stat now;
    int fd;
    int ret = PS_SKIPPED;

    vstring_sprintf(path, "%s/%s", queue, id);
    if (strcmp(queue, "active") == 0 && ps_master_running) {
        if (lstat(vstring_str(path), &now) < 0) {
            ret = PS_MISSING;
        } else {
            msg_warn("%s: left alone: the queue manager is delivering it (queue active); "
                     "try again later",
                     id);
        }
        goto out;
    }
    fd = open(vstring_str(path), (maildrop ? O_RDONLY : O_RDWR) | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            ret = PS_MISSING;
        else
            msg_warn("%s: open %s: %m", id, vstring_str(path));
        goto out;
    }
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
        msg_warn("%s: %s is not a regular file: left alone (see postsuper -s)", id,
                 vstring_str(path));
        close(fd);
        goto out;
    }
    if (strcmp(queue, "incoming") == 0 && (st->st_mode & 07777) != 0700) {
        msg_warn("%s: left alone: still being written (queue incoming)", id);
        close(fd);
        goto out;
    }
    if (!maildrop && lock_file(fd, LOCK_FILE_EXCLUSIVE | LOCK_FILE_NONBLOCK) < 0) {
        if (errno == EAGAIN || errno == EACCES)
            msg_warn("%s: left alone: in use by the mail system (queue %s); try again later", id,
                     queue);
        else
            msg_warn("%s: lock %s: %m", id, vstring_str(path));
        close(fd);
        goto out;
    }
    /* qmgr may have moved it between our open and our lock */
    if (lstat(vstring_str(path), &now) < 0 || now.st_ino != st->st_ino ||
        now.st_dev != st->st_dev) {
        close(fd);
        ret = PS_MISSING;
        goto out;
    }
    ret = fd;
out:
    vstring_free(path);
    return ret;
}

/* ps_rename - move QUEUE/ID, never over an existing file; 0 or -1 (logged) */

int ps_rename(const char *from_queue, const char *to_queue, const char *id)
{
    VSTRING *from = vstring_alloc(50);
    VSTRING *to = vstring_alloc(50);
    struct stat st;
    int ret;

    vstring_sprintf(from, "%s/%s", from_queue, id);
    vstring_sprintf(to, "%s/%s", to_queue, id);
    ret = renameat2(AT_FDCWD, vstring_str(from), AT_FDCWD, vstring_str(to), RENAME_NOREPLACE);
    if (ret < 0 && (errno == EINVAL || errno == ENOSYS)) {
        if (lstat(vstring_str(to), &st) == 0)
            errno = EEXIST;
        else
            ret = rename(vstring_str(from), vstring_str(to));
    }
    if (ret < 0)
        msg_warn("%s: move %s to %s: %m", id, vstring_str(from), vstring_str(to));
    else if (safe_fsync_dir(vstring_str(to)) < 0 || safe_fsync_dir(vstring_str(from)) < 0)
        msg_warn("%s: sync queue directories: %m", id);
    vstring_free(from);
    vstring_free(to);
    return ret;
}

static const char *ps_note_dirs[] = {"defer", "bounce", "trace", NULL};

void ps_remove_notes(const char *id)
{
    VSTRING *path = vstring_alloc(50);

    for (int i = 0; ps_note_dirs[i]; i++) {
        vstring_sprintf(path, "%s/%s", ps_note_dirs[i], id);
        if (unlink(vstring_str(path)) < 0 && errno != ENOENT)
            msg_warn("%s: remove %s: %m", id, vstring_str(path));
    }
    vstring_free(path);
}

void ps_rename_notes(const char *id, const char *new_id)
{
    VSTRING *from = vstring_alloc(50);
    VSTRING *to = vstring_alloc(50);

    for (int i = 0; ps_note_dirs[i]; i++) {
        vstring_sprintf(from, "%s/%s", ps_note_dirs[i], id);
        vstring_sprintf(to, "%s/%s", ps_note_dirs[i], new_id);
        if (rename(vstring_str(from), vstring_str(to)) < 0 && errno != ENOENT)
            msg_warn("%s: rename %s to %s: %m", id, vstring_str(from), vstring_str(to));
    }
    vstring_free(from);
    vstring_free(to);
}

/* ---------------------------------------------------------------- */
/* the operations on one message: 1 done, 0 not there, -1 left alone */

static int ps_delete(const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(50);
    struct stat st;
    int fd;
    int ret = -1;

    if ((fd = ps_open(queue, id, &st)) < 0) {
        ret = fd == PS_MISSING ? 0 : -1;
        goto out;
    }
    vstring_sprintf(path, "%s/%s", queue, id);
    if (unlink(vstring_str(path)) < 0) {
        msg_warn("%s: remove %s: %m", id, vstring_str(path));
    } else {
        ps_remove_notes(id);
        ret = 1;
    }
    close(fd);
out:
    vstring_free(path);
    return ret;
}

static int ps_hold(const char *queue, const char *id)
{
    struct stat st;
    int fd;
    int ret;

    if ((fd = ps_open(queue, id, &st)) < 0)
        return fd == PS_MISSING ? 0 : -1;
    ret = ps_rename(queue, "hold", id) == 0 ? 1 : -1;
    close(fd);
    return ret;
}

static int ps_release(const char *queue, const char *id)
{
    struct stat st;
    int fd;
    int ret;

    if ((fd = ps_open(queue, id, &st)) < 0)
        return fd == PS_MISSING ? 0 : -1;
    /* the modification time is qmgr's next attempt time: now */
    if (futimens(fd, NULL) < 0)
        msg_warn("%s: set the next delivery time: %m", id);
    ret = ps_rename(queue, "deferred", id) == 0 ? 1 : -1;
    close(fd);
    return ret;
}

static int ps_do(int op, const char *queue, const char *id)
{
    switch (op) {
    case PS_DELETE:
        return ps_delete(queue, id);
    case PS_HOLD:
        return ps_hold(queue, id);
    case PS_RELEASE:
        return ps_release(queue, id);
    default:
        return ps_requeue(queue, id);
    }
}

/* ---------------------------------------------------------------- */
/* queues and queue IDs from the command line */

static int ps_in_list(const char *const *list, const char *name)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

/* ps_queues - the queues operation op works on */

static ARGV *ps_queues(int op, ARGV *named)
{
    ARGV *queues = argv_alloc(6);

    if (named->argc == 0) {
        for (int i = 0; ps_ops[op].defaults[i]; i++)
            argv_add(queues, ps_ops[op].defaults[i]);
    } else {
        for (int i = 0; i < named->argc; i++)
            if (ps_in_list(ps_ops[op].allowed, named->argv[i]))
                argv_add(queues, named->argv[i]);
        if (queues->argc == 0)
            msg_fatal("-%c: none of the named queues applies to this operation", ps_ops[op].option);
    }
    return queues;
}

static int ps_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static ARGV *ps_list_queue(const char *queue)
{
    ARGV *names = argv_alloc(32);
    struct dirent *dp;
    DIR *dir;

    if ((dir = opendir(queue)) == NULL) {
        if (errno != ENOENT)
            msg_fatal("open queue directory %s: %m", queue);
        return names;
    }
    while ((dp = readdir(dir)) != NULL)
        if (queue_id_ok(dp->d_name))
            argv_add(names, dp->d_name);
    closedir(dir);
    qsort(names->argv, (size_t)names->argc, sizeof(names->argv[0]), ps_cmp);
    return names;
}

static void ps_read_stdin(void)
{
    VSTRING *line = vstring_alloc(100);
    char *cp;
    char *end;

    ps_stdin_ids = argv_alloc(32);
    while (vstream_get_line(VSTREAM_IN, line, 1024) != VSTREAM_EOF) {
        for (cp = vstring_str(line); *cp == ' ' || *cp == '\t'; cp++)
            /* skip */;
        for (end = cp + strlen(cp); end > cp && strchr(" \t\r\n", end[-1]); end--)
            /* trim */;
        *end = 0;
        if (*cp == 0)
            continue;
        if (!queue_id_ok(cp))
            msg_fatal("invalid mail queue ID: %.100s", cp);
        argv_add(ps_stdin_ids, cp);
    }
    vstring_free(line);
}

static void ps_add_id(int op, const char *arg)
{
    if (strcmp(arg, "ALL") == 0) {
        ps_all[op] = 1;
    } else if (strcmp(arg, "-") == 0) {
        if (ps_stdin_ids == NULL)
            ps_read_stdin();
        for (int i = 0; i < ps_stdin_ids->argc; i++)
            argv_add(ps_ids[op], ps_stdin_ids->argv[i]);
    } else {
        if (!queue_id_ok(arg))
            msg_fatal("invalid mail queue ID: %.100s", arg);
        argv_add(ps_ids[op], arg);
    }
}

static void ps_run(int op, ARGV *named)
{
    ARGV *queues = ps_queues(op, named);
    ARGV *names;
    int count = 0;
    int result;

    if (ps_all[op]) {
        for (int q = 0; q < queues->argc; q++) {
            names = ps_list_queue(queues->argv[q]);
            for (int i = 0; i < names->argc; i++)
                if ((result = ps_do(op, queues->argv[q], names->argv[i])) > 0) {
                    msg_info("%s: %s", names->argv[i], ps_ops[op].verb);
                    count++;
                }
            argv_free(names);
        }
    }
    for (int i = 0; i < ps_ids[op]->argc; i++) {
        result = 0;
        for (int q = 0; q < queues->argc && result == 0; q++)
            result = ps_do(op, queues->argv[q], ps_ids[op]->argv[i]);
        if (result > 0) {
            msg_info("%s: %s", ps_ids[op]->argv[i], ps_ops[op].verb);
            count++;
        } else if (result == 0 && msg_verbose) {
            msg_info("%s: not found", ps_ids[op]->argv[i]);
        }
    }
    if (count > 0)
        msg_info("%s: %d message%s", ps_ops[op].summary, count, count == 1 ? "" : "s");
    argv_free(queues);
}

/* ps_check_user - root, or mail_owner */

static void ps_check_user(void)
{
    UGID_USER owner;

    if (getuid() == 0)
        return;
    if (ugid_user_byname(var_mail_owner, &owner) == 1 && owner.uid == getuid())
        return;
    msg_fatal("use of this command is reserved for the superuser");
}

static void __attribute__((noreturn)) ps_usage(void)
{
    msg_fatal("usage: postsuper [-psv] [-c config_dir] [-d queue_id] [-h queue_id] "
              "[-H queue_id] [-r queue_id] [queue ...]");
}

int main(int argc, char **argv)
{
    const char *config_dir = NULL;
    VSTRING *pid_path = vstring_alloc(100);
    ARGV *named = argv_alloc(6);
    ARGV *pending = argv_alloc(8); /* operation letter, argument, ... */
    char letter[2] = {0, 0};
    int do_struct = 0, do_purge = 0;
    int renamed = 0, moved = 0, fixed = 0, purged;
    int any = 0;
    int ch;

    umask(077);
    msg_init("postsuper");
    msg_set_stderr(1);
    for (int op = 0; op < PS_NOPS; op++)
        ps_ids[op] = argv_alloc(8);

    while ((ch = getopt(argc, argv, "c:d:h:H:r:psv")) != -1) {
        switch (ch) {
        case 'c':
            config_dir = optarg;
            break;
        case 'd':
        case 'h':
        case 'H':
        case 'r':
            letter[0] = (char)ch;
            argv_add(pending, letter);
            argv_add(pending, optarg);
            any = 1;
            break;
        case 'p':
            do_purge = any = 1;
            break;
        case 's':
            do_struct = any = 1;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            ps_usage();
        }
    }
    if (!any)
        do_struct = do_purge = 1; /* no operation: -s and -p */
    for (int i = optind; i < argc; i++) {
        if (!qfile_queue_ok(argv[i]))
            msg_fatal("invalid directory name: %.100s", argv[i]);
        argv_add(named, argv[i]);
    }

    if (config_dir && setenv("MAIL_CONFIG", config_dir, 1) < 0)
        msg_fatal("setenv MAIL_CONFIG: %m");
    mail_conf_read(config_dir);
    mail_conf_eval();
    msg_set_syslog_name(var_syslog_name);
    if (var_maillog_file[0])
        msg_set_logfile(var_maillog_file);
    ps_check_user();
    if (chdir(var_queue_directory) < 0)
        msg_fatal("chdir %s: %m", var_queue_directory);

    /* queue IDs (and "-") after main.cf is read, in command-line order */
    for (int i = 0; i + 1 < pending->argc; i += 2)
        ps_add_id((int)(strchr("dhHr", pending->argv[i][0]) - "dhHr"), pending->argv[i + 1]);
    vstring_sprintf(pid_path, "%s/master.pid", var_process_id_directory);
    ps_master_running = pid_file_read(vstring_str(pid_path)) > 0;

    if (do_struct) {
        ps_structure(&renamed, &moved, &fixed);
        if (renamed > 0)
            msg_info("Renamed to match inode number: %d message%s", renamed,
                     renamed == 1 ? "" : "s");
        if (moved > 0)
            msg_info("Moved to corrupt: %d file%s", moved, moved == 1 ? "" : "s");
        if (fixed > 0)
            msg_info("Fixed owner or mode: %d file%s", fixed, fixed == 1 ? "" : "s");
    }
    if (do_purge && (purged = ps_purge()) > 0)
        msg_info("Deleted: %d temporary file%s", purged, purged == 1 ? "" : "s");
    for (int op = 0; op < PS_NOPS; op++)
        if (ps_all[op] || ps_ids[op]->argc > 0)
            ps_run(op, named);
    return 0;
}
