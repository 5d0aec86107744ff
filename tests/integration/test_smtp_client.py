"""smtp(8): the SMTP client, driven one request at a time as qmgr(8) drives
it (test_smtp_client_peer.SmtpAgent), against a scriptable peer on
loopback, and MX answers from dnsmasq (dnsmasq_helper).

Full-chain tests (smtpd -> cleanup -> qmgr -> smtp -> peer) are in
test_smtp_client_chain.py.
"""
import re
import socket

import pytest

from dnsmasq_helper import dnsmasq  # noqa: F401  (fixture)
from test_local_harness import agent_base  # noqa: F401  (fixture)
from test_smtp_client_peer import Peer, SmtpAgent

MSG = ["From: <sender@example.com>", "To: <a@example.net>", "Subject: test", "",
       "line one", ".a line with a leading dot", "..two dots", "."]


@pytest.fixture
def agent(postern_build, agent_base):  # noqa: F811
    return SmtpAgent(postern_build, agent_base)


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


def nexthop(peer):
    return f"[127.0.0.1]:{peer.port}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- basics

def test_relay_to_bracketed_host(agent, peers):
    peer = peers()
    res = agent.send("sender@example.com", ["a@example.net", "b@example.net"], MSG, nexthop(peer))
    assert res == ["sent", "sent"]
    msg = peer.messages[0]
    assert msg["from"] == "sender@example.com"
    assert msg["rcpts"] == ["a@example.net", "b@example.net"]
    # dot-stuffing undone by the peer gives back the original lines
    assert msg["data"] == b"".join(x.encode() + b"\r\n" for x in MSG)
    assert peer.pipelined == [True]
    assert peer.commands[0] == "EHLO mx.example.com"
    assert f"SIZE={agent.last['size']}" in msg["mail_params"]
    # the status line, Postfix's format, and both recipients marked done
    lines = agent.status_lines()
    assert len(lines) == 2
    assert re.search(r"to=<a@example.net>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, delay=[\d.]+, "
                     r"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, "
                     r"status=sent \(250 2\.0\.0 Ok: queued as PEER1\)" % peer.port, lines[0])
    assert agent.rcpt_records(agent.last["qid"]) == ["D", "D"]
    assert peer.connections == 1
    assert peer.commands[-1] == "QUIT"


def test_long_lines_and_quoting(agent, peers):
    peer = peers()
    long_line = "x" * 5000
    res = agent.send("odd sender@example.com", ['john "j" doe@example.net'],
                     ["Subject: long", "", long_line, ".", ""], nexthop(peer))
    assert res == ["sent"]
    msg = peer.messages[0]
    # broken at 998 bytes with CRLF SPACE (smtp_line_length_limit)
    lines = msg["data"].split(b"\r\n")
    assert lines[2] == b"x" * 998 and lines[3] == b" " + b"x" * 997
    assert max(len(x) for x in lines) == 998
    assert b"".join(x.lstrip(b" ") for x in lines[2:8]) == long_line.encode()
    assert peer.commands[1].startswith('MAIL FROM:<"odd sender"@example.com>')
    assert peer.commands[2] == 'RCPT TO:<"john \\"j\\" doe"@example.net>'


def test_line_length_limit(agent, peers):
    peer = peers()
    agent.configure(smtp_line_length_limit="10")
    res = agent.send("s@example.com", ["a@example.net"],
                     ["Subject: 0123456789abc", "", ".0123456789", "x" * 9, "y" * 10], nexthop(peer))
    assert res == ["sent"]
    # the stuffed dot counts: "..01234567" is 10 bytes on the wire
    assert peer.messages[0]["data"] == (b"Subject: 0\r\n 123456789\r\n abc\r\n\r\n"
                                        b".01234567\r\n 89\r\nxxxxxxxxx\r\nyyyyyyyyyy\r\n")
    # without a limit, lines go out whole
    agent.configure(smtp_line_length_limit="0")
    long_line = "z" * 5000
    assert agent.send("s@example.com", ["a@example.net"], ["", long_line], nexthop(peer)) \
        == ["sent"]
    assert peer.messages[1]["data"] == b"\r\n" + long_line.encode() + b"\r\n"


def test_null_sender(agent, peers):
    peer = peers()
    assert agent.send("", ["a@example.net"], MSG, nexthop(peer)) == ["sent"]
    assert peer.commands[1].startswith("MAIL FROM:<> ")


def test_without_pipelining(agent, peers):
    peer = peers(keywords=("SIZE 1000000", "8BITMIME"))
    res = agent.send("s@example.com", ["a@example.net", "b@example.net"], MSG, nexthop(peer))
    assert res == ["sent", "sent"]
    assert peer.pipelined == [False]


def test_helo_when_ehlo_refused(agent, peers):
    peer = peers(ehlo_reply="502 5.5.2 Error: command not recognized")
    assert agent.send("s@example.com", ["a@example.net"], MSG, nexthop(peer)) == ["sent"]
    assert [c.split()[0] for c in peer.commands[:3]] == ["EHLO", "HELO", "MAIL"]
    assert peer.messages[0]["mail_params"] == []       # no SIZE after HELO


def test_never_send_ehlo(agent, peers):
    agent.configure(smtp_never_send_ehlo="yes", smtp_helo_name="client.example.org")
    peer = peers()
    assert agent.send("s@example.com", ["a@example.net"], MSG, nexthop(peer)) == ["sent"]
    assert peer.commands[0] == "HELO client.example.org"
    assert peer.pipelined == [False]


def test_discard_ehlo_keywords(agent, peers):
    agent.configure(smtp_discard_ehlo_keywords="pipelining, size")
    peer = peers()
    assert agent.send("s@example.com", ["a@example.net"], MSG, nexthop(peer)) == ["sent"]
    assert peer.pipelined == [False]
    assert peer.messages[0]["mail_params"] == []


# ---------------------------------------------------------------- replies

def test_per_recipient_replies(agent, peers):
    def rcpt(addr, params):
        return {"bad@example.net": "550 5.1.1 <bad@example.net>: Recipient address rejected",
                "later@example.net": "450 4.2.0 <later@example.net>: greylisted"}.get(addr)

    peer = peers(rcpt=rcpt)
    res = agent.send("s@example.com", ["good@example.net", "bad@example.net",
                                       "later@example.net"], MSG, nexthop(peer))
    assert res == ["sent", "bounced", "deferred"]
    assert peer.messages[0]["delivered"] == ["good@example.net"]
    lines = agent.status_lines()
    bounced = [x for x in lines if "bad@example.net" in x][0]
    assert "dsn=5.1.1, status=bounced (host 127.0.0.1[127.0.0.1] said: 550 5.1.1 " \
           "<bad@example.net>: Recipient address rejected (in reply to RCPT TO command))" in bounced
    deferred = [x for x in lines if "later@example.net" in x][0]
    assert "dsn=4.2.0, status=deferred (host 127.0.0.1[127.0.0.1] said: 450 4.2.0" in deferred
    # the notes keep the remote text for the notices
    b = agent.notes("bounce")
    assert len(b) == 1 and b[0]["recipient"] == "bad@example.net"
    assert "Recipient address rejected" in b[0]["reason"] and b[0]["status"] == "5.1.1"
    d = agent.notes("defer")
    assert len(d) == 1 and "greylisted" in d[0]["reason"]
    assert agent.rcpt_records(agent.last["qid"]) == ["D", "D", "R"]


def test_421_during_rcpt(agent, peers):
    seen = []

    def rcpt(addr, params):
        seen.append(addr)
        return "421 4.7.0 Too many errors, closing" if len(seen) == 2 else None

    peer = peers(rcpt=rcpt)
    res = agent.send("s@example.com", ["a@example.net", "b@example.net", "c@example.net"], MSG,
                     nexthop(peer))
    assert res == ["deferred", "deferred", "deferred"]
    assert all("said: 421 4.7.0 Too many errors, closing (in reply to RCPT TO command)" in x
               for x in agent.status_lines())


def test_mail_from_rejected(agent, peers):
    peer = peers(mail=lambda a, p: "553 5.7.1 <s@example.com>: Sender address rejected")
    res = agent.send("s@example.com", ["a@example.net", "b@example.net"], MSG, nexthop(peer))
    assert res == ["bounced", "bounced"]
    assert all("(in reply to MAIL FROM command)" in x for x in agent.status_lines())
    assert peer.messages == []


def test_mail_from_deferred_no_pipelining(agent, peers):
    peer = peers(keywords=(), mail=lambda a, p: "451 4.3.0 try again")
    res = agent.send("s@example.com", ["a@example.net"], MSG, nexthop(peer))
    assert res == ["deferred"]
    assert not any(c.startswith("RCPT") for c in peer.commands)


def test_end_of_data_replies(agent, peers):
    peer = peers(dot=lambda m: "554 5.7.1 Message content rejected: spam")
    res = agent.send("s@example.com", ["a@example.net"], MSG, nexthop(peer))
    assert res == ["bounced"]
    assert "said: 554 5.7.1 Message content rejected: spam (in reply to end of DATA command)" \
        in agent.status_lines()[0]
    peer2 = peers(dot=lambda m: "452 4.3.1 Insufficient system storage")
    assert agent.send("s@example.com", ["a@example.net"], MSG, nexthop(peer2)) == ["deferred"]


def test_data_rejected(agent, peers):
    peer = peers(data_reply="554 5.5.1 Error: no thanks")
    assert agent.send("s@example.com", ["a@example.net"], MSG, nexthop(peer)) == ["bounced"]
    assert "(in reply to DATA command)" in agent.status_lines()[0]


def test_lost_connection_before_final_reply(agent, peers):
    peer = peers(dot=lambda m: "-")            # the peer hangs up instead of answering
    res = agent.send("s@example.com", ["a@example.net"], MSG, nexthop(peer))
    assert res == ["deferred"]                 # never "sent" without the final 250
    line = agent.status_lines()[0]
    assert "dsn=4.4.2, status=deferred (lost connection with 127.0.0.1[127.0.0.1] while " \
           "sending end of data -- message may be sent more than once)" in line
    assert agent.rcpt_records(agent.last["qid"]) == ["R"]


def test_timeout(agent, peers):
    agent.configure(smtp_helo_timeout="1s")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)                              # accepts, never greets
    try:
        res = agent.send("s@example.com", ["a@example.net"], MSG,
                         f"[127.0.0.1]:{srv.getsockname()[1]}")
    finally:
        srv.close()
    assert res == ["deferred"]
    assert "conversation with 127.0.0.1[127.0.0.1] timed out while receiving the initial " \
           "server greeting" in agent.status_lines()[0]


def test_greeting_refusals(agent, peers):
    peer = peers(greeting="421 4.3.2 Service not available")
    assert agent.send("s@example.com", ["a@example.net"], MSG, nexthop(peer)) == ["deferred"]
    assert "refused to talk to me: 421 4.3.2 Service not available" in agent.status_lines()[0]
    peer5 = peers(greeting="554 5.7.1 go away")
    assert agent.send("s@example.com", ["a@example.net"], MSG, nexthop(peer5)) == ["deferred"]
    assert "dsn=4.7.1" in agent.status_lines()[0]
    agent.configure(smtp_skip_5xx_greeting="no")
    assert agent.send("s@example.com", ["a@example.net"], MSG, nexthop(peer5)) == ["bounced"]
    assert "dsn=5.7.1, status=bounced (host 127.0.0.1[127.0.0.1] refused to talk to me: " \
           "554 5.7.1 go away)" in agent.status_lines()[0]


def test_malformed_replies(agent, peers):
    peer = peers(greeting="SSH-2.0-OpenSSH_9.2")
    assert agent.send("s@example.com", ["a@example.net"], MSG, nexthop(peer)) == ["deferred"]
    assert "dsn=4.4.2, status=deferred (malformed reply from 127.0.0.1[127.0.0.1] while " \
           "receiving the initial server greeting: SSH-2.0-OpenSSH_9.2)" in agent.status_lines()[0]
    # an endless multi-line greeting
    huge = peers(greeting=["220-" + "x" * 3000] * 1200 + ["220 ok"])
    assert agent.send("s@example.com", ["a@example.net"], MSG, nexthop(huge)) == ["deferred"]
    assert "malformed reply" in agent.status_lines()[0]


def test_connection_refused(agent):
    port = free_port()
    res = agent.send("s@example.com", ["a@example.net"], MSG, f"[127.0.0.1]:{port}")
    assert res == ["deferred"]
    assert f"relay=none, delay=" in agent.status_lines()[0]
    assert f"dsn=4.4.1, status=deferred (connect to 127.0.0.1[127.0.0.1]:{port}: " \
           "Connection refused)" in agent.status_lines()[0]


def test_bad_nexthop(agent):
    assert agent.send("s@example.com", ["a@example.net"], MSG, "[127.0.0.1]:nosuchport") \
        == ["deferred"]
    assert "bad next hop" in agent.status_lines()[0]


def test_bind_address(agent, peers):
    agent.configure(smtp_bind_address="127.0.0.7")
    peer = peers()
    assert agent.send("s@example.com", ["a@example.net"], MSG, nexthop(peer)) == ["sent"]
    assert peer.clients == ["127.0.0.7"]


def test_ipv6_and_inet_protocols(agent, peers, dnsmasq):  # noqa: F811
    try:
        peer6 = peers(host="::1", family=socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 loopback")
    port = peer6.port
    agent.configure(inet_protocols="all", smtp_bind_address6="::1")
    assert agent.send("s@example.com", ["a@example.net"], MSG, f"[::1]:{port}") == ["sent"]
    assert f"relay=::1[::1]:{port}" in agent.status_lines()[0]
    assert peer6.clients == ["::1"]
    # an AAAA-only MX host, and IPv4 only: no address to use
    dnsmasq.mx("v6.test", "mx.v6.test", 10).host("mx.v6.test", "::1").start()
    agent.configure(smtp_dns_servers=dnsmasq.server, smtp_tcp_port=str(port))
    assert agent.send("s@example.com", ["a@v6.test"], MSG, "v6.test") == ["sent"]
    agent.configure(inet_protocols="ipv4")
    assert agent.send("s@example.com", ["a@v6.test"], MSG, "v6.test") == ["bounced"]
    assert "type=A: " in agent.status_lines()[0]
    assert agent.send("s@example.com", ["a@example.net"], MSG, f"[::1]:{port}") == ["deferred"]
    assert "address family not enabled by inet_protocols" in agent.status_lines()[0]


# ---------------------------------------------------------------- extensions

def test_size_limit(agent, peers):
    peer = peers(keywords=("PIPELINING", "SIZE 100"))
    res = agent.send("s@example.com", ["a@example.net"], MSG + ["x" * 200], nexthop(peer))
    assert res == ["bounced"]
    assert "dsn=5.3.4" in agent.status_lines()[0]
    assert "exceeds size limit 100 of server 127.0.0.1[127.0.0.1]" in agent.status_lines()[0]
    assert not any(c.startswith("MAIL") for c in peer.commands)


def test_8bitmime(agent, peers):
    eight = ["Subject: caf\u00e9", "", "d\u00e9j\u00e0 vu"]
    # the server lacks 8BITMIME, the content is 8-bit: 5.6.3
    peer = peers(keywords=("PIPELINING",))
    res = agent.send("s@example.com", ["a@example.net"], eight, nexthop(peer),
                     extra={"encoding": "8bit"})
    assert res == ["bounced"]
    assert "dsn=5.6.3" in agent.status_lines()[0]
    # declared 8-bit but all 7-bit: sent as 7-bit
    res = agent.send("s@example.com", ["a@example.net"], MSG, nexthop(peer),
                     extra={"encoding": "8bit"})
    assert res == ["sent"]
    assert "BODY=8BITMIME" not in peer.commands[-5]
    # a server with 8BITMIME gets BODY=8BITMIME
    peer8 = peers()
    res = agent.send("s@example.com", ["a@example.net"], eight, nexthop(peer8),
                     extra={"encoding": "8bit"})
    assert res == ["sent"]
    assert "BODY=8BITMIME" in peer8.messages[0]["mail_params"]
    assert peer8.messages[0]["data"].decode() == "Subject: caf\u00e9\r\n\r\nd\u00e9j\u00e0 vu\r\n"


def test_smtputf8(agent, peers):
    plain = peers(keywords=("PIPELINING", "8BITMIME"))
    res = agent.send("s@example.com", ["j\u00f6rg@example.net", "a@example.net"], MSG,
                     nexthop(plain), extra={"smtputf8": 1})
    assert res == ["bounced", "sent"]
    assert "dsn=5.6.7, status=bounced (SMTPUTF8 is required, but was not offered by host " \
           "127.0.0.1[127.0.0.1])" in agent.status_lines()[0]
    assert "SMTPUTF8" not in plain.messages[0]["mail_params"]
    utf = peers()
    res = agent.send("s@example.com", ["j\u00f6rg@example.net"], MSG, nexthop(utf),
                     extra={"smtputf8": 1})
    assert res == ["sent"]
    assert "SMTPUTF8" in utf.messages[0]["mail_params"]
    assert utf.messages[0]["rcpts"] == ["j\u00f6rg@example.net"]


def test_dsn_parameters(agent, peers):
    peer = peers()
    agent.make_queue_file("s@example.com", ["a@example.net", "b@example.net"], MSG)
    status, res, err = agent.request(extra={
        "nexthop": nexthop(peer), "dsn_ret": "HDRS", "dsn_envid": "id+1=x y",
        "rcpt.0.notify": 2 | 4, "rcpt.0.orcpt": "rfc822;a@example.net",
        "rcpt.1.notify": 1})
    assert status == 0 and res == ["sent", "sent"], err
    msg = peer.messages[0]
    assert "RET=HDRS" in msg["mail_params"]
    assert "ENVID=id+2B1+3Dx+20y" in msg["mail_params"]
    assert msg["rcpt_params"][0] == ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;a@example.net"]
    assert msg["rcpt_params"][1] == ["NOTIFY=NEVER"]
    # a server without DSN gets none of them
    nodsn = peers(keywords=("PIPELINING",))
    agent.make_queue_file("s@example.com", ["a@example.net"], MSG)
    status, res, err = agent.request(extra={"nexthop": nexthop(nodsn), "dsn_ret": "FULL",
                                            "rcpt.0.notify": 2})
    assert res == ["sent"]
    assert nodsn.messages[0]["mail_params"] == [] and nodsn.messages[0]["rcpt_params"] == [[]]


# ---------------------------------------------------------------- MX and DNS

def mx_setup(dns, agent, port):
    agent.configure(smtp_dns_servers=dns.server, smtp_tcp_port=str(port))


def test_mx_preference_and_next_mx(agent, peers, dnsmasq):  # noqa: F811
    port = free_port()
    second = peers(host="127.0.0.3", port=port, name="mx2.example.test")
    dnsmasq.mx("example.test", "mx1.example.test", 10).mx("example.test", "mx2.example.test", 20)
    dnsmasq.host("mx1.example.test", "127.0.0.2").host("mx2.example.test", "127.0.0.3").start()
    mx_setup(dnsmasq, agent, port)
    # mx1 (127.0.0.2) refuses connections: mx2 takes the mail
    res = agent.send("s@example.org", ["u@example.test"], MSG, "example.test")
    assert res == ["sent"]
    assert second.connections == 1
    line = agent.status_lines()[0]
    assert f"relay=mx2.example.test[127.0.0.3]:{port}" in line
    # now mx1 answers: it is used first, mx2 not at all
    first = peers(host="127.0.0.2", port=port, name="mx1.example.test")
    res = agent.send("s@example.org", ["u@example.test"], MSG, "example.test")
    assert res == ["sent"]
    assert first.connections == 1 and second.connections == 1
    assert f"relay=mx1.example.test[127.0.0.2]:{port}" in agent.status_lines()[0]


def test_mx_4xx_greeting_tries_next(agent, peers, dnsmasq):  # noqa: F811
    port = free_port()
    peers(host="127.0.0.2", port=port, greeting="421 4.7.0 too busy")
    good = peers(host="127.0.0.3", port=port)
    dnsmasq.mx("example.test", "mx1.example.test", 10).mx("example.test", "mx2.example.test", 20)
    dnsmasq.host("mx1.example.test", "127.0.0.2").host("mx2.example.test", "127.0.0.3").start()
    mx_setup(dnsmasq, agent, port)
    assert agent.send("s@example.org", ["u@example.test"], MSG, "example.test") == ["sent"]
    assert len(good.messages) == 1


def test_mx_soft_recipient_retried_at_next_mx(agent, peers, dnsmasq):  # noqa: F811
    port = free_port()
    grey = peers(host="127.0.0.2", port=port, rcpt=lambda a, p: "450 4.7.1 greylisted")
    good = peers(host="127.0.0.3", port=port)
    dnsmasq.mx("example.test", "mx1.example.test", 10).mx("example.test", "mx2.example.test", 20)
    dnsmasq.host("mx1.example.test", "127.0.0.2").host("mx2.example.test", "127.0.0.3").start()
    mx_setup(dnsmasq, agent, port)
    assert agent.send("s@example.org", ["u@example.test"], MSG, "example.test") == ["sent"]
    assert grey.messages == [] and len(good.messages) == 1
    # with one session allowed, the recipient is deferred with mx1's words
    agent.configure(smtp_mx_session_limit="1")
    assert agent.send("s@example.org", ["u@example.test"], MSG, "example.test") == ["deferred"]
    assert "greylisted" in agent.status_lines()[0]
    assert len(good.messages) == 1


def test_equal_preference_shuffled(agent, peers, dnsmasq):  # noqa: F811
    port = free_port()
    a = peers(host="127.0.0.2", port=port)
    b = peers(host="127.0.0.3", port=port)
    dnsmasq.mx("example.test", "mx1.example.test", 10).mx("example.test", "mx2.example.test", 10)
    dnsmasq.host("mx1.example.test", "127.0.0.2").host("mx2.example.test", "127.0.0.3").start()
    mx_setup(dnsmasq, agent, port)
    for _ in range(12):
        assert agent.send("s@example.org", ["u@example.test"], MSG, "example.test") == ["sent"]
    assert a.messages and b.messages           # both used (p = 1 - 2/4096 of it)


def test_a_record_when_no_mx(agent, peers, dnsmasq):  # noqa: F811
    port = free_port()
    peer = peers(host="127.0.0.4", port=port)
    dnsmasq.host("nomx.test", "127.0.0.4").start()
    mx_setup(dnsmasq, agent, port)
    assert agent.send("s@example.org", ["u@nomx.test"], MSG, "nomx.test") == ["sent"]
    assert f"relay=nomx.test[127.0.0.4]:{port}" in agent.status_lines()[0]
    assert len(peer.messages) == 1


def test_null_mx_bounces(agent, dnsmasq):  # noqa: F811
    dnsmasq.null_mx("nullmx.test").start()
    mx_setup(dnsmasq, agent, 25)
    assert agent.send("s@example.org", ["u@nullmx.test"], MSG, "nullmx.test") == ["bounced"]
    line = agent.status_lines()[0]
    assert "relay=none" in line
    assert "dsn=5.1.10, status=bounced (Domain nullmx.test does not accept mail (nullMX))" in line


def test_unknown_domain_bounces(agent, dnsmasq):  # noqa: F811
    dnsmasq.start()
    mx_setup(dnsmasq, agent, 25)
    assert agent.send("s@example.org", ["u@nosuch.test"], MSG, "nosuch.test") == ["bounced"]
    assert "dsn=5.4.4, status=bounced (Host or domain name not found. Name service error for " \
           "name=nosuch.test type=A: Host not found)" in agent.status_lines()[0]


def test_unknown_relayhost_defers(agent, dnsmasq):  # noqa: F811
    dnsmasq.null_mx("nullmx.test").start()
    mx_setup(dnsmasq, agent, 25)
    for nexthop in ("[nosuch.test]:2525", "nosuch.test", "nullmx.test"):
        assert agent.send("s@example.org", ["u@example.net"], MSG, nexthop) == ["deferred"]
    lines = agent.status_lines()
    assert "dsn=4.1.10, status=deferred (Domain nullmx.test does not accept mail (nullMX))" \
        in lines[0]


def test_dns_failure_defers(agent, dnsmasq):  # noqa: F811
    dnsmasq.start()
    mx_setup(dnsmasq, agent, 25)
    # outside dnsmasq's local domains: REFUSED, a temporary failure
    assert agent.send("s@example.org", ["u@example.invalid"], MSG, "example.invalid") \
        == ["deferred"]
    assert "dsn=4.4.3, status=deferred (Host or domain name not found. Name service error " \
           "for name=example.invalid type=MX: Host not found, try again)" \
        in agent.status_lines()[0]


def test_mx_loops_back(agent, dnsmasq):  # noqa: F811
    dnsmasq.mx("loop.test", "mx.example.com", 10).host("mx.example.com", "127.0.0.2")
    dnsmasq.domains.append("example.com")
    dnsmasq.start()
    mx_setup(dnsmasq, agent, 25)
    assert agent.send("s@example.org", ["u@loop.test"], MSG, "loop.test") == ["bounced"]
    assert "dsn=5.4.6, status=bounced (mail for loop.test loops back to myself)" \
        in agent.status_lines()[0]


def test_mx_loops_back_by_address(agent, peers, dnsmasq):  # noqa: F811
    """An MX host with one of our addresses (inet_interfaces = 127.0.0.1) ends the list."""
    port = free_port()
    better = peers(host="127.0.0.2", port=port)
    dnsmasq.mx("loop.test", "self.loop.test", 10).host("self.loop.test", "127.0.0.1")
    dnsmasq.mx("part.test", "better.part.test", 5).host("better.part.test", "127.0.0.2")
    dnsmasq.mx("part.test", "self.part.test", 10).host("self.part.test", "127.0.0.1")
    dnsmasq.mx("part.test", "worse.part.test", 20).host("worse.part.test", "127.0.0.3").start()
    mx_setup(dnsmasq, agent, port)
    assert agent.send("s@example.org", ["u@loop.test"], MSG, "loop.test") == ["bounced"]
    assert "dsn=5.4.6, status=bounced (mail for loop.test loops back to myself)" \
        in agent.status_lines()[0]
    # a better MX host is still used; with it down, the worse one is not tried
    assert agent.send("s@example.org", ["u@part.test"], MSG, "part.test") == ["sent"]
    assert len(better.messages) == 1
    better.stop()
    assert agent.send("s@example.org", ["u@part.test"], MSG, "part.test") == ["deferred"]
    assert "connect to better.part.test[127.0.0.2]" in agent.status_lines()[0]


def test_mx_address_limit(agent, peers, dnsmasq):  # noqa: F811
    port = free_port()
    good = peers(host="127.0.0.9", port=port)
    for i in range(2, 9):                       # 7 dead MX hosts, then a live one
        dnsmasq.mx("many.test", f"mx{i}.many.test", i).host(f"mx{i}.many.test", f"127.0.0.{i}")
    dnsmasq.mx("many.test", "mx9.many.test", 9).host("mx9.many.test", "127.0.0.9").start()
    mx_setup(dnsmasq, agent, port)
    assert agent.send("s@example.org", ["u@many.test"], MSG, "many.test") == ["deferred"]
    assert good.connections == 0
    agent.configure(smtp_mx_address_limit="0")
    assert agent.send("s@example.org", ["u@many.test"], MSG, "many.test") == ["sent"]


def test_relayhost_domain_with_port(agent, peers, dnsmasq):  # noqa: F811
    port = free_port()
    peer = peers(host="127.0.0.5", port=port)
    dnsmasq.mx("relay.test", "smart.relay.test", 10).host("smart.relay.test", "127.0.0.5").start()
    agent.configure(smtp_dns_servers=dnsmasq.server)
    assert agent.send("s@example.org", ["u@elsewhere.example"], MSG, f"relay.test:{port}") \
        == ["sent"]
    assert len(peer.messages) == 1
    # [name]: the host's own address, no MX lookup
    dnsmasq.host("relay.test", "127.0.0.5").restart()

    def mx_queries():
        return sum("query[MX] relay.test " in q for q in dnsmasq.queries())

    before = mx_queries()
    assert agent.send("s@example.org", ["u@elsewhere.example"], MSG, f"[relay.test]:{port}") \
        == ["sent"]
    assert "relay=relay.test[127.0.0.5]" in agent.status_lines()[0]
    assert mx_queries() == before


def test_fallback_relay(agent, peers):
    fb = peers()
    agent.configure(smtp_fallback_relay=f"[127.0.0.1]:{fb.port}")
    res = agent.send("s@example.org", ["u@example.net"], MSG, f"[127.0.0.1]:{free_port()}")
    assert res == ["sent"]
    assert len(fb.messages) == 1
