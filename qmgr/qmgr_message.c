/*
 * NAME
 *	qmgr_message - messages in the active queue and their bookkeeping
 * SYNOPSIS
 *	#include "qmgr.h"
 *
 *	void qmgr_message_activate(const char *queue_id, int fd, int flags)
 *	DELIVER_REQUEST *qmgr_message_request(QMGR_MESSAGE *msg, const char *nexthop)
 *	void qmgr_message_rcpt_done(QMGR_MESSAGE *msg, int index, int status)
 *	void qmgr_message_entry_done(QMGR_MESSAGE *msg)
 *	void qmgr_message_defer_rcpts(QMGR_MESSAGE *msg, const int *rcpt, int count,
 *			const char *dsn, const char *reason)
 *	void qmgr_message_bounce_done(QMGR_MESSAGE *msg, int ok)
 *	void qmgr_message_warn_done(QMGR_MESSAGE *msg)
 * DESCRIPTION
 *	qmgr_message_activate() reads the envelope of active/QUEUE_ID from
 *	fd (open read-write and exclusively locked by the caller; closed
 *	here), logs "from=<...>, size=N, nrcpt=N (queue active)", resolves
 *	every recipient not yet done and puts them on the todo lists of
 *	their destinations in entries of at most the transport's recipient
 *	limit. Recipients that cannot be scheduled now (the resolver
 *	failed, the transport or destination is dead, the transport is in
 *	defer_transports) are deferred at once. A file that is not a
 *	complete queue file (no SIZE record first, an unknown or misplaced
 *	record, MESG not where SIZE says (its offset, or the offset of the
 *	content right after it), no END record at its end) moves
 *	to corrupt/ with a warning. flags are the QMGR_SCAN_* flags of the
 *	scan that took the message. The message may be finished before
 *	this returns.
 *
 *	The records after the content (recipients taken from headers, the
 *	content actions of lib/cleanup_proto.h) are reached by the
 *	xtra_offset record, or by reading through the content in a file
 *	without one. A message with a content_filter record goes, every
 *	recipient unchanged, to the filter's transport and next hop (the
 *	recipient domain when the filter names none, or
 *	$default_filter_nexthop), without the resolver. A message with a
 *	redirect record is delivered once, to that address as the resolver
 *	routes it, with the first recipient still to do as its original
 *	recipient; the other recipients count as done with it (they are
 *	removed with the file; a crash after that delivery may deliver the
 *	redirection once more). A redirection wins over a filter.
 *
 *	qmgr_message_request() starts a DELIVER_REQUEST for msg (envelope,
 *	delays a and b as of now) without recipients.
 *
 *	qmgr_message_rcpt_done() records a recipient's outcome (QMGR_RCPT_*),
 *	once. qmgr_message_entry_done() says that one of msg's entries is
 *	finished; with the last one, the message is done:
 *	  1. recipients still undecided count as deferred;
 *	  2. when the message has expired and recipients are deferred, each
 *	     gets a bounce note (reason from its newest defer note) and is
 *	     marked done, and "status=expired, returned to sender" is logged;
 *	  3. when bounce/QUEUE_ID exists, bounce(8) is asked to send the
 *	     notice (qmgr_bounce.c, which calls qmgr_message_bounce_done());
 *	  4. when a recipient is deferred and the message is at least
 *	     $delay_warning_time old (not 0), not expired, and its sender was
 *	     not warned yet (bounce_warn_sent()), bounce(8) is asked for a
 *	     delay warning (qmgr_message_warn_done() continues, whatever the
 *	     outcome);
 *	  5. when a recipient is deferred or the bounce request failed, the
 *	     file gets its next attempt time as modification time and moves
 *	     to deferred/; otherwise defer/QUEUE_ID and the file are removed
 *	     and "removed" is logged (qmgr_remove.c).
 *	The wait before the next attempt is the age of the message, but at
 *	least $minimal_backoff_time and at most $maximal_backoff_time, so
 *	it doubles from one attempt to the next.
 *
 *	qmgr_message_defer_rcpts() defers recipients on qmgr's own account:
 *	defer note, status line (relay=none), outcome.
 * DIAGNOSTICS
 *	Corrupt files and file system errors are logged as warnings.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "bounce_warn.h"
#include "cleanup_proto.h"
#include "deliver_request.h"
#include "deliver_status.h"
#include "htable.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "qmgr.h"
#include "rec.h"
#include "resolve.h"
#include "vstream.h"
#include "vstring.h"

#define QMGR_REC_MAX (1024 * 1024)     /* bytes of one envelope record */

static QMGR_MESSAGE *qmgr_messages;    /* all active messages */
static RESOLVE_REPLY *qmgr_reply;

/* content actions of the message being activated (lib/cleanup_proto.h) */
static VSTRING *qmgr_filter;           /* content_filter: transport:destination */
static VSTRING *qmgr_redirect;         /* redirect: address */
static off_t qmgr_xtra_offset;         /* xtra_offset: where XTRA is, 0 = unknown */

static void qmgr_message_done(QMGR_MESSAGE *msg);

/* ---------------------------------------------------------------- */
/* memory */

static QMGR_MESSAGE *qmgr_message_alloc(const char *queue_id)
{
    QMGR_MESSAGE *msg = mycalloc(1, sizeof(*msg));

    msg->queue_id = mystrdup(queue_id);
#define EMPTY(f) (msg->f = mystrdup(""))
    EMPTY(sender);
    EMPTY(encoding);
    EMPTY(dsn_envid);
    EMPTY(dsn_ret);
    EMPTY(client_name);
    EMPTY(client_address);
    EMPTY(helo_name);
    EMPTY(protocol);
    EMPTY(sasl_username);
#undef EMPTY
    gettimeofday(&msg->active, NULL);
    return msg;
}

static void qmgr_message_free(QMGR_MESSAGE *msg)
{
    for (int i = 0; i < msg->rcpt_count; i++) {
        myfree(msg->rcpt[i].address);
        myfree(msg->rcpt[i].orig);
        myfree(msg->rcpt[i].orcpt);
    }
    myfree(msg->rcpt);
    myfree(msg->queue_id);
    myfree(msg->sender);
    myfree(msg->encoding);
    myfree(msg->dsn_envid);
    myfree(msg->dsn_ret);
    myfree(msg->client_name);
    myfree(msg->client_address);
    myfree(msg->helo_name);
    myfree(msg->protocol);
    myfree(msg->sasl_username);
    myfree(msg);
}

static void qmgr_message_set(char **field, const char *value)
{
    myfree(*field);
    *field = mystrdup(value);
}

/* ---------------------------------------------------------------- */
/* reading the envelope */

static int qmgr_message_add_rcpt(QMGR_MESSAGE *msg, int *size, const char *addr, const char *orig,
                                 const char *orcpt, long notify, off_t offset)
{
    QMGR_RCPT *rcpt;

    if (msg->rcpt_count >= *size) {
        *size = *size ? *size * 2 : 4;
        msg->rcpt = myrealloc(msg->rcpt, sizeof(*msg->rcpt) * (size_t) *size);
    }
    rcpt = msg->rcpt + msg->rcpt_count++;
    rcpt->address = mystrdup(addr);
    rcpt->orig = mystrdup(orig);
    rcpt->orcpt = mystrdup(orcpt);
    rcpt->notify = notify;
    rcpt->offset = offset;
    rcpt->status = QMGR_RCPT_TODO;
    return 0;
}

static int qmgr_message_attr(QMGR_MESSAGE *msg, VSTRING *buf)
{
    const char *name, *value;

    if (rec_attr_split(buf, &name, &value) < 0)
        return -1;
    if (strcmp(name, "encoding") == 0)
        qmgr_message_set(&msg->encoding, value);
    else if (strcmp(name, "smtputf8") == 0)
        msg->smtputf8 = strcmp(value, "1") == 0;
    else if (strcmp(name, "dsn_envid") == 0)
        qmgr_message_set(&msg->dsn_envid, value);
    else if (strcmp(name, "dsn_ret") == 0)
        qmgr_message_set(&msg->dsn_ret, value);
    else if (strcmp(name, "client_name") == 0)
        qmgr_message_set(&msg->client_name, value);
    else if (strcmp(name, "client_address") == 0)
        qmgr_message_set(&msg->client_address, value);
    else if (strcmp(name, "helo_name") == 0)
        qmgr_message_set(&msg->helo_name, value);
    else if (strcmp(name, "protocol") == 0)
        qmgr_message_set(&msg->protocol, value);
    else if (strcmp(name, "sasl_username") == 0)
        qmgr_message_set(&msg->sasl_username, value);
    else if (strcmp(name, CLEANUP_ATTR_FILTER) == 0)
        vstring_strcpy(qmgr_filter, value);
    else if (strcmp(name, CLEANUP_ATTR_REDIRECT) == 0)
        vstring_strcpy(qmgr_redirect, value);
    else if (strcmp(name, CLEANUP_ATTR_XTRA_OFFSET) == 0) {
        char *end;
        long long off = strtoll(value, &end, 10);

        if (*value < '0' || *value > '9' || *end || off < 0)
            return -1;
        qmgr_xtra_offset = (off_t) off;
    }
    return 0;
}

static int qmgr_message_time(const char *text, struct timeval *tv)
{
    long long sec;
    long usec = 0;
    char *end;

    errno = 0;
    sec = strtoll(text, &end, 10);
    if (errno || end == text || sec < 0)
        return -1;
    if (*end == '.') {
        const char *frac = end + 1;

        usec = strtol(frac, &end, 10);
        if (errno || end == frac || usec < 0 || usec > 999999)
            return -1;
    }
    if (*end)
        return -1;
    tv->tv_sec = (time_t) sec;
    tv->tv_usec = usec;
    return 0;
}

/* qmgr_message_read - the envelope; 0, or -1 with why */

static int qmgr_message_read(QMGR_MESSAGE *msg, VSTREAM *fp, VSTRING *why)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *orig = vstring_alloc(50);
    VSTRING *orcpt = vstring_alloc(50);
    long notify = 0;
    long long size, offset, count;
    int have_time = 0, have_from = 0;
    int rcpt_size = 0;
    long rcpt_seen = 0;     /* RCPT and DONE records read */
    int in_content = 0;     /* skipping content to reach extracted recipients */
    int after_xtra = 0;     /* reached XTRA through the xtra_offset record */
    off_t at;
    int type;
    int ret = -1;
    struct stat st;
    char tail[2];

    if ((type = rec_get(fp, buf, QMGR_REC_MAX)) != REC_TYPE_SIZE
        || sscanf(vstring_str(buf), "%lld %lld %lld", &size, &offset, &count) != 3 || size < 0
        || offset <= 0 || count < 0) {
        vstring_strcpy(why, "no valid size record");
        goto out;
    }
    msg->data_size = (long) size;
    msg->data_offset = (off_t) offset;
    msg->rcpt_total = (long) count;
    if (qmgr_filter == NULL) {
        qmgr_filter = vstring_alloc(50);
        qmgr_redirect = vstring_alloc(50);
    }
    vstring_reset(qmgr_filter);
    vstring_reset(qmgr_redirect);
    qmgr_xtra_offset = 0;
    for (;;) {
        at = vstream_ftell(fp);
        type = rec_get(fp, buf, QMGR_REC_MAX);
        if (in_content) {
            /* recipients cleanup extracted from headers (sendmail -t) follow XTRA */
            if (type == REC_TYPE_NORM || type == REC_TYPE_CONT)
                continue;
            if (type == REC_TYPE_XTRA) {
                in_content = 0;
                continue;
            }
            vstring_sprintf(why, "unexpected %s record in the content", rec_type_name(type));
            goto out;
        }
        switch (type) {
        case REC_TYPE_TIME:
            if (qmgr_message_time(vstring_str(buf), &msg->arrival) < 0) {
                vstring_strcpy(why, "bad time record");
                goto out;
            }
            have_time = 1;
            break;
        case REC_TYPE_FROM:
            qmgr_message_set(&msg->sender, vstring_str(buf));
            have_from = 1;
            break;
        case REC_TYPE_ATTR:
            if (qmgr_message_attr(msg, buf) < 0) {
                vstring_strcpy(why, "bad attribute record");
                goto out;
            }
            break;
        case REC_TYPE_ORCP:
            vstring_strcpy(orig, vstring_str(buf));
            break;
        case REC_TYPE_DSN_ORCPT:
            vstring_strcpy(orcpt, vstring_str(buf));
            break;
        case REC_TYPE_NOTIFY:
            notify = strtol(vstring_str(buf), NULL, 10);
            break;
        case REC_TYPE_RCPT:
        case REC_TYPE_DONE:
            if (!have_from) {
                vstring_strcpy(why, "recipient before sender");
                goto out;
            }
            rcpt_seen++;
            if (type == REC_TYPE_RCPT)
                qmgr_message_add_rcpt(msg, &rcpt_size, vstring_str(buf), vstring_str(orig),
                                      vstring_str(orcpt), notify, at);
            vstring_reset(orig);
            vstring_reset(orcpt);
            notify = 0;
            break;
        case REC_TYPE_MESG:
            if (after_xtra) {
                vstring_strcpy(why, "content record after the end of the content");
                goto out;
            }
            /* the SIZE record may point at MESG or at the content after it */
            if (msg->data_offset == vstream_ftell(fp))
                msg->data_offset = at;
            if (at != msg->data_offset) {
                vstring_sprintf(why, "content at offset %lld, size record says %lld",
                                (long long) at, (long long) msg->data_offset);
                goto out;
            }
            if (!have_time || !have_from) {
                vstring_strcpy(why, "no time or sender record");
                goto out;
            }
            if (qmgr_xtra_offset > 0) {
                /* skip the content: extracted recipients and actions follow XTRA */
                if (qmgr_xtra_offset <= at || rec_goto(fp, qmgr_xtra_offset) < 0
                    || rec_get(fp, buf, QMGR_REC_MAX) != REC_TYPE_XTRA) {
                    vstring_strcpy(why, "bad xtra_offset record");
                    goto out;
                }
                after_xtra = 1;
                continue;
            }
            if (rcpt_seen < msg->rcpt_total) {
                in_content = 1; /* the rest are in the extracted segment */
                continue;
            }
            ret = 0;
            goto out;
        case REC_TYPE_END:
            /* only reached after the extracted segment */
            if (rcpt_seen != msg->rcpt_total) {
                vstring_sprintf(why, "%ld recipient records, size record says %ld", rcpt_seen,
                                msg->rcpt_total);
                goto out;
            }
            ret = 0;
            goto out;
        default:
            vstring_sprintf(why, "unexpected %s record in the envelope", rec_type_name(type));
            goto out;
        }
    }
out:
    /* a complete file ends with an empty END record */
    if (ret == 0 && (fstat(vstream_fileno(fp), &st) < 0 || st.st_size < 2
                     || pread(vstream_fileno(fp), tail, 2, st.st_size - 2) != 2
                     || tail[0] != REC_TYPE_END || tail[1] != 0)) {
        vstring_strcpy(why, "no end record");
        ret = -1;
    }
    vstring_free(buf);
    vstring_free(orig);
    vstring_free(orcpt);
    return ret;
}

/* ---------------------------------------------------------------- */
/* requests and deferrals on qmgr's account */

DELIVER_REQUEST *qmgr_message_request(QMGR_MESSAGE *msg, const char *nexthop)
{
    DELIVER_REQUEST *req = deliver_request_alloc();
    struct timeval now;

    gettimeofday(&now, NULL);
    deliver_request_set(&req->queue_name, "active");
    deliver_request_set(&req->queue_id, msg->queue_id);
    req->data_offset = msg->data_offset;
    req->data_size = msg->data_size;
    deliver_request_set(&req->nexthop, nexthop);
    deliver_request_set(&req->encoding, msg->encoding);
    req->smtputf8 = msg->smtputf8;
    deliver_request_set(&req->sender, msg->sender);
    deliver_request_set(&req->dsn_envid, msg->dsn_envid);
    deliver_request_set(&req->dsn_ret, msg->dsn_ret);
    req->arrival = msg->arrival;
    deliver_request_set(&req->client_name, msg->client_name);
    deliver_request_set(&req->client_address, msg->client_address);
    deliver_request_set(&req->helo_name, msg->helo_name);
    deliver_request_set(&req->protocol, msg->protocol);
    deliver_request_set(&req->sasl_username, msg->sasl_username);
    req->delay_a = (double) (msg->active.tv_sec - msg->arrival.tv_sec)
                   + (double) (msg->active.tv_usec - msg->arrival.tv_usec) / 1e6;
    req->delay_b = (double) (now.tv_sec - msg->active.tv_sec)
                   + (double) (now.tv_usec - msg->active.tv_usec) / 1e6;
    return req;
}

void qmgr_message_rcpt_done(QMGR_MESSAGE *msg, int index, int status)
{
    QMGR_RCPT *rcpt = msg->rcpt + index;

    if (rcpt->status == QMGR_RCPT_TODO) {
        rcpt->status = status;
        msg->todo--;
    }
}

void qmgr_message_defer_rcpts(QMGR_MESSAGE *msg, const int *rcpt, int count, const char *dsn,
                              const char *reason)
{
    DELIVER_REQUEST *req = qmgr_message_request(msg, "");

    for (int k = 0; k < count; k++) {
        QMGR_RCPT *r = msg->rcpt + rcpt[k];

        deliver_request_add_rcpt(req, r->address, r->orig, r->offset, r->notify, r->orcpt);
        (void) deliver_defer(req, k, "none", dsn, "%s", reason);
        qmgr_message_rcpt_done(msg, rcpt[k], QMGR_RCPT_DEFERRED);
    }
    deliver_request_free(req);
}

/* ---------------------------------------------------------------- */
/* activation */

static void qmgr_message_defer_one(QMGR_MESSAGE *msg, int i, const char *dsn, const char *reason)
{
    qmgr_message_defer_rcpts(msg, &i, 1, dsn, reason);
}

static void qmgr_message_schedule(QMGR_MESSAGE *msg)
{
    HTABLE *building = htable_create(7);
    QMGR_ENTRY **made = NULL;
    int nmade = 0, made_size = 0;
    VSTRING *key = vstring_alloc(100);
    time_t now = time(NULL);
    int redirected = 0;

    if (qmgr_reply == NULL)
        qmgr_reply = resolve_reply_alloc();
    for (int i = 0; i < msg->rcpt_count; i++) {
        QMGR_RCPT *rcpt = msg->rcpt + i;
        QMGR_TRANSPORT *transport;
        QMGR_QUEUE *queue;
        QMGR_ENTRY *entry;
        const char *nexthop;
        const char *domain;
        int limit;

        /* REDIRECT: one delivery to that address stands for every recipient */
        if (vstring_len(qmgr_redirect) > 0) {
            if (redirected) {
                qmgr_message_rcpt_done(msg, i, QMGR_RCPT_SENT);
                continue;
            }
            redirected = 1;
            if (*rcpt->orig == 0)
                qmgr_message_set(&rcpt->orig, rcpt->address);
            qmgr_message_set(&rcpt->address, vstring_str(qmgr_redirect));
        }
        if (vstring_len(qmgr_redirect) == 0 && vstring_len(qmgr_filter) > 0) {
            /* a content filter takes the place of the resolver */
            resolve_split(vstring_str(qmgr_filter), qmgr_reply->transport, qmgr_reply->nexthop);
            if (vstring_len(qmgr_reply->nexthop) == 0) {
                domain = strrchr(rcpt->address, '@');
                vstring_strcpy(qmgr_reply->nexthop,
                               *var_default_filter_nexthop ? var_default_filter_nexthop
                               : domain && domain[1]        ? domain + 1
                                                            : var_myhostname);
            }
        } else if (resolve_addr(rcpt->address, qmgr_reply) & RESOLVE_FLAG_FAIL) {
            qmgr_message_defer_one(msg, i, "4.3.0", "address resolver failure");
            continue;
        } else if (strcmp(vstring_str(qmgr_reply->recipient), rcpt->address) != 0) {
            qmgr_message_set(&rcpt->address, vstring_str(qmgr_reply->recipient));
        }
        nexthop = vstring_str(qmgr_reply->nexthop);
        transport = qmgr_transport_find(vstring_str(qmgr_reply->transport));
        if (transport->dead_until > now) {
            qmgr_message_defer_one(msg, i, "4.3.0", transport->dead_reason);
            continue;
        }
        if (transport->deferred && !(msg->flags & QMGR_MSG_FLUSH)) {
            qmgr_message_defer_one(msg, i, "4.3.2", "deferred transport");
            continue;
        }
        limit = transport->rcpt_limit;
        if (limit > 1) {
            vstring_strcpy(key, nexthop);
        } else {
            vstring_strcpy(key, rcpt->address);
            vstring_lowercase(key);
        }
        queue = qmgr_queue_find(transport, vstring_str(key), nexthop);
        if (queue->dead_until > now) {
            qmgr_message_defer_one(msg, i, "4.3.0",
                                   "delivery temporarily suspended: unknown mail transport error");
            continue;
        }
        vstring_sprintf(key, "%s\n%s", transport->name, queue->name);
        entry = htable_find(building, vstring_str(key));
        if (entry == NULL || entry->count >= limit) {
            entry = qmgr_entry_alloc(msg, queue);
            htable_enter(building, vstring_str(key), entry);
            if (nmade >= made_size) {
                made_size = made_size ? 2 * made_size : 4;
                made = myrealloc(made, sizeof(*made) * (size_t) made_size);
            }
            made[nmade++] = entry;
            msg->refcount++;
        }
        if (entry->count >= entry->size) {
            entry->size = entry->size ? 2 * entry->size : 1;
            entry->rcpt = myrealloc(entry->rcpt, sizeof(int) * (size_t) entry->size);
        }
        entry->rcpt[entry->count++] = i;
    }
    for (int k = 0; k < nmade; k++)
        qmgr_entry_add(made[k]->queue, made[k]);
    myfree(made);
    htable_free(building, NULL);
    vstring_free(key);
    if (nmade)
        qmgr_schedule_soon();
}

void qmgr_message_activate(const char *queue_id, int fd, int flags)
{
    QMGR_MESSAGE *msg = qmgr_message_alloc(queue_id);
    VSTRING *path = vstring_alloc(50);
    VSTRING *why = vstring_alloc(100);
    VSTRING *sender = vstring_alloc(50);
    VSTREAM *fp;
    long lifetime;

    vstring_sprintf(path, "active/%s", queue_id);
    fp = vstream_fdopen(fd, O_RDWR);
    vstream_set_path(fp, vstring_str(path));
    if (qmgr_message_read(msg, fp, why) < 0) {
        vstream_fclose(fp);
        msg_warn("%s: %s: saving corrupt file from queue active to queue corrupt", queue_id,
                 vstring_str(why));
        qmgr_move(queue_id, "active", "corrupt");
        qmgr_message_free(msg);
        goto out;
    }
    vstream_fclose(fp);                        /* and the exclusive lock */
    if (address_quote(sender, msg->sender) < 0)
        vstring_strcpy(sender, msg->sender);
    msg_info("%s: from=<%s>, size=%ld, nrcpt=%ld (queue active)", queue_id, vstring_str(sender),
             msg->data_size, msg->rcpt_total);

    if (flags & QMGR_SCAN_FLUSH)
        msg->flags |= QMGR_MSG_FLUSH;
    lifetime = var_maximal_queue_lifetime;
    if (*msg->sender == 0 && var_bounce_queue_lifetime < lifetime)
        lifetime = var_bounce_queue_lifetime;
    if (time(NULL) - msg->arrival.tv_sec > lifetime)
        msg->flags |= QMGR_MSG_EXPIRED;

    msg->next = qmgr_messages;
    if (qmgr_messages)
        qmgr_messages->prev = msg;
    qmgr_messages = msg;
    qmgr_active_count++;
    qmgr_rcpt_count += msg->rcpt_count;
    msg->todo = msg->rcpt_count;

    /* an entry of our own holds the message until every recipient is placed */
    msg->refcount = 1;
    qmgr_message_schedule(msg);
    qmgr_message_entry_done(msg);
out:
    vstring_free(path);
    vstring_free(why);
    vstring_free(sender);
}

/* ---------------------------------------------------------------- */
/* the end of a delivery attempt */

void qmgr_message_entry_done(QMGR_MESSAGE *msg)
{
    if (--msg->refcount == 0)
        qmgr_message_done(msg);
}

/* qmgr_message_expire - turn the deferred recipients of an expired message into bounces */

static void qmgr_message_expire(QMGR_MESSAGE *msg)
{
    DELIVER_REQUEST *req = qmgr_message_request(msg, "");
    DELIVER_NOTE *found = deliver_note_alloc();
    DELIVER_NOTE **newest = mycalloc((size_t) msg->rcpt_count, sizeof(*newest));
    DELIVER_NOTE note;
    VSTRING *sender = vstring_alloc(50);
    VSTREAM *fp;
    VSTREAM *qf;
    int bounced = 0;

    /* the newest defer note of each deferred recipient, by record offset */
    if ((fp = deliver_note_open(DEFER_LOG_DIR, msg->queue_id)) != NULL) {
        while (deliver_note_read(fp, found) > 0) {
            for (int i = 0; i < msg->rcpt_count; i++) {
                if (msg->rcpt[i].offset != found->offset)
                    continue;
                if (newest[i] == NULL)
                    newest[i] = deliver_note_alloc();
                deliver_request_set(&newest[i]->status, found->status);
                deliver_request_set(&newest[i]->reason, found->reason);
                deliver_request_set(&newest[i]->relay, found->relay);
                break;
            }
        }
        vstream_fclose(fp);
    }
    for (int i = 0; i < msg->rcpt_count; i++) {
        QMGR_RCPT *r = msg->rcpt + i;

        if (r->status != QMGR_RCPT_DEFERRED)
            continue;
        note.recipient = r->address;
        note.orig_recipient = r->orig;
        note.offset = r->offset;
        note.notify = r->notify;
        note.orcpt = r->orcpt;
        note.status = newest[i] && *newest[i]->status ? newest[i]->status : "4.4.7";
        note.action = DELIVER_ACTION_FAILED;
        note.reason = newest[i] && *newest[i]->reason ? newest[i]->reason
                                                       : "message delivery time exceeded";
        note.relay = newest[i] && *newest[i]->relay ? newest[i]->relay : "none";
        note.time = time(NULL);
        if (deliver_note_append(req, BOUNCE_LOG_DIR, &note) < 0)
            continue;                          /* stays deferred; warning logged */
        if ((qf = deliver_request_open(req)) == NULL || rec_mark_done(qf, r->offset) < 0)
            msg_warn("%s: cannot mark expired recipient %s done", msg->queue_id, r->address);
        r->status = QMGR_RCPT_BOUNCED;
        bounced++;
    }
    if (bounced) {
        if (address_quote(sender, msg->sender) < 0)
            vstring_strcpy(sender, msg->sender);
        msg_info("%s: from=<%s>, status=expired, returned to sender", msg->queue_id,
                 vstring_str(sender));
    }
    for (int i = 0; i < msg->rcpt_count; i++)
        if (newest[i])
            deliver_note_free(newest[i]);
    myfree(newest);
    deliver_note_free(found);
    deliver_request_free(req);
    vstring_free(sender);
}

static int qmgr_message_has_deferred(QMGR_MESSAGE *msg)
{
    for (int i = 0; i < msg->rcpt_count; i++)
        if (msg->rcpt[i].status == QMGR_RCPT_DEFERRED)
            return 1;
    return 0;
}

/* qmgr_message_finish - leave the active queue; keep: defer even when nothing is deferred */

static void qmgr_message_finish(QMGR_MESSAGE *msg, int keep)
{
    VSTRING *path = vstring_alloc(50);
    struct timeval tv[2];
    long delay;

    vstring_sprintf(path, "active/%s", msg->queue_id);
    if (keep || qmgr_message_has_deferred(msg)) {
        /* a delay warning first, once, while the file is still in active/ */
        if (!(msg->flags & (QMGR_MSG_WARN | QMGR_MSG_EXPIRED)) && qmgr_message_has_deferred(msg)
            && bounce_warn_due(msg->arrival.tv_sec, time(NULL))
            && bounce_warn_sent(msg->queue_id) == 0) {
            msg->flags |= QMGR_MSG_WARN | (keep ? QMGR_MSG_KEEP : 0);
            vstring_free(path);
            qmgr_bounce_warn(msg);              /* calls qmgr_message_warn_done() */
            return;
        }
        delay = time(NULL) - msg->arrival.tv_sec;
        if (delay > var_maximal_backoff_time)
            delay = var_maximal_backoff_time;
        if (delay < var_minimal_backoff_time)
            delay = var_minimal_backoff_time;
        gettimeofday(&tv[0], NULL);
        tv[0].tv_sec += delay;
        tv[0].tv_usec = 0;
        tv[1] = tv[0];
        if (utimes(vstring_str(path), tv) < 0)
            msg_warn("%s: set next attempt time: %m", msg->queue_id);
        qmgr_move(msg->queue_id, "active", "deferred");
    } else {
        qmgr_remove(msg->queue_id);             /* defer notes, file, "removed" */
    }
    if (msg->prev)
        msg->prev->next = msg->next;
    else
        qmgr_messages = msg->next;
    if (msg->next)
        msg->next->prev = msg->prev;
    qmgr_active_count--;
    qmgr_rcpt_count -= msg->rcpt_count;
    qmgr_message_free(msg);
    vstring_free(path);
    qmgr_scan_request(0);                      /* room for the next message */
}

static void qmgr_message_done(QMGR_MESSAGE *msg)
{
    VSTRING *path = vstring_alloc(50);
    struct stat st;
    int bounce;

    msg->flags |= QMGR_MSG_DONE;
    for (int i = 0; i < msg->rcpt_count; i++)
        if (msg->rcpt[i].status == QMGR_RCPT_TODO)
            qmgr_message_rcpt_done(msg, i, QMGR_RCPT_DEFERRED);
    if ((msg->flags & QMGR_MSG_EXPIRED) && qmgr_message_has_deferred(msg))
        qmgr_message_expire(msg);
    vstring_sprintf(path, "%s/%s", BOUNCE_LOG_DIR, msg->queue_id);
    bounce = stat(vstring_str(path), &st) == 0;
    vstring_free(path);
    if (bounce)
        qmgr_bounce_flush(msg);                /* calls qmgr_message_bounce_done() */
    else
        qmgr_message_finish(msg, 0);
}

void qmgr_message_bounce_done(QMGR_MESSAGE *msg, int ok)
{
    qmgr_message_finish(msg, !ok);
}

void qmgr_message_warn_done(QMGR_MESSAGE *msg)
{
    qmgr_message_finish(msg, (msg->flags & QMGR_MSG_KEEP) != 0);
}
