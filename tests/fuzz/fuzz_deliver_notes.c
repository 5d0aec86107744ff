/*
 * NAME
 *	fuzz_deliver_notes - libFuzzer harness for the defer/bounce note reader
 * SYNOPSIS
 *	build/fuzz/fuzz_deliver_notes [libFuzzer options] [corpus...]
 * DESCRIPTION
 *	At start-up the harness makes a private queue directory under /tmp
 *	(removed at exit) with defer/ and bounce/, and names them to the
 *	note functions by absolute path (the working directory stays where
 *	libFuzzer writes its files).
 *
 *	When the first input byte is odd, each 0xff byte of the rest stands
 *	for 4096 bytes "x" (so that lines can pass DELIVER_NOTE_LINE_MAX);
 *	the result becomes the note file defer/QUEUE_ID, read with deliver_note_open() and
 *	deliver_note_read() until the end. A reference reader, written
 *	here from deliver_status.h, reads the same bytes: blocks of
 *	"name=value" lines ended by an empty line; a block with a line
 *	without '=' (or starting with it), a line of DELIVER_NOTE_LINE_MAX
 *	bytes or more, a bad number, more than 32 lines, or no recipient is
 *	skipped; an unfinished last block is ignored; unknown names are
 *	ignored, and a name given twice keeps its last value. The harness
 *	aborts when the two disagree on any note or on the number of notes,
 *	or when a returned note has no recipient, a field holding '\n' or
 *	of DELIVER_NOTE_LINE_MAX bytes or more.
 *
 *	Round trip: the first notes read are appended with
 *	deliver_note_append() to bounce/QUEUE_ID2 and read back; they must
 *	come back with every text field cleaned as the writer promises
 *	(control characters made spaces, trailing white space removed)
 *	and numbers unchanged, and a note whose recipient cleans to
 *	nothing must not come back. Once, at start-up: notes whose reasons
 *	are about DELIVER_NOTE_LINE_MAX bytes long, or far longer, are
 *	appended and must all be read back with their recipient (the
 *	reason may come back cut).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deliver_status.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstream.h"
#include "vstring.h"

#define ID_IN "0123456789AB"
#define ID_OUT "0123456789AC"
#define FUZZ_FILE_MAX (256 * 1024)
#define FUZZ_EXPAND_BYTE 0xff /* becomes FUZZ_EXPAND_LEN bytes "x" */
#define FUZZ_EXPAND_LEN 4096
#define FUZZ_FIELDS_MAX 32 /* lines in one note (deliver_status.c) */
#define FUZZ_NOTES_MAX 2   /* notes that go round */

static char queue_dir[64];
static char defer_dir[80], bounce_dir[80];

/* ---- the private queue directory ---- */

static void queue_path(char *buf, size_t len, const char *dir, const char *id)
{
    snprintf(buf, len, "%s/%s%s%s", queue_dir, dir, id ? "/" : "", id ? id : "");
}

static void queue_cleanup(void)
{
    char path[128];

    queue_path(path, sizeof(path), DEFER_LOG_DIR, ID_IN);
    unlink(path);
    queue_path(path, sizeof(path), BOUNCE_LOG_DIR, ID_OUT);
    unlink(path);
    queue_path(path, sizeof(path), DEFER_LOG_DIR, NULL);
    rmdir(path);
    queue_path(path, sizeof(path), BOUNCE_LOG_DIR, NULL);
    rmdir(path);
    rmdir(queue_dir);
}

static void queue_setup(void)
{
    char path[128];

    strcpy(queue_dir, "/tmp/fuzz_deliver_notes.XXXXXX");
    if (mkdtemp(queue_dir) == NULL)
        abort();
    atexit(queue_cleanup);
    queue_path(path, sizeof(path), DEFER_LOG_DIR, NULL);
    if (mkdir(path, 0700) < 0)
        abort();
    queue_path(path, sizeof(path), BOUNCE_LOG_DIR, NULL);
    if (mkdir(path, 0700) < 0)
        abort();
    queue_path(defer_dir, sizeof(defer_dir), DEFER_LOG_DIR, NULL);
    queue_path(bounce_dir, sizeof(bounce_dir), BOUNCE_LOG_DIR, NULL);
}

/* ---- the reference reader ---- */

typedef struct REF_NOTE {
    VSTRING *text[7]; /* recipient orig_recipient orcpt status action reason relay */
    long long offset;
    long long notify;
    long long time;
} REF_NOTE;

static const char *ref_names[] = {"recipient", "orig_recipient", "orcpt", "status",
                                  "action",    "reason",         "relay"};

static void ref_clear(REF_NOTE *n)
{
    for (int i = 0; i < 7; i++) {
        if (n->text[i] == NULL)
            n->text[i] = vstring_alloc(32);
        vstring_reset(n->text[i]);
    }
    n->offset = n->notify = n->time = 0;
}

/* ref_number - digits only, first a digit, fits in long long */

static int ref_number(const char *s, long long *out)
{
    long long v = 0;

    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (0x7fffffffffffffffLL - (*s - '0')) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    if (*s)
        return -1;
    *out = v;
    return 0;
}

/* ref_field - one non-empty line (as a C string); 0 or -1 (bad) */

static int ref_field(REF_NOTE *n, const char *line)
{
    const char *eq = strchr(line, '=');
    size_t len;

    if (eq == NULL || eq == line)
        return -1;
    len = (size_t)(eq - line);
    for (int i = 0; i < 7; i++)
        if (strlen(ref_names[i]) == len && strncmp(line, ref_names[i], len) == 0) {
            vstring_strcpy(n->text[i], eq + 1);
            return 0;
        }
    if (len == 6 && strncmp(line, "offset", 6) == 0)
        return ref_number(eq + 1, &n->offset);
    if (len == 4 && strncmp(line, "time", 4) == 0)
        return ref_number(eq + 1, &n->time);
    if (len == 6 && strncmp(line, "notify", 6) == 0) {
        long long v;

        if (ref_number(eq + 1, &v) < 0 || v > 0xffff)
            return -1;
        n->notify = v;
        return 0;
    }
    return 0; /* unknown names are ignored */
}

/* ref_read - the notes in s, into notes[0..max-1]; returns the count (may exceed max) */

static int ref_read(const char *s, size_t len, REF_NOTE *notes, int max)
{
    REF_NOTE scratch = {{0}};
    REF_NOTE *cur;
    size_t pos = 0;
    int count = 0, lines = 0, bad = 0;
    VSTRING *line = vstring_alloc(100);

    cur = max > 0 ? notes : &scratch;
    ref_clear(cur);
    while (pos < len) {
        const char *nl = memchr(s + pos, '\n', len - pos);
        size_t n;

        if (nl == NULL)
            break; /* unfinished: ignored */
        n = (size_t)(nl - (s + pos));
        if (n == 0) {
            if (lines > 0) {
                if (!bad && vstring_len(cur->text[0]) > 0) {
                    count++;
                    cur = count < max ? notes + count : &scratch;
                }
                ref_clear(cur);
            }
            lines = bad = 0;
        } else {
            lines++;
            if (n >= DELIVER_NOTE_LINE_MAX || lines > FUZZ_FIELDS_MAX) {
                bad = 1;
            } else {
                vstring_memcpy(line, s + pos, n);
                if (ref_field(cur, vstring_str(line)) < 0)
                    bad = 1;
            }
        }
        pos += n + 1;
    }
    vstring_free(line);
    for (int i = 0; i < 7; i++)
        if (scratch.text[i])
            vstring_free(scratch.text[i]);
    return count;
}

/* ---- checks ---- */

static const char *note_text(const DELIVER_NOTE *note, int i)
{
    const char *f[] = {note->recipient, note->orig_recipient, note->orcpt, note->status,
                       note->action,    note->reason,         note->relay};

    return f[i];
}

static void check_note(const DELIVER_NOTE *note)
{
    if (*note->recipient == 0)
        abort();
    for (int i = 0; i < 7; i++) {
        const char *t = note_text(note, i);

        if (t == NULL || strchr(t, '\n') != NULL || strlen(t) >= DELIVER_NOTE_LINE_MAX)
            abort();
    }
}

static int same_note(const DELIVER_NOTE *note, const REF_NOTE *ref)
{
    for (int i = 0; i < 7; i++)
        if (strcmp(note_text(note, i), vstring_str(ref->text[i])) != 0)
            return 0;
    return note->offset == ref->offset && note->notify == ref->notify && note->time == ref->time;
}

/* clean - what deliver_note_append() promises to write */

static void clean(VSTRING *out, const char *text)
{
    vstring_strcpy(out, text);
    for (char *cp = vstring_str(out); *cp; cp++)
        if ((unsigned char)*cp < 0x20 || *cp == 0x7f)
            *cp = ' ';
    while (vstring_len(out) > 0 && (vstring_end(out)[-1] == ' ' || vstring_end(out)[-1] == '\t'))
        vstring_truncate(out, vstring_len(out) - 1);
}

static void write_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);

    if (fd < 0 || (len > 0 && write(fd, data, len) != (ssize_t)len) || close(fd) < 0)
        abort();
}

static VSTREAM *open_notes(const char *dir, const char *id)
{
    VSTREAM *fp = deliver_note_open(dir, id);

    if (fp == NULL)
        abort();
    return fp;
}

/* round_trip - append notes to bounce/ID_OUT, read them back */

static void round_trip(DELIVER_NOTE **notes, int count)
{
    static REF_NOTE want[FUZZ_NOTES_MAX];
    DELIVER_REQUEST *req = deliver_request_alloc();
    DELIVER_NOTE *back = deliver_note_alloc();
    char path[128];
    VSTREAM *fp;
    int expect = 0;

    queue_path(path, sizeof(path), BOUNCE_LOG_DIR, ID_OUT);
    write_file(path, "", 0);
    deliver_request_set(&req->queue_id, ID_OUT);
    for (int i = 0; i < count; i++) {
        if (deliver_note_append(req, bounce_dir, notes[i]) != 0)
            abort();
        ref_clear(want + expect);
        for (int f = 0; f < 7; f++)
            clean(want[expect].text[f], note_text(notes[i], f));
        want[expect].offset = notes[i]->offset;
        want[expect].notify = notes[i]->notify;
        want[expect].time = notes[i]->time;
        if (vstring_len(want[expect].text[0]) > 0)
            expect++;
    }
    deliver_request_free(req);
    fp = open_notes(bounce_dir, ID_OUT);
    for (int i = 0; i < expect; i++)
        if (deliver_note_read(fp, back) != 1 || !same_note(back, want + i))
            abort();
    if (deliver_note_read(fp, back) != 0)
        abort();
    vstream_fclose(fp);
    deliver_note_free(back);
}

/*
 * check_long_reasons - a note is readable whatever the length of its
 * reason (an SMTP reply can be 100 lines of 2048 bytes): it comes back
 * with its recipient, and its reason is the one written or a prefix
 */
static void check_long_reasons(void)
{
    static const size_t lens[] = {DELIVER_NOTE_LINE_MAX - 9, DELIVER_NOTE_LINE_MAX - 8,
                                  DELIVER_NOTE_LINE_MAX - 7, DELIVER_NOTE_LINE_MAX,
                                  3 * DELIVER_NOTE_LINE_MAX + 5};
    DELIVER_REQUEST *req = deliver_request_alloc();
    DELIVER_NOTE *note = deliver_note_alloc();
    char *reason = mymalloc(lens[4] + 1);
    char path[128];
    VSTREAM *fp;

    queue_path(path, sizeof(path), BOUNCE_LOG_DIR, ID_OUT);
    write_file(path, "", 0);
    deliver_request_set(&req->queue_id, ID_OUT);
    memset(reason, 'r', lens[4]);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        reason[lens[i]] = 0;
        deliver_request_set(&note->recipient, "long@example.com");
        deliver_request_set(&note->reason, reason);
        reason[lens[i]] = 'r';
        if (deliver_note_append(req, bounce_dir, note) != 0)
            abort();
    }
    deliver_request_free(req);
    fp = open_notes(bounce_dir, ID_OUT);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t len;

        if (deliver_note_read(fp, note) != 1 || strcmp(note->recipient, "long@example.com") != 0)
            abort();
        len = strlen(note->reason);
        if (len > lens[i] || strspn(note->reason, "r") != len)
            abort();
    }
    if (deliver_note_read(fp, note) != 0)
        abort();
    vstream_fclose(fp);
    deliver_note_free(note);
    myfree(reason);
}

static void fuzz_one(const uint8_t *data, size_t size)
{
    static REF_NOTE ref[FUZZ_NOTES_MAX];
    static VSTRING *file;
    static char xs[FUZZ_EXPAND_LEN];
    DELIVER_NOTE *notes[FUZZ_NOTES_MAX];
    DELIVER_NOTE *note = deliver_note_alloc();
    char path[128];
    VSTREAM *fp;
    int want, got = 0, kept = 0;

    if (file == NULL) {
        file = vstring_alloc(1000);
        memset(xs, 'x', sizeof(xs));
    }
    vstring_reset(file);
    for (size_t i = 1; i < size; i++) {
        if (data[i] == FUZZ_EXPAND_BYTE && (data[0] & 1) &&
            vstring_len(file) + FUZZ_EXPAND_LEN <= FUZZ_FILE_MAX) {
            vstring_memcat(file, xs, FUZZ_EXPAND_LEN);
        } else {
            vstring_addch(file, data[i]);
        }
    }
    queue_path(path, sizeof(path), DEFER_LOG_DIR, ID_IN);
    write_file(path, vstring_str(file), vstring_len(file));

    want = ref_read(vstring_str(file), vstring_len(file), ref, FUZZ_NOTES_MAX);
    fp = open_notes(defer_dir, ID_IN);
    while (deliver_note_read(fp, note) == 1) {
        check_note(note);
        if (got < FUZZ_NOTES_MAX) {
            if (!same_note(note, ref + got))
                abort();
            notes[kept++] = note;
            note = deliver_note_alloc();
        }
        got++;
    }
    if (got != want)
        abort();
    /* after the end: nothing, and the note is left empty */
    if (deliver_note_read(fp, note) != 0 || *note->recipient != 0)
        abort();
    vstream_fclose(fp);
    deliver_note_free(note);

    round_trip(notes, kept);
    for (int i = 0; i < kept; i++)
        deliver_note_free(notes[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (*queue_dir == 0) {
        msg_set_logfile("/dev/null");
        queue_setup();
        check_long_reasons();
    }
    if (size == 0)
        return 0;
    fuzz_one(data, size);
    return 0;
}
