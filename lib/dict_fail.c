/*
 * NAME
 *	dict_fail - the fail:name table
 * SYNOPSIS
 *	#include "dict.h"
 *
 *	DICT *dict_fail_open(const char *type, const char *name,
 *			const char *path, int open_flags, int dict_flags)
 * DESCRIPTION
 *	Every operation on a fail table returns DICT_STAT_ERROR, with the
 *	reason "fail:NAME: table lookup failed". It stands in for a table
 *	that must not be used, so that mail is deferred rather than
 *	accepted or rejected by mistake.
 */
#include "dict.h"

DICT *dict_fail_open(const char *type, const char *name, const char *path, int open_flags,
                     int dict_flags)
{
    (void) path;
    return dict_surrogate(type, name, open_flags, dict_flags, "%s:%s: table lookup failed", type,
                          name);
}
