"""Aggregated discovery: content negotiation, parsing v2/v2beta1, the fallback, the plans.

Pure: documents are built in the test (:mod:`tests.unit.discovery_docs`) and the
sans-IO plans of :class:`DiscoveryCore` are driven with them; the real-server side is
``tests/integration/test_discovery_aggregated.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubecodegen_runtime.apis import apidiscovery_v2 as agg
from kubecodegen_runtime.discovery import (
    APIGroup,
    APIResource,
    DiscoveryCore,
    GroupDiscoveryFailed,
    ServerResources,
    StaleGroupVersion,
    parse_aggregated,
    parse_resources,
)
from kubecodegen_runtime.errors import InternalError, MalformedResponse, NotFound, UnexpectedKind
from kubecodegen_runtime.meta import ResourceInfo

from .discovery_docs import (
    aggregated_list,
    aggregated_type,
    drive,
    failure,
    group,
    legacy_api,
    legacy_apis,
    legacy_resources,
    ok,
    resource,
)

SERVER = "https://127.0.0.1:6443"

PODS = resource("pods", "Pod", singular="pod", short_names=("po",), categories=("all",),
                subresources={"status": ("get", "patch"), "log": ("get",)})
NODES = resource("nodes", "Node", namespaced=False, singular="node", short_names=("no",))
DEPLOY_V1 = resource("deployments", "Deployment", singular="deployment", short_names=("deploy",),
                     categories=("all",), subresources={"scale": ("get", "update")},
                     group="apps", version="v1")
DEPLOY_V1BETA2 = resource("deployments", "Deployment", singular="deployment", group="apps",
                          version="v1beta2")
METRICS = resource("nodes", "NodeMetrics", namespaced=False, group="metrics.k8s.io", version="v1beta1")


def core_doc(version: str = "v2") -> bytes:
    return aggregated_list(group("", {"v1": [PODS, NODES]}), version=version)


def apis_doc(version: str = "v2", stale: tuple[str, ...] = ()) -> bytes:
    return aggregated_list(
        group("apps", {"v1": [DEPLOY_V1], "v1beta2": [DEPLOY_V1BETA2]}),
        group("metrics.k8s.io", {"v1beta1": [METRICS]}, stale=stale),
        version=version,
    )


# --- content negotiation --------------------------------------------------------------


def test_accept_header_asks_v2_then_v2beta1_then_legacy_in_g_v_as_order() -> None:
    assert agg.ACCEPT == (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
        "application/json"
    )


@pytest.mark.parametrize(("content_type", "expected"), [
    ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", "v2"),
    ("application/json; as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io", "v2"),
    ("application/json;as=APIGroupDiscoveryList;v=v2beta1;g=apidiscovery.k8s.io;charset=utf-8", "v2beta1"),
    ("Application/JSON; G=apidiscovery.k8s.io; V=v2; AS=APIGroupDiscoveryList", "v2"),
    ("application/json", None),
    ("application/json; charset=utf-8", None),
    ("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList", None),
    ("application/json;g=other.example.com;v=v2;as=APIGroupDiscoveryList", None),
    ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscovery", None),
    ("application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", None),
    ("not a media type;;;", None),
    ("", None),
    (None, None),
])
def test_the_answers_content_type_says_which_form_arrived(content_type: str | None,
                                                           expected: str | None) -> None:
    assert agg.aggregated_version(content_type) == expected


# --- parsing --------------------------------------------------------------------------


def test_parse_aggregated_splits_groups_resources_and_stale_versions() -> None:
    found = parse_aggregated("/apis", apis_doc(stale=("v1beta1",)))
    assert found.groups == (APIGroup("apps", ("v1", "v1beta2"), "v1"),)  # metrics has no fresh version
    assert found.stale == ("metrics.k8s.io/v1beta1",)
    assert set(found.resources) == {"apps/v1", "apps/v1beta2"}
    (deploy,) = found.resources["apps/v1"]
    assert deploy.info == ResourceInfo("apps", "v1", "deployments", "Deployment", True,
                                       frozenset({"get", "list"}),
                                       {"scale": frozenset({"get", "update"})})
    assert deploy.short_names == ("deploy",) and deploy.categories == ("all",)


def test_preferred_version_is_the_first_fresh_one() -> None:
    doc = aggregated_list(group("apps", {"v2": [], "v1": [DEPLOY_V1]}, stale=("v2",)))
    found = parse_aggregated("/apis", doc)
    assert found.groups == (APIGroup("apps", ("v1",), "v1"),)
    assert found.stale == ("apps/v2",)


def test_v2beta1_reads_as_v2() -> None:
    assert parse_aggregated("/apis", apis_doc("v2beta1")) == parse_aggregated("/apis", apis_doc("v2"))
    assert parse_aggregated("/api", core_doc("v2beta1")) == parse_aggregated("/api", core_doc("v2"))


def test_aggregated_and_legacy_lists_of_the_same_resources_give_the_same_records() -> None:
    aggregated = parse_aggregated("/api", core_doc()).resources["v1"]
    legacy = parse_resources("v1", legacy_resources("v1", [PODS, NODES]))
    assert list(aggregated) == legacy
    pods = {r.info.resource: r for r in legacy}["pods"]
    assert pods.info.subresources == {"status": frozenset({"get", "patch"}), "log": frozenset({"get"})}
    assert not {r.info.resource: r for r in legacy}["nodes"].info.namespaced


def test_a_resource_without_response_kind_is_dropped() -> None:
    doc = aggregated_list(group("x.example.com", {"v1": [
        resource("widgets", "Widget", group="x.example.com"),
        resource("ghosts", "", group="x.example.com"),
    ]}))
    (only,) = parse_aggregated("/apis", doc).resources["x.example.com/v1"]
    assert only.info.resource == "widgets"


def test_a_missing_singular_name_is_the_lower_cased_kind_in_both_forms() -> None:
    res = resource("endpointslices", "EndpointSlice", group="discovery.k8s.io")
    (from_agg,) = parse_aggregated("/apis", aggregated_list(group("discovery.k8s.io", {"v1": [res]}))
                                   ).resources["discovery.k8s.io/v1"]
    (from_legacy,) = parse_resources("discovery.k8s.io/v1", legacy_resources("discovery.k8s.io/v1", [res]))
    assert from_agg.singular_name == from_legacy.singular_name == "endpointslice"


def test_malformed_aggregated_document_is_typed() -> None:
    with pytest.raises(MalformedResponse, match="/apis"):
        parse_aggregated("/apis", b'{"kind": "APIGroupDiscoveryList", "items": [{"versions": "v1"}]}')


def test_a_legacy_body_under_an_aggregated_content_type_is_refused_not_read_as_empty() -> None:
    legacy = legacy_apis({"apps": ("v1",)})
    with pytest.raises(UnexpectedKind, match="APIGroupList") as raised:
        drive(DiscoveryCore(SERVER).plan_groups_and_resources(),
              {"/api": ok(core_doc(), aggregated_type()), "/apis": ok(legacy, aggregated_type())})
    assert raised.value.kind == "APIGroupList" and raised.value.path == "/apis"


# --- the plans ------------------------------------------------------------------------


def aggregated_answers(stale: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"/api": ok(core_doc(), aggregated_type()),
            "/apis": ok(apis_doc(stale=stale), aggregated_type())}


def legacy_answers() -> dict[str, Any]:
    return {
        "/api": ok(legacy_api("v1")),
        "/apis": ok(legacy_apis({"apps": ("v1", "v1beta2"), "metrics.k8s.io": ("v1beta1",)})),
        "/api/v1": ok(legacy_resources("v1", [PODS, NODES])),
        "/apis/apps/v1": ok(legacy_resources("apps/v1", [DEPLOY_V1])),
        "/apis/apps/v1beta2": ok(legacy_resources("apps/v1beta2", [DEPLOY_V1BETA2])),
        "/apis/metrics.k8s.io/v1beta1": ok(legacy_resources("metrics.k8s.io/v1beta1", [METRICS])),
    }


def gvr_set(found: ServerResources) -> set[tuple[str, str, str, str]]:
    return {(r.info.group, r.info.version, r.info.resource, r.info.kind) for r in found}


def test_aggregated_discovery_is_one_batch_of_two_requests() -> None:
    core = DiscoveryCore(SERVER)
    found, batches = drive(core.plan_groups_and_resources(), aggregated_answers())
    assert [[r.path for r in b] for b in batches] == [["/api", "/apis"]]
    assert all(r.accept == agg.ACCEPT for r in batches[0])
    assert found.aggregated and not found.failed and core.requests == 2
    assert [g.name for g in found.groups] == ["", "apps", "metrics.k8s.io"]
    assert ("apps", "v1beta2", "deployments", "Deployment") in gvr_set(found)


def test_legacy_answers_fall_back_to_one_request_per_group_version_with_the_same_result() -> None:
    core = DiscoveryCore(SERVER)
    found, batches = drive(core.plan_groups_and_resources(), legacy_answers())
    assert [[r.path for r in b] for b in batches] == [
        ["/api", "/apis"],
        ["/api/v1", "/apis/apps/v1", "/apis/apps/v1beta2", "/apis/metrics.k8s.io/v1beta1"],
    ]
    assert all(r.accept == "application/json" for r in batches[1])
    aggregated, _ = drive(DiscoveryCore(SERVER).plan_groups_and_resources(), aggregated_answers())
    assert not found.aggregated and found.groups == aggregated.groups
    assert dict(found.resources) == dict(aggregated.resources)


def test_one_aggregated_root_is_not_enough_every_group_version_is_read() -> None:
    answers = legacy_answers() | {"/api": ok(core_doc(), aggregated_type())}
    found, batches = drive(DiscoveryCore(SERVER).plan_groups_and_resources(), answers)
    assert not found.aggregated
    assert "/api/v1" in [r.path for r in batches[1]]
    assert ("", "v1", "pods", "Pod") in gvr_set(found)


def test_stale_group_versions_are_failed_and_the_answer_is_not_cached(tmp_path: Path) -> None:
    core = DiscoveryCore(SERVER, cache_dir=tmp_path)
    found, _ = drive(core.plan_groups_and_resources(), aggregated_answers(stale=("v1beta1",)))
    assert set(found.failed) == {"metrics.k8s.io/v1beta1"}
    assert isinstance(found.failed["metrics.k8s.io/v1beta1"], StaleGroupVersion)
    assert "metrics.k8s.io" not in [g.name for g in found.groups]
    with pytest.raises(GroupDiscoveryFailed, match=r"metrics\.k8s\.io/v1beta1") as raised:
        found.raise_for_failed()
    assert raised.value.partial is found
    _, again = drive(core.plan_groups_and_resources(), aggregated_answers())
    assert [[r.path for r in b] for b in again] == [["/apis"]]  # /api was fresh and cached


def test_cached_aggregated_answers_cost_nothing_even_from_disk(tmp_path: Path) -> None:
    drive(DiscoveryCore(SERVER, cache_dir=tmp_path).plan_groups_and_resources(), aggregated_answers())
    core = DiscoveryCore(SERVER, cache_dir=tmp_path)
    found, batches = drive(core.plan_groups_and_resources(), {})
    assert batches == [] and found.aggregated and core.disk_hits == 2
    resources, batches = drive(core.plan_resources("apps/v1beta2"), {})
    assert batches == [] and [r.info.version for r in resources] == ["v1beta2"]
    groups, batches = drive(core.plan_groups(), {})
    assert batches == [] and [g.name for g in groups] == ["", "apps", "metrics.k8s.io"]


def test_a_group_version_absent_from_the_aggregated_cache_is_fetched_alone() -> None:
    core = DiscoveryCore(SERVER)
    drive(core.plan_groups_and_resources(), aggregated_answers())
    new = resource("widgets", "Widget", group="x.example.com")
    resources, batches = drive(core.plan_resources("x.example.com/v1"), {
        "/apis/x.example.com/v1": ok(legacy_resources("x.example.com/v1", [new]))})
    assert [[r.path for r in b] for b in batches] == [["/apis/x.example.com/v1"]]
    assert [r.info.kind for r in resources] == ["Widget"]


def test_legacy_failures_are_per_group_version_and_a_missing_core_list_is_empty() -> None:
    answers = legacy_answers() | {
        "/apis/metrics.k8s.io/v1beta1": failure(503, "/apis/metrics.k8s.io/v1beta1"),
        "/api/v1": failure(404, "/api/v1"),
        "/apis/apps/v1beta2": ok(b"<html>proxy error</html>"),
    }
    found, _ = drive(DiscoveryCore(SERVER).plan_groups_and_resources(), answers)
    assert set(found.failed) == {"metrics.k8s.io/v1beta1", "apps/v1beta2"}
    assert isinstance(found.failed["apps/v1beta2"], MalformedResponse)
    assert found.resources["v1"] == ()
    assert gvr_set(found) == {("apps", "v1", "deployments", "Deployment")}


def test_a_404_from_api_is_an_empty_core_group_other_root_failures_raise() -> None:
    answers = aggregated_answers() | {"/api": failure(404, "/api")}
    found, _ = drive(DiscoveryCore(SERVER).plan_groups_and_resources(), answers)
    assert found.aggregated and [g.name for g in found.groups] == ["apps", "metrics.k8s.io"]
    with pytest.raises(NotFound):
        drive(DiscoveryCore(SERVER).plan_groups_and_resources(),
              aggregated_answers() | {"/apis": failure(404, "/apis")})
    with pytest.raises(InternalError):
        drive(DiscoveryCore(SERVER).plan_groups_and_resources(),
              aggregated_answers() | {"/api": failure(500, "/api")})


def test_invalidate_forgets_the_aggregated_cache(tmp_path: Path) -> None:
    core = DiscoveryCore(SERVER, cache_dir=tmp_path)
    drive(core.plan_groups_and_resources(), aggregated_answers())
    core.invalidate()
    _, batches = drive(core.plan_groups_and_resources(), aggregated_answers())
    assert [[r.path for r in b] for b in batches] == [["/api", "/apis"]]
    stored = json.loads((core.dir / "aggregated" / "apis.json").read_bytes())  # type: ignore[operator]
    assert stored["kind"] == "APIGroupDiscoveryList"


# --- preferred resources ----------------------------------------------------------------


def record(group_name: str, version: str, name: str) -> APIResource:
    return APIResource(ResourceInfo(group_name, version, name, name.title(), True), name, (), ())


def test_preferred_resources_follow_client_go() -> None:
    """The preferred version wins where it serves the resource; elsewhere the first
    version (server order) that serves it; the preferred version need not be first."""
    groups = (APIGroup("g", ("v2", "v1", "v1beta1"), "v1"),)
    resources = {
        "g/v2": (record("g", "v2", "both"), record("g", "v2", "newonly")),
        "g/v1": (record("g", "v1", "both"), record("g", "v1", "stable")),
        "g/v1beta1": (record("g", "v1beta1", "both"), record("g", "v1beta1", "stable"),
                      record("g", "v1beta1", "oldonly")),
    }
    chosen = ServerResources(groups, resources).preferred()
    assert {(r.info.resource, r.info.version) for r in chosen} == {
        ("both", "v1"), ("stable", "v1"), ("newonly", "v2"), ("oldonly", "v1beta1")}
    assert set(chosen.resources) == set(resources)  # every group-version kept, maybe emptied


def test_preferred_resources_of_a_real_shape() -> None:
    found, _ = drive(DiscoveryCore(SERVER).plan_groups_and_resources(), aggregated_answers())
    preferred = found.preferred()
    assert ("apps", "v1", "deployments", "Deployment") in gvr_set(preferred)
    assert ("apps", "v1beta2", "deployments", "Deployment") not in gvr_set(preferred)
    assert preferred.resources["apps/v1beta2"] == ()


def test_legacy_mode_never_asks_for_or_reads_the_aggregated_form(tmp_path: Path) -> None:
    drive(DiscoveryCore(SERVER, cache_dir=tmp_path).plan_groups_and_resources(), aggregated_answers())
    core = DiscoveryCore(SERVER, cache_dir=tmp_path, legacy=True)
    found, batches = drive(core.plan_groups_and_resources(), legacy_answers())
    assert [r.accept for r in batches[0]] == ["application/json", "application/json"]
    assert len(batches) == 2 and not found.aggregated
