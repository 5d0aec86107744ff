"""Helpers for the TLS and SASL tests of smtp(8): certificates made with the
openssl command, and a scriptable SMTP server that speaks STARTTLS (or
implicit TLS) and AUTH.

Certs(dir) makes, with `openssl`:
  ca.crt/ca.key      a small CA ("postern test CA")
  mx.crt/mx.key      a server certificate signed by it, for mx.test
                     (subject alternative names DNS:mx.test, IP:127.0.0.1)
  self.crt/self.key  a self-signed certificate for mx.test
  other_ca.crt       a CA that signed nothing we use
certs(): a session-wide fixture with one Certs.

TlsPeer(...) listens on a loopback port (a thread per connection):
  cert, key        its certificate; None: no STARTTLS offered
  starttls_reply   the reply to STARTTLS (default 220; a 4xx/5xx one
                   refuses)
  broken_tls       answer 220 to STARTTLS, then send garbage and hang up
  wrapper          implicit TLS: the handshake before the greeting
  auth             {user: password}: offer AUTH with auth_mechs
                   (PLAIN, LOGIN, CRAM-MD5 are understood)
  auth_tls_only    offer AUTH only over TLS
  auth_required    refuse MAIL FROM before AUTH (530 5.7.0)
  lmtp             take LHLO, and reply once per recipient after the content
It records: connections, commands (as received; AUTH data replaced by
"AUTH MECH ..."), sni (the server name of each handshake, None when the
client sent none), auths (mechanism, user, success, over TLS), messages
(dicts with from, rcpts, data, tls, auth user).

This module has no tests of its own.
"""
import base64
import hashlib
import hmac
import os
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest


def _openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r


class Certs:
    def __init__(self, d: Path):
        self.dir = Path(d)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o755)
        c = str(self.dir)
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
                 "ca.crt", "-days", "2", "-subj", "/CN=postern test CA", "-addext",
                 "basicConstraints=critical,CA:TRUE", "-addext",
                 "keyUsage=critical,keyCertSign,cRLSign", cwd=c)
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other_ca.key",
                 "-out", "other_ca.crt", "-days", "2", "-subj", "/CN=another test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE", cwd=c)
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "mx.key", "-out", "mx.csr",
                 "-subj", "/CN=mx.test", cwd=c)
        (self.dir / "mx.ext").write_text(
            "subjectAltName=DNS:mx.test,IP:127.0.0.1\n"
            "basicConstraints=CA:FALSE\n"
            "extendedKeyUsage=serverAuth\n")
        _openssl("x509", "-req", "-in", "mx.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", "mx.crt", "-days", "2", "-extfile", "mx.ext", cwd=c)
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "self.key", "-out",
                 "self.crt", "-days", "2", "-subj", "/CN=mx.test", cwd=c)
        for f in self.dir.iterdir():
            f.chmod(0o644)
        self.ca = self.dir / "ca.crt"
        self.other_ca = self.dir / "other_ca.crt"
        self.mx = (self.dir / "mx.crt", self.dir / "mx.key")
        self.self_signed = (self.dir / "self.crt", self.dir / "self.key")


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return Certs(tmp_path_factory.mktemp("smtp-tls-certs"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class TlsPeer:
    def __init__(self, host="127.0.0.1", port=0, cert=None, key=None, name="peer.example.net",
                 keywords=("PIPELINING", "SIZE 10485760", "8BITMIME", "ENHANCEDSTATUSCODES"),
                 starttls_reply=None, broken_tls=False, wrapper=False, auth=None,
                 auth_mechs=("PLAIN", "LOGIN"), auth_tls_only=False, auth_required=False,
                 auth_reply_fail="535 5.7.8 Error: authentication failed: authentication failure",
                 lmtp=False):
        self.name = name
        self.lmtp = lmtp
        self.keywords = list(keywords)
        self.starttls_reply = starttls_reply
        self.broken_tls = broken_tls
        self.wrapper = wrapper
        self.auth = auth
        self.auth_mechs = list(auth_mechs)
        self.auth_tls_only = auth_tls_only
        self.auth_required = auth_required
        self.auth_reply_fail = auth_reply_fail
        self.ctx = None
        if cert:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(str(cert), str(key))
            self.ctx.sni_callback = self._sni
        self.connections = 0
        self.commands = []
        self.sni = []
        self.auths = []
        self.messages = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(16)
        self.stopped = False
        self.open_conns = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _sni(self, sslobj, server_name, ctx):
        with self.lock:
            self.sni.append(server_name)

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self.open_conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def stop(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)
        with self.lock:
            for c in self.open_conns:
                try:
                    c.close()
                except OSError:
                    pass

    def _serve(self, conn):
        st = {"conn": conn, "buf": bytearray(), "tls": False, "user": None}
        conn.settimeout(30)

        def line():
            buf = st["buf"]
            while b"\n" not in buf:
                chunk = st["conn"].recv(65536)
                if not chunk:
                    raise EOFError
                buf.extend(chunk)
            i = buf.index(b"\n")
            out = bytes(buf[:i]).rstrip(b"\r")
            del buf[:i + 1]
            return out.decode("utf-8", "surrogateescape")

        def say(*lines):
            st["conn"].sendall(b"".join(x.encode() + b"\r\n" for x in lines))

        def record(cmd):
            with self.lock:
                self.commands.append(cmd)

        try:
            if self.wrapper:
                st["conn"] = self.ctx.wrap_socket(conn, server_side=True)
                st["tls"] = True
            say(f"220 {self.name} ESMTP test peer")
            msg = None
            while True:
                cmd = line()
                verb = cmd.split(" ", 1)[0].upper()
                record(cmd if verb != "AUTH" else " ".join(cmd.split(" ")[:2]) + " ...")
                if verb in ("EHLO", "HELO", "LHLO"):
                    if verb == "HELO":
                        say(f"250 {self.name}")
                        continue
                    kws = [self.name] + self.keywords
                    if self.ctx and not st["tls"] and not self.wrapper:
                        kws.append("STARTTLS")
                    if self.auth and (st["tls"] or not self.auth_tls_only):
                        kws.append("AUTH " + " ".join(self.auth_mechs))
                    say(*[f"250-{k}" for k in kws[:-1]], f"250 {kws[-1]}")
                elif verb == "STARTTLS":
                    if self.starttls_reply:
                        say(self.starttls_reply)
                        continue
                    say("220 2.0.0 Ready to start TLS")
                    if self.broken_tls:
                        st["conn"].sendall(b"this is not a TLS record\r\n" * 20)
                        return
                    st["buf"].clear()
                    st["conn"] = self.ctx.wrap_socket(st["conn"], server_side=True)
                    st["tls"] = True
                    msg = None
                elif verb == "AUTH":
                    self._auth(cmd, line, say, st)
                elif verb == "MAIL":
                    if self.auth_required and not st["user"]:
                        say("530 5.7.0 Authentication required")
                        continue
                    addr = cmd[10:].strip()
                    addr = addr[1:addr.index(">")] if addr.startswith("<") else addr
                    msg = {"from": addr, "rcpts": [], "data": None, "tls": st["tls"],
                           "auth": st["user"]}
                    say("250 2.1.0 Ok")
                elif verb == "RCPT":
                    if msg is None:
                        say("503 5.5.1 Error: need MAIL command")
                        continue
                    addr = cmd[8:].strip()
                    msg["rcpts"].append(addr[1:addr.index(">")] if addr.startswith("<") else addr)
                    say("250 2.1.5 Ok")
                elif verb == "DATA":
                    if msg is None or not msg["rcpts"]:
                        say("554 5.5.1 Error: no valid recipients")
                        continue
                    say("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while True:
                        body = line()
                        if body == ".":
                            break
                        lines.append(body[1:] if body.startswith(".") else body)
                    msg["data"] = "".join(x + "\r\n" for x in lines)
                    with self.lock:
                        self.messages.append(msg)
                    if self.lmtp:
                        say(*[f"250 2.1.5 <{r}> delivered" for r in msg["rcpts"]])
                    else:
                        say(f"250 2.0.0 Ok: queued as TLSPEER{len(self.messages)}")
                    msg = None
                elif verb == "RSET":
                    msg = None
                    say("250 2.0.0 Ok")
                elif verb == "NOOP":
                    say("250 2.0.0 Ok")
                elif verb == "QUIT":
                    say("221 2.0.0 Bye")
                    return
                else:
                    say("502 5.5.2 Error: command not recognized")
        except (EOFError, OSError, ssl.SSLError):
            return
        finally:
            try:
                st["conn"].close()
            except OSError:
                pass

    def _auth(self, cmd, line, say, st):
        words = cmd.split(" ")
        mech = words[1].upper() if len(words) > 1 else ""
        init = words[2] if len(words) > 2 else None
        if not self.auth or mech not in self.auth_mechs or (self.auth_tls_only and not st["tls"]):
            say("504 5.5.4 Unrecognized authentication type")
            return

        def response(challenge):
            say("334 " + challenge)
            text = line()
            if text == "*":
                raise ValueError("cancelled")
            return base64.b64decode(text, validate=True) if text else b""

        try:
            if mech == "PLAIN":
                data = b"" if init == "=" else base64.b64decode(init) if init else response("")
                _authz, user, password = data.split(b"\0")
                user, password = user.decode(), password.decode()
                ok = self.auth.get(user) == password
            elif mech == "LOGIN":
                user = (base64.b64decode(init) if init else response(b64(b"Username:"))).decode()
                password = response(b64(b"Password:")).decode()
                ok = self.auth.get(user) == password
            else:  # CRAM-MD5
                challenge = f"<{os.getpid()}.{time.time()}@{self.name}>".encode()
                user, digest = response(b64(challenge)).decode().rsplit(" ", 1)
                secret = self.auth.get(user, "")
                ok = user in self.auth and hmac.compare_digest(
                    hmac.new(secret.encode(), challenge, hashlib.md5).hexdigest(), digest)
        except ValueError as e:
            if str(e) == "cancelled":
                say("501 5.7.0 Authentication aborted")
            else:
                say("501 5.5.2 Cannot decode response")
            return
        with self.lock:
            self.auths.append({"mech": mech, "user": user, "ok": ok, "tls": st["tls"]})
        if ok:
            st["user"] = user
            say("235 2.7.0 Authentication successful")
        else:
            say(self.auth_reply_fail)

    def wait_messages(self, n, timeout=20.0):
        deadline = time.monotonic() + timeout
        while len(self.messages) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"peer got {len(self.messages)} messages, wanted {n}")
            time.sleep(0.02)
        return self.messages
