"""The event as recorded, and its wire bodies for both Event APIs.

:class:`Event` is what ``eventf`` builds: API-neutral, immutable, with the two clocks of
the moment it happened (``observed``, monotonic, for the correlation windows; ``wall_ns``,
Unix nanoseconds, for names and timestamps). The writer turns it into a body only once it
knows which API the server has.

Rules, as client-go's recorders and the API validation have them:

* name ``<regarding name>.<unix nanoseconds in hex>`` (unique per object and moment);
* namespace: the regarding object's; for a cluster-scoped object ``default`` (core/v1)
  or ``kube-system`` (events.k8s.io/v1, the one namespace every server version accepts,
  see :attr:`Event.events_namespace`);
* the note (core/v1: message) at most 1 KiB of UTF-8 (events.k8s.io's ``noteLengthLimit``),
  cut on a character boundary; core/v1 has no limit of its own, the same cut keeps both
  APIs' events alike;
* ``eventTime`` (events.k8s.io) is a MicroTime; core/v1's ``firstTimestamp`` and
  ``lastTimestamp`` are Times (whole seconds); a core/v1 body leaves ``eventTime`` unset,
  as client-go's tools/record does, so the server applies the legacy validation;
* core/v1 ``source`` is ``{component: reporting controller, host: reporting instance}``,
  and ``reportingComponent``/``reportingInstance`` repeat them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from .reference import ObjectReference

#: events.k8s.io validation: ``note`` at most this many bytes.
NOTE_LIMIT = 1024
EVENT_TYPES = ("Normal", "Warning")
EVENTS_V1: Literal["events.k8s.io/v1"] = "events.k8s.io/v1"
CORE_V1: Literal["v1"] = "v1"
ApiName = Literal["events.k8s.io/v1", "v1"]


@dataclass(frozen=True, slots=True)
class Event:
    """One ``eventf`` call, before any correlation."""

    regarding: ObjectReference
    related: ObjectReference | None
    type: str
    reason: str
    action: str
    note: str
    reporting_controller: str
    reporting_instance: str
    observed: float
    wall_ns: int

    @property
    def namespace(self) -> str:
        """Where a core/v1 Event about this object lives (see :func:`events_namespace`)."""
        return self.regarding.namespace or "default"

    @property
    def events_namespace(self) -> str:
        """Where an events.k8s.io/v1 Event about this object lives.

        A cluster-scoped object's event goes to ``kube-system``: older servers (1.20 among
        them) accept only that namespace for an event with ``eventTime`` about a
        cluster-scoped object; newer ones accept it as well as ``default``, which is
        client-go's choice and is refused by the older servers.
        """
        return self.regarding.namespace or "kube-system"


def truncate_note(note: str, limit: int = NOTE_LIMIT) -> str:
    """``note`` cut to at most ``limit`` UTF-8 bytes without splitting a character."""
    data = note.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return note
    return data[:limit].decode("utf-8", "ignore")


def format_note(note: str, args: tuple[object, ...]) -> str:
    """``note % args`` (Go's Sprintf); a format that does not fit its arguments keeps both."""
    if not args:
        return note
    try:
        return note % args
    except (TypeError, ValueError, KeyError):
        return f"{note} {args!r}"


def event_name(regarding_name: str, wall_ns: int) -> str:
    return f"{regarding_name}.{wall_ns:x}"


def _utc(wall_ns: int) -> datetime:
    return datetime.fromtimestamp(wall_ns // 1_000_000_000, timezone.utc).replace(
        microsecond=(wall_ns % 1_000_000_000) // 1000)


def micro_time(wall_ns: int) -> str:
    """meta/v1 MicroTime text: RFC 3339, UTC, six fractional digits."""
    return _utc(wall_ns).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def wire_time(wall_ns: int) -> str:
    """meta/v1 Time text: RFC 3339, UTC, whole seconds."""
    return _utc(wall_ns).strftime("%Y-%m-%dT%H:%M:%SZ")


def collection_path(api: ApiName, namespace: str) -> str:
    root = "/apis/events.k8s.io/v1" if api == EVENTS_V1 else "/api/v1"
    return f"{root}/namespaces/{namespace}/events"


def events_v1_body(event: Event, name: str, *, series: tuple[int, int] | None = None) -> dict[str, Any]:
    """An events.k8s.io/v1 Event; ``series`` is ``(count, last observed wall_ns)``."""
    body: dict[str, Any] = {
        "apiVersion": EVENTS_V1, "kind": "Event",
        "metadata": {"name": name, "namespace": event.events_namespace},
        "eventTime": micro_time(event.wall_ns),
        "reportingController": event.reporting_controller,
        "reportingInstance": event.reporting_instance,
        "action": event.action, "reason": event.reason, "type": event.type,
        "regarding": event.regarding.to_wire(),
        "note": truncate_note(event.note),
    }
    if event.related is not None:
        body["related"] = event.related.to_wire()
    if series is not None:
        body["series"] = series_patch(*series)["series"]
    return body


def series_patch(count: int, last_observed_ns: int) -> dict[str, Any]:
    """The strategic-merge patch client-go sends for a series: only ``series`` changes."""
    return {"series": {"count": count, "lastObservedTime": micro_time(last_observed_ns)}}


def core_v1_body(event: Event, name: str, *, message: str | None = None, count: int = 1,
                 first_ns: int | None = None) -> dict[str, Any]:
    """A core/v1 Event (tools/record's shape); ``message`` overrides the note (aggregation)."""
    body: dict[str, Any] = {
        "apiVersion": CORE_V1, "kind": "Event",
        "metadata": {"name": name, "namespace": event.namespace},
        "involvedObject": event.regarding.to_wire(),
        "reason": event.reason,
        "message": truncate_note(event.note if message is None else message),
        "type": event.type,
        "source": {"component": event.reporting_controller, "host": event.reporting_instance},
        "reportingComponent": event.reporting_controller,
        "reportingInstance": event.reporting_instance,
        "firstTimestamp": wire_time(event.wall_ns if first_ns is None else first_ns),
        "lastTimestamp": wire_time(event.wall_ns),
        "count": count,
    }
    if event.action:
        body["action"] = event.action
    if event.related is not None:
        body["related"] = event.related.to_wire()
    return body


def count_patch(body: dict[str, Any]) -> dict[str, Any]:
    """tools/record's patch of a repeated core/v1 event: count, lastTimestamp, message."""
    return {"count": body["count"], "lastTimestamp": body["lastTimestamp"],
            "message": body["message"]}
