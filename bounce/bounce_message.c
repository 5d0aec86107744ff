/*
 * NAME
 *	bounce_message - the queue file of the message reported on
 * SYNOPSIS
 *	#include "bounce.h"
 *
 *	void bounce_message_open(BOUNCE_MESSAGE *msg, const char *queue_name,
 *				const char *queue_id)
 *	int bounce_message_pending(BOUNCE_MESSAGE *msg, off_t offset)
 *	void bounce_message_close(BOUNCE_MESSAGE *msg)
 * DESCRIPTION
 *	bounce_message_open() opens QUEUE_NAME/QUEUE_ID read-only (no
 *	symbolic link, one link only) and reads its envelope up to the
 *	MESG record: the TIME record gives the arrival time, an ATTR
 *	"encoding=8bit" that the content is 8-bit, and the position after
 *	MESG where the content starts. A file that cannot be opened or
 *	whose envelope is malformed is logged; msg->fp is then NULL (the
 *	notice is still sent, without the message) and msg->arrival 0.
 *
 *	bounce_message_pending() says whether the recipient record at
 *	offset is still to be delivered: 1 for a RCPT record, 0 for DONE,
 *	-1 (logged) when there is no file or no recipient record there.
 *
 *	bounce_message_close() closes the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"
#include "cleanup_proto.h"
#include "msg.h"
#include "rec.h"
#include "safe_open.h"

#define BOUNCE_ENVELOPE_REC_MAX (1024 * 1024) /* bytes of one envelope record */

void bounce_message_open(BOUNCE_MESSAGE *msg, const char *queue_name, const char *queue_id)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(200);
    int fd;
    int type;

    msg->fp = NULL;
    msg->data_offset = 0;
    msg->arrival = 0;
    msg->eight_bit = 0;
    vstring_sprintf(path, "%s/%s", queue_name, queue_id);
    if ((fd = safe_open_existing(vstring_str(path), O_RDONLY, SAFE_OPEN_ANY_UID, NULL, why)) < 0) {
        msg_warn("%s: cannot open the queue file: %s", queue_id, vstring_str(why));
        goto out;
    }
    msg->fp = vstream_fdopen(fd, O_RDONLY);
    vstream_set_path(msg->fp, vstring_str(path));
    for (;;) {
        type = rec_get(msg->fp, buf, BOUNCE_ENVELOPE_REC_MAX);
        if (type == REC_TYPE_MESG) {
            msg->data_offset = vstream_ftell(msg->fp);
            break;
        }
        if (type < 0 || type == REC_TYPE_END || type == REC_TYPE_XTRA) {
            msg_warn("%s: malformed queue file envelope; returning the notice without the "
                     "message",
                     queue_id);
            vstream_fclose(msg->fp);
            msg->fp = NULL;
            break;
        }
        if (type == REC_TYPE_TIME) {
            msg->arrival = (time_t)strtoll(vstring_str(buf), NULL, 10);
        } else if (type == REC_TYPE_ATTR) {
            const char *name, *value;

            if (rec_attr_split(buf, &name, &value) == 0 &&
                strcmp(name, CLEANUP_ATTR_ENCODING) == 0 && strcasecmp(value, "8bit") == 0)
                msg->eight_bit = 1;
        }
    }
out:
    vstring_free(path);
    vstring_free(why);
    vstring_free(buf);
}

int bounce_message_pending(BOUNCE_MESSAGE *msg, off_t offset)
{
    VSTRING *buf;
    int type;

    if (msg->fp == NULL || offset <= 0 || rec_goto(msg->fp, offset) < 0)
        return -1;
    buf = vstring_alloc(100);
    type = rec_get(msg->fp, buf, BOUNCE_ENVELOPE_REC_MAX);
    vstring_free(buf);
    if (type == REC_TYPE_RCPT)
        return 1;
    if (type == REC_TYPE_DONE)
        return 0;
    msg_warn("%s: no recipient record at offset %lld", vstream_path(msg->fp), (long long)offset);
    return -1;
}

void bounce_message_close(BOUNCE_MESSAGE *msg)
{
    if (msg->fp)
        vstream_fclose(msg->fp);
    msg->fp = NULL;
}
