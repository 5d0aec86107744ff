/*
 * NAME
 *	test_bounce_notice - unit tests for the delivery status notification builder
 * SYNOPSIS
 *	build/unit/test_bounce_notice
 * DESCRIPTION
 *	Builds notices from notes and a queue-file-like content file and
 *	checks the result as text: the notice headers, the three MIME
 *	parts and their types, the per-message and per-recipient DSN
 *	fields (Remote-MTA and Diagnostic-Code from an SMTP reply, the
 *	X-Postern type otherwise, Original-Recipient from ORCPT or the
 *	original address), whole message versus headers only (RET=HDRS,
 *	postmaster copies, delay warnings, bounce_size_limit), headers cut
 *	at a header boundary, long lines kept as CONT pieces, a boundary
 *	that the content already uses, SMTPUTF8 types, unreadable or
 *	corrupt content, hostile reasons (control characters, 8-bit bytes,
 *	very long words: no generated line over 998 bytes), and a write
 *	error.
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

#include "bounce_notice.h"
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"
#include "vstream.h"

static char tmpdir[] = "/tmp/test_bounce_notice.XXXXXX";

#define QID "ABCDE12345"
#define NID "F0000777"

/* ---------------------------------------------------------------- */
/* fixtures */

static const char *basic_message[] = {
    "Received: from client.example.org (client.example.org [192.0.2.10])",
    "\tby mx.example.com (Postern) with ESMTP id ABCDE12345",
    "From: Sender <sender@example.org>",
    "To: rcpt@example.net",
    "Subject: hello there",
    "Message-ID: <abc@example.org>",
    "",
    "first body line",
    "second body line",
    NULL,
};

/* write_content - a file with MESG, lines (NULL-terminated), XTRA; returns the offset */

static off_t write_content(const char *path, const char **lines, int pieces)
{
    VSTREAM *fp = vstream_fopen(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    off_t offset;

    assert_non_null(fp);
    rec_fprintf(fp, REC_TYPE_SIZE, "%d %d %d", 0, 0, 1);
    rec_put(fp, REC_TYPE_MESG, "", 0);
    offset = vstream_ftell(fp);
    for (int i = 0; lines[i]; i++)
        rec_put_line(fp, lines[i], strlen(lines[i]), pieces ? (size_t)pieces : 4096);
    rec_put(fp, REC_TYPE_XTRA, "", 0);
    rec_put(fp, REC_TYPE_END, "", 0);
    assert_int_equal(vstream_fclose(fp), 0);
    return offset;
}

static DELIVER_NOTE *make_note(const char *rcpt, const char *orig, const char *status,
                               const char *reason, const char *relay)
{
    DELIVER_NOTE *note = deliver_note_alloc();

    deliver_request_set(&note->recipient, rcpt);
    deliver_request_set(&note->orig_recipient, orig);
    deliver_request_set(&note->status, status);
    deliver_request_set(&note->action, "failed");
    deliver_request_set(&note->reason, reason);
    deliver_request_set(&note->relay, relay);
    note->offset = 100;
    note->time = 1700000100;
    return note;
}

static void init_info(BOUNCE_NOTICE_INFO *info, int kind)
{
    memset(info, 0, sizeof(*info));
    info->kind = kind;
    info->hostname = "mx.example.com";
    info->mail_name = "Postern";
    info->recipient = "sender@example.org";
    info->notice_id = NID;
    info->queue_id = QID;
    info->sender = "sender@example.org";
    info->dsn_envid = "";
    info->dsn_ret = "";
    info->arrival = 1700000000;
    info->now = 1700000200;
    info->size_limit = 50000;
}

typedef struct RESULT {
    VSTRING *text;  /* the notice as text, "\n" line ends */
    int cont;       /* CONT records seen */
    size_t longest; /* longest line */
} RESULT;

/* build - write a notice to a file, read it back as text */

static int build(RESULT *res, const BOUNCE_NOTICE_INFO *info, DELIVER_NOTE **notes, int count,
                 const char *content_path, off_t offset)
{
    VSTREAM *out = vstream_fopen("notice", O_RDWR | O_CREAT | O_TRUNC, 0600);
    VSTREAM *content = NULL;
    VSTRING *buf = vstring_alloc(100);
    size_t line = 0;
    int type;
    int ret;

    assert_non_null(out);
    if (content_path) {
        content = vstream_fopen(content_path, O_RDONLY, 0);
        assert_non_null(content);
    }
    ret = bounce_notice_write(out, info, notes, count, content, offset);
    assert_int_equal(vstream_fflush(out), 0);
    if (content)
        vstream_fclose(content);
    res->text = vstring_alloc(1000);
    res->cont = 0;
    res->longest = 0;
    vstream_fseek(out, 0, SEEK_SET);
    while ((type = rec_get(out, buf, 0)) > 0) {
        assert_true(type == REC_TYPE_NORM || type == REC_TYPE_CONT);
        vstring_memcat(res->text, vstring_str(buf), vstring_len(buf));
        line += vstring_len(buf);
        if (type == REC_TYPE_NORM) {
            vstring_addch(res->text, '\n');
            if (line > res->longest)
                res->longest = line;
            line = 0;
        } else {
            res->cont++;
        }
    }
    assert_int_equal(type, REC_TYPE_EOF);
    if (getenv("TEST_BOUNCE_NOTICE_DUMP"))
        fprintf(stderr, "%s\n=====\n", vstring_str(res->text));
    vstream_fclose(out);
    vstring_free(buf);
    return ret;
}

static void result_free(RESULT *res)
{
    vstring_free(res->text);
}

#define HAS(res, s) assert_non_null(strstr(vstring_str((res)->text), (s)))
#define HASNT(res, s) assert_null(strstr(vstring_str((res)->text), (s)))

static int count_of(const RESULT *res, const char *s)
{
    int n = 0;

    for (const char *cp = vstring_str(res->text); (cp = strstr(cp, s)) != NULL; cp++)
        n++;
    return n;
}

/* the boundary, from the Content-Type header */

static void boundary_of(const RESULT *res, VSTRING *out)
{
    const char *cp = strstr(vstring_str(res->text), "boundary=\"");
    const char *end;

    assert_non_null(cp);
    cp += 10;
    end = strchr(cp, '"');
    assert_non_null(end);
    vstring_strncpy(out, cp, (size_t)(end - cp));
}

/* ---------------------------------------------------------------- */

static void test_failed_full(void **unused)
{
    BOUNCE_NOTICE_INFO info;
    DELIVER_NOTE *notes[2];
    RESULT res;
    VSTRING *b = vstring_alloc(80);
    VSTRING *delim = vstring_alloc(80);
    off_t off = write_content("content", basic_message, 0);

    (void)unused;
    notes[0] = make_note("rcpt@example.net", "", "5.1.1",
                         "host mx.example.net[192.0.2.25] said: 550 5.1.1 <rcpt@example.net>: "
                         "Recipient address rejected: User unknown (in reply to RCPT TO command)",
                         "mx.example.net[192.0.2.25]:25");
    notes[1] = make_note("member@example.com", "list@example.com", "5.2.2",
                         "cannot update mailbox /var/mail/member: mailbox full", "local");
    init_info(&info, BOUNCE_NOTICE_FAILED);
    info.dsn_envid = "ENV-123";
    assert_int_equal(build(&res, &info, notes, 2, "content", off), 0);

    /* the notice's headers */
    assert_true(strncmp(vstring_str(res.text),
                        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\n", 58) == 0);
    HAS(&res, "\nTo: sender@example.org\n");
    HAS(&res, "\nSubject: Undelivered Mail Returned to Sender\n");
    HAS(&res, "\nAuto-Submitted: auto-replied\n");
    HAS(&res, "\nMIME-Version: 1.0\n");
    HAS(&res, "\nContent-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"");
    HAS(&res, "\nDate: ");
    HASNT(&res, "Content-Transfer-Encoding");
    boundary_of(&res, b);
    assert_non_null(strstr(vstring_str(b), NID));
    assert_true(vstring_len(b) <= 70);
    vstring_sprintf(delim, "\n--%s\n", vstring_str(b));
    assert_int_equal(count_of(&res, vstring_str(delim)), 3);
    vstring_sprintf(delim, "\n--%s--\n", vstring_str(b));
    assert_int_equal(count_of(&res, vstring_str(delim)), 1);

    /* part 1 */
    HAS(&res, "Content-Type: text/plain; charset=us-ascii\n");
    HAS(&res, "the Postern mail system at mx.example.com.");
    HAS(&res, "<rcpt@example.net>: host mx.example.net[192.0.2.25] said: 550 5.1.1");
    HAS(&res, "<member@example.com> (original address <list@example.com>): cannot\n"
              "    update mailbox");

    /* part 2 */
    HAS(&res, "Content-Type: message/delivery-status\n\n"
              "Original-Envelope-Id: ENV-123\n"
              "Reporting-MTA: dns; mx.example.com\n"
              "X-Postern-Queue-ID: " QID "\n"
              "X-Postern-Sender: rfc822; sender@example.org\n"
              "Arrival-Date: ");
    HAS(&res, "\n\nFinal-Recipient: rfc822; rcpt@example.net\n"
              "Action: failed\n"
              "Status: 5.1.1\n"
              "Remote-MTA: dns; mx.example.net\n"
              "Diagnostic-Code: smtp; 550 5.1.1 <rcpt@example.net>: Recipient address\n"
              " rejected: User unknown\n"
              "Last-Attempt-Date: ");
    HASNT(&res, "in reply to RCPT TO command)\nLast");
    HAS(&res, "\n\nFinal-Recipient: rfc822; member@example.com\n"
              "Original-Recipient: rfc822; list@example.com\n"
              "Action: failed\n"
              "Status: 5.2.2\n"
              "Diagnostic-Code: X-Postern; cannot update mailbox /var/mail/member: mailbox\n"
              " full\n");

    /* part 3: the whole message */
    HAS(&res, "Content-Description: Undelivered Message\nContent-Type: message/rfc822\n\n"
              "Received: from client.example.org");
    HAS(&res, "\nSubject: hello there\nMessage-ID: <abc@example.org>\n\nfirst body line\n"
              "second body line\n\n--");
    assert_true(res.longest <= 998);

    result_free(&res);
    deliver_note_free(notes[0]);
    deliver_note_free(notes[1]);
    vstring_free(b);
    vstring_free(delim);
}

static void test_expired(void **unused)
{
    BOUNCE_NOTICE_INFO info;
    DELIVER_NOTE *note = make_note("slow@example.net", "", "4.4.1", "connection timed out", "none");
    RESULT res;
    off_t off = write_content("content", basic_message, 0);

    (void)unused;
    init_info(&info, BOUNCE_NOTICE_FAILED);
    info.expired = 1;
    info.arrival = info.now - 5 * 86400 - 300;
    assert_int_equal(build(&res, &info, &note, 1, "content", off), 0);
    HAS(&res, "given up after 5 days in the queue");
    HAS(&res, "Action: failed\nStatus: 4.4.1\n"); /* the deferral's status is kept */
    result_free(&res);
    deliver_note_free(note);
}

static void test_headers_only(void **unused)
{
    BOUNCE_NOTICE_INFO info;
    DELIVER_NOTE *note = make_note("rcpt@example.net", "", "5.0.0", "no", "none");
    RESULT res;
    off_t off = write_content("content", basic_message, 0);

    (void)unused;
    /* RET=HDRS */
    init_info(&info, BOUNCE_NOTICE_FAILED);
    info.dsn_ret = "HDRS";
    assert_int_equal(build(&res, &info, &note, 1, "content", off), 0);
    HAS(&res, "Content-Type: text/rfc822-headers\n\nReceived: from");
    HAS(&res, "Message-ID: <abc@example.org>\n\n--");
    HASNT(&res, "first body line");
    HASNT(&res, "message/rfc822");
    HAS(&res, "only the headers of the message are");
    result_free(&res);

    /* postmaster copy: headers only whatever RET says */
    init_info(&info, BOUNCE_NOTICE_FAILED_COPY);
    info.recipient = "postmaster";
    info.dsn_ret = "FULL";
    assert_int_equal(build(&res, &info, &note, 1, "content", off), 0);
    HAS(&res, "\nTo: postmaster\n");
    HAS(&res, "\nSubject: Postmaster Copy: Undelivered Mail\n");
    HAS(&res, "Content-Type: text/rfc822-headers\n");
    HASNT(&res, "first body line");
    HAS(&res, "a message from <sender@example.org> could");
    result_free(&res);

    /* undeliverable notice to the postmaster: whole */
    init_info(&info, BOUNCE_NOTICE_UNDELIVERABLE);
    info.sender = "";
    info.recipient = "postmaster";
    assert_int_equal(build(&res, &info, &note, 1, "content", off), 0);
    HAS(&res, "Content-Type: message/rfc822\n");
    HAS(&res, "first body line");
    HASNT(&res, "X-Postern-Sender");
    HAS(&res, "empty envelope sender");
    result_free(&res);
    deliver_note_free(note);
}

static void test_size_limit(void **unused)
{
    BOUNCE_NOTICE_INFO info;
    DELIVER_NOTE *note = make_note("rcpt@example.net", "", "5.0.0", "no", "none");
    const char *lines[40];
    char body[30][101];
    RESULT res;
    VSTRING *want = vstring_alloc(100);
    off_t off;
    int n = 0;

    (void)unused;
    lines[n++] = "Subject: big";
    lines[n++] = "X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    lines[n++] = "\tcontinued bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    lines[n++] = "X-Last: c";
    lines[n++] = "";
    for (int i = 0; i < 30; i++) {
        memset(body[i], 'x', 100);
        body[i][100] = 0;
        lines[n++] = body[i];
    }
    lines[n] = NULL;
    off = write_content("content", lines, 0);

    /* whole when it fits */
    init_info(&info, BOUNCE_NOTICE_FAILED);
    info.size_limit = 100000;
    assert_int_equal(build(&res, &info, &note, 1, "content", off), 0);
    HAS(&res, "message/rfc822");
    assert_int_equal(count_of(&res, body[0]), 30);
    result_free(&res);

    /* headers only, and said so, when it does not */
    info.size_limit = 1000;
    assert_int_equal(build(&res, &info, &note, 1, "content", off), 0);
    HASNT(&res, "message/rfc822");
    HAS(&res, "Content-Type: text/rfc822-headers\n\nSubject: big\n");
    HAS(&res, "X-Last: c\n\n--");
    assert_int_equal(count_of(&res, body[0]), 0);
    vstring_sprintf(want, "larger than the 1000 bytes");
    HAS(&res, vstring_str(want));
    result_free(&res);

    /* headers larger than the limit (121 bytes): only whole header fields that fit */
    info.size_limit = 115;
    assert_int_equal(build(&res, &info, &note, 1, "content", off), 0);
    HAS(&res, "Content-Type: text/rfc822-headers\n\nSubject: big\nX-Long: aaa");
    HAS(&res, "\tcontinued bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n\n--");
    HASNT(&res, "X-Last: c");
    HAS(&res, "attached headers are cut");
    result_free(&res);

    info.size_limit = 40;
    assert_int_equal(build(&res, &info, &note, 1, "content", off), 0);
    HAS(&res, "Content-Type: text/rfc822-headers\n\nSubject: big\n\n--");
    HASNT(&res, "X-Long");
    result_free(&res);

    info.size_limit = 10;
    assert_int_equal(build(&res, &info, &note, 1, "content", off), 0);
    HAS(&res, "Content-Type: text/rfc822-headers\n\n\n--");
    HASNT(&res, "Subject: big");
    result_free(&res);
    deliver_note_free(note);
    vstring_free(want);
}

static void test_delay(void **unused)
{
    BOUNCE_NOTICE_INFO info;
    DELIVER_NOTE *note =
        make_note("slow@example.net", "", "4.4.1",
                  "connect to mx.example.net[192.0.2.9]:25: Connection timed out", "none");
    DELIVER_NOTE *bad = make_note("bad@example.net", "", "5.1.1", "odd", "none");
    DELIVER_NOTE *notes[2] = {note, bad};
    RESULT res;
    off_t off = write_content("content", basic_message, 0);

    (void)unused;
    init_info(&info, BOUNCE_NOTICE_DELAYED);
    info.retry_until = info.arrival + 5 * 86400;
    assert_int_equal(build(&res, &info, notes, 2, "content", off), 0);
    HAS(&res, "\nSubject: Delayed Mail (still being retried)\n");
    HAS(&res, "Action: delayed\nStatus: 4.4.1\n");
    HAS(&res, "Action: delayed\nStatus: 4.0.0\n"); /* a 5.X.Y is no delay status */
    assert_int_equal(count_of(&res, "\nWill-Retry-Until: "), 2);
    HAS(&res, "Diagnostic-Code: X-Postern; connect to mx.example.net[192.0.2.9]:25:");
    HAS(&res, "Content-Type: text/rfc822-headers\n");
    HASNT(&res, "first body line");
    HAS(&res, "Delivery will be tried until ");
    HAS(&res, "warning only");
    HASNT(&res, "Remote-MTA");
    result_free(&res);

    init_info(&info, BOUNCE_NOTICE_DELAYED_COPY);
    info.recipient = "postmaster";
    assert_int_equal(build(&res, &info, notes, 1, "content", off), 0);
    HAS(&res, "\nSubject: Postmaster Warning: Delayed Mail\n");
    HASNT(&res, "Will-Retry-Until"); /* retry_until 0: left out */
    result_free(&res);
    deliver_note_free(note);
    deliver_note_free(bad);
}

static void test_long_lines_and_boundary(void **unused)
{
    BOUNCE_NOTICE_INFO info;
    DELIVER_NOTE *note = make_note("rcpt@example.net", "", "5.0.0", "no", "none");
    VSTRING *evil = vstring_alloc(100);
    VSTRING *b = vstring_alloc(80);
    VSTRING *line = vstring_alloc(100);
    const char *lines[6];
    RESULT res;
    off_t off;

    (void)unused;
    /* the boundary the first try would use */
    init_info(&info, BOUNCE_NOTICE_FAILED);
    vstring_sprintf(evil, "--%s.%ld/%s", NID, (long)info.now, info.hostname);
    lines[0] = "Subject: trap";
    lines[1] = "";
    lines[2] = vstring_str(evil);
    lines[3] = "0123456789012345678901234567890123456789"; /* written as CONT pieces */
    lines[4] = "end";
    lines[5] = NULL;
    off = write_content("content", lines, 16);
    assert_int_equal(build(&res, &info, &note, 1, "content", off), 0);
    boundary_of(&res, b);
    assert_string_not_equal(vstring_str(b), vstring_str(evil) + 2);
    vstring_sprintf(line, "\n--%s\n", vstring_str(b));
    assert_int_equal(count_of(&res, vstring_str(line)), 3);
    HAS(&res, vstring_str(evil)); /* returned unchanged */
    HAS(&res, "\n0123456789012345678901234567890123456789\nend\n");
    assert_true(res.cont >= 2);
    result_free(&res);
    deliver_note_free(note);
    vstring_free(evil);
    vstring_free(b);
    vstring_free(line);
}

static void test_smtputf8(void **unused)
{
    BOUNCE_NOTICE_INFO info;
    DELIVER_NOTE *note =
        make_note("j\xc3\xb6rg@ex\xc3\xa4mple.net", "", "5.1.1",
                  "host mx[192.0.2.1] said: 550 5.1.1 unbekannt \xc3\xbc", "mx[192.0.2.1]");
    const char *lines[] = {
        "Subject: =?utf-8?q?gr=C3=BC=C3=9Fe?=", "To: j\xc3\xb6rg@ex\xc3\xa4mple.net", "",
        "gr\xc3\xbc\xc3\x9f"
        "e",
        NULL};
    RESULT res;
    off_t off = write_content("content", lines, 0);

    (void)unused;
    init_info(&info, BOUNCE_NOTICE_FAILED);
    info.smtputf8 = 1;
    assert_int_equal(build(&res, &info, &note, 1, "content", off), 0);
    HAS(&res, "report-type=global-delivery-status;");
    HAS(&res, "Content-Type: text/plain; charset=utf-8\n");
    HAS(&res, "Content-Type: message/global-delivery-status\n");
    HAS(&res, "Content-Type: message/global\nContent-Transfer-Encoding: 8bit\n");
    HAS(&res, "Final-Recipient: utf-8; j\xc3\xb6rg@ex\xc3\xa4mple.net\n");
    HAS(&res, "X-Postern-Sender: rfc822; sender@example.org\n");
    HAS(&res, "unbekannt \xc3\xbc");
    result_free(&res);

    /* the same without SMTPUTF8: 8-bit text in generated parts becomes '?' */
    info.smtputf8 = 0;
    assert_int_equal(build(&res, &info, &note, 1, "content", off), 0);
    HAS(&res, "report-type=delivery-status;");
    HAS(&res, "Final-Recipient: rfc822; j??rg@ex??mple.net\n");
    HAS(&res, "unbekannt ??");
    /* the returned message keeps its bytes, declared 8bit */
    HAS(&res, "Content-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n");
    HAS(&res, "\ngr\xc3\xbc\xc3\x9f"
              "e\n");
    HAS(&res, "\nContent-Transfer-Encoding: 8bit\n\nThis is a delivery status");
    result_free(&res);
    deliver_note_free(note);
}

static void test_unreadable_content(void **unused)
{
    BOUNCE_NOTICE_INFO info;
    DELIVER_NOTE *note = make_note("rcpt@example.net", "", "5.0.0", "no", "none");
    VSTREAM *fp;
    RESULT res;
    off_t off;

    (void)unused;
    init_info(&info, BOUNCE_NOTICE_FAILED);
    assert_int_equal(build(&res, &info, &note, 1, NULL, 0), 0);
    HAS(&res, "could not be read");
    HASNT(&res, "message/rfc822");
    HASNT(&res, "rfc822-headers");
    HAS(&res, "Content-Type: message/delivery-status\n");
    result_free(&res);

    /* a record that does not belong in the content */
    fp = vstream_fopen("corrupt", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    rec_put(fp, REC_TYPE_MESG, "", 0);
    off = vstream_ftell(fp);
    rec_put(fp, REC_TYPE_NORM, "Subject: x", 10);
    rec_put(fp, REC_TYPE_RCPT, "evil@example.com", 16);
    rec_put(fp, REC_TYPE_XTRA, "", 0);
    vstream_fclose(fp);
    assert_int_equal(build(&res, &info, &note, 1, "corrupt", off), 0);
    HAS(&res, "could not be read");
    HASNT(&res, "Subject: x");
    result_free(&res);

    /* content that ends without XTRA */
    fp = vstream_fopen("short", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    rec_put(fp, REC_TYPE_MESG, "", 0);
    off = vstream_ftell(fp);
    rec_put(fp, REC_TYPE_NORM, "Subject: x", 10);
    vstream_fclose(fp);
    assert_int_equal(build(&res, &info, &note, 1, "short", off), 0);
    HAS(&res, "could not be read");
    result_free(&res);
    deliver_note_free(note);
}

static void test_hostile_notes(void **unused)
{
    BOUNCE_NOTICE_INFO info;
    VSTRING *reason = vstring_alloc(3000);
    DELIVER_NOTE *note;
    RESULT res;
    off_t off = write_content("content", basic_message, 0);

    (void)unused;
    vstring_strcpy(reason, "bad\r\nInjected: header\x01 ");
    for (int i = 0; i < 2500; i++)
        vstring_addch(reason, 'w');
    note = make_note("we\"ird\n@example.net", "", "9.9.9", vstring_str(reason), "[[[");
    deliver_request_set(&note->orcpt, "rfc822;a+2Bb+3D@example.net");
    init_info(&info, BOUNCE_NOTICE_FAILED);
    assert_int_equal(build(&res, &info, &note, 1, "content", off), 0);
    assert_true(res.longest <= 998);
    HASNT(&res, "\nInjected: header");
    HAS(&res, "Status: 5.0.0\n");
    HAS(&res, "Original-Recipient: rfc822; a+b=@example.net\n");
    HASNT(&res, "Remote-MTA");
    result_free(&res);
    deliver_note_free(note);
    vstring_free(reason);
}

static void test_diagnostic(void **unused)
{
    DELIVER_NOTE *note = deliver_note_alloc();
    VSTRING *mta = vstring_alloc(50);
    VSTRING *diag = vstring_alloc(50);

    (void)unused;
    deliver_request_set(&note->relay, "mx.example.net[192.0.2.1]:25");
    deliver_request_set(&note->reason, "host mx.example.net[192.0.2.1] said: 554 5.7.1 go away "
                                       "(in reply to end of DATA command)");
    bounce_notice_diagnostic(note, mta, diag);
    assert_string_equal(vstring_str(mta), "dns; mx.example.net");
    assert_string_equal(vstring_str(diag), "smtp; 554 5.7.1 go away");

    deliver_request_set(&note->relay, "lmtp.example.net[private/dovecot-lmtp]");
    deliver_request_set(&note->reason, "550 5.1.1 no such user");
    bounce_notice_diagnostic(note, mta, diag);
    assert_string_equal(vstring_str(mta), "dns; lmtp.example.net");
    assert_string_equal(vstring_str(diag), "smtp; 550 5.1.1 no such user");

    deliver_request_set(&note->relay, "local");
    deliver_request_set(&note->reason, "Command died with status 67: \"/bin/x\"");
    bounce_notice_diagnostic(note, mta, diag);
    assert_string_equal(vstring_str(mta), "");
    assert_string_equal(vstring_str(diag), "X-Postern; Command died with status 67: \"/bin/x\"");

    /* not a reply code; a "(in reply to" that is not the trailer */
    deliver_request_set(&note->relay, "[192.0.2.1]");
    deliver_request_set(&note->reason, "600 odd");
    bounce_notice_diagnostic(note, mta, diag);
    assert_string_equal(vstring_str(mta), "");
    assert_string_equal(vstring_str(diag), "X-Postern; 600 odd");
    deliver_request_set(&note->reason, "host h[1.2.3.4] said: 550 x (in reply to nothing)");
    bounce_notice_diagnostic(note, mta, diag);
    assert_string_equal(vstring_str(diag), "smtp; 550 x (in reply to nothing)");

    assert_string_equal(bounce_notice_subject(BOUNCE_NOTICE_FAILED),
                        "Undelivered Mail Returned to Sender");
    deliver_note_free(note);
    vstring_free(mta);
    vstring_free(diag);
}

static void test_write_error(void **unused)
{
    BOUNCE_NOTICE_INFO info;
    DELIVER_NOTE *note = make_note("rcpt@example.net", "", "5.0.0", "no", "none");
    VSTREAM *out = vstream_fopen("/dev/full", O_WRONLY, 0);
    VSTREAM *content;
    const char *lines[400];
    char line[100];
    off_t off;

    (void)unused;
    memset(line, 'y', sizeof(line) - 1);
    line[sizeof(line) - 1] = 0;
    lines[0] = "Subject: big";
    lines[1] = "";
    for (int i = 2; i < 399; i++)
        lines[i] = line;
    lines[399] = NULL;
    off = write_content("content", lines, 0);
    content = vstream_fopen("content", O_RDONLY, 0);
    assert_non_null(out);
    init_info(&info, BOUNCE_NOTICE_FAILED);
    assert_int_equal(bounce_notice_write(out, &info, &note, 1, content, off), -1);
    vstream_fclose(content);
    (void)vstream_fclose(out);
    deliver_note_free(note);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_full),   cmocka_unit_test(test_expired),
        cmocka_unit_test(test_headers_only),  cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_delay),         cmocka_unit_test(test_long_lines_and_boundary),
        cmocka_unit_test(test_smtputf8),      cmocka_unit_test(test_unreadable_content),
        cmocka_unit_test(test_hostile_notes), cmocka_unit_test(test_diagnostic),
        cmocka_unit_test(test_write_error),
    };
    VSTRING *cmd = vstring_alloc(100);
    int ret;

    msg_init("test_bounce_notice");
    mail_conf_eval();
    setenv("TZ", "UTC", 1);
    if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) < 0)
        return 1;
    msg_set_logfile("maillog");
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    msg_set_logfile(NULL);
    vstring_sprintf(cmd, "rm -rf %s", tmpdir);
    if (chdir("/") < 0 || system(vstring_str(cmd)) != 0)
        ret = 1;
    vstring_free(cmd);
    return ret;
}
