"""The event recorder against kube-apiserver 1.20, which serves both events.k8s.io/v1 and
core/v1 Events: each API explicitly and through "auto", series/count correlation into one
object, and a recorder that keeps taking (and dropping) events while the server is down."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from kubecodegen_runtime.backoff import ExponentialBackoff
from kubecodegen_runtime.client import AsyncRESTClient, RESTClient
from kubecodegen_runtime.events import AsyncEventBroadcaster, EventBroadcaster
from kubecodegen_runtime.retry import RetryPolicy
from tests.harness.cluster import TestCluster

from .rest_helpers import admin_config

pytestmark = pytest.mark.cluster


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def configmap(rest: RESTClient, namespace: str, name: str) -> dict[str, Any]:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
    created: dict[str, Any] = rest.post(f"/api/v1/namespaces/{namespace}/configmaps",
                                        json.dumps(body).encode())
    return created


def events_of(rest: RESTClient, api: str, namespace: str) -> list[dict[str, Any]]:
    root = "/apis/events.k8s.io/v1" if api == "events.k8s.io/v1" else "/api/v1"
    items: list[dict[str, Any]] = rest.get(f"{root}/namespaces/{namespace}/events")["items"]
    return items


def quick_backoff() -> ExponentialBackoff:
    return ExponentialBackoff(initial=0.05, max_delay=0.5)


@pytest.mark.parametrize("api", ["events.k8s.io/v1", "v1"])
def test_each_api_correlates_a_repeated_event_into_one_object(
        cluster: TestCluster, namespace: str, api: str) -> None:
    with RESTClient(admin_config(cluster)) as rest:
        cm = configmap(rest, namespace, "subject")
        with EventBroadcaster(rest, api=api) as broadcaster:  # type: ignore[arg-type]
            recorder = broadcaster.new_recorder("kubecodegen.io/test-controller", "instance-1")
            for _ in range(3):
                recorder.eventf(cm, None, "Warning", "FailedSync", "Sync", "sync of %s failed",
                                "subject")
            recorder.eventf(cm, None, "Normal", "Synced", "Sync", "all good")
            assert broadcaster.shutdown(30)
        assert broadcaster.failed == 0 and broadcaster.dropped == 0
        assert broadcaster.api == api
        items = events_of(rest, api, namespace)
    by_reason = {e["reason"]: e for e in items}
    assert sorted(by_reason) == ["FailedSync", "Synced"] and len(items) == 2
    failed, synced = by_reason["FailedSync"], by_reason["Synced"]
    assert failed["metadata"]["name"].startswith("subject.")
    if api == "events.k8s.io/v1":
        assert failed["series"]["count"] == 3  # 2 by the series PATCH, 3 by the flush
        assert failed["note"] == "sync of subject failed"
        assert failed["regarding"]["uid"] == cm["metadata"]["uid"]
        assert failed["reportingController"] == "kubecodegen.io/test-controller"
        assert failed["reportingInstance"] == "instance-1"
        assert failed["action"] == "Sync" and failed["type"] == "Warning"
        assert "series" not in synced
    else:
        assert failed["count"] == 3
        assert failed["message"] == "sync of subject failed"
        assert failed["involvedObject"]["uid"] == cm["metadata"]["uid"]
        assert failed["source"]["component"] == "kubecodegen.io/test-controller"
        assert synced["count"] == 1


def test_a_finished_series_writes_its_last_count_without_shutdown(
        cluster: TestCluster, namespace: str) -> None:
    with RESTClient(admin_config(cluster)) as rest:
        cm = configmap(rest, namespace, "series")
        with EventBroadcaster(rest, series_finish=0.5) as broadcaster:
            recorder = broadcaster.new_recorder("kubecodegen.io/series", "i")
            for _ in range(4):
                recorder.eventf(cm, None, "Normal", "Again", "Repeat", "again")
            # create, PATCH count 2, and, once the series is quiet for 0.5 s, PATCH count 4
            wait_until(lambda: broadcaster.written == 3, what="the series to finish")
            [event] = events_of(rest, "events.k8s.io/v1", namespace)
            assert event["series"]["count"] == 4
            recorder.eventf(cm, None, "Normal", "Again", "Repeat", "again")  # a new series
            wait_until(lambda: broadcaster.written == 4, what="a new event")
            assert len(events_of(rest, "events.k8s.io/v1", namespace)) == 2


def test_auto_picks_events_k8s_io_and_both_apis_see_the_event(
        cluster: TestCluster, namespace: str) -> None:
    with RESTClient(admin_config(cluster)) as rest:
        cm = configmap(rest, namespace, "auto-subject")
        with EventBroadcaster(rest) as broadcaster:
            recorder = broadcaster.new_recorder("kubecodegen.io/auto", "i")
            recorder.eventf(cm, cm, "Normal", "Created", "Create", "n" * 5000)
            ns_object = rest.get(f"/api/v1/namespaces/{namespace}")  # cluster-scoped
            recorder.eventf(ns_object, None, "Normal", "Seen", "Observe", "namespace %s", namespace)
            assert broadcaster.shutdown(30)
        assert broadcaster.api == "events.k8s.io/v1" and broadcaster.failed == 0
        [new] = events_of(rest, "events.k8s.io/v1", namespace)
        [old] = events_of(rest, "v1", namespace)  # the same object through core/v1
        about_ns = [e for e in events_of(rest, "events.k8s.io/v1", "kube-system")
                    if e["regarding"].get("name") == namespace]
    assert [e["regarding"]["kind"] for e in about_ns] == ["Namespace"]  # 1.20 wants kube-system
    assert new["metadata"]["name"] == old["metadata"]["name"]
    assert len(new["note"]) == 1024  # cut to the validation limit, else the server refuses it
    assert new["related"]["name"] == "auto-subject"


def test_recorder_never_blocks_while_the_server_is_down(private_cluster: TestCluster) -> None:
    cluster = private_cluster
    namespace = cluster.create_namespace()
    config = admin_config(cluster, timeout=5.0)
    with RESTClient(config, retry=RetryPolicy(max_attempts=1)) as rest:
        cm = configmap(rest, namespace, "down")
        broadcaster = EventBroadcaster(rest, queue_size=5, backoff=quick_backoff, max_tries=1000,
                                     spam_burst=1000)  # this test is about the queue bound
        recorder = broadcaster.new_recorder("kubecodegen.io/down", "i")
        recorder.eventf(cm, None, "Normal", "Before", "Probe", "before the outage")
        wait_until(lambda: broadcaster.written == 1, what="the first event")
        cluster.stop_apiserver()
        try:
            started = time.monotonic()
            for i in range(40):  # distinct reasons: no correlation, so each one needs a slot
                recorder.eventf(cm, None, "Normal", f"During{i}", "Probe", "while down")
            assert time.monotonic() - started < 1.0  # generous: eventf only queues
            assert broadcaster.queue_full >= 40 - 5 - 1  # at most 5 queued + 1 being retried
            assert broadcaster.dropped == broadcaster.queue_full
            wait_until(lambda: broadcaster.retries > 0, what="the writer to retry")
        finally:
            cluster.start_apiserver()
        recorder.eventf(cm, None, "Normal", "After", "Probe", "after the outage")
        assert broadcaster.shutdown(60)
        reasons = {e["reason"] for e in events_of(rest, "events.k8s.io/v1", namespace)}
        delivered = 40 - broadcaster.queue_full
        assert "Before" in reasons and "After" in reasons
        assert len(reasons) == 2 + delivered  # every event that got a slot was written
        assert broadcaster.failed == 0


async def test_async_broadcaster_writes_and_correlates(cluster: TestCluster, namespace: str) -> None:
    with RESTClient(admin_config(cluster)) as rest:
        cm = configmap(rest, namespace, "async-subject")
        async with AsyncRESTClient(admin_config(cluster)) as arest:
            broadcaster = AsyncEventBroadcaster(arest)
            recorder = broadcaster.new_recorder("kubecodegen.io/async", "i")
            for _ in range(2):
                recorder.eventf(cm, None, "Normal", "Tick", "Tock", "again")
            assert await broadcaster.shutdown(30)
        assert broadcaster.api == "events.k8s.io/v1" and broadcaster.written == 2
        [event] = events_of(rest, "events.k8s.io/v1", namespace)
    assert event["series"]["count"] == 2
