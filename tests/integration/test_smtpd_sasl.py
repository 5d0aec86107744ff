"""smtpd(8) and SMTP AUTH (RFC 4954): Cyrus SASL with a sasldb made by
saslpasswd2, and Dovecot's authentication protocol (a small fake Dovecot
auth server in this file speaks its side). Good and bad passwords with
PLAIN, LOGIN and CRAM-MD5 (raw sockets, smtplib and swaks), AUTH only over
TLS, mechanisms per security options, relay after AUTH, AUTH= on MAIL,
the log lines (fail2ban's postfix-sasl patterns must match the failures)
and the queue file attributes.
"""
import base64
import hashlib
import hmac
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from conftest import free_port
from instance import instance_factory  # noqa: F401
from test_smtpd_tls import TlsConn, client_context, make_cert

REALM = "mx.example.com"
USERS = {"alice": "secret-1", "bob": "hunter2 with spaces"}
SERVICES = ["smtp/inet", "cleanup/unix"]
BASE_MAIN = {
    "mynetworks": "192.0.2.0/24",       # loopback is NOT trusted: relay needs AUTH
    "smtpd_error_sleep_time": "0",
    "smtpd_peername_lookup": "no",
    "smtpd_sasl_auth_enable": "yes",
    "smtpd_tls_loglevel": "1",
}

# fail2ban's postfix-sasl pattern (the one Postfix users have had for years),
# with its syslog prefix for "syslog_name = postfix", and the newer filter's
FAIL2BAN_PREFIX = (r"^\S+\s+\d+\s+\d\d:\d\d:\d\d\s+\S+\s+"
                   r"postfix(-\w+)?/\w+(?:/smtp[ds])?\[\d+\]:\s+")
FAIL2BAN_HOST = r"(?:::f{4,6}:)?(?P<host>[\w\-.^_]*\w)"
FAIL2BAN_OLD = (r"warning: [-._\w]+\[<HOST>\]: SASL (?:LOGIN|PLAIN|(?:CRAM|DIGEST)-MD5) "
                r"authentication failed(: [ A-Za-z0-9+/ ]*={0,2})?\s*$")
FAIL2BAN_NEW = (r"warning: [^[]*\[<HOST>\](?::\d+)?: SASL (?i:LOGIN|PLAIN|(?:CRAM|DIGEST)-MD5) "
                r"authentication failed:(?! Connection lost to authentication server| "
                r"Invalid authentication mechanism)")


def fail2ban_hosts(logtext, body):
    rx = re.compile(FAIL2BAN_PREFIX + body.replace("<HOST>", FAIL2BAN_HOST))
    return [m.group("host") for m in map(rx.search, logtext.splitlines()) if m]


# ---------------------------------------------------------------- setup

@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    return {"rsa": make_cert(d, "rsa", "rsa")}


@pytest.fixture
def sasldb():
    """A Cyrus configuration directory with smtpd.conf and a sasldb2."""
    d = Path(tempfile.mkdtemp(prefix="postern-sasl-"))
    d.chmod(0o755)
    db = d / "sasldb2"
    (d / "smtpd.conf").write_text(f"pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                                  f"sasldb_path: {db}\nmech_list: PLAIN LOGIN CRAM-MD5\n")
    for user, password in USERS.items():
        subprocess.run(["saslpasswd2", "-f", str(db), "-c", "-p", "-u", REALM, user],
                       input=password, text=True, check=True, capture_output=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def make(instance_factory, certs, conf_dir=None, master_lines=(), **main):
    conf = dict(BASE_MAIN)
    conf.update({"smtpd_tls_security_level": "may",
                 "smtpd_tls_cert_file": str(certs["rsa"]["cert"]),
                 "smtpd_tls_key_file": str(certs["rsa"]["key"])})
    if conf_dir is not None:
        conf["cyrus_sasl_config_path"] = str(conf_dir)
    conf.update(main)
    inst = instance_factory(main=conf, services=SERVICES, master_lines=list(master_lines))
    if conf_dir is not None:
        # smtpd reads the sasldb after it has dropped privileges
        db = conf_dir / "sasldb2"
        shutil.chown(db, user=inst.owner)
        db.chmod(0o600)
    return inst.start()


def connect(inst):
    c = TlsConn(inst.smtp_port)
    inst.conns.append(c)
    c.expect(220)
    return c


def ehlo(c):
    code, lines = c.cmd("EHLO client.example.com")
    assert code == 250, lines
    return lines


def auth_line(lines):
    found = [line for line in lines if line.startswith("AUTH ")]
    return set(found[0][5:].split()) if found else None


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def plain(user, password):
    return b64(f"\0{user}\0{password}")


# ---------------------------------------------------------------- Cyrus SASL

def test_ehlo_offers_auth_mechanisms(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb)
    c = connect(inst)
    lines = ehlo(c)
    assert auth_line(lines) == {"PLAIN", "LOGIN", "CRAM-MD5"}
    assert not any(line.startswith("AUTH=") for line in lines)
    # after STARTTLS, and in Postfix's place (after STARTTLS, before ENHANCEDSTATUSCODES)
    assert lines.index("STARTTLS") < [i for i, x in enumerate(lines) if x.startswith("AUTH ")][0]


def test_auth_plain_good_and_bad(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb, syslog_name="postfix")
    c = connect(inst)
    ehlo(c)
    assert c.cmd(f"AUTH PLAIN {plain('alice', 'wrong')}") == (
        535, ["5.7.8 Error: authentication failed: authentication failure"])
    assert c.cmd(f"AUTH PLAIN {plain('nobody', 'x')}") == (
        535, ["5.7.8 Error: authentication failed: authentication failure"])
    assert c.cmd(f"AUTH PLAIN {plain('alice', USERS['alice'])}") == (
        235, ["2.7.0 Authentication successful"])
    assert c.cmd(f"AUTH PLAIN {plain('alice', USERS['alice'])}") == (
        503, ["5.5.1 Error: already authenticated"])
    assert "AUTH" not in " ".join(ehlo(c)).split()
    c.cmd("QUIT")
    inst.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=2 auth=1/4 quit=1 commands=4/7")
    log = inst.logtext()
    assert log.count("warning: unknown[127.0.0.1]: SASL PLAIN authentication failed: "
                     "authentication failure\n") == 2
    assert fail2ban_hosts(log, FAIL2BAN_OLD) == ["127.0.0.1"] * 2
    assert fail2ban_hosts(log, FAIL2BAN_NEW) == ["127.0.0.1"] * 2


def test_auth_plain_without_initial_response(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb)
    c = connect(inst)
    ehlo(c)
    assert c.cmd("AUTH PLAIN") == (334, [""])
    assert c.cmd(plain("bob", USERS["bob"])) == (235, ["2.7.0 Authentication successful"])


def test_auth_login_good_and_bad(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb, syslog_name="postfix")
    c = connect(inst)
    ehlo(c)
    assert c.cmd("AUTH LOGIN") == (334, [b64("Username:")])
    assert c.cmd(b64("alice")) == (334, [b64("Password:")])
    assert c.cmd(b64("bad"))[0] == 535
    assert c.cmd(f"AUTH LOGIN {b64('alice')}") == (334, [b64("Password:")])
    assert c.cmd(b64(USERS["alice"])) == (235, ["2.7.0 Authentication successful"])
    log = inst.logtext()
    assert fail2ban_hosts(log, FAIL2BAN_OLD) == ["127.0.0.1"]
    assert "SASL LOGIN authentication failed: authentication failure" in log


def cram_response(user, password, challenge_b64):
    challenge = base64.b64decode(challenge_b64)
    digest = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()
    return b64(f"{user} {digest}")


def test_auth_cram_md5_good_and_bad(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb, syslog_name="postfix")
    c = connect(inst)
    ehlo(c)
    code, texts = c.cmd("AUTH CRAM-MD5")
    assert code == 334 and base64.b64decode(texts[0]).startswith(b"<")
    assert c.cmd(cram_response("alice", "wrong", texts[0]))[0] == 535
    code, texts = c.cmd("AUTH CRAM-MD5")
    assert c.cmd(cram_response("alice", USERS["alice"], texts[0])) == (
        235, ["2.7.0 Authentication successful"])
    assert fail2ban_hosts(inst.logtext(), FAIL2BAN_OLD) == ["127.0.0.1"]


def test_auth_command_errors(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb)
    c = connect(inst)
    assert c.cmd(f"AUTH PLAIN {plain('alice', 'x')}") == (503, ["5.5.1 Error: send HELO/EHLO first"])
    ehlo(c)
    assert c.cmd("AUTH") == (501, ["5.5.4 Syntax: AUTH mechanism"])
    assert c.cmd("AUTH PLAIN a b") == (501, ["5.5.4 Syntax: AUTH mechanism"])
    assert c.cmd("AUTH DIGEST-MD5") == (504, ["5.5.4 Unsupported authentication mechanism"])
    assert c.cmd("AUTH X\x7f")[0] == 500
    assert c.cmd("AUTH PLAIN !!!!") == (501, ["5.5.2 Invalid base64 data in initial response"])
    assert c.cmd("AUTH LOGIN") == (334, [b64("Username:")])
    assert c.cmd("*") == (501, ["5.7.0 Authentication aborted"])
    assert c.cmd("AUTH LOGIN") == (334, [b64("Username:")])
    assert c.cmd("not base64 at all") == (
        501, ["5.5.2 Invalid base64 data in continued response"])
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd(f"AUTH PLAIN {plain('alice', USERS['alice'])}") == (
        503, ["5.5.1 Error: MAIL transaction in progress"])
    inst.wait_log(r"warning: unknown\[127\.0\.0\.1\]: SASL LOGIN authentication aborted")


def test_response_line_limit(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb, smtpd_sasl_response_limit="100")
    c = connect(inst)
    ehlo(c)
    assert c.cmd("AUTH PLAIN")[0] == 334
    assert c.cmd("QUFB" * 100) == (500, ["5.5.6 Authentication exchange line is too long"])
    assert c.closed()


def test_auth_not_enabled(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_sasl_auth_enable="no")
    c = connect(inst)
    assert auth_line(ehlo(c)) is None
    assert c.cmd(f"AUTH PLAIN {plain('alice', 'x')}") == (
        503, ["5.5.1 Error: authentication not enabled"])
    # AUTH= is then an unknown MAIL parameter
    assert c.cmd("MAIL FROM:<a@example.org> AUTH=<>")[0] == 555


def test_smtplib_login(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb)
    for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
        s = inst.smtplib_client()
        s.ehlo()
        s.user, s.password = "alice", USERS["alice"]
        code, _ = s.auth(mech, getattr(s, "auth_" + mech.lower().replace("-", "_")))
        assert code == 235
        s.quit()
        s = inst.smtplib_client()
        s.ehlo()
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.login("alice", "wrong")
        s.quit()


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_swaks_auth(instance_factory, certs, sasldb, mech):
    if not shutil.which("swaks"):
        pytest.skip("swaks is not installed")
    inst = make(instance_factory, certs, sasldb, syslog_name="postfix")

    def swaks(password, *extra):
        return subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(inst.smtp_port),
                               "--auth", mech, "--auth-user", "alice", "--auth-password",
                               password, "--from", "alice@example.org", "--to",
                               "root@mx.example.com", "--timeout", "20", *extra],
                              capture_output=True, text=True, timeout=60)

    r = swaks(USERS["alice"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "235 2.7.0 Authentication successful" in r.stdout
    r = swaks("wrong")
    assert r.returncode != 0
    assert "535 5.7.8 Error: authentication failed" in r.stdout
    r = swaks(USERS["alice"], "--tls")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "with ESMTPSA" not in r.stdout  # the header is in the queue file, not the transcript
    inst.wait_log(r"client=unknown\[127\.0\.0\.1\], sasl_method=%s, sasl_username=alice@?"
                  % re.escape(mech), count=2)
    assert fail2ban_hosts(inst.logtext(), FAIL2BAN_OLD) == ["127.0.0.1"]


# ---------------------------------------------------------------- TLS and AUTH

def test_auth_only_over_tls(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb, smtpd_tls_auth_only="yes")
    c = connect(inst)
    assert auth_line(ehlo(c)) is None
    assert c.cmd(f"AUTH PLAIN {plain('alice', USERS['alice'])}") == (
        504, ["5.5.4 Encryption required for requested authentication mechanism"])
    c.starttls(client_context())
    assert auth_line(ehlo(c)) == {"PLAIN", "LOGIN", "CRAM-MD5"}
    assert c.cmd(f"AUTH PLAIN {plain('alice', USERS['alice'])}")[0] == 235
    assert c.cmd("MAIL FROM:<alice@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: x\r\n\r\nhi\r\n.\r\n")
    code, texts = c.reply()
    assert code == 250
    qid = re.search(r"queued as (\w+)", texts[0]).group(1)
    q = inst.queue_file(qid)
    assert q.attrs["protocol"] == "ESMTPSA"
    assert q.attrs["sasl_username"] == "alice"
    assert q.attrs["sasl_method"] == "PLAIN"
    received = b"\n".join(q.headers()).decode()
    assert "with ESMTPSA id " + qid in received
    assert "Authenticated sender" not in received


def test_swaks_tls_auth(instance_factory, certs, sasldb):
    if not shutil.which("swaks"):
        pytest.skip("swaks is not installed")
    inst = make(instance_factory, certs, sasldb, smtpd_tls_auth_only="yes")
    base = ["swaks", "--server", "127.0.0.1", "--port", str(inst.smtp_port), "--auth", "PLAIN",
            "--auth-user", "alice", "--auth-password", USERS["alice"], "--from",
            "alice@example.org", "--to", "root@mx.example.com", "--timeout", "20"]
    r = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0      # no AUTH offered in clear text
    r = subprocess.run(base + ["--tls"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_security_options_before_and_after_tls(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb,
                smtpd_sasl_security_options="noanonymous, noplaintext",
                smtpd_sasl_tls_security_options="noanonymous")
    c = connect(inst)
    assert auth_line(ehlo(c)) == {"CRAM-MD5"}
    assert c.cmd(f"AUTH PLAIN {plain('alice', USERS['alice'])}") == (
        504, ["5.5.4 Unsupported authentication mechanism"])
    c.starttls(client_context())
    assert auth_line(ehlo(c)) == {"PLAIN", "LOGIN", "CRAM-MD5"}
    assert c.cmd(f"AUTH PLAIN {plain('alice', USERS['alice'])}")[0] == 235


def test_starttls_forgets_login(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb)
    c = connect(inst)
    ehlo(c)
    assert c.cmd(f"AUTH PLAIN {plain('alice', USERS['alice'])}")[0] == 235
    c.starttls(client_context())
    assert auth_line(ehlo(c)) is not None     # a new login is needed, and possible
    assert c.cmd(f"AUTH PLAIN {plain('bob', USERS['bob'])}")[0] == 235


def test_broken_sasl_auth_clients(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb, broken_sasl_auth_clients="yes")
    lines = ehlo(connect(inst))
    old = [line for line in lines if line.startswith("AUTH=")]
    assert len(old) == 1 and set(old[0][5:].split()) == {"PLAIN", "LOGIN", "CRAM-MD5"}


# ---------------------------------------------------------------- mail after AUTH

def test_relay_only_after_auth(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb)
    c = connect(inst)
    ehlo(c)
    assert c.cmd("MAIL FROM:<alice@example.org>")[0] == 250
    code, texts = c.cmd("RCPT TO:<someone@elsewhere.example>")
    assert code in (454, 554) and "Relay access denied" in texts[0], texts
    assert c.cmd("RSET")[0] == 250
    assert c.cmd(f"AUTH PLAIN {plain('alice', USERS['alice'])}")[0] == 235
    assert c.cmd("MAIL FROM:<alice@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<someone@elsewhere.example>") == (250, ["2.1.5 Ok"])


def test_auth_parameter_on_mail(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb, smtpd_sasl_authenticated_header="yes")
    c = connect(inst)
    ehlo(c)
    # before AUTH the parameter is accepted and ignored (RFC 4954 section 5)
    assert c.cmd("MAIL FROM:<a@example.org> AUTH=mallory+40example.org")[0] == 250
    assert c.cmd("RSET")[0] == 250
    assert c.cmd(f"AUTH PLAIN {plain('alice', USERS['alice'])}")[0] == 235
    assert c.cmd("MAIL FROM:<a@example.org> AUTH=a+zz") == (
        501, ["5.5.4 Bad AUTH parameter syntax"])
    assert c.cmd("MAIL FROM:<a@example.org> AUTH") == (501, ["5.5.4 Bad AUTH parameter syntax"])
    assert c.cmd("MAIL FROM:<alice@example.org> AUTH=alice+40example.org")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: x\r\n\r\nhi\r\n.\r\n")
    code, texts = c.reply()
    assert code == 250
    qid = re.search(r"queued as (\w+)", texts[0]).group(1)
    inst.wait_log(r"%s: client=unknown\[127\.0\.0\.1\], sasl_method=PLAIN, sasl_username=alice, "
                  r"sasl_sender=alice@example\.org" % qid)
    received = b"\n".join(inst.queue_file(qid).headers()).decode()
    assert "(Authenticated sender: alice)" in received
    assert "with ESMTPA id" in received
    assert "mallory" not in inst.logtext()


# ---------------------------------------------------------------- submission

def shipped_entry(name):
    """A commented-out entry of conf/master.cf, uncommented, as a list of words."""
    text = (Path(__file__).resolve().parents[2] / "conf" / "master.cf").read_text()
    words = None
    for line in text.splitlines():
        if words is None and re.match(r"#%s\s+inet\s" % name, line):
            words = line[1:].split()
        elif words is not None and re.match(r"#\s+-o\s", line):
            words += line[1:].split()
        elif words is not None:
            break
    assert words, f"no commented-out {name} entry in conf/master.cf"
    return words


def test_submission_service_as_shipped(instance_factory, certs, sasldb):
    """The commented-out submission entry of conf/master.cf, uncommented."""
    words = shipped_entry("submission")
    port = free_port()
    words[0] = f"127.0.0.1:{port}"
    words[4] = "n"
    inst = make(instance_factory, certs, sasldb, master_lines=[" ".join(words)])
    c = TlsConn(port)
    inst.conns.append(c)
    c.expect(220)
    lines = ehlo(c)
    assert "STARTTLS" in lines and auth_line(lines) is None
    assert c.cmd("MAIL FROM:<a@example.org>") == (
        530, ["5.7.0 Must issue a STARTTLS command first"])
    c.starttls(client_context())
    assert auth_line(ehlo(c)) is not None
    # smtpd_client_restrictions = permit_sasl_authenticated, reject
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    code, texts = c.cmd("RCPT TO:<root@mx.example.com>")
    assert code == 554 and "Access denied" in texts[0], texts
    assert c.cmd("RSET")[0] == 250
    assert c.cmd(f"AUTH PLAIN {plain('alice', USERS['alice'])}")[0] == 235
    assert c.cmd("MAIL FROM:<alice@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<friend@elsewhere.example>")[0] == 250
    inst.wait_log(r"postern/submission/smtpd\[\d+\]: Anonymous TLS connection established")


def test_smtps_service_as_shipped(instance_factory, certs, sasldb):
    words = shipped_entry("smtps")
    port = free_port()
    words[0] = f"127.0.0.1:{port}"
    words[4] = "n"
    inst = make(instance_factory, certs, sasldb, master_lines=[" ".join(words)])
    s = smtplib.SMTP_SSL("127.0.0.1", port, context=client_context(), timeout=15)
    s.ehlo("client.example.com")
    assert "auth" in s.esmtp_features
    s.login("alice", USERS["alice"])
    s.sendmail("alice@example.org", ["friend@elsewhere.example"], b"Subject: x\r\n\r\nhi\r\n")
    s.quit()


# ---------------------------------------------------------------- Dovecot

class FakeDovecot:
    """The server side of Dovecot's auth protocol, enough for PLAIN and LOGIN."""

    HANDSHAKE = ("VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n"
                 "MECH\tANONYMOUS\tanonymous\nMECH\tSECRET\tprivate\n"
                 "SPID\t4242\nCUID\t7\nCOOKIE\t0123456789abcdef\nDONE\n")

    def __init__(self, path: Path, users):
        self.path = path
        self.users = users
        self.requests = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if path.exists():
            path.unlink()
        self.sock.bind(str(path))
        os.chmod(path, 0o666)
        self.sock.listen(16)
        self.stopped = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def stop(self):
        self.stopped = True
        try:
            self.sock.close()
            self.path.unlink()
        except OSError:
            pass

    def accept_loop(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def check(self, user, password):
        return self.users.get(user) == password

    def serve(self, conn):
        f = conn.makefile("rwb", buffering=0)
        conn.sendall(self.HANDSHAKE.encode())
        state = {}
        for raw in f:
            line = raw.decode().rstrip("\n")
            self.requests.append(line)
            fields = line.split("\t")
            if fields[0] == "AUTH":
                rid, mech = fields[1], fields[2]
                params = dict(p.split("=", 1) if "=" in p else (p, "") for p in fields[3:])
                resp = params.get("resp")
                state[rid] = {"mech": mech, "step": 0}
                self.step(conn, rid, state[rid], resp)
            elif fields[0] == "CONT":
                rid = fields[1]
                self.step(conn, rid, state[rid], fields[2])

    def step(self, conn, rid, st, resp):
        def send(text):
            conn.sendall((text + "\n").encode())

        if st["mech"] == "PLAIN":
            if resp is None:
                return send(f"CONT\t{rid}\t")
            _, user, password = base64.b64decode(resp).decode().split("\0")
            return self.verdict(send, rid, user, password)
        # LOGIN
        if st["step"] == 0 and resp is None:
            st["step"] = 1
            return send(f"CONT\t{rid}\t{b64('Username:')}")
        if st["step"] <= 1:
            st["user"] = base64.b64decode(resp).decode()
            st["step"] = 2
            return send(f"CONT\t{rid}\t{b64('Password:')}")
        return self.verdict(send, rid, st["user"], base64.b64decode(resp).decode())

    def verdict(self, send, rid, user, password):
        if user == "tempfail":
            return send(f"FAIL\t{rid}\ttemp\treason=backend down")
        if user == "chatty":
            return send(f"FAIL\t{rid}\tuser=chatty\treason=Password expired (see: admin).")
        if self.check(user, password):
            return send(f"OK\t{rid}\tuser={user}")
        return send(f"FAIL\t{rid}\tuser={user}")


@pytest.fixture
def dovecot_instance(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_sasl_type="dovecot",
                smtpd_sasl_path="private/auth", syslog_name="postfix")
    fake = FakeDovecot(inst.queue / "private" / "auth", USERS)
    yield inst, fake
    fake.stop()


def test_dovecot_plain_and_login(dovecot_instance):
    inst, fake = dovecot_instance
    c = connect(inst)
    lines = ehlo(c)
    assert auth_line(lines) == {"PLAIN", "LOGIN"}     # no anonymous, no private mechanisms
    assert c.cmd(f"AUTH PLAIN {plain('alice', 'wrong')}") == (
        535, ["5.7.8 Error: authentication failed: authentication failure"])
    assert c.cmd("AUTH LOGIN") == (334, [b64("Username:")])
    assert c.cmd(b64("bob")) == (334, [b64("Password:")])
    assert c.cmd(b64(USERS["bob"])) == (235, ["2.7.0 Authentication successful"])
    assert c.cmd("MAIL FROM:<bob@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    c.cmd("QUIT")
    hs = [r for r in fake.requests if r.startswith(("VERSION", "CPID"))]
    assert hs[0] == "VERSION\t1\t1" and re.fullmatch(r"CPID\t\d+", hs[1])
    auth = [r for r in fake.requests if r.startswith("AUTH")]
    assert auth[0].startswith("AUTH\t1\tPLAIN\tservice=smtp\tnologin\t")
    assert "\trip=127.0.0.1" in auth[0] and "\tlip=127.0.0.1" in auth[0]
    assert "\tsecured" not in auth[0]
    assert re.search(r"\tresp=\S+$", auth[0])
    assert fail2ban_hosts(inst.logtext(), FAIL2BAN_OLD) == ["127.0.0.1"]


def test_dovecot_secured_after_starttls_and_reasons(dovecot_instance):
    inst, fake = dovecot_instance
    c = connect(inst)
    ehlo(c)
    c.starttls(client_context())
    ehlo(c)
    assert c.cmd(f"AUTH PLAIN {plain('chatty', 'x')}") == (
        535, ["5.7.8 Error: authentication failed: Password expired (see: admin)."])
    assert c.cmd(f"AUTH PLAIN {plain('tempfail', 'x')}") == (
        454, ["4.7.0 Temporary authentication failure: backend down"])
    assert c.cmd("AUTH PLAIN") == (334, [""])
    assert c.cmd(plain("alice", USERS["alice"]))[0] == 235
    auth = [r for r in fake.requests if r.startswith("AUTH")]
    assert all("\tsecured" in r for r in auth)
    log = inst.logtext()
    # the reason is made safe for fail2ban's pattern in the log line
    assert "SASL PLAIN authentication failed: Password expired  see  admin\n" in log
    assert fail2ban_hosts(log, FAIL2BAN_OLD) == ["127.0.0.1"] * 2


def test_dovecot_protocol_injection_refused(dovecot_instance):
    inst, fake = dovecot_instance
    c = connect(inst)
    ehlo(c)
    assert c.cmd("AUTH PLAIN\tresp=AAAA")[0] == 501
    assert c.cmd("AUTH LOGIN")[0] == 334
    assert c.cmd(b64("alice") + "\tuser=admin")[0] == 501
    assert c.cmd("AUTH PLAIN dGVzdA==\x01t")[0] in (500, 501)
    for r in fake.requests:
        assert "user=admin" not in r and r.count("resp=") <= 1


def test_dovecot_down(instance_factory, certs):
    inst = make(instance_factory, certs, smtpd_sasl_type="dovecot",
                smtpd_sasl_path="private/auth")
    c = connect(inst)
    assert auth_line(ehlo(c)) is None
    assert c.cmd(f"AUTH PLAIN {plain('alice', USERS['alice'])}") == (
        454, ["4.7.0 Temporary authentication failure: authentication service unavailable"])
    inst.wait_log(r"warning: SASL: Connect to private/auth failed")
    # and when it comes up, the next session can log in
    fake = FakeDovecot(inst.queue / "private" / "auth", USERS)
    try:
        c = connect(inst)
        assert auth_line(ehlo(c)) == {"PLAIN", "LOGIN"}
        assert c.cmd(f"AUTH PLAIN {plain('alice', USERS['alice'])}")[0] == 235
    finally:
        fake.stop()
