/*
 * NAME
 *	pickup - hand local submissions from maildrop/ to cleanup(8)
 * SYNOPSIS
 *	pickup [generic daemon options]
 * DESCRIPTION
 *	pickup is a trigger server (lib/mail_server.h) that master(8) wakes
 *	every $wakeup seconds (master.cf: "pickup unix n - y 60 1 pickup")
 *	and that postdrop(1) wakes through public/pickup after each new
 *	file. On each wake-up it scans $queue_directory/maildrop once and,
 *	for each file named by a queue ID (queue_id_ok()):
 *
 *	1. opens it without following a symbolic link and refuses anything
 *	   but a regular file with one link (safe_open_existing());
 *	2. reads it through the maildrop checker (lib/maildrop.h) to the
 *	   END record and end of file: a file that fails is moved to
 *	   corrupt/ with a warning;
 *	3. connects to cleanup (public/cleanup), sends the flags
 *	   CLEANUP_FLAG_LOCAL | CLEANUP_FLAG_MAP_OK | CLEANUP_FLAG_FILTER
 *	   (and CLEANUP_FLAG_EXTRACT when the file asks for recipients from
 *	   the headers) and the records, adding "origin=pickup" and
 *	   "submit_uid=N" (the file's owner), and "action_filter=" with
 *	   $content_filter when that is set, before FROM and leaving out
 *	   extract_recipients, and logs "QUEUEID: uid=N from=<sender>";
 *	4. removes the maildrop file only after cleanup answered status 0.
 *	   A temporary failure (cleanup unreachable, a write error, a
 *	   deferred lookup, a protocol error) leaves the file for the next
 *	   scan and ends this one. A permanent refusal (content, size, hop
 *	   count or recipients) is logged with cleanup's reason and the file
 *	   removed, as a resubmission would be refused the same way.
 *
 *	Other names: postdrop's temporary files (tmp.*) are left to
 *	postdrop, with two exceptions. One that is in the ready mode
 *	(MAILDROP_MODE_READY: postdrop had checked and synced it) and has
 *	not changed for PICKUP_TEMP_RECOVER_AGE seconds lost its rename in
 *	a system crash (postdrop, set-gid only, cannot sync the maildrop
 *	directory): it is passed on as above. Any other that has not
 *	changed for PICKUP_TEMP_MAX_AGE seconds was abandoned by a postdrop
 *	killed with SIGKILL and is removed. Anything else is moved to
 *	corrupt/ with a warning.
 *
 *	pickup runs as mail_owner and may run chrooted: it uses only paths
 *	relative to the queue directory.
 * DIAGNOSTICS
 *	Problems are logged as warnings; a file is never removed before
 *	cleanup has made the message durable.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "cleanup_proto.h"
#include "mail_conf.h"
#include "mail_server.h"
#include "maildrop.h"
#include "msg.h"
#include "queue_id.h"
#include "rec.h"
#include "safe_open.h"
#include "sock.h"
#include "vstream.h"
#include "vstring.h"

#define PICKUP_TEMP_MAX_AGE (24 * 3600) /* seconds before a temp file is abandoned */
#define PICKUP_TEMP_RECOVER_AGE 600     /* seconds before a ready temp file is taken */
#define PICKUP_ATTR_ORIGIN "pickup"
#define PICKUP_ATTR_UID "submit_uid"

#define PICKUP_DONE 0  /* file handled (passed on, moved, or gone) */
#define PICKUP_DEFER 1 /* try again later; stop this scan */

#define PICKUP_PERMANENT                                                                           \
    (CLEANUP_STAT_CONT | CLEANUP_STAT_SIZE | CLEANUP_STAT_HOPS | CLEANUP_STAT_RCPT)
#define PICKUP_TEMPORARY (CLEANUP_STAT_BAD | CLEANUP_STAT_WRITE | CLEANUP_STAT_DEFER)

/* pickup_corrupt - move a maildrop entry out of the way */

static void pickup_corrupt(const char *name, const char *why)
{
    VSTRING *from = vstring_alloc(100);
    VSTRING *to = vstring_alloc(100);

    vstring_sprintf(from, "%s/%s", MAILDROP_DIR, name);
    vstring_sprintf(to, "corrupt/%s", name);
    if (rename(vstring_str(from), vstring_str(to)) < 0)
        msg_warn("%s: %s; cannot move it to corrupt/: %m", vstring_str(from), why);
    else
        msg_warn("%s: %s; moved to corrupt/", vstring_str(from), why);
    vstring_free(from);
    vstring_free(to);
}

/* pickup_check - read the whole file through the checker */

static MAILDROP_CHECK *pickup_check(VSTREAM *fp, VSTRING *buf, VSTRING *why)
{
    MAILDROP_CHECK *mc = maildrop_check_create(0);
    int type;

    for (;;) {
        type = maildrop_get(fp, buf);
        if (type == REC_TYPE_EOF) {
            if (maildrop_check_done(mc))
                return mc;
            vstring_strcpy(why, "file ends before the message does");
            break;
        }
        if (type == REC_TYPE_ERROR) {
            vstring_strcpy(why, "malformed record");
            break;
        }
        if (maildrop_check(mc, type, vstring_str(buf), vstring_len(buf)) < 0) {
            vstring_strcpy(why, maildrop_check_why(mc));
            break;
        }
    }
    maildrop_check_free(mc);
    return NULL;
}

/* pickup_copy - send the records of fp (from its start) to cleanup */

static int pickup_copy(VSTREAM *fp, VSTREAM *cleanup, VSTRING *buf, long uid)
{
    const char *extract = MAILDROP_ATTR_EXTRACT "=";
    int type;

    if (vstream_fseek(fp, 0, SEEK_SET) < 0)
        return -1;
    for (;;) {
        type = maildrop_get(fp, buf);
        if (type == REC_TYPE_EOF)
            return 0;
        if (type == REC_TYPE_ERROR)
            return -1;
        if (type == REC_TYPE_ATTR && strncmp(vstring_str(buf), extract, strlen(extract)) == 0)
            continue;
        if (type == REC_TYPE_FROM &&
            (rec_fprintf(cleanup, REC_TYPE_ATTR, "%s=%s", CLEANUP_ATTR_ORIGIN,
                         PICKUP_ATTR_ORIGIN) != REC_TYPE_ATTR ||
             rec_fprintf(cleanup, REC_TYPE_ATTR, "%s=%ld", PICKUP_ATTR_UID, uid) != REC_TYPE_ATTR
             || (*var_content_filter
                 && rec_fprintf(cleanup, REC_TYPE_ATTR, "%s=%s", CLEANUP_ATTR_ACT_FILTER,
                                var_content_filter) != REC_TYPE_ATTR)))
            return -1;
        if (rec_put(cleanup, type, vstring_str(buf), vstring_len(buf)) != type)
            return -1;
    }
}

/* pickup_send - one checked file to cleanup; PICKUP_DONE or PICKUP_DEFER */

static int pickup_send(const char *path, VSTREAM *fp, MAILDROP_CHECK *mc, long uid, VSTRING *buf)
{
    VSTRING *why = vstring_alloc(100);
    VSTRING *id = vstring_alloc(QUEUE_ID_BUFSIZE);
    VSTRING *reason = vstring_alloc(100);
    VSTREAM *cleanup;
    long status = -1;
    long flags;
    int result = PICKUP_DEFER;
    int fd;

    if ((fd = unix_connect(CLEANUP_SERVICE_PATH, var_ipc_timeout, why)) < 0) {
        msg_warn("%s", vstring_str(why));
        goto done;
    }
    cleanup = vstream_fdopen(fd, O_RDWR);
    vstream_set_path(cleanup, CLEANUP_SERVICE_PATH);
    vstream_set_timeout(cleanup, (int)var_ipc_timeout);
    if (attr_scan(cleanup, ATTR_FLAG_STRICT, ATTR_GET_STR("queue_id", id), ATTR_END) != 1 ||
        !queue_id_ok(vstring_str(id))) {
        msg_warn("%s: no queue ID from %s", path, CLEANUP_SERVICE_PATH);
        vstream_fclose(cleanup);
        goto done;
    }
    flags = CLEANUP_FLAG_LOCAL | CLEANUP_FLAG_MAP_OK | CLEANUP_FLAG_FILTER;
    if (maildrop_check_extract(mc))
        flags |= CLEANUP_FLAG_EXTRACT;
    if (attr_print(cleanup, ATTR_INT("flags", flags), ATTR_END) != 0) {
        msg_warn("%s: %s: send flags to %s: %m", vstring_str(id), path, CLEANUP_SERVICE_PATH);
        vstream_fclose(cleanup);
        goto done;
    }
    msg_info("%s: uid=%ld from=<%s>", vstring_str(id), uid, maildrop_check_sender(mc));
    if (pickup_copy(fp, cleanup, buf, uid) < 0 || vstream_fflush(cleanup) != 0) {
        msg_warn("%s: %s: send message to %s: %m", vstring_str(id), path, CLEANUP_SERVICE_PATH);
        vstream_fclose(cleanup);
        goto done;
    }
    if (attr_scan(cleanup, ATTR_FLAG_NONE, ATTR_GET_INT("status", &status),
                  ATTR_GET_STR("reason", reason), ATTR_END) < 1 ||
        status < 0) {
        msg_warn("%s: %s: no status from %s", vstring_str(id), path, CLEANUP_SERVICE_PATH);
        vstream_fclose(cleanup);
        goto done;
    }
    vstream_fclose(cleanup);
    if (status == CLEANUP_STAT_OK) {
        if (unlink(path) < 0 && errno != ENOENT)
            msg_warn("%s: remove %s: %m", vstring_str(id), path);
        result = PICKUP_DONE;
    } else if ((status & PICKUP_PERMANENT) && (status & PICKUP_TEMPORARY) == 0) {
        msg_warn("%s: uid=%ld from=<%s>: rejected: %s; %s removed", vstring_str(id), uid,
                 maildrop_check_sender(mc),
                 vstring_len(reason) ? vstring_str(reason) : "no reason given", path);
        if (unlink(path) < 0 && errno != ENOENT)
            msg_warn("%s: remove %s: %m", vstring_str(id), path);
        result = PICKUP_DONE;
    } else {
        msg_warn("%s: %s: cleanup status %ld: %s; will try again", vstring_str(id), path, status,
                 vstring_len(reason) ? vstring_str(reason) : "no reason given");
    }
done:
    vstring_free(why);
    vstring_free(id);
    vstring_free(reason);
    return result;
}

/* pickup_file - one complete maildrop file */

static int pickup_file(const char *name)
{
    VSTRING *path = vstring_alloc(100);
    VSTRING *buf = vstring_alloc(1024);
    VSTRING *why = vstring_alloc(100);
    MAILDROP_CHECK *mc;
    struct stat st;
    VSTREAM *fp;
    int result = PICKUP_DONE;
    int fd;

    vstring_sprintf(path, "%s/%s", MAILDROP_DIR, name);
    fd = safe_open_existing(vstring_str(path), O_RDONLY | O_NONBLOCK, SAFE_OPEN_ANY_UID, &st, why);
    if (fd < 0) {
        if (errno == EPERM)
            pickup_corrupt(name, "not a regular file with one link");
        else if (errno != ENOENT)
            msg_warn("%s", vstring_str(why));
        goto done;
    }
    fp = vstream_fdopen(fd, O_RDONLY);
    vstream_set_path(fp, vstring_str(path));
    if ((mc = pickup_check(fp, buf, why)) == NULL) {
        vstream_fclose(fp);
        vstring_sprintf_append(why, " (uid=%ld)", (long)st.st_uid);
        pickup_corrupt(name, vstring_str(why));
        goto done;
    }
    result = pickup_send(vstring_str(path), fp, mc, (long)st.st_uid, buf);
    maildrop_check_free(mc);
    vstream_fclose(fp);
done:
    vstring_free(path);
    vstring_free(buf);
    vstring_free(why);
    return result;
}

/*
 * pickup_temp - a postdrop temporary file. One in the ready mode that has
 * not changed for a while is complete: postdrop makes it ready and syncs
 * it before the rename, which is all a crash can have lost. Pass it on.
 * Anything else is left to postdrop, unless it has been abandoned long.
 */
static int pickup_temp(const char *name)
{
    VSTRING *path = vstring_alloc(100);
    struct stat st;
    time_t age;
    int result = PICKUP_DONE;

    vstring_sprintf(path, "%s/%s", MAILDROP_DIR, name);
    if (lstat(vstring_str(path), &st) == 0) {
        age = time(NULL) - st.st_mtime;
        if (!S_ISREG(st.st_mode)) {
            pickup_corrupt(name, "not a regular file");
        } else if ((st.st_mode & 07777) == MAILDROP_MODE_READY && age > PICKUP_TEMP_RECOVER_AGE) {
            msg_warn("%s: complete but never renamed (uid=%ld); passing it on", vstring_str(path),
                     (long)st.st_uid);
            result = pickup_file(name);
        } else if (age > PICKUP_TEMP_MAX_AGE) {
            if (unlink(vstring_str(path)) == 0)
                msg_warn("%s: removed an abandoned temporary file (uid=%ld)", vstring_str(path),
                         (long)st.st_uid);
            else if (errno != ENOENT)
                msg_warn("remove %s: %m", vstring_str(path));
        }
    }
    vstring_free(path);
    return result;
}

/* pickup_scan - one pass over maildrop/ */

static void pickup_scan(void)
{
    struct dirent *de;
    DIR *dp;

    if ((dp = opendir(MAILDROP_DIR)) == NULL) {
        msg_warn("open directory %s: %m", MAILDROP_DIR);
        return;
    }
    while ((de = readdir(dp)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (queue_id_ok(de->d_name)) {
            if (pickup_file(de->d_name) == PICKUP_DEFER)
                break;
        } else if (maildrop_temp_name(de->d_name)) {
            if (pickup_temp(de->d_name) == PICKUP_DEFER)
                break;
        } else {
            pickup_corrupt(de->d_name, "unexpected file name");
        }
    }
    closedir(dp);
}

/* pickup_trigger - any wake-up request means: scan */

static void pickup_trigger(const char *buf, size_t len, const char *service, char **args)
{
    (void)buf;
    (void)len;
    (void)service;
    (void)args;
    pickup_scan();
}

int main(int argc, char **argv)
{
    trigger_server_main(argc, argv, pickup_trigger, NULL);
}
