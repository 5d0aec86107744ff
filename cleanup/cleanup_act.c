/*
 * NAME
 *	cleanup_act - content actions and their traces in the queue file
 * SYNOPSIS
 *	#include "cleanup.h"
 *	#include "cleanup_checks.h"
 *
 *	int cleanup_act_apply(CLEANUP_STATE *state, const char *where,
 *				const char *title, const char *value,
 *				const char *input, size_t len, int at_start)
 *	void cleanup_act_log(CLEANUP_STATE *state, const char *action,
 *				const char *where, const char *input,
 *				size_t len, const char *text)
 *
 *	int cleanup_act_envelope(CLEANUP_STATE *state, const char *name,
 *				const char *value)
 *	void cleanup_act_recipient(CLEANUP_STATE *state, const char *addr)
 *	void cleanup_act_begin(CLEANUP_STATE *state)
 *	void cleanup_act_extra(CLEANUP_STATE *state)
 *	int cleanup_act_finish(CLEANUP_STATE *state)
 * DESCRIPTION
 *	cleanup_act_apply() and cleanup_act_log() carry out and log the
 *	actions of header_checks(5) tables; their contract is in
 *	cleanup_checks.h. The actions, as Postfix defines them:
 *	REJECT [text] refuses the message (CLEANUP_STAT_CONT, reason
 *	"5.7.1 text", or the text as it is when it starts with a 4.X.Y or
 *	5.X.Y status code, or "5.7.1 Message content rejected");
 *	DISCARD [text] accepts the message and drops it; HOLD [text] puts
 *	it in hold/; REDIRECT user@domain sends it to that address instead
 *	of its recipients; FILTER transport:destination sends it to that
 *	content filter; PREPEND text inserts a line before the input;
 *	REPLACE text replaces the input; IGNORE drops the input; WARN
 *	[text] and INFO [text] only log ("warning:" and "info:"); DUNNO
 *	and OK do nothing. Action names are not case-sensitive. REJECT and
 *	DISCARD end the inspection of the message; of several REDIRECT or
 *	FILTER actions the last one counts.
 *
 *	cleanup_act_envelope() sees each envelope ATTR record before it is
 *	copied: it remembers the client name, HELO name and protocol for
 *	log lines (and returns 0: copy the record), carries out a client's
 *	request (action_hold, action_discard, action_redirect,
 *	action_filter: lib/cleanup_proto.h) and drops the names that only
 *	cleanup may write (content_filter, redirect, xtra_offset); it
 *	returns 1 for those: the record is not copied. A request that is
 *	malformed is logged as a warning and ignored.
 *
 *	cleanup_act_recipient() notes each recipient written, so that log
 *	lines can name the last one ("to=<>"), as Postfix's do.
 *
 *	cleanup_act_begin() is called just before the MESG record: it
 *	writes the ATTR record xtra_offset with zeros, to be rewritten by
 *	cleanup_act_finish(). cleanup_act_extra() writes, after XTRA, the
 *	redirection ("redirect=ADDR"), or else the content filter
 *	("content_filter=T:D"), when there is one.
 *
 *	cleanup_act_finish() is called by cleanup_out_finish() once the
 *	file is complete and flushed, before it is made ready and synced:
 *	it rewrites xtra_offset with the offset of the XTRA record, and for
 *	a held message renames incoming/QUEUEID to hold/QUEUEID (while the
 *	file is not yet in the mode that lets qmgr(8) take it). Returns 0,
 *	or -1 after a write or rename error (CLEANUP_STAT_WRITE recorded).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "cleanup.h"
#include "cleanup_checks.h"
#include "cleanup_proto.h"
#include "header_opts.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"

#define CLEANUP_ACT_LOG_INPUT_MAX 200 /* bytes of the input in a log line */
#define CLEANUP_ACT_LOG_TEXT_MAX 1000 /* bytes of other strings in a log line */
#define CLEANUP_ACT_DEF_REASON "Message content rejected"

/* cleanup_act_printable - append text made fit for a log line */

static void cleanup_act_printable(VSTRING *out, const char *text, size_t len, size_t max)
{
    if (len > max)
        len = max;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];

        vstring_addch(out, ch < ' ' || ch == 0x7f ? ' ' : ch);
    }
}

static void cleanup_act_printable_str(VSTRING *out, const char *text)
{
    cleanup_act_printable(out, text, strlen(text), CLEANUP_ACT_LOG_TEXT_MAX);
}

void cleanup_act_log(CLEANUP_STATE *state, const char *action, const char *where, const char *input,
                     size_t len, const char *text)
{
    CLEANUP_CHECKS *c = cleanup_checks_get(state);
    VSTRING *log = c->log;

    vstring_sprintf(log, "%s: %s: %s ", cleanup_id(state), action, where);
    cleanup_act_printable(log, input, len, CLEANUP_ACT_LOG_INPUT_MAX);
    if (state->client_addr && *state->client_addr) {
        vstring_strcat(log, " from ");
        cleanup_act_printable_str(log,
                                  c->client_name && *c->client_name ? c->client_name : "unknown");
        vstring_addch(log, '[');
        cleanup_act_printable_str(log, state->client_addr);
        vstring_strcat(log, "];");
    } else {
        vstring_strcat(log, " from local;");
    }
    if (state->sender) {
        vstring_strcat(log, " from=<");
        cleanup_act_printable_str(log, state->sender);
        vstring_addch(log, '>');
    }
    if (c->recipient) {
        vstring_strcat(log, " to=<");
        cleanup_act_printable_str(log, c->recipient);
        vstring_addch(log, '>');
    }
    if (c->protocol && *c->protocol) {
        vstring_strcat(log, " proto=");
        cleanup_act_printable_str(log, c->protocol);
    }
    if (c->helo_name && *c->helo_name) {
        vstring_strcat(log, " helo=<");
        cleanup_act_printable_str(log, c->helo_name);
        vstring_addch(log, '>');
    }
    if (text && *text) {
        vstring_strcat(log, ": ");
        cleanup_act_printable_str(log, text);
    }
    msg_info("%s", vstring_str(log));
}

/* cleanup_act_has_dsn - does text start with an RFC 3463 code of class 4 or 5? */

static int cleanup_act_has_dsn(const char *text)
{
    const char *cp = text;
    int n;

    if (*cp != '4' && *cp != '5')
        return 0;
    cp++;
    for (int part = 0; part < 2; part++) {
        if (*cp++ != '.')
            return 0;
        for (n = 0; isdigit((unsigned char)*cp) && n < 4; cp++)
            n++;
        if (n < 1 || n > 3)
            return 0;
    }
    return *cp == 0 || *cp == ' ';
}

/* cleanup_act_filter_ok - transport:destination, the transport a master.cf service name */

static int cleanup_act_filter_ok(const char *value)
{
    const char *colon = strchr(value, ':');

    if (colon == NULL || colon == value || colon - value > 100 || !isalnum((unsigned char)*value))
        return 0;
    for (const char *cp = value; cp < colon; cp++)
        if (!isalnum((unsigned char)*cp) && strchr("._-", *cp) == NULL)
            return 0;
    for (const char *cp = colon; *cp; cp++)
        if (((unsigned char)*cp < ' ' && *cp != '\t') || *cp == 0x7f)
            return 0;
    return strlen(value) <= ADDRESS_LENIENT_MAX;
}

/* cleanup_act_address_ok - a REDIRECT target */

static int cleanup_act_address_ok(const char *value)
{
    if (*value == 0 || strchr(value, '@') == NULL || strlen(value) > ADDRESS_LENIENT_MAX)
        return 0;
    for (const char *cp = value; *cp; cp++)
        if ((unsigned char)*cp < ' ' || *cp == 0x7f)
            return 0;
    return 1;
}

static void cleanup_act_set(char **field, const char *value)
{
    myfree(*field);
    *field = mystrdup(value);
}

int cleanup_act_apply(CLEANUP_STATE *state, const char *where, const char *title, const char *value,
                      const char *input, size_t len, int at_start)
{
    CLEANUP_CHECKS *c = cleanup_checks_get(state);
    int header = strcmp(where, "header") == 0;
    const char *cp = value;
    const char *text;
    size_t wlen;

    while (*cp == ' ' || *cp == '\t')
        cp++;
    for (wlen = 0; cp[wlen] && cp[wlen] != ' ' && cp[wlen] != '\t'; wlen++)
        /* void */;
    for (text = cp + wlen; *text == ' ' || *text == '\t'; text++)
        /* void */;
#define CLEANUP_ACT_IS(word) (wlen == sizeof(word) - 1 && strncasecmp(cp, word, wlen) == 0)

    if (CLEANUP_ACT_IS("REJECT")) {
        if (cleanup_act_has_dsn(text))
            vstring_strcpy(c->text, text);
        else
            vstring_sprintf(c->text, "5.7.1 %s", *text ? text : CLEANUP_ACT_DEF_REASON);
        cleanup_act_log(state, "reject", where, input, len, vstring_str(c->text));
        cleanup_error(state, CLEANUP_STAT_CONT, "%s", vstring_str(c->text));
        c->done = 1;
        return CLEANUP_HBC_STOP;
    }
    if (CLEANUP_ACT_IS("DISCARD")) {
        cleanup_act_log(state, "discard", where, input, len, text);
        state->discard = 1;
        c->done = 1;
        return CLEANUP_HBC_STOP;
    }
    if (CLEANUP_ACT_IS("HOLD")) {
        cleanup_act_log(state, "hold", where, input, len, text);
        state->hold = 1;
        return CLEANUP_HBC_KEEP;
    }
    if (CLEANUP_ACT_IS("REDIRECT")) {
        if (!cleanup_act_address_ok(text)) {
            msg_warn("%s: bad REDIRECT target \"%.100s\" in %s map, need user@domain",
                     cleanup_id(state), text, title);
            return CLEANUP_HBC_KEEP;
        }
        cleanup_act_log(state, "redirect", where, input, len, text);
        cleanup_act_set(&state->redirect, text);
        return CLEANUP_HBC_KEEP;
    }
    if (CLEANUP_ACT_IS("FILTER")) {
        if (!cleanup_act_filter_ok(text)) {
            msg_warn("%s: bad FILTER action \"%.100s\" in %s map, need transport:destination",
                     cleanup_id(state), text, title);
            return CLEANUP_HBC_KEEP;
        }
        cleanup_act_log(state, "filter", where, input, len, text);
        cleanup_act_set(&state->filter, text);
        return CLEANUP_HBC_KEEP;
    }
    if (CLEANUP_ACT_IS("PREPEND") || CLEANUP_ACT_IS("REPLACE")) {
        int prepend = CLEANUP_ACT_IS("PREPEND");
        const char *name = prepend ? "PREPEND" : "REPLACE";

        if (*text == 0) {
            msg_warn("%s: %s action without text in %s map", cleanup_id(state), name, title);
            return CLEANUP_HBC_KEEP;
        }
        if (header && header_name_len(text, strlen(text)) == 0) {
            msg_warn("%s: bad %s header text \"%.100s\" in %s map, need \"headername: "
                     "headervalue\"",
                     cleanup_id(state), name, text, title);
            return CLEANUP_HBC_KEEP;
        }
        if (prepend && !at_start) {
            msg_warn("%s: %s in %s map ignored in the middle of a long line", cleanup_id(state),
                     name, title);
            return CLEANUP_HBC_KEEP;
        }
        vstring_strcpy(c->text, text);
        cleanup_act_log(state, prepend ? "prepend" : "replace", where, input, len, text);
        return prepend ? CLEANUP_HBC_PREPEND : CLEANUP_HBC_REPLACE;
    }
    if (CLEANUP_ACT_IS("IGNORE"))
        return CLEANUP_HBC_DROP;
    if (CLEANUP_ACT_IS("WARN")) {
        cleanup_act_log(state, "warning", where, input, len, text);
        return CLEANUP_HBC_KEEP;
    }
    if (CLEANUP_ACT_IS("INFO")) {
        cleanup_act_log(state, "info", where, input, len, text);
        return CLEANUP_HBC_KEEP;
    }
    if (CLEANUP_ACT_IS("DUNNO") || CLEANUP_ACT_IS("OK"))
        return CLEANUP_HBC_KEEP;
    msg_warn("%s: unknown command in %s map: \"%.100s\"", cleanup_id(state), title, value);
    return CLEANUP_HBC_KEEP;
}

/* ---------------------------------------------------------------- envelope */

int cleanup_act_envelope(CLEANUP_STATE *state, const char *name, const char *value)
{
    CLEANUP_CHECKS *c = cleanup_checks_get(state);

    if (strcmp(name, CLEANUP_ATTR_CLIENT_NAME) == 0) {
        cleanup_act_set(&c->client_name, value);
        return 0;
    }
    if (strcmp(name, CLEANUP_ATTR_HELO) == 0) {
        cleanup_act_set(&c->helo_name, value);
        return 0;
    }
    if (strcmp(name, CLEANUP_ATTR_PROTOCOL) == 0) {
        cleanup_act_set(&c->protocol, value);
        return 0;
    }
    if (strcmp(name, CLEANUP_ATTR_FILTER) == 0 || strcmp(name, CLEANUP_ATTR_REDIRECT) == 0 ||
        strcmp(name, CLEANUP_ATTR_XTRA_OFFSET) == 0)
        return 1; /* ours to write */
    if (strncmp(name, CLEANUP_ATTR_ACT_PREFIX, sizeof(CLEANUP_ATTR_ACT_PREFIX) - 1) != 0)
        return 0;
    if (strcmp(name, CLEANUP_ATTR_ACT_HOLD) == 0) {
        state->hold = 1;
    } else if (strcmp(name, CLEANUP_ATTR_ACT_DISCARD) == 0) {
        state->discard = 1;
    } else if (strcmp(name, CLEANUP_ATTR_ACT_REDIRECT) == 0) {
        if (cleanup_act_address_ok(value))
            cleanup_act_set(&state->redirect, value);
        else
            msg_warn("%s: ignoring malformed %s request \"%.100s\"", cleanup_id(state), name,
                     value);
    } else if (strcmp(name, CLEANUP_ATTR_ACT_FILTER) == 0) {
        if (cleanup_act_filter_ok(value))
            cleanup_act_set(&state->filter, value);
        else
            msg_warn("%s: ignoring malformed %s request \"%.100s\"", cleanup_id(state), name,
                     value);
    } else {
        msg_warn("%s: ignoring unknown request %.100s", cleanup_id(state), name);
    }
    return 1;
}

void cleanup_act_recipient(CLEANUP_STATE *state, const char *addr)
{
    cleanup_act_set(&cleanup_checks_get(state)->recipient, addr);
}

/* ---------------------------------------------------------------- queue file */

void cleanup_act_begin(CLEANUP_STATE *state)
{
    if (state->errs || state->dst == NULL)
        return;
    state->xtra_ptr_offset = state->out_offset;
    cleanup_out_fmt(state, REC_TYPE_ATTR, "%s=" CLEANUP_XTRA_OFFSET_FORMAT,
                    CLEANUP_ATTR_XTRA_OFFSET, 0LL);
}

void cleanup_act_extra(CLEANUP_STATE *state)
{
    if (state->redirect)
        cleanup_out_fmt(state, REC_TYPE_ATTR, "%s=%s", CLEANUP_ATTR_REDIRECT, state->redirect);
    else if (state->filter)
        cleanup_out_fmt(state, REC_TYPE_ATTR, "%s=%s", CLEANUP_ATTR_FILTER, state->filter);
}

int cleanup_act_finish(CLEANUP_STATE *state)
{
    VSTRING *hold_path;

    if (state->xtra_ptr_offset > 0 && state->xtra_offset > 0 &&
        (vstream_fseek(state->dst, state->xtra_ptr_offset, SEEK_SET) < 0 ||
         rec_fprintf(state->dst, REC_TYPE_ATTR, "%s=" CLEANUP_XTRA_OFFSET_FORMAT,
                     CLEANUP_ATTR_XTRA_OFFSET, (long long)state->xtra_offset) == REC_TYPE_ERROR ||
         vstream_fflush(state->dst) == VSTREAM_EOF)) {
        msg_warn("%s: update queue file offset record: %m", cleanup_id(state));
        cleanup_error(state, CLEANUP_STAT_WRITE, "4.3.0 queue file write error");
        return -1;
    }
    if (!state->hold)
        return 0;
    hold_path = vstring_alloc(50);
    vstring_sprintf(hold_path, "hold/%s", vstring_str(state->queue_id));
    if (rename(vstring_str(state->path), vstring_str(hold_path)) < 0) {
        msg_warn("%s: rename %s to %s: %m", cleanup_id(state), vstring_str(state->path),
                 vstring_str(hold_path));
        cleanup_error(state, CLEANUP_STAT_WRITE, "4.3.0 queue file write error");
        vstring_free(hold_path);
        return -1;
    }
    vstring_strcpy(state->path, vstring_str(hold_path));
    vstream_set_path(state->dst, vstring_str(hold_path));
    vstring_free(hold_path);
    return 0;
}
