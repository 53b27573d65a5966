"""Base classes of apply configurations: the partial objects server-side apply sends.

Server-side apply records the sender as the owner of every field in the body, so a body
must hold only the fields its sender means to own. The models cannot express that: their
required fields are required (``DeploymentSpec`` needs a ``selector``). An apply
configuration mirrors a model with every field optional and left off the wire when unset,
as client-go's ``applyconfigurations`` packages do.

* :class:`ApplyConfiguration` -- base of every generated apply configuration; the struct
  options are the models' (``omit_defaults`` is what keeps unset fields off the wire).
* :class:`KindApplyConfiguration` -- base of the apply configuration of a kind, generic in
  the model class it configures, so a typed client's ``apply()`` accepts the apply
  configuration of its own kind and a type checker rejects any other.
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

import msgspec

from .meta import GroupVersionKind

M = TypeVar("M")


class ApplyConfiguration(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False,
                         repr_omit_defaults=True):
    """Base of every generated apply configuration."""


class KindApplyConfiguration(ApplyConfiguration, Generic[M], kw_only=True):
    """Base of the apply configuration of a kind whose model class is ``M``.

    ``M`` appears in no field: it only ties the configuration to its kind for type
    checkers. Generated subclasses fill ``apiVersion``/``kind`` in from ``GVK`` when they
    are constructed, so the wire form always names its kind.
    """

    GVK: ClassVar[GroupVersionKind]
