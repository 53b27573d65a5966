"""Custom resources survive a typed round trip on the real server exactly (issue 8, §1).

* ``format: date-time`` strings: the server keeps a custom resource's strings verbatim
  (``…31.000Z``, nanoseconds, offsets), so a typed get + update must write back the very
  same text, not a re-formatted instant. The package is generated from the cluster.
* Built-in Time/MicroTime stay datetimes: the server writes them canonically, and they
  come back byte for byte.
* A ``required`` property with a schema ``default`` may be left out: the server fills it
  in (external-secrets Password, OpenTelemetryCollector stand-ins). kube-apiserver 1.20
  drops ``default`` from the schemas it publishes in /openapi/v2 (and so does the 1.36
  server); ``--from-cluster`` puts them back from the CRD objects.

The custom-resource tests run on both servers (``cr_cluster``: 1.20 and 1.36); the built-in
times need core/v1 (Lease) and run on kube-apiserver only.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from types import ModuleType
from typing import Any

import pytest

from tests.crd_schemas import DEFAULTED, STAMP_CRD, definition_name, load_yaml
from tests.generated_packages import import_reference

DEFAULTED_CRDS = [load_yaml("password-crd.yaml"), load_yaml("opentelemetrycollector-crd.yaml")]
GROUPS = ["fidelity.example.com", "generators.external-secrets.io", "opentelemetry.io"]
STAMPS = "/apis/fidelity.example.com/v1/namespaces/{ns}/stamps"
TEXTS = {"at": "2024-05-01T10:20:31.000Z", "until": "2024-05-01T10:20:30.123456789Z",
         "history": ["2024-05-01T12:20:30+02:00", "2024-05-01T10:20:30.5Z", "2024-05-01T10:20:30Z"],
         "byName": {"start": "2024-05-01T10:20:31.000000Z", "end": "2024-05-01T10:20:30.100-01:00"}}


def _install(admin: Any) -> dict[str, Any]:
    """Install the CRDs and return the cluster's /openapi/v2 once it shows all of them."""
    for crd in [STAMP_CRD, *DEFAULTED_CRDS]:
        response = admin.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd)
        assert response.status_code in (201, 409), response.text
    names = [definition_name(crd["spec"]["group"], crd["spec"]["versions"][0]["name"],
                             crd["spec"]["names"]["kind"]) for crd in [STAMP_CRD, *DEFAULTED_CRDS]]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        document: dict[str, Any] = admin.get("/openapi/v2").json()
        if all(name in document["definitions"] for name in names):
            return document
        time.sleep(0.5)
    raise AssertionError("CRD schemas never appeared in /openapi/v2")


@pytest.fixture(scope="module")
def served(cr_cluster: Any) -> dict[str, Any]:
    """The CRDs installed on each server in turn (``cr_cluster``: 1.20 and the modern 1.36)."""
    return _install(cr_cluster.admin_client())


@pytest.fixture(scope="module")
def from_cluster(served: dict[str, Any], cr_cluster: Any,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    from kubecodegen.generate import SpecSource, generate, write

    out = tmp_path_factory.mktemp("fidelity")
    write(generate(SpecSource(from_cluster=True, kubeconfig=str(cr_cluster.admin_kubeconfig)), "kube_fidelity",
                   groups=GROUPS), out)
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("kube_fidelity")
    finally:
        sys.path.remove(str(out))
        # The other server's run generates its own kube_fidelity: forget this one entirely.
        for name in [m for m in sys.modules if m == "kube_fidelity" or m.startswith("kube_fidelity.")]:
            del sys.modules[name]


def _stamp(name: str, size: int) -> dict[str, Any]:
    return {"apiVersion": "fidelity.example.com/v1", "kind": "Stamp", "metadata": {"name": name},
            "spec": {**TEXTS, "size": size}}


def test_date_time_strings_are_written_back_verbatim(from_cluster: ModuleType, cr_cluster: Any,
                                                     cr_namespace: str) -> None:
    cluster, namespace = cr_cluster, cr_namespace
    admin = cluster.admin_client()
    path = STAMPS.format(ns=namespace)
    assert admin.post(path, json=_stamp("s", 1)).status_code == 201
    assert admin.get(f"{path}/s").json()["spec"]["until"] == TEXTS["until"]  # stored verbatim
    with from_cluster.Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as cs:
        stamps = cs.fidelity_example_com_v1.stamps(namespace)
        got = stamps.get("s")
        assert got.spec.at == TEXTS["at"] and got.spec.history == TEXTS["history"]
        assert got.spec.until.to_datetime() == datetime(2024, 5, 1, 10, 20, 30, 123456, tzinfo=timezone.utc)
        got.spec.size = 2
        updated = stamps.update(got)
        assert updated.spec.size == 2 and updated.spec.until == TEXTS["until"]
        stored = admin.get(f"{path}/s").json()
        assert stored["spec"] == {**TEXTS, "size": 2}  # nothing the user did not touch changed
        codec = importlib.import_module("kubecodegen_runtime.codec")
        assert json.loads(codec.encode(stamps.get("s"))) == stored

        [listed] = stamps.list().items
        assert listed.spec.by_name == TEXTS["byName"]
        with stamps.watch(resource_version="0", timeout_seconds=5) as events:
            first = next(iter(events))
        assert first.object.spec.history == TEXTS["history"]

        types = importlib.import_module("kubecodegen_runtime.types")
        models = importlib.import_module("kube_fidelity.models.fidelity_example_com_v1")
        meta = importlib.import_module("kube_fidelity.models.meta_v1")
        when = types.DateTimeString.from_datetime(datetime(2024, 5, 1, 10, 20, 31, 250000, tzinfo=timezone.utc))
        created = stamps.create(models.Stamp(metadata=meta.ObjectMeta(name="t"), spec=models.StampSpec(
            at=when, history=[types.DateTimeString("2024-05-01T10:20:31.000Z")])))
        assert created.spec.at == "2024-05-01T10:20:31.25Z"
        assert admin.get(f"{path}/t").json()["spec"]["history"] == ["2024-05-01T10:20:31.000Z"]


def test_builtin_times_round_trip_exactly(cluster: Any, namespace: str) -> None:
    """Time (creationTimestamp) and MicroTime (Lease acquire/renew) as the server writes them."""
    import_reference("kube_v1_20")
    from kube_v1_20 import Clientset
    from kube_v1_20.models import coordination_v1, meta_v1

    from kubecodegen_runtime import codec
    from kubecodegen_runtime.types import MicroTime

    at = MicroTime(2024, 5, 1, 10, 20, 31, 123456, tzinfo=timezone.utc)
    whole = MicroTime(2024, 5, 1, 10, 20, 32, tzinfo=timezone.utc)
    with Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as cs:
        leases = cs.coordination_v1.leases(namespace)
        leases.create(coordination_v1.Lease(metadata=meta_v1.ObjectMeta(name="l"), spec=coordination_v1.LeaseSpec(
            holder_identity="me", acquire_time=at, renew_time=whole)))
        raw = cluster.admin_client().get(f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/l").json()
        assert raw["spec"]["acquireTime"] == "2024-05-01T10:20:31.123456Z"
        assert raw["spec"]["renewTime"] == "2024-05-01T10:20:32.000000Z"
        got = leases.get("l")
        assert got.spec.acquire_time == at
        assert json.loads(codec.encode(got)) == raw  # creationTimestamp and both MicroTimes


def test_from_cluster_restores_the_defaults_the_published_schema_drops(served: dict[str, Any],
                                                                       cr_cluster: Any) -> None:
    """/openapi/v2 keeps ``required`` but drops ``default`` (kube-apiserver 1.20 and the 1.36
    server alike); the CRD objects still have it, and the from-cluster loader puts it back."""
    cluster = cr_cluster
    from kubecodegen.spec.cluster import load_spec_from_cluster

    name = "io.external-secrets.generators.v1alpha1.Password"
    published = served["definitions"][name]["properties"]["spec"]
    assert "allowRepeat" in published["required"] and "default" not in published["properties"]["allowRepeat"]
    loaded = load_spec_from_cluster(str(cluster.admin_kubeconfig)).document["definitions"][name]
    properties = loaded["properties"]["spec"]["properties"]
    assert (properties["allowRepeat"]["default"], properties["length"]["default"]) == (False, 24)


def test_examples_without_defaulted_fields_are_created_and_filled_in(from_cluster: ModuleType, cr_cluster: Any,
                                                                     cr_namespace: str) -> None:
    cluster, namespace = cr_cluster, cr_namespace
    with from_cluster.Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as cs:
        [password] = from_cluster.scheme.decode_yaml((DEFAULTED / "password-example.yaml").read_text())
        assert password.spec.allow_repeat is None
        created = cs.generators_external_secrets_io_v1alpha1.passwords(namespace).create(password)
        assert (created.spec.allow_repeat, created.spec.length, created.spec.no_upper) == (False, 24, False)
        assert created.spec.symbol_characters == "-_$@"

        [collector] = from_cluster.scheme.decode_yaml(
            (DEFAULTED / "opentelemetrycollector-example.yaml").read_text())
        made = cs.opentelemetry_io_v1beta1.open_telemetry_collectors(namespace).create(collector)
        assert made.spec.management_state == "managed" and made.spec.mode == "deployment"
        assert made.spec.config.service.pipelines["traces"].receivers == ["otlp"]

        models = importlib.import_module("kube_fidelity.models.generators_external_secrets_io_v1alpha1")
        meta = importlib.import_module("kube_fidelity.models.meta_v1")
        built = cs.generators_external_secrets_io_v1alpha1.passwords(namespace).create(models.Password(
            metadata=meta.ObjectMeta(name="built"), spec=models.PasswordSpec(digits=2)))
        assert built.spec.length == 24

