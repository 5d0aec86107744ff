/*
 * NAME
 *	smtpd_text - read DATA and BDAT message content as lines
 * SYNOPSIS
 *	#include "smtpd_text.h"
 *
 *	SMTPD_TEXT *smtpd_text_create(int lf_mode, size_t line_limit,
 *			SMTPD_TEXT_FN fn, void *context)
 *	void smtpd_text_free(SMTPD_TEXT *text)
 *	void smtpd_text_reset(SMTPD_TEXT *text)
 *	int smtpd_text_data(SMTPD_TEXT *text, VSTREAM *client, int prev_crlf)
 *	int smtpd_text_bdat(SMTPD_TEXT *text, VSTREAM *client, off_t size,
 *			int last)
 *	int smtpd_text_skip(VSTREAM *client, off_t size)
 * DESCRIPTION
 *	smtpd_text_data() reads the content that follows DATA one line at
 *	a time with vstream_get_line(), so that it never consumes a byte
 *	past the end-of-data line. smtpd_text_bdat() reads a chunk in
 *	blocks and cuts it into lines, keeping an unfinished line for the
 *	next chunk. Both decide line ends the same way: LF ends a line, a
 *	CR before it is part of the line end, and what a bare LF does
 *	depends on the mode. smtpd_text.h states the rules in full; they
 *	are what keeps SMTP smuggling out: the end of a message is only
 *	ever <CR><LF>.<CR><LF> (unless the administrator chose
 *	SMTPD_TEXT_LF_ALLOW).
 * DIAGNOSTICS
 *	Results only; nothing is logged. A bad mode or limit is a
 *	programming error (msg_panic).
 */
#include <string.h>

#include "msg.h"
#include "mymalloc.h"
#include "rec.h"
#include "smtpd_text.h"
#include "vstream.h"
#include "vstring.h"

#define SMTPD_TEXT_BLOCK 8192

struct SMTPD_TEXT {
    int lf_mode;
    size_t line_limit;
    SMTPD_TEXT_FN fn;
    void *context;
    VSTRING *line;      /* DATA: the piece just read; BDAT: unfinished line */
};

SMTPD_TEXT *smtpd_text_create(int lf_mode, size_t line_limit, SMTPD_TEXT_FN fn, void *context)
{
    SMTPD_TEXT *text;

    if (lf_mode < SMTPD_TEXT_LF_REJECT || lf_mode > SMTPD_TEXT_LF_ALLOW)
        msg_panic("smtpd_text_create: bad lf_mode %d", lf_mode);
    if (line_limit < SMTPD_TEXT_LIMIT_MIN || fn == NULL)
        msg_panic("smtpd_text_create: bad line limit or output function");
    text = mymalloc(sizeof(*text));
    text->lf_mode = lf_mode;
    text->line_limit = line_limit;
    text->fn = fn;
    text->context = context;
    text->line = vstring_alloc(line_limit + 2);
    return text;
}

void smtpd_text_free(SMTPD_TEXT *text)
{
    vstring_free(text->line);
    myfree(text);
}

void smtpd_text_reset(SMTPD_TEXT *text)
{
    vstring_reset(text->line);
}

static int smtpd_text_status(VSTREAM *client)
{
    return vstream_ftimeout(client) ? SMTPD_TEXT_TIMEOUT : SMTPD_TEXT_EOF;
}

/* ---- DATA ---- */

int smtpd_text_data(SMTPD_TEXT *text, VSTREAM *client, int prev_crlf)
{
    VSTRING *line = text->line;
    int first_piece = 1;

    for (;;) {
        int ch = vstream_get_line(client, line, text->line_limit);
        char *data = vstring_str(line);
        size_t len = vstring_len(line);

        if (ch == VSTREAM_EOF)
            return smtpd_text_status(client);
        if (ch != '\n') {
            /* a piece of a long line, or EOF/error in mid-line */
            if (vstream_feof(client) || vstream_ferror(client))
                return smtpd_text_status(client);
            if (data[len - 1] == '\r' && len > 1) {
                vstream_ungetc(client, '\r');
                len--;
            }
            if (first_piece && data[0] == '.') {
                data++;
                len--;
            }
            text->fn(REC_TYPE_CONT, data, len, text->context);
            first_piece = 0;
            continue;
        }
        /* a whole line, or the last piece of one */
        int crlf = len >= 2 && data[len - 2] == '\r';

        len -= crlf ? 2 : 1;
        if (!crlf && text->lf_mode == SMTPD_TEXT_LF_REJECT) {
            vstring_reset(line);
            return SMTPD_TEXT_BARE_LF;
        }
        if (first_piece && len == 1 && data[0] == '.'
            && ((crlf && prev_crlf) || text->lf_mode == SMTPD_TEXT_LF_ALLOW)) {
            vstring_reset(line);
            return SMTPD_TEXT_END;
        }
        if (first_piece && len > 0 && data[0] == '.') {
            data++;
            len--;
        }
        text->fn(REC_TYPE_NORM, data, len, text->context);
        prev_crlf = crlf;
        first_piece = 1;
    }
}

/* ---- BDAT ---- */

/* smtpd_text_spill - pass on CONT pieces while the held line is too long */

static void smtpd_text_spill(SMTPD_TEXT *text)
{
    VSTRING *line = text->line;
    size_t off = 0;
    size_t len = vstring_len(line);

    while (len - off > text->line_limit) {
        size_t n = text->line_limit;

        if (vstring_str(line)[off + n - 1] == '\r')
            n--;
        text->fn(REC_TYPE_CONT, vstring_str(line) + off, n, text->context);
        off += n;
    }
    if (off > 0) {
        memmove(vstring_str(line), vstring_str(line) + off, len - off);
        vstring_truncate(line, len - off);
    }
}

/* smtpd_text_block - cut a block of chunk data into lines */

static int smtpd_text_block(SMTPD_TEXT *text, const char *buf, size_t len)
{
    VSTRING *line = text->line;
    const char *cp = buf;
    const char *end = buf + len;

    while (cp < end) {
        const char *nl = memchr(cp, '\n', (size_t) (end - cp));

        if (nl == NULL) {
            vstring_memcat(line, cp, (size_t) (end - cp));
            smtpd_text_spill(text);
            return SMTPD_TEXT_END;
        }
        vstring_memcat(line, cp, (size_t) (nl - cp));
        cp = nl + 1;
        size_t llen = vstring_len(line);
        int crlf = llen > 0 && vstring_str(line)[llen - 1] == '\r';

        if (!crlf && text->lf_mode == SMTPD_TEXT_LF_REJECT) {
            vstring_reset(line);
            return SMTPD_TEXT_BARE_LF;
        }
        if (crlf)
            vstring_truncate(line, --llen);
        /* the line may have grown past the limit in this block */
        if (llen > text->line_limit)
            smtpd_text_spill(text);
        text->fn(REC_TYPE_NORM, vstring_str(line), vstring_len(line), text->context);
        vstring_reset(line);
    }
    return SMTPD_TEXT_END;
}

int smtpd_text_bdat(SMTPD_TEXT *text, VSTREAM *client, off_t size, int last)
{
    char buf[SMTPD_TEXT_BLOCK];

    while (size > 0) {
        size_t want = size > (off_t) sizeof(buf) ? sizeof(buf) : (size_t) size;
        ssize_t got = vstream_fread(client, buf, want);

        if (got < (ssize_t) want)
            return smtpd_text_status(client);
        size -= (off_t) got;
        int status = smtpd_text_block(text, buf, (size_t) got);

        if (status != SMTPD_TEXT_END)
            return status;
    }
    if (last && vstring_len(text->line) > 0) {
        text->fn(REC_TYPE_NORM, vstring_str(text->line), vstring_len(text->line), text->context);
        vstring_reset(text->line);
    }
    return SMTPD_TEXT_END;
}

int smtpd_text_skip(VSTREAM *client, off_t size)
{
    char buf[SMTPD_TEXT_BLOCK];

    while (size > 0) {
        size_t want = size > (off_t) sizeof(buf) ? sizeof(buf) : (size_t) size;

        if (vstream_fread(client, buf, want) < (ssize_t) want)
            return smtpd_text_status(client);
        size -= (off_t) want;
    }
    return SMTPD_TEXT_END;
}
