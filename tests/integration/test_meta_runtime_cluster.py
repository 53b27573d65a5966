"""The runtime's meta/v1 (generated from the newest spec) against the real 1.20.2 server.

generated/kube_v1_20 re-exports the runtime's meta/v1 classes, which come from the 1.35
spec: objects must still round-trip through the 1.20 server exactly (managedFields,
ownerReferences), and every Status the server sends -- a delete's result, a 404's body,
``scheme.decode`` of it -- is the runtime's one ``Status`` class.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.generated_packages import import_reference

kube20 = import_reference("kube_v1_20")
kube35 = import_reference("kube_v1_35")
from kube_v1_20.models import core_v1  # noqa: E402
from kube_v1_35.models import meta_v1 as meta35  # noqa: E402

from kubecodegen_runtime import codec, errors  # noqa: E402
from kubecodegen_runtime.apis import meta_v1 as runtime_meta  # noqa: E402


@pytest.fixture
def cs(cluster: Any) -> Any:
    with kube20.Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as clientset:
        yield clientset


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def test_delete_and_not_found_give_the_one_status_class(cs: Any, cluster: Any, namespace: str) -> None:
    cms = cs.core_v1.config_maps(namespace)
    cms.create(core_v1.ConfigMap(metadata=meta35.ObjectMeta(name="doomed")))
    deleted = cms.delete("doomed")
    assert type(deleted) is errors.Status is runtime_meta.Status is meta35.Status
    assert deleted.status == "Success" and deleted.details is not None
    assert deleted.details.name == "doomed" and deleted.details.kind == "configmaps"

    with pytest.raises(errors.NotFound) as caught:
        cms.get("doomed")
    body = caught.value.body
    assert type(body) is runtime_meta.Status and type(body.metadata) is runtime_meta.ListMeta
    assert body.details is not None and body.details.name == "doomed" and body.code == 404

    raw = cluster.admin_client().get(f"/api/v1/namespaces/{namespace}/configmaps/doomed")
    assert raw.status_code == 404
    for package in (kube20, kube35):
        decoded = package.scheme.decode(raw.content)
        assert type(decoded) is runtime_meta.Status and decoded == body


def test_owner_references_and_managed_fields_round_trip_through_the_1_20_package(
        cs: Any, namespace: str) -> None:
    cms = cs.core_v1.config_maps(namespace)
    owner = cms.create(core_v1.ConfigMap(metadata=meta35.ObjectMeta(name="owner")))
    assert owner.metadata is not None and owner.metadata.uid
    reference = meta35.OwnerReference(api_version="v1", kind="ConfigMap", name="owner",
                                      uid=owner.metadata.uid, controller=True,
                                      block_owner_deletion=False)
    child = cms.create(core_v1.ConfigMap(
        metadata=meta35.ObjectMeta(name="child", labels={"a": "1"}, owner_references=[reference]),
        data={"k": "v"}))
    assert child.metadata.owner_references == [reference]
    entries = child.metadata.managed_fields
    assert entries and all(type(e) is runtime_meta.ManagedFieldsEntry for e in entries)
    assert entries[0].operation == "Update" and entries[0].fields_type == "FieldsV1"
    assert b'"f:ownerReferences"' in bytes(entries[0].fields_v1)

    child.metadata.labels = {"a": "2"}
    updated = cms.update(child)
    assert updated.metadata.labels == {"a": "2"} and updated.metadata.owner_references == [reference]

    # what the package decodes re-encodes to exactly what the server sent
    raw = cs.rest.get(f"/api/v1/namespaces/{namespace}/configmaps/child")
    got = cms.get("child")
    assert json.loads(codec.encode(got)) == _without_nulls(raw)
    assert [type(e) for e in got.metadata.managed_fields] == [runtime_meta.ManagedFieldsEntry] * len(
        got.metadata.managed_fields)
