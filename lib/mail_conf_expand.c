/*
 * NAME
 *	mail_conf_expand - expand $name references in parameter values
 * SYNOPSIS
 *	#include "mail_conf.h"
 *
 *	int mail_conf_expand_check(const char *value, VSTRING *out, VSTRING *why)
 *	int mail_conf_eval_param(const char *name, VSTRING *out, VSTRING *why)
 *	const char *mail_conf_default(const char *name)
 * DESCRIPTION
 *	mail_conf_expand_check() replaces out with value after expansion:
 *
 *	$name, ${name}, $(name): the expanded value of the parameter (its
 *	-o or main.cf value, else its default); an unknown name gives the
 *	empty string. Names are made of [A-Za-z0-9_].
 *	${name?text}, ${name?{text}}: text when $name is not empty.
 *	${name:text}, ${name:{text}}: text when $name is empty.
 *	${name?{text1}:{text2}}: text1 when $name is not empty, else text2.
 *	$$: a single "$". A "$" followed by anything else is kept as is.
 *	The chosen text is itself expanded.
 *
 *	mail_conf_eval_param() replaces out with the expanded value of the
 *	parameter name (empty for an unknown name that is not set). The
 *	value of a RAW parameter is returned as set, not expanded.
 *
 *	Both return 0, or -1 with a message in why: a name that refers to
 *	itself through any chain ("parameter NAME: recursion"), nesting
 *	deeper than MAIL_CONF_DEPTH_MAX, a result longer than
 *	MAIL_CONF_VALUE_MAX, more than EXP_STEPS_MAX references in one
 *	expansion (a small main.cf must not make an exponential amount of
 *	work), an unterminated "${" or "$(", or a malformed expression.
 *
 *	mail_conf_default() returns the default text of a registered
 *	parameter, or NULL. Defaults computed at run time are computed from
 *	the other defaults (postconf -d): myhostname from gethostname(),
 *	mydomain from myhostname, mynetworks from mynetworks_style "host".
 *	During expansion the computed defaults follow the configuration
 *	instead: mydomain follows the expanded myhostname, a myhostname
 *	without a dot is completed with $mydomain when mydomain is set, and
 *	mynetworks follows mynetworks_style and inet_protocols.
 */
#include <ctype.h>
#include <string.h>

#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"

#define EXP_STEPS_MAX 100000

typedef struct EXP_CTX {
    const char *stack[MAIL_CONF_DEPTH_MAX]; /* names being expanded */
    int depth;
    long steps;
    VSTRING *why;
} EXP_CTX;

static int exp_text(EXP_CTX *ctx, const char *s, size_t len, VSTRING *out, int level);
static int exp_name(EXP_CTX *ctx, const char *name, VSTRING *out);

static int exp_name_char(int ch)
{
    return isalnum((unsigned char)ch) || ch == '_';
}

static const char *exp_where(EXP_CTX *ctx)
{
    return ctx->depth > 0 ? ctx->stack[0] : "value";
}

static int exp_check_len(EXP_CTX *ctx, VSTRING *out)
{
    if (vstring_len(out) > MAIL_CONF_VALUE_MAX) {
        vstring_sprintf(ctx->why, "parameter %s: value is longer than %d bytes after expansion",
                        exp_where(ctx), MAIL_CONF_VALUE_MAX);
        return -1;
    }
    return 0;
}

/* exp_computed - default computed at run time, following the configuration */
static int exp_computed(EXP_CTX *ctx, const char *name, VSTRING *out)
{
    VSTRING *tmp;
    const char *dot;
    int ret = 0;

    if (strcmp(name, "myhostname") == 0) {
        const char *host = mail_conf_dyn_hostname();

        vstring_strcat(out, host);
        if (strchr(host, '.') == NULL) {
            vstring_addch(out, '.');
            if (mail_conf_lookup("mydomain") != NULL)
                ret = exp_name(ctx, "mydomain", out);
            else
                vstring_strcat(out, "localdomain");
        }
        return ret;
    }
    if (strcmp(name, "mydomain") == 0) {
        tmp = vstring_alloc(100);
        ret = exp_name(ctx, "myhostname", tmp);
        if (ret == 0) {
            dot = strchr(vstring_str(tmp), '.');
            vstring_strcat(out, dot && dot[1] ? dot + 1 : "localdomain");
        }
        vstring_free(tmp);
        return ret;
    }
    if (strcmp(name, "mynetworks") == 0) {
        VSTRING *proto = vstring_alloc(20);
        char *nets;

        tmp = vstring_alloc(20);
        if ((ret = exp_name(ctx, "mynetworks_style", tmp)) == 0 &&
            (ret = exp_name(ctx, "inet_protocols", proto)) == 0) {
            nets = mail_conf_dyn_mynetworks(vstring_str(tmp), vstring_str(proto));
            vstring_strcat(out, nets);
            myfree(nets);
        }
        vstring_free(tmp);
        vstring_free(proto);
        return ret;
    }
    vstring_strcat(out, mail_conf_default(name));
    return 0;
}

/* exp_name - append the expanded value of one parameter */
static int exp_name(EXP_CTX *ctx, const char *name, VSTRING *out)
{
    const MAIL_CONF_PARAM *param;
    const char *raw;
    int ret;

    for (int i = 0; i < ctx->depth; i++) {
        if (strcmp(ctx->stack[i], name) == 0) {
            vstring_sprintf(ctx->why, "parameter %s: recursion", name);
            return -1;
        }
    }
    if (ctx->depth >= MAIL_CONF_DEPTH_MAX) {
        vstring_sprintf(ctx->why, "parameter %s: unreasonable nesting of $name references",
                        exp_where(ctx));
        return -1;
    }
    if (++ctx->steps > EXP_STEPS_MAX) {
        vstring_sprintf(ctx->why, "parameter %s: more than %d $name references in one expansion",
                        exp_where(ctx), EXP_STEPS_MAX);
        return -1;
    }
    ctx->stack[ctx->depth++] = name;
    if ((raw = mail_conf_lookup(name)) != NULL)
        ret = exp_text(ctx, raw, strlen(raw), out, 0);
    else if ((param = mail_conf_param_find(name)) == NULL)
        ret = 0;
    else if (param->defval != NULL)
        ret = exp_text(ctx, param->defval, strlen(param->defval), out, 0);
    else
        ret = exp_computed(ctx, name, out);
    ctx->depth--;
    return ret == 0 ? exp_check_len(ctx, out) : ret;
}

/* exp_group - find the "}" that closes the "{" at s[0]; return its offset or -1 */
static long exp_group(const char *s, size_t len, int open, int close)
{
    int nest = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == open)
            nest++;
        else if (s[i] == close && --nest == 0)
            return (long)i;
    }
    return -1;
}

static void exp_trim(const char **s, size_t *len)
{
    while (*len > 0 && isspace((unsigned char)**s))
        (*s)++, (*len)--;
    while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

/* exp_cond - ${name?text}, ${name:text}, ${name?{text1}:{text2}} */
static int exp_cond(EXP_CTX *ctx, const char *name, int op, const char *text, size_t len,
                    VSTRING *out, int level)
{
    const char *t1 = text, *t2 = NULL;
    size_t l1 = len, l2 = 0;
    const char *t = text;
    size_t l = len;
    VSTRING *val;
    int nonempty;
    int ret;

    exp_trim(&t, &l);
    if (l > 0 && *t == '{') {
        long close = exp_group(t, l, '{', '}');
        const char *rest;
        size_t rlen;

        if (close < 0)
            goto bad;
        t1 = t + 1;
        l1 = (size_t)close - 1;
        rest = t + close + 1;
        rlen = l - (size_t)close - 1;
        exp_trim(&rest, &rlen);
        if (rlen > 0) {
            if (op != '?' || *rest != ':')
                goto bad;
            rest++, rlen--;
            exp_trim(&rest, &rlen);
            if (rlen < 2 || *rest != '{' || exp_group(rest, rlen, '{', '}') != (long)rlen - 1)
                goto bad;
            t2 = rest + 1;
            l2 = rlen - 2;
        }
    }
    val = vstring_alloc(100);
    ret = exp_name(ctx, name, val);
    nonempty = vstring_len(val) > 0;
    vstring_free(val);
    if (ret < 0)
        return -1;
    if (op == '?' && nonempty)
        return exp_text(ctx, t1, l1, out, level + 1);
    if (op == '?' && t2)
        return exp_text(ctx, t2, l2, out, level + 1);
    if (op == ':' && !nonempty)
        return exp_text(ctx, t1, l1, out, level + 1);
    return 0;

bad:
    vstring_sprintf(ctx->why, "parameter %s: bad conditional expression: \"%.*s\"", exp_where(ctx),
                    (int)(len > 100 ? 100 : len), text);
    return -1;
}

/* exp_text - append the expansion of s[0..len) */
static int exp_text(EXP_CTX *ctx, const char *s, size_t len, VSTRING *out, int level)
{
    char name[MAIL_CONF_NAME_MAX + 1];
    size_t i = 0;

    if (level > MAIL_CONF_DEPTH_MAX) {
        vstring_sprintf(ctx->why, "parameter %s: unreasonable nesting of conditional expressions",
                        exp_where(ctx));
        return -1;
    }
    while (i < len) {
        const char *dollar = memchr(s + i, '$', len - i);
        size_t n;

        if (dollar == NULL) {
            vstring_memcat(out, s + i, len - i);
            break;
        }
        vstring_memcat(out, s + i, (size_t)(dollar - (s + i)));
        i = (size_t)(dollar - s);
        if (i + 1 >= len ||
            !(s[i + 1] == '$' || s[i + 1] == '{' || s[i + 1] == '(' || exp_name_char(s[i + 1]))) {
            vstring_addch(out, '$');
            i++;
            continue;
        }
        if (s[i + 1] == '$') {
            vstring_addch(out, '$');
            i += 2;
            continue;
        }
        if (exp_name_char(s[i + 1])) {
            for (n = 0; i + 1 + n < len && exp_name_char(s[i + 1 + n]); n++)
                /* void */;
            if (n > MAIL_CONF_NAME_MAX) {
                vstring_sprintf(ctx->why, "parameter %s: parameter name is too long: \"%.50s...\"",
                                exp_where(ctx), s + i + 1);
                return -1;
            }
            memcpy(name, s + i + 1, n);
            name[n] = 0;
            if (exp_name(ctx, name, out) < 0)
                return -1;
            i += 1 + n;
            continue;
        } else {
            int open = s[i + 1];
            int close = open == '{' ? '}' : ')';
            long end = exp_group(s + i + 1, len - i - 1, open, close);
            const char *inner = s + i + 2;
            size_t ilen;

            if (end < 0) {
                vstring_sprintf(ctx->why, "parameter %s: missing '%c' in \"%.*s\"", exp_where(ctx),
                                close, (int)(len - i > 100 ? 100 : len - i), s + i);
                return -1;
            }
            ilen = (size_t)end - 1;
            for (n = 0; n < ilen && exp_name_char(inner[n]); n++)
                /* void */;
            if (n == 0 || n > MAIL_CONF_NAME_MAX ||
                (n < ilen && inner[n] != '?' && inner[n] != ':')) {
                vstring_sprintf(ctx->why, "parameter %s: bad parameter name in \"%.*s\"",
                                exp_where(ctx), (int)(ilen + 3 > 100 ? 100 : ilen + 3), s + i);
                return -1;
            }
            memcpy(name, inner, n);
            name[n] = 0;
            if (n == ilen) {
                if (exp_name(ctx, name, out) < 0)
                    return -1;
            } else if (exp_cond(ctx, name, inner[n], inner + n + 1, ilen - n - 1, out, level) < 0) {
                return -1;
            }
            i += 1 + (size_t)end + 1;
        }
        if (exp_check_len(ctx, out) < 0)
            return -1;
    }
    return exp_check_len(ctx, out);
}

int mail_conf_expand_check(const char *value, VSTRING *out, VSTRING *why)
{
    EXP_CTX ctx;

    ctx.depth = 0;
    ctx.steps = 0;
    ctx.why = why;
    vstring_reset(out);
    return exp_text(&ctx, value, strlen(value), out, 0);
}

int mail_conf_eval_param(const char *name, VSTRING *out, VSTRING *why)
{
    const MAIL_CONF_PARAM *param = mail_conf_param_find(name);
    const char *raw;
    EXP_CTX ctx;

    if (param && param->type == MAIL_CONF_TYPE_RAW) {
        raw = mail_conf_lookup(name);
        vstring_strcpy(out, raw ? raw : param->defval ? param->defval : "");
        return 0;
    }

    ctx.depth = 0;
    ctx.steps = 0;
    ctx.why = why;
    vstring_reset(out);
    return exp_name(&ctx, name, out);
}

const char *mail_conf_default(const char *name)
{
    static char *hostname;
    static char *domain;
    static char *networks;
    const MAIL_CONF_PARAM *param = mail_conf_param_find(name);
    const char *dot;

    if (param == NULL)
        return NULL;
    if (param->defval != NULL)
        return param->defval;
    if (hostname == NULL) {
        const char *host = mail_conf_dyn_hostname();
        VSTRING *buf = vstring_alloc(100);

        vstring_strcpy(buf, host);
        if (strchr(host, '.') == NULL)
            vstring_strcat(buf, ".localdomain");
        hostname = vstring_export(buf);
        dot = strchr(hostname, '.');
        domain = mystrdup(dot && dot[1] ? dot + 1 : "localdomain");
    }
    if (strcmp(name, "myhostname") == 0)
        return hostname;
    if (strcmp(name, "mydomain") == 0)
        return domain;
    if (strcmp(name, "mynetworks") == 0) {
        if (networks == NULL)
            networks = mail_conf_dyn_mynetworks("host", "all");
        return networks;
    }
    return "";
}
