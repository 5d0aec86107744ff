"""smtpd(8) DNS block and allow lists: reject_rbl_client, reject_rhsbl_*,
permit_dnswl_client, rbl_reply_maps, default_rbl_reply.

Every list is a zone served by a private dnsmasq (smtp_dns_servers); the
client is 127.0.0.1, so a listing is the name 1.0.0.127.ZONE.
"""
import re

from dnsmasq_rbl import rbl_dns  # noqa: F401
from instance import instance_factory  # noqa: F401

SERVICES = ["smtp/inet", "cleanup/unix"]


def make(instance_factory, dns, **main):
    conf = {
        "mynetworks": "192.0.2.0/24",
        "smtpd_error_sleep_time": "0",
        "smtpd_peername_lookup": "no",
        "smtp_dns_servers": dns.server,
    }
    conf.update(main)
    return instance_factory(main=conf, services=SERVICES).start()


def session(inst, helo="client.example.com", sender="a@example.org"):
    c = inst.smtp_connect()
    c.expect(220)
    assert c.cmd(f"EHLO {helo}")[0] == 250
    assert c.cmd(f"MAIL FROM:<{sender}>")[0] == 250
    return c


def test_rbl_client_listed_with_reason(instance_factory, rbl_dns):
    rbl_dns.listed("127.0.0.1", "rbl.test", "127.0.0.2", "listed for testing")
    rbl_dns.start()
    inst = make(instance_factory, rbl_dns, smtpd_client_restrictions="reject_rbl_client rbl.test")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        554, ["5.7.1 Service unavailable; Client host [127.0.0.1] blocked using rbl.test; "
              "listed for testing"])
    inst.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 554 5\.7\.1 Service "
                  r"unavailable; Client host \[127\.0\.0\.1\] blocked using rbl\.test; listed for "
                  r"testing; from=<a@example\.org> to=<root@mx\.example\.com> proto=ESMTP "
                  r"helo=<client\.example\.com>")
    # the answer is remembered for the session: a second RCPT asks nothing new
    before = len([q for q in rbl_dns.queries() if "rbl.test" in q])
    assert c.cmd("RCPT TO:<postmaster@mx.example.com>")[0] == 554
    assert len([q for q in rbl_dns.queries() if "rbl.test" in q]) == before


def test_rbl_client_not_listed_and_without_reason(instance_factory, rbl_dns):
    rbl_dns.listed("127.0.0.1", "noreason.test", "127.0.0.2")
    rbl_dns.start()
    inst = make(instance_factory, rbl_dns,
                smtpd_client_restrictions="reject_rbl_client clean.test, "
                                          "reject_rbl_client noreason.test")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        554, ["5.7.1 Service unavailable; Client host [127.0.0.1] blocked using noreason.test"])


def test_rbl_filters(instance_factory, rbl_dns):
    rbl_dns.listed("127.0.0.1", "multi.test", "127.0.0.4", "code four")
    rbl_dns.start()
    for zone, listed in [("multi.test=127.0.0.2", False), ("multi.test=127.0.0.4", True),
                         ("multi.test=127.0.0.[2..5]", True), ("multi.test=127.0.0.[2;3;5]", False),
                         ("multi.test=127.0.[0;1].[4;9]", True)]:
        inst = make(instance_factory, rbl_dns, smtpd_client_restrictions=f"reject_rbl_client {zone}")
        c = session(inst)
        code, texts = c.cmd("RCPT TO:<root@mx.example.com>")
        assert code == (554 if listed else 250), (zone, texts)
        if listed:
            # $rbl_domain is the zone without its filter
            assert texts == ["5.7.1 Service unavailable; Client host [127.0.0.1] blocked using "
                             "multi.test; code four"]
        inst.cleanup()


def test_bad_rbl_filter_is_fatal(instance_factory, rbl_dns):
    rbl_dns.start()
    inst = make(instance_factory, rbl_dns,
                smtpd_client_restrictions="reject_rbl_client rbl.test=127.0.0.999")
    c = inst.smtp_connect()
    c.sock.settimeout(3)
    try:
        c.reply()
        raise AssertionError("smtpd answered with a bad DNS list filter")
    except (EOFError, ConnectionResetError, OSError):
        pass
    inst.wait_log(r"fatal: smtpd_client_restrictions: reject_rbl_client: bad DNS list "
                  r"\"rbl\.test=127\.0\.0\.999\"")


def test_rbl_reply_maps_and_macros(instance_factory, rbl_dns, tmp_path):
    rbl_dns.listed("127.0.0.1", "rbl.test", "127.0.0.2", "see the list's web site")
    rbl_dns.start()
    replies = tmp_path / "rbl_replies"
    replies.write_text(
        "rbl.test  $rbl_code 5.7.9 $client_address refused for $sender_domain (to "
        "${recipient_name}) by $rbl_domain${rbl_reason?: $rbl_reason}${nothing:!}$$\n")
    inst = make(instance_factory, rbl_dns, rbl_reply_maps=f"texthash:{replies}",
                maps_rbl_reject_code="550",
                smtpd_recipient_restrictions="reject_unauth_destination, "
                                             "reject_rbl_client rbl.test")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        550, ["5.7.9 127.0.0.1 refused for example.org (to root) by rbl.test: see the list's "
              "web site!$"])


def test_default_rbl_reply_without_code_gets_one(instance_factory, rbl_dns):
    rbl_dns.listed("127.0.0.1", "rbl.test", "127.0.0.2")
    rbl_dns.start()
    inst = make(instance_factory, rbl_dns, default_rbl_reply="$rbl_code Go away, $client",
                smtpd_client_restrictions="reject_rbl_client rbl.test")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        554, ["5.7.1 Go away, unknown[127.0.0.1]"])
    inst.cleanup()
    # a template that does not yield a reply code is a configuration error
    inst = make(instance_factory, rbl_dns, default_rbl_reply="Go away",
                smtpd_client_restrictions="reject_rbl_client rbl.test")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (451, ["4.3.5 Server configuration error"])


def test_rhsbl_sender_helo_recipient(instance_factory, rbl_dns):
    rbl_dns.listed_domain("spam.test", "dbl.test", "127.0.1.2", "spam domain")
    rbl_dns.start()
    inst = make(instance_factory, rbl_dns,
                smtpd_sender_restrictions="reject_rhsbl_sender dbl.test",
                smtpd_helo_restrictions="reject_rhsbl_helo dbl.test",
                smtpd_recipient_restrictions="reject_rhsbl_recipient dbl.test, "
                                             "permit_mynetworks, reject_unauth_destination",
                mynetworks="127.0.0.0/8")
    c = session(inst, sender="x@spam.test")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        554, ["5.7.1 Service unavailable; Sender address [spam.test] blocked using dbl.test; "
              "spam domain"])
    c = session(inst, helo="spam.test")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        554, ["5.7.1 Service unavailable; Helo command [spam.test] blocked using dbl.test; "
              "spam domain"])
    c = session(inst)
    assert c.cmd("RCPT TO:<victim@spam.test>") == (
        554, ["5.7.1 Service unavailable; Recipient address [spam.test] blocked using "
              "dbl.test; spam domain"])
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    # the null sender has no domain to look up
    c = session(inst, sender="")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250


def test_rbl_temporary_failure_defers(instance_factory, rbl_dns):
    rbl_dns.start()
    # names outside dnsmasq's local domains are REFUSED: a temporary error
    inst = make(instance_factory, rbl_dns,
                smtpd_client_restrictions="reject_rbl_client rbl.other.example")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        450, ["4.4.3 <127.0.0.1>: Client host rejected: DNS block list rbl.other.example is "
              "not answering"])
    # never a pass, but a real rejection later wins over the deferral
    assert c.cmd("RCPT TO:<x@elsewhere.org>") == (
        454, ["4.7.1 <x@elsewhere.org>: Relay access denied"])


def test_rbl_dns_server_down_defers(instance_factory, rbl_dns):
    rbl_dns.listed("127.0.0.1", "rbl.test", "127.0.0.2")
    rbl_dns.start()
    inst = make(instance_factory, rbl_dns, smtpd_client_restrictions="reject_rbl_client rbl.test")
    rbl_dns.stop()
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 450


def test_dnswl_permits_but_never_relays(instance_factory, rbl_dns):
    rbl_dns.listed("127.0.0.1", "wl.test", "127.0.10.1")
    rbl_dns.start()
    inst = make(instance_factory, rbl_dns,
                smtpd_relay_restrictions="permit_dnswl_client wl.test, reject_unauth_destination",
                smtpd_recipient_restrictions="permit_dnswl_client wl.test, reject")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("RCPT TO:<x@elsewhere.org>") == (
        554, ["5.7.1 <x@elsewhere.org>: Relay access denied"])
    inst.cleanup()
    inst = make(instance_factory, rbl_dns,
                smtpd_recipient_restrictions="permit_dnswl_client notlisted.test, reject")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 554


def test_rbl_with_delay_reject_off_refuses_at_connect(instance_factory, rbl_dns):
    rbl_dns.listed("127.0.0.1", "rbl.test", "127.0.0.2", "bad client")
    rbl_dns.start()
    inst = make(instance_factory, rbl_dns, smtpd_delay_reject="no",
                smtpd_client_restrictions="reject_rbl_client rbl.test")
    c = inst.smtp_connect()
    c.expect(220)
    assert c.cmd("EHLO client.example.com") == (
        554, ["5.7.1 Service unavailable; Client host [127.0.0.1] blocked using rbl.test; "
              "bad client"])
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 554
    log = inst.logtext()
    assert re.search(r"NOQUEUE: reject: CONNECT from unknown\[127\.0\.0\.1\]: 554 5\.7\.1 "
                     r"Service unavailable", log), log
