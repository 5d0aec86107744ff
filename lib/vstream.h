#ifndef POSTERN_VSTREAM_H
#define POSTERN_VSTREAM_H
/*
 * vstream - buffered I/O on a file descriptor, with timeouts and limits
 *
 * The one buffered stream every program uses for sockets, pipes and files.
 * Every read and write may carry a timeout (seconds, 0 = wait forever);
 * a timeout, EOF or error sets a sticky flag that the caller tests.
 * Reads of lines are bounded: a caller always states the longest line it
 * will accept. The read/write functions can be replaced (TLS).
 *
 * Ownership: vstream_fclose() closes the descriptor and frees the stream;
 * vstream_fdclose() frees the stream and leaves the descriptor open.
 */
#include <stdarg.h>
#include <sys/types.h>

#include "vstring.h"

typedef struct VSTREAM VSTREAM;

#define VSTREAM_EOF (-1)

/* I/O hooks: return bytes moved, 0 at EOF, -1 with errno on error/timeout */
typedef ssize_t (*VSTREAM_IO_FN)(int fd, void *buf, size_t len, int timeout, void *context);

VSTREAM *vstream_fdopen(int fd, int oflags);       /* O_RDONLY, O_WRONLY or O_RDWR */
VSTREAM *vstream_fopen(const char *path, int oflags, mode_t mode); /* NULL + errno on failure */
int vstream_fclose(VSTREAM *vp);                   /* flush, close fd, free; 0 or -1 */
int vstream_fdclose(VSTREAM *vp);                  /* flush, free; fd stays open */
int vstream_fileno(VSTREAM *vp);
const char *vstream_path(VSTREAM *vp);             /* path given to fopen, or "fd N" */
void vstream_set_path(VSTREAM *vp, const char *name);

void vstream_set_timeout(VSTREAM *vp, int seconds);     /* per read/write; 0 = none */
void vstream_set_io(VSTREAM *vp, VSTREAM_IO_FN read_fn, VSTREAM_IO_FN write_fn, void *context);

/* reading */
int vstream_getc(VSTREAM *vp);                     /* byte 0..255 or VSTREAM_EOF */
int vstream_ungetc(VSTREAM *vp, int ch);           /* one byte of push-back */
ssize_t vstream_fread(VSTREAM *vp, void *buf, size_t len); /* < len only at EOF/error */
/*
 * vstream_get_line() replaces buf with the next line including its '\n'
 * (LF only; CR is data), reading at most limit bytes. It returns '\n' for a
 * whole line, the last byte read when limit was hit or EOF came first, or
 * VSTREAM_EOF when nothing could be read. Caller checks vstring_len(buf).
 */
int vstream_get_line(VSTREAM *vp, VSTRING *buf, size_t limit);
size_t vstream_bufferred(VSTREAM *vp);             /* bytes read ahead, not yet consumed */
void vstream_purge_input(VSTREAM *vp);             /* discard read-ahead (STARTTLS) */

/* writing */
int vstream_fwrite(VSTREAM *vp, const void *buf, size_t len);  /* 0 or VSTREAM_EOF */
int vstream_fputs(const char *str, VSTREAM *vp);
int vstream_putc(int ch, VSTREAM *vp);
int vstream_fprintf(VSTREAM *vp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vstream_vfprintf(VSTREAM *vp, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
int vstream_fflush(VSTREAM *vp);                   /* 0 or VSTREAM_EOF */
int vstream_fsync(VSTREAM *vp);                    /* flush then fsync(2) */

/* positioning (files) */
off_t vstream_fseek(VSTREAM *vp, off_t offset, int whence); /* flushes or drops buffers */
off_t vstream_ftell(VSTREAM *vp);

/* status: sticky until vstream_clearerr() */
int vstream_feof(VSTREAM *vp);
int vstream_ferror(VSTREAM *vp);
int vstream_ftimeout(VSTREAM *vp);
void vstream_clearerr(VSTREAM *vp);

/*
 * Additions (H2):
 * vstream_set_io() with a NULL fn restores the default hook for that
 * direction (timed_read/timed_write on the descriptor, EINTR retried).
 * vstream_get_line() with limit 0 is a programming error (msg_panic).
 * VSTREAM_IN, VSTREAM_OUT, VSTREAM_ERR are streams on descriptors 0, 1, 2,
 * created on first use and never freed (flush VSTREAM_OUT before exit).
 * vstream_fopen() adds O_CLOEXEC; files it opens have no timeout.
 * vstream_fdopen() never fails (a bad fd shows up as an error on use).
 */
#define VSTREAM_BUFSIZE 8192

VSTREAM *vstream_std(int fd);                      /* fd 0, 1 or 2 */
#define VSTREAM_IN (vstream_std(0))
#define VSTREAM_OUT (vstream_std(1))
#define VSTREAM_ERR (vstream_std(2))

#endif
