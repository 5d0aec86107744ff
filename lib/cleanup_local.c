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
 *	int cleanup_local_net_match(const char *patterns, const char *addr)
 * DESCRIPTION
 *	cleanup_local_create() does all the slow work once: it parses the
 *	rules, compiles the mynetworks patterns (reading /file/name
 *	patterns and opening tables), and collects this host's addresses
 *	(getifaddrs(3) for "all", getaddrinfo(3) for names). A matching
 *	call only compares bytes, or looks up a table.
 *
 *	Addresses are compared as 4 or 16 bytes with a prefix length; an
 *	address without a length must match in full. An IPv4-mapped IPv6
 *	address, in a pattern or from a client, counts as IPv4.
 * DIAGNOSTICS
 *	Bad rules, bad patterns, unreadable pattern files and host names
 *	that do not resolve are logged as warnings and skipped, so that a
 *	configuration mistake makes fewer clients local, never more.
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

typedef struct CLEANUP_ADDR {
    int family;                 /* AF_INET or AF_INET6 */
    unsigned char bytes[16];
} CLEANUP_ADDR;

#define NET_ADDR 1              /* address and prefix length */
#define NET_TABLE 2             /* type:table lookup */

typedef struct CLEANUP_NET {
    int kind;
    int negate;
    CLEANUP_ADDR addr;
    int prefix;                 /* bits */
    MAPS *maps;
} CLEANUP_NET;

typedef struct CLEANUP_NETS {
    CLEANUP_NET *nets;
    int count;
    int alloc;
} CLEANUP_NETS;

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
    CLEANUP_NETS mynetworks;    /* compiled when a rule needs it */
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

static int cleanup_addr_bits(const CLEANUP_ADDR *addr)
{
    return addr->family == AF_INET ? 32 : 128;
}

/* cleanup_addr_match - does addr fall in net/prefix? */

static int cleanup_addr_match(const CLEANUP_ADDR *net, int prefix, const CLEANUP_ADDR *addr)
{
    int whole = prefix / 8, rest = prefix % 8;

    if (net->family != addr->family)
        return 0;
    if (memcmp(net->bytes, addr->bytes, (size_t) whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char) (0xff << (8 - rest));

    return (net->bytes[whole] & mask) == (addr->bytes[whole] & mask);
}

/* ---- mynetworks ---- */

static void cleanup_nets_add(CLEANUP_NETS *nets, const CLEANUP_NET *net)
{
    if (nets->count == nets->alloc) {
        nets->alloc = nets->alloc ? 2 * nets->alloc : 8;
        nets->nets = myrealloc(nets->nets, sizeof(*nets->nets) * (size_t) nets->alloc);
    }
    nets->nets[nets->count++] = *net;
}

static void cleanup_nets_compile(CLEANUP_NETS *nets, const char *patterns, int depth);

/* cleanup_nets_file - patterns from a file */

static void cleanup_nets_file(CLEANUP_NETS *nets, const char *path)
{
    VSTRING *why = vstring_alloc(100);
    VSTRING *line = vstring_alloc(100);
    DICT_SRC *src;
    int lineno, status;

    if ((src = dict_src_open(path, why)) == NULL) {
        msg_warn("mynetworks: %s", vstring_str(why));
    } else {
        while ((status = dict_src_next(src, line, &lineno, why)) > 0)
            cleanup_nets_compile(nets, vstring_str(line), 1);
        if (status < 0)
            msg_warn("mynetworks: %s", vstring_str(why));
        dict_src_close(src);
    }
    vstring_free(why);
    vstring_free(line);
}

/* cleanup_nets_pattern - one pattern */

static void cleanup_nets_pattern(CLEANUP_NETS *nets, const char *word, int depth)
{
    CLEANUP_NET net;
    char *copy, *cp, *slash;
    char *end;
    long prefix;

    memset(&net, 0, sizeof(net));
    if (*word == '!') {
        net.negate = 1;
        word++;
    }
    if (*word == '/') {
        if (net.negate || depth > 0)
            msg_warn("mynetworks: ignoring \"%s%s\": negated or nested file", net.negate ? "!" : "",
                     word);
        else
            cleanup_nets_file(nets, word);
        return;
    }
    if (*word != '[' && strchr(word, ':') != NULL) {
        CLEANUP_ADDR probe;
        int is_table;

        copy = mystrdup(word);
        if ((slash = strchr(copy, '/')) != NULL)
            *slash = 0;
        is_table = cleanup_addr_parse(copy, &probe) < 0;      /* "hash:/x", "cidr:/y" */
        myfree(copy);
        if (is_table) {
            net.kind = NET_TABLE;
            net.maps = maps_create("mynetworks", word, DICT_FLAG_DEFAULT);
            cleanup_nets_add(nets, &net);
            return;
        }
    }
    copy = mystrdup(word);
    cp = copy;
    slash = strchr(cp, '/');
    if (slash)
        *slash++ = 0;
    if (*cp == '[') {
        size_t n = strlen(cp);

        if (n < 2 || cp[n - 1] != ']')
            goto bad;
        cp[n - 1] = 0;
        cp++;
    }
    if (cleanup_addr_parse(cp, &net.addr) < 0)
        goto bad;
    net.prefix = cleanup_addr_bits(&net.addr);
    if (slash) {
        prefix = strtol(slash, &end, 10);
        if (*slash == 0 || *end != 0 || prefix < 0)
            goto bad;
        /* a mapped IPv6 network ::ffff:a.b.c.d/len counts 96 bits for the prefix */
        if (net.addr.family == AF_INET && strchr(cp, ':') != NULL)
            prefix -= 96;
        if (prefix < 0 || prefix > net.prefix)
            goto bad;
        net.prefix = (int) prefix;
    }
    net.kind = NET_ADDR;
    cleanup_nets_add(nets, &net);
    myfree(copy);
    return;
bad:
    msg_warn("mynetworks: ignoring bad pattern \"%s\"", word);
    myfree(copy);
}

static void cleanup_nets_compile(CLEANUP_NETS *nets, const char *patterns, int depth)
{
    ARGV *words = argv_split_braces(patterns ? patterns : "", ARGV_DELIM_LIST);

    if (words == NULL) {
        msg_warn("mynetworks: unbalanced braces in \"%s\"", patterns);
        return;
    }
    for (int i = 0; i < words->argc; i++)
        cleanup_nets_pattern(nets, words->argv[i], depth);
    argv_free(words);
}

static int cleanup_nets_match(CLEANUP_NETS *nets, const char *text, const CLEANUP_ADDR *addr)
{
    const char *value;
    int status;

    for (int i = 0; i < nets->count; i++) {
        CLEANUP_NET *net = nets->nets + i;

        if (net->kind == NET_TABLE) {
            status = maps_find(net->maps, text, MAPS_FIND_ALL, &value);
            if (status == DICT_STAT_ERROR)
                return -1;
            if (status == DICT_STAT_FOUND)
                return !net->negate;
        } else if (cleanup_addr_match(&net->addr, net->prefix, addr)) {
            return !net->negate;
        }
    }
    return 0;
}

static void cleanup_nets_free(CLEANUP_NETS *nets)
{
    for (int i = 0; i < nets->count; i++)
        if (nets->nets[i].maps)
            maps_free(nets->nets[i].maps);
    myfree(nets->nets);
    nets->nets = NULL;
    nets->count = nets->alloc = 0;
}

int cleanup_local_net_match(const char *patterns, const char *text)
{
    CLEANUP_NETS nets = {NULL, 0, 0};
    CLEANUP_ADDR addr;
    int status;

    if (cleanup_addr_parse(text, &addr) < 0)
        return 0;
    cleanup_nets_compile(&nets, patterns, 0);
    status = cleanup_nets_match(&nets, text, &addr);
    cleanup_nets_free(&nets);
    return status;
}

/* ---- this host's addresses ---- */

static void cleanup_own_add(CLEANUP_LOCAL *local, const CLEANUP_ADDR *addr)
{
    for (int i = 0; i < local->own_count; i++)
        if (memcmp(local->own + i, addr, sizeof(*addr)) == 0)
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
        cleanup_nets_compile(&local->mynetworks, mynetworks, 0);
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
                if (cleanup_addr_match(local->own + j, cleanup_addr_bits(local->own + j), &addr))
                    return 1;
            break;
        case RULE_MYNETWORKS:
            if (!have_addr)
                break;
            if ((status = cleanup_nets_match(&local->mynetworks, client_addr, &addr)) != 0)
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
    cleanup_nets_free(&local->mynetworks);
    myfree(local->own);
    myfree(local);
}
