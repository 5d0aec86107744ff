/*
 * NAME
 *	dns_ptr - PTR lookups, forward-confirmed names, raw queries
 * SYNOPSIS
 *	#include "dns_ptr.h"
 *
 *	void dns_ptr_init(void)
 *	int dns_ptr_set_servers(const char *spec, VSTRING *why)
 *	int dns_ptr_query(const char *name, int type, unsigned char *answer,
 *			int size, int *len, VSTRING *why)
 *	int dns_ptr_lookup(const char *addr, ARGV *names, VSTRING *why)
 *	int dns_ptr_verify(const char *addr, int *reverse_status,
 *			VSTRING *reverse_name, VSTRING *name, VSTRING *why)
 * DESCRIPTION
 *	The contract is in dns_ptr.h. Queries go out with res_nquery() on
 *	a resolver state of this module; the name servers of
 *	smtp_dns_servers are put into it after res_ninit() the way lib/dns.c
 *	does it (IPv4 servers in nsaddr_list, IPv6 ones in glibc's
 *	extension array), so both modules ask the same servers. The query
 *	name is absolute: no search list, no default domain.
 *
 *	PTR answers are taken apart with ns_initparse()/ns_parserr(); only
 *	records of class IN and type PTR count.
 *
 *	Errors: the codes of dns.h; nothing is logged except a bad
 *	smtp_dns_servers value (once) and, with msg_verbose, each failure.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dns_ptr.h"
#include "dns_rbl.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "valid_hostname.h"

static struct __res_state dns_ptr_res;
static int dns_ptr_ready;    /* res_ninit() done */
static int dns_ptr_explicit; /* dns_ptr_set_servers() was called */
static int dns_ptr_broken;   /* smtp_dns_servers could not be parsed */
static struct sockaddr_storage dns_ptr_servers[DNS_SERVERS_MAX];
static int dns_ptr_server_count; /* 0 = resolv.conf */

/* dns_ptr_apply - put the configured servers into the resolver state */

static void dns_ptr_apply(void)
{
    res_state rs = &dns_ptr_res;

    if (dns_ptr_server_count == 0)
        return;
    for (int i = 0; i < MAXNS; i++) {
        if (rs->_u._ext.nsaddrs[i]) {
            free(rs->_u._ext.nsaddrs[i]); /* allocated by libresolv */
            rs->_u._ext.nsaddrs[i] = NULL;
        }
        rs->_u._ext.nssocks[i] = -1;
    }
    for (int i = 0; i < dns_ptr_server_count; i++) {
        if (dns_ptr_servers[i].ss_family == AF_INET) {
            memcpy(&rs->nsaddr_list[i], &dns_ptr_servers[i], sizeof(struct sockaddr_in));
        } else {
            struct sockaddr_in6 *sa6 = mymalloc(sizeof(*sa6));

            memcpy(sa6, &dns_ptr_servers[i], sizeof(*sa6));
            memset(&rs->nsaddr_list[i], 0, sizeof(rs->nsaddr_list[i]));
            rs->_u._ext.nsaddrs[i] = sa6;
        }
    }
    rs->nscount = dns_ptr_server_count;
}

static void dns_ptr_reinit(void)
{
    if (dns_ptr_ready)
        res_nclose(&dns_ptr_res);
    memset(&dns_ptr_res, 0, sizeof(dns_ptr_res));
    if (res_ninit(&dns_ptr_res) < 0)
        msg_warn("dns_ptr: resolver initialisation failed; using its defaults");
    dns_ptr_res.options &= ~(RES_DNSRCH | RES_DEFNAMES);
    dns_ptr_ready = 1;
    dns_ptr_apply();
}

/* dns_ptr_parse_server - "a.b.c.d[:port]", "[v6][:port]" or a bare IPv6 address */

static int dns_ptr_parse_server(const char *item, struct sockaddr_storage *ss, VSTRING *why)
{
    char host[DNS_ADDR_TEXT_MAX + 1];
    const char *port = NULL;
    const char *colon;
    size_t len;
    unsigned long pnum = NS_DEFAULTPORT;
    char *end;

    if (item[0] == '[') {
        const char *close = strchr(item, ']');

        if (close == NULL || (close[1] != 0 && close[1] != ':'))
            goto bad;
        len = (size_t)(close - item - 1);
        item++;
        port = close[1] == ':' ? close + 2 : NULL;
    } else if ((colon = strchr(item, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
        len = (size_t)(colon - item);
        port = colon + 1;
    } else {
        len = strlen(item);
    }
    if (len == 0 || len >= sizeof(host))
        goto bad;
    memcpy(host, item, len);
    host[len] = 0;
    if (port) {
        if (!isdigit((unsigned char)*port))
            goto bad;
        errno = 0;
        pnum = strtoul(port, &end, 10);
        if (*end || errno || pnum == 0 || pnum > 65535)
            goto bad;
    }
    memset(ss, 0, sizeof(*ss));
    if (valid_ipv4(host, 0)) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;

        if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
            goto bad;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((unsigned short)pnum);
        return 0;
    }
    if (valid_ipv6(host, 0)) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

        if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
            goto bad;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((unsigned short)pnum);
        return 0;
    }

bad:
    if (why)
        vstring_sprintf(why,
                        "bad name server address \"%.100s\": expected address or "
                        "address:port (IPv6 in brackets)",
                        item);
    return -1;
}

int dns_ptr_set_servers(const char *spec, VSTRING *why)
{
    struct sockaddr_storage servers[DNS_SERVERS_MAX];
    ARGV *items = argv_split(spec ? spec : "", ARGV_DELIM_LIST);
    int count = 0;
    int rc = 0;

    if (items->argc > DNS_SERVERS_MAX) {
        if (why)
            vstring_sprintf(why, "too many name servers: %d given, at most %d", items->argc,
                            DNS_SERVERS_MAX);
        rc = -1;
    }
    for (int i = 0; rc == 0 && i < items->argc; i++) {
        if (dns_ptr_parse_server(items->argv[i], servers + count, why) < 0)
            rc = -1;
        else
            count++;
    }
    argv_free(items);
    if (rc < 0)
        return -1;
    memcpy(dns_ptr_servers, servers, sizeof(servers[0]) * (size_t)count);
    dns_ptr_server_count = count;
    dns_ptr_explicit = 1;
    dns_ptr_broken = 0;
    dns_ptr_reinit();
    return 0;
}

void dns_ptr_init(void)
{
    if (dns_ptr_ready)
        return;
    if (!dns_ptr_explicit && var_smtp_dns_servers && *var_smtp_dns_servers) {
        VSTRING *why = vstring_alloc(100);

        if (dns_ptr_set_servers(var_smtp_dns_servers, why) < 0) {
            msg_warn("smtp_dns_servers: %s; DNS lookups will fail until this is fixed",
                     vstring_str(why));
            dns_ptr_broken = 1;
        }
        vstring_free(why);
    }
    if (!dns_ptr_ready)
        dns_ptr_reinit();
}

static const char *dns_ptr_type_name(int type)
{
    switch (type) {
    case ns_t_a:
        return "A";
    case ns_t_aaaa:
        return "AAAA";
    case ns_t_mx:
        return "MX";
    case ns_t_txt:
        return "TXT";
    case ns_t_ptr:
        return "PTR";
    case ns_t_spf:
        return "SPF";
    default:
        return "unknown";
    }
}

/* dns_ptr_name_ok - a name we are willing to put in a query */

static int dns_ptr_name_ok(const char *name, size_t len)
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

int dns_ptr_query(const char *name, int type, unsigned char *answer, int size, int *len,
                  VSTRING *why)
{
    size_t nlen = name ? strlen(name) : 0;
    char qname[NS_MAXDNAME];
    int n;

    if (nlen > 0 && name[nlen - 1] == '.')
        nlen--;
    if (name == NULL || !dns_ptr_name_ok(name, nlen)) {
        if (why)
            vstring_sprintf(why,
                            "Name service error for name=%.100s type=%s: "
                            "malformed domain name",
                            name ? name : "", dns_ptr_type_name(type));
        return DNS_FAIL;
    }
    memcpy(qname, name, nlen);
    qname[nlen] = 0;
    dns_ptr_init();
    if (dns_ptr_broken) {
        if (why)
            vstring_sprintf(why,
                            "Name service error for name=%s type=%s: "
                            "bad smtp_dns_servers setting",
                            qname, dns_ptr_type_name(type));
        return DNS_TEMP;
    }
    dns_ptr_res.res_h_errno = 0;
    n = res_nquery(&dns_ptr_res, qname, ns_c_in, type, answer, size);
    if (n < 0) {
        int herr = dns_ptr_res.res_h_errno;
        int code = herr == HOST_NOT_FOUND || herr == NO_DATA ? DNS_NOTFOUND : DNS_TEMP;

        *len = herr == HOST_NOT_FOUND ? DNS_PTR_NXDOMAIN : DNS_PTR_NODATA;

        if (why)
            vstring_sprintf(why, "Name service error for name=%s type=%s: %s", qname,
                            dns_ptr_type_name(type),
                            herr == HOST_NOT_FOUND ? "Host not found"
                            : herr == NO_DATA      ? "No address associated with hostname"
                                                   : "Host not found, try again");
        if (msg_verbose)
            msg_info("dns_ptr: %s %s: h_errno %d", qname, dns_ptr_type_name(type), herr);
        return code;
    }
    *len = n > size ? size : n;
    return DNS_OK;
}

int dns_ptr_lookup(const char *addr, ARGV *names, VSTRING *why)
{
    VSTRING *qname = vstring_alloc(100);
    unsigned char *answer;
    int len;
    int status;
    int added = 0;
    ns_msg msg;

    if (dns_rbl_reverse(qname, addr, strchr(addr, ':') ? "ip6.arpa" : "in-addr.arpa") < 0) {
        if (why)
            vstring_sprintf(why, "Name service error for address %.100s: not a numeric address",
                            addr);
        vstring_free(qname);
        return DNS_FAIL;
    }
    answer = mymalloc(DNS_ANSWER_MAX);
    status = dns_ptr_query(vstring_str(qname), ns_t_ptr, answer, DNS_ANSWER_MAX, &len, why);
    if (status == DNS_OK) {
        if (ns_initparse(answer, len, &msg) < 0) {
            status = DNS_TEMP;
            if (why)
                vstring_sprintf(why, "Name service error for name=%s type=PTR: malformed reply",
                                vstring_str(qname));
        } else {
            int count = ns_msg_count(msg, ns_s_an);

            for (int i = 0; i < count && i < DNS_RECORDS_MAX && added < DNS_PTR_NAMES_MAX; i++) {
                ns_rr rr;
                char host[NS_MAXDNAME];
                size_t hlen;

                if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
                    break;
                if (ns_rr_class(rr) != ns_c_in || ns_rr_type(rr) != ns_t_ptr)
                    continue;
                if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr), host,
                              sizeof(host)) < 0)
                    continue;
                hlen = strlen(host);
                if (hlen > 0 && host[hlen - 1] == '.')
                    host[--hlen] = 0;
                if (!valid_hostname(host, 0))
                    continue;
                argv_add(names, host);
                added++;
            }
            if (added == 0) {
                status = DNS_NOTFOUND;
                if (why)
                    vstring_sprintf(why,
                                    "Name service error for name=%s type=PTR: "
                                    "No host name associated with address",
                                    vstring_str(qname));
            }
        }
    }
    myfree(answer);
    vstring_free(qname);
    return status;
}

int dns_ptr_verify(const char *addr, int *reverse_status, VSTRING *reverse_name, VSTRING *name,
                   VSTRING *why)
{
    ARGV *names = argv_alloc(2);
    DNS_ADDR want;
    int status;
    int temp = 0;

    if (reverse_name)
        vstring_reset(reverse_name);
    if (name)
        vstring_reset(name);
    *reverse_status = dns_ptr_lookup(addr, names, why);
    if (*reverse_status != DNS_OK) {
        argv_free(names);
        return *reverse_status == DNS_TEMP ? DNS_TEMP : DNS_NOTFOUND;
    }
    if (reverse_name)
        vstring_strcpy(reverse_name, names->argv[0]);
    if (dns_addr_parse(addr, &want) < 0) {
        argv_free(names);
        return DNS_NOTFOUND;
    }
    status = DNS_NOTFOUND;
    for (int i = 0; i < names->argc && status != DNS_OK; i++) {
        DNS_ADDR_LIST list;
        int found;

        dns_addr_list_init(&list);
        found = dns_lookup_addr(names->argv[i], DNS_WANT_ALL, &list, why);
        if (found == DNS_TEMP)
            temp = 1;
        for (int j = 0; found == DNS_OK && j < list.count; j++) {
            size_t size = want.family == AF_INET ? 4 : 16;

            if (list.addrs[j].family == want.family &&
                memcmp(list.addrs[j].addr, want.addr, size) == 0) {
                status = DNS_OK;
                if (name)
                    vstring_strcpy(name, names->argv[i]);
                break;
            }
        }
        dns_addr_list_free(&list);
    }
    argv_free(names);
    if (status != DNS_OK && temp)
        return DNS_TEMP;
    if (status != DNS_OK && why && !temp)
        vstring_sprintf(why, "hostname does not resolve to address %.100s", addr);
    return status;
}
