"""Watch-list vs paged LIST: an informer syncing 10,000 custom resources on the modern server.

Issue 10 item 4: informers can list with a watch-list (``sendInitialEvents``, Kubernetes
1.27+) instead of paged LISTs; it is meant to cut the peak memory of both sides, since no
page of objects is ever built. This suite measures the two on the same objects, side by
side, to decide whether ``watch_list`` should be on by default.

The modern harness server (v1.36 API machinery, CRDs only) serves a namespaced ``Widget``
CRD holding :data:`OBJECTS` objects of about 1 KB of JSON each. Every measurement runs in a
fresh interpreter, one per contender and round (interleaved, the order rotating per round),
so each starts as a controller process does: the time from ``start()`` to synced, the peak
resident set size of the whole process (VmHWM, which is what a memory limit sees), and the
RSS growth across the sync. Both contenders decode into the same typed model (meta/v1 from
the runtime) with ``strip_managed_fields=True``.

When the modern server is not built, the suite reports why and measures nothing.
"""

from __future__ import annotations

import concurrent.futures
import gc
import importlib
import json
import os
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import msgspec

from kubecodegen_runtime.apis.meta_v1 import ObjectMeta
from kubecodegen_runtime.cache.informer import SharedInformer
from kubecodegen_runtime.client import RESTClient
from kubecodegen_runtime.config import load_kubeconfig
from kubecodegen_runtime.meta import GroupVersionKind, ResourceInfo
from kubecodegen_runtime.model import Model, Object

from . import ROOT, Context, Outcome, Section, Target, median, spread
from .informer_cluster import _digest, _peak_rss, _rss

OBJECTS = 10_000
GROUP = "bench.kubecodegen.test"
PAGED = "kubecodegen informer, paged LIST (page_size=500)"
WATCH_LIST = "kubecodegen informer, watch-list (sendInitialEvents)"
CONTENDERS = (PAGED, WATCH_LIST)
MAX_ROUNDS = 3
SYNC_TIMEOUT = 300.0
WORKER_TIMEOUT = 600.0

CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"widgets.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget",
                  "listKind": "WidgetList"},
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {"spec": {
                    "type": "object",
                    "properties": {
                        "size": {"type": "integer"},
                        "color": {"type": "string"},
                        "owner": {"type": "string"},
                        "notes": {"type": "string"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                    },
                }},
            }},
        }],
    },
}


def _body(namespace: str, index: int) -> bytes:
    """One Widget of about 1 KB of JSON (labels, annotations, a spec with a list)."""
    return json.dumps({
        "apiVersion": f"{GROUP}/v1", "kind": "Widget",
        "metadata": {"name": f"widget-{index:05d}", "namespace": namespace,
                     "labels": {"app": f"app-{index % 50}", "tier": "bench"},
                     "annotations": {"bench.kubecodegen.test/note": "x" * 200}},
        "spec": {"size": index, "color": ("red", "green", "blue")[index % 3],
                 "owner": f"team-{index % 17}", "notes": "n" * 300,
                 "tags": [f"tag-{index % 7}", f"tag-{index % 11}", "widget"]},
    }).encode()


# -- the worker: one contender, one measurement, in its own process -------------------


class WidgetSpec(Model, kw_only=True):
    size: int | None = None
    color: str | None = None
    owner: str | None = None
    notes: str | None = None
    tags: list[str] | None = None


class Widget(Object, kw_only=True):
    """The typed model both informers decode into, shaped as the generator writes them."""

    GVK: ClassVar[GroupVersionKind] = GroupVersionKind(GROUP, "v1", "Widget")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: WidgetSpec | None = None


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Sync one informer once and report its time and memory."""
    info = ResourceInfo(GROUP, "v1", "widgets", "Widget", True,
                        frozenset({"get", "list", "watch"}))
    config = load_kubeconfig(spec["kubeconfig"])
    rest = RESTClient(config)
    informer: SharedInformer[Widget] = SharedInformer(
        rest, info, Widget, namespace=spec["namespace"], strip_managed_fields=True,
        watch_list=spec["contender"] == WATCH_LIST, page_size=500)
    gc.collect()
    rss_before = _rss()
    clock = time.perf_counter()
    informer.start()
    if not informer.wait_for_sync(SYNC_TIMEOUT):
        raise RuntimeError(f"{spec['contender']}: not synced after {SYNC_TIMEOUT:.0f} s")
    elapsed = time.perf_counter() - clock
    gc.collect()
    peak = _peak_rss()
    grown = _rss() - rss_before
    names = [str(w.metadata.name) for w in informer.lister().list() if w.metadata]
    used_watch_list = informer.uses_watch_list
    informer.stop(30.0)
    rest.close()
    return {"seconds": elapsed, "peak_rss": peak, "rss_growth": grown, "objects": len(names),
            "digest": _digest(names), "watch_list": used_watch_list}


def _worker_main() -> int:
    spec = json.loads(sys.stdin.read())
    sys.stdout.write(json.dumps(worker(spec)) + "\n")
    sys.stdout.flush()
    os._exit(0)


# -- the parent: server, objects, rounds -------------------------------------------------


@dataclass
class _Target:
    kubeconfig: str
    namespace: str
    digest: str


def _create(server: str, ca_file: str, token: str, namespace: str) -> list[str]:
    """Create the objects with a few concurrent connections; returns their names."""
    import httpx

    path = f"/apis/{GROUP}/v1/namespaces/{namespace}/widgets"
    context = ssl.create_default_context(cafile=ca_file)

    def batch(indexes: range) -> None:
        with httpx.Client(base_url=server, verify=context, trust_env=False, timeout=60.0,
                          headers={"Authorization": f"Bearer {token}",
                                   "Content-Type": "application/json"}) as client:
            for index in indexes:
                response = client.post(path, content=_body(namespace, index))
                if response.status_code != 201:
                    raise RuntimeError(f"creating widget {index}: HTTP {response.status_code} "
                                       f"{response.text[:300]}")

    workers = 8
    step = OBJECTS // workers
    chunks = [range(i, min(i + step, OBJECTS)) for i in range(0, OBJECTS, step)]
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(batch, chunk) for chunk in chunks]:
            future.result()
    return [f"widget-{i:05d}" for i in range(OBJECTS)]


def _install_crd(server: str, ca_file: str, token: str) -> None:
    import httpx

    with httpx.Client(base_url=server, verify=ssl.create_default_context(cafile=ca_file),
                      headers={"Authorization": f"Bearer {token}"}, trust_env=False,
                      timeout=60.0) as client:
        response = client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                               json=CRD)
        if response.status_code not in (201, 409):
            raise RuntimeError(f"installing the CRD: HTTP {response.status_code}")
        deadline = time.monotonic() + 60
        while client.get(f"/apis/{GROUP}/v1/widgets").status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the Widget CRD was not served within 60 s")
            time.sleep(0.2)


def _measure(target: _Target, contender: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    spec = {"contender": contender, "kubeconfig": target.kubeconfig,
            "namespace": target.namespace}
    done = subprocess.run([sys.executable, "-m", "benchmarks.watchlist_cluster"],
                          input=json.dumps(spec), capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=WORKER_TIMEOUT, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{contender} worker failed (exit {done.returncode}):\n"
                           f"{done.stderr[-3000:]}")
    answer: dict[str, Any] = json.loads(lines[-1])
    if answer["objects"] != OBJECTS or answer["digest"] != target.digest:
        raise RuntimeError(f"{contender} cached {answer['objects']} objects, not exactly the "
                           f"{OBJECTS} created")
    if answer["watch_list"] != (contender == WATCH_LIST):
        raise RuntimeError(f"{contender}: the informer {'did' if answer['watch_list'] else 'did not'} "
                           "use a watch-list")
    return answer


def run(ctx: Context) -> Outcome:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    harness = importlib.import_module("tests.harness.cluster")
    assets = importlib.import_module("tests.harness.assets")
    try:
        modern = assets.find_modern_assets()
    except assets.AssetsNotFoundError as exc:
        return _unavailable(str(exc))
    phases: dict[str, float] = {}
    clock = time.perf_counter()
    with harness.TestCluster(modern) as cluster:
        phases["start etcd + the modern server"] = time.perf_counter() - clock
        version = cluster.version
        clock = time.perf_counter()
        namespace = harness.unique_name("bench-watch-list")
        _install_crd(cluster.server, str(cluster.ca_file), cluster.admin_token)
        names = _create(cluster.server, str(cluster.ca_file), cluster.admin_token, namespace)
        phases[f"install the CRD, create {OBJECTS} widgets"] = time.perf_counter() - clock
        target = _Target(str(cluster.admin_kubeconfig), namespace, _digest(names))
        rounds = min(ctx.rounds, MAX_ROUNDS)
        answers: dict[str, list[dict[str, Any]]] = {name: [] for name in CONTENDERS}
        clock = time.perf_counter()
        for index in range(ctx.warmup + rounds):
            order = CONTENDERS[index % 2:] + CONTENDERS[:index % 2]
            for contender in order:
                answer = _measure(target, contender)
                if index >= ctx.warmup:
                    answers[contender].append(answer)
        phases["timed rounds (one process per contender and round)"] = time.perf_counter() - clock
    return _outcome(answers, rounds, version, phases)


def _unavailable(reason: str) -> Outcome:
    section = Section(title="Watch-list vs paged LIST (10,000 custom resources, modern server)",
                      headers=["contender", "result"],
                      rows=[[name, "not measured"] for name in CONTENDERS],
                      notes=[f"The modern API server is not available: {reason}"])
    targets = [Target(name=f"watch-list vs paged LIST: {what}", goal="≤ 1.00×",
                      measured="not measured (no modern server)", passed=None)
               for what in ("time to synced", "peak RSS")]
    return Outcome(sections=[section], targets=targets)


def _outcome(answers: dict[str, list[dict[str, Any]]], rounds: int, version: str,
             phases: dict[str, float]) -> Outcome:
    seconds = {n: [a["seconds"] for a in answers[n]] for n in CONTENDERS}
    peaks = {n: median([a["peak_rss"] for a in answers[n]]) for n in CONTENDERS}
    growth = {n: median([a["rss_growth"] for a in answers[n]]) for n in CONTENDERS}
    rows = [[name, f"{median(seconds[name]):.3f}", spread(seconds[name]),
             f"{peaks[name] / 1e6:.1f}", f"{growth[name] / 1e6:.1f}"] for name in CONTENDERS]
    section = Section(
        title=f"Watch-list vs paged LIST ({OBJECTS:,} custom resources, server {version})",
        headers=["contender", "synced s (median)", "min–max", "peak RSS MB", "RSS growth MB"],
        rows=rows,
        notes=[f"{rounds} rounds, one fresh process per contender and round, interleaved. "
               "Typed objects (meta/v1 from the runtime), managedFields stripped; about 1 KB "
               "of JSON per object. Peak RSS is the whole process (VmHWM, with the "
               "interpreter and imports, about the same for both); RSS growth is across "
               "the sync. Phases: " + "; ".join(f"{k} {v:.1f} s" for k, v in phases.items())],
    )
    time_ratio = median(seconds[WATCH_LIST]) / median(seconds[PAGED])
    peak_ratio = peaks[WATCH_LIST] / peaks[PAGED]
    targets = [
        Target(name="watch-list vs paged LIST: time to synced (10k CRs)", goal="≤ 1.00×",
               measured=f"{time_ratio:.2f}× ({median(seconds[WATCH_LIST]):.3f} s vs "
                        f"{median(seconds[PAGED]):.3f} s)", passed=time_ratio <= 1.0),
        Target(name="watch-list vs paged LIST: peak RSS (10k CRs)", goal="≤ 1.00×",
               measured=f"{peak_ratio:.2f}× ({peaks[WATCH_LIST] / 1e6:.1f} MB vs "
                        f"{peaks[PAGED] / 1e6:.1f} MB)", passed=peak_ratio <= 1.0),
    ]
    return Outcome(sections=[section], targets=targets)


if __name__ == "__main__":
    _worker_main()
