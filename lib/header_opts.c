/*
 * NAME
 *	header_opts - message header names that postern treats specially
 * SYNOPSIS
 *	#include "header_opts.h"
 *
 *	const HEADER_OPTS *header_opts_find(const char *name, size_t len)
 *	size_t header_name_len(const char *line, size_t len)
 *	const char *header_value(const char *text, size_t len, size_t name_len,
 *				size_t *vlen)
 * DESCRIPTION
 *	header_opts_find() finds the entry of a header name in a small
 *	table sorted by name, comparing without regard to case. The name
 *	is given by pointer and length, so that it can point into a header
 *	line. Unknown names, and names longer than any entry, give NULL.
 *
 *	header_name_len() measures the name at the start of a line that
 *	starts a header field, and returns 0 for any other line: an empty
 *	line, a line that starts with white space (a continuation), a line
 *	whose first word holds a byte outside '!'..'~' or is longer than
 *	HEADER_NAME_MAX, or that is not followed by a colon (after at most
 *	HEADER_WSP_MAX spaces and tabs).
 *
 *	header_value() skips the name, the white space and the colon, and
 *	then the white space (including folding line breaks) that starts
 *	the value.
 */
#include <strings.h>

#include "header_opts.h"

static const HEADER_OPTS header_opts_table[] = {
    {"Apparently-To", HDR_APPARENTLY_TO, HDR_OPT_RECIP},
    {"Bcc", HDR_BCC, HDR_OPT_RECIP | HDR_OPT_EXTRACT},
    {"Cc", HDR_CC, HDR_OPT_RECIP | HDR_OPT_EXTRACT},
    {"Content-Length", HDR_CONTENT_LENGTH, 0},
    {"Content-Transfer-Encoding", HDR_CONTENT_TRANSFER_ENCODING, 0},
    {"Content-Type", HDR_CONTENT_TYPE, 0},
    {"Date", HDR_DATE, 0},
    {"Delivered-To", HDR_DELIVERED_TO, 0},
    {"Errors-To", HDR_ERRORS_TO, HDR_OPT_SENDER},
    {"From", HDR_FROM, HDR_OPT_SENDER},
    {"Message-Id", HDR_MESSAGE_ID, 0},
    {"Mime-Version", HDR_MIME_VERSION, 0},
    {"Received", HDR_RECEIVED, 0},
    {"Reply-To", HDR_REPLY_TO, HDR_OPT_SENDER},
    {"Resent-Bcc", HDR_RESENT_BCC, HDR_OPT_RECIP | HDR_OPT_RESENT | HDR_OPT_EXTRACT},
    {"Resent-Cc", HDR_RESENT_CC, HDR_OPT_RECIP | HDR_OPT_RESENT | HDR_OPT_EXTRACT},
    {"Resent-Date", HDR_RESENT_DATE, HDR_OPT_RESENT},
    {"Resent-From", HDR_RESENT_FROM, HDR_OPT_SENDER | HDR_OPT_RESENT},
    {"Resent-Message-Id", HDR_RESENT_MESSAGE_ID, HDR_OPT_RESENT},
    {"Resent-Reply-To", HDR_RESENT_REPLY_TO, HDR_OPT_SENDER | HDR_OPT_RESENT},
    {"Resent-Sender", HDR_RESENT_SENDER, HDR_OPT_SENDER | HDR_OPT_RESENT},
    {"Resent-To", HDR_RESENT_TO, HDR_OPT_RECIP | HDR_OPT_RESENT | HDR_OPT_EXTRACT},
    {"Return-Path", HDR_RETURN_PATH, HDR_OPT_SENDER},
    {"Return-Receipt-To", HDR_RETURN_RECEIPT_TO, HDR_OPT_SENDER},
    {"Sender", HDR_SENDER, HDR_OPT_SENDER},
    {"To", HDR_TO, HDR_OPT_RECIP | HDR_OPT_EXTRACT},
    {"X-Original-To", HDR_X_ORIGINAL_TO, 0},
};

#define HEADER_OPTS_COUNT (sizeof(header_opts_table) / sizeof(header_opts_table[0]))
#define HEADER_OPTS_NAME_MAX 32  /* longer than any name in the table */

/* header_opts_cmp - compare a counted name with a table name, ignoring case */

static int header_opts_cmp(const char *name, size_t len, const char *entry)
{
    int diff;

    for (size_t i = 0; i < len; i++) {
        if (entry[i] == 0)
            return 1;
        diff = (name[i] | 0x20) - (entry[i] | 0x20);
        /* only letters and '-' occur in the table; '-' | 0x20 is still '-' */
        if (diff != 0)
            return diff;
    }
    return entry[len] == 0 ? 0 : -1;
}

const HEADER_OPTS *header_opts_find(const char *name, size_t len)
{
    size_t lo = 0, hi = HEADER_OPTS_COUNT, mid;
    int diff;

    if (len == 0 || len > HEADER_OPTS_NAME_MAX)
        return NULL;
    /* '|0x20' folds letters; a byte that is not a letter or '-' never matches */
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) name[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '-'))
            return NULL;
    }
    while (lo < hi) {
        mid = (lo + hi) / 2;
        diff = header_opts_cmp(name, len, header_opts_table[mid].name);
        if (diff == 0)
            return header_opts_table + mid;
        if (diff < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t header_name_len(const char *line, size_t len)
{
    size_t name_len = 0, i;

    while (name_len < len && name_len <= HEADER_NAME_MAX) {
        unsigned char ch = (unsigned char) line[name_len];

        if (ch < '!' || ch > '~' || ch == ':')
            break;
        name_len++;
    }
    if (name_len == 0 || name_len > HEADER_NAME_MAX || name_len >= len)
        return 0;
    for (i = name_len; i < len && i - name_len <= HEADER_WSP_MAX; i++)
        if (line[i] != ' ' && line[i] != '\t')
            break;
    if (i >= len || i - name_len > HEADER_WSP_MAX || line[i] != ':')
        return 0;
    return name_len;
}

const char *header_value(const char *text, size_t len, size_t name_len, size_t *vlen)
{
    size_t i = name_len < len ? name_len : len;

    while (i < len && text[i] != ':')
        i++;
    if (i < len)
        i++;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    *vlen = len - i;
    return text + i;
}
