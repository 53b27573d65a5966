"""Validated swagger JSON → :mod:`.records`, in one pass: the last code that reads raw dicts.

Every document the generator models goes through :func:`parse_document` after
:func:`~.validate.validate_spec`: a file, a URL, ``builtin:<version>``, a cluster's
``/openapi/v2``, and any of them with ``--crd`` files published into it (the CRD schemas
are converted to swagger definitions the way kube-apiserver does, then parsed like the
rest). Validation has proved the shapes (types of keywords, local references); what the
model still could not use is refused here, with the source and the JSON pointer, rather
than deep inside the model builder.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .errors import SpecError, make_pointer, unescape_pointer_token
from .load import LoadedSpec
from .records import Document, GroupVersionKind, Operation, PathItem, Schema

#: Operation keys of a path item, in the order the model visits them.
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
_DEFINITION_REF = "#/definitions/"
_PARAMETER_REF = "#/parameters/"
#: Response codes whose schema names what an operation returns, in order of preference.
_RESPONSE_CODES = ("200", "201", "202")
_GVK = "x-kubernetes-group-version-kind"


def parse_document(spec: LoadedSpec) -> Document:
    """The records of a validated document; raises :class:`SpecError` for what the model
    cannot represent."""
    return _Parser(spec).document()


class _Parser:
    def __init__(self, spec: LoadedSpec) -> None:
        self._source = spec.source
        self._raw = spec.document
        parameters = self._raw.get("parameters")
        self._parameters: dict[str, Any] = parameters if isinstance(parameters, dict) else {}
        self._origin = spec.origin
        self._crd_file_groups = spec.crd_file_groups
        self._custom_resource_kinds = spec.custom_resource_kinds
        self._openapi_documents = spec.openapi_documents
        self._crd_scales = spec.crd_scales
        self._crd_schemas = spec.crd_schemas

    def _error(self, pointer: str, message: str) -> SpecError:
        return SpecError(self._source, pointer, message)

    def document(self) -> Document:
        info = self._raw.get("info")
        info = info if isinstance(info, dict) else {}
        definitions = self._raw.get("definitions") or {}
        paths = self._raw.get("paths") or {}
        return Document(
            source=self._source, origin=self._origin,
            title=str(info.get("title", "")), version=str(info.get("version", "")),
            definitions=MappingProxyType({
                name: self.schema(schema, make_pointer(("definitions", name)))
                for name, schema in definitions.items()}),
            paths=MappingProxyType({
                path: self._path_item(path, item, make_pointer(("paths", path)))
                for path, item in paths.items()}),
            crd_file_groups=self._crd_file_groups,
            custom_resource_kinds=self._custom_resource_kinds,
            openapi_documents=self._openapi_documents,
            crd_scales=self._crd_scales,
            crd_schemas=self._crd_schemas,
        )

    # -- schemas -------------------------------------------------------------------

    def schema(self, raw: object, pointer: str) -> Schema:
        if not isinstance(raw, dict):
            raise self._error(pointer, "expected a schema object")
        properties = raw.get("properties")
        additional = raw.get("additionalProperties")
        required = raw.get("required", [])
        if not isinstance(required, list):
            raise self._error(pointer + "/required", "expected a list of property names")
        kind = raw.get("type")
        items = raw.get("items")
        if kind == "array" and not isinstance(items, dict):
            raise self._error(pointer, "an array schema needs an 'items' schema object")
        enum = raw.get("enum")
        return Schema(
            pointer=pointer,
            ref=self._schema_ref(raw, pointer),
            type=kind if isinstance(kind, str) else None,
            format=raw["format"] if isinstance(raw.get("format"), str) else None,
            description=raw["description"] if isinstance(raw.get("description"), str) else "",
            properties=None if not isinstance(properties, dict) else MappingProxyType({
                name: self.schema(prop, f"{pointer}/properties/{_escape(name)}")
                for name, prop in properties.items()}),
            required=tuple(str(name) for name in required),
            items=self.schema(items, pointer + "/items") if isinstance(items, dict) else None,
            additional_properties=self._additional(additional, pointer + "/additionalProperties"),
            nullable=bool(raw.get("nullable", False)),
            has_default="default" in raw,
            enum=tuple(enum) if isinstance(enum, list) else None,
            enum_literals=_enum_literals(kind, enum),
            pattern=raw["pattern"] if isinstance(raw.get("pattern"), str) else None,
            one_of_required=_branch_requirements(raw.get("oneOf")),
            any_of_required=_branch_requirements(raw.get("anyOf")),
            int_or_string=raw.get("x-kubernetes-int-or-string") is True,
            preserve_unknown_fields=raw.get("x-kubernetes-preserve-unknown-fields") is True,
            embedded_resource=raw.get("x-kubernetes-embedded-resource") is True,
            list_type=_string(raw.get("x-kubernetes-list-type")),
            list_map_keys=_strings(raw.get("x-kubernetes-list-map-keys")),
            map_type=_string(raw.get("x-kubernetes-map-type")),
            patch_merge_key=_string(raw.get("x-kubernetes-patch-merge-key")),
            patch_strategy=_string(raw.get("x-kubernetes-patch-strategy")),
            group_version_kinds=self._gvks(raw.get(_GVK), pointer + "/" + _escape(_GVK)),
        )

    def _additional(self, raw: object, pointer: str) -> Schema | bool | None:
        if raw is None or isinstance(raw, bool):
            return raw
        if isinstance(raw, dict) and not raw:
            return True  # ``{}``: any value, the same as ``true``
        return self.schema(raw, pointer)

    def _schema_ref(self, raw: dict[str, Any], pointer: str) -> str | None:
        ref = raw.get("$ref")
        where = pointer + "/$ref"
        if ref is None:
            all_of = raw.get("allOf")
            if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
                ref, where = all_of[0].get("$ref"), pointer + "/allOf/0/$ref"
        if not isinstance(ref, str):
            return None
        if not ref.startswith(_DEFINITION_REF):
            raise self._error(where, f"only local definition references are supported, got {ref!r}")
        return unescape_pointer_token(ref[len(_DEFINITION_REF):])

    def _gvks(self, raw: object, pointer: str) -> tuple[GroupVersionKind, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
            raise self._error(pointer, "expected a list of {group, version, kind} objects")
        return tuple(_gvk(entry) for entry in raw)

    # -- paths -------------------------------------------------------------------

    def _path_item(self, path: str, raw: dict[str, Any], pointer: str) -> PathItem:
        operations = {
            method: self._operation(method, raw[method], f"{pointer}/{method}")
            for method in METHODS if isinstance(raw.get(method), dict)}
        return PathItem(pointer=pointer, path=path, operations=MappingProxyType(operations),
                        parameter_names=self._parameter_names(raw.get("parameters")))

    def _operation(self, method: str, raw: dict[str, Any], pointer: str) -> Operation:
        action = raw.get("x-kubernetes-action")
        gvk = raw.get(_GVK)
        responses = raw.get("responses") or {}
        response_refs: dict[str, str] = {}
        for code in _RESPONSE_CODES:
            response = responses.get(code)
            target = _direct_ref(response.get("schema") if isinstance(response, dict) else None)
            if target:
                response_refs[code] = target
        return Operation(
            pointer=pointer, method=method,
            action=action if isinstance(action, str) else None,
            gvk=_gvk(gvk) if isinstance(gvk, dict) else None,
            consumes=tuple(str(c) for c in raw.get("consumes") or ()),
            parameter_names=self._parameter_names(raw.get("parameters")),
            body_ref=_body_ref(raw.get("parameters")),
            response_refs=MappingProxyType(response_refs))

    def _parameter_names(self, raw: object) -> frozenset[str]:
        names: set[str] = set()
        for param in raw if isinstance(raw, list) else ():
            if isinstance(param, dict):
                ref = param.get("$ref")
                if isinstance(ref, str) and ref.startswith(_PARAMETER_REF):
                    param = self._parameters.get(unescape_pointer_token(ref[len(_PARAMETER_REF):]), {})
                if isinstance(param, dict) and isinstance(param.get("name"), str):
                    names.add(param["name"])
        return frozenset(names)


def _body_ref(raw: object) -> str | None:
    """The definition of the first body parameter written in the operation itself.

    Kubernetes writes the object bodies of create/update and of subresources inline;
    the shared top-level parameters it refers to are query options and the
    ``DeleteOptions`` of deletecollection, which name no resource type.
    """
    for param in raw if isinstance(raw, list) else ():
        if isinstance(param, dict) and param.get("in") == "body":
            return _direct_ref(param.get("schema"))
    return None


def _direct_ref(schema: object) -> str | None:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(_DEFINITION_REF):
            return unescape_pointer_token(ref[len(_DEFINITION_REF):])
    return None


def _gvk(entry: Mapping[str, Any]) -> GroupVersionKind:
    return GroupVersionKind(str(entry.get("group", "")), str(entry.get("version", "")),
                            str(entry.get("kind", "")))


def _branch_requirements(branches: object) -> tuple[tuple[str, ...], ...]:
    if not isinstance(branches, list):
        return ()
    found = []
    for branch in branches:
        required = branch.get("required") if isinstance(branch, dict) else None
        found.append(tuple(str(name) for name in required) if isinstance(required, list) else ())
    return tuple(found)


def _enum_literals(kind: object, enum: object) -> tuple[str, ...] | tuple[int, ...] | None:
    if not isinstance(enum, list) or not enum:
        return None
    if kind == "string" and all(isinstance(v, str) for v in enum):
        return tuple(dict.fromkeys(str(v) for v in enum))
    if kind == "integer" and all(isinstance(v, int) and not isinstance(v, bool) for v in enum):
        return tuple(dict.fromkeys(int(v) for v in enum))
    return None


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _strings(value: object) -> tuple[str, ...]:
    """A list of strings, or ``()`` for anything else (a string is not a list of its letters)."""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return ()


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
