/*
 * NAME
 *	maps - a list of lookup tables searched in order
 * SYNOPSIS
 *	#include "maps.h"
 *
 *	MAPS *maps_create(const char *title, const char *map_names, int dict_flags)
 *	int maps_find(MAPS *maps, const char *key, int flags, const char **value)
 *	const char *maps_error(MAPS *maps)
 *	void maps_free(MAPS *maps)
 *	ARGV *maps_split(const char *map_names)
 * DESCRIPTION
 *	maps_split() breaks a list of table names at commas and white
 *	space that are not inside braces, so "inline:{ a=b, c=d }" stays
 *	one name. An unbalanced brace leaves the rest of the text as one
 *	name, whose table then fails to open and so fails every lookup.
 *
 *	maps_create() opens each name with dict_open(O_RDONLY).
 *
 *	maps_find() asks each table in turn (skipping pattern tables with
 *	MAPS_FIXED_ONLY). The first DICT_STAT_FOUND or DICT_STAT_ERROR
 *	ends the search; an error is logged as "warning: TITLE: TYPE:NAME:
 *	lookup of "KEY" failed: REASON" and kept for maps_error().
 */
#include <fcntl.h>
#include <string.h>

#include "maps.h"
#include "msg.h"
#include "mymalloc.h"

ARGV *maps_split(const char *map_names)
{
    ARGV *names = argv_alloc(4);
    const char *cp = map_names;

    for (;;) {
        const char *start;
        int depth = 0;

        cp += strspn(cp, ARGV_DELIM_LIST);
        if (*cp == 0)
            break;
        start = cp;
        for (; *cp; cp++) {
            if (*cp == '{')
                depth++;
            else if (*cp == '}' && depth > 0)
                depth--;
            else if (depth == 0 && strchr(ARGV_DELIM_LIST, *cp))
                break;
        }
        argv_addn(names, start, (size_t) (cp - start));
    }
    return names;
}

MAPS *maps_create(const char *title, const char *map_names, int dict_flags)
{
    MAPS *maps = mymalloc(sizeof(*maps));

    maps->title = mystrdup(title);
    maps->names = maps_split(map_names ? map_names : "");
    maps->dicts = mycalloc((size_t) maps->names->argc + 1, sizeof(DICT *));
    for (int i = 0; i < maps->names->argc; i++)
        maps->dicts[i] = dict_open(maps->names->argv[i], O_RDONLY, dict_flags);
    maps->why = vstring_alloc(100);
    return maps;
}

int maps_find(MAPS *maps, const char *key, int flags, const char **value)
{
    *value = NULL;
    for (int i = 0; i < maps->names->argc; i++) {
        DICT *dict = maps->dicts[i];
        int status;

        if ((flags & MAPS_FIXED_ONLY) && (dict->flags & DICT_FLAG_PATTERN))
            continue;
        status = dict_get(dict, key, value);
        if (status == DICT_STAT_FOUND)
            return status;
        if (status == DICT_STAT_ERROR) {
            vstring_sprintf(maps->why, "%s: %s: lookup of \"%s\" failed: %s", maps->title,
                            maps->names->argv[i], key, dict_error(dict));
            msg_warn("%s", vstring_str(maps->why));
            return status;
        }
    }
    return DICT_STAT_NOTFOUND;
}

const char *maps_error(MAPS *maps)
{
    return vstring_len(maps->why) ? vstring_str(maps->why) : "no error";
}

void maps_free(MAPS *maps)
{
    if (maps == NULL)
        return;
    for (int i = 0; i < maps->names->argc; i++)
        dict_close(maps->dicts[i]);
    myfree(maps->dicts);
    argv_free(maps->names);
    vstring_free(maps->why);
    myfree(maps->title);
    myfree(maps);
}
