"""Watch event records handed to users.

Vocabulary (the API's): an *event* is one line of a watch stream, ``{"type": ...,
"object": ...}``. ``ADDED``/``MODIFIED``/``DELETED`` carry a full object and become
:class:`WatchEvent`. ``BOOKMARK`` carries only ``metadata.resourceVersion`` (and
annotations such as ``k8s.io/initial-events-end``) and becomes :class:`Bookmark`, so a
typed object is never faked from a partial one. ``ERROR`` carries a Status and is
raised as a typed :class:`~..errors.ApiError` instead of being yielded.

Both records have a ``type`` attribute with a ``Literal`` type, so a type checker
narrows ``WatchEvent[T] | Bookmark`` on ``event.type == "BOOKMARK"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

T = TypeVar("T")

EventType = Literal["ADDED", "MODIFIED", "DELETED"]

#: Annotation the server puts on the bookmark that ends the initial events of a
#: ``sendInitialEvents`` watch.
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


@dataclass(frozen=True, slots=True)
class WatchEvent(Generic[T]):
    """An object was added, modified or deleted (``object`` is its new/last state)."""

    type: EventType
    object: T


@dataclass(frozen=True, slots=True)
class Bookmark:
    """The watch has seen everything up to ``resource_version``; resume from there."""

    resource_version: str
    annotations: dict[str, str] = field(default_factory=dict)
    type: Literal["BOOKMARK"] = "BOOKMARK"

    @property
    def initial_events_end(self) -> bool:
        return self.annotations.get(INITIAL_EVENTS_END) == "true"
