/*
 * NAME
 *	fuzz_smtp_reply - libFuzzer harness for the SMTP client's reply reader
 * SYNOPSIS
 *	build/fuzz/fuzz_smtp_reply [libFuzzer options] [corpus...]
 * DESCRIPTION
 *	The first input byte says how often the first line of the rest is
 *	repeated (1 + 5 * byte times, so that a reply can pass
 *	SMTP_REPLY_LINES_MAX and SMTP_REPLY_READ_MAX lines within a small
 *	input); the next two select the read pattern of the stream and the
 *	EHLO keywords to discard. The first line so repeated, then the
 *	rest, is what a server sends: it reaches a VSTREAM through a read
 *	hook in varying pieces, and smtp_reply_read() reads replies from it
 *	until EOF or a malformed reply; every reply is also run through
 *	smtp_reply_ehlo().
 *
 *	A reference reader, written here from the contract in
 *	smtp_reply.h, reads the same bytes, and the harness aborts when
 *	the two disagree: on the return value of each reply (code,
 *	SMTP_REPLY_EOF or SMTP_REPLY_BAD); for an accepted reply on the
 *	kept lines (at most SMTP_REPLY_LINES_MAX, each at most
 *	SMTP_REPLY_LINE_MAX bytes, the text after "NNN-" as received), on
 *	the log text (each line with its code, control characters made
 *	spaces, joined by single spaces), on dsn and has_dsn (the status of
 *	the first line when its class digit matches the code, else
 *	"X.0.0"); and on the feature bits and SIZE value of
 *	smtp_reply_ehlo(). smtp_reply_parse_line() is compared with the
 *	reference on every input line, smtp_dsn_valid() at every word
 *	start.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtp_reply.h"
#include "vstream.h"
#include "vstring.h"

#define FUZZ_STREAM_MAX (64 * 1024)

/* ---- the server's bytes, through a read hook ---- */

typedef struct MEM {
    const char *data;
    size_t len;
    size_t pos;
    unsigned step;
} MEM;

static ssize_t mem_read(int fd, void *buf, size_t len, int timeout, void *context)
{
    MEM *mem = context;
    size_t n = mem->len - mem->pos;
    size_t piece = (mem->step & 1) ? 1 + mem->step % 61 : 1 + mem->step % 3000;

    (void)fd;
    (void)timeout;
    if (n > len)
        n = len;
    if (n > piece)
        n = piece;
    mem->step = mem->step * 1103515245u + 12345u;
    memcpy(buf, mem->data + mem->pos, n);
    mem->pos += n;
    return (ssize_t)n;
}

/* ---- the reference ---- */

static size_t ref_dsn_valid(const char *s, size_t len)
{
    size_t i, d1, d2;

    if (len < 2 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
        return 0;
    for (i = 2, d1 = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        d1++;
    if (d1 < 1 || d1 > 3 || i >= len || s[i] != '.')
        return 0;
    for (i++, d2 = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        d2++;
    if (d2 < 1 || d2 > 3)
        return 0;
    if (i < len && s[i] != ' ' && s[i] != '\t')
        return 0;
    return i;
}

/* ref_parse_line - -1, or the code with *last and *text_off set */

static int ref_parse_line(const char *s, size_t len, int *last, size_t *text_off)
{
    for (int i = 0; i < 3; i++)
        if (len <= (size_t)i || s[i] < '0' || s[i] > '9')
            return -1;
    if (len > 3 && s[3] != ' ' && s[3] != '-')
        return -1;
    *last = len == 3 || s[3] == ' ';
    *text_off = len > 3 ? 4 : 3;
    return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

typedef struct REF_REPLY {
    int rc;
    VSTRING *text;
    ARGV *lines;
} REF_REPLY;

/* ref_read - one reply from s at *pos, as smtp_reply.h describes it */

static void ref_read(const char *s, size_t len, size_t *pos, REF_REPLY *ref)
{
    int first = 0, nread = 0, last = 0;

    vstring_reset(ref->text);
    argv_truncate(ref->lines, 0);
    while (!last) {
        const char *line = s + *pos;
        const char *nl = *pos < len ? memchr(line, '\n', len - *pos) : NULL;
        size_t n, off;
        int code;

        if (nl == NULL) {
            ref->rc = SMTP_REPLY_EOF; /* no complete line */
            *pos = len;
            return;
        }
        n = (size_t)(nl - line);
        *pos += n + 1;
        if (n > SMTP_REPLY_LINE_MAX + 2)
            n = SMTP_REPLY_LINE_MAX + 2;
        while (n > 0 && line[n - 1] == '\r')
            n--;
        if (n > SMTP_REPLY_LINE_MAX)
            n = SMTP_REPLY_LINE_MAX;
        if (++nread > SMTP_REPLY_READ_MAX) {
            ref->rc = SMTP_REPLY_BAD;
            return;
        }
        code = ref_parse_line(line, n, &last, &off);
        if (code < 200 || code > 599 || (first && code != first)) {
            ref->rc = SMTP_REPLY_BAD;
            return;
        }
        first = code;
        if (nread > SMTP_REPLY_LINES_MAX)
            continue;
        if (nread > 1)
            vstring_addch(ref->text, ' ');
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)line[i];

            vstring_addch(ref->text, ch < 0x20 || ch == 0x7f ? ' ' : ch);
        }
        argv_addn(ref->lines, line + off, n - off);
    }
    ref->rc = first;
}

static const char *features[] = {"PIPELINING", "SIZE",     "8BITMIME",
                                 "SMTPUTF8",   "DSN",      "STARTTLS",
                                 "AUTH",       "ENHANCEDSTATUSCODES", "CHUNKING"};

#define NFEATURES (int)(sizeof(features) / sizeof(features[0]))

/* ref_size - the SIZE parameter: a decimal number that fits, else 0 */

static unsigned long long ref_size(const char *p)
{
    unsigned long long v = 0;

    while (*p == ' ' || *p == '=')
        p++;
    if (!isdigit((unsigned char)*p))
        return 0;
    for (; isdigit((unsigned char)*p); p++) {
        if (v > (~0ULL - (unsigned)(*p - '0')) / 10)
            return 0;
        v = v * 10 + (unsigned)(*p - '0');
    }
    return *p == 0 || *p == ' ' ? v : 0;
}

static int ref_ehlo(const ARGV *lines, const ARGV *discard, unsigned long long *size)
{
    int bits = 0;

    *size = 0;
    for (int i = 1; i < lines->argc; i++) {
        const char *line = lines->argv[i];

        for (int f = 0; f < NFEATURES; f++) {
            size_t n = strlen(features[f]);
            int skip = 0;

            if (strncasecmp(line, features[f], n) != 0 ||
                (line[n] != 0 && line[n] != ' ' && line[n] != '='))
                continue;
            for (int d = 0; d < discard->argc; d++)
                if (strcasecmp(discard->argv[d], features[f]) == 0)
                    skip = 1;
            if (!skip) {
                bits |= 1 << f;
                if (f == 1)
                    *size = ref_size(line + n);
            }
            break;
        }
    }
    return bits;
}

/* ---- checks ---- */

static void check_reply(const SMTP_REPLY *reply, const REF_REPLY *ref, const ARGV *discard)
{
    unsigned long long size, ref_sz;
    const char *first;
    size_t n;

    if (reply->code != ref->rc || reply->code < 200 || reply->code > 599)
        abort();
    if (reply->lines->argc != ref->lines->argc || reply->lines->argc < 1 ||
        reply->lines->argc > SMTP_REPLY_LINES_MAX)
        abort();
    for (int i = 0; i < reply->lines->argc; i++)
        if (strlen(reply->lines->argv[i]) > SMTP_REPLY_LINE_MAX ||
            strcmp(reply->lines->argv[i], ref->lines->argv[i]) != 0)
            abort();
    if (vstring_len(reply->text) != vstring_len(ref->text) ||
        memcmp(vstring_str(reply->text), vstring_str(ref->text), vstring_len(ref->text)) != 0)
        abort();

    /* the status */
    first = ref->lines->argv[0];
    n = ref_dsn_valid(first, strlen(first));
    if (strnlen(reply->dsn, SMTP_DSN_MAX) >= SMTP_DSN_MAX)
        abort();
    if (n > 0 && first[0] == '0' + reply->code / 100) {
        if (!reply->has_dsn || strlen(reply->dsn) != n || memcmp(reply->dsn, first, n) != 0)
            abort();
    } else {
        if (reply->has_dsn || reply->dsn[0] != '0' + reply->code / 100 ||
            strcmp(reply->dsn + 1, ".0.0") != 0)
            abort();
    }
    if (reply->code / 100 != 3 && smtp_dsn_valid(reply->dsn, strlen(reply->dsn)) != strlen(reply->dsn))
        abort(); /* 3xx gives "3.0.0", not an RFC 3463 class */

    /* EHLO keywords */
    if (smtp_reply_ehlo(reply, discard, &size) != ref_ehlo(ref->lines, discard, &ref_sz) ||
        size != ref_sz)
        abort();
    if (smtp_reply_ehlo(reply, NULL, &size) != ref_ehlo(ref->lines, &(ARGV){0, 0, NULL}, &ref_sz) ||
        size != ref_sz)
        abort();
}

static void check_pure(const char *s, size_t len)
{
    int code, last, rlast;
    const char *text;
    size_t off;

    /* smtp_reply_parse_line on every line, smtp_dsn_valid at every position */
    for (size_t start = 0; start < len;) {
        const char *nl = memchr(s + start, '\n', len - start);
        size_t n = nl ? (size_t)(nl - s - start) : len - start;
        int rc = smtp_reply_parse_line(s + start, n, &code, &last, &text);
        int ref = ref_parse_line(s + start, n, &rlast, &off);

        if ((rc == 0) != (ref >= 0))
            abort();
        if (rc == 0 && (code != ref || last != rlast || text != s + start + off))
            abort();
        start += n + 1;
    }
    for (size_t i = 0; i < len; i++) {
        size_t max = len - i < 12 ? len - i : 12;

        if (i > 0 && s[i - 1] != ' ' && s[i - 1] != '-' && s[i - 1] != '\n')
            continue;
        for (size_t n = 0; n <= max; n++)
            if (smtp_dsn_valid(s + i, n) != ref_dsn_valid(s + i, n))
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static VSTRING *stream;
    static REF_REPLY ref;
    SMTP_REPLY *reply;
    ARGV *discard;
    MEM mem;
    VSTREAM *fp;
    size_t pos = 0;
    size_t first_len;
    const uint8_t *nl;
    int repeat, sel;

    if (stream == NULL) {
        msg_set_logfile("/dev/null");
        stream = vstring_alloc(1000);
        ref.text = vstring_alloc(1000);
        ref.lines = argv_alloc(10);
    }
    if (size < 3)
        return 0;
    repeat = 1 + 5 * data[0];
    sel = data[1] | data[2] << 8;
    data += 3;
    size -= 3;
    check_pure((const char *)data, size);

    /* the first line, repeated, then the rest */
    nl = memchr(data, '\n', size);
    first_len = nl ? (size_t)(nl - data) + 1 : size;
    vstring_reset(stream);
    for (int i = 0; i < repeat && vstring_len(stream) + first_len <= FUZZ_STREAM_MAX; i++)
        vstring_memcat(stream, data, first_len);
    vstring_memcat(stream, data + first_len, size - first_len);

    discard = argv_alloc(4);
    for (int f = 0; f < NFEATURES; f++)
        if (sel & (1 << (f + 1))) {
            char *word = mystrdup(features[f]);

            if (sel & 1) /* any case */
                for (char *cp = word; *cp; cp++)
                    *cp = (char)tolower((unsigned char)*cp);
            argv_add(discard, word);
            myfree(word);
        }

    mem.data = vstring_str(stream);
    mem.len = vstring_len(stream);
    mem.pos = 0;
    mem.step = (unsigned)sel;
    fp = vstream_fdopen(-1, O_RDONLY);
    vstream_set_io(fp, mem_read, NULL, &mem);
    reply = smtp_reply_alloc();
    for (;;) {
        int rc = smtp_reply_read(fp, reply);

        ref_read(vstring_str(stream), vstring_len(stream), &pos, &ref);
        if (rc != ref.rc || vstream_ftimeout(fp))
            abort();
        if (rc < 0)
            break;
        check_reply(reply, &ref, discard);
    }
    smtp_reply_free(reply);
    vstream_fdclose(fp);
    argv_free(discard);
    return 0;
}
