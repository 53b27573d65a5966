"""Unit tests for the harness's pure logic: binary lookup, flags, CI detection, names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.harness.assets import (
    AssetsMisconfiguredError,
    AssetsNotFoundError,
    cached_apiserver_path,
    find_assets,
    parse_version,
)
from tests.harness.cluster import unique_name
from tests.harness.flags import Layout, apiserver_args, etcd_args
from tests.harness.plugin import in_ci


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment in which nothing is installed: empty PATH folder, private HOME."""
    (tmp_path / "empty-bin").mkdir()
    return {"PATH": str(tmp_path / "empty-bin"), "HOME": str(tmp_path / "home")}


def test_nothing_installed_is_not_found_and_says_how_to_install(env: dict[str, str]) -> None:
    with pytest.raises(
        AssetsNotFoundError, match=r"missing kube-apiserver .*etcd .*make test-assets"
    ):
        find_assets(env)


def test_kubebuilder_assets_folder(tmp_path: Path, env: dict[str, str]) -> None:
    folder = tmp_path / "kb"
    apiserver = executable(folder / "kube-apiserver")
    etcd = executable(folder / "etcd")
    env["KUBEBUILDER_ASSETS"] = str(folder)
    assets = find_assets(env)
    assert (assets.kube_apiserver, assets.etcd, assets.etcdctl) == (apiserver, etcd, None)


def test_kubebuilder_assets_without_etcd_is_a_configuration_error(
    tmp_path: Path, env: dict[str, str]
) -> None:
    executable(tmp_path / "kb" / "kube-apiserver")
    executable(tmp_path / "path" / "etcd")
    env["KUBEBUILDER_ASSETS"] = str(tmp_path / "kb")
    env["PATH"] = str(tmp_path / "path")
    with pytest.raises(
        AssetsMisconfiguredError, match=r"KUBEBUILDER_ASSETS=.* no executable 'etcd'"
    ):
        find_assets(env)


def test_kubebuilder_assets_must_be_a_folder(tmp_path: Path, env: dict[str, str]) -> None:
    env["KUBEBUILDER_ASSETS"] = str(tmp_path / "nowhere")
    with pytest.raises(AssetsMisconfiguredError, match="is not a folder"):
        find_assets(env)


def test_specific_variables_win_over_kubebuilder_assets(
    tmp_path: Path, env: dict[str, str]
) -> None:
    executable(tmp_path / "kb" / "kube-apiserver")
    kb_etcd = executable(tmp_path / "kb" / "etcd")
    mine = executable(tmp_path / "mine" / "kube-apiserver")
    env["KUBEBUILDER_ASSETS"] = str(tmp_path / "kb")
    env["TEST_ASSET_KUBE_APISERVER"] = str(mine)
    assets = find_assets(env)
    assert (assets.kube_apiserver, assets.etcd) == (mine, kb_etcd)


def test_test_asset_variables_alone(tmp_path: Path, env: dict[str, str]) -> None:
    apiserver = executable(tmp_path / "a" / "kube-apiserver")
    etcd = executable(tmp_path / "b" / "etcd")
    etcdctl = executable(tmp_path / "b" / "etcdctl")
    env["TEST_ASSET_KUBE_APISERVER"] = str(apiserver)
    env["TEST_ASSET_ETCD"] = str(etcd)
    assets = find_assets(env)
    assert (assets.kube_apiserver, assets.etcd, assets.etcdctl) == (apiserver, etcd, etcdctl)


def test_non_executable_test_asset_names_the_variable(tmp_path: Path, env: dict[str, str]) -> None:
    plain = tmp_path / "etcd"
    plain.write_text("not executable")
    env["TEST_ASSET_ETCD"] = str(plain)
    with pytest.raises(
        AssetsMisconfiguredError, match=r"TEST_ASSET_ETCD=.*etcd is not an executable"
    ):
        find_assets(env)


def test_cache_then_path(tmp_path: Path, env: dict[str, str]) -> None:
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    cached = executable(cached_apiserver_path(env))
    assert cached == tmp_path / "xdg" / "kubecodegen" / "kube-apiserver-v1.20.2" / "kube-apiserver"
    on_path = tmp_path / "bin"
    executable(on_path / "kube-apiserver")
    etcd = executable(on_path / "etcd")
    etcdctl = executable(on_path / "etcdctl")
    env["PATH"] = str(on_path)
    assets = find_assets(env)
    assert (assets.kube_apiserver, assets.etcd, assets.etcdctl) == (cached, etcd, etcdctl)

    cached.unlink()
    assert find_assets(env).kube_apiserver == on_path / "kube-apiserver"


def test_cache_defaults_to_home(env: dict[str, str]) -> None:
    assert cached_apiserver_path(env).parent.parent == Path(env["HOME"]) / ".cache" / "kubecodegen"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kubernetes v1.20.2", (1, 20, 2)),
        ("Kubernetes v1.31.0-rc.1+abc", (1, 31, 0)),
        ("v1.9.11\n", (1, 9, 11)),
    ],
)
def test_parse_version(text: str, expected: tuple[int, int, int]) -> None:
    assert parse_version(text) == expected


def test_parse_version_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="no version number"):
        parse_version("Kubernetes unknown")


def layout(tmp_path: Path) -> Layout:
    return Layout(
        etcd_data=tmp_path / "etcd",
        pki=tmp_path / "pki",
        tokens_csv=tmp_path / "tokens.csv",
        etcd_client_port=2001,
        etcd_peer_port=2002,
        apiserver_port=2003,
    )


def test_apiserver_flags_follow_the_version(tmp_path: Path) -> None:
    old = apiserver_args(Path("/k"), (1, 20, 2), layout(tmp_path))
    new = apiserver_args(Path("/k"), (1, 30, 0), layout(tmp_path), watch_cache=False)
    assert "--insecure-port=0" in old
    assert not any(arg.startswith("--insecure-port") for arg in new)
    assert "--watch-cache=true" in old
    assert "--watch-cache=false" in new
    for args in (old, new):
        assert "--bind-address=127.0.0.1" in args
        assert "--etcd-servers=http://127.0.0.1:2001" in args
        assert "--secure-port=2003" in args
        assert f"--client-ca-file={tmp_path / 'pki' / 'ca.crt'}" in args


def test_extra_apiserver_flags_come_last(tmp_path: Path) -> None:
    args = apiserver_args(Path("/k"), (1, 20, 2), layout(tmp_path), extra=["--v=4"])
    assert args[-1] == "--v=4"


def test_etcd_listens_on_loopback_only(tmp_path: Path) -> None:
    urls = [arg for arg in etcd_args(Path("/e"), layout(tmp_path)) if "://" in arg]
    assert urls
    assert all("http://127.0.0.1:" in arg for arg in urls)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("1", True), ("yes", True), ("", False), ("false", False), ("0", False)],
)
def test_in_ci(value: str, expected: bool) -> None:
    assert in_ci({"CI": value}) is expected
    assert in_ci({}) is False


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@pytest.mark.parametrize(
    "hint",
    ["test_watch[param-1]", "X" * 200, "___", "a-", "Test Ünïcode"],
)
def test_unique_name_is_a_fresh_dns_label(hint: str) -> None:
    first, second = unique_name(hint), unique_name(hint)
    assert first != second
    for name in (first, second):
        assert len(name) <= 63
        assert _DNS_LABEL.match(name), name
