/*
 * NAME
 *	fuzz_bounce_notice - libFuzzer harness for the DSN builder
 * SYNOPSIS
 *	build/fuzz/fuzz_bounce_notice [libFuzzer options] [corpus...]
 * DESCRIPTION
 *	The first three input bytes select the kind of notice, SMTPUTF8,
 *	"expired", no content or a raw content file, the size limit, the
 *	size of content record pieces, the number of notes and of rounds;
 *	then come NUL-separated strings (the notice's recipient, sender,
 *	ENVID, notice and queue IDs, then per note its recipient, original
 *	recipient, ORCPT, status, reason and relay) and the message text
 *	(lines at '\n', written as NORM/CONT records after a MESG record in
 *	a memory file), or raw bytes for that file. bounce_notice_write()
 *	writes the notice to a second memory file, which is read back.
 *
 *	Rounds: each round adds to the message one line "--B" for the MIME
 *	boundary B of every earlier round, and a byte 0x01 in any string or
 *	line from the input stands for "--" and the boundary of the round
 *	before; so a notice must find a boundary that nothing in the
 *	message, nor any text an outsider controls, starts a line with (up
 *	to 22 rounds: past the number of boundaries the writer tries, so it
 *	must give up returning the message).
 *
 *	The harness aborts when the notice: holds a record that is not
 *	NORM or CONT (CONT only inside the returned message), has a
 *	generated line over 998 bytes or (without SMTPUTF8) a byte outside
 *	printable ASCII and tab, or a control character; has a header block
 *	line that is neither "Name: value" nor a continuation; declares no
 *	boundary, or one that is empty, over 70 bytes or not made of RFC
 *	2046 characters; has any line other than its 2 or 3 delimiters and
 *	its final "--B--" that starts with "--B"; returns a message that is
 *	not an exact copy of the first records of the content (all of them
 *	for message/rfc822 or message/global, then no larger than the size
 *	limit; a header block without its empty line for the headers-only
 *	types); returns 8-bit content without a Content-Transfer-Encoding:
 *	8bit header; does not have one Final-Recipient, Action and Status
 *	field per note, with Action "delayed" and a 4.X.X status for delay
 *	notices, "failed" and 4.X.X or 5.X.X otherwise (as in Postfix, a
 *	message that expired keeps the status of its last attempt). bounce_notice_diagnostic()
 *	is checked on every note: "dns; " plus a prefix of the relay, or
 *	empty; "smtp; " or "X-Postern; " plus part of the reason.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bounce_notice.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"
#include "vstream.h"
#include "vstring.h"

#define NOTES_MAX 4
#define ROUNDS_MAX 22
#define MARKER 0x01
#define INFO_STRINGS 5 /* recipient sender envid notice_id queue_id */
#define NOTE_STRINGS 6 /* recipient orig orcpt status reason relay */
#define RECS_MAX 20000

static int content_fd = -1, out_fd = -1;

/* ---- the input ---- */

typedef struct INPUT {
    int kind, smtputf8, expired, no_content, raw_content, rounds, notes;
    long size_limit;
    size_t piece;
    const char *hostname, *mail_name, *dsn_ret;
    time_t now, arrival, retry_until;
    const char *info[INFO_STRINGS];
    size_t info_len[INFO_STRINGS];
    const char *note[NOTES_MAX][NOTE_STRINGS];
    size_t note_len[NOTES_MAX][NOTE_STRINGS];
    time_t note_time[NOTES_MAX];
    const char *text;
    size_t text_len;
} INPUT;

static const char *next_string(const uint8_t **data, size_t *size, size_t *len)
{
    const char *s = (const char *)*data;
    const uint8_t *nul = memchr(*data, 0, *size);
    size_t n = nul ? (size_t)(nul - *data) : *size;

    *len = n;
    *data += nul ? n + 1 : n;
    *size -= nul ? n + 1 : n;
    return s;
}

static int parse_input(const uint8_t *data, size_t size, INPUT *in)
{
    static const long limits[] = {1, 50, 200, 1000, 50000, 10000000, 10000000, 10000000};
    static const size_t pieces[] = {7, 100, 1000, 4096};
    static const char *hosts[] = {"mx.example.com", "mail.example.org",
                                  "a-rather-long-host-name-that-makes-the-boundary-too-long."
                                  "subdomain.example.com"};
    static const char *rets[] = {"", "FULL", "HDRS", "hdrs"};

    if (size < 3)
        return -1;
    in->kind = 1 + (data[0] & 7) % 5;
    in->smtputf8 = (data[0] >> 3) & 1;
    in->expired = (data[0] >> 4) & 1;
    in->no_content = ((data[0] >> 5) & 3) == 3;
    in->raw_content = ((data[0] >> 5) & 3) == 2;
    in->rounds = (data[0] & data[2] & 0x80) ? ROUNDS_MAX : 1 + (data[2] & 3) % 3;
    in->size_limit = limits[data[1] & 7];
    in->piece = pieces[(data[1] >> 3) & 3];
    in->hostname = hosts[(data[1] >> 5) % 3];
    in->mail_name = data[1] & 0x80 ? "Postern" : "postern";
    in->dsn_ret = rets[(data[2] >> 2) & 3];
    in->notes = (data[2] >> 4) % (NOTES_MAX + 1);
    in->now = 1700000000 + (time_t)data[1] * 977;
    in->arrival = in->now - (time_t)data[2] * 3599;
    in->retry_until = data[2] & 0x40 ? 0 : in->now + 86400 * 5;
    data += 3;
    size -= 3;
    for (int i = 0; i < INFO_STRINGS; i++)
        in->info[i] = next_string(&data, &size, &in->info_len[i]);
    for (int n = 0; n < in->notes; n++) {
        for (int i = 0; i < NOTE_STRINGS; i++)
            in->note[n][i] = next_string(&data, &size, &in->note_len[n][i]);
        in->note_time[n] = n == 1 ? 0 : in->now - n * 60;
    }
    in->text = (const char *)data;
    in->text_len = size;
    return 0;
}

/* expand - copy s with each MARKER made "--" and the previous boundary */

static char *expand(const char *s, size_t len, const char *prev)
{
    VSTRING *out = vstring_alloc(len + 10);

    for (size_t i = 0; i < len; i++) {
        if (s[i] == MARKER) {
            vstring_strcat(out, "--");
            vstring_strcat(out, prev);
        } else {
            vstring_addch(out, s[i]);
        }
    }
    return vstring_export(out);
}

/* ---- records in memory files ---- */

typedef struct RECS {
    int count;
    int type[RECS_MAX];
    VSTRING *data[RECS_MAX];
} RECS;

static void recs_add(RECS *r, int type, const char *data, size_t len)
{
    if (r->count >= RECS_MAX)
        abort();
    if (r->data[r->count] == NULL)
        r->data[r->count] = vstring_alloc(100);
    r->type[r->count] = type;
    vstring_memcpy(r->data[r->count], data, len);
    r->count++;
}

/* recs_read - every record from offset, until stop (or EOF/error) */

static void recs_read(VSTREAM *fp, off_t offset, int stop, RECS *r)
{
    static VSTRING *buf;
    int type;

    if (buf == NULL)
        buf = vstring_alloc(1000);
    r->count = 0;
    if (vstream_fseek(fp, offset, SEEK_SET) != offset)
        abort();
    while ((type = rec_get(fp, buf, 0)) != REC_TYPE_EOF && type != REC_TYPE_ERROR &&
           type != stop && r->count < RECS_MAX)
        recs_add(r, type, vstring_str(buf), vstring_len(buf));
}

/* write_content - the message file; returns the offset of the first content record */

static off_t write_content(const INPUT *in, char **lines, int nlines, const char *raw, size_t rlen)
{
    VSTREAM *fp;
    off_t offset;

    if (ftruncate(content_fd, 0) < 0 || lseek(content_fd, 0, SEEK_SET) != 0)
        abort();
    fp = vstream_fdopen(content_fd, O_RDWR);
    rec_fprintf(fp, REC_TYPE_SIZE, "%zu 0 1", rlen);
    rec_fprintf(fp, REC_TYPE_TIME, "%ld.0", (long)in->arrival);
    rec_put(fp, REC_TYPE_MESG, "", 0);
    if (vstream_fflush(fp) != 0)
        abort();
    offset = vstream_ftell(fp);
    if (in->raw_content) {
        if (vstream_fwrite(fp, raw, rlen) != 0)
            abort();
    } else {
        for (int i = 0; i < nlines; i++)
            rec_put_line(fp, lines[i], strlen(lines[i]), in->piece);
        rec_put(fp, REC_TYPE_XTRA, "", 0);
        rec_put(fp, REC_TYPE_END, "", 0);
    }
    if (vstream_fdclose(fp) != 0)
        abort();
    return offset;
}

/* ---- checks ---- */

static int starts(const char *line, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && memcmp(line, prefix, n) == 0;
}

static void check_generated(const char *line, size_t len, int utf8)
{
    if (len > 998)
        abort();
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)line[i];

        if ((ch < 0x20 && ch != '\t') || ch == 0x7f || (ch >= 0x80 && !utf8))
            abort();
    }
}

static void check_diagnostic(const DELIVER_NOTE *note)
{
    static VSTRING *mta, *diag;
    const char *d;

    if (mta == NULL) {
        mta = vstring_alloc(100);
        diag = vstring_alloc(100);
    }
    bounce_notice_diagnostic(note, mta, diag);
    if (vstring_len(mta) > 0 &&
        (!starts(vstring_str(mta), vstring_len(mta), "dns; ") ||
         strncmp(vstring_str(mta) + 5, note->relay, vstring_len(mta) - 5) != 0))
        abort();
    d = vstring_str(diag);
    if (starts(d, vstring_len(diag), "smtp; ")) {
        if (strstr(note->reason, d + 6) == NULL)
            abort();
    } else if (starts(d, vstring_len(diag), "X-Postern; ")) {
        if (strcmp(d + 11, note->reason) != 0)
            abort();
    } else {
        abort();
    }
}

typedef struct OUTCOME {
    char boundary[80];
    int returned;
} OUTCOME;

/*
 * check_notice - the notice in out against the content records; the
 * boundary found goes to *outcome
 */
static void check_notice(const INPUT *in, RECS *out, RECS *content, int content_ok,
                         OUTCOME *outcome)
{
    static VSTRING *line;
    const char *b = NULL;
    size_t blen = 0;
    int delims = 0, in_headers = 1, part = 0, part_headers = 0, body_start = -1, body_end = -1;
    int cte_8bit = 0, whole = -1, finals = 0, actions = 0, statuses = 0;
    int cont = 0, final = 0;
    int delay = in->kind == BOUNCE_NOTICE_DELAYED || in->kind == BOUNCE_NOTICE_DELAYED_COPY;

    if (line == NULL)
        line = vstring_alloc(1000);
    vstring_reset(line);
    for (int i = 0; i < out->count; i++) {
        int type = out->type[i];
        int in_body = body_start >= 0 && body_end < 0;
        const char *s;
        size_t len;

        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT)
            abort();
        if (type == REC_TYPE_CONT && !in_body)
            abort();
        vstring_memcat(line, vstring_str(out->data[i]), vstring_len(out->data[i]));
        if (type == REC_TYPE_CONT) {
            cont = 1;
            continue;
        }
        s = vstring_str(line);
        len = vstring_len(line);
        cont = 0;

        /* delimiter lines end the returned message */
        if (b && starts(s, len, "--") && len >= blen + 2 && memcmp(s + 2, b, blen) == 0) {
            if (len == blen + 2) {
                if (in_body)
                    abort();
                delims++;
                part++;
                part_headers = 1;
            } else if (len == blen + 4 && memcmp(s + blen + 2, "--", 2) == 0 &&
                       i == out->count - 1) {
                final = 1;
                if (in_body)
                    body_end = i;
            } else {
                abort(); /* a line that only starts with the delimiter */
            }
            vstring_reset(line);
            continue;
        }
        if (in_body) {
            vstring_reset(line);
            continue; /* compared below */
        }
        check_generated(s, len, in->smtputf8);
        if (in_headers) {
            if (len == 0) {
                in_headers = 0;
                if (b == NULL)
                    abort();
            } else if (s[0] == ' ' || s[0] == '\t') {
                if (i == 0)
                    abort();
                if (starts(s, len, "\tboundary=\"")) {
                    const char *q = memchr(s + 11, '"', len - 11);

                    if (q == NULL || q != s + len - 1 || b != NULL)
                        abort();
                    blen = (size_t)(q - (s + 11));
                    if (blen == 0 || blen > 70 || blen >= sizeof(outcome->boundary))
                        abort();
                    memcpy(outcome->boundary, s + 11, blen);
                    outcome->boundary[blen] = 0;
                    b = outcome->boundary;
                    if (strspn(b, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789'()+_,-./:=?") != blen)
                        abort();
                }
            } else {
                const char *colon = memchr(s, ':', len);

                if (colon == NULL || colon == s)
                    abort();
                for (const char *cp = s; cp < colon; cp++)
                    if (*cp <= ' ' || *cp > '~')
                        abort();
                if (starts(s, len, "Content-Transfer-Encoding: 8bit"))
                    cte_8bit = 1;
            }
        } else if (part_headers) {
            if (len == 0) {
                part_headers = 0;
                if (part == 3)
                    body_start = i + 1;
            } else if (part == 3 && starts(s, len, "Content-Type: ")) {
                whole = strstr(s, "message/rfc822") != NULL || strcmp(s + 14, "message/global") == 0;
            }
        } else if (part == 2) {
            if (starts(s, len, "Final-Recipient: "))
                finals++;
            if (starts(s, len, "Action: ")) {
                actions++;
                if (strcmp(s + 8, delay ? "delayed" : "failed") != 0)
                    abort();
            }
            if (starts(s, len, "Status: ")) {
                statuses++;
                if ((s[8] != '4' && (delay || s[8] != '5')) || s[9] != '.')
                    abort(); /* a failure may keep the 4.X.X of its last attempt */
            }
        }
        vstring_reset(line);
    }
    if (cont || b == NULL || !final || finals != in->notes || actions != in->notes ||
        statuses != in->notes)
        abort();
    if (delims != 2 && delims != 3)
        abort();
    outcome->returned = delims == 3;
    if (!outcome->returned)
        return;
    if (!content_ok || body_start < 0 || body_end < 0 || whole < 0)
        abort();

    /* the returned message: the first records of the content, then one empty line */
    {
        int n = body_end - body_start - 1;
        size_t total = 0, all = 0;
        int eight = 0;

        if (n < 0 || n > content->count || out->type[body_end - 1] != REC_TYPE_NORM ||
            vstring_len(out->data[body_end - 1]) != 0)
            abort();
        for (int i = 0; i < n; i++) {
            const VSTRING *x = out->data[body_start + i], *y = content->data[i];

            if (out->type[body_start + i] != content->type[i] || vstring_len(x) != vstring_len(y) ||
                memcmp(vstring_str(x), vstring_str(y), vstring_len(x)) != 0)
                abort();
            if (content->type[i] == REC_TYPE_NORM && vstring_len(y) == 0 && !whole &&
                (i == 0 || content->type[i - 1] == REC_TYPE_NORM))
                abort(); /* headers only: never the empty line after them */
            total += vstring_len(y) + (content->type[i] == REC_TYPE_NORM);
            for (size_t k = 0; k < vstring_len(y); k++)
                eight |= (unsigned char)vstring_str(y)[k] >= 0x80;
        }
        if (n > 0 && out->type[body_start + n - 1] != REC_TYPE_NORM)
            abort(); /* cut inside a line */
        for (int i = 0; i < content->count; i++)
            all += vstring_len(content->data[i]) + (content->type[i] == REC_TYPE_NORM);
        if (whole && (n != content->count || all > (size_t)in->size_limit))
            abort();
        if (whole && in->kind != BOUNCE_NOTICE_FAILED && in->kind != BOUNCE_NOTICE_UNDELIVERABLE)
            abort();
        if (eight && !cte_8bit)
            abort();
    }
}

/* ---- one round ---- */

static void run_round(const INPUT *in, char boundaries[][80], int round, OUTCOME *outcome)
{
    static RECS content, out;
    const char *prev = round > 0 ? boundaries[round - 1] : "";
    char *info[INFO_STRINGS];
    char **lines;
    int nlines = 0, content_ok;
    DELIVER_NOTE *notes[NOTES_MAX];
    BOUNCE_NOTICE_INFO bi;
    VSTREAM *cfp = NULL, *ofp;
    off_t offset;
    size_t pos = 0;

    for (int i = 0; i < INFO_STRINGS; i++)
        info[i] = expand(in->info[i], in->info_len[i], prev);
    for (int n = 0; n < in->notes; n++) {
        notes[n] = deliver_note_alloc();
        char **f[NOTE_STRINGS] = {&notes[n]->recipient, &notes[n]->orig_recipient,
                                  &notes[n]->orcpt,     &notes[n]->status,
                                  &notes[n]->reason,    &notes[n]->relay};

        for (int i = 0; i < NOTE_STRINGS; i++) {
            myfree(*f[i]);
            *f[i] = expand(in->note[n][i], in->note_len[n][i], prev);
        }
        notes[n]->time = in->note_time[n];
        check_diagnostic(notes[n]);
    }

    /* the message: its lines, then one "--B" line per earlier boundary */
    lines = mymalloc(sizeof(char *) * (in->text_len + ROUNDS_MAX + 1));
    while (pos < in->text_len) {
        const char *nl = memchr(in->text + pos, '\n', in->text_len - pos);
        size_t n = nl ? (size_t)(nl - (in->text + pos)) : in->text_len - pos;

        lines[nlines++] = expand(in->text + pos, n, prev);
        pos += n + 1;
    }
    for (int r = 0; r < round; r++) {
        VSTRING *l = vstring_alloc(80);

        vstring_sprintf(l, "--%s", boundaries[r]);
        lines[nlines++] = vstring_export(l);
    }
    offset = write_content(in, lines, nlines, in->text, in->text_len);
    if (!in->no_content)
        cfp = vstream_fdopen(content_fd, O_RDONLY);

    memset(&bi, 0, sizeof(bi));
    bi.kind = in->kind;
    bi.hostname = in->hostname;
    bi.mail_name = in->mail_name;
    bi.recipient = info[0];
    bi.sender = info[1];
    bi.dsn_envid = info[2];
    bi.notice_id = info[3];
    bi.queue_id = info[4];
    bi.dsn_ret = in->dsn_ret;
    bi.smtputf8 = in->smtputf8;
    bi.expired = in->expired;
    bi.arrival = in->arrival;
    bi.now = in->now;
    bi.retry_until = in->retry_until;
    bi.size_limit = in->size_limit;

    if (ftruncate(out_fd, 0) < 0 || lseek(out_fd, 0, SEEK_SET) != 0)
        abort();
    ofp = vstream_fdopen(out_fd, O_RDWR);
    if (bounce_notice_write(ofp, &bi, notes, in->notes, cfp, offset) != 0 || vstream_fflush(ofp))
        abort();
    recs_read(ofp, 0, REC_TYPE_EOF, &out);
    vstream_fdclose(ofp);

    /* the content as it can be read: records up to XTRA; unreadable when anything else */
    content_ok = 0;
    if (cfp) {
        static VSTRING *buf;
        int type = 0;

        if (buf == NULL)
            buf = vstring_alloc(100);
        recs_read(cfp, offset, REC_TYPE_XTRA, &content);
        if (vstream_fseek(cfp, offset, SEEK_SET) != offset)
            abort();
        for (int i = 0; i <= content.count; i++)
            type = rec_get(cfp, buf, BOUNCE_NOTICE_REC_MAX);
        content_ok = type == REC_TYPE_XTRA;
        for (int i = 0; i < content.count; i++)
            if (content.type[i] != REC_TYPE_NORM && content.type[i] != REC_TYPE_CONT)
                content_ok = 0;
        vstream_fdclose(cfp);
    }
    check_notice(in, &out, &content, content_ok, outcome);
    if (content_ok && !outcome->returned && round < 10)
        abort(); /* readable, and few boundaries to avoid: it must be returned */
    if (outcome->returned && !in->raw_content) /* (raw content has no "--B" lines) */
        for (int r = 0; r < round; r++)
            if (strncmp(outcome->boundary, boundaries[r], strlen(outcome->boundary)) == 0)
                abort(); /* an earlier boundary is in the message */

    for (int i = 0; i < nlines; i++)
        myfree(lines[i]);
    myfree(lines);
    for (int i = 0; i < INFO_STRINGS; i++)
        myfree(info[i]);
    for (int n = 0; n < in->notes; n++)
        deliver_note_free(notes[n]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char boundaries[ROUNDS_MAX][80];
    OUTCOME outcome;
    INPUT in;

    if (content_fd < 0) {
        msg_set_logfile("/dev/null");
        if ((content_fd = memfd_create("fuzz_bounce_content", 0)) < 0 ||
            (out_fd = memfd_create("fuzz_bounce_out", 0)) < 0)
            abort();
    }
    if (parse_input(data, size, &in) < 0)
        return 0;
    for (int round = 0; round < in.rounds; round++) {
        run_round(&in, boundaries, round, &outcome);
        strcpy(boundaries[round], outcome.boundary);
    }
    return 0;
}
