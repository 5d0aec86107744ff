#ifndef POSTERN_VALID_HOSTNAME_H
#define POSTERN_VALID_HOSTNAME_H
/*
 * valid_hostname - syntax checks for host names and IP addresses
 *
 * Pure functions on NUL-terminated strings; nothing is allocated, looked
 * up or modified. Each returns 1 when the text is acceptable and 0 when
 * it is not; with gripe non-zero the reason is also logged with
 * msg_warn() (the text is quoted in the log line; msg.c neutralises
 * control characters).
 *
 * valid_hostname(name, gripe): a DNS host name as RFC 1123 and RFC 3696
 *	describe it: labels of 1..VALID_LABEL_MAX letters, digits and '-'
 *	separated by single dots, a label neither starting nor ending with
 *	'-', the whole at most VALID_HOSTNAME_MAX bytes, and the last label
 *	not all digits (so "192.0.2.1" is not a host name). No trailing dot,
 *	no empty name. valid_hostname_flags() takes VALID_HOSTNAME_*:
 *	UNDERSCORE also accepts '_' inside labels (seen in real HELO names
 *	and SRV-style names); UTF8 also accepts bytes 0x80-0xff (U-labels of
 *	an SMTPUTF8 domain, checked for length and placement only).
 *
 * valid_ipv4(addr, gripe): exactly four decimal parts 0..255 separated by
 *	dots, no leading zeros (octal ambiguity), no signs or spaces.
 * valid_ipv6(addr, gripe): an IPv6 address inet_pton() accepts, at most
 *	VALID_IPV6_MAX bytes, no zone ("%eth0"), no brackets.
 * valid_hostaddr(addr, gripe): valid_ipv4() or valid_ipv6().
 * valid_mailhost_addr(addr, gripe): the inside of an RFC 5321 address
 *	literal: "192.0.2.1" or "IPv6:2001:db8::1" (the tag is matched
 *	without regard to case). General (tagged) literals are refused.
 * valid_mailhost_literal(addr, gripe): the same with its brackets:
 *	"[192.0.2.1]", "[IPv6:2001:db8::1]".
 */

#define VALID_HOSTNAME_MAX 255 /* bytes, whole name */
#define VALID_LABEL_MAX 63     /* bytes, one label */
#define VALID_IPV6_MAX 45      /* bytes, longest textual IPv6 address */

#define VALID_HOSTNAME_UNDERSCORE (1 << 0)
#define VALID_HOSTNAME_UTF8 (1 << 1)

int valid_hostname(const char *name, int gripe);
int valid_hostname_flags(const char *name, int flags, int gripe);
int valid_ipv4(const char *addr, int gripe);
int valid_ipv6(const char *addr, int gripe);
int valid_hostaddr(const char *addr, int gripe);
int valid_mailhost_addr(const char *addr, int gripe);
int valid_mailhost_literal(const char *addr, int gripe);

#endif
