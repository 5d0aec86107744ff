/*
 * NAME
 *	test_dict - unit tests for the table API and the fixed-string types
 * SYNOPSIS
 *	build/unit/test_dict
 * DESCRIPTION
 *	Tests dict_open() (registry sharing, surrogates for bad names,
 *	unknown types and missing files), case folding, the static, fail,
 *	inline, texthash and unix types, the source reader (comments,
 *	continuation lines, bad lines, NUL bytes, over-long lines), the
 *	map and alias line splitters, dict_tables_in(), and for each
 *	on-disk type (hash, btree, lmdb, cdb): atomic rebuild, lookup,
 *	sequential dump, delete, incremental update, duplicate handling,
 *	NUL conventions, abort leaving the old table, change detection,
 *	and truncated or corrupt files giving DICT_STAT_ERROR, not a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dict.h"
#include "htable.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

static char tmpdir[] = "/tmp/test_dict.XXXXXX";
static VSTRING *why;

static int setup(void **state)
{
    (void) state;
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    why = vstring_alloc(100);
    msg_set_logfile("/dev/null");
    return 0;
}

static int teardown(void **state)
{
    char cmd[200];

    (void) state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return -1;
    vstring_free(why);
    return 0;
}

static char *path_of(const char *name)
{
    static char buf[4][256];
    static int n;

    n = (n + 1) % 4;
    snprintf(buf[n], sizeof(buf[n]), "%s/%s", tmpdir, name);
    return buf[n];
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static void expect_get(DICT *dict, const char *key, int want_status, const char *want_value)
{
    const char *value;
    int status = dict_get(dict, key, &value);

    if (status != want_status)
        fail_msg("key \"%s\": status %d, wanted %d (%s)", key, status, want_status,
                 dict_error(dict));
    if (want_value)
        assert_string_equal(value, want_value);
}

/* ---- registry, surrogates, simple types ---- */

static void test_open_errors(void **state)
{
    DICT *dict;
    const char *value;

    (void) state;
    dict = dict_open("no-colon", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_non_null(dict_open_error(dict));
    assert_int_equal(dict_get(dict, "x", &value), DICT_STAT_ERROR);
    assert_null(value);
    dict_close(dict);

    dict = dict_open("nosuchtype:foo", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_int_equal(dict_get(dict, "x", &value), DICT_STAT_ERROR);
    assert_non_null(strstr(dict_error(dict), "unsupported dictionary type"));
    dict_close(dict);

    dict = dict_open("hash:/nonexistent/table", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_int_equal(dict_get(dict, "x", &value), DICT_STAT_ERROR);
    assert_non_null(strstr(dict_error(dict), "/nonexistent/table.db"));
    assert_int_equal(dict_put(dict, "a", "b"), DICT_STAT_ERROR);
    dict_close(dict);

    dict = dict_open("unix:nosuch.map", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_int_equal(dict_get(dict, "root", &value), DICT_STAT_ERROR);
    dict_close(dict);
}

static void test_registry(void **state)
{
    DICT *a, *b, *c;

    (void) state;
    a = dict_open("static:one", O_RDONLY, DICT_FLAG_DEFAULT);
    b = dict_open("static:one", O_RDONLY, DICT_FLAG_DEFAULT);
    c = dict_open("static:one", O_RDONLY, DICT_FLAG_NONE);
    assert_ptr_equal(a, b);
    assert_ptr_not_equal(a, c);
    dict_close(a);
    expect_get(b, "anything", DICT_STAT_FOUND, "one");
    dict_close(b);
    dict_close(c);
}

static void test_static_fail(void **state)
{
    DICT *dict;
    const char *value;

    (void) state;
    dict = dict_open("static:{ text with spaces }", O_RDONLY, DICT_FLAG_DEFAULT);
    expect_get(dict, "x", DICT_STAT_FOUND, "text with spaces");
    assert_int_equal(dict_put(dict, "x", "y"), DICT_STAT_ERROR);
    dict_close(dict);
    dict = dict_open("static:{unclosed", O_RDONLY, DICT_FLAG_DEFAULT);
    expect_get(dict, "x", DICT_STAT_ERROR, NULL);
    dict_close(dict);
    dict = dict_open("fail:reason", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_int_equal(dict_get(dict, "x", &value), DICT_STAT_ERROR);
    assert_non_null(strstr(dict_error(dict), "fail:reason"));
    dict_close(dict);
}

static void test_inline(void **state)
{
    DICT *dict;
    const char *key, *value;
    int n = 0;

    (void) state;
    dict = dict_open("inline:{ Alpha=1, beta=two, { gamma = with spaces, and commas } }",
                     O_RDONLY, DICT_FLAG_DEFAULT);
    assert_null(dict_open_error(dict));
    expect_get(dict, "alpha", DICT_STAT_FOUND, "1");
    expect_get(dict, "ALPHA", DICT_STAT_FOUND, "1");
    expect_get(dict, "beta", DICT_STAT_FOUND, "two");
    expect_get(dict, "gamma", DICT_STAT_FOUND, "with spaces, and commas");
    expect_get(dict, "delta", DICT_STAT_NOTFOUND, NULL);
    for (int f = DICT_SEQ_FIRST; dict_seq(dict, f, &key, &value) == DICT_STAT_FOUND; f = DICT_SEQ_NEXT)
        n++;
    assert_int_equal(n, 3);
    dict_close(dict);

    const char *bad[] = {"inline:a=b", "inline:{ a }", "inline:{ =b }", "inline:{ a=1, a=2 }",
                         "inline:{ {a=b }", "inline:{ a = b }", NULL};
    for (int i = 0; bad[i]; i++) {
        dict = dict_open(bad[i], O_RDONLY, DICT_FLAG_DEFAULT);
        if (dict_open_error(dict) == NULL)
            fail_msg("%s: opened without error", bad[i]);
        expect_get(dict, "a", DICT_STAT_ERROR, NULL);
        dict_close(dict);
    }
}

static void test_fold(void **state)
{
    DICT *dict;

    (void) state;
    dict = dict_open("inline:{ Key=Value }", O_RDONLY, DICT_FLAG_NONE);
    expect_get(dict, "Key", DICT_STAT_FOUND, "Value");
    expect_get(dict, "key", DICT_STAT_NOTFOUND, NULL);
    dict_close(dict);
    dict = dict_open("inline:{ Key=Value }", O_RDONLY, DICT_FLAG_FOLD_FIX);
    expect_get(dict, "KEY", DICT_STAT_FOUND, "Value");
    dict_close(dict);
}

static void test_texthash(void **state)
{
    const char *text = "# comment\n"
                       "Foo   bar baz  \n"
                       "\n"
                       "   \t\n"
                       "multi first\n"
                       "   second\n"
                       "#  interleaved comment\n"
                       "\tthird\n"
                       "foo duplicate\n";
    DICT *dict;

    (void) state;
    write_file(path_of("th"), text, strlen(text));
    dict = dict_open(vstring_str(vstring_sprintf(why, "texthash:%s", path_of("th"))), O_RDONLY,
                     DICT_FLAG_DEFAULT);
    assert_null(dict_open_error(dict));
    expect_get(dict, "FOO", DICT_STAT_FOUND, "bar baz");
    expect_get(dict, "multi", DICT_STAT_FOUND, "first second third");
    expect_get(dict, "#", DICT_STAT_NOTFOUND, NULL);
    dict_close(dict);

    write_file(path_of("th-bad"), "good x\nbad\n", 11);
    dict = dict_open(vstring_str(vstring_sprintf(why, "texthash:%s", path_of("th-bad"))),
                     O_RDONLY, DICT_FLAG_DEFAULT);
    expect_get(dict, "good", DICT_STAT_ERROR, NULL);
    assert_non_null(strstr(dict_error(dict), "th-bad:2:"));
    dict_close(dict);
}

static void test_unix(void **state)
{
    DICT *dict;
    const char *value;

    (void) state;
    dict = dict_open("unix:passwd.byname", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_int_equal(dict_get(dict, "root", &value), DICT_STAT_FOUND);
    assert_true(strncmp(value, "root:", 5) == 0);
    assert_non_null(strstr(value, ":0:0:"));
    expect_get(dict, "no-such-user-xyzzy", DICT_STAT_NOTFOUND, NULL);
    dict_close(dict);
    dict = dict_open("unix:group.byname", O_RDONLY, DICT_FLAG_DEFAULT);
    assert_int_equal(dict_get(dict, "root", &value), DICT_STAT_FOUND);
    assert_true(strncmp(value, "root:", 5) == 0);
    dict_close(dict);
}

/* ---- the source reader ---- */

static void test_src_reader(void **state)
{
    const char text[] = "a 1\n"
                        "# c\n"
                        "b 2\n"
                        "  cont\n"
                        "\n"
                        "   # indented comment\n"
                        "c 3"; /* no final newline */
    VSTRING *line = vstring_alloc(10);
    DICT_SRC *src = dict_src_text(text, sizeof(text) - 1, "t");
    int lineno;

    (void) state;
    assert_int_equal(dict_src_next(src, line, &lineno, why), 1);
    assert_string_equal(vstring_str(line), "a 1");
    assert_int_equal(lineno, 1);
    assert_int_equal(dict_src_next(src, line, &lineno, why), 1);
    assert_string_equal(vstring_str(line), "b 2 cont");
    assert_int_equal(lineno, 3);
    assert_int_equal(dict_src_next(src, line, &lineno, why), 1);
    assert_string_equal(vstring_str(line), "c 3");
    assert_int_equal(lineno, 7);
    assert_int_equal(dict_src_next(src, line, &lineno, why), 0);
    dict_src_close(src);

    src = dict_src_text("  leading\n", 10, "t");
    assert_int_equal(dict_src_next(src, line, &lineno, why), -1);
    assert_non_null(strstr(vstring_str(why), "t:1:"));
    dict_src_close(src);

    src = dict_src_text("a\0b x\n", 6, "t");
    assert_int_equal(dict_src_next(src, line, &lineno, why), -1);
    assert_non_null(strstr(vstring_str(why), "NUL"));
    dict_src_close(src);

    char *big = mymalloc(DICT_MAX_LEN + 10);
    memset(big, 'x', DICT_MAX_LEN + 9);
    big[DICT_MAX_LEN + 9] = 0;
    src = dict_src_text(big, DICT_MAX_LEN + 9, "t");
    assert_int_equal(dict_src_next(src, line, &lineno, why), -1);
    assert_non_null(strstr(vstring_str(why), "too long"));
    dict_src_close(src);
    myfree(big);

    src = dict_src_text("", 0, "t");
    assert_int_equal(dict_src_next(src, line, &lineno, why), 0);
    dict_src_close(src);
    vstring_free(line);
}

static void test_src_file(void **state)
{
    VSTRING *line = vstring_alloc(10);
    DICT_SRC *src;
    int lineno;

    (void) state;
    write_file(path_of("src"), "x 1\n  y\nz 2\n", 12);
    src = dict_src_open(path_of("src"), why);
    assert_non_null(src);
    assert_int_equal(dict_src_next(src, line, &lineno, why), 1);
    assert_string_equal(vstring_str(line), "x 1 y");
    assert_int_equal(dict_src_next(src, line, &lineno, why), 1);
    assert_string_equal(vstring_str(line), "z 2");
    assert_int_equal(lineno, 3);
    assert_int_equal(dict_src_next(src, line, &lineno, why), 0);
    dict_src_close(src);
    assert_null(dict_src_open(path_of("nonexistent"), why));
    assert_non_null(strstr(vstring_str(why), "nonexistent"));
    vstring_free(line);
}

static void test_split(void **state)
{
    char buf[200];
    char *key, *value;

    (void) state;
    strcpy(buf, "key   value with  spaces  ");
    assert_int_equal(dict_src_split_map(buf, &key, &value, why), 0);
    assert_string_equal(key, "key");
    assert_string_equal(value, "value with  spaces");
    strcpy(buf, "lonely");
    assert_int_equal(dict_src_split_map(buf, &key, &value, why), -1);

    strcpy(buf, "Name: a, b,  c ");
    assert_int_equal(dict_src_split_alias(buf, &key, &value, why), 0);
    assert_string_equal(key, "Name");
    assert_string_equal(value, "a, b,  c");
    strcpy(buf, "\"with space\\\"q\" : |\"/bin/cmd x\"");
    assert_int_equal(dict_src_split_alias(buf, &key, &value, why), 0);
    assert_string_equal(key, "with space\"q");
    assert_string_equal(value, "|\"/bin/cmd x\"");
    strcpy(buf, "name\t:  value");
    assert_int_equal(dict_src_split_alias(buf, &key, &value, why), 0);
    assert_string_equal(key, "name");
    assert_string_equal(value, "value");
    strcpy(buf, "name: :include:/etc/list");
    assert_int_equal(dict_src_split_alias(buf, &key, &value, why), 0);
    assert_string_equal(value, ":include:/etc/list");
    const char *bad[] = {"noval:", "novalue", ": x", "\"open: x", "\"\": x", "a b: c", NULL};
    for (int i = 0; bad[i]; i++) {
        strcpy(buf, bad[i]);
        if (dict_src_split_alias(buf, &key, &value, why) != -1)
            fail_msg("\"%s\" accepted", bad[i]);
    }
}

static void test_tables_in(void **state)
{
    ARGV *found;

    (void) state;
    found = dict_tables_in("hash:/etc/a, lmdb:/etc/b btree:/etc/c,pcre:/x, check_client_access "
                           "hash:/etc/d",
                           "hash, btree");
    assert_int_equal(found->argc, 3);
    assert_string_equal(found->argv[0], "hash:/etc/a");
    assert_string_equal(found->argv[1], "btree:/etc/c");
    assert_string_equal(found->argv[2], "hash:/etc/d");
    argv_free(found);
    found = dict_tables_in("", "hash");
    assert_int_equal(found->argc, 0);
    argv_free(found);
}

static void test_types(void **state)
{
    ARGV *list = dict_type_list();

    (void) state;
    assert_true(list->argc >= 12);
    argv_free(list);
    assert_true(dict_type_on_disk("hash"));
    assert_true(dict_type_on_disk("cdb"));
    assert_false(dict_type_on_disk("pcre"));
    assert_false(dict_type_known("nis"));
    assert_string_equal(dict_file_suffix("lmdb"), ".lmdb");
    assert_string_equal(dict_file_suffix("btree"), ".db");
}

/* ---- on-disk types ---- */

static const char *disk_types[] = {"hash", "btree", "lmdb", "cdb", NULL};

static void build(const char *spec, int flags, int keep_old, const char **kv)
{
    DICT *dict = dict_rebuild_open(spec, flags, keep_old, 0644, why);

    if (dict == NULL)
        fail_msg("%s: %s", spec, vstring_str(why));
    for (int i = 0; kv[i]; i += 2)
        assert_int_equal(dict_put(dict, kv[i], kv[i + 1]), DICT_PUT_OK);
    if (dict_rebuild_commit(dict, why) < 0)
        fail_msg("%s: commit: %s", spec, vstring_str(why));
}

static int count_entries(DICT *dict)
{
    const char *key, *value;
    int n = 0, status, f = DICT_SEQ_FIRST;

    while ((status = dict_seq(dict, f, &key, &value)) == DICT_STAT_FOUND) {
        f = DICT_SEQ_NEXT;
        n++;
    }
    assert_int_equal(status, DICT_STAT_NOTFOUND);
    return n;
}

static void test_disk_roundtrip(void **state)
{
    const char *kv[] = {"Alpha", "one", "beta", "two words", "gamma@example.com", "x", NULL};
    char spec[300];

    (void) state;
    for (int t = 0; disk_types[t]; t++) {
        DICT *dict;
        struct stat st;

        snprintf(spec, sizeof(spec), "%s:%s", disk_types[t], path_of(disk_types[t]));
        build(spec, DICT_FLAG_DEFAULT, 0, kv);
        snprintf(why->data, why->size, "%s%s", path_of(disk_types[t]),
                 dict_file_suffix(disk_types[t]));
        assert_int_equal(stat(why->data, &st), 0);
        dict = dict_open(spec, O_RDONLY, DICT_FLAG_DEFAULT);
        assert_null(dict_open_error(dict));
        expect_get(dict, "alpha", DICT_STAT_FOUND, "one");
        expect_get(dict, "ALPHA", DICT_STAT_FOUND, "one");
        expect_get(dict, "beta", DICT_STAT_FOUND, "two words");
        expect_get(dict, "Gamma@Example.COM", DICT_STAT_FOUND, "x");
        expect_get(dict, "delta", DICT_STAT_NOTFOUND, NULL);
        expect_get(dict, "", DICT_STAT_NOTFOUND, NULL);
        assert_int_equal(count_entries(dict), 3);
        assert_int_equal(dict_put(dict, "a", "b"), DICT_STAT_ERROR); /* read-only */
        dict_close(dict);
    }
}

static void test_disk_incremental(void **state)
{
    const char *kv[] = {"a", "1", "b", "2", NULL};
    const char *more[] = {"c", "3", NULL};
    char spec[300];

    (void) state;
    for (int t = 0; disk_types[t]; t++) {
        DICT *dict;

        snprintf(spec, sizeof(spec), "%s:%s", disk_types[t], path_of("inc"));
        build(spec, DICT_FLAG_DEFAULT, 0, kv);
        build(spec, DICT_FLAG_DEFAULT, 1, more);

        /* duplicates: kept, replaced */
        dict = dict_rebuild_open(spec, DICT_FLAG_DEFAULT, 1, 0644, why);
        assert_non_null(dict);
        assert_int_equal(dict_put(dict, "a", "changed"), DICT_PUT_DUP);
        assert_int_equal(dict_del(dict, "b"), DICT_DEL_OK);
        assert_int_equal(dict_del(dict, "b"), DICT_DEL_NOTFOUND);
        assert_int_equal(dict_rebuild_commit(dict, why), 0);
        dict = dict_rebuild_open(spec, DICT_FLAG_DEFAULT | DICT_FLAG_DUP_REPLACE, 1, 0644, why);
        assert_non_null(dict);
        assert_int_equal(dict_put(dict, "c", "three"), DICT_PUT_OK);
        assert_int_equal(dict_rebuild_commit(dict, why), 0);

        dict = dict_open(spec, O_RDONLY, DICT_FLAG_NONE);
        expect_get(dict, "a", DICT_STAT_FOUND, "1");
        expect_get(dict, "b", DICT_STAT_NOTFOUND, NULL);
        expect_get(dict, "c", DICT_STAT_FOUND, "three");
        assert_int_equal(count_entries(dict), 2);
        dict_close(dict);

        /* an aborted rebuild leaves the table as it was */
        dict = dict_rebuild_open(spec, DICT_FLAG_DEFAULT, 0, 0644, why);
        assert_int_equal(dict_put(dict, "z", "26"), DICT_PUT_OK);
        dict_rebuild_abort(dict);
        dict = dict_open(spec, O_RDONLY, DICT_FLAG_NONE);
        expect_get(dict, "z", DICT_STAT_NOTFOUND, NULL);
        expect_get(dict, "a", DICT_STAT_FOUND, "1");
        dict_close(dict);
    }
}

static void test_disk_nulls(void **state)
{
    const char *kv[] = {"k", "v", NULL};
    char spec[300];

    (void) state;
    for (int t = 0; disk_types[t]; t++) {
        DICT *dict;

        snprintf(spec, sizeof(spec), "%s:%s", disk_types[t], path_of("nul0"));
        build(spec, DICT_FLAG_TRY0NULL, 0, kv);
        dict = dict_open(spec, O_RDONLY, DICT_FLAG_TRY1NULL); /* only with NUL: miss */
        expect_get(dict, "k", DICT_STAT_NOTFOUND, NULL);
        dict_close(dict);
        dict = dict_open(spec, O_RDONLY, DICT_FLAG_NONE);   /* both: found */
        expect_get(dict, "k", DICT_STAT_FOUND, "v");
        dict_close(dict);

        snprintf(spec, sizeof(spec), "%s:%s", disk_types[t], path_of("nul1"));
        build(spec, DICT_FLAG_TRY1NULL, 0, kv);
        dict = dict_open(spec, O_RDONLY, DICT_FLAG_TRY0NULL);
        expect_get(dict, "k", DICT_STAT_NOTFOUND, NULL);
        dict_close(dict);
        dict = dict_open(spec, O_RDONLY, DICT_FLAG_NONE);
        expect_get(dict, "k", DICT_STAT_FOUND, "v");
        dict_close(dict);
    }
}

static void test_disk_corrupt(void **state)
{
    const char *kv[] = {"a", "1", "b", "2", NULL};
    char spec[300], file[300];
    char garbage[8192];

    (void) state;
    for (size_t i = 0; i < sizeof(garbage); i++)
        garbage[i] = (char) (i * 7 + 3);
    for (int t = 0; disk_types[t]; t++) {
        const char *suffix = dict_file_suffix(disk_types[t]);
        struct stat st;
        DICT *dict;

        snprintf(spec, sizeof(spec), "%s:%s", disk_types[t], path_of("bad"));
        snprintf(file, sizeof(file), "%s%s", path_of("bad"), suffix);

        /* garbage */
        write_file(file, garbage, sizeof(garbage));
        dict = dict_open(spec, O_RDONLY, DICT_FLAG_DEFAULT);
        expect_get(dict, "a", DICT_STAT_ERROR, NULL);
        dict_close(dict);

        /* empty */
        write_file(file, "", 0);
        dict = dict_open(spec, O_RDONLY, DICT_FLAG_DEFAULT);
        expect_get(dict, "a", DICT_STAT_ERROR, NULL);
        dict_close(dict);

        /* truncated good files: an error or an answer, never a crash */
        build(spec, DICT_FLAG_DEFAULT, 0, kv);
        assert_int_equal(stat(file, &st), 0);
        for (off_t len = st.st_size - 1; len > 0; len /= 2) {
            const char *value;

            assert_int_equal(truncate(file, len), 0);
            dict = dict_open(spec, O_RDONLY, DICT_FLAG_DEFAULT);
            (void) dict_get(dict, "a", &value);
            (void) dict_get(dict, "b", &value);
            dict_close(dict);
        }
    }
}

static void test_disk_not_buildable(void **state)
{
    (void) state;
    assert_null(dict_rebuild_open("pcre:/tmp/x", DICT_FLAG_DEFAULT, 0, 0644, why));
    assert_non_null(strstr(vstring_str(why), "building"));
    assert_null(dict_rebuild_open("nosuch:/tmp/x", DICT_FLAG_DEFAULT, 0, 0644, why));
    assert_null(dict_rebuild_open("hash:/nonexistent-dir/x", DICT_FLAG_DEFAULT, 0, 0644, why));
}

static void test_changed(void **state)
{
    const char *kv[] = {"a", "old", NULL};
    const char *kv2[] = {"a", "new", NULL};
    char spec[300];
    DICT *dict;

    (void) state;
    snprintf(spec, sizeof(spec), "lmdb:%s", path_of("chg"));
    build(spec, DICT_FLAG_DEFAULT, 0, kv);
    dict = dict_open(spec, O_RDONLY, DICT_FLAG_DEFAULT);
    assert_null(dict_changed_name());
    build(spec, DICT_FLAG_DEFAULT, 0, kv2);
    /* the open table still reads the old file */
    expect_get(dict, "a", DICT_STAT_FOUND, "old");
    assert_non_null(dict_changed_name());
    assert_non_null(strstr(dict_changed_name(), "lmdb:"));
    dict_close(dict);
    assert_null(dict_changed_name());
    dict = dict_open(spec, O_RDONLY, DICT_FLAG_DEFAULT);
    expect_get(dict, "a", DICT_STAT_FOUND, "new");
    dict_close(dict);

    /* a missing file that appears */
    snprintf(spec, sizeof(spec), "cdb:%s", path_of("later"));
    dict = dict_open(spec, O_RDONLY, DICT_FLAG_DEFAULT);
    expect_get(dict, "a", DICT_STAT_ERROR, NULL);
    assert_null(dict_changed_name());
    build(spec, DICT_FLAG_DEFAULT, 0, kv);
    assert_non_null(dict_changed_name());
    dict_close(dict);
}

static void test_big(void **state)
{
    char spec[300], key[64], value[64];

    (void) state;
    for (int t = 0; disk_types[t]; t++) {
        DICT *dict;

        snprintf(spec, sizeof(spec), "%s:%s", disk_types[t], path_of("big"));
        dict = dict_rebuild_open(spec, DICT_FLAG_DEFAULT, 0, 0644, why);
        assert_non_null(dict);
        for (int i = 0; i < 20000; i++) {
            snprintf(key, sizeof(key), "user%d@example.com", i);
            snprintf(value, sizeof(value), "mailbox/%d/%0*d", i, 30, i);
            assert_int_equal(dict_put(dict, key, value), DICT_PUT_OK);
        }
        assert_int_equal(dict_rebuild_commit(dict, why), 0);
        dict = dict_open(spec, O_RDONLY, DICT_FLAG_DEFAULT);
        for (int i = 0; i < 20000; i += 997) {
            snprintf(key, sizeof(key), "USER%d@example.com", i);
            snprintf(value, sizeof(value), "mailbox/%d/%0*d", i, 30, i);
            expect_get(dict, key, DICT_STAT_FOUND, value);
        }
        assert_int_equal(count_entries(dict), 20000);
        dict_close(dict);
    }
}

static void test_lmdb_grows(void **state)
{
    char spec[300], key[64];
    size_t saved = dict_lmdb_map_size;
    char *value = mymalloc(5000);
    DICT *dict;

    (void) state;
    memset(value, 'v', 4999);
    value[4999] = 0;
    dict_lmdb_map_size = 65536; /* far too small: must grow many times */
    snprintf(spec, sizeof(spec), "lmdb:%s", path_of("grow"));
    dict = dict_rebuild_open(spec, DICT_FLAG_DEFAULT, 0, 0644, why);
    assert_non_null(dict);
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(dict_put(dict, key, value), DICT_PUT_OK);
    }
    assert_int_equal(dict_put(dict, "k5", "dup"), DICT_PUT_DUP);
    assert_int_equal(dict_rebuild_commit(dict, why), 0);
    dict_lmdb_map_size = saved;
    dict = dict_open(spec, O_RDONLY, DICT_FLAG_DEFAULT);
    expect_get(dict, "k2999", DICT_STAT_FOUND, value);
    assert_int_equal(count_entries(dict), 3000);
    dict_close(dict);
    myfree(value);
}

static void test_inplace_db(void **state)
{
    char spec[300];
    DICT *dict;

    (void) state;
    /* a table a daemon keeps itself (a cache): updated in place */
    snprintf(spec, sizeof(spec), "btree:%s", path_of("cache"));
    dict = dict_open(spec, O_RDWR | O_CREAT, DICT_FLAG_DEFAULT | DICT_FLAG_SYNC_UPDATE);
    assert_null(dict_open_error(dict));
    assert_int_equal(dict_put(dict, "k", "v1"), DICT_PUT_OK);
    assert_int_equal(dict_put(dict, "k", "v2"), DICT_PUT_DUP);
    expect_get(dict, "k", DICT_STAT_FOUND, "v1");
    assert_int_equal(dict_del(dict, "k"), DICT_DEL_OK);
    expect_get(dict, "k", DICT_STAT_NOTFOUND, NULL);
    dict_close(dict);

    snprintf(spec, sizeof(spec), "lmdb:%s", path_of("cache2"));
    dict = dict_open(spec, O_RDWR | O_CREAT, DICT_FLAG_DEFAULT);
    assert_null(dict_open_error(dict));
    assert_int_equal(dict_put(dict, "k", "v1"), DICT_PUT_OK);
    expect_get(dict, "k", DICT_STAT_FOUND, "v1");
    dict_close(dict);
    dict = dict_open(spec, O_RDONLY, DICT_FLAG_DEFAULT);
    expect_get(dict, "k", DICT_STAT_FOUND, "v1");
    dict_close(dict);

    snprintf(spec, sizeof(spec), "cdb:%s", path_of("cache3"));
    dict = dict_open(spec, O_RDWR | O_CREAT, DICT_FLAG_DEFAULT);
    assert_non_null(dict_open_error(dict));
    dict_close(dict);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_static_fail),
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_texthash),
        cmocka_unit_test(test_unix),
        cmocka_unit_test(test_src_reader),
        cmocka_unit_test(test_src_file),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_tables_in),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_disk_roundtrip),
        cmocka_unit_test(test_disk_incremental),
        cmocka_unit_test(test_disk_nulls),
        cmocka_unit_test(test_disk_corrupt),
        cmocka_unit_test(test_disk_not_buildable),
        cmocka_unit_test(test_changed),
        cmocka_unit_test(test_big),
        cmocka_unit_test(test_lmdb_grows),
        cmocka_unit_test(test_inplace_db),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
