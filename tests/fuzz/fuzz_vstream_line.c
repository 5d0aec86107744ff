/*
 * NAME
 *	fuzz_vstream_line - libFuzzer harness for vstream_get_line()
 * SYNOPSIS
 *	build/fuzz/fuzz_vstream_line [libFuzzer options] [corpus...]
 * DESCRIPTION
 *	The first input byte says how many control bytes follow it (0..63);
 *	the rest is the payload. The payload reaches a VSTREAM through a
 *	vstream_set_io() read hook that hands it out in pieces whose sizes
 *	come from the control bytes; some control values make the hook
 *	fail once instead (EINTR, which the stream must retry; a temporary
 *	EOF; EIO). The payload is then read with vstream_get_line() under
 *	limits taken from the control bytes, mixed now and then with
 *	vstream_getc(), vstream_getc()+vstream_ungetc() and
 *	vstream_fread(). Besides memory errors, it aborts when:
 *	- a line is longer than its limit, or holds a '\n' anywhere but
 *	  as its last byte, or the return value does not match the line
 *	  (VSTREAM_EOF exactly when nothing was read, '\n' exactly when the
 *	  line ends in '\n', else its last byte, and then only because the
 *	  limit was reached or the stream hit EOF or an error);
 *	- the bytes consumed, in order, differ from the bytes the hook
 *	  handed out: nothing lost, repeated or reordered, including
 *	  across a temporary EOF or error cleared with vstream_clearerr();
 *	- vstream_bufferred() differs from what was handed out minus what
 *	  was consumed;
 *	- the hook is called while the EOF or error flag is set, asked for
 *	  more than VSTREAM_BUFSIZE bytes, or the flags disagree with what
 *	  the hook reported;
 *	- at the end, everything read differs from the payload.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "vstream.h"
#include "vstring.h"

#define FUZZ_CTL_MAX 63
#define FUZZ_OPS_MAX 20000 /* a bound on the loop; far above any real run */

/* control byte values that make the hook fail once instead of reading */
#define CTL_EINTR 0
#define CTL_EOF 255
#define CTL_EIO 254

typedef struct SOURCE {
    const uint8_t *ctl;  /* control bytes */
    size_t nctl;
    size_t ctl_pos;      /* next control byte for the hook */
    const uint8_t *data; /* payload */
    size_t len;
    size_t pos;          /* bytes handed out */
    int paused;          /* the hook reported EOF (1) or an error (2): flag must be set */
    int failed;          /* the last call failed: the next one reads */
    int eintr_done;      /* the last EINTR was retried */
} SOURCE;

static ssize_t source_read(int fd, void *buf, size_t len, int timeout, void *context)
{
    SOURCE *src = context;
    size_t n;
    uint8_t c;

    (void)fd;
    (void)timeout;
    if (src->paused)
        abort(); /* called with the EOF/error flag still set */
    if (len == 0 || len > VSTREAM_BUFSIZE)
        abort();
    if (src->pos >= src->len) {
        src->paused = 1;
        return 0;
    }
    c = src->nctl ? src->ctl[src->ctl_pos++ % src->nctl] : 7;
    if (src->failed && (c == CTL_EOF || c == CTL_EIO))
        c = 1;
    if (c == CTL_EINTR && !src->eintr_done) {
        src->eintr_done = 1;
        errno = EINTR;
        return -1;
    }
    src->eintr_done = 0;
    if (c == CTL_EOF) {
        src->failed = 1;
        src->paused = 1;
        return 0;
    }
    if (c == CTL_EIO) {
        src->failed = 1;
        src->paused = 2;
        errno = EIO;
        return -1;
    }
    src->failed = 0;
    n = c == CTL_EINTR ? 1 : c;
    if (c >= 200) /* a few large reads */
        n = (size_t)(c - 199) * 150;
    if (n > len)
        n = len;
    if (n > src->len - src->pos)
        n = src->len - src->pos;
    memcpy(buf, src->data + src->pos, n);
    src->pos += n;
    return (ssize_t)n;
}

/* fuzz_limit - a line limit from a control byte: often tiny, sometimes over a buffer */

static size_t fuzz_limit(uint8_t c)
{
    switch (c & 3) {
    case 0:
        return 1 + (c >> 2) % 8;
    case 1:
        return 1 + (c >> 2);
    case 2:
        return 64 + (size_t)c * 16;
    default:
        return VSTREAM_BUFSIZE + (size_t)c * 8;
    }
}

static void check_line(const VSTRING *line, int ret, size_t limit, VSTREAM *fp)
{
    size_t len = vstring_len(line);
    const char *s = vstring_str(line);
    const char *nl = memchr(s, '\n', len);

    if (s[len] != 0)
        abort(); /* VSTRING promises a terminator */
    if (len > limit)
        abort();
    if ((ret == VSTREAM_EOF) != (len == 0))
        abort();
    if (ret == VSTREAM_EOF)
        return;
    if (ret == '\n') {
        if (nl != s + len - 1)
            abort();
        return;
    }
    if (nl != NULL || ret != (unsigned char)s[len - 1])
        abort();
    if (len != limit && !vstream_feof(fp) && !vstream_ferror(fp))
        abort(); /* a short line without a reason */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static VSTRING *line, *got;
    SOURCE src;
    VSTREAM *fp;
    size_t nctl;
    size_t op_pos = 0;
    int ret;

    if (line == NULL) {
        msg_set_logfile("/dev/null");
        line = vstring_alloc(100);
        got = vstring_alloc(1000);
    }
    if (size == 0)
        return 0;
    nctl = data[0] % (FUZZ_CTL_MAX + 1);
    if (nctl > size - 1)
        nctl = size - 1;
    memset(&src, 0, sizeof(src));
    src.ctl = data + 1;
    src.nctl = nctl;
    src.data = data + 1 + nctl;
    src.len = size - 1 - nctl;
    vstring_reset(got);

    fp = vstream_fdopen(-1, O_RDONLY);
    vstream_set_io(fp, source_read, NULL, &src);
    for (int ops = 0;; ops++) {
        uint8_t c = nctl ? data[1 + (op_pos++ * 7 + 3) % nctl] : 0x55;
        size_t limit = fuzz_limit(c);

        if (ops > FUZZ_OPS_MAX)
            abort(); /* no progress */
        if ((c & 0x1f) == 0x1d) {
            /* getc, then maybe push it back */
            int ch = vstream_getc(fp);

            if (ch != VSTREAM_EOF && (c & 0x20)) {
                if (vstream_ungetc(fp, ch) != ch)
                    abort(); /* always possible once after a read */
                if (vstream_bufferred(fp) != src.pos - vstring_len(got))
                    abort();
                ch = vstream_getc(fp);
                if (ch == VSTREAM_EOF)
                    abort();
            }
            ret = ch;
            if (ch != VSTREAM_EOF)
                vstring_addch(got, ch);
        } else if ((c & 0x1f) == 0x1e) {
            /* fread of up to limit bytes */
            char buf[256];
            size_t want = limit % sizeof(buf);
            ssize_t n = vstream_fread(fp, buf, want);

            if (n < 0 || (size_t)n > want)
                abort();
            if ((size_t)n < want && !vstream_feof(fp) && !vstream_ferror(fp))
                abort();
            vstring_memcat(got, buf, (size_t)n);
            ret = n > 0 || want == 0 ? 0 : VSTREAM_EOF;
            if (want == 0)
                continue;
        } else {
            ret = vstream_get_line(fp, line, limit);
            check_line(line, ret, limit, fp);
            vstring_memcat(got, vstring_str(line), vstring_len(line));
        }
        if (vstring_len(got) > src.pos || memcmp(vstring_str(got), src.data, vstring_len(got)))
            abort();
        if (vstream_bufferred(fp) != src.pos - vstring_len(got))
            abort();
        if ((src.paused == 1) != (vstream_feof(fp) != 0) ||
            (src.paused == 2) != (vstream_ferror(fp) != 0) || vstream_ftimeout(fp))
            abort();
        if (ret != VSTREAM_EOF && !src.paused)
            continue;
        if (!src.paused)
            abort(); /* EOF without the hook saying so */
        if (ret != VSTREAM_EOF && vstream_bufferred(fp) == 0) {
            /* sticky: nothing more until the flag is cleared */
            if (vstream_get_line(fp, line, 10) != VSTREAM_EOF || vstream_getc(fp) != VSTREAM_EOF)
                abort();
        }
        if (src.pos >= src.len && vstream_bufferred(fp) == 0 && ret == VSTREAM_EOF &&
            src.paused == 1)
            break; /* the real end */
        vstream_clearerr(fp);
        src.paused = 0;
    }
    if (vstring_len(got) != src.len || memcmp(vstring_str(got), src.data, src.len) != 0)
        abort();
    vstream_fdclose(fp);
    return 0;
}
