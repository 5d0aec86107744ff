/*
 * NAME
 *	mail_flush - wake-up requests that make the queue manager deliver now
 * SYNOPSIS
 *	#include "mail_flush.h"
 *
 *	int mail_flush_queue(void)
 *	int mail_flush_deferred(void)
 * DESCRIPTION
 *	Both send a trigger (mail_trigger()) to $queue_directory/public/qmgr:
 *	mail_flush_queue() the full flush, mail_flush_deferred() a scan of
 *	the deferred queue for due messages. The path is absolute, so the
 *	caller need not be in the queue directory.
 * DIAGNOSTICS
 *	Nothing is logged: -1 with errno.
 */
#include <errno.h>
#include <string.h>

#include "mail_flush.h"
#include "mail_params.h"
#include "mail_server.h"
#include "vstring.h"

static int mail_flush_send(const char *request)
{
    VSTRING *path = vstring_alloc(100);
    int ret;
    int saved;

    vstring_sprintf(path, "%s/%s", var_queue_directory, MAIL_FLUSH_SERVICE_PATH);
    ret = mail_trigger(vstring_str(path), request, strlen(request), MAIL_FLUSH_TIMEOUT);
    saved = errno;
    vstring_free(path);
    errno = saved;
    return ret;
}

int mail_flush_queue(void)
{
    return mail_flush_send(MAIL_FLUSH_ALL);
}

int mail_flush_deferred(void)
{
    return mail_flush_send(MAIL_FLUSH_DUE);
}
