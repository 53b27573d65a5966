"""kubecodegen_runtime.meta: the one version-priority rule of the generator and the fake."""

from __future__ import annotations

from kubecodegen_runtime.meta import version_priority


def test_version_priority_orders_like_kubernetes() -> None:
    versions = ["v1alpha1", "v1beta1", "v1", "v2", "v2beta2", "v10", "v11alpha2", "foo", "bar"]
    assert sorted(versions, key=version_priority) == [
        "v10", "v2", "v1", "v2beta2", "v1beta1", "v11alpha2", "v1alpha1", "bar", "foo"]


def test_only_ascii_digits_make_a_kubernetes_version() -> None:
    # "v١" (an Arabic-Indic digit) is not a Kubernetes version: it sorts with the others
    assert version_priority("v\u0661")[0] == 1
    assert version_priority("v1")[0] == 0
