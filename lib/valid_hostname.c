/*
 * NAME
 *	valid_hostname - syntax checks for host names and IP addresses
 * SYNOPSIS
 *	#include "valid_hostname.h"
 *
 *	int valid_hostname(const char *name, int gripe)
 *	int valid_hostname_flags(const char *name, int flags, int gripe)
 *	int valid_ipv4(const char *addr, int gripe)
 *	int valid_ipv6(const char *addr, int gripe)
 *	int valid_hostaddr(const char *addr, int gripe)
 *	int valid_mailhost_addr(const char *addr, int gripe)
 *	int valid_mailhost_literal(const char *addr, int gripe)
 * DESCRIPTION
 *	valid_hostname() accepts a DNS host name: dot-separated labels of
 *	1..63 letters, digits or hyphens, no label starting or ending with
 *	a hyphen, at most 255 bytes in all, and a last label that is not
 *	all digits. valid_hostname_flags() can also allow underscores
 *	(VALID_HOSTNAME_UNDERSCORE) and non-ASCII bytes
 *	(VALID_HOSTNAME_UTF8).
 *
 *	valid_ipv4() accepts a dotted quad with no leading zeros.
 *	valid_ipv6() accepts what inet_pton(AF_INET6) accepts, within a
 *	length bound and with no zone suffix. valid_hostaddr() accepts
 *	either.
 *
 *	valid_mailhost_addr() accepts the inside of an RFC 5321 address
 *	literal ("192.0.2.1" or "IPv6:2001:db8::1"); valid_mailhost_literal()
 *	the whole literal, brackets included.
 *
 *	Every function returns 1 for acceptable text, 0 otherwise; with
 *	gripe non-zero a rejection is logged with msg_warn().
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "valid_hostname.h"

#define IPV6_TAG "IPv6:"
#define IPV6_TAG_LEN (sizeof(IPV6_TAG) - 1)

static int vh_is_alnum(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

int valid_hostname_flags(const char *name, int flags, int gripe)
{
    const unsigned char *cp;
    size_t label_len = 0;
    size_t total = 0;
    int label_numeric = 1;
    int prev = 0;

    if (*name == 0) {
        if (gripe)
            msg_warn("valid_hostname: empty hostname");
        return 0;
    }
    for (cp = (const unsigned char *)name; *cp; prev = *cp++) {
        if (++total > VALID_HOSTNAME_MAX) {
            if (gripe)
                msg_warn("valid_hostname: bad length %zu for %.100s...", strlen(name), name);
            return 0;
        }
        if (*cp == '.') {
            if (label_len == 0) {
                if (gripe)
                    msg_warn("valid_hostname: misplaced delimiter: %.300s", name);
                return 0;
            }
            if (prev == '-') {
                if (gripe)
                    msg_warn("valid_hostname: misplaced hyphen: %.300s", name);
                return 0;
            }
            label_len = 0;
            label_numeric = 1;
            continue;
        }
        if (vh_is_alnum(*cp) || ((flags & VALID_HOSTNAME_UNDERSCORE) && *cp == '_') ||
            ((flags & VALID_HOSTNAME_UTF8) && *cp >= 0x80)) {
            if (*cp < '0' || *cp > '9')
                label_numeric = 0;
        } else if (*cp == '-') {
            if (label_len == 0) {
                if (gripe)
                    msg_warn("valid_hostname: misplaced hyphen: %.300s", name);
                return 0;
            }
            label_numeric = 0;
        } else {
            if (gripe)
                msg_warn("valid_hostname: invalid character %d(decimal): %.300s", *cp, name);
            return 0;
        }
        if (++label_len > VALID_LABEL_MAX) {
            if (gripe)
                msg_warn("valid_hostname: hostname label too long: %.300s", name);
            return 0;
        }
    }
    if (label_len == 0) {
        if (gripe)
            msg_warn("valid_hostname: misplaced delimiter: %.300s", name);
        return 0;
    }
    if (prev == '-') {
        if (gripe)
            msg_warn("valid_hostname: misplaced hyphen: %.300s", name);
        return 0;
    }
    if (label_numeric) {
        if (gripe)
            msg_warn("valid_hostname: numeric hostname: %.300s", name);
        return 0;
    }
    return 1;
}

int valid_hostname(const char *name, int gripe)
{
    return valid_hostname_flags(name, 0, gripe);
}

int valid_ipv4(const char *addr, int gripe)
{
    const char *cp = addr;
    int parts = 0;

    for (;;) {
        int value = 0;
        int digits = 0;
        const char *start = cp;

        while (*cp >= '0' && *cp <= '9') {
            value = value * 10 + (*cp - '0');
            if (++digits > 3 || value > 255) {
                if (gripe)
                    msg_warn("valid_ipv4: invalid octet value: %.100s", addr);
                return 0;
            }
            cp++;
        }
        if (digits == 0 || (digits > 1 && *start == '0')) {
            if (gripe)
                msg_warn("valid_ipv4: invalid IPv4 address: %.100s", addr);
            return 0;
        }
        parts++;
        if (*cp == 0)
            break;
        if (*cp != '.' || parts == 4) {
            if (gripe)
                msg_warn("valid_ipv4: invalid IPv4 address: %.100s", addr);
            return 0;
        }
        cp++;
    }
    if (parts != 4) {
        if (gripe)
            msg_warn("valid_ipv4: invalid IPv4 address: %.100s", addr);
        return 0;
    }
    return 1;
}

int valid_ipv6(const char *addr, int gripe)
{
    struct in6_addr sin6;
    size_t len = strnlen(addr, VALID_IPV6_MAX + 1);

    if (len == 0 || len > VALID_IPV6_MAX || strspn(addr, "0123456789abcdefABCDEF:.") != len ||
        inet_pton(AF_INET6, addr, &sin6) != 1) {
        if (gripe)
            msg_warn("valid_ipv6: invalid IPv6 address: %.100s", addr);
        return 0;
    }
    return 1;
}

int valid_hostaddr(const char *addr, int gripe)
{
    if (strchr(addr, ':') != NULL)
        return valid_ipv6(addr, gripe);
    return valid_ipv4(addr, gripe);
}

int valid_mailhost_addr(const char *addr, int gripe)
{
    if (strncasecmp(addr, IPV6_TAG, IPV6_TAG_LEN) == 0)
        return valid_ipv6(addr + IPV6_TAG_LEN, gripe);
    if (strchr(addr, ':') != NULL) {
        if (gripe)
            msg_warn("valid_mailhost_addr: unsupported address literal: %.100s", addr);
        return 0;
    }
    return valid_ipv4(addr, gripe);
}

int valid_mailhost_literal(const char *addr, int gripe)
{
    char inner[VALID_IPV6_MAX + IPV6_TAG_LEN + 1];
    size_t len = strnlen(addr, sizeof(inner) + 2);

    if (len < 3 || addr[0] != '[' || addr[len - 1] != ']') {
        if (gripe)
            msg_warn("valid_mailhost_literal: bad address literal: %.100s", addr);
        return 0;
    }
    if (len - 2 >= sizeof(inner)) {
        if (gripe)
            msg_warn("valid_mailhost_literal: address literal too long: %.100s", addr);
        return 0;
    }
    memcpy(inner, addr + 1, len - 2);
    inner[len - 2] = 0;
    return valid_mailhost_addr(inner, gripe);
}
