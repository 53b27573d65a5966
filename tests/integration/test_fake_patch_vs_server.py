"""The fake server's patch engines against the real v1.20.2 kube-apiserver.

Each case creates the same ConfigMap or Deployment on the server, reads it back (so both
sides start from the object as the server stores it, defaults included), sends a JSON,
merge or strategic merge patch with ``cs.rest.patch`` and applies the same patch to the
read object with ``kubecodegen_runtime.fake.patch``. The results must be equal once the
metadata the server manages (resourceVersion, managedFields, uid, timestamps,
generation) is removed, the defaults the server gives to what a patch adds (a new
container's pull policy, termination message path, ...) are stripped, deliberately and
by name, from both sides, and so are the empty maps and lists Go's ``omitempty`` leaves
out when the server writes the result (that is the typed round trip's business, not the
patch engine's). Refused patches must give the same status, reason and (where
the engine decides it) message.

Custom resources take JSON and merge patches on both servers (1.20 and the 1.36 API
machinery), which checks the two generations of the JSON patch library the engines
follow by ``kubernetes_version``.

The merge metadata is the generated package's own (``kube_v1_20.fake.package_api()``,
the tables the generator wrote from the ``x-kubernetes-*`` extensions of the v1.20.2
spec this server serves), so the proof covers the generator's tables too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.generated_packages import import_reference

import_reference("kube_v1_20")
from kube_v1_20 import Clientset  # noqa: E402
from kube_v1_20.fake import package_api  # noqa: E402

from kubecodegen_runtime import errors  # noqa: E402
from kubecodegen_runtime.fake.patch import (  # noqa: E402
    PatchError,
    json_patch,
    merge_patch,
    strategic_merge_patch,
)
from tests.integration.cr_machinery import install_crd  # noqa: E402

#: The merge metadata the generator wrote for kube_v1_20 (``_fake_api.py``, from the spec).
API = package_api()

CONTENT_TYPES = {"json": "application/json-patch+json", "merge": "application/merge-patch+json",
                 "strategic": "application/strategic-merge-patch+json"}
SERVER_METADATA = ("resourceVersion", "managedFields", "uid", "creationTimestamp", "generation", "selfLink")
#: Defaults kube-apiserver gives to a container, pod spec and deployment spec a patch adds.
CONTAINER_DEFAULTS = {"terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                      "imagePullPolicy": "IfNotPresent", "resources": {}}


@pytest.fixture
def cs(cluster: Any) -> Any:
    with Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as clientset:
        yield clientset


def _omit_empty(value: Any, type_key: str | None) -> None:
    """Drop empty maps and lists of map and list properties, as Go's ``omitempty`` does
    when the server writes the patched object (the typed round trip, not the patch)."""
    if not isinstance(value, dict) or type_key is None:
        return
    for name in list(value):
        found = API.field(type_key, name)
        if found is None:
            continue
        child = value[name]
        if found.container and child in ({}, []):
            del value[name]
        elif found.container == "list" and isinstance(child, list):
            for item in child:
                _omit_empty(item, found.type)
        elif not found.container:
            _omit_empty(child, found.type)


def _without_server_state(obj: dict[str, Any], type_key: str) -> dict[str, Any]:
    """The object without what the server manages and without the defaults it gives to
    added containers (stripped by name, on both sides alike)."""
    out: dict[str, Any] = json.loads(json.dumps(obj))
    _omit_empty(out, type_key)
    for key in SERVER_METADATA:
        out.get("metadata", {}).pop(key, None)
    out.pop("status", None)
    pod = out.get("spec", {}).get("template", {}).get("spec", {})
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        for key, value in CONTAINER_DEFAULTS.items():
            if container.get(key) == value:
                del container[key]
    return out


def _engine(kind: str, type_key: str) -> Callable[[Any, Any], Any]:
    if kind == "json":
        return lambda doc, body: json_patch(doc, body, kubernetes_version=API.kubernetes_version)
    if kind == "merge":
        return lambda doc, body: merge_patch(doc, body, kubernetes_version=API.kubernetes_version)
    return lambda doc, body: strategic_merge_patch(doc, body, API, type_key)


def _configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "web", "tier": "front"},
                         "finalizers": ["a.example.com/x", "b.example.com/y"]},
            "data": {"a": "1", "b": "2"}}


def _deployment(name: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                         "containers": [
                             {"name": "a", "image": "x.invalid/a:1",
                              "env": [{"name": "E1", "value": "1"}, {"name": "E2", "value": "2"}],
                              "ports": [{"containerPort": 80, "protocol": "TCP"}],
                              "volumeMounts": [{"name": "v1", "mountPath": "/v1"}]},
                             {"name": "b", "image": "x.invalid/b:1", "args": ["--x"]}],
                         "volumes": [{"name": "v1", "emptyDir": {}},
                                     {"name": "v2", "configMap": {"name": "cm", "defaultMode": 420}}],
                         "tolerations": [{"key": "k1", "operator": "Exists"}]}}}}


class Pair:
    """One object on the server, and the same object as the fake's engines start from it."""

    def __init__(self, cs: Any, namespace: str, kind: str, name: str) -> None:
        self.cs = cs
        if kind == "ConfigMap":
            collection, body, gvk = (f"/api/v1/namespaces/{namespace}/configmaps", _configmap(name),
                                     ("", "v1", "ConfigMap"))
        else:
            collection, body, gvk = (f"/apis/apps/v1/namespaces/{namespace}/deployments",
                                     _deployment(name), ("apps", "v1", "Deployment"))
        type_key = API.type_of(*gvk)
        assert type_key is not None
        self.type_key = type_key
        self.path = f"{collection}/{name}"
        cs.rest.post(collection, json.dumps(body).encode())
        self.live = cs.rest.get(self.path)

    def patch(self, kind: str, body: Any) -> tuple[Any, Any]:
        """The server's and the fake's results (each a dict or the error's status, reason
        and message)."""
        try:
            server: Any = _without_server_state(self.cs.rest.patch(
                self.path, json.dumps(body).encode(), content_type=CONTENT_TYPES[kind]), self.type_key)
        except errors.ApiError as exc:
            server = (exc.status, exc.body.reason if exc.body is not None else None, exc.message)
        try:
            fake: Any = _without_server_state(_engine(kind, self.type_key)(self.live, body), self.type_key)
        except PatchError as exc:
            fake = (exc.status, exc.reason or None, exc.message)
        return server, fake


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return found


# --- cases ---------------------------------------------------------------------------------

CONFIGMAP_CASES: list[tuple[str, str, Any]] = [
    ("json add", "json", [{"op": "add", "path": "/data/c", "value": "3"}]),
    ("json replace and remove", "json",
     [{"op": "replace", "path": "/data/a", "value": "9"}, {"op": "remove", "path": "/data/b"}]),
    ("json escaped pointer", "json",
     [{"op": "replace", "path": "/metadata/labels/app.kubernetes.io~1name", "value": "api"}]),
    ("json test then change", "json",
     [{"op": "test", "path": "/data/a", "value": "1"}, {"op": "add", "path": "/data/t", "value": "ok"}]),
    ("json move and copy", "json",
     [{"op": "move", "from": "/data/a", "path": "/data/moved"}, {"op": "copy", "from": "/data/b", "path": "/data/c"}]),
    ("json array insert, append and negative index", "json",
     [{"op": "add", "path": "/metadata/finalizers/0", "value": "c.example.com/z"},
      {"op": "add", "path": "/metadata/finalizers/-", "value": "d.example.com/w"},
      {"op": "remove", "path": "/metadata/finalizers/-2"}]),
    ("json replace of a missing key adds it", "json", [{"op": "replace", "path": "/data/zz", "value": "v"}]),
    ("json test of a missing key against null", "json",
     [{"op": "test", "path": "/data/zz", "value": None}, {"op": "add", "path": "/data/t", "value": "ok"}]),
    ("json remove a missing key", "json", [{"op": "remove", "path": "/data/zz"}]),
    ("json failed test", "json", [{"op": "test", "path": "/data/a", "value": "nine"}]),
    ("json index past the end", "json", [{"op": "add", "path": "/metadata/finalizers/5", "value": "e.example.com/v"}]),
    ("json unknown op", "json", [{"op": "frobnicate", "path": "/data/a"}]),
    ("json whole document (1.20)", "json", [{"op": "replace", "path": "", "value": {}}]),
    ("json body that is no array", "json", {"op": "add", "path": "/data/c", "value": "3"}),
    ("json of too many operations", "json", [{"op": "test", "path": "/data/a", "value": "1"}] * 10001),
    ("merge patch", "merge", {"data": {"a": None, "c": "3"}, "metadata": {"labels": {"tier": None}}}),
    ("merge patch replaces lists", "merge", {"metadata": {"finalizers": ["c.example.com/z"]}}),
    ("merge patch that is a string", "merge", "x"),
    ("merge patch that is an array", "merge", [1]),
    ("strategic map merge", "strategic", {"data": {"a": None, "c": "3"}, "metadata": {"labels": {"new": "1"}}}),
    ("strategic finalizers merge (new first)", "strategic", {"metadata": {"finalizers": ["c.example.com/z"]}}),
    ("strategic finalizers merge with a live item", "strategic",
     {"metadata": {"finalizers": ["c.example.com/z", "a.example.com/x"]}}),
    ("strategic $deleteFromPrimitiveList", "strategic",
     {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.example.com/x"]}}),
    ("strategic $setElementOrder of finalizers", "strategic",
     {"metadata": {"$setElementOrder/finalizers": ["b.example.com/y", "a.example.com/x"]}}),
    ("strategic new map with a null member (1.20 keeps it as \"\")", "strategic",
     {"metadata": {"annotations": {"k": None, "j": "1"}}}),
    ("strategic $patch: replace with a null member", "strategic",
     {"metadata": {"labels": {"$patch": "replace", "b": None, "c": "3"}}}),
    ("strategic $patch: delete a map", "strategic", {"data": {"$patch": "delete"}}),
    ("strategic $patch: replace a map", "strategic", {"data": {"$patch": "replace", "z": "26"}}),
    ("strategic $retainKeys on a map", "strategic", {"data": {"$retainKeys": ["a"]}}),
    ("strategic unknown $patch", "strategic", {"data": {"$patch": "foo"}}),
    ("strategic $retainKeys that is no list", "strategic", {"data": {"$retainKeys": "x"}}),
    ("strategic $retainKeys missing a set field", "strategic", {"data": {"$retainKeys": ["a"], "b": "5"}}),
    ("strategic bad $deleteFromPrimitiveList", "strategic", {"metadata": {"$deleteFromPrimitiveList": ["x"]}}),
    ("strategic $setElementOrder contradicting the patch", "strategic",
     {"metadata": {"finalizers": ["b.example.com/y"], "$setElementOrder/finalizers": ["a.example.com/x"]}}),
    ("strategic item types differ", "strategic", {"metadata": {"finalizers": [{"a": 1}]}}),
    ("strategic body that is no object", "strategic", [1]),
]


#: The cases the server refuses (the others it applies); checked, so that no case
#: compares two failures where a success was meant.
REFUSED = frozenset({
    "json remove a missing key", "json failed test", "json index past the end", "json unknown op",
    "json whole document (1.20)", "json body that is no array", "json of too many operations", "merge patch that is a string",
    "merge patch that is an array", "strategic unknown $patch", "strategic $retainKeys that is no list",
    "strategic $retainKeys missing a set field", "strategic bad $deleteFromPrimitiveList",
    "strategic $setElementOrder contradicting the patch", "strategic item types differ",
    "strategic body that is no object", "container without its merge key", "$patch: merge in a list",
    "unknown $patch in a list item", "$setElementOrder/env contradicting the patch",
    "$retainKeys missing a field the patch sets",
})


@pytest.mark.parametrize(("name", "kind", "body"), CONFIGMAP_CASES, ids=[c[0] for c in CONFIGMAP_CASES])
def test_configmap_patch_matches_the_server(cs: Any, namespace: str, name: str, kind: str, body: Any) -> None:
    server, fake = Pair(cs, namespace, "ConfigMap", "cm").patch(kind, body)
    assert isinstance(server, dict) is (name not in REFUSED), server
    assert fake == server


def _pod(**spec: Any) -> dict[str, Any]:
    return {"spec": {"template": {"spec": spec}}}


DEPLOYMENT_CASES: list[tuple[str, Any]] = [
    ("new container goes first", _pod(containers=[{"name": "c", "image": "x.invalid/c:1"}])),
    ("new and changed containers", _pod(containers=[{"name": "c", "image": "x.invalid/c:1"},
                                                    {"name": "a", "image": "x.invalid/a:2"}])),
    ("changed container keeps its place", _pod(containers=[{"name": "b", "image": "x.invalid/b:2"}])),
    ("$patch: delete a container", _pod(containers=[{"name": "b", "$patch": "delete"}])),
    ("$patch: replace the containers", _pod(containers=[{"name": "z", "image": "x.invalid/z:1"},
                                                        {"$patch": "replace"}])),
    ("env merges by name", _pod(containers=[{"name": "a", "env": [{"name": "E3", "value": "3"},
                                                                  {"name": "E1", "value": "one"}]}])),
    ("env item deleted, field nulled", _pod(containers=[{"name": "a", "env": [
        {"name": "E1", "$patch": "delete"}, {"name": "E2", "value": None}]}])),
    ("$setElementOrder/env with an added item", _pod(containers=[{
        "name": "a", "env": [{"name": "E0", "value": "0"}],
        "$setElementOrder/env": [{"name": "E2"}, {"name": "E0"}, {"name": "E1"}]}])),
    ("$setElementOrder/containers", _pod(**{"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]})),
    ("ports merge by containerPort", _pod(containers=[{"name": "a", "ports": [
        {"containerPort": 8080, "protocol": "TCP", "name": "alt"}, {"containerPort": 80, "protocol": "TCP",
                                                                     "name": "http"}]}])),
    ("volumes merge by name", _pod(volumes=[{"name": "v3", "emptyDir": {"medium": "Memory"}},
                                            {"name": "v2", "$patch": "delete"}])),
    ("volume mounts merge by mountPath", _pod(containers=[{"name": "a", "volumeMounts": [
        {"name": "v2", "mountPath": "/v2"}]}])),
    ("volume source switched with $retainKeys", _pod(volumes=[
        {"name": "v1", "$retainKeys": ["configMap", "name"], "configMap": {"name": "cm2", "defaultMode": 420}}])),
    ("tolerations are replaced", _pod(tolerations=[{"key": "k2", "operator": "Exists"}])),
    ("a new container is stored raw", _pod(containers=[{"name": "c", "image": "x.invalid/c:1", "args": [None, "q"],
                                                        "env": [{"name": "X", "$patch": "delete"},
                                                                {"name": "Y", "value": None}]}])),
    ("a new nodeSelector with a null member", _pod(nodeSelector={"k": None, "j": "1"})),
    ("$setElementOrder/env for a new env list", _pod(containers=[{
        "name": "b", "env": [{"name": "E", "value": None}], "$setElementOrder/env": [{"name": "E"}]}])),
    ("args without strategy are replaced", _pod(containers=[{"name": "b", "args": ["--y"]}])),
    ("$retainKeys on strategy", {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
    ("strategy nulls rollingUpdate", {"spec": {"strategy": {"type": "Recreate", "rollingUpdate": None}}}),
    ("$deleteFromPrimitiveList on args without strategy (1.20 replaces)", _pod(containers=[
        {"name": "b", "$deleteFromPrimitiveList/args": ["--z"]}])),
    ("container without its merge key", _pod(containers=[{"image": "x.invalid/q:1"}])),
    ("$patch: merge in a list", _pod(containers=[{"name": "b", "$patch": "merge"}])),
    ("unknown $patch in a list item", _pod(containers=[{"name": "b", "$patch": "bogus"}])),
    ("$setElementOrder/env contradicting the patch", _pod(containers=[{
        "name": "a", "env": [{"name": "E0", "value": "0"}], "$setElementOrder/env": [{"name": "E1"}]}])),
    ("$retainKeys missing a field the patch sets",
     {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {"maxSurge": 1}}}}),
]


@pytest.mark.parametrize(("name", "body"), DEPLOYMENT_CASES, ids=[c[0] for c in DEPLOYMENT_CASES])
def test_deployment_strategic_patch_matches_the_server(cs: Any, namespace: str, name: str, body: Any) -> None:
    server, fake = Pair(cs, namespace, "Deployment", "web").patch("strategic", body)
    assert isinstance(server, dict) is (name not in REFUSED), server
    assert fake == server


def test_ordering_cases_are_not_trivial(cs: Any, namespace: str) -> None:
    """The order kube-apiserver gives (patch items before live-only ones) is what is compared."""
    server, fake = Pair(cs, namespace, "Deployment", "web").patch(
        "strategic", _pod(containers=[{"name": "c", "image": "x.invalid/c:1"}]))
    assert [c["name"] for c in _containers(server)] == ["c", "a", "b"] == [c["name"] for c in _containers(fake)]


def test_legacy_deletion_list_for_a_missing_list_matches_the_server(cs: Any, namespace: str) -> None:
    """Before 1.23 a ``$deleteFromPrimitiveList`` for a list the object lacks sets it."""
    pair = Pair(cs, namespace, "Deployment", "web")
    body = _pod(containers=[{"name": "a", "$deleteFromPrimitiveList/command": ["sh"]}])
    server, fake = pair.patch("strategic", body)
    assert _containers(server)[0]["command"] == ["sh"]
    assert fake == server


# --- custom resources on both servers: the JSON patch library's two generations -----------

THING_GROUP = "patch.kubecodegen.test"
THING_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": f"things.{THING_GROUP}"},
    "spec": {"group": THING_GROUP, "scope": "Namespaced",
             "names": {"plural": "things", "singular": "thing", "kind": "Thing", "listKind": "ThingList"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                 "type": "object", "properties": {"spec": {
                     "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}]}}

#: Before 1.23 the library indexes a Go slice with a negative number here: the handler
#: panics and the server drops the connection. The fake answers its 422 instead.
PANICS_BEFORE_1_23 = "json negative index read"

CR_CASES: list[tuple[str, str, Any]] = [
    (PANICS_BEFORE_1_23, "json", [{"op": "replace", "path": "/spec/items/-1", "value": "z"}]),
    ("json negative index insert", "json", [{"op": "add", "path": "/spec/items/-1", "value": "z"}]),
    ("json test of the whole document", "json", [{"op": "test", "path": "", "value": {"spec": {}}}]),
    ("json pointer without a leading slash", "json", [{"op": "add", "path": "x/spec/color", "value": "red"}]),
    ("json copy then change the copy", "json", [{"op": "copy", "from": "/spec/nested", "path": "/spec/other"},
                                                 {"op": "replace", "path": "/spec/other/a", "value": 2}]),
    ("merge patch with nulls in a new array", "merge", {"spec": {"list": [{"a": None, "b": 1}, None]}}),
    ("merge patch replacing an object by an array", "merge", {"spec": {"nested": [1, None]}}),
    ("json remove of a missing member", "json", [{"op": "remove", "path": "/spec/missing"}]),
    ("json failed test", "json", [{"op": "test", "path": "/spec/items/0", "value": "b"}]),
    ("merge patch that is a number", "merge", 5),
    ("merge patch that is null", "merge", None),
    ("merge patch that is an array", "merge", [1]),
    ("json patch that is an object", "json", {"op": "add"}),
    ("json patch with an op that is no string", "json", [{"op": 1, "path": "/spec/x"}]),
    ("json patch with an item that is no object", "json", [1]),
    ("json replace of the whole document", "json", None),  # the body is built from the live object
]


@pytest.fixture
def thing_admin(cr_cluster: Any) -> Any:
    admin = cr_cluster.admin_client()
    install_crd(admin, THING_CRD)
    return admin


@pytest.mark.parametrize(("name", "kind", "body"), CR_CASES, ids=[c[0] for c in CR_CASES])
def test_custom_resource_patch_matches_each_server(thing_admin: Any, cr_namespace: str, name: str, kind: str,
                                                   body: Any) -> None:
    version = thing_admin.get("/version").json()["gitVersion"]
    legacy = version.startswith("v1.20.")
    collection = f"/apis/{THING_GROUP}/v1/namespaces/{cr_namespace}/things"
    thing = {"apiVersion": f"{THING_GROUP}/v1", "kind": "Thing", "metadata": {"name": "t"},
             "spec": {"items": ["a", "b"], "nested": {"a": 1}}}
    assert thing_admin.post(collection, json=thing).status_code == 201
    live = thing_admin.get(f"{collection}/t").json()
    if name == "json replace of the whole document":
        body = [{"op": "replace", "path": "", "value": {**live, "spec": {"whole": True}}}]

    def send() -> Any:
        return thing_admin.patch(f"{collection}/t", content=json.dumps(body),
                                 headers={"Content-Type": CONTENT_TYPES[kind]})

    if legacy and name == PANICS_BEFORE_1_23:
        with pytest.raises(httpx.RemoteProtocolError):
            send()
        with pytest.raises(PatchError) as refused:
            json_patch(live, body, kubernetes_version=version)
        assert refused.value.status == 422
        return
    answer = send()
    server: Any = _without_server_state(answer.json(), "") if answer.status_code == 200 else (
        answer.status_code, answer.json().get("reason"), answer.json().get("message"))
    try:
        patched = (json_patch(live, body, kubernetes_version=version) if kind == "json"
                   else merge_patch(live, body, kubernetes_version=version))
        fake: Any = _without_server_state(patched, "")
    except PatchError as exc:
        fake = (exc.status, exc.reason or None, exc.message)
    assert fake == server, version
