/*
 * NAME
 *	dict_pattern - the rule engine of regexp, pcre and cidr tables
 * SYNOPSIS
 *	#include "dict.h"
 *
 *	DICT *dict_pattern_open(const char *type, const char *name,
 *			DICT_SRC *src, int open_flags, int dict_flags,
 *			const DICT_PAT_OPS *ops)
 *	const DICT_PAT_OPS *dict_pattern_ops(const char *type)
 *	DICT *dict_pattern_text(const char *type, const char *text,
 *			size_t len, int dict_flags)
 * DESCRIPTION
 *	A pattern table is a list of rules read from src (see dict_src(3)
 *	for comments and continuation lines), tried in order:
 *
 *	pattern result
 *		when the key matches, the answer is result;
 *	!pattern result
 *		when the key does not match, the answer is result;
 *	if pattern (or if !pattern) ... endif
 *		the rules inside are tried only when the key matches
 *		(does not match); blocks nest.
 *
 *	With ops->delimited a pattern is "/text/flags": the first byte is
 *	the delimiter (any byte but a blank, a backslash or '!'), the text
 *	runs to the next delimiter not escaped by a backslash, and flags
 *	are letters up to white space. Otherwise a pattern is one word.
 *
 *	In a result, "$N", "${N}" and "$(N)" (N from 1 to 99) stand for
 *	the text matched by capture group N (empty when the group took no
 *	part), and "$$" for a dollar sign. A group number beyond the
 *	pattern's groups, "$" before anything else, or a substitution in
 *	the result of a negated pattern is an error.
 *
 *	Any error in the file (bad pattern, unknown flag, missing result,
 *	unbalanced if/endif) makes the whole table fail: it is opened as a
 *	surrogate whose lookups return DICT_STAT_ERROR with "FILE:LINE:
 *	reason", so mail is deferred rather than routed by half a table.
 *	The error is logged once at open time.
 *
 *	A matcher may answer DICT_PAT_NOT_APPLICABLE (cidr: an IPv6 key
 *	and an IPv4 rule): the rule then neither matches nor, negated,
 *	matches, and an "if" block is skipped.
 *
 *	dict_pattern_ops() returns the matcher of "regexp", "pcre" or
 *	"cidr". dict_pattern_text() builds such a table from memory.
 */
#include <ctype.h>
#include <fcntl.h>
#include <string.h>

#include "dict.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

#define DICT_PAT_MATCH 0
#define DICT_PAT_IF 1
#define DICT_PAT_ENDIF 2

typedef struct DICT_PAT_RULE {
    int kind;
    int negate;
    int lineno;
    int ngroups;
    void *compiled;
    char *result;   /* DICT_PAT_MATCH only */
    int endif;      /* DICT_PAT_IF: index of the matching endif */
} DICT_PAT_RULE;

typedef struct DICT_PAT {
    DICT dict;
    const DICT_PAT_OPS *ops;
    DICT_PAT_RULE *rules;
    int count;
    VSTRING *result;
} DICT_PAT;

/* dict_pattern_expand - substitute $N in a rule's result */
static void dict_pattern_expand(VSTRING *out, const char *result, const char *key,
                                const long *offsets)
{
    const char *cp = result;

    vstring_reset(out);
    while (*cp) {
        int group = 0;

        if (*cp != '$') {
            vstring_addch(out, *cp++);
            continue;
        }
        cp++;
        if (*cp == '$') {
            vstring_addch(out, '$');
            cp++;
            continue;
        }
        char close = *cp == '{' ? '}' : *cp == '(' ? ')' : 0;

        if (close)
            cp++;
        while (isdigit((unsigned char) *cp))
            group = group * 10 + (*cp++ - '0');
        if (close && *cp == close)
            cp++;
        if (offsets[2 * group] >= 0 && offsets[2 * group + 1] >= offsets[2 * group])
            vstring_memcat(out, key + offsets[2 * group],
                           (size_t) (offsets[2 * group + 1] - offsets[2 * group]));
    }
}

/* dict_pattern_check_result - validate $ sequences; returns 1 if any $N */
static int dict_pattern_check_result(const char *result, int ngroups, VSTRING *why)
{
    const char *cp = result;
    int uses = 0;

    while ((cp = strchr(cp, '$')) != NULL) {
        int group = 0, digits = 0;
        char close = 0;

        cp++;
        if (*cp == '$') {
            cp++;
            continue;
        }
        if (*cp == '{')
            close = '}';
        else if (*cp == '(')
            close = ')';
        if (close)
            cp++;
        while (isdigit((unsigned char) *cp) && digits < 3) {
            group = group * 10 + (*cp++ - '0');
            digits++;
        }
        if (digits == 0 || digits > 2 || group == 0) {
            vstring_strcpy(why, "invalid '$' in result: use $N, ${N}, $(N) with N in 1..99, or $$");
            return -1;
        }
        if (close) {
            if (*cp != close) {
                vstring_sprintf(why, "missing '%c' in result", close);
                return -1;
            }
            cp++;
        }
        if (group > ngroups) {
            vstring_sprintf(why, "out-of-range '$%d' in result: the pattern has %d group%s", group,
                            ngroups, ngroups == 1 ? "" : "s");
            return -1;
        }
        uses = 1;
    }
    return uses;
}

/*
 * dict_pattern_parse_pat - take the pattern from *cpp; returns the
 * pattern text and flags (in buffers), advancing *cpp past them.
 */
static int dict_pattern_parse_pat(const DICT_PAT_OPS *ops, char **cpp, VSTRING *pat,
                                  VSTRING *flags, VSTRING *why)
{
    char *cp = *cpp;

    vstring_reset(pat);
    vstring_reset(flags);
    if (!ops->delimited) {
        char *start = cp;

        while (*cp && !isspace((unsigned char) *cp))
            cp++;
        if (cp == start) {
            vstring_strcpy(why, "missing pattern");
            return -1;
        }
        vstring_strncpy(pat, start, (size_t) (cp - start));
    } else {
        char delim = *cp;

        if (delim == 0 || isspace((unsigned char) delim) || delim == '\\' || delim == '!'
            || isalnum((unsigned char) delim)) {
            vstring_strcpy(why, "expected /pattern/ (a pattern must start with a delimiter such as '/')");
            return -1;
        }
        cp++;
        while (*cp && *cp != delim) {
            if (*cp == '\\' && cp[1] == delim) {
                if (delim != '/')
                    cp++; /* an escaped custom delimiter is that byte */
                else
                    vstring_addch(pat, *cp++);
            } else if (*cp == '\\' && cp[1]) {
                vstring_addch(pat, *cp++);
            }
            vstring_addch(pat, *cp++);
        }
        if (*cp != delim) {
            vstring_sprintf(why, "missing closing '%c' after pattern", delim);
            return -1;
        }
        cp++;
        while (*cp && !isspace((unsigned char) *cp))
            vstring_addch(flags, *cp++);
    }
    *cpp = cp;
    return 0;
}

static void dict_pattern_free_rules(DICT_PAT *dp)
{
    for (int i = 0; i < dp->count; i++) {
        if (dp->rules[i].compiled)
            dp->ops->release(dp->rules[i].compiled);
        myfree(dp->rules[i].result);
    }
    myfree(dp->rules);
    dp->rules = NULL;
    dp->count = 0;
}

/* dict_pattern_add - parse one logical line into a rule; 0 or -1 with why */
static int dict_pattern_add(DICT_PAT *dp, char *line, int lineno, int *stack, int *depth,
                            VSTRING *pat, VSTRING *flags, VSTRING *why)
{
    DICT_PAT_RULE rule;
    char *cp = line;
    int uses;

    memset(&rule, 0, sizeof(rule));
    rule.lineno = lineno;
    rule.endif = -1;
    if (strncasecmp(cp, "endif", 5) == 0 && (cp[5] == 0 || isspace((unsigned char) cp[5]))) {
        cp += 5;
        while (isspace((unsigned char) *cp))
            cp++;
        if (*cp) {
            vstring_strcpy(why, "ignoring text after \"endif\"");
            return -1;
        }
        if (*depth == 0) {
            vstring_strcpy(why, "\"endif\" without \"if\"");
            return -1;
        }
        rule.kind = DICT_PAT_ENDIF;
        dp->rules[stack[--(*depth)]].endif = dp->count;
    } else {
        if (strncasecmp(cp, "if", 2) == 0 && isspace((unsigned char) cp[2])) {
            rule.kind = DICT_PAT_IF;
            cp += 2;
            while (isspace((unsigned char) *cp))
                cp++;
        } else {
            rule.kind = DICT_PAT_MATCH;
        }
        if (*cp == '!') {
            rule.negate = 1;
            cp++;
        }
        if (dict_pattern_parse_pat(dp->ops, &cp, pat, flags, why) < 0)
            return -1;
        while (isspace((unsigned char) *cp))
            cp++;
        if (rule.kind == DICT_PAT_IF && *cp) {
            vstring_strcpy(why, "ignoring text after \"if\" pattern");
            return -1;
        }
        if (rule.kind == DICT_PAT_MATCH && *cp == 0) {
            vstring_strcpy(why, "missing result after pattern");
            return -1;
        }
        rule.compiled = dp->ops->compile(vstring_str(pat), vstring_str(flags), &rule.ngroups, why);
        if (rule.compiled == NULL)
            return -1;
        if (rule.ngroups >= DICT_PAT_MAX_GROUPS)
            rule.ngroups = DICT_PAT_MAX_GROUPS - 1;
        if (rule.kind == DICT_PAT_MATCH) {
            if ((uses = dict_pattern_check_result(cp, rule.ngroups, why)) < 0
                || (uses && rule.negate)) {
                if (uses > 0)
                    vstring_strcpy(why, "$N substitution in the result of a negated pattern");
                dp->ops->release(rule.compiled);
                return -1;
            }
            rule.result = mystrdup(cp);
        }
        if (rule.kind == DICT_PAT_IF) {
            if (*depth >= 100) {
                dp->ops->release(rule.compiled);
                vstring_strcpy(why, "\"if\" blocks nested too deeply");
                return -1;
            }
            stack[(*depth)++] = dp->count;
        }
    }
    dp->rules = myrealloc(dp->rules, sizeof(*dp->rules) * (size_t) (dp->count + 1));
    dp->rules[dp->count++] = rule;
    return 0;
}

static int dict_pattern_get(DICT *dict, const char *key, const char **value)
{
    DICT_PAT *dp = (DICT_PAT *) dict;
    long offsets[2 * DICT_PAT_MAX_GROUPS];
    void *prepared = NULL;
    int ret = DICT_STAT_NOTFOUND;

    if (dp->ops->prepare && (prepared = dp->ops->prepare(key)) == NULL)
        return DICT_STAT_NOTFOUND;
    for (int i = 0; i < dp->count; i++) {
        DICT_PAT_RULE *rule = dp->rules + i;
        int status;

        if (rule->kind == DICT_PAT_ENDIF)
            continue;
        for (int g = 0; g < 2 * (rule->ngroups + 1); g++)
            offsets[g] = -1;
        status = dp->ops->match(rule->compiled, key, prepared, offsets, rule->ngroups, dict->why);
        if (status < 0) {
            VSTRING *tmp = vstring_alloc(100);

            vstring_sprintf(tmp, "%s:%s:%d: %s", dict->type, dict->name, rule->lineno,
                            vstring_str(dict->why));
            vstring_strcpy(dict->why, vstring_str(tmp));
            vstring_free(tmp);
            ret = DICT_STAT_ERROR;
            break;
        }
        if (status == DICT_PAT_NOT_APPLICABLE) {
            if (rule->kind == DICT_PAT_IF)
                i = rule->endif;
        } else if (status != rule->negate) {
            if (rule->kind == DICT_PAT_MATCH) {
                dict_pattern_expand(dp->result, rule->result, key, offsets);
                *value = vstring_str(dp->result);
                ret = DICT_STAT_FOUND;
                break;
            }
        } else if (rule->kind == DICT_PAT_IF) {
            i = rule->endif;
        }
    }
    if (prepared && dp->ops->release_key)
        dp->ops->release_key(prepared);
    return ret;
}

static void dict_pattern_close(DICT *dict)
{
    DICT_PAT *dp = (DICT_PAT *) dict;

    dict_pattern_free_rules(dp);
    vstring_free(dp->result);
}

DICT *dict_pattern_open(const char *type, const char *name, DICT_SRC *src, int open_flags,
                        int dict_flags, const DICT_PAT_OPS *ops)
{
    VSTRING *line = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    VSTRING *pat = vstring_alloc(100);
    VSTRING *flags = vstring_alloc(10);
    int stack[100];
    int depth = 0;
    int lineno, status;
    DICT_PAT *dp;
    DICT *dict;

    if ((open_flags & O_ACCMODE) != O_RDONLY) {
        dict = dict_surrogate(type, name, open_flags, dict_flags, "%s:%s: table is read-only",
                              type, name);
        goto out;
    }
    dp = (DICT_PAT *) dict_alloc(type, name, sizeof(*dp), open_flags,
                                 (dict_flags | DICT_FLAG_PATTERN) & ~DICT_FLAG_FIXED);
    dp->ops = ops;
    dp->result = vstring_alloc(100);
    dp->dict.get = dict_pattern_get;
    dp->dict.close = dict_pattern_close;
    dict = &dp->dict;
    while ((status = dict_src_next(src, line, &lineno, why)) > 0) {
        if (dict_pattern_add(dp, vstring_str(line), lineno, stack, &depth, pat, flags, why) < 0) {
            vstring_sprintf(line, "%s:%d: %s", dict_src_name(src), lineno, vstring_str(why));
            vstring_strcpy(why, vstring_str(line));
            status = -1;
            break;
        }
    }
    if (status == 0 && depth > 0) {
        vstring_sprintf(why, "%s:%d: \"if\" without \"endif\"", dict_src_name(src),
                        dp->rules[stack[depth - 1]].lineno);
        status = -1;
    }
    if (status < 0) {
        dict_close(dict);
        dict = dict_surrogate(type, name, open_flags, dict_flags, "%s", vstring_str(why));
    }
out:
    vstring_free(line);
    vstring_free(why);
    vstring_free(pat);
    vstring_free(flags);
    return dict;
}

const DICT_PAT_OPS *dict_pattern_ops(const char *type)
{
    if (strcmp(type, "regexp") == 0)
        return &dict_regexp_ops;
    if (strcmp(type, "pcre") == 0)
        return &dict_pcre_ops;
    if (strcmp(type, "cidr") == 0)
        return &dict_cidr_ops;
    return NULL;
}

DICT *dict_pattern_text(const char *type, const char *text, size_t len, int dict_flags)
{
    const DICT_PAT_OPS *ops = dict_pattern_ops(type);
    DICT_SRC *src;
    DICT *dict;

    if (ops == NULL)
        return dict_surrogate(type, "(text)", O_RDONLY, dict_flags,
                              "%s: not a pattern table type", type);
    src = dict_src_text(text, len, "(text)");
    dict = dict_pattern_open(type, "(text)", src, O_RDONLY, dict_flags, ops);
    dict_src_close(src);
    return dict;
}

/* the open functions of the three types */

static DICT *dict_pattern_file(const char *type, const char *name, int open_flags, int dict_flags)
{
    VSTRING *why = vstring_alloc(100);
    DICT_SRC *src = dict_src_open(name, why);
    DICT *dict;

    if (src == NULL)
        dict = dict_surrogate(type, name, open_flags, dict_flags, "%s", vstring_str(why));
    else
        dict = dict_pattern_open(type, name, src, open_flags, dict_flags, dict_pattern_ops(type));
    dict_src_close(src);
    vstring_free(why);
    return dict;
}

DICT *dict_regexp_open(const char *type, const char *name, const char *path, int open_flags,
                       int dict_flags)
{
    (void) path;
    return dict_pattern_file(type, name, open_flags, dict_flags);
}

DICT *dict_pcre_open(const char *type, const char *name, const char *path, int open_flags,
                     int dict_flags)
{
    (void) path;
    return dict_pattern_file(type, name, open_flags, dict_flags);
}

DICT *dict_cidr_open(const char *type, const char *name, const char *path, int open_flags,
                     int dict_flags)
{
    (void) path;
    return dict_pattern_file(type, name, open_flags, dict_flags);
}
