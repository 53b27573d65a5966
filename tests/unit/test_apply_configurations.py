"""Apply configurations (generated/kube_v1_35/applyconfigurations, and the runtime's meta/v1):
every field optional and off the wire when unset, nested types are apply configurations,
kinds name themselves, meta/v1 is the runtime's, nothing loads until used, and a typed
client's ``apply()`` takes the apply configuration of its own kind only."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import msgspec
import pytest

from kubecodegen_runtime import codec
from kubecodegen_runtime.applyconfig import ApplyConfiguration, KindApplyConfiguration

GENERATED = Path(__file__).resolve().parents[2] / "generated"
sys.path.insert(0, str(GENERATED))

from kube_v1_35.applyconfigurations import apps_v1 as ac  # noqa: E402
from kube_v1_35.applyconfigurations import core_v1 as acc  # noqa: E402
from kube_v1_35.applyconfigurations import meta_v1 as acm  # noqa: E402
from kube_v1_35.models import apps_v1, core_v1  # noqa: E402


def test_the_canonical_apply_is_just_replicas() -> None:
    deployment = ac.Deployment(metadata=acm.ObjectMeta(name="web", namespace="ns"),
                               spec=ac.DeploymentSpec(replicas=3))
    assert json.loads(codec.encode(deployment)) == {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns"}, "spec": {"replicas": 3}}


def test_the_models_cannot_express_it() -> None:
    with pytest.raises(TypeError, match="selector"):
        apps_v1.DeploymentSpec(replicas=3)  # type: ignore[call-arg]


def test_nested_types_are_apply_configurations_with_wire_names() -> None:
    pod = acc.Pod(metadata=acm.ObjectMeta(name="p"), spec=acc.PodSpec(
        containers=[acc.Container(name="c", env=[acc.EnvVar(name="A", value="1")])],
        restart_policy="Never"))
    assert isinstance(pod.spec, acc.PodSpec) and isinstance(pod.spec, ApplyConfiguration)
    assert not isinstance(pod.spec, core_v1.PodSpec)
    assert json.loads(codec.encode(pod))["spec"] == {
        "containers": [{"name": "c", "env": [{"name": "A", "value": "1"}]}],
        "restartPolicy": "Never"}


def test_every_field_of_every_configuration_is_optional() -> None:
    """Each class constructs with no arguments and encodes to nothing but its type meta."""
    for module in (ac, acc, acm):
        for name in module.__all__:
            cls = getattr(module, name)
            encoded = json.loads(codec.encode(cls()))
            if issubclass(cls, KindApplyConfiguration):
                assert encoded == {"apiVersion": cls.GVK.api_version, "kind": cls.GVK.kind}, name
            else:
                assert encoded == {}, name


def test_same_class_and_field_names_as_the_models() -> None:
    for models, configs in ((apps_v1, ac), (core_v1, acc)):
        assert sorted(models.__all__) == sorted(configs.__all__)
        for name in models.__all__:
            model_fields = set(getattr(models, name).__struct_fields__)
            assert set(getattr(configs, name).__struct_fields__) == model_fields, name


def test_a_kind_states_the_model_it_configures() -> None:
    assert ac.Deployment.GVK == apps_v1.Deployment.GVK
    assert acc.Service.GVK == core_v1.Service.GVK


def test_decoding_an_explicit_kind_keeps_it() -> None:
    """A configuration read back (extract builds them this way) keeps what it was given."""
    cm = msgspec.convert({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}}, acc.ConfigMap)
    assert cm.data == {"a": "b"} and cm.kind == "ConfigMap"


def test_meta_v1_is_the_runtimes_in_every_package() -> None:
    from kube_v1_20.applyconfigurations import meta_v1 as acm20

    from kubecodegen_runtime.applyconfigurations import meta_v1 as runtime_meta

    assert acm.ObjectMeta is runtime_meta.ObjectMeta is acm20.ObjectMeta
    assert acm.LabelSelector is runtime_meta.LabelSelector


def test_raw_fields_stay_raw() -> None:
    """fieldsV1 is kept as raw JSON in the models; its apply configuration is raw too."""
    entry = acm.ManagedFieldsEntry(fields_v1=msgspec.Raw(b'{"f:a":{}}'))
    assert json.loads(codec.encode(entry)) == {"fieldsV1": {"f:a": {}}}
    assert json.loads(codec.encode(acm.ManagedFieldsEntry())) == {}


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=GENERATED, capture_output=True,
                            text=True, check=True)
    return result.stdout.strip()


def test_nothing_loads_until_used() -> None:
    """``import kube_v1_35`` and a model import no apply configuration module; importing one
    group-version's configurations loads it and what it refers to, not every group."""
    loaded = _run("import sys, kube_v1_35; from kube_v1_35.models.core_v1 import Pod; "
                  "import kube_v1_35.applyconfigurations; "  # the docstring only
                  "print(sorted(m for m in sys.modules if 'applyconfig' in m))")
    assert loaded == "['kube_v1_35.applyconfigurations']"
    loaded = _run("import sys; from kube_v1_35.applyconfigurations import apps_v1; "
                  "print(sorted(m for m in sys.modules if m.startswith('kube_v1_35.applyconfigurations.')))")
    assert loaded == str(["kube_v1_35.applyconfigurations.apps_v1", "kube_v1_35.applyconfigurations.core_v1",
                          "kube_v1_35.applyconfigurations.meta_v1"])


SNIPPET = textwrap.dedent('''
    from kube_v1_35 import Clientset
    from kube_v1_35.applyconfigurations import apps_v1 as ac, core_v1 as acc, meta_v1 as acm
    from kube_v1_35.models.apps_v1 import Deployment

    def use(cs: Clientset, full: Deployment) -> None:
        deployments = cs.apps_v1.deployments("ns")
        meta = acm.ObjectMeta(name="web")
        d: Deployment = deployments.apply(ac.Deployment(metadata=meta), field_manager="m")   # fine
        deployments.apply(full, field_manager="m")                                          # fine
        deployments.apply_status(ac.Deployment(metadata=meta), field_manager="m")            # fine
        deployments.apply(acc.Service(metadata=meta), field_manager="m")                     # E: another kind
        deployments.apply_status(ac.StatefulSet(metadata=meta), field_manager="m")           # E: another kind
        deployments.apply(ac.DeploymentSpec(replicas=1), field_manager="m")                  # E: not a kind
        cs.core_v1.services("ns").apply(ac.Deployment(metadata=meta), field_manager="m")     # E: another kind
        ac.DeploymentSpec(replicas="3")                                                      # E: typed fields
        ac.Deployment(spec=acc.PodSpec())                                                    # E: nested type
        mine: ac.Deployment = ac.Deployment.extract(full, "m", subresource="status")         # fine
        deployments.apply(ac.Deployment.extract(full, "m"), field_manager="m")               # fine
        acc.Service.extract(full, "m")                                                       # E: another kind
''')


def test_mypy_takes_only_the_apply_configuration_of_the_clients_kind(tmp_path: Path) -> None:
    (tmp_path / "use.py").write_text(SNIPPET)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "c"),
         str(tmp_path / "use.py")],
        cwd=tmp_path, capture_output=True, text=True, check=False,
        env={"MYPYPATH": str(GENERATED), "PATH": "/usr/bin:/bin"},
    )
    lines = {int(line.split(":")[1]) for line in result.stdout.splitlines() if ": error:" in line}
    expected = {i for i, text in enumerate(SNIPPET.splitlines(), start=1) if "# E:" in text}
    assert lines == expected, result.stdout
