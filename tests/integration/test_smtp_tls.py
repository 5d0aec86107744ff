"""smtp(8) with TLS: security levels none, may, encrypt, verify, secure
against a STARTTLS peer (test_smtp_tls_peer.TlsPeer) with a self-signed
certificate or one from a test CA; SNI; policy tables; implicit TLS; the
plaintext retry after a failed handshake at level may; the log lines
("Untrusted/Trusted/Verified TLS connection established to ..."); and,
in a running instance (smtpd -> cleanup -> qmgr -> smtp -> peer), the
acceptance cases: a self-signed peer gets mail at level may and none at
level verify; a cached TLS connection stays TLS.

Most tests drive smtp(8) one request at a time as qmgr(8) does
(test_smtp_client_peer.SmtpAgent).
"""
import re

import pytest

from dnsmasq_helper import dnsmasq  # noqa: F401  (fixture)
from instance import instance_factory, wait_for  # noqa: F401  (fixture)
from test_local_harness import agent_base  # noqa: F401  (fixture)
from test_smtp_client_peer import SmtpAgent
from test_smtp_tls_peer import TlsPeer, certs  # noqa: F401  (fixture)

MSG = ["From: <sender@example.com>", "To: <a@example.net>", "Subject: tls", "", "hello",
       ".dot line"]
CIPHER = r"TLSv1\.[23] with cipher \S+ \(\d+/\d+ bits\)"


@pytest.fixture
def agent(postern_build, agent_base):  # noqa: F811
    a = SmtpAgent(postern_build, agent_base)
    a.configure(smtp_tls_loglevel="1")
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


def hop(peer, host="127.0.0.1"):
    return f"[{host}]:{peer.port}"


def self_signed_peer(peers, certs, **kw):  # noqa: F811
    return peers(cert=certs.self_signed[0], key=certs.self_signed[1], **kw)


def ca_peer(peers, certs, **kw):  # noqa: F811
    return peers(cert=certs.mx[0], key=certs.mx[1], **kw)


def send(agent, peer, host="127.0.0.1"):
    return agent.send("sender@example.com", ["a@example.net"], MSG, hop(peer, host))


def status(agent):
    lines = agent.status_lines()
    assert len(lines) == 1, lines
    return lines[0]


def no_mail(peer):
    assert not any(c.upper().startswith("MAIL") for c in peer.commands), peer.commands
    assert peer.messages == []


# ---------------------------------------------------------------- levels

def test_none_never_starttls(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs)
    assert send(agent, peer) == ["sent"]
    assert "STARTTLS" not in peer.commands
    assert peer.messages[0]["tls"] is False
    assert "TLS connection established" not in agent.logtext()


def test_may_self_signed_untrusted_delivers(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs)
    agent.configure(smtp_tls_security_level="may")
    assert send(agent, peer) == ["sent"]
    assert peer.commands[:3] == ["EHLO mx.example.com", "STARTTLS", "EHLO mx.example.com"]
    assert peer.messages[0]["tls"] is True
    assert re.search(r"postern/smtp\[\d+\]: Untrusted TLS connection established to "
                     r"127\.0\.0\.1\[127\.0\.0\.1\]:%d: %s" % (peer.port, CIPHER),
                     agent.logtext())
    assert "status=sent" in status(agent)
    # at level may, why the certificate is untrusted is no failure: not logged at level 1
    assert "certificate verification failed" not in agent.logtext()


def test_may_with_ca_is_trusted(agent, peers, certs):  # noqa: F811
    peer = ca_peer(peers, certs)
    agent.configure(smtp_tls_security_level="may", smtp_tls_CAfile=str(certs.ca))
    assert send(agent, peer) == ["sent"]
    assert re.search(r"Trusted TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: "
                     % peer.port, agent.logtext())


def test_may_without_starttls_goes_plaintext(agent, peers):
    peer = peers()                      # no certificate: no STARTTLS offered
    agent.configure(smtp_tls_security_level="may")
    assert send(agent, peer) == ["sent"]
    assert "STARTTLS" not in peer.commands
    assert peer.messages[0]["tls"] is False


def test_may_starttls_refused_goes_plaintext(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs, starttls_reply="454 4.7.0 TLS not available")
    agent.configure(smtp_tls_security_level="may")
    assert send(agent, peer) == ["sent"]
    assert "STARTTLS" in peer.commands
    assert peer.messages[0]["tls"] is False


def test_may_broken_handshake_retries_in_plaintext(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs, broken_tls=True)
    agent.configure(smtp_tls_security_level="may")
    assert send(agent, peer) == ["sent"]
    assert peer.connections == 2
    assert peer.commands.count("STARTTLS") == 1          # not on the second connection
    assert peer.messages[0]["tls"] is False
    log = agent.logtext()
    assert re.search(r"SSL_connect error to 127\.0\.0\.1\[127\.0\.0\.1\]:%d" % peer.port, log)
    assert "TLS handshake with 127.0.0.1 failed at security level may: trying again without TLS" \
        in log


def test_encrypt_without_starttls_defers(agent, peers):
    peer = peers()
    agent.configure(smtp_tls_security_level="encrypt")
    assert send(agent, peer) == ["deferred"]
    no_mail(peer)
    assert "QUIT" in peer.commands
    assert re.search(r"to=<a@example.net>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*dsn=4\.7\.4, "
                     r"status=deferred \(TLS is required, but was not offered by host "
                     r"127\.0\.0\.1\[127\.0\.0\.1\]\)" % peer.port, status(agent))
    notes = agent.notes("defer")
    assert notes and "TLS is required" in notes[0]["reason"]


def test_encrypt_starttls_refused_defers(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs, starttls_reply="454 4.7.0 TLS not available due to "
                                                         "local problem")
    agent.configure(smtp_tls_security_level="encrypt")
    assert send(agent, peer) == ["deferred"]
    no_mail(peer)
    assert re.search(r"dsn=4\.7\.0, status=deferred \(TLS is required, but host "
                     r"127\.0\.0\.1\[127\.0\.0\.1\] refused to start TLS: 454 4\.7\.0 TLS not "
                     r"available due to local problem\)", status(agent))


def test_encrypt_starttls_5xx_still_only_defers(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs, starttls_reply="554 5.7.3 No TLS for you")
    agent.configure(smtp_tls_security_level="encrypt")
    assert send(agent, peer) == ["deferred"]
    no_mail(peer)
    assert "dsn=4.7.5, status=deferred (TLS is required, but host" in status(agent)


def test_starttls_421_defers_at_any_level(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs, starttls_reply="421 4.3.2 Service shutting down")
    agent.configure(smtp_tls_security_level="may")
    assert send(agent, peer) == ["deferred"]
    no_mail(peer)
    assert "dsn=4.3.2, status=deferred (host 127.0.0.1[127.0.0.1] said: 421 4.3.2 Service " \
           "shutting down (in reply to STARTTLS command))" in status(agent)


def test_encrypt_broken_handshake_defers_never_plaintext(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs, broken_tls=True)
    agent.configure(smtp_tls_security_level="encrypt")
    assert send(agent, peer) == ["deferred"]
    assert peer.connections == 1
    no_mail(peer)
    assert "dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)" in status(agent)


def test_encrypt_self_signed_delivers(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs)
    agent.configure(smtp_tls_security_level="encrypt")
    assert send(agent, peer) == ["sent"]
    assert peer.messages[0]["tls"] is True
    assert "Untrusted TLS connection established" in agent.logtext()


def test_verify_self_signed_defers(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs)
    agent.configure(smtp_tls_security_level="verify", smtp_tls_CAfile=str(certs.ca))
    assert send(agent, peer) == ["deferred"]
    no_mail(peer)
    assert peer.commands[-1] == "QUIT"                  # said over TLS, then closed
    assert "dsn=4.7.5, status=deferred (Server certificate not trusted)" in status(agent)
    log = agent.logtext()
    assert re.search(r"certificate verification failed for 127\.0\.0\.1\[127\.0\.0\.1\]:%d: "
                     r"num=18:self-signed certificate" % peer.port, log)
    assert "Untrusted TLS connection established to" in log


def test_verify_with_other_ca_defers(agent, peers, certs):  # noqa: F811
    peer = ca_peer(peers, certs)
    agent.configure(smtp_tls_security_level="verify", smtp_tls_CAfile=str(certs.other_ca))
    assert send(agent, peer) == ["deferred"]
    no_mail(peer)
    assert "status=deferred (Server certificate not trusted)" in status(agent)


def test_verify_without_any_ca_defers(agent, peers, certs):  # noqa: F811
    peer = ca_peer(peers, certs)
    agent.configure(smtp_tls_security_level="verify")
    assert send(agent, peer) == ["deferred"]
    no_mail(peer)


def test_verify_with_cafile_is_verified(agent, peers, certs):  # noqa: F811
    """[127.0.0.1]: the server's "hostname" is the address, in the certificate's IP SAN."""
    peer = ca_peer(peers, certs)
    agent.configure(smtp_tls_security_level="verify", smtp_tls_CAfile=str(certs.ca))
    assert send(agent, peer) == ["sent"]
    assert peer.messages[0]["tls"] is True
    assert re.search(r"Verified TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:%d: %s"
                     % (peer.port, CIPHER), agent.logtext())


def test_verify_with_capath(agent, peers, certs, tmp_path):  # noqa: F811
    import subprocess
    capath = tmp_path / "capath"
    capath.mkdir()
    h = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(certs.ca)],
                       capture_output=True, text=True, check=True).stdout.strip()
    (capath / f"{h}.0").write_bytes(certs.ca.read_bytes())
    tmp_path.chmod(0o755)
    capath.chmod(0o755)
    peer = ca_peer(peers, certs)
    agent.configure(smtp_tls_security_level="verify", smtp_tls_CApath=str(capath))
    assert send(agent, peer) == ["sent"]
    assert "Verified TLS connection established" in agent.logtext()


def test_verify_name_mismatch_is_only_trusted(agent, peers, certs):  # noqa: F811
    peer = ca_peer(peers, certs)
    agent.configure(smtp_tls_security_level="verify", smtp_tls_CAfile=str(certs.ca),
                    smtp_tls_verify_cert_match="mail.example.org")
    assert send(agent, peer) == ["deferred"]
    no_mail(peer)
    log = agent.logtext()
    assert "Trusted TLS connection established to 127.0.0.1[127.0.0.1]" in log
    assert "server certificate name mismatch for 127.0.0.1[127.0.0.1]:%d: expected " \
           "mail.example.org" % peer.port in log
    assert "dsn=4.7.5, status=deferred (Server certificate not verified)" in status(agent)


def test_verify_literal_and_subdomain_match(agent, peers, certs):  # noqa: F811
    peer = ca_peer(peers, certs)
    agent.configure(smtp_tls_security_level="verify", smtp_tls_CAfile=str(certs.ca),
                    smtp_tls_verify_cert_match="mail.example.org, mx.test")
    assert send(agent, peer) == ["sent"]
    agent.configure(smtp_tls_verify_cert_match=".test")
    assert send(agent, peer) == ["sent"]
    agent.configure(smtp_tls_verify_cert_match=".mx.test")      # a subdomain of mx.test only
    assert send(agent, peer) == ["deferred"]
    assert len(peer.messages) == 2


def test_secure_matching_nexthop(agent, peers, certs, dnsmasq):  # noqa: F811
    dnsmasq.host("mx.test", "127.0.0.1").host("alias.test", "127.0.0.1").start()
    peer = ca_peer(peers, certs)
    agent.configure(smtp_tls_security_level="secure", smtp_tls_CAfile=str(certs.ca),
                    smtp_dns_servers=dnsmasq.server)
    assert send(agent, peer, host="mx.test") == ["sent"]
    assert re.search(r"Verified TLS connection established to mx\.test\[127\.0\.0\.1\]:%d: "
                     % peer.port, agent.logtext())
    # the same server under another name: its certificate does not carry it
    assert send(agent, peer, host="alias.test") == ["deferred"]
    assert "status=deferred (Server certificate not verified)" in status(agent)
    assert len(peer.messages) == 1


def test_secure_ignores_hostname_match(agent, peers, certs):  # noqa: F811
    """secure matches the next hop (here 127.0.0.1, in the IP SAN), not smtp_tls_verify_cert_match."""
    peer = ca_peer(peers, certs)
    agent.configure(smtp_tls_security_level="secure", smtp_tls_CAfile=str(certs.ca),
                    smtp_tls_verify_cert_match="nothing.example")
    assert send(agent, peer) == ["sent"]
    agent.configure(smtp_tls_secure_cert_match="nothing.example")
    assert send(agent, peer) == ["deferred"]


# ---------------------------------------------------------------- SNI

def test_sni_none_by_default(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs)
    agent.configure(smtp_tls_security_level="may")
    assert send(agent, peer) == ["sent"]
    assert peer.sni == [None]


def test_sni_literal_name(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs)
    agent.configure(smtp_tls_security_level="may", smtp_tls_servername="sni.example.net")
    assert send(agent, peer) == ["sent"]
    assert peer.sni == ["sni.example.net"]


def test_sni_hostname_and_nexthop(agent, peers, certs, dnsmasq):  # noqa: F811
    dnsmasq.host("mx.test", "127.0.0.1").start()
    peer = self_signed_peer(peers, certs)
    agent.configure(smtp_tls_security_level="may", smtp_tls_servername="hostname",
                    smtp_dns_servers=dnsmasq.server)
    assert send(agent, peer, host="mx.test") == ["sent"]
    agent.configure(smtp_tls_servername="nexthop")
    assert send(agent, peer, host="mx.test") == ["sent"]
    # an IP address is never sent as SNI
    agent.configure(smtp_tls_servername="hostname")
    assert send(agent, peer) == ["sent"]
    assert peer.sni == ["mx.test", "mx.test", None]


# ---------------------------------------------------------------- policy tables

def test_policy_maps_per_destination(agent, peers, certs, tmp_path):  # noqa: F811
    plain = peers()
    tls = self_signed_peer(peers, certs)
    table = tmp_path / "tls_policy"
    table.write_text(f"{hop(plain)} encrypt\n{hop(tls)} may\n")
    tmp_path.chmod(0o755)
    table.chmod(0o644)
    agent.configure(smtp_tls_policy_maps=f"texthash:{table}")
    assert send(agent, plain) == ["deferred"]
    assert "TLS is required, but was not offered" in status(agent)
    assert send(agent, tls) == ["sent"]
    assert tls.messages[0]["tls"] is True
    no_mail(plain)


def test_policy_maps_domain_and_parent(agent, peers, certs, dnsmasq):  # noqa: F811
    dnsmasq.host("relay.example.test", "127.0.0.1").start()
    peer = self_signed_peer(peers, certs)
    agent.configure(smtp_dns_servers=dnsmasq.server,
                    smtp_tls_policy_maps="inline:{ .example.test=encrypt }")
    # a domain destination: looked up as itself, then as its parents
    res = agent.send("s@example.com", ["a@relay.example.test"], MSG,
                     f"relay.example.test:{peer.port}")
    # relay.example.test:PORT is a key with a port: no parent lookup, level none
    assert res == ["sent"] and peer.messages[0]["tls"] is False
    agent.configure(smtp_tcp_port=str(peer.port))
    assert agent.send("s@example.com", ["a@relay.example.test"], MSG,
                      "relay.example.test") == ["sent"]
    assert peer.messages[1]["tls"] is True


def test_policy_match_and_servername_attributes(agent, peers, certs):  # noqa: F811
    peer = ca_peer(peers, certs)
    agent.configure(smtp_tls_CAfile=str(certs.ca), smtp_tls_policy_maps=(
        "inline:{ {%s = secure match=nothing.example:mx.test servername=sni.test "
        "protocols=>=TLSv1.2 ciphers=high} }" % hop(peer)))
    assert send(agent, peer) == ["sent"]
    assert peer.sni == ["sni.test"]
    assert "Verified TLS connection established" in agent.logtext()


def test_policy_invalid_or_unsupported_defers(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs)
    agent.configure(smtp_tls_policy_maps="inline:{ {%s = maybe} }" % hop(peer))
    assert send(agent, peer) == ["deferred"]
    assert "invalid TLS policy" in status(agent)
    agent.configure(smtp_tls_policy_maps="inline:{ {%s = encrypt colour=blue} }" % hop(peer))
    assert send(agent, peer) == ["deferred"]
    assert "invalid attribute in TLS policy" in status(agent)
    agent.configure(smtp_tls_policy_maps="inline:{ {%s = dane-only} }" % hop(peer))
    assert send(agent, peer) == ["deferred"]
    assert "is not supported" in status(agent)
    assert peer.connections == 0


def test_invalid_level_is_fatal(agent, peers):
    peer = peers()
    agent.configure(smtp_tls_security_level="sometimes")
    agent.make_queue_file("s@example.com", ["a@example.net"], MSG)
    with pytest.raises(Exception):
        agent.request(extra={"nexthop": hop(peer)}, timeout=20)
    assert re.search(r"fatal: invalid smtp_tls_security_level value \"sometimes\"",
                     agent.logtext())
    assert peer.connections == 0


def test_old_parameters(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs)
    agent.configure(smtp_use_tls="yes")
    assert send(agent, peer) == ["sent"]
    agent.configure(smtp_enforce_tls="yes")                # verify
    assert send(agent, peer) == ["deferred"]
    agent.configure(smtp_tls_enforce_peername="no")        # encrypt
    assert send(agent, peer) == ["sent"]
    assert [m["tls"] for m in peer.messages] == [True, True]


# ---------------------------------------------------------------- other

def test_wrappermode(agent, peers, certs):  # noqa: F811
    peer = peers(cert=certs.mx[0], key=certs.mx[1], wrapper=True)
    agent.configure(smtp_tls_security_level="verify", smtp_tls_wrappermode="yes",
                    smtp_tls_CAfile=str(certs.ca))
    assert send(agent, peer) == ["sent"]
    assert "STARTTLS" not in peer.commands
    assert peer.messages[0]["tls"] is True
    assert "Verified TLS connection established" in agent.logtext()


def test_wrappermode_plaintext_server_defers(agent, peers):
    peer = peers()
    agent.configure(smtp_tls_security_level="may", smtp_tls_wrappermode="yes",
                    smtp_starttls_timeout="5s")
    assert send(agent, peer) == ["deferred"]
    no_mail(peer)
    assert "Cannot start TLS: handshake failure" in status(agent)


def test_loglevel_0_logs_no_session_line(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs)
    agent.configure(smtp_tls_security_level="may", smtp_tls_loglevel="0")
    assert send(agent, peer) == ["sent"]
    assert "TLS connection established" not in agent.logtext()


def test_loglevel_2_logs_certificate(agent, peers, certs):  # noqa: F811
    peer = ca_peer(peers, certs)
    agent.configure(smtp_tls_security_level="may", smtp_tls_loglevel="2")
    assert send(agent, peer) == ["sent"]
    log = agent.logtext()
    assert "subject_CN=mx.test, issuer_CN=postern test CA" in log
    assert "setting up TLS connection to 127.0.0.1[127.0.0.1]:%d" % peer.port in log
    assert "SSL_connect:" in log


def test_note_starttls_offer(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs)
    agent.configure(smtp_tls_note_starttls_offer="yes")
    assert send(agent, peer) == ["sent"]
    assert "Host offered STARTTLS: [127.0.0.1]" in agent.logtext()


def test_protocols_and_ciphers(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs)
    agent.configure(smtp_tls_security_level="encrypt", smtp_tls_mandatory_protocols="<=TLSv1.2",
                    smtp_tls_mandatory_ciphers="high",
                    smtp_tls_mandatory_exclude_ciphers="aNULL, CHACHA20")
    assert send(agent, peer) == ["sent"]
    assert re.search(r"Untrusted TLS connection established to .*: TLSv1\.2 with cipher",
                     agent.logtext())
    agent.configure(smtp_tls_mandatory_ciphers="bogus")
    assert send(agent, peer) == ["deferred"]
    assert "invalid TLS cipher grade \"bogus\"" in status(agent)
    agent.configure(smtp_tls_mandatory_ciphers="high", smtp_tls_mandatory_protocols="TLSv9")
    assert send(agent, peer) == ["deferred"]
    assert "in the TLS protocols for [127.0.0.1]:%d" % peer.port in status(agent)
    assert len(peer.messages) == 1
    assert peer.connections == 1


def test_missing_cafile_makes_tls_unavailable(agent, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs)
    agent.configure(smtp_tls_security_level="encrypt", smtp_tls_CAfile="/nonexistent/ca.pem")
    assert send(agent, peer) == ["deferred"]
    assert "cannot start the TLS client engine" in agent.logtext()
    assert "TLS is required for [127.0.0.1]:%d, but the TLS client engine is unavailable" \
           % peer.port in status(agent)
    assert peer.connections == 0
    # level may: plaintext
    agent.configure(smtp_tls_security_level="may")
    assert send(agent, peer) == ["sent"]
    assert peer.messages[0]["tls"] is False


def test_lmtp_tls_and_auth(postern_build, agent_base, peers, certs):  # noqa: F811
    peer = peers(cert=certs.mx[0], key=certs.mx[1], lmtp=True, auth={"lmtpuser": "pw"},
                 auth_required=True, auth_tls_only=True)
    agent = SmtpAgent(postern_build, agent_base, program="lmtp")
    agent.configure(lmtp_tls_security_level="verify", lmtp_tls_CAfile=str(certs.ca),
                    lmtp_tls_loglevel="1", lmtp_sasl_auth_enable="yes",
                    lmtp_sasl_password_maps="inline:{ 127.0.0.1=lmtpuser:pw }",
                    lmtp_sasl_tls_security_options="noanonymous")
    res = agent.send("s@example.com", ["a@example.net", "b@example.net"], MSG,
                     f"inet:127.0.0.1:{peer.port}")
    assert res == ["sent", "sent"]
    assert peer.commands[:4] == ["LHLO mx.example.com", "STARTTLS", "LHLO mx.example.com",
                                 "AUTH PLAIN ..."]
    assert peer.messages[0]["tls"] is True and peer.messages[0]["auth"] == "lmtpuser"
    assert re.search(r"postern/lmtp\[\d+\]: Verified TLS connection established to "
                     r"127\.0\.0\.1\[127\.0\.0\.1\]:%d" % peer.port, agent.logtext())
    # the smtp_* settings do not apply to LMTP
    agent.configure(lmtp_tls_security_level="", smtp_tls_security_level="encrypt",
                    lmtp_sasl_auth_enable="no")
    plain = peers(lmtp=True)
    assert agent.send("s@example.com", ["a@example.net"], MSG,
                      f"inet:127.0.0.1:{plain.port}") == ["sent"]


# ---------------------------------------------------------------- full chain

BASE_MAIN = {
    "mynetworks": "127.0.0.0/8",
    "smtpd_error_sleep_time": "0",
    "smtpd_peername_lookup": "no",
    "smtp_tls_loglevel": "1",
}


def submit(inst, rcpts, count=1):
    c = inst.smtplib_client()
    for i in range(count):
        c.sendmail("alice@example.com", rcpts, f"From: <alice@example.com>\r\nSubject: {i}\r\n\r\n"
                                               f"body {i}\r\n")
    c.quit()


def test_chain_may_self_signed_delivered(instance_factory, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs)
    inst = instance_factory(main=dict(BASE_MAIN, relayhost=hop(peer),
                                      smtp_tls_security_level="may"))
    inst.start()
    submit(inst, ["bob@remote.example"])
    peer.wait_messages(1, 30)
    assert peer.messages[0]["tls"] is True
    inst.wait_log(r"postern/smtp\[\d+\]: Untrusted TLS connection established to "
                  r"127\.0\.0\.1\[127\.0\.0\.1\]:%d: %s" % (peer.port, CIPHER), 30)
    inst.wait_log(r"to=<bob@remote.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*dsn=2\.0\.0, "
                  r"status=sent \(250 2\.0\.0 Ok: queued as TLSPEER1\)" % peer.port, 30)


def test_chain_verify_self_signed_deferred(instance_factory, peers, certs):  # noqa: F811
    peer = self_signed_peer(peers, certs)
    inst = instance_factory(main=dict(BASE_MAIN, relayhost=hop(peer),
                                      smtp_tls_security_level="verify",
                                      smtp_tls_CAfile=str(certs.ca)))
    inst.start()
    submit(inst, ["bob@remote.example"])
    inst.wait_log(r"to=<bob@remote.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*dsn=4\.7\.5, "
                  r"status=deferred \(Server certificate not trusted\)" % peer.port, 30)
    assert peer.messages == []
    assert inst.queue_files(("deferred",)), "the message waits in the deferred queue"


def test_chain_tls_connection_reused_stays_tls(instance_factory, peers, certs):  # noqa: F811
    peer = ca_peer(peers, certs)
    inst = instance_factory(main=dict(BASE_MAIN, relayhost=hop(peer),
                                      smtp_tls_security_level="verify",
                                      smtp_tls_CAfile=str(certs.ca),
                                      default_destination_concurrency_limit="1",
                                      initial_destination_concurrency="1",
                                      smtp_connection_cache_time_limit="10s"))
    inst.start()
    for i in range(3):
        submit(inst, [f"r{i}@remote.example"])
        peer.wait_messages(i + 1, 30)
    assert peer.connections == 1
    assert peer.commands.count("STARTTLS") == 1
    assert peer.commands.count("RSET") == 2
    assert all(m["tls"] for m in peer.messages)
    assert inst.log_count(r"Verified TLS connection established") == 1
