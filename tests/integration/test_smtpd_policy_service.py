"""smtpd(8) check_policy_service: Postfix's policy delegation protocol
against a small policy server written here (a thread of the test,
listening on a free loopback port or a UNIX socket, stopped at the end).
"""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from instance import instance_factory  # noqa: F401

SERVICES = ["smtp/inet", "cleanup/unix"]


class PolicyServer:
    """Reads name=value requests; answers with reply(request) (a list of
    lines, without the empty line that ends the reply; None: no answer)."""

    def __init__(self, reply, unix_path=None, close_after_reply=False):
        self.reply = reply
        self.close_after_reply = close_after_reply
        self.requests = []
        self.connections = 0
        self.lock = threading.Lock()
        self.stopping = False
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(str(unix_path))
            os.chmod(unix_path, 0o666)
            self.endpoint = f"unix:{unix_path}"
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.bind(("127.0.0.1", 0))
            self.endpoint = f"inet:127.0.0.1:{self.sock.getsockname()[1]}"
        self.sock.listen(20)
        self.sock.settimeout(0.2)
        self.conns = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            with self.lock:
                self.connections += 1
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        f = conn.makefile("rb")
        try:
            while True:
                req = {}
                while True:
                    line = f.readline()
                    if not line:
                        return
                    line = line.rstrip(b"\n").decode("utf-8", "replace")
                    if line == "":
                        break
                    name, _, value = line.partition("=")
                    req[name] = value
                with self.lock:
                    self.requests.append(req)
                lines = self.reply(req)
                if lines is None:
                    time.sleep(30)
                    return
                conn.sendall("".join(l + "\n" for l in lines).encode() + b"\n")
                if self.close_after_reply:
                    return
        except OSError:
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


@pytest.fixture
def policy_factory():
    made = []

    def make(reply, **kw):
        srv = PolicyServer(reply, **kw)
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop()


def make(instance_factory, **main):
    conf = {"mynetworks": "192.0.2.0/24", "smtpd_error_sleep_time": "0",
            "smtpd_peername_lookup": "no"}
    conf.update(main)
    return instance_factory(main=conf, services=SERVICES).start()


def session(inst, helo="client.example.com", sender="a@example.org", params=""):
    c = inst.smtp_connect()
    c.expect(220)
    assert c.cmd(f"EHLO {helo}")[0] == 250
    assert c.cmd(f"MAIL FROM:<{sender}>{params}")[0] == 250
    return c


def by_recipient(table):
    """A policy answering per recipient; DUNNO for the others."""
    return lambda req: [f"action={table.get(req.get('recipient'), 'DUNNO')}"]


def test_reject_dunno_defer_if_permit(instance_factory, policy_factory):
    srv = policy_factory(by_recipient({
        "blocked@mx.example.com": "REJECT go away",
        "later@mx.example.com": "DEFER_IF_PERMIT Greylisted, try again later",
        "coded@mx.example.com": "550 5.7.0 policy says no",
    }))
    inst = make(instance_factory,
                smtpd_recipient_restrictions=f"check_policy_service {srv.endpoint}",
                smtpd_reject_unlisted_recipient="no")
    c = session(inst)
    assert c.cmd("RCPT TO:<blocked@mx.example.com>") == (
        554, ["5.7.1 <blocked@mx.example.com>: Recipient address rejected: go away"])
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (250, ["2.1.5 Ok"])
    assert c.cmd("RCPT TO:<later@mx.example.com>") == (
        450, ["4.7.1 <later@mx.example.com>: Recipient address rejected: Greylisted, try again "
              "later"])
    assert c.cmd("RCPT TO:<coded@mx.example.com>") == (
        550, ["5.7.0 <coded@mx.example.com>: Recipient address rejected: policy says no"])
    inst.wait_log(r"[0-9A-F]+: reject: RCPT from unknown\[127\.0\.0\.1\]: 450 4\.7\.1 "
                  r"<later@mx\.example\.com>: Recipient address rejected: Greylisted")


def test_request_attributes(instance_factory, policy_factory):
    srv = policy_factory(lambda req: ["action=DUNNO"])
    inst = make(instance_factory,
                smtpd_recipient_restrictions=f"reject_unauth_destination, "
                                             f"check_policy_service {srv.endpoint}",
                smtpd_data_restrictions=f"check_policy_service {srv.endpoint}",
                smtpd_end_of_data_restrictions=f"check_policy_service {srv.endpoint}",
                smtpd_policy_service_policy_context="submission")
    c = session(inst, params=" SIZE=1234")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("RCPT TO:<postmaster@mx.example.com>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    code, texts = c.cmd(b"Subject: x\r\n\r\nhello\r\n.")
    assert code == 250, texts
    c.cmd("RSET")
    assert c.cmd("MAIL FROM:<>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    reqs = srv.requests
    assert [r["protocol_state"] for r in reqs] == ["RCPT", "RCPT", "DATA", "END-OF-MESSAGE",
                                                    "RCPT"]
    first = reqs[0]
    for name, value in [("request", "smtpd_access_policy"), ("protocol_name", "ESMTP"),
                        ("helo_name", "client.example.com"), ("sender", "a@example.org"),
                        ("recipient", "root@mx.example.com"), ("recipient_count", "0"),
                        ("client_address", "127.0.0.1"), ("client_name", "unknown"),
                        ("reverse_client_name", "unknown"), ("size", "1234"),
                        ("policy_context", "submission"), ("sasl_username", ""),
                        ("encryption_protocol", "")]:
        assert first.get(name) == value, (name, first)
    for name in ["queue_id", "instance", "client_port", "sasl_method", "sasl_sender",
                 "ccert_subject", "encryption_cipher", "encryption_keysize", "etrn_domain",
                 "stress", "server_address", "server_port", "compatibility_level",
                 "mail_version"]:
        assert name in first, (name, first)
    assert re.fullmatch(r"\d+", first["client_port"])
    # the queue file exists once the first recipient was accepted
    assert first["queue_id"] == "" and re.fullmatch(r"[0-9A-F]+", reqs[1]["queue_id"])
    assert reqs[2]["recipient_count"] == "2" and reqs[2]["recipient"] == ""
    assert reqs[3]["recipient_count"] == "2"
    assert int(reqs[3]["size"]) > 0 and reqs[3]["size"] != "1234"
    # one instance per transaction
    assert len({r["instance"] for r in reqs[:4]}) == 1
    assert reqs[4]["instance"] != reqs[0]["instance"]
    assert reqs[4]["sender"] == ""
    # and one connection for all of it
    assert srv.connections == 1


def test_connection_reused_across_sessions(instance_factory, policy_factory):
    srv = policy_factory(lambda req: ["action=OK"])
    inst = make(instance_factory,
                smtpd_client_restrictions=f"check_policy_service {srv.endpoint}")
    for _ in range(3):
        c = session(inst)
        assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
        c.cmd("QUIT")
        c.close()
    assert len(srv.requests) == 3
    assert srv.connections <= len(inst.daemon_pids("smtpd"))


def test_stale_connection_is_replaced(instance_factory, policy_factory):
    srv = policy_factory(lambda req: ["action=DUNNO"], close_after_reply=True)
    inst = make(instance_factory,
                smtpd_recipient_restrictions=f"check_policy_service {{ {srv.endpoint}, "
                                             f"try_limit=1 }}, reject_unauth_destination")
    c = session(inst)
    for _ in range(3):
        assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert srv.connections == 3


def test_max_idle(instance_factory, policy_factory):
    srv = policy_factory(lambda req: ["action=DUNNO"])
    inst = make(instance_factory,
                smtpd_recipient_restrictions=f"check_policy_service {{ {srv.endpoint}, "
                                             f"max_idle=1s }}, reject_unauth_destination")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert srv.connections == 1
    time.sleep(2.2)
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert srv.connections == 2


def test_unreachable_service_default_action(instance_factory, policy_factory):
    srv = policy_factory(lambda req: ["action=DUNNO"])
    endpoint = srv.endpoint
    srv.stop()                                  # nobody listens there any more
    inst = make(instance_factory,
                smtpd_recipient_restrictions=f"check_policy_service {endpoint}, "
                                             "reject_unauth_destination",
                smtpd_policy_service_retry_delay="0")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        451, ["4.3.5 <root@mx.example.com>: Recipient address rejected: Server configuration "
              "problem"])
    inst.wait_log(r"warning: problem talking to server " + re.escape(endpoint))
    inst.cleanup()
    inst = make(instance_factory,
                smtpd_recipient_restrictions=f"check_policy_service {{ {endpoint}, "
                                             f"default_action=DUNNO, retry_delay=0 }}, "
                                             "reject_unauth_destination")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250


def test_silent_or_broken_server(instance_factory, policy_factory):
    silent = policy_factory(lambda req: None)
    inst = make(instance_factory,
                smtpd_recipient_restrictions=f"check_policy_service {{ {silent.endpoint}, "
                                             f"timeout=1s, try_limit=1 }}, "
                                             "reject_unauth_destination")
    c = session(inst)
    start = time.monotonic()
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 451
    assert time.monotonic() - start < 10
    inst.wait_log(r"problem talking to server .*timeout")
    inst.cleanup()
    for reply in (["result=OK"], ["action="], ["this is not an attribute"]):
        broken = policy_factory(lambda req, r=reply: r)
        inst = make(instance_factory,
                    smtpd_recipient_restrictions=f"check_policy_service {{ {broken.endpoint}, "
                                                 f"retry_delay=0 }}, reject_unauth_destination")
        c = session(inst)
        assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 451, reply
        inst.cleanup()


def test_unknown_action_is_a_configuration_error(instance_factory, policy_factory):
    srv = policy_factory(lambda req: ["action=FROBNICATE now"])
    inst = make(instance_factory,
                smtpd_recipient_restrictions=f"check_policy_service {srv.endpoint}, "
                                             "reject_unauth_destination")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (451, ["4.3.5 Server configuration error"])


def test_prepend_and_end_of_data(instance_factory, policy_factory):
    def reply(req):
        if req["protocol_state"] == "END-OF-MESSAGE":
            return ["action=REJECT message too big for you" if req["sender"] == "big@example.org"
                    else "action=DUNNO"]
        return ["action=PREPEND X-Policy: checked by test", "extra=ignored"]

    srv = policy_factory(reply)
    inst = make(instance_factory,
                smtpd_recipient_restrictions=f"check_policy_service {srv.endpoint}, "
                                             "reject_unauth_destination",
                smtpd_end_of_data_restrictions=f"check_policy_service {srv.endpoint}")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    code, texts = c.cmd(b"Subject: x\r\n\r\nhello\r\n.")
    assert code == 250, texts
    qid = re.search(r"queued as (\S+)", texts[0]).group(1)
    headers = inst.queue_file(qid).headers()
    assert headers[0] == b"X-Policy: checked by test"
    assert headers[1].startswith(b"Received: ")
    c.cmd("RSET")
    assert c.cmd("MAIL FROM:<big@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    assert c.cmd(b"Subject: y\r\n\r\nhello\r\n.") == (
        554, ["5.7.1 <END-OF-MESSAGE>: End-of-data rejected: message too big for you"])
    inst.wait_log(r": reject: END-OF-MESSAGE from unknown\[127\.0\.0\.1\]: 554 5\.7\.1 "
                  r"<END-OF-MESSAGE>: End-of-data rejected: message too big for you; "
                  r"from=<big@example\.org>")
    # the refused message left nothing behind, and the session goes on
    time.sleep(0.3)
    assert [p.name for p in inst.queue_files()] == [qid]
    assert c.cmd("NOOP")[0] == 250


def test_unix_socket_service(instance_factory, policy_factory):
    # a directory that smtpd, running as mail_owner, can reach
    d = Path(tempfile.mkdtemp(prefix="postern-policy-"))
    d.chmod(0o755)
    try:
        _unix_socket_service(instance_factory, policy_factory, d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _unix_socket_service(instance_factory, policy_factory, d):
    srv = policy_factory(by_recipient({"root@mx.example.com": "REJECT via unix"}),
                         unix_path=d / "sock")
    inst = make(instance_factory,
                smtpd_recipient_restrictions=f"check_policy_service {srv.endpoint}, "
                                             "reject_unauth_destination")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        554, ["5.7.1 <root@mx.example.com>: Recipient address rejected: via unix"])


def test_bad_service_is_fatal(instance_factory):
    inst = make(instance_factory,
                smtpd_recipient_restrictions="check_policy_service 127.0.0.1:9, "
                                             "reject_unauth_destination")
    c = inst.smtp_connect()
    c.sock.settimeout(3)
    with pytest.raises((EOFError, ConnectionResetError, OSError)):
        c.reply()
    inst.wait_log(r"fatal: smtpd_recipient_restrictions: bad policy service \"127\.0\.0\.1:9\"")


def test_policy_in_restriction_class(instance_factory, policy_factory):
    srv = policy_factory(lambda req: ["action=REJECT class policy"])
    inst = instance_factory(main={
        "mynetworks": "192.0.2.0/24", "smtpd_error_sleep_time": "0",
        "smtpd_peername_lookup": "no", "smtpd_restriction_classes": "strict",
        "strict": f"check_policy_service {srv.endpoint}",
        "smtpd_recipient_restrictions": "reject_unauth_destination, check_recipient_access "
                                        "inline:{ root@mx.example.com=strict }"},
        services=SERVICES).start()
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        554, ["5.7.1 <root@mx.example.com>: Recipient address rejected: class policy"])
    assert c.cmd("RCPT TO:<postmaster@mx.example.com>")[0] == 250


def test_swaks_greylisting_policy(instance_factory, policy_factory):
    """A postgrey-like policy: the first attempt of a triplet is deferred."""
    if not shutil.which("swaks"):
        pytest.skip("swaks is not installed")
    seen = set()

    def greylist(req):
        triplet = (req["client_address"], req["sender"], req["recipient"])
        if triplet in seen:
            return ["action=PREPEND X-Greylist: delayed by the test policy"]
        seen.add(triplet)
        return ["action=DEFER_IF_PERMIT Greylisted, see http://postgrey.example/"]

    srv = policy_factory(greylist)
    inst = make(instance_factory,
                smtpd_recipient_restrictions=f"reject_unauth_destination, "
                                             f"check_policy_service {srv.endpoint}")
    cmd = ["swaks", "--server", "127.0.0.1", "--port", str(inst.smtp_port), "--from",
           "a@example.org", "--to", "root@mx.example.com", "--helo", "client.example.com",
           "--timeout", "20"]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert first.returncode != 0
    assert "450 4.7.1 <root@mx.example.com>: Recipient address rejected: Greylisted" in first.stdout
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stdout
    qid = re.search(r"queued as (\S+)", second.stdout).group(1)
    assert inst.queue_file(qid).headers()[0] == b"X-Greylist: delayed by the test policy"
