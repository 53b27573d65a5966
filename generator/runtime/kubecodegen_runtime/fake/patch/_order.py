"""How strategic merge orders a merged list, and the Go equality it compares items by."""

from __future__ import annotations

import json
from typing import Any

from ._common import PATCH, bad_arg_type, go_fmt, internal, invalid, no_merge_key


def kind_of(value: Any) -> str:
    """The Go type of a decoded value, as ``reflect.TypeOf`` tells them apart (numbers are
    one kind here: the server decodes integers of both sides alike)."""
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "slice"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if value is None:
        return "nil"
    return "number"


def element_kind(*lists: list[Any]) -> str:
    """``sliceElementType``: the one kind of every item of the lists."""
    previous = ""
    for items in lists:
        for item in items:
            kind = kind_of(item)
            if not previous:
                if kind == "slice":
                    raise invalid()  # lists of lists are not supported
                previous = kind
            elif kind != previous:
                raise internal("list element types are not identical: "
                                + go_fmt(list(lists)))
    if not previous:
        raise internal("no elements in any of the given slices")
    return previous


def scalar_key(value: Any) -> tuple[str, Any]:
    """Go interface equality of scalars, as a hashable key: the kind counts (``true`` is
    not ``1``); a map or list (which Go cannot compare) is keyed by its JSON text."""
    if isinstance(value, (dict, list)):
        return kind_of(value), json.dumps(value, sort_keys=True)
    return kind_of(value), value


def _key_of(item: Any, merge_key: str, kind: str) -> tuple[str, Any]:
    """What ``index`` compares: the merge key's value of a map, the item itself otherwise."""
    if kind == "map":
        return scalar_key(item.get(merge_key)) if isinstance(item, dict) else ("nil", None)
    return scalar_key(item)


def _positions(order: list[Any], merge_key: str, kind: str) -> dict[tuple[str, Any], int]:
    """``index`` for every key at once: the first position of each key in ``order``."""
    found: dict[tuple[str, Any], int] = {}
    for position, item in enumerate(order):
        found.setdefault(_key_of(item, merge_key, kind), position)
    return found


def find_by_key(items: list[Any], merge_key: str, value: Any) -> int:
    """``findMapInSliceBasedOnKeyValue``: the position of the first map whose merge key
    equals ``value``, or -1."""
    wanted = scalar_key(value)
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise internal(f"value for key {position} is not a map")
        if merge_key in item and scalar_key(item[merge_key]) == wanted:
            return position
    return -1


def _sort_by(items: list[Any], order: list[Any], merge_key: str, kind: str) -> list[Any]:
    """``normalizeSliceOrder``: a stable sort of ``items`` by their position in ``order``
    (items ``order`` lacks compare as lesser, as upstream's comparator says); items to
    delete go last."""
    deletions: list[Any] = []
    if kind == "map":
        for each in (items, order):
            for item in each:
                if not isinstance(item, dict):
                    raise bad_arg_type("map[string]interface {}", item)
                if merge_key not in item:
                    raise no_merge_key(item, merge_key)
        deletions = [i for i in items if i.get(PATCH) == "delete"]
        items = [i for i in items if i.get(PATCH) != "delete"]
    where = _positions(order, merge_key, kind)
    ranked = [(where.get(_key_of(item, merge_key, kind), -1), item) for item in items]

    def less(left: int, right: int) -> bool:
        return left < right if left >= 0 and right >= 0 else True

    # insertion sort, as Go's sort.SliceStable does for short lists (the comparator is
    # upstream's, which is no ordering when an item is missing from ``order``)
    for i in range(1, len(ranked)):
        j = i
        while j > 0 and less(ranked[j][0], ranked[j - 1][0]):
            ranked[j], ranked[j - 1] = ranked[j - 1], ranked[j]
            j -= 1
    return [item for _, item in ranked] + deletions


def _interleave(server_only: list[Any], patch_items: list[Any], server_order: list[Any],
                merge_key: str, kind: str) -> list[Any]:
    """``mergeSortedSlice``: server-only items go before a patch item only where the live
    list orders both; the relative order within each list is kept."""
    where = _positions(server_order, merge_key, kind)
    left_at = [where.get(_key_of(item, merge_key, kind), -1) for item in server_only]
    right_at = [where.get(_key_of(item, merge_key, kind), -1) for item in patch_items]
    out: list[Any] = []
    i = j = 0
    while i < len(server_only) or j < len(patch_items):
        if j >= len(patch_items):
            out.append(server_only[i])
            i += 1
        elif i >= len(server_only):
            out.append(patch_items[j])
            j += 1
        else:
            left, right = left_at[i], right_at[j]
            if left >= 0 and right >= 0 and left < right:
                out.append(server_only[i])
                i += 1
            else:
                out.append(patch_items[j])
                j += 1
    return out


def normalize_order(patch_items: list[Any], server_only: list[Any], patch_order: list[Any],
                     server_order: list[Any], merge_key: str, kind: str) -> list[Any]:
    """Patch items in the patch's order, server-only items in the live order, interleaved."""
    patch_items = _sort_by(patch_items, patch_order, merge_key, kind)
    server_only = _sort_by(server_only, server_order, merge_key, kind)
    return _interleave(server_only, patch_items, server_order, merge_key, kind)


def partition(merged: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """Items of ``merged`` that ``by`` names, and the others (by merge key for maps)."""
    inside: list[Any] = []
    outside: list[Any] = []
    named: set[tuple[str, Any]] = set()
    if not merge_key:
        named.update(scalar_key(v) for v in by)
        for item in merged:
            (inside if scalar_key(item) in named else outside).append(item)
        return inside, outside
    for position, item in enumerate(by):
        if not isinstance(item, dict):
            raise internal(f"value for key {position} is not a map")
        if merge_key in item:
            named.add(scalar_key(item[merge_key]))
    for item in merged:
        if not isinstance(item, dict):
            raise bad_arg_type("map[string]interface {}", item)
        if merge_key not in item:
            raise no_merge_key(item, merge_key)
        (inside if scalar_key(item[merge_key]) in named else outside).append(item)
    return inside, outside
