#ifndef POSTERN_DNS_H
#define POSTERN_DNS_H
/*
 * dns - DNS lookups through libresolv: MX, A/AAAA, TXT
 *
 * One resolver state per process, set up by dns_init() (res_ninit: it
 * reads /etc/resolv.conf, so call it before chroot, in a daemon's
 * pre_init) or by the first lookup. Queries are absolute (no search
 * list); a trailing dot on a name is ignored.
 *
 * Name servers. dns_set_servers(spec, why) replaces the name servers of
 * resolv.conf with the list spec: up to DNS_SERVERS_MAX entries separated
 * by commas or white space, each "a.b.c.d", "a.b.c.d:port", "[v6]",
 * "[v6]:port" or a bare IPv6 address. Empty spec (or NULL) goes back to
 * resolv.conf's servers. Returns 0, or -1 with why set and nothing
 * changed. When nobody calls it, the first lookup applies the parameter
 * smtp_dns_servers (var_smtp_dns_servers, when mail_conf_eval() has set
 * it); a bad value there is logged and makes every lookup DNS_TEMP, so
 * mail waits instead of going where the administrator did not want it.
 *
 * Result codes (every lookup):
 *	DNS_OK        records found
 *	DNS_NOTFOUND  the name does not exist (NXDOMAIN) or has no record
 *	              of the type asked for (NODATA); why says which
 *	DNS_TEMP      try again later: SERVFAIL, timeout, no server
 *	              answered, a server refused or did not understand
 *	              the query, or a malformed answer
 *	DNS_FAIL      the name cannot be looked up at all (empty, too
 *	              long, bad characters): permanent
 *	DNS_NULLMX    dns_lookup_mx() only: the domain publishes a null MX
 *	              (RFC 7505: one MX record, exchange "."): it accepts
 *	              no mail
 * why (may be NULL) gets a one-line explanation on any result but
 * DNS_OK, in Postfix's wording: "Name service error for name=N type=T:
 * Host not found" (NXDOMAIN), "...: No address associated with hostname"
 * (NODATA), "...: Host not found, try again" (DNS_TEMP). Nothing is
 * logged except with msg_verbose.
 *
 * dns_lookup_mx(domain, list, why): the MX hosts of domain in a new list
 *	(*list, DNS_OK only; free with dns_mx_free()), sorted by preference
 *	with hosts of equal preference in random order (dns_mx_sort()). MX
 *	records whose exchange is not a valid host name are dropped (and a
 *	null MX among other records); DNS_NOTFOUND when none is left.
 * dns_mx_sort(list) sorts an MX list as above (exposed for tests).
 *
 * dns_lookup_addr(host, flags, list, why): appends the addresses of host
 *	to list: A records with DNS_WANT_A, then AAAA with DNS_WANT_AAAA.
 *	DNS_OK when at least one address was added, even if the other type
 *	failed; otherwise DNS_TEMP if either query had a temporary error,
 *	else DNS_NOTFOUND (or DNS_FAIL). An address already in the list is
 *	not added twice. dns_addr_list_init()/_free() manage the list's
 *	storage (the struct itself belongs to the caller).
 * dns_addr_sockaddr(addr, port, ss, len) fills a sockaddr for connect(2)
 *	(port in host order). dns_addr_text(addr, buf) writes the numeric
 *	form into buf (DNS_ADDR_TEXT_MAX bytes) and returns buf.
 * dns_addr_parse(text, addr) parses a numeric IPv4 or IPv6 address: 0,
 *	or -1 when text is not one.
 *
 * dns_lookup_txt(name, out, why): appends to out one string per TXT
 *	record of name, its character-strings concatenated (as SPF reads
 *	them). A record holding a NUL byte is dropped.
 *
 * dns_strerror(code) names a result code ("OK", "NOTFOUND", ...).
 */
#include <netinet/in.h>
#include <sys/socket.h>

#include "argv.h"
#include "vstring.h"

#define DNS_OK 0
#define DNS_NOTFOUND 1
#define DNS_TEMP 2
#define DNS_FAIL 3
#define DNS_NULLMX 4

#define DNS_SERVERS_MAX 3    /* MAXNS of libresolv */
#define DNS_NAME_MAX 1025    /* NS_MAXDNAME: text of a domain name + NUL */
#define DNS_ANSWER_MAX 65536 /* bytes of one answer we accept */
#define DNS_RECORDS_MAX 1000 /* records of one answer we look at */

typedef struct DNS_MX {
    char *host;    /* exchange, no trailing dot */
    unsigned pref; /* preference, 0..65535 */
} DNS_MX;

typedef struct DNS_MX_LIST {
    int count;
    DNS_MX *mx; /* count entries, in delivery order */
} DNS_MX_LIST;

#define DNS_WANT_A (1 << 0)
#define DNS_WANT_AAAA (1 << 1)
#define DNS_WANT_ALL (DNS_WANT_A | DNS_WANT_AAAA)

typedef struct DNS_ADDR {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network order; the first 4 for AF_INET */
} DNS_ADDR;

typedef struct DNS_ADDR_LIST {
    int count;
    int size;
    DNS_ADDR *addrs;
} DNS_ADDR_LIST;

#define DNS_ADDR_TEXT_MAX 46 /* INET6_ADDRSTRLEN */

void dns_init(void);
int dns_set_servers(const char *spec, VSTRING *why);

int dns_lookup_mx(const char *domain, DNS_MX_LIST **list, VSTRING *why);
void dns_mx_sort(DNS_MX_LIST *list);
void dns_mx_free(DNS_MX_LIST *list);

void dns_addr_list_init(DNS_ADDR_LIST *list);
void dns_addr_list_free(DNS_ADDR_LIST *list);
int dns_addr_list_add(DNS_ADDR_LIST *list, const DNS_ADDR *addr); /* 1 added, 0 duplicate */
int dns_lookup_addr(const char *host, int flags, DNS_ADDR_LIST *list, VSTRING *why);
int dns_addr_sockaddr(const DNS_ADDR *addr, unsigned port, struct sockaddr_storage *ss,
                      socklen_t *len);
char *dns_addr_text(const DNS_ADDR *addr, char *buf);
int dns_addr_parse(const char *text, DNS_ADDR *addr);

int dns_lookup_txt(const char *name, ARGV *out, VSTRING *why);

const char *dns_strerror(int code);

#endif
