"""lmtp(8): the SMTP client in LMTP mode (RFC 2033), driven one request at
a time as qmgr(8) drives it, against a Python LMTP server on a UNIX-domain
socket or a loopback TCP port. Per-recipient replies after the content
decide each recipient's fate.
"""
import socket

import pytest

from test_local_harness import agent_base  # noqa: F401  (fixture)
from test_smtp_client_peer import Peer, SmtpAgent

MSG = ["From: <s@example.com>", "Subject: lmtp", "", "hello", ".leading dot"]


@pytest.fixture
def agent(postern_build, agent_base):  # noqa: F811
    if not (postern_build / "libexec" / "lmtp").exists():
        pytest.fail("no libexec/lmtp link in the build")
    return SmtpAgent(postern_build, agent_base, program="lmtp")


@pytest.fixture
def peers(agent_base):  # noqa: F811
    made = []

    def make(**kw):
        p = Peer(lmtp=True, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop()


def test_lmtp_unix_socket(agent, agent_base, peers):  # noqa: F811
    path = agent_base / "queue" / "private" / "lmtp-peer"
    peer = peers(unix_path=path)
    res = agent.send("s@example.com", ["a@example.net", "b@example.net"], MSG, f"unix:{path}")
    assert res == ["sent", "sent"]
    assert peer.commands[0] == "LHLO mx.example.com"
    assert peer.messages[0]["data"] == b"".join(x.encode() + b"\r\n" for x in MSG)
    lines = agent.status_lines()
    assert len(lines) == 2
    assert f"relay=mx.example.com[{path}], " in lines[0]
    assert "dsn=2.1.5, status=sent (250 2.1.5 Delivered)" in lines[0]
    assert agent.rcpt_records(agent.last["qid"]) == ["D", "D"]
    assert "postern/lmtp[" in lines[0]


def test_lmtp_relative_unix_path(agent, agent_base, peers):  # noqa: F811
    peer = peers(unix_path=agent_base / "queue" / "private" / "dovecot-lmtp")
    res = agent.send("s@example.com", ["a@example.net"], MSG, "unix:private/dovecot-lmtp")
    assert res == ["sent"]
    assert len(peer.messages) == 1


def test_lmtp_per_recipient_replies(agent, peers):
    def dot(msg):
        out = []
        for addr in msg["accepted"]:
            if addr.startswith("full"):
                out.append("452 4.2.2 <%s> Mailbox full" % addr)
            elif addr.startswith("gone"):
                out.append("550 5.1.1 <%s> User doesn't exist" % addr)
            else:
                out.append("250 2.1.5 <%s> Saved" % addr)
        return out

    def rcpt(addr, params):
        return "550 5.1.1 <%s> unknown" % addr if addr.startswith("unknown") else None

    peer = peers(dot=dot, rcpt=rcpt)
    res = agent.send("s@example.com", ["ok1@example.net", "full@example.net", "unknown@example.net",
                                       "gone@example.net", "ok2@example.net"], MSG,
                     f"inet:127.0.0.1:{peer.port}")
    assert res == ["sent", "deferred", "bounced", "bounced", "sent"]
    lines = agent.status_lines()
    by = {addr: [x for x in lines if f"to=<{addr}>" in x][0]
          for addr in ("ok1@example.net", "full@example.net", "unknown@example.net",
                       "gone@example.net", "ok2@example.net")}
    assert "status=sent (250 2.1.5 <ok1@example.net> Saved)" in by["ok1@example.net"]
    assert "status=sent (250 2.1.5 <ok2@example.net> Saved)" in by["ok2@example.net"]
    assert "dsn=4.2.2, status=deferred (host 127.0.0.1[127.0.0.1] said: 452 4.2.2 " \
           "<full@example.net> Mailbox full (in reply to end of DATA command))" \
        in by["full@example.net"]
    assert "(in reply to RCPT TO command)" in by["unknown@example.net"]
    assert "User doesn't exist (in reply to end of DATA command)" in by["gone@example.net"]
    assert peer.messages[0]["delivered"] == ["ok1@example.net", "ok2@example.net"]
    assert agent.rcpt_records(agent.last["qid"]) == ["D", "R", "D", "D", "D"]
    notes = agent.notes("bounce")
    assert sorted(n["recipient"] for n in notes) == ["gone@example.net", "unknown@example.net"]


def test_lmtp_lost_after_some_replies(agent, peers):
    """The server answers the first recipient, then hangs up: the rest wait."""
    peer = peers(dot=lambda msg: ["250 2.1.5 Saved"])   # one reply for two, then EOF
    res = agent.send("s@example.com", ["a@example.net", "b@example.net"], MSG,
                     f"inet:127.0.0.1:{peer.port}")
    assert res == ["sent", "deferred"]
    assert "lost connection with 127.0.0.1[127.0.0.1] while sending end of data" \
        in agent.status_lines()[1]


def test_lmtp_default_port_and_bracketed(agent, peers):
    peer = peers()
    agent.configure(lmtp_tcp_port=str(peer.port))
    assert agent.send("s@example.com", ["a@example.net"], MSG, "inet:127.0.0.1") == ["sent"]
    assert agent.send("s@example.com", ["a@example.net"], MSG, "[127.0.0.1]") == ["sent"]
    assert len(peer.messages) == 2


def test_lmtp_connect_failure(agent, agent_base):  # noqa: F811
    res = agent.send("s@example.com", ["a@example.net"], MSG,
                     f"unix:{agent_base}/queue/private/nothing-here")
    assert res == ["deferred"]
    assert "dsn=4.4.1, status=deferred (connect to " in agent.status_lines()[0]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert agent.send("s@example.com", ["a@example.net"], MSG, f"inet:127.0.0.1:{port}") \
        == ["deferred"]
