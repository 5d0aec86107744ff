"""postconf(1): showing and editing main.cf and master.cf.

Runs build/sbin/postconf against private configuration directories and
checks Postfix-compatible output, in-place editing that keeps comments and
order, unused-parameter warnings, and the generated postconf(5) page.
"""
import os
import re
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import ROOT, run


@pytest.fixture
def postconf(postern_build):
    exe = postern_build / "sbin" / "postconf"
    if not exe.exists():
        pytest.fail(f"{exe} is not built")

    def call(confdir, *args, env=None):
        e = dict(os.environ)
        e.pop("MAIL_CONFIG", None)
        if env:
            e.update(env)
        cmd = [exe] + (["-c", confdir] if confdir is not None else []) + list(args)
        return run(cmd, env=e)

    return call


def lines(text):
    return [l for l in text.splitlines() if l]


def warnings(stderr):
    return [l for l in stderr.splitlines() if "warning:" in l]


PRODUCTION_MAIN_CF = """\
# Production-style main.cf, the way people write them for Postfix.
compatibility_level = 3.6
myhostname = mx1.example.com
mydomain = example.com
myorigin = $mydomain
mydestination = $myhostname, localhost.$mydomain, localhost
mynetworks = 127.0.0.0/8 [::1]/128
    192.0.2.0/24
inet_interfaces = all
inet_protocols = ipv4
relayhost =

# virtual mailboxes
virtual_mailbox_domains = example.org, example.net
virtual_mailbox_base = /var/mail/vhosts
virtual_mailbox_maps = hash:/etc/postfix/vmailbox
virtual_uid_maps = static:5000

# TLS
smtpd_tls_cert_file = /etc/ssl/certs/mx1.pem
smtpd_tls_key_file = /etc/ssl/private/mx1.key
smtpd_tls_security_level = may
smtp_tls_security_level = may

# SASL
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus

# restrictions, over continuation lines with a comment inside
smtpd_recipient_restrictions =
    permit_mynetworks,
    permit_sasl_authenticated,
#   check_policy_service unix:private/policy,
    reject_unauth_destination,
    reject_rbl_client $rbl_server
rbl_server = zen.example.org
smtpd_banner = $myhostname ESMTP $mail_name
"""


# ---------------------------------------------------------------------------
# acceptance


def test_edit_then_show(postconf, confdir):
    (confdir / "main.cf").write_text("# leading comment\n\nrelayhost = [smtp.example.net]\n"
                                     "# trailing comment\n")
    r = postconf(confdir, "-e", "myhostname = mail.example.com")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""
    r = postconf(confdir, "-h", "myhostname")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "mail.example.com\n"
    assert (confdir / "main.cf").read_text() == (
        "# leading comment\n\nrelayhost = [smtp.example.net]\n# trailing comment\n"
        "myhostname = mail.example.com\n")


def test_n_lists_exactly_what_is_set(postconf, confdir):
    (confdir / "main.cf").write_text("relayhost = [r.example]\nmyhostname = h.example.com\n"
                                     "empty_one =\nmyorigin = $mydomain\n")
    r = postconf(confdir, "-n")
    assert r.returncode == 0
    assert r.stdout == ("empty_one =\nmyhostname = h.example.com\n"
                        "myorigin = $mydomain\nrelayhost = [r.example]\n")


def test_x_expands(postconf, confdir):
    (confdir / "main.cf").write_text("myhostname = mail.example.com\n"
                                     "myorigin = $mydomain\n")
    r = postconf(confdir, "-x", "myorigin", "mydomain", "mydestination")
    assert r.returncode == 0, r.stderr
    assert lines(r.stdout) == [
        "myorigin = example.com",
        "mydomain = example.com",
        "mydestination = mail.example.com, localhost.example.com, localhost",
    ]
    r = postconf(confdir, "myorigin", "mydestination")
    assert lines(r.stdout) == [
        "myorigin = $mydomain",
        "mydestination = $myhostname, localhost.$mydomain, localhost",
    ]
    r = postconf(confdir, "-xh", "myorigin")
    assert r.stdout == "example.com\n"


def test_production_main_cf(postconf, confdir):
    (confdir / "main.cf").write_text(PRODUCTION_MAIN_CF)
    r = postconf(confdir, "-n")
    assert r.returncode == 0, r.stderr
    out = dict(l.split(" = ", 1) if " = " in l else (l.rstrip(" ="), "")
               for l in lines(r.stdout))
    assert out["mynetworks"] == "127.0.0.0/8 [::1]/128 192.0.2.0/24"
    assert out["smtpd_recipient_restrictions"] == (
        "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, "
        "reject_rbl_client $rbl_server")
    assert out["relayhost"] == ""
    assert len(out) == PRODUCTION_MAIN_CF.count(" =")
    r = postconf(confdir, "-x", "myorigin", "mydestination", "smtpd_recipient_restrictions")
    assert lines(r.stdout) == [
        "myorigin = example.com",
        "mydestination = mx1.example.com, localhost.example.com, localhost",
        "smtpd_recipient_restrictions = permit_mynetworks, permit_sasl_authenticated, "
        "reject_unauth_destination, reject_rbl_client zen.example.org",
    ]
    # one warning per name that nothing registered or referenced uses
    warned = warnings(r.stderr)
    names = [re.search(r"unused parameter: ([^=]+)=", w).group(1) for w in warned]
    assert len(names) == len(set(names))
    assert "rbl_server" not in names  # referenced as $rbl_server
    for w in warned:
        assert w.startswith(f"postconf: warning: {confdir}/main.cf: unused parameter: ")
    for name in names:
        assert f"\n{name} =" in "\n" + PRODUCTION_MAIN_CF
    # every warned name really is unknown to postconf -d
    if names:
        d = postconf(None, "-d", *names)
        assert len(warnings(d.stderr)) == len(names)


def test_unknown_parameters_warn_once_and_nothing_else(postconf, confdir):
    (confdir / "main.cf").write_text("myhostname = h.example.com\nbogus_one = 1\n"
                                     "bogus_two = a,\n  b\n")
    r = postconf(confdir, "-n")
    assert r.returncode == 0
    assert r.stderr.splitlines() == [
        f"postconf: warning: {confdir}/main.cf: unused parameter: bogus_one=1",
        f"postconf: warning: {confdir}/main.cf: unused parameter: bogus_two=a, b",
    ]
    assert "bogus_one = 1" in r.stdout


def test_config_from_environment(postconf, confdir):
    (confdir / "main.cf").write_text("myhostname = env.example.com\n")
    r = postconf(None, "-h", "myhostname", "config_directory",
                 env={"MAIL_CONFIG": str(confdir)})
    assert r.returncode == 0, r.stderr
    assert lines(r.stdout) == ["env.example.com", str(confdir)]
    # -c wins over MAIL_CONFIG
    other = confdir.parent / "other"
    other.mkdir()
    (other / "main.cf").write_text("myhostname = other.example.com\n")
    r = postconf(other, "-h", "myhostname", env={"MAIL_CONFIG": str(confdir)})
    assert r.stdout == "other.example.com\n"


# ---------------------------------------------------------------------------
# showing


def test_all_parameters(postconf, confdir):
    (confdir / "main.cf").write_text("relayhost = [r.example]\n")
    r = postconf(confdir)
    assert r.returncode == 0, r.stderr
    out = lines(r.stdout)
    names = [l.split(" =")[0] for l in out]
    assert names == sorted(names)
    assert "relayhost = [r.example]" in out
    assert "myorigin = $myhostname" in out
    assert f"config_directory = {confdir}" in out
    d = postconf(None, "-d")
    assert [l.split(" =")[0] for l in lines(d.stdout)] == names


def test_defaults(postconf, tmp_path):
    missing = tmp_path / "nowhere"
    r = postconf(missing, "-d", "mail_name", "syslog_name", "relayhost", "myorigin",
                 "mynetworks_style", "inet_interfaces", "mydestination")
    assert r.returncode == 0, r.stderr
    assert lines(r.stdout) == [
        "mail_name = Postern",
        "syslog_name = postern",
        "relayhost =",
        "myorigin = $myhostname",
        "mynetworks_style = host",
        "inet_interfaces = all",
        "mydestination = $myhostname, localhost.$mydomain, localhost",
    ]
    r = postconf(missing, "-dh", "myhostname", "mydomain", "mynetworks")
    host, domain, nets = lines(r.stdout)
    assert "." in host and host.split(".", 1)[1] == domain
    assert "127.0.0.0/8" in nets.split()
    r = postconf(missing, "-dx", "myorigin")
    assert r.stdout == f"myorigin = {host}\n"


def test_d_ignores_main_cf(postconf, confdir):
    (confdir / "main.cf").write_text("relayhost = [r.example]\nbogus = 1\n")
    r = postconf(confdir, "-d", "relayhost")
    assert r.stdout == "relayhost =\n"
    assert r.stderr == ""


def test_unknown_name(postconf, confdir):
    r = postconf(confdir, "relayhost", "no_such_parameter")
    assert r.returncode == 1
    assert r.stdout == "relayhost =\n"
    assert r.stderr == "postconf: warning: no_such_parameter: unknown parameter\n"
    r = postconf(confdir, "-d", "no_such_parameter")
    assert r.returncode == 1


def test_user_defined_parameter_is_shown(postconf, confdir):
    (confdir / "main.cf").write_text("my_rbl = zen.example.org\n"
                                     "relay_domains = $my_rbl\n")
    r = postconf(confdir, "-h", "my_rbl")
    assert r.returncode == 0
    assert r.stdout == "zen.example.org\n"
    assert r.stderr == ""


def test_missing_main_cf_is_fatal(postconf, tmp_path):
    r = postconf(tmp_path / "nowhere", "-n")
    assert r.returncode == 1
    assert r.stderr == (f"postconf: fatal: open {tmp_path}/nowhere/main.cf: "
                        "No such file or directory\n")


def test_expansion_loop_is_reported(postconf, confdir):
    (confdir / "main.cf").write_text("myorigin = $myhostname\nmyhostname = $myorigin\n")
    r = postconf(confdir, "-x", "myorigin")
    assert r.returncode == 1
    assert "recursion" in r.stderr
    r = postconf(confdir, "myorigin")
    assert r.returncode == 0
    assert r.stdout == "myorigin = $myhostname\n"


def test_hostile_main_cf(postconf, confdir):
    (confdir / "main.cf").write_bytes(b"a = 1\nb = x\0y\n")
    r = postconf(confdir, "-n")
    assert r.returncode == 1
    assert f"{confdir}/main.cf, line 2: NUL byte" in r.stderr
    (confdir / "main.cf").write_text("a = 1\njust words\n")
    r = postconf(confdir, "-n")
    assert r.returncode == 1
    assert "line 2: missing '=' after attribute name" in r.stderr
    (confdir / "main.cf").write_text("a = " + "x" * 300000 + "\n")
    r = postconf(confdir, "-n")
    assert r.returncode == 1
    assert "line is longer than" in r.stderr
    (confdir / "main.cf").write_text("myorigin = ${myhostname\n")
    r = postconf(confdir, "-x", "myorigin")
    assert r.returncode == 1
    assert "missing '}'" in r.stderr


# ---------------------------------------------------------------------------
# editing main.cf


EDIT_BEFORE = """\
# postern main.cf
#
myhostname = old.example.com
relayhost =

smtpd_recipient_restrictions =
    permit_mynetworks,
# keep this comment
    reject_unauth_destination
mydestination = $myhostname
# end
"""


def test_e_replaces_with_continuations_and_appends(postconf, confdir):
    (confdir / "main.cf").write_text(EDIT_BEFORE)
    os.chmod(confdir / "main.cf", 0o640)
    r = postconf(confdir, "-e", "smtpd_recipient_restrictions=permit_mynetworks, reject",
                 "myhostname = new.example.com", "new_param=yes")
    assert r.returncode == 0, r.stderr
    assert (confdir / "main.cf").read_text() == """\
# postern main.cf
#
myhostname = new.example.com
relayhost =

smtpd_recipient_restrictions = permit_mynetworks, reject
# keep this comment
mydestination = $myhostname
# end
new_param = yes
"""
    assert (os.stat(confdir / "main.cf").st_mode & 0o777) == 0o640
    assert [p.name for p in confdir.iterdir()] == ["main.cf"]  # no temp files left


def test_e_is_implied_by_equals(postconf, confdir):
    r = postconf(confdir, "relayhost=[x.example]")
    assert r.returncode == 0, r.stderr
    assert (confdir / "main.cf").read_text() == "relayhost = [x.example]\n"
    r = postconf(confdir, "-e", "relayhost=")
    assert (confdir / "main.cf").read_text() == "relayhost =\n"


def test_e_duplicates_collapse(postconf, confdir):
    (confdir / "main.cf").write_text("a = 1\nb = 2\na = 3\n")
    r = postconf(confdir, "-e", "a=4", "a=5")
    assert r.returncode == 0, r.stderr
    assert (confdir / "main.cf").read_text() == "a = 5\nb = 2\n"


def test_e_file_without_final_newline(postconf, confdir):
    (confdir / "main.cf").write_text("a = 1")
    postconf(confdir, "-e", "b=2")
    assert (confdir / "main.cf").read_text() == "a = 1\nb = 2\n"


def test_e_rejects_bad_input(postconf, confdir):
    (confdir / "main.cf").write_text(EDIT_BEFORE)
    for bad in ["no_equals_here_but -e", "bad name=1", "=1", "a=line\nbreak", "a${b}=1"]:
        r = postconf(confdir, "-e", bad)
        assert r.returncode == 1, bad
        assert r.stderr.startswith("postconf: "), r.stderr
    assert (confdir / "main.cf").read_text() == EDIT_BEFORE


def test_e_missing_main_cf(postconf, tmp_path):
    r = postconf(tmp_path, "-e", "a=1")
    assert r.returncode == 1
    assert "open" in r.stderr and "No such file or directory" in r.stderr
    assert not (tmp_path / "main.cf").exists()


def test_X_removes(postconf, confdir):
    (confdir / "main.cf").write_text(EDIT_BEFORE + "relayhost = again\n")
    r = postconf(confdir, "-X", "smtpd_recipient_restrictions", "relayhost", "not_there")
    assert r.returncode == 0, r.stderr
    assert (confdir / "main.cf").read_text() == """\
# postern main.cf
#
myhostname = old.example.com

# keep this comment
mydestination = $myhostname
# end
"""


def test_comment_out(postconf, confdir):
    (confdir / "main.cf").write_text(EDIT_BEFORE)
    r = postconf(confdir, "-#", "smtpd_recipient_restrictions", "myhostname")
    assert r.returncode == 0, r.stderr
    assert (confdir / "main.cf").read_text() == """\
# postern main.cf
#
#myhostname = old.example.com
relayhost =

#smtpd_recipient_restrictions =
#    permit_mynetworks,
# keep this comment
#    reject_unauth_destination
mydestination = $myhostname
# end
"""
    r = postconf(confdir, "-n")
    assert lines(r.stdout) == ["mydestination = $myhostname", "relayhost ="]


def test_concurrent_edits_are_not_lost(postconf, confdir):
    (confdir / "main.cf").write_text("# start\n")
    results = []

    def edit(i):
        results.append(postconf(confdir, "-e", f"p{i}=v{i}"))

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    text = (confdir / "main.cf").read_text()
    for i in range(12):
        assert f"p{i} = v{i}\n" in text
    assert text.startswith("# start\n")


# ---------------------------------------------------------------------------
# master.cf


MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command + args
smtp      inet  n       -       y       -       -       smtpd
#submission inet n      -       y       -       -       smtpd
submission inet n       -       y       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
pickup    unix  n       -       y       60      1       pickup
cleanup   unix  n       -       y       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
"""


@pytest.fixture
def masterdir(confdir):
    (confdir / "master.cf").write_text(MASTER_CF)
    return confdir


def test_M_all_and_filtered(postconf, masterdir):
    r = postconf(masterdir, "-M")
    assert r.returncode == 0, r.stderr
    assert lines(r.stdout) == [
        "smtp       inet  n       -       y       -       -       smtpd",
        "submission inet  n       -       y       -       -       smtpd "
        "-o syslog_name=postfix/submission -o smtpd_tls_security_level=encrypt",
        "pickup     unix  n       -       y       60      1       pickup",
        "cleanup    unix  n       -       y       -       0       cleanup",
        "qmgr       unix  n       -       n       300     1       qmgr",
    ]
    r = postconf(masterdir, "-M", "pickup/unix", "smtp")
    assert lines(r.stdout) == [
        "pickup     unix  n       -       y       60      1       pickup",
        "smtp       inet  n       -       y       -       -       smtpd",
    ]
    r = postconf(masterdir, "-M", "nosuch/unix")
    assert r.returncode == 1
    assert "nosuch/unix" in r.stderr


def test_F_fields(postconf, masterdir):
    r = postconf(masterdir, "-F", "pickup/unix")
    assert lines(r.stdout) == [
        "pickup/unix/service = pickup",
        "pickup/unix/type = unix",
        "pickup/unix/private = n",
        "pickup/unix/unprivileged = -",
        "pickup/unix/chroot = y",
        "pickup/unix/wakeup = 60",
        "pickup/unix/process_limit = 1",
        "pickup/unix/command = pickup",
    ]
    r = postconf(masterdir, "-F", "submission/inet/command", "qmgr/unix/wakeup")
    assert lines(r.stdout) == [
        "submission/inet/command = smtpd -o syslog_name=postfix/submission "
        "-o smtpd_tls_security_level=encrypt",
        "qmgr/unix/wakeup = 300",
    ]
    r = postconf(masterdir, "-hF", "qmgr/unix/process_limit")
    assert r.stdout == "1\n"
    r = postconf(masterdir, "-F", "qmgr/unix/bogus")
    assert r.returncode == 1


def test_P_parameters(postconf, masterdir):
    r = postconf(masterdir, "-P")
    assert lines(r.stdout) == [
        "submission/inet/syslog_name = postfix/submission",
        "submission/inet/smtpd_tls_security_level = encrypt",
    ]


def test_Me_replaces_and_adds(postconf, masterdir):
    r = postconf(masterdir, "-Me",
                 "submission/inet=submission inet n - n - - smtpd -o syslog_name=sub",
                 "127.0.0.1:10025/inet = 127.0.0.1:10025 inet n - n - - smtpd")
    assert r.returncode == 0, r.stderr
    text = (masterdir / "master.cf").read_text()
    assert text == MASTER_CF.replace(
        "submission inet n       -       y       -       -       smtpd\n"
        "  -o syslog_name=postfix/submission\n"
        "  -o smtpd_tls_security_level=encrypt\n",
        "submission inet  n       -       n       -       -       smtpd -o syslog_name=sub\n",
    ) + "127.0.0.1:10025 inet  n       -       n       -       -       smtpd\n"
    assert "#submission inet n      -       y       -       -       smtpd\n" in text


def test_Me_rejects_bad_entries(postconf, masterdir):
    for arg in ["smtp/inet=smtp inet n - y - -",          # no command
                "smtp/inet=smtp tcp n - y - - smtpd",     # bad type
                "smtp/inet=other inet n - y - - smtpd",   # different service
                "smtp=smtp inet n - y - - smtpd",         # no type in the key
                "smtp/inet"]:                             # no entry
        r = postconf(masterdir, "-Me", arg)
        assert r.returncode == 1, arg
    assert (masterdir / "master.cf").read_text() == MASTER_CF


def test_MX_and_M_comment(postconf, masterdir):
    r = postconf(masterdir, "-MX", "submission/inet")
    assert r.returncode == 0, r.stderr
    r = postconf(masterdir, "-M#", "pickup/unix")
    assert r.returncode == 0, r.stderr
    text = (masterdir / "master.cf").read_text()
    assert "  -o syslog_name" not in text
    assert "#pickup    unix  n       -       y       60      1       pickup\n" in text
    r = postconf(masterdir, "-M")
    assert [l.split()[0] for l in lines(r.stdout)] == ["smtp", "cleanup", "qmgr"]


def test_Fe_changes_one_field(postconf, masterdir):
    r = postconf(masterdir, "-Fe", "pickup/unix/wakeup=120", "qmgr/unix/command=qmgr -v")
    assert r.returncode == 0, r.stderr
    r = postconf(masterdir, "-M", "pickup", "qmgr")
    assert lines(r.stdout) == [
        "pickup     unix  n       -       y       120     1       pickup",
        "qmgr       unix  n       -       n       300     1       qmgr -v",
    ]
    r = postconf(masterdir, "-Fe", "pickup/unix/chroot=maybe")
    assert r.returncode == 1


def test_master_cf_errors(postconf, confdir):
    (confdir / "master.cf").write_text("smtp inet n - y - -\n")
    r = postconf(confdir, "-M")
    assert r.returncode == 1
    assert r.stderr == (f"postconf: fatal: {confdir}/master.cf, line 1: "
                        "missing \"command\" field\n")
    (confdir / "master.cf").unlink()
    r = postconf(confdir, "-M")
    assert r.returncode == 1
    assert "No such file or directory" in r.stderr


def test_master_cf_uses_main_cf_names(postconf, masterdir):
    (masterdir / "master.cf").write_text(MASTER_CF +
        "relay     unix  -       -       n       -       -       smtp\n"
        "  -o smtp_helo_name=$relay_helo\n"
        "  -o totally_unknown_thing=1\n")
    (masterdir / "main.cf").write_text("relay_helo = mx.example.com\n"
                                       "relay_time_limit = 100s\n"
                                       "unrelated_name = 1\n")
    r = postconf(masterdir, "-n")
    names = [re.search(r"unused parameter: ([^=]+)=", w).group(1)
             for w in warnings(r.stderr)]
    assert "relay_helo" not in names       # referenced from master.cf
    assert "relay_time_limit" not in names  # per-transport parameter
    assert "unrelated_name" in names
    assert "totally_unknown_thing" in names
    assert f"postconf: warning: {masterdir}/master.cf: unused parameter: " \
           "totally_unknown_thing=1" in r.stderr


# ---------------------------------------------------------------------------
# the man page follows the registry


def test_postconf5_is_current(tmp_path):
    defs = sorted(str(p) for p in (ROOT / "lib" / "params").glob("*.def"))
    r = subprocess.run(["/usr/bin/python3", str(ROOT / "tools" / "gen-postconf5"),
                        "--check", str(ROOT / "man" / "man5" / "postconf.5")] + defs,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_every_parameter_is_documented(postconf):
    page = (ROOT / "man" / "man5" / "postconf.5").read_text()
    documented = set(re.findall(r'^\.SS "(\S+) ', page, re.M))
    r = postconf(None, "-d")
    names = {l.split(" =")[0] for l in lines(r.stdout)}
    assert names == documented


def test_usage(postconf, confdir):
    r = postconf(confdir, "-Q")
    assert r.returncode == 1
    assert "usage:" in r.stderr
    r = postconf(confdir, "-d", "-n")
    assert r.returncode == 1


def test_shipped_main_cf(postconf, tmp_path):
    (tmp_path / "main.cf").write_text((ROOT / "conf" / "main.cf").read_text())
    r = postconf(tmp_path, "-n")
    assert r.returncode == 0
    assert r.stderr == ""
    assert lines(r.stdout) == ["compatibility_level = 3.6"]
    # every commented-out example names a real parameter
    text = (ROOT / "conf" / "main.cf").read_text()
    examples = sorted(set(re.findall(r"^#([a-z0-9_]+) = ", text, re.M)))
    assert examples
    r = postconf(tmp_path, "-d", *examples)
    assert r.returncode == 0, r.stderr


def test_e_refuses_symlink(postconf, confdir):
    real = confdir / "real.cf"
    real.write_text("a = 1\n")
    (confdir / "main.cf").unlink()
    (confdir / "main.cf").symlink_to(real)
    r = postconf(confdir, "-h", "a")
    assert r.stdout == "1\n"  # reading follows the link
    r = postconf(confdir, "-e", "a=2")
    assert r.returncode == 1
    assert "symbolic link" in r.stderr
    assert real.read_text() == "a = 1\n"


def test_Me_with_braced_argument(postconf, masterdir):
    r = postconf(masterdir, "-Me", "submission/inet=submission inet n - n - - smtpd "
                 "-o { smtpd_client_restrictions = permit_sasl_authenticated, reject }")
    assert r.returncode == 0, r.stderr
    r = postconf(masterdir, "-P", "submission/inet")
    assert r.stdout == ("submission/inet/smtpd_client_restrictions = "
                        "permit_sasl_authenticated, reject\n")
    r = postconf(masterdir, "-M", "submission/inet")
    assert r.stdout.rstrip("\n").endswith(
        "smtpd -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }")


def test_m_lists_table_types(postconf):
    r = postconf(None, "-m")
    assert r.returncode == 0, r.stderr
    types = lines(r.stdout)
    for t in ("hash", "btree", "lmdb", "cdb", "texthash", "pcre", "regexp", "cidr", "inline"):
        assert t in types


def test_B_reports_berkeley_db_tables(postconf, confdir):
    (confdir / "main.cf").write_text(
        "alias_maps = hash:/etc/aliases\n"
        "alias_database = lmdb:/etc/aliases\n"
        "virtual_mailbox_maps = btree:$config_directory/vmailbox, lmdb:/etc/x\n"
        "transport_maps = cdb:/etc/transport\n"
        "my_own_maps = hash:/etc/mine\n"
        "uses_mine = $my_own_maps\n")
    r = postconf(confdir, "-B")
    assert r.returncode == 0, r.stderr
    assert lines(r.stdout) == [
        "alias_maps = hash:/etc/aliases",
        f"virtual_mailbox_maps = btree:{confdir}/vmailbox",
        "my_own_maps = hash:/etc/mine",
    ]
    assert "3 table references above still use Berkeley DB" in r.stderr


def test_B_after_moving_to_lmdb_reports_nothing(postconf, confdir):
    (confdir / "main.cf").write_text(
        "alias_maps = lmdb:/etc/aliases\nalias_database = lmdb:/etc/aliases\n")
    r = postconf(confdir, "-B")
    assert r.returncode == 0
    assert r.stdout == ""
    assert "no table in this configuration uses Berkeley DB" in r.stderr
