"""smtpd(8): the SMTP protocol as a client sees it, end to end through
master(8), smtpd and cleanup(8) into the incoming queue.

Most tests share one instance (module scope) whose mynetworks trusts
loopback; tests that need other settings make their own with
instance_factory. No qmgr runs, so accepted mail stays in incoming/
where the tests read it back.
"""
import re
import shutil
import smtplib
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from instance import Instance, instance_factory, read_queue_file, wait_for  # noqa: F401

SERVICES = ["smtp/inet", "cleanup/unix"]
BASE_MAIN = {
    "mynetworks": "127.0.0.0/8",
    "smtpd_error_sleep_time": "0",
    "smtpd_peername_lookup": "no",
}


@pytest.fixture(scope="module")
def mx(postern_build):
    base = Path(tempfile.mkdtemp(prefix="postern-smtpd-"))
    base.chmod(0o755)
    inst = Instance(postern_build, base, main=dict(BASE_MAIN), services=SERVICES)
    inst.start()
    yield inst
    try:
        inst.cleanup()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def make(instance_factory, **main):
    conf = dict(BASE_MAIN)
    conf.update(main)
    return instance_factory(main=conf, services=SERVICES).start()


def session(inst, ehlo="client.example.com"):
    c = inst.smtp_connect()
    c.expect(220)
    if ehlo:
        code, texts = c.cmd(f"EHLO {ehlo}")
        assert code == 250, texts
    return c


def queued_id(texts):
    m = re.search(r"Ok: queued as ([0-9A-F]+)$", texts[-1])
    assert m, texts
    return m.group(1)


def send_message(c, sender, rcpts, content: bytes, mail_params=""):
    """MAIL, RCPT..., DATA, content (already dot-stuffed, without the final dot)."""
    code, texts = c.cmd(f"MAIL FROM:<{sender}>{mail_params}")
    assert code == 250, texts
    for r in rcpts:
        code, texts = c.cmd(f"RCPT TO:<{r}>")
        assert code == 250, texts
    assert c.cmd("DATA") == (354, ["End data with <CR><LF>.<CR><LF>"])
    c.send(content + b".\r\n")
    code, texts = c.reply()
    assert code == 250, texts
    return queued_id(texts)


# ---------------------------------------------------------------- greeting, EHLO

def test_greeting_and_ehlo_keywords(mx):
    c = mx.smtp_connect()
    assert c.reply() == (220, ["mx.example.com ESMTP Postern"])
    assert c.cmd("EHLO client.example.com") == (250, [
        "mx.example.com", "PIPELINING", "SIZE 10240000", "VRFY", "ENHANCEDSTATUSCODES",
        "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"])
    assert c.cmd("HELO client.example.com") == (250, ["mx.example.com"])
    assert c.cmd("QUIT") == (221, ["2.0.0 Bye"])
    assert c.closed()


def test_banner_and_limits_follow_main_cf(instance_factory):
    inst = make(instance_factory, smtpd_banner="$myhostname ESMTP ready",
                message_size_limit="0", disable_vrfy_command="yes", smtputf8_enable="no")
    c = inst.smtp_connect()
    assert c.reply() == (220, ["mx.example.com ESMTP ready"])
    code, lines = c.cmd("EHLO x.example")
    assert lines == ["mx.example.com", "PIPELINING", "SIZE", "ENHANCEDSTATUSCODES", "8BITMIME",
                     "DSN", "CHUNKING"]
    assert c.cmd("VRFY root") == (502, ["5.5.1 VRFY command is disabled"])
    assert c.cmd("MAIL FROM:<a@example.org> SMTPUTF8")[0] == 555


def test_helo_syntax(mx):
    c = session(mx, ehlo=None)
    assert c.cmd("HELO") == (501, ["Syntax: HELO hostname"])
    assert c.cmd("EHLO") == (501, ["Syntax: EHLO hostname"])
    assert c.cmd("EHLO   ") == (501, ["Syntax: EHLO hostname"])


# ---------------------------------------------------------------- sequencing and syntax

def test_sequencing_errors(mx):
    c = session(mx)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (503, ["5.5.1 Error: need MAIL command"])
    assert c.cmd("DATA") == (503, ["5.5.1 Error: need RCPT command"])
    assert c.cmd("BDAT 0 LAST") == (503, ["5.5.1 Error: need RCPT command"])
    assert c.cmd("MAIL FROM:<a@example.org>") == (250, ["2.1.0 Ok"])
    assert c.cmd("MAIL FROM:<a@example.org>") == (503, ["5.5.1 Error: nested MAIL command"])
    assert c.cmd("DATA") == (554, ["5.5.1 Error: no valid recipients"])
    assert c.cmd("RSET") == (250, ["2.0.0 Ok"])
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (503, ["5.5.1 Error: need MAIL command"])


def test_syntax_errors(mx):
    c = session(mx)
    assert c.cmd("MAIL <a@example.org>") == (501, ["5.5.4 Syntax: MAIL FROM:<address>"])
    assert c.cmd("MAIL FROM:") == (501, ["5.5.4 Syntax: MAIL FROM:<address>"])
    assert c.cmd("MAIL FROM:<a b@c>") == (501, ["5.1.7 Bad sender address syntax"])
    assert c.cmd("MAIL FROM:<a@example.org") == (501, ["5.1.7 Bad sender address syntax"])
    assert c.cmd("MAIL FROM:<a@example.org>") == (250, ["2.1.0 Ok"])
    assert c.cmd("RCPT <root@mx.example.com>") == (501, ["5.5.4 Syntax: RCPT TO:<address>"])
    assert c.cmd("RCPT TO:<>") == (501, ["5.1.3 Bad recipient address syntax"])
    assert c.cmd("RCPT TO:<@>") == (501, ["5.1.3 Bad recipient address syntax"])
    assert c.cmd("DATA now") == (501, ["5.5.4 Syntax: DATA"])
    assert c.cmd("RSET all") == (501, ["5.5.4 Syntax: RSET"])
    assert c.cmd("FROB") == (502, ["5.5.2 Error: command not recognized"])
    assert c.cmd("EXPN root") == (502, ["5.5.2 Error: command not recognized"])
    assert c.cmd("MAIL\x01 FROM:<>") == (500, ["5.5.2 Error: bad syntax"])
    assert c.cmd(b"MAIL FROM:<\xff@x>") == (500, ["5.5.2 Error: bad UTF-8 syntax"])
    assert c.cmd("NOOP") == (250, ["2.0.0 Ok"])
    assert c.cmd("NOOP anything at all") == (250, ["2.0.0 Ok"])
    assert c.cmd("HELP")[0] == 214


def test_space_after_colon_and_case(mx):
    c = session(mx)
    assert c.cmd("mail from: <a@example.org>") == (250, ["2.1.0 Ok"])
    assert c.cmd("rcpt to: <root@mx.example.com>") == (250, ["2.1.5 Ok"])


def test_strict_envelopes(instance_factory):
    inst = make(instance_factory, strict_rfc821_envelopes="yes")
    c = session(inst)
    assert c.cmd("MAIL FROM: <a@example.org>")[0] == 501
    assert c.cmd("MAIL FROM:a@example.org")[0] == 501
    assert c.cmd("MAIL FROM:<a@example.org>") == (250, ["2.1.0 Ok"])


def test_mail_parameters(mx):
    c = session(mx)
    assert c.cmd("MAIL FROM:<a@example.org> SIZE=10240001") == (
        552, ["5.3.4 Message size exceeds fixed limit"])
    assert c.cmd("MAIL FROM:<a@example.org> SIZE=12x") == (501, ["5.5.4 Bad message size syntax"])
    assert c.cmd("MAIL FROM:<a@example.org> BODY=BINARYMIME") == (
        501, ["5.5.4 Bad BODY keyword value"])
    assert c.cmd("MAIL FROM:<a@example.org> RET=ALL") == (501, ["5.5.4 Bad RET parameter syntax"])
    assert c.cmd("MAIL FROM:<a@example.org> ENVID=a+2") == (
        501, ["5.5.4 Bad ENVID parameter syntax"])
    assert c.cmd("MAIL FROM:<a@example.org> FOO=bar") == (
        555, ["5.5.4 Unsupported option: FOO=bar"])
    assert c.cmd("MAIL FROM:<a@example.org> SIZE=1 SIZE=2")[0] == 501
    assert c.cmd("MAIL FROM:<\u00e9@example.org>") == (
        553, ["5.6.7 Must declare SMTPUTF8 to send unicode address"])
    # none of the refused commands left a transaction behind
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (503, ["5.5.1 Error: need MAIL command"])
    assert c.cmd("MAIL FROM:<a@example.org> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=x+2By") == (
        250, ["2.1.0 Ok"])
    assert c.cmd("RCPT TO:<root@mx.example.com> NOTIFY=NEVER,DELAY")[0] == 501
    assert c.cmd("RCPT TO:<root@mx.example.com> ORCPT=rfc822;bad+zz")[0] == 501
    assert c.cmd("RCPT TO:<root@mx.example.com> XYZ")[0] == 555


def test_dsn_and_mime_parameters_reach_the_queue_file(mx):
    c = session(mx)
    assert c.cmd("MAIL FROM:<a@example.org> SIZE=100 BODY=8BITMIME RET=HDRS ENVID=QQ+2BA")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com> NOTIFY=SUCCESS,FAILURE "
                 "ORCPT=rfc822;Root+40example.com")[0] == 250
    assert c.cmd("RCPT TO:<postmaster@mx.example.com> NOTIFY=NEVER")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: dsn\r\n\r\nhi\r\n.\r\n")
    qid = queued_id(c.expect(250))
    q = mx.queue_file(qid)
    assert q.attrs["encoding"] == "8bit"
    assert q.attrs["dsn_ret"] == "HDRS"
    assert q.attrs["dsn_envid"] == "QQ+A"
    r = {x["addr"]: x for x in q.recipients}
    assert r["root@mx.example.com"]["notify"] == 6          # SUCCESS|FAILURE
    assert r["root@mx.example.com"]["dsn_orcpt"] == "rfc822;Root+40example.com"
    assert r["postmaster@mx.example.com"]["notify"] == 1    # NEVER


# ---------------------------------------------------------------- transactions

def test_transaction_queue_file_holds_envelope_and_content(mx):
    c = session(mx)
    body = (b"From: a@example.org\r\nTo: root@mx.example.com\r\nSubject: test\r\n"
            b"Message-ID: <m1@example.org>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
            b"\r\nline one\r\n\r\n  indented\ttab\r\nlast\r\n")
    qid = send_message(c, "a@example.org", ["root@mx.example.com"], body)
    assert c.cmd("QUIT") == (221, ["2.0.0 Bye"])
    mx.wait_log(rf"{qid}: client=unknown\[127\.0\.0\.1\]")
    q = mx.queue_file(qid)
    assert q.complete and q.mode == 0o700
    assert q.sender == "a@example.org"
    assert q.rcpt_addrs == ["root@mx.example.com"]
    assert q.attrs["client_address"] == "127.0.0.1"
    assert q.attrs["client_name"] == "unknown"
    assert q.attrs["helo_name"] == "client.example.com"
    assert q.attrs["protocol"] == "ESMTP"
    received = q.lines[:3]
    assert received[0] == b"Received: from client.example.com (unknown [127.0.0.1])"
    assert received[1] == f"\tby mx.example.com (Postern) with ESMTP id {qid}".encode()
    assert re.match(rb"\tfor <root@mx\.example\.com>; \w{3}, \d+ \w{3} \d{4} "
                    rb"\d\d:\d\d:\d\d [+-]\d{4} \(.+\)$", received[2])
    # the rest is the message exactly as sent
    assert q.content()[len(b"".join(x + b"\r\n" for x in received)):] == body
    mx.wait_log(rf"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1 data=1 quit=1 "
                rf"commands=5")


def test_received_without_for_when_several_recipients(mx):
    c = session(mx)
    qid = send_message(c, "", ["root@mx.example.com", "postmaster@mx.example.com"],
                       b"Subject: two\r\n\r\nx\r\n")
    q = mx.queue_file(qid)
    assert q.sender == ""
    assert q.lines[1].endswith(f"id {qid};".encode())
    assert not q.lines[2].startswith(b"\tfor")
    assert sorted(q.rcpt_addrs) == ["postmaster@mx.example.com", "root@mx.example.com"]


def test_helo_protocol_smtp(mx):
    c = session(mx, ehlo=None)
    assert c.cmd("HELO old.example") == (250, ["mx.example.com"])
    qid = send_message(c, "a@example.org", ["root@mx.example.com"], b"Subject: s\r\n\r\nx\r\n")
    q = mx.queue_file(qid)
    assert q.attrs["protocol"] == "SMTP"
    assert b"with SMTP id" in q.lines[1]


def test_dot_stuffing_round_trip(mx):
    body_lines = [b"Subject: dots", b"", b".", b"..", b"...", b".leading", b"..two",
                  b"a . in the middle", b". ", b"end."]
    stuffed = b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in body_lines)
    c = session(mx)
    qid = send_message(c, "a@example.org", ["root@mx.example.com"], stuffed)
    q = mx.queue_file(qid)
    assert q.body() == body_lines[2:]


def test_eight_bit_and_utf8_content(mx):
    c = session(mx)
    latin = b"Subject: caf\xe9\r\n\r\nna\xefve \xff\x80 bytes\r\n"
    qid = send_message(c, "a@example.org", ["root@mx.example.com"], latin, " BODY=8BITMIME")
    q = mx.queue_file(qid)
    assert b"Subject: caf\xe9" in q.headers()
    assert q.body() == [b"na\xefve \xff\x80 bytes"]

    utf8 = "Subject: Grüße\r\n\r\nΚαλημέρα κόσμε, こんにちは\r\n".encode()
    utf8_body = "Καλημέρα κόσμε, こんにちは".encode()
    code, _ = c.cmd("MAIL FROM:<jörg@exämple.org> SMTPUTF8 BODY=8BITMIME")
    assert code == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(utf8 + b".\r\n")
    qid = queued_id(c.expect(250))
    q = mx.queue_file(qid)
    assert q.sender == "jörg@exämple.org"
    assert q.attrs["smtputf8"] == "1"
    assert b"with UTF8SMTP id" in q.lines[1]
    assert "Subject: Grüße".encode() in q.headers()
    assert q.body() == [utf8_body]


def test_utf8_recipient_needs_smtputf8(mx):
    c = session(mx)
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<jörg@mx.example.com>") == (
        553, ["5.6.7 Must declare SMTPUTF8 to send unicode address"])


def test_long_lines_are_kept_whole(mx):
    long_line = b"x" * 5000 + b"\r" + b"y" * 3000   # a stray CR inside too
    c = session(mx)
    qid = send_message(c, "a@example.org", ["root@mx.example.com"],
                       b"Subject: long\r\n\r\n" + long_line + b"\r\nshort\r\n")
    q = mx.queue_file(qid)
    # cleanup_replace_stray_cr_lf (cleanup(8)) turns the stray CR into a space
    assert q.lines[-2:] == [long_line.replace(b"\r", b" "), b"short"]
    assert any(t == "L" for t, _ in q.records)   # split into CONT records on the way


def test_command_line_too_long(mx):
    c = session(mx)
    assert c.cmd("NOOP " + "x" * 3000) == (500, ["5.5.2 Error: line too long"])
    assert c.cmd("NOOP") == (250, ["2.0.0 Ok"])


def test_pipelined_transaction_in_one_write(mx):
    c = session(mx)
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<root@mx.example.com>\r\n"
           b"RCPT TO:<nosuchuser@mx.example.com>\r\nRCPT TO:<postmaster@mx.example.com>\r\n"
           b"DATA\r\n")
    replies = c.replies(5)
    assert [r[0] for r in replies] == [250, 250, 550, 250, 354]
    assert replies[2][1] == ["5.1.1 <nosuchuser@mx.example.com>: Recipient address rejected: "
                             "User unknown in local recipient table"]
    chunk = b"Subject: two\r\n\r\nchunk\r\n"
    c.send(b"Subject: pipe\r\n\r\nhello\r\n.\r\nMAIL FROM:<b@example.org>\r\n"
           b"RCPT TO:<root@mx.example.com>\r\nBDAT %d LAST\r\n%sQUIT\r\n" % (len(chunk), chunk))
    replies = c.replies(5)
    assert [r[0] for r in replies] == [250, 250, 250, 250, 221]
    ids = [queued_id(replies[0][1]), queued_id(replies[3][1])]
    q1, q2 = mx.queue_file(ids[0]), mx.queue_file(ids[1])
    assert sorted(q1.rcpt_addrs) == ["postmaster@mx.example.com", "root@mx.example.com"]
    assert q1.body() == [b"hello"]
    assert q2.sender == "b@example.org" and q2.rcpt_addrs == ["root@mx.example.com"]
    assert q2.body() == [b"chunk"]
    assert c.closed()


def test_bdat_chunks(mx):
    c = session(mx)
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    parts = [b"Subject: chunks\r\n\r\nfirst line\r", b"\nsecond ", b"line\r\n.not stuffed\r\n",
             b"no newline at end"]
    for i, p in enumerate(parts):
        last = i == len(parts) - 1
        c.send(f"BDAT {len(p)}{' LAST' if last else ''}\r\n".encode() + p)
        code, texts = c.reply()
        assert code == 250, texts
        if not last:
            assert texts == [f"2.0.0 Ok: {len(p)} bytes"]
    qid = queued_id(texts)
    q = mx.queue_file(qid)
    assert q.body() == [b"first line", b"second line", b".not stuffed", b"no newline at end"]
    # BDAT then DATA in one transaction is refused; the state is clean afterwards
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    c.send(b"BDAT 3\r\nabc")
    assert c.reply()[0] == 250
    assert c.cmd("DATA")[0] == 503
    assert c.cmd("RSET")[0] == 250
    assert c.cmd("BDAT 0 LAST") == (503, ["5.5.1 Error: need RCPT command"])


def test_bdat_syntax_error_disconnects(mx):
    c = session(mx)
    assert c.cmd("BDAT x")[0] == 521
    assert c.closed()


def test_bdat_without_transaction_skips_the_chunk(mx):
    c = session(mx)
    c.send(b"BDAT 10\r\nNOOP\r\nNOOP")
    assert c.reply() == (503, ["5.5.1 Error: need RCPT command"])
    assert c.cmd("NOOP") == (250, ["2.0.0 Ok"])


# ---------------------------------------------------------------- limits

def test_size_limit_at_mail_and_data(instance_factory):
    inst = make(instance_factory, message_size_limit="2000")
    c = session(inst)
    assert "SIZE 2000" in c.cmd("EHLO x.example")[1]
    assert c.cmd("MAIL FROM:<a@example.org> SIZE=2001") == (
        552, ["5.3.4 Message size exceeds fixed limit"])
    assert c.cmd("MAIL FROM:<a@example.org> SIZE=1500")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: big\r\n\r\n" + b"0123456789\r\n" * 300 + b".\r\n")
    assert c.reply() == (552, ["5.3.4 Message size exceeds fixed limit"])
    # BDAT too; the rest of the chunks are refused, nothing is queued
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    c.send(b"BDAT 3000\r\n" + b"x" * 2998 + b"\r\n")
    assert c.reply() == (552, ["5.3.4 Message size exceeds fixed limit"])
    c.send(b"BDAT 4 LAST\r\nabc\n")
    assert c.reply() == (503, ["5.5.1 Error: need RCPT command"])
    assert c.cmd("QUIT")[0] == 221
    inst.wait_log(r"disconnect from")
    time.sleep(0.3)
    assert inst.queue_files() == []
    # a message just under the limit passes
    c = session(inst)
    qid = send_message(c, "a@example.org", ["root@mx.example.com"], b"Subject: ok\r\n\r\nfine\r\n")
    assert inst.queue_file(qid)


def test_recipient_limit(instance_factory):
    inst = make(instance_factory, smtpd_recipient_limit="2")
    c = session(inst)
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("RCPT TO:<postmaster@mx.example.com>")[0] == 250
    assert c.cmd("RCPT TO:<abuse@mx.example.com>") == (452, ["4.5.3 Error: too many recipients"])


def test_error_limits(instance_factory):
    inst = make(instance_factory, smtpd_hard_error_limit="3", smtpd_soft_error_limit="1",
                smtpd_error_sleep_time="1s")
    c = session(inst)
    t0 = time.monotonic()
    assert c.cmd("FOO")[0] == 502
    assert c.cmd("BAR")[0] == 502      # second error: after the soft limit, a pause
    assert c.cmd("BAZ")[0] == 502
    assert time.monotonic() - t0 >= 1.5
    assert c.cmd("NOOP") == (421, ["4.7.0 mx.example.com Error: too many errors"])
    assert c.closed()
    inst.wait_log(r"too many errors after UNKNOWN from unknown\[127\.0\.0\.1\]")
    inst.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 unknown=0/3 commands=1/4")


def test_timeout(instance_factory):
    inst = make(instance_factory, smtpd_timeout="2s")
    c = session(inst)
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    c.sock.settimeout(10)
    assert c.reply() == (421, ["4.4.2 mx.example.com Error: timeout exceeded"])
    assert c.closed()
    inst.wait_log(r"timeout after MAIL from unknown\[127\.0\.0\.1\]")


# ---------------------------------------------------------------- VRFY

def test_vrfy(mx):
    c = session(mx)
    assert c.cmd("VRFY root") == (252, ["2.0.0 root"])
    assert c.cmd("VRFY <root@mx.example.com>") == (252, ["2.0.0 root@mx.example.com"])
    assert c.cmd("VRFY nosuchuser@mx.example.com") == (
        550, ["5.1.1 <nosuchuser@mx.example.com>: Recipient address rejected: "
              "User unknown in local recipient table"])
    assert c.cmd("VRFY") == (501, ["5.5.4 Syntax: VRFY address"])


# ---------------------------------------------------------------- connection loss

def test_disconnect_mid_data_leaves_no_queue_file(instance_factory):
    inst = make(instance_factory)
    c = session(inst)
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: cut\r\n\r\nhalf a mess")
    inst.wait_log(r"client=")
    time.sleep(0.2)
    c.close()
    inst.wait_log(r"lost connection after DATA \(\d+ bytes\) from unknown\[127\.0\.0\.1\]")
    inst.wait_log(r"disconnect from")
    wait_for(lambda: inst.queue_files(("maildrop", "incoming", "active", "deferred", "hold",
                                       "corrupt")) == [], timeout=10,
             what="the aborted queue file to go")


def test_cleanup_killed_mid_transaction_gives_4xx(instance_factory):
    inst = make(instance_factory)
    c = session(inst)
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert inst.kill_daemon("cleanup"), "no cleanup process to kill"
    code, texts = c.cmd("DATA")
    if code == 354:
        c.send(b"Subject: x\r\n\r\nbody\r\n.\r\n")
        code, texts = c.reply()
    assert code == 451 and texts == ["4.3.0 Error: queue file write error"], (code, texts)
    # the transaction is gone; a new one works with a fresh cleanup
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 503
    qid = send_message(c, "a@example.org", ["root@mx.example.com"], b"Subject: y\r\n\r\nz\r\n")
    assert inst.queue_file(qid).complete


def test_cleanup_killed_during_content(instance_factory):
    inst = make(instance_factory)
    c = session(inst)
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: x\r\n\r\n" + b"line\r\n" * 1000)
    time.sleep(0.3)
    assert inst.kill_daemon("cleanup")
    c.send(b"line\r\n" * 10000 + b".\r\n")
    code, texts = c.reply()
    assert code == 451, texts
    time.sleep(0.3)
    assert [p for p in inst.queue_files() if read_queue_file(p).complete] == []


def test_no_cleanup_service(instance_factory):
    inst = instance_factory(main=dict(BASE_MAIN), services=["smtp/inet"]).start()
    c = session(inst)
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        451, ["4.3.0 Error: queue file write error"])
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (503, ["5.5.1 Error: need MAIL command"])


# ---------------------------------------------------------------- state after replies

def test_no_state_survives_a_transaction(mx):
    c = session(mx)
    assert c.cmd("MAIL FROM:<first@example.org> ENVID=one RET=FULL")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com> NOTIFY=NEVER")[0] == 250
    assert c.cmd("RSET")[0] == 250
    qid = send_message(c, "second@example.org", ["postmaster@mx.example.com"],
                       b"Subject: s\r\n\r\nx\r\n")
    q = mx.queue_file(qid)
    assert q.sender == "second@example.org"
    assert q.rcpt_addrs == ["postmaster@mx.example.com"]
    assert "dsn_envid" not in q.attrs and "dsn_ret" not in q.attrs
    assert "notify" not in q.recipients[0]
    # after the message: no transaction
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (503, ["5.5.1 Error: need MAIL command"])
    # EHLO also ends a transaction
    assert c.cmd("MAIL FROM:<third@example.org>")[0] == 250
    assert c.cmd("EHLO again.example")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (503, ["5.5.1 Error: need MAIL command"])


# ---------------------------------------------------------------- pipelining policy

def test_pipelining_after_ehlo_refused(instance_factory):
    inst = make(instance_factory)
    c = inst.smtp_connect()
    c.expect(220)
    c.send(b"EHLO x.example\r\nMAIL FROM:<a@example.org>\r\n")
    assert c.reply() == (554, ["5.5.0 Error: SMTP protocol synchronization"])
    assert c.closed()
    inst.wait_log(r"improper command pipelining after EHLO from unknown\[127\.0\.0\.1\]: "
                  r"MAIL FROM:<a@example\.org>\\r\\n")


def test_pipelining_without_ehlo_refused(instance_factory):
    inst = make(instance_factory)
    c = inst.smtp_connect()
    c.expect(220)
    assert c.cmd("HELO x.example")[0] == 250
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<root@mx.example.com>\r\n")
    assert c.reply()[0] == 554
    assert c.closed()
    inst.wait_log(r"improper command pipelining after MAIL from")


def test_content_before_354_refused(instance_factory):
    inst = make(instance_factory)
    c = session(inst)
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    c.send(b"DATA\r\nSubject: eager\r\n\r\nx\r\n.\r\n")
    assert c.reply()[0] == 554
    assert c.closed()
    time.sleep(0.3)
    assert [p for p in inst.queue_files() if read_queue_file(p).complete] == []


def test_talking_before_the_greeting_refused(instance_factory):
    inst = make(instance_factory)
    c = inst.smtp_connect()
    c.send(b"EHLO eager.example\r\n")
    code, texts = c.reply()
    assert (code, texts) == (554, ["5.5.0 Error: SMTP protocol synchronization"])
    inst.wait_log(r"improper command pipelining after CONNECT from")


def test_unauth_pipelining_allowed_when_not_forbidden(instance_factory):
    inst = make(instance_factory, smtpd_forbid_unauth_pipelining="no")
    c = inst.smtp_connect()
    c.expect(220)
    assert c.cmd("HELO x.example")[0] == 250
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<root@mx.example.com>\r\n")
    assert [r[0] for r in c.replies(2)] == [250, 250]


def test_non_smtp_command(mx):
    c = session(mx)
    assert c.cmd("Subject: hello") == (521, ["5.5.1 Protocol error"])
    assert c.closed()
    c = session(mx)
    assert c.cmd("GET / HTTP/1.0") == (521, ["5.5.1 Protocol error"])
    mx.wait_log(r"warning: non-SMTP command from unknown\[127\.0\.0\.1\]: GET / HTTP/1\.0")


# ---------------------------------------------------------------- real clients

def test_smtplib(mx):
    with mx.smtplib_client() as s:
        refused = s.sendmail("a@example.org", ["root@mx.example.com", "bogus@mx.example.com"],
                             b"Subject: smtplib\r\n\r\nvia smtplib\r\n.dot\r\n")
        assert list(refused) == ["bogus@mx.example.com"]
        assert refused["bogus@mx.example.com"][0] == 550
    mx.wait_log(r"ehlo=1 mail=1 rcpt=1/2 data=1 quit=1 commands=5/6")


def test_smtplib_unicode(mx):
    msg = "From: jörg@exämple.org\r\nSubject: ünïcödé\r\n\r\nδοκιμή\r\n"
    with mx.smtplib_client() as s:
        s.ehlo()
        s.sendmail("jörg@exämple.org", ["root@mx.example.com"], msg.encode(),
                   mail_options=["SMTPUTF8", "BODY=8BITMIME"])


@pytest.mark.parametrize("extra", [[], ["--pipeline"]])
def test_swaks(mx, extra):
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{mx.smtp_port}", "--from",
                        "a@example.org", "--to", "root@mx.example.com", "--helo", "swaks.example",
                        "--body", "hello from swaks\n.\n..two", *extra],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"<-\s+250 2\.0\.0 Ok: queued as ([0-9A-F]+)", r.stdout)
    assert m, r.stdout
    q = mx.queue_file(m.group(1))
    body = q.body()
    assert body[:3] == [b"hello from swaks", b".", b"..two"]
