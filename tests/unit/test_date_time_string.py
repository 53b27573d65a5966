"""Custom resources' ``format: date-time`` strings keep their exact text (issue 8, §1).

The API server stores a custom resource's strings verbatim, so ``…31.000Z`` must not come
back as ``…31Z`` nor ``…30.123456789Z`` as ``…30.123457Z`` after a typed decode/encode:
such fields are :class:`DateTimeString` (a ``str``). Built-in Time/MicroTime stay
datetimes; the server always writes them canonically, which round-trips exactly too.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubecodegen.generate import model_of
from kubecodegen.model.types import ArrayOf, MapOf, Primitive
from kubecodegen.spec import LoadedSpec
from kubecodegen_runtime import codec
from kubecodegen_runtime.types import DateTimeString
from tests.crd_schemas import STAMP_CRD, generate_package, spec_from_crds
from tests.generated_packages import import_reference

TEXTS = ["2024-05-01T10:20:31.000Z", "2024-05-01T10:20:30.123456789Z", "2024-05-01T12:20:30+02:00",
         "2024-05-01T10:20:30Z", "2024-05-01t10:20:30.5-01:30"]


@pytest.fixture(scope="module")
def stamps(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    package = generate_package(spec_from_crds([STAMP_CRD]), "kube_stamps", tmp_path_factory.mktemp("stamps"))
    return package


def test_model_types_inline_date_times_as_strings() -> None:
    fields = {f.wire_name: f.type for f in model_of(LoadedSpec("crds.json", spec_from_crds([STAMP_CRD]))).structs[
        "com.example.fidelity.v1.Stamp/spec"].fields}
    assert fields["at"] is Primitive.DATE_TIME_STRING
    assert fields["history"] == ArrayOf(Primitive.DATE_TIME_STRING)
    assert fields["byName"] == MapOf(Primitive.DATE_TIME_STRING)


def test_every_way_to_write_a_time_round_trips_verbatim(stamps: ModuleType) -> None:
    document = {"apiVersion": "fidelity.example.com/v1", "kind": "Stamp", "metadata": {"name": "s"},
                "spec": {"at": TEXTS[0], "until": TEXTS[1], "history": TEXTS, "byName": dict(zip("abcde", TEXTS, strict=True))}}
    raw = json.dumps(document).encode()
    stamp = stamps.scheme.decode(raw)
    assert stamp.spec.at == TEXTS[0] and isinstance(stamp.spec.at, str)
    assert type(stamp.spec.history[1]).__name__ == "DateTimeString"  # the package's own copy
    assert json.loads(stamps.scheme.encode(stamp)) == document
    assert stamp.spec.until.to_datetime() == datetime(2024, 5, 1, 10, 20, 30, 123456, tzinfo=timezone.utc)


_instants = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1),
                         timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30)),
                                                    timezone(-timedelta(hours=8))]))


@settings(max_examples=60, deadline=None)
@given(instant=_instants, digits=st.integers(min_value=0, max_value=9), zulu=st.booleans())
def test_any_rfc3339_text_is_kept_and_parsed(stamps: ModuleType, instant: datetime, digits: int,
                                             zulu: bool) -> None:
    fraction = f"{instant.microsecond:06d}{instant.microsecond % 1000:03d}"[:digits]
    offset = instant.utcoffset() or timedelta()
    zone = "Z" if zulu and not offset else instant.strftime("%z")[:3] + ":" + instant.strftime("%z")[3:]
    text = instant.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if digits else "") + zone
    document = {"apiVersion": "fidelity.example.com/v1", "kind": "Stamp", "spec": {"at": text}}
    stamp = stamps.scheme.decode(json.dumps(document))
    assert json.loads(stamps.scheme.encode(stamp))["spec"]["at"] == text
    expected = instant.replace(microsecond=int(fraction[:6].ljust(6, "0")) if digits else 0)
    assert stamp.spec.at.to_datetime() == expected
    assert stamp.spec.at.to_datetime().utcoffset() == offset


def test_from_datetime_writes_go_rfc3339nano_in_utc() -> None:
    utc = timezone.utc
    assert DateTimeString.from_datetime(datetime(2024, 5, 1, 10, 20, 31, tzinfo=utc)) == "2024-05-01T10:20:31Z"
    assert DateTimeString.from_datetime(datetime(2024, 5, 1, 10, 20, 31, 120000, tzinfo=utc)) == \
        "2024-05-01T10:20:31.12Z"
    plus_two = timezone(timedelta(hours=2))
    assert DateTimeString.from_datetime(datetime(2024, 5, 1, 12, 20, 31, 5, tzinfo=plus_two)) == \
        "2024-05-01T10:20:31.000005Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        DateTimeString.from_datetime(datetime(2024, 5, 1))


@pytest.mark.parametrize("text", ["", "yesterday", "2024-05-01", "2024-05-01T10:20:31", "2024-13-01T00:00:00Z",
                                  "2024-05-01T10:20:60Z", "2024-05-01T10:20:31.Z", "2024-05-01T10:20:31Z\n"])
def test_to_datetime_rejects_what_is_not_rfc3339(text: str) -> None:
    with pytest.raises(ValueError, match="not an RFC 3339 date-time"):
        DateTimeString(text).to_datetime()


def test_anything_the_server_stored_still_decodes(stamps: ModuleType) -> None:
    """An object stored before its schema had the format decodes; only parsing it fails."""
    stamp = stamps.scheme.decode(json.dumps(
        {"apiVersion": "fidelity.example.com/v1", "kind": "Stamp", "spec": {"at": "soon"}}))
    assert stamp.spec.at == "soon"
    with pytest.raises(ValueError):
        stamp.spec.at.to_datetime()


def test_a_datetime_from_yaml_or_dicts_becomes_its_canonical_text(stamps: ModuleType) -> None:
    at = datetime(2024, 5, 1, 10, 20, 31, tzinfo=timezone.utc)
    stamp = stamps.scheme.from_dict({"apiVersion": "fidelity.example.com/v1", "kind": "Stamp",
                                     "spec": {"at": at}})
    assert stamp.spec.at == "2024-05-01T10:20:31Z" and stamp.spec.at.to_datetime() == at


@settings(max_examples=60, deadline=None)
@given(instant=st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1)),
       micro=st.integers(min_value=0, max_value=999_999))
def test_builtin_time_and_micro_time_round_trip_as_the_server_writes_them(instant: datetime, micro: int) -> None:
    """Go writes Time as RFC 3339 in UTC at second precision and MicroTime with exactly six
    digits; both come back byte for byte, so built-in times can stay datetimes."""
    import_reference("kube_v1_20")
    from kube_v1_20.models import coordination_v1

    time_text = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    micro_text = instant.strftime("%Y-%m-%dT%H:%M:%S") + f".{micro:06d}Z"
    document = {"metadata": {"name": "l", "creationTimestamp": time_text},
                "spec": {"acquireTime": micro_text, "renewTime": micro_text}}
    lease = codec.decode(json.dumps(document), coordination_v1.Lease)
    assert json.loads(codec.encode(lease)) == document
