"""mypy enforces scope and verbs on the generated ClientSet (generated/kube_v1_20), and sees
the meta/v1 types of kube_v1_20 and kube_v1_35 as the runtime's one set of classes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

GENERATED = Path(__file__).resolve().parents[2] / "generated"

SNIPPET = textwrap.dedent('''
    from kube_v1_20 import Clientset
    from kube_v1_20.models.core_v1 import Binding, ConfigMap, Node, ObjectReference
    from kube_v1_20.models.meta_v1 import ObjectMeta

    def use(cs: Clientset) -> None:
        cm: ConfigMap = cs.core_v1.config_maps("ns").get("a")          # fine
        node: Node = cs.core_v1.nodes().get("n")                       # fine
        cs.core_v1.all_config_maps().list()                            # fine
        cs.core_v1.bindings("ns").create(
            Binding(metadata=ObjectMeta(name="p"), target=ObjectReference(kind="Node", name="n")))
        cs.core_v1.bindings("ns").get("p")                             # E: bindings serve only create
        cs.core_v1.nodes("ns")                                         # E: cluster-scoped
        cs.core_v1.config_maps()                                       # E: namespace required
        cs.core_v1.all_config_maps().create(ConfigMap())               # E: read-only view
        cs.core_v1.component_statuses().delete("x")                    # E: get and list only
        cs.core_v1.config_maps("ns").create(Node())                    # E: wrong type

    # meta/v1 is the runtime's: one class in every package, whatever its Kubernetes version
    from kube_v1_35.models.core_v1 import Pod as Pod35
    from kube_v1_35.models.meta_v1 import ListMeta as ListMeta35
    from kube_v1_35.models.meta_v1 import ObjectMeta as ObjectMeta35
    from kubecodegen_runtime.apis.meta_v1 import ObjectMeta as RuntimeMeta
    from kubecodegen_runtime.errors import Status

    def across(meta20: ObjectMeta, status: Status) -> ObjectMeta35:
        Pod35(metadata=meta20)                                         # fine: one ObjectMeta
        shared: RuntimeMeta = meta20                                   # fine
        back: ObjectMeta = ObjectMeta35(name="x")                      # fine
        wrong: ListMeta35 = meta20                                     # E: another meta type
        return meta20
''')


def test_mypy_rejects_wrong_scope_verbs_and_types(tmp_path: Path) -> None:
    (tmp_path / "use.py").write_text(SNIPPET)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "c"),
         str(tmp_path / "use.py")],
        cwd=tmp_path, capture_output=True, text=True, check=False,
        env={"MYPYPATH": str(GENERATED), "PATH": "/usr/bin:/bin"},
    )
    lines = {int(line.split(":")[1]) for line in result.stdout.splitlines() if ": error:" in line}
    source = SNIPPET.splitlines()
    expected = {i for i, text in enumerate(source, start=1) if "# E:" in text}
    assert lines == expected, result.stdout
