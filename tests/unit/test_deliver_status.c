/*
 * NAME
 *	test_deliver_status - unit tests for delivery outcomes, logs and notes
 * SYNOPSIS
 *	build/unit/test_deliver_status
 * DESCRIPTION
 *	The delay precision rules; the status line of each outcome
 *	(orig_to only when it differs, quoted addresses, dsn class forced,
 *	control characters in reasons); the DONE mark in the queue file
 *	for sent and bounced recipients and none for deferred ones; the
 *	defer/ and bounce/ notes written and read back; a bounce whose note
 *	cannot be written becomes a deferral; the note reader skipping
 *	malformed, over-long and unfinished notes.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "deliver_status.h"
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"
#include "vstream.h"

static char tmpdir[] = "/tmp/test_deliver_status.XXXXXX";
static VSTRING *logpath;

#define QID "ABCDE12345"

static off_t rcpt_off[3];

static void write_queue_file(void)
{
    VSTREAM *fp = vstream_fopen("active/" QID, O_WRONLY | O_CREAT | O_TRUNC, 0700);
    const char *rcpts[] = {"a@example.com", "b b@example.com", "c@example.com"};
    off_t mesg;

    assert_non_null(fp);
    rec_fprintf(fp, REC_TYPE_SIZE, "%15d %15d %15d", 0, 0, 3);
    rec_fprintf(fp, REC_TYPE_TIME, "%d.%d", 1700000000, 0);
    rec_fprintf(fp, REC_TYPE_FROM, "%s", "s@example.org");
    for (int i = 0; i < 3; i++) {
        rcpt_off[i] = vstream_ftell(fp);
        rec_fprintf(fp, REC_TYPE_RCPT, "%s", rcpts[i]);
    }
    mesg = vstream_ftell(fp);
    rec_put(fp, REC_TYPE_MESG, "", 0);
    rec_put_line(fp, "x", 1, 100);
    rec_put(fp, REC_TYPE_XTRA, "", 0);
    rec_put(fp, REC_TYPE_END, "", 0);
    assert_int_equal(vstream_fclose(fp), 0);
    (void) mesg;
}

static DELIVER_REQUEST *make_request(void)
{
    DELIVER_REQUEST *req = deliver_request_alloc();
    VSTREAM *fp;
    VSTRING *buf = vstring_alloc(10);

    deliver_request_set(&req->queue_name, "active");
    deliver_request_set(&req->queue_id, QID);
    /* find the MESG record */
    fp = vstream_fopen("active/" QID, O_RDONLY, 0);
    assert_non_null(fp);
    for (;;) {
        off_t at = vstream_ftell(fp);
        int type = rec_get(fp, buf, 0);

        assert_true(type > 0);
        if (type == REC_TYPE_MESG) {
            req->data_offset = at;
            break;
        }
    }
    vstream_fclose(fp);
    gettimeofday(&req->arrival, NULL);
    req->arrival.tv_sec -= 3;
    req->delay_a = 2.5;
    req->delay_b = 0.123;
    gettimeofday(&req->start, NULL);
    deliver_request_add_rcpt(req, "a@example.com", "", rcpt_off[0], 0, "");
    deliver_request_add_rcpt(req, "b b@example.com", "Alias@example.com", rcpt_off[1], 4,
                             "rfc822;alias@example.com");
    deliver_request_add_rcpt(req, "c@example.com", "C@Example.com", rcpt_off[2], 0, "");
    vstring_free(buf);
    return req;
}

static int type_at(off_t offset)
{
    unsigned char ch = 0;
    int fd = open("active/" QID, O_RDONLY);

    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &ch, 1, offset), 1);
    close(fd);
    return ch;
}

static char *read_file(const char *path)
{
    VSTREAM *fp = vstream_fopen(path, O_RDONLY, 0);
    VSTRING *buf = vstring_alloc(1000);
    char chunk[4096];
    ssize_t n;

    if (fp == NULL) {
        vstring_free(buf);
        return NULL;
    }
    while ((n = vstream_fread(fp, chunk, sizeof(chunk))) > 0)
        vstring_memcat(buf, chunk, (size_t) n);
    vstream_fclose(fp);
    return vstring_export(buf);
}

static void reset_files(void)
{
    unlink("defer/" QID);
    unlink("bounce/" QID);
    int fd = open(vstring_str(logpath), O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0)
        fail_msg("truncate log: %m");
    close(fd);
    write_queue_file();
}

static void test_delay_format(void **state)
{
    static const struct {
        double in;
        int limit;
        const char *out;
    } cases[] = {
        {0, 2, "0"},         {-1, 2, "0"},        {0.004, 2, "0"},     {0.005, 2, "0.01"},
        {0.013, 2, "0.01"},  {0.13, 2, "0.13"},   {0.1, 2, "0.1"},     {0.999, 2, "1"},
        {1.234, 2, "1.2"},   {1.04, 2, "1"},      {9.96, 2, "10"},     {12.3, 2, "12"},
        {357.6, 2, "358"},   {18403, 2, "18403"}, {0.0123, 3, "0.012"}, {0.0123, 0, "0"},
        {1.5, 0, "2"},       {0.26, 1, "0.3"},    {0.00123, 6, "0.0012"},
    };
    VSTRING *buf = vstring_alloc(20);

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        var_delay_logging_resolution_limit = cases[i].limit;
        vstring_strcpy(buf, "x=");
        deliver_delay_format(buf, cases[i].in);
        if (strcmp(vstring_str(buf) + 2, cases[i].out) != 0)
            fail_msg("%g (limit %d): \"%s\", wanted \"%s\"", cases[i].in, cases[i].limit,
                     vstring_str(buf) + 2, cases[i].out);
    }
    var_delay_logging_resolution_limit = 2;
    vstring_free(buf);
}

static void test_outcomes(void **state)
{
    DELIVER_REQUEST *req;
    char *log;
    char *notes;

    (void) state;
    reset_files();
    req = make_request();
    memset(&req->start, 0, sizeof(req->start));     /* c and d 0: fsync time varies */
    assert_int_equal(deliver_sent(req, 0, "none", "2.0.0", "delivered to %s", "maildir"), 0);
    assert_int_equal(deliver_defer(req, 1, "mx.example[192.0.2.1]:25", "2.4.1",
                                   "connect: %s\nsecond line", "refused"), 0);
    assert_int_equal(deliver_bounce(req, 2, "local", "bogus", "unknown user"), 0);
    assert_int_equal(req->rcpt[0].result, DELIVER_RESULT_SENT);
    assert_int_equal(req->rcpt[1].result, DELIVER_RESULT_DEFERRED);
    assert_int_equal(req->rcpt[2].result, DELIVER_RESULT_BOUNCED);
    assert_int_equal(type_at(rcpt_off[0]), REC_TYPE_DONE);
    assert_int_equal(type_at(rcpt_off[1]), REC_TYPE_RCPT);
    assert_int_equal(type_at(rcpt_off[2]), REC_TYPE_DONE);
    /* a second mark of a done record is harmless */
    assert_int_equal(deliver_sent(req, 0, "none", "2.0.0", "again"), 0);
    deliver_request_free(req);

    log = read_file(vstring_str(logpath));
    assert_non_null(log);
    if (strstr(log, QID ": to=<a@example.com>, relay=none, delay=3, delays=2.5/0.12/0/0, "
                    "dsn=2.0.0, status=sent (delivered to maildir)") == NULL)
        fail_msg("sent line not found in:\n%s", log);
    if (strstr(log, QID ": to=<\"b b\"@example.com>, orig_to=<Alias@example.com>, "
                    "relay=mx.example[192.0.2.1]:25, delay=3, delays=2.5/0.12/0/0, dsn=4.4.1, "
                    "status=deferred (connect: refused second line)") == NULL)
        fail_msg("deferred line not found in:\n%s", log);
    /* orig_to equal but for case is not logged; a bad dsn becomes X.0.0 */
    if (strstr(log, QID ": to=<c@example.com>, relay=local, delay=3, delays=2.5/0.12/0/0, "
                    "dsn=5.0.0, status=bounced (unknown user)") == NULL)
        fail_msg("bounced line not found in:\n%s", log);
    myfree(log);

    notes = read_file("defer/" QID);
    assert_non_null(notes);
    assert_non_null(strstr(notes, "recipient=b b@example.com\norig_recipient=Alias@example.com\n"));
    assert_non_null(strstr(notes, "orcpt=rfc822;alias@example.com\nstatus=4.4.1\n"
                                  "action=delayed\nreason=connect: refused second line\n"
                                  "relay=mx.example[192.0.2.1]:25\n"));
    assert_int_equal(notes[strlen(notes) - 1], '\n');
    assert_int_equal(notes[strlen(notes) - 2], '\n');
    myfree(notes);
    notes = read_file("bounce/" QID);
    assert_non_null(notes);
    assert_non_null(strstr(notes, "recipient=c@example.com\n"));
    assert_non_null(strstr(notes, "action=failed\n"));
    myfree(notes);
}

static void test_connection_delays(void **state)
{
    DELIVER_REQUEST *req;
    char *log;

    (void) state;
    reset_files();
    req = make_request();
    req->start.tv_sec -= 2;                   /* two seconds to connect */
    deliver_request_conn_done(req);
    req->conn_done.tv_sec -= 1;               /* and one to send */
    deliver_sent(req, 0, "mx", "2.0.0", "250 ok");
    deliver_request_free(req);
    log = read_file(vstring_str(logpath));
    if (strstr(log, "delays=2.5/0.12/1/1, dsn=2.0.0") == NULL)
        fail_msg("delays not found in:\n%s", log);
    myfree(log);

    /* qmgr side: no start time, c and d are 0 */
    reset_files();
    req = make_request();
    memset(&req->start, 0, sizeof(req->start));
    deliver_defer(req, 0, "none", "4.3.0", "mail transport unavailable");
    deliver_request_free(req);
    log = read_file(vstring_str(logpath));
    if (strstr(log, "delays=2.5/0.12/0/0, dsn=4.3.0, status=deferred (mail transport "
                    "unavailable)") == NULL)
        fail_msg("qmgr-side line not found in:\n%s", log);
    myfree(log);
}

static void test_bounce_fallback(void **state)
{
    DELIVER_REQUEST *req;
    char *log;

    (void) state;
    reset_files();
    assert_int_equal(rename("bounce", "bounce.off"), 0);
    req = make_request();
    assert_int_equal(deliver_bounce(req, 0, "local", "5.1.1", "no such user"), -1);
    assert_int_equal(req->rcpt[0].result, DELIVER_RESULT_DEFERRED);
    assert_int_equal(type_at(rcpt_off[0]), REC_TYPE_RCPT);
    deliver_request_free(req);
    assert_int_equal(rename("bounce.off", "bounce"), 0);
    log = read_file(vstring_str(logpath));
    if (strstr(log, "dsn=4.3.0, status=deferred (no such user)") == NULL)
        fail_msg("fallback deferral not found in:\n%s", log);
    myfree(log);
    log = read_file("defer/" QID);
    assert_non_null(strstr(log, "recipient=a@example.com"));
    myfree(log);

    /* a queue file that is gone: the sent result stands, the mark fails */
    reset_files();
    req = make_request();
    unlink("active/" QID);
    assert_int_equal(deliver_sent(req, 0, "none", "2.0.0", "ok"), -1);
    assert_int_equal(req->rcpt[0].result, DELIVER_RESULT_SENT);
    deliver_request_free(req);
}

static void test_note_reader(void **state)
{
    DELIVER_REQUEST *req;
    DELIVER_NOTE *note = deliver_note_alloc();
    VSTREAM *fp;
    int fd;
    VSTRING *big = vstring_alloc(DELIVER_NOTE_LINE_MAX + 100);

    (void) state;
    reset_files();
    /* written notes read back */
    req = make_request();
    deliver_defer(req, 0, "r1", "4.0.0", "first");
    deliver_defer(req, 1, "r2", "4.4.2", "second");
    deliver_request_free(req);
    fp = deliver_note_open(DEFER_LOG_DIR, QID);
    assert_non_null(fp);
    assert_int_equal(deliver_note_read(fp, note), 1);
    assert_string_equal(note->recipient, "a@example.com");
    assert_string_equal(note->orig_recipient, "");
    assert_int_equal(note->offset, rcpt_off[0]);
    assert_string_equal(note->status, "4.0.0");
    assert_string_equal(note->reason, "first");
    assert_string_equal(note->relay, "r1");
    assert_string_equal(note->action, "delayed");
    assert_true(note->time > 0);
    assert_int_equal(deliver_note_read(fp, note), 1);
    assert_string_equal(note->recipient, "b b@example.com");
    assert_string_equal(note->orig_recipient, "Alias@example.com");
    assert_int_equal(note->notify, 4);
    assert_string_equal(note->orcpt, "rfc822;alias@example.com");
    assert_int_equal(deliver_note_read(fp, note), 0);
    vstream_fclose(fp);

    /* hostile content: malformed blocks are skipped, good ones survive */
    fd = open("bounce/" QID, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    const char *text = "\n\nrecipient=x@example.com\nno equals sign\nstatus=5.0.0\n\n"
                       "status=5.0.0\nreason=no recipient\n\n"
                       "recipient=y@example.com\noffset=12x\n\n"
                       "recipient=good@example.com\nunknown=ignored\nreason=a=b\n\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
    vstring_strcpy(big, "recipient=long@example.com\nreason=");
    for (int i = 0; i < DELIVER_NOTE_LINE_MAX; i++)
        vstring_addch(big, 'x');
    vstring_strcat(big, "\n\nrecipient=after@example.com\n\nrecipient=unfinished@example.com\n");
    assert_int_equal(write(fd, vstring_str(big), vstring_len(big)), (ssize_t) vstring_len(big));
    close(fd);
    fp = deliver_note_open(BOUNCE_LOG_DIR, QID);
    assert_int_equal(deliver_note_read(fp, note), 1);
    assert_string_equal(note->recipient, "good@example.com");
    assert_string_equal(note->reason, "a=b");
    assert_int_equal(deliver_note_read(fp, note), 1);
    assert_string_equal(note->recipient, "after@example.com");
    assert_int_equal(deliver_note_read(fp, note), 0);
    assert_string_equal(note->recipient, "");
    vstream_fclose(fp);

    /* absent files, hostile IDs */
    assert_int_equal(deliver_note_remove(BOUNCE_LOG_DIR, QID), 0);
    assert_null(deliver_note_open(BOUNCE_LOG_DIR, QID));
    assert_int_equal(deliver_note_remove(BOUNCE_LOG_DIR, QID), -1);
    assert_null(deliver_note_open(BOUNCE_LOG_DIR, "../active"));
    assert_int_equal(deliver_note_remove(BOUNCE_LOG_DIR, "../active"), -1);
    deliver_note_free(note);
    vstring_free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay_format),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_connection_delays),
        cmocka_unit_test(test_bounce_fallback),
        cmocka_unit_test(test_note_reader),
    };
    VSTRING *cmd = vstring_alloc(100);
    int ret;

    msg_init("test_deliver_status");
    mail_conf_eval();
    if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) < 0)
        return 1;
    mkdir("active", 0700);
    mkdir("defer", 0700);
    mkdir("bounce", 0700);
    logpath = vstring_alloc(100);
    vstring_sprintf(logpath, "%s/maillog", tmpdir);
    msg_set_logfile(vstring_str(logpath));
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    msg_set_logfile(NULL);
    vstring_sprintf(cmd, "rm -rf %s", tmpdir);
    if (chdir("/") < 0 || system(vstring_str(cmd)) != 0)
        ret = 1;
    vstring_free(cmd);
    vstring_free(logpath);
    return ret;
}
