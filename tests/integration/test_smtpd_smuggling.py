"""SMTP smuggling: no line-end trick ends a message early or starts another.

Each variant sends, after DATA, a first message whose content holds a
fake end of data followed by a second, smuggled transaction, and then
the real <CR><LF>.<CR><LF>. Whatever smtpd_forbid_bare_newline says,
the result must be exactly one message (with the smuggled text inside
its content, for the queue's sake) or a rejection; never two.
"""
import time

import pytest

from instance import instance_factory, read_queue_file  # noqa: F401

SERVICES = ["smtp/inet", "cleanup/unix"]

FAKE_ENDS = {
    "lf-dot-lf": b"\n.\n",
    "cr-dot-cr": b"\r.\r",
    "crlf-dot-cr": b"\r\n.\r",
    "lf-dot-crlf": b"\n.\r\n",
    "crlf-dot-lf": b"\r\n.\n",
    "cr-dot-crlf": b"\r.\r\n",
    "crlf-dot-cr-lf-late": b"\r\n.\r\x00\n",
    "crlf-dot-space-crlf": b"\r\n. \r\n",
}
SMUGGLED = (b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<postmaster@mx.example.com>\r\n"
            b"DATA\r\nSubject: smuggled\r\n\r\nsecond\r\n")


def make(instance_factory, **main):
    conf = {"smtpd_error_sleep_time": "0", "smtpd_peername_lookup": "no",
            "mynetworks": "192.0.2.0/24"}
    conf.update(main)
    return instance_factory(main=conf, services=SERVICES).start()


def attempt(inst, fake_end):
    """Send one message with a fake end inside; return the replies after 354."""
    c = inst.smtp_connect()
    c.expect(220)
    assert c.cmd("EHLO client.example.com")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: first\r\n\r\nfirst" + fake_end + SMUGGLED + b".\r\n")
    replies = []
    try:
        replies.append(c.reply())
        if replies[-1][0] == 250:
            replies.append(c.cmd("QUIT"))
    except (EOFError, ConnectionResetError):
        pass
    assert c.closed()
    inst.wait_log(r"disconnect from")
    time.sleep(0.2)
    return replies


def complete_messages(inst):
    return [q for q in map(read_queue_file, inst.queue_files()) if q.complete]


@pytest.mark.parametrize("name", sorted(FAKE_ENDS))
def test_smuggling_strict(instance_factory, name):
    """smtpd_forbid_bare_newline = yes (the default), client not excluded."""
    inst = make(instance_factory)
    replies = attempt(inst, FAKE_ENDS[name])
    msgs = complete_messages(inst)
    if b"\n" in FAKE_ENDS[name].replace(b"\r\n", b""):
        # a bare LF: refused, session over, nothing queued
        assert replies == [(550, ["5.5.2 Error: bare <LF> received"])]
        assert msgs == []
        inst.wait_log(r"bare <LF> received after DATA \(\d+ bytes\) from unknown\[127\.0\.0\.1\]")
    else:
        assert [r[0] for r in replies] == [250, 221]
        assert len(msgs) == 1
        q = msgs[0]
        assert q.sender == "a@example.org" and q.rcpt_addrs == ["root@mx.example.com"]
        assert any(b"MAIL FROM:<evil@example.org>" in line for line in q.body())
        assert all(b"\r" not in line and b"\n" not in line for line in q.lines)


@pytest.mark.parametrize("name", sorted(FAKE_ENDS))
@pytest.mark.parametrize("how", ["normalize", "excluded"])
def test_smuggling_normalize(instance_factory, name, how):
    """normalize, and strict mode for a client in the exclusions: one message."""
    if how == "normalize":
        inst = make(instance_factory, smtpd_forbid_bare_newline="normalize")
    else:
        inst = make(instance_factory, smtpd_forbid_bare_newline_exclusions="127.0.0.1")
    replies = attempt(inst, FAKE_ENDS[name])
    assert [r[0] for r in replies] == [250, 221], replies
    msgs = complete_messages(inst)
    assert len(msgs) == 1
    q = msgs[0]
    assert q.sender == "a@example.org" and q.rcpt_addrs == ["root@mx.example.com"]
    assert any(b"MAIL FROM:<evil@example.org>" in line for line in q.body())
    assert any(b"second" == line for line in q.body())
    assert all(b"\r" not in line and b"\n" not in line for line in q.lines)


def test_bare_lf_lines_normalized(instance_factory):
    inst = make(instance_factory, smtpd_forbid_bare_newline="normalize")
    c = inst.smtp_connect()
    c.expect(220)
    assert c.cmd("EHLO client.example.com")[0] == 250
    c.send(b"MAIL FROM:<a@example.org>\n")
    assert c.reply()[0] == 250
    c.send(b"RCPT TO:<root@mx.example.com>\n")
    assert c.reply()[0] == 250
    c.send(b"DATA\r\n")
    assert c.reply()[0] == 354
    c.send(b"Subject: lf\n\none\ntwo\r\n.\r\n")
    code, texts = c.reply()
    assert code == 250, texts
    qid = texts[-1].rsplit(" ", 1)[1]
    q = inst.queue_file(qid)
    assert q.body() == [b"one", b"two"]


def test_bare_lf_command_refused(instance_factory):
    inst = make(instance_factory)
    c = inst.smtp_connect()
    c.expect(220)
    c.send(b"EHLO client.example.com\n")
    assert c.reply() == (550, ["5.5.2 Error: bare <LF> received"])
    assert c.closed()
    inst.wait_log(r"bare <LF> received after CONNECT from unknown\[127\.0\.0\.1\]")


def test_reject_code_configurable(instance_factory):
    inst = make(instance_factory, smtpd_forbid_bare_newline_reject_code="521")
    c = inst.smtp_connect()
    c.expect(220)
    c.send(b"NOOP\n")
    assert c.reply() == (521, ["5.5.2 Error: bare <LF> received"])


def test_legacy_no_ends_at_any_dot_line(instance_factory):
    """smtpd_forbid_bare_newline = no keeps the old behaviour; the smuggled
    transaction that follows is still caught as improper pipelining."""
    inst = make(instance_factory, smtpd_forbid_bare_newline="no")
    c = inst.smtp_connect()
    c.expect(220)
    assert c.cmd("EHLO client.example.com")[0] == 250
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: first\r\n\r\nfirst\n.\n" + SMUGGLED + b".\r\n")
    codes = []
    try:
        while True:
            codes.append(c.reply()[0])
    except (EOFError, ConnectionResetError):
        pass
    # the message, the smuggled MAIL and RCPT (legal pipelining), then DATA
    # with content behind it: refused, session over
    assert codes == [250, 250, 250, 554]
    inst.wait_log(r"improper command pipelining after DATA from")
    time.sleep(0.2)
    msgs = complete_messages(inst)
    assert len(msgs) == 1 and msgs[0].rcpt_addrs == ["root@mx.example.com"]
