"""Aggregated discovery and the RESTMapper against real servers, requests counted.

kube-apiserver 1.20 does not serve aggregated discovery: the client must notice it from
the answer and fall back to one request per group-version, finding what the legacy
path always found. The modern server (Kubernetes 1.36 API machinery) serves it: all of
discovery is two requests, and gives the same groups, versions and resources as that
server's own legacy documents. Requests are counted by a transport that counts what it
really sends, not by a mock.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubecodegen_runtime.client import AsyncRESTClient, RESTClient
from kubecodegen_runtime.config import ClientConfig
from kubecodegen_runtime.discovery import (
    APIResource,
    AsyncDiscoveryClient,
    DiscoveryClient,
    parse_groups,
    parse_resources,
    resources_path,
)
from kubecodegen_runtime.dynamic import AsyncDynamicClient, DynamicClient
from kubecodegen_runtime.errors import NotFound
from kubecodegen_runtime.rest import request as rq
from kubecodegen_runtime.rest.request import Request
from kubecodegen_runtime.rest.response import Response
from kubecodegen_runtime.restmapper import AsyncDeferredRESTMapper, DeferredRESTMapper, NoKindMatch
from kubecodegen_runtime.transport import AsyncTransport, Transport
from tests.harness.cluster import TestCluster

from .rest_helpers import admin_config


class CountingTransport(Transport):
    """The real transport, keeping the path and answer Content-Type of every request."""

    def __init__(self, config: ClientConfig) -> None:
        super().__init__(config)
        self.sent: list[tuple[str, str]] = []

    def send(self, req: Request) -> Response:
        resp = super().send(req)
        self.sent.append((req.path, resp.header("content-type") or ""))
        return resp


class AsyncCountingTransport(AsyncTransport):
    def __init__(self, config: ClientConfig) -> None:
        super().__init__(config)
        self.sent: list[str] = []

    async def send(self, req: Request) -> Response:
        self.sent.append(req.path)
        return await super().send(req)


@pytest.fixture
def counted(cluster: TestCluster) -> Iterator[tuple[RESTClient, CountingTransport]]:
    transport = CountingTransport(admin_config(cluster))
    with RESTClient(admin_config(cluster), transport=transport) as rest:
        yield rest, transport


@pytest.fixture
def modern_counted(modern_cluster: TestCluster) -> Iterator[tuple[RESTClient, CountingTransport]]:
    transport = CountingTransport(admin_config(modern_cluster))
    with RESTClient(admin_config(modern_cluster), transport=transport) as rest:
        yield rest, transport


def contents(found: Iterable[APIResource]) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """Everything discovery says of each resource, keyed by group, version, resource."""
    return {
        (r.info.group, r.info.version, r.info.resource): (
            r.info.kind, r.info.namespaced, r.info.verbs, r.info.subresources,
            r.singular_name, r.short_names, r.categories)
        for r in found
    }


def by_hand(rest: RESTClient) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """The legacy documents read one by one with plain JSON requests (what discovery did
    before aggregated discovery existed), through the same record parser. The modern
    server has no core group: its ``/api`` is a 404."""
    try:
        core: bytes | None = rest.send(rq.raw("GET", "/api")).body
    except NotFound:
        core = None
    groups = parse_groups(core, rest.send(rq.raw("GET", "/apis")).body)
    found: list[APIResource] = []
    for group in groups:
        for version in group.versions:
            gv = group.group_version(version)
            found.extend(parse_resources(gv, rest.send(rq.raw("GET", resources_path(gv))).body))
    return contents(found)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def install_widget_crd(rest: RESTClient, group: str) -> None:
    """A namespaced ``Widget`` CRD (short name ``wdg``, category ``gadgets``), waited for
    until a fresh discovery (aggregated where served) lists it."""
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group, "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget",
                      "shortNames": ["wdg"], "categories": ["gadgets"]},
            "versions": [{"name": "v1", "served": True, "storage": True,
                          "schema": {"openAPIV3Schema": {
                              "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}],
        },
    }
    rest.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json.dumps(crd).encode())

    def listed() -> bool:
        found = DiscoveryClient(rest, cache_dir=None).server_groups_and_resources()
        return f"{group}/v1" in found.resources

    wait_until(listed, f"discovery to list {group}/v1")


def delete_crd(rest: RESTClient, group: str) -> None:
    with contextlib.suppress(NotFound):
        rest.delete(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}")


# --- kube-apiserver 1.20: no aggregated discovery ----------------------------------------


def test_1_20_answers_legacy_and_the_fallback_reads_each_group_version(
        counted: tuple[RESTClient, CountingTransport]) -> None:
    rest, transport = counted
    found = DiscoveryClient(rest, cache_dir=None).server_groups_and_resources()
    assert not found.aggregated and not found.failed
    roots = dict(transport.sent[:2])
    assert set(roots) == {"/api", "/apis"}
    assert all("g=apidiscovery" not in ctype for ctype in roots.values())  # it ignored the ask
    group_versions = [g.group_version(v) for g in found.groups for v in g.versions]
    assert len(transport.sent) == 2 + len(group_versions) > 20  # N+2
    assert contents(found) == by_hand(rest)
    assert ("apps", "v1", "deployments") in contents(found)


def test_1_20_preferred_resources(counted: tuple[RESTClient, CountingTransport]) -> None:
    rest, _ = counted
    preferred = {(r.info.group, r.info.resource): r.info.version
                 for r in DiscoveryClient(rest, cache_dir=None).server_preferred_resources()}
    assert preferred[("autoscaling", "horizontalpodautoscalers")] == "v1"  # 1.20 prefers v1
    assert preferred[("events.k8s.io", "events")] == "v1"
    assert preferred[("", "pods")] == "v1"
    assert len(set(preferred)) == len(preferred)


def test_1_20_rest_mapper(counted: tuple[RESTClient, CountingTransport]) -> None:
    rest, _ = counted
    mapper = DiscoveryClient(rest, cache_dir=None).mapper.current()
    assert mapper.rest_mapping("Deployment").gvr.api_version == "apps/v1"
    assert mapper.resource_for("hpa").version == "v1"
    assert mapper.resource_for("hpa", version="v2beta2").version == "v2beta2"
    assert mapper.resource_for("ev").group == ""
    assert mapper.rest_mapping("Event", group="events.k8s.io").version == "v1"
    assert {(r.group, r.resource) for r in mapper.category("all")} >= {
        ("", "pods"), ("", "services"), ("apps", "deployments"), ("batch", "jobs")}


def test_1_20_second_discovery_is_served_by_the_disk_cache(
        counted: tuple[RESTClient, CountingTransport], tmp_path: Path) -> None:
    rest, transport = counted
    first = DiscoveryClient(rest, cache_dir=tmp_path).server_groups_and_resources()
    sent = len(transport.sent)
    again = DiscoveryClient(rest, cache_dir=tmp_path).server_groups_and_resources()
    assert len(transport.sent) == sent and contents(again) == contents(first)


async def test_1_20_async_fallback_matches_the_sync_one(cluster: TestCluster) -> None:
    with RESTClient(admin_config(cluster)) as rest:
        expected = contents(DiscoveryClient(rest, cache_dir=None).server_groups_and_resources())
    transport = AsyncCountingTransport(admin_config(cluster))
    async with AsyncRESTClient(admin_config(cluster), transport=transport) as arest:
        found = await AsyncDiscoveryClient(arest, cache_dir=None).server_groups_and_resources()
    assert not found.aggregated and contents(found) == expected
    assert len(transport.sent) == 2 + sum(len(g.versions) for g in found.groups)


# --- the modern server: aggregated discovery ---------------------------------------------


def test_modern_discovery_of_everything_costs_two_requests(
        modern_counted: tuple[RESTClient, CountingTransport]) -> None:
    rest, transport = modern_counted
    found = DiscoveryClient(rest, cache_dir=None).server_groups_and_resources()
    assert found.aggregated and not found.failed
    assert [path for path, _ in transport.sent] == ["/api", "/apis"]
    assert "g=apidiscovery.k8s.io;v=v2;" in dict(transport.sent)["/apis"].replace(" ", "")
    assert ("apiextensions.k8s.io", "v1", "customresourcedefinitions") in contents(found)


def test_modern_aggregated_and_legacy_documents_agree(
        modern_counted: tuple[RESTClient, CountingTransport]) -> None:
    rest, transport = modern_counted
    aggregated = DiscoveryClient(rest, cache_dir=None).server_groups_and_resources()
    before = len(transport.sent)
    legacy = DiscoveryClient(rest, cache_dir=None, legacy=True).server_groups_and_resources()
    assert aggregated.aggregated and not legacy.aggregated
    assert len(transport.sent) - before == 2 + sum(len(g.versions) for g in legacy.groups)
    assert aggregated.groups == legacy.groups
    assert contents(aggregated) == contents(legacy) == by_hand(rest)


async def test_modern_async_discovery_costs_two_requests(modern_cluster: TestCluster) -> None:
    transport = AsyncCountingTransport(admin_config(modern_cluster))
    async with AsyncRESTClient(admin_config(modern_cluster), transport=transport) as arest:
        disco = AsyncDiscoveryClient(arest, cache_dir=None)
        found = await disco.server_groups_and_resources()
        assert found.aggregated and len(transport.sent) <= 3
        groups = await disco.server_groups()
        resources = await disco.server_resources("apiextensions.k8s.io/v1")
        assert len(transport.sent) <= 3  # both answered from the aggregated documents
        assert [g.name for g in groups] == [g.name for g in found.groups]
        assert "customresourcedefinitions" in [r.info.resource for r in resources]


# --- the mapper resets on a miss: a CRD made after it cached (both servers) --------------


def test_a_crd_made_after_the_mapper_cached_is_found_after_one_reset(
        cr_cluster: TestCluster, cr_namespace: str) -> None:
    group = f"{cr_namespace[-12:].strip('-')}.mapper.example.com"
    transport = CountingTransport(admin_config(cr_cluster))
    with RESTClient(admin_config(cr_cluster), transport=transport) as rest:
        mapper = DeferredRESTMapper(DiscoveryClient(rest, cache_dir=None), fresh_for=0.0)
        assert mapper.rest_mapping("CustomResourceDefinition").resource == "customresourcedefinitions"
        assert mapper.cache.builds == 1
        try:
            install_widget_crd(rest, group)
            before = len(transport.sent)
            widget = mapper.rest_mapping("Widget", group=group)
            assert (widget.resource, widget.version, widget.namespaced) == ("widgets", "v1", True)
            assert mapper.cache.builds == 2
            if cr_cluster.modern:
                assert len(transport.sent) - before <= 3
            assert mapper.resource_for("wdg", group=group).resource == "widgets"
            assert [r.resource for r in mapper.category("gadgets")] == ["widgets"]
            assert mapper.cache.builds == 2  # hits need no re-discovery
            with pytest.raises(NoKindMatch, match="NoSuchKind") as raised:
                mapper.rest_mapping("NoSuchKind", group=group)
            assert raised.value.group == group and mapper.cache.builds == 3  # one reset, no more
        finally:
            delete_crd(rest, group)


def test_a_miss_on_a_just_built_mapper_does_not_rediscover(
        counted: tuple[RESTClient, CountingTransport]) -> None:
    rest, transport = counted
    mapper = DeferredRESTMapper(DiscoveryClient(rest, cache_dir=None), fresh_for=60.0)
    with pytest.raises(NoKindMatch):
        mapper.rest_mapping("NoSuchKind")
    sent = len(transport.sent)
    with pytest.raises(NoKindMatch):
        mapper.rest_mapping("NoSuchKindEither")
    assert len(transport.sent) == sent and mapper.cache.builds == 1


def test_dynamic_client_finds_a_new_crd_by_kind_and_by_object(
        cr_cluster: TestCluster, cr_namespace: str) -> None:
    group = f"{cr_namespace[-12:].strip('-')}.dyn.example.com"
    with RESTClient(admin_config(cr_cluster)) as rest:
        dyn = DynamicClient(rest, DiscoveryClient(rest, cache_dir=None))
        dyn.mapper.cache.fresh_for = 0.0
        dyn.resource_for("CustomResourceDefinition")  # the mapper is built before the CRD
        try:
            install_widget_crd(rest, group)
            widgets = dyn.resource_for("Widget", f"{group}/v1").namespace(cr_namespace)
            made = widgets.create({"apiVersion": f"{group}/v1", "kind": "Widget",
                                   "metadata": {"name": "w"}, "spec": {"size": 1}})
            assert made["metadata"]["namespace"] == cr_namespace
            same = dyn.resource_for_object(made).namespace(cr_namespace)
            assert same.get("w")["spec"] == {"size": 1}
            assert dyn.resource_for_kind(f"wdg.{group}").info.kind == "Widget"
            with pytest.raises(NoKindMatch):
                dyn.resource_for("Widget", f"{group}/v2")
            widgets.delete("w")
        finally:
            delete_crd(rest, group)


async def test_async_mapper_and_dynamic_client(cr_cluster: TestCluster, cr_namespace: str) -> None:
    async with AsyncRESTClient(admin_config(cr_cluster)) as arest:
        disco = AsyncDiscoveryClient(arest, cache_dir=None)
        mapper = AsyncDeferredRESTMapper(disco)
        crd = await mapper.rest_mapping("CustomResourceDefinition", group="apiextensions.k8s.io")
        assert crd.version == "v1" and not crd.namespaced
        assert (await mapper.find("crd")).resource == "customresourcedefinitions"
        dyn = AsyncDynamicClient(arest, disco)
        crds = await dyn.resource_for("CustomResourceDefinition", "apiextensions.k8s.io/v1")
        assert isinstance((await crds.list())["items"], list)
