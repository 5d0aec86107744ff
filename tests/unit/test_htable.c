/*
 * test_htable - string-keyed hash table: enter/replace/find/locate/delete,
 * growth, listing, freeing values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "htable.h"
#include "mymalloc.h"

static int freed;

static void count_free(void *value)
{
    freed++;
    myfree(value);
}

static void test_basic(void **state)
{
    HTABLE *table = htable_create(0);
    HTABLE_INFO *ht;
    char key[8] = "key";
    int a = 1, b = 2;

    (void) state;
    ht = htable_enter(table, key, &a);
    key[0] = 'K'; /* the table kept its own copy */
    assert_string_equal(ht->key, "key");
    assert_ptr_equal(htable_find(table, "key"), &a);
    assert_null(htable_find(table, "Key")); /* case matters */
    assert_int_equal(table->used, 1);
    htable_enter(table, "key", &b); /* replace */
    assert_ptr_equal(htable_find(table, "key"), &b);
    assert_int_equal(table->used, 1);
    /* a NULL value is told from a missing key by htable_locate */
    htable_enter(table, "null", NULL);
    assert_null(htable_find(table, "null"));
    assert_non_null(htable_locate(table, "null"));
    assert_null(htable_locate(table, "missing"));
    assert_int_equal(htable_delete(table, "null", NULL), 1);
    assert_int_equal(htable_delete(table, "null", NULL), 0);
    htable_enter(table, "", &a); /* empty key is a key */
    assert_ptr_equal(htable_find(table, ""), &a);
    htable_free(table, NULL);
    htable_free(NULL, NULL);
}

static void test_growth_and_list(void **state)
{
    HTABLE *table = htable_create(1);
    HTABLE_INFO **list;
    char key[32];
    int n = 0;

    (void) state;
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        htable_enter(table, key, mystrdup(key));
    }
    assert_int_equal(table->used, 10000);
    assert_true(table->size >= 10000);
    for (int i = 0; i < 10000; i += 7) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_string_equal(htable_find(table, key), key);
    }
    list = htable_list(table);
    for (; list[n]; n++)
        assert_string_equal(list[n]->value, list[n]->key);
    assert_int_equal(n, 10000);
    myfree(list);
    freed = 0;
    for (int i = 0; i < 10000; i += 2) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(htable_delete(table, key, count_free), 1);
    }
    assert_int_equal(freed, 5000);
    assert_int_equal(table->used, 5000);
    assert_null(htable_find(table, "k0"));
    assert_string_equal(htable_find(table, "k1"), "k1");
    htable_free(table, count_free);
    assert_int_equal(freed, 10000);
}

static void test_empty_list(void **state)
{
    HTABLE *table = htable_create(5);
    HTABLE_INFO **list = htable_list(table);

    (void) state;
    assert_null(list[0]);
    myfree(list);
    htable_free(table, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_growth_and_list),
        cmocka_unit_test(test_empty_list),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
