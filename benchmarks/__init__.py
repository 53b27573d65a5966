"""Benchmarks run by ``make bench`` (``python -m benchmarks``), separate from the tests.

Each benchmark module has one job and returns :class:`Section` objects (a titled table
plus notes) and :class:`Target` verdicts; :mod:`benchmarks.report` turns them into
``docs/benchmarks.md``. Targets are reported as PASS/MISS, never asserted: a benchmark
on a shared 2-core machine is evidence to read, not a gate that should flake.

This module holds what every benchmark shares: the run :class:`Context`, the timing
primitive (:func:`interleaved`), and the result types. Later benchmarks (listing against
the harness cluster, informers) plug in as further modules listed in
:data:`benchmarks.__main__.SUITES`.
"""

from __future__ import annotations

import gc
import gzip
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = Path(__file__).resolve().parent / "podlist-3000-v1.20.2.json.gz"
"""A real PodList of 3000 pods as served by kube-apiserver v1.20.2 (44 MB of JSON)."""


@dataclass(frozen=True)
class Target:
    """One goal from the issue, measured: ``passed`` is None when it could not be measured."""

    name: str
    goal: str
    measured: str
    passed: bool | None

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "MISS", None: "n/a"}[self.passed]


@dataclass
class Section:
    """A table for the report; cells are already formatted strings."""

    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """What one benchmark module contributes to the report."""

    sections: list[Section] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)


@dataclass
class Context:
    """What the benchmark modules share within one run.

    ``packages`` maps a generated package name to the directory that holds it (that
    directory is on ``sys.path`` for in-process benchmarks and on ``PYTHONPATH`` for
    subprocess ones). ``rounds`` is the number of measured repetitions per candidate.
    """

    scratch: Path
    rounds: int
    warmup: int
    packages: dict[str, Path] = field(default_factory=dict)
    package_origin: dict[str, str] = field(default_factory=dict)
    _sample: bytes | None = None

    @property
    def sample(self) -> bytes:
        """The uncompressed PodList JSON, read once (decompression is not benchmarked)."""
        if self._sample is None:
            self._sample = gzip.decompress(SAMPLE.read_bytes())
        return self._sample


def interleaved(
    candidates: dict[str, Callable[[], Any]], rounds: int, warmup: int
) -> dict[str, list[float]]:
    """Wall-clock seconds of each candidate, measured in alternation.

    Candidates run one after another in every round (the order rotates each round), so
    a burst of load from the shared machine hits all of them alike instead of skewing
    one. Each call starts after a full collection with the previous result released, so
    no candidate pays for another's garbage; the garbage collector stays enabled during
    the call, as users run it. Results are dropped after the clock stops: freeing them
    is not part of decoding.
    """
    names = list(candidates)
    times: dict[str, list[float]] = {name: [] for name in names}
    for index in range(warmup + rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            call = candidates[name]
            gc.collect()
            start = time.perf_counter()
            result = call()
            elapsed = time.perf_counter() - start
            del result
            if index >= warmup:
                times[name].append(elapsed)
    gc.collect()
    return times


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float]) -> str:
    """``min–max`` of a sample, to show how noisy a median is."""
    return f"{min(values):.3f}–{max(values):.3f}"
