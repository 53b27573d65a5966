"""The Scheme: which Python class a ``(group, version, kind)`` decodes to, and back.

A generated package has one Scheme built from a plain table
``{(group, version, kind): (module, class name)}``; the module path is relative to the
package (``"models.core_v1"``). Model modules are imported only when a kind from them is
first needed, because importing every API group up front would dominate the start-up
time of a program that only touches Pods. ``yaml`` and ``difflib`` are imported lazily
for the same reason.

Decoding peeks at ``apiVersion``/``kind`` before the typed decode. Server responses
start with those two members, so a match anchored at the start of the document finds
them without scanning a 40 MB list twice; anything else falls back to a msgspec decode
into a two-field struct, which skips the rest of the document in C.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, TypeVar

import msgspec

from . import codec
from .codec import DecodeError
from .meta import GroupVersionKind
from .model import Object

__all__ = ["Scheme", "UnknownKindError", "with_type_meta"]

ObjT = TypeVar("ObjT", bound=Object)
StructT = TypeVar("StructT", bound=msgspec.Struct)
_Key = tuple[str, str, str]


class UnknownKindError(LookupError):
    """No class is registered for an apiVersion/kind; suggests close matches."""

    def __init__(self, api_version: str, kind: str, suggestions: Iterable[str] = (),
                 known: int = 0, where: str = "") -> None:
        self.api_version = api_version
        self.kind = kind
        self.suggestions = list(suggestions)
        message = f"{where}unknown kind {kind!r} in apiVersion {api_version!r}"
        if self.suggestions:
            message += "; did you mean " + " or ".join(self.suggestions) + "?"
        else:
            message += (f"; none of the {known} kinds this scheme knows is close "
                        "(register custom types with scheme.register(cls))")
        super().__init__(message)


class _TypeMeta(msgspec.Struct):
    """Just the two members that name a document's type; all others are skipped."""

    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None


_PEEK = msgspec.json.Decoder(_TypeMeta)
# The first two members of the top-level object, when they are kind and apiVersion with
# plain string values (how the API server writes every response).
_HEAD = r'\s*\{\s*"(kind|apiVersion)"\s*:\s*"([^"\\]*)"\s*,\s*"(kind|apiVersion)"\s*:\s*"([^"\\]*)"'
_HEAD_BYTES = re.compile(_HEAD.encode())
_HEAD_STR = re.compile(_HEAD)


def _fill(obj: StructT, gvk: GroupVersionKind) -> StructT:
    """``obj`` with empty api_version/kind set from ``gvk``, as a copy; never mutates."""
    changes: dict[str, str] = {}
    if getattr(obj, "api_version", "") is None:
        changes["api_version"] = gvk.api_version
    if getattr(obj, "kind", "") is None:
        changes["kind"] = gvk.kind
    return msgspec.structs.replace(obj, **changes) if changes else obj


def with_type_meta(obj: StructT) -> StructT:
    """``obj`` with ``apiVersion``/``kind`` filled from its class's ``GVK`` if unset.

    Returns a shallow copy when something was filled (the caller's object is left
    alone) and ``obj`` itself otherwise. Nested objects, such as the items of a list
    kind, stay as they are: the server omits their type meta, and so do we.
    """
    gvk = getattr(type(obj), "GVK", None)
    return _fill(obj, gvk) if isinstance(gvk, GroupVersionKind) else obj


def _key(gvk: GroupVersionKind | tuple[str, str, str]) -> _Key:
    if isinstance(gvk, GroupVersionKind):
        return (gvk.group, gvk.version, gvk.kind)
    group, version, kind = gvk
    return (group, version, kind)


def _describe(key: _Key) -> str:
    return f"{GroupVersionKind(*key).api_version} {key[2]}"


@lru_cache(maxsize=1)
def _yaml_loader() -> type:
    """PyYAML's safe loader, minus the implicit timestamp type.

    Kubernetes reads manifests as JSON values: an unquoted ``2024-01-01`` in a string
    field stays a string, and ``Time`` fields parse their own text. PyYAML would turn it
    into a ``date`` first, which no string field accepts.
    """
    import yaml

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    resolvers = {
        first: [(tag, regexp) for tag, regexp in entries
                if tag != "tag:yaml.org,2002:timestamp"]
        for first, entries in base.yaml_implicit_resolvers.items()
    }
    return type("_KubernetesSafeLoader", (base,), {"yaml_implicit_resolvers": resolvers})


def _yaml_problem(exc: Exception) -> str:
    """What is wrong and where, without PyYAML's snippet of the offending line.

    The snippet would quote the document itself, which may be a Secret.
    """
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem is None or mark is None:
        return type(exc).__name__
    context = getattr(exc, "context", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}"
    return f"{problem} ({context}) at {where}" if context else f"{problem} at {where}"


class Scheme:
    """The GVK <-> class registry of one generated package.

    ``kinds`` maps ``(group, version, kind)`` to ``(module, class name)``, the module
    relative to ``package``. Classes are imported on first use and cached. Types added
    with :meth:`register` take precedence over the table.
    """

    def __init__(self, package: str,
                 kinds: Mapping[tuple[str, str, str], tuple[str, str]]) -> None:
        self._package = package
        self._table = kinds  # read-only here; registrations go to their own dicts
        self._loaded: dict[_Key, type[Object]] = {}
        self._registered: dict[_Key, type[Object]] = {}
        self._gvk_of: dict[type, GroupVersionKind] = {}

    def __repr__(self) -> str:
        return f"Scheme({self._package!r}, {len(self._all_keys())} kinds)"

    # --- lookups ----------------------------------------------------------------------

    def type_for(self, gvk: GroupVersionKind | tuple[str, str, str]) -> type[Object]:
        """The class for a GVK, importing its module on first use."""
        key = _key(gvk)
        cls = self._registered.get(key) or self._loaded.get(key)
        if cls is not None:
            return cls
        entry = self._table.get(key)
        if entry is None:
            raise self._unknown(key)
        module_name, class_name = entry
        module = importlib.import_module(f"{self._package}.{module_name}")
        try:
            loaded: type[Object] = getattr(module, class_name)
        except AttributeError:
            raise ImportError(
                f"the scheme maps {_describe(key)} to {module.__name__}.{class_name}, "
                "but that module has no such class; regenerate the package"
            ) from None
        self._loaded[key] = loaded
        return loaded

    def type_for_api_version(self, api_version: str, kind: str) -> type[Object]:
        """The class for an ``apiVersion`` string (``"apps/v1"``, ``"v1"``) and kind."""
        return self.type_for(GroupVersionKind.from_api_version(api_version, kind))

    def gvk_for(self, cls: type) -> GroupVersionKind:
        """The GVK a class is registered under, else its ``GVK`` class constant."""
        gvk = self._gvk_of.get(cls) or getattr(cls, "GVK", None)
        if not isinstance(gvk, GroupVersionKind):
            raise TypeError(f"{cls.__qualname__} has no GVK: it is not a kind this scheme knows")
        return gvk

    def kinds(self) -> list[GroupVersionKind]:
        """Every known GVK, sorted by group, version and kind."""
        return [GroupVersionKind(*key) for key in sorted(self._all_keys())]

    def register(self, cls: type[ObjT], gvk: GroupVersionKind | None = None) -> type[ObjT]:
        """Add or replace the class for a GVK (``cls.GVK`` unless ``gvk`` is given).

        Returns ``cls``, so it also works as a class decorator.
        """
        gvk = gvk if gvk is not None else getattr(cls, "GVK", None)
        if not isinstance(gvk, GroupVersionKind):
            raise TypeError(f"cannot register {cls.__qualname__}: give gvk=... or define a "
                            "GVK class constant")
        self._registered[_key(gvk)] = cls
        self._gvk_of[cls] = gvk
        return cls

    def _all_keys(self) -> set[_Key]:
        return set(self._table) | set(self._registered)

    def _unknown(self, key: _Key, where: str = "") -> UnknownKindError:
        import difflib

        group, version, kind = key
        api_version = GroupVersionKind(*key).api_version
        candidates = sorted(self._all_keys())
        wanted = f"{api_version} {kind}"
        described = {_describe(candidate): candidate for candidate in candidates}
        same_kind = [text for text, cand in described.items() if cand[2].lower() == kind.lower()]
        same_version = [cand[2] for cand in candidates if cand[:2] == (group, version)]
        close_kinds = [f"{api_version} {name}" for name in
                       difflib.get_close_matches(kind, same_version, n=3, cutoff=0.7)]
        close_all = difflib.get_close_matches(wanted, list(described), n=3, cutoff=0.8)
        suggestions = list(dict.fromkeys(same_kind + close_kinds + close_all))[:5]
        return UnknownKindError(api_version, kind, suggestions, len(candidates), where)

    # --- decoding ---------------------------------------------------------------------

    def decode(self, data: bytes | str) -> Object:
        """Decode a JSON document (object or list kind) by its ``apiVersion``/``kind``."""
        api_version, kind = self._peek(data)
        obj = codec.decode(data, self.type_for_api_version(api_version, kind))
        # The peek reads the first occurrence of a member, the typed decode the last;
        # they differ only for a document with duplicate keys, which is then redone.
        if getattr(obj, "kind", None) not in (None, kind) or \
                getattr(obj, "api_version", None) not in (None, api_version):
            api_version, kind = self._type_meta(_peek_type_meta(data), "decode")
            obj = codec.decode(data, self.type_for_api_version(api_version, kind))
        return obj

    def decode_as(self, data: bytes | str, cls: type[ObjT]) -> ObjT:
        """Decode a JSON document into a known class, whatever its type meta says."""
        return codec.decode(data, cls)

    def from_dict(self, data: Mapping[str, Any]) -> Object:
        """Build a typed object from a dict (parsed YAML or JSON) by its apiVersion/kind."""
        return self._from_dict(data, "")

    def decode_yaml(self, text: str | bytes) -> list[Object]:
        """Every object in a (multi-document) YAML stream; empty documents are skipped."""
        import yaml

        try:
            documents = list(yaml.load_all(text, Loader=_yaml_loader()))
        except yaml.YAMLError as exc:
            raise DecodeError(f"invalid YAML: {_yaml_problem(exc)}") from None
        objects: list[Object] = []
        for number, document in enumerate(documents, start=1):
            if document is None:
                continue
            where = f"YAML document {number}: "
            if not isinstance(document, Mapping):
                raise DecodeError(f"{where}expected a mapping with apiVersion and kind, "
                                  f"got {type(document).__name__}")
            objects.append(self._from_dict(document, where))
        return objects

    def _from_dict(self, data: Mapping[str, Any], where: str) -> Object:
        api_version, kind = self._type_meta(
            _TypeMeta(api_version=_str_or_none(data, "apiVersion", where),
                      kind=_str_or_none(data, "kind", where)),
            "convert", where)
        cls = self._lookup(api_version, kind, where)
        try:
            return codec.convert(data if isinstance(data, dict) else dict(data), cls)
        except DecodeError as exc:
            if not where:
                raise
            raise DecodeError(f"{where}{exc}", path=exc.path) from None

    def _lookup(self, api_version: str, kind: str, where: str) -> type[Object]:
        try:
            return self.type_for_api_version(api_version, kind)
        except UnknownKindError:
            if not where:
                raise
            gvk = GroupVersionKind.from_api_version(api_version, kind)
            raise self._unknown(_key(gvk), where) from None

    def _peek(self, data: bytes | str) -> tuple[str, str]:
        found: dict[str, str] | None = None
        if isinstance(data, str):
            head = _HEAD_STR.match(data)
            if head is not None:
                found = {head.group(1): head.group(2), head.group(3): head.group(4)}
        else:
            raw = _HEAD_BYTES.match(data)
            if raw is not None:
                found = {raw.group(1).decode(): raw.group(2).decode(),
                         raw.group(3).decode(): raw.group(4).decode()}
        if found is not None and len(found) == 2:
            meta = _TypeMeta(api_version=found["apiVersion"], kind=found["kind"])
        else:
            meta = _peek_type_meta(data)
        return self._type_meta(meta, "decode")

    @staticmethod
    def _type_meta(meta: _TypeMeta, verb: str, where: str = "") -> tuple[str, str]:
        missing = [name for name, value in (("apiVersion", meta.api_version),
                                            ("kind", meta.kind)) if not value]
        if missing:
            raise DecodeError(
                f"{where}cannot {verb} an object without {' and '.join(missing)}: the scheme "
                "picks the class from them; use decode_as(data, cls) when the type is known"
            )
        assert meta.api_version is not None and meta.kind is not None
        return meta.api_version, meta.kind

    # --- encoding ---------------------------------------------------------------------

    def with_type_meta(self, obj: StructT) -> StructT:
        """``obj`` with apiVersion/kind filled from this scheme's GVK for its class."""
        cls = type(obj)
        gvk = self._gvk_of.get(cls) or getattr(cls, "GVK", None)
        return _fill(obj, gvk) if isinstance(gvk, GroupVersionKind) else obj

    def encode(self, obj: msgspec.Struct) -> bytes:
        """JSON bytes with apiVersion/kind filled in (the caller's object is unchanged)."""
        return codec.encode(self.with_type_meta(obj))

    def to_dict(self, obj: msgspec.Struct) -> dict[str, Any]:
        """The JSON-compatible dict form, with apiVersion/kind filled in."""
        result: dict[str, Any] = codec.to_builtins(self.with_type_meta(obj))
        return result


def _peek_type_meta(data: bytes | str) -> _TypeMeta:
    try:
        return _PEEK.decode(data)
    except msgspec.DecodeError as exc:
        raise DecodeError(f"cannot decode: {exc}") from None


def _str_or_none(data: Mapping[str, Any], name: str, where: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise DecodeError(f"{where}{name} must be a string, got {type(value).__name__}",
                          path=f"$.{name}")
    return value
