/*
 * NAME
 *	local_mailbox - a user's mailbox, and /file destinations
 * SYNOPSIS
 *	#include "local.h"
 *
 *	int local_mailbox(LOCAL_STATE *state, const LOCAL_ATTR *attr,
 *			  const UGID_USER *user)
 *	int local_file(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *path)
 * DESCRIPTION
 *	local_mailbox() delivers to the mailbox of user, with the user's
 *	privileges, choosing as Postfix does:
 *	1. a command from mailbox_command_maps (looked up with the user
 *	   name), else mailbox_command ($name macros replaced, values
 *	   filtered through command_expansion_filter): run as the user;
 *	2. else $home/$home_mailbox when home_mailbox is set;
 *	3. else $mail_spool_directory/USER.
 *	A name that ends in "/" is a Maildir, anything else a mailbox file
 *	(locked per mailbox_delivery_lock, limited by mailbox_size_limit,
 *	owned by the user when strict_mailbox_ownership is on). In the
 *	spool directory a root process creates and locks the file as root
 *	(the directory belongs to root) and writes it as the user; a
 *	process that is not root goes on without the dot-lock when the
 *	directory is not writable. Messages get Return-Path:,
 *	Delivered-To: (the user's address) and X-Original-To:; mailbox
 *	files also the "From " line, ">From " quoting and an empty line.
 *	A user with uid 0 has no mailbox: such mail is deferred until an
 *	alias sends it to a real user, because nothing is delivered as
 *	root. Each mailbox is delivered at most once per request.
 *
 *	local_file() appends to a /file destination (a Maildir when the
 *	name ends in "/"), with the privileges of the expansion that named
 *	it. Delivered-To: is added when prepend_delivered_header lists
 *	"file". A file that cannot be written because of a temporary
 *	problem defers; a size over the limit or a file that is not a
 *	regular file bounces.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local.h"
#include "mail_conf.h"
#include "mailbox_copy.h"
#include "maildir.h"
#include "maps.h"
#include "mbox.h"
#include "msg.h"
#include "safe_open.h"

/* local_top_orig - X-Original-To: */
static const char *local_top_orig(LOCAL_STATE *state)
{
    const DELIVER_RCPT *rcpt = state->req->rcpt + state->index;

    return *rcpt->orig ? rcpt->orig : rcpt->address;
}

/* local_src - how the message is copied */
static void local_src(LOCAL_STATE *state, const LOCAL_ATTR *attr, MAILBOX_SRC *src,
                      const char *delivered, int flags)
{
    memset(src, 0, sizeof(*src));
    src->queue = state->queue;
    src->data_offset = state->req->data_offset;
    src->sender = attr->sender;
    src->delivered = delivered;
    src->orig_rcpt = local_top_orig(state);
    src->flags = flags;
}

/* local_in_list - is word in the list parameter value? */
static int local_in_list(const char *list, const char *word)
{
    ARGV *words = argv_split(list, ARGV_DELIM_LIST);
    int found = 0;

    for (int i = 0; i < words->argc && !found; i++)
        found = strcasecmp(words->argv[i], word) == 0;
    argv_free(words);
    return found;
}

/* local_lock_style - mailbox_delivery_lock as MBOX_LOCK_* bits */
static int local_lock_style(void)
{
    int lock = 0;

    if (local_in_list(var_mailbox_delivery_lock, "fcntl") ||
        local_in_list(var_mailbox_delivery_lock, "flock"))
        lock |= MBOX_LOCK_FCNTL;
    if (local_in_list(var_mailbox_delivery_lock, "dotlock"))
        lock |= MBOX_LOCK_DOT;
    return lock;
}

static void local_mbox_opts(MBOX_OPTS *opts)
{
    mbox_opts_init(opts);
    opts->lock = local_lock_style();
    opts->lock_attempts = (int)var_deliver_lock_attempts;
    opts->lock_delay = (int)var_deliver_lock_delay;
    opts->stale_time = (int)var_stale_lock_time;
    opts->limit = var_mailbox_size_limit;
}

/* local_maildir - deliver into a Maildir with the current privileges */
static int local_maildir(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *path,
                         const char *delivered, int flags)
{
    VSTRING *dsn = vstring_alloc(10);
    VSTRING *why = vstring_alloc(100);
    VSTRING *stable = vstring_alloc(50);
    MAILBOX_SRC src;
    int status;

    local_src(state, attr, &src, delivered, flags);
    vstring_sprintf(stable, "%ld.Q%sR%lld", (long)state->req->arrival.tv_sec, state->req->queue_id,
                    (long long)state->req->rcpt[state->index].offset);
    status = maildir_deliver(path, vstring_str(stable), var_mailbox_size_limit, mailbox_copy, &src,
                             dsn, why, NULL);
    local_reset_privs();
    if (status == MAILBOX_OK)
        status = local_sent(state, attr, "2.0.0", "delivered to maildir");
    else
        status = local_outcome(state, attr, status, vstring_str(dsn), "maildir delivery failed: %s",
                               vstring_str(why));
    vstring_free(dsn);
    vstring_free(why);
    vstring_free(stable);
    return status;
}

/* local_mailbox_command - mailbox_command_maps or mailbox_command; NULL = none */
static int local_mailbox_command(const UGID_USER *user, const LOCAL_ATTR *attr, VSTRING *cmd,
                                 VSTRING *why)
{
    VSTRING *ext = vstring_alloc(10);
    VSTRING *domain = vstring_alloc(10);
    VSTRING *localpart = vstring_alloc(10);
    LOCAL_VARS vars;
    const char *value;
    int rc = 0;

    vstring_reset(cmd);
    if (*var_mailbox_command_maps) {
        switch (maps_find(local_mbox_cmd_maps, user->name, 0, &value)) {
        case DICT_STAT_FOUND:
            vstring_strcpy(cmd, value);
            goto done;
        case DICT_STAT_ERROR:
            vstring_strcpy(why, "mailbox_command_maps lookup failure");
            rc = -1;
            goto done;
        }
    }
    if (*var_mailbox_command) {
        local_split(attr->recipient, NULL, ext, domain, localpart);
        memset(&vars, 0, sizeof(vars));
        vars.user = user->name;
        vars.home = user->home;
        vars.shell = user->shell;
        vars.recipient = attr->recipient;
        vars.extension = vstring_str(ext);
        vars.domain = vstring_str(domain);
        vars.local = vstring_str(localpart);
        if (local_expand(cmd, var_mailbox_command, &vars, var_command_expansion_filter, why) < 0)
            rc = -1;
    }
done:
    vstring_free(ext);
    vstring_free(domain);
    vstring_free(localpart);
    return rc;
}

int local_mailbox(LOCAL_STATE *state, const LOCAL_ATTR *attr, const UGID_USER *user)
{
    VSTRING *cmd = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    VSTRING *dsn = vstring_alloc(10);
    VSTRING *why = vstring_alloc(100);
    LOCAL_PRIVS privs;
    MAILBOX_SRC src;
    MBOX_OPTS opts;
    struct stat st;
    int spool = 0;
    int rc;

    if (local_dup(state, "mailbox %s", user->name)) {
        rc = MAILBOX_OK;
        goto done;
    }
    if (user->uid == 0 && local_privileged()) {
        msg_warn("mail for %s: user %s has uid 0; add an alias for it (aliases(5))",
                 attr->recipient, user->name);
        rc = local_defer(state, attr, "4.3.0",
                         "will not deliver to the mailbox of a user with uid 0 (%s)", user->name);
        goto done;
    }
    if (var_require_home_directory && stat(user->home, &st) < 0) {
        int err = errno;

        rc = local_defer(state, attr, "4.3.0", "cannot access home directory %s: %s", user->home,
                         strerror(err));
        goto done;
    }

    /* 1. a command */
    if (local_mailbox_command(user, attr, cmd, why) < 0) {
        msg_warn("mailbox_command for %s: %s", user->name, vstring_str(why));
        rc = local_defer(state, attr, "4.3.5", "mail system configuration error");
        goto done;
    }
    if (vstring_len(cmd) > 0) {
        memset(&privs, 0, sizeof(privs));
        privs.uid = user->uid;
        privs.gid = user->gid;
        strcpy(privs.name, user->name);
        strcpy(privs.home, user->home);
        strcpy(privs.shell, user->shell);
        rc = local_command(state, attr, vstring_str(cmd), &privs, 1);
        goto done;
    }

    /* 2, 3. a Maildir or a mailbox file */
    if (*var_home_mailbox) {
        vstring_sprintf(path, "%s/%s", user->home, var_home_mailbox);
    } else if (*var_mail_spool_directory &&
               var_mail_spool_directory[strlen(var_mail_spool_directory) - 1] == '/') {
        vstring_sprintf(path, "%s%s/", var_mail_spool_directory, user->name);
        spool = 1;
    } else {
        vstring_sprintf(path, "%s/%s", var_mail_spool_directory, user->name);
        spool = 1;
    }
    if (vstring_end(path)[-1] == '/') {
        local_set_privs(user->uid, user->gid, user->name);
        rc = local_maildir(state, attr, vstring_str(path), attr->recipient, MAILBOX_COPY_MAILDIR);
        goto done;
    }
    local_mbox_opts(&opts);
    if (var_strict_mailbox_ownership)
        opts.owner = local_privileged() ? user->uid : getuid();
    local_src(state, attr, &src, attr->recipient, MAILBOX_COPY_MBOX);
    if (spool && local_privileged()) {
        opts.chown_uid = user->uid;
        opts.chown_gid = user->gid;
        opts.write_uid = user->uid;
        opts.write_gid = user->gid;
        opts.write_user = user->name;
    } else {
        if (spool)
            opts.lock |= MBOX_LOCK_DOT_MAY_FAIL;
        local_set_privs(user->uid, user->gid, user->name);
    }
    rc = mbox_deliver(vstring_str(path), &opts, mailbox_copy, &src, dsn, why);
    local_reset_privs();
    if (rc == MAILBOX_OK)
        rc = local_sent(state, attr, "2.0.0", "delivered to mailbox");
    else
        rc = local_outcome(state, attr, rc, vstring_str(dsn),
                           "cannot update mailbox %s for user %s. %s", vstring_str(path),
                           user->name, vstring_str(why));
done:
    vstring_free(cmd);
    vstring_free(path);
    vstring_free(dsn);
    vstring_free(why);
    return rc;
}

int local_file(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *path)
{
    const LOCAL_PRIVS *privs = attr->privs ? attr->privs : &local_default_privs;
    const char *delivered =
        local_in_list(var_prepend_delivered_header, "file") ? attr->recipient : NULL;
    VSTRING *dsn = vstring_alloc(10);
    VSTRING *why = vstring_alloc(100);
    MAILBOX_SRC src;
    MBOX_OPTS opts;
    int rc;

    if (local_dup(state, "file %s", path)) {
        rc = MAILBOX_OK;
        goto done;
    }
    if (privs->uid == 0)
        privs = &local_default_privs;
    local_set_privs(privs->uid, privs->gid, privs->name);
    if (path[strlen(path) - 1] == '/') {
        rc = local_maildir(state, attr, path, delivered,
                           delivered ? MAILBOX_COPY_MAILDIR
                                     : MAILBOX_COPY_MAILDIR & ~MAILBOX_COPY_DELIVERED);
        goto done;
    }
    local_mbox_opts(&opts);
    local_src(state, attr, &src, delivered,
              delivered ? MAILBOX_COPY_MBOX : MAILBOX_COPY_MBOX & ~MAILBOX_COPY_DELIVERED);
    rc = mbox_deliver(path, &opts, mailbox_copy, &src, dsn, why);
    local_reset_privs();
    if (rc == MAILBOX_OK)
        rc = local_sent(state, attr, "2.0.0", "delivered to file: %s", path);
    else
        rc = local_outcome(state, attr, rc, vstring_str(dsn),
                           "cannot append message to file %s: %s", path, vstring_str(why));
done:
    vstring_free(dsn);
    vstring_free(why);
    return rc;
}
