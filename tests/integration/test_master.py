"""master(8): process pools, throttling, reload, stop, privileges.

Each test runs a private instance whose master.cf lists the toy daemon
(tests/progs/toy, built on lib/mail_server). Instances live in a temporary
directory that unprivileged daemons can traverse; everything an instance
starts is killed by recorded pid in the fixture's teardown.
"""
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import free_port, run

IS_ROOT = os.geteuid() == 0
root_only = pytest.mark.skipif(not IS_ROOT, reason="needs root")


def wait_for(pred, timeout=10.0, step=0.02, what="condition"):
    """Poll pred() until it returns something true; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(step)


def pid_alive(pid: int) -> bool:
    """True for a live process (zombies count as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def proc_status(pid: int) -> dict:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


def mail_owner_for_tests() -> str:
    """The postern account when it exists, else nobody (root mode only)."""
    for name in ("postern", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            pass
    pytest.skip("no unprivileged account for mail_owner")


def setgid_group_for_tests(owner: str) -> str:
    owner_gid = pwd.getpwnam(owner).pw_gid
    for name in ("postdrop", "mail", "daemon", "adm"):
        try:
            if grp.getgrnam(name).gr_gid != owner_gid:
                return name
        except KeyError:
            pass
    pytest.skip("no group for setgid_group")


class Session:
    """A line-protocol conversation with the toy daemon."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.file = sock.makefile("rw", newline="\n")

    def hello(self, timeout=10.0):
        """Wait for the greeting: returns (pid, use_count)."""
        self.sock.settimeout(timeout)
        line = self.file.readline()
        m = re.match(r"hello (\d+) (\d+)", line)
        assert m, f"no greeting, got {line!r}"
        return int(m.group(1)), int(m.group(2))

    def ask(self, text, timeout=10.0):
        self.sock.settimeout(timeout)
        self.file.write(text + "\n")
        self.file.flush()
        return self.file.readline().rstrip("\n")

    def close(self):
        try:
            self.file.close()
        finally:
            self.sock.close()


class Instance:
    """A private postern instance: configuration, queue, log, processes."""

    def __init__(self, build: Path, base: Path, unpriv_user=None):
        self.build = build
        self.base = base
        self.etc = base / "etc"
        self.queue = base / "q"
        self.data = base / "data"
        self.logdir = base / "log"
        self.log = self.logdir / "maillog"
        self.toy = build / "tests" / "toy"
        self.postern_bin = build / "sbin" / "postern"
        self.master_bin = build / "libexec" / "master"
        self.seen = set()
        self.sessions = []
        self.run_as = unpriv_user
        for d in (self.etc, self.logdir):
            d.mkdir(parents=True, exist_ok=True)
            d.chmod(0o755)
        self.log.touch()
        self.log.chmod(0o666)  # unprivileged daemons log here too (test only)
        if IS_ROOT and unpriv_user is None:
            self.owner = mail_owner_for_tests()
            self.group = setgid_group_for_tests(self.owner)
        else:
            self.owner = unpriv_user or pwd.getpwuid(os.getuid()).pw_name
            self.group = grp.getgrgid(pwd.getpwnam(self.owner).pw_gid).gr_name
        self.main = {
            "queue_directory": str(self.queue),
            "data_directory": str(self.data),
            "daemon_directory": str(build / "libexec"),
            "command_directory": str(build / "sbin"),
            "mail_owner": self.owner,
            "setgid_group": self.group,
            "maillog_file": str(self.log),
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "service_throttle_time": "2s",
            "master_stop_time": "2s",
        }
        self.write_main()
        self.write_master([])

    # configuration
    def write_main(self, **extra):
        self.main.update(extra)
        text = "".join(f"{k} = {v}\n" for k, v in self.main.items())
        (self.etc / "main.cf").write_text(text)

    def write_master(self, lines):
        header = "# service type private unpriv chroot wakeup maxproc command\n"
        (self.etc / "master.cf").write_text(header + "".join(l + "\n" for l in lines))

    def toy_line(self, name, kind="unix", private="n", unpriv="-", chroot="n", wakeup="-",
                 maxproc="-", args=""):
        return f"{name} {kind} {private} {unpriv} {chroot} {wakeup} {maxproc} {self.toy} {args}".rstrip()

    # commands
    def postern(self, *args, timeout=60):
        kw = {}
        if self.run_as:
            kw["user"] = self.run_as
            kw["group"] = pwd.getpwnam(self.run_as).pw_gid
            kw["extra_groups"] = []
        return run([self.postern_bin, "-c", self.etc, *args], timeout=timeout, **kw)

    def start(self):
        r = self.postern("start")
        assert r.returncode == 0, r.stderr
        pid = self.master_pid()
        assert pid and pid_alive(pid)
        self.seen.add(pid)
        return pid

    def master_pid(self):
        try:
            text = (self.queue / "pid" / "master.pid").read_text()
        except FileNotFoundError:
            return None
        text = text.strip()
        return int(text) if text.isdigit() else None

    def children(self):
        """Live children of the running master."""
        master = self.master_pid()
        kids = []
        if not master:
            return kids
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                st = proc_status(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                continue
            if st.get("PPid", [""])[0] == str(master) and st.get("State", ["Z"])[0] != "Z":
                kids.append(int(entry))
        self.seen.update(kids)
        return kids

    def logtext(self):
        return self.log.read_text(errors="replace")

    def wait_log(self, pattern, timeout=10.0, count=1):
        rx = re.compile(pattern)
        return wait_for(lambda: len(rx.findall(self.logtext())) >= count, timeout,
                        what=f"log line /{pattern}/")

    # clients
    def connect_inet(self, port, timeout=10.0):
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        sess = Session(s)
        self.sessions.append(sess)
        return sess

    def connect_unix(self, name, public=True, timeout=10.0):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(str(self.queue / ("public" if public else "private") / name))
        sess = Session(s)
        self.sessions.append(sess)
        return sess

    def cleanup(self):
        for sess in self.sessions:
            try:
                sess.close()
            except OSError:
                pass
        master = self.master_pid()
        if master:
            self.seen.add(master)
            self.children()
        for pid in self.seen:
            if pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.fixture
def base():
    """A temporary directory that unprivileged daemons can traverse."""
    # under /tmp when root: $TMPDIR may sit in a directory mail_owner cannot enter
    d = Path(tempfile.mkdtemp(prefix="postern-master-", dir="/tmp" if IS_ROOT else None))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def inst(postern_build, base):
    i = Instance(postern_build, base)
    yield i
    i.cleanup()


def count(pattern, text):
    return len(re.findall(pattern, text))


# ---------------------------------------------------------------- pools


def test_spawn_on_demand_up_to_maxproc(inst):
    port = free_port()
    inst.write_master([inst.toy_line(f"127.0.0.1:{port}", "inet", maxproc="2")])
    inst.start()
    assert inst.children() == []  # nothing runs before a client comes

    a = inst.connect_inet(port)
    pid_a, _ = a.hello()
    b = inst.connect_inet(port)
    pid_b, _ = b.hello()
    assert pid_a != pid_b  # a busy process makes master start another

    c = inst.connect_inet(port)
    c.sock.settimeout(1.0)
    with pytest.raises(socket.timeout):
        c.file.readline()  # at the limit: the third client waits
    inst.wait_log(r'warning: service "127\.0\.0\.1:\d+" \(127\.0\.0\.1:\d+\) has reached '
                  r'its process limit "2": new clients may be delayed')
    assert len(inst.children()) == 2

    assert a.ask("quit") == "bye"
    c.sock.settimeout(10)
    c.file = c.sock.makefile("rw", newline="\n")
    pid_c, use = c.hello()
    assert pid_c == pid_a and use == 2  # the freed process took the waiting client
    assert b.ask("echo still here") == "still here"
    assert len(inst.children()) == 2


def test_reuse_up_to_max_use(inst):
    inst.write_main(max_use="3")
    inst.write_master([inst.toy_line("toy", maxproc="1")])
    inst.start()
    seen = []
    for _ in range(4):
        s = inst.connect_unix("toy")
        seen.append(s.hello())
        assert s.ask("quit") == "bye"
        s.close()
    first = seen[0][0]
    assert seen[:3] == [(first, 1), (first, 2), (first, 3)]
    assert seen[3][0] != first and seen[3][1] == 1
    wait_for(lambda: not pid_alive(first), what="the used-up process to exit")
    assert "warning" not in inst.logtext()


def test_idle_exit(inst):
    inst.write_main(max_idle="1s")
    inst.write_master([inst.toy_line("toy")])
    inst.start()
    s = inst.connect_unix("toy")
    pid, _ = s.hello()
    s.ask("quit")
    s.close()
    wait_for(lambda: not pid_alive(pid), timeout=10, what="the idle process to exit")
    assert pid_alive(inst.master_pid())
    s = inst.connect_unix("toy")
    pid2, use = s.hello()
    assert pid2 != pid and use == 1
    assert "warning" not in inst.logtext()


def test_crashed_child_is_logged_and_replaced(inst):
    inst.write_master([inst.toy_line("toy", maxproc="1")])
    inst.start()
    s = inst.connect_unix("toy")
    pid, _ = s.hello()
    s.file.write("crash\n")
    s.file.flush()
    assert s.file.readline() == ""  # the connection died with the process
    inst.wait_log(rf"warning: process {re.escape(str(inst.toy))} pid {pid} killed by signal 11")
    s2 = inst.connect_unix("toy")
    pid2, _ = s2.hello()
    assert pid2 != pid
    assert s2.ask("echo alive") == "alive"
    assert "throttling" not in inst.logtext()  # it had served: not a start-up failure


def test_exit_status_is_logged(inst):
    inst.write_master([inst.toy_line("toy", maxproc="1")])
    inst.start()
    s = inst.connect_unix("toy")
    pid, _ = s.hello()
    s.file.write("exit 3\n")
    s.file.flush()
    assert s.file.readline() == ""
    inst.wait_log(rf"warning: process \S+/toy pid {pid} exit status 3")


def test_failing_service_is_throttled(inst):
    inst.write_main(service_throttle_time="3s")
    inst.write_master([inst.toy_line("bad", unpriv="n", maxproc="1", args="fail-start")])
    inst.start()
    clients = [inst.connect_unix("bad") for _ in range(3)]
    inst.wait_log(r"warning: \S+/toy: bad command startup -- throttling")
    inst.wait_log(r"fatal: service bad: failing at start-up, as asked")
    time.sleep(1.0)  # within service_throttle_time: no new attempt
    assert count(r"pid \d+ exit status 1", inst.logtext()) == 1
    assert count(r"bad command startup", inst.logtext()) == 1
    # after the throttle time the waiting clients cause one more attempt
    inst.wait_log(r"pid \d+ exit status 1", timeout=10, count=2)
    time.sleep(0.5)
    assert count(r"pid \d+ exit status 1", inst.logtext()) == 2
    assert pid_alive(inst.master_pid())
    for c in clients:
        c.close()


def test_missing_program_is_throttled_not_looped(inst):
    port = free_port()
    inst.write_main(service_throttle_time="60s")
    inst.write_master([f"127.0.0.1:{port} inet n - n - - nosuchdaemon"])
    inst.start()
    c = inst.connect_inet(port)
    inst.wait_log(r"fatal: exec \S+/libexec/nosuchdaemon: No such file or directory")
    inst.wait_log(r"nosuchdaemon: bad command startup -- throttling")
    time.sleep(1.0)
    assert count(r"exec \S+nosuchdaemon", inst.logtext()) == 1
    c.close()
    assert pid_alive(inst.master_pid())


def test_wakeup_timer_triggers_service(inst):
    trig = inst.base / "trigger.log"
    inst.write_master([
        inst.toy_line("tick", unpriv="n", wakeup="1", maxproc="1", args=f"trigger {trig}"),
        inst.toy_line("fifotick", "fifo", unpriv="n", wakeup="1", maxproc="1",
                      args=f"trigger {trig}.fifo"),
        inst.toy_line("lazy", unpriv="n", wakeup="1?", maxproc="1",
                      args=f"trigger {trig}.lazy"),
    ])
    inst.start()
    wait_for(lambda: trig.exists() and trig.read_text().count(" W\n") >= 3, timeout=10,
             what="three wakeups")
    pids = {line.split()[0] for line in trig.read_text().splitlines()}
    assert len(pids) == 1  # one long-lived trigger process took them all
    wait_for(lambda: Path(f"{trig}.fifo").exists()
             and Path(f"{trig}.fifo").read_text().count("W") >= 2, timeout=10,
             what="fifo wakeups")
    assert (inst.queue / "public" / "fifotick").is_fifo()
    # a conditional wakeup never starts an unused service
    assert not Path(f"{trig}.lazy").exists()


# ---------------------------------------------------------------- reload, stop


def test_reload_adds_changes_and_removes_services(inst):
    port_b, port_c = free_port(), free_port()
    inst.write_master([
        inst.toy_line("gone"),
        inst.toy_line(f"127.0.0.1:{port_b}", "inet", maxproc="3"),
    ])
    inst.start()
    master = inst.master_pid()
    g = inst.connect_unix("gone")
    g.hello()
    g.ask("quit")
    b = inst.connect_inet(port_b)
    pid_b, _ = b.hello()  # a session in progress across the reload

    inst.write_master([
        inst.toy_line(f"127.0.0.1:{port_b}", "inet", maxproc="1"),
        inst.toy_line(f"127.0.0.1:{port_c}", "inet"),
    ])
    r = inst.postern("reload")
    assert r.returncode == 0, r.stderr
    assert "refreshing the postern mail system" in r.stderr
    inst.wait_log(r"reload -- version \S+, configuration ")
    wait_for(lambda: not (inst.queue / "public" / "gone").exists(),
             what="the removed service's socket to go")

    c = inst.connect_inet(port_c)  # the added service
    pid_c, _ = c.hello()
    assert c.ask("echo new") == "new"
    assert b.ask("echo old session") == "old session"  # not cut
    b2 = inst.connect_inet(port_b)  # the changed service: a new process
    pid_b2, _ = b2.hello()
    assert pid_b2 != pid_b
    assert b.ask("quit") == "bye"
    wait_for(lambda: not pid_alive(pid_b), what="the retired process to exit")
    assert inst.master_pid() == master and pid_alive(master)


def test_reload_keeps_unchanged_unix_services_reachable(inst):
    """An unchanged unix service keeps its socket file across a reload."""
    inst.write_master([inst.toy_line("stays"), inst.toy_line("stays2", maxproc="2")])
    inst.start()
    before = inst.connect_unix("stays")
    before.hello()
    before.ask("quit")
    r = inst.postern("reload")
    assert r.returncode == 0, r.stderr
    inst.wait_log(r"reload -- version \S+, configuration ")
    time.sleep(0.3)
    for name in ("stays", "stays2"):
        assert (inst.queue / "public" / name).is_socket(), name
        c = inst.connect_unix(name)
        c.hello()
        assert c.ask("echo after reload") == "after reload"
        c.ask("quit")


def test_reload_with_bad_master_cf_keeps_running(inst):
    inst.write_master([inst.toy_line("toy")])
    inst.start()
    (inst.etc / "master.cf").write_text("toy unix n - n - - \n")  # no command
    r = inst.postern("reload")
    assert r.returncode == 1
    s = inst.connect_unix("toy")
    s.hello()
    # a master.cf that parses but cannot be used is refused by master itself
    inst.write_master([inst.toy_line("toy", maxproc="many")])
    os.kill(inst.master_pid(), signal.SIGHUP)
    inst.wait_log(r"many.* -- configuration not reloaded")
    s2 = inst.connect_unix("toy")
    s2.hello()


def test_stop_leaves_no_process_behind(inst):
    port = free_port()
    inst.write_master([inst.toy_line(f"127.0.0.1:{port}", "inet"), inst.toy_line("toy")])
    master = inst.start()
    sessions = [inst.connect_inet(port), inst.connect_inet(port), inst.connect_unix("toy")]
    for s in sessions:
        s.hello()
    sessions[0].ask("quit")
    kids = inst.children()
    assert len(kids) == 3
    t0 = time.monotonic()
    r = inst.postern("stop")
    assert r.returncode == 0, r.stderr
    assert "stopping the postern mail system" in r.stderr
    assert time.monotonic() - t0 < 10
    assert not pid_alive(master)
    for pid in kids:
        wait_for(lambda: not pid_alive(pid), timeout=5, what=f"child {pid} to exit")
    assert inst.postern("status").returncode == 1
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    assert "terminating on signal 15" in inst.logtext()


def test_stop_ends_a_busy_process_after_master_stop_time(inst):
    inst.write_master([inst.toy_line("toy")])
    master = inst.start()
    s = inst.connect_unix("toy")
    pid, _ = s.hello()
    s.file.write("sleep 60\n")
    s.file.flush()
    t0 = time.monotonic()
    r = inst.postern("stop")
    assert r.returncode == 0
    elapsed = time.monotonic() - t0
    assert 1.5 <= elapsed < 9, elapsed  # master_stop_time = 2s, then SIGTERM
    assert not pid_alive(master) and not pid_alive(pid)


def test_abort_stops_at_once(inst):
    inst.write_master([inst.toy_line("toy")])
    master = inst.start()
    s = inst.connect_unix("toy")
    pid, _ = s.hello()
    s.file.write("sleep 60\n")
    s.file.flush()
    t0 = time.monotonic()
    r = inst.postern("abort")
    assert r.returncode == 0, r.stderr
    assert "aborting the postern mail system" in r.stderr
    assert time.monotonic() - t0 < 1.5
    assert not pid_alive(master)
    wait_for(lambda: not pid_alive(pid), timeout=5, what="the busy child to die")


def test_second_master_is_refused(inst):
    inst.write_master([inst.toy_line("toy")])
    master = inst.start()
    r = run([inst.master_bin, "-c", inst.etc, "-w"])
    assert r.returncode == 1
    assert f"the postern mail system is already running as PID {master}" in r.stderr
    r = inst.postern("start")
    assert r.returncode == 1
    assert "fatal: the postern mail system is already running" in r.stderr
    r = run([inst.master_bin, "-c", inst.etc, "-t"])
    assert r.returncode == 1  # -t: 0 only when no master runs
    assert inst.master_pid() == master and pid_alive(master)


def test_master_refuses_unsafe_queue_directory(inst):
    inst.write_master([inst.toy_line("toy")])
    assert inst.postern("check").returncode == 0
    inst.queue.chmod(0o777)
    r = run([inst.master_bin, "-c", inst.etc, "-w"])
    assert r.returncode == 1
    assert "is writable by group or others" in r.stderr
    assert inst.master_pid() is None


def test_unix_sockets_owners_and_modes(inst):
    inst.write_master([inst.toy_line("pub"), inst.toy_line("priv", private="y")])
    inst.start()
    pub = os.lstat(inst.queue / "public" / "pub")
    priv = os.lstat(inst.queue / "private" / "priv")
    assert pub.st_mode & 0o777 == 0o666
    assert priv.st_mode & 0o777 == 0o600
    owner = pwd.getpwnam(inst.owner).pw_uid
    assert pub.st_uid == owner and priv.st_uid == owner
    s = inst.connect_unix("priv", public=False)
    assert s.hello()


# ---------------------------------------------------------------- privileges


@root_only
def test_unprivileged_daemon_runs_as_mail_owner(inst):
    inst.write_master([inst.toy_line("toy", unpriv="y"), inst.toy_line("rooty", unpriv="n")])
    inst.start()
    pw = pwd.getpwnam(inst.owner)
    s = inst.connect_unix("toy")
    pid, _ = s.hello()
    st = proc_status(pid)
    assert st["Uid"] == [str(pw.pw_uid)] * 4
    assert st["Gid"] == [str(pw.pw_gid)] * 4
    assert st["Groups"] in ([], [str(pw.pw_gid)])  # no other groups
    assert "cwd=" + str(inst.queue) in s.ask("info")
    r = inst.connect_unix("rooty")
    rpid, _ = r.hello()
    assert proc_status(rpid)["Uid"][1] == "0"  # unpriv = n keeps root


@root_only
def test_chrooted_daemon_has_queue_as_root(inst):
    inst.write_master([inst.toy_line("jail", unpriv="y", chroot="y")])
    inst.start()
    s = inst.connect_unix("jail")
    pid, _ = s.hello()
    assert os.readlink(f"/proc/{pid}/root") == str(inst.queue)
    assert "cwd=/ " in s.ask("info")
    assert proc_status(pid)["Uid"][1] == str(pwd.getpwnam(inst.owner).pw_uid)


@root_only
def test_master_refuses_root_or_unknown_mail_owner(inst):
    inst.write_master([inst.toy_line("toy")])
    assert inst.postern("check").returncode == 0
    inst.write_main(mail_owner="root")
    r = run([inst.master_bin, "-c", inst.etc, "-w"])
    assert r.returncode == 1
    assert "parameter mail_owner: user root has privileged user ID" in r.stderr
    inst.write_main(mail_owner="no-such-user-postern")
    r = run([inst.master_bin, "-c", inst.etc, "-w"])
    assert r.returncode == 1
    assert "unknown user name value: no-such-user-postern" in r.stderr


@root_only
def test_master_refuses_queue_owned_by_someone_else(inst):
    inst.write_master([inst.toy_line("toy")])
    assert inst.postern("check").returncode == 0
    os.chown(inst.queue, pwd.getpwnam(inst.owner).pw_uid, -1)
    r = run([inst.master_bin, "-c", inst.etc, "-w"])
    assert r.returncode == 1
    assert "not by root" in r.stderr


@root_only
def test_non_root_instance_runs_everything_as_that_user(postern_build, base):
    user = "nobody"
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        pytest.skip("no nobody account")
    inst = Instance(postern_build, base, unpriv_user=user)
    try:
        os.chown(base, pw.pw_uid, pw.pw_gid)
        for p in (inst.etc, inst.logdir, inst.log):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        inst.write_master([inst.toy_line("toy", unpriv="y", chroot="y")])
        for p in inst.etc.iterdir():
            os.chown(p, pw.pw_uid, pw.pw_gid)
        r = inst.postern("check")
        assert r.returncode == 0, r.stderr
        assert os.stat(inst.queue / "private").st_uid == pw.pw_uid
        master = inst.start()
        assert proc_status(master)["Uid"][1] == str(pw.pw_uid)
        s = inst.connect_unix("toy")
        pid, _ = s.hello()
        assert proc_status(pid)["Uid"][1] == str(pw.pw_uid)
        assert os.readlink(f"/proc/{pid}/root") == "/"  # no chroot without root
        s.close()
        r = inst.postern("stop")
        assert r.returncode == 0, r.stderr
        assert not pid_alive(master)
    finally:
        inst.cleanup()


# ---------------------------------------------------------------- skeletons


def test_multi_server_serves_many_clients_in_one_process(inst):
    inst.write_master([inst.toy_line("multi", maxproc="1", args="multi")])
    inst.start()
    a = inst.connect_unix("multi")
    b = inst.connect_unix("multi")
    pid_a, use_a = a.hello()
    pid_b, use_b = b.hello()
    assert pid_a == pid_b and (use_a, use_b) == (1, 1)
    assert a.ask("echo one") == "one"
    assert b.ask("echo two") == "two"
    assert a.ask("quit") == "bye"
    assert b.ask("echo still") == "still"
    assert b.ask("quit") == "bye"
    c = inst.connect_unix("multi")
    assert c.hello() == (pid_a, 3)  # two connections served before this one
    assert "process limit" not in inst.logtext()


def test_pass_service_receives_connections(inst):
    inst.write_master([inst.toy_line("handoff", "pass")])
    inst.start()
    ours, theirs = socket.socketpair()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(inst.queue / "public" / "handoff"))
        socket.send_fds(s, [b"x"], [theirs.fileno()])
    theirs.close()
    sess = Session(ours)
    inst.sessions.append(sess)
    pid, _ = sess.hello()
    assert "type=pass" in sess.ask("info")
    assert sess.ask("quit") == "bye"


def test_unix_dgram_trigger_service(inst):
    trig = inst.base / "dgram.log"
    inst.write_master([inst.toy_line("dtick", "unix-dgram", unpriv="n", wakeup="1", maxproc="1",
                                     args=f"trigger {trig}")])
    inst.start()
    wait_for(lambda: trig.exists() and "W" in trig.read_text(), what="a datagram wakeup")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(b"hello", str(inst.queue / "public" / "dtick"))
    wait_for(lambda: "hello" in trig.read_text(), what="our datagram")


def test_stand_alone_mode(inst):
    assert inst.postern("check").returncode == 0
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen([str(inst.toy), "-c", str(inst.etc), "-S", "-n", "alone"],
                            stdin=theirs, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    inst.seen.add(proc.pid)
    theirs.close()
    sess = Session(ours)
    pid, use = sess.hello()
    assert pid == proc.pid and use == 1
    assert "service=alone" in sess.ask("info")
    assert sess.ask("quit") == "bye"
    assert proc.wait(timeout=10) == 0


def test_daemon_refuses_to_run_without_master(inst):
    assert inst.postern("check").returncode == 0
    r = run([inst.toy, "-c", inst.etc], stdin=subprocess.DEVNULL)
    assert r.returncode == 1
    assert "no status descriptor 3" in r.stderr or "no status descriptor 3" in inst.logtext()


# ---------------------------------------------------------------- environment, limits


def test_daemons_get_only_the_imported_environment(inst):
    inst.write_main(import_environment="MAIL_CONFIG TZ LANG=C FIXED=yes")
    inst.write_master([inst.toy_line("toy")])
    env = dict(os.environ, TZ="UTC", SECRET_POSTERN_TEST="leak", LANG="fr_FR.UTF-8")
    r = run([inst.postern_bin, "-c", inst.etc, "start"], env=env)
    assert r.returncode == 0, r.stderr
    inst.seen.add(inst.master_pid())
    s = inst.connect_unix("toy")
    s.hello()
    assert s.ask("env SECRET_POSTERN_TEST") == "(unset)"
    assert s.ask("env PATH") == "(unset)"
    assert s.ask("env TZ") == "UTC"
    assert s.ask("env LANG") == "C"
    assert s.ask("env FIXED") == "yes"
    assert s.ask("env MAIL_CONFIG") == str(inst.etc)


def test_watchdog_ends_a_stuck_request(inst):
    inst.write_main(daemon_timeout="1s")
    inst.write_master([inst.toy_line("toy")])
    inst.start()
    s = inst.connect_unix("toy")
    pid, _ = s.hello()
    s.file.write("sleep 30\n")
    s.file.flush()
    inst.wait_log(rf"warning: process \S+/toy pid {pid} killed by signal 14", timeout=10)


def test_master_service_disable(inst):
    inst.write_main(master_service_disable="off.unix")
    inst.write_master([inst.toy_line("on"), inst.toy_line("off")])
    inst.start()
    assert (inst.queue / "public" / "on").exists()
    assert not (inst.queue / "public" / "off").exists()


def test_ipv6_loopback(inst):
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    port = free_port()
    inst.write_main(inet_protocols="all", inet_interfaces="loopback-only")
    inst.write_master([inst.toy_line(str(port), "inet")])
    inst.start()
    for family, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect((addr, port))
        sess = Session(s)
        inst.sessions.append(sess)
        assert sess.hello()
        assert sess.ask("quit") == "bye"
    # with ipv4 only, the IPv6 address is not used
    inst.write_main(inet_protocols="ipv4")
    assert inst.postern("reload").returncode == 0
    inst.wait_log(r"reload -- ")
    def v6_refused():
        try:
            socket.create_connection(("::1", port), timeout=2).close()
            return False
        except OSError:
            return True
    wait_for(v6_refused, what="the IPv6 socket to close")


def test_long_running_trigger_server_ignores_max_idle(inst):
    trig = inst.base / "long.log"
    inst.write_main(max_idle="1s", max_use="2")
    inst.write_master([
        inst.toy_line("long", unpriv="n", wakeup="1", maxproc="1", args=f"long-trigger {trig}"),
    ])
    inst.start()
    wait_for(lambda: trig.exists() and trig.read_text().count("W") >= 4, timeout=15,
             what="four wakeups")
    pids = {line.split()[0] for line in trig.read_text().splitlines()}
    assert len(pids) == 1  # neither max_use 2 nor max_idle 1s ended it


@root_only
def test_privileged_daemon_refuses_to_run_unprivileged(inst):
    inst.write_master([inst.toy_line("priv", unpriv="y", args="privileged"),
                       inst.toy_line("okpriv", unpriv="n", args="privileged")])
    inst.start()
    s = inst.connect_unix("okpriv")
    assert s.hello()
    c = inst.connect_unix("priv")
    inst.wait_log(r"fatal: service priv requires privileged operation")
    inst.wait_log(r"toy: bad command startup -- throttling")
    c.close()


def test_overrides_may_name_the_service(inst):
    inst.write_master([inst.toy_line("named", unpriv="n") + " -o syslog_name=postern/$service_name",
                       inst.toy_line("crashy", unpriv="n", args="-o max_use=1 fail-start")])
    inst.start()
    c = inst.connect_unix("crashy")
    inst.wait_log(r"postern/toy\[\d+\]: fatal: service crashy: failing")
    c.close()
    s = inst.connect_unix("named")
    s.hello()
    s.file.write("exit 0\n")
    s.file.flush()
    s.close()
    s = inst.connect_unix("named")
    pid, _ = s.hello()
    s.file.write("crash\n")
    s.file.flush()
    inst.wait_log(rf"killed by signal 11")
    # the toy's own lines carry the overridden tag
    r = run([inst.toy, "-c", inst.etc, "-n", "named", "-o", "syslog_name=postern/$service_name"],
            stdin=subprocess.DEVNULL)
    assert r.returncode == 1
    assert re.search(r"postern/named/toy\[\d+\]: fatal: no status descriptor 3", inst.logtext())
