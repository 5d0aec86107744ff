/*
 * NAME
 *	fuzz_rec - libFuzzer harness for the queue file record reader
 * SYNOPSIS
 *	build/fuzz/fuzz_rec [libFuzzer options] [corpus...]
 * DESCRIPTION
 *	The input becomes the content of a memory file read through a
 *	VSTREAM with rec_get() until end of file or an error. ATTR records
 *	go through rec_attr_split(); every RCPT record is marked done with
 *	rec_mark_done() and the file is read again, which must give the
 *	same records with RCPT turned into DONE. A record that is returned
 *	must fit the limit, and the reader must stop on REC_TYPE_ERROR.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "msg.h"
#include "rec.h"

#define FUZZ_DATA_MAX 1024 /* rec_get() limit */
#define FUZZ_REC_MAX 8192  /* records remembered (max_len 4096 gives fewer) */
#define FUZZ_RCPT_MAX 64   /* recipients marked done */

static int mem_fd = -1;
static VSTRING *buf;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int types[FUZZ_REC_MAX];
    off_t rcpt[FUZZ_RCPT_MAX];
    int nrcpt = 0, nrec = 0, last;
    VSTREAM *fp;
    int type;

    if (mem_fd < 0) {
        msg_set_logfile("/dev/null");
        if ((mem_fd = memfd_create("fuzz_rec", 0)) < 0)
            abort();
        buf = vstring_alloc(100);
    }
    if (ftruncate(mem_fd, 0) < 0 || (size > 0 && pwrite(mem_fd, data, size, 0) != (ssize_t)size) ||
        lseek(mem_fd, 0, SEEK_SET) != 0)
        abort();
    fp = vstream_fdopen(mem_fd, O_RDWR);
    for (;;) {
        off_t where = vstream_ftell(fp);

        type = rec_get(fp, buf, FUZZ_DATA_MAX);
        if (type == REC_TYPE_EOF || type == REC_TYPE_ERROR)
            break;
        if (!rec_type_ok(type) || vstring_len(buf) > FUZZ_DATA_MAX || nrec >= FUZZ_REC_MAX)
            abort();
        if (type == REC_TYPE_RCPT && nrcpt < FUZZ_RCPT_MAX) {
            rcpt[nrcpt++] = where;
            type = REC_TYPE_DONE; /* what the second pass must see */
        }
        types[nrec++] = type;
        if (type == REC_TYPE_ATTR) {
            const char *name, *value;

            if (rec_attr_split(buf, &name, &value) == 0 && (*name == 0 || strchr(name, '=')))
                abort();
        }
    }
    last = type;

    /* mark every recipient done, then read it all again */
    for (int i = 0; i < nrcpt; i++)
        if (rec_mark_done(fp, rcpt[i]) != 0)
            abort();
    if (rec_goto(fp, 0) != 0)
        abort();
    for (int i = 0; i < nrec; i++)
        if (rec_get(fp, buf, FUZZ_DATA_MAX) != types[i])
            abort();
    if (rec_get(fp, buf, FUZZ_DATA_MAX) != last)
        abort();
    vstream_fdclose(fp);
    return 0;
}
