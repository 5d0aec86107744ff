/*
 * NAME
 *	local_command - |command destinations and mailbox_command
 * SYNOPSIS
 *	#include "local.h"
 *
 *	int local_command(LOCAL_STATE *state, const LOCAL_ATTR *attr,
 *			  const char *command, const LOCAL_PRIVS *privs,
 *			  int is_mailbox)
 * DESCRIPTION
 *	local_command() runs command with lib/pipe_command: through
 *	local_command_shell (default /bin/sh -c), as privs (default_privs
 *	instead of root), for at most command_time_limit seconds, with
 *	mailbox_size_limit as the limit on any file it writes, in
 *	command_execution_directory (default: the home directory of privs,
 *	or / when that cannot be entered). Its standard input is the
 *	message with a "From " line, Return-Path:, X-Original-To: and,
 *	for a mailbox_command or when prepend_delivered_header lists
 *	"command", Delivered-To:.
 *
 *	The environment holds nothing else than: HOME, LOGNAME, USER and
 *	SHELL of privs; PATH=/usr/bin:/bin; SENDER, RECIPIENT, LOCAL,
 *	DOMAIN, EXTENSION, ORIGINAL_RECIPIENT; CLIENT_ADDRESS,
 *	CLIENT_HELO, CLIENT_HOSTNAME, CLIENT_PROTOCOL, SASL_USERNAME when
 *	known; and the export_environment variables. Characters of the
 *	message-derived values that are not in command_expansion_filter
 *	become underscores.
 *
 *	The outcome follows pipe_command's rules (exit 0 sent, "delivered
 *	to command: COMMAND"; EX_TEMPFAIL and signals deferred; other
 *	failures returned to the sender). A command runs once per request
 *	for the same user.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "argv.h"
#include "local.h"
#include "mail_conf.h"
#include "mailbox_copy.h"
#include "mymalloc.h"
#include "pipe_command.h"

#define LOCAL_PATH "/usr/bin:/bin"

/* local_env_add - NAME=value, filtered */
static void local_env_add(ARGV *env, const char *name, const char *value, int filter)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_sprintf(buf, "%s=", name);
    for (const char *cp = value ? value : ""; *cp; cp++)
        vstring_addch(buf, !filter || strchr(var_command_expansion_filter, *cp) ? *cp : '_');
    argv_add(env, vstring_str(buf));
    vstring_free(buf);
}

/* local_env_export - export_environment */
static void local_env_export(ARGV *env)
{
    ARGV *names = argv_split(var_export_environment, ARGV_DELIM_LIST);
    const char *value;

    for (int i = 0; i < names->argc; i++) {
        if (strchr(names->argv[i], '='))
            argv_add(env, names->argv[i]);
        else if ((value = getenv(names->argv[i])) != NULL)
            local_env_add(env, names->argv[i], value, 0);
    }
    argv_free(names);
}

static int local_in_list(const char *list, const char *word)
{
    ARGV *words = argv_split(list, ARGV_DELIM_LIST);
    int found = 0;

    for (int i = 0; i < words->argc && !found; i++)
        found = strcasecmp(words->argv[i], word) == 0;
    argv_free(words);
    return found;
}

int local_command(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *command,
                  const LOCAL_PRIVS *privs, int is_mailbox)
{
    DELIVER_REQUEST *req = state->req;
    const DELIVER_RCPT *rcpt = req->rcpt + state->index;
    VSTRING *user = vstring_alloc(50);
    VSTRING *ext = vstring_alloc(50);
    VSTRING *domain = vstring_alloc(50);
    VSTRING *localpart = vstring_alloc(50);
    VSTRING *cwd = vstring_alloc(50);
    VSTRING *dsn = vstring_alloc(10);
    VSTRING *why = vstring_alloc(100);
    ARGV *env = argv_alloc(20);
    PIPE_COMMAND_ARGS args;
    MAILBOX_SRC src;
    LOCAL_VARS vars;
    int rc;

    if (privs->uid == 0)
        privs = &local_default_privs;
    while (*command == ' ' || *command == '\t')
        command++;
    if (*command == 0) {
        rc = local_bounce(state, attr, "5.3.5", "empty command");
        goto done;
    }
    if (local_dup(state, "command %ld %s", (long)privs->uid, command)) {
        rc = MAILBOX_OK;
        goto done;
    }

    /* the environment */
    local_split(attr->recipient, user, ext, domain, localpart);
    local_env_add(env, "HOME", privs->home, 0);
    local_env_add(env, "LOGNAME", privs->name, 0);
    local_env_add(env, "USER", privs->name, 0);
    local_env_add(env, "SHELL", privs->shell, 0);
    local_env_add(env, "PATH", LOCAL_PATH, 0);
    local_env_add(env, "SENDER", attr->sender, 1);
    local_env_add(env, "RECIPIENT", attr->recipient, 1);
    local_env_add(env, "LOCAL", vstring_str(localpart), 1);
    local_env_add(env, "DOMAIN", vstring_str(domain), 1);
    local_env_add(env, "EXTENSION", vstring_str(ext), 1);
    local_env_add(env, "ORIGINAL_RECIPIENT", *rcpt->orig ? rcpt->orig : rcpt->address, 1);
    if (*req->client_address)
        local_env_add(env, "CLIENT_ADDRESS", req->client_address, 1);
    if (*req->helo_name)
        local_env_add(env, "CLIENT_HELO", req->helo_name, 1);
    if (*req->client_name)
        local_env_add(env, "CLIENT_HOSTNAME", req->client_name, 1);
    if (*req->protocol)
        local_env_add(env, "CLIENT_PROTOCOL", req->protocol, 1);
    if (*req->sasl_username)
        local_env_add(env, "SASL_USERNAME", req->sasl_username, 1);
    local_env_export(env);

    /* the working directory */
    if (*var_command_execution_directory) {
        memset(&vars, 0, sizeof(vars));
        vars.user = vstring_str(user);
        vars.home = privs->home;
        vars.shell = privs->shell;
        vars.recipient = attr->recipient;
        vars.extension = vstring_str(ext);
        vars.domain = vstring_str(domain);
        vars.local = vstring_str(localpart);
        if (local_expand(cwd, var_command_execution_directory, &vars, var_command_expansion_filter,
                         why) < 0) {
            rc = local_defer(state, attr, "4.3.5", "mail system configuration error");
            goto done;
        }
    } else {
        local_set_privs(privs->uid, privs->gid, privs->name);
        vstring_strcpy(cwd, *privs->home && faccessat(AT_FDCWD, privs->home, X_OK, AT_EACCESS) == 0
                                ? privs->home
                                : "/");
        local_reset_privs();
    }

    memset(&src, 0, sizeof(src));
    src.queue = state->queue;
    src.data_offset = req->data_offset;
    src.sender = attr->sender;
    src.delivered = attr->recipient;
    src.orig_rcpt = *rcpt->orig ? rcpt->orig : rcpt->address;
    src.flags = MAILBOX_COPY_FROM | MAILBOX_COPY_RETURN | MAILBOX_COPY_ORIG_RCPT;
    if (is_mailbox || local_in_list(var_prepend_delivered_header, "command"))
        src.flags |= MAILBOX_COPY_DELIVERED;

    memset(&args, 0, sizeof(args));
    args.command = command;
    args.shell = var_local_command_shell;
    args.env = env->argv;
    args.cwd = vstring_str(cwd);
    args.uid = privs->uid;
    args.gid = privs->gid;
    args.user = *privs->name ? privs->name : NULL;
    args.time_limit = (int)var_command_time_limit;
    args.file_limit = var_mailbox_size_limit;
    args.write_fn = mailbox_copy;
    args.context = &src;
    rc = pipe_command(&args, dsn, why);
    if (rc == MAILBOX_OK)
        rc = local_sent(state, attr, "2.0.0", "delivered to command: %s", command);
    else
        rc = local_outcome(state, attr, rc, vstring_str(dsn), "%s", vstring_str(why));
done:
    vstring_free(user);
    vstring_free(ext);
    vstring_free(domain);
    vstring_free(localpart);
    vstring_free(cwd);
    vstring_free(dsn);
    vstring_free(why);
    argv_free(env);
    return rc;
}
