"""Strategic merge patch as kube-apiserver applies it (``strategicpatch``), with the merge
metadata of a generated package's tables."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from ..schema import Field, PackageApi
from ._common import (
    BAD_ORDER_LIST,
    BAD_PRIMITIVE_LIST,
    BAD_RETAIN_KEYS,
    DELETE_PREFIX,
    ORDER_PREFIX,
    PATCH,
    RETAIN_KEYS,
    bad_arg_type,
    bad_request,
    go_fmt,
    go_json_kind,
    internal,
    no_merge_key,
    version_at_least,
)
from ._order import (
    element_kind,
    find_by_key,
    kind_of,
    normalize_order,
    partition,
    scalar_key,
)


@dataclass(frozen=True, slots=True)
class _Semantics:
    """Server-version differences of the strategic merge patch (apimachinery history)."""

    #: 1.23+: a ``$deleteFromPrimitiveList`` for a list the object lacks does nothing
    #: (before, the list became the deletion list).
    delete_missing_is_noop: bool
    #: 1.28+: a deletion list deletes whatever the field's strategy (before, a field
    #: without ``merge`` strategy was replaced by the deletion list).
    delete_any_strategy: bool
    #: 1.24+: a value for a key the object lacks loses its ``null`` members.
    new_values_lose_nulls: bool
    #: 1.28+: a value for a key the object lacks loses the maps that carry ``$patch``.
    new_values_lose_directives: bool


class _Schema:
    """Where the merge is in the package's types: an object of ``type_key``, or (``map``)
    a map whose values are of ``type_key``. (Read-only by convention; one is made per
    property a patch touches, and a frozen dataclass's ``__init__`` is three times
    slower.)"""

    __slots__ = ("api", "map", "type_key")

    def __init__(self, api: PackageApi, type_key: str | None, map: bool = False) -> None:
        self.api = api
        self.type_key = type_key
        self.map = map

    def lookup(self, name: str) -> tuple[_Schema, Field | None]:
        """The schema of property ``name``'s value (of its items, for a list), and its
        merge metadata (``None``: none, as for a map value or an unknown property)."""
        if self.map:
            return _Schema(self.api, self.type_key), None
        found = self.api.field(self.type_key, name)
        if found is None:
            return _Schema(self.api, None), None
        return _Schema(self.api, found.type, found.container == "map"), found


def _strategy(found: Field | None) -> str:
    """The field's strategy other than ``retainKeys`` (which only the patch's
    ``$retainKeys`` directive acts on)."""
    if found is None or not found.patch_strategy:
        return ""
    others = [s for s in found.patch_strategy.split(",") if s != "retainKeys"]
    return others[0] if others else ""


def _merge_key(found: Field | None) -> str:
    return found.patch_merge_key or "" if found is not None else ""


def _is_directive_key(key: str) -> bool:
    return key in (PATCH, RETAIN_KEYS) or key.startswith((DELETE_PREFIX, ORDER_PREFIX))


def _take(value: Any, schema: _Schema, *, discard_nulls: bool = False,
          drop_directives: bool = False) -> tuple[Any, bool]:
    """A patch value the server takes as it is, as it comes out of its typed round trip.

    Upstream stores such values raw (a new key, a replaced list, an appended item, a
    ``$patch: replace`` map), then converts the object to its Go type: ``null`` becomes
    the zero value (``""`` in a map or list of strings; an omitted field in an object)
    and directive keys, unknown to the Go struct, vanish (in a map of strings they stay,
    as keys). For a new key, 1.24+ first discards ``null`` members (``discard_nulls``) and
    1.28+ drops every map carrying ``$patch`` (``drop_directives``; ``False`` in the
    second item: drop the value itself).
    """
    if isinstance(value, dict):
        if drop_directives and PATCH in value:
            return None, False
        strings = schema.map and schema.type_key is None
        out: dict[str, Any] = {}
        for key, item in value.items():
            if item is None:
                if strings and not discard_nulls:
                    out[key] = ""
                continue
            if not strings and _is_directive_key(key):
                continue
            taken, keep = _take(item, schema.lookup(key)[0], discard_nulls=discard_nulls,
                                drop_directives=drop_directives)
            if keep:
                out[key] = taken
        return out, True
    if isinstance(value, list):
        items: list[Any] = []
        for item in value:
            if item is None:
                items.append("" if schema.type_key is None else {})
                continue
            taken, keep = _take(item, schema, discard_nulls=discard_nulls,
                                drop_directives=drop_directives)
            if keep:
                items.append(taken)
        return items, True
    return value, True


class _Strategic:
    """One application of a strategic merge patch."""

    def __init__(self, semantics: _Semantics) -> None:
        self.semantics = semantics

    # maps -------------------------------------------------------------------------

    def merge_map(self, original: Any, patch: dict[str, Any], schema: _Schema) -> Any:
        if PATCH in patch:
            directive = patch[PATCH]
            if directive == "replace":
                return _take({k: v for k, v in patch.items() if k != PATCH}, schema)[0]
            if directive == "delete":
                return {}
            raise internal(f"unknown patch type: {go_fmt(directive)} in map: {go_fmt(patch)}")
        result: dict[str, Any] = dict(original) if isinstance(original, dict) else {}
        if RETAIN_KEYS in patch:
            self._retain_keys(result, patch)
        done = self._ordered_lists(result, patch, schema)
        deletions: list[tuple[str, Any]] = []
        for key, value in patch.items():
            if key in done or key == RETAIN_KEYS or key.startswith(ORDER_PREFIX):
                continue
            if key.startswith(DELETE_PREFIX):
                deletions.append((key, value))
                continue
            self._merge_key(result, key, value, schema, deletion=False)
        for key, value in deletions:
            target = key.split("/", 1)
            if len(target) < 2 or target[0] != DELETE_PREFIX:
                raise bad_request(BAD_PRIMITIVE_LIST)
            self._merge_key(result, target[1], value, schema, deletion=True)
        return result

    def _retain_keys(self, result: dict[str, Any], patch: dict[str, Any]) -> None:
        """``$retainKeys``: every field the patch sets must be listed; the live object's
        fields that are not listed are cleared."""
        retained = patch[RETAIN_KEYS]
        if not isinstance(retained, list):
            raise bad_request(BAD_RETAIN_KEYS)
        names = {v for v in retained if isinstance(v, str)}
        for key, value in patch.items():
            if key == RETAIN_KEYS or value is None or key.startswith((DELETE_PREFIX, ORDER_PREFIX)):
                continue
            if key not in names:
                raise bad_request(BAD_RETAIN_KEYS)
        for key in [k for k in result if k not in names]:
            del result[key]

    def _merge_key(self, result: dict[str, Any], key: str, value: Any, schema: _Schema, *,
                   deletion: bool) -> None:
        if value is None:
            result.pop(key, None)
            return
        current = result.get(key, _ABSENT)
        if current is _ABSENT or kind_of(current) != kind_of(value):
            if not deletion:
                cleaned, keep = _take(value, schema.lookup(key)[0],
                                      discard_nulls=self.semantics.new_values_lose_nulls,
                                      drop_directives=self.semantics.new_values_lose_directives)
                if keep:
                    result[key] = cleaned
                else:
                    result.pop(key, None)
            elif not self.semantics.delete_missing_is_noop:
                result[key] = value
            return
        sub, found = schema.lookup(key)
        if isinstance(value, dict):
            if _strategy(found) == "replace":
                result[key] = _take(value, sub)[0]
            else:
                result[key] = self.merge_map(current, value, sub)
        elif isinstance(value, list):
            result[key] = self.merge_list_field(current, value, sub, found, deletion=deletion)
        else:
            result[key] = value

    # lists ------------------------------------------------------------------------

    def merge_list_field(self, current: list[Any], value: list[Any], sub: _Schema,
                         found: Field | None, *, deletion: bool) -> list[Any]:
        """``mergeSliceHandler``: merge where the strategy says so, replace otherwise."""
        if _strategy(found) == "merge" or (deletion and self.semantics.delete_any_strategy):
            return self.merge_list(current, value, sub, _merge_key(found), deletion=deletion)
        if deletion:
            return value
        cleaned: list[Any] = _take(value, sub)[0]
        return cleaned

    def merge_list(self, original: list[Any], patch: list[Any], schema: _Schema, merge_key: str,
                   *, deletion: bool) -> list[Any]:
        if not original and not patch:
            return original
        kind = element_kind(original, patch)
        if kind != "map":
            if deletion:
                dropped = {scalar_key(v) for v in patch}
                return [v for v in original if scalar_key(v) not in dropped]
            merged: list[Any] = []
            seen: set[tuple[str, Any]] = set()
            for item in original + patch:
                if scalar_key(item) not in seen:
                    seen.add(scalar_key(item))
                    merged.append(item)
            inside, outside = partition(merged, patch, "")
            return normalize_order(inside, outside, patch, original, "", kind)
        if not merge_key:
            raise internal(f"cannot merge lists without merge key for {schema.type_key or ''}")
        original, patch = self._special_items(original, patch, merge_key, schema)
        merged = list(original)
        for item in patch:
            if merge_key not in item:
                raise no_merge_key(item, merge_key)
            position = find_by_key(merged, merge_key, item[merge_key])
            if position >= 0:
                merged[position] = self.merge_map(merged[position], item, schema)
            else:
                merged.append(_take(item, schema)[0])
        inside, outside = partition(merged, patch, merge_key)
        return normalize_order(inside, outside, patch, original, merge_key, kind)

    def _special_items(self, original: list[Any], patch: list[Any], merge_key: str,
                       schema: _Schema) -> tuple[list[Any], list[Any]]:
        """``$patch`` items of a list of maps: ``delete`` removes by merge key, ``replace``
        makes the other items the whole list; ``merge`` is refused, as upstream does."""
        plain: list[Any] = []
        replace = False
        for item in patch:
            if PATCH not in item:
                plain.append(item)
                continue
            directive = item[PATCH]
            if directive == "delete":
                if merge_key not in item:
                    raise no_merge_key(item, merge_key)
                wanted = scalar_key(item[merge_key])
                original = [o for o in original
                            if not (merge_key in o and scalar_key(o[merge_key]) == wanted)]
            elif directive == "replace":
                replace = True
            elif directive == "merge":
                raise internal("merging lists cannot yet be specified in the patch")
            else:
                raise internal(f"unknown patch type: {go_fmt(directive)} in map: {go_fmt(item)}")
        if replace:
            return [_take(i, schema)[0] for i in plain], []
        return original, plain

    def _ordered_lists(self, result: dict[str, Any], patch: dict[str, Any], schema: _Schema
                       ) -> set[str]:
        """``$setElementOrder/<field>``: merge that field's list and order it as the
        directive says, then the patch's order, then the live order. Returns the fields
        done here."""
        done: set[str] = set()
        for key, order in patch.items():
            if not key.startswith(ORDER_PREFIX):
                continue
            if not isinstance(order, list):
                raise bad_arg_type("[]interface {}", order)
            target = key.split("/", 1)
            if len(target) < 2 or target[0] != ORDER_PREFIX:
                raise bad_request(BAD_ORDER_LIST)
            name = target[1]
            live = result.get(name, _ABSENT)
            wanted = patch.get(name, _ABSENT)
            if live is not _ABSENT and not isinstance(live, list):
                raise bad_arg_type("[]interface {}", live)
            if wanted is not _ABSENT and not isinstance(wanted, list):
                raise bad_arg_type("[]interface {}", wanted)
            sub, found = schema.lookup(name)
            merge_key = _merge_key(found)
            live_list: list[Any] = live if isinstance(live, list) else []
            wanted_list: list[Any] = wanted if isinstance(wanted, list) else []
            _check_order(wanted_list, order, merge_key)
            if live is _ABSENT and wanted is _ABSENT:
                continue
            if wanted is _ABSENT:
                merged = live_list
            elif live is _ABSENT:
                merged = _take(wanted_list, sub,
                               drop_directives=self.semantics.new_values_lose_directives)[0]
            else:
                merged = self.merge_list_field(live_list, wanted_list, sub, found, deletion=False)
            inside, outside = partition(merged, order, merge_key)
            kind = element_kind(live_list, wanted_list)
            result[name] = normalize_order(inside, outside, order, live_list, merge_key, kind)
            done.add(name)
        return done


_ABSENT: Any = object()


def _check_order(patch_list: list[Any], order: list[Any], merge_key: str) -> None:
    """``validatePatchWithSetOrderList``: the patch's items (deletions aside) appear in the
    ``$setElementOrder`` list, in its order."""
    if not order or not patch_list:
        return
    items = patch_list
    if merge_key:
        for item in patch_list:
            if not isinstance(item, dict):
                raise bad_arg_type("map[string]interface {}", item)
        items = [i for i in patch_list if i.get(PATCH) != "delete"]
    p = s = 0
    while p < len(items) and s < len(order):
        if isinstance(items[p], dict) and PATCH in items[p]:
            p += 1
            continue
        if merge_key:
            left, right = items[p], order[s]
            if not isinstance(right, dict):
                raise bad_arg_type("map[string]interface {}", right)
            if merge_key not in left:
                raise no_merge_key(left, merge_key)
            if merge_key not in right:
                raise no_merge_key(right, merge_key)
            equal = scalar_key(left[merge_key]) == scalar_key(right[merge_key])
        else:
            equal = scalar_key(items[p]) == scalar_key(order[s])
        if equal:
            p += 1
        s += 1
    if p < len(items):
        raise internal(f"The order in patch list:\n{go_fmt(patch_list)}\n doesn't match "
                        f"{ORDER_PREFIX} list:\n{go_fmt(order)}\n")


def strategic_merge_patch(doc: Any, patch: Any, api: PackageApi, type_key: str | None) -> Any:
    """Apply a strategic merge patch (the decoded ``application/strategic-merge-patch+json``)
    to ``doc``, an object of ``type_key``, with the merge metadata of ``api``.

    As kube-apiserver's ``strategicpatch.StrategicMergeMapPatch``: lists whose field says
    ``patchStrategy: merge`` merge (maps by ``patchMergeKey``, scalars as sets) with patch
    items first in the patch's order, live-only items after them in the live order
    wherever the live list orders both; other lists are replaced; maps merge
    recursively; ``null`` deletes; ``$patch: replace|delete`` in maps and list items,
    ``$retainKeys``, ``$deleteFromPrimitiveList/<field>`` and ``$setElementOrder/<field>``
    act as upstream, and refused directives raise :class:`PatchError` with the server's
    status (400 for malformed directives, 500 for the others).

    A property the tables do not describe (an unknown ``type_key``, a free-form value)
    merges like a JSON merge patch: objects recursively, lists replaced. On the server
    such a property never reaches a merge (the typed live object cannot hold it), so
    this choice is only visible for free-form objects, which upstream cannot look up
    either. Values the server takes from the patch as they are (new keys, replaced lists
    and maps, appended items) come out as its typed round trip leaves them: ``null`` is
    ``""`` in a map or list of strings and omitted elsewhere, directive keys vanish from
    objects (see ``_take``), and the version differences of ``api.kubernetes_version``
    are kept (before 1.23 a deletion list for a missing list sets it; before 1.24 new
    values keep ``null`` members; before 1.28 they keep ``$patch`` maps and a deletion
    list on a list without merge strategy replaces it).
    """
    if patch is None:
        return doc
    if not isinstance(patch, dict):
        raise bad_request(
            f"json: cannot unmarshal {go_json_kind(patch)} into Go value of type map[string]interface {{}}")
    return _Strategic(_semantics(api.kubernetes_version)).merge_map(
        doc, patch, _Schema(api, type_key))


@functools.lru_cache(maxsize=64)
def _semantics(version: str) -> _Semantics:
    """The semantics of a server version (a pure function of the version string: made
    once per version, not per patch)."""
    return _Semantics(delete_missing_is_noop=version_at_least(version, 23),
                      delete_any_strategy=version_at_least(version, 28),
                      new_values_lose_nulls=version_at_least(version, 24),
                      new_values_lose_directives=version_at_least(version, 28))
