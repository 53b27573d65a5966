"""Proof that the harness runs a real, correctly secured kube-apiserver.

Everything here talks plain HTTP through httpx, with clients built from the kubeconfig files the
harness writes, so these tests also prove those files are usable as given.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.harness import Assets, ClusterStartError, TestCluster
from tests.harness.assets import CACHED_APISERVER_VERSION, binary_version, cached_apiserver_path

REPO_ROOT = Path(__file__).resolve().parents[2]


def client_from_kubeconfig(path: Path) -> httpx.Client:
    """Build an httpx client the way any kubeconfig consumer would: server, CA, credentials."""
    config = yaml.safe_load(path.read_text())
    context = next(
        c["context"] for c in config["contexts"] if c["name"] == config["current-context"]
    )
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    assert "insecure-skip-tls-verify" not in cluster
    tls = ssl.create_default_context(cafile=cluster["certificate-authority"])
    headers = {}
    if "token" in user:
        headers["Authorization"] = f"Bearer {user['token']}"
    if "client-certificate" in user:
        tls.load_cert_chain(user["client-certificate"], user["client-key"])
    return httpx.Client(
        base_url=cluster["server"], verify=tls, headers=headers, trust_env=False, timeout=30
    )


@pytest.fixture
def admin(cluster: TestCluster) -> Iterator[httpx.Client]:
    with client_from_kubeconfig(cluster.admin_kubeconfig) as client:
        yield client


def configmap(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def first_watch_event(
    client: httpx.Client, path: str, resource_version: str
) -> tuple[int, dict[str, Any] | None]:
    """Open a watch from ``resource_version``; return the HTTP status and the first event."""
    params = {"watch": "1", "resourceVersion": resource_version, "timeoutSeconds": "5"}
    with client.stream("GET", path, params=params) as response:
        if response.status_code != 200:
            response.read()
            return response.status_code, response.json()
        for line in response.iter_lines():
            if line.strip():
                event: dict[str, Any] = json.loads(line)
                return 200, event
    return 200, None


def expired(status: int, event: dict[str, Any] | None) -> bool:
    """410 Gone, either as the HTTP status or (watch served from etcd) as an ERROR event."""
    if status == 410:
        return True
    return event is not None and event["type"] == "ERROR" and event["object"].get("code") == 410


def test_version_matches_the_binary(
    cluster: TestCluster, admin: httpx.Client, cluster_assets: Assets
) -> None:
    body = admin.get("/version").raise_for_status().json()
    expected = "v{}.{}.{}".format(*binary_version(cluster_assets.kube_apiserver))
    if cluster_assets.kube_apiserver == cached_apiserver_path():
        expected = CACHED_APISERVER_VERSION
    assert body["gitVersion"].startswith(expected)
    assert cluster.version == body["gitVersion"]


def test_openapi_v2_is_served(admin: httpx.Client) -> None:
    response = admin.get("/openapi/v2", headers={"Accept": "application/json"})
    assert response.status_code == 200
    spec = response.json()
    assert spec["swagger"] == "2.0"
    assert "/api/v1/namespaces/{namespace}/configmaps" in spec["paths"]
    assert "io.k8s.api.core.v1.ConfigMap" in spec["definitions"]


def test_configmap_create_get_list_watch(admin: httpx.Client, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    start_rv = admin.get(path).raise_for_status().json()["metadata"]["resourceVersion"]

    created = admin.post(path, json=configmap("proof", {"k": "v"}))
    assert created.status_code == 201, created.text
    fetched = admin.get(f"{path}/proof").raise_for_status().json()
    assert fetched["data"] == {"k": "v"}
    assert fetched["metadata"]["uid"] == created.json()["metadata"]["uid"]
    listed = admin.get(path).raise_for_status().json()
    assert [item["metadata"]["name"] for item in listed["items"]] == ["proof"]

    status, event = first_watch_event(admin, path, start_rv)
    assert status == 200
    assert event is not None
    assert event["type"] == "ADDED"
    assert event["object"]["metadata"]["name"] == "proof"


def test_namespace_fixture_has_default_service_account(admin: httpx.Client, namespace: str) -> None:
    response = admin.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/default")
    assert response.status_code == 200
    assert response.json()["metadata"]["namespace"] == namespace


def test_restricted_user_reads_configmaps_in_its_namespace_only(
    cluster: TestCluster, namespace: str
) -> None:
    own = f"/api/v1/namespaces/{cluster.restricted_namespace}"
    with client_from_kubeconfig(cluster.restricted_kubeconfig) as restricted:
        assert restricted.get(f"{own}/configmaps").status_code == 200
        denied = [
            restricted.get(f"/api/v1/namespaces/{namespace}/configmaps"),
            restricted.get(f"{own}/secrets"),
            restricted.post(f"{own}/configmaps", json=configmap("nope", {})),
        ]
    for response in denied:
        assert response.status_code == 403, response.text
        assert response.json()["reason"] == "Forbidden"


def test_bad_token_is_unauthorized(cluster: TestCluster, admin: httpx.Client) -> None:
    assert admin.get("/api/v1/namespaces").status_code == 200
    bad = {"Authorization": f"Bearer {cluster.admin_token}x"}
    response = admin.get("/api/v1/namespaces", headers=bad)
    assert response.status_code == 401
    assert response.json()["reason"] == "Unauthorized"


def test_client_certificate_user_is_admin(cluster: TestCluster) -> None:
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": "*", "group": "*", "resource": "*"}},
    }
    path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    with client_from_kubeconfig(cluster.cert_kubeconfig) as cert_admin:
        assert "Authorization" not in cert_admin.headers
        assert cert_admin.get("/api/v1/namespaces").status_code == 200
        answer = cert_admin.post(path, json=review).raise_for_status().json()
    assert answer["status"]["allowed"] is True
    # The same request without the certificate is anonymous and must be refused.
    anonymous = httpx.Client(
        base_url=cluster.server,
        verify=ssl.create_default_context(cafile=str(cluster.ca_file)),
        trust_env=False,
    )
    with anonymous:
        assert anonymous.get("/api/v1/namespaces").status_code == 403


def test_tls_is_verified_against_the_harness_ca(cluster: TestCluster) -> None:
    with (
        httpx.Client(base_url=cluster.server, trust_env=False) as system_trust,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        system_trust.get("/version")
    for kubeconfig in (
        cluster.admin_kubeconfig,
        cluster.cert_kubeconfig,
        cluster.restricted_kubeconfig,
    ):
        text = kubeconfig.read_text()
        assert "insecure-skip-tls-verify" not in text
        assert f"certificate-authority: {cluster.ca_file}" in text
        assert kubeconfig.stat().st_mode & 0o077 == 0


def test_token_request_issues_a_working_token(
    cluster: TestCluster, admin: httpx.Client, namespace: str
) -> None:
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}
    path = f"/api/v1/namespaces/{namespace}/serviceaccounts/default/token"
    answer = admin.post(path, json=request)
    assert answer.status_code == 201, answer.text
    token = answer.json()["status"]["token"]
    review = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": token},
    }
    status = admin.post("/apis/authentication.k8s.io/v1/tokenreviews", json=review).json()["status"]
    assert status["authenticated"] is True
    assert status["user"]["username"] == f"system:serviceaccount:{namespace}:default"
    # The token authenticates (403 from RBAC, not 401) as the service account.
    sa_headers = {"Authorization": f"Bearer {token}"}
    assert admin.get("/api/v1/namespaces", headers=sa_headers).status_code == 403
    assert cluster.admin_token not in answer.text


def test_certificate_signing_request_can_be_approved(admin: httpx.Client) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csr-proof")]))
        .sign(key, hashes.SHA256())
    )
    name = f"csr-proof-{os.getpid()}-{id(key)}"
    body = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": {
            "request": base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode(),
            "signerName": "kubernetes.io/kube-apiserver-client",
            "usages": ["client auth"],
        },
    }
    base = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
    created = admin.post(base, json=body)
    assert created.status_code == 201, created.text
    approved = created.json()
    approved["status"] = {
        "conditions": [
            {"type": "Approved", "status": "True", "reason": "Proof", "message": "harness test"}
        ]
    }
    response = admin.put(f"{base}/{name}/approval", json=approved)
    assert response.status_code == 200, response.text
    conditions = admin.get(f"{base}/{name}").json()["status"]["conditions"]
    assert [c["type"] for c in conditions] == ["Approved"]


def test_restart_keeps_the_data(private_cluster: TestCluster) -> None:
    path = "/api/v1/namespaces/default/configmaps"
    with client_from_kubeconfig(private_cluster.admin_kubeconfig) as client:
        uid = (
            client.post(path, json=configmap("survivor", {"a": "1"}))
            .raise_for_status()
            .json()["metadata"]["uid"]
        )
    server = private_cluster.server
    private_cluster.restart()
    assert private_cluster.server == server
    with client_from_kubeconfig(private_cluster.admin_kubeconfig) as client:
        fetched = client.get(f"{path}/survivor").raise_for_status().json()
    assert fetched["metadata"]["uid"] == uid
    assert fetched["data"] == {"a": "1"}


def test_stopped_apiserver_refuses_connections_until_started(private_cluster: TestCluster) -> None:
    with client_from_kubeconfig(private_cluster.admin_kubeconfig) as client:
        assert client.get("/readyz").status_code == 200
        private_cluster.stop_apiserver()
        with pytest.raises(httpx.ConnectError):
            client.get("/readyz")
        private_cluster.start_apiserver()
        assert client.get("/readyz").status_code == 200


def test_compaction_makes_an_old_resource_version_watch_fail_with_410(
    private_cluster: TestCluster,
) -> None:
    path = "/api/v1/namespaces/default/configmaps"
    with client_from_kubeconfig(private_cluster.admin_kubeconfig) as client:
        created = client.post(path, json=configmap("old", {"v": "1"})).raise_for_status().json()
        old_rv = created["metadata"]["resourceVersion"]
        created["data"] = {"v": "2"}
        updated = client.put(f"{path}/old", json=created).raise_for_status().json()
        newest_rv = updated["metadata"]["resourceVersion"]

        status, event = first_watch_event(client, path, old_rv)
        assert status == 200 and event is not None and event["type"] == "MODIFIED"

        revision = private_cluster.compact()
        assert revision > int(newest_rv)
        status, event = first_watch_event(client, path, old_rv)
        assert expired(status, event), json.dumps(event)

        # The newest resourceVersion is still a valid place to resume from.
        client.post(path, json=configmap("after", {})).raise_for_status()
        status, event = first_watch_event(client, path, newest_rv)
        assert status == 200 and event is not None, event
        assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "after")


def test_close_stops_every_process_and_removes_every_file(cluster_assets: Assets) -> None:
    with TestCluster(cluster_assets) as test_cluster:
        folder = test_cluster.directory
        children = test_cluster.processes
        assert all(child.running for child in children)
        assert test_cluster.admin_token not in repr(test_cluster)
    assert not folder.exists()
    assert not any(child.running for child in children)


def test_failed_start_reports_the_server_log(cluster_assets: Assets) -> None:
    broken = TestCluster(cluster_assets, extra_apiserver_args=["--no-such-flag=1"])
    try:
        with pytest.raises(ClusterStartError) as failure:
            broken.start()
        message = str(failure.value)
        assert "kube-apiserver exited while starting" in message
        assert "unknown flag: --no-such-flag" in message
        assert broken.admin_token not in message
        assert not broken.running
    finally:
        broken.close()
    assert not broken.directory.exists()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_foreground_cluster_prints_kubeconfig_and_stops_cleanly(
    cluster_assets: Assets, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    folder = tmp_path / "foreground"
    env = {**os.environ, "KUBECODEGEN_CLUSTER_DIR": str(folder)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.harness"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line:
            process.kill()
            pytest.fail(f"no KUBECONFIG line; stderr:\n{process.communicate()[1]}")
        assert line == f"KUBECONFIG={folder / 'admin.kubeconfig'}"
        with client_from_kubeconfig(folder / "admin.kubeconfig") as client:
            assert client.get("/readyz").status_code == 200
        process.send_signal(stop_signal)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not folder.exists()
