/*
 * NAME
 *	bench_tables - build and look up large tables of each on-disk type
 * SYNOPSIS
 *	bench_tables [-n keys] [-t type,...] directory
 * DESCRIPTION
 *	For each type (default hash, btree, lmdb, cdb) bench_tables builds
 *	a table of keys "userN@example.com" -> "mailbox/N/..." in directory
 *	through the atomic rebuild API (dict_rebuild_open, dict_put,
 *	dict_rebuild_commit), reopens it read-only, and looks up every key
 *	in a shuffled order plus as many missing keys. It prints one line
 *	per type:
 *
 *	TYPE build N keys S.SSS s K keys/s lookup N keys S.SSS s K keys/s miss K keys/s
 *
 *	Any failed build or wrong answer is fatal (exit 1).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "dict.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

static double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void bench_key(char *buf, size_t len, long i)
{
    snprintf(buf, len, "user%ld@example.com", i);
}

static void bench_value(char *buf, size_t len, long i)
{
    snprintf(buf, len, "mailbox/%ld/Maildir/", i);
}

static void bench_type(const char *dir, const char *type, long count, const long *order)
{
    VSTRING *spec = vstring_alloc(100);
    VSTRING *why = vstring_alloc(100);
    char key[64], value[64];
    const char *answer;
    double t0, t_build, t_lookup, t_miss;
    DICT *dict;

    vstring_sprintf(spec, "%s:%s/bench-%s", type, dir, type);
    t0 = bench_now();
    if ((dict = dict_rebuild_open(vstring_str(spec), DICT_FLAG_DEFAULT, 0, 0644, why)) == NULL)
        msg_fatal("%s", vstring_str(why));
    for (long i = 0; i < count; i++) {
        bench_key(key, sizeof(key), i);
        bench_value(value, sizeof(value), i);
        if (dict_put(dict, key, value) != DICT_PUT_OK)
            msg_fatal("%s: put %s: %s", vstring_str(spec), key, dict_error(dict));
    }
    if (dict_rebuild_commit(dict, why) < 0)
        msg_fatal("%s", vstring_str(why));
    t_build = bench_now() - t0;

    dict = dict_open(vstring_str(spec), O_RDONLY, DICT_FLAG_DEFAULT);
    t0 = bench_now();
    for (long i = 0; i < count; i++) {
        bench_key(key, sizeof(key), order[i]);
        if (dict_get(dict, key, &answer) != DICT_STAT_FOUND)
            msg_fatal("%s: %s not found: %s", vstring_str(spec), key, dict_error(dict));
        bench_value(value, sizeof(value), order[i]);
        if (strcmp(answer, value) != 0)
            msg_fatal("%s: %s: wrong value %s", vstring_str(spec), key, answer);
    }
    t_lookup = bench_now() - t0;
    t0 = bench_now();
    for (long i = 0; i < count; i++) {
        bench_key(key, sizeof(key), count + order[i]);
        if (dict_get(dict, key, &answer) != DICT_STAT_NOTFOUND)
            msg_fatal("%s: %s: lookup should miss", vstring_str(spec), key);
    }
    t_miss = bench_now() - t0;
    dict_close(dict);
    printf("%-6s build %ld keys %.3f s %.0f keys/s  lookup %ld keys %.3f s %.0f keys/s  "
           "miss %.0f keys/s\n",
           type, count, t_build, count / t_build, count, t_lookup, count / t_lookup,
           count / t_miss);
    fflush(stdout);
    vstring_free(spec);
    vstring_free(why);
}

int main(int argc, char **argv)
{
    const char *types = "hash,btree,lmdb,cdb";
    long count = 100000;
    ARGV *list;
    long *order;
    int ch;

    msg_init("bench_tables");
    msg_set_stderr(1);
    while ((ch = getopt(argc, argv, "n:t:")) > 0) {
        switch (ch) {
        case 'n':
            count = atol(optarg);
            break;
        case 't':
            types = optarg;
            break;
        default:
            msg_fatal("usage: %s [-n keys] [-t type,...] directory", argv[0]);
        }
    }
    if (optind + 1 != argc || count <= 0)
        msg_fatal("usage: %s [-n keys] [-t type,...] directory", argv[0]);
    order = mymalloc(sizeof(*order) * (size_t) count);
    for (long i = 0; i < count; i++)
        order[i] = i;
    srandom(12345);
    for (long i = count - 1; i > 0; i--) {
        long j = random() % (i + 1), t = order[i];

        order[i] = order[j];
        order[j] = t;
    }
    list = argv_split(types, ARGV_DELIM_LIST);
    for (int i = 0; i < list->argc; i++)
        bench_type(argv[optind], list->argv[i], count, order);
    argv_free(list);
    myfree(order);
    return 0;
}
