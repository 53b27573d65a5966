"""The thread shell: a bounded queue and one daemon writer thread per broadcaster.

Every decision is the pure core's (:mod:`.recorder`, :mod:`.writer`, :mod:`.correlate`);
this module only moves events from ``eventf`` to the writer thread, sends requests with the
:class:`RESTClient` and sleeps. The asyncio twin is :mod:`._async`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from types import TracebackType

from ..backoff import Backoff
from ..client._sync.rest import RESTClient
from ._shared import Broadcaster
from .body import Event
from .correlate import Write
from .recorder import Intake
from .spam import DEFAULT_SPAM_BURST, DEFAULT_SPAM_QPS
from .writer import (
    DEFAULT_MAX_TRIES,
    DISCOVERY_PATH,
    ApiChoice,
    Send,
    SendFailed,
    Sent,
    WriterCore,
    api_from_discovery,
    default_backoff,
    http_call,
)

logger = logging.getLogger("kubecodegen_runtime.events")

_STOP = None
_IDLE = object()


class EventBroadcaster(Broadcaster):
    """Owns the bounded queue and the writer thread; hands out :class:`EventRecorder` s.

    ``api``: ``"auto"`` (events.k8s.io/v1 where the server serves it, else core/v1),
    ``"events.k8s.io/v1"`` or ``"v1"``. ``queue_size`` bounds the events waiting for the
    writer; ``spam_qps``/``spam_burst`` configure the per source+object spam filter;
    ``max_tries`` and ``backoff`` (a factory of :class:`~..backoff.Backoff`) pace retries;
    ``series_finish``/``series_refresh`` override client-go's 6 and 30 minutes. The thread
    starts at once; call :meth:`shutdown` (or use ``with``) to flush and stop it.
    """

    def __init__(self, rest: RESTClient, *, api: ApiChoice = "auto", queue_size: int = 1000,
                 spam_qps: float = DEFAULT_SPAM_QPS, spam_burst: int = DEFAULT_SPAM_BURST,
                 max_tries: int = DEFAULT_MAX_TRIES,
                 backoff: Callable[[], Backoff] = default_backoff,
                 series_finish: float | None = None, series_refresh: float | None = None,
                 clock: Callable[[], float] | None = None,
                 wall_clock: Callable[[], int] | None = None, name: str = "") -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        self._rest = rest
        self._clock = clock or time.monotonic
        self._core = WriterCore(api, max_tries=max_tries, backoff=backoff,
                                series_finish=series_finish, series_refresh=series_refresh)
        self._intake = Intake(spam_qps=spam_qps, spam_burst=spam_burst, clock=self._clock,
                              wall_clock=wall_clock or time.time_ns)
        self._size = queue_size
        # unbounded underneath: the bound is enforced in _offer, so the stop marker always fits
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self._offer_lock = threading.Lock()
        self._closed = False
        self._abort = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"events-writer{name and '-' + name}",
                                        daemon=True)
        self._thread.start()

    def __enter__(self) -> EventBroadcaster:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        return f"EventBroadcaster(api={self.api!r}, pending={self.pending}, dropped={self.dropped})"

    @property
    def pending(self) -> int:
        """Events queued and not yet taken by the writer."""
        return self._queue.qsize()

    def _offer(self, event: Event) -> bool:
        with self._offer_lock:
            if self._closed or self._queue.qsize() >= self._size:
                return False
            self._queue.put_nowait(event)
            return True

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Stop taking events, write what is queued (and pending series counts) within
        ``timeout`` seconds, then stop; returns whether everything was written in time.
        What is still queued or being retried at the deadline is abandoned (``failed``)."""
        with self._offer_lock:
            if not self._closed:
                self._closed = True
                self._queue.put_nowait(_STOP)
        self._thread.join(max(0.0, timeout))
        if not self._thread.is_alive():
            return True
        self._abort.set()
        self._thread.join(1.0)
        return False

    # --- the writer thread ------------------------------------------------------------

    def _run(self) -> None:
        try:
            if self._resolve_api():
                self._loop()
            self._abandon_queued()
        except Exception:
            logger.exception("events: the writer thread failed; events are no longer written")

    def _resolve_api(self) -> bool:
        core = self._core
        backoff = core.backoff()
        while core.api is None:
            try:
                self._rest.get(DISCOVERY_PATH)
            except Exception as exc:
                api = api_from_discovery(exc)
                if api is None:
                    delay = next(backoff)
                    logger.debug("events: discovery of %s failed (%s); again in %.2fs",
                                 DISCOVERY_PATH, exc, delay)
                    if self._abort.wait(delay):
                        return False
                    continue
            else:
                api = api_from_discovery(None)
            assert api is not None
            core.choose(api)
        return True

    def _loop(self) -> None:
        core = self._core
        while not self._abort.is_set():
            try:
                item: Event | object | None = self._queue.get(timeout=core.timeout(self._clock()))
            except queue.Empty:
                item = _IDLE  # nothing arrived: time for the sweep
            if item is _STOP:
                self._deliver_all(core.flush())
                return
            if isinstance(item, Event):
                self._deliver_all(core.writes_for(item))
            self._deliver_all(core.tick(self._clock()))

    def _abandon_queued(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, Event):
                self._core.stats.failed += 1

    def _deliver_all(self, writes: list[Write]) -> None:
        for write in writes:
            if self._abort.is_set():
                self._core.abandoned(write, self._clock())
            else:
                self._deliver(write)

    def _deliver(self, write: Write) -> None:
        plan = self._core.deliver(write, self._clock())
        try:
            step = next(plan)
            while True:
                if isinstance(step, Send):
                    try:
                        call = http_call(step.write)
                        answer = self._rest.request(call.method, call.path, body=call.body,
                                                    content_type=call.content_type)
                    except Exception as exc:
                        step = plan.send(SendFailed(exc))
                    else:
                        step = plan.send(Sent(answer))
                elif self._abort.wait(step.seconds):
                    plan.close()
                    self._core.abandoned(write, self._clock())
                    return
                else:
                    step = plan.send(None)
        except StopIteration:
            return
