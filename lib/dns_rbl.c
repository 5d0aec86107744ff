/*
 * NAME
 *	dns_rbl - DNS block and allow lists: names, filters, lookups, replies
 * SYNOPSIS
 *	#include "dns_rbl.h"
 *
 *	int dns_rbl_reverse(VSTRING *out, const char *addr, const char *zone)
 *	int dns_rbl_domain(VSTRING *out, const char *domain, const char *zone)
 *	int dns_rbl_split(const char *spec, VSTRING *zone, VSTRING *filter)
 *	int dns_rbl_filter_valid(const char *filter)
 *	int dns_rbl_filter_match(const char *filter, const unsigned char *ip)
 *	int dns_rbl_lookup(const char *name, const char *filter, char *found,
 *			VSTRING *txt, VSTRING *why)
 *	int dns_rbl_expand(VSTRING *out, const char *template,
 *			DNS_RBL_LOOKUP_FN lookup, void *context, VSTRING *why)
 * DESCRIPTION
 *	The contract is in dns_rbl.h. A list is queried as RFC 5782 says:
 *	an A query for the reversed client address (or the domain, for a
 *	right-hand-side list) under the list's zone; any answer means
 *	"listed" unless a filter names the answers that count. The TXT
 *	record of the same name is the list's reason.
 *
 *	Filters use Postfix's syntax: "127.0.0.2", or fields with bracketed
 *	alternatives such as "127.0.0.[2..11]" or "127.0.[0;1].[2;4..9]".
 *
 *	Templates use the $name / ${name?text} / ${name:text} macros of
 *	main.cf, evaluated against the caller's own table of values (not
 *	against main.cf), so that a value taken from the DNS or from the
 *	client is never expanded itself.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "dns.h"
#include "dns_rbl.h"
#include "mymalloc.h"
#include "valid_hostname.h"

int dns_rbl_reverse(VSTRING *out, const char *addr, const char *zone)
{
    unsigned char bytes[16];
    static const char hex[] = "0123456789abcdef";

    vstring_reset(out);
    if (valid_ipv4(addr, 0) && inet_pton(AF_INET, addr, bytes) == 1) {
        vstring_sprintf(out, "%u.%u.%u.%u", bytes[3], bytes[2], bytes[1], bytes[0]);
    } else if (valid_ipv6(addr, 0) && inet_pton(AF_INET6, addr, bytes) == 1) {
        for (int i = 15; i >= 0; i--) {
            vstring_addch(out, hex[bytes[i] & 0xf]);
            vstring_addch(out, '.');
            vstring_addch(out, hex[bytes[i] >> 4]);
            if (i > 0)
                vstring_addch(out, '.');
        }
    } else {
        return -1;
    }
    if (zone && *zone) {
        vstring_addch(out, '.');
        vstring_strcat(out, zone);
    }
    return 0;
}

int dns_rbl_domain(VSTRING *out, const char *domain, const char *zone)
{
    size_t len = strlen(domain);
    char *copy;
    int ok;

    vstring_reset(out);
    if (len > 0 && domain[len - 1] == '.')
        len--;
    if (len == 0 || domain[0] == '[' || len + 1 + strlen(zone) > DNS_RBL_NAME_MAX)
        return -1;
    copy = mystrndup(domain, len);
    ok = valid_hostname_flags(copy, VALID_HOSTNAME_UNDERSCORE, 0);
    if (ok)
        vstring_sprintf(out, "%s.%s", copy, zone);
    myfree(copy);
    return ok ? 0 : -1;
}

/* dns_rbl_number - a decimal 0..255 at *cp; advances *cp; -1 if none */

static int dns_rbl_number(const char **cp)
{
    const char *p = *cp;
    int value = 0;
    int digits = 0;

    while (isdigit((unsigned char)*p)) {
        value = value * 10 + (*p++ - '0');
        if (++digits > 3 || value > 255)
            return -1;
    }
    if (digits == 0)
        return -1;
    *cp = p;
    return value;
}

/*
 * dns_rbl_field - one field of a filter at *cp: checks its syntax, and
 * tells whether octet matches it (octet < 0: syntax only). Returns 1
 * (match), 0 (no match), -1 (bad syntax); *cp moves past the field.
 */
static int dns_rbl_field(const char **cp, int octet)
{
    const char *p = *cp;
    int match = 0;
    int low, high;

    if (*p != '[') {
        if ((low = dns_rbl_number(&p)) < 0)
            return -1;
        *cp = p;
        return low == octet;
    }
    p++;
    for (;;) {
        if ((low = dns_rbl_number(&p)) < 0)
            return -1;
        high = low;
        if (p[0] == '.' && p[1] == '.') {
            p += 2;
            if ((high = dns_rbl_number(&p)) < 0 || high < low)
                return -1;
        }
        if (octet >= low && octet <= high)
            match = 1;
        if (*p == ';') {
            p++;
            continue;
        }
        if (*p != ']')
            return -1;
        *cp = p + 1;
        return match;
    }
}

/* dns_rbl_filter_eval - 1 match, 0 no match, -1 bad syntax */

static int dns_rbl_filter_eval(const char *filter, const unsigned char *ip)
{
    const char *cp = filter;
    int match = 1;

    for (int i = 0; i < 4; i++) {
        int status = dns_rbl_field(&cp, ip ? ip[i] : -1);

        if (status < 0)
            return -1;
        if (status == 0)
            match = 0;
        if (i < 3 && *cp++ != '.')
            return -1;
    }
    return *cp == 0 ? match : -1;
}

int dns_rbl_filter_valid(const char *filter)
{
    return dns_rbl_filter_eval(filter, NULL) >= 0;
}

int dns_rbl_filter_match(const char *filter, const unsigned char *ip)
{
    return dns_rbl_filter_eval(filter, ip) == 1;
}

int dns_rbl_split(const char *spec, VSTRING *zone, VSTRING *filter)
{
    const char *eq = strchr(spec, '=');

    vstring_reset(filter);
    if (eq == NULL) {
        vstring_strcpy(zone, spec);
    } else {
        vstring_strncpy(zone, spec, (size_t)(eq - spec));
        vstring_strcpy(filter, eq + 1);
        if (!dns_rbl_filter_valid(eq + 1)) {
            vstring_reset(filter);
            return -1;
        }
    }
    return vstring_len(zone) > 0 ? 0 : -1;
}

int dns_rbl_lookup(const char *name, const char *filter, char *found, VSTRING *txt, VSTRING *why)
{
    DNS_ADDR_LIST list;
    int status;
    int listed = 0;

    if (txt)
        vstring_reset(txt);
    dns_addr_list_init(&list);
    status = dns_lookup_addr(name, DNS_WANT_A, &list, why);
    if (status == DNS_OK) {
        for (int i = 0; i < list.count && !listed; i++) {
            if (list.addrs[i].family != AF_INET)
                continue;
            if (filter == NULL || *filter == 0 ||
                dns_rbl_filter_match(filter, list.addrs[i].addr)) {
                listed = 1;
                if (found)
                    dns_addr_text(&list.addrs[i], found);
            }
        }
        if (!listed) {
            status = DNS_NOTFOUND;
            if (why)
                vstring_sprintf(why, "%s: no A record matches %s", name, filter);
        }
    }
    dns_addr_list_free(&list);
    if (listed && txt) {
        ARGV *records = argv_alloc(2);

        if (dns_lookup_txt(name, records, NULL) == DNS_OK && records->argc > 0)
            vstring_strcpy(txt, records->argv[0]);
        argv_free(records);
    }
    return status;
}

/* ---- templates ---- */

typedef struct RBL_EXPAND {
    VSTRING *out;
    DNS_RBL_LOOKUP_FN lookup;
    void *context;
    VSTRING *why;
} RBL_EXPAND;

static int dns_rbl_expand_text(RBL_EXPAND *ex, const char *text, size_t len, int depth);

static int dns_rbl_too_long(RBL_EXPAND *ex)
{
    if (vstring_len(ex->out) <= DNS_RBL_EXPAND_MAX)
        return 0;
    vstring_truncate(ex->out, DNS_RBL_EXPAND_MAX);
    if (ex->why)
        vstring_sprintf(ex->why, "expansion is longer than %d bytes", DNS_RBL_EXPAND_MAX);
    return 1;
}

/* dns_rbl_close - the index of the bracket that closes the one at open, or 0 */

static size_t dns_rbl_close(const char *text, size_t len, size_t open)
{
    char want = text[open] == '{' ? '}' : ')';
    char also = text[open];
    int depth = 0;

    for (size_t i = open; i < len; i++) {
        if (text[i] == also)
            depth++;
        else if (text[i] == want && --depth == 0)
            return i;
    }
    return 0;
}

/* dns_rbl_macro - one macro body "name", "name?text" or "name:text" */

static int dns_rbl_macro(RBL_EXPAND *ex, const char *body, size_t len, int depth)
{
    size_t nlen = 0;
    char name[64];
    const char *value;

    while (nlen < len && (isalnum((unsigned char)body[nlen]) || body[nlen] == '_'))
        nlen++;
    if (nlen == 0 || nlen >= sizeof(name) ||
        (nlen < len && body[nlen] != '?' && body[nlen] != ':')) {
        if (ex->why)
            vstring_sprintf(ex->why, "bad macro name in \"%.*s\"", (int)(len > 60 ? 60 : len),
                            body);
        return -1;
    }
    memcpy(name, body, nlen);
    name[nlen] = 0;
    value = ex->lookup(name, ex->context);
    if (nlen == len) {
        if (value)
            vstring_strcat(ex->out, value);
        return dns_rbl_too_long(ex) ? -1 : 0;
    }
    if ((body[nlen] == '?') != (value != NULL && *value != 0))
        return 0;
    body += nlen + 1;
    len -= nlen + 1;
    if (len >= 2 && body[0] == '{' && dns_rbl_close(body, len, 0) == len - 1) {
        body++;
        len -= 2;
    }
    return dns_rbl_expand_text(ex, body, len, depth + 1);
}

static int dns_rbl_expand_text(RBL_EXPAND *ex, const char *text, size_t len, int depth)
{
    if (depth > DNS_RBL_EXPAND_DEPTH) {
        if (ex->why)
            vstring_sprintf(ex->why, "macros nested more than %d deep", DNS_RBL_EXPAND_DEPTH);
        return -1;
    }
    for (size_t i = 0; i < len;) {
        size_t run = i;

        while (run < len && text[run] != '$')
            run++;
        vstring_memcat(ex->out, text + i, run - i);
        if (dns_rbl_too_long(ex))
            return -1;
        i = run;
        if (i >= len)
            break;
        i++; /* the '$' */
        if (i < len && text[i] == '$') {
            vstring_addch(ex->out, '$');
            i++;
        } else if (i < len && (text[i] == '{' || text[i] == '(')) {
            size_t close = dns_rbl_close(text, len, i);

            if (close == 0) {
                if (ex->why)
                    vstring_sprintf(ex->why, "unbalanced '%c'", text[i]);
                return -1;
            }
            if (dns_rbl_macro(ex, text + i + 1, close - i - 1, depth) < 0)
                return -1;
            i = close + 1;
        } else {
            size_t start = i;

            while (i < len && (isalnum((unsigned char)text[i]) || text[i] == '_'))
                i++;
            if (i == start) {
                if (ex->why)
                    vstring_strcpy(ex->why, "'$' not followed by a name");
                return -1;
            }
            if (dns_rbl_macro(ex, text + start, i - start, depth) < 0)
                return -1;
        }
    }
    return 0;
}

int dns_rbl_expand(VSTRING *out, const char *template, DNS_RBL_LOOKUP_FN lookup, void *context,
                   VSTRING *why)
{
    RBL_EXPAND ex = {out, lookup, context, why};

    vstring_reset(out);
    return dns_rbl_expand_text(&ex, template, strlen(template), 0);
}
