/*
 * NAME
 *	smtp_reply - SMTP and LMTP replies as a client reads them
 * SYNOPSIS
 *	#include "smtp_reply.h"
 *
 *	SMTP_REPLY *smtp_reply_alloc(void)
 *	void smtp_reply_free(SMTP_REPLY *reply)
 *	void smtp_reply_reset(SMTP_REPLY *reply)
 *	int smtp_reply_read(VSTREAM *fp, SMTP_REPLY *reply)
 *	int smtp_reply_parse_line(const char *line, size_t len, int *code,
 *				  int *last, const char **text)
 *	int smtp_reply_ehlo(const SMTP_REPLY *reply, const ARGV *discard,
 *			    unsigned long long *size)
 *	size_t smtp_dsn_valid(const char *text, size_t len)
 * DESCRIPTION
 *	The contract is in smtp_reply.h. smtp_reply_read() reads line by
 *	line with vstream_get_line() under the caller's timeout, so a
 *	server that sends an endless line or an endless reply costs bounded
 *	memory and, at worst, the timeout per line.
 *
 *	smtp_reply_parse_line() and smtp_reply_ehlo() are pure functions of
 *	their arguments.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "mymalloc.h"
#include "smtp_reply.h"

SMTP_REPLY *smtp_reply_alloc(void)
{
    SMTP_REPLY *reply = mymalloc(sizeof(*reply));

    reply->code = 0;
    reply->dsn[0] = 0;
    reply->has_dsn = 0;
    reply->text = vstring_alloc(100);
    reply->lines = argv_alloc(4);
    return reply;
}

void smtp_reply_free(SMTP_REPLY *reply)
{
    vstring_free(reply->text);
    argv_free(reply->lines);
    myfree(reply);
}

void smtp_reply_reset(SMTP_REPLY *reply)
{
    reply->code = 0;
    reply->dsn[0] = 0;
    reply->has_dsn = 0;
    vstring_reset(reply->text);
    argv_truncate(reply->lines, 0);
}

int smtp_reply_parse_line(const char *line, size_t len, int *code, int *last, const char **text)
{
    if (len < 3 || !isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
        !isdigit((unsigned char)line[2]))
        return -1;
    if (len > 3 && line[3] != ' ' && line[3] != '-')
        return -1;
    *code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    *last = len == 3 || line[3] == ' ';
    *text = line + (len > 3 ? 4 : 3);
    return 0;
}

size_t smtp_dsn_valid(const char *text, size_t len)
{
    size_t i = 0;
    size_t digits;

    if (len < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.')
        return 0;
    i = 2;
    for (int part = 0; part < 2; part++) {
        for (digits = 0; i < len && isdigit((unsigned char)text[i]) && digits < 4; i++)
            digits++;
        if (digits == 0 || digits > 3)
            return 0;
        if (part == 0) {
            if (i >= len || text[i] != '.')
                return 0;
            i++;
        }
    }
    if (i < len && text[i] != ' ' && text[i] != '\t')
        return 0;
    return i;
}

/* smtp_reply_set_dsn - the status from the first line, or one derived from the code */

static void smtp_reply_set_dsn(SMTP_REPLY *reply)
{
    const char *first = reply->lines->argc > 0 ? reply->lines->argv[0] : "";
    size_t n = smtp_dsn_valid(first, strlen(first));

    if (n > 0 && n < SMTP_DSN_MAX && first[0] == '0' + reply->code / 100) {
        memcpy(reply->dsn, first, n);
        reply->dsn[n] = 0;
        reply->has_dsn = 1;
    } else {
        reply->dsn[0] = (char)('0' + reply->code / 100);
        strcpy(reply->dsn + 1, ".0.0");
        reply->has_dsn = 0;
    }
}

/* smtp_reply_add_text - append one line, made printable, to the log text */

static void smtp_reply_add_text(SMTP_REPLY *reply, const char *line, size_t len)
{
    if (vstring_len(reply->text) > 0)
        vstring_addch(reply->text, ' ');
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)line[i];

        vstring_addch(reply->text, ch < ' ' || ch == 0x7f ? ' ' : ch);
    }
}

int smtp_reply_read(VSTREAM *fp, SMTP_REPLY *reply)
{
    VSTRING *buf = vstring_alloc(256);
    int code = 0;
    int first_code = 0;
    int last = 0;
    int nread = 0;
    int rc = SMTP_REPLY_EOF;
    const char *text;
    size_t len;
    int ch;

    smtp_reply_reset(reply);
    while (!last) {
        ch = vstream_get_line(fp, buf, SMTP_REPLY_LINE_MAX + 2);
        if (ch == VSTREAM_EOF || (ch != '\n' && (vstream_feof(fp) || vstream_ferror(fp)))) {
            if (vstring_len(buf) > 0)
                smtp_reply_add_text(reply, vstring_str(buf), vstring_len(buf));
            rc = SMTP_REPLY_EOF;
            goto done;
        }
        if (ch != '\n') { /* too long: drop the rest of the line */
            VSTRING *junk = vstring_alloc(256);
            int jc;

            do {
                jc = vstream_get_line(fp, junk, SMTP_REPLY_LINE_MAX);
            } while (jc != '\n' && jc != VSTREAM_EOF && !vstream_feof(fp) && !vstream_ferror(fp));
            vstring_free(junk);
            if (jc != '\n') {
                rc = SMTP_REPLY_EOF;
                goto done;
            }
        }
        len = vstring_len(buf);
        while (len > 0 && (vstring_str(buf)[len - 1] == '\n' || vstring_str(buf)[len - 1] == '\r'))
            len--;
        if (len > SMTP_REPLY_LINE_MAX)
            len = SMTP_REPLY_LINE_MAX;
        if (++nread > SMTP_REPLY_READ_MAX) {
            rc = SMTP_REPLY_BAD;
            goto done;
        }
        if (nread <= SMTP_REPLY_LINES_MAX)
            smtp_reply_add_text(reply, vstring_str(buf), len);
        if (smtp_reply_parse_line(vstring_str(buf), len, &code, &last, &text) < 0 || code < 200 ||
            code > 599) {
            if (nread > SMTP_REPLY_LINES_MAX)
                smtp_reply_add_text(reply, vstring_str(buf), len);
            rc = SMTP_REPLY_BAD;
            goto done;
        }
        if (first_code == 0)
            first_code = code;
        else if (code != first_code) {
            rc = SMTP_REPLY_BAD;
            goto done;
        }
        if (nread <= SMTP_REPLY_LINES_MAX)
            argv_addn(reply->lines, text, len - (size_t)(text - vstring_str(buf)));
    }
    reply->code = code;
    smtp_reply_set_dsn(reply);
    rc = code;

done:
    vstring_free(buf);
    return rc;
}

/* smtp_reply_keyword - match one EHLO keyword (case-insensitive, whole word) */

static int smtp_reply_keyword(const char *line, const char *word, const char **param)
{
    size_t n = strlen(word);

    if (strncasecmp(line, word, n) != 0 || (line[n] != 0 && line[n] != ' ' && line[n] != '='))
        return 0;
    *param = line + n;
    while (**param == ' ' || **param == '=')
        (*param)++;
    return 1;
}

int smtp_reply_ehlo(const SMTP_REPLY *reply, const ARGV *discard, unsigned long long *size)
{
    static const struct {
        const char *name;
        int bit;
    } features[] = {
        {"PIPELINING", SMTP_FEATURE_PIPELINING},
        {"SIZE", SMTP_FEATURE_SIZE},
        {"8BITMIME", SMTP_FEATURE_8BITMIME},
        {"SMTPUTF8", SMTP_FEATURE_SMTPUTF8},
        {"DSN", SMTP_FEATURE_DSN},
        {"STARTTLS", SMTP_FEATURE_STARTTLS},
        {"AUTH", SMTP_FEATURE_AUTH},
        {"ENHANCEDSTATUSCODES", SMTP_FEATURE_ENHANCEDSTATUSCODES},
        {"CHUNKING", SMTP_FEATURE_CHUNKING},
    };
    int bits = 0;
    const char *param;

    *size = 0;
    for (int i = 1; i < reply->lines->argc; i++) {
        const char *line = reply->lines->argv[i];

        for (size_t f = 0; f < sizeof(features) / sizeof(features[0]); f++) {
            int skip = 0;

            if (!smtp_reply_keyword(line, features[f].name, &param))
                continue;
            for (int d = 0; discard && d < discard->argc; d++)
                if (strcasecmp(discard->argv[d], features[f].name) == 0)
                    skip = 1;
            if (skip)
                break;
            bits |= features[f].bit;
            if (features[f].bit == SMTP_FEATURE_SIZE) {
                char *end;
                unsigned long long v;

                errno = 0;
                v = isdigit((unsigned char)*param) ? strtoull(param, &end, 10) : 0;
                if (v > 0 && errno == 0 && (*end == 0 || *end == ' '))
                    *size = v;
                else
                    *size = 0;
            }
            break;
        }
    }
    return bits;
}
