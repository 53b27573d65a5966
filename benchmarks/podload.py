"""Fill a harness cluster's namespace with the sample's 3000 real pods, quickly.

Listing benchmarks (and later the informer ones) need many realistic objects on a real
kube-apiserver; creating them one request at a time on one connection would take longer
than the measurements themselves, so a few clients post in parallel. Each pod keeps what a
user writes (name, labels, annotations, spec) and drops what the server sets (uid,
resourceVersion, creationTimestamp, managedFields, selfLink, status), so the server
fills those in exactly as it would for a user's create.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

#: Parallel creating clients: enough to keep kube-apiserver and etcd busy on 2 cores.
WORKERS = 4
#: Attempts per pod for answers that mean "try again" (429 and 5xx); bounded on purpose.
ATTEMPTS = 3
_RETRYABLE = {429, 500, 502, 503, 504}


class LoadError(RuntimeError):
    """A pod could not be created; the message names the pod and the server's answer."""


def pod_bodies(sample: bytes, namespace: str) -> list[bytes]:
    """JSON bodies to create every pod of a PodList ``sample`` in ``namespace``.

    Pods must not mount a service-account token: no token controller runs on the
    harness, so ``automountServiceAccountToken`` is forced to ``false`` where a pod
    does not already say so.
    """
    items: list[dict[str, Any]] = json.loads(sample)["items"]
    bodies: list[bytes] = []
    for index, item in enumerate(items):
        meta = item.get("metadata") or {}
        name = meta.get("name")
        if not isinstance(name, str) or not isinstance(item.get("spec"), dict):
            raise LoadError(f"sample $.items[{index}]: a pod needs metadata.name and spec")
        metadata: dict[str, Any] = {"name": name, "namespace": namespace}
        for key in ("labels", "annotations"):
            if meta.get(key):
                metadata[key] = meta[key]
        spec = dict(item["spec"])
        spec["automountServiceAccountToken"] = False
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}
        bodies.append(json.dumps(pod, separators=(",", ":")).encode())
    return bodies


def _client(server: str, ca_file: Path, token: str) -> httpx.Client:
    """A verified-TLS client for loopback: proxies and .netrc from the environment ignored."""
    return httpx.Client(
        base_url=server,
        verify=ssl.create_default_context(cafile=str(ca_file)),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        trust_env=False,
        timeout=60.0,
    )


def _post_all(client: httpx.Client, path: str, bodies: Sequence[bytes],
              failures: list[str], stop: threading.Event) -> None:
    for body in bodies:
        if stop.is_set():
            return
        problem = _post_one(client, path, body)
        if problem is not None:
            name = json.loads(body)["metadata"]["name"]
            failures.append(f"pod {name!r}: {problem}")
            stop.set()
            return


def _post_one(client: httpx.Client, path: str, body: bytes) -> str | None:
    """Create one pod, retrying 429/5xx a bounded number of times; the problem, or None."""
    problem = "not attempted"
    for _ in range(ATTEMPTS):
        try:
            response = client.post(path, content=body)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__} talking to the server"
        if response.status_code == 201:
            return None
        problem = f"HTTP {response.status_code}: {response.text[:300]}"
        if response.status_code not in _RETRYABLE:
            break
    return problem


def load_pods(server: str, ca_file: Path, token: str, namespace: str,
              bodies: Sequence[bytes], workers: int = WORKERS) -> None:
    """Create every body as a pod in ``namespace``, ``workers`` clients in parallel.

    Each worker owns one connection and a fixed share of the pods, so the number of
    requests is bounded by ``len(bodies) * ATTEMPTS``. The first failure stops all
    workers and is raised (the token never appears in it).
    """
    path = f"/api/v1/namespaces/{namespace}/pods"
    failures: list[str] = []
    stop = threading.Event()
    clients = [_client(server, ca_file, token) for _ in range(workers)]
    try:
        threads = [
            threading.Thread(target=_post_all, name=f"podload-{index}",
                             args=(client, path, bodies[index::workers], failures, stop))
            for index, client in enumerate(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for client in clients:
            client.close()
    if failures:
        raise LoadError(f"creating pods in {namespace!r} failed: {failures[0]}")
