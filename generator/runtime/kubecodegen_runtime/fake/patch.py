"""The three patch engines of the fake API server: JSON patch, JSON merge patch, strategic merge.

Each is a pure function over decoded JSON values (``dict``/``list``/``str``/``int``/
``float``/``bool``/``None``): it never mutates its inputs, and its result shares every
subtree the patch did not touch with them (copy on write), so a patch costs what it
changes, not the size of the document. Callers that mutate a result in place must copy
it first.

The rules are not the RFCs' alone but those of the libraries kube-apiserver runs, because
the fake must answer what the real server answers:

* JSON patch (RFC 6902) as ``github.com/evanphx/json-patch`` v4 applies it, quirks
  included: ``replace`` of a missing object member adds it, ``test`` of a missing member
  against ``null`` succeeds, negative array indices count from the end, a pointer without
  a leading ``/`` is read from its second token, an operation without ``value`` uses
  ``null``. Kubernetes before 1.23 (library v4.9, v4.11) refuses the whole-document pointer
  ``""``, and a negative index where it reads (``replace``, ``test``, a parent) makes
  its handler panic and drop the connection, which the fake answers with the 422;
  later versions (v4.12) accept both.
* JSON merge patch (RFC 7386) as the same library applies it: ``null`` deletes, a value
  the document lacks is taken with its ``null`` members pruned (and, before 1.22, its
  ``null`` array items).
  A patch that is not an object is refused as the server refuses it (it only patches
  objects).
* Strategic merge patch as ``k8s.io/apimachinery/pkg/util/strategicpatch`` applies it on
  the server, with the merge metadata of the package's OpenAPI tables
  (:class:`~kubecodegen_runtime.fake.schema.PackageApi`).

Errors are :class:`PatchError` values carrying the HTTP status, the Status reason and
message the real server sends (a ``reason`` of ``""`` is a Status without a reason: the
500 answer kube-apiserver gives for a plain Go error).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .schema import Field, PackageApi

__all__ = ["PatchError", "json_patch", "merge_patch", "strategic_merge_patch"]


class PatchError(Exception):
    """A patch the server refuses; carries the HTTP status and Status reason the real
    kube-apiserver answers.

    ``details`` is the Status' ``details`` object where the server sends one (``{}`` for
    the generic 422 of a failed JSON patch), ``None`` where it sends none.
    """

    def __init__(self, status: int, reason: str, message: str, *,
                 details: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{status} {reason or 'Failure'}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.details = details


#: What kube-apiserver answers for every JSON patch that does not apply (and for the
#: strategic-merge errors it classes as invalid): a generic 422 without causes.
_GENERIC_INVALID = "the server rejected our request due to an error in our request"


def _invalid() -> PatchError:
    return PatchError(422, "Invalid", _GENERIC_INVALID, details={})


def _bad_request(message: str) -> PatchError:
    return PatchError(400, "BadRequest", message)


def _internal(message: str) -> PatchError:
    return PatchError(500, "", message)


def _version_at_least(version: str, minor: int) -> bool:
    """Whether a ``v1.N.x`` version string is 1.``minor`` or later; unknown means newest."""
    found = re.match(r"v?(\d+)\.(\d+)", version)
    if found is None:
        return True
    return (int(found.group(1)), int(found.group(2))) >= (1, minor)


# --- how Go prints values in the messages the server sends ----------------------------


def _go_type(value: Any) -> str:
    """``reflect.TypeOf(v)`` of a value decoded by ``encoding/json``."""
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    return "%!s(<nil>)"


def _go_json_kind(value: Any) -> str:
    """The JSON kind ``encoding/json`` names in an UnmarshalTypeError."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number"


def _go_fmt(value: Any) -> str:
    """``fmt.Sprintf("%v", v)`` of a decoded JSON value (maps print with sorted keys)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_fmt(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_fmt(v) for v in value) + "]"
    return str(value)


def _json_equal(left: Any, right: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, and ``1`` is not ``1.0`` (the libraries
    compare numbers by their text)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(v, right[k]) for k, v in left.items())
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_json_equal, left, right))
    return type(left) is type(right) and left == right


# --- RFC 6902 ------------------------------------------------------------------------

#: kube-apiserver refuses longer JSON patches with 413 (``maxJSONPatchOperations``).
MAX_JSON_PATCH_OPERATIONS = 10000

_INDEX = re.compile(r"[+-]?[0-9]+\Z")
_UNESCAPE = re.compile(r"~[01]")


class _Missing(Exception):
    """An operation that does not apply (the server answers a generic 422)."""


class _CopyOnWrite:
    """Containers this patch made itself may be changed in place; others are copied first.

    Keeps the copies alive so that their ids stay unique for the patch's lifetime.
    """

    def __init__(self) -> None:
        self._owned: dict[int, Any] = {}

    def own(self, value: Any) -> Any:
        if id(value) in self._owned:
            return value
        copied: Any = dict(value) if isinstance(value, dict) else list(value)
        self._owned[id(copied)] = copied
        return copied


def _tokens(path: Any) -> tuple[list[str], str]:
    """The parent tokens and the last token of a pointer, as evanphx/json-patch splits it."""
    if not isinstance(path, str):
        raise _Missing
    split = path.split("/")
    if len(split) < 2:
        raise _Missing
    return [_unescape(t) for t in split[1:-1]], _unescape(split[-1])


def _unescape(token: str) -> str:
    """RFC 6901 in one pass: ``~1`` is ``/``, ``~0`` is ``~`` (so ``~01`` is ``~1``)."""
    return _UNESCAPE.sub(lambda m: "/" if m.group(0) == "~1" else "~", token)


def _array_index(key: str, size: int, *, negative: bool) -> int:
    if not _INDEX.match(key):
        raise _Missing
    index = int(key)
    if index < 0:
        if not negative or index < -size:
            raise _Missing
        index += size
    if index >= size:
        raise _Missing
    return index


def _deep_copy(value: Any) -> Any:
    """A copy sharing no container with ``value`` (a copied value must not share the
    containers this patch may still change in place)."""
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


class _JsonPatch:
    """One application of an RFC 6902 patch (evanphx/json-patch v4 semantics)."""

    def __init__(self, doc: Any, modern: bool) -> None:
        self.root = doc
        self.modern = modern
        self.cow = _CopyOnWrite()

    def _parent(self, path: Any, *, write: bool) -> tuple[Any, str]:
        """The container a pointer's last token addresses; copied on the way when writing."""
        parents, key = _tokens(path)
        if write:
            self.root = self.cow.own(self.root)
        node = self.root
        for token in parents:
            if isinstance(node, dict):
                child = node.get(token)
                slot: Any = token
            else:
                slot = _array_index(token, len(node), negative=self.modern)
                child = node[slot]
            if not isinstance(child, (dict, list)):
                raise _Missing
            if write:
                child = self.cow.own(child)
                node[slot] = child
            node = child
        return node, key

    def _get(self, container: Any, key: str) -> Any:
        if isinstance(container, dict):
            return container.get(key)
        return container[_array_index(key, len(container), negative=self.modern)]

    @staticmethod
    def _add(container: Any, key: str, value: Any) -> None:
        if isinstance(container, dict):
            container[key] = value
        elif key == "-":
            container.append(value)
        else:
            if not _INDEX.match(key):
                raise _Missing
            index = int(key)
            size = len(container) + 1
            if index >= size or index < -size:
                raise _Missing
            container.insert(index + size if index < 0 else index, value)

    def _remove(self, container: Any, key: str) -> None:
        if isinstance(container, dict):
            if key not in container:
                raise _Missing
            del container[key]
        else:
            del container[_array_index(key, len(container), negative=True)]

    def apply(self, op: Any) -> None:
        if not isinstance(op, dict):
            raise _Missing
        kind = op.get("op")
        value = op.get("value")
        if kind == "add":
            container, key = self._parent(op.get("path"), write=True)
            self._add(container, key, value)
        elif kind == "remove":
            container, key = self._parent(op.get("path"), write=True)
            self._remove(container, key)
        elif kind == "replace":
            if self.modern and op.get("path") == "":
                if not isinstance(value, (dict, list)):
                    raise _Missing
                self.root = value
                return
            container, key = self._parent(op.get("path"), write=True)
            self._get(container, key)  # an array index must exist; an object key need not
            if isinstance(container, dict):
                container[key] = value
            else:
                container[_array_index(key, len(container), negative=True)] = value
        elif kind == "move":
            container, key = self._parent(op.get("from"), write=True)
            moved = self._get(container, key)
            self._remove(container, key)
            container, key = self._parent(op.get("path"), write=True)
            self._add(container, key, moved)
        elif kind == "copy":
            container, key = self._parent(op.get("from"), write=False)
            copied = self._get(container, key)
            container, key = self._parent(op.get("path"), write=True)
            self._add(container, key, _deep_copy(copied))
        elif kind == "test":
            if self.modern and op.get("path") == "":
                if not _json_equal(self.root, value):
                    raise _Missing
                return
            container, key = self._parent(op.get("path"), write=False)
            current = self._get(container, key)
            if current is None:
                if value is not None:
                    raise _Missing
            elif value is None or not _json_equal(current, value):
                raise _Missing
        else:
            raise _Missing


def _decodes_first(kubernetes_version: str, field_validation: str) -> bool:
    """Whether the server decodes a JSON or merge patch body on its own first, to report
    unknown and duplicate fields: with ``fieldValidation`` ``Warn`` (the default from
    1.25, when server-side field validation went beta) or ``Strict``."""
    if field_validation:
        return field_validation in ("Warn", "Strict")
    return _version_at_least(kubernetes_version, 25)


def _check_operations(operations: list[Any]) -> None:
    """What decoding the body into ``[]handlers.jsonPatchOp`` refuses (1.25+)."""
    for op in operations:
        if op is None:
            continue
        if not isinstance(op, dict):
            raise _bad_request("error decoding patch: json: cannot unmarshal "
                               f"{_go_json_kind(op)} into Go value of type handlers.jsonPatchOp")
        for name in ("op", "path", "from"):
            value = op.get(name)
            if value is not None and not isinstance(value, str):
                raise _bad_request(
                    f"error decoding patch: json: cannot unmarshal {_go_json_kind(value)} into Go "
                    f"struct field jsonPatchOp.{name} of type string")


def json_patch(doc: Any, operations: Any, *, kubernetes_version: str = "",
               field_validation: str = "") -> Any:
    """Apply an RFC 6902 JSON patch (the decoded ``application/json-patch+json`` body).

    A body that is not an array of objects is a 400 ``BadRequest`` (``null`` is an empty
    patch), one of more than 10000 operations a 413; an operation that does not apply
    (missing path, failed ``test``, index out of range, unknown ``op``) is kube-apiserver's
    generic 422 ``Invalid``.
    ``kubernetes_version`` (``PackageApi.kubernetes_version``; ``""``: newest) selects the
    library generation: before 1.23 the pointer ``""`` and negative read indices fail.
    ``field_validation`` is the request's ``fieldValidation`` (``""``: the server's
    default); from 1.25, unless it is ``Ignore``, the server decodes the body first and
    words its 400 differently.
    """
    if operations is None:
        return doc
    if _decodes_first(kubernetes_version, field_validation):
        if not isinstance(operations, list):
            raise _bad_request("error decoding patch: json: cannot unmarshal "
                               f"{_go_json_kind(operations)} into Go value of type []handlers.jsonPatchOp")
        _check_operations(operations)
    if not isinstance(operations, list):
        raise _bad_request(
            f"json: cannot unmarshal {_go_json_kind(operations)} into Go value of type jsonpatch.Patch")
    for op in operations:
        if op is not None and not isinstance(op, dict):
            raise _bad_request(
                f"json: cannot unmarshal {_go_json_kind(op)} into Go value of type jsonpatch.Operation")
    if len(operations) > MAX_JSON_PATCH_OPERATIONS:
        raise PatchError(413, "RequestEntityTooLarge",
                         "Request entity too large: The allowed maximum operations in a JSON patch is "
                         f"{MAX_JSON_PATCH_OPERATIONS}, got {len(operations)}")
    state = _JsonPatch(doc, _version_at_least(kubernetes_version, 23))
    try:
        for op in operations:
            state.apply(op)
    except (_Missing, IndexError) as exc:
        raise _invalid() from exc
    return state.root


# --- RFC 7386 ------------------------------------------------------------------------


def _prune_nulls(value: Any, null_items: bool) -> Any:
    """A value the document lacks, as evanphx/json-patch adds it: ``null`` members of
    objects dropped at every depth, and ``null`` items of arrays too where ``null_items``
    (library v4.9, Kubernetes before 1.22; v4.11 and later keep them)."""
    if isinstance(value, dict):
        if not any(v is None or isinstance(v, (dict, list)) for v in value.values()):
            return value
        return {k: _prune_nulls(v, null_items) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        if not any((v is None and null_items) or isinstance(v, (dict, list)) for v in value):
            return value
        return [_prune_nulls(v, null_items) for v in value if v is not None or not null_items]
    return value


def _merge_objects(doc: dict[str, Any], patch: dict[str, Any], null_items: bool) -> dict[str, Any]:
    result = dict(doc)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
            continue
        current = result.get(key)
        if current is None or not isinstance(current, dict):
            result[key] = _prune_nulls(value, null_items)
        elif isinstance(value, dict):
            result[key] = _merge_objects(current, value, null_items)
        else:
            result[key] = value  # the library replaces an object by a non-object unpruned
    return result


def merge_patch(doc: Any, patch: Any, *, kubernetes_version: str = "",
                field_validation: str = "") -> Any:
    """Apply an RFC 7386 JSON merge patch (the decoded ``application/merge-patch+json``).

    Members set to ``null`` are deleted, objects merge recursively, anything else
    replaces. kube-apiserver patches objects only, and refuses anything else by version:
    before 1.23 ``null``, a string, number or boolean is its 500 ``Invalid JSON Patch``
    and an array its 422 (the result is no object); 1.23 answers ``Invalid JSON Patch``
    with 400; from 1.25 (``field_validation`` as for :func:`json_patch`) the body is
    decoded first, so anything but an object or ``null`` is a 400 decoding error.
    Before 1.22 (library v4.9) the ``null`` items of an array the patch brings in are
    dropped too.
    """
    null_items = not _version_at_least(kubernetes_version, 22)
    if patch is not None and not isinstance(patch, dict) and _decodes_first(kubernetes_version,
                                                                             field_validation):
        raise _bad_request("error decoding patch: json: cannot unmarshal "
                           f"{_go_json_kind(patch)} into Go value of type map[string]interface {{}}")
    if isinstance(patch, list):
        text = (f'Invalid value: {json.dumps(json.dumps(_prune_nulls(patch, null_items), separators=(",", ":")))}: '
                "couldn't get version/kind; json parse error: json: cannot unmarshal array into "
                'Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; '
                'Kind string "json:\\"kind,omitempty\\"" }')
        raise PatchError(422, "Invalid", f' "" is invalid: patch: {text}', details={
            "causes": [{"reason": "FieldValueInvalid", "message": text, "field": "patch"}]})
    if not isinstance(patch, dict):
        if _version_at_least(kubernetes_version, 23):
            raise _bad_request("Invalid JSON Patch")
        raise _internal("Invalid JSON Patch")
    if not isinstance(doc, dict):
        return _prune_nulls(patch, null_items)
    return _merge_objects(doc, patch, null_items)


# --- strategic merge patch -------------------------------------------------------------

_PATCH = "$patch"
_RETAIN_KEYS = "$retainKeys"
_DELETE_PREFIX = "$deleteFromPrimitiveList"
_ORDER_PREFIX = "$setElementOrder"

_BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
_BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
_BAD_ORDER_LIST = "invalid patch format of setElementOrder list"


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


@dataclass(frozen=True, slots=True)
class _Schema:
    """Where the merge is in the package's types: an object of ``type_key``, or (``map``)
    a map whose values are of ``type_key``."""

    api: PackageApi
    type_key: str | None
    map: bool = False

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


def _no_merge_key(item: Any, merge_key: str) -> PatchError:
    return _internal(f"map: {_go_fmt(item)} does not contain declared merge key: {merge_key}")


def _bad_arg_type(expected: str, actual: Any) -> PatchError:
    return _internal(f"expected a {expected}, but received a {_go_type(actual)}")


def _is_directive_key(key: str) -> bool:
    return key in (_PATCH, _RETAIN_KEYS) or key.startswith((_DELETE_PREFIX, _ORDER_PREFIX))


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
        if drop_directives and _PATCH in value:
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


def _kind(value: Any) -> str:
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


def _element_kind(*lists: list[Any]) -> str:
    """``sliceElementType``: the one kind of every item of the lists."""
    previous = ""
    for items in lists:
        for item in items:
            kind = _kind(item)
            if not previous:
                if kind == "slice":
                    raise _invalid()  # lists of lists are not supported
                previous = kind
            elif kind != previous:
                raise _internal("list element types are not identical: "
                                + _go_fmt(list(lists)))
    if not previous:
        raise _internal("no elements in any of the given slices")
    return previous


def _scalar_key(value: Any) -> tuple[str, Any]:
    """Go interface equality of scalars, as a hashable key: the kind counts (``true`` is
    not ``1``); a map or list (which Go cannot compare) is keyed by its JSON text."""
    if isinstance(value, (dict, list)):
        return _kind(value), json.dumps(value, sort_keys=True)
    return _kind(value), value


def _key_of(item: Any, merge_key: str, kind: str) -> tuple[str, Any]:
    """What ``index`` compares: the merge key's value of a map, the item itself otherwise."""
    if kind == "map":
        return _scalar_key(item.get(merge_key)) if isinstance(item, dict) else ("nil", None)
    return _scalar_key(item)


def _positions(order: list[Any], merge_key: str, kind: str) -> dict[tuple[str, Any], int]:
    """``index`` for every key at once: the first position of each key in ``order``."""
    found: dict[tuple[str, Any], int] = {}
    for position, item in enumerate(order):
        found.setdefault(_key_of(item, merge_key, kind), position)
    return found


def _find_by_key(items: list[Any], merge_key: str, value: Any) -> int:
    """``findMapInSliceBasedOnKeyValue``: the position of the first map whose merge key
    equals ``value``, or -1."""
    wanted = _scalar_key(value)
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise _internal(f"value for key {position} is not a map")
        if merge_key in item and _scalar_key(item[merge_key]) == wanted:
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
                    raise _bad_arg_type("map[string]interface {}", item)
                if merge_key not in item:
                    raise _no_merge_key(item, merge_key)
        deletions = [i for i in items if i.get(_PATCH) == "delete"]
        items = [i for i in items if i.get(_PATCH) != "delete"]
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


def _normalize_order(patch_items: list[Any], server_only: list[Any], patch_order: list[Any],
                     server_order: list[Any], merge_key: str, kind: str) -> list[Any]:
    """Patch items in the patch's order, server-only items in the live order, interleaved."""
    patch_items = _sort_by(patch_items, patch_order, merge_key, kind)
    server_only = _sort_by(server_only, server_order, merge_key, kind)
    return _interleave(server_only, patch_items, server_order, merge_key, kind)


def _partition(merged: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """Items of ``merged`` that ``by`` names, and the others (by merge key for maps)."""
    inside: list[Any] = []
    outside: list[Any] = []
    named: set[tuple[str, Any]] = set()
    if not merge_key:
        named.update(_scalar_key(v) for v in by)
        for item in merged:
            (inside if _scalar_key(item) in named else outside).append(item)
        return inside, outside
    for position, item in enumerate(by):
        if not isinstance(item, dict):
            raise _internal(f"value for key {position} is not a map")
        if merge_key in item:
            named.add(_scalar_key(item[merge_key]))
    for item in merged:
        if not isinstance(item, dict):
            raise _bad_arg_type("map[string]interface {}", item)
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        (inside if _scalar_key(item[merge_key]) in named else outside).append(item)
    return inside, outside


class _Strategic:
    """One application of a strategic merge patch."""

    def __init__(self, semantics: _Semantics) -> None:
        self.semantics = semantics

    # maps -------------------------------------------------------------------------

    def merge_map(self, original: Any, patch: dict[str, Any], schema: _Schema) -> Any:
        if _PATCH in patch:
            directive = patch[_PATCH]
            if directive == "replace":
                return _take({k: v for k, v in patch.items() if k != _PATCH}, schema)[0]
            if directive == "delete":
                return {}
            raise _internal(f"unknown patch type: {_go_fmt(directive)} in map: {_go_fmt(patch)}")
        result: dict[str, Any] = dict(original) if isinstance(original, dict) else {}
        if _RETAIN_KEYS in patch:
            self._retain_keys(result, patch)
        done = self._ordered_lists(result, patch, schema)
        deletions: list[tuple[str, Any]] = []
        for key, value in patch.items():
            if key in done or key == _RETAIN_KEYS or key.startswith(_ORDER_PREFIX):
                continue
            if key.startswith(_DELETE_PREFIX):
                deletions.append((key, value))
                continue
            self._merge_key(result, key, value, schema, deletion=False)
        for key, value in deletions:
            target = key.split("/", 1)
            if len(target) < 2 or target[0] != _DELETE_PREFIX:
                raise _bad_request(_BAD_PRIMITIVE_LIST)
            self._merge_key(result, target[1], value, schema, deletion=True)
        return result

    def _retain_keys(self, result: dict[str, Any], patch: dict[str, Any]) -> None:
        """``$retainKeys``: every field the patch sets must be listed; the live object's
        fields that are not listed are cleared."""
        retained = patch[_RETAIN_KEYS]
        if not isinstance(retained, list):
            raise _bad_request(_BAD_RETAIN_KEYS)
        names = {v for v in retained if isinstance(v, str)}
        for key, value in patch.items():
            if key == _RETAIN_KEYS or value is None or key.startswith((_DELETE_PREFIX, _ORDER_PREFIX)):
                continue
            if key not in names:
                raise _bad_request(_BAD_RETAIN_KEYS)
        for key in [k for k in result if k not in names]:
            del result[key]

    def _merge_key(self, result: dict[str, Any], key: str, value: Any, schema: _Schema, *,
                   deletion: bool) -> None:
        if value is None:
            result.pop(key, None)
            return
        current = result.get(key, _ABSENT)
        if current is _ABSENT or _kind(current) != _kind(value):
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
        kind = _element_kind(original, patch)
        if kind != "map":
            if deletion:
                dropped = {_scalar_key(v) for v in patch}
                return [v for v in original if _scalar_key(v) not in dropped]
            merged: list[Any] = []
            seen: set[tuple[str, Any]] = set()
            for item in original + patch:
                if _scalar_key(item) not in seen:
                    seen.add(_scalar_key(item))
                    merged.append(item)
            inside, outside = _partition(merged, patch, "")
            return _normalize_order(inside, outside, patch, original, "", kind)
        if not merge_key:
            raise _internal(f"cannot merge lists without merge key for {schema.type_key or ''}")
        original, patch = self._special_items(original, patch, merge_key, schema)
        merged = list(original)
        for item in patch:
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            position = _find_by_key(merged, merge_key, item[merge_key])
            if position >= 0:
                merged[position] = self.merge_map(merged[position], item, schema)
            else:
                merged.append(_take(item, schema)[0])
        inside, outside = _partition(merged, patch, merge_key)
        return _normalize_order(inside, outside, patch, original, merge_key, kind)

    def _special_items(self, original: list[Any], patch: list[Any], merge_key: str,
                       schema: _Schema) -> tuple[list[Any], list[Any]]:
        """``$patch`` items of a list of maps: ``delete`` removes by merge key, ``replace``
        makes the other items the whole list; ``merge`` is refused, as upstream does."""
        plain: list[Any] = []
        replace = False
        for item in patch:
            if _PATCH not in item:
                plain.append(item)
                continue
            directive = item[_PATCH]
            if directive == "delete":
                if merge_key not in item:
                    raise _no_merge_key(item, merge_key)
                wanted = _scalar_key(item[merge_key])
                original = [o for o in original
                            if not (merge_key in o and _scalar_key(o[merge_key]) == wanted)]
            elif directive == "replace":
                replace = True
            elif directive == "merge":
                raise _internal("merging lists cannot yet be specified in the patch")
            else:
                raise _internal(f"unknown patch type: {_go_fmt(directive)} in map: {_go_fmt(item)}")
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
            if not key.startswith(_ORDER_PREFIX):
                continue
            if not isinstance(order, list):
                raise _bad_arg_type("[]interface {}", order)
            target = key.split("/", 1)
            if len(target) < 2 or target[0] != _ORDER_PREFIX:
                raise _bad_request(_BAD_ORDER_LIST)
            name = target[1]
            live = result.get(name, _ABSENT)
            wanted = patch.get(name, _ABSENT)
            if live is not _ABSENT and not isinstance(live, list):
                raise _bad_arg_type("[]interface {}", live)
            if wanted is not _ABSENT and not isinstance(wanted, list):
                raise _bad_arg_type("[]interface {}", wanted)
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
            inside, outside = _partition(merged, order, merge_key)
            kind = _element_kind(live_list, wanted_list)
            result[name] = _normalize_order(inside, outside, order, live_list, merge_key, kind)
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
                raise _bad_arg_type("map[string]interface {}", item)
        items = [i for i in patch_list if i.get(_PATCH) != "delete"]
    p = s = 0
    while p < len(items) and s < len(order):
        if isinstance(items[p], dict) and _PATCH in items[p]:
            p += 1
            continue
        if merge_key:
            left, right = items[p], order[s]
            if not isinstance(right, dict):
                raise _bad_arg_type("map[string]interface {}", right)
            if merge_key not in left:
                raise _no_merge_key(left, merge_key)
            if merge_key not in right:
                raise _no_merge_key(right, merge_key)
            equal = _scalar_key(left[merge_key]) == _scalar_key(right[merge_key])
        else:
            equal = _scalar_key(items[p]) == _scalar_key(order[s])
        if equal:
            p += 1
        s += 1
    if p < len(items):
        raise _internal(f"The order in patch list:\n{_go_fmt(patch_list)}\n doesn't match "
                        f"{_ORDER_PREFIX} list:\n{_go_fmt(order)}\n")


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
        raise _bad_request(
            f"json: cannot unmarshal {_go_json_kind(patch)} into Go value of type map[string]interface {{}}")
    version = api.kubernetes_version
    semantics = _Semantics(delete_missing_is_noop=_version_at_least(version, 23),
                           delete_any_strategy=_version_at_least(version, 28),
                           new_values_lose_nulls=_version_at_least(version, 24),
                           new_values_lose_directives=_version_at_least(version, 28))
    return _Strategic(semantics).merge_map(doc, patch, _Schema(api, type_key))
