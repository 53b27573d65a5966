"""Offline throughput of an informer's watch path: watch lines in, cache updated (events/s).

An informer spends its life after the first sync applying watch events: each line is
decoded into a typed ``Pod``, fed to the list/watch state machine (``Watcher``), turned
into store writes by ``DeltaProcessor`` (optionally after stripping managedFields) and
handed to the ``SharedProcessor``. This benchmark drives exactly those runtime pieces of
the generated package, wired as the thread informer wires them (``cache/informer.py``)
and fed through its reflector's own loop (``_Loop`` in ``cache/reflector.py``),
but from bytes in memory, so only Python-side work is timed:
no socket, no TLS, no server.

The stream: the sample's 3000 real pods are listed into the cache first (not timed);
then :data:`EVENTS` watch lines, each a full pod as the API server writes it (compact
JSON, newline-terminated), with a resourceVersion that grows by one per event. Of every
20 events one deletes a pod and the next re-creates it; the other 18 modify pods in
turn, so the cache keeps 3000 pods throughout (as a busy, steady namespace does). The
lines are cut into 64 KiB chunks, the most httpcore hands over per read, so events
arrive split across chunks as they do on a fast connection.

After every timed run the cache is checked: every pod is present at the resourceVersion
of its last event, and the watcher resumes from the last event's resourceVersion.

The measurement runs in a fresh interpreter that imports only the generated package:
a full garbage collection walks every tracked object of the process, so in the benchmark
runner (which has imported three Kubernetes clients by then) the same work would be
slower by an amount that depends on which suites ran before.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import importlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import ROOT, SAMPLE, Context, Outcome, Section, Target, median, spread

PACKAGE = "kube_v1_20"
EVENTS = 30_000
CHUNK = 64 * 1024
TARGET_EVENTS_PER_S = 20_000.0
#: Events per cycle: one DELETED, one ADDED (the same pod back), the rest MODIFIED.
CYCLE = 20
#: Timed rounds at most: one round feeds all EVENTS, which takes seconds.
MAX_ROUNDS = 3
CHILD_TIMEOUT = 600.0
_RV = "\x00rv\x00"


@dataclass(frozen=True)
class Stream:
    """What the informer receives: the initial list, then the watch stream's chunks."""

    list_body: bytes
    chunks: list[bytes]
    events: int
    counts: dict[str, int]
    final_rv: dict[str, str]
    """``namespace/name`` -> resourceVersion of the pod's last event (what the cache must hold)."""
    last_rv: str
    line_bytes: int


def _split_template(pod: dict[str, Any]) -> tuple[bytes, bytes]:
    """The pod's compact JSON cut around its resourceVersion value, to splice new ones in."""
    copy = dict(pod)
    copy["metadata"] = {**pod["metadata"], "resourceVersion": _RV}
    text = json.dumps(copy, separators=(",", ":"), ensure_ascii=False).encode()
    marker = json.dumps(_RV).encode()
    if text.count(marker) != 1:
        raise RuntimeError(f"pod {pod['metadata'].get('name')!r}: cannot place resourceVersion")
    head, tail = text.split(marker)
    return head + b'"', b'"' + tail


def _plan(pods: int, events: int) -> Iterator[tuple[str, int]]:
    """(event type, pod index) for each event: see the module docstring."""
    for index in range(events):
        if index % CYCLE == 0:
            yield "DELETED", index % pods
        elif index % CYCLE == 1:
            yield "ADDED", (index - 1) % pods
        else:
            yield "MODIFIED", index % pods


def build_stream(sample: bytes, events: int = EVENTS, chunk: int = CHUNK) -> Stream:
    """The initial list and ``events`` watch lines in ``chunk``-sized pieces, from ``sample``."""
    listing = json.loads(sample)
    items: list[dict[str, Any]] = listing["items"]
    if not items:
        raise RuntimeError("the sample PodList has no items")
    templates = [_split_template(pod) for pod in items]
    keys = [f"{pod['metadata']['namespace']}/{pod['metadata']['name']}" for pod in items]
    base = max(int(pod["metadata"]["resourceVersion"]) for pod in items)
    base = max(base, int(listing["metadata"]["resourceVersion"]))
    counts = {"ADDED": 0, "MODIFIED": 0, "DELETED": 0}
    final_rv = {key: pod["metadata"]["resourceVersion"] for key, pod in zip(keys, items, strict=True)}
    stream = bytearray()
    rv = str(base)
    for offset, (kind, pod) in enumerate(_plan(len(items), events)):
        rv = str(base + offset + 1)
        head, tail = templates[pod]
        stream += b'{"type":"%s","object":%s%s%s}\n' % (kind.encode(), head, rv.encode(), tail)
        counts[kind] += 1
        final_rv[keys[pod]] = rv
    chunks = [bytes(stream[start:start + chunk]) for start in range(0, len(stream), chunk)]
    return Stream(list_body=sample, chunks=chunks, events=events, counts=counts,
                  final_rv=final_rv, last_rv=rv, line_bytes=len(stream))


class Informer:
    """The runtime pieces one thread informer wires together, driven without a server.

    Decoding, feeding the watcher and applying steps go through the reflectors' own shared
    loop (``cache/reflector.py``'s ``_Loop``: the tolerant page and watch-line decoders,
    ``_one`` per event), so the benchmark times the code an informer runs, not a copy.
    """

    def __init__(self, strip_managed_fields: bool) -> None:
        cache = importlib.import_module("kubecodegen_runtime.cache")
        reflector = importlib.import_module("kubecodegen_runtime.cache.reflector")
        self.pod = importlib.import_module(f"{PACKAGE}.models.core_v1").Pod
        info = importlib.import_module(f"{PACKAGE}.clientset.core_v1").PODS
        self.store = cache.new_indexer()
        self.delta = cache.DeltaProcessor(
            self.store, transform=cache.strip_managed_fields if strip_managed_fields else None)
        self.processor = cache.SharedProcessor()
        self.watcher = cache.Watcher(cache.WatcherConfig())
        self.loop = reflector._Loop(
            info, self.pod, namespace=None, watcher=self.watcher, delta=self.delta,
            deliver=self._deliver, lock=threading.Lock(), backoff=None)
        self.decoder = self.loop._new_watch_decoder()

    def _deliver(self, notes: Any) -> None:
        # As SharedInformer._deliver: after the store, the handlers' queues.
        for note in notes:
            self.processor.distribute(note)

    def list_and_open_watch(self, body: bytes) -> None:
        """First LIST (one page) into the cache, then the watch is open: as after a sync."""
        self.loop._consume(self.watcher.start())
        self.loop._consume(self.loop._page(self.loop._decode_page(body)))
        if not self.delta.has_synced():
            raise RuntimeError("the initial list did not sync the cache")
        self.watcher.on_watch_opened()

    def feed(self, chunks: list[bytes]) -> int:
        """Feed the watch stream as the reflector does; the number of events seen."""
        seen = 0
        for chunk in chunks:
            seen += self._events(self.decoder.feed(chunk))
        return seen + self._events(self.decoder.close())

    def _events(self, decoded: list[Any]) -> int:
        batch: list[Any] = []  # stays empty: only a watch-list's initial events collect
        for event in decoded:
            step, _room = self.loop._take(event, batch)
            if step is not None:
                raise RuntimeError(f"the watcher gave up the stream: {step.failure}")
        self.loop._apply(batch)
        return len(decoded)

    def check(self, stream: Stream, strip_managed_fields: bool) -> None:
        """The cache holds every pod at the resourceVersion of its last event."""
        if len(self.store) != len(stream.final_rv):
            raise RuntimeError(f"cache holds {len(self.store)} pods, expected "
                               f"{len(stream.final_rv)}")
        for key, rv in stream.final_rv.items():
            pod = self.store.get_by_key(key)
            if pod is None or pod.metadata.resource_version != rv:
                got = None if pod is None else pod.metadata.resource_version
                raise RuntimeError(f"cache has {key} at resourceVersion {got}, expected {rv}")
            if strip_managed_fields and pod.metadata.managed_fields is not None:
                raise RuntimeError(f"{key}: managedFields were cached despite stripping")
        if self.watcher.resource_version != stream.last_rv:
            raise RuntimeError(f"watcher resumes at {self.watcher.resource_version}, "
                               f"expected {stream.last_rv}")


STRIP = "informer path, strip_managed_fields=True"
KEEP = "informer path, strip_managed_fields=False (default)"
DECODE = "diagnostic: watch decode only (no watcher/delta/store)"
STRIP_NO_GC = "diagnostic: informer path, strip, garbage collector paused"


@contextlib.contextmanager
def _gc_paused(paused: bool) -> Iterator[None]:
    was = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused and was:
            gc.enable()


def _one(stream: Stream, name: str) -> float:
    """Set up (not timed), feed the whole stream (timed), check the cache (not timed)."""
    strip = name != KEEP
    informer = Informer(strip_managed_fields=strip)
    if name != DECODE:
        informer.list_and_open_watch(stream.list_body)
    gc.collect()
    with _gc_paused(name == STRIP_NO_GC):
        start = time.perf_counter()
        if name == DECODE:
            seen = sum(len(informer.decoder.feed(chunk)) for chunk in stream.chunks)
        else:
            seen = informer.feed(stream.chunks)
        elapsed = time.perf_counter() - start
    if seen != stream.events:
        raise RuntimeError(f"{name}: {seen} events decoded, expected {stream.events}")
    if name != DECODE:
        informer.check(stream, strip)
    del informer
    gc.collect()
    return elapsed


def measure(sample: bytes, rounds: int, warmup: int) -> dict[str, Any]:
    """Every path, interleaved: ``warmup`` + ``rounds`` rounds over one built stream."""
    stream = build_stream(sample)
    names = [STRIP, KEEP, DECODE, STRIP_NO_GC]
    times: dict[str, list[float]] = {name: [] for name in names}
    for index in range(warmup + rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            elapsed = _one(stream, name)
            if index >= warmup:
                times[name].append(elapsed)
    return {"times": times, "events": stream.events, "counts": stream.counts,
            "line_bytes": stream.line_bytes}


def run(ctx: Context) -> Outcome:
    """Run :func:`measure` in a fresh interpreter (see the module docstring)."""
    rounds, warmup = min(ctx.rounds, MAX_ROUNDS), min(ctx.warmup, 1)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ctx.packages[PACKAGE]), str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    done = subprocess.run([sys.executable, "-m", "benchmarks.informer_offline",
                           str(rounds), str(warmup)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=CHILD_TIMEOUT, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"offline informer benchmark failed (exit {done.returncode}):\n"
                           f"{done.stderr[-3000:]}")
    return _outcome(json.loads(lines[-1]), rounds, warmup)


def _outcome(result: dict[str, Any], rounds: int, warmup: int) -> Outcome:
    times: dict[str, list[float]] = result["times"]
    events: int = result["events"]
    line_bytes: int = result["line_bytes"]
    rates = {name: events / median(values) for name, values in times.items()}
    rows = []
    for name, values in times.items():
        rows.append([name, f"{median(values):.3f}", spread(values), f"{rates[name]:,.0f}",
                     f"{median(values) / events * 1e6:.0f}",
                     f"{line_bytes / median(values) / 1e6:.0f}"])
    counts = ", ".join(f"{count} {kind}" for kind, count in result["counts"].items())
    section = Section(
        title=f"Watch events decoded and applied to a 3000-pod cache, offline "
              f"({events} events, {line_bytes / 1e6:.0f} MB of watch lines)",
        headers=["path", "median s", "range s", "events/s", "µs per event", "MB/s"],
        rows=rows,
        notes=[
            f"Median of {rounds} interleaved rounds after {warmup} warm-up round(s), in one "
            "fresh interpreter that imports only the generated package (a full collection "
            "walks every tracked object of the process, so a process holding more is "
            "slower); each round builds a fresh informer core and lists the sample's 3000 "
            "pods into it (not timed), then feeds the whole stream (timed), then checks that "
            "every pod is cached at the resourceVersion of its last event (not timed).",
            f"Events: {counts}; each a full pod of the sample (average "
            f"{line_bytes / events / 1e3:.1f} kB of JSON, about half of it "
            "managedFields), fed in 64 KiB chunks through the generated package's "
            "reflector loop (tolerant `WatchDecoder` of `Pod` → `Watcher` → "
            "`DeltaProcessor`, store with the namespace index) → `SharedProcessor` "
            "(no handlers registered: "
            "handler threads are not part of this measurement).",
            "The garbage collector is enabled except in the last diagnostic row; the "
            "difference between the strip row and that row is collector time.",
        ],
    )
    targets = [
        Target(name=f"offline watch events applied ({label})",
               goal=f"≥ {TARGET_EVENTS_PER_S:,.0f} events/s",
               measured=f"{rates[name]:,.0f} events/s ({median(times[name]):.2f} s for "
                        f"{events})",
               passed=rates[name] >= TARGET_EVENTS_PER_S)
        for label, name in (("strip_managed_fields=True", STRIP),
                            ("strip_managed_fields=False", KEEP))
    ]
    return Outcome(sections=[section], targets=targets)


if __name__ == "__main__":
    answer = measure(gzip.decompress(SAMPLE.read_bytes()), int(sys.argv[1]), int(sys.argv[2]))
    print(json.dumps(answer))
