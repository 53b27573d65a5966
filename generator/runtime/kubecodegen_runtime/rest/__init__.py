"""The sans-IO REST core: request records and builders, options, response decoding.

Nothing in this package performs I/O; ``transport.py`` sends what it builds and the
clients in ``client/`` wire the two together.
"""

from . import request
from .limits import Limits
from .options import (
    QUERY_NAMES,
    FieldValidation,
    PatchType,
    PatchTypeName,
    Preconditions,
    PropagationPolicy,
    ResourceVersionMatch,
    patch_type,
)
from .request import Request
from .response import Response, WarningHandler

__all__ = [
    "QUERY_NAMES",
    "FieldValidation",
    "Limits",
    "PatchType",
    "PatchTypeName",
    "Preconditions",
    "PropagationPolicy",
    "Request",
    "ResourceVersionMatch",
    "Response",
    "WarningHandler",
    "patch_type",
    "request",
]
