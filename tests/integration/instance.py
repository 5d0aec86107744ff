"""A private, running postern instance for integration tests.

Usage (in a test module):

    from instance import Instance, instance_factory, SmtpConn, read_queue_file

    def test_something(instance_factory):
        inst = instance_factory(main={"mynetworks": "192.0.2.0/24"})
        inst.start()
        c = inst.smtp_connect()           # raw SMTP over a socket
        assert c.expect(220)
        ...
        inst.wait_log(r"disconnect from")

What an Instance is:
  * a temporary base directory (mode 0755, so that daemons running as
    mail_owner can traverse it) holding etc/ (main.cf, master.cf,
    aliases), q/ (queue_directory), data/ and log/maillog;
  * main.cf with queue, data, daemon (build/libexec) and command
    (build/sbin) directories, maillog_file, loopback-only networking,
    short throttle and stop times, a fixed myhostname (mx.example.com)
    and alias_maps = inline:{...} so that no system file is consulted;
    `main={...}` adds or overrides parameters, `main_lines=[...]`
    appends raw lines;
  * master.cf derived from conf/master.cf: every service keeps its
    columns and -o options, chroot is turned off, the "smtp inet"
    service listens on 127.0.0.1:<free high port> (inst.smtp_port).
    `services=[...]` keeps only the named "name/type" entries (the
    default keeps every service whose program exists in the build);
    `master_lines=[...]` appends more services, `smtpd_options=[...]`
    adds "-o name=value" to the SMTP service.
  * run as root (the test suite's usual case) daemons drop to the
    postern account or nobody, as master(8) does in production; run as
    another user, everything runs as that user.

start() runs `postern -c etc start`; stop() runs `postern stop`;
teardown (the fixture, or inst.cleanup()) also SIGKILLs, by recorded
pid, the master and every daemon it was seen to run, and removes the
base directory.

Helpers: logtext(), wait_log(regex, timeout, count), daemon_pids(name),
kill_daemon(name), queue_files(subdirs), wait_queue_files(n, ...),
read_queue_file(path) (a lib/rec.h record reader that also gathers the
envelope and content), smtp_connect() (SmtpConn: send raw bytes, read
multi-line replies), smtplib_client() (smtplib.SMTP).
"""
import grp
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ROOT, free_port, run

IS_ROOT = os.geteuid() == 0

# ---------------------------------------------------------------- records
# lib/rec.h record types
REC_SIZE, REC_TIME, REC_FROM, REC_RCPT, REC_DONE = "C", "T", "S", "R", "D"
REC_ORCP, REC_NOTIFY, REC_DSN_ORCPT, REC_ATTR = "O", "Y", "Q", "A"
REC_MESG, REC_NORM, REC_CONT, REC_XTRA, REC_END = "M", "N", "L", "X", "E"
REC_TYPES = set("CTSRDOYQAMNLXE")
REC_VARINT_MAX = 5


class RecordError(Exception):
    pass


def parse_records(blob: bytes):
    """Split bytes into [(type, data)], checking the framing as rec_get() does."""
    out, i = [], 0
    while i < len(blob):
        rtype = chr(blob[i])
        if rtype not in REC_TYPES:
            raise RecordError(f"unknown record type {rtype!r} at offset {i}")
        i += 1
        n, shift, used = 0, 0, 0
        while True:
            if i >= len(blob):
                raise RecordError("record length cut short")
            byte = blob[i]
            i += 1
            used += 1
            n |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
            if used >= REC_VARINT_MAX:
                raise RecordError("record length too long")
        if i + n > len(blob):
            raise RecordError("record data cut short")
        out.append((rtype, blob[i:i + n]))
        i += n
    return out


class QueueFile:
    """A queue file read back: records plus the envelope and content."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.mode = self.path.stat().st_mode & 0o7777
        self.records = parse_records(self.path.read_bytes())
        self.sender = None
        self.recipients = []   # dicts: addr, done, orcp, notify, dsn_orcpt
        self.attrs = {}
        self.lines = []        # content lines (bytes), CONT pieces joined
        self.complete = bool(self.records) and self.records[-1][0] == REC_END
        pending = {}
        in_content = False
        piece = b""
        for rtype, data in self.records:
            if in_content:
                if rtype == REC_CONT:
                    piece += data
                    continue
                if rtype == REC_NORM:
                    self.lines.append(piece + data)
                    piece = b""
                    continue
                in_content = False
            if rtype == REC_MESG:
                in_content = True
            elif rtype == REC_FROM:
                self.sender = data.decode("utf-8", "surrogateescape")
            elif rtype == REC_ATTR:
                name, _, value = data.decode("utf-8", "surrogateescape").partition("=")
                self.attrs[name] = value
            elif rtype == REC_ORCP:
                pending["orcp"] = data.decode("utf-8", "surrogateescape")
            elif rtype == REC_NOTIFY:
                pending["notify"] = int(data)
            elif rtype == REC_DSN_ORCPT:
                pending["dsn_orcpt"] = data.decode("utf-8", "surrogateescape")
            elif rtype in (REC_RCPT, REC_DONE):
                entry = dict(pending)
                entry["addr"] = data.decode("utf-8", "surrogateescape")
                entry["done"] = rtype == REC_DONE
                self.recipients.append(entry)
                pending = {}

    @property
    def rcpt_addrs(self):
        return [r["addr"] for r in self.recipients]

    def content(self) -> bytes:
        """The message as CRLF text, as it would be sent on."""
        return b"".join(line + b"\r\n" for line in self.lines)

    def headers(self):
        """Header lines (bytes, unfolded continuation lines kept separate)."""
        out = []
        for line in self.lines:
            if line == b"":
                break
            out.append(line)
        return out

    def body(self):
        """Body lines after the first empty line."""
        try:
            return self.lines[self.lines.index(b"") + 1:]
        except ValueError:
            return []


def read_queue_file(path) -> QueueFile:
    return QueueFile(path)


# ---------------------------------------------------------------- processes

def wait_for(pred, timeout=10.0, step=0.02, what="condition"):
    """Poll pred() until it returns something true; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(step)


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _ppid(pid: int):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return None


def _cmdline(pid: int):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except (FileNotFoundError, ProcessLookupError):
        return []


def _mail_owner_for_tests() -> str:
    for name in ("postern", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            pass
    pytest.skip("no unprivileged account for mail_owner")


def _setgid_group_for_tests(owner: str) -> str:
    owner_gid = pwd.getpwnam(owner).pw_gid
    for name in ("postdrop", "mail", "daemon", "adm"):
        try:
            if grp.getgrnam(name).gr_gid != owner_gid:
                return name
        except KeyError:
            pass
    pytest.skip("no group for setgid_group")


# ---------------------------------------------------------------- master.cf

def cleanup_service_path() -> str:
    """CLEANUP_SERVICE_PATH from lib/cleanup_proto.h ("public/cleanup")."""
    text = (ROOT / "lib" / "cleanup_proto.h").read_text()
    m = re.search(r'#define\s+CLEANUP_SERVICE_PATH\s+"([^"]+)"', text)
    return m.group(1) if m else "private/cleanup"


def master_cf_entries(path: Path):
    """Entries of a master.cf: lists of the logical line's words."""
    entries = []
    for raw in path.read_text().splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if raw[0] in " \t":
            if entries:
                entries[-1].extend(raw.split())
            continue
        entries.append(raw.split())
    return entries


# ---------------------------------------------------------------- SMTP client

class SmtpConn:
    """A raw SMTP conversation: bytes out, parsed replies in."""

    def __init__(self, port: int, host="127.0.0.1", timeout=15.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def cmd(self, line):
        """Send one command with CRLF; return its reply."""
        self.send(line.encode() + b"\r\n" if isinstance(line, str) else line + b"\r\n")
        return self.reply()

    def _line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; pending {self.buf!r}")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """One (possibly multi-line) reply: (code, [texts])."""
        texts = []
        while True:
            line = self._line()
            if len(line) < 4 or not line[:3].isdigit() or line[3] not in " -":
                raise AssertionError(f"malformed reply line {line!r}")
            texts.append(line[4:])
            if line[3] == " ":
                return int(line[:3]), texts

    def expect(self, code, text=None):
        """Read a reply, assert its code (and a regex on its last line)."""
        got, texts = self.reply()
        assert got == code, f"expected {code}, got {got} {texts}"
        if text is not None:
            assert re.search(text, texts[-1]), f"{texts[-1]!r} does not match {text!r}"
        return texts

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def closed(self, timeout=5.0) -> bool:
        """True when the server has closed the connection (after any replies)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (socket.timeout, TimeoutError):
            return False
        except ConnectionResetError:
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------- instance

class Instance:
    def __init__(self, build: Path, base: Path, main=None, main_lines=(), services=None,
                 master_lines=(), smtpd_options=(), master_cf=None):
        self.build = Path(build)
        self.base = Path(base)
        self.etc = self.base / "etc"
        self.queue = self.base / "q"
        self.data = self.base / "data"
        self.logdir = self.base / "log"
        self.log = self.logdir / "maillog"
        self.postern_bin = self.build / "sbin" / "postern"
        self.seen = set()
        self.conns = []
        self.started = False
        self.smtp_port = free_port()
        for d in (self.etc, self.logdir):
            d.mkdir(parents=True, exist_ok=True)
            d.chmod(0o755)
        self.log.touch()
        self.log.chmod(0o666)  # unprivileged daemons log here too (tests only)
        if IS_ROOT:
            self.owner = _mail_owner_for_tests()
            self.group = _setgid_group_for_tests(self.owner)
        else:
            self.owner = pwd.getpwuid(os.getuid()).pw_name
            self.group = grp.getgrgid(os.getgid()).gr_name
        self.main = {
            "queue_directory": str(self.queue),
            "data_directory": str(self.data),
            "daemon_directory": str(self.build / "libexec"),
            "command_directory": str(self.build / "sbin"),
            "mail_owner": self.owner,
            "setgid_group": self.group,
            "maillog_file": str(self.log),
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "service_throttle_time": "2s",
            "master_stop_time": "2s",
            "myhostname": "mx.example.com",
            "mydomain": "example.com",
            "alias_maps": "inline:{ postmaster=root, abuse=root }",
            "alias_database": "",
        }
        self.main.update(main or {})
        self.main_lines = list(main_lines)
        self.services = services
        self.master_lines = list(master_lines)
        self.smtpd_options = list(smtpd_options)
        self.master_cf_src = Path(master_cf) if master_cf else ROOT / "conf" / "master.cf"
        self.write_main()
        self.write_master()

    # ---- configuration
    def write_main(self, **extra):
        self.main.update(extra)
        text = "".join(f"{k} = {v}\n" for k, v in self.main.items())
        text += "".join(line + "\n" for line in self.main_lines)
        (self.etc / "main.cf").write_text(text)

    def master_entries(self):
        out = []
        for words in master_cf_entries(self.master_cf_src):
            if len(words) < 8:
                continue
            name, kind = words[0], words[1]
            if self.services is not None and f"{name}/{kind}" not in self.services:
                continue
            if self.services is None and not (self.build / "libexec" / words[7]).exists():
                continue
            words = list(words)
            words[4] = "n"  # no chroot in tests
            if name == "cleanup" and kind == "unix":
                # clients connect where lib/cleanup_proto.h says, which
                # may disagree with conf/master.cf's private column
                words[2] = "y" if cleanup_service_path().startswith("private/") else "n"
            if name == "smtp" and kind == "inet":
                words[0] = f"127.0.0.1:{self.smtp_port}"
                for opt in self.smtpd_options:
                    words += ["-o", opt]
            out.append(words)
        return out

    def write_master(self):
        lines = [" ".join(w) for w in self.master_entries()] + self.master_lines
        (self.etc / "master.cf").write_text("".join(line + "\n" for line in lines))

    def reconfigure(self, **extra):
        """Change main.cf and have a running master re-read it."""
        self.write_main(**extra)
        if self.started:
            r = self.postern("reload")
            assert r.returncode == 0, r.stderr

    # ---- control
    def postern(self, *args, timeout=60):
        return run([self.postern_bin, "-c", self.etc, *args], timeout=timeout)

    def start(self):
        r = self.postern("start")
        assert r.returncode == 0, f"postern start failed: {r.stderr}\n{self.logtext()}"
        self.started = True
        pid = self.master_pid()
        assert pid and pid_alive(pid)
        self.seen.add(pid)
        return self

    def stop(self):
        if self.started:
            self.children()
            self.postern("stop")
            self.started = False

    def master_pid(self):
        try:
            text = (self.queue / "pid" / "master.pid").read_text().strip()
        except FileNotFoundError:
            return None
        return int(text) if text.isdigit() else None

    def children(self):
        master = self.master_pid()
        kids = []
        if not master:
            return kids
        for entry in os.listdir("/proc"):
            if entry.isdigit() and _ppid(int(entry)) == master and pid_alive(int(entry)):
                kids.append(int(entry))
        self.seen.update(kids)
        return kids

    def daemon_pids(self, program):
        """Live children of master running libexec/<program>."""
        return [pid for pid in self.children()
                if _cmdline(pid) and os.path.basename(_cmdline(pid)[0]) == program]

    def kill_daemon(self, program, sig=signal.SIGKILL):
        pids = self.daemon_pids(program)
        for pid in pids:
            os.kill(pid, sig)
        return pids

    def cleanup(self):
        for c in self.conns:
            c.close()
        try:
            self.stop()
        finally:
            master = self.master_pid()
            if master:
                self.seen.add(master)
            for pid in self.seen:
                if pid_alive(pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass

    # ---- logs
    def logtext(self):
        return self.log.read_text(errors="replace")

    def wait_log(self, pattern, timeout=10.0, count=1):
        rx = re.compile(pattern)
        return wait_for(lambda: len(rx.findall(self.logtext())) >= count, timeout,
                        what=f"log line /{pattern}/ in\n{self.logtext()}")

    def log_count(self, pattern):
        return len(re.findall(pattern, self.logtext()))

    # ---- queue
    def queue_files(self, subdirs=("maildrop", "incoming", "active", "deferred", "hold")):
        out = []
        for sub in subdirs:
            d = self.queue / sub
            if not d.is_dir():
                continue
            for root, _dirs, files in os.walk(d):
                out.extend(Path(root) / f for f in files)
        return sorted(out)

    def wait_queue_files(self, n, subdirs=("incoming",), timeout=10.0):
        return wait_for(lambda: (lambda f: f if len(f) >= n else None)(self.queue_files(subdirs)),
                        timeout, what=f"{n} queue file(s) in {subdirs}")

    def queue_file(self, queue_id, subdirs=("incoming", "active", "deferred", "hold")):
        for path in self.queue_files(subdirs):
            if path.name == queue_id:
                return read_queue_file(path)
        raise AssertionError(f"queue file {queue_id} not found")

    # ---- clients
    def smtp_connect(self, timeout=15.0) -> SmtpConn:
        c = SmtpConn(self.smtp_port, timeout=timeout)
        self.conns.append(c)
        return c

    def smtplib_client(self, timeout=15.0) -> smtplib.SMTP:
        return smtplib.SMTP("127.0.0.1", self.smtp_port, local_hostname="client.example.com",
                            timeout=timeout)


@pytest.fixture
def instance_factory(postern_build):
    """Make Instances (not started); all are stopped and removed afterwards."""
    made = []

    def make(**kw):
        base = Path(tempfile.mkdtemp(prefix="postern-inst-"))
        base.chmod(0o755)
        inst = Instance(postern_build, base, **kw)
        made.append(inst)
        return inst

    yield make
    for inst in made:
        try:
            inst.cleanup()
        finally:
            shutil.rmtree(inst.base, ignore_errors=True)
