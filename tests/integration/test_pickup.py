"""pickup(8): maildrop/ files to cleanup, with a stand-in cleanup server.

Most tests run pickup stand-alone (-S: one wake-up read from standard
input, one scan of maildrop/, then exit) against a private queue
directory whose public/cleanup socket is served by a small Python
implementation of the cleanup side of lib/cleanup_proto.h. The stand-in
records every request and answers with the status a test chooses, so the
tests see exactly what pickup sends and what it does with each answer.
The last tests run pickup under master(8) and wake it with the wakeup
timer and with postdrop's trigger.
"""
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import run

# lib/rec.h record types
TIME, FROM, RCPT, ORCP, NOTIFY, DSN_ORCPT = b"T", b"S", b"R", b"O", b"Y", b"Q"
ATTR, MESG, NORM, CONT, XTRA, END = b"A", b"M", b"N", b"L", b"X", b"E"

# lib/cleanup_proto.h
FLAG_FILTER, FLAG_MAP_OK, FLAG_EXTRACT, FLAG_LOCAL = 1, 2, 4, 8
STAT_BAD, STAT_WRITE, STAT_SIZE, STAT_CONT, STAT_RCPT, STAT_DEFER = 1, 2, 4, 8, 32, 64

IS_ROOT = os.geteuid() == 0


def rec(rtype: bytes, data=b"") -> bytes:
    if isinstance(data, str):
        data = data.encode()
    n, out = len(data), bytearray(rtype)
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out) + data


def maildrop_file(sender="joe", rcpts=("ann@example.org",), attrs=(), body=("Subject: hi", "",
                                                                           "hello"),
                  end=True) -> bytes:
    out = rec(TIME, "1700000000.000001") + rec(ATTR, "rewrite_context=local")
    for a in attrs:
        out += rec(ATTR, a)
    out += rec(FROM, sender)
    for r in rcpts:
        out += rec(RCPT, r)
    out += rec(MESG)
    for line in body:
        out += rec(NORM, line)
    out += rec(XTRA)
    if end:
        out += rec(END)
    return out


class FakeCleanup:
    """The cleanup side of lib/cleanup_proto.h, on public/cleanup."""

    def __init__(self, path: Path, status=0, reason="", hang_up=False):
        self.path = path
        self.status = status
        self.reason = reason
        self.hang_up = hang_up
        self.requests = []          # (attrs, [(type, data)])
        self.count = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                try:
                    self.one(conn.makefile("rwb"))
                except (OSError, ValueError):
                    pass

    def one(self, f):
        self.count += 1
        f.write(b"queue_id\0" + f"4F00{self.count:05X}".encode() + b"\0\0")
        f.flush()
        attrs = read_attrs(f)
        records = []
        while True:
            r = read_rec(f)
            if r is None:
                break
            records.append(r)
            if r[0] == END:
                break
        self.requests.append((attrs, records))
        if self.hang_up:
            return
        f.write(b"status\0" + str(self.status).encode() + b"\0reason\0" + self.reason.encode()
                + b"\0\0")
        f.flush()

    def close(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


def sender_of(records):
    return next(d for t, d in records if t == FROM)


def read_attrs(f) -> dict:
    out = {}
    while True:
        name = b""
        while (c := f.read(1)) not in (b"\0", b""):
            name += c
        if not name:
            return out
        value = b""
        while (c := f.read(1)) not in (b"\0", b""):
            value += c
        out[name.decode()] = value.decode()


def read_rec(f):
    t = f.read(1)
    if not t:
        return None
    n, shift = 0, 0
    while True:
        b = f.read(1)[0]
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    return t, f.read(n)


class Queue:
    """A private configuration and queue directory for pickup."""

    def __init__(self, build: Path, base: Path):
        self.build = build
        self.base = base
        self.etc = base / "etc"
        self.queue = base / "q"
        self.log = base / "maillog"
        self.etc.mkdir()
        for d in ("maildrop", "private", "public", "corrupt", "incoming", "pid"):
            (self.queue / d).mkdir(parents=True)
        self.log.touch()
        self.main = {
            "queue_directory": self.queue,
            "daemon_directory": build / "libexec",
            "command_directory": build / "sbin",
            "maillog_file": self.log,
            "ipc_timeout": "10s",
        }
        self.write_main()

    def write_main(self, **extra):
        self.main.update(extra)
        (self.etc / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in self.main.items()))

    def drop(self, name: str, data: bytes, mode=0o644) -> Path:
        p = self.queue / "maildrop" / name
        p.write_bytes(data)
        p.chmod(mode)
        return p

    def pickup(self, timeout=30):
        """One stand-alone scan."""
        return run([self.build / "libexec" / "pickup", "-S", "-c", self.etc], input="W",
                   timeout=timeout)

    def logtext(self):
        return self.log.read_text(errors="replace")

    def maildrop(self):
        return sorted(os.listdir(self.queue / "maildrop"))

    def corrupt(self):
        return sorted(os.listdir(self.queue / "corrupt"))


@pytest.fixture
def q(postern_build, tmp_path):
    queue = Queue(postern_build, tmp_path)
    yield queue


@pytest.fixture
def cleanup_server(q):
    servers = []

    def start(**kw):
        s = FakeCleanup(q.queue / "public" / "cleanup", **kw)
        servers.append(s)
        return s
    yield start
    for s in servers:
        s.close()


def test_passes_file_to_cleanup_and_removes_it(q, cleanup_server):
    srv = cleanup_server()
    q.drop("3F2A81C0D5", maildrop_file(sender="joe@example.com",
                                       attrs=("full_name=Joe User", "dsn_ret=HDRS")))
    r = q.pickup()
    assert r.returncode == 0, r.stderr
    assert len(srv.requests) == 1
    attrs, records = srv.requests[0]
    assert attrs == {"flags": str(FLAG_LOCAL | FLAG_MAP_OK | FLAG_FILTER)}
    types = [t for t, _ in records]
    assert types == [TIME, ATTR, ATTR, ATTR, ATTR, ATTR, FROM, RCPT, MESG, NORM, NORM, NORM,
                     XTRA, END]
    data = [d for _, d in records]
    assert data[0] == b"1700000000.000001"
    assert data[1:6] == [b"rewrite_context=local", b"full_name=Joe User", b"dsn_ret=HDRS",
                         b"origin=pickup", b"submit_uid=%d" % os.getuid()]
    assert data[6] == b"joe@example.com"
    assert data[9:12] == [b"Subject: hi", b"", b"hello"]
    # logged with cleanup's queue ID, the file owner and the sender
    assert f"postern/pickup[" in q.logtext()
    assert f"4F0000001: uid={os.getuid()} from=<joe@example.com>" in q.logtext()
    assert q.maildrop() == []


def test_extract_flag_and_attribute(q, cleanup_server):
    srv = cleanup_server()
    q.drop("3F2A81C0D6", maildrop_file(rcpts=(), attrs=("extract_recipients=yes",
                                                        "dsn_notify=6")))
    assert q.pickup().returncode == 0
    attrs, records = srv.requests[0]
    assert int(attrs["flags"]) == FLAG_LOCAL | FLAG_MAP_OK | FLAG_FILTER | FLAG_EXTRACT
    attr_data = [d for t, d in records if t == ATTR]
    assert b"extract_recipients=yes" not in attr_data
    assert b"dsn_notify=6" in attr_data
    assert q.maildrop() == []


def test_several_files_one_scan(q, cleanup_server):
    srv = cleanup_server()
    for i in range(5):
        q.drop(f"3F2A81C0E{i}", maildrop_file(sender=f"user{i}"))
    assert q.pickup().returncode == 0
    assert sorted(sender_of(rs) for _, rs in srv.requests) == [f"user{i}".encode() for i in range(5)]
    assert q.maildrop() == []


def test_temporary_failure_keeps_file_and_stops_scan(q, cleanup_server):
    srv = cleanup_server(status=STAT_WRITE, reason="4.3.0 queue file write error")
    q.drop("3F2A81C0D5", maildrop_file())
    q.drop("3F2A81C0D6", maildrop_file())
    assert q.pickup().returncode == 0
    assert len(srv.requests) == 1               # the scan ends at the first deferral
    assert q.maildrop() == ["3F2A81C0D5", "3F2A81C0D6"]
    assert "cleanup status 2: 4.3.0 queue file write error; will try again" in q.logtext()
    # the next scan, with cleanup healthy again, delivers both
    srv.status, srv.reason = 0, ""
    assert q.pickup().returncode == 0
    assert q.maildrop() == []


@pytest.mark.parametrize("status", [STAT_DEFER, STAT_BAD, STAT_CONT | STAT_WRITE])
def test_other_temporary_statuses_keep_file(q, cleanup_server, status):
    cleanup_server(status=status, reason="4.3.0 try later")
    q.drop("3F2A81C0D5", maildrop_file())
    assert q.pickup().returncode == 0
    assert q.maildrop() == ["3F2A81C0D5"]


@pytest.mark.parametrize("status", [STAT_CONT, STAT_SIZE, STAT_RCPT])
def test_permanent_rejection_removes_file_with_warning(q, cleanup_server, status):
    cleanup_server(status=status, reason="5.7.1 message content rejected")
    q.drop("3F2A81C0D5", maildrop_file(sender="joe"))
    assert q.pickup().returncode == 0
    assert q.maildrop() == []
    assert "from=<joe>: rejected: 5.7.1 message content rejected" in q.logtext()


def test_cleanup_unreachable_keeps_file(q):
    q.drop("3F2A81C0D5", maildrop_file())
    assert q.pickup().returncode == 0
    assert q.maildrop() == ["3F2A81C0D5"]
    assert "connect to public/cleanup" in q.logtext()


def test_cleanup_hangs_up_keeps_file(q, cleanup_server):
    cleanup_server(hang_up=True)
    q.drop("3F2A81C0D5", maildrop_file())
    assert q.pickup().returncode == 0
    assert q.maildrop() == ["3F2A81C0D5"]
    assert "no status from public/cleanup" in q.logtext()


@pytest.mark.parametrize("data,why", [
    (maildrop_file(end=False), "file ends before the message does"),
    (maildrop_file(attrs=("client_address=192.0.2.1",)), "attribute not allowed: client_address"),
    (maildrop_file(attrs=("origin=smtpd",)), "attribute not allowed: origin"),
    (maildrop_file(sender="a\nb"), "bad sender address"),
    (maildrop_file(rcpts=()), "no recipients"),
    (maildrop_file() + rec(NORM, "x"), "data after end of message"),
    (b"\x00\x01garbage", "malformed record"),
    (b"", "file ends before the message does"),
])
def test_bad_file_goes_to_corrupt(q, cleanup_server, data, why):
    srv = cleanup_server()
    q.drop("3F2A81C0D5", data)
    q.drop("3F2A81C0D6", maildrop_file())
    assert q.pickup().returncode == 0
    assert srv.requests and len(srv.requests) == 1      # only the good one
    assert q.maildrop() == []
    assert q.corrupt() == ["3F2A81C0D5"]
    assert f"maildrop/3F2A81C0D5: {why}" in q.logtext()
    assert "moved to corrupt/" in q.logtext()


def test_symlink_and_hard_link_refused(q, cleanup_server, tmp_path):
    srv = cleanup_server()
    target = tmp_path / "secret"
    target.write_bytes(maildrop_file(sender="victim"))
    (q.queue / "maildrop" / "3F2A81C0D5").symlink_to(target)
    os.link(target, q.queue / "maildrop" / "3F2A81C0D6")
    assert q.pickup().returncode == 0
    assert srv.requests == []
    assert q.corrupt() == ["3F2A81C0D5", "3F2A81C0D6"]
    assert (q.queue / "corrupt" / "3F2A81C0D5").is_symlink()
    assert target.read_bytes() == maildrop_file(sender="victim")     # untouched
    assert "not a regular file with one link" in q.logtext()


def test_directory_with_queue_id_name(q, cleanup_server):
    srv = cleanup_server()
    (q.queue / "maildrop" / "3F2A81C0D5").mkdir()
    assert q.pickup().returncode == 0
    assert srv.requests == []
    assert q.corrupt() == ["3F2A81C0D5"]


def age(path, seconds):
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_temporary_files(q, cleanup_server):
    srv = cleanup_server()
    fresh = q.drop("tmp.123.000001.abcd", maildrop_file(), mode=0o600)
    ready_fresh = q.drop("tmp.124.000001.abcd", maildrop_file(), mode=0o644)
    old = q.drop("tmp.456.000002.beef", maildrop_file(end=False), mode=0o600)
    age(old, 2 * 86400)
    age(fresh, 300)
    age(ready_fresh, 60)
    assert q.pickup().returncode == 0
    assert srv.requests == []                   # none is passed on
    assert q.maildrop() == ["tmp.123.000001.abcd", "tmp.124.000001.abcd"]
    assert "maildrop/tmp.456.000002.beef: removed an abandoned temporary file" in q.logtext()


def test_ready_temporary_file_after_crash_is_passed_on(q, cleanup_server):
    """postdrop synced the file but a crash lost its rename: nothing is lost."""
    srv = cleanup_server()
    lost = q.drop("tmp.789.000003.cafe", maildrop_file(sender="crash"), mode=0o644)
    age(lost, 3600)
    broken = q.drop("tmp.790.000004.cafe", maildrop_file(end=False), mode=0o644)
    age(broken, 3600)
    assert q.pickup().returncode == 0
    assert [sender_of(rs) for _, rs in srv.requests] == [b"crash"]
    assert q.maildrop() == []
    assert q.corrupt() == ["tmp.790.000004.cafe"]
    assert "maildrop/tmp.789.000003.cafe: complete but never renamed" in q.logtext()


def test_unexpected_names_go_to_corrupt(q, cleanup_server):
    srv = cleanup_server()
    q.drop("readme.txt", b"hello")
    q.drop("3f2a81c0d5", maildrop_file())       # lower case: not a queue ID
    assert q.pickup().returncode == 0
    assert srv.requests == []
    assert q.corrupt() == ["3f2a81c0d5", "readme.txt"]
    assert "maildrop/readme.txt: unexpected file name; moved to corrupt/" in q.logtext()


def test_long_lines_and_binary_content_pass_unchanged(q, cleanup_server):
    srv = cleanup_server()
    body = (rec(TIME, "1.5") + rec(FROM, "a") + rec(RCPT, "b") + rec(MESG)
            + rec(CONT, "x" * 5000) + rec(NORM, "y" * 10) + rec(NORM, b"\x00\xff\r")
            + rec(XTRA) + rec(END))
    q.drop("3F2A81C0D5", body)
    assert q.pickup().returncode == 0
    records = srv.requests[0][1]
    assert (CONT, b"x" * 5000) in records and (NORM, b"\x00\xff\r") in records


# ---- under master(8): the wakeup timer and postdrop's trigger ----

def accounts_for_tests():
    """As root: mail_owner and setgid_group for a real privilege split."""
    for owner in ("postern", "nobody"):
        try:
            owner_gid = pwd.getpwnam(owner).pw_gid
            break
        except KeyError:
            continue
    else:
        pytest.skip("no unprivileged account for mail_owner")
    for group in ("postdrop", "mail", "daemon", "adm"):
        try:
            if grp.getgrnam(group).gr_gid != owner_gid:
                return owner, group
        except KeyError:
            pass
    pytest.skip("no group for setgid_group")


def write_master_cf(q, wakeup):
    # as root, like the shipped entry: as mail_owner (unpriv y), chrooted (y)
    chroot = "y" if IS_ROOT else "n"
    (q.etc / "master.cf").write_text(f"pickup unix n y {chroot} {wakeup} 1 pickup\n")


def start_cleanup(q):
    srv = FakeCleanup(q.queue / "public" / "cleanup")
    os.chmod(q.queue / "public" / "cleanup", 0o666)
    return srv


def start_master(q):
    r = run([q.build / "sbin" / "postern", "-c", q.etc, "start"])
    assert r.returncode == 0, r.stderr
    return int((q.queue / "pid" / "master.pid").read_text().strip())


def stop_master(q, pid):
    run([q.build / "sbin" / "postern", "-c", q.etc, "stop"])
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def wait_for(pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def master_q(postern_build):
    # under /tmp when root: daemons may not enter $TMPDIR's parents
    base = Path(tempfile.mkdtemp(prefix="postern-pickup-", dir="/tmp" if IS_ROOT else None))
    base.chmod(0o755)
    queue = Queue(postern_build, base)
    queue.write_main(master_stop_time="2s", service_throttle_time="2s")
    if IS_ROOT:
        owner, group = accounts_for_tests()
        queue.write_main(mail_owner=owner, setgid_group=group)
        queue.log.chmod(0o666)
    else:
        queue.write_main(mail_owner=pwd.getpwuid(os.getuid()).pw_name)
    yield queue
    shutil.rmtree(base, ignore_errors=True)


def test_master_wakeup_timer_scans_maildrop(master_q):
    q = master_q
    write_master_cf(q, 1)
    pid = start_master(q)
    srv = start_cleanup(q)
    try:
        q.drop("3F2A81C0D5", maildrop_file(sender="timer"))
        assert wait_for(lambda: q.maildrop() == []), q.logtext()
        assert srv.requests and sender_of(srv.requests[0][1]) == b"timer"
    finally:
        stop_master(q, pid)
        srv.close()


def test_postdrop_trigger_wakes_pickup(master_q):
    q = master_q
    write_master_cf(q, 3600)                    # the timer would not fire in time
    pid = start_master(q)
    srv = start_cleanup(q)
    try:
        assert wait_for(lambda: (q.queue / "public" / "pickup").exists())
        r = run([q.build / "sbin" / "sendmail", "-C", q.etc, "-f", "trig@example.com",
                 "ann@example.org"], input="Subject: x\n\nhi\n")
        assert r.returncode == 0, r.stderr
        assert "unable to look up public/pickup" not in r.stderr
        assert wait_for(lambda: q.maildrop() == [] and srv.requests), q.logtext()
        assert srv.requests[0][1][-1] == (END, b"")
        assert f"uid={os.getuid()} from=<trig@example.com>" in q.logtext()
    finally:
        stop_master(q, pid)
        srv.close()
