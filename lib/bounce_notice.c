/*
 * NAME
 *	bounce_notice - write a delivery status notification
 * SYNOPSIS
 *	#include "bounce_notice.h"
 *
 *	int bounce_notice_write(VSTREAM *out, const BOUNCE_NOTICE_INFO *info,
 *				DELIVER_NOTE *const *notes, int count,
 *				VSTREAM *content, off_t offset)
 *	void bounce_notice_diagnostic(const DELIVER_NOTE *note, VSTRING *mta,
 *				VSTRING *diag)
 *	const char *bounce_notice_subject(int kind)
 * DESCRIPTION
 *	bounce_notice_write() produces the notice that bounce(8) hands to
 *	cleanup(8), as lib/bounce_notice.h describes. It reads the
 *	returned content twice: a first pass measures it (total size, end
 *	of the headers, the last header start within the size limit,
 *	8-bit bytes, lines that would collide with the MIME boundary), and
 *	decides what to return before anything is written; the second
 *	pass copies the records that were chosen, unchanged, so that long
 *	lines keep their CONT pieces.
 *
 *	Generated lines are kept short: header fields are folded at white
 *	space before BN_FOLD_WIDTH columns, text lines wrapped before
 *	BN_TEXT_WIDTH; a word that is too long is cut at BN_HARD_WIDTH
 *	bytes, so that no generated line comes near the 998-byte limit of
 *	RFC 5322. Every byte of generated text goes through bn_clean():
 *	control characters become spaces, and bytes outside ASCII become
 *	'?' unless the notice is an SMTPUTF8 one.
 *
 *	The human-readable wording is postern's own.
 * DIAGNOSTICS
 *	A content that cannot be read is logged (msg_warn) and left out;
 *	write errors are returned.
 */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "bounce_notice.h"
#include "header_make.h"
#include "msg.h"
#include "rec.h"
#include "smtpd_cmd.h"

#define BN_FOLD_WIDTH 76   /* columns of a folded header line */
#define BN_TEXT_WIDTH 72   /* columns of a text line */
#define BN_HARD_WIDTH 900  /* longest generated line, whatever the input */
#define BN_BOUNDARY_MAX 70 /* RFC 2046 */
#define BN_BOUNDARY_TRIES 20

/* what the first pass over the content learns */
typedef struct BN_SCAN {
    int ok;            /* readable up to XTRA */
    size_t total;      /* bytes, one per line end */
    size_t header_len; /* bytes before the empty line that ends the headers */
    size_t header_fit; /* the last header start at most size_limit */
    int header_8bit;   /* 8-bit bytes in the headers */
    int any_8bit;      /* anywhere */
    int collide;       /* a line starts with "--" and the boundary */
} BN_SCAN;

typedef struct BN_STATE {
    VSTREAM *out;
    const BOUNCE_NOTICE_INFO *info;
    int utf8;       /* keep UTF-8 in generated text */
    int err;        /* a write failed */
    VSTRING *line;  /* the line being written */
    VSTRING *clean; /* bn_clean() output */
    VSTRING *addr;  /* address scratch */
    VSTRING *tmp;
} BN_STATE;

/* ---------------------------------------------------------------- */
/* small helpers */

const char *bounce_notice_subject(int kind)
{
    switch (kind) {
    case BOUNCE_NOTICE_FAILED:
        return "Undelivered Mail Returned to Sender";
    case BOUNCE_NOTICE_FAILED_COPY:
    case BOUNCE_NOTICE_UNDELIVERABLE:
        return "Postmaster Copy: Undelivered Mail";
    case BOUNCE_NOTICE_DELAYED:
        return "Delayed Mail (still being retried)";
    case BOUNCE_NOTICE_DELAYED_COPY:
        return "Postmaster Warning: Delayed Mail";
    default:
        msg_panic("bounce_notice_subject: unknown kind %d", kind);
    }
}

static int bn_is_delay(int kind)
{
    return kind == BOUNCE_NOTICE_DELAYED || kind == BOUNCE_NOTICE_DELAYED_COPY;
}

static int bn_is_copy(int kind)
{
    return kind == BOUNCE_NOTICE_FAILED_COPY || kind == BOUNCE_NOTICE_DELAYED_COPY;
}

/* bn_clean - printable text: controls become spaces, 8-bit becomes '?' unless utf8 */

static const char *bn_clean(VSTRING *out, const char *text, int utf8)
{
    vstring_reset(out);
    for (const unsigned char *cp = (const unsigned char *)text; *cp; cp++) {
        if (*cp < 0x20 || *cp == 0x7f)
            vstring_addch(out, ' ');
        else if (*cp >= 0x80 && !utf8)
            vstring_addch(out, '?');
        else
            vstring_addch(out, *cp);
    }
    return vstring_str(out);
}

static int bn_has_8bit(const char *text)
{
    for (const unsigned char *cp = (const unsigned char *)text; *cp; cp++)
        if (*cp >= 0x80)
            return 1;
    return 0;
}

/* bn_quote - the external form of an address, cleaned */

static const char *bn_quote(BN_STATE *state, const char *addr)
{
    if (address_quote(state->tmp, addr) < 0)
        vstring_strcpy(state->tmp, addr);
    return bn_clean(state->addr, vstring_str(state->tmp), state->utf8);
}

/* bn_put - one generated line */

static void bn_put(BN_STATE *state, const char *text, size_t len)
{
    if (state->err)
        return;
    if (rec_put(state->out, REC_TYPE_NORM, text, len) != REC_TYPE_NORM)
        state->err = 1;
}

static void __attribute__((format(printf, 2, 3))) bn_printf(BN_STATE *state, const char *fmt, ...)
{
    va_list ap;

    vstring_reset(state->line);
    va_start(ap, fmt);
    vstring_vsprintf_append(state->line, fmt, ap);
    va_end(ap);
    bn_put(state, vstring_str(state->line), vstring_len(state->line));
}

/*
 * bn_fill - write text (already cleaned) as lines of at most width
 * columns, broken at spaces; every line after the first starts with
 * prefix. A word longer than a line is written whole up to
 * BN_HARD_WIDTH bytes, then cut.
 */
static void bn_fill(BN_STATE *state, const char *text, size_t width, const char *prefix)
{
    const char *cp = text;
    int first = 1;

    for (;;) {
        size_t plen = first ? 0 : strlen(prefix);
        size_t avail = width > plen + 10 ? width - plen : 10;
        size_t len = strlen(cp);
        size_t brk = 0;

        if (!first && len == 0)
            return;
        if (len <= avail) {
            brk = len;
        } else {
            for (size_t i = avail; i > 0; i--) {
                if (cp[i] == ' ') {
                    brk = i;
                    break;
                }
            }
            if (brk == 0) {
                const char *sp = strchr(cp + avail, ' ');

                brk = sp ? (size_t)(sp - cp) : len;
            }
            if (brk > BN_HARD_WIDTH)
                brk = BN_HARD_WIDTH;
        }
        vstring_strcpy(state->line, first ? "" : prefix);
        /* a wrapped line that starts with "--" could pass for a MIME boundary delimiter */
        if (!first && *prefix == 0 && cp[0] == '-' && cp[1] == '-')
            vstring_strcpy(state->line, " ");
        vstring_strncat(state->line, cp, brk);
        bn_put(state, vstring_str(state->line), vstring_len(state->line));
        cp += brk;
        while (*cp == ' ')
            cp++;
        if (*cp == 0)
            return;
        first = 0;
    }
}

/* bn_header - "Name: value", value cleaned and folded */

static void bn_header(BN_STATE *state, const char *name, const char *value)
{
    VSTRING *text = vstring_alloc(100);

    vstring_sprintf(text, "%s: %s", name, bn_clean(state->clean, value, state->utf8));
    bn_fill(state, vstring_str(text), BN_FOLD_WIDTH, " ");
    vstring_free(text);
}

/* bn_para - a paragraph of text, wrapped, followed by an empty line */

static void bn_para(BN_STATE *state, const char *text)
{
    bn_fill(state, bn_clean(state->clean, text, state->utf8), BN_TEXT_WIDTH, "");
    bn_put(state, "", 0);
}

/* bn_date - an RFC 5322 date in state->tmp (returned) */

static const char *bn_date(VSTRING *buf, time_t when)
{
    return header_make_date(buf, when);
}

/* bn_duration - an age in words, rounded down: "5 days", "3 hours", "90 seconds" */

static void bn_duration(VSTRING *out, long seconds)
{
    if (seconds < 0)
        seconds = 0;
    if (seconds >= 86400)
        vstring_sprintf(out, "%ld day%s", seconds / 86400, seconds / 86400 == 1 ? "" : "s");
    else if (seconds >= 3600)
        vstring_sprintf(out, "%ld hour%s", seconds / 3600, seconds / 3600 == 1 ? "" : "s");
    else if (seconds >= 120)
        vstring_sprintf(out, "%ld minutes", seconds / 60);
    else
        vstring_sprintf(out, "%ld second%s", seconds, seconds == 1 ? "" : "s");
}

/* ---------------------------------------------------------------- */
/* diagnostics */

void bounce_notice_diagnostic(const DELIVER_NOTE *note, VSTRING *mta, VSTRING *diag)
{
    const char *relay = note->relay ? note->relay : "";
    const char *reason = note->reason ? note->reason : "";
    const char *open = strchr(relay, '[');
    const char *close = open ? strchr(open, ']') : NULL;
    const char *said;
    const char *reply = NULL;
    size_t len;

    vstring_reset(mta);
    if (open && open > relay && close && (close[1] == 0 || close[1] == ':'))
        vstring_sprintf(mta, "dns; %.*s", (int)(open - relay), relay);

    if ((said = strstr(reason, " said: ")) != NULL)
        reply = said + 7;
    else if ((reason[0] == '4' || reason[0] == '5') && isdigit((unsigned char)reason[1]) &&
             isdigit((unsigned char)reason[2]) &&
             (reason[3] == ' ' || reason[3] == '-' || reason[3] == 0))
        reply = reason;
    if (reply == NULL) {
        vstring_sprintf(diag, "X-Postern; %s", reason);
        return;
    }
    len = strlen(reply);
    /* drop the " (in reply to XXX command)" that the smtp client appends */
    if (len > 0 && reply[len - 1] == ')') {
        const char *paren = NULL;

        for (const char *cp = reply; (cp = strstr(cp, " (in reply to ")) != NULL; cp++)
            paren = cp;
        if (paren && strstr(paren, " command)") == reply + len - 9)
            len = (size_t)(paren - reply);
    }
    vstring_sprintf(diag, "smtp; %.*s", (int)len, reply);
}

/* ---------------------------------------------------------------- */
/* the returned content */

/* bn_scan - first pass; 0, or -1 when the content cannot be read */

static int bn_scan(VSTREAM *content, off_t offset, const char *boundary, size_t limit,
                   BN_SCAN *scan)
{
    VSTRING *buf = vstring_alloc(1024);
    VSTRING *head = vstring_alloc(BN_BOUNDARY_MAX + 2);
    size_t blen = strlen(boundary);
    int line_start = 1;
    int in_header = 1;
    int type;
    int ret = -1;

    memset(scan, 0, sizeof(*scan));
    if (rec_goto(content, offset) < 0) {
        msg_warn("%s: cannot seek to the message content", vstream_path(content));
        goto out;
    }
    for (;;) {
        type = rec_get(content, buf, BOUNCE_NOTICE_REC_MAX);
        if (type == REC_TYPE_XTRA)
            break;
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT) {
            msg_warn("%s: unexpected %s record in the message content", vstream_path(content),
                     type < 0 ? "bad" : rec_type_name(type));
            goto out;
        }
        const char *data = vstring_str(buf);
        size_t len = vstring_len(buf);
        int eight = 0;

        for (size_t i = 0; i < len; i++)
            if ((unsigned char)data[i] >= 0x80)
                eight = 1;
        if (line_start && in_header) {
            if (type == REC_TYPE_NORM && len == 0) {
                in_header = 0;
                scan->header_len = scan->total;
            } else if (len > 0 && data[0] != ' ' && data[0] != '\t' && scan->total <= limit) {
                scan->header_fit = scan->total;
            }
        }
        if (eight) {
            scan->any_8bit = 1;
            if (in_header)
                scan->header_8bit = 1;
        }
        /* the start of the line, over CONT pieces, compared with the boundary */
        if (line_start)
            vstring_reset(head);
        if (vstring_len(head) < blen + 2)
            vstring_memcat(head, data,
                           len < blen + 2 - vstring_len(head) ? len : blen + 2 - vstring_len(head));
        if (vstring_len(head) == blen + 2 && !scan->collide &&
            memcmp(vstring_str(head), "--", 2) == 0 &&
            memcmp(vstring_str(head) + 2, boundary, blen) == 0)
            scan->collide = 1;
        scan->total += len + (type == REC_TYPE_NORM);
        line_start = (type == REC_TYPE_NORM);
    }
    if (in_header)
        scan->header_len = scan->total;
    if (scan->header_len <= limit)
        scan->header_fit = scan->header_len;
    scan->ok = 1;
    ret = 0;
out:
    vstring_free(buf);
    vstring_free(head);
    return ret;
}

/* bn_copy - second pass: the records up to the first line start at or after limit */

static void bn_copy(BN_STATE *state, VSTREAM *content, off_t offset, size_t limit)
{
    VSTRING *buf = vstring_alloc(1024);
    size_t pos = 0;
    int line_start = 1;
    int type;

    if (rec_goto(content, offset) < 0) {
        msg_warn("%s: cannot seek to the message content", vstream_path(content));
        goto out;
    }
    while (!state->err) {
        type = rec_get(content, buf, BOUNCE_NOTICE_REC_MAX);
        if (type == REC_TYPE_XTRA)
            break;
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT) {
            msg_warn("%s: message content changed while it was being returned",
                     vstream_path(content));
            break;
        }
        if (line_start && pos >= limit)
            break;
        if (rec_put(state->out, type, vstring_str(buf), vstring_len(buf)) != type)
            state->err = 1;
        pos += vstring_len(buf) + (type == REC_TYPE_NORM);
        line_start = (type == REC_TYPE_NORM);
    }
    if (!line_start)
        bn_put(state, "", 0); /* end the cut line */
out:
    vstring_free(buf);
}

/* ---------------------------------------------------------------- */
/* the parts */

static void bn_recipient_line(BN_STATE *state, const DELIVER_NOTE *note)
{
    VSTRING *text = vstring_alloc(200);

    vstring_sprintf(text, "<%s>", bn_quote(state, note->recipient));
    if (note->orig_recipient && *note->orig_recipient &&
        strcasecmp(note->orig_recipient, note->recipient) != 0)
        vstring_sprintf_append(text, " (original address <%s>)",
                               bn_quote(state, note->orig_recipient));
    vstring_sprintf_append(text, ": %s", *note->reason ? note->reason : "no reason given");
    bn_fill(state, bn_clean(state->clean, vstring_str(text), state->utf8), BN_TEXT_WIDTH, "    ");
    bn_put(state, "", 0);
    vstring_free(text);
}

static void bn_text_part(BN_STATE *state, int count, DELIVER_NOTE *const *notes,
                         const BN_SCAN *scan, int returned, int whole, int too_big)
{
    const BOUNCE_NOTICE_INFO *info = state->info;
    VSTRING *text = vstring_alloc(300);
    VSTRING *date = vstring_alloc(60);
    VSTRING *sender = vstring_alloc(100);

    vstring_sprintf(sender, "<%s>", bn_quote(state, info->sender));
    vstring_sprintf(text, "This notice comes from the %s mail system at %s.", info->mail_name,
                    info->hostname);
    bn_para(state, vstring_str(text));

    switch (info->kind) {
    case BOUNCE_NOTICE_FAILED:
        bn_para(state, "Your message could not be delivered to the recipients listed at the "
                       "end of this notice, and the mail system will not try again. The "
                       "reason is given for each address.");
        break;
    case BOUNCE_NOTICE_FAILED_COPY:
        vstring_sprintf(text,
                        "For the postmaster: a message from %s could not be delivered "
                        "to the recipients listed at the end of this notice. The headers "
                        "of the message are attached.",
                        vstring_str(sender));
        bn_para(state, vstring_str(text));
        break;
    case BOUNCE_NOTICE_UNDELIVERABLE:
        bn_para(state, "For the postmaster: a message with an empty envelope sender (usually "
                       "a delivery status notification) could not be delivered to the "
                       "recipients listed at the end of this notice. As there is nobody to "
                       "return it to, it is reported to you instead.");
        break;
    case BOUNCE_NOTICE_DELAYED:
        bn_para(state, "Nothing needs to be done on your side: this is a warning only. Your "
                       "message has not been delivered yet to the recipients listed at the "
                       "end of this notice, and the mail system is still trying.");
        break;
    case BOUNCE_NOTICE_DELAYED_COPY:
        vstring_sprintf(text,
                        "For the postmaster: a message from %s has not been delivered "
                        "yet to the recipients listed at the end of this notice; the "
                        "mail system is still trying. The headers of the message are "
                        "attached.",
                        vstring_str(sender));
        bn_para(state, vstring_str(text));
        break;
    }
    if (bn_is_delay(info->kind) && info->retry_until > 0) {
        vstring_sprintf(text,
                        "Delivery will be tried until %s. If it has not succeeded by "
                        "then, the message will be returned to its sender.",
                        bn_date(date, info->retry_until));
        bn_para(state, vstring_str(text));
    }
    if (info->expired && !bn_is_delay(info->kind)) {
        bn_duration(date, (long)(info->now - info->arrival));
        vstring_sprintf(text,
                        "The message was given up after %s in the queue, the longest "
                        "time the mail system keeps trying.",
                        vstring_str(date));
        bn_para(state, vstring_str(text));
    }
    if (!returned) {
        bn_para(state, "The original message could not be read, so it is not attached.");
    } else if (too_big) {
        vstring_sprintf(text,
                        "The message is larger than the %ld bytes that are returned "
                        "with a notice, so only its headers are attached.",
                        info->size_limit);
        bn_para(state, vstring_str(text));
    } else if (info->kind == BOUNCE_NOTICE_FAILED && !whole) {
        bn_para(state, "As the sender asked (RET=HDRS), only the headers of the message are "
                       "attached.");
    }
    if (scan->ok && scan->header_fit < scan->header_len && returned)
        bn_para(state, "The headers of the message are too large to be returned in full; "
                       "the attached headers are cut.");
    if (info->kind == BOUNCE_NOTICE_FAILED || info->kind == BOUNCE_NOTICE_DELAYED) {
        vstring_sprintf(text,
                        "For help, write to the postmaster of %s and include this notice "
                        "(the attached message may be left out).",
                        info->hostname);
        bn_para(state, vstring_str(text));
    }
    vstring_sprintf(text, "-- The %s mail system", info->mail_name);
    bn_para(state, vstring_str(text));

    for (int i = 0; i < count; i++)
        bn_recipient_line(state, notes[i]);
    vstring_free(text);
    vstring_free(date);
    vstring_free(sender);
}

/* bn_status - a valid "X.Y.Z" with X the class of the kind of notice, else a default */

static void bn_status(VSTRING *out, const char *status, int delay)
{
    const char *cp = status ? status : "";
    size_t n;
    int ok = (*cp == '2' || *cp == '4' || *cp == '5') && cp[1] == '.';

    if (ok) {
        cp += 2;
        n = strspn(cp, "0123456789");
        ok = n >= 1 && n <= 3 && cp[n] == '.';
        if (ok) {
            cp += n + 1;
            n = strspn(cp, "0123456789");
            ok = n >= 1 && n <= 3 && cp[n] == 0;
        }
    }
    if (ok && delay && status[0] != '4')
        ok = 0;
    if (ok && !delay && status[0] == '2')
        ok = 0;
    vstring_strcpy(out, ok ? status : delay ? "4.0.0" : "5.0.0");
}

/* bn_address_field - "rfc822; addr", or "utf-8; addr" for a UTF-8 address */

static void bn_address_field(BN_STATE *state, const char *name, const char *addr)
{
    VSTRING *value = vstring_alloc(100);
    const char *quoted = bn_quote(state, addr);

    vstring_sprintf(value, "%s; %s", state->utf8 && bn_has_8bit(quoted) ? "utf-8" : "rfc822",
                    quoted);
    bn_header(state, name, vstring_str(value));
    vstring_free(value);
}

static void bn_orig_field(BN_STATE *state, const DELIVER_NOTE *note)
{
    const char *orcpt = note->orcpt ? note->orcpt : "";
    const char *semi = strchr(orcpt, ';');

    if (semi && semi > orcpt) {
        VSTRING *type = vstring_alloc(20);
        VSTRING *addr = vstring_alloc(100);
        VSTRING *value = vstring_alloc(100);

        vstring_strncpy(type, orcpt, (size_t)(semi - orcpt));
        if (strcasecmp(vstring_str(type), "rfc822") != 0 ||
            smtpd_xtext_decode(addr, semi + 1, strlen(semi + 1)) < 0)
            vstring_strcpy(addr, semi + 1);
        vstring_sprintf(value, "%s; %s", vstring_str(type), vstring_str(addr));
        bn_header(state, "Original-Recipient", vstring_str(value));
        vstring_free(type);
        vstring_free(addr);
        vstring_free(value);
    } else if (note->orig_recipient && *note->orig_recipient &&
               strcasecmp(note->orig_recipient, note->recipient) != 0) {
        bn_address_field(state, "Original-Recipient", note->orig_recipient);
    }
}

static void bn_status_part(BN_STATE *state, int count, DELIVER_NOTE *const *notes)
{
    const BOUNCE_NOTICE_INFO *info = state->info;
    int delay = bn_is_delay(info->kind);
    VSTRING *value = vstring_alloc(100);
    VSTRING *mta = vstring_alloc(100);
    VSTRING *diag = vstring_alloc(200);

    if (info->dsn_envid && *info->dsn_envid)
        bn_header(state, "Original-Envelope-Id", info->dsn_envid);
    vstring_sprintf(value, "dns; %s", info->hostname);
    bn_header(state, "Reporting-MTA", vstring_str(value));
    bn_header(state, "X-Postern-Queue-ID", info->queue_id);
    if (*info->sender)
        bn_address_field(state, "X-Postern-Sender", info->sender);
    bn_header(state, "Arrival-Date", bn_date(value, info->arrival));

    for (int i = 0; i < count; i++) {
        const DELIVER_NOTE *note = notes[i];

        bn_put(state, "", 0);
        bn_address_field(state, "Final-Recipient", note->recipient);
        bn_orig_field(state, note);
        bn_header(state, "Action", delay ? "delayed" : "failed");
        bn_status(value, note->status, delay);
        bn_header(state, "Status", vstring_str(value));
        bounce_notice_diagnostic(note, mta, diag);
        if (vstring_len(mta))
            bn_header(state, "Remote-MTA", vstring_str(mta));
        bn_header(state, "Diagnostic-Code", vstring_str(diag));
        if (note->time > 0)
            bn_header(state, "Last-Attempt-Date", bn_date(value, note->time));
        if (delay && info->retry_until > 0)
            bn_header(state, "Will-Retry-Until", bn_date(value, info->retry_until));
    }
    vstring_free(value);
    vstring_free(mta);
    vstring_free(diag);
}

/* ---------------------------------------------------------------- */
/* the notice */

/* bn_boundary - the base boundary, or a variant for try > 0 */

static void bn_boundary(VSTRING *out, const BOUNCE_NOTICE_INFO *info, int try)
{
    const char *id = info->notice_id && *info->notice_id ? info->notice_id : info->queue_id;

    vstring_sprintf(out, "%s.%ld/%s", id, (long)info->now, info->hostname);
    if (try > 0)
        vstring_sprintf_append(out, "=_%d", try);
    /* keep bchars only (RFC 2046), at most BN_BOUNDARY_MAX */
    for (char *cp = vstring_str(out); *cp; cp++)
        if (!isalnum((unsigned char)*cp) && strchr("'()+_,-./:=?", *cp) == NULL)
            *cp = '_';
    if (try > 0 && vstring_len(out) > BN_BOUNDARY_MAX) {
        /* keep the variant suffix when the name must be cut */
        VSTRING *suffix = vstring_alloc(20);

        vstring_sprintf(suffix, "=_%d", try);
        vstring_truncate(out, BN_BOUNDARY_MAX - vstring_len(suffix));
        vstring_strcat(out, vstring_str(suffix));
        vstring_free(suffix);
    } else if (vstring_len(out) > BN_BOUNDARY_MAX) {
        vstring_truncate(out, BN_BOUNDARY_MAX);
    }
}

int bounce_notice_write(VSTREAM *out, const BOUNCE_NOTICE_INFO *info, DELIVER_NOTE *const *notes,
                        int count, VSTREAM *content, off_t offset)
{
    BN_STATE state;
    BN_SCAN scan;
    VSTRING *boundary = vstring_alloc(BN_BOUNDARY_MAX + 1);
    VSTRING *date = vstring_alloc(60);
    VSTRING *value = vstring_alloc(100);
    size_t limit = info->size_limit > 0 ? (size_t)info->size_limit : 0;
    int returned = 0;
    int whole = 0;
    int too_big = 0;
    int eight = 0;
    size_t copy_limit = 0;
    const char *type;

    memset(&state, 0, sizeof(state));
    state.out = out;
    state.info = info;
    state.utf8 = info->smtputf8 != 0;
    state.line = vstring_alloc(200);
    state.clean = vstring_alloc(200);
    state.addr = vstring_alloc(100);
    state.tmp = vstring_alloc(100);
    memset(&scan, 0, sizeof(scan));

    /* decide what to return before anything is written */
    bn_boundary(boundary, info, 0);
    if (content != NULL) {
        for (int try = 0; try < BN_BOUNDARY_TRIES; try++) {
            if (try > 0)
                bn_boundary(boundary, info, try);
            if (bn_scan(content, offset, vstring_str(boundary), limit, &scan) < 0 || !scan.collide)
                break;
        }
        if (scan.ok && scan.collide) {
            msg_warn("%s: no MIME boundary found that the message does not use; not returning "
                     "it",
                     info->queue_id);
            scan.ok = 0;
        }
    }
    if (scan.ok) {
        returned = 1;
        whole = (info->kind == BOUNCE_NOTICE_FAILED || info->kind == BOUNCE_NOTICE_UNDELIVERABLE) &&
                strcasecmp(info->dsn_ret ? info->dsn_ret : "", "HDRS") != 0;
        if (whole && scan.total > limit) {
            whole = 0;
            too_big = 1;
        }
        copy_limit = whole ? scan.total : scan.header_fit;
        eight = whole ? scan.any_8bit : scan.header_8bit;
    }

    /* the headers of the notice */
    vstring_sprintf(value, "Mail Delivery System <MAILER-DAEMON@%s>", info->hostname);
    bn_header(&state, "From", vstring_str(value));
    bn_header(&state, "To", bn_quote(&state, info->recipient));
    bn_header(&state, "Subject", bounce_notice_subject(info->kind));
    bn_header(&state, "Date", bn_date(date, info->now));
    bn_header(&state, "Auto-Submitted", "auto-replied");
    bn_header(&state, "MIME-Version", "1.0");
    bn_printf(&state, "Content-Type: multipart/report; report-type=%s;",
              state.utf8 ? "global-delivery-status" : "delivery-status");
    bn_printf(&state, "\tboundary=\"%s\"", vstring_str(boundary));
    if (eight || state.utf8)
        bn_header(&state, "Content-Transfer-Encoding", "8bit");
    bn_put(&state, "", 0);
    bn_para(&state, "This is a delivery status notification in MIME format.");

    /* 1: the explanation */
    bn_printf(&state, "--%s", vstring_str(boundary));
    bn_header(&state, "Content-Description", "Notification");
    bn_header(&state, "Content-Type",
              state.utf8 ? "text/plain; charset=utf-8" : "text/plain; charset=us-ascii");
    if (state.utf8)
        bn_header(&state, "Content-Transfer-Encoding", "8bit");
    bn_put(&state, "", 0);
    bn_text_part(&state, count, notes, &scan, returned, whole, too_big);

    /* 2: the report */
    bn_printf(&state, "--%s", vstring_str(boundary));
    bn_header(&state, "Content-Description",
              bn_is_delay(info->kind) ? "Delay report" : "Delivery report");
    bn_header(&state, "Content-Type",
              state.utf8 ? "message/global-delivery-status" : "message/delivery-status");
    if (state.utf8)
        bn_header(&state, "Content-Transfer-Encoding", "8bit");
    bn_put(&state, "", 0);
    bn_status_part(&state, count, notes);
    bn_put(&state, "", 0);

    /* 3: the message or its headers */
    if (returned) {
        bn_printf(&state, "--%s", vstring_str(boundary));
        if (whole) {
            bn_header(&state, "Content-Description", "Undelivered Message");
            type = state.utf8 ? "message/global" : "message/rfc822";
        } else {
            bn_header(&state, "Content-Description",
                      bn_is_delay(info->kind)  ? "Delayed Message Headers"
                      : bn_is_copy(info->kind) ? "Undelivered Message Headers"
                                               : "Message Headers");
            type = state.utf8 ? "message/global-headers" : "text/rfc822-headers";
        }
        bn_header(&state, "Content-Type", type);
        if (eight || state.utf8)
            bn_header(&state, "Content-Transfer-Encoding", "8bit");
        bn_put(&state, "", 0);
        bn_copy(&state, content, offset, copy_limit);
        bn_put(&state, "", 0);
    }
    bn_printf(&state, "--%s--", vstring_str(boundary));

    vstring_free(boundary);
    vstring_free(date);
    vstring_free(value);
    vstring_free(state.line);
    vstring_free(state.clean);
    vstring_free(state.addr);
    vstring_free(state.tmp);
    return state.err ? -1 : 0;
}
