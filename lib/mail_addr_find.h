#ifndef POSTERN_MAIL_ADDR_FIND_H
#define POSTERN_MAIL_ADDR_FIND_H
/*
 * mail_addr_find - Postfix's lookup order for addresses and domains
 *
 * mail_addr_find() looks an address up in maps the way canonical(5),
 * virtual(5), aliases and the other address tables expect, stopping at the
 * first answer:
 *   1. user+ext@domain      the address as given (every table, patterns too)
 *   2. user@domain          without the extension (fixed-string tables only)
 *   3. user+ext, then user  only when domain is local (or absent)
 *   4. @domain              the catch-all entry for the domain
 * The extension is the part of the local part from the first character
 * that occurs in recipient_delimiter (none when the delimiter is empty or
 * the local part starts with it). Keys are folded to lower case by the
 * tables (DICT_FLAG_FOLD_FIX).
 *
 * Returns DICT_STAT_FOUND with *result (owned by the tables, valid until
 * the next lookup in maps), DICT_STAT_NOTFOUND, or DICT_STAT_ERROR when a
 * table failed (maps_error() says why): the caller must then defer (4xx),
 * not treat the address as unknown. When extp is not NULL and the match
 * ignored an extension, *extp receives a copy of it including the
 * delimiter ("+foo"), which the caller frees; else *extp is NULL.
 *
 * mail_addr_find_opt() is the same with the delimiter and the
 * local-domain test given explicitly (is_local NULL: only addresses
 * without a domain are local).
 *
 * "Local" by default means: the domain is $myhostname, $myorigin,
 * localhost, or listed in $mydestination (names or type:table entries).
 * mail_addr_find_set_local() installs another test (the address resolver
 * does so when it knows better); NULL restores the default.
 *
 * mail_domain_find() looks a domain (or host name) up in maps for the
 * parameter param_name: first the name itself, then each parent domain:
 * as "example.com" when param_name is listed in
 * parent_domain_matches_subdomains, else as ".example.com". Same results
 * as mail_addr_find(). mail_domain_parent_style() tells whether
 * param_name is in that list.
 *
 * mail_addr_propagate() tells whether unmatched extensions are put back
 * after the rewriting step named class ("canonical", "virtual", "alias",
 * "forward", "include", "generic"), per propagate_unmatched_extensions.
 * mail_addr_add_ext() returns (caller frees) addr with ext inserted at the
 * end of its local part.
 */
#include "maps.h"

int mail_addr_find(MAPS *maps, const char *address, const char **result, char **extp);
int mail_addr_find_opt(MAPS *maps, const char *address, const char *delimiters,
                       int (*is_local)(const char *domain), const char **result, char **extp);
void mail_addr_find_set_local(int (*is_local)(const char *domain));
int mail_addr_local_domain(const char *domain);

int mail_domain_find(MAPS *maps, const char *domain, const char *param_name, const char **result);
int mail_domain_parent_style(const char *param_name);

int mail_addr_propagate(const char *class);
char *mail_addr_add_ext(const char *addr, const char *ext);

#endif
