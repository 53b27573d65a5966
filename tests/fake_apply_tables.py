"""Hand-written :class:`PackageApi` tables for the server-side apply tests of the fake.

They carry what the v1.20 OpenAPI document says about the types the tests write
(Deployments, ConfigMaps, Services, a custom resource), the ``x-kubernetes-*`` extensions
copied verbatim: small enough to read next to the unit tests, and the only tables of the
custom resource the modern-server comparison installs (``WIDGET_CRD``). The comparison
with kube-apiserver 1.20 uses the generated package's own tables.
"""

from __future__ import annotations

from kubecodegen_runtime.fake.schema import Field, PackageApi
from kubecodegen_runtime.meta import ResourceInfo
from kubecodegen_runtime.scheme import Scheme

CORE = "io.k8s.api.core.v1."
APPS = "io.k8s.api.apps.v1."
META = "io.k8s.apimachinery.pkg.apis.meta.v1."

DEPLOYMENT = APPS + "Deployment"
CONFIG_MAP = CORE + "ConfigMap"
SERVICE = CORE + "Service"
WIDGET = "com.example.v1.Widget"  # an inline CRD schema's key


def _merge_list(item: str, key: str) -> Field:
    return Field(type=item, container="list", patch_strategy="merge", patch_merge_key=key)


_STRING_MAP = Field(container="map")

TYPES: dict[str, dict[str, Field]] = {
    META + "ObjectMeta": {
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
        "finalizers": Field(container="list", patch_strategy="merge"),
        "ownerReferences": _merge_list(META + "OwnerReference", "uid"),
        "managedFields": Field(type=META + "ManagedFieldsEntry", container="list"),
    },
    META + "LabelSelector": {
        "matchLabels": _STRING_MAP,
        "matchExpressions": Field(type=META + "LabelSelectorRequirement", container="list"),
    },
    DEPLOYMENT: {
        "metadata": Field(type=META + "ObjectMeta"),
        "spec": Field(type=APPS + "DeploymentSpec"),
        "status": Field(type=APPS + "DeploymentStatus"),
    },
    APPS + "DeploymentSpec": {
        # the LabelSelector definition is x-kubernetes-map-type: atomic
        "selector": Field(type=META + "LabelSelector", map_type="atomic"),
        "strategy": Field(type=APPS + "DeploymentStrategy", patch_strategy="retainKeys"),
        "template": Field(type=CORE + "PodTemplateSpec"),
    },
    APPS + "DeploymentStrategy": {"rollingUpdate": Field(type=APPS + "RollingUpdateDeployment")},
    APPS + "DeploymentStatus": {"conditions": _merge_list(APPS + "DeploymentCondition", "type")},
    CORE + "PodTemplateSpec": {
        "metadata": Field(type=META + "ObjectMeta"),
        "spec": Field(type=CORE + "PodSpec"),
    },
    CORE + "PodSpec": {
        "containers": _merge_list(CORE + "Container", "name"),
        "initContainers": _merge_list(CORE + "Container", "name"),
        "volumes": Field(type=CORE + "Volume", container="list", patch_strategy="merge,retainKeys",
                         patch_merge_key="name"),
        "tolerations": Field(type=CORE + "Toleration", container="list"),
        "nodeSelector": _STRING_MAP,
        "imagePullSecrets": _merge_list(CORE + "LocalObjectReference", "name"),
        "topologySpreadConstraints": Field(
            type=CORE + "TopologySpreadConstraint", container="list", list_type="map",
            list_map_keys=("topologyKey", "whenUnsatisfiable"), patch_strategy="merge",
            patch_merge_key="topologyKey"),
        "securityContext": Field(type=CORE + "PodSecurityContext"),
    },
    CORE + "Container": {
        "args": Field(container="list"),
        "command": Field(container="list"),
        "env": _merge_list(CORE + "EnvVar", "name"),
        "ports": Field(type=CORE + "ContainerPort", container="list", list_type="map",
                       list_map_keys=("containerPort", "protocol"), patch_strategy="merge",
                       patch_merge_key="containerPort"),
        "resources": Field(type=CORE + "ResourceRequirements"),
        "volumeMounts": _merge_list(CORE + "VolumeMount", "mountPath"),
    },
    CORE + "ResourceRequirements": {"limits": Field(container="map"),
                                    "requests": Field(container="map")},
    CORE + "EnvVar": {"valueFrom": Field(type=CORE + "EnvVarSource")},
    CONFIG_MAP: {
        "metadata": Field(type=META + "ObjectMeta"),
        "data": _STRING_MAP,
        "binaryData": _STRING_MAP,
    },
    SERVICE: {
        "metadata": Field(type=META + "ObjectMeta"),
        "spec": Field(type=CORE + "ServiceSpec"),
        "status": Field(type=CORE + "ServiceStatus"),
    },
    CORE + "ServiceSpec": {
        "ports": Field(type=CORE + "ServicePort", container="list", list_type="map",
                       list_map_keys=("port", "protocol"), patch_strategy="merge",
                       patch_merge_key="port"),
        "selector": Field(container="map"),
        "externalIPs": Field(container="list"),
    },
    WIDGET: {
        "metadata": Field(type=META + "ObjectMeta"),
        "spec": Field(type=WIDGET + ".spec"),
        "status": Field(type=WIDGET + ".status"),
    },
    WIDGET + ".spec": {
        "items": Field(type=WIDGET + ".spec.items", container="list", list_type="map",
                       list_map_keys=("name",)),
        "tags": Field(container="list", list_type="set"),
        "ordered": Field(container="list", list_type="atomic"),
        "settings": Field(container="map", map_type="atomic"),
        "extra": Field(container="map"),
        "limits": Field(type=WIDGET + ".spec.limits"),
        "free": Field(container="map"),  # x-kubernetes-preserve-unknown-fields
        "empty": Field(type=WIDGET + ".spec.empty"),
    },
    WIDGET + ".status": {
        "conditions": Field(type=WIDGET + ".status.conditions", container="list",
                            list_type="map", list_map_keys=("type",)),
    },
}

RESOURCES = (
    ResourceInfo("apps", "v1", "deployments", "Deployment", True,
                 subresources={"status": frozenset({"get", "patch", "update"})}),
    ResourceInfo("", "v1", "configmaps", "ConfigMap", True),
    ResourceInfo("", "v1", "services", "Service", True,
                 subresources={"status": frozenset({"get", "patch", "update"})}),
    ResourceInfo("example.com", "v1", "widgets", "Widget", True,
                 subresources={"status": frozenset({"get", "patch", "update"})}),
)

ROOTS = {("apps", "v1", "Deployment"): DEPLOYMENT, ("", "v1", "ConfigMap"): CONFIG_MAP,
         ("", "v1", "Service"): SERVICE, ("example.com", "v1", "Widget"): WIDGET}


def package_api(kubernetes_version: str = "v1.20.2") -> PackageApi:
    """The tables above as one package's API (``kubernetes_version`` gates what the
    server records, e.g. managedFields' ``subresource`` from 1.22)."""
    return PackageApi(resources=RESOURCES, roots=ROOTS, types=TYPES,
                      scheme=Scheme("tests_fake_apply", {}),
                      custom=frozenset({("example.com", "widgets")}),
                      kubernetes_version=kubernetes_version)


def _list_map(keys: list[str], item: dict[str, object]) -> dict[str, object]:
    return {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": keys,
            "items": item}


#: The CRD whose schema the WIDGET tables describe (for the real-server comparison).
WIDGET_CRD: dict[str, object] = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com", "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget",
                  "listKind": "WidgetList"},
        "versions": [{
            "name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {
                    "items": _list_map(["name"], {"type": "object", "required": ["name"],
                                                  "properties": {"name": {"type": "string"},
                                                                 "size": {"type": "integer"}}}),
                    "tags": {"type": "array", "x-kubernetes-list-type": "set",
                             "items": {"type": "string"}},
                    "ordered": {"type": "array", "x-kubernetes-list-type": "atomic",
                                "items": {"type": "integer"}},
                    "settings": {"type": "object", "x-kubernetes-map-type": "atomic",
                                 "additionalProperties": {"type": "string"}},
                    "extra": {"type": "object", "additionalProperties": {"type": "string"}},
                    "limits": {"type": "object", "properties": {"cpu": {"type": "string"},
                                                                "memory": {"type": "string"}}},
                    "empty": {"type": "object", "properties": {"x": {"type": "string"}}},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    "replicas": {"type": "integer"},
                }},
                "status": {"type": "object", "properties": {
                    "phase": {"type": "string"},
                    "conditions": _list_map(["type"], {"type": "object", "required": ["type"],
                                                       "properties": {
                                                           "type": {"type": "string"},
                                                           "status": {"type": "string"}}}),
                }},
            }}},
        }],
    },
}
