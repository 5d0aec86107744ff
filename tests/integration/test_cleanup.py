"""Integration tests for cleanup(8), run stand-alone (-S) over a socketpair.

Each test writes a private main.cf and queue directory, starts
build/libexec/cleanup -S with one end of a socketpair as its standard
input, speaks lib/cleanup_proto.h from Python (attribute lists per
lib/attr.h, records per lib/rec.h), and then reads the queue file that
cleanup left in incoming/ (or checks that it left none).
"""
import os
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

# ---- lib/rec.h record types ----
SIZE, TIME, FROM, RCPT, DONE, ORCP = b"C", b"T", b"S", b"R", b"D", b"O"
NOTIFY, DSN_ORCPT, ATTR, MESG, NORM, CONT, XTRA, END = (
    b"Y", b"Q", b"A", b"M", b"N", b"L", b"X", b"E")

# ---- lib/cleanup_proto.h ----
FLAG_FILTER, FLAG_MAP_OK, FLAG_EXTRACT, FLAG_LOCAL, FLAG_BOUNCE = 1, 2, 4, 8, 16
STAT_BAD, STAT_WRITE, STAT_SIZE, STAT_CONT, STAT_HOPS, STAT_RCPT, STAT_DEFER = (
    1, 2, 4, 8, 16, 32, 64)
MODE_WRITING, MODE_READY = 0o600, 0o700


def rec(rtype: bytes, data=b"") -> bytes:
    """One record: type byte, little-endian base-128 length, data."""
    if isinstance(data, str):
        data = data.encode()
    n = len(data)
    out = bytearray(rtype)
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            break
    return bytes(out) + data


def parse_records(blob: bytes):
    """Split a queue file into (type, data) pairs; asserts correct framing."""
    out, i = [], 0
    while i < len(blob):
        rtype = blob[i:i + 1]
        i += 1
        n, shift = 0, 0
        while True:
            byte = blob[i]
            i += 1
            n |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        out.append((rtype, blob[i:i + n]))
        i += n
    assert i == len(blob)
    return out


def attr_list(**pairs) -> bytes:
    out = b""
    for name, value in pairs.items():
        out += name.encode() + b"\0" + str(value).encode() + b"\0"
    return out + b"\0"


def read_attrs(sock) -> dict:
    """Read one attribute list (name NUL value NUL ... NUL)."""
    buf = b""
    while True:
        chunk = sock.recv(1)
        if not chunk:
            raise EOFError("connection closed; got %r" % buf)
        buf += chunk
        fields = buf.split(b"\0")
        # a complete list ends with an empty name: an even number of fields
        # before the final empty one, i.e. buf ends with NUL at a name slot
        if buf.endswith(b"\0"):
            names = fields[:-1]
            if len(names) % 2 == 1 and names[-1] == b"":
                pairs = names[:-1]
                return {pairs[k].decode(): pairs[k + 1].decode()
                        for k in range(0, len(pairs), 2)}


class Instance:
    """A private configuration and queue directory for cleanup."""

    def __init__(self, tmp_path: Path, build: Path, extra: str = ""):
        self.root = tmp_path
        self.build = build
        self.conf = tmp_path / "etc"
        self.queue = tmp_path / "queue"
        self.log = tmp_path / "maillog"
        self.conf.mkdir(exist_ok=True)
        for d in ("incoming", "active", "deferred", "public", "private", "maildrop"):
            (self.queue / d).mkdir(parents=True, exist_ok=True)
        self.write_main_cf(extra)

    def write_main_cf(self, extra: str = ""):
        (self.conf / "main.cf").write_text(
            f"queue_directory = {self.queue}\n"
            f"maillog_file = {self.log}\n"
            "myhostname = mx.example.com\n"
            "mydomain = example.com\n"
            "myorigin = example.com\n"
            "mydestination = $myhostname, localhost\n"
            "mynetworks = 127.0.0.0/8\n"
            "inet_interfaces = loopback-only\n"
            + extra)

    def logtext(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def start(self, *opts):
        """Start cleanup -S; returns (process, our end of the socketpair)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        proc = subprocess.Popen(
            [str(self.build / "libexec" / "cleanup"), "-S", "-c", str(self.conf), *opts],
            stdin=theirs, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        theirs.close()
        ours.settimeout(20)
        return proc, ours

    def incoming(self):
        return sorted(p.name for p in (self.queue / "incoming").iterdir())

    def all_queue_files(self):
        return sorted(str(p.relative_to(self.queue)) for p in self.queue.rglob("*")
                      if p.is_file())

    def submit(self, records: bytes, flags=FLAG_MAP_OK, opts=()):
        """Run one transaction; returns (queue_id, reply dict, records of the file or None)."""
        proc, sock = self.start(*opts)
        try:
            hello = read_attrs(sock)
            qid = hello["queue_id"]
            sock.sendall(attr_list(flags=flags) + records)
            reply = read_attrs(sock)
        finally:
            sock.close()
            proc.wait(timeout=20)
        path = self.queue / "incoming" / qid
        recs = None
        if path.exists():
            recs = parse_records(path.read_bytes())
        return qid, reply, recs


def envelope(sender="sender@example.org", rcpts=("rcpt@example.net",), attrs=None,
             when="1700000000.123456"):
    out = rec(TIME, when)
    attrs = {"client_address": "192.0.2.10", "client_name": "client.example.org",
             "helo_name": "client.example.org", "protocol": "ESMTP",
             "origin": "smtpd"} if attrs is None else attrs
    for name, value in attrs.items():
        out += rec(ATTR, f"{name}={value}")
    out += rec(FROM, sender)
    for r in rcpts:
        out += rec(RCPT, r)
    return out


def content(lines) -> bytes:
    out = rec(MESG)
    for line in lines:
        if isinstance(line, str):
            line = line.encode()
        out += rec(NORM, line)
    return out + rec(XTRA) + rec(END)


def body_lines(recs):
    """The content of a queue file as a list of text lines (CONT pieces joined)."""
    lines, cur, inside = [], b"", False
    for rtype, data in recs:
        if rtype == MESG:
            inside = True
        elif rtype == XTRA:
            inside = False
        elif inside and rtype == CONT:
            cur += data
        elif inside and rtype == NORM:
            lines.append(cur + data)
            cur = b""
    return lines


def values(recs, rtype):
    return [d.decode() for t, d in recs if t == rtype]


BASIC = ["Received: from client.example.org (client.example.org [192.0.2.10])",
         "\tby mx.example.com (Postern) with ESMTP id TEST",
         "From: Sender <sender@example.org>",
         "To: rcpt@example.net",
         "Subject: test",
         "Date: Tue, 14 Nov 2023 22:13:20 +0000",
         "Message-ID: <abc@example.org>",
         "",
         "body line 1",
         ".leading dot",
         "",
         "last line"]


@pytest.fixture
def inst(tmp_path, postern_build):
    return Instance(tmp_path, postern_build)


def test_basic_queue_file(inst):
    qid, reply, recs = inst.submit(envelope() + content(BASIC))
    assert reply == {"status": "0", "reason": ""}
    path = inst.queue / "incoming" / qid
    assert stat.S_IMODE(path.stat().st_mode) == MODE_READY
    assert inst.incoming() == [qid]
    types = [t for t, _ in recs]
    assert types[0] == SIZE and types[1] == TIME
    assert types[-1] == END
    assert values(recs, TIME) == ["1700000000.123456"]
    assert values(recs, FROM) == ["sender@example.org"]
    assert values(recs, RCPT) == ["rcpt@example.net"]
    assert values(recs, ORCP) == ["rcpt@example.net"]
    assert "client_address=192.0.2.10" in values(recs, ATTR)
    # content exactly as sent: nothing added for a remote client with all headers
    assert body_lines(recs) == [line.encode() for line in BASIC]
    # envelope order: SIZE TIME ATTR* FROM recipients MESG
    assert types.index(FROM) < types.index(RCPT) < types.index(MESG) < types.index(XTRA)
    assert "message_id=<abc@example.org>" in values(recs, ATTR)
    xtra = types.index(XTRA)
    assert (ATTR, b"message_id=<abc@example.org>") in recs[xtra:]
    # SIZE: content size (one byte per line end), offset of the MESG record, count
    size, offset, count = (int(x) for x in values(recs, SIZE)[0].split())
    assert size == sum(len(line) + 1 for line in BASIC)
    assert count == 1
    raw = path.read_bytes()
    assert raw[offset:offset + 2] == rec(MESG)
    assert parse_records(raw[offset:])[0] == (MESG, b"")
    assert f"{qid}: message-id=<abc@example.org>" in inst.logtext()


def test_queue_ids_unique_and_named_by_inode(inst):
    ids = set()
    for _ in range(5):
        qid, reply, _ = inst.submit(envelope() + content(BASIC))
        assert reply["status"] == "0"
        ino = (inst.queue / "incoming" / qid).stat().st_ino
        assert qid.endswith("%X" % ino)
        ids.add(qid)
    assert len(ids) == 5
    assert sorted(ids) == inst.incoming()


def test_missing_headers_added_for_local_submission(inst):
    lines = ["Subject: local", "", "hello"]
    qid, reply, recs = inst.submit(
        envelope(attrs={"origin": "pickup"}) + content(lines), flags=FLAG_MAP_OK | FLAG_LOCAL)
    assert reply["status"] == "0"
    text = body_lines(recs)
    assert text[0] == b"Subject: local"
    names = [line.split(b":")[0] for line in text[1:4]]
    assert names == [b"Message-Id", b"Date", b"From"]
    msgid = text[1].split(b": ", 1)[1].decode()
    assert msgid == f"<20231114221320.{qid}@mx.example.com>"
    assert text[2].startswith(b"Date: Tue, 14 Nov 2023 ")
    assert text[3] == b"From: sender@example.org"
    assert text[4:] == [b"", b"hello"]
    assert f"message_id={msgid}" in values(recs, ATTR)
    assert f"{qid}: message-id={msgid}" in inst.logtext()


def test_no_headers_added_for_remote_client(inst):
    lines = ["Subject: remote", "", "hello"]
    qid, reply, recs = inst.submit(envelope() + content(lines))
    assert reply["status"] == "0"
    assert body_lines(recs) == [b"Subject: remote", b"", b"hello"]
    assert not [v for v in values(recs, ATTR) if v.startswith("message_id=")]
    assert f"{qid}: message-id=<>" in inst.logtext()


def test_headers_added_for_loopback_client(inst):
    lines = ["Subject: loopback", "", "hello"]
    attrs = {"client_address": "127.0.0.1", "origin": "smtpd"}
    qid, reply, recs = inst.submit(envelope(attrs=attrs) + content(lines))
    names = [line.split(b":")[0] for line in body_lines(recs)[:4]]
    assert names == [b"Subject", b"Message-Id", b"Date", b"From"]


def test_always_add_missing_headers(tmp_path, postern_build):
    inst = Instance(tmp_path, postern_build, "always_add_missing_headers = yes\n")
    qid, reply, recs = inst.submit(envelope(sender="") + content(["Subject: x", "", "b"]))
    text = body_lines(recs)
    assert text[3] == b"From: MAILER-DAEMON@example.com"


def test_permit_mynetworks_and_sasl(tmp_path, postern_build):
    inst = Instance(tmp_path, postern_build,
                    "local_header_rewrite_clients = permit_mynetworks, permit_sasl_authenticated\n"
                    "mynetworks = 198.51.100.0/24, [2001:db8::]/32\n")
    for addr, sasl, added in (("198.51.100.7", "", True), ("2001:db8::5", "", True),
                              ("192.0.2.10", "", False), ("192.0.2.10", "alice", True),
                              ("::ffff:198.51.100.9", "", True)):
        attrs = {"client_address": addr, "origin": "smtpd"}
        if sasl:
            attrs["sasl_username"] = sasl
        _, reply, recs = inst.submit(envelope(attrs=attrs) + content(["Subject: x", "", "b"]))
        assert reply["status"] == "0"
        assert (len(body_lines(recs)) == 6) == added, addr


def test_resent_headers(tmp_path, postern_build):
    inst = Instance(tmp_path, postern_build, "always_add_missing_headers = yes\n")
    lines = ["Resent-To: x@example.net", "From: a@example.org", "Date: x",
             "Message-Id: <orig@example.org>", "", "b"]
    qid, reply, recs = inst.submit(envelope() + content(lines))
    text = body_lines(recs)
    added = [line.split(b":")[0] for line in text[4:7]]
    assert added == [b"Resent-Message-Id", b"Resent-Date", b"Resent-From"]
    log = inst.logtext()
    assert f"{qid}: message-id=<orig@example.org>" in log
    assert f"{qid}: resent-message-id=<" in log


def test_drop_headers(inst):
    lines = ["Return-Path: <x@y>", "To: a@example.net", "Bcc: secret@example.net",
             "  folded-bcc@example.net", "Content-Length: 99", "Resent-Bcc: z@example.net",
             "Subject: s", "", "Bcc: in the body stays"]
    _, reply, recs = inst.submit(envelope() + content(lines))
    assert body_lines(recs) == [b"To: a@example.net", b"Subject: s", b"",
                                b"Bcc: in the body stays"]


def test_extract_recipients(inst):
    lines = ["To: One <one@example.net>, two@example.net", "Cc: \"x y\"@example.net",
             "Bcc: hidden@example.net", "Subject: t", "", "Cc: body@example.net"]
    _, reply, recs = inst.submit(envelope(rcpts=()) + content(lines),
                                 flags=FLAG_MAP_OK | FLAG_EXTRACT | FLAG_LOCAL)
    assert reply["status"] == "0"
    assert values(recs, RCPT) == ["one@example.net", "two@example.net", "x y@example.net",
                                  "hidden@example.net"]
    types = [t for t, _ in recs]
    assert types.index(RCPT) > types.index(XTRA)
    assert int(values(recs, SIZE)[0].split()[2]) == 4
    assert not any(line.startswith(b"Bcc") for line in body_lines(recs))


def test_no_recipients(inst):
    qid, reply, recs = inst.submit(envelope(rcpts=()) + content(BASIC))
    assert int(reply["status"]) == STAT_RCPT
    assert reply["reason"].startswith("5.1.0")
    assert recs is None and inst.all_queue_files() == []


def test_hop_count(inst):
    lines = [f"Received: hop {i}" for i in range(51)] + ["", "b"]
    qid, reply, recs = inst.submit(envelope() + content(lines))
    assert int(reply["status"]) == STAT_HOPS
    assert reply["reason"].startswith("5.4.0") and "too many hops" in reply["reason"]
    assert inst.all_queue_files() == []
    lines = [f"Received: hop {i}" for i in range(50)] + ["", "b"]
    _, reply, _ = inst.submit(envelope() + content(lines))
    assert reply["status"] == "0"


def test_message_size_limit(tmp_path, postern_build):
    inst = Instance(tmp_path, postern_build, "message_size_limit = 20000\n")
    big = ["Subject: big", ""] + ["x" * 99] * 300
    qid, reply, recs = inst.submit(envelope() + content(big))
    assert int(reply["status"]) == STAT_SIZE
    assert reply["reason"] == "5.3.4 Message size exceeds fixed limit"
    assert inst.all_queue_files() == []
    _, reply, _ = inst.submit(envelope() + content(big[:50]))
    assert reply["status"] == "0"


def test_header_size_limit(tmp_path, postern_build):
    inst = Instance(tmp_path, postern_build, "header_size_limit = 2000\n")
    long_hdr = ["X-Long: " + "a" * 1500] + ["\t" + "b" * 500] * 5
    lines = long_hdr + ["Subject: after", "", "body"]
    _, reply, recs = inst.submit(envelope() + content(lines))
    assert reply["status"] == "0"
    text = body_lines(recs)
    assert sum(len(line) + 1 for line in text[:-3]) - 1 == 2000
    assert text[-3:] == [b"Subject: after", b"", b"body"]
    assert "header is longer than header_size_limit" in inst.logtext()


def test_long_lines_and_pieces(inst):
    long_line = "y" * 5000
    records = envelope() + rec(MESG) + rec(NORM, "Subject: long")
    records += rec(CONT, "X-Split: a") + rec(CONT, "bc") + rec(NORM, "def")
    records += rec(NORM, "") + rec(CONT, long_line[:3000]) + rec(NORM, long_line[3000:])
    records += rec(NORM, "tail") + rec(XTRA) + rec(END)
    _, reply, recs = inst.submit(records)
    assert reply["status"] == "0"
    assert body_lines(recs) == [b"Subject: long", b"X-Split: abcdef", b"", long_line.encode(),
                                b"tail"]
    # no record longer than line_length_limit (2048)
    assert max(len(d) for t, d in recs if t in (NORM, CONT)) <= 2048


def test_content_exact_binary(inst):
    lines = [b"Subject: \xc3\xa9t\xc3\xa9", b"X-Folded: one", b" two", b"\tthree", b"",
             b"\x00nul\x00", b"8bit \xff\xfe", b"..", b"."]
    _, reply, recs = inst.submit(envelope() + content(lines))
    assert reply["status"] == "0"
    assert body_lines(recs) == lines


def test_stray_cr_lf(tmp_path, postern_build):
    inst = Instance(tmp_path, postern_build)
    lines = [b"Subject: a\rb", b"", b"body\rwith\nstray"]
    _, reply, recs = inst.submit(envelope() + content(lines))
    assert body_lines(recs) == [b"Subject: a b", b"", b"body with stray"]
    inst.write_main_cf("cleanup_replace_stray_cr_lf = no\n")
    _, reply, recs = inst.submit(envelope() + content(lines))
    assert body_lines(recs) == lines


def test_no_header_section(inst):
    lines = ["not a header", "Subject: this is body"]
    _, reply, recs = inst.submit(envelope() + content(lines))
    assert body_lines(recs) == [b"not a header", b"Subject: this is body"]


def test_duplicates_and_orcp(inst):
    records = envelope(rcpts=()) + rec(RCPT, "a@example.net") + rec(RCPT, "a@example.net")
    records += rec(ORCP, "orig@example.net") + rec(NOTIFY, "6") + rec(DSN_ORCPT, "rfc822;orig@example.net")
    records += rec(RCPT, "b@example.net") + rec(RCPT, "b@example.net")
    _, reply, recs = inst.submit(records + content(BASIC))
    assert reply["status"] == "0"
    assert values(recs, RCPT) == ["a@example.net", "b@example.net", "b@example.net"]
    assert values(recs, ORCP) == ["a@example.net", "orig@example.net", "b@example.net"]
    assert values(recs, NOTIFY) == ["6"]
    assert values(recs, DSN_ORCPT) == ["rfc822;orig@example.net"]
    # each RCPT is preceded by its own attributes
    types = [t for t, _ in recs]
    i = types.index(NOTIFY)
    assert types[i - 1:i + 3] == [ORCP, NOTIFY, DSN_ORCPT, RCPT]


def test_unqualified_addresses(inst):
    _, reply, recs = inst.submit(envelope(sender="bob", rcpts=("postmaster",)) + content(BASIC))
    assert values(recs, FROM) == ["bob@example.com"]
    assert values(recs, RCPT) == ["postmaster@example.com"]
    assert values(recs, ORCP) == ["postmaster"]


def test_virtual_alias_expansion(tmp_path, postern_build):
    table = tmp_path / "virtual"
    table.write_text(
        "list@example.net a@example.net, b@example.net, nested@example.net\n"
        "nested@example.net c@example.net, a@example.net\n"
        "self@example.net self@example.net, copy@example.net\n"
        "loop1@example.net loop2@example.net\n"
        "loop2@example.net loop1@example.net\n"
        "@catch.example   catchall@example.net\n"
        "user@example.net \"quoted user\"@example.net\n"
        "short@example.net local\n")
    inst = Instance(tmp_path, postern_build, f"virtual_alias_maps = texthash:{table}\n")
    cases = {
        "list@example.net": ["a@example.net", "b@example.net", "c@example.net"],
        "self@example.net": ["self@example.net", "copy@example.net"],
        "loop1@example.net": ["loop1@example.net"],
        "anyone@catch.example": ["catchall@example.net"],
        "user@example.net": ["quoted user@example.net"],
        "short@example.net": ["local@example.com"],
        "other@example.net": ["other@example.net"],
    }
    for rcpt, want in cases.items():
        _, reply, recs = inst.submit(envelope(rcpts=(rcpt,)) + content(BASIC))
        assert reply["status"] == "0", rcpt
        assert values(recs, RCPT) == want, rcpt
        assert set(values(recs, ORCP)) == {rcpt}
    # without CLEANUP_FLAG_MAP_OK nothing is mapped
    _, reply, recs = inst.submit(envelope(rcpts=("list@example.net",)) + content(BASIC), flags=0)
    assert values(recs, RCPT) == ["list@example.net"]


def test_virtual_alias_limits(tmp_path, postern_build):
    table = tmp_path / "virtual"
    lines = [f"d{i}@example.net d{i + 1}@example.net" for i in range(20)]
    lines.append("wide@example.net " + ", ".join(f"w{i}@example.net" for i in range(30)))
    table.write_text("\n".join(lines) + "\n")
    inst = Instance(tmp_path, postern_build,
                    f"virtual_alias_maps = texthash:{table}\n"
                    "virtual_alias_recursion_limit = 10\nvirtual_alias_expansion_limit = 25\n")
    for rcpt, text in (("d0@example.net", "nesting"), ("wide@example.net", "expansion size")):
        qid, reply, recs = inst.submit(envelope(rcpts=(rcpt,)) + content(BASIC))
        assert int(reply["status"]) == STAT_DEFER, rcpt
        assert reply["reason"].startswith("4.")
        assert recs is None
        assert f"unreasonable virtual_alias_maps map {text} for {rcpt}" in inst.logtext()
    _, reply, recs = inst.submit(envelope(rcpts=("d15@example.net",)) + content(BASIC))
    assert values(recs, RCPT) == ["d20@example.net"]
    assert inst.incoming() and len(inst.incoming()) == 1


def test_table_error_defers(tmp_path, postern_build):
    inst = Instance(tmp_path, postern_build, "virtual_alias_maps = fail:broken\n")
    qid, reply, recs = inst.submit(envelope() + content(BASIC))
    assert int(reply["status"]) == STAT_DEFER
    assert reply["reason"].startswith("4.3.0")
    assert inst.all_queue_files() == []


def test_canonical_maps(tmp_path, postern_build):
    (tmp_path / "canonical").write_text("old@example.org new@example.org\n"
                                        "@olddomain.example @newdomain.example\n")
    (tmp_path / "sender").write_text("sender@example.org Sender.Name@example.org\n")
    (tmp_path / "recipient").write_text("rcpt@example.net renamed@example.net\n")
    inst = Instance(tmp_path, postern_build,
                    f"canonical_maps = texthash:{tmp_path}/canonical\n"
                    f"sender_canonical_maps = texthash:{tmp_path}/sender\n"
                    f"recipient_canonical_maps = texthash:{tmp_path}/recipient\n")
    _, reply, recs = inst.submit(
        envelope(rcpts=("rcpt@example.net", "old@example.org", "x@olddomain.example"))
        + content(BASIC))
    assert values(recs, FROM) == ["Sender.Name@example.org"]
    assert values(recs, RCPT) == ["renamed@example.net", "new@example.org", "x@newdomain.example"]
    inst.write_main_cf(f"canonical_maps = texthash:{tmp_path}/canonical\n"
                       "canonical_classes = envelope_sender\n")
    _, reply, recs = inst.submit(envelope(sender="old@example.org",
                                          rcpts=("old@example.org",)) + content(BASIC))
    assert values(recs, FROM) == ["new@example.org"]
    assert values(recs, RCPT) == ["old@example.org"]


def test_client_disconnect_mid_content(inst):
    proc, sock = inst.start()
    qid = read_attrs(sock)["queue_id"]
    sock.sendall(attr_list(flags=FLAG_MAP_OK) + envelope() + rec(MESG) + rec(NORM, "Subject: x"))
    deadline = time.time() + 10
    while not (inst.queue / "incoming" / qid).exists() and time.time() < deadline:
        time.sleep(0.01)
    sock.close()
    assert proc.wait(timeout=20) == 0
    assert inst.all_queue_files() == []
    assert f"{qid}: unexpected EOF from client" in inst.logtext()


def test_client_disconnect_before_flags(inst):
    proc, sock = inst.start()
    read_attrs(sock)
    sock.close()
    proc.wait(timeout=20)
    assert inst.all_queue_files() == []


def test_killed_cleanup_never_completes_file(inst):
    proc, sock = inst.start()
    qid = read_attrs(sock)["queue_id"]
    sock.sendall(attr_list(flags=FLAG_MAP_OK) + envelope() + rec(MESG) + rec(NORM, "Subject: x"))
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=20)
    with pytest.raises((EOFError, ConnectionError)):
        sock.sendall(rec(XTRA) + rec(END))
        read_attrs(sock)
    sock.close()
    # whatever is left is not marked complete
    for name in inst.incoming():
        assert stat.S_IMODE((inst.queue / "incoming" / name).stat().st_mode) == MODE_WRITING


def test_protocol_errors(inst):
    bad = [
        rec(RCPT, "a@example.net") + rec(FROM, "x@example.org") + content(BASIC),
        envelope() + rec(FROM, "again@example.org") + content(BASIC),
        envelope() + rec(ORCP, "o@example.net") + content(BASIC),
        envelope() + rec(TIME, "1") + content(BASIC),
        envelope(when="12x") + content(BASIC),
        envelope() + rec(ATTR, "noequals") + content(BASIC),
        envelope() + rec(RCPT, "bad\x01addr@example.net") + content(BASIC),
        envelope() + rec(MESG) + rec(FROM, "x") + rec(XTRA) + rec(END),
        envelope() + rec(MESG) + rec(XTRA) + rec(NORM, "late") + rec(END),
        envelope() + rec(END),
    ]
    for records in bad:
        qid, reply, recs = inst.submit(records)
        assert int(reply["status"]) & STAT_BAD, records
        assert recs is None
    assert inst.all_queue_files() == []


def test_message_id_attr_from_client_ignored(inst):
    attrs = {"client_address": "192.0.2.1", "message_id": "<forged@x>"}
    _, reply, recs = inst.submit(envelope(attrs=attrs) + content(["Subject: s", "", "b"]))
    assert reply["status"] == "0"
    assert not [v for v in values(recs, ATTR) if v.startswith("message_id")]


def test_qmgr_trigger(inst):
    path = inst.queue / "public" / "qmgr"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)
    srv.settimeout(10)
    try:
        qid, reply, recs = inst.submit(envelope() + content(BASIC))
        assert reply["status"] == "0"
        conn, _ = srv.accept()
        conn.settimeout(10)
        assert conn.recv(16) == b"I"
        conn.close()
    finally:
        srv.close()


def test_header_address_rewriting(tmp_path, postern_build):
    (tmp_path / "canonical").write_text("old@example.org new@example.org\n"
                                        "carol@example.net carol.x@example.net\n")
    (tmp_path / "sender").write_text("bob@example.com Robert.B@example.com\n")
    inst = Instance(tmp_path, postern_build,
                    f"canonical_maps = texthash:{tmp_path}/canonical\n"
                    f"sender_canonical_maps = texthash:{tmp_path}/sender\n")
    lines = ["From: Bob Example <bob>",
             "To: alice, \"Carol, X\" <carol@example.net> (the comment stays),",
             "  old@example.org (Old Name), team: old@example.org, x@y.example;",
             "Cc: undisclosed-recipients:;",
             "Reply-To: <@route.example:old@example.org>",
             "Subject: old@example.org is not an address header",
             "X-To: old@example.org",
             "", "old@example.org in the body"]
    want = [b"From: Bob Example <Robert.B@example.com>",
            b"To: alice@example.com, \"Carol, X\" <carol.x@example.net> (the comment stays),",
            b"  new@example.org (Old Name), team: new@example.org, x@y.example;",
            b"Cc: undisclosed-recipients:;",
            b"Reply-To: <@route.example:new@example.org>",
            b"Subject: old@example.org is not an address header",
            b"X-To: old@example.org"]
    local = {"origin": "pickup"}
    _, reply, recs = inst.submit(envelope(attrs=local) + content(lines),
                                 flags=FLAG_MAP_OK | FLAG_LOCAL)
    assert reply["status"] == "0"
    assert body_lines(recs)[:len(want)] == want
    assert body_lines(recs)[-1] == b"old@example.org in the body"

    # a remote client's headers are left as they are
    _, reply, recs = inst.submit(envelope() + content(lines))
    assert body_lines(recs) == [line.encode() for line in lines]

    # without MAP_OK, or with envelope classes only, only unqualified addresses change
    for flags, extra in ((FLAG_LOCAL, ""), (FLAG_LOCAL | FLAG_MAP_OK,
                                            "canonical_classes = envelope_sender\n"
                                            "sender_canonical_classes = envelope_sender\n")):
        inst.write_main_cf(f"canonical_maps = texthash:{tmp_path}/canonical\n"
                           f"sender_canonical_maps = texthash:{tmp_path}/sender\n" + extra)
        _, reply, recs = inst.submit(envelope(attrs=local) + content(lines), flags=flags)
        got = body_lines(recs)
        assert got[0] == b"From: Bob Example <bob@example.com>"
        assert got[1].startswith(b"To: alice@example.com, \"Carol, X\" <carol@example.net>")
        assert got[2] == lines[2].encode()


def test_duplicate_after_qualification(inst):
    # "user" and "user@$myorigin" are one recipient with one original address
    records = envelope(rcpts=("bob@example.com", "bob", "Bob@example.com"))
    _, reply, recs = inst.submit(records + content(BASIC))
    assert values(recs, RCPT) == ["bob@example.com", "Bob@example.com"]
    assert values(recs, ORCP) == ["bob@example.com", "Bob@example.com"]
    lines = ["To: bob@example.com", "Bcc: bob", "", "b"]
    _, reply, recs = inst.submit(envelope(rcpts=()) + content(lines),
                                 flags=FLAG_MAP_OK | FLAG_EXTRACT | FLAG_LOCAL)
    assert values(recs, RCPT) == ["bob@example.com"]


def test_hostile_message_id(inst):
    long_id = "<" + "x" * 2000 + "@example.org>"
    lines = [b"Message-ID: <a\x00b\x01c@example.org>", b"", b"b"]
    qid, reply, recs = inst.submit(envelope() + content(lines))
    assert reply["status"] == "0"
    assert "message_id=<a b c@example.org>" in values(recs, ATTR)
    assert body_lines(recs)[0] == lines[0]          # the content itself is untouched
    qid, reply, recs = inst.submit(envelope() + content(["Message-ID: " + long_id, "", "b"]))
    attr = [v for v in values(recs, ATTR) if v.startswith("message_id=")][0]
    assert len(attr) == len("message_id=") + 512
    assert f"{qid}: message-id=<xxx" in inst.logtext()


def test_hostile_record_streams(inst):
    """Random and mutated requests: cleanup answers or hangs up, never crashes, never
    leaves a file behind unless it said status 0."""
    import random
    rnd = random.Random(5)
    good = envelope() + content(BASIC)
    types = [SIZE, TIME, FROM, RCPT, DONE, ORCP, NOTIFY, DSN_ORCPT, ATTR, MESG, NORM, CONT,
             XTRA, END, b"Z", b"\0"]
    for round_ in range(60):
        if round_ % 3 == 0:
            blob = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300)))
        elif round_ % 3 == 1:
            blob = bytearray(good)
            for _ in range(rnd.randrange(1, 6)):
                blob[rnd.randrange(len(blob))] = rnd.randrange(256)
            blob = bytes(blob)
        else:
            blob = b"".join(rec(rnd.choice(types), bytes(rnd.randrange(256)
                                                          for _ in range(rnd.randrange(0, 20))))
                            for _ in range(rnd.randrange(1, 30))) + rec(END)
        proc, sock = inst.start()
        qid = read_attrs(sock)["queue_id"]
        try:
            sock.sendall(attr_list(flags=FLAG_MAP_OK) + blob)
            sock.shutdown(socket.SHUT_WR)
            reply = read_attrs(sock)
        except (EOFError, ConnectionError):
            reply = None
        sock.close()
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
        files = inst.incoming()
        if reply is not None and reply["status"] == "0":
            assert files == [qid]
            assert stat.S_IMODE((inst.queue / "incoming" / qid).stat().st_mode) == MODE_READY
            (inst.queue / "incoming" / qid).unlink()
        else:
            assert files == [], (round_, reply)
