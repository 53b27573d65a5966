"""Correlation: which write an event becomes, for each API. Pure; the writer thread or
task owns one correlator and calls it in order, so no locking.

events.k8s.io/v1 (client-go tools/events) -- :class:`SeriesCorrelator`
    Events are *isomorphic* when they share type, reason, action, reporting controller and
    instance, regarding and related (the note does not count). The first one is created.
    The second within the window turns it into a series: a PATCH of ``series`` to
    ``{count: 2, lastObservedTime}``. Later ones only count in memory; the count reaches the
    server when the series is refreshed (every ``refresh`` seconds, 30 min, which also keeps
    the event from expiring), when it finishes (no occurrence for ``finish`` seconds, 6 min:
    one last PATCH, then the series is forgotten and the next occurrence starts a new event),
    and at shutdown (:meth:`flush`). A singleton is forgotten ``finish`` seconds after it
    happened. client-go sweeps every 6 and 30 minutes; here each entry expires at its own
    deadline, checked by :meth:`due` at least every ``sweep`` seconds.

core/v1 (client-go tools/record ``EventCorrelator``) -- :class:`LegacyCorrelator`
    *Aggregation*: events alike but for the message (same source, object, type, reason)
    that come with 10 different messages within 10 minutes are combined into one event
    named afresh, message ``(combined from similar events): <latest message>``.
    *Counting*: an event equal to one seen before (same source, object incl. fieldPath,
    type, reason, message -- or the same aggregate) is a PATCH of ``count`` (previous + 1),
    ``lastTimestamp`` and ``message`` to the first one's name; the server's answer updates
    what is remembered. Both caches are LRUs of 4096 entries (no time window, as client-go).

A PATCH answered 404 (the event expired or was deleted) falls back to creating the full
body (``Write.fallback``) under the same name, as both client-go recorders do.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Literal

from .body import (
    CORE_V1,
    EVENTS_V1,
    ApiName,
    Event,
    collection_path,
    core_v1_body,
    count_patch,
    event_name,
    events_v1_body,
    series_patch,
)
from .spam import DEFAULT_CACHE_SIZE

SERIES_FINISH = 6 * 60.0
SERIES_REFRESH = 30 * 60.0
AGGREGATE_MAX_EVENTS = 10
AGGREGATE_INTERVAL = 600.0
AGGREGATE_PREFIX = "(combined from similar events): "


@dataclass(frozen=True)
class Write:
    """One request to send: POST ``body`` to ``path``, or PATCH ``body`` to ``path/name``."""

    verb: Literal["create", "patch"]
    api: ApiName
    namespace: str
    name: str
    body: dict[str, Any]
    key: Hashable = None
    #: what to create when a PATCH finds no object (404)
    fallback: dict[str, Any] | None = None
    #: the series (events.k8s.io) or count (core/v1) this write brings to the server
    count: int = 1
    #: created as the fallback of a series PATCH: AlreadyExists means "retry the patch"
    from_series: bool = False

    @property
    def path(self) -> str:
        return collection_path(self.api, self.namespace)

    def as_create(self) -> Write:
        """The fallback create of a PATCH that found nothing."""
        assert self.fallback is not None
        body = dict(self.fallback)
        body["metadata"] = {k: v for k, v in body["metadata"].items() if k != "resourceVersion"}
        return Write("create", self.api, self.namespace, self.name, body, self.key,
                     None, self.count, from_series=self.verb == "patch")


def isomorphic_key(event: Event) -> Hashable:
    return (event.type, event.action, event.reason, event.reporting_controller,
            event.reporting_instance, event.regarding, event.related)


@dataclass
class _Series:
    event: Event  # the first occurrence: its name, eventTime and note stay
    name: str
    count: int = 1
    last_observed: float = 0.0  # monotonic
    last_observed_ns: int = 0  # wall clock, for lastObservedTime
    written: int = 1  # the count the server has (as far as we know)
    refreshed: float = 0.0


class SeriesCorrelator:
    """events.k8s.io/v1 series (see the module docstring)."""

    api: ApiName = EVENTS_V1

    def __init__(self, *, finish: float = SERIES_FINISH, refresh: float = SERIES_REFRESH,
                 sweep: float | None = None) -> None:
        if finish <= 0 or refresh <= 0:
            raise ValueError("series finish and refresh intervals must be > 0")
        self.finish = finish
        self.refresh = refresh
        self.sweep = sweep if sweep is not None else min(finish, refresh) / 6
        self._entries: dict[Hashable, _Series] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def _write(self, key: Hashable, entry: _Series) -> Write:
        fallback = events_v1_body(entry.event, entry.name,
                                  series=(entry.count, entry.last_observed_ns))
        return Write("patch", EVENTS_V1, entry.event.events_namespace, entry.name,
                     series_patch(entry.count, entry.last_observed_ns), key, fallback,
                     entry.count)

    def _finished(self, entry: _Series, now: float) -> bool:
        return now - entry.last_observed >= self.finish

    def _finish(self, key: Hashable, entry: _Series) -> list[Write]:
        del self._entries[key]
        return [self._write(key, entry)] if entry.count > entry.written else []

    def observe(self, event: Event) -> list[Write]:
        """The writes ``event`` causes, at the moment it was observed."""
        key = isomorphic_key(event)
        now = event.observed
        writes: list[Write] = []
        entry = self._entries.get(key)
        if entry is not None and self._finished(entry, now):
            writes += self._finish(key, entry)
            entry = None
        if entry is None:
            name = event_name(event.regarding.name, event.wall_ns)
            self._entries[key] = _Series(event, name, 1, now, event.wall_ns, 1, now)
            writes.append(Write("create", EVENTS_V1, event.events_namespace, name,
                                events_v1_body(event, name), key))
            return writes
        entry.count += 1
        entry.last_observed, entry.last_observed_ns = now, event.wall_ns
        if entry.count == 2:
            entry.refreshed = now
            writes.append(self._write(key, entry))
        return writes

    def due(self, now: float) -> list[Write]:
        """Finished series (last PATCH, forget), expired singletons, series to refresh."""
        writes: list[Write] = []
        for key, entry in list(self._entries.items()):
            if self._finished(entry, now):
                writes += self._finish(key, entry)
            elif entry.count > 1 and now - entry.refreshed >= self.refresh:
                entry.refreshed = now
                writes.append(self._write(key, entry))
        return writes

    def flush(self) -> list[Write]:
        """At shutdown: every series whose count the server does not have yet."""
        return [self._write(key, e) for key, e in self._entries.items() if e.count > e.written]

    def written(self, write: Write, answer: object) -> None:
        entry = self._entries.get(write.key)
        if entry is not None and entry.name == write.name:
            entry.written = max(entry.written, write.count)


@dataclass
class _Logged:
    count: int
    first_ns: int
    name: str
    resource_version: str = ""


@dataclass
class _Aggregate:
    local_keys: set[str] = field(default_factory=set)
    last: float = 0.0


def _source_object(event: Event) -> tuple[str, ...]:
    ref = event.regarding
    return (event.reporting_controller, event.reporting_instance, ref.kind, ref.namespace,
            ref.name, ref.uid, ref.api_version)


class LegacyCorrelator:
    """core/v1 aggregation and counting (see the module docstring)."""

    api: ApiName = CORE_V1

    def __init__(self, *, cache_size: int = DEFAULT_CACHE_SIZE,
                 max_events: int = AGGREGATE_MAX_EVENTS,
                 interval: float = AGGREGATE_INTERVAL) -> None:
        self.cache_size = cache_size
        self.max_events = max_events
        self.interval = interval
        self.sweep = float("inf")
        self._aggregates: OrderedDict[Hashable, _Aggregate] = OrderedDict()
        self._log: OrderedDict[Hashable, _Logged] = OrderedDict()

    def _lru_put(self, cache: OrderedDict[Hashable, Any], key: Hashable, value: Any) -> None:
        cache[key] = value
        cache.move_to_end(key)
        if len(cache) > self.cache_size:
            cache.popitem(last=False)

    def _aggregate(self, event: Event) -> tuple[Hashable, str | None, str]:
        """(log key, message override, name) after aggregation."""
        ref = event.regarding
        full_key = (*_source_object(event), ref.field_path, event.type, event.reason, event.note)
        agg_key = (*_source_object(event), event.type, event.reason)
        record = self._aggregates.get(agg_key)
        now = event.observed
        if record is None or now - record.last > self.interval:
            record = _Aggregate()
        record.local_keys.add(event.note)
        record.last = now
        self._lru_put(self._aggregates, agg_key, record)
        name = event_name(ref.name, event.wall_ns)
        if len(record.local_keys) < self.max_events:
            return full_key, None, name
        record.local_keys.pop()  # keep the set from growing past the threshold
        return ("aggregate", agg_key), AGGREGATE_PREFIX + event.note, name

    def observe(self, event: Event) -> list[Write]:
        key, message, name = self._aggregate(event)
        previous = self._log.get(key)
        if previous is None:
            body = core_v1_body(event, name, message=message)
            self._lru_put(self._log, key, _Logged(1, event.wall_ns, name))
            return [Write("create", CORE_V1, event.namespace, name, body, key)]
        count = previous.count + 1
        body = core_v1_body(event, previous.name, message=message, count=count,
                            first_ns=previous.first_ns)
        self._lru_put(self._log, key, _Logged(count, previous.first_ns, previous.name,
                                              previous.resource_version))
        return [Write("patch", CORE_V1, event.namespace, previous.name, count_patch(body), key,
                      body, count)]

    def due(self, now: float) -> list[Write]:
        return []

    def flush(self) -> list[Write]:
        return []

    def written(self, write: Write, answer: object) -> None:
        """Remember what the server stored (tools/record's ``UpdateState``)."""
        logged = self._log.get(write.key)
        if logged is None or not isinstance(answer, dict):
            return
        meta = answer.get("metadata")
        if isinstance(meta, dict) and meta.get("name") == logged.name:
            rv = meta.get("resourceVersion")
            logged.resource_version = rv if isinstance(rv, str) else ""
            count = answer.get("count")
            if isinstance(count, int) and count > logged.count:
                logged.count = count


Correlator = SeriesCorrelator | LegacyCorrelator
