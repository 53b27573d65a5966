"""The client-go program of ``make bench`` against the real kube-apiserver.

The benchmark trusts what this Go program reports (pods seen, wire format, time, live
heap), so it is checked here on a handful of the sample's pods: the names it returns are
exactly the pods created, protobuf is really what the server sent when asked for, and the
informer lists as client-go's reflector does. Skipped when the program is not built
(``scripts/build-clientgo-bench.sh``; ``make bench`` runs it), with the reason.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from benchmarks import SAMPLE, clientgo
from benchmarks.podload import load_pods, pod_bodies
from tests.harness.cluster import TestCluster

pytestmark = pytest.mark.cluster

PODS = 25


@pytest.fixture(scope="module")
def binary() -> str:
    build = clientgo.locate()
    if build.binary is None:
        pytest.skip(f"client-go benchmark program not built: {build.detail}")
    return str(build.binary)


@pytest.fixture
def pods(cluster: TestCluster, namespace: str) -> list[str]:
    sample = json.loads(gzip.decompress(SAMPLE.read_bytes()))
    sample["items"] = sample["items"][:PODS]
    bodies = pod_bodies(json.dumps(sample).encode(), namespace)
    load_pods(cluster.server, cluster.ca_file, cluster.admin_token, namespace, bodies)
    return sorted(json.loads(body)["metadata"]["name"] for body in bodies)


def settings(cluster: TestCluster, namespace: str) -> str:
    return clientgo.settings(cluster.server, str(cluster.ca_file), cluster.admin_token,
                             namespace, PODS)


@pytest.mark.parametrize("format_, served", [("json", "JSON, gzip"),
                                             ("protobuf", "protobuf, gzip")])
def test_list_returns_the_created_pods_in_the_asked_format(
        binary: str, cluster: TestCluster, namespace: str, pods: list[str],
        format_: str, served: str) -> None:
    with clientgo.ListServer(Path(binary), format_, settings(cluster, namespace)) as server:
        first = server.list()
        held = server.list(memory=True)
    assert sorted(first["names"]) == pods
    assert first["digest"] == hashlib.sha256("\n".join(pods).encode()).hexdigest()
    assert first["seconds"] > 0
    # gzip: the server compresses only large bodies, so 25 pods may come back plain.
    assert clientgo.served_as(first["requests"]) in (served, served.replace("gzip", "identity"))
    assert [r["query"] for r in first["requests"]] == [""]  # one request, no limit
    assert held["live_heap"] > 0 and held["peak_rss"] > 0


@pytest.mark.parametrize("format_", clientgo.FORMATS)
def test_informer_syncs_exactly_the_created_pods(
        binary: str, cluster: TestCluster, namespace: str, pods: list[str],
        format_: str) -> None:
    answer = clientgo.sync_informer(Path(binary), format_, settings(cluster, namespace))
    assert answer["pods"] == PODS
    assert answer["digest"] == hashlib.sha256("\n".join(pods).encode()).hexdigest()
    assert answer["seconds"] > 0 and answer["live_heap"] > 0 and answer["closed"] is True
    lists = [r for r in answer["requests"] if "watch" not in r["query"]]
    assert lists and all("resourceVersion=0" in r["query"] and "limit=500" in r["query"]
                         for r in lists)
    wire = "protobuf" if format_ == "protobuf" else "json"
    assert all(wire in r["content_type"] for r in lists)


def test_a_refused_list_fails_loudly(binary: str, cluster: TestCluster, namespace: str) -> None:
    line = clientgo.settings(cluster.server, str(cluster.ca_file), "not-a-token", namespace, 1)
    with clientgo.ListServer(Path(binary), "json", line) as server, \
            pytest.raises(RuntimeError, match=r"exited 1: .*Unauthorized"):
        server.list()
