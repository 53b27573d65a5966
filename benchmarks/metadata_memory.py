"""Metadata informer vs typed informer: memory of the same Secrets cached both ways.

Issue 13 item 5: a controller that needs only names, labels and owners of many Secrets
must not hold their data. One harness cluster holds ``N`` Secrets (10 000 by default,
``KUBECODEGEN_BENCH_METADATA_SECRETS`` overrides it) of :data:`DATA_BYTES` random bytes
each, created through the API by :data:`WORKERS` threads of one runtime RESTClient. Each
contender then caches them all in a fresh interpreter of its own, started as a controller
starts (empty heap, cold connection pool):

* typed informer: the generated package's ``factory.core_v1.secrets()`` (the
  ``kube_v1_20`` Secret model, data included);
* metadata informer: ``factory.for_metadata(GroupVersionResource("", "v1", "secrets"))``,
  which lists and watches with ``Accept: application/json;as=PartialObjectMetadataList``
  (``...;as=PartialObjectMetadata`` for the watch) and caches PartialObjectMetadata;
* both again with ``strip_managed_fields=True``: managedFields are metadata, so they
  stay in a metadata informer's cache unless stripped.

Memory, per contender, two processes: one under tracemalloc (bytes allocated from just
before ``factory.start()`` that are live once synced, after a full collection; and the
peak while syncing, both minus the baseline), and one without it for the RSS growth over
the same span (tracemalloc's own bookkeeping would inflate RSS). Every process checks it
holds exactly the Secrets created, and the metadata ones that nothing but
PartialObjectMetadata is cached.

:func:`measure` is the whole measurement on any reachable server; ``run`` (the suite)
wraps it with a fresh cluster, and the real-server smoke test calls it with a handful of
Secrets.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import importlib
import json
import os
import subprocess
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import ROOT, Context, Outcome, Section

PACKAGE = "kube_v1_20"
DEFAULT_SECRETS = 10_000
DATA_BYTES = 4096
WORKERS = 8
LABEL = "bench-metadata"
SYNC_TIMEOUT = 300.0
WORKER_TIMEOUT = 600.0

TYPED = "typed informer (Secret model)"
METADATA = "metadata informer (PartialObjectMetadata)"
TYPED_STRIP = "typed informer, strip_managed_fields=True"
METADATA_STRIP = "metadata informer, strip_managed_fields=True"
CONTENDERS = (TYPED, METADATA, TYPED_STRIP, METADATA_STRIP)


def secret_count() -> int:
    value = os.environ.get("KUBECODEGEN_BENCH_METADATA_SECRETS", "")
    return int(value) if value.strip() else DEFAULT_SECRETS


# -- the worker: one contender, one process -------------------------------------------


def _rss() -> int:
    """Resident set size of this process now (Linux), in bytes; 0 where unknown."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _digest(names: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Cache every Secret of the namespace with one contender; measure what it costs."""
    from kubecodegen_runtime.meta import GroupVersionResource
    from kubecodegen_runtime.metadata import PartialObjectMetadata

    contender = spec["contender"]
    package = importlib.import_module(PACKAGE)
    clientset = package.Clientset.from_kubeconfig(spec["kubeconfig"])
    factory = package.SharedInformerFactory(
        clientset, namespace=spec["namespace"],
        strip_managed_fields=contender in (TYPED_STRIP, METADATA_STRIP))
    metadata = contender in (METADATA, METADATA_STRIP)
    informer = (factory.for_metadata(GroupVersionResource("", "v1", "secrets")) if metadata
                else factory.core_v1.secrets())
    gc.collect()
    traced = bool(spec["traced"])
    rss_before = _rss()
    if traced:
        tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0] if traced else 0
    clock = time.perf_counter()
    factory.start()
    if not factory.wait_for_cache_sync(timeout=SYNC_TIMEOUT):
        raise RuntimeError(f"{contender}: not synced after {SYNC_TIMEOUT:.0f} s")
    elapsed = time.perf_counter() - clock
    gc.collect()
    current, peak = tracemalloc.get_traced_memory() if traced else (0, 0)
    if traced:
        tracemalloc.stop()
    rss_after = _rss()
    cached = informer.lister().list()
    if metadata and not all(type(obj) is PartialObjectMetadata for obj in cached):
        raise RuntimeError(f"{contender}: something other than PartialObjectMetadata cached")
    if not metadata and not all(getattr(obj, "data", None) for obj in cached):
        raise RuntimeError(f"{contender}: a cached Secret has no data")
    names = [obj.metadata.name for obj in cached]
    del cached
    closed = factory.shutdown(timeout=30.0)
    clientset.close()
    return {"contender": contender, "seconds": elapsed,
            "retained": current - before if traced else None,
            "peak": peak - before if traced else None,
            "rss": rss_after - rss_before, "objects": len(names), "digest": _digest(names),
            "closed": closed}


def _worker_main() -> int:
    spec = json.loads(sys.stdin.read())
    sys.path[:0] = spec["paths"]
    sys.stdout.write(json.dumps(worker(spec)) + "\n")
    sys.stdout.flush()
    return 0


# -- the parent: Secrets, then one process per contender and kind of measurement ------


@dataclass(frozen=True)
class Where:
    """Where the Secrets are: a kubeconfig (admin) and a namespace."""

    kubeconfig: Path
    namespace: str


def _secret(index: int) -> dict[str, Any]:
    payload = base64.b64encode(os.urandom(DATA_BYTES)).decode()
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": f"bench-{index:06d}", "labels": {"app": LABEL}},
            "data": {"payload": payload}}


def create_secrets(target: Where, count: int, workers: int = WORKERS) -> list[str]:
    """Create ``count`` Secrets in parallel through one RESTClient (rate limit off)."""
    import dataclasses

    from kubecodegen_runtime.client import RESTClient
    from kubecodegen_runtime.config import load_kubeconfig
    from kubecodegen_runtime.dynamic import DynamicClient
    from kubecodegen_runtime.meta import GroupVersionResource

    config = dataclasses.replace(load_kubeconfig(target.kubeconfig), qps=0.0)
    with RESTClient(config) as rest:
        secrets = DynamicClient(rest).resource(
            GroupVersionResource("", "v1", "secrets")).namespace(target.namespace)

        def one(index: int) -> str:
            created = secrets.create(_secret(index))
            return str(created["metadata"]["name"])

        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(one, range(count)))


def _run_worker(spec: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "benchmarks.metadata_memory"],
                          input=json.dumps({**spec, "paths": paths}), capture_output=True,
                          text=True, cwd=ROOT, timeout=WORKER_TIMEOUT, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{spec['contender']} worker failed (exit {done.returncode}):\n"
                           f"{done.stderr[-3000:]}")
    answer: dict[str, Any] = json.loads(lines[-1])
    return answer


def measure(target: Where, names: list[str], package_dir: Path,
            contenders: tuple[str, ...] = CONTENDERS) -> dict[str, dict[str, Any]]:
    """Per contender: the traced run's retained/peak bytes and the untraced run's RSS
    growth and seconds to synced; every run checked to hold exactly ``names``."""
    paths = [str(package_dir), str(ROOT)]
    digest = _digest(names)
    results: dict[str, dict[str, Any]] = {}
    for contender in contenders:
        spec = {"contender": contender, "kubeconfig": str(target.kubeconfig),
                "namespace": target.namespace}
        traced = _run_worker({**spec, "traced": True}, paths)
        plain = _run_worker({**spec, "traced": False}, paths)
        for answer in (traced, plain):
            if answer["objects"] != len(names) or answer["digest"] != digest:
                raise RuntimeError(f"{contender} cached {answer['objects']} objects, not "
                                   f"exactly the {len(names)} Secrets created")
        results[contender] = {"retained": traced["retained"], "peak": traced["peak"],
                              "rss": plain["rss"], "seconds": plain["seconds"],
                              "closed": traced["closed"] and plain["closed"]}
    return results


def _mb(value: float) -> str:
    return f"{value / 1e6:.1f}"


def report(results: dict[str, dict[str, Any]], count: int, version: str,
           phases: dict[str, float]) -> Outcome:
    typed = results[TYPED]
    rows = []
    for name, r in results.items():
        base = results[TYPED_STRIP] if name == METADATA_STRIP and TYPED_STRIP in results \
            else typed
        rows.append([name, _mb(r["retained"]), f"{r['retained'] / count / 1024:.2f}",
                     _mb(r["peak"]), _mb(r["rss"]), f"{r['seconds']:.2f}",
                     f"{r['retained'] / base['retained']:.3f}×"])
    unclean = [name for name, r in results.items() if not r["closed"]]
    memory = Section(
        title=f"Metadata vs typed informer on kube-apiserver {version}: {count} Secrets "
              f"of {DATA_BYTES} random bytes",
        headers=["contender", "retained MB", "KiB per Secret", "peak MB", "RSS growth MB",
                 "synced s", "retained vs typed"],
        rows=rows,
        notes=[
            "Each number from a fresh process per contender: retained and peak from one "
            "under tracemalloc (live bytes allocated since just before `factory.start()`, "
            "once synced and after a full collection; the peak while listing, same "
            "baseline), RSS growth and seconds to synced from another without tracing.",
            "`retained vs typed` compares with the typed informer of the same "
            "`strip_managed_fields` setting. The metadata informer's LIST and WATCH ask "
            "for `application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1` "
            "(`as=PartialObjectMetadata` for the watch): the data never leaves the server.",
            "Every process checked it cached exactly the Secrets created (the typed ones "
            "each with its data, the metadata ones nothing but PartialObjectMetadata); "
            "factories shut down cleanly: "
            + ("yes." if not unclean else f"NO ({', '.join(unclean)})."),
        ],
    )
    setup = Section(title="Cluster run of the metadata memory benchmark",
                    headers=["phase", "seconds"],
                    rows=[[phase, f"{value:.1f}"] for phase, value in phases.items()])
    return Outcome(sections=[memory, setup])


def run(ctx: Context) -> Outcome:
    """Start a cluster, create the Secrets, run every contender, tear everything down."""
    if str(ROOT) not in sys.path:  # the harness lives in the checkout's tests/ package
        sys.path.insert(0, str(ROOT))
    harness = importlib.import_module("tests.harness.cluster")
    count = secret_count()
    phases: dict[str, float] = {}
    clock = time.perf_counter()
    with harness.TestCluster() as cluster:
        phases["start etcd + kube-apiserver"] = time.perf_counter() - clock
        version = cluster.version
        namespace = cluster.create_namespace(harness.unique_name("bench-metadata"))
        target = Where(cluster.admin_kubeconfig, namespace)
        clock = time.perf_counter()
        names = create_secrets(target, count)
        phases[f"create {count} Secrets ({WORKERS} threads)"] = time.perf_counter() - clock
        clock = time.perf_counter()
        results = measure(target, names, ctx.packages[PACKAGE])
        phases["two processes per contender"] = time.perf_counter() - clock
    return report(results, count, version, phases)


if __name__ == "__main__":
    sys.exit(_worker_main())
