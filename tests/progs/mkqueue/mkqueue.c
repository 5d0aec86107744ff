/*
 * NAME
 *	mkqueue - write complete queue files for tests, as cleanup(8) would
 * SYNOPSIS
 *	mkqueue [options] recipient...
 * DESCRIPTION
 *	mkqueue writes messages straight into a queue directory, in the
 *	queue file layout of lib/cleanup_proto.h (SIZE TIME ATTR... FROM
 *	[ORCP] [NOTIFY] RCPT... MESG NORM... XTRA END, mode 0700, fsync'd,
 *	named by its queue ID), and prints each queue ID on a line of its
 *	own. Tests use it to feed qmgr(8) without smtpd or cleanup.
 *
 *	-d dir		the queue directory (default: the current directory)
 *	-q queue	the queue subdirectory (default incoming)
 *	-f sender	envelope sender (default sender@example.com; "" = <>)
 *	-n count	how many messages (default 1)
 *	-b lines	body lines per message (default 3)
 *	-l length	length of each body line (default 60)
 *	-i tag		Message-ID <tag.N@mkqueue> (default: the pid)
 *	-o orig		original recipient for every recipient (ORCP record)
 *	-N bits		DSN NOTIFY bits for every recipient
 *	-a seconds	arrival time this many seconds in the past
 *	-D		mark the first recipient done (DONE record)
 *	-E		leave out the END record (an incomplete file)
 *	-W		leave the file in mode 0600 (still being written)
 *	-T		trigger qmgr (public/qmgr, "I") after the last file
 * DIAGNOSTICS
 *	Exit status 0 on success; errors are fatal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "mail_server.h"
#include "msg.h"
#include "mymalloc.h"
#include "queue_id.h"
#include "rec.h"
#include "vstream.h"
#include "vstring.h"

static const char *opt_queue = "incoming";
static const char *opt_sender = "sender@example.com";
static const char *opt_orig = NULL;
static const char *opt_tag = NULL;
static long opt_body = 3, opt_len = 60, opt_age = 0, opt_notify = -1;
static int opt_done, opt_noend, opt_writing;

static void put_line(VSTREAM *fp, long *size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void put_line(VSTREAM *fp, long *size, const char *fmt, ...)
{
    VSTRING *buf = vstring_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    if (rec_put_line(fp, vstring_str(buf), vstring_len(buf), 2048) != REC_TYPE_NORM)
        msg_fatal("write %s: %m", vstream_path(fp));
    *size += (long) vstring_len(buf) + 1;
    vstring_free(buf);
}

static void mkqueue_one(int seq, int nrcpt, char **rcpts)
{
    VSTRING *tmp = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    VSTRING *id = vstring_alloc(20);
    VSTRING *line = vstring_alloc(200);
    struct timeval tv;
    struct stat st;
    VSTREAM *fp;
    off_t mesg;
    long size = 0;
    int fd;

    vstring_sprintf(tmp, "%s/mkqueue.%d.%d", opt_queue, (int) getpid(), seq);
    if ((fd = open(vstring_str(tmp), O_RDWR | O_CREAT | O_EXCL, 0600)) < 0)
        msg_fatal("create %s: %m", vstring_str(tmp));
    fp = vstream_fdopen(fd, O_RDWR);
    vstream_set_path(fp, vstring_str(tmp));
    gettimeofday(&tv, NULL);
    rec_fprintf(fp, REC_TYPE_SIZE, "%15ld %15ld %15ld", 0L, 0L, 0L);
    rec_fprintf(fp, REC_TYPE_TIME, "%lld.%06ld", (long long) (tv.tv_sec - opt_age),
                (long) tv.tv_usec);
    rec_fprintf(fp, REC_TYPE_ATTR, "client_name=%s", "localhost");
    rec_fprintf(fp, REC_TYPE_ATTR, "client_address=%s", "127.0.0.1");
    rec_fprintf(fp, REC_TYPE_ATTR, "protocol=%s", "ESMTP");
    rec_fprintf(fp, REC_TYPE_ATTR, "message_id=<%s.%d@mkqueue>", opt_tag, seq);
    rec_fprintf(fp, REC_TYPE_FROM, "%s", opt_sender);
    for (int i = 0; i < nrcpt; i++) {
        if (opt_orig)
            rec_fprintf(fp, REC_TYPE_ORCP, "%s", opt_orig);
        if (opt_notify >= 0)
            rec_fprintf(fp, REC_TYPE_NOTIFY, "%ld", opt_notify);
        rec_fprintf(fp, (opt_done && i == 0) ? REC_TYPE_DONE : REC_TYPE_RCPT, "%s", rcpts[i]);
    }
    mesg = vstream_ftell(fp);
    rec_put(fp, REC_TYPE_MESG, "", 0);
    put_line(fp, &size, "Message-ID: <%s.%d@mkqueue>", opt_tag, seq);
    put_line(fp, &size, "From: <%s>", opt_sender);
    put_line(fp, &size, "To: <%s>", rcpts[0]);
    put_line(fp, &size, "Subject: mkqueue test %d", seq);
    put_line(fp, &size, "%s", "");
    for (long i = 0; i < opt_body; i++) {
        vstring_reset(line);
        for (long j = 0; j < opt_len; j++)
            vstring_addch(line, 'a' + (int) ((i + j) % 26));
        put_line(fp, &size, "%s", vstring_str(line));
    }
    rec_put(fp, REC_TYPE_XTRA, "", 0);
    if (!opt_noend)
        rec_put(fp, REC_TYPE_END, "", 0);
    if (vstream_fseek(fp, 0, SEEK_SET) != 0)
        msg_fatal("seek %s: %m", vstring_str(tmp));
    rec_fprintf(fp, REC_TYPE_SIZE, "%15ld %15lld %15d", size, (long long) mesg, nrcpt);
    if (vstream_fsync(fp) != 0)
        msg_fatal("write %s: %m", vstring_str(tmp));
    if (!opt_writing && fchmod(fd, 0700) < 0)
        msg_fatal("chmod %s: %m", vstring_str(tmp));
    if (fstat(fd, &st) < 0)
        msg_fatal("fstat %s: %m", vstring_str(tmp));
    queue_id_make(id, st.st_ino, &tv);
    vstring_sprintf(path, "%s/%s", opt_queue, vstring_str(id));
    if (rename(vstring_str(tmp), vstring_str(path)) < 0)
        msg_fatal("rename %s to %s: %m", vstring_str(tmp), vstring_str(path));
    vstream_fclose(fp);
    vstream_fprintf(VSTREAM_OUT, "%s\n", vstring_str(id));
    vstring_free(tmp);
    vstring_free(path);
    vstring_free(id);
    vstring_free(line);
}

int main(int argc, char **argv)
{
    long count = 1;
    int trigger = 0;
    int ch;
    char tagbuf[32];

    msg_init("mkqueue");
    msg_set_stderr(1);
    while ((ch = getopt(argc, argv, "d:q:f:n:b:l:i:o:N:a:DEWT")) != -1) {
        switch (ch) {
        case 'd':
            if (chdir(optarg) < 0)
                msg_fatal("chdir %s: %m", optarg);
            break;
        case 'q':
            opt_queue = optarg;
            break;
        case 'f':
            opt_sender = optarg;
            break;
        case 'n':
            count = atol(optarg);
            break;
        case 'b':
            opt_body = atol(optarg);
            break;
        case 'l':
            opt_len = atol(optarg);
            break;
        case 'i':
            opt_tag = optarg;
            break;
        case 'o':
            opt_orig = optarg;
            break;
        case 'N':
            opt_notify = atol(optarg);
            break;
        case 'a':
            opt_age = atol(optarg);
            break;
        case 'D':
            opt_done = 1;
            break;
        case 'E':
            opt_noend = 1;
            break;
        case 'W':
            opt_writing = 1;
            break;
        case 'T':
            trigger = 1;
            break;
        default:
            msg_fatal("usage: mkqueue [-d dir] [-q queue] [-f sender] [-n count] [-b lines] "
                      "[-l length] [-i tag] [-o orig] [-N bits] [-a age] [-DEWT] rcpt...");
        }
    }
    if (optind >= argc)
        msg_fatal("no recipients");
    if (opt_tag == NULL) {
        snprintf(tagbuf, sizeof(tagbuf), "%d", (int) getpid());
        opt_tag = tagbuf;
    }
    for (long i = 0; i < count; i++)
        mkqueue_one((int) i, argc - optind, argv + optind);
    vstream_fflush(VSTREAM_OUT);
    if (trigger && mail_trigger("public/qmgr", "I", 1, 5) < 0)
        msg_warn("trigger public/qmgr: %m");
    return 0;
}
