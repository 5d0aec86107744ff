/*
 * NAME
 *	smtpd_peer - who the SMTP client is
 * SYNOPSIS
 *	#include "smtpd.h"
 *
 *	void smtpd_peer_init(SMTPD_STATE *state)
 *	void smtpd_peer_reset(SMTPD_STATE *state)
 * DESCRIPTION
 *	smtpd_peer_init() fills in the client's numeric address and port
 *	(an IPv4-mapped IPv6 address is shown as IPv4), the address as the
 *	body of an RFC 5321 address literal ("192.0.2.1",
 *	"IPv6:2001:db8::1"), our own address on the connection, the host
 *	name, and "name[addr]" for logs.
 *
 *	The host name is "unknown" unless $smtpd_peername_lookup is set,
 *	the address is a loopback address, and its reverse name (from the
 *	system's resolver, NI_NAMEREQD) resolves forward to the same
 *	address again. Other addresses stay "unknown" until postern has its
 *	own DNS client: the system resolver could block a session for as
 *	long as its own timeouts.
 *
 *	A client that is not on an internet socket (a UNIX-domain socket,
 *	or a pipe in stand-alone mode) is "localhost[127.0.0.1]", the
 *	local machine.
 *
 *	smtpd_peer_reset() frees what smtpd_peer_init() stored.
 */
#include <netdb.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtpd.h"
#include "sock.h"
#include "valid_hostname.h"
#include "vstring.h"

static int smtpd_peer_loopback(const SOCK_ADDR_TEXT *text)
{
    if (text->family == AF_INET || strchr(text->addr, ':') == NULL)
        return strncmp(text->addr, "127.", 4) == 0;
    return strcmp(text->addr, "::1") == 0;
}

/* smtpd_peer_name - forward-confirmed reverse name, or NULL */

static char *smtpd_peer_name(int fd, const SOCK_ADDR_TEXT *text)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    char host[NI_MAXHOST];
    struct addrinfo hints, *res, *ai;
    char *name = NULL;

    if (getpeername(fd, (struct sockaddr *) &ss, &sslen) < 0)
        return NULL;
    if (getnameinfo((struct sockaddr *) &ss, sslen, host, sizeof(host), NULL, 0, NI_NAMEREQD) != 0)
        return NULL;
    if (!valid_hostname(host, 0))
        return NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return NULL;
    for (ai = res; ai; ai = ai->ai_next) {
        SOCK_ADDR_TEXT fwd;

        if (sock_addr_text(ai->ai_addr, ai->ai_addrlen, &fwd) == 0
            && strcasecmp(fwd.addr, text->addr) == 0) {
            name = mystrdup(host);
            break;
        }
    }
    freeaddrinfo(res);
    return name;
}

void smtpd_peer_init(SMTPD_STATE *state)
{
    int fd = vstream_fileno(state->client);
    SOCK_ADDR_TEXT text;
    SOCK_ADDR_TEXT local;
    VSTRING *buf = vstring_alloc(100);

    if (sock_peer_text(fd, &text) < 0 || text.family == AF_UNIX) {
        state->name = mystrdup("localhost");
        state->addr = mystrdup("127.0.0.1");
        state->port = mystrdup("");
        state->rfc_addr = mystrdup("127.0.0.1");
        state->local_addr = mystrdup("127.0.0.1");
    } else {
        state->addr = mystrdup(text.addr);
        state->port = mystrdup(text.port);
        if (strchr(text.addr, ':')) {
            vstring_sprintf(buf, "IPv6:%s", text.addr);
            state->rfc_addr = mystrdup(vstring_str(buf));
        } else {
            state->rfc_addr = mystrdup(text.addr);
        }
        state->name = NULL;
        if (var_smtpd_peername_lookup && smtpd_peer_loopback(&text))
            state->name = smtpd_peer_name(fd, &text);
        if (state->name == NULL)
            state->name = mystrdup("unknown");
        state->local_addr = mystrdup(sock_local_text(fd, &local) == 0 ? local.addr : "");
    }
    vstring_sprintf(buf, "%s[%s]", state->name, state->addr);
    state->namaddr = mystrdup(vstring_str(buf));
    vstring_free(buf);
}

void smtpd_peer_reset(SMTPD_STATE *state)
{
    myfree(state->name);
    myfree(state->addr);
    myfree(state->port);
    myfree(state->rfc_addr);
    myfree(state->namaddr);
    myfree(state->local_addr);
}
