/*
 * NAME
 *	postconf_master - show and edit master.cf
 * SYNOPSIS
 *	#include "postconf.h"
 *
 *	int pc_show_master(int flags, char **filters)
 *	int pc_show_fields(int flags, char **filters)
 *	int pc_show_params(int flags, char **filters)
 *	int pc_edit_master(int how, char **args)
 *	int pc_edit_fields(char **args)
 * DESCRIPTION
 *	pc_show_master() prints each master.cf entry as one normalized line
 *	(postconf -M). A filter is "service" or "service/type"; without
 *	filters every entry is printed, in file order.
 *
 *	pc_show_fields() prints "service/type/field = value" for the fields
 *	service, type, private, unprivileged, chroot, wakeup, process_limit
 *	and command (postconf -F); pc_show_params() prints
 *	"service/type/name = value" for each "-o name=value" (postconf -P).
 *	Their filters are "service[/type[/field]]"; PC_FLAG_HIDE prints the
 *	value only. A filter that matches nothing is an error.
 *
 *	pc_edit_master() edits master.cf in place (see pc_edit_file()):
 *	PC_EDIT_SET takes "service/type=entry", where entry is a whole
 *	master.cf line for the same service and type, which replaces the
 *	existing entry or is appended; PC_EDIT_REMOVE removes the entries
 *	named "service/type"; PC_EDIT_COMMENT puts "#" before their lines.
 *	pc_edit_fields() takes "service/type/field=value" and rewrites that
 *	entry with one column (or, for "command", the command and its
 *	arguments) changed. Every new entry is checked with master_cf's
 *	rules before the file is touched.
 */
#include <string.h>

#include "mail_conf.h"
#include "master_cf.h"
#include "msg.h"
#include "mymalloc.h"
#include "postconf.h"
#include "vstream.h"

#define pc_field_names master_cf_field_names

#define PC_FIELD_COUNT 8
#define PC_FIELD_COMMAND 7

static const char *pc_master_path(VSTRING *buf)
{
    vstring_sprintf(buf, "%s/master.cf", var_config_dir);
    return vstring_str(buf);
}

static MASTER_CF *pc_master_read(void)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    MASTER_CF *cf = master_cf_read(pc_master_path(path), why);

    if (cf == NULL)
        msg_fatal("%s", vstring_str(why));
    vstring_free(path);
    vstring_free(why);
    return cf;
}

/* pc_filter - split "a/b/c" into up to three parts; NULL for missing */
static ARGV *pc_filter(const char *filter)
{
    ARGV *parts = argv_alloc(3);
    const char *cp = filter;
    const char *slash;

    while ((slash = strchr(cp, '/')) != NULL && parts->argc < 2) {
        argv_addn(parts, cp, (size_t)(slash - cp));
        cp = slash + 1;
    }
    argv_add(parts, cp);
    return parts;
}

static int pc_match(const MASTER_CF_ENTRY *e, ARGV *f)
{
    return strcmp(e->service, f->argv[0]) == 0 && (f->argc < 2 || strcmp(e->type, f->argv[1]) == 0);
}

int pc_show_master(int flags, char **filters)
{
    MASTER_CF *cf = pc_master_read();
    VSTRING *buf = vstring_alloc(100);
    int status = 0;

    (void)flags;
    if (filters == NULL || *filters == NULL) {
        for (int i = 0; i < cf->count; i++)
            vstream_fprintf(VSTREAM_OUT, "%s\n",
                            vstring_str(master_cf_format(buf, cf->entries + i)));
    }
    for (; filters && *filters; filters++) {
        ARGV *f = pc_filter(*filters);
        int found = 0;

        if (f->argc > 2) {
            msg_warn("%s: bad service/type: expected service or service/type", *filters);
            status = 1;
        } else {
            for (int i = 0; i < cf->count; i++) {
                if (pc_match(cf->entries + i, f)) {
                    vstream_fprintf(VSTREAM_OUT, "%s\n",
                                    vstring_str(master_cf_format(buf, cf->entries + i)));
                    found = 1;
                }
            }
            if (!found) {
                msg_warn("%s: no such master.cf entry", *filters);
                status = 1;
            }
        }
        argv_free(f);
    }
    vstring_free(buf);
    master_cf_free(cf);
    return status;
}

static void pc_print_named(int flags, const MASTER_CF_ENTRY *e, const char *name, const char *value)
{
    if (flags & PC_FLAG_HIDE)
        vstream_fprintf(VSTREAM_OUT, "%s\n", value);
    else if (*value)
        vstream_fprintf(VSTREAM_OUT, "%s/%s/%s = %s\n", e->service, e->type, name, value);
    else
        vstream_fprintf(VSTREAM_OUT, "%s/%s/%s =\n", e->service, e->type, name);
}

/* pc_show_entry_fields - print the fields of e that f selects; count them */
static int pc_show_entry_fields(int flags, const MASTER_CF_ENTRY *e, ARGV *f, VSTRING *buf)
{
    int count = 0;

    for (int n = 0; n < PC_FIELD_COUNT; n++) {
        if (f && f->argc > 2 && strcmp(f->argv[2], pc_field_names[n]) != 0)
            continue;
        pc_print_named(flags, e, pc_field_names[n],
                       n == PC_FIELD_COMMAND ? vstring_str(master_cf_format_command(buf, e))
                                             : master_cf_field(e, n));
        count++;
    }
    return count;
}

/* pc_show_entry_params - print the -o settings of e that f selects */
static int pc_show_entry_params(int flags, const MASTER_CF_ENTRY *e, ARGV *f, VSTRING *buf)
{
    int count = 0;

    for (int j = 0; j + 1 < e->argc; j++) {
        const char *eq;
        const char *value;
        size_t len;

        if (strcmp(e->argv[j], "-o") != 0)
            continue;
        j++;
        if ((eq = strchr(e->argv[j], '=')) == NULL)
            continue;
        for (len = (size_t)(eq - e->argv[j]); len > 0 && strchr(" \t", e->argv[j][len - 1]); len--)
            /* void */;
        vstring_strncpy(buf, e->argv[j], len);
        for (value = eq + 1; *value == ' ' || *value == '\t'; value++)
            /* void */;
        if (f && f->argc > 2 && strcmp(f->argv[2], vstring_str(buf)) != 0)
            continue;
        pc_print_named(flags, e, vstring_str(buf), value);
        count++;
    }
    return count;
}

static int pc_show_each(int flags, char **filters,
                        int (*show)(int, const MASTER_CF_ENTRY *, ARGV *, VSTRING *))
{
    MASTER_CF *cf = pc_master_read();
    VSTRING *buf = vstring_alloc(100);
    int status = 0;

    if (filters == NULL || *filters == NULL)
        for (int i = 0; i < cf->count; i++)
            show(flags, cf->entries + i, NULL, buf);
    for (; filters && *filters; filters++) {
        ARGV *f = pc_filter(*filters);
        int found = 0;

        for (int i = 0; i < cf->count; i++)
            if (pc_match(cf->entries + i, f))
                found += show(flags, cf->entries + i, f, buf);
        if (!found) {
            msg_warn("%s: no such master.cf entry or field", *filters);
            status = 1;
        }
        argv_free(f);
    }
    vstring_free(buf);
    master_cf_free(cf);
    return status;
}

int pc_show_fields(int flags, char **filters)
{
    return pc_show_each(flags, filters, pc_show_entry_fields);
}

int pc_show_params(int flags, char **filters)
{
    return pc_show_each(flags, filters, pc_show_entry_params);
}

/* ---------------------------------------------------------------- */
/* Editing. */

typedef struct PC_MASTER_EDIT {
    int how;
    ARGV *services; /* service names */
    ARGV *types;    /* their types */
    ARGV *lines;    /* PC_EDIT_SET: the new entry, formatted */
    char *done;
} PC_MASTER_EDIT;

static int pc_master_fn(PC_LINES *in, ARGV *out, void *context)
{
    PC_MASTER_EDIT *ed = context;
    PC_LOGICAL lp;
    VSTRING *buf = vstring_alloc(100);
    int pos = 0, copied = 0;

    lp.text = vstring_alloc(100);
    while (pc_next_logical(in, &pos, &lp)) {
        ARGV *f = argv_split(vstring_str(lp.text), " \t\r\f\v");
        int k = ed->services->argc;

        if (f->argc >= 2)
            for (k = 0; k < ed->services->argc; k++)
                if (strcmp(ed->services->argv[k], f->argv[0]) == 0 &&
                    strcmp(ed->types->argv[k], f->argv[1]) == 0)
                    break;
        argv_free(f);
        if (k >= ed->services->argc)
            continue;
        for (; copied < lp.first; copied++)
            argv_add(out, in->lines->argv[copied]);
        if (ed->how == PC_EDIT_SET && !ed->done[k]) {
            argv_add(out, ed->lines->argv[k]);
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
    for (int k = 0; ed->how == PC_EDIT_SET && k < ed->services->argc; k++)
        if (!ed->done[k])
            argv_add(out, ed->lines->argv[k]);
    vstring_free(lp.text);
    vstring_free(buf);
    return 0;
}

static int pc_run_master_edit(PC_MASTER_EDIT *ed)
{
    VSTRING *path = vstring_alloc(100);
    int status;

    ed->done = mycalloc((size_t)ed->services->argc + 1, 1);
    status = pc_edit_file(pc_master_path(path), pc_master_fn, ed);
    myfree(ed->done);
    vstring_free(path);
    return status;
}

/* pc_seen - is service/type already in the edit list? (after an error message) */
static int pc_seen(PC_MASTER_EDIT *ed, const char *service, const char *type)
{
    for (int k = 0; k < ed->services->argc; k++) {
        if (strcmp(ed->services->argv[k], service) == 0 && strcmp(ed->types->argv[k], type) == 0) {
            msg_error("%s/%s: specified more than once", service, type);
            return 1;
        }
    }
    return 0;
}

/* pc_check_entry - parse one entry line; NULL after an error message */
static MASTER_CF *pc_check_entry(const char *what, const char *line)
{
    VSTRING *why = vstring_alloc(100);
    MASTER_CF *cf;

    if (strchr(line, '\n') || strchr(line, '\r')) {
        msg_error("%s: value must not contain a line break", what);
        vstring_free(why);
        return NULL;
    }
    if ((cf = master_cf_parse(line, what, why)) == NULL)
        msg_error("%s", vstring_str(why));
    else if (cf->count != 1) {
        msg_error("%s: expected one master.cf entry", what);
        master_cf_free(cf);
        cf = NULL;
    }
    vstring_free(why);
    return cf;
}

int pc_edit_master(int how, char **args)
{
    PC_MASTER_EDIT ed;
    VSTRING *buf = vstring_alloc(100);
    int status = 0;

    ed.how = how;
    ed.services = argv_alloc(5);
    ed.types = argv_alloc(5);
    ed.lines = argv_alloc(5);
    if (*args == NULL) {
        msg_error("no service/type specified");
        status = 1;
    }
    for (; *args; args++) {
        char *key = mystrdup(*args);
        char *eq = strchr(key, '=');
        char *value = NULL;
        ARGV *f;

        if (eq) {
            *eq = 0;
            value = eq + 1;
        }
        if ((how == PC_EDIT_SET) != (value != NULL)) {
            msg_error("%s: expected %s", *args,
                      how == PC_EDIT_SET ? "service/type=entry" : "service/type");
            status = 1;
            myfree(key);
            continue;
        }
        vstring_strcpy(buf, key);
        vstring_trim_right(buf);
        f = pc_filter(vstring_str(buf) + strspn(vstring_str(buf), " \t"));
        if (f->argc != 2 || *f->argv[0] == 0 || *f->argv[1] == 0) {
            msg_error("%s: expected service/type", *args);
            status = 1;
        } else if (pc_seen(&ed, f->argv[0], f->argv[1])) {
            status = 1;
        } else if (value) {
            MASTER_CF *cf = pc_check_entry(*args, value);

            if (cf == NULL) {
                status = 1;
            } else if (strcmp(cf->entries->service, f->argv[0]) != 0 ||
                       strcmp(cf->entries->type, f->argv[1]) != 0) {
                msg_error("%s: the entry is for %s/%s", *args, cf->entries->service,
                          cf->entries->type);
                status = 1;
            } else {
                argv_add(ed.services, f->argv[0]);
                argv_add(ed.types, f->argv[1]);
                argv_add(ed.lines, vstring_str(master_cf_format(buf, cf->entries)));
            }
            master_cf_free(cf);
        } else {
            argv_add(ed.services, f->argv[0]);
            argv_add(ed.types, f->argv[1]);
            argv_add(ed.lines, "");
        }
        argv_free(f);
        myfree(key);
    }
    if (status == 0)
        status = pc_run_master_edit(&ed);
    argv_free(ed.services);
    argv_free(ed.types);
    argv_free(ed.lines);
    vstring_free(buf);
    return status;
}

int pc_edit_fields(char **args)
{
    PC_MASTER_EDIT ed;
    MASTER_CF *cf = pc_master_read();
    VSTRING *buf = vstring_alloc(100);
    VSTRING *line = vstring_alloc(100);
    int status = 0;

    ed.how = PC_EDIT_SET;
    ed.services = argv_alloc(5);
    ed.types = argv_alloc(5);
    ed.lines = argv_alloc(5);
    if (*args == NULL) {
        msg_error("no service/type/field=value specified");
        status = 1;
    }
    for (; *args; args++) {
        char *key = mystrdup(*args);
        char *eq = strchr(key, '=');
        MASTER_CF_ENTRY *e;
        MASTER_CF *check;
        ARGV *f;
        int n;

        if (eq == NULL) {
            msg_error("%s: expected service/type/field=value", *args);
            status = 1;
            myfree(key);
            continue;
        }
        *eq = 0;
        vstring_strcpy(buf, key);
        vstring_trim_right(buf);
        f = pc_filter(vstring_str(buf));
        for (n = 0; f->argc == 3 && n < PC_FIELD_COUNT; n++)
            if (strcmp(pc_field_names[n], f->argv[2]) == 0)
                break;
        if (f->argc != 3 || n >= PC_FIELD_COUNT) {
            msg_error("%s: expected service/type/field with field one of service, type, "
                      "private, unprivileged, chroot, wakeup, process_limit, command",
                      *args);
            status = 1;
        } else if ((e = master_cf_find(cf, f->argv[0], f->argv[1])) == NULL) {
            msg_error("%s/%s: no such master.cf entry", f->argv[0], f->argv[1]);
            status = 1;
        } else if (pc_seen(&ed, e->service, e->type)) {
            status = 1;
        } else {
            const char *value = eq + 1 + strspn(eq + 1, " \t");

            vstring_reset(line);
            for (int i = 0; i < PC_FIELD_COMMAND; i++) {
                vstring_strcat(line, i == n ? value : master_cf_field(e, i));
                vstring_addch(line, ' ');
            }
            if (n == PC_FIELD_COMMAND)
                vstring_strcat(line, value);
            else
                vstring_strcat(line, vstring_str(master_cf_format_command(buf, e)));
            if ((check = pc_check_entry(*args, vstring_str(line))) == NULL) {
                status = 1;
            } else {
                argv_add(ed.services, e->service);
                argv_add(ed.types, e->type);
                argv_add(ed.lines, vstring_str(master_cf_format(buf, check->entries)));
                master_cf_free(check);
            }
        }
        argv_free(f);
        myfree(key);
    }
    if (status == 0)
        status = pc_run_master_edit(&ed);
    argv_free(ed.services);
    argv_free(ed.types);
    argv_free(ed.lines);
    vstring_free(buf);
    vstring_free(line);
    master_cf_free(cf);
    return status;
}
