"""Manifests read as kubectl reads them, checked against the real v1.20.2 server (issue 8, §3/§4).

* YAML scalars follow go-yaml v2: ``memory: 1e3`` is the number 1000, which the server
  stores as ``1k``; ``=`` is the string ``"="``.
* A field the 1.20 model does not know (``spec.completionMode`` of a 1.21 Job) is reported
  -- the 1.20 server itself drops it silently, which is why the warning matters.
* ``kind: List`` (``kubectl get -o yaml``) decodes item by item and re-encodes exactly as
  the server sent the items.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
import yaml

from tests.generated_packages import import_reference

import_reference("kube_v1_20")
from kube_v1_20 import Clientset, scheme  # noqa: E402
from kube_v1_20.models import batch_v1, core_v1, meta_v1  # noqa: E402

from kubecodegen_runtime.meta import GroupVersionResource  # noqa: E402
from kubecodegen_runtime.scheme import UnknownFieldError, UnknownFieldsWarning  # noqa: E402
from kubecodegen_runtime.unstructured import ObjectList, Unstructured  # noqa: E402


@pytest.fixture
def cs(cluster: Any) -> Any:
    with Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as clientset:
        yield clientset


POD_YAML = """\
apiVersion: v1
kind: Pod
metadata:
  name: yaml-scalars
  annotations: {op: =, enabled: 'yes', mode: '0755'}
spec:
  automountServiceAccountToken: false  # the test cluster runs no token controller
  containers:
  - name: c
    image: busybox
    resources:
      limits: {memory: 1e3, cpu: 0.5}
"""


def test_yaml_scalars_reach_the_server_as_kubectl_sends_them(cs: Any, namespace: str) -> None:
    (pod,) = scheme.decode_yaml(POD_YAML)
    assert isinstance(pod, core_v1.Pod)
    created = cs.core_v1.pods(namespace).create(pod)
    limits = created.spec.containers[0].resources.limits
    assert str(limits["memory"]) == "1k"  # the server's canonical form of the number 1000
    assert str(limits["cpu"]) == "500m"
    assert created.metadata.annotations == {"op": "=", "enabled": "yes", "mode": "0755"}
    # What kubectl would have sent: the same manifest as JSON values (numbers, not text).
    kubectl_json = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "yaml-json"},
                    "spec": {"automountServiceAccountToken": False,
                             "containers": [{"name": "c", "image": "busybox", "resources": {
                                 "limits": {"memory": 1000, "cpu": 0.5}}}]}}
    pods = cs.dynamic.resource(GroupVersionResource("", "v1", "pods")).namespace(namespace)
    raw = pods.create(kubectl_json)
    assert raw["spec"]["containers"][0]["resources"]["limits"] == {"memory": "1k", "cpu": "500m"}


JOB_1_21 = """\
apiVersion: batch/v1
kind: Job
metadata: {name: newer-job}
spec:
  completionMode: Indexed
  completions: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox
        imagePullPolicy: Never
        fancyNewField: true
"""
UNKNOWN = ["spec.completionMode", "spec.template.spec.containers[0].fancyNewField"]


def test_fields_the_model_does_not_know_are_reported(cs: Any, namespace: str) -> None:
    with pytest.warns(UnknownFieldsWarning) as record:
        (job,) = scheme.decode_yaml(JOB_1_21)
    assert [w.message.paths for w in record if isinstance(w.message, UnknownFieldsWarning)] == [
        UNKNOWN]
    assert isinstance(job, batch_v1.Job)
    with pytest.raises(UnknownFieldError) as info:
        scheme.decode_yaml(JOB_1_21, unknown_fields="error")
    assert str(info.value) == ('YAML document 1: strict decoding error: unknown field '
                               '"spec.completionMode", unknown field '
                               '"spec.template.spec.containers[0].fancyNewField"')
    # The 1.20 server drops such fields without a word: only the client can tell.
    jobs = cs.dynamic.resource(GroupVersionResource("batch", "v1", "jobs")).namespace(namespace)
    stored = jobs.create(yaml.safe_load(JOB_1_21))
    assert "completionMode" not in stored["spec"]
    assert "fancyNewField" not in stored["spec"]["template"]["spec"]["containers"][0]


def test_kubectl_get_yaml_list_round_trips(cs: Any, namespace: str) -> None:
    cms = cs.core_v1.config_maps(namespace)
    for name in ("a", "b"):
        cms.create(core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name=name), data={"k": name}))
    secret = cs.core_v1.secrets(namespace).create(
        core_v1.Secret(metadata=meta_v1.ObjectMeta(name="s"), string_data={"p": "w"}))
    # What `kubectl get cm,secret -o yaml` prints: a v1 List of items with type meta.
    items = [scheme.to_dict(cm) for cm in cms.list().items] + [scheme.to_dict(secret)]
    items += [{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
               "spec": {"size": 1}}]
    document = {"apiVersion": "v1", "kind": "List", "items": items,
                "metadata": {"resourceVersion": "", "selfLink": ""}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a server-written list has no unknown fields
        (decoded,) = scheme.decode_yaml(yaml.safe_dump(document), unstructured=True)
    assert isinstance(decoded, ObjectList) and decoded.items is not None
    assert [type(item).__name__ for item in decoded.items] == [
        "ConfigMap", "ConfigMap", "Secret", "Unstructured"]
    assert isinstance(decoded.items[3], Unstructured)
    assert json.loads(scheme.encode(decoded)) == json.loads(json.dumps(document))
    # Items decoded from the List are ordinary typed objects the server accepts back.
    first = decoded.items[0]
    first.data = {"k": "changed"}
    assert cms.update(first).data == {"k": "changed"}
