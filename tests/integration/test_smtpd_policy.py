"""smtpd(8) restrictions: relay control, local recipients, access tables.

The tests play a stranger by setting mynetworks to a network that does
not hold 127.0.0.1 (192.0.2.0/24): everything runs on loopback.
"""
import re
import time

import pytest

from instance import instance_factory  # noqa: F401

SERVICES = ["smtp/inet", "cleanup/unix"]
STRANGER = {
    "mynetworks": "192.0.2.0/24",
    "smtpd_error_sleep_time": "0",
    "smtpd_peername_lookup": "no",
}


def make(instance_factory, services=SERVICES, **main):
    conf = dict(STRANGER)
    conf.update(main)
    return instance_factory(main=conf, services=services).start()


def session(inst, helo="client.example.com", sender="a@example.org"):
    c = inst.smtp_connect()
    c.expect(220)
    assert c.cmd(f"EHLO {helo}")[0] == 250
    if sender is not None:
        assert c.cmd(f"MAIL FROM:<{sender}>") == (250, ["2.1.0 Ok"])
    return c


# ---------------------------------------------------------------- relay control

def test_default_relay_restrictions_defer_strangers(instance_factory):
    inst = make(instance_factory)
    c = session(inst)
    assert c.cmd("RCPT TO:<x@elsewhere.org>") == (
        454, ["4.7.1 <x@elsewhere.org>: Relay access denied"])
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (250, ["2.1.5 Ok"])
    assert c.cmd("RCPT TO:<root@localhost>") == (250, ["2.1.5 Ok"])
    inst.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 454 4\.7\.1 "
                  r"<x@elsewhere\.org>: Relay access denied; from=<a@example\.org> "
                  r"to=<x@elsewhere\.org> proto=ESMTP helo=<client\.example\.com>")


def test_reject_unauth_destination(instance_factory):
    inst = make(instance_factory,
                smtpd_relay_restrictions="permit_mynetworks, reject_unauth_destination",
                relay_domains="relayed.example, .sub.example")
    c = session(inst)
    assert c.cmd("RCPT TO:<x@elsewhere.org>") == (
        554, ["5.7.1 <x@elsewhere.org>: Relay access denied"])
    # sender-specified routing through a local or relay domain is refused too
    for routed in ["x%elsewhere.org@mx.example.com", "elsewhere.org!x@mx.example.com",
                   '"x@elsewhere.org"@mx.example.com', "x%y@relayed.example"]:
        assert c.cmd(f"RCPT TO:<{routed}>")[0] == 554, routed
    assert c.cmd("RCPT TO:<x@relayed.example>")[0] == 250
    assert c.cmd("RCPT TO:<x@deep.relayed.example>")[0] == 250   # parent-domain style
    assert c.cmd("RCPT TO:<x@a.sub.example>")[0] == 250
    assert c.cmd("RCPT TO:<x@sub.example>")[0] == 554
    assert c.cmd("RCPT TO:<postmaster>")[0] == 250                # no domain: local
    assert c.cmd("RCPT TO:<root@[127.0.0.1]>")[0] == 250          # our own address
    assert c.cmd("RCPT TO:<root@[192.0.2.7]>")[0] == 554
    inst.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 554 5\.7\.1 "
                  r"<x@elsewhere\.org>: Relay access denied; from=<a@example\.org> "
                  r"to=<x@elsewhere\.org> proto=ESMTP helo=<client\.example\.com>")
    c.cmd("QUIT")
    inst.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=\d+/\d+ "
                  r"quit=1 commands=\d+/\d+")


def test_mynetworks_may_relay(instance_factory):
    for nets in ["127.0.0.0/8", "127.0.0.1", "192.0.2.0/24 [::1]/128 127.0.0.1/32",
                 "inline:{ 127.0.0.1=ok }"]:
        inst = make(instance_factory, mynetworks=nets)
        c = session(inst)
        assert c.cmd("RCPT TO:<x@elsewhere.org>") == (250, ["2.1.5 Ok"]), nets
        c.cmd("QUIT")
        inst.cleanup()


def test_open_relay_configuration_refused(instance_factory):
    inst = make(instance_factory, smtpd_relay_restrictions="permit_mynetworks",
                smtpd_recipient_restrictions="permit")
    c = inst.smtp_connect()
    c.sock.settimeout(3)
    with pytest.raises((EOFError, ConnectionResetError, OSError)):
        c.reply()
    inst.wait_log(r"fatal: smtpd_relay_restrictions and smtpd_recipient_restrictions: "
                  r"specify at least one of reject_unauth_destination")


# ---------------------------------------------------------------- local recipients

def test_unknown_local_user(instance_factory):
    inst = make(instance_factory)
    c = session(inst)
    assert c.cmd("RCPT TO:<nosuchuser@mx.example.com>") == (
        550, ["5.1.1 <nosuchuser@mx.example.com>: Recipient address rejected: "
              "User unknown in local recipient table"])
    assert c.cmd("RCPT TO:<ROOT@mx.example.com>")[0] == 250          # passwd, folded
    assert c.cmd("RCPT TO:<abuse@localhost>")[0] == 250              # alias_maps
    inst.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 550 5\.1\.1 "
                  r"<nosuchuser@mx\.example\.com>: Recipient address rejected: User unknown in "
                  r"local recipient table; from=<a@example\.org> to=<nosuchuser@mx\.example\.com> "
                  r"proto=ESMTP helo=<client\.example\.com>")


def test_local_recipient_maps_empty_accepts_all(instance_factory):
    inst = make(instance_factory, local_recipient_maps="")
    c = session(inst)
    assert c.cmd("RCPT TO:<nosuchuser@mx.example.com>")[0] == 250


def test_unlisted_check_can_be_turned_off(instance_factory):
    inst = make(instance_factory, smtpd_reject_unlisted_recipient="no")
    c = session(inst)
    assert c.cmd("RCPT TO:<nosuchuser@mx.example.com>")[0] == 250


def test_recipient_lookup_error_defers(instance_factory, tmp_path):
    inst = make(instance_factory, alias_maps=f"hash:{tmp_path}/missing-aliases")
    c = session(inst)
    # the whole address is looked up in every table before the local part:
    # the broken table answers (with an error) before passwd is asked for "root"
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        451, ["4.3.0 <root@mx.example.com>: Temporary lookup failure"])
    assert c.cmd("RCPT TO:<nosuchuser@mx.example.com>") == (
        451, ["4.3.0 <nosuchuser@mx.example.com>: Temporary lookup failure"])


# ---------------------------------------------------------------- access tables

def test_check_recipient_access(instance_factory):
    table = ("inline:{ {blocked@mx.example.com=REJECT go away}, "
             "{deferred@mx.example.com=DEFER try later}, "
             "{coded@mx.example.com=550 5.1.6 moved elsewhere}, "
             "{plain@mx.example.com=REJECT}, "
             "{friend@elsewhere.org=OK}, {dunno@elsewhere.org=DUNNO}, "
             "{elsewhere.org=REJECT domain blocked}, "
             "{postmaster@=OK} }")
    inst = make(instance_factory, smtpd_recipient_restrictions=f"check_recipient_access {table}")
    c = session(inst)
    assert c.cmd("RCPT TO:<blocked@mx.example.com>") == (
        554, ["5.7.1 <blocked@mx.example.com>: Recipient address rejected: go away"])
    assert c.cmd("RCPT TO:<deferred@mx.example.com>") == (
        450, ["4.7.1 <deferred@mx.example.com>: Recipient address rejected: try later"])
    assert c.cmd("RCPT TO:<coded@mx.example.com>") == (
        550, ["5.1.6 <coded@mx.example.com>: Recipient address rejected: moved elsewhere"])
    assert c.cmd("RCPT TO:<plain@mx.example.com>") == (
        554, ["5.7.1 <plain@mx.example.com>: Recipient address rejected: Access denied"])
    # relay control comes first: OK in the recipient list does not open the relay
    assert c.cmd("RCPT TO:<friend@elsewhere.org>")[0] == 454
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250


def test_access_ok_after_relay_control(instance_factory):
    table = "inline:{ {friend@elsewhere.org=OK}, {dunno@elsewhere.org=DUNNO}, " \
            "{elsewhere.org=REJECT domain blocked} }"
    inst = make(instance_factory,
                smtpd_relay_restrictions=f"check_recipient_access {table}, "
                                         "reject_unauth_destination")
    c = session(inst)
    assert c.cmd("RCPT TO:<friend@elsewhere.org>")[0] == 250
    # DUNNO stops the search for that address: the domain entry is not tried
    assert c.cmd("RCPT TO:<dunno@elsewhere.org>") == (
        554, ["5.7.1 <dunno@elsewhere.org>: Relay access denied"])
    assert c.cmd("RCPT TO:<other@elsewhere.org>") == (
        554, ["5.7.1 <other@elsewhere.org>: Recipient address rejected: domain blocked"])
    assert c.cmd("RCPT TO:<other@sub.elsewhere.org>") == (
        554, ["5.7.1 <other@sub.elsewhere.org>: Recipient address rejected: domain blocked"])


def test_check_sender_and_client_and_helo_access(instance_factory, tmp_path):
    cidr = tmp_path / "clients.cidr"
    cidr.write_text("127.0.0.0/8  REJECT no loopback today\n")
    inst = make(instance_factory,
                smtpd_client_restrictions=f"check_client_access cidr:{cidr}",
                smtpd_recipient_restrictions="reject_unauth_destination")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        554, ["5.7.1 <unknown[127.0.0.1]>: Client host rejected: no loopback today"])
    inst.cleanup()

    inst = make(instance_factory,
                smtpd_helo_restrictions="check_helo_access inline:{ bad.example=REJECT }",
                smtpd_sender_restrictions="check_sender_access "
                                          "inline:{ {spam.example=550 no spam}, {<>=REJECT} }")
    c = session(inst, helo="bad.example")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        554, ["5.7.1 <bad.example>: Helo command rejected: Access denied"])
    c = session(inst, sender="x@spam.example")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        550, ["5.7.1 <x@spam.example>: Sender address rejected: no spam"])
    c = session(inst, sender="")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        554, ["5.7.1 <>: Sender address rejected: Access denied"])
    c = session(inst, sender="x@good.example")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    inst.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 550 5\.7\.1 "
                  r"<x@spam\.example>: Sender address rejected: no spam; from=<x@spam\.example> "
                  r"to=<root@mx\.example\.com> proto=ESMTP helo=<client\.example\.com>")


def test_client_access_by_address_prefix(instance_factory):
    inst = make(instance_factory,
                smtpd_client_restrictions="check_client_access inline:{ 127.0=REJECT }")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 554


def test_defer_if_permit(instance_factory):
    inst = make(instance_factory,
                smtpd_sender_restrictions="check_sender_access "
                                          "inline:{ {maybe.example=DEFER_IF_PERMIT not now} }")
    c = session(inst, sender="x@maybe.example")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        450, ["4.7.1 <x@maybe.example>: Sender address rejected: not now"])
    # a later rejection wins over the deferral
    assert c.cmd("RCPT TO:<x@elsewhere.org>") == (
        454, ["4.7.1 <x@elsewhere.org>: Relay access denied"])


def test_warn_if_reject(instance_factory):
    inst = make(instance_factory,
                smtpd_recipient_restrictions="warn_if_reject, reject_non_fqdn_recipient")
    c = session(inst)
    assert c.cmd("RCPT TO:<postmaster>")[0] == 250
    inst.wait_log(r"NOQUEUE: reject_warning: RCPT from unknown\[127\.0\.0\.1\]: 504 5\.5\.2 "
                  r"<postmaster>: Recipient address rejected: need fully-qualified address")


def test_table_lookup_error_defers(instance_factory, tmp_path):
    inst = make(instance_factory,
                smtpd_recipient_restrictions=f"check_recipient_access hash:{tmp_path}/nonexistent")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        451, ["4.3.0 <root@mx.example.com>: Temporary lookup failure"])


def test_unsupported_action_fails_closed(instance_factory):
    inst = make(instance_factory,
                smtpd_recipient_restrictions="check_recipient_access "
                                             "inline:{ {root@mx.example.com=BCC x@example.org} }")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (451, ["4.3.5 Server configuration error"])


def test_unknown_restriction_fails_closed(instance_factory):
    inst = make(instance_factory, smtpd_recipient_restrictions="reject_frobnicated_clients")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (451, ["4.3.5 Server configuration error"])
    inst.wait_log(r'warning: smtpd_recipient_restrictions: unknown restriction '
                  r'"reject_frobnicated_clients"')


def test_helo_hostname_restrictions(instance_factory):
    inst = make(instance_factory,
                smtpd_helo_restrictions="reject_invalid_helo_hostname, "
                                        "reject_non_fqdn_helo_hostname")
    c = session(inst, helo="bad_host!")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        501, ["5.5.2 <bad_host!>: Helo command rejected: Invalid name"])
    c = session(inst, helo="localhost")
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        504, ["5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname"])
    c = session(inst, helo="[127.0.0.1]")
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250


def test_unknown_client_hostname(instance_factory):
    inst = make(instance_factory, smtpd_client_restrictions="reject_unknown_client_hostname")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        450, ["4.7.25 Client host rejected: cannot find your hostname, [127.0.0.1]"])


def test_peername_lookup(instance_factory):
    inst = make(instance_factory, smtpd_peername_lookup="yes")
    c = session(inst)
    c.cmd("QUIT")
    inst.wait_log(r"connect from (localhost|unknown)\[127\.0\.0\.1\]")


def test_no_delay_reject(instance_factory):
    inst = make(instance_factory, smtpd_delay_reject="no",
                smtpd_sender_restrictions="check_sender_access inline:{ spam.example=REJECT }",
                smtpd_helo_restrictions="check_helo_access inline:{ bad.example=REJECT }")
    c = inst.smtp_connect()
    c.expect(220)
    assert c.cmd("EHLO bad.example") == (
        554, ["5.7.1 <bad.example>: Helo command rejected: Access denied"])
    assert c.cmd("EHLO good.example")[0] == 250
    assert c.cmd("MAIL FROM:<x@spam.example>") == (
        554, ["5.7.1 <x@spam.example>: Sender address rejected: Access denied"])
    assert c.cmd("MAIL FROM:<x@good.example>")[0] == 250


def test_data_restrictions(instance_factory):
    inst = make(instance_factory, smtpd_data_restrictions="reject")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    assert c.cmd("DATA") == (554, ["5.7.1 <DATA>: Data command rejected: Access denied"])
    c.send(b"BDAT 3 LAST\r\nabc")
    assert c.reply() == (554, ["5.7.1 <BDAT>: Data command rejected: Access denied"])
    assert c.cmd("NOOP")[0] == 250


def test_restrictions_reread_per_recipient(instance_factory):
    """A verdict for one recipient never carries over to the next."""
    inst = make(instance_factory,
                smtpd_recipient_restrictions="check_recipient_access "
                                             "inline:{ {abuse@mx.example.com=DEFER_IF_PERMIT x}, "
                                             "{b@mx.example.com=DEFER_IF_REJECT} }, "
                                             "check_recipient_access "
                                             "inline:{ root@mx.example.com=REJECT }")
    c = session(inst)
    assert c.cmd("RCPT TO:<abuse@mx.example.com>") == (
        450, ["4.7.1 <abuse@mx.example.com>: Recipient address rejected: x"])
    assert c.cmd("RCPT TO:<postmaster@mx.example.com>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 554
    # DEFER_IF_REJECT turns the later "unknown user" rejection into a deferral
    assert c.cmd("RCPT TO:<b@mx.example.com>") == (
        450, ["4.1.1 <b@mx.example.com>: Recipient address rejected: "
              "User unknown in local recipient table"])
    assert c.cmd("RCPT TO:<nosuch@mx.example.com>")[0] == 550


def test_changed_table_restarts_the_process(instance_factory):
    inst = instance_factory(main=dict(STRANGER), services=SERVICES)
    table = inst.etc / "recipient_access"
    table.write_text("root@mx.example.com REJECT first version\n")
    inst.write_main(smtpd_recipient_restrictions=f"check_recipient_access texthash:{table}")
    inst.start()
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>")[1] == [
        "5.7.1 <root@mx.example.com>: Recipient address rejected: first version"]
    c.cmd("QUIT")
    table.write_text("root@mx.example.com REJECT the second, longer version\n")
    # A process looks at its tables between sessions (as Postfix's daemons
    # do): the idle process may have looked already, before the rewrite, so
    # one more session can still be its last with the old table.
    if not re.search(r"recipient_access has changed -- restarting", inst.logtext()):
        time.sleep(0.2)
        c = session(inst)
        c.cmd("QUIT")
    inst.wait_log(r"table texthash:\S+recipient_access has changed -- restarting")
    c = session(inst)
    assert c.cmd("RCPT TO:<root@mx.example.com>")[1] == [
        "5.7.1 <root@mx.example.com>: Recipient address rejected: the second, longer version"]
