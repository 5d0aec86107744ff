/*
 * NAME
 *	master_cf - read master.cf, Postfix's 8-column service table
 * SYNOPSIS
 *	#include "master_cf.h"
 *
 *	MASTER_CF *master_cf_read(const char *path, VSTRING *why)
 *	MASTER_CF *master_cf_parse(const char *text, const char *path, VSTRING *why)
 *	MASTER_CF *master_cf_parse_buf(const char *text, size_t len,
 *			const char *path, VSTRING *why)
 *	void master_cf_free(MASTER_CF *cf)
 *	MASTER_CF_ENTRY *master_cf_find(MASTER_CF *cf, const char *service,
 *			const char *type)
 *	const char *master_cf_field(const MASTER_CF_ENTRY *entry, int n)
 *	const char *const master_cf_field_names[MASTER_CF_FIELDS]
 *	VSTRING *master_cf_format(VSTRING *buf, const MASTER_CF_ENTRY *entry)
 *	VSTRING *master_cf_format_command(VSTRING *buf, const MASTER_CF_ENTRY *entry)
 * DESCRIPTION
 *	master_cf_read() reads the file at path (at most MASTER_CF_FILE_MAX
 *	bytes) and parses it. master_cf_parse() parses a NUL-terminated text;
 *	master_cf_parse_buf() parses len bytes and rejects NUL bytes.
 *
 *	Logical lines follow main.cf's rules: empty lines, white-space-only
 *	lines and lines whose first non-space byte is "#" are skipped, also
 *	between continuation lines; a line that starts with white space
 *	continues the previous one. Each logical line is split on white
 *	space, with "{ ... }" grouping one argument (braces and the white
 *	space just inside them removed). The first seven fields are the
 *	service, type, private, unprivileged, chroot, wakeup and maxproc
 *	columns, kept as written ("-" stays "-"); the rest is the command
 *	and its arguments.
 *
 *	Checks: a type of inet, unix, unix-dgram, fifo or pass; y, n or -
 *	in the three flag columns; a number, a number followed by "?", or -
 *	for wakeup; a number or - for maxproc; a command; no two entries
 *	with the same service and type; bounded line length, file size and
 *	argument count; no control characters in the service name; no NUL
 *	bytes. A failed check returns NULL with "PATH, line N: text" in why.
 *
 *	master_cf_find() returns the entry for service and type, or NULL.
 *	master_cf_field() returns column n of an entry (0 ... 6), or NULL
 *	for other n. master_cf_format() writes an entry as one line with
 *	the columns padded as postconf -M prints them;
 *	master_cf_format_command() only its command and arguments. Both
 *	write an argument that holds white space or is empty as "{ arg }".
 *	They return buf.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "master_cf.h"
#include "msg.h"
#include "mymalloc.h"

const char *const master_cf_field_names[MASTER_CF_FIELDS] = {
    "service", "type", "private", "unprivileged", "chroot", "wakeup", "process_limit", "command",
};

static int master_cf_space(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

void master_cf_free(MASTER_CF *cf)
{
    if (cf == NULL)
        return;
    for (int i = 0; i < cf->count; i++) {
        MASTER_CF_ENTRY *e = cf->entries + i;

        myfree(e->service);
        myfree(e->type);
        myfree(e->priv);
        myfree(e->unpriv);
        myfree(e->chroot);
        myfree(e->wakeup);
        myfree(e->maxproc);
        for (int j = 0; j < e->argc; j++)
            myfree(e->argv[j]);
        myfree(e->argv);
    }
    myfree(cf->entries);
    myfree(cf);
}

MASTER_CF_ENTRY *master_cf_find(MASTER_CF *cf, const char *service, const char *type)
{
    for (int i = 0; i < cf->count; i++)
        if (strcmp(cf->entries[i].service, service) == 0 && strcmp(cf->entries[i].type, type) == 0)
            return cf->entries + i;
    return NULL;
}

const char *master_cf_field(const MASTER_CF_ENTRY *e, int n)
{
    switch (n) {
    case 0:
        return e->service;
    case 1:
        return e->type;
    case 2:
        return e->priv;
    case 3:
        return e->unpriv;
    case 4:
        return e->chroot;
    case 5:
        return e->wakeup;
    case 6:
        return e->maxproc;
    default:
        return NULL;
    }
}

static int master_cf_digits(const char *s, size_t max)
{
    size_t n = strspn(s, "0123456789");

    return n > 0 && n <= max;
}

/* master_cf_check - validate the columns of one entry; text for why or NULL */
static const char *master_cf_check(ARGV *f, VSTRING *tmp)
{
    static const char *types[] = {"inet", "unix", "unix-dgram", "fifo", "pass", NULL};
    const char *const *names = master_cf_field_names;
    const char **tp;

    if (f->argc < 8) {
        vstring_sprintf(tmp, "missing \"%s\" field", names[f->argc]);
        return vstring_str(tmp);
    }
    if (f->argc > MASTER_CF_ARGS_MAX + 7)
        return "too many command arguments";
    if (strlen(f->argv[0]) > 255)
        return "service name is too long";
    for (const char *cp = f->argv[0]; *cp; cp++)
        if (iscntrl((unsigned char)*cp))
            return "control character in service name";
    for (tp = types; *tp; tp++)
        if (strcmp(*tp, f->argv[1]) == 0)
            break;
    if (*tp == NULL) {
        vstring_sprintf(tmp, "bad transport type: %.100s", f->argv[1]);
        return vstring_str(tmp);
    }
    for (int i = 2; i <= 4; i++) {
        if (strcmp(f->argv[i], "y") != 0 && strcmp(f->argv[i], "n") != 0 &&
            strcmp(f->argv[i], "-") != 0) {
            vstring_sprintf(tmp, "field \"%s\": bad value: \"%.100s\"", names[i], f->argv[i]);
            return vstring_str(tmp);
        }
    }
    if (strcmp(f->argv[5], "-") != 0) {
        size_t n = strspn(f->argv[5], "0123456789");

        if (!master_cf_digits(f->argv[5], 9) ||
            !(f->argv[5][n] == 0 || (f->argv[5][n] == '?' && f->argv[5][n + 1] == 0))) {
            vstring_sprintf(tmp, "field \"%s\": bad value: \"%.100s\"", names[5], f->argv[5]);
            return vstring_str(tmp);
        }
    }
    if (strcmp(f->argv[6], "-") != 0 &&
        (!master_cf_digits(f->argv[6], 9) || f->argv[6][strspn(f->argv[6], "0123456789")])) {
        vstring_sprintf(tmp, "field \"%s\": bad value: \"%.100s\"", names[6], f->argv[6]);
        return vstring_str(tmp);
    }
    return NULL;
}

/* master_cf_entry - turn one logical line into an entry, or set why */
static int master_cf_entry(MASTER_CF *cf, const char *line, const char *path, int start, int end,
                           VSTRING *why)
{
    ARGV *f = argv_split_braces(line, " \t\r\n\f\v");
    VSTRING *tmp;
    const char *err;
    MASTER_CF_ENTRY *e;

    if (f == NULL) {
        vstring_sprintf(why, "%s, line %d: missing '}'", path, start);
        return -1;
    }
    tmp = vstring_alloc(100);
    if ((err = master_cf_check(f, tmp)) == NULL && master_cf_find(cf, f->argv[0], f->argv[1]))
        err = vstring_str(
            vstring_sprintf(tmp, "duplicate service name: %.100s/%s", f->argv[0], f->argv[1]));
    if (err) {
        vstring_sprintf(why, "%s, line %d: %s", path, start, err);
        vstring_free(tmp);
        argv_free(f);
        return -1;
    }
    vstring_free(tmp);
    cf->entries = myrealloc(cf->entries, sizeof(*cf->entries) * (size_t)(cf->count + 1));
    e = cf->entries + cf->count++;
    e->service = mystrdup(f->argv[0]);
    e->type = mystrdup(f->argv[1]);
    e->priv = mystrdup(f->argv[2]);
    e->unpriv = mystrdup(f->argv[3]);
    e->chroot = mystrdup(f->argv[4]);
    e->wakeup = mystrdup(f->argv[5]);
    e->maxproc = mystrdup(f->argv[6]);
    e->argc = f->argc - 7;
    e->argv = mymalloc(sizeof(char *) * (size_t)(e->argc + 1));
    for (int i = 0; i < e->argc; i++)
        e->argv[i] = mystrdup(f->argv[i + 7]);
    e->argv[e->argc] = NULL;
    e->line = start;
    e->end_line = end;
    argv_free(f);
    return 0;
}

MASTER_CF *master_cf_parse_buf(const char *text, size_t len, const char *path, VSTRING *why)
{
    MASTER_CF *cf = mycalloc(1, sizeof(*cf));
    VSTRING *line = vstring_alloc(256);
    const char *cp = text;
    const char *end = text + len;
    int lineno = 0, start = 0, last = 0, have = 0, ret = 0;

    if (path == NULL)
        path = "master.cf";
    while (cp < end && ret == 0) {
        const char *nl = memchr(cp, '\n', (size_t)(end - cp));
        const char *eol = nl ? nl : end;
        const char *p = cp;

        lineno++;
        if (memchr(cp, 0, (size_t)(eol - cp))) {
            vstring_sprintf(why, "%s, line %d: NUL byte in input", path, lineno);
            ret = -1;
            break;
        }
        while (p < eol && master_cf_space((unsigned char)*p))
            p++;
        if (p == eol || *p == '#') {
            /* skip */
        } else if (p == cp || !have) {
            if (have)
                ret = master_cf_entry(cf, vstring_str(line), path, start, last, why);
            if (ret == 0 && (size_t)(eol - p) > MASTER_CF_LINE_MAX) {
                vstring_sprintf(why, "%s, line %d: line is longer than %d bytes", path, lineno,
                                MASTER_CF_LINE_MAX);
                ret = -1;
            }
            if (ret == 0)
                vstring_memcpy(line, p, (size_t)(eol - p));
            start = last = lineno;
            have = 1;
        } else {
            if (vstring_len(line) + 1 + (size_t)(eol - p) > MASTER_CF_LINE_MAX) {
                vstring_sprintf(why, "%s, line %d: line is longer than %d bytes", path, start,
                                MASTER_CF_LINE_MAX);
                ret = -1;
            } else {
                vstring_addch(line, ' ');
                vstring_memcat(line, p, (size_t)(eol - p));
                last = lineno;
            }
        }
        cp = nl ? nl + 1 : end;
    }
    if (ret == 0 && have)
        ret = master_cf_entry(cf, vstring_str(line), path, start, last, why);
    vstring_free(line);
    if (ret < 0) {
        master_cf_free(cf);
        return NULL;
    }
    return cf;
}

MASTER_CF *master_cf_parse(const char *text, const char *path, VSTRING *why)
{
    return master_cf_parse_buf(text, strlen(text), path, why);
}

MASTER_CF *master_cf_read(const char *path, VSTRING *why)
{
    VSTRING *text;
    MASTER_CF *cf = NULL;
    char buf[8192];
    ssize_t n;
    int fd;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        int saved = errno;

        vstring_sprintf(why, "open %s: %s", path, strerror(saved));
        errno = saved;
        return NULL;
    }
    text = vstring_alloc(8192);
    for (;;) {
        n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            vstring_sprintf(why, "read %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (vstring_len(text) + (size_t)n > MASTER_CF_FILE_MAX) {
            vstring_sprintf(why, "%s: file is larger than %d bytes", path, MASTER_CF_FILE_MAX);
            n = -1;
            break;
        }
        vstring_memcat(text, buf, (size_t)n);
    }
    close(fd);
    if (n == 0)
        cf = master_cf_parse_buf(vstring_str(text), vstring_len(text), path, why);
    vstring_free(text);
    return cf;
}

static void master_cf_append_arg(VSTRING *buf, const char *arg)
{
    if (*arg == 0 || arg[strcspn(arg, " \t\r\n\f\v")] != 0) {
        vstring_strcat(buf, "{ ");
        vstring_strcat(buf, arg);
        vstring_strcat(buf, " }");
    } else {
        vstring_strcat(buf, arg);
    }
}

VSTRING *master_cf_format_command(VSTRING *buf, const MASTER_CF_ENTRY *e)
{
    vstring_reset(buf);
    for (int i = 0; i < e->argc; i++) {
        if (i > 0)
            vstring_addch(buf, ' ');
        master_cf_append_arg(buf, e->argv[i]);
    }
    return buf;
}

VSTRING *master_cf_format(VSTRING *buf, const MASTER_CF_ENTRY *e)
{
    VSTRING *cmd = vstring_alloc(100);

    vstring_sprintf(buf, "%-10s %-5s %-7s %-7s %-7s %-7s %-7s ", e->service, e->type, e->priv,
                    e->unpriv, e->chroot, e->wakeup, e->maxproc);
    vstring_strcat(buf, vstring_str(master_cf_format_command(cmd, e)));
    vstring_free(cmd);
    return buf;
}
