#ifndef POSTERN_DICT_H
#define POSTERN_DICT_H
/*
 * dict - lookup tables named "type:name"
 *
 * One API for every table type: hash and btree (Berkeley DB, NAME.db),
 * lmdb (NAME.lmdb), cdb (NAME.cdb), texthash, inline, static, fail,
 * regexp (POSIX), pcre (PCRE2), cidr and unix (passwd.byname,
 * group.byname).
 *
 * Lookups: dict_get() returns DICT_STAT_FOUND with *value set,
 * DICT_STAT_NOTFOUND, or DICT_STAT_ERROR when the table could not answer
 * (unreadable or corrupt file, a table whose source had errors, a lookup
 * in a fail: table). An ERROR is never a miss: callers defer the mail
 * (4xx) instead. dict_error() gives the reason text. The value belongs to
 * the table and stays valid until the next call on the same table.
 *
 * dict_open() never fails for a well-formed "type:name": when the table
 * cannot be opened (missing file, unknown type, syntax error in a regexp
 * file) it returns a table on which every operation returns
 * DICT_STAT_ERROR; dict_open_error() says why (NULL for a healthy table).
 * Read-only opens are shared: a second dict_open() of the same type:name
 * with the same flags returns the same table with a reference count;
 * dict_close() drops one reference.
 *
 * Keys of fixed-string tables (hash btree lmdb cdb texthash inline unix)
 * are folded to lower case when DICT_FLAG_FOLD_FIX is set, on lookup and
 * on update alike. Pattern tables (regexp pcre cidr) see the key as given
 * and are case-insensitive by their own flags.
 *
 * On-disk tables are never changed in place by postmap/postalias: a
 * rebuild (dict_rebuild_open .. dict_rebuild_commit) writes a temporary
 * file in the same directory, syncs it and renames it over NAME.db, so a
 * reader sees the old table or the new one, never a mix. A reader that
 * opened the old file keeps it; dict_changed_name() (call it at a safe
 * point, e.g. between connections) reports a table whose file has been
 * replaced or changed, so a daemon can exit and let master restart it.
 *
 * Updates in place (dict_open with O_RDWR) exist for tables a daemon
 * maintains itself (caches; not cdb): every update takes an exclusive
 * lock on the file when DICT_FLAG_LOCK is set. Readers never lock (files
 * built by postmap are replaced, not changed), so a table updated in place
 * should be read only through the handle of the process that updates it.
 *
 * Ownership: a DICT belongs to whoever opened it and is released with
 * dict_close() (or, for a rebuild, dict_rebuild_commit/abort). Keys and
 * values passed in are copied as needed; strings returned belong to the
 * table.
 */
#include <sys/types.h>
#include <time.h>

#include "argv.h"
#include "vstream.h"
#include "vstring.h"

/* lookup results */
#define DICT_STAT_ERROR (-1)
#define DICT_STAT_NOTFOUND 0
#define DICT_STAT_FOUND 1

/* dict_flags: behaviour asked for by the caller */
#define DICT_FLAG_NONE 0
#define DICT_FLAG_FOLD_FIX (1 << 0)    /* fold fixed-string keys to lower case */
#define DICT_FLAG_TRY0NULL (1 << 1)    /* keys stored without a trailing NUL */
#define DICT_FLAG_TRY1NULL (1 << 2)    /* keys stored with a trailing NUL */
#define DICT_FLAG_DUP_WARN (1 << 3)    /* put of an existing key: warn, keep old */
#define DICT_FLAG_DUP_IGNORE (1 << 4)  /* put of an existing key: keep old silently */
#define DICT_FLAG_DUP_REPLACE (1 << 5) /* put of an existing key: replace */
#define DICT_FLAG_LOCK (1 << 6)        /* lock files around in-place updates */
#define DICT_FLAG_SYNC_UPDATE (1 << 7) /* flush after each in-place update */
/* dict_flags: properties a table type sets on itself */
#define DICT_FLAG_FIXED (1 << 8)       /* fixed-string keys */
#define DICT_FLAG_PATTERN (1 << 9)     /* keys are matched against patterns */

#define DICT_FLAG_DEFAULT (DICT_FLAG_FOLD_FIX | DICT_FLAG_LOCK | DICT_FLAG_DUP_WARN)

/* dict_seq() */
#define DICT_SEQ_FIRST 0
#define DICT_SEQ_NEXT 1

/* dict_put() results besides DICT_STAT_ERROR */
#define DICT_PUT_OK 0
#define DICT_PUT_DUP 1   /* key existed; old value kept (DUP_WARN/DUP_IGNORE) */

/* dict_del() results besides DICT_STAT_ERROR */
#define DICT_DEL_OK 0
#define DICT_DEL_NOTFOUND 1

/* a key or value longer than this is refused */
#define DICT_MAX_LEN (1 << 20)

typedef struct DICT DICT;

/*
 * The table object. Callers use the functions below; the fields are for
 * the table implementations (lib/dict_*.c).
 */
struct DICT {
    char *type;                 /* "hash" */
    char *name;                 /* "/etc/postern/virtual" */
    int flags;                  /* DICT_FLAG_* */
    int open_flags;             /* O_RDONLY, O_RDWR ... */
    /* methods; a NULL method answers DICT_STAT_ERROR "not supported" */
    int (*get)(DICT *, const char *key, const char **value);
    int (*put)(DICT *, const char *key, const char *value);
    int (*del)(DICT *, const char *key);
    int (*seq)(DICT *, int func, const char **key, const char **value);
    int (*finish)(DICT *);      /* flush a table being built; 0 or -1 */
    void (*close)(DICT *);      /* free the type's private part */
    VSTRING *why;               /* reason of the last error */
    char *open_error;           /* set for a table that failed to open */
    /* internal to dict.c */
    VSTRING *fold_buf;
    char *watch_path;           /* file whose replacement dict_changed_name() reports */
    dev_t watch_dev;
    ino_t watch_ino;
    struct timespec watch_mtime;
    off_t watch_size;
    int watch_missing;
    int refcount;
    char *reg_key;              /* registry key, NULL when not shared */
    char *final_path;           /* rebuild: file that the temporary replaces */
    VSTRING *tmp_path;          /* rebuild: the temporary file */
    int lock_fd;                /* rebuild/update: descriptor holding our lock */
};

/* sizes taken from main.cf by the programs that care (postmap, daemons) */
extern size_t dict_lmdb_map_size;      /* lmdb_map_size */
extern size_t dict_db_read_cache;      /* berkeley_db_read_buffer_size */
extern size_t dict_db_write_cache;     /* berkeley_db_create_buffer_size */

/* opening and closing */
DICT *dict_open(const char *spec, int open_flags, int dict_flags);
void dict_close(DICT *dict);
const char *dict_open_error(DICT *dict);

/* lookups and updates */
int dict_get(DICT *dict, const char *key, const char **value);
int dict_put(DICT *dict, const char *key, const char *value);
int dict_del(DICT *dict, const char *key);
int dict_seq(DICT *dict, int func, const char **key, const char **value);
const char *dict_error(DICT *dict);

/*
 * Atomic rebuild of an on-disk table (hash btree lmdb cdb). keep_old
 * copies the current content first (incremental update). mode is the
 * permission of the new file, or (mode_t) -1 to keep the old file's
 * (0644 for a new one). Returns NULL with why on failure. Concurrent
 * rebuilds of one table are serialized by an exclusive lock on the
 * current file.
 */
DICT *dict_rebuild_open(const char *spec, int dict_flags, int keep_old, mode_t mode, VSTRING *why);
int dict_rebuild_commit(DICT *dict, VSTRING *why); /* frees dict; 0 or -1 */
void dict_rebuild_abort(DICT *dict);               /* frees dict, removes the temporary */

/* change detection, at a safe point */
const char *dict_changed_name(void);  /* "type:name" of a replaced table, or NULL */

/* types */
int dict_type_known(const char *type);
int dict_type_on_disk(const char *type);        /* hash btree lmdb cdb */
const char *dict_file_suffix(const char *type); /* ".db" ".lmdb" ".cdb", or NULL */
ARGV *dict_type_list(void);                     /* caller frees */
int dict_split_spec(const char *spec, VSTRING *type, VSTRING *name); /* 0, -1 without ':' */

/*
 * dict_tables_in() returns (caller frees) every "type:name" in a parameter
 * value whose type is in the comma/space list types, e.g. "hash, btree" to
 * find tables that still need Berkeley DB.
 */
ARGV *dict_tables_in(const char *value, const char *types);

/*
 * Source files (postmap, postalias, texthash, regexp, pcre, cidr): one
 * reader for comments ('#' as first non-blank), blank lines and
 * continuation lines (starting with white space). dict_src_next() returns
 * 1 with the next logical line (continuations joined by one space, ends
 * trimmed) and its first line number, 0 at end, -1 with why on a read
 * error or a logical line over DICT_MAX_LEN.
 */
typedef struct DICT_SRC DICT_SRC;

DICT_SRC *dict_src_open(const char *path, VSTRING *why);   /* NULL + why */
DICT_SRC *dict_src_stream(VSTREAM *stream, const char *name); /* stream stays caller's */
DICT_SRC *dict_src_text(const char *text, size_t len, const char *name); /* text copied */
int dict_src_next(DICT_SRC *src, VSTRING *line, int *lineno, VSTRING *why);
const char *dict_src_name(DICT_SRC *src);
void dict_src_close(DICT_SRC *src);

/*
 * dict_src_split_map() splits "key whitespace value"; dict_src_split_alias()
 * splits aliases(5) "name: value" where name may be "quoted". Both modify
 * line in place and return 0, or -1 with why.
 */
int dict_src_split_map(char *line, char **key, char **value, VSTRING *why);
int dict_src_split_alias(char *line, char **key, char **value, VSTRING *why);

/*
 * Table tools shared by postmap and postalias (dict_build.c).
 *
 * dict_build() fills an open rebuild (see dict_rebuild_open) from src:
 * DICT_SRC_MAP lines are "key whitespace value", DICT_SRC_ALIAS lines are
 * aliases(5) "name: value". Each bad line is logged as an error
 * "FILE:LINE: reason"; a duplicate key as a warning (not with
 * DICT_FLAG_DUP_IGNORE or DICT_FLAG_DUP_REPLACE). Returns the number of
 * entries added, or -1 with why when any line was bad or an update failed
 * (the caller then aborts the rebuild, leaving the old table).
 *
 * dict_query_list() looks key up in each table of specs in order and
 * returns the first answer: DICT_STAT_FOUND with *value (valid until the
 * next call), DICT_STAT_NOTFOUND, or DICT_STAT_ERROR with why (an error
 * in an earlier table stops the search).
 */
#define DICT_SRC_MAP 0
#define DICT_SRC_ALIAS 1

long dict_build(DICT *dict, DICT_SRC *src, int style, VSTRING *why);
int dict_query_list(ARGV *specs, const char *key, int dict_flags, const char **value,
                    VSTRING *why);

/*
 * dict_tool_main() is the whole of postmap (style DICT_SRC_MAP) and
 * postalias/newaliases (DICT_SRC_ALIAS): it parses argv, reads main.cf,
 * does the work and returns the exit status (with -q/-d: 0 found, 1 not
 * found, 2 error; otherwise 0, errors fatal with status 1). It uses the
 * standard streams.
 */
int dict_tool_main(int argc, char **argv, int style);

/* for table implementations */
DICT *dict_alloc(const char *type, const char *name, size_t size, int open_flags, int dict_flags);
int dict_set_error(DICT *dict, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
DICT *dict_surrogate(const char *type, const char *name, int open_flags, int dict_flags,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void dict_watch(DICT *dict, const char *path);

/*
 * Type constructors, called by dict_open()/dict_rebuild_open(). name is
 * the part after "type:"; path is the file to open for on-disk types
 * (NAME.db, or the rebuild's temporary), NULL for the others.
 */
typedef DICT *(*DICT_OPEN_FN)(const char *type, const char *name, const char *path,
                              int open_flags, int dict_flags);
DICT *dict_db_open(const char *, const char *, const char *, int, int);       /* hash btree */
DICT *dict_lmdb_open(const char *, const char *, const char *, int, int);
DICT *dict_cdb_open(const char *, const char *, const char *, int, int);
DICT *dict_texthash_open(const char *, const char *, const char *, int, int);
DICT *dict_inline_open(const char *, const char *, const char *, int, int);
DICT *dict_static_open(const char *, const char *, const char *, int, int);
DICT *dict_fail_open(const char *, const char *, const char *, int, int);
DICT *dict_regexp_open(const char *, const char *, const char *, int, int);
DICT *dict_pcre_open(const char *, const char *, const char *, int, int);
DICT *dict_cidr_open(const char *, const char *, const char *, int, int);
DICT *dict_unix_open(const char *, const char *, const char *, int, int);

/*
 * In-memory fixed-string tables (texthash, inline): dict_mem_create()
 * makes an empty one that dict_put() fills (keys folded per the flags,
 * DICT_PUT_DUP for a key already present: the first value stays).
 */
DICT *dict_mem_create(const char *type, const char *name, int open_flags, int dict_flags);

/*
 * Pattern tables (regexp, pcre, cidr) share one rule-file engine:
 * "[!]pattern result", "if [!]pattern" .. "endif", "$N" substitution.
 * A pattern is "/regex/flags" (any delimiter) when delimited is set,
 * else one word (cidr). compile() returns the compiled pattern (NULL +
 * why) and its number of capture groups; prepare() may parse the key once
 * per lookup (NULL: the key can never match); match() returns 1, 0, -1
 * (with why), or DICT_PAT_NOT_APPLICABLE (no match even when negated),
 * and on a match fills offsets[2 * i], offsets[2 * i + 1] for group i
 * (-1 when the group did not take part), up to ngroups.
 */
#define DICT_PAT_MAX_GROUPS 100
#define DICT_PAT_NOT_APPLICABLE 2  /* match(): the rule does not apply to this key */

typedef struct DICT_PAT_OPS {
    int delimited;
    void *(*compile)(const char *pattern, const char *flags, int *ngroups, VSTRING *why);
    void *(*prepare)(const char *key);
    int (*match)(void *compiled, const char *key, void *prepared, long *offsets, int ngroups,
                 VSTRING *why);
    void (*release)(void *compiled);
    void (*release_key)(void *prepared);
} DICT_PAT_OPS;

DICT *dict_pattern_open(const char *type, const char *name, DICT_SRC *src, int open_flags,
                        int dict_flags, const DICT_PAT_OPS *ops);
const DICT_PAT_OPS *dict_pattern_ops(const char *type); /* regexp, pcre, cidr; else NULL */
extern const DICT_PAT_OPS dict_regexp_ops;  /* dict_regexp.c */
extern const DICT_PAT_OPS dict_pcre_ops;    /* dict_pcre.c */
extern const DICT_PAT_OPS dict_cidr_ops;    /* dict_cidr.c */

/* a pattern table from memory (tests, fuzzing): type is regexp, pcre or cidr */
DICT *dict_pattern_text(const char *type, const char *text, size_t len, int dict_flags);

/* helpers for on-disk types: the NUL convention of stored keys/values */
int dict_null_choose_write(DICT *dict); /* 1: write with a trailing NUL, 0: without */

#endif
