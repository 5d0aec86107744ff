/*
 * NAME
 *	virtual - the virtual(8) mailbox delivery agent
 * SYNOPSIS
 *	virtual [generic daemon options]
 * DESCRIPTION
 *	virtual(8) takes delivery requests from qmgr(8) for recipients in
 *	the hosted domains of virtual_mailbox_domains, whose mailboxes are
 *	not tied to UNIX accounts, and delivers each recipient as
 *	Postfix's virtual(8) does:
 *	1. A Delivered-To: header that names the recipient means a mail
 *	   loop: returned, "mail forwarding loop for ADDRESS" (5.4.6).
 *	2. virtual_mailbox_maps gives the mailbox, relative to
 *	   virtual_mailbox_base: the full address is looked up, then the
 *	   address without its extension, then @domain (catch-all). Not
 *	   found: returned, "unknown user: "ADDRESS"" (5.1.1).
 *	3. virtual_uid_maps and virtual_gid_maps give the numeric owner
 *	   of the mailbox (same lookup order); a uid below
 *	   virtual_minimum_uid, a missing entry or a bad number defers the
 *	   mail ("mail system configuration error", 4.3.5) and is logged,
 *	   as is an empty or relative virtual_mailbox_base.
 *	4. With those ids (when the process is root), a mailbox name that
 *	   ends in "/" is delivered as a Maildir, any other as a locked
 *	   UNIX mailbox file (virtual_mailbox_lock), each limited by
 *	   virtual_mailbox_limit; missing directories are created. The
 *	   message gets Return-Path:, Delivered-To: (the recipient) and
 *	   X-Original-To:; a mailbox file also the "From " line, ">From "
 *	   quoting and an empty line.
 *	Each outcome is logged with relay=virtual through deliver_status:
 *	"delivered to maildir", "delivered to mailbox", or the reason.
 *	A table that cannot answer defers the recipient.
 *
 *	Started by a user other than root (tests, make run), the agent
 *	writes everything as that user; the ids from the tables are still
 *	looked up and checked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "deliver_request.h"
#include "deliver_status.h"
#include "mail_addr_find.h"
#include "mail_conf.h"
#include "mail_server.h"
#include "mailbox_copy.h"
#include "maildir.h"
#include "maps.h"
#include "mbox.h"
#include "msg.h"
#include "mymalloc.h"
#include "set_ugid.h"

#define VIRTUAL_RELAY "virtual"

static int virtual_root;                /* started as root: deliver as the mailbox owner */
static MAPS *virtual_mailbox_maps;
static MAPS *virtual_uid_maps;
static MAPS *virtual_gid_maps;

/* virtual_id - a numeric id from uid/gid maps: 1 ok, 0 not found/bad, -1 table error */
static int virtual_id(MAPS *maps, const char *addr, long *id, VSTRING *why)
{
    const char *value;
    char *end;

    switch (mail_addr_find(maps, addr, &value, NULL)) {
    case DICT_STAT_ERROR:
        vstring_sprintf(why, "%s lookup failure", maps->title);
        return -1;
    case DICT_STAT_NOTFOUND:
        vstring_sprintf(why, "recipient %s: not found in %s", addr, maps->title);
        return 0;
    }
    errno = 0;
    *id = strtol(value, &end, 10);
    if (errno || end == value || *end || *id < 0) {
        vstring_sprintf(why, "recipient %s: bad number \"%s\" in %s", addr, value, maps->title);
        return 0;
    }
    return 1;
}

/* virtual_lock_style - virtual_mailbox_lock as MBOX_LOCK_* bits */
static int virtual_lock_style(void)
{
    ARGV *words = argv_split(var_virtual_mailbox_lock, ARGV_DELIM_LIST);
    int lock = 0;

    for (int i = 0; i < words->argc; i++) {
        if (strcasecmp(words->argv[i], "fcntl") == 0 || strcasecmp(words->argv[i], "flock") == 0)
            lock |= MBOX_LOCK_FCNTL;
        else if (strcasecmp(words->argv[i], "dotlock") == 0)
            lock |= MBOX_LOCK_DOT;
    }
    argv_free(words);
    return lock;
}

/* virtual_config_error - log the problem, defer the recipient */
static void virtual_config_error(DELIVER_REQUEST *req, int i, const char *problem)
{
    msg_warn("%s: %s", req->queue_id, problem);
    (void)deliver_defer(req, i, VIRTUAL_RELAY, "4.3.5", "mail system configuration error");
}

/* virtual_deliver - one recipient */
static void virtual_deliver(DELIVER_REQUEST *req, int i, VSTREAM *queue)
{
    DELIVER_RCPT *rcpt = req->rcpt + i;
    VSTRING *path = vstring_alloc(100);
    VSTRING *dsn = vstring_alloc(10);
    VSTRING *why = vstring_alloc(100);
    VSTRING *stable = vstring_alloc(50);
    MAILBOX_SRC src;
    MBOX_OPTS opts;
    const char *value;
    char *slash;
    long uid, gid;
    int status;

    /* 1. loops */
    switch (mailbox_header_find(queue, req->data_offset, "Delivered-To", rcpt->address)) {
    case 1:
        (void)deliver_bounce(req, i, VIRTUAL_RELAY, "5.4.6", "mail forwarding loop for %s",
                             rcpt->address);
        goto done;
    case -1:
        (void)deliver_defer(req, i, VIRTUAL_RELAY, "4.3.0",
                            "error reading message: queue file read error");
        goto done;
    }

    /* 2. the mailbox */
    if (var_virtual_mailbox_base[0] != '/') {
        virtual_config_error(req, i, "virtual_mailbox_base must be an absolute path name");
        goto done;
    }
    switch (mail_addr_find(virtual_mailbox_maps, rcpt->address, &value, NULL)) {
    case DICT_STAT_ERROR:
        (void)deliver_defer(req, i, VIRTUAL_RELAY, "4.3.0", "virtual_mailbox_maps lookup failure");
        goto done;
    case DICT_STAT_NOTFOUND:
        (void)deliver_bounce(req, i, VIRTUAL_RELAY, "5.1.1", "unknown user: \"%s\"", rcpt->address);
        goto done;
    }
    if (*value == 0 || strstr(value, "../") || strcmp(value, "..") == 0 ||
        (strlen(value) >= 3 && strcmp(value + strlen(value) - 3, "/..") == 0)) {
        vstring_sprintf(why, "recipient %s: bad mailbox name \"%s\" in virtual_mailbox_maps",
                        rcpt->address, value);
        virtual_config_error(req, i, vstring_str(why));
        goto done;
    }
    vstring_sprintf(path, "%s/%s", var_virtual_mailbox_base, value);

    /* 3. its owner */
    switch (virtual_id(virtual_uid_maps, rcpt->address, &uid, why)) {
    case -1:
        (void)deliver_defer(req, i, VIRTUAL_RELAY, "4.3.0", "%s", vstring_str(why));
        goto done;
    case 0:
        virtual_config_error(req, i, vstring_str(why));
        goto done;
    }
    if (uid < var_virtual_minimum_uid) {
        vstring_sprintf(why, "recipient %s: uid %ld is below virtual_minimum_uid %ld",
                        rcpt->address, uid, var_virtual_minimum_uid);
        virtual_config_error(req, i, vstring_str(why));
        goto done;
    }
    switch (virtual_id(virtual_gid_maps, rcpt->address, &gid, why)) {
    case -1:
        (void)deliver_defer(req, i, VIRTUAL_RELAY, "4.3.0", "%s", vstring_str(why));
        goto done;
    case 0:
        virtual_config_error(req, i, vstring_str(why));
        goto done;
    }
    if (gid == 0 && virtual_root) {
        vstring_sprintf(why, "recipient %s: gid 0 in virtual_gid_maps", rcpt->address);
        virtual_config_error(req, i, vstring_str(why));
        goto done;
    }

    /* 4. the delivery, as the owner */
    memset(&src, 0, sizeof(src));
    src.queue = queue;
    src.data_offset = req->data_offset;
    src.sender = req->sender;
    src.delivered = rcpt->address;
    src.orig_rcpt = *rcpt->orig ? rcpt->orig : rcpt->address;
    if (virtual_root)
        set_eugid((uid_t)uid, (gid_t)gid, NULL);
    if (vstring_end(path)[-1] == '/') {
        src.flags = MAILBOX_COPY_MAILDIR;
        vstring_sprintf(stable, "%ld.Q%sR%lld", (long)req->arrival.tv_sec, req->queue_id,
                        (long long)rcpt->offset);
        status = maildir_deliver(vstring_str(path), vstring_str(stable), var_virtual_mailbox_limit,
                                 mailbox_copy, &src, dsn, why, NULL);
        if (virtual_root)
            set_eugid(0, 0, NULL);
        if (status == MAILBOX_OK)
            (void)deliver_sent(req, i, VIRTUAL_RELAY, "2.0.0", "delivered to maildir");
        else if (status == MAILBOX_BOUNCE)
            (void)deliver_bounce(req, i, VIRTUAL_RELAY, vstring_str(dsn),
                                 "maildir delivery failed: %s", vstring_str(why));
        else
            (void)deliver_defer(req, i, VIRTUAL_RELAY, vstring_str(dsn),
                                "maildir delivery failed: %s", vstring_str(why));
        goto done;
    }
    src.flags = MAILBOX_COPY_MBOX;
    mbox_opts_init(&opts);
    opts.lock = virtual_lock_style();
    opts.lock_attempts = (int)var_deliver_lock_attempts;
    opts.lock_delay = (int)var_deliver_lock_delay;
    opts.stale_time = (int)var_stale_lock_time;
    opts.limit = var_virtual_mailbox_limit;
    if (virtual_root)
        opts.owner = (uid_t)uid;
    status = MAILBOX_OK;
    if ((slash = strrchr(vstring_str(path), '/')) != NULL && slash > vstring_str(path)) {
        *slash = 0;
        if (maildir_make_dirs(vstring_str(path), 0700) < 0) {
            int err = errno;

            vstring_strcpy(dsn, mailbox_dsn(err, "4.2.0"));
            vstring_sprintf(why, "create directory %s: %s", vstring_str(path), strerror(err));
            status = mailbox_status(vstring_str(dsn));
        }
        *slash = '/';
    }
    if (status == MAILBOX_OK)
        status = mbox_deliver(vstring_str(path), &opts, mailbox_copy, &src, dsn, why);
    if (virtual_root)
        set_eugid(0, 0, NULL);
    if (status == MAILBOX_OK)
        (void)deliver_sent(req, i, VIRTUAL_RELAY, "2.0.0", "delivered to mailbox");
    else if (status == MAILBOX_BOUNCE)
        (void)deliver_bounce(req, i, VIRTUAL_RELAY, vstring_str(dsn),
                             "delivery failed to mailbox %s: %s", vstring_str(path),
                             vstring_str(why));
    else
        (void)deliver_defer(req, i, VIRTUAL_RELAY, vstring_str(dsn),
                            "delivery failed to mailbox %s: %s", vstring_str(path),
                            vstring_str(why));
done:
    vstring_free(path);
    vstring_free(dsn);
    vstring_free(why);
    vstring_free(stable);
}

/* virtual_service - one delivery request */
static void virtual_service(VSTREAM *stream, const char *service, char **args)
{
    DELIVER_REQUEST *req;
    VSTREAM *queue;

    (void)service;
    (void)args;
    if ((req = deliver_request_read(stream)) == NULL)
        return;
    if ((queue = deliver_request_open(req)) == NULL) {
        (void)deliver_request_done(req, DEL_STAT_DEFER);
        return;
    }
    for (int i = 0; i < req->rcpt_count; i++)
        virtual_deliver(req, i, queue);
    (void)deliver_request_done(req, DEL_STAT_OK);
}

/* virtual_pre_init - open the tables while still root */
static void virtual_pre_init(const char *service, char **args)
{
    (void)service;
    (void)args;
    virtual_root = getuid() == 0;
    virtual_mailbox_maps =
        maps_create("virtual_mailbox_maps", var_virtual_mailbox_maps, DICT_FLAG_DEFAULT);
    virtual_uid_maps = maps_create("virtual_uid_maps", var_virtual_uid_maps, DICT_FLAG_DEFAULT);
    virtual_gid_maps = maps_create("virtual_gid_maps", var_virtual_gid_maps, DICT_FLAG_DEFAULT);
}

int main(int argc, char **argv)
{
    MAIL_SERVER_OPTS opts;

    memset(&opts, 0, sizeof(opts));
    opts.flags = MAIL_SERVER_PRIVILEGED;
    opts.pre_init = virtual_pre_init;
    single_server_main(argc, argv, virtual_service, &opts);
}
