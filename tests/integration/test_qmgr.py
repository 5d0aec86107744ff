"""qmgr(8): from incoming/ to the delivery agents and back, under master(8).

Each test runs a private instance (tests/integration/instance.py) with
qmgr and the discard and error agents; messages are written straight
into incoming/ by tests/progs/mkqueue (as cleanup would), or sent over
SMTP when smtpd and cleanup are built. Stand-ins written here play the
bounce service and a slow delivery agent on private/ sockets, so that
the tests see exactly what qmgr sends them.
"""
import fcntl
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from instance import instance_factory, read_queue_file, wait_for  # noqa: F401

STATUS_RX = re.compile(
    r"postern/(\w+)\[\d+\]: ([0-9A-F]+): to=<([^>]*)>, (?:orig_to=<[^>]*>, )?relay=([^,]+), "
    r"delay=(\d+(?:\.\d+)?), delays=(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)/"
    r"(\d+(?:\.\d+)?), dsn=(\d\.\d+\.\d+), status=(sent|deferred|bounced) \((.*)\)$", re.M)

SERVICES = ["qmgr/unix", "discard/unix", "error/unix", "retry/unix"]


@pytest.fixture
def make(instance_factory, postern_build):
    if not (postern_build / "libexec" / "qmgr").exists():
        pytest.skip("qmgr not built")

    def _make(services=SERVICES, **main):
        settings = {"mydestination": "", "relay_domains": "",
                    "default_transport": "discard:bench", "minimal_backoff_time": "300s"}
        settings.update(main)
        inst = instance_factory(main=settings, services=services)
        inst.mkqueue_bin = postern_build / "tests" / "mkqueue"
        return inst
    return _make


def mkqueue(inst, *args, queue="incoming"):
    """Write messages as mail_owner (qmgr must be able to open them)."""
    pw = pwd.getpwnam(inst.owner)
    (inst.queue / queue).mkdir(exist_ok=True)
    r = subprocess.run([str(inst.mkqueue_bin), "-d", str(inst.queue), "-q", queue, *args],
                       capture_output=True, text=True, timeout=60, user=pw.pw_uid,
                       group=pw.pw_gid, extra_groups=[])
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def trigger(inst, what=b"I"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(inst.queue / "public" / "qmgr"))
    s.sendall(what)
    s.close()


def status_lines(inst):
    return STATUS_RX.findall(inst.logtext())


def wait_empty(inst, timeout=20.0):
    wait_for(lambda: not inst.queue_files(("incoming", "active")), timeout,
             what=f"empty incoming and active queues\n{inst.logtext()}")


def qmgr_pid(inst):
    return wait_for(lambda: (inst.daemon_pids("qmgr") or [None])[0], 10, what="qmgr process")


# ---------------------------------------------------------------- attribute lists

def attr_encode(pairs) -> bytes:
    out = b""
    for k, v in pairs:
        out += k.encode() + b"\0" + str(v).encode() + b"\0"
    return out + b"\0"


def attr_read(conn, buf: bytearray, timeout=30.0):
    """Read one attribute list from conn; returns a dict."""
    conn.settimeout(timeout)
    while True:
        fields, pos = [], 0
        while pos < len(buf):
            if buf[pos] == 0 and len(fields) % 2 == 0:
                d = dict(zip(fields[::2], fields[1::2]))
                del buf[:pos + 1]
                return d
            end = buf.find(b"\0", pos)
            if end < 0:
                break
            fields.append(buf[pos:end].decode("utf-8", "replace"))
            pos = end + 1
        data = conn.recv(65536)
        if not data:
            raise EOFError("connection closed")
        buf.extend(data)


class FakeService:
    """A private/NAME socket served by a thread: handler(conn) per connection."""

    def __init__(self, inst, name, handler):
        self.path = inst.queue / "private" / name
        wait_for(lambda: (inst.queue / "private").is_dir(), 10, what="private/")
        if self.path.exists():
            self.path.unlink()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(self.path))
        pw = pwd.getpwnam(inst.owner)
        os.chown(self.path, pw.pw_uid, pw.pw_gid)
        self.sock.listen(100)
        self.handler = handler
        self.stopped = False
        self.threads = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            t = threading.Thread(target=self.serve, args=(conn,), daemon=True)
            self.threads.append(t)
            t.start()

    def serve(self, conn):
        try:
            self.handler(conn)
        except (OSError, EOFError):
            pass
        finally:
            conn.close()

    def close(self):
        self.stopped = True
        self.sock.close()


class FakeBounce:
    """private/bounce that records requests and consumes the notes."""

    def __init__(self, inst, status=0):
        self.inst = inst
        self.requests = []
        self.status = status
        self.service = FakeService(inst, "bounce", self.handle)

    def handle(self, conn):
        buf = bytearray()
        req = attr_read(conn, buf)
        notes = self.inst.queue / "bounce" / req.get("queue_id", "x")
        req["notes"] = notes.read_text() if notes.exists() else None
        qf = self.inst.queue / req.get("queue_name", "x") / req.get("queue_id", "x")
        req["queue_file_present"] = qf.exists()
        self.requests.append(req)
        if req.get("request") == "warn":
            defer = self.inst.queue / "defer" / req.get("queue_id", "x")
            if self.status == 0 and defer.exists():
                defer.chmod(0o700)                 # as bounce_warn_mark() does
        elif self.status == 0 and notes.exists():
            notes.unlink()
        conn.sendall(attr_encode([("status", self.status)]))


# ---------------------------------------------------------------- tests

def test_delivery_and_log_format(make):
    inst = make().start()
    ids = mkqueue(inst, "-n", "20", "-T", "-o", "orig@example.org", "a@x.example",
                  "b@y.example")
    wait_empty(inst)
    inst.wait_log(r": removed", count=20)
    log = inst.logtext()
    lines = status_lines(inst)
    assert len(lines) == 40
    for prog, qid, rcpt, relay, delay, a, b, c, d, dsn, status, text in lines:
        assert prog == "discard" and qid in ids and relay == "none"
        assert dsn == "2.0.0" and status == "sent" and text == "bench"
    assert Counter((l[1], l[2]) for l in lines) == {(q, r): 1 for q in ids
                                                     for r in ("a@x.example", "b@y.example")}
    assert "orig_to=<orig@example.org>" in log
    for qid in ids:
        assert re.search(rf"postern/qmgr\[\d+\]: {qid}: from=<sender@example.com>, "
                         rf"size=\d+, nrcpt=2 \(queue active\)", log)
        # the order of a message's lines: active, its deliveries, removed
        active = log.index(f"{qid}: from=")
        removed = log.index(f"{qid}: removed")
        assert all(active < m.start() < removed
                   for m in re.finditer(rf"{qid}: to=", log))
    assert not inst.queue_files(("incoming", "active", "deferred"))
    assert not list((inst.queue / "defer").glob("*"))


def test_incomplete_and_corrupt_files(make):
    inst = make().start()
    writing, = mkqueue(inst, "-W", "a@x.example")
    noend, = mkqueue(inst, "-E", "a@x.example")
    good, = mkqueue(inst, "-T", "a@x.example")
    inst.wait_log(rf"{good}: removed")
    inst.wait_log(rf"{noend}: no end record: saving corrupt file")
    assert (inst.queue / "incoming" / writing).exists()       # mode 0600: still being written
    assert (inst.queue / "corrupt" / noend).exists()
    assert f"{writing}:" not in inst.logtext()
    # a stray name that is not a queue ID is never touched
    (inst.queue / "incoming" / "not-a-queue-id").write_text("x")
    trigger(inst)
    time.sleep(0.5)
    assert (inst.queue / "incoming" / "not-a-queue-id").exists()


def test_done_recipients_and_crash_recovery(make):
    inst = make()
    inst.start()
    inst.stop()
    # files left in active/ by a dead queue manager, one recipient already done
    ids = mkqueue(inst, "-n", "3", "-D", "done@x.example", "todo@x.example", queue="active")
    inst.start()
    wait_empty(inst)
    inst.wait_log(r": removed", count=3)
    assert "requeued 3 messages left in the active queue" in inst.logtext()
    lines = status_lines(inst)
    assert sorted((l[1], l[2]) for l in lines) == sorted((q, "todo@x.example") for q in ids)


def test_bounce_without_bounce_service(make):
    inst = make(default_transport="error:5.1.1 no such user here")
    inst.start()
    qid, = mkqueue(inst, "-T", "a@x.example", "b@x.example")
    inst.wait_log(rf"{qid}: to=<b@x.example>.*status=bounced")
    wait_for(lambda: (inst.queue / "deferred" / qid).exists(), 10, what="deferred file")
    lines = [l for l in status_lines(inst) if l[1] == qid]
    assert {(l[0], l[2], l[9], l[10], l[11]) for l in lines} == {
        ("error", "a@x.example", "5.1.1", "bounced", "no such user here"),
        ("error", "b@x.example", "5.1.1", "bounced", "no such user here")}
    notes = (inst.queue / "bounce" / qid).read_text()
    assert notes.count("action=failed\n") == 2 and "reason=no such user here\n" in notes
    qf = read_queue_file(inst.queue / "deferred" / qid)
    assert [t for t, _ in qf.records if t in "RD"] == ["D", "D"]
    # the message waits for the bounce service: no removal, retry later
    assert f"{qid}: removed" not in inst.logtext()
    assert os.stat(inst.queue / "deferred" / qid).st_mtime > time.time() + 200


def test_bounce_service_and_flush(make):
    inst = make(default_transport="error:5.1.1 no such user here")
    inst.start()
    bounce = FakeBounce(inst)
    qid, = mkqueue(inst, "-T", "-f", "", "a@x.example")
    inst.wait_log(rf"{qid}: removed")
    req, = bounce.requests
    assert req["request"] == "flush" and req["queue_id"] == qid
    assert req["queue_name"] == "active" and req["queue_file_present"]
    assert req["sender"] == "" and req["flags"] == "0"
    assert "recipient=a@x.example\n" in req["notes"]
    assert not (inst.queue / "bounce" / qid).exists()
    bounce.service.close()

    # a bounce service that fails: the message is kept, then flushed later
    inst2 = make(default_transport="error:5.1.1 gone")
    inst2.start()
    failing = FakeBounce(inst2, status=1)
    qid2, = mkqueue(inst2, "-T", "a@x.example")
    wait_for(lambda: (inst2.queue / "deferred" / qid2).exists(), 10, what="deferred file")
    assert len(failing.requests) == 1
    failing.status = 0
    inst2.postern("flush")
    inst2.wait_log(rf"{qid2}: removed")
    assert len(failing.requests) == 2
    # the second attempt delivered nobody again: the recipient was done
    assert len([l for l in status_lines(inst2) if l[1] == qid2]) == 1
    failing.service.close()


def test_deferral_backoff_and_flush(make):
    inst = make(default_transport="retry:4.4.1 try again later", minimal_backoff_time="300s",
                maximal_backoff_time="4000s")
    inst.start()
    qid, = mkqueue(inst, "-T", "a@x.example")
    wait_for(lambda: (inst.queue / "deferred" / qid).exists(), 10, what="deferred file")
    (line,) = [l for l in status_lines(inst) if l[1] == qid]
    assert line[0] == "error" and line[9] == "4.4.1" and line[10] == "deferred"
    assert line[11] == "try again later"
    mtime = os.stat(inst.queue / "deferred" / qid).st_mtime
    assert time.time() + 250 < mtime < time.time() + 350
    notes = (inst.queue / "defer" / qid).read_text()
    assert "action=delayed\n" in notes and "status=4.4.1\n" in notes
    # a deferred scan does not take it before its time...
    trigger(inst, b"D")
    time.sleep(1)
    assert inst.log_count(rf"{qid}: from=") == 1
    # ...a flush does
    r = inst.postern("flush")
    assert r.returncode == 0, r.stderr
    inst.wait_log(rf"{qid}: from=", count=2)
    inst.wait_log(rf"{qid}: to=<a@x.example>.*status=deferred", count=2)
    wait_for(lambda: (inst.queue / "deferred" / qid).exists(), 10, what="deferred again")
    assert (inst.queue / "defer" / qid).read_text().count("action=delayed") == 2


def test_old_message_backs_off_longer(make):
    inst = make(default_transport="retry:4.4.1 later", minimal_backoff_time="300s",
                maximal_backoff_time="4000s")
    inst.start()
    old, = mkqueue(inst, "-T", "-a", "1500", "a@x.example")
    ancient, = mkqueue(inst, "-T", "-a", "100000", "a@x.example")
    for qid in (old, ancient):
        wait_for(lambda q=qid: (inst.queue / "deferred" / q).exists(), 10, what="deferred")
    now = time.time()
    assert now + 1400 < os.stat(inst.queue / "deferred" / old).st_mtime < now + 1600
    assert now + 3900 < os.stat(inst.queue / "deferred" / ancient).st_mtime < now + 4100


def test_expired_message_returned(make):
    inst = make(default_transport="retry:4.4.1 mailbox busy", maximal_queue_lifetime="1d")
    inst.start()
    bounce = FakeBounce(inst)
    fresh, = mkqueue(inst, "-T", "a@x.example")
    old, = mkqueue(inst, "-T", "-a", "200000", "a@x.example", "b@x.example")
    inst.wait_log(rf"{old}: from=<sender@example.com>, status=expired, returned to sender")
    inst.wait_log(rf"{old}: removed")
    wait_for(lambda: (inst.queue / "deferred" / fresh).exists(), 10, what="fresh deferred")
    req, = bounce.requests
    assert req["queue_id"] == old and req["flags"] == "1"
    assert req["notes"].count("action=failed\n") == 2
    assert "reason=mailbox busy\n" in req["notes"] and "status=4.4.1\n" in req["notes"]
    assert not (inst.queue / "defer" / old).exists()
    bounce.service.close()


def test_transport_unavailable(make):
    inst = make(default_transport="nosuch", transport_retry_time="60s")
    inst.start()
    qid, = mkqueue(inst, "-T", "a@x.example")
    inst.wait_log(r"warning: connect to private/nosuch")
    inst.wait_log(rf"{qid}: to=<a@x.example>, relay=none, .*dsn=4.3.0, "
                  r"status=deferred \(mail transport unavailable\)")
    wait_for(lambda: (inst.queue / "deferred" / qid).exists(), 10, what="deferred file")
    # while the transport is throttled, new mail for it is deferred without trying
    qid2, = mkqueue(inst, "-T", "a@x.example")
    inst.wait_log(rf"{qid2}: to=<a@x.example>.*status=deferred \(mail transport unavailable\)")
    assert inst.log_count(r"warning: connect to private/nosuch") == 1


def test_resolver_classes_and_transport_maps(make):
    inst = make(default_transport="discard:default",
                relay_domains="relay.example", relay_transport="discard:relayed",
                virtual_alias_domains="alias.example",
                transport_maps="inline:{ {special.example=error:5.7.1 go away} }")
    inst.start()
    FakeBounce(inst)
    qid, = mkqueue(inst, "-T", "a@other.example", "b@relay.example", "c@alias.example",
                   "d@special.example")
    inst.wait_log(rf"{qid}: removed")
    got = {l[2]: (l[0], l[9], l[10], l[11]) for l in status_lines(inst) if l[1] == qid}
    assert got == {
        "a@other.example": ("discard", "2.0.0", "sent", "default"),
        "b@relay.example": ("discard", "2.0.0", "sent", "relayed"),
        "c@alias.example": ("error", "5.1.1", "bounced", "User unknown in virtual alias table"),
        "d@special.example": ("error", "5.7.1", "bounced", "go away"),
    }


class SlowAgent:
    """private/slow: a delivery agent that takes its time and counts."""

    def __init__(self, inst, delay=0.3):
        self.delay = delay
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.requests = []
        self.service = FakeService(inst, "slow", self.handle)

    def handle(self, conn):
        buf = bytearray()
        conn.sendall(attr_encode([("status", 0)]))
        req = attr_read(conn, buf)
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.requests.append(req)
        time.sleep(self.delay)
        n = int(req["rcpt_count"])
        with self.lock:
            self.active -= 1
        conn.sendall(attr_encode([("status", 0)] + [(f"rcpt.{i}.result", "sent")
                                                     for i in range(n)]))


def test_concurrency_and_recipient_limits(make):
    inst = make(default_transport="slow:hop", slow_destination_concurrency_limit="3",
                slow_destination_recipient_limit="2", initial_destination_concurrency="2")
    inst.start()
    agent = SlowAgent(inst)
    ids = mkqueue(inst, "-n", "12", "-T", "a@x.example", "b@x.example", "c@x.example")
    wait_empty(inst, timeout=30)
    inst.wait_log(r": removed", count=12)
    assert 2 <= agent.max_active <= 3
    assert len(agent.requests) == 24                # 3 recipients in 2 requests each
    assert sorted(int(r["rcpt_count"]) for r in agent.requests) == [1] * 12 + [2] * 12
    for r in agent.requests:
        assert r["nexthop"] == "hop" and r["queue_name"] == "active"
        assert r["queue_id"] in ids and r["sender"] == "sender@example.com"
        a, b = r["queue_delays"].split("/")
        assert float(a) >= 0 and float(b) >= 0
    agent.service.close()


def test_agent_crash_defers_undone_recipients(make):
    inst = make(default_transport="crashy")
    inst.start()

    def crash(conn):
        buf = bytearray()
        conn.sendall(attr_encode([("status", 0)]))
        attr_read(conn, buf)
        conn.close()                 # gone without a reply
    service = FakeService(inst, "crashy", crash)
    qid, = mkqueue(inst, "-T", "a@x.example")
    inst.wait_log(rf"{qid}: to=<a@x.example>.*status=deferred \(unknown mail transport error\)")
    wait_for(lambda: (inst.queue / "deferred" / qid).exists(), 10, what="deferred file")
    service.close()


def test_agent_crash_after_marking_done(make):
    """An agent that marked a recipient done and then died: delivered, not deferred."""
    inst = make(default_transport="halfway")
    inst.start()

    def halfway(conn):
        buf = bytearray()
        conn.sendall(attr_encode([("status", 0)]))
        req = attr_read(conn, buf)
        path = inst.queue / req["queue_name"] / req["queue_id"]
        with open(path, "r+b") as f:
            f.seek(int(req["rcpt.0.offset"]))
            assert f.read(1) == b"R"
            f.seek(int(req["rcpt.0.offset"]))
            f.write(b"D")
        conn.close()
    service = FakeService(inst, "halfway", halfway)
    qid, = mkqueue(inst, "-T", "a@x.example")
    inst.wait_log(rf"{qid}: removed")
    assert "unknown mail transport error" not in inst.logtext()
    service.close()


def test_no_busy_loop_when_idle(make):
    inst = make()
    inst.start()
    mkqueue(inst, "-T", "a@x.example")
    inst.wait_log(r": removed")
    pid = qmgr_pid(inst)

    def cpu():
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])      # utime + stime, clock ticks
    before = cpu()
    time.sleep(3)
    assert cpu() - before <= 2


def test_kill_qmgr_mid_run_delivers_each_once(make):
    inst = make(default_transport="slow:x", slow_destination_concurrency_limit="4",
                initial_destination_concurrency="4")
    inst.start()
    agent = SlowAgent(inst, delay=0.05)

    # the stand-in agent marks recipients done, as lib/deliver_status does
    def handle(conn):
        buf = bytearray()
        conn.sendall(attr_encode([("status", 0)]))
        req = attr_read(conn, buf)
        path = inst.queue / req["queue_name"] / req["queue_id"]
        n = int(req["rcpt_count"])
        with open(path, "r+b") as f:
            fcntl.lockf(f, fcntl.LOCK_SH)      # as deliver_request_read() does
            time.sleep(agent.delay)
            for i in range(n):
                f.seek(int(req[f"rcpt.{i}.offset"]))
                f.write(b"D")
            os.fsync(f.fileno())
        with agent.lock:
            agent.requests.append(req)
        conn.sendall(attr_encode([("status", 0)] + [(f"rcpt.{i}.result", "sent")
                                                     for i in range(n)]))
    agent.service.handler = handle
    ids = mkqueue(inst, "-n", "200", "-T", "a@x.example")
    wait_for(lambda: len(agent.requests) > 30, 30, what="some deliveries")
    os.kill(qmgr_pid(inst), signal.SIGKILL)
    time.sleep(0.5)
    inst.postern("flush")                       # master starts a new qmgr
    wait_for(lambda: not inst.queue_files(("incoming", "active", "deferred")), 60,
             what="all delivered")
    delivered = Counter(r["queue_id"] for r in agent.requests)
    assert set(delivered) == set(ids)
    assert max(delivered.values()) == 1
    agent.service.close()


# ---------------------------------------------------------------- the whole path

def full_path_built(build):
    return all((build / "libexec" / p).exists() for p in ("smtpd", "cleanup", "qmgr", "local"))


def maildir_message_ids(maildir: Path):
    ids = []
    for sub in ("new", "cur"):
        d = maildir / sub
        if not d.is_dir():
            continue
        for f in d.iterdir():
            m = re.search(rb"^Message-ID: <([^>]+)>", f.read_bytes(), re.M | re.I)
            ids.append(m.group(1).decode() if m else None)
    return ids


@pytest.mark.skipif(os.geteuid() != 0, reason="local delivery to an account needs root")
@pytest.mark.parametrize("kill_local", [False, True], ids=["qmgr", "qmgr_and_local"])
def test_kill_mid_run_each_message_once(instance_factory, postern_build, kill_local):
    """1,000 messages over SMTP to a Maildir; qmgr (and local) killed on the way."""
    if not full_path_built(postern_build):
        pytest.skip("smtpd, cleanup, qmgr and local are not all built")
    from test_local_harness import Users
    home = Path(tempfile.mkdtemp(prefix="postern-qmgr-home-", dir="/tmp"))
    home.chmod(0o755)
    users = Users(home)
    try:
        user = users.add("kq")
        inst = instance_factory(main={"mydestination": "$myhostname",
                                      "home_mailbox": "Maildir/",
                                      "mynetworks": "127.0.0.0/8",
                                      "minimal_backoff_time": "300s"})
        inst.start()
        total, sessions = 1000, 8
        errors = []

        def send(k):
            try:
                c = inst.smtplib_client(timeout=60)
                for i in range(k, total, sessions):
                    c.sendmail("sender@example.org", [f"{user.pw_name}@mx.example.com"],
                               f"Message-ID: <kill-{i}@test>\r\nSubject: {i}\r\n\r\nbody {i}\r\n")
                c.quit()
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        threads = [threading.Thread(target=send, args=(k,)) for k in range(sessions)]
        for t in threads:
            t.start()
        delivered = lambda: inst.log_count(r"postern/local\[\d+\]: \w+: to=<.*status=sent")  # noqa
        wait_for(lambda: delivered() >= 150, 120, what="150 deliveries")
        for pid in inst.kill_daemon("qmgr"):
            inst.seen.add(pid)
        inst.postern("flush")                   # master starts a new qmgr
        wait_for(lambda: delivered() >= 400, 120, what="400 deliveries")
        if kill_local:
            inst.kill_daemon("local")
        for t in threads:
            t.join(120)
        assert not errors, errors
        # flush until everything is out (killed deliveries were deferred)
        deadline = time.time() + 180
        while inst.queue_files(("incoming", "active", "deferred")) and time.time() < deadline:
            inst.postern("flush")
            time.sleep(2)
        assert not inst.queue_files(("incoming", "active", "deferred")), inst.logtext()[-3000:]
        ids = maildir_message_ids(Path(user.pw_dir) / "Maildir")
        counts = Counter(ids)
        missing = [i for i in range(total) if f"kill-{i}@test" not in counts]
        dups = {k: v for k, v in counts.items() if v > 1}
        assert not missing, f"missing {missing[:20]}"
        if dups:
            log = inst.logtext()
            qids = set()
            for mid in dups:
                qids.update(re.findall(rf"(\w+): message-id=<{re.escape(mid)}>", log))
            lines = [l for l in log.splitlines() if any(q in l for q in qids)
                     or "killed by signal" in l or "requeued" in l]
            print("\n".join(lines))
            # qmgr's part is locks, done marks and the done check after an
            # agent died; local's is the stable Maildir name (lib/maildir)
        assert not dups, f"delivered more than once: {dups}"
        qmgrs = set(re.findall(r"postern/qmgr\[(\d+)\]", inst.logtext()))
        print(f"{len(ids)} delivered; qmgr processes {len(qmgrs)}; "
              f"requeue lines {inst.log_count('requeued')}; "
              f"agent errors {inst.log_count('unknown mail transport error')}; "
              f"killed {inst.log_count('killed by signal 9')}")
    finally:
        users.remove_all()
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.skipif(not shutil.which("pflogsumm"), reason="pflogsumm is not installed")
def test_pflogsumm_counts(instance_factory, postern_build):
    """Postfix's log parser reads a run with syslog_name = postfix."""
    if not full_path_built(postern_build):
        pytest.skip("smtpd, cleanup and qmgr are not all built")
    inst = instance_factory(main={
        "syslog_name": "postfix", "mydestination": "", "relay_domains": "",
        "mynetworks": "127.0.0.0/8", "default_transport": "discard:ok",
        "transport_maps": "inline:{ {defer.example=retry:4.4.1 later},"
                          " {bounce.example=error:5.1.1 no such user} }"})
    inst.start()
    FakeBounce(inst)
    c = inst.smtplib_client()
    for dest, n in (("ok.example", 10), ("defer.example", 3), ("bounce.example", 2)):
        for i in range(n):
            c.sendmail("s@client.example", [f"u{i}@{dest}"], f"Subject: {i}\r\n\r\nx\r\n")
    c.quit()
    inst.wait_log(r"status=sent", count=10, timeout=30)
    inst.wait_log(r"status=deferred", count=3, timeout=30)
    inst.wait_log(r"status=bounced", count=2, timeout=30)
    inst.wait_log(r": removed", count=12, timeout=30)
    r = subprocess.run(["pflogsumm", str(inst.log)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr

    def count(word):
        m = re.search(rf"^\s*(\d+)\s+{word}\b", r.stdout, re.M)
        assert m, f"no '{word}' in pflogsumm output:\n{r.stdout[:2000]}"
        return int(m.group(1))
    assert count("received") == 15
    assert count("delivered") == 10
    assert count("deferred") == 3
    assert count("bounced") == 2


def test_transport_name_stays_in_private(make):
    inst = make(transport_maps="inline:{ {odd.example=../public/qmgr:x} }")
    inst.start()
    qid, = mkqueue(inst, "-T", "a@odd.example")
    inst.wait_log(r"warning: connect to private/\.\./public/qmgr: Invalid argument")
    inst.wait_log(rf"{qid}: to=<a@odd.example>.*status=deferred \(mail transport unavailable\)")


def test_delay_warning_once(make):
    inst = make(default_transport="retry:4.4.1 still trying", delay_warning_time="1h")
    inst.start()
    bounce = FakeBounce(inst)
    young, = mkqueue(inst, "-T", "a@x.example")
    old, = mkqueue(inst, "-T", "-a", "7200", "a@x.example")
    for qid in (young, old):
        wait_for(lambda q=qid: (inst.queue / "deferred" / q).exists(), 10, what="deferred")
    req, = bounce.requests                      # the young one is not due
    assert req["request"] == "warn" and req["queue_id"] == old and req["flags"] == "0"
    assert req["queue_name"] == "active" and req["queue_file_present"]
    assert os.stat(inst.queue / "defer" / old).st_mode & stat.S_IXUSR
    # the next attempt defers again, and warns no more
    inst.postern("flush")
    inst.wait_log(rf"{old}: to=<a@x.example>.*status=deferred", count=2)
    wait_for(lambda: (inst.queue / "deferred" / old).exists(), 10, what="deferred again")
    assert len(bounce.requests) == 1
    bounce.service.close()


def test_real_bounce_service_returns_mail(instance_factory, postern_build):
    """error(8) -> bounce note -> bounce(8) -> a notice through cleanup -> qmgr again."""
    if not all((postern_build / "libexec" / p).exists()
               for p in ("smtpd", "cleanup", "qmgr", "bounce", "error", "discard")):
        pytest.skip("the whole path is not built")
    inst = instance_factory(main={
        "mydestination": "", "relay_domains": "", "mynetworks": "127.0.0.0/8",
        "default_transport": "discard:ok",
        "transport_maps": "inline:{ {gone.example=error:5.1.1 no such user} }"})
    inst.start()
    c = inst.smtplib_client()
    c.sendmail("s@client.example", ["u@gone.example"], "Subject: x\r\n\r\nbody\r\n")
    c.quit()
    m = inst.wait_log(r"(\w+): to=<u@gone.example>.*status=bounced", timeout=30)
    qid = re.search(r"(\w+): to=<u@gone.example>.*status=bounced", inst.logtext()).group(1)
    inst.wait_log(rf"{qid}: sender non-delivery notification: (\w+)", timeout=30)
    notice = re.search(rf"{qid}: sender non-delivery notification: (\w+)", inst.logtext()).group(1)
    inst.wait_log(rf"{qid}: removed", timeout=30)
    inst.wait_log(rf"{notice}: from=<>, size=\d+, nrcpt=1 \(queue active\)", timeout=30)
    inst.wait_log(rf"{notice}: to=<s@client.example>.*status=sent \(ok\)", timeout=30)
    inst.wait_log(rf"{notice}: removed", timeout=30)
    assert not (inst.queue / "bounce" / qid).exists()
    assert m
