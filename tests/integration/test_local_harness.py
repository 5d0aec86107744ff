"""A stand-in queue manager for local(8) and virtual(8) tests.

The agents are driven directly, one delivery request at a time, the way
qmgr(8) drives them (lib/deliver_proto.h): the harness writes a queue file
(lib/rec.h records) into a private queue directory, starts the agent with
-S on one end of a socket pair, reads its "ready" status, sends the
request, and reads the per-recipient results. Nothing else of the mail
system needs to run, so every delivery rule can be checked in isolation;
full-chain tests (SMTP in, mailbox out) live in test_local.py and use
tests/integration/instance.py.

Run as root, tests get throwaway UNIX accounts (useradd, removed at the
end) with homes under a world-traversable temporary directory; run as
another user, the only account is the running one and tests that need
others skip.

This module has no tests of its own.
"""
import os
import pwd
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

IS_ROOT = os.geteuid() == 0

# lib/rec.h record types
REC = {"SIZE": b"C", "TIME": b"T", "FROM": b"S", "RCPT": b"R", "DONE": b"D", "ORCP": b"O",
       "NOTIFY": b"Y", "DSN_ORCPT": b"Q", "ATTR": b"A", "MESG": b"M", "NORM": b"N",
       "CONT": b"L", "XTRA": b"X", "END": b"E"}


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def record(rtype: str, data) -> bytes:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    return REC[rtype] + varint(len(data)) + data


def parse_records(blob: bytes):
    out, i = [], 0
    while i < len(blob):
        rtype = blob[i:i + 1]
        i += 1
        n = shift = 0
        while True:
            byte = blob[i]
            i += 1
            n |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        out.append((rtype, blob[i:i + n]))
        i += n
    return out


def attr_encode(pairs) -> bytes:
    out = b""
    for name, value in pairs:
        out += name.encode() + b"\0" + str(value).encode("utf-8", "surrogateescape") + b"\0"
    return out + b"\0"


def attr_read(sock, buf: bytearray, timeout=60.0):
    """Read one attribute list from sock: a dict (buf keeps what follows)."""
    sock.settimeout(timeout)
    while True:
        fields, pos, done = [], 0, False
        while True:
            end = buf.find(b"\0", pos)
            if end < 0:
                break
            if end == pos and len(fields) % 2 == 0:
                done = True
                pos = end + 1
                break
            fields.append(bytes(buf[pos:end]))
            pos = end + 1
        if done:
            del buf[:pos]
            return {fields[i].decode(): fields[i + 1].decode("utf-8", "replace")
                    for i in range(0, len(fields), 2)}
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError(f"agent closed the connection; pending {bytes(buf)!r}")
        buf += chunk


class Agent:
    """A configuration and queue directory for one delivery agent."""

    def __init__(self, build: Path, base: Path, program="local"):
        self.build = Path(build)
        self.base = Path(base)
        self.program = program
        self.etc = self.base / "etc"
        self.queue = self.base / "queue"
        self.log = self.base / "maillog"
        for d in ("etc", "queue", "home", "mail"):
            (self.base / d).mkdir(exist_ok=True)
            (self.base / d).chmod(0o755)
        for d in ("active", "incoming", "deferred", "hold", "defer", "bounce", "private",
                  "public", "pid"):
            (self.queue / d).mkdir(exist_ok=True)
        self.log.touch()
        self.log.chmod(0o644)
        self.main = {
            "queue_directory": str(self.queue),
            "daemon_directory": str(self.build / "libexec"),
            "command_directory": str(self.build / "sbin"),
            "maillog_file": str(self.log),
            "myhostname": "mx.example.com",
            "mydomain": "example.com",
            "myorigin": "$myhostname",
            "mydestination": "$myhostname, localhost",
            "alias_maps": "",
            "alias_database": "",
            "mail_spool_directory": str(self.base / "mail"),
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
        }
        if not IS_ROOT:
            me = pwd.getpwuid(os.getuid()).pw_name
            self.main["mail_owner"] = me
            self.main["default_privs"] = me
        else:
            self.main["mail_owner"] = "nobody"
        self.configure()

    def configure(self, **params):
        self.main.update(params)
        tmp = self.etc / f"main.cf.{os.getpid()}.{id(self)}"
        tmp.write_text("".join(f"{k} = {v}\n" for k, v in self.main.items()))
        tmp.rename(self.etc / "main.cf")   # readers never see a half-written file

    def aliases(self, text, owner=None, name="aliases"):
        """Write an aliases(5) file, build it with postalias, use it as alias_maps."""
        path = self.base / name
        path.write_text(text)
        r = subprocess.run([str(self.build / "sbin" / "postalias"), "-c", str(self.etc),
                            str(path)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        if owner is not None:
            for p in (path, Path(str(path) + ".db")):
                os.chown(p, owner.pw_uid, owner.pw_gid)
        self.configure(alias_maps=f"hash:{path}")
        return path

    # ---- queue files
    def make_queue_file(self, sender, rcpts, lines, attrs=None, arrival=None):
        """rcpts: list of (address, orig) or address. Returns (queue_id, [offsets])."""
        arrival = arrival or time.time()
        qid = "".join(random.choice("0123456789ABCDEF") for _ in range(12))
        head = [record("TIME", "%d.%06d" % (int(arrival), int((arrival % 1) * 1e6)))]
        for k, v in (attrs or {}).items():
            head.append(record("ATTR", f"{k}={v}"))
        head.append(record("FROM", sender))
        rc_recs = []
        for r in rcpts:
            addr, orig = (r, "") if isinstance(r, str) else r
            pre = record("ORCP", orig) if orig else b""
            rc_recs.append((pre, record("RCPT", addr)))
        content = [record("MESG", b"")]
        for line in lines:
            data = line if isinstance(line, bytes) else line.encode()
            while len(data) > 2048:
                content.append(record("CONT", data[:2048]))
                data = data[2048:]
            content.append(record("NORM", data))
        content += [record("XTRA", b""), record("END", b"")]
        size = sum(len(x) for x in content[1:-2])

        def size_rec(off):  # fixed width, as cleanup writes it
            return record("SIZE", "%15d %15d %15d" % (size, off, len(rcpts)))

        blob = size_rec(0) + b"".join(head)
        offsets = []
        for pre, rr in rc_recs:
            blob += pre
            offsets.append(len(blob))
            blob += rr
        data_offset = len(blob)
        blob = size_rec(data_offset) + blob[len(size_rec(0)):] + b"".join(content)
        path = self.queue / "active" / qid
        path.write_bytes(blob)
        path.chmod(0o700)
        self.last = dict(qid=qid, offsets=offsets, data_offset=data_offset, size=size,
                         sender=sender, rcpts=rcpts, arrival=arrival)
        return qid, offsets

    def rcpt_records(self, qid):
        """The RCPT/DONE types of the queue file's recipients, in order."""
        recs = parse_records((self.queue / "active" / qid).read_bytes())
        return [t.decode() for t, _ in recs if t in (b"R", b"D")]

    # ---- delivery
    def request(self, qid=None, extra=None, timeout=120):
        """Send the request for the last queue file; return (status, [results], stderr)."""
        info = self.last if qid is None else qid
        pairs = [("flags", 0), ("queue_name", "active"), ("queue_id", info["qid"]),
                 ("data_offset", info["data_offset"]), ("data_size", info["size"]),
                 ("nexthop", "mx.example.com"), ("encoding", "7bit"), ("smtputf8", 0),
                 ("sender", info["sender"]), ("dsn_envid", ""), ("dsn_ret", ""),
                 ("arrival_time", "%d.%06d" % (int(info["arrival"]),
                                               int((info["arrival"] % 1) * 1e6))),
                 ("client_name", "client.example.org"), ("client_address", "192.0.2.7"),
                 ("helo_name", "client.example.org"), ("protocol", "ESMTP"),
                 ("sasl_username", ""), ("rcpt_count", len(info["rcpts"])),
                 ("queue_delays", "0.1/0.2")]
        for i, r in enumerate(info["rcpts"]):
            addr, orig = (r, "") if isinstance(r, str) else r
            pairs += [(f"rcpt.{i}.address", addr), (f"rcpt.{i}.orig", orig),
                      (f"rcpt.{i}.offset", info["offsets"][i]), (f"rcpt.{i}.notify", 0),
                      (f"rcpt.{i}.orcpt", "")]
        pairs += list((extra or {}).items())
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        proc = subprocess.Popen(
            [str(self.build / "libexec" / self.program), "-S", "-c", str(self.etc), "-n",
             self.program, "-t", "unix"],
            stdin=child, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={"PATH": "/usr/bin:/bin", "TZ": "UTC",
                 **{k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS")}})
        child.close()
        buf = bytearray()
        try:
            ready = attr_read(parent, buf)
            assert ready.get("status") == "0", ready
            parent.sendall(attr_encode(pairs))
            reply = attr_read(parent, buf, timeout=timeout)
        finally:
            parent.close()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        results = [reply.get(f"rcpt.{i}.result") for i in range(len(info["rcpts"]))]
        return int(reply["status"]), results, err

    def deliver(self, sender, rcpts, lines, attrs=None, **kw):
        self.make_queue_file(sender, rcpts, lines, attrs)
        status, results, err = self.request(**kw)
        print(f"--- {self.program} request {self.last['qid']}: {results}\n{err}")
        print("\n".join(line for line in self.logtext().splitlines()
                        if self.last["qid"] in line or "warning" in line or "fatal" in line))
        assert status == 0, err
        assert "Sanitizer" not in err and "runtime error" not in err, err
        return results

    # ---- results
    def logtext(self):
        return self.log.read_text(errors="replace")

    def status_lines(self, qid=None):
        qid = qid or self.last["qid"]
        return [line for line in self.logtext().splitlines()
                if f": {qid}: to=<" in line or f" {qid}: to=<" in line]

    def notes(self, kind, qid=None):
        """Notes in defer/ID or bounce/ID as a list of dicts."""
        qid = qid or self.last["qid"]
        path = self.queue / kind / qid
        if not path.exists():
            return []
        out = []
        for block in path.read_text().split("\n\n"):
            if block.strip():
                out.append(dict(line.split("=", 1) for line in block.splitlines()))
        return out


class FakeCleanup:
    """A stand-in cleanup(8) on QUEUE/private/cleanup (lib/cleanup_proto.h).

    Accepts messages in a thread and keeps, for each, the flags and the
    records; answers with status/reason (0/"" unless told otherwise).
    """

    def __init__(self, queue: Path, status=0, reason=""):
        from instance import cleanup_service_path
        self.path = queue / cleanup_service_path()
        self.status, self.reason = status, reason
        self.messages = []
        self.count = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(self.path))
        os.chmod(self.path, 0o666)
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.running = True
        import threading
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                return
            try:
                self.serve(conn)
            except Exception:  # noqa: BLE001  (the agent sees the connection drop)
                pass
            finally:
                conn.close()

    def serve(self, conn):
        conn.settimeout(30)
        self.count += 1
        qid = "F%011X" % self.count
        conn.sendall(attr_encode([("queue_id", qid)]))
        buf = bytearray()
        flags = attr_read(conn, buf)
        fp = conn.makefile("rb")
        rest = bytes(buf)
        records = []

        def take(n):
            nonlocal rest
            while len(rest) < n:
                chunk = fp.read1(65536)
                if not chunk:
                    raise EOFError
                rest += chunk
            out, rest = rest[:n], rest[n:]
            return out

        while True:
            rtype = take(1)
            n = shift = 0
            while True:
                byte = take(1)[0]
                n |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    break
            data = take(n)
            records.append((rtype.decode(), data))
            if rtype == b"E":
                break
        self.messages.append({"queue_id": qid, "flags": int(flags["flags"]),
                              "records": records})
        conn.sendall(attr_encode([("status", self.status), ("reason", self.reason)]))

    def close(self):
        self.running = False
        self.sock.close()
        self.thread.join(timeout=5)
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def maildir_messages(path):
    """The messages in path/new, as text, oldest first."""
    new = Path(path) / "new"
    if not new.is_dir():
        return []
    files = sorted(new.iterdir(), key=lambda p: p.stat().st_mtime_ns)
    return [f.read_text(errors="replace") for f in files]


def mbox_messages(path):
    """The messages of a mailbox file, split at "From " lines."""
    path = Path(path)
    if not path.exists():
        return []
    text = path.read_text(errors="replace")
    parts = re.split(r"(?m)^(?=From )", text)
    return [p for p in parts if p]


@pytest.fixture
def agent_base():
    """A temporary base directory every user can traverse."""
    base = Path(tempfile.mkdtemp(prefix="postern-h10-", dir="/tmp"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


class Users:
    """Throwaway UNIX accounts (root only), removed at the end."""

    def __init__(self, home_base: Path):
        self.home_base = home_base
        self.names = []

    def add(self, short):
        if not IS_ROOT:
            pytest.skip("creating accounts needs root")
        name = f"ph{os.getpid() % 10000}{short}"[:30]
        home = self.home_base / name
        subprocess.run(["userdel", "-r", name], capture_output=True)
        r = subprocess.run(["useradd", "-M", "-d", str(home), "-s", "/bin/sh", "-U", name],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        self.names.append(name)
        pw = pwd.getpwnam(name)
        home.mkdir(mode=0o755, exist_ok=True)
        os.chown(home, pw.pw_uid, pw.pw_gid)
        return pw

    def remove_all(self):
        for name in self.names:
            subprocess.run(["userdel", name], capture_output=True)
            subprocess.run(["groupdel", name], capture_output=True)


@pytest.fixture
def users(agent_base):
    u = Users(agent_base / "home")
    (agent_base / "home").mkdir(exist_ok=True)
    (agent_base / "home").chmod(0o755)
    yield u
    u.remove_all()
