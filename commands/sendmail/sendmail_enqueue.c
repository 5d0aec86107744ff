/*
 * NAME
 *	sendmail_enqueue - read a message on standard input and queue it
 * SYNOPSIS
 *	#include "sendmail.h"
 *
 *	int sm_enqueue(SM_ENVELOPE *env)
 * DESCRIPTION
 *	sm_enqueue() reads the message on standard input until end of
 *	file or, unless -i or -oi was given (sm_dot_ends is 0), until a
 *	line that holds a single ".". It hands the message to postdrop(1)
 *	line by line (sendmail_drop.c) and returns the exit status.
 *
 *	Lines: a first line that starts with "From " (a mailbox separator)
 *	is dropped. CRLF line ends become LF as sendmail_fix_line_endings
 *	says (always, strict: only when the first line ends in CRLF, or
 *	never). A line longer than line_length_limit is passed on in
 *	pieces, which cleanup joins again; a last line without a line end
 *	is passed on as a line.
 *
 *	With -t (env->extract), cleanup takes the recipients from the To:,
 *	Cc: and Bcc: headers (and the Resent- ones) and removes Bcc:.
 *	sendmail reads the header itself first, holding it in memory, so
 *	that a message with no recipient at all is refused before anything
 *	is queued ("No recipient addresses found in message header",
 *	EX_USAGE). The header ends at an empty line or at the first line
 *	that is neither a header field nor a continuation line.
 * DIAGNOSTICS
 *	Fatal, with the EX_* status: a read error on standard input
 *	(EX_NOINPUT), a message larger than message_size_limit (EX_DATAERR),
 *	postdrop that cannot be run (EX_UNAVAILABLE); a failing postdrop
 *	gives its own status.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "address.h"
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "sendmail.h"

#define SM_CR_ALWAYS 1
#define SM_CR_STRICT 2
#define SM_CR_NEVER 3

#define SM_HOLD_MAX (64 * 1024 * 1024) /* header held for -t without a size limit */

typedef struct SM_READER {
    SM_ENVELOPE *env;
    SM_DROP *drop; /* NULL while the header is held (-t) */
    VSTRING *held; /* held pieces: partial flag, length, bytes */
    size_t hold_max;
    int in_header;   /* still reading header fields (-t) */
    int have_field;  /* a header field is being collected */
    VSTRING *field;  /* that field, continuation lines joined */
    int header_rcpt; /* addresses found in recipient headers */
} SM_READER;

/* sm_field_name_len - length of the field name when line starts a header field */

static size_t sm_field_name_len(const char *line, size_t len)
{
    size_t i = 0;

    while (i < len && (unsigned char)line[i] > 0x20 && (unsigned char)line[i] < 0x7f &&
           line[i] != ':')
        i++;
    if (i == 0)
        return 0;
    for (size_t j = i; j < len; j++) {
        if (line[j] == ':')
            return i;
        if (line[j] != ' ' && line[j] != '\t')
            return 0;
    }
    return 0;
}

/* sm_field_done - count the addresses of a finished recipient header */

static void sm_field_done(SM_READER *rd)
{
    static const char *names[] = {"to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc"};
    const char *text = vstring_str(rd->field);
    size_t name_len;
    const char *colon;
    VSTRING *why;
    ARGV *list;

    if (!rd->have_field)
        return;
    rd->have_field = 0;
    name_len = sm_field_name_len(text, vstring_len(rd->field));
    colon = memchr(text, ':', vstring_len(rd->field));
    if (name_len == 0 || colon == NULL)
        return;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i]) != name_len || strncasecmp(names[i], text, name_len) != 0)
            continue;
        why = vstring_alloc(60);
        list =
            address_parse_list(colon + 1, vstring_len(rd->field) - (size_t)(colon + 1 - text), why);
        if (list) {
            rd->header_rcpt += list->argc;
            argv_free(list);
        } else if (msg_verbose) {
            msg_info("%.*s header: %s", (int)name_len, text, vstring_str(why));
        }
        vstring_free(why);
        break;
    }
}

/* sm_emit - one piece of content, to postdrop or held */

static void sm_emit(SM_READER *rd, const char *data, size_t len, int partial)
{
    if (rd->drop == NULL) {
        if (vstring_len(rd->held) + len + 1 + sizeof(size_t) > rd->hold_max)
            msg_fatal_status(EX_DATAERR, "%s(%ld): message file too big", sm_user, (long)sm_uid);
        vstring_addch(rd->held, partial ? 'L' : 'N');
        vstring_memcat(rd->held, &len, sizeof(len));
        vstring_memcat(rd->held, data, len);
        return;
    }
    if (sm_drop_line(rd->drop, data, len, partial) < 0 && sm_drop_too_big(rd->drop))
        msg_fatal_status(EX_DATAERR, "%s(%ld): message file too big", sm_user, (long)sm_uid);
    /* a postdrop that went away is reported by sm_drop_close() */
}

/* sm_gone - postdrop takes nothing more: stop reading */

static int sm_gone(const SM_READER *rd)
{
    return rd->drop != NULL && sm_drop_broken(rd->drop);
}

/* sm_start - the header is known: check recipients, start postdrop, replay */

static void sm_start(SM_READER *rd)
{
    VSTRING *why = vstring_alloc(60);
    const char *cp;
    const char *end;
    size_t len;
    int partial;

    if (rd->drop)
        return;
    if (rd->env->extract && rd->header_rcpt == 0 && rd->env->rcpt_count == 0)
        msg_fatal_status(EX_USAGE, "%s(%ld): No recipient addresses found in message header",
                         sm_user, (long)sm_uid);
    if ((rd->drop = sm_drop_open(rd->env, why)) == NULL)
        msg_fatal_status(EX_UNAVAILABLE, "%s(%ld): %s", sm_user, (long)sm_uid, vstring_str(why));
    cp = vstring_str(rd->held);
    end = vstring_end(rd->held);
    while (cp < end) {
        partial = (*cp++ == 'L');
        memcpy(&len, cp, sizeof(len));
        cp += sizeof(len);
        sm_emit(rd, cp, len, partial);
        cp += len;
    }
    vstring_truncate(rd->held, 0);
    vstring_free(why);
}

/* sm_header_line - follow the header while it is held (-t) */

static void sm_header_line(SM_READER *rd, const char *line, size_t len, int line_start, int whole)
{
    size_t room;

    if (!line_start) { /* a further piece of a long line */
        if (rd->have_field)
            goto append;
        return;
    }
    if (whole && len == 0) {
        sm_field_done(rd);
        rd->in_header = 0;
        return;
    }
    if ((line[0] == ' ' || line[0] == '\t') && rd->have_field) {
        vstring_addch(rd->field, ' ');
        goto append;
    }
    if (sm_field_name_len(line, len) > 0) {
        sm_field_done(rd);
        rd->have_field = 1;
        vstring_truncate(rd->field, 0);
        goto append;
    }
    sm_field_done(rd); /* body text without an empty line */
    rd->in_header = 0;
    return;

append:
    room = (size_t)var_header_size_limit > vstring_len(rd->field)
               ? (size_t)var_header_size_limit - vstring_len(rd->field)
               : 0;
    vstring_memcat(rd->field, line, len < room ? len : room);
}

int sm_enqueue(SM_ENVELOPE *env)
{
    VSTRING *line = vstring_alloc(1024);
    VSTRING *why = vstring_alloc(60);
    SM_READER rd;
    int cr_mode;
    int strip_cr;
    int first = 1;      /* the next piece starts the first line */
    int line_start = 1; /* the next piece starts a line */
    int skipping = 0;   /* dropping the pieces of a "From " line */
    int whole;
    int status;
    int ch;

    if (strcasecmp(var_sendmail_fix_line_endings, "always") == 0)
        cr_mode = SM_CR_ALWAYS;
    else if (strcasecmp(var_sendmail_fix_line_endings, "strict") == 0)
        cr_mode = SM_CR_STRICT;
    else if (strcasecmp(var_sendmail_fix_line_endings, "never") == 0)
        cr_mode = SM_CR_NEVER;
    else
        msg_fatal_status(EX_CONFIG, "bad sendmail_fix_line_endings value: %s",
                         var_sendmail_fix_line_endings);
    strip_cr = (cr_mode == SM_CR_ALWAYS);

    memset(&rd, 0, sizeof(rd));
    rd.env = env;
    rd.held = vstring_alloc(1024);
    rd.field = vstring_alloc(256);
    rd.in_header = env->extract;
    rd.hold_max =
        var_message_size_limit > 0 ? (size_t)var_message_size_limit + 64 * 1024 : SM_HOLD_MAX;
    if (!env->extract)
        sm_start(&rd);

    for (;;) {
        ch = vstream_get_line(VSTREAM_IN, line, (size_t)var_line_length_limit);
        if (ch == VSTREAM_EOF) {
            if (vstream_ferror(VSTREAM_IN))
                msg_fatal_status(EX_NOINPUT, "%s(%ld): error reading input: %m", sm_user,
                                 (long)sm_uid);
            break;
        }
        whole = (ch == '\n');
        if (whole) {
            vstring_truncate(line, vstring_len(line) - 1);
            if (first && cr_mode == SM_CR_STRICT)
                strip_cr = vstring_len(line) > 0 && vstring_end(line)[-1] == '\r';
            if (strip_cr && vstring_len(line) > 0 && vstring_end(line)[-1] == '\r')
                vstring_truncate(line, vstring_len(line) - 1);
        } else if (vstream_feof(VSTREAM_IN)) {
            whole = 1; /* the last line has no line end */
        } else if (vstring_len(line) > 1 && vstring_end(line)[-1] == '\r') {
            /* keep a CR that may be the first half of a CRLF with the next piece */
            vstream_ungetc(VSTREAM_IN, '\r');
            vstring_truncate(line, vstring_len(line) - 1);
        }

        if (first && line_start && vstring_len(line) >= 5 &&
            strncmp(vstring_str(line), "From ", 5) == 0)
            skipping = 1;
        if (skipping) {
            skipping = !whole;
            first = 0;
            line_start = whole;
            continue;
        }
        if (line_start && whole && sm_dot_ends && vstring_len(line) == 1 &&
            vstring_str(line)[0] == '.')
            break;
        if (rd.in_header) {
            sm_header_line(&rd, vstring_str(line), vstring_len(line), line_start, whole);
            if (!rd.in_header)
                sm_start(&rd);
        }
        sm_emit(&rd, vstring_str(line), vstring_len(line), !whole);
        if (sm_gone(&rd))
            break;
        first = 0;
        line_start = whole;
    }
    if (rd.in_header) {
        sm_field_done(&rd);
        rd.in_header = 0;
    }
    sm_start(&rd);

    status = sm_drop_close(rd.drop, NULL, why);
    if (status == EX_DATAERR && strcmp(vstring_str(why), "message file too big") == 0)
        msg_fatal_status(status, "%s(%ld): message file too big", sm_user, (long)sm_uid);
    if (status != 0 && vstring_len(why) > 0)
        msg_fatal_status(status, "%s(%ld): %s", sm_user, (long)sm_uid, vstring_str(why));
    vstring_free(line);
    vstring_free(why);
    vstring_free(rd.held);
    vstring_free(rd.field);
    return status;
}
