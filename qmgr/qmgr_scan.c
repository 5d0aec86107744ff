/*
 * NAME
 *	qmgr_scan - take messages from the incoming and deferred queues
 * SYNOPSIS
 *	#include "qmgr.h"
 *
 *	void qmgr_scan_recover(void)
 *	int qmgr_scan_dir(const char *queue, int flags)
 *	int qmgr_move(const char *queue_id, const char *from, const char *to)
 * DESCRIPTION
 *	qmgr_scan_recover() runs once at start-up: every file in active/ was
 *	left by a queue manager that is gone, and goes back to incoming/.
 *
 *	qmgr_scan_dir() asks for a scan of queue ("incoming" or
 *	"deferred") with QMGR_SCAN_* flags, then takes messages while the
 *	active queue has room, one from each queue in turn; queue NULL
 *	only continues the scans in progress. A scan reads the directory
 *	once and works through the names; a request that comes during a
 *	scan is remembered and served by reading the directory again when
 *	the names run out, so a busy queue is never read twice for one
 *	name. Returns 1 when a scan stopped for lack of room (it goes on
 *	when qmgr_scan_dir(NULL, 0) is called after a message leaves).
 *
 *	A file is taken when its name is a queue ID, it is a regular file
 *	in mode 0700 (cleanup's mark of a complete file), for deferred/
 *	its modification time (the next attempt time) has come unless
 *	QMGR_SCAN_ALL, and it is not locked by a delivery agent (agents
 *	hold a shared lock; a file an agent of a previous queue manager
 *	still holds is tried again a second later). It is renamed into
 *	active/ while qmgr holds an exclusive lock, then read
 *	(qmgr_message_activate).
 *
 *	qmgr_move() renames QUEUE/ID between queue directories; 0, or -1
 *	(a file already gone, ENOENT, is not logged).
 * DIAGNOSTICS
 *	Directory and rename errors are logged as warnings.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "events.h"
#include "lock_file.h"
#include "msg.h"
#include "mymalloc.h"
#include "qmgr.h"
#include "queue_id.h"
#include "vstring.h"

#define QMGR_BUSY_RETRY_MS 1000   /* retry a file a delivery agent still holds */

typedef struct QMGR_SCANNER {
    const char *queue;
    ARGV *names;              /* names of the scan in progress */
    int pos;
    int flags;                /* of the scan in progress */
    int pending;              /* flags of a scan asked for since */
} QMGR_SCANNER;

static QMGR_SCANNER qmgr_incoming = {"incoming", NULL, 0, 0, 0};
static QMGR_SCANNER qmgr_deferred = {"deferred", NULL, 0, 0, 0};
static EVENT_TIMER_ID qmgr_busy_timer;

int qmgr_move(const char *queue_id, const char *from, const char *to)
{
    VSTRING *old = vstring_alloc(50);
    VSTRING *new = vstring_alloc(50);
    int ret;

    vstring_sprintf(old, "%s/%s", from, queue_id);
    vstring_sprintf(new, "%s/%s", to, queue_id);
    if ((ret = rename(vstring_str(old), vstring_str(new))) < 0 && errno != ENOENT)
        msg_warn("%s: move from %s to %s: %m", queue_id, from, to);
    vstring_free(old);
    vstring_free(new);
    return ret;
}

static ARGV *qmgr_scan_list(const char *queue)
{
    ARGV *names = argv_alloc(32);
    struct dirent *dp;
    DIR *dir;

    if ((dir = opendir(queue)) == NULL) {
        msg_warn("open queue directory %s: %m", queue);
        return names;
    }
    while ((dp = readdir(dir)) != NULL)
        if (queue_id_ok(dp->d_name))
            argv_add(names, dp->d_name);
    closedir(dir);
    return names;
}

void qmgr_scan_recover(void)
{
    ARGV *names = qmgr_scan_list("active");

    for (int i = 0; i < names->argc; i++)
        qmgr_move(names->argv[i], "active", "incoming");
    if (names->argc)
        msg_info("requeued %d message%s left in the active queue", names->argc,
                 names->argc == 1 ? "" : "s");
    argv_free(names);
}

static void qmgr_busy_event(void *context)
{
    (void) context;
    qmgr_busy_timer = 0;
    qmgr_scan_request(0);                   /* the scanners remember what to redo */
}

/* qmgr_scan_take - try to take one file; 1 when taken */

static int qmgr_scan_take(QMGR_SCANNER *s, const char *queue_id)
{
    VSTRING *path = vstring_alloc(50);
    struct stat st;
    int fd = -1;
    int taken = 0;

    vstring_sprintf(path, "%s/%s", s->queue, queue_id);
    if (lstat(vstring_str(path), &st) < 0) {
        if (errno != ENOENT)
            msg_warn("stat %s: %m", vstring_str(path));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0700)
        goto out;                               /* not (yet) complete */
    if (s == &qmgr_deferred && !(s->flags & QMGR_SCAN_ALL) && st.st_mtime > time(NULL))
        goto out;                               /* not due */
    if ((fd = open(vstring_str(path), O_RDWR | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        if (errno != ENOENT)
            msg_warn("open %s: %m", vstring_str(path));
        goto out;
    }
    if (lock_file(fd, LOCK_FILE_EXCLUSIVE | LOCK_FILE_NONBLOCK) < 0) {
        if (errno == EAGAIN || errno == EACCES) {
            if (msg_verbose)
                msg_info("%s: still in use by a delivery agent", queue_id);
            if (qmgr_busy_timer == 0)
                qmgr_busy_timer = event_request_timer(qmgr_busy_event, NULL, QMGR_BUSY_RETRY_MS);
            s->pending |= s->flags;
        } else {
            msg_warn("lock %s: %m", vstring_str(path));
        }
        goto out;
    }
    /* gone or moved (postsuper) between the open and the lock: not ours */
    if (qmgr_move(queue_id, s->queue, "active") < 0)
        goto out;
    (void) qmgr_message_activate(queue_id, fd, s->flags);
    fd = -1;                                     /* closed by activate */
    taken = 1;
out:
    if (fd >= 0)
        close(fd);
    vstring_free(path);
    return taken;
}

/* qmgr_scan_next - take the next name of a scan; 0 when the scan is over */

static int qmgr_scan_next(QMGR_SCANNER *s)
{
    for (;;) {
        if (s->names && s->pos < s->names->argc) {
            (void) qmgr_scan_take(s, s->names->argv[s->pos++]);
            return 1;
        }
        if (s->names) {
            argv_free(s->names);
            s->names = NULL;
        }
        if (s->pending == 0)
            return 0;
        s->flags = s->pending;
        s->pending = 0;
        s->names = qmgr_scan_list(s->queue);
        s->pos = 0;
    }
}

int qmgr_scan_dir(const char *queue, int flags)
{
    int more_in = 1;
    int more_def = 1;

    if (queue != NULL)
        (strcmp(queue, "incoming") == 0 ? &qmgr_incoming : &qmgr_deferred)->pending |= flags;
    while (more_in || more_def) {
        if (!qmgr_room())
            return 1;
        if (more_in)
            more_in = qmgr_scan_next(&qmgr_incoming);
        if (!qmgr_room())
            return 1;
        if (more_def)
            more_def = qmgr_scan_next(&qmgr_deferred);
    }
    return 0;
}
