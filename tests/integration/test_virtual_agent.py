"""virtual(8) driven directly, one delivery request at a time.

Mailboxes come from virtual_mailbox_maps under virtual_mailbox_base, their
owner from virtual_uid_maps / virtual_gid_maps. Run as root the owner is a
throwaway account and ownership is checked; run as another user the
tables name that user's own ids (the "make run" arrangement).
"""
import os
import pwd
import re
import stat
from pathlib import Path

import pytest

from test_local_harness import (IS_ROOT, Agent, agent_base, maildir_messages,  # noqa: F401
                                mbox_messages, users)

MSG = ["From: a@example.org", "Subject: hello", "", "From the body", "end"]


@pytest.fixture
def vagent(postern_build, agent_base, users):
    if not (postern_build / "libexec" / "virtual").exists():
        pytest.skip("virtual not built")
    a = Agent(postern_build, agent_base, "virtual")
    if IS_ROOT:
        owner = users.add("vmail")
    else:
        owner = pwd.getpwuid(os.getuid())
    a.owner = owner
    base = agent_base / "vmail"
    base.mkdir()
    base.chmod(0o755)
    os.chown(base, owner.pw_uid, owner.pw_gid) if IS_ROOT else None
    maps = agent_base / "vmailbox"
    maps.write_text("u@virt.example   virt.example/u/\n"
                    "m@virt.example   virt.example/m\n"
                    "@catch.example   catch.example/all/\n"
                    "bad@virt.example ../escape/\n")
    a.configure(virtual_mailbox_domains="virt.example, catch.example",
                virtual_mailbox_base=str(base),
                virtual_mailbox_maps=f"texthash:{maps}",
                virtual_uid_maps=f"static:{owner.pw_uid}",
                virtual_gid_maps=f"static:{owner.pw_gid}",
                virtual_minimum_uid=str(min(owner.pw_uid, 100) or 1),
                recipient_delimiter="+")
    a.vbase = base
    return a


def test_virtual_maildir(vagent):
    assert vagent.deliver("s@example.org", [("u@virt.example", "Alias@Virt.Example")], MSG) \
        == ["sent"]
    md = vagent.vbase / "virt.example" / "u"
    msg, = maildir_messages(md)
    assert msg.startswith("Return-Path: <s@example.org>\nDelivered-To: u@virt.example\n"
                          "X-Original-To: Alias@Virt.Example\nFrom: a@example.org\n")
    assert "\nFrom the body\n" in msg
    line, = vagent.status_lines()
    assert re.search(r"postern/virtual\[\d+\]: \w+: to=<u@virt.example>, "
                     r"orig_to=<Alias@Virt.Example>, relay=virtual, .*dsn=2.0.0, "
                     r"status=sent \(delivered to maildir\)", line), line
    if IS_ROOT:
        f = next((md / "new").iterdir())
        assert os.stat(f).st_uid == vagent.owner.pw_uid
        assert os.stat(vagent.vbase / "virt.example").st_uid == vagent.owner.pw_uid
    assert vagent.rcpt_records(vagent.last["qid"]) == ["D"]


def test_virtual_mbox_and_extension(vagent):
    for rcpt in ("m@virt.example", "m+tag@virt.example"):
        assert vagent.deliver("", [rcpt], MSG) == ["sent"]
    box = vagent.vbase / "virt.example" / "m"
    msgs = mbox_messages(box)
    assert len(msgs) == 2
    assert msgs[0].startswith("From MAILER-DAEMON ")
    assert "\n>From the body\n" in msgs[0]
    assert "Delivered-To: m+tag@virt.example\n" in msgs[1]
    assert stat.S_IMODE(box.stat().st_mode) == 0o600
    if IS_ROOT:
        assert box.stat().st_uid == vagent.owner.pw_uid
    assert "status=sent (delivered to mailbox)" in vagent.status_lines()[0]


def test_virtual_catch_all(vagent):
    assert vagent.deliver("s@example.org", ["anyone@catch.example"], MSG) == ["sent"]
    assert len(maildir_messages(vagent.vbase / "catch.example" / "all")) == 1


def test_virtual_unknown_user(vagent):
    assert vagent.deliver("s@example.org", ["nobody@virt.example"], MSG) == ["bounced"]
    line, = vagent.status_lines()
    assert 'dsn=5.1.1, status=bounced (unknown user: "nobody@virt.example")' in line
    note, = vagent.notes("bounce")
    assert note["recipient"] == "nobody@virt.example"


def test_virtual_bad_configuration_defers(vagent):
    assert vagent.deliver("s@example.org", ["bad@virt.example"], MSG) == ["deferred"]
    assert "dsn=4.3.5, status=deferred (mail system configuration error)" \
        in vagent.status_lines()[0]
    assert "bad mailbox name" in vagent.logtext()
    vagent.configure(virtual_minimum_uid=str(vagent.owner.pw_uid + 1))
    assert vagent.deliver("s@example.org", ["u@virt.example"], MSG) == ["deferred"]
    assert "is below virtual_minimum_uid" in vagent.logtext()
    vagent.configure(virtual_minimum_uid="1", virtual_uid_maps="static:abc")
    assert vagent.deliver("s@example.org", ["u@virt.example"], MSG) == ["deferred"]
    assert 'bad number "abc" in virtual_uid_maps' in vagent.logtext()
    vagent.configure(virtual_uid_maps="hash:/nonexistent/uids")
    assert vagent.deliver("s@example.org", ["u@virt.example"], MSG) == ["deferred"]
    assert "virtual_uid_maps lookup failure" in vagent.status_lines()[0]
    vagent.configure(virtual_mailbox_base="relative/dir")
    assert vagent.deliver("s@example.org", ["u@virt.example"], MSG) == ["deferred"]
    assert not list(vagent.vbase.iterdir())


def test_virtual_limit(vagent):
    vagent.configure(virtual_mailbox_limit="500")
    big = MSG + ["z" * 80] * 20
    assert vagent.deliver("s@example.org", ["u@virt.example"], big) == ["bounced"]
    assert "dsn=5.2.2, status=bounced (maildir delivery failed: error writing message: " \
        "File too large)" in vagent.status_lines()[0]
    assert vagent.deliver("s@example.org", ["m@virt.example"], big) == ["bounced"]
    assert vagent.deliver("s@example.org", ["m@virt.example"], MSG) == ["sent"]
    assert len(mbox_messages(vagent.vbase / "virt.example" / "m")) == 1


def test_virtual_loop(vagent):
    lines = ["Delivered-To: u@virt.example"] + MSG
    assert vagent.deliver("s@example.org", ["u@virt.example"], lines) == ["bounced"]
    assert "status=bounced (mail forwarding loop for u@virt.example)" in vagent.status_lines()[0]


def test_virtual_several_recipients(vagent):
    rcpts = ["u@virt.example", "m@virt.example", "x@catch.example", "none@virt.example"]
    assert vagent.deliver("s@example.org", rcpts, MSG) == ["sent", "sent", "sent", "bounced"]
    assert vagent.rcpt_records(vagent.last["qid"]) == ["D", "D", "D", "D"]
    assert len(vagent.status_lines()) == 4
