/*
 * NAME
 *	dict - lookup tables named "type:name"
 * SYNOPSIS
 *	#include "dict.h"
 *
 *	DICT *dict_open(const char *spec, int open_flags, int dict_flags)
 *	void dict_close(DICT *dict)
 *	const char *dict_open_error(DICT *dict)
 *	int dict_get(DICT *dict, const char *key, const char **value)
 *	int dict_put(DICT *dict, const char *key, const char *value)
 *	int dict_del(DICT *dict, const char *key)
 *	int dict_seq(DICT *dict, int func, const char **key, const char **value)
 *	const char *dict_error(DICT *dict)
 *
 *	DICT *dict_rebuild_open(const char *spec, int dict_flags, int keep_old,
 *				mode_t mode, VSTRING *why)
 *	int dict_rebuild_commit(DICT *dict, VSTRING *why)
 *	void dict_rebuild_abort(DICT *dict)
 *
 *	const char *dict_changed_name(void)
 *	int dict_type_known(const char *type)
 *	int dict_type_on_disk(const char *type)
 *	const char *dict_file_suffix(const char *type)
 *	ARGV *dict_type_list(void)
 *	int dict_split_spec(const char *spec, VSTRING *type, VSTRING *name)
 *	ARGV *dict_tables_in(const char *value, const char *types)
 *
 *	DICT *dict_alloc(const char *type, const char *name, size_t size,
 *			int open_flags, int dict_flags)
 *	int dict_set_error(DICT *dict, const char *fmt, ...)
 *	DICT *dict_surrogate(const char *type, const char *name, int open_flags,
 *			int dict_flags, const char *fmt, ...)
 *	void dict_watch(DICT *dict, const char *path)
 *	int dict_null_choose_write(DICT *dict)
 * DESCRIPTION
 *	dict_open() splits spec at its first ':' into type and name, finds
 *	the type's constructor and opens the table. Read-only opens are
 *	kept in a per-process registry and shared (reference counted) by
 *	later opens of the same spec with the same flags. A table that
 *	cannot be opened becomes a surrogate whose every operation returns
 *	DICT_STAT_ERROR with the reason (dict_open_error()).
 *
 *	dict_get(), dict_put(), dict_del() and dict_seq() check the table
 *	state and key length, fold fixed-string keys to lower case when
 *	DICT_FLAG_FOLD_FIX is set, and call the type's method. A missing
 *	method answers DICT_STAT_ERROR ("operation not supported").
 *
 *	dict_rebuild_open() prepares an atomic rebuild of an on-disk table:
 *	it locks the current file (waiting for another rebuild), creates a
 *	temporary file next to it, opens the type on the temporary and, for
 *	keep_old, copies the current entries in. dict_rebuild_commit()
 *	flushes the table, fsyncs the temporary, renames it over the table
 *	and fsyncs the directory; on any failure the old table is untouched.
 *
 *	dict_changed_name() stats the file behind every shared table and
 *	returns the spec of the first one that was replaced, changed, came
 *	into existence or went away since it was opened. A file that can
 *	no longer be examined at all (stat fails other than with ENOENT,
 *	e.g. EACCES after a privilege drop) is not "changed": a warning is
 *	logged and the table is no longer watched.
 *
 *	dict_tables_in() scans a parameter value (a list of tables, or a
 *	restriction list) for "type:name" words of the listed types.
 *
 *	dict_alloc(), dict_set_error(), dict_surrogate(), dict_watch() and
 *	dict_null_choose_write() are for the table implementations.
 *	dict_null_choose_write() settles, for a table being written, whether
 *	keys and values get a trailing NUL: with only one of
 *	DICT_FLAG_TRY1NULL/TRY0NULL that one, otherwise with NUL (what
 *	Postfix writes on Linux).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dict.h"
#include "htable.h"
#include "lock_file.h"
#include "msg.h"
#include "mymalloc.h"
#include "safe_open.h"
#include "vstring.h"

typedef struct DICT_TYPE {
    const char *type;
    const char *suffix;      /* on-disk file suffix, or NULL */
    int watch_name;          /* the name is a source file to watch */
    DICT_OPEN_FN open;
} DICT_TYPE;

static const DICT_TYPE dict_types[] = {
    {"hash", ".db", 0, dict_db_open},
    {"btree", ".db", 0, dict_db_open},
    {"lmdb", ".lmdb", 0, dict_lmdb_open},
    {"cdb", ".cdb", 0, dict_cdb_open},
    {"texthash", NULL, 1, dict_texthash_open},
    {"inline", NULL, 0, dict_inline_open},
    {"static", NULL, 0, dict_static_open},
    {"fail", NULL, 0, dict_fail_open},
    {"regexp", NULL, 1, dict_regexp_open},
    {"pcre", NULL, 1, dict_pcre_open},
    {"cidr", NULL, 1, dict_cidr_open},
    {"unix", NULL, 0, dict_unix_open},
    {NULL, NULL, 0, NULL},
};

static HTABLE *dict_registry;

static const DICT_TYPE *dict_type_find(const char *type)
{
    for (const DICT_TYPE *dt = dict_types; dt->type; dt++)
        if (strcmp(dt->type, type) == 0)
            return dt;
    return NULL;
}

int dict_type_known(const char *type)
{
    return dict_type_find(type) != NULL;
}

int dict_type_on_disk(const char *type)
{
    const DICT_TYPE *dt = dict_type_find(type);

    return dt != NULL && dt->suffix != NULL;
}

const char *dict_file_suffix(const char *type)
{
    const DICT_TYPE *dt = dict_type_find(type);

    return dt ? dt->suffix : NULL;
}

ARGV *dict_type_list(void)
{
    ARGV *list = argv_alloc(16);

    for (const DICT_TYPE *dt = dict_types; dt->type; dt++)
        argv_add(list, dt->type);
    return list;
}

int dict_split_spec(const char *spec, VSTRING *type, VSTRING *name)
{
    const char *colon = strchr(spec, ':');

    if (colon == NULL || colon == spec)
        return -1;
    vstring_strncpy(type, spec, (size_t) (colon - spec));
    vstring_strcpy(name, colon + 1);
    return 0;
}

/* ---- allocation, errors, surrogates ---- */

DICT *dict_alloc(const char *type, const char *name, size_t size, int open_flags, int dict_flags)
{
    DICT *dict;

    if (size < sizeof(DICT))
        msg_panic("dict_alloc: size %zu too small", size);
    dict = mycalloc(1, size);
    dict->type = mystrdup(type);
    dict->name = mystrdup(name);
    dict->open_flags = open_flags;
    dict->flags = dict_flags;
    dict->why = vstring_alloc(64);
    dict->lock_fd = -1;
    return dict;
}

int dict_set_error(DICT *dict, const char *fmt, ...)
{
    va_list ap;

    vstring_reset(dict->why);
    va_start(ap, fmt);
    vstring_vsprintf_append(dict->why, fmt, ap);
    va_end(ap);
    return DICT_STAT_ERROR;
}

DICT *dict_surrogate(const char *type, const char *name, int open_flags, int dict_flags,
                     const char *fmt, ...)
{
    DICT *dict = dict_alloc(type, name, sizeof(DICT), open_flags, dict_flags);
    VSTRING *buf = vstring_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    dict->open_error = vstring_export(buf);
    vstring_strcpy(dict->why, dict->open_error);
    return dict;
}

const char *dict_open_error(DICT *dict)
{
    return dict->open_error;
}

const char *dict_error(DICT *dict)
{
    if (dict->open_error)
        return dict->open_error;
    return vstring_len(dict->why) ? vstring_str(dict->why) : "unknown error";
}

void dict_watch(DICT *dict, const char *path)
{
    struct stat st;

    myfree(dict->watch_path);
    dict->watch_path = mystrdup(path);
    if (stat(path, &st) < 0) {
        dict->watch_missing = 1;
        return;
    }
    dict->watch_missing = 0;
    dict->watch_dev = st.st_dev;
    dict->watch_ino = st.st_ino;
    dict->watch_mtime = st.st_mtim;
    dict->watch_size = st.st_size;
}

int dict_null_choose_write(DICT *dict)
{
    int both = DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL;

    if ((dict->flags & both) == DICT_FLAG_TRY0NULL)
        return 0;
    if ((dict->flags & both) != DICT_FLAG_TRY1NULL)
        dict->flags = (dict->flags & ~both) | DICT_FLAG_TRY1NULL;
    return 1;
}

static void dict_free(DICT *dict)
{
    if (dict->close)
        dict->close(dict);
    if (dict->lock_fd >= 0)
        close(dict->lock_fd);
    vstring_free(dict->why);
    vstring_free(dict->fold_buf);
    vstring_free(dict->tmp_path);
    myfree(dict->open_error);
    myfree(dict->watch_path);
    myfree(dict->reg_key);
    myfree(dict->final_path);
    myfree(dict->type);
    myfree(dict->name);
    myfree(dict);
}

/* ---- opening ---- */

static int dict_default_null_flags(int dict_flags)
{
    if ((dict_flags & (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)) == 0)
        dict_flags |= DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL;
    return dict_flags;
}

/* dict_open_type - open one table of a known type, never NULL */
static DICT *dict_open_type(const DICT_TYPE *dt, const char *name, const char *path,
                            int open_flags, int dict_flags)
{
    DICT *dict = dt->open(dt->type, name, path, open_flags, dict_flags);

    if (dict == NULL)
        msg_panic("dict_open: %s:%s: constructor returned NULL", dt->type, name);
    return dict;
}

DICT *dict_open(const char *spec, int open_flags, int dict_flags)
{
    VSTRING *type = vstring_alloc(16);
    VSTRING *name = vstring_alloc(64);
    VSTRING *reg_key = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    const DICT_TYPE *dt;
    DICT *dict;

    dict_flags = dict_default_null_flags(dict_flags);
    vstring_sprintf(reg_key, "%s\n%d\n%d", spec, open_flags, dict_flags);
    if ((open_flags & O_ACCMODE) == O_RDONLY && dict_registry
        && (dict = htable_find(dict_registry, vstring_str(reg_key))) != NULL) {
        dict->refcount++;
        goto done;
    }
    if (dict_split_spec(spec, type, name) < 0) {
        dict = dict_surrogate("fail", spec, open_flags, dict_flags,
                              "table name \"%s\" is not of the form type:name", spec);
    } else if ((dt = dict_type_find(vstring_str(type))) == NULL) {
        dict = dict_surrogate(vstring_str(type), vstring_str(name), open_flags, dict_flags,
                              "unsupported dictionary type: %s", vstring_str(type));
    } else {
        if (dt->suffix)
            vstring_sprintf(path, "%s%s", vstring_str(name), dt->suffix);
        else
            vstring_strcpy(path, vstring_str(name));
        dict = dict_open_type(dt, vstring_str(name), dt->suffix ? vstring_str(path) : NULL,
                              open_flags, dict_flags);
        if (dt->suffix || dt->watch_name)
            dict_watch(dict, vstring_str(path));
    }
    dict->refcount = 1;
    if ((open_flags & O_ACCMODE) == O_RDONLY) {
        if (dict_registry == NULL)
            dict_registry = htable_create(13);
        dict->reg_key = mystrdup(vstring_str(reg_key));
        htable_enter(dict_registry, dict->reg_key, dict);
    }
    if (dict->open_error && strcmp(dict->type, "fail") != 0)
        msg_warn("%s:%s: %s", dict->type, dict->name, dict->open_error);
done:
    vstring_free(type);
    vstring_free(name);
    vstring_free(reg_key);
    vstring_free(path);
    return dict;
}

void dict_close(DICT *dict)
{
    if (dict == NULL)
        return;
    if (dict->tmp_path) {
        dict_rebuild_abort(dict);
        return;
    }
    if (--dict->refcount > 0)
        return;
    if (dict->reg_key && dict_registry)
        htable_delete(dict_registry, dict->reg_key, NULL);
    dict_free(dict);
}

/* ---- operations ---- */

static const char *dict_fold(DICT *dict, const char *key)
{
    if ((dict->flags & (DICT_FLAG_FOLD_FIX | DICT_FLAG_FIXED))
        != (DICT_FLAG_FOLD_FIX | DICT_FLAG_FIXED))
        return key;
    if (dict->fold_buf == NULL)
        dict->fold_buf = vstring_alloc(64);
    vstring_strcpy(dict->fold_buf, key);
    vstring_lowercase(dict->fold_buf);
    return vstring_str(dict->fold_buf);
}

static int dict_usable(DICT *dict, void *method, const char *what)
{
    if (dict->open_error) {
        vstring_strcpy(dict->why, dict->open_error);
        return 0;
    }
    if (method == NULL) {
        dict_set_error(dict, "%s:%s: %s is not supported by this table type", dict->type,
                       dict->name, what);
        return 0;
    }
    return 1;
}

int dict_get(DICT *dict, const char *key, const char **value)
{
    *value = NULL;
    if (!dict_usable(dict, (void *) dict->get, "lookup"))
        return DICT_STAT_ERROR;
    if (strlen(key) > DICT_MAX_LEN)
        return DICT_STAT_NOTFOUND;
    return dict->get(dict, dict_fold(dict, key), value);
}

int dict_put(DICT *dict, const char *key, const char *value)
{
    if (!dict_usable(dict, (void *) dict->put, "update"))
        return DICT_STAT_ERROR;
    if ((dict->open_flags & O_ACCMODE) == O_RDONLY)
        return dict_set_error(dict, "%s:%s: table is open read-only", dict->type, dict->name);
    if (strlen(key) > DICT_MAX_LEN || strlen(value) > DICT_MAX_LEN)
        return dict_set_error(dict, "%s:%s: key or value longer than %d bytes", dict->type,
                              dict->name, DICT_MAX_LEN);
    if (*key == 0)
        return dict_set_error(dict, "%s:%s: empty key", dict->type, dict->name);
    return dict->put(dict, dict_fold(dict, key), value);
}

int dict_del(DICT *dict, const char *key)
{
    if (!dict_usable(dict, (void *) dict->del, "delete"))
        return DICT_STAT_ERROR;
    if ((dict->open_flags & O_ACCMODE) == O_RDONLY)
        return dict_set_error(dict, "%s:%s: table is open read-only", dict->type, dict->name);
    if (strlen(key) > DICT_MAX_LEN)
        return DICT_DEL_NOTFOUND;
    return dict->del(dict, dict_fold(dict, key));
}

int dict_seq(DICT *dict, int func, const char **key, const char **value)
{
    *key = *value = NULL;
    if (!dict_usable(dict, (void *) dict->seq, "sequential access"))
        return DICT_STAT_ERROR;
    return dict->seq(dict, func, key, value);
}

/* ---- atomic rebuild ---- */

/*
 * dict_rebuild_lock - lock the current file exclusively; returns the
 * descriptor, -1 when there is no file, -2 with why on error. After the
 * lock is granted we make sure the path still names the locked file: a
 * rebuild that held the lock before us may have renamed a new file over it.
 */
static int dict_rebuild_lock(const char *path, VSTRING *why)
{
    struct stat fst, pst;
    int fd;

    for (int tries = 0; tries < 100; tries++) {
        if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) < 0) {
            if (errno == ENOENT)
                return -1;
            if (errno == EACCES || errno == EROFS)
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            if (fd < 0) {
                vstring_sprintf(why, "open %s: %s", path, strerror(errno));
                return -2;
            }
            return fd; /* cannot take a write lock; rename still keeps readers safe */
        }
        if (lock_file(fd, LOCK_FILE_EXCLUSIVE) < 0) {
            vstring_sprintf(why, "lock %s: %s", path, strerror(errno));
            close(fd);
            return -2;
        }
        if (fstat(fd, &fst) == 0 && stat(path, &pst) == 0 && fst.st_dev == pst.st_dev
            && fst.st_ino == pst.st_ino)
            return fd;
        close(fd);
    }
    vstring_sprintf(why, "lock %s: file keeps being replaced", path);
    return -2;
}

/* dict_rebuild_copy - copy the entries of the current table into the new one */
static int dict_rebuild_copy(const DICT_TYPE *dt, const char *name, const char *path,
                             DICT *dict, int dict_flags, VSTRING *why)
{
    DICT *old = dict_open_type(dt, name, path, O_RDONLY,
                               (dict_flags & ~DICT_FLAG_FOLD_FIX) | DICT_FLAG_TRY0NULL
                                   | DICT_FLAG_TRY1NULL);
    const char *key, *value;
    int func = DICT_SEQ_FIRST;
    int status, saved = dict->flags;
    int ret = 0;

    if (old->open_error) {
        vstring_strcpy(why, old->open_error);
        dict_free(old);
        return -1;
    }
    dict->flags = (dict->flags & ~(DICT_FLAG_DUP_WARN | DICT_FLAG_DUP_IGNORE))
                  | DICT_FLAG_DUP_REPLACE;
    while ((status = dict_seq(old, func, &key, &value)) == DICT_STAT_FOUND) {
        func = DICT_SEQ_NEXT;
        if (*key == 0)
            continue;
        if (dict->put(dict, key, value) == DICT_STAT_ERROR) {
            vstring_strcpy(why, dict_error(dict));
            ret = -1;
            break;
        }
    }
    if (status == DICT_STAT_ERROR) {
        vstring_sprintf(why, "read %s: %s", path, dict_error(old));
        ret = -1;
    }
    dict->flags = (saved & ~DICT_FLAG_TRY0NULL & ~DICT_FLAG_TRY1NULL)
                  | (dict->flags & (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL));
    dict_free(old);
    return ret;
}

DICT *dict_rebuild_open(const char *spec, int dict_flags, int keep_old, mode_t mode, VSTRING *why)
{
    VSTRING *type = vstring_alloc(16);
    VSTRING *name = vstring_alloc(64);
    VSTRING *final = vstring_alloc(100);
    VSTRING *tmp = vstring_alloc(100);
    const DICT_TYPE *dt;
    DICT *dict = NULL;
    int lock_fd = -1;
    int fd;

    dict_flags = dict_default_null_flags(dict_flags);
    if (dict_split_spec(spec, type, name) < 0) {
        vstring_sprintf(why, "table name \"%s\" is not of the form type:name", spec);
        goto out;
    }
    if ((dt = dict_type_find(vstring_str(type))) == NULL) {
        vstring_sprintf(why, "unsupported dictionary type: %s", vstring_str(type));
        goto out;
    }
    if (dt->suffix == NULL) {
        vstring_sprintf(why, "unsupported dictionary type for building: %s", dt->type);
        goto out;
    }
    vstring_sprintf(final, "%s%s", vstring_str(name), dt->suffix);
    if ((lock_fd = dict_rebuild_lock(vstring_str(final), why)) == -2)
        goto out;
    if ((fd = safe_replace_begin(vstring_str(final), mode, tmp, why)) < 0)
        goto out;
    close(fd);
    dict = dict_open_type(dt, vstring_str(name), vstring_str(tmp),
                          O_RDWR | O_CREAT | O_TRUNC, dict_flags);
    if (dict->open_error) {
        vstring_strcpy(why, dict->open_error);
        dict_free(dict);
        dict = NULL;
        safe_replace_abort(-1, vstring_str(tmp));
        goto out;
    }
    dict->final_path = mystrdup(vstring_str(final));
    dict->tmp_path = tmp;
    tmp = NULL;
    dict->lock_fd = lock_fd;
    lock_fd = -1;
    if (keep_old && access(dict->final_path, F_OK) == 0
        && dict_rebuild_copy(dt, vstring_str(name), dict->final_path, dict, dict_flags, why) < 0) {
        dict_rebuild_abort(dict);
        dict = NULL;
    }
out:
    if (lock_fd >= 0)
        close(lock_fd);
    vstring_free(type);
    vstring_free(name);
    vstring_free(final);
    vstring_free(tmp);
    return dict;
}

int dict_rebuild_commit(DICT *dict, VSTRING *why)
{
    int ret = 0;

    if (dict->tmp_path == NULL)
        msg_panic("dict_rebuild_commit: %s:%s is not being rebuilt", dict->type, dict->name);
    if (dict->finish && dict->finish(dict) < 0) {
        vstring_sprintf(why, "%s", dict_error(dict));
        safe_replace_abort(-1, vstring_str(dict->tmp_path));
        ret = -1;
    } else if (safe_replace_commit(-1, vstring_str(dict->tmp_path), dict->final_path, why) < 0) {
        ret = -1;
    }
    dict_free(dict);
    return ret;
}

void dict_rebuild_abort(DICT *dict)
{
    VSTRING *tmp = dict->tmp_path;

    dict->tmp_path = NULL;
    dict_free(dict);
    if (tmp) {
        safe_replace_abort(-1, vstring_str(tmp));
        vstring_free(tmp);
    }
}

/* ---- change detection ---- */

static int dict_file_changed(DICT *dict)
{
    struct stat st;

    if (dict->watch_path == NULL)
        return 0;
    if (stat(dict->watch_path, &st) < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return !dict->watch_missing;
        /* e.g. EACCES after a privilege drop: we cannot tell, so stop asking */
        msg_warn("cannot watch %s:%s for changes: stat %s: %m", dict->type, dict->name,
                 dict->watch_path);
        myfree(dict->watch_path);
        dict->watch_path = NULL;
        return 0;
    }
    if (dict->watch_missing)
        return 1;
    return st.st_dev != dict->watch_dev || st.st_ino != dict->watch_ino
           || st.st_size != dict->watch_size || st.st_mtim.tv_sec != dict->watch_mtime.tv_sec
           || st.st_mtim.tv_nsec != dict->watch_mtime.tv_nsec;
}

const char *dict_changed_name(void)
{
    static VSTRING *buf;
    HTABLE_INFO **list;
    const char *result = NULL;

    if (dict_registry == NULL)
        return NULL;
    list = htable_list(dict_registry);
    for (HTABLE_INFO **ht = list; *ht; ht++) {
        DICT *dict = (*ht)->value;

        if (dict_file_changed(dict)) {
            if (buf == NULL)
                buf = vstring_alloc(100);
            vstring_sprintf(buf, "%s:%s", dict->type, dict->name);
            result = vstring_str(buf);
            break;
        }
    }
    myfree(list);
    return result;
}

/* ---- scanning parameter values ---- */

ARGV *dict_tables_in(const char *value, const char *types)
{
    ARGV *want = argv_split(types, ARGV_DELIM_LIST);
    ARGV *words = argv_split_braces(value, ARGV_DELIM_LIST);
    ARGV *found = argv_alloc(4);
    VSTRING *type = vstring_alloc(16);
    VSTRING *name = vstring_alloc(64);

    if (words == NULL)
        words = argv_split(value, ARGV_DELIM_LIST);
    for (int i = 0; i < words->argc; i++) {
        const char *word = words->argv[i];

        if (dict_split_spec(word, type, name) < 0)
            continue;
        for (int j = 0; j < want->argc; j++) {
            if (strcmp(vstring_str(type), want->argv[j]) == 0) {
                argv_add(found, word);
                break;
            }
        }
    }
    argv_free(want);
    argv_free(words);
    vstring_free(type);
    vstring_free(name);
    return found;
}
