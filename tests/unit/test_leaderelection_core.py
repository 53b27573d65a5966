"""The leader elector's pure decisions, driven with an injected clock.

A tiny in-test lock (one record and a version counter, Conflict on a stale version,
NotFound before creation) answers the operations an attempt yields, so every rule of
``leaderelection.core``'s specification is checked without threads or a server.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubecodegen_runtime.errors import AlreadyExists, Conflict, NotFound, ServiceUnavailable
from kubecodegen_runtime.leaderelection import (
    JITTER_FACTOR,
    ElectionTimings,
    ElectorCore,
    LeaderElectionRecord,
    apply_to_spec,
    record_from_spec,
    spec_fields,
)
from kubecodegen_runtime.leaderelection.core import Attempt, Create, Get, OpResult, Update
from kubecodegen_runtime.leaderelection.record import format_micro_time

T = ElectionTimings()  # client-go's defaults: 15 / 10 / 2
WALL = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)


class Store:
    """One lock: a record and its version; writers carry the version they last read."""

    def __init__(self, record: LeaderElectionRecord | None = None) -> None:
        self.record = record
        self.version = 0 if record is None else 1
        self.writes: list[LeaderElectionRecord] = []
        self.fail_next: BaseException | None = None
        self.seen: dict[str, int] = {}
        self.down = False  # every operation fails (the apiserver is away)

    def set(self, record: LeaderElectionRecord) -> None:
        """Someone else writes the lock."""
        self.record = record
        self.version += 1


def drive(who: ElectorCore, attempt: Attempt, store: Store, now: float) -> tuple[bool, list[str]]:
    """Run an attempt of ``who`` against ``store`` at ``now``; returns the result and the
    ops seen. As a real lock, each elector's lock remembers the version it last read or
    wrote, and an update conflicts unless that is still the current one."""
    seen: list[str] = []
    read_version = store.seen.get(who.identity, -1)
    try:
        op = next(attempt)
        while True:
            seen.append(type(op).__name__)
            error: BaseException | None = None
            record: LeaderElectionRecord | None = None
            if store.down:
                error = ServiceUnavailable(503, "ServiceUnavailable", "down")
            elif store.fail_next is not None:
                error, store.fail_next = store.fail_next, None
            elif isinstance(op, Get):
                if store.record is None:
                    error = NotFound(404, "NotFound", "leases not found")
                record = store.record
                read_version = store.seen[who.identity] = store.version
            elif isinstance(op, Create):
                if store.record is not None:
                    error = AlreadyExists(409, "AlreadyExists", "exists")
                else:
                    store.set(op.record)
                    store.writes.append(op.record)
                    read_version = store.seen[who.identity] = store.version
            else:
                assert isinstance(op, Update)
                if read_version != store.version:
                    error = Conflict(409, "Conflict", "the object has been modified")
                else:
                    store.set(op.record)
                    store.writes.append(op.record)
                    read_version = store.seen[who.identity] = store.version
            op = attempt.send(OpResult(now, record=record, error=error))
    except StopIteration as done:
        return bool(done.value), seen


def foreign(holder: str = "other", *, renew: datetime = WALL, transitions: int = 3
            ) -> LeaderElectionRecord:
    return LeaderElectionRecord(holder, 15, WALL, renew, transitions)


def core(identity: str = "me", timings: ElectionTimings = T) -> ElectorCore:
    return ElectorCore(identity, timings, describe="ns/lease")


# --- acquiring ---------------------------------------------------------------------------------


def test_acquire_when_there_is_no_lease_creates_it() -> None:
    store, me = Store(), core()
    ok, ops = drive(me, me.attempt(100.0, WALL), store, 100.2)
    assert ok and ops == ["Get", "Create"]
    assert store.record == LeaderElectionRecord("me", 15, WALL, WALL, 0)
    assert me.is_leader(100.2) and me.leader() == "me"
    # leadership is counted from the start of the attempt, not its end
    assert me.lead_until == 100.0 + T.renew_deadline


def test_acquire_a_released_lease_at_once_counting_a_transition() -> None:
    store = Store(LeaderElectionRecord("", 1, WALL, WALL, 7))
    me = core()
    ok, ops = drive(me, me.attempt(0.0, WALL), store, 0.0)
    assert ok and ops == ["Get", "Update"]
    assert store.record == LeaderElectionRecord("me", 15, WALL, WALL, 8)


def test_respect_an_unexpired_foreign_lease_without_writing() -> None:
    store, me = Store(foreign()), core()
    ok, ops = drive(me, me.attempt(0.0, WALL), store, 0.0)
    assert not ok and ops == ["Get"] and me.observed_time == 0.0
    assert me.leader() == "other" and not me.is_leader(0.0)
    # still held just before observed_time + lease_duration, by our clock
    ok, ops = drive(me, me.attempt(14.9, WALL), store, 14.9)
    assert not ok and ops == ["Get"] and store.writes == []


def test_take_an_expired_foreign_lease() -> None:
    store, me = Store(foreign(transitions=3)), core()
    drive(me, me.attempt(0.0, WALL), store, 0.0)
    later = WALL + timedelta(seconds=16)
    ok, ops = drive(me, me.attempt(15.01, later), store, 15.01)
    assert ok and ops == ["Get", "Update"]
    assert store.record == LeaderElectionRecord("me", 15, later, later, 4)
    assert me.is_leader(15.01)


def test_a_renewing_holder_stays_leader_in_our_eyes() -> None:
    store, me = Store(foreign()), core()
    drive(me, me.attempt(0.0, WALL), store, 0.0)
    store.set(foreign(renew=WALL + timedelta(seconds=10)))  # the holder renewed
    drive(me, me.attempt(10.0, WALL), store, 10.0)
    assert me.observed_time == 10.0
    ok, _ = drive(me, me.attempt(20.0, WALL), store, 20.0)  # 20 > 0 + 15, but < 10 + 15
    assert not ok and store.writes == []
    ok, _ = drive(me, me.attempt(25.01, WALL), store, 25.01)
    assert ok


def test_two_candidates_race_one_wins_the_other_gets_a_conflict() -> None:
    store = Store(LeaderElectionRecord("", 1, None, None, 0))
    a, b = core("a"), core("b")
    # both read the free lock, then both write: the second writer's version is stale
    attempt_a, attempt_b = a.attempt(0.0, WALL), b.attempt(0.0, WALL)
    assert isinstance(next(attempt_a), Get) and isinstance(next(attempt_b), Get)
    update_a = attempt_a.send(OpResult(0.0, record=store.record))
    update_b = attempt_b.send(OpResult(0.0, record=store.record))
    assert isinstance(update_a, Update) and isinstance(update_b, Update)
    store.set(update_a.record)
    with pytest.raises(StopIteration) as won:
        attempt_a.send(OpResult(0.1))
    with pytest.raises(StopIteration) as lost:
        attempt_b.send(OpResult(0.1, error=Conflict(409, "Conflict", "modified")))
    assert won.value.value is True and lost.value.value is False
    assert a.is_leader(0.1) and not b.is_leader(0.1)


def test_create_race_lost_is_a_failed_attempt() -> None:
    store, me = Store(), core()
    attempt = me.attempt(0.0, WALL)
    next(attempt)
    create = attempt.send(OpResult(0.0, error=NotFound(404, "NotFound", "")))
    assert isinstance(create, Create)
    store.set(foreign())
    with pytest.raises(StopIteration) as done:
        attempt.send(OpResult(0.1, error=AlreadyExists(409, "AlreadyExists", "")))
    assert done.value.value is False and not me.is_leader(0.1)


def test_a_server_error_on_get_fails_the_attempt() -> None:
    store, me = Store(foreign()), core()
    store.fail_next = ServiceUnavailable(503, "ServiceUnavailable", "down")
    ok, ops = drive(me, me.attempt(0.0, WALL), store, 0.0)
    assert not ok and ops == ["Get"] and me.observed is None


# --- renewing and losing -----------------------------------------------------------------------


def test_renew_keeps_acquire_time_and_transitions() -> None:
    store, me = Store(LeaderElectionRecord("", 1, None, None, 5)), core()
    drive(me, me.attempt(0.0, WALL), store, 0.0)
    acquired = store.record
    assert acquired is not None and acquired.leader_transitions == 6
    later = WALL + timedelta(seconds=2)
    ok, ops = drive(me, me.attempt(2.0, later), store, 2.1)
    assert ok and ops == ["Update"]  # the leader's fast path: no read first
    assert store.record == replace(acquired, renew_time=later)
    assert me.lead_until == 2.0 + T.renew_deadline


def test_renew_falls_back_to_reading_when_the_fast_update_conflicts() -> None:
    store, me = Store(), core()
    drive(me, me.attempt(0.0, WALL), store, 0.0)
    assert store.record is not None
    store.set(store.record)  # someone touched the Lease (a label): new version, same record
    ok, ops = drive(me, me.attempt(2.0, WALL), store, 2.0)
    assert ok and ops == ["Update", "Get", "Update"]
    assert me.lead_until == 2.0 + T.renew_deadline


def test_a_candidate_never_takes_the_fast_path() -> None:
    store, me = Store(), core()
    drive(me, me.attempt(0.0, WALL), store, 0.0)
    ok, ops = drive(me, me.attempt(T.renew_deadline, WALL), store, T.renew_deadline)
    assert ok and ops == ["Get", "Update"]  # past the deadline it is not leading any more


def test_leadership_ends_at_the_renew_deadline_without_a_renewal() -> None:
    store, me = Store(), core()
    drive(me, me.attempt(0.0, WALL), store, 0.0)
    assert me.renew_wait(0.0) == T.retry_period
    store.down = True
    ok, _ = drive(me, me.attempt(2.0, WALL), store, 2.0)
    assert not ok and me.is_leader(2.0)  # a failed renewal is retried until the deadline
    assert me.is_leader(T.renew_deadline - 0.001)
    assert not me.is_leader(T.renew_deadline)
    # the waits never reach past the deadline; an operation may use what is left
    assert me.renew_wait(9.5) == pytest.approx(0.5)
    assert me.op_budget(9.0) == pytest.approx(1.0)
    assert me.op_budget(11.0) == 0.0


def test_observing_another_holder_while_leading_steps_down_at_once() -> None:
    store, me = Store(), core()
    drive(me, me.attempt(0.0, WALL), store, 0.0)
    store.set(foreign("usurper"))
    ok, ops = drive(me, me.attempt(2.0, WALL), store, 2.0)
    assert not ok and ops == ["Update", "Get"] and not me.is_leader(2.0)
    assert me.lead_until is None and me.leader() == "usurper"


def test_transitions_count_every_change_of_holder() -> None:
    store = Store()
    a, b = core("a"), core("b")
    now = 0.0
    drive(a, a.attempt(now, WALL), store, now)
    for turn in range(1, 5):
        nxt, prev = (b, a) if turn % 2 else (a, b)
        drive(nxt, nxt.attempt(now, WALL), store, now)  # observe the current holder
        now += T.lease_duration + 0.1  # the holder stopped renewing
        prev.step_down()
        ok, _ = drive(nxt, nxt.attempt(now, WALL), store, now)
        assert ok and store.record is not None and store.record.leader_transitions == turn


# --- clock skew: only our monotonic clock judges expiry ---------------------------------------


@pytest.mark.parametrize("renew", [
    datetime(2100, 1, 1, tzinfo=timezone.utc),  # the holder's wall clock runs far ahead
    datetime(1970, 1, 1, tzinfo=timezone.utc),  # ... or far behind
])
def test_foreign_wall_clock_does_not_matter(renew: datetime) -> None:
    store, me = Store(foreign(renew=renew)), core()
    drive(me, me.attempt(1000.0, WALL), store, 1000.0)
    ok, _ = drive(me, me.attempt(1014.9, WALL), store, 1014.9)
    assert not ok  # not expired early by an old timestamp
    ok, _ = drive(me, me.attempt(1015.01, WALL), store, 1015.01)
    assert ok  # not kept alive by a future timestamp


def test_expiry_counts_from_our_first_observation_not_the_record() -> None:
    store, me = Store(foreign()), core()
    drive(me, me.attempt(50.0, WALL), store, 50.0)  # first seen at 50, whatever its age
    assert me.held_by_other(64.9) and not me.held_by_other(65.01)
    drive(me, me.attempt(60.0, WALL), store, 60.0)  # unchanged record: the moment stays 50
    assert me.observed_time == 50.0


# --- release, new leader, waits, validation ---------------------------------------------------


def test_release_writes_an_empty_holder_and_keeps_transitions() -> None:
    store, me = Store(LeaderElectionRecord("", 1, None, None, 2)), core()
    drive(me, me.attempt(0.0, WALL), store, 0.0)
    ok, ops = drive(me, me.release(WALL), store, 1.0)
    assert ok and ops == ["Update"] and not me.is_leader(1.0)
    assert store.record == LeaderElectionRecord("", 1, WALL, WALL, 3)
    assert me.leader() == ""
    other = core("other")  # the next candidate takes over at its first attempt
    ok, _ = drive(other, other.attempt(1.0, WALL), store, 1.0)
    assert ok and store.record.leader_transitions == 4


def test_release_is_a_no_op_when_not_holding() -> None:
    store, me = Store(foreign()), core()
    drive(me, me.attempt(0.0, WALL), store, 0.0)
    ok, ops = drive(me, me.release(WALL), store, 0.0)
    assert ok and ops == [] and store.writes == []


def test_new_leader_is_reported_once_per_change() -> None:
    store, me = Store(foreign("x")), core()
    assert me.new_leader() is None  # nothing observed yet
    drive(me, me.attempt(0.0, WALL), store, 0.0)
    assert me.new_leader() == "x" and me.new_leader() is None
    drive(me, me.attempt(1.0, WALL), store, 1.0)
    assert me.new_leader() is None
    store.set(LeaderElectionRecord("", 1, None, None, 4))
    drive(me, me.attempt(2.0, WALL), store, 2.0)  # the read sees it free, then we take it
    assert me.new_leader() == "me"


@given(st.floats(0.0, 1.0))
def test_acquire_wait_is_the_jittered_retry_period(r: float) -> None:
    me = core()
    wait = me.acquire_wait(0.0, lambda: r)
    assert T.retry_period <= wait <= T.retry_period * (1 + JITTER_FACTOR)


def test_acquire_wait_stops_at_the_expiry_of_the_observed_lease() -> None:
    store, me = Store(foreign()), core()
    drive(me, me.attempt(0.0, WALL), store, 0.0)
    assert me.acquire_wait(14.5, lambda: 1.0) == pytest.approx(0.501)
    assert me.acquire_wait(5.0, lambda: 1.0) == pytest.approx(T.retry_period * 2.2)


def test_timings_default_and_validation() -> None:
    assert (T.lease_duration, T.renew_deadline, T.retry_period) == (15.0, 10.0, 2.0)
    assert T.lease_duration_seconds == 15
    assert ElectionTimings(0.5, 0.4, 0.1).lease_duration_seconds == 1
    with pytest.raises(ValueError, match="lease_duration must be greater than renew_deadline"):
        ElectionTimings(10, 10, 2)
    with pytest.raises(ValueError, match="renew_deadline must be greater than retry_period"):
        ElectionTimings(15, 2.4, 2)
    for bad in [(0, 1, 1), (15, 0, 1), (15, 10, 0), (-1, -2, -3)]:
        with pytest.raises(ValueError):
            ElectionTimings(*bad)
    with pytest.raises(ValueError):
        ElectorCore("", T)


# --- record <-> Lease spec ---------------------------------------------------------------------


def test_spec_form_of_a_record() -> None:
    record = LeaderElectionRecord("me", 15, WALL, WALL.replace(microsecond=0), 2)
    assert spec_fields(record) == {
        "holderIdentity": "me", "leaseDurationSeconds": 15, "leaseTransitions": 2,
        "acquireTime": "2026-01-02T03:04:05.123456Z",
        "renewTime": "2026-01-02T03:04:05.000000Z",
    }
    released = spec_fields(LeaderElectionRecord("", 1, None, None, 2))
    assert released == {"leaseDurationSeconds": 1, "leaseTransitions": 2}


def test_record_from_a_partial_or_odd_spec() -> None:
    assert record_from_spec(None) == LeaderElectionRecord("", 0, None, None, 0)
    odd = record_from_spec({"holderIdentity": 5, "leaseDurationSeconds": True,
                            "renewTime": "yesterday", "acquireTime": "2026-01-02T05:04:05.5+02:00"})
    assert odd == LeaderElectionRecord("", 0, WALL.replace(microsecond=500000), None, 0)


def test_apply_to_spec_keeps_fields_it_does_not_own() -> None:
    spec = {"holderIdentity": "old", "renewTime": "2020-01-01T00:00:00.000000Z",
            "strategy": "OldestEmulationVersion", "preferredHolder": "x"}
    new = apply_to_spec(spec, LeaderElectionRecord("", 1, None, None, 9))
    assert new == {"strategy": "OldestEmulationVersion", "preferredHolder": "x",
                   "leaseDurationSeconds": 1, "leaseTransitions": 9}
    assert spec["holderIdentity"] == "old"  # the input is not changed


moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 31),
                       timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-7)),
                                                  timezone(timedelta(hours=5, minutes=30))]))


@given(holder=st.text(max_size=20), duration=st.integers(1, 2**31 - 1),
       acquire=st.none() | moments, renew=st.none() | moments, transitions=st.integers(0, 2**31))
def test_record_round_trips_through_the_spec(holder: str, duration: int, acquire: datetime | None,
                                             renew: datetime | None, transitions: int) -> None:
    record = LeaderElectionRecord(holder, duration, acquire, renew, transitions)
    spec = spec_fields(record)
    assert record_from_spec(spec) == record
    for key in ("acquireTime", "renewTime"):
        if key in spec:
            assert spec[key].endswith("Z") and len(spec[key]) == len("2006-01-02T15:04:05.000000Z")
    assert format_micro_time(WALL) == "2026-01-02T03:04:05.123456Z"
