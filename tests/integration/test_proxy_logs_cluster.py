"""pods/services/nodes ``proxy`` and pod logs (get_log / stream_log) through the generated
clientset (generated/kube_v1_20), against kube-apiserver and the test kubelet."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from tests.generated_packages import import_reference
from tests.harness.cluster import TestCluster
from tests.harness.kubelet import NODE_NAME, KubeletRequest, KubeletResponse, TestKubelet
from tests.harness.kubelet_pods import KubeletPod
from tests.harness.kubelet_servers import HttpAnswer, HttpRecord

import_reference("kube_v1_20")
from kube_v1_20 import AsyncClientset, Clientset  # noqa: E402

from kubecodegen_runtime.errors import (  # noqa: E402
    BadRequest,
    Forbidden,
    InternalError,
    KubernetesWarning,
    NotFound,
    TransportError,
)

pytestmark = pytest.mark.cluster


@pytest.fixture
def cs(cluster: TestCluster) -> Iterator[Any]:
    with Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as client:
        yield client


def _proxyable(kubelet: TestKubelet) -> None:
    if not kubelet.proxyable:
        pytest.skip(kubelet.skip_reason)


# ----- proxy -----------------------------------------------------------------------------------


def test_pod_proxy_method_path_query_headers_body(
    cs: Any, kubelet: TestKubelet, kubelet_pod: KubeletPod
) -> None:
    _proxyable(kubelet)
    server = kubelet_pod.serve_http()
    pods = cs.core_v1.pods(kubelet_pod.namespace)
    got = pods.proxy(kubelet_pod.name, "a b/c?d", port=server.port, method="POST",
                     params={"q": "1&2"}, body=b"\x00payload",
                     headers={"X-Test": "yes", "Content-Type": "application/x-test"})
    assert got.status == 200 and got.ok
    echoed = got.json()
    assert echoed["method"] == "POST"
    assert echoed["path"] == "/a%20b/c%3Fd?q=1%262"
    headers = {k.lower(): v for k, v in echoed["headers"]}
    assert headers["x-test"] == "yes"
    assert headers["content-type"] == "application/x-test"
    assert "authorization" not in headers  # the apiserver does not pass our token on
    assert kubelet_pod.http_requests[-1].body == b"\x00payload"
    # an empty path is the root (the apiserver would redirect ".../proxy" there)
    head = pods.proxy(kubelet_pod.name, port=server.port, method="HEAD")
    assert head.status == 200 and head.body == b""
    assert kubelet_pod.http_requests[-1].path == "/"


def test_the_targets_errors_are_answers_the_apiservers_are_raised(
    cluster: TestCluster, cs: Any, kubelet: TestKubelet, kubelet_pod: KubeletPod
) -> None:
    _proxyable(kubelet)

    def teapot(request: HttpRecord) -> HttpAnswer:
        return HttpAnswer(418, b"short and stout", [("Content-Type", "text/plain"),
                                                  ("X-Why", "tea")])

    server = kubelet_pod.serve_http(teapot)
    pods = cs.core_v1.pods(kubelet_pod.namespace)
    got = pods.proxy(kubelet_pod.name, "pot", port=server.port)
    assert (got.status, got.text, got.header("x-why")) == (418, "short and stout", "tea")
    with Clientset.from_kubeconfig(str(cluster.restricted_kubeconfig)) as restricted, \
            pytest.raises(Forbidden):  # RBAC: the apiserver refuses before proxying
        restricted.core_v1.pods(kubelet_pod.namespace).proxy(kubelet_pod.name, port=server.port)
    with pytest.raises(NotFound) as caught:
        pods.proxy("no-such-pod", "pot", port=server.port)
    assert caught.value.path is not None and "no-such-pod" in caught.value.path
    # nothing listens on this port of the pod's address: the apiserver's dial fails
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind((kubelet_pod.ip, 0))
        closed = probe.getsockname()[1]
    with pytest.raises(InternalError, match="error trying to reach"):
        pods.proxy(kubelet_pod.name, "pot", port=closed)


def test_service_proxy_by_port_name_and_number(
    cs: Any, kubelet: TestKubelet, kubelet_pod: KubeletPod
) -> None:
    _proxyable(kubelet)
    server = kubelet_pod.serve_http()
    service = kubelet_pod.expose(server.port, port_name="web")
    services = cs.core_v1.services(kubelet_pod.namespace)
    by_name = services.proxy(service, "x/y/", port="web", params=[("a", "1"), ("a", "2")])
    assert by_name.status == 200
    assert by_name.json()["path"] == "/x/y/?a=1&a=2"
    by_number = services.proxy(service, "z", port=server.port, scheme="http")
    assert by_number.json()["path"] == "/z"


def test_node_proxy_reaches_the_kubelet(cs: Any, kubelet: TestKubelet) -> None:
    seen: list[KubeletRequest] = []

    def route(request: KubeletRequest) -> KubeletResponse:
        seen.append(request)
        return KubeletResponse(202, json.dumps(request.query).encode(),
                               [("Content-Type", "application/json"),
                                ("Warning", '299 - "from the target"')])

    kubelet.route("/kcg-proxy-test", route)
    nodes = cs.core_v1.nodes()
    assert nodes.proxy(NODE_NAME, "healthz").text == "ok"
    with warnings.catch_warnings():
        warnings.simplefilter("error", KubernetesWarning)  # the target's, not the apiserver's
        got = nodes.proxy(NODE_NAME, "/kcg-proxy-test", params={"k": "v w"}, method="PUT",
                          body=b"sent")
    assert got.status == 202 and got.json() == {"k": ["v w"]}
    assert got.header("warning") == '299 - "from the target"'
    assert seen[-1].method == "PUT" and seen[-1].body == b"sent"
    missing = nodes.proxy(NODE_NAME, "no-such-kubelet-path")
    assert missing.status == 404  # the kubelet's answer, not an ApiError
    with pytest.raises(NotFound):
        nodes.proxy("no-such-node", "healthz")


async def test_async_pod_and_node_proxy(
    cluster: TestCluster, kubelet: TestKubelet, kubelet_pod: KubeletPod
) -> None:
    async with AsyncClientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as acs:
        assert (await acs.core_v1.nodes().proxy(NODE_NAME, "healthz")).text == "ok"
        if not kubelet.proxyable:
            return
        server = kubelet_pod.serve_http()
        got = await acs.core_v1.pods(kubelet_pod.namespace).proxy(
            kubelet_pod.name, "async", port=server.port)
        assert got.json()["path"] == "/async"


# ----- logs ------------------------------------------------------------------------------------


def test_get_log_options(cs: Any, kubelet_pod: KubeletPod) -> None:
    pods = cs.core_v1.pods(kubelet_pod.namespace)
    name = kubelet_pod.name
    main = kubelet_pod.container("main")
    with pytest.raises(BadRequest, match="previous terminated container"):
        pods.get_log(name, previous=True)
    for line in ("one", "two", "three"):
        main.log(line)
    assert pods.get_log(name) == "one\ntwo\nthree\n"
    assert pods.get_log(name, container="main", tail_lines=2) == "two\nthree\n"
    assert pods.get_log(name, limit_bytes=6) == "one\ntw"
    stamped = pods.get_log(name, timestamps=True).splitlines()
    assert [line.split(" ", 1)[1] for line in stamped] == ["one", "two", "three"]
    assert all(line.split(" ", 1)[0].endswith("Z") for line in stamped)
    time.sleep(1.5)
    main.log("four")
    assert pods.get_log(name, since_seconds=1) == "four\n"
    main.log("before restart")
    kubelet_pod.restart_container("main")
    main.log("after restart")
    assert pods.get_log(name, previous=True).endswith("before restart\n")
    assert pods.get_log(name) == "after restart\n"
    with pytest.raises(BadRequest):
        pods.get_log(name, container="no-such-container")


def test_stream_log_follows_lines_as_they_are_written(cs: Any, kubelet_pod: KubeletPod) -> None:
    pods = cs.core_v1.pods(kubelet_pod.namespace)
    main = kubelet_pod.container("main")
    main.log("first")
    with pods.stream_log(kubelet_pod.name, tail_lines=1, timestamps=True) as lines:
        assert next(lines).endswith(" first")
        for word in ("second", "third"):  # each arrives while the stream is open
            main.log(word)
            assert next(lines).endswith(" " + word)
        threading.Timer(0.2, main.terminate, args=(0,)).start()
        assert list(lines) == []  # the container ended: the stream ends cleanly


def test_stream_log_without_follow_and_limit_bytes(cs: Any, kubelet_pod: KubeletPod) -> None:
    pods = cs.core_v1.pods(kubelet_pod.namespace)
    main = kubelet_pod.container("main")
    for line in ("alpha", "beta", "gamma"):
        main.log(line)
    assert list(pods.stream_log(kubelet_pod.name, follow=False)) == ["alpha", "beta", "gamma"]
    # a follow cut by limitBytes mid-line ends with the partial line, then stops
    with pods.stream_log(kubelet_pod.name, limit_bytes=12) as lines:
        assert list(lines) == ["alpha", "beta", "g"]


async def test_async_stream_log_follows(cluster: TestCluster, kubelet_pod: KubeletPod) -> None:
    main = kubelet_pod.container("main")
    main.log("old")
    async with AsyncClientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as acs:
        pods = acs.core_v1.pods(kubelet_pod.namespace)
        assert await pods.get_log(kubelet_pod.name, tail_lines=1) == "old\n"
        await asyncio.sleep(1.1)
        async with pods.stream_log(kubelet_pod.name, since_seconds=1) as lines:
            main.log("new")  # "old" is older than a second: only what follows comes
            assert await asyncio.wait_for(lines.__anext__(), 30) == "new"
            main.log("newer")
            assert await asyncio.wait_for(lines.__anext__(), 30) == "newer"
            main.terminate(0)
            with pytest.raises(StopAsyncIteration):
                await asyncio.wait_for(lines.__anext__(), 30)


def test_a_follow_cut_by_the_apiserver_raises_clearly(private_cluster: TestCluster) -> None:
    """The apiserver dies mid-follow: the stream ends with a TransportError, not silently."""
    node = TestKubelet(private_cluster)
    node.start()
    try:
        ns = private_cluster.create_namespace("cut-follow")
        pod = node.create_pod(ns)
        pod.container("main").log("before")
        with Clientset.from_kubeconfig(str(private_cluster.admin_kubeconfig)) as client, \
                client.core_v1.pods(ns).stream_log(pod.name) as lines:
            assert next(lines) == "before"
            private_cluster.stop_apiserver()
            with pytest.raises(TransportError) as cut:
                next(lines)
            assert cut.value.method == "GET" and cut.value.url.endswith(f"/{pod.name}/log")
        pod.close()
    finally:
        node.close()


@pytest.mark.parametrize("follow", [True, False])
def test_a_log_cut_by_the_kubelet_ends_the_stream(
    cs: Any, kubelet: TestKubelet, kubelet_pod: KubeletPod, follow: bool
) -> None:
    """The kubelet aborts its answer mid-line (no end of its chunked body). kube-apiserver
    has sent its 200 already and ends its own body normally, so the client sees a clean end
    after what was relayed, the partial last line included (``kubectl logs`` sees the
    same); a cut of the apiserver's own connection raises instead (the test above)."""
    main = kubelet_pod.container("main")
    for line in ("first", "second", "third"):
        main.log(line)
    kubelet.cut_streams_after(9)  # "first\n" and "sec"
    with cs.core_v1.pods(kubelet_pod.namespace).stream_log(kubelet_pod.name,
                                                           follow=follow) as lines:
        assert list(lines) == ["first", "sec"]
