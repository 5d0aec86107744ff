/*
 * NAME
 *	cleanup_message - the content of a message: headers and body
 * SYNOPSIS
 *	#include "cleanup.h"
 *
 *	void cleanup_message_begin(CLEANUP_STATE *state)
 *	void cleanup_message(CLEANUP_STATE *state, int type)
 *	void cleanup_message_end(CLEANUP_STATE *state)
 * DESCRIPTION
 *	cleanup_message_begin() is called at the MESG record: it notes
 *	where MESG goes (the SIZE record's data offset), writes it, and
 *	decides whether missing
 *	headers are added: for local submissions (CLEANUP_FLAG_LOCAL or
 *	CLEANUP_FLAG_BOUNCE, or origin "pickup"), for clients that
 *	local_header_rewrite_clients accepts, and for everyone with
 *	always_add_missing_headers.
 *
 *	cleanup_message() takes one content record (data in state->buf).
 *	With cleanup_replace_stray_cr_lf, each CR and LF byte inside it
 *	becomes a space first. Lines go through header_state(3), which
 *	calls back here for each header field, at the end of the headers
 *	and for each body record. XTRA calls cleanup_message_end().
 *
 *	Each header field: counts towards the header mask, the Resent-
 *	flag and, for Received:, the hop count (more than hopcount_limit
 *	is CLEANUP_STAT_HOPS); a Message-Id: is logged ("QUEUEID:
 *	message-id=VALUE", Postfix's line) and kept for the queue file;
 *	the header_checks hook may drop or reject it; with
 *	CLEANUP_FLAG_EXTRACT the addresses of To:, Cc: and Bcc: (or their
 *	Resent- forms) are collected; a header named in
 *	message_drop_headers is dropped; canonical mapping applies to
 *	sender and recipient headers (cleanup_header.c); the rest is
 *	written line by line as it came.
 *
 *	At the end of the headers, the missing ones are added, as
 *	Resent- headers when the message has Resent- headers:
 *	Message-Id: <YYYYMMDDhhmmss.QUEUEID@$myhostname>, Date: (the
 *	arrival time) and From: (the envelope sender, MAILER-DAEMON@
 *	$myorigin for the null sender). When there is no Message-Id: at
 *	all, "message-id=<>" is logged.
 *
 *	cleanup_message_end() ends the headers if they had not ended,
 *	writes XTRA, the recipients extracted from headers (as envelope
 *	recipients, after XTRA), and the message_id ATTR record. A message
 *	without recipients is refused (CLEANUP_STAT_RCPT).
 */
#include <ctype.h>
#include <string.h>

#include "address.h"
#include "cleanup.h"
#include "cleanup_proto.h"
#include "header_make.h"
#include "mail_params.h"
#include "msg.h"
#include "rec.h"

/*
 * cleanup_message_phrase - a full name as an RFC 5322 display name: as it
 * is when it is atoms and spaces, else a quoted string; control
 * characters become spaces.
 */
static void cleanup_message_phrase(VSTRING *out, const char *name)
{
    static const char atext[] = "!#$%&'*+-/=?^_`{|}~ ";
    int plain = 1;

    for (const char *cp = name; *cp; cp++)
        if (!isalnum((unsigned char) *cp) && strchr(atext, *cp) == NULL
            && (unsigned char) *cp < 0x80)
            plain = 0;
    vstring_reset(out);
    if (!plain)
        vstring_addch(out, '"');
    for (const char *cp = name; *cp; cp++) {
        int ch = (unsigned char) *cp < 0x20 || *cp == 0x7f ? ' ' : *cp;

        if (!plain && (ch == '"' || ch == '\\'))
            vstring_addch(out, '\\');
        vstring_addch(out, ch);
    }
    if (!plain)
        vstring_addch(out, '"');
}

/* cleanup_message_clean - a header value made fit for a log line or an ATTR record */
static const char *cleanup_message_clean(VSTRING *out, const char *value, size_t len)
{
    if (len > CLEANUP_LOG_VALUE_MAX)
        len = CLEANUP_LOG_VALUE_MAX;
    vstring_memcpy(out, value, len);           /* a NUL is data here */
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) vstring_str(out)[i];

        if (ch < ' ' || ch == 0x7f)
            vstring_str(out)[i] = ' ';
    }
    vstring_trim_right(out);
    return vstring_str(out);
}

/* cleanup_message_extract - collect the addresses of a To:/Cc:/Bcc: header */

static void cleanup_message_extract(CLEANUP_STATE *state, HEADER_FIELD *field)
{
    ARGV **listp = (field->opts->flags & HDR_OPT_RESENT) ? &state->extract_resent : &state->extract;
    VSTRING *why = vstring_alloc(100);
    const char *value;
    size_t vlen;
    ARGV *addrs;

    value = header_value(vstring_str(field->text), vstring_len(field->text), field->name_len,
                         &vlen);
    if ((addrs = address_parse_list(value, vlen, why)) == NULL) {
        msg_warn("%s: ignoring recipients in %s: header: %s", cleanup_id(state),
                 field->opts->name, vstring_str(why));
        vstring_free(why);
        return;
    }
    if (*listp == NULL)
        *listp = argv_alloc(addrs->argc + 1);
    for (int i = 0; i < addrs->argc; i++) {
        if ((*listp)->argc >= CLEANUP_EXTRACT_MAX) {
            cleanup_error(state, CLEANUP_STAT_CONT, "5.5.3 Too many recipients in message headers");
            break;
        }
        if (*addrs->argv[i])
            argv_add(*listp, addrs->argv[i]);
    }
    argv_free(addrs);
    vstring_free(why);
}

/* cleanup_message_dropped - is this header named in message_drop_headers? */

static int cleanup_message_dropped(CLEANUP_STATE *state, HEADER_FIELD *field)
{
    if (cleanup_drop_headers == NULL || cleanup_drop_headers->used == 0)
        return 0;
    vstring_strncpy(state->temp1, vstring_str(field->text), field->name_len);
    vstring_lowercase(state->temp1);
    return htable_locate(cleanup_drop_headers, vstring_str(state->temp1)) != NULL;
}

/* cleanup_message_header - one complete header field */

static void cleanup_message_header(void *context, HEADER_FIELD *field)
{
    CLEANUP_STATE *state = context;
    const HEADER_OPTS *opts = field->opts;
    const char *value;
    size_t vlen;

    if (state->errs)
        return;
    if (field->truncated)
        msg_info("%s: %.*s: header is longer than header_size_limit: excess dropped",
                 cleanup_id(state), (int) (field->name_len > 100 ? 100 : field->name_len),
                 vstring_str(field->text));
    if (opts) {
        state->headers_seen |= HDR_MASK(opts->type);
        if (opts->flags & HDR_OPT_RESENT)
            state->resent = 1;
        if (opts->type == HDR_RECEIVED && ++state->hop_count > var_hopcount_limit) {
            msg_info("%s: reject: too many hops (%ld Received: headers, limit %ld)",
                     cleanup_id(state), state->hop_count, var_hopcount_limit);
            cleanup_error(state, CLEANUP_STAT_HOPS, "5.4.0 Error: too many hops");
            return;
        }
        if (opts->type == HDR_MESSAGE_ID || opts->type == HDR_RESENT_MESSAGE_ID) {
            value = header_value(vstring_str(field->text), vstring_len(field->text),
                                 field->name_len, &vlen);
            cleanup_message_clean(state->temp1, value, vlen);
            msg_info("%s: %smessage-id=%s", cleanup_id(state),
                     opts->type == HDR_RESENT_MESSAGE_ID ? "resent-" : "",
                     vstring_str(state->temp1));
            if (opts->type == HDR_MESSAGE_ID && vstring_len(state->message_id) == 0)
                vstring_strcpy(state->message_id, vstring_str(state->temp1));
        }
    }
    if ((state->flags & CLEANUP_FLAG_FILTER)
        && cleanup_checks_header(state, field) != CLEANUP_ACT_KEEP)
        return;
    if ((state->flags & CLEANUP_FLAG_EXTRACT) && opts && (opts->flags & HDR_OPT_EXTRACT))
        cleanup_message_extract(state, field);
    if (cleanup_message_dropped(state, field))
        return;
    if (cleanup_header_rewrite(state, field))
        return;                                 /* written with new addresses, or an error */
    for (int i = 0; i < field->line_count && state->errs == 0; i++) {
        const char *line = header_field_line(field, i, &vlen);

        cleanup_out_text(state, REC_TYPE_NORM, line, vlen);
    }
}

/* cleanup_message_missing - does the message lack this header (or its Resent- form)? */

static int cleanup_message_missing(CLEANUP_STATE *state, int type, int resent_type)
{
    return (state->headers_seen & HDR_MASK(state->resent ? resent_type : type)) == 0;
}

/* cleanup_message_eoh - the end of the headers: add what is missing */

static void cleanup_message_eoh(void *context)
{
    CLEANUP_STATE *state = context;
    const char *resent = state->resent ? "Resent-" : "";
    time_t when = state->arrival.tv_sec;

    if (state->errs)
        return;
    if (state->add_headers) {
        if (cleanup_message_missing(state, HDR_MESSAGE_ID, HDR_RESENT_MESSAGE_ID)) {
            header_make_message_id(state->temp1, when, vstring_str(state->queue_id),
                                   var_myhostname);
            cleanup_out_fmt(state, REC_TYPE_NORM, "%sMessage-Id: %s", resent,
                            vstring_str(state->temp1));
            msg_info("%s: %smessage-id=%s", cleanup_id(state), state->resent ? "resent-" : "",
                     vstring_str(state->temp1));
            if (!state->resent)
                vstring_strcpy(state->message_id, vstring_str(state->temp1));
        }
        if (cleanup_message_missing(state, HDR_DATE, HDR_RESENT_DATE)) {
            header_make_date(state->temp1, when);
            cleanup_out_fmt(state, REC_TYPE_NORM, "%sDate: %s", resent, vstring_str(state->temp1));
        }
        if (cleanup_message_missing(state, HDR_FROM, HDR_RESENT_FROM)) {
            if (state->sender && *state->sender) {
                int quoted = address_quote(state->temp1, state->sender) == 0;

                if (quoted && state->full_name && *state->full_name
                    && (state->flags & CLEANUP_FLAG_LOCAL)) {
                    VSTRING *phrase = vstring_alloc(100);

                    cleanup_message_phrase(phrase, state->full_name);
                    cleanup_out_fmt(state, REC_TYPE_NORM, "%sFrom: %s <%s>", resent,
                                    vstring_str(phrase), vstring_str(state->temp1));
                    vstring_free(phrase);
                } else if (quoted) {
                    cleanup_out_fmt(state, REC_TYPE_NORM, "%sFrom: %s", resent,
                                    vstring_str(state->temp1));
                }
            } else {
                cleanup_out_fmt(state, REC_TYPE_NORM, "%sFrom: MAILER-DAEMON@%s", resent,
                                var_myorigin);
            }
        }
    }
    if ((state->headers_seen & HDR_MASK(HDR_MESSAGE_ID)) == 0 &&
        vstring_len(state->message_id) == 0)
        msg_info("%s: message-id=<>", cleanup_id(state));
    if (state->flags & CLEANUP_FLAG_FILTER)
        cleanup_checks_eoh(state);
}

/* cleanup_message_body - one body record */

static void cleanup_message_body(void *context, int type, const char *data, size_t len)
{
    CLEANUP_STATE *state = context;

    if (state->errs)
        return;
    if ((state->flags & CLEANUP_FLAG_FILTER)
        && cleanup_checks_body(state, type, data, len) != CLEANUP_ACT_KEEP)
        return;
    cleanup_out_text(state, type, data, len);
}

/* cleanup_message_local - does this message count as a local submission? */

static int cleanup_message_local(CLEANUP_STATE *state)
{
    int status;

    if (state->flags & (CLEANUP_FLAG_LOCAL | CLEANUP_FLAG_BOUNCE))
        return 1;
    if (state->origin && strcmp(state->origin, "pickup") == 0)
        return 1;
    if (cleanup_local_clients == NULL)
        return 0;
    status = cleanup_local_match(cleanup_local_clients, state->client_addr, state->sasl_user);
    if (status < 0)
        msg_warn("%s: local_header_rewrite_clients: table lookup failed for %s; treating the "
                 "client as remote", cleanup_id(state), state->client_addr);
    return status > 0;
}

void cleanup_message_begin(CLEANUP_STATE *state)
{
    long limit;

    cleanup_act_begin(state);                  /* the xtra_offset record */
    state->data_offset = state->out_offset;    /* where MESG is: qmgr and agents seek there */
    cleanup_out_rec(state, REC_TYPE_MESG, "", 0);
    state->in_content = 1;
    state->phase = CLEANUP_PHASE_CONTENT;
    state->hdr_rewrite = cleanup_message_local(state);
    state->add_headers = var_always_add_missing_headers || state->hdr_rewrite;
    /* a header never needs to hold more than a whole message may */
    limit = var_header_size_limit;
    if (var_message_size_limit > 0 && var_message_size_limit < limit)
        limit = var_message_size_limit;
    state->hstate = header_state_create((size_t) limit, cleanup_message_header,
                                        cleanup_message_eoh, cleanup_message_body, state);
}

/* cleanup_message_stray - replace CR and LF inside a line with spaces */

static void cleanup_message_stray(VSTRING *buf)
{
    char *cp = vstring_str(buf);
    char *end = cp + vstring_len(buf);

    for (; cp < end; cp++)
        if (*cp == '\r' || *cp == '\n')
            *cp = ' ';
}

void cleanup_message(CLEANUP_STATE *state, int type)
{
    switch (type) {
    case REC_TYPE_NORM:
    case REC_TYPE_CONT:
        if (var_cleanup_replace_stray_cr_lf)
            cleanup_message_stray(state->buf);
        header_state_update(state->hstate, type, vstring_str(state->buf), vstring_len(state->buf));
        return;
    case REC_TYPE_XTRA:
        cleanup_message_end(state);
        return;
    default:
        cleanup_error(state, CLEANUP_STAT_BAD, "4.3.0 unexpected %s record in content",
                      rec_type_name(type));
        return;
    }
}

void cleanup_message_end(CLEANUP_STATE *state)
{
    ARGV *extracted;

    header_state_finish(state->hstate);
    if (state->flags & CLEANUP_FLAG_FILTER)
        cleanup_checks_eom(state);
    state->in_content = 0;
    state->phase = CLEANUP_PHASE_EXTRA;
    state->xtra_offset = state->out_offset;
    cleanup_out_rec(state, REC_TYPE_XTRA, "", 0);
    if (state->flags & CLEANUP_FLAG_EXTRACT) {
        extracted = state->resent ? state->extract_resent : state->extract;
        for (int i = 0; extracted && i < extracted->argc && state->errs == 0; i++)
            cleanup_addr_recipient(state, extracted->argv[i], extracted->argv[i], 0, 0, "");
    }
    if (state->errs == 0 && state->rcpt_count == 0)
        cleanup_error(state, CLEANUP_STAT_RCPT, "5.1.0 No recipients specified");
    if (vstring_len(state->message_id))
        cleanup_out_fmt(state, REC_TYPE_ATTR, "%s=%s", CLEANUP_ATTR_MESSAGE_ID,
                        vstring_str(state->message_id));
    cleanup_act_extra(state);                  /* content_filter or redirect */
}
