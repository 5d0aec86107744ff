/*
 * NAME
 *	cleanup_local - does a client count as local for header processing
 * SYNOPSIS
 *	#include "cleanup_local.h"
 *
 *	CLEANUP_LOCAL *cleanup_local_create(const char *rules,
 *				const char *mynetworks,
 *				const char *inet_interfaces,
 *				const char *proxy_interfaces)
 *	int cleanup_local_match(CLEANUP_LOCAL *local,
 *				const char *client_addr, const char *sasl_user)
 *	void cleanup_local_free(CLEANUP_LOCAL *local)
 * DESCRIPTION
 *	cleanup_local_create() does all the slow work once: it parses the
 *	rules, compiles mynetworks with smtpd_netlist_create(), and
 *	collects this host's addresses (getifaddrs(3) for "all",
 *	getaddrinfo(3) for names). A matching call only compares bytes,
 *	or looks up a table.
 *
 *	Addresses are compared as 4 or 16 bytes; an IPv4-mapped IPv6
 *	address from a client counts as IPv4.
 * DIAGNOSTICS
 *	Bad rules and host names that do not resolve are logged as
 *	warnings and skipped, so that a configuration mistake makes fewer
 *	clients local, never more. A bad mynetworks entry is fatal, as in
 *	smtpd(8).
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "argv.h"
#include "cleanup_local.h"
#include "dict.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtpd_match.h"

typedef struct CLEANUP_ADDR {
    int family;                 /* AF_INET or AF_INET6 */
    unsigned char bytes[16];
} CLEANUP_ADDR;

#define RULE_INET_INTERFACES 1
#define RULE_MYNETWORKS 2
#define RULE_SASL 3
#define RULE_ADDRESS_MAP 4
#define RULE_NEVER 5

typedef struct CLEANUP_RULE {
    int kind;
    MAPS *maps;                 /* RULE_ADDRESS_MAP */
} CLEANUP_RULE;

struct CLEANUP_LOCAL {
    CLEANUP_RULE *rules;
    int rule_count;
    SMTPD_NETLIST *mynetworks;  /* compiled when a rule needs it */
    CLEANUP_ADDR *own;          /* this host's addresses */
    int own_count;
};

/* cleanup_addr_parse - text to address; 0 or -1 */

static int cleanup_addr_parse(const char *text, CLEANUP_ADDR *addr)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    memset(addr, 0, sizeof(*addr));
    if (inet_pton(AF_INET, text, addr->bytes) == 1) {
        addr->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, text, addr->bytes) == 1) {
        addr->family = AF_INET6;
        if (memcmp(addr->bytes, mapped, sizeof(mapped)) == 0) {
            memmove(addr->bytes, addr->bytes + 12, 4);
            memset(addr->bytes + 4, 0, 12);
            addr->family = AF_INET;
        }
        return 0;
    }
    return -1;
}

/* cleanup_addr_equal - the same address? */

static int cleanup_addr_equal(const CLEANUP_ADDR *a, const CLEANUP_ADDR *b)
{
    return a->family == b->family
           && memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) == 0;
}

/* ---- this host's addresses ---- */

static void cleanup_own_add(CLEANUP_LOCAL *local, const CLEANUP_ADDR *addr)
{
    for (int i = 0; i < local->own_count; i++)
        if (cleanup_addr_equal(local->own + i, addr))
            return;
    local->own = myrealloc(local->own, sizeof(*local->own) * (size_t) (local->own_count + 1));
    local->own[local->own_count++] = *addr;
}

static void cleanup_own_sockaddr(CLEANUP_LOCAL *local, const struct sockaddr *sa)
{
    char text[INET6_ADDRSTRLEN];
    CLEANUP_ADDR addr;
    const void *raw;

    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET)
        raw = &((const struct sockaddr_in *) sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        raw = &((const struct sockaddr_in6 *) sa)->sin6_addr;
    else
        return;
    if (inet_ntop(sa->sa_family, raw, text, sizeof(text)) && cleanup_addr_parse(text, &addr) == 0)
        cleanup_own_add(local, &addr);
}

static void cleanup_own_collect(CLEANUP_LOCAL *local, const char *list, int allow_all)
{
    ARGV *words = argv_split(list ? list : "", ARGV_DELIM_LIST);
    CLEANUP_ADDR addr;

    for (int i = 0; i < words->argc; i++) {
        char *word = words->argv[i];
        size_t n = strlen(word);

        if (allow_all && strcasecmp(word, "all") == 0) {
            struct ifaddrs *ifa, *ifp;

            if (getifaddrs(&ifa) < 0) {
                msg_warn("inet_interfaces: getifaddrs: %m");
                continue;
            }
            for (ifp = ifa; ifp; ifp = ifp->ifa_next)
                cleanup_own_sockaddr(local, ifp->ifa_addr);
            freeifaddrs(ifa);
            continue;
        }
        if (allow_all && strcasecmp(word, "loopback-only") == 0) {
            cleanup_addr_parse("127.0.0.1", &addr);
            cleanup_own_add(local, &addr);
            cleanup_addr_parse("::1", &addr);
            cleanup_own_add(local, &addr);
            continue;
        }
        if (n >= 2 && word[0] == '[' && word[n - 1] == ']') {
            word[n - 1] = 0;
            word++;
        }
        if (cleanup_addr_parse(word, &addr) == 0) {
            cleanup_own_add(local, &addr);
        } else {
            struct addrinfo hints, *res, *rp;
            int err;

            memset(&hints, 0, sizeof(hints));
            hints.ai_family = AF_UNSPEC;
            hints.ai_socktype = SOCK_STREAM;
            if ((err = getaddrinfo(word, NULL, &hints, &res)) != 0) {
                msg_warn("interface address %s: %s", word, gai_strerror(err));
                continue;
            }
            for (rp = res; rp; rp = rp->ai_next)
                cleanup_own_sockaddr(local, rp->ai_addr);
            freeaddrinfo(res);
        }
    }
    argv_free(words);
}

/* cleanup_local_mynetworks - match the address (IPv4-mapped made IPv4) against mynetworks */

static int cleanup_local_mynetworks(CLEANUP_LOCAL *local, const CLEANUP_ADDR *addr)
{
    char text[INET6_ADDRSTRLEN];

    if (inet_ntop(addr->family, addr->bytes, text, sizeof(text)) == NULL)
        return 0;
    return smtpd_netlist_match(local->mynetworks, text);
}

/* ---- the rules ---- */

CLEANUP_LOCAL *cleanup_local_create(const char *rules, const char *mynetworks,
                                    const char *inet_interfaces, const char *proxy_interfaces)
{
    CLEANUP_LOCAL *local = mycalloc(1, sizeof(*local));
    ARGV *words = argv_split_braces(rules ? rules : "", ARGV_DELIM_LIST);
    int need_nets = 0, need_own = 0;

    if (words == NULL) {
        msg_warn("local_header_rewrite_clients: unbalanced braces; no client is local");
        return local;
    }
    local->rules = mycalloc((size_t) words->argc + 1, sizeof(*local->rules));
    for (int i = 0; i < words->argc; i++) {
        const char *word = words->argv[i];
        CLEANUP_RULE *rule = local->rules + local->rule_count;

        if (strcasecmp(word, "permit_inet_interfaces") == 0) {
            rule->kind = RULE_INET_INTERFACES;
            need_own = 1;
        } else if (strcasecmp(word, "permit_mynetworks") == 0) {
            rule->kind = RULE_MYNETWORKS;
            need_nets = 1;
        } else if (strcasecmp(word, "permit_sasl_authenticated") == 0) {
            rule->kind = RULE_SASL;
        } else if (strcasecmp(word, "permit_tls_clientcerts") == 0
                   || strcasecmp(word, "permit_tls_all_clientcerts") == 0) {
            rule->kind = RULE_NEVER;
        } else if (strcasecmp(word, "check_address_map") == 0) {
            if (i + 1 >= words->argc || strchr(words->argv[i + 1], ':') == NULL) {
                msg_warn("local_header_rewrite_clients: check_address_map needs a type:table");
                continue;
            }
            rule->kind = RULE_ADDRESS_MAP;
            rule->maps = maps_create("local_header_rewrite_clients", words->argv[++i],
                                     DICT_FLAG_DEFAULT);
        } else {
            msg_warn("local_header_rewrite_clients: ignoring unknown rule \"%s\"", word);
            continue;
        }
        local->rule_count++;
    }
    argv_free(words);
    if (need_nets)
        local->mynetworks = smtpd_netlist_create("mynetworks", mynetworks ? mynetworks : "");
    if (need_own) {
        cleanup_own_collect(local, inet_interfaces, 1);
        cleanup_own_collect(local, proxy_interfaces, 0);
    }
    return local;
}

int cleanup_local_match(CLEANUP_LOCAL *local, const char *client_addr, const char *sasl_user)
{
    CLEANUP_ADDR addr;
    int have_addr = client_addr && *client_addr && cleanup_addr_parse(client_addr, &addr) == 0;
    const char *value;
    int status;

    for (int i = 0; i < local->rule_count; i++) {
        CLEANUP_RULE *rule = local->rules + i;

        switch (rule->kind) {
        case RULE_SASL:
            if (sasl_user && *sasl_user)
                return 1;
            break;
        case RULE_INET_INTERFACES:
            if (!have_addr)
                break;
            for (int j = 0; j < local->own_count; j++)
                if (cleanup_addr_equal(local->own + j, &addr))
                    return 1;
            break;
        case RULE_MYNETWORKS:
            if (!have_addr)
                break;
            if ((status = cleanup_local_mynetworks(local, &addr)) != 0)
                return status;
            break;
        case RULE_ADDRESS_MAP:
            if (!have_addr)
                break;
            status = maps_find(rule->maps, client_addr, MAPS_FIND_ALL, &value);
            if (status == DICT_STAT_ERROR)
                return -1;
            if (status == DICT_STAT_FOUND)
                return 1;
            break;
        default:
            break;
        }
    }
    return 0;
}

void cleanup_local_free(CLEANUP_LOCAL *local)
{
    for (int i = 0; i < local->rule_count; i++)
        if (local->rules[i].maps)
            maps_free(local->rules[i].maps);
    myfree(local->rules);
    if (local->mynetworks)
        smtpd_netlist_free(local->mynetworks);
    myfree(local->own);
    myfree(local);
}
