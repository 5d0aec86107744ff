/*
 * NAME
 *	htable - string-keyed hash table
 * SYNOPSIS
 *	#include "htable.h"
 *
 *	HTABLE *htable_create(size_t size)
 *	HTABLE_INFO *htable_enter(HTABLE *table, const char *key, void *value)
 *	void *htable_find(HTABLE *table, const char *key)
 *	HTABLE_INFO *htable_locate(HTABLE *table, const char *key)
 *	int htable_delete(HTABLE *table, const char *key, void (*free_fn)(void *))
 *	void htable_free(HTABLE *table, void (*free_fn)(void *))
 *	HTABLE_INFO **htable_list(HTABLE *table)
 * DESCRIPTION
 *	htable_create() makes a table with about size buckets; it doubles
 *	when it holds more entries than buckets.
 *
 *	htable_enter() adds key (copied) with value, or replaces the value
 *	of an existing key, and returns the entry. htable_find() returns
 *	the value or NULL; htable_locate() the entry or NULL (to tell a
 *	NULL value from a missing key). htable_delete() removes an entry,
 *	calling free_fn on its value when free_fn is not NULL.
 *
 *	htable_list() returns the entries as a NULL-terminated array that
 *	the caller frees with myfree(); the entries stay the table's.
 */
#include <string.h>

#include "htable.h"
#include "mymalloc.h"

static size_t htable_hash(const char *key, size_t size)
{
    unsigned long h = 2166136261UL; /* FNV-1a */

    while (*key) {
        h ^= (unsigned char) *key++;
        h *= 16777619UL;
    }
    return h % size;
}

HTABLE *htable_create(size_t size)
{
    HTABLE *table = mymalloc(sizeof(*table));

    table->size = size < 13 ? 13 : size;
    table->used = 0;
    table->data = mycalloc(table->size, sizeof(HTABLE_INFO *));
    return table;
}

static void htable_grow(HTABLE *table)
{
    size_t new_size = table->size * 2 + 1;
    HTABLE_INFO **new_data = mycalloc(new_size, sizeof(HTABLE_INFO *));

    for (size_t i = 0; i < table->size; i++) {
        HTABLE_INFO *ht, *next;

        for (ht = table->data[i]; ht; ht = next) {
            size_t b = htable_hash(ht->key, new_size);

            next = ht->next;
            ht->next = new_data[b];
            new_data[b] = ht;
        }
    }
    myfree(table->data);
    table->data = new_data;
    table->size = new_size;
}

HTABLE_INFO *htable_locate(HTABLE *table, const char *key)
{
    HTABLE_INFO *ht;

    for (ht = table->data[htable_hash(key, table->size)]; ht; ht = ht->next)
        if (strcmp(ht->key, key) == 0)
            return ht;
    return NULL;
}

void *htable_find(HTABLE *table, const char *key)
{
    HTABLE_INFO *ht = htable_locate(table, key);

    return ht ? ht->value : NULL;
}

HTABLE_INFO *htable_enter(HTABLE *table, const char *key, void *value)
{
    HTABLE_INFO *ht = htable_locate(table, key);
    size_t b;

    if (ht) {
        ht->value = value;
        return ht;
    }
    if (table->used >= table->size)
        htable_grow(table);
    ht = mymalloc(sizeof(*ht));
    ht->key = mystrdup(key);
    ht->value = value;
    b = htable_hash(key, table->size);
    ht->next = table->data[b];
    table->data[b] = ht;
    table->used++;
    return ht;
}

int htable_delete(HTABLE *table, const char *key, void (*free_fn)(void *))
{
    HTABLE_INFO **link = &table->data[htable_hash(key, table->size)];

    for (HTABLE_INFO *ht = *link; ht; link = &ht->next, ht = *link) {
        if (strcmp(ht->key, key) == 0) {
            *link = ht->next;
            if (free_fn)
                free_fn(ht->value);
            myfree(ht->key);
            myfree(ht);
            table->used--;
            return 1;
        }
    }
    return 0;
}

void htable_free(HTABLE *table, void (*free_fn)(void *))
{
    if (table == NULL)
        return;
    for (size_t i = 0; i < table->size; i++) {
        HTABLE_INFO *ht, *next;

        for (ht = table->data[i]; ht; ht = next) {
            next = ht->next;
            if (free_fn)
                free_fn(ht->value);
            myfree(ht->key);
            myfree(ht);
        }
    }
    myfree(table->data);
    myfree(table);
}

HTABLE_INFO **htable_list(HTABLE *table)
{
    HTABLE_INFO **list = mymalloc(sizeof(*list) * (table->used + 1));
    size_t n = 0;

    for (size_t i = 0; i < table->size; i++)
        for (HTABLE_INFO *ht = table->data[i]; ht; ht = ht->next)
            list[n++] = ht;
    list[n] = NULL;
    return list;
}
