"""Spec corrections on parsed records, run in pipeline order: spec → fixups → model.

Two kinds, kept apart as k8s-openapi does: ``upstream`` corrects bugs and artefacts of
the documents Kubernetes publishes (each a :class:`Fixup`: a records Document in, a new
Document and the number of places it changed out); ``special`` declares the definitions
that map to runtime types with their own wire format, which the model consults.

Which fixups run on which document is one table, :data:`FIXUP_TABLE`, keyed by what the
document is (where it came from, the Kubernetes version its ``info.version`` names,
whether the server published custom resources in it). A row marked ``required`` is a
claim that the artefact is there: when the fixup then changes nothing, the run fails
naming it, because the upstream spec changed and the fixup must be looked at, not
silently carried along.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .. import naming
from ..spec.records import Document, Origin

__all__ = [
    "DocumentFacts",
    "FixedDocument",
    "Fixup",
    "FixupError",
    "FixupRule",
    "KubernetesVersions",
    "document_facts",
    "run_fixups",
]


class FixupError(Exception):
    """A fixup that was expected to apply matched nothing, or found an unexpected shape."""


@dataclass(frozen=True)
class Fixup:
    """One named correction: ``apply`` returns the corrected document and how many places
    it changed (0: the document did not have the artefact)."""

    name: str
    why: str
    apply: Callable[[Document], tuple[Document, int]]


@dataclass(frozen=True)
class DocumentFacts:
    """What the fixup table looks at: where a document came from, the Kubernetes version
    its ``info.version`` names (``None`` when it names none, e.g. ``unversioned``), and
    whether a server published custom resources in it (definitions of groups that are not
    built in and did not come from ``--crd`` files)."""

    origin: Origin
    kubernetes: tuple[int, int] | None
    served_custom_resources: bool


@dataclass(frozen=True)
class KubernetesVersions:
    """An inclusive range of Kubernetes minor versions (``None`` ends are open); with
    ``unversioned``, also the documents whose ``info.version`` names no version."""

    since: tuple[int, int] | None = None
    until: tuple[int, int] | None = None
    unversioned: bool = False

    def __contains__(self, version: object) -> bool:
        if version is None:
            return self.unversioned
        assert isinstance(version, tuple)
        return ((self.since is None or version >= self.since)
                and (self.until is None or version <= self.until))


@dataclass(frozen=True)
class FixupRule:
    """One row of the table: ``fixup`` runs on documents from ``origins`` whose version is
    in ``kubernetes`` (and, when ``served_custom_resources`` is set, that have them).
    ``required`` says the artefact has been seen in every such document, so finding
    nothing to change is an error; other rows cover versions nobody has checked yet."""

    fixup: Fixup
    origins: frozenset[Origin]
    kubernetes: KubernetesVersions
    served_custom_resources: bool | None
    required: bool

    def matches(self, facts: DocumentFacts) -> bool:
        return (facts.origin in self.origins and facts.kubernetes in self.kubernetes
                and (self.served_custom_resources is None
                     or self.served_custom_resources == facts.served_custom_resources))


@dataclass(frozen=True)
class FixedDocument:
    """A records document after the fixups of its table rows: what ``build_model`` takes,
    so a document cannot reach the model without having been through the table."""

    document: Document
    applied: tuple[str, ...]


_KUBERNETES_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$")


def document_facts(document: Document) -> DocumentFacts:
    match = _KUBERNETES_VERSION.match(document.version)
    version = (int(match.group(1)), int(match.group(2))) if match else None
    custom = any(
        not naming.is_builtin_group(gvk.group) and gvk.group not in document.crd_file_groups
        for schema in document.definitions.values() for gvk in schema.group_version_kinds)
    return DocumentFacts(document.origin, version, custom)


def run_fixups(document: Document, table: tuple[FixupRule, ...] | None = None) -> FixedDocument:
    """Run every fixup whose row matches ``document``, in table order."""
    from .upstream import FIXUP_TABLE

    facts = document_facts(document)
    applied: list[str] = []
    for rule in FIXUP_TABLE if table is None else table:
        if not rule.matches(facts):
            continue
        document, changed = rule.fixup.apply(document)
        if changed:
            applied.append(rule.fixup.name)
        elif rule.required:
            raise FixupError(
                f"fixup {rule.fixup.name!r} is listed as applying to this document ({facts}) "
                f"but matched nothing; the upstream spec may have changed ({rule.fixup.why})"
            )
    return FixedDocument(document, tuple(applied))
