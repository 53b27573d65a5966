"""pytest fixtures for the real test cluster (loaded from tests/conftest.py).

Fixtures:
    cluster          session-wide `TestCluster`, started on first use.
    namespace        a fresh namespace (with its ``default`` service account) on that cluster.
    private_cluster  a cluster of the test's own (watch cache off), to stop/restart/compact.
    cluster_factory  start further clusters with custom options; all closed after the test.

The modern server (API machinery v1.36, CRDs and custom resources only; see
docs/test-cluster.md):
    modern_cluster          session-wide `TestCluster` on the modern server.
    modern_namespace        a fresh namespace name there (no Namespace objects exist there).
    modern_private_cluster  a modern cluster of the test's own (watch cache off).
    modern_cluster_factory  further modern clusters with custom options.

Either server, for tests about custom resources (each test runs once per server, ids
``[kube]`` and ``[modern]``):
    cr_cluster, cr_namespace, cr_private_cluster

Every test using one of them is marked ``cluster`` automatically, so ``-m "not cluster"`` runs
the unit tests without binaries; tests on the modern server are also marked ``modern``
(``-m "not modern"`` leaves them out). Missing kube-apiserver binaries skip those tests with the
reason, except in CI (``CI`` set), where a missing binary is an error: CI must never pass by
skipping. A modern server that could not be built is different by design: Debian sid, which it
is built from, moves, and a moving suite must never block the project. So its tests are skipped
in CI too, loudly: the reason (the installer's one line naming the package) is in the skip
reason, and a banner at the end of the run counts the skipped tests. ``KUBECODEGEN_REQUIRE_MODERN=1``
turns that skip into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .assets import (
    Assets,
    AssetsMisconfiguredError,
    AssetsNotFoundError,
    ServerKind,
    find_assets,
    find_modern_assets,
)
from .cluster import TestCluster, unique_name
from .kubelet import TestKubelet
from .kubelet_pods import KubeletPod

MODERN_FIXTURES = frozenset(
    {
        "modern_cluster",
        "modern_namespace",
        "modern_private_cluster",
        "modern_cluster_factory",
        "modern_assets",
    }
)
#: Parametrized over both servers; their modern instances carry the ``modern`` mark.
EITHER_SERVER_FIXTURES = frozenset({"cr_cluster", "cr_namespace", "cr_private_cluster"})
CLUSTER_FIXTURES = frozenset(
    {
        "cluster",
        "namespace",
        "private_cluster",
        "cluster_factory",
        "cluster_assets",
        "kubelet",
        "kubelet_pod",
    }
    | MODERN_FIXTURES
    | EITHER_SERVER_FIXTURES
)

#: Every skip for want of the modern server starts with this, so the summary can count them.
MODERN_SKIP_PREFIX = "MODERN API SERVER (Kubernetes 1.36) UNAVAILABLE"

SERVERS = (
    pytest.param(ServerKind.KUBE, id="kube"),
    pytest.param(ServerKind.MODERN, id="modern", marks=pytest.mark.modern),
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "modern: runs on the modern API server (v1.36, CRDs only) of tests/harness"
    )


def in_ci(env: dict[str, str] | None = None) -> bool:
    """True when the ``CI`` variable says so (GitHub, GitLab and most others set CI=true)."""
    value = (os.environ if env is None else env).get("CI", "")
    return value.strip().lower() not in ("", "0", "false", "no")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark cluster users before ``-m`` deselection runs (hence tryfirst)."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if CLUSTER_FIXTURES.intersection(names):
            item.add_marker(pytest.mark.cluster)
        if MODERN_FIXTURES.intersection(names):
            item.add_marker(pytest.mark.modern)


def require_modern(env: dict[str, str] | None = None) -> bool:
    """``KUBECODEGEN_REQUIRE_MODERN=1``: an unbuilt modern server fails instead of skipping."""
    return (os.environ if env is None else env).get("KUBECODEGEN_REQUIRE_MODERN", "") == "1"


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say at the top of every run which servers the cluster tests will use."""
    lines = []
    for label, finder in (("kube-apiserver", find_assets), ("modern", find_modern_assets)):
        try:
            lines.append(f"test cluster {label}: {finder().kube_apiserver}")
        except (AssetsNotFoundError, AssetsMisconfiguredError) as exc:
            lines.append(f"test cluster {label}: NOT AVAILABLE: {exc}")
    return lines


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """A banner when tests were skipped for want of the modern server: never a silent skip."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if MODERN_SKIP_PREFIX in str(getattr(report, "longrepr", ""))
    ]
    if not skipped:
        return
    longrepr = skipped[0].longrepr
    reason = str(longrepr[2]).removeprefix("Skipped: ") if isinstance(longrepr, tuple) else ""
    terminalreporter.section("modern API server", sep="!", red=True, bold=True)
    terminalreporter.line(
        f"{len(skipped)} tests on the Kubernetes 1.36 server were SKIPPED. {reason}",
        red=True,
        bold=True,
    )


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


@pytest.fixture(scope="session")
def kubelet(cluster: TestCluster) -> Iterator[TestKubelet]:
    """The test kubelet of the session cluster: a Ready Node whose kubelet API (logs, exec,
    attach, port-forward, node proxy) the API server reaches (see docs/test-cluster.md)."""
    node = TestKubelet(cluster)
    try:
        node.start()
        yield node
    finally:
        node.close()


@pytest.fixture
def kubelet_pod(kubelet: TestKubelet, namespace: str) -> Iterator[KubeletPod]:
    """A Running pod (one container ``main``) on the test kubelet's node, in `namespace`.
    Faults set on the kubelet during the test are cleared afterwards."""
    pod = kubelet.create_pod(namespace)
    try:
        yield pod
    finally:
        kubelet.clear_faults()
        pod.close()


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


# ----- the modern server ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def modern_assets() -> Assets:
    """The modern server's binaries, or a loud skip with the installer's reason (see module doc)."""
    try:
        return find_modern_assets()
    except AssetsMisconfiguredError as exc:
        pytest.fail(f"modern API server misconfigured: {exc}", pytrace=False)
    except AssetsNotFoundError as exc:
        message = f"{MODERN_SKIP_PREFIX}: {exc}"
        if require_modern():
            pytest.fail(f"{message} (KUBECODEGEN_REQUIRE_MODERN=1)", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def modern_cluster(modern_assets: Assets) -> Iterator[TestCluster]:
    """One modern cluster shared by the whole session (CRDs and custom resources only)."""
    started = _started(TestCluster(modern_assets))
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def modern_namespace(modern_cluster: TestCluster, request: pytest.FixtureRequest) -> str:
    """A namespace name of the test's own: nothing to create on the modern server."""
    return modern_cluster.create_namespace(unique_name(request.node.name, max_length=50))


@pytest.fixture
def modern_cluster_factory(modern_assets: Assets) -> Iterator[Callable[..., TestCluster]]:
    """``modern_cluster_factory(**TestCluster options)``: modern clusters closed after the test."""
    made: list[TestCluster] = []

    def make(**options: Any) -> TestCluster:
        new = TestCluster(modern_assets, **options)
        made.append(new)
        return _started(new)

    try:
        yield make
    finally:
        for each in reversed(made):
            each.close()


@pytest.fixture
def modern_private_cluster(modern_cluster_factory: Callable[..., TestCluster]) -> TestCluster:
    """A modern cluster of this test's own, watch cache off (see `private_cluster`)."""
    return modern_cluster_factory(watch_cache=False)


# ----- either server, for custom-resource tests ----------------------------------------------


@pytest.fixture(scope="session", params=SERVERS)
def cr_cluster(request: pytest.FixtureRequest) -> TestCluster:
    """The session cluster of each server in turn: a custom-resource test runs on both."""
    kind: ServerKind = request.param
    cluster: TestCluster = request.getfixturevalue(
        "modern_cluster" if kind is ServerKind.MODERN else "cluster"
    )
    return cluster


@pytest.fixture
def cr_namespace(cr_cluster: TestCluster, request: pytest.FixtureRequest) -> str:
    """A fresh namespace on `cr_cluster` (a created one on kube-apiserver, a name on modern)."""
    return cr_cluster.create_namespace(unique_name(request.node.name, max_length=50))


@pytest.fixture(params=SERVERS)
def cr_private_cluster(request: pytest.FixtureRequest) -> TestCluster:
    """`private_cluster` or `modern_private_cluster`: a test's own cluster of each server."""
    kind: ServerKind = request.param
    cluster: TestCluster = request.getfixturevalue(
        "modern_private_cluster" if kind is ServerKind.MODERN else "private_cluster"
    )
    return cluster
