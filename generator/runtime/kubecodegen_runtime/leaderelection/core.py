"""The leader elector's decisions, without threads, asyncio or I/O (client-go
``tools/leaderelection``).

Specification
=============

Timings (:class:`ElectionTimings`; client-go's defaults 15 / 10 / 2 s and its validation):
``lease_duration > renew_deadline > JITTER_FACTOR * retry_period`` (``JITTER_FACTOR`` 1.2),
all positive. Every time below is a reading of **our own monotonic clock**; the other
holders' wall-clock timestamps in the record are written for humans and never compared.

Observation. The elector remembers the last record it read or wrote (``observed``) and
``observed_time``, the moment *it* first saw that record. The moment changes only when the
record changes (any field: a renewal moves ``renew_time``), so a holder that keeps renewing
keeps its lease alive in everybody's eyes, and one that stops is seen to stop.

One attempt (:meth:`ElectorCore.attempt`, client-go ``tryAcquireOrRenew``) is a generator
of lock operations; a shell performs each and sends back an :class:`OpResult`:

0. Fast path, while we lead: ``Update`` the Lease we wrote last with a renewed record
   (acquire time and transitions kept), without reading it first; on success that is the
   renewal (step 5), on any failure (a 409 when someone else wrote it) go on with step 1.
1. ``Get``. No Lease (``NotFound``): ``Create`` a record naming us (acquire = renew = now,
   transitions 0); success means we lead. Any other error: the attempt fails.
2. A record different from ``observed`` is observed now.
3. Held by another: the holder is not empty, not us, and its lease has not expired --
   ``observed_time + lease_duration > now``. The attempt fails without writing (and a
   leader that finds the Lease so held has lost it: it steps down at once).
4. Otherwise ``Update`` (with the ``resourceVersion`` of the Lease just read, so of two
   racing candidates only one wins; a 409 Conflict is an ordinary failed attempt) a record
   naming us, renewed now; if we held it already the acquire time and transition count
   are kept, else ``leader_transitions`` grows by one.
5. A successful write is observed, and we lead until ``started + renew_deadline``, where
   ``started`` is when the attempt *began* (before the Get): the server applied the write
   after that moment and every other elector observed it later still, so our belief ends
   at least ``lease_duration - renew_deadline`` before anybody may take over, on the
   assumption that the clocks of the hosts run at about the same *rate* (their wall-clock
   offsets do not matter). client-go counts the same deadline from the start of its renew
   round, a retry period after the last success; ours is never later.

Leading (:meth:`ElectorCore.is_leader`): the observed holder is us and ``now`` is before
that deadline. A shell renews every ``retry_period`` (:meth:`renew_wait`); an attempt may
not outlive the deadline (:meth:`op_budget`: a shell abandons it), and when the deadline
passes, or an attempt observes another holder, leadership is lost
(:meth:`step_down`) and the shell stops the leader's work. A lost elector's ``run``
returns, as client-go's does; run it again to stand again.

Candidates retry every ``retry_period * (1 + JITTER_FACTOR * random())`` (client-go's
jittered acquire loop), but never sleep past the moment the observed foreign lease expires
(:meth:`acquire_wait`), so failover is not delayed by up to a whole jittered period.

Release (:meth:`ElectorCore.release`, ``release_on_cancel``): if we hold the lock, write an
empty holder with a one-second lease duration, keeping the transition count, so the next
candidate takes over at its next attempt instead of waiting for expiry.

New leader (:meth:`ElectorCore.new_leader`): after each attempt, the observed holder is
reported when it differs from the last one reported (client-go ``maybeReportTransition``;
the empty holder of a released lock is reported too, as ``""``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from datetime import datetime

from ..config.text import terminal_safe
from ..errors import NotFound
from .record import LeaderElectionRecord

logger = logging.getLogger("kubecodegen_runtime.leaderelection")

#: client-go's ``JitterFactor``: candidates wait up to 2.2 retry periods between attempts.
JITTER_FACTOR = 1.2


@dataclass(frozen=True)
class ElectionTimings:
    """The three durations of an election, validated as client-go's ``NewLeaderElector``."""

    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        if self.lease_duration <= 0:
            raise ValueError("lease_duration must be greater than zero")
        if self.renew_deadline <= 0:
            raise ValueError("renew_deadline must be greater than zero")
        if self.retry_period <= 0:
            raise ValueError("retry_period must be greater than zero")
        if self.lease_duration <= self.renew_deadline:
            raise ValueError("lease_duration must be greater than renew_deadline")
        if self.renew_deadline <= JITTER_FACTOR * self.retry_period:
            raise ValueError(
                f"renew_deadline must be greater than retry_period*{JITTER_FACTOR}")

    @property
    def lease_duration_seconds(self) -> int:
        """The record's whole-second duration (the API refuses 0, so at least 1)."""
        return max(1, int(self.lease_duration))


# --- lock operations an attempt asks a shell to perform -------------------------------------


@dataclass(frozen=True)
class Get:
    """Read the lock's record (``OpResult.record``; ``NotFound`` when there is no lock)."""


@dataclass(frozen=True)
class Create:
    """Create the lock holding ``record``."""

    record: LeaderElectionRecord


@dataclass(frozen=True)
class Update:
    """Replace the record of the lock last read, conditional on its resourceVersion."""

    record: LeaderElectionRecord


LockOp = Get | Create | Update


@dataclass(frozen=True)
class OpResult:
    """What an operation gave: the record read (``Get``), or the error; ``now`` is the
    monotonic time the shell read right after the operation returned."""

    now: float
    record: LeaderElectionRecord | None = None
    error: BaseException | None = None


Attempt = Generator[LockOp, OpResult, bool]


class ElectorCore:
    """The state of one elector; see the module docstring for the rules."""

    def __init__(self, identity: str, timings: ElectionTimings, *, name: str = "",
                 describe: str = "") -> None:
        if not identity:
            raise ValueError("the lock identity must not be empty")
        self.identity = identity
        self.timings = timings
        self.name = name
        self.describe = describe
        self.observed: LeaderElectionRecord | None = None
        self.observed_time: float | None = None
        self._lead_until: float | None = None
        self._reported: str = ""

    # --- queries ------------------------------------------------------------------------

    def is_leader(self, now: float) -> bool:
        """We hold the lock and our renew deadline has not passed."""
        return (self._lead_until is not None and now < self._lead_until
                and self.observed is not None and self.observed.holder_identity == self.identity)

    @property
    def lead_until(self) -> float | None:
        """When our leadership ends unless renewed (None: not leading)."""
        return self._lead_until

    def leader(self) -> str:
        """The observed holder ("" when none or not yet observed)."""
        return self.observed.holder_identity if self.observed is not None else ""

    def held_by_other(self, now: float) -> bool:
        """Another holder's lease is live by our clock (step 3 of an attempt)."""
        if self.observed is None or self.observed_time is None:
            return False
        holder = self.observed.holder_identity
        return (bool(holder) and holder != self.identity
                and self.observed_time + self.timings.lease_duration > now)

    # --- waits a shell asks for ---------------------------------------------------------

    def acquire_wait(self, now: float, random: Callable[[], float]) -> float:
        """Seconds until the next acquire attempt: the jittered retry period, cut short to
        the expiry of the foreign lease we observed."""
        wait = self.timings.retry_period * (1.0 + JITTER_FACTOR * random())
        if self.held_by_other(now):
            assert self.observed_time is not None
            expiry = self.observed_time + self.timings.lease_duration - now
            wait = min(wait, max(0.0, expiry) + 0.001)
        return wait

    def renew_wait(self, now: float) -> float:
        """Seconds until the next renewal: a retry period, never past our deadline."""
        if self._lead_until is None:
            return 0.0
        return max(0.0, min(self.timings.retry_period, self._lead_until - now))

    def op_budget(self, now: float) -> float | None:
        """How long an operation may still take: until our deadline while leading (then
        the shell abandons it), unbounded while only a candidate."""
        if self._lead_until is None:
            return None
        return max(0.0, self._lead_until - now)

    # --- transitions --------------------------------------------------------------------

    def _observe(self, record: LeaderElectionRecord, now: float) -> None:
        if record != self.observed:
            self.observed = record
            self.observed_time = now

    def _won(self, record: LeaderElectionRecord, started: float, now: float) -> None:
        self.observed = record
        self.observed_time = now
        self._lead_until = started + self.timings.renew_deadline

    def step_down(self) -> None:
        """Leadership is over (deadline passed, lost, or stopped); the record stays observed."""
        self._lead_until = None

    def new_leader(self) -> str | None:
        """The holder to report to ``on_new_leader``, once per change; None if unchanged."""
        holder = self.leader()
        if holder == self._reported:
            return None
        self._reported = holder
        return holder

    def _failed(self, what: str, error: BaseException | None) -> bool:
        logger.info("leader election %s: %s of %s failed: %s", self.name or self.identity,
                    what, self.describe, terminal_safe(str(error)))
        return False

    def attempt(self, started: float, wall: datetime) -> Attempt:
        """One try to acquire or renew (client-go ``tryAcquireOrRenew``); yields lock
        operations, returns whether we lead. ``started`` is our monotonic clock and
        ``wall`` the UTC wall clock at the start (the latter only goes into the record)."""
        fresh = LeaderElectionRecord(
            holder_identity=self.identity,
            lease_duration_seconds=self.timings.lease_duration_seconds,
            acquire_time=wall, renew_time=wall, leader_transitions=0,
        )
        if self.is_leader(started) and self.observed is not None:
            # the fast path (client-go 1.28+): the leader assumes the Lease it wrote last
            # is still current and renews it without reading it first
            renewed = replace(fresh, acquire_time=self.observed.acquire_time,
                              leader_transitions=self.observed.leader_transitions)
            fast = yield Update(renewed)
            if fast.error is None:
                self._won(renewed, started, fast.now)
                return True
            logger.info("leader election %s: renewing %s without reading it failed (%s); "
                        "reading it", self.name or self.identity, self.describe,
                        terminal_safe(str(fast.error)))
        got = yield Get()
        if isinstance(got.error, NotFound):
            created = yield Create(fresh)
            if created.error is not None:
                return self._failed("create", created.error)
            self._won(fresh, started, created.now)
            return True
        if got.error is not None or got.record is None:
            return self._failed("get", got.error)
        old = got.record
        self._observe(old, got.now)
        if self.held_by_other(got.now):
            if self._lead_until is not None:
                logger.info("leader election %s: %s is now held by %s", self.name or self.identity,
                            self.describe, terminal_safe(old.holder_identity))
                self.step_down()
            return False
        if old.holder_identity == self.identity:
            new = replace(fresh, acquire_time=old.acquire_time,
                          leader_transitions=old.leader_transitions)
        else:
            new = replace(fresh, leader_transitions=old.leader_transitions + 1)
        updated = yield Update(new)
        if updated.error is not None:
            return self._failed("update", updated.error)
        self._won(new, started, updated.now)
        return True

    def release(self, wall: datetime) -> Attempt:
        """Give the lock up if we hold it (``release_on_cancel``): an empty holder, a
        one-second lease, the transition count kept. Returns whether the lock is free of us."""
        self.step_down()
        if self.observed is None or self.observed.holder_identity != self.identity:
            return True
        empty = LeaderElectionRecord(
            holder_identity="", lease_duration_seconds=1, acquire_time=wall, renew_time=wall,
            leader_transitions=self.observed.leader_transitions,
        )
        done = yield Update(empty)
        if done.error is not None:
            return self._failed("release", done.error)
        self._observe(empty, done.now)
        return True
