"""The API model: a closed, I/O-free description of types and resources built from a spec.

``types`` holds the records; ``definitions`` turns swagger definitions into struct
types; ``resources`` turns paths into the Group → Version → Resource tree; ``build``
runs fixups and both passes and checks that every definition is accounted for.
"""

from .build import build_model
from .types import ApiModel

__all__ = ["ApiModel", "build_model"]
