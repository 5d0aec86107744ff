"""dnsmasq as a private DNS server for integration tests.

    from dnsmasq_helper import Dnsmasq, dnsmasq

    def test_mx(dnsmasq):                      # the fixture: started, stopped after
        dnsmasq.mx("example.test", "mx1.example.test", 10)
        dnsmasq.host("mx1.example.test", "127.0.0.2")
        dnsmasq.start()
        ... main.cf: smtp_dns_servers = dnsmasq.server   ("127.0.0.1:PORT")

Records are declared before start() (restart() applies later changes):
  mx(domain, host, pref)        an MX record
  null_mx(domain)               RFC 7505 null MX (preference 0, exchange ".")
  host(name, *addrs)            A and AAAA records
  txt(name, text)               a TXT record (split into 255-byte strings)
  cname(alias, target)          a CNAME to a name dnsmasq knows
  rr(name, rrtype, hexdata)     any record, as dnsmasq's --dns-rr
Names under the local domains (default "test") that have no record get
NXDOMAIN, names that have records of other types NODATA; names outside
them get REFUSED (dnsmasq has no upstream server), which resolvers treat
as a temporary failure.

dnsmasq listens on 127.0.0.1 and a free high port (UDP and TCP), runs in
the foreground, reads no system file, and is stopped by its pid. When
dnsmasq is not installed the fixture skips the test.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"


def _free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 a moment ago."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


def _udp_bound(port: int) -> bool:
    """Is something bound to 127.0.0.1:port/udp? (from /proc/net/udp)"""
    want = "0100007F:%04X" % port
    try:
        with open("/proc/net/udp") as f:
            return any(line.split()[1] == want for line in f.readlines()[1:])
    except OSError:
        return False


class Dnsmasq:
    def __init__(self, domains=("test",)):
        self.domains = list(domains)
        self.records = []
        self.port = None
        self.proc = None
        self.tmp = Path(tempfile.mkdtemp(prefix="postern-dns-"))

    # ---- records
    def mx(self, domain, host, pref=10):
        self.records.append(f"--mx-host={domain},{host},{pref}")
        return self

    def null_mx(self, domain):
        self.records.append(f"--dns-rr={domain},15,000000")
        return self

    def host(self, name, *addrs):
        for a in addrs:
            self.records.append(f"--host-record={name},{a}")
        return self

    def txt(self, name, text):
        chunks = [text[i:i + 255] for i in range(0, len(text), 255)] or [""]
        quoted = ",".join('"' + c.replace('"', '\\"') + '"' for c in chunks)
        self.records.append(f"--txt-record={name},{quoted}")
        return self

    def cname(self, alias, target):
        self.records.append(f"--cname={alias},{target}")
        return self

    def rr(self, name, rrtype, hexdata):
        self.records.append(f"--dns-rr={name},{rrtype},{hexdata}")
        return self

    # ---- process
    @property
    def server(self) -> str:
        """The value for smtp_dns_servers."""
        return f"127.0.0.1:{self.port}"

    def start(self, timeout=10.0):
        if not os.access(DNSMASQ, os.X_OK):
            pytest.skip("dnsmasq is not installed")
        if self.port is None:
            self.port = _free_port()
        args = [DNSMASQ, "--keep-in-foreground", f"--port={self.port}",
                "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--conf-file=/dev/null", f"--pid-file={self.tmp / 'dnsmasq.pid'}",
                f"--log-facility={self.tmp / 'dnsmasq.log'}", "--log-queries"]
        if os.geteuid() == 0:
            args.append("--user=root")
        args += [f"--local=/{d}/" for d in self.domains]
        args += self.records
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while not _udp_bound(self.port):
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")
                raise RuntimeError(f"dnsmasq exited {self.proc.returncode}: {err}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("dnsmasq did not start")
            time.sleep(0.02)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def queries(self):
        """dnsmasq's query log lines (--log-queries)."""
        try:
            return [line for line in (self.tmp / "dnsmasq.log").read_text().splitlines()
                    if "query[" in line]
        except FileNotFoundError:
            return []

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture
def dnsmasq():
    d = Dnsmasq()
    yield d
    d.cleanup()
