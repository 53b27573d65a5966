"""Typed decode of the 3000-pod PodList: speed, retained memory, and exact round trip.

Every contender decodes the same bytes in the same process, interleaved, so the ratios
to ``json.loads`` hold even when the shared machine is busy. Each contender decodes the
way its library does for a real list response:

* kubecodegen: the runtime codec into the generated ``PodList`` (what the ClientSet does);
* lightkube 1.0: ``lightkube.core.decoders.decode_list(data, Pod)``, the call its client
  makes for ``client.list(Pod)``;
* kubernetes 37: ``ApiClient.deserialize(text, "V1PodList", content_type)``, which its
  generated API methods call after decoding the body to text (that step is included).
"""

from __future__ import annotations

import gc
import importlib
import json
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

from . import Context, Outcome, Section, Target, interleaved, median, spread

PACKAGE = "kube_v1_20"
KCG = "kubecodegen → PodList"
JSON = "json.loads"
TYPED_RATIO_TARGET = 0.90


def _contenders(ctx: Context) -> tuple[dict[str, Callable[[], Any]], dict[str, Callable[[Any], int]]]:
    """Decode callables by label, and for each how to count the pods in its result."""
    import msgspec
    import orjson

    codec = importlib.import_module("kubecodegen_runtime.codec")
    pod_list = importlib.import_module(f"{PACKAGE}.models.core_v1").PodList
    lk_decoders = importlib.import_module("lightkube.core.decoders")
    lk_pod = importlib.import_module("lightkube.resources.core_v1").Pod
    k8s_client = importlib.import_module("kubernetes.client").ApiClient()
    data = ctx.sample

    def kubernetes_37() -> Any:
        return k8s_client.deserialize(data.decode("utf-8"), "V1PodList", "application/json")

    decoders: dict[str, Callable[[], Any]] = {
        JSON: lambda: json.loads(data),
        "orjson.loads": lambda: orjson.loads(data),
        "msgspec.json.decode (untyped)": lambda: msgspec.json.decode(data),
        KCG: lambda: codec.decode(data, pod_list),
        "lightkube 1.0.1": lambda: lk_decoders.decode_list(data, lk_pod),
        "kubernetes 37.0.2": kubernetes_37,
    }
    scheme = _scheme_decode()
    if scheme is not None:
        decoders["kubecodegen scheme.decode (by kind)"] = lambda: scheme(data)

    def items(result: Any) -> int:
        return len(result["items"] if isinstance(result, dict) else result.items)

    counters: dict[str, Callable[[Any], int]] = {name: items for name in decoders}
    counters["lightkube 1.0.1"] = lambda result: len(result[2])
    return decoders, counters


def _scheme_decode() -> Callable[[bytes], Any] | None:
    """``<package>.scheme.decode`` when the generated package has it (it is being built)."""
    try:
        scheme = importlib.import_module(PACKAGE).scheme
    except (ImportError, AttributeError):
        return None
    decode = getattr(scheme, "decode", None)
    return decode if callable(decode) else None


def _retained(call: Callable[[], Any], data: bytes) -> tuple[int, int, bool]:
    """Bytes still allocated after ``call`` once garbage is collected, the peak, and
    whether the result keeps the input buffer alive (zero-copy views into it)."""
    gc.collect()
    references = sys.getrefcount(data)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = call()
        gc.collect()
        now, peak = tracemalloc.get_traced_memory()
        pins = sys.getrefcount(data) > references
        del result
    finally:
        tracemalloc.stop()
    gc.collect()
    return now - before, peak - before, pins


def _without_gc(call: Callable[[], Any]) -> Callable[[], Any]:
    def paused() -> Any:
        gc.disable()
        try:
            return call()
        finally:
            gc.enable()

    return paused


def _speed(ctx: Context, decoders: dict[str, Callable[[], Any]], pods: int,
           gc_paused: bool = False) -> tuple[Section, dict[str, float]]:
    if gc_paused:
        decoders = {name: _without_gc(call) for name, call in decoders.items()}
    times = interleaved(decoders, rounds=ctx.rounds, warmup=ctx.warmup)
    medians = {name: median(values) for name, values in times.items()}
    base = medians[JSON]
    rows = [
        [name, f"{medians[name]:.3f}", spread(times[name]), f"{medians[name] / base:.2f}×",
         f"{pods / medians[name]:,.0f}"]
        for name in sorted(decoders, key=lambda n: medians[n])
    ]
    headers = ["decoder", "median s", "range s", "vs json.loads", "pods/s"]
    rounds = (f"Median of {ctx.rounds} interleaved rounds after {ctx.warmup} warm-up "
              "round(s), one process; before each call the previous result is freed and "
              "a full collection runs (freeing is not timed).")
    if gc_paused:
        return Section(
            title="Diagnostic: the same decodes with the garbage collector paused during the call",
            headers=headers, rows=rows,
            notes=[rounds, "Not what users get (see above): this isolates parsing and object "
                   "building from the collections that the new containers trigger. The "
                   "difference to the table above is time spent in the garbage collector."],
        ), medians
    return Section(
        title=f"Decode of the {pods}-pod PodList ({len(ctx.sample) / 1e6:.1f} MB JSON)",
        headers=headers, rows=rows,
        notes=[
            rounds + " The garbage collector is enabled during the call, as users run it.",
            "json.loads, orjson.loads and msgspec untyped build dicts: the floor a typed "
            "decode is compared with. The kubernetes client's time includes bytes → str, "
            "which its API methods do before deserializing.",
        ],
    ), medians


def _memory(ctx: Context, decoders: dict[str, Callable[[], Any]], pods: int) -> Section:
    measured = {name: _retained(call, ctx.sample) for name, call in decoders.items()}
    base = measured[JSON][0]
    rows = [
        [name, f"{kept / 1e6:.1f}", f"{kept / pods / 1024:.1f}", f"{kept / base:.2f}×",
         f"{peak / 1e6:.1f}", "yes" if pins else "no"]
        for name, (kept, peak, pins) in sorted(measured.items(), key=lambda item: item[1][0])
    ]
    return Section(
        title="Retained memory of the decoded PodList",
        headers=["decoder", "retained MB", "KiB per pod", "vs json.loads", "peak MB",
                 "keeps input alive"],
        rows=rows,
        notes=[
            "tracemalloc: bytes still allocated after the decode and a full collection; "
            "peak is the high-water mark during the decode. The input bytes were allocated "
            "before tracing, so a decoder that keeps views into them (last column, from the "
            "input's reference count) retains the input's size on top. One measurement each.",
        ],
    )


def first_difference(expected: Any, actual: Any, path: str = "$") -> str | None:
    """Where two JSON values differ, by path; ``None`` when equal as JSON values.

    Stricter than ``==``: ``1`` vs ``1.0`` or ``1`` vs ``true`` count as different, as
    they would on the wire.
    """
    if type(expected) is not type(actual):
        return f"{path}: expected {type(expected).__name__} {expected!r:.80}, got {type(actual).__name__} {actual!r:.80}"
    if isinstance(expected, dict):
        for key in [*expected, *(k for k in actual if k not in expected)]:
            if key not in actual:
                return f"{path}.{key}: missing after round trip"
            if key not in expected:
                return f"{path}.{key}: added by round trip ({actual[key]!r:.80})"
            found = first_difference(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list):
        if len(expected) != len(actual):
            return f"{path}: {len(expected)} items became {len(actual)}"
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            found = first_difference(left, right, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if expected == actual else f"{path}: {expected!r:.80} became {actual!r:.80}"


def _round_trip(ctx: Context) -> tuple[Section, Target]:
    """encode(decode(x)) == x for the whole list and for each pod decoded alone as ``Pod``."""
    codec = importlib.import_module("kubecodegen_runtime.codec")
    models = importlib.import_module(f"{PACKAGE}.models.core_v1")
    original = json.loads(ctx.sample)
    whole = first_difference(original, json.loads(codec.encode(codec.decode(ctx.sample, models.PodList))))
    failures: list[str] = []
    for index, item in enumerate(original["items"]):
        again = json.loads(codec.encode(codec.decode(json.dumps(item).encode(), models.Pod)))
        found = first_difference(item, again, f"$.items[{index}]")
        if found:
            failures.append(found)
    pods = len(original["items"])
    section = Section(
        title="Round trip: encode(decode(x)) == x as JSON values",
        headers=["input", "checked", "exact", "first difference"],
        rows=[
            ["whole PodList as `PodList`", "1", "yes" if whole is None else "no", whole or "—"],
            ["each pod alone as `Pod`", str(pods), str(pods - len(failures)),
             failures[0] if failures else "—"],
        ],
        notes=["Compared type-strictly (1 ≠ 1.0 ≠ true); also a unit test "
               "(tests/unit/test_roundtrip_pods.py)."],
    )
    target = Target(
        name="round trip exact for every pod",
        goal=f"{pods}/{pods} pods and the whole list",
        measured=f"{pods - len(failures)}/{pods} pods, whole list {'exact' if whole is None else 'differs'}",
        passed=whole is None and not failures,
    )
    return section, target


def run(ctx: Context) -> Outcome:
    decoders, counters = _contenders(ctx)
    pods = len(json.loads(ctx.sample)["items"])
    for name, call in decoders.items():  # a contender that drops pods would win unfairly
        got = counters[name](call())
        if got != pods:
            raise RuntimeError(f"{name} decoded {got} pods, expected {pods}")
    speed, medians = _speed(ctx, decoders, pods)
    paused, _ = _speed(ctx, decoders, pods, gc_paused=True)
    memory = _memory(ctx, decoders, pods)
    trip, trip_target = _round_trip(ctx)
    ratio = medians[KCG] / medians[JSON]
    lightkube = medians["lightkube 1.0.1"]
    targets = [
        Target(
            name="typed decode vs json.loads",
            goal=f"≤ {TYPED_RATIO_TARGET:.2f}×",
            measured=f"{ratio:.2f}× ({medians[KCG]:.3f} s vs {medians[JSON]:.3f} s)",
            passed=ratio <= TYPED_RATIO_TARGET,
        ),
        Target(
            name="typed decode vs lightkube 1.0.1",
            goal="≤ 1.00× (no slower)",
            measured=f"{medians[KCG] / lightkube:.2f}× ({medians[KCG]:.3f} s vs {lightkube:.3f} s)",
            passed=medians[KCG] <= lightkube,
        ),
        trip_target,
    ]
    return Outcome(sections=[speed, paused, memory, trip], targets=targets)
