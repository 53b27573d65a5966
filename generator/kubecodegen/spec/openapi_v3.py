"""OpenAPI 3.0 documents (a file, a folder of them, or a server's ``/openapi/v3`` set) → the
Swagger 2.0 shape the rest of the pipeline reads, so the records, fixups and model are the same.

A server serves one v3 document per group-version (``/openapi/v3/apis/<group>/<version>``,
listed by the index ``{"paths": {"apis/<g>/<v>": {"serverRelativeURL": ...}}}``); each is
self-contained (it carries the meta/v1 schemas it uses). Converting one document is a
renaming, key by key, that keeps every schema's nesting as it is:

* ``components/schemas/X`` → ``definitions/X``; ``#/components/schemas/X`` → ``#/definitions/X``;
* ``components/parameters/X`` → ``parameters/X`` (references likewise); a parameter's
  ``schema`` is folded into the parameter, as v2 writes it;
* ``requestBody`` → a ``body`` parameter (appended after the operation's own) and
  ``consumes`` (its media types); a response's ``content`` → its ``schema``
  (``application/json`` first).

What v3 keeps and v2 loses (``nullable`` types, ``default``, ``oneOf``/``anyOf``) passes
through unchanged. Each converted document is validated on its own, and a problem is
reported against the v3 document and pointer it came from; the documents are then merged
(a schema two documents share is the same in both; the first is kept).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .errors import SpecError, SpecErrors, escape_pointer_token, raise_collected
from .load import MAX_SPEC_BYTES, LoadedSpec, load_spec, load_spec_bytes
from .records import GroupVersionKind, Origin

_SCHEMA_REF = "#/components/schemas/"
_PARAMETER_REF = "#/components/parameters/"
_METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
_GVK = "x-kubernetes-group-version-kind"
#: Spec quirk: apiextensions-apiserver titles the v3 document of a CRD group-version this
#: way (built-in group-versions say ``Kubernetes``); the kinds in it are custom resources.
CRD_DOCUMENT_TITLE = "Kubernetes CRD Swagger"


def is_openapi_v3(document: dict[str, Any]) -> bool:
    """A document that declares ``openapi: 3.x``."""
    version = document.get("openapi")
    return isinstance(version, str) and version.startswith("3.")


def is_v3_index(document: dict[str, Any]) -> bool:
    """The ``/openapi/v3`` index: every path names a ``serverRelativeURL``."""
    paths = document.get("paths")
    return (isinstance(paths, dict) and bool(paths) and "openapi" not in document
            and all(isinstance(v, dict) and "serverRelativeURL" in v for v in paths.values()))


def index_urls(index: LoadedSpec) -> list[tuple[str, str]]:
    """``(group-version path, server-relative URL)`` of every document the index lists, in order."""
    paths = index.document.get("paths")
    found = []
    for name, entry in (paths.items() if isinstance(paths, dict) else ()):
        url = entry.get("serverRelativeURL") if isinstance(entry, dict) else None
        if not isinstance(url, str) or not url.startswith("/"):
            raise SpecError(index.source, f"/paths/{escape_pointer_token(name)}/serverRelativeURL",
                            "expected a server-relative URL starting with '/'")
        found.append((name, url))
    return found


def load_any_spec(source: str | None) -> LoadedSpec:
    """``--spec``: :func:`~.load.load_spec`, plus a folder of v3 documents or a v3 file,
    each converted (see the module doc) and named as given."""
    if source is not None and "://" not in source and not source.startswith("builtin:") \
            and Path(source).expanduser().is_dir():
        return merge_v3(load_v3_folder(source), source)
    spec = load_spec(source)
    if is_openapi_v3(spec.document):
        return merge_v3([spec], spec.source)
    if is_v3_index(spec.document):
        raise SpecError(spec.source, "/paths", "this is the /openapi/v3 index, not a document: save "
                        "the documents it lists (kubectl get --raw <serverRelativeURL>) into a "
                        "folder and give the folder")
    return spec


def load_v3_folder(folder: str) -> list[LoadedSpec]:
    """Every ``*.json``/``*.json.gz`` file of ``folder`` (sorted; an index file is skipped):
    what ``kubectl get --raw /openapi/v3/apis/<g>/<v> > <file>`` saves."""
    path = Path(folder).expanduser()
    files = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith((".json", ".json.gz")))
    specs = []
    for file in files:
        data = file.read_bytes()
        if len(data) > MAX_SPEC_BYTES:
            raise SpecError(str(file), "", "file is larger than the limit")
        spec = load_spec_bytes(data, str(file))
        if not is_v3_index(spec.document):
            specs.append(spec)
    if not specs:
        raise SpecError(folder, "", "the folder holds no OpenAPI v3 document (*.json, *.json.gz)")
    return specs


def merge_v3(documents: Sequence[LoadedSpec], source: str, *, origin: Origin = Origin.FILE,
             custom_resource_kinds: Iterable[GroupVersionKind] = ()) -> LoadedSpec:
    """One Swagger 2.0-shaped document of the v3 ``documents`` (each checked and validated
    first, errors naming it); ``custom_resource_kinds`` are added to those of the CRD documents."""
    from .validate import validate_spec  # validate imports load; keep this module's import light

    merged: dict[str, Any] = {"swagger": "2.0", "info": {}, "paths": {}, "definitions": {}, "parameters": {}}
    kinds = set(custom_resource_kinds)
    for spec in documents:
        converted = convert_document(spec)
        try:
            validate_spec(converted)
        except SpecError as exc:
            raise _as_v3_error(exc, spec) from None
        document = converted.document
        info = document.get("info") or {}
        if not merged["info"] and info.get("title") != CRD_DOCUMENT_TITLE:
            merged["info"] = info  # the title and version of a built-in (Kubernetes) document
        if info.get("title") == CRD_DOCUMENT_TITLE:
            kinds.update(_document_kinds(document))
        for key in ("definitions", "parameters", "paths"):
            for name, value in document.get(key, {}).items():
                merged[key].setdefault(name, value)
    if not merged["info"]:
        merged["info"] = {"title": "Kubernetes CRD Swagger", "version": ""}
    return LoadedSpec(source, merged, origin, custom_resource_kinds=frozenset(kinds),
                      openapi_documents=tuple(spec.source for spec in documents))


def convert_document(spec: LoadedSpec) -> LoadedSpec:
    """One v3 document in the Swagger 2.0 shape (a new dict); raises :class:`SpecError`
    naming the v3 pointer for what cannot be converted."""
    return LoadedSpec(spec.source, _Converter(spec).document(), spec.origin)


def _document_kinds(document: dict[str, Any]) -> set[GroupVersionKind]:
    kinds = set()
    for schema in document.get("definitions", {}).values():
        for entry in schema.get(_GVK) or () if isinstance(schema, dict) else ():
            if isinstance(entry, dict):
                kinds.add(GroupVersionKind(str(entry.get("group", "")), str(entry.get("version", "")),
                                           str(entry.get("kind", ""))))
    return kinds


def _v3_pointer(pointer: str) -> str:
    """A pointer of the converted document as the v3 document spells the same place."""
    for v2, v3 in (("/definitions/", "/components/schemas/"), ("/parameters/", "/components/parameters/")):
        if pointer.startswith(v2):
            return v3 + pointer[len(v2):]
    return pointer


def _as_v3_error(exc: SpecError, spec: LoadedSpec) -> SpecError:
    if isinstance(exc, SpecErrors):
        errors = [SpecError(spec.source, _v3_pointer(e.pointer), e.message) for e in exc.errors]
        try:
            raise_collected(spec.source, errors, exc.total)
        except SpecError as mapped:
            return mapped
    return SpecError(spec.source, _v3_pointer(exc.pointer), exc.message)


class _Converter:
    def __init__(self, spec: LoadedSpec) -> None:
        self._source = spec.source
        self._raw = spec.document

    def _error(self, pointer: str, message: str) -> SpecError:
        return SpecError(self._source, pointer, message)

    def _object(self, value: object, pointer: str, what: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self._error(pointer, f"expected {what} (an object)")
        return value

    def document(self) -> dict[str, Any]:
        if not is_openapi_v3(self._raw):
            raise self._error("/openapi", "expected an OpenAPI 3.0 document ('openapi: 3.x')")
        components = self._object(self._raw.get("components"), "/components", "the components")
        schemas = self._object(components.get("schemas"), "/components/schemas", "a map of schemas")
        parameters = self._object(components.get("parameters"), "/components/parameters",
                                  "a map of parameters")
        paths = self._object(self._raw.get("paths"), "/paths", "a map of paths")
        return {
            "swagger": "2.0",
            "info": self._object(self._raw.get("info"), "/info", "the info"),
            "paths": {path: self._path_item(item, "/paths/" + escape_pointer_token(path))
                      for path, item in paths.items()},
            "definitions": {name: self._refs(schema, "/components/schemas/" + escape_pointer_token(name))
                            for name, schema in schemas.items()},
            "parameters": {name: self._parameter(param, "/components/parameters/" + escape_pointer_token(name))
                           for name, param in parameters.items()},
        }

    def _refs(self, node: Any, pointer: str) -> Any:
        """``node`` with every schema reference renamed; anything else copied as it is."""
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    if not value.startswith(_SCHEMA_REF):
                        raise self._error(pointer + "/$ref",
                                          f"only local schema references (#/components/schemas/...) "
                                          f"are supported, got {value!r}")
                    out[key] = "#/definitions/" + value[len(_SCHEMA_REF):]
                else:
                    out[key] = self._refs(value, f"{pointer}/{escape_pointer_token(str(key))}")
            return out
        if isinstance(node, list):
            return [self._refs(value, f"{pointer}/{i}") for i, value in enumerate(node)]
        return node

    def _parameter(self, raw: object, pointer: str) -> dict[str, Any]:
        param = self._object(raw, pointer, "a parameter")
        ref = param.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith(_PARAMETER_REF):
                raise self._error(pointer + "/$ref", f"only local parameter references "
                                  f"(#/components/parameters/...) are supported, got {ref!r}")
            return {"$ref": "#/parameters/" + ref[len(_PARAMETER_REF):]}
        out = {k: self._refs(v, f"{pointer}/{escape_pointer_token(k)}") for k, v in param.items()
               if k != "schema"}
        schema = self._object(param.get("schema"), pointer + "/schema", "a schema")
        for key, value in self._refs(schema, pointer + "/schema").items():
            out.setdefault(key, value)
        return out

    def _parameters(self, raw: object, pointer: str) -> list[dict[str, Any]]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise self._error(pointer, "expected a list of parameters")
        return [self._parameter(p, f"{pointer}/{i}") for i, p in enumerate(raw)]

    def _path_item(self, raw: object, pointer: str) -> dict[str, Any]:
        item = self._object(raw, pointer, "a path item")
        out: dict[str, Any] = {}
        for key, value in item.items():
            if key in _METHODS:
                out[key] = self._operation(value, f"{pointer}/{key}")
            elif key == "parameters":
                out[key] = self._parameters(value, pointer + "/parameters")
        return out

    def _operation(self, raw: object, pointer: str) -> dict[str, Any]:
        op = self._object(raw, pointer, "an operation")
        out = {k: v for k, v in op.items()
               if k not in ("parameters", "requestBody", "responses", "callbacks", "servers")}
        parameters = self._parameters(op.get("parameters"), pointer + "/parameters")
        body = self._object(op.get("requestBody"), pointer + "/requestBody", "a request body")
        if body:
            content = self._object(body.get("content"), pointer + "/requestBody/content", "a map of media types")
            out["consumes"] = list(content)
            schema = self._content_schema(content, pointer + "/requestBody/content")
            param: dict[str, Any] = {"name": "body", "in": "body", "required": body.get("required") is True}
            if schema is not None:
                param["schema"] = schema
            parameters.append(param)
        if parameters:
            out["parameters"] = parameters
        responses = self._object(op.get("responses"), pointer + "/responses", "a map of responses")
        out["responses"] = {code: self._response(response, f"{pointer}/responses/{escape_pointer_token(code)}")
                            for code, response in responses.items()}
        return out

    def _response(self, raw: object, pointer: str) -> dict[str, Any]:
        response = self._object(raw, pointer, "a response")
        out: dict[str, Any] = {"description": response.get("description", "")}
        content = self._object(response.get("content"), pointer + "/content", "a map of media types")
        schema = self._content_schema(content, pointer + "/content")
        if schema is not None:
            out["schema"] = schema
        return out

    def _content_schema(self, content: dict[str, Any], pointer: str) -> dict[str, Any] | None:
        """The schema of ``application/json`` if present, else of the first media type."""
        for media in sorted(content, key=lambda m: m != "application/json"):
            entry = self._object(content[media], f"{pointer}/{escape_pointer_token(media)}", "a media type")
            if "schema" in entry:
                where = f"{pointer}/{escape_pointer_token(media)}/schema"
                schema = self._refs(self._object(entry["schema"], where, "a schema"), where)
                return schema if isinstance(schema, dict) else None
        return None
