"""Hand-written stand-ins for generated models, and ClientConfigs, for the REST cluster tests.

The generated models do not exist when these tests are written; these structs have the
shape the generator emits (``Object`` base, ``GVK`` constant, wire names through
``msgspec.field(name=...)``), so the generic clients are exercised exactly as generated
code will use them.
"""

from __future__ import annotations

import ssl
from typing import Any, ClassVar

import msgspec

from kubecodegen_runtime.client import (
    AsyncNamespacedResource,
    AsyncWithScale,
    AsyncWithStatus,
    ClusterResource,
    NamespacedResource,
    WithApproval,
    WithBinding,
    WithEphemeralContainers,
    WithEviction,
    WithFinalize,
    WithLog,
    WithScale,
    WithStatus,
    WithToken,
)
from kubecodegen_runtime.config import BearerTokenAuth, ClientConfig
from kubecodegen_runtime.meta import GroupVersionKind, ResourceInfo
from kubecodegen_runtime.model import Model, Object
from tests.harness.cluster import TestCluster


class ObjectMeta(Model, kw_only=True):
    name: str | None = None
    generate_name: str | None = msgspec.field(default=None, name="generateName")
    namespace: str | None = None
    uid: str | None = None
    resource_version: str | None = msgspec.field(default=None, name="resourceVersion")
    generation: int | None = None
    creation_timestamp: str | None = msgspec.field(default=None, name="creationTimestamp")
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    finalizers: list[str] | None = None
    managed_fields: list[dict[str, Any]] | None = msgspec.field(default=None, name="managedFields")


class ListMeta(Model, kw_only=True):
    resource_version: str | None = msgspec.field(default=None, name="resourceVersion")
    continue_: str | None = msgspec.field(default=None, name="continue")
    remaining_item_count: int | None = msgspec.field(default=None, name="remainingItemCount")


class ConfigMap(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "ConfigMap")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    data: dict[str, str] | None = None
    binary_data: dict[str, bytes] | None = msgspec.field(default=None, name="binaryData")
    immutable: bool | None = None


class ConfigMapList(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "ConfigMapList")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ListMeta | None = None
    items: list[ConfigMap]


class ScaleSpec(Model, kw_only=True):
    replicas: int | None = None


class ScaleStatus(Model, kw_only=True):
    replicas: int
    selector: str | None = None


class Scale(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("autoscaling", "v1", "Scale")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: ScaleSpec | None = None
    status: ScaleStatus | None = None


class Deployment(Object, kw_only=True):
    """Spec and status kept as JSON: only metadata and replicas matter to these tests."""

    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("apps", "v1", "Deployment")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: dict[str, Any] | None = None
    status: dict[str, Any] | None = None


class DeploymentList(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("apps", "v1", "DeploymentList")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ListMeta | None = None
    items: list[Deployment]


class Namespace(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "Namespace")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: dict[str, Any] | None = None
    status: dict[str, Any] | None = None


class NamespaceList(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "NamespaceList")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ListMeta | None = None
    items: list[Namespace]


CONFIG_MAPS = ResourceInfo("", "v1", "configmaps", "ConfigMap", True,
                           frozenset({"create", "delete", "deletecollection", "get", "list",
                                      "patch", "update", "watch"}))
DEPLOYMENTS = ResourceInfo("apps", "v1", "deployments", "Deployment", True,
                           subresources={"status": frozenset({"get", "patch", "update"}),
                                         "scale": frozenset({"get", "patch", "update"})})
NAMESPACES = ResourceInfo("", "v1", "namespaces", "Namespace", False)


class ConfigMaps(NamespacedResource[ConfigMap, ConfigMapList]):
    info = CONFIG_MAPS
    type = ConfigMap
    list_type = ConfigMapList


class AsyncConfigMaps(AsyncNamespacedResource[ConfigMap, ConfigMapList]):
    info = CONFIG_MAPS
    type = ConfigMap
    list_type = ConfigMapList


class Deployments(NamespacedResource[Deployment, DeploymentList], WithStatus[Deployment],
                  WithScale[Scale]):
    info = DEPLOYMENTS
    type = Deployment
    list_type = DeploymentList
    scale_type = Scale


class AsyncDeployments(AsyncNamespacedResource[Deployment, DeploymentList],
                       AsyncWithStatus[Deployment], AsyncWithScale[Scale]):
    info = DEPLOYMENTS
    type = Deployment
    list_type = DeploymentList
    scale_type = Scale


class Pod(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "Pod")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: dict[str, Any] | None = None
    status: dict[str, Any] | None = None


class PodList(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "PodList")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ListMeta | None = None
    items: list[Pod]


class Eviction(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("policy", "v1beta1", "Eviction")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    delete_options: dict[str, Any] | None = msgspec.field(default=None, name="deleteOptions")


class Binding(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "Binding")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    target: dict[str, str]


class TokenRequest(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("authentication.k8s.io", "v1",
                                                       "TokenRequest")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: dict[str, Any]
    status: dict[str, Any] | None = None


class EphemeralContainers(Object, kw_only=True):
    """What ``pods/ephemeralcontainers`` speaks up to Kubernetes 1.21."""

    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "EphemeralContainers")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    ephemeral_containers: list[dict[str, Any]] = msgspec.field(name="ephemeralContainers")


class CertificateSigningRequest(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("certificates.k8s.io", "v1",
                                                       "CertificateSigningRequest")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: dict[str, Any]
    status: dict[str, Any] | None = None


class CertificateSigningRequestList(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("certificates.k8s.io", "v1",
                                                       "CertificateSigningRequestList")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ListMeta | None = None
    items: list[CertificateSigningRequest]


class ServiceAccount(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "ServiceAccount")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None


class ServiceAccountList(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "ServiceAccountList")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ListMeta | None = None
    items: list[ServiceAccount]


class Namespaces(ClusterResource[Namespace, NamespaceList], WithStatus[Namespace],
                 WithFinalize[Namespace]):
    info = NAMESPACES
    type = Namespace
    list_type = NamespaceList


class Pods(NamespacedResource[Pod, PodList], WithStatus[Pod], WithEviction[Eviction],
           WithBinding[Binding], WithLog, WithEphemeralContainers[EphemeralContainers]):
    info = ResourceInfo("", "v1", "pods", "Pod", True)
    type = Pod
    list_type = PodList
    ephemeral_containers_type = EphemeralContainers


class ServiceAccounts(NamespacedResource[ServiceAccount, ServiceAccountList],
                      WithToken[TokenRequest]):
    info = ResourceInfo("", "v1", "serviceaccounts", "ServiceAccount", True)
    type = ServiceAccount
    list_type = ServiceAccountList
    token_request_type = TokenRequest


class CertificateSigningRequests(
    ClusterResource[CertificateSigningRequest, CertificateSigningRequestList],
    WithStatus[CertificateSigningRequest], WithApproval[CertificateSigningRequest],
):
    info = ResourceInfo("certificates.k8s.io", "v1", "certificatesigningrequests",
                        "CertificateSigningRequest", False)
    type = CertificateSigningRequest
    list_type = CertificateSigningRequestList


def pod(name: str) -> Pod:
    """A pod that passes admission without a token secret; it stays Pending (no scheduler)."""
    return Pod(metadata=ObjectMeta(name=name), spec={
        "automountServiceAccountToken": False,
        "containers": [{"name": "c", "image": "example.invalid/app:1"}],
    })


def token_config(cluster: TestCluster, token: str, **overrides: Any) -> ClientConfig:
    """A ClientConfig built by hand: the cluster CA and a bearer token."""
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    return ClientConfig(server=cluster.server, verify=context, auth=BearerTokenAuth(token),
                        **overrides)


def admin_config(cluster: TestCluster, **overrides: Any) -> ClientConfig:
    """Admin by token; rate limiting off unless asked for, so tests only wait for the server."""
    overrides.setdefault("qps", 0.0)
    return token_config(cluster, cluster.admin_token, **overrides)


def deployment(name: str, replicas: int = 1) -> Deployment:
    labels = {"app": name}
    return Deployment(
        metadata=ObjectMeta(name=name),
        spec={
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "example.invalid/app:1"}]},
            },
        },
    )
