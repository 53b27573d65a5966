"""Sets of field paths, as structured-merge-diff keeps them for server-side apply.

A manager owns a *set of paths*. A path is a tuple of path elements written exactly as
``fieldsV1`` writes them, so a set converts to and from the wire without a second
vocabulary: ``f:<name>`` (a struct field or a map key), ``k:<json object>`` (a list-map
item by its key fields), ``v:<json value>`` (a set item), ``i:<n>`` (an item by index).

Which values are leaves and which are walked into is the schema's business: a
:class:`Shape` says how the value at one point of an object merges, derived from the
package's :class:`~.schema.Field` tables the way kube-openapi's ``schemaconv`` derives
structured-merge-diff's schema from OpenAPI (a list with a patch merge key is a list-map
keyed by it, ``merge`` without a key a set, anything else atomic). The walk that lists an
object's leaves, :func:`fields_of`, is structured-merge-diff's ``ToFieldSet``: scalars,
atomic lists and maps, list items (the item node itself, written ``.``), map entries and
empty or null struct fields are members; a granular struct with fields is not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from ..managed_fields import FieldsV1Error, parse_fields_v1
from .derived import derived
from .release import NEWEST
from .schema import Field, PackageApi

#: One path element, spelled as in ``fieldsV1``; a path is a tuple of them.
Path = tuple[str, ...]

#: ``leaf``: one field (a scalar, an atomic list/map/struct); ``struct``: named fields of
#: ``type_key``; ``map``: granular map whose values have ``item``'s shape; ``list_map`` /
#: ``set``: associative lists; ``deduced``: a value of unknown schema (maps granular, lists
#: atomic: structured-merge-diff's ``__untyped_deduced_``).
ShapeKind = Literal["leaf", "struct", "map", "list_map", "set", "deduced"]


class FieldSetError(FieldsV1Error):
    """An object that has no field set under its schema (a list-map item without its key
    fields, a ``fieldsV1`` tree that is not one): the server refuses such an apply."""


@dataclass(frozen=True, slots=True)
class Shape:
    """How the value at one point of an object merges (see the module docstring).
    ``key_defaults``: values the server gives a list-map item's missing key fields."""

    kind: ShapeKind
    type_key: str | None = None
    keys: tuple[str, ...] = ()
    item: Shape | None = None
    key_defaults: tuple[tuple[str, Any], ...] = ()


def kube_version(api: PackageApi) -> tuple[int, int]:
    """``(major, minor)`` of the package's Kubernetes (:func:`~.release.release`)."""
    return derived(api).version


def nested_sets(api: PackageApi) -> bool:
    """structured-merge-diff 4.0.3 (Kubernetes 1.21): an empty or null struct field is a
    field of the configuration, and a struct nobody owns any more is pruned whole."""
    return kube_version(api) >= (1, 21)


LEAF = Shape("leaf")
DEDUCED = Shape("deduced")


def root_shape(type_key: str | None) -> Shape:
    """The shape of a whole object of ``type_key`` (``None``: schema unknown, deduced)."""
    if type_key is None:
        return DEDUCED
    found = _ROOTS.get(type_key)
    if found is None:
        if len(_ROOTS) >= 4096:
            _ROOTS.clear()
        found = _ROOTS[type_key] = Shape("struct", type_key)
    return found


_ROOTS: dict[str, Shape] = {}


def _element_shape(field: Field) -> Shape:
    return Shape("struct", field.type) if field.type is not None else LEAF


def field_shape(field: Field | None, version: tuple[int, int] = NEWEST) -> Shape:
    """The shape of a property described by ``field`` (``None``: a scalar or free-form
    value, which the package's tables leave out and which merges atomically)."""
    if field is None:
        return LEAF
    if field.container == "list":
        relationship, keys = list_relationship(field)
        if relationship == "map":
            since, defaults = _KEY_DEFAULTS.get(keys, ((0, 0), {}))
            return Shape("list_map", field.type, keys, _element_shape(field),
                         tuple(defaults.items()) if version >= since else ())
        if relationship == "set":
            return Shape("set", field.type, (), _element_shape(field))
        return LEAF
    if field.map_type == "atomic":
        return LEAF
    if field.container == "map":
        # values of no known type (strings, or a free-form object's anything) merge as
        # structured-merge-diff's deduced type: nested objects key by key, lists whole
        item = Shape("struct", field.type) if field.type is not None else DEDUCED
        return Shape("map", field.type, (), item)
    return Shape("struct", field.type) if field.type is not None else LEAF


def list_relationship(field: Field) -> tuple[str, tuple[str, ...]]:
    """``(map, keys)``, ``(set, ())`` or ``(atomic, ())`` for a list property.

    ``x-kubernetes-list-type`` decides; without it, the strategic-merge extensions do, as
    the API server's OpenAPI-to-schema conversion reads them: ``merge`` (or
    ``merge,retainKeys``) with a merge key is a list-map keyed by it, ``merge`` alone a
    set, anything else (``retainKeys``, ``replace``, nothing) atomic.
    """
    if field.list_type == "map":
        return "map", tuple(field.list_map_keys)
    if field.list_type in ("set", "atomic"):
        return field.list_type, ()
    if field.patch_strategy in ("merge", "merge,retainKeys"):
        if field.patch_merge_key:
            return "map", (field.patch_merge_key,)
        return "set", ()
    return "atomic", ()


def child_shape(api: PackageApi, shape: Shape, name: str) -> Shape:
    """The shape of field/key ``name`` of a struct, map or deduced value."""
    kind = shape.kind
    if kind == "struct":
        tables = derived(api)
        key = (shape.type_key, name)
        found: Shape | None = tables.children.get(key)
        if found is None:
            found = tables.children[key] = field_shape(api.field(shape.type_key, name),
                                                       tables.version)
        return found
    if kind == "map":
        return shape.item or LEAF
    if kind == "deduced":
        return DEDUCED
    return LEAF


#: List-map key fields the API server defaults before it names an item, so that
#: ``{"containerPort": 80}`` is the item ``k:{"containerPort":80,"protocol":"TCP"}`` (the
#: server's own schema has the default; the published spec does not say so). Keyed by the
#: list's key fields, with the first Kubernetes version that defaults them: container
#: ports from 1.20, Service ports from 1.21 (kubernetes#98576); before, an item without
#: ``protocol`` fails the apply.
_KEY_DEFAULTS: Mapping[tuple[str, ...], tuple[tuple[int, int], Mapping[str, Any]]] = {
    ("containerPort", "protocol"): ((1, 20), {"protocol": "TCP"}),
    ("port", "protocol"): ((1, 21), {"protocol": "TCP"}),
}


def item_key(shape: Shape, item: Any, path: Path | None = None, index: int = 0) -> str:
    """The path element naming ``item`` (the ``index``-th of the list at ``path``, for
    the error message) of a list-map or set ``shape``."""
    if shape.kind == "set":
        if type(item) in _MEMO_SCALARS:
            memo_key: tuple[Any, ...] = (type(item), item)
            found = _ITEM_KEYS.get(memo_key)
            if found is None:
                found = _remember_item_key(memo_key, "v:" + go_json(item))
            return found
        return "v:" + go_json(item)
    if type(item) is dict:
        # The usual item: a dict with all its key fields, of scalar values. Its element is
        # a function of the key fields' names, types and values alone, so it is looked up
        # instead of JSON-encoded (``json.dumps`` was most of a list-map walk). The type is
        # part of the key so that ``True`` and ``1`` never share an answer.
        values: list[tuple[type, Any]] = []
        for name in shape.keys:
            value = item.get(name, MISSING_KEY)
            if type(value) not in _MEMO_SCALARS:
                break  # absent (a default may apply), or not memoized: the general way
            values.append((type(value), value))
        else:
            memo_key = (shape.keys, *values)
            found = _ITEM_KEYS.get(memo_key)
            if found is None:
                found = _remember_item_key(memo_key, "k:" + go_json(
                    {name: item[name] for name in shape.keys}))
            return found
    defaults = dict(shape.key_defaults)
    keys: dict[str, Any] = {}
    for name in shape.keys:
        if isinstance(item, Mapping) and name in item:
            keys[name] = item[name]
        elif name in defaults:
            keys[name] = defaults[name]
        else:
            where = "" if path is None else f"{path_string(path)}: element {index}: "
            raise FieldSetError(f"{where}associative list with keys has an element that "
                                f'omits key field "{name}" (and doesn\'t have default value)')
    return "k:" + go_json(keys)


#: The scalar types whose values name list items through :data:`_ITEM_KEYS` (not
#: ``float``: ``0.0 == -0.0`` but they are written differently).
_MEMO_SCALARS = frozenset({str, int, bool, type(None)})
#: item_key's answers for items whose key values are all of ``_MEMO_SCALARS``.
_ITEM_KEYS: dict[tuple[Any, ...], str] = {}


#: Stands for an absent key field (no JSON value is it).
MISSING_KEY: Any = object()


def _remember_item_key(memo_key: tuple[Any, ...], element: str) -> str:
    if len(_ITEM_KEYS) >= _MEMO_SIZE:
        _ITEM_KEYS.clear()
    _ITEM_KEYS[memo_key] = element
    return element


def go_json(value: Any) -> str:
    """JSON as the API server's encoder writes it in path elements: compact, object keys
    sorted, ``<``, ``>``, ``&``, U+2028 and U+2029 escaped, other text as is."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    if _GO_ESCAPED.search(text):
        text = _GO_ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


_GO_ESCAPED = re.compile("[<>&\u2028\u2029]")


class FieldSet:
    """An immutable set of paths (the *members*; a path's prefixes are not members unless
    listed). ``fieldsV1`` writes a member that has members below it with a ``.`` key."""

    __slots__ = ("_paths",)

    def __init__(self, paths: Iterable[Path] = ()) -> None:
        self._paths: frozenset[Path] = frozenset(tuple(p) for p in paths)

    @classmethod
    def _of(cls, paths: frozenset[Path]) -> FieldSet:
        """A set over ``paths`` as they are (already tuples): the set algebra's results."""
        made = cls.__new__(cls)
        made._paths = paths
        return made

    @property
    def paths(self) -> frozenset[Path]:
        return self._paths

    def __iter__(self) -> Iterator[Path]:
        return iter(sorted(self._paths, key=path_order))

    def __len__(self) -> int:
        return len(self._paths)

    def __bool__(self) -> bool:
        return bool(self._paths)

    def __contains__(self, path: object) -> bool:
        return path in self._paths

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldSet) and other._paths == self._paths

    def __hash__(self) -> int:
        return hash(self._paths)

    def __repr__(self) -> str:
        return f"FieldSet({[path_string(p) for p in self]!r})"

    def union(self, *others: FieldSet) -> FieldSet:
        if len(others) == 1:
            return FieldSet._of(self._paths | others[0]._paths)
        return FieldSet._of(self._paths.union(*(o._paths for o in others)))

    def difference(self, other: FieldSet) -> FieldSet:
        return FieldSet._of(self._paths - other._paths)

    def intersection(self, other: FieldSet) -> FieldSet:
        return FieldSet._of(self._paths & other._paths)

    __or__ = union
    __sub__ = difference
    __and__ = intersection

    def with_prefix(self, prefix: Path) -> FieldSet:
        """The members strictly below ``prefix``, with ``prefix`` taken off."""
        n = len(prefix)
        return FieldSet(p[n:] for p in self._paths if len(p) > n and p[:n] == prefix)

    def has_below(self, prefix: Path) -> bool:
        """Whether a member lies strictly below ``prefix``."""
        n = len(prefix)
        return any(len(p) > n and p[:n] == prefix for p in self._paths)

    @classmethod
    def from_fields_v1(cls, tree: Mapping[str, Any] | str | bytes | None) -> FieldSet:
        """The set a ``fieldsV1`` tree (decoded, or its JSON text) describes: an empty node
        or one with ``.`` is a member. (Memoized by the tree's JSON: every write reads the
        stored object's entries again, and they rarely change.)"""
        parsed = parse_fields_v1(tree)
        try:
            key = _encode(parsed)
        except (TypeError, msgspec.EncodeError):
            return cls._of(_fields_v1_paths(parsed))
        found = _FROM_FIELDS_V1.get(key)
        if found is None:
            found = cls._of(_fields_v1_paths(parsed))
            if len(_FROM_FIELDS_V1) >= _MEMO_SIZE:
                _FROM_FIELDS_V1.clear()
            _FROM_FIELDS_V1[key] = found
        return found

    def to_fields_v1(self) -> dict[str, Any]:
        """The ``fieldsV1`` tree of this set, keys in the server's order (sorted); a fresh
        tree on every call (made once per set, then decoded from its JSON)."""
        encoded = _TO_FIELDS_V1.get(self._paths)
        if encoded is None:
            encoded = _encode(self._tree())
            if len(_TO_FIELDS_V1) >= _MEMO_SIZE:
                _TO_FIELDS_V1.clear()
            _TO_FIELDS_V1[self._paths] = encoded
        tree: dict[str, Any] = _decode(encoded)
        return tree

    def _tree(self) -> dict[str, Any]:
        root: dict[str, Any] = {}
        for path in self._paths:
            node = root
            for element in path:
                node = node.setdefault(element, {})
        for path in self._paths:
            node = root
            for element in path:
                node = node[element]
            if node:
                node["."] = {}
        return _sorted_tree(root)


#: How many field sets each memo keeps (beyond, it starts over).
_MEMO_SIZE = 4096
_FROM_FIELDS_V1: dict[bytes, FieldSet] = {}
_TO_FIELDS_V1: dict[frozenset[Path], bytes] = {}
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode


def _fields_v1_paths(tree: Mapping[str, Any]) -> frozenset[Path]:
    paths: list[Path] = []

    def walk(node: Mapping[str, Any], prefix: Path) -> None:
        for key, child in node.items():
            if key == ".":
                continue
            if not isinstance(child, Mapping):
                raise FieldSetError(f"fieldsV1 node {key!r} is not a JSON object")
            path = (*prefix, key)
            if not child or "." in child:
                paths.append(path)
            walk(child, path)

    walk(tree, ())
    return frozenset(paths)


def _sorted_tree(node: dict[str, Any]) -> dict[str, Any]:
    return {key: _sorted_tree(node[key]) for key in sorted(node)}


def fields_of(obj: Any, api: PackageApi, type_key: str | None, *,
              unique: bool = False) -> FieldSet:
    """Every field of ``obj`` (an object in JSON form) as structured-merge-diff's
    ``ToFieldSet`` lists it: what an apply of ``obj`` as its configuration owns.
    ``metadata.managedFields`` is never a field. ``unique``: refuse two items of a
    list-map or set with one key, as the server refuses them in an apply configuration."""
    paths: list[Path] = []
    _walk_fields(api, _without_managed_fields(obj), root_shape(type_key), (), paths,
                 nested_sets(api), unique)
    return FieldSet._of(frozenset(paths))


def _without_managed_fields(obj: Any) -> Any:
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    if isinstance(meta, Mapping) and "managedFields" in meta:
        meta = {k: v for k, v in meta.items() if k != "managedFields"}
        return {**obj, "metadata": meta}
    return obj


def _walk_fields(api: PackageApi, value: Any, shape: Shape, path: Path, out: list[Path],
                 empty_structs: bool, unique: bool) -> None:
    kind = shape.kind
    if kind == "leaf" or (kind == "deduced" and not isinstance(value, Mapping)):
        out.append(path)
        return
    if kind in ("struct", "map", "deduced"):
        if not isinstance(value, Mapping):
            if value is not None:
                out.append(path)  # a scalar where an object belongs: one field, as typed
            return
        for name, child in value.items():
            child_path = (*path, "f:" + name)
            sub = child_shape(api, shape, name)
            _walk_fields(api, child, sub, child_path, out, empty_structs, unique)
            # a map entry is a field itself; a struct field only when it holds nothing
            if kind != "struct" or (empty_structs and (
                    child is None or (isinstance(child, Mapping) and not child))):
                out.append(child_path)
        return
    # list_map / set
    if not isinstance(value, list):
        if value is not None:
            out.append(path)
        return
    item_shape = shape.item or LEAF
    seen: set[str] = set()
    for index, item in enumerate(value):
        element = item_key(shape, item, path, index)
        if unique and element in seen:
            raise FieldSetError(f"{path_string(path)}: duplicate entries for key "
                                f"{element_text(element)}")
        seen.add(element)
        item_path = (*path, element)
        if shape.kind == "set":
            out.append(item_path)
            continue
        _walk_fields(api, item, item_shape, item_path, out, empty_structs, unique)
        out.append(item_path)


def element_text(element: str) -> str:
    """One path element as the server prints it in a conflict (``.name``, ``[name="c"]``,
    ``[=value]``, ``[3]``): structured-merge-diff's ``PathElement.String``."""
    kind, _, text = element.partition(":")
    if kind == "f":
        return "." + text
    if kind == "k":
        keys = json.loads(text)
        return "[" + ",".join(f"{name}={go_json(keys[name])}" for name in sorted(keys)) + "]"
    if kind == "v":
        return f"[={go_json(json.loads(text))}]"
    if kind == "i":
        return f"[{text}]"
    return "{{invalid path element}}"


def path_string(path: Path) -> str:
    """A path as the server prints it: ``.spec.template.spec.containers[name="web"].image``."""
    return "".join(element_text(e) for e in path)


def _element_order(element: str) -> tuple[Any, ...]:
    """structured-merge-diff's order of path elements: fields (by name), then keys (field
    by field: name, then value), then set values, then indices."""
    kind, _, text = element.partition(":")
    try:
        if kind == "f":
            return 0, text
        if kind == "k":
            keys = json.loads(text)
            return 1, tuple((name, _value_order(keys[name])) for name in sorted(keys))
        if kind == "v":
            return 2, _value_order(json.loads(text))
        if kind == "i":
            return 3, int(text)
    except (ValueError, TypeError, AttributeError):
        pass
    return 4, text


def _value_order(value: Any) -> tuple[Any, ...]:
    """structured-merge-diff's ``value.Compare``: numbers, strings, booleans, lists,
    maps, null."""
    if isinstance(value, bool):
        return 2, value
    if isinstance(value, (int, float)):
        return 0, value
    if isinstance(value, str):
        return 1, value
    if isinstance(value, list):
        return 3, tuple(_value_order(v) for v in value)
    if isinstance(value, dict):
        return 4, tuple((k, _value_order(value[k])) for k in sorted(value))
    return 5, ()


def path_order(path: Path) -> tuple[tuple[Any, ...], ...]:
    """The order in which structured-merge-diff iterates a set: at each level the members
    first, then the children, each sorted by element (fields, keys, values, indices)."""
    last = len(path) - 1
    return tuple((0 if i == last else 1, *_element_order(e)) for i, e in enumerate(path))


def iteration_order(fields: FieldSet, *, aliased: bool = False) -> list[Path]:
    """The paths of ``fields`` in the order structured-merge-diff's ``Set.Iterate`` visits
    them (at each level the members, then the children, each sorted).

    ``aliased``: as a conflict list of structured-merge-diff before 4.3 (Kubernetes
    before 1.28) holds them. It kept each visited path without copying it, and the walk
    builds paths by Go ``append`` on a shared prefix, so a later path overwrote the tail
    of an earlier one that shared its backing array: on a 1.20 server a conflict on
    ``.spec.template.spec.tolerations`` followed by one below ``containers`` is reported
    as ``.spec.template.spec.containers``. Reproduced here with Go's slice growth (the
    capacity doubles) so that the fake names the same fields.
    """
    trie: dict[str, Any] = {}
    for path in fields.paths:
        node = trie
        for element in path:
            node = node.setdefault(element, {})
        node[""] = True
    visited: list[tuple[list[str | None], int]] = []

    def append(prefix: tuple[list[str | None], int], element: str) -> tuple[list[str | None], int]:
        array, length = prefix
        if not aliased:
            return [*array[:length], element], length + 1
        if length < len(array):
            array[length] = element  # Go: append within capacity writes the shared array
            return array, length + 1
        grown: list[str | None] = [*array[:length], element]
        grown.extend([None] * (max(1, 2 * len(array)) - len(grown)))
        return grown, length + 1

    def walk(node: dict[str, Any], prefix: tuple[list[str | None], int]) -> None:
        elements = sorted((e for e in node if e), key=_element_order)
        for element in elements:
            if "" in node[element]:
                visited.append(append(prefix, element))
        for element in elements:
            if any(key for key in node[element]):
                walk(node[element], append(prefix, element))

    walk(trie, ([], 0))
    return [tuple(str(e) for e in array[:length]) for array, length in visited]
