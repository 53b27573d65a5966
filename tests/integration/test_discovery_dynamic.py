"""Discovery (with its disk cache) and the dynamic client against the real kube-apiserver."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubecodegen_runtime.client import AsyncRESTClient, RESTClient
from kubecodegen_runtime.discovery import (
    APIGroup,
    AsyncDiscoveryClient,
    DiscoveryClient,
    DiscoveryCore,
    ResourceNotFound,
    ServerResources,
    host_dir_name,
    parse_resources,
)
from kubecodegen_runtime.dynamic import AsyncDynamicClient, DynamicClient
from kubecodegen_runtime.errors import NotFound
from kubecodegen_runtime.meta import GroupVersionResource
from kubecodegen_runtime.restmapper import NoResourceMatch, RESTMapper
from kubecodegen_runtime.watch import WatchEvent
from tests.harness.cluster import TestCluster

from .rest_helpers import admin_config


@pytest.fixture
def rest(cluster: TestCluster) -> Iterator[RESTClient]:
    with RESTClient(admin_config(cluster)) as client:
        yield client


def test_server_version(rest: RESTClient, tmp_path: Path) -> None:
    version = DiscoveryClient(rest, cache_dir=tmp_path).server_version()
    assert version.major == "1" and version.git_version.startswith("v1.")


def test_groups_with_preferred_versions(rest: RESTClient, tmp_path: Path) -> None:
    groups = {g.name: g for g in DiscoveryClient(rest, cache_dir=tmp_path).server_groups()}
    assert groups[""].versions == ("v1",) and groups[""].preferred_version == "v1"
    apps = groups["apps"]
    assert apps.preferred_version == "v1" and "v1" in apps.versions
    autoscaling = groups["autoscaling"]
    assert autoscaling.preferred_version == autoscaling.versions[0]
    assert len(autoscaling.versions) > 1


def test_resources_fold_subresources(rest: RESTClient, tmp_path: Path) -> None:
    disco = DiscoveryClient(rest, cache_dir=tmp_path)
    core = {r.info.resource: r for r in disco.server_resources("v1")}
    pods = core["pods"].info
    assert pods.kind == "Pod" and pods.namespaced and "watch" in pods.verbs
    assert {"status", "log", "eviction", "binding"} <= set(pods.subresources)
    assert "create" in pods.subresources["eviction"]
    assert not core["nodes"].info.namespaced
    assert "pods/status" not in core and "po" in core["pods"].short_names
    apps = {r.info.resource: r.info for r in disco.server_resources("apps/v1")}
    assert apps["deployments"].group == "apps" and "scale" in apps["deployments"].subresources


def test_resolve_kind(rest: RESTClient, tmp_path: Path) -> None:
    disco = DiscoveryClient(rest, cache_dir=tmp_path)
    deploy = disco.resolve_kind("Deployment")
    assert (deploy.group, deploy.version, deploy.resource) == ("apps", "v1", "deployments")
    assert disco.resolve_kind("deploy").resource == "deployments"
    assert disco.resolve_kind("configmap").kind == "ConfigMap"
    hpa = disco.resolve_kind("HorizontalPodAutoscaler.autoscaling", version="v2beta2")
    assert hpa.version == "v2beta2"
    event = disco.resolve_kind("Event.events.k8s.io")
    assert event.group == "events.k8s.io"
    assert disco.resolve_kind("Event").group == ""  # the core group comes first
    with pytest.raises(ResourceNotFound, match="NoSuchKind"):
        disco.resolve_kind("NoSuchKind")


def test_disk_cache_is_reused_and_invalidated(rest: RESTClient, tmp_path: Path) -> None:
    first = DiscoveryClient(rest, cache_dir=tmp_path)
    first.resolve_kind("Deployment")
    host = tmp_path / host_dir_name(rest.config.server)
    assert (host / "servergroups.json").is_file()
    cached = host / "apps" / "v1" / "serverresources.json"
    assert cached.is_file()
    assert first.core.disk_hits == 0
    # A second client (a new process, say) answers from disk. Prove it by planting a
    # marker resource in the cached document: only a disk hit can know about it.
    doc = json.loads(cached.read_bytes())
    doc["resources"].append({"name": "planted", "namespaced": True, "kind": "Planted",
                             "verbs": ["get"]})
    cached.write_text(json.dumps(doc))
    second = DiscoveryClient(rest, cache_dir=tmp_path)
    assert second.resolve_kind("Planted").resource == "planted"
    assert second.core.disk_hits >= 2
    second.invalidate()
    with pytest.raises(ResourceNotFound):
        second.resolve_kind("Planted")
    assert "planted" not in cached.read_text()  # rewritten from the server


def test_ttl_expiry(rest: RESTClient, tmp_path: Path) -> None:
    disco = DiscoveryClient(rest, cache_dir=tmp_path, ttl=3600)
    disco.server_groups()
    now = [time.time()]
    core = DiscoveryCore(rest.config.server, cache_dir=tmp_path, ttl=3600, clock=lambda: now[0])
    assert core.lookup("servergroups.json") is not None
    now[0] += 3601
    core2 = DiscoveryCore(rest.config.server, cache_dir=tmp_path, ttl=3600, clock=lambda: now[0])
    assert core2.lookup("servergroups.json") is None


def test_memory_only_cache(rest: RESTClient) -> None:
    disco = DiscoveryClient(rest, cache_dir=None)
    assert disco.core.dir is None
    assert disco.resolve_kind("Secret").resource == "secrets"


def test_parse_resources_of_a_crafted_list() -> None:
    body = json.dumps({"groupVersion": "example.com/v1", "resources": [
        {"name": "widgets", "singularName": "widget", "namespaced": True, "kind": "Widget",
         "verbs": ["get", "list"], "shortNames": ["wd"]},
        {"name": "widgets/status", "namespaced": True, "kind": "Widget", "verbs": ["get", "patch"]},
        {"name": "widgets/scale", "namespaced": True, "group": "autoscaling", "version": "v1",
         "kind": "Scale", "verbs": ["get", "update"]},
    ]}).encode()
    (widgets,) = parse_resources("example.com/v1", body)
    assert widgets.info.group == "example.com" and widgets.info.version == "v1"
    assert widgets.info.subresources == {"status": frozenset({"get", "patch"}),
                                         "scale": frozenset({"get", "update"})}
    mapper = RESTMapper(ServerResources((APIGroup("example.com", ("v1",), "v1"),),
                                        {"example.com/v1": (widgets,)}))
    assert mapper.find("WD") == mapper.find("widget") == mapper.find("Widget") == widgets.info
    with pytest.raises(NoResourceMatch):
        mapper.find("scale")  # a subresource's kind is not a resource


def test_dynamic_crud_and_watch(rest: RESTClient, namespace: str, tmp_path: Path) -> None:
    dyn = DynamicClient(rest, DiscoveryClient(rest, cache_dir=tmp_path))
    cms = dyn.resource(GroupVersionResource("", "v1", "configmaps")).namespace(namespace)
    start = cms.list()["metadata"]["resourceVersion"]
    made = cms.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"},
                       "data": {"a": "1"}})
    assert made["metadata"]["namespace"] == namespace
    got = cms.get("d")
    got["data"]["a"] = "2"
    assert cms.update(got)["data"] == {"a": "2"}
    assert cms.patch("d", {"data": {"b": "3"}})["data"] == {"a": "2", "b": "3"}
    applied = cms.apply({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "d"}, "data": {"c": "4"}},
                        field_manager="dyn", force=True)
    assert applied["data"]["c"] == "4"
    assert [i["metadata"]["name"] for i in cms.list_all()] == ["d"]
    cms.delete("d")
    with pytest.raises(NotFound):
        cms.get("d")
    events: list[tuple[str, Any]] = []
    with cms.watch(resource_version=start, timeout_seconds=20) as stream:
        for ev in stream:
            events.append((ev.type, ev.object["metadata"]["name"]))
            if ev.type == "DELETED":
                break
    assert events[0] == ("ADDED", "d") and events[-1] == ("DELETED", "d")
    assert all(isinstance(name, str) for _, name in events)


def test_dynamic_from_kind_and_cluster_scope(rest: RESTClient, namespace: str,
                                             tmp_path: Path) -> None:
    dyn = DynamicClient(rest, DiscoveryClient(rest, cache_dir=tmp_path))
    namespaces = dyn.resource_for_kind("Namespace")
    assert not namespaces.namespaced
    assert namespaces.get(namespace)["metadata"]["name"] == namespace
    roles = dyn.resource_for_kind("ClusterRole.rbac.authorization.k8s.io")
    name = f"{namespace}-reader"
    roles.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                  "metadata": {"name": name},
                  "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]})
    assert roles.get(name)["rules"][0]["verbs"] == ["get"]
    roles.delete(name)
    deployments = dyn.resource_for_kind("Deployment")
    assert deployments.namespaced
    deployments.namespace(namespace).create({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "dd"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}},
                 "template": {"metadata": {"labels": {"a": "b"}},
                              "spec": {"containers": [{"name": "c", "image": "x.invalid/i"}]}}}})
    across = deployments.list(field_selector=f"metadata.namespace={namespace}")
    assert [d["metadata"]["name"] for d in across["items"]] == ["dd"]


async def test_async_discovery_and_dynamic(cluster: TestCluster, namespace: str,
                                           tmp_path: Path) -> None:
    async with AsyncRESTClient(admin_config(cluster)) as arest:
        disco = AsyncDiscoveryClient(arest, cache_dir=tmp_path)
        assert (await disco.server_version()).major == "1"
        assert any(g.name == "apps" for g in await disco.server_groups())
        info = await disco.resolve_kind("ConfigMap")
        dyn = AsyncDynamicClient(arest, disco)
        cms = (await dyn.resource_for_kind("ConfigMap")).namespace(namespace)
        assert cms.info.resource == info.resource
        await cms.create({"metadata": {"name": "ad"}, "data": {"x": "y"}})
        assert (await cms.get("ad"))["data"] == {"x": "y"}
        seen = [item["metadata"]["name"] async for item in cms.list_all()]
        assert seen == ["ad"]
        async with cms.watch(timeout_seconds=10) as stream:
            async for ev in stream:
                assert isinstance(ev, WatchEvent) and ev.object["metadata"]["name"] == "ad"
                break
        await cms.delete("ad")
        with pytest.raises(NotFound):
            await cms.get("ad")
