"""make run: the embedded default instance (tools/run-instance.sh).

Starts the script as `make run` would (with RUN_DIR, RUN_PORT and
POSTERN_BUILD pointing at test locations), sends mail to @localhost over
SMTP and through sendmail, finds it in the Maildirs under RUN_DIR/mail,
and stops the instance the way Ctrl-C does (the script's signal trap).
Run as root and, when root, also as an ordinary user (nobody).
"""
import os
import pwd
import signal
import smtplib
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ROOT, free_port, run

IS_ROOT = os.geteuid() == 0


def wait_for(pred, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def maildir_files(run_dir: Path, user: str):
    d = run_dir / "mail" / user / "new"
    return sorted(d.iterdir()) if d.is_dir() else []


def exercise(postern_build, run_dir: Path, preexec=None):
    port = free_port()
    out = run_dir.parent / "run.out"
    env = dict(os.environ, RUN_DIR=str(run_dir), RUN_PORT=str(port),
               POSTERN_BUILD=str(postern_build))
    with open(out, "w") as f:
        proc = subprocess.Popen(["bash", str(ROOT / "tools" / "run-instance.sh")], env=env,
                                stdout=f, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=preexec)
    etc = run_dir / "etc"
    postern = postern_build / "sbin" / "postern"
    try:
        wait_for(lambda: "Ctrl-C stops postern" in out.read_text(), what="the instance")
        text = out.read_text()
        assert f"SMTP on 127.0.0.1:{port}" in text
        assert "swaks --server" in text and "sendmail" in text
        assert f"{run_dir}/mail/alice/new/" in text

        with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
            c.sendmail("you@example.com", ["alice@localhost"],
                       "Subject: over smtp\r\n\r\nhello alice\r\n")
        r = subprocess.run([str(postern_build / "sbin" / "sendmail"), "-C", str(etc),
                            "-f", "you@example.com", "bob@localhost"],
                           input=b"Subject: by sendmail\n\nhello bob\n", capture_output=True,
                           timeout=60, preexec_fn=preexec)
        assert r.returncode == 0, r.stderr

        alice = wait_for(lambda: maildir_files(run_dir, "alice"), what="alice's mail")
        bob = wait_for(lambda: maildir_files(run_dir, "bob"), what="bob's mail")
        assert "hello alice" in alice[0].read_text()
        assert "Subject: by sendmail" in bob[0].read_text()
        log = (run_dir / "maillog").read_text()
        assert "status=sent (delivered to maildir)" in log
        # a name that is not a safe directory name is not delivered anywhere odd
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
            try:
                c.sendmail("you@example.com", [".evil@localhost"], "Subject: x\r\n\r\nx\r\n")
            except smtplib.SMTPException:
                pass
        time.sleep(0.5)
        assert not (run_dir / ".evil").exists() and not (run_dir / "mail" / ".evil").exists()

        proc.send_signal(signal.SIGTERM)  # what the trap does on Ctrl-C
        proc.wait(timeout=30)
        assert run([postern, "-c", etc, "status"]).returncode == 1
        assert "stopping the postern mail system" in out.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            run([postern, "-c", etc, "abort"])
            proc.wait(timeout=10)


def test_make_run_instance(postern_build, tmp_path):
    exercise(postern_build, tmp_path / "run")


@pytest.mark.skipif(not IS_ROOT, reason="needs root to act as an ordinary user")
def test_make_run_as_ordinary_user(postern_build):
    nobody = pwd.getpwnam("nobody")
    base = Path(tempfile.mkdtemp(prefix="postern-run-"))
    try:
        os.chmod(base, 0o755)
        os.chown(base, nobody.pw_uid, nobody.pw_gid)

        def as_nobody():
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
        exercise(postern_build, base / "run", preexec=as_nobody)
    finally:
        subprocess.run(["rm", "-rf", str(base)])
