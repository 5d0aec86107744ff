"""Run the examples of the table man pages.

A man page marks an example file with the roff comment
    .\\" test-file NAME
before its .nf ... .fi block, and a session with
    .\\" test-session
before a block of "$ command" lines, each followed by the output it must
print. Files are written to a temporary directory that stands in for
/etc/postern (main.cf goes to the configuration directory); postmap and
postalias commands run from the build with -c CONFIG_DIR added.
"""
import re
import shlex
from pathlib import Path

import pytest

from conftest import ROOT, run

PAGES = ["man1/postmap.1", "man1/postalias.1", "man5/access.5", "man5/aliases.5",
         "man5/canonical.5", "man5/cidr_table.5", "man5/pcre_table.5",
         "man5/regexp_table.5", "man5/transport.5", "man5/virtual.5"]


def unroff(line):
    """Undo the roff escapes the examples use."""
    line = re.sub(r"\\f[BIRP]", "", line)
    line = line.replace(r"\-", "-").replace(r"\(aq", "'").replace(r"\&", "")
    return line.replace(r"\e", "\\")


def blocks(page):
    """Yield (kind, name, lines) for each marked example of a page."""
    lines = (ROOT / "man" / page).read_text().splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r'^\.\\" test-(file|session)\s*(\S*)', lines[i])
        i += 1
        if not m:
            continue
        while i < len(lines) and lines[i] != ".nf":
            i += 1
        i += 1
        body = []
        while i < len(lines) and lines[i] != ".fi":
            body.append(unroff(lines[i]))
            i += 1
        yield m.group(1), m.group(2), body


def test_every_page_has_examples():
    for page in PAGES:
        kinds = [kind for kind, _, _ in blocks(page)]
        assert "session" in kinds, page


@pytest.mark.parametrize("page", PAGES)
def test_man_page_examples(page, postern_build, confdir, tmp_path):
    etc = tmp_path / "etc-postern"
    etc.mkdir()
    ran = 0
    for kind, name, body in blocks(page):
        if kind == "file":
            text = "\n".join(body).replace("/etc/postern/", f"{etc}/") + "\n"
            target = confdir / name if name == "main.cf" else etc / name
            target.write_text(text)
            continue
        commands = []
        for line in body:
            if line.startswith("$ "):
                commands.append((line[2:], []))
            else:
                assert commands, f"{page}: output before any command: {line}"
                commands[-1][1].append(line)
        for command, expected in commands:
            argv = shlex.split(command.replace("/etc/postern/", f"{etc}/"))
            assert argv[0] in ("postmap", "postalias"), command
            r = run([postern_build / "sbin" / argv[0], "-c", confdir, *argv[1:]])
            assert r.returncode in (0, 1), f"{page}: {command}: {r.stderr}"
            if expected or "-q" not in argv:
                assert r.returncode == 0, f"{page}: {command}: {r.stderr}"
            expected = [line.replace("/etc/postern/", f"{etc}/") for line in expected]
            assert r.stdout.splitlines() == expected, f"{page}: {command}"
            ran += 1
    assert ran > 0
