"""postcat(1): queue files in Postfix's postcat layout, -q/-e/-h/-b/-o/-d,
files and standard input, and clear errors for anything that is not a
whole queue file (never a crash).

Queue files are written with test_postqueue's writer, so every record,
offset and arrival time is known, and TZ=UTC fixes the time format.
"""
import os
import random
import subprocess

import pytest

from instance import instance_factory  # noqa: F401
from test_postqueue import (ARRIVAL, CONT, NORM, XTRA, END, env_for, qfile, rec,
                            unprivileged_user, write_qfile)

QID = "B000000001"


def postcat(inst, *args, input=None, user=None):
    cmd = [str(inst.build / "sbin" / "postcat"), *map(str, args)]
    if user:
        cmd = ["setpriv", "--reuid", user, "--regid", "nogroup", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, timeout=60, env=env_for(inst), input=input)


@pytest.fixture
def inst(instance_factory):
    i = instance_factory(services=["showq/unix"])
    r = i.postern("check")
    assert r.returncode == 0, r.stderr
    return i


def message(inst, queue="deferred", qid=QID):
    """A message with every record type; returns its bytes."""
    write_qfile(inst, queue, qid, sender="alice@example.com", size=312,
                attrs=["client_address=192.0.2.1", "origin=smtpd"],
                rcpts=[{"address": "bob@example.net", "orig": "Bob@Example.NET", "notify": 6,
                        "orcpt": "rfc822;Bob@Example.NET"}, ("carol@example.net", True)],
                lines=["Subject: hello", "X-Long: folded", "\tcontinued", "", "body line 1",
                       "Subject: not a header here", ""],
                extracted=["dave@example.org"])
    return (inst.queue / queue / qid).read_bytes()


ENVELOPE = """\
*** ENVELOPE RECORDS {path} ***
message_size:             312             {mesg:>3}               3
message_arrival_time: Tue Nov 14 22:13:20 2023
named_attribute: client_address=192.0.2.1
named_attribute: origin=smtpd
sender: alice@example.com
original_recipient: Bob@Example.NET
dsn_notify_flags: 6
dsn_original_recipient: rfc822;Bob@Example.NET
recipient: bob@example.net
done_recipient: carol@example.net
"""
HEADER = """\
Subject: hello
X-Long: folded
\tcontinued
"""
BODY = """\

body line 1
Subject: not a header here

"""


def expected(path, mesg, env=True, header=True, body=True):
    out = ENVELOPE.format(path=path, mesg=mesg) if env else ""
    if env:
        out += f"*** MESSAGE CONTENTS {path} ***\n"
    out += HEADER if header else ""
    out += BODY if body else ""
    if env:
        out += f"*** HEADER EXTRACTED {path} ***\nrecipient: dave@example.org\n"
        out += f"*** MESSAGE FILE END {path} ***\n"
    return out


def mesg_offset(data):
    return int(data[2:49].split()[1])


def test_queue_file_default(inst):
    data = message(inst)
    r = postcat(inst, "-q", QID)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == expected(f"deferred/{QID}", mesg_offset(data))
    assert r.stderr == b""


@pytest.mark.parametrize("flags,env,header,body", [
    ("-e", True, False, False), ("-h", False, True, False), ("-b", False, False, True),
    ("-hb", False, True, True), ("-eh", True, True, False), ("-eb", True, False, True),
    ("-ehb", True, True, True)])
def test_sections(inst, flags, env, header, body):
    data = message(inst)
    r = postcat(inst, flags + "q", QID)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == expected(f"deferred/{QID}", mesg_offset(data), env, header, body)


def test_found_in_every_queue(inst):
    for n, queue in enumerate(("maildrop", "incoming", "active", "hold")):
        qid = f"C00000000{n}"
        message(inst, queue, qid)
        r = postcat(inst, "-eq", qid)
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode().startswith(f"*** ENVELOPE RECORDS {queue}/{qid} ***\n")


def test_offsets_and_decimal_types(inst):
    data = message(inst)
    r = postcat(inst, "-o", "-q", QID)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode().splitlines()
    assert out[0] == f"*** ENVELOPE RECORDS deferred/{QID} ***"
    assert out[1].startswith("        0 message_size: ")
    # every offset names the start of the record printed on that line
    for line in out[1:]:
        off, rest = int(line[:9]), line[10:]
        if rest.startswith("***"):
            continue
        assert line[9] == " "
        assert data[off:off + 1] in b"CTSRDOYQANLE", line
    assert f"{mesg_offset(data):9d} *** MESSAGE CONTENTS deferred/{QID} ***" in out
    r = postcat(inst, "-d", "-e", "-q", QID)
    out = r.stdout.decode().splitlines()
    assert out[1].startswith(" 67 message_size: ")       # 'C'
    assert " 83 sender: alice@example.com" in out        # 'S'
    assert " 68 done_recipient: carol@example.net" in out


def test_long_lines_joined(inst):
    data, _ = qfile(lines=["Subject: x", ""])
    data = data[:-len(rec(XTRA) + rec(END))]
    data += rec(CONT, "a" * 10) + rec(CONT, "b" * 10) + rec(NORM, "c") + rec(CONT, "tail")
    data += rec(XTRA) + rec(END)
    path = inst.base / "long"
    path.write_bytes(data)
    r = postcat(inst, "-b", path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == "\n" + "a" * 10 + "b" * 10 + "c\ntail\n"
    r = postcat(inst, "-bo", path)          # with offsets each piece is on a line of its own
    assert r.stdout.decode().count("\n") == 5


def test_file_arguments_and_stdin(inst):
    data = message(inst)
    path = inst.base / "copy"
    path.write_bytes(data)
    r = postcat(inst, path, path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == 2 * expected(str(path), mesg_offset(data))
    r = postcat(inst, input=data)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == expected("stdin", mesg_offset(data))
    # a maildrop file: TIME first, no size record
    md, _ = qfile(maildrop=True, rcpts=["m@example.com"], lines=["Subject: m"])
    r = postcat(inst, input=md)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().startswith("*** ENVELOPE RECORDS stdin ***\n"
                                        "message_arrival_time: Tue Nov 14 22:13:20 2023\n")


def test_errors(inst):
    data = message(inst)
    cases = {
        "text": (b"Subject: not a queue file\n", "input is not a valid queue file"),
        "empty": (b"", "empty input: not a queue file"),
        "cut": (data[:-2], "file ends before its end record: incomplete queue file"),
        "mid": (data[:-9], "corrupt queue file: malformed record at offset"),
        "broken": (data[:49] + b"\xff" + data[50:], "corrupt queue file: malformed record at offset"),
    }
    for name, (blob, text) in cases.items():
        path = inst.base / name
        path.write_bytes(blob)
        r = postcat(inst, path)
        assert r.returncode == 1, name
        assert f"postcat: warning: {path}: {text}" in r.stderr.decode(), (name, r.stderr)
    # the next file is still shown
    good = inst.base / "good"
    good.write_bytes(data)
    r = postcat(inst, inst.base / "cut", good)
    assert r.returncode == 1
    assert f"*** MESSAGE FILE END {good} ***" in r.stdout.decode()
    r = postcat(inst, inst.base / "missing")
    assert r.returncode == 1 and b"open " in r.stderr and b"No such file or directory" in r.stderr
    for bad in ("../deferred/" + QID, "b000000001", QID + "*", ""):
        r = postcat(inst, "-q", bad)
        assert r.returncode == 1
        assert f"postcat: fatal: bad mail queue ID: {bad}" in r.stderr.decode()
    r = postcat(inst, "-q", "ABCDEF0123")
    assert r.returncode == 1
    assert "postcat: fatal: open queue file ABCDEF0123: No such file or directory" \
        in r.stderr.decode()
    r = postcat(inst, "-q")
    assert r.returncode == 1 and b"usage: postcat" in r.stderr


def test_unprivileged_user_cannot_read_queue(inst):
    message(inst)
    r = postcat(inst, "-q", QID, user=unprivileged_user(inst))
    assert r.returncode == 1
    assert f"open queue file {QID}: Permission denied" in r.stderr.decode()
    assert r.stdout == b""


def test_random_damage_never_crashes(inst):
    data = message(inst)
    rnd = random.Random(7)
    path = inst.base / "damaged"
    for i in range(300):
        blob = bytearray(data)
        for _ in range(rnd.randint(1, 8)):
            blob[rnd.randrange(len(blob))] = rnd.randrange(256)
        if i % 3 == 0:
            blob = blob[:rnd.randrange(len(blob))]
        path.write_bytes(bytes(blob))
        r = postcat(inst, path)
        assert r.returncode in (0, 1), (i, r.returncode, r.stderr)
        assert not r.stderr or b"postcat: " in r.stderr
