"""The only place where the asyncio and thread shells of a stream differ: running a
second flow of work beside the caller's (stdin written while output is read), and
bounding a session's time. ``AsyncBackground`` / ``Background`` and ``AsyncTimeLimit``
/ ``TimeLimit`` have the same surface, so the shells that use them are written once
(``scripts/unasync.py`` renames ``AsyncX`` to ``X``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from ..errors import DeadlineExceeded

logger = logging.getLogger("kubecodegen_runtime.streams")


class AsyncBackground:
    """``fn(*args)`` running as a task; :meth:`join` waits and re-raises its error."""

    def __init__(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        self._task = asyncio.ensure_future(fn(*args))

    async def join(self) -> None:
        await self._task

    async def cancel(self) -> None:
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # e.g. stdin refused once the command had ended
            logger.debug("background stream work ended with %r", exc)


class Background:
    """``fn(*args)`` running in a daemon thread; :meth:`join` waits and re-raises."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True,
                                        name="kubecodegen-stream")
        self._thread.start()

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except BaseException as exc:  # handed to join()
            self._error = exc

    def join(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error

    def cancel(self) -> None:
        """A thread cannot be cancelled: the caller ends its work (closing the stream it
        blocks on) and this waits for it to notice."""
        self._thread.join()
        if self._error is not None:
            logger.debug("background stream work ended with %r", self._error)


class AsyncTimeLimit:
    """``async with AsyncTimeLimit(seconds, abort, what):`` raises DeadlineExceeded when
    the block takes longer (``None``: no limit). The block is cancelled; ``abort`` is
    for the blocking twin."""

    def __init__(self, seconds: float | None, abort: Callable[[], Any], what: str) -> None:
        self._seconds = seconds
        self._what = what
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None
        self._expired = False

    def _expire(self) -> None:
        self._expired = True
        if self._task is not None:
            self._task.cancel()

    async def __aenter__(self) -> AsyncTimeLimit:
        if self._seconds is not None:
            self._task = asyncio.current_task()
            self._handle = asyncio.get_running_loop().call_later(self._seconds, self._expire)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if self._expired and exc_type is asyncio.CancelledError:
            uncancel = getattr(self._task, "uncancel", None)  # Python 3.11+: the
            if uncancel is not None:  # cancellation was ours, and is consumed here
                uncancel()
            raise DeadlineExceeded(f"{self._what} took longer than {self._seconds:g} s",
                                   method="GET", url=self._what, sent=True) from None


class TimeLimit:
    """Blocking twin of :class:`AsyncTimeLimit`: a blocking read cannot be cancelled, so
    when the time is up ``abort`` is called from a timer thread (it shuts the socket
    down), and the failure that follows in the block becomes DeadlineExceeded."""

    def __init__(self, seconds: float | None, abort: Callable[[], Any], what: str) -> None:
        self._seconds = seconds
        self._abort = abort
        self._what = what
        self._timer: threading.Timer | None = None
        self._expired = threading.Event()

    def _expire(self) -> None:
        self._expired.set()
        self._abort()

    def __enter__(self) -> TimeLimit:
        if self._seconds is not None:
            self._timer = threading.Timer(self._seconds, self._expire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._expired.is_set() and exc_type is not None:
            raise DeadlineExceeded(f"{self._what} took longer than {self._seconds:g} s",
                                   method="GET", url=self._what, sent=True) from exc
