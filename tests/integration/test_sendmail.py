"""sendmail(1), mailq, postdrop(1): local submission into maildrop/.

Most tests run the built sendmail against a private main.cf whose
command_directory is the build's sbin (so sendmail finds postdrop there)
and then read the maildrop file postdrop wrote, record by record. The
modes that run other commands (mailq, -bp, -q, -bi, -bd) are tested with
a command_directory of stand-in scripts that print their arguments.
As root, postdrop's set-gid operation is tested with a copy of postdrop
that belongs to setgid_group and is run by nobody. The last test runs
the whole path under master(8): sendmail -t, postdrop, pickup, cleanup,
and the queue file in incoming/.
"""
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import run
from instance import instance_factory  # noqa: F401  (a fixture)

IS_ROOT = os.geteuid() == 0
root_only = pytest.mark.skipif(not IS_ROOT, reason="needs root")

# lib/rec.h record types
TIME, FROM, RCPT, ORCP, NOTIFY, DSN_ORCPT = b"T", b"S", b"R", b"O", b"Y", b"Q"
ATTR, MESG, NORM, CONT, XTRA, END, SIZE = b"A", b"M", b"N", b"L", b"X", b"E", b"C"

# sysexits.h
EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_UNAVAILABLE = 64, 65, 66, 69
EX_TEMPFAIL, EX_NOPERM = 75, 77

QUEUE_ID = re.compile(r"^[0-9A-F]{6,21}$")


def rec(rtype: bytes, data=b"") -> bytes:
    if isinstance(data, str):
        data = data.encode()
    n, out = len(data), bytearray(rtype)
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out) + data


def parse_records(blob: bytes):
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


class Message:
    """A parsed maildrop file."""

    def __init__(self, path: Path):
        self.path = path
        self.stat = path.lstat()
        self.records = parse_records(path.read_bytes())
        self.types = [t for t, _ in self.records]
        self.attrs = dict(d.decode().split("=", 1) for t, d in self.records if t == ATTR)
        self.sender = next(d.decode() for t, d in self.records if t == FROM)
        self.rcpts = [d.decode() for t, d in self.records if t == RCPT]
        mesg = self.types.index(MESG)
        lines, piece = [], b""
        for t, d in self.records[mesg + 1:]:
            if t == CONT:
                piece += d
            elif t == NORM:
                lines.append(piece + d)
                piece = b""
        self.lines = lines
        self.envelope = self.records[:mesg]


class Inst:
    """A private configuration and queue; sendmail runs against it."""

    def __init__(self, build: Path, base: Path):
        self.build = build
        self.base = base
        self.etc = base / "etc"
        self.queue = base / "q"
        self.log = base / "maillog"
        self.etc.mkdir(parents=True)
        for d in ("maildrop", "public", "private", "corrupt", "incoming", "pid"):
            (self.queue / d).mkdir(parents=True)
        self.log.touch()
        (self.etc / "master.cf").write_text("")
        self.main = {
            "queue_directory": self.queue,
            "command_directory": build / "sbin",
            "daemon_directory": build / "libexec",
            "maillog_file": self.log,
        }
        self.write_main()
        # something for postdrop's trigger to reach, as if pickup were running
        self.pickup_sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.pickup_sock.bind(str(self.queue / "public" / "pickup"))
        self.pickup_sock.listen(128)

    def close(self):
        self.pickup_sock.close()

    def write_main(self, **extra):
        self.main.update(extra)
        (self.etc / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in self.main.items()))

    def sendmail(self, *args, input="Subject: test\n\nhello\n", prog="sendmail", env=None,
                 **kw):
        e = dict(os.environ)
        e["MAIL_CONFIG"] = str(self.etc)
        e.pop("NAME", None)
        e.update(env or {})
        if isinstance(input, str):
            input = input.encode()
        return subprocess.run([str(self.build / "sbin" / prog), *map(str, args)], input=input,
                              capture_output=True, env=e, timeout=60, **kw)

    def files(self):
        return sorted(os.listdir(self.queue / "maildrop"))

    def only_message(self) -> Message:
        names = self.files()
        assert len(names) == 1, names
        assert QUEUE_ID.match(names[0]), names
        return Message(self.queue / "maildrop" / names[0])

    def logtext(self):
        return self.log.read_text(errors="replace")


@pytest.fixture
def inst(postern_build, tmp_path):
    i = Inst(postern_build, tmp_path)
    yield i
    i.close()


def err(r):
    return r.stderr.decode(errors="replace")


# ---- the default mode: a message on standard input ----

def test_basic_submission(inst):
    r = inst.sendmail("-f", "joe@example.com", "-F", "Joe User", "ann@example.org",
                      input="Subject: hello\nTo: ann@example.org\n\nbody\n")
    assert r.returncode == 0, err(r)
    m = inst.only_message()
    assert m.types[0] == TIME and re.match(rb"^\d+\.\d{6}$", m.records[0][1])
    assert m.attrs == {"rewrite_context": "local", "full_name": "Joe User"}
    assert m.sender == "joe@example.com"
    assert m.rcpts == ["ann@example.org"]
    assert m.lines == [b"Subject: hello", b"To: ann@example.org", b"", b"body"]
    assert m.types[-2:] == [XTRA, END]
    # complete, readable by mail_owner, owned by the submitting user
    assert stat.S_IMODE(m.stat.st_mode) == 0o644
    assert m.stat.st_uid == os.getuid()
    assert m.stat.st_nlink == 1
    # the time is postdrop's clock
    assert abs(float(m.records[0][1]) - time.time()) < 60


def test_default_sender_and_full_name_from_environment(inst):
    r = inst.sendmail("ann", env={"NAME": "Name From\nEnv"})
    assert r.returncode == 0, err(r)
    m = inst.only_message()
    assert m.sender == pwd.getpwuid(os.getuid()).pw_name
    assert m.attrs["full_name"] == "Name From Env"       # no control characters
    assert m.rcpts == ["ann"]


def test_sender_forms(inst):
    for arg, want in (("", ""), ("<>", ""), ("Joe <joe@example.com>", "joe@example.com"),
                      ("<bob@example.com>", "bob@example.com")):
        for f in os.listdir(inst.queue / "maildrop"):
            os.unlink(inst.queue / "maildrop" / f)
        r = inst.sendmail("-f", arg, "ann")
        assert r.returncode == 0, err(r)
        assert inst.only_message().sender == want
    r = inst.sendmail("-r", "old@example.com", "ann")
    assert r.returncode == 0


def test_malformed_sender(inst):
    r = inst.sendmail("-f", "a@b, c@d", "ann")
    assert r.returncode == EX_USAGE
    assert "-f option specified malformed sender" in err(r)
    assert inst.files() == []


def test_recipient_lists_on_command_line(inst):
    r = inst.sendmail("ann@example.org, Bob <bob@example.org>", "carol")
    assert r.returncode == 0, err(r)
    assert inst.only_message().rcpts == ["ann@example.org", "bob@example.org", "carol"]


def test_no_recipients(inst):
    r = inst.sendmail()
    assert r.returncode == EX_USAGE
    assert "Recipient addresses must be specified on the command line or via the -t option" \
        in err(r)
    assert inst.files() == []


def test_dot_ends_input_by_default(inst):
    r = inst.sendmail("ann", input="Subject: x\n\nline\n..dots stay\n.\nafter the dot\n")
    assert r.returncode == 0, err(r)
    assert inst.only_message().lines == [b"Subject: x", b"", b"line", b"..dots stay"]


@pytest.mark.parametrize("flag", ["-i", "-oi"])
def test_dot_with_i(inst, flag):
    r = inst.sendmail(flag, "ann", input="Subject: x\n\n.\nafter\n")
    assert r.returncode == 0, err(r)
    assert inst.only_message().lines == [b"Subject: x", b"", b".", b"after"]


def test_crlf_becomes_lf(inst):
    r = inst.sendmail("ann", input=b"Subject: x\r\n\r\nbody\r\n.\r\nnot this\r\n")
    assert r.returncode == 0, err(r)
    assert inst.only_message().lines == [b"Subject: x", b"", b"body"]


def test_fix_line_endings_never_and_strict(inst):
    inst.write_main(sendmail_fix_line_endings="never")
    assert inst.sendmail("ann", input=b"A: b\r\n\r\nx\r\n").returncode == 0
    assert inst.only_message().lines == [b"A: b\r", b"\r", b"x\r"]
    os.unlink(inst.only_message().path)
    inst.write_main(sendmail_fix_line_endings="strict")
    assert inst.sendmail("ann", input=b"A: b\n\nx\r\n").returncode == 0
    assert inst.only_message().lines == [b"A: b", b"", b"x\r"]


def test_from_line_dropped_and_last_line_kept(inst):
    r = inst.sendmail("ann", input="From joe Thu Jan  1 00:00:00 1970\nSubject: x\n\nno newline")
    assert r.returncode == 0, err(r)
    assert inst.only_message().lines == [b"Subject: x", b"", b"no newline"]


def test_long_lines_in_pieces(inst):
    inst.write_main(line_length_limit=100)
    long = b"x" * 250
    r = inst.sendmail("ann", input=b"Subject: x\n\n" + long + b"\r\nshort\n")
    assert r.returncode == 0, err(r)
    m = inst.only_message()
    assert m.lines == [b"Subject: x", b"", long, b"short"]
    assert CONT in m.types
    assert all(len(d) <= 100 for t, d in m.records if t in (NORM, CONT))


def test_empty_message(inst):
    r = inst.sendmail("ann", input=b"")
    assert r.returncode == 0, err(r)
    assert inst.only_message().lines == []


def test_binary_content_passes(inst):
    r = inst.sendmail("ann", input=b"Subject: x\n\n\x00\xff\x7f\n")
    assert r.returncode == 0, err(r)
    assert inst.only_message().lines[-1] == b"\x00\xff\x7f"


# ---- -t ----

def test_extract_recipients(inst):
    r = inst.sendmail("-t", input="To: Ann <ann@example.org>,\n bob@example.org\n"
                                  "Bcc: secret@example.org\nSubject: x\n\nTo: not@me\n")
    assert r.returncode == 0, err(r)
    m = inst.only_message()
    assert m.attrs["extract_recipients"] == "yes"
    assert m.rcpts == []                        # cleanup takes them from the headers
    assert m.lines[0] == b"To: Ann <ann@example.org>,"


def test_extract_plus_command_line(inst):
    r = inst.sendmail("-t", "-N", "never", "carol", input="Cc: ann\n\nx\n")
    assert r.returncode == 0, err(r)
    m = inst.only_message()
    assert m.rcpts == ["carol"]
    assert m.attrs["dsn_notify"] == "1"        # for the extracted ones too


@pytest.mark.parametrize("message", [
    "Subject: no recipients\n\nTo: body@example.org\n",
    "Subject: x\nTo: undisclosed-recipients:;\n\nbody\n",
    "",
    "not a header\nTo: ann@example.org\n",
])
def test_extract_without_recipients(inst, message):
    r = inst.sendmail("-t", input=message)
    assert r.returncode == EX_USAGE, err(r)
    assert "No recipient addresses found in message header" in err(r)
    assert inst.files() == []


def test_extract_resent_and_bcc_only(inst):
    for hdr in ("Resent-To: ann\n", "Bcc: ann\n", "cc : ann\n"):
        for f in inst.files():
            os.unlink(inst.queue / "maildrop" / f)
        r = inst.sendmail("-t", input=f"Subject: x\n{hdr}\nbody\n")
        assert r.returncode == 0, (hdr, err(r))
        inst.only_message()


# ---- DSN and other options ----

def test_dsn_options(inst):
    r = inst.sendmail("-N", "success, delay", "-R", "hdrs", "-V", "ENV-123", "-B", "8BITMIME",
                      "ann", "bob")
    assert r.returncode == 0, err(r)
    m = inst.only_message()
    assert m.attrs["dsn_ret"] == "HDRS"
    assert m.attrs["dsn_envid"] == "ENV-123"
    assert m.attrs["encoding"] == "8bit"
    env = [(t, d) for t, d in m.envelope if t in (NOTIFY, RCPT)]
    assert env == [(NOTIFY, b"10"), (RCPT, b"ann"), (NOTIFY, b"10"), (RCPT, b"bob")]


@pytest.mark.parametrize("args,text", [
    (["-N", "sometimes"], "bad -N option value"),
    (["-N", "never,success"], "bad -N option value"),
    (["-R", "some"], "-R option needs hdrs or full"),
    (["-V", "a" * 101], "bad -V option value"),
    (["-V", "bad\x01id"], "bad -V option value"),
    (["-B", "BINARYMIME"], "-B option needs 8BITMIME or 7BIT"),
    (["-Z"], "unknown option: -Z"),
    (["-bz"], "unsupported: -bz"),
    (["-qX"], "bad -q option"),
])
def test_bad_options(inst, args, text):
    r = inst.sendmail(*args, "ann")
    assert r.returncode == EX_USAGE, err(r)
    assert text in err(r)
    assert inst.files() == []


def test_legacy_options_are_ignored(inst):
    r = inst.sendmail("-oem", "-odi", "-oi", "-o7", "-o8", "-om", "-m", "-n", "-U", "-Am",
                      "-Ac", "-h", "17", "-L", "label", "-O", "DeliveryMode=b", "-X",
                      "/dev/null", "-x", "-c", "-bh", "-q30m", "-v", "-pSMTP", "--", "ann",
                      input="Subject: x\n\n.\nmore\n")
    assert r.returncode == 0, err(r)
    assert err(r) == ""                         # silently
    m = inst.only_message()
    assert m.rcpts == ["ann"]
    assert m.lines[-1] == b"more"              # -oi was honoured


def test_gateway_submission(inst):
    assert inst.sendmail("-G", "ann").returncode == 0
    assert inst.only_message().attrs["rewrite_context"] == "remote"


def test_verp_option_warns(inst):
    r = inst.sendmail("-XV", "-f", "list@example.com", "ann")
    assert r.returncode == 0
    assert "-XV: variable envelope return paths are not supported" in err(r)


def test_config_options(inst, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "main.cf").write_text((inst.etc / "main.cf").read_text()
                                   + "message_size_limit = 10\n")
    env = {"MAIL_CONFIG": "/nonexistent"}
    for args in (["-C", other], ["-C", other / "main.cf"], ["-c", other]):
        r = inst.sendmail(*args, "ann", env=env)
        assert r.returncode == EX_DATAERR, (args, err(r))   # the small limit applies
        assert "message file too big" in err(r)
    r = inst.sendmail("-C", inst.etc, "ann", env=env)
    assert r.returncode == 0, err(r)


def test_message_size_limit(inst):
    inst.write_main(message_size_limit=2000)
    r = inst.sendmail("ann", input="Subject: big\n\n" + "x" * 100 + "\n" + "y" * 3000 + "\n")
    assert r.returncode == EX_DATAERR, err(r)
    assert "message file too big" in err(r)
    assert inst.files() == []                   # no temporary file left either
    r = inst.sendmail("-t", input="To: ann\n" + "X-Long: " + "z" * 3000 + "\n\nbody\n")
    assert r.returncode == EX_DATAERR, err(r)
    assert inst.files() == []
    assert inst.sendmail("ann", input="Subject: small\n\nok\n").returncode == 0


def test_authorized_submit_users(inst):
    me = pwd.getpwuid(os.getuid()).pw_name
    inst.write_main(authorized_submit_users=f"!{me}, static:anyone")
    r = inst.sendmail("ann")
    assert r.returncode == EX_NOPERM
    assert f"User {me}({os.getuid()}) is not allowed to submit mail" in err(r)
    inst.write_main(authorized_submit_users="")
    assert inst.sendmail("ann").returncode == EX_NOPERM
    # postdrop checks for itself, whatever sendmail did
    r = run([inst.build / "sbin" / "postdrop", "-c", inst.etc], input="")
    assert r.returncode == EX_NOPERM
    assert inst.files() == []
    inst.write_main(authorized_submit_users=me)
    assert inst.sendmail("ann").returncode == 0


def test_missing_queue_is_a_temporary_failure(inst):
    shutil.rmtree(inst.queue / "maildrop")
    r = inst.sendmail("ann")
    assert r.returncode == EX_TEMPFAIL, err(r)
    assert "create file maildrop/" in err(r)


def test_missing_postdrop(inst, tmp_path):
    empty = tmp_path / "nocommands"
    empty.mkdir()
    inst.write_main(command_directory=empty)
    r = inst.sendmail("ann")
    assert r.returncode == EX_UNAVAILABLE
    assert "unable to execute" in err(r) and "postdrop" in err(r)


def test_pickup_not_running_warns_but_queues(inst):
    inst.close()
    os.unlink(inst.queue / "public" / "pickup")
    r = inst.sendmail("ann")
    assert r.returncode == 0
    assert "postdrop: warning: unable to look up public/pickup" in err(r)
    assert len(inst.files()) == 1
    assert "postern/postdrop[" in inst.logtext()


# ---- modes that run other commands ----

@pytest.fixture
def fake_commands(inst, tmp_path):
    """A command_directory whose postqueue, postalias, postern print their arguments."""
    d = tmp_path / "bin"
    d.mkdir()
    for name in ("postqueue", "postalias", "postern"):
        p = d / name
        p.write_text(f'#!/bin/sh\necho "{name} $*"\necho "MAIL_CONFIG=$MAIL_CONFIG"\n')
        p.chmod(0o755)
    os.symlink(inst.build / "sbin" / "postdrop", d / "postdrop")
    os.symlink(inst.build / "sbin" / "sendmail", d / "sendmail")
    os.symlink("sendmail", d / "mailq")
    os.symlink("sendmail", d / "newaliases")
    inst.write_main(command_directory=d, alias_database="hash:/etc/a1, cdb:/etc/a2")
    return d


def out(r):
    return r.stdout.decode()


def test_mailq_and_bp(inst, fake_commands):
    for r in (inst.sendmail("-bp", input=""), run([fake_commands / "mailq"],
                                                   env={**os.environ,
                                                        "MAIL_CONFIG": str(inst.etc)})):
        text = r.stdout if isinstance(r.stdout, str) else out(r)
        assert r.returncode == 0
        assert text.splitlines()[0] == "postqueue -p"


def test_mailq_link_in_build(postern_build):
    link = postern_build / "sbin" / "mailq"
    assert link.is_symlink() and os.readlink(link) == "sendmail"


def test_mailq_without_postqueue(inst, tmp_path):
    inst.write_main(command_directory=tmp_path)
    r = inst.sendmail("-bp", input="")
    assert r.returncode == EX_UNAVAILABLE
    assert "sendmail: fatal: postqueue: not available" in err(r)
    mailq = tmp_path / "mailq"
    os.symlink(inst.build / "sbin" / "sendmail", mailq)
    r = run([mailq], env={**os.environ, "MAIL_CONFIG": str(inst.etc)})
    assert r.returncode == EX_UNAVAILABLE
    assert "mailq: fatal: postqueue: not available" in r.stderr


def test_flush_modes(inst, fake_commands):
    assert out(inst.sendmail("-q", input="")).splitlines()[0] == "postqueue -f"
    assert out(inst.sendmail("-qRexample.com", input="")).splitlines()[0] \
        == "postqueue -s example.com"
    assert out(inst.sendmail("-qI3F2A81C0D5", input="")).splitlines()[0] \
        == "postqueue -i 3F2A81C0D5"
    r = inst.sendmail("-qSexample.com", input="")
    assert r.returncode == EX_UNAVAILABLE


def test_flush_without_postqueue_triggers_qmgr(inst, tmp_path):
    bare = tmp_path / "bare"                   # postdrop but no postqueue
    bare.mkdir()
    os.symlink(inst.build / "sbin" / "postdrop", bare / "postdrop")
    inst.write_main(command_directory=bare)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(inst.queue / "public" / "qmgr"))
    s.listen(1)
    s.settimeout(10)
    try:
        r = inst.sendmail("-q", input="")
        assert r.returncode == 0, err(r)
        conn, _ = s.accept()
        assert conn.recv(100) == b"FADI"
        conn.close()
    finally:
        s.close()
    os.unlink(inst.queue / "public" / "qmgr")
    r = inst.sendmail("-q", input="")
    assert r.returncode == EX_UNAVAILABLE
    assert "cannot flush the mail queue" in err(r)


def test_newaliases_modes(inst, fake_commands):
    for args in (["-bi"], ["-I"]):
        r = inst.sendmail(*args, input="")
        assert r.returncode == 0, err(r)
        assert out(r).splitlines()[0] == "postalias hash:/etc/a1 cdb:/etc/a2"
    r = run([fake_commands / "newaliases"], env={**os.environ, "MAIL_CONFIG": str(inst.etc)})
    assert r.stdout.splitlines()[0] == "postalias hash:/etc/a1 cdb:/etc/a2"
    r = inst.sendmail("-bi", "-oAhash:/tmp/other", input="")
    assert out(r).splitlines()[0] == "postalias hash:/tmp/other"
    # the configuration directory reaches the command
    assert out(r).splitlines()[1] == f"MAIL_CONFIG={inst.etc}"


def test_daemon_mode(inst, fake_commands):
    r = inst.sendmail("-bd", "-q1h", input="")
    assert r.returncode == 0
    assert out(r).splitlines()[0] == "postern start"


def test_verify_mode_not_supported(inst):
    r = inst.sendmail("-bv", "ann", input="")
    assert r.returncode == EX_UNAVAILABLE
    assert inst.files() == []


# ---- -bs ----

class Smtp:
    def __init__(self, inst, *args):
        env = dict(os.environ, MAIL_CONFIG=str(inst.etc))
        self.p = subprocess.Popen([str(inst.build / "sbin" / "sendmail"), "-bs", *args],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env)

    def reply(self):
        lines = []
        while True:
            line = self.p.stdout.readline().decode()
            assert line.endswith("\r\n"), lines + [line]
            lines.append(line[:-2])
            if line[3:4] != "-":
                return lines

    def cmd(self, text):
        self.p.stdin.write(text.encode() + b"\r\n")
        self.p.stdin.flush()
        return self.reply()

    def close(self):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        return self.p.wait(30)


def test_bs_session(inst):
    s = Smtp(inst)
    assert s.reply()[0].startswith("220 ")
    ehlo = s.cmd("EHLO client.example")
    assert ehlo[0].startswith("250-")
    assert {"250-PIPELINING", "250-8BITMIME", "250-DSN", "250 ENHANCEDSTATUSCODES"} <= set(ehlo)
    assert s.cmd("RCPT TO:<ann@example.org>")[0].startswith("503 ")
    assert s.cmd("MAIL FROM:<joe@example.com> BODY=8BITMIME RET=HDRS ENVID=ab+2Bc")[0] \
        == "250 2.1.0 Ok"
    assert s.cmd("RCPT TO:<ann@example.org> NOTIFY=FAILURE ORCPT=rfc822;ann+40example.org")[0] \
        == "250 2.1.5 Ok"
    assert s.cmd("RCPT TO:<bob@example.org>")[0] == "250 2.1.5 Ok"
    assert s.cmd("DATA")[0].startswith("354 ")
    s.p.stdin.write(b"Subject: smtp\r\n\r\n..leading dot\r\nline\r\n.\r\n")
    s.p.stdin.flush()
    queued = s.reply()[0]
    m1 = re.match(r"^250 2\.0\.0 Ok: queued as ([0-9A-F]+)$", queued)
    assert m1, queued
    # a second message in the same session
    assert s.cmd("MAIL FROM:<>")[0] == "250 2.1.0 Ok"
    assert s.cmd("RCPT TO:<carol>")[0] == "250 2.1.5 Ok"
    assert s.cmd("DATA")[0].startswith("354 ")
    s.p.stdin.write(b"Subject: two\n\nbare LF\n.\n")
    s.p.stdin.flush()
    m2 = re.match(r"^250 2\.0\.0 Ok: queued as ([0-9A-F]+)$", s.reply()[0])
    assert m2
    assert s.cmd("QUIT")[0] == "221 2.0.0 Bye"
    assert s.close() == 0

    first = Message(inst.queue / "maildrop" / m1.group(1))
    assert first.sender == "joe@example.com"
    assert first.rcpts == ["ann@example.org", "bob@example.org"]
    assert first.attrs["encoding"] == "8bit"
    assert first.attrs["dsn_ret"] == "HDRS"
    assert first.attrs["dsn_envid"] == "ab+c"
    assert (NOTIFY, b"4") in first.envelope
    assert (DSN_ORCPT, b"rfc822;ann+40example.org") in first.envelope
    assert first.lines == [b"Subject: smtp", b"", b".leading dot", b"line"]
    assert first.stat.st_uid == os.getuid()
    second = Message(inst.queue / "maildrop" / m2.group(1))
    assert second.sender == "" and second.rcpts == ["carol"]
    assert second.lines == [b"Subject: two", b"", b"bare LF"]


def test_bs_errors(inst):
    inst.write_main(message_size_limit=1000)
    s = Smtp(inst)
    s.reply()
    assert s.cmd("HELO")[0].startswith("501 ")
    assert s.cmd("MAIL FROM:<a@b> SIZE=5000")[0].startswith("552 ")
    assert s.cmd("MAIL FROM:<a@b> FOO=bar")[0].startswith("555 ")
    assert s.cmd("MAIL FROM:<bad address>")[0].startswith("501 ")
    assert s.cmd("MAIL FROM:<a@b>")[0].startswith("250 ")
    assert s.cmd("MAIL FROM:<a@b>")[0].startswith("503 ")
    assert s.cmd("DATA")[0].startswith("554 ")
    assert s.cmd("RCPT TO:<>")[0].startswith("501 ")
    assert s.cmd("RCPT TO:<x@y>")[0].startswith("250 ")
    assert s.cmd("VRFY x")[0].startswith("502 ")
    assert s.cmd("BOGUS")[0].startswith("502 ")
    assert s.cmd("DATA")[0].startswith("354 ")
    s.p.stdin.write(b"Subject: big\r\n\r\n" + b"x" * 900 + b"\r\n" + b"y" * 900 + b"\r\n.\r\n")
    s.p.stdin.flush()
    assert s.reply()[0].startswith("552 ")
    assert s.cmd("RSET")[0] == "250 2.0.0 Ok"
    assert s.cmd("NOOP")[0] == "250 2.0.0 Ok"
    assert s.cmd("QUIT")[0].startswith("221")
    s.close()
    assert inst.files() == []


def test_bs_client_disconnects_mid_data(inst):
    s = Smtp(inst)
    s.reply()
    s.cmd("MAIL FROM:<a@b>")
    s.cmd("RCPT TO:<c@d>")
    s.cmd("DATA")
    s.p.stdin.write(b"Subject: cut\r\n\r\nhalf a mess")
    assert s.close() == 0
    assert inst.files() == []                   # nothing queued, no temporary file


def test_bs_too_many_errors(inst):
    s = Smtp(inst)
    s.reply()
    for _ in range(19):
        assert s.cmd("BOGUS")[0].startswith("502 ")
    lines = s.cmd("BOGUS")
    assert lines[0].startswith("502 ")
    assert s.reply()[0].startswith("421 ")
    assert s.close() == 73 or s.p.returncode != 0


# ---- postdrop itself: it trusts nothing sendmail-like clients send ----

def stream(*records):
    return b"".join(rec(t, d) for t, d in records)


GOOD = [(TIME, "1.000000"), (ATTR, "rewrite_context=local"), (FROM, "joe"), (RCPT, "ann"),
        (MESG, ""), (NORM, "Subject: x"), (NORM, ""), (NORM, "hi"), (XTRA, ""), (END, "")]


def postdrop(inst, data, *args):
    return subprocess.run([str(inst.build / "sbin" / "postdrop"), "-c", str(inst.etc), *args],
                          input=data, capture_output=True, timeout=60)


def test_postdrop_stores_and_reports_id(inst):
    r = postdrop(inst, stream(*GOOD), "-r")
    assert r.returncode == 0, err(r)
    qid = r.stdout.decode().strip()
    assert inst.files() == [qid]
    m = inst.only_message()
    assert m.records[0][1] != b"1.000000"     # postdrop's own clock
    assert [t for t, _ in m.records] == [t for t, _ in GOOD]


@pytest.mark.parametrize("records,status,text", [
    (GOOD[:2] + [(ATTR, "client_address=192.0.2.1")] + GOOD[2:], EX_DATAERR,
     "attribute not allowed: client_address"),
    (GOOD[:2] + [(ATTR, "origin=smtpd")] + GOOD[2:], EX_DATAERR, "attribute not allowed"),
    ([(SIZE, "1 2 3")] + GOOD, EX_DATAERR, "where time was expected"),
    (GOOD[:3] + [(RCPT, "a\nb")] + GOOD[4:], EX_DATAERR, "bad recipient address"),
    (GOOD + [(NORM, "after end")], EX_DATAERR, "data after end of message"),
    (GOOD[:-1], EX_NOINPUT, "premature end of input"),
    (GOOD[:5], EX_NOINPUT, "premature end of input"),
    ([], EX_NOINPUT, "premature end of input"),
])
def test_postdrop_refuses_bad_input(inst, records, status, text):
    r = postdrop(inst, stream(*records))
    assert r.returncode == status, err(r)
    assert text in err(r)
    assert inst.files() == []                   # nothing half-written stays


def test_postdrop_garbage_and_truncated_framing(inst):
    good = stream(*GOOD)
    for data in (b"\xff\xff\xff", good[:len(good) - 1], b"T\x85", b"\x00"):
        r = postdrop(inst, data)
        assert r.returncode in (EX_DATAERR, EX_NOINPUT), err(r)
        assert inst.files() == []


def test_postdrop_killed_mid_input_leaves_nothing(inst):
    p = subprocess.Popen([str(inst.build / "sbin" / "postdrop"), "-c", str(inst.etc)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(stream(*GOOD[:6]))
    p.stdin.flush()
    deadline = time.monotonic() + 10
    while not inst.files() and time.monotonic() < deadline:
        time.sleep(0.02)
    names = inst.files()
    assert len(names) == 1 and names[0].startswith("tmp.")     # still being written
    p.send_signal(signal.SIGTERM)
    assert p.wait(10) == EX_TEMPFAIL
    p.stdin.close()
    p.stdout.close()
    p.stderr.close()
    assert inst.files() == []


def test_postdrop_usage(inst):
    r = postdrop(inst, b"", "extra")
    assert r.returncode == EX_USAGE


# ---- as root: set-gid postdrop run by an ordinary user ----

def accounts_for_tests():
    for owner in ("postern", "nobody"):
        try:
            owner_gid = pwd.getpwnam(owner).pw_gid
            break
        except KeyError:
            continue
    else:
        pytest.skip("no unprivileged account")
    for group in ("postdrop", "mail", "daemon", "adm"):
        try:
            if grp.getgrnam(group).gr_gid != owner_gid:
                return owner, group
        except KeyError:
            pass
    pytest.skip("no group for setgid_group")


@pytest.fixture
def setgid_inst(postern_build):
    """Queue and commands laid out as installed: maildrop 1730, postdrop set-gid."""
    if not IS_ROOT:
        pytest.skip("needs root")
    owner, group = accounts_for_tests()
    base = Path(tempfile.mkdtemp(prefix="postern-sendmail-", dir="/tmp"))
    base.chmod(0o755)
    inst = Inst(postern_build, base)
    sbin = base / "sbin"
    sbin.mkdir()
    shutil.copy(postern_build / "sbin" / "sendmail", sbin / "sendmail")
    shutil.copy(postern_build / "sbin" / "postdrop", sbin / "postdrop")
    gid = grp.getgrnam(group).gr_gid
    os.chown(sbin / "postdrop", 0, gid)
    os.chmod(sbin / "postdrop", 0o2755)
    inst.write_main(command_directory=sbin, mail_owner=owner, setgid_group=group)
    os.chmod(inst.log, 0o666)
    r = run([postern_build / "sbin" / "postern", "-c", inst.etc, "check"])
    assert r.returncode == 0, r.stderr
    inst.owner, inst.group = owner, group
    # the submitting user: neither root nor mail_owner
    for name in ("games", "man", "lp", "bin", "daemon", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        if pw.pw_uid not in (0, pwd.getpwnam(owner).pw_uid):
            inst.user = name
            break
    else:
        pytest.skip("no ordinary user account")
    yield inst
    inst.close()
    shutil.rmtree(base, ignore_errors=True)


def as_user(inst, args, input=b"Subject: x\n\nhi\n", env=None):
    e = {"PATH": "/usr/bin:/bin", "MAIL_CONFIG": str(inst.etc)}
    e.update(env or {})
    pw = pwd.getpwnam(inst.user)
    return subprocess.run(["setpriv", "--reuid", str(pw.pw_uid), "--regid", str(pw.pw_gid),
                           "--clear-groups", *map(str, args)], input=input,
                          capture_output=True, env=e, timeout=60)


def test_setgid_postdrop_file_belongs_to_user(setgid_inst):
    inst = setgid_inst
    md = inst.queue / "maildrop"
    st = md.stat()
    assert stat.S_IMODE(st.st_mode) == 0o1730
    assert st.st_gid == grp.getgrnam(inst.group).gr_gid
    r = as_user(inst, [inst.base / "sbin" / "sendmail", "-f", "forged@example.com", "ann"])
    assert r.returncode == 0, err(r)
    m = inst.only_message()
    nobody = pwd.getpwnam(inst.user)
    assert m.stat.st_uid == nobody.pw_uid       # the real user, whatever -f said
    assert stat.S_IMODE(m.stat.st_mode) == 0o644
    assert m.sender == "forged@example.com"
    # the user can neither list maildrop nor reach the file
    r = as_user(inst, ["ls", md])
    assert r.returncode != 0
    r = as_user(inst, ["cat", m.path])
    assert r.returncode != 0


def test_setgid_postdrop_refuses_user_config(setgid_inst, tmp_path):
    inst = setgid_inst
    mine = Path(tempfile.mkdtemp(prefix="postern-userconf-", dir="/tmp"))
    try:
        (mine / "main.cf").write_text((inst.etc / "main.cf").read_text())
        os.chown(mine, pwd.getpwnam(inst.user).pw_uid, -1)
        os.chown(mine / "main.cf", pwd.getpwnam(inst.user).pw_uid, -1)
        mine.chmod(0o755)
        r = as_user(inst, [inst.base / "sbin" / "postdrop"], input=stream(*GOOD),
                    env={"MAIL_CONFIG": str(mine)})
        assert r.returncode == EX_NOPERM, err(r)
        assert "not an authorized configuration directory" in err(r)
        r = as_user(inst, [inst.base / "sbin" / "postdrop", "-c", mine], input=stream(*GOOD))
        assert r.returncode == EX_NOPERM
        assert inst.files() == []
        # a directory that only root controls is accepted
        r = as_user(inst, [inst.base / "sbin" / "postdrop"], input=stream(*GOOD))
        assert r.returncode == 0, err(r)
    finally:
        shutil.rmtree(mine, ignore_errors=True)


def test_setgid_postdrop_hostile_input(setgid_inst):
    inst = setgid_inst
    bad = stream(*(GOOD[:2] + [(ATTR, "submit_uid=0")] + GOOD[2:]))
    r = as_user(inst, [inst.base / "sbin" / "postdrop"], input=bad)
    assert r.returncode == EX_DATAERR
    assert inst.files() == []


# ---- the whole path: sendmail -> postdrop -> pickup -> cleanup -> incoming/ ----

def queue_file_records(path: Path):
    return parse_records(path.read_bytes())


@pytest.fixture
def running(postern_build):
    base = Path(tempfile.mkdtemp(prefix="postern-submit-", dir="/tmp" if IS_ROOT else None))
    base.chmod(0o755)
    inst = Inst(postern_build, base)
    inst.close()
    os.unlink(inst.queue / "public" / "pickup")        # master makes the real one
    if not (postern_build / "libexec" / "cleanup").exists():
        pytest.skip("cleanup(8) is not built")
    if IS_ROOT:
        owner, group = accounts_for_tests()
        inst.write_main(mail_owner=owner, setgid_group=group)
        os.chmod(inst.log, 0o666)
    else:
        inst.write_main(mail_owner=pwd.getpwuid(os.getuid()).pw_name)
    inst.write_main(myhostname="host.example.com", mydomain="example.com",
                    master_stop_time="2s", service_throttle_time="2s")
    (inst.etc / "master.cf").write_text(
        "cleanup unix n y n - 0 cleanup\n"   # lib/cleanup_proto.h: public/cleanup
        "pickup unix n y n 60 1 pickup\n")
    r = run([postern_build / "sbin" / "postern", "-c", inst.etc, "start"])
    assert r.returncode == 0, r.stderr
    pid = int((inst.queue / "pid" / "master.pid").read_text())
    yield inst
    run([postern_build / "sbin" / "postern", "-c", inst.etc, "stop"])
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    shutil.rmtree(base, ignore_errors=True)


def wait_for(pred, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    return None


def test_sendmail_t_reaches_the_queue(running):
    inst = running
    r = inst.sendmail("-t", "-F", "Joe User", "-f", "joe",
                      input="To: Ann <ann@example.org>\nBcc: secret@example.org\n"
                            "Subject: end to end\n\nhello\n")
    assert r.returncode == 0, err(r)
    incoming = inst.queue / "incoming"
    names = wait_for(lambda: os.listdir(incoming))
    assert names, inst.logtext()
    assert wait_for(lambda: inst.files() == [])
    qid = names[0]
    assert re.search(rf"postern/pickup\[\d+\]: {qid}: uid={os.getuid()} from=<joe>",
                     inst.logtext()), inst.logtext()
    recs = queue_file_records(incoming / qid)
    rcpts = sorted(d for t, d in recs if t == RCPT)
    assert rcpts == [b"ann@example.org", b"secret@example.org"]
    body = b"\n".join(d for t, d in recs if t == NORM)
    assert b"Bcc:" not in body                  # removed, but still a recipient
    assert b"Subject: end to end" in body
    assert next(d for t, d in recs if t == FROM).startswith(b"joe@")


# ---- acceptance: sendmail -t -> postdrop -> pickup -> cleanup -> qmgr -> local -> Maildir ----

CHAIN = ("cleanup", "qmgr", "local", "pickup")


@pytest.fixture
def chain(postern_build):
    missing = [p for p in CHAIN if not (postern_build / "libexec" / p).exists()]
    if missing:
        pytest.skip(f"not built yet: {', '.join(missing)}")
    return postern_build


@pytest.fixture
def mailbox_user():
    """A throwaway account when root; the running user otherwise."""
    if not IS_ROOT:
        yield pwd.getpwuid(os.getuid())
        return
    from test_local_harness import Users
    base = Path(tempfile.mkdtemp(prefix="postern-smusers-", dir="/tmp"))
    base.chmod(0o755)
    u = Users(base)
    yield u.add("sm")
    u.remove_all()
    shutil.rmtree(base, ignore_errors=True)


def start_chain(instance_factory, **main):
    params = {"mydestination": "$myhostname, localhost", "home_mailbox": "Maildir/"}
    params.update(main)
    inst = instance_factory(main=params)
    inst.start()
    return inst


def sendmail_to(inst, *args, input, user=None, sbin=None):
    cmd = [str((sbin or inst.build / "sbin") / "sendmail"), "-C", str(inst.etc), *args]
    if user is not None:
        cmd = ["setpriv", "--reuid", str(user.pw_uid), "--regid", str(user.pw_gid),
               "--clear-groups", *cmd]
    return subprocess.run(cmd, input=input.encode(), capture_output=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})


def maildir_wait(inst, md, count=1, timeout=30):
    from test_local_harness import maildir_messages
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msgs = maildir_messages(md)
        if len(msgs) >= count:
            return msgs
        time.sleep(0.1)
    raise AssertionError(f"no Maildir delivery to {md}\n--- maillog ---\n{inst.logtext()}")


def test_sendmail_t_to_maildir(chain, instance_factory, mailbox_user):
    inst = start_chain(instance_factory)
    rcpt = f"{mailbox_user.pw_name}@mx.example.com"
    r = sendmail_to(inst, "-t", "-F", "Cron Daemon", "-f", "cron",
                    input=f"To: {rcpt}\nBcc: {mailbox_user.pw_name}\nSubject: nightly\n\n"
                          "all is well\n.\nnot part of it\n")
    assert r.returncode == 0, err(r)
    msgs = maildir_wait(inst, Path(mailbox_user.pw_dir) / "Maildir")
    text = msgs[0]
    assert text.startswith("Return-Path: <cron@mx.example.com>\n")
    assert "Subject: nightly\n" in text
    assert "Bcc:" not in text
    assert "\nall is well\n" in text and "not part of it" not in text
    assert re.search(r"(?m)^From: Cron Daemon <cron@mx\.example\.com>$", text)
    assert re.search(r"(?m)^Message-I[Dd]: <", text) and re.search(r"(?m)^Date: ", text)
    inst.wait_log(rf"postern/pickup\[\d+\]: \w+: uid={os.getuid()} from=<cron>")
    inst.wait_log(rf"postern/local\[\d+\]: \w+: to=<{rcpt}>.*status=sent")
    # the duplicate (Bcc: to the same user) is delivered once
    time.sleep(0.5)
    assert len(maildir_wait(inst, Path(mailbox_user.pw_dir) / "Maildir")) == 1


def test_sendmail_full_name_is_quoted_when_needed(chain, instance_factory, mailbox_user):
    inst = start_chain(instance_factory)
    rcpt = f"{mailbox_user.pw_name}@mx.example.com"
    r = sendmail_to(inst, "-F", 'Doe, "J"', "-f", "jd", rcpt, input="Subject: q\n\nbody\n")
    assert r.returncode == 0, err(r)
    text = maildir_wait(inst, Path(mailbox_user.pw_dir) / "Maildir")[0]
    assert re.search(r'(?m)^From: "Doe, \\"J\\"" <jd@mx\.example\.com>$', text), text


@root_only
def test_user_submission_with_setgid_postdrop_to_maildir(chain, instance_factory, mailbox_user):
    inst = start_chain(instance_factory)
    sbin = inst.base / "sbin"
    sbin.mkdir()
    shutil.copy(inst.build / "sbin" / "sendmail", sbin / "sendmail")
    shutil.copy(inst.build / "sbin" / "postdrop", sbin / "postdrop")
    os.chown(sbin / "postdrop", 0, grp.getgrnam(inst.group).gr_gid)
    os.chmod(sbin / "postdrop", 0o2755)
    inst.write_main(command_directory=sbin)
    md = inst.queue / "maildrop"
    assert stat.S_IMODE(md.stat().st_mode) == 0o1730
    r = sendmail_to(inst, mailbox_user.pw_name, user=mailbox_user, sbin=sbin,
                    input="Subject: from a user\n\nhello\n")
    assert r.returncode == 0, err(r)
    msgs = maildir_wait(inst, Path(mailbox_user.pw_dir) / "Maildir")
    assert msgs[0].startswith(f"Return-Path: <{mailbox_user.pw_name}@mx.example.com>\n")
    inst.wait_log(rf"postern/pickup\[\d+\]: \w+: uid={mailbox_user.pw_uid} "
                  rf"from=<{mailbox_user.pw_name}>")
