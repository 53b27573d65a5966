"""The fake's server-side apply against kube-apiserver v1.20.2: the same operations, the
same owners.

Each scenario runs a sequence of applies (with and without force, to the main resource and
to ``status``) and updates by several managers, once on the real server (through the
dynamic client) and once through :func:`server_side_apply` / :func:`record_update` (with
``kube_v1_20``'s generated fake tables; the custom resource on the v1.36 server with the
hand-written tables of its CRD), and after every step compares what is comparable:

* a conflict: the same ``Status`` causes (field paths and messages);
* ``Apply`` entries: the same ``fieldsV1``, exactly;
* ``Update`` entries: the same ``fieldsV1``, except fields the real server defaulted
  (those are in the real entry and absent from the fake's object, which has no defaulting);
* the object: every field of the fake's object is in the real one with the same value,
  and nothing an ``Apply`` manager owns on the server is missing from the fake.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubecodegen_runtime import errors
from kubecodegen_runtime.client import RESTClient
from kubecodegen_runtime.discovery import DiscoveryClient
from kubecodegen_runtime.dynamic import DynamicClient
from kubecodegen_runtime.fake.apply import (
    ApplyBadRequest,
    ApplyConflict,
    record_update,
    server_side_apply,
)
from kubecodegen_runtime.fake.fieldset import FieldSet, FieldSetError, fields_of
from kubecodegen_runtime.fake.schema import PackageApi
from kubecodegen_runtime.meta import GroupVersionResource
from tests.fake_apply_tables import CONFIG_MAP, DEPLOYMENT, SERVICE, WIDGET, WIDGET_CRD, package_api
from tests.generated_packages import import_reference
from tests.harness.cluster import TestCluster

from .cr_machinery import install_crd
from .rest_helpers import admin_config

import_reference("kube_v1_20")
from kube_v1_20 import fake as kube_fake  # noqa: E402

#: The generated package's own tables (the hand-written ones only for the CRD below).
API = kube_fake.package_api()


class Refused(Exception):
    """Both backends refused a configuration, with the same message."""
NOW = "2026-01-01T00:00:00Z"


class Backends:
    """One object, written on the real server and through the fake's functions."""

    def __init__(self, dyn: DynamicClient, namespace: str, gvr: GroupVersionResource,
                 type_key: str, api_version: str, api: PackageApi = API) -> None:
        self.real = dyn.resource(gvr).namespace(namespace)
        self.api = api
        self.type_key = type_key
        self.api_version = api_version
        self.fake: dict[str, Any] | None = None
        self.real_obj: dict[str, Any] | None = None

    def apply(self, manager: str, config: dict[str, Any], *, force: bool = False,
              subresource: str = "") -> list[dict[str, str]] | None:
        """Apply on both; the conflict causes (the same on both, asserted) or ``None``."""
        real_causes: list[dict[str, str]] | None = None
        real_refusal = fake_refusal = ""
        try:
            write = self.real.apply_status if subresource == "status" else self.real.apply
            self.real_obj = write(copy.deepcopy(config), field_manager=manager, force=force)
        except errors.Conflict as exc:
            real_causes = [{"reason": c.reason, "message": c.message, "field": c.field}
                           for c in exc.causes]
        except errors.InternalError as exc:
            real_refusal = exc.message
        fake_causes: list[dict[str, str]] | None = None
        try:
            self.fake = server_side_apply(
                self.fake, config, manager=manager, force=force, api=self.api, type_key=self.type_key,
                subresource=subresource, now=NOW, api_version=self.api_version)
        except ApplyConflict as exc:
            fake_causes = exc.causes
        except FieldSetError as exc:
            fake_refusal = str(exc)
        assert fake_causes == real_causes
        assert bool(fake_refusal) == bool(real_refusal), real_refusal
        if fake_refusal:
            # the server's prefix names the object from 1.21 on: "... object (ns/name; gvk): "
            assert real_refusal.startswith("failed to create typed patch object")
            assert real_refusal.endswith(": " + fake_refusal)
        if fake_refusal:
            raise Refused(real_refusal)
        self.check()
        return real_causes

    def create(self, manager: str, obj: dict[str, Any]) -> None:
        """Create on both (a POST: an ``Update`` entry from nothing)."""
        self.real_obj = self.real.create(copy.deepcopy(obj), field_manager=manager)
        self.fake = copy.deepcopy(obj)
        self.fake["metadata"]["managedFields"] = record_update(
            None, obj, manager=manager, api=self.api, type_key=self.type_key, now=NOW,
            api_version=self.api_version)
        self.check()

    def update(self, manager: str, change: Callable[[dict[str, Any]], None]) -> None:
        """Read, change and write back the whole object (a PUT) on both."""
        real = self.real.get(self.real_obj["metadata"]["name"]) if self.real_obj else None
        assert real is not None and self.fake is not None
        change(real)
        self.real_obj = self.real.update(real, field_manager=manager)
        new = copy.deepcopy(self.fake)
        change(new)
        new["metadata"]["managedFields"] = record_update(
            self.fake, new, manager=manager, api=self.api, type_key=self.type_key, now=NOW,
            api_version=self.api_version)
        self.fake = new
        self.check()

    def check(self) -> None:
        assert self.real_obj is not None and self.fake is not None
        real_entries = _entries(self.real_obj)
        fake_entries = _entries(self.fake)
        assert set(fake_entries) == set(real_entries)
        fake_fields = fields_of(self.fake, self.api, self.type_key)
        for key, real_set in real_entries.items():
            fake_set = fake_entries[key]
            if key[1] == "Apply":
                assert fake_set == real_set, key
            else:
                assert fake_set.paths <= real_set.paths, key
                defaulted = real_set - fake_set
                assert not any(_present(fake_fields, p) for p in defaulted.paths), key
        assert [e["operation"] for e in self.fake["metadata"]["managedFields"]] == sorted(
            e["operation"] for e in self.fake["metadata"]["managedFields"])
        _assert_subset(_strip(self.fake), _strip(self.real_obj), "")
        applied = FieldSet().union(*(s for k, s in real_entries.items() if k[1] == "Apply"))
        real_fields = fields_of(self.real_obj, self.api, self.type_key)
        for path in applied.paths & real_fields.paths:
            assert _present(fake_fields, path), path


def _entries(obj: dict[str, Any]) -> dict[tuple[str, str], FieldSet]:
    return {(e["manager"], e["operation"]): FieldSet.from_fields_v1(e.get("fieldsV1"))
            for e in obj["metadata"].get("managedFields") or []}


def _present(fields: FieldSet, path: tuple[str, ...]) -> bool:
    return path in fields or fields.has_below(path)


def _strip(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    for name in ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation",
                 "selfLink", "namespace"):
        out["metadata"].pop(name, None)
    return out


def _assert_subset(fake: Any, real: Any, where: str) -> None:
    """Every field of the fake's value is in the real one, equal (list items in order)."""
    if isinstance(fake, dict):
        assert isinstance(real, dict), where
        for key, value in fake.items():
            assert key in real, f"{where}.{key} missing on the server"
            _assert_subset(value, real[key], f"{where}.{key}")
    elif isinstance(fake, list):
        assert isinstance(real, list) and len(real) == len(fake), where
        for i, (a, b) in enumerate(zip(fake, real, strict=True)):
            _assert_subset(a, b, f"{where}[{i}]")
    else:
        assert fake == real, where


@pytest.fixture
def dyn(cluster: TestCluster, tmp_path: Path) -> Iterator[DynamicClient]:
    with RESTClient(admin_config(cluster)) as rest:
        yield DynamicClient(rest, DiscoveryClient(rest, cache_dir=tmp_path))


@pytest.fixture
def modern_dyn(modern_cluster: TestCluster, tmp_path: Path) -> Iterator[DynamicClient]:
    install_crd(modern_cluster.admin_client(), WIDGET_CRD)
    with RESTClient(admin_config(modern_cluster)) as rest:
        yield DynamicClient(rest, DiscoveryClient(rest, cache_dir=tmp_path))


def _cm(**data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": data}


def test_config_map_managers_apply_conflict_force_update_and_drop(dyn: DynamicClient,
                                                                  namespace: str) -> None:
    cm = Backends(dyn, namespace, GroupVersionResource("", "v1", "configmaps"), CONFIG_MAP, "v1")
    first = _cm(a="1", b="2")
    first["metadata"]["labels"] = {"team": "x"}
    assert cm.apply("A", first) is None
    causes = cm.apply("B", _cm(a="9", b="2"))
    assert causes == [{"reason": "FieldManagerConflict", "message": 'conflict with "A"',
                       "field": ".data.a"}]
    assert cm.apply("B", _cm(a="9", b="2"), force=True) is None

    def edit(obj: dict[str, Any]) -> None:
        obj["data"]["b"] = "22"
        obj["data"]["c"] = "3"

    cm.update("C", edit)
    causes = cm.apply("B", _cm(a="9", c="99"))  # an updater's field: named with its version
    assert causes is not None and {c["field"] for c in causes} == {".data.c"}
    assert cm.apply("A", _cm(d="4")) is None  # A no longer applies the label: it goes
    assert cm.fake is not None and "labels" not in cm.fake["metadata"]
    assert cm.apply("B", _cm()) is None  # B gives up a; nobody else owns it
    assert cm.fake is not None and cm.fake["data"] == {"b": "22", "c": "3", "d": "4"}


def _deployment(containers: list[dict[str, Any]], replicas: int | None = 2) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app": "w"}}, "template": {
        "metadata": {"labels": {"app": "w"}}, "spec": {"containers": containers}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": spec}


WEB = {"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}],
       "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
SIDE = {"name": "side", "image": "busybox", "args": ["sleep", "1d"]}


def test_deployment_list_maps_conflicts_force_update_and_removal(dyn: DynamicClient,
                                                                 namespace: str) -> None:
    dep = Backends(dyn, namespace, GroupVersionResource("apps", "v1", "deployments"),
                   DEPLOYMENT, "apps/v1")
    assert dep.apply("A", _deployment([WEB, SIDE])) is None
    other = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
             "spec": {"replicas": 3, "template": {"spec": {"containers": [
                 {"name": "web", "image": "nginx:2"}]}}}}
    causes = dep.apply("B", other)
    assert causes is not None and [c["field"] for c in causes] == [
        ".spec.replicas", '.spec.template.spec.containers[name="web"].image']
    assert dep.apply("B", other, force=True) is None

    def edit(obj: dict[str, Any]) -> None:
        containers = obj["spec"]["template"]["spec"]["containers"]
        containers[1]["image"] = "busybox:2"
        containers[0]["env"].append({"name": "C", "value": "3"})

    dep.update("C", edit)
    web = {**WEB, "image": "nginx:2", "env": [{"name": "A", "value": "1"}]}
    assert dep.apply("A", _deployment([web], replicas=None)) is None  # drops side, env B
    assert dep.fake is not None
    names = [c["name"] for c in dep.fake["spec"]["template"]["spec"]["containers"]]
    env = [e["name"] for e in dep.fake["spec"]["template"]["spec"]["containers"][0]["env"]]
    # C changed side's image but owns no more than that: the item goes with A's apply
    assert (names, env) == (["web"], ["A", "C"])


def test_deployment_status_apply_and_sidecar_item(dyn: DynamicClient, namespace: str) -> None:
    dep = Backends(dyn, namespace, GroupVersionResource("apps", "v1", "deployments"),
                   DEPLOYMENT, "apps/v1")
    dep.apply("A", _deployment([WEB]))
    sidecar = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"template": {"spec": {"containers": [SIDE]}}}}
    assert dep.apply("injector", sidecar) is None
    assert dep.apply("A", _deployment([WEB], replicas=1)) is None  # the sidecar stays
    status = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "status": {"observedGeneration": 1, "conditions": [
                  {"type": "Progressing", "status": "True", "reason": "Tested"}]}}
    assert dep.apply("status-writer", status, subresource="status", force=True) is None
    status["status"]["conditions"] = [{"type": "Available", "status": "False", "reason": "X"}]
    assert dep.apply("status-writer", status, subresource="status", force=True) is None
    assert dep.fake is not None
    assert [c["type"] for c in dep.fake["status"]["conditions"]] == ["Available"]
    # 1.20 records what a write's strategy throws away: status through the main resource,
    # spec and labels through status (from 1.22 nobody owns them)
    main = _deployment([WEB], replicas=1)
    main["status"] = {"observedGeneration": 9}
    assert dep.apply("M", main, force=True) is None
    assert dep.fake["status"].get("observedGeneration") == 1
    both = {**status, "metadata": {"name": "web", "labels": {"l": "1"}},
            "spec": {"paused": True}}
    assert dep.apply("T", both, subresource="status", force=True) is None
    assert "paused" not in dep.fake["spec"] and "labels" not in dep.fake["metadata"]


def test_service_ports_need_their_protocol_on_1_20(dyn: DynamicClient, namespace: str) -> None:
    svc = Backends(dyn, namespace, GroupVersionResource("", "v1", "services"), SERVICE, "v1")

    def service(*ports: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
                "spec": {"selector": {"app": "w"}, "ports": list(ports)}}

    with pytest.raises(Refused, match=r"\.spec\.ports: element 1: .* omits key field"):
        svc.apply("A", service({"name": "dns", "port": 53, "protocol": "UDP"},
                               {"name": "web", "port": 80}))  # defaulted from 1.21 only
    svc.apply("A", service({"name": "dns", "port": 53, "protocol": "UDP"},
                           {"name": "web", "port": 80, "protocol": "TCP"}))
    causes = svc.apply("B", service({"name": "web", "port": 80, "protocol": "TCP",
                                     "targetPort": 8080}))
    assert causes is None  # the same selector value and a new field of the item: shared
    svc.apply("A", service({"name": "web", "port": 80, "protocol": "TCP"}))
    assert svc.fake is not None
    assert [(p["port"], p.get("targetPort")) for p in svc.fake["spec"]["ports"]] == [(80, 8080)]


def test_unmanaged_object_and_the_cap_on_updaters(dyn: DynamicClient, namespace: str) -> None:
    cm = Backends(dyn, namespace, GroupVersionResource("", "v1", "configmaps"), CONFIG_MAP, "v1")
    cm.apply("A", _cm(a="1"))

    def forget(obj: dict[str, Any]) -> None:
        obj["metadata"]["managedFields"] = [{}]  # one empty entry: the server drops them all
        obj["data"]["b"] = "2"

    cm.update("C", forget)
    assert cm.real_obj is not None and not cm.real_obj["metadata"].get("managedFields")
    with_fields = _cm(c="3")
    with_fields["metadata"]["managedFields"] = [{"manager": "x", "operation": "Apply"}]
    with pytest.raises(errors.BadRequest, match=r"metadata\.managedFields must be nil"):
        dyn.resource(GroupVersionResource("", "v1", "configmaps")).namespace(namespace).apply(
            with_fields, field_manager="B")
    with pytest.raises(ApplyBadRequest, match=r"^metadata\.managedFields must be nil$"):
        server_side_apply(cm.fake, with_fields, manager="B", force=False, api=API,
                          type_key=CONFIG_MAP, now=NOW, api_version="v1")
    cm.apply("B", _cm(c="3"))  # what was there goes to before-first-apply
    assert cm.fake is not None
    assert {e["manager"] for e in cm.fake["metadata"]["managedFields"]} == {
        "B", "before-first-apply"}
    for i in range(11):
        cm.update(f"u{i:02d}", lambda obj, i=i: obj["data"].update({f"k{i}": str(i)}))
    assert "ancient-changes" in {e["manager"] for e in cm.fake["metadata"]["managedFields"]}


def _widget(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": spec}


def test_custom_resource_on_the_modern_server(modern_dyn: DynamicClient,
                                              modern_namespace: str) -> None:
    """v1.36 semantics: empty structs are fields, unowned structs are pruned whole, status
    entries name their subresource, reset fields are owned by nobody, updaters are capped."""
    w = Backends(modern_dyn, modern_namespace, GroupVersionResource("example.com", "v1", "widgets"),
                 WIDGET, "example.com/v1", api=package_api("v1.36.4"))
    w.apply("A", _widget(items=[{"name": "x", "size": 1}, {"name": "y"}], tags=["a", "b"],
                         ordered=[3, 1], settings={"s": "1"}, extra={"k": "v"},
                         limits={"cpu": "1"}, empty={}, free={"a": {"x": 1, "l": [1]}}))
    w.apply("F", _widget(free={"a": {"y": 2}, "b": [1, 2]}))  # free-form: merged key by key
    causes = w.apply("B", _widget(items=[{"name": "x", "size": 2}], ordered=[1], tags=["c"]))
    assert causes is not None and [c["field"] for c in causes] == [
        ".spec.ordered", '.spec.items[name="x"].size']
    w.apply("B", _widget(items=[{"name": "x", "size": 2}], ordered=[1], tags=["c"]), force=True)
    w.apply("A", _widget(items=[{"name": "y"}], tags=["a"]))  # drops extra, limits, empty, b
    assert w.fake is not None and set(w.fake["spec"]) == {"items", "tags", "ordered", "free"}
    status = {"apiVersion": "example.com/v1", "kind": "Widget",
              "metadata": {"name": "w", "labels": {"l": "1"}}, "spec": {"tags": ["zz"]},
              "status": {"phase": "ok", "conditions": [{"type": "Ready", "status": "True"}]}}
    w.apply("S", status, subresource="status")
    w.apply("M", {**_widget(tags=["m"]), "status": {"phase": "main"}})  # status: not M's

    def edit(obj: dict[str, Any]) -> None:
        obj["spec"]["items"].append({"name": "z", "size": 5})

    w.update("C", edit)
    causes = w.apply("B", _widget(items=[{"name": "z", "size": 6}]))
    assert causes is not None and [c["message"] for c in causes] == [
        'conflict with "C" using example.com/v1']
    status["status"] = {"phase": "other"}
    causes = w.apply("T", status, subresource="status")
    assert causes is not None and [c["message"] for c in causes] == [
        'conflict with "S" with subresource "status"']
    with pytest.raises(Refused, match=r'\.spec\.items: duplicate entries for key \[name="q"\]'):
        w.apply("D", _widget(items=[{"name": "q"}, {"name": "q", "size": 1}]))
    w.apply("A", _widget(tags=["a"]))  # A gives up y; x is B's, z is C's
    for i in range(11):
        w.update(f"u{i:02d}", lambda obj, i=i: obj["spec"].setdefault("extra", {}).update(
            {f"k{i}": str(i)}))
    assert w.fake is not None
    assert "ancient-changes" in {e["manager"] for e in w.fake["metadata"]["managedFields"]}


def test_sets_atomic_lists_and_retain_keys_lists_of_a_pod_template(dyn: DynamicClient,
                                                                   namespace: str) -> None:
    dep = Backends(dyn, namespace, GroupVersionResource("apps", "v1", "deployments"),
                   DEPLOYMENT, "apps/v1")
    web = {"name": "web", "image": "nginx:1", "args": ["a", "b"], "command": ["run"],
           "volumeMounts": [{"name": "v", "mountPath": "/v"}]}
    config = _deployment([web])
    config["metadata"].update({"finalizers": ["example.com/a"], "annotations": {"x": "1"}})
    template = config["spec"]["template"]["spec"]
    template.update({"volumes": [{"name": "v", "emptyDir": {}}],
                     "tolerations": [{"key": "k", "operator": "Exists"}],
                     "nodeSelector": {"disk": "ssd"}})
    dep.apply("A", config)
    other = _deployment([{"name": "web", "args": ["c"]}], replicas=None)
    other["metadata"]["finalizers"] = ["example.com/b"]
    other["spec"]["template"]["spec"]["tolerations"] = [{"key": "t", "operator": "Exists"}]
    causes = dep.apply("B", other)
    # the conflicts are tolerations and the container's args; 1.20 names the first with
    # the second's prefix (structured-merge-diff before 4.3 aliased its paths), the fake too
    assert causes is not None and [c["field"] for c in causes] == [
        ".spec.template.spec.containers", '.spec.template.spec.containers[name="web"].args']
    dep.apply("B", other, force=True)
    assert dep.fake is not None
    assert dep.fake["metadata"]["finalizers"] == ["example.com/a", "example.com/b"]

    def finish(obj: dict[str, Any]) -> None:
        del obj["metadata"]["finalizers"]  # let the namespace go
        obj["spec"]["template"]["spec"]["volumes"].append({"name": "w", "emptyDir": {}})

    dep.update("C", finish)
    del config["metadata"]["finalizers"]
    dep.apply("A", config)  # C's volume stays, A's finalizer was already gone


def test_conflicts_in_keyed_items_come_in_the_servers_order(dyn: DynamicClient,
                                                           namespace: str) -> None:
    dep = Backends(dyn, namespace, GroupVersionResource("apps", "v1", "deployments"),
                   DEPLOYMENT, "apps/v1")
    ports = [{"containerPort": p, "protocol": "TCP", "name": f"p{p}"} for p in (443, 80, 8080)]
    env = [{"name": n, "value": "1"} for n in ("b", "a", "C")]
    dep.apply("A", _deployment([{"name": "web", "image": "i", "ports": ports, "env": env}]))
    changed = [{"name": "web", "image": "j", "ports": [{**p, "name": "x"} for p in ports],
                "env": [{**e, "value": "2"} for e in env]}]
    causes = dep.apply("B", _deployment(changed, replicas=None))
    assert causes is not None and len(causes) == 7


def test_created_objects_are_owned_by_their_creator(dyn: DynamicClient, namespace: str) -> None:
    """A create records every field it wrote (the server's defaults too, which a fake has
    not); structs a Go object always has get no ``.`` of their own."""
    dep = Backends(dyn, namespace, GroupVersionResource("apps", "v1", "deployments"),
                   DEPLOYMENT, "apps/v1")
    made = _deployment([WEB, SIDE])
    made["metadata"]["labels"] = {"team": "t"}
    made["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}
    dep.create("creator", made)
    dep.apply("A", _deployment([{"name": "web", "image": "nginx:1"}], replicas=2))
    pod = Backends(dyn, namespace, GroupVersionResource("", "v1", "pods"),
                   API.type_of("", "v1", "Pod") or "", "v1")
    pod.create("creator", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                           "spec": {"automountServiceAccountToken": False, "containers": [
                               {"name": "c", "image": "busybox", "resources": {
                                   "limits": {"cpu": "1"}}}]}})
    svc = Backends(dyn, namespace, GroupVersionResource("", "v1", "services"), SERVICE, "v1")
    svc.create("creator", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                           "spec": {"selector": {"app": "w"}, "ports": [
                               {"port": 80, "protocol": "TCP", "targetPort": 8080}]}})
