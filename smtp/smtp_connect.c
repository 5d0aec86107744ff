/*
 * NAME
 *	smtp_connect - from a next hop to servers, until every recipient has
 *	an outcome
 * SYNOPSIS
 *	#include "smtp.h"
 *
 *	void smtp_deliver(SMTP_STATE *state)
 *	int smtp_port_number(const char *service, unsigned *port)
 *	void smtp_local_init(void)
 * DESCRIPTION
 *	smtp_deliver() delivers state->req to its next hop and gives every
 *	recipient exactly one outcome (smtp_trouble.c).
 *
 *	First the connection cache: a session that this process kept from
 *	the previous request to the same next hop is reused after RSET.
 *	Then the destinations, in order: the next hop (a list separated by
 *	commas or white space, as relayhost allows), then, for SMTP and only
 *	while recipients remain with temporary failures, the hosts of
 *	smtp_fallback_relay. A destination is
 *	    domain, domain:port   SMTP: the MX hosts of domain, by preference
 *	                          (random among equals, lib/dns.c); the
 *	                          domain's own A/AAAA records when it has no
 *	                          MX; a null MX bounces (5.1.10); an MX list
 *	                          that names $myhostname, or a host with one
 *	                          of our addresses (inet_interfaces,
 *	                          proxy_interfaces; smtp_local_init()), is
 *	                          cut before that host's preference, and
 *	                          bounces as a mail loop (5.4.6) when
 *	                          nothing is left
 *	    [host], [host]:port   that host, no MX lookup (LMTP: any host)
 *	    unix:/path, unix:rel  LMTP: a UNIX-domain socket (a relative path
 *	                          is under queue_directory)
 *	    inet:host:port        LMTP: that host
 *	A domain or host that DNS does not know bounces its recipients
 *	only when it is their own domain; a next hop from the configuration
 *	(relayhost, transport, fallback relay) that cannot be found defers.
 *	The port is $smtp_tcp_port ($lmtp_tcp_port) unless given. Host
 *	addresses come from DNS or the system resolver as $smtp_host_lookup
 *	says, of the families inet_protocols enables (IPv4 first).
 *
 *	Servers are tried in order: a connection failure, a greeting other
 *	than 2xx or a failed EHLO moves on to the next address; so do
 *	recipients with temporary failures after a session, while the
 *	session limit ($smtp_mx_session_limit sessions that got through
 *	the handshake) and the address limit ($smtp_mx_address_limit) allow.
 *	LMTP has no such limits. The last session used goes to the
 *	connection cache (smtp_session.c).
 *
 *	smtp_port_number() converts a port number or service name (from
 *	/etc/services, or the well-known smtp, submission, submissions,
 *	smtps and lmtp when that file is out of reach, as in a chroot) to a
 *	number: 0 or -1.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "deliver_status.h"
#include "dns.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtp.h"
#include "sock.h"
#include "vstream.h"

/* one server address to try */
typedef struct SMTP_ADDR {
    char *host;    /* name for logs */
    unsigned pref; /* MX preference, 0 when not from MX */
    DNS_ADDR addr;
} SMTP_ADDR;

static DNS_ADDR_LIST smtp_local_addrs; /* this host's addresses (MX loop check) */

typedef struct SMTP_ADDR_LIST {
    int count;
    int size;
    SMTP_ADDR *list;
} SMTP_ADDR_LIST;

int smtp_port_number(const char *service, unsigned *port)
{
    static const struct {
        const char *name;
        unsigned port;
    } known[] = {
        {"smtp", 25}, {"submission", 587}, {"submissions", 465}, {"smtps", 465}, {"lmtp", 24},
    };
    struct servent *sp;
    char *end;
    unsigned long n;

    if (isdigit((unsigned char)*service)) {
        errno = 0;
        n = strtoul(service, &end, 10);
        if (*end || errno || n == 0 || n > 65535)
            return -1;
        *port = (unsigned)n;
        return 0;
    }
    if ((sp = getservbyname(service, "tcp")) != NULL) {
        *port = ntohs((unsigned short)sp->s_port);
        return 0;
    }
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcasecmp(service, known[i].name) == 0) {
            *port = known[i].port;
            return 0;
        }
    }
    return -1;
}

static void smtp_addr_add(SMTP_ADDR_LIST *al, const char *host, unsigned pref, const DNS_ADDR *addr)
{
    for (int i = 0; i < al->count; i++)
        if (al->list[i].addr.family == addr->family &&
            memcmp(al->list[i].addr.addr, addr->addr, sizeof(addr->addr)) == 0)
            return;
    if (al->count >= al->size) {
        al->size = al->size ? al->size * 2 : 8;
        al->list = myrealloc(al->list, sizeof(SMTP_ADDR) * (size_t)al->size);
    }
    al->list[al->count].host = mystrdup(host);
    al->list[al->count].pref = pref;
    al->list[al->count].addr = *addr;
    al->count++;
}

static void smtp_addr_free(SMTP_ADDR_LIST *al)
{
    for (int i = 0; i < al->count; i++)
        myfree(al->list[i].host);
    myfree(al->list);
}

/* smtp_local_add - add the addresses of one inet_interfaces/proxy_interfaces entry */

static void smtp_local_add(const char *name)
{
    struct addrinfo hints;
    struct addrinfo *res;
    struct addrinfo *ai;
    DNS_ADDR addr;

    if (dns_addr_parse(name, &addr) == 0) {
        dns_addr_list_add(&smtp_local_addrs, &addr);
        return;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(name, NULL, &hints, &res) != 0) {
        msg_warn("cannot find the addresses of interface \"%s\": the MX loop check ignores it",
                 name);
        return;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        memset(&addr, 0, sizeof(addr));
        if (ai->ai_family == AF_INET) {
            addr.family = AF_INET;
            memcpy(addr.addr, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
        } else if (ai->ai_family == AF_INET6) {
            addr.family = AF_INET6;
            memcpy(addr.addr, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
        } else {
            continue;
        }
        dns_addr_list_add(&smtp_local_addrs, &addr);
    }
    freeaddrinfo(res);
}

void smtp_local_init(void)
{
    struct ifaddrs *ifa_list;
    struct ifaddrs *ifa;
    ARGV *names;
    DNS_ADDR addr;

    dns_addr_list_free(&smtp_local_addrs);
    names = argv_split(var_inet_interfaces, ARGV_DELIM_LIST);
    for (int i = 0; i < names->argc; i++) {
        if (strcasecmp(names->argv[i], "all") == 0) {
            if (getifaddrs(&ifa_list) < 0) {
                msg_warn("getifaddrs: %m; the MX loop check knows no interface address");
                continue;
            }
            for (ifa = ifa_list; ifa; ifa = ifa->ifa_next) {
                if (ifa->ifa_addr == NULL)
                    continue;
                memset(&addr, 0, sizeof(addr));
                if (ifa->ifa_addr->sa_family == AF_INET) {
                    addr.family = AF_INET;
                    memcpy(addr.addr, &((struct sockaddr_in *)ifa->ifa_addr)->sin_addr, 4);
                } else if (ifa->ifa_addr->sa_family == AF_INET6) {
                    addr.family = AF_INET6;
                    memcpy(addr.addr, &((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr, 16);
                } else {
                    continue;
                }
                dns_addr_list_add(&smtp_local_addrs, &addr);
            }
            freeifaddrs(ifa_list);
        } else if (strcasecmp(names->argv[i], "loopback-only") == 0) {
            smtp_local_add("127.0.0.1");
            smtp_local_add("::1");
        } else {
            smtp_local_add(names->argv[i]);
        }
    }
    argv_free(names);
    names = argv_split(var_proxy_interfaces, ARGV_DELIM_LIST);
    for (int i = 0; i < names->argc; i++)
        smtp_local_add(names->argv[i]);
    argv_free(names);
}

/* smtp_addr_local - is this one of our own addresses? */

static int smtp_addr_local(const DNS_ADDR *addr)
{
    size_t len = addr->family == AF_INET ? 4 : 16;

    for (int i = 0; i < smtp_local_addrs.count; i++)
        if (smtp_local_addrs.addrs[i].family == addr->family &&
            memcmp(smtp_local_addrs.addrs[i].addr, addr->addr, len) == 0)
            return 1;
    return 0;
}

/* smtp_native_addr - the system resolver (getaddrinfo) */

static int smtp_native_addr(const char *host, DNS_ADDR_LIST *list, VSTRING *why)
{
    struct addrinfo hints;
    struct addrinfo *res;
    struct addrinfo *ai;
    DNS_ADDR addr;
    int err;
    int found = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = smtp_params.want_families == DNS_WANT_A      ? AF_INET
                      : smtp_params.want_families == DNS_WANT_AAAA ? AF_INET6
                                                                   : AF_UNSPEC;
    if ((err = getaddrinfo(host, NULL, &hints, &res)) != 0) {
        vstring_sprintf(why, "%s: %s", host, gai_strerror(err));
        return err == EAI_AGAIN                         ? DNS_TEMP
               : err == EAI_NONAME || err == EAI_NODATA ? DNS_NOTFOUND
                                                        : DNS_TEMP;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        memset(&addr, 0, sizeof(addr));
        if (ai->ai_family == AF_INET) {
            addr.family = AF_INET;
            memcpy(addr.addr, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
        } else if (ai->ai_family == AF_INET6) {
            addr.family = AF_INET6;
            memcpy(addr.addr, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
        } else {
            continue;
        }
        dns_addr_list_add(list, &addr);
        found = 1;
    }
    freeaddrinfo(res);
    if (!found) {
        vstring_sprintf(why, "%s: no address of an enabled family", host);
        return DNS_NOTFOUND;
    }
    return DNS_OK;
}

/*
 * smtp_host_addr - the addresses of one host, as smtp_host_lookup says;
 * appended to al under the name host with MX preference pref. Returns a
 * DNS_* code.
 */
static int smtp_host_addr(const char *host, unsigned pref, SMTP_ADDR_LIST *al, VSTRING *why)
{
    DNS_ADDR_LIST list;
    DNS_ADDR numeric;
    ARGV *methods;
    int rc = DNS_NOTFOUND;
    int worst = DNS_NOTFOUND;
    int tried = 0;

    if (dns_addr_parse(host, &numeric) == 0) {
        if ((numeric.family == AF_INET && !(smtp_params.want_families & DNS_WANT_A)) ||
            (numeric.family == AF_INET6 && !(smtp_params.want_families & DNS_WANT_AAAA))) {
            vstring_sprintf(why, "%s: address family not enabled by inet_protocols", host);
            return DNS_TEMP; /* a configuration matter: wait for a fix */
        }
        smtp_addr_add(al, host, pref, &numeric);
        return DNS_OK;
    }
    dns_addr_list_init(&list);
    methods = argv_split(smtp_params.host_lookup, ARGV_DELIM_LIST);
    for (int m = 0; m < methods->argc; m++) {
        if (strcasecmp(methods->argv[m], "dns") == 0)
            rc = dns_lookup_addr(host, smtp_params.want_families, &list, why);
        else if (strcasecmp(methods->argv[m], "native") == 0)
            rc = smtp_native_addr(host, &list, why);
        else
            continue;
        tried = 1;
        if (rc == DNS_OK)
            break;
        if (rc == DNS_TEMP || worst == DNS_NOTFOUND)
            worst = rc;
    }
    argv_free(methods);
    if (!tried) {
        vstring_sprintf(why, "no valid method in %s_host_lookup = %s",
                        smtp_params.lmtp ? "lmtp" : "smtp", smtp_params.host_lookup);
        dns_addr_list_free(&list);
        return DNS_TEMP;
    }
    for (int i = 0; i < list.count; i++)
        if (list.addrs[i].family == AF_INET)
            smtp_addr_add(al, host, pref, &list.addrs[i]);
    for (int i = 0; i < list.count; i++)
        if (list.addrs[i].family == AF_INET6)
            smtp_addr_add(al, host, pref, &list.addrs[i]);
    dns_addr_list_free(&list);
    return rc == DNS_OK ? DNS_OK : worst;
}

/* smtp_bind_sockaddr - the local address to bind to for this family */

static int smtp_bind_sockaddr(int family, struct sockaddr_storage *ss, socklen_t *len)
{
    const char *text = family == AF_INET ? smtp_params.bind_address : smtp_params.bind_address6;
    DNS_ADDR addr;

    if (text == NULL || *text == 0)
        return 0;
    if (dns_addr_parse(text, &addr) < 0 || addr.family != family) {
        msg_warn("%s_bind_address%s: \"%s\" is not an IPv%c address; not binding",
                 smtp_params.lmtp ? "lmtp" : "smtp", family == AF_INET ? "" : "6", text,
                 family == AF_INET ? '4' : '6');
        return 0;
    }
    dns_addr_sockaddr(&addr, 0, ss, len);
    return 1;
}

/* smtp_session_step - run one session to completion; return 1 to go on */

static int smtp_session_step(SMTP_STATE *state)
{
    int rc = smtp_helo(state);

    if (rc != SMTP_SESSION_OK) {
        smtp_session_quit(state->session);
        state->session = NULL;
        return rc == SMTP_SESSION_NEXT;
    }
    state->sessions++;
    if (state->req->conn_done.tv_sec == 0)
        deliver_request_conn_done(state->req);
    smtp_xfer(state);
    return 1;
}

/* smtp_drop_session - done with the current session: keep it or close it */

static void smtp_drop_session(SMTP_STATE *state, int keep)
{
    if (state->session == NULL)
        return;
    if (keep)
        smtp_cache_save(state->session);
    else
        smtp_session_quit(state->session);
    state->session = NULL;
}

/* smtp_limits_reached - may we try another server for this request? */

static int smtp_limits_reached(SMTP_STATE *state)
{
    if (smtp_pending_count(state) == 0)
        return 1;
    if (smtp_params.lmtp)
        return 0;
    if (smtp_params.mx_session_limit > 0 && state->sessions >= smtp_params.mx_session_limit)
        return 1;
    if (smtp_params.mx_address_limit > 0 && state->addresses >= smtp_params.mx_address_limit)
        return 1;
    return 0;
}

/*
 * smtp_connect_addr - connect to one address and run a session there;
 * return 1 to go on with the next address.
 */
static int smtp_connect_addr(SMTP_STATE *state, SMTP_ADDR *sa, unsigned port)
{
    struct sockaddr_storage ss;
    struct sockaddr_storage bs;
    socklen_t len;
    socklen_t blen = 0;
    char text[DNS_ADDR_TEXT_MAX];
    char port_text[16];
    VSTRING *why = vstring_alloc(100);
    int bind_it;
    int fd;
    int go_on;

    snprintf(port_text, sizeof(port_text), "%u", port);
    dns_addr_text(&sa->addr, text);
    dns_addr_sockaddr(&sa->addr, port, &ss, &len);
    bind_it = smtp_bind_sockaddr(sa->addr.family, &bs, &blen);
    fd = inet_connect_addr((struct sockaddr *)&ss, len, bind_it ? (struct sockaddr *)&bs : NULL,
                           bind_it ? blen : 0, (int)smtp_params.connect_timeout, why);
    vstring_free(why);
    if (fd < 0) {
        smtp_all_fail(state, "none", "4.4.1", "connect to %s[%s]:%u: %s", sa->host, text, port,
                      errno == ETIMEDOUT ? "Connection timed out" : strerror(errno));
        return 1;
    }
    if (state->session)
        smtp_drop_session(state, 0);
    state->session = smtp_session_alloc(vstream_fdopen(fd, O_RDWR), state->req->nexthop, sa->host,
                                        text, port_text);
    state->session->hop = mystrdup(state->tls ? state->tls->dest : state->req->nexthop);
    go_on = smtp_session_step(state);
    if (go_on && smtp_pending_count(state) > 0 && state->session)
        smtp_drop_session(state, 0);
    return go_on;
}

/* smtp_connect_inet - try each address in turn */

static void smtp_connect_inet(SMTP_STATE *state, SMTP_ADDR_LIST *al, unsigned port)
{
    for (int i = 0; i < al->count && !smtp_limits_reached(state); i++) {
        SMTP_ADDR *sa = al->list + i;
        int go_on;

        state->addresses++;
        state->tls_retry = 0;
        go_on = smtp_connect_addr(state, sa, port);
        if (go_on && state->tls_retry && smtp_pending_count(state) > 0) {
            /* opportunistic TLS failed in the handshake: once more in plaintext */
            msg_info("TLS handshake with %s failed at security level may: trying again "
                     "without TLS",
                     sa->host);
            state->tls_retry = 0;
            state->tls_off = 1;
            go_on = smtp_connect_addr(state, sa, port);
            state->tls_off = 0;
        }
        state->tls_retry = 0;
        if (!go_on)
            break;
    }
}

/*
 * smtp_dest_fail - a lookup failed for the whole destination. Only the
 * recipients' own domain may bounce: a next hop that the configuration
 * names (relayhost, a transport, a fallback relay) and that cannot be
 * found is a configuration matter, and its mail waits.
 */
static void smtp_dest_fail(SMTP_STATE *state, const char *host, int rc, VSTRING *why)
{
    const char *at = state->req->rcpt_count > 0 ? strrchr(state->req->rcpt[0].address, '@') : 0;
    int own = at && strcasecmp(at + 1, host) == 0;

    switch (rc) {
    case DNS_TEMP:
        smtp_all_fail(state, "none", "4.4.3", "Host or domain name not found. %s",
                      vstring_str(why));
        break;
    case DNS_NULLMX:
        smtp_all_fail(state, "none", own ? "5.1.10" : "4.1.10", "%s", vstring_str(why));
        break;
    default:
        smtp_all_fail(state, "none", own ? "5.4.4" : "4.4.4", "Host or domain name not found. %s",
                      vstring_str(why));
        break;
    }
}

/* smtp_mx_addr - the addresses of a domain's MX hosts; a DNS_* code */

static int smtp_mx_addr(SMTP_STATE *state, const char *domain, SMTP_ADDR_LIST *al, VSTRING *why)
{
    DNS_MX_LIST *mxl;
    VSTRING *host_why = vstring_alloc(100);
    int rc;
    int count;
    int temp = 0;

    rc = dns_lookup_mx(domain, &mxl, why);
    if (rc == DNS_NOTFOUND) { /* no MX: the domain itself */
        rc = smtp_host_addr(domain, 0, al, why);
        vstring_free(host_why);
        return rc;
    }
    if (rc != DNS_OK) {
        vstring_free(host_why);
        return rc;
    }
    /* best MX is this host: use only the better ones */
    count = mxl->count;
    for (int i = 0; i < mxl->count; i++) {
        if (strcasecmp(mxl->mx[i].host, var_myhostname) == 0) {
            for (count = 0; count < mxl->count && mxl->mx[count].pref < mxl->mx[i].pref; count++)
                ;
            break;
        }
    }
    if (count == 0) {
        dns_mx_free(mxl);
        vstring_free(host_why);
        smtp_all_fail(state, "none", "5.4.6", "mail for %s loops back to myself", domain);
        return DNS_OK;
    }
    for (int i = 0; i < count; i++) {
        int before = al->count;
        int local = 0;

        if (smtp_params.mx_address_limit > 0 && al->count >= smtp_params.mx_address_limit)
            break;
        rc = smtp_host_addr(mxl->mx[i].host, mxl->mx[i].pref, al, host_why);
        if (rc == DNS_TEMP)
            temp = 1;
        if (rc != DNS_OK && msg_verbose)
            msg_info("%s: MX host %s: %s", domain, mxl->mx[i].host, vstring_str(host_why));
        for (int j = before; j < al->count && !local; j++)
            local = smtp_addr_local(&al->list[j].addr);
        if (local) { /* this host: only better MX hosts */
            while (al->count > 0 && al->list[al->count - 1].pref >= mxl->mx[i].pref)
                myfree(al->list[--al->count].host);
            if (al->count == 0) {
                dns_mx_free(mxl);
                vstring_free(host_why);
                smtp_all_fail(state, "none", "5.4.6", "mail for %s loops back to myself", domain);
                return DNS_OK;
            }
            break;
        }
    }
    while (smtp_params.mx_address_limit > 0 && al->count > smtp_params.mx_address_limit)
        myfree(al->list[--al->count].host);
    dns_mx_free(mxl);
    if (al->count == 0) { /* MX hosts without address */
        vstring_strcpy(why, vstring_str(host_why));
        vstring_free(host_why);
        return temp ? DNS_TEMP : DNS_NOTFOUND;
    }
    vstring_free(host_why);
    return DNS_OK;
}

/* smtp_deliver_dest - one destination */

static void smtp_deliver_dest(SMTP_STATE *state, const char *dest)
{
    const char *def_port = smtp_params.tcp_port;
    SOCK_ENDPOINT ep;
    SMTP_ADDR_LIST al = {0, 0, NULL};
    VSTRING *why = vstring_alloc(100);
    unsigned port;
    int rc;
    int fd;

    if (sock_endpoint_parse(dest, def_port, &ep, why) < 0) {
        smtp_all_fail(state, "none", "4.3.5", "bad next hop \"%s\": %s", dest, vstring_str(why));
        goto done;
    }
    state->tls = smtp_tls_policy(dest, ep.type == SOCK_EP_UNIX ? var_myhostname : ep.host);
    if (smtp_tls_policy_check(state) < 0)
        goto done;
    if (ep.type == SOCK_EP_UNIX) {
        if (!smtp_params.lmtp) {
            smtp_all_fail(state, "none", "4.3.5",
                          "bad next hop \"%s\": the SMTP client "
                          "does not connect to UNIX-domain sockets",
                          dest);
            goto done;
        }
        state->addresses++;
        if ((fd = unix_connect(ep.path, (int)smtp_params.connect_timeout, why)) < 0) {
            smtp_all_fail(state, "none", "4.4.1", "connect to %s: %s", ep.path, strerror(errno));
            goto done;
        }
        state->session = smtp_session_alloc(vstream_fdopen(fd, O_RDWR), state->req->nexthop,
                                            var_myhostname, ep.path, "");
        state->session->hop = mystrdup(dest);
        smtp_session_step(state);
        goto done;
    }
    if (smtp_port_number(ep.port, &port) < 0) {
        smtp_all_fail(state, "none", "4.3.5", "bad next hop \"%s\": unknown port \"%s\"", dest,
                      ep.port);
        goto done;
    }
    if (!smtp_params.lmtp && !ep.bracketed && dns_addr_parse(ep.host, &(DNS_ADDR){0}) < 0)
        rc = smtp_mx_addr(state, ep.host, &al, why);
    else
        rc = smtp_host_addr(ep.host, 0, &al, why);
    if (rc != DNS_OK) {
        smtp_dest_fail(state, ep.host, rc, why);
        goto done;
    }
    smtp_connect_inet(state, &al, port);

done:
    smtp_tls_policy_free(state->tls);
    state->tls = NULL;
    smtp_addr_free(&al);
    vstring_free(why);
}

void smtp_deliver(SMTP_STATE *state)
{
    DELIVER_REQUEST *req = state->req;
    ARGV *dests;
    int first_fallback;

    /* the cached session, when it was kept for this next hop */
    if ((state->session = smtp_cache_take(req->nexthop)) != NULL &&
        (!smtp_tls_reusable(state->session) || !smtp_sasl_reusable(state, state->session))) {
        if (msg_verbose)
            msg_info("not reusing the connection to %s: its TLS or SASL state does not fit",
                     vstring_str(state->session->relay));
        smtp_session_quit(state->session);
        state->session = NULL;
    }
    if (state->session != NULL) {
        if (msg_verbose)
            msg_info("reusing connection to %s", vstring_str(state->session->relay));
        deliver_request_conn_done(req);
        if (smtp_xfer(state) == SMTP_XFER_STALE) {
            if (msg_verbose)
                msg_info("cached connection to %s went stale", vstring_str(state->session->relay));
            smtp_session_free(state->session);
            state->session = NULL;
            req->conn_done.tv_sec = 0;
        } else {
            state->sessions++;
        }
    }

    dests = argv_split(req->nexthop, ARGV_DELIM_LIST);
    if (dests->argc == 0 && req->rcpt_count > 0) { /* no next hop: the recipient domain */
        const char *at = strrchr(req->rcpt[0].address, '@');

        argv_add(dests, at ? at + 1 : var_myhostname);
    }
    first_fallback = dests->argc;
    if (!smtp_params.lmtp && smtp_params.fallback_relay && *smtp_params.fallback_relay) {
        ARGV *fb = argv_split(smtp_params.fallback_relay, ARGV_DELIM_LIST);

        for (int i = 0; i < fb->argc; i++)
            argv_add(dests, fb->argv[i]);
        argv_free(fb);
    }
    for (int d = 0; d < dests->argc; d++) {
        if (smtp_pending_count(state) == 0)
            break;
        if (d == first_fallback) { /* fallback relays have limits of their own */
            state->sessions = 0;
            state->addresses = 0;
        }
        if (smtp_limits_reached(state))
            continue;
        if (d >= first_fallback && strcmp(dests->argv[d], req->nexthop) == 0)
            continue; /* we are the fallback relay */
        smtp_drop_session(state, 0);
        smtp_deliver_dest(state, dests->argv[d]);
    }
    argv_free(dests);
    smtp_drop_session(state, state->session && !state->session->broken);
    smtp_finish(state);
}
