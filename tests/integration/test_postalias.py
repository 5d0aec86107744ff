"""postalias and newaliases: aliases(5) syntax, build, query, dump, delete,
incremental updates for every on-disk type, bad lines."""
import pytest

from conftest import run

DISK_TYPES = ["hash", "btree", "lmdb", "cdb"]
SUFFIX = {"hash": ".db", "btree": ".db", "lmdb": ".lmdb", "cdb": ".cdb"}

ALIASES = """# system aliases
postmaster:   root
MAILER-DAEMON: postmaster
Root:         joe,
              jane@example.com
"quoted name": joe
list:         :include:/etc/postern/list.members
logger:       |"/usr/bin/logger -t mail"
archive:      /var/mail/archive

spaced :      value after space
"""


@pytest.fixture
def postalias(postern_build, confdir):
    exe = postern_build / "sbin" / "postalias"

    def call(*args, stdin=None):
        return run([exe, "-c", confdir, *args], input=stdin)

    return call


@pytest.mark.parametrize("dbtype", DISK_TYPES)
def test_build_query_dump(postalias, tmp_path, dbtype):
    src = tmp_path / "aliases"
    src.write_text(ALIASES)
    spec = f"{dbtype}:{src}"
    r = postalias(spec)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / ("aliases" + SUFFIX[dbtype])).exists()

    assert postalias("-q", "ROOT", spec).stdout == "joe, jane@example.com\n"
    assert postalias("-q", "mailer-daemon", spec).stdout == "postmaster\n"
    assert postalias("-q", "quoted name", spec).stdout == "joe\n"
    assert postalias("-q", "list", spec).stdout == ":include:/etc/postern/list.members\n"
    assert postalias("-q", "logger", spec).stdout == '|"/usr/bin/logger -t mail"\n'
    assert postalias("-q", "archive", spec).stdout == "/var/mail/archive\n"
    assert postalias("-q", "spaced", spec).stdout == "value after space\n"
    r = postalias("-q", "nobody", spec)
    assert (r.returncode, r.stdout) == (1, "")

    r = postalias("-q", "-", spec, stdin="postmaster\nnobody\nlist\n")
    assert r.returncode == 0
    assert r.stdout == "postmaster: root\nlist: :include:/etc/postern/list.members\n"

    r = postalias("-s", spec)
    assert r.returncode == 0
    lines = sorted(r.stdout.splitlines())
    assert "root: joe, jane@example.com" in lines
    assert "quoted name: joe" in lines
    assert len(lines) == 8


@pytest.mark.parametrize("dbtype", DISK_TYPES)
def test_delete_incremental(postalias, tmp_path, dbtype):
    src = tmp_path / "aliases"
    src.write_text("a: one\nb: two\n")
    spec = f"{dbtype}:{src}"
    assert postalias(spec).returncode == 0
    assert postalias("-d", "a", spec).returncode == 0
    assert postalias("-d", "a", spec).returncode == 1
    assert postalias("-q", "a", spec).returncode == 1
    r = postalias("-i", spec, stdin="c: three,\n  four\nb: dup\n")
    assert r.returncode == 0
    assert "duplicate entry" in r.stderr
    assert postalias("-q", "c", spec).stdout == "three, four\n"
    assert postalias("-q", "b", spec).stdout == "two\n"


@pytest.mark.parametrize("dbtype", DISK_TYPES)
def test_bad_line(postalias, tmp_path, dbtype):
    src = tmp_path / "aliases"
    src.write_text("good: value\n")
    spec = f"{dbtype}:{src}"
    assert postalias(spec).returncode == 0
    src.write_text("new: value\nno colon here\n\"unclosed: x\nempty:\n")
    r = postalias(spec)
    assert r.returncode != 0
    for n in (2, 3, 4):
        assert f"{src}:{n}:" in r.stderr
    assert postalias("-q", "good", spec).stdout == "value\n"
    assert postalias("-q", "new", spec).returncode == 1


def test_newaliases(postern_build, confdir, tmp_path):
    a = tmp_path / "aliases"
    a.write_text("postmaster: root\n")
    b = tmp_path / "more"
    b.write_text("extra: someone\n")
    (confdir / "main.cf").write_text(
        f"default_database_type = lmdb\nalias_database = {a}, cdb:{b}\n")
    newaliases = postern_build / "sbin" / "newaliases"
    assert newaliases.is_symlink()
    r = run([newaliases, "-c", confdir])
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "aliases.lmdb").exists()
    assert (tmp_path / "more.cdb").exists()
    postalias = postern_build / "sbin" / "postalias"
    r = run([postalias, "-c", confdir, "-q", "extra", f"cdb:{b}"])
    assert r.stdout == "someone\n"
    # postalias itself still wants table names
    assert run([postalias, "-c", confdir]).returncode != 0
