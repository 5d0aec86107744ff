"""smtpd(8) and TLS: STARTTLS (RFC 3207), implicit TLS on a wrapper-mode
service (RFC 8314), protocol and cipher policy, RSA and ECDSA
certificates, session resumption, certificate renewal, and the
CVE-2011-0411 class (plaintext pipelined behind STARTTLS).

Clients: Python's ssl module over raw sockets (so that every byte is
under the test's control) and swaks. Certificates are made with the
openssl command. No qmgr runs: accepted mail stays in incoming/.
"""
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from instance import SmtpConn, instance_factory, pid_alive, wait_for  # noqa: F401
from conftest import free_port

pytestmark = pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")

SERVICES = ["smtp/inet", "cleanup/unix"]
BASE_MAIN = {
    "mynetworks": "127.0.0.0/8",
    "smtpd_error_sleep_time": "0",
    "smtpd_peername_lookup": "no",
    "smtpd_tls_loglevel": "1",
}


# ---------------------------------------------------------------- certificates

def make_cert(directory: Path, name: str, kind="rsa", cn="mx.example.com") -> dict:
    """A self-signed certificate and key; returns paths and the DER certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / f"{name}.key"
    cert = directory / f"{name}.crt"
    if kind == "rsa":
        newkey = ["-newkey", "rsa:2048"]
    else:
        newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    subprocess.run(["openssl", "req", "-x509", *newkey, "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", f"/CN={cn}"],
                   check=True, capture_output=True)
    key.chmod(0o600)
    der = subprocess.run(["openssl", "x509", "-in", str(cert), "-outform", "DER"],
                         check=True, capture_output=True).stdout
    chain = directory / f"{name}.pem"
    chain.write_bytes(key.read_bytes() + cert.read_bytes())
    chain.chmod(0o600)
    return {"key": key, "cert": cert, "chain": chain, "der": der}


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    return {"rsa": make_cert(d, "rsa", "rsa"), "ecdsa": make_cert(d, "ecdsa", "ec"),
            "rsa2": make_cert(d, "rsa2", "rsa"), "dir": d}


def make(instance_factory, certs, master_lines=(), smtpd_options=(), **main):
    conf = dict(BASE_MAIN)
    conf.update({"smtpd_tls_security_level": "may",
                 "smtpd_tls_cert_file": str(certs["rsa"]["cert"]),
                 "smtpd_tls_key_file": str(certs["rsa"]["key"])})
    conf.update(main)
    return instance_factory(main=conf, services=SERVICES, master_lines=list(master_lines),
                            smtpd_options=list(smtpd_options)).start()


# ---------------------------------------------------------------- clients

def client_context(minimum=None, maximum=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if ciphers:
        ctx.set_ciphers(ciphers)
    if minimum:
        ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    return ctx


class TlsConn(SmtpConn):
    """SmtpConn whose socket can be switched to TLS."""

    def starttls(self, ctx=None, session=None):
        code, texts = self.cmd("STARTTLS")
        assert (code, texts) == (220, ["2.0.0 Ready to start TLS"]), (code, texts)
        assert self.buf == b"", f"server sent more after 220: {self.buf!r}"
        self.wrap(ctx, session)

    def wrap(self, ctx=None, session=None):
        ctx = ctx or client_context()
        self.sock = ctx.wrap_socket(self.sock, server_hostname="mx.example.com", session=session)


def connect(inst, port=None) -> TlsConn:
    c = TlsConn(port or inst.smtp_port)
    inst.conns.append(c)
    return c


def ehlo(c, name="client.example.com"):
    code, lines = c.cmd(f"EHLO {name}")
    assert code == 250, lines
    return lines


def send_message(c, sender="sender@example.org", rcpt="root@mx.example.com",
                 body=b"Subject: tls\r\n\r\nhello\r\n"):
    assert c.cmd(f"MAIL FROM:<{sender}>")[0] == 250
    assert c.cmd(f"RCPT TO:<{rcpt}>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(body + b".\r\n")
    code, texts = c.reply()
    assert code == 250, texts
    return re.search(r"queued as ([0-9A-F]+)", texts[-1]).group(1)


def received_header(inst, qid):
    q = inst.queue_file(qid)
    lines = []
    for line in q.headers():
        if line.startswith(b"Received:") and not lines:
            lines.append(line)
        elif lines and line[:1] in (b" ", b"\t"):
            lines.append(line)
        elif lines:
            break
    return b"\n".join(lines).decode()


# ---------------------------------------------------------------- STARTTLS

def test_starttls_session(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_tls_received_header="yes")
    c = connect(inst)
    c.expect(220)
    lines = ehlo(c)
    assert "STARTTLS" in lines
    assert lines.index("STARTTLS") == lines.index("VRFY") + 1
    c.starttls()
    assert c.sock.version() == "TLSv1.3"
    lines = ehlo(c)
    assert "STARTTLS" not in lines
    assert c.cmd("STARTTLS") == (554, ["5.5.1 Error: TLS already active"])
    qid = send_message(c)
    assert c.cmd("QUIT")[0] == 221
    cipher = c.sock.cipher()[0]
    rec = received_header(inst, qid)
    assert f"(using TLSv1.3 with cipher {cipher} (256/256 bits))" in rec, rec
    assert "(No client certificate requested)" in rec
    assert re.search(r"with ESMTPS id " + qid, rec), rec
    assert inst.queue_file(qid).attrs["protocol"] == "ESMTPS"
    inst.wait_log(r"Anonymous TLS connection established from unknown\[127\.0\.0\.1\]: "
                  r"TLSv1\.3 with cipher TLS_AES_256_GCM_SHA384 \(256/256 bits\)")
    inst.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=2 starttls=1/2 mail=1 rcpt=1 "
                  r"data=1 quit=1 commands=7/8")


def test_received_header_off_by_default_and_loglevel_0(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_tls_loglevel="0")
    c = connect(inst)
    c.expect(220)
    ehlo(c)
    c.starttls()
    ehlo(c)
    qid = send_message(c)
    c.cmd("QUIT")
    rec = received_header(inst, qid)
    assert "(using" not in rec and "with ESMTPS" in rec, rec
    inst.wait_log(r"disconnect from")
    assert "TLS connection established" not in inst.logtext()


def test_starttls_syntax_and_sequence(instance_factory, certs):
    inst = make(instance_factory, certs)
    c = connect(inst)
    c.expect(220)
    ehlo(c)
    assert c.cmd("STARTTLS now") == (501, ["5.5.4 Syntax: STARTTLS"])
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("STARTTLS") == (503, ["5.5.1 Error: MAIL transaction in progress"])
    assert c.cmd("RSET")[0] == 250
    c.starttls()
    # RFC 3207 4.2: everything learned before the handshake is forgotten
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (503, ["5.5.1 Error: need MAIL command"])
    ehlo(c)
    send_message(c)


def test_swaks_starttls(instance_factory, certs):
    if not shutil.which("swaks"):
        pytest.skip("swaks is not installed")
    inst = make(instance_factory, certs)
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(inst.smtp_port), "--tls",
                        "--from", "a@example.org", "--to", "root@mx.example.com",
                        "--helo", "client.example.com", "--timeout", "20"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "220 2.0.0 Ready to start TLS" in r.stdout
    assert re.search(r"<~ *250 2\.0\.0 Ok: queued as", r.stdout), r.stdout


def test_level_none_refuses_starttls(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_tls_security_level="none")
    c = connect(inst)
    c.expect(220)
    assert "STARTTLS" not in ehlo(c)
    assert c.cmd("STARTTLS") == (502, ["5.5.2 Error: command not recognized"])


def test_old_smtpd_use_tls_means_may(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_tls_security_level="", smtpd_use_tls="yes")
    c = connect(inst)
    c.expect(220)
    assert "STARTTLS" in ehlo(c)
    c.starttls()


def test_level_encrypt_requires_starttls(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_tls_security_level="encrypt")
    c = connect(inst)
    c.expect(220)
    assert "STARTTLS" in ehlo(c)
    must = (530, ["5.7.0 Must issue a STARTTLS command first"])
    assert c.cmd("MAIL FROM:<a@example.org>") == must
    assert c.cmd("VRFY root") == must
    assert c.cmd("AUTH PLAIN AGEAYg==") == must
    assert c.cmd("NOOP")[0] == 250
    assert c.cmd("RSET")[0] == 250
    c.starttls()
    ehlo(c)
    send_message(c)


def test_missing_certificate_gives_454(instance_factory, certs, tmp_path):
    inst = make(instance_factory, certs, smtpd_tls_cert_file=str(tmp_path / "none.crt"),
                smtpd_tls_key_file=str(tmp_path / "none.key"))
    c = connect(inst)
    c.expect(220)
    assert "STARTTLS" in ehlo(c)
    assert c.cmd("STARTTLS") == (454, ["4.7.0 TLS not available due to local problem"])
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250  # level may: clear text goes on
    inst.wait_log(r"warning: cannot start the TLS server engine: cannot open .*none\.key.*"
                  r"disabling TLS support")


def test_key_that_does_not_match_is_refused(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_tls_cert_file=str(certs["rsa"]["cert"]),
                smtpd_tls_key_file=str(certs["rsa2"]["key"]))
    c = connect(inst)
    c.expect(220)
    ehlo(c)
    assert c.cmd("STARTTLS")[0] == 454
    inst.wait_log(r"cannot use the certificate and private key .*do they match")


# ---------------------------------------------------------------- CVE-2011-0411

def test_plaintext_pipelined_behind_starttls_is_discarded(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_forbid_unauth_pipelining="no")
    c = connect(inst)
    c.expect(220)
    ehlo(c)
    # one segment: STARTTLS and commands an attacker injected in clear text
    c.send(b"STARTTLS\r\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<root@mx.example.com>\r\n")
    assert c.reply() == (220, ["2.0.0 Ready to start TLS"])
    c.wrap()
    # the first reply over TLS answers the first command sent over TLS
    lines = ehlo(c)
    assert lines[0] == "mx.example.com"
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (503, ["5.5.1 Error: need MAIL command"])
    assert c.cmd("DATA") == (503, ["5.5.1 Error: need RCPT command"])
    send_message(c)
    c.cmd("QUIT")
    inst.wait_log(r"disconnect from")
    assert "evil@example.net" not in inst.logtext()


def test_plaintext_pipelined_behind_starttls_disconnects_by_default(instance_factory, certs):
    inst = make(instance_factory, certs)
    c = connect(inst)
    c.expect(220)
    ehlo(c)
    c.send(b"STARTTLS\r\nMAIL FROM:<evil@example.net>\r\n")
    assert c.reply() == (554, ["5.5.0 Error: SMTP protocol synchronization"])
    assert c.closed()
    inst.wait_log(r"improper command pipelining after STARTTLS from unknown\[127\.0\.0\.1\]: "
                  r"MAIL FROM:<evil@example\.net>")


def test_garbage_instead_of_handshake(instance_factory, certs):
    inst = make(instance_factory, certs)
    c = connect(inst)
    c.expect(220)
    ehlo(c)
    assert c.cmd("STARTTLS")[0] == 220
    c.send(b"MAIL FROM:<a@example.org>\r\n" * 20)
    assert c.closed()
    inst.wait_log(r"SSL_accept error from unknown\[127\.0\.0\.1\]")
    inst.wait_log(r"lost connection after STARTTLS from unknown\[127\.0\.0\.1\]")
    # the server is still there for the next client
    c = connect(inst)
    c.expect(220)
    ehlo(c)
    c.starttls()
    ehlo(c)


# ---------------------------------------------------------------- implicit TLS

def wrapper_instance(instance_factory, certs, **main):
    port = free_port()
    line = (f"127.0.0.1:{port} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes "
            f"-o syslog_name=postern/smtps")
    inst = make(instance_factory, certs, master_lines=[line], **main)
    return inst, port


def test_implicit_tls_wrapper_mode(instance_factory, certs):
    inst, port = wrapper_instance(instance_factory, certs, smtpd_tls_received_header="yes")
    raw = socket.create_connection(("127.0.0.1", port), timeout=15)
    c = TlsConn.__new__(TlsConn)
    c.sock = client_context().wrap_socket(raw, server_hostname="mx.example.com")
    c.buf = b""
    inst.conns.append(c)
    assert c.reply() == (220, ["mx.example.com ESMTP Postern"])
    lines = ehlo(c)
    assert "STARTTLS" not in lines
    assert c.cmd("STARTTLS") == (502, ["5.5.2 Error: command not recognized"])
    qid = send_message(c)
    c.cmd("QUIT")
    assert "with ESMTPS id" in received_header(inst, qid)
    inst.wait_log(r"postern/smtps/smtpd\[\d+\]: Anonymous TLS connection established from "
                  r"unknown\[127\.0\.0\.1\]")


def test_implicit_tls_with_swaks(instance_factory, certs):
    if not shutil.which("swaks"):
        pytest.skip("swaks is not installed")
    inst, port = wrapper_instance(instance_factory, certs)
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port), "--tlsc",
                        "--from", "a@example.org", "--to", "root@mx.example.com",
                        "--timeout", "20"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"<~ *250 2\.0\.0 Ok: queued as", r.stdout), r.stdout


def test_implicit_tls_plaintext_client_gets_nothing(instance_factory, certs):
    inst, port = wrapper_instance(instance_factory, certs)
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    s.sendall(b"EHLO client.example.com\r\n")
    s.settimeout(10)
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    assert b"220" not in data and b"250" not in data
    inst.wait_log(r"SSL_accept error from unknown\[127\.0\.0\.1\]")


def test_wrapper_mode_without_certificate_drops(instance_factory, certs, tmp_path):
    inst, port = wrapper_instance(instance_factory, certs,
                                  smtpd_tls_cert_file=str(tmp_path / "missing.crt"))
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    s.settimeout(10)
    assert s.recv(100) == b""
    inst.wait_log(r"Wrapper-mode request dropped from unknown\[127\.0\.0\.1\] for service "
                  r"127\.0\.0\.1:\d+\. TLS context initialization failed")


# ---------------------------------------------------------------- protocols, ciphers

def tls_handshake(inst, ctx, port=None):
    """STARTTLS with ctx; returns the TLS socket or raises ssl.SSLError."""
    c = connect(inst, port)
    c.expect(220)
    ehlo(c)
    c.starttls(ctx)
    return c


def legacy_context(version):
    ctx = client_context(minimum=version, maximum=version, ciphers="ALL:@SECLEVEL=0")
    return ctx


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_old_tls_versions_refused(instance_factory, certs, version):
    inst = make(instance_factory, certs,
                smtpd_tls_protocols="!SSLv2, !SSLv3, !TLSv1, !TLSv1.1",
                tls_medium_cipherlist="aNULL:-aNULL:HIGH:MEDIUM:@SECLEVEL=0")
    with pytest.raises((ssl.SSLError, ConnectionResetError, EOFError)):
        tls_handshake(inst, legacy_context(version))
    inst.wait_log(r"SSL_accept error from unknown\[127\.0\.0\.1\]")
    # TLS 1.2 is still fine
    c = tls_handshake(inst, client_context(maximum=ssl.TLSVersion.TLSv1_2))
    assert c.sock.version() == "TLSv1.2"


def test_old_tls_version_works_when_allowed(instance_factory, certs):
    """The control for the test above: the refusal comes from smtpd_tls_protocols."""
    inst = make(instance_factory, certs, smtpd_tls_protocols=">=TLSv1",
                tls_medium_cipherlist="aNULL:-aNULL:HIGH:MEDIUM:@SECLEVEL=0")
    try:
        c = tls_handshake(inst, legacy_context(ssl.TLSVersion.TLSv1))
    except ssl.SSLError as e:  # the local OpenSSL build may lack TLSv1 altogether
        pytest.skip(f"this OpenSSL cannot speak TLSv1 as a client: {e}")
    assert c.sock.version() == "TLSv1"
    ehlo(c)


def test_range_syntax_and_mandatory_protocols(instance_factory, certs):
    # at level encrypt the mandatory list applies, not smtpd_tls_protocols
    inst = make(instance_factory, certs, smtpd_tls_security_level="encrypt",
                smtpd_tls_protocols=">=TLSv1.2", smtpd_tls_mandatory_protocols=">=TLSv1.3")
    with pytest.raises((ssl.SSLError, ConnectionResetError, EOFError)):
        tls_handshake(inst, client_context(maximum=ssl.TLSVersion.TLSv1_2))
    c = tls_handshake(inst, client_context())
    assert c.sock.version() == "TLSv1.3"


def test_upper_bound(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_tls_protocols="<=TLSv1.2")
    c = tls_handshake(inst, client_context())
    assert c.sock.version() == "TLSv1.2"


def test_cipher_exclusions(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_tls_ciphers="high",
                smtpd_tls_exclude_ciphers="AESGCM, CHACHA20")
    c = tls_handshake(inst, client_context(maximum=ssl.TLSVersion.TLSv1_2))
    name = c.sock.cipher()[0]
    assert "GCM" not in name and "CHACHA" not in name, name


def test_bad_protocol_list_disables_tls(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_tls_protocols="!TLSv9")
    c = connect(inst)
    c.expect(220)
    ehlo(c)
    assert c.cmd("STARTTLS")[0] == 454
    inst.wait_log(r"unknown TLS protocol \"TLSv9\"")


# ---------------------------------------------------------------- certificates

def peer_der(c):
    return c.sock.getpeercert(binary_form=True)


def test_rsa_and_ecdsa_chain_files(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_tls_cert_file="",
                smtpd_tls_chain_files=f"{certs['rsa']['chain']}, {certs['ecdsa']['chain']}")
    c = tls_handshake(inst, client_context(maximum=ssl.TLSVersion.TLSv1_2,
                                           ciphers="ECDHE-ECDSA-AES128-GCM-SHA256"))
    assert peer_der(c) == certs["ecdsa"]["der"]
    c = tls_handshake(inst, client_context(maximum=ssl.TLSVersion.TLSv1_2,
                                           ciphers="ECDHE-RSA-AES128-GCM-SHA256"))
    assert peer_der(c) == certs["rsa"]["der"]


def test_rsa_and_ecdsa_cert_files(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_tls_eccert_file=str(certs["ecdsa"]["cert"]),
                smtpd_tls_eckey_file=str(certs["ecdsa"]["key"]))
    c = tls_handshake(inst, client_context(maximum=ssl.TLSVersion.TLSv1_2,
                                           ciphers="ECDHE-ECDSA-AES128-GCM-SHA256"))
    assert peer_der(c) == certs["ecdsa"]["der"]
    c = tls_handshake(inst, client_context(maximum=ssl.TLSVersion.TLSv1_2,
                                           ciphers="ECDHE-RSA-AES128-GCM-SHA256"))
    assert peer_der(c) == certs["rsa"]["der"]


def test_key_and_certificate_in_one_file(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_tls_cert_file=str(certs["rsa"]["chain"]),
                smtpd_tls_key_file="$smtpd_tls_cert_file")
    assert peer_der(tls_handshake(inst, client_context())) == certs["rsa"]["der"]


def smtpd_pids(inst):
    return set(inst.daemon_pids("smtpd"))


def test_certificate_renewal_with_reload(instance_factory, certs, tmp_path):
    live = tmp_path / "live"
    live.mkdir()
    shutil.copy(certs["rsa"]["chain"], live / "server.pem")
    inst = make(instance_factory, certs, smtpd_tls_cert_file="",
                smtpd_tls_chain_files=str(live / "server.pem"))
    c = tls_handshake(inst, client_context())
    assert peer_der(c) == certs["rsa"]["der"]
    c.cmd("QUIT")
    old = smtpd_pids(inst)
    assert old
    # renew: the new file replaces the old one, as certbot and friends do
    tmp = live / "server.pem.new"
    shutil.copy(certs["rsa2"]["chain"], tmp)
    os.replace(tmp, live / "server.pem")
    count = inst.log_count(r"reload -- version")
    r = inst.postern("reload")
    assert r.returncode == 0, r.stderr
    inst.wait_log(r"reload -- version", count=count + 1)
    wait_for(lambda: not any(pid_alive(p) for p in old), what="old smtpd processes to retire")
    c = tls_handshake(inst, client_context())
    assert peer_der(c) == certs["rsa2"]["der"]


@pytest.fixture
def open_dir():
    """A directory that daemons running as mail_owner may search (stat)."""
    d = Path(tempfile.mkdtemp(prefix="postern-live-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_certificate_change_restarts_process_between_sessions(instance_factory, certs, open_dir):
    live = open_dir
    shutil.copy(certs["rsa"]["chain"], live / "server.pem")
    inst = make(instance_factory, certs, smtpd_tls_cert_file="",
                smtpd_tls_chain_files=str(live / "server.pem"))
    c = tls_handshake(inst, client_context())
    c.cmd("QUIT")
    assert c.closed()
    tmp = live / "server.pem.new"
    shutil.copy(certs["rsa2"]["chain"], tmp)
    os.replace(tmp, live / "server.pem")
    # a process that has served a session notices the change before the next
    # one that it would take, and makes way for a successor

    def new_cert():
        c = tls_handshake(inst, client_context())
        der = peer_der(c)
        c.cmd("QUIT")
        c.closed()
        return der == certs["rsa2"]["der"]

    wait_for(new_cert, timeout=20, step=0.2, what="the renewed certificate")
    inst.wait_log(r"certificate or key file .*server\.pem has changed -- restarting")


# ---------------------------------------------------------------- resumption

@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_session_resumption(instance_factory, certs, version):
    inst = make(instance_factory, certs, smtpd_tls_loglevel="2")
    ctx = client_context(maximum=version)
    c = tls_handshake(inst, ctx)
    ehlo(c)                     # TLSv1.3 tickets arrive after the handshake
    session = c.sock.session
    assert not c.sock.session_reused
    c.cmd("QUIT")
    c.closed()
    assert session is not None and session.has_ticket
    for _ in range(3):
        c = connect(inst)
        c.expect(220)
        ehlo(c)
        c.starttls(ctx, session=session)
        assert c.sock.session_reused
        assert c.sock.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                                    ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
        ehlo(c)
        c.cmd("QUIT")
    key = inst.data / "smtpd_tls_ticket.key"
    assert key.stat().st_size == 80
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    inst.wait_log(r"unknown\[127\.0\.0\.1\]: Reusing old session")


def test_resumption_across_processes(instance_factory, certs):
    """A ticket from one smtpd process is accepted by another (shared key)."""
    inst = make(instance_factory, certs)
    ctx = client_context()
    first = tls_handshake(inst, ctx)
    ehlo(first)
    session = first.sock.session
    # keep the first session open so that another process takes the next one
    second = connect(inst)
    second.expect(220)
    ehlo(second)
    second.starttls(ctx, session=session)
    assert second.sock.session_reused
    assert len(smtpd_pids(inst)) >= 2
    first.cmd("QUIT")
    second.cmd("QUIT")


def test_no_resumption_when_timeout_is_zero(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_tls_session_cache_timeout="0")
    ctx = client_context(maximum=ssl.TLSVersion.TLSv1_2)
    c = tls_handshake(inst, ctx)
    ehlo(c)
    session = c.sock.session
    c.cmd("QUIT")
    c = connect(inst)
    c.expect(220)
    ehlo(c)
    c.starttls(ctx, session=session)
    assert not c.sock.session_reused
