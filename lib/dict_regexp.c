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
 */
#include <regex.h>
#include <string.h>

#include "dict.h"
#include "mymalloc.h"

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
