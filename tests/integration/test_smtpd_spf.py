"""smtpd(8) check_spf: the sender's SPF policy through libspf2, asking a
private dnsmasq (smtp_dns_servers) for the TXT records.

fail -> 550 5.7.23, temperror -> 451 4.7.24, anything else -> a
Received-SPF: header above smtpd's Received: header. The client is
127.0.0.1: postern checks loopback clients like any other.
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
        "smtpd_sender_restrictions": "check_spf",
    }
    conf.update(main)
    return instance_factory(main=conf, services=SERVICES).start()


def records(dns):
    dns.spf("pass.test", "v=spf1 ip4:127.0.0.1 -all")
    dns.spf("fail.test", "v=spf1 ip4:192.0.2.1 -all")
    dns.spf("soft.test", "v=spf1 ip4:192.0.2.1 ~all")
    dns.spf("neutral.test", "v=spf1 ?all")
    dns.spf("temp.test", "v=spf1 include:spf.other.example -all")
    dns.spf("perm.test", "v=spf1 frobnicate:x -all")
    dns.spf("a.test", "v=spf1 a mx -all")
    dns.host("a.test", "127.0.0.1")
    dns.spf("helo.test", "v=spf1 ip4:127.0.0.1 -all")
    return dns.start()


def session(inst, sender, helo="client.example.com"):
    c = inst.smtp_connect()
    c.expect(220)
    assert c.cmd(f"EHLO {helo}")[0] == 250
    assert c.cmd(f"MAIL FROM:<{sender}>")[0] == 250
    return c


def deliver(inst, c, rcpts=("root@mx.example.com",)):
    for r in rcpts:
        assert c.cmd(f"RCPT TO:<{r}>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    code, texts = c.cmd(b"Subject: spf\r\n\r\nbody\r\n.")
    assert code == 250, texts
    qid = re.search(r"queued as (\S+)", texts[-1]).group(1)
    inst.wait_queue_files(1)
    return inst.queue_file(qid)


def test_spf_pass_adds_header_above_received(instance_factory, rbl_dns):
    inst = make(instance_factory, records(rbl_dns))
    c = session(inst, "a@pass.test")
    qf = deliver(inst, c, ["root@mx.example.com", "postmaster@mx.example.com"])
    headers = [h.decode() for h in qf.headers()]
    assert headers[0] == (
        "Received-SPF: pass (mx.example.com: domain of a@pass.test designates 127.0.0.1 as "
        "permitted sender) receiver=mx.example.com; client-ip=127.0.0.1; "
        "envelope-from=\"a@pass.test\"; helo=client.example.com; identity=mailfrom;")
    assert headers[1].startswith("Received: from client.example.com")
    # evaluated at each RCPT, added once
    assert sum(h.startswith("Received-SPF:") for h in headers) == 1


def test_spf_fail_rejects(instance_factory, rbl_dns):
    inst = make(instance_factory, records(rbl_dns))
    c = session(inst, "someone@fail.test")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        550, ["5.7.23 <someone@fail.test>: Sender address rejected: SPF fail - not authorized: "
              "domain of someone@fail.test does not designate 127.0.0.1 as permitted sender"])
    inst.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 550 5\.7\.23 "
                  r"<someone@fail\.test>: Sender address rejected: SPF fail - not authorized")


def test_spf_fail_reject_code(instance_factory, rbl_dns):
    inst = make(instance_factory, records(rbl_dns), spf_fail_reject_code="450")
    c = session(inst, "someone@fail.test")
    code, texts = c.cmd("RCPT TO:<root@mx.example.com>")
    assert code == 450 and texts[0].startswith("4.7.23 <someone@fail.test>"), texts


def test_spf_softfail_neutral_none_permerror_add_headers(instance_factory, rbl_dns):
    inst = make(instance_factory, records(rbl_dns))
    for sender, result in [("x@soft.test", "softfail"), ("x@neutral.test", "neutral"),
                           ("x@nospf.test", "none"), ("x@perm.test", "permerror"),
                           ("x@a.test", "pass")]:
        c = session(inst, sender)
        qf = deliver(inst, c)
        first = qf.headers()[0].decode()
        assert first.startswith(f"Received-SPF: {result} (mx.example.com: "), (sender, first)
        assert f'envelope-from="{sender}"' in first
        c.cmd("QUIT")
        for f in inst.queue_files():
            f.unlink()


def test_spf_temperror_defers(instance_factory, rbl_dns):
    inst = make(instance_factory, records(rbl_dns))
    c = session(inst, "x@temp.test")
    code, texts = c.cmd("RCPT TO:<root@mx.example.com>")
    assert code == 451, texts
    assert texts[0].startswith("4.7.24 <x@temp.test>: Sender address rejected: SPF temporary "
                               "error: "), texts
    inst.cleanup()
    # a name server that does not answer at all is a temporary error too
    inst = make(instance_factory, rbl_dns)
    rbl_dns.stop()
    c = session(inst, "x@pass.test")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 451


def test_spf_null_sender_checks_helo(instance_factory, rbl_dns):
    inst = make(instance_factory, records(rbl_dns))
    c = session(inst, "", helo="helo.test")
    qf = deliver(inst, c)
    first = qf.headers()[0].decode()
    assert first.startswith("Received-SPF: pass (mx.example.com: domain of postmaster@helo.test "
                            "designates 127.0.0.1"), first
    assert first.endswith("identity=helo;")
    c = session(inst, "", helo="fail.test")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 550


def test_spf_warn_if_reject_keeps_the_mail(instance_factory, rbl_dns):
    inst = make(instance_factory, records(rbl_dns), smtpd_sender_restrictions="warn_if_reject check_spf")
    c = session(inst, "x@fail.test")
    qf = deliver(inst, c)
    assert qf.headers()[0].decode().startswith("Received-SPF: fail (mx.example.com: ")
    inst.wait_log(r"NOQUEUE: reject_warning: RCPT from unknown\[127\.0\.0\.1\]: 550 5\.7\.23 "
                  r"<x@fail\.test>: Sender address rejected: SPF fail")


def test_spf_at_mail_from_without_delay_reject(instance_factory, rbl_dns):
    inst = make(instance_factory, records(rbl_dns), smtpd_delay_reject="no")
    c = inst.smtp_connect()
    c.expect(220)
    c.cmd("EHLO client.example.com")
    code, texts = c.cmd("MAIL FROM:<x@fail.test>")
    assert code == 550 and texts[0].startswith("5.7.23 <x@fail.test>"), texts
    assert c.cmd("MAIL FROM:<x@pass.test>")[0] == 250
    qf = deliver(inst, c)
    assert qf.headers()[0].decode().startswith("Received-SPF: pass")


def test_spf_header_does_not_leak_into_the_next_message(instance_factory, rbl_dns):
    inst = make(instance_factory, records(rbl_dns),
                smtpd_sender_restrictions="check_sender_access inline:{ other.org=OK }, check_spf")
    c = session(inst, "x@pass.test")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("RSET")[0] == 250
    assert c.cmd("MAIL FROM:<y@other.org>")[0] == 250
    qf = deliver(inst, c)
    assert not any(h.startswith(b"Received-SPF:") for h in qf.headers()), qf.headers()
