"""RFC 6902 JSON patch as kube-apiserver applies it (``evanphx/json-patch`` v4)."""

from __future__ import annotations

import re
from typing import Any

from ._common import (
    PatchError,
    bad_request,
    decodes_first,
    go_json_kind,
    invalid,
    json_equal,
    version_at_least,
)

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
                if not json_equal(self.root, value):
                    raise _Missing
                return
            container, key = self._parent(op.get("path"), write=False)
            current = self._get(container, key)
            if current is None:
                if value is not None:
                    raise _Missing
            elif value is None or not json_equal(current, value):
                raise _Missing
        else:
            raise _Missing


def _check_operations(operations: list[Any]) -> None:
    """What decoding the body into ``[]handlers.jsonPatchOp`` refuses (1.25+)."""
    for op in operations:
        if op is None:
            continue
        if not isinstance(op, dict):
            raise bad_request("error decoding patch: json: cannot unmarshal "
                               f"{go_json_kind(op)} into Go value of type handlers.jsonPatchOp")
        for name in ("op", "path", "from"):
            value = op.get(name)
            if value is not None and not isinstance(value, str):
                raise bad_request(
                    f"error decoding patch: json: cannot unmarshal {go_json_kind(value)} into Go "
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
    if decodes_first(kubernetes_version, field_validation):
        if not isinstance(operations, list):
            raise bad_request("error decoding patch: json: cannot unmarshal "
                               f"{go_json_kind(operations)} into Go value of type []handlers.jsonPatchOp")
        _check_operations(operations)
    if not isinstance(operations, list):
        raise bad_request(
            f"json: cannot unmarshal {go_json_kind(operations)} into Go value of type jsonpatch.Patch")
    for op in operations:
        if op is not None and not isinstance(op, dict):
            raise bad_request(
                f"json: cannot unmarshal {go_json_kind(op)} into Go value of type jsonpatch.Operation")
    if len(operations) > MAX_JSON_PATCH_OPERATIONS:
        raise PatchError(413, "RequestEntityTooLarge",
                         "Request entity too large: The allowed maximum operations in a JSON patch is "
                         f"{MAX_JSON_PATCH_OPERATIONS}, got {len(operations)}")
    state = _JsonPatch(doc, version_at_least(kubernetes_version, 23))
    try:
        for op in operations:
            state.apply(op)
    except (_Missing, IndexError) as exc:
        raise invalid() from exc
    return state.root
