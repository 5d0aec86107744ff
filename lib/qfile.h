#ifndef POSTERN_QFILE_H
#define POSTERN_QFILE_H
/*
 * qfile - a queue file's envelope as the queue tools see it: who sent
 * the message, when, how big it is, which recipients are still to be
 * delivered and why they were deferred; never its content
 *
 * Used by showq(8) (the listing behind mailq), postsuper(1) (requeue,
 * structure check) and postcat(1)'s search of the queue. The layout read
 * is lib/cleanup_proto.h's queue file, or with QFILE_FLAG_MAILDROP the
 * maildrop file of lib/maildrop.h (no SIZE record: TIME comes first).
 *
 * qfile_open(queue, id, st, why)
 *	Opens QUEUE/ID (relative to the working directory, which is the
 *	queue directory for every caller) for reading. id must pass
 *	queue_id_ok() and queue must be one of QFILE_QUEUE_NAMES, so that
 *	nothing a user typed ever becomes another path (EINVAL). The file
 *	is opened as safe_open_existing() does: no symbolic link, a
 *	regular file with one link. st (may be NULL) receives its fstat().
 *	Returns the stream (its path is "QUEUE/ID"), or NULL with errno
 *	and, when why is not NULL, a message in why. ENOENT means "not in
 *	that queue" and is the only error a caller may expect in normal
 *	operation.
 *
 * qfile_read(fp, flags, env, why)
 *	Reads the envelope from the start of fp into env (emptied first).
 *	Checks, and refuses with -1 and a short reason in why: the record
 *	framing (rec_get()); a queue file must start with a SIZE record
 *	"content_size data_offset rcpt_count" (decimal, non-negative,
 *	data_offset > 0); exactly one TIME ("seconds[.microseconds]") and
 *	one FROM record before the content; no recipient before FROM; ORCP,
 *	NOTIFY (0..15) and DSN_ORCPT only before a RCPT or DONE record;
 *	addresses, the sender and attributes without NUL bytes and of at
 *	most QFILE_REC_MAX bytes; ATTR records "name=value"; MESG at the
 *	offset the SIZE record names; no other record type before MESG.
 *	Without QFILE_FLAG_CONTENT it stops after the MESG record.
 *	QFILE_FLAG_CONTENT also reads through the content (NORM and CONT
 *	only) to XTRA, then the records after it (recipients taken from the
 *	headers, marked extracted, and ATTR records), which must end with
 *	END at the end of the file: env->complete is then 1. A file that
 *	ends early is refused ("no end record"). Returns 0 or -1.
 *
 * qfile_read_reasons(env, queue_id)
 *	Reads the defer notes of queue_id (DEFER_LOG_DIR/QUEUE_ID,
 *	lib/deliver_status.h) and gives each recipient that is not done the
 *	reason of its newest note ("" when it has none). A note belongs to
 *	the recipient whose RCPT record is at the note's offset, as qmgr
 *	writes them; a note whose offset names no such recipient goes to
 *	the first one not done with the same address. Returns the number of
 *	recipients that got a reason, or -1 when the note file exists but
 *	cannot be read (logged).
 *
 * qfile_undone(env) counts the recipients that are not done.
 * qfile_queue_ok(queue) says whether queue is one of QFILE_QUEUE_NAMES.
 *
 * QFILE_ENV: qfile_env_alloc() makes an empty one, qfile_env_free()
 *	frees it and everything in it. Every string in it belongs to it.
 */
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>

#include "attr.h"
#include "vstream.h"
#include "vstring.h"

#define QFILE_REC_MAX (1024 * 1024) /* bytes of one record */

/* queue directories that hold messages, in showq's listing order */
#define QFILE_QUEUE_NAMES "maildrop", "active", "incoming", "deferred", "hold"

#define QFILE_FLAG_NONE 0
#define QFILE_FLAG_MAILDROP (1 << 0) /* maildrop layout: no SIZE record */
#define QFILE_FLAG_CONTENT (1 << 1)  /* read to END: extracted recipients too */

typedef struct QFILE_RCPT {
    char *address; /* internal form */
    char *orig;    /* ORCP, "" when none */
    char *orcpt;   /* DSN_ORCPT, "" when none */
    long notify;   /* NOTIFY bits, 0 when none */
    off_t offset;  /* of its RCPT or DONE record */
    int done;      /* a DONE record */
    int extracted; /* after XTRA: taken from the headers */
    char *reason;  /* newest defer reason (qfile_read_reasons), "" when none */
} QFILE_RCPT;

typedef struct QFILE_ENV {
    long long content_size; /* SIZE record; -1 without one */
    off_t data_offset;      /* SIZE record: where MESG is; -1 without one */
    long rcpt_total;        /* SIZE record: recipient count; -1 without one */
    struct timeval arrival; /* TIME record */
    char *sender;           /* FROM record, internal form, "" = null sender */
    NVTABLE *attrs;         /* ATTR records: name -> value (the last one wins) */
    int rcpt_count;
    QFILE_RCPT *rcpt;  /* every RCPT and DONE record, in file order */
    off_t mesg_offset; /* where the MESG record was */
    int complete;      /* QFILE_FLAG_CONTENT: END read at the end of the file */
    int rcpt_size;     /* slots allocated in rcpt */
} QFILE_ENV;

QFILE_ENV *qfile_env_alloc(void);
void qfile_env_free(QFILE_ENV *env);

VSTREAM *qfile_open(const char *queue, const char *id, struct stat *st, VSTRING *why);
int qfile_queue_ok(const char *queue);
int qfile_read(VSTREAM *fp, int flags, QFILE_ENV *env, VSTRING *why);
int qfile_read_reasons(QFILE_ENV *env, const char *queue_id);
int qfile_undone(const QFILE_ENV *env);

#endif
