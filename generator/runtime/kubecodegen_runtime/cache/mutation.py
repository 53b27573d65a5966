"""Detecting mutation of cached objects.

Objects in an informer's cache are shared: the store, every handler and every lister
caller get the same instance, and no copy is made on the way out (copying every object
for every reader would cost more than the cache saves). Mutating one therefore corrupts
what every other reader sees, breaks index bookkeeping (indexes are recomputed from the
old object on update) and makes the cache disagree with the server until the next update
of that object. Handlers and lister callers must copy before changing anything, e.g.
``msgspec.structs.replace(pod, spec=...)`` or ``copy.deepcopy(pod)``.

Generated structs cannot be frozen (users build and edit them when they create or update
objects), so violations are made *detectable* instead: a :class:`MutationDetector`, opt-in
because it doubles the memory of recent objects, keeps an encoded snapshot of every object
put into the cache and compares later. Enable it in tests and CI, as client-go users do
with ``KUBE_CACHE_MUTATION_DETECTOR``; :func:`mutation_detection_enabled` reads
``KUBECODEGEN_CACHE_MUTATION_DETECTOR`` for the drivers.

Reports name the object's key and the JSON paths that changed, never values: cached
objects may be Secrets.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from .keys import meta_namespace_key

ENV_VAR = "KUBECODEGEN_CACHE_MUTATION_DETECTOR"

_MAX_PATHS = 20


def mutation_detection_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment asks for mutation detection (``=1``/``true``/``yes``)."""
    env = os.environ if environ is None else environ
    return env.get(ENV_VAR, "").strip().lower() in ("1", "true", "yes", "on")


class CacheMutationError(RuntimeError):
    """A cached object was changed in place."""

    def __init__(self, mutations: list[Mutation]) -> None:
        self.mutations = mutations
        lines = [f"{m.key}: changed at {', '.join(m.paths)}" for m in mutations]
        super().__init__(
            "cached objects were mutated (copy objects from informers/listers before "
            "changing them):\n  " + "\n  ".join(lines)
        )


@dataclass(frozen=True, slots=True)
class Mutation:
    """One mutated object: its storage key and the JSON paths whose values differ."""

    key: str
    paths: tuple[str, ...]


@dataclass(slots=True)
class _Entry:
    obj: Any
    snapshot: bytes
    added_at: float


class MutationDetector:
    """Keeps an encoded snapshot of cached objects and reports any that changed since.

    ``retain`` bounds memory: snapshots older than that many seconds are dropped (objects
    mutated later go unnoticed); ``None`` keeps every snapshot until :meth:`clear`.
    """

    def __init__(self, retain: float | None = 120.0, clock: Callable[[], float] = time.monotonic,
                 key_func: Callable[[object], str] = meta_namespace_key) -> None:
        self.retain = retain
        self._clock = clock
        self._key_func = key_func
        self._entries: deque[_Entry] = deque()
        # The writer adds while a test or a periodic checker reads: guard the deque.
        self._lock = threading.Lock()

    def add(self, obj: object) -> None:
        """Snapshot ``obj`` as it is entering the cache."""
        now = self._clock()
        entry = _Entry(obj, msgspec.json.encode(obj), now)
        with self._lock:
            self._expire(now)
            self._entries.append(entry)

    def _expire(self, now: float) -> None:
        if self.retain is None:
            return
        while self._entries and now - self._entries[0].added_at > self.retain:
            self._entries.popleft()

    def check(self) -> list[Mutation]:
        """Every retained object whose current encoding differs from its snapshot."""
        with self._lock:
            self._expire(self._clock())
            entries = list(self._entries)
        found: list[Mutation] = []
        for entry in entries:
            current = msgspec.json.encode(entry.obj)
            if current != entry.snapshot:
                before = msgspec.json.decode(entry.snapshot)
                after = msgspec.json.decode(current)
                paths = tuple(_diff_paths(before, after, ""))[:_MAX_PATHS] or ("(encoding)",)
                try:
                    key = self._key_func(entry.obj)
                except ValueError:
                    key = "<unkeyable object>"
                found.append(Mutation(key, paths))
        return found

    def check_or_raise(self) -> None:
        """Raise :class:`CacheMutationError` if any retained object was mutated."""
        found = self.check()
        if found:
            raise CacheMutationError(found)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _diff_paths(before: Any, after: Any, path: str) -> Iterator[str]:
    """JSON-pointer-like paths where two decoded JSON values differ (no values reported)."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            sub = f"{path}/{key}"
            if key not in before or key not in after:
                yield sub
            else:
                yield from _diff_paths(before[key], after[key], sub)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            yield from _diff_paths(b, a, f"{path}/{i}")
    elif before != after:
        yield path or "/"
