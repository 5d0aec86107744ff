/*
 * NAME
 *	vstream - buffered I/O on a file descriptor, with timeouts and limits
 * SYNOPSIS
 *	#include "vstream.h"
 *
 *	VSTREAM *vstream_fdopen(int fd, int oflags)
 *	VSTREAM *vstream_fopen(const char *path, int oflags, mode_t mode)
 *	int vstream_fclose(VSTREAM *vp)
 *	int vstream_fdclose(VSTREAM *vp)
 *	int vstream_fileno(VSTREAM *vp)
 *	const char *vstream_path(VSTREAM *vp)
 *	void vstream_set_path(VSTREAM *vp, const char *name)
 *	void vstream_set_timeout(VSTREAM *vp, int seconds)
 *	void vstream_set_io(VSTREAM *vp, VSTREAM_IO_FN read_fn,
 *			VSTREAM_IO_FN write_fn, void *context)
 *	VSTREAM *vstream_std(int fd)
 *
 *	int vstream_getc(VSTREAM *vp)
 *	int vstream_ungetc(VSTREAM *vp, int ch)
 *	ssize_t vstream_fread(VSTREAM *vp, void *buf, size_t len)
 *	int vstream_get_line(VSTREAM *vp, VSTRING *buf, size_t limit)
 *	size_t vstream_bufferred(VSTREAM *vp)
 *	void vstream_purge_input(VSTREAM *vp)
 *
 *	int vstream_fwrite(VSTREAM *vp, const void *buf, size_t len)
 *	int vstream_fputs(const char *str, VSTREAM *vp)
 *	int vstream_putc(int ch, VSTREAM *vp)
 *	int vstream_fprintf(VSTREAM *vp, const char *fmt, ...)
 *	int vstream_vfprintf(VSTREAM *vp, const char *fmt, va_list ap)
 *	int vstream_fflush(VSTREAM *vp)
 *	int vstream_fsync(VSTREAM *vp)
 *
 *	off_t vstream_fseek(VSTREAM *vp, off_t offset, int whence)
 *	off_t vstream_ftell(VSTREAM *vp)
 *
 *	int vstream_feof(VSTREAM *vp)
 *	int vstream_ferror(VSTREAM *vp)
 *	int vstream_ftimeout(VSTREAM *vp)
 *	void vstream_clearerr(VSTREAM *vp)
 * DESCRIPTION
 *	A VSTREAM has a read buffer and a write buffer of VSTREAM_BUFSIZE
 *	bytes each, allocated on first use, so that a socket can hold
 *	read-ahead (pipelined SMTP commands) while replies are written.
 *
 *	Reading: data comes through the read hook (by default timed_read()
 *	on the descriptor, with the stream's timeout). Before the hook is
 *	called, pending output is flushed: a program that writes a reply and
 *	then reads the next request never deadlocks, and output stays
 *	batched for as long as input is already buffered. EOF, an error or
 *	a timeout set sticky flags; after any of them reads return
 *	VSTREAM_EOF without touching the descriptor until
 *	vstream_clearerr(). A timeout sets both the timeout and the error
 *	flag. An interrupted hook (EINTR) is called again.
 *
 *	vstream_getc() returns the next byte as 0..255 or VSTREAM_EOF.
 *	vstream_ungetc() pushes one byte back (always possible once after a
 *	read); it returns ch, or VSTREAM_EOF when there is no room.
 *	vstream_fread() returns len unless EOF or an error came first.
 *
 *	vstream_get_line() reads bytes into buf (replacing its content) up
 *	to and including '\n', but never more than limit bytes; NUL bytes
 *	are data. It returns '\n' for a whole line; the last byte read when
 *	the limit was reached first (the rest of the line stays readable)
 *	or when EOF/error came mid-line; VSTREAM_EOF when nothing at all
 *	could be read. limit 0 is a programming error (panic).
 *
 *	vstream_bufferred() tells how many bytes are read ahead and not yet
 *	consumed; vstream_purge_input() discards them (STARTTLS: plaintext
 *	that arrived with the command must not be read as TLS data).
 *
 *	Writing: output collects in the write buffer and goes out through
 *	the write hook (by default timed_write(), which never raises SIGPIPE
 *	on a socket) when the buffer fills, on vstream_fflush(), before a
 *	read that needs the descriptor, and on close. With the default hook
 *	a socket is first written without waiting (send(2), MSG_DONTWAIT),
 *	and only when it has no room does timed_write() wait for it with
 *	the stream's timeout; a regular file is written with write(2). The
 *	write functions
 *	return 0 (putc: the byte) or VSTREAM_EOF. A failed write sets the
 *	error flag (and the timeout flag if it timed out), discards the
 *	pending output, and makes every later write fail until
 *	vstream_clearerr(). EOF on input does not stop output (a peer may
 *	half-close). vstream_fsync() flushes and calls fsync(2).
 *
 *	Positioning, for streams on regular files: vstream_fseek() flushes
 *	pending output, drops read-ahead (SEEK_CUR counts from the logical
 *	position, what the caller has consumed), clears the EOF flag, and
 *	returns the new offset or -1. vstream_ftell() returns the logical
 *	offset. On a regular file a write after reads without a seek is
 *	placed at the logical position too (the read-ahead is dropped
 *	first), so a queue file record can be rewritten in place.
 *	On a regular file read through the default hook the stream keeps
 *	track of the descriptor's offset, so that vstream_ftell() costs no
 *	system call while reading and vstream_fseek() to where the
 *	descriptor already is costs none either; after a write it asks the
 *	kernel again. A caller must therefore not move the offset of a
 *	stream's descriptor behind its back (pread()/pwrite() on
 *	vstream_fileno() do not move it).
 *
 *	vstream_set_io() replaces the read and/or write hook (TLS); a NULL
 *	hook restores the default. The context is passed to both hooks.
 *
 *	vstream_std() returns the stream on descriptor 0, 1 or 2 (also
 *	VSTREAM_IN, VSTREAM_OUT, VSTREAM_ERR), made on first use.
 *
 *	vstream_fopen() opens path with O_CLOEXEC added and returns NULL
 *	with errno on failure. vstream_fclose() flushes, closes and frees;
 *	vstream_fdclose() flushes and frees but leaves the descriptor open.
 *	Both return 0, or VSTREAM_EOF when the flush or close failed (the
 *	stream is freed regardless).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iostuff.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstream.h"
#include "vstring.h"

#define VSTREAM_FLAG_EOF 1
#define VSTREAM_FLAG_ERR 2
#define VSTREAM_FLAG_TIMEOUT 4

struct VSTREAM {
    int fd;
    int oflags;            /* O_RDONLY, O_WRONLY or O_RDWR */
    int is_file;           /* regular file: seekable, positions matter */
    int is_sock;           /* socket: output is tried without waiting first */
    int flags;             /* VSTREAM_FLAG_* */
    int timeout;           /* seconds, 0 = none */
    char *path;
    VSTREAM_IO_FN read_fn;
    VSTREAM_IO_FN write_fn;
    void *context;
    char *rbuf;            /* rbuf[0] is push-back room; data from rbuf + 1 */
    size_t rpos;           /* next byte to consume */
    size_t rend;           /* end of valid read data */
    char *wbuf;
    size_t wlen;           /* pending output bytes */
    off_t pos;             /* the descriptor's file offset, when pos_ok */
    int pos_ok;            /* regular file: pos is known (no lseek needed) */
    VSTRING *fmt;          /* scratch for vstream_fprintf */
};

static VSTREAM *vstream_std_streams[3];

VSTREAM *vstream_fdopen(int fd, int oflags)
{
    VSTREAM *vp = mycalloc(1, sizeof(*vp));
    struct stat st;
    char name[32];

    vp->fd = fd;
    vp->oflags = oflags & O_ACCMODE;
    if (fstat(fd, &st) == 0) {
        vp->is_file = S_ISREG(st.st_mode);
        vp->is_sock = S_ISSOCK(st.st_mode);
    }
    vp->read_fn = timed_read;
    vp->write_fn = timed_write;
    snprintf(name, sizeof(name), "fd %d", fd);
    vp->path = mystrdup(name);
    vp->rpos = vp->rend = 1;
    return vp;
}

VSTREAM *vstream_fopen(const char *path, int oflags, mode_t mode)
{
    VSTREAM *vp;
    int fd;

    if ((fd = open(path, oflags | O_CLOEXEC, mode)) < 0)
        return NULL;
    vp = vstream_fdopen(fd, oflags);
    vstream_set_path(vp, path);
    return vp;
}

VSTREAM *vstream_std(int fd)
{
    static const char *names[] = {"stdin", "stdout", "stderr"};

    if (fd < 0 || fd > 2)
        msg_panic("vstream_std: bad descriptor %d", fd);
    if (vstream_std_streams[fd] == NULL) {
        vstream_std_streams[fd] = vstream_fdopen(fd, fd == 0 ? O_RDONLY : O_WRONLY);
        vstream_set_path(vstream_std_streams[fd], names[fd]);
    }
    return vstream_std_streams[fd];
}

static void vstream_free(VSTREAM *vp)
{
    for (int i = 0; i < 3; i++)
        if (vstream_std_streams[i] == vp)
            vstream_std_streams[i] = NULL;
    myfree(vp->path);
    myfree(vp->rbuf);
    myfree(vp->wbuf);
    vstring_free(vp->fmt);
    myfree(vp);
}

int vstream_fdclose(VSTREAM *vp)
{
    int status = vstream_fflush(vp);

    vstream_free(vp);
    return status;
}

int vstream_fclose(VSTREAM *vp)
{
    int status = vstream_fflush(vp);

    if (close(vp->fd) < 0)
        status = VSTREAM_EOF;
    vstream_free(vp);
    return status;
}

int vstream_fileno(VSTREAM *vp)
{
    return vp->fd;
}

const char *vstream_path(VSTREAM *vp)
{
    return vp->path;
}

void vstream_set_path(VSTREAM *vp, const char *name)
{
    char *old = vp->path;

    vp->path = mystrdup(name);
    myfree(old);
}

void vstream_set_timeout(VSTREAM *vp, int seconds)
{
    vp->timeout = seconds > 0 ? seconds : 0;
}

void vstream_set_io(VSTREAM *vp, VSTREAM_IO_FN read_fn, VSTREAM_IO_FN write_fn, void *context)
{
    vp->read_fn = read_fn ? read_fn : timed_read;
    vp->write_fn = write_fn ? write_fn : timed_write;
    vp->context = context;
}

/* vstream_io_error - record a failed hook call */
static void vstream_io_error(VSTREAM *vp)
{
    vp->flags |= VSTREAM_FLAG_ERR;
    if (errno == ETIMEDOUT)
        vp->flags |= VSTREAM_FLAG_TIMEOUT;
}

/* vstream_write_all - push bytes through the write hook */
static int vstream_write_all(VSTREAM *vp, const char *buf, size_t len)
{
    ssize_t n;

    vp->pos_ok = 0;                     /* O_APPEND, or a short write: ask again */
    while (len > 0) {
        /* a regular file needs neither poll nor send(): write directly */
        if (vp->is_file && vp->write_fn == timed_write) {
            n = write(vp->fd, buf, len);
        } else if (vp->is_sock && vp->write_fn == timed_write) {
            /* a socket almost always has room: wait (with the timeout) only when it has none */
            n = send(vp->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                n = timed_write(vp->fd, (void *) buf, len, vp->timeout, vp->context);
        } else {
            n = vp->write_fn(vp->fd, (void *) buf, len, vp->timeout, vp->context);
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            vstream_io_error(vp);
            return VSTREAM_EOF;
        }
        buf += n;
        len -= (size_t) n;
    }
    return 0;
}

int vstream_fflush(VSTREAM *vp)
{
    size_t len = vp->wlen;

    if (len == 0)
        return 0;
    vp->wlen = 0;
    if (vp->flags & VSTREAM_FLAG_ERR)
        return VSTREAM_EOF;
    return vstream_write_all(vp, vp->wbuf, len);
}

/* vstream_fill - refill an empty read buffer; 0 or VSTREAM_EOF */
static int vstream_fill(VSTREAM *vp)
{
    ssize_t n;

    if (vp->flags & (VSTREAM_FLAG_EOF | VSTREAM_FLAG_ERR))
        return VSTREAM_EOF;
    if (vp->oflags == O_WRONLY) {
        errno = EBADF;
        vp->flags |= VSTREAM_FLAG_ERR;
        return VSTREAM_EOF;
    }
    if (vp->wlen > 0 && vstream_fflush(vp) == VSTREAM_EOF)
        return VSTREAM_EOF;
    if (vp->rbuf == NULL)
        vp->rbuf = mymalloc(VSTREAM_BUFSIZE + 1);
    do {
        n = vp->read_fn(vp->fd, vp->rbuf + 1, VSTREAM_BUFSIZE, vp->timeout, vp->context);
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
        vp->flags |= VSTREAM_FLAG_EOF;
        return VSTREAM_EOF;
    }
    if (n < 0) {
        vstream_io_error(vp);
        return VSTREAM_EOF;
    }
    if ((size_t) n > VSTREAM_BUFSIZE)
        msg_panic("vstream_fill: %s: read hook returned %zd > %d", vp->path, n,
                  VSTREAM_BUFSIZE);
    if (vp->pos_ok && vp->read_fn == timed_read)
        vp->pos += n;
    else
        vp->pos_ok = 0;
    vp->rpos = 1;
    vp->rend = 1 + (size_t) n;
    return 0;
}

int vstream_getc(VSTREAM *vp)
{
    if (vp->rpos >= vp->rend && vstream_fill(vp) == VSTREAM_EOF)
        return VSTREAM_EOF;
    return (unsigned char) vp->rbuf[vp->rpos++];
}

int vstream_ungetc(VSTREAM *vp, int ch)
{
    if (ch == VSTREAM_EOF || vp->rbuf == NULL || vp->rpos == 0)
        return VSTREAM_EOF;
    vp->rbuf[--vp->rpos] = (char) ch;
    return (unsigned char) ch;
}

ssize_t vstream_fread(VSTREAM *vp, void *buf, size_t len)
{
    char *cp = buf;
    size_t done = 0;
    size_t avail;

    while (done < len) {
        if (vp->rpos >= vp->rend && vstream_fill(vp) == VSTREAM_EOF)
            break;
        avail = vp->rend - vp->rpos;
        if (avail > len - done)
            avail = len - done;
        memcpy(cp + done, vp->rbuf + vp->rpos, avail);
        vp->rpos += avail;
        done += avail;
    }
    return (ssize_t) done;
}

int vstream_get_line(VSTREAM *vp, VSTRING *buf, size_t limit)
{
    size_t avail;
    char *start;
    char *nl;

    if (limit == 0)
        msg_panic("vstream_get_line: %s: zero length limit", vp->path);
    vstring_reset(buf);
    while (vstring_len(buf) < limit) {
        if (vp->rpos >= vp->rend && vstream_fill(vp) == VSTREAM_EOF)
            break;
        start = vp->rbuf + vp->rpos;
        avail = vp->rend - vp->rpos;
        if (avail > limit - vstring_len(buf))
            avail = limit - vstring_len(buf);
        if ((nl = memchr(start, '\n', avail)) != NULL)
            avail = (size_t) (nl - start) + 1;
        vstring_memcat(buf, start, avail);
        vp->rpos += avail;
        if (nl)
            return '\n';
    }
    if (vstring_len(buf) == 0)
        return VSTREAM_EOF;
    return (unsigned char) vstring_end(buf)[-1];
}

size_t vstream_bufferred(VSTREAM *vp)
{
    return vp->rend - vp->rpos;
}

void vstream_purge_input(VSTREAM *vp)
{
    vp->rpos = vp->rend = 1;
}

/* vstream_drop_readahead - move a file's position back to what was consumed */
static int vstream_drop_readahead(VSTREAM *vp)
{
    size_t ahead = vp->rend - vp->rpos;
    off_t pos;

    vp->rpos = vp->rend = 1;
    if (ahead > 0) {
        if ((pos = lseek(vp->fd, -(off_t) ahead, SEEK_CUR)) < 0) {
            vp->pos_ok = 0;
            vp->flags |= VSTREAM_FLAG_ERR;
            return VSTREAM_EOF;
        }
        vp->pos = pos;
        vp->pos_ok = 1;
    }
    return 0;
}

int vstream_fwrite(VSTREAM *vp, const void *buf, size_t len)
{
    const char *cp = buf;
    size_t room;

    if (vp->flags & VSTREAM_FLAG_ERR)
        return VSTREAM_EOF;
    if (vp->oflags == O_RDONLY) {
        errno = EBADF;
        vp->flags |= VSTREAM_FLAG_ERR;
        return VSTREAM_EOF;
    }
    if (vp->is_file && vp->rend > vp->rpos && vstream_drop_readahead(vp) == VSTREAM_EOF)
        return VSTREAM_EOF;
    if (vp->wbuf == NULL)
        vp->wbuf = mymalloc(VSTREAM_BUFSIZE);
    while (len > 0) {
        if (vp->wlen == 0 && len >= VSTREAM_BUFSIZE)
            return vstream_write_all(vp, cp, len);
        room = VSTREAM_BUFSIZE - vp->wlen;
        if (room > len)
            room = len;
        memcpy(vp->wbuf + vp->wlen, cp, room);
        vp->wlen += room;
        cp += room;
        len -= room;
        if (vp->wlen == VSTREAM_BUFSIZE && vstream_fflush(vp) == VSTREAM_EOF)
            return VSTREAM_EOF;
    }
    return 0;
}

int vstream_fputs(const char *str, VSTREAM *vp)
{
    return vstream_fwrite(vp, str, strlen(str));
}

int vstream_putc(int ch, VSTREAM *vp)
{
    char c = (char) ch;

    if (vstream_fwrite(vp, &c, 1) == VSTREAM_EOF)
        return VSTREAM_EOF;
    return (unsigned char) c;
}

int vstream_vfprintf(VSTREAM *vp, const char *fmt, va_list ap)
{
    if (vp->fmt == NULL)
        vp->fmt = vstring_alloc(100);
    vstring_reset(vp->fmt);
    vstring_vsprintf_append(vp->fmt, fmt, ap);
    return vstream_fwrite(vp, vstring_str(vp->fmt), vstring_len(vp->fmt));
}

int vstream_fprintf(VSTREAM *vp, const char *fmt, ...)
{
    va_list ap;
    int status;

    va_start(ap, fmt);
    status = vstream_vfprintf(vp, fmt, ap);
    va_end(ap);
    return status;
}

int vstream_fsync(VSTREAM *vp)
{
    if (vstream_fflush(vp) == VSTREAM_EOF)
        return VSTREAM_EOF;
    if (fsync(vp->fd) < 0) {
        vp->flags |= VSTREAM_FLAG_ERR;
        return VSTREAM_EOF;
    }
    return 0;
}

off_t vstream_fseek(VSTREAM *vp, off_t offset, int whence)
{
    off_t pos;

    if (vstream_fflush(vp) == VSTREAM_EOF)
        return -1;
    if (whence == SEEK_CUR)
        offset -= (off_t) (vp->rend - vp->rpos);
    vp->rpos = vp->rend = 1;
    if (whence == SEEK_SET && vp->pos_ok && offset == vp->pos) {
        pos = offset;                           /* already there */
    } else if ((pos = lseek(vp->fd, offset, whence)) < 0) {
        vp->pos_ok = 0;
        return -1;
    }
    vp->pos = pos;
    vp->pos_ok = vp->is_file;
    vp->flags &= ~VSTREAM_FLAG_EOF;
    return pos;
}

off_t vstream_ftell(VSTREAM *vp)
{
    off_t pos;

    if (vp->pos_ok) {
        pos = vp->pos;
    } else {
        if ((pos = lseek(vp->fd, 0, SEEK_CUR)) < 0)
            return -1;
        vp->pos = pos;
        vp->pos_ok = vp->is_file;
    }
    return pos - (off_t) (vp->rend - vp->rpos) + (off_t) vp->wlen;
}

int vstream_feof(VSTREAM *vp)
{
    return (vp->flags & VSTREAM_FLAG_EOF) != 0;
}

int vstream_ferror(VSTREAM *vp)
{
    return (vp->flags & VSTREAM_FLAG_ERR) != 0;
}

int vstream_ftimeout(VSTREAM *vp)
{
    return (vp->flags & VSTREAM_FLAG_TIMEOUT) != 0;
}

void vstream_clearerr(VSTREAM *vp)
{
    vp->flags = 0;
}
