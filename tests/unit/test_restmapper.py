"""RESTMapper matching, priorities, short names, categories and the reset rule (pure).

The mapper is built from aggregated documents constructed here (the same records the
legacy path gives: ``test_discovery_aggregated.py`` proves that).
"""

from __future__ import annotations

import pytest

from kubecodegen_runtime.discovery import DiscoveryCore, ResourceNotFound, ServerResources
from kubecodegen_runtime.meta import GroupVersionKind
from kubecodegen_runtime.restmapper import (
    AmbiguousMatch,
    MapperCache,
    NoKindMatch,
    NoResourceMatch,
    RESTMapper,
)

from .discovery_docs import aggregated_list, aggregated_type, drive, group, ok, resource

SERVER = "https://127.0.0.1:6443"


def discovered(*, stale: tuple[str, ...] = ()) -> ServerResources:
    core = aggregated_list(group("", {"v1": [
        resource("pods", "Pod", singular="pod", short_names=("po",), categories=("all",)),
        resource("events", "Event", singular="event", short_names=("ev",)),
        resource("services", "Service", singular="service", short_names=("svc",), categories=("all",)),
        resource("namespaces", "Namespace", namespaced=False, singular="namespace", short_names=("ns",)),
    ]}))
    apis = aggregated_list(
        group("apps", {
            "v1": [resource("deployments", "Deployment", singular="deployment", short_names=("deploy",),
                            categories=("all",), group="apps")],
            "v1beta1": [resource("deployments", "Deployment", singular="deployment", group="apps",
                                 version="v1beta1", categories=("all",)),
                        resource("controllerrevisions", "ControllerRevision", group="apps",
                                 version="v1beta1")],
        }),
        group("events.k8s.io", {
            "v1": [resource("events", "Event", singular="event", short_names=("ev",),
                            group="events.k8s.io")],
        }),
        group("autoscaling", {
            "v2": [resource("horizontalpodautoscalers", "HorizontalPodAutoscaler", short_names=("hpa",),
                            group="autoscaling", version="v2")],
            "v1": [resource("horizontalpodautoscalers", "HorizontalPodAutoscaler", short_names=("hpa",),
                            group="autoscaling")],
        }),
        group("networking.k8s.io", {
            "v1": [resource("ingresses", "Ingress", singular="ingress", short_names=("ing",),
                            group="networking.k8s.io")],
        }),
        # a short name that is another resource's plural, and two resources, one name
        group("tricky.example.com", {
            "v1": [resource("svcs", "ServiceThing", singular="svcthing", short_names=("pods", "st"),
                            group="tricky.example.com"),
                   resource("geese", "Goose", singular="goose", group="tricky.example.com"),
                   resource("goose", "GooseFlock", singular="gooseflock", group="tricky.example.com")],
        }),
        group("metrics.k8s.io", {"v1beta1": []}, stale=("v1beta1",)),
    )
    found, _ = drive(DiscoveryCore(SERVER).plan_groups_and_resources(),
                     {"/api": ok(core, aggregated_type()), "/apis": ok(apis, aggregated_type())})
    return found


@pytest.fixture(scope="module")
def mapper() -> RESTMapper:
    return RESTMapper(discovered())


# --- resource -> resource / kind ------------------------------------------------------


def test_plural_singular_and_any_case(mapper: RESTMapper) -> None:
    for name in ("deployments", "deployment", "Deployments", "DEPLOYMENT"):
        got = mapper.resource_for(name)
        assert (got.group, got.version, got.resource) == ("apps", "v1", "deployments")
    assert mapper.kind_for("pods") == GroupVersionKind("", "v1", "Pod")


def test_core_v1_comes_first_then_groups_in_server_order(mapper: RESTMapper) -> None:
    assert mapper.resource_for("events").group == ""
    assert [(r.group, r.version) for r in mapper.resources_for("events")] == [
        ("", "v1"), ("events.k8s.io", "v1")]


def test_preferred_version_first_even_when_listed_later(mapper: RESTMapper) -> None:
    """autoscaling lists v2 first, so v2 is preferred; naming v1 gets v1."""
    assert mapper.resource_for("horizontalpodautoscalers").version == "v2"
    assert mapper.resource_for("horizontalpodautoscalers", version="v1").version == "v1"
    assert mapper.preferred_version("autoscaling") == "v2"


def test_group_and_version_narrow(mapper: RESTMapper) -> None:
    assert mapper.resource_for("events", group="events.k8s.io").group == "events.k8s.io"
    assert mapper.resource_for("deployments", version="v1beta1").version == "v1beta1"
    assert mapper.resource_for("deployments", group="apps", version="v1beta1").version == "v1beta1"
    with pytest.raises(NoResourceMatch, match="version 'v2'"):
        mapper.resource_for("deployments", group="apps", version="v2")


def test_a_group_prefix_matches_when_no_group_is_exact(mapper: RESTMapper) -> None:
    assert mapper.resource_for("ingresses", group="networking").group == "networking.k8s.io"
    assert mapper.resource_for("pods", group="").group == ""
    with pytest.raises(NoResourceMatch, match="the core group"):  # "" prefixes nothing
        mapper.resource_for("deployments", group="")


def test_short_names_expand_to_the_preferred_version(mapper: RESTMapper) -> None:
    assert mapper.resource_for("deploy").resource == "deployments"
    assert mapper.resource_for("hpa").version == "v2"
    assert mapper.resource_for("hpa", version="v1").version == "v1"
    assert mapper.resource_for("ing").group == "networking.k8s.io"
    assert mapper.resource_for("st").resource == "svcs"


def test_a_real_name_beats_someone_elses_short_name(mapper: RESTMapper) -> None:
    """``svcs`` is a plural in tricky.example.com and ``pods`` its short name: the plural
    ``pods`` of the core group still wins, as in client-go's shortcut expander."""
    assert mapper.resource_for("pods").group == ""
    assert mapper.resource_for("svcs").group == "tricky.example.com"
    assert mapper.resource_for("svc").resource == "services"


def test_two_resources_at_the_same_priority_are_ambiguous(mapper: RESTMapper) -> None:
    with pytest.raises(AmbiguousMatch, match="goose") as raised:
        mapper.resource_for("goose")
    assert {c.resource for c in raised.value.candidates} == {"geese", "goose"}
    assert len(mapper.resources_for("goose")) == 2


def test_no_resource_match_names_the_request_and_failed_discovery(mapper: RESTMapper) -> None:
    with pytest.raises(NoResourceMatch) as raised:
        mapper.resource_for("nodemetrics", group="metrics.k8s.io")
    assert "'nodemetrics'" in str(raised.value) and "group 'metrics.k8s.io'" in str(raised.value)
    assert raised.value.failed == ("metrics.k8s.io/v1beta1",)
    assert "discovery failed for metrics.k8s.io/v1beta1" in str(raised.value)
    with pytest.raises(NoResourceMatch) as clean:
        mapper.resource_for("widgets", group="apps")
    assert clean.value.failed == ()
    assert isinstance(clean.value, ResourceNotFound)  # what resolve_kind raised before


# --- kind -> resource -------------------------------------------------------------------


def test_rest_mapping_by_kind_any_group_or_one(mapper: RESTMapper) -> None:
    deploy = mapper.rest_mapping("Deployment")
    assert (deploy.group, deploy.version, deploy.resource, deploy.namespaced) == (
        "apps", "v1", "deployments", True)
    assert mapper.rest_mapping("Deployment", group="apps", versions=["v1beta1"]).version == "v1beta1"
    assert mapper.rest_mapping("Event").group == ""
    assert mapper.rest_mapping("Event", group="events.k8s.io").group == "events.k8s.io"
    assert not mapper.rest_mapping("Namespace", group="").namespaced


def test_rest_mapping_versions_the_first_that_serves_the_kind(mapper: RESTMapper) -> None:
    got = mapper.rest_mappings("ControllerRevision", group="apps", versions=["v1", "v1beta1"])
    assert [m.version for m in got] == ["v1beta1"]
    with pytest.raises(NoKindMatch, match="versions v2, v3") as raised:
        mapper.rest_mapping("Deployment", group="apps", versions=["v2", "v3"])
    assert raised.value.versions == ("v2", "v3")


def test_kind_case_is_exact_or_lower_as_client_go(mapper: RESTMapper) -> None:
    assert mapper.rest_mapping("deployment").resource == "deployments"
    with pytest.raises(NoKindMatch, match="'DEPLOYMENT'"):
        mapper.rest_mapping("DEPLOYMENT")


def test_rest_mappings_lists_every_version_best_first(mapper: RESTMapper) -> None:
    assert [(m.group, m.version) for m in mapper.rest_mappings("Event")] == [
        ("", "v1"), ("events.k8s.io", "v1")]
    assert [m.version for m in mapper.rest_mappings("HorizontalPodAutoscaler")] == ["v2", "v1"]


def test_find_reads_names_as_kubectl(mapper: RESTMapper) -> None:
    assert mapper.find("deploy").resource == "deployments"
    assert mapper.find("ServiceThing").resource == "svcs"  # a kind, not a resource name
    assert mapper.find("SERVICETHING").resource == "svcs"
    assert mapper.find("Event", group="events.k8s.io").group == "events.k8s.io"
    with pytest.raises(NoResourceMatch, match="NoSuchKind"):
        mapper.find("NoSuchKind")


def test_categories_at_preferred_versions_once_each(mapper: RESTMapper) -> None:
    assert [(r.group, r.version, r.resource) for r in mapper.category("all")] == [
        ("", "v1", "pods"), ("", "v1", "services"), ("apps", "v1", "deployments")]
    assert mapper.category("nothing") == []


def test_kinds_lists_every_served_kind(mapper: RESTMapper) -> None:
    kinds = mapper.kinds()
    assert kinds[0].group == "" and GroupVersionKind("apps", "v1beta1", "Deployment") in kinds
    assert len(kinds) == len(set(kinds))


# --- when to re-discover ---------------------------------------------------------------


def test_mapper_cache_is_fresh_only_for_server_data_and_only_for_a_while() -> None:
    now = [100.0]
    cache = MapperCache(fresh_for=2.0, clock=lambda: now[0])
    assert not cache.fresh()
    cache.install(discovered(), from_server=True)
    assert cache.fresh() and cache.builds == 1
    now[0] += 2.5
    assert not cache.fresh()  # old enough to be rebuilt on a miss
    cache.install(discovered(), from_server=False)
    assert not cache.fresh()  # read from a cache: may be stale at once
    cache.reset()
    assert cache.mapper is None and not cache.fresh()
