/*
 * NAME
 *	cleanup_header - addresses in message headers
 * SYNOPSIS
 *	#include "cleanup.h"
 *
 *	int cleanup_header_rewrite(CLEANUP_STATE *state, HEADER_FIELD *field)
 * DESCRIPTION
 *	cleanup_header_rewrite() rewrites the addresses of a sender-type
 *	header (From:, Sender:, Reply-To:, Errors-To:, Return-Receipt-To:,
 *	Return-Path: and their Resent- forms) or recipient-type header
 *	(To:, Cc:, Bcc:, Apparently-To: and Resent- forms) of a message
 *	from a local client (state->hdr_rewrite: local submission, or
 *	local_header_rewrite_clients; mail from other clients keeps its
 *	headers as they are). An address without a domain gets
 *	@$myorigin; then, when the client allowed mapping
 *	(CLEANUP_FLAG_MAP_OK), sender_canonical_maps or
 *	recipient_canonical_maps and canonical_maps apply, as far as
 *	their classes include header_sender or header_recipient.
 *
 *	Addresses are found with header_addr_scan() and replaced where
 *	they stand, quoted as needed: display names, comments, groups,
 *	white space and folding stay as they were. Text that does not
 *	parse as exactly one address, and an address cut by a line break,
 *	are left alone, as is a header that does not scan.
 *
 *	Returns 1 when the header was written here with new addresses, or
 *	when a table error deferred the message (nothing written then);
 *	0 when nothing changed and the caller writes the header as it was.
 */
#include <string.h>

#include "address.h"
#include "cleanup.h"
#include "cleanup_proto.h"
#include "header_addr.h"
#include "mymalloc.h"
#include "rec.h"

typedef struct CLEANUP_REPL {
    size_t start;               /* in field->text */
    size_t len;
    char *text;                 /* the new address, external form */
} CLEANUP_REPL;

/* cleanup_header_map - rewrite one internal-form address in place; -1 after an error */

static int cleanup_header_map(CLEANUP_STATE *state, int sender, VSTRING *addr)
{
    cleanup_addr_qualify(addr);
    if ((state->flags & CLEANUP_FLAG_MAP_OK) == 0)
        return 0;
    if (sender) {
        if (cleanup_send_canon_maps && (cleanup_send_canon_flags & CLEANUP_CANON_HDR_SENDER) &&
            cleanup_addr_map11(state, cleanup_send_canon_maps, "sender_canonical_maps", addr) < 0)
            return -1;
        if (cleanup_canon_maps && (cleanup_canon_flags & CLEANUP_CANON_HDR_SENDER)
            && cleanup_addr_map11(state, cleanup_canon_maps, "canonical_maps", addr) < 0)
            return -1;
    } else {
        if (cleanup_rcpt_canon_maps && (cleanup_rcpt_canon_flags & CLEANUP_CANON_HDR_RCPT)
            && cleanup_addr_map11(state, cleanup_rcpt_canon_maps, "recipient_canonical_maps",
                                  addr) < 0)
            return -1;
        if (cleanup_canon_maps && (cleanup_canon_flags & CLEANUP_CANON_HDR_RCPT)
            && cleanup_addr_map11(state, cleanup_canon_maps, "canonical_maps", addr) < 0)
            return -1;
    }
    return 0;
}

/* cleanup_header_line_of - the line that holds [start, start + len), or -1 */

static int cleanup_header_line_of(HEADER_FIELD *field, size_t start, size_t len)
{
    const char *base = vstring_str(field->text);
    size_t llen;

    for (int i = 0; i < field->line_count; i++) {
        size_t ls = (size_t) (header_field_line(field, i, &llen) - base);

        if (start >= ls && start + len <= ls + llen)
            return i;
    }
    return -1;
}

/* cleanup_header_write - write the field with the replacements */

static void cleanup_header_write(CLEANUP_STATE *state, HEADER_FIELD *field, CLEANUP_REPL *repl,
                                 int nrepl)
{
    const char *base = vstring_str(field->text);
    VSTRING *out = vstring_alloc(256);
    int r = 0;
    size_t llen;

    for (int i = 0; i < field->line_count; i++) {
        const char *line = header_field_line(field, i, &llen);
        size_t pos = (size_t) (line - base);
        size_t end = pos + llen;

        vstring_reset(out);
        for (; r < nrepl && repl[r].start < end; r++) {
            vstring_memcat(out, base + pos, repl[r].start - pos);
            vstring_strcat(out, repl[r].text);
            pos = repl[r].start + repl[r].len;
        }
        vstring_memcat(out, base + pos, end - pos);
        cleanup_out_text(state, REC_TYPE_NORM, vstring_str(out), vstring_len(out));
    }
    vstring_free(out);
}

int cleanup_header_rewrite(CLEANUP_STATE *state, HEADER_FIELD *field)
{
    const HEADER_OPTS *opts = field->opts;
    const char *text = vstring_str(field->text);
    const char *value;
    size_t vlen, voff;
    HEADER_ADDR_SPAN *spans;
    CLEANUP_REPL *repl;
    int count, nrepl = 0, status = 0;
    VSTRING *addr, *quoted, *why;
    int sender;

    if (!state->hdr_rewrite || opts == NULL ||
        (opts->flags & (HDR_OPT_SENDER | HDR_OPT_RECIP)) == 0)
        return 0;
    sender = (opts->flags & HDR_OPT_SENDER) != 0;
    value = header_value(text, vstring_len(field->text), field->name_len, &vlen);
    voff = (size_t) (value - text);
    if ((count = header_addr_scan(value, vlen, &spans)) <= 0)
        return 0;
    repl = mycalloc((size_t) count, sizeof(*repl));
    addr = vstring_alloc(100);
    quoted = vstring_alloc(100);
    why = vstring_alloc(100);
    for (int i = 0; i < count && state->errs == 0; i++) {
        size_t start = voff + spans[i].start;
        size_t len = spans[i].len;
        ARGV *list;

        if (cleanup_header_line_of(field, start, len) < 0)
            continue;
        list = address_parse_list(text + start, len, why);
        if (list == NULL)
            continue;
        if (list->argc == 1 && *list->argv[0]) {
            vstring_strcpy(addr, list->argv[0]);
            if (cleanup_header_map(state, sender, addr) < 0) {
                status = 1;
            } else if (strcmp(vstring_str(addr), list->argv[0]) != 0
                       && address_quote(quoted, vstring_str(addr)) == 0) {
                repl[nrepl].start = start;
                repl[nrepl].len = len;
                repl[nrepl].text = mystrdup(vstring_str(quoted));
                nrepl++;
            }
        }
        argv_free(list);
    }
    if (state->errs == 0 && nrepl > 0) {
        cleanup_header_write(state, field, repl, nrepl);
        status = 1;
    }
    for (int i = 0; i < nrepl; i++)
        myfree(repl[i].text);
    myfree(repl);
    myfree(spans);
    vstring_free(addr);
    vstring_free(quoted);
    vstring_free(why);
    return state->errs ? 1 : status;
}
