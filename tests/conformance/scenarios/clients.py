"""The other clients on the same server: async clientset, dynamic client, discovery."""

from __future__ import annotations

from typing import Any

from kubecodegen_runtime import errors
from kubecodegen_runtime.apis.meta_v1 import Status
from kubecodegen_runtime.meta import GroupVersionResource

from ..backends import CR_GROUP, Backend
from .registry import scenario
from .support import WATCH_TIMEOUT, configmap, names, raises, rv, widgets

CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")
STANDARD_VERBS = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}


# ----- async ----------------------------------------------------------------------------------


@scenario
async def scenario_async_crud(b: Backend) -> None:
    async with b.acs() as acs:
        cms = acs.core_v1.config_maps(b.namespace)
        made = await cms.create(configmap("a", {"k": "1"}))
        made.data = {"k": "2"}
        updated = await cms.update(made)
        assert rv(updated) > rv(made)
        assert (await cms.get("a")).data == {"k": "2"}
        assert names((await cms.list()).items) == ["a"]
        patched = await cms.patch("a", {"data": {"n": "3"}})
        assert patched.data == {"k": "2", "n": "3"}
        result = await cms.delete("a")
        assert isinstance(result, Status) and result.status == "Success"
        with raises(errors.NotFound, "NotFound"):
            await cms.get("a")


@scenario
async def scenario_async_errors(b: Backend) -> None:
    async with b.acs() as acs:
        cms = acs.core_v1.config_maps(b.namespace)
        made = await cms.create(configmap("a", {"k": "1"}))
        with raises(errors.AlreadyExists, "AlreadyExists"):
            await cms.create(configmap("a"))
        await cms.patch("a", {"data": {"k": "2"}})
        with raises(errors.Conflict, "Conflict"):
            await cms.update(made)
        with raises(errors.Invalid, "Invalid"):
            await cms.create(configmap("Bad_Name"))


@scenario
async def scenario_async_watch(b: Backend) -> None:
    async with b.acs() as acs:
        cms = acs.core_v1.config_maps(b.namespace)
        start = (await cms.create(configmap("w"))).metadata.resource_version
        await cms.patch("w", {"data": {"k": "v"}})
        await cms.delete("w")
        seen = []
        async with cms.watch(resource_version=start, timeout_seconds=WATCH_TIMEOUT) as stream:
            async for event in stream:
                seen.append((event.type, event.object.metadata.name))
                if len(seen) == 2:
                    break
        assert seen == [("MODIFIED", "w"), ("DELETED", "w")]


@scenario
async def scenario_async_shares_the_store(b: Backend) -> None:
    """Sync and async clients see one server: a write by either is read by the other."""
    b.cs.core_v1.config_maps(b.namespace).create(configmap("sync", {"by": "sync"}))
    async with b.acs() as acs:
        cms = acs.core_v1.config_maps(b.namespace)
        assert (await cms.get("sync")).data == {"by": "sync"}
        await cms.create(configmap("async", {"by": "async"}))
        pages = [o.metadata.name async for o in cms.list_all(page_size=1)]
        assert pages == ["async", "sync"]
    assert b.cs.core_v1.config_maps(b.namespace).get("async").data == {"by": "async"}


@scenario
async def scenario_async_dynamic_and_discovery(b: Backend) -> None:
    async with b.acs() as acs:
        cms = acs.dynamic.resource(CONFIGMAPS).namespace(b.namespace)
        made = await cms.create({"apiVersion": "v1", "kind": "ConfigMap",
                                 "metadata": {"name": "ad"}, "data": {"k": "1"}})
        assert made["data"] == {"k": "1"}
        assert [i["metadata"]["name"] for i in (await cms.list())["items"]] == ["ad"]
        core = {r.info.resource for r in await acs.discovery.server_resources("v1")}
        assert {"configmaps", "namespaces", "pods"} <= core


# ----- dynamic --------------------------------------------------------------------------------


@scenario
def scenario_dynamic_crud(b: Backend) -> None:
    cms = b.cs.dynamic.resource(CONFIGMAPS).namespace(b.namespace)
    made = cms.create({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "d"}, "data": {"k": "1"}})
    assert made["metadata"]["uid"] and made["kind"] == "ConfigMap"
    got = cms.get("d")
    assert got["data"] == {"k": "1"}
    listed = cms.list()
    assert listed["kind"] == "ConfigMapList"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["d"]
    patched = cms.patch("d", {"data": {"k": "2"}})
    assert patched["data"] == {"k": "2"}
    assert b.cs.core_v1.config_maps(b.namespace).get("d").data == {"k": "2"}  # typed sees it
    cms.delete("d")
    with raises(errors.NotFound, "NotFound"):
        cms.get("d")


@scenario
def scenario_dynamic_by_kind_and_cluster_scope(b: Backend) -> None:
    namespaces = b.cs.dynamic.resource_for("Namespace", "v1")
    got = namespaces.get(b.namespace)
    assert got["metadata"]["name"] == b.namespace and "namespace" not in got["metadata"]
    cms = b.cs.dynamic.resource_for("ConfigMap").namespace(b.namespace)
    cms.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "k"}})
    assert [i["metadata"]["name"] for i in cms.list()["items"]] == ["k"]


@scenario
def scenario_dynamic_custom_resource(b: Backend) -> None:
    dyn = b.crs.dynamic.resource(GroupVersionResource(CR_GROUP, "v1", "widgets")).namespace(b.namespace)
    made = dyn.create({"apiVersion": f"{CR_GROUP}/v1", "kind": "Widget",
                       "metadata": {"name": "dw"}, "spec": {"replicas": 2, "color": "red"}})
    assert made["metadata"]["generation"] == 1
    status = dyn.patch_status("dw", {"status": {"phase": "Ready"}})
    assert status["status"] == {"phase": "Ready"} and status["spec"]["color"] == "red"
    typed = widgets(b).get("dw")
    assert typed.spec.replicas == 2 and typed.status.phase == "Ready"
    listed = dyn.list()
    assert listed["kind"] == "WidgetList" and [i["metadata"]["name"] for i in listed["items"]] == ["dw"]


@scenario
def scenario_dynamic_watch(b: Backend) -> None:
    cms = b.cs.dynamic.resource(CONFIGMAPS).namespace(b.namespace)
    start = cms.create({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "dw"}})["metadata"]["resourceVersion"]
    cms.delete("dw")
    with cms.watch(resource_version=start, timeout_seconds=WATCH_TIMEOUT) as stream:
        event = next(iter(stream))
    assert (event.type, event.object["metadata"]["name"]) == ("DELETED", "dw")


# ----- discovery ------------------------------------------------------------------------------


def _by_name(resources: list[Any]) -> dict[str, Any]:
    return {r.info.resource: r for r in resources}


@scenario
def scenario_discovery_core_resources(b: Backend) -> None:
    core = _by_name(b.cs.discovery.server_resources("v1"))
    cm = core["configmaps"].info
    assert (cm.kind, cm.namespaced, cm.group, cm.version) == ("ConfigMap", True, "", "v1")
    assert set(cm.verbs) == STANDARD_VERBS
    ns = core["namespaces"].info
    assert ns.namespaced is False and "deletecollection" not in ns.verbs
    assert "status" in ns.subresources
    assert "cm" in core["configmaps"].short_names


@scenario
def scenario_discovery_groups_and_subresources(b: Backend) -> None:
    groups = {g.name: g for g in b.cs.discovery.server_groups()}
    assert groups["apps"].preferred_version == "v1" and "v1" in groups["apps"].versions
    apps = _by_name(b.cs.discovery.server_resources("apps/v1"))
    deployments = apps["deployments"].info
    assert {"status", "scale"} <= set(deployments.subresources)
    assert "get" in deployments.subresources["scale"] and "update" in deployments.subresources["scale"]
    assert b.cs.discovery.resolve_kind("Deployment").resource == "deployments"


@scenario
def scenario_discovery_custom_resource(b: Backend) -> None:
    groups = {g.name: g for g in b.crs.discovery.server_groups()}
    assert groups[CR_GROUP].versions == ("v1",) and groups[CR_GROUP].preferred_version == "v1"
    found = _by_name(b.crs.discovery.server_resources(f"{CR_GROUP}/v1"))
    info = found["widgets"].info
    assert (info.kind, info.namespaced) == ("Widget", True)
    assert set(info.verbs) == STANDARD_VERBS
    assert set(info.subresources) == {"status", "scale"}


@scenario
def scenario_discovery_unknown_group_version(b: Backend) -> None:
    with raises(errors.NotFound, "NotFound"):
        b.cs.discovery.server_resources("nothing.example.com/v1")
    unserved = b.cs.dynamic.resource(GroupVersionResource("nothing.example.com", "v1", "things"))
    with raises(errors.NotFound, "NotFound"):
        unserved.namespace(b.namespace).list()


@scenario
def scenario_server_version(b: Backend) -> None:
    version = b.cs.discovery.server_version()
    assert (version.major, version.minor) == ("1", "20")
    assert version.git_version.startswith("v1.20.")


@scenario
def scenario_custom_resource_schema_pruning(b: Backend) -> None:
    """A structural schema prunes what it does not declare and refuses values of the wrong
    type (sent as a dict: typed clients cannot send either)."""
    dyn = b.crs.dynamic.resource(GroupVersionResource(CR_GROUP, "v1", "widgets")).namespace(b.namespace)
    made = dyn.create({"apiVersion": f"{CR_GROUP}/v1", "kind": "Widget", "metadata": {"name": "p"},
                       "top": 1, "spec": {"replicas": 1, "bogus": "x",
                                          "ports": [{"name": "a", "port": 1, "extra": 2}]}})
    assert "top" not in made and made["spec"] == {"replicas": 1, "ports": [{"name": "a", "port": 1}]}
    with raises(errors.Invalid, "Invalid") as caught:
        dyn.create({"apiVersion": f"{CR_GROUP}/v1", "kind": "Widget", "metadata": {"name": "bad"},
                    "spec": {"replicas": "many"}})
    assert "spec.replicas" in {c.field for c in caught[0].causes}


@scenario
async def scenario_async_apply_and_collections(b: Backend) -> None:
    from kube_v1_20.applyconfigurations import core_v1 as ac

    from kubecodegen_runtime.applyconfigurations import meta_v1 as acm

    async with b.acs() as acs:
        cms = acs.core_v1.config_maps(b.namespace)
        await cms.apply(ac.ConfigMap(metadata=acm.ObjectMeta(name="a", labels={"g": "1"}),
                                     data={"k": "1"}), field_manager="alice")
        with raises(errors.Conflict, "Conflict") as caught:
            await cms.apply(ac.ConfigMap(metadata=acm.ObjectMeta(name="a"), data={"k": "2"}),
                            field_manager="bob")
        assert [c.field for c in caught[0].causes] == [".data.k"]
        await cms.create(configmap("b", labels={"g": "1"}))
        await cms.create(configmap("c"))
        deleted = await cms.delete_collection(label_selector="g=1")
        assert not isinstance(deleted, Status) and names(deleted.items) == ["a", "b"]
        assert names((await cms.list()).items) == ["c"]
