/*
 * NAME
 *	rec - typed records: the queue file format
 * SYNOPSIS
 *	#include "rec.h"
 *
 *	int rec_put(VSTREAM *fp, int type, const char *data, size_t len)
 *	int rec_fprintf(VSTREAM *fp, int type, const char *fmt, ...)
 *	int rec_vfprintf(VSTREAM *fp, int type, const char *fmt, va_list ap)
 *	int rec_put_line(VSTREAM *fp, const char *data, size_t len, size_t piece_max)
 *	int rec_get(VSTREAM *fp, VSTRING *buf, size_t maxlen)
 *	int rec_goto(VSTREAM *fp, off_t offset)
 *	int rec_mark_done(VSTREAM *fp, off_t offset)
 *	int rec_attr_split(VSTRING *buf, const char **name, const char **value)
 *	int rec_type_ok(int type)
 *	const char *rec_type_name(int type)
 * DESCRIPTION
 *	rec_put() writes the type byte, the length as a little-endian
 *	base-128 varint and the data. rec_fprintf() and rec_vfprintf()
 *	format the data first. rec_put_line() writes one content line as
 *	CONT pieces of piece_max bytes and a final NORM piece.
 *
 *	rec_get() reads one record into buf and returns its type,
 *	REC_TYPE_EOF at a clean end of file, or REC_TYPE_ERROR for an
 *	unknown type, a malformed or over-long length, or a truncated
 *	record. Data is read in bounded chunks, so a forged length costs no
 *	more memory than the bytes that really follow it.
 *
 *	rec_goto() seeks to an offset. rec_mark_done() changes the type
 *	byte of the RCPT record at offset to DONE with pwrite(2) and makes
 *	it durable with fdatasync(2) before it returns (the byte is data
 *	rewritten in place, so nothing else needs to reach the disk); the
 *	stream position is kept and stale read-ahead dropped.
 *
 *	rec_attr_split() splits ATTR record data "name=value" in place.
 *	rec_type_ok() and rec_type_name() describe record types.
 *
 *	Errors are logged with msg_warn() naming the stream's path.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "rec.h"

static const struct {
    int type;
    const char *name;
} rec_types[] = {
    {REC_TYPE_SIZE, "size"},     {REC_TYPE_TIME, "time"},
    {REC_TYPE_FROM, "from"},     {REC_TYPE_RCPT, "rcpt"},
    {REC_TYPE_DONE, "done"},     {REC_TYPE_ORCP, "orcp"},
    {REC_TYPE_NOTIFY, "notify"}, {REC_TYPE_DSN_ORCPT, "dsn_orcpt"},
    {REC_TYPE_ATTR, "attr"},     {REC_TYPE_MESG, "mesg"},
    {REC_TYPE_NORM, "norm"},     {REC_TYPE_CONT, "cont"},
    {REC_TYPE_XTRA, "xtra"},     {REC_TYPE_END, "end"},
};

#define REC_NTYPES (sizeof(rec_types) / sizeof(rec_types[0]))
#define REC_CHUNK 8192

const char *rec_type_name(int type)
{
    for (size_t i = 0; i < REC_NTYPES; i++)
        if (rec_types[i].type == type)
            return rec_types[i].name;
    if (type == REC_TYPE_EOF)
        return "eof";
    if (type == REC_TYPE_ERROR)
        return "error";
    return "unknown";
}

int rec_type_ok(int type)
{
    for (size_t i = 0; i < REC_NTYPES; i++)
        if (rec_types[i].type == type)
            return 1;
    return 0;
}

int rec_put(VSTREAM *fp, int type, const char *data, size_t len)
{
    unsigned char hdr[1 + REC_VARINT_MAX];
    size_t n = 0;
    size_t val = len;

    if (!rec_type_ok(type)) {
        msg_warn("%s: rec_put: unknown record type %d", vstream_path(fp), type);
        return REC_TYPE_ERROR;
    }
    if (len > REC_DATA_MAX) {
        msg_warn("%s: rec_put: record of %zu bytes exceeds the limit of %d", vstream_path(fp), len,
                 REC_DATA_MAX);
        return REC_TYPE_ERROR;
    }
    hdr[n++] = (unsigned char)type;
    do {
        hdr[n] = val & 0x7f;
        val >>= 7;
        if (val)
            hdr[n] |= 0x80;
        n++;
    } while (val);
    if (vstream_fwrite(fp, hdr, n) == VSTREAM_EOF)
        return REC_TYPE_ERROR;
    if (len > 0 && vstream_fwrite(fp, data, len) == VSTREAM_EOF)
        return REC_TYPE_ERROR;
    return type;
}

int rec_vfprintf(VSTREAM *fp, int type, const char *fmt, va_list ap)
{
    static VSTRING *buf;

    if (buf == NULL)
        buf = vstring_alloc(100);
    vstring_reset(buf);
    vstring_vsprintf_append(buf, fmt, ap);
    return rec_put(fp, type, vstring_str(buf), vstring_len(buf));
}

int rec_fprintf(VSTREAM *fp, int type, const char *fmt, ...)
{
    va_list ap;
    int ret;

    va_start(ap, fmt);
    ret = rec_vfprintf(fp, type, fmt, ap);
    va_end(ap);
    return ret;
}

int rec_put_line(VSTREAM *fp, const char *data, size_t len, size_t piece_max)
{
    if (piece_max == 0)
        msg_panic("rec_put_line: zero piece size");
    while (len > piece_max) {
        if (rec_put(fp, REC_TYPE_CONT, data, piece_max) == REC_TYPE_ERROR)
            return REC_TYPE_ERROR;
        data += piece_max;
        len -= piece_max;
    }
    return rec_put(fp, REC_TYPE_NORM, data, len);
}

/* rec_get_fail - log, empty the buffer, return REC_TYPE_ERROR */
static int rec_get_fail(VSTREAM *fp, VSTRING *buf, int type, const char *what)
{
    msg_warn("%s: %s in record type %d (%s)", vstream_path(fp), what, type, rec_type_name(type));
    vstring_reset(buf);
    return REC_TYPE_ERROR;
}

int rec_get(VSTREAM *fp, VSTRING *buf, size_t maxlen)
{
    char chunk[REC_CHUNK];
    uint64_t len = 0;
    int type;
    int ch;
    int i;

    vstring_reset(buf);
    if (maxlen == 0 || maxlen > REC_DATA_MAX)
        maxlen = REC_DATA_MAX;
    if ((type = vstream_getc(fp)) == VSTREAM_EOF) {
        if (vstream_ferror(fp)) {
            msg_warn("%s: read error before record: %m", vstream_path(fp));
            return REC_TYPE_ERROR;
        }
        return REC_TYPE_EOF;
    }
    if (!rec_type_ok(type))
        return rec_get_fail(fp, buf, type, "unknown record type");
    for (i = 0;; i++) {
        if (i >= REC_VARINT_MAX)
            return rec_get_fail(fp, buf, type, "length field too long");
        if ((ch = vstream_getc(fp)) == VSTREAM_EOF)
            return rec_get_fail(fp, buf, type, "truncated length");
        len |= (uint64_t)(ch & 0x7f) << (7 * i);
        if ((ch & 0x80) == 0) {
            if (ch == 0 && i > 0)
                return rec_get_fail(fp, buf, type, "non-minimal length");
            break;
        }
    }
    if (len > maxlen)
        return rec_get_fail(fp, buf, type, "length over limit");
    while (len > 0) {
        size_t want = len > sizeof(chunk) ? sizeof(chunk) : (size_t)len;

        if (vstream_fread(fp, chunk, want) != (ssize_t)want)
            return rec_get_fail(fp, buf, type, "truncated data");
        vstring_memcat(buf, chunk, want);
        len -= want;
    }
    return type;
}

int rec_goto(VSTREAM *fp, off_t offset)
{
    if (offset < 0 || vstream_fseek(fp, offset, SEEK_SET) != offset) {
        msg_warn("%s: seek to record at offset %lld: %m", vstream_path(fp), (long long)offset);
        return -1;
    }
    return 0;
}

int rec_mark_done(VSTREAM *fp, off_t offset)
{
    unsigned char type;
    int fd = vstream_fileno(fp);
    off_t here;

    if (offset < 0) {
        msg_warn("%s: rec_mark_done: bad offset %lld", vstream_path(fp), (long long)offset);
        return -1;
    }
    if (vstream_fflush(fp) == VSTREAM_EOF) {
        msg_warn("%s: rec_mark_done: write pending output: %m", vstream_path(fp));
        return -1;
    }
    if (pread(fd, &type, 1, offset) != 1) {
        msg_warn("%s: rec_mark_done: no record at offset %lld", vstream_path(fp),
                 (long long)offset);
        return -1;
    }
    if (type == REC_TYPE_DONE)
        return 0;
    if (type != REC_TYPE_RCPT) {
        msg_warn("%s: rec_mark_done: record at offset %lld has type %d (%s), not rcpt",
                 vstream_path(fp), (long long)offset, type, rec_type_name(type));
        return -1;
    }
    /*
     * The type byte is file data rewritten in place (no new blocks, same
     * size): fdatasync() makes it durable without the journal commit that
     * fsync() would wait for only to store the modification time.
     */
    type = REC_TYPE_DONE;
    if (pwrite(fd, &type, 1, offset) != 1 || fdatasync(fd) < 0) {
        msg_warn("%s: rec_mark_done: write/sync at offset %lld: %m", vstream_path(fp),
                 (long long)offset);
        return -1;
    }
    /* read-ahead that holds the old byte is dropped, keeping the position */
    if (vstream_bufferred(fp) > 0) {
        if ((here = vstream_ftell(fp)) < 0)
            return -1;
        if (offset >= here && offset < here + (off_t)vstream_bufferred(fp) && rec_goto(fp, here) < 0)
            return -1;
    }
    return 0;
}

int rec_attr_split(VSTRING *buf, const char **name, const char **value)
{
    char *data = vstring_str(buf);
    char *eq;

    if (memchr(data, 0, vstring_len(buf)) != NULL)
        return -1;
    if ((eq = strchr(data, '=')) == NULL || eq == data || eq - data > REC_ATTR_NAME_MAX)
        return -1;
    *eq = 0;
    *name = data;
    *value = eq + 1;
    return 0;
}
