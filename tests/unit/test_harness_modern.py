"""Unit tests for the modern (v1.36, CRDs only) server's pure harness logic: lookup, flags, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.__main__ import _directory_for, _kinds, cluster_directory
from tests.harness.assets import (
    AssetsMisconfiguredError,
    AssetsNotFoundError,
    ServerKind,
    find_modern_assets,
    modern_cache_path,
    modern_unavailable_path,
)
from tests.harness.flags import Layout, modern_apiserver_args
from tests.harness.plugin import require_modern


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Nothing installed: an empty PATH folder and a private cache."""
    (tmp_path / "empty-bin").mkdir()
    return {"PATH": str(tmp_path / "empty-bin"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}


def test_cache_is_keyed_by_version(env: dict[str, str], tmp_path: Path) -> None:
    assert modern_cache_path(env) == tmp_path / "xdg" / "kubecodegen" / "modern-apiserver-v1.36.4"
    assert modern_unavailable_path(env).name == "modern-apiserver-v1.36.4.unavailable"


def test_not_built_says_how_to_build(env: dict[str, str]) -> None:
    with pytest.raises(AssetsNotFoundError, match=r"v1\.36\.4 not built .*make test-assets"):
        find_modern_assets(env)


def test_the_installers_reason_becomes_the_error(env: dict[str, str]) -> None:
    """When sid moved, the skip reason is the installer's one line naming the package."""
    line = "modern-apiserver UNAVAILABLE: Debian sid no longer provides golang-k8s-api-dev (pinned 0.36.4-1)"
    path = modern_unavailable_path(env)
    path.parent.mkdir(parents=True)
    path.write_text(line + "\n")
    with pytest.raises(AssetsNotFoundError) as caught:
        find_modern_assets(env)
    assert str(caught.value) == line


def test_cached_build_with_its_own_etcd(env: dict[str, str]) -> None:
    folder = modern_cache_path(env)
    server = executable(folder / "apiextensions-apiserver")
    etcd = executable(folder / "etcd")
    etcdctl = executable(folder / "etcdctl")
    # The 1.20 cluster's etcd on PATH is not taken while the cache has etcd 3.5.
    executable(Path(env["PATH"]) / "etcd")
    assets = find_modern_assets(env)
    assert (assets.kube_apiserver, assets.etcd, assets.etcdctl, assets.kind) == (
        server,
        etcd,
        etcdctl,
        ServerKind.MODERN,
    )


def test_a_cached_build_wins_over_an_old_unavailable_record(env: dict[str, str]) -> None:
    folder = modern_cache_path(env)
    executable(folder / "apiextensions-apiserver")
    executable(folder / "etcd")
    modern_unavailable_path(env).write_text("modern-apiserver UNAVAILABLE: stale\n")
    assert find_modern_assets(env).kind is ServerKind.MODERN


def test_bring_your_own_binaries(env: dict[str, str], tmp_path: Path) -> None:
    server = executable(tmp_path / "mine" / "apiextensions-apiserver")
    etcd = executable(tmp_path / "mine" / "etcd-3.5")
    env["TEST_ASSET_MODERN_APISERVER"] = str(server)
    env["TEST_ASSET_MODERN_ETCD"] = str(etcd)
    assets = find_modern_assets(env)
    assert (assets.kube_apiserver, assets.etcd) == (server, etcd)


def test_variables_pointing_at_nothing_are_configuration_errors(
    env: dict[str, str], tmp_path: Path
) -> None:
    env["TEST_ASSET_MODERN_APISERVER"] = str(tmp_path / "nothing")
    with pytest.raises(AssetsMisconfiguredError, match="TEST_ASSET_MODERN_APISERVER="):
        find_modern_assets(env)
    env["TEST_ASSET_MODERN_APISERVER"] = str(executable(tmp_path / "server"))
    env["TEST_ASSET_MODERN_ETCD"] = str(tmp_path / "no-etcd")
    with pytest.raises(AssetsMisconfiguredError, match="TEST_ASSET_MODERN_ETCD="):
        find_modern_assets(env)


def test_switched_off(env: dict[str, str]) -> None:
    folder = modern_cache_path(env)
    executable(folder / "apiextensions-apiserver")
    executable(folder / "etcd")
    env["SKIP_MODERN_APISERVER"] = "1"
    with pytest.raises(AssetsNotFoundError, match="SKIP_MODERN_APISERVER=1"):
        find_modern_assets(env)


def test_require_modern() -> None:
    assert require_modern({"KUBECODEGEN_REQUIRE_MODERN": "1"})
    assert not require_modern({"CI": "true"})  # CI alone: an unbuilt modern server skips


def test_modern_flags(tmp_path: Path) -> None:
    layout = Layout(
        etcd_data=tmp_path / "etcd",
        pki=tmp_path / "pki",
        tokens_csv=tmp_path / "tokens.csv",
        etcd_client_port=2379,
        etcd_peer_port=2380,
        apiserver_port=6443,
    )
    args = modern_apiserver_args(Path("/x/apiextensions-apiserver"), layout, watch_cache=False,
                                 extra=["--v=4"])
    assert args[0] == "/x/apiextensions-apiserver"
    for flag in (
        "--etcd-servers=http://127.0.0.1:2379",
        "--secure-port=6443",
        "--bind-address=127.0.0.1",
        f"--token-auth-file={tmp_path / 'tokens.csv'}",
        f"--client-ca-file={tmp_path / 'pki' / 'ca.crt'}",
        "--enable-garbage-collector=false",
        "--watch-cache=false",
    ):
        assert flag in args
    assert args[-1] == "--v=4"
    # kube-apiserver-only flags would make the modern server refuse to start.
    assert not [a for a in args if a.startswith(("--authorization-mode", "--service-account", "--insecure-port"))]


def test_make_cluster_server_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert _kinds("both") == [ServerKind.KUBE, ServerKind.MODERN]
    assert _kinds("modern") == [ServerKind.MODERN]
    monkeypatch.setenv("KUBECODEGEN_CLUSTER_DIR", str(tmp_path / "c"))
    assert cluster_directory() == tmp_path / "c"
    assert _directory_for(ServerKind.KUBE) == tmp_path / "c"
    assert _directory_for(ServerKind.MODERN) == tmp_path / "c-modern"


ROOT = Path(__file__).resolve().parents[2]


def _run_modern_tests(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "modern",
         "-k", "cel or typed_crud", "tests/integration/test_cr_machinery_cluster.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def test_unbuilt_modern_server_is_a_loud_skip_even_in_ci(tmp_path: Path) -> None:
    """CI=true: the run passes (a moving suite never blocks), but says why, twice: in each skip
    reason and in a banner counting the skipped tests."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "CI": "true"}
    env.pop("TEST_ASSET_MODERN_APISERVER", None)
    line = "modern-apiserver UNAVAILABLE: Debian sid no longer provides golang-k8s-api-dev (pinned 0.36.4-1)"
    record = modern_unavailable_path(env)
    record.parent.mkdir(parents=True)
    record.write_text(line + "\n")
    result = _run_modern_tests(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 skipped" in result.stdout
    assert "2 tests on the Kubernetes 1.36 server were SKIPPED" in result.stdout
    assert line in result.stdout

    env["KUBECODEGEN_REQUIRE_MODERN"] = "1"
    required = _run_modern_tests(env)
    assert required.returncode == 1 and "KUBECODEGEN_REQUIRE_MODERN=1" in required.stdout
