/*
 * NAME
 *	master_conf - start, reload and stop the service table
 * SYNOPSIS
 *	#include "master.h"
 *
 *	void master_conf_start(void)
 *	int master_conf_reload(void)
 *	void master_conf_stop(void)
 * DESCRIPTION
 *	master_conf_start() reads master.cf from the configuration
 *	directory, opens every service's listening endpoint and status
 *	pipe and arms its wakeup timer. Processes start on demand later.
 *
 *	master_conf_reload() re-reads main.cf and master.cf (SIGHUP). Every
 *	running process is retired: it finishes what it is doing and exits,
 *	and its successors start on demand with the new configuration, so
 *	no session is cut. A service whose name, type and endpoint did not
 *	change keeps its listening descriptors (no connection is refused
 *	during the reload); a removed service has its descriptors closed and
 *	its socket or fifo removed; a new one gets them opened.
 *
 *	master_conf_stop() retires every service for a stop: listening
 *	descriptors closed (sockets left in place), wakeups cancelled,
 *	status pipes closed so that idle processes exit at once.
 * DIAGNOSTICS
 *	At start-up every problem is fatal. On reload, a main.cf or
 *	master.cf that cannot be used is logged and the running
 *	configuration stays in force (master_conf_reload() returns -1); a
 *	new endpoint that cannot be opened is logged and that service is
 *	left out.
 */
#include <string.h>

#include "mail_conf.h"
#include "master.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

/* master_conf_path - where master.cf is */

static char *master_conf_path(void)
{
    VSTRING *path = vstring_alloc(100);

    vstring_sprintf(path, "%s/master.cf", var_config_dir);
    return vstring_export(path);
}

/* master_conf_activate - let a service run */

static void master_conf_activate(MASTER_SERV *serv)
{
    master_status_open(serv);
    master_avail_update(serv);
    master_wakeup_start(serv);
}

/* master_conf_retire - stop a service; its processes finish on their own */

static void master_conf_retire(MASTER_SERV *serv, int unlink_path)
{
    master_wakeup_stop(serv);
    master_throttle_cancel(serv);
    master_listen_close(serv, unlink_path);
    master_status_close(serv);
    master_retire_procs(serv);
}

void master_conf_start(void)
{
    VSTRING *why = vstring_alloc(100);
    char *path = master_conf_path();
    MASTER_SERV *list;

    list = master_ent_load(path, why);
    if (list == NULL && vstring_len(why) > 0)
        msg_fatal("%s", vstring_str(why));
    if (list == NULL)
        msg_warn("%s: no service is enabled", path);
    for (MASTER_SERV *serv = list; serv; serv = serv->next)
        if (master_listen_open(serv, why) < 0)
            msg_fatal("%s", vstring_str(why));
    for (MASTER_SERV *serv = list; serv; serv = serv->next)
        master_conf_activate(serv);
    master_services = list;
    myfree(path);
    vstring_free(why);
}

int master_conf_reload(void)
{
    VSTRING *why = vstring_alloc(100);
    char *path;
    MASTER_SERV *list;
    MASTER_SERV *next;
    MASTER_SERV **link;

    char *config_dir = mystrdup(var_config_dir);  /* mail_conf replaces var_config_dir */
    int ok;

    ok = mail_conf_read_check(config_dir, why) == 0 && mail_conf_eval_check(why) == 0
        && master_owner_init(why) == 0;
    myfree(config_dir);
    if (!ok) {
        msg_warn("%s -- configuration not reloaded", vstring_str(why));
        vstring_free(why);
        return -1;
    }
    path = master_conf_path();
    list = master_ent_load(path, why);
    myfree(path);
    if (list == NULL && vstring_len(why) > 0) {
        msg_warn("%s -- configuration not reloaded", vstring_str(why));
        vstring_free(why);
        return -1;
    }

    /* Unchanged endpoints move to the new service, with their descriptors. */
    for (MASTER_SERV *serv = list; serv; serv = serv->next) {
        for (MASTER_SERV *old = master_services; old; old = old->next) {
            if (old->listen_count == 0 || strcmp(old->key, serv->key) != 0
                || strcmp(old->endpoint, serv->endpoint) != 0)
                continue;
            if (old->watch != MASTER_WATCH_NONE) {
                for (int i = 0; i < old->listen_count; i++)
                    event_disable_read(old->listen_fd[i]);
                old->watch = MASTER_WATCH_NONE;
            }
            memcpy(serv->listen_fd, old->listen_fd, sizeof(old->listen_fd));
            serv->listen_count = old->listen_count;
            serv->watch = MASTER_WATCH_NONE;
            old->listen_count = 0;
            break;
        }
    }

    /*
     * Everything else of the old table goes away. An endpoint that moved to
     * the new table (listen_count now 0) keeps its socket file: unlinking
     * it would leave the new service listening on a path nobody can reach.
     */
    while (master_services) {
        next = master_services->next;
        master_conf_retire(master_services, master_services->listen_count > 0);
        master_ent_free(master_services);
        master_services = next;
    }

    /* New endpoints open; a service whose endpoint fails is left out. */
    for (link = &list; *link;) {
        MASTER_SERV *serv = *link;

        if (serv->listen_count == 0 && master_listen_open(serv, why) < 0) {
            msg_warn("%s -- service %s (%s) not started", vstring_str(why), serv->name,
                     serv->type_name);
            *link = serv->next;
            master_ent_free(serv);
            continue;
        }
        link = &serv->next;
    }
    for (MASTER_SERV *serv = list; serv; serv = serv->next)
        master_conf_activate(serv);
    master_services = list;
    vstring_free(why);
    return 0;
}

void master_conf_stop(void)
{
    for (MASTER_SERV *serv = master_services; serv; serv = serv->next)
        master_conf_retire(serv, 0);
}
