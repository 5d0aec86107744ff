/*
 * NAME
 *	bounce - postern delivery status notifications
 * SYNOPSIS
 *	bounce [generic daemon options]
 * DESCRIPTION
 *	bounce(8) turns the per-message notes that delivery agents leave
 *	in bounce/ and defer/ into RFC 3464 delivery status
 *	notifications, and queues them through cleanup(8). It is a
 *	single_server daemon (lib/mail_server.h); master.cf runs it as the
 *	services bounce, defer and trace, which all accept the same two
 *	requests of lib/bounce_proto.h from qmgr(8):
 *
 *	flush	return the failed recipients of a message to its sender
 *		(bounce_flush.c), then remove the bounce notes;
 *	warn	tell the sender that a message is still being retried
 *		(bounce_delay.c), once per message.
 *
 *	This file reads and checks the request, answers it, and holds
 *	what the other files share: the notify_classes test, the
 *	double-bounce sender address, and the common part of a notice's
 *	description (bounce_info_init()).
 *
 *	The manual page is man/man8/bounce.8.
 * DIAGNOSTICS
 *	A malformed request (every attribute of lib/bounce_proto.h must be
 *	present) is logged and answered with BOUNCE_STAT_FAIL when the
 *	connection still works.
 *	Problems with notes, queue files and cleanup are logged by the
 *	code that meets them; the request then fails and qmgr asks again
 *	later, so that no notice is ever lost.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "address.h"
#include "argv.h"
#include "attr.h"
#include "bounce.h"
#include "bounce_proto.h"
#include "deliver_request.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_server.h"
#include "msg.h"
#include "mymalloc.h"
#include "queue_id.h"

#define BOUNCE_ENVID_MAX 100 /* RFC 3461: ENVID at most 100 characters */

static ARGV *bounce_classes;
static VSTRING *bounce_double;

/* ---------------------------------------------------------------- */
/* shared helpers */

int bounce_notify_class(const char *name)
{
    for (int i = 0; bounce_classes && i < bounce_classes->argc; i++)
        if (strcasecmp(bounce_classes->argv[i], name) == 0)
            return 1;
    return 0;
}

const char *bounce_double_sender(void)
{
    return vstring_str(bounce_double);
}

void bounce_info_init(BOUNCE_NOTICE_INFO *info, BOUNCE_REQUEST *req, BOUNCE_MESSAGE *msg, int kind,
                      const char *recipient)
{
    const char *sender = vstring_str(req->sender);
    long lifetime = var_maximal_queue_lifetime;

    memset(info, 0, sizeof(*info));
    info->kind = kind;
    info->hostname = var_myhostname;
    info->mail_name = var_mail_name;
    info->recipient = recipient;
    info->notice_id = "";
    info->queue_id = vstring_str(req->queue_id);
    info->sender = sender;
    info->dsn_envid = vstring_str(req->dsn_envid);
    info->dsn_ret = vstring_str(req->dsn_ret);
    info->smtputf8 = req->smtputf8 != 0;
    info->expired = (req->flags & BOUNCE_FLAG_EXPIRED) != 0;
    info->now = time(NULL);
    info->arrival = msg->arrival > 0 ? msg->arrival : info->now;
    if ((*sender == 0 || strcasecmp(sender, bounce_double_sender()) == 0) &&
        var_bounce_queue_lifetime < lifetime)
        lifetime = var_bounce_queue_lifetime;
    if (kind == BOUNCE_NOTICE_DELAYED || kind == BOUNCE_NOTICE_DELAYED_COPY)
        info->retry_until = info->arrival + (time_t)lifetime;
    info->size_limit = var_bounce_size_limit;
}

/* ---------------------------------------------------------------- */
/* the request */

static BOUNCE_REQUEST *bounce_request_alloc(void)
{
    BOUNCE_REQUEST *req = mymalloc(sizeof(*req));

    req->request = vstring_alloc(10);
    req->flags = 0;
    req->queue_name = vstring_alloc(10);
    req->queue_id = vstring_alloc(QUEUE_ID_BUFSIZE);
    req->sender = vstring_alloc(100);
    req->dsn_envid = vstring_alloc(10);
    req->dsn_ret = vstring_alloc(10);
    req->smtputf8 = 0;
    return req;
}

static void bounce_request_free(BOUNCE_REQUEST *req)
{
    vstring_free(req->request);
    vstring_free(req->queue_name);
    vstring_free(req->queue_id);
    vstring_free(req->sender);
    vstring_free(req->dsn_envid);
    vstring_free(req->dsn_ret);
    myfree(req);
}

static int bounce_text_ok(const VSTRING *text, size_t max, int ascii)
{
    if (vstring_len(text) > max || strlen(vstring_str(text)) != vstring_len(text))
        return 0;
    for (const unsigned char *cp = (const unsigned char *)vstring_str(text); *cp; cp++)
        if (*cp < 0x20 || *cp == 0x7f || (ascii && *cp >= 0x80))
            return 0;
    return 1;
}

/* bounce_request_check - what the request must look like; NULL or a reason */

static const char *bounce_request_check(const BOUNCE_REQUEST *req)
{
    static const char *queues[] = {DELIVER_QUEUE_NAMES};
    const char *ret = vstring_str(req->dsn_ret);
    int known = 0;

    if (strcmp(vstring_str(req->request), BOUNCE_REQ_FLUSH) != 0 &&
        strcmp(vstring_str(req->request), BOUNCE_REQ_WARN) != 0)
        return "unknown request";
    for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++)
        if (strcmp(vstring_str(req->queue_name), queues[i]) == 0)
            known = 1;
    if (!known)
        return "bad queue_name";
    if (!queue_id_ok(vstring_str(req->queue_id)))
        return "bad queue_id";
    if (req->flags < 0 || (req->flags & ~(long)BOUNCE_FLAG_EXPIRED) != 0)
        return "bad flags";
    if (!bounce_text_ok(req->sender, ADDRESS_LENIENT_MAX, 0))
        return "bad sender";
    if (!bounce_text_ok(req->dsn_envid, BOUNCE_ENVID_MAX, 1))
        return "bad dsn_envid";
    if (*ret && strcasecmp(ret, "FULL") != 0 && strcasecmp(ret, "HDRS") != 0)
        return "bad dsn_ret";
    if (req->smtputf8 != 0 && req->smtputf8 != 1)
        return "bad smtputf8";
    return NULL;
}

/* bounce_service - one request from qmgr */

static void bounce_service(VSTREAM *stream, const char *service, char **args)
{
    BOUNCE_REQUEST *req = bounce_request_alloc();
    const char *problem;
    int status = BOUNCE_STAT_FAIL;
    int n;

    (void)service;
    (void)args;
    vstream_set_timeout(stream, (int)var_ipc_timeout);
    n = attr_scan(stream, ATTR_FLAG_MISSING, ATTR_GET_STR("request", req->request),
                  ATTR_GET_INT("flags", &req->flags), ATTR_GET_STR("queue_name", req->queue_name),
                  ATTR_GET_STR("queue_id", req->queue_id), ATTR_GET_STR("sender", req->sender),
                  ATTR_GET_STR("dsn_envid", req->dsn_envid), ATTR_GET_STR("dsn_ret", req->dsn_ret),
                  ATTR_GET_INT("smtputf8", &req->smtputf8), ATTR_END);
    if (n < 0) {
        /* attr_scan() logged what was wrong; answer while the stream works */
        if (!vstream_feof(stream) && !vstream_ferror(stream) && !vstream_ftimeout(stream))
            (void)attr_print(stream, ATTR_INT("status", BOUNCE_STAT_FAIL), ATTR_END);
        bounce_request_free(req);
        return;
    }
    if ((problem = bounce_request_check(req)) != NULL) {
        msg_warn("request from %s: %s; refused", vstream_path(stream), problem);
    } else if (strcmp(vstring_str(req->request), BOUNCE_REQ_FLUSH) == 0) {
        status = bounce_flush(req);
    } else {
        status = bounce_delay(req);
    }
    if (msg_verbose)
        msg_info("%s: %s request: status %d", vstring_str(req->queue_id), vstring_str(req->request),
                 status);
    if (attr_print(stream, ATTR_INT("status", status), ATTR_END) != 0)
        msg_warn("%s: cannot send the reply: %m", vstring_str(req->queue_id));
    bounce_request_free(req);
}

/* bounce_pre_init - before a chroot: time zone data */

static void bounce_pre_init(const char *service, char **args)
{
    (void)service;
    (void)args;
    tzset();
}

/* bounce_post_init - the configuration every request uses */

static void bounce_post_init(const char *service, char **args)
{
    (void)service;
    (void)args;
    bounce_classes = argv_split(var_notify_classes ? var_notify_classes : "", ARGV_DELIM_LIST);
    bounce_double = vstring_alloc(100);
    vstring_sprintf(bounce_double, "%s@%s", var_double_bounce_sender, var_myhostname);
}

int main(int argc, char **argv)
{
    static const MAIL_SERVER_OPTS opts = {
        .flags = 0,
        .pre_init = bounce_pre_init,
        .post_init = bounce_post_init,
        .pre_accept = NULL,
        .on_exit = NULL,
    };

    single_server_main(argc, argv, bounce_service, &opts);
}
