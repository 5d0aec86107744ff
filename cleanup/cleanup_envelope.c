/*
 * NAME
 *	cleanup_envelope - the envelope records of a message
 * SYNOPSIS
 *	#include "cleanup.h"
 *
 *	void cleanup_envelope(CLEANUP_STATE *state, int type)
 * DESCRIPTION
 *	cleanup_envelope() takes one record (its data in state->buf) of
 *	the part of the request before MESG, checks that it comes in the
 *	order lib/cleanup_proto.h prescribes, and writes what it means to
 *	the queue file:
 *
 *	TIME (optional, first) is checked ("seconds[.microseconds]") and
 *	copied; without one, the time the first other record arrived is
 *	written. ATTR records (before MESG, any order) are checked
 *	("name=value", no NUL) and copied, except message_id, which is
 *	cleanup's own, and what cleanup_act_envelope() takes (content
 *	action requests, and the names only cleanup writes); client_address,
 *	sasl_username and origin are also remembered. FROM (once, before any recipient) goes through
 *	cleanup_addr_sender(). ORCP, NOTIFY and DSN_ORCPT (each at most
 *	once) belong to the RCPT that follows, which goes through
 *	cleanup_addr_recipient(). MESG ends the envelope: it needs a FROM
 *	and no attributes waiting for a RCPT, and starts the content.
 *
 *	Addresses must be at most ADDRESS_LENIENT_MAX bytes without
 *	control characters. Anything else is a protocol error
 *	(CLEANUP_STAT_BAD); the request is still read to its end.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "address.h"
#include "cleanup.h"
#include "cleanup_proto.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"

/* cleanup_envelope_addr_ok - bounded, no NUL or other control characters */

static int cleanup_envelope_addr_ok(const VSTRING *buf)
{
    if (vstring_len(buf) > ADDRESS_LENIENT_MAX)
        return 0;
    for (size_t i = 0; i < vstring_len(buf); i++) {
        unsigned char ch = (unsigned char) vstring_str(buf)[i];

        if (ch < ' ' || ch == 0x7f)
            return 0;
    }
    return 1;
}

/* cleanup_envelope_time - parse and write the arrival time */

static int cleanup_envelope_time(CLEANUP_STATE *state, const char *text)
{
    char *end;
    long long sec;
    long usec = 0;

    if (*text < '0' || *text > '9')
        return -1;
    sec = strtoll(text, &end, 10);
    if (*end == '.') {
        const char *frac = end + 1;

        if (*frac < '0' || *frac > '9' || strlen(frac) > 6)
            return -1;
        usec = strtol(frac, &end, 10);
        for (size_t n = strlen(frac); n < 6; n++)
            usec *= 10;
    }
    if (*end != 0 || sec < 0 || usec < 0 || usec > 999999)
        return -1;
    state->arrival.tv_sec = (time_t) sec;
    state->arrival.tv_usec = usec;
    cleanup_out_fmt(state, REC_TYPE_TIME, "%lld.%06ld", sec, usec);
    state->time_done = 1;
    return 0;
}

/* cleanup_envelope_attr - one named attribute */

static void cleanup_envelope_attr(CLEANUP_STATE *state)
{
    const char *name;
    const char *value;

    if (rec_attr_split(state->buf, &name, &value) < 0) {
        cleanup_error(state, CLEANUP_STAT_BAD, "4.3.0 malformed attribute record");
        return;
    }
    if (strcmp(name, CLEANUP_ATTR_MESSAGE_ID) == 0)
        return;                                 /* ours to write */
    if (cleanup_act_envelope(state, name, value))
        return;                                 /* a request, or ours to write */
    if (strcmp(name, CLEANUP_ATTR_CLIENT_ADDR) == 0) {
        myfree(state->client_addr);
        state->client_addr = mystrdup(value);
    } else if (strcmp(name, CLEANUP_ATTR_SASL_USER) == 0) {
        myfree(state->sasl_user);
        state->sasl_user = mystrdup(value);
    } else if (strcmp(name, CLEANUP_ATTR_ORIGIN) == 0) {
        myfree(state->origin);
        state->origin = mystrdup(value);
    } else if (strcmp(name, CLEANUP_ATTR_FULL_NAME) == 0) {
        myfree(state->full_name);
        state->full_name = mystrdup(value);
    }
    cleanup_out_fmt(state, REC_TYPE_ATTR, "%s=%s", name, value);
}

static void cleanup_envelope_bad(CLEANUP_STATE *state, int type)
{
    cleanup_error(state, CLEANUP_STAT_BAD, "4.3.0 unexpected %s record in envelope",
                  rec_type_name(type));
}

void cleanup_envelope(CLEANUP_STATE *state, int type)
{
    struct timeval now;
    char *end;

    /* no envelope record may carry a NUL */
    if (memchr(vstring_str(state->buf), 0, vstring_len(state->buf)) != NULL) {
        cleanup_error(state, CLEANUP_STAT_BAD, "4.3.0 NUL byte in %s record",
                      rec_type_name(type));
        return;
    }
    if (type == REC_TYPE_TIME) {
        if (state->time_done || cleanup_envelope_time(state, vstring_str(state->buf)) < 0)
            cleanup_envelope_bad(state, type);
        return;
    }
    if (!state->time_done) {
        gettimeofday(&now, NULL);
        state->arrival = now;
        cleanup_out_fmt(state, REC_TYPE_TIME, "%lld.%06ld", (long long) now.tv_sec,
                        (long) now.tv_usec);
        state->time_done = 1;
    }
    switch (type) {
    case REC_TYPE_ATTR:
        cleanup_envelope_attr(state);
        return;
    case REC_TYPE_FROM:
        if (state->from_done) {
            cleanup_envelope_bad(state, type);
        } else if (!cleanup_envelope_addr_ok(state->buf)) {
            cleanup_error(state, CLEANUP_STAT_BAD, "5.1.7 Bad sender address syntax");
        } else {
            state->from_done = 1;
            cleanup_addr_sender(state, vstring_str(state->buf));
        }
        return;
    case REC_TYPE_ORCP:
        if (!state->from_done || state->have_orcp || !cleanup_envelope_addr_ok(state->buf)) {
            cleanup_envelope_bad(state, type);
            return;
        }
        vstring_strcpy(state->orcp, vstring_str(state->buf));
        state->have_orcp = 1;
        return;
    case REC_TYPE_NOTIFY:
        state->notify = strtol(vstring_str(state->buf), &end, 10);
        if (!state->from_done || state->have_notify || vstring_len(state->buf) == 0 || *end
            || state->notify < 0 || state->notify > 15) {
            cleanup_envelope_bad(state, type);
            return;
        }
        state->have_notify = 1;
        return;
    case REC_TYPE_DSN_ORCPT:
        if (!state->from_done || state->have_dsn_orcpt || vstring_len(state->buf) > 1000) {
            cleanup_envelope_bad(state, type);
            return;
        }
        vstring_strcpy(state->dsn_orcpt, vstring_str(state->buf));
        state->have_dsn_orcpt = 1;
        return;
    case REC_TYPE_RCPT:
        if (!state->from_done) {
            cleanup_envelope_bad(state, type);
        } else if (!cleanup_envelope_addr_ok(state->buf) || vstring_len(state->buf) == 0) {
            cleanup_error(state, CLEANUP_STAT_BAD, "5.1.3 Bad recipient address syntax");
        } else {
            cleanup_addr_recipient(state,
                                   state->have_orcp ? vstring_str(state->orcp)
                                                    : vstring_str(state->buf),
                                   vstring_str(state->buf), state->notify, state->have_notify,
                                   state->have_dsn_orcpt ? vstring_str(state->dsn_orcpt) : "");
        }
        state->have_orcp = state->have_notify = state->have_dsn_orcpt = 0;
        state->notify = 0;
        return;
    case REC_TYPE_MESG:
        if (!state->from_done || state->have_orcp || state->have_notify || state->have_dsn_orcpt
            || vstring_len(state->buf) != 0)
            cleanup_envelope_bad(state, type);
        cleanup_message_begin(state);           /* read the content in any case */
        return;
    default:
        cleanup_envelope_bad(state, type);
        return;
    }
}
