/*
 * NAME
 *	dict_inline - the inline:{ key=value, ... } table
 * SYNOPSIS
 *	#include "dict.h"
 *
 *	DICT *dict_inline_open(const char *type, const char *name,
 *			const char *path, int open_flags, int dict_flags)
 * DESCRIPTION
 *	The table's content is its name: "{ key1=value1, key2=value2 }".
 *	Entries are separated by commas or white space; an entry that
 *	needs either in its value is written inside its own braces,
 *	"{ key = text with spaces }", where the blanks around '=' are
 *	dropped. An entry without '=', an empty key, a missing brace or a
 *	duplicate key makes the table fail (every lookup returns
 *	DICT_STAT_ERROR with the reason).
 */
#include <ctype.h>
#include <fcntl.h>
#include <string.h>

#include "argv.h"
#include "dict.h"
#include "mymalloc.h"

static void dict_inline_trim(char **start, char **end)
{
    while (*start < *end && isspace((unsigned char) **start))
        (*start)++;
    while (*end > *start && isspace((unsigned char) (*end)[-1]))
        (*end)--;
}

DICT *dict_inline_open(const char *type, const char *name, const char *path, int open_flags,
                       int dict_flags)
{
    size_t len = strlen(name);
    ARGV *fields;
    DICT *dict;
    char *inner;

    (void) path;
    if (len < 2 || name[0] != '{' || name[len - 1] != '}')
        return dict_surrogate(type, name, open_flags, dict_flags,
                              "%s:%s: table content must be enclosed in {}", type, name);
    inner = mystrndup(name + 1, len - 2);
    fields = argv_split_braces(inner, ARGV_DELIM_LIST);
    myfree(inner);
    if (fields == NULL)
        return dict_surrogate(type, name, open_flags, dict_flags, "%s:%s: unbalanced '{'", type,
                              name);
    dict = dict_mem_create(type, name, O_RDWR, dict_flags & ~DICT_FLAG_DUP_REPLACE);
    for (int i = 0; i < fields->argc; i++) {
        char *field = fields->argv[i];
        char *eq = strchr(field, '=');
        char *kstart = field, *kend = eq, *vstart, *vend;

        if (eq == NULL) {
            dict_close(dict);
            dict = dict_surrogate(type, name, open_flags, dict_flags,
                                  "%s:%s: expected key=value, found \"%s\"", type, name, field);
            break;
        }
        vstart = eq + 1;
        vend = eq + strlen(eq);
        dict_inline_trim(&kstart, &kend);
        dict_inline_trim(&vstart, &vend);
        *kend = 0;
        *vend = 0;
        if (*kstart == 0) {
            dict_close(dict);
            dict = dict_surrogate(type, name, open_flags, dict_flags,
                                  "%s:%s: empty key in \"%s\"", type, name, fields->argv[i]);
            break;
        }
        if (dict_put(dict, kstart, vstart) == DICT_PUT_DUP) {
            dict_close(dict);
            dict = dict_surrogate(type, name, open_flags, dict_flags,
                                  "%s:%s: duplicate key \"%s\"", type, name, kstart);
            break;
        }
    }
    argv_free(fields);
    dict->open_flags = open_flags;
    return dict;
}
