"""Watch-lists (``sendInitialEvents``) on BOTH servers: the 1.36 server streams the listing as
the first events of a watch; kube-apiserver 1.20 refuses the request (422) and everything
falls back to paged LISTs. What each server does is asserted, not averaged."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from kubecodegen_runtime.cache.informer import SharedInformer
from kubecodegen_runtime.cache.reflector import ListWatchError
from kubecodegen_runtime.cache.watcher import FailureKind
from kubecodegen_runtime.client import RESTClient
from kubecodegen_runtime.config import ClientConfig
from kubecodegen_runtime.errors import ApiError
from kubecodegen_runtime.rest.request import Request
from kubecodegen_runtime.rest.response import Response
from kubecodegen_runtime.transport import Stream, Transport
from tests.harness.cluster import TestCluster

from .cr_machinery import GIZMO_CRD, Gizmo, Gizmos, gizmo, install_crd
from .rest_helpers import admin_config

pytestmark = pytest.mark.cluster


class RecordingTransport(Transport):
    """The real transport, keeping each request's path and query and the answer's code."""

    def __init__(self, config: ClientConfig) -> None:
        super().__init__(config)
        self.sent: list[tuple[str, dict[str, str], int]] = []

    def send(self, req: Request) -> Response:
        try:
            resp = super().send(req)
        except ApiError as exc:
            self.sent.append((req.path, dict(req.params), exc.status))
            raise
        self.sent.append((req.path, dict(req.params), resp.status_code))
        return resp

    def open(self, req: Request) -> Stream:
        stream = super().open(req)  # an error status is raised by the client, from the stream
        self.sent.append((req.path, dict(req.params), stream.status_code))
        return stream


@pytest.fixture
def recorded(cr_cluster: TestCluster) -> Iterator[tuple[RESTClient, RecordingTransport]]:
    install_crd(cr_cluster.admin_client(), GIZMO_CRD)
    transport = RecordingTransport(admin_config(cr_cluster))
    with RESTClient(admin_config(cr_cluster), transport=transport) as rest:
        yield rest, transport


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def names(objects: list[Gizmo]) -> list[str]:
    return sorted(str(o.metadata.name) for o in objects if o.metadata)


def test_list_all_with_a_watch_list(recorded: tuple[RESTClient, RecordingTransport],
                                    cr_cluster: TestCluster, cr_namespace: str) -> None:
    rest, transport = recorded
    gizmos = Gizmos(rest, cr_namespace)
    for i in range(7):
        gizmos.create(gizmo(f"wl-{i}"))
    transport.sent.clear()
    streamed = list(gizmos.list_all(watch_list=True, page_size=3))
    requests = list(transport.sent)
    assert names(streamed) == [f"wl-{i}" for i in range(7)]
    assert names(streamed) == names(list(gizmos.list_all()))
    _, first_query, first_code = requests[0]
    assert first_query["sendInitialEvents"] == "true"
    assert first_query["resourceVersionMatch"] == "NotOlderThan"
    if cr_cluster.modern:
        assert len(requests) == 1 and first_code == 200  # one stream, no page
    else:
        assert first_code == 422  # refused; then pages of 3
        assert [q.get("limit") for _, q, _ in requests[1:]] == ["3", "3", "3"]


def test_informer_with_a_watch_list(recorded: tuple[RESTClient, RecordingTransport],
                                    cr_cluster: TestCluster, cr_namespace: str) -> None:
    rest, _ = recorded
    gizmos = Gizmos(rest, cr_namespace)
    for i in range(5):
        gizmos.create(gizmo(f"inf-{i}"))
    informer: SharedInformer[Gizmo] = SharedInformer(
        rest, Gizmos.info, Gizmo, namespace=cr_namespace, watch_list=True, page_size=2)
    errors: list[BaseException] = []
    informer.set_watch_error_handler(errors.append)
    informer.start()
    try:
        assert informer.wait_for_sync(30)
        assert names(informer.lister().list()) == [f"inf-{i}" for i in range(5)]
        gizmos.create(gizmo("inf-late"))
        gizmos.delete("inf-0")
        wait_until(lambda: names(informer.lister().list())
                   == ["inf-1", "inf-2", "inf-3", "inf-4", "inf-late"],
                   what="events after the listing")
        if cr_cluster.modern:
            assert informer.uses_watch_list and errors == []
        else:
            assert not informer.uses_watch_list
            assert [e.failure.kind for e in errors if isinstance(e, ListWatchError)] == [
                FailureKind.WATCH_LIST_UNSUPPORTED]
            assert len(errors) == 1
    finally:
        assert informer.stop(30)


def test_watch_list_informer_converges_across_a_restart_and_compaction(
        modern_private_cluster: TestCluster) -> None:
    cluster = modern_private_cluster
    install_crd(cluster.admin_client(), GIZMO_CRD)
    namespace = cluster.create_namespace()
    with RESTClient(admin_config(cluster)) as rest:
        gizmos = Gizmos(rest, namespace)
        for i in range(3):
            gizmos.create(gizmo(f"r{i}"))
        informer: SharedInformer[Gizmo] = SharedInformer(
            rest, Gizmos.info, Gizmo, namespace=namespace, watch_list=True)
        informer.start()
        try:
            assert informer.wait_for_sync(30)
            cluster.stop_apiserver()
            cluster.start_apiserver()
            gizmos.delete("r0")
            gizmos.create(gizmo("r-new"))
            cluster.compact()
            wait_until(lambda: names(informer.lister().list()) == ["r-new", "r1", "r2"],
                       timeout=60, what="the informer to converge after restart + compaction")
            assert informer.uses_watch_list
        finally:
            assert informer.stop(30)
