"""How a `TestCluster` claims, guards and cleans its folder (nothing is started here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.assets import Assets
from tests.harness.cluster import MARKER, TestCluster

FAKE = Assets(
    kube_apiserver=Path("/nonexistent/kube-apiserver"), etcd=Path("/nonexistent/etcd"), etcdctl=None
)


def test_default_folder_is_private_and_removed_on_close() -> None:
    cluster = TestCluster(FAKE)
    folder = cluster.directory
    assert folder.is_dir()
    assert folder.stat().st_mode & 0o777 == 0o700
    (folder / "some-file").write_text("x")
    cluster.close()
    assert not folder.exists()
    cluster.close()  # idempotent


def test_absent_explicit_folder_is_created_and_removed(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"
    cluster = TestCluster(FAKE, directory=folder)
    assert folder.is_dir()
    assert folder.stat().st_mode & 0o777 == 0o700
    cluster.close()
    assert not folder.exists()
    assert (tmp_path / "a").is_dir()


def test_foreign_folder_is_refused_and_untouched(tmp_path: Path) -> None:
    (tmp_path / "precious").write_text("keep me")
    with pytest.raises(ValueError, match="not empty and was not made by the harness"):
        TestCluster(FAKE, directory=tmp_path)
    assert (tmp_path / "precious").read_text() == "keep me"


def test_leftover_folder_is_emptied_and_reused(tmp_path: Path) -> None:
    (tmp_path / MARKER).write_text("old run")
    (tmp_path / "etcd-data").mkdir()
    (tmp_path / "etcd-data" / "db").write_text("stale")
    cluster = TestCluster(FAKE, directory=tmp_path)
    # the stale etcd data is gone; what is there is this cluster's own (the certificates of the
    # API server's link to a test kubelet are made with the cluster)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([MARKER, "kubelet-pki"])
    cluster.close()
    assert tmp_path.is_dir()  # it existed before, so only its contents go
    assert list(tmp_path.iterdir()) == []


def test_folder_of_a_live_cluster_is_not_taken_over(tmp_path: Path) -> None:
    first = TestCluster(FAKE, directory=tmp_path)
    (tmp_path / "etcd-data").mkdir()
    try:
        with pytest.raises(ValueError, match="in use by a running cluster"):
            TestCluster(FAKE, directory=tmp_path)
        assert (tmp_path / "etcd-data").is_dir()
    finally:
        first.close()
    second = TestCluster(FAKE, directory=tmp_path)
    second.close()


def test_symlinked_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(ValueError, match="not a plain folder"):
        TestCluster(FAKE, directory=tmp_path / "link")


def test_unstarted_cluster_says_so_and_hides_tokens() -> None:
    cluster = TestCluster(FAKE)
    try:
        with pytest.raises(RuntimeError, match="not been started"):
            _ = cluster.server
        assert cluster.admin_token not in repr(cluster)
        assert cluster.restricted_token not in repr(cluster)
        assert cluster.admin_token != cluster.restricted_token
        assert not cluster.running
    finally:
        cluster.close()
