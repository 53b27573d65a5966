"""A custom resource for the API-machinery tests that run on both servers (1.20 and 1.36).

``Gizmo`` is namespaced, with status and scale subresources and a pruning schema (so field
validation has unknown fields to report). ``Rule`` carries CEL rules (``x-kubernetes-
validations``) and is installed on the modern server only: 1.20 has no CEL. The models are
hand-written in the shape the generator emits, as in ``rest_helpers``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
import msgspec

from kubecodegen_runtime.client import NamespacedResource, WithScale, WithStatus
from kubecodegen_runtime.envtest.crds import install_crds, load_crds
from kubecodegen_runtime.meta import GroupVersionKind, ResourceInfo
from kubecodegen_runtime.model import Model, Object

from .rest_helpers import ListMeta, ObjectMeta, Scale

GROUP = "machinery.kubecodegen.test"
VERSION = "v1"

_VERBS = frozenset({"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"})

GIZMO_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"gizmos.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo", "listKind": "GizmoList"},
        "versions": [{
            "name": VERSION, "served": True, "storage": True,
            "subresources": {
                "status": {},
                "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                          "labelSelectorPath": ".status.selector"},
            },
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {"type": "object", "properties": {
                        "replicas": {"type": "integer", "minimum": 0},
                        "color": {"type": "string"},
                        "owner": {"type": "string"},
                    }},
                    "status": {"type": "object", "properties": {
                        "replicas": {"type": "integer"},
                        "selector": {"type": "string"},
                        "ready": {"type": "boolean"},
                    }},
                },
            }},
        }],
    },
}

RULE_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"rules.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "rules", "singular": "rule", "kind": "Rule", "listKind": "RuleList"},
        "versions": [{
            "name": VERSION, "served": True, "storage": True,
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "x-kubernetes-validations": [
                            {"rule": "self.low <= self.high", "message": "low must not exceed high",
                             "fieldPath": ".low"},
                            {"rule": "!has(self.frozen) || self.frozen == oldSelf.frozen",
                             "message": "frozen cannot change"},
                        ],
                        "properties": {
                            "low": {"type": "integer"},
                            "high": {"type": "integer"},
                            "frozen": {"type": "string"},
                            "name": {"type": "string", "maxLength": 8,
                                     "x-kubernetes-validations": [
                                         {"rule": "self.startsWith('r-')", "message": "must start with r-"}]},
                        },
                    },
                },
            }},
        }],
    },
}


class GizmoSpec(Model, kw_only=True):
    replicas: int | None = None
    color: str | None = None
    owner: str | None = None


class GizmoStatus(Model, kw_only=True):
    replicas: int | None = None
    selector: str | None = None
    ready: bool | None = None


class Gizmo(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind(GROUP, VERSION, "Gizmo")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: GizmoSpec | None = None
    status: GizmoStatus | None = None


class GizmoList(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind(GROUP, VERSION, "GizmoList")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ListMeta | None = None
    items: list[Gizmo]


GIZMOS = ResourceInfo(GROUP, VERSION, "gizmos", "Gizmo", True, _VERBS,
                      subresources={"status": frozenset({"get", "patch", "update"}),
                                    "scale": frozenset({"get", "patch", "update"})})


class Gizmos(NamespacedResource[Gizmo, GizmoList], WithStatus[Gizmo], WithScale[Scale]):
    info = GIZMOS
    type = Gizmo
    list_type = GizmoList
    scale_type = Scale


class RuleSpec(Model, kw_only=True):
    low: int | None = None
    high: int | None = None
    frozen: str | None = None
    name: str | None = None


class Rule(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind(GROUP, VERSION, "Rule")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: RuleSpec | None = None


class RuleList(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind(GROUP, VERSION, "RuleList")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ListMeta | None = None
    items: list[Rule]


class Rules(NamespacedResource[Rule, RuleList]):
    info = ResourceInfo(GROUP, VERSION, "rules", "Rule", True, _VERBS)
    type = Rule
    list_type = RuleList


def gizmo(name: str, replicas: int = 1, labels: dict[str, str] | None = None, **spec: Any) -> Gizmo:
    return Gizmo(metadata=ObjectMeta(name=name, labels=labels), spec=GizmoSpec(replicas=replicas, **spec))


def install_crd(admin: httpx.Client, crd: dict[str, Any], timeout: float = 60.0) -> None:
    """Create ``crd`` (an existing one is replaced by it) and wait until its resource is served:
    envtest's CRD installation (Established, in discovery, and a list succeeds)."""
    install_crds(admin, load_crds([crd]), timeout)
