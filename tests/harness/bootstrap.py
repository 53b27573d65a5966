"""Create, through the API, what a real cluster's controllers would have made and tests need.

Only kube-apiserver runs (no kube-controller-manager), so nobody creates the ``default``
service account in new namespaces; pods and TokenRequest need it, so the harness creates it.
The restricted user's RBAC is set up here too, and its propagation awaited, so the first 403/200
a test sees is the authorizer's settled answer.
"""

from __future__ import annotations

import ssl
import time
from pathlib import Path
from typing import Any

import httpx

HARNESS_LABEL = "kubecodegen.test/harness"


def api_client(server: str, ca_file: Path, token: str | None) -> httpx.Client:
    """An httpx client for the cluster that verifies TLS against the harness CA.

    ``trust_env=False`` keeps proxy variables and ~/.netrc of the person running the tests out of
    the picture: loopback traffic must never go through a proxy.
    """
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    context = ssl.create_default_context(cafile=str(ca_file))
    return httpx.Client(
        base_url=server, verify=context, headers=headers, trust_env=False, timeout=30.0
    )


def _check(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.is_success:
        body: dict[str, Any] = response.json()
        return body
    raise RuntimeError(f"{what}: HTTP {response.status_code}: {response.text[:500]}")


def _create(client: httpx.Client, path: str, body: dict[str, Any], what: str) -> None:
    """POST ``body``; an existing object of that name counts as success (reruns, restarts)."""
    response = client.post(path, json=body)
    if response.status_code == 409:
        return
    _check(response, what)


def create_namespace(client: httpx.Client, name: str) -> None:
    """Create a namespace (an error if it already exists) and its ``default`` service account."""
    body = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {HARNESS_LABEL: "true"}},
    }
    _check(client.post("/api/v1/namespaces", json=body), f"creating namespace {name!r}")
    ensure_default_service_account(client, name)


def ensure_default_service_account(
    client: httpx.Client, namespace: str, timeout: float = 15.0
) -> None:
    """Create ``default`` in ``namespace``, waiting for system namespaces that appear late."""
    body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}
    path = f"/api/v1/namespaces/{namespace}/serviceaccounts"
    deadline = time.monotonic() + timeout
    while True:
        response = client.post(path, json=body)
        if response.status_code in (201, 409):
            return
        if response.status_code != 404 or time.monotonic() > deadline:
            _check(response, f"creating service account default in namespace {namespace!r}")
            return
        time.sleep(0.1)


def grant_configmap_reader(client: httpx.Client, namespace: str, user: str) -> None:
    """Let ``user`` get/list/watch configmaps in ``namespace`` and nothing else."""
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    _create(
        client,
        f"{rbac}/namespaces/{namespace}/roles",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "configmap-reader"},
            "rules": [
                {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}
            ],
        },
        f"creating role configmap-reader in {namespace!r}",
    )
    _create(
        client,
        f"{rbac}/namespaces/{namespace}/rolebindings",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "configmap-reader"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "configmap-reader",
            },
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
        },
        f"binding role configmap-reader to {user!r} in {namespace!r}",
    )


def wait_for_access(client: httpx.Client, path: str, timeout: float = 15.0) -> None:
    """Poll ``path`` until it answers 200: RBAC changes reach the authorizer's cache with a delay."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(path)
        if response.status_code == 200:
            return
        if time.monotonic() > deadline:
            _check(response, f"waiting for access to {path}")
            return
        time.sleep(0.05)
