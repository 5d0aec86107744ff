/*
 * NAME
 *	cleanup_map - canonical mapping and virtual alias expansion
 * SYNOPSIS
 *	#include "cleanup_map.h"
 *
 *	int cleanup_map_canon(MAPS *maps, const CLEANUP_MAP_OPTS *opts,
 *				const char *addr, VSTRING *result, VSTRING *why)
 *	int cleanup_map_virtual(MAPS *maps, const CLEANUP_MAP_OPTS *opts,
 *				const char *addr, ARGV *result, VSTRING *why)
 * DESCRIPTION
 *	Both functions look addresses up with mail_addr_find() and turn
 *	each value into internal-form addresses with address_parse_list(),
 *	completing an address without a domain with opts->origin and
 *	putting back an extension that the lookup ignored when
 *	opts->propagate is set. A value that starts with "@otherdomain"
 *	(canonical(5), virtual(5)) stands for the original local part in
 *	otherdomain; the rest of the value, if any, is a list as usual.
 *
 *	cleanup_map_canon() repeats the one-to-one lookup on its own
 *	result; cleanup_map_virtual() expands recursively, remembering
 *	which addresses it has expanded (so that a diamond of aliases is
 *	expanded once) and which are on the current chain (so that a loop
 *	ends at the address that closes it). The final addresses are kept
 *	in an HTABLE keyed by their lower-case form to drop duplicates.
 * DIAGNOSTICS
 *	Nothing is logged here except by the table layer (maps logs table
 *	errors): the reason goes to why, and the caller logs and defers.
 *	Reasons follow Postfix's wording, e.g. "unreasonable
 *	virtual_alias_maps map nesting for user@example.com".
 */
#include <string.h>
#include <strings.h>

#include "address.h"
#include "cleanup_map.h"
#include "htable.h"
#include "mail_addr_find.h"
#include "mymalloc.h"

/* cleanup_map_values - the addresses of one table value */

static ARGV *cleanup_map_values(const CLEANUP_MAP_OPTS *opts, const char *addr, const char *value,
                                const char *ext, VSTRING *why)
{
    ARGV *list;
    ARGV *out;
    VSTRING *err = vstring_alloc(100);
    VSTRING *first = NULL;
    size_t len;

    /* "@otherdomain" first: the original local part in the other domain */
    value += strspn(value, " \t");
    if (*value == '@') {
        len = strcspn(value, ", \t");
        first = vstring_alloc(100);
        address_split(addr, first, NULL);
        vstring_strncat(first, value, len);
        if (len < 2 ||
            !address_valid_domain(vstring_str(first) + vstring_len(first) - len + 1, 0)) {
            vstring_sprintf(why, "%s map entry for %s: bad domain in \"%.*s\"", opts->title, addr,
                            (int) (len > 100 ? 100 : len), value);
            vstring_free(first);
            vstring_free(err);
            return NULL;
        }
        value += len;
        value += strspn(value, ", \t");
    }
    list = *value || first == NULL ? address_parse_list(value, strlen(value), err) : argv_alloc(1);
    if (list && first) {
        ARGV *joined = argv_alloc(list->argc + 1);

        argv_add(joined, vstring_str(first));
        for (int i = 0; i < list->argc; i++)
            argv_add(joined, list->argv[i]);
        argv_free(list);
        list = joined;
    }
    if (first)
        vstring_free(first);
    if (list == NULL || list->argc == 0) {
        vstring_sprintf(why, "%s map entry for %s: %s", opts->title, addr,
                        list ? "no address in value" : vstring_str(err));
        if (list)
            argv_free(list);
        vstring_free(err);
        return NULL;
    }
    vstring_free(err);
    out = argv_alloc(list->argc);
    for (int i = 0; i < list->argc; i++) {
        const char *one = list->argv[i];
        char *qualified = NULL;
        char *extended = NULL;

        if (strrchr(one, '@') == NULL && opts->origin && *opts->origin) {
            size_t n = strlen(one) + strlen(opts->origin) + 2;

            qualified = mymalloc(n);
            strcpy(qualified, one);
            strcat(qualified, "@");
            strcat(qualified, opts->origin);
            one = qualified;
        }
        if (ext && opts->propagate) {
            extended = mail_addr_add_ext(one, ext);
            one = extended;
        }
        argv_add(out, one);
        myfree(qualified);
        myfree(extended);
    }
    argv_free(list);
    return out;
}

/* cleanup_map_lookup - one lookup, with the value turned into addresses */

#define CLEANUP_MAP_FOUND (-1)               /* cleanup_map_lookup() only */

static int cleanup_map_lookup(MAPS *maps, const CLEANUP_MAP_OPTS *opts, const char *addr,
                              ARGV **values, VSTRING *why)
{
    const char *value;
    char *ext = NULL;
    int status;

    *values = NULL;
    status = mail_addr_find(maps, addr, &value, &ext);
    if (status == DICT_STAT_ERROR) {
        vstring_sprintf(why, "%s map lookup problem for %s", opts->title, addr);
        return CLEANUP_MAP_DEFER;
    }
    if (status == DICT_STAT_NOTFOUND)
        return CLEANUP_MAP_OK;
    *values = cleanup_map_values(opts, addr, value, ext, why);
    myfree(ext);
    return *values ? CLEANUP_MAP_FOUND : CLEANUP_MAP_BAD;
}

int cleanup_map_canon(MAPS *maps, const CLEANUP_MAP_OPTS *opts, const char *addr,
                      VSTRING *result, VSTRING *why)
{
    VSTRING *cur = vstring_alloc(100);
    ARGV *values;
    int status;
    int changed;

    vstring_strcpy(cur, addr);
    for (int depth = 0; depth < CLEANUP_MAP_CANON_DEPTH; depth++) {
        status = cleanup_map_lookup(maps, opts, vstring_str(cur), &values, why);
        if (status != CLEANUP_MAP_FOUND) {
            if (status == CLEANUP_MAP_OK)
                vstring_strcpy(result, vstring_str(cur));
            vstring_free(cur);
            return status;
        }
        if (values->argc != 1) {
            vstring_sprintf(why, "%s map entry for %s: %d addresses, not one", opts->title,
                            vstring_str(cur), values->argc);
            argv_free(values);
            break;
        }
        changed = strcasecmp(values->argv[0], vstring_str(cur)) != 0;
        vstring_strcpy(cur, values->argv[0]);
        argv_free(values);
        if (!changed) {
            vstring_strcpy(result, vstring_str(cur));
            vstring_free(cur);
            return CLEANUP_MAP_OK;
        }
        if (depth == CLEANUP_MAP_CANON_DEPTH - 1)
            vstring_sprintf(why, "unreasonable %s map nesting for %s", opts->title, addr);
    }
    vstring_free(cur);
    return CLEANUP_MAP_BAD;
}

/* virtual alias expansion */

typedef struct CLEANUP_MAP_STATE {
    MAPS *maps;
    const CLEANUP_MAP_OPTS *opts;
    const char *top;          /* the address being expanded, for messages */
    ARGV *result;
    HTABLE *final;            /* lower-case forms of result */
    HTABLE *seen;             /* addresses expanded or final */
    HTABLE *chain;            /* addresses on the current chain */
    long positions;           /* final and pending addresses */
    VSTRING *key;
    VSTRING *why;
} CLEANUP_MAP_STATE;

static const char *cleanup_map_key(CLEANUP_MAP_STATE *state, const char *addr)
{
    vstring_strcpy(state->key, addr);
    vstring_lowercase(state->key);
    return vstring_str(state->key);
}

/* cleanup_map_final - add a final address */

static int cleanup_map_final(CLEANUP_MAP_STATE *state, const char *addr)
{
    const char *key = cleanup_map_key(state, addr);

    htable_enter(state->seen, key, NULL);
    if (htable_locate(state->final, key) != NULL)
        return CLEANUP_MAP_OK;
    htable_enter(state->final, key, NULL);
    argv_add(state->result, addr);
    if (state->result->argc > state->opts->expansion_limit) {
        vstring_sprintf(state->why, "unreasonable %s map expansion size for %s",
                        state->opts->title, state->top);
        return CLEANUP_MAP_BAD;
    }
    return CLEANUP_MAP_OK;
}

static int cleanup_map_expand(CLEANUP_MAP_STATE *state, const char *addr, long depth)
{
    ARGV *values;
    int status;
    const char *key;

    if (depth > 0 && strlen(addr) > state->opts->length_limit) {
        vstring_sprintf(state->why, "unreasonable %s result length for %s: %zu bytes",
                        state->opts->title, state->top, strlen(addr));
        return CLEANUP_MAP_BAD;
    }
    if (depth > state->opts->recursion_limit) {
        vstring_sprintf(state->why, "unreasonable %s map nesting for %s", state->opts->title,
                        state->top);
        return CLEANUP_MAP_BAD;
    }
    status = cleanup_map_lookup(state->maps, state->opts, addr, &values, state->why);
    if (status == CLEANUP_MAP_OK)
        return cleanup_map_final(state, addr);
    if (status != CLEANUP_MAP_FOUND)
        return status;
    /* each value beyond the first is one more address to carry along */
    state->positions += values->argc - 1;
    if (state->positions > state->opts->expansion_limit) {
        vstring_sprintf(state->why, "unreasonable %s map expansion size for %s",
                        state->opts->title, state->top);
        argv_free(values);
        return CLEANUP_MAP_BAD;
    }

    key = cleanup_map_key(state, addr);
    htable_enter(state->seen, key, NULL);
    htable_enter(state->chain, key, NULL);
    status = CLEANUP_MAP_OK;
    for (int i = 0; i < values->argc && status == CLEANUP_MAP_OK; i++) {
        const char *next = values->argv[i];

        key = cleanup_map_key(state, next);
        if (strcasecmp(next, addr) == 0 || htable_locate(state->chain, key) != NULL)
            status = cleanup_map_final(state, next);          /* itself, or a loop */
        else if (htable_locate(state->seen, key) == NULL)
            status = cleanup_map_expand(state, next, depth + 1);
    }
    htable_delete(state->chain, cleanup_map_key(state, addr), NULL);
    argv_free(values);
    return status;
}

int cleanup_map_virtual(MAPS *maps, const CLEANUP_MAP_OPTS *opts, const char *addr,
                        ARGV *result, VSTRING *why)
{
    CLEANUP_MAP_STATE state;
    int status;

    argv_truncate(result, 0);
    state.maps = maps;
    state.opts = opts;
    state.top = addr;
    state.result = result;
    state.final = htable_create(16);
    state.seen = htable_create(16);
    state.chain = htable_create(16);
    state.positions = 1;
    state.key = vstring_alloc(100);
    state.why = why;
    status = cleanup_map_expand(&state, addr, 0);
    htable_free(state.final, NULL);
    htable_free(state.seen, NULL);
    htable_free(state.chain, NULL);
    vstring_free(state.key);
    if (status != CLEANUP_MAP_OK)
        argv_truncate(result, 0);
    return status;
}
