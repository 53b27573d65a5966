"""Event recording: events.k8s.io/v1 Events (core/v1 where that is all a server has), with
client-go's correlation and spam filter, that never blocks or fails the caller.

``EventBroadcaster(rest)`` owns a bounded queue and a writer thread
(``AsyncEventBroadcaster(async_rest)``: a writer task); ``broadcaster.new_recorder(controller,
instance)`` gives an :class:`EventRecorder` whose ``eventf(regarding, related, type, reason,
action, note, *args)`` builds the event and offers it to the queue, nothing more. See
docs/events.md; the modules' docstrings are the specification:

* :mod:`.reference` -- ObjectReference from a typed object, a dict or a reference;
* :mod:`.body` -- the event record and both APIs' bodies (names, times, 1 KiB note);
* :mod:`.spam` -- the per source+object token-bucket spam filter, the drop-log limiter;
* :mod:`.correlate` -- series (events.k8s.io) and aggregation/counting (core/v1);
* :mod:`.writer` -- API choice, delivery, retry and give-up decisions;
* :mod:`.recorder` -- ``eventf`` and the drop counters; :mod:`._sync`, :mod:`._async` --
  the shells.
"""

from ._async import AsyncEventBroadcaster
from ._sync import EventBroadcaster
from .body import CORE_V1, EVENTS_V1, NOTE_LIMIT, ApiName, Event, truncate_note
from .correlate import LegacyCorrelator, SeriesCorrelator, Write
from .recorder import EventRecorder, Intake
from .reference import ObjectReference, reference_of
from .spam import LogLimiter, SpamFilter
from .writer import ApiChoice, WriterCore

#: The recorder of an :class:`AsyncEventBroadcaster` is the same class: ``eventf`` never waits.
AsyncEventRecorder = EventRecorder

__all__ = [
    "CORE_V1",
    "EVENTS_V1",
    "NOTE_LIMIT",
    "ApiChoice",
    "ApiName",
    "AsyncEventBroadcaster",
    "AsyncEventRecorder",
    "Event",
    "EventBroadcaster",
    "EventRecorder",
    "Intake",
    "LegacyCorrelator",
    "LogLimiter",
    "ObjectReference",
    "SeriesCorrelator",
    "SpamFilter",
    "Write",
    "WriterCore",
    "reference_of",
    "truncate_note",
]
