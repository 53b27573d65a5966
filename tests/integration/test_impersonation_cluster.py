"""Impersonation and client-go credential precedence against the real kube-apiserver.

Requests go through the runtime's own transport (``build_client``), so the
``Impersonate-*`` headers come from exactly the code path generated clients use. The
server's RBAC answers prove what it received: a 403 names the user it authorized the
request as, and impersonating without the ``impersonate`` verb is refused naming the
resource (``users``, ``groups``, ``userextras/<key>``) the client asked for.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kubecodegen_runtime.config import (
    ClientConfig,
    ConfigOverrides,
    Impersonation,
    Kubeconfig,
    load_kubeconfig,
)
from kubecodegen_runtime.transport import build_client
from tests.harness.cluster import TestCluster, unique_name

NAMESPACES = "/api/v1/namespaces"
RBAC = "/apis/rbac.authorization.k8s.io/v1"


def kubeconfig(
    path: Path, cluster: TestCluster, user: dict[str, Any], **cluster_fields: Any
) -> Path:
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "test",
                "cluster": {
                    "server": cluster.server,
                    "certificate-authority": str(cluster.ca_file),
                    **cluster_fields,
                },
            }
        ],
        "users": [{"name": "tester", "user": user}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "tester"}}],
        "current-context": "test",
    }
    path.write_text(yaml.safe_dump(document))
    return path


def get(cfg: ClientConfig, path: str = NAMESPACES) -> httpx.Response:
    with build_client(cfg) as http:
        return http.get(path)


def message(response: httpx.Response) -> str:
    return str(response.json().get("message", ""))


class Impersonator:
    """A certificate user allowed to impersonate one user, system:masters and one extra."""

    def __init__(self, cluster: TestCluster) -> None:
        self.name = unique_name("kcg-impersonator")
        self.target = unique_name("kcg-target")
        self.cert, self.key = cluster.issue_client_certificate(self.name)
        role = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": self.name},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["users"],
                    "verbs": ["impersonate"],
                    "resourceNames": [self.target],
                },
                {
                    "apiGroups": [""],
                    "resources": ["groups"],
                    "verbs": ["impersonate"],
                    "resourceNames": ["system:masters"],
                },
                {
                    "apiGroups": ["authentication.k8s.io"],
                    "resources": ["userextras/scopes"],
                    "verbs": ["impersonate"],
                },
            ],
        }
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": self.name},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": self.name,
            },
            "subjects": [
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": self.name}
            ],
        }
        admin = cluster.admin_client()
        for path, body in (
            (f"{RBAC}/clusterroles", role),
            (f"{RBAC}/clusterrolebindings", binding),
        ):
            response = admin.post(path, json=body)
            assert response.status_code == 201, response.text

    def user(self, **impersonation: Any) -> dict[str, Any]:
        return {"client-certificate": str(self.cert), "client-key": str(self.key), **impersonation}

    def delete(self, cluster: TestCluster) -> None:
        admin = cluster.admin_client()
        admin.delete(f"{RBAC}/clusterrolebindings/{self.name}")
        admin.delete(f"{RBAC}/clusterroles/{self.name}")


@pytest.fixture(scope="module")
def impersonator(cluster: TestCluster) -> Iterator[Impersonator]:
    subject = Impersonator(cluster)
    yield subject
    subject.delete(cluster)


def wait_until_rbac_allows(cfg: ClientConfig) -> httpx.Response:
    """RBAC objects reach the authorizer's cache shortly after creation; poll briefly."""
    deadline = time.monotonic() + 10
    while True:
        response = get(cfg)
        if "cannot impersonate" not in message(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def test_kubeconfig_as_acts_as_the_impersonated_user(
    cluster: TestCluster, impersonator: Impersonator, tmp_path: Path
) -> None:
    cfg = load_kubeconfig(
        kubeconfig(tmp_path / "kc", cluster, impersonator.user(**{"as": impersonator.target}))
    )
    response = wait_until_rbac_allows(cfg)
    assert response.status_code == 403
    assert f'User "{impersonator.target}" cannot list resource "namespaces"' in message(response)


def test_kubeconfig_as_groups_are_sent_one_header_each(
    cluster: TestCluster, impersonator: Impersonator, tmp_path: Path
) -> None:
    user = impersonator.user(
        **{"as": impersonator.target, "as-groups": ["system:masters", "system:authenticated"]}
    )
    cfg = load_kubeconfig(kubeconfig(tmp_path / "kc", cluster, user))
    # system:authenticated is not granted: the server names it, so both groups arrived.
    response = wait_until_rbac_allows(cfg)
    assert response.status_code == 403
    assert 'cannot impersonate resource "groups"' in message(response)
    assert "system:authenticated" in message(response)
    user["as-groups"] = ["system:masters"]
    cfg = load_kubeconfig(kubeconfig(tmp_path / "kc", cluster, user))
    assert get(cfg).status_code == 200  # acting as a member of system:masters


def test_user_extra_keys_are_escaped_and_reach_the_authorizer(
    cluster: TestCluster, impersonator: Impersonator, tmp_path: Path
) -> None:
    allowed = impersonator.user(
        **{"as": impersonator.target, "as-user-extra": {"scopes": ["view", "edit"]}}
    )
    cfg = load_kubeconfig(kubeconfig(tmp_path / "kc", cluster, allowed))
    response = wait_until_rbac_allows(cfg)
    assert f'User "{impersonator.target}" cannot list' in message(response)
    # A key with "/" and a space must be percent-encoded in the header name; the server
    # decodes it and asks RBAC about exactly that key.
    odd = impersonator.user(
        **{"as": impersonator.target, "as-user-extra": {"example.com/my scopes": ["x"]}}
    )
    response = get(load_kubeconfig(kubeconfig(tmp_path / "kc2", cluster, odd)))
    assert response.status_code == 403
    assert 'cannot impersonate resource "userextras/example.com/my scopes"' in message(response)


def test_impersonating_without_rbac_rights_is_refused(cluster: TestCluster, tmp_path: Path) -> None:
    user = {"token": cluster.restricted_token, "as": "someone-else"}
    response = get(load_kubeconfig(kubeconfig(tmp_path / "kc", cluster, user)))
    assert response.status_code == 403
    assert 'User "kubecodegen-restricted" cannot impersonate resource "users"' in message(response)


def test_client_config_and_overrides_impersonate(
    cluster: TestCluster, impersonator: Impersonator, tmp_path: Path
) -> None:
    base = load_kubeconfig(kubeconfig(tmp_path / "kc", cluster, impersonator.user()))
    assert get(base).status_code == 403  # the impersonator itself may not list namespaces
    direct = ClientConfig(
        server=base.server,
        verify=base.verify,
        impersonate=Impersonation.of(impersonator.target, groups=["system:masters"]),
    )
    assert wait_until_rbac_allows(direct).status_code == 200
    flags = ConfigOverrides(impersonate=impersonator.target, impersonate_groups=["system:masters"])
    cfg = Kubeconfig.load(tmp_path / "kc").client_config(overrides=flags)
    assert get(cfg).status_code == 200


# -- credential precedence (client-go) -----------------------------------------------------------


def test_token_file_wins_over_inline_token(cluster: TestCluster, tmp_path: Path) -> None:
    (tmp_path / "token").write_text(cluster.admin_token)
    user = {"token": "wrong-inline-token", "tokenFile": "token"}
    assert get(load_kubeconfig(kubeconfig(tmp_path / "kc", cluster, user))).status_code == 200


def test_token_with_exec_uses_the_token_and_never_runs_the_plugin(
    cluster: TestCluster, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    plugin = tmp_path / "plugin.sh"
    plugin.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    plugin.chmod(0o755)
    user = {
        "token": cluster.admin_token,
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": str(plugin),
            "interactiveMode": "Never",
        },
    }
    assert get(load_kubeconfig(kubeconfig(tmp_path / "kc", cluster, user))).status_code == 200
    assert not marker.exists()


def test_server_without_scheme_is_plain_http_without_credentials(
    cluster: TestCluster, tmp_path: Path
) -> None:
    """clientcmd: ``server: host:port`` means http://, and credentials are only sent over
    TLS. The TLS port answers a plain-HTTP request with 400, which proves the scheme."""
    hostport = cluster.server.removeprefix("https://")
    cfg = load_kubeconfig(
        kubeconfig(tmp_path / "kc", cluster, {"token": cluster.admin_token}, server=hostport)
    )
    assert cfg.server == f"http://{hostport}" and cfg.auth is None
    response = get(cfg)
    assert response.status_code == 400
    assert "HTTP request to an HTTPS server" in response.text


def test_server_override_and_token_override_need_no_context(
    cluster: TestCluster, tmp_path: Path
) -> None:
    flags = ConfigOverrides(
        server=cluster.server,
        certificate_authority=str(cluster.ca_file),
        token=cluster.admin_token,
    )
    cfg = Kubeconfig().client_config(overrides=flags)
    assert get(cfg).status_code == 200
    # And over a kubeconfig whose user is someone else: the token override wins.
    restricted = Kubeconfig.load(cluster.restricted_kubeconfig)
    assert get(restricted.client_config()).status_code == 403
    assert (
        get(
            restricted.client_config(overrides=ConfigOverrides(token=cluster.admin_token))
        ).status_code
        == 200
    )
