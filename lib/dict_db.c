/*
 * NAME
 *	dict_db - Berkeley DB tables: hash and btree
 * SYNOPSIS
 *	#include "dict.h"
 *
 *	size_t dict_db_read_cache
 *	size_t dict_db_write_cache
 *
 *	DICT *dict_db_open(const char *type, const char *name,
 *			const char *path, int open_flags, int dict_flags)
 * DESCRIPTION
 *	dict_db_open() opens the Berkeley DB 5.3 file path (NAME.db) as a
 *	DB_HASH ("hash") or DB_BTREE ("btree") database, without a DB
 *	environment, as Postfix does. O_CREAT and O_TRUNC create or empty
 *	the file (a rebuild opens its temporary this way).
 *
 *	Keys and values may be stored with or without a trailing NUL.
 *	Lookups try what DICT_FLAG_TRY1NULL/TRY0NULL allow (with NUL first)
 *	and remember which convention the file uses; updates write with a
 *	NUL unless only TRY0NULL is set (postmap -n). Values are returned
 *	without their NUL; dict_seq() returns keys without it too.
 *
 *	dict_put() refuses to overwrite an existing key (DICT_PUT_DUP)
 *	unless DICT_FLAG_DUP_REPLACE is set. In-place updates of a table
 *	opened O_RDWR take an exclusive lock on the file for the duration
 *	of the update when DICT_FLAG_LOCK is set, and are flushed at once
 *	with DICT_FLAG_SYNC_UPDATE. Readers take no lock: postmap never
 *	changes a file that readers have open, it replaces it.
 *
 *	The Berkeley DB cache is dict_db_read_cache bytes for a table
 *	opened read-only, dict_db_write_cache for one being written.
 *
 *	A file that is not a database of the right type, or a database
 *	call that fails, gives DICT_STAT_ERROR with Berkeley DB's own
 *	message where it gave one.
 */
#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "dict.h"
#include "lock_file.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

size_t dict_db_read_cache = 128 * 1024;
size_t dict_db_write_cache = 16 * 1024 * 1024;

typedef struct DICT_DB {
    DICT dict;
    DB *db;
    DBC *cursor;
    VSTRING *key_buf;
    VSTRING *val_buf;
} DICT_DB;

static char dict_db_last_msg[512];

static void dict_db_errcall(const DB_ENV *env, const char *prefix, const char *text)
{
    (void) env;
    (void) prefix;
    snprintf(dict_db_last_msg, sizeof(dict_db_last_msg), "%s", text);
}

/* dict_db_fail - record a Berkeley DB error */
static int dict_db_fail(DICT *dict, const char *op, int err)
{
    const char *detail = dict_db_last_msg[0] ? dict_db_last_msg : db_strerror(err);
    int ret = dict_set_error(dict, "%s:%s: %s: %s", dict->type, dict->name, op, detail);

    dict_db_last_msg[0] = 0;
    return ret;
}

/* dict_db_result - copy a DBT into buf without a trailing NUL */
static const char *dict_db_result(VSTRING *buf, const DBT *dbt)
{
    size_t len = dbt->size;

    if (len > 0 && ((const char *) dbt->data)[len - 1] == 0)
        len--;
    vstring_memcpy(buf, dbt->data, len);
    return vstring_str(buf);
}

static int dict_db_get(DICT *dict, const char *key, const char **value)
{
    DICT_DB *dd = (DICT_DB *) dict;
    size_t len = strlen(key);
    DBT k, v;
    int err;

    for (int with_null = 1; with_null >= 0; with_null--) {
        if ((dict->flags & (with_null ? DICT_FLAG_TRY1NULL : DICT_FLAG_TRY0NULL)) == 0)
            continue;
        memset(&k, 0, sizeof(k));
        memset(&v, 0, sizeof(v));
        k.data = (void *) key;
        k.size = (u_int32_t) (len + (size_t) with_null);
        err = dd->db->get(dd->db, NULL, &k, &v, 0);
        if (err == DB_NOTFOUND)
            continue;
        if (err != 0)
            return dict_db_fail(dict, "lookup", err);
        dict->flags &= ~(with_null ? DICT_FLAG_TRY0NULL : DICT_FLAG_TRY1NULL);
        *value = dict_db_result(dd->val_buf, &v);
        return DICT_STAT_FOUND;
    }
    return DICT_STAT_NOTFOUND;
}

static int dict_db_lock(DICT *dict, int how)
{
    DICT_DB *dd = (DICT_DB *) dict;
    int fd;

    if ((dict->flags & DICT_FLAG_LOCK) == 0 || dict->tmp_path != NULL)
        return 0;
    if (dd->db->fd(dd->db, &fd) != 0 || lock_file(fd, how) < 0)
        return dict_set_error(dict, "%s:%s: lock: %s", dict->type, dict->name, strerror(errno));
    return 0;
}

static int dict_db_sync(DICT *dict)
{
    DICT_DB *dd = (DICT_DB *) dict;
    int err;

    if ((dict->flags & DICT_FLAG_SYNC_UPDATE) && dict->tmp_path == NULL
        && (err = dd->db->sync(dd->db, 0)) != 0)
        return dict_db_fail(dict, "sync", err);
    return 0;
}

static int dict_db_put(DICT *dict, const char *key, const char *value)
{
    DICT_DB *dd = (DICT_DB *) dict;
    int with_null = dict_null_choose_write(dict);
    DBT k, v;
    int err, ret;

    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    k.data = (void *) key;
    k.size = (u_int32_t) (strlen(key) + (size_t) with_null);
    v.data = (void *) value;
    v.size = (u_int32_t) (strlen(value) + (size_t) with_null);
    if (dict_db_lock(dict, LOCK_FILE_EXCLUSIVE) < 0)
        return DICT_STAT_ERROR;
    err = dd->db->put(dd->db, NULL, &k, &v,
                      (dict->flags & DICT_FLAG_DUP_REPLACE) ? 0 : DB_NOOVERWRITE);
    if (err == DB_KEYEXIST)
        ret = DICT_PUT_DUP;
    else if (err != 0)
        ret = dict_db_fail(dict, "update", err);
    else
        ret = dict_db_sync(dict) < 0 ? DICT_STAT_ERROR : DICT_PUT_OK;
    if (dict_db_lock(dict, LOCK_FILE_UNLOCK) < 0)
        return DICT_STAT_ERROR;
    return ret;
}

static int dict_db_del(DICT *dict, const char *key)
{
    DICT_DB *dd = (DICT_DB *) dict;
    size_t len = strlen(key);
    int ret = DICT_DEL_NOTFOUND;
    DBT k;
    int err;

    if (dict_db_lock(dict, LOCK_FILE_EXCLUSIVE) < 0)
        return DICT_STAT_ERROR;
    for (int with_null = 1; with_null >= 0; with_null--) {
        if ((dict->flags & (with_null ? DICT_FLAG_TRY1NULL : DICT_FLAG_TRY0NULL)) == 0)
            continue;
        memset(&k, 0, sizeof(k));
        k.data = (void *) key;
        k.size = (u_int32_t) (len + (size_t) with_null);
        err = dd->db->del(dd->db, NULL, &k, 0);
        if (err == 0) {
            ret = DICT_DEL_OK;
            break;
        }
        if (err != DB_NOTFOUND) {
            ret = dict_db_fail(dict, "delete", err);
            break;
        }
    }
    if (ret == DICT_DEL_OK && dict_db_sync(dict) < 0)
        ret = DICT_STAT_ERROR;
    if (dict_db_lock(dict, LOCK_FILE_UNLOCK) < 0)
        return DICT_STAT_ERROR;
    return ret;
}

static int dict_db_seq(DICT *dict, int func, const char **key, const char **value)
{
    DICT_DB *dd = (DICT_DB *) dict;
    DBT k, v;
    int err;

    if (func == DICT_SEQ_FIRST) {
        if (dd->cursor) {
            dd->cursor->close(dd->cursor);
            dd->cursor = NULL;
        }
        if ((err = dd->db->cursor(dd->db, NULL, &dd->cursor, 0)) != 0)
            return dict_db_fail(dict, "cursor", err);
    } else if (dd->cursor == NULL) {
        return dict_set_error(dict, "%s:%s: sequential access without a first call", dict->type,
                              dict->name);
    }
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    err = dd->cursor->get(dd->cursor, &k, &v, func == DICT_SEQ_FIRST ? DB_FIRST : DB_NEXT);
    if (err == DB_NOTFOUND)
        return DICT_STAT_NOTFOUND;
    if (err != 0)
        return dict_db_fail(dict, "sequential read", err);
    *key = dict_db_result(dd->key_buf, &k);
    *value = dict_db_result(dd->val_buf, &v);
    return DICT_STAT_FOUND;
}

/* dict_db_finish - close the database, so that a rebuild can be committed */
static int dict_db_finish(DICT *dict)
{
    DICT_DB *dd = (DICT_DB *) dict;
    int err;

    if (dd->cursor) {
        dd->cursor->close(dd->cursor);
        dd->cursor = NULL;
    }
    if (dd->db == NULL)
        return 0;
    err = dd->db->close(dd->db, 0);
    dd->db = NULL;
    if (err != 0)
        return dict_db_fail(dict, "close", err);
    return 0;
}

static void dict_db_close(DICT *dict)
{
    DICT_DB *dd = (DICT_DB *) dict;

    (void) dict_db_finish(dict);
    vstring_free(dd->key_buf);
    vstring_free(dd->val_buf);
}

DICT *dict_db_open(const char *type, const char *name, const char *path, int open_flags,
                   int dict_flags)
{
    DBTYPE db_type = strcmp(type, "btree") == 0 ? DB_BTREE : DB_HASH;
    u_int32_t db_flags = 0;
    DICT_DB *dd;
    DB *db;
    int err;

    if ((open_flags & O_ACCMODE) == O_RDONLY)
        db_flags |= DB_RDONLY;
    if (open_flags & O_CREAT)
        db_flags |= DB_CREATE;
    if (open_flags & O_TRUNC)
        db_flags |= DB_TRUNCATE;
    if ((err = db_create(&db, NULL, 0)) != 0)
        return dict_surrogate(type, name, open_flags, dict_flags, "db_create: %s",
                              db_strerror(err));
    db->set_errcall(db, dict_db_errcall);
    dict_db_last_msg[0] = 0;
    err = db->set_cachesize(db, 0, (u_int32_t) ((db_flags & DB_RDONLY) ? dict_db_read_cache
                                                                       : dict_db_write_cache),
                            0);
    if (err == 0)
        err = db->open(db, NULL, path, NULL, db_type, db_flags, 0644);
    if (err != 0) {
        DICT *dict;
        const char *detail = dict_db_last_msg[0] ? dict_db_last_msg : db_strerror(err);

        if (err > 0)
            detail = strerror(err);
        dict = dict_surrogate(type, name, open_flags, dict_flags, "open database %s: %s", path,
                              detail);
        dict_db_last_msg[0] = 0;
        db->close(db, 0);
        return dict;
    }
    dd = (DICT_DB *) dict_alloc(type, name, sizeof(*dd), open_flags, dict_flags | DICT_FLAG_FIXED);
    dd->db = db;
    dd->key_buf = vstring_alloc(64);
    dd->val_buf = vstring_alloc(64);
    dd->dict.get = dict_db_get;
    dd->dict.seq = dict_db_seq;
    if ((open_flags & O_ACCMODE) != O_RDONLY) {
        dd->dict.put = dict_db_put;
        dd->dict.del = dict_db_del;
    }
    dd->dict.finish = dict_db_finish;
    dd->dict.close = dict_db_close;
    return &dd->dict;
}
