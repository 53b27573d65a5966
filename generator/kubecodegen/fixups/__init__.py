"""Spec corrections, each a named function that says how many places it changed.

Two kinds, kept apart as k8s-openapi does: ``upstream`` corrects bugs and artefacts of
the documents Kubernetes publishes; ``special`` declares the definitions that map to
runtime types with their own wire format instead of generated structs.

A fixup declares when it is *expected* to apply (a predicate on the document). When it
is expected but changes nothing, the run fails: an upstream fix, or a shape we did not
foresee, must be looked at, not silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Document = dict[str, Any]


class FixupError(Exception):
    """A fixup that was expected to apply matched nothing, or found an unexpected shape."""


@dataclass(frozen=True)
class Fixup:
    name: str
    why: str
    expected: Callable[[Document], bool]
    apply: Callable[[Document], int]


def run_fixups(document: Document, fixups: tuple[Fixup, ...] | None = None) -> list[str]:
    """Apply every fixup in place; return the names of those that changed something."""
    from .upstream import UPSTREAM_FIXUPS

    applied: list[str] = []
    for fixup in fixups if fixups is not None else UPSTREAM_FIXUPS:
        expected = fixup.expected(document)
        changed = fixup.apply(document)
        if expected and changed == 0:
            raise FixupError(
                f"fixup {fixup.name!r} was expected to apply to this document but matched "
                f"nothing; the upstream spec may have changed ({fixup.why})"
            )
        if changed:
            applied.append(fixup.name)
    return applied
