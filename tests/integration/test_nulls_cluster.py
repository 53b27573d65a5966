"""Objects kube-apiserver 1.20.2 serves with ``null`` in spec-``required`` fields decode (issue 8, §1).

Each case makes the real server store a Go nil where the spec says ``required`` (an
EndpointSlice created with ``endpoints: []``, an event recorded through core/v1, a new
HPA, ...), checks on the raw answer that the server really sends ``null``, and then goes
through every typed path a user has: the ``create`` answer, get, list, watch, an informer's
cache, and an update of the decoded object, which the server must accept and store
exactly as before (``null`` again). The re-encoded object equals the server's JSON except
for the documented differences: the nil container is sent as its empty form, and ``null``
in *optional* fields is absent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.generated_packages import import_reference

import_reference("kube_v1_20")
from kube_v1_20 import Clientset, SharedInformerFactory  # noqa: E402
from kube_v1_20.models import (  # noqa: E402
    autoscaling_v2beta1,
    autoscaling_v2beta2,
    core_v1,
    discovery_v1beta1,
    meta_v1,
    storage_v1,
)

from kubecodegen_runtime import codec  # noqa: E402
from kubecodegen_runtime.watch.event import WatchEvent  # noqa: E402


def _meta(name: str) -> meta_v1.ObjectMeta:
    return meta_v1.ObjectMeta(name=name)


def _hpa(module: Any, name: str) -> Any:
    return module.HorizontalPodAutoscaler(metadata=_meta(name), spec=module.HorizontalPodAutoscalerSpec(
        max_replicas=3, scale_target_ref=module.CrossVersionObjectReference(
            api_version="apps/v1", kind="Deployment", name="web")))


def _core_event(cs: Clientset, namespace: str, name: str) -> None:
    """How most events are recorded (kubelet, controllers): through core/v1, no eventTime."""
    cs.core_v1.events(namespace).create(core_v1.Event(
        metadata=_meta(name), reason="Started", message="started container",
        involved_object=core_v1.ObjectReference(kind="Pod", namespace=namespace, name="web-0")))


@dataclass(frozen=True)
class Case:
    """One object the server stores with a nil in a required field."""

    id: str
    client: Callable[[Clientset, str], Any]  # the typed client under test
    informer: Callable[[SharedInformerFactory], Any]
    path: str  # API path of the collection ({ns} is the namespace)
    create: Callable[[Clientset, str, str], Any]  # returns the typed create answer, or None
    field: tuple[str | int, ...]  # wire path of the nil field inside the object
    attr: Callable[[Any], Any]  # the same field read from a decoded object
    empty: Any  # how it reads: [] for a nil slice, None for a zero time
    namespaced: bool = True


CASES = [
    Case("endpointslice-v1beta1-endpoints", lambda cs, ns: cs.discovery_v1beta1.endpoint_slices(ns),
         lambda f: f.discovery_v1beta1.endpoint_slices(),
         "/apis/discovery.k8s.io/v1beta1/namespaces/{ns}/endpointslices",
         lambda cs, ns, name: cs.discovery_v1beta1.endpoint_slices(ns).create(discovery_v1beta1.EndpointSlice(
             metadata=_meta(name), address_type="IPv4", endpoints=[])),
         ("endpoints",), lambda o: o.endpoints, []),
    Case("event-v1-eventtime", lambda cs, ns: cs.events_v1.events(ns), lambda f: f.events_v1.events(),
         "/apis/events.k8s.io/v1/namespaces/{ns}/events", _core_event,
         ("eventTime",), lambda o: o.event_time, None),
    Case("event-v1beta1-eventtime", lambda cs, ns: cs.events_v1beta1.events(ns),
         lambda f: f.events_v1beta1.events(),
         "/apis/events.k8s.io/v1beta1/namespaces/{ns}/events", _core_event,
         ("eventTime",), lambda o: o.event_time, None),
    Case("hpa-v2beta1-conditions", lambda cs, ns: cs.autoscaling_v2beta1.horizontal_pod_autoscalers(ns),
         lambda f: f.autoscaling_v2beta1.horizontal_pod_autoscalers(),
         "/apis/autoscaling/v2beta1/namespaces/{ns}/horizontalpodautoscalers",
         lambda cs, ns, name: cs.autoscaling_v2beta1.horizontal_pod_autoscalers(ns).create(
             _hpa(autoscaling_v2beta1, name)),
         ("status", "conditions"), lambda o: o.status.conditions, []),
    Case("hpa-v2beta2-conditions", lambda cs, ns: cs.autoscaling_v2beta2.horizontal_pod_autoscalers(ns),
         lambda f: f.autoscaling_v2beta2.horizontal_pod_autoscalers(),
         "/apis/autoscaling/v2beta2/namespaces/{ns}/horizontalpodautoscalers",
         lambda cs, ns, name: cs.autoscaling_v2beta2.horizontal_pod_autoscalers(ns).create(
             _hpa(autoscaling_v2beta2, name)),
         ("status", "conditions"), lambda o: o.status.conditions, []),
    Case("csinode-drivers", lambda cs, ns: cs.storage_v1.csi_nodes(), lambda f: f.storage_v1.csi_nodes(),
         "/apis/storage.k8s.io/v1/csinodes",
         lambda cs, ns, name: cs.storage_v1.csi_nodes().create(storage_v1.CSINode(
             metadata=_meta(name), spec=storage_v1.CSINodeSpec(drivers=[]))),
         ("spec", "drivers"), lambda o: o.spec.drivers, [], namespaced=False),
    Case("node-image-names", lambda cs, ns: cs.core_v1.nodes(), lambda f: f.core_v1.nodes(),
         "/api/v1/nodes",
         lambda cs, ns, name: cs.core_v1.nodes().create(core_v1.Node(
             metadata=_meta(name), status=core_v1.NodeStatus(
                 images=[core_v1.ContainerImage(names=[], size_bytes=1024)]))),
         ("status", "images", 0, "names"), lambda o: o.status.images[0].names, [], namespaced=False),
    Case("limitrange-limits", lambda cs, ns: cs.core_v1.limit_ranges(ns), lambda f: f.core_v1.limit_ranges(),
         "/api/v1/namespaces/{ns}/limitranges",
         lambda cs, ns, name: cs.core_v1.limit_ranges(ns).create(core_v1.LimitRange(
             metadata=_meta(name), spec=core_v1.LimitRangeSpec(limits=[]))),
         ("spec", "limits"), lambda o: o.spec.limits, []),
]


def _at(document: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


def _put(document: Any, path: tuple[str | int, ...], value: Any) -> None:
    _at(document, path[:-1])[path[-1]] = value


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _expected_encoding(raw: dict[str, Any], case: Case) -> dict[str, Any]:
    """The server's JSON as we re-encode it: the nil field as ``[]`` (or kept ``null``), and
    no ``null`` in optional fields (the README's documented round-trip exception)."""
    expected: dict[str, Any] = _without_nulls(raw)
    _put(expected, case.field, case.empty)
    return expected


def _same_as_server(obj: Any, raw: dict[str, Any], case: Case) -> None:
    ours = json.loads(codec.encode(obj))
    expected = _expected_encoding(raw, case)
    for key in ("apiVersion", "kind"):  # items of a list, and create answers, may lack them
        ours.setdefault(key, expected[key])
    assert ours == expected


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_nil_in_required_field_through_every_typed_path(case: Case, cluster: Any, namespace: str) -> None:
    name = f"{namespace}-{case.id}"[:63].rstrip("-")
    path = case.path.format(ns=namespace)
    admin = cluster.admin_client()
    with Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as cs:
        client = case.client(cs, namespace)
        start = client.list().metadata.resource_version

        created = case.create(cs, namespace, name)  # the typed create answer decodes
        if created is not None:
            assert created.metadata.name == name and case.attr(created) == case.empty

        raw = admin.get(f"{path}/{name}").json()
        assert _at(raw, case.field) is None, "the server no longer sends null here"

        got = client.get(name)
        assert case.attr(got) == case.empty
        assert type(case.attr(got)) is type(case.empty)  # a list reads as a list, never None
        _same_as_server(got, raw, case)

        listed = [o for o in client.list().items if o.metadata.name == name]
        assert len(listed) == 1 and case.attr(listed[0]) == case.empty

        with client.watch(resource_version=start, timeout_seconds=10) as events:
            added = next(e for e in events if isinstance(e, WatchEvent) and e.object.metadata.name == name)
        assert added.type == "ADDED" and case.attr(added.object) == case.empty

        factory = SharedInformerFactory(cs, namespace=namespace if case.namespaced else None)
        informer = case.informer(factory)
        factory.start()
        try:
            assert factory.wait_for_cache_sync(timeout=30)
            cached = [o for o in informer.lister().list() if o.metadata.name == name]
            assert len(cached) == 1 and case.attr(cached[0]) == case.empty
        finally:
            assert factory.shutdown()

        got.metadata.labels = {"touched": "yes"}
        updated = client.update(got)  # the decoded object goes back as it is
        assert updated.metadata.labels == {"touched": "yes"}
        assert updated.metadata.resource_version != got.metadata.resource_version
        assert case.attr(updated) == case.empty
        stored = admin.get(f"{path}/{name}").json()
        assert _at(stored, case.field) is None  # stored exactly as before: nil, served as null
        _same_as_server(client.get(name), stored, case)

        if not case.namespaced:
            client.delete(name)


async def test_async_clients_decode_the_same_nils(cluster: Any, namespace: str) -> None:
    """The async ClientSet shares the decoding: create, get, list and update of a nil list."""
    from kube_v1_20 import AsyncClientset

    async with AsyncClientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as acs:
        slices = acs.discovery_v1beta1.endpoint_slices(namespace)
        created = await slices.create(discovery_v1beta1.EndpointSlice(
            metadata=_meta("async"), address_type="IPv4", endpoints=[]))
        assert created.endpoints == []
        got = await slices.get("async")
        assert got.endpoints == [] and [s.endpoints for s in (await slices.list()).items] == [[]]
        got.metadata.labels = {"touched": "yes"}
        assert (await slices.update(got)).endpoints == []
        events = acs.events_v1.events(namespace)
        await acs.core_v1.events(namespace).create(core_v1.Event(
            metadata=_meta("async"), reason="Pulled", message="pulled image",
            involved_object=core_v1.ObjectReference(kind="Pod", namespace=namespace, name="web-0")))
        assert (await events.get("async")).event_time is None
    raw = cluster.admin_client().get(
        f"/apis/discovery.k8s.io/v1beta1/namespaces/{namespace}/endpointslices/async").json()
    assert raw["endpoints"] is None and raw["metadata"]["labels"] == {"touched": "yes"}
