#ifndef POSTERN_RESOLVE_H
#define POSTERN_RESOLVE_H
/*
 * resolve - which transport delivers a recipient, and to which next hop
 *
 * The address resolver that Postfix keeps in trivial-rewrite(8), as a
 * library: qmgr(8) calls it for every recipient it schedules, smtpd(8)
 * for relay decisions ("is this a local, virtual, relay or other
 * destination?"). Addresses are in internal (unquoted) form.
 *
 * Address classes, tried in this order on the domain (the part after the
 * last '@', without a trailing dot, compared without regard to case):
 *   LOCAL    no domain; a domain listed in $mydestination; an address
 *            literal [addr] whose address is one of $inet_interfaces or
 *            $proxy_interfaces ("all" means every address of this
 *            host). Transport $local_transport; but mail for
 *            $double_bounce_sender there goes to discard: a notice that
 *            bounced back to the address notices come from ends.
 *   ALIAS    a domain in $virtual_alias_domains: such addresses should
 *            have been rewritten by cleanup(8); one that reaches the
 *            resolver is unknown: transport "error", nexthop
 *            "5.1.1 User unknown in virtual alias table".
 *   VIRTUAL  a domain in $virtual_mailbox_domains: $virtual_transport.
 *   RELAY    a domain in $relay_domains: $relay_transport.
 *   DEFAULT  anything else: $default_transport.
 * Domain lists are matched by lib/smtpd_match.h (smtpd_domlist): names,
 * ".name" (subdomains of name), "!pattern" (exclusion, first match
 * wins), /file/name (a file of such patterns, read once; unreadable is
 * fatal) and type:table (the domain, then its parent domains). A plain
 * name also matches its subdomains when the parameter is listed in
 * $parent_domain_matches_subdomains.
 *
 * Next hop: the text after the first ':' of the class's transport
 * setting when not empty; else, for RELAY and DEFAULT, $relayhost when
 * not empty; else the recipient domain ($myhostname for an address
 * without a domain).
 *
 * transport_maps (transport(5)) then overrides any class but ALIAS:
 * keys user+ext@domain (every table), user@domain (fixed-string tables,
 * only when there is an extension), domain and its parents
 * (mail_domain_find with "transport_maps"), and "*" (fixed-string
 * tables). The first match "transport:nexthop" (no ':' = transport
 * only) changes the result: a non-empty transport replaces the
 * transport, and then the nexthop is the given one, or the recipient
 * domain when empty; an empty transport with a non-empty nexthop
 * replaces only the nexthop; ":" changes nothing.
 *
 * A domain that is neither a valid host name nor an address literal
 * (lenient syntax: letters, digits, '-', '_' labels) gives flag
 * RESOLVE_FLAG_ERROR with transport "error", nexthop "5.1.3 bad
 * address syntax" (the caller may deliver it through error(8)). A table
 * lookup error in any step gives RESOLVE_FLAG_FAIL with an empty
 * transport and nexthop: the caller must defer the recipient
 * (RESOLVE_REASON_FAIL), never bounce it.
 *
 * resolve_init() reads the parameters above (after mail_conf_eval())
 * and opens the tables. It is called by resolve_addr() when needed;
 * call it in a daemon's pre_init to open tables before privileges are
 * dropped. resolve_reset() forgets everything (tests; configuration
 * reload).
 *
 * resolve_addr(addr, reply) fills reply and returns its flags.
 * RESOLVE_REPLY strings belong to the reply: resolve_reply_alloc() and
 * resolve_reply_free().
 *
 * resolve_split(value, transport, nexthop) splits "transport:nexthop"
 * at the first ':' (either part may be empty; no ':' means all
 * transport). resolve_domain_match(param_name, domain) tells whether
 * domain is in the domain list of the parameter (1), not (0), or a table
 * failed (-1); it caches one list per parameter name.
 */
#include "vstring.h"

/* address classes (exactly one is set on success) */
#define RESOLVE_CLASS_LOCAL (1 << 0)
#define RESOLVE_CLASS_ALIAS (1 << 1)
#define RESOLVE_CLASS_VIRTUAL (1 << 2)
#define RESOLVE_CLASS_RELAY (1 << 3)
#define RESOLVE_CLASS_DEFAULT (1 << 4)
#define RESOLVE_CLASS_MASK 0x1f
/* outcome */
#define RESOLVE_FLAG_ERROR (1 << 8)    /* malformed address: deliver through error */
#define RESOLVE_FLAG_FAIL (1 << 9)     /* table lookup failed: defer */
#define RESOLVE_FLAG_ROUTED (1 << 10)  /* transport_maps changed the result */

#define RESOLVE_REASON_FAIL "4.3.0 address resolver failure"
#define RESOLVE_REASON_ALIAS "5.1.1 User unknown in virtual alias table"
#define RESOLVE_REASON_DOUBLE_BOUNCE "undeliverable postmaster notification discarded"
#define RESOLVE_REASON_SYNTAX "5.1.3 bad address syntax"

typedef struct RESOLVE_REPLY {
    VSTRING *transport;   /* master.cf service name */
    VSTRING *nexthop;     /* may be empty */
    VSTRING *recipient;   /* the address to deliver to */
    int flags;            /* RESOLVE_CLASS_* | RESOLVE_FLAG_* */
} RESOLVE_REPLY;

RESOLVE_REPLY *resolve_reply_alloc(void);
void resolve_reply_free(RESOLVE_REPLY *reply);

void resolve_init(void);
void resolve_reset(void);
int resolve_addr(const char *addr, RESOLVE_REPLY *reply);
void resolve_split(const char *value, VSTRING *transport, VSTRING *nexthop);
int resolve_domain_match(const char *param_name, const char *domain);

#endif
