/*
 * NAME
 *	cleanup_out - the queue file that cleanup(8) writes
 * SYNOPSIS
 *	#include "cleanup.h"
 *
 *	int cleanup_out_open(CLEANUP_STATE *state)
 *	void cleanup_out_begin(CLEANUP_STATE *state)
 *	void cleanup_out_rec(CLEANUP_STATE *state, int type,
 *				const char *data, size_t len)
 *	void cleanup_out_fmt(CLEANUP_STATE *state, int type,
 *				const char *fmt, ...)
 *	void cleanup_out_text(CLEANUP_STATE *state, int type,
 *				const char *data, size_t len)
 *	void cleanup_out_finish(CLEANUP_STATE *state)
 *	void cleanup_out_abort(CLEANUP_STATE *state)
 * DESCRIPTION
 *	cleanup_out_open() creates the queue file: a temporary file
 *	incoming/tmp.PID.N is created exclusively with mode
 *	CLEANUP_MODE_WRITING, its inode number and the time give the queue
 *	ID (lib/queue_id.h), and the file is renamed to incoming/QUEUEID
 *	without ever replacing an existing file (when that name is taken,
 *	the next microsecond is tried). Returns 0, or -1 (logged) when no
 *	file could be made. The process's working directory is the queue
 *	directory.
 *
 *	cleanup_out_begin() writes the SIZE record with zeros, padded to
 *	the fixed width it will have when cleanup_out_finish() rewrites
 *	it in place.
 *
 *	cleanup_out_rec() writes one record; cleanup_out_fmt() formats its
 *	data first. cleanup_out_text() writes a line of content of any
 *	length as CONT pieces of at most line_length_limit bytes, the last
 *	piece with the given type (NORM when the line ends there, CONT
 *	when it goes on in the next call). All three do nothing once an
 *	error was recorded. They count the file's size, and the content's
 *	size while state->in_content is set (one byte for each line end);
 *	a file that grows past message_size_limit is an error
 *	(CLEANUP_STAT_SIZE). A write error is CLEANUP_STAT_WRITE.
 *
 *	cleanup_out_finish() completes the file: END, the SIZE record
 *	rewritten with the content size, the offset of the MESG record
 *	and the recipient count, mode CLEANUP_MODE_READY, and one
 *	fsync(2) that makes all of it durable. Before the mode changes,
 *	cleanup_act_finish() fills in the xtra_offset record and moves a
 *	held message to hold/. A discarded message (state->discard) is
 *	removed instead, with no error. Errors are recorded in
 *	state (CLEANUP_STAT_WRITE), and the caller then removes the file.
 *
 *	cleanup_out_abort() closes and removes the file (or the temporary
 *	file if the rename had not happened).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cleanup_proto.h"
#include "mail_params.h"
#include "msg.h"
#include "queue_id.h"
#include "rec.h"
#include "safe_open.h"

#define CLEANUP_SIZE_FORMAT "%15lld %15lld %15ld"
#define CLEANUP_CREATE_TRIES 10
#define CLEANUP_RENAME_TRIES 1000

/* cleanup_out_rename - move the temporary file to its queue ID name without replacing anything */

static int cleanup_out_rename(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    /* a file system without RENAME_NOREPLACE: link() never replaces either */
    if (link(from, to) < 0)
        return -1;
    if (unlink(from) < 0)
        msg_warn("remove %s: %m", from);
    return 0;
}

int cleanup_out_open(CLEANUP_STATE *state)
{
    static unsigned long counter;
    VSTRING *why = vstring_alloc(100);
    struct stat st;
    struct timeval tv;
    int fd = -1;

    for (int tries = 0; fd < 0 && tries < CLEANUP_CREATE_TRIES; tries++) {
        vstring_sprintf(state->temp_path, "incoming/tmp.%ld.%lu", (long) getpid(), counter++);
        if ((fd = safe_create(vstring_str(state->temp_path), O_RDWR, CLEANUP_MODE_WRITING, why)) >=
            0)
            break;
        if (errno != EEXIST) {
            msg_warn("%s", vstring_str(why));
            vstring_free(why);
            return -1;
        }
        /* left behind by a dead process that had our process ID */
        (void) unlink(vstring_str(state->temp_path));
    }
    vstring_free(why);
    if (fd < 0) {
        msg_warn("could not create a queue file in incoming/");
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        msg_warn("fstat %s: %m", vstring_str(state->temp_path));
        goto fail;
    }
    gettimeofday(&tv, NULL);
    for (int tries = 0;; tries++) {
        queue_id_make(state->queue_id, st.st_ino, &tv);
        vstring_sprintf(state->path, "incoming/%s", vstring_str(state->queue_id));
        if (cleanup_out_rename(vstring_str(state->temp_path), vstring_str(state->path)) == 0)
            break;
        if (errno != EEXIST || tries >= CLEANUP_RENAME_TRIES) {
            msg_warn("rename %s to %s: %m", vstring_str(state->temp_path),
                     vstring_str(state->path));
            vstring_reset(state->path);
            vstring_reset(state->queue_id);
            goto fail;
        }
        tv.tv_usec = (tv.tv_usec + 1) % 1000000;
    }
    vstring_reset(state->temp_path);
    state->dst = vstream_fdopen(fd, O_RDWR);
    vstream_set_path(state->dst, vstring_str(state->path));
    state->out_offset = 0;
    return 0;

fail:
    close(fd);
    if (unlink(vstring_str(state->temp_path)) < 0)
        msg_warn("remove %s: %m", vstring_str(state->temp_path));
    vstring_reset(state->temp_path);
    return -1;
}

/* cleanup_out_reclen - bytes that rec_put() writes for len bytes of data */

static off_t cleanup_out_reclen(size_t len)
{
    off_t bytes = 2;                            /* type, and the first length byte */

    for (size_t n = len; n >= 128; n >>= 7)
        bytes++;
    return bytes + (off_t) len;
}

void cleanup_out_rec(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    if (state->errs || state->dst == NULL)
        return;
    if (rec_put(state->dst, type, data, len) == REC_TYPE_ERROR) {
        msg_warn("%s: write queue file: %m", cleanup_id(state));
        cleanup_error(state, CLEANUP_STAT_WRITE, "4.3.0 queue file write error");
        return;
    }
    state->out_offset += cleanup_out_reclen(len);
    if (state->in_content)
        state->content_size += (long long) len + (type == REC_TYPE_NORM);
    if (var_message_size_limit > 0 && state->out_offset > var_message_size_limit)
        cleanup_error(state, CLEANUP_STAT_SIZE, "5.3.4 Message size exceeds fixed limit");
}

void cleanup_out_fmt(CLEANUP_STATE *state, int type, const char *fmt, ...)
{
    va_list ap;

    if (state->errs || state->dst == NULL)
        return;
    va_start(ap, fmt);
    vstring_reset(state->temp2);
    vstring_vsprintf_append(state->temp2, fmt, ap);
    va_end(ap);
    cleanup_out_rec(state, type, vstring_str(state->temp2), vstring_len(state->temp2));
}

void cleanup_out_text(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    size_t piece = var_line_length_limit > 0 ? (size_t) var_line_length_limit : len + 1;

    while (len > piece && state->errs == 0) {
        cleanup_out_rec(state, REC_TYPE_CONT, data, piece);
        data += piece;
        len -= piece;
    }
    cleanup_out_rec(state, type, data, len);
}

void cleanup_out_begin(CLEANUP_STATE *state)
{
    state->size_offset = state->out_offset;
    cleanup_out_fmt(state, REC_TYPE_SIZE, CLEANUP_SIZE_FORMAT, 0LL, 0LL, 0L);
}

void cleanup_out_finish(CLEANUP_STATE *state)
{
    int fd;

    if (state->errs || state->dst == NULL)
        return;
    if (state->discard) {                       /* DISCARD: accepted, and dropped */
        cleanup_out_abort(state);
        return;
    }
    cleanup_out_rec(state, REC_TYPE_END, "", 0);
    if (state->errs)
        return;
    if (vstream_fflush(state->dst) == VSTREAM_EOF
        || vstream_fseek(state->dst, state->size_offset, SEEK_SET) < 0) {
        msg_warn("%s: write queue file: %m", cleanup_id(state));
        cleanup_error(state, CLEANUP_STAT_WRITE, "4.3.0 queue file write error");
        return;
    }
    if (rec_fprintf(state->dst, REC_TYPE_SIZE, CLEANUP_SIZE_FORMAT, state->content_size,
                    (long long) state->data_offset, state->rcpt_count) == REC_TYPE_ERROR
        || vstream_fflush(state->dst) == VSTREAM_EOF) {
        msg_warn("%s: update queue file size record: %m", cleanup_id(state));
        cleanup_error(state, CLEANUP_STAT_WRITE, "4.3.0 queue file write error");
        return;
    }
    if (cleanup_act_finish(state) < 0)          /* xtra_offset record; HOLD: into hold/ */
        return;
    fd = vstream_fileno(state->dst);
    if (fchmod(fd, CLEANUP_MODE_READY) < 0 || vstream_fsync(state->dst) == VSTREAM_EOF) {
        msg_warn("%s: complete queue file: %m", cleanup_id(state));
        cleanup_error(state, CLEANUP_STAT_WRITE, "4.3.0 queue file write error");
        return;
    }
    if (vstream_fclose(state->dst) != 0) {
        state->dst = NULL;
        msg_warn("%s: close queue file: %m", cleanup_id(state));
        cleanup_error(state, CLEANUP_STAT_WRITE, "4.3.0 queue file write error");
        return;
    }
    state->dst = NULL;
}

void cleanup_out_abort(CLEANUP_STATE *state)
{
    const char *path;

    if (state->dst) {
        (void) vstream_fclose(state->dst);
        state->dst = NULL;
    }
    path = vstring_len(state->path) ? vstring_str(state->path) : vstring_str(state->temp_path);
    if (*path && unlink(path) < 0 && errno != ENOENT)
        msg_warn("%s: remove %s: %m", cleanup_id(state), path);
    vstring_reset(state->path);
    vstring_reset(state->temp_path);
}
