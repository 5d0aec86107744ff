#ifndef POSTERN_LOCAL_H
#define POSTERN_LOCAL_H
/*
 * local.h - the local(8) delivery agent's internal interfaces
 *
 * One LOCAL_STATE per recipient of a delivery request; one LOCAL_ATTR per
 * step of an expansion (alias, .forward, :include:). A LOCAL_ATTR is a
 * value: each step copies its parent's and changes what the step changes,
 * and keeps a pointer to the parent, so that a name being expanded can be
 * found on the way back to the top (loop detection).
 *
 * Outcomes: every destination reached ends in exactly one call of
 * local_sent(), local_defer() or local_bounce() (local_status.c), which
 * log it and write its note; local_finish() then settles the queue file
 * recipient once: DONE when nothing was deferred.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include "deliver_request.h"
#include "htable.h"
#include "maps.h"
#include "set_ugid.h"
#include "vstring.h"

#define LOCAL_LEVEL_MAX 20           /* nested alias/.forward/:include: steps */
#define LOCAL_FILE_MAX (1024 * 1024) /* bytes of a .forward or :include: file */
#define LOCAL_RELAY "local"

/* who produced a destination: the allow_mail_to_* classes */
#define LOCAL_EXP_NONE 0
#define LOCAL_EXP_ALIAS 1
#define LOCAL_EXP_FORWARD 2
#define LOCAL_EXP_INCLUDE 3

/* LOCAL_ATTR flags */
#define LOCAL_FLAG_NO_ALIAS (1 << 0)   /* "\user": no alias lookup */
#define LOCAL_FLAG_NO_FORWARD (1 << 1) /* "\user" or a .forward naming its owner */

typedef struct LOCAL_PRIVS {
    uid_t uid; /* identity for file and command destinations */
    gid_t gid;
    char name[UGID_NAME_MAX]; /* user name for the group list and $USER, or "" */
    char home[UGID_PATH_MAX];
    char shell[UGID_PATH_MAX];
} LOCAL_PRIVS;

typedef struct LOCAL_ATTR {
    const struct LOCAL_ATTR *parent;
    int level;                /* 0 for the queue file recipient */
    int flags;                /* LOCAL_FLAG_* */
    const char *recipient;    /* the address handled at this step (internal form) */
    const char *sender;       /* envelope sender of copies made from here */
    const char *delivered;    /* Delivered-To: of copies made from here */
    int exp_type;             /* LOCAL_EXP_*: what produced recipient */
    const char *exp_from;     /* alias name, .forward or :include: path */
    const LOCAL_PRIVS *privs; /* for file and command destinations; NULL at level 0 */
} LOCAL_ATTR;

typedef struct LOCAL_STATE {
    DELIVER_REQUEST *req;
    int index;                   /* req->rcpt[index] */
    VSTREAM *queue;              /* the queue file */
    HTABLE *dup;                 /* destinations already handled in this request */
    int sent, bounced, deferred; /* leaf outcomes */
    int direct;                  /* the outcome went through deliver_sent/defer/bounce */
} LOCAL_STATE;

/* local.c */
extern MAPS *local_alias_maps;
extern MAPS *local_mbox_cmd_maps;
extern LOCAL_PRIVS local_default_privs;
int local_dup(LOCAL_STATE *state, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int local_privileged(void);
void local_set_privs(uid_t uid, gid_t gid, const char *name);
void local_reset_privs(void);

/* local_recipient.c */
int local_recipient(LOCAL_STATE *state, const LOCAL_ATTR *attr);
void local_split(const char *addr, VSTRING *user, VSTRING *ext, VSTRING *domain,
                 VSTRING *localpart);

/* local_alias.c */
int local_alias(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *name, int *found);

/* local_token.c */
int local_tokens(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *text);
ARGV *local_token_split(const char *text);
int local_include(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *path);
int local_read_file(const char *path, uid_t owner1, uid_t owner2, VSTRING *out, VSTRING *why,
                    struct stat *st);

/* local_mailbox.c */
int local_mailbox(LOCAL_STATE *state, const LOCAL_ATTR *attr, const UGID_USER *user);
int local_file(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *path);

/* local_command.c */
int local_command(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *command,
                  const LOCAL_PRIVS *privs, int is_mailbox);

/* local_forward.c */
int local_forward(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *address);

/* local_expand.c: $name macros of forward_path, mailbox_command, luser_relay */
typedef struct LOCAL_VARS {
    const char *user, *home, *shell, *recipient, *extension, *domain, *local;
} LOCAL_VARS;
int local_expand(VSTRING *out, const char *pattern, const LOCAL_VARS *vars, const char *filter,
                 VSTRING *why);

/* local_status.c */
int local_sent(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int local_defer(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int local_bounce(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int local_outcome(LOCAL_STATE *state, const LOCAL_ATTR *attr, int mailbox_status, const char *dsn,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void local_finish(LOCAL_STATE *state);

#endif
