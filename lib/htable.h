#ifndef POSTERN_HTABLE_H
#define POSTERN_HTABLE_H
/*
 * htable - string-keyed hash table
 *
 * Keys are copied and owned by the table; values are the caller's pointers.
 * htable_free() calls free_fn (may be NULL) on every value.
 * Iteration order is unspecified; htable_list() returns a NULL-terminated
 * array of entries that the caller frees with myfree().
 */
#include <stddef.h>

typedef struct HTABLE_INFO {
    char *key;
    void *value;
    struct HTABLE_INFO *next;
} HTABLE_INFO;

typedef struct HTABLE {
    size_t size;  /* buckets */
    size_t used;  /* entries */
    HTABLE_INFO **data;
} HTABLE;

HTABLE *htable_create(size_t size);
HTABLE_INFO *htable_enter(HTABLE *table, const char *key, void *value); /* replaces value if present */
void *htable_find(HTABLE *table, const char *key);
HTABLE_INFO *htable_locate(HTABLE *table, const char *key);
int htable_delete(HTABLE *table, const char *key, void (*free_fn)(void *)); /* 1 if deleted */
void htable_free(HTABLE *table, void (*free_fn)(void *));
HTABLE_INFO **htable_list(HTABLE *table);

#endif
