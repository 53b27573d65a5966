"""Keys, the thread-safe store and its indexes (incl. a model-based hypothesis test)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubecodegen_runtime.cache import (
    NAMESPACE_INDEX,
    DeletedFinalStateUnknown,
    IndexConflictError,
    IndexFuncError,
    KeyFuncError,
    ThreadSafeStore,
    UnknownIndexError,
    get_labels,
    get_resource_version,
    meta_namespace_key,
    new_indexer,
    object_key,
    split_meta_namespace_key,
)

from .cache_objects import Pod, pod, pod_dict


def by_node(obj: Any) -> list[str]:
    node = obj["spec"].get("nodeName") if isinstance(obj, dict) else obj.spec.node_name
    return [node] if node else []


def by_label_values(obj: Any) -> list[str]:
    return sorted(set(get_labels(obj).values()))


# -- keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [pod, pod_dict], ids=["struct", "dict"])
def test_keys_for_namespaced_and_cluster_objects(make: Any) -> None:
    assert meta_namespace_key(make("web", "prod")) == "prod/web"
    assert meta_namespace_key(make("node-1", None)) == "node-1"
    assert get_resource_version(make("a", "b", rv="42")) == "42"


def test_key_errors_and_tombstones() -> None:
    with pytest.raises(KeyFuncError, match=r"has no metadata\.name"):
        meta_namespace_key(Pod())
    with pytest.raises(KeyFuncError, match=r"has no metadata\.name"):
        meta_namespace_key({"metadata": {"namespace": "x"}})
    tomb = DeletedFinalStateUnknown("ns/gone", pod("gone", "ns"))
    assert meta_namespace_key(tomb) == "ns/gone"


def test_split_key() -> None:
    assert split_meta_namespace_key("a/b") == ("a", "b")
    assert split_meta_namespace_key("b") == ("", "b")
    assert object_key(None, "b") == "b" and object_key("a", "b") == "a/b"
    for bad in ("a/b/c", "/b", "a/"):
        with pytest.raises(KeyFuncError, match="unexpected storage key format"):
            split_meta_namespace_key(bad)


# -- store ----------------------------------------------------------------------------------


def test_add_get_update_delete() -> None:
    store: ThreadSafeStore[Pod] = new_indexer()
    a1 = pod("a", rv="1")
    store.add(a1)
    assert store.get_by_key("default/a") is a1
    assert store.get(pod("a")) is a1
    a2 = pod("a", rv="2")
    store.update(a2)
    assert store.get_by_key("default/a") is a2
    assert len(store) == 1 and "default/a" in store
    store.delete(a2)
    assert store.get_by_key("default/a") is None
    store.delete(a2)  # deleting an absent key is fine
    assert store.list() == [] and store.list_keys() == []


def test_delete_by_tombstone_removes_the_named_key() -> None:
    store: ThreadSafeStore[Pod] = new_indexer()
    store.add(pod("a"))
    store.delete(DeletedFinalStateUnknown("default/a", pod("a")))
    assert len(store) == 0
    assert store.by_index(NAMESPACE_INDEX, "default") == []


def test_namespace_index_is_there_by_default_and_follows_updates() -> None:
    store: ThreadSafeStore[dict[str, Any]] = new_indexer()
    store.add(pod_dict("a", "ns1"))
    store.add(pod_dict("b", "ns1"))
    store.add(pod_dict("c", "ns2"))
    store.add(pod_dict("node", None))
    assert sorted(store.index_keys(NAMESPACE_INDEX, "ns1")) == ["ns1/a", "ns1/b"]
    assert sorted(store.list_index_func_values(NAMESPACE_INDEX)) == ["", "ns1", "ns2"]
    store.delete(pod_dict("c", "ns2"))
    assert sorted(store.list_index_func_values(NAMESPACE_INDEX)) == ["", "ns1"]
    assert store.by_index(NAMESPACE_INDEX, "ns2") == []


def test_custom_index_moves_entries_on_update_and_delete() -> None:
    store: ThreadSafeStore[Pod] = new_indexer(indexers={"by_node": by_node})
    store.add(pod("a", node="n1"))
    store.add(pod("b", node="n1"))
    assert sorted(store.index_keys("by_node", "n1")) == ["default/a", "default/b"]
    store.update(pod("a", node="n2", rv="2"))
    assert store.index_keys("by_node", "n1") == ["default/b"]
    assert [p.metadata.name for p in store.by_index("by_node", "n2")] == ["a"]  # type: ignore[union-attr]
    store.update(pod("b", node=None, rv="2"))  # indexed under nothing now
    assert store.index_keys("by_node", "n1") == []
    assert sorted(store.list_index_func_values("by_node")) == ["n2"]
    store.delete(pod("a"))
    assert store.list_index_func_values("by_node") == []


def test_multi_valued_index_and_index_query() -> None:
    store: ThreadSafeStore[Pod] = new_indexer(indexers={"vals": by_label_values})
    store.add(pod("a", labels={"x": "red", "y": "blue"}))
    store.add(pod("b", labels={"x": "blue"}))
    store.add(pod("c", labels={"x": "green"}))
    assert sorted(store.index_keys("vals", "blue")) == ["default/a", "default/b"]
    related = store.index("vals", pod("probe", labels={"q": "red", "r": "green"}))
    assert sorted(meta_namespace_key(p) for p in related) == ["default/a", "default/c"]


def test_indexers_added_after_data_exists_index_existing_objects() -> None:
    store: ThreadSafeStore[Pod] = new_indexer()
    for i in range(5):
        store.add(pod(f"p{i}", node=f"n{i % 2}"))
    store.add_indexers({"by_node": by_node})
    assert sorted(store.index_keys("by_node", "n0")) == ["default/p0", "default/p2", "default/p4"]
    store.add(pod("p5", node="n1"))
    assert len(store.index_keys("by_node", "n1")) == 3
    assert set(store.get_indexers()) == {NAMESPACE_INDEX, "by_node"}
    with pytest.raises(IndexConflictError, match="already registered: by_node"):
        store.add_indexers({"by_node": by_node})


def test_failing_index_function_leaves_the_store_unchanged() -> None:
    def picky(obj: Pod) -> list[str]:
        if obj.metadata and obj.metadata.name == "bad":
            raise RuntimeError("boom")
        return ["ok"]

    store: ThreadSafeStore[Pod] = new_indexer(indexers={"picky": picky})
    store.add(pod("good"))
    with pytest.raises(IndexFuncError, match="index function 'picky' failed for object "
                                             "'default/bad': boom"):
        store.add(pod("bad"))
    assert store.list_keys() == ["default/good"]
    assert store.index_keys("picky", "ok") == ["default/good"]
    with pytest.raises(IndexFuncError):
        store.replace([pod("x"), pod("bad")])
    assert store.list_keys() == ["default/good"]
    # an index added later that fails on existing data is not registered at all
    def broken(obj: Pod) -> list[str]:
        raise LookupError("no such field")

    with pytest.raises(IndexFuncError, match=r"index function 'late' failed .*no such field"):
        store.add_indexers({"late": broken})
    assert "late" not in store.get_indexers()


def test_non_string_index_values_are_rejected() -> None:
    store: ThreadSafeStore[Pod] = new_indexer(indexers={"num": lambda p: [1]})  # type: ignore[list-item]
    with pytest.raises(IndexFuncError, match="returned non-string values"):
        store.add(pod("a"))


def test_unknown_index() -> None:
    store: ThreadSafeStore[Pod] = new_indexer()
    with pytest.raises(UnknownIndexError, match="index 'nope' does not exist"):
        store.by_index("nope", "x")


def test_replace_rebuilds_items_and_indexes() -> None:
    store: ThreadSafeStore[Pod] = new_indexer(indexers={"by_node": by_node})
    store.add(pod("old", node="n1"))
    store.replace([pod("new", "ns", node="n2")])
    assert store.list_keys() == ["ns/new"]
    assert store.index_keys("by_node", "n1") == []
    assert store.index_keys("by_node", "n2") == ["ns/new"]
    assert store.index_keys(NAMESPACE_INDEX, "ns") == ["ns/new"]


def test_concurrent_writer_and_readers_stay_consistent() -> None:
    store: ThreadSafeStore[Pod] = new_indexer(indexers={"by_node": by_node})
    errors: list[str] = []
    stop = threading.Event()

    def writer() -> None:
        for i in range(3000):
            store.update(pod(f"p{i % 50}", node=f"n{i % 7}", rv=str(i)))
            if i % 5 == 0:
                store.delete(pod(f"p{(i * 3) % 50}"))
        stop.set()

    def reader() -> None:
        while not stop.is_set():
            for node in store.list_index_func_values("by_node"):
                for obj in store.by_index("by_node", node):
                    if by_node(obj) != [node]:
                        errors.append(f"{meta_namespace_key(obj)} filed under {node}")

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader)
                                                   for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors


# -- model-based: random operations against a dict model -----------------------------------

_names = st.sampled_from(["a", "b", "c", "d", "e"])
_namespaces = st.sampled_from(["ns1", "ns2", None])
_nodes = st.sampled_from(["n1", "n2", None])
_ops = st.lists(
    st.tuples(st.sampled_from(["add", "update", "delete", "replace", "add_indexer"]),
              _names, _namespaces, _nodes, st.lists(st.tuples(_names, _namespaces, _nodes),
                                                    max_size=4)),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(_ops, st.booleans())
def test_store_matches_a_dict_model(ops: list[Any], use_dicts: bool) -> None:
    make = pod_dict if use_dicts else pod
    store: ThreadSafeStore[Any] = new_indexer()
    model: dict[str, Any] = {}
    indexed = False
    for step, (op, name, ns, node, batch) in enumerate(ops):
        obj = make(name, ns, rv=str(step), node=node)
        key = meta_namespace_key(obj)
        if op in ("add", "update"):
            getattr(store, op)(obj)
            model[key] = obj
        elif op == "delete":
            store.delete(obj)
            model.pop(key, None)
        elif op == "replace":
            objs = [make(n, s, rv=str(step), node=d) for n, s, d in batch]
            store.replace(objs)
            model = {meta_namespace_key(o): o for o in objs}
        elif not indexed:
            store.add_indexers({"by_node": by_node})
            indexed = True
        # the whole observable state must equal what the model implies
        assert sorted(store.list_keys()) == sorted(model)
        assert all(store.get_by_key(k) is v for k, v in model.items())
        expected_ns: dict[str, set[str]] = {}
        expected_node: dict[str, set[str]] = {}
        for k, v in model.items():
            ns_value = v["metadata"].get("namespace", "") if use_dicts else (
                v.metadata.namespace or "")
            expected_ns.setdefault(ns_value, set()).add(k)
            for n in by_node(v):
                expected_node.setdefault(n, set()).add(k)
        assert {v: set(store.index_keys(NAMESPACE_INDEX, v))
                for v in store.list_index_func_values(NAMESPACE_INDEX)} == expected_ns
        if indexed:
            assert {v: set(store.index_keys("by_node", v))
                    for v in store.list_index_func_values("by_node")} == expected_node
