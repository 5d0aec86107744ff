/*
 * NAME
 *	dict_regexp - POSIX regular expression tables
 * SYNOPSIS
 *	#include "dict.h"
 *
 *	const DICT_PAT_OPS dict_regexp_ops
 * DESCRIPTION
 *	The matcher behind "regexp:FILE" tables (see dict_pattern(3) for
 *	the file format). Patterns are compiled with regcomp(3). Flags
 *	toggle the defaults: "i" case-insensitive matching (on by default),
 *	"x" extended syntax (on by default), "m" newline-sensitive matching
 *	(off by default). Any other flag letter is an error.
 *
 *	Before regcomp(3) sees a pattern, its compiled size is estimated
 *	the way the C library expands repetition (x+ is xx*, x{n} is n
 *	copies of x): a pattern that would expand past
 *	DICT_REGEXP_MAX_NODES nodes, that repeats more than
 *	DICT_REGEXP_MAX_REPEAT times, or that puts two repetition
 *	operators in a row (undefined in POSIX) is refused, so a table
 *	line cannot make a process run out of memory.
 */
#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "mymalloc.h"

#define DICT_REGEXP_MAX_NODES 50000.0
#define DICT_REGEXP_MAX_REPEAT 1000
#define DICT_REGEXP_MAX_DEPTH 64

typedef struct DICT_REGEXP_COST {
    double alts;   /* size of the finished alternatives */
    double seq;    /* size of the current alternative */
    double last;   /* size of the last atom (0: none) */
} DICT_REGEXP_COST;

/* dict_regexp_bracket - skip a bracket expression; returns the byte after it */
static const char *dict_regexp_bracket(const char *cp)
{
    cp++;
    if (*cp == '^')
        cp++;
    if (*cp == ']')
        cp++;
    while (*cp && *cp != ']') {
        if (*cp == '[' && (cp[1] == ':' || cp[1] == '.' || cp[1] == '=')) {
            const char *end = strstr(cp + 2, cp[1] == ':' ? ":]" : cp[1] == '.' ? ".]" : "=]");

            cp = end ? end + 2 : cp + strlen(cp);
            continue;
        }
        cp++;
    }
    return *cp ? cp + 1 : cp;
}

/* dict_regexp_check - refuse patterns whose compiled form would explode */
static int dict_regexp_check(const char *pattern, int extended, VSTRING *why)
{
    DICT_REGEXP_COST stack[DICT_REGEXP_MAX_DEPTH + 1];
    DICT_REGEXP_COST *cur = stack;
    const char *cp = pattern;
    int depth = 0, was_repeat = 0;

    memset(cur, 0, sizeof(*cur));
    while (*cp) {
        int open = 0, close = 0, alt = 0, repeat = 0;
        double count = 0;

        if (*cp == '\\' && cp[1]) {
            char c = cp[1];

            cp += 2;
            if (!extended && c == '(')
                open = 1;
            else if (!extended && c == ')')
                close = 1;
            else if (!extended && c == '|')
                alt = 1;
            else if (!extended && (c == '+' || c == '?'))
                repeat = c;
            else if (!extended && c == '{')
                repeat = '{';
        } else if (*cp == '[') {
            cp = dict_regexp_bracket(cp);
        } else {
            char c = *cp++;

            if (c == '*')
                repeat = '*';
            else if (extended && c == '(')
                open = 1;
            else if (extended && c == ')')
                close = 1;
            else if (extended && c == '|')
                alt = 1;
            else if (extended && (c == '+' || c == '?'))
                repeat = c;
            else if (extended && c == '{')
                repeat = '{';
        }
        if (repeat == '{') {
            char *end;
            long lo = strtol(cp, &end, 10), hi = lo;

            if (end == cp) { /* not an interval: a literal brace */
                repeat = 0;
            } else {
                cp = end;
                if (*cp == ',') {
                    cp++;
                    hi = isdigit((unsigned char) *cp) ? strtol(cp, &end, 10) : lo + 1;
                    cp = end > cp ? end : cp;
                }
                if (lo > DICT_REGEXP_MAX_REPEAT || hi > DICT_REGEXP_MAX_REPEAT) {
                    vstring_sprintf(why, "repetition count over %d in /%s/",
                                    DICT_REGEXP_MAX_REPEAT, pattern);
                    return -1;
                }
                count = (double) (hi > lo ? hi : lo);
                if (!extended && *cp == '\\')
                    cp++;
                if (*cp == '}')
                    cp++;
            }
        }
        if (repeat && cur->last > 0) {
            if (was_repeat) {
                vstring_sprintf(why, "two repetition operators in a row in /%s/", pattern);
                return -1;
            }
            if (repeat == '+')
                count = 2;
            else if (repeat == '*' || repeat == '?')
                count = 1;
            cur->seq += cur->last * (count > 1 ? count - 1 : 0) + 1;
            cur->last = cur->last * (count > 1 ? count : 1) + 1;
            was_repeat = 1;
        } else if (open) {
            if (depth >= DICT_REGEXP_MAX_DEPTH) {
                vstring_sprintf(why, "groups nested too deeply in /%s/", pattern);
                return -1;
            }
            cur = &stack[++depth];
            memset(cur, 0, sizeof(*cur));
            was_repeat = 0;
        } else if (close && depth > 0) {
            double size = cur->alts + cur->seq + 1;

            cur = &stack[--depth];
            cur->seq += size;
            cur->last = size;
            was_repeat = 0;
        } else if (alt) {
            cur->alts += cur->seq + 1;
            cur->seq = cur->last = 0;
            was_repeat = 0;
        } else {
            cur->seq += 1;
            cur->last = 1;
            was_repeat = 0;
        }
        if (cur->alts + cur->seq > DICT_REGEXP_MAX_NODES
            || cur->last > DICT_REGEXP_MAX_NODES) {
            vstring_sprintf(why, "regular expression too complex: /%s/", pattern);
            return -1;
        }
    }
    while (depth > 0) { /* unclosed groups: regcomp() will say so */
        double size = cur->alts + cur->seq + 1;

        cur = &stack[--depth];
        cur->seq += size;
    }
    if (cur->alts + cur->seq > DICT_REGEXP_MAX_NODES) {
        vstring_sprintf(why, "regular expression too complex: /%s/", pattern);
        return -1;
    }
    return 0;
}

static void *dict_regexp_compile(const char *pattern, const char *flags, int *ngroups,
                                 VSTRING *why)
{
    int cflags = REG_ICASE | REG_EXTENDED;
    regex_t *re;
    int err;

    for (const char *cp = flags; *cp; cp++) {
        switch (*cp) {
        case 'i':
            cflags ^= REG_ICASE;
            break;
        case 'x':
            cflags ^= REG_EXTENDED;
            break;
        case 'm':
            cflags ^= REG_NEWLINE;
            break;
        default:
            vstring_sprintf(why, "unknown regexp flag '%c'", *cp);
            return NULL;
        }
    }
    if (dict_regexp_check(pattern, (cflags & REG_EXTENDED) != 0, why) < 0)
        return NULL;
    re = mymalloc(sizeof(*re));
    if ((err = regcomp(re, pattern, cflags)) != 0) {
        char buf[256];

        regerror(err, re, buf, sizeof(buf));
        vstring_sprintf(why, "bad regular expression /%s/: %s", pattern, buf);
        myfree(re);
        return NULL;
    }
    *ngroups = (int) re->re_nsub;
    return re;
}

static int dict_regexp_match(void *compiled, const char *key, void *prepared, long *offsets,
                             int ngroups, VSTRING *why)
{
    regmatch_t pmatch[DICT_PAT_MAX_GROUPS];
    int err;

    (void) prepared;
    if (ngroups >= DICT_PAT_MAX_GROUPS)
        ngroups = DICT_PAT_MAX_GROUPS - 1;
    err = regexec((regex_t *) compiled, key, (size_t) ngroups + 1, pmatch, 0);
    if (err == REG_NOMATCH)
        return 0;
    if (err != 0) {
        char buf[256];

        regerror(err, (regex_t *) compiled, buf, sizeof(buf));
        vstring_sprintf(why, "regexec: %s", buf);
        return -1;
    }
    for (int i = 0; i <= ngroups; i++) {
        offsets[2 * i] = pmatch[i].rm_so;
        offsets[2 * i + 1] = pmatch[i].rm_eo;
    }
    return 1;
}

static void dict_regexp_release(void *compiled)
{
    regfree((regex_t *) compiled);
    myfree(compiled);
}

const DICT_PAT_OPS dict_regexp_ops = {
    .delimited = 1,
    .compile = dict_regexp_compile,
    .prepare = NULL,
    .match = dict_regexp_match,
    .release = dict_regexp_release,
    .release_key = NULL,
};
