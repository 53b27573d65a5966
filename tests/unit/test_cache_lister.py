"""Listers over an indexed store: namespace views, label selectors, NotFound."""

from __future__ import annotations

from typing import Any

import pytest

from kubecodegen_runtime.cache import ThreadSafeStore, new_indexer
from kubecodegen_runtime.cache.lister import Lister, NamespaceLister
from kubecodegen_runtime.errors import ApiError, NotFound
from kubecodegen_runtime.labels import LabelSelectorError, Selector

from .cache_objects import Pod, pod, pod_dict


def _names(objs: list[Any]) -> set[str]:
    return {o["metadata"]["name"] if isinstance(o, dict) else o.metadata.name for o in objs}


@pytest.fixture
def lister() -> Lister[Pod]:
    store: ThreadSafeStore[Pod] = new_indexer()
    for obj in [
        pod("web-0", "default", labels={"app": "web", "tier": "front"}),
        pod("web-1", "default", labels={"app": "web", "tier": "back"}),
        pod("db-0", "default", labels={"app": "db"}),
        pod("web-0", "other", labels={"app": "web"}),
        pod("plain", "other"),
    ]:
        store.add(obj)
    return Lister(store, "pods")


def test_list_everything_and_by_selector_across_namespaces(lister: Lister[Pod]) -> None:
    assert len(lister.list()) == 5
    assert len(lister.list("app=web")) == 3
    assert _names(lister.list({"app": "db"})) == {"db-0"}
    assert _names(lister.list(Selector.parse("!app"))) == {"plain"}


def test_namespace_view_lists_only_that_namespace(lister: Lister[Pod]) -> None:
    default = lister.namespace("default")
    assert isinstance(default, NamespaceLister)
    assert _names(default.list()) == {"web-0", "web-1", "db-0"}
    assert _names(default.list("app=web,tier in (front)")) == {"web-0"}
    assert _names(default.list("tier notin (front)")) == {"web-1", "db-0"}
    assert _names(lister.namespace("other").list("app")) == {"web-0"}
    assert lister.namespace("empty").list() == []


def test_get_returns_the_cached_instance(lister: Lister[Pod]) -> None:
    got = lister.namespace("other").get("web-0")
    assert got.metadata is not None and got.metadata.namespace == "other"
    assert got is lister.namespace("other").get("web-0")


def test_get_of_a_missing_object_raises_not_found_naming_it(lister: Lister[Pod]) -> None:
    with pytest.raises(NotFound) as caught:
        lister.namespace("default").get("nope")
    assert isinstance(caught.value, ApiError)
    assert caught.value.status == 404
    assert '"nope"' in str(caught.value) and "pods" in str(caught.value)
    # A namespaced object is not addressable without its namespace.
    with pytest.raises(NotFound):
        lister.get("web-0")


def test_cluster_scoped_get_and_group_in_message() -> None:
    store: ThreadSafeStore[dict[str, Any]] = new_indexer()
    store.add(pod_dict("node-a", None, labels={"role": "worker"}))
    nodes: Lister[dict[str, Any]] = Lister(store, "widgets", "example.com")
    assert nodes.get("node-a")["metadata"]["name"] == "node-a"
    assert _names(nodes.list("role=worker")) == {"node-a"}
    with pytest.raises(NotFound, match=r'widgets\.example\.com "node-b" not found'):
        nodes.get("node-b")


def test_bad_selector_is_a_clear_error(lister: Lister[Pod]) -> None:
    with pytest.raises(LabelSelectorError):
        lister.list("app in (web")
    with pytest.raises(LabelSelectorError):
        lister.namespace("default").list("=x")


def test_namespace_lister_needs_a_namespace(lister: Lister[Pod]) -> None:
    with pytest.raises(ValueError, match="non-empty namespace"):
        lister.namespace("")


def test_listers_see_later_writes() -> None:
    store: ThreadSafeStore[Pod] = new_indexer()
    pods: Lister[Pod] = Lister(store, "pods")
    view = pods.namespace("default")
    assert view.list() == []
    store.add(pod("a", labels={"x": "1"}))
    assert _names(view.list("x=1")) == {"a"}
    store.delete(pod("a"))
    with pytest.raises(NotFound):
        view.get("a")
