/*
 * NAME
 *	mail_addr_find - Postfix's lookup order for addresses and domains
 * SYNOPSIS
 *	#include "mail_addr_find.h"
 *
 *	int mail_addr_find(MAPS *maps, const char *address,
 *			const char **result, char **extp)
 *	int mail_addr_find_opt(MAPS *maps, const char *address,
 *			const char *delimiters, int (*is_local)(const char *),
 *			const char **result, char **extp)
 *	void mail_addr_find_set_local(int (*is_local)(const char *domain))
 *	int mail_addr_local_domain(const char *domain)
 *	int mail_domain_find(MAPS *maps, const char *domain,
 *			const char *param_name, const char **result)
 *	int mail_domain_parent_style(const char *param_name)
 *	int mail_addr_propagate(const char *class)
 *	char *mail_addr_add_ext(const char *addr, const char *ext)
 * DESCRIPTION
 *	See mail_addr_find.h for the lookup orders. mail_addr_find() uses
 *	var_recipient_delimiter and the installed local-domain test.
 *
 *	mail_addr_local_domain(), the default local-domain test, compares
 *	the domain (case-insensitively, without a trailing dot) with the
 *	names in $mydestination, and looks it up in the type:table entries
 *	of $mydestination, as Postfix does ($myhostname and localhost are
 *	local only through mydestination's default). The lists are read from main.cf once, at first use.
 *	A table error counts as "not local".
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "mail_addr_find.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mymalloc.h"
#include "vstring.h"

static int (*mail_addr_is_local)(const char *) = mail_addr_local_domain;

void mail_addr_find_set_local(int (*is_local)(const char *domain))
{
    mail_addr_is_local = is_local ? is_local : mail_addr_local_domain;
}

/* ---- the default local-domain test ---- */

static ARGV *mail_addr_local_names;
static MAPS *mail_addr_local_maps;

static void mail_addr_local_add(ARGV *names, const char *param)
{
    char *value = mail_conf_lookup_eval(param);

    if (value == NULL)
        return;
    ARGV *words = maps_split(value);
    VSTRING *tables = vstring_alloc(100);

    for (int i = 0; i < words->argc; i++) {
        if (strchr(words->argv[i], ':') != NULL) {
            if (mail_addr_local_maps == NULL)
                vstring_sprintf_append(tables, "%s ", words->argv[i]);
        } else {
            argv_add(names, words->argv[i]);
        }
    }
    if (vstring_len(tables))
        mail_addr_local_maps = maps_create(param, vstring_str(tables), DICT_FLAG_DEFAULT);
    argv_free(words);
    vstring_free(tables);
    myfree(value);
}

int mail_addr_local_domain(const char *domain)
{
    size_t len = strlen(domain);
    const char *value;

    if (len > 0 && domain[len - 1] == '.')
        len--;
    if (mail_addr_local_names == NULL) {
        mail_addr_local_names = argv_alloc(8);
        mail_addr_local_add(mail_addr_local_names, "mydestination");
    }
    for (int i = 0; i < mail_addr_local_names->argc; i++) {
        const char *name = mail_addr_local_names->argv[i];

        if (strlen(name) == len && strncasecmp(name, domain, len) == 0)
            return 1;
    }
    if (mail_addr_local_maps) {
        char *key = mystrndup(domain, len);
        int status = maps_find(mail_addr_local_maps, key, MAPS_FIND_ALL, &value);

        myfree(key);
        return status == DICT_STAT_FOUND;
    }
    return 0;
}

/* ---- addresses ---- */

int mail_addr_find_opt(MAPS *maps, const char *address, const char *delimiters,
                       int (*is_local)(const char *domain), const char **result, char **extp)
{
    const char *at = strrchr(address, '@');
    size_t local_len = at ? (size_t) (at - address) : strlen(address);
    const char *domain = at ? at + 1 : "";
    size_t ext_pos = local_len;
    VSTRING *key = vstring_alloc(100);
    int status;

    *result = NULL;
    if (extp)
        *extp = NULL;
    if (delimiters && *delimiters && local_len > 0) {
        ext_pos = strcspn(address, delimiters);
        if (ext_pos == 0 || ext_pos > local_len)
            ext_pos = local_len;
    }
#define HAS_EXT (ext_pos < local_len)
#define FOUND_EXT()                                                                                \
    do {                                                                                           \
        if (extp && HAS_EXT)                                                                       \
            *extp = mystrndup(address + ext_pos, local_len - ext_pos);                             \
    } while (0)

    /* 1. the address as given */
    if ((status = maps_find(maps, address, MAPS_FIND_ALL, result)) != DICT_STAT_NOTFOUND)
        goto out;

    /* 2. user@domain without the extension */
    if (HAS_EXT && *domain) {
        vstring_strncpy(key, address, ext_pos);
        vstring_sprintf_append(key, "@%s", domain);
        if ((status = maps_find(maps, vstring_str(key), MAPS_FIXED_ONLY, result))
            != DICT_STAT_NOTFOUND) {
            if (status == DICT_STAT_FOUND)
                FOUND_EXT();
            goto out;
        }
    }

    /* 3. the local part alone, for local domains */
    if (*domain == 0 || (is_local && is_local(domain))) {
        if (*domain) {
            vstring_strncpy(key, address, local_len);
            if ((status = maps_find(maps, vstring_str(key), MAPS_FIXED_ONLY, result))
                != DICT_STAT_NOTFOUND)
                goto out;
        }
        if (HAS_EXT) {
            vstring_strncpy(key, address, ext_pos);
            if ((status = maps_find(maps, vstring_str(key), MAPS_FIXED_ONLY, result))
                != DICT_STAT_NOTFOUND) {
                if (status == DICT_STAT_FOUND)
                    FOUND_EXT();
                goto out;
            }
        }
    }

    /* 4. @domain */
    if (*domain) {
        vstring_sprintf(key, "@%s", domain);
        status = maps_find(maps, vstring_str(key), MAPS_FIXED_ONLY, result);
    }
out:
    vstring_free(key);
    return status;
}

int mail_addr_find(MAPS *maps, const char *address, const char **result, char **extp)
{
    return mail_addr_find_opt(maps, address, var_recipient_delimiter, mail_addr_is_local, result,
                              extp);
}

/* ---- domains ---- */

static int mail_addr_in_list(const char *list, const char *name)
{
    ARGV *words = argv_split(list ? list : "", ARGV_DELIM_LIST);
    int found = 0;

    for (int i = 0; i < words->argc && !found; i++)
        found = strcasecmp(words->argv[i], name) == 0;
    argv_free(words);
    return found;
}

int mail_domain_parent_style(const char *param_name)
{
    return param_name && mail_addr_in_list(var_parent_domain_matches_subdomains, param_name);
}

int mail_domain_find(MAPS *maps, const char *domain, const char *param_name, const char **result)
{
    int parent_style = mail_domain_parent_style(param_name);
    VSTRING *key = vstring_alloc(100);
    const char *cp;
    int status;

    vstring_strcpy(key, domain);
    if (vstring_len(key) > 1 && vstring_end(key)[-1] == '.')
        vstring_truncate(key, vstring_len(key) - 1);
    status = maps_find(maps, vstring_str(key), MAPS_FIND_ALL, result);
    for (cp = strchr(domain, '.'); status == DICT_STAT_NOTFOUND && cp && cp[1]; cp = strchr(cp + 1, '.')) {
        if (parent_style)
            vstring_strcpy(key, cp + 1);
        else
            vstring_strcpy(key, cp);
        if (vstring_len(key) > 1 && vstring_end(key)[-1] == '.')
            vstring_truncate(key, vstring_len(key) - 1);
        status = maps_find(maps, vstring_str(key), MAPS_FIXED_ONLY, result);
    }
    vstring_free(key);
    return status;
}

/* ---- extensions ---- */

int mail_addr_propagate(const char *class)
{
    return mail_addr_in_list(var_propagate_unmatched_extensions, class);
}

char *mail_addr_add_ext(const char *addr, const char *ext)
{
    const char *at = strrchr(addr, '@');
    VSTRING *buf = vstring_alloc(100);

    if (at == NULL) {
        vstring_sprintf(buf, "%s%s", addr, ext);
    } else {
        vstring_strncpy(buf, addr, (size_t) (at - addr));
        vstring_sprintf_append(buf, "%s%s", ext, at);
    }
    return vstring_export(buf);
}
