#ifndef POSTERN_MAILBOX_COPY_H
#define POSTERN_MAILBOX_COPY_H
/*
 * mailbox_copy - write a queued message into a mailbox, a file or a pipe,
 * with the envelope lines that final delivery adds (local, virtual)
 *
 * A MAILBOX_SRC describes one copy: the queue file (open for reading),
 * the offset of its MESG record, the envelope sender, the addresses for
 * the Delivered-To: and X-Original-To: headers, and flags that select
 * what is added:
 *	MAILBOX_COPY_FROM       a "From SENDER DATE" line first (mbox); the
 *	                        null sender is written MAILER-DAEMON
 *	MAILBOX_COPY_RETURN     "Return-Path: <SENDER>"
 *	MAILBOX_COPY_DELIVERED  "Delivered-To: DELIVERED" (when not NULL)
 *	MAILBOX_COPY_ORIG_RCPT  "X-Original-To: ORIG" (when not NULL/"")
 *	MAILBOX_COPY_QUOTE      ">" before every line that starts "From "
 *	MAILBOX_COPY_BLANK      an empty line after the message (mbox)
 * Lines end in "\n". A long line stored as CONT pieces is written whole.
 *
 * mailbox_copy(dst, src, why) has the MAILBOX_WRITE_FN signature: it
 *	copies src into dst and flushes dst. It returns MAILBOX_COPY_OK,
 *	MAILBOX_COPY_ERR_READ when the queue file could not be read or is
 *	malformed (why says so; the delivery must be deferred), or
 *	MAILBOX_COPY_ERR_WRITE when dst failed (why says so; the writer
 *	that owns dst knows the errno, see mailbox_limit).
 *
 * mailbox_header_find(queue, data_offset, name, value) scans the
 *	message headers (up to the first empty line) for a header field
 *	named name (case-insensitive) whose value, without surrounding
 *	white space and folded line breaks, equals value (case-insensitive).
 *	Returns 1 found, 0 not found, -1 on a queue file read error.
 *	This is the Delivered-To: loop test of local(8) and virtual(8).
 *
 * mailbox_limit_attach(stream, limit, base) installs a write hook on a
 *	stream open on a regular file and returns its state: the hook
 *	remembers the errno of the first failed write (mailbox_limit_errno()),
 *	and, when limit is not 0, fails a write with EFBIG (writing nothing
 *	of it) when base + the bytes written would pass limit
 *	(mailbox_size_limit, virtual_mailbox_limit). mailbox_limit_written()
 *	tells how many bytes went through. mailbox_limit_detach() restores
 *	the default hook and frees the state; call it before the stream is
 *	closed.
 *
 * mailbox_dsn(err, def_dsn) maps an errno from a mailbox write to an
 *	RFC 3463 status: EDQUOT and EFBIG are "5.2.2" (mailbox full),
 *	ENOSPC is "4.3.0", EAGAIN and ESTALE "4.2.0", anything else def_dsn.
 *
 * Result codes shared by the writers (maildir, mbox, pipe_command):
 *	MAILBOX_OK, MAILBOX_DEFER (4.x.x: try again later), MAILBOX_BOUNCE
 *	(5.x.x: return to the sender). Writers fill a dsn and a one-line
 *	reason; mailbox_status() picks DEFER or BOUNCE from a dsn's class.
 */
#include <sys/types.h>
#include <time.h>

#include "vstream.h"
#include "vstring.h"

#define MAILBOX_COPY_FROM (1 << 0)
#define MAILBOX_COPY_RETURN (1 << 1)
#define MAILBOX_COPY_DELIVERED (1 << 2)
#define MAILBOX_COPY_ORIG_RCPT (1 << 3)
#define MAILBOX_COPY_QUOTE (1 << 4)
#define MAILBOX_COPY_BLANK (1 << 5)

#define MAILBOX_COPY_HEADERS (MAILBOX_COPY_RETURN | MAILBOX_COPY_DELIVERED | MAILBOX_COPY_ORIG_RCPT)
#define MAILBOX_COPY_MBOX                                                                          \
    (MAILBOX_COPY_FROM | MAILBOX_COPY_HEADERS | MAILBOX_COPY_QUOTE | MAILBOX_COPY_BLANK)
#define MAILBOX_COPY_MAILDIR MAILBOX_COPY_HEADERS

typedef struct MAILBOX_SRC {
    VSTREAM *queue;        /* queue file, open for reading */
    off_t data_offset;     /* offset of its MESG record */
    const char *sender;    /* envelope sender, internal form; "" = null sender */
    const char *delivered; /* Delivered-To: value, or NULL */
    const char *orig_rcpt; /* X-Original-To: value, or NULL */
    time_t now;            /* time for the From line; 0 = time(NULL) */
    int flags;             /* MAILBOX_COPY_* */
} MAILBOX_SRC;

#define MAILBOX_COPY_OK 0
#define MAILBOX_COPY_ERR_WRITE (-1)
#define MAILBOX_COPY_ERR_READ (-2)

/* a message writer: fills dst, returns MAILBOX_COPY_OK or an error above */
typedef int (*MAILBOX_WRITE_FN)(VSTREAM *dst, void *context, VSTRING *why);

int mailbox_copy(VSTREAM *dst, void *src, VSTRING *why); /* src is a MAILBOX_SRC */
int mailbox_header_find(VSTREAM *queue, off_t data_offset, const char *name, const char *value);

typedef struct MAILBOX_LIMIT MAILBOX_LIMIT;

MAILBOX_LIMIT *mailbox_limit_attach(VSTREAM *stream, off_t limit, off_t base);
int mailbox_limit_errno(const MAILBOX_LIMIT *lim); /* 0 when no write failed */
off_t mailbox_limit_written(const MAILBOX_LIMIT *lim);
void mailbox_limit_detach(VSTREAM *stream, MAILBOX_LIMIT *lim);

#define MAILBOX_OK 0
#define MAILBOX_DEFER 1
#define MAILBOX_BOUNCE 2

const char *mailbox_dsn(int err, const char *def_dsn);
int mailbox_status(const char *dsn); /* MAILBOX_BOUNCE for 5.x.x, else MAILBOX_DEFER */

#endif
