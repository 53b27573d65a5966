"""The structure of a kubeconfig file and a tiny validator for it.

The generator may use ``jsonschema``, but the runtime is copied into generated packages
whose only dependencies are httpx, msgspec and PyYAML, so this module carries its own
validator for the compact JSON-Schema subset the kubeconfig needs: ``type``,
``properties``, ``required``, ``items``, ``additionalProperties`` and ``enum``.

Two deliberate departures from JSON Schema mirror how kubectl (Go structs decoded from
YAML) reads the file: a ``null`` property value counts as "not set" (kubectl itself writes
``users: null``), and unknown properties are allowed unless a schema says otherwise, so
newer kubeconfig fields do not break older clients.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

JSONSchema = Mapping[str, Any]

_STRING: JSONSchema = {"type": "string"}
_BOOLEAN: JSONSchema = {"type": "boolean"}
_STRING_LIST: JSONSchema = {"type": "array", "items": _STRING}

_EXTENSIONS: JSONSchema = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": _STRING, "extension": {}},
    },
}

_CLUSTER: JSONSchema = {
    "type": "object",
    "properties": {
        "server": _STRING,
        "tls-server-name": _STRING,
        "insecure-skip-tls-verify": _BOOLEAN,
        "certificate-authority": _STRING,
        "certificate-authority-data": _STRING,
        "proxy-url": _STRING,
        "disable-compression": _BOOLEAN,
        "extensions": _EXTENSIONS,
    },
}

# User bodies list no required fields: what a user needs is checked only when a context
# uses it (clientcmd's ConfirmUsable), so an incomplete, unused user breaks nothing.
_EXEC: JSONSchema = {
    "type": "object",
    "properties": {
        "command": _STRING,
        "args": _STRING_LIST,
        "env": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": _STRING, "value": _STRING},
            },
        },
        "apiVersion": _STRING,
        "installHint": _STRING,
        "provideClusterInfo": _BOOLEAN,
        "interactiveMode": {"type": "string", "enum": ["Never", "IfAvailable", "Always"]},
    },
}

_USER: JSONSchema = {
    "type": "object",
    "properties": {
        "client-certificate": _STRING,
        "client-certificate-data": _STRING,
        "client-key": _STRING,
        "client-key-data": _STRING,
        "token": _STRING,
        "tokenFile": _STRING,
        "as": _STRING,
        "as-uid": _STRING,
        "as-groups": _STRING_LIST,
        "as-user-extra": {"type": "object", "additionalProperties": _STRING_LIST},
        "username": _STRING,
        "password": _STRING,
        "auth-provider": {
            "type": "object",
            "properties": {
                "name": _STRING,
                "config": {"type": "object", "additionalProperties": _STRING},
            },
        },
        "exec": _EXEC,
        "extensions": _EXTENSIONS,
    },
}

_CONTEXT: JSONSchema = {
    "type": "object",
    "properties": {
        "cluster": _STRING,
        "user": _STRING,
        "namespace": _STRING,
        "extensions": _EXTENSIONS,
    },
}


def _named_list(key: str, body: JSONSchema) -> JSONSchema:
    return {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": _STRING, key: body},
        },
    }


KUBECONFIG_SCHEMA: JSONSchema = {
    "type": "object",
    "properties": {
        "apiVersion": {"type": "string", "enum": ["v1"]},
        "kind": {"type": "string", "enum": ["Config"]},
        "preferences": {"type": "object"},
        "clusters": _named_list("cluster", _CLUSTER),
        "users": _named_list("user", _USER),
        "contexts": _named_list("context", _CONTEXT),
        "current-context": _STRING,
        "extensions": _EXTENSIONS,
    },
}
"""The kubeconfig ``v1``/``Config`` document as kubectl reads it (fields we act on, and
the ones we must at least type-check so a wrong type is reported instead of ignored)."""


class SchemaViolation(NamedTuple):
    """One place where a document does not match its schema.

    ``path`` is a field path such as ``users[0].user.token`` (empty for the document
    root); ``message`` never quotes the offending value, which may be a secret.
    """

    path: str
    message: str


_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "boolean": "a boolean (true/false)",
    "integer": "an integer",
    "number": "a number",
    "null": "null",
}

_SIMPLE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def validate(value: object, schema: JSONSchema) -> list[SchemaViolation]:
    """Return every violation of ``schema`` in ``value``, in document order."""
    return list(_violations(value, schema, ""))


def _violations(value: object, schema: JSONSchema, path: str) -> Iterator[SchemaViolation]:
    expected = schema.get("type")
    if expected is not None and not _has_type(value, expected):
        yield SchemaViolation(path, f"expected {_describe_type(expected)}, got {_describe(value)}")
        return
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        # Listing the allowed values is safe; echoing the given one is not (see module doc).
        allowed = ", ".join(str(item) for item in enum)
        yield SchemaViolation(path, f"unsupported value; expected one of: {allowed}")
        return
    if isinstance(value, dict):
        yield from _object_violations(value, schema, path)
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            yield from _violations(item, schema["items"], f"{path}[{index}]")


def _object_violations(
    value: dict[Any, Any], schema: JSONSchema, path: str
) -> Iterator[SchemaViolation]:
    for name in schema.get("required", ()):
        if value.get(name) is None:
            yield SchemaViolation(join_path(path, name), "required field is missing")
    properties: Mapping[str, JSONSchema] = schema.get("properties", {})
    extra: bool | JSONSchema = schema.get("additionalProperties", True)
    for key, item in value.items():
        if not isinstance(key, str):
            yield SchemaViolation(path, f"keys must be strings, found {_describe(key)} key")
            continue
        if item is None:
            continue
        child = join_path(path, key)
        if key in properties:
            yield from _violations(item, properties[key], child)
        elif extra is False:
            yield SchemaViolation(child, "unknown field")
        elif isinstance(extra, Mapping):
            yield from _violations(item, extra, child)


def join_path(path: str, key: str) -> str:
    """Append a mapping key to a field path, quoting keys that are not plain names."""
    if not _SIMPLE_KEY.match(key):
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else key


def _has_type(value: object, expected: str | list[str]) -> bool:
    if isinstance(expected, list):
        return any(_has_type(value, one) for one in expected)
    if expected == "object":
        return isinstance(value, dict)
    if expected == "array":
        return isinstance(value, list)
    if expected == "string":
        return isinstance(value, str)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected == "null":
        return value is None
    raise ValueError(f"schema uses unsupported type {expected!r}")


def _describe_type(expected: str | list[str]) -> str:
    if isinstance(expected, list):
        return " or ".join(_TYPE_NAMES[one] for one in expected)
    return _TYPE_NAMES[expected]


def _describe(value: object) -> str:
    """Name the JSON type of ``value`` (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"
