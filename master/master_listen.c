/*
 * NAME
 *	master_listen - open and close a service's listening endpoints
 * SYNOPSIS
 *	#include "master.h"
 *
 *	int master_listen_open(MASTER_SERV *serv, VSTRING *why)
 *	void master_listen_close(MASTER_SERV *serv, int unlink_path)
 * DESCRIPTION
 *	master_listen_open() creates what the service listens on and stores
 *	the descriptors (close-on-exec, non-blocking) in serv->listen_fd:
 *	.IP inet
 *	one socket per address (every address of $inet_interfaces, or the
 *	host in the service name), keeping only the families that
 *	$inet_protocols allows;
 *	.IP "unix, pass"
 *	a stream socket at private/NAME (mode 0600) or public/NAME (0666);
 *	.IP unix-dgram
 *	a datagram socket at the same places;
 *	.IP fifo
 *	a named pipe at private/NAME (0600) or public/NAME (0622), opened
 *	for reading and writing so that it never reports end-of-file.
 *	.PP
 *	Paths are relative to the queue directory (master's working
 *	directory). A stale socket or fifo is replaced; any other file in
 *	the way is an error. When master runs as root, sockets and fifos
 *	are given to mail_owner, as the daemons that use them run as that
 *	user.
 *
 *	master_listen_close() stops watching and closes the descriptors;
 *	with unlink_path it also removes the socket or fifo.
 * DIAGNOSTICS
 *	master_listen_open() returns 0, or -1 with a reason in why and
 *	nothing left open.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "events.h"
#include "iostuff.h"
#include "master.h"
#include "msg.h"
#include "sock.h"
#include "vstring.h"

/* master_listen_chown - give a socket or fifo to mail_owner */

static int master_listen_chown(const char *path, VSTRING *why)
{
    if (master_root && lchown(path, master_owner_uid, master_owner_gid) < 0) {
        vstring_sprintf(why, "change owner of %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* master_listen_clear - remove a stale socket or fifo at path */

static int master_listen_clear(const char *path, int want_fifo, VSTRING *why)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return 0;
    if (want_fifo ? !S_ISFIFO(st.st_mode) : !S_ISSOCK(st.st_mode)) {
        vstring_sprintf(why, "%s: exists and is not a %s", path, want_fifo ? "fifo" : "socket");
        return -1;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        vstring_sprintf(why, "remove old %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* master_listen_inet - sockets on every address of an inet service */

static int master_listen_inet(MASTER_SERV *serv, VSTRING *why)
{
    struct sockaddr_storage ss;
    socklen_t len;
    const char *host;
    int count = 0;
    int kept = 0;
    int n;

    for (int i = 0; i < serv->inet_hosts->argc; i++) {
        host = serv->inet_hosts->argv[i];
        n = inet_listen(host[0] ? host : NULL, serv->inet_port, MASTER_LISTEN_BACKLOG,
                        serv->listen_fd + count, MAIL_SERVER_MAX_LISTEN - count, why);
        if (n < 0) {
            for (int j = 0; j < count; j++)
                close(serv->listen_fd[j]);
            return -1;
        }
        count += n;
    }
    for (int i = 0; i < count; i++) {
        len = sizeof(ss);
        if (getsockname(serv->listen_fd[i], (struct sockaddr *) &ss, &len) == 0
            && ((ss.ss_family == AF_INET && !serv->inet_v4)
                || (ss.ss_family == AF_INET6 && !serv->inet_v6))) {
            close(serv->listen_fd[i]);
            continue;
        }
        serv->listen_fd[kept++] = serv->listen_fd[i];
    }
    if (kept == 0) {
        vstring_sprintf(why, "service %s: no address matches inet_protocols", serv->name);
        return -1;
    }
    serv->listen_count = kept;
    return 0;
}

/* master_listen_dgram - a unix datagram socket */

static int master_listen_dgram(const char *path, mode_t mode, VSTRING *why)
{
    struct sockaddr_un sun;
    mode_t old_mask;
    int fd;
    int err;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        vstring_sprintf(why, "%s: path name is too long", path);
        return -1;
    }
    if (master_listen_clear(path, 0, why) < 0)
        return -1;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
        vstring_sprintf(why, "socket: %s", strerror(errno));
        return -1;
    }
    old_mask = umask(~mode & 0777);
    if (bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0 || chmod(path, mode) < 0) {
        err = errno;
        umask(old_mask);
        close(fd);
        vstring_sprintf(why, "bind %s: %s", path, strerror(err));
        return -1;
    }
    umask(old_mask);
    return fd;
}

/* master_listen_fifo - a named pipe, opened read-write */

static int master_listen_fifo(const char *path, mode_t mode, VSTRING *why)
{
    struct stat st;
    int fd;

    if (master_listen_clear(path, 1, why) < 0)
        return -1;
    if (mkfifo(path, mode) < 0) {
        vstring_sprintf(why, "create fifo %s: %s", path, strerror(errno));
        return -1;
    }
    if ((fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW)) < 0) {
        vstring_sprintf(why, "open fifo %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode) || fchmod(fd, mode) < 0) {
        vstring_sprintf(why, "fifo %s: not a fifo, or cannot set its mode", path);
        close(fd);
        return -1;
    }
    return fd;
}

int master_listen_open(MASTER_SERV *serv, VSTRING *why)
{
    int fd = -1;
    int public = !serv->priv;

    serv->listen_count = 0;
    serv->watch = MASTER_WATCH_NONE;
    switch (serv->type) {
    case MASTER_SERV_TYPE_INET:
        return master_listen_inet(serv, why);
    case MASTER_SERV_TYPE_UNIX:
    case MASTER_SERV_TYPE_PASS:
        fd = unix_listen(serv->unix_path, MASTER_LISTEN_BACKLOG, public ? 0666 : 0600, why);
        break;
    case MASTER_SERV_TYPE_DGRAM:
        fd = master_listen_dgram(serv->unix_path, public ? 0666 : 0600, why);
        break;
    case MASTER_SERV_TYPE_FIFO:
        fd = master_listen_fifo(serv->unix_path, public ? 0622 : 0600, why);
        break;
    default:
        msg_panic("master_listen_open: bad service type %d", serv->type);
    }
    if (fd < 0)
        return -1;
    if (master_listen_chown(serv->unix_path, why) < 0) {
        close(fd);
        unlink(serv->unix_path);
        return -1;
    }
    non_blocking(fd, 1);
    serv->listen_fd[0] = fd;
    serv->listen_count = 1;
    return 0;
}

void master_listen_close(MASTER_SERV *serv, int unlink_path)
{
    struct stat st;

    for (int i = 0; i < serv->listen_count; i++) {
        if (serv->watch != MASTER_WATCH_NONE)
            event_disable_read(serv->listen_fd[i]);
        close(serv->listen_fd[i]);
    }
    serv->listen_count = 0;
    serv->watch = MASTER_WATCH_NONE;
    if (unlink_path && serv->unix_path && lstat(serv->unix_path, &st) == 0
        && (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode)))
        unlink(serv->unix_path);
}
