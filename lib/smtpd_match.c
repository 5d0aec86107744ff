/*
 * NAME
 *	smtpd_match - network lists and domain lists
 * SYNOPSIS
 *	#include "smtpd_match.h"
 *
 *	SMTPD_NETLIST *smtpd_netlist_create(const char *title, const char *value)
 *	int smtpd_netlist_match(SMTPD_NETLIST *list, const char *addr)
 *	void smtpd_netlist_free(SMTPD_NETLIST *list)
 *
 *	SMTPD_DOMLIST *smtpd_domlist_create(const char *title, const char *value)
 *	int smtpd_domlist_match(SMTPD_DOMLIST *list, const char *domain)
 *	void smtpd_domlist_free(SMTPD_DOMLIST *list)
 * DESCRIPTION
 *	A list is parsed once into entries, each a compiled network
 *	pattern (the cidr table matcher, dict_cidr_ops), a domain name, or
 *	a MAPS of one table. "/file/name" entries are expanded when the
 *	list is created. Lookups walk the entries in order and stop at the
 *	first that matches (or, for "!entry", that matches and so answers
 *	"no"), or at the first table that fails. smtpd_match.h states the
 *	entry syntax and results.
 * DIAGNOSTICS
 *	A bad network pattern or an unreadable list file is fatal; table
 *	errors are returned as -1 (the maps module logs them).
 */
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "dict.h"
#include "mail_addr_find.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtpd_match.h"
#include "vstring.h"

#define MATCH_NET 1
#define MATCH_NAME 2      /* exact name, or parent style */
#define MATCH_SUBDOMAIN 3 /* ".domain": subdomains only */
#define MATCH_TABLE 4

typedef struct MATCH_ENTRY {
    int kind;
    int negate;
    char *name;        /* MATCH_NAME, MATCH_SUBDOMAIN (without the dot) */
    void *net;         /* MATCH_NET: dict_cidr_ops pattern */
    MAPS *maps;        /* MATCH_TABLE */
} MATCH_ENTRY;

typedef struct MATCH_LIST {
    char *title;
    int parent_style;
    int count;
    int size;
    MATCH_ENTRY *entry;
} MATCH_LIST;

struct SMTPD_NETLIST {
    MATCH_LIST list;
};

struct SMTPD_DOMLIST {
    MATCH_LIST list;
};

/* match_words - the entries of a list value, files expanded */

static ARGV *match_words(const char *title, const char *value)
{
    ARGV *words = maps_split(value);
    ARGV *out = argv_alloc(words->argc + 1);
    VSTRING *line = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);

    for (int i = 0; i < words->argc; i++) {
        const char *word = words->argv[i];
        const char *path = word[0] == '!' ? word + 1 : word;

        if (path[0] != '/') {
            argv_add(out, word);
            continue;
        }
        DICT_SRC *src = dict_src_open(path, why);
        int lineno;
        int status;

        if (src == NULL)
            msg_fatal("%s: %s", title, vstring_str(why));
        while ((status = dict_src_next(src, line, &lineno, why)) > 0) {
            ARGV *more = argv_split(vstring_str(line), ARGV_DELIM_LIST);

            for (int j = 0; j < more->argc; j++) {
                if (more->argv[j][0] == '/' || (more->argv[j][0] == '!' && more->argv[j][1] == '/'))
                    msg_fatal("%s: %s, line %d: nested file name \"%s\"", title, path, lineno,
                              more->argv[j]);
                if (word[0] == '!' && more->argv[j][0] != '!') {
                    VSTRING *neg = vstring_alloc(100);

                    vstring_sprintf(neg, "!%s", more->argv[j]);
                    argv_add(out, vstring_str(neg));
                    vstring_free(neg);
                } else {
                    argv_add(out, more->argv[j]);
                }
            }
            argv_free(more);
        }
        if (status < 0)
            msg_fatal("%s: %s", title, vstring_str(why));
        dict_src_close(src);
    }
    argv_free(words);
    vstring_free(line);
    vstring_free(why);
    return out;
}

static MATCH_ENTRY *match_add(MATCH_LIST *list)
{
    if (list->count == list->size) {
        list->size = list->size ? 2 * list->size : 8;
        list->entry = myrealloc(list->entry, (size_t) list->size * sizeof(MATCH_ENTRY));
    }
    MATCH_ENTRY *entry = &list->entry[list->count++];

    memset(entry, 0, sizeof(*entry));
    return entry;
}

static void match_init(MATCH_LIST *list, const char *title)
{
    memset(list, 0, sizeof(*list));
    list->title = mystrdup(title);
    list->parent_style = mail_domain_parent_style(title);
}

static void match_free(MATCH_LIST *list)
{
    for (int i = 0; i < list->count; i++) {
        MATCH_ENTRY *entry = &list->entry[i];

        if (entry->name)
            myfree(entry->name);
        if (entry->net)
            dict_cidr_ops.release(entry->net);
        if (entry->maps)
            maps_free(entry->maps);
    }
    if (list->entry)
        myfree(list->entry);
    myfree(list->title);
}

/* match_table - is this word a type:table (not an IPv6 address)? */

static int match_is_table(const char *word)
{
    const char *colon = strchr(word, ':');

    if (colon == NULL || colon == word || word[0] == '[')
        return 0;
    for (const char *cp = word; cp < colon; cp++)
        if (!((*cp >= 'a' && *cp <= 'z') || (*cp >= 'A' && *cp <= 'Z') || (*cp >= '0' && *cp <= '9')
              || *cp == '_' || *cp == '-'))
            return 0;
    return 1;
}

/* ---- network lists ---- */

SMTPD_NETLIST *smtpd_netlist_create(const char *title, const char *value)
{
    SMTPD_NETLIST *nl = mymalloc(sizeof(*nl));
    ARGV *words = match_words(title, value);
    VSTRING *why = vstring_alloc(100);

    match_init(&nl->list, title);
    for (int i = 0; i < words->argc; i++) {
        const char *word = words->argv[i];
        int negate = word[0] == '!';
        MATCH_ENTRY *entry;
        int ngroups;

        if (negate)
            word++;
        if (*word == 0)
            msg_fatal("%s: empty negated entry", title);
        entry = match_add(&nl->list);
        entry->negate = negate;
        if (match_is_table(word)) {
            entry->kind = MATCH_TABLE;
            entry->maps = maps_create(title, word, DICT_FLAG_DEFAULT);
            continue;
        }
        entry->kind = MATCH_NET;
        entry->net = dict_cidr_ops.compile(word, "", &ngroups, why);
        if (entry->net == NULL)
            msg_fatal("%s: %s", title, vstring_str(why));
    }
    argv_free(words);
    vstring_free(why);
    return nl;
}

int smtpd_netlist_match(SMTPD_NETLIST *nl, const char *addr)
{
    void *key = NULL;
    int found = 0;
    VSTRING *why = NULL;

    for (int i = 0; i < nl->list.count; i++) {
        MATCH_ENTRY *entry = &nl->list.entry[i];
        int status;

        if (entry->kind == MATCH_TABLE) {
            const char *value;

            status = maps_find(entry->maps, addr, MAPS_FIND_ALL, &value);
            if (status == DICT_STAT_ERROR) {
                found = -1;
                break;
            }
            status = status == DICT_STAT_FOUND;
        } else {
            long offsets[2];

            if (key == NULL && (key = dict_cidr_ops.prepare(addr)) == NULL)
                continue;  /* not an address: no network matches */
            if (why == NULL)
                why = vstring_alloc(10);
            status = dict_cidr_ops.match(entry->net, addr, key, offsets, 0, why);
            if (status != 1)
                status = 0;
        }
        if (status) {
            found = !entry->negate;
            break;
        }
    }
    if (key)
        dict_cidr_ops.release_key(key);
    if (why)
        vstring_free(why);
    return found;
}

void smtpd_netlist_free(SMTPD_NETLIST *nl)
{
    match_free(&nl->list);
    myfree(nl);
}

/* ---- domain lists ---- */

SMTPD_DOMLIST *smtpd_domlist_create(const char *title, const char *value)
{
    SMTPD_DOMLIST *dl = mymalloc(sizeof(*dl));
    ARGV *words = match_words(title, value);

    match_init(&dl->list, title);
    for (int i = 0; i < words->argc; i++) {
        const char *word = words->argv[i];
        int negate = word[0] == '!';
        MATCH_ENTRY *entry;

        if (negate)
            word++;
        if (*word == 0)
            msg_fatal("%s: empty negated entry", title);
        entry = match_add(&dl->list);
        entry->negate = negate;
        if (match_is_table(word)) {
            entry->kind = MATCH_TABLE;
            entry->maps = maps_create(title, word, DICT_FLAG_DEFAULT);
            continue;
        }
        if (word[0] == '.' && word[1] != 0) {
            entry->kind = MATCH_SUBDOMAIN;
            word++;
        } else {
            entry->kind = MATCH_NAME;
        }
        entry->name = mystrdup(word);
        size_t len = strlen(entry->name);

        if (len > 1 && entry->name[len - 1] == '.')
            entry->name[len - 1] = 0;
    }
    argv_free(words);
    return dl;
}

/* match_suffix - is domain a proper subdomain of name? */

static int match_suffix(const char *domain, size_t dlen, const char *name)
{
    size_t nlen = strlen(name);

    return dlen > nlen + 1 && domain[dlen - nlen - 1] == '.'
           && strncasecmp(domain + dlen - nlen, name, nlen) == 0;
}

int smtpd_domlist_match(SMTPD_DOMLIST *dl, const char *domain)
{
    size_t dlen = strlen(domain);
    char *copy = NULL;
    int found = 0;

    if (dlen > 1 && domain[dlen - 1] == '.') {
        copy = mystrndup(domain, --dlen);
        domain = copy;
    }
    if (dlen == 0)
        goto out;
    for (int i = 0; i < dl->list.count; i++) {
        MATCH_ENTRY *entry = &dl->list.entry[i];
        int status = 0;
        const char *value;

        switch (entry->kind) {
        case MATCH_TABLE:
            status = mail_domain_find(entry->maps, domain, dl->list.title, &value);
            if (status == DICT_STAT_ERROR) {
                found = -1;
                goto out;
            }
            status = status == DICT_STAT_FOUND;
            break;
        case MATCH_NAME:
            status = strcasecmp(domain, entry->name) == 0
                     || (dl->list.parent_style && match_suffix(domain, dlen, entry->name));
            break;
        case MATCH_SUBDOMAIN:
            status = match_suffix(domain, dlen, entry->name);
            break;
        }
        if (status) {
            found = !entry->negate;
            break;
        }
    }
out:
    if (copy)
        myfree(copy);
    return found;
}

void smtpd_domlist_free(SMTPD_DOMLIST *dl)
{
    match_free(&dl->list);
    myfree(dl);
}
