"""Label and field selectors on lists, and paging with continue tokens."""

from __future__ import annotations

from kube_v1_20.models import core_v1, meta_v1

from kubecodegen_runtime import errors

from ..backends import Backend
from .registry import scenario
from .support import configmap, names, raises, rv, widget, widgets


def _labelled(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("web-1", labels={"app": "web", "tier": "front"}))
    cms.create(configmap("web-2", labels={"app": "web", "tier": "back"}))
    cms.create(configmap("db-1", labels={"app": "db"}))
    cms.create(configmap("plain"))


@scenario
def scenario_label_selector_equality(b: Backend) -> None:
    _labelled(b)
    cms = b.cs.core_v1.config_maps(b.namespace)
    assert names(cms.list(label_selector="app=web").items) == ["web-1", "web-2"]
    assert names(cms.list(label_selector="app==web,tier=front").items) == ["web-1"]
    assert names(cms.list(label_selector="app!=web").items) == ["db-1", "plain"]
    assert names(cms.list(label_selector=" app = web , tier == back ").items) == ["web-2"]


@scenario
def scenario_label_selector_set_based(b: Backend) -> None:
    _labelled(b)
    cms = b.cs.core_v1.config_maps(b.namespace)
    assert names(cms.list(label_selector="app in (web,db)").items) == ["db-1", "web-1", "web-2"]
    assert names(cms.list(label_selector="tier notin (front)").items) == ["db-1", "plain", "web-2"]
    assert names(cms.list(label_selector="tier").items) == ["web-1", "web-2"]
    assert names(cms.list(label_selector="!tier").items) == ["db-1", "plain"]
    assert names(cms.list(label_selector="app=nothing").items) == []


@scenario
def scenario_label_selector_malformed(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    with raises(errors.BadRequest, "BadRequest"):
        cms.list(label_selector="app in (web")


@scenario
def scenario_field_selector_name_and_namespace(b: Backend) -> None:
    _labelled(b)
    other = b.new_namespace("other")
    b.cs.core_v1.config_maps(other).create(configmap("web-1"))
    cms = b.cs.core_v1.config_maps(b.namespace)
    assert names(cms.list(field_selector="metadata.name=web-2").items) == ["web-2"]
    assert names(cms.list(field_selector="metadata.name!=web-2").items) == ["db-1", "plain", "web-1"]
    assert names(cms.list(
        field_selector=f"metadata.name==db-1,metadata.namespace=={b.namespace}").items) == ["db-1"]
    everywhere = b.cs.core_v1.all_config_maps()
    in_other = everywhere.list(field_selector=f"metadata.namespace={other}")
    assert [(i.metadata.namespace, i.metadata.name) for i in in_other.items] == [(other, "web-1")]
    both = everywhere.list(field_selector="metadata.name=web-1", label_selector="app=web")
    mine = [i.metadata.namespace for i in both.items if i.metadata.namespace in (b.namespace, other)]
    assert mine == [b.namespace]


@scenario
def scenario_field_selector_resource_specific(b: Backend) -> None:
    """Secrets are selectable by ``type``, a field label of their own."""
    secrets = b.cs.core_v1.secrets(b.namespace)
    secrets.create(core_v1.Secret(metadata=meta_v1.ObjectMeta(name="opaque"), type="Opaque"))
    secrets.create(core_v1.Secret(metadata=meta_v1.ObjectMeta(name="custom"), type="example.com/x"))
    assert names(secrets.list(field_selector="type=example.com/x").items) == ["custom"]


@scenario
def scenario_field_selector_unsupported_label(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("a", {"k": "v"}))
    with raises(errors.BadRequest, "BadRequest"):
        cms.list(field_selector="data.k=v")
    with raises(errors.BadRequest, "BadRequest"):
        b.cs.core_v1.all_config_maps().list(field_selector="spec.nodeName=n1")
    ws = widgets(b)  # a custom resource has only metadata.name and metadata.namespace
    ws.create(widget("w", color="red"))
    with raises(errors.BadRequest, "BadRequest"):
        ws.list(field_selector="spec.color=red")
    assert names(ws.list(field_selector="metadata.name=w").items) == ["w"]


@scenario
def scenario_list_is_sorted_by_name(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    for name in ("m", "b", "z", "a"):
        cms.create(configmap(name))
    assert names(cms.list().items) == ["a", "b", "m", "z"]


def _many(b: Backend, count: int, **labels: str) -> list[str]:
    cms = b.cs.core_v1.config_maps(b.namespace)
    made = [f"p{i:02d}" for i in range(count)]
    for name in made:
        cms.create(configmap(name, labels=labels or None))
    return made


@scenario
def scenario_paging_with_continue(b: Backend) -> None:
    made = _many(b, 7)
    cms = b.cs.core_v1.config_maps(b.namespace)
    first = cms.list(limit=3)
    assert names(first.items) == made[:3]
    assert first.metadata.continue_ and first.metadata.remaining_item_count == 4
    second = cms.list(limit=3, continue_=first.metadata.continue_)
    assert names(second.items) == made[3:6]
    assert second.metadata.continue_ and second.metadata.remaining_item_count == 1
    last = cms.list(limit=3, continue_=second.metadata.continue_)
    assert names(last.items) == made[6:]
    assert not last.metadata.continue_ and last.metadata.remaining_item_count is None
    assert rv(first) == rv(second) == rv(last)


@scenario
def scenario_paging_exact_fit_and_unlimited(b: Backend) -> None:
    made = _many(b, 4)
    cms = b.cs.core_v1.config_maps(b.namespace)
    whole = cms.list(limit=4)
    assert names(whole.items) == made and not whole.metadata.continue_
    assert whole.metadata.remaining_item_count is None
    assert names(cms.list(limit=10).items) == made
    no_limit = cms.list(limit=0)
    assert names(no_limit.items) == made and not no_limit.metadata.continue_
    unlimited = cms.list()
    assert names(unlimited.items) == made and not unlimited.metadata.continue_


@scenario
def scenario_paging_with_selector_has_no_count(b: Backend) -> None:
    """A filtered list cannot know how many items remain: no remainingItemCount."""
    made = _many(b, 5, kind="page")
    b.cs.core_v1.config_maps(b.namespace).create(configmap("other"))
    cms = b.cs.core_v1.config_maps(b.namespace)
    first = cms.list(limit=2, label_selector="kind=page")
    assert names(first.items) == made[:2]
    assert first.metadata.continue_ and first.metadata.remaining_item_count is None
    seen = names(first.items)
    token = first.metadata.continue_
    while token:
        page = cms.list(limit=2, label_selector="kind=page", continue_=token)
        seen += names(page.items)
        token = page.metadata.continue_
    assert seen == made


@scenario
def scenario_paging_is_a_snapshot(b: Backend) -> None:
    """Later pages are read at the first page's resourceVersion: writes made in between are
    not seen, deletions neither."""
    made = _many(b, 4)
    cms = b.cs.core_v1.config_maps(b.namespace)
    first = cms.list(limit=2)
    cms.create(configmap("p99"))
    cms.delete("p03")
    rest = cms.list(limit=10, continue_=first.metadata.continue_)
    assert names(rest.items) == made[2:]
    assert names(cms.list().items) == ["p00", "p01", "p02", "p99"]


@scenario
def scenario_list_all_follows_tokens(b: Backend) -> None:
    made = _many(b, 9)
    cms = b.cs.core_v1.config_maps(b.namespace)
    assert names(cms.list_all(page_size=2)) == made


@scenario
def scenario_paging_bad_continue_token(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    with raises(errors.BadRequest, "BadRequest"):
        cms.list(limit=2, continue_="not-a-token")


@scenario
def scenario_paging_across_namespaces(b: Backend) -> None:
    other = b.new_namespace("other")
    for ns in (b.namespace, other):
        for name in ("x1", "x2"):
            b.cs.core_v1.config_maps(ns).create(configmap(name, labels={"conf": "all"}))
    everywhere = b.cs.core_v1.all_config_maps()
    pairs = [(i.metadata.namespace, i.metadata.name)
             for i in everywhere.list_all(label_selector="conf=all", page_size=3)]
    assert pairs == sorted(pairs)  # other scenarios' namespaces may hold such objects too
    assert [p for p in pairs if p[0] in (b.namespace, other)] == sorted(
        (ns, name) for ns in (b.namespace, other) for name in ("x1", "x2"))


@scenario
def scenario_list_at_exact_resource_version(b: Backend) -> None:
    """resourceVersionMatch=Exact reads the past: the list as it was at that version (paged
    too); NotOlderThan reads the present; a match without a version is Invalid."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("a", {"v": "1"}))
    cms.create(configmap("b"))
    then = cms.list().metadata.resource_version
    cms.delete("a")
    cms.patch("b", {"data": {"v": "2"}})
    last = cms.create(configmap("c")).metadata.resource_version
    past = cms.list(resource_version=then, resource_version_match="Exact")
    assert names(past.items) == ["a", "b"] and past.metadata.resource_version == then
    assert past.items[1].data is None
    page = cms.list(resource_version=then, resource_version_match="Exact", limit=1)
    assert names(page.items) == ["a"] and page.metadata.remaining_item_count == 1
    rest = cms.list(limit=5, continue_=page.metadata.continue_)
    assert names(rest.items) == ["b"]
    present = cms.list(resource_version=last, resource_version_match="NotOlderThan")
    assert sorted(names(present.items)) == ["b", "c"]  # the watch cache's order is not sorted
    assert rv(present) >= int(last)
    with raises(errors.Invalid, "Invalid") as caught:
        cms.list(resource_version_match="Exact")
    assert [(c.field, c.reason) for c in caught[0].causes] == [
        ("resourceVersionMatch", "FieldValueForbidden")]


@scenario
def scenario_list_rv_moves_with_any_write(b: Backend) -> None:
    """A list's resourceVersion is the server's, not the collection's: a write to another
    resource moves it too."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("a"))
    before = cms.list()
    b.cs.core_v1.secrets(b.namespace).create(core_v1.Secret(metadata=meta_v1.ObjectMeta(name="s")))
    after = cms.list()
    assert names(after.items) == ["a"] and rv(after) > rv(before)


@scenario
def scenario_list_from_cache_ignores_limit(b: Backend) -> None:
    """resourceVersion=0 is served from kube-apiserver 1.20's watch cache, which does not page:
    ``limit`` is ignored and there is no continue token."""
    made = _many(b, 6)
    cms = b.cs.core_v1.config_maps(b.namespace)
    cached = cms.list(limit=2, resource_version="0")
    # "0" accepts any state, so the cache may lag the last write or two: more than the limit,
    # never an object that was not made, and no continue token
    assert set(names(cached.items)) <= set(made) and len(cached.items) > 2
    assert not cached.metadata.continue_


@scenario
def scenario_field_selector_event_labels(b: Backend) -> None:
    """Events have field labels of their own (involvedObject.*, reason, type, source); an
    empty value matches the unset field."""
    events = b.cs.core_v1.events(b.namespace)
    for i, (kind, name, reason) in enumerate([("Pod", "p1", "Started"), ("Pod", "p2", "Killing"),
                                              ("Node", "n1", "Started")]):
        events.create(core_v1.Event(
            metadata=meta_v1.ObjectMeta(name=f"e{i}"), reason=reason, type="Normal", message="m",
            involved_object=core_v1.ObjectReference(kind=kind, name=name, namespace=b.namespace)))
    assert names(events.list(field_selector="involvedObject.kind=Pod").items) == ["e0", "e1"]
    assert names(events.list(field_selector="reason=Started").items) == ["e0", "e2"]
    assert names(events.list(field_selector="involvedObject.name=p2,type=Normal").items) == ["e1"]
    assert names(events.list(field_selector="source=elsewhere").items) == []
    assert names(events.list(field_selector="involvedObject.fieldPath=").items) == ["e0", "e1", "e2"]
    with raises(errors.BadRequest, "BadRequest"):
        events.list(field_selector="message=m")
