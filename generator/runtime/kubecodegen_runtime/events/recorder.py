"""``eventf``: build the event, filter it, offer it to the queue -- never wait, never raise.

:class:`Intake` is the front door both broadcasters share: the spam filter, the drop
counters and the rate-limited debug log, behind one short lock (``eventf`` may be called
from any thread; the lock guards a few dictionary operations, never I/O). The recorder
hands an accepted event to its broadcaster's ``offer``, which puts it on the bounded queue
without waiting and says whether there was room.

What ``eventf`` does with an event it cannot take, in order:

* the object has no kind or name, or the type is not ``Normal``/``Warning`` (client-go
  refuses other types in its recorder): logged as an error, counted in ``invalid``;
* the spam filter refuses it: counted in ``spam_filtered``;
* the queue is full, or the broadcaster is shut down: counted in ``queue_full``.

The last two are ``dropped``; each drop is logged at debug level, at most once per
``log_interval`` seconds, with the number held back since the previous line.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from .body import EVENT_TYPES, Event, format_note
from .reference import optional_reference_of, reference_of
from .spam import DEFAULT_SPAM_BURST, DEFAULT_SPAM_QPS, LogLimiter, SpamFilter

logger = logging.getLogger("kubecodegen_runtime.events")


def default_instance(controller: str) -> str:
    """client-go's default reporting instance: ``<controller>-<hostname>``."""
    host = socket.gethostname() or os.environ.get("HOSTNAME", "") or "unknown"
    return f"{controller}-{host}"


class Intake:
    """Spam filter and drop accounting of one broadcaster (see the module docstring)."""

    def __init__(self, *, spam_qps: float = DEFAULT_SPAM_QPS, spam_burst: int = DEFAULT_SPAM_BURST,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], int] = time.time_ns,
                 log_interval: float = 10.0) -> None:
        self.clock = clock
        self.wall_clock = wall_clock
        self._lock = threading.Lock()
        self._spam = SpamFilter(spam_qps, spam_burst)
        self._log = LogLimiter(log_interval)
        self._invalid_log = LogLimiter(log_interval)
        self.queued = 0
        self.spam_filtered = 0
        self.queue_full = 0
        self.invalid = 0

    @property
    def dropped(self) -> int:
        return self.spam_filtered + self.queue_full

    def build(self, regarding: object, related: object | None, type: str, reason: str,
              action: str, note: str, args: tuple[object, ...], controller: str,
              instance: str) -> Event:
        if type not in EVENT_TYPES:
            raise ValueError(f"unsupported event type {type[:64]!r}: use 'Normal' or 'Warning'")
        return Event(
            regarding=reference_of(regarding), related=optional_reference_of(related),
            type=type, reason=str(reason), action=str(action), note=format_note(str(note), args),
            reporting_controller=controller, reporting_instance=instance,
            observed=self.clock(), wall_ns=self.wall_clock())

    def refuse_invalid(self, error: BaseException) -> None:
        with self._lock:
            self.invalid += 1
            held = self._invalid_log.ready(self.clock())
        if held is not None:
            logger.error("events: not recording an event: %s (%d more like it not logged)",
                         error, held)

    def admit(self, event: Event) -> bool:
        with self._lock:
            if self._spam.allow(event, event.observed):
                return True
            self.spam_filtered += 1
        self._dropped(event, "the spam filter refused it")
        return False

    def offered(self, event: Event, queued: bool) -> None:
        with self._lock:
            if queued:
                self.queued += 1
                return
            self.queue_full += 1
        self._dropped(event, "the queue is full or the broadcaster is shut down")

    def _dropped(self, event: Event, why: str) -> None:
        with self._lock:
            held = self._log.ready(self.clock())
        if held is not None:
            ref = event.regarding
            logger.debug("events: dropped %s event %r about %s %s/%s: %s "
                         "(%d drops not logged since the last line; %d dropped in all)",
                         event.type, event.reason, ref.kind, ref.namespace, ref.name, why,
                         held, self.dropped)


class EventRecorder:
    """Records events as one reporting controller and instance (from ``new_recorder``)."""

    def __init__(self, intake: Intake, offer: Callable[[Event], bool],
                 reporting_controller: str, reporting_instance: str) -> None:
        if not reporting_controller:
            raise ValueError("reporting_controller must not be empty")
        self.reporting_controller = reporting_controller
        self.reporting_instance = reporting_instance or default_instance(reporting_controller)
        self._intake = intake
        self._offer = offer

    def __repr__(self) -> str:
        return (f"EventRecorder(controller={self.reporting_controller!r}, "
                f"instance={self.reporting_instance!r})")

    def eventf(self, regarding: object, related: object | None, type: str, reason: str,
               action: str, note: str, *args: object) -> None:
        """Record an event about ``regarding``; ``note % args`` is its text.

        Never blocks and never raises: the event is queued for the background writer or
        dropped and counted (see the module docstring).
        """
        intake = self._intake
        try:
            event = intake.build(regarding, related, type, reason, action, note, args,
                                 self.reporting_controller, self.reporting_instance)
        except Exception as exc:
            intake.refuse_invalid(exc)
            return
        try:
            if intake.admit(event):
                intake.offered(event, self._offer(event))
        except Exception:  # a bug here must still not reach the caller
            logger.exception("events: recording an event failed")
