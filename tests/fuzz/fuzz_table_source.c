/*
 * NAME
 *	fuzz_table_source - libFuzzer harness for pattern table sources
 * SYNOPSIS
 *	build/fuzz/fuzz_table_source
 * DESCRIPTION
 *	The first byte of the input picks the table type (regexp, pcre or
 *	cidr); the rest, up to the first NUL byte pair, is the table's
 *	source text, and what follows are lookup keys, one per line. The
 *	harness parses the source with dict_pattern_text(), which must
 *	either build a table or fail cleanly, then looks every key up; an
 *	answer must be FOUND, NOTFOUND or ERROR (a broken table), never a
 *	crash, leak or hang. Keys are also split with the map and alias
 *	line splitters.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dict.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *types[] = {"regexp", "pcre", "cidr"};
    static int initialized;
    const char *text, *sep, *keys, *end;
    size_t text_len;
    DICT *dict;

    if (!initialized) {
        msg_set_logfile("/dev/null");
        initialized = 1;
    }
    if (size < 1)
        return 0;
    text = (const char *) data + 1;
    end = (const char *) data + size;
    sep = memmem(text, (size_t) (end - text), "\0\0", 2);
    text_len = sep ? (size_t) (sep - text) : (size_t) (end - text);
    keys = sep ? sep + 2 : end;

    dict = dict_pattern_text(types[data[0] % 3], text, text_len, DICT_FLAG_DEFAULT);
    while (keys < end) {
        const char *nl = memchr(keys, '\n', (size_t) (end - keys));
        size_t len = nl ? (size_t) (nl - keys) : (size_t) (end - keys);
        char *key = mystrndup(keys, len);
        char *copy = mystrdup(key);
        const char *value;
        char *k, *v;
        VSTRING *why = vstring_alloc(10);
        int status = dict_get(dict, key, &value);

        if (status != DICT_STAT_FOUND && status != DICT_STAT_NOTFOUND && status != DICT_STAT_ERROR)
            __builtin_trap();
        if (status == DICT_STAT_FOUND && value == NULL)
            __builtin_trap();
        (void) dict_src_split_map(copy, &k, &v, why);
        strcpy(copy, key);
        (void) dict_src_split_alias(copy, &k, &v, why);
        vstring_free(why);
        myfree(copy);
        myfree(key);
        keys += len + (nl ? 1 : 0);
    }
    dict_close(dict);
    return 0;
}
