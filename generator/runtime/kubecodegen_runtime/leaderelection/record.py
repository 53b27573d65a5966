"""The leader election record and its form in a ``coordination.k8s.io/v1`` Lease spec.

client-go's ``resourcelock`` keeps one record per lock; for a Lease it lives in the
``spec``: ``holderIdentity``, ``leaseDurationSeconds``, ``acquireTime``, ``renewTime``
(meta/v1 ``MicroTime``: RFC 3339 in UTC with six fractional digits) and
``leaseTransitions``. The conversion is pure and total in one direction (a record always
becomes a valid spec) and forgiving in the other: a Lease written by another tool may miss
any field, and a missing field reads as empty/zero/None, as Go's zero values do. A time
that does not parse reads as None: the times are informational only (expiry is never
judged from them, see :mod:`.core`), so a bad one must not stop an election.

Fields of the spec this record does not know (``strategy``, ``preferredHolder`` of
coordinated leader election, anything newer) are kept by :func:`apply_to_spec`, which
writes the record's fields into an existing spec instead of building a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..types import MicroTime


@dataclass(frozen=True)
class LeaderElectionRecord:
    """What a lock holds: who leads, for how long a lease lasts, and since when.

    ``holder_identity`` empty means nobody holds the lock (never acquired, or released).
    ``acquire_time``/``renew_time`` are the holder's wall clock and are never used to
    decide expiry; two records compare equal exactly when their wire forms are equal
    (times to the microsecond), which is how a change of the record is detected.
    """

    holder_identity: str
    lease_duration_seconds: int
    acquire_time: datetime | None
    renew_time: datetime | None
    leader_transitions: int


def format_micro_time(value: datetime) -> str:
    """The wire form of a MicroTime: ``2006-01-02T15:04:05.000000Z`` (UTC, microseconds)."""
    return MicroTime.from_datetime(value).to_wire()


def parse_micro_time(value: object) -> datetime | None:
    """A MicroTime (or any RFC 3339 time with a zone) from the wire; None if absent or bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return MicroTime.from_wire(value)
    except ValueError:
        return None


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def record_from_spec(spec: Mapping[str, Any] | None) -> LeaderElectionRecord:
    """The record held by a Lease ``spec`` (a missing spec is the empty record)."""
    spec = spec if isinstance(spec, Mapping) else {}
    holder = spec.get("holderIdentity")
    return LeaderElectionRecord(
        holder_identity=holder if isinstance(holder, str) else "",
        lease_duration_seconds=_int(spec.get("leaseDurationSeconds")),
        acquire_time=parse_micro_time(spec.get("acquireTime")),
        renew_time=parse_micro_time(spec.get("renewTime")),
        leader_transitions=_int(spec.get("leaseTransitions")),
    )


def spec_fields(record: LeaderElectionRecord) -> dict[str, Any]:
    """The Lease spec fields of ``record``; unset times and an empty holder are left out
    (as Go's ``omitempty`` pointers are), so a released Lease has no ``holderIdentity``."""
    fields: dict[str, Any] = {
        "leaseDurationSeconds": record.lease_duration_seconds,
        "leaseTransitions": record.leader_transitions,
    }
    if record.holder_identity:
        fields["holderIdentity"] = record.holder_identity
    if record.acquire_time is not None:
        fields["acquireTime"] = format_micro_time(record.acquire_time)
    if record.renew_time is not None:
        fields["renewTime"] = format_micro_time(record.renew_time)
    return fields


_RECORD_KEYS = ("holderIdentity", "leaseDurationSeconds", "acquireTime", "renewTime",
                "leaseTransitions")


def apply_to_spec(spec: Mapping[str, Any] | None, record: LeaderElectionRecord) -> dict[str, Any]:
    """A copy of ``spec`` holding ``record``: the record's keys replaced (or removed when
    the record leaves them unset), every other key kept as the server sent it."""
    kept = {key: value for key, value in (spec or {}).items() if key not in _RECORD_KEYS}
    kept.update(spec_fields(record))
    return kept
