/*
 * NAME
 *	dict_lmdb - LMDB tables
 * SYNOPSIS
 *	#include "dict.h"
 *
 *	extern size_t dict_lmdb_map_size;
 *
 *	DICT *dict_lmdb_open(const char *type, const char *name,
 *			const char *path, int open_flags, int dict_flags)
 * DESCRIPTION
 *	dict_lmdb_open() opens the LMDB file path (NAME.lmdb) as a single
 *	file (MDB_NOSUBDIR) without LMDB's lock file (MDB_NOLOCK), as
 *	Postfix does: the file is replaced, never changed, while readers
 *	use it, and in-place updates are serialized with our own file
 *	lock (DICT_FLAG_LOCK).
 *
 *	The map starts at dict_lmdb_map_size bytes (lmdb_map_size, default
 *	16 MB) and doubles whenever a write runs out of room. A table being
 *	built commits every few thousand updates; an update that hit the
 *	map limit is replayed after the map has grown.
 *
 *	Keys and values follow the NUL conventions of dict_db(3): lookups
 *	try with and without a trailing NUL, updates write one unless only
 *	DICT_FLAG_TRY0NULL is set.
 *
 *	A file shorter than its own meta data says (a truncated copy) is
 *	refused at open time, so a lookup never touches pages that are not
 *	there.
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dict.h"
#include "lock_file.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

size_t dict_lmdb_map_size = 16 * 1024 * 1024;

#define DICT_LMDB_BATCH 5000

typedef struct DICT_LMDB_OP {
    char *key;
    char *value;   /* NULL for a delete */
} DICT_LMDB_OP;

typedef struct DICT_LMDB {
    DICT dict;
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *read_txn;     /* reset between lookups */
    MDB_txn *write_txn;    /* open batch of a table being built */
    MDB_cursor *cursor;
    size_t map_size;
    DICT_LMDB_OP *ops;     /* the open batch, for a replay after MDB_MAP_FULL */
    int op_count;
    VSTRING *key_buf;
    VSTRING *val_buf;
} DICT_LMDB;

static int dict_lmdb_fail(DICT *dict, const char *op, int err)
{
    return dict_set_error(dict, "%s:%s: %s: %s", dict->type, dict->name, op, mdb_strerror(err));
}

static const char *dict_lmdb_result(VSTRING *buf, const MDB_val *val)
{
    size_t len = val->mv_size;

    if (len > 0 && ((const char *) val->mv_data)[len - 1] == 0)
        len--;
    vstring_memcpy(buf, val->mv_data, len);
    return vstring_str(buf);
}

static int dict_lmdb_read_begin(DICT_LMDB *dl)
{
    int err;

    if (dl->write_txn)
        return 0;
    if (dl->read_txn == NULL)
        err = mdb_txn_begin(dl->env, NULL, MDB_RDONLY, &dl->read_txn);
    else
        err = mdb_txn_renew(dl->read_txn);
    if (err != 0) {
        if (dl->read_txn) {
            mdb_txn_abort(dl->read_txn);
            dl->read_txn = NULL;
        }
        return dict_lmdb_fail(&dl->dict, "begin read transaction", err);
    }
    return 0;
}

static void dict_lmdb_read_end(DICT_LMDB *dl)
{
    if (dl->read_txn && dl->write_txn == NULL)
        mdb_txn_reset(dl->read_txn);
}

static MDB_txn *dict_lmdb_txn(DICT_LMDB *dl)
{
    return dl->write_txn ? dl->write_txn : dl->read_txn;
}

static int dict_lmdb_get(DICT *dict, const char *key, const char **value)
{
    DICT_LMDB *dl = (DICT_LMDB *) dict;
    size_t len = strlen(key);
    int ret = DICT_STAT_NOTFOUND;
    MDB_val k, v;
    int err;

    if (dict_lmdb_read_begin(dl) < 0)
        return DICT_STAT_ERROR;
    for (int with_null = 1; with_null >= 0; with_null--) {
        if ((dict->flags & (with_null ? DICT_FLAG_TRY1NULL : DICT_FLAG_TRY0NULL)) == 0)
            continue;
        k.mv_data = (void *) key;
        k.mv_size = len + (size_t) with_null;
        if (k.mv_size == 0)
            continue;
        err = mdb_get(dict_lmdb_txn(dl), dl->dbi, &k, &v);
        if (err == MDB_NOTFOUND)
            continue;
        if (err != 0) {
            ret = dict_lmdb_fail(dict, "lookup", err);
            break;
        }
        dict->flags &= ~(with_null ? DICT_FLAG_TRY0NULL : DICT_FLAG_TRY1NULL);
        *value = dict_lmdb_result(dl->val_buf, &v);
        ret = DICT_STAT_FOUND;
        break;
    }
    dict_lmdb_read_end(dl);
    return ret;
}

/* dict_lmdb_apply - one update inside the open write transaction */
static int dict_lmdb_apply(DICT_LMDB *dl, const char *key, const char *value, int *dup)
{
    int with_null = dict_null_choose_write(&dl->dict);
    MDB_val k, v;
    int err;

    k.mv_data = (void *) key;
    k.mv_size = strlen(key) + (size_t) with_null;
    *dup = 0;
    if (value == NULL) {
        err = mdb_del(dl->write_txn, dl->dbi, &k, NULL);
        if (err == MDB_NOTFOUND && with_null) {
            k.mv_size--;
            err = mdb_del(dl->write_txn, dl->dbi, &k, NULL);
        }
        if (err == MDB_NOTFOUND) {
            *dup = 1;
            err = 0;
        }
        return err;
    }
    v.mv_data = (void *) value;
    v.mv_size = strlen(value) + (size_t) with_null;
    err = mdb_put(dl->write_txn, dl->dbi, &k, &v,
                  (dl->dict.flags & DICT_FLAG_DUP_REPLACE) ? 0 : MDB_NOOVERWRITE);
    if (err == MDB_KEYEXIST) {
        *dup = 1;
        err = 0;
    }
    return err;
}

static void dict_lmdb_ops_clear(DICT_LMDB *dl)
{
    for (int i = 0; i < dl->op_count; i++) {
        myfree(dl->ops[i].key);
        myfree(dl->ops[i].value);
    }
    dl->op_count = 0;
}

static int dict_lmdb_begin_write(DICT_LMDB *dl)
{
    int err;

    if ((err = mdb_txn_begin(dl->env, NULL, 0, &dl->write_txn)) != 0) {
        dl->write_txn = NULL;
        return dict_lmdb_fail(&dl->dict, "begin write transaction", err);
    }
    return 0;
}

/* dict_lmdb_grow - drop the open batch, double the map, replay the batch */
static int dict_lmdb_grow(DICT_LMDB *dl, int *last_dup)
{
    int err, dup = 0;

    for (;;) {
        mdb_txn_abort(dl->write_txn);
        dl->write_txn = NULL;
        if (dl->map_size > ((size_t) 1 << 40))
            return dict_set_error(&dl->dict, "%s:%s: map size limit reached", dl->dict.type,
                                  dl->dict.name);
        dl->map_size *= 2;
        if ((err = mdb_env_set_mapsize(dl->env, dl->map_size)) != 0)
            return dict_lmdb_fail(&dl->dict, "grow map", err);
        if (dict_lmdb_begin_write(dl) < 0)
            return DICT_STAT_ERROR;
        err = 0;
        for (int i = 0; i < dl->op_count && err == 0; i++)
            err = dict_lmdb_apply(dl, dl->ops[i].key, dl->ops[i].value, &dup);
        if (err == 0) {
            if (last_dup)
                *last_dup = dup;
            return 0;
        }
        if (err != MDB_MAP_FULL)
            return dict_lmdb_fail(&dl->dict, "update", err);
    }
}

static int dict_lmdb_commit(DICT_LMDB *dl)
{
    int err;

    if (dl->write_txn == NULL)
        return 0;
    for (;;) {
        err = mdb_txn_commit(dl->write_txn);
        dl->write_txn = NULL;
        if (err != MDB_MAP_FULL)
            break;
        if (dict_lmdb_begin_write(dl) < 0 || dict_lmdb_grow(dl, NULL) < 0)
            return DICT_STAT_ERROR;
    }
    dict_lmdb_ops_clear(dl);
    if (err != 0)
        return dict_lmdb_fail(&dl->dict, "commit", err);
    return 0;
}

/* dict_lmdb_update - put (value != NULL) or delete, batched or at once */
static int dict_lmdb_update(DICT *dict, const char *key, const char *value, int *dup)
{
    DICT_LMDB *dl = (DICT_LMDB *) dict;
    int in_place = dict->tmp_path == NULL;
    int locked = 0;
    int err;

    if (in_place && (dict->flags & DICT_FLAG_LOCK)) {
        int fd;

        if (mdb_env_get_fd(dl->env, &fd) != 0 || lock_file(fd, LOCK_FILE_EXCLUSIVE) < 0)
            return dict_set_error(dict, "%s:%s: lock: %s", dict->type, dict->name,
                                  strerror(errno));
        locked = 1;
    }
    if (dl->read_txn) {
        mdb_txn_abort(dl->read_txn);
        dl->read_txn = NULL;
    }
    if (dl->cursor) {
        mdb_cursor_close(dl->cursor);
        dl->cursor = NULL;
    }
    if (dl->write_txn == NULL && dict_lmdb_begin_write(dl) < 0)
        goto fail;
    dl->ops = myrealloc(dl->ops, sizeof(*dl->ops) * (size_t) (dl->op_count + 1));
    dl->ops[dl->op_count].key = mystrdup(key);
    dl->ops[dl->op_count].value = value ? mystrdup(value) : NULL;
    dl->op_count++;
    err = dict_lmdb_apply(dl, key, value, dup);
    if (err == MDB_MAP_FULL) {
        if (dict_lmdb_grow(dl, dup) < 0) /* replays this update too */
            goto fail;
        err = 0;
    }
    if (err != 0) {
        dict_lmdb_fail(dict, value ? "update" : "delete", err);
        goto fail;
    }
    if (in_place || dl->op_count >= DICT_LMDB_BATCH) {
        if (dict_lmdb_commit(dl) < 0)
            goto fail;
    }
    if (locked) {
        int fd;

        if (mdb_env_get_fd(dl->env, &fd) == 0)
            (void) lock_file(fd, LOCK_FILE_UNLOCK);
    }
    return 0;

fail:
    if (dl->write_txn) {
        mdb_txn_abort(dl->write_txn);
        dl->write_txn = NULL;
    }
    dict_lmdb_ops_clear(dl);
    if (locked) {
        int fd;

        if (mdb_env_get_fd(dl->env, &fd) == 0)
            (void) lock_file(fd, LOCK_FILE_UNLOCK);
    }
    return DICT_STAT_ERROR;
}

static int dict_lmdb_put(DICT *dict, const char *key, const char *value)
{
    int dup;

    if (dict_lmdb_update(dict, key, value, &dup) < 0)
        return DICT_STAT_ERROR;
    return dup ? DICT_PUT_DUP : DICT_PUT_OK;
}

static int dict_lmdb_del(DICT *dict, const char *key)
{
    int missing;

    if (dict_lmdb_update(dict, key, NULL, &missing) < 0)
        return DICT_STAT_ERROR;
    return missing ? DICT_DEL_NOTFOUND : DICT_DEL_OK;
}

static int dict_lmdb_seq(DICT *dict, int func, const char **key, const char **value)
{
    DICT_LMDB *dl = (DICT_LMDB *) dict;
    MDB_val k, v;
    int err;

    if (func == DICT_SEQ_FIRST) {
        if (dl->write_txn && dict_lmdb_commit(dl) < 0)
            return DICT_STAT_ERROR;
        if (dl->cursor) {
            mdb_cursor_close(dl->cursor);
            dl->cursor = NULL;
        }
        if (dl->read_txn) {
            mdb_txn_abort(dl->read_txn);
            dl->read_txn = NULL;
        }
        if (dict_lmdb_read_begin(dl) < 0)
            return DICT_STAT_ERROR;
        if ((err = mdb_cursor_open(dl->read_txn, dl->dbi, &dl->cursor)) != 0)
            return dict_lmdb_fail(dict, "cursor", err);
    } else if (dl->cursor == NULL) {
        return dict_set_error(dict, "%s:%s: sequential access without a first call", dict->type,
                              dict->name);
    }
    err = mdb_cursor_get(dl->cursor, &k, &v, func == DICT_SEQ_FIRST ? MDB_FIRST : MDB_NEXT);
    if (err == MDB_NOTFOUND) {
        mdb_cursor_close(dl->cursor);
        dl->cursor = NULL;
        dict_lmdb_read_end(dl);
        return DICT_STAT_NOTFOUND;
    }
    if (err != 0)
        return dict_lmdb_fail(dict, "sequential read", err);
    *key = dict_lmdb_result(dl->key_buf, &k);
    *value = dict_lmdb_result(dl->val_buf, &v);
    return DICT_STAT_FOUND;
}

static int dict_lmdb_finish(DICT *dict)
{
    DICT_LMDB *dl = (DICT_LMDB *) dict;
    int ret = 0;

    if (dl->env == NULL)
        return 0;
    if (dl->cursor) {
        mdb_cursor_close(dl->cursor);
        dl->cursor = NULL;
    }
    if (dl->read_txn) {
        mdb_txn_abort(dl->read_txn);
        dl->read_txn = NULL;
    }
    if (dl->write_txn)
        ret = dict_lmdb_commit(dl);
    if (ret == 0 && (dl->dict.open_flags & O_ACCMODE) != O_RDONLY) {
        int err = mdb_env_sync(dl->env, 1);

        if (err != 0)
            ret = dict_lmdb_fail(dict, "sync", err);
    }
    mdb_env_close(dl->env);
    dl->env = NULL;
    return ret;
}

static void dict_lmdb_close(DICT *dict)
{
    DICT_LMDB *dl = (DICT_LMDB *) dict;

    if (dl->write_txn) {
        mdb_txn_abort(dl->write_txn);
        dl->write_txn = NULL;
    }
    (void) dict_lmdb_finish(dict);
    dict_lmdb_ops_clear(dl);
    myfree(dl->ops);
    vstring_free(dl->key_buf);
    vstring_free(dl->val_buf);
}

/* dict_lmdb_check_size - refuse a file shorter than its meta data says */
static int dict_lmdb_check_size(MDB_env *env, const char *path, VSTRING *why)
{
    MDB_envinfo info;
    MDB_stat stat;
    struct stat st;
    int fd;

    if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &stat) != 0
        || mdb_env_get_fd(env, &fd) != 0 || fstat(fd, &st) < 0) {
        vstring_sprintf(why, "%s: cannot read database information", path);
        return -1;
    }
    if ((unsigned long long) (info.me_last_pgno + 1) * stat.ms_psize
        > (unsigned long long) st.st_size) {
        vstring_sprintf(why, "%s: file is truncated (%lld bytes, needs %llu)", path,
                        (long long) st.st_size,
                        (unsigned long long) (info.me_last_pgno + 1) * stat.ms_psize);
        return -1;
    }
    return 0;
}

DICT *dict_lmdb_open(const char *type, const char *name, const char *path, int open_flags,
                     int dict_flags)
{
    unsigned env_flags = MDB_NOSUBDIR | MDB_NOLOCK;
    VSTRING *why = vstring_alloc(100);
    DICT_LMDB *dl;
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    int err;
    DICT *dict;

    if ((open_flags & O_ACCMODE) == O_RDONLY)
        env_flags |= MDB_RDONLY;
    if ((err = mdb_env_create(&env)) != 0) {
        vstring_sprintf(why, "mdb_env_create: %s", mdb_strerror(err));
        env = NULL;
        goto fail;
    }
    if ((env_flags & MDB_RDONLY) == 0 && (err = mdb_env_set_mapsize(env, dict_lmdb_map_size)) != 0) {
        vstring_sprintf(why, "set map size: %s", mdb_strerror(err));
        goto fail;
    }
    if ((open_flags & O_ACCMODE) != O_RDONLY && (open_flags & O_CREAT) == 0
        && access(path, F_OK) < 0) {
        vstring_sprintf(why, "open database %s: %s", path, strerror(errno));
        goto fail;
    }
    if ((err = mdb_env_open(env, path, env_flags, 0644)) != 0) {
        vstring_sprintf(why, "open database %s: %s", path, mdb_strerror(err));
        goto fail;
    }
    if (dict_lmdb_check_size(env, path, why) < 0)
        goto fail;
    if ((err = mdb_txn_begin(env, NULL, env_flags & MDB_RDONLY, &txn)) != 0
        || (err = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0) {
        vstring_sprintf(why, "open database %s: %s", path, mdb_strerror(err));
        goto fail;
    }
    if (open_flags & O_TRUNC)
        err = mdb_drop(txn, dbi, 0);
    if (err != 0 || (err = mdb_txn_commit(txn)) != 0) {
        txn = NULL;
        vstring_sprintf(why, "open database %s: %s", path, mdb_strerror(err));
        goto fail;
    }
    dl = (DICT_LMDB *) dict_alloc(type, name, sizeof(*dl), open_flags, dict_flags | DICT_FLAG_FIXED);
    dl->env = env;
    dl->dbi = dbi;
    dl->map_size = dict_lmdb_map_size;
    if ((env_flags & MDB_RDONLY) == 0) {
        MDB_envinfo info;

        if (mdb_env_info(env, &info) == 0 && info.me_mapsize > dl->map_size)
            dl->map_size = info.me_mapsize;
        dl->dict.put = dict_lmdb_put;
        dl->dict.del = dict_lmdb_del;
    }
    dl->key_buf = vstring_alloc(64);
    dl->val_buf = vstring_alloc(64);
    dl->dict.get = dict_lmdb_get;
    dl->dict.seq = dict_lmdb_seq;
    dl->dict.finish = dict_lmdb_finish;
    dl->dict.close = dict_lmdb_close;
    vstring_free(why);
    return &dl->dict;

fail:
    if (txn)
        mdb_txn_abort(txn);
    if (env)
        mdb_env_close(env);
    dict = dict_surrogate(type, name, open_flags, dict_flags, "%s", vstring_str(why));
    vstring_free(why);
    return dict;
}
