"""Spec → model, in pipeline order: the one place the three stages are chained.

A validated :class:`~.spec.LoadedSpec` is parsed into frozen records (:mod:`.spec.parse`),
the fixups of its row of the table run on them (:mod:`.fixups`), and the model is built from
the result (:mod:`.model`). ``generate`` and the runtime's meta/v1 rendering both use it.
"""

from __future__ import annotations

from collections.abc import Collection

from .fixups import run_fixups
from .model import ApiModel, build_model
from .spec import LoadedSpec
from .spec.parse import parse_document


def model_of(spec: LoadedSpec, groups: Collection[str] | None = None) -> ApiModel:
    """The model of a validated spec: records, then fixups, then the model."""
    return build_model(run_fixups(parse_document(spec)), groups=groups)
