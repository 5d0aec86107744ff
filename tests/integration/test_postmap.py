"""postmap: build, query, dump, delete and incremental updates for every
on-disk table type; pattern tables through -q; errors and corruption;
atomic rebuild under concurrent queries."""
import os
import stat
import threading

import pytest

from conftest import run

DISK_TYPES = ["hash", "btree", "lmdb", "cdb"]
SUFFIX = {"hash": ".db", "btree": ".db", "lmdb": ".lmdb", "cdb": ".cdb"}


@pytest.fixture
def postmap(postern_build, confdir):
    exe = postern_build / "sbin" / "postmap"

    def call(*args, stdin=None):
        return run([exe, "-c", confdir, *args], input=stdin)

    return call


def write(path, text):
    path.write_text(text)
    return path


SOURCE = """# a comment
Alpha    one
beta     two words
multi    first
   continued
gamma@example.com  x

"""


@pytest.mark.parametrize("dbtype", DISK_TYPES)
def test_build_query_dump(postmap, tmp_path, dbtype):
    src = write(tmp_path / "table", SOURCE)
    r = postmap(f"{dbtype}:{src}")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / ("table" + SUFFIX[dbtype])).exists()
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name or "XXXX" in p.name]

    r = postmap("-q", "ALPHA", f"{dbtype}:{src}")
    assert (r.returncode, r.stdout) == (0, "one\n")
    r = postmap("-q", "multi", f"{dbtype}:{src}")
    assert r.stdout == "first continued\n"
    r = postmap("-q", "missing", f"{dbtype}:{src}")
    assert (r.returncode, r.stdout) == (1, "")

    r = postmap("-q", "-", f"{dbtype}:{src}", stdin="beta\nnope\nGamma@Example.com\n")
    assert r.returncode == 0
    assert r.stdout == "beta\ttwo words\nGamma@Example.com\tx\n"
    r = postmap("-q", "-", f"{dbtype}:{src}", stdin="nope\n")
    assert r.returncode == 1

    r = postmap("-s", f"{dbtype}:{src}")
    assert r.returncode == 0
    assert sorted(r.stdout.splitlines()) == sorted(
        ["alpha\tone", "beta\ttwo words", "multi\tfirst continued", "gamma@example.com\tx"])


@pytest.mark.parametrize("dbtype", DISK_TYPES)
def test_delete_and_incremental(postmap, tmp_path, dbtype):
    src = write(tmp_path / "t", "a 1\nb 2\nc 3\n")
    spec = f"{dbtype}:{src}"
    assert postmap(spec).returncode == 0

    r = postmap("-d", "B", spec)
    assert r.returncode == 0, r.stderr
    assert postmap("-q", "b", spec).returncode == 1
    assert postmap("-d", "b", spec).returncode == 1
    r = postmap("-d", "-", spec, stdin="a\nnothere\n")
    assert r.returncode == 0
    assert postmap("-q", "a", spec).returncode == 1
    assert postmap("-q", "c", spec).stdout == "3\n"

    r = postmap("-i", spec, stdin="d 4\nc changed\nE five\n")
    assert r.returncode == 0
    assert "duplicate entry" in r.stderr
    assert postmap("-q", "d", spec).stdout == "4\n"
    assert postmap("-q", "e", spec).stdout == "five\n"
    assert postmap("-q", "c", spec).stdout == "3\n"
    r = postmap("-r", "-i", spec, stdin="c replaced\n")
    assert r.returncode == 0 and "duplicate" not in r.stderr
    assert postmap("-q", "c", spec).stdout == "replaced\n"
    r = postmap("-w", "-i", spec, stdin="c ignored\n")
    assert r.returncode == 0 and "duplicate" not in r.stderr
    assert postmap("-q", "c", spec).stdout == "replaced\n"
    r = postmap("-s", spec)
    assert sorted(r.stdout.splitlines()) == ["c\treplaced", "d\t4", "e\tfive"]


@pytest.mark.parametrize("dbtype", DISK_TYPES)
def test_duplicates_and_case(postmap, tmp_path, dbtype):
    src = write(tmp_path / "t", "Key first\nkey second\n")
    r = postmap(f"{dbtype}:{src}")
    assert r.returncode == 0
    assert f"{src}:2: duplicate entry" in r.stderr
    assert postmap("-q", "KEY", f"{dbtype}:{src}").stdout == "first\n"
    r = postmap("-f", f"{dbtype}:{src}")
    assert r.returncode == 0 and "duplicate" not in r.stderr
    assert postmap("-f", "-q", "Key", f"{dbtype}:{src}").stdout == "first\n"
    assert postmap("-f", "-q", "KEY", f"{dbtype}:{src}").returncode == 1


@pytest.mark.parametrize("dbtype", DISK_TYPES)
def test_null_conventions(postmap, tmp_path, dbtype):
    src = write(tmp_path / "t", "k v\n")
    for flag in ("-N", "-n"):
        assert postmap(flag, f"{dbtype}:{src}").returncode == 0
        assert postmap("-q", "k", f"{dbtype}:{src}").stdout == "v\n"
    assert postmap("-n", f"{dbtype}:{src}").returncode == 0
    assert postmap("-N", "-q", "k", f"{dbtype}:{src}").returncode == 1


@pytest.mark.parametrize("dbtype", DISK_TYPES)
def test_bad_line_keeps_old_table(postmap, tmp_path, dbtype):
    src = write(tmp_path / "t", "good value\n")
    assert postmap(f"{dbtype}:{src}").returncode == 0
    db = tmp_path / ("t" + SUFFIX[dbtype])
    before = db.read_bytes()
    write(src, "new value\nbroken\nother value\n  \n\t\nalso-broken\n")
    r = postmap(f"{dbtype}:{src}")
    assert r.returncode != 0
    assert f"{src}:2:" in r.stderr and f"{src}:6:" in r.stderr
    assert db.read_bytes() == before
    assert postmap("-q", "good", f"{dbtype}:{src}").stdout == "value\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("t" + SUFFIX[dbtype] + ".")]


@pytest.mark.parametrize("dbtype", DISK_TYPES)
def test_corrupt_db_is_an_error(postmap, tmp_path, dbtype):
    src = write(tmp_path / "t", "".join(f"key{i} value{i}\n" for i in range(2000)))
    assert postmap(f"{dbtype}:{src}").returncode == 0
    db = tmp_path / ("t" + SUFFIX[dbtype])
    good = db.read_bytes()
    for data in (good[: len(good) // 2], good[:100], b"", b"\x5a" * 4096):
        db.write_bytes(data)
        r = postmap("-q", "key7", f"{dbtype}:{src}")
        assert r.returncode in (0, 1, 2), r  # never killed by a signal
        if len(data) < 4096:
            assert r.returncode == 2, (len(data), r)
        r = postmap("-s", f"{dbtype}:{src}")
        assert r.returncode >= 0


def test_missing_table(postmap, tmp_path):
    r = postmap("-q", "x", f"hash:{tmp_path}/nothing")
    assert r.returncode == 2
    assert "nothing.db" in r.stderr
    r = postmap(f"hash:{tmp_path}/nothing")
    assert r.returncode != 0
    r = postmap("-d", "x", f"lmdb:{tmp_path}/nothing")
    assert r.returncode == 2


def test_usage_errors(postmap, tmp_path):
    src = write(tmp_path / "t", "a b\n")
    assert postmap("-q", "a", "-s", f"hash:{src}").returncode == 2
    assert postmap().returncode != 0
    assert postmap(f"nosuchtype:{src}").returncode != 0
    r = postmap(f"pcre:{src}")
    assert r.returncode != 0 and "not supported" in r.stderr


def test_default_database_type(postmap, confdir, tmp_path):
    src = write(tmp_path / "t", "a b\n")
    assert postmap(str(src)).returncode == 0
    assert (tmp_path / "t.db").exists()
    (confdir / "main.cf").write_text("default_database_type = lmdb\n")
    assert postmap(str(src)).returncode == 0
    assert (tmp_path / "t.lmdb").exists()
    assert postmap("-q", "a", str(src)).stdout == "b\n"
    (confdir / "main.cf").write_text("default_database_type = cdb\n")
    assert postmap(str(src)).returncode == 0
    assert (tmp_path / "t.cdb").exists()


def test_permissions_follow_source(postmap, tmp_path):
    src = write(tmp_path / "t", "a b\n")
    os.chmod(src, 0o640)
    assert postmap(f"hash:{src}").returncode == 0
    assert stat.S_IMODE(os.stat(tmp_path / "t.db").st_mode) == 0o640
    os.chmod(src, 0o600)
    assert postmap(f"lmdb:{src}").returncode == 0
    assert stat.S_IMODE(os.stat(tmp_path / "t.lmdb").st_mode) == 0o600
    assert postmap("-p", f"cdb:{src}").returncode == 0
    assert stat.S_IMODE(os.stat(tmp_path / "t.cdb").st_mode) == 0o644


def test_query_several_tables(postmap, tmp_path):
    a = write(tmp_path / "a", "k from-a\n")
    b = write(tmp_path / "b", "k from-b\nonly-b yes\n")
    assert postmap(f"hash:{a}", f"cdb:{b}").returncode == 0
    assert postmap("-q", "k", f"hash:{a}", f"cdb:{b}").stdout == "from-a\n"
    assert postmap("-q", "only-b", f"hash:{a}", f"cdb:{b}").stdout == "yes\n"


def test_pcre_captures_and_if(postmap, tmp_path):
    src = write(tmp_path / "t.pcre", r"""
/^(.*)\+(.*)@example\.com$/   $1 (extension $2)
if /@example\.org$/
/^postmaster@/                postmaster of org
!/^a/                         org but not a
endif
/@example\.org$/              an org a-address
""")
    spec = f"pcre:{src}"
    assert postmap("-q", "Joe+Lists@example.com", spec).stdout == "Joe (extension Lists)\n"
    assert postmap("-q", "postmaster@example.org", spec).stdout == "postmaster of org\n"
    assert postmap("-q", "bob@example.org", spec).stdout == "org but not a\n"
    assert postmap("-q", "anne@example.org", spec).stdout == "an org a-address\n"
    assert postmap("-q", "x@example.net", spec).returncode == 1
    r = postmap("-q", "-", spec, stdin="a+b@example.com\nnone\n")
    assert r.stdout == "a+b@example.com\ta (extension b)\n"


def test_bad_regex_is_an_error(postmap, tmp_path):
    src = write(tmp_path / "t.pcre", "/ok/ fine\n/(unclosed/ x\n")
    r = postmap("-q", "ok", f"pcre:{src}")
    assert r.returncode == 2
    assert f"{src}:2:" in r.stderr
    src = write(tmp_path / "t.regexp", "/[a-/ x\n")
    assert postmap("-q", "a", f"regexp:{src}").returncode == 2


def test_cidr_ipv6(postmap, tmp_path):
    src = write(tmp_path / "t.cidr", """
192.0.2.0/24        REJECT v4 net
2001:db8::/32       REJECT v6 net
2001:db8:1::1       OK v6 host
::1                 OK loopback
""")
    spec = f"cidr:{src}"
    assert postmap("-q", "192.0.2.200", spec).stdout == "REJECT v4 net\n"
    assert postmap("-q", "2001:db8:ffff::2", spec).stdout == "REJECT v6 net\n"
    assert postmap("-q", "2001:db8:1::1", spec).stdout == "REJECT v6 net\n"  # first match wins
    assert postmap("-q", "::1", spec).stdout == "OK loopback\n"
    assert postmap("-q", "2001:db9::1", spec).returncode == 1
    assert postmap("-q", "not-an-ip", spec).returncode == 1


def test_inline_static_texthash(postmap, tmp_path):
    assert postmap("-q", "b", "inline:{ a=1, b=2 }").stdout == "2\n"
    assert postmap("-q", "anything", "static:{ some text }").stdout == "some text\n"
    assert postmap("-q", "x", "fail:whatever").returncode == 2
    src = write(tmp_path / "t", "k v\n")
    assert postmap("-q", "K", f"texthash:{src}").stdout == "v\n"
    r = postmap("-s", f"texthash:{src}")
    assert r.stdout == "k\tv\n"


@pytest.mark.parametrize("dbtype", DISK_TYPES)
def test_concurrent_rebuild(postmap, tmp_path, dbtype):
    """50 rebuilds while another process queries: only old or new answers."""
    keys = "".join(f"filler{i} {i}\n" for i in range(500))
    old = tmp_path / "old"
    new = tmp_path / "new"
    write(old, "probe OLD\n" + keys)
    write(new, keys + "probe NEW\n" + "extra key\n")
    src = tmp_path / "t"
    src.write_text(old.read_text())
    spec = f"{dbtype}:{src}"
    assert postmap(spec).returncode == 0

    done = threading.Event()
    answers = []
    errors = []

    def query():
        while not done.is_set():
            r = postmap("-q", "probe", spec)
            if r.returncode != 0:
                errors.append((r.returncode, r.stderr))
            else:
                answers.append(r.stdout)

    threads = [threading.Thread(target=query) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(50):
            src.write_text((new if i % 2 == 0 else old).read_text())
            r = postmap(spec)
            assert r.returncode == 0, r.stderr
    finally:
        done.set()
        for t in threads:
            t.join()
    assert not errors, errors[:3]
    assert len(answers) >= 10
    assert set(answers) <= {"OLD\n", "NEW\n"}
