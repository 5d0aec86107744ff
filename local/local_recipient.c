/*
 * NAME
 *	local_recipient - deliver to one local address, in Postfix's order
 * SYNOPSIS
 *	#include "local.h"
 *
 *	int local_recipient(LOCAL_STATE *state, const LOCAL_ATTR *attr)
 *	void local_split(const char *addr, VSTRING *user, VSTRING *ext,
 *			 VSTRING *domain, VSTRING *localpart)
 * DESCRIPTION
 *	local_recipient() delivers attr->recipient, an address in a local
 *	domain (or without a domain):
 *	1. Too many nested expansions, or a Delivered-To: header in the
 *	   message that names this address (case-insensitively): returned
 *	   as "mail forwarding loop for ADDRESS" (5.4.6).
 *	2. Unless the address came from "\name" or is being expanded by
 *	   the same alias further up: alias_maps, with the whole local part
 *	   and then without its extension (local_alias).
 *	3. The user: the local part without its extension, folded to lower
 *	   case, must be a UNIX account. Otherwise the mail goes to
 *	   luser_relay when that is set, or is returned as "unknown user:
 *	   "NAME"" (5.1.1).
 *	4. Unless the address came from "\name" or from the same .forward
 *	   file: the first forward_path file that exists, read with the
 *	   user's privileges. Its destinations replace the mailbox.
 *	5. The user's mailbox (local_mailbox).
 *	Returns the MAILBOX_* code of the last outcome recorded.
 *
 *	local_split() cuts an address into the user name (lower case, no
 *	extension), the extension (without the delimiter; empty when there
 *	is none), the domain and the whole local part (lower case). The
 *	extension starts at the first character that occurs in
 *	recipient_delimiter, except with owner_request_special when "-" is
 *	a delimiter and the local part starts with "owner-" or ends in
 *	"-request". Any argument but addr may be NULL.
 */
#include <errno.h>
#include <string.h>

#include "address.h"
#include "local.h"
#include "mail_conf.h"
#include "mailbox_copy.h"
#include "msg.h"
#include "mymalloc.h"

void local_split(const char *addr, VSTRING *user, VSTRING *ext, VSTRING *domain, VSTRING *localpart)
{
    VSTRING *lp = vstring_alloc(50);
    VSTRING *dom = vstring_alloc(50);
    size_t len;
    size_t pos;
    int split = 1;

    (void)address_split(addr, lp, dom);
    vstring_lowercase(lp);
    len = vstring_len(lp);
    if (*var_recipient_delimiter == 0)
        split = 0;
    else if (var_owner_request_special && strchr(var_recipient_delimiter, '-') &&
             (strncmp(vstring_str(lp), "owner-", 6) == 0 ||
              (len > 8 && strcmp(vstring_str(lp) + len - 8, "-request") == 0)))
        split = 0;
    pos = split ? strcspn(vstring_str(lp), var_recipient_delimiter) : len;
    if (pos == 0)
        pos = len; /* a local part that starts with the delimiter has no extension */
    if (user)
        vstring_strncpy(user, vstring_str(lp), pos);
    if (ext)
        vstring_strcpy(ext, pos < len ? vstring_str(lp) + pos + 1 : "");
    if (domain)
        vstring_strcpy(domain, vstring_str(dom));
    if (localpart)
        vstring_strcpy(localpart, vstring_str(lp));
    vstring_free(lp);
    vstring_free(dom);
}

/* local_expanding - is this alias or .forward file being expanded further up? */
static int local_expanding(const LOCAL_ATTR *attr, int exp_type, const char *name)
{
    for (; attr; attr = attr->parent)
        if (attr->exp_type == exp_type && strcmp(attr->exp_from, name) == 0)
            return 1;
    return 0;
}

/* local_luser_relay - unknown user: forward to luser_relay, when set */
static int local_luser_relay(LOCAL_STATE *state, const LOCAL_ATTR *attr, const LOCAL_VARS *vars)
{
    VSTRING *addr = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    LOCAL_ATTR child = *attr;
    int rc;

    if (local_expand(addr, var_luser_relay, vars, NULL, why) < 0) {
        msg_warn("luser_relay: %s", vstring_str(why));
        rc = local_defer(state, attr, "4.3.5", "mail system configuration error");
    } else {
        child.parent = attr;
        child.level = attr->level + 1;
        child.delivered = attr->recipient;
        child.exp_type = LOCAL_EXP_NONE;
        child.exp_from = "luser_relay";
        rc = local_tokens(state, &child, vstring_str(addr));
    }
    vstring_free(addr);
    vstring_free(why);
    return rc;
}

/* local_dot_forward - the user's .forward file; *found when one was used */
static int local_dot_forward(LOCAL_STATE *state, const LOCAL_ATTR *attr, const UGID_USER *pw,
                             const LOCAL_VARS *vars, int *found)
{
    VSTRING *paths = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    VSTRING *text = vstring_alloc(100);
    LOCAL_PRIVS privs;
    LOCAL_ATTR child;
    ARGV *list;
    int rc = MAILBOX_OK;

    *found = 0;
    if (local_expand(paths, var_forward_path, vars, NULL, why) < 0) {
        msg_warn("forward_path: %s", vstring_str(why));
        *found = 1;
        rc = local_defer(state, attr, "4.3.5", "mail system configuration error");
        goto done;
    }
    list = argv_split(vstring_str(paths), ARGV_DELIM_LIST);
    for (int i = 0; i < list->argc && !*found; i++) {
        const char *path = list->argv[i];
        int err;

        if (*path != '/' || local_expanding(attr, LOCAL_EXP_FORWARD, path))
            continue;
        local_set_privs(pw->uid, pw->gid, pw->name);
        if (local_read_file(path, pw->uid, 0, text, why, NULL) < 0) {
            err = errno;
            local_reset_privs();
            if (err == ENOENT || err == ENOTDIR || (err == EACCES && !local_privileged()))
                continue;
            msg_warn("%s", vstring_str(why));
            *found = 1;
            rc = local_defer(state, attr, "4.3.0", "cannot read forward file %s: %s", path,
                             strerror(err));
            break;
        }
        local_reset_privs();
        ARGV *words = local_token_split(vstring_str(text));
        int empty = words->argc == 0;

        argv_free(words);
        if (empty)
            continue; /* an empty .forward: the mailbox */
        *found = 1;
        memset(&privs, 0, sizeof(privs));
        privs.uid = pw->uid;
        privs.gid = pw->gid;
        strcpy(privs.name, pw->name);
        strcpy(privs.home, pw->home);
        strcpy(privs.shell, pw->shell);
        if (pw->uid == 0)
            privs = local_default_privs; /* root's .forward: never as root */
        child = *attr;
        child.parent = attr;
        child.level = attr->level + 1;
        child.flags = 0;
        child.delivered = attr->recipient;
        child.exp_type = LOCAL_EXP_FORWARD;
        child.exp_from = path;
        child.privs = &privs;
        rc = local_tokens(state, &child, vstring_str(text));
    }
    argv_free(list);
done:
    vstring_free(paths);
    vstring_free(why);
    vstring_free(text);
    return rc;
}

int local_recipient(LOCAL_STATE *state, const LOCAL_ATTR *attr)
{
    VSTRING *user = vstring_alloc(50);
    VSTRING *ext = vstring_alloc(50);
    VSTRING *domain = vstring_alloc(50);
    VSTRING *localpart = vstring_alloc(50);
    LOCAL_VARS vars;
    UGID_USER pw;
    int found;
    int rc;

    /* 1. loops */
    if (attr->level > LOCAL_LEVEL_MAX) {
        msg_warn("%s: possible alias or forwarding loop for %s", state->req->queue_id,
                 attr->recipient);
        rc = local_bounce(state, attr, "5.4.6", "mail forwarding loop for %s", attr->recipient);
        goto done;
    }
    switch (mailbox_header_find(state->queue, state->req->data_offset, "Delivered-To",
                                attr->recipient)) {
    case 1:
        rc = local_bounce(state, attr, "5.4.6", "mail forwarding loop for %s", attr->recipient);
        goto done;
    case -1:
        rc = local_defer(state, attr, "4.3.0", "error reading message: queue file read error");
        goto done;
    }
    local_split(attr->recipient, user, ext, domain, localpart);
    if (vstring_len(user) == 0) {
        rc = local_bounce(state, attr, "5.1.1", "unknown user: \"%s\"", vstring_str(localpart));
        goto done;
    }

    /* 2. aliases */
    if (!(attr->flags & LOCAL_FLAG_NO_ALIAS)) {
        rc = local_alias(state, attr, vstring_str(localpart), &found);
        if (!found && vstring_len(ext) > 0)
            rc = local_alias(state, attr, vstring_str(user), &found);
        if (found)
            goto done;
    }

    /* 3. the user */
    memset(&vars, 0, sizeof(vars));
    vars.user = vstring_str(user);
    vars.recipient = attr->recipient;
    vars.extension = vstring_str(ext);
    vars.domain = vstring_str(domain);
    vars.local = vstring_str(localpart);
    switch (ugid_user_byname(vstring_str(user), &pw)) {
    case -1:
        msg_warn("cannot look up user %s: %m", vstring_str(user));
        rc = local_defer(state, attr, "4.3.0", "user lookup error for \"%s\"", vstring_str(user));
        goto done;
    case 0:
        if (*var_luser_relay)
            rc = local_luser_relay(state, attr, &vars);
        else
            rc = local_bounce(state, attr, "5.1.1", "unknown user: \"%s\"", vstring_str(user));
        goto done;
    }
    vars.home = pw.home;
    vars.shell = pw.shell;

    /* 4. .forward */
    if (!(attr->flags & LOCAL_FLAG_NO_FORWARD)) {
        rc = local_dot_forward(state, attr, &pw, &vars, &found);
        if (found)
            goto done;
    }

    /* 5. the mailbox */
    rc = local_mailbox(state, attr, &pw);

done:
    vstring_free(user);
    vstring_free(ext);
    vstring_free(domain);
    vstring_free(localpart);
    return rc;
}
