"""JSON, merge and strategic-merge patches (keys from the spec the package was generated from)."""

from __future__ import annotations

from kube_v1_20.models import apps_v1, core_v1

from kubecodegen_runtime import errors

from ..backends import Backend
from .registry import scenario
from .support import configmap, deployment, raises, rv, widget, widgets


@scenario
def scenario_json_patch_operations(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    made = cms.create(configmap("j", {"a": "1", "b": "2", "c": "3"}))
    patched = cms.patch("j", [
        {"op": "test", "path": "/data/a", "value": "1"},
        {"op": "replace", "path": "/data/a", "value": "10"},
        {"op": "remove", "path": "/data/b"},
        {"op": "add", "path": "/data/d", "value": "4"},
        {"op": "copy", "from": "/data/c", "path": "/data/e"},
        {"op": "move", "from": "/data/c", "path": "/data/f"},
        {"op": "add", "path": "/metadata/labels", "value": {"x": "1"}},
    ], patch_type="json")
    assert patched.data == {"a": "10", "d": "4", "e": "3", "f": "3"}
    assert patched.metadata.labels == {"x": "1"}
    assert rv(patched) > rv(made)


@scenario
def scenario_json_patch_escaped_pointer(b: Backend) -> None:
    """``~1`` in a pointer is ``/`` (annotation keys have one); ``replace`` of a key a map lacks
    adds it (evanphx/json-patch v4, which kube-apiserver 1.20 uses)."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("j", {"a": "1"}, annotations={"example.com/a": "1"}))
    patched = cms.patch("j", [
        {"op": "replace", "path": "/metadata/annotations/example.com~1a", "value": "slash"},
        {"op": "replace", "path": "/data/missing", "value": "added"},
    ], patch_type="json")
    assert patched.metadata.annotations == {"example.com/a": "slash"}
    assert patched.data == {"a": "1", "missing": "added"}


@scenario
def scenario_json_patch_failures_are_invalid(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    made = cms.create(configmap("j", {"a": "1"}))
    with raises(errors.Invalid, "Invalid"):
        cms.patch("j", [{"op": "test", "path": "/data/a", "value": "2"}], patch_type="json")
    with raises(errors.Invalid, "Invalid"):
        cms.patch("j", [{"op": "remove", "path": "/data/missing"}], patch_type="json")
    with raises(errors.Invalid, "Invalid"):
        cms.patch("j", [{"op": "add", "path": "/nothere/missing", "value": "x"}], patch_type="json")
    stored = cms.get("j")
    assert stored.data == {"a": "1"} and stored.metadata.resource_version == made.metadata.resource_version


@scenario
def scenario_json_patch_list_indices(b: Backend) -> None:
    deployments = b.cs.apps_v1.deployments(b.namespace)
    deployments.create(deployment("web", containers=("a", "b")))
    patched = deployments.patch("web", [
        {"op": "add", "path": "/spec/template/spec/containers/-",
         "value": {"name": "c", "image": "example/c:1"}},
        {"op": "remove", "path": "/spec/template/spec/containers/0"},
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "example/b:2"},
    ], patch_type="json")
    containers = patched.spec.template.spec.containers
    assert [(c.name, c.image) for c in containers] == [("b", "example/b:2"), ("c", "example/c:1")]


@scenario
def scenario_merge_patch_semantics(b: Backend) -> None:
    """RFC 7386: maps merge, null deletes, lists are replaced whole."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("m", {"keep": "1", "drop": "2"}, labels={"a": "1"}))
    patched = cms.patch("m", {"data": {"drop": None, "new": "3"},
                              "metadata": {"labels": {"b": "2"}}})
    assert patched.data == {"keep": "1", "new": "3"}
    assert patched.metadata.labels == {"a": "1", "b": "2"}
    deployments = b.cs.apps_v1.deployments(b.namespace)
    deployments.create(deployment("web", containers=("a", "b")))
    replaced = deployments.patch("web", {"spec": {"template": {"spec": {"containers": [
        {"name": "only", "image": "example/only:1"}]}}}})
    assert [c.name for c in replaced.spec.template.spec.containers] == ["only"]


@scenario
def scenario_merge_patch_with_stale_rv_conflicts(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    made = cms.create(configmap("m", {"k": "1"}))
    cms.patch("m", {"data": {"k": "2"}})
    with raises(errors.Conflict, "Conflict"):
        cms.patch("m", {"metadata": {"resourceVersion": made.metadata.resource_version},
                        "data": {"k": "stale"}})
    current = cms.get("m")
    ok = cms.patch("m", {"metadata": {"resourceVersion": current.metadata.resource_version},
                         "data": {"k": "3"}})
    assert ok.data == {"k": "3"}


@scenario
def scenario_patch_missing_is_not_found(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    for patch_type, body in (("merge", {"data": {"k": "v"}}), ("strategic", {"data": {"k": "v"}}),
                             ("json", [{"op": "add", "path": "/data", "value": {}}])):
        with raises(errors.NotFound, "NotFound"):
            cms.patch("missing", body, patch_type=patch_type)


@scenario
def scenario_strategic_merge_containers_by_name(b: Backend) -> None:
    deployments = b.cs.apps_v1.deployments(b.namespace)
    deployments.create(deployment("web", containers=("a", "b")))
    patched = deployments.patch("web", {"spec": {"template": {"spec": {"containers": [
        {"name": "b", "image": "example/b:2"},
        {"name": "c", "image": "example/c:1"},
    ]}}}}, patch_type="strategic")
    containers = patched.spec.template.spec.containers
    assert [(c.name, c.image) for c in containers] == [
        ("a", "example/a:1"), ("b", "example/b:2"), ("c", "example/c:1")]


@scenario
def scenario_strategic_merge_patch_delete_directive(b: Backend) -> None:
    deployments = b.cs.apps_v1.deployments(b.namespace)
    deployments.create(deployment("web", containers=("a", "b", "c")))
    patched = deployments.patch("web", {"spec": {"template": {"spec": {"containers": [
        {"name": "b", "$patch": "delete"}]}}}}, patch_type="strategic")
    assert [c.name for c in patched.spec.template.spec.containers] == ["a", "c"]


@scenario
def scenario_strategic_merge_retain_keys(b: Backend) -> None:
    """``strategy`` has patchStrategy retainKeys: keys the patch does not name are cleared."""
    deployments = b.cs.apps_v1.deployments(b.namespace)
    web = deployment("web")
    web.spec.strategy = apps_v1.DeploymentStrategy(
        type="RollingUpdate", rolling_update=apps_v1.RollingUpdateDeployment(max_surge=2))
    made = deployments.create(web)
    assert made.spec.strategy.rolling_update.max_surge == 2
    patched = deployments.patch("web", {"spec": {"strategy": {
        "$retainKeys": ["type"], "type": "Recreate"}}}, patch_type="strategic")
    assert patched.spec.strategy.type == "Recreate"
    assert patched.spec.strategy.rolling_update is None


@scenario
def scenario_strategic_merge_maps_and_merge_lists(b: Backend) -> None:
    """Maps merge as in a merge patch; ``finalizers`` is a merge list of primitives (the patch's items
    come first, then the others: not replaced); a list without a strategy (``args``) is replaced."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("s", {"a": "1", "b": "2"}, finalizers=["x.example/one"]))
    patched = cms.patch("s", {"data": {"b": None, "c": "3"},
                              "metadata": {"finalizers": ["x.example/two"]}}, patch_type="strategic")
    assert patched.data == {"a": "1", "c": "3"}
    assert patched.metadata.finalizers == ["x.example/two", "x.example/one"]
    cms.patch("s", {"metadata": {"finalizers": None}})
    deployments = b.cs.apps_v1.deployments(b.namespace)
    made = deployments.create(deployment("web"))
    made.spec.template.spec.containers[0].args = ["one", "two"]
    deployments.update(made)
    replaced = deployments.patch("web", {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "args": ["three"]}]}}}}, patch_type="strategic")
    assert replaced.spec.template.spec.containers[0].args == ["three"]


@scenario
def scenario_strategic_merge_refused_on_custom_resource(b: Backend) -> None:
    ws = widgets(b)
    ws.create(widget("w", color="red"))
    with raises(errors.UnsupportedMediaType, "UnsupportedMediaType"):
        ws.patch("w", {"spec": {"color": "blue"}}, patch_type="strategic")
    assert ws.patch("w", {"spec": {"color": "blue"}}).spec.color == "blue"
    assert ws.patch("w", [{"op": "replace", "path": "/spec/color", "value": "green"}],
                    patch_type="json").spec.color == "green"


@scenario
def scenario_patch_cannot_change_identity(b: Backend) -> None:
    """A patch may not rename (BadRequest) nor change the uid (Invalid, immutable); a changed
    creationTimestamp is dropped, so such a patch changes nothing at all."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    made = cms.create(configmap("a", {"k": "1"}))
    with raises(errors.BadRequest, "BadRequest"):
        cms.patch("a", {"metadata": {"name": "other"}})
    with raises(errors.BadRequest, "BadRequest"):
        cms.patch("a", [{"op": "replace", "path": "/metadata/name", "value": "other"}],
                  patch_type="json")
    with raises(errors.Invalid, "Invalid") as caught:
        cms.patch("a", {"metadata": {"uid": "not-the-uid"}})
    assert {(c.field, c.reason) for c in caught[0].causes} == {("metadata.uid", "FieldValueInvalid")}
    same = cms.patch("a", {"metadata": {"creationTimestamp": "2001-01-01T00:00:00Z"}})
    assert same.metadata.creation_timestamp == made.metadata.creation_timestamp
    assert same.metadata.resource_version == made.metadata.resource_version


@scenario
def scenario_strategic_merge_delete_from_primitive_list(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("s", finalizers=["x.example/a", "x.example/b", "x.example/c"]))
    patched = cms.patch("s", {"metadata": {
        "$deleteFromPrimitiveList/finalizers": ["x.example/a", "x.example/c"]}},
        patch_type="strategic")
    assert patched.metadata.finalizers == ["x.example/b"]
    cms.patch("s", {"metadata": {"finalizers": None}})


@scenario
def scenario_strategic_merge_nested_lists_and_replace(b: Backend) -> None:
    """Nested merge lists (ports by containerPort, env by name) inside a container matched by
    name, in kube-apiserver's element order; ``$patch: replace`` on a map and on a list; a
    merge patch's null removes a whole map."""
    deployments = b.cs.apps_v1.deployments(b.namespace)
    web = deployment("web", containers=("app", "side"))
    app = web.spec.template.spec.containers[0]
    app.ports = [core_v1.ContainerPort(container_port=80, name="http")]
    app.env = [core_v1.EnvVar(name="A", value="1"), core_v1.EnvVar(name="B", value="2")]
    deployments.create(web)
    patched = deployments.patch("web", {"spec": {"template": {"spec": {"containers": [{
        "name": "app", "ports": [{"containerPort": 8080, "name": "alt"}],
        "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}]}]}}}},
        patch_type="strategic")
    containers = patched.spec.template.spec.containers
    assert [c.name for c in containers] == ["app", "side"]
    assert [(p.container_port, p.name) for p in containers[0].ports] == [(8080, "alt"), (80, "http")]
    assert [(e.name, e.value) for e in containers[0].env] == [("A", "1"), ("B", "20"), ("C", "3")]
    replaced = deployments.patch("web", {"spec": {"template": {"spec": {"containers": [{
        "name": "app", "env": [{"$patch": "replace"}, {"name": "Z", "value": "9"}]}]}}}},
        patch_type="strategic")
    assert [(e.name, e.value) for e in replaced.spec.template.spec.containers[0].env] == [("Z", "9")]
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("m", {"k": "v"}, labels={"a": "1", "b": "2"}))
    assert cms.patch("m", {"metadata": {"labels": {"$patch": "replace", "only": "x"}}},
                     patch_type="strategic").metadata.labels == {"only": "x"}
    assert cms.patch("m", {"data": None}).data is None
