/*
 * NAME
 *	test_deliver_request - unit tests for both ends of a delivery request
 * SYNOPSIS
 *	build/unit/test_deliver_request
 * DESCRIPTION
 *	A request formatted by the qmgr side is read back by the agent side
 *	over a socket pair, field by field, up to the recipient limit;
 *	replies go the other way. Hostile requests (missing or malformed
 *	fields, a queue ID or queue name that could name another file,
 *	control characters, too many recipients) are refused with a
 *	DEL_STAT_DEFER reply. The completeness scanner accepts exactly the
 *	complete lists, at every cut. The agent reads the content of a real
 *	queue file: long lines in pieces, the end of content, a wrong
 *	data_offset.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "attr.h"
#include "deliver_request.h"
#include "lock_file.h"
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "rec.h"
#include "vstream.h"

static char tmpdir[] = "/tmp/test_deliver_request.XXXXXX";
static off_t sample_mesg;           /* MESG record of active/3F2A81C0D5 */

typedef struct PAIR {
    VSTREAM *qmgr;
    VSTREAM *agent;
} PAIR;

static void pair_open(PAIR *p)
{
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    p->qmgr = vstream_fdopen(sv[0], O_RDWR);
    p->agent = vstream_fdopen(sv[1], O_RDWR);
    vstream_set_timeout(p->qmgr, 5);
    vstream_set_timeout(p->agent, 5);
}

static void pair_close(PAIR *p)
{
    vstream_fclose(p->qmgr);
    vstream_fclose(p->agent);
}

static DELIVER_REQUEST *sample_request(int nrcpt)
{
    DELIVER_REQUEST *req = deliver_request_alloc();
    char addr[100];

    req->flags = DEL_REQ_FLAG_VERBOSE;
    deliver_request_set(&req->queue_name, "active");
    deliver_request_set(&req->queue_id, "3F2A81C0D5");
    req->data_offset = sample_mesg;
    req->data_size = 4567;
    deliver_request_set(&req->nexthop, "[mx.example]:25");
    deliver_request_set(&req->encoding, "8bit");
    req->smtputf8 = 1;
    deliver_request_set(&req->sender, "sender@example.org");
    deliver_request_set(&req->dsn_envid, "env-id");
    deliver_request_set(&req->dsn_ret, "HDRS");
    req->arrival.tv_sec = 1700000000;
    req->arrival.tv_usec = 42;
    deliver_request_set(&req->client_name, "client.example");
    deliver_request_set(&req->client_address, "192.0.2.1");
    deliver_request_set(&req->helo_name, "helo.example");
    deliver_request_set(&req->protocol, "ESMTPSA");
    deliver_request_set(&req->sasl_username, "joe");
    req->delay_a = 1.25;
    req->delay_b = 0.5;
    for (int i = 0; i < nrcpt; i++) {
        snprintf(addr, sizeof(addr), "user%d@example.com", i);
        deliver_request_add_rcpt(req, addr, i % 2 ? "Orig@example.com" : "", 200 + i * 10,
                                 i % 3, i % 2 ? "rfc822;orig@example.com" : "");
    }
    return req;
}

static void test_round_trip(void **state)
{
    int counts[] = {1, 2, 50, DELIVER_RCPT_LIMIT};

    (void) state;
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
        PAIR p;
        DELIVER_REQUEST *out = sample_request(counts[k]);
        DELIVER_REQUEST *in;
        VSTRING *wire = vstring_alloc(100);

        pair_open(&p);
        deliver_request_format(out, wire);
        assert_int_equal(deliver_attr_complete(vstring_str(wire), vstring_len(wire)),
                         (ssize_t) vstring_len(wire));
        assert_int_equal(vstream_fwrite(p.qmgr, vstring_str(wire), vstring_len(wire)), 0);
        assert_int_equal(vstream_fflush(p.qmgr), 0);
        in = deliver_request_read(p.agent);
        assert_non_null(in);
        assert_int_equal(deliver_reply_read(p.qmgr, NULL), DEL_STAT_OK); /* ready */
        assert_int_equal(in->flags, DEL_REQ_FLAG_VERBOSE);
        assert_string_equal(in->queue_name, "active");
        assert_string_equal(in->queue_id, "3F2A81C0D5");
        assert_int_equal(in->data_offset, sample_mesg);
        /* the agent holds a shared lock: qmgr's exclusive test fails */
        int fd = open("active/3F2A81C0D5", O_RDWR);

        assert_true(fd >= 0);
        assert_int_equal(lock_file(fd, LOCK_FILE_EXCLUSIVE | LOCK_FILE_NONBLOCK), -1);
        assert_int_equal(lock_file(fd, LOCK_FILE_SHARED | LOCK_FILE_NONBLOCK), 0);
        close(fd);
        assert_int_equal(in->data_size, 4567);
        assert_string_equal(in->nexthop, "[mx.example]:25");
        assert_string_equal(in->encoding, "8bit");
        assert_int_equal(in->smtputf8, 1);
        assert_string_equal(in->sender, "sender@example.org");
        assert_string_equal(in->dsn_envid, "env-id");
        assert_string_equal(in->dsn_ret, "HDRS");
        assert_int_equal(in->arrival.tv_sec, 1700000000);
        assert_int_equal(in->arrival.tv_usec, 42);
        assert_string_equal(in->client_name, "client.example");
        assert_string_equal(in->client_address, "192.0.2.1");
        assert_string_equal(in->helo_name, "helo.example");
        assert_string_equal(in->protocol, "ESMTPSA");
        assert_string_equal(in->sasl_username, "joe");
        assert_true(in->delay_a > 1.24 && in->delay_a < 1.26);
        assert_true(in->delay_b > 0.49 && in->delay_b < 0.51);
        assert_true(in->start.tv_sec > 0);
        assert_int_equal(in->rcpt_count, counts[k]);
        for (int i = 0; i < counts[k]; i++) {
            assert_string_equal(in->rcpt[i].address, out->rcpt[i].address);
            assert_string_equal(in->rcpt[i].orig, out->rcpt[i].orig);
            assert_string_equal(in->rcpt[i].orcpt, out->rcpt[i].orcpt);
            assert_int_equal(in->rcpt[i].offset, out->rcpt[i].offset);
            assert_int_equal(in->rcpt[i].notify, out->rcpt[i].notify);
            assert_int_equal(in->rcpt[i].result, DELIVER_RESULT_NONE);
            in->rcpt[i].result = 1 + i % 3;
        }
        in->rcpt[0].result = DELIVER_RESULT_NONE;     /* no result: left out */
        assert_int_equal(deliver_request_done(in, DEL_STAT_OK), 0);
        assert_int_equal(deliver_reply_read(p.qmgr, out), DEL_STAT_OK);
        fd = open("active/3F2A81C0D5", O_RDWR);
        assert_int_equal(lock_file(fd, LOCK_FILE_EXCLUSIVE | LOCK_FILE_NONBLOCK), 0);
        close(fd);
        assert_int_equal(out->rcpt[0].result, DELIVER_RESULT_NONE);
        for (int i = 1; i < counts[k]; i++)
            assert_int_equal(out->rcpt[i].result, 1 + i % 3);
        deliver_request_free(out);
        vstring_free(wire);
        pair_close(&p);
    }
}

static void test_blocking_send(void **state)
{
    PAIR p;
    DELIVER_REQUEST *out = sample_request(3);
    DELIVER_REQUEST *in;

    (void) state;
    pair_open(&p);
    /* the agent's ready status must come first: write it by hand */
    assert_int_equal(attr_print(p.agent, ATTR_INT("status", 0), ATTR_END), 0);
    assert_int_equal(deliver_request_send(out, p.qmgr), 0);
    /* deliver_request_read sends a second ready status, read it away */
    in = deliver_request_read(p.agent);
    assert_non_null(in);
    assert_int_equal(deliver_reply_read(p.qmgr, NULL), 0);
    assert_int_equal(in->rcpt_count, 3);
    deliver_request_free(in);
    deliver_request_free(out);
    pair_close(&p);
}

/* send raw attribute pairs (name, value, ..., NULL) and expect a refusal */

static void expect_refused(const char *what, ...)
{
    PAIR p;
    va_list ap;
    const char *name;
    const char *value;
    NVTABLE *nv = attr_nv_create();

    pair_open(&p);
    va_start(ap, what);
    while ((name = va_arg(ap, const char *)) != NULL) {
        value = va_arg(ap, const char *);
        attr_nv_update(nv, name, value);
    }
    va_end(ap);
    assert_int_equal(attr_print(p.qmgr, ATTR_NV(nv), ATTR_END), 0);
    if (deliver_request_read(p.agent) != NULL)
        fail_msg("%s: request accepted", what);
    assert_int_equal(deliver_reply_read(p.qmgr, NULL), DEL_STAT_OK);      /* ready */
    assert_int_equal(deliver_reply_read(p.qmgr, NULL), DEL_STAT_DEFER);   /* refusal */
    attr_nv_free(nv);
    pair_close(&p);
}

#define BASE(id, name)                                                                             \
    "flags", "0", "queue_name", (name), "queue_id", (id), "data_offset", mesg_text, "data_size", "5", \
        "sender", "", "arrival_time", "1700000000.5"

static void test_hostile(void **state)
{
    char mesg_text[30];

    (void) state;
    snprintf(mesg_text, sizeof(mesg_text), "%lld", (long long) sample_mesg);
    /* the good request that the others spoil */
    expect_refused("no such file", BASE("ABCDEF2", "active"), "rcpt_count", "1",
                   "rcpt.0.address", "a@b", "rcpt.0.offset", "20", NULL);
    expect_refused("no recipients", BASE("ABCDEF1", "active"), "rcpt_count", "0", NULL);
    expect_refused("too many", BASE("ABCDEF1", "active"), "rcpt_count", "201", NULL);
    expect_refused("missing rcpt", BASE("ABCDEF1", "active"), "rcpt_count", "2",
                   "rcpt.0.address", "a@b", "rcpt.0.offset", "20", NULL);
    expect_refused("dotdot id", BASE("../x", "active"), "rcpt_count", "1", "rcpt.0.address",
                   "a@b", "rcpt.0.offset", "20", NULL);
    expect_refused("lower id", BASE("abcdef1", "active"), "rcpt_count", "1", "rcpt.0.address",
                   "a@b", "rcpt.0.offset", "20", NULL);
    expect_refused("queue name", BASE("ABCDEF1", "../etc"), "rcpt_count", "1", "rcpt.0.address",
                   "a@b", "rcpt.0.offset", "20", NULL);
    expect_refused("ctl in rcpt", BASE("ABCDEF1", "active"), "rcpt_count", "1",
                   "rcpt.0.address", "a\nb@c", "rcpt.0.offset", "20", NULL);
    expect_refused("ctl in nexthop", BASE("ABCDEF1", "active"), "nexthop", "x\ry",
                   "rcpt_count", "1", "rcpt.0.address", "a@b", "rcpt.0.offset", "20", NULL);
    expect_refused("zero offset", BASE("ABCDEF1", "active"), "rcpt_count", "1",
                   "rcpt.0.address", "a@b", "rcpt.0.offset", "0", NULL);
    expect_refused("bad offset", BASE("ABCDEF1", "active"), "rcpt_count", "1",
                   "rcpt.0.address", "a@b", "rcpt.0.offset", "12x", NULL);
    expect_refused("plus count", BASE("ABCDEF1", "active"), "rcpt_count", "+1",
                   "rcpt.0.address", "a@b", "rcpt.0.offset", "20", NULL);
    expect_refused("bad delays", BASE("ABCDEF1", "active"), "queue_delays", "nan/1",
                   "rcpt_count", "1", "rcpt.0.address", "a@b", "rcpt.0.offset", "20", NULL);
    expect_refused("bad time", BASE("ABCDEF1", "active"), "arrival_time", "1.2.3",
                   "rcpt_count", "1", "rcpt.0.address", "a@b", "rcpt.0.offset", "20", NULL);
    expect_refused("bad notify", BASE("ABCDEF1", "active"), "rcpt_count", "1",
                   "rcpt.0.address", "a@b", "rcpt.0.offset", "20", "rcpt.0.notify", "-1", NULL);
    expect_refused("not mesg", BASE("3F2A81C0D5", "active"), "data_offset", "1",
                   "rcpt_count", "1", "rcpt.0.address", "a@b", "rcpt.0.offset", "20", NULL);
    expect_refused("no sender", "flags", "0", "queue_name", "active", "queue_id", "ABCDEF1",
                   "data_offset", "10", "data_size", "5", "arrival_time", "1",
                   "rcpt_count", "1", "rcpt.0.address", "a@b", "rcpt.0.offset", "20", NULL);
}

static void test_eof(void **state)
{
    PAIR p;

    (void) state;
    pair_open(&p);
    shutdown(vstream_fileno(p.qmgr), SHUT_WR);
    assert_null(deliver_request_read(p.agent));
    pair_close(&p);
}

static void test_complete(void **state)
{
    DELIVER_REQUEST *req = sample_request(7);
    VSTRING *wire = vstring_alloc(100);
    char big[ATTR_NAME_MAX + 10];

    (void) state;
    deliver_request_format(req, wire);
    for (size_t cut = 0; cut < vstring_len(wire); cut++)
        if (deliver_attr_complete(vstring_str(wire), cut) != 0)
            fail_msg("cut at %zu seen as complete", cut);
    /* trailing bytes after a complete list are not part of it */
    vstring_memcat(wire, "abc", 3);
    assert_int_equal(deliver_attr_complete(vstring_str(wire), vstring_len(wire)),
                     (ssize_t) vstring_len(wire) - 3);
    assert_int_equal(deliver_attr_complete("", 1), 1);
    memset(big, 'a', sizeof(big));
    assert_int_equal(deliver_attr_complete(big, sizeof(big)), -1);
    deliver_request_free(req);
    vstring_free(wire);
}

static void test_reply_parse(void **state)
{
    DELIVER_REQUEST *req = sample_request(3);

    (void) state;
#define REPLY(s) deliver_reply_parse((s), sizeof(s) - 1, req)
    assert_int_equal(REPLY("status\0" "0\0rcpt.2.result\0bounced\0\0"), 0);
    assert_int_equal(req->rcpt[2].result, DELIVER_RESULT_BOUNCED);
    assert_int_equal(REPLY("status\0" "1\0\0"), 1);
    assert_int_equal(REPLY("status\0" "0\0rcpt.3.result\0sent\0\0"), -1);
    assert_int_equal(REPLY("status\0" "0\0rcpt.-1.result\0sent\0\0"), -1);
    assert_int_equal(REPLY("status\0" "0\0rcpt.01.result\0sent\0\0"), -1);
    assert_int_equal(REPLY("status\0" "0\0rcpt.1.result\0maybe\0\0"), -1);
    assert_int_equal(REPLY("status\0" "0\0rcpt.1.other\0sent\0\0"), -1);
    assert_int_equal(REPLY("status\0" "x\0\0"), -1);
    assert_int_equal(REPLY("other\0" "0\0\0"), -1);
    assert_int_equal(REPLY("status\0" "0\0"), -1);             /* cut short */
    deliver_request_free(req);
}

/* write a queue file: envelope, content with a long line, end */

static void write_queue_file(const char *path, off_t *mesg_offset, off_t *rcpt_offset)
{
    VSTREAM *fp = vstream_fopen(path, O_WRONLY | O_CREAT | O_TRUNC, 0700);

    assert_non_null(fp);
    rec_fprintf(fp, REC_TYPE_SIZE, "%15d %15d %15d", 0, 0, 1);
    rec_fprintf(fp, REC_TYPE_TIME, "%d.%d", 1700000000, 0);
    rec_fprintf(fp, REC_TYPE_FROM, "%s", "s@example.org");
    *rcpt_offset = vstream_ftell(fp);
    rec_fprintf(fp, REC_TYPE_RCPT, "%s", "r@example.com");
    *mesg_offset = vstream_ftell(fp);
    rec_put(fp, REC_TYPE_MESG, "", 0);
    rec_put_line(fp, "Subject: test", 13, 100);
    rec_put_line(fp, "", 0, 100);
    rec_put_line(fp, "0123456789abcdefghij", 20, 8);   /* three pieces */
    rec_put(fp, REC_TYPE_XTRA, "", 0);
    rec_put(fp, REC_TYPE_END, "", 0);
    assert_int_equal(vstream_fclose(fp), 0);
}

static void test_content(void **state)
{
    DELIVER_REQUEST *req = sample_request(1);
    VSTRING *buf = vstring_alloc(100);
    VSTRING *path = vstring_alloc(100);
    char outname[] = "/tmp/test_deliver_copy.XXXXXX";
    off_t mesg, rcpt;
    VSTREAM *out;
    char text[200];
    ssize_t n;
    int fd;

    (void) state;
    vstring_sprintf(path, "%s/active/%s", tmpdir, req->queue_id);
    write_queue_file(vstring_str(path), &mesg, &rcpt);
    req->data_offset = mesg;
    assert_int_equal(deliver_request_content(req, buf), REC_TYPE_NORM);
    assert_string_equal(vstring_str(buf), "Subject: test");
    assert_int_equal(deliver_request_content(req, buf), REC_TYPE_NORM);
    assert_string_equal(vstring_str(buf), "");
    assert_int_equal(deliver_request_content(req, buf), REC_TYPE_CONT);
    assert_string_equal(vstring_str(buf), "01234567");
    assert_int_equal(deliver_request_content(req, buf), REC_TYPE_CONT);
    assert_int_equal(deliver_request_content(req, buf), REC_TYPE_NORM);
    assert_string_equal(vstring_str(buf), "ghij");
    assert_int_equal(deliver_request_content(req, buf), 0);

    /* a copy starts from the beginning again */
    assert_true((fd = mkstemp(outname)) >= 0);
    out = vstream_fdopen(fd, O_RDWR);
    assert_int_equal(deliver_request_copy(req, out, "\r\n"), 0);
    assert_int_equal(vstream_fflush(out), 0);
    n = pread(fd, text, sizeof(text) - 1, 0);
    assert_true(n > 0);
    text[n] = 0;
    assert_string_equal(text, "Subject: test\r\n\r\n0123456789abcdefghij\r\n");
    vstream_fclose(out);
    unlink(outname);
    deliver_request_free(req);

    /* a data_offset that is not the MESG record */
    req = sample_request(1);
    req->data_offset = rcpt;
    assert_null(deliver_request_open(req));
    assert_int_equal(deliver_request_content(req, buf), -1);
    deliver_request_free(req);

    /* no such queue file */
    req = sample_request(1);
    deliver_request_set(&req->queue_id, "ABCDEF0");
    assert_null(deliver_request_open(req));
    deliver_request_free(req);
    vstring_free(buf);
    vstring_free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_blocking_send),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_eof),
        cmocka_unit_test(test_complete),
        cmocka_unit_test(test_reply_parse),
        cmocka_unit_test(test_content),
    };
    VSTRING *cmd = vstring_alloc(100);
    int ret;

    msg_init("test_deliver_request");
    mail_conf_eval();
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    if (chdir(tmpdir) < 0)
        return 1;
    mkdir("active", 0700);
    {
        off_t rcpt;

        write_queue_file("active/3F2A81C0D5", &sample_mesg, &rcpt);
    }
    ret = cmocka_run_group_tests(tests, NULL, NULL);
    vstring_sprintf(cmd, "rm -rf %s", tmpdir);
    if (chdir("/") < 0 || system(vstring_str(cmd)) != 0)
        ret = 1;
    vstring_free(cmd);
    return ret;
}
