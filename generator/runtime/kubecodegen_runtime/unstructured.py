"""Objects of kinds without a model class, and ``kind: List`` documents.

:class:`Unstructured` is client-go's ``unstructured.Unstructured`` in Python: the object's
JSON as a ``dict`` (a real one: indexing, ``json.dumps``, the dynamic client all work),
plus read accessors for the type and object metadata. Nothing is converted or dropped,
so it re-encodes exactly as it was read. :class:`Scheme` returns one for an unknown
apiVersion/kind when asked (``unstructured=True``), never by default: a typo'd kind should
be an error that suggests the right name, as in client-go, where a typed scheme refuses
unregistered kinds and the unstructured codec is a separate, explicit choice.

:class:`ObjectList` is ``v1 List`` (what ``kubectl get -o yaml`` prints): a list whose
items carry their own apiVersion/kind and may be of any kinds. The Scheme decodes every
item by its own type.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from .meta import GroupVersionKind
from .model import Object

__all__ = ["ObjectList", "Unstructured"]


class Unstructured(dict[str, Any]):
    """An object's JSON as a dict, with accessors for apiVersion, kind and metadata."""

    __slots__ = ()

    @property
    def api_version(self) -> str:
        value = self.get("apiVersion")
        return value if isinstance(value, str) else ""

    @property
    def kind(self) -> str:
        value = self.get("kind")
        return value if isinstance(value, str) else ""

    @property
    def gvk(self) -> GroupVersionKind:
        return GroupVersionKind.from_api_version(self.api_version, self.kind)

    @property
    def metadata(self) -> dict[str, Any]:
        """The ``metadata`` member (an empty dict when absent or not an object)."""
        value = self.get("metadata")
        return value if isinstance(value, dict) else {}

    @property
    def name(self) -> str:
        value = self.metadata.get("name")
        return value if isinstance(value, str) else ""

    @property
    def namespace(self) -> str:
        value = self.metadata.get("namespace")
        return value if isinstance(value, str) else ""

    def __repr__(self) -> str:
        return f"Unstructured({dict.__repr__(self)})"


class ObjectList(Object, kw_only=True):
    """``apiVersion: v1, kind: List``: items of any kinds, each with its own type meta.

    ``metadata`` is kept as the JSON it was (a ListMeta: resourceVersion, continue), so
    the document re-encodes as it was read; ``items`` are typed objects, or
    :class:`Unstructured` for kinds the scheme does not know when that was asked for.
    """

    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "List")

    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: dict[str, Any] | None = None
    items: list[Any] | None = None
