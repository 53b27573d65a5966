"""The client-go peer of ``make bench``: finding its binary and reporting when there is none.

The build script and :mod:`benchmarks.clientgo` must agree on where a binary for a given
``main.go`` lives, or the benchmark would silently measure a stale program (or none).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from benchmarks import clientgo, informer_cluster

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build-clientgo-bench.sh"


def test_program_key_is_the_build_scripts_sha256sum_prefix(tmp_path: Path) -> None:
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum is not installed")
    program = tmp_path / "main.go"
    program.write_text("package main\n\nfunc main() {}\n")
    shell = subprocess.run(["sh", "-c", 'sha256sum "$1" | cut -c1-16', "sh", str(program)],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert clientgo.program_key(program) == shell
    # The script computes it exactly that way (a rename there must show up here).
    assert "sha256sum \"$PROGRAM\" | cut -c1-16" in SCRIPT.read_text()


def test_locate_finds_the_binary_of_this_program_only(tmp_path: Path) -> None:
    program = tmp_path / "main.go"
    program.write_text("package main // v1\n")
    cache = tmp_path / "cache"
    folder = cache / clientgo.program_key(program)
    folder.mkdir(parents=True)
    binary = folder / clientgo.BINARY_NAME
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    (folder / "build-info.txt").write_text("client-go v0.20.2, built in 95s\n")

    found = clientgo.locate(cache, program)
    assert found.binary == binary
    assert found.detail == "client-go v0.20.2, built in 95s"

    program.write_text("package main // v2, edited\n")
    stale = clientgo.locate(cache, program)
    assert stale.binary is None
    assert "no binary for this main.go" in stale.detail


def test_locate_reports_the_last_build_failure(tmp_path: Path) -> None:
    program = tmp_path / "main.go"
    program.write_text("package main\n")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "last-failure.txt").write_text("Go 1.19 not found at /usr/lib/go-1.19/bin\n")
    found = clientgo.locate(cache, program)
    assert found.binary is None
    assert found.detail == "build failed: Go 1.19 not found at /usr/lib/go-1.19/bin"


def test_a_non_executable_file_is_not_a_binary(tmp_path: Path) -> None:
    program = tmp_path / "main.go"
    program.write_text("package main\n")
    folder = tmp_path / clientgo.program_key(program)
    folder.mkdir()
    (folder / clientgo.BINARY_NAME).write_text("half written")
    assert clientgo.locate(tmp_path, program).binary is None


def test_served_as_names_format_and_compression() -> None:
    assert clientgo.served_as([
        {"query": "limit=500&resourceVersion=0",
         "content_type": "application/vnd.kubernetes.protobuf", "gzip": True},
    ]) == "protobuf, gzip"
    assert clientgo.served_as([
        {"query": "", "content_type": "application/json", "gzip": False},
        {"query": "", "content_type": "application/json", "gzip": True},
    ]) == "JSON, gzip; JSON, identity"
    assert clientgo.served_as([]) == "no response seen"


def test_without_a_binary_the_clientgo_targets_are_not_applicable() -> None:
    build = clientgo.Build(None, "build failed: go build failed")
    targets = informer_cluster._clientgo_targets({}, {}, {}, build)
    assert targets and all(t.passed is None and t.verdict == "n/a" for t in targets)
    assert all("build failed: go build failed" in t.measured for t in targets)
    rows = informer_cluster._not_built(build, 6)
    assert [row[0] for row in rows] == list(informer_cluster.GO_PEERS)
    assert all(len(row) == 6 and row[1] == "not built" for row in rows)


def test_clientgo_targets_compare_with_protobuf() -> None:
    go = informer_cluster.GO_REFERENCE
    medians = {informer_cluster.KCG_KEEP: 0.9, informer_cluster.KCG_STRIP: 1.1, go: 1.0}
    retained = {informer_cluster.KCG_KEEP: 60_000_000, informer_cluster.KCG_STRIP: 40_000_000}
    targets = informer_cluster._clientgo_targets(
        medians, retained, {go: 100_000_000.0}, clientgo.Build(Path("/x"), "built"))
    verdicts = {t.name: (t.passed, t.measured.split()[0]) for t in targets}
    assert verdicts == {
        f"informer synced vs {go} (strip_managed_fields=False)": (True, "0.90×"),
        f"informer synced vs {go} (strip_managed_fields=True)": (False, "1.10×"),
        f"informer cache memory vs {go} live heap (strip_managed_fields=False)":
            (False, "0.60×"),
        f"informer cache memory vs {go} live heap (strip_managed_fields=True)":
            (True, "0.40×"),
    }


def test_list_benchmark_reports_clientgo_not_built_with_the_reason() -> None:
    from benchmarks import list_cluster

    peers = list_cluster.GoPeers(build=clientgo.Build(None, "build failed: no Go"))
    rows = list_cluster._not_built_rows(peers)
    assert [row[0] for row in rows] == [clientgo.label(f) for f in clientgo.FORMATS]
    assert all(row[1] == "not built" and "build failed: no Go" in row for row in rows)
    assert list_cluster._peer_notes({}, peers) == [
        "client-go was not measured: build failed: no Go."]
    section = list_cluster._memory_section({list_cluster.KCG: 1_000_000}, peers, 10)
    assert [row[:2] for row in section.rows[1:]] == [
        [clientgo.label(f), "not built"] for f in clientgo.FORMATS]


def _script(cache_home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(cache_home),
                               "XDG_CACHE_HOME": str(cache_home), **env}, check=False)


def test_a_failed_build_is_reported_by_locate(tmp_path: Path) -> None:
    """No Go: the script fails before any download, and says why where locate looks."""
    done = _script(tmp_path, KUBECODEGEN_GO_BIN_DIR=str(tmp_path / "no-go"))
    assert done.returncode == 1
    assert "Go 1.19 not found" in done.stderr
    cache = tmp_path / "kubecodegen" / f"clientgo-bench-{clientgo.KUBERNETES_VERSION}"
    found = clientgo.locate(cache)
    assert found.binary is None
    assert found.detail.startswith("build failed: Go 1.19 not found at ")


def test_a_cached_binary_is_reused_and_clears_the_failure(tmp_path: Path) -> None:
    cache = tmp_path / "kubecodegen" / f"clientgo-bench-{clientgo.KUBERNETES_VERSION}"
    folder = cache / clientgo.program_key()
    folder.mkdir(parents=True)
    binary = folder / clientgo.BINARY_NAME
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    (cache / "last-failure.txt").write_text("an earlier failure\n")
    done = _script(tmp_path, KUBECODEGEN_GO_BIN_DIR=str(tmp_path / "no-go"))
    assert done.returncode == 0, done.stderr
    assert "cached" in done.stdout
    assert not (cache / "last-failure.txt").exists()
    assert clientgo.locate(cache).binary == binary
