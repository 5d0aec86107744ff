"""Shared fixtures for postern's integration tests.

Every test runs programs from the build tree against private, temporary
configuration and queue directories; nothing outside the tree is touched.
"""
import os
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def build_dir() -> Path:
    return Path(os.environ.get("POSTERN_BUILD", ROOT / "build")).resolve()


@pytest.fixture(scope="session")
def postern_build() -> Path:
    """The build directory (holds sbin/, libexec/, tests/)."""
    b = build_dir()
    if not (b / "lib" / "libpostern.a").exists():
        pytest.fail(f"no build in {b}: run make build first")
    return b


@pytest.fixture
def confdir(tmp_path) -> Path:
    """An empty configuration directory with an empty main.cf."""
    d = tmp_path / "etc"
    d.mkdir()
    (d / "main.cf").write_text("")
    return d


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, check=False, **kw) -> subprocess.CompletedProcess:
    """Run a command, capturing text output, with a 60 s ceiling."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 60)
    return subprocess.run([str(c) for c in cmd], check=check, **kw)
