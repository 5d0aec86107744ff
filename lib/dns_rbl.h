#ifndef POSTERN_DNS_RBL_H
#define POSTERN_DNS_RBL_H
/*
 * dns_rbl - DNS block and allow lists (RFC 5782): query names, result
 * filters, lookups, and the reply templates of rbl_reply_maps
 *
 * dns_rbl_reverse(out, addr, zone): out becomes the reversed form of
 *	the numeric address addr followed by "." and zone: IPv4 octets in
 *	reverse order ("192.0.2.1" -> "1.2.0.192.zone"), IPv6 as 32
 *	reversed hexadecimal nibbles (RFC 5782 section 2.4). With zone NULL
 *	or "" nothing is appended. Returns 0, or -1 (out emptied) when addr
 *	is not a valid IPv4 or IPv6 address.
 * dns_rbl_domain(out, domain, zone): out becomes "domain.zone" for a
 *	right-hand-side list. A trailing dot of domain is dropped. Returns
 *	-1 (out emptied) when domain is empty, an address literal
 *	("[...]"), not a valid host name, or when the result would exceed
 *	DNS_RBL_NAME_MAX bytes.
 *
 * dns_rbl_split(spec, zone, filter): splits "zone" or "zone=filter" as
 *	written after reject_rbl_client and friends. Returns 0, or -1 for
 *	an empty zone or a filter dns_rbl_filter_valid() refuses (filter
 *	is then empty).
 * dns_rbl_filter_valid(filter): 1 when filter is four dot-separated
 *	fields, each a decimal number 0..255 or a bracketed list of
 *	numbers and ranges separated by ';' ("[2..11]", "[2;4;8..9]"),
 *	else 0.
 * dns_rbl_filter_match(filter, ip): 1 when the IPv4 address ip (4
 *	bytes, network order) matches filter (a valid one), else 0.
 *
 * dns_rbl_lookup(name, filter, found, txt, why): looks up the A records
 *	of name (a query name built above). DNS_OK when one of them matches
 *	filter (any address when filter is NULL or ""): found (a buffer of
 *	DNS_ADDR_TEXT_MAX bytes, may be NULL) gets that address in text,
 *	and txt (may be NULL) the first TXT record of name, or "" when
 *	there is none or the TXT lookup fails. DNS_NOTFOUND when the name
 *	has no A record or none matches; DNS_TEMP or DNS_FAIL as dns.h
 *	says, with why set. Lookups go through lib/dns.c (smtp_dns_servers
 *	applies).
 *
 * dns_rbl_expand(out, template, lookup, context, why): out becomes the
 *	template with its macros replaced by the values lookup(name,
 *	context) returns (NULL: undefined): $name, ${name} and $(name)
 *	insert a value (nothing when undefined); ${name?text} inserts text
 *	when name has a non-empty value, ${name:text} when it has none;
 *	text is expanded in turn (at most DNS_RBL_EXPAND_DEPTH levels) and
 *	may also be written {text}, as in ${name?{text}}. $$ is a dollar
 *	sign. Values are inserted as they are, never expanded again.
 *	Returns 0, or -1 with why set for a syntax error (an unterminated
 *	brace, a bad name, nesting too deep) or a result longer than
 *	DNS_RBL_EXPAND_MAX bytes; out then holds what was expanded so far.
 */
#include "vstring.h"

#define DNS_RBL_NAME_MAX 253    /* bytes of a query name */
#define DNS_RBL_EXPAND_DEPTH 10 /* nested ${name?text} */
#define DNS_RBL_EXPAND_MAX 4096 /* bytes of an expanded template */

typedef const char *(*DNS_RBL_LOOKUP_FN)(const char *name, void *context);

int dns_rbl_reverse(VSTRING *out, const char *addr, const char *zone);
int dns_rbl_domain(VSTRING *out, const char *domain, const char *zone);
int dns_rbl_split(const char *spec, VSTRING *zone, VSTRING *filter);
int dns_rbl_filter_valid(const char *filter);
int dns_rbl_filter_match(const char *filter, const unsigned char *ip);
int dns_rbl_lookup(const char *name, const char *filter, char *found, VSTRING *txt, VSTRING *why);
int dns_rbl_expand(VSTRING *out, const char *template, DNS_RBL_LOOKUP_FN lookup, void *context,
                   VSTRING *why);

#endif
