/*
 * NAME
 *	qmgr_remove - remove finished messages without blocking the queue manager
 * SYNOPSIS
 *	#include "qmgr.h"
 *
 *	void qmgr_remove_init(void)
 *	void qmgr_remove(const char *queue_id)
 *	void qmgr_remove_exit(void)
 * DESCRIPTION
 *	Removing a queue file is the slowest step of a message's life in
 *	qmgr: unlink(2) frees the file's blocks and waits for the file
 *	system to do so (the journal, and on a file system mounted with
 *	"discard" a synchronous discard request to the device: 0.5 to 1 ms
 *	and more on a virtual disk, several times what qmgr spends on the
 *	rest of the message). The queue manager therefore hands removals
 *	to QMGR_REMOVE_HELPERS helper processes, forked at start-up after
 *	privileges are dropped, and carries on. More helpers do not help:
 *	removals compete with deliveries for the disk (measured on such a
 *	disk, 8 helpers instead of 2 gave no more messages per second and
 *	delayed Maildir deliveries, median 1.0 s -> 1.6 s under the peer
 *	bench's load).
 *
 *	qmgr_remove_init() starts the helpers. Each reads queue IDs, one a
 *	line, from a socket pair, removes defer/QUEUE_ID (when there is
 *	one) and then active/QUEUE_ID, and answers "QUEUE_ID ERRNO"; it
 *	exits when qmgr goes away, after the removals it was given.
 *
 *	qmgr_remove() removes the message: through the helper with the
 *	fewest removals in progress, or directly when every helper has
 *	QMGR_REMOVE_BACKLOG removals in progress (the file system sets the
 *	pace then) or no helper works. "QUEUE_ID: removed" is logged when
 *	the file is gone, as Postfix does.
 *
 *	qmgr_remove_exit() (at a voluntary exit) closes the helpers' sockets
 *	and waits for them, so that they finish their removals and leave no
 *	zombies.
 *
 *	A message whose removal was in progress when qmgr died is still in
 *	active/ with every recipient done: the next qmgr requeues it, finds
 *	nothing to deliver, and removes it. A helper that dies has its
 *	outstanding removals done by qmgr itself.
 * DIAGNOSTICS
 *	Removal errors are logged as warnings; a helper that cannot be
 *	started or dies is logged, and qmgr removes files itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deliver_status.h"
#include "events.h"
#include "iostuff.h"
#include "msg.h"
#include "mymalloc.h"
#include "qmgr.h"
#include "queue_id.h"
#include "sig.h"
#include "vstring.h"

#define QMGR_REMOVE_HELPERS 2
#define QMGR_REMOVE_BACKLOG 2000        /* removals in progress per helper */
#define QMGR_REMOVE_LINE_MAX 64         /* "QUEUEID ERRNO\n" */

typedef struct QMGR_REMOVER {
    int fd;                             /* -1: not working */
    pid_t pid;
    VSTRING *out;                       /* IDs not yet written */
    size_t out_pos;
    VSTRING *in;                        /* partial answer */
    char **fifo;                        /* IDs sent and not yet answered, in order */
    int head, count, size;
} QMGR_REMOVER;

static QMGR_REMOVER qmgr_removers[QMGR_REMOVE_HELPERS];

/* qmgr_remove_now - remove in this process */

static void qmgr_remove_now(const char *queue_id)
{
    char path[64];

    (void) deliver_note_remove(DEFER_LOG_DIR, queue_id);
    snprintf(path, sizeof(path), "active/%s", queue_id);
    if (unlink(path) < 0)
        msg_warn("%s: remove %s: %m", queue_id, path);
    else
        msg_info("%s: removed", queue_id);
}

/* ---------------------------------------------------------------- */
/* the helper process */

static void __attribute__((noreturn)) qmgr_remove_helper(int fd)
{
    char buf[4096];
    char path[64];
    char reply[QMGR_REMOVE_LINE_MAX];
    size_t len = 0;
    ssize_t n;
    char *nl;
    int err;

    for (;;) {
        if ((n = read(fd, buf + len, sizeof(buf) - len)) <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            _exit(0);                       /* qmgr is gone */
        }
        len += (size_t) n;
        while ((nl = memchr(buf, '\n', len)) != NULL) {
            *nl = 0;
            err = 0;
            if (!queue_id_ok(buf))
                _exit(1);                   /* qmgr sends nothing else */
            snprintf(path, sizeof(path), "defer/%.*s", QUEUE_ID_LEN_MAX, buf);
            if (unlink(path) < 0 && errno != ENOENT)
                err = errno;
            snprintf(path, sizeof(path), "active/%.*s", QUEUE_ID_LEN_MAX, buf);
            if (unlink(path) < 0)
                err = errno;
            snprintf(reply, sizeof(reply), "%.*s %d\n", QUEUE_ID_LEN_MAX, buf, err);
            if (write_buf(fd, reply, strlen(reply), 0) < 0)
                _exit(0);
            len -= (size_t) (nl + 1 - buf);
            memmove(buf, nl + 1, len);
        }
        if (len == sizeof(buf))
            _exit(1);                       /* no line this long is ever sent */
    }
}

/* ---------------------------------------------------------------- */
/* qmgr's side */

static void qmgr_remove_lost(QMGR_REMOVER *r)
{
    msg_warn("removal helper %d went away: qmgr removes its files itself", (int) r->pid);
    event_disable_readwrite(r->fd);
    close(r->fd);
    r->fd = -1;
    (void) waitpid(r->pid, NULL, WNOHANG);
    while (r->count > 0) {
        char *id = r->fifo[r->head];

        r->head = (r->head + 1) % r->size;
        r->count--;
        qmgr_remove_now(id);
        myfree(id);
    }
}

static void qmgr_remove_event(int fd, int event, void *context)
{
    QMGR_REMOVER *r = context;
    char buf[4096];
    ssize_t n;
    char *line, *nl, *sp;

    (void) fd;
    if (event & EVENT_WRITE) {
        while (r->out_pos < vstring_len(r->out)) {
            n = send(r->fd, vstring_str(r->out) + r->out_pos, vstring_len(r->out) - r->out_pos,
                     MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                break;
            if (n < 0) {
                qmgr_remove_lost(r);
                return;
            }
            r->out_pos += (size_t) n;
        }
        if (r->out_pos == vstring_len(r->out)) {
            vstring_reset(r->out);
            r->out_pos = 0;
            event_disable_write(r->fd);
        }
    }
    if (!(event & (EVENT_READ | EVENT_XCPT)))
        return;
    n = recv(r->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        qmgr_remove_lost(r);
        return;
    }
    vstring_memcat(r->in, buf, (size_t) n);
    line = vstring_str(r->in);
    while ((nl = strchr(line, '\n')) != NULL && r->count > 0) {
        char *id = r->fifo[r->head];
        int err;

        *nl = 0;
        sp = strchr(line, ' ');
        err = sp ? atoi(sp + 1) : EINVAL;
        if (sp)
            *sp = 0;
        if (strcmp(line, id) != 0)
            msg_panic("removal helper answered for %s, not %s", line, id);
        if (err == 0)
            msg_info("%s: removed", id);
        else
            msg_warn("%s: remove queue file: %s", id, strerror(err));
        r->head = (r->head + 1) % r->size;
        r->count--;
        myfree(id);
        line = nl + 1;
    }
    /* keep what follows the last complete line */
    {
        size_t off = (size_t) (line - vstring_str(r->in));
        size_t rest = vstring_len(r->in) - off;

        memmove(vstring_str(r->in), line, rest);
        vstring_truncate(r->in, rest);
    }
}

void qmgr_remove_init(void)
{
    int sv[2];
    pid_t pid;

    for (int i = 0; i < QMGR_REMOVE_HELPERS; i++) {
        QMGR_REMOVER *r = qmgr_removers + i;

        r->fd = -1;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            msg_warn("cannot start a removal helper: socketpair: %m");
            continue;
        }
        if ((pid = fork()) < 0) {
            msg_warn("cannot start a removal helper: fork: %m");
            close(sv[0]);
            close(sv[1]);
            continue;
        }
        if (pid == 0) {
            /* the helper keeps its socket and the queue directory, nothing else */
            event_fork();
            sig_child_reset();
            if (dup2(sv[1], 3) < 0)
                _exit(1);
            closefrom(4);
            qmgr_remove_helper(3);
        }
        close(sv[1]);
        non_blocking(sv[0], 1);
        r->fd = sv[0];
        r->pid = pid;
        r->out = vstring_alloc(256);
        r->in = vstring_alloc(256);
        event_enable_read(r->fd, qmgr_remove_event, r);
    }
}

void qmgr_remove(const char *queue_id)
{
    QMGR_REMOVER *best = NULL;
    char line[QMGR_REMOVE_LINE_MAX];
    ssize_t n;

    for (int i = 0; i < QMGR_REMOVE_HELPERS; i++) {
        QMGR_REMOVER *r = qmgr_removers + i;

        if (r->fd >= 0 && r->count < QMGR_REMOVE_BACKLOG && (best == NULL || r->count < best->count))
            best = r;
    }
    if (best == NULL || strlen(queue_id) + 2 > sizeof(line)) {
        qmgr_remove_now(queue_id);
        return;
    }
    if (best->count >= best->size) {
        int size = best->size ? 2 * best->size : 64;
        char **fifo = mymalloc(sizeof(*fifo) * (size_t) size);

        for (int k = 0; k < best->count; k++)
            fifo[k] = best->fifo[(best->head + k) % best->size];
        myfree(best->fifo);
        best->fifo = fifo;
        best->size = size;
        best->head = 0;
    }
    best->fifo[(best->head + best->count) % best->size] = mystrdup(queue_id);
    best->count++;
    snprintf(line, sizeof(line), "%s\n", queue_id);
    if (vstring_len(best->out) == 0) {
        n = send(best->fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == (ssize_t) strlen(line))
            return;
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            qmgr_remove_lost(best);
            return;
        }
        vstring_strcat(best->out, line + (n > 0 ? n : 0));
    } else {
        vstring_strcat(best->out, line);
    }
    event_enable_write(best->fd, qmgr_remove_event, best);
}

void qmgr_remove_exit(void)
{
    for (int i = 0; i < QMGR_REMOVE_HELPERS; i++) {
        QMGR_REMOVER *r = qmgr_removers + i;

        if (r->fd < 0)
            continue;
        event_disable_readwrite(r->fd);
        if (vstring_len(r->out) > r->out_pos)
            (void) write_buf(r->fd, vstring_str(r->out) + r->out_pos,
                             vstring_len(r->out) - r->out_pos, 5);
        shutdown(r->fd, SHUT_WR);
        close(r->fd);
        r->fd = -1;
        (void) waitpid(r->pid, NULL, 0);
    }
}
