"""Base classes of every generated model type.

Generated structs subclass :class:`Model` (nested types) or :class:`Object` (types that
carry an ``apiVersion``/``kind``: top-level kinds and their lists). The struct options
are set once here and inherited:

* ``kw_only`` -- fields are keyword arguments, so required fields can follow optional ones
  and adding a field upstream never shifts positional arguments.
* ``omit_defaults`` -- a field the user did not set is absent on the wire, never ``null``.
* ``gc=False`` -- API objects are trees, never cycles; untracked structs decode faster and
  are smaller (see msgspec's "Disabling Garbage Collection").
* ``repr_omit_defaults`` -- reprs show what is set, not hundreds of ``None`` fields.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from .meta import GroupVersionKind


class Model(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False, repr_omit_defaults=True):
    """Base of every generated struct."""


class Object(Model, kw_only=True):
    """Base of every type with a single GroupVersionKind (kinds and their lists).

    ``GVK`` is a class constant. The ``api_version``/``kind`` fields stay as decoded:
    items inside a list arrive without them, and re-encoding must reproduce the server's
    JSON exactly. They are filled in from ``GVK`` when an object is encoded for sending
    (see ``Scheme.encode`` and the clients), so users never have to spell them out.
    """

    GVK: ClassVar[GroupVersionKind]


def is_null(value: object) -> bool:
    """Whether a decoded field is ``None``; used by generated ``__post_init__`` methods.

    A ``Nullable[list[X]]`` field is ``list[X]`` to type checkers, so ``if x is None`` in
    generated code would be flagged as unreachable; behind a function the check is opaque.
    """
    return value is None
