/*
 * NAME
 *	smtpd_cmd - parse SMTP command lines and ESMTP parameters
 * SYNOPSIS
 *	#include "smtpd_cmd.h"
 *
 *	int smtpd_cmd_check(const char *line, size_t len)
 *	int smtpd_cmd_utf8_ok(const char *str, size_t len)
 *	int smtpd_cmd_has_8bit(const char *str)
 *	int smtpd_cmd_split(const char *line, VSTRING *verb, const char **rest)
 *	int smtpd_cmd_path(const char *args, const char *keyword, int flags,
 *			VSTRING *addr, SMTPD_PARAMS *params, VSTRING *why)
 *
 *	SMTPD_PARAMS *smtpd_params_alloc(void)
 *	void smtpd_params_reset(SMTPD_PARAMS *params)
 *	void smtpd_params_free(SMTPD_PARAMS *params)
 *	int smtpd_params_find(const SMTPD_PARAMS *params, const char *name)
 *
 *	int smtpd_cmd_size(const char *value, long long *size)
 *	int smtpd_cmd_body(const char *value)
 *	int smtpd_cmd_ret(const char *value)
 *	int smtpd_cmd_envid(const char *value, VSTRING *out)
 *	int smtpd_cmd_notify(const char *value)
 *	int smtpd_cmd_orcpt(const char *value, VSTRING *out)
 *	int smtpd_cmd_bdat(const char *args, long long *size, int *last)
 *
 *	int smtpd_xtext_decode(VSTRING *out, const char *in, size_t len)
 *	void smtpd_xtext_encode(VSTRING *out, const char *in)
 * DESCRIPTION
 *	These functions take apart what an SMTP client sends as commands,
 *	for smtpd(8). smtpd_cmd.h states each function's contract; in
 *	short: smtpd_cmd_check() vets the bytes of a line, smtpd_cmd_split()
 *	separates the verb, smtpd_cmd_path() parses MAIL FROM and RCPT TO
 *	arguments into an address and a parameter list, and the
 *	smtpd_cmd_<keyword>() functions validate one parameter value each.
 *	smtpd_xtext_decode() and smtpd_xtext_encode() convert the RFC 3461
 *	xtext form.
 *
 *	Every input is treated as hostile: lengths are bounded, numbers are
 *	checked for overflow, and anything the RFCs do not allow is
 *	refused rather than repaired.
 * DIAGNOSTICS
 *	Return values only; nothing is logged.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "cleanup_proto.h"
#include "mymalloc.h"
#include "smtpd_cmd.h"
#include "vstring.h"

#define SMTPD_SIZE_DIGITS_MAX 18   /* fits a long long, far beyond any limit */

/* smtpd_cmd_utf8_ok - well-formed UTF-8 (RFC 3629) */

int smtpd_cmd_utf8_ok(const char *str, size_t len)
{
    const unsigned char *cp = (const unsigned char *) str;
    const unsigned char *end = cp + len;

    while (cp < end) {
        unsigned c = *cp++;
        unsigned need, min, code;

        if (c < 0x80)
            continue;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            min = 0x80;
            code = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            min = 0x800;
            code = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            min = 0x10000;
            code = c & 0x07;
        } else {
            return 0;
        }
        if ((size_t) (end - cp) < need)
            return 0;
        for (unsigned i = 0; i < need; i++) {
            if ((cp[i] & 0xc0) != 0x80)
                return 0;
            code = (code << 6) | (cp[i] & 0x3f);
        }
        cp += need;
        if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
            return 0;
    }
    return 1;
}

int smtpd_cmd_has_8bit(const char *str)
{
    for (const unsigned char *cp = (const unsigned char *) str; *cp; cp++)
        if (*cp >= 0x80)
            return 1;
    return 0;
}

int smtpd_cmd_check(const char *line, size_t len)
{
    int eight = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) line[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return SMTPD_CMD_ERR_CTRL;
        if (c >= 0x80)
            eight = 1;
    }
    if (eight && !smtpd_cmd_utf8_ok(line, len))
        return SMTPD_CMD_ERR_UTF8;
    return SMTPD_CMD_OK;
}

int smtpd_cmd_split(const char *line, VSTRING *verb, const char **rest)
{
    const char *cp = line;
    size_t len;

    vstring_reset(verb);
    *rest = line + strlen(line);
    while (*cp == ' ' || *cp == '\t')
        cp++;
    len = strcspn(cp, " \t");
    if (len == 0 || len > SMTPD_CMD_VERB_MAX)
        return -1;
    for (size_t i = 0; i < len; i++)
        vstring_addch(verb, toupper((unsigned char) cp[i]));
    cp += len;
    while (*cp == ' ' || *cp == '\t')
        cp++;
    *rest = cp;
    return 0;
}

/* ---- parameter lists ---- */

SMTPD_PARAMS *smtpd_params_alloc(void)
{
    SMTPD_PARAMS *params = mycalloc(1, sizeof(*params));

    return params;
}

void smtpd_params_reset(SMTPD_PARAMS *params)
{
    for (int i = 0; i < params->count; i++) {
        myfree(params->name[i]);
        if (params->value[i])
            myfree(params->value[i]);
        params->name[i] = params->value[i] = NULL;
    }
    params->count = 0;
}

void smtpd_params_free(SMTPD_PARAMS *params)
{
    smtpd_params_reset(params);
    myfree(params);
}

int smtpd_params_find(const SMTPD_PARAMS *params, const char *name)
{
    for (int i = 0; i < params->count; i++)
        if (strcasecmp(params->name[i], name) == 0)
            return i;
    return -1;
}

/* smtpd_param_add - parse one "keyword[=value]" word */

static int smtpd_param_add(SMTPD_PARAMS *params, const char *word, size_t len, int flags,
                           VSTRING *why)
{
    const char *eq = memchr(word, '=', len);
    size_t klen = eq ? (size_t) (eq - word) : len;

    /* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
    if (klen == 0 || !isalnum((unsigned char) word[0])) {
        vstring_sprintf(why, "malformed parameter");
        return -1;
    }
    for (size_t i = 0; i < klen; i++) {
        if (!isalnum((unsigned char) word[i]) && word[i] != '-') {
            vstring_sprintf(why, "malformed parameter");
            return -1;
        }
    }
    if (eq) {
        /* esmtp-value = 1*(%d33-60 / %d62-126), UTF-8 with SMTPUTF8 */
        const char *val = eq + 1;
        size_t vlen = len - klen - 1;

        if (vlen == 0) {
            vstring_sprintf(why, "empty parameter value");
            return -1;
        }
        for (size_t i = 0; i < vlen; i++) {
            unsigned char c = (unsigned char) val[i];

            if (c == '=' || c <= ' ' || c == 0x7f || (c >= 0x80 && !(flags & SMTPD_CMD_UTF8))) {
                vstring_sprintf(why, "malformed parameter value");
                return -1;
            }
        }
    }
    if (params->count >= SMTPD_PARAM_MAX) {
        vstring_sprintf(why, "too many parameters");
        return -1;
    }
    char *name = mystrndup(word, klen);

    if (smtpd_params_find(params, name) >= 0) {
        vstring_sprintf(why, "duplicate %s parameter", name);
        myfree(name);
        return -1;
    }
    params->name[params->count] = name;
    params->value[params->count] = eq ? mystrndup(eq + 1, len - klen - 1) : NULL;
    params->count++;
    return 0;
}

int smtpd_cmd_path(const char *args, const char *keyword, int flags, VSTRING *addr,
                   SMTPD_PARAMS *params, VSTRING *why)
{
    size_t klen = strlen(keyword);
    const char *cp = args;
    size_t used;
    int aflags = 0;

    vstring_reset(addr);
    vstring_reset(why);
    smtpd_params_reset(params);
    if (strncasecmp(cp, keyword, klen) != 0)
        return SMTPD_CMD_ERR_SYNTAX;
    cp += klen;
    if (!(flags & SMTPD_CMD_STRICT))
        while (*cp == ' ' || *cp == '\t')
            cp++;
    if (*cp++ != ':')
        return SMTPD_CMD_ERR_SYNTAX;
    if (!(flags & SMTPD_CMD_STRICT))
        while (*cp == ' ' || *cp == '\t')
            cp++;
    if (*cp == 0)
        return SMTPD_CMD_ERR_SYNTAX;

    if (flags & SMTPD_CMD_STRICT)
        aflags |= ADDRESS_STRICT;
    if (flags & SMTPD_CMD_NULL_OK)
        aflags |= ADDRESS_NULL_OK;
    if (flags & SMTPD_CMD_UTF8)
        aflags |= ADDRESS_UTF8;
    if (flags & SMTPD_CMD_POSTMASTER)
        aflags |= ADDRESS_POSTMASTER;
    if (address_parse_path(cp, strlen(cp), aflags, addr, &used, why) < 0)
        return SMTPD_CMD_ERR_ADDR;
    cp += used;
    if (*cp != 0 && *cp != ' ' && *cp != '\t') {
        vstring_strcpy(why, "garbage after the address");
        vstring_reset(addr);
        return SMTPD_CMD_ERR_ADDR;
    }

    for (;;) {
        while (*cp == ' ' || *cp == '\t')
            cp++;
        if (*cp == 0)
            break;
        size_t len = strcspn(cp, " \t");

        if (smtpd_param_add(params, cp, len, flags, why) < 0) {
            smtpd_params_reset(params);
            return SMTPD_CMD_ERR_PARAM;
        }
        cp += len;
    }
    return SMTPD_CMD_OK;
}

/* ---- parameter values ---- */

static int smtpd_cmd_number(const char *value, size_t len, long long *result)
{
    long long n = 0;

    if (len == 0 || len > SMTPD_SIZE_DIGITS_MAX)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (value[i] < '0' || value[i] > '9')
            return -1;
        n = n * 10 + (value[i] - '0');
    }
    *result = n;
    return 0;
}

int smtpd_cmd_size(const char *value, long long *size)
{
    if (value == NULL)
        return -1;
    return smtpd_cmd_number(value, strlen(value), size);
}

int smtpd_cmd_body(const char *value)
{
    if (value == NULL)
        return -1;
    if (strcasecmp(value, "7BIT") == 0)
        return SMTPD_BODY_7BIT;
    if (strcasecmp(value, "8BITMIME") == 0)
        return SMTPD_BODY_8BITMIME;
    return -1;
}

int smtpd_cmd_ret(const char *value)
{
    if (value == NULL)
        return -1;
    if (strcasecmp(value, "FULL") == 0)
        return SMTPD_RET_FULL;
    if (strcasecmp(value, "HDRS") == 0)
        return SMTPD_RET_HDRS;
    return -1;
}

static int smtpd_printable(const char *str, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char) str[i] < 0x20 || (unsigned char) str[i] >= 0x7f)
            return 0;
    return 1;
}

int smtpd_cmd_envid(const char *value, VSTRING *out)
{
    if (value == NULL || smtpd_xtext_decode(out, value, strlen(value)) < 0)
        return -1;
    if (vstring_len(out) == 0 || vstring_len(out) > SMTPD_ENVID_MAX
        || !smtpd_printable(vstring_str(out), vstring_len(out)))
        return -1;
    return 0;
}

int smtpd_cmd_notify(const char *value)
{
    int bits = 0;
    const char *cp = value;

    if (value == NULL || *value == 0)
        return -1;
    if (strcasecmp(value, "NEVER") == 0)
        return DSN_NOTIFY_NEVER;
    while (*cp) {
        size_t len = strcspn(cp, ",");
        int bit;

        if (len == 7 && strncasecmp(cp, "SUCCESS", 7) == 0)
            bit = DSN_NOTIFY_SUCCESS;
        else if (len == 7 && strncasecmp(cp, "FAILURE", 7) == 0)
            bit = DSN_NOTIFY_FAILURE;
        else if (len == 5 && strncasecmp(cp, "DELAY", 5) == 0)
            bit = DSN_NOTIFY_DELAY;
        else
            return -1;
        if (bits & bit)
            return -1;
        bits |= bit;
        cp += len;
        if (*cp == ',') {
            cp++;
            if (*cp == 0)
                return -1;
        }
    }
    return bits;
}

int smtpd_cmd_orcpt(const char *value, VSTRING *out)
{
    const char *semi;
    size_t tlen;

    if (value == NULL || strlen(value) > SMTPD_ORCPT_MAX || (semi = strchr(value, ';')) == NULL)
        return -1;
    tlen = (size_t) (semi - value);
    /* addr-type = atom */
    if (tlen == 0)
        return -1;
    for (size_t i = 0; i < tlen; i++)
        if (!isalnum((unsigned char) value[i]) && value[i] != '-')
            return -1;
    if (tlen == 5 && strncasecmp(value, "utf-8", 5) == 0) {
        /* RFC 6533 utf-8-address: UTF-8 text, no controls, spaces, '+' or '=' */
        const char *addr = semi + 1;
        size_t alen = strlen(addr);

        if (alen == 0 || !smtpd_cmd_utf8_ok(addr, alen))
            return -1;
        for (size_t i = 0; i < alen; i++) {
            unsigned char c = (unsigned char) addr[i];

            if (c <= ' ' || c == 0x7f || c == '+' || c == '=')
                return -1;
        }
        vstring_strcpy(out, addr);
        return 0;
    }
    if (smtpd_xtext_decode(out, semi + 1, strlen(semi + 1)) < 0 || vstring_len(out) == 0)
        return -1;
    if (!smtpd_printable(vstring_str(out), vstring_len(out)))
        return -1;
    return 0;
}

int smtpd_cmd_bdat(const char *args, long long *size, int *last)
{
    const char *cp = args;
    size_t len;

    while (*cp == ' ' || *cp == '\t')
        cp++;
    len = strcspn(cp, " \t");
    if (smtpd_cmd_number(cp, len, size) < 0)
        return -1;
    cp += len;
    while (*cp == ' ' || *cp == '\t')
        cp++;
    *last = 0;
    if (*cp == 0)
        return 0;
    len = strcspn(cp, " \t");
    if (len != 4 || strncasecmp(cp, "LAST", 4) != 0)
        return -1;
    cp += len;
    while (*cp == ' ' || *cp == '\t')
        cp++;
    if (*cp != 0)
        return -1;
    *last = 1;
    return 0;
}

/* ---- xtext ---- */

static int smtpd_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int smtpd_xtext_decode(VSTRING *out, const char *in, size_t len)
{
    vstring_reset(out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) in[i];

        if (c == '+') {
            int hi, lo;

            if (i + 2 >= len)
                return -1;
            hi = smtpd_hexval((unsigned char) in[i + 1]);
            lo = smtpd_hexval((unsigned char) in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            vstring_addch(out, hi * 16 + lo);
            i += 2;
        } else if (c < '!' || c > '~' || c == '=') {
            return -1;
        } else {
            vstring_addch(out, c);
        }
    }
    return 0;
}

void smtpd_xtext_encode(VSTRING *out, const char *in)
{
    static const char hex[] = "0123456789ABCDEF";

    vstring_reset(out);
    for (const unsigned char *cp = (const unsigned char *) in; *cp; cp++) {
        if (*cp < '!' || *cp > '~' || *cp == '+' || *cp == '=') {
            vstring_addch(out, '+');
            vstring_addch(out, hex[*cp >> 4]);
            vstring_addch(out, hex[*cp & 15]);
        } else {
            vstring_addch(out, *cp);
        }
    }
}
