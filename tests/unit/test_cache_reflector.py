"""The reflector's pure helpers: watcher requests → HTTP requests (built by rest/request.py),
and server errors as the watcher receives them."""

from __future__ import annotations

import pytest

from kubecodegen_runtime.cache.reflector import list_request, watch_request
from kubecodegen_runtime.cache.watcher import FailureKind, ListRequest, WatchRequest, classify
from kubecodegen_runtime.errors import ResourceExpired, TransportError
from kubecodegen_runtime.meta import ResourceInfo
from kubecodegen_runtime.rest.response import error_from

PODS = ResourceInfo(group="", version="v1", resource="pods", kind="Pod", namespaced=True)
NODES = ResourceInfo(group="", version="v1", resource="nodes", kind="Node", namespaced=False)
DEPLOYMENTS = ResourceInfo(group="apps", version="v1", resource="deployments", kind="Deployment",
                           namespaced=True)


def test_list_request_paths_and_params() -> None:
    req = list_request(PODS, "ns1", ListRequest(resource_version="0", limit=500, continue_token=None,
                                                label_selector="app=web"))
    assert (req.method, req.path, req.stream) == ("GET", "/api/v1/namespaces/ns1/pods", False)
    assert dict(req.params) == {"resourceVersion": "0", "limit": "500", "labelSelector": "app=web"}
    all_ns = list_request(DEPLOYMENTS, None, ListRequest(resource_version="", limit=None,
                                                         continue_token="abc"))
    assert all_ns.path == "/apis/apps/v1/deployments"
    assert dict(all_ns.params) == {"continue": "abc"}
    assert list_request(NODES, None, ListRequest("5", None, None)).path == "/api/v1/nodes"


def test_watch_request_streams() -> None:
    req = watch_request(PODS, "ns1", WatchRequest(resource_version="42", timeout_seconds=317,
                                                  allow_watch_bookmarks=True, field_selector="a=b"))
    assert req.stream and req.path == "/api/v1/namespaces/ns1/pods"
    params = dict(req.params)
    assert params["watch"] == "true" and params["resourceVersion"] == "42"
    assert params["timeoutSeconds"] == "317" and params["allowWatchBookmarks"] == "true"
    assert params["fieldSelector"] == "a=b"


def test_server_errors_reach_the_watcher_as_typed_errors() -> None:
    expired = error_from(410, (), b'{"kind":"Status","code":410,"reason":"Expired","message":"too old"}',
                         method="GET", path="/api/v1/pods")
    assert isinstance(expired, ResourceExpired)
    assert classify(expired) is FailureKind.EXPIRED
    # what kube-apiserver 1.20 sends for a resourceVersion it has not reached yet
    too_large = error_from(
        504, (), b'{"kind":"Status","code":504,"reason":"Timeout","message":"Too large resource '
        b'version: 9, current: 5","details":{"causes":[{"reason":"ResourceVersionTooLarge",'
        b'"message":"Too large resource version"}],"retryAfterSeconds":1}}',
        method="GET", path="/api/v1/pods")
    assert classify(too_large) is FailureKind.RV_TOO_LARGE
    refused = TransportError("connection refused", method="GET", url="https://127.0.0.1/api")
    assert classify(refused) is FailureKind.FAILED


def test_empty_watcher_versions_are_left_out_of_the_query() -> None:
    watch = watch_request(PODS, None, WatchRequest("", 300, False))
    assert dict(watch.params) == {"watch": "true", "timeoutSeconds": "300"}


@pytest.mark.parametrize("namespace", ["", "a/b", ".."])
def test_bad_namespace_is_rejected(namespace: str) -> None:
    with pytest.raises(ValueError):
        list_request(PODS, namespace, ListRequest("0", None, None))


def test_watch_list_requests_carry_the_watch_list_options() -> None:
    first = watch_request(PODS, "ns1", WatchRequest("", 300, True, send_initial_events=True))
    assert dict(first.params) == {
        "watch": "true", "sendInitialEvents": "true", "resourceVersionMatch": "NotOlderThan",
        "allowWatchBookmarks": "true", "timeoutSeconds": "300"}  # no version: the newest state
    again = watch_request(PODS, "ns1", WatchRequest("77", 300, True, send_initial_events=True))
    assert dict(again.params)["resourceVersion"] == "77"
