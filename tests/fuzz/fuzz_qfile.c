/*
 * NAME
 *	fuzz_qfile - libFuzzer harness for the queue tools' readers
 * SYNOPSIS
 *	build/fuzz/fuzz_qfile [libFuzzer options] [corpus...]
 * DESCRIPTION
 *	The input is read three ways from a memory file: as a queue file
 *	envelope with qfile_read() (with and without QFILE_FLAG_CONTENT,
 *	and as a maildrop file), checking that an accepted file is
 *	consistent (recipient offsets inside the file and increasing, MESG
 *	where the size record says, complete only with the content flag);
 *	and as a showq(8) listing with showq_read() until it fails or ends,
 *	checking that every value it returns is printable. Each accepted
 *	listing entry is also formatted as text and JSON.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "msg.h"
#include "qfile.h"
#include "showq_format.h"
#include "showq_proto.h"
#include "vstream.h"
#include "vstring.h"

static int mem_fd = -1;

static void check_env(const QFILE_ENV *env, size_t size, int flags)
{
    off_t prev = -1;

    if (env->complete && !(flags & QFILE_FLAG_CONTENT))
        abort();
    if (env->data_offset >= 0 && env->mesg_offset != env->data_offset)
        abort();
    if ((size_t)env->mesg_offset >= size)
        abort();
    for (int i = 0; i < env->rcpt_count; i++) {
        if (env->rcpt[i].offset <= prev || (size_t)env->rcpt[i].offset >= size)
            abort();
        if (env->rcpt[i].address[0] == 0)
            abort();
        prev = env->rcpt[i].offset;
    }
}

static void check_printable(const char *s)
{
    for (const unsigned char *cp = (const unsigned char *)s; *cp; cp++)
        if (*cp < 0x20 || *cp == 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int modes[] = {QFILE_FLAG_NONE, QFILE_FLAG_CONTENT,
                                QFILE_FLAG_MAILDROP | QFILE_FLAG_CONTENT};
    QFILE_ENV *env;
    SHOWQ_MSG *msg;
    VSTRING *why;
    VSTRING *out;
    VSTREAM *fp;

    if (mem_fd < 0) {
        msg_set_logfile("/dev/null");
        if ((mem_fd = memfd_create("fuzz_qfile", 0)) < 0)
            abort();
    }
    if (ftruncate(mem_fd, 0) < 0 || (size > 0 && pwrite(mem_fd, data, size, 0) != (ssize_t)size))
        abort();
    env = qfile_env_alloc();
    why = vstring_alloc(100);
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        if (lseek(mem_fd, 0, SEEK_SET) != 0)
            abort();
        fp = vstream_fdopen(mem_fd, O_RDONLY);
        if (qfile_read(fp, modes[m], env, why) == 0)
            check_env(env, size, modes[m]);
        else if (vstring_len(why) == 0)
            abort();
        vstream_fdclose(fp);
    }
    qfile_env_free(env);

    if (lseek(mem_fd, 0, SEEK_SET) != 0)
        abort();
    fp = vstream_fdopen(mem_fd, O_RDONLY);
    msg = showq_msg_alloc();
    out = vstring_alloc(100);
    while (showq_read(fp, msg) > 0) {
        check_printable(msg->queue_name);
        check_printable(msg->queue_id);
        check_printable(msg->sender);
        for (int i = 0; i < msg->rcpt_count; i++) {
            check_printable(msg->rcpt[i].address);
            check_printable(msg->rcpt[i].reason);
        }
        vstring_reset(out);
        showq_text_message(out, msg);
        showq_json_message(out, msg);
    }
    vstream_fdclose(fp);
    showq_msg_free(msg);
    vstring_free(out);
    vstring_free(why);
    return 0;
}
