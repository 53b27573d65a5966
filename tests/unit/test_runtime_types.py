"""Wire formats of the special types through the codec: MicroTime, Time, Quantity,
bytes, IntOrString, free-form JSON, and decode errors that name the JSON path."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import msgspec
import pytest

from kubecodegen_runtime import codec
from kubecodegen_runtime.meta import GroupVersionKind
from kubecodegen_runtime.model import Model, Object
from kubecodegen_runtime.types import JSON, IntOrString, MicroTime, Quantity, RawExtension


class Meta(Model, kw_only=True):
    name: str | None = None
    creation_timestamp: datetime | None = msgspec.field(default=None, name="creationTimestamp")
    labels: dict[str, str] | None = None


class Port(Model, kw_only=True):
    target_port: IntOrString | None = msgspec.field(default=None, name="targetPort")


class Resources(Model, kw_only=True):
    limits: dict[str, Quantity] | None = None
    requests: dict[str, Quantity] | None = None


class Spec(Model, kw_only=True):
    ports: list[Port] | None = None
    resources: Resources | None = None
    storage: Quantity | None = None
    ca_bundle: bytes | None = msgspec.field(default=None, name="caBundle")
    config: JSON = None
    raw: RawExtension | None = None


class Event(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("events.k8s.io", "v1", "Event")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: Meta | None = None
    event_time: MicroTime | None = msgspec.field(default=None, name="eventTime")
    series_times: list[MicroTime] | None = msgspec.field(default=None, name="seriesTimes")
    spec: Spec | None = None


class EventList(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("events.k8s.io", "v1", "EventList")
    items: list[Event]


UTC = timezone.utc


def _wire(obj: Any) -> Any:
    return json.loads(codec.encode(obj))


# --- MicroTime ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (MicroTime(2006, 1, 2, 15, 4, 5, 123456, tzinfo=UTC), "2006-01-02T15:04:05.123456Z"),
        (MicroTime(2006, 1, 2, 15, 4, 5, tzinfo=UTC), "2006-01-02T15:04:05.000000Z"),
        (MicroTime(2006, 1, 2, 15, 4, 5, 7, tzinfo=UTC), "2006-01-02T15:04:05.000007Z"),
        # other offsets are written in UTC
        (MicroTime(2006, 1, 2, 17, 4, 5, tzinfo=timezone(timedelta(hours=2))),
         "2006-01-02T15:04:05.000000Z"),
    ],
)
def test_micro_time_has_six_digits_in_utc(value: MicroTime, text: str) -> None:
    assert _wire(Event(event_time=value)) == {"eventTime": text}
    decoded = codec.decode(codec.encode(Event(event_time=value)), Event)
    assert type(decoded.event_time) is MicroTime
    assert decoded.event_time == value  # the same instant


@pytest.mark.parametrize(
    "text", ["2006-01-02T15:04:05Z", "2006-01-02T15:04:05.5Z", "2006-01-02T17:04:05.500+02:00"]
)
def test_micro_time_decodes_any_rfc3339_with_zone(text: str) -> None:
    event = codec.decode(json.dumps({"eventTime": text}), Event)
    assert isinstance(event.event_time, MicroTime)
    assert event.event_time.astimezone(UTC).replace(microsecond=0) == \
        datetime(2006, 1, 2, 15, 4, 5, tzinfo=UTC)


def test_micro_time_in_a_list_round_trips() -> None:
    data = b'{"seriesTimes":["2024-05-01T00:00:00.000000Z","2024-05-01T00:00:01.250000Z"]}'
    event = codec.decode(data, Event)
    assert all(type(t) is MicroTime for t in event.series_times or [])
    assert codec.encode(event) == data


def test_micro_time_rejects_missing_zone_and_garbage() -> None:
    with pytest.raises(codec.DecodeError) as info:
        codec.decode(b'{"eventTime":"2006-01-02T15:04:05"}', Event)
    assert info.value.path == "$.eventTime"
    assert "timezone" in str(info.value)
    with pytest.raises(codec.DecodeError, match=r"\$\.eventTime"):
        codec.decode(b'{"eventTime":"yesterday"}', Event)
    with pytest.raises(codec.DecodeError, match=r"\$\.eventTime"):
        codec.decode(b'{"eventTime":12}', Event)


def test_naive_micro_time_is_refused_on_encode() -> None:
    with pytest.raises(TypeError, match=r"naive datetime '2006-01-02T15:04:05' at `\$\.eventTime`"):
        codec.encode(Event(event_time=MicroTime(2006, 1, 2, 15, 4, 5)))
    with pytest.raises(TypeError, match="naive MicroTime"):
        MicroTime(2006, 1, 2).to_wire()


def test_micro_time_from_datetime() -> None:
    aware = datetime(2024, 5, 1, 12, 0, 0, 1, tzinfo=UTC)
    assert MicroTime.from_datetime(aware) == aware
    assert type(MicroTime.from_datetime(aware)) is MicroTime
    with pytest.raises(ValueError, match="timezone-aware"):
        MicroTime.from_datetime(datetime(2024, 5, 1))


# --- Time (plain datetime) ------------------------------------------------------------


def test_time_round_trips_as_rfc3339_utc() -> None:
    data = b'{"metadata":{"creationTimestamp":"2024-05-01T12:30:00Z"}}'
    event = codec.decode(data, Event)
    assert event.metadata is not None
    assert event.metadata.creation_timestamp == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert codec.encode(event) == data


def test_naive_time_is_refused_with_its_path() -> None:
    naive = datetime(2024, 5, 1, 12, 30)
    with pytest.raises(TypeError) as info:
        codec.encode(Event(metadata=Meta(creation_timestamp=naive)))
    message = str(info.value)
    assert "`$.metadata.creationTimestamp`" in message
    assert "naive datetime '2024-05-01T12:30:00'" in message
    assert "timezone.utc" in message
    with pytest.raises(TypeError, match=r"`\$\.metadata\.creationTimestamp`"):
        codec.to_builtins(Event(metadata=Meta(creation_timestamp=naive)))


def test_naive_time_inside_free_form_json_and_lists_is_found() -> None:
    naive = datetime(2024, 5, 1)
    event = Event(spec=Spec(config={"a": [1, {"b": naive}]}))
    with pytest.raises(TypeError, match=r"`\$\.spec\.config\.a\[1\]\.b`"):
        codec.encode(event)
    listed = EventList(items=[Event(), Event(metadata=Meta(creation_timestamp=naive))])
    with pytest.raises(TypeError, match=r"`\$\.items\[1\]\.metadata\.creationTimestamp`"):
        codec.encode(listed)
    with pytest.raises(TypeError, match=r"`\$\.when`"):
        codec.encode({"when": naive})
    # a struct inside free-form JSON: the fast probe gives up, the walk still finds it
    mixed = Event(spec=Spec(config={"a": Port(target_port=1), "b": {"c": [naive]}}))
    with pytest.raises(TypeError, match=r"`\$\.spec\.config\.b\.c\[0\]`"):
        codec.encode(mixed)
    clean = Event(spec=Spec(config={"a": Port(target_port=1), "b": {"c": [b"x", 1.5]}}))
    assert _wire(clean)["spec"]["config"]["a"] == {"targetPort": 1}


def test_zone_less_time_strings_are_not_naive_datetimes() -> None:
    """A string that reads like a naive time (what the encoder's quick check looks for) is
    only text: it is sent as it is, and a naive datetime beside it is still found."""
    text = {"at": "2024-05-01T12:30:00", "frac": "2024-05-01T12:30:00.123456"}
    assert json.loads(codec.encode(Event(spec=Spec(config=text)))) == {"spec": {"config": text}}
    with pytest.raises(TypeError, match=r"`\$\.spec\.config\.b`"):
        codec.encode(Event(spec=Spec(config={**text, "b": datetime(2024, 5, 1)})))
    with pytest.raises(TypeError, match=r"naive datetime '2024-05-01T00:00:00.000001' at `\$\[0\]`"):
        codec.encode([datetime(2024, 5, 1, 0, 0, 0, 1)])


def test_a_naive_datetime_is_reported_before_another_encoding_error() -> None:
    """An object that cannot be encoded at all names its naive datetime first, as the walk
    before the encoding did."""
    with pytest.raises(TypeError, match=r"naive datetime .* at `\$\.a`"):
        codec.encode({"a": datetime(2024, 5, 1), "b": object()})
    with pytest.raises(TypeError, match="cannot encode objects of type object"):
        codec.encode({"a": datetime(2024, 5, 1, tzinfo=UTC), "b": object()})


def test_aware_times_pass_the_guard() -> None:
    event = Event(metadata=Meta(creation_timestamp=datetime(2024, 5, 1, tzinfo=UTC)),
                  spec=Spec(config={"at": datetime(2024, 5, 1, tzinfo=UTC)}))
    assert _wire(event)["metadata"] == {"creationTimestamp": "2024-05-01T00:00:00Z"}


# --- Quantity -------------------------------------------------------------------------


def test_quantities_decode_as_quantity_and_encode_unchanged() -> None:
    data = b'{"spec":{"resources":{"limits":{"cpu":"1500m","memory":"1024Mi"}},"storage":"10Gi"}}'
    event = codec.decode(data, Event)
    assert event.spec is not None and event.spec.resources is not None
    limits = event.spec.resources.limits or {}
    assert all(type(v) is Quantity for v in limits.values())
    assert limits["memory"] == "1Gi"  # compares by value ...
    assert codec.encode(event) == data  # ... but the text is sent back exactly


def test_quantities_sent_as_json_numbers_go_back_as_numbers() -> None:
    """A custom resource keeps ``cpu: 2`` as the number the client sent (Go's Quantity
    accepts a number too), so a typed round trip writes the number back, unchanged."""
    event = codec.decode(b'{"spec":{"resources":{"requests":{"cpu":2,"memory":0.5}}}}', Event)
    assert event.spec is not None and event.spec.resources is not None
    requests = event.spec.resources.requests or {}
    assert requests == {"cpu": Quantity("2"), "memory": Quantity("500m")}
    assert requests["memory"].milli_value() == 500
    assert _wire(event) == {"spec": {"resources": {"requests": {"cpu": 2, "memory": 0.5}}}}


def test_quantity_of_the_wrong_json_type_names_the_path() -> None:
    with pytest.raises(codec.DecodeError, match=r"Expected a quantity.*got `bool` - at `\$\.spec\.storage`"):
        codec.decode(b'{"spec":{"storage":true}}', Event)


def test_a_malformed_wire_quantity_still_decodes() -> None:
    event = codec.decode(b'{"spec":{"storage":"lots"}}', Event)
    assert event.spec is not None and event.spec.storage == "lots"
    assert codec.encode(event) == b'{"spec":{"storage":"lots"}}'
    with pytest.raises(ValueError, match="invalid quantity 'lots'"):
        event.spec.storage.to_decimal()


# --- bytes, IntOrString, free-form JSON -----------------------------------------------


def test_bytes_are_base64_on_the_wire() -> None:
    blob = bytes(range(256))
    event = Event(spec=Spec(ca_bundle=blob))
    wire = _wire(event)
    assert isinstance(wire["spec"]["caBundle"], str)
    assert codec.decode(codec.encode(event), Event) == event
    with pytest.raises(codec.DecodeError, match=r"base64.*\$\.spec\.caBundle"):
        codec.decode(b'{"spec":{"caBundle":"!!"}}', Event)


def test_int_or_string_keeps_the_json_type() -> None:
    assert IntOrString == int | str
    data = b'{"spec":{"ports":[{"targetPort":8080},{"targetPort":"http"},{"targetPort":"25%"}]}}'
    event = codec.decode(data, Event)
    assert event.spec is not None
    assert [p.target_port for p in event.spec.ports or []] == [8080, "http", "25%"]
    assert codec.encode(event) == data
    with pytest.raises(codec.DecodeError, match=r"\$\.spec\.ports\[0\]\.targetPort"):
        codec.decode(b'{"spec":{"ports":[{"targetPort":1.5}]}}', Event)


def test_free_form_json_passes_through() -> None:
    data = {"spec": {"config": [1, "two", {"three": None}], "raw": {"kind": "X", "n": [1.5]}}}
    event = codec.decode(json.dumps(data), Event)
    assert _wire(event) == data


def test_unset_fields_stay_absent() -> None:
    assert codec.encode(Event()) == b"{}"
    assert codec.encode(Event(spec=Spec(ports=[Port()]))) == b'{"spec":{"ports":[{}]}}'


# --- DecodeError, decoder cache, convert, to_builtins ---------------------------------


def test_decode_error_names_the_json_path() -> None:
    items: list[dict[str, Any]] = [{}, {}, {}, {"spec": {"ports": [{"targetPort": [1]}]}}]
    with pytest.raises(codec.DecodeError) as info:
        codec.decode(json.dumps({"items": items}), EventList)
    assert info.value.path == "$.items[3].spec.ports[0].targetPort"
    assert "cannot decode EventList" in str(info.value)
    assert "$.items[3].spec.ports[0].targetPort" in str(info.value)
    assert isinstance(info.value, msgspec.DecodeError)


def test_decode_error_for_malformed_json_has_no_path() -> None:
    with pytest.raises(codec.DecodeError, match="truncated") as info:
        codec.decode(b'{"items": [', EventList)
    assert info.value.path is None


def test_decoder_is_built_once_per_type() -> None:
    assert codec.decoder(Event) is codec.decoder(Event)
    assert codec.decoder(list[Event]) is codec.decoder(list[Event])
    assert codec.decoder(Event).type is Event
    assert codec.decoder(EventList).type is EventList


def test_convert_from_yaml_like_builtins() -> None:
    loaded = {
        "metadata": {"name": "x", "creationTimestamp": "2024-05-01T00:00:00Z"},
        "eventTime": "2024-05-01T00:00:00.000001Z",
        "spec": {"resources": {"limits": {"cpu": 1, "memory": "1Gi"}}, "caBundle": "aGk="},
    }
    event = codec.convert(loaded, Event)
    assert event.metadata is not None
    assert event.metadata.creation_timestamp == datetime(2024, 5, 1, tzinfo=UTC)
    assert type(event.event_time) is MicroTime
    assert event.spec is not None and event.spec.ca_bundle == b"hi"
    assert event.spec.resources is not None
    assert event.spec.resources.limits == {"cpu": Quantity("1"), "memory": Quantity("1Gi")}
    # datetimes that YAML already parsed are accepted too
    again = codec.convert({"eventTime": datetime(2024, 5, 1, tzinfo=UTC)}, Event)
    assert type(again.event_time) is MicroTime


def test_convert_error_names_the_path() -> None:
    with pytest.raises(codec.DecodeError) as info:
        codec.convert({"metadata": {"labels": {"a": 1}}}, Event)
    assert info.value.path == "$.metadata.labels[...]"
    assert "cannot convert to Event" in str(info.value)


def test_to_builtins_is_json_compatible() -> None:
    event = Event(event_time=MicroTime(2024, 5, 1, tzinfo=UTC),
                  metadata=Meta(creation_timestamp=datetime(2024, 5, 1, tzinfo=UTC)),
                  spec=Spec(storage=Quantity("1Gi"), ca_bundle=b"hi"))
    builtins = codec.to_builtins(event)
    assert builtins == {
        "eventTime": "2024-05-01T00:00:00.000000Z",
        "metadata": {"creationTimestamp": "2024-05-01T00:00:00Z"},
        "spec": {"storage": "1Gi", "caBundle": "aGk="},
    }
    assert type(builtins["spec"]["storage"]) is str
    assert json.loads(json.dumps(builtins)) == builtins


def test_unknown_types_are_not_encoded_silently() -> None:
    with pytest.raises(TypeError, match="object"):
        codec.encode({"x": object()})


def test_large_documents_decode_with_the_collector_paused_and_restored() -> None:
    import contextlib
    import gc

    import msgspec

    from kubecodegen_runtime import codec

    seen: list[bool] = []

    def probe(tp: type, obj: object) -> object:
        seen.append(gc.isenabled())
        return codec.dec_hook(tp, obj)

    dec = msgspec.json.Decoder(list[Quantity], dec_hook=probe)
    small = b'["1"]'
    large = b'["' + b"1" * codec.GC_PAUSE_THRESHOLD + b'"]'
    assert gc.isenabled()
    codec.decode_paused(dec, small)
    codec.decode_paused(dec, large)
    assert seen == [True, False] and gc.isenabled()
    gc.disable()
    try:
        codec.decode_paused(dec, large)
        assert not gc.isenabled()  # a collector the program disabled stays disabled
    finally:
        gc.enable()
    with contextlib.suppress(msgspec.DecodeError):
        codec.decode_paused(dec, large[:-1])
    assert gc.isenabled()  # restored after an error too
