"""The pure core of kubecodegen_runtime.events: references, bodies, note truncation, the
spam filter, both correlators and the writer's delivery decisions, on injected clocks."""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any, ClassVar

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubecodegen_runtime.errors import (
    AlreadyExists,
    Forbidden,
    Invalid,
    NotFound,
    ServiceUnavailable,
    TransportError,
)
from kubecodegen_runtime.events import (
    Event,
    EventRecorder,
    Intake,
    LegacyCorrelator,
    LogLimiter,
    ObjectReference,
    SeriesCorrelator,
    SpamFilter,
    Write,
    WriterCore,
    reference_of,
    truncate_note,
)
from kubecodegen_runtime.events.body import (
    core_v1_body,
    event_name,
    events_v1_body,
    format_note,
    micro_time,
    wire_time,
)
from kubecodegen_runtime.events.correlate import AGGREGATE_PREFIX
from kubecodegen_runtime.events.writer import (
    STRATEGIC_MERGE,
    Send,
    SendFailed,
    Sent,
    Sleep,
    Step,
    api_from_discovery,
    http_call,
)
from kubecodegen_runtime.meta import GroupVersionKind
from kubecodegen_runtime.model import Model, Object

WALL = 1_700_000_000_123_456_789  # 2023-11-14T22:13:20.123456789Z


# --- references -------------------------------------------------------------------------


class Meta(Model, kw_only=True):
    name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = msgspec.field(default=None, name="resourceVersion")


class Widget(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("example.com", "v1", "Widget")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: Meta | None = None


class TypedRef(Model, kw_only=True):
    api_version: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    field_path: str | None = None


def test_reference_of_a_typed_object_fills_the_type_from_its_gvk() -> None:
    obj = Widget(metadata=Meta(name="w", namespace="ns", uid="u", resource_version="7"))
    assert reference_of(obj) == ObjectReference("example.com/v1", "Widget", "w", "ns", "u", "7")
    decoded = Widget(api_version="example.com/v2", kind="Widget", metadata=Meta(name="w"))
    assert reference_of(decoded).api_version == "example.com/v2"  # as decoded wins


def test_reference_of_a_dict_and_of_references() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "p", "namespace": "ns", "uid": "u", "resourceVersion": "3"}}
    ref = reference_of(pod)
    assert ref == ObjectReference("v1", "Pod", "p", "ns", "u", "3")
    assert ref.to_wire() == {"apiVersion": "v1", "kind": "Pod", "name": "p", "namespace": "ns",
                             "uid": "u", "resourceVersion": "3"}
    as_ref = {"apiVersion": "v1", "kind": "Pod", "name": "p", "fieldPath": "spec.containers{c}"}
    assert reference_of(as_ref).field_path == "spec.containers{c}"
    assert reference_of(ref) is ref
    typed = TypedRef(api_version="v1", kind="Node", name="n1")
    assert reference_of(typed) == ObjectReference("v1", "Node", "n1")


@pytest.mark.parametrize("bad", [None, {"kind": "Pod", "metadata": {}}, {"name": "x"},
                                 Widget(metadata=Meta(namespace="ns"))])
def test_reference_needs_a_kind_and_a_name(bad: object) -> None:
    with pytest.raises(ValueError):
        reference_of(bad)


# --- bodies -------------------------------------------------------------------------------


def event(reason: str = "Synced", note: str = "ok", *, observed: float = 0.0, wall: int = WALL,
          name: str = "p", namespace: str = "ns", related: ObjectReference | None = None,
          type: str = "Normal", action: str = "Sync") -> Event:
    return Event(ObjectReference("v1", "Pod", name, namespace, "uid-" + name), related, type,
                 reason, action, note, "example.com/ctrl", "ctrl-host", observed, wall)


def test_times_and_names_follow_apimachinery() -> None:
    assert micro_time(WALL) == "2023-11-14T22:13:20.123456Z"
    assert wire_time(WALL) == "2023-11-14T22:13:20Z"
    assert micro_time(1_700_000_000_000_000_000) == "2023-11-14T22:13:20.000000Z"
    assert event_name("web-1", WALL) == "web-1." + format(WALL, "x")
    assert re.fullmatch(r"web-1\.[0-9a-f]+", event_name("web-1", WALL))


def test_events_v1_body_shape() -> None:
    related = ObjectReference("apps/v1", "ReplicaSet", "rs", "ns")
    body = events_v1_body(event(related=related), "p.1")
    assert body == {
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "p.1", "namespace": "ns"},
        "eventTime": "2023-11-14T22:13:20.123456Z",
        "reportingController": "example.com/ctrl", "reportingInstance": "ctrl-host",
        "action": "Sync", "reason": "Synced", "type": "Normal",
        "regarding": {"apiVersion": "v1", "kind": "Pod", "name": "p", "namespace": "ns",
                      "uid": "uid-p"},
        "related": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs",
                    "namespace": "ns"},
        "note": "ok",
    }
    with_series = events_v1_body(event(), "p.1", series=(4, WALL + 10**9))
    assert with_series["series"] == {"count": 4, "lastObservedTime": "2023-11-14T22:13:21.123456Z"}


def test_cluster_scoped_objects_events_namespace_per_api() -> None:
    node_event = event(namespace="")
    assert events_v1_body(node_event, "n.1")["metadata"]["namespace"] == "kube-system"
    assert core_v1_body(node_event, "n.1")["metadata"]["namespace"] == "default"
    [write] = SeriesCorrelator().observe(node_event)
    assert write.namespace == "kube-system"


def test_core_v1_body_shape() -> None:
    body = core_v1_body(event(namespace=""), "p.1", count=3, first_ns=WALL - 60 * 10**9)
    assert body["metadata"] == {"name": "p.1", "namespace": "default"}  # cluster-scoped
    assert body["involvedObject"]["name"] == "p" and "namespace" not in body["involvedObject"]
    assert body["source"] == {"component": "example.com/ctrl", "host": "ctrl-host"}
    assert body["reportingComponent"] == "example.com/ctrl"
    assert (body["firstTimestamp"], body["lastTimestamp"]) == ("2023-11-14T22:12:20Z",
                                                                "2023-11-14T22:13:20Z")
    assert body["count"] == 3 and body["message"] == "ok" and body["action"] == "Sync"
    assert "eventTime" not in body and "related" not in body


def test_note_is_cut_to_1_kib_on_a_character_boundary() -> None:
    assert truncate_note("a" * 1024) == "a" * 1024
    assert truncate_note("a" * 1025) == "a" * 1024
    cut = truncate_note("é" * 600)  # 2 bytes each
    assert cut == "é" * 512
    assert truncate_note("a" + "€" * 400) == "a" + "€" * 341  # 1 + 3*341 = 1024
    assert events_v1_body(event(note="x" * 2000), "n")["note"] == "x" * 1024
    assert core_v1_body(event(note="x" * 2000), "n")["message"] == "x" * 1024


@given(st.text())
def test_truncation_keeps_the_longest_prefix_that_fits(text: str) -> None:
    cut = truncate_note(text)
    size = len(cut.encode("utf-8", "surrogatepass"))
    assert text.startswith(cut) and size <= 1024
    if cut != text:
        assert size + len(text[len(cut)].encode("utf-8", "surrogatepass")) > 1024


def test_note_formatting_like_sprintf() -> None:
    assert format_note("scaled %s to %d", ("web", 3)) == "scaled web to 3"
    assert format_note("100% done", ()) == "100% done"  # no args: no formatting
    assert format_note("%d", ("x",)) == "%d ('x',)"  # a mismatch keeps both, never raises


# --- spam filter --------------------------------------------------------------------------


def test_spam_filter_allows_a_burst_per_source_and_object_then_one_per_refill() -> None:
    spam = SpamFilter(qps=1 / 300, burst=25)
    assert all(spam.allow(event(f"R{i}"), 0.0) for i in range(25))  # reasons do not matter
    assert not spam.allow(event("R"), 1.0)
    assert spam.allow(event(name="other"), 1.0)  # another object has its own bucket
    for t in range(2, 200):  # refusals consume nothing ...
        assert not spam.allow(event(), float(t))
    assert spam.allow(event(), 300.0)  # ... so the refill arrives on time
    assert not spam.allow(event(), 301.0)


def test_spam_filter_keys_by_controller_instance_and_object_uid() -> None:
    spam = SpamFilter(burst=1)
    base = event()
    variants = [
        Event(base.regarding, None, "Normal", "R", "A", "n", "example.com/other", "ctrl-host", 0, WALL),
        Event(base.regarding, None, "Normal", "R", "A", "n", "example.com/ctrl", "other-host", 0, WALL),
        Event(ObjectReference("v1", "Pod", "p", "ns", "new-uid"), None, "Normal", "R", "A", "n",
              "example.com/ctrl", "ctrl-host", 0, WALL),
    ]
    assert spam.allow(base, 0.0) and not spam.allow(event("Other", "note"), 0.0)
    assert all(spam.allow(v, 0.0) for v in variants)


def test_spam_filter_cache_is_bounded() -> None:
    spam = SpamFilter(burst=1, cache_size=3)
    for name in "abcd":
        assert spam.allow(event(name=name), 0.0)
    assert len(spam) == 3
    assert spam.allow(event(name="a"), 0.0)  # evicted, so it starts again with a full bucket
    assert not spam.allow(event(name="d"), 0.0)


def test_log_limiter_counts_what_it_holds_back() -> None:
    limiter = LogLimiter(10.0)
    assert limiter.ready(0.0) == 0
    assert [limiter.ready(t) for t in (1.0, 2.0, 9.9)] == [None, None, None]
    assert limiter.ready(10.0) == 3
    assert limiter.ready(15.0) is None


# --- events.k8s.io series -----------------------------------------------------------------


def test_series_create_then_patch_at_two_then_count_in_memory() -> None:
    series = SeriesCorrelator()
    [create] = series.observe(event(observed=0.0))
    assert create.verb == "create" and create.api == "events.k8s.io/v1"
    assert create.body["metadata"]["name"] == create.name == event_name("p", WALL)
    [patch] = series.observe(event(note="a different note", observed=5.0, wall=WALL + 5 * 10**9))
    assert patch.verb == "patch" and patch.name == create.name and patch.count == 2
    assert patch.body == {"series": {"count": 2, "lastObservedTime": micro_time(WALL + 5 * 10**9)}}
    assert patch.fallback is not None and patch.fallback["series"]["count"] == 2
    assert patch.fallback["note"] == "ok"  # the first occurrence's note stays
    series.written(patch, {})
    assert series.observe(event(observed=6.0)) == []
    assert series.observe(event(observed=7.0)) == []
    [flushed] = series.flush()
    assert flushed.count == 4 and flushed.body["series"]["count"] == 4
    series.written(flushed, {})
    assert series.flush() == []


def test_series_keys_are_isomorphic_events() -> None:
    series = SeriesCorrelator()
    assert series.observe(event())[0].verb == "create"
    for other in (event(reason="Other"), event(type="Warning"), event(action="Delete"),
                  event(name="q"), event(related=ObjectReference("v1", "Node", "n"))):
        [write] = series.observe(other)
        assert write.verb == "create"
    assert len(series) == 6


def test_series_finish_after_six_quiet_minutes() -> None:
    series = SeriesCorrelator()
    first = series.observe(event(observed=0.0))[0]
    series.observe(event(observed=10.0))
    series.observe(event(observed=20.0))  # count 3, server has 2
    assert series.due(20.0 + 359.0) == []
    [final] = series.due(20.0 + 360.0)
    assert final.verb == "patch" and final.count == 3 and final.name == first.name
    assert len(series) == 0
    [again] = series.observe(event(observed=400.0, wall=WALL + 400 * 10**9))
    assert again.verb == "create" and again.name != first.name  # a new series starts


def test_series_expired_on_observe_finishes_before_starting_anew() -> None:
    series = SeriesCorrelator(finish=60.0)
    series.observe(event(observed=0.0))
    series.observe(event(observed=1.0))
    series.observe(event(observed=2.0))
    final, create = series.observe(event(observed=100.0, wall=WALL + 1))
    assert (final.verb, final.count, create.verb) == ("patch", 3, "create")


def test_singletons_are_forgotten_without_a_write_and_series_are_refreshed() -> None:
    series = SeriesCorrelator(finish=360.0, refresh=100.0)
    series.observe(event(observed=0.0))
    assert series.due(359.0) == [] and len(series) == 1
    assert series.due(360.0) == [] and len(series) == 0
    series.observe(event(reason="S", observed=400.0))
    [at_two] = series.observe(event(reason="S", observed=401.0))
    series.written(at_two, {})
    assert series.due(450.0) == []
    [refresh] = series.due(501.0)  # refreshed even without a new count: keeps the TTL alive
    assert refresh.count == 2 and len(series) == 1


# --- core/v1 counting and aggregation -------------------------------------------------------


def test_legacy_counts_identical_events_with_patches_to_the_first_name() -> None:
    legacy = LegacyCorrelator()
    [create] = legacy.observe(event(observed=0.0))
    assert create.verb == "create" and create.api == "v1" and create.body["count"] == 1
    later = WALL + 30 * 10**9
    [patch] = legacy.observe(event(observed=30.0, wall=later))
    assert patch.verb == "patch" and patch.name == create.name and patch.count == 2
    assert patch.body == {"count": 2, "lastTimestamp": wire_time(later), "message": "ok"}
    assert patch.fallback is not None
    assert patch.fallback["firstTimestamp"] == wire_time(WALL)
    legacy.written(patch, {"metadata": {"name": create.name, "resourceVersion": "9"}, "count": 5})
    [third] = legacy.observe(event(observed=31.0))
    assert third.count == 6  # the server's count wins (UpdateState)
    [new] = legacy.observe(event(note="another message", observed=32.0))
    assert new.verb == "create"  # the message is part of the key


def test_legacy_aggregates_ten_messages_within_ten_minutes() -> None:
    legacy = LegacyCorrelator()
    writes = [legacy.observe(event(note=f"m{i}", observed=float(i), wall=WALL + i))[0]
              for i in range(12)]
    assert [w.verb for w in writes[:9]] == ["create"] * 9
    tenth, eleventh, twelfth = writes[9:]
    assert tenth.verb == "create" and tenth.body["message"] == AGGREGATE_PREFIX + "m9"
    assert eleventh.verb == "patch" and eleventh.name == tenth.name and eleventh.count == 2
    assert eleventh.body["message"] == AGGREGATE_PREFIX + "m10"
    assert twelfth.count == 3


def test_legacy_aggregation_window_restarts_after_the_interval() -> None:
    legacy = LegacyCorrelator(max_events=3, interval=600.0)
    legacy.observe(event(note="a", observed=0.0))
    legacy.observe(event(note="b", observed=1.0))
    [w] = legacy.observe(event(note="c", observed=700.0))  # more than 600 s after "b"
    assert w.verb == "create" and w.body["message"] == "c"


# --- the writer's decisions -----------------------------------------------------------------


class Steps:
    """Drives WriterCore.deliver with scripted outcomes; records what it was asked to do."""

    def __init__(self, core: WriterCore, write: Write) -> None:
        self.plan: Generator[Step, Any, None] = core.deliver(write, 0.0)
        self.step: Step | None = next(self.plan)
        self.sent: list[Write] = []
        self.slept: list[float] = []

    def answer(self, *outcomes: BaseException | dict[str, Any]) -> None:
        for outcome in outcomes:
            while isinstance(self.step, Sleep):
                self.slept.append(self.step.seconds)
                self.step = self._send(None)
            assert isinstance(self.step, Send), "delivery ended early"
            self.sent.append(self.step.write)
            self.step = self._send(Sent(outcome) if isinstance(outcome, dict)
                                   else SendFailed(outcome))

    def _send(self, value: Any) -> Step | None:
        try:
            return self.plan.send(value)
        except StopIteration:
            return None


class FixedBackoff:
    def __init__(self) -> None:
        self.n = 0

    def __iter__(self) -> FixedBackoff:
        return self

    def __next__(self) -> float:
        self.n += 1
        return float(self.n)

    def reset(self) -> None:
        self.n = 0


def not_found() -> NotFound:
    return NotFound(404, "NotFound", "gone")


def core(max_tries: int = 3) -> WriterCore:
    return WriterCore("events.k8s.io/v1", max_tries=max_tries, backoff=FixedBackoff)


def test_delivery_success_and_series_patch_falling_back_to_create() -> None:
    writer = core()
    assert writer.correlator is not None
    writer.correlator.observe(event(observed=0.0))
    [patch] = writer.correlator.observe(event(observed=1.0))
    steps = Steps(writer, patch)
    steps.answer(not_found(), {"metadata": {}})
    assert [w.verb for w in steps.sent] == ["patch", "create"] and steps.step is None
    assert steps.sent[1].body["series"]["count"] == 2
    assert writer.stats.written == 1 and writer.stats.failed == 0 and steps.slept == []


def test_delivery_retries_transient_failures_then_gives_up() -> None:
    writer = core(max_tries=3)
    write = Write("create", "events.k8s.io/v1", "ns", "n", {"metadata": {}})
    down = TransportError("refused", method="POST", url="https://x", sent=False)
    steps = Steps(writer, write)
    steps.answer(down, ServiceUnavailable(503, "ServiceUnavailable", "busy"), down)
    assert steps.step is None and steps.slept == [1.0, 2.0]
    assert writer.stats.failed == 1 and writer.stats.retries == 2 and writer.stats.written == 0


@pytest.mark.parametrize("refusal", [Invalid(422, "Invalid", "bad"), Forbidden(403, "Forbidden", "no"),
                                     ValueError("name unfit for a path"), not_found()])
def test_delivery_gives_up_at_once_when_the_server_refuses(
        refusal: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    writer = core()
    for _ in range(3):
        steps = Steps(writer, Write("create", "v1", "ns", "n", {"metadata": {}}))
        steps.answer(refusal)
        assert steps.step is None and steps.slept == []
    assert writer.stats.failed == 3
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1  # warnings are rate-limited (same moment: one line)


def test_already_exists_means_stored_or_patch_again() -> None:
    writer = core()
    exists = AlreadyExists(409, "AlreadyExists", "there")
    down = TransportError("reset", method="POST", url="https://x")
    plain = Steps(writer, Write("create", "events.k8s.io/v1", "ns", "n", {"metadata": {}}))
    plain.answer(down, exists)  # the first attempt was stored, its answer lost
    assert plain.step is None and writer.stats.written == 1 and writer.stats.failed == 0
    patch = Write("patch", "events.k8s.io/v1", "ns", "n", {"series": {}}, fallback={"metadata": {}})
    series = Steps(writer, patch)
    series.answer(not_found(), exists, {"metadata": {}})  # created meanwhile: patch it
    assert [w.verb for w in series.sent] == ["patch", "create", "patch"]
    assert plain.slept == [1.0] and series.slept == [1.0] and writer.stats.written == 2


def test_api_choice_from_discovery() -> None:
    assert api_from_discovery(None) == "events.k8s.io/v1"
    assert api_from_discovery(not_found()) == "v1"
    assert api_from_discovery(TransportError("x", method="GET", url="u")) is None
    auto = WriterCore("auto")
    assert auto.api is None and auto.flush() == [] and auto.timeout(0.0) is None
    with pytest.raises(ValueError):
        WriterCore("events.k8s.io/v1beta1")  # type: ignore[arg-type]


def test_http_calls() -> None:
    create = http_call(Write("create", "events.k8s.io/v1", "ns", "n", {"a": 1}))
    assert (create.method, create.path, create.body) == (
        "POST", "/apis/events.k8s.io/v1/namespaces/ns/events", b'{"a":1}')
    patch = http_call(Write("patch", "v1", "ns", "p.1", {"count": 2}))
    assert (patch.method, patch.path, patch.content_type) == (
        "PATCH", "/api/v1/namespaces/ns/events/p.1", STRATEGIC_MERGE)
    with pytest.raises(ValueError):
        http_call(Write("patch", "v1", "ns", "../x/y", {}))


def test_writer_sweeps_on_schedule() -> None:
    writer = WriterCore("events.k8s.io/v1", series_finish=60.0, series_refresh=600.0)
    assert writer.timeout(0.0) == 10.0  # min(finish, refresh) / 6
    assert writer.correlator is not None
    writer.correlator.observe(event(observed=0.0))
    writer.correlator.observe(event(observed=1.0))
    writer.correlator.observe(event(observed=2.0))
    assert writer.tick(5.0) == []
    assert writer.tick(10.0) == []  # swept, nothing finished yet
    assert writer.timeout(12.0) == 8.0
    assert [w.count for w in writer.tick(70.0)] == [3]


# --- eventf -------------------------------------------------------------------------------


def recorder(queue: list[Event], *, room: int = 100, burst: int = 25) -> tuple[EventRecorder, Intake]:
    times = iter(float(i) for i in range(10**6))
    intake = Intake(spam_burst=burst, clock=lambda: next(times), wall_clock=lambda: WALL)

    def offer(e: Event) -> bool:
        if len(queue) >= room:
            return False
        queue.append(e)
        return True

    return EventRecorder(intake, offer, "example.com/ctrl", "i"), intake


POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}}


def test_eventf_builds_the_event_and_counts_what_it_cannot_queue() -> None:
    queue: list[Event] = []
    rec, intake = recorder(queue, room=3, burst=4)
    rec.eventf(POD, None, "Warning", "Failed", "Sync", "failed %d times", 3)
    assert queue[0].note == "failed 3 times" and queue[0].regarding.name == "p"
    assert queue[0].reporting_controller == "example.com/ctrl" and queue[0].wall_ns == WALL
    for _ in range(5):
        rec.eventf(POD, None, "Normal", "R", "A", "n")
    assert len(queue) == 3 and intake.queue_full == 1 and intake.spam_filtered == 2
    assert intake.dropped == 3 and intake.queued == 3


def test_eventf_never_raises() -> None:
    queue: list[Event] = []
    rec, intake = recorder(queue)
    rec.eventf(POD, None, "Info", "R", "A", "n")  # not Normal/Warning
    rec.eventf(object(), None, "Normal", "R", "A", "n")
    rec.eventf(POD, {"kind": "Pod"}, "Normal", "R", "A", "n")  # related without a name
    assert intake.invalid == 3 and queue == []

    def broken(e: Event) -> bool:
        raise RuntimeError("a bug in the shell")

    EventRecorder(intake, broken, "c", "i").eventf(POD, None, "Normal", "R", "A", "n")


def test_default_reporting_instance_is_controller_dash_host() -> None:
    rec = EventRecorder(Intake(), lambda e: True, "ctrl", "")
    assert rec.reporting_instance.startswith("ctrl-") and len(rec.reporting_instance) > 5
    with pytest.raises(ValueError):
        EventRecorder(Intake(), lambda e: True, "", "i")


# --- properties ---------------------------------------------------------------------------


@given(st.lists(st.floats(min_value=0.0, max_value=3000.0), max_size=80))
def test_spam_filter_never_allows_more_than_burst_plus_refill(times: list[float]) -> None:
    spam = SpamFilter(qps=1 / 300, burst=5)
    times = sorted(times)
    allowed = [t for t in times if spam.allow(event(), t)]
    if allowed:
        assert len(allowed) <= 5 + (allowed[-1] - times[0]) / 300 + 1e-6
    # and nothing is refused while the bucket still has tokens: the first five always pass
    assert allowed[:5] == times[:5]


@given(st.lists(st.floats(min_value=0.0, max_value=359.0), min_size=1, max_size=40))
def test_series_within_the_window_is_one_create_one_patch_and_a_flushed_count(
        gaps: list[float]) -> None:
    series = SeriesCorrelator()
    now, writes = 0.0, []
    for i, gap in enumerate(gaps):
        now += gap
        writes += series.observe(event(observed=now, wall=WALL + i))
        if i == 1:
            series.written(writes[-1], {})
    assert [w.verb for w in writes] == ["create", "patch"][:len(gaps)]
    assert len({w.name for w in writes}) == 1 and len(series) == 1
    unwritten = [len(gaps)] if len(gaps) > 2 else []  # the server has counts 1 and 2
    assert [w.count for w in series.flush()] == unwritten
    assert [w.count for w in series.due(now + 361.0)] == unwritten  # finished: last count
    assert len(series) == 0
