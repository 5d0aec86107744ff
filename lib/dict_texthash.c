/*
 * NAME
 *	dict_texthash - tables held in memory: texthash, and their store
 * SYNOPSIS
 *	#include "dict.h"
 *
 *	DICT *dict_texthash_open(const char *type, const char *name,
 *			const char *path, int open_flags, int dict_flags)
 *	DICT *dict_mem_create(const char *type, const char *name,
 *			int open_flags, int dict_flags)
 * DESCRIPTION
 *	dict_texthash_open() reads the postmap(1) source file NAME (no
 *	NAME.db is needed) into memory when the table is opened. A line that
 *	is not "key whitespace value" makes the whole table fail (every
 *	lookup returns DICT_STAT_ERROR, with "FILE:LINE: reason"); a
 *	duplicate key is logged and the first value kept, as postmap does.
 *
 *	dict_mem_create() makes an empty in-memory table with lookup,
 *	update, delete and sequential access; texthash and inline fill one.
 */
#include <fcntl.h>
#include <string.h>

#include "dict.h"
#include "htable.h"
#include "msg.h"
#include "mymalloc.h"

typedef struct DICT_MEM {
    DICT dict;
    HTABLE *table;
    HTABLE_INFO **list;    /* snapshot for dict_seq */
    size_t pos;
} DICT_MEM;

static int dict_mem_get(DICT *dict, const char *key, const char **value)
{
    DICT_MEM *dm = (DICT_MEM *) dict;
    HTABLE_INFO *ht = htable_locate(dm->table, key);

    if (ht == NULL)
        return DICT_STAT_NOTFOUND;
    *value = ht->value;
    return DICT_STAT_FOUND;
}

static int dict_mem_put(DICT *dict, const char *key, const char *value)
{
    DICT_MEM *dm = (DICT_MEM *) dict;
    HTABLE_INFO *ht = htable_locate(dm->table, key);

    if (ht != NULL) {
        if ((dict->flags & DICT_FLAG_DUP_REPLACE) == 0)
            return DICT_PUT_DUP;
        myfree(ht->value);
        ht->value = mystrdup(value);
        return DICT_PUT_OK;
    }
    myfree(dm->list);
    dm->list = NULL;
    htable_enter(dm->table, key, mystrdup(value));
    return DICT_PUT_OK;
}

static int dict_mem_del(DICT *dict, const char *key)
{
    DICT_MEM *dm = (DICT_MEM *) dict;

    myfree(dm->list);
    dm->list = NULL;
    return htable_delete(dm->table, key, myfree) ? DICT_DEL_OK : DICT_DEL_NOTFOUND;
}

static int dict_mem_seq(DICT *dict, int func, const char **key, const char **value)
{
    DICT_MEM *dm = (DICT_MEM *) dict;

    if (func == DICT_SEQ_FIRST) {
        myfree(dm->list);
        dm->list = htable_list(dm->table);
        dm->pos = 0;
    } else if (dm->list == NULL) {
        return dict_set_error(dict, "%s:%s: table changed during sequential access", dict->type,
                              dict->name);
    }
    if (dm->list[dm->pos] == NULL)
        return DICT_STAT_NOTFOUND;
    *key = dm->list[dm->pos]->key;
    *value = dm->list[dm->pos]->value;
    dm->pos++;
    return DICT_STAT_FOUND;
}

static void dict_mem_close(DICT *dict)
{
    DICT_MEM *dm = (DICT_MEM *) dict;

    myfree(dm->list);
    htable_free(dm->table, myfree);
}

DICT *dict_mem_create(const char *type, const char *name, int open_flags, int dict_flags)
{
    DICT_MEM *dm = (DICT_MEM *) dict_alloc(type, name, sizeof(*dm), open_flags,
                                           dict_flags | DICT_FLAG_FIXED);

    dm->table = htable_create(13);
    dm->dict.get = dict_mem_get;
    dm->dict.put = dict_mem_put;
    dm->dict.del = dict_mem_del;
    dm->dict.seq = dict_mem_seq;
    dm->dict.close = dict_mem_close;
    return &dm->dict;
}

DICT *dict_texthash_open(const char *type, const char *name, const char *path, int open_flags,
                         int dict_flags)
{
    VSTRING *why = vstring_alloc(100);
    VSTRING *line = vstring_alloc(100);
    DICT_SRC *src;
    DICT *dict;
    char *key, *value;
    int lineno, status;

    (void) path;
    if ((open_flags & O_ACCMODE) != O_RDONLY) {
        dict = dict_surrogate(type, name, open_flags, dict_flags,
                              "%s:%s: table type is read-only", type, name);
        goto out;
    }
    if ((src = dict_src_open(name, why)) == NULL) {
        dict = dict_surrogate(type, name, open_flags, dict_flags, "%s", vstring_str(why));
        goto out;
    }
    dict = dict_mem_create(type, name, O_RDWR, dict_flags & ~DICT_FLAG_DUP_REPLACE);
    while ((status = dict_src_next(src, line, &lineno, why)) > 0) {
        if (dict_src_split_map(vstring_str(line), &key, &value, why) < 0) {
            vstring_sprintf(line, "%s:%d: %s", name, lineno, vstring_str(why));
            vstring_strcpy(why, vstring_str(line));
            status = -1;
            break;
        }
        status = dict_put(dict, key, value);
        if (status == DICT_PUT_DUP)
            msg_warn("%s:%d: duplicate entry: \"%s\"", name, lineno, key);
    }
    dict_src_close(src);
    if (status < 0) {
        dict_close(dict);
        dict = dict_surrogate(type, name, open_flags, dict_flags, "%s", vstring_str(why));
        goto out;
    }
    dict->open_flags = open_flags;
out:
    vstring_free(why);
    vstring_free(line);
    return dict;
}
