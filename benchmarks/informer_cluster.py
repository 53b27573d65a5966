"""Pod informers against a real kube-apiserver: time to synced and memory of the cache.

One harness cluster holds the sample's 3000 pods in a fresh namespace (created through
:mod:`benchmarks.podload`, as the list benchmark does). Every measurement runs in a
fresh interpreter, one per contender and round, so each starts as a controller process
does (cold connection pool, empty heap) and memory numbers are not skewed by what
another contender left behind. Rounds are interleaved: round *k* runs every contender
once, in an order that rotates per round.

Contenders, each used the way its documentation shows:

* raw list: ``httpx.Client.get`` of the pod list + ``json.loads`` (TLS verified, bearer
  token), the floor the informers are compared with;
* kubecodegen: ``SharedInformerFactory(cs, namespace=ns, strip_managed_fields=...)``,
  ``factory.core_v1.pods()``, ``factory.start()``, ``factory.wait_for_cache_sync()``;
* kubernetes 37.0.2 ships ``kubernetes.informer.SharedInformer`` (new in the 37 line):
  ``SharedInformer(list_func=CoreV1Api().list_namespaced_pod, namespace=ns)``. It has
  no ``has_synced``/``wait_for_sync``; its initial list fills the cache, then fires
  ``ADDED`` per pod, so "synced" is when an ``ADDED`` handler has seen every pod;
* client-go v0.20.2 (vendored by kube-apiserver v1.20.2's tree), JSON and protobuf: a
  Go program (:mod:`benchmarks.clientgo`) runs ``NewSharedInformerFactoryWithOptions(cs,
  0, WithNamespace(ns))``, ``Core().V1().Pods().Informer()``, ``factory.Start`` and waits
  for ``HasSynced``; it reports its own time, Go's live heap once synced and peak RSS.

Clients are built before the clock starts (configuration loaded, TLS context made); the
TCP+TLS connection is made inside the timed part for every contender alike. Retained
memory is measured in separate processes under tracemalloc (which slows allocation, so
never in the timed ones): bytes still allocated after the cache synced and a full
collection, minus those allocated before ``start()``. RSS growth from the timed
processes is shown beside it; it also counts freed memory the allocator kept.
"""

from __future__ import annotations

import gc
import hashlib
import importlib
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import ROOT, Context, Outcome, Section, Target, clientgo, median, spread
from .podload import load_pods, pod_bodies

PACKAGE = "kube_v1_20"
RAW = "raw list: httpx GET + json.loads"
RAW_RV0 = "diagnostic: raw list with resourceVersion=0 (as the informer lists)"
KCG_STRIP = "kubecodegen informer, strip_managed_fields=True"
KCG_KEEP = "kubecodegen informer, strip_managed_fields=False"
K8S = "kubernetes 37.0.2 kubernetes.informer.SharedInformer"
KCG_SETTLED = ("diagnostic: kubecodegen informer, strip_managed_fields=True, 3 s after "
               "sync with min_watch_timeout=1 (its first watch has ended)")
TIMED = (RAW, RAW_RV0, KCG_STRIP, KCG_KEEP, K8S)
TRACED = (RAW, KCG_STRIP, KCG_KEEP, K8S, KCG_SETTLED)
SYNC_TARGET = 1.5
MEMORY_TARGET = 0.4
#: Issue 10 item 7: synced no later than client-go protobuf, cache ≤ half its live heap.
CLIENTGO_SYNC_TARGET = 1.0
CLIENTGO_MEMORY_TARGET = 0.5
GO_PEERS = {clientgo.label(format_): format_ for format_ in clientgo.FORMATS}
GO_REFERENCE = clientgo.label("protobuf")
#: Timed rounds at most (each is one fresh process per contender).
MAX_ROUNDS = 5
SYNC_TIMEOUT = 120.0
#: Seconds to wait after sync for the settled diagnostic: its watches last 1 s each.
SETTLE = 3.0
WORKER_TIMEOUT = 300.0


# -- the worker: one contender, one measurement, in its own process -------------------


def _rss() -> int:
    """Resident set size of this process now (Linux), in bytes; 0 where unknown."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _peak_rss() -> int:
    """This process's highest resident set size so far (VmHWM), in bytes; 0 where unknown."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def _digest(names: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()


@dataclass
class _Prepared:
    """A contender ready to go: ``start`` does the timed work and returns the cache once
    synced (or the decoded list); ``names`` reads the pod names from what ``start``
    returned; ``close`` ends it, True if cleanly (None: left to the process exit)."""

    start: Callable[[], Any]
    names: Callable[[Any], list[str]]
    close: Callable[[], bool] | None = None


def _raw(spec: dict[str, Any], params: dict[str, str]) -> _Prepared:
    import httpx

    client = httpx.Client(
        base_url=spec["server"], verify=ssl.create_default_context(cafile=spec["ca_file"]),
        headers={"Authorization": f"Bearer {spec['token']}"}, trust_env=False, timeout=60.0)
    path = f"/api/v1/namespaces/{spec['namespace']}/pods"

    def start() -> Any:
        response = client.get(path, params=params)
        response.raise_for_status()
        return json.loads(response.content)

    def close() -> bool:
        client.close()
        return True

    return _Prepared(start, lambda data: [i["metadata"]["name"] for i in data["items"]], close)


def _kubecodegen(spec: dict[str, Any], strip: bool, settle: bool = False) -> _Prepared:
    package = importlib.import_module(PACKAGE)
    clientset = package.Clientset.from_kubeconfig(spec["kubeconfig"])
    options = {"min_watch_timeout": 1.0} if settle else {}
    factory = package.SharedInformerFactory(clientset, namespace=spec["namespace"],
                                            strip_managed_fields=strip, **options)
    pods = factory.core_v1.pods()

    def start() -> Any:
        factory.start()
        if not factory.wait_for_cache_sync(timeout=SYNC_TIMEOUT):
            raise RuntimeError(f"kubecodegen informer not synced after {SYNC_TIMEOUT:.0f} s")
        if settle:  # watches asked with timeoutSeconds=1: the first one is over by then
            time.sleep(SETTLE)
        return pods

    def names(informer: Any) -> list[str]:
        cached = informer.lister().list()
        if strip and any(pod.metadata.managed_fields is not None for pod in cached):
            raise RuntimeError("managedFields were cached despite strip_managed_fields=True")
        return [pod.metadata.name for pod in cached]

    def close() -> bool:
        done: bool = factory.shutdown(timeout=30.0)
        clientset.close()
        return done

    return _Prepared(start, names, close)


def _kubernetes(spec: dict[str, Any]) -> _Prepared:
    client = importlib.import_module("kubernetes.client")
    informer_module = importlib.import_module("kubernetes.informer")
    configuration = client.Configuration()
    importlib.import_module("kubernetes.config").load_kube_config(
        config_file=spec["kubeconfig"], client_configuration=configuration)
    core = client.CoreV1Api(client.ApiClient(configuration))
    informer = informer_module.SharedInformer(list_func=core.list_namespaced_pod,
                                              namespace=spec["namespace"])
    expected: int = spec["expected"]
    synced = threading.Event()
    added = [0]

    def on_added(_pod: Any) -> None:
        added[0] += 1
        if added[0] >= expected:
            synced.set()

    informer.add_event_handler(informer_module.ADDED, on_added)

    def start() -> Any:
        informer.start()
        if not synced.wait(SYNC_TIMEOUT):
            raise RuntimeError(f"kubernetes informer saw {added[0]} of {expected} pods after "
                               f"{SYNC_TIMEOUT:.0f} s")
        return informer

    # No close: its stop() joins a thread blocked reading the idle watch until the server
    # ends it (minutes); the worker exits instead, which ends the daemon thread.
    return _Prepared(start, lambda inf: [pod.metadata.name for pod in inf.cache.list()])


def _prepare(spec: dict[str, Any]) -> _Prepared:
    contender = spec["contender"]
    if contender == RAW:
        return _raw(spec, {})
    if contender == RAW_RV0:
        return _raw(spec, {"resourceVersion": "0"})
    if contender in (KCG_STRIP, KCG_KEEP):
        return _kubecodegen(spec, strip=contender == KCG_STRIP)
    if contender == KCG_SETTLED:
        return _kubecodegen(spec, strip=True, settle=True)
    if contender == K8S:
        return _kubernetes(spec)
    raise ValueError(f"unknown contender {contender!r}")


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Measure one contender once: ``spec["memory"]`` selects tracemalloc over timing."""
    prepared = _prepare(spec)
    gc.collect()
    traced = bool(spec["memory"])
    rss_before = _rss()
    if traced:
        tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0] if traced else 0
    clock = time.perf_counter()
    result = prepared.start()
    elapsed = time.perf_counter() - clock
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - before if traced else None
    if traced:
        tracemalloc.stop()
    rss_after = _rss()
    peak = _peak_rss()
    names = prepared.names(result)
    del result
    closed = prepared.close() if prepared.close is not None else None
    return {"seconds": elapsed, "retained": retained, "rss": rss_after - rss_before,
            "peak_rss": peak, "pods": len(names), "digest": _digest(names),
            "closed": closed}


def _worker_main() -> int:
    spec = json.loads(sys.stdin.read())  # stdin, not argv: the token must not show in ps
    answer = worker(spec)
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    os._exit(0)  # the kubernetes informer's watch thread would otherwise linger


# -- the parent: cluster, pods, rounds of workers --------------------------------------


@dataclass
class _Cluster:
    """What a worker needs to reach the namespace; ``token`` goes only through stdin."""

    server: str
    ca_file: str
    token: str
    kubeconfig: str
    namespace: str
    expected: int
    digest: str


def _environment(ctx: Context) -> dict[str, str]:
    """The worker's environment: the generated package and the checkout importable;
    bytecode written (an installed client has its .pyc; not timed, but saves minutes)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    paths = [str(ctx.packages[PACKAGE]), str(ROOT)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def _measure(ctx: Context, cluster: _Cluster, contender: str, memory: bool,
             go_binary: Path | None = None) -> dict[str, Any]:
    if contender in GO_PEERS:
        if go_binary is None:
            raise RuntimeError(f"{contender}: no client-go binary")
        peer = clientgo.sync_informer(go_binary, GO_PEERS[contender], clientgo.settings(
            cluster.server, cluster.ca_file, cluster.token, cluster.namespace,
            cluster.expected))
        _check(contender, peer, cluster)
        return peer
    spec = {"contender": contender, "memory": memory, "server": cluster.server,
            "ca_file": cluster.ca_file, "token": cluster.token,
            "kubeconfig": cluster.kubeconfig, "namespace": cluster.namespace,
            "expected": cluster.expected}
    done = subprocess.run([sys.executable, "-m", "benchmarks.informer_cluster"],
                          input=json.dumps(spec), capture_output=True, text=True, cwd=ROOT,
                          env=_environment(ctx), timeout=WORKER_TIMEOUT, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{contender} worker failed (exit {done.returncode}):\n"
                           f"{done.stderr[-3000:]}")
    answer: dict[str, Any] = json.loads(lines[-1])
    _check(contender, answer, cluster)
    return answer


def _check(contender: str, answer: dict[str, Any], cluster: _Cluster) -> None:
    if answer["pods"] != cluster.expected or answer["digest"] != cluster.digest:
        raise RuntimeError(f"{contender} cached {answer['pods']} pods, not exactly the "
                           f"{cluster.expected} created")


def _rounds(ctx: Context, cluster: _Cluster, names: list[str], go_binary: Path | None
            ) -> tuple[dict[str, list[dict[str, Any]]], int]:
    rounds = min(ctx.rounds, MAX_ROUNDS)
    timed: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for index in range(ctx.warmup + rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            answer = _measure(ctx, cluster, name, memory=False, go_binary=go_binary)
            if index >= ctx.warmup:
                timed[name].append(answer)
    return timed, rounds


def run(ctx: Context) -> Outcome:
    """Start a cluster, create the pods, run every worker, tear everything down."""
    if str(ROOT) not in sys.path:  # the harness lives in the checkout's tests/ package
        sys.path.insert(0, str(ROOT))
    harness = importlib.import_module("tests.harness.cluster")
    phases: dict[str, float] = {}
    clock = time.perf_counter()
    with harness.TestCluster() as test_cluster:
        phases["start etcd + kube-apiserver"] = time.perf_counter() - clock
        version = test_cluster.version
        clock = time.perf_counter()
        namespace = test_cluster.create_namespace(harness.unique_name("bench-informer-pods"))
        bodies = pod_bodies(ctx.sample, namespace)
        load_pods(test_cluster.server, test_cluster.ca_file,
                          test_cluster.admin_token, namespace, bodies)
        phases[f"create {len(bodies)} pods"] = time.perf_counter() - clock
        names = [json.loads(body)["metadata"]["name"] for body in bodies]
        cluster = _Cluster(server=test_cluster.server, ca_file=str(test_cluster.ca_file),
                           token=test_cluster.admin_token,
                           kubeconfig=str(test_cluster.admin_kubeconfig),
                           namespace=namespace, expected=len(names), digest=_digest(names))
        del bodies
        build = clientgo.locate()
        names = list(TIMED) + (list(GO_PEERS) if build.binary is not None else [])
        clock = time.perf_counter()
        timed, rounds = _rounds(ctx, cluster, names, build.binary)
        phases["timed rounds (one process per contender and round)"] = (
            time.perf_counter() - clock)
        clock = time.perf_counter()
        memory = {name: _measure(ctx, cluster, name, memory=True) for name in TRACED}
        phases["memory runs (tracemalloc, one process each)"] = time.perf_counter() - clock
        clock = time.perf_counter()
        wire = _wire_formats(cluster)
        phases["the informer's LIST by wire format (diagnostic)"] = time.perf_counter() - clock
        clock = time.perf_counter()
        folder = test_cluster.directory
    phases["stop the cluster, delete its files"] = time.perf_counter() - clock
    torn_down = not folder.exists() and not any(p.running for p in test_cluster.processes)
    outcome = _outcome(ctx, timed, memory, rounds, cluster.expected, version, phases,
                       torn_down, build)
    outcome.sections.insert(2, wire)
    return outcome


#: Accept headers of the wire-format diagnostic, as client-go sends them for each format.
WIRE_FORMATS = {"JSON": "application/json", "protobuf": "application/vnd.kubernetes.protobuf"}


def _wire_formats(cluster: _Cluster, samples: int = 5) -> Section:
    """The informer's LIST (``resourceVersion=0&limit=500``) in each wire format, split
    into server time (until the headers) and the body: what a client that decodes only
    JSON cannot get below, whatever its decoder does."""
    import httpx

    path = f"/api/v1/namespaces/{cluster.namespace}/pods"
    params = {"resourceVersion": "0", "limit": "500"}
    rows = []
    with httpx.Client(base_url=cluster.server,
                      verify=ssl.create_default_context(cafile=cluster.ca_file),
                      headers={"Authorization": f"Bearer {cluster.token}"},
                      trust_env=False, timeout=60.0) as client:
        for wire, accept in WIRE_FORMATS.items():
            for encoding in ("gzip", "identity"):
                headers = {"Accept": accept, "Accept-Encoding": encoding}
                until_headers: list[float] = []
                body: list[float] = []
                sizes: list[int] = []
                for _ in range(samples):
                    start = time.perf_counter()
                    with client.stream("GET", path, params=params, headers=headers) as response:
                        headers_at = time.perf_counter()
                        data = b"".join(response.iter_raw())
                        done = time.perf_counter()
                    response.raise_for_status()
                    until_headers.append(headers_at - start)
                    body.append(done - headers_at)
                    sizes.append(len(data))
                served = response.headers.get("content-type", "?").split(";")[0]
                sent = response.headers.get("content-encoding", "identity")
                rows.append([f"{wire}, {encoding} asked", f"{served}, {sent}",
                             f"{median(until_headers):.3f}", f"{median(body):.3f}",
                             f"{median(until_headers) + median(body):.3f}",
                             f"{median(sizes) / 1e6:.1f}"])
    return Section(
        title="Diagnostic: the informer's LIST by wire format (server time and transfer)",
        headers=["request", "served as", "until headers s", "body s", "together s",
                 "MB on the wire"],
        rows=rows,
        notes=[f"Median of {samples} streamed GETs each with `resourceVersion=0&limit=500` "
               "(one page from the watch cache), after the other measurements. Until the "
               "headers arrive is kube-apiserver encoding the page plus one loopback round "
               "trip; gzip, when asked, runs while the body streams, so it shows in the body "
               "column. kubecodegen decodes JSON only, so the JSON gzip row is the floor of "
               "its informer's sync, the protobuf gzip row that of client-go protobuf."],
    )


def _outcome(ctx: Context, timed: dict[str, list[dict[str, Any]]],
             memory: dict[str, dict[str, Any]], rounds: int, pods: int, version: str,
             phases: dict[str, float], torn_down: bool, build: clientgo.Build) -> Outcome:
    seconds = {name: [a["seconds"] for a in answers] for name, answers in timed.items()}
    medians = {name: median(values) for name, values in seconds.items()}
    rss = {name: median([a["rss"] for a in answers]) for name, answers in timed.items()}
    peak = {name: median([a["peak_rss"] for a in answers]) for name, answers in timed.items()}
    go_heap = {name: median([a["live_heap"] for a in timed[name]])
               for name in GO_PEERS if name in timed}
    retained = {name: int(answer["retained"]) for name, answer in memory.items()}
    raw_s, raw_mem = medians[RAW], retained[RAW]
    unclean = [name for name, answers in timed.items()
               if any(a["closed"] is False for a in answers)]
    unclean += [name for name, answer in memory.items() if answer["closed"] is False]
    speed = Section(
        title=f"Pod informers on kube-apiserver {version}: time from start to synced "
              f"({pods} pods)",
        headers=["contender", "median s", "range s", "vs raw list", "RSS growth MB",
                 "peak RSS MB"],
        rows=[[name, f"{medians[name]:.3f}", spread(seconds[name]),
               f"{medians[name] / raw_s:.2f}×", f"{rss[name] / 1e6:.0f}",
               f"{peak[name] / 1e6:.0f}"] for name in timed]
             + _not_built(build, 6),
        notes=[
            f"Median of {rounds} interleaved rounds after {ctx.warmup} warm-up round(s), "
            "each measurement in a fresh process; from `factory.start()` (or "
            "`informer.start()`, or the GET) until the cache is synced (or the list "
            "decoded). etcd and kube-apiserver run on the same 2 cores.",
            "The kubecodegen informer lists with `resourceVersion=0&limit=500`; "
            "kube-apiserver answers that from its watch cache, in one page, without an etcd "
            "read. The raw list (no resourceVersion) is a consistent read from etcd; the "
            "diagnostic row shows the raw list served like the informer's.",
            "The kubernetes client gets uncompressed JSON (urllib3 does not ask for gzip); "
            "httpx-based contenders get gzip. Its informer has no synced signal; an "
            "`ADDED` handler counting to the number of pods stands in (it fires after the "
            "listed pods are in its cache).",
            "RSS growth: median over the timed processes, from just before start to synced "
            "after a full collection; it includes memory freed but kept by the allocator. "
            "Peak RSS: the process's VmHWM at synced, interpreter (or Go runtime) included.",
            _clientgo_note(build),
            "Every process checked that it holds exactly the names of the pods created (and, "
            "stripping, that no cached pod has managedFields). Factories shut down cleanly "
            "in every kubecodegen process: "
            + ("yes." if not unclean else f"NO ({', '.join(unclean)})."),
        ],
    )
    space = Section(
        title=f"Pod informers on kube-apiserver {version}: memory retained once synced "
              f"({pods} pods)",
        headers=["contender", "retained MB", "KiB per pod", "vs json.loads dicts",
                 "vs client-go protobuf live heap"],
        rows=[[name, f"{size / 1e6:.1f}", f"{size / pods / 1024:.1f}",
               f"{size / raw_mem:.2f}×",
               f"{size / go_heap[GO_REFERENCE]:.2f}×" if GO_REFERENCE in go_heap else "—"]
              for name, size in {**retained, **go_heap}.items()]
             + _not_built(build, 5),
        notes=[
            "One tracemalloc run per contender, each in its own process: bytes allocated "
            "from just before `start()` that are still live once synced, after a full "
            "collection (the informer's threads and open watch connection included). For "
            "the raw list it is the `json.loads` result: the same pods as dicts, the "
            "baseline of the memory target.",
            "The diagnostic row waits 3 s after sync with 1-second watches, so the "
            "reflector has finished its first watch and started the next one before "
            "memory is read; see the analysis for why that matters.",
            "client-go rows: Go's live heap (`runtime.MemStats.HeapAlloc` right after "
            "`runtime.GC()`, the informer running and its store held) minus the same just "
            "before `factory.Start`, median over the timed processes (no tracing needed). "
            "client-go v0.20.2 has no transform hook, so its cache keeps managedFields like "
            "`strip_managed_fields=False`.",
        ],
    )
    setup = Section(
        title="Cluster run of the informer benchmark",
        headers=["phase", "seconds"],
        rows=[[phase, f"{value:.1f}"] for phase, value in phases.items()],
        notes=[f"Cluster stopped and its folder deleted at the end: "
               f"{'yes' if torn_down else 'NO'}."],
    )
    targets = [
        Target(name=f"informer synced vs raw list ({label})", goal=f"≤ {SYNC_TARGET:.1f}×",
               measured=f"{medians[name] / raw_s:.2f}× ({medians[name]:.3f} s vs "
                        f"{raw_s:.3f} s)",
               passed=medians[name] / raw_s <= SYNC_TARGET)
        for label, name in (("strip_managed_fields=True", KCG_STRIP),
                            ("strip_managed_fields=False", KCG_KEEP))
    ]
    targets.append(Target(
        name="informer cache memory vs json.loads dicts (managedFields stripped)",
        goal=f"≤ {MEMORY_TARGET:.1f}×",
        measured=f"{retained[KCG_STRIP] / raw_mem:.2f}× ({retained[KCG_STRIP] / 1e6:.1f} MB "
                 f"vs {raw_mem / 1e6:.1f} MB) at sync",
        passed=retained[KCG_STRIP] / raw_mem <= MEMORY_TARGET))
    targets += _clientgo_targets(medians, retained, go_heap, build)
    return Outcome(sections=[speed, space, setup], targets=targets)


def _not_built(build: clientgo.Build, width: int) -> list[list[str]]:
    if build.binary is not None:
        return []
    return [[name, "not built", *(["—"] * (width - 3)), build.detail] for name in GO_PEERS]


def _clientgo_note(build: clientgo.Build) -> str:
    if build.binary is None:
        return f"client-go was not measured: {build.detail}."
    return (f"client-go ({build.detail}): one fresh Go process per round, like the "
            "Python contenders; it lists with `resourceVersion=0&limit=500` as kubecodegen "
            "does, Go's transport asks for gzip. Time from `factory.Start` until "
            "`HasSynced()`, polled every 1 ms (client-go's own `WaitForCacheSync` polls every "
            "100 ms, which would round each number up).")


def _clientgo_targets(medians: dict[str, float], retained: dict[str, int],
                      go_heap: dict[str, float], build: clientgo.Build) -> list[Target]:
    """Issue 10 item 7: kubecodegen's informer against client-go protobuf, same pods."""
    variants = (("strip_managed_fields=False", KCG_KEEP), ("strip_managed_fields=True", KCG_STRIP))
    if GO_REFERENCE not in go_heap:
        reason = f"client-go not built: {build.detail}"
        return [Target(name=f"informer synced vs {GO_REFERENCE}", goal="≤ 1.00×",
                       measured=reason, passed=None),
                Target(name=f"informer cache memory vs {GO_REFERENCE} live heap",
                       goal=f"≤ {CLIENTGO_MEMORY_TARGET:.2f}×", measured=reason, passed=None)]
    go_s, go_mem = medians[GO_REFERENCE], go_heap[GO_REFERENCE]
    targets = [
        Target(name=f"informer synced vs {GO_REFERENCE} ({label})",
               goal=f"≤ {CLIENTGO_SYNC_TARGET:.2f}×",
               measured=f"{medians[name] / go_s:.2f}× ({medians[name]:.3f} s vs {go_s:.3f} s)",
               passed=medians[name] / go_s <= CLIENTGO_SYNC_TARGET)
        for label, name in variants
    ]
    targets += [
        Target(name=f"informer cache memory vs {GO_REFERENCE} live heap ({label})",
               goal=f"≤ {CLIENTGO_MEMORY_TARGET:.2f}×",
               measured=f"{retained[name] / go_mem:.2f}× ({retained[name] / 1e6:.1f} MB vs "
                        f"{go_mem / 1e6:.1f} MB)",
               passed=retained[name] / go_mem <= CLIENTGO_MEMORY_TARGET)
        for label, name in variants
    ]
    return targets


if __name__ == "__main__":
    _worker_main()
