"""RFC 7386 JSON merge patch as kube-apiserver applies it (``evanphx/json-patch`` v4)."""

from __future__ import annotations

import json
from typing import Any

from ._common import (
    PatchError,
    bad_request,
    decodes_first,
    go_json_kind,
    internal,
    version_at_least,
)


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
    null_items = not version_at_least(kubernetes_version, 22)
    if patch is not None and not isinstance(patch, dict) and decodes_first(kubernetes_version,
                                                                             field_validation):
        raise bad_request("error decoding patch: json: cannot unmarshal "
                           f"{go_json_kind(patch)} into Go value of type map[string]interface {{}}")
    if isinstance(patch, list):
        text = (f'Invalid value: {json.dumps(json.dumps(_prune_nulls(patch, null_items), separators=(",", ":")))}: '
                "couldn't get version/kind; json parse error: json: cannot unmarshal array into "
                'Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; '
                'Kind string "json:\\"kind,omitempty\\"" }')
        raise PatchError(422, "Invalid", f' "" is invalid: patch: {text}', details={
            "causes": [{"reason": "FieldValueInvalid", "message": text, "field": "patch"}]})
    if not isinstance(patch, dict):
        if version_at_least(kubernetes_version, 23):
            raise bad_request("Invalid JSON Patch")
        raise internal("Invalid JSON Patch")
    if not isinstance(doc, dict):
        return _prune_nulls(patch, null_items)
    return _merge_objects(doc, patch, null_items)
