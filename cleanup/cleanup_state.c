/*
 * NAME
 *	cleanup_state - the per-message state of cleanup(8)
 * SYNOPSIS
 *	#include "cleanup.h"
 *
 *	CLEANUP_STATE *cleanup_state_alloc(VSTREAM *src)
 *	void cleanup_state_free(CLEANUP_STATE *state)
 *	void cleanup_error(CLEANUP_STATE *state, int status,
 *				const char *fmt, ...)
 *	const char *cleanup_id(CLEANUP_STATE *state)
 * DESCRIPTION
 *	cleanup_state_alloc() makes the state for one message received
 *	on src; cleanup_state_free() releases it (and closes the queue
 *	file if it is still open, without removing it: callers remove a
 *	file with cleanup_out_abort() first).
 *
 *	cleanup_error() records an error: status (a CLEANUP_STAT_* bit)
 *	is added to the error bits, and the formatted reason is kept if
 *	it is the first. The reason starts with an RFC 3463 status code.
 *
 *	cleanup_id() returns the queue ID for log messages ("NOQUEUE"
 *	before there is one).
 */
#include <stdarg.h>

#include "cleanup.h"
#include "mymalloc.h"
#include "queue_id.h"

CLEANUP_STATE *cleanup_state_alloc(VSTREAM *src)
{
    CLEANUP_STATE *state = mycalloc(1, sizeof(*state));

    state->src = src;
    state->temp_path = vstring_alloc(64);
    state->queue_id = vstring_alloc(QUEUE_ID_BUFSIZE);
    state->path = vstring_alloc(64);
    state->reason = vstring_alloc(64);
    state->buf = vstring_alloc(1024);
    state->temp1 = vstring_alloc(256);
    state->temp2 = vstring_alloc(256);
    state->sender = NULL;
    state->orcp = vstring_alloc(64);
    state->dsn_orcpt = vstring_alloc(64);
    state->rcpt_list = argv_alloc(4);
    state->message_id = vstring_alloc(64);
    state->size_offset = -1;
    state->data_offset = -1;
    return state;
}

void cleanup_state_free(CLEANUP_STATE *state)
{
    if (state->dst)
        (void) vstream_fclose(state->dst);
    vstring_free(state->temp_path);
    vstring_free(state->queue_id);
    vstring_free(state->path);
    vstring_free(state->reason);
    vstring_free(state->buf);
    vstring_free(state->temp1);
    vstring_free(state->temp2);
    myfree(state->sender);
    myfree(state->client_addr);
    myfree(state->sasl_user);
    myfree(state->origin);
    myfree(state->full_name);
    vstring_free(state->orcp);
    vstring_free(state->dsn_orcpt);
    if (state->dups)
        htable_free(state->dups, NULL);
    argv_free(state->rcpt_list);
    if (state->hstate)
        header_state_free(state->hstate);
    vstring_free(state->message_id);
    if (state->extract)
        argv_free(state->extract);
    if (state->extract_resent)
        argv_free(state->extract_resent);
    cleanup_checks_free(state);
    myfree(state);
}

void cleanup_error(CLEANUP_STATE *state, int status, const char *fmt, ...)
{
    va_list ap;

    if (state->errs == 0) {
        va_start(ap, fmt);
        vstring_reset(state->reason);
        vstring_vsprintf_append(state->reason, fmt, ap);
        va_end(ap);
    }
    state->errs |= status;
}

const char *cleanup_id(CLEANUP_STATE *state)
{
    return vstring_len(state->queue_id) ? vstring_str(state->queue_id) : "NOQUEUE";
}
