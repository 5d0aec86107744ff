/*
 * NAME
 *	dict_build - fill tables from source files; query lists of tables
 * SYNOPSIS
 *	#include "dict.h"
 *
 *	long dict_build(DICT *dict, DICT_SRC *src, int style, VSTRING *why)
 *	int dict_query_list(ARGV *specs, const char *key, int dict_flags,
 *			const char **value, VSTRING *why)
 * DESCRIPTION
 *	These are the parts of postmap(1) and postalias(1) that do not
 *	depend on the command line.
 *
 *	dict_build() reads every logical line of src (see dict_src(3)),
 *	splits it as a map entry (DICT_SRC_MAP) or an aliases(5) entry
 *	(DICT_SRC_ALIAS), and stores it with dict_put(). A line that does
 *	not split is logged as "error: FILE:LINE: reason" and counted; the
 *	remaining lines are still checked so that one run reports every bad
 *	line. A key that is already present is logged as "warning:
 *	FILE:LINE: duplicate entry: "key"" and keeps its first value, unless
 *	the table has DICT_FLAG_DUP_IGNORE (silent) or DICT_FLAG_DUP_REPLACE
 *	(the new value wins, silently). It returns the number of entries
 *	stored, or -1 with why when a line was bad, the source could not be
 *	read, or an update failed.
 *
 *	dict_query_list() opens each "type:name" of specs (read-only,
 *	shared through the dict_open() registry) and looks key up in turn.
 */
#include <fcntl.h>
#include <string.h>

#include "dict.h"
#include "msg.h"
#include "vstring.h"

#define DICT_BUILD_MAX_REPORTED 100

long dict_build(DICT *dict, DICT_SRC *src, int style, VSTRING *why)
{
    VSTRING *line = vstring_alloc(100);
    VSTRING *reason = vstring_alloc(100);
    char *key, *value;
    long count = 0, errors = 0;
    int lineno, status, split;

    while ((status = dict_src_next(src, line, &lineno, reason)) != 0) {
        if (status < 0) {
            /* a bad line, or a read error after which the source reports its end */
            if (++errors <= DICT_BUILD_MAX_REPORTED)
                msg_error("%s", vstring_str(reason));
            continue;
        }
        if (style == DICT_SRC_ALIAS)
            split = dict_src_split_alias(vstring_str(line), &key, &value, reason);
        else
            split = dict_src_split_map(vstring_str(line), &key, &value, reason);
        if (split < 0) {
            if (++errors <= DICT_BUILD_MAX_REPORTED)
                msg_error("%s:%d: %s", dict_src_name(src), lineno, vstring_str(reason));
            continue;
        }
        if (errors)
            continue; /* keep checking, but the table will not be used */
        status = dict_put(dict, key, value);
        if (status == DICT_STAT_ERROR) {
            vstring_sprintf(why, "%s", dict_error(dict));
            count = -1;
            goto out;
        }
        if (status == DICT_PUT_DUP) {
            if ((dict->flags & (DICT_FLAG_DUP_IGNORE | DICT_FLAG_DUP_REPLACE)) == 0)
                msg_warn("%s:%d: duplicate entry: \"%s\"", dict_src_name(src), lineno, key);
            continue;
        }
        count++;
    }
    if (errors) {
        vstring_sprintf(why, "%s: %ld error%s; table %s:%s not changed", dict_src_name(src),
                        errors, errors == 1 ? "" : "s", dict->type, dict->name);
        count = -1;
    }
out:
    vstring_free(line);
    vstring_free(reason);
    return count;
}

int dict_query_list(ARGV *specs, const char *key, int dict_flags, const char **value,
                    VSTRING *why)
{
    for (int i = 0; i < specs->argc; i++) {
        DICT *dict = dict_open(specs->argv[i], O_RDONLY, dict_flags);
        int status = dict_get(dict, key, value);

        if (status == DICT_STAT_ERROR) {
            vstring_sprintf(why, "table %s: lookup error: %s", specs->argv[i], dict_error(dict));
            return status;
        }
        if (status == DICT_STAT_FOUND)
            return status;
    }
    return DICT_STAT_NOTFOUND;
}
