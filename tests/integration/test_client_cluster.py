"""Typed generic clients against the real kube-apiserver (sync and async)."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubecodegen_runtime.client import RESTClient
from kubecodegen_runtime.client._sync.stream import EventStream
from kubecodegen_runtime.errors import (
    AlreadyExists,
    ApiError,
    Conflict,
    Invalid,
    NotFound,
    ResourceExpired,
    Status,
    UnsupportedMediaType,
)
from kubecodegen_runtime.rest.options import PatchType, Preconditions
from kubecodegen_runtime.watch import Bookmark, WatchEvent
from tests.harness.cluster import TestCluster

from .rest_helpers import (
    AsyncConfigMaps,
    AsyncDeployments,
    Binding,
    CertificateSigningRequest,
    CertificateSigningRequests,
    ConfigMap,
    ConfigMapList,
    ConfigMaps,
    Deployments,
    EphemeralContainers,
    Eviction,
    Namespaces,
    ObjectMeta,
    Pods,
    Scale,
    ScaleSpec,
    ServiceAccounts,
    TokenRequest,
    admin_config,
    deployment,
    pod,
)


@pytest.fixture
def rest(cluster: TestCluster) -> Iterator[RESTClient]:
    with RESTClient(admin_config(cluster)) as client:
        yield client


def cm(name: str, labels: dict[str, str] | None = None, **data: str) -> ConfigMap:
    return ConfigMap(metadata=ObjectMeta(name=name, labels=labels), data=data or None)


def test_crud(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    created = cms.create(cm("a", k="v"))
    assert isinstance(created, ConfigMap) and created.metadata is not None
    assert created.metadata.namespace == namespace and created.metadata.uid
    got = cms.get("a")
    assert got.data == {"k": "v"} and got.metadata is not None
    assert got.metadata.resource_version == created.metadata.resource_version
    got.data = {"k": "v2"}
    updated = cms.update(got)
    assert updated.data == {"k": "v2"}
    listed = cms.list()
    assert isinstance(listed, ConfigMapList) and [c.metadata.name for c in listed.items
                                                  if c.metadata] == ["a"]
    result = cms.delete("a")
    assert isinstance(result, (Status, ConfigMap))
    with pytest.raises(NotFound) as info:
        cms.get("a")
    assert info.value.details is not None and info.value.details.name == "a"


def test_binary_data_round_trips(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    payload = bytes(range(256))
    cms.create(ConfigMap(metadata=ObjectMeta(name="bin"), binary_data={"b": payload}))
    assert cms.get("bin").binary_data == {"b": payload}


def test_list_all_follows_continue_tokens(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    names = [f"page-{i:02d}" for i in range(7)]
    for name in names:
        cms.create(cm(name, labels={"set": "paging"}))
    cms.create(cm("other"))
    first = cms.list(limit=3, label_selector="set=paging")
    assert len(first.items) == 3 and first.metadata is not None and first.metadata.continue_
    second = cms.list(limit=3, continue_=first.metadata.continue_, label_selector="set=paging")
    assert [c.metadata.name for c in second.items if c.metadata] == names[3:6]
    every = [c.metadata.name for c in cms.list_all(page_size=2, label_selector="set=paging")
             if c.metadata]
    assert every == names


def test_list_all_with_watch_list_lists_in_pages_on_a_server_without_it(
        rest: RESTClient, namespace: str) -> None:
    """kube-apiserver 1.20 refuses the watch-list (422): list_all pages instead, quietly."""
    cms = ConfigMaps(rest, namespace)
    names = [f"wl-{i:02d}" for i in range(5)]
    for name in names:
        cms.create(cm(name))
    every = [c.metadata.name for c in cms.list_all(page_size=2, watch_list=True) if c.metadata]
    assert every == names


def test_all_namespaces_view(rest: RESTClient, namespace: str, cluster: TestCluster) -> None:
    other = cluster.create_namespace()
    ConfigMaps(rest, namespace).create(cm("x", labels={"spread": namespace}))
    ConfigMaps(rest, other).create(cm("y", labels={"spread": namespace}))
    listed = ConfigMaps.all_namespaces(rest).list(label_selector=f"spread={namespace}")
    found = sorted((c.metadata.namespace, c.metadata.name) for c in listed.items if c.metadata)
    assert found == sorted([(namespace, "x"), (other, "y")])


def test_cluster_scoped_resource(rest: RESTClient, namespace: str) -> None:
    ns = Namespaces(rest).get(namespace)
    assert ns.metadata is not None and ns.metadata.name == namespace and ns.kind == "Namespace"


def collect(stream: EventStream[WatchEvent[ConfigMap] | Bookmark], count: int,
            ) -> list[WatchEvent[ConfigMap] | Bookmark]:
    out: list[WatchEvent[ConfigMap] | Bookmark] = []
    with stream:
        for event in stream:
            out.append(event)
            if len(out) == count:
                break
    return out


def test_watch_from_resource_version(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    start = cms.list().metadata
    assert start is not None and start.resource_version
    cms.create(cm("w", k="1"))
    cms.patch("w", {"data": {"k": "2"}})
    cms.delete("w")
    events = collect(cms.watch(resource_version=start.resource_version, timeout_seconds=20), 3)
    assert [(e.type, e.object.data) for e in events if isinstance(e, WatchEvent)] == [
        ("ADDED", {"k": "1"}), ("MODIFIED", {"k": "2"}), ("DELETED", {"k": "2"})]


def test_watch_bookmarks(rest: RESTClient, namespace: str, cluster: TestCluster) -> None:
    cms = ConfigMaps(rest, namespace)
    start = cms.list().metadata
    assert start is not None and start.resource_version
    # Changes this watch filters out (another namespace) move the server past the watch's
    # resourceVersion; the watch cache reports that progress with a bookmark shortly before
    # the watch's deadline. A bounded writer keeps such changes coming during the watch.
    elsewhere = ConfigMaps(rest, cluster.create_namespace())
    written: list[int] = []

    def write_elsewhere() -> None:
        for i in range(12):
            made = elsewhere.create(cm(f"progress-{i}")).metadata
            assert made is not None and made.resource_version
            written.append(int(made.resource_version))
            time.sleep(0.4)

    writer = threading.Thread(target=write_elsewhere)
    writer.start()
    seen: list[WatchEvent[ConfigMap] | Bookmark] = []
    try:
        with cms.watch(resource_version=start.resource_version, allow_watch_bookmarks=True,
                       timeout_seconds=6) as stream:
            seen.extend(stream)
    finally:
        writer.join()
    assert seen and all(isinstance(e, Bookmark) for e in seen), seen
    last = seen[-1]
    assert isinstance(last, Bookmark) and int(last.resource_version) in written


def test_watch_closes_the_stream_when_closed(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    cms.create(cm("c"))
    started = time.monotonic()
    stream = cms.watch(timeout_seconds=60)
    first = next(stream)
    stream.close()
    assert isinstance(first, WatchEvent) and first.type == "ADDED"
    assert time.monotonic() - started < 10
    with pytest.raises(StopIteration):
        next(stream)


def test_expired_resource_version_raises_resource_expired(private_cluster: TestCluster) -> None:
    namespace = private_cluster.create_namespace()
    with RESTClient(admin_config(private_cluster)) as private_rest:
        cms = ConfigMaps(private_rest, namespace)
        old = cms.create(cm("e0")).metadata
        assert old is not None and old.resource_version
        for i in range(1, 4):
            cms.create(cm(f"e{i}"))
        private_cluster.compact()
        with pytest.raises(ResourceExpired) as watched:
            for _ in cms.watch(resource_version=old.resource_version, timeout_seconds=10):
                pass
        assert watched.value.status == 410
        with pytest.raises(ResourceExpired) as listed:
            cms.list(resource_version=old.resource_version, resource_version_match="Exact")
        assert listed.value.status == 410


def test_already_exists_and_stale_update_conflict(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    first = cms.create(cm("dup", k="1"))
    with pytest.raises(AlreadyExists) as exists:
        cms.create(cm("dup"))
    assert exists.value.status == 409 and not isinstance(exists.value, Conflict)
    fresh = cms.get("dup")
    fresh.data = {"k": "2"}
    cms.update(fresh)
    first.data = {"k": "stale"}
    with pytest.raises(Conflict) as conflict:
        cms.update(first)
    assert conflict.value.status == 409 and conflict.value.reason == "Conflict"


def test_invalid_object_lists_field_causes(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    with pytest.raises(Invalid) as info:
        cms.create(cm("Not_A_Valid_Name"))
    fields = {cause.field for cause in info.value.causes}
    assert "metadata.name" in fields and info.value.status == 422


@pytest.mark.parametrize(
    ("patch_type", "body", "expected"),
    [
        (PatchType.JSON, [{"op": "replace", "path": "/data/a", "value": "j"}], {"a": "j", "b": "1"}),
        (PatchType.MERGE, {"data": {"a": None, "c": "m"}}, {"b": "1", "c": "m"}),
        (PatchType.STRATEGIC, {"data": {"a": "s"}}, {"a": "s", "b": "1"}),
        ("merge", b'{"data":{"b":"raw"}}', {"a": "1", "b": "raw"}),
    ],
)
def test_patch_types(rest: RESTClient, namespace: str, patch_type: PatchType | str,
                     body: Any, expected: dict[str, str]) -> None:
    cms = ConfigMaps(rest, namespace)
    cms.create(cm("p", a="1", b="1"))
    patched = cms.patch("p", body, patch_type=patch_type)
    assert patched.data == expected
    assert cms.get("p").data == expected


def test_strategic_merge_on_a_containers_list(rest: RESTClient, namespace: str) -> None:
    deps = Deployments(rest, namespace)
    dep = deployment("sm")
    assert dep.spec is not None
    dep.spec["template"]["spec"]["containers"].append({"name": "side", "image": "x.invalid/s:1"})
    deps.create(dep)
    body = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x.invalid/c:2"}]}}}}
    patched = deps.patch("sm", body, patch_type="strategic")
    assert patched.spec is not None
    containers = patched.spec["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("c", "x.invalid/c:2"),
                                                             ("side", "x.invalid/s:1")]


def test_unknown_patch_media_type_is_unsupported(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    cms.create(cm("m"))
    with pytest.raises(UnsupportedMediaType):
        rest.patch(f"/api/v1/namespaces/{namespace}/configmaps/m", b"{}",
                   content_type="application/x-unknown-patch")


def test_server_side_apply_conflict_and_force(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    applied = cms.apply(cm("ssa", k="alice"), field_manager="alice")
    assert applied.data == {"k": "alice"} and applied.kind == "ConfigMap"
    with pytest.raises(Conflict) as info:
        cms.apply(cm("ssa", k="bob"), field_manager="bob")
    assert info.value.status == 409 and info.value.causes
    assert any(cause.field == ".data.k" for cause in info.value.causes)
    forced = cms.apply(cm("ssa", k="bob"), field_manager="bob", force=True)
    assert forced.data == {"k": "bob"}
    assert forced.metadata is not None and forced.metadata.managed_fields is not None
    managers = {entry["manager"] for entry in forced.metadata.managed_fields}
    assert "bob" in managers
    patched = cms.patch("ssa", cm("ssa", k="carol"), patch_type=PatchType.APPLY,
                        field_manager="carol", force=True)
    assert patched.data == {"k": "carol"}


def test_dry_run_changes_nothing(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    ghost = cms.create(cm("ghost", k="v"), dry_run=True)
    assert ghost.data == {"k": "v"}
    with pytest.raises(NotFound):
        cms.get("ghost")
    cms.create(cm("real", k="v"))
    cms.delete("real", dry_run=True)
    cms.patch("real", {"data": {"k": "dry"}}, dry_run=True)
    assert cms.get("real").data == {"k": "v"}


def test_delete_with_preconditions_and_collection(rest: RESTClient, namespace: str) -> None:
    cms = ConfigMaps(rest, namespace)
    made = cms.create(cm("pre"))
    assert made.metadata is not None
    with pytest.raises(Conflict):
        cms.delete("pre", preconditions=Preconditions(uid="00000000-0000-0000-0000-000000000000"))
    cms.delete("pre", preconditions=Preconditions(uid=made.metadata.uid),
               propagation_policy="Background", grace_period_seconds=0)
    for i in range(4):
        cms.create(cm(f"gone-{i}", labels={"batch": "x"}))
    cms.create(cm("stays"))
    cms.delete_collection(label_selector="batch=x")
    assert [c.metadata.name for c in cms.list().items if c.metadata] == ["stays"]


def test_scale_and_status_subresources(rest: RESTClient, namespace: str) -> None:
    deps = Deployments(rest, namespace)
    deps.create(deployment("web", replicas=1))
    scale = deps.get_scale("web")
    assert isinstance(scale, Scale) and scale.spec is not None and scale.spec.replicas == 1
    scale.spec = ScaleSpec(replicas=3)
    assert deps.update_scale("web", scale).spec == ScaleSpec(replicas=3)
    assert deps.patch_scale("web", {"spec": {"replicas": 2}}).spec == ScaleSpec(replicas=2)
    dep = deps.get("web")
    assert dep.spec is not None and dep.spec["replicas"] == 2
    dep.status = {"observedGeneration": 7, "replicas": 0}
    updated = deps.update_status(dep)
    assert updated.status is not None and updated.status["observedGeneration"] == 7
    patched = deps.patch_status("web", {"status": {"observedGeneration": 8}})
    assert patched.status is not None and patched.status["observedGeneration"] == 8
    assert deps.get_status("web").status == patched.status


async def test_async_surface(cluster: TestCluster, namespace: str) -> None:
    from kubecodegen_runtime.client import AsyncRESTClient

    async with AsyncRESTClient(admin_config(cluster)) as arest:
        cms = AsyncConfigMaps(arest, namespace)
        start = (await cms.list()).metadata
        assert start is not None
        await cms.create(cm("a1", k="1"))
        await cms.create(cm("a2", k="2"))
        got = await cms.get("a1")
        assert got.data == {"k": "1"}
        names = [c.metadata.name async for c in cms.list_all(page_size=1) if c.metadata]
        assert names == ["a1", "a2"]
        await cms.patch("a1", {"data": {"k": "p"}})
        await cms.apply(cm("a1", extra="x"), field_manager="async-test", force=True)
        seen: list[str] = []
        async with cms.watch(resource_version=start.resource_version, timeout_seconds=20) as w:
            async for event in w:
                seen.append(f"{event.type}:{event.object.metadata.name if event.object.metadata else ''}")
                if len(seen) == 4:
                    break
        assert seen == ["ADDED:a1", "ADDED:a2", "MODIFIED:a1", "MODIFIED:a1"]
        with pytest.raises(AlreadyExists):
            await cms.create(cm("a2"))
        deps = AsyncDeployments(arest, namespace)
        await deps.create(deployment("aweb"))
        assert (await deps.patch_scale("aweb", {"spec": {"replicas": 4}})).spec == ScaleSpec(
            replicas=4)
        await cms.delete_collection()
        assert (await cms.list()).items == []


# --- subresources -------------------------------------------------------------------------


def test_binding_eviction_and_logs(rest: RESTClient, namespace: str) -> None:
    pods = Pods(rest, namespace)
    pods.create(pod("bound"))
    status = pods.bind("bound", Binding(metadata=ObjectMeta(name="bound"),
                                        target={"kind": "Node", "name": "node-a"}))
    assert isinstance(status, Status) and status.status == "Success"
    bound = pods.get("bound")
    assert bound.spec is not None and bound.spec["nodeName"] == "node-a"
    # node-a does not exist, so there is no kubelet to ask for logs
    with pytest.raises(ApiError) as info:
        pods.get_log("bound", container="c", tail_lines=10)
    assert info.value.status >= 400 and "node-a" in info.value.message
    with pytest.raises(ApiError) as streamed:
        for _ in pods.stream_log("bound", container="c"):
            pass
    assert type(streamed.value) is type(info.value)
    pods.create(pod("evicted"))
    evicted = pods.evict("evicted", Eviction(metadata=ObjectMeta(name="evicted")))
    assert evicted.status == "Success"
    with pytest.raises(NotFound):
        pods.get("evicted")


def test_create_token(rest: RESTClient, namespace: str) -> None:
    accounts = ServiceAccounts(rest, namespace)
    made = accounts.create_token("default", TokenRequest(spec={"audiences": ["kubecodegen"],
                                                               "expirationSeconds": 600}))
    assert isinstance(made, TokenRequest) and made.status is not None
    token = made.status["token"]
    assert isinstance(token, str) and token.count(".") == 2  # a signed JWT
    assert made.spec["audiences"] == ["kubecodegen"]


def csr_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    request = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csr-test")]))
               .sign(key, hashes.SHA256()))
    return request.public_bytes(serialization.Encoding.PEM).decode()


def test_csr_approval(rest: RESTClient, namespace: str) -> None:
    csrs = CertificateSigningRequests(rest)
    name = f"{namespace}-csr"
    csrs.create(CertificateSigningRequest(metadata=ObjectMeta(name=name), spec={
        "request": base64.b64encode(csr_pem().encode()).decode(),
        "signerName": "example.com/test-signer",
        "usages": ["digital signature", "client auth"],
    }))
    current = csrs.get(name)
    current.status = {"conditions": [{"type": "Approved", "status": "True",
                                      "reason": "Test", "message": "approved by a test"}]}
    approved = csrs.update_approval(current)
    assert approved.status is not None
    assert [c["type"] for c in approved.status["conditions"]] == ["Approved"]
    csrs.delete(name)


def test_namespace_finalize(rest: RESTClient, cluster: TestCluster) -> None:
    namespaces = Namespaces(rest)
    name = cluster.create_namespace()
    namespaces.delete(name)
    terminating = namespaces.get(name)
    assert terminating.spec is not None and terminating.spec.get("finalizers") == ["kubernetes"]
    terminating.spec = {"finalizers": []}
    finalized = namespaces.finalize(terminating)
    assert not (finalized.spec or {}).get("finalizers")
    with pytest.raises(NotFound):
        namespaces.get(name)


def test_ephemeral_containers(cluster_factory: Callable[..., TestCluster]) -> None:
    # alpha in 1.20: the subresource exists only with the feature gate on
    gated = cluster_factory(extra_apiserver_args=["--feature-gates=EphemeralContainers=true"])
    namespace = gated.create_namespace()
    with RESTClient(admin_config(gated)) as gated_rest:
        pods = Pods(gated_rest, namespace)
        pods.create(pod("target"))
        current = pods.get_ephemeral_containers("target")
        assert isinstance(current, EphemeralContainers) and current.ephemeral_containers == []
        current.ephemeral_containers = [{"name": "debug", "image": "example.invalid/debug:1",
                                         "terminationMessagePolicy": "File",
                                         "imagePullPolicy": "IfNotPresent"}]
        updated = pods.update_ephemeral_containers("target", current)
        assert [c["name"] for c in updated.ephemeral_containers] == ["debug"]
        spec = pods.get("target").spec
        assert spec is not None and spec["ephemeralContainers"][0]["name"] == "debug"
