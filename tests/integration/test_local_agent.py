"""local(8) driven directly, one delivery request at a time.

Each test writes a queue file, hands it to build/libexec/local through
the stand-in queue manager of test_local_harness.py, and checks the
mailboxes, files and commands, the log lines, the defer/bounce notes and
the DONE marks. Run as root, recipients are throwaway accounts and the
tests also check ownership and the identity of commands; run as another
user, tests that need other accounts skip.
"""
import os
import pwd
import re
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from test_local_harness import (IS_ROOT, Agent, agent_base, maildir_messages,  # noqa: F401
                                mbox_messages, users)

root_only = pytest.mark.skipif(not IS_ROOT, reason="needs root")

MSG = ["Received: from client.example.org", "From: sender@example.org",
       "To: someone", "Subject: test", "Message-ID: <m1@example.org>", "",
       "body line 1", "From the start of a line", "last line"]


@pytest.fixture
def agent(postern_build, agent_base):
    if not (postern_build / "libexec" / "local").exists():
        pytest.skip("local not built")
    return Agent(postern_build, agent_base, "local")


def owner_of(path):
    return pwd.getpwuid(os.stat(path).st_uid).pw_name


def test_maildir_home_mailbox(agent, users):
    alice = users.add("alice")
    agent.configure(home_mailbox="Maildir/")
    rcpt = f"{alice.pw_name}@mx.example.com"
    assert agent.deliver("sender@example.org", [(rcpt, f"Orig@Example.com")], MSG) == ["sent"]
    md = Path(alice.pw_dir) / "Maildir"
    msgs = maildir_messages(md)
    assert len(msgs) == 1
    lines = msgs[0].split("\n")
    assert lines[0] == "Return-Path: <sender@example.org>"
    assert lines[1] == f"Delivered-To: {rcpt}"
    assert lines[2] == "X-Original-To: Orig@Example.com"
    assert lines[3] == "Received: from client.example.org"
    assert "From the start of a line" in lines      # no quoting in a Maildir
    assert msgs[0].endswith("last line\n")
    assert not list((md / "tmp").iterdir())
    for p in (md, md / "new", next((md / "new").iterdir())):
        assert owner_of(p) == alice.pw_name
    assert stat.S_IMODE(os.stat(next((md / "new").iterdir())).st_mode) == 0o600
    line, = agent.status_lines()
    assert re.search(rf"postern/local\[\d+\]: {agent.last['qid']}: to=<{rcpt}>, "
                     r"orig_to=<Orig@Example.com>, relay=local, delay=[\d.]+, "
                     r"delays=0.1/0.2/0/[\d.]+, dsn=2.0.0, status=sent \(delivered to maildir\)",
                     line), line
    assert agent.rcpt_records(agent.last["qid"]) == ["D"]


def test_mbox_in_spool_directory(agent, users):
    alice = users.add("alice")
    rcpt = f"{alice.pw_name}@mx.example.com"
    spool = agent.base / "mail"
    spool.chmod(0o755)          # root-owned spool: root creates, the user writes
    for n in range(2):
        assert agent.deliver("", [rcpt], MSG) == ["sent"]
    box = spool / alice.pw_name
    assert owner_of(box) == alice.pw_name
    assert stat.S_IMODE(os.stat(box).st_mode) == 0o600
    msgs = mbox_messages(box)
    assert len(msgs) == 2
    for m in msgs:
        assert re.match(r"From MAILER-DAEMON \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n"
                        r"Return-Path: <>\nDelivered-To: ", m), m
        assert "\n>From the start of a line\n" in m
        assert m.endswith("last line\n\n")
    assert not (spool / f"{alice.pw_name}.lock").exists()
    assert "status=sent (delivered to mailbox)" in agent.status_lines()[0]


def test_unknown_user_bounces(agent):
    assert agent.deliver("s@example.org", ["nosuchuser-h10@mx.example.com"], MSG) == ["bounced"]
    line, = agent.status_lines()
    assert 'dsn=5.1.1, status=bounced (unknown user: "nosuchuser-h10")' in line
    note, = agent.notes("bounce")
    assert note["recipient"] == "nosuchuser-h10@mx.example.com"
    assert note["status"] == "5.1.1" and note["action"] == "failed"
    assert agent.rcpt_records(agent.last["qid"]) == ["D"]


def test_alias_to_users_command_and_file(agent, users):
    alice, bob = users.add("alice"), users.add("bob")
    out = agent.base / "out"
    out.mkdir()
    out.chmod(0o777)
    agent.aliases(
        f"team: {alice.pw_name}, {bob.pw_name}@mx.example.com,\n"
        f'  "|/bin/sh -c \'id -u > {out}/cmd.uid; cat > {out}/cmd.out\'",\n'
        f"  {out}/file.mbox, {out}/md/\n")
    agent.configure(home_mailbox="Maildir/")
    assert agent.deliver("sender@example.org", ["team@mx.example.com"], MSG) == ["sent"]
    for u in (alice, bob):
        msgs = maildir_messages(Path(u.pw_dir) / "Maildir")
        assert len(msgs) == 1
        assert f"Delivered-To: {u.pw_name}@mx.example.com\n" in msgs[0]
        assert "X-Original-To: team@mx.example.com\n" in msgs[0]
    cmd_out = (out / "cmd.out").read_text()
    assert cmd_out.startswith("From sender@example.org ")
    assert "Delivered-To: team@mx.example.com\n" in cmd_out
    assert "\nFrom the start of a line\n" in cmd_out           # commands get no quoting
    box, = mbox_messages(out / "file.mbox")
    assert "\n>From the start of a line\n" in box
    assert len(maildir_messages(out / "md")) == 1
    if IS_ROOT:
        # a root-owned alias table: commands and files run as default_privs
        nobody = pwd.getpwnam("nobody")
        assert (out / "cmd.uid").read_text().strip() == str(nobody.pw_uid)
        assert owner_of(out / "file.mbox") == "nobody"
        assert owner_of(out / "md") == "nobody"
    lines = agent.status_lines()
    assert len(lines) == 5, lines
    text = "\n".join(lines)
    for u in (alice, bob):
        assert re.search(rf"to=<{u.pw_name}@mx.example.com>, orig_to=<team@mx.example.com>, "
                         r"relay=local, .*status=sent \(delivered to maildir\)", text)
    assert re.search(r"to=<team@mx.example.com>, relay=local, .*status=sent "
                     r"\(delivered to command: /bin/sh -c 'id -u", text)
    assert f"status=sent (delivered to file: {out}/file.mbox)" in text
    assert agent.rcpt_records(agent.last["qid"]) == ["D"]


@root_only
def test_alias_table_owner_runs_commands(agent, users):
    bob = users.add("bob")
    out = agent.base / "out"
    out.mkdir()
    out.chmod(0o777)
    agent.aliases(f"who: |id -u > {out}/uid\n", owner=bob)
    assert agent.deliver("s@example.org", ["who@mx.example.com"], MSG) == ["sent"]
    assert (out / "uid").read_text().strip() == str(bob.pw_uid)


def test_dot_forward(agent, users):
    bob = users.add("bob")
    agent.configure(home_mailbox="Maildir/")
    out = Path(bob.pw_dir)
    fwd = out / ".forward"
    fwd.write_text(f"# keep a copy\n\\{bob.pw_name}, \"|id -u > {out}/fwd.uid; cat > {out}/fwd.out\"\n")
    os.chown(fwd, bob.pw_uid, bob.pw_gid)
    rcpt = f"{bob.pw_name}@mx.example.com"
    assert agent.deliver("s@example.org", [rcpt], MSG) == ["sent"]
    assert len(maildir_messages(out / "Maildir")) == 1
    assert (out / "fwd.out").read_text().startswith("From s@example.org ")
    assert (out / "fwd.uid").read_text().strip() == str(bob.pw_uid)
    if IS_ROOT:
        assert owner_of(out / "fwd.out") == bob.pw_name
    text = "\n".join(agent.status_lines())
    assert "status=sent (delivered to maildir)" in text
    assert "status=sent (delivered to command: id -u" in text


def test_dot_forward_with_extension(agent, users):
    carol = users.add("carol")
    agent.configure(home_mailbox="Maildir/", recipient_delimiter="+")
    home = Path(carol.pw_dir)
    fwd = home / ".forward+lists"
    fwd.write_text(f"{home}/lists/\n")
    os.chown(fwd, carol.pw_uid, carol.pw_gid)
    assert agent.deliver("s@example.org", [f"{carol.pw_name}+lists@mx.example.com"], MSG) \
        == ["sent"]
    assert len(maildir_messages(home / "lists")) == 1
    assert agent.deliver("s@example.org", [f"{carol.pw_name}+other@mx.example.com"], MSG) \
        == ["sent"]
    assert len(maildir_messages(home / "Maildir")) == 1
    if IS_ROOT:
        assert owner_of(home / "lists") == carol.pw_name


def test_delivered_to_loop(agent, users):
    alice = users.add("alice")
    rcpt = f"{alice.pw_name}@mx.example.com"
    lines = ["Delivered-To: other@example.org", f"Delivered-To: {rcpt.upper()}"] + MSG
    assert agent.deliver("s@example.org", [rcpt], lines) == ["bounced"]
    line, = agent.status_lines()
    assert f"dsn=5.4.6, status=bounced (mail forwarding loop for {rcpt})" in line


def test_alias_loop_to_itself_goes_to_mailbox(agent, users):
    alice = users.add("alice")
    agent.aliases(f"{alice.pw_name}: {alice.pw_name}, {agent.base}/copy\n")
    agent.configure(home_mailbox="Maildir/")
    (agent.base).chmod(0o777)
    assert agent.deliver("s@example.org", [f"{alice.pw_name}@mx.example.com"], MSG) == ["sent"]
    assert len(maildir_messages(Path(alice.pw_dir) / "Maildir")) == 1
    assert len(mbox_messages(agent.base / "copy")) == 1


def test_command_exit_67_bounces(agent):
    agent.aliases('fail: "|echo no such person >&2; exit 67"\n')
    assert agent.deliver("s@example.org", ["fail@mx.example.com"], MSG) == ["bounced"]
    line, = agent.status_lines()
    assert "dsn=5.1.1, status=bounced (user unknown. Command output: no such person)" in line
    note, = agent.notes("bounce")
    assert note["recipient"] == "fail@mx.example.com"
    assert note["status"] == "5.1.1"
    assert note["reason"] == "user unknown. Command output: no such person"
    assert agent.rcpt_records(agent.last["qid"]) == ["D"]


def test_command_other_status_and_signal(agent):
    agent.aliases("one: |exit 1\nsig: |kill -9 $$\n")
    assert agent.deliver("s@example.org", ["one@mx.example.com"], MSG) == ["bounced"]
    assert 'dsn=5.3.0, status=bounced (Command died with status 1: "exit 1")' \
        in agent.status_lines()[0]
    assert agent.deliver("s@example.org", ["sig@mx.example.com"], MSG) == ["deferred"]
    assert 'status=deferred (Command died with signal 9: "kill -9 $$")' \
        in agent.status_lines()[0]


def test_command_tempfail_defers(agent):
    agent.aliases("later: |exit 75\n")
    assert agent.deliver("s@example.org", ["later@mx.example.com"], MSG) == ["deferred"]
    line, = agent.status_lines()
    assert "dsn=4.3.0, status=deferred (temporary failure)" in line
    note, = agent.notes("defer")
    assert note["action"] == "delayed" and note["status"] == "4.3.0"
    assert agent.rcpt_records(agent.last["qid"]) == ["R"]   # tried again later
    assert agent.notes("bounce") == []


def test_partial_defer_keeps_recipient(agent, users):
    alice = users.add("alice")
    agent.aliases(f"mixed: {alice.pw_name}, |exit 75, |exit 67\n")
    agent.configure(home_mailbox="Maildir/")
    assert agent.deliver("s@example.org", ["mixed@mx.example.com"], MSG) == ["deferred"]
    assert agent.rcpt_records(agent.last["qid"]) == ["R"]
    text = "\n".join(agent.status_lines())
    assert "status=sent (delivered to maildir)" in text
    assert "status=deferred (temporary failure)" in text
    assert "status=bounced (user unknown)" in text


def test_restricted_destinations(agent, users):
    alice = users.add("alice")
    inc = agent.base / "list.inc"
    inc.write_text(f"{alice.pw_name}\n|cat > /dev/null\n{agent.base}/inc.file\n")
    agent.aliases(f"list: :include:{inc}\n")
    agent.configure(home_mailbox="Maildir/")
    assert agent.deliver("s@example.org", ["list@mx.example.com"], MSG) == ["sent"]
    text = "\n".join(agent.status_lines())
    assert "status=bounced (mail to command is restricted)" in text
    assert "status=bounced (mail to file is restricted)" in text
    assert len(maildir_messages(Path(alice.pw_dir) / "Maildir")) == 1
    assert not (agent.base / "inc.file").exists()


def test_mailbox_size_limit(agent, users):
    alice = users.add("alice")
    agent.configure(mailbox_size_limit="2000")
    big = MSG + ["x" * 100] * 30
    rcpt = f"{alice.pw_name}@mx.example.com"
    assert agent.deliver("s@example.org", [rcpt], MSG) == ["sent"]
    box = agent.base / "mail" / alice.pw_name
    size = box.stat().st_size
    assert agent.deliver("s@example.org", [rcpt], big) == ["bounced"]
    line, = agent.status_lines()
    assert re.search(r"dsn=5.2.2, status=bounced \(cannot update mailbox .* for user "
                     r"\w+. error writing message: File too large\)", line), line
    assert box.stat().st_size == size


def test_mailbox_command(agent, users):
    alice = users.add("alice")
    out = Path(alice.pw_dir)
    agent.configure(mailbox_command=f'/bin/sh -c "cat > $home/mc.$user.$extension; '
                                    f'env > $home/mc.env"',
                    recipient_delimiter="+")
    rcpt = f"{alice.pw_name}+a;b@mx.example.com"
    assert agent.deliver("s@example.org", [rcpt], MSG) == ["sent"]
    got = out / f"mc.{alice.pw_name}.a_b"                    # ';' filtered
    assert "Delivered-To: " in got.read_text()
    env = dict(line.split("=", 1) for line in (out / "mc.env").read_text().splitlines()
               if "=" in line)
    assert env["RECIPIENT"] == f"{alice.pw_name}+a_b@mx.example.com"
    assert env["EXTENSION"] == "a_b"
    assert env["USER"] == alice.pw_name and env["HOME"] == alice.pw_dir
    assert env["SENDER"] == "s@example.org"
    assert env["PATH"] == "/usr/bin:/bin"
    assert env["CLIENT_ADDRESS"] == "192.0.2.7"
    assert "MAIL_CONFIG" not in env or env["MAIL_CONFIG"]
    if IS_ROOT:
        assert owner_of(got) == alice.pw_name


@root_only
def test_root_is_never_delivered_as_root(agent):
    assert agent.deliver("s@example.org", ["root@mx.example.com"], MSG) == ["deferred"]
    assert "will not deliver to the mailbox of a user with uid 0" in agent.status_lines()[0]
    assert not (agent.base / "mail" / "root").exists()


def test_remote_alias_member_without_cleanup_defers(agent):
    agent.aliases("ext: someone@elsewhere.example\n")
    assert agent.deliver("s@example.org", ["ext@mx.example.com"], MSG) == ["deferred"]
    line, = agent.status_lines()
    assert "to=<someone@elsewhere.example>, orig_to=<ext@mx.example.com>" in line
    assert "status=deferred (mail system is down" in line


def test_alias_table_failure_defers(agent, users):
    users.add("alice")
    agent.configure(alias_maps="hash:/nonexistent/aliases")
    assert agent.deliver("s@example.org", ["anyone@mx.example.com"], MSG) == ["deferred"]
    assert "status=deferred (alias database unavailable)" in agent.status_lines()[0]


def test_concurrent_mbox_deliveries(agent, users):
    alice = users.add("alice")
    rcpt = f"{alice.pw_name}@mx.example.com"
    body = [f"line {i} " + "y" * 60 for i in range(2000)]
    errors = []

    agents = {t: Agent(agent.build, agent.base, "local") for t in ("AAA", "BBB", "CCC", "DDD")}

    def one(tag):
        try:
            lines = [f"Subject: {tag}", ""] + [f"{tag} {b}" for b in body]
            assert agents[tag].deliver("s@example.org", [rcpt], lines) == ["sent"]
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=one, args=(t,)) for t in ("AAA", "BBB", "CCC", "DDD")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    msgs = mbox_messages(agent.base / "mail" / alice.pw_name)
    assert len(msgs) == 4
    for m in msgs:
        tag = re.search(r"Subject: (\w+)", m).group(1)
        lines = m.split("\n\n", 1)[1].rstrip("\n").split("\n")
        assert lines == [f"{tag} {b}" for b in body]


@pytest.fixture
def cleanup(agent):
    from test_local_harness import FakeCleanup
    c = FakeCleanup(agent.queue)
    yield c
    c.close()


def content_of(msg):
    """(envelope records, content lines) of a message FakeCleanup received."""
    recs = msg["records"]
    mesg = [t for t, _ in recs].index("M")
    lines, piece = [], b""
    for t, d in recs[mesg + 1:]:
        if t == "L":
            piece += d
        elif t == "N":
            lines.append((piece + d).decode())
            piece = b""
        else:
            break
    return recs[:mesg], lines


def test_alias_remote_member_forwarded(agent, cleanup, users):
    alice = users.add("alice")
    agent.aliases(f"ext: someone@elsewhere.example, {alice.pw_name}\n")
    agent.configure(home_mailbox="Maildir/")
    assert agent.deliver("s@example.org", ["ext@mx.example.com"], MSG) == ["sent"]
    assert len(maildir_messages(Path(alice.pw_dir) / "Maildir")) == 1
    msg, = cleanup.messages
    assert msg["flags"] == 2                       # CLEANUP_FLAG_MAP_OK
    env, lines = content_of(msg)
    kinds = dict((t, d.decode()) for t, d in env if t in "SROT")
    assert kinds["S"] == "s@example.org"
    assert kinds["R"] == "someone@elsewhere.example"
    assert kinds["O"] == "ext@mx.example.com"
    assert ("A", b"origin=local") in env
    assert lines[0] == "Delivered-To: ext@mx.example.com"
    assert lines[1:] == MSG
    assert msg["records"][-2:] == [("X", b""), ("E", b"")]
    text = "\n".join(agent.status_lines())
    assert re.search(r"to=<someone@elsewhere.example>, orig_to=<ext@mx.example.com>, "
                     rf"relay=local, .*status=sent \(forwarded as {msg['queue_id']}\)", text)
    assert agent.rcpt_records(agent.last["qid"]) == ["D"]


def test_owner_alias_becomes_sender(agent, cleanup):
    agent.aliases("list: a@remote.example, b@remote.example\nowner-list: listadmin\n")
    assert agent.deliver("s@example.org", ["list@mx.example.com"], MSG) == ["sent"]
    assert len(cleanup.messages) == 2
    for m in cleanup.messages:
        env, _ = content_of(m)
        assert ("S", b"owner-list@mx.example.com") in env
    agent.configure(expand_owner_alias="yes")
    cleanup.messages.clear()
    assert agent.deliver("s@example.org", ["list@mx.example.com"], MSG) == ["sent"]
    for m in cleanup.messages:
        env, _ = content_of(m)
        assert ("S", b"listadmin@mx.example.com") in env
    agent.configure(owner_request_special="no")
    cleanup.messages.clear()
    assert agent.deliver("s@example.org", ["list@mx.example.com"], MSG) == ["sent"]
    for m in cleanup.messages:
        env, _ = content_of(m)
        assert ("S", b"s@example.org") in env


def test_luser_relay(agent, cleanup):
    agent.configure(luser_relay="lost+$user@elsewhere.example")
    assert agent.deliver("s@example.org", ["NoSuchUserH10@mx.example.com"], MSG) == ["sent"]
    msg, = cleanup.messages
    env, _ = content_of(msg)
    assert ("R", b"lost+nosuchuserh10@elsewhere.example") in env


def test_forward_refused_by_cleanup(agent, cleanup):
    cleanup.status, cleanup.reason = 8, "5.7.1 message content rejected"
    agent.aliases("ext: someone@elsewhere.example\n")
    assert agent.deliver("s@example.org", ["ext@mx.example.com"], MSG) == ["bounced"]
    assert "dsn=5.7.1, status=bounced (5.7.1 message content rejected)" \
        in agent.status_lines()[0]
    cleanup.status, cleanup.reason = 2, "4.3.0 queue file write error"
    assert agent.deliver("s@example.org", ["ext@mx.example.com"], MSG) == ["deferred"]
    assert "dsn=4.3.0, status=deferred (cannot forward to someone@elsewhere.example: " \
        "4.3.0 queue file write error)" in agent.status_lines()[0]


def test_dot_forward_to_remote(agent, cleanup, users):
    bob = users.add("bob")
    fwd = Path(bob.pw_dir) / ".forward"
    fwd.write_text("bob@remote.example\n")
    os.chown(fwd, bob.pw_uid, bob.pw_gid)
    assert agent.deliver("s@example.org", [f"{bob.pw_name}@mx.example.com"], MSG) == ["sent"]
    msg, = cleanup.messages
    _, lines = content_of(msg)
    assert lines[0] == f"Delivered-To: {bob.pw_name}@mx.example.com"


@root_only
def test_dot_forward_owned_by_someone_else_is_refused(agent, users):
    bob, eve = users.add("bob"), users.add("eve")
    fwd = Path(bob.pw_dir) / ".forward"
    fwd.write_text("|touch /tmp/h10-should-not-exist\n")
    os.chown(fwd, eve.pw_uid, eve.pw_gid)
    assert agent.deliver("s@example.org", [f"{bob.pw_name}@mx.example.com"], MSG) \
        == ["deferred"]
    assert "cannot read forward file" in agent.status_lines()[0]
    assert not Path("/tmp/h10-should-not-exist").exists()


def test_include_file_destinations_allowed(agent, users):
    alice = users.add("alice")
    out = agent.base / "out"
    out.mkdir()
    out.chmod(0o777)
    inc = agent.base / "list.inc"
    inc.write_text(f"{alice.pw_name}, |id -u > {out}/inc.uid\n")
    if IS_ROOT:
        os.chown(inc, alice.pw_uid, alice.pw_gid)
    agent.aliases(f"list: :include:{inc}\n")
    agent.configure(allow_mail_to_commands="alias, forward, include")
    assert agent.deliver("s@example.org", ["list@mx.example.com"], MSG) == ["sent"]
    if IS_ROOT:   # an :include: file's commands run as its owner
        assert (out / "inc.uid").read_text().strip() == str(alice.pw_uid)
