/*
 * NAME
 *	local_forward - send a copy to an address that is not delivered here
 * SYNOPSIS
 *	#include "local.h"
 *
 *	int local_forward(LOCAL_STATE *state, const LOCAL_ATTR *attr,
 *			  const char *address)
 * DESCRIPTION
 *	local_forward() submits a new message to cleanup(8)
 *	(lib/cleanup_proto.h) for address: the sender of the expansion
 *	(the owner- alias when one applies), the original arrival time,
 *	the DSN envelope (RET, ENVID, and the NOTIFY and ORCPT of the
 *	queue file recipient), the queue file recipient as original
 *	recipient, and the message content, preceded by "Delivered-To:
 *	ADDRESS" (the address whose expansion led here) when
 *	prepend_delivered_header lists "forward". cleanup applies
 *	canonical and virtual alias mapping to the new recipient.
 *
 *	The destination is recorded as sent ("forwarded as QUEUEID") once
 *	cleanup has made the new queue file durable. When cleanup cannot
 *	be reached or fails, the destination is deferred; when cleanup
 *	refuses the message with a 5.x.x reason, it is returned with that
 *	reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "attr.h"
#include "cleanup_proto.h"
#include "local.h"
#include "mail_conf.h"
#include "mailbox_copy.h"
#include "msg.h"
#include "rec.h"
#include "sock.h"
#include "vstream.h"

static int local_in_list(const char *list, const char *word)
{
    ARGV *words = argv_split(list, ARGV_DELIM_LIST);
    int found = 0;

    for (int i = 0; i < words->argc && !found; i++)
        found = strcasecmp(words->argv[i], word) == 0;
    argv_free(words);
    return found;
}

/* local_forward_content - copy the content records; 0, or -1 on a queue file problem */
static int local_forward_content(LOCAL_STATE *state, VSTREAM *out)
{
    VSTRING *buf = vstring_alloc(256);
    int type;
    int rc = -1;

    if (vstream_fseek(state->queue, state->req->data_offset, SEEK_SET) < 0 ||
        rec_get(state->queue, buf, 0) != REC_TYPE_MESG)
        goto done;
    for (;;) {
        type = rec_get(state->queue, buf, 0);
        if (type == REC_TYPE_XTRA)
            break;
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT)
            goto done;
        if (rec_put(out, type, vstring_str(buf), vstring_len(buf)) != type)
            break;
    }
    rc = 0;
done:
    vstring_free(buf);
    return rc;
}

/* local_reason_dsn - the "X.Y.Z" that starts a cleanup reason, or def */
static const char *local_reason_dsn(const char *reason, char *buf, size_t size, const char *def)
{
    size_t len = strcspn(reason, " ");

    if (len < 5 || len >= size || strspn(reason, "0123456789.") != len)
        return def;
    memcpy(buf, reason, len);
    buf[len] = 0;
    return buf;
}

int local_forward(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *address)
{
    DELIVER_REQUEST *req = state->req;
    const DELIVER_RCPT *rcpt = req->rcpt + state->index;
    VSTRING *why = vstring_alloc(100);
    VSTRING *queue_id = vstring_alloc(20);
    VSTRING *reason = vstring_alloc(100);
    VSTREAM *fp;
    char code[16];
    long status = -1;
    int fd;
    int rc;

    if ((fd = unix_connect(CLEANUP_SERVICE_PATH, (int)var_ipc_timeout, why)) < 0) {
        msg_warn("connect to %s: %s", CLEANUP_SERVICE_PATH, vstring_str(why));
        rc =
            local_defer(state, attr, "4.3.0", "mail system is down: cannot forward to %s", address);
        goto out;
    }
    fp = vstream_fdopen(fd, O_RDWR);
    vstream_set_path(fp, CLEANUP_SERVICE_PATH);
    vstream_set_timeout(fp, (int)var_ipc_timeout);
    if (attr_scan(fp, ATTR_FLAG_STRICT, ATTR_GET_STR("queue_id", queue_id), ATTR_END) != 1 ||
        attr_print(fp, ATTR_INT("flags", CLEANUP_FLAG_MAP_OK), ATTR_END) < 0) {
        vstream_fclose(fp);
        rc =
            local_defer(state, attr, "4.3.0", "mail system is down: cannot forward to %s", address);
        goto out;
    }

    rec_fprintf(fp, REC_TYPE_TIME, "%ld.%06ld", (long)req->arrival.tv_sec,
                (long)req->arrival.tv_usec);
    rec_fprintf(fp, REC_TYPE_ATTR, "%s=%s", CLEANUP_ATTR_ORIGIN, "local");
    if (*req->encoding)
        rec_fprintf(fp, REC_TYPE_ATTR, "%s=%s", CLEANUP_ATTR_ENCODING, req->encoding);
    if (req->smtputf8)
        rec_fprintf(fp, REC_TYPE_ATTR, "%s=1", CLEANUP_ATTR_SMTPUTF8);
    if (*req->dsn_envid)
        rec_fprintf(fp, REC_TYPE_ATTR, "%s=%s", CLEANUP_ATTR_DSN_ENVID, req->dsn_envid);
    if (*req->dsn_ret)
        rec_fprintf(fp, REC_TYPE_ATTR, "%s=%s", CLEANUP_ATTR_DSN_RET, req->dsn_ret);
    rec_fprintf(fp, REC_TYPE_FROM, "%s", attr->sender);
    rec_fprintf(fp, REC_TYPE_ORCP, "%s", *rcpt->orig ? rcpt->orig : rcpt->address);
    if (rcpt->notify)
        rec_fprintf(fp, REC_TYPE_NOTIFY, "%ld", rcpt->notify);
    if (*rcpt->orcpt)
        rec_fprintf(fp, REC_TYPE_DSN_ORCPT, "%s", rcpt->orcpt);
    rec_fprintf(fp, REC_TYPE_RCPT, "%s", address);
    rec_put(fp, REC_TYPE_MESG, "", 0);
    if (attr->delivered && local_in_list(var_prepend_delivered_header, "forward"))
        rec_fprintf(fp, REC_TYPE_NORM, "Delivered-To: %s", attr->delivered);
    if (local_forward_content(state, fp) < 0) {
        vstream_fclose(fp); /* cleanup removes the unfinished file */
        rc = local_defer(state, attr, "4.3.0", "error reading message: queue file read error");
        goto out;
    }
    rec_put(fp, REC_TYPE_XTRA, "", 0);
    rec_put(fp, REC_TYPE_END, "", 0);
    if (vstream_fflush(fp) == VSTREAM_EOF ||
        attr_scan(fp, ATTR_FLAG_MISSING, ATTR_GET_INT("status", &status),
                  ATTR_GET_STR("reason", reason), ATTR_END) != 2) {
        vstream_fclose(fp);
        rc =
            local_defer(state, attr, "4.3.0", "mail system is down: cannot forward to %s", address);
        goto out;
    }
    vstream_fclose(fp);
    if (status == CLEANUP_STAT_OK) {
        rc = local_sent(state, attr, "2.0.0", "forwarded as %s", vstring_str(queue_id));
    } else if (vstring_str(reason)[0] == '5' &&
               !(status & (CLEANUP_STAT_BAD | CLEANUP_STAT_WRITE | CLEANUP_STAT_DEFER))) {
        rc = local_bounce(state, attr,
                          local_reason_dsn(vstring_str(reason), code, sizeof(code), "5.0.0"), "%s",
                          vstring_str(reason));
    } else {
        rc = local_defer(state, attr,
                         local_reason_dsn(vstring_str(reason), code, sizeof(code), "4.3.0"),
                         "cannot forward to %s: %s", address,
                         vstring_len(reason) ? vstring_str(reason) : "cleanup failure");
    }
out:
    vstring_free(why);
    vstring_free(queue_id);
    vstring_free(reason);
    return rc;
}
