/*
 * NAME
 *	dict_pcre - PCRE2 regular expression tables
 * SYNOPSIS
 *	#include "dict.h"
 *
 *	const DICT_PAT_OPS dict_pcre_ops
 * DESCRIPTION
 *	The matcher behind "pcre:FILE" tables (see dict_pattern(3) for the
 *	file format), using PCRE2 (8-bit). Flags: "i" toggles
 *	case-insensitive matching (on by default); "m" multi-line, "s" dot
 *	matches newline, "x" extended syntax, "A" anchored, "E" dollar
 *	matches only at the end, "U" ungreedy quantifiers; "X" is accepted
 *	and ignored (PCRE2 has no such option). Any other flag is an error.
 *
 *	Each match is bounded by PCRE2's match and depth limits (set to
 *	DICT_PCRE_MATCH_LIMIT); a pattern that runs into them gives
 *	DICT_STAT_ERROR, never a silent miss.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "dict.h"
#include "mymalloc.h"

#define DICT_PCRE_MATCH_LIMIT 1000000
#define DICT_PCRE_DEPTH_LIMIT 10000

typedef struct DICT_PCRE_RE {
    pcre2_code *code;
    pcre2_match_data *data;
    pcre2_match_context *context;
} DICT_PCRE_RE;

static void *dict_pcre_compile(const char *pattern, const char *flags, int *ngroups, VSTRING *why)
{
    uint32_t options = PCRE2_CASELESS;
    DICT_PCRE_RE *re;
    PCRE2_SIZE erroff;
    uint32_t count;
    int err;

    for (const char *cp = flags; *cp; cp++) {
        switch (*cp) {
        case 'i':
            options ^= PCRE2_CASELESS;
            break;
        case 'm':
            options ^= PCRE2_MULTILINE;
            break;
        case 's':
            options ^= PCRE2_DOTALL;
            break;
        case 'x':
            options ^= PCRE2_EXTENDED;
            break;
        case 'A':
            options ^= PCRE2_ANCHORED;
            break;
        case 'E':
            options ^= PCRE2_DOLLAR_ENDONLY;
            break;
        case 'U':
            options ^= PCRE2_UNGREEDY;
            break;
        case 'X':
            break;
        default:
            vstring_sprintf(why, "unknown pcre flag '%c'", *cp);
            return NULL;
        }
    }
    re = mycalloc(1, sizeof(*re));
    re->code = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED, options, &err, &erroff,
                             NULL);
    if (re->code == NULL) {
        PCRE2_UCHAR buf[256];

        pcre2_get_error_message(err, buf, sizeof(buf));
        vstring_sprintf(why, "bad regular expression /%s/ at offset %lu: %s", pattern,
                        (unsigned long) erroff, (char *) buf);
        myfree(re);
        return NULL;
    }
    if (pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &count) != 0)
        count = 0;
    *ngroups = count >= DICT_PAT_MAX_GROUPS ? DICT_PAT_MAX_GROUPS - 1 : (int) count;
    re->data = pcre2_match_data_create_from_pattern(re->code, NULL);
    re->context = pcre2_match_context_create(NULL);
    if (re->data == NULL || re->context == NULL) {
        vstring_strcpy(why, "out of memory for pcre match data");
        if (re->data)
            pcre2_match_data_free(re->data);
        if (re->context)
            pcre2_match_context_free(re->context);
        pcre2_code_free(re->code);
        myfree(re);
        return NULL;
    }
    pcre2_set_match_limit(re->context, DICT_PCRE_MATCH_LIMIT);
    pcre2_set_depth_limit(re->context, DICT_PCRE_DEPTH_LIMIT);
    return re;
}

static int dict_pcre_match(void *compiled, const char *key, void *prepared, long *offsets,
                           int ngroups, VSTRING *why)
{
    DICT_PCRE_RE *re = compiled;
    PCRE2_SIZE *ovector;
    uint32_t pairs;
    int rc;

    (void) prepared;
    rc = pcre2_match(re->code, (PCRE2_SPTR) key, strlen(key), 0, 0, re->data, re->context);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0) {
        PCRE2_UCHAR buf[256];

        pcre2_get_error_message(rc, buf, sizeof(buf));
        vstring_sprintf(why, "pcre match error: %s", (char *) buf);
        return -1;
    }
    ovector = pcre2_get_ovector_pointer(re->data);
    pairs = pcre2_get_ovector_count(re->data);
    for (int i = 0; i <= ngroups && (uint32_t) i < pairs; i++) {
        if (ovector[2 * i] == PCRE2_UNSET || ovector[2 * i + 1] < ovector[2 * i])
            continue;
        offsets[2 * i] = (long) ovector[2 * i];
        offsets[2 * i + 1] = (long) ovector[2 * i + 1];
    }
    return 1;
}

static void dict_pcre_release(void *compiled)
{
    DICT_PCRE_RE *re = compiled;

    pcre2_match_data_free(re->data);
    pcre2_match_context_free(re->context);
    pcre2_code_free(re->code);
    myfree(re);
}

const DICT_PAT_OPS dict_pcre_ops = {
    .delimited = 1,
    .compile = dict_pcre_compile,
    .prepare = NULL,
    .match = dict_pcre_match,
    .release = dict_pcre_release,
    .release_key = NULL,
};
