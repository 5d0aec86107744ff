"""local(8) and virtual(8) in a running instance: SMTP in, mailboxes out.

Each test starts a private instance (tests/integration/instance.py) with
smtpd, cleanup, qmgr, local and virtual, sends mail over SMTP, and waits
for it in Maildirs, mailbox files, command output and the log. Run as
root, recipients are throwaway accounts (useradd/userdel) and ownership
is checked; run as another user, the only account is the running one.
"""
import os
import pwd
import re
import smtplib
import subprocess
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from instance import instance_factory, wait_for  # noqa: F401
from test_local_harness import (IS_ROOT, Users, maildir_messages,  # noqa: F401
                                mbox_messages)

root_only = pytest.mark.skipif(not IS_ROOT, reason="needs root")
CHAIN = ("smtpd", "cleanup", "qmgr", "local")


@pytest.fixture
def chain(postern_build):
    missing = [p for p in CHAIN if not (postern_build / "libexec" / p).exists()]
    if missing:
        pytest.skip(f"not built yet: {', '.join(missing)}")
    return postern_build


@pytest.fixture
def accounts(tmp_path_factory):
    """Throwaway accounts under a traversable directory; the running user when not root."""
    import tempfile
    import shutil
    base = Path(tempfile.mkdtemp(prefix="postern-users-", dir="/tmp"))
    base.chmod(0o755)
    u = Users(base)
    yield u
    u.remove_all()
    shutil.rmtree(base, ignore_errors=True)


def account(accounts, short):
    if IS_ROOT:
        return accounts.add(short)
    return pwd.getpwuid(os.getuid())


def message(subject="test", body="hello\nFrom here\n", msgid=None, to="x@mx.example.com"):
    m = EmailMessage()
    m["From"] = "sender@example.org"
    m["To"] = to
    m["Subject"] = subject
    if msgid:
        m["Message-ID"] = msgid
    m.set_content(body)
    return m


def send(inst, rcpts, msg=None, sender="sender@example.org"):
    with inst.smtplib_client() as s:
        s.send_message(msg or message(), from_addr=sender, to_addrs=rcpts)


def wait_mail(inst, pred, what, timeout=30):
    """wait_for, with the instance's log in the failure message."""
    try:
        return wait_for(pred, timeout=timeout, what=what)
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- maillog ---\n{inst.logtext()}") from None


def start(factory, **main):
    params = {"mydestination": "$myhostname, localhost", "home_mailbox": "Maildir/"}
    params.update(main)
    inst = factory(main=params)
    inst.start()
    return inst


def test_smtp_to_maildir(chain, instance_factory, accounts):
    alice = account(accounts, "alice")
    inst = start(instance_factory)
    send(inst, [f"{alice.pw_name}@mx.example.com"], message(msgid="<chain-1@example.org>"))
    md = Path(alice.pw_dir) / "Maildir"
    msgs = wait_mail(inst, lambda: maildir_messages(md), "maildir delivery")
    assert len(msgs) == 1
    assert msgs[0].startswith("Return-Path: <sender@example.org>\n"
                              f"Delivered-To: {alice.pw_name}@mx.example.com\n")
    assert "Message-ID: <chain-1@example.org>" in msgs[0]
    assert re.search(r"\nReceived: from ", msgs[0])
    inst.wait_log(rf"postern/local\[\d+\]: \w+: to=<{alice.pw_name}@mx.example.com>, "
                  r"relay=local, .*status=sent \(delivered to maildir\)")
    inst.wait_log(r": removed")
    if IS_ROOT:
        f = next((md / "new").iterdir())
        assert os.stat(f).st_uid == alice.pw_uid
