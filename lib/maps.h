#ifndef POSTERN_MAPS_H
#define POSTERN_MAPS_H
/*
 * maps - a list of lookup tables searched in order
 *
 * A parameter such as virtual_alias_maps = hash:/etc/postern/virtual,
 * pcre:/etc/postern/virtual.pcre names tables that are searched one after
 * the other; the first table that has the key answers.
 *
 * maps_create() splits map_names on commas and white space (a table with
 * braces, such as inline:{ a=b, c=d }, stays one name) and opens every
 * table read-only with dict_flags (DICT_FLAG_DEFAULT is what daemons
 * want). title names the parameter in log messages. A table that cannot
 * be opened does not make maps_create() fail: its lookups return
 * DICT_STAT_ERROR (see dict_open).
 *
 * maps_find() returns DICT_STAT_FOUND with *value (owned by the table,
 * valid until the next lookup in the same MAPS), DICT_STAT_NOTFOUND, or
 * DICT_STAT_ERROR when a table could not answer before any table found
 * the key; the search stops at the error, because a later table must not
 * answer for a broken earlier one. maps_error() gives the reason; the
 * error is also logged as a warning. With MAPS_FIXED_ONLY, pattern tables
 * (regexp, pcre, cidr) are skipped: partial keys such as "user" or
 * "@domain" are looked up in fixed-string tables only.
 *
 * Ownership: the MAPS belongs to the caller (maps_free()); tables are
 * shared through the dict_open() registry.
 */
#include "argv.h"
#include "dict.h"
#include "vstring.h"

#define MAPS_FIND_ALL 0
#define MAPS_FIXED_ONLY 1

typedef struct MAPS {
    char *title;      /* "virtual_alias_maps" */
    ARGV *names;      /* "type:name" of each table */
    DICT **dicts;     /* parallel to names */
    VSTRING *why;     /* reason of the last error */
} MAPS;

MAPS *maps_create(const char *title, const char *map_names, int dict_flags);
int maps_find(MAPS *maps, const char *key, int flags, const char **value);
const char *maps_error(MAPS *maps);
void maps_free(MAPS *maps);
ARGV *maps_split(const char *map_names);  /* the table names, caller frees */

#endif
