"""postern(1): the control command, the queue tree, conf/master.cf, the unit.

Instances are built as in test_master.py (same fixtures and helpers).
"""
import grp
import os
import pwd
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, free_port, run
from test_master import (IS_ROOT, Instance, base, count, inst, pid_alive,  # noqa: F401
                         root_only, wait_for)

QUEUE_DIRS = {
    # name: (mode, owner, group) with owner/group "root", "mail", "drop"
    "maildrop": (0o1730, "mail", "drop"),
    "public": (0o2710, "mail", "drop"),
    "private": (0o700, "mail", "mail"),
    "pid": (0o755, "root", "root"),
    "incoming": (0o700, "mail", "mail"),
    "active": (0o700, "mail", "mail"),
    "deferred": (0o700, "mail", "mail"),
    "hold": (0o700, "mail", "mail"),
    "corrupt": (0o700, "mail", "mail"),
    "bounce": (0o700, "mail", "mail"),
    "defer": (0o700, "mail", "mail"),
    "trace": (0o700, "mail", "mail"),
}


def expected_ids(inst):
    pw = pwd.getpwnam(inst.owner)
    if IS_ROOT and inst.run_as is None:
        return {"root": (0, 0), "mail": (pw.pw_uid, pw.pw_gid),
                "drop": (pw.pw_uid, grp.getgrnam(inst.group).gr_gid)}
    me = (os.getuid(), os.getgid())
    return {"root": me, "mail": me, "drop": me}


# ---------------------------------------------------------------- check


def test_check_creates_the_queue_tree(inst):
    assert not inst.queue.exists()
    r = inst.postern("check")
    assert r.returncode == 0, r.stderr
    ids = expected_ids(inst)
    st = os.stat(inst.queue)
    assert (st.st_uid, st.st_mode & 0o7777) == (ids["root"][0], 0o755)
    for name, (mode, owner, group) in QUEUE_DIRS.items():
        st = os.lstat(inst.queue / name)
        assert st.st_mode & 0o7777 == mode, name
        assert st.st_uid == ids[owner][0], name
        assert st.st_gid == ids[group][1], name
    assert os.stat(inst.data).st_uid == ids["mail"][0]
    # a second run finds nothing to say
    r = inst.postern("check")
    assert r.returncode == 0 and r.stderr == ""


def test_check_repairs_owners_and_modes(inst):
    assert inst.postern("check").returncode == 0
    (inst.queue / "private").chmod(0o777)
    (inst.queue / "maildrop").chmod(0o755)
    inst.queue.chmod(0o777)
    r = inst.postern("check")
    assert r.returncode == 0
    assert re.search(r"warning: fixing the owner and mode of \S+/private", r.stderr)
    assert re.search(r"warning: fixing the owner and mode of \S+/maildrop", r.stderr)
    assert os.stat(inst.queue / "private").st_mode & 0o7777 == 0o700
    assert os.stat(inst.queue / "maildrop").st_mode & 0o7777 == 0o1730
    assert os.stat(inst.queue).st_mode & 0o777 == 0o755  # group/other write removed


def test_check_refuses_a_file_where_a_directory_belongs(inst):
    inst.queue.mkdir()
    inst.queue.chmod(0o755)
    (inst.queue / "incoming").write_text("not a directory")
    r = inst.postern("check")
    assert r.returncode == 1
    assert "incoming: not a directory" in r.stderr


def test_check_rejects_a_broken_master_cf(inst):
    (inst.etc / "master.cf").write_text("smtp inet n - n\n")
    r = inst.postern("check")
    assert r.returncode == 1
    assert "master.cf" in r.stderr and "fatal:" in r.stderr


def test_check_warns_about_writable_configuration(inst):
    (inst.etc / "main.cf").chmod(0o666)
    r = inst.postern("check")
    assert r.returncode == 0
    assert re.search(r"warning: group or other writable: \S+/main\.cf", r.stderr)


@root_only
def test_check_refuses_unknown_accounts(inst):
    inst.write_main(mail_owner="no-such-user-postern")
    r = inst.postern("check")
    assert r.returncode == 1
    assert "parameter mail_owner: unknown user name value: no-such-user-postern" in r.stderr
    inst.write_main(mail_owner=inst.owner, setgid_group="no-such-group-postern")
    r = inst.postern("check")
    assert r.returncode == 1
    assert "parameter setgid_group: unknown group name: no-such-group-postern" in r.stderr


@root_only
def test_set_permissions_gives_queue_files_to_mail_owner(inst):
    assert inst.postern("check").returncode == 0
    stray = inst.queue / "deferred" / "A" / "1234ABC"
    stray.parent.mkdir()
    stray.write_text("queue file")
    r = inst.postern("set-permissions")
    assert r.returncode == 0, r.stderr
    uid = pwd.getpwnam(inst.owner).pw_uid
    assert os.stat(stray).st_uid == uid and os.stat(stray.parent).st_uid == uid


# ---------------------------------------------------------------- control


@pytest.mark.parametrize("command", ["stop", "abort", "reload", "flush"])
def test_commands_that_need_a_running_system(inst, command):
    assert inst.postern("check").returncode == 0
    r = inst.postern(command)
    assert r.returncode == 1
    assert "postern: fatal: the postern mail system is not running" in r.stderr


def test_status_when_not_running(inst):
    r = inst.postern("status")
    assert r.returncode == 1
    assert "the postern mail system is not running" in r.stderr


def test_usage_errors(inst):
    r = run([inst.postern_bin, "-c", inst.etc])
    assert r.returncode == 1 and "usage: postern" in r.stderr
    r = run([inst.postern_bin, "-c", inst.etc, "frobnicate"])
    assert r.returncode == 1
    assert 'unknown command: "frobnicate"' in r.stderr and "usage: postern" in r.stderr


def test_start_status_stop(inst):
    inst.write_master([inst.toy_line("toy")])
    r = inst.postern("start")
    assert r.returncode == 0, r.stderr
    assert "postern: starting the postern mail system" in r.stderr
    assert (inst.queue / "public" / "toy").exists()  # listening when start returns
    pid = inst.master_pid()
    inst.seen.add(pid)
    r = inst.postern("status")
    assert r.returncode == 0
    assert f"the postern mail system is running: PID: {pid}" in r.stderr
    r = inst.postern("stop")
    assert r.returncode == 0
    assert "postern: stopping the postern mail system" in r.stderr
    assert not pid_alive(pid)
    assert inst.postern("status").returncode == 1
    log = inst.logtext()
    assert re.search(r"postern/postern\[\d+\]: starting the postern mail system", log)
    assert re.search(rf"postern/master\[{pid}\]: daemon started -- version \S+, "
                     rf"configuration {re.escape(str(inst.etc))}", log)


def test_start_fails_cleanly_on_a_busy_port(inst):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        inst.write_master([inst.toy_line(f"127.0.0.1:{port}", "inet")])
        r = inst.postern("start")
        assert r.returncode == 1
        assert "Address already in use" in r.stderr
    assert inst.postern("status").returncode == 1


def test_start_fg_keeps_master_in_the_foreground(inst):
    inst.write_master([inst.toy_line("toy")])
    proc = subprocess.Popen([str(inst.postern_bin), "-c", str(inst.etc), "start-fg"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    inst.seen.add(proc.pid)
    try:
        wait_for(lambda: inst.master_pid() == proc.pid, what="master.pid of start-fg")
        wait_for(lambda: (inst.queue / "public" / "toy").exists(), what="the toy socket")
        s = inst.connect_unix("toy")
        s.hello()
        s.close()
        r = inst.postern("status")
        assert f"PID: {proc.pid}" in r.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert inst.postern("status").returncode == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_flush_asks_qmgr_to_scan_the_queue(inst):
    trig = inst.base / "qmgr.log"
    inst.write_master([inst.toy_line("qmgr", unpriv="n", maxproc="1", args=f"trigger {trig}")])
    inst.start()
    r = inst.postern("flush")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: trig.exists() and "FADI" in trig.read_text(), what="the flush trigger")


def test_reload_refuses_a_broken_master_cf(inst):
    inst.write_master([inst.toy_line("toy")])
    master = inst.start()
    (inst.etc / "master.cf").write_text("toy bogus n - n - - toy\n")
    r = inst.postern("reload")
    assert r.returncode == 1
    assert "refreshing" not in r.stderr
    assert pid_alive(master)
    assert "reload --" not in inst.logtext()


# ---------------------------------------------------------------- shipped files


def stock_master_cf(port: int) -> str:
    """conf/master.cf with smtp moved to a loopback port and chroot off, as
    the benchmark adapter does."""
    out = []
    skip = False
    for line in (ROOT / "conf" / "master.cf").read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            f = line.split()
            skip = False
            if f[1] == "inet":
                if f[0] == "smtp":
                    f[0] = f"127.0.0.1:{port}"
                else:
                    skip = True
                    continue
            f[4] = "n"
            line = " ".join(f)
        elif line[:1].isspace() and skip:
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def test_stock_master_cf_runs_without_its_daemons(inst):
    """Daemons that do not exist yet are throttled, never respawned in a loop."""
    port = free_port()
    libexec = inst.base / "libexec"
    libexec.mkdir()
    os.symlink(inst.master_bin, libexec / "master")
    inst.write_main(daemon_directory=str(libexec), service_throttle_time="60s")
    (inst.etc / "master.cf").write_text(stock_master_cf(port))
    master = inst.start()
    # qmgr and pickup get their first wakeup at once, and cannot start
    inst.wait_log(r"fatal: exec \S+/libexec/qmgr: No such file or directory")
    inst.wait_log(r"\S+/libexec/qmgr: bad command startup -- throttling")
    inst.wait_log(r"\S+/libexec/pickup: bad command startup -- throttling")
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    inst.wait_log(r"\S+/libexec/smtpd: bad command startup -- throttling")
    time.sleep(1.0)
    log = inst.logtext()
    for daemon in ("qmgr", "pickup", "smtpd"):
        assert count(rf"exec \S+/libexec/{daemon}:", log) == 1, daemon
    c.close()
    assert pid_alive(master)
    for name in ("cleanup", "qmgr", "pickup", "showq"):
        assert (inst.queue / "public" / name).exists(), name
    for name in ("bounce", "defer", "trace", "smtp", "relay", "lmtp", "error", "retry",
                 "discard", "local", "virtual"):
        st = os.lstat(inst.queue / "private" / name)
        assert st.st_mode & 0o777 == 0o600, name
    r = inst.postern("stop")
    assert r.returncode == 0
    assert not pid_alive(master)


def test_stock_master_cf_layout():
    text = (ROOT / "conf" / "master.cf").read_text()
    assert "# service type  private unpriv  chroot  wakeup  maxproc command + args" in text
    rows = {tuple(l.split()[:2]): l.split()[2:] for l in text.splitlines()
            if l and not l[0].isspace() and not l.startswith("#")}
    assert rows[("smtp", "inet")] == ["n", "-", "y", "-", "-", "smtpd"]
    assert rows[("pickup", "unix")] == ["n", "-", "y", "60", "1", "pickup"]
    assert rows[("cleanup", "unix")] == ["n", "-", "y", "-", "0", "cleanup"]
    assert rows[("qmgr", "unix")] == ["n", "-", "n", "300", "1", "qmgr"]
    assert rows[("local", "unix")] == ["-", "n", "n", "-", "-", "local"]
    for svc in ("bounce", "defer", "trace"):
        assert rows[(svc, "unix")][-1] == "bounce"
    assert "#submission inet" in text and "#smtps     inet" in text


def test_systemd_unit():
    text = (ROOT / "conf" / "postern.service").read_text()
    keys = dict(l.split("=", 1) for l in text.splitlines() if "=" in l and not l.startswith("#"))
    assert keys["Type"] == "forking"
    assert keys["PIDFile"].endswith("/pid/master.pid")
    assert keys["ExecStart"].endswith("postern start")
    assert keys["ExecStop"].endswith("postern stop")
    assert keys["ExecReload"].endswith("postern reload")


def test_man_pages_exist():
    for page, name in (("man1/postern.1", "postern"), ("man8/master.8", "master")):
        text = (ROOT / "man" / page).read_text()
        assert text.startswith(".TH ") or "\n.TH " in text, page
        assert f"\\fB{name}\\fR" in text or name in text


def test_check_creates_maillog_for_mail_owner(inst):
    inst.log.unlink()
    r = inst.postern("check")
    assert r.returncode == 0, r.stderr
    st = os.stat(inst.log)
    assert st.st_uid == pwd.getpwnam(inst.owner).pw_uid and st.st_mode & 0o777 == 0o644


@root_only
def test_check_gives_a_root_made_maillog_to_mail_owner(inst):
    inst.log.chmod(0o644)  # root's, from the fixture (a command logged first)
    r = inst.postern("check")
    assert r.returncode == 0
    assert "fixing the owner of maillog_file" in r.stderr
    assert os.stat(inst.log).st_uid == pwd.getpwnam(inst.owner).pw_uid


@root_only
def test_check_warns_about_a_maillog_mail_owner_cannot_write(inst):
    os.chown(inst.log, 65534, 65534)  # someone else's: not ours to take
    inst.log.chmod(0o644)
    if pwd.getpwnam(inst.owner).pw_uid == 65534:
        pytest.skip("mail_owner is nobody here")
    r = inst.postern("check")
    assert r.returncode == 0
    assert "is not writable by mail_owner" in r.stderr
