/*
 * NAME
 *	dict_tool - the command line of postmap and postalias
 * SYNOPSIS
 *
 *	int dict_tool_main(int argc, char **argv, int style)
 * DESCRIPTION
 *	postmap(1) and postalias(1) are one program with two source
 *	syntaxes: style DICT_SRC_MAP reads "key whitespace value" lines and
 *	prints "key<TAB>value"; DICT_SRC_ALIAS reads aliases(5) lines and
 *	prints "key: value". dict_tool_main() parses the options
 *	[-NfinoprsuUvw] [-c config_dir] [-d key] [-q key], reads main.cf,
 *	and builds, queries (-q), dumps (-s), deletes from (-d) or
 *	incrementally updates (-i) the named tables; a name without a type
 *	uses default_database_type. Run as "newaliases" with no table
 *	names, the alias style rebuilds every table in alias_database.
 *
 *	Every change is an atomic rebuild (dict_rebuild_open(3)): a new
 *	file is written next to the table, synced, and renamed over it, so
 *	a reader never sees a partial table and a failed run leaves the
 *	old one. A source line that does not parse is reported as
 *	"FILE:LINE: reason"; every bad line is reported and the table is
 *	left as it was.
 *
 *	Return value (the exit status): with -q or -d, 0 when a key was
 *	found (deleted), 1 when not, and errors exit 2. Otherwise 0, and
 *	errors exit 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "dict.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "safe_open.h"
#include "set_ugid.h"
#include "vstream.h"
#include "vstring.h"

#define DICT_TOOL_EXIT_FOUND 0
#define DICT_TOOL_EXIT_NOTFOUND 1
#define DICT_TOOL_EXIT_ERROR 2

static int dict_tool_query_mode; /* errors exit 2 instead of 1 */
static int dict_tool_style;      /* DICT_SRC_MAP or DICT_SRC_ALIAS */

static void dict_tool_usage(const char *myname)
{
    msg_fatal_status(dict_tool_query_mode ? DICT_TOOL_EXIT_ERROR : 1,
                     "usage: %s [-NfinoprsuUvw] [-c config_dir] [-d key] [-q key] [type:]file...",
                     myname);
}

/* dict_tool_fail - fatal error, status by mode */
__attribute__((format(printf, 1, 2), noreturn)) static void dict_tool_fail(const char *fmt, ...)
{
    VSTRING *buf = vstring_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    msg_fatal_status(dict_tool_query_mode ? DICT_TOOL_EXIT_ERROR : 1, "%s", vstring_str(buf));
}

/* dict_tool_spec - "type:name", the default type for a bare name */
static char *dict_tool_spec(const char *arg)
{
    VSTRING *type = vstring_alloc(16);
    VSTRING *name = vstring_alloc(64);
    VSTRING *spec = vstring_alloc(100);

    if (dict_split_spec(arg, type, name) < 0)
        vstring_sprintf(spec, "%s:%s", var_default_database_type, arg);
    else
        vstring_strcpy(spec, arg);
    vstring_free(type);
    vstring_free(name);
    return vstring_export(spec);
}

/* dict_tool_read_keys - keys from standard input, one a line */
static ARGV *dict_tool_read_keys(void)
{
    VSTRING *line = vstring_alloc(100);
    ARGV *keys = argv_alloc(16);
    int last;

    while ((last = vstream_get_line(VSTREAM_IN, line, DICT_MAX_LEN + 1)) != VSTREAM_EOF) {
        if (last != '\n' && vstring_len(line) > DICT_MAX_LEN)
            dict_tool_fail("standard input: key too long");
        if (last == '\n')
            vstring_truncate(line, vstring_len(line) - 1);
        vstring_trim_right(line);
        if (vstring_len(line) > 0)
            argv_add(keys, vstring_str(line));
    }
    if (vstream_ferror(VSTREAM_IN))
        dict_tool_fail("read standard input: %m");
    vstring_free(line);
    return keys;
}

static int dict_tool_query(ARGV *specs, const char *key, int dict_flags)
{
    VSTRING *why = vstring_alloc(100);
    ARGV *keys;
    const char *value;
    int found = 0;
    int status;

    if (strcmp(key, "-") != 0) {
        status = dict_query_list(specs, key, dict_flags, &value, why);
        if (status == DICT_STAT_ERROR)
            dict_tool_fail("%s", vstring_str(why));
        if (status == DICT_STAT_FOUND) {
            vstream_fprintf(VSTREAM_OUT, "%s\n", value);
            found = 1;
        }
    } else {
        keys = dict_tool_read_keys();
        for (int i = 0; i < keys->argc; i++) {
            status = dict_query_list(specs, keys->argv[i], dict_flags, &value, why);
            if (status == DICT_STAT_ERROR) {
                vstream_fflush(VSTREAM_OUT);
                dict_tool_fail("%s", vstring_str(why));
            }
            if (status == DICT_STAT_FOUND) {
                vstream_fprintf(VSTREAM_OUT, dict_tool_style == DICT_SRC_ALIAS ? "%s: %s\n" : "%s\t%s\n",
                                keys->argv[i], value);
                found = 1;
            }
        }
        argv_free(keys);
    }
    if (vstream_fflush(VSTREAM_OUT) != 0)
        dict_tool_fail("write standard output: %m");
    vstring_free(why);
    return found ? DICT_TOOL_EXIT_FOUND : DICT_TOOL_EXIT_NOTFOUND;
}

static int dict_tool_dump(const char *spec, int dict_flags)
{
    DICT *dict = dict_open(spec, O_RDONLY, dict_flags);
    const char *key, *value;
    int func = DICT_SEQ_FIRST;
    int status;

    if (dict_open_error(dict))
        dict_tool_fail("%s", dict_open_error(dict));
    while ((status = dict_seq(dict, func, &key, &value)) == DICT_STAT_FOUND) {
        func = DICT_SEQ_NEXT;
        vstream_fprintf(VSTREAM_OUT, dict_tool_style == DICT_SRC_ALIAS ? "%s: %s\n" : "%s\t%s\n", key,
                        value);
    }
    if (vstream_fflush(VSTREAM_OUT) != 0)
        dict_tool_fail("write standard output: %m");
    if (status == DICT_STAT_ERROR)
        dict_tool_fail("table %s: sequence error: %s", spec, dict_error(dict));
    dict_close(dict);
    return 0;
}

/* dict_tool_final_path - NAME.suffix of an on-disk table, or fatal */
static char *dict_tool_final_path(const char *spec, const char *what)
{
    VSTRING *type = vstring_alloc(16);
    VSTRING *name = vstring_alloc(64);
    char *path;

    if (dict_split_spec(spec, type, name) < 0)
        dict_tool_fail("bad table name: %s", spec);
    if (!dict_type_known(vstring_str(type)))
        dict_tool_fail("unsupported dictionary type: %s", vstring_str(type));
    if (!dict_type_on_disk(vstring_str(type)))
        dict_tool_fail("table %s: %s is not supported for this table type", spec, what);
    vstring_strcat(name, dict_file_suffix(vstring_str(type)));
    path = vstring_export(name);
    vstring_free(type);
    return path;
}

static int dict_tool_delete(ARGV *specs, const char *key, int dict_flags)
{
    VSTRING *why = vstring_alloc(100);
    ARGV *keys;
    int found = 0;

    if (strcmp(key, "-") == 0) {
        keys = dict_tool_read_keys();
    } else {
        keys = argv_alloc(1);
        argv_add(keys, key);
    }
    for (int i = 0; i < specs->argc; i++) {
        char *path = dict_tool_final_path(specs->argv[i], "deleting");
        DICT *dict;
        int deleted = 0;

        if (access(path, F_OK) < 0)
            dict_tool_fail("open database %s: %m", path);
        if ((dict = dict_rebuild_open(specs->argv[i], dict_flags, 1, SAFE_REPLACE_KEEP_MODE, why)) == NULL)
            dict_tool_fail("%s", vstring_str(why));
        for (int k = 0; k < keys->argc; k++) {
            int status = dict_del(dict, keys->argv[k]);

            if (status == DICT_STAT_ERROR) {
                dict_rebuild_abort(dict);
                dict_tool_fail("table %s: delete error: %s", specs->argv[i], vstring_str(dict->why));
            }
            if (status == DICT_DEL_OK)
                deleted = 1;
        }
        if (deleted) {
            if (dict_rebuild_commit(dict, why) < 0)
                dict_tool_fail("%s", vstring_str(why));
            found = 1;
        } else {
            dict_rebuild_abort(dict);
        }
        myfree(path);
    }
    argv_free(keys);
    vstring_free(why);
    return found ? DICT_TOOL_EXIT_FOUND : DICT_TOOL_EXIT_NOTFOUND;
}

static void dict_tool_build(const char *spec, int dict_flags, int incremental, int save_perm,
                          int as_owner)
{
    VSTRING *why = vstring_alloc(100);
    VSTRING *type = vstring_alloc(16);
    VSTRING *name = vstring_alloc(64);
    char *path = dict_tool_final_path(spec, "building");
    mode_t mode = SAFE_REPLACE_KEEP_MODE;
    struct stat st;
    DICT_SRC *src;
    DICT *dict;
    int as_user = 0;

    (void) dict_split_spec(spec, type, name);
    if (incremental) {
        src = dict_src_stream(VSTREAM_IN, "-");
    } else {
        if ((src = dict_src_open(vstring_str(name), why)) == NULL)
            dict_tool_fail("%s", vstring_str(why));
        if (stat(vstring_str(name), &st) < 0)
            dict_tool_fail("stat %s: %m", vstring_str(name));
        mode = save_perm ? (st.st_mode & 0644) | 0600 : 0644;
        if (as_owner && geteuid() == 0 && st.st_uid != 0) {
            set_eugid(st.st_uid, st.st_gid, NULL);
            as_user = 1;
        }
    }
    if ((dict = dict_rebuild_open(spec, dict_flags, incremental, mode, why)) == NULL)
        dict_tool_fail("%s", vstring_str(why));
    if (dict_build(dict, src, dict_tool_style, why) < 0) {
        dict_rebuild_abort(dict);
        dict_tool_fail("%s", vstring_str(why));
    }
    if (dict_rebuild_commit(dict, why) < 0)
        dict_tool_fail("%s", vstring_str(why));
    if (as_user)
        set_eugid(0, 0, NULL);
    dict_src_close(src);
    myfree(path);
    vstring_free(why);
    vstring_free(type);
    vstring_free(name);
}

/* dict_tool_std_fds - make sure descriptors 0, 1, 2 are open */
static void dict_tool_std_fds(void)
{
    struct stat st;

    for (int fd = 0; fd < 3; fd++)
        if (fstat(fd, &st) < 0 && open("/dev/null", O_RDWR) != fd)
            msg_fatal("open /dev/null: %m");
}

int dict_tool_main(int argc, char **argv, int style)
{
    int dict_flags = DICT_FLAG_DUP_WARN | DICT_FLAG_FOLD_FIX;
    const char *config_dir = NULL;
    const char *query = NULL, *delkey = NULL;
    int sequence = 0, incremental = 0, save_perm = 1, as_owner = 1;
    VSTRING *why = vstring_alloc(100);
    ARGV *specs, *operands;
    int ch, status = 0;

    umask(022);
    dict_tool_std_fds();
    dict_tool_style = style;
    msg_init(argv[0]);
    msg_set_stderr(1);
    if (getenv("MAIL_VERBOSE"))
        msg_verbose = 1;
    while ((ch = getopt(argc, argv, "bc:d:fhimnNopq:rsuUvw")) > 0) {
        switch (ch) {
        case 'N':
            dict_flags = (dict_flags | DICT_FLAG_TRY1NULL) & ~DICT_FLAG_TRY0NULL;
            break;
        case 'n':
            dict_flags = (dict_flags | DICT_FLAG_TRY0NULL) & ~DICT_FLAG_TRY1NULL;
            break;
        case 'c':
            config_dir = optarg;
            break;
        case 'd':
            if (sequence || query || delkey)
                msg_fatal_status(DICT_TOOL_EXIT_ERROR, "specify only one of -s -q or -d");
            delkey = optarg;
            dict_tool_query_mode = 1;
            break;
        case 'f':
            dict_flags &= ~DICT_FLAG_FOLD_FIX;
            break;
        case 'i':
            incremental = 1;
            break;
        case 'o':
            as_owner = 0;
            break;
        case 'p':
            save_perm = 0;
            break;
        case 'q':
            if (sequence || query || delkey)
                msg_fatal_status(DICT_TOOL_EXIT_ERROR, "specify only one of -s -q or -d");
            query = optarg;
            dict_tool_query_mode = 1;
            break;
        case 'r':
            dict_flags = (dict_flags & ~(DICT_FLAG_DUP_WARN | DICT_FLAG_DUP_IGNORE))
                         | DICT_FLAG_DUP_REPLACE;
            break;
        case 's':
            if (query || delkey)
                msg_fatal_status(DICT_TOOL_EXIT_ERROR, "specify only one of -s -q or -d");
            sequence = 1;
            break;
        case 'u':
        case 'U':
            break; /* UTF-8 handling: keys are passed through as bytes */
        case 'v':
            msg_verbose++;
            break;
        case 'w':
            dict_flags = (dict_flags & ~(DICT_FLAG_DUP_WARN | DICT_FLAG_DUP_REPLACE))
                         | DICT_FLAG_DUP_IGNORE;
            break;
        case 'b':
        case 'h':
        case 'm':
            msg_fatal_status(DICT_TOOL_EXIT_ERROR,
                             "-%c (message header/body queries) is not supported", ch);
        default:
            dict_tool_usage(argv[0]);
        }
    }
    if (optind >= argc && !(style == DICT_SRC_ALIAS && strcmp(msg_prog(), "newaliases") == 0))
        dict_tool_usage(argv[0]);
    if (mail_conf_read_check(config_dir, why) < 0 && errno != ENOENT)
        dict_tool_fail("%s", vstring_str(why));
    if (mail_conf_eval_check(why) < 0)
        dict_tool_fail("%s", vstring_str(why));
    dict_lmdb_map_size = (size_t) var_lmdb_map_size;
    dict_db_read_cache = (size_t) var_berkeley_db_read_buffer_size;
    dict_db_write_cache = (size_t) var_berkeley_db_create_buffer_size;

    if (optind < argc) {
        operands = argv_alloc(argc);
        for (int i = optind; i < argc; i++)
            argv_add(operands, argv[i]);
    } else {
        operands = maps_split(var_alias_database); /* newaliases */
        if (operands->argc == 0)
            msg_fatal("alias_database is empty: nothing to rebuild");
    }
    specs = argv_alloc(argc);
    for (int i = 0; i < operands->argc; i++) {
        char *spec = dict_tool_spec(operands->argv[i]);

        argv_add(specs, spec);
        myfree(spec);
    }
    argv_free(operands);
    if (query) {
        status = dict_tool_query(specs, query, dict_flags | DICT_FLAG_LOCK);
    } else if (delkey) {
        status = dict_tool_delete(specs, delkey, dict_flags | DICT_FLAG_LOCK);
    } else if (sequence) {
        status = dict_tool_dump(specs->argv[0], dict_flags | DICT_FLAG_LOCK);
    } else {
        for (int i = 0; i < specs->argc; i++)
            dict_tool_build(specs->argv[i], dict_flags, incremental, save_perm, as_owner);
    }
    argv_free(specs);
    vstring_free(why);
    vstream_fflush(VSTREAM_OUT);
    return status;
}
