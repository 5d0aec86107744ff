"""smtp(8) and lmtp(8) in a running instance: mail goes in through smtpd(8),
cleanup(8) and qmgr(8), and out to a real peer on loopback: aiosmtpd
through relayhost = [127.0.0.1]:port, the scriptable peer of
test_smtp_client_peer (MX answers from dnsmasq, per-recipient and
per-attempt replies, connection counting), and an LMTP server.
"""
import re
import time

import pytest

from dnsmasq_helper import dnsmasq  # noqa: F401  (fixture)
from instance import instance_factory, wait_for  # noqa: F401  (fixture)
from test_smtp_client_peer import Peer

BASE_MAIN = {
    "mynetworks": "127.0.0.0/8",
    "smtpd_error_sleep_time": "0",
    "smtpd_peername_lookup": "no",
}


@pytest.fixture
def peers():
    made = []

    def make(**kw):
        p = Peer(**kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop()


def submit(inst, sender, rcpts, body="hello\r\n", subject="test", count=1):
    c = inst.smtplib_client()
    for i in range(count):
        c.sendmail(sender, rcpts, f"From: <{sender}>\r\nSubject: {subject} {i}\r\n\r\n{body}")
    c.quit()


def status_lines(inst, status=None):
    rx = re.compile(r"postern/(smtp|lmtp)\[\d+\]: [0-9A-F]+: to=<[^>]*>.*status=(\w+)")
    out = [x for x in inst.logtext().splitlines() if rx.search(x)]
    if status:
        out = [x for x in out if f"status={status} " in x]
    return out


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_relayhost_to_aiosmtpd(instance_factory):  # noqa: F811
    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self):
            self.envelopes = []

        async def handle_DATA(self, server, session, envelope):
            self.envelopes.append(envelope)
            return "250 2.0.0 Ok: queued by aiosmtpd"

    sink = Sink()
    port = free_port()
    ctl = Controller(sink, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        inst = instance_factory(main=dict(BASE_MAIN, relayhost=f"[127.0.0.1]:{port}"))
        inst.start()
        submit(inst, "alice@example.com", ["bob@remote.example", "carol@remote.example"],
               body="line\r\n.dot\r\n")
        wait_for(lambda: sink.envelopes, 30, what="aiosmtpd to get the message")
        env = sink.envelopes[0]
        assert env.mail_from == "alice@example.com"
        assert sorted(env.rcpt_tos) == ["bob@remote.example", "carol@remote.example"]
        assert b"\r\nline\r\n.dot\r\n" in env.original_content
        inst.wait_log(r"status=sent \(250 2\.0\.0 Ok: queued by aiosmtpd\)", 30, count=2)
        line = status_lines(inst, "sent")[0]
        assert f"relay=127.0.0.1[127.0.0.1]:{port}, delay=" in line
        assert "postern/smtp[" in line
        inst.wait_log(r": removed", 30)
    finally:
        ctl.stop()


def test_mx_delivery_through_dnsmasq(instance_factory, peers, dnsmasq):  # noqa: F811
    port = free_port()
    second = peers(host="127.0.0.3", port=port)
    dnsmasq.mx("example.test", "mx1.example.test", 10).mx("example.test", "mx2.example.test", 20)
    dnsmasq.host("mx1.example.test", "127.0.0.2").host("mx2.example.test", "127.0.0.3")
    dnsmasq.host("nomx.test", "127.0.0.3").null_mx("nullmx.test").start()
    inst = instance_factory(main=dict(BASE_MAIN, smtp_dns_servers=dnsmasq.server,
                                      smtp_tcp_port=str(port)))
    inst.start()
    # mx1 refuses connections: mx2 gets the mail
    submit(inst, "alice@example.com", ["u@example.test"])
    second.wait_messages(1, 30)
    inst.wait_log(r"to=<u@example.test>, relay=mx2\.example\.test\[127\.0\.0\.3\]:%d, .*"
                  r"status=sent" % port, 30)
    # no MX: the A record
    submit(inst, "alice@example.com", ["u@nomx.test"])
    second.wait_messages(2, 30)
    inst.wait_log(r"to=<u@nomx.test>, relay=nomx\.test\[127\.0\.0\.3\]:%d, .*status=sent" % port,
                  30)
    # null MX: returned
    submit(inst, "alice@example.com", ["u@nullmx.test"])
    inst.wait_log(r"to=<u@nullmx.test>, relay=none, .*dsn=5\.1\.10, status=bounced \(Domain "
                  r"nullmx\.test does not accept mail \(nullMX\)\)", 30)
    # mx1 answers now: preference order
    first = peers(host="127.0.0.2", port=port)
    submit(inst, "alice@example.com", ["v@example.test"])
    first.wait_messages(1, 30)
    assert len(second.messages) == 2


def test_4xx_then_retry_then_success(instance_factory, peers):  # noqa: F811
    state = {"tries": 0}

    def rcpt(addr, params):
        state["tries"] += 1
        return "451 4.3.0 <%s>: try again later" % addr if state["tries"] == 1 else None

    peer = peers(rcpt=rcpt)
    inst = instance_factory(main=dict(BASE_MAIN, relayhost=f"[127.0.0.1]:{peer.port}",
                                      minimal_backoff_time="1s", maximal_backoff_time="2s",
                                      queue_run_delay="1s"))
    inst.start()
    submit(inst, "alice@example.com", ["bob@remote.example"])
    inst.wait_log(r"to=<bob@remote.example>, .*dsn=4\.3\.0, status=deferred \(host "
                  r"127\.0\.0\.1\[127\.0\.0\.1\] said: 451 4\.3\.0 <bob@remote.example>: try "
                  r"again later \(in reply to RCPT TO command\)\)", 30)
    peer.wait_messages(1, 60)
    inst.wait_log(r"to=<bob@remote.example>, .*status=sent", 30)
    assert state["tries"] == 2


def test_5xx_bounce_carries_remote_reply(instance_factory, peers):  # noqa: F811
    def rcpt(addr, params):
        if addr == "nobody@remote.example":
            return "550 5.1.1 <nobody@remote.example>: Recipient address rejected: no such user"
        return None

    peer = peers(rcpt=rcpt)
    inst = instance_factory(main=dict(BASE_MAIN, relayhost=f"[127.0.0.1]:{peer.port}"))
    inst.start()
    submit(inst, "alice@example.com", ["nobody@remote.example", "bob@remote.example"])
    inst.wait_log(r"to=<nobody@remote.example>, .*dsn=5\.1\.1, status=bounced \(host "
                  r"127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 <nobody@remote.example>: "
                  r"Recipient address rejected: no such user \(in reply to RCPT TO command\)\)",
                  30)
    peer.wait_messages(1, 30)
    if (inst.build / "libexec" / "bounce").exists():
        # the notice goes back to the sender, through the same relayhost
        msgs = peer.wait_messages(2, 60)
        notice = [m for m in msgs if m["from"] == ""][0]
        assert notice["rcpts"] == ["alice@example.com"]
        assert b"Recipient address rejected: no such user" in notice["data"]


def test_connection_reuse_100_messages(instance_factory, peers):  # noqa: F811
    peer = peers()
    inst = instance_factory(main=dict(BASE_MAIN, relayhost=f"[127.0.0.1]:{peer.port}"))
    inst.start()
    c = inst.smtplib_client(timeout=60)
    for i in range(100):
        c.sendmail("alice@example.com", [f"r{i}@remote.example"],
                   f"Subject: {i}\r\n\r\nmessage {i}\r\n")
    c.quit()
    peer.wait_messages(100, 120)
    inst.wait_log(r"status=sent", 30, count=100)
    print(f"100 messages over {peer.connections} connections")
    # one connection per smtp process at most at a time, and each one reused
    assert peer.connections <= 25, peer.connections
    assert peer.commands.count("RSET") >= 100 - peer.connections


def test_cache_closed_for_other_destination(instance_factory, peers):  # noqa: F811
    a = peers()
    b = peers()
    inst = instance_factory(main=dict(
        BASE_MAIN, transport_maps=f"inline:{{ a.example=smtp:[127.0.0.1]:{a.port}, "
                                  f"b.example=smtp:[127.0.0.1]:{b.port} }}",
        smtp_connection_cache_time_limit="30s"))
    inst.start()
    submit(inst, "alice@example.com", ["x@a.example"])
    a.wait_messages(1, 30)
    submit(inst, "alice@example.com", ["x@b.example"])
    b.wait_messages(1, 30)
    # a's connection was closed with QUIT, or is still cached by another process;
    # it is closed at the latest when that process exits
    inst.stop()
    wait_for(lambda: "QUIT" in a.commands and "QUIT" in b.commands, 10, what="QUIT at both")


def test_cache_reuse_and_expiry(instance_factory, peers):  # noqa: F811
    peer = peers()
    inst = instance_factory(main=dict(BASE_MAIN, relayhost=f"[127.0.0.1]:{peer.port}",
                                      default_destination_concurrency_limit="1",
                                      initial_destination_concurrency="1"))
    inst.start()
    for i in range(3):
        submit(inst, "alice@example.com", [f"r{i}@remote.example"])
        peer.wait_messages(i + 1, 30)
    assert peer.connections == 1
    assert peer.commands.count("RSET") == 2
    # RSET goes out in the same write as MAIL FROM, RCPT TO and DATA
    assert peer.pipelined == [True, True, True]
    # idle for smtp_connection_cache_time_limit (2s): closed with QUIT
    wait_for(lambda: "QUIT" in peer.commands, 10, what="QUIT after the cache time limit")
    submit(inst, "alice@example.com", ["r3@remote.example"])
    peer.wait_messages(4, 30)
    assert peer.connections == 2


def test_cache_reuse_without_pipelining(instance_factory, peers):  # noqa: F811
    peer = peers(keywords=("SIZE 1000000",), rset_reply=None)
    inst = instance_factory(main=dict(BASE_MAIN, relayhost=f"[127.0.0.1]:{peer.port}",
                                      default_destination_concurrency_limit="1",
                                      initial_destination_concurrency="1"))
    inst.start()
    for i in range(3):
        submit(inst, "alice@example.com", [f"r{i}@remote.example"])
        peer.wait_messages(i + 1, 30)
    assert peer.connections == 1
    assert peer.commands.count("RSET") == 2
    assert peer.pipelined == [False, False, False]


def test_cache_reuse_count_limit(instance_factory, peers):  # noqa: F811
    peer = peers()
    inst = instance_factory(main=dict(BASE_MAIN, relayhost=f"[127.0.0.1]:{peer.port}",
                                      default_destination_concurrency_limit="1",
                                      initial_destination_concurrency="1",
                                      smtp_connection_reuse_count_limit="2"))
    inst.start()
    for i in range(6):
        submit(inst, "alice@example.com", [f"r{i}@remote.example"])
        peer.wait_messages(i + 1, 30)
    assert peer.connections == 2             # 1 + 2 reuses, twice


def test_stale_cached_connection(instance_factory, peers):  # noqa: F811
    """A server that drops the idle connection at RSET: a new one takes the mail."""
    peer = peers(rset_reply="421 4.4.2 idle too long")
    inst = instance_factory(main=dict(BASE_MAIN, relayhost=f"[127.0.0.1]:{peer.port}",
                                      default_destination_concurrency_limit="1",
                                      initial_destination_concurrency="1"))
    inst.start()
    for i in range(3):
        submit(inst, "alice@example.com", [f"r{i}@remote.example"])
        peer.wait_messages(i + 1, 30)
    inst.wait_log(r"status=sent", 30, count=3)
    assert peer.connections == 3
    assert "status=deferred" not in inst.logtext()


def test_lmtp_per_recipient_through_the_chain(instance_factory, peers):  # noqa: F811
    def dot(msg):
        return ["550 5.1.1 <%s> no mailbox" % r if r.startswith("gone") else "250 2.1.5 ok"
                for r in msg["accepted"]]

    peer = peers(lmtp=True, dot=dot)
    inst = instance_factory(main=dict(
        BASE_MAIN, transport_maps=f"inline:{{ store.example=lmtp:inet:127.0.0.1:{peer.port} }}"))
    inst.start()
    submit(inst, "alice@example.com", ["u1@store.example", "gone@store.example",
                                       "u2@store.example"])
    peer.wait_messages(1, 30)
    inst.wait_log(r"postern/lmtp\[\d+\]: [0-9A-F]+: to=<gone@store.example>, .*dsn=5\.1\.1, "
                  r"status=bounced", 30)
    inst.wait_log(r"postern/lmtp\[\d+\]: [0-9A-F]+: to=<u\d@store.example>, .*status=sent", 30,
                  count=2)
    assert peer.commands[0].startswith("LHLO ")
    assert sorted(peer.messages[0]["delivered"]) == ["u1@store.example", "u2@store.example"]


def test_smtp_throughput_smoke(instance_factory, peers):  # noqa: F811
    """Not a benchmark: 200 messages relayed within a generous time."""
    peer = peers()
    inst = instance_factory(main=dict(BASE_MAIN, relayhost=f"[127.0.0.1]:{peer.port}"))
    inst.start()
    t0 = time.monotonic()
    c = inst.smtplib_client(timeout=60)
    for i in range(200):
        c.sendmail("alice@example.com", ["bob@remote.example"], f"Subject: {i}\r\n\r\nx\r\n")
    c.quit()
    peer.wait_messages(200, 120)
    print(f"200 messages relayed in {time.monotonic() - t0:.2f}s over "
          f"{peer.connections} connections")
