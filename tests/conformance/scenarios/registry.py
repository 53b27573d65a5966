"""The one list of conformance scenarios, each with an id, and how to run one on a backend.

A scenario is a plain function of a :class:`~tests.conformance.backends.Backend` (or a coroutine
function, for the async clientset), registered with :func:`scenario`. The pytest module and the
benchmark both iterate :data:`SCENARIOS`, so the two never drift apart.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..backends import Backend

ScenarioFn = Callable[[Backend], Any]


@dataclass(frozen=True)
class Scenario:
    id: str
    fn: ScenarioFn
    #: Runs until a server-side timeout by design (a watch's ``timeoutSeconds``): its wall time
    #: is that timeout on any backend, so the benchmark reports such scenarios apart.
    waits: bool = False
    #: Why the fake is known to differ here (a limit listed in docs/testing.md), or None. The
    #: scenario still runs on both; on the fake it is expected to fail, strictly.
    fake_limit: str | None = None

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.fn)

    def run(self, backend: Backend) -> None:
        if self.is_async:
            asyncio.run(self.fn(backend))
        else:
            self.fn(backend)


SCENARIOS: list[Scenario] = []


def scenario(fn: ScenarioFn) -> ScenarioFn:
    """Register ``fn`` under its name without the ``scenario_`` prefix; ids are unique."""
    sid = fn.__name__.removeprefix("scenario_")
    if any(s.id == sid for s in SCENARIOS):
        raise ValueError(f"duplicate conformance scenario id {sid!r}")
    SCENARIOS.append(Scenario(sid, fn, waits=getattr(fn, _WAITS, False),
                              fake_limit=getattr(fn, _LIMIT, None)))
    return fn


_WAITS = "_conformance_waits_for_timeout"
_LIMIT = "_conformance_fake_limit"


def waits_for_timeout(fn: ScenarioFn) -> ScenarioFn:
    """Mark a scenario that waits for a server-side timeout (put it under ``@scenario``)."""
    setattr(fn, _WAITS, True)
    return fn


def known_fake_limit(reason: str) -> Callable[[ScenarioFn], ScenarioFn]:
    """Mark a scenario the fake fails by design (put it under ``@scenario``); ``reason`` names
    the known limit as docs/testing.md lists it."""

    def mark(fn: ScenarioFn) -> ScenarioFn:
        setattr(fn, _LIMIT, reason)
        return fn

    return mark

