/*
 * NAME
 *	bounce_warn - remember that a delay warning was sent
 * SYNOPSIS
 *	#include "bounce_warn.h"
 *
 *	int bounce_warn_due(time_t arrival, time_t now)
 *	int bounce_warn_sent(const char *queue_id)
 *	int bounce_warn_mark(const char *queue_id)
 * DESCRIPTION
 *	bounce_warn_due() says whether a message of that age is due a
 *	delay warning under delay_warning_time.
 *
 *	bounce_warn_sent() looks at the permission bits of
 *	defer/QUEUE_ID: the owner-execute bit set means "warned".
 *
 *	bounce_warn_mark() sets that bit. It first tries fchmod() on the
 *	file it opened (without following a symbolic link, one link
 *	only); when the file belongs to another user (EPERM), it writes a
 *	copy as defer/.QUEUE_ID.warn (mode 0700), syncs it and renames it
 *	over the original, then syncs the directory.
 * DIAGNOSTICS
 *	Failures are logged with msg_warn() and returned as -1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounce_warn.h"
#include "deliver_proto.h"
#include "iostuff.h"
#include "mail_params.h"
#include "msg.h"
#include "queue_id.h"
#include "safe_open.h"
#include "vstring.h"

#define BOUNCE_WARN_BIT S_IXUSR

int bounce_warn_due(time_t arrival, time_t now)
{
    if (var_delay_warning_time <= 0)
        return 0;
    return now - arrival >= (time_t)var_delay_warning_time;
}

static int bounce_warn_path(VSTRING *path, const char *queue_id)
{
    if (!queue_id_ok(queue_id)) {
        msg_warn("bad queue id \"%.50s\" for a delay warning mark", queue_id);
        errno = EINVAL;
        return -1;
    }
    vstring_sprintf(path, "%s/%s", DEFER_LOG_DIR, queue_id);
    return 0;
}

int bounce_warn_sent(const char *queue_id)
{
    VSTRING *path = vstring_alloc(100);
    struct stat st;
    int ret = -1;

    if (bounce_warn_path(path, queue_id) < 0)
        goto out;
    if (lstat(vstring_str(path), &st) < 0) {
        if (errno == ENOENT)
            ret = 0;
        else
            msg_warn("lstat %s: %m", vstring_str(path));
        goto out;
    }
    ret = S_ISREG(st.st_mode) && (st.st_mode & BOUNCE_WARN_BIT) ? 1 : 0;
out:
    vstring_free(path);
    return ret;
}

/* bounce_warn_copy - replace path by a marked copy of the file open on fd */

static int bounce_warn_copy(int fd, const char *path, const char *queue_id)
{
    VSTRING *tmp = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    char buf[8192];
    ssize_t n;
    int out;
    int ret = -1;

    vstring_sprintf(tmp, "%s/.%s.warn", DEFER_LOG_DIR, queue_id);
    (void)unlink(vstring_str(tmp)); /* left by a crash */
    if ((out = safe_create(vstring_str(tmp), O_WRONLY, 0700, why)) < 0) {
        msg_warn("%s", vstring_str(why));
        goto out;
    }
    if (fchmod(out, 0700) < 0) {
        msg_warn("chmod %s: %m", vstring_str(tmp));
        goto fail;
    }
    if (lseek(fd, 0, SEEK_SET) < 0) {
        msg_warn("seek %s: %m", path);
        goto fail;
    }
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            msg_warn("read %s: %m", path);
            goto fail;
        }
        if (write_buf(out, buf, (size_t)n, 0) < 0) {
            msg_warn("write %s: %m", vstring_str(tmp));
            goto fail;
        }
    }
    if (fsync(out) < 0 || close(out) < 0) {
        out = -1;
        msg_warn("sync %s: %m", vstring_str(tmp));
        goto fail;
    }
    out = -1;
    if (rename(vstring_str(tmp), path) < 0) {
        msg_warn("rename %s to %s: %m", vstring_str(tmp), path);
        goto fail;
    }
    if (safe_fsync_dir(path) < 0)
        msg_warn("%s: fsync directory: %m", path);
    ret = 0;
    goto out;
fail:
    if (out >= 0)
        (void)close(out);
    (void)unlink(vstring_str(tmp));
out:
    vstring_free(tmp);
    vstring_free(why);
    return ret;
}

int bounce_warn_mark(const char *queue_id)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    struct stat st;
    int fd = -1;
    int ret = -1;

    if (bounce_warn_path(path, queue_id) < 0)
        goto out;
    fd = safe_open_existing(vstring_str(path), O_RDONLY, SAFE_OPEN_ANY_UID, &st, why);
    if (fd < 0) {
        int saved = errno;

        msg_warn("%s", vstring_str(why));
        errno = saved;
        goto out;
    }
    if (st.st_mode & BOUNCE_WARN_BIT) {
        ret = 0;
    } else if (fchmod(fd, (st.st_mode & 07777) | BOUNCE_WARN_BIT) == 0) {
        if (fsync(fd) < 0)
            msg_warn("fsync %s: %m", vstring_str(path));
        else
            ret = 0;
    } else if (errno == EPERM) {
        ret = bounce_warn_copy(fd, vstring_str(path), queue_id);
    } else {
        msg_warn("chmod %s: %m", vstring_str(path));
    }
out:
    if (fd >= 0)
        (void)close(fd);
    vstring_free(path);
    vstring_free(why);
    return ret;
}
