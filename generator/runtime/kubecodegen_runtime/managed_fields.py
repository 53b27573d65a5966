"""Which fields of an object a field manager owns: a walk of ``metadata.managedFields``.

Server-side apply records, per manager, the set of fields it owns as a ``fieldsV1`` tree
(structured-merge-diff's ``FieldsV1`` JSON). Its keys say how to step into the object:

* ``f:<name>`` -- the field ``<name>`` of an object or a map;
* ``k:<json object>`` -- the item of an associative list (``x-kubernetes-list-type: map``,
  or a patch merge key) whose key fields have those values: ``k:{"name":"c"}`` for a
  container, ``k:{"port":80,"protocol":"TCP"}`` for a Service port;
* ``v:<json value>`` -- the item of a set (``x-kubernetes-list-type: set``) equal to it;
* ``i:<n>`` -- the item at index ``n`` (a granular list without keys);
* ``.`` -- the manager owns the node itself (a map, a list item) beside its children; a
  node with only ``.`` keeps the map or item but none of its fields.

An empty node owns the whole value below it: a scalar, or an atomic list, map or
struct, which the server tracks as one field. The list semantics (which lists are keyed
and by what) are the server's schema's; each ``k:``/``v:``/``i:`` key carries what it
matches, so the walk needs no schema of its own and cannot disagree with the server's.

:func:`owned` keeps, from an object in its JSON form, exactly what a manager owns: the
apply configuration client-go's ``Extract<Kind>`` returns. List items keep their key
fields (an apply must name the item), whether or not the manager owns them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

#: ``operation`` of an entry recorded by server-side apply (the others are ``Update``).
APPLY = "Apply"


class FieldsV1Error(ValueError):
    """A ``fieldsV1`` tree that does not fit the object it describes (fails loudly: an
    extract that guessed would make the next apply take or drop fields)."""


def owned_fields(managed_fields: Iterable[Mapping[str, Any]], manager: str,
                 subresource: str | None = None) -> dict[str, Any] | None:
    """The union of the ``fieldsV1`` trees ``manager`` applied to ``subresource`` (``None``
    or ``""``: the main resource), or ``None`` when it applied nothing there.

    Only ``Apply`` entries count: what a manager wrote by update is not its apply intent
    (client-go's extract does the same). A server older than 1.22 records no
    ``subresource``; its entries all count as the main resource's.
    """
    wanted = subresource or ""
    trees = [parse_fields_v1(entry.get("fieldsV1")) for entry in managed_fields
             if entry.get("manager") == manager and entry.get("operation") == APPLY
             and (entry.get("subresource") or "") == wanted]
    if not trees:
        return None
    merged: dict[str, Any] = {}
    for tree in trees:
        _merge(merged, tree)
    return merged


def parse_fields_v1(raw: Any) -> dict[str, Any]:
    """One entry's ``fieldsV1`` as a tree: JSON text (as the wire carries it) or an already
    decoded object; ``None`` is the empty tree. Shared with the fake server's field sets."""
    if raw is None:
        return {}
    tree = json.loads(raw) if isinstance(raw, (str, bytes, bytearray)) else raw
    if not isinstance(tree, dict):
        raise FieldsV1Error(f"fieldsV1 is not a JSON object: {type(tree).__name__}")
    return tree


def _merge(into: dict[str, Any], tree: Mapping[str, Any]) -> None:
    for key, child in tree.items():
        if not isinstance(child, Mapping):
            raise FieldsV1Error(f"fieldsV1 node {key!r} is not a JSON object")
        _merge(into.setdefault(key, {}), child)


def owned(value: Any, fields: Mapping[str, Any], path: str = "") -> Any:
    """The part of ``value`` (an object in JSON form) that the ``fields`` tree owns."""
    if not fields:
        return value  # a leaf: the whole value (a scalar, or an atomic list/map/struct)
    if isinstance(value, dict):
        return _owned_object(value, fields, path)
    if isinstance(value, list):
        return _owned_list(value, fields, path)
    raise FieldsV1Error(f"{path or '.'}: fieldsV1 has children below a "
                        f"{type(value).__name__} value")


def _children(fields: Mapping[str, Any]) -> list[str]:
    return [key for key in fields if key != "."]


def _owned_object(value: dict[str, Any], fields: Mapping[str, Any], path: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key in _children(fields):
        if not key.startswith("f:"):
            raise FieldsV1Error(f"{path or '.'}: {key[:2]!r} key in an object (lists only)")
        name = key[2:]
        if name in value:  # an owned field the object no longer has is nothing to keep
            result[name] = owned(value[name], fields[key], f"{path}.{name}")
    return result


def _owned_list(items: list[Any], fields: Mapping[str, Any], path: str) -> list[Any]:
    """Owned items in the object's order (the order an apply sends them in)."""
    keyed: list[tuple[dict[str, Any], Mapping[str, Any]]] = []
    values: list[Any] = []
    indices: dict[int, Mapping[str, Any]] = {}
    for key in _children(fields):
        kind, _, text = key.partition(":")
        try:
            if kind == "k":
                keys = json.loads(text)
                if not isinstance(keys, dict):
                    raise FieldsV1Error(f"{path}: list-map key {text!r} is not a JSON object")
                keyed.append((keys, fields[key]))
            elif kind == "v":
                values.append(json.loads(text))
            elif kind == "i":
                indices[int(text)] = fields[key]
            else:
                raise FieldsV1Error(f"{path}: {key[:2]!r} key in a list (k:, v: or i: expected)")
        except ValueError as exc:
            if isinstance(exc, FieldsV1Error):
                raise
            raise FieldsV1Error(f"{path}: unreadable list key {key!r}") from None
    result: list[Any] = []
    for index, item in enumerate(items):
        where = f"{path}[{index}]"
        match = next(((keys, child) for keys, child in keyed if _has_keys(item, keys)), None)
        if match is not None:
            keys, child = match
            part = owned(item, child, where)
            # the key fields name the item in an apply, owned or not
            result.append({**keys, **part} if isinstance(part, dict) else part)
        elif index in indices:
            result.append(owned(item, indices[index], where))
        elif item in values:
            result.append(item)
    return result


def _has_keys(item: Any, keys: Mapping[str, Any]) -> bool:
    return isinstance(item, dict) and all(item.get(name) == value for name, value in keys.items())
