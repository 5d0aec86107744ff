/*
 * NAME
 *	deliver_status - log, note and mark each recipient's delivery outcome
 * SYNOPSIS
 *	#include "deliver_status.h"
 *
 *	int deliver_sent(DELIVER_REQUEST *req, int i, const char *relay,
 *			const char *dsn, const char *fmt, ...)
 *	int deliver_defer(DELIVER_REQUEST *req, int i, const char *relay,
 *			const char *dsn, const char *fmt, ...)
 *	int deliver_bounce(DELIVER_REQUEST *req, int i, const char *relay,
 *			const char *dsn, const char *fmt, ...)
 *	VSTRING *deliver_delay_format(VSTRING *out, double seconds)
 *
 *	DELIVER_NOTE *deliver_note_alloc(void)
 *	void deliver_note_free(DELIVER_NOTE *note)
 *	int deliver_note_append(DELIVER_REQUEST *req, const char *dir,
 *			const DELIVER_NOTE *note)
 *	VSTREAM *deliver_note_open(const char *dir, const char *queue_id)
 *	int deliver_note_read(VSTREAM *fp, DELIVER_NOTE *note)
 *	int deliver_note_remove(const char *dir, const char *queue_id)
 * DESCRIPTION
 *	deliver_sent(), deliver_defer() and deliver_bounce() are what a
 *	delivery agent (and qmgr, for recipients it defers itself) calls
 *	once per recipient: each makes the outcome durable first and logs
 *	the Postfix status line after, as deliver_status.h describes.
 *
 *	deliver_delay_format() appends one delay value in the precision
 *	that Postfix logs.
 *
 *	The deliver_note_*() functions write and read the per-message
 *	note files in defer/ and bounce/. A note is a block of name=value
 *	lines ended by an empty line, written with one write(2) on a
 *	descriptor opened with O_APPEND, so that notes from parallel
 *	deliveries of one message never interleave; the file is fsync'd
 *	after each note, and its directory after the file is created.
 * DIAGNOSTICS
 *	Problems are logged with msg_warn() and reported by the return
 *	value.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "address.h"
#include "deliver_status.h"
#include "iostuff.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "queue_id.h"
#include "rec.h"
#include "safe_open.h"
#include "set_ugid.h"

#define NOTE_DEFER 0
#define NOTE_BOUNCE 1
#define NOTE_FIELDS_MAX 32      /* lines in one note */

/* ---------------------------------------------------------------- */
/* formatting */

VSTRING *deliver_delay_format(VSTRING *out, double seconds)
{
    int limit = (int) var_delay_logging_resolution_limit;
    int decimals;
    size_t start = vstring_len(out);

    if (!(seconds > 0))
        seconds = 0;
    if (limit < 0)
        limit = 0;
    if (seconds >= 10 || seconds == 0) {
        decimals = 0;
    } else {
        /* two significant digits: 1.2, 0.13, 0.013 */
        double scale = 1;

        for (decimals = 1; decimals < limit && seconds < scale; decimals++)
            scale /= 10;
        if (decimals > limit)
            decimals = limit;
    }
    vstring_sprintf_append(out, "%.*f", decimals, seconds);
    if (decimals > 0) {
        char *s = vstring_str(out) + start;
        size_t len = strlen(s);

        while (len > 1 && s[len - 1] == '0')
            len--;
        if (s[len - 1] == '.')
            len--;
        vstring_truncate(out, start + len);
    }
    return out;
}

/* deliver_clean_text - one line of printable text */

static void deliver_clean_text(VSTRING *buf)
{
    for (char *cp = vstring_str(buf); *cp; cp++)
        if ((unsigned char) *cp < 0x20 || *cp == 0x7f)
            *cp = ' ';
    vstring_trim_right(buf);
}

/* deliver_clean_dsn - "X.Y.Z" with the class digit the outcome needs */

static void deliver_clean_dsn(VSTRING *out, const char *dsn, char class)
{
    const char *cp = dsn ? dsn : "";
    int ok = (*cp == '2' || *cp == '4' || *cp == '5') && cp[1] == '.';
    int parts = 0;

    if (ok) {
        for (cp += 2; ok && parts < 2; parts++) {
            size_t digits = strspn(cp, "0123456789");

            ok = digits >= 1 && digits <= 3;
            cp += digits;
            if (ok && parts == 0)
                ok = *cp++ == '.';
        }
        ok = ok && *cp == 0;
    }
    if (ok)
        vstring_sprintf(out, "%c%s", class, dsn + 1);
    else
        vstring_sprintf(out, "%c.0.0", class);
}

static double deliver_tv_diff(const struct timeval *a, const struct timeval *b)
{
    double d = (double) (a->tv_sec - b->tv_sec) + (double) (a->tv_usec - b->tv_usec) / 1e6;

    return d > 0 ? d : 0;
}

static void deliver_quote(VSTRING *out, const char *addr)
{
    if (address_quote(out, addr) < 0)
        vstring_strcpy(out, addr);      /* msg.c neutralises the control characters */
}

/* deliver_log_line - the status line, for any destination address */

void deliver_log_line(DELIVER_REQUEST *req, const char *to, const char *orig, const char *relay,
                      const char *dsn, const char *status, const char *reason)
{
    VSTRING *line = vstring_alloc(200);
    VSTRING *addr = vstring_alloc(100);
    struct timeval now;
    double c = 0, d = 0;

    gettimeofday(&now, NULL);
    if (req->start.tv_sec) {
        if (req->conn_done.tv_sec) {
            c = deliver_tv_diff(&req->conn_done, &req->start);
            d = deliver_tv_diff(&now, &req->conn_done);
        } else {
            d = deliver_tv_diff(&now, &req->start);
        }
    }
    deliver_quote(addr, to);
    vstring_sprintf(line, "%s: to=<%s>", req->queue_id, vstring_str(addr));
    if (orig && *orig && strcasecmp(orig, to) != 0) {
        deliver_quote(addr, orig);
        vstring_sprintf_append(line, ", orig_to=<%s>", vstring_str(addr));
    }
    vstring_sprintf_append(line, ", relay=%s, delay=", relay && *relay ? relay : "none");
    deliver_delay_format(line, deliver_tv_diff(&now, &req->arrival));
    vstring_strcat(line, ", delays=");
    deliver_delay_format(line, req->delay_a);
    vstring_strcat(line, "/");
    deliver_delay_format(line, req->delay_b);
    vstring_strcat(line, "/");
    deliver_delay_format(line, c);
    vstring_strcat(line, "/");
    deliver_delay_format(line, d);
    vstring_sprintf_append(line, ", dsn=%s, status=%s (%s)", dsn, status, reason);
    msg_info("%s", vstring_str(line));
    vstring_free(line);
    vstring_free(addr);
}

/* deliver_log - the status line of queue file recipient i */

static void deliver_log(DELIVER_REQUEST *req, int i, const char *relay, const char *dsn,
                        const char *status, const char *reason)
{
    DELIVER_RCPT *rcpt = req->rcpt + i;

    deliver_log_line(req, rcpt->address, rcpt->orig, relay, dsn, status, reason);
}

/* ---------------------------------------------------------------- */
/* notes: writing */

DELIVER_NOTE *deliver_note_alloc(void)
{
    DELIVER_NOTE *note = mycalloc(1, sizeof(*note));

    note->recipient = mystrdup("");
    note->orig_recipient = mystrdup("");
    note->orcpt = mystrdup("");
    note->status = mystrdup("");
    note->action = mystrdup("");
    note->reason = mystrdup("");
    note->relay = mystrdup("");
    return note;
}

void deliver_note_free(DELIVER_NOTE *note)
{
    myfree(note->recipient);
    myfree(note->orig_recipient);
    myfree(note->orcpt);
    myfree(note->status);
    myfree(note->action);
    myfree(note->reason);
    myfree(note->relay);
    myfree(note);
}

static void deliver_note_field(VSTRING *buf, VSTRING *tmp, const char *name, const char *value)
{
    size_t max = DELIVER_NOTE_LINE_MAX - strlen(name) - 2;     /* "name=value\n" fits the reader */

    vstring_strcpy(tmp, value ? value : "");
    deliver_clean_text(tmp);
    if (vstring_len(tmp) > max)
        vstring_truncate(tmp, max);
    vstring_sprintf_append(buf, "%s=%s\n", name, vstring_str(tmp));
}

/*
 * deliver_note_owner - a note made by an agent that runs as root (local,
 * virtual) must belong to mail_owner, or bounce(8) and qmgr cannot read it
 */

static void deliver_note_owner(int fd, const char *path)
{
    UGID_USER owner;

    if (geteuid() != 0)
        return;
    if (ugid_user_byname(var_mail_owner, &owner) <= 0)
        msg_warn("%s: unknown mail_owner \"%s\": note left owned by root", path, var_mail_owner);
    else if (fchown(fd, owner.uid, owner.gid) < 0)
        msg_warn("%s: cannot give the note to %s: %m", path, var_mail_owner);
}

/* deliver_note_fd - the note file of req in dir, opened (and created) once */

static int deliver_note_fd(DELIVER_REQUEST *req, const char *dir)
{
    int which = strcmp(dir, BOUNCE_LOG_DIR) == 0 ? NOTE_BOUNCE : NOTE_DEFER;
    VSTRING *path;
    VSTRING *why;
    int fd;

    if (req->note_fd[which] >= 0)
        return req->note_fd[which];
    if (!queue_id_ok(req->queue_id)) {
        msg_warn("bad queue id \"%.50s\" for a %s note", req->queue_id, dir);
        return -1;
    }
    path = vstring_alloc(100);
    why = vstring_alloc(100);
    vstring_sprintf(path, "%s/%s", dir, req->queue_id);
    for (int tries = 0; tries < 3; tries++) {
        fd = safe_open_existing(vstring_str(path), O_WRONLY | O_APPEND, SAFE_OPEN_ANY_UID,
                                NULL, why);
        if (fd >= 0 || errno != ENOENT)
            break;
        fd = safe_create(vstring_str(path), O_WRONLY | O_APPEND, 0600, why);
        if (fd >= 0) {
            deliver_note_owner(fd, vstring_str(path));
            if (safe_fsync_dir(vstring_str(path)) < 0)
                msg_warn("%s: fsync directory: %m", vstring_str(path));
            break;
        }
        if (errno != EEXIST)
            break;
    }
    if (fd < 0)
        msg_warn("%s: cannot open note file: %s", req->queue_id, vstring_str(why));
    req->note_fd[which] = fd;
    vstring_free(path);
    vstring_free(why);
    return fd;
}

int deliver_note_append(DELIVER_REQUEST *req, const char *dir, const DELIVER_NOTE *note)
{
    VSTRING *buf = vstring_alloc(300);
    VSTRING *tmp = vstring_alloc(100);
    int fd;
    int ret = -1;

    if ((fd = deliver_note_fd(req, dir)) < 0)
        goto out;
    deliver_note_field(buf, tmp, "recipient", note->recipient);
    if (*note->orig_recipient)
        deliver_note_field(buf, tmp, "orig_recipient", note->orig_recipient);
    vstring_sprintf_append(buf, "offset=%lld\n", (long long) note->offset);
    vstring_sprintf_append(buf, "notify=%ld\n", note->notify);
    if (*note->orcpt)
        deliver_note_field(buf, tmp, "orcpt", note->orcpt);
    deliver_note_field(buf, tmp, "status", note->status);
    deliver_note_field(buf, tmp, "action", note->action);
    deliver_note_field(buf, tmp, "reason", note->reason);
    deliver_note_field(buf, tmp, "relay", note->relay);
    vstring_sprintf_append(buf, "time=%lld\n\n", (long long) note->time);
    if (write_buf(fd, vstring_str(buf), vstring_len(buf), 0) < 0 || fsync(fd) < 0) {
        msg_warn("%s: cannot write %s note: %m", req->queue_id, dir);
        goto out;
    }
    ret = 0;
out:
    vstring_free(buf);
    vstring_free(tmp);
    return ret;
}

static int deliver_note_rcpt(DELIVER_REQUEST *req, int i, const char *dir, const char *relay,
                             const char *dsn, const char *action, const char *reason)
{
    DELIVER_RCPT *rcpt = req->rcpt + i;
    DELIVER_NOTE note;

    note.recipient = rcpt->address;
    note.orig_recipient = rcpt->orig;
    note.offset = rcpt->offset;
    note.notify = rcpt->notify;
    note.orcpt = rcpt->orcpt;
    note.status = (char *) dsn;
    note.action = (char *) action;
    note.reason = (char *) reason;
    note.relay = (char *) (relay && *relay ? relay : "none");
    note.time = time(NULL);
    return deliver_note_append(req, dir, &note);
}

/* ---------------------------------------------------------------- */
/* the three outcomes */

static int deliver_mark_done(DELIVER_REQUEST *req, int i)
{
    VSTREAM *fp = deliver_request_open(req);

    if (fp == NULL || rec_mark_done(fp, req->rcpt[i].offset) < 0) {
        msg_warn("%s: cannot mark recipient %s done in the queue file: it may be delivered "
                 "again", req->queue_id, req->rcpt[i].address);
        return -1;
    }
    return 0;
}

static void deliver_reason(VSTRING *out, const char *fmt, va_list ap)
{
    vstring_reset(out);
    vstring_vsprintf_append(out, fmt, ap);
    deliver_clean_text(out);
}

static void deliver_check_index(DELIVER_REQUEST *req, int i, const char *what)
{
    if (i < 0 || i >= req->rcpt_count)
        msg_panic("%s: recipient index %d out of range 0..%d", what, i, req->rcpt_count - 1);
}

int deliver_sent(DELIVER_REQUEST *req, int i, const char *relay, const char *dsn,
                 const char *fmt, ...)
{
    VSTRING *reason = vstring_alloc(100);
    VSTRING *code = vstring_alloc(10);
    va_list ap;
    int ret;

    deliver_check_index(req, i, "deliver_sent");
    va_start(ap, fmt);
    deliver_reason(reason, fmt, ap);
    va_end(ap);
    deliver_clean_dsn(code, dsn, '2');
    ret = deliver_mark_done(req, i);
    req->rcpt[i].result = DELIVER_RESULT_SENT;
    deliver_log(req, i, relay, vstring_str(code), "sent", vstring_str(reason));
    vstring_free(reason);
    vstring_free(code);
    return ret;
}

static int deliver_defer_text(DELIVER_REQUEST *req, int i, const char *relay, const char *dsn,
                              const char *reason)
{
    VSTRING *code = vstring_alloc(10);
    int ret;

    deliver_clean_dsn(code, dsn, '4');
    ret = deliver_note_rcpt(req, i, DEFER_LOG_DIR, relay, vstring_str(code),
                            DELIVER_ACTION_DELAYED, reason);
    req->rcpt[i].result = DELIVER_RESULT_DEFERRED;
    deliver_log(req, i, relay, vstring_str(code), "deferred", reason);
    vstring_free(code);
    return ret;
}

int deliver_defer(DELIVER_REQUEST *req, int i, const char *relay, const char *dsn,
                  const char *fmt, ...)
{
    VSTRING *reason = vstring_alloc(100);
    va_list ap;
    int ret;

    deliver_check_index(req, i, "deliver_defer");
    va_start(ap, fmt);
    deliver_reason(reason, fmt, ap);
    va_end(ap);
    ret = deliver_defer_text(req, i, relay, dsn, vstring_str(reason));
    vstring_free(reason);
    return ret;
}

int deliver_bounce(DELIVER_REQUEST *req, int i, const char *relay, const char *dsn,
                   const char *fmt, ...)
{
    VSTRING *reason = vstring_alloc(100);
    VSTRING *code = vstring_alloc(10);
    va_list ap;
    int ret;

    deliver_check_index(req, i, "deliver_bounce");
    va_start(ap, fmt);
    deliver_reason(reason, fmt, ap);
    va_end(ap);
    deliver_clean_dsn(code, dsn, '5');
    if (deliver_note_rcpt(req, i, BOUNCE_LOG_DIR, relay, vstring_str(code),
                          DELIVER_ACTION_FAILED, vstring_str(reason)) < 0) {
        (void) deliver_defer_text(req, i, relay, "4.3.0", vstring_str(reason));
        ret = -1;
    } else {
        ret = deliver_mark_done(req, i);
        req->rcpt[i].result = DELIVER_RESULT_BOUNCED;
        deliver_log(req, i, relay, vstring_str(code), "bounced", vstring_str(reason));
    }
    vstring_free(reason);
    vstring_free(code);
    return ret;
}

/* ---------------------------------------------------------------- */
/* notes: reading */

VSTREAM *deliver_note_open(const char *dir, const char *queue_id)
{
    VSTRING *path;
    VSTRING *why;
    VSTREAM *fp = NULL;
    int fd;

    if (!queue_id_ok(queue_id)) {
        msg_warn("bad queue id \"%.50s\" for a %s note", queue_id, dir);
        errno = EINVAL;
        return NULL;
    }
    path = vstring_alloc(100);
    why = vstring_alloc(100);
    vstring_sprintf(path, "%s/%s", dir, queue_id);
    fd = safe_open_existing(vstring_str(path), O_RDONLY, SAFE_OPEN_ANY_UID, NULL, why);
    if (fd >= 0) {
        fp = vstream_fdopen(fd, O_RDONLY);
        vstream_set_path(fp, vstring_str(path));
    } else if (errno != ENOENT) {
        int saved = errno;

        msg_warn("%s", vstring_str(why));
        errno = saved;
    }
    vstring_free(path);
    vstring_free(why);
    return fp;
}

static int deliver_note_number(const char *text, long long *out)
{
    char *end;

    if (*text < '0' || *text > '9')
        return -1;
    errno = 0;
    *out = strtoll(text, &end, 10);
    return errno || *end ? -1 : 0;
}

/* deliver_note_store - one name=value into note; 0 or -1 */

static int deliver_note_store(DELIVER_NOTE *note, const char *name, const char *value)
{
    long long num;

#define SET(f) deliver_request_set(&note->f, value)
    if (strcmp(name, "recipient") == 0)
        SET(recipient);
    else if (strcmp(name, "orig_recipient") == 0)
        SET(orig_recipient);
    else if (strcmp(name, "orcpt") == 0)
        SET(orcpt);
    else if (strcmp(name, "status") == 0)
        SET(status);
    else if (strcmp(name, "action") == 0)
        SET(action);
    else if (strcmp(name, "reason") == 0)
        SET(reason);
    else if (strcmp(name, "relay") == 0)
        SET(relay);
    else if (strcmp(name, "offset") == 0) {
        if (deliver_note_number(value, &num) < 0)
            return -1;
        note->offset = (off_t) num;
    } else if (strcmp(name, "notify") == 0) {
        if (deliver_note_number(value, &num) < 0 || num > 0xffff)
            return -1;
        note->notify = (long) num;
    } else if (strcmp(name, "time") == 0) {
        if (deliver_note_number(value, &num) < 0)
            return -1;
        note->time = (time_t) num;
    }
#undef SET
    return 0;
}

static void deliver_note_clear(DELIVER_NOTE *note)
{
    deliver_request_set(&note->recipient, "");
    deliver_request_set(&note->orig_recipient, "");
    deliver_request_set(&note->orcpt, "");
    deliver_request_set(&note->status, "");
    deliver_request_set(&note->action, "");
    deliver_request_set(&note->reason, "");
    deliver_request_set(&note->relay, "");
    note->offset = 0;
    note->notify = 0;
    note->time = 0;
}

int deliver_note_read(VSTREAM *fp, DELIVER_NOTE *note)
{
    VSTRING *line = vstring_alloc(200);
    int bad = 0;
    int lines = 0;
    int ch;
    int ret = 0;

    deliver_note_clear(note);
    while ((ch = vstream_get_line(fp, line, DELIVER_NOTE_LINE_MAX)) != VSTREAM_EOF) {
        if (ch != '\n') {
            if (vstring_len(line) >= DELIVER_NOTE_LINE_MAX) {
                /* skip the rest of the over-long line; it is a line of this block */
                bad = 1;
                lines++;
                while ((ch = vstream_get_line(fp, line, DELIVER_NOTE_LINE_MAX)) != VSTREAM_EOF
                       && ch != '\n')
                     /* void */ ;
                continue;
            }
            break;                              /* unfinished last line */
        }
        vstring_truncate(line, vstring_len(line) - 1);
        if (vstring_len(line) == 0) {
            if (lines == 0)
                continue;
            if (!bad && *note->recipient) {
                ret = 1;
                break;
            }
            msg_warn("%s: skipping malformed note", vstream_path(fp));
            deliver_note_clear(note);
            bad = 0;
            lines = 0;
            continue;
        }
        lines++;
        char *eq = strchr(vstring_str(line), '=');

        if (eq == NULL || eq == vstring_str(line) || lines > NOTE_FIELDS_MAX) {
            bad = 1;
            continue;
        }
        *eq = 0;
        if (deliver_note_store(note, vstring_str(line), eq + 1) < 0)
            bad = 1;
    }
    if (ret == 0)
        deliver_note_clear(note);
    vstring_free(line);
    return ret;
}

int deliver_note_remove(const char *dir, const char *queue_id)
{
    VSTRING *path;
    int ret;

    if (!queue_id_ok(queue_id)) {
        errno = EINVAL;
        return -1;
    }
    path = vstring_alloc(100);
    vstring_sprintf(path, "%s/%s", dir, queue_id);
    if ((ret = unlink(vstring_str(path))) < 0 && errno != ENOENT)
        msg_warn("remove %s: %m", vstring_str(path));
    vstring_free(path);
    return ret;
}
