/*
 * NAME
 *	dict_cidr - network address tables (IPv4 and IPv6)
 * SYNOPSIS
 *	#include "dict.h"
 *
 *	const DICT_PAT_OPS dict_cidr_ops
 * DESCRIPTION
 *	The matcher behind "cidr:FILE" tables (see dict_pattern(3) for the
 *	rule format). A pattern is an address ("192.0.2.1", "2001:db8::1")
 *	or a network "address/prefix" ("192.0.2.0/24", "2001:db8::/32");
 *	an IPv6 address may be written in brackets ("[2001:db8::]/32").
 *	A network whose address has bits set beyond the prefix is an
 *	error, as is a prefix longer than the address.
 *
 *	A lookup key must be an IPv4 or IPv6 address (brackets allowed);
 *	any other key matches no rule. A rule of the other address family
 *	does not apply to a key at all: "!10.0.0.0/8" does not match an
 *	IPv6 key, and "if 10.0.0.0/8" and "if !10.0.0.0/8" blocks are both
 *	skipped for one.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "mymalloc.h"

typedef struct DICT_CIDR_ADDR {
    int family;
    unsigned char bytes[16];
    int prefix;     /* patterns only */
} DICT_CIDR_ADDR;

/* dict_cidr_parse - parse an address, with optional brackets; 0 or -1 */
static int dict_cidr_parse(const char *text, size_t len, DICT_CIDR_ADDR *addr)
{
    char buf[64];

    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, text, len);
    buf[len] = 0;
    memset(addr, 0, sizeof(*addr));
    if (strchr(buf, ':')) {
        addr->family = 6;
        return inet_pton(AF_INET6, buf, addr->bytes) == 1 ? 0 : -1;
    }
    addr->family = 4;
    return inet_pton(AF_INET, buf, addr->bytes) == 1 ? 0 : -1;
}

static void *dict_cidr_compile(const char *pattern, const char *flags, int *ngroups, VSTRING *why)
{
    const char *slash = strchr(pattern, '/');
    DICT_CIDR_ADDR addr;
    int maxbits;

    (void) flags;
    *ngroups = 0;
    if (dict_cidr_parse(pattern, slash ? (size_t) (slash - pattern) : strlen(pattern), &addr) < 0) {
        vstring_sprintf(why, "bad address pattern: \"%s\"", pattern);
        return NULL;
    }
    maxbits = addr.family == 4 ? 32 : 128;
    if (slash == NULL) {
        addr.prefix = maxbits;
    } else {
        char *end;
        long prefix;

        if (!isdigit((unsigned char) slash[1])) {
            vstring_sprintf(why, "bad network prefix in \"%s\"", pattern);
            return NULL;
        }
        prefix = strtol(slash + 1, &end, 10);
        if (*end != 0 || prefix < 0 || prefix > maxbits) {
            vstring_sprintf(why, "bad network prefix in \"%s\"", pattern);
            return NULL;
        }
        addr.prefix = (int) prefix;
        for (int bit = addr.prefix; bit < maxbits; bit++) {
            if (addr.bytes[bit / 8] & (0x80 >> (bit % 8))) {
                vstring_sprintf(why, "non-null host address bits in \"%s\"", pattern);
                return NULL;
            }
        }
    }
    return mymemdup(&addr, sizeof(addr));
}

static void *dict_cidr_prepare(const char *key)
{
    DICT_CIDR_ADDR addr;

    if (dict_cidr_parse(key, strlen(key), &addr) < 0)
        return NULL;
    return mymemdup(&addr, sizeof(addr));
}

static int dict_cidr_match(void *compiled, const char *key, void *prepared, long *offsets,
                           int ngroups, VSTRING *why)
{
    DICT_CIDR_ADDR *net = compiled, *addr = prepared;
    int full = net->prefix / 8, rest = net->prefix % 8;

    (void) key;
    (void) why;
    (void) ngroups;
    if (addr->family != net->family)
        return DICT_PAT_NOT_APPLICABLE;
    if (memcmp(addr->bytes, net->bytes, (size_t) full) != 0)
        return 0;
    if (rest && ((addr->bytes[full] ^ net->bytes[full]) & (0xff << (8 - rest)) & 0xff))
        return 0;
    offsets[0] = 0;
    offsets[1] = (long) strlen(key);
    return 1;
}

const DICT_PAT_OPS dict_cidr_ops = {
    .delimited = 0,
    .compile = dict_cidr_compile,
    .prepare = dict_cidr_prepare,
    .match = dict_cidr_match,
    .release = myfree,
    .release_key = myfree,
};
