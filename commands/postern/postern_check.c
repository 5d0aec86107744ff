/*
 * NAME
 *	postern_check - create and repair the queue directory tree
 * SYNOPSIS
 *	#include "postern.h"
 *
 *	int postern_check(int flags)
 * DESCRIPTION
 *	postern_check() makes the queue directory and its subdirectories
 *	exist with the owners and modes that the daemons expect, checks
 *	that main.cf and master.cf are usable, and warns about
 *	configuration files that others could change. It returns the number
 *	of warnings issued.
 *
 *	When run as root:
 *	.nf
 *	queue_directory		root:root	0755
 *	pid			root:root	0755
 *	maildrop		mail_owner:setgid_group	1730
 *	public			mail_owner:setgid_group	2710
 *	private, incoming, active, deferred, hold, corrupt,
 *	bounce, defer, trace	mail_owner:its group	0700
 *	data_directory		mail_owner:its group	0700
 *	.fi
 *	The queue directory and pid belong to root because master, which
 *	runs as root, trusts what is in them (the queue directory is the
 *	chroot jail; pid/master.pid tells postern which process to
 *	signal). When not run as root, everything belongs to the invoking
 *	user and his primary group, with the same modes.
 *
 *	A missing maillog_file (a path, not a device) is created for
 *	mail_owner, mode 0644, as daemons that run as mail_owner append to
 *	it; an existing one they cannot write draws a warning.
 *
 *	A missing directory is created (the queue directory only when its
 *	parent exists). An existing one with the wrong owner or mode is
 *	repaired, with a warning; the queue and data directories keep any
 *	group and mode the administrator chose, except that group and
 *	other write permission is taken away. With POSTERN_CHECK_DEEP (set-permissions)
 *	the contents of the queue subdirectories, other than maildrop and
 *	pid, are also given to mail_owner.
 * DIAGNOSTICS
 *	Fatal: an unknown or privileged mail_owner, an unknown setgid_group,
 *	something other than a directory where a directory belongs, a
 *	main.cf or master.cf that does not parse, a directory that cannot
 *	be created or repaired.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail_conf.h"
#include "master_cf.h"
#include "msg.h"
#include "postern.h"
#include "set_ugid.h"
#include "vstring.h"

#define OWN_ROOT 1    /* root (the invoking user when not root) */
#define OWN_MAIL 2    /* mail_owner and its primary group */
#define OWN_DROP 3    /* mail_owner and setgid_group */

static const struct {
    const char *name;
    mode_t mode;
    int owner;
} postern_queue_dirs[] = {
    {"maildrop", 01730, OWN_DROP},
    {"public", 02710, OWN_DROP},
    {"private", 0700, OWN_MAIL},
    {"pid", 0755, OWN_ROOT},
    {"incoming", 0700, OWN_MAIL},
    {"active", 0700, OWN_MAIL},
    {"deferred", 0700, OWN_MAIL},
    {"hold", 0700, OWN_MAIL},
    {"corrupt", 0700, OWN_MAIL},
    {"bounce", 0700, OWN_MAIL},
    {"defer", 0700, OWN_MAIL},
    {"trace", 0700, OWN_MAIL},
};

static struct {
    uid_t root_uid;
    gid_t root_gid;
    uid_t mail_uid;
    gid_t mail_gid;
    gid_t drop_gid;
    int warnings;
} pc;

/* postern_check_ids - who should own what */

static void postern_check_ids(void)
{
    UGID_USER owner;
    int found;

    if (geteuid() != 0) {
        pc.root_uid = pc.mail_uid = getuid();
        pc.root_gid = pc.mail_gid = pc.drop_gid = getgid();
        return;
    }
    if ((found = ugid_user_byname(var_mail_owner, &owner)) < 0)
        msg_fatal("look up mail_owner %s: %m", var_mail_owner);
    if (found == 0)
        msg_fatal("file %s/main.cf: parameter mail_owner: unknown user name value: %s",
                  var_config_dir, var_mail_owner);
    if (owner.uid == 0)
        msg_fatal("file %s/main.cf: parameter mail_owner: user %s has privileged user ID",
                  var_config_dir, var_mail_owner);
    if ((found = ugid_group_byname(var_setgid_group, &pc.drop_gid)) < 0)
        msg_fatal("look up setgid_group %s: %m", var_setgid_group);
    if (found == 0)
        msg_fatal("file %s/main.cf: parameter setgid_group: unknown group name: %s",
                  var_config_dir, var_setgid_group);
    if (pc.drop_gid == owner.gid) {
        msg_warn("parameter setgid_group: group %s has the same group ID as mail_owner %s",
                 var_setgid_group, var_mail_owner);
        pc.warnings++;
    }
    pc.root_uid = 0;
    pc.root_gid = 0;
    pc.mail_uid = owner.uid;
    pc.mail_gid = owner.gid;
}

/*
 * postern_check_dir - make path a directory with this owner and mode;
 * when loose, an existing directory keeps its mode less group/other write
 */
static void postern_check_dir(const char *path, uid_t uid, gid_t gid, mode_t mode, int loose)
{
    struct stat st;
    int fd;

    if (lstat(path, &st) < 0) {
        if (errno != ENOENT)
            msg_fatal("%s: %m", path);
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            msg_fatal("create directory %s: %m", path);
        if (msg_verbose)
            msg_info("created directory %s", path);
        if (lstat(path, &st) < 0)
            msg_fatal("%s: %m", path);
        st.st_mode = (st.st_mode & ~07777) | 0700;  /* fixed below, quietly */
        st.st_uid = (uid_t) -1;
    } else if (loose) {
        mode = (st.st_mode & 07777) & ~(mode_t) (S_IWGRP | S_IWOTH);
        if (loose == 2)
            gid = st.st_gid;                    /* any group will do */
    }
    if ((st.st_uid != uid || st.st_gid != gid || (st.st_mode & 07777) != mode)
        && S_ISDIR(st.st_mode) && st.st_uid != (uid_t) -1) {
        msg_warn("fixing the owner and mode of %s (was %ld:%ld %04o, should be %ld:%ld %04o)",
                 path, (long) st.st_uid, (long) st.st_gid, (unsigned) (st.st_mode & 07777),
                 (long) uid, (long) gid, (unsigned) mode);
        pc.warnings++;
    }
    if (!S_ISDIR(st.st_mode))
        msg_fatal("%s: not a directory", path);
    /* through a descriptor of the directory itself: no symlink race */
    if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        msg_fatal("open directory %s: %m", path);
    if ((st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) < 0)
        msg_fatal("change owner of %s to %ld:%ld: %m", path, (long) uid, (long) gid);
    if (fchmod(fd, mode) < 0)
        msg_fatal("change mode of %s to %04o: %m", path, (unsigned) mode);
    close(fd);
}

/* postern_check_tree - give everything below dir to uid:gid (set-permissions) */

static void postern_check_tree(const char *dir, uid_t uid, gid_t gid, int depth)
{
    VSTRING *path;
    struct dirent *de;
    struct stat st;
    DIR *dp;

    if (depth > 8 || (dp = opendir(dir)) == NULL)
        return;
    path = vstring_alloc(100);
    while ((de = readdir(dp)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        vstring_sprintf(path, "%s/%s", dir, de->d_name);
        if (lstat(vstring_str(path), &st) < 0 || S_ISLNK(st.st_mode))
            continue;
        if ((st.st_uid != uid || st.st_gid != gid)
            && lchown(vstring_str(path), uid, gid) < 0)
            msg_warn("change owner of %s: %m", vstring_str(path));
        if (S_ISDIR(st.st_mode))
            postern_check_tree(vstring_str(path), uid, gid, depth + 1);
    }
    closedir(dp);
    vstring_free(path);
}

/*
 * postern_check_maillog - daemons that run as mail_owner append to
 * maillog_file too: create it for mail_owner, or warn when they cannot
 */
static void postern_check_maillog(void)
{
    struct stat st;
    int fd;

    if (var_maillog_file[0] != '/' || strncmp(var_maillog_file, "/dev/", 5) == 0)
        return;
    if (lstat(var_maillog_file, &st) < 0) {
        if (errno != ENOENT)
            msg_fatal("%s: %m", var_maillog_file);
        fd = open(var_maillog_file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
            msg_warn("create maillog_file %s: %m", var_maillog_file);
            pc.warnings++;
            return;
        }
        if (fchown(fd, pc.mail_uid, pc.mail_gid) < 0)
            msg_warn("change owner of %s: %m", var_maillog_file);
        close(fd);
        return;
    }
    if (S_ISREG(st.st_mode) && st.st_uid != pc.mail_uid && (st.st_mode & S_IWOTH) == 0) {
        /* root made it (a command logged before this check): give it to mail_owner */
        if (geteuid() == 0 && st.st_uid == 0 && st.st_nlink == 1
            && (fd = open(var_maillog_file, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
            if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0
                && fchown(fd, pc.mail_uid, pc.mail_gid) == 0) {
                msg_warn("fixing the owner of maillog_file %s (was root, should be %s)",
                         var_maillog_file, var_mail_owner);
                close(fd);
                return;
            }
            close(fd);
        }
        msg_warn("maillog_file %s is not writable by mail_owner: daemons that run as %s "
                 "cannot log", var_maillog_file, var_mail_owner);
        pc.warnings++;
    }
}

/* postern_check_conf_file - warn about a configuration file others may change */

static void postern_check_conf_file(const char *name)
{
    VSTRING *path = vstring_alloc(100);
    struct stat st;

    vstring_sprintf(path, "%s/%s", var_config_dir, name);
    if (stat(vstring_str(path), &st) == 0) {
        if (st.st_mode & (S_IWGRP | S_IWOTH)) {
            msg_warn("group or other writable: %s", vstring_str(path));
            pc.warnings++;
        }
        if (geteuid() == 0 && st.st_uid != 0) {
            msg_warn("not owned by root: %s", vstring_str(path));
            pc.warnings++;
        }
    }
    vstring_free(path);
}

int postern_check(int flags)
{
    VSTRING *buf = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    MASTER_CF *cf;
    uid_t uid;
    gid_t gid;

    pc.warnings = 0;
    postern_check_ids();

    vstring_sprintf(buf, "%s/master.cf", var_config_dir);
    if ((cf = master_cf_read(vstring_str(buf), why)) == NULL)
        msg_fatal("%s", vstring_str(why));
    master_cf_free(cf);
    vstring_free(why);
    postern_check_conf_file("main.cf");
    postern_check_conf_file("master.cf");

    postern_check_dir(var_queue_directory, pc.root_uid, pc.root_gid, 0755, 2);
    for (size_t i = 0; i < sizeof(postern_queue_dirs) / sizeof(postern_queue_dirs[0]); i++) {
        vstring_sprintf(buf, "%s/%s", var_queue_directory, postern_queue_dirs[i].name);
        switch (postern_queue_dirs[i].owner) {
        case OWN_ROOT:
            uid = pc.root_uid;
            gid = pc.root_gid;
            break;
        case OWN_DROP:
            uid = pc.mail_uid;
            gid = pc.drop_gid;
            break;
        default:
            uid = pc.mail_uid;
            gid = pc.mail_gid;
            break;
        }
        postern_check_dir(vstring_str(buf), uid, gid, postern_queue_dirs[i].mode, 0);
        if ((flags & POSTERN_CHECK_DEEP) && postern_queue_dirs[i].owner == OWN_MAIL)
            postern_check_tree(vstring_str(buf), uid, gid, 0);
    }
    if (var_data_directory[0])
        postern_check_dir(var_data_directory, pc.mail_uid, pc.mail_gid, 0700, 2);
    postern_check_maillog();
    vstring_free(buf);
    return pc.warnings;
}
