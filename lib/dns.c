/*
 * NAME
 *	dns - DNS lookups through libresolv: MX, A/AAAA, TXT
 * SYNOPSIS
 *	#include "dns.h"
 *
 *	void dns_init(void)
 *	int dns_set_servers(const char *spec, VSTRING *why)
 *	int dns_lookup_mx(const char *domain, DNS_MX_LIST **list, VSTRING *why)
 *	void dns_mx_sort(DNS_MX_LIST *list)
 *	void dns_mx_free(DNS_MX_LIST *list)
 *	void dns_addr_list_init(DNS_ADDR_LIST *list)
 *	void dns_addr_list_free(DNS_ADDR_LIST *list)
 *	int dns_addr_list_add(DNS_ADDR_LIST *list, const DNS_ADDR *addr)
 *	int dns_lookup_addr(const char *host, int flags, DNS_ADDR_LIST *list, VSTRING *why)
 *	int dns_addr_sockaddr(const DNS_ADDR *addr, unsigned port,
 *			      struct sockaddr_storage *ss, socklen_t *len)
 *	char *dns_addr_text(const DNS_ADDR *addr, char *buf)
 *	int dns_addr_parse(const char *text, DNS_ADDR *addr)
 *	int dns_lookup_txt(const char *name, ARGV *out, VSTRING *why)
 *	const char *dns_strerror(int code)
 * DESCRIPTION
 *	The contract is in dns.h. Queries go out with res_nquery() on one
 *	resolver state per process; answers are taken apart with the
 *	ns_initparse()/ns_parserr() API, and only records of class IN and
 *	of the type asked for are used (a CNAME chain in the answer is
 *	followed by the server; the owner names are not compared).
 *
 *	The name server override works on the resolver state the way
 *	applications have always changed _res: after res_ninit(), the
 *	server addresses are replaced in nsaddr_list (IPv4, any port) or,
 *	for IPv6, in the extension array that glibc keeps beside it (glibc
 *	frees those entries with free(), which is what mymalloc uses).
 *	glibc then notices that the state no longer matches resolv.conf
 *	and uses the state as it is.
 *
 *	Errors: the result codes of dns.h. Nothing is logged but a bad
 *	smtp_dns_servers setting (a warning, once).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "valid_hostname.h"

static struct __res_state dns_res;
static int dns_res_ready;      /* res_ninit() done */
static int dns_servers_set;    /* dns_set_servers() was called */
static int dns_servers_broken; /* smtp_dns_servers could not be parsed */

static struct sockaddr_storage dns_servers[DNS_SERVERS_MAX];
static int dns_server_count; /* 0 = resolv.conf */

static unsigned short dns_rand_state[3];
static int dns_rand_ready;

const char *dns_strerror(int code)
{
    switch (code) {
    case DNS_OK:
        return "OK";
    case DNS_NOTFOUND:
        return "NOTFOUND";
    case DNS_TEMP:
        return "TEMP";
    case DNS_FAIL:
        return "FAIL";
    case DNS_NULLMX:
        return "NULLMX";
    default:
        return "unknown";
    }
}

/* dns_type_name - the record type in "type=" of error texts */

static const char *dns_type_name(int type)
{
    switch (type) {
    case ns_t_mx:
        return "MX";
    case ns_t_a:
        return "A";
    case ns_t_aaaa:
        return "AAAA";
    case ns_t_txt:
        return "TXT";
    default:
        return "unknown";
    }
}

/* dns_apply_servers - put the configured servers into the resolver state */

static void dns_apply_servers(void)
{
    res_state rs = &dns_res;

    if (dns_server_count == 0)
        return;
    for (int i = 0; i < MAXNS; i++) {
        if (rs->_u._ext.nsaddrs[i]) {
            free(rs->_u._ext.nsaddrs[i]); /* allocated by libresolv */
            rs->_u._ext.nsaddrs[i] = NULL;
        }
        rs->_u._ext.nssocks[i] = -1;
    }
    for (int i = 0; i < dns_server_count; i++) {
        if (dns_servers[i].ss_family == AF_INET) {
            memcpy(&rs->nsaddr_list[i], &dns_servers[i], sizeof(struct sockaddr_in));
        } else {
            struct sockaddr_in6 *sa6 = mymalloc(sizeof(*sa6));

            memcpy(sa6, &dns_servers[i], sizeof(*sa6));
            memset(&rs->nsaddr_list[i], 0, sizeof(rs->nsaddr_list[i]));
            rs->nsaddr_list[i].sin_family = 0;
            rs->_u._ext.nsaddrs[i] = sa6;
        }
    }
    rs->nscount = dns_server_count;
}

/* dns_reinit - (re)create the resolver state, then apply the override */

static void dns_reinit(void)
{
    if (dns_res_ready)
        res_nclose(&dns_res);
    memset(&dns_res, 0, sizeof(dns_res));
    if (res_ninit(&dns_res) < 0)
        msg_warn("dns: resolver initialisation failed; using its defaults");
    dns_res.options &= ~(RES_DNSRCH | RES_DEFNAMES);
    dns_res_ready = 1;
    dns_apply_servers();
}

/* dns_parse_server - one "addr", "addr:port", "[v6]" or "[v6]:port" */

static int dns_parse_server(const char *item, struct sockaddr_storage *ss, VSTRING *why)
{
    char host[DNS_ADDR_TEXT_MAX + 2];
    const char *port = NULL;
    const char *end;
    size_t len;
    unsigned long pnum = NS_DEFAULTPORT;
    char *cp;

    if (item[0] == '[') {
        if ((end = strchr(item, ']')) == NULL)
            goto bad;
        len = (size_t)(end - item - 1);
        if (len == 0 || len >= sizeof(host))
            goto bad;
        memcpy(host, item + 1, len);
        host[len] = 0;
        if (end[1] == ':')
            port = end + 2;
        else if (end[1] != 0)
            goto bad;
    } else {
        const char *colon = strchr(item, ':');

        if (colon && strchr(colon + 1, ':') == NULL) { /* one colon: IPv4:port */
            len = (size_t)(colon - item);
            port = colon + 1;
        } else { /* no colon, or bare IPv6 */
            len = strlen(item);
        }
        if (len == 0 || len >= sizeof(host))
            goto bad;
        memcpy(host, item, len);
        host[len] = 0;
    }
    if (port) {
        if (!isdigit((unsigned char)*port))
            goto bad;
        errno = 0;
        pnum = strtoul(port, &cp, 10);
        if (*cp || errno || pnum == 0 || pnum > 65535)
            goto bad;
    }
    memset(ss, 0, sizeof(*ss));
    if (strchr(host, ':') == NULL) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;

        if (!valid_ipv4(host, 0) || inet_pton(AF_INET, host, &sin->sin_addr) != 1)
            goto bad;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((unsigned short)pnum);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

        if (!valid_ipv6(host, 0) || inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
            goto bad;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((unsigned short)pnum);
    }
    return 0;

bad:
    if (why)
        vstring_sprintf(why,
                        "bad name server address \"%s\": expected address or address:port "
                        "(IPv6 in brackets)",
                        item);
    return -1;
}

int dns_set_servers(const char *spec, VSTRING *why)
{
    struct sockaddr_storage servers[DNS_SERVERS_MAX];
    ARGV *items;
    int count = 0;
    int rc = 0;

    items = argv_split(spec ? spec : "", ARGV_DELIM_LIST);
    if (items->argc > DNS_SERVERS_MAX) {
        if (why)
            vstring_sprintf(why, "too many name servers: %d given, at most %d", items->argc,
                            DNS_SERVERS_MAX);
        rc = -1;
    }
    for (int i = 0; rc == 0 && i < items->argc; i++) {
        if (dns_parse_server(items->argv[i], servers + count, why) < 0)
            rc = -1;
        else
            count++;
    }
    argv_free(items);
    if (rc < 0)
        return -1;
    memcpy(dns_servers, servers, sizeof(servers[0]) * (size_t)count);
    dns_server_count = count;
    dns_servers_set = 1;
    dns_servers_broken = 0;
    dns_reinit();
    return 0;
}

void dns_init(void)
{
    VSTRING *why;

    if (dns_res_ready)
        return;
    if (!dns_servers_set && var_smtp_dns_servers && *var_smtp_dns_servers) {
        why = vstring_alloc(100);
        if (dns_set_servers(var_smtp_dns_servers, why) < 0) {
            msg_warn("smtp_dns_servers: %s; DNS lookups will fail until this is fixed",
                     vstring_str(why));
            dns_servers_broken = 1;
        }
        vstring_free(why);
    }
    if (!dns_res_ready)
        dns_reinit();
}

/* dns_name_ok - a name we are willing to put in a query */

static int dns_name_ok(const char *name, size_t len)
{
    size_t label = 0;

    if (len == 0 || len > NS_MAXCDNAME - 2)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];

        if (ch <= ' ' || ch >= 0x7f || ch == '\\')
            return 0;
        if (ch == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (++label > NS_MAXLABEL) {
            return 0;
        }
    }
    return 1;
}

/*
 * dns_query - send one query; on success the answer is in buf and its
 * length in *len. The name (without its trailing dot) goes into qname.
 */
static int dns_query(const char *name, int type, unsigned char *buf, int *len, char *qname,
                     VSTRING *why)
{
    size_t nlen = name ? strlen(name) : 0;
    int n;

    if (nlen > 0 && name[nlen - 1] == '.')
        nlen--;
    if (name == NULL || !dns_name_ok(name, nlen)) {
        if (why)
            vstring_sprintf(why,
                            "Name service error for name=%.100s type=%s: "
                            "malformed domain name",
                            name ? name : "", dns_type_name(type));
        return DNS_FAIL;
    }
    memcpy(qname, name, nlen);
    qname[nlen] = 0;
    dns_init();
    if (dns_servers_broken) {
        if (why)
            vstring_sprintf(why,
                            "Name service error for name=%s type=%s: "
                            "bad smtp_dns_servers setting",
                            qname, dns_type_name(type));
        return DNS_TEMP;
    }
    dns_res.res_h_errno = 0;
    n = res_nquery(&dns_res, qname, ns_c_in, type, buf, DNS_ANSWER_MAX);
    if (n < 0) {
        int herr = dns_res.res_h_errno;
        const char *text;
        int code;

        switch (herr) {
        case HOST_NOT_FOUND:
            code = DNS_NOTFOUND;
            text = "Host not found";
            break;
        case NO_DATA:
            code = DNS_NOTFOUND;
            text = "No address associated with hostname";
            break;
        default: /* TRY_AGAIN, NO_RECOVERY, NETDB_INTERNAL */
            code = DNS_TEMP;
            text = "Host not found, try again";
            break;
        }
        if (why)
            vstring_sprintf(why, "Name service error for name=%s type=%s: %s", qname,
                            dns_type_name(type), text);
        if (msg_verbose)
            msg_info("dns: %s %s: h_errno %d", qname, dns_type_name(type), herr);
        return code;
    }
    if (n > DNS_ANSWER_MAX) /* truncated: libresolv says how much it wanted */
        n = DNS_ANSWER_MAX;
    *len = n;
    return DNS_OK;
}

/* dns_malformed - the answer could not be parsed */

static int dns_malformed(const char *qname, int type, VSTRING *why)
{
    if (why)
        vstring_sprintf(why, "Name service error for name=%s type=%s: malformed reply", qname,
                        dns_type_name(type));
    return DNS_TEMP;
}

/* dns_nodata - the answer had no usable record */

static int dns_nodata(const char *qname, int type, VSTRING *why)
{
    if (why)
        vstring_sprintf(why,
                        "Name service error for name=%s type=%s: "
                        "No address associated with hostname",
                        qname, dns_type_name(type));
    return DNS_NOTFOUND;
}

/* dns_random - uniform-ish integer in [0, n) */

static long dns_random(long n)
{
    if (!dns_rand_ready) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        dns_rand_state[0] = (unsigned short)ts.tv_nsec;
        dns_rand_state[1] = (unsigned short)(ts.tv_sec ^ (ts.tv_nsec >> 16));
        dns_rand_state[2] = (unsigned short)getpid();
        dns_rand_ready = 1;
    }
    return nrand48(dns_rand_state) % n;
}

static int dns_mx_compare(const void *a, const void *b)
{
    const DNS_MX *ma = a;
    const DNS_MX *mb = b;

    return ma->pref < mb->pref ? -1 : ma->pref > mb->pref ? 1 : 0;
}

void dns_mx_sort(DNS_MX_LIST *list)
{
    int start;
    int end;

    if (list->count < 2)
        return;
    qsort(list->mx, (size_t)list->count, sizeof(list->mx[0]), dns_mx_compare);
    for (start = 0; start < list->count; start = end) {
        for (end = start + 1; end < list->count && list->mx[end].pref == list->mx[start].pref;
             end++)
            ;
        for (int i = end - 1; i > start; i--) { /* Fisher-Yates within the group */
            int j = start + (int)dns_random(i - start + 1);
            DNS_MX tmp = list->mx[i];

            list->mx[i] = list->mx[j];
            list->mx[j] = tmp;
        }
    }
}

void dns_mx_free(DNS_MX_LIST *list)
{
    if (list == NULL)
        return;
    for (int i = 0; i < list->count; i++)
        myfree(list->mx[i].host);
    myfree(list->mx);
    myfree(list);
}

int dns_lookup_mx(const char *domain, DNS_MX_LIST **list, VSTRING *why)
{
    static unsigned char buf[DNS_ANSWER_MAX];
    char qname[DNS_NAME_MAX];
    char exch[DNS_NAME_MAX];
    DNS_MX_LIST *mxl;
    ns_msg msg;
    ns_rr rr;
    int len;
    int rc;
    int nrec;
    int nullmx = 0;
    int records = 0;

    *list = NULL;
    if ((rc = dns_query(domain, ns_t_mx, buf, &len, qname, why)) != DNS_OK)
        return rc;
    if (ns_initparse(buf, len, &msg) < 0)
        return dns_malformed(qname, ns_t_mx, why);
    nrec = ns_msg_count(msg, ns_s_an);
    if (nrec > DNS_RECORDS_MAX)
        nrec = DNS_RECORDS_MAX;
    mxl = mymalloc(sizeof(*mxl));
    mxl->count = 0;
    mxl->mx = mymalloc(sizeof(DNS_MX) * (size_t)(nrec > 0 ? nrec : 1));
    for (int i = 0; i < nrec; i++) {
        const unsigned char *rdata;
        size_t elen;

        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
            dns_mx_free(mxl);
            return dns_malformed(qname, ns_t_mx, why);
        }
        if (ns_rr_class(rr) != ns_c_in || ns_rr_type(rr) != ns_t_mx)
            continue;
        rdata = ns_rr_rdata(rr);
        if (ns_rr_rdlen(rr) < 3 || ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg),
                                                      rdata + NS_INT16SZ, exch, sizeof(exch)) < 0) {
            dns_mx_free(mxl);
            return dns_malformed(qname, ns_t_mx, why);
        }
        records++;
        elen = strlen(exch);
        if (elen > 0 && exch[elen - 1] == '.')
            exch[--elen] = 0;
        if (elen == 0) { /* RFC 7505 null MX */
            nullmx++;
            continue;
        }
        if (!valid_hostname(exch, 0)) {
            if (msg_verbose)
                msg_info("dns: %s: skipping MX host with bad name", qname);
            continue;
        }
        mxl->mx[mxl->count].pref = ns_get16(rdata);
        mxl->mx[mxl->count].host = mystrdup(exch);
        mxl->count++;
    }
    if (nullmx && records == 1) {
        dns_mx_free(mxl);
        if (why)
            vstring_sprintf(why, "Domain %s does not accept mail (nullMX)", qname);
        return DNS_NULLMX;
    }
    if (mxl->count == 0) {
        dns_mx_free(mxl);
        return dns_nodata(qname, ns_t_mx, why);
    }
    dns_mx_sort(mxl);
    *list = mxl;
    return DNS_OK;
}

void dns_addr_list_init(DNS_ADDR_LIST *list)
{
    list->count = 0;
    list->size = 0;
    list->addrs = NULL;
}

void dns_addr_list_free(DNS_ADDR_LIST *list)
{
    myfree(list->addrs);
    dns_addr_list_init(list);
}

int dns_addr_list_add(DNS_ADDR_LIST *list, const DNS_ADDR *addr)
{
    size_t alen = addr->family == AF_INET ? 4 : 16;

    for (int i = 0; i < list->count; i++)
        if (list->addrs[i].family == addr->family &&
            memcmp(list->addrs[i].addr, addr->addr, alen) == 0)
            return 0;
    if (list->count >= list->size) {
        list->size = list->size ? list->size * 2 : 4;
        list->addrs = myrealloc(list->addrs, sizeof(DNS_ADDR) * (size_t)list->size);
    }
    memset(list->addrs + list->count, 0, sizeof(DNS_ADDR));
    list->addrs[list->count].family = addr->family;
    memcpy(list->addrs[list->count].addr, addr->addr, alen);
    list->count++;
    return 1;
}

/* dns_lookup_one_addr - one A or AAAA query */

static int dns_lookup_one_addr(const char *host, int type, DNS_ADDR_LIST *list, int *added,
                               VSTRING *why)
{
    static unsigned char buf[DNS_ANSWER_MAX];
    char qname[DNS_NAME_MAX];
    size_t want = type == ns_t_a ? 4 : 16;
    DNS_ADDR addr;
    ns_msg msg;
    ns_rr rr;
    int len;
    int rc;
    int nrec;
    int found = 0;

    if ((rc = dns_query(host, type, buf, &len, qname, why)) != DNS_OK)
        return rc;
    if (ns_initparse(buf, len, &msg) < 0)
        return dns_malformed(qname, type, why);
    nrec = ns_msg_count(msg, ns_s_an);
    if (nrec > DNS_RECORDS_MAX)
        nrec = DNS_RECORDS_MAX;
    for (int i = 0; i < nrec; i++) {
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
            return found ? DNS_OK : dns_malformed(qname, type, why);
        if (ns_rr_class(rr) != ns_c_in || (int)ns_rr_type(rr) != type || ns_rr_rdlen(rr) != want)
            continue;
        memset(&addr, 0, sizeof(addr));
        addr.family = type == ns_t_a ? AF_INET : AF_INET6;
        memcpy(addr.addr, ns_rr_rdata(rr), want);
        *added += dns_addr_list_add(list, &addr);
        found = 1;
    }
    return found ? DNS_OK : dns_nodata(qname, type, why);
}

int dns_lookup_addr(const char *host, int flags, DNS_ADDR_LIST *list, VSTRING *why)
{
    VSTRING *why6 = NULL;
    int rc4 = DNS_NOTFOUND;
    int rc6 = DNS_NOTFOUND;
    int added = 0;
    int found = 0;

    if ((flags & DNS_WANT_ALL) == 0)
        msg_panic("dns_lookup_addr: no address family requested");
    if (flags & DNS_WANT_A) {
        rc4 = dns_lookup_one_addr(host, ns_t_a, list, &added, why);
        found |= rc4 == DNS_OK;
    }
    if (flags & DNS_WANT_AAAA) {
        why6 = vstring_alloc(100);
        rc6 = dns_lookup_one_addr(host, ns_t_aaaa, list, &added, why6);
        found |= rc6 == DNS_OK;
    }
    if (found) {
        if (why6)
            vstring_free(why6);
        return DNS_OK;
    }
    /* nothing: report the worse of the two, TEMP before FAIL before NOTFOUND */
    if ((flags & DNS_WANT_A) == 0 || rc6 == DNS_TEMP || (rc4 == DNS_NOTFOUND && rc6 == DNS_FAIL)) {
        if (why)
            vstring_strcpy(why, vstring_str(why6));
        vstring_free(why6);
        return rc6;
    }
    if (why6)
        vstring_free(why6);
    return rc4;
}

int dns_addr_sockaddr(const DNS_ADDR *addr, unsigned port, struct sockaddr_storage *ss,
                      socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    if (addr->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;

        sin->sin_family = AF_INET;
        sin->sin_port = htons((unsigned short)port);
        memcpy(&sin->sin_addr, addr->addr, 4);
        *len = sizeof(*sin);
        return 0;
    }
    if (addr->family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((unsigned short)port);
        memcpy(&sin6->sin6_addr, addr->addr, 16);
        *len = sizeof(*sin6);
        return 0;
    }
    errno = EAFNOSUPPORT;
    return -1;
}

char *dns_addr_text(const DNS_ADDR *addr, char *buf)
{
    if (inet_ntop(addr->family, addr->addr, buf, DNS_ADDR_TEXT_MAX) == NULL)
        strcpy(buf, "unknown");
    return buf;
}

int dns_addr_parse(const char *text, DNS_ADDR *addr)
{
    memset(addr, 0, sizeof(*addr));
    if (valid_ipv4(text, 0) && inet_pton(AF_INET, text, addr->addr) == 1) {
        addr->family = AF_INET;
        return 0;
    }
    if (valid_ipv6(text, 0) && inet_pton(AF_INET6, text, addr->addr) == 1) {
        addr->family = AF_INET6;
        return 0;
    }
    return -1;
}

int dns_lookup_txt(const char *name, ARGV *out, VSTRING *why)
{
    static unsigned char buf[DNS_ANSWER_MAX];
    char qname[DNS_NAME_MAX];
    VSTRING *text;
    ns_msg msg;
    ns_rr rr;
    int len;
    int rc;
    int nrec;
    int found = 0;

    if ((rc = dns_query(name, ns_t_txt, buf, &len, qname, why)) != DNS_OK)
        return rc;
    if (ns_initparse(buf, len, &msg) < 0)
        return dns_malformed(qname, ns_t_txt, why);
    nrec = ns_msg_count(msg, ns_s_an);
    if (nrec > DNS_RECORDS_MAX)
        nrec = DNS_RECORDS_MAX;
    text = vstring_alloc(256);
    for (int i = 0; i < nrec; i++) {
        const unsigned char *cp;
        const unsigned char *end;
        int bad = 0;

        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
            vstring_free(text);
            return found ? DNS_OK : dns_malformed(qname, ns_t_txt, why);
        }
        if (ns_rr_class(rr) != ns_c_in || ns_rr_type(rr) != ns_t_txt)
            continue;
        vstring_reset(text);
        cp = ns_rr_rdata(rr);
        end = cp + ns_rr_rdlen(rr);
        while (cp < end) {
            size_t slen = *cp++;

            if (slen > (size_t)(end - cp) || memchr(cp, 0, slen)) {
                bad = 1;
                break;
            }
            vstring_memcat(text, cp, slen);
            cp += slen;
        }
        if (bad)
            continue;
        argv_add(out, vstring_str(text));
        found = 1;
    }
    vstring_free(text);
    if (!found) {
        if (why)
            vstring_sprintf(why,
                            "Name service error for name=%s type=TXT: "
                            "No address associated with hostname",
                            qname);
        return DNS_NOTFOUND;
    }
    return DNS_OK;
}
