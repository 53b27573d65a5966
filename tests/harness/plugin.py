"""pytest fixtures for the real test cluster (loaded from tests/conftest.py).

Fixtures:
    cluster          session-wide `TestCluster`, started on first use.
    namespace        a fresh namespace (with its ``default`` service account) on that cluster.
    private_cluster  a cluster of the test's own (watch cache off), to stop/restart/compact.
    cluster_factory  start further clusters with custom options; all closed after the test.

Every test using one of them is marked ``cluster`` automatically, so ``-m "not cluster"`` runs
the unit tests without binaries. Missing binaries skip those tests with the reason, except in CI
(``CI`` set), where a missing binary is an error: CI must never pass by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .assets import Assets, AssetsMisconfiguredError, AssetsNotFoundError, find_assets
from .cluster import TestCluster, unique_name

CLUSTER_FIXTURES = frozenset(
    {"cluster", "namespace", "private_cluster", "cluster_factory", "cluster_assets"}
)


def in_ci(env: dict[str, str] | None = None) -> bool:
    """True when the ``CI`` variable says so (GitHub, GitLab and most others set CI=true)."""
    value = (os.environ if env is None else env).get("CI", "")
    return value.strip().lower() not in ("", "0", "false", "no")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark cluster users before ``-m`` deselection runs (hence tryfirst)."""
    for item in items:
        if CLUSTER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(scope="session")
def cluster_assets() -> Assets:
    """The binaries, or a skip (an error in CI) saying what is missing and how to get it."""
    try:
        return find_assets()
    except AssetsMisconfiguredError as exc:
        pytest.fail(f"test cluster binaries misconfigured: {exc}", pytrace=False)
    except AssetsNotFoundError as exc:
        if in_ci():
            pytest.fail(f"test cluster binaries missing in CI: {exc}", pytrace=False)
        pytest.skip(f"test cluster binaries missing: {exc}")


def _started(cluster: TestCluster) -> TestCluster:
    try:
        cluster.start()
    except BaseException:
        cluster.close()
        raise
    return cluster


@pytest.fixture(scope="session")
def cluster(cluster_assets: Assets) -> Iterator[TestCluster]:
    """One cluster shared by the whole session; tests isolate themselves with `namespace`."""
    started = _started(TestCluster(cluster_assets))
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def namespace(cluster: TestCluster, request: pytest.FixtureRequest) -> str:
    """A new namespace named after the test. Not deleted: without kube-controller-manager a
    deleted namespace stays Terminating forever, and the session cluster is discarded anyway."""
    return cluster.create_namespace(unique_name(request.node.name, max_length=50))


@pytest.fixture
def cluster_factory(cluster_assets: Assets) -> Iterator[Callable[..., TestCluster]]:
    """``cluster_factory(**TestCluster options)`` starts a cluster that is closed after the test."""
    made: list[TestCluster] = []

    def make(**options: Any) -> TestCluster:
        new = TestCluster(cluster_assets, **options)
        made.append(new)
        return _started(new)

    try:
        yield make
    finally:
        for each in reversed(made):
            each.close()


@pytest.fixture
def private_cluster(cluster_factory: Callable[..., TestCluster]) -> TestCluster:
    """A cluster of this test's own, with the watch cache off so that `compact()` and
    `restart()` reach watches exactly as etcd dictates (410 Gone for compacted revisions)."""
    return cluster_factory(watch_cache=False)
