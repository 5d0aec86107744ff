"""smtpd(8) restrictions about SMTP AUTH: permit_sasl_authenticated,
check_sasl_access and the reject_*sender_login_mismatch family with
smtpd_sender_login_maps. Users log in with PLAIN against a sasldb
(test_smtpd_sasl.py's fixtures).
"""
from instance import instance_factory  # noqa: F401
from test_smtpd_sasl import USERS, certs, connect, ehlo, make, sasldb  # noqa: F401
from test_smtpd_sasl import plain

OWNERS = "inline:{ {alice@example.org=alice}, {shared@example.org=alice, bob}, " \
         "{bob@example.org=bob} }"


def login(c, user):
    assert c.cmd(f"AUTH PLAIN {plain(user, USERS[user])}")[0] == 235


def test_permit_sasl_authenticated_relays(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb,
                smtpd_relay_restrictions="permit_sasl_authenticated, reject_unauth_destination")
    c = connect(inst)
    ehlo(c)
    assert c.cmd("MAIL FROM:<alice@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<x@elsewhere.org>") == (
        554, ["5.7.1 <x@elsewhere.org>: Relay access denied"])
    c.cmd("RSET")
    login(c, "alice")
    assert c.cmd("MAIL FROM:<alice@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<x@elsewhere.org>")[0] == 250


def test_reject_sender_login_mismatch(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb, smtpd_sender_login_maps=OWNERS,
                smtpd_sender_restrictions="reject_sender_login_mismatch")
    c = connect(inst)
    ehlo(c)
    # not logged in: an address that has an owner needs a login
    assert c.cmd("MAIL FROM:<alice@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        553, ["5.7.1 <alice@example.org>: Sender address rejected: not logged in"])
    c.cmd("RSET")
    assert c.cmd("MAIL FROM:<stranger@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>")[0] == 250
    c.cmd("RSET")
    login(c, "alice")
    for sender, ok in [("alice@example.org", True), ("shared@example.org", True),
                       ("bob@example.org", False), ("stranger@example.org", False), ("", True)]:
        assert c.cmd(f"MAIL FROM:<{sender}>")[0] == 250
        code, texts = c.cmd("RCPT TO:<root@mx.example.com>")
        if ok:
            assert code == 250, (sender, texts)
        else:
            assert (code, texts) == (
                553, [f"5.7.1 <{sender}>: Sender address rejected: not owned by user alice"])
        c.cmd("RSET")


def test_login_mismatch_variants(instance_factory, certs, sasldb):
    for restriction, anon_owned, alice_unowned, alice_other in [
            ("reject_authenticated_sender_login_mismatch", 250, 553, 553),
            ("reject_unauthenticated_sender_login_mismatch", 553, 250, 250),
            ("reject_known_sender_login_mismatch", 553, 250, 553)]:
        inst = make(instance_factory, certs, sasldb, smtpd_sender_login_maps=OWNERS,
                    smtpd_delay_reject="no", smtpd_sender_restrictions=restriction)
        c = connect(inst)
        ehlo(c)
        assert c.cmd("MAIL FROM:<bob@example.org>")[0] == anon_owned, restriction
        c.cmd("RSET")
        login(c, "alice")
        assert c.cmd("MAIL FROM:<stranger@example.org>")[0] == alice_unowned, restriction
        c.cmd("RSET")
        assert c.cmd("MAIL FROM:<bob@example.org>")[0] == alice_other, restriction
        inst.cleanup()


def test_check_sasl_access(instance_factory, certs, sasldb):
    inst = make(instance_factory, certs, sasldb,
                smtpd_client_restrictions="check_sasl_access inline:{ {bob=REJECT account "
                                          "suspended} }")
    c = connect(inst)
    ehlo(c)
    login(c, "bob")
    assert c.cmd("MAIL FROM:<bob@example.org>")[0] == 250
    assert c.cmd("RCPT TO:<root@mx.example.com>") == (
        554, ["5.7.1 <bob>: SASL login name rejected: account suspended"])
