#ifndef POSTERN_SET_UGID_H
#define POSTERN_SET_UGID_H
/*
 * set_ugid - user and group lookups, and privilege changes that are verified
 *
 * ugid_user_byname() / ugid_user_byuid() look up a passwd entry
 * (getpwnam_r/getpwuid_r) into a caller-provided UGID_USER (no allocation).
 * ugid_group_byname() looks up a group's gid. They return 1 when found, 0
 * when there is no such user/group, -1 with errno on a lookup error or a
 * field too long for UGID_USER.
 *
 * set_ugid() permanently becomes uid/gid: setgroups (to initgroups(user)
 * when user is not NULL, else to gid alone), setgid, setuid, then checks
 * real/effective/saved ids and, when the old uid was root and the new one
 * is not, that setuid(0) now fails. Every failure or mismatch is fatal
 * (msg_fatal). When the process is not root and already runs as exactly
 * uid/gid it does nothing (unprivileged test and "make run" mode); when
 * not root and the ids differ it is fatal.
 *
 * set_eugid() changes only the effective ids (for a root process that
 * works on a user's behalf, e.g. local delivery to a file); set_eugid(0, 0)
 * with user NULL returns to root. Group list as for set_ugid. Fatal on
 * failure; a no-op for a non-root process whose ids already match.
 *
 * set_root_dir() does chroot(dir) and chdir("/"); fatal on failure.
 */
#include <sys/types.h>

#define UGID_NAME_MAX 256
#define UGID_PATH_MAX 4096

typedef struct UGID_USER {
    uid_t uid;
    gid_t gid;
    char name[UGID_NAME_MAX];
    char home[UGID_PATH_MAX];
    char shell[UGID_PATH_MAX];
} UGID_USER;

int ugid_user_byname(const char *name, UGID_USER *user);
int ugid_user_byuid(uid_t uid, UGID_USER *user);
int ugid_group_byname(const char *name, gid_t *gid);

void set_ugid(uid_t uid, gid_t gid, const char *user);
void set_eugid(uid_t euid, gid_t egid, const char *user);
void set_root_dir(const char *dir);

#endif
