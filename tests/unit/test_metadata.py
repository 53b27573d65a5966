"""The metadata client and informers without a server: decoding, and the ``Accept`` of
every request, seen on the wire (httpx's MockTransport under the runtime's own transport).

What the server does with those headers is tested on the real server in
tests/integration/test_metadata_cluster.py.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Callable
from typing import Any

import httpx
import msgspec
import pytest

from kubecodegen_runtime import codec
from kubecodegen_runtime.apis.meta_v1 import ObjectMeta, Status
from kubecodegen_runtime.cache.factory import AsyncSharedInformerFactory, SharedInformerFactory
from kubecodegen_runtime.cache.keys import meta_namespace_key
from kubecodegen_runtime.cache.reflector import Reflector
from kubecodegen_runtime.cache.watcher import ListRequest, WatchRequest
from kubecodegen_runtime.client import AsyncRESTClient, RESTClient
from kubecodegen_runtime.config import ClientConfig
from kubecodegen_runtime.errors import UnexpectedKind
from kubecodegen_runtime.meta import GroupVersionResource, ResourceInfo
from kubecodegen_runtime.metadata import (
    ACCEPT_LIST,
    ACCEPT_OBJECT,
    AsyncMetadataClient,
    MetadataClient,
    PartialObjectMetadata,
    PartialObjectMetadataList,
)
from kubecodegen_runtime.transport import AsyncTransport, Transport
from kubecodegen_runtime.watch import WatchEvent

SECRETS = GroupVersionResource("", "v1", "secrets")
SECRETS_INFO = ResourceInfo("", "v1", "secrets", "Secret", True)
NODES_INFO = ResourceInfo("", "v1", "nodes", "Node", False)
MV1 = "meta.k8s.io/v1"


def partial(name: str, namespace: str | None = "ns", **meta: Any) -> dict[str, Any]:
    md: dict[str, Any] = {"name": name, "resourceVersion": "7", **meta}
    if namespace is not None:
        md["namespace"] = namespace
    return {"kind": "PartialObjectMetadata", "apiVersion": MV1, "metadata": md}


def partial_list(*items: dict[str, Any], cont: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": "9"}
    if cont:
        meta["continue"] = cont
    return {"kind": "PartialObjectMetadataList", "apiVersion": MV1, "metadata": meta,
            "items": list(items)}


Handler = Callable[[httpx.Request], httpx.Response]


class Server:
    """Answers requests with a script and remembers every one (method, URL, headers)."""

    def __init__(self, answer: Callable[[httpx.Request], Any]) -> None:
        self.requests: list[httpx.Request] = []
        self._answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = self._answer(request)
        if isinstance(body, httpx.Response):
            return body
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(200, content=content, headers={"content-type": "application/json"})

    @property
    def accepts(self) -> list[str]:
        return [r.headers["accept"] for r in self.requests]


CONFIG = ClientConfig(server="https://k8s.test", verify=ssl.create_default_context(), qps=0.0)


def sync_rest(server: Server) -> RESTClient:
    client = httpx.Client(base_url=CONFIG.server, transport=httpx.MockTransport(server))
    return RESTClient(CONFIG, transport=Transport(CONFIG, client))


def async_rest(server: Server) -> AsyncRESTClient:
    client = httpx.AsyncClient(base_url=CONFIG.server, transport=httpx.MockTransport(server))
    return AsyncRESTClient(CONFIG, transport=AsyncTransport(CONFIG, client))


# --- decoding --------------------------------------------------------------------------


def test_full_object_json_decodes_to_its_metadata_only() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "s", "namespace": "ns", "labels": {"a": "b"},
                           "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap",
                                                "name": "o", "uid": "u", "controller": True}]},
              "data": {"k": "aGVsbG8="}}
    obj = codec.decode(json.dumps(secret).encode(), PartialObjectMetadata)
    assert obj.metadata.labels == {"a": "b"}
    assert obj.metadata.owner_references is not None
    assert obj.metadata.owner_references[0].name == "o"
    assert set(msgspec.json.decode(codec.encode(obj))) == {"apiVersion", "kind", "metadata"}
    assert meta_namespace_key(obj) == "ns/s"


def test_missing_metadata_is_an_empty_object_meta() -> None:
    obj = codec.decode(b'{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1"}',
                       PartialObjectMetadata)
    assert obj.metadata == ObjectMeta()


def test_null_items_read_as_an_empty_list() -> None:
    body = b'{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1",' \
           b'"metadata":{"resourceVersion":"3"},"items":null}'
    lst = codec.decode(body, PartialObjectMetadataList)
    assert lst.items == [] and lst.metadata.resource_version == "3"


def test_gvks_are_meta_k8s_io_v1() -> None:
    assert PartialObjectMetadata.GVK.api_version == MV1
    assert PartialObjectMetadata.GVK.kind == "PartialObjectMetadata"
    assert PartialObjectMetadataList.GVK.kind == "PartialObjectMetadataList"


def test_round_trip_keeps_every_metadata_field() -> None:
    doc = partial("a", labels={"x": "y"}, annotations={"n": "m"}, finalizers=["f"],
                  uid="u1", generation=3)
    obj = codec.decode(json.dumps(doc).encode(), PartialObjectMetadata)
    assert msgspec.json.decode(codec.encode(obj)) == doc


# --- the Accept of every verb ----------------------------------------------------------


def answer_by_shape(request: httpx.Request) -> Any:
    """A server that honours the metadata Accept: lists for collections, else objects."""
    path = request.url.path
    if request.method == "DELETE" and path.endswith("/secrets"):
        return partial_list(partial("a"))
    if request.method == "DELETE":
        return {"kind": "Status", "apiVersion": "v1", "status": "Success", "metadata": {}}
    if request.url.params.get("watch") == "true":
        return (json.dumps({"type": "ADDED", "object": partial("w")}) + "\n").encode()
    if path.endswith("/secrets"):
        return partial_list(partial("a"), partial("b"))
    return partial(path.rsplit("/", 1)[-1])


def test_every_verb_sends_the_metadata_accept_of_its_answer() -> None:
    server = Server(answer_by_shape)
    with sync_rest(server) as rest:
        secrets = MetadataClient(rest).resource(SECRETS).namespace("ns")
        got = secrets.get("a")
        assert isinstance(got, PartialObjectMetadata) and got.metadata.name == "a"
        assert [o.metadata.name for o in secrets.list().items] == ["a", "b"]
        assert [o.metadata.name for o in secrets.list_all(page_size=10)] == ["a", "b"]
        with secrets.watch(resource_version="9") as events:
            event = next(iter(events))
        assert isinstance(event, WatchEvent) and event.object.metadata.name == "w"
        assert secrets.patch("a", {"metadata": {"labels": {"x": "y"}}}).metadata.name == "a"
        secrets.patch("a", [{"op": "add", "path": "/metadata/labels/x", "value": "y"}],
                      patch_type="json")
        secrets.patch("a", {"metadata": {"labels": {"x": "y"}}}, patch_type="strategic")
        assert isinstance(secrets.delete("a"), Status)
        deleted = secrets.delete_collection(label_selector="x=y")
        assert isinstance(deleted, PartialObjectMetadataList)
    verbs = [(r.method, r.url.path, r.url.params.get("watch")) for r in server.requests]
    assert verbs == [
        ("GET", "/api/v1/namespaces/ns/secrets/a", None),
        ("GET", "/api/v1/namespaces/ns/secrets", None),
        ("GET", "/api/v1/namespaces/ns/secrets", None),
        ("GET", "/api/v1/namespaces/ns/secrets", "true"),
        ("PATCH", "/api/v1/namespaces/ns/secrets/a", None),
        ("PATCH", "/api/v1/namespaces/ns/secrets/a", None),
        ("PATCH", "/api/v1/namespaces/ns/secrets/a", None),
        ("DELETE", "/api/v1/namespaces/ns/secrets/a", None),
        ("DELETE", "/api/v1/namespaces/ns/secrets", None),
    ]
    assert server.accepts == [ACCEPT_OBJECT, ACCEPT_LIST, ACCEPT_LIST, ACCEPT_OBJECT,
                              ACCEPT_OBJECT, ACCEPT_OBJECT, ACCEPT_OBJECT, ACCEPT_OBJECT,
                              ACCEPT_LIST]
    content_types = [r.headers.get("content-type") for r in server.requests[4:7]]
    assert content_types == ["application/merge-patch+json", "application/json-patch+json",
                             "application/strategic-merge-patch+json"]


def test_paged_list_all_asks_for_lists_on_every_page() -> None:
    def pages(request: httpx.Request) -> Any:
        if request.url.params.get("continue") == "t1":
            return partial_list(partial("b", namespace=None))
        return partial_list(partial("a", namespace=None), cont="t1")

    server = Server(pages)
    with sync_rest(server) as rest:
        names = [o.metadata.name for o in MetadataClient(rest).resource(NODES_INFO).list_all(
            page_size=1)]
    assert names == ["a", "b"]
    assert [r.url.params.get("limit") for r in server.requests] == ["1", "1"]
    assert server.accepts == [ACCEPT_LIST, ACCEPT_LIST]
    assert all(r.url.path == "/api/v1/nodes" for r in server.requests)


def test_all_namespaces_and_cluster_scoped_paths() -> None:
    server = Server(answer_by_shape)
    with sync_rest(server) as rest:
        client = MetadataClient(rest)
        client.resource(SECRETS).list()
        client.resource(GroupVersionResource("example.com", "v1", "gizmos")).namespace("n").get("g")
    assert [r.url.path for r in server.requests] == [
        "/api/v1/secrets", "/apis/example.com/v1/namespaces/n/gizmos/g"]


def test_the_typed_clients_keep_asking_for_json() -> None:
    # the Accept hook is per class: the dynamic client shares the machinery, not the header
    from kubecodegen_runtime.dynamic import DynamicClient

    server = Server(lambda request: {"kind": "Secret", "apiVersion": "v1",
                                     "metadata": {"name": "a"}})
    with sync_rest(server) as rest:
        DynamicClient(rest).resource(SECRETS).namespace("ns").get("a")
    assert server.accepts == ["application/json"]


@pytest.mark.parametrize("body", [
    {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "a"}, "data": {"k": "dg=="}},
    {"kind": "Table", "apiVersion": MV1, "metadata": {}, "columnDefinitions": [], "rows": []},
], ids=["full-object", "table"])
def test_an_answer_that_is_not_metadata_is_refused(body: dict[str, Any]) -> None:
    server = Server(lambda request: body)
    with sync_rest(server) as rest, pytest.raises(UnexpectedKind) as caught:
        MetadataClient(rest).resource(SECRETS).namespace("ns").get("a")
    assert "PartialObjectMetadata" in str(caught.value)
    assert caught.value.kind == body["kind"]


def test_a_list_that_is_not_a_metadata_list_is_refused() -> None:
    server = Server(lambda request: {"kind": "SecretList", "apiVersion": "v1", "metadata": {},
                                     "items": [{"metadata": {"name": "a"}, "data": {}}]})
    with sync_rest(server) as rest, pytest.raises(UnexpectedKind):
        list(MetadataClient(rest).resource(SECRETS).list_all())


def test_a_watch_of_full_objects_is_refused() -> None:
    line = json.dumps({"type": "ADDED", "object": {"kind": "Secret", "apiVersion": "v1",
                                                   "metadata": {"name": "a"}}}) + "\n"
    server = Server(lambda request: line.encode())
    with sync_rest(server) as rest:
        events = MetadataClient(rest).resource(SECRETS).watch()
        with events, pytest.raises(UnexpectedKind):
            list(events)


def test_async_client_sends_the_same_headers() -> None:
    server = Server(answer_by_shape)

    async def run() -> list[str | None]:
        async with async_rest(server) as rest:
            secrets = AsyncMetadataClient(rest).resource(SECRETS_INFO).namespace("ns")
            got = await secrets.get("a")
            names = [o.metadata.name async for o in secrets.list_all()]
            lst = await secrets.list()
            async with secrets.watch() as events:
                first = await events.__anext__()
            assert isinstance(first, WatchEvent)
            await secrets.patch("a", {"metadata": {"annotations": {"x": "y"}}})
            await secrets.delete("a")
            await secrets.delete_collection()
            return [got.metadata.name, *names, *(o.metadata.name for o in lst.items),
                    first.object.metadata.name]

    assert asyncio.run(run()) == ["a", "a", "b", "a", "b", "w"]
    assert server.accepts == [ACCEPT_OBJECT, ACCEPT_LIST, ACCEPT_LIST, ACCEPT_OBJECT,
                              ACCEPT_OBJECT, ACCEPT_OBJECT, ACCEPT_LIST]


# --- informers -------------------------------------------------------------------------


def reflector_requests(accept: tuple[str, str] | None) -> tuple[str, str]:
    server = Server(answer_by_shape)
    rest = sync_rest(server)
    factory_informer = SharedInformerFactory(rest).informer(SECRETS_INFO, PartialObjectMetadata)
    reflector: Reflector[Any] = factory_informer._reflector
    if accept is None:
        reflector = SharedInformerFactory(rest).informer(SECRETS_INFO, dict)._reflector
    listing = reflector._list_request(ListRequest(resource_version="0", limit=500,
                                                  continue_token="", label_selector=None,
                                                  field_selector=None))
    watching = reflector._watch_request(WatchRequest(resource_version="5", timeout_seconds=300,
                                                     label_selector=None, field_selector=None,
                                                     allow_watch_bookmarks=True))
    rest.close()
    return listing.accept, watching.accept


def test_metadata_informers_list_and_watch_with_the_metadata_accept() -> None:
    assert reflector_requests((ACCEPT_OBJECT, ACCEPT_LIST)) == (ACCEPT_LIST, ACCEPT_OBJECT)
    assert reflector_requests(None) == ("application/json", "application/json")


def test_for_metadata_is_keyed_apart_from_typed_and_dynamic_informers() -> None:
    with sync_rest(Server(answer_by_shape)) as rest:
        factory = SharedInformerFactory(rest, namespace="ns")
        md = factory.for_metadata(SECRETS_INFO)
        assert factory.for_metadata(SECRETS_INFO) is md
        assert factory.informer(SECRETS_INFO, PartialObjectMetadata) is md
        dyn = factory.for_resource(SECRETS_INFO)
        assert dyn is not md and md.item_type is PartialObjectMetadata
        assert md.namespace == "ns"
        assert len(factory.informers) == 2


def test_for_metadata_resolves_a_gvr_through_discovery() -> None:
    discovery = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
                 "resources": [{"name": "secrets", "singularName": "", "namespaced": True,
                                "kind": "Secret", "verbs": ["list", "watch", "get"]}]}
    server = Server(lambda request: discovery)
    with sync_rest(server) as rest:
        informer = SharedInformerFactory(rest).for_metadata(SECRETS)
    assert informer.info.kind == "Secret" and informer.info.namespaced

    async def run() -> Any:
        async with async_rest(server) as rest:
            factory = AsyncSharedInformerFactory(rest)
            found = await factory.for_metadata(SECRETS)
            assert factory.informer(found.info, PartialObjectMetadata) is found
            return found.item_type

    assert asyncio.run(run()) is PartialObjectMetadata


def test_a_server_that_cannot_convert_answers_not_acceptable() -> None:
    from kubecodegen_runtime.errors import NotAcceptable

    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 406,
              "reason": "NotAcceptable", "message": "only the following media types are "
              "accepted: application/json"}
    server = Server(lambda request: httpx.Response(406, json=status))
    with sync_rest(server) as rest, pytest.raises(NotAcceptable):
        MetadataClient(rest).resource(SECRETS).namespace("ns").get("a")
    assert server.accepts == [ACCEPT_OBJECT]
