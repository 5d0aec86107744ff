"""make install: PREFIX, DESTDIR and SYSCONFDIR honoured, configuration kept."""
import os

from conftest import ROOT, run


def install(postern_build, dest):
    return run(["make", "-C", ROOT, "--no-print-directory", f"BUILD={postern_build}",
                "install", f"DESTDIR={dest}", "PREFIX=/usr", "SYSCONFDIR=/etc/postern"],
               timeout=300)


def test_install_into_destdir(postern_build, tmp_path):
    r = install(postern_build, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    for prog in ("postern", "postconf", "postmap", "postalias", "newaliases", "sendmail"):
        assert os.access(tmp_path / "usr/sbin" / prog, os.X_OK), prog
    for daemon in ("master", "smtpd", "cleanup", "qmgr"):
        assert os.access(tmp_path / "usr/libexec/postern" / daemon, os.X_OK), daemon
    assert (tmp_path / "usr/share/man/man1/postconf.1").exists()
    assert (tmp_path / "usr/share/man/man5/postconf.5").exists()
    assert (tmp_path / "usr/share/man/man8/master.8").exists()
    assert (tmp_path / "usr/lib/systemd/system/postern.service").exists()
    main_cf = (tmp_path / "etc/postern/main.cf").read_text()
    assert "daemon_directory = /usr/libexec/postern" in main_cf
    assert "command_directory = /usr/sbin" in main_cf
    assert (tmp_path / "etc/postern/master.cf").exists()


def test_reinstall_keeps_the_admins_main_cf(postern_build, tmp_path):
    assert install(postern_build, tmp_path).returncode == 0
    main_cf = tmp_path / "etc/postern/main.cf"
    main_cf.write_text("myhostname = mine.example\n")
    r = install(postern_build, tmp_path)
    assert r.returncode == 0, r.stderr
    assert main_cf.read_text() == "myhostname = mine.example\n"
    assert (tmp_path / "etc/postern/main.cf.postern-dist").exists()
