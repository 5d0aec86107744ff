/*
 * NAME
 *	local_alias - alias_maps expansion
 * SYNOPSIS
 *	#include "local.h"
 *
 *	int local_alias(LOCAL_STATE *state, const LOCAL_ATTR *attr,
 *			const char *name, int *found)
 * DESCRIPTION
 *	local_alias() looks name (a local part, lower case) up in the
 *	alias_maps tables, in order. When no table has it, *found is 0 and
 *	nothing is recorded. A table that cannot answer defers the
 *	recipient ("alias database unavailable", 4.3.0), with *found 1: a
 *	broken table must never let mail fall through to a mailbox.
 *	A name that the same alias is expanding further up (name: name,
 *	other) is not expanded again: it goes on to the user's mailbox.
 *
 *	When the alias exists, its value is expanded (local_tokens) with:
 *	- the privileges of the table's owner for |command and /file
 *	  destinations: the owner of the table's file, or default_privs
 *	  when root owns it or it is not a file (inline:, static:);
 *	- as envelope sender of copies made from the expansion, with
 *	  owner_request_special, owner-NAME@$myorigin when an owner-NAME
 *	  alias exists (with expand_owner_alias, the first address of that
 *	  alias instead), so that delivery problems go to the list owner;
 *	- Delivered-To: the alias address, for copies made from it.
 */
#include <string.h>
#include <sys/stat.h>

#include "dict.h"
#include "local.h"
#include "mail_conf.h"
#include "mailbox_copy.h"
#include "msg.h"
#include "mymalloc.h"

/* local_alias_privs - who runs the table's commands and writes its files */
static void local_alias_privs(DICT *dict, LOCAL_PRIVS *privs)
{
    VSTRING *path = vstring_alloc(100);
    const char *suffix = dict_file_suffix(dict->type);
    struct stat st;
    UGID_USER pw;

    *privs = local_default_privs;
    if (dict->name[0] == '/') {
        vstring_sprintf(path, "%s%s", dict->name, suffix ? suffix : "");
        if (stat(vstring_str(path), &st) == 0 && st.st_uid != 0) {
            memset(privs, 0, sizeof(*privs));
            privs->uid = st.st_uid;
            privs->gid = st.st_gid;
            if (ugid_user_byuid(st.st_uid, &pw) > 0) {
                privs->gid = pw.gid;
                strcpy(privs->name, pw.name);
                strcpy(privs->home, pw.home);
                strcpy(privs->shell, pw.shell);
            }
        }
    }
    vstring_free(path);
}

/* local_alias_find - look name up table by table; which table answered */
static int local_alias_find(const char *name, const char **value, DICT **which)
{
    int rc;

    for (int i = 0; i < local_alias_maps->names->argc; i++) {
        DICT *dict = local_alias_maps->dicts[i];

        rc = dict_get(dict, name, value);
        if (rc == DICT_STAT_ERROR) {
            msg_warn("%s lookup of %s: %s", local_alias_maps->names->argv[i], name,
                     dict_error(dict) ? dict_error(dict) : "table error");
            return rc;
        }
        if (rc == DICT_STAT_FOUND) {
            *which = dict;
            return rc;
        }
    }
    return DICT_STAT_NOTFOUND;
}

/* local_owner - the sender for an alias that has an owner- alias; NULL if none */
static int local_owner(const char *name, char **owner)
{
    VSTRING *key = vstring_alloc(50);
    const char *value;
    DICT *dict;
    int rc;

    *owner = NULL;
    vstring_sprintf(key, "owner-%s", name);
    rc = local_alias_find(vstring_str(key), &value, &dict);
    if (rc == DICT_STAT_FOUND) {
        ARGV *first = var_expand_owner_alias ? local_token_split(value) : NULL;

        if (first && first->argc > 0 && first->argv[0][0] != '|' && first->argv[0][0] != '/' &&
            first->argv[0][0] != ':') {
            vstring_strcpy(key, first->argv[0][0] == '\\' ? first->argv[0] + 1 : first->argv[0]);
            if (strrchr(vstring_str(key), '@') == NULL && *var_myorigin)
                vstring_sprintf_append(key, "@%s", var_myorigin);
            *owner = mystrdup(vstring_str(key));
        } else if (*var_myorigin)
            *owner = mystrdup(vstring_str(vstring_sprintf_append(key, "@%s", var_myorigin)));
        else
            *owner = mystrdup(vstring_str(key));
        if (first)
            argv_free(first);
    }
    vstring_free(key);
    return rc;
}

int local_alias(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *name, int *found)
{
    const LOCAL_ATTR *up;
    const char *value;
    DICT *dict = NULL;
    LOCAL_PRIVS privs;
    LOCAL_ATTR child;
    char *expansion;
    char *owner = NULL;
    int rc;

    *found = 0;
    for (up = attr; up; up = up->parent)
        if (up->exp_type == LOCAL_EXP_ALIAS && strcmp(up->exp_from, name) == 0)
            return MAILBOX_OK;

    rc = local_alias_find(name, &value, &dict);
    if (rc == DICT_STAT_NOTFOUND)
        return MAILBOX_OK;
    *found = 1;
    if (rc == DICT_STAT_ERROR)
        return local_defer(state, attr, "4.3.0", "alias database unavailable");
    expansion = mystrdup(value);
    local_alias_privs(dict, &privs);

    if (var_owner_request_special && strncmp(name, "owner-", 6) != 0 &&
        local_owner(name, &owner) == DICT_STAT_ERROR) {
        myfree(expansion);
        return local_defer(state, attr, "4.3.0", "alias database unavailable");
    }

    child = *attr;
    child.parent = attr;
    child.level = attr->level + 1;
    child.flags = 0;
    child.delivered = attr->recipient;
    child.exp_type = LOCAL_EXP_ALIAS;
    child.exp_from = name;
    child.privs = &privs;
    if (owner)
        child.sender = owner;
    rc = local_tokens(state, &child, expansion);
    myfree(expansion);
    myfree(owner);
    return rc;
}
