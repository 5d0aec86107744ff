/*
 * NAME
 *	bounce_delay - warn the sender that a message is still queued
 * SYNOPSIS
 *	#include "bounce.h"
 *
 *	int bounce_delay(BOUNCE_REQUEST *req)
 * DESCRIPTION
 *	bounce_delay() carries out the warn request of lib/bounce_proto.h.
 *	A message whose defer note file is already marked (a warning was
 *	sent), or that has none, needs nothing. Otherwise the newest defer
 *	note of each recipient whose queue file record is still RCPT (not
 *	yet delivered or bounced) is reported:
 *
 *	  - with "delay" in notify_classes, as a postmaster copy (headers
 *	    only) to delay_notice_recipient;
 *	  - to the sender, unless it is <> or the double-bounce address,
 *	    for the recipients whose NOTIFY asks for delays, as
 *	    "Delayed Mail (still being retried)".
 *
 *	Will-Retry-Until is the arrival time plus maximal_queue_lifetime
 *	(bounce_queue_lifetime, when smaller, for the null sender).
 *
 *	Then the note file is marked (bounce_warn_mark()), so that the
 *	warning is not sent again. A notice that cleanup refuses for good
 *	is logged and counts as sent. A temporary failure, an unreadable
 *	queue file, or a mark that cannot be set returns BOUNCE_STAT_FAIL:
 *	qmgr asks again after the next attempt.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "bounce.h"
#include "bounce_proto.h"
#include "bounce_warn.h"
#include "cleanup_proto.h"
#include "mail_params.h"
#include "msg.h"

/* bounce_delay_pending - the notes of recipients still to be delivered */

static BOUNCE_NOTES *bounce_delay_pending(BOUNCE_NOTES *all, BOUNCE_MESSAGE *msg)
{
    BOUNCE_NOTES *pending = bounce_notes_alloc();

    for (int i = 0; i < all->count; i++) {
        /* an unknown state (-1) counts as pending: better warn than not */
        if (bounce_message_pending(msg, all->notes[i]->offset) != 0)
            bounce_notes_add(pending, all->notes[i]);
    }
    return pending;
}

static int bounce_delay_notices(BOUNCE_REQUEST *req, BOUNCE_NOTES *pending, BOUNCE_MESSAGE *msg)
{
    const char *sender = vstring_str(req->sender);
    BOUNCE_NOTICE_INFO info;
    BOUNCE_NOTES *wanted;
    int status;

    if (bounce_notify_class("delay") && *var_delay_notice_recipient) {
        bounce_info_init(&info, req, msg, BOUNCE_NOTICE_DELAYED_COPY, var_delay_notice_recipient);
        if (bounce_post(&info, bounce_double_sender(), pending, msg, "postmaster delay") ==
            BOUNCE_POST_TEMP)
            return BOUNCE_STAT_FAIL;
    }
    if (*sender == 0 || strcasecmp(sender, bounce_double_sender()) == 0)
        return BOUNCE_STAT_OK;
    wanted = bounce_notes_select(pending, DSN_NOTIFY_DELAY);
    status = BOUNCE_POST_OK;
    if (wanted->count > 0) {
        bounce_info_init(&info, req, msg, BOUNCE_NOTICE_DELAYED, sender);
        status = bounce_post(&info, "", wanted, msg, "sender delay");
    }
    bounce_notes_free(wanted, 0);
    return status == BOUNCE_POST_TEMP ? BOUNCE_STAT_FAIL : BOUNCE_STAT_OK;
}

int bounce_delay(BOUNCE_REQUEST *req)
{
    const char *queue_id = vstring_str(req->queue_id);
    BOUNCE_NOTES *notes;
    BOUNCE_NOTES *pending;
    BOUNCE_MESSAGE msg;
    int status;

    switch (bounce_warn_sent(queue_id)) {
    case 1:
        if (msg_verbose)
            msg_info("%s: delay warning already sent", queue_id);
        return BOUNCE_STAT_OK;
    case 0:
        break;
    default:
        return BOUNCE_STAT_FAIL;
    }
    if ((notes = bounce_notes_read(DEFER_LOG_DIR, queue_id, BOUNCE_NOTES_NEWEST)) == NULL)
        return errno == ENOENT ? BOUNCE_STAT_OK : BOUNCE_STAT_FAIL;
    bounce_message_open(&msg, vstring_str(req->queue_name), queue_id);
    if (msg.fp == NULL) {
        bounce_notes_free(notes, 1);
        return BOUNCE_STAT_FAIL;
    }
    pending = bounce_delay_pending(notes, &msg);
    status = pending->count > 0 ? bounce_delay_notices(req, pending, &msg) : BOUNCE_STAT_OK;
    bounce_notes_free(pending, 0);
    bounce_notes_free(notes, 1);
    bounce_message_close(&msg);
    if (status == BOUNCE_STAT_OK && bounce_warn_mark(queue_id) < 0)
        status = BOUNCE_STAT_FAIL;
    return status;
}
