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

Beyond the generated table, the scheme knows what apimachinery adds to every group
version (``metav1.AddToGroupVersion``): the unversioned kinds (``Status``,
``APIVersions``, ``APIGroupList``, ``APIGroup``, ``APIResourceList``) under any
apiVersion, and ``WatchEvent`` and the option kinds (``DeleteOptions``, ``ListOptions``
...) under every group version the table has. ``v1 List`` decodes to
:class:`~.unstructured.ObjectList` with each item decoded by its own kind, and
``unstructured=True`` turns an unknown kind into an :class:`~.unstructured.Unstructured`
dict instead of an error.

Manifests (YAML, dicts) are read as kubectl reads them (:mod:`.yamljson`), and members
the model has no field for are reported -- a warning by default, an error with
``unknown_fields="error"`` -- rather than dropped silently. JSON decoding skips that
check unless asked: it is the hot path for server responses, which legitimately carry
fields an older package does not know.
"""

from __future__ import annotations

import importlib
import re
import sys
import warnings
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypeVar, overload

import msgspec

from . import codec
from .codec import DecodeError
from .meta import GroupVersionKind
from .model import Model, Object
from .unstructured import ObjectList, Unstructured

__all__ = [
    "Scheme",
    "UnknownFieldError",
    "UnknownFields",
    "UnknownFieldsWarning",
    "UnknownKindError",
    "with_type_meta",
]

#: What to do with manifest members the model has no field for.
UnknownFields = Literal["warn", "error", "ignore"]

# apimachinery's AddToGroupVersion: kinds every group version has. The unversioned ones
# resolve under any apiVersion; the others under the group versions this scheme knows.
_UNVERSIONED_KINDS = frozenset(("Status", "APIVersions", "APIGroupList", "APIGroup",
                                "APIResourceList"))
_GROUP_VERSION_KINDS = frozenset(("WatchEvent", "ListOptions", "GetOptions", "DeleteOptions",
                                  "CreateOptions", "UpdateOptions", "PatchOptions"))
_LIST_KEY = ("", "v1", "List")
_LIST_MEMBERS = frozenset(("apiVersion", "kind", "metadata", "items"))

ObjT = TypeVar("ObjT", bound=Object)
ModelT = TypeVar("ModelT", bound=Model)
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


class UnknownFieldsWarning(RuntimeWarning):
    """A manifest has members its model has no field for; they were dropped.

    ``paths`` lists them (``spec.foo``, ``spec.containers[0].bar``); ``kind`` says
    what was being decoded.
    """

    def __init__(self, message: str, paths: list[str], kind: str) -> None:
        super().__init__(message)
        self.paths = paths
        self.kind = kind


class UnknownFieldError(DecodeError):
    """Strict decoding: a manifest has members its model has no field for.

    The message follows kubectl's ``strict decoding error: unknown field "spec.foo"``;
    ``paths`` lists the members.
    """

    def __init__(self, message: str, paths: list[str]) -> None:
        super().__init__(message, path="$." + paths[0] if paths else None)
        self.paths = paths


class _RawList(msgspec.Struct):
    """A ``v1 List`` with its items left as raw JSON, to be decoded one by one."""

    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: dict[str, Any] | None = None
    items: list[msgspec.Raw] | None = None


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
        self._loaded: dict[_Key, type[Model]] = {}
        self._registered: dict[_Key, type[Model]] = {}
        self._gvk_of: dict[type, GroupVersionKind] = {}
        self._others: tuple[Scheme, ...] = ()  # merged schemes, asked in order (see merge)

    def merge(self, other: Scheme) -> Scheme:
        """A Scheme that decodes and encodes the kinds of both (``kube.scheme.merge(mon.scheme)``).

        Neither input changes. Where both know a GVK, this scheme's class wins (the left
        operand), as a later :meth:`register` on the result would win over both. Classes
        registered on either before the merge are kept.
        """
        merged = Scheme(self._package, self._table)
        merged._others = (*self._others, other)
        merged._registered = dict(self._registered)
        merged._gvk_of = dict(self._gvk_of)
        return merged

    def __repr__(self) -> str:
        return f"Scheme({self._package!r}, {len(self._all_keys())} kinds)"

    # --- lookups ----------------------------------------------------------------------

    def type_for(self, gvk: GroupVersionKind | tuple[str, str, str]) -> type[Model]:
        """The class for a GVK, importing its module on first use.

        Usually an :class:`Object` subclass; ``WatchEvent`` and the option kinds, which
        belong to every group version, are plain models.
        """
        key = _key(gvk)
        cls = self._registered.get(key) or self._loaded.get(key)
        if cls is not None:
            return cls
        if key == _LIST_KEY:
            return ObjectList
        entry = self._table.get(key) or self._meta_entry(key)
        if entry is None:
            for other in self._others:
                if key in other._all_keys() or other._meta_entry(key) is not None:
                    found = other.type_for(key)
                    self._loaded[key] = found
                    return found
            shared = self._runtime_meta(key)
            if shared is None:
                raise self._unknown(key)
            self._loaded[key] = shared
            return shared
        module_name, class_name = entry
        module = importlib.import_module(f"{self._package}.{module_name}")
        try:
            loaded: type[Model] = getattr(module, class_name)
        except AttributeError:
            raise ImportError(
                f"the scheme maps {_describe(key)} to {module.__name__}.{class_name}, "
                "but that module has no such class; regenerate the package"
            ) from None
        self._loaded[key] = loaded
        return loaded

    def _meta_entry(self, key: _Key) -> tuple[str, str] | None:
        """Where a kind of every group version lives (see the module docstring)."""
        group, version, kind = key
        if kind in _UNVERSIONED_KINDS:
            return self._table.get(("", "v1", kind))
        if kind in _GROUP_VERSION_KINDS and any(
                (g, v) == (group, version) for g, v, _ in self._all_keys()):
            status = self._table.get(("", "v1", "Status"))
            if status is not None:  # the meta/v1 module holds them under their kind
                module = importlib.import_module(f"{self._package}.{status[0]}")
                if isinstance(getattr(module, kind, None), type):
                    return (status[0], kind)
        return None

    def _runtime_meta(self, key: _Key) -> type[Model] | None:
        """The runtime's own meta/v1 class for a kind of every group version that the table
        does not name (a CRD package has no core/v1 ``Status`` of its own): the same class
        every package re-exports, so any scheme decodes a Status as that one class."""
        group, version, kind = key
        if kind not in _UNVERSIONED_KINDS and not (kind in _GROUP_VERSION_KINDS and any(
                (g, v) == (group, version) for g, v, _ in self._all_keys())):
            return None
        from .apis import meta_v1  # imported on first use: most programs never need it here

        found = getattr(meta_v1, kind, None)
        return found if isinstance(found, type) and issubclass(found, Model) else None

    def type_for_api_version(self, api_version: str, kind: str) -> type[Model]:
        """The class for an ``apiVersion`` string (``"apps/v1"``, ``"v1"``) and kind."""
        return self.type_for(GroupVersionKind.from_api_version(api_version, kind))

    def gvk_for(self, cls: type) -> GroupVersionKind:
        """The GVK a class is registered under, else its ``GVK`` class constant."""
        gvk = self._gvk_of_class(cls)
        if not isinstance(gvk, GroupVersionKind):
            raise TypeError(f"{cls.__qualname__} has no GVK: it is not a kind this scheme knows")
        return gvk

    def _gvk_of_class(self, cls: type) -> object:
        """A registration here, then in a merged scheme, else the class's ``GVK`` constant."""
        registered = self._gvk_of.get(cls) or next(
            (found for other in self._others if (found := other._gvk_of.get(cls))), None)
        return registered or getattr(cls, "GVK", None)

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
        keys = set(self._table) | set(self._registered)
        for other in self._others:
            keys |= other._all_keys()
        return keys

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

    @overload
    def decode(self, data: bytes | str, *, unknown_fields: UnknownFields = ...,
               unstructured: Literal[False] = ...) -> Model: ...

    @overload
    def decode(self, data: bytes | str, *, unknown_fields: UnknownFields = ...,
               unstructured: bool) -> Model | Unstructured: ...

    def decode(self, data: bytes | str, *, unknown_fields: UnknownFields = "ignore",
               unstructured: bool = False) -> Model | Unstructured:
        """Decode a JSON document (object, list kind or ``v1 List``) by its apiVersion/kind.

        ``unknown_fields`` ("ignore" here by default: server responses) may be "warn" or
        "error" to check a JSON manifest as :meth:`decode_yaml` does. With
        ``unstructured=True`` an unknown kind gives an :class:`Unstructured` dict.
        """
        api_version, kind = self._peek(data)
        if (api_version, kind) == ("v1", "List") and _LIST_KEY not in self._registered:
            return self._list_from_json(data, unknown_fields, unstructured)
        cls = self._class_or_none(api_version, kind, unstructured, "")
        if cls is None:
            return Unstructured(_json_object(data))
        obj = codec.decode(data, cls)
        # The peek reads the first occurrence of a member, the typed decode the last;
        # they differ only for a document with duplicate keys, which is then redone.
        if getattr(obj, "kind", None) not in (None, kind) or \
                getattr(obj, "api_version", None) not in (None, api_version):
            api_version, kind = self._type_meta(_peek_type_meta(data), "decode")
            cls = self._class_or_none(api_version, kind, unstructured, "")
            if cls is None:
                return Unstructured(_json_object(data))
            obj = codec.decode(data, cls)
        if unknown_fields != "ignore":
            _report_unknown(codec.unknown_fields(_json_object(data), cls), cls,
                            unknown_fields, "")
        return obj

    def decode_as(self, data: bytes | str, cls: type[ModelT]) -> ModelT:
        """Decode a JSON document into a known class, whatever its type meta says."""
        return codec.decode(data, cls)

    @overload
    def from_dict(self, data: Mapping[str, Any], *, unknown_fields: UnknownFields = ...,
                  unstructured: Literal[False] = ...) -> Model: ...

    @overload
    def from_dict(self, data: Mapping[str, Any], *, unknown_fields: UnknownFields = ...,
                  unstructured: bool) -> Model | Unstructured: ...

    def from_dict(self, data: Mapping[str, Any], *, unknown_fields: UnknownFields = "warn",
                  unstructured: bool = False) -> Model | Unstructured:
        """Build a typed object from a dict (parsed YAML or JSON) by its apiVersion/kind.

        Members the model has no field for are reported (``unknown_fields``: "warn" by
        default, "error" for kubectl's strict decoding, or "ignore").
        """
        return self._from_dict(data, "", unknown_fields, unstructured)

    @overload
    def decode_yaml(self, text: str | bytes, *, unknown_fields: UnknownFields = ...,
                    unstructured: Literal[False] = ...) -> list[Model]: ...

    @overload
    def decode_yaml(self, text: str | bytes, *, unknown_fields: UnknownFields = ...,
                    unstructured: bool) -> list[Model | Unstructured]: ...

    def decode_yaml(self, text: str | bytes, *, unknown_fields: UnknownFields = "warn",
                    unstructured: bool = False) -> list[Model] | list[Model | Unstructured]:
        """Every object in a (multi-document) YAML stream; empty documents are skipped.

        YAML is read as kubectl reads it (:mod:`.yamljson`: go-yaml v2's scalars, then
        JSON values), so ``memory: 1e3`` is the number 1000 and ``value: =`` the string
        ``"="``. Unknown members are reported as in :meth:`from_dict`.
        """
        from . import yamljson  # imports PyYAML: only when YAML is read (start-up time)

        try:
            documents = yamljson.load_all(text)
        except yamljson.YAMLError as exc:
            raise DecodeError(f"invalid YAML: {exc}") from None
        objects: list[Model | Unstructured] = []
        for number, document in enumerate(documents, start=1):
            if document is None:
                continue
            where = f"YAML document {number}: "
            if not isinstance(document, Mapping):
                raise DecodeError(f"{where}expected a mapping with apiVersion and kind, "
                                  f"got {type(document).__name__}")
            objects.append(self._from_dict(document, where, unknown_fields, unstructured))
        return objects

    def _from_dict(self, data: Mapping[str, Any], where: str, unknown_fields: UnknownFields,
                   unstructured: bool) -> Model | Unstructured:
        api_version, kind = self._type_meta(
            _TypeMeta(api_version=_str_or_none(data, "apiVersion", where),
                      kind=_str_or_none(data, "kind", where)),
            "convert", where)
        value = data if isinstance(data, dict) else dict(data)
        if (api_version, kind) == ("v1", "List") and _LIST_KEY not in self._registered:
            return self._list_from_dict(value, where, unknown_fields, unstructured)
        cls = self._class_or_none(api_version, kind, unstructured, where)
        if cls is None:
            return Unstructured(codec.convert(value, dict[str, Any]))
        try:
            obj = codec.convert(value, cls)
        except DecodeError as exc:
            if not where:
                raise
            raise DecodeError(f"{where}{exc}", path=exc.path) from None
        if unknown_fields != "ignore":
            _report_unknown(codec.unknown_fields(value, cls), cls, unknown_fields, where)
        return obj

    def _class_or_none(self, api_version: str, kind: str, unstructured: bool,
                       where: str) -> type[Model] | None:
        """The class for a kind; None when it is unknown and unstructured is allowed."""
        try:
            return self.type_for_api_version(api_version, kind)
        except UnknownKindError:
            if unstructured:
                return None
            if not where:
                raise
            gvk = GroupVersionKind.from_api_version(api_version, kind)
            raise self._unknown(_key(gvk), where) from None

    def _list_from_json(self, data: bytes | str, unknown_fields: UnknownFields,
                        unstructured: bool) -> ObjectList:
        try:
            raw = msgspec.json.decode(data, type=_RawList)
        except msgspec.DecodeError as exc:
            raise DecodeError(f"cannot decode List: {exc}") from None
        items: list[Any] | None = None
        if raw.items is not None:
            items = []
            for index, item in enumerate(raw.items):
                try:
                    items.append(self.decode(item, unknown_fields=unknown_fields,
                                             unstructured=unstructured))
                except (DecodeError, UnknownKindError) as exc:
                    raise _in_item(exc, "", index) from None
        if unknown_fields != "ignore":
            extra = [key for key in _json_object(data) if key not in _LIST_MEMBERS]
            _report_unknown(extra, ObjectList, unknown_fields, "")
        return ObjectList(api_version=raw.api_version, kind=raw.kind, metadata=raw.metadata,
                          items=items)

    def _list_from_dict(self, data: dict[str, Any], where: str,
                        unknown_fields: UnknownFields, unstructured: bool) -> ObjectList:
        raw_items = data.get("items")
        if raw_items is not None and not isinstance(raw_items, list):
            raise DecodeError(f"{where}List items must be a list, got "
                              f"{type(raw_items).__name__}", path="$.items")
        metadata = data.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise DecodeError(f"{where}List metadata must be an object", path="$.metadata")
        items: list[Any] | None = None
        if raw_items is not None:
            items = []
            for index, item in enumerate(raw_items):
                here = f"{where}items[{index}]: "
                if not isinstance(item, Mapping):
                    raise DecodeError(f"{here}expected an object with apiVersion and kind, "
                                      f"got {type(item).__name__}")
                items.append(self._from_dict(item, here, unknown_fields, unstructured))
        if unknown_fields != "ignore":
            extra = [key for key in data if key not in _LIST_MEMBERS]
            _report_unknown(extra, ObjectList, unknown_fields, where)
        return ObjectList(api_version=data.get("apiVersion"), kind=data.get("kind"),
                          metadata=metadata, items=items)

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
        gvk = self._gvk_of_class(type(obj))
        return _fill(obj, gvk) if isinstance(gvk, GroupVersionKind) else obj

    def encode(self, obj: msgspec.Struct | Unstructured) -> bytes:
        """JSON bytes with apiVersion/kind filled in (the caller's object is unchanged)."""
        if isinstance(obj, Unstructured):
            return codec.encode(obj)
        return codec.encode(self.with_type_meta(obj))

    def to_dict(self, obj: msgspec.Struct | Unstructured) -> dict[str, Any]:
        """The JSON-compatible dict form, with apiVersion/kind filled in."""
        if isinstance(obj, Unstructured):
            plain: dict[str, Any] = codec.to_builtins(dict(obj))
            return plain
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


def _json_object(data: bytes | str) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise DecodeError(f"cannot decode: {exc}") from None
    if not isinstance(value, dict):
        raise DecodeError(f"cannot decode: expected a JSON object, got {type(value).__name__}")
    return value


def _in_item(exc: DecodeError | UnknownKindError, where: str,
             index: int) -> DecodeError | UnknownKindError:
    """The same error, saying which item of a List it is about."""
    here = f"{where}items[{index}]: "
    if isinstance(exc, UnknownKindError):
        return UnknownKindError(exc.api_version, exc.kind, exc.suggestions, where=here)
    path = exc.path
    if path is not None and path.startswith("$"):
        path = f"$.items[{index}]{path[1:]}"
    return DecodeError(f"{here}{exc}", path=path)


def _report_unknown(paths: list[str], cls: type, policy: UnknownFields, where: str) -> None:
    """Warn about or refuse members no field took (kubectl's strict decoding words)."""
    if not paths or policy == "ignore":
        return
    listed = ", ".join(f'unknown field "{path}"' for path in paths)
    if policy == "error":
        raise UnknownFieldError(f"{where}strict decoding error: {listed}", paths)
    message = (f"{where}{cls.__name__}: {listed} (dropped; the model has no such field -- "
               "is the manifest for a newer Kubernetes version?)")
    warnings.warn(UnknownFieldsWarning(message, paths, cls.__name__),
                  stacklevel=_caller_stacklevel())


def _caller_stacklevel() -> int:
    """The warnings stacklevel of the first frame outside this module (the user's call)."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level
