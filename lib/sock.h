#ifndef POSTERN_SOCK_H
#define POSTERN_SOCK_H
/*
 * sock - listening and connecting sockets, endpoint syntax, address text
 *
 * Every descriptor returned is close-on-exec. Listening sockets are
 * non-blocking (several processes may race to accept; the losers get
 * EAGAIN); connected and accepted sockets are blocking (use vstream or
 * iostuff timeouts). Errors return -1 with errno and, when why is not
 * NULL, a message in why; nothing is logged.
 *
 * unix_listen(path, backlog, mode, why): removes a stale socket at path
 * (only a socket; anything else is refused with EEXIST), binds, sets the
 * mode with chmod (e.g. 0666 for public/, 0600 for private/), listens.
 *
 * inet_listen(host, port, backlog, fds, max_fds, why): host NULL or "" is
 * every address (IPv6 wildcard with IPV6_V6ONLY plus IPv4 wildcard); else
 * a name or numeric address, every address it resolves to (families as
 * the system allows). port is a number or service name. SO_REUSEADDR is
 * set. Fills fds and returns how many (>= 1), or -1 (nothing left open).
 *
 * unix_connect(path, timeout, why) and inet_connect(host, port, timeout,
 * why) connect with a non-blocking connect() bounded by timeout seconds
 * (<= 0: the kernel's own limit). inet_connect() tries each address the
 * host resolves to in turn. inet_connect_addr() connects to one address,
 * optionally bound first to a local address (bind_sa may be NULL).
 *
 * sock_accept(fd, sa, salen) accepts one connection (EINTR retried);
 * sa/salen may be NULL.
 *
 * sock_endpoint_parse(spec, def_port, ep, why) splits an endpoint:
 *   "unix:/path"              -> SOCK_EP_UNIX, path
 *   "inet:host:port"          -> the rest parsed as below
 *   "host:port"               -> host, port
 *   "[host]:port" "[v6]:port" -> host without brackets, bracketed = 1
 *   "port"                    -> host "" (def_port NULL: master.cf style)
 *   "host" or "[host]"        -> host, port def_port (def_port not NULL)
 *   "/path"                   -> SOCK_EP_UNIX (a bare absolute path)
 * An IPv6 address must be bracketed; empty ports, over-long fields,
 * control characters and stray brackets are refused (-1, why set). The
 * result has fixed-size fields, nothing to free.
 *
 * sock_addr_text(sa, salen, text) formats an address: numeric address
 * (IPv4-mapped IPv6 shown as IPv4; AF_UNIX as "unix") and port ("" for
 * AF_UNIX). sock_peer_text(fd, text) does that for getpeername(fd), and
 * sock_local_text(fd, text) for getsockname(fd). 0 or -1 with errno.
 * sock_hostaddr_format(buf, name, text) sets buf to "name[addr]", the
 * form log lines use (name "unknown" when NULL).
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <netdb.h>

#include "vstring.h"

int unix_listen(const char *path, int backlog, mode_t mode, VSTRING *why);
int inet_listen(const char *host, const char *port, int backlog, int *fds, int max_fds,
                VSTRING *why);
int unix_connect(const char *path, int timeout, VSTRING *why);
int inet_connect(const char *host, const char *port, int timeout, VSTRING *why);
int inet_connect_addr(const struct sockaddr *sa, socklen_t salen, const struct sockaddr *bind_sa,
                      socklen_t bind_salen, int timeout, VSTRING *why);
int sock_accept(int fd, struct sockaddr *sa, socklen_t *salen);

#define SOCK_EP_INET 1
#define SOCK_EP_UNIX 2
#define SOCK_HOST_MAX 256   /* RFC 1035 name length + NUL, fits any address text */
#define SOCK_PORT_MAX 33
#define SOCK_PATH_MAX 108   /* sizeof(sun_path) */

typedef struct SOCK_ENDPOINT {
    int type;                 /* SOCK_EP_INET or SOCK_EP_UNIX */
    int bracketed;            /* host was given as [host] */
    char host[SOCK_HOST_MAX]; /* "" = any/none */
    char port[SOCK_PORT_MAX];
    char path[SOCK_PATH_MAX];
} SOCK_ENDPOINT;

int sock_endpoint_parse(const char *spec, const char *def_port, SOCK_ENDPOINT *ep, VSTRING *why);

typedef struct SOCK_ADDR_TEXT {
    int family;               /* AF_INET, AF_INET6, AF_UNIX */
    char addr[NI_MAXHOST];    /* numeric address */
    char port[NI_MAXSERV];    /* numeric port */
} SOCK_ADDR_TEXT;

int sock_addr_text(const struct sockaddr *sa, socklen_t salen, SOCK_ADDR_TEXT *text);
int sock_peer_text(int fd, SOCK_ADDR_TEXT *text);
int sock_local_text(int fd, SOCK_ADDR_TEXT *text);
VSTRING *sock_hostaddr_format(VSTRING *buf, const char *name, const SOCK_ADDR_TEXT *text);

#endif
