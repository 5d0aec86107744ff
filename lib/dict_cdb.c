/*
 * NAME
 *	dict_cdb - constant databases (tinycdb)
 * SYNOPSIS
 *	#include "dict.h"
 *
 *	DICT *dict_cdb_open(const char *type, const char *name,
 *			const char *path, int open_flags, int dict_flags)
 * DESCRIPTION
 *	dict_cdb_open() opens the cdb file path (NAME.cdb). A cdb file is
 *	written once and never changed, so a table can be opened for
 *	reading, or created with O_CREAT|O_TRUNC to be built; opening an
 *	existing file for in-place update fails.
 *
 *	A table being built keeps its entries in memory until
 *	dict_rebuild_commit() (the type's finish method) writes them with
 *	cdb_make_add(); so duplicates, replacements and deletes behave as
 *	for the other types, and the file holds each key once.
 *
 *	Keys and values follow the NUL conventions of dict_db(3): lookups
 *	try with and without a trailing NUL, a build writes one unless only
 *	DICT_FLAG_TRY0NULL is set. A file that tinycdb finds inconsistent
 *	gives DICT_STAT_ERROR.
 */
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "dict.h"
#include "htable.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

typedef struct DICT_CDB {
    DICT dict;
    struct cdb cdb;        /* reading */
    int fd;
    unsigned seq_pos;
    int seq_active;
    HTABLE *pending;       /* building: key -> value */
    VSTRING *key_buf;
    VSTRING *val_buf;
} DICT_CDB;

static int dict_cdb_copy(DICT_CDB *dc, VSTRING *buf, unsigned len, unsigned pos)
{
    const char *data = cdb_get(&dc->cdb, len, pos);

    if (data == NULL)
        return -1;
    if (len > 0 && data[len - 1] == 0)
        len--;
    vstring_memcpy(buf, data, len);
    return 0;
}

static int dict_cdb_get(DICT *dict, const char *key, const char **value)
{
    DICT_CDB *dc = (DICT_CDB *) dict;
    size_t len = strlen(key);
    int status;

    if (dc->pending) {
        if ((*value = htable_find(dc->pending, key)) != NULL)
            return DICT_STAT_FOUND;
        return DICT_STAT_NOTFOUND;
    }
    for (int with_null = 1; with_null >= 0; with_null--) {
        if ((dict->flags & (with_null ? DICT_FLAG_TRY1NULL : DICT_FLAG_TRY0NULL)) == 0)
            continue;
        errno = 0;
        status = cdb_find(&dc->cdb, key, (unsigned) (len + (size_t) with_null));
        if (status == 0)
            continue;
        if (status < 0
            || dict_cdb_copy(dc, dc->val_buf, cdb_datalen(&dc->cdb), cdb_datapos(&dc->cdb)) < 0)
            return dict_set_error(dict, "%s:%s: lookup: %s", dict->type, dict->name,
                                  errno ? strerror(errno) : "corrupt file");
        dict->flags &= ~(with_null ? DICT_FLAG_TRY0NULL : DICT_FLAG_TRY1NULL);
        *value = vstring_str(dc->val_buf);
        return DICT_STAT_FOUND;
    }
    return DICT_STAT_NOTFOUND;
}

static int dict_cdb_put(DICT *dict, const char *key, const char *value)
{
    DICT_CDB *dc = (DICT_CDB *) dict;
    HTABLE_INFO *ht = htable_locate(dc->pending, key);

    (void) dict_null_choose_write(dict);
    if (ht) {
        if ((dict->flags & DICT_FLAG_DUP_REPLACE) == 0)
            return DICT_PUT_DUP;
        myfree(ht->value);
        ht->value = mystrdup(value);
        return DICT_PUT_OK;
    }
    htable_enter(dc->pending, key, mystrdup(value));
    return DICT_PUT_OK;
}

static int dict_cdb_del(DICT *dict, const char *key)
{
    DICT_CDB *dc = (DICT_CDB *) dict;

    return htable_delete(dc->pending, key, myfree) ? DICT_DEL_OK : DICT_DEL_NOTFOUND;
}

static int dict_cdb_seq(DICT *dict, int func, const char **key, const char **value)
{
    DICT_CDB *dc = (DICT_CDB *) dict;
    int status;

    if (dc->pending)
        return dict_set_error(dict, "%s:%s: sequential access to a table being built",
                              dict->type, dict->name);
    if (func == DICT_SEQ_FIRST) {
        cdb_seqinit(&dc->seq_pos, &dc->cdb);
        dc->seq_active = 1;
    } else if (!dc->seq_active) {
        return dict_set_error(dict, "%s:%s: sequential access without a first call", dict->type,
                              dict->name);
    }
    errno = 0;
    status = cdb_seqnext(&dc->seq_pos, &dc->cdb);
    if (status == 0) {
        dc->seq_active = 0;
        return DICT_STAT_NOTFOUND;
    }
    if (status < 0
        || dict_cdb_copy(dc, dc->key_buf, cdb_keylen(&dc->cdb), cdb_keypos(&dc->cdb)) < 0
        || dict_cdb_copy(dc, dc->val_buf, cdb_datalen(&dc->cdb), cdb_datapos(&dc->cdb)) < 0)
        return dict_set_error(dict, "%s:%s: sequential read: %s", dict->type, dict->name,
                              errno ? strerror(errno) : "corrupt file");
    *key = vstring_str(dc->key_buf);
    *value = vstring_str(dc->val_buf);
    return DICT_STAT_FOUND;
}

/* dict_cdb_finish - write the pending entries of a table being built */
static int dict_cdb_finish(DICT *dict)
{
    DICT_CDB *dc = (DICT_CDB *) dict;
    struct cdb_make cm;
    HTABLE_INFO **list;
    int with_null;
    int ret = 0;

    if (dc->pending == NULL || dc->fd < 0)
        return 0;
    with_null = dict_null_choose_write(dict);
    if (cdb_make_start(&cm, dc->fd) < 0)
        return dict_set_error(dict, "%s:%s: cdb_make_start: %s", dict->type, dict->name,
                              strerror(errno));
    list = htable_list(dc->pending);
    for (HTABLE_INFO **ht = list; *ht; ht++) {
        const char *key = (*ht)->key, *value = (*ht)->value;

        if (cdb_make_add(&cm, key, (unsigned) (strlen(key) + (size_t) with_null), value,
                         (unsigned) (strlen(value) + (size_t) with_null)) < 0) {
            ret = dict_set_error(dict, "%s:%s: write: %s", dict->type, dict->name,
                                 strerror(errno));
            break;
        }
    }
    myfree(list);
    if (cdb_make_finish(&cm) < 0 && ret == 0)
        ret = dict_set_error(dict, "%s:%s: write: %s", dict->type, dict->name, strerror(errno));
    if (close(dc->fd) < 0 && ret == 0)
        ret = dict_set_error(dict, "%s:%s: close: %s", dict->type, dict->name, strerror(errno));
    dc->fd = -1;
    return ret;
}

static void dict_cdb_close(DICT *dict)
{
    DICT_CDB *dc = (DICT_CDB *) dict;

    if (dc->pending) {
        htable_free(dc->pending, myfree);
    } else {
        cdb_free(&dc->cdb);
    }
    if (dc->fd >= 0)
        close(dc->fd);
    vstring_free(dc->key_buf);
    vstring_free(dc->val_buf);
}

DICT *dict_cdb_open(const char *type, const char *name, const char *path, int open_flags,
                    int dict_flags)
{
    struct cdb cdb;
    DICT_CDB *dc;
    int reading = (open_flags & O_ACCMODE) == O_RDONLY;
    int fd;

    if (!reading && (open_flags & O_TRUNC) == 0)
        return dict_surrogate(type, name, open_flags, dict_flags,
                              "%s: a cdb table cannot be updated in place; rebuild it", path);
    if (reading)
        fd = open(path, O_RDONLY | O_CLOEXEC);
    else
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return dict_surrogate(type, name, open_flags, dict_flags, "open database %s: %s", path,
                              strerror(errno));
    if (reading) {
        if (cdb_init(&cdb, fd) < 0) {
            int saved = errno;

            close(fd);
            return dict_surrogate(type, name, open_flags, dict_flags, "open database %s: %s",
                                  path,
                                  saved == EPROTO ? "not a cdb file, or corrupt" : strerror(saved));
        }
        close(fd); /* cdb_init() has mapped the file */
        cdb.cdb_fd = -1;
        fd = -1;
    }
    dc = (DICT_CDB *) dict_alloc(type, name, sizeof(*dc), open_flags, dict_flags | DICT_FLAG_FIXED);
    dc->fd = fd;
    dc->key_buf = vstring_alloc(64);
    dc->val_buf = vstring_alloc(64);
    if (reading) {
        dc->cdb = cdb;
        dc->dict.seq = dict_cdb_seq;
    } else {
        dc->pending = htable_create(1024);
        dc->dict.put = dict_cdb_put;
        dc->dict.del = dict_cdb_del;
        dc->dict.finish = dict_cdb_finish;
    }
    dc->dict.get = dict_cdb_get;
    dc->dict.close = dict_cdb_close;
    return &dc->dict;
}
