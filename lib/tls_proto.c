/*
 * NAME
 *	tls_proto - TLS protocol version lists and cipher lists
 * SYNOPSIS
 *	#include "tls_proto.h"
 *
 *	int tls_proto_parse(const char *spec, TLS_PROTO *proto, VSTRING *why)
 *	const char *tls_proto_name(int mask_bit)
 *	int tls_proto_ciphers(VSTRING *out, const char *base,
 *			const char *exclude, const char *more_exclude)
 * DESCRIPTION
 *	tls_proto_parse() turns a protocol list such as ">=TLSv1.2" or
 *	"!SSLv2, !SSLv3, !TLSv1" into the set of allowed versions and the
 *	OpenSSL settings that express it: a lowest and a highest version
 *	and SSL_OP_NO_* bits for versions in between that are left out.
 *	SSLv2 and SSLv3 are never allowed, whatever the list says.
 *
 *	tls_proto_ciphers() appends exclusions to a cipher list.
 *
 *	See tls_proto.h for the syntax and the errors.
 */
#include <string.h>
#include <strings.h>

#include <openssl/ssl.h>

#include "argv.h"
#include "tls_proto.h"
#include "vstring.h"

#define TLS_PROTO_DELIM ", \t\r\n:"

static const struct {
    const char *name;
    int bit;
    int version;    /* OpenSSL's number, 0 for versions never used */
    long no_option; /* SSL_OP_NO_* */
} tls_proto_table[] = {
    {"SSLv2", TLS_PROTO_SSLv2, 0, 0},
    {"SSLv3", TLS_PROTO_SSLv3, 0, 0},
    {"TLSv1", TLS_PROTO_TLSv1, TLS1_VERSION, SSL_OP_NO_TLSv1},
    {"TLSv1.1", TLS_PROTO_TLSv1_1, TLS1_1_VERSION, SSL_OP_NO_TLSv1_1},
    {"TLSv1.2", TLS_PROTO_TLSv1_2, TLS1_2_VERSION, SSL_OP_NO_TLSv1_2},
    {"TLSv1.3", TLS_PROTO_TLSv1_3, TLS1_3_VERSION, SSL_OP_NO_TLSv1_3},
};

#define TLS_PROTO_COUNT ((int)(sizeof(tls_proto_table) / sizeof(tls_proto_table[0])))

/* tls_proto_index - table index of a version name, or -1 */

static int tls_proto_index(const char *name)
{
    for (int i = 0; i < TLS_PROTO_COUNT; i++)
        if (strcasecmp(tls_proto_table[i].name, name) == 0)
            return i;
    return -1;
}

const char *tls_proto_name(int mask_bit)
{
    for (int i = 0; i < TLS_PROTO_COUNT; i++)
        if (tls_proto_table[i].bit == mask_bit)
            return tls_proto_table[i].name;
    return "unknown";
}

int tls_proto_parse(const char *spec, TLS_PROTO *proto, VSTRING *why)
{
    ARGV *tokens = argv_split(spec ? spec : "", TLS_PROTO_DELIM);
    int include = 0;
    int exclude = 0;
    int lowest = 0;
    int highest = TLS_PROTO_COUNT - 1;
    int mask = 0;
    int status = -1;

    memset(proto, 0, sizeof(*proto));
    for (int i = 0; i < tokens->argc; i++) {
        const char *tok = tokens->argv[i];
        int kind = 0; /* 0 include, 1 exclude, 2 lowest, 3 highest */
        int idx;

        if (strncmp(tok, ">=", 2) == 0) {
            kind = 2;
            tok += 2;
        } else if (strncmp(tok, "<=", 2) == 0) {
            kind = 3;
            tok += 2;
        } else if (*tok == '!') {
            kind = 1;
            tok += 1;
        }
        if ((idx = tls_proto_index(tok)) < 0) {
            vstring_sprintf(why, "unknown TLS protocol \"%.100s\" in \"%.200s\"", tok, spec);
            goto done;
        }
        switch (kind) {
        case 0:
            include |= tls_proto_table[idx].bit;
            break;
        case 1:
            exclude |= tls_proto_table[idx].bit;
            break;
        case 2:
            if (idx > lowest)
                lowest = idx;
            break;
        case 3:
            if (idx < highest)
                highest = idx;
            break;
        }
    }
    for (int i = lowest; i <= highest; i++)
        mask |= tls_proto_table[i].bit;
    if (include)
        mask &= include;
    mask &= ~exclude;
    mask &= TLS_PROTO_ALL_TLS;
    if (mask == 0) {
        vstring_sprintf(why, "TLS protocol list \"%.200s\" leaves no protocol version", spec);
        goto done;
    }
    proto->mask = mask;
    for (int i = 0; i < TLS_PROTO_COUNT; i++) {
        if (!(mask & tls_proto_table[i].bit))
            continue;
        if (proto->min_version == 0)
            proto->min_version = tls_proto_table[i].version;
        proto->max_version = tls_proto_table[i].version;
    }
    for (int i = 0; i < TLS_PROTO_COUNT; i++) {
        int v = tls_proto_table[i].version;

        if (v > proto->min_version && v < proto->max_version && !(mask & tls_proto_table[i].bit))
            proto->ssl_options |= tls_proto_table[i].no_option;
    }
    status = 0;

done:
    argv_free(tokens);
    return status;
}

/* tls_proto_exclude - append ":!NAME" for each name of list */

static int tls_proto_exclude(VSTRING *out, const char *list)
{
    ARGV *names;
    int status = 0;

    if (list == NULL || *list == 0)
        return 0;
    names = argv_split(list, TLS_PROTO_DELIM);
    for (int i = 0; i < names->argc; i++) {
        if (strpbrk(names->argv[i], ":!+-@ ") != NULL) {
            status = -1;
            break;
        }
        vstring_sprintf_append(out, ":!%s", names->argv[i]);
    }
    argv_free(names);
    return status;
}

int tls_proto_ciphers(VSTRING *out, const char *base, const char *exclude, const char *more_exclude)
{
    vstring_reset(out);
    if (base == NULL || *base == 0)
        return -1;
    vstring_strcpy(out, base);
    if (tls_proto_exclude(out, exclude) < 0 || tls_proto_exclude(out, more_exclude) < 0) {
        vstring_reset(out);
        return -1;
    }
    return 0;
}
