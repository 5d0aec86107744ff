/*
 * NAME
 *	sock - listening and connecting sockets, endpoint syntax, address text
 * SYNOPSIS
 *	#include "sock.h"
 *
 *	int unix_listen(const char *path, int backlog, mode_t mode, VSTRING *why)
 *	int inet_listen(const char *host, const char *port, int backlog,
 *			int *fds, int max_fds, VSTRING *why)
 *	int unix_connect(const char *path, int timeout, VSTRING *why)
 *	int inet_connect(const char *host, const char *port, int timeout, VSTRING *why)
 *	int inet_connect_addr(const struct sockaddr *sa, socklen_t salen,
 *			const struct sockaddr *bind_sa, socklen_t bind_salen,
 *			int timeout, VSTRING *why)
 *	int sock_accept(int fd, struct sockaddr *sa, socklen_t *salen)
 *	int sock_endpoint_parse(const char *spec, const char *def_port,
 *			SOCK_ENDPOINT *ep, VSTRING *why)
 *	int sock_addr_text(const struct sockaddr *sa, socklen_t salen, SOCK_ADDR_TEXT *text)
 *	int sock_peer_text(int fd, SOCK_ADDR_TEXT *text)
 *	int sock_local_text(int fd, SOCK_ADDR_TEXT *text)
 *	VSTRING *sock_hostaddr_format(VSTRING *buf, const char *name,
 *			const SOCK_ADDR_TEXT *text)
 * DESCRIPTION
 *	unix_listen() makes a UNIX-domain stream socket at path: an old
 *	socket there is removed first (anything that is not a socket is
 *	left alone and reported with EEXIST); the socket is bound with a
 *	umask that already yields mode, then chmod()ed to mode, and set to
 *	listen with backlog. The descriptor is non-blocking, close-on-exec.
 *
 *	inet_listen() resolves host (NULL or "" = the wildcard addresses)
 *	and port with getaddrinfo(AI_PASSIVE), and makes one listening
 *	socket per distinct address, with SO_REUSEADDR, and IPV6_V6ONLY on
 *	IPv6 sockets so that the IPv4 and IPv6 wildcards coexist. An
 *	address whose family the host does not support (EAFNOSUPPORT,
 *	EADDRNOTAVAIL) is skipped; any other failure (e.g. EADDRINUSE)
 *	closes what was opened and fails. Fails with ENOBUFS when more
 *	than max_fds sockets would be needed, and when nothing was bound.
 *
 *	unix_connect() and inet_connect_addr() connect with a non-blocking
 *	connect() and poll(), bounded by timeout seconds (<= 0: a blocking
 *	connect). A UNIX socket whose backlog is full (EAGAIN) is retried
 *	every 10 ms until the timeout. inet_connect() resolves host and
 *	port and tries each address in turn, the error of the last one is
 *	reported. The connected socket is blocking and close-on-exec.
 *
 *	sock_accept() accepts with accept4(SOCK_CLOEXEC), retrying EINTR;
 *	the new socket is blocking.
 *
 *	sock_endpoint_parse() implements the syntax described in sock.h.
 *	Host names may contain letters, digits and ".-_" (and ":" and "%"
 *	inside brackets, for IPv6 and scope ids); ports letters, digits,
 *	"-" and "_" (numbers or service names). Anything else is refused.
 *
 *	sock_addr_text() converts with getnameinfo(NI_NUMERICHOST |
 *	NI_NUMERICSERV); an IPv4-mapped IPv6 address is shown in IPv4 form.
 *
 *	Errors are returned as -1 with errno set, with a message in why when
 *	why is not NULL. Nothing here logs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "iostuff.h"
#include "msg.h"
#include "sock.h"
#include "vstring.h"

/* sock_fail - set why (when wanted) and errno, return -1 */
static int sock_fail(VSTRING *why, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int sock_fail(VSTRING *why, int err, const char *fmt, ...)
{
    va_list ap;

    if (why) {
        vstring_reset(why);
        va_start(ap, fmt);
        vstring_vsprintf_append(why, fmt, ap);
        va_end(ap);
    }
    errno = err;
    return -1;
}

static int sock_unix_addr(const char *path, struct sockaddr_un *sun, VSTRING *why)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun->sun_path))
        return sock_fail(why, ENAMETOOLONG, "socket path too long: %.100s...", path);
    strcpy(sun->sun_path, path);
    return 0;
}

int unix_listen(const char *path, int backlog, mode_t mode, VSTRING *why)
{
    struct sockaddr_un sun;
    struct stat st;
    mode_t old_mask;
    int fd;
    int err;

    if (sock_unix_addr(path, &sun, why) < 0)
        return -1;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return sock_fail(why, EEXIST, "%s: exists and is not a socket", path);
        if (unlink(path) < 0 && errno != ENOENT)
            return sock_fail(why, errno, "remove old socket %s: %m", path);
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        return sock_fail(why, errno, "socket: %m");
    old_mask = umask(~mode & 0777);
    if (bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
        err = errno;
        umask(old_mask);
        close(fd);
        return sock_fail(why, err, "bind %s: %s", path, strerror(err));
    }
    umask(old_mask);
    if (chmod(path, mode) < 0 || listen(fd, backlog) < 0) {
        err = errno;
        close(fd);
        unlink(path);
        return sock_fail(why, err, "listen on %s: %s", path, strerror(err));
    }
    return fd;
}

static void sock_close_all(int *fds, int count)
{
    for (int i = 0; i < count; i++)
        close(fds[i]);
}

static int sock_same_addr(const struct addrinfo *a, const struct addrinfo *b)
{
    return a->ai_family == b->ai_family && a->ai_addrlen == b->ai_addrlen
           && memcmp(a->ai_addr, b->ai_addr, a->ai_addrlen) == 0;
}

/* sock_listen_one - one listening socket; -1 with errno */
static int sock_listen_one(const struct addrinfo *ai, int backlog)
{
    int on = 1;
    int fd;
    int err;

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0
        || (ai->ai_family == AF_INET6
            && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
        || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
        err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

int inet_listen(const char *host, const char *port, int backlog, int *fds, int max_fds,
                VSTRING *why)
{
    struct addrinfo hints, *res, *ai, *prev;
    SOCK_ADDR_TEXT text;
    int count = 0;
    int fd;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if (host && *host == 0)
        host = NULL;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
        return sock_fail(why, rc == EAI_SYSTEM ? errno : EADDRNOTAVAIL, "%s:%s: %s",
                         host ? host : "*", port, gai_strerror(rc));
    for (ai = res; ai; ai = ai->ai_next) {
        for (prev = res; prev != ai && !sock_same_addr(prev, ai); prev = prev->ai_next)
            ;
        if (prev != ai)
            continue; /* duplicate */
        if (count >= max_fds) {
            sock_close_all(fds, count);
            freeaddrinfo(res);
            return sock_fail(why, ENOBUFS, "%s:%s: more than %d addresses", host ? host : "*",
                             port, max_fds);
        }
        if ((fd = sock_listen_one(ai, backlog)) < 0) {
            int err = errno;

            if (err == EAFNOSUPPORT || err == EADDRNOTAVAIL)
                continue;
            if (sock_addr_text(ai->ai_addr, ai->ai_addrlen, &text) < 0)
                strcpy(text.addr, "?");
            sock_close_all(fds, count);
            freeaddrinfo(res);
            return sock_fail(why, err, "bind %s port %s: %s", text.addr, port, strerror(err));
        }
        fds[count++] = fd;
    }
    freeaddrinfo(res);
    if (count == 0)
        return sock_fail(why, EADDRNOTAVAIL, "%s:%s: no usable address", host ? host : "*",
                         port);
    return count;
}

/* sock_connect_wait - finish a non-blocking connect(); 0 or -1 errno */
static int sock_connect_wait(int fd, int timeout)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (write_wait(fd, timeout) < 0)
        return -1;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return -1;
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

static long long sock_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* sock_connect - connect fd to sa within timeout; 0 or -1 errno */
static int sock_connect(int fd, const struct sockaddr *sa, socklen_t salen, int timeout)
{
    long long deadline = sock_now_ms() + (long long) timeout * 1000;
    struct timespec pause = {0, 10 * 1000 * 1000};

    if (timeout <= 0) {
        if (connect(fd, sa, salen) == 0)
            return 0;
        if (errno != EINTR)
            return -1;
        return sock_connect_wait(fd, -1);
    }
    if (non_blocking(fd, 1) < 0)
        return -1;
    for (;;) {
        if (connect(fd, sa, salen) == 0)
            break;
        if (errno == EINPROGRESS || errno == EINTR) {
            if (sock_connect_wait(fd, timeout) < 0)
                return -1;
            break;
        }
        if (errno == EAGAIN && sa->sa_family == AF_UNIX) {
            if (sock_now_ms() >= deadline) {
                errno = ETIMEDOUT;
                return -1;
            }
            nanosleep(&pause, NULL);
            continue;
        }
        return -1;
    }
    return non_blocking(fd, 0) < 0 ? -1 : 0;
}

int unix_connect(const char *path, int timeout, VSTRING *why)
{
    struct sockaddr_un sun;
    int fd;
    int err;

    if (sock_unix_addr(path, &sun, why) < 0)
        return -1;
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return sock_fail(why, errno, "socket: %m");
    if (sock_connect(fd, (struct sockaddr *) &sun, sizeof(sun), timeout) < 0) {
        err = errno;
        close(fd);
        return sock_fail(why, err, "connect to %s: %s", path, strerror(err));
    }
    return fd;
}

int inet_connect_addr(const struct sockaddr *sa, socklen_t salen, const struct sockaddr *bind_sa,
                      socklen_t bind_salen, int timeout, VSTRING *why)
{
    SOCK_ADDR_TEXT text;
    int fd;
    int err;

    if (sock_addr_text(sa, salen, &text) < 0)
        return sock_fail(why, EAFNOSUPPORT, "connect: unsupported address family %d",
                         sa->sa_family);
    if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return sock_fail(why, errno, "socket: %m");
    if (bind_sa && bind(fd, bind_sa, bind_salen) < 0) {
        err = errno;
        close(fd);
        return sock_fail(why, err, "bind local address: %s", strerror(err));
    }
    if (sock_connect(fd, sa, salen, timeout) < 0) {
        err = errno;
        close(fd);
        return sock_fail(why, err, "connect to [%s]:%s: %s", text.addr, text.port,
                         strerror(err));
    }
    return fd;
}

int inet_connect(const char *host, const char *port, int timeout, VSTRING *why)
{
    struct addrinfo hints, *res, *ai;
    int fd = -1;
    int err = EADDRNOTAVAIL;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
        return sock_fail(why, rc == EAI_SYSTEM ? errno : EHOSTUNREACH, "%s:%s: %s", host, port,
                         gai_strerror(rc));
    for (ai = res; ai; ai = ai->ai_next) {
        if ((fd = inet_connect_addr(ai->ai_addr, ai->ai_addrlen, NULL, 0, timeout, why)) >= 0)
            break;
        err = errno;
    }
    freeaddrinfo(res);
    if (fd < 0)
        errno = err;
    return fd;
}

int sock_accept(int fd, struct sockaddr *sa, socklen_t *salen)
{
    int conn;

    do {
        conn = accept4(fd, sa, salen, SOCK_CLOEXEC);
    } while (conn < 0 && errno == EINTR);
    return conn;
}

/* sock_copy_field - bounded copy of a validated field */
static int sock_copy_field(char *dst, size_t size, const char *src, size_t len, const char *ok,
                           const char *what, const char *spec, VSTRING *why)
{
    if (len >= size)
        return sock_fail(why, EINVAL, "%s too long in \"%.100s\"", what, spec);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) src[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || (c && strchr(ok, c))))
            return sock_fail(why, EINVAL, "bad character in %s of \"%.100s\"", what, spec);
    }
    memcpy(dst, src, len);
    dst[len] = 0;
    return 0;
}

static int sock_endpoint_path(const char *path, const char *spec, SOCK_ENDPOINT *ep, VSTRING *why)
{
    size_t len = strlen(path);

    if (len == 0)
        return sock_fail(why, EINVAL, "empty socket path in \"%.100s\"", spec);
    if (len >= sizeof(ep->path))
        return sock_fail(why, ENAMETOOLONG, "socket path too long in \"%.100s\"", spec);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) path[i] < 0x20 || path[i] == 0x7f)
            return sock_fail(why, EINVAL, "bad character in socket path \"%.100s\"", spec);
    ep->type = SOCK_EP_UNIX;
    memcpy(ep->path, path, len + 1);
    return 0;
}

#define SOCK_HOST_CHARS ".-_"
#define SOCK_HOST6_CHARS ".-_:%"
#define SOCK_PORT_CHARS "-_"

int sock_endpoint_parse(const char *spec, const char *def_port, SOCK_ENDPOINT *ep, VSTRING *why)
{
    const char *cp = spec;
    const char *host = "";
    size_t host_len = 0;
    const char *port = NULL;
    const char *host_ok = SOCK_HOST_CHARS;
    const char *end;

    memset(ep, 0, sizeof(*ep));
    if (strncmp(cp, "unix:", 5) == 0)
        return sock_endpoint_path(cp + 5, spec, ep, why);
    if (*cp == '/')
        return sock_endpoint_path(cp, spec, ep, why);
    if (strncmp(cp, "inet:", 5) == 0)
        cp += 5;
    ep->type = SOCK_EP_INET;
    if (*cp == '[') {
        if ((end = strchr(cp, ']')) == NULL)
            return sock_fail(why, EINVAL, "missing \"]\" in \"%.100s\"", spec);
        host = cp + 1;
        host_len = (size_t) (end - host);
        if (host_len == 0)
            return sock_fail(why, EINVAL, "empty host in \"%.100s\"", spec);
        ep->bracketed = 1;
        host_ok = SOCK_HOST6_CHARS;
        if (end[1] == ':')
            port = end + 2;
        else if (end[1] != 0)
            return sock_fail(why, EINVAL, "garbage after \"]\" in \"%.100s\"", spec);
    } else if ((end = strchr(cp, ':')) != NULL) {
        if (strchr(end + 1, ':'))
            return sock_fail(why, EINVAL, "an IPv6 address must be in [] in \"%.100s\"", spec);
        host = cp;
        host_len = (size_t) (end - cp);
        port = end + 1;
    } else if (def_port == NULL) {
        port = cp;
    } else {
        host = cp;
        host_len = strlen(cp);
        if (host_len == 0)
            return sock_fail(why, EINVAL, "empty endpoint \"%.100s\"", spec);
    }
    if (port == NULL)
        port = def_port;
    if (port == NULL || *port == 0)
        return sock_fail(why, EINVAL, "missing port in \"%.100s\"", spec);
    if (sock_copy_field(ep->host, sizeof(ep->host), host, host_len, host_ok, "host", spec, why) < 0)
        return -1;
    if (sock_copy_field(ep->port, sizeof(ep->port), port, strlen(port), SOCK_PORT_CHARS, "port",
                        spec, why) < 0)
        return -1;
    return 0;
}

int sock_addr_text(const struct sockaddr *sa, socklen_t salen, SOCK_ADDR_TEXT *text)
{
    struct sockaddr_in sin;
    int rc;

    memset(text, 0, sizeof(*text));
    text->family = sa->sa_family;
    if (sa->sa_family == AF_UNIX) {
        strcpy(text->addr, "unix");
        return 0;
    }
    if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) sa;

        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            memset(&sin, 0, sizeof(sin));
            sin.sin_family = AF_INET;
            sin.sin_port = sin6->sin6_port;
            memcpy(&sin.sin_addr, sin6->sin6_addr.s6_addr + 12, 4);
            sa = (const struct sockaddr *) &sin;
            salen = sizeof(sin);
            text->family = AF_INET;
        }
    } else if (sa->sa_family != AF_INET) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    rc = getnameinfo(sa, salen, text->addr, sizeof(text->addr), text->port, sizeof(text->port),
                     NI_NUMERICHOST | NI_NUMERICSERV);
    if (rc != 0) {
        errno = rc == EAI_SYSTEM ? errno : EINVAL;
        return -1;
    }
    return 0;
}

int sock_peer_text(int fd, SOCK_ADDR_TEXT *text)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getpeername(fd, (struct sockaddr *) &ss, &len) < 0)
        return -1;
    return sock_addr_text((struct sockaddr *) &ss, len, text);
}

int sock_local_text(int fd, SOCK_ADDR_TEXT *text)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
        return -1;
    return sock_addr_text((struct sockaddr *) &ss, len, text);
}

VSTRING *sock_hostaddr_format(VSTRING *buf, const char *name, const SOCK_ADDR_TEXT *text)
{
    return vstring_sprintf(buf, "%s[%s]", name ? name : "unknown", text->addr);
}
