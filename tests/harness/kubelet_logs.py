"""A test container's log, and the kubelet's ``/containerLogs`` selection over it (pure).

The kubelet answers ``GET /containerLogs/{ns}/{pod}/{container}`` from the container runtime's
log file; here a log is a list of entries the test appends. The selection follows the kubelet
(pkg/kubelet/kuberuntime/logs): ``sinceSeconds``/``sinceTime`` drop older entries, then
``tailLines`` keeps the last lines, ``timestamps`` prefixes each line with its RFC 3339 time in
nanoseconds (Go's RFC3339Nano: trailing zeros of the fraction dropped) and a space, and
``limitBytes`` cuts the output after that many bytes (timestamps included), also while following.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LogEntry:
    """One line of a container's output: when it was written, on which stream, its bytes."""

    time_ns: int
    stream: str  # "stdout" | "stderr"
    data: bytes  # ends with b"\n" unless it is a partial last line


@dataclass(frozen=True)
class LogOptions:
    """The kubelet's query parameters (already parsed)."""

    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    since_ns: int | None = None  # from sinceSeconds or sinceTime
    tail_lines: int | None = None
    limit_bytes: int | None = None


def rfc3339_nano(time_ns: int) -> str:
    """Go's ``time.RFC3339Nano`` in UTC: ``2006-01-02T15:04:05.999999999Z``."""
    seconds, nanos = divmod(time_ns, 1_000_000_000)
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    fraction = f"{nanos:09d}".rstrip("0")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def render(entry: LogEntry, timestamps: bool) -> bytes:
    if not timestamps:
        return entry.data
    return rfc3339_nano(entry.time_ns).encode() + b" " + entry.data


def initial(entries: Sequence[LogEntry], options: LogOptions) -> list[LogEntry]:
    """The entries a request returns at once (before following): since, then tail."""
    chosen: Iterable[LogEntry] = entries
    if options.since_ns is not None:
        since = options.since_ns
        chosen = [entry for entry in chosen if entry.time_ns >= since]
    chosen = list(chosen)
    if options.tail_lines is not None:
        chosen = chosen[-options.tail_lines :] if options.tail_lines > 0 else []
    return chosen


class ByteLimit:
    """``limitBytes``: how much of the output may still be written."""

    def __init__(self, limit: int | None) -> None:
        self.remaining = limit

    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0

    def take(self, data: bytes) -> bytes:
        if self.remaining is None:
            return data
        data = data[: max(self.remaining, 0)]
        self.remaining -= len(data)
        return data
