"""The modern server's installer when the build is impossible: one line, exit 3, `make` goes on.

The mirror is a closed loopback port, so nothing leaves the machine; the private cache folder
keeps the real one untouched. (A successful build is exercised by every ``[modern]`` test.)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.harness.assets import AssetsNotFoundError, find_modern_assets, modern_unavailable_path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "install-modern-apiserver.sh"

pytestmark = pytest.mark.skipif(
    shutil.which("apt-get") is None or shutil.which("make") is None,
    reason="needs apt-get and make (a Debian machine)",
)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(tmp_path / "home"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "DEBIAN_MIRROR": f"http://127.0.0.1:{closed_port()}/debian",
    }


def test_unavailable_is_one_line_exit_3_and_make_test_assets_goes_on(
    env: dict[str, str], tmp_path: Path
) -> None:
    """`make test-assets` (part of `make test`) succeeds: the modern build must not block.
    (Fake 1.20 binaries through TEST_ASSET_*: that script then builds nothing.)"""
    for name in ("kube-apiserver", "etcd"):
        fake = tmp_path / "bin" / name
        fake.parent.mkdir(exist_ok=True)
        fake.write_text("#!/bin/sh\n")
        fake.chmod(0o755)
    env["TEST_ASSET_KUBE_APISERVER"] = str(tmp_path / "bin" / "kube-apiserver")
    env["TEST_ASSET_ETCD"] = str(tmp_path / "bin" / "etcd")
    made = subprocess.run(["make", "-s", "-C", str(ROOT), "test-assets"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert made.returncode == 0, made.stdout + made.stderr
    verdicts = [line for line in made.stderr.splitlines() if "UNAVAILABLE" in line]
    assert len(verdicts) == 1, made.stderr
    assert verdicts[0].startswith("modern-apiserver UNAVAILABLE: apt-get update of Debian sid")
    assert "1.36 tests will be SKIPPED" in verdicts[0]
    # Recorded for the harness, whose skip reason is exactly that line.
    assert modern_unavailable_path(env).read_text().strip() == verdicts[0]
    with pytest.raises(AssetsNotFoundError) as caught:
        find_modern_assets(env)
    assert str(caught.value) == verdicts[0]
    # The script's own status is 3 ("unavailable"), which is what the Makefile lets through.
    alone = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True,
                           timeout=300, check=False)
    assert alone.returncode == 3, alone.stderr


def test_a_misconfigured_own_binary_still_stops_make(env: dict[str, str], tmp_path: Path) -> None:
    """Only "unavailable" (exit 3) is let through; a wrong TEST_ASSET_MODERN_APISERVER is an error."""
    env["TEST_ASSET_MODERN_APISERVER"] = str(tmp_path / "missing")
    result = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 1 and "TEST_ASSET_MODERN_APISERVER=" in result.stderr
