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


def spool_of(accounts):
    """A mail_spool_directory of per-user Maildirs (never a real home directory)."""
    spool = accounts.home_base / "spool"
    spool.mkdir(exist_ok=True)
    spool.chmod(0o1777)
    return spool


def maildir_of(accounts, user):
    return spool_of(accounts) / user.pw_name


def needs_own_home():
    """Tests that write into a user's home directory run only with throwaway accounts."""
    if not IS_ROOT:
        pytest.skip("would write into the running user's real home directory")


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


def wait_mail(inst, pred, what, timeout=30, tail=80):
    """wait_for, with the end of the instance's log in the failure message."""
    try:
        return wait_for(pred, timeout=timeout, what=what)
    except AssertionError as e:
        log = "\n".join(inst.logtext().splitlines()[-tail:])
        raise AssertionError(f"{e}\n--- maillog (end) ---\n{log}") from None


def base_params(accounts):
    return {"mydestination": "$myhostname, localhost", "home_mailbox": "",
            "mail_spool_directory": f"{spool_of(accounts)}/"}


def start(factory, accounts, **main):
    params = base_params(accounts)
    params.update(main)
    inst = factory(main=params)
    inst.start()
    return inst


def test_smtp_to_maildir(chain, instance_factory, accounts):
    alice = account(accounts, "alice")
    inst = start(instance_factory, accounts)
    send(inst, [f"{alice.pw_name}@mx.example.com"], message(msgid="<chain-1@example.org>"))
    md = maildir_of(accounts, alice)
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


def aliases_file(inst, text, owner=None):
    """An aliases(5) file in the instance, built with postalias, used as alias_maps."""
    path = inst.base / "aliases"
    path.write_text(text)
    r = subprocess.run([str(inst.build / "sbin" / "postalias"), "-c", str(inst.etc), str(path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    if owner is not None and IS_ROOT:
        for p in (path, Path(f"{path}.db")):
            os.chown(p, owner.pw_uid, owner.pw_gid)
    return f"hash:{path}"


def test_alias_to_users_command_and_file(chain, instance_factory, accounts):
    alice, bob = account(accounts, "alice"), account(accounts, "bob")
    out = accounts.home_base / "out"
    out.mkdir()
    out.chmod(0o777)
    inst = instance_factory(main=base_params(accounts))
    amap = aliases_file(inst, f"team: {alice.pw_name}, {bob.pw_name},\n"
                              f'  "|cat > {out}/cmd.out", {out}/team.mbox\n')
    inst.write_main(alias_maps=amap)
    inst.start()
    send(inst, ["team@mx.example.com"], message(msgid="<team-1@example.org>"))
    for u in {alice.pw_name: alice, bob.pw_name: bob}.values():
        wait_mail(inst, lambda: maildir_messages(maildir_of(accounts, u)), "member maildir")
    wait_mail(inst, lambda: (out / "cmd.out").exists() and "team-1" in (out / "cmd.out")
              .read_text(), "command output")
    wait_mail(inst, lambda: mbox_messages(out / "team.mbox"), "file delivery")
    inst.wait_log(rf"to=<{alice.pw_name}@mx.example.com>, orig_to=<team@mx.example.com>, "
                  r"relay=local, .*status=sent \(delivered to maildir\)")
    inst.wait_log(r"to=<team@mx.example.com>, relay=local, .*status=sent "
                  r"\(delivered to command: cat > ")
    inst.wait_log(rf"status=sent \(delivered to file: {out}/team.mbox\)")
    inst.wait_log(r": removed")


def test_dot_forward_pipe_runs_as_recipient(chain, instance_factory, accounts):
    needs_own_home()
    bob = account(accounts, "bob")
    home = Path(bob.pw_dir)
    fwd = home / ".forward"
    fwd.write_text(f'\\{bob.pw_name}, "|id -u > {home}/forward.uid"\n')
    if IS_ROOT:
        os.chown(fwd, bob.pw_uid, bob.pw_gid)
    inst = start(instance_factory, accounts, home_mailbox="Maildir/")
    send(inst, [f"{bob.pw_name}@mx.example.com"])
    # the shell creates the file before id writes to it: wait for a whole line
    wait_mail(inst, lambda: (home / "forward.uid").exists()
              and (home / "forward.uid").read_text().endswith("\n"), ".forward command")
    assert (home / "forward.uid").read_text().strip() == str(bob.pw_uid)
    wait_mail(inst, lambda: maildir_messages(home / "Maildir"), "mailbox copy")
    if IS_ROOT:
        assert os.stat(home / "forward.uid").st_uid == bob.pw_uid


def test_virtual_domain_maildir_and_mbox(chain, instance_factory, accounts, postern_build):
    if not (postern_build / "libexec" / "virtual").exists():
        pytest.skip("virtual not built")
    owner = account(accounts, "vmail")
    base = accounts.home_base / "vmail"
    base.mkdir()
    if IS_ROOT:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    maps = accounts.home_base / "vmailbox"
    maps.write_text("md@hosted.example hosted.example/md/\n"
                    "mb@hosted.example hosted.example/mb\n")
    inst = start(instance_factory, accounts, virtual_mailbox_domains="hosted.example",
                 virtual_mailbox_base=str(base), virtual_mailbox_maps=f"texthash:{maps}",
                 virtual_uid_maps=f"static:{owner.pw_uid}",
                 virtual_gid_maps=f"static:{owner.pw_gid}",
                 virtual_minimum_uid=str(min(owner.pw_uid, 100) or 1))
    send(inst, ["md@hosted.example", "mb@hosted.example"], message(msgid="<virt-1@example.org>"))
    md = wait_mail(inst, lambda: maildir_messages(base / "hosted.example" / "md"), "virtual maildir")
    mb = wait_mail(inst, lambda: mbox_messages(base / "hosted.example" / "mb"), "virtual mbox")
    assert "Delivered-To: md@hosted.example\n" in md[0]
    assert mb[0].startswith("From sender@example.org ")
    inst.wait_log(r"to=<md@hosted.example>, relay=virtual, .*status=sent \(delivered to maildir\)")
    inst.wait_log(r"to=<mb@hosted.example>, relay=virtual, .*status=sent \(delivered to mailbox\)")


def test_virtual_localhost_run_layout(chain, instance_factory, accounts, postern_build):
    """The make run arrangement: @localhost into Maildirs under the tree, as the running user."""
    if not (postern_build / "libexec" / "virtual").exists():
        pytest.skip("virtual not built")
    owner = account(accounts, "runner")
    base = accounts.home_base / "run-mail"
    base.mkdir()
    if IS_ROOT:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    inst = start(instance_factory, accounts, mydestination="$myhostname",
                 virtual_mailbox_domains="localhost", virtual_mailbox_base=str(base),
                 virtual_mailbox_maps="inline:{ @localhost=localhost/ }",
                 virtual_uid_maps=f"static:{owner.pw_uid}",
                 virtual_gid_maps=f"static:{owner.pw_gid}", virtual_minimum_uid="1")
    send(inst, ["anyone@localhost", "else@localhost"])
    msgs = wait_mail(inst, lambda: (lambda m: m if len(m) == 2 else None)(
        maildir_messages(base / "localhost")), "two messages for @localhost")
    assert {re.search(r"Delivered-To: (\S+)", m).group(1) for m in msgs} == \
        {"anyone@localhost", "else@localhost"}


def test_two_concurrent_mbox_deliveries(chain, instance_factory, accounts):
    carol = account(accounts, "carol")
    spool = accounts.home_base / "spool"
    spool.mkdir()
    spool.chmod(0o1777)
    inst = start(instance_factory, accounts, mail_spool_directory=str(spool),
                 local_destination_concurrency_limit="2")
    body = "".join(f"line {i:05d} of a long message body .........................\n"
                   for i in range(20000))
    errors = []

    def one(tag):
        try:
            send(inst, [f"{carol.pw_name}@mx.example.com"],
                 message(subject=tag, body=f"{tag}\n{body}", msgid=f"<{tag}@example.org>"))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=one, args=(t,)) for t in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    # read the box only once both deliveries are finished (a reader that does
    # not take the mailbox lock can see the second one half written)
    inst.wait_log(rf"to=<{carol.pw_name}@mx\.example\.com>.*status=sent", count=2, timeout=60)
    box = spool / carol.pw_name
    msgs = wait_mail(inst, lambda: (lambda m: m if len(m) == 2 else None)(mbox_messages(box)),
                     "two messages in one mailbox", timeout=60)
    for m in msgs:
        tag = re.search(r"Subject: (\w+)", m).group(1)
        assert f"Message-ID: <{tag}@example.org>" in m
        assert m.count("\nline ") == 20000
        assert m.endswith("line 19999 of a long message body .........................\n\n")
    if IS_ROOT:
        assert os.stat(box).st_uid == carol.pw_uid


def test_command_exit_67_bounce(chain, instance_factory, accounts, postern_build):
    sender = account(accounts, "sender")
    inst = instance_factory(main=base_params(accounts))
    inst.write_main(alias_maps=aliases_file(inst, 'fail: "|echo no such person; exit 67"\n'))
    inst.start()
    send(inst, ["fail@mx.example.com"], message(msgid="<bounce-me@example.org>"),
         sender=f"{sender.pw_name}@mx.example.com")
    inst.wait_log(r"to=<fail@mx.example.com>, relay=local, .*dsn=5.1.1, "
                  r"status=bounced \(user unknown. Command output: no such person\)", timeout=30)
    if not (postern_build / "libexec" / "bounce").exists():
        pytest.skip("bounce(8) not built yet: the DSN itself cannot be checked")
    dsn = wait_mail(inst, lambda: maildir_messages(maildir_of(accounts, sender)),
                    "the bounce in the sender's mailbox")
    assert dsn[0].startswith("Return-Path: <>\n")
    assert "fail@mx.example.com" in dsn[0]
    assert "5.1.1" in dsn[0]
    assert "bounce-me@example.org" in dsn[0]


def test_tempfail_then_flush(chain, instance_factory, accounts):
    out = accounts.home_base / "later"
    out.mkdir()
    out.chmod(0o777)
    inst = instance_factory(main=base_params(accounts))
    inst.write_main(alias_maps=aliases_file(
        inst, f'later: "|test -f {out}/ready || exit 75; cat > {out}/got"\n'))
    inst.start()
    send(inst, ["later@mx.example.com"], message(msgid="<later-1@example.org>"))
    inst.wait_log(r"to=<later@mx.example.com>, relay=local, .*dsn=4.3.0, "
                  r"status=deferred \(temporary failure\)", timeout=30)
    assert not (out / "got").exists()
    (out / "ready").write_text("")
    r = inst.postern("flush")
    assert r.returncode == 0, r.stderr
    wait_mail(inst, lambda: (out / "got").exists() and "later-1" in (out / "got").read_text(),
              "delivery after flush")
    inst.wait_log(r"to=<later@mx.example.com>, relay=local, .*status=sent "
                  r"\(delivered to command: ")


def test_crash_of_qmgr_and_local_loses_nothing(chain, instance_factory, accounts):
    """1000 messages; kill -9 qmgr and local while they work; each arrives exactly once."""
    dave = account(accounts, "dave")
    # after an agent crash qmgr suspends the transport and defers: retry soon
    inst = start(instance_factory, accounts, transport_retry_time="1s", queue_run_delay="1s",
                 minimal_backoff_time="1s", maximal_backoff_time="2s")
    md = maildir_of(accounts, dave)
    total, per_conn = 1000, 50
    ids = [f"<crash-{i}@example.org>" for i in range(total)]
    killed = {"qmgr": 0, "local": 0}

    def sender(start_i):
        with inst.smtplib_client(timeout=60) as s:
            for i in range(start_i, min(start_i + per_conn, total)):
                s.send_message(message(subject=f"n{i}", msgid=ids[i]),
                               from_addr="sender@example.org",
                               to_addrs=[f"{dave.pw_name}@mx.example.com"])

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(0, total, per_conn)]
    for t in threads:
        t.start()
    # kill while deliveries are under way
    wait_mail(inst, lambda: len(maildir_messages(md)) >= 100, "first deliveries", timeout=120)
    killed["local"] += len(inst.kill_daemon("local"))
    wait_mail(inst, lambda: len(maildir_messages(md)) >= 300, "more deliveries", timeout=120)
    killed["qmgr"] += len(inst.kill_daemon("qmgr"))
    # master starts a new qmgr on the next trigger; do not wait for its wakeup timer
    time.sleep(0.5)
    inst.postern("flush")
    wait_mail(inst, lambda: len(maildir_messages(md)) >= 500, "deliveries after kill", timeout=180)
    killed["local"] += len(inst.kill_daemon("local"))
    for t in threads:
        t.join()
    assert killed["qmgr"] >= 1 and killed["local"] >= 1, killed

    def all_in():
        msgs = maildir_messages(md)
        return msgs if len(msgs) >= total else None
    wait_mail(inst, all_in, "every message", timeout=300)
    time.sleep(2)   # nothing more may arrive
    seen = {}
    for m in maildir_messages(md):
        mid = re.search(r"(?im)^Message-ID: (\S+)", m).group(1)
        seen[mid] = seen.get(mid, 0) + 1
    missing = [i for i in ids if i not in seen]
    twice = {k: v for k, v in seen.items() if v != 1}
    assert not missing, f"{len(missing)} lost, e.g. {missing[:5]}"
    assert not twice, f"delivered more than once: {list(twice.items())[:5]}"
