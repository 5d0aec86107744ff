#ifndef POSTERN_SMTPD_MATCH_H
#define POSTERN_SMTPD_MATCH_H
/*
 * smtpd_match - network lists and domain lists as main.cf writes them
 *
 * A list parameter (mynetworks, relay_domains, mydestination,
 * smtpd_forbid_bare_newline_exclusions...) is parsed once, at start-up,
 * into a list object that answers lookups without re-reading anything.
 * Entries are separated by commas and white space; "type:table" entries
 * (with braces, as in inline:{...}) stay one entry; a "/file/name" entry
 * is replaced by the entries in that file (white space or commas
 * between them, '#' comments, continuation lines), read at creation
 * (files do not nest). An entry may start with "!": when it matches,
 * the search stops with "no match".
 *
 * smtpd_netlist_create(title, value) makes a network list. Entries: an
 *	IPv4 or IPv6 address, or network/prefix ("192.0.2.0/24",
 *	"[2001:db8::]/32", "[::1]/128"; brackets optional), or type:table
 *	(looked up with the address; any answer matches). An entry that is
 *	not valid (bad address, host bits set beyond the prefix) or an
 *	unreadable file is fatal: it is a configuration error that must not
 *	silently change who is trusted.
 * smtpd_netlist_match(list, addr) returns 1 when the address (text as
 *	sock_addr_text() gives it) matches, 0 when not, -1 when a table
 *	could not answer (the caller must defer, not decide).
 *
 * smtpd_domlist_create(title, value) makes a domain list. Entries: a
 *	domain name (no regard to case or a trailing dot), ".domain" for
 *	its subdomains, or type:table, looked up with mail_domain_find()
 *	for title (so parent domains count as Postfix does). When title is
 *	listed in parent_domain_matches_subdomains, "domain" also matches
 *	its subdomains. An unreadable file is fatal.
 * smtpd_domlist_match(list, domain) returns 1, 0 or -1 as above.
 *
 * smtpd_*list_free() releases a list. Lists own their tables (maps).
 * title names the parameter in log messages.
 */

typedef struct SMTPD_NETLIST SMTPD_NETLIST;
typedef struct SMTPD_DOMLIST SMTPD_DOMLIST;

SMTPD_NETLIST *smtpd_netlist_create(const char *title, const char *value);
int smtpd_netlist_match(SMTPD_NETLIST *list, const char *addr);
void smtpd_netlist_free(SMTPD_NETLIST *list);

SMTPD_DOMLIST *smtpd_domlist_create(const char *title, const char *value);
int smtpd_domlist_match(SMTPD_DOMLIST *list, const char *domain);
void smtpd_domlist_free(SMTPD_DOMLIST *list);

#endif
