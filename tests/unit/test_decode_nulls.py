"""Every generated struct decodes ``null`` wherever Go's encoder can write one (issue 8, §1).

The spec marks fields ``required`` that only lack ``omitempty`` in Go: a nil slice, map or
``[]byte``, a zero Time/MicroTime and an empty RawExtension are written as ``null``
(EndpointSlice ``endpoints: []`` is served as ``null``, so is every new HPA's
``status.conditions`` and the ``eventTime`` of events recorded through core/v1).

The test does not trust the generator's rule: which fields are nil-able is worked out
here from the raw spec, Go's way (the property's schema is an array, a map, a byte
string, or a Time/MicroTime/RawExtension reference). For every definition of both bundled
specs, a valid instance is built from the committed generated class, each such field is
set to ``null`` and decoded; containers must read as the empty container (typed as one),
times and embedded objects as ``None``, and the result must re-encode and decode again.
Fields Go never writes as ``null`` (strings, numbers, booleans) must still reject it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest

from kubecodegen.generate import load_model
from kubecodegen.model import ApiModel
from kubecodegen.spec import load_spec
from kubecodegen_runtime import codec
from tests.generated_packages import GENERATED, import_reference

PACKAGES = {"kube_v1_20": "builtin:v1.20", "kube_v1_35": "builtin:v1.35"}
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_NULL_AS_NONE = {_META + "Time", _META + "MicroTime"}


@cache
def _model(source: str) -> ApiModel:
    return load_model(source)[1]


@cache
def _definitions(source: str) -> dict[str, Any]:
    definitions: dict[str, Any] = load_spec(source).document["definitions"]
    return definitions


def _resolve(schema: dict[str, Any], definitions: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The schema a property really has: follows ``$ref`` (and single-item ``allOf``)."""
    name = None
    for _ in range(20):
        ref = schema.get("$ref")
        if ref is None and isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
            ref = schema["allOf"][0].get("$ref")
        if not isinstance(ref, str):
            break
        name = ref.removeprefix("#/definitions/")
        schema = definitions[name]
    return name, schema


def go_writes_null(prop: dict[str, Any], definitions: dict[str, Any]) -> str | None:
    """``"empty"`` if Go's encoder may write ``null`` for a slice, map, []byte or embedded
    object (RawExtension) here, ``"none"`` for a zero time, None when it never writes ``null``."""
    name, schema = _resolve(prop, definitions)
    if name in _NULL_AS_NONE:
        return "none"
    if "properties" in schema or "$ref" in schema:
        return None  # a struct (or a reference the model resolves to one)
    if schema.get("type") == "array":
        return "empty"
    if schema.get("type") == "object":
        return "empty"  # a map, or a free-form object (RawExtension)
    if schema.get("type") == "string" and schema.get("format") == "byte":
        return "empty"
    return None


def _minimal(t: msgspec.inspect.Type, depth: int = 0) -> Any:
    """A small valid JSON value of type ``t``: required fields only, one per struct."""
    if depth > 40:
        raise AssertionError("required fields form a cycle; no finite instance exists")
    ins = msgspec.inspect
    if isinstance(t, ins.StructType):
        return {f.encode_name: _minimal(f.type, depth + 1) for f in t.fields if f.required}
    if isinstance(t, ins.UnionType):
        options = [o for o in t.types if not isinstance(o, ins.NoneType)]
        return _minimal(options[0], depth + 1)
    if isinstance(t, ins.ListType):
        return [_minimal(t.item_type, depth + 1)]
    if isinstance(t, ins.DictType):
        return {"k": _minimal(t.value_type, depth + 1)}
    if isinstance(t, ins.CustomType):
        return {"Quantity": "1", "MicroTime": "2024-05-01T10:20:31.000000Z",
                "DateTimeString": "2024-05-01T10:20:31.000Z"}[t.cls.__name__]
    simple: dict[type, Any] = {
        ins.StrType: "x", ins.IntType: 1, ins.FloatType: 1.5, ins.BoolType: True,
        ins.BytesType: "eA==", ins.DateTimeType: "2024-05-01T10:20:31Z", ins.RawType: {},
        ins.AnyType: {},
    }
    return simple[type(t)]


def _classes(package: str) -> list[tuple[str, type, dict[str, Any], ApiModel]]:
    """(definition, generated class, definition schema, model) for every struct definition."""
    import_reference(package)
    source = PACKAGES[package]
    model, definitions = _model(source), _definitions(source)
    found = []
    modules: dict[str, ModuleType] = {}
    for struct_id, struct in sorted(model.structs.items()):
        if struct_id not in definitions:
            continue  # an inline (custom resource) type: no definition of its own
        if struct.module not in modules:
            modules[struct.module] = __import__(f"{package}.models.{struct.module}", fromlist=["_"])
        found.append((struct_id, getattr(modules[struct.module], struct.name), definitions[struct_id], model))
    return found


def _nullable_cases(package: str) -> list[tuple[str, type, str, str, str]]:
    """(definition, class, wire name, attribute, "empty"/"none") for each nil-able required field."""
    definitions = _definitions(PACKAGES[package])
    cases = []
    for struct_id, cls, schema, model in _classes(package):
        attrs = {f.wire_name: f.py_name for f in model.structs[struct_id].fields}
        for wire in schema.get("required", []):
            prop = schema["properties"].get(wire, {})
            if prop.get("nullable") or "default" in prop or wire not in attrs:
                continue
            reading = go_writes_null(prop, definitions)
            if reading is not None:
                cases.append((struct_id, cls, wire, attrs[wire], reading))
    return cases


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_every_required_nilable_field_decodes_null(package: str) -> None:
    import_reference(package)
    cases = _nullable_cases(package)
    assert len(cases) > 100  # the rule is general: every definition of the spec is covered
    failures = []
    for struct_id, cls, wire, attr, reading in cases:
        document = _minimal(msgspec.inspect.type_info(cls))
        document[wire] = None
        try:
            obj = codec.decode(json.dumps(document).encode(), cls)
        except msgspec.DecodeError as exc:
            failures.append(f"{struct_id}.{wire}: {exc}")
            continue
        value = getattr(obj, attr)
        if reading == "none":
            ok = value is None
        else:
            ok = type(value) in (list, dict, bytes) and len(value) == 0
        if not ok:
            failures.append(f"{struct_id}.{wire}: null read as {value!r}")
        elif codec.decode(codec.encode(obj), cls) != obj:
            failures.append(f"{struct_id}.{wire}: does not round-trip")
    assert failures == [], f"{len(failures)} of {len(cases)}: {failures[:5]}"


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_fields_go_never_writes_as_null_still_reject_it(package: str) -> None:
    """Tolerance is not looseness: a required string, number or boolean stays non-null."""
    import_reference(package)
    definitions = _definitions(PACKAGES[package])
    checked = 0
    for struct_id, cls, schema, model in _classes(package):
        fields = {f.wire_name: f for f in model.structs[struct_id].fields}
        for wire in schema.get("required", []):
            prop = schema["properties"].get(wire, {})
            _, resolved = _resolve(prop, definitions)
            if wire not in fields or not fields[wire].required or \
                    resolved.get("type") not in ("string", "integer", "boolean") or "format" in resolved:
                continue
            document = _minimal(msgspec.inspect.type_info(cls))
            document[wire] = None
            with pytest.raises(msgspec.DecodeError):
                codec.decode(json.dumps(document).encode(), cls)
            checked += 1
    assert checked > 200


def test_the_fields_seen_on_real_servers_are_covered() -> None:
    """The fields issue 8 found on kube-apiserver 1.20.2 are among the generic cases."""
    found = {(struct_id, wire) for struct_id, _, wire, _, _ in _nullable_cases("kube_v1_20")}
    for name, wire in [("discovery.v1beta1.EndpointSlice", "endpoints"), ("events.v1.Event", "eventTime"),
                       ("events.v1beta1.Event", "eventTime"),
                       ("autoscaling.v2beta1.HorizontalPodAutoscalerStatus", "conditions"),
                       ("autoscaling.v2beta2.HorizontalPodAutoscalerStatus", "conditions"),
                       ("storage.v1.CSINodeSpec", "drivers"), ("core.v1.ContainerImage", "names"),
                       ("core.v1.LimitRangeSpec", "limits")]:
        assert (f"io.k8s.api.{name}", wire) in found, (name, wire)


def test_null_reads_as_empty_and_goes_back_as_an_empty_container() -> None:
    """A nil slice reads as ``[]`` (no None check needed), a zero time as None; the
    container is sent back empty (what the server stores as nil), the time as ``null``."""
    import_reference("kube_v1_20")
    from kube_v1_20.models import discovery_v1beta1, events_v1

    eps = codec.decode(b'{"addressType": "IPv4", "endpoints": null}', discovery_v1beta1.EndpointSlice)
    assert eps.endpoints == [] and len(eps.endpoints) == 0
    assert json.loads(codec.encode(eps)) == {"addressType": "IPv4", "endpoints": []}
    event = codec.decode(b'{"metadata": {"name": "e"}, "eventTime": null}', events_v1.Event)
    assert event.event_time is None
    assert json.loads(codec.encode(event)) == {"metadata": {"name": "e"}, "eventTime": None}
    # Built by hand the field is still required (the server validates it on create).
    with pytest.raises(TypeError, match="endpoints"):
        discovery_v1beta1.EndpointSlice(address_type="IPv4")  # type: ignore[call-arg]


TYPING_SNIPPET = textwrap.dedent('''
    from kube_v1_20.models.core_v1 import LimitRangeSpec
    from kube_v1_20.models.discovery_v1beta1 import Endpoint, EndpointSlice
    from kube_v1_20.models.events_v1 import Event

    def use(eps: EndpointSlice, event: Event, limits: LimitRangeSpec) -> None:
        endpoints: list[Endpoint] = eps.endpoints                   # a list, no None check
        count: int = len(limits.limits)                             # a list, no None check
        when = event.event_time
        when.isoformat()                                            # E: honestly optional
        EndpointSlice(address_type="IPv4", endpoints=None)          # E: built as a list
''')


def test_mypy_sees_required_containers_as_containers(tmp_path: Path) -> None:
    (tmp_path / "use.py").write_text(TYPING_SNIPPET)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--warn-unreachable", "--no-incremental",
         "--cache-dir", str(tmp_path / "c"), str(tmp_path / "use.py")],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=600,
        env={"MYPYPATH": str(GENERATED), "PATH": "/usr/bin:/bin"},
    )
    lines = {int(line.split(":")[1]) for line in result.stdout.splitlines() if ": error:" in line}
    expected = {i for i, text in enumerate(TYPING_SNIPPET.splitlines(), start=1) if "# E:" in text}
    assert lines == expected, result.stdout
