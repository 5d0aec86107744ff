/*
 * NAME
 *	resolve - recipient address to transport, next hop and address class
 * SYNOPSIS
 *	#include "resolve.h"
#include "smtpd_match.h"
 *
 *	RESOLVE_REPLY *resolve_reply_alloc(void)
 *	void resolve_reply_free(RESOLVE_REPLY *reply)
 *	void resolve_init(void)
 *	void resolve_reset(void)
 *	int resolve_addr(const char *addr, RESOLVE_REPLY *reply)
 *	void resolve_split(const char *value, VSTRING *transport, VSTRING *nexthop)
 *	int resolve_domain_match(const char *param_name, const char *domain)
 * DESCRIPTION
 *	resolve_addr() finds the address class of addr's domain (local,
 *	virtual alias, virtual mailbox, relay or default, in that order),
 *	takes the transport and next hop of that class from main.cf, and
 *	lets transport_maps override them. resolve.h states the rules.
 *
 *	resolve_init() reads the parameters and opens the tables; it is
 *	called on first use. The interface addresses behind
 *	$inet_interfaces and $proxy_interfaces are found once, with
 *	getifaddrs(3) for "all" and getaddrinfo(3) for names.
 *
 *	resolve_domain_match() matches a domain against the domain list
 *	that a parameter holds (mydestination, relay_domains, the
 *	virtual_*_domains), with lib/smtpd_match.h, so that the resolver
 *	and smtpd(8) agree. The list of each parameter is built once.
 *
 *	resolve_split() splits a "transport:nexthop" value.
 * DIAGNOSTICS
 *	A table that cannot answer makes resolve_addr() return
 *	RESOLVE_FLAG_FAIL and resolve_domain_match() return -1; the table
 *	module logs the reason. An unreadable /file/name in a domain list
 *	is fatal (lib/smtpd_match.h): a configuration error.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "address.h"
#include "argv.h"
#include "htable.h"
#include "mail_addr_find.h"
#include "mail_conf.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve.h"
#include "smtpd_match.h"
#include "valid_hostname.h"

static struct {
    int ready;
    HTABLE *lists;          /* parameter name -> SMTPD_DOMLIST */
    MAPS *transport_maps;   /* NULL when transport_maps is empty */
    ARGV *local_addrs;      /* normalised addresses of inet_interfaces + proxy_interfaces */
    char *local_transport, *virtual_transport, *relay_transport, *default_transport;
    char *relayhost, *myhostname, *delimiter;
} rs;

RESOLVE_REPLY *resolve_reply_alloc(void)
{
    RESOLVE_REPLY *reply = mymalloc(sizeof(*reply));

    reply->transport = vstring_alloc(20);
    reply->nexthop = vstring_alloc(50);
    reply->recipient = vstring_alloc(50);
    reply->flags = 0;
    return reply;
}

void resolve_reply_free(RESOLVE_REPLY *reply)
{
    vstring_free(reply->transport);
    vstring_free(reply->nexthop);
    vstring_free(reply->recipient);
    myfree(reply);
}

void resolve_split(const char *value, VSTRING *transport, VSTRING *nexthop)
{
    const char *colon = strchr(value, ':');

    if (colon == NULL) {
        vstring_strcpy(transport, value);
        vstring_reset(nexthop);
    } else {
        vstring_strncpy(transport, value, (size_t) (colon - value));
        vstring_strcpy(nexthop, colon + 1);
    }
    vstring_trim_right(transport);
    vstring_trim_right(nexthop);
    /* leading white space of either part is not meaningful either */
    while (vstring_len(nexthop) && isspace((unsigned char) vstring_str(nexthop)[0]))
        vstring_strcpy(nexthop, vstring_str(nexthop) + 1);
    while (vstring_len(transport) && isspace((unsigned char) vstring_str(transport)[0]))
        vstring_strcpy(transport, vstring_str(transport) + 1);
}

/* ---- domain lists (lib/smtpd_match.h, as smtpd and cleanup match them) ---- */

static SMTPD_DOMLIST *resolve_list_get(const char *param)
{
    SMTPD_DOMLIST *list;
    char *value;

    if (rs.lists == NULL)
        rs.lists = htable_create(10);
    if ((list = htable_find(rs.lists, param)) != NULL)
        return list;
    value = mail_conf_lookup_eval(param);
    list = smtpd_domlist_create(param, value ? value : "");
    myfree(value);
    htable_enter(rs.lists, param, list);
    return list;
}

static void resolve_list_free(void *ptr)
{
    smtpd_domlist_free((SMTPD_DOMLIST *) ptr);
}

int resolve_domain_match(const char *param_name, const char *domain)
{
    return smtpd_domlist_match(resolve_list_get(param_name), domain);
}

/* ---- interface addresses ---- */

/* resolve_norm_addr - numeric address text in canonical form, or -1 */

static int resolve_norm_addr(const char *text, VSTRING *out)
{
    unsigned char bin[sizeof(struct in6_addr)];
    char buf[INET6_ADDRSTRLEN];

    if (inet_pton(AF_INET, text, bin) == 1) {
        inet_ntop(AF_INET, bin, buf, sizeof(buf));
    } else if (inet_pton(AF_INET6, text, bin) == 1) {
        inet_ntop(AF_INET6, bin, buf, sizeof(buf));
    } else {
        return -1;
    }
    vstring_strcpy(out, buf);
    return 0;
}

static void resolve_add_sockaddr(const struct sockaddr *sa)
{
    char buf[INET6_ADDRSTRLEN];
    const void *bin;

    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET)
        bin = &((const struct sockaddr_in *) sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        bin = &((const struct sockaddr_in6 *) sa)->sin6_addr;
    else
        return;
    if (inet_ntop(sa->sa_family, bin, buf, sizeof(buf)) != NULL)
        argv_add(rs.local_addrs, buf);
}

static void resolve_add_interfaces(const char *param)
{
    char *value = mail_conf_lookup_eval(param);
    ARGV *words = argv_split(value ? value : "", ARGV_DELIM_LIST);
    VSTRING *norm = vstring_alloc(50);
    struct ifaddrs *ifa_list, *ifa;
    struct addrinfo hints, *res, *ai;

    for (int i = 0; i < words->argc; i++) {
        const char *word = words->argv[i];
        size_t len = strlen(word);

        if (len > 2 && word[0] == '[' && word[len - 1] == ']') {
            vstring_strncpy(norm, word + 1, len - 2);
            if (resolve_norm_addr(vstring_str(norm), norm) == 0)
                argv_add(rs.local_addrs, vstring_str(norm));
            else
                msg_warn("%s: bad address %s", param, word);
        } else if (strcasecmp(word, "all") == 0) {
            if (getifaddrs(&ifa_list) < 0) {
                msg_warn("%s: cannot list the network interfaces: %m", param);
                continue;
            }
            for (ifa = ifa_list; ifa; ifa = ifa->ifa_next)
                resolve_add_sockaddr(ifa->ifa_addr);
            freeifaddrs(ifa_list);
        } else if (strcasecmp(word, "loopback-only") == 0) {
            argv_add(rs.local_addrs, "127.0.0.1");
            argv_add(rs.local_addrs, "::1");
        } else if (resolve_norm_addr(word, norm) == 0) {
            argv_add(rs.local_addrs, vstring_str(norm));
        } else {
            memset(&hints, 0, sizeof(hints));
            hints.ai_socktype = SOCK_STREAM;
            if (getaddrinfo(word, NULL, &hints, &res) != 0) {
                msg_warn("%s: cannot find the address of %s", param, word);
                continue;
            }
            for (ai = res; ai; ai = ai->ai_next)
                resolve_add_sockaddr(ai->ai_addr);
            freeaddrinfo(res);
        }
    }
    vstring_free(norm);
    argv_free(words);
    myfree(value);
}

/* resolve_literal_local - is [addr] one of our interface addresses? */

static int resolve_literal_local(const char *domain)
{
    VSTRING *inner = vstring_alloc(50);
    VSTRING *norm = vstring_alloc(50);
    size_t len = strlen(domain);
    const char *start = domain + 1;
    int found = 0;

    if (strncasecmp(start, "IPv6:", 5) == 0)
        start += 5;
    vstring_strncpy(inner, start, (size_t) (domain + len - 1 - start));
    if (resolve_norm_addr(vstring_str(inner), norm) == 0)
        for (int i = 0; i < rs.local_addrs->argc && !found; i++)
            found = strcmp(rs.local_addrs->argv[i], vstring_str(norm)) == 0;
    vstring_free(inner);
    vstring_free(norm);
    return found;
}

/* ---- set-up ---- */

static char *resolve_param(const char *name)
{
    char *value = mail_conf_lookup_eval(name);

    return value ? value : mystrdup("");
}

void resolve_init(void)
{
    char *value;

    if (rs.ready)
        return;
    rs.local_transport = resolve_param("local_transport");
    rs.virtual_transport = resolve_param("virtual_transport");
    rs.relay_transport = resolve_param("relay_transport");
    rs.default_transport = resolve_param("default_transport");
    rs.relayhost = resolve_param("relayhost");
    rs.myhostname = resolve_param("myhostname");
    rs.delimiter = resolve_param("recipient_delimiter");
    value = resolve_param("transport_maps");
    if (strspn(value, ", \t\r\n") != strlen(value))
        rs.transport_maps = maps_create("transport_maps", value, DICT_FLAG_DEFAULT);
    myfree(value);
    rs.local_addrs = argv_alloc(8);
    resolve_add_interfaces("inet_interfaces");
    resolve_add_interfaces("proxy_interfaces");
    /* open the domain tables now, while the caller may still be privileged */
    resolve_list_get("mydestination");
    resolve_list_get("virtual_alias_domains");
    resolve_list_get("virtual_mailbox_domains");
    resolve_list_get("relay_domains");
    rs.ready = 1;
}

void resolve_reset(void)
{
    if (rs.lists)
        htable_free(rs.lists, resolve_list_free);
    if (rs.transport_maps)
        maps_free(rs.transport_maps);
    if (rs.local_addrs)
        argv_free(rs.local_addrs);
    myfree(rs.local_transport);
    myfree(rs.virtual_transport);
    myfree(rs.relay_transport);
    myfree(rs.default_transport);
    myfree(rs.relayhost);
    myfree(rs.myhostname);
    myfree(rs.delimiter);
    memset(&rs, 0, sizeof(rs));
}

/* ---- resolving ---- */

/* resolve_transport_maps - transport(5) lookup: FOUND, NOTFOUND or ERROR */

static int resolve_transport_lookup(const char *addr, const char *domain, const char **value)
{
    const char *at = strrchr(addr, '@');
    size_t local_len = at ? (size_t) (at - addr) : strlen(addr);
    size_t ext_pos = local_len;
    VSTRING *key;
    int status;

    if ((status = maps_find(rs.transport_maps, addr, MAPS_FIND_ALL, value)) != DICT_STAT_NOTFOUND)
        return status;
    if (*rs.delimiter && local_len > 0) {
        ext_pos = strcspn(addr, rs.delimiter);
        if (ext_pos == 0 || ext_pos > local_len)
            ext_pos = local_len;
    }
    if (ext_pos < local_len && at != NULL) {
        key = vstring_alloc(100);
        vstring_strncpy(key, addr, ext_pos);
        vstring_strcat(key, at);
        status = maps_find(rs.transport_maps, vstring_str(key), MAPS_FIXED_ONLY, value);
        vstring_free(key);
        if (status != DICT_STAT_NOTFOUND)
            return status;
    }
    if (*domain && (status = mail_domain_find(rs.transport_maps, domain, "transport_maps", value))
                       != DICT_STAT_NOTFOUND)
        return status;
    return maps_find(rs.transport_maps, "*", MAPS_FIXED_ONLY, value);
}

/* the domain lists that decide the address class, in order */
static const struct {
    const char *param;
    int class;
} resolve_classes[] = {
    {"mydestination", RESOLVE_CLASS_LOCAL},
    {"virtual_alias_domains", RESOLVE_CLASS_ALIAS},
    {"virtual_mailbox_domains", RESOLVE_CLASS_VIRTUAL},
    {"relay_domains", RESOLVE_CLASS_RELAY},
};

static void resolve_default_nexthop(RESOLVE_REPLY *reply, const char *domain)
{
    vstring_strcpy(reply->nexthop, *domain ? domain : rs.myhostname);
}

int resolve_addr(const char *addr, RESOLVE_REPLY *reply)
{
    const char *at = strrchr(addr, '@');
    VSTRING *domain = vstring_alloc(50);
    VSTRING *t = vstring_alloc(20);
    VSTRING *n = vstring_alloc(50);
    const char *class_transport;
    const char *value;
    int status;
    int m;

    resolve_init();
    reply->flags = 0;
    vstring_strcpy(reply->recipient, addr);
    vstring_reset(reply->transport);
    vstring_reset(reply->nexthop);
    if (at)
        vstring_strcpy(domain, at + 1);
    vstring_lowercase(domain);
    if (vstring_len(domain) > 1 && vstring_end(domain)[-1] == '.') {
        vstring_truncate(domain, vstring_len(domain) - 1);
        vstring_truncate(reply->recipient, vstring_len(reply->recipient) - 1);
    }

    /* the address class */
    if (at && vstring_len(domain) == 0) {
        reply->flags = RESOLVE_FLAG_ERROR;
    } else if (vstring_len(domain) == 0) {
        reply->flags = RESOLVE_CLASS_LOCAL;
    } else if (vstring_str(domain)[0] == '[') {
        if (!valid_mailhost_literal(vstring_str(domain), 0))
            reply->flags = RESOLVE_FLAG_ERROR;
        else if (resolve_literal_local(vstring_str(domain)))
            reply->flags = RESOLVE_CLASS_LOCAL;
        else
            reply->flags = RESOLVE_CLASS_DEFAULT;
    } else if (!address_valid_domain(vstring_str(domain), ADDRESS_UTF8)) {
        reply->flags = RESOLVE_FLAG_ERROR;
    } else {
        reply->flags = RESOLVE_CLASS_DEFAULT;
        for (size_t i = 0; i < sizeof(resolve_classes) / sizeof(resolve_classes[0]); i++) {
            m = resolve_domain_match(resolve_classes[i].param, vstring_str(domain));
            if (m != 0) {
                reply->flags = m < 0 ? RESOLVE_FLAG_FAIL : resolve_classes[i].class;
                break;
            }
        }
    }

    if (reply->flags & RESOLVE_FLAG_FAIL)
        goto out;
    if (reply->flags & RESOLVE_FLAG_ERROR) {
        vstring_strcpy(reply->transport, "error");
        vstring_strcpy(reply->nexthop, RESOLVE_REASON_SYNTAX);
        goto out;
    }
    if (reply->flags & RESOLVE_CLASS_ALIAS) {
        vstring_strcpy(reply->transport, "error");
        vstring_strcpy(reply->nexthop, RESOLVE_REASON_ALIAS);
        goto out;
    }

    /* notices that bounced back to $double_bounce_sender end here (Postfix) */
    if ((reply->flags & RESOLVE_CLASS_LOCAL) && *var_double_bounce_sender
        && strncasecmp(addr, var_double_bounce_sender, strlen(var_double_bounce_sender)) == 0
        && (addr[strlen(var_double_bounce_sender)] == '@'
            || addr[strlen(var_double_bounce_sender)] == 0)) {
        vstring_strcpy(reply->transport, "discard");
        vstring_strcpy(reply->nexthop, RESOLVE_REASON_DOUBLE_BOUNCE);
        goto out;
    }

    /* the class's transport and next hop */
    switch (reply->flags & RESOLVE_CLASS_MASK) {
    case RESOLVE_CLASS_LOCAL:
        class_transport = rs.local_transport;
        break;
    case RESOLVE_CLASS_VIRTUAL:
        class_transport = rs.virtual_transport;
        break;
    case RESOLVE_CLASS_RELAY:
        class_transport = rs.relay_transport;
        break;
    default:
        class_transport = rs.default_transport;
        break;
    }
    resolve_split(class_transport, reply->transport, reply->nexthop);
    if (vstring_len(reply->nexthop) == 0) {
        if ((reply->flags & (RESOLVE_CLASS_RELAY | RESOLVE_CLASS_DEFAULT)) && *rs.relayhost)
            vstring_strcpy(reply->nexthop, rs.relayhost);
        else
            resolve_default_nexthop(reply, vstring_str(domain));
    }

    /* transport_maps */
    if (rs.transport_maps) {
        status = resolve_transport_lookup(vstring_str(reply->recipient), vstring_str(domain),
                                          &value);
        if (status == DICT_STAT_ERROR) {
            reply->flags = RESOLVE_FLAG_FAIL;
            vstring_reset(reply->transport);
            vstring_reset(reply->nexthop);
            goto out;
        }
        if (status == DICT_STAT_FOUND) {
            resolve_split(value, t, n);
            if (vstring_len(t)) {
                vstring_strcpy(reply->transport, vstring_str(t));
                if (vstring_len(n))
                    vstring_strcpy(reply->nexthop, vstring_str(n));
                else
                    resolve_default_nexthop(reply, vstring_str(domain));
                reply->flags |= RESOLVE_FLAG_ROUTED;
            } else if (vstring_len(n)) {
                vstring_strcpy(reply->nexthop, vstring_str(n));
                reply->flags |= RESOLVE_FLAG_ROUTED;
            }
        }
    }
    if (vstring_len(reply->transport) == 0) {
        msg_warn("%s: empty transport for address class of %s: check the *_transport settings",
                 addr, *vstring_str(domain) ? vstring_str(domain) : "(no domain)");
        reply->flags = RESOLVE_FLAG_FAIL;
        vstring_reset(reply->nexthop);
    }

out:
    vstring_free(domain);
    vstring_free(t);
    vstring_free(n);
    return reply->flags;
}
