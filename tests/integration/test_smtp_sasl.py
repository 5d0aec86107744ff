"""smtp(8) with SASL authentication (AUTH, RFC 4954) to a relayhost that
wants it: PLAIN, LOGIN and CRAM-MD5 through Cyrus SASL's client plugins,
against the scriptable peer of test_smtp_tls_peer (over TLS or not) and
against aiosmtpd with an authenticator; password tables keyed by the
server's name or by the next hop as written ([127.0.0.1]:PORT), or by
the sender; security options (noplaintext refuses PLAIN/LOGIN without
TLS); a wrong password (535) defers, with the server's reply in the log;
smtp_sasl_auth_soft_bounce = no returns the mail.
"""
import base64
import re

import pytest

from instance import instance_factory, wait_for  # noqa: F401  (fixture)
from test_local_harness import agent_base  # noqa: F401  (fixture)
from test_smtp_client_peer import SmtpAgent
from test_smtp_tls_peer import TlsPeer, certs  # noqa: F401  (fixture)

MSG = ["From: <sender@example.com>", "Subject: auth", "", "hello"]
USERS = {"alice": "s3cret pass:word", "bob": "hunter2"}


@pytest.fixture
def agent(postern_build, agent_base):  # noqa: F811
    a = SmtpAgent(postern_build, agent_base)
    a.configure(smtp_sasl_auth_enable="yes")
    return a


@pytest.fixture
def peers():
    made = []

    def make(**kw):
        p = TlsPeer(**kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop()


def hop(peer):
    return f"[127.0.0.1]:{peer.port}"


def send(agent, peer, sender="sender@example.com"):
    return agent.send(sender, ["a@example.net"], MSG, hop(peer))


def status(agent):
    lines = agent.status_lines()
    assert len(lines) == 1, lines
    return lines[0]


def passwords(agent, text, name="sasl_passwd", mode=0o600):
    """A texthash table readable by root only (smtp opens it before dropping privileges)."""
    path = agent.base / name
    path.write_text(text)
    path.chmod(mode)
    return f"texthash:{path}"


def no_secret_in_log(agent):
    log = agent.logtext()
    for secret in USERS.values():
        assert secret not in log
        assert base64.b64encode(secret.encode()).decode() not in log


# ---------------------------------------------------------------- mechanisms

def test_plain_keyed_by_nexthop(agent, peers):
    peer = peers(auth=USERS, auth_required=True)
    table = passwords(agent, f"{hop(peer)} alice:{USERS['alice']}\n")
    agent.configure(smtp_sasl_password_maps=table, smtp_sasl_security_options="noanonymous")
    assert send(agent, peer) == ["sent"]
    assert peer.auths == [{"mech": "PLAIN", "user": "alice", "ok": True, "tls": False}]
    assert peer.messages[0]["auth"] == "alice"
    assert "AUTH PLAIN ..." in peer.commands
    no_secret_in_log(agent)


def test_plain_keyed_by_host_inline(agent, peers):
    peer = peers(auth=USERS, auth_required=True)
    agent.configure(smtp_sasl_password_maps="inline:{ 127.0.0.1=bob:hunter2 }",
                    smtp_sasl_security_options="noanonymous")
    assert send(agent, peer) == ["sent"]
    assert peer.messages[0]["auth"] == "bob"


def test_host_entry_before_nexthop_entry(agent, peers):
    peer = peers(auth=USERS, auth_required=True)
    agent.configure(smtp_sasl_password_maps="inline:{ {%s=alice:wrong}, 127.0.0.1=bob:hunter2 }"
                    % hop(peer), smtp_sasl_security_options="noanonymous")
    assert send(agent, peer) == ["sent"]
    assert peer.messages[0]["auth"] == "bob"


def test_login_through_mechanism_filter(agent, peers):
    peer = peers(auth=USERS, auth_required=True, auth_mechs=("PLAIN", "LOGIN"))
    agent.configure(smtp_sasl_password_maps="inline:{ {%s=alice:%s} }" % (hop(peer),
                                                                          USERS["alice"]),
                    smtp_sasl_security_options="noanonymous", smtp_sasl_mechanism_filter="login")
    assert send(agent, peer) == ["sent"]
    assert peer.auths[0]["mech"] == "LOGIN" and peer.auths[0]["ok"]
    assert "AUTH LOGIN ..." in peer.commands


def test_cram_md5_allowed_without_tls_by_default(agent, peers):
    peer = peers(auth=USERS, auth_required=True, auth_mechs=("PLAIN", "CRAM-MD5"))
    agent.configure(smtp_sasl_password_maps="inline:{ {%s=bob:hunter2} }" % hop(peer))
    assert send(agent, peer) == ["sent"]
    assert peer.auths == [{"mech": "CRAM-MD5", "user": "bob", "ok": True, "tls": False}]


# ---------------------------------------------------------------- security options

def test_noplaintext_refuses_plain_without_tls(agent, peers):
    """The default smtp_sasl_security_options (noplaintext, noanonymous)."""
    peer = peers(auth=USERS, auth_required=True, auth_mechs=("PLAIN", "LOGIN"))
    agent.configure(smtp_sasl_password_maps="inline:{ {%s=bob:hunter2} }" % hop(peer))
    assert send(agent, peer) == ["deferred"]
    assert peer.auths == [] and not any(c.startswith("AUTH") for c in peer.commands)
    assert peer.messages == []
    assert re.search(r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*dsn=4\.7\.0, status=deferred "
                     r"\(SASL authentication failed; cannot authenticate to server "
                     r"127\.0\.0\.1\[127\.0\.0\.1\]: no mechanism available\)" % peer.port,
                     status(agent))


def test_plain_over_tls_with_tls_security_options(agent, peers, certs):  # noqa: F811
    peer = peers(cert=certs.self_signed[0], key=certs.self_signed[1], auth=USERS,
                 auth_required=True, auth_tls_only=True)
    agent.configure(smtp_sasl_password_maps="inline:{ {%s=bob:hunter2} }" % hop(peer),
                    smtp_tls_security_level="may", smtp_sasl_tls_security_options="noanonymous")
    assert send(agent, peer) == ["sent"]
    assert peer.auths == [{"mech": "PLAIN", "user": "bob", "ok": True, "tls": True}]
    assert peer.messages[0]["tls"] is True
    # AUTH came after STARTTLS and the second EHLO
    assert peer.commands[:4] == ["EHLO mx.example.com", "STARTTLS", "EHLO mx.example.com",
                                 "AUTH PLAIN ..."]


def test_verified_security_options(agent, peers, certs):  # noqa: F811
    peer = peers(cert=certs.mx[0], key=certs.mx[1], auth=USERS, auth_required=True)
    agent.configure(smtp_sasl_password_maps="inline:{ {%s=bob:hunter2} }" % hop(peer),
                    smtp_tls_security_level="verify", smtp_tls_CAfile=str(certs.ca),
                    smtp_sasl_tls_verified_security_options="noanonymous")
    assert send(agent, peer) == ["sent"]
    assert peer.auths[0]["mech"] == "PLAIN" and peer.auths[0]["tls"]
    # TLS, but not verified: the (default) tls options apply, no PLAIN
    agent.configure(smtp_tls_security_level="encrypt")
    assert send(agent, peer) == ["deferred"]
    assert "no mechanism available" in status(agent)


# ---------------------------------------------------------------- failures

def test_wrong_password_defers_with_server_reply(agent, peers):
    peer = peers(auth=USERS, auth_required=True)
    agent.configure(smtp_sasl_password_maps="inline:{ {%s=bob:wrong} }" % hop(peer),
                    smtp_sasl_security_options="noanonymous")
    assert send(agent, peer) == ["deferred"]
    assert peer.auths == [{"mech": "PLAIN", "user": "bob", "ok": False, "tls": False}]
    assert peer.messages == []
    assert re.search(r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*dsn=4\.7\.8, status=deferred "
                     r"\(SASL authentication failed; server 127\.0\.0\.1\[127\.0\.0\.1\] said: "
                     r"535 5\.7\.8 Error: authentication failed: authentication failure\)"
                     % peer.port, status(agent))
    assert "QUIT" in peer.commands


def test_wrong_password_bounces_without_soft_bounce(agent, peers):
    peer = peers(auth=USERS, auth_required=True)
    agent.configure(smtp_sasl_password_maps="inline:{ {%s=bob:wrong} }" % hop(peer),
                    smtp_sasl_security_options="noanonymous", smtp_sasl_auth_soft_bounce="no")
    assert send(agent, peer) == ["bounced"]
    assert "dsn=5.7.8, status=bounced (SASL authentication failed; server" in status(agent)


def test_no_password_entry_no_auth(agent, peers):
    peer = peers(auth=USERS)
    agent.configure(smtp_sasl_password_maps="inline:{ other.example=bob:hunter2 }",
                    smtp_sasl_security_options="noanonymous")
    assert send(agent, peer) == ["sent"]
    assert peer.auths == [] and peer.messages[0]["auth"] is None


def test_server_without_auth_gets_mail(agent, peers):
    peer = peers()
    agent.configure(smtp_sasl_password_maps="inline:{ {%s=bob:hunter2} }" % hop(peer))
    assert send(agent, peer) == ["sent"]
    assert not any(c.startswith("AUTH") for c in peer.commands)


def test_unreadable_table_defers(agent, peers):
    peer = peers(auth=USERS, auth_required=True)
    agent.configure(smtp_sasl_password_maps=f"texthash:{agent.base}/no-such-file",
                    smtp_sasl_security_options="noanonymous")
    assert send(agent, peer) == ["deferred"]
    assert "dsn=4.3.0, status=deferred (SASL authentication failed; cannot find the password" \
           in status(agent)
    assert peer.messages == []


def test_password_maps_required(agent, peers):
    peer = peers(auth=USERS)
    agent.make_queue_file("s@example.com", ["a@example.net"], MSG)
    with pytest.raises(Exception):
        agent.request(extra={"nexthop": hop(peer)}, timeout=20)
    assert "specify a password table via the `smtp_sasl_password_maps' configuration " \
           "parameter" in agent.logtext()


def test_sender_dependent_authentication(agent, peers):
    peer = peers(auth=USERS, auth_required=True)
    agent.configure(smtp_sasl_password_maps="inline:{ {alice@example.com=alice:%s}, "
                                            "{@example.org=bob:hunter2}, {%s=bob:wrong} }"
                                            % (USERS["alice"], hop(peer)),
                    smtp_sasl_security_options="noanonymous",
                    smtp_sender_dependent_authentication="yes")
    assert send(agent, peer, sender="alice@example.com") == ["sent"]
    assert send(agent, peer, sender="carol@example.org") == ["sent"]
    assert send(agent, peer, sender="dave@example.net") == ["deferred"]
    assert [m["auth"] for m in peer.messages] == ["alice", "bob"]


# ---------------------------------------------------------------- full chain

BASE_MAIN = {
    "mynetworks": "127.0.0.0/8",
    "smtpd_error_sleep_time": "0",
    "smtpd_peername_lookup": "no",
}


def submit(inst, rcpts, sender="alice@example.com", count=1):
    c = inst.smtplib_client()
    for i in range(count):
        c.sendmail(sender, rcpts, f"From: <{sender}>\r\nSubject: {i}\r\n\r\nbody {i}\r\n")
    c.quit()


def test_chain_relayhost_with_auth_over_tls_aiosmtpd(instance_factory, certs):  # noqa: F811
    import socket
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Sink:
        def __init__(self):
            self.envelopes = []

        async def handle_DATA(self, server, session, envelope):
            self.envelopes.append((envelope, session.authenticated,
                                   session.ssl is not None if hasattr(session, "ssl") else None))
            return "250 2.0.0 Ok: queued by aiosmtpd"

    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"relayuser" and auth_data.password == b"relay pass"
        logins.append((mechanism, auth_data.login, ok))
        return AuthResult(success=ok, handled=False)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(certs.mx[0]), str(certs.mx[1]))
    sink = Sink()
    ctl = Controller(sink, hostname="127.0.0.1", port=port, tls_context=ctx,
                     require_starttls=True, authenticator=authenticator, auth_required=True,
                     auth_require_tls=True)
    ctl.start()
    try:
        inst = instance_factory(main=dict(
            BASE_MAIN, relayhost=f"[127.0.0.1]:{port}", smtp_tls_security_level="verify",
            smtp_tls_CAfile=str(certs.ca), smtp_tls_loglevel="1", smtp_sasl_auth_enable="yes",
            smtp_sasl_tls_security_options="noanonymous", default_process_limit="1"))
        table = inst.base / "sasl_passwd"
        table.write_text(f"[127.0.0.1]:{port} relayuser:relay pass\n")
        table.chmod(0o600)                      # root only: opened before the privilege drop
        inst.write_main(smtp_sasl_password_maps=f"texthash:{table}")
        inst.start()
        submit(inst, ["bob@remote.example"])
        wait_for(lambda: sink.envelopes, 30, what="aiosmtpd to get the message")
        assert logins and logins[0][2] is True
        assert sink.envelopes[0][1] is True
        inst.wait_log(r"Verified TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:%d"
                      % port, 30)
        inst.wait_log(r"to=<bob@remote.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*"
                      r"status=sent \(250 2\.0\.0 Ok: queued by aiosmtpd\)" % port, 30)

        # a wrong password: the table is watched, no reload needed. The one smtp
        # process (default_process_limit = 1) may still serve one request with
        # the old content; then it restarts, and the next one is deferred.
        table.write_text(f"[127.0.0.1]:{port} relayuser:wrong\n")
        submit(inst, ["carol@remote.example"])
        inst.wait_log(r"to=<carol@remote.example>, .*status=sent", 30)
        inst.wait_log(r"postern/smtp\[\d+\]: table texthash:%s has changed -- restarting"
                      % re.escape(str(table)), 30)
        submit(inst, ["dave@remote.example"])
        inst.wait_log(r"to=<dave@remote.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*"
                      r"dsn=4\.7\.8, status=deferred \(SASL authentication failed; server "
                      r"127\.0\.0\.1\[127\.0\.0\.1\] said: 535 5\.7\.8 Authentication credentials "
                      r"invalid\)" % port, 30)
        assert len(sink.envelopes) == 2
        assert "relay pass" not in inst.logtext()
    finally:
        ctl.stop()


def test_chain_reuse_only_for_the_same_user(instance_factory):  # noqa: F811
    peer = TlsPeer(auth=USERS, auth_required=True)
    try:
        inst = instance_factory(main=dict(
            BASE_MAIN, relayhost=hop(peer), smtp_sasl_auth_enable="yes",
            smtp_sasl_security_options="noanonymous",
            smtp_sender_dependent_authentication="yes",
            smtp_sasl_password_maps="inline:{ {alice@example.com=alice:%s}, "
                                    "{bob@example.com=bob:hunter2} }" % USERS["alice"],
            default_destination_concurrency_limit="1", initial_destination_concurrency="1",
            smtp_connection_cache_time_limit="10s"))
        inst.start()
        for i, sender in enumerate(["alice@example.com", "alice@example.com",
                                    "bob@example.com"]):
            submit(inst, [f"r{i}@remote.example"], sender=sender)
            peer.wait_messages(i + 1, 30)
        assert [m["auth"] for m in peer.messages] == ["alice", "alice", "bob"]
        assert peer.connections == 2
    finally:
        peer.stop()
