/*
 * NAME
 *	set_ugid - user and group lookups, and privilege changes that are verified
 * SYNOPSIS
 *	#include "set_ugid.h"
 *
 *	int ugid_user_byname(const char *name, UGID_USER *user)
 *	int ugid_user_byuid(uid_t uid, UGID_USER *user)
 *	int ugid_group_byname(const char *name, gid_t *gid)
 *	void set_ugid(uid_t uid, gid_t gid, const char *user)
 *	void set_eugid(uid_t euid, gid_t egid, const char *user)
 *	void set_root_dir(const char *dir)
 * DESCRIPTION
 *	The lookups use the reentrant getpwnam_r()/getpwuid_r()/getgrnam_r()
 *	with a buffer that grows (up to 1 MB) while the library says ERANGE.
 *	"Not found" (1: found, 0: not found) is told apart from a failing
 *	name service (-1, errno). A name, home or shell that does not fit
 *	UGID_USER is an error (ENAMETOOLONG), never truncated.
 *
 *	set_ugid() drops privileges in the only safe order: supplementary
 *	groups (initgroups(user, gid), or exactly gid when user is NULL),
 *	then the gid, then the uid. Afterwards it reads back the real,
 *	effective and saved uids and gids and, when going from root to
 *	another user, tries setuid(0) and seteuid(0), which must fail. Any
 *	surprise is fatal: a daemon must never go on with privileges it
 *	believes it dropped.
 *
 *	set_eugid() changes the effective uid and gid only. A root process
 *	whose effective uid is not root first returns to root through its
 *	saved uid. The effective ids are read back and checked.
 *
 *	When the process is not root (effective and real uid not 0), both
 *	functions do nothing if the ids already are the wanted ones, and are
 *	fatal otherwise.
 *
 *	set_root_dir() chroots into dir and changes to the new "/".
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "mymalloc.h"
#include "set_ugid.h"

#define UGID_BUF_MAX (1024 * 1024)

static int ugid_copy(char *dst, size_t size, const char *src)
{
    size_t len = strlen(src ? src : "");

    if (len >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(dst, src ? src : "", len + 1);
    return 0;
}

static int ugid_fill(const struct passwd *pw, UGID_USER *user)
{
    user->uid = pw->pw_uid;
    user->gid = pw->pw_gid;
    if (ugid_copy(user->name, sizeof(user->name), pw->pw_name) < 0
        || ugid_copy(user->home, sizeof(user->home), pw->pw_dir) < 0
        || ugid_copy(user->shell, sizeof(user->shell), pw->pw_shell) < 0)
        return -1;
    return 1;
}

/* ugid_pw_lookup - one passwd lookup by name (name != NULL) or uid */
static int ugid_pw_lookup(const char *name, uid_t uid, UGID_USER *user)
{
    size_t size = 4096;
    struct passwd pw, *res;
    char *buf;
    int rc;

    for (;;) {
        buf = mymalloc(size);
        res = NULL;
        if (name)
            rc = getpwnam_r(name, &pw, buf, size, &res);
        else
            rc = getpwuid_r(uid, &pw, buf, size, &res);
        if (rc != ERANGE || size >= UGID_BUF_MAX)
            break;
        myfree(buf);
        size *= 2;
    }
    if (rc == 0 && res != NULL)
        rc = ugid_fill(&pw, user);
    else if (rc == 0 || rc == ENOENT || rc == ESRCH)
        rc = 0;
    else {
        errno = rc;
        rc = -1;
    }
    myfree(buf);
    return rc;
}

int ugid_user_byname(const char *name, UGID_USER *user)
{
    return ugid_pw_lookup(name, 0, user);
}

int ugid_user_byuid(uid_t uid, UGID_USER *user)
{
    return ugid_pw_lookup(NULL, uid, user);
}

int ugid_group_byname(const char *name, gid_t *gid)
{
    size_t size = 4096;
    struct group gr, *res;
    char *buf;
    int rc;

    for (;;) {
        buf = mymalloc(size);
        res = NULL;
        rc = getgrnam_r(name, &gr, buf, size, &res);
        if (rc != ERANGE || size >= UGID_BUF_MAX)
            break;
        myfree(buf);
        size *= 2;
    }
    if (rc == 0 && res != NULL) {
        *gid = gr.gr_gid;
        rc = 1;
    } else if (rc == 0 || rc == ENOENT || rc == ESRCH) {
        rc = 0;
    } else {
        errno = rc;
        rc = -1;
    }
    myfree(buf);
    return rc;
}

/* ugid_set_groups - supplementary groups for user, or just gid */
static void ugid_set_groups(gid_t gid, const char *user)
{
    if (user) {
        if (initgroups(user, gid) < 0)
            msg_fatal("initgroups %s %ld: %m", user, (long) gid);
    } else if (setgroups(1, &gid) < 0) {
        msg_fatal("setgroups %ld: %m", (long) gid);
    }
}

/* ugid_check_groups - without a user, the group list must be {gid} */
static void ugid_check_groups(gid_t gid, const char *user)
{
    gid_t list[4];
    int n;

    if (user)
        return;
    n = getgroups(4, list);
    if (n < 0 || n > 1 || (n == 1 && list[0] != gid))
        msg_fatal("set_ugid: supplementary groups not reduced to %ld", (long) gid);
}

void set_ugid(uid_t uid, gid_t gid, const char *user)
{
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    int was_root;

    if (getresuid(&ruid, &euid, &suid) < 0)
        msg_fatal("set_ugid: getresuid: %m");
    was_root = ruid == 0 || euid == 0 || suid == 0;
    if (!was_root) {
        if (getuid() == uid && geteuid() == uid && getgid() == gid && getegid() == gid)
            return;
        msg_fatal("cannot change to uid %ld gid %ld: not running as root", (long) uid,
                  (long) gid);
    }
    if (geteuid() != 0 && seteuid(0) < 0)
        msg_fatal("seteuid 0: %m");
    ugid_set_groups(gid, user);
    if (setgid(gid) < 0)
        msg_fatal("setgid %ld: %m", (long) gid);
    if (setuid(uid) < 0)
        msg_fatal("setuid %ld: %m", (long) uid);
    if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0)
        msg_fatal("set_ugid: cannot read back ids: %m");
    if (ruid != uid || euid != uid || suid != uid)
        msg_fatal("set_ugid: uid is %ld/%ld/%ld, wanted %ld", (long) ruid, (long) euid,
                  (long) suid, (long) uid);
    if (rgid != gid || egid != gid || sgid != gid)
        msg_fatal("set_ugid: gid is %ld/%ld/%ld, wanted %ld", (long) rgid, (long) egid,
                  (long) sgid, (long) gid);
    ugid_check_groups(gid, user);
    if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
        msg_fatal("set_ugid: root privileges could be regained after setuid %ld", (long) uid);
}

void set_eugid(uid_t euid, gid_t egid, const char *user)
{
    if (geteuid() != 0 && getuid() != 0) {
        uid_t r, e, s;

        if (getresuid(&r, &e, &s) == 0 && s == 0) {
            /* effective non-root, saved root: may return to root below */
        } else {
            if (geteuid() == euid && getegid() == egid)
                return;
            msg_fatal("cannot change to euid %ld egid %ld: not running as root", (long) euid,
                      (long) egid);
        }
    }
    if (geteuid() != 0 && seteuid(0) < 0)
        msg_fatal("seteuid 0: %m");
    ugid_set_groups(egid, user);
    if (setegid(egid) < 0)
        msg_fatal("setegid %ld: %m", (long) egid);
    if (euid != 0 && seteuid(euid) < 0)
        msg_fatal("seteuid %ld: %m", (long) euid);
    if (geteuid() != euid || getegid() != egid)
        msg_fatal("set_eugid: effective ids are %ld/%ld, wanted %ld/%ld", (long) geteuid(),
                  (long) getegid(), (long) euid, (long) egid);
}

void set_root_dir(const char *dir)
{
    if (chroot(dir) < 0)
        msg_fatal("chroot %s: %m", dir);
    if (chdir("/") < 0)
        msg_fatal("chdir / after chroot %s: %m", dir);
}
