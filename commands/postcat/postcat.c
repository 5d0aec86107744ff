/*
 * NAME
 *	postcat - show the records of a queue file
 * SYNOPSIS
 *	postcat [-bdehoqv] [-c config_dir] [file ...]
 * DESCRIPTION
 *	postcat prints queue files (lib/rec.h, lib/cleanup_proto.h) and
 *	maildrop files (lib/maildrop.h) in Postfix's postcat layout, so
 *	that what admins and their scripts know from Postfix reads the
 *	same:
 *
 *	*** ENVELOPE RECORDS deferred/3F2A81C0D5 ***
 *	message_size:             312             135               2
 *	message_arrival_time: Sat Nov 21 21:05:55 2026
 *	named_attribute: client_address=192.0.2.1
 *	sender: alice@example.com
 *	original_recipient: Bob@example.net
 *	recipient: bob@example.net
 *	done_recipient: carol@example.net
 *	*** MESSAGE CONTENTS deferred/3F2A81C0D5 ***
 *	(the header and the body as text)
 *	*** HEADER EXTRACTED deferred/3F2A81C0D5 ***
 *	(records after the content: recipients taken from the headers,
 *	named_attribute: message_id=...)
 *	*** MESSAGE FILE END deferred/3F2A81C0D5 ***
 *
 *	Envelope records are "label: value" with Postfix's labels
 *	(message_size, message_arrival_time, sender, recipient,
 *	done_recipient, original_recipient, dsn_notify_flags,
 *	dsn_original_recipient, named_attribute). Content is written as
 *	it is: a long line that was cut into pieces is joined again.
 *
 *	-e	Show the envelope records and the *** markers.
 *	-h	Show the message header: from the start of the content up to,
 *		not including, the first line that is neither a header field
 *		nor a continuation line.
 *	-b	Show the body: from that line to the end of the content.
 *		Without -e, -h or -b, postcat shows all three (-ehb).
 *	-o	Start each output line with the queue file offset of its
 *		record ("%9lu ").
 *	-d	Start each output line with the record type as a decimal
 *		number ("%3d ").
 *	-q	The arguments are queue IDs: look for each in maildrop,
 *		incoming, active, deferred and hold (twice, as a message may
 *		move between queues meanwhile). Every ID must pass
 *		queue_id_ok() before it becomes a path. Reading the queue
 *		needs the privileges of root or mail_owner; other users get
 *		"Permission denied", as message content is not theirs to see.
 *	-c config_dir	Read main.cf in config_dir (for queue_directory).
 *	-v	More verbose: content records are labelled too.
 *	Without file arguments postcat reads standard input.
 * DIAGNOSTICS
 *	Problems go to standard error. A file that does not start with a
 *	record postern writes first, a record with broken framing, or a
 *	file that ends before its end record draws a message naming the
 *	file (and the offset); postcat then goes on with the next file and
 *	exits with status 1. Exit status 1 also for a queue ID that is not
 *	valid or not found, 0 when every file was read whole.
 * SEE ALSO
 *	postcat(1), lib/rec.h, lib/cleanup_proto.h
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "header_opts.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "msg.h"
#include "qfile.h"
#include "queue_id.h"
#include "rec.h"
#include "vstream.h"
#include "vstring.h"

#define PC_FLAG_QUEUE (1 << 0)   /* -q */
#define PC_FLAG_OFFSET (1 << 1)  /* -o */
#define PC_FLAG_ENV (1 << 2)     /* -e */
#define PC_FLAG_HEADER (1 << 3)  /* -h */
#define PC_FLAG_BODY (1 << 4)    /* -b */
#define PC_FLAG_DECIMAL (1 << 5) /* -d */
#define PC_MASK_TEXT (PC_FLAG_HEADER | PC_FLAG_BODY)
#define PC_MASK_ALL (PC_FLAG_ENV | PC_MASK_TEXT)

#define PC_STATE_ENV 0    /* envelope, before MESG or after XTRA */
#define PC_STATE_HEADER 1 /* primary header */
#define PC_STATE_BODY 2   /* the rest of the content */

#define PC_TEXT(type) ((type) == REC_TYPE_NORM || (type) == REC_TYPE_CONT)

/* pc_label - Postfix's postcat label of an envelope record */

static const char *pc_label(int type)
{
    switch (type) {
    case REC_TYPE_SIZE:
        return "message_size";
    case REC_TYPE_TIME:
        return "message_arrival_time";
    case REC_TYPE_FROM:
        return "sender";
    case REC_TYPE_RCPT:
        return "recipient";
    case REC_TYPE_DONE:
        return "done_recipient";
    case REC_TYPE_ORCP:
        return "original_recipient";
    case REC_TYPE_NOTIFY:
        return "dsn_notify_flags";
    case REC_TYPE_DSN_ORCPT:
        return "dsn_original_recipient";
    case REC_TYPE_ATTR:
        return "named_attribute";
    case REC_TYPE_MESG:
        return "message_content";
    case REC_TYPE_NORM:
        return "regular_text";
    case REC_TYPE_CONT:
        return "unterminated_text";
    case REC_TYPE_XTRA:
        return "extracted_info";
    case REC_TYPE_END:
        return "message_end";
    default:
        return "unknown_record_type";
    }
}

static void pc_prefix(int flags, off_t offset, int type)
{
    if (flags & PC_FLAG_OFFSET)
        vstream_fprintf(VSTREAM_OUT, "%9lu ", (unsigned long)offset);
    if (flags & PC_FLAG_DECIMAL)
        vstream_fprintf(VSTREAM_OUT, "%3d ", type);
}

static void pc_marker(VSTREAM *fp, int flags, off_t offset, int type, const char *text)
{
    pc_prefix(flags, offset, type);
    vstream_fprintf(VSTREAM_OUT, "*** %s %s ***\n", text, vstream_path(fp));
}

/* pc_time - "seconds.microseconds" as asctime() writes it; 0 or -1 */

static int pc_time(const char *text, VSTRING *out)
{
    char *end;
    long long sec;
    time_t t;
    struct tm tm;
    char buf[64];

    errno = 0;
    sec = strtoll(text, &end, 10);
    if (errno || end == text || (*end && *end != '.'))
        return -1;
    t = (time_t)sec;
    if (localtime_r(&t, &tm) == NULL ||
        strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &tm) == 0)
        return -1;
    vstring_strcpy(out, buf);
    return 0;
}

static void pc_write(VSTRING *buf)
{
    vstream_fwrite(VSTREAM_OUT, vstring_str(buf), vstring_len(buf));
}

/* postcat - one file; 0 when it was read whole, -1 after a problem (reported) */

static int postcat(VSTREAM *fp, int flags)
{
    VSTRING *buf = vstring_alloc(1024);
    VSTRING *text = vstring_alloc(64);
    int state = PC_STATE_ENV;
    int do_print = flags & PC_FLAG_ENV;
    int prev_type = 0;
    int type;
    int ch;
    off_t offset = 0;
    int ret = -1;

    /* a queue file starts with SIZE, a maildrop file with TIME */
    if ((ch = vstream_getc(fp)) == VSTREAM_EOF) {
        msg_warn("%s: empty input: not a queue file", vstream_path(fp));
        goto out;
    }
    vstream_ungetc(fp, ch);
    if (ch != REC_TYPE_SIZE && ch != REC_TYPE_TIME) {
        msg_warn("%s: input is not a valid queue file", vstream_path(fp));
        goto out;
    }
    if (flags & PC_FLAG_ENV)
        vstream_fprintf(VSTREAM_OUT, "*** ENVELOPE RECORDS %s ***\n", vstream_path(fp));
    for (;;) {
        offset = vstream_ftell(fp);
        type = rec_get(fp, buf, 0);
        if (type == REC_TYPE_EOF) {
            if (do_print && prev_type == REC_TYPE_CONT)
                vstream_putc('\n', VSTREAM_OUT);
            msg_warn("%s: file ends before its end record: incomplete queue file",
                     vstream_path(fp));
            goto out;
        }
        if (type == REC_TYPE_ERROR) {
            if (do_print && prev_type == REC_TYPE_CONT)
                vstream_putc('\n', VSTREAM_OUT);
            vstream_fflush(VSTREAM_OUT);
            msg_warn("%s: corrupt queue file: malformed record at offset %lu", vstream_path(fp),
                     (unsigned long)offset);
            goto out;
        }

        /* records that change the state */
        if (PC_TEXT(type) && state == PC_STATE_HEADER && prev_type != REC_TYPE_CONT &&
            header_name_len(vstring_str(buf), vstring_len(buf)) == 0 &&
            !(vstring_len(buf) > 0 &&
              (vstring_str(buf)[0] == ' ' || vstring_str(buf)[0] == '\t'))) {
            state = PC_STATE_BODY;
            do_print = flags & PC_FLAG_BODY;
        } else if (type == REC_TYPE_MESG) {
            if (state != PC_STATE_ENV)
                msg_warn("%s: out-of-order message content marker", vstream_path(fp));
            if (flags & PC_FLAG_ENV)
                pc_marker(fp, flags, offset, type, "MESSAGE CONTENTS");
            state = PC_STATE_HEADER;
            do_print = flags & PC_FLAG_HEADER;
            prev_type = type;
            continue;
        } else if (type == REC_TYPE_XTRA) {
            if (do_print && prev_type == REC_TYPE_CONT)
                vstream_putc('\n', VSTREAM_OUT);
            if (state == PC_STATE_ENV)
                msg_warn("%s: out-of-order extracted segment marker", vstream_path(fp));
            if (flags & PC_FLAG_ENV)
                pc_marker(fp, flags, offset, type, "HEADER EXTRACTED");
            state = PC_STATE_ENV;
            do_print = flags & PC_FLAG_ENV;
            prev_type = type;
            continue;
        } else if (type == REC_TYPE_END) {
            if (state != PC_STATE_ENV)
                msg_warn("%s: out-of-order message end marker", vstream_path(fp));
            if (flags & PC_FLAG_ENV)
                pc_marker(fp, flags, offset, type, "MESSAGE FILE END");
            ret = 0;
            goto out;
        }
        prev_type = type;
        if (!do_print)
            continue;

        /* the record itself */
        pc_prefix(flags, offset, type);
        if (PC_TEXT(type) && state != PC_STATE_ENV) {
            if (msg_verbose)
                vstream_fprintf(VSTREAM_OUT, "%s: ", pc_label(type));
            pc_write(buf);
            if (type == REC_TYPE_NORM || msg_verbose || (flags & PC_FLAG_OFFSET)) {
                vstream_putc('\n', VSTREAM_OUT);
                prev_type = 0;
            }
        } else if (type == REC_TYPE_TIME && pc_time(vstring_str(buf), text) == 0) {
            vstream_fprintf(VSTREAM_OUT, "%s: %s\n", pc_label(type), vstring_str(text));
        } else {
            vstream_fprintf(VSTREAM_OUT, "%s: ", pc_label(type));
            pc_write(buf);
            vstream_putc('\n', VSTREAM_OUT);
        }
        if (vstream_fflush(VSTREAM_OUT) != 0 && errno == EPIPE)
            exit(0);
    }
out:
    vstream_fflush(VSTREAM_OUT);
    vstring_free(buf);
    vstring_free(text);
    return ret;
}

/* pc_open_queue - find a message in the queue */

static VSTREAM *pc_open_queue(const char *id)
{
    static const char *queues[] = {QFILE_QUEUE_NAMES, NULL};
    VSTRING *why = vstring_alloc(100);
    int saved = ENOENT;
    VSTREAM *fp = NULL;

    if (!queue_id_ok(id))
        msg_fatal("bad mail queue ID: %.100s", id);
    for (int tries = 0; tries < 2 && fp == NULL; tries++)
        for (int q = 0; queues[q] && fp == NULL; q++)
            if ((fp = qfile_open(queues[q], id, NULL, why)) == NULL && errno != ENOENT)
                saved = errno;
    vstring_free(why);
    if (fp == NULL) {
        errno = saved;
        msg_fatal("open queue file %s: %m", id);
    }
    return fp;
}

static void __attribute__((noreturn)) pc_usage(void)
{
    msg_fatal("usage: postcat [-b (body)] [-c config_dir] [-d (decimal record type)] "
              "[-e (envelope)] [-h (header)] [-o (offsets)] [-q (queue IDs)] [-v] [file ...]");
}

int main(int argc, char **argv)
{
    const char *config_dir = NULL;
    VSTREAM *fp;
    int flags = 0;
    int status = 0;
    int ch;

    msg_init("postcat");
    msg_set_stderr(1);
    msg_set_syslog(0);
    while ((ch = getopt(argc, argv, "bc:dehoqv")) != -1) {
        switch (ch) {
        case 'b':
            flags |= PC_FLAG_BODY;
            break;
        case 'c':
            config_dir = optarg;
            break;
        case 'd':
            flags |= PC_FLAG_DECIMAL;
            break;
        case 'e':
            flags |= PC_FLAG_ENV;
            break;
        case 'h':
            flags |= PC_FLAG_HEADER;
            break;
        case 'o':
            flags |= PC_FLAG_OFFSET;
            break;
        case 'q':
            flags |= PC_FLAG_QUEUE;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            pc_usage();
        }
    }
    if ((flags & PC_MASK_ALL) == 0)
        flags |= PC_MASK_ALL;

    if (optind == argc) {
        if (flags & PC_FLAG_QUEUE)
            pc_usage();
        vstream_set_path(VSTREAM_IN, "stdin");
        return postcat(VSTREAM_IN, flags) < 0;
    }
    if (flags & PC_FLAG_QUEUE) {
        if (config_dir && setenv("MAIL_CONFIG", config_dir, 1) < 0)
            msg_fatal("setenv MAIL_CONFIG: %m");
        mail_conf_read(config_dir);
        mail_conf_eval();
        if (chdir(var_queue_directory) < 0)
            msg_fatal("chdir %s: %m", var_queue_directory);
    }
    for (int i = optind; i < argc; i++) {
        if (flags & PC_FLAG_QUEUE) {
            fp = pc_open_queue(argv[i]);
        } else if ((fp = vstream_fopen(argv[i], O_RDONLY, 0)) == NULL) {
            msg_fatal("open %s: %m", argv[i]);
        }
        if (postcat(fp, flags) < 0)
            status = 1;
        vstream_fclose(fp);
    }
    return status;
}
