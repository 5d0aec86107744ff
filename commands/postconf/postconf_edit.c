/*
 * NAME
 *	postconf_edit - edit main.cf and master.cf in place
 * SYNOPSIS
 *	#include "postconf.h"
 *
 *	int pc_edit_file(const char *path, PC_EDIT_FN fn, void *context)
 *	int pc_next_logical(PC_LINES *in, int *pos, PC_LOGICAL *lp)
 *	int pc_is_content(const char *line)
 *	int pc_edit_main(int how, char **args)
 * DESCRIPTION
 *	pc_edit_file() reads path as physical lines, lets fn build the new
 *	lines, and replaces the file atomically: a temporary file in the
 *	same directory, with the old file's mode (and owner, for root), is
 *	written, synced and renamed over path. Concurrent editors are
 *	serialized with an exclusive lock on the file; an editor that waited
 *	rereads the file that replaced the one it locked. The file must
 *	exist, be a regular file and not a symbolic link, hold no NUL byte
 *	and be at most MAIL_CONF_FILE_MAX bytes. fn
 *	returns 0 to write, or an exit status to give up. The result is the
 *	exit status: 0, or 1 after an error message.
 *
 *	pc_next_logical() finds the next logical line at or after *pos with
 *	main.cf's rules (comments and blank lines may sit between
 *	continuation lines) and sets *pos past it. It returns 0 at the end.
 *	The caller initializes lp->text with a VSTRING.
 *
 *	pc_edit_main() edits main.cf. PC_EDIT_SET takes "name=value"
 *	arguments (white space around "=" allowed): the first definition of
 *	name, with its continuation lines, becomes "name = value"; later
 *	definitions are removed; a name not yet defined is appended at the
 *	end. PC_EDIT_REMOVE removes every definition of each name;
 *	PC_EDIT_COMMENT puts "#" in front of each of their lines. Comment and
 *	blank lines, also those between continuation lines, and every other
 *	line stay as they were, in their order.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lock_file.h"
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "postconf.h"
#include "safe_open.h"

#define PC_LOCK_TIMEOUT 30

static int pc_space(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

int pc_is_content(const char *line)
{
    while (pc_space((unsigned char)*line))
        line++;
    return *line != 0 && *line != '#';
}

int pc_next_logical(PC_LINES *in, int *pos, PC_LOGICAL *lp)
{
    char **lines = in->lines->argv;
    int n = in->lines->argc;
    int i = *pos;
    const char *p;

    while (i < n && !pc_is_content(lines[i]))
        i++;
    if (i >= n) {
        *pos = n;
        return 0;
    }
    lp->first = lp->last = i;
    for (p = lines[i]; pc_space((unsigned char)*p); p++)
        /* void */;
    vstring_strcpy(lp->text, p);
    for (i++; i < n; i++) {
        if (!pc_is_content(lines[i]))
            continue;
        if (!pc_space((unsigned char)lines[i][0]))
            break;
        for (p = lines[i]; pc_space((unsigned char)*p); p++)
            /* void */;
        vstring_trim_right(lp->text);
        vstring_addch(lp->text, ' ');
        vstring_strcat(lp->text, p);
        lp->last = i;
    }
    vstring_trim_right(lp->text);
    *pos = lp->last + 1;
    return 1;
}

/* pc_read_locked - open, lock and read path; -1 after an error message */
static int pc_read_locked(const char *path, VSTRING *text, int *lock_fd)
{
    struct stat st_fd, st_path;
    char buf[8192];
    ssize_t n;
    int fd;

    for (int attempt = 0;; attempt++) {
        int locked = 0;

        if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
            if (lock_file_wait(fd, LOCK_FILE_EXCLUSIVE, PC_LOCK_TIMEOUT) < 0) {
                msg_error("lock %s: %m", path);
                close(fd);
                return -1;
            }
            locked = 1;
        } else if (errno == EACCES || errno == EROFS) {
            fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        }
        if (fd < 0 && errno == ELOOP)
            msg_fatal("open %s: is a symbolic link; edit the file it points to", path);
        if (fd < 0)
            msg_fatal("open %s: %m", path);
        if (fstat(fd, &st_fd) < 0 || !S_ISREG(st_fd.st_mode)) {
            msg_error("%s: not a regular file", path);
            close(fd);
            return -1;
        }
        /* another editor may have replaced the file while we waited */
        if (!locked || (stat(path, &st_path) == 0 && st_path.st_ino == st_fd.st_ino &&
                        st_path.st_dev == st_fd.st_dev))
            break;
        close(fd);
        if (attempt >= 10) {
            msg_error("%s: file keeps changing while we wait for its lock", path);
            return -1;
        }
    }
    vstring_reset(text);
    for (;;) {
        n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            msg_error("read %s: %m", path);
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        if (vstring_len(text) + (size_t)n > MAIL_CONF_FILE_MAX) {
            msg_error("%s: file is larger than %d bytes", path, MAIL_CONF_FILE_MAX);
            close(fd);
            return -1;
        }
        vstring_memcat(text, buf, (size_t)n);
    }
    if (memchr(vstring_str(text), 0, vstring_len(text))) {
        msg_error("%s: file contains a NUL byte; not editing it", path);
        close(fd);
        return -1;
    }
    *lock_fd = fd;
    return 0;
}

int pc_edit_file(const char *path, PC_EDIT_FN fn, void *context)
{
    VSTRING *text = vstring_alloc(8192);
    VSTRING *why = vstring_alloc(100);
    PC_LINES in;
    ARGV *out;
    const char *cp, *end, *nl;
    int lock_fd = -1;
    int status;

    if (pc_read_locked(path, text, &lock_fd) < 0) {
        vstring_free(text);
        vstring_free(why);
        return 1;
    }
    in.lines = argv_alloc(100);
    cp = vstring_str(text);
    end = vstring_end(text);
    in.final_newline = vstring_len(text) == 0 || end[-1] == '\n';
    while (cp < end) {
        nl = memchr(cp, '\n', (size_t)(end - cp));
        argv_addn(in.lines, cp, (size_t)((nl ? nl : end) - cp));
        cp = nl ? nl + 1 : end;
    }
    out = argv_alloc(in.lines->argc + 10);
    if ((status = fn(&in, out, context)) == 0) {
        vstring_reset(text);
        for (int i = 0; i < out->argc; i++) {
            vstring_strcat(text, out->argv[i]);
            vstring_addch(text, '\n');
        }
        if (safe_replace_file(path, vstring_str(text), vstring_len(text), SAFE_REPLACE_KEEP_MODE,
                              why) < 0) {
            msg_error("%s", vstring_str(why));
            status = 1;
        }
    }
    close(lock_fd);
    argv_free(in.lines);
    argv_free(out);
    vstring_free(text);
    vstring_free(why);
    return status;
}

/* ---------------------------------------------------------------- */
/* main.cf */

typedef struct PC_MAIN_EDIT {
    int how;
    ARGV *names;
    ARGV *values;
    char *done; /* per name: already written */
} PC_MAIN_EDIT;

/* pc_main_name - the parameter name of a logical line, or "" */
static void pc_main_name(const char *text, VSTRING *name)
{
    const char *eq = strchr(text, '=');
    const char *end;

    vstring_reset(name);
    if (eq == NULL)
        return;
    for (end = eq; end > text && pc_space((unsigned char)end[-1]); end--)
        /* void */;
    vstring_strncpy(name, text, (size_t)(end - text));
}

static void pc_setting(VSTRING *buf, const char *name, const char *value)
{
    if (*value)
        vstring_sprintf(buf, "%s = %s", name, value);
    else
        vstring_sprintf(buf, "%s =", name);
}

static int pc_main_fn(PC_LINES *in, ARGV *out, void *context)
{
    PC_MAIN_EDIT *ed = context;
    PC_LOGICAL lp;
    VSTRING *name = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(100);
    int pos = 0, copied = 0;

    lp.text = vstring_alloc(100);
    while (pc_next_logical(in, &pos, &lp)) {
        int k;

        pc_main_name(vstring_str(lp.text), name);
        for (k = 0; k < ed->names->argc; k++)
            if (strcmp(ed->names->argv[k], vstring_str(name)) == 0)
                break;
        if (k >= ed->names->argc)
            continue;
        for (; copied < lp.first; copied++)
            argv_add(out, in->lines->argv[copied]);
        if (ed->how == PC_EDIT_SET && !ed->done[k]) {
            pc_setting(buf, ed->names->argv[k], ed->values->argv[k]);
            argv_add(out, vstring_str(buf));
            ed->done[k] = 1;
        }
        for (int i = lp.first; i <= lp.last; i++) {
            const char *line = in->lines->argv[i];

            if (!pc_is_content(line)) {
                argv_add(out, line);
            } else if (ed->how == PC_EDIT_COMMENT) {
                vstring_sprintf(buf, "#%s", line);
                argv_add(out, vstring_str(buf));
            }
        }
        copied = lp.last + 1;
    }
    for (; copied < in->lines->argc; copied++)
        argv_add(out, in->lines->argv[copied]);
    if (ed->how == PC_EDIT_SET) {
        for (int k = 0; k < ed->names->argc; k++) {
            if (!ed->done[k]) {
                pc_setting(buf, ed->names->argv[k], ed->values->argv[k]);
                argv_add(out, vstring_str(buf));
                ed->done[k] = 1;
            }
        }
    }
    vstring_free(lp.text);
    vstring_free(name);
    vstring_free(buf);
    return 0;
}

/* pc_check_value - refuse what cannot be written as one main.cf line */
static int pc_check_value(const char *name, const char *value)
{
    for (const char *cp = value; *cp; cp++) {
        if (*cp == '\n' || *cp == '\r') {
            msg_error("%s: value must not contain a line break", name);
            return -1;
        }
    }
    if (strlen(value) > MAIL_CONF_LINE_MAX - MAIL_CONF_NAME_MAX - 10) {
        msg_error("%s: value is too long", name);
        return -1;
    }
    return 0;
}

int pc_edit_main(int how, char **args)
{
    PC_MAIN_EDIT ed;
    int status = 0;

    ed.how = how;
    ed.names = argv_alloc(10);
    ed.values = argv_alloc(10);
    for (; *args; args++) {
        const char *arg = *args;
        const char *eq = strchr(arg, '=');
        const char *end = eq ? eq : arg + strlen(arg);
        const char *value = "";
        char *name;

        if (how == PC_EDIT_SET && eq == NULL) {
            msg_error("missing '=' after parameter name: \"%.100s\"", arg);
            status = 1;
            continue;
        }
        if (how != PC_EDIT_SET && eq != NULL) {
            msg_error("unexpected '=' in parameter name: \"%.100s\"", arg);
            status = 1;
            continue;
        }
        while (end > arg && pc_space((unsigned char)end[-1]))
            end--;
        while (pc_space((unsigned char)*arg))
            arg++;
        name = mystrndup(arg, (size_t)(end > arg ? end - arg : 0));
        if (eq) {
            VSTRING *v = vstring_alloc(100);

            for (value = eq + 1; pc_space((unsigned char)*value); value++)
                /* void */;
            vstring_strcpy(v, value);
            vstring_trim_right(v);
            argv_add(ed.values, vstring_str(v));
            vstring_free(v);
        } else {
            argv_add(ed.values, "");
        }
        if (!mail_conf_valid_name(name)) {
            msg_error("bad parameter name: \"%.100s\"", name);
            status = 1;
        } else if (eq && pc_check_value(name, ed.values->argv[ed.values->argc - 1]) < 0) {
            status = 1;
        }
        for (int k = 0; k < ed.names->argc; k++) {
            if (strcmp(ed.names->argv[k], name) == 0) {
                /* the last of repeated arguments wins */
                myfree(ed.values->argv[k]);
                ed.values->argv[k] = ed.values->argv[--ed.values->argc];
                ed.values->argv[ed.values->argc] = NULL;
                myfree(name);
                name = NULL;
                break;
            }
        }
        if (name) {
            argv_add(ed.names, name);
            myfree(name);
        }
    }
    if (status == 0 && ed.names->argc > 0) {
        ed.done = mycalloc((size_t)ed.names->argc, 1);
        status = pc_edit_file(mail_conf_path(), pc_main_fn, &ed);
        myfree(ed.done);
    }
    argv_free(ed.names);
    argv_free(ed.values);
    return status;
}
