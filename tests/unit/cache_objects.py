"""Objects for the cache unit tests: structs shaped like generated models, and dicts.

The structs follow the generated-code conventions (subclasses of the runtime's Model and
Object, snake_case attributes with wire names), so the cache is tested against the same
shapes it will hold in a generated package; dicts are what dynamic informers cache.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from kubecodegen_runtime.meta import GroupVersionKind
from kubecodegen_runtime.model import Model, Object


class ManagedFieldsEntry(Model, kw_only=True):
    manager: str | None = None
    operation: str | None = None
    fields_v1: dict[str, Any] | None = msgspec.field(default=None, name="fieldsV1")


class ObjectMeta(Model, kw_only=True):
    name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = msgspec.field(default=None, name="resourceVersion")
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    managed_fields: list[ManagedFieldsEntry] | None = msgspec.field(
        default=None, name="managedFields"
    )


class PodSpec(Model, kw_only=True):
    node_name: str | None = msgspec.field(default=None, name="nodeName")
    host_network: bool | None = msgspec.field(default=None, name="hostNetwork")
    priority: int | None = None


class PodStatus(Model, kw_only=True):
    phase: str | None = None


class Pod(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "Pod")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: PodSpec | None = None
    status: PodStatus | None = None


def pod(name: str, namespace: str | None = "default", rv: str = "1", *,
        labels: dict[str, str] | None = None, node: str | None = None,
        managed: bool = False) -> Pod:
    managed_fields = (
        [ManagedFieldsEntry(manager="kubectl", operation="Apply",
                            fields_v1={"f:metadata": {"f:labels": {}}})]
        if managed else None
    )
    return Pod(
        metadata=ObjectMeta(name=name, namespace=namespace, resource_version=rv,
                            uid=f"uid-{namespace}-{name}", labels=labels,
                            managed_fields=managed_fields),
        spec=PodSpec(node_name=node),
    )


def pod_dict(name: str, namespace: str | None = "default", rv: str = "1", *,
             labels: dict[str, str] | None = None, node: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "resourceVersion": rv}
    if namespace:
        meta["namespace"] = namespace
    if labels is not None:
        meta["labels"] = labels
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {}}
    if node is not None:
        obj["spec"]["nodeName"] = node
    return obj
