/*
 * NAME
 *	bounce_flush - return failed recipients to the sender
 * SYNOPSIS
 *	#include "bounce.h"
 *
 *	int bounce_flush(BOUNCE_REQUEST *req)
 * DESCRIPTION
 *	bounce_flush() carries out the flush request of lib/bounce_proto.h:
 *
 *	No bounce note file: nothing to do (BOUNCE_STAT_OK). A note file
 *	without a single readable note is removed.
 *
 *	Sender $double_bounce_sender@$myhostname: the message was a notice
 *	to the postmaster; its failure is logged ("undeliverable
 *	postmaster notification discarded") and the notes removed.
 *
 *	Sender <>: one notice, BOUNCE_NOTICE_UNDELIVERABLE, every note and
 *	the whole failed message (within bounce_size_limit), to
 *	2bounce_notice_recipient; when that is empty, the failure is only
 *	logged.
 *
 *	Any other sender: with "bounce" in notify_classes, first a
 *	postmaster copy (every note, headers only) to
 *	bounce_notice_recipient; then the sender notice with the notes
 *	whose NOTIFY asks for failures, the message returned as dsn_ret
 *	says. A sender notice that cleanup refuses for good is reported to
 *	2bounce_notice_recipient as a postmaster copy instead. The copy
 *	goes first so that, if the sender notice then fails and the
 *	request is repeated, it is the postmaster who may get a second
 *	copy, not the sender.
 *
 *	Notices to the postmaster have $double_bounce_sender@$myhostname
 *	as envelope sender; sender notices have <>.
 *
 *	The note file is removed once every notice is queued (or given up
 *	for good), and only then is BOUNCE_STAT_OK returned. Any temporary
 *	failure returns BOUNCE_STAT_FAIL and leaves the notes.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "bounce.h"
#include "bounce_proto.h"
#include "cleanup_proto.h"
#include "mail_params.h"
#include "msg.h"

/* bounce_flush_notices - the notices for one message; BOUNCE_STAT_* */

static int bounce_flush_notices(BOUNCE_REQUEST *req, BOUNCE_NOTES *notes, BOUNCE_MESSAGE *msg)
{
    const char *sender = vstring_str(req->sender);
    const char *queue_id = vstring_str(req->queue_id);
    BOUNCE_NOTICE_INFO info;
    BOUNCE_NOTES *wanted;
    int status;

    if (*sender == 0) {
        if (*var_2bounce_notice_recipient == 0) {
            msg_info("%s: undeliverable notification discarded (2bounce_notice_recipient is "
                     "empty)",
                     queue_id);
            return BOUNCE_STAT_OK;
        }
        bounce_info_init(&info, req, msg, BOUNCE_NOTICE_UNDELIVERABLE,
                         var_2bounce_notice_recipient);
        status = bounce_post(&info, bounce_double_sender(), notes, msg, "postmaster non-delivery");
        return status == BOUNCE_POST_TEMP ? BOUNCE_STAT_FAIL : BOUNCE_STAT_OK;
    }

    if (bounce_notify_class("bounce") && *var_bounce_notice_recipient) {
        bounce_info_init(&info, req, msg, BOUNCE_NOTICE_FAILED_COPY, var_bounce_notice_recipient);
        if (bounce_post(&info, bounce_double_sender(), notes, msg, "postmaster non-delivery") ==
            BOUNCE_POST_TEMP)
            return BOUNCE_STAT_FAIL;
    }

    wanted = bounce_notes_select(notes, DSN_NOTIFY_FAILURE);
    status = BOUNCE_POST_OK;
    if (wanted->count > 0) {
        bounce_info_init(&info, req, msg, BOUNCE_NOTICE_FAILED, sender);
        status = bounce_post(&info, "", wanted, msg, "sender non-delivery");
    } else if (msg_verbose) {
        msg_info("%s: no recipient asks for a non-delivery notification", queue_id);
    }
    bounce_notes_free(wanted, 0);
    if (status == BOUNCE_POST_TEMP)
        return BOUNCE_STAT_FAIL;
    if (status == BOUNCE_POST_PERM) {
        if (*var_2bounce_notice_recipient == 0) {
            msg_warn("%s: the sender notification was refused and 2bounce_notice_recipient "
                     "is empty: the failure is only logged",
                     queue_id);
            return BOUNCE_STAT_OK;
        }
        bounce_info_init(&info, req, msg, BOUNCE_NOTICE_FAILED_COPY, var_2bounce_notice_recipient);
        status = bounce_post(&info, bounce_double_sender(), notes, msg, "postmaster non-delivery");
        if (status == BOUNCE_POST_TEMP)
            return BOUNCE_STAT_FAIL;
    }
    return BOUNCE_STAT_OK;
}

int bounce_flush(BOUNCE_REQUEST *req)
{
    const char *queue_id = vstring_str(req->queue_id);
    BOUNCE_NOTES *notes;
    BOUNCE_MESSAGE msg;
    int status;

    if ((notes = bounce_notes_read(BOUNCE_LOG_DIR, queue_id, BOUNCE_NOTES_ALL)) == NULL) {
        if (errno != ENOENT)
            return BOUNCE_STAT_FAIL;
        if (msg_verbose)
            msg_info("%s: no bounce notes: nothing to return", queue_id);
        return BOUNCE_STAT_OK;
    }
    if (notes->count == 0) {
        msg_warn("%s: no readable note in %s/%s; removing it", queue_id, BOUNCE_LOG_DIR, queue_id);
        status = BOUNCE_STAT_OK;
    } else if (strcasecmp(vstring_str(req->sender), bounce_double_sender()) == 0) {
        msg_warn("%s: undeliverable postmaster notification discarded", queue_id);
        status = BOUNCE_STAT_OK;
    } else {
        bounce_message_open(&msg, vstring_str(req->queue_name), queue_id);
        status = bounce_flush_notices(req, notes, &msg);
        bounce_message_close(&msg);
    }
    bounce_notes_free(notes, 1);
    if (status == BOUNCE_STAT_OK && deliver_note_remove(BOUNCE_LOG_DIR, queue_id) < 0 &&
        errno != ENOENT)
        status = BOUNCE_STAT_FAIL;
    return status;
}
