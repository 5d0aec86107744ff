"""smtpd(8) restriction language beyond the basics of test_smtpd_policy.py:
restriction classes, end-of-data restrictions, PREPEND/INFO and the
actions postern refuses, unlisted senders, multi-recipient bounces, and
the restrictions that ask the DNS (a private dnsmasq via smtp_dns_servers):
reject_unknown_helo_hostname, reject_unknown_sender_domain,
reject_unknown_recipient_domain, reject_unknown_client_hostname,
reject_unknown_reverse_client_hostname.

Clients that need a name of their own connect from 127.0.0.2..127.0.0.9
(all loopback), whose PTR records dnsmasq serves.
"""
import re
import socket

import pytest

from dnsmasq_rbl import rbl_dns  # noqa: F401
from instance import SmtpConn, instance_factory, wait_for  # noqa: F401

SERVICES = ["smtp/inet", "cleanup/unix"]
STRANGER = {
    "mynetworks": "192.0.2.0/24",
    "smtpd_error_sleep_time": "0",
    "smtpd_peername_lookup": "no",
}


def make(instance_factory, main_lines=(), **main):
    conf = dict(STRANGER)
    conf.update(main)
    return instance_factory(main=conf, main_lines=list(main_lines), services=SERVICES).start()


def connect_from(inst, source):
    c = SmtpConn.__new__(SmtpConn)
    c.sock = socket.create_connection(("127.0.0.1", inst.smtp_port), timeout=15,
                                      source_address=(source, 0))
    c.buf = b""
    inst.conns.append(c)
    return c


def session(inst, helo="client.example.com", sender="a@example.org", source=None):
    c = connect_from(inst, source) if source else inst.smtp_connect()
    c.expect(220)
    assert c.cmd(f"EHLO {helo}")[0] == 250
    if sender is not None:
        assert c.cmd(f"MAIL FROM:<{sender}>")[0] == 250
    return c


def send_data(c, body=b"Subject: x\r\n\r\nhello\r\n"):
    assert c.cmd("DATA")[0] == 354
    return c.cmd(body + b".")


# ---------------------------------------------------------------- classes

def test_restriction_classes(instance_factory):
    inst = make(instance_factory,
                smtpd_restriction_classes="strict, lenient",
                strict="check_sender_access inline:{ {bad.example=REJECT not from there} }, "
                       "reject_non_fqdn_sender, permit",
                lenient="permit",
                smtpd_recipient_restrictions="reject_unauth_destination, check_recipient_access "
                                             "inline:{ {root@mx.example.com=strict}, "
                                             "{abuse@mx.example.com=lenient} }, reject")
    c = session(inst, sender="x@bad.example")
    # a class reached through a table, evaluated with the caller's reply class
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        554, ["5.7.1 <x@bad.example>: Sender address rejected: not from there"])
    assert c.cmd("RCPT TO:<abuse@mx.example.com>")[0] == 250
    assert c.cmd("RCPT TO:<postmaster@mx.example.com>") == (
        554, ["5.7.1 <postmaster@mx.example.com>: Recipient address rejected: Access denied"])
    c = session(inst, sender="x@good.example")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250


def test_class_as_restriction_and_undefined_class(instance_factory):
    inst = make(instance_factory, smtpd_restriction_classes="nohelo, ghost",
                nohelo="reject_non_fqdn_helo_hostname",
                smtpd_helo_restrictions="nohelo",
                smtpd_sender_restrictions="check_sender_access inline:{ g.example=ghost }")
    c = session(inst, helo="localhost")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        504, ["5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname"])
    c = session(inst, sender="x@g.example")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (451, ["4.3.5 Server configuration error"])
    inst.wait_log(r'restriction class "ghost" is not defined')


def test_class_named_like_a_restriction_is_fatal(instance_factory):
    inst = make(instance_factory, smtpd_restriction_classes="permit")
    c = inst.smtp_connect()
    c.sock.settimeout(3)
    with pytest.raises((EOFError, ConnectionResetError, OSError)):
        c.reply()
    inst.wait_log(r'fatal: smtpd_restriction_classes: class name "permit" is a restriction name')


def test_classes_nested_too_deeply(instance_factory):
    inst = make(instance_factory, smtpd_restriction_classes="loop", loop="loop",
                smtpd_client_restrictions="loop")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (451, ["4.3.5 Server configuration error"])


# ---------------------------------------------------------------- data and end of data

def test_end_of_data_restrictions(instance_factory):
    inst = make(instance_factory, smtpd_restriction_classes="eod", eod="reject",
                smtpd_end_of_data_restrictions="check_sender_access inline:{ big.example=eod }")
    c = session(inst, sender="x@big.example")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert send_data(c) == (
        554, ["5.7.1 <END-OF-MESSAGE>: End-of-data rejected: Access denied"])
    wait_for(lambda: inst.queue_files() == [], what="the refused message to go")
    c.send(b"MAIL FROM:<x@small.example>\r\nRCPT TO:<root@mx.example.com>\r\nBDAT 5 LAST\r\nhello")
    assert [r[0] for r in c.replies(3)] == [250, 250, 250]
    assert len(inst.queue_files()) == 1


def test_multi_recipient_bounce(instance_factory):
    inst = make(instance_factory,
                smtpd_data_restrictions="reject_multi_recipient_bounce",
                smtpd_recipient_restrictions="reject_unauth_destination, "
                                             "reject_multi_recipient_bounce")
    c = session(inst, sender="")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("RCPT TO:<postmaster@mx.example.com>") == (
        550, ["5.5.3 <postmaster@mx.example.com>: Recipient address rejected: "
              "Multi-recipient bounce"])
    c = session(inst, sender="x@example.org")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("RCPT TO:<postmaster@mx.example.com>")[0] == 250


# ---------------------------------------------------------------- actions

def test_prepend_info_and_warn(instance_factory):
    inst = make(instance_factory,
                smtpd_client_restrictions="check_client_access inline:{ {127.0.0.1=PREPEND "
                                          "X-Client: loopback} }",
                smtpd_recipient_restrictions="reject_unauth_destination, check_recipient_access "
                                             "inline:{ {root@mx.example.com=INFO root mail}, "
                                             "{abuse@mx.example.com=PREPEND not a header} }")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("RCPT TO:<abuse@mx.example.com>")[0] == 250
    code, texts = send_data(c)
    assert code == 250, texts
    qid = re.search(r"queued as (\S+)", texts[0]).group(1)
    headers = inst.queue_file(qid).headers()
    # evaluated for every RCPT, prepended once, above Received:
    assert headers[0] == b"X-Client: loopback"
    assert headers[1].startswith(b"Received: ")
    assert sum(h.startswith(b"X-Client") for h in headers) == 1
    inst.wait_log(r"info: RCPT from unknown\[127\.0\.0\.1\]: <root@mx\.example\.com>: "
                  r"Recipient address root mail; from=<a@example\.org>")
    inst.wait_log(r'PREPEND "not a header": not a header')


def content_action_instance(instance_factory, table):
    return make(instance_factory,
                smtpd_recipient_restrictions="reject_unauth_destination, check_recipient_access "
                                             f"inline:{{ {table} }}")


def test_hold_action(instance_factory):
    inst = content_action_instance(instance_factory, "{root@mx.example.com=HOLD}")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    code, texts = send_data(c)
    assert code == 250, texts
    qid = re.search(r"queued as (\S+)", texts[0]).group(1)
    held = wait_for(lambda: inst.queue_files(("hold",)), what="a file in hold/")
    assert [p.name for p in held] == [qid]
    inst.wait_log(r"NOQUEUE: hold: RCPT from unknown\[127\.0\.0\.1\]: <root@mx\.example\.com>: "
                  r"Recipient address triggers HOLD action; from=<a@example\.org>")
    # the request is for one message only
    assert c.cmd("MAIL FROM:<a@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<postmaster@mx.example.com>")[0] == 250
    code, texts = send_data(c)
    qid2 = re.search(r"queued as (\S+)", texts[0]).group(1)
    assert qid2 in [p.name for p in inst.queue_files(("incoming",))]


def test_discard_action(instance_factory):
    inst = content_action_instance(instance_factory, "{root@mx.example.com=DISCARD spam trap}")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    # DISCARD permits: later recipients are not even checked
    assert c.cmd("RCPT TO:<x@elsewhere.org>")[0] == 250
    code, texts = send_data(c)
    assert code == 250, texts
    inst.wait_log(r"discard: RCPT from unknown\[127\.0\.0\.1\]: <root@mx\.example\.com>: "
                  r"Recipient address spam trap")
    wait_for(lambda: inst.queue_files() == [], what="no queue file")


def test_redirect_and_filter_actions(instance_factory):
    inst = content_action_instance(instance_factory,
                                   "{root@mx.example.com=REDIRECT trap@example.net}, "
                                   "{postmaster@mx.example.com=FILTER smtp:[127.0.0.1]:10025}")
    for rcpt, attr, value in [("root@mx.example.com", "redirect", "trap@example.net"),
                              ("postmaster@mx.example.com", "content_filter",
                               "smtp:[127.0.0.1]:10025")]:
        c = session(inst)
        assert c.cmd(f"RCPT TO:<{rcpt}>")[0] == 250
        code, texts = send_data(c)
        assert code == 250, texts
        qid = re.search(r"queued as (\S+)", texts[0]).group(1)
        assert inst.queue_file(qid).attrs.get(attr) == value, inst.queue_file(qid).attrs
    inst.wait_log(r"redirect: RCPT from unknown\[127\.0\.0\.1\]: <root@mx\.example\.com>: "
                  r"Recipient address triggers REDIRECT trap@example\.net")
    inst.wait_log(r"filter: RCPT from .*triggers FILTER smtp:\[127\.0\.0\.1\]:10025")


@pytest.mark.parametrize("action", ["BCC x@example.org", "REDIRECT", "REDIRECT no-at-sign",
                                    "FILTER nocolon"])
def test_unsupported_or_malformed_actions_fail_closed(instance_factory, action):
    inst = content_action_instance(instance_factory, f"{{root@mx.example.com={action}}}")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (451, ["4.3.5 Server configuration error"])


def test_content_action_at_end_of_data_fails_closed(instance_factory):
    inst = make(instance_factory,
                smtpd_end_of_data_restrictions="check_sender_access inline:{ example.org=HOLD }")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert send_data(c) == (451, ["4.3.5 Server configuration error"])
    inst.wait_log(r"HOLD for <?a@example\.org>?: too late at the end of the message")


def test_defer_if_reject_and_warn_if_reject_on_dns_free_checks(instance_factory):
    inst = make(instance_factory,
                smtpd_recipient_restrictions="defer_if_reject, reject_non_fqdn_recipient, "
                                             "reject_unauth_destination")
    c = session(inst)
    assert c.cmd("RCPT TO:<postmaster>") == (
        450, ["4.5.2 <postmaster>: Recipient address rejected: need fully-qualified address"])


# ---------------------------------------------------------------- unlisted senders

def test_reject_unlisted_sender(instance_factory):
    inst = make(instance_factory, smtpd_sender_restrictions="reject_unlisted_sender")
    c = session(inst, sender="nosuchuser@mx.example.com")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        550, ["5.1.0 <nosuchuser@mx.example.com>: Sender address rejected: User unknown in "
              "local recipient table"])
    c = session(inst, sender="root@mx.example.com")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    c = session(inst, sender="")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    c = session(inst, sender="anyone@elsewhere.org")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250


def test_smtpd_reject_unlisted_sender(instance_factory):
    inst = make(instance_factory, smtpd_reject_unlisted_sender="yes",
                smtpd_sender_restrictions="permit")
    c = session(inst, sender="nosuchuser@localhost")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 550
    inst.cleanup()
    inst = make(instance_factory, smtpd_reject_unlisted_sender="yes", smtpd_delay_reject="no")
    c = inst.smtp_connect()
    c.expect(220)
    c.cmd("EHLO client.example.com")
    assert c.cmd("MAIL FROM:<nosuchuser@localhost>") == (
        550, ["5.1.0 <nosuchuser@localhost>: Sender address rejected: User unknown in local "
              "recipient table"])


def test_reject_plaintext_session(instance_factory):
    inst = make(instance_factory, smtpd_client_restrictions="reject_plaintext_session")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        450, ["4.7.1 Session encryption is required"])


# ---------------------------------------------------------------- DNS: names and domains

def dns_records(dns):
    dns.host("known.test", "192.0.2.10")
    dns.mx("mail.test", "mx.mail.test", 10)
    dns.host("mx.mail.test", "192.0.2.11")
    dns.null_mx("nomail.test")
    dns.host("good.test", "127.0.0.2")          # PTR and A: forward-confirmed
    dns.ptr("127.0.0.3", "liar.test")           # PTR, but liar.test points elsewhere
    dns.a_only("liar.test", "192.0.2.99")
    return dns.start()                          # 127.0.0.4: no PTR record at all


def test_reject_unknown_helo_hostname(instance_factory, rbl_dns):
    dns = dns_records(rbl_dns)
    inst = make(instance_factory, smtp_dns_servers=dns.server,
                smtpd_helo_restrictions="reject_unknown_helo_hostname")
    for helo in ["known.test", "mail.test", "[127.0.0.1]"]:
        c = session(inst, helo=helo)
        assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250, helo
    c = session(inst, helo="unknown.test")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        450, ["4.7.1 <unknown.test>: Helo command rejected: Host not found"])
    # temporary DNS failure: defer_if_permit by default
    c = session(inst, helo="host.other.example")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        450, ["4.4.3 <host.other.example>: Helo command rejected: Host not found"])
    assert c.cmd("RCPT TO:<x@elsewhere.org>")[0] == 454     # a real rejection wins
    inst.cleanup()
    inst = make(instance_factory, smtp_dns_servers=dns.server, unknown_hostname_reject_code="550",
                smtpd_delay_reject="no", smtpd_helo_restrictions="reject_unknown_helo_hostname")
    c = inst.smtp_connect()
    c.expect(220)
    assert c.cmd("EHLO unknown.test") == (
        550, ["5.7.1 <unknown.test>: Helo command rejected: Host not found"])
    assert c.cmd("EHLO known.test")[0] == 250


def test_reject_unknown_sender_and_recipient_domain(instance_factory, rbl_dns):
    dns = dns_records(rbl_dns)
    inst = make(instance_factory, smtp_dns_servers=dns.server, mynetworks="127.0.0.0/8",
                smtpd_sender_restrictions="reject_unknown_sender_domain",
                smtpd_recipient_restrictions="reject_unknown_recipient_domain, "
                                             "permit_mynetworks, reject_unauth_destination")
    for sender in ["x@mail.test", "x@known.test", "root@mx.example.com", "x@[192.0.2.1]", ""]:
        c = session(inst, sender=sender)
        code, texts = c.cmd("RCPT TO:<root@mx.example.com>")
        assert code == 250, (sender, texts)
    c = session(inst, sender="x@nowhere.test")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        450, ["4.1.8 <x@nowhere.test>: Sender address rejected: Domain not found"])
    c = session(inst, sender="x@nomail.test")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        550, ["5.7.27 <x@nomail.test>: Sender address rejected: Domain nomail.test does not "
              "accept mail (nullMX)"])
    c = session(inst, sender="x@dom.other.example")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        450, ["4.4.3 <x@dom.other.example>: Sender address rejected: Domain not found"])
    c = session(inst, sender="x@known.test")
    assert c.cmd("RCPT TO:<x@mail.test>")[0] == 250
    assert c.cmd("RCPT TO:<x@nowhere.test>") == (
        450, ["4.1.2 <x@nowhere.test>: Recipient address rejected: Domain not found"])
    assert c.cmd("RCPT TO:<x@nomail.test>") == (
        556, ["5.1.10 <x@nomail.test>: Recipient address rejected: Domain nomail.test does "
              "not accept mail (nullMX)"])
    inst.cleanup()
    inst = make(instance_factory, smtp_dns_servers=dns.server, unknown_address_reject_code="550",
                unknown_address_tempfail_action="defer",
                smtpd_sender_restrictions="reject_unknown_sender_domain")
    c = session(inst, sender="x@nowhere.test")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        550, ["5.1.8 <x@nowhere.test>: Sender address rejected: Domain not found"])
    c = session(inst, sender="x@dom.other.example")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 450


def test_reject_unknown_client_hostname(instance_factory, rbl_dns):
    dns = dns_records(rbl_dns)
    inst = make(instance_factory, smtp_dns_servers=dns.server, smtpd_peername_lookup="yes",
                smtpd_client_restrictions="reject_unknown_client_hostname")
    c = session(inst, source="127.0.0.2")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    for source in ["127.0.0.3", "127.0.0.4"]:
        c = session(inst, source=source)
        assert c.cmd("RCPT TO:<root@mx.example.com>") == (
            450, [f"4.7.25 Client host rejected: cannot find your hostname, [{source}]"])
    inst.cleanup()
    inst = make(instance_factory, smtp_dns_servers=dns.server, smtpd_peername_lookup="yes",
                unknown_client_reject_code="550",
                smtpd_client_restrictions="reject_unknown_reverse_client_hostname")
    for source in ["127.0.0.2", "127.0.0.3"]:
        c = session(inst, source=source)
        assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250, source
    c = session(inst, source="127.0.0.4")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        550, ["5.7.25 Client host rejected: cannot find your reverse hostname, [127.0.0.4]"])
    # a DNS failure is temporary whatever unknown_client_reject_code says
    dns.stop()
    c = session(inst, source="127.0.0.5")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        450, ["4.7.25 Client host rejected: cannot find your reverse hostname, [127.0.0.5]"])


def test_client_names_in_access_tables(instance_factory, rbl_dns):
    dns = dns_records(rbl_dns)
    inst = make(instance_factory, smtp_dns_servers=dns.server, smtpd_peername_lookup="yes",
                smtpd_client_restrictions="check_reverse_client_hostname_access "
                                          "inline:{ {liar.test=REJECT unverified name} }, "
                                          "check_client_access inline:{ good.test=REJECT }")
    c = session(inst, source="127.0.0.3")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        554, ["5.7.1 <unknown[127.0.0.3]>: Client host rejected: unverified name"])
    c = session(inst, source="127.0.0.2")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        554, ["5.7.1 <unknown[127.0.0.2]>: Client host rejected: Access denied"])
    c = session(inst, source="127.0.0.4")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
