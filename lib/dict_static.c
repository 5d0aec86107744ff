/*
 * NAME
 *	dict_static - the static:value table
 * SYNOPSIS
 *	#include "dict.h"
 *
 *	DICT *dict_static_open(const char *type, const char *name,
 *			const char *path, int open_flags, int dict_flags)
 * DESCRIPTION
 *	A static table answers every lookup with the same value: the
 *	name itself, or the text inside "{ ... }" with the blanks next to
 *	the braces removed, so that a value may contain spaces
 *	("static:{text with spaces}"). It cannot be updated.
 */
#include <ctype.h>
#include <string.h>

#include "dict.h"
#include "mymalloc.h"

typedef struct DICT_STATIC {
    DICT dict;
    char *value;
} DICT_STATIC;

static int dict_static_get(DICT *dict, const char *key, const char **value)
{
    (void) key;
    *value = ((DICT_STATIC *) dict)->value;
    return DICT_STAT_FOUND;
}

static void dict_static_close(DICT *dict)
{
    myfree(((DICT_STATIC *) dict)->value);
}

DICT *dict_static_open(const char *type, const char *name, const char *path, int open_flags,
                       int dict_flags)
{
    DICT_STATIC *ds;
    size_t len = strlen(name);
    const char *start = name, *end = name + len;

    (void) path;
    if (len >= 1 && name[0] == '{') {
        if (len < 2 || end[-1] != '}')
            return dict_surrogate(type, name, open_flags, dict_flags, "%s:%s: missing '}'", type,
                                  name);
        start++;
        end--;
        while (start < end && isspace((unsigned char) *start))
            start++;
        while (end > start && isspace((unsigned char) end[-1]))
            end--;
    }
    ds = (DICT_STATIC *) dict_alloc(type, name, sizeof(*ds), open_flags,
                                    dict_flags | DICT_FLAG_FIXED);
    ds->value = mystrndup(start, (size_t) (end - start));
    ds->dict.get = dict_static_get;
    ds->dict.close = dict_static_close;
    return &ds->dict;
}
