"""postqueue(1) and showq(8): the queue listing (-p, -j, mailq), flush (-f),
one message (-i) and one site (-s), as root and as an unprivileged user.

The listing tests write queue files with chosen names, arrival times and
defer notes into a private instance that runs showq alone (no qmgr, so
nothing moves), and compare the whole output with the text Postfix's
postqueue prints for such a queue: every column is checked. TZ=UTC makes
the arrival times fixed. The flush tests run qmgr with the retry
transport, so that messages are really deferred and retried.

The queue writer here (rec, qfile, write_qfile, write_note) is also used
by test_postsuper.py and test_postcat.py.
"""
import grp
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from instance import instance_factory, wait_for  # noqa: F401

EX_USAGE, EX_NOPERM, EX_UNAVAILABLE, EX_SOFTWARE = 64, 77, 69, 70

# lib/rec.h record types
SIZE, TIME, FROM, RCPT, DONE, ORCP, NOTIFY, DSN_ORCPT = b"CTSRDOYQ"
ATTR, MESG, NORM, CONT, XTRA, END = b"AMNLXE"

ARRIVAL = 1700000000        # Tue Nov 14 22:13:20 2023 UTC
HEADING = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n"
INDENT = " " * 41


# ---------------------------------------------------------------- queue files

def rec(rtype: int, data=b"") -> bytes:
    if isinstance(data, str):
        data = data.encode()
    n, out = len(data), bytearray([rtype])
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out) + data


def qfile(sender="sender@example.com", rcpts=("rcpt@example.com",), size=1000,
          arrival=ARRIVAL, attrs=(), lines=("Subject: test", "", "body"), extracted=(),
          end=True, maildrop=False):
    """Queue file bytes (lib/cleanup_proto.h); also the offset of each recipient.

    rcpts: addresses, or (address, done) pairs, or dicts with address/done/orig/notify/orcpt.
    """
    env = b""
    if not maildrop:
        env += rec(SIZE, "%15d %15d %15d" % (size, 0, len(rcpts) + len(extracted)))
    env += rec(TIME, f"{arrival}.000000")
    for a in attrs:
        env += rec(ATTR, a)
    env += rec(FROM, sender)
    offsets = []
    for r in rcpts:
        if isinstance(r, str):
            r = {"address": r}
        elif isinstance(r, tuple):
            r = {"address": r[0], "done": r[1]}
        if r.get("orig"):
            env += rec(ORCP, r["orig"])
        if r.get("notify"):
            env += rec(NOTIFY, str(r["notify"]))
        if r.get("orcpt"):
            env += rec(DSN_ORCPT, r["orcpt"])
        offsets.append(len(env))
        env += rec(DONE if r.get("done") else RCPT, r["address"])
    mesg = len(env)
    if not maildrop:        # the size record names the MESG offset (fixed width)
        env = rec(SIZE, "%15d %15d %15d" % (size, mesg, len(rcpts) + len(extracted))) \
            + env[len(rec(SIZE, "%15d %15d %15d" % (0, 0, 0))):]
    body = rec(MESG)
    for line in lines:
        body += rec(NORM, line)
    body += rec(XTRA)
    for x in extracted:
        offsets.append(mesg + len(body))
        body += rec(RCPT, x)
    if end:
        body += rec(END)
    return env + body, offsets


def write_qfile(inst, queue, qid, mode=0o700, **kw):
    """Write queue/qid as mail_owner; returns the recipient record offsets."""
    data, offsets = qfile(**kw)
    path = inst.queue / queue / qid
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    owner = pwd.getpwnam(inst.owner)
    os.chown(path, owner.pw_uid, owner.pw_gid)
    return offsets


def write_note(inst, qid, recipient, offset, reason, status="4.4.1", dirname="defer"):
    """Append one defer note (lib/deliver_proto.h)."""
    path = inst.queue / dirname / qid
    with open(path, "a") as f:
        f.write(f"recipient={recipient}\noffset={offset}\nstatus={status}\naction=delayed\n"
                f"reason={reason}\nrelay=none\ntime={ARRIVAL + 60}\n\n")
    owner = pwd.getpwnam(inst.owner)
    os.chown(path, owner.pw_uid, owner.pw_gid)


# ---------------------------------------------------------------- running

def unprivileged_user(inst):
    """A user that is neither root nor mail_owner."""
    for name in ("nobody", "daemon", "bin", "sys"):
        try:
            if name != inst.owner and pwd.getpwnam(name).pw_uid != 0:
                return name
        except KeyError:
            pass
    pytest.skip("no unprivileged user")


def env_for(inst, **extra):
    e = {"PATH": "/usr/bin:/bin", "MAIL_CONFIG": str(inst.etc), "TZ": "UTC"}
    e.update(extra)
    return e


def postqueue(inst, *args, user=None, prog=None, env=None):
    prog = prog or inst.build / "sbin" / "postqueue"
    cmd = [str(prog), *map(str, args)]
    if user:
        cmd = ["setpriv", "--reuid", user, "--regid", grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name,
               "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                          env=env or env_for(inst))


def setgid_copy(inst, name="postqueue"):
    """A copy of the command, set-gid setgid_group, as it is installed."""
    sbin = inst.base / "sbin"
    sbin.mkdir(exist_ok=True)
    dst = sbin / name
    shutil.copy(inst.build / "sbin" / name, dst)
    os.chown(dst, 0, grp.getgrnam(inst.group).gr_gid)
    os.chmod(dst, 0o2755)
    return dst


@pytest.fixture
def showq_only(instance_factory, postern_build):
    """A running instance with showq alone: queue files stay where they are put."""
    if not (postern_build / "libexec" / "showq").exists():
        pytest.skip("showq not built")
    inst = instance_factory(services=["showq/unix"])
    inst.start()
    wait_for(lambda: (inst.queue / "public" / "showq").exists(), 10, what="public/showq")
    return inst


@pytest.fixture
def with_qmgr(instance_factory, postern_build):
    """Make running instances with qmgr and the retry/error/discard agents."""
    if not (postern_build / "libexec" / "qmgr").exists():
        pytest.skip("qmgr not built")

    def make(**main):
        settings = {"mydestination": "", "relay_domains": "", "minimal_backoff_time": "300s",
                    "default_transport": "retry:4.4.1 connect to mx.example.net[192.0.2.1]:25: "
                                         "Connection refused"}
        settings.update(main)
        inst = instance_factory(main=settings, services=["qmgr/unix", "retry/unix", "error/unix",
                                                         "discard/unix", "showq/unix"])
        inst.start()
        return inst
    return make


def mkqueue(inst, *args, queue="incoming"):
    """tests/progs/mkqueue as mail_owner; returns the queue IDs."""
    pw = pwd.getpwnam(inst.owner)
    r = subprocess.run([str(inst.build / "tests" / "mkqueue"), "-d", str(inst.queue), "-q", queue,
                        *args], capture_output=True, text=True, timeout=60, user=pw.pw_uid,
                       group=pw.pw_gid, extra_groups=[])
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def deferred(inst, *rcpts):
    """A message that qmgr has really deferred once; returns its queue ID."""
    qid, = mkqueue(inst, "-T", *rcpts)
    wait_for(lambda: (inst.queue / "deferred" / qid).exists(), 15,
             what=f"deferred/{qid}\n{inst.logtext()}")
    return qid


# ---------------------------------------------------------------- the listing

def golden_queue(inst):
    """A queue with every case the listing knows; returns the expected -p text."""
    q = inst
    write_qfile(q, "active", "A000000001", sender="a@example.com", rcpts=["x@example.net"],
                size=1000)
    offs = write_qfile(q, "deferred", "B000000002", sender="", size=2500, arrival=ARRIVAL + 86400 * 20,
                       rcpts=["r1@example.org", "r2@example.org", ("r3@example.org", True),
                              "r4@example.org", "r5@example.org"])
    write_note(q, "B000000002", "r1@example.org", offs[0], "connect to mx.example.org[192.0.2.9]"
               ":25: Connection refused")
    write_note(q, "B000000002", "r3@example.org", offs[2], "done meanwhile: never shown")
    write_note(q, "B000000002", "r2@example.org", offs[1], "an older reason")
    write_note(q, "B000000002", "r5@example.org", offs[4], "x" * 90)
    write_note(q, "B000000002", "r2@example.org", offs[1], "connect to mx.example.org[192.0.2.9]"
               ":25: Connection refused")
    write_qfile(q, "deferred", "B000000003", sender="john smith@example.com", size=5,
                rcpts=[], extracted=["from.header@example.com"])
    write_qfile(q, "hold", "C000000004", sender="s@example.com", rcpts=["h@example.com"],
                size=700)
    write_qfile(q, "incoming", "D000000005", mode=0o600)           # still being written
    write_qfile(q, "deferred", "F000000007", end=False)              # corrupt: no END ...
    (q.queue / "deferred" / "F000000007").write_bytes(b"garbage")  # ... nor records
    (q.queue / "deferred" / "not-a-queue-id").write_text("x")
    data, _ = qfile(sender="local@example.com", rcpts=["m@example.com"], maildrop=True)
    md = q.queue / "maildrop" / "E000000006"
    md.write_bytes(data)
    md.chmod(0o644)
    msize = len(data)
    total = 1000 + 2500 + 5 + 700 + msize
    long_reason = "x" * 90
    return (
        HEADING
        + f"E000000006  {msize:>7} Tue Nov 14 22:13:20  local@example.com\n"
        + INDENT + "m@example.com\n"
        + "\n"
        + "A000000001*    1000 Tue Nov 14 22:13:20  a@example.com\n"
        + INDENT + "x@example.net\n"
        + "\n"
        + "B000000002     2500 Mon Dec  4 22:13:20  MAILER-DAEMON\n"
        + "                 (connect to mx.example.org[192.0.2.9]:25: Connection refused)\n"
        + INDENT + "r1@example.org\n"
        + INDENT + "r2@example.org\n"
        + f"({long_reason})\n"
        + INDENT + "r5@example.org\n"
        + " " * 58 + "(reason unavailable)\n"
        + INDENT + "r4@example.org\n"
        + "\n"
        + "B000000003        5 Tue Nov 14 22:13:20  \"john smith\"@example.com\n"
        + INDENT + "from.header@example.com\n"
        + "\n"
        + "C000000004!     700 Tue Nov 14 22:13:20  s@example.com\n"
        + INDENT + "h@example.com\n"
        + "\n"
        + f"-- {total // 1024} Kbytes in 5 Requests.\n"
    )


def test_empty_queue(showq_only):
    r = postqueue(showq_only, "-p")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Mail queue is empty\n"
    r = postqueue(showq_only, "-j")
    assert r.returncode == 0 and r.stdout == ""


def test_listing_matches_postfix_layout(showq_only):
    inst = showq_only
    expected = golden_queue(inst)
    r = postqueue(inst, "-p")
    assert r.returncode == 0, r.stderr
    assert r.stdout == expected
    # the corrupt file was skipped with a warning, the others quietly
    inst.wait_log(r"showq\[\d+\]: warning: deferred/F000000007: .*skipped")
    assert "D000000005" not in r.stdout and "not-a-queue-id" not in inst.logtext()


def test_json_lines(showq_only):
    inst = showq_only
    golden_queue(inst)
    r = postqueue(inst, "-j")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    objs = [json.loads(line) for line in lines]
    assert [(o["queue_name"], o["queue_id"]) for o in objs] == [
        ("maildrop", "E000000006"), ("active", "A000000001"), ("deferred", "B000000002"),
        ("deferred", "B000000003"), ("hold", "C000000004")]
    b2 = objs[2]
    assert list(b2) == ["queue_name", "queue_id", "arrival_time", "message_size",
                        "forced_expire", "sender", "recipients"]
    assert b2["arrival_time"] == ARRIVAL + 86400 * 20 and b2["message_size"] == 2500
    assert b2["forced_expire"] is False and b2["sender"] == "MAILER-DAEMON"
    assert b2["recipients"][0] == {"address": "r1@example.org", "delay_reason":
                                   "connect to mx.example.org[192.0.2.9]:25: Connection refused"}
    assert b2["recipients"][-1] == {"address": "r4@example.org"}
    assert [x["address"] for x in b2["recipients"]] == [
        "r1@example.org", "r2@example.org", "r5@example.org", "r4@example.org"]
    assert objs[3]["sender"] == '"john smith"@example.com'
    # Postfix's spacing, byte for byte
    assert lines[1] == ('{"queue_name": "active", "queue_id": "A000000001", "arrival_time": '
                        '1700000000, "message_size": 1000, "forced_expire": false, "sender": '
                        '"a@example.com", "recipients": [{"address": "x@example.net"}]}')


def test_unprintable_values(showq_only):
    inst = showq_only
    offs = write_qfile(inst, "deferred", "B000000011", sender="evil\x1b[31m@example.com",
                       rcpts=["r\x7f@example.com", "caf\u00e9@example.com"])
    write_note(inst, "B000000011", "r\x7f@example.com", offs[0], "bad\tthing \u2603")
    r = postqueue(inst, "-p")
    assert r.returncode == 0, r.stderr
    assert "evil?[31m@example.com" in r.stdout and "\x1b" not in r.stdout
    assert "r?@example.com" in r.stdout and "caf\u00e9@example.com" in r.stdout
    assert "(bad?thing \u2603)" in r.stdout
    obj = json.loads(postqueue(inst, "-j").stdout)
    assert obj["sender"] == "evil?[31m@example.com"


def test_many_messages_and_recipients(showq_only):
    inst = showq_only
    for i in range(60):
        write_qfile(inst, "deferred", f"B{i:010d}", rcpts=[f"u{j}@example.com" for j in range(50)],
                    size=2048)
    r = postqueue(inst, "-p")
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("\n-- 120 Kbytes in 60 Requests.\n")
    assert r.stdout.count("u49@example.com\n") == 60
    assert len(postqueue(inst, "-j").stdout.splitlines()) == 60


def test_mailq_and_sendmail_bp(showq_only):
    inst = showq_only
    expected = golden_queue(inst)
    for prog, args in (("mailq", []), ("sendmail", ["-bp"])):
        path = inst.build / "sbin" / prog
        if not path.exists():
            pytest.skip(f"{prog} not built")
        r = subprocess.run([str(path), *args], capture_output=True, text=True, timeout=60,
                           env=env_for(inst))
        assert r.returncode == 0, r.stderr
        assert r.stdout == expected


def test_unprivileged_user_lists_but_cannot_read(showq_only):
    inst = showq_only
    user = unprivileged_user(inst)
    expected = golden_queue(inst)
    pq = setgid_copy(inst)
    r = postqueue(inst, "-p", user=user, prog=pq)
    assert r.returncode == 0, r.stderr
    assert r.stdout == expected
    r = postqueue(inst, "-j", user=user, prog=pq)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 5
    # ... but the content is not theirs to read
    postcat = inst.build / "sbin" / "postcat"
    for qid in ("B000000002", "C000000004"):
        r = subprocess.run(["setpriv", "--reuid", user, "--regid",
                            grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name, "--clear-groups",
                            str(postcat), "-q", qid], capture_output=True, text=True,
                           timeout=60, env=env_for(inst))
        assert r.returncode != 0
        assert f"open queue file {qid}: Permission denied" in r.stderr
        assert "Subject" not in r.stdout
    # without the set-gid bit, public/ is out of reach
    r = postqueue(inst, "-p", user=user)
    assert r.returncode == EX_UNAVAILABLE
    assert "Queue report unavailable - mail system is down" in r.stderr
    # and a user may not pick the configuration of a set-gid postqueue
    alt = inst.base / "alt"
    alt.mkdir()
    shutil.copy(inst.etc / "main.cf", alt / "main.cf")
    os.chown(alt, pwd.getpwnam(user).pw_uid, -1)
    r = postqueue(inst, "-c", alt, "-p", user=user, prog=pq)
    assert r.returncode == EX_NOPERM
    assert "not an authorized configuration directory" in r.stderr


def test_mail_system_down(instance_factory, postern_build):
    inst = instance_factory(services=["showq/unix"])
    r = inst.postern("check")
    assert r.returncode == 0, r.stderr
    write_qfile(inst, "deferred", "B000000002", sender="a@example.com", rcpts=["b@example.com"])
    r = postqueue(inst, "-p")
    assert r.returncode == 0, r.stderr
    assert "postqueue: warning: Mail system is down -- accessing queue directly" in r.stderr
    assert r.stdout.startswith(HEADING + "B000000002     1000 ")
    assert r.stdout.endswith("-- 0 Kbytes in 1 Request.\n")
    user = unprivileged_user(inst)
    r = postqueue(inst, "-p", user=user, prog=setgid_copy(inst))
    assert r.returncode == EX_UNAVAILABLE
    assert "Queue report unavailable - mail system is down" in r.stderr
    r = postqueue(inst, "-f")
    assert r.returncode == EX_UNAVAILABLE
    assert "Cannot flush mail queue - mail system is down" in r.stderr


@pytest.mark.parametrize("args", [[], ["-p", "-j"], ["-i"], ["-s"], ["-x"], ["-p", "extra"]])
def test_usage(showq_only, args):
    r = postqueue(showq_only, *args)
    assert r.returncode == EX_USAGE
    assert "usage: postqueue" in r.stderr


# ---------------------------------------------------------------- flush, -i, -s

def test_deferral_reason_from_qmgr(with_qmgr):
    inst = with_qmgr()
    qid = deferred(inst, "a@x.example", "b@x.example")
    r = postqueue(inst, "-p")
    assert r.returncode == 0, r.stderr
    reason = "connect to mx.example.net[192.0.2.1]:25: Connection refused"
    assert f"\n{' ' * (76 - len(reason))}({reason})\n{INDENT}a@x.example\n{INDENT}b@x.example\n" \
        in r.stdout
    assert re.search(rf"^{qid} +\d+ \w\w\w \w\w\w [ \d]\d \d\d:\d\d:\d\d  sender@example.com$",
                     r.stdout, re.M)


def test_flush(with_qmgr):
    inst = with_qmgr()
    qid = deferred(inst, "a@x.example")
    r = postqueue(inst, "-f")
    assert r.returncode == 0, r.stderr
    inst.wait_log(rf"{qid}: from=", count=2)
    inst.wait_log(rf"{qid}: to=<a@x.example>.*status=deferred", count=2)


def test_sendmail_q_flushes(with_qmgr):
    inst = with_qmgr()
    sendmail = inst.build / "sbin" / "sendmail"
    if not sendmail.exists():
        pytest.skip("sendmail not built")
    qid = deferred(inst, "a@x.example")
    r = subprocess.run([str(sendmail), "-q"], capture_output=True, text=True, timeout=60,
                       env=env_for(inst))
    assert r.returncode == 0, r.stderr
    inst.wait_log(rf"{qid}: from=", count=2)


def test_retry_one_message(with_qmgr):
    inst = with_qmgr()
    one = deferred(inst, "a@x.example")
    other = deferred(inst, "b@x.example")
    assert os.stat(inst.queue / "deferred" / one).st_mtime > time.time() + 200
    r = postqueue(inst, "-i", one)
    assert r.returncode == 0, r.stderr
    inst.wait_log(rf"{one}: from=", count=2)
    time.sleep(1)
    assert inst.log_count(rf"{other}: from=") == 1
    # errors
    r = postqueue(inst, "-i", "../deferred")
    assert r.returncode == EX_USAGE and "bad mail queue ID: ../deferred" in r.stderr
    r = postqueue(inst, "-i", "ABCDEF0123")
    assert r.returncode == EX_UNAVAILABLE and "no such message in the deferred queue" in r.stderr
    write_qfile(inst, "hold", "C000000004")
    r = postqueue(inst, "-i", "C000000004")
    assert r.returncode == EX_UNAVAILABLE and "message is on hold" in r.stderr
    # sendmail -qI maps to it
    sendmail = inst.build / "sbin" / "sendmail"
    if sendmail.exists():
        r = subprocess.run([str(sendmail), f"-qI{other}"], capture_output=True, text=True,
                           timeout=60, env=env_for(inst))
        assert r.returncode == 0, r.stderr
        inst.wait_log(rf"{other}: from=", count=2)


def test_retry_one_site(with_qmgr):
    inst = with_qmgr()
    a = deferred(inst, "u@a.example", "v@other.example")
    b = deferred(inst, "w@b.example")
    lit = deferred(inst, "x@[192.0.2.7]")
    r = postqueue(inst, "-s", "A.EXAMPLE")
    assert r.returncode == 0, r.stderr
    inst.wait_log(rf"{a}: from=", count=2)
    r = postqueue(inst, "-s", "[192.0.2.7]")
    assert r.returncode == 0, r.stderr
    inst.wait_log(rf"{lit}: from=", count=2)
    time.sleep(1)
    assert inst.log_count(rf"{b}: from=") == 1
    for bad in ("../x", "a b", "[300.1.1.1]", "-x"):
        r = postqueue(inst, "-s", bad)
        assert r.returncode == EX_USAGE, (bad, r.stderr)


def test_unprivileged_flush_and_limits(with_qmgr):
    inst = with_qmgr()
    user = unprivileged_user(inst)
    pq = setgid_copy(inst)
    qid = deferred(inst, "a@x.example")
    r = postqueue(inst, "-f", user=user, prog=pq)
    assert r.returncode == 0, r.stderr
    inst.wait_log(rf"{qid}: from=", count=2)
    for args in (["-i", qid], ["-s", "x.example"]):
        r = postqueue(inst, *args, user=user, prog=pq)
        assert r.returncode == EX_NOPERM, r.stderr
        assert "only the super-user and" in r.stderr


def test_showq_client_that_goes_away(showq_only):
    inst = showq_only
    for i in range(300):
        write_qfile(inst, "deferred", f"B{i:010d}", rcpts=[f"u{j}@example.com" for j in range(20)])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(inst.queue / "public" / "showq"))
    s.recv(100)
    s.close()
    # showq survives and serves the next client
    r = postqueue(inst, "-p")
    assert r.returncode == 0 and r.stdout.endswith("in 300 Requests.\n")
    # a listing cut short by the reader: quiet exit
    r = subprocess.run(f"{inst.build}/sbin/postqueue -p | head -1", shell=True,
                       capture_output=True, text=True, timeout=60, env=env_for(inst))
    assert r.stdout == HEADING and r.stderr == ""
