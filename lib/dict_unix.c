/*
 * NAME
 *	dict_unix - the unix:passwd.byname and unix:group.byname tables
 * SYNOPSIS
 *	#include "dict.h"
 *
 *	DICT *dict_unix_open(const char *type, const char *name,
 *			const char *path, int open_flags, int dict_flags)
 * DESCRIPTION
 *	unix:passwd.byname looks a login name up with getpwnam(3) and
 *	answers the passwd(5) line "name:passwd:uid:gid:gecos:dir:shell".
 *	unix:group.byname looks a group up with getgrnam(3) and answers
 *	"name:passwd:gid:member,member". Any other name fails to open.
 *	A system error during the lookup (not "no such entry") is
 *	DICT_STAT_ERROR.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "dict.h"
#include "vstring.h"

typedef struct DICT_UNIX {
    DICT dict;
    VSTRING *result;
} DICT_UNIX;

static int dict_unix_lookup_error(DICT *dict, const char *key)
{
    if (errno != 0 && errno != ENOENT && errno != ESRCH && errno != EBADF && errno != EPERM)
        return dict_set_error(dict, "%s:%s: lookup of \"%s\": %s", dict->type, dict->name, key,
                              strerror(errno));
    return DICT_STAT_NOTFOUND;
}

static int dict_unix_getpw(DICT *dict, const char *key, const char **value)
{
    DICT_UNIX *du = (DICT_UNIX *) dict;
    struct passwd *pw;

    errno = 0;
    if ((pw = getpwnam(key)) == NULL)
        return dict_unix_lookup_error(dict, key);
    vstring_sprintf(du->result, "%s:%s:%ld:%ld:%s:%s:%s", pw->pw_name, pw->pw_passwd,
                    (long) pw->pw_uid, (long) pw->pw_gid, pw->pw_gecos, pw->pw_dir, pw->pw_shell);
    *value = vstring_str(du->result);
    return DICT_STAT_FOUND;
}

static int dict_unix_getgr(DICT *dict, const char *key, const char **value)
{
    DICT_UNIX *du = (DICT_UNIX *) dict;
    struct group *gr;

    errno = 0;
    if ((gr = getgrnam(key)) == NULL)
        return dict_unix_lookup_error(dict, key);
    vstring_sprintf(du->result, "%s:%s:%ld:", gr->gr_name, gr->gr_passwd, (long) gr->gr_gid);
    for (char **mem = gr->gr_mem; mem && *mem; mem++)
        vstring_sprintf_append(du->result, "%s%s", mem == gr->gr_mem ? "" : ",", *mem);
    *value = vstring_str(du->result);
    return DICT_STAT_FOUND;
}

static void dict_unix_close(DICT *dict)
{
    vstring_free(((DICT_UNIX *) dict)->result);
}

DICT *dict_unix_open(const char *type, const char *name, const char *path, int open_flags,
                     int dict_flags)
{
    DICT_UNIX *du;
    int (*get)(DICT *, const char *, const char **);

    (void) path;
    if (strcmp(name, "passwd.byname") == 0)
        get = dict_unix_getpw;
    else if (strcmp(name, "group.byname") == 0)
        get = dict_unix_getgr;
    else
        return dict_surrogate(type, name, open_flags, dict_flags,
                              "unknown table: %s:%s", type, name);
    du = (DICT_UNIX *) dict_alloc(type, name, sizeof(*du), open_flags, dict_flags | DICT_FLAG_FIXED);
    du->result = vstring_alloc(100);
    du->dict.get = get;
    du->dict.close = dict_unix_close;
    return &du->dict;
}
