#ifndef POSTERN_ADDRESS_H
#define POSTERN_ADDRESS_H
/*
 * address - RFC 5321 paths, RFC 5322 address lists, quoting
 *
 * Forms. The EXTERNAL form of an address is what travels on the wire or
 * in a header: the local part may be quoted ("a b"@example.com). The
 * INTERNAL form is what postern keeps in queue files, tables and logs:
 * the local part unquoted (a b@example.com); the null sender is "".
 * An internal address splits at its LAST '@' (a domain never contains
 * one), so "a@b"@c becomes a@b@c and splits into "a@b" and "c".
 *
 * address_parse_path(str, len, flags, addr, used, why)
 *	Parses the SMTP path at str (len bytes; NUL bytes are data and are
 *	refused) and stores its internal form in addr. Returns 0, or -1
 *	with addr emptied and a short reason (no trailing period) in why.
 *	used == NULL: all len bytes must be the path. used != NULL: the
 *	path ends after its '>' (or, bare, at the first SP/HTAB outside
 *	quotes), *used gets the bytes taken, and the caller parses what
 *	follows (MAIL/RCPT parameters).
 *	Every mode: at most ADDRESS_LENIENT_MAX bytes of path; no control
 *	characters, NUL or DEL anywhere; quotes and brackets balanced;
 *	local part made of atext, '.' and quoted strings (qtext, and
 *	quoted pairs of SP..'~'); bytes 0x80-0xff only with ADDRESS_UTF8;
 *	"<>" only with ADDRESS_NULL_OK (result ""); a source route
 *	"<@a,@b:user@domain>" is checked and dropped; a domain literal must
 *	be "[IPv4]" or "[IPv6:...]" (valid_mailhost_literal); an empty
 *	local part must be written "" (quoted); a local part holding '@'
 *	("\"a@b\"") needs a domain, as its internal form would be ambiguous.
 *	Lenient mode (no ADDRESS_STRICT), for Postfix-like tolerance of
 *	broken clients: the angle brackets may be missing; the local part
 *	may have dots anywhere ("a..b", ".a") and mix quoted and unquoted
 *	words separated by dots; the domain may be missing ("<user>"); a
 *	domain is non-empty labels of letters, digits, '-' and '_' with no
 *	rule on hyphens, digits or lengths.
 *	ADDRESS_STRICT adds RFC 5321 exactly: brackets required; local
 *	part a Dot-string or a single Quoted-string; domain a host name
 *	(valid_hostname) or address literal; local part at most
 *	ADDRESS_LOCAL_MAX, domain at most ADDRESS_DOMAIN_MAX and the path
 *	with its brackets at most ADDRESS_PATH_MAX bytes, all counted in
 *	the external form; a domain required, except "<postmaster>" (any
 *	case) with ADDRESS_POSTMASTER.
 *
 * address_parse_list(str, len, why)
 *	Parses an RFC 5322 address-list (the value of To, Cc, Bcc, From,
 *	Reply-To...), with folding white space, nested comments, quoted
 *	display names, groups ("team: a@x, b@y;") and obsolete routes, and
 *	returns a new ARGV (the caller frees it with argv_free()) of the
 *	internal forms in order, or NULL with a reason in why. A display
 *	name may hold anything but the structural specials; a local part
 *	is words separated by single dots; a domain as in lenient mode, or
 *	an address literal; an address without a domain ("user") is
 *	accepted unless its local part holds '@'. Empty list elements are
 *	skipped, an empty "<>" is an error, groups do not nest and must end
 *	with ';'. Header text may
 *	hold 8-bit bytes (RFC 6532); other control characters than HTAB,
 *	CR and LF are refused, and an address (not a display name) may not
 *	hold a quoted HTAB either. Limits: ADDRESS_LIST_INPUT_MAX bytes,
 *	ADDRESS_LIST_COUNT_MAX addresses, ADDRESS_LENIENT_MAX per address.
 *
 * address_quote(out, addr)
 *	Replaces out with the external form of internal addr: the local
 *	part is quoted unless it is a dot-atom (8-bit bytes count as atext,
 *	RFC 6531), with '"' and '\' escaped; an empty local part with a
 *	domain becomes ""@domain; "" stays "". Returns 0, or -1 (out
 *	emptied) when addr holds a control character, which has no
 *	representation on the wire.
 * address_unquote(out, addr)
 *	Replaces out with the internal form of external addr: quoted
 *	strings and backslash pairs in the local part are resolved; the
 *	domain (after the last '@' outside quotes) is copied as is. Returns
 *	0, or -1 (out emptied) for an unterminated quote, a trailing
 *	backslash or a control character.
 * address_split(addr, local, domain)
 *	Splits internal addr at its last '@'. Either VSTRING may be NULL.
 *	Returns 1 when there was an '@', else 0 (local = addr, domain "").
 * address_valid_domain(domain, flags)
 *	The domain check address_parse_path() applies in the mode flags
 *	selects (ADDRESS_STRICT, ADDRESS_UTF8); 1 if valid, 0 if not.
 */
#include <stddef.h>

#include "argv.h"
#include "vstring.h"

#define ADDRESS_LOCAL_MAX 64             /* RFC 5321 4.5.3.1.1 */
#define ADDRESS_DOMAIN_MAX 255           /* RFC 5321 4.5.3.1.2 */
#define ADDRESS_PATH_MAX 256             /* RFC 5321 4.5.3.1.3 */
#define ADDRESS_LENIENT_MAX 2048         /* any mode, one path or address */
#define ADDRESS_LIST_INPUT_MAX (1 << 20) /* bytes of one header value */
#define ADDRESS_LIST_COUNT_MAX 10000     /* addresses in one header value */

/* address_parse_path() flags */
#define ADDRESS_STRICT (1 << 0)     /* RFC 5321 syntax and lengths */
#define ADDRESS_NULL_OK (1 << 1)    /* accept "<>" (reverse-path) */
#define ADDRESS_POSTMASTER (1 << 2) /* strict: accept "<postmaster>" */
#define ADDRESS_UTF8 (1 << 3)       /* accept 8-bit bytes (SMTPUTF8) */

int address_parse_path(const char *str, size_t len, int flags, VSTRING *addr, size_t *used,
                       VSTRING *why);
ARGV *address_parse_list(const char *str, size_t len, VSTRING *why);
int address_quote(VSTRING *out, const char *addr);
int address_unquote(VSTRING *out, const char *addr);
int address_split(const char *addr, VSTRING *local, VSTRING *domain);
int address_valid_domain(const char *domain, int flags);

#endif
