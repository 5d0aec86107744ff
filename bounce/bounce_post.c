/*
 * NAME
 *	bounce_post - hand one notice to cleanup(8)
 * SYNOPSIS
 *	#include "bounce.h"
 *
 *	int bounce_post(BOUNCE_NOTICE_INFO *info, const char *env_sender,
 *			const BOUNCE_NOTES *notes, BOUNCE_MESSAGE *msg,
 *			const char *what)
 * DESCRIPTION
 *	bounce_post() connects to public/cleanup, takes the queue ID that
 *	cleanup gives the notice (info->notice_id points to it for the
 *	duration of the call), sends the flags CLEANUP_FLAG_BOUNCE and
 *	CLEANUP_FLAG_MAP_OK, the envelope (TIME, ATTR origin=bounce, ATTR
 *	encoding=8bit when the message was 8-bit or SMTPUTF8, ATTR
 *	smtputf8=1 for SMTPUTF8, FROM env_sender, RCPT info->recipient),
 *	then MESG, the notice (bounce_notice_write()), XTRA and END, and
 *	waits for cleanup's status. On status 0 it logs
 *	"QUEUE_ID: WHAT notification: NEWID" (Postfix's line; what is
 *	"sender non-delivery", "postmaster delay" and so on).
 *
 *	Returns BOUNCE_POST_OK; BOUNCE_POST_TEMP when cleanup could not be
 *	reached, the exchange failed, or cleanup reported a temporary
 *	problem; BOUNCE_POST_PERM when cleanup refused the notice for a
 *	reason that would not change on a retry (content, size, hop count,
 *	no recipient). Problems are logged.
 */
#include <fcntl.h>
#include <sys/time.h>

#include "attr.h"
#include "bounce.h"
#include "cleanup_proto.h"
#include "mail_params.h"
#include "msg.h"
#include "queue_id.h"
#include "rec.h"
#include "sock.h"

#define BOUNCE_PERMANENT                                                                           \
    (CLEANUP_STAT_CONT | CLEANUP_STAT_SIZE | CLEANUP_STAT_HOPS | CLEANUP_STAT_RCPT)
#define BOUNCE_TEMPORARY (CLEANUP_STAT_BAD | CLEANUP_STAT_WRITE | CLEANUP_STAT_DEFER)

/* bounce_post_envelope - everything before the content */

static int bounce_post_envelope(VSTREAM *fp, const BOUNCE_NOTICE_INFO *info, const char *env_sender,
                                const BOUNCE_MESSAGE *msg)
{
    struct timeval now;

    gettimeofday(&now, NULL);
    if (rec_fprintf(fp, REC_TYPE_TIME, "%lld.%06ld", (long long)now.tv_sec, (long)now.tv_usec) !=
            REC_TYPE_TIME ||
        rec_fprintf(fp, REC_TYPE_ATTR, "%s=%s", CLEANUP_ATTR_ORIGIN, "bounce") != REC_TYPE_ATTR)
        return -1;
    if ((msg->eight_bit || info->smtputf8) &&
        rec_fprintf(fp, REC_TYPE_ATTR, "%s=8bit", CLEANUP_ATTR_ENCODING) != REC_TYPE_ATTR)
        return -1;
    if (info->smtputf8 &&
        rec_fprintf(fp, REC_TYPE_ATTR, "%s=1", CLEANUP_ATTR_SMTPUTF8) != REC_TYPE_ATTR)
        return -1;
    if (rec_fprintf(fp, REC_TYPE_FROM, "%s", env_sender) != REC_TYPE_FROM ||
        rec_fprintf(fp, REC_TYPE_RCPT, "%s", info->recipient) != REC_TYPE_RCPT ||
        rec_put(fp, REC_TYPE_MESG, "", 0) != REC_TYPE_MESG)
        return -1;
    return 0;
}

int bounce_post(BOUNCE_NOTICE_INFO *info, const char *env_sender, const BOUNCE_NOTES *notes,
                BOUNCE_MESSAGE *msg, const char *what)
{
    VSTRING *why = vstring_alloc(100);
    VSTRING *id = vstring_alloc(QUEUE_ID_BUFSIZE);
    VSTRING *reason = vstring_alloc(100);
    VSTREAM *cleanup = NULL;
    long status = -1;
    int result = BOUNCE_POST_TEMP;
    int fd;

    info->notice_id = "";
    if ((fd = unix_connect(CLEANUP_SERVICE_PATH, (int)var_ipc_timeout, why)) < 0) {
        msg_warn("%s: connect to %s: %s", info->queue_id, CLEANUP_SERVICE_PATH, vstring_str(why));
        goto out;
    }
    cleanup = vstream_fdopen(fd, O_RDWR);
    vstream_set_path(cleanup, CLEANUP_SERVICE_PATH);
    vstream_set_timeout(cleanup, (int)var_ipc_timeout);
    if (attr_scan(cleanup, ATTR_FLAG_STRICT, ATTR_GET_STR("queue_id", id), ATTR_END) != 1 ||
        !queue_id_ok(vstring_str(id))) {
        msg_warn("%s: no queue ID from %s", info->queue_id, CLEANUP_SERVICE_PATH);
        goto out;
    }
    info->notice_id = vstring_str(id);
    if (attr_print(cleanup, ATTR_INT("flags", CLEANUP_FLAG_BOUNCE | CLEANUP_FLAG_MAP_OK),
                   ATTR_END) != 0 ||
        bounce_post_envelope(cleanup, info, env_sender, msg) < 0 ||
        bounce_notice_write(cleanup, info, notes->notes, notes->count, msg->fp, msg->data_offset) <
            0 ||
        rec_put(cleanup, REC_TYPE_XTRA, "", 0) != REC_TYPE_XTRA ||
        rec_put(cleanup, REC_TYPE_END, "", 0) != REC_TYPE_END || vstream_fflush(cleanup) != 0) {
        msg_warn("%s: %s notification: cannot send it to %s: %m", info->queue_id, what,
                 CLEANUP_SERVICE_PATH);
        goto out;
    }
    if (attr_scan(cleanup, ATTR_FLAG_NONE, ATTR_GET_INT("status", &status),
                  ATTR_GET_STR("reason", reason), ATTR_END) < 1 ||
        status < 0) {
        msg_warn("%s: %s notification: no status from %s", info->queue_id, what,
                 CLEANUP_SERVICE_PATH);
        goto out;
    }
    if (status == CLEANUP_STAT_OK) {
        msg_info("%s: %s notification: %s", info->queue_id, what, vstring_str(id));
        result = BOUNCE_POST_OK;
    } else if ((status & BOUNCE_PERMANENT) && (status & BOUNCE_TEMPORARY) == 0) {
        msg_warn("%s: %s notification refused: %s", info->queue_id, what,
                 vstring_len(reason) ? vstring_str(reason) : "no reason given");
        result = BOUNCE_POST_PERM;
    } else {
        msg_warn("%s: %s notification: cleanup status %ld: %s; will try again", info->queue_id,
                 what, status, vstring_len(reason) ? vstring_str(reason) : "no reason given");
    }
out:
    if (cleanup)
        vstream_fclose(cleanup);
    info->notice_id = "";
    vstring_free(why);
    vstring_free(id);
    vstring_free(reason);
    return result;
}
