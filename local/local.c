/*
 * NAME
 *	local - the local(8) delivery agent
 * SYNOPSIS
 *	local [generic daemon options]
 * DESCRIPTION
 *	local(8) takes delivery requests from qmgr(8) for recipients in
 *	the local domains (mydestination) and delivers each one as
 *	Postfix's local(8) does: through the alias_maps tables (with
 *	:include: files, |commands, /files and owner- aliases), the
 *	user's .forward file (forward_path), and finally the user's
 *	mailbox: mailbox_command_maps or mailbox_command, else
 *	$home/$home_mailbox, else $mail_spool_directory/USER, as a Maildir
 *	when the name ends in "/" and as a locked UNIX mailbox file
 *	otherwise. Addresses that an expansion sends to another domain
 *	are forwarded as a new message through cleanup(8).
 *
 *	The process runs as root when the mail system does (master.cf
 *	unpriv column n), and writes every mailbox, file and command as
 *	the user responsible for it: the recipient, the owner of the
 *	alias table or :include: file, or default_privs. Nothing is ever
 *	written or run as root. Started by a user other than root, it
 *	does everything as that user.
 *
 *	This file holds the daemon skeleton: start-up (tables are opened
 *	before privileges could change), one request per connection, one
 *	LOCAL_STATE per recipient, and the helpers that the other files
 *	share (duplicate filter, privilege changes). See local(8).
 * SEE ALSO
 *	local_recipient.c (the lookup order), local_alias.c,
 *	local_token.c, local_mailbox.c, local_command.c,
 *	local_forward.c, local_expand.c, local_status.c.
 */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "deliver_request.h"
#include "deliver_status.h"
#include "local.h"
#include "mail_conf.h"
#include "mail_server.h"
#include "maps.h"
#include "msg.h"
#include "resolve.h"
#include "set_ugid.h"

MAPS *local_alias_maps;
MAPS *local_mbox_cmd_maps;
LOCAL_PRIVS local_default_privs;

int local_privileged(void)
{
    return getuid() == 0;
}

void local_set_privs(uid_t uid, gid_t gid, const char *name)
{
    if (local_privileged())
        set_eugid(uid, gid, name && *name ? name : NULL);
}

void local_reset_privs(void)
{
    if (local_privileged())
        set_eugid(0, 0, NULL);
}

int local_dup(LOCAL_STATE *state, const char *fmt, ...)
{
    VSTRING *key = vstring_alloc(100);
    va_list ap;
    int seen;

    va_start(ap, fmt);
    vstring_vsprintf_append(key, fmt, ap);
    va_end(ap);
    seen = htable_find(state->dup, vstring_str(key)) != NULL;
    if (!seen)
        htable_enter(state->dup, vstring_str(key), state->dup);
    vstring_free(key);
    return seen;
}

/* local_deliver_rcpt - one recipient of the request */
static void local_deliver_rcpt(DELIVER_REQUEST *req, int i, VSTREAM *queue, HTABLE *dup)
{
    LOCAL_STATE state;
    LOCAL_ATTR attr;

    memset(&state, 0, sizeof(state));
    state.req = req;
    state.index = i;
    state.queue = queue;
    state.dup = dup;

    memset(&attr, 0, sizeof(attr));
    attr.recipient = req->rcpt[i].address;
    attr.sender = req->sender;
    attr.delivered = req->rcpt[i].address;
    attr.exp_type = LOCAL_EXP_NONE;
    attr.exp_from = "";
    (void)local_recipient(&state, &attr);
    local_finish(&state);
}

/* local_service - one delivery request */
static void local_service(VSTREAM *stream, const char *service, char **args)
{
    DELIVER_REQUEST *req;
    VSTREAM *queue;
    HTABLE *dup;

    (void)service;
    (void)args;
    if ((req = deliver_request_read(stream)) == NULL)
        return;
    if ((queue = deliver_request_open(req)) == NULL) {
        (void)deliver_request_done(req, DEL_STAT_DEFER);
        return;
    }
    dup = htable_create(10);
    for (int i = 0; i < req->rcpt_count; i++)
        local_deliver_rcpt(req, i, queue, dup);
    htable_free(dup, NULL);
    (void)deliver_request_done(req, DEL_STAT_OK);
}

/* local_pre_init - open tables while the process may still be root */
static void local_pre_init(const char *service, char **args)
{
    UGID_USER pw;
    int rc;

    (void)service;
    (void)args;
    local_alias_maps = maps_create("alias_maps", var_alias_maps, DICT_FLAG_DEFAULT);
    local_mbox_cmd_maps =
        maps_create("mailbox_command_maps", var_mailbox_command_maps, DICT_FLAG_DEFAULT);
    resolve_init();

    memset(&local_default_privs, 0, sizeof(local_default_privs));
    if (!local_privileged()) {
        rc = ugid_user_byuid(getuid(), &pw);
    } else {
        rc = ugid_user_byname(var_default_privs, &pw);
        if (rc <= 0)
            msg_fatal("default_privs: unknown user \"%s\"", var_default_privs);
        if (pw.uid == 0)
            msg_fatal("default_privs: user \"%s\" has uid 0; use an unprivileged account",
                      var_default_privs);
    }
    local_default_privs.uid = rc > 0 ? pw.uid : getuid();
    local_default_privs.gid = rc > 0 ? pw.gid : getgid();
    if (rc > 0) {
        strcpy(local_default_privs.name, pw.name);
        strcpy(local_default_privs.home, pw.home);
        strcpy(local_default_privs.shell, pw.shell);
    }
}

int main(int argc, char **argv)
{
    MAIL_SERVER_OPTS opts;

    memset(&opts, 0, sizeof(opts));
    opts.flags = MAIL_SERVER_PRIVILEGED;
    opts.pre_init = local_pre_init;
    single_server_main(argc, argv, local_service, &opts);
}
