"""The writer's decisions, without I/O: which API, what to send, when to retry or give up.

Both shells (a thread, an asyncio task) run the same loop; everything they decide comes
from here, they only send requests and wait:

1. **API.** ``"auto"`` asks discovery once, in the writer (never in ``eventf``): a served
   ``events.k8s.io/v1`` group-version is used, a 404 means core/v1 (client-go's
   ``NewEventBroadcasterAdapter``). Any other failure (server down) is retried with the
   backoff; events queue meanwhile and the queue bound holds.
2. **Correlation** (:mod:`.correlate`) turns each queued :class:`~.body.Event` into writes.
3. **Delivery** (:meth:`WriterCore.deliver`, a generator the shell drives): send; on
   success remember the answer; on failure classify:

   * a PATCH answered 404 -> create the full body instead (same name), no try spent;
   * a create after a series PATCH answered 409 AlreadyExists (the event was created
     meanwhile) -> retry the PATCH; a plain create answered 409 -> the server has the
     event already (an earlier attempt stored it but its answer was lost): done;
   * transport failures (connection refused, timeouts) and 429/5xx -> retry after the next
     backoff delay, up to ``max_tries`` tries in all, then give up (counted in ``failed``);
   * any other answer (400, 403, 404 on create, 422 Invalid, ...) -> the server refused this
     event; sending it again cannot help: give up at once, counted in ``failed``.

   Giving up is logged as a warning, at most one line per 10 s with the number held back.

   client-go retries 12 times, 10 s apart; here the delays come from the runtime's
   :class:`~..backoff.ExponentialBackoff` (0.5 s doubling to 10 s by default), restarted for
   each event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from ..backoff import Backoff, ExponentialBackoff
from ..errors import AlreadyExists, ApiError, NotFound, TransportError
from ..rest.request import check_segment
from .body import CORE_V1, EVENTS_V1, ApiName, Event
from .correlate import Correlator, LegacyCorrelator, SeriesCorrelator, Write
from .spam import LogLimiter

logger = logging.getLogger("kubecodegen_runtime.events")

ApiChoice = Literal["auto", "events.k8s.io/v1", "v1"]
DISCOVERY_PATH = "/apis/events.k8s.io/v1"
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
DEFAULT_MAX_TRIES = 12
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


def default_backoff() -> Backoff:
    return ExponentialBackoff(initial=0.5, max_delay=10.0)


@dataclass(frozen=True)
class Send:
    """Send ``write``; answer the generator with :class:`Sent` or :class:`SendFailed`."""

    write: Write


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds`` (less if the broadcaster is being stopped), then answer ``None``."""

    seconds: float


@dataclass(frozen=True)
class Sent:
    answer: Any


@dataclass(frozen=True)
class SendFailed:
    error: BaseException


Step = Send | Sleep
Outcome = Sent | SendFailed | None


@dataclass(frozen=True)
class HttpCall:
    method: str
    path: str
    body: bytes
    content_type: str


def http_call(write: Write) -> HttpCall:
    """The request of ``write``; ``ValueError`` for a name or namespace unfit for a path."""
    root = "/apis/events.k8s.io/v1" if write.api == EVENTS_V1 else "/api/v1"
    path = f"{root}/namespaces/{check_segment(write.namespace, 'namespace')}/events"
    body = msgspec.json.encode(write.body)
    if write.verb == "create":
        return HttpCall("POST", path, body, "application/json")
    return HttpCall("PATCH", f"{path}/{check_segment(write.name, 'name')}", body, STRATEGIC_MERGE)


def api_from_discovery(error: BaseException | None) -> ApiName | None:
    """The API after ``GET /apis/events.k8s.io/v1``: ``None`` -> ask again later."""
    if error is None:
        return EVENTS_V1
    if isinstance(error, NotFound):
        return CORE_V1
    return None


def retryable(error: BaseException) -> bool:
    if isinstance(error, TransportError):
        return True
    return isinstance(error, ApiError) and error.status in RETRYABLE_STATUS


def describe(write: Write) -> str:
    return f"{write.verb} {write.api} Event {write.namespace}/{write.name}"


@dataclass
class WriterStats:
    """Counters the shells expose as properties (read without a lock: ints, one writer)."""

    written: int = 0
    failed: int = 0
    retries: int = 0


class WriterCore:
    """One per broadcaster; used only from its writer thread or task."""

    def __init__(self, api: ApiChoice = "auto", *, max_tries: int = DEFAULT_MAX_TRIES,
                 backoff: Callable[[], Backoff] = default_backoff,
                 series_finish: float | None = None, series_refresh: float | None = None) -> None:
        if api not in ("auto", EVENTS_V1, CORE_V1):
            raise ValueError(f"api must be 'auto', 'events.k8s.io/v1' or 'v1', got {api!r}")
        if max_tries < 1:
            raise ValueError(f"max_tries must be >= 1, got {max_tries}")
        self.choice = api
        self.max_tries = max_tries
        self.backoff = backoff
        self._series_options = {k: v for k, v in (("finish", series_finish),
                                                  ("refresh", series_refresh)) if v is not None}
        SeriesCorrelator(**self._series_options)  # validate now, not in the writer
        self.stats = WriterStats()
        self._warnings = LogLimiter(10.0)
        self.correlator: Correlator | None = None
        self._next_sweep: float | None = None
        if api != "auto":
            self.choose(api)

    @property
    def api(self) -> ApiName | None:
        return None if self.correlator is None else self.correlator.api

    def choose(self, api: ApiName) -> None:
        if api == EVENTS_V1:
            self.correlator = SeriesCorrelator(**self._series_options)
        else:
            self.correlator = LegacyCorrelator()
        logger.debug("events: writing %s Events", api)

    def writes_for(self, event: Event) -> list[Write]:
        assert self.correlator is not None
        return self.correlator.observe(event)

    def timeout(self, now: float) -> float | None:
        """How long the writer may wait for the next event before :meth:`tick` has work."""
        if self.correlator is None or self.correlator.sweep == float("inf"):
            return None
        if self._next_sweep is None:
            self._next_sweep = now + self.correlator.sweep
        return max(0.0, self._next_sweep - now)

    def tick(self, now: float) -> list[Write]:
        """The periodic writes (finished and refreshed series) once a sweep is due."""
        if self.correlator is None or self._next_sweep is None or now < self._next_sweep:
            return []
        self._next_sweep = now + self.correlator.sweep
        return self.correlator.due(now)

    def flush(self) -> list[Write]:
        return [] if self.correlator is None else self.correlator.flush()

    def _warn(self, now: float, message: str, *args: object) -> None:
        held = self._warnings.ready(now)
        if held is not None:
            logger.warning(message + " (%d such warnings not logged since the last one)",
                           *args, held)

    def deliver(self, write: Write, now: float) -> Generator[Step, Outcome, None]:
        """Send ``write`` until it is stored, refused, or out of tries (see module doc);
        ``now`` paces the warnings (at most one per 10 s, with a count of those held)."""
        backoff = self.backoff()
        original = write
        tries = 0
        while True:
            outcome = yield Send(write)
            if isinstance(outcome, Sent):
                self.stats.written += 1
                if self.correlator is not None:
                    self.correlator.written(write, outcome.answer)
                return
            assert isinstance(outcome, SendFailed)
            error = outcome.error
            if write.verb == "patch" and isinstance(error, NotFound) and write.fallback:
                write = write.as_create()
                continue
            if isinstance(error, AlreadyExists) and write.verb == "create":
                if not write.from_series:
                    # the name is taken: most likely by this very event, stored by an attempt
                    # whose answer was lost -- the server has it (client-go logs this at V(5))
                    self.stats.written += 1
                    logger.debug("events: %s already exists", describe(write))
                    return
                write = original  # created meanwhile by someone else: patch it after all
            elif not retryable(error):
                self.stats.failed += 1
                self._warn(now, "events: the server refused %s (not retried): %s",
                           describe(write), error)
                return
            tries += 1
            if tries >= self.max_tries:
                self.stats.failed += 1
                self._warn(now, "events: gave up on %s after %d tries: %s", describe(write),
                           tries, error)
                return
            self.stats.retries += 1
            delay = next(backoff)
            now += delay
            logger.debug("events: %s failed (%s), retry %d in %.2fs", describe(write), error,
                         tries, delay)
            yield Sleep(delay)

    def abandoned(self, write: Write, now: float) -> None:
        """The broadcaster stopped before ``write`` was stored."""
        self.stats.failed += 1
        self._warn(now, "events: shutdown abandoned %s", describe(write))
