"""What the fake derives from a :class:`~.schema.PackageApi`, computed once per api.

A package has one ``PackageApi`` for the life of the process, and every write asks the
same questions of it (its Kubernetes version, whether a type is a built-in kind, which
shape a field has). Answering them from the tables each time cost more than the write
itself; :func:`derived` keeps the answers, per api object, in one :class:`Derived`.

``PackageApi`` is a frozen, slotted dataclass holding dicts: it can be neither hashed nor
weakly referenced, so the cache is keyed by ``id`` and keeps the api alive (an id is then
never reused for another api while its entry exists). Tests that build many small apis
are bounded by :data:`MAX_APIS`.
"""

from __future__ import annotations

from typing import Any

from .release import release
from .schema import PackageApi

#: How many apis keep their derived tables (beyond, the cache starts over).
MAX_APIS = 256


class Derived:
    """The memo tables of one api. ``version``: ``(major, minor)`` of its Kubernetes
    (:func:`~.release.release`: unreadable is the newest). The dicts are filled lazily by their owners
    (:mod:`.fieldset`, :mod:`.apply`): keys are plain strings and tuples, so a lookup is
    one dict access."""

    __slots__ = (
        "api",
        "built_in",
        "children",
        "custom_kinds",
        "custom_schemas",
        "go_zero",
        "status_subresource",
        "version",
    )

    def __init__(self, api: PackageApi) -> None:
        self.api = api
        self.version = release(api.kubernetes_version)
        #: (struct type key, field name) -> Shape of the field (:func:`~.fieldset.child_shape`).
        self.children: dict[tuple[str | None, str], Any] = {}
        #: type key -> whether it is the object of a built-in (not custom) kind.
        self.built_in: dict[str | None, bool] = {}
        #: type key -> whether a resource of that type has a ``status`` subresource.
        self.status_subresource: dict[str | None, bool] = {}
        #: struct type key -> what Go's zero value fills in (:func:`~.apply._go_zero_plan`).
        self.go_zero: dict[str | None, Any] = {}
        #: ``(group, version, resource)`` -> compiled schema of a custom resource version
        #: (:func:`~.crschema.schema_for`; ``None``: it has none).
        self.custom_schemas: dict[tuple[str, str, str], Any] = {}
        #: ``(group, version, kind)`` of every custom resource.
        self.custom_kinds = frozenset((r.group, r.version, r.kind) for r in api.resources
                                      if (r.group, r.resource) in api.custom)


_DERIVED: dict[int, Derived] = {}


def derived(api: PackageApi) -> Derived:
    """The derived tables of ``api`` (made on first use)."""
    found = _DERIVED.get(id(api))
    if found is not None and found.api is api:
        return found
    if len(_DERIVED) >= MAX_APIS:
        _DERIVED.clear()
    found = _DERIVED[id(api)] = Derived(api)
    return found

