"""envtest's binary lookup: which source wins, and what the errors say (nothing is started)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from kubecodegen_runtime.envtest import (
    BinariesMisconfiguredError,
    BinaryNotFoundError,
    Environment,
    find_binaries,
)
from kubecodegen_runtime.envtest.binaries import cached_apiserver_path


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


def kubebuilder_assets(folder: Path) -> dict[str, Path]:
    """A folder laid out as setup-envtest lays it out."""
    return {name: executable(folder / name) for name in ("kube-apiserver", "etcd", "etcdctl")}


def test_explicit_arguments_win_over_every_variable(tmp_path: Path, env: dict[str, str]) -> None:
    kubebuilder_assets(tmp_path / "kb")
    env["KUBEBUILDER_ASSETS"] = str(tmp_path / "kb")
    env["TEST_ASSET_KUBE_APISERVER"] = str(executable(tmp_path / "var" / "kube-apiserver"))
    mine = {n: executable(tmp_path / "mine" / n) for n in ("kube-apiserver", "etcd", "etcdctl")}
    found = find_binaries(mine["kube-apiserver"], mine["etcd"], mine["etcdctl"], env=env)
    assert (found.kube_apiserver, found.etcd, found.etcdctl) == (
        mine["kube-apiserver"],
        mine["etcd"],
        mine["etcdctl"],
    )


def test_test_asset_variables_win_over_kubebuilder_assets(
    tmp_path: Path, env: dict[str, str]
) -> None:
    folder = kubebuilder_assets(tmp_path / "kb")
    env["KUBEBUILDER_ASSETS"] = str(tmp_path / "kb")
    etcd = executable(tmp_path / "other" / "etcd")
    etcdctl = executable(tmp_path / "third" / "etcdctl")
    env["TEST_ASSET_ETCD"] = str(etcd)
    env["TEST_ASSET_ETCDCTL"] = str(etcdctl)
    found = find_binaries(env=env)
    assert (found.kube_apiserver, found.etcd, found.etcdctl) == (
        folder["kube-apiserver"],
        etcd,
        etcdctl,
    )


def test_kubebuilder_assets_win_over_the_cache_and_path(tmp_path: Path, env: dict[str, str]) -> None:
    executable(cached_apiserver_path(env))
    for name in ("kube-apiserver", "etcd", "etcdctl"):
        executable(Path(env["PATH"]) / name)
    folder = kubebuilder_assets(tmp_path / "kb")
    env["KUBEBUILDER_ASSETS"] = str(tmp_path / "kb")
    found = find_binaries(env=env)
    assert (found.kube_apiserver, found.etcd, found.etcdctl) == (
        folder["kube-apiserver"],
        folder["etcd"],
        folder["etcdctl"],
    )


def test_the_cache_wins_over_path_and_etcdctl_is_found_next_to_etcd(
    tmp_path: Path, env: dict[str, str]
) -> None:
    cached = executable(cached_apiserver_path(env))
    assert cached == tmp_path / "xdg" / "kubecodegen" / "kube-apiserver-v1.20.2" / "kube-apiserver"
    executable(Path(env["PATH"]) / "kube-apiserver")
    etcd = executable(tmp_path / "etcd-dir" / "etcd")
    etcdctl = executable(tmp_path / "etcd-dir" / "etcdctl")
    env["TEST_ASSET_ETCD"] = str(etcd)
    found = find_binaries(env=env)
    assert (found.kube_apiserver, found.etcd, found.etcdctl) == (cached, etcd, etcdctl)
    cached.unlink()
    assert find_binaries(env=env).kube_apiserver == Path(env["PATH"]) / "kube-apiserver"


def test_a_missing_binary_names_every_place_searched(tmp_path: Path, env: dict[str, str]) -> None:
    executable(tmp_path / "kb" / "kube-apiserver")
    executable(tmp_path / "kb" / "etcd")
    env["TEST_ASSET_KUBE_APISERVER"] = str(tmp_path / "kb" / "kube-apiserver")
    env["TEST_ASSET_ETCD"] = str(tmp_path / "kb" / "etcd")
    assert find_binaries(env=env).etcdctl is None  # optional: reported by compact()
    del env["TEST_ASSET_KUBE_APISERVER"]
    with pytest.raises(BinaryNotFoundError) as caught:
        find_binaries(env=env)
    message = str(caught.value)
    assert message.startswith("missing kube-apiserver (looked at ")
    for place in (
        "argument kube_apiserver (not given)",
        "$TEST_ASSET_KUBE_APISERVER (not set)",
        "$KUBEBUILDER_ASSETS (not set)",
        str(cached_apiserver_path(env)),
        f"PATH ({env['PATH']})",
        "KUBEBUILDER_ASSETS to a folder",  # the hint
    ):
        assert place in message
    assert "etcd (" not in message  # etcd was found


def test_both_missing_and_a_custom_hint(env: dict[str, str]) -> None:
    with pytest.raises(BinaryNotFoundError, match=r"missing kube-apiserver .*; etcd .*; run make") as caught:
        find_binaries(env=env, hint="run make")
    assert "$TEST_ASSET_ETCD (not set)" in str(caught.value)


def test_a_kubebuilder_assets_folder_without_the_binary_is_listed(
    tmp_path: Path, env: dict[str, str]
) -> None:
    executable(tmp_path / "kb" / "etcd")
    env["KUBEBUILDER_ASSETS"] = str(tmp_path / "kb")
    env["TEST_ASSET_KUBE_APISERVER"] = str(tmp_path / "nowhere")
    with pytest.raises(BinariesMisconfiguredError, match=r"TEST_ASSET_KUBE_APISERVER=.* is not an executable"):
        find_binaries(env=env)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("not-a-folder", r"KUBEBUILDER_ASSETS=.* is not a folder"),
        ("no-etcd", r"KUBEBUILDER_ASSETS=.* holds no executable 'etcd' \(and TEST_ASSET_ETCD is not set\)"),
        ("bad-argument", r"etcd='.*plain' is not an executable file"),
    ],
)
def test_configuration_mistakes_are_not_papered_over(
    tmp_path: Path, env: dict[str, str], setup: str, message: str
) -> None:
    # A usable etcd on PATH must not be taken instead of the configured one.
    executable(Path(env["PATH"]) / "etcd")
    executable(tmp_path / "kb" / "kube-apiserver")
    env["KUBEBUILDER_ASSETS"] = str(tmp_path / ("missing" if setup == "not-a-folder" else "kb"))
    etcd = None
    if setup == "bad-argument":
        executable(tmp_path / "kb" / "etcd")
        etcd = tmp_path / "plain"
        etcd.write_text("not executable")
    with pytest.raises(BinariesMisconfiguredError, match=message):
        find_binaries(etcd=etcd, env=env)


def test_an_explicit_etcd_stands_in_for_a_folder_without_one(
    tmp_path: Path, env: dict[str, str]
) -> None:
    apiserver = executable(tmp_path / "kb" / "kube-apiserver")
    etcd = executable(tmp_path / "elsewhere" / "etcd")
    env["KUBEBUILDER_ASSETS"] = str(tmp_path / "kb")
    found = find_binaries(etcd=etcd, env=env)
    assert (found.kube_apiserver, found.etcd) == (apiserver, etcd)


def test_environment_looks_binaries_up_before_making_anything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str]
) -> None:
    for name in ("KUBEBUILDER_ASSETS", "TEST_ASSET_KUBE_APISERVER", "TEST_ASSET_ETCD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # where mkdtemp would go
    with pytest.raises(BinaryNotFoundError, match="missing kube-apiserver"):
        Environment()
    assert list((tmp_path / "tmp").iterdir()) == []
