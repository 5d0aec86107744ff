/*
 * NAME
 *	postsuper_struct - postsuper -s and -p: check and repair the queue
 * SYNOPSIS
 *	#include "postsuper.h"
 *
 *	int ps_structure(int *renamed, int *moved, int *fixed)
 *	int ps_purge(void)
 * DESCRIPTION
 *	ps_structure() looks at every entry of incoming/, active/,
 *	deferred/ and hold/ (active/ only while the mail system is
 *	stopped: while it runs, the files there are qmgr's):
 *
 *	- a name that is not a queue ID, anything but a regular file, or a
 *	  file with more than one hard link is moved to corrupt/ (under
 *	  the same name, or NAME.N when that is taken);
 *	- a queue file whose name does not match its inode number (the
 *	  queue was restored from a backup or copied from another machine,
 *	  so IDs are no longer unique) is renamed to an ID made from its
 *	  inode number (lib/queue_id.h), together with its defer, bounce
 *	  and trace notes, when no file in any queue has that ID yet;
 *	- a queue file that is not in mode 0700 is read: a complete file
 *	  gets mode 0700, which qmgr needs before it takes it; anything
 *	  else goes to corrupt/ (a file in incoming/ in mode 0600 is one
 *	  that cleanup is still writing: it is not looked at at all);
 *	- when run by root, a queue file that mail_owner does not own is
 *	  given to mail_owner.
 *	Every change is made under the lock ps_open() takes, and logged.
 *	The counts of renamed messages, files moved to corrupt/ and files
 *	whose owner or mode was fixed are added to the arguments.
 *
 *	ps_purge() removes what crashed programs left behind: files in
 *	incoming/ still in mode 0600 (cleanup died while writing them) and
 *	postdrop's temporary files in maildrop/, when they have not changed
 *	for PS_PURGE_AGE seconds. It returns how many it removed.
 * DIAGNOSTICS
 *	Each repair is logged; problems are warnings.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "mail_params.h"
#include "maildrop.h"
#include "msg.h"
#include "postsuper.h"
#include "qfile.h"
#include "queue_id.h"
#include "set_ugid.h"
#include "vstream.h"
#include "vstring.h"

#define PS_PURGE_AGE (24 * 3600) /* seconds without change: left over */
#define PS_RENAME_TRIES 20

static const char *ps_struct_queues[] = {"incoming", "active", "deferred", "hold", NULL};

/* ps_names - every entry of a directory but . and .. */

static ARGV *ps_names(const char *dir)
{
    ARGV *names = argv_alloc(32);
    struct dirent *dp;
    DIR *dp_dir;

    if ((dp_dir = opendir(dir)) == NULL) {
        if (errno != ENOENT)
            msg_warn("open directory %s: %m", dir);
        return names;
    }
    while ((dp = readdir(dp_dir)) != NULL)
        if (strcmp(dp->d_name, ".") != 0 && strcmp(dp->d_name, "..") != 0)
            argv_add(names, dp->d_name);
    closedir(dp_dir);
    return names;
}

/* ps_corrupt - move QUEUE/NAME to corrupt/; 1 when moved */

static int ps_corrupt(const char *queue, const char *name, const char *why)
{
    VSTRING *from = vstring_alloc(50);
    VSTRING *to = vstring_alloc(50);
    int ret = 0;

    vstring_sprintf(from, "%s/%s", queue, name);
    for (int n = 0; n < 100; n++) {
        if (n == 0)
            vstring_sprintf(to, "corrupt/%s", name);
        else
            vstring_sprintf(to, "corrupt/%s.%d", name, n);
        if (renameat2(AT_FDCWD, vstring_str(from), AT_FDCWD, vstring_str(to), RENAME_NOREPLACE) ==
            0) {
            msg_warn("%s: %s: moved to %s", vstring_str(from), why, vstring_str(to));
            ret = 1;
            break;
        }
        if (errno != EEXIST) {
            msg_warn("%s: %s: move to %s: %m", vstring_str(from), why, vstring_str(to));
            break;
        }
    }
    vstring_free(from);
    vstring_free(to);
    return ret;
}

/* ps_id_taken - does any queue or note directory use id? */

static int ps_id_taken(const char *id)
{
    static const char *dirs[] = {"maildrop", "incoming", "active", "deferred", "hold",
                                 "corrupt",  "defer",    "bounce", "trace",    NULL};
    VSTRING *path = vstring_alloc(50);
    struct stat st;
    int taken = 0;

    for (int i = 0; dirs[i] && !taken; i++) {
        vstring_sprintf(path, "%s/%s", dirs[i], id);
        taken = lstat(vstring_str(path), &st) == 0;
    }
    vstring_free(path);
    return taken;
}

/* ps_inode_ok - does the name's inode part match? */

static int ps_inode_ok(const char *id, ino_t ino)
{
    char buf[QUEUE_ID_BUFSIZE];

    snprintf(buf, sizeof(buf), "%llX", (unsigned long long)ino);
    return strcmp(id + QUEUE_ID_USEC_DIGITS, buf) == 0;
}

/* ps_renumber - rename QUEUE/ID to match its inode number; 1 when renamed */

static int ps_renumber(const char *queue, const char *id)
{
    VSTRING *new_id = vstring_alloc(QUEUE_ID_BUFSIZE);
    VSTRING *from = vstring_alloc(50);
    VSTRING *to = vstring_alloc(50);
    char usec_text[QUEUE_ID_USEC_DIGITS + 1];
    struct timeval tv;
    struct stat st;
    long usec;
    int fd;
    int ret = 0;

    if ((fd = ps_open(queue, id, &st)) < 0)
        goto out;
    /* keep the old microseconds when they are valid, else any free ones */
    memcpy(usec_text, id, QUEUE_ID_USEC_DIGITS);
    usec_text[QUEUE_ID_USEC_DIGITS] = 0;
    usec = strtol(usec_text, NULL, 16);
    for (int tries = 0; tries < PS_RENAME_TRIES; tries++) {
        if (tries > 0 || usec > 999999)
            usec = random() % 1000000;
        tv.tv_sec = 0;
        tv.tv_usec = usec;
        queue_id_make(new_id, st.st_ino, &tv);
        if (!ps_id_taken(vstring_str(new_id)))
            break;
        vstring_reset(new_id);
    }
    if (vstring_len(new_id) == 0) {
        msg_warn("%s/%s: name does not match its inode number; no free queue ID found", queue, id);
        goto out;
    }
    vstring_sprintf(from, "%s/%s", queue, id);
    vstring_sprintf(to, "%s/%s", queue, vstring_str(new_id));
    if (renameat2(AT_FDCWD, vstring_str(from), AT_FDCWD, vstring_str(to), RENAME_NOREPLACE) < 0) {
        msg_warn("%s: rename %s to %s: %m", id, vstring_str(from), vstring_str(to));
        goto out;
    }
    ps_rename_notes(id, vstring_str(new_id));
    msg_info("%s: renamed to %s: the name did not match the inode number", id, vstring_str(new_id));
    ret = 1;
out:
    if (fd >= 0)
        close(fd);
    vstring_free(new_id);
    vstring_free(from);
    vstring_free(to);
    return ret;
}

/* ps_fix_file - mode and owner of one queue file; adds to *fixed and *moved */

static void ps_fix_file(const char *queue, const char *id, const struct stat *seen,
                        const UGID_USER *owner, int *fixed, int *moved)
{
    QFILE_ENV *env;
    VSTRING *why;
    VSTREAM *fp;
    struct stat st;
    int ok;
    int fd;

    if ((seen->st_mode & 07777) == 0700 && (owner == NULL || seen->st_uid == owner->uid))
        return;
    if ((fd = ps_open(queue, id, &st)) < 0)
        return;
    if ((st.st_mode & 07777) != 0700) {
        env = qfile_env_alloc();
        why = vstring_alloc(100);
        fp = vstream_fdopen(fd, O_RDONLY);
        ok = qfile_read(fp, QFILE_FLAG_CONTENT, env, why) == 0;
        vstream_fdclose(fp);
        if (!ok) {
            close(fd);
            fd = -1;
            *moved += ps_corrupt(queue, id, vstring_str(why));
        } else if (fchmod(fd, 0700) < 0) {
            msg_warn("%s/%s: change mode: %m", queue, id);
        } else {
            msg_info("%s/%s: mode changed from %04o to 0700", queue, id,
                     (unsigned)(st.st_mode & 07777));
            (*fixed)++;
        }
        vstring_free(why);
        qfile_env_free(env);
    }
    if (fd >= 0 && owner && st.st_uid != owner->uid) {
        if (fchown(fd, owner->uid, owner->gid) < 0) {
            msg_warn("%s/%s: change owner: %m", queue, id);
        } else {
            msg_info("%s/%s: owner changed from %ld to %s", queue, id, (long)st.st_uid,
                     owner->name);
            (*fixed)++;
        }
    }
    if (fd >= 0)
        close(fd);
}

int ps_structure(int *renamed, int *moved, int *fixed)
{
    VSTRING *path = vstring_alloc(50);
    UGID_USER owner_buf;
    UGID_USER *owner = NULL;
    struct stat st;
    ARGV *names;

    if (getuid() == 0 && ugid_user_byname(var_mail_owner, &owner_buf) == 1)
        owner = &owner_buf;
    for (int q = 0; ps_struct_queues[q]; q++) {
        const char *queue = ps_struct_queues[q];

        if (strcmp(queue, "active") == 0 && ps_master_running) {
            msg_warn("queue active: not checked while the mail system is running");
            continue;
        }
        names = ps_names(queue);
        for (int i = 0; i < names->argc; i++) {
            const char *name = names->argv[i];

            vstring_sprintf(path, "%s/%s", queue, name);
            if (lstat(vstring_str(path), &st) < 0)
                continue; /* gone meanwhile */
            if (strcmp(queue, "incoming") == 0 && queue_id_ok(name) && S_ISREG(st.st_mode) &&
                (st.st_mode & 07777) == 0600)
                continue; /* cleanup is writing it */
            if (!queue_id_ok(name)) {
                *moved += ps_corrupt(queue, name, "not a queue file name");
            } else if (!S_ISREG(st.st_mode)) {
                *moved += ps_corrupt(queue, name, "not a regular file");
            } else if (st.st_nlink != 1) {
                *moved += ps_corrupt(queue, name, "more than one hard link");
            } else if (!ps_inode_ok(name, st.st_ino)) {
                *renamed += ps_renumber(queue, name);
            } else {
                ps_fix_file(queue, name, &st, owner, fixed, moved);
            }
        }
        argv_free(names);
    }
    vstring_free(path);
    return 0;
}

int ps_purge(void)
{
    VSTRING *path = vstring_alloc(50);
    time_t now = time(NULL);
    struct stat st;
    ARGV *names;
    int count = 0;

    names = ps_names("incoming");
    for (int i = 0; i < names->argc; i++) {
        vstring_sprintf(path, "incoming/%s", names->argv[i]);
        if (queue_id_ok(names->argv[i]) && lstat(vstring_str(path), &st) == 0 &&
            S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600 &&
            now - st.st_mtime > PS_PURGE_AGE) {
            if (unlink(vstring_str(path)) < 0) {
                msg_warn("remove %s: %m", vstring_str(path));
            } else {
                msg_info("%s: removed an abandoned incomplete queue file", vstring_str(path));
                ps_remove_notes(names->argv[i]);
                count++;
            }
        }
    }
    argv_free(names);
    names = ps_names(MAILDROP_DIR);
    for (int i = 0; i < names->argc; i++) {
        vstring_sprintf(path, "%s/%s", MAILDROP_DIR, names->argv[i]);
        if (maildrop_temp_name(names->argv[i]) && lstat(vstring_str(path), &st) == 0 &&
            S_ISREG(st.st_mode) && now - st.st_mtime > PS_PURGE_AGE) {
            if (unlink(vstring_str(path)) < 0) {
                msg_warn("remove %s: %m", vstring_str(path));
            } else {
                msg_info("%s: removed an abandoned temporary file", vstring_str(path));
                count++;
            }
        }
    }
    argv_free(names);
    vstring_free(path);
    return count;
}
