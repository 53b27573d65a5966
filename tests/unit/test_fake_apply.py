"""Server-side apply and managedFields bookkeeping of the fake (pure logic; the same
sequences against a real kube-apiserver are in tests/integration/test_fake_apply_vs_server.py)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubecodegen_runtime.fake.apply import (
    MISSING,
    ApplyConflict,
    _go_zero_plan,
    compare,
    record_update,
    same,
    server_side_apply,
)
from kubecodegen_runtime.fake.fieldset import (
    FieldSet,
    FieldSetError,
    child_shape,
    fields_of,
    go_json,
    item_key,
    path_string,
    root_shape,
)
from kubecodegen_runtime.managed_fields import owned, owned_fields
from tests.fake_apply_tables import CONFIG_MAP, CORE, DEPLOYMENT, WIDGET, package_api

OLD = package_api("v1.20.2")
NEW = package_api("v1.35.0")
T1, T2 = "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"


def _apply(live: dict[str, Any] | None, config: dict[str, Any], manager: str, *,
           force: bool = False, api: Any = NEW, type_key: str = DEPLOYMENT,
           subresource: str = "", now: str = T1) -> dict[str, Any]:
    version = "apps/v1" if type_key == DEPLOYMENT else ("v1" if type_key == CONFIG_MAP
                                                         else "example.com/v1")
    return server_side_apply(live, config, manager=manager, force=force, api=api,
                             type_key=type_key, subresource=subresource, now=now,
                             api_version=version)


def _fields(obj: dict[str, Any], manager: str, operation: str = "Apply") -> dict[str, Any]:
    found = [e for e in obj["metadata"]["managedFields"]
             if e["manager"] == manager and e["operation"] == operation]
    assert len(found) == 1, obj["metadata"]["managedFields"]
    fields: dict[str, Any] = found[0]["fieldsV1"]
    return fields


def _managers(obj: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["manager"], e["operation"]) for e in obj["metadata"]["managedFields"]]


def _dep(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": spec}


def _containers(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"containers": list(containers)}}


def _cm(**data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data}


def _widget(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": spec}


# -- field sets ---------------------------------------------------------------------------

def test_field_set_of_nested_list_maps() -> None:
    obj = _dep(template=_containers({"name": "web", "image": "i", "env": [
        {"name": "A", "value": "1"}], "ports": [{"containerPort": 80, "protocol": "UDP"}]}))
    fields = fields_of(obj, NEW, DEPLOYMENT)
    web = ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"web"}')
    assert web in fields  # the item itself
    assert (*web, "f:env", 'k:{"name":"A"}', "f:value") in fields
    assert (*web, "f:ports", 'k:{"containerPort":80,"protocol":"UDP"}') in fields
    assert ("f:spec",) not in fields and ("f:spec", "f:template") not in fields


def test_field_set_round_trips_through_fields_v1_with_dot_for_items() -> None:
    obj = _dep(replicas=1, template=_containers({"name": "web", "image": "i"}))
    tree = fields_of(obj, NEW, DEPLOYMENT).to_fields_v1()
    assert tree["f:spec"]["f:template"]["f:spec"]["f:containers"] == {
        'k:{"name":"web"}': {".": {}, "f:image": {}, "f:name": {}}}
    assert FieldSet.from_fields_v1(tree) == fields_of(obj, NEW, DEPLOYMENT)
    assert FieldSet.from_fields_v1(json.dumps(tree)) == FieldSet.from_fields_v1(tree)


def test_set_items_are_values_and_atomic_values_are_leaves() -> None:
    obj = _widget(tags=["a", "b"], ordered=[3, 1], settings={"x": 1}, extra={"k": "v"})
    fields = fields_of(obj, NEW, WIDGET)
    assert ("f:spec", "f:tags", 'v:"a"') in fields and ("f:spec", "f:tags", 'v:"b"') in fields
    assert ("f:spec", "f:ordered") in fields and not fields.has_below(("f:spec", "f:ordered"))
    assert ("f:spec", "f:settings") in fields and not fields.has_below(("f:spec", "f:settings"))
    assert ("f:spec", "f:extra", "f:k") in fields


def test_atomic_struct_is_one_field() -> None:
    fields = fields_of(_dep(selector={"matchLabels": {"app": "w"}}), NEW, DEPLOYMENT)
    assert FieldSet(p for p in fields.paths if p[0] == "f:spec") == FieldSet([("f:spec", "f:selector")])


def test_empty_struct_field_is_a_field_from_1_21_only() -> None:
    obj = _dep(template=_containers({"name": "web", "resources": {}}))
    resources = ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"web"}',
                 "f:resources")
    assert resources in fields_of(obj, NEW, DEPLOYMENT)
    assert resources not in fields_of(obj, OLD, DEPLOYMENT)


def test_list_map_key_without_its_field_is_refused_unless_defaulted() -> None:
    port = _dep(template=_containers({"name": "web", "ports": [{"containerPort": 80}]}))
    assert any('k:{"containerPort":80,"protocol":"TCP"}' in p
               for p in fields_of(port, OLD, DEPLOYMENT).paths)
    with pytest.raises(FieldSetError, match=r'element 0: .*omits key field "name"'):
        fields_of(_dep(template=_containers({"image": "x"})), NEW, DEPLOYMENT)


def test_paths_print_as_the_server_prints_them() -> None:
    path = ("f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}', "f:name")
    assert path_string(path) == '.spec.ports[port=80,protocol="TCP"].name'
    assert path_string(("f:metadata", "f:finalizers", 'v:"a"')) == '.metadata.finalizers[="a"]'


def test_managed_fields_are_no_fields() -> None:
    cm = _cm(a="1")
    cm["metadata"]["managedFields"] = [{"manager": "x"}]
    assert not any("f:managedFields" in p for p in fields_of(cm, NEW, CONFIG_MAP).paths)


def test_field_set_algebra() -> None:
    a = FieldSet([("f:a",), ("f:b", "f:c")])
    b = FieldSet([("f:b", "f:c"), ("f:d",)])
    assert (a | b) == FieldSet([("f:a",), ("f:b", "f:c"), ("f:d",)])
    assert (a & b) == FieldSet([("f:b", "f:c")])
    assert (a - b) == FieldSet([("f:a",)])
    assert a.with_prefix(("f:b",)) == FieldSet([("f:c",)])


# -- apply ----------------------------------------------------------------------------------

def test_apply_create_owns_exactly_the_configuration() -> None:
    made = _apply(None, _cm(a="1"), "A", type_key=CONFIG_MAP)
    assert made["data"] == {"a": "1"}
    assert made["metadata"]["managedFields"] == [{
        "manager": "A", "operation": "Apply", "apiVersion": "v1", "time": T1,
        "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:a": {}}}}]


def test_apply_never_mutates_its_inputs() -> None:
    live = _apply(None, _cm(a="1"), "A", type_key=CONFIG_MAP)
    config = _cm(b="2")
    before = copy.deepcopy((live, config))
    _apply(live, config, "B", type_key=CONFIG_MAP)
    assert (live, config) == before


def test_reapply_without_a_field_removes_it() -> None:
    live = _apply(None, _cm(a="1", b="2"), "A", type_key=CONFIG_MAP)
    after = _apply(live, _cm(b="2"), "A", type_key=CONFIG_MAP)
    assert after["data"] == {"b": "2"}
    assert _fields(after, "A") == {"f:data": {"f:b": {}}}


def test_reapply_keeps_a_field_another_manager_owns_too() -> None:
    live = _apply(None, _cm(a="1", b="2"), "A", type_key=CONFIG_MAP)
    live = _apply(live, _cm(a="1"), "B", type_key=CONFIG_MAP)  # same value: shared, no conflict
    after = _apply(live, _cm(b="2"), "A", type_key=CONFIG_MAP)
    assert after["data"] == {"a": "1", "b": "2"}
    assert _fields(after, "B") == {"f:data": {"f:a": {}}}


def test_two_managers_conflict_on_a_changed_value() -> None:
    live = _apply(None, _dep(replicas=1), "A")
    with pytest.raises(ApplyConflict) as info:
        _apply(live, _dep(replicas=2), "B")
    assert info.value.conflicts == [("A", ".spec.replicas")]
    assert info.value.causes == [{"reason": "FieldManagerConflict",
                                  "message": 'conflict with "A"', "field": ".spec.replicas"}]
    assert str(info.value) == 'Apply failed with 1 conflict: conflict with "A": .spec.replicas'


def test_force_takes_the_field_from_the_other_manager() -> None:
    live = _apply(None, _dep(replicas=1, paused=False), "A")
    taken = _apply(live, _dep(replicas=2), "B", force=True)
    assert taken["spec"]["replicas"] == 2
    assert _fields(taken, "A") == {"f:spec": {"f:paused": {}}}
    assert _fields(taken, "B") == {"f:spec": {"f:replicas": {}}}


def test_conflicts_in_list_map_items_name_the_item() -> None:
    live = _apply(None, _dep(template=_containers({"name": "web", "image": "a"})), "A")
    with pytest.raises(ApplyConflict) as info:
        _apply(live, _dep(template=_containers({"name": "web", "image": "b"})), "B")
    assert info.value.conflicts == [("A", '.spec.template.spec.containers[name="web"].image')]


def test_conflict_with_several_managers_is_worded_per_manager() -> None:
    live = _apply(None, _cm(a="1"), "A", type_key=CONFIG_MAP)
    live = _apply(live, _cm(b="1"), "B", type_key=CONFIG_MAP)
    with pytest.raises(ApplyConflict) as info:
        _apply(live, _cm(a="2", b="2"), "C", type_key=CONFIG_MAP)
    assert str(info.value) == ('Apply failed with 2 conflicts: conflicts with "A":\n- .data.a\n'
                               'conflicts with "B":\n- .data.b')


def test_list_map_items_merge_by_key_and_keep_other_managers_items() -> None:
    live = _apply(None, _dep(template=_containers({"name": "web", "image": "a"})), "A")
    after = _apply(live, _dep(template=_containers({"name": "side", "image": "s"})), "B")
    assert [c["name"] for c in after["spec"]["template"]["spec"]["containers"]] == ["web", "side"]
    again = _apply(after, _dep(template=_containers({"name": "web", "image": "a2"})), "A")
    assert [c["image"] for c in again["spec"]["template"]["spec"]["containers"]] == ["a2", "s"]


def test_atomic_list_is_replaced_whole_and_owned_whole() -> None:
    live = _apply(None, _widget(ordered=[1, 2, 3]), "A", type_key=WIDGET)
    after = _apply(live, _widget(ordered=[9]), "A", type_key=WIDGET)
    assert after["spec"]["ordered"] == [9]
    with pytest.raises(ApplyConflict) as info:
        _apply(after, _widget(ordered=[9, 8]), "B", type_key=WIDGET)
    assert info.value.conflicts == [("A", ".spec.ordered")]


def test_set_items_are_merged_by_value() -> None:
    live = _apply(None, _widget(tags=["a", "b"]), "A", type_key=WIDGET)
    after = _apply(live, _widget(tags=["c"]), "B", type_key=WIDGET)
    assert after["spec"]["tags"] == ["a", "b", "c"]
    dropped = _apply(after, _widget(tags=["b"]), "A", type_key=WIDGET)
    assert dropped["spec"]["tags"] == ["b", "c"]


def test_struct_nobody_owns_is_pruned_whole_from_1_21() -> None:
    live = _apply(None, _widget(items=[{"name": "x"}], extra={"k": "v"}), "A", type_key=WIDGET)
    after = _apply(live, _widget(items=[{"name": "x"}]), "A", type_key=WIDGET)
    assert "extra" not in after["spec"]


def test_status_apply_is_its_own_entry_from_1_22() -> None:
    live = _apply(None, _dep(replicas=1), "A")
    status = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
              "status": {"observedGeneration": 1}}
    new = _apply(live, status, "A", subresource="status", force=True)
    assert [(e["manager"], e.get("subresource")) for e in new["metadata"]["managedFields"]] == [
        ("A", None), ("A", "status")]
    assert new["spec"]["replicas"] == 1
    old = _apply(_apply(None, _dep(replicas=1), "A", api=OLD), status, "A", api=OLD,
                 subresource="status", force=True)
    # 1.20 files it with the main entry: the status apply replaces A's spec ownership (the
    # spec's value itself is the status strategy's business: the caller keeps the old spec)
    assert [e.get("subresource") for e in old["metadata"]["managedFields"]] == [None]
    assert _fields(old, "A") == {"f:status": {"f:observedGeneration": {}}}
    assert old["spec"] == {"replicas": 1}


def test_noop_apply_keeps_the_entry_time() -> None:
    live = _apply(None, _cm(a="1"), "A", type_key=CONFIG_MAP, now=T1)
    again = _apply(live, _cm(a="1"), "A", type_key=CONFIG_MAP, now=T2)
    assert again["metadata"]["managedFields"][0]["time"] == T1
    changed = _apply(live, _cm(a="2"), "A", type_key=CONFIG_MAP, now=T2)
    assert changed["metadata"]["managedFields"][0]["time"] == T2


def test_extract_of_an_apply_gives_back_the_configuration() -> None:
    config = _dep(replicas=2, template=_containers({"name": "web", "image": "i", "env": [
        {"name": "A", "value": "1"}]}))
    made = _apply(None, config, "A")
    fields = owned_fields(made["metadata"]["managedFields"], "A")
    assert fields is not None
    assert owned(made, fields)["spec"] == config["spec"]


# -- update -----------------------------------------------------------------------------

def test_update_steals_ownership_without_conflict() -> None:
    live = _apply(None, _cm(a="1", b="2"), "A", type_key=CONFIG_MAP)
    new = copy.deepcopy(live)
    new["data"]["a"] = "9"
    entries = record_update(live, new, manager="C", api=NEW, type_key=CONFIG_MAP, now=T2,
                            api_version="v1")
    by = {(e["manager"], e["operation"]): e["fieldsV1"] for e in entries}
    assert by == {("A", "Apply"): {"f:data": {"f:b": {}}}, ("C", "Update"): {"f:data": {"f:a": {}}}}
    assert [e["operation"] for e in entries] == ["Apply", "Update"]


def test_repeated_updates_answer_alike_and_never_share_their_answers() -> None:
    """record_update memoizes its bookkeeping: the same write gets the same entries, each
    time a list of its own, and a change of any input (here the manager) is not served
    from the memo."""
    live = _apply(None, _cm(a="1", b="2"), "A", type_key=CONFIG_MAP)
    new = copy.deepcopy(live)
    new["data"]["a"] = "9"

    def write(manager: str) -> list[dict[str, Any]]:
        return record_update(live, new, manager=manager, api=NEW, type_key=CONFIG_MAP, now=T2,
                             api_version="v1")

    first = write("C")
    first[0]["fieldsV1"]["f:data"]["f:b"]["x"] = {}  # a caller may change what it got
    first.append({"manager": "junk"})
    second = write("C")
    assert second == write("C") and len(second) == 2 and "x" not in json.dumps(second)
    assert {e["manager"] for e in write("D")} == {"A", "D"}


def test_create_by_update_owns_everything_with_dots_for_new_maps() -> None:
    new = _cm(a="1")
    new["metadata"]["labels"] = {"x": "y"}
    entries = record_update(None, new, manager="creator", api=NEW, type_key=CONFIG_MAP, now=T1,
                            api_version="v1")
    assert entries == [{"manager": "creator", "operation": "Update", "apiVersion": "v1",
                        "time": T1, "fieldsType": "FieldsV1", "fieldsV1": {
                            "f:data": {".": {}, "f:a": {}},
                            "f:metadata": {"f:labels": {".": {}, "f:x": {}}}}}]


def test_create_of_a_built_in_kind_has_go_structs_already() -> None:
    new = _dep(replicas=1, template=_containers({"name": "web"}))
    tree = record_update(None, new, manager="m", api=NEW, type_key=DEPLOYMENT, now=T1,
                         api_version="apps/v1")[0]["fieldsV1"]
    assert "." not in tree["f:spec"] and "." not in tree["f:spec"]["f:template"]
    assert "." not in tree["f:spec"]["f:template"]["f:spec"]["f:containers"]
    cr = record_update(None, _widget(tags=["a"]), manager="m", api=NEW, type_key=WIDGET, now=T1,
                       api_version="example.com/v1")[0]["fieldsV1"]
    assert "." in cr["f:spec"]  # a custom resource is no Go struct


def test_update_that_changes_nothing_records_nothing() -> None:
    live = _apply(None, _cm(a="1"), "A", type_key=CONFIG_MAP)
    entries = record_update(live, copy.deepcopy(live), manager="C", api=NEW,
                            type_key=CONFIG_MAP, now=T2, api_version="v1")
    assert [(e["manager"], e["operation"]) for e in entries] == [("A", "Apply")]
    assert entries[0]["time"] == T1


def test_update_removing_a_field_takes_it_from_every_owner() -> None:
    live = _apply(None, _cm(a="1", b="2"), "A", type_key=CONFIG_MAP)
    new = copy.deepcopy(live)
    del new["data"]["a"]
    entries = record_update(live, new, manager="C", api=NEW, type_key=CONFIG_MAP, now=T2,
                            api_version="v1")
    assert [(e["manager"], e["fieldsV1"]) for e in entries] == [("A", {"f:data": {"f:b": {}}})]


def test_update_drops_an_emptied_entry_and_merges_repeated_updates() -> None:
    live = _apply(None, _cm(a="1"), "A", type_key=CONFIG_MAP)
    new = copy.deepcopy(live)
    new["data"]["a"] = "2"
    new["metadata"]["managedFields"] = record_update(live, new, manager="C", api=NEW,
                                                     type_key=CONFIG_MAP, now=T2, api_version="v1")
    assert _managers(new) == [("C", "Update")]
    newer = copy.deepcopy(new)
    newer["data"]["b"] = "3"
    entries = record_update(new, newer, manager="C", api=NEW, type_key=CONFIG_MAP, now=T2,
                            api_version="v1")
    assert entries[0]["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}}


def test_update_may_reset_managed_fields_with_one_empty_entry() -> None:
    live = _apply(None, _cm(a="1"), "A", type_key=CONFIG_MAP)
    new = copy.deepcopy(live)
    new["metadata"]["managedFields"] = [{}]
    assert record_update(live, new, manager="C", api=NEW, type_key=CONFIG_MAP, now=T2,
                         api_version="v1") == []


def test_compare_finds_added_modified_and_removed() -> None:
    cmp = compare(NEW, _cm(a="1", b="2"), _cm(a="9", c="3"), CONFIG_MAP)
    assert cmp.modified == FieldSet([("f:data", "f:a")])
    assert cmp.added == FieldSet([("f:data", "f:c")])
    assert cmp.removed == FieldSet([("f:data", "f:b")])


# -- what the server does beside merging ------------------------------------------------

def test_duplicate_items_in_a_configuration_are_refused() -> None:
    with pytest.raises(FieldSetError, match=r'^\.spec\.tags: duplicate entries for key \[="a"\]$'):
        _apply(None, _widget(tags=["a", "a"]), "A", type_key=WIDGET)


def test_apply_to_an_unmanaged_object_gives_its_fields_to_before_first_apply() -> None:
    live = _cm(a="1")
    after = _apply(live, _cm(b="2"), "A", type_key=CONFIG_MAP)
    assert _fields(after, "before-first-apply", "Update") == {"f:data": {".": {}, "f:a": {}}}
    with pytest.raises(ApplyConflict) as info:
        _apply(after, _cm(a="9"), "B", type_key=CONFIG_MAP)
    assert info.value.causes[0]["message"] == 'conflict with "before-first-apply" using v1'


def test_more_than_ten_updaters_merge_the_oldest_into_ancient_changes() -> None:
    obj = _apply(None, _cm(a="1"), "A", type_key=CONFIG_MAP)
    for i in range(12):
        new = copy.deepcopy(obj)
        new["data"][f"k{i}"] = str(i)
        new["metadata"]["managedFields"] = record_update(
            obj, new, manager=f"u{i:02d}", api=NEW, type_key=CONFIG_MAP,
            now=f"2026-01-01T00:00:{i:02d}Z", api_version="v1")
        obj = new
    managers = [m for m, op in _managers(obj) if op == "Update"]
    assert len(managers) == 10 and managers[0] == "ancient-changes"
    ancient = _fields(obj, "ancient-changes", "Update")["f:data"]
    assert set(ancient) == {"f:k0", "f:k1", "f:k2"}
    assert managers[1:] == [f"u{i:02d}" for i in range(3, 12)]


def test_status_write_owns_only_the_status_and_keeps_the_rest_from_1_22() -> None:
    live = _apply(None, _widget(tags=["a"]), "A", type_key=WIDGET)
    config = {**_widget(tags=["b"]), "status": {"phase": "ok"}}
    config["metadata"] = {"name": "w", "labels": {"l": "1"}}
    after = _apply(live, config, "S", type_key=WIDGET, subresource="status")
    assert after["spec"] == {"tags": ["a"]} and "labels" not in after["metadata"]
    assert _fields(after, "S") == {"f:status": {"f:phase": {}}}
    main = _apply(after, {**_widget(tags=["a"]), "status": {"phase": "x"}}, "M", type_key=WIDGET)
    assert main["status"] == {"phase": "ok"} and _fields(main, "M") == {
        "f:spec": {"f:tags": {'v:"a"': {}}}}


def test_conflict_names_an_updater_and_a_subresource_as_the_server_does() -> None:
    live = _apply(None, {**_widget(), "status": {"phase": "a"}}, "S", type_key=WIDGET,
                  subresource="status")
    with pytest.raises(ApplyConflict) as info:
        _apply(live, {**_widget(), "status": {"phase": "b"}}, "T", type_key=WIDGET,
               subresource="status")
    assert info.value.causes[0]["message"] == 'conflict with "S" with subresource "status"'


def test_reset_managed_fields_stores_none() -> None:
    live = _apply(None, _cm(a="1"), "A", type_key=CONFIG_MAP)
    new = copy.deepcopy(live)
    new["data"]["a"] = "2"
    new["metadata"]["managedFields"] = [{}]
    assert record_update(live, new, manager="C", api=NEW, type_key=CONFIG_MAP, now=T2,
                         api_version="v1") == []


def test_client_sent_managed_fields_replace_the_stored_ones() -> None:
    live = _apply(None, _cm(a="1", b="2"), "A", type_key=CONFIG_MAP)
    new = copy.deepcopy(live)
    new["metadata"]["managedFields"] = [{
        "manager": "edited", "operation": "Update", "apiVersion": "v1", "time": T1,
        "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:a": {}}}}]
    entries = record_update(live, new, manager="C", api=NEW, type_key=CONFIG_MAP, now=T2,
                            api_version="v1")
    assert [(e["manager"], e["fieldsV1"]) for e in entries] == [("edited", {"f:data": {"f:a": {}}})]


def test_generated_tables_of_kube_v1_35_key_containers_env_and_ports() -> None:
    from tests.generated_packages import import_reference
    import_reference("kube_v1_35")
    from kube_v1_35 import fake as kube_fake

    api = kube_fake.package_api()
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "c", "image": "i", "env": [{"name": "E", "value": "1"}],
         "ports": [{"containerPort": 80}], "resources": {}}]}}
    type_key = api.type_of("", "v1", "Pod")
    made = server_side_apply(None, pod, manager="A", force=False, api=api, type_key=type_key,
                             now=T1, api_version="v1")
    tree = made["metadata"]["managedFields"][0]["fieldsV1"]
    container = tree["f:spec"]["f:containers"]['k:{"name":"c"}']
    assert set(container) == {".", "f:env", "f:image", "f:name", "f:ports", "f:resources"}
    assert 'k:{"containerPort":80,"protocol":"TCP"}' in container["f:ports"]
    assert 'k:{"name":"E"}' in container["f:env"]


def test_conflicts_before_1_28_name_paths_as_the_aliasing_server_did() -> None:
    config = _dep(template={"spec": {"tolerations": [{"key": "a"}],
                                     "containers": [{"name": "web", "args": ["x"]}]}})
    live = _apply(None, config, "A", api=OLD)
    other = _dep(template={"spec": {"tolerations": [{"key": "b"}],
                                    "containers": [{"name": "web", "args": ["y"]}]}})
    with pytest.raises(ApplyConflict) as old:
        _apply(live, other, "B", api=OLD)
    assert [p for _, p in old.value.conflicts] == [
        ".spec.template.spec.containers", '.spec.template.spec.containers[name="web"].args']
    with pytest.raises(ApplyConflict) as new:
        _apply(_apply(None, config, "A"), other, "B")
    assert [p for _, p in new.value.conflicts] == [
        ".spec.template.spec.tolerations", '.spec.template.spec.containers[name="web"].args']


def test_conflicts_in_keyed_items_come_in_key_order_numbers_numerically() -> None:
    ports = [{"containerPort": p, "protocol": "TCP", "name": f"p{p}"} for p in (443, 80, 8080)]
    live = _apply(None, _dep(template=_containers({"name": "web", "ports": ports})), "A")
    renamed = [{**p, "name": "x" + str(p["containerPort"])} for p in ports]
    with pytest.raises(ApplyConflict) as info:
        _apply(live, _dep(template=_containers({"name": "web", "ports": renamed})), "B")
    assert [p.split("containerPort=")[1].split(",")[0] for _, p in info.value.conflicts] == [
        "80", "443", "8080"]


def test_free_form_maps_merge_nested_objects_key_by_key() -> None:
    live = _apply(None, _widget(extra={"a": {"x": 1, "l": [1]}}), "A", type_key=WIDGET)
    after = _apply(live, _widget(extra={"a": {"y": 2, "l": [2]}}), "B", type_key=WIDGET,
                   force=True)
    assert after["spec"]["extra"] == {"a": {"x": 1, "l": [2], "y": 2}}
    # a map entry is a field of its own ("."), as structured-merge-diff lists it
    assert _fields(after, "B") == {"f:spec": {"f:extra": {"f:a": {".": {}, "f:l": {}, "f:y": {}}}}}


# -- fast paths == the general walk (property tests) ----------------------------------------
# The comparison an update is recorded from takes shortcuts (it fills Go's zero values as it
# walks, decides common leaves inline, walks a one-sided subtree without the two-sided
# checks, names list items from a memo, decodes the stored entries once per JSON). Each is
# checked here against the plain algorithm, on random objects of the tables' types.

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(
    [0.0, -0.0, 1.0, 2.5]), st.sampled_from(["", "a", "b", "<&>"]))
_NAMES = st.sampled_from(["a", "b", "c"])
#: Stands for a field left out (dropped by _drop_missing).
MISSING_VALUE = object()
_MAYBE_NONE = st.one_of(st.none(), st.just(MISSING_VALUE))


def _drop_missing(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_missing(v) for k, v in value.items() if v is not MISSING_VALUE}
    if isinstance(value, list):
        return [_drop_missing(v) for v in value if v is not MISSING_VALUE]
    return value


def _dicts(values: st.SearchStrategy[Any], keys: st.SearchStrategy[str] = _NAMES
           ) -> st.SearchStrategy[Any]:
    return st.one_of(_MAYBE_NONE, st.dictionaries(keys, values, max_size=3))


_PORTS = st.lists(st.fixed_dictionaries({"containerPort": st.sampled_from([80, 443, True])},
                                        optional={"protocol": st.sampled_from(["TCP", "UDP"]),
                                                  "name": _SCALARS}), max_size=3)
_CONTAINERS = st.lists(st.fixed_dictionaries({"name": st.sampled_from(["web", "side", 1])},
                                             optional={"image": _SCALARS, "ports": _PORTS,
                                                       "args": st.lists(_SCALARS, max_size=2),
                                                       "resources": _dicts(_dicts(_SCALARS))}),
                       max_size=3)
_DEPLOYMENTS = st.fixed_dictionaries({"apiVersion": st.just("apps/v1")}, optional={
    "metadata": st.one_of(_MAYBE_NONE, st.fixed_dictionaries({}, optional={
        "name": _SCALARS, "labels": _dicts(_SCALARS), "resourceVersion": _SCALARS})),
    "spec": st.one_of(_MAYBE_NONE, _SCALARS, st.fixed_dictionaries({}, optional={
        "replicas": _SCALARS, "selector": _dicts(_dicts(_SCALARS)),
        "strategy": _dicts(_SCALARS, st.sampled_from(["type", "rollingUpdate"])),
        "template": st.one_of(_MAYBE_NONE, st.fixed_dictionaries({}, optional={
            "metadata": _dicts(_dicts(_SCALARS), st.just("labels")),
            "spec": st.one_of(_MAYBE_NONE, st.fixed_dictionaries({}, optional={
                "containers": st.one_of(_MAYBE_NONE, _CONTAINERS),
                "nodeSelector": _dicts(_SCALARS)}))}))})),
    "status": _dicts(_SCALARS, st.sampled_from(["replicas", "conditions"])),
}).map(_drop_missing)
_CONFIG_MAPS = st.fixed_dictionaries({"apiVersion": st.just("v1")}, optional={
    "metadata": st.fixed_dictionaries({}, optional={"labels": _dicts(_SCALARS)}),
    "data": _dicts(_SCALARS), "binaryData": _SCALARS}).map(_drop_missing)


def _reference_compare(api: Any, lhs: Any, rhs: Any, shape: Any, path: tuple[str, ...],
                       out: dict[str, set[tuple[str, ...]]]) -> None:
    """structured-merge-diff's comparison, plainly: no shortcut of any kind."""
    left_absent, right_absent = lhs is MISSING or lhs is None, rhs is MISSING or rhs is None
    walked = False
    if not (left_absent and right_absent):
        if shape.kind in ("struct", "map", "deduced"):
            walked = all(absent or isinstance(v, dict)
                         for absent, v in ((left_absent, lhs), (right_absent, rhs)))
            if walked:
                left = lhs if isinstance(lhs, dict) else {}
                right = rhs if isinstance(rhs, dict) else {}
                for name in [*left, *(k for k in right if k not in left)]:
                    _reference_compare(api, left.get(name, MISSING), right.get(name, MISSING),
                                       child_shape(api, shape, name), (*path, "f:" + name),
                                       out)
        elif shape.kind in ("list_map", "set"):
            walked = all(absent or isinstance(v, list)
                         for absent, v in ((left_absent, lhs), (right_absent, rhs)))
            if walked:
                left_items: dict[str, Any] = {}
                right_items: dict[str, Any] = {}
                for items, side in ((left_items, lhs), (right_items, rhs)):
                    for item in side if isinstance(side, list) else []:
                        items.setdefault(go_item_key(shape, item), item)
                for k in [*left_items, *(k for k in right_items if k not in left_items)]:
                    _reference_compare(api, left_items.get(k, MISSING),
                                       right_items.get(k, MISSING), shape.item, (*path, k), out)
    if not walked:
        if lhs is MISSING:
            out["added"].add(path)
        elif rhs is MISSING:
            out["removed"].add(path)
        elif not same(lhs, rhs):
            out["modified"].add(path)
    elif path and lhs is MISSING:
        out["added"].add(path)
    elif path and rhs is MISSING:
        out["removed"].add(path)


def go_item_key(shape: Any, item: Any) -> str:
    """item_key without its memo: the element as the server writes it."""
    if shape.kind == "set":
        return "v:" + go_json(item)
    defaults = dict(shape.key_defaults)
    keys = {name: item[name] if isinstance(item, dict) and name in item else defaults[name]
            for name in shape.keys}
    return "k:" + go_json(keys)


def _reference_go_zero(api: Any, node: Any, shape: Any) -> Any:
    """Go's zero values filled in, plainly (a fresh copy; nothing shared)."""
    lists, structs, *_ = _go_zero_plan(api, {}, shape)
    out = copy.deepcopy(node)
    for name in lists:
        out.setdefault(name, None)
    for name, sub, *_ in structs:
        if name not in out:
            out[name] = _reference_go_zero(api, {}, sub)
        elif isinstance(out[name], dict):
            out[name] = _reference_go_zero(api, out[name], sub)
    return out


def _as_sets(comparison: Any) -> dict[str, set[tuple[str, ...]]]:
    return {"added": set(comparison.added.paths), "modified": set(comparison.modified.paths),
            "removed": set(comparison.removed.paths)}


def _check_compare(api: Any, type_key: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    expected: dict[str, set[tuple[str, ...]]] = {"added": set(), "modified": set(),
                                                 "removed": set()}
    try:
        _reference_compare(api, old, new, root_shape(type_key), (), expected)
    except KeyError:  # an item without its key (and no default): both refuse it
        with pytest.raises(FieldSetError):
            compare(api, old, new, type_key)
        return
    assert _as_sets(compare(api, old, new, type_key)) == expected
    # an update's comparison: of the Go objects, filled as the walk goes
    expected = {"added": set(), "modified": set(), "removed": set()}
    shape = root_shape(type_key)
    _reference_compare(api, _reference_go_zero(api, old, shape),
                       _reference_go_zero(api, new, shape), shape, (), expected)
    assert _as_sets(compare(api, old, new, type_key, go_zero=True)) == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(old=_DEPLOYMENTS, new=_DEPLOYMENTS, api=st.sampled_from([OLD, NEW]))
def test_compare_fast_paths_are_the_plain_walk_deployments(old: dict[str, Any],
                                                           new: dict[str, Any], api: Any) -> None:
    _check_compare(api, DEPLOYMENT, old, new)
    _check_compare(api, DEPLOYMENT, {}, new)  # a create
    _check_compare(api, DEPLOYMENT, old, copy.deepcopy(old))  # nothing changed


@settings(max_examples=200, deadline=None)
@given(old=_CONFIG_MAPS, new=_CONFIG_MAPS)
def test_compare_fast_paths_are_the_plain_walk_config_maps(old: dict[str, Any],
                                                           new: dict[str, Any]) -> None:
    _check_compare(NEW, CONFIG_MAP, old, new)
    _check_compare(NEW, CONFIG_MAP, {}, new)


@settings(max_examples=200, deadline=None)
@given(item=st.fixed_dictionaries({}, optional={"containerPort": _SCALARS, "protocol": _SCALARS,
                                                "name": _SCALARS}), set_item=_SCALARS)
def test_item_key_memo_is_the_json_element(item: dict[str, Any], set_item: Any) -> None:
    ports = child_shape(NEW, child_shape(NEW, root_shape(CORE + "PodSpec"), "containers").item
                        or root_shape(CORE + "Container"), "ports")
    tags = child_shape(NEW, root_shape(WIDGET + ".spec"), "tags")
    for _ in range(2):  # the first computes, the second is remembered
        assert item_key(tags, set_item) == go_item_key(tags, set_item)
        if "containerPort" in item:
            assert item_key(ports, item) == go_item_key(ports, item)


def test_stored_entries_are_decoded_once_per_json_and_handed_out_fresh() -> None:
    created = record_update(None, _cm(a="1"), manager="A", api=NEW, type_key=CONFIG_MAP,
                            now=T1, api_version="v1")
    stored = {**_cm(a="1"), "metadata": {"name": "c", "managedFields": created}}
    answers = [json.dumps(record_update(stored, _cm(a="1", b=str(i % 2)), manager="B",
                                        api=NEW, type_key=CONFIG_MAP, now=f"{T2}{i}",
                                        api_version="v1")) for i in range(3)]
    assert answers[0].replace(f"{T2}0", "T") == answers[2].replace(f"{T2}2", "T")
    assert '"manager": "A"' in answers[1] and '"manager": "B"' in answers[1]
    assert json.loads(answers[1])[0]["fieldsV1"] == {"f:data": {".": {}, "f:a": {}}}
