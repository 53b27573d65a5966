"""Corrections of artefacts in the OpenAPI documents that Kubernetes serves."""

from __future__ import annotations

import re
from typing import Any

from . import Document, Fixup

_COPY_SUFFIX = re.compile(r"^(?P<base>.+)_v(?P<n>[0-9]+)$")
_GVK = "x-kubernetes-group-version-kind"


def _rewrite_refs(node: Any, renames: dict[str, str]) -> int:
    """Rewrite ``#/definitions/<old>`` references in place; return how many changed."""
    changed = 0
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            target = ref[len("#/definitions/"):]
            if target in renames:
                node["$ref"] = "#/definitions/" + renames[target]
                changed += 1
        for value in node.values():
            changed += _rewrite_refs(value, renames)
    elif isinstance(node, list):
        for value in node:
            changed += _rewrite_refs(value, renames)
    return changed


def _has_schema_copies(document: Document) -> bool:
    definitions = document.get("definitions", {})
    return any(
        (m := _COPY_SUFFIX.match(name)) is not None and m.group("base") in definitions
        for name in definitions
    )


def served_crd_schema_copies(document: Document) -> int:
    """Fold ``ObjectMeta_v2``-style copies back into the definitions they copy.

    When CRDs are installed, kube-apiserver 1.20 publishes their schemas merged with
    private copies of the meta types (``ObjectMeta_v2``, ``Scale_v2``, ``Status_v2`` …)
    that differ from the originals only in referring to each other and in lacking the
    GroupVersionKind extension. Generating them would give users two incompatible
    ``ObjectMeta`` classes. A copy is folded only when it is identical to its original
    after undoing the renames; anything else is kept as its own type.
    """
    definitions: dict[str, Any] = document.get("definitions", {})
    candidates = {
        name: m.group("base")
        for name in definitions
        if (m := _COPY_SUFFIX.match(name)) is not None and m.group("base") in definitions
    }
    if not candidates:
        return 0
    import copy

    folded: dict[str, str] = {}
    for name, base in sorted(candidates.items()):
        normalised = copy.deepcopy(definitions[name])
        _rewrite_refs(normalised, candidates)
        original = {k: v for k, v in definitions[base].items() if k != _GVK}
        normalised.pop(_GVK, None)
        if normalised == original:
            folded[name] = base
    changed = _rewrite_refs(document, folded)
    for name in folded:
        del definitions[name]
    return changed + len(folded)


UPSTREAM_FIXUPS: tuple[Fixup, ...] = (
    Fixup(
        name="served_crd_schema_copies",
        why="kube-apiserver publishes *_v2 copies of meta types next to CRD schemas",
        expected=_has_schema_copies,
        apply=served_crd_schema_copies,
    ),
)
