"""Scheme: lazy GVK -> class loading, decode by apiVersion/kind, encode with type meta.

The tests build a small "generated" package on disk (two model modules with hand-written
structs) so that lazy loading goes through the real import system.
"""

from __future__ import annotations

import json
import sys
import textwrap
import uuid
import warnings
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import msgspec
import pytest
import yaml

from kubecodegen_runtime import codec
from kubecodegen_runtime.codec import DecodeError
from kubecodegen_runtime.meta import GroupVersionKind
from kubecodegen_runtime.model import Object
from kubecodegen_runtime.scheme import (
    Scheme,
    UnknownFieldError,
    UnknownFieldsWarning,
    UnknownKindError,
    with_type_meta,
)
from kubecodegen_runtime.types import Quantity
from kubecodegen_runtime.unstructured import ObjectList, Unstructured

CORE_V1 = '''
from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import msgspec

from kubecodegen_runtime.meta import GroupVersionKind
from kubecodegen_runtime.model import Model, Object
from kubecodegen_runtime.types import Quantity


class ObjectMeta(Model, kw_only=True):
    name: str | None = None
    namespace: str | None = None
    labels: dict[str, str] | None = None
    creation_timestamp: datetime | None = msgspec.field(default=None, name="creationTimestamp")


class ListMeta(Model, kw_only=True):
    resource_version: str | None = msgspec.field(default=None, name="resourceVersion")


class ResourceRequirements(Model, kw_only=True):
    limits: dict[str, Quantity] | None = None
    requests: dict[str, Quantity] | None = None


class Container(Model, kw_only=True):
    name: str
    image: str | None = None
    resources: ResourceRequirements | None = None


class PodSpec(Model, kw_only=True):
    containers: list[Container]
    node_name: str | None = msgspec.field(default=None, name="nodeName")


class Pod(Object, kw_only=True):
    """Pod is a collection of containers."""

    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "Pod")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: PodSpec | None = None


class PodList(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "PodList")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ListMeta | None = None
    items: list[Pod]


class ConfigMap(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "ConfigMap")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    data: dict[str, str] | None = None
    binary_data: dict[str, bytes] | None = msgspec.field(default=None, name="binaryData")
'''

APPS_V1 = '''
from __future__ import annotations

from typing import ClassVar

import msgspec

from kubecodegen_runtime.meta import GroupVersionKind
from kubecodegen_runtime.model import Model, Object

from .core_v1 import ObjectMeta


class DeploymentSpec(Model, kw_only=True):
    replicas: int | None = None


class Deployment(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("apps", "v1", "Deployment")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: DeploymentSpec | None = None
'''

META_V1 = '''
from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from kubecodegen_runtime.meta import GroupVersionKind
from kubecodegen_runtime.model import Model, Object


class Status(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "Status")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    status: str | None = None
    reason: str | None = None
    code: int | None = None


class DeleteOptions(Model, kw_only=True):
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    propagation_policy: str | None = msgspec.field(default=None, name="propagationPolicy")


class WatchEvent(Model, kw_only=True):
    type: str
    object: dict[str, Any]
'''

POD = {
    "kind": "Pod",
    "apiVersion": "v1",
    "metadata": {"name": "web-0", "namespace": "default",
                 "creationTimestamp": "2024-05-01T12:00:00Z", "labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "nginx",
                             "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}}],
             "nodeName": "node-1"},
}


class Package:
    def __init__(self, name: str) -> None:
        self.name = name
        self.core = f"{name}.models.core_v1"
        self.apps = f"{name}.models.apps_v1"
        self.kinds = {
            ("", "v1", "Pod"): ("models.core_v1", "Pod"),
            ("", "v1", "PodList"): ("models.core_v1", "PodList"),
            ("", "v1", "ConfigMap"): ("models.core_v1", "ConfigMap"),
            ("apps", "v1", "Deployment"): ("models.apps_v1", "Deployment"),
            ("", "v1", "Broken"): ("models.core_v1", "NoSuchClass"),
            ("", "v1", "Status"): ("models.meta_v1", "Status"),
        }

    def scheme(self) -> Scheme:
        return Scheme(self.name, self.kinds)

    def module(self, name: str) -> ModuleType:
        return sys.modules[name]


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Package]:
    name = f"kcg_scheme_test_{uuid.uuid4().hex[:8]}"
    models = tmp_path / name / "models"
    models.mkdir(parents=True)
    (tmp_path / name / "__init__.py").write_text("")
    (models / "__init__.py").write_text("")
    (models / "core_v1.py").write_text(textwrap.dedent(CORE_V1))
    (models / "apps_v1.py").write_text(textwrap.dedent(APPS_V1))
    (models / "meta_v1.py").write_text(textwrap.dedent(META_V1))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield Package(name)
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


# --- lazy loading ---------------------------------------------------------------------


def test_modules_are_imported_on_first_use_only(package: Package) -> None:
    scheme = package.scheme()
    assert package.core not in sys.modules
    pod_class = scheme.type_for(GroupVersionKind("", "v1", "Pod"))
    assert package.core in sys.modules
    assert package.apps not in sys.modules  # another group stays unloaded
    assert pod_class is package.module(package.core).Pod
    assert scheme.type_for(("", "v1", "Pod")) is pod_class
    assert scheme.type_for_api_version("apps/v1", "Deployment").__name__ == "Deployment"
    assert package.apps in sys.modules


def test_a_table_entry_without_its_class_is_reported(package: Package) -> None:
    with pytest.raises(ImportError, match=r"v1 Broken to .*core_v1\.NoSuchClass"):
        package.scheme().type_for(("", "v1", "Broken"))


def test_gvk_for_and_kinds(package: Package) -> None:
    scheme = package.scheme()
    pod_class = scheme.type_for(("", "v1", "Pod"))
    assert scheme.gvk_for(pod_class) == GroupVersionKind("", "v1", "Pod")
    with pytest.raises(TypeError, match="ObjectMeta has no GVK"):
        scheme.gvk_for(package.module(package.core).ObjectMeta)
    kinds = scheme.kinds()
    assert kinds == sorted(kinds, key=lambda g: (g.group, g.version, g.kind))
    assert {(g.group, g.version, g.kind) for g in kinds} == set(package.kinds)


def test_listing_kinds_imports_nothing(package: Package) -> None:
    scheme = package.scheme()
    assert len(scheme.kinds()) == len(package.kinds)
    assert package.core not in sys.modules and package.apps not in sys.modules
    assert f"{len(package.kinds)} kinds" in repr(scheme)


# --- unknown kinds --------------------------------------------------------------------


def test_unknown_kind_names_it_and_suggests_close_matches(package: Package) -> None:
    scheme = package.scheme()
    with pytest.raises(UnknownKindError) as info:
        scheme.type_for_api_version("v1", "Pdo")
    assert isinstance(info.value, LookupError)
    assert "unknown kind 'Pdo' in apiVersion 'v1'" in str(info.value)
    assert "v1 Pod" in info.value.suggestions


def test_unknown_version_suggests_the_known_one(package: Package) -> None:
    with pytest.raises(UnknownKindError) as info:
        package.scheme().type_for(("apps", "v1beta1", "Deployment"))
    assert info.value.api_version == "apps/v1beta1"
    assert info.value.suggestions == ["apps/v1 Deployment"]
    assert "did you mean apps/v1 Deployment?" in str(info.value)


def test_unknown_kind_without_close_matches_says_how_to_register(package: Package) -> None:
    with pytest.raises(UnknownKindError, match="register") as info:
        package.scheme().type_for_api_version("example.com/v1", "Zebra")
    assert info.value.suggestions == []


# --- decode ---------------------------------------------------------------------------


def test_decode_object_by_its_type_meta(package: Package) -> None:
    scheme = package.scheme()
    for data in (json.dumps(POD).encode(), json.dumps(POD)):
        pod: Any = scheme.decode(data)
        assert type(pod).__name__ == "Pod"
        assert pod.metadata.creation_timestamp == datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
        limits = pod.spec.containers[0].resources.limits
        assert limits == {"cpu": Quantity("0.5"), "memory": Quantity("128Mi")}
        assert json.loads(scheme.encode(pod)) == POD


def test_decode_list_kind(package: Package) -> None:
    items = [{k: v for k, v in POD.items() if k not in ("kind", "apiVersion")}] * 3
    data = {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "42"},
            "items": items}
    pod_list: Any = package.scheme().decode(json.dumps(data, indent=2))
    assert type(pod_list).__name__ == "PodList"
    assert [type(p).__name__ for p in pod_list.items] == ["Pod"] * 3
    assert pod_list.items[0].kind is None  # items carry no type meta on the wire
    assert json.loads(package.scheme().encode(pod_list)) == data


def test_decode_with_type_meta_anywhere_in_the_object(package: Package) -> None:
    reordered = {"metadata": {"name": "x"}, "spec": {"replicas": 2},
                 "apiVersion": "apps/v1", "kind": "Deployment"}
    deployment: Any = package.scheme().decode(json.dumps(reordered))
    assert type(deployment).__name__ == "Deployment"
    assert deployment.spec.replicas == 2


def test_decode_with_escaped_type_meta(package: Package) -> None:
    deployment = package.scheme().decode(b'{"kind":"Deploy\\u006dent","apiVersion":"apps/v1"}')
    assert type(deployment).__name__ == "Deployment"


def test_decode_duplicate_kind_follows_the_typed_decoder(package: Package) -> None:
    # msgspec keeps the last of duplicate members; the peek must agree with it.
    data = b'{"kind":"Pod","apiVersion":"v1","items":[],"kind":"PodList"}'
    assert type(package.scheme().decode(data)).__name__ == "PodList"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"apiVersion":"v1","metadata":{}}', "without kind"),
        (b'{"kind":"Pod"}', "without apiVersion"),
        (b'{"kind":"","apiVersion":"v1"}', "without kind"),
        (b"{}", "without apiVersion and kind"),
        (b"[1, 2]", "Expected `object`, got `array`"),
        (b'{"kind": 3}', "Expected `str | null`, got `int`"),
        (b'{"kind": "Pod", ', "truncated"),
    ],
)
def test_decode_without_usable_type_meta_is_a_clear_error(
    package: Package, data: bytes, message: str
) -> None:
    with pytest.raises(DecodeError, match="cannot decode") as info:
        package.scheme().decode(data)
    assert message in str(info.value)


def test_decode_error_inside_a_kind_names_the_path(package: Package) -> None:
    bad = dict(POD, spec={"containers": [{"name": "a"}, {"name": 5}]})
    with pytest.raises(DecodeError) as info:
        package.scheme().decode(json.dumps(bad))
    assert info.value.path == "$.spec.containers[1].name"


def test_decode_unknown_kind(package: Package) -> None:
    with pytest.raises(UnknownKindError, match="'Pdo'"):
        package.scheme().decode(b'{"kind":"Pdo","apiVersion":"v1"}')


def test_decode_as_ignores_type_meta(package: Package) -> None:
    scheme = package.scheme()
    config_map_class = scheme.type_for(("", "v1", "ConfigMap"))
    config_map: Any = scheme.decode_as(b'{"data":{"a":"b"},"binaryData":{"k":"aGk="}}',
                                       config_map_class)
    assert config_map.data == {"a": "b"} and config_map.binary_data == {"k": b"hi"}


# --- encode and type meta -------------------------------------------------------------


def test_encode_fills_type_meta_without_mutating(package: Package) -> None:
    scheme = package.scheme()
    pod_class: Any = scheme.type_for(("", "v1", "Pod"))
    meta_class = package.module(package.core).ObjectMeta
    pod = pod_class(metadata=meta_class(name="x"))
    assert json.loads(scheme.encode(pod)) == {"apiVersion": "v1", "kind": "Pod",
                                              "metadata": {"name": "x"}}
    assert pod.api_version is None and pod.kind is None
    assert scheme.to_dict(pod) == {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}
    assert pod.api_version is None and pod.kind is None


def test_encode_keeps_what_is_set(package: Package) -> None:
    scheme = package.scheme()
    deployment_class: Any = scheme.type_for(("apps", "v1", "Deployment"))
    deployment = deployment_class(api_version="apps/v1beta2")
    assert json.loads(scheme.encode(deployment)) == {"apiVersion": "apps/v1beta2",
                                                     "kind": "Deployment"}
    complete = deployment_class(api_version="apps/v1", kind="Deployment")
    assert with_type_meta(complete) is complete


def test_list_items_are_left_alone(package: Package) -> None:
    scheme = package.scheme()
    list_class: Any = scheme.type_for(("", "v1", "PodList"))
    pod_class: Any = scheme.type_for(("", "v1", "Pod"))
    encoded = json.loads(scheme.encode(list_class(items=[pod_class()])))
    assert encoded == {"apiVersion": "v1", "kind": "PodList", "items": [{}]}


def test_module_level_with_type_meta(package: Package) -> None:
    pod_class: Any = package.scheme().type_for(("", "v1", "Pod"))
    pod = pod_class()
    filled = with_type_meta(pod)
    assert (filled.api_version, filled.kind) == ("v1", "Pod")
    assert pod.kind is None
    meta = package.module(package.core).ObjectMeta(name="x")
    assert with_type_meta(meta) is meta  # no GVK: nothing to fill


def test_encode_refuses_naive_datetimes(package: Package) -> None:
    scheme = package.scheme()
    pod_class: Any = scheme.type_for(("", "v1", "Pod"))
    meta_class = package.module(package.core).ObjectMeta
    pod = pod_class(metadata=meta_class(creation_timestamp=datetime(2024, 5, 1)))
    with pytest.raises(TypeError, match=r"`\$\.metadata\.creationTimestamp`"):
        scheme.encode(pod)


# --- dicts and YAML -------------------------------------------------------------------


def test_from_dict(package: Package) -> None:
    scheme = package.scheme()
    pod: Any = scheme.from_dict(POD)
    assert type(pod).__name__ == "Pod"
    assert scheme.to_dict(pod) == POD
    with pytest.raises(DecodeError, match="without kind"):
        scheme.from_dict({"apiVersion": "v1"})
    with pytest.raises(DecodeError, match="kind must be a string, got int"):
        scheme.from_dict({"apiVersion": "v1", "kind": 1})
    with pytest.raises(DecodeError) as info:
        scheme.from_dict({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{}]}})
    assert info.value.path == "$.spec.containers[0]"
    assert "name" in str(info.value)


MANIFESTS = """\
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  creationTimestamp: 2024-05-01T12:00:00Z
  labels:
    released: 2024-05-01
spec:
  containers:
  - name: web
    resources:
      requests: {cpu: 0.5, memory: 64Mi}
      limits: {cpu: 1}
---
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {replicas: 3}
"""


def test_decode_yaml_multi_document(package: Package) -> None:
    objects: list[Any] = package.scheme().decode_yaml(MANIFESTS)
    assert [type(o).__name__ for o in objects] == ["Pod", "Deployment"]
    pod, deployment = objects
    assert pod.metadata.labels == {"released": "2024-05-01"}  # stays a string
    assert pod.metadata.creation_timestamp == datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    resources = pod.spec.containers[0].resources
    assert resources.requests == {"cpu": Quantity("500m"), "memory": Quantity("64Mi")}
    assert resources.limits == {"cpu": Quantity("1")}
    assert deployment.spec.replicas == 3


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("kind: Pod\napiVersion: v1\n---\nkind: Pdo\napiVersion: v1\n", UnknownKindError,
         "YAML document 2: unknown kind 'Pdo'"),
        ("- a\n- b\n", DecodeError, "YAML document 1: expected a mapping"),
        ("kind: Pod\napiVersion: v1\nspec: {containers: [{name: 5}]}\n", DecodeError,
         r"YAML document 1: cannot convert to Pod: .*\$\.spec\.containers\[0\]\.name"),
        ("kind: Pod\n  apiVersion: v1\n", DecodeError, "invalid YAML: mapping values are not allowed .*at line 2, column 13"),
        ("metadata: {name: x}\n", DecodeError, "YAML document 1: cannot convert an object"),
    ],
)
def test_decode_yaml_errors_name_the_document(
    package: Package, text: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        package.scheme().decode_yaml(text)


def test_yaml_errors_do_not_quote_the_document(package: Package) -> None:
    secret = "kind: Secret\napiVersion: v1\ndata: {password: hunter2\n"
    with pytest.raises(DecodeError, match="invalid YAML") as info:
        package.scheme().decode_yaml(secret)
    assert "hunter2" not in str(info.value)
    assert "line 4" in str(info.value)


# --- register -------------------------------------------------------------------------


class CronTabSpec(msgspec.Struct, kw_only=True, omit_defaults=True):
    cron_spec: str = msgspec.field(name="cronSpec")
    replicas: int | None = None


class CronTab(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("stable.example.com", "v1", "CronTab")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    spec: CronTabSpec | None = None


class LoosePod(Object, kw_only=True):
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: dict[str, Any] | None = None


def test_register_a_custom_resource(package: Package) -> None:
    scheme = package.scheme()
    assert scheme.register(CronTab) is CronTab
    assert scheme.type_for_api_version("stable.example.com/v1", "CronTab") is CronTab
    crontab: Any = scheme.decode(b'{"apiVersion":"stable.example.com/v1","kind":"CronTab",'
                                 b'"spec":{"cronSpec":"* * * * */5"}}')
    assert isinstance(crontab, CronTab)
    assert json.loads(scheme.encode(CronTab(spec=CronTabSpec(cron_spec="@daily")))) == {
        "apiVersion": "stable.example.com/v1", "kind": "CronTab",
        "spec": {"cronSpec": "@daily"}}
    assert GroupVersionKind("stable.example.com", "v1", "CronTab") in scheme.kinds()
    assert package.core not in sys.modules


def test_register_overrides_the_table_with_an_explicit_gvk(package: Package) -> None:
    scheme = package.scheme()
    gvk = GroupVersionKind("", "v1", "Pod")
    scheme.register(LoosePod, gvk)
    pod = scheme.decode(json.dumps(POD))
    assert isinstance(pod, LoosePod)
    assert scheme.gvk_for(LoosePod) == gvk
    assert json.loads(scheme.encode(LoosePod())) == {"apiVersion": "v1", "kind": "Pod"}
    assert package.core not in sys.modules  # the generated class was never needed
    assert with_type_meta(LoosePod()).kind is None  # the module function knows no GVK


def test_register_needs_a_gvk(package: Package) -> None:
    with pytest.raises(TypeError, match="cannot register LoosePod"):
        package.scheme().register(LoosePod)


# --- kinds of every group version (apimachinery's AddToGroupVersion) -------------------


@pytest.mark.parametrize("api_version", ["v1", "apps/v1", "example.com/v1alpha1"])
def test_status_decodes_under_any_api_version(package: Package, api_version: str) -> None:
    data = json.dumps({"kind": "Status", "apiVersion": api_version, "status": "Failure",
                       "reason": "NotFound", "code": 404})
    status: Any = package.scheme().decode(data)
    assert type(status).__name__ == "Status"
    assert (status.reason, status.code, status.api_version) == ("NotFound", 404, api_version)
    assert json.loads(package.scheme().encode(status)) == json.loads(data)


def test_option_kinds_and_watch_event_belong_to_every_known_group_version(
        package: Package) -> None:
    scheme = package.scheme()
    options: Any = scheme.decode(b'{"kind":"DeleteOptions","apiVersion":"apps/v1",'
                                 b'"propagationPolicy":"Foreground"}')
    assert type(options).__name__ == "DeleteOptions"
    assert options.propagation_policy == "Foreground"
    assert scheme.type_for(("", "v1", "WatchEvent")).__name__ == "WatchEvent"
    # ... but not in group versions the scheme does not have.
    with pytest.raises(UnknownKindError):
        scheme.type_for(("example.com", "v1", "DeleteOptions"))
    with pytest.raises(UnknownKindError):
        scheme.type_for(("apps", "v1", "ListOptions"))  # the meta module has no such class


# --- kind: List (kubectl get -o yaml) --------------------------------------------------


KUBECTL_LIST = """\
apiVersion: v1
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: web-0, namespace: default}
  spec:
    containers:
    - name: web
      resources: {limits: {cpu: 500m}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web}
  spec: {replicas: 2}
- apiVersion: v1
  kind: Status
  status: Success
kind: List
metadata:
  resourceVersion: ""
  selfLink: ""
"""


def test_kubectl_list_decodes_each_item_by_its_kind(package: Package) -> None:
    scheme = package.scheme()
    (document,) = scheme.decode_yaml(KUBECTL_LIST)
    assert isinstance(document, ObjectList)
    assert document.items is not None
    assert [type(item).__name__ for item in document.items] == ["Pod", "Deployment", "Status"]
    assert document.items[1].spec.replicas == 2
    as_dict = yaml.safe_load(KUBECTL_LIST)
    assert scheme.to_dict(document) == as_dict  # round trip exact
    from_json: Any = scheme.decode(json.dumps(as_dict))
    assert isinstance(from_json, ObjectList)
    assert json.loads(scheme.encode(from_json)) == as_dict
    assert scheme.from_dict(as_dict) == document


def test_list_items_need_type_meta_and_known_kinds(package: Package) -> None:
    scheme = package.scheme()
    missing = {"apiVersion": "v1", "kind": "List", "items": [{"metadata": {"name": "x"}}]}
    with pytest.raises(DecodeError, match=r"items\[0\]: cannot convert an object without"):
        scheme.from_dict(missing)
    with pytest.raises(DecodeError, match=r"items\[0\]: cannot decode an object without"):
        scheme.decode(json.dumps(missing))
    unknown = {"apiVersion": "v1", "kind": "List",
               "items": [POD, {"apiVersion": "example.com/v1", "kind": "Widget"}]}
    with pytest.raises(UnknownKindError, match=r"items\[1\]: unknown kind 'Widget'"):
        scheme.decode(json.dumps(unknown))
    with pytest.raises(UnknownKindError, match=r"items\[1\]: unknown kind 'Widget'"):
        scheme.from_dict(unknown)
    bad = dict(POD, spec={"containers": [{"name": 5}]})
    with pytest.raises(DecodeError) as info:
        scheme.decode(json.dumps({"apiVersion": "v1", "kind": "List", "items": [bad]}))
    assert info.value.path == "$.items[0].spec.containers[0].name"
    empty: Any = scheme.decode(b'{"apiVersion":"v1","kind":"List","items":[]}')
    assert empty.items == [] and scheme.encode(empty) == b'{"apiVersion":"v1","kind":"List","items":[]}'


# --- the unstructured fallback ---------------------------------------------------------

WIDGET = {"apiVersion": "example.com/v1", "kind": "Widget",
          "metadata": {"name": "w", "namespace": "ns", "labels": {"a": "b"}},
          "spec": {"size": 3, "ratio": 0.5, "tags": ["x", None], "when": "2024-05-01"}}


def test_unknown_kinds_stay_errors_by_default(package: Package) -> None:
    with pytest.raises(UnknownKindError):
        package.scheme().decode(json.dumps(WIDGET))
    with pytest.raises(UnknownKindError):
        package.scheme().from_dict(WIDGET)


def test_unknown_kinds_decode_unstructured_when_asked(package: Package) -> None:
    scheme = package.scheme()
    for obj in (scheme.decode(json.dumps(WIDGET), unstructured=True),
                scheme.from_dict(WIDGET, unstructured=True),
                scheme.decode_yaml(yaml.safe_dump(WIDGET), unstructured=True)[0]):
        assert isinstance(obj, Unstructured) and isinstance(obj, dict)
        assert obj == WIDGET  # nothing converted or dropped
        assert (obj.api_version, obj.kind, obj.name, obj.namespace) == (
            "example.com/v1", "Widget", "w", "ns")
        assert obj.gvk == GroupVersionKind("example.com", "v1", "Widget")
        assert json.loads(scheme.encode(obj)) == WIDGET
        assert scheme.to_dict(obj) == WIDGET
    known = scheme.decode(json.dumps(POD), unstructured=True)
    assert type(known).__name__ == "Pod"  # known kinds stay typed
    mixed: Any = scheme.from_dict({"apiVersion": "v1", "kind": "List", "items": [POD, WIDGET]},
                                  unstructured=True)
    assert [type(item).__name__ for item in mixed.items] == ["Pod", "Unstructured"]
    assert Unstructured({}).metadata == {} and Unstructured({}).name == ""


# --- unknown fields --------------------------------------------------------------------

POD_WITH_EXTRAS = dict(POD, spec={
    "containers": [{"name": "web", "fancy": True, "resources": {"limits": {"cpu": "1"}}}],
    "nodeName": "node-1", "futureField": {"x": 1}})
UNKNOWN_PATHS = ["spec.containers[0].fancy", "spec.futureField"]


def test_unknown_fields_warn_by_default_for_manifests(package: Package) -> None:
    scheme = package.scheme()
    with pytest.warns(UnknownFieldsWarning) as record:
        pod: Any = scheme.from_dict(POD_WITH_EXTRAS)
    assert type(pod).__name__ == "Pod"
    (warning,) = record
    assert isinstance(warning.message, UnknownFieldsWarning)
    assert warning.message.paths == UNKNOWN_PATHS
    assert 'unknown field "spec.futureField"' in str(warning.message)
    assert warning.filename == __file__  # points at the caller, not the runtime
    with pytest.warns(UnknownFieldsWarning, match=r'YAML document 1: Pod: unknown field'):
        scheme.decode_yaml(yaml.safe_dump(POD_WITH_EXTRAS))


def test_unknown_fields_strict_decoding_names_them(package: Package) -> None:
    scheme = package.scheme()
    with pytest.raises(UnknownFieldError) as info:
        scheme.from_dict(POD_WITH_EXTRAS, unknown_fields="error")
    assert str(info.value) == ('strict decoding error: unknown field "spec.containers[0].fancy", '
                               'unknown field "spec.futureField"')
    assert info.value.paths == UNKNOWN_PATHS
    assert isinstance(info.value, DecodeError)
    with pytest.raises(UnknownFieldError, match=r'YAML document 2: strict decoding error'):
        scheme.decode_yaml(yaml.safe_dump(POD) + "---\n" + yaml.safe_dump(POD_WITH_EXTRAS),
                           unknown_fields="error")
    with pytest.raises(UnknownFieldError, match=r'items\[0\]: strict decoding error'):
        scheme.from_dict({"apiVersion": "v1", "kind": "List", "items": [POD_WITH_EXTRAS]},
                         unknown_fields="error")
    with pytest.raises(UnknownFieldError, match=r'unknown field "spec\.futureField"'):
        scheme.decode(json.dumps(POD_WITH_EXTRAS), unknown_fields="error")


def test_known_manifests_and_ignore_are_silent(package: Package) -> None:
    scheme = package.scheme()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheme.from_dict(POD)
        scheme.decode_yaml(MANIFESTS)
        scheme.from_dict(POD_WITH_EXTRAS, unknown_fields="ignore")
        scheme.decode(json.dumps(POD_WITH_EXTRAS))  # JSON (server responses): not checked
        scheme.from_dict(dict(POD, metadata={"name": "x", "labels": {"free": "form"}}))
    with pytest.warns(UnknownFieldsWarning):
        scheme.decode(json.dumps(POD_WITH_EXTRAS), unknown_fields="warn")


class Leaf(msgspec.Struct):
    a: int | None = None


class Tree(msgspec.Struct):
    one: Leaf | None = None
    many: list[Leaf] | None = None
    named: dict[str, Leaf] | None = None
    either: Leaf | bool | None = None
    free: dict[str, Any] | None = None
    raw: Any = None


def test_unknown_fields_walks_unions_lists_and_maps() -> None:
    value = {"one": {"a": 1, "b": 2}, "many": [{"a": 1}, {"c": 3}],
             "named": {"k": {"d": 4}}, "either": {"e": 5}, "free": {"f": {"g": 1}},
             "raw": {"h": 1}, "top": 0}
    assert codec.unknown_fields(value, Tree) == [
        "one.b", "many[1].c", "named.k.d", "either.e", "top"]
    assert codec.unknown_fields({"either": True, "one": None}, Tree) == []


# --- YAML read as kubectl reads it -----------------------------------------------------


def test_decode_yaml_reads_scalars_as_kubectl(package: Package) -> None:
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: x, labels: {op: =}}\n"
            "spec:\n  containers:\n  - name: c\n"
            "    resources: {limits: {memory: 1e3, cpu: 0.5}}\n")
    (pod,) = package.scheme().decode_yaml(text)
    limits: Any = pod.spec.containers[0].resources.limits  # type: ignore[attr-defined]
    assert limits["memory"] == Quantity("1k") and limits["memory"].canonical() == "1k"
    assert limits["cpu"] == Quantity("500m")
    assert pod.metadata.labels == {"op": "="}  # type: ignore[attr-defined]


def test_decode_yaml_refuses_alias_bombs(package: Package) -> None:
    lines = ["kind: Pod", "apiVersion: v1", "a: &a [" + ",".join(["x"] * 10) + "]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}" if i > 1 else "*a"] * 10) + "]"
              for i in range(1, 9)]
    with pytest.raises(DecodeError, match=r"invalid YAML: .*aliases"):
        package.scheme().decode_yaml("\n".join(lines))


def test_unknown_members_of_a_list_itself_are_reported(package: Package) -> None:
    document = {"apiVersion": "v1", "kind": "List", "items": [], "extra": 1}
    with pytest.raises(UnknownFieldError, match='unknown field "extra"'):
        package.scheme().from_dict(document, unknown_fields="error")
    with pytest.raises(UnknownFieldError, match='unknown field "extra"'):
        package.scheme().decode(json.dumps(document), unknown_fields="error")
