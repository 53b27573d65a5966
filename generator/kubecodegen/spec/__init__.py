"""Spec loading, validation and parsing: the generator's only entry point for swagger documents.

``load_spec`` turns a source (file, URL, ``builtin:<version>``) into a :class:`LoadedSpec`;
``validate_spec`` proves it is a Swagger 2.0 document the model builder can rely on;
``parse_document`` turns it into the frozen records of :mod:`.records`, the model's only
input. All raise :class:`SpecError` with the source and a JSON pointer.
"""

from .errors import SpecError, SpecErrors
from .load import (
    DEFAULT_SPEC,
    LoadedSpec,
    available_builtin_versions,
    load_spec,
    load_spec_bytes,
)
from .parse import parse_document
from .validate import validate_spec

__all__ = [
    "DEFAULT_SPEC",
    "LoadedSpec",
    "SpecError",
    "SpecErrors",
    "available_builtin_versions",
    "load_spec",
    "load_spec_bytes",
    "parse_document",
    "validate_spec",
]
