"""The few API calls an environment makes itself: namespaces, service accounts, RBAC, probes.

They go through a plain httpx client (`http_client`) rather than a generated clientset, because
the environment must work before (and without) any generated package. Only kube-apiserver
without kube-controller-manager runs, so nobody creates the ``default`` service account in new
namespaces; pods and TokenRequest need it, so `create_namespace` does. RBAC grants are awaited
(`wait_for_access`), so the first 403/200 a test sees is the authorizer's settled answer.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from ..config.types import ClientConfig

#: Label on every namespace an environment creates, so people can tell them apart.
NAMESPACE_LABEL = "envtest.kubecodegen.io/created"

RBAC = "/apis/rbac.authorization.k8s.io/v1"


class APIError(RuntimeError):
    """An API call the environment makes failed; the message has the status and the answer."""


def http_client(config: ClientConfig, timeout: float = 30.0) -> httpx.Client:
    """An httpx client for ``config`` (TLS verified against the environment's CA).

    ``trust_env=False`` keeps proxy variables and ~/.netrc of the person running the tests out
    of the picture: loopback traffic must never go through a proxy.
    """
    return httpx.Client(
        base_url=config.server,
        verify=config.verify,
        auth=config.auth,
        trust_env=False,
        timeout=timeout,
    )


def check(response: httpx.Response, what: str) -> dict[str, Any]:
    """The decoded body of a successful answer, else `APIError` saying what failed."""
    if response.is_success:
        body: dict[str, Any] = response.json()
        return body
    raise APIError(f"{what}: HTTP {response.status_code}: {response.text[:500]}")


def create_or_keep(client: httpx.Client, path: str, body: Mapping[str, Any], what: str) -> None:
    """POST ``body``; an existing object of that name counts as success (reruns, restarts)."""
    response = client.post(path, json=body)
    if response.status_code != 409:
        check(response, what)


def create_namespace(
    client: httpx.Client, name: str, labels: Mapping[str, str] | None = None
) -> None:
    """Create a namespace (an error if it already exists) and its ``default`` service account."""
    body = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {NAMESPACE_LABEL: "true", **(labels or {})}},
    }
    check(client.post("/api/v1/namespaces", json=body), f"creating namespace {name!r}")
    ensure_default_service_account(client, name)


def delete_namespace(client: httpx.Client, name: str) -> None:
    """Ask for the namespace's deletion (404 is fine). Without kube-controller-manager it stays
    ``Terminating`` with its objects, so this does not wait."""
    response = client.delete(f"/api/v1/namespaces/{name}")
    if response.status_code != 404:
        check(response, f"deleting namespace {name!r}")


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
            check(response, f"creating service account default in namespace {namespace!r}")
            return
        time.sleep(0.1)


def grant_role(
    client: httpx.Client,
    *,
    namespace: str,
    role: str,
    rules: Sequence[Mapping[str, Any]],
    users: Sequence[str] = (),
    groups: Sequence[str] = (),
) -> None:
    """Create (or keep) Role ``role`` with ``rules`` in ``namespace``, bound to users/groups."""
    _create_role(client, f"{RBAC}/namespaces/{namespace}/roles", "Role", role, rules)
    _bind(
        client,
        f"{RBAC}/namespaces/{namespace}/rolebindings",
        "RoleBinding",
        {"kind": "Role", "name": role},
        users,
        groups,
    )


def grant_cluster_role(
    client: httpx.Client,
    *,
    role: str,
    rules: Sequence[Mapping[str, Any]],
    users: Sequence[str] = (),
    groups: Sequence[str] = (),
) -> None:
    """Create (or keep) ClusterRole ``role`` with ``rules``, bound cluster-wide to users/groups."""
    _create_role(client, f"{RBAC}/clusterroles", "ClusterRole", role, rules)
    _bind(
        client,
        f"{RBAC}/clusterrolebindings",
        "ClusterRoleBinding",
        {"kind": "ClusterRole", "name": role},
        users,
        groups,
    )


def _create_role(
    client: httpx.Client, path: str, kind: str, name: str, rules: Sequence[Mapping[str, Any]]
) -> None:
    body = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": name},
        "rules": [dict(rule) for rule in rules],
    }
    create_or_keep(client, path, body, f"creating {kind} {name!r}")


def _bind(
    client: httpx.Client,
    path: str,
    kind: str,
    role_ref: Mapping[str, str],
    users: Sequence[str],
    groups: Sequence[str],
) -> None:
    if not users and not groups:
        raise ValueError("a grant needs at least one user or group")
    subjects = [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user} for user in users
    ] + [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}
        for group in groups
    ]
    body = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": role_ref["name"]},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", **role_ref},
        "subjects": subjects,
    }
    create_or_keep(client, path, body, f"binding {role_ref['kind']} {role_ref['name']!r}")


def wait_for_access(client: httpx.Client, path: str, timeout: float = 15.0) -> None:
    """Poll GET ``path`` until it answers 200: RBAC changes reach the authorizer with a delay."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(path)
        if response.status_code == 200:
            return
        if time.monotonic() > deadline:
            check(response, f"waiting for access to {path}")
            return
        time.sleep(0.05)
