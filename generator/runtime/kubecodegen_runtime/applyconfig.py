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

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import msgspec

from . import codec
from .managed_fields import owned, owned_fields
from .meta import GroupVersionKind

if TYPE_CHECKING:  # typing.Self is 3.11+; type checkers ship typing_extensions' stubs
    from typing_extensions import Self

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

    @classmethod
    def extract(cls, obj: M, field_manager: str, subresource: str | None = None) -> Self:
        """The apply configuration of exactly the fields ``field_manager`` owns in ``obj``
        by server-side apply to ``subresource`` (``None``: the object itself), read from
        its ``metadata.managedFields`` (see :mod:`kubecodegen_runtime.managed_fields`).

        This is the read-modify-apply loop of controllers: extract what you applied
        last, change it, apply it again, and no field of another manager becomes yours.
        The result names the object (``metadata.name``/``namespace``) and its kind, as an
        apply must; a manager that applied nothing gets just that.
        """
        document: dict[str, Any] = codec.to_builtins(obj)
        metadata = document.get("metadata") or {}
        fields = owned_fields(metadata.get("managedFields") or (), field_manager, subresource)
        result: dict[str, Any] = {} if fields is None else owned(document, fields)
        names = {key: metadata[key] for key in ("name", "namespace") if metadata.get(key)}
        result["metadata"] = {**(result.get("metadata") or {}), **names}
        result["apiVersion"] = cls.GVK.api_version
        result["kind"] = cls.GVK.kind
        return codec.convert(result, cls)
