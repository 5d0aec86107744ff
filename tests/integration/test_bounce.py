"""bounce(8): delivery status notifications.

Two kinds of tests:

* bounce(8) driven directly: an instance runs only cleanup(8) and
  bounce(8) under master(8); a test submits a message through
  private/cleanup, writes bounce/ or defer/ notes for it as a delivery
  agent would (lib/deliver_proto.h), sends the flush or warn request of
  lib/bounce_proto.h to private/bounce and reads the notice(s) that
  bounce queued through cleanup in incoming/ (no qmgr runs). Each notice
  is parsed with Python's email package, which checks the MIME structure
  (multipart/report, message/delivery-status blocks, the returned
  message or headers).

* the whole chain: smtpd, cleanup, qmgr, error/local/smtp and bounce,
  with mail that fails in the error transport, in a command that exits
  67, or at a remote server that answers 550; the notice arrives in the
  sender's Maildir (or at the remote peer) and is parsed the same way.
"""
import email
import email.policy
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ROOT
from instance import (cleanup_service_path, instance_factory, read_queue_file,  # noqa: F401
                      wait_for)

IS_ROOT = os.geteuid() == 0
HOST = "mx.example.com"

# lib/rec.h record types, lib/cleanup_proto.h flags and attributes
SIZE, TIME, FROM, RCPT, DONE, ORCP, NOTIFY, DSN_ORCPT, ATTR = "CTSRDOYQA"
MESG, NORM, CONT, XTRA, END = "MNLXE"
FLAG_MAP_OK = 2
DSN_NEVER, DSN_SUCCESS, DSN_FAILURE, DSN_DELAY = 1, 2, 4, 8


# ---------------------------------------------------------------- protocol helpers

def rec(rtype: str, data=b"") -> bytes:
    if isinstance(data, str):
        data = data.encode()
    n = len(data)
    out = bytearray(rtype.encode())
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | 0x80 if n else byte)
        if not n:
            break
    return bytes(out) + data


def records_with_offsets(blob: bytes):
    """[(offset, type, data)] of a queue file."""
    out, i = [], 0
    while i < len(blob):
        start = i
        rtype = chr(blob[i])
        i += 1
        n, shift = 0, 0
        while True:
            byte = blob[i]
            i += 1
            n |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        out.append((start, rtype, blob[i:i + n]))
        i += n
    return out


def attr_list(**pairs) -> bytes:
    out = b""
    for name, value in pairs.items():
        out += name.encode() + b"\0" + str(value).encode() + b"\0"
    return out + b"\0"


def read_attrs(sock) -> dict:
    buf = b""
    while True:
        chunk = sock.recv(1)
        if not chunk:
            raise EOFError(f"connection closed; got {buf!r}")
        buf += chunk
        if buf.endswith(b"\0"):
            fields = buf.split(b"\0")[:-1]
            if len(fields) % 2 == 1 and fields[-1] == b"":
                pairs = fields[:-1]
                return {pairs[k].decode(): pairs[k + 1].decode()
                        for k in range(0, len(pairs), 2)}


def unix_socket(path, timeout=60.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(str(path))
    return s


# ---------------------------------------------------------------- a bounce-only instance

class BounceRig:
    """cleanup + bounce under master; the test plays qmgr and the agents."""

    def __init__(self, inst):
        self.inst = inst
        self.queue = inst.queue

    def submit(self, lines, sender="sender@example.org", rcpts=("rcpt@example.net",),
               attrs=None, notify=None, orcpt=None):
        """A message through private/cleanup; returns (queue_id, rcpt offsets)."""
        body = rec(TIME, f"{int(time.time()) - 120}.000000")
        for name, value in (attrs or {}).items():
            body += rec(ATTR, f"{name}={value}")
        body += rec(FROM, sender)
        for r in rcpts:
            if notify is not None:
                body += rec(NOTIFY, str(notify))
            if orcpt is not None:
                body += rec(DSN_ORCPT, orcpt)
            body += rec(RCPT, r)
        body += rec(MESG)
        for line in lines:
            body += rec(NORM, line)
        body += rec(XTRA) + rec(END)
        s = unix_socket(self.queue / cleanup_service_path())
        try:
            qid = read_attrs(s)["queue_id"]
            s.sendall(attr_list(flags=FLAG_MAP_OK) + body)
            reply = read_attrs(s)
        finally:
            s.close()
        assert reply["status"] == "0", reply
        path = self.queue / "incoming" / qid
        offsets = [(off, data.decode()) for off, t, data in
                   records_with_offsets(path.read_bytes()) if t in (RCPT, DONE)]
        return qid, offsets

    def note(self, kind, qid, rcpt, offset, status, reason, relay="none", orig="",
             notify=0, orcpt="", action=None, when=None):
        action = action or ("failed" if kind == "bounce" else "delayed")
        d = self.queue / kind
        d.mkdir(exist_ok=True)
        text = f"recipient={rcpt}\n"
        if orig:
            text += f"orig_recipient={orig}\n"
        text += f"offset={offset}\nnotify={notify}\n"
        if orcpt:
            text += f"orcpt={orcpt}\n"
        text += (f"status={status}\naction={action}\nreason={reason}\nrelay={relay}\n"
                 f"time={when or int(time.time())}\n\n")
        with open(d / qid, "a") as f:
            f.write(text)
        if IS_ROOT:
            os.chown(d / qid, pwd.getpwnam(self.inst.owner).pw_uid, -1)

    def request(self, qid, request="flush", sender="sender@example.org", flags=0,
                queue_name="incoming", dsn_envid="", dsn_ret="", smtputf8=0, raw=None):
        s = unix_socket(self.queue / "private" / "bounce")
        try:
            s.sendall(raw if raw is not None else attr_list(
                request=request, flags=flags, queue_name=queue_name, queue_id=qid,
                sender=sender, dsn_envid=dsn_envid, dsn_ret=dsn_ret, smtputf8=smtputf8))
            try:
                return read_attrs(s)
            except EOFError:
                return None
        finally:
            s.close()

    def notices(self, exclude=()):
        """Queue files in incoming/ other than those in exclude, oldest first."""
        files = [p for p in (self.queue / "incoming").iterdir() if p.name not in exclude]
        files.sort(key=lambda p: p.stat().st_mtime_ns)
        return [read_queue_file(p) for p in files]


@pytest.fixture
def rig(instance_factory, postern_build):  # noqa: F811
    for prog in ("cleanup", "bounce"):
        if not (postern_build / "libexec" / prog).exists():
            pytest.skip(f"{prog} not built")

    def make(**main):
        params = {"myorigin": "example.com", "mydestination": "$myhostname, localhost"}
        params.update(main)
        inst = instance_factory(main=params, services=["cleanup/unix", "bounce/unix"])
        inst.start()
        return BounceRig(inst)
    return make


def parse(qf) -> email.message.EmailMessage:
    return email.message_from_bytes(b"\n".join(qf.lines) + b"\n", policy=email.policy.default)


def report_parts(msg):
    """(text, delivery-status blocks, returned part) of a notice."""
    assert msg.get_content_type() == "multipart/report"
    parts = msg.get_payload()
    assert 2 <= len(parts) <= 3
    text, status = parts[0], parts[1]
    assert text.get_content_type() == "text/plain"
    assert status.get_content_type() in ("message/delivery-status",
                                         "message/global-delivery-status")
    blocks = status.get_payload()
    returned = parts[2] if len(parts) == 3 else None
    # the text part is wrapped: compare it with its white space folded
    return " ".join(text.get_content().split()), blocks, returned


SIMPLE = ["From: Sender <sender@example.org>", "To: rcpt@example.net", "Subject: greetings",
          "Message-ID: <orig-1@example.org>", "", "line one", "line two"]

SMTP_REASON = ("host mx.example.net[192.0.2.25] said: 550 5.1.1 <rcpt@example.net>: "
               "Recipient address rejected: User unknown in local recipient table "
               "(in reply to RCPT TO command)")


# ---------------------------------------------------------------- flush, driven directly

def test_flush_sender_notice(rig):
    r = rig()
    qid, offs = r.submit(SIMPLE, rcpts=("rcpt@example.net", "other@example.net"),
                         attrs={"dsn_envid": "ENV42"})
    r.note("bounce", qid, "rcpt@example.net", offs[0][0], "5.1.1", SMTP_REASON,
           relay="mx.example.net[192.0.2.25]:25")
    r.note("bounce", qid, "other@example.net", offs[1][0], "5.0.0", "no mailbox here",
           relay="local", orig="alias@example.net")
    assert r.request(qid, dsn_envid="ENV42") == {"status": "0"}
    assert not (r.queue / "bounce" / qid).exists()
    notice, = r.notices(exclude={qid})
    m = re.search(rf"{qid}: sender non-delivery notification: ([0-9A-F]+)", r.inst.logtext())
    assert m and m.group(1) == notice.path.name
    # envelope: from <>, to the sender, marked as coming from bounce
    assert notice.sender == ""
    assert notice.rcpt_addrs == ["sender@example.org"]
    assert notice.attrs.get("origin") == "bounce"

    msg = parse(notice)
    assert msg["From"] == f"Mail Delivery System <MAILER-DAEMON@{HOST}>"
    assert msg["To"] == "sender@example.org"
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Message-Id"]                      # added by cleanup
    assert msg.get_param("report-type") == "delivery-status"
    text, blocks, returned = report_parts(msg)
    assert "<rcpt@example.net>: host mx.example.net[192.0.2.25] said: 550 5.1.1" in text
    assert "no mailbox here" in text
    per_msg, rcpt1, rcpt2 = blocks
    assert per_msg["Reporting-MTA"] == f"dns; {HOST}"
    assert per_msg["X-Postern-Queue-ID"] == qid
    assert per_msg["Original-Envelope-Id"] == "ENV42"
    assert per_msg["Arrival-Date"]
    assert rcpt1["Final-Recipient"] == "rfc822; rcpt@example.net"
    assert rcpt1["Action"] == "failed"
    assert rcpt1["Status"] == "5.1.1"
    assert rcpt1["Remote-MTA"] == "dns; mx.example.net"
    assert rcpt1["Diagnostic-Code"] == ("smtp; 550 5.1.1 <rcpt@example.net>: Recipient address "
                                        "rejected: User unknown in local recipient table")
    assert rcpt1["Last-Attempt-Date"]
    assert rcpt2["Final-Recipient"] == "rfc822; other@example.net"
    assert rcpt2["Original-Recipient"] == "rfc822; alias@example.net"
    assert rcpt2["Diagnostic-Code"] == "X-Postern; no mailbox here"
    assert "Remote-MTA" not in rcpt2
    # the whole message comes back
    assert returned.get_content_type() == "message/rfc822"
    orig = returned.get_payload()[0]
    assert orig["Subject"] == "greetings"
    assert orig["Message-ID"] == "<orig-1@example.org>"
    assert "line two" in orig.get_content()


def test_flush_ret_hdrs_returns_headers_only(rig):
    r = rig()
    qid, offs = r.submit(SIMPLE)
    r.note("bounce", qid, "rcpt@example.net", offs[0][0], "5.1.1", "gone")
    assert r.request(qid, dsn_ret="HDRS")["status"] == "0"
    notice, = r.notices(exclude={qid})
    text, blocks, returned = report_parts(parse(notice))
    assert returned.get_content_type() == "text/rfc822-headers"
    raw = returned.get_payload() if isinstance(returned.get_payload(), str) else ""
    body = b"\n".join(notice.lines).decode()
    assert "Subject: greetings" in body
    assert "line one" not in body
    assert "RET=HDRS" in text
    del raw


def test_flush_large_message_cut_to_headers(rig):
    r = rig(bounce_size_limit="2000")
    big = SIMPLE[:5] + [f"{i:05d} " + "z" * 90 for i in range(100)]
    qid, offs = r.submit(big)
    r.note("bounce", qid, "rcpt@example.net", offs[0][0], "5.2.2", "mailbox full")
    assert r.request(qid)["status"] == "0"
    notice, = r.notices(exclude={qid})
    text, blocks, returned = report_parts(parse(notice))
    assert returned.get_content_type() == "text/rfc822-headers"
    body = b"\n".join(notice.lines)
    assert b"Subject: greetings" in body
    assert b"zzzz" not in body
    assert "larger than the 2000 bytes" in text
    assert len(body) < 6000

    # the same message within the default limit comes back whole
    r2 = rig()
    qid2, offs2 = r2.submit(big)
    r2.note("bounce", qid2, "rcpt@example.net", offs2[0][0], "5.2.2", "mailbox full")
    assert r2.request(qid2)["status"] == "0"
    notice2, = r2.notices(exclude={qid2})
    _, _, returned2 = report_parts(parse(notice2))
    assert returned2.get_content_type() == "message/rfc822"
    assert b"00099 zzzz" in b"\n".join(notice2.lines)


def test_null_sender_goes_to_postmaster(rig):
    r = rig()
    qid, offs = r.submit(SIMPLE, sender="")
    r.note("bounce", qid, "rcpt@example.net", offs[0][0], "5.1.1", "no such user")
    assert r.request(qid, sender="")["status"] == "0"
    notice, = r.notices(exclude={qid})
    # never to <>: to 2bounce_notice_recipient, from the double-bounce address
    assert notice.rcpt_addrs == ["postmaster@example.com"]
    assert notice.sender == f"double-bounce@{HOST}"
    msg = parse(notice)
    assert msg["Subject"] == "Postmaster Copy: Undelivered Mail"
    text, blocks, returned = report_parts(msg)
    assert "empty envelope sender" in text
    assert "X-Postern-Sender" not in blocks[0]
    assert returned.get_content_type() == "message/rfc822"
    r.inst.wait_log(rf"{qid}: postmaster non-delivery notification: {notice.path.name}")
    assert not (r.queue / "bounce" / qid).exists()


def test_failed_postmaster_notice_is_discarded(rig):
    r = rig()
    qid, offs = r.submit(SIMPLE, sender=f"double-bounce@{HOST}", rcpts=("postmaster@example.com",))
    r.note("bounce", qid, "postmaster@example.com", offs[0][0], "5.1.1", "no such user")
    assert r.request(qid, sender=f"double-bounce@{HOST}")["status"] == "0"
    assert r.notices(exclude={qid}) == []
    r.inst.wait_log(rf"warning: {qid}: undeliverable postmaster notification discarded")
    assert not (r.queue / "bounce" / qid).exists()


def test_null_sender_with_empty_2bounce_recipient(rig):
    r = rig(**{"2bounce_notice_recipient": ""})
    qid, offs = r.submit(SIMPLE, sender="")
    r.note("bounce", qid, "rcpt@example.net", offs[0][0], "5.1.1", "no such user")
    assert r.request(qid, sender="")["status"] == "0"
    assert r.notices(exclude={qid}) == []
    r.inst.wait_log(rf"{qid}: undeliverable notification discarded")


def test_notify_classes_bounce_postmaster_copy(rig):
    r = rig(notify_classes="bounce, resource, software", bounce_notice_recipient="admin")
    qid, offs = r.submit(SIMPLE)
    r.note("bounce", qid, "rcpt@example.net", offs[0][0], "5.1.1", "no such user")
    assert r.request(qid)["status"] == "0"
    notices = r.notices(exclude={qid})
    assert sorted(n.rcpt_addrs[0] for n in notices) == ["admin@example.com",
                                                        "sender@example.org"]
    copy = next(n for n in notices if n.rcpt_addrs == ["admin@example.com"])
    sender = next(n for n in notices if n.rcpt_addrs == ["sender@example.org"])
    assert copy.sender == f"double-bounce@{HOST}"
    assert sender.sender == ""
    cmsg = parse(copy)
    assert cmsg["Subject"] == "Postmaster Copy: Undelivered Mail"
    _, blocks, returned = report_parts(cmsg)
    assert returned.get_content_type() == "text/rfc822-headers"   # never the body
    assert b"line one" not in b"\n".join(copy.lines)
    assert blocks[1]["Final-Recipient"] == "rfc822; rcpt@example.net"
    log = r.inst.logtext()
    assert f"{qid}: postmaster non-delivery notification: {copy.path.name}" in log
    assert f"{qid}: sender non-delivery notification: {sender.path.name}" in log


def test_notify_never_sends_nothing(rig):
    r = rig()
    qid, offs = r.submit(SIMPLE, notify=DSN_NEVER)
    r.note("bounce", qid, "rcpt@example.net", offs[0][0], "5.1.1", "x", notify=DSN_NEVER)
    assert r.request(qid)["status"] == "0"
    assert r.notices(exclude={qid}) == []
    assert not (r.queue / "bounce" / qid).exists()

    # NOTIFY=SUCCESS,DELAY (no FAILURE) is left out too; FAILURE is reported
    qid2, offs2 = r.submit(SIMPLE, rcpts=("a@example.net", "b@example.net"))
    r.note("bounce", qid2, "a@example.net", offs2[0][0], "5.1.1", "x",
           notify=DSN_SUCCESS | DSN_DELAY)
    r.note("bounce", qid2, "b@example.net", offs2[1][0], "5.1.1", "y",
           notify=DSN_FAILURE, orcpt="rfc822;b+2Bold@example.net")
    assert r.request(qid2)["status"] == "0"
    notice, = r.notices(exclude={qid, qid2})
    _, blocks, _ = report_parts(parse(notice))
    assert [b["Final-Recipient"] for b in blocks[1:]] == ["rfc822; b@example.net"]
    assert blocks[1]["Original-Recipient"] == "rfc822; b+old@example.net"


def test_flush_without_notes_and_bad_requests(rig):
    r = rig()
    qid, _ = r.submit(SIMPLE)
    assert r.request(qid)["status"] == "0"            # nothing to report
    assert r.notices(exclude={qid}) == []
    assert r.request("../../etc")["status"] == "1"
    assert r.request(qid, queue_name="/tmp")["status"] == "1"
    assert r.request(qid, request="explode")["status"] == "1"
    assert r.request(qid, sender="a\tb@example.org")["status"] == "1"
    assert r.request(qid, dsn_ret="ALL")["status"] == "1"
    # a missing attribute
    assert r.request(qid, raw=attr_list(request="flush", queue_id=qid))["status"] == "1"
    # a list that is not even an attribute list: refused, or the connection closed
    assert r.request(qid, raw=b"\xff" * 300 + b"\0") in (None, {"status": "1"})
    r.inst.wait_log(r"warning: request from .*: bad queue_id; refused")


def test_unreadable_queue_file_still_notifies(rig):
    r = rig()
    qid, offs = r.submit(SIMPLE)
    r.note("bounce", qid, "rcpt@example.net", offs[0][0], "5.1.1", "no such user")
    (r.queue / "incoming" / qid).unlink()
    assert r.request(qid)["status"] == "0"
    notice, = r.notices(exclude={qid})
    text, blocks, returned = report_parts(parse(notice))
    assert returned is None
    assert "could not be read" in text
    assert blocks[1]["Final-Recipient"] == "rfc822; rcpt@example.net"


def handmade_queue_file(queue: Path, qid: str, sender: str, rcpt: str, lines):
    """A queue file in incoming/ written here, as cleanup would; returns the RCPT offset."""
    head = rec(SIZE, "0 0 1") + rec(TIME, f"{int(time.time())}.000000") + rec(FROM, sender)
    body = rec(RCPT, rcpt) + rec(MESG)
    for line in lines:
        body += rec(NORM, line)
    body += rec(XTRA) + rec(END)
    path = queue / "incoming" / qid
    path.write_bytes(head + body)
    path.chmod(0o700)
    return len(head)


def test_no_cleanup_keeps_notes(instance_factory, postern_build):  # noqa: F811
    if not (postern_build / "libexec" / "bounce").exists():
        pytest.skip("bounce not built")
    # bounce without cleanup: the request fails and nothing is lost
    inst = instance_factory(main={"ipc_timeout": "5s"}, services=["bounce/unix"])
    inst.start()
    r = BounceRig(inst)
    qid = "ABCDEF12345"
    off = handmade_queue_file(inst.queue, qid, "sender@example.org", "rcpt@example.net", SIMPLE)
    r.note("bounce", qid, "rcpt@example.net", off, "5.1.1", "no such user")
    assert r.request(qid)["status"] == "1"
    assert (r.queue / "bounce" / qid).exists()
    inst.wait_log(rf"warning: {qid}: connect to {cleanup_service_path()}")
    # asked again, still kept
    assert r.request(qid)["status"] == "1"
    assert (r.queue / "bounce" / qid).exists()


def test_smtputf8_notice(rig):
    r = rig()
    lines = ["From: j\u00f6rg@example.org", "To: r\u00e9@example.net", "Subject: gr\u00fc\u00dfe",
             "", "b\u00f6dy"]
    qid, offs = r.submit([x.encode() for x in lines], sender="j\u00f6rg@example.org",
                         rcpts=("r\u00e9@example.net",), attrs={"smtputf8": "1"})
    r.note("bounce", qid, "r\u00e9@example.net", offs[0][0], "5.1.1",
           "host h[192.0.2.1] said: 550 5.1.1 unbekannt", relay="h[192.0.2.1]:25")
    assert r.request(qid, sender="j\u00f6rg@example.org", smtputf8=1)["status"] == "0"
    notice, = r.notices(exclude={qid})
    assert notice.attrs.get("smtputf8") == "1"
    assert notice.rcpt_addrs == ["j\u00f6rg@example.org"]
    msg = parse(notice)
    assert msg.get_param("report-type") == "global-delivery-status"
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/global-delivery-status", "message/global"]
    assert "Final-Recipient: utf-8; r\u00e9@example.net" in \
        b"\n".join(notice.lines).decode("utf-8")


# ---------------------------------------------------------------- warn, driven directly

def test_delay_warning_once(rig):
    r = rig(maximal_queue_lifetime="3d")
    qid, offs = r.submit(SIMPLE, rcpts=("slow@example.net", "done@example.net",
                                        "quiet@example.net"))
    old = int(time.time()) - 3600
    r.note("defer", qid, "slow@example.net", offs[0][0], "4.4.1", "old reason", when=old)
    r.note("defer", qid, "slow@example.net", offs[0][0], "4.4.1",
           "connect to mx.example.net[192.0.2.9]:25: Connection timed out")
    r.note("defer", qid, "done@example.net", offs[1][0], "4.2.0", "was busy")
    r.note("defer", qid, "quiet@example.net", offs[2][0], "4.2.0", "busy", notify=DSN_FAILURE)
    # done@ was delivered since: its record is DONE now
    path = r.queue / "incoming" / qid
    with open(path, "r+b") as f:
        f.seek(offs[1][0])
        f.write(DONE.encode())
    assert r.request(qid, request="warn")["status"] == "0"
    notice, = r.notices(exclude={qid})
    msg = parse(notice)
    assert msg["Subject"] == "Delayed Mail (still being retried)"
    assert notice.sender == "" and notice.rcpt_addrs == ["sender@example.org"]
    text, blocks, returned = report_parts(msg)
    assert [b["Final-Recipient"] for b in blocks[1:]] == ["rfc822; slow@example.net"]
    assert blocks[1]["Action"] == "delayed"
    assert blocks[1]["Status"] == "4.4.1"
    assert "Connection timed out" in blocks[1]["Diagnostic-Code"]
    assert blocks[1]["Will-Retry-Until"]
    assert returned.get_content_type() == "text/rfc822-headers"
    assert "warning only" in text
    r.inst.wait_log(rf"{qid}: sender delay notification: {notice.path.name}")
    # the notes stay, marked
    defer = r.queue / "defer" / qid
    assert defer.exists() and defer.stat().st_mode & stat.S_IXUSR
    # asked again: nothing new
    assert r.request(qid, request="warn")["status"] == "0"
    assert len(r.notices(exclude={qid})) == 1


def test_delay_warning_postmaster_copy_and_null_sender(rig):
    r = rig(notify_classes="delay", delay_notice_recipient="admin")
    qid, offs = r.submit(SIMPLE, sender="")
    r.note("defer", qid, "rcpt@example.net", offs[0][0], "4.0.0", "busy")
    assert r.request(qid, request="warn", sender="")["status"] == "0"
    notice, = r.notices(exclude={qid})
    assert notice.rcpt_addrs == ["admin@example.com"]
    assert parse(notice)["Subject"] == "Postmaster Warning: Delayed Mail"
    r.inst.wait_log(rf"{qid}: postmaster delay notification")
    # no defer notes at all: nothing to say
    qid2, _ = r.submit(SIMPLE)
    assert r.request(qid2, request="warn")["status"] == "0"
    assert len(r.notices(exclude={qid, qid2})) == 1


# ---------------------------------------------------------------- the whole chain

CHAIN = ("smtpd", "cleanup", "qmgr", "local", "error", "bounce")


@pytest.fixture
def chain(postern_build):
    missing = [p for p in CHAIN if not (postern_build / "libexec" / p).exists()]
    if missing:
        pytest.skip(f"not built yet: {', '.join(missing)}")
    return postern_build


@pytest.fixture
def accounts():
    if not IS_ROOT:
        pytest.skip("mailbox accounts need root")
    from test_local_harness import Users
    base = Path(tempfile.mkdtemp(prefix="postern-bounce-users-", dir="/tmp"))
    base.chmod(0o755)
    u = Users(base)
    yield u
    u.remove_all()
    shutil.rmtree(base, ignore_errors=True)


def maildir_wait(inst, md, n=1, timeout=60):
    def got():
        new = Path(md) / "new"
        files = sorted(new.iterdir(), key=lambda p: p.stat().st_mtime_ns) if new.is_dir() else []
        return files if len(files) >= n else None
    try:
        files = wait_for(got, timeout=timeout, what=f"{n} message(s) in {md}")
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- maillog ---\n{inst.logtext()}") from None
    return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]


def chain_instance(factory, accounts_list, **main):
    params = {"mydestination": "$myhostname, localhost", "myorigin": "$myhostname",
              "home_mailbox": "Maildir/", "mynetworks": "127.0.0.0/8",
              "smtpd_peername_lookup": "no", "smtpd_error_sleep_time": "0"}
    params.update(main)
    inst = factory(main=params)
    inst.start()
    return inst


def test_chain_error_transport_bounce_reaches_sender(chain, instance_factory, accounts):  # noqa: F811
    alice = accounts.add("bal")
    inst = chain_instance(instance_factory, [alice],
                          transport_maps="inline:{ {fail.test=error:5.1.1 no such user here} }")
    sender = f"{alice.pw_name}@{HOST}"
    with inst.smtplib_client() as s:
        s.sendmail(sender, ["nobody@fail.test"],
                   f"From: {sender}\r\nTo: nobody@fail.test\r\nSubject: doomed\r\n"
                   "Message-ID: <doomed-1@example.org>\r\n\r\nthis will bounce\r\n")
    msg, = maildir_wait(inst, Path(alice.pw_dir) / "Maildir")
    if os.environ.get("TEST_BOUNCE_DUMP"):
        print(msg.as_string())
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert msg["Return-Path"] == "<>"
    text, blocks, returned = report_parts(msg)
    assert "<nobody@fail.test>: no such user here" in text
    assert blocks[1]["Final-Recipient"] == "rfc822; nobody@fail.test"
    assert blocks[1]["Status"] == "5.1.1"
    assert blocks[1]["Diagnostic-Code"] == "X-Postern; no such user here"
    orig = returned.get_payload()[0]
    assert orig["Message-ID"] == "<doomed-1@example.org>"
    assert "this will bounce" in orig.get_content()
    inst.wait_log(r"[0-9A-F]+: sender non-delivery notification: [0-9A-F]+")


def test_chain_command_exit_67_bounces_to_sender(chain, instance_factory, accounts):  # noqa: F811
    alice = accounts.add("bcm")
    inst = chain_instance(instance_factory, [alice],
                          alias_maps="inline:{ {broken=|exit 67} }")
    sender = f"{alice.pw_name}@{HOST}"
    with inst.smtplib_client() as s:
        s.sendmail(sender, [f"broken@{HOST}"], "Subject: to a command\r\n\r\nhi\r\n")
    msg, = maildir_wait(inst, Path(alice.pw_dir) / "Maildir")
    text, blocks, returned = report_parts(msg)
    assert blocks[1]["Final-Recipient"] == f"rfc822; broken@{HOST}"
    assert blocks[1]["Action"] == "failed"
    assert blocks[1]["Status"].startswith("5.")
    assert f"<broken@{HOST}>" in text


def test_chain_null_sender_failure_goes_to_postmaster(chain, instance_factory, accounts):  # noqa: F811
    admin = accounts.add("bpm")
    inst = chain_instance(instance_factory, [admin],
                          alias_maps=f"inline:{{ postmaster={admin.pw_name} }}",
                          transport_maps="inline:{ {fail.test=error:5.1.1 no such user here} }")
    with inst.smtplib_client() as s:
        s.sendmail("", ["nobody@fail.test"], "Subject: a notice\r\n\r\nnotice text\r\n")
    msg, = maildir_wait(inst, Path(admin.pw_dir) / "Maildir")
    assert msg["Subject"] == "Postmaster Copy: Undelivered Mail"
    assert msg["Return-Path"] == f"<double-bounce@{HOST}>"
    _, blocks, returned = report_parts(msg)
    assert blocks[1]["Final-Recipient"] == "rfc822; nobody@fail.test"
    assert "notice text" in returned.get_payload()[0].get_content()
    inst.wait_log(r"postmaster non-delivery notification")


def test_chain_5xx_bounce_carries_remote_reply(chain, instance_factory):  # noqa: F811
    if not (chain / "libexec" / "smtp").exists():
        pytest.skip("smtp not built yet")
    from test_smtp_client_peer import Peer

    def rcpt(addr, params):
        if addr.startswith("nobody@"):
            return "550 5.1.1 <nobody@remote.example>: Recipient address rejected: no such user"
        return None

    peer = Peer(rcpt=rcpt)
    try:
        inst = chain_instance(instance_factory, [], relayhost=f"[127.0.0.1]:{peer.port}")
        with inst.smtplib_client() as s:
            s.sendmail("alice@example.org", ["nobody@remote.example"],
                       "From: alice@example.org\r\nSubject: hello\r\n\r\nbody\r\n")
        got = peer.wait_messages(1, 60)
        notice = next(m for m in got if m["from"] == "")
        assert notice["rcpts"] == ["alice@example.org"]
        msg = email.message_from_bytes(notice["data"], policy=email.policy.default)
        text, blocks, _ = report_parts(msg)
        assert "said: 550 5.1.1 <nobody@remote.example>: Recipient address rejected" in text
        assert blocks[1]["Remote-MTA"] == "dns; 127.0.0.1"
        assert blocks[1]["Diagnostic-Code"] == ("smtp; 550 5.1.1 <nobody@remote.example>: "
                                                "Recipient address rejected: no such user")
        assert blocks[1]["Status"] == "5.1.1"
    finally:
        peer.stop()


def test_chain_delay_warning(chain, instance_factory, accounts):  # noqa: F811
    qmgr_src = "".join(p.read_text() for p in (ROOT / "qmgr").glob("*.c"))
    if "BOUNCE_REQ_WARN" not in qmgr_src:
        pytest.skip("qmgr does not send delay warnings yet")
    alice = accounts.add("bdw")
    inst = chain_instance(instance_factory, [alice],
                          transport_maps="inline:{ {slow.test=retry:4.4.1 try later} }",
                          delay_warning_time="1s", queue_run_delay="1s",
                          minimal_backoff_time="1s", maximal_backoff_time="2s")
    sender = f"{alice.pw_name}@{HOST}"
    with inst.smtplib_client() as s:
        s.sendmail(sender, ["x@slow.test"], "Subject: slow\r\n\r\nslow\r\n")
    msg, = maildir_wait(inst, Path(alice.pw_dir) / "Maildir", timeout=60)
    assert msg["Subject"] == "Delayed Mail (still being retried)"
    _, blocks, _ = report_parts(msg)
    assert blocks[1]["Action"] == "delayed"
    assert blocks[1]["Status"] == "4.4.1"
    time.sleep(5)
    assert len(list((Path(alice.pw_dir) / "Maildir" / "new").iterdir())) == 1
