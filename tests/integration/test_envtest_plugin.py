"""The envtest pytest plugin as a user meets it: a test file of theirs, run by pytest in a fresh
folder, with the plugin loaded through the runtime's ``pytest11`` entry point (nothing else)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.harness import Assets

pytest_plugins = ["pytester"]

GROUP = "plugin.kubecodegen.io"


def crd(plural: str, kind: str) -> dict[str, object]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }


USER_TESTS = f'''
import json
import os
from pathlib import Path

import pytest

from kubecodegen_runtime.client import RESTClient
from kubecodegen_runtime.errors import NotFound

SEEN = []
GROUP = "{GROUP}"


def test_a_fresh_namespace_with_the_crds(envtest_config, envtest_namespace):
    with RESTClient(envtest_config) as rest:
        namespace = rest.get(f"/api/v1/namespaces/{{envtest_namespace}}")
        assert namespace["status"]["phase"] == "Active"
        assert rest.get(f"/api/v1/namespaces/{{envtest_namespace}}/serviceaccounts/default")
        for plural, kind in (("widgets", "Widget"), ("gadgets", "Gadget")):
            body = {{"apiVersion": f"{{GROUP}}/v1", "kind": kind, "metadata": {{"name": "x"}}}}
            path = f"/apis/{{GROUP}}/v1/namespaces/{{envtest_namespace}}/{{plural}}"
            rest.post(path, json.dumps(body).encode())
            assert [item["metadata"]["name"] for item in rest.get(path)["items"]] == ["x"]
    SEEN.append(envtest_namespace)


def test_each_test_has_its_own_namespace_and_the_last_one_is_deleted(
    envtest, envtest_config, envtest_namespace
):
    assert SEEN and SEEN[0] != envtest_namespace
    assert envtest_config.server == envtest.server
    assert envtest.directory.parent == Path(os.environ["TMPDIR"])
    with RESTClient(envtest_config) as rest:
        try:
            phase = rest.get(f"/api/v1/namespaces/{{SEEN[0]}}")["status"]["phase"]
        except NotFound:
            phase = "gone"
    assert phase in ("Terminating", "gone")
'''


@pytest.fixture
def user_project(
    pytester: pytest.Pytester, cluster_assets: Assets, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    """A user's folder: CRDs in ``crds/`` (named in the ini file), one more elsewhere."""
    (pytester.path / "crds").mkdir()
    (pytester.path / "crds" / "widgets.yaml").write_text(yaml.safe_dump(crd("widgets", "Widget")))
    (pytester.path / "more").mkdir()
    (pytester.path / "more" / "gadgets.yaml").write_text(yaml.safe_dump(crd("gadgets", "Gadget")))
    pytester.makeini("[pytest]\nenvtest_crds =\n    crds\n")
    assets = pytester.path / "assets"
    assets.mkdir()
    (assets / "kube-apiserver").symlink_to(cluster_assets.kube_apiserver)
    (assets / "etcd").symlink_to(cluster_assets.etcd)
    for variable in ("TEST_ASSET_KUBE_APISERVER", "TEST_ASSET_ETCD", "TEST_ASSET_ETCDCTL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(assets))
    (pytester.path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(pytester.path / "tmp"))  # where the environment's folder goes
    return pytester


def test_a_users_tests_get_a_cluster_namespaces_and_crds(user_project: pytest.Pytester) -> None:
    user_project.makepyfile(test_user=USER_TESTS)
    result = user_project.runpytest_subprocess("-p", "no:cacheprovider", "--envtest-crds", "more/gadgets.yaml")
    result.assert_outcomes(passed=2)
    result.stdout.no_fnmatch_line("*PRIVATE KEY*")
    assert list((user_project.path / "tmp").iterdir()) == []  # the folder went with the session


def test_unused_fixtures_cost_nothing_and_bad_settings_fail_clearly(
    user_project: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_project.makepyfile(
        test_plain="def test_plain():\n    assert True\n",
        test_uses="def test_uses(envtest_namespace):\n    pass\n",
    )
    plain = user_project.runpytest_subprocess("-p", "no:cacheprovider", "test_plain.py")
    plain.assert_outcomes(passed=1)
    assert list((user_project.path / "tmp").iterdir()) == []  # nothing was started
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path / "nowhere"))
    broken = user_project.runpytest_subprocess("-p", "no:cacheprovider", "test_uses.py")
    broken.assert_outcomes(errors=1)
    broken.stdout.fnmatch_lines([f"*envtest cannot start: KUBEBUILDER_ASSETS={tmp_path / 'nowhere'} is not a folder*"])
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(user_project.path / "assets"))
    missing = user_project.runpytest_subprocess(
        "-p", "no:cacheprovider", "--envtest-crds", "absent.yaml", "test_uses.py"
    )
    missing.assert_outcomes(errors=1)
    missing.stdout.fnmatch_lines([f"*envtest cannot start: {user_project.path / 'absent.yaml'}: no such file or folder*"])
