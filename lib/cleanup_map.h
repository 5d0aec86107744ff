#ifndef POSTERN_CLEANUP_MAP_H
#define POSTERN_CLEANUP_MAP_H
/*
 * cleanup_map - canonical mapping and virtual alias expansion of one
 * address, as cleanup(8) does them
 *
 * Addresses are in internal form (lib/address.h). Table values are in
 * external form: one address for canonical(5), a list separated by
 * commas for virtual(5); each may be quoted, bracketed or commented as
 * in a message header. A value that starts with "@otherdomain" means
 * the original local part in otherdomain. Lookups follow mail_addr_find() (user@domain,
 * then without the extension, user for local domains, @domain).
 *
 * CLEANUP_MAP_OPTS says how: origin is appended as "@origin" to a
 * table result without a domain (as $myorigin is); propagate says
 * whether an extension that the lookup ignored (user+ext@domain found
 * as user@domain) is put back into each result, per
 * propagate_unmatched_extensions; the limits bound virtual expansion.
 *
 * cleanup_map_canon(maps, opts, addr, result, why)
 *	One-to-one mapping: looks addr up; a result is looked up again,
 *	until a lookup finds nothing, or gives back the address it was
 *	given, at most CLEANUP_MAP_CANON_DEPTH times. result receives the
 *	final address (addr itself when nothing matched). Returns
 *	CLEANUP_MAP_OK; CLEANUP_MAP_DEFER with a reason in why when a table
 *	failed; CLEANUP_MAP_BAD with a reason when a value is not exactly
 *	one address, or the mapping went on for too long (a loop).
 *
 * cleanup_map_virtual(maps, opts, addr, result, why)
 *	Virtual alias expansion: each address found is replaced by the
 *	addresses of its value, which are expanded in turn, depth first,
 *	in the order of the values. An address is final when the tables
 *	do not have it, when it is the address whose value lists it (an
 *	alias that includes itself), or when it is being expanded further
 *	up the same chain (a loop). result (emptied first) receives the
 *	final addresses in order, without duplicates (compared without
 *	regard to case). Returns CLEANUP_MAP_OK; CLEANUP_MAP_DEFER with a
 *	reason in why when a table failed; CLEANUP_MAP_BAD with a reason
 *	when a value is empty or does not parse, nesting goes deeper than
 *	recursion_limit, the expansion carries more than expansion_limit
 *	addresses along (final ones, and ones still to expand: each lookup
 *	that finds n addresses adds n - 1), or an address is longer than
 *	length_limit. result is empty after an error.
 */
#include <stddef.h>

#include "argv.h"
#include "maps.h"
#include "vstring.h"

#define CLEANUP_MAP_OK 0
#define CLEANUP_MAP_DEFER 1      /* a table could not answer */
#define CLEANUP_MAP_BAD 2        /* a bad table value, a loop, a limit */

#define CLEANUP_MAP_CANON_DEPTH 10   /* one-to-one mappings applied in a row */

typedef struct CLEANUP_MAP_OPTS {
    const char *title;        /* parameter name for messages: "virtual_alias_maps" */
    const char *origin;       /* domain for results without one */
    int propagate;            /* put unmatched extensions back */
    long recursion_limit;     /* virtual: nesting depth */
    long expansion_limit;     /* virtual: addresses carried along */
    size_t length_limit;      /* virtual: bytes of one address */
} CLEANUP_MAP_OPTS;

int cleanup_map_canon(MAPS *maps, const CLEANUP_MAP_OPTS *opts, const char *addr,
                      VSTRING *result, VSTRING *why);
int cleanup_map_virtual(MAPS *maps, const CLEANUP_MAP_OPTS *opts, const char *addr,
                        ARGV *result, VSTRING *why);

#endif
