"""What the thread and asyncio electors share: configuration, state queries, callbacks.

The shells own only the waiting (threads or asyncio); every decision is the core's
(:mod:`.core`). This base holds the pieces that do not wait: validation, the core and the
mutex around it (``is_leader`` is called from other threads), reporting a new leader, and
running a user callback so that an exception is logged and counted, never lost and never
fatal to the election.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

from ..config.text import terminal_safe
from .core import ElectionTimings, ElectorCore

logger = logging.getLogger("kubecodegen_runtime.leaderelection")


class ElectorBase:
    """Common state of :class:`~.elector.LeaderElector` and :class:`~.aio.AsyncLeaderElector`."""

    def __init__(self, identity: str, describe: str, on_new_leader: Callable[[str], None] | None,
                 *, lease_duration: float, renew_deadline: float, retry_period: float,
                 release_on_cancel: bool, name: str, clock: Callable[[], float] | None) -> None:
        self.timings = ElectionTimings(lease_duration, renew_deadline, retry_period)
        self.name = name
        self.release_on_cancel = release_on_cancel
        self._clock: Callable[[], float] = clock if clock is not None else time.monotonic
        self._random = random.Random()
        self._core = ElectorCore(identity, self.timings, name=name, describe=describe)
        self._mutex = threading.Lock()
        self._on_new_leader = on_new_leader
        #: Exceptions raised by user callbacks (each one is also logged).
        self.callback_errors = 0

    @property
    def identity(self) -> str:
        return self._core.identity

    def is_leader(self) -> bool:
        """Whether we lead now: we hold the lock and our renew deadline has not passed."""
        with self._mutex:
            return self._core.is_leader(self._clock())

    def get_leader(self) -> str:
        """The holder last observed ("" before the first read, or when the lock is free)."""
        with self._mutex:
            return self._core.leader()

    def _label(self) -> str:
        return self.name or self.identity

    @staticmethod
    def _wall() -> datetime:
        return datetime.now(timezone.utc)

    def _callback_failed(self, which: str) -> None:
        self.callback_errors += 1
        logger.exception("leader election %s: %s raised", self._label(), which)

    def _report_new_leader(self) -> None:
        with self._mutex:
            holder = self._core.new_leader()
        if holder is None:
            return
        logger.info("leader election %s: new leader of %s: %s", self._label(),
                    self._core.describe, terminal_safe(holder) or "(none)")
        if self._on_new_leader is not None:
            try:
                self._on_new_leader(holder)
            except Exception:
                self._callback_failed("on_new_leader")

    def _log_lost(self) -> None:
        logger.warning("leader election %s: lost %s (not renewed within %.3gs)", self._label(),
                       self._core.describe, self.timings.renew_deadline)

    def _log_acquired(self) -> None:
        logger.info("leader election %s: acquired %s as %s", self._label(), self._core.describe,
                    terminal_safe(self.identity))
