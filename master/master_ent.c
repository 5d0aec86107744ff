/*
 * NAME
 *	master_ent - turn master.cf entries into services
 * SYNOPSIS
 *	#include "master.h"
 *
 *	MASTER_SERV *master_ent_load(const char *path, VSTRING *why)
 *	void master_ent_free(MASTER_SERV *serv)
 * DESCRIPTION
 *	master_ent_load() reads master.cf at path (lib/master_cf) and
 *	returns the list of enabled services, with Postfix's defaults
 *	applied to "-" columns: private y, unpriv y, chroot n, wakeup 0
 *	(none), maxproc $default_process_limit. Services named in
 *	$master_service_disable are left out. Nothing is opened or started:
 *	the result only describes what to run.
 *
 *	The endpoint of an inet service is its name: "port", "host:port",
 *	"[address]:port", or "*:port"; without a host (or with "*") it is
 *	every address in $inet_interfaces ("all", "loopback-only", or a
 *	list of addresses and names), restricted to the families in
 *	$inet_protocols. A unix, unix-dgram, pass or fifo service listens
 *	on private/NAME or, when the private column is n, public/NAME,
 *	relative to the queue directory. The program is the command column
 *	in $daemon_directory, or the command itself when it holds a "/".
 *
 *	Each service also gets a key ("name/type") and an endpoint text:
 *	a service with the same key and endpoint after a reload keeps its
 *	listening descriptors.
 *
 *	master_ent_free() frees one service description (not its list);
 *	its descriptors must already be closed.
 * DIAGNOSTICS
 *	master_ent_load() returns NULL with a message "PATH, line N: ..."
 *	in why for an entry it cannot use: a bad column value, an unusable
 *	endpoint, a duplicate service. It also returns NULL, with why
 *	empty, when master.cf lists no enabled service.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "mail_conf.h"
#include "master.h"
#include "master_cf.h"
#include "msg.h"
#include "mymalloc.h"
#include "sock.h"
#include "vstring.h"

/* master_ent_yesno - y/n/- column */

static int master_ent_yesno(const char *value, int def, int *result)
{
    if (strcmp(value, "-") == 0)
        *result = def;
    else if (strcmp(value, "y") == 0)
        *result = 1;
    else if (strcmp(value, "n") == 0)
        *result = 0;
    else
        return -1;
    return 0;
}

/* master_ent_number - a non-negative decimal column, optionally followed by suffix */

static int master_ent_number(const char *value, const char *suffix, int *result, int *had_suffix)
{
    char *end;
    long val;

    if (!isdigit((unsigned char) value[0]))
        return -1;
    errno = 0;
    val = strtol(value, &end, 10);
    if (errno || val < 0 || val > 1000000)
        return -1;
    if (had_suffix)
        *had_suffix = 0;
    if (*end && suffix && strcmp(end, suffix) == 0 && had_suffix)
        *had_suffix = 1;
    else if (*end)
        return -1;
    *result = (int) val;
    return 0;
}

/* master_ent_protocols - which families inet_protocols allows */

static int master_ent_protocols(int *v4, int *v6, VSTRING *why)
{
    ARGV *list = argv_split(var_inet_protocols, ARGV_DELIM_LIST);

    *v4 = *v6 = 0;
    for (int i = 0; i < list->argc; i++) {
        if (strcasecmp(list->argv[i], "all") == 0) {
            *v4 = *v6 = 1;
        } else if (strcasecmp(list->argv[i], "ipv4") == 0) {
            *v4 = 1;
        } else if (strcasecmp(list->argv[i], "ipv6") == 0) {
            *v6 = 1;
        } else {
            vstring_sprintf(why, "parameter inet_protocols: unknown protocol \"%s\"",
                            list->argv[i]);
            argv_free(list);
            return -1;
        }
    }
    argv_free(list);
    if (!*v4 && !*v6) {
        vstring_sprintf(why, "parameter inet_protocols: no protocol is enabled");
        return -1;
    }
    return 0;
}

/* master_ent_interfaces - the addresses for an inet service without a host */

static int master_ent_interfaces(MASTER_SERV *serv, VSTRING *why)
{
    ARGV *list = argv_split(var_inet_interfaces, ARGV_DELIM_LIST);
    char *host;
    size_t len;

    if (list->argc == 0) {
        vstring_sprintf(why, "parameter inet_interfaces: no address is listed");
        argv_free(list);
        return -1;
    }
    for (int i = 0; i < list->argc; i++) {
        host = list->argv[i];
        if (strcasecmp(host, "all") == 0) {
            if (serv->inet_v4 && serv->inet_v6)
                argv_add(serv->inet_hosts, "");
            else
                argv_add(serv->inet_hosts, serv->inet_v4 ? "0.0.0.0" : "::");
        } else if (strcasecmp(host, "loopback-only") == 0) {
            if (serv->inet_v4)
                argv_add(serv->inet_hosts, "127.0.0.1");
            if (serv->inet_v6)
                argv_add(serv->inet_hosts, "::1");
        } else {
            len = strlen(host);
            if (host[0] == '[' && len > 2 && host[len - 1] == ']')
                argv_addn(serv->inet_hosts, host + 1, len - 2);
            else
                argv_add(serv->inet_hosts, host);
        }
    }
    argv_free(list);
    return 0;
}

/* master_ent_inet - an inet service's addresses and port */

static int master_ent_inet(MASTER_SERV *serv, VSTRING *why)
{
    SOCK_ENDPOINT ep;
    VSTRING *tmp = vstring_alloc(100);
    VSTRING *text;

    if (master_ent_protocols(&serv->inet_v4, &serv->inet_v6, why) < 0) {
        vstring_free(tmp);
        return -1;
    }
    if (strncmp(serv->name, "*:", 2) == 0)
        vstring_strcpy(tmp, serv->name + 2);
    else
        vstring_strcpy(tmp, serv->name);
    memset(&ep, 0, sizeof(ep));
    if (sock_endpoint_parse(vstring_str(tmp), NULL, &ep, why) < 0) {
        vstring_free(tmp);
        return -1;
    }
    if (ep.type != SOCK_EP_INET) {
        vstring_sprintf(why, "bad inet service name \"%s\"", serv->name);
        vstring_free(tmp);
        return -1;
    }
    vstring_free(tmp);
    serv->inet_port = mystrdup(ep.port);
    serv->inet_hosts = argv_alloc(2);
    if (ep.host[0] == 0 || strcmp(ep.host, "*") == 0) {
        if (master_ent_interfaces(serv, why) < 0)
            return -1;
    } else {
        argv_add(serv->inet_hosts, ep.host);
    }
    text = vstring_alloc(100);
    vstring_sprintf(text, "inet v4=%d v6=%d port=%s", serv->inet_v4, serv->inet_v6,
                    serv->inet_port);
    for (int i = 0; i < serv->inet_hosts->argc; i++)
        vstring_sprintf_append(text, " [%s]", serv->inet_hosts->argv[i]);
    serv->endpoint = vstring_export(text);
    return 0;
}

/* master_ent_local - a service on a path in private/ or public/ */

static int master_ent_local(MASTER_SERV *serv, VSTRING *why)
{
    VSTRING *text = vstring_alloc(100);

    if (strchr(serv->name, '/') || strcmp(serv->name, ".") == 0
        || strcmp(serv->name, "..") == 0) {
        vstring_sprintf(why, "bad %s service name \"%s\"", serv->type_name, serv->name);
        vstring_free(text);
        return -1;
    }
    vstring_sprintf(text, "%s/%s", serv->priv ? "private" : "public", serv->name);
    if (vstring_len(text) >= SOCK_PATH_MAX) {
        vstring_sprintf(why, "service name \"%s\" is too long", serv->name);
        vstring_free(text);
        return -1;
    }
    serv->unix_path = mystrdup(vstring_str(text));
    vstring_sprintf(text, "%s %s", serv->type_name, serv->unix_path);
    serv->endpoint = vstring_export(text);
    return 0;
}

/* master_ent_build - one entry -> one service, or NULL with why */

static MASTER_SERV *master_ent_build(const MASTER_CF_ENTRY *ent, VSTRING *why)
{
    static const struct {
        const char *name;
        int type;
    } types[] = {
        {"inet", MASTER_SERV_TYPE_INET}, {"unix", MASTER_SERV_TYPE_UNIX},
        {"unix-dgram", MASTER_SERV_TYPE_DGRAM}, {"fifo", MASTER_SERV_TYPE_FIFO},
        {"pass", MASTER_SERV_TYPE_PASS},
    };
    MASTER_SERV *serv = mycalloc(1, sizeof(*serv));
    VSTRING *tmp = vstring_alloc(100);
    int ok;

    serv->name = mystrdup(ent->service);
    serv->type_name = mystrdup(ent->type);
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(ent->type, types[i].name) == 0)
            serv->type = types[i].type;
    vstring_sprintf(tmp, "%s/%s", ent->service, ent->type);
    serv->key = mystrdup(vstring_str(tmp));
    serv->status_fd[0] = serv->status_fd[1] = -1;

    if (serv->type == 0)
        vstring_sprintf(why, "unknown service type \"%s\"", ent->type);
    else if (master_ent_yesno(ent->priv, 1, &serv->priv) < 0)
        vstring_sprintf(why, "bad private field \"%s\"", ent->priv);
    else if (master_ent_yesno(ent->unpriv, 1, &serv->unpriv) < 0)
        vstring_sprintf(why, "bad unprivileged field \"%s\"", ent->unpriv);
    else if (master_ent_yesno(ent->chroot, 0, &serv->chroot) < 0)
        vstring_sprintf(why, "bad chroot field \"%s\"", ent->chroot);
    else if (strcmp(ent->wakeup, "-") != 0
             && master_ent_number(ent->wakeup, "?", &serv->wakeup, &serv->wakeup_cond) < 0)
        vstring_sprintf(why, "bad wakeup time \"%s\"", ent->wakeup);
    else if (strcmp(ent->maxproc, "-") == 0 ? (serv->max_proc = (int) var_default_process_limit, 0)
             : master_ent_number(ent->maxproc, NULL, &serv->max_proc, NULL) < 0)
        vstring_sprintf(why, "bad maximal process count \"%s\"", ent->maxproc);
    else if (ent->argc < 1 || ent->argv[0][0] == 0)
        vstring_sprintf(why, "no command");
    else
        vstring_reset(why);
    ok = vstring_len(why) == 0;

    if (ok) {
        serv->args = argv_alloc(ent->argc + 1);
        for (int i = 0; i < ent->argc; i++)
            argv_add(serv->args, ent->argv[i]);
        if (strchr(ent->argv[0], '/'))
            serv->path = mystrdup(ent->argv[0]);
        else {
            vstring_sprintf(tmp, "%s/%s", var_daemon_directory, ent->argv[0]);
            serv->path = mystrdup(vstring_str(tmp));
        }
        if (serv->type == MASTER_SERV_TYPE_INET)
            ok = master_ent_inet(serv, why) == 0;
        else
            ok = master_ent_local(serv, why) == 0;
    }
    if (ok && serv->wakeup > 0 && serv->type == MASTER_SERV_TYPE_INET) {
        msg_warn("service %s (%s): wakeup time is ignored for inet services",
                 serv->name, serv->type_name);
        serv->wakeup = 0;
    }
    vstring_free(tmp);
    if (!ok) {
        master_ent_free(serv);
        return NULL;
    }
    return serv;
}

/* master_ent_disabled - is the service in $master_service_disable? */

static int master_ent_disabled(ARGV *disable, const MASTER_SERV *serv)
{
    VSTRING *both = vstring_alloc(100);
    int found = 0;

    vstring_sprintf(both, "%s.%s", serv->name, serv->type_name);
    for (int i = 0; i < disable->argc && !found; i++)
        found = strcmp(disable->argv[i], vstring_str(both)) == 0
                || strcmp(disable->argv[i], serv->type_name) == 0;
    vstring_free(both);
    return found;
}

MASTER_SERV *master_ent_load(const char *path, VSTRING *why)
{
    MASTER_CF *cf;
    MASTER_SERV *head = NULL;
    MASTER_SERV **tail = &head;
    MASTER_SERV *serv;
    ARGV *disable;
    VSTRING *reason = vstring_alloc(100);

    vstring_reset(why);
    if ((cf = master_cf_read(path, why)) == NULL) {
        vstring_free(reason);
        return NULL;
    }
    disable = argv_split(var_master_service_disable, ARGV_DELIM_LIST);
    for (int i = 0; i < cf->count; i++) {
        const MASTER_CF_ENTRY *ent = cf->entries + i;

        if ((serv = master_ent_build(ent, reason)) == NULL) {
            vstring_sprintf(why, "%s, line %d: service %s: %s", path, ent->line, ent->service,
                            vstring_str(reason));
            goto bad;
        }
        if (master_ent_disabled(disable, serv)) {
            if (msg_verbose)
                msg_info("service %s (%s) is disabled", serv->name, serv->type_name);
            master_ent_free(serv);
            continue;
        }
        for (MASTER_SERV *old = head; old; old = old->next) {
            if (strcmp(old->key, serv->key) == 0 || strcmp(old->endpoint, serv->endpoint) == 0
                || (old->unix_path && serv->unix_path
                    && strcmp(old->unix_path, serv->unix_path) == 0)) {
                vstring_sprintf(why, "%s, line %d: duplicate service %s (%s)", path, ent->line,
                                serv->name, serv->type_name);
                master_ent_free(serv);
                goto bad;
            }
        }
        *tail = serv;
        tail = &serv->next;
    }
    argv_free(disable);
    master_cf_free(cf);
    vstring_free(reason);
    return head;

bad:
    while (head) {
        serv = head->next;
        master_ent_free(head);
        head = serv;
    }
    argv_free(disable);
    master_cf_free(cf);
    vstring_free(reason);
    return NULL;
}

void master_ent_free(MASTER_SERV *serv)
{
    myfree(serv->name);
    myfree(serv->type_name);
    myfree(serv->key);
    myfree(serv->endpoint);
    myfree(serv->path);
    argv_free(serv->args);
    myfree(serv->unix_path);
    argv_free(serv->inet_hosts);
    myfree(serv->inet_port);
    myfree(serv);
}
