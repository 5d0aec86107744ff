/*
 * NAME
 *	fuzz_attr - libFuzzer harness for the attribute reader
 * SYNOPSIS
 *	build/fuzz/fuzz_attr [libFuzzer options] [corpus...]
 * DESCRIPTION
 *	The first input byte selects the attr_scan() flags and a value
 *	limit; the rest is read through a VSTREAM on a memory file as a
 *	sequence of attribute lists, alternately with named items plus a
 *	name/value table and with attr_scan_nv(), until an error or end of
 *	file. Every list that is accepted is written back with attr_print()
 *	to a second memory file and read again, which must give the same
 *	table. Results must respect the limits.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attr.h"
#include "msg.h"
#include "mymalloc.h"

static int in_fd = -1, out_fd = -1;
static VSTRING *s1, *s2;

static void check_table(NVTABLE *table, size_t limit)
{
    HTABLE_INFO **list = htable_list(table);
    NVTABLE *again = attr_nv_create();
    VSTREAM *fp;

    for (HTABLE_INFO **hp = list; *hp; hp++)
        if (strlen((*hp)->key) > ATTR_NAME_MAX || strlen((*hp)->value) > limit)
            abort();
    if (ftruncate(out_fd, 0) < 0 || lseek(out_fd, 0, SEEK_SET) != 0)
        abort();
    fp = vstream_fdopen(out_fd, O_RDWR);
    if (attr_print(fp, ATTR_NV(table), ATTR_END) != 0 || vstream_fseek(fp, 0, SEEK_SET) != 0)
        abort();
    if (attr_scan_nv(fp, limit, again) != (int)table->used)
        abort();
    for (HTABLE_INFO **hp = list; *hp; hp++) {
        const char *v = attr_nv_find(again, (*hp)->key);

        if (v == NULL || strcmp(v, (*hp)->value) != 0)
            abort();
    }
    vstream_fdclose(fp);
    attr_nv_free(again);
    myfree(list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t limits[] = {0, 1, 16, 300};
    NVTABLE *table;
    VSTREAM *fp;
    size_t limit;
    int flags;
    long num;

    if (in_fd < 0) {
        msg_set_logfile("/dev/null");
        if ((in_fd = memfd_create("fuzz_attr_in", 0)) < 0 ||
            (out_fd = memfd_create("fuzz_attr_out", 0)) < 0)
            abort();
        s1 = vstring_alloc(100);
        s2 = vstring_alloc(100);
    }
    if (size == 0)
        return 0;
    flags = data[0] & ATTR_FLAG_STRICT;
    limit = limits[(data[0] >> 2) & 3];
    data++;
    size--;
    if (ftruncate(in_fd, 0) < 0 || (size > 0 && pwrite(in_fd, data, size, 0) != (ssize_t)size) ||
        lseek(in_fd, 0, SEEK_SET) != 0)
        abort();
    fp = vstream_fdopen(in_fd, O_RDONLY);
    table = attr_nv_create();
    for (int round = 0;; round++) {
        int ret;

        if (round % 2 == 0) {
            ret =
                attr_scan_limit(fp, flags, limit, ATTR_GET_STR("name", s1), ATTR_GET_INT("n", &num),
                                ATTR_GET_STR("x", s2), ATTR_GET_NV(table), ATTR_END);
            if (ret > 3)
                abort();
        } else {
            ret = attr_scan_nv(fp, limit, table);
        }
        if (ret < 0)
            break;
        if (table->used > ATTR_COUNT_MAX)
            abort();
        check_table(table, limit ? limit : ATTR_VALUE_MAX);
    }
    attr_nv_free(table);
    vstream_fdclose(fp);
    return 0;
}
