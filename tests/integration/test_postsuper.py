"""postsuper(1): delete, hold, release, requeue, structure check and purge.

Round trips run under a live instance (qmgr with the retry transport;
pickup and cleanup for requeue), so that what postsuper does is checked
against what the mail system then does with the message. The other
tests use a stopped instance, where active/ is fair game, and queue
files written by test_postqueue's writer.
"""
import fcntl
import os
import pwd
import re
import subprocess
import time

import pytest

from instance import instance_factory, read_queue_file, wait_for  # noqa: F401
from test_postqueue import (env_for, mkqueue, postqueue, qfile, unprivileged_user,
                            write_note, write_qfile)


def postsuper(inst, *args, user=None, input=None):
    cmd = [str(inst.build / "sbin" / "postsuper"), *map(str, args)]
    if user:
        cmd = ["setpriv", "--reuid", user, "--regid", str(pwd.getpwnam(user).pw_gid),
               "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env_for(inst),
                          input=input)


def lines(r):
    return r.stderr.splitlines()


def write_named(inst, queue, mode=0o700, **kw):
    """A queue file named as cleanup names it: microseconds and inode number."""
    tmp = "TMP000"
    write_qfile(inst, queue, tmp, mode=mode, **kw)
    qid = "%05X%X" % (123456, os.stat(inst.queue / queue / tmp).st_ino)
    os.rename(inst.queue / queue / tmp, inst.queue / queue / qid)
    return qid


@pytest.fixture
def stopped(instance_factory):
    """An instance whose mail system is not running: every queue may be changed."""
    inst = instance_factory(services=["showq/unix"])
    r = inst.postern("check")
    assert r.returncode == 0, r.stderr
    return inst


@pytest.fixture
def live(instance_factory, postern_build):
    for prog in ("qmgr", "pickup", "cleanup", "showq"):
        if not (postern_build / "libexec" / prog).exists():
            pytest.skip(f"{prog} not built")

    def make(**main):
        settings = {"mydestination": "", "relay_domains": "", "minimal_backoff_time": "300s",
                    "default_transport": "retry:4.4.1 try again later"}
        settings.update(main)
        inst = instance_factory(main=settings, services=[
            "qmgr/unix", "retry/unix", "error/unix", "discard/unix", "showq/unix",
            "pickup/unix", "cleanup/unix"])
        inst.start()
        return inst
    return make


def deferred(inst, *rcpts, extra=()):
    qid, = mkqueue(inst, "-T", *extra, *rcpts)
    wait_for(lambda: (inst.queue / "deferred" / qid).exists(), 15,
             what=f"deferred/{qid}\n{inst.logtext()}")
    return qid


def notes(inst, qid):
    for d in ("defer", "bounce", "trace"):
        p = inst.queue / d / qid
        p.write_text("recipient=x@y\noffset=1\nreason=r\n\n")
        os.chown(p, pwd.getpwnam(inst.owner).pw_uid, -1)


def where(inst, qid):
    return [q for q in ("maildrop", "incoming", "active", "deferred", "hold", "corrupt")
            if (inst.queue / q / qid).exists()]


# ---------------------------------------------------------------- -d

def test_delete(stopped):
    inst = stopped
    for q, qid in (("deferred", "B000000001"), ("deferred", "B000000002"), ("hold", "C000000003"),
                   ("active", "A000000004"), ("incoming", "D000000005")):
        write_qfile(inst, q, qid)
        notes(inst, qid)
    r = postsuper(inst, "-d", "B000000001")
    assert r.returncode == 0, r.stderr
    assert lines(r) == ["postsuper: B000000001: removed", "postsuper: Deleted: 1 message"]
    assert where(inst, "B000000001") == []
    assert not any((inst.queue / d / "B000000001").exists() for d in ("defer", "bounce", "trace"))
    assert re.search(r"postern/postsuper\[\d+\]: B000000001: removed", inst.logtext())
    # not there: nothing said, nothing done
    r = postsuper(inst, "-d", "B000000001")
    assert r.returncode == 0 and r.stderr == ""
    # ALL in one queue
    r = postsuper(inst, "-d", "ALL", "hold")
    assert lines(r) == ["postsuper: C000000003: removed", "postsuper: Deleted: 1 message"]
    assert where(inst, "B000000002") == ["deferred"]
    # ALL in the default queues, active included while the system is down
    r = postsuper(inst, "-d", "ALL")
    assert r.returncode == 0, r.stderr
    assert lines(r)[-1] == "postsuper: Deleted: 3 messages"
    assert not inst.queue_files()


def test_delete_from_stdin_and_bad_ids(stopped):
    inst = stopped
    for qid in ("B000000001", "B000000002", "B000000003"):
        write_qfile(inst, "deferred", qid)
    r = postsuper(inst, "-d", "-", input="B000000001\n\n  B000000002  \r\n")
    assert r.returncode == 0, r.stderr
    assert lines(r)[-1] == "postsuper: Deleted: 2 messages"
    # one bad ID anywhere: nothing is done
    for bad in ("../deferred/B000000003", "b000000003", "B000000003*", "ALLL", ""):
        r = postsuper(inst, "-d", "B000000003", "-d", bad)
        assert r.returncode == 1, bad
        assert "invalid mail queue ID" in r.stderr
    r = postsuper(inst, "-d", "-", input="B000000003\n../x\n")
    assert r.returncode == 1 and "invalid mail queue ID: ../x" in r.stderr
    assert where(inst, "B000000003") == ["deferred"]
    r = postsuper(inst, "-d", "ALL", "corrupt")
    assert r.returncode == 1 and "invalid directory name: corrupt" in r.stderr
    r = postsuper(inst, "-H", "ALL", "deferred")
    assert r.returncode == 1 and "none of the named queues applies" in r.stderr
    r = postsuper(inst, "-x")
    assert r.returncode == 1 and "usage: postsuper" in r.stderr
    assert where(inst, "B000000003") == ["deferred"]


def test_only_root_and_mail_owner(stopped):
    inst = stopped
    write_qfile(inst, "deferred", "B000000001")
    r = postsuper(inst, "-d", "ALL", user=unprivileged_user(inst))
    assert r.returncode == 1
    assert "postsuper: fatal: use of this command is reserved for the superuser" in r.stderr
    assert where(inst, "B000000001") == ["deferred"]
    r = postsuper(inst, "-d", "ALL", user=inst.owner)
    assert r.returncode == 0, r.stderr
    assert where(inst, "B000000001") == []


# ---------------------------------------------------------------- locking

def test_busy_and_unfinished_files_left_alone(stopped):
    inst = stopped
    write_qfile(inst, "deferred", "B000000001")
    write_qfile(inst, "incoming", "D000000002", mode=0o600)
    with open(inst.queue / "deferred" / "B000000001", "rb") as f:
        fcntl.lockf(f, fcntl.LOCK_SH)               # as a delivery agent holds it
        r = postsuper(inst, "-h", "B000000001", "-d", "D000000002")
        assert r.returncode == 0, r.stderr
    assert "B000000001: left alone: in use by the mail system (queue deferred)" in r.stderr
    assert "D000000002: left alone: still being written (queue incoming)" in r.stderr
    assert "placed on hold" not in r.stderr and "removed" not in r.stderr
    assert where(inst, "B000000001") == ["deferred"]
    assert where(inst, "D000000002") == ["incoming"]
    r = postsuper(inst, "-h", "B000000001")
    assert lines(r) == ["postsuper: B000000001: placed on hold",
                        "postsuper: Placed on hold: 1 message"]


def test_active_is_qmgrs_while_running(instance_factory):
    inst = instance_factory(services=["showq/unix"])       # master runs; qmgr does not
    inst.start()
    write_qfile(inst, "active", "A000000001")
    for args in (["-d", "A000000001"], ["-h", "ALL"], ["-r", "A000000001"]):
        r = postsuper(inst, *args)
        assert r.returncode == 0, r.stderr
        assert "A000000001: left alone: the queue manager is delivering it (queue active)" \
            in r.stderr
        assert where(inst, "A000000001") == ["active"]
    inst.stop()
    r = postsuper(inst, "-h", "A000000001")
    assert lines(r) == ["postsuper: A000000001: placed on hold",
                        "postsuper: Placed on hold: 1 message"]


# ---------------------------------------------------------------- round trips

def test_hold_and_release_round_trip(live):
    inst = live()
    qid = deferred(inst, "a@x.example")
    r = postsuper(inst, "-h", qid)
    assert r.returncode == 0, r.stderr
    assert lines(r) == [f"postsuper: {qid}: placed on hold", "postsuper: Placed on hold: 1 message"]
    assert where(inst, qid) == ["hold"]
    assert postqueue(inst, "-p").stdout.splitlines()[1].startswith(f"{qid}!")
    assert postqueue(inst, "-f").returncode == 0           # a flush leaves held mail alone
    time.sleep(1.5)
    assert inst.log_count(rf"{qid}: from=") == 1
    r = postsuper(inst, "-H", qid)
    assert lines(r) == [f"postsuper: {qid}: released from hold",
                        "postsuper: Released from hold: 1 message"]
    assert where(inst, qid) == ["deferred"]
    assert abs(os.stat(inst.queue / "deferred" / qid).st_mtime - time.time()) < 5
    assert postqueue(inst, "-i", qid).returncode == 0
    inst.wait_log(rf"{qid}: from=", count=2)
    wait_for(lambda: where(inst, qid) == ["deferred"], 10, what="deferred again")
    # hold ALL, release ALL
    other = deferred(inst, "b@x.example")
    r = postsuper(inst, "-h", "ALL")
    assert lines(r)[-1] == "postsuper: Placed on hold: 2 messages"
    r = postsuper(inst, "-H", "ALL")
    assert lines(r)[-1] == "postsuper: Released from hold: 2 messages"
    assert where(inst, other) == ["deferred"]


def test_requeue_round_trip(live):
    inst = live()
    qid = deferred(inst, "a@x.example", "b@x.example", extra=["-D", "-N", "6", "-o",
                                                             "Orig@x.example"])
    before = read_queue_file(inst.queue / "deferred" / qid)
    assert [r["done"] for r in before.recipients] == [True, False]
    # the configuration changed since: requeue applies it
    # (a restart, not "postern reload": master loses its public/ sockets on reload)
    inst.stop()
    inst.write_main(virtual_alias_maps="inline:{ {b@x.example=c@y.example} }")
    inst.start()
    wait_for(lambda: (inst.queue / "public" / "pickup").exists(), 10, what="public/pickup")
    r = postsuper(inst, "-r", qid)
    assert r.returncode == 0, r.stderr
    assert lines(r) == [f"postsuper: {qid}: requeued", "postsuper: Requeued: 1 message"]
    assert where(inst, qid) == []
    assert not (inst.queue / "defer" / qid).exists()
    m = inst.wait_log(r"postern/pickup\[\d+\]: ([0-9A-F]+): uid=0 from=<sender@example.com>")
    new = re.search(r"postern/pickup\[\d+\]: ([0-9A-F]+): uid=0 from=<sender@example.com>",
                    inst.logtext()).group(1)
    assert m and new != qid
    wait_for(lambda: where(inst, new) == ["deferred"], 15, what=f"{new} deferred\n{inst.logtext()}")
    after = read_queue_file(inst.queue / "deferred" / new)
    assert after.rcpt_addrs == ["c@y.example"]
    assert after.recipients[0].get("orcp") == "Orig@x.example"
    assert after.recipients[0].get("notify") == 6
    assert after.sender == "sender@example.com"
    # the content went through as it was (cleanup adds a Date: mkqueue left out)
    assert [x for x in after.lines if not x.startswith(b"Date: ")] == before.lines
    arrival = lambda q: [d for t, d in q.records if t == "T"][0].split(b".")[0]  # noqa: E731
    assert arrival(after) == arrival(before)
    inst.wait_log(rf"{new}: to=<c@y.example>.*status=deferred")


def test_requeue_refusals(stopped):
    inst = stopped
    write_qfile(inst, "deferred", "B000000001", rcpts=[("a@x.example", True)])
    write_qfile(inst, "deferred", "B000000002")
    (inst.queue / "bounce" / "B000000002").write_text("recipient=r@x\noffset=1\n\n")
    write_qfile(inst, "deferred", "B000000003", sender="bad\x01sender@example.com")
    r = postsuper(inst, "-r", "B000000001", "-r", "B000000002", "-r", "B000000003")
    assert r.returncode == 0
    assert "B000000001: not requeued: no recipient left to deliver" in r.stderr
    assert "B000000002: not requeued: bounce(8) has not yet returned" in r.stderr
    assert "B000000003: not requeued:" in r.stderr
    assert "Requeued" not in r.stderr
    assert sorted(p.name for p in inst.queue_files()) == ["B000000001", "B000000002",
                                                          "B000000003"]
    assert not [p for p in (inst.queue / "maildrop").iterdir()]     # no leftovers


def test_requeue_writes_a_valid_maildrop_file(stopped):
    inst = stopped
    write_qfile(inst, "hold", "C000000001", sender="s@example.com",
                rcpts=[{"address": "r@example.com", "orig": "R@example.com", "notify": 4,
                        "orcpt": "rfc822;R@example.com"}, ("done@example.com", True)],
                attrs=["origin=smtpd", "client_address=192.0.2.1", "dsn_envid=ENV1",
                       "dsn_ret=HDRS", "encoding=8bit"], extracted=["x@example.com"],
                lines=["Subject: s", "", "L" * 5000])
    r = postsuper(inst, "-r", "ALL")
    assert r.returncode == 0, r.stderr
    assert lines(r)[-1] == "postsuper: Requeued: 1 message"
    (md,) = [p for p in (inst.queue / "maildrop").iterdir()]
    assert re.fullmatch(r"[0-9A-F]{6,}", md.name)
    assert md.stat().st_mode & 0o777 == 0o644
    q = read_queue_file(md)
    assert [t for t, _ in q.records][:1] == ["T"]
    assert q.attrs == {"rewrite_context": "remote", "dsn_envid": "ENV1", "dsn_ret": "HDRS",
                       "encoding": "8bit"}
    assert q.rcpt_addrs == ["r@example.com", "x@example.com"]
    assert q.recipients[0]["orcp"] == "R@example.com" and q.recipients[0]["notify"] == 4
    assert q.recipients[0]["dsn_orcpt"] == "rfc822;R@example.com"
    assert q.lines == [b"Subject: s", b"", b"L" * 5000] and q.complete
    assert where(inst, "C000000001") == []


# ---------------------------------------------------------------- -s and -p

def test_structure_check(stopped):
    inst = stopped
    q = inst.queue
    owner = pwd.getpwnam(inst.owner)
    (q / "deferred" / "stray name").write_text("x")
    os.symlink("/etc/passwd", q / "deferred" / "B000000001")
    (q / "hold" / "C000000002").mkdir()
    hard = write_named(inst, "deferred")
    os.link(q / "deferred" / hard, q / "corrupt" / "hardlink")
    # a file whose name does not match its inode, with notes
    write_qfile(inst, "deferred", "FFFFF1")
    (q / "defer" / "FFFFF1").write_text("recipient=a@b\noffset=1\nreason=r\n\n")
    ino = os.stat(q / "deferred" / "FFFFF1").st_ino
    # complete file in the wrong mode, incomplete one, a root-owned one
    wrong_mode = write_named(inst, "hold", mode=0o600)
    incomplete = write_named(inst, "deferred", mode=0o644, end=False)
    root_owned = write_named(inst, "deferred")
    os.chown(q / "deferred" / root_owned, 0, 0)
    writing = write_named(inst, "incoming", mode=0o600)
    (q / "incoming" / "D000000007").write_bytes(b"x")               # being written too
    os.chmod(q / "incoming" / "D000000007", 0o600)

    r = postsuper(inst, "-s")
    assert r.returncode == 0, r.stderr
    err = r.stderr
    assert "deferred/stray name: not a queue file name: moved to corrupt/stray name" in err
    assert "deferred/B000000001: not a regular file: moved to corrupt/B000000001" in err
    assert "hold/C000000002: not a regular file: moved to corrupt/C000000002" in err
    assert f"deferred/{hard}: more than one hard link: moved to corrupt/{hard}" in err
    new = re.search(r"FFFFF1: renamed to ([0-9A-F]+): the name did not match the inode number",
                    err).group(1)
    assert new.endswith("%X" % ino)
    assert (q / "deferred" / new).exists() and (q / "defer" / new).exists()
    assert not (q / "defer" / "FFFFF1").exists()
    assert f"hold/{wrong_mode}: mode changed from 0600 to 0700" in err
    assert os.stat(q / "hold" / wrong_mode).st_mode & 0o777 == 0o700
    assert f"deferred/{incomplete}: no end record: moved to corrupt/{incomplete}" in err
    if os.geteuid() == 0 and owner.pw_uid != 0:
        assert f"deferred/{root_owned}: owner changed from 0 to {inst.owner}" in err
        assert os.stat(q / "deferred" / root_owned).st_uid == owner.pw_uid
    assert "Renamed to match inode number: 1 message" in err
    assert "Moved to corrupt: 5 files" in err
    assert where(inst, writing) == ["incoming"] and where(inst, "D000000007") == ["incoming"]
    assert "left alone" not in err
    # a second run finds nothing
    r = postsuper(inst, "-s")
    assert r.returncode == 0 and r.stderr == ""


def test_purge(stopped):
    inst = stopped
    q = inst.queue
    old = time.time() - 3 * 86400
    write_qfile(inst, "incoming", "D000000001", mode=0o600)
    os.utime(q / "incoming" / "D000000001", (old, old))
    write_qfile(inst, "incoming", "D000000002", mode=0o600)          # fresh: cleanup writes it
    write_qfile(inst, "incoming", "D000000003")                      # complete
    os.utime(q / "incoming" / "D000000003", (old, old))
    (q / "maildrop" / "tmp.123.456.789").write_text("x")
    os.utime(q / "maildrop" / "tmp.123.456.789", (old, old))
    r = postsuper(inst, "-p")
    assert r.returncode == 0, r.stderr
    assert "incoming/D000000001: removed an abandoned incomplete queue file" in r.stderr
    assert "maildrop/tmp.123.456.789: removed an abandoned temporary file" in r.stderr
    assert lines(r)[-1] == "postsuper: Deleted: 2 temporary files"
    assert where(inst, "D000000002") == ["incoming"] and where(inst, "D000000003") == ["incoming"]
