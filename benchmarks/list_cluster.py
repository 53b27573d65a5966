"""Typed list of 3000 pods from a real kube-apiserver: kubecodegen vs raw GET, lightkube, kubernetes.

The decode benchmark compares decoders on bytes already in memory; this one measures what
a user waits for: one ``list`` call against the harness cluster (TLS, bearer token, the
server encoding the list, transfer, decompression, decode). All contenders run in one
process against the same namespace, interleaved, so a busy moment of the shared machine
(which also runs etcd and kube-apiserver) hits them alike.

Each contender is called the way its documentation shows, with one page and no limit:

* raw: ``httpx.Client.get`` on the list path + ``json.loads`` (TLS and token set up as
  the harness does), the floor any client is compared with;
* kubecodegen: ``Clientset.from_kubeconfig(...).core_v1.pods(ns).list()``;
* lightkube 1.0.1: ``list(Client(KubeConfig.from_file(...)).list(Pod, namespace=ns))``;
  its ``chunk_size`` defaults to ``None``, which sends no ``limit``, so one request
  returns every pod (checked below by counting the requests);
* kubernetes 37.0.2: ``load_kube_config(config_file=...)`` then
  ``CoreV1Api().list_namespaced_pod(ns)``;
* client-go v0.20.2 (the one kube-apiserver v1.20.2 vendors), JSON and protobuf:
  ``clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})`` in a long-lived Go
  process (:mod:`benchmarks.clientgo`), timed inside that process around the call.

Diagnostic rows split the raw GET into transfer and decode, with and without the gzip
compression that kube-apiserver applies when a client (every httpx client) asks for it.
"""

from __future__ import annotations

import gc
import importlib
import json
import sys
import time
import tracemalloc
import zlib
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ROOT, Context, Outcome, Section, Target, clientgo, interleaved, median, spread
from .podload import WORKERS, load_pods, pod_bodies

PACKAGE = "kube_v1_20"
RAW = "httpx GET + json.loads"
KCG = "kubecodegen Clientset → PodList"
LIGHTKUBE = "lightkube 1.0.1"
KUBERNETES = "kubernetes 37.0.2"
GET_ONLY = "diagnostic: httpx GET, body only (no decode)"
IDENTITY = "diagnostic: httpx GET uncompressed + json.loads"
IDENTITY_GET_ONLY = "diagnostic: httpx GET uncompressed, body only"
LOADS_ONLY = "diagnostic: json.loads of the body in memory"
DECODE_ONLY = "diagnostic: kubecodegen codec.decode of the body in memory"
DECODE_NO_GC = "diagnostic: the same decode with the garbage collector paused"
RAW_TARGET = 1.5
LIGHTKUBE_TARGET = 0.6
TIMEOUT = 60.0

Names = Callable[[Any], list[str]]


def _dict_names(result: Any) -> list[str]:
    return [item["metadata"]["name"] for item in result["items"]]


def _typed_names(result: Any) -> list[str]:
    return [pod.metadata.name for pod in result.items]


def _iter_names(result: Any) -> list[str]:
    return [pod.metadata.name for pod in result]


@dataclass
class Contender:
    """A timed call, how to read pod names from its result, and what it sent and got."""

    call: Callable[[], Any]
    names: Names | None = None  # None: a diagnostic whose result holds no pods
    diagnostic: bool = False
    requests: list[tuple[str, str]] = field(default_factory=list)  # (query, content-encoding)
    #: The response cell when the client reports it itself (client-go: format and gzip).
    served: str | None = None
    #: Times measured by the contender itself, one per call, in call order (client-go).
    own_times: list[float] | None = None


@dataclass
class GoPeers:
    """The client-go list contenders of this run, or why there are none."""

    build: clientgo.Build
    servers: dict[str, clientgo.ListServer] = field(default_factory=dict)  # by label
    memory: dict[str, dict[str, Any]] = field(default_factory=dict)  # by label


def _go_contenders(cluster: Any, namespace: str, pods: int, stack: ExitStack
                   ) -> tuple[GoPeers, dict[str, Contender]]:
    """One long-lived list process per wire format, when the program is built."""
    peers = GoPeers(build=clientgo.locate())
    if peers.build.binary is None:
        return peers, {}
    line = clientgo.settings(cluster.server, str(cluster.ca_file), cluster.admin_token,
                             namespace, pods)
    contenders = {}
    for format_ in clientgo.FORMATS:
        name = clientgo.label(format_)
        server = stack.enter_context(clientgo.ListServer(peers.build.binary, format_, line))
        peers.servers[name] = server
        contenders[name] = _go_contender(server)
    return peers, contenders


def _go_contender(server: clientgo.ListServer) -> Contender:
    own: list[float] = []

    def call() -> dict[str, Any]:
        answer = server.list()
        own.append(float(answer["seconds"]))
        return answer

    def names(answer: dict[str, Any]) -> list[str]:
        contender.served = clientgo.served_as(answer["requests"])
        contender.requests = [(r["query"], "gzip" if r["gzip"] else "identity")
                              for r in answer["requests"]]
        return list(answer["names"])

    contender = Contender(call, names, own_times=own)
    return contender


def _record_responses(client: Any, seen: list[tuple[str, str]]) -> Callable[[], None]:
    """Log query and Content-Encoding of each response an httpx-style client receives.

    Used only while verifying (never while timing); returns the function that removes
    the hook again.
    """
    saved = {name: list(hooks) for name, hooks in client.event_hooks.items()}

    def record(response: Any) -> None:
        seen.append((str(response.request.url.params),
                     response.headers.get("content-encoding", "identity")))

    client.event_hooks = {**saved, "response": [*saved.get("response", []), record]}
    return lambda: setattr(client, "event_hooks", saved)


def _raw_client(server: str, ca_file: Path, token: str) -> Any:
    """httpx with the same TLS verification, token and loopback rules as the harness client."""
    harness = importlib.import_module("tests.harness.bootstrap")
    return harness.api_client(server, ca_file, token)


@dataclass(frozen=True)
class Wire:
    """The list response as the server sends it: JSON size and size on the wire with gzip."""

    json_bytes: int
    gzip_bytes: int
    gzip_used: bool


def _private(obj: Any, *path: str) -> Any:
    """Follow private attributes to a library's httpx client, for request logging only;
    ``None`` when a library version lays itself out differently."""
    for name in path:
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


def _contenders(cluster: Any, namespace: str, body: bytes, stack: ExitStack
                ) -> tuple[dict[str, Contender], dict[str, Any], Callable[[], str]]:
    """Every timed call (clients created once, closed by ``stack``); for each httpx-based
    contender the client whose responses can be logged; and a probe for the encoding the
    kubernetes client receives (urllib3 has no response hooks)."""
    path = f"/api/v1/namespaces/{namespace}/pods"
    kubeconfig = str(cluster.admin_kubeconfig)
    raw = stack.enter_context(_raw_client(cluster.server, cluster.ca_file, cluster.admin_token))

    clientset = importlib.import_module(PACKAGE).Clientset.from_kubeconfig(kubeconfig)
    stack.callback(clientset.close)
    codec = importlib.import_module("kubecodegen_runtime.codec")
    pod_list = importlib.import_module(f"{PACKAGE}.models.core_v1").PodList

    lightkube = importlib.import_module("lightkube")
    lk_kubeconfig = importlib.import_module("lightkube.config.kubeconfig")
    lk_pod = importlib.import_module("lightkube.resources.core_v1").Pod
    lk_client = lightkube.Client(lk_kubeconfig.KubeConfig.from_file(kubeconfig),
                                 timeout=importlib.import_module("httpx2").Timeout(TIMEOUT),
                                 trust_env=False)
    stack.callback(lk_client.close)

    k8s_client = importlib.import_module("kubernetes.client")
    configuration = k8s_client.Configuration()
    importlib.import_module("kubernetes.config").load_kube_config(
        config_file=kubeconfig, client_configuration=configuration)
    api_client = k8s_client.ApiClient(configuration)
    stack.callback(api_client.close)
    core = k8s_client.CoreV1Api(api_client)

    identity = {"Accept-Encoding": "identity"}
    contenders = {
        RAW: Contender(lambda: json.loads(raw.get(path).content), _dict_names),
        KCG: Contender(lambda: clientset.core_v1.pods(namespace).list(), _typed_names),
        LIGHTKUBE: Contender(lambda: list(lk_client.list(lk_pod, namespace=namespace)),
                             _iter_names),
        KUBERNETES: Contender(lambda: core.list_namespaced_pod(namespace), _typed_names),
        GET_ONLY: Contender(lambda: raw.get(path).content, diagnostic=True),
        IDENTITY: Contender(lambda: json.loads(raw.get(path, headers=identity).content),
                            _dict_names, diagnostic=True),
        IDENTITY_GET_ONLY: Contender(lambda: raw.get(path, headers=identity).content,
                                     diagnostic=True),
        LOADS_ONLY: Contender(lambda: json.loads(body), _dict_names, diagnostic=True),
        DECODE_ONLY: Contender(lambda: codec.decode(body, pod_list), _typed_names,
                               diagnostic=True),
        DECODE_NO_GC: Contender(_gc_paused(lambda: codec.decode(body, pod_list)),
                                _typed_names, diagnostic=True),
    }
    hookable = {
        RAW: raw, GET_ONLY: raw, IDENTITY: raw, IDENTITY_GET_ONLY: raw,
        KCG: _private(clientset, "rest", "_transport", "_client"),
        LIGHTKUBE: _private(lk_client, "_client", "_client"),
    }

    def kubernetes_encoding() -> str:
        response = core.list_namespaced_pod(namespace, _preload_content=False)
        try:
            response.read()  # all of it, so the connection goes back to the pool clean
            return str(response.headers.get("Content-Encoding", "identity"))
        finally:
            response.release_conn()

    return contenders, {k: v for k, v in hookable.items() if v is not None}, kubernetes_encoding




def _gc_paused(call: Callable[[], Any]) -> Callable[[], Any]:
    """``call`` with the collector off while it runs: shows the collector's share."""

    def paused() -> Any:
        gc.disable()
        try:
            return call()
        finally:
            gc.enable()

    return paused


def _get_phases(cluster: Any, namespace: str, samples: int = 5) -> Section:
    """Split a raw GET into server time (until the headers), the body's transfer and gunzip."""
    path = f"/api/v1/namespaces/{namespace}/pods"
    rows = []
    with _raw_client(cluster.server, cluster.ca_file, cluster.admin_token) as client:
        for label, headers in (("gzip (httpx's default)", {}),
                               ("uncompressed", {"Accept-Encoding": "identity"})):
            first: list[float] = []
            rest: list[float] = []
            inflate: list[float] = []
            for _ in range(samples):
                gc.collect()
                start = time.perf_counter()
                with client.stream("GET", path, headers=headers) as response:
                    headers_at = time.perf_counter()
                    data = b"".join(response.iter_raw())
                    read_at = time.perf_counter()
                if response.headers.get("content-encoding") == "gzip":
                    data = zlib.decompress(data, 16 + zlib.MAX_WBITS)
                done = time.perf_counter()
                first.append(headers_at - start)
                rest.append(read_at - headers_at)
                inflate.append(done - read_at)
            rows.append([label, f"{median(first):.3f}", f"{median(rest):.3f}",
                         f"{median(inflate):.3f}", f"{len(data) / 1e6:.1f}"])
    return Section(
        title="Where a raw GET of the pod list spends its time",
        headers=["response", "until headers s", "rest of the body s", "gunzip s", "JSON MB"],
        rows=rows,
        notes=[f"Median of {samples} streamed GETs each, after the timed rounds. Until the "
               "headers arrive is server time (kube-apiserver lists from its watch cache and "
               "encodes the JSON, and gzips it when asked) plus one loopback round trip; "
               "no client can go below it. The body follows in a fraction of that."],
    )


def _observe(contenders: dict[str, Contender], hookable: dict[str, Any],
             expected: list[str]) -> None:
    """Call each contender once, outside the clock: it must return exactly the
    ``expected`` pod names, and the requests httpx-based ones send are logged."""
    for name, contender in contenders.items():
        undo = _record_responses(hookable[name], contender.requests) if name in hookable else None
        try:
            result = contender.call()
        finally:
            if undo is not None:
                undo()
        if contender.names is not None:
            got = sorted(contender.names(result))
            if got != expected:
                missing = len(set(expected) - set(got))
                raise RuntimeError(f"{name} listed {len(got)} pods ({missing} of the "
                                   f"{len(expected)} created are missing)")
        del result


def _fetch(cluster: Any, namespace: str) -> tuple[bytes, Wire]:
    """The list body once, compressed and not: the in-memory diagnostics decode it."""
    path = f"/api/v1/namespaces/{namespace}/pods"
    with _raw_client(cluster.server, cluster.ca_file, cluster.admin_token) as client:
        compressed = client.get(path)
        compressed.raise_for_status()
        plain = client.get(path, headers={"Accept-Encoding": "identity"})
        plain.raise_for_status()
    wire = Wire(json_bytes=len(plain.content), gzip_bytes=compressed.num_bytes_downloaded,
                gzip_used=compressed.headers.get("content-encoding") == "gzip")
    return plain.content, wire


def _response(contender: Contender, wire: Wire, kubernetes_encoding: str | None) -> tuple[str, str]:
    """The 'response' and 'requests' cells of a row."""
    if kubernetes_encoding is not None:
        encodings, count = [kubernetes_encoding], "1 (no limit argument)"
    elif contender.served is not None:
        queries = sorted({query or "no query" for query, _ in contender.requests})
        return contender.served, f"{len(contender.requests)} ({', '.join(queries)})"
    elif contender.requests:
        encodings = [encoding for _, encoding in contender.requests]
        queries = sorted({query or "no query" for query, _ in contender.requests})
        count = f"{len(contender.requests)} ({', '.join(queries)})"
    else:
        return "— (body in memory)", "0"
    cells = []
    for encoding in sorted(set(encodings)):
        size = wire.gzip_bytes if encoding == "gzip" else wire.json_bytes
        cells.append(f"{encoding}, {size / 1e6:.1f} MB")
    return "; ".join(cells), count


def _table(contenders: dict[str, Contender], times: dict[str, list[float]],
           wire: Wire, k8s_encoding: str, pods: int) -> list[list[str]]:
    medians = {name: median(values) for name, values in times.items()}
    base = medians[RAW]
    order = sorted(contenders, key=lambda n: (contenders[n].diagnostic, medians[n]))
    rows = []
    for name in order:
        response, requests = _response(contenders[name], wire,
                                       k8s_encoding if name == KUBERNETES else None)
        rows.append([name, f"{medians[name]:.3f}", spread(times[name]),
                     f"{medians[name] / base:.2f}×", f"{pods / medians[name]:,.0f}",
                     response, requests])
    return rows


def run(ctx: Context) -> Outcome:
    """Start a cluster, create the sample's pods, time the lists, tear everything down."""
    if str(ROOT) not in sys.path:  # the harness lives in the checkout's tests/ package
        sys.path.insert(0, str(ROOT))
    harness = importlib.import_module("tests.harness.cluster")
    phases: dict[str, float] = {}
    clock = time.perf_counter()
    with harness.TestCluster() as cluster:
        phases["start etcd + kube-apiserver"] = time.perf_counter() - clock
        version = cluster.version
        clock = time.perf_counter()
        namespace = cluster.create_namespace(harness.unique_name("bench-list-pods"))
        bodies = pod_bodies(ctx.sample, namespace)
        load_pods(cluster.server, cluster.ca_file, cluster.admin_token, namespace, bodies)
        phases[f"create {len(bodies)} pods ({WORKERS} clients)"] = time.perf_counter() - clock
        expected = sorted(json.loads(body)["metadata"]["name"] for body in bodies)
        del bodies
        clock = time.perf_counter()
        with ExitStack() as stack:
            body, wire = _fetch(cluster, namespace)
            contenders, hookable, kubernetes_encoding = _contenders(cluster, namespace, body,
                                                                    stack)
            peers, go = _go_contenders(cluster, namespace, len(expected), stack)
            contenders.update(go)
            _observe(contenders, hookable, expected)
            k8s_encoding = kubernetes_encoding()
            phases["set up clients, verify every contender"] = time.perf_counter() - clock
            clock = time.perf_counter()
            times = interleaved({name: c.call for name, c in contenders.items()},
                                rounds=ctx.rounds, warmup=ctx.warmup)
            for name, contender in contenders.items():
                if contender.own_times is not None:  # the pipe is not part of the number
                    times[name] = contender.own_times[-ctx.rounds:]
            phases["timed rounds"] = time.perf_counter() - clock
            clock = time.perf_counter()
            memory = _memory(contenders[KCG], peers)
            phases["memory: one list each, held"] = time.perf_counter() - clock
            del body
        get_phases = _get_phases(cluster, namespace)
        clock = time.perf_counter()
        folder = cluster.directory
    phases["stop the cluster, delete its files"] = time.perf_counter() - clock
    torn_down = not folder.exists() and not any(p.running for p in cluster.processes)
    outcome = _outcome(ctx, contenders, times, wire, k8s_encoding, len(expected), version,
                       phases, torn_down)
    outcome.sections[0].rows += _not_built_rows(peers)
    outcome.sections[0].notes += _peer_notes(times, peers)
    outcome.sections.insert(1, _memory_section(memory, peers, len(expected)))
    outcome.sections.insert(1, get_phases)
    return outcome


def _memory(kubecodegen: Contender, peers: GoPeers) -> dict[str, int]:
    """Bytes held by one list result: kubecodegen under tracemalloc (after a full
    collection, result alive), client-go as Go's live heap after a forced GC."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    result = kubecodegen.call()
    gc.collect()
    held = {KCG: tracemalloc.get_traced_memory()[0] - before}
    tracemalloc.stop()
    del result
    for name, server in peers.servers.items():
        answer = server.list(memory=True)
        peers.memory[name] = answer
        held[name] = int(answer["live_heap"])
    return held


def _memory_section(held: dict[str, int], peers: GoPeers, pods: int) -> Section:
    rows = []
    for name, size in held.items():
        peak = peers.memory.get(name, {}).get("peak_rss")
        rows.append([name, f"{size / 1e6:.1f}", f"{size / pods / 1024:.1f}",
                     f"{peak / 1e6:.0f}" if peak else "—"])
    if peers.build.binary is None:
        rows += [[clientgo.label(f), "not built", "—", "—"] for f in clientgo.FORMATS]
    return Section(
        title=f"Memory held by one typed list of {pods} pods",
        headers=["client", "held MB", "KiB per pod", "process peak RSS MB"],
        rows=rows,
        notes=[
            "One list each, after the timed rounds, its result still referenced. "
            "kubecodegen: bytes allocated during the call still live after a full collection "
            "(tracemalloc; the benchmark process's peak RSS covers every Python contender, "
            "so none is shown). client-go: Go's live heap (`runtime.MemStats.HeapAlloc` right "
            "after `runtime.GC()`) minus the same before the call; peak RSS is the Go "
            "process's VmHWM over all its rounds.",
        ],
    )


def _not_built_rows(peers: GoPeers) -> list[list[str]]:
    if peers.build.binary is not None:
        return []
    return [[clientgo.label(f), "not built", "—", "—", "—", peers.build.detail, "—"]
            for f in clientgo.FORMATS]


def _peer_notes(times: dict[str, list[float]], peers: GoPeers) -> list[str]:
    if peers.build.binary is None:
        return [f"client-go was not measured: {peers.build.detail}."]
    kcg = median(times[KCG])
    ratios = ", ".join(f"{kcg / median(times[name]):.2f}× {name}" for name in peers.servers)
    return [
        f"client-go ({peers.build.detail}) runs in its own Go process, one per wire format, "
        "clientset made once; each call is `Pods(ns).List` with no limit, timed inside the "
        "Go process (the pipe to this one is not counted; a forced GC before each call, as "
        "the Python contenders get a full collection). Go's HTTP transport asks for gzip "
        f"itself. kubecodegen's typed list takes {ratios}.",
    ]


def _outcome(ctx: Context, contenders: dict[str, Contender], times: dict[str, list[float]],
             wire: Wire, k8s_encoding: str, pods: int, version: str,
             phases: dict[str, float], torn_down: bool) -> Outcome:
    medians = {name: median(values) for name, values in times.items()}
    kcg, raw, lk = medians[KCG], medians[RAW], medians[LIGHTKUBE]
    compression = (f"gzip {wire.gzip_bytes / 1e6:.2f} MB on the wire" if wire.gzip_used
                   else "the server did not compress")
    timing = Section(
        title=f"List of {pods} pods from kube-apiserver {version} "
              f"({wire.json_bytes / 1e6:.1f} MB JSON; {compression})",
        headers=["client", "median s", "range s", "vs raw GET", "pods/s",
                 "response (encoding, bytes on the wire)", "requests per list"],
        rows=_table(contenders, times, wire, k8s_encoding, pods),
        notes=[
            f"Median of {ctx.rounds} interleaved rounds after {ctx.warmup} warm-up round(s), "
            "one process, clients created once (connections kept alive); before each call "
            "the previous result is freed and a full collection runs (not timed). The "
            "garbage collector is enabled during the call. etcd and kube-apiserver run on "
            "the same 2 cores.",
            f"Every contender returned exactly the {pods} pod names created (checked once "
            "before timing). Requests per list were logged on each httpx client during that "
            "check: lightkube's `list(Pod, namespace=ns)` has `chunk_size=None` by default, "
            "which sends no `limit`, so it already fetches everything in one request; "
            "nothing was changed. The kubernetes client was called without `limit`.",
            "httpx (and lightkube's httpx2) send `Accept-Encoding: gzip, deflate` by "
            "default, and kube-apiserver then gzips large responses; urllib3 under the "
            "kubernetes client does not ask, so it gets the JSON uncompressed. Each client "
            "runs with its own defaults; the uncompressed diagnostic rows show what the "
            "compression costs on loopback.",
            "Pods: the sample's name, labels, annotations and spec, created in a fresh "
            "namespace with `automountServiceAccountToken: false`; the server adds uid, "
            "resourceVersion, timestamps, managedFields and status (Pending: no scheduler).",
        ],
    )
    setup = Section(
        title="Cluster run of the list benchmark",
        headers=["phase", "seconds"],
        rows=[[phase, f"{seconds:.1f}"] for phase, seconds in phases.items()],
        notes=[f"Cluster stopped and its folder deleted at the end: "
               f"{'yes' if torn_down else 'NO'}."],
    )
    targets = [
        Target(name="typed pod list vs raw httpx GET + json.loads",
               goal=f"≤ {RAW_TARGET:.2f}×",
               measured=f"{kcg / raw:.2f}× ({kcg:.3f} s vs {raw:.3f} s)",
               passed=kcg / raw <= RAW_TARGET),
        Target(name="typed pod list vs lightkube 1.0.1",
               goal=f"≤ {LIGHTKUBE_TARGET:.2f}×",
               measured=f"{kcg / lk:.2f}× ({kcg:.3f} s vs {lk:.3f} s)",
               passed=kcg / lk <= LIGHTKUBE_TARGET),
    ]
    return Outcome(sections=[timing, setup], targets=targets)
