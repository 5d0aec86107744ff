/*
 * NAME
 *	mailbox_copy - write a queued message with final-delivery envelope lines
 * SYNOPSIS
 *	#include "mailbox_copy.h"
 *
 *	int mailbox_copy(VSTREAM *dst, void *src, VSTRING *why)
 *	int mailbox_header_find(VSTREAM *queue, off_t data_offset,
 *				const char *name, const char *value)
 *	MAILBOX_LIMIT *mailbox_limit_attach(VSTREAM *stream, off_t limit, off_t base)
 *	int mailbox_limit_errno(const MAILBOX_LIMIT *lim)
 *	off_t mailbox_limit_written(const MAILBOX_LIMIT *lim)
 *	void mailbox_limit_detach(VSTREAM *stream, MAILBOX_LIMIT *lim)
 *	const char *mailbox_dsn(int err, const char *def_dsn)
 *	int mailbox_status(const char *dsn)
 * DESCRIPTION
 *	mailbox_copy() reads the content records of a queue file (the MESG
 *	record at src->data_offset, then NORM and CONT records up to XTRA)
 *	and writes the message to dst, one "\n"-terminated line per NORM
 *	record, preceded by the envelope lines src->flags asks for: the
 *	mbox "From " line, Return-Path:, Delivered-To:, X-Original-To:, in
 *	that order. With MAILBOX_COPY_QUOTE a line that starts with "From "
 *	gets a ">" in front (only the first piece of a long line can start
 *	one, so pieces are never held back). With MAILBOX_COPY_BLANK an
 *	empty line follows the message. dst is flushed before the return.
 *	The sender goes into the From line and Return-Path: in its quoted
 *	external form; the null sender is MAILER-DAEMON in the From line
 *	and "<>" in Return-Path:.
 *
 *	Errors: a queue file that cannot be positioned or read, or records
 *	out of order, give MAILBOX_COPY_ERR_READ with "error reading
 *	message: ..." in why. A write error on dst (sticky in the stream)
 *	gives MAILBOX_COPY_ERR_WRITE with "error writing message" in why;
 *	the caller adds the errno it learned from its write hook.
 *
 *	mailbox_header_find() reads the header section of the message and
 *	reports whether a header field with the given name and value is
 *	present. Folded fields are unfolded; name and value compare without
 *	regard to case, the value without its surrounding white space. The
 *	scan stops at the first empty line, at the first line that is
 *	neither a field nor a continuation, and after MAILBOX_HDR_SCAN_MAX
 *	bytes of headers.
 *
 *	mailbox_limit_attach() and friends implement the per-file size
 *	limit and errno capture described in mailbox_copy.h. The hook
 *	writes with write(2) and never blocks for longer than the file
 *	system does.
 *
 *	mailbox_dsn() and mailbox_status() map write errors and status codes
 *	to outcomes, as described in mailbox_copy.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "mailbox_copy.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"

#define MAILBOX_HDR_SCAN_MAX (1024 * 1024) /* bytes of headers mailbox_header_find reads */
#define MAILBOX_MAILER_DAEMON "MAILER-DAEMON"

struct MAILBOX_LIMIT {
    off_t limit; /* 0 = none */
    off_t base;  /* file size before the first write */
    off_t written;
    int err; /* errno of the first failure, or 0 */
};

/* mailbox_limit_write - VSTREAM write hook: size limit and errno capture */
static ssize_t mailbox_limit_write(int fd, void *buf, size_t len, int timeout, void *context)
{
    MAILBOX_LIMIT *lim = context;
    ssize_t n;

    (void)timeout;
    if (lim->limit > 0 && (off_t)len > lim->limit - lim->base - lim->written) {
        errno = EFBIG;
        if (lim->err == 0)
            lim->err = errno;
        return -1;
    }
    do {
        n = write(fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (lim->err == 0)
            lim->err = errno;
        return -1;
    }
    lim->written += n;
    return n;
}

MAILBOX_LIMIT *mailbox_limit_attach(VSTREAM *stream, off_t limit, off_t base)
{
    MAILBOX_LIMIT *lim = mycalloc(1, sizeof(*lim));

    lim->limit = limit > 0 ? limit : 0;
    lim->base = base;
    vstream_set_io(stream, NULL, mailbox_limit_write, lim);
    return lim;
}

int mailbox_limit_errno(const MAILBOX_LIMIT *lim)
{
    return lim->err;
}

off_t mailbox_limit_written(const MAILBOX_LIMIT *lim)
{
    return lim->written;
}

void mailbox_limit_detach(VSTREAM *stream, MAILBOX_LIMIT *lim)
{
    vstream_set_io(stream, NULL, NULL, NULL);
    myfree(lim);
}

const char *mailbox_dsn(int err, const char *def_dsn)
{
    if (err == EDQUOT || err == EFBIG)
        return "5.2.2";
    if (err == ENOSPC)
        return "4.3.0";
    if (err == EAGAIN || err == ESTALE)
        return "4.2.0";
    return def_dsn;
}

int mailbox_status(const char *dsn)
{
    return dsn && dsn[0] == '5' ? MAILBOX_BOUNCE : MAILBOX_DEFER;
}

/* mailbox_read_error - describe a queue file problem */
static int mailbox_read_error(VSTRING *why, VSTREAM *queue, const char *what)
{
    vstring_sprintf(why, "error reading message: %s: %s", vstream_path(queue), what);
    return MAILBOX_COPY_ERR_READ;
}

/* mailbox_from_line - "From sender date" */
static void mailbox_from_line(VSTREAM *dst, const char *sender, time_t now, VSTRING *tmp)
{
    struct tm tm;
    char date[64];

    if (now == 0)
        now = time(NULL);
    localtime_r(&now, &tm);
    if (strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm) == 0)
        date[0] = 0;
    if (*sender == 0 || address_quote(tmp, sender) < 0)
        vstring_strcpy(tmp, MAILBOX_MAILER_DAEMON);
    vstream_fprintf(dst, "From %s %s\n", vstring_str(tmp), date);
}

/* mailbox_header_line - "Name: value" without control characters */
static void mailbox_header_line(VSTREAM *dst, const char *name, const char *value)
{
    vstream_fprintf(dst, "%s: ", name);
    for (const char *cp = value; *cp; cp++)
        vstream_putc(iscntrl((unsigned char)*cp) ? '?' : *cp, dst);
    vstream_putc('\n', dst);
}

int mailbox_copy(VSTREAM *dst, void *context, VSTRING *why)
{
    const MAILBOX_SRC *src = context;
    VSTRING *buf = vstring_alloc(256);
    int line_start = 1;
    int type;
    int status = MAILBOX_COPY_OK;

    if (vstream_fseek(src->queue, src->data_offset, SEEK_SET) < 0) {
        status = mailbox_read_error(why, src->queue, strerror(errno));
        goto done;
    }
    if ((type = rec_get(src->queue, buf, 0)) != REC_TYPE_MESG) {
        status = mailbox_read_error(why, src->queue, "no message content record");
        goto done;
    }
    if (src->flags & MAILBOX_COPY_FROM)
        mailbox_from_line(dst, src->sender, src->now, buf);
    if (src->flags & MAILBOX_COPY_RETURN) {
        if (*src->sender == 0 || address_quote(buf, src->sender) < 0)
            vstring_reset(buf);
        vstream_fprintf(dst, "Return-Path: <%s>\n", vstring_str(buf));
    }
    if ((src->flags & MAILBOX_COPY_DELIVERED) && src->delivered)
        mailbox_header_line(dst, "Delivered-To", src->delivered);
    if ((src->flags & MAILBOX_COPY_ORIG_RCPT) && src->orig_rcpt && *src->orig_rcpt)
        mailbox_header_line(dst, "X-Original-To", src->orig_rcpt);

    for (;;) {
        type = rec_get(src->queue, buf, 0);
        if (type == REC_TYPE_XTRA)
            break;
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT) {
            status = mailbox_read_error(why, src->queue,
                                        type == REC_TYPE_EOF     ? "premature end of file"
                                        : type == REC_TYPE_ERROR ? "malformed record"
                                                                 : "unexpected record type");
            goto done;
        }
        if (line_start && (src->flags & MAILBOX_COPY_QUOTE) && vstring_len(buf) >= 5 &&
            memcmp(vstring_str(buf), "From ", 5) == 0)
            vstream_putc('>', dst);
        vstream_fwrite(dst, vstring_str(buf), vstring_len(buf));
        if (type == REC_TYPE_NORM)
            vstream_putc('\n', dst);
        line_start = (type == REC_TYPE_NORM);
        if (vstream_ferror(dst))
            break;
    }
    if (!line_start)
        vstream_putc('\n', dst);
    if (src->flags & MAILBOX_COPY_BLANK)
        vstream_putc('\n', dst);
    if (vstream_fflush(dst) == VSTREAM_EOF || vstream_ferror(dst)) {
        vstring_strcpy(why, "error writing message");
        status = MAILBOX_COPY_ERR_WRITE;
    }
done:
    vstring_free(buf);
    return status;
}

/* mailbox_header_match - does the unfolded field "name: value" match? */
static int mailbox_header_match(VSTRING *field, const char *name, const char *value)
{
    const char *cp = vstring_str(field);
    const char *colon = strchr(cp, ':');
    const char *end;
    size_t nlen = strlen(name);
    size_t vlen = strlen(value);

    if (colon == NULL)
        return 0;
    end = colon;
    while (end > cp && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if ((size_t)(end - cp) != nlen || strncasecmp(cp, name, nlen) != 0)
        return 0;
    cp = colon + 1;
    while (*cp == ' ' || *cp == '\t')
        cp++;
    end = vstring_end(field);
    while (end > cp && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return (size_t)(end - cp) == vlen && strncasecmp(cp, value, vlen) == 0;
}

/* mailbox_field_name_ok - does a line start a header field ("name:")? */
static int mailbox_field_name_ok(const char *line, size_t len)
{
    size_t i;

    for (i = 0; i < len && line[i] != ':'; i++)
        if (line[i] <= ' ' || line[i] > '~')
            return 0;
    return i > 0 && i < len;
}

int mailbox_header_find(VSTREAM *queue, off_t data_offset, const char *name, const char *value)
{
    VSTRING *buf = vstring_alloc(256);
    VSTRING *field = vstring_alloc(256);
    size_t scanned = 0;
    int in_piece = 0; /* previous record was CONT: this one continues a line */
    int found = 0;
    int type;

    if (vstream_fseek(queue, data_offset, SEEK_SET) < 0 ||
        rec_get(queue, buf, 0) != REC_TYPE_MESG) {
        found = -1;
        goto done;
    }
    for (;;) {
        type = rec_get(queue, buf, 0);
        if (type == REC_TYPE_XTRA)
            break;
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT) {
            found = -1;
            break;
        }
        scanned += vstring_len(buf);
        if (scanned > MAILBOX_HDR_SCAN_MAX)
            break;
        if (in_piece) {
            vstring_memcat(field, vstring_str(buf), vstring_len(buf));
        } else if (vstring_len(buf) > 0 && (buf->data[0] == ' ' || buf->data[0] == '\t')) {
            if (vstring_len(field) == 0)
                break; /* continuation without a field: not a header section */
            vstring_memcat(field, vstring_str(buf), vstring_len(buf));
        } else {
            if (vstring_len(field) > 0 && mailbox_header_match(field, name, value)) {
                found = 1;
                break;
            }
            vstring_reset(field);
            if (vstring_len(buf) == 0 || !mailbox_field_name_ok(vstring_str(buf), vstring_len(buf)))
                break; /* end of headers */
            vstring_memcpy(field, vstring_str(buf), vstring_len(buf));
        }
        in_piece = (type == REC_TYPE_CONT);
    }
    if (found == 0 && vstring_len(field) > 0 && mailbox_header_match(field, name, value))
        found = 1;
done:
    vstring_free(buf);
    vstring_free(field);
    return found;
}
