#ifndef POSTERN_DNS_PTR_H
#define POSTERN_DNS_PTR_H
/*
 * dns_ptr - reverse (PTR) lookups, forward-confirmed client names, and
 * raw queries, through libresolv with postern's name server override
 *
 * This module keeps its own resolver state beside lib/dns.c's and
 * applies the same setting to it: the name servers of smtp_dns_servers
 * (var_smtp_dns_servers) when that is not empty, else those of
 * /etc/resolv.conf. dns_ptr_init() reads resolv.conf (call it before
 * chroot); the first query does so otherwise. dns_ptr_set_servers(spec,
 * why) replaces the servers explicitly (same syntax as dns_set_servers()
 * in dns.h; NULL or "" means resolv.conf); it returns 0, or -1 with why
 * set and nothing changed. A bad smtp_dns_servers value is logged once
 * and makes every query DNS_TEMP, never a lookup elsewhere.
 *
 * Result codes are those of dns.h: DNS_OK, DNS_NOTFOUND (NXDOMAIN or no
 * record of the type), DNS_TEMP (SERVFAIL, timeout, refused, no server,
 * malformed answer), DNS_FAIL (a name that cannot be queried). why (may
 * be NULL) gets Postfix's wording on any result but DNS_OK.
 *
 * dns_ptr_query(name, type, answer, size, len, why): one query of the
 *	given type (ns_t_*) for name; on DNS_OK the whole answer message
 *	(at most size bytes; a longer one is cut) is in answer and *len
 *	holds its length. On DNS_NOTFOUND *len tells DNS_PTR_NXDOMAIN (the
 *	name does not exist) from DNS_PTR_NODATA (no record of the type);
 *	on other results it is DNS_PTR_NODATA. For callers that take
 *	answers apart themselves (the SPF resolver layer).
 *
 * dns_ptr_lookup(addr, names, why): the PTR names of the numeric IPv4
 *	or IPv6 address addr, appended to names without their trailing
 *	dot; names that are not valid host names are skipped, and at most
 *	DNS_PTR_NAMES_MAX are taken. DNS_NOTFOUND when none is left;
 *	DNS_FAIL when addr is not a numeric address.
 *
 * dns_ptr_verify(addr, reverse_status, reverse_name, name, why): what
 *	Postfix calls the client's name and reverse name. The PTR names are
 *	looked up; *reverse_status is that lookup's result and reverse_name
 *	(may be NULL) gets the first PTR name. Then each PTR name is looked
 *	up forward (A and AAAA, dns_lookup_addr()); the first one that
 *	resolves back to addr goes into name (may be NULL). Returns DNS_OK
 *	for a forward-confirmed name, DNS_NOTFOUND when there is no PTR
 *	record or no name maps back, DNS_TEMP when a lookup failed
 *	temporarily before any name was confirmed.
 */
#include "argv.h"
#include "vstring.h"

#define DNS_PTR_NAMES_MAX 10
#define DNS_PTR_NXDOMAIN (-1)
#define DNS_PTR_NODATA 0

void dns_ptr_init(void);
int dns_ptr_set_servers(const char *spec, VSTRING *why);
int dns_ptr_query(const char *name, int type, unsigned char *answer, int size, int *len,
                  VSTRING *why);
int dns_ptr_lookup(const char *addr, ARGV *names, VSTRING *why);
int dns_ptr_verify(const char *addr, int *reverse_status, VSTRING *reverse_name, VSTRING *name,
                   VSTRING *why);

#endif
