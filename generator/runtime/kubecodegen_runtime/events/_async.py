"""The asyncio shell: the writer is a task of the loop the broadcaster was made on.

The same core as the thread shell (the counters and recorders are
:class:`._shared.Broadcaster`'s); only the waiting differs. ``eventf`` stays a plain call: on the loop's
own thread it puts the event on the queue directly, from any other thread it hands it over
with ``call_soon_threadsafe``; the queue bound is a counter checked under a lock either way,
so the caller learns at once whether the event fits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

from ..backoff import Backoff
from ..client._async.rest import AsyncRESTClient
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


class AsyncEventBroadcaster(Broadcaster):
    """:class:`~._sync.EventBroadcaster` for asyncio; construct it inside a running loop.

    ``await shutdown()`` (or ``async with``) flushes and stops the writer task.
    """

    def __init__(self, rest: AsyncRESTClient, *, api: ApiChoice = "auto", queue_size: int = 1000,
                 spam_qps: float = DEFAULT_SPAM_QPS, spam_burst: int = DEFAULT_SPAM_BURST,
                 max_tries: int = DEFAULT_MAX_TRIES,
                 backoff: Callable[[], Backoff] = default_backoff,
                 series_finish: float | None = None, series_refresh: float | None = None,
                 clock: Callable[[], float] | None = None,
                 wall_clock: Callable[[], int] | None = None, name: str = "") -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        self._loop = asyncio.get_running_loop()  # RuntimeError outside a loop, on purpose
        self._loop_thread = threading.get_ident()
        self._rest = rest
        self._clock = clock or time.monotonic
        self._core = WriterCore(api, max_tries=max_tries, backoff=backoff,
                                series_finish=series_finish, series_refresh=series_refresh)
        self._intake = Intake(spam_qps=spam_qps, spam_burst=spam_burst, clock=self._clock,
                              wall_clock=wall_clock or time.time_ns)
        self._size = queue_size
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._count_lock = threading.Lock()
        self._pending = 0
        self._closed = False
        self._task = self._loop.create_task(self._run(), name=f"events-writer{name and '-' + name}")

    async def __aenter__(self) -> AsyncEventBroadcaster:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.shutdown()

    def __repr__(self) -> str:
        return (f"AsyncEventBroadcaster(api={self.api!r}, pending={self.pending}, "
                f"dropped={self.dropped})")

    @property
    def pending(self) -> int:
        return self._pending

    def _offer(self, event: Event) -> bool:
        with self._count_lock:
            if self._closed or self._pending >= self._size:
                return False
            self._pending += 1
        if threading.get_ident() == self._loop_thread:
            self._queue.put_nowait(event)
            return True
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)
        except RuntimeError:  # the loop is closed
            with self._count_lock:
                self._pending -= 1
            return False
        return True

    def _taken(self) -> None:
        with self._count_lock:
            self._pending -= 1

    async def shutdown(self, timeout: float = 10.0) -> bool:
        """As :meth:`EventBroadcaster.shutdown`: flush within ``timeout``, then stop."""
        with self._count_lock:
            first = not self._closed
            self._closed = True
        if first:
            self._queue.put_nowait(_STOP)
        try:
            await asyncio.wait_for(asyncio.shield(self._task), max(0.0, timeout))
            return True
        except asyncio.TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._abandon_queued()
            return False

    # --- the writer task --------------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self._resolve_api()
            await self._loop_events()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("events: the writer task failed; events are no longer written")

    async def _resolve_api(self) -> None:
        core = self._core
        backoff = core.backoff()
        while core.api is None:
            try:
                await self._rest.get(DISCOVERY_PATH)
            except Exception as exc:
                api = api_from_discovery(exc)
                if api is None:
                    delay = next(backoff)
                    logger.debug("events: discovery of %s failed (%s); again in %.2fs",
                                 DISCOVERY_PATH, exc, delay)
                    await asyncio.sleep(delay)
                    continue
            else:
                api = api_from_discovery(None)
            assert api is not None
            core.choose(api)

    async def _loop_events(self) -> None:
        core = self._core
        while True:
            item: Event | object | None
            try:
                item = await asyncio.wait_for(self._queue.get(), core.timeout(self._clock()))
            except asyncio.TimeoutError:
                item = ...  # nothing arrived: time for the sweep
            if item is _STOP:
                await self._deliver_all(core.flush())
                return
            if isinstance(item, Event):
                self._taken()
                await self._deliver_all(core.writes_for(item))
            await self._deliver_all(core.tick(self._clock()))

    def _abandon_queued(self) -> None:
        while not self._queue.empty():
            if isinstance(self._queue.get_nowait(), Event):
                self._taken()
                self._core.stats.failed += 1

    async def _deliver_all(self, writes: list[Write]) -> None:
        for write in writes:
            await self._deliver(write)

    async def _deliver(self, write: Write) -> None:
        plan = self._core.deliver(write, self._clock())
        try:
            step = next(plan)
            while True:
                if isinstance(step, Send):
                    try:
                        call = http_call(step.write)
                        answer = await self._rest.request(call.method, call.path, body=call.body,
                                                          content_type=call.content_type)
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:
                        step = plan.send(SendFailed(exc))
                    else:
                        step = plan.send(Sent(answer))
                else:
                    await asyncio.sleep(step.seconds)
                    step = plan.send(None)
        except StopIteration:
            return
        except asyncio.CancelledError:
            plan.close()
            self._core.abandoned(write, self._clock())
            raise
