"""Request -> Action -> reactors -> tracker -> Response: the fake server's request handling.

Everything a request's method, path, query and body mean is decided here, once, for
the sync and the async transport: which verb it is (client-go's vocabulary), which
resource, which options. Failures are :class:`~..errors.ApiError` values raised by the
tracker (or a reactor) and sent as the ``Status`` a real server sends.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from ..errors import (
    ApiError,
    BadRequest,
    MethodNotAllowed,
    NotFound,
    ResourceExpired,
)
from ..meta import GroupVersionResource, ResourceInfo
from ..rest.request import Request
from ..rest.response import Response
from . import actions, discovery, listing, scale, writes
from .actions import Action
from .feed import FixedEvents, WatchFeed
from .paths import DiscoveryPath, ResourcePath, parse
from .release import at_least
from .store import Obj, Presented, Stored
from .watch import Subscription, TooOldResourceVersion, WatchEvent

if TYPE_CHECKING:
    from .server import FakeServer
    from .tracker import ObjectTracker

_encode = msgspec.json.Encoder().encode

JSON_HEADERS: tuple[tuple[str, str], ...] = (("content-type", "application/json"),)
NOT_FOUND_MESSAGE = "the server could not find the requested resource"

#: Patch content types; strategic merge only for built-in resources.
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


# --- responses -----------------------------------------------------------------------


def _response_maker() -> Callable[[int, tuple[tuple[str, str], ...], bytes, str, str], Response]:
    """``Response(code, headers, body, method, path)`` without the frozen dataclass's
    ``__init__``: its slots are set through their descriptors, as ``__init__`` sets them
    (through ``object.__setattr__``), in a third of the time (1.3 µs of every request).
    Only while those five are exactly Response's fields; else the constructor itself."""
    names = ("status_code", "headers", "body", "method", "path")
    if tuple(f.name for f in dataclasses.fields(Response)) != names or \
            not all(type(vars(Response).get(n)).__name__ == "member_descriptor" for n in names):
        return Response
    new = object.__new__
    set_code, set_headers, set_body, set_method, set_path = (
        vars(Response)[n].__set__ for n in names)

    def make(code: int, headers: tuple[tuple[str, str], ...], body: bytes, method: str,
             path: str) -> Response:
        response: Response = new(Response)
        set_code(response, code)
        set_headers(response, headers)
        set_body(response, body)
        set_method(response, method)
        set_path(response, path)
        return response
    return make


new_response = _response_maker()


def json_response(request: Request, code: int, body: bytes) -> Response:
    return new_response(code, JSON_HEADERS, body, request.method, request.path)


def status_body(error: ApiError) -> dict[str, Any]:
    """The ``Status`` a real server sends for ``error``."""
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Failure", "message": error.message,
                            "reason": error.reason, "code": error.status}
    if error.details is not None:
        body["details"] = msgspec.json.decode(_encode(error.details))
    elif error.reason == "NotFound" or error.reason == "MethodNotAllowed":
        body["details"] = {}
    return body


def error_response(request: Request, error: ApiError) -> Response:
    headers = JSON_HEADERS
    if error.retry_after is not None:
        headers = (*headers, ("retry-after", str(int(error.retry_after))))
    return new_response(error.status, headers, _encode(status_body(error)), request.method,
                        request.path)


def not_found() -> NotFound:
    return NotFound(404, "NotFound", NOT_FOUND_MESSAGE)


# --- parsing ---------------------------------------------------------------------


class Query:
    """The query parameters of a request, first value of each."""

    def __init__(self, params: Iterable[tuple[str, str]]) -> None:
        values: dict[str, str] = {}
        for key, value in params:
            if key not in values:
                values[key] = value
        self.values = values

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        return value is not None and value.lower() in ("true", "1")

    def int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except ValueError:
            raise BadRequest(400, "BadRequest", f"invalid {name}: {value!r}") from None


def verb_of(method: str, target: ResourcePath, query: Query) -> str:
    if method == "GET":
        watch = query.flag("watch")
        if target.name is None or (target.subresource is None and watch):
            return "watch" if watch else "list"
        return "get"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if target.name is not None else "delete-collection"
    raise MethodNotAllowed(405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource")


def decode_body(request: Request) -> Obj:
    if not request.body:
        raise BadRequest(400, "BadRequest", "the request body is empty")
    try:
        body = msgspec.json.decode(request.body)
    except msgspec.DecodeError as exc:
        raise BadRequest(400, "BadRequest", f"json parse error: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest(400, "BadRequest", "the body must be a JSON object")
    return body


def field_manager(query: Query, user_agent: str) -> str:
    """The ``fieldManager`` parameter, else what the server derives from the
    User-Agent: its first ``/``-separated segment."""
    return query.get("fieldManager") or user_agent.split("/", 1)[0]


def resolve(server: FakeServer, target: ResourcePath) -> ResourceInfo:
    """The resource a path names; 404 as the server answers an unknown one."""
    info = server.tracker.info(target.group, target.version, target.resource)
    if info is None or target.extra:
        raise not_found()
    if target.namespace is not None and not info.namespaced:
        raise not_found()
    if info.namespaced and target.namespace is None and target.name is not None:
        raise not_found()
    return info


def build_action(verb: str, info: ResourceInfo, target: ResourcePath, query: Query,
                 request: Request, body: Obj | None, manager: str | None,
                 delete_options: Obj | None) -> Action:
    values = query.values
    patching = verb == "patch"
    return _new_action({
        "verb": verb, "resource": _gvr(info),
        "namespace": target.namespace, "name": target.name, "subresource": target.subresource,
        "object": body, "patch_type": request.content_type if patching else None,
        "patch": request.body if patching else None, "field_manager": manager,
        "dry_run": values.get("dryRun") == "All" if values else False,
        "force": query.flag("force") if values else False,
        "label_selector": values.get("labelSelector") if values else None,
        "field_selector": values.get("fieldSelector") if values else None,
        "resource_version": values.get("resourceVersion") if values else None,
        "delete_options": delete_options,
        "params": request.params, "path": request.path, "kind": info.kind})


def _new_action(values: dict[str, Any]) -> Action:
    """``Action(**values)`` for ``values`` naming every field, without the frozen
    dataclass's ``__init__`` (one ``object.__setattr__`` per field: 8 µs of every
    request). The instance is the same: its ``__dict__`` holds the fields. (That the
    callers name every field, no more, is a unit test: checking it here cost 0.4 µs a
    request.)"""
    action = object.__new__(Action)
    object.__setattr__(action, "__dict__", values)  # the dict becomes the instance's own
    return action


_GVRS: dict[tuple[str, str, str], GroupVersionResource] = {}


def _discovery_gvr(path: DiscoveryPath) -> GroupVersionResource:
    """The resource of a discovery action: ``(group, version, "")``, one value each."""
    return _memo_gvr((path.group, path.version, ""))


def _gvr(info: ResourceInfo) -> GroupVersionResource:
    """The resource of an action (one immutable value per resource, made once)."""
    return _memo_gvr((info.group, info.version, info.resource))


def _memo_gvr(key: tuple[str, str, str]) -> GroupVersionResource:
    """One shared GroupVersionResource per key (bounded: cleared past 4096 keys)."""
    found = _GVRS.get(key)
    if found is None:
        if len(_GVRS) >= 4096:
            _GVRS.clear()
        found = _GVRS[key] = GroupVersionResource(*key)
    return found


def delete_options(request: Request, query: Query) -> Obj:
    """DeleteOptions from the body and the query (the query wins, as on the server)."""
    options: Obj = {}
    if request.body:
        options = decode_body(request)
    policy = query.get("propagationPolicy")
    if policy:
        options["propagationPolicy"] = policy
    grace = query.int("gracePeriodSeconds")
    if grace is not None:
        options["gracePeriodSeconds"] = grace
    if query.get("dryRun") == "All":
        options["dryRun"] = ["All"]
    return options


# --- the entry points ------------------------------------------------------------


def handle(server: FakeServer, request: Request, user_agent: str) -> Response:
    """Answer an ordinary request."""
    try:
        return _handle(server, request, user_agent)
    except ApiError as error:
        return error_response(request, error)


def _reactor_answer(server: FakeServer, request: Request, action: Action,
                    answer: object) -> Response:
    if isinstance(answer, Response):
        return answer
    if isinstance(answer, ApiError):
        raise answer
    if isinstance(answer, (msgspec.Struct, dict)):
        body = server.api.scheme.encode(server.api.scheme.with_type_meta(answer)) \
            if isinstance(answer, msgspec.Struct) else _encode(answer)
        return json_response(request, 201 if action.verb == "create" else 200, body)
    raise TypeError(f"a reactor answered {type(answer).__name__}: expected a dict, a model, "
                    "a Response or None")


def _handle(server: FakeServer, request: Request, user_agent: str) -> Response:
    parsed = parse(request.path)
    if parsed is None:
        raise not_found()
    if type(parsed) is DiscoveryPath:
        return _discovery(server, request, parsed)
    assert isinstance(parsed, ResourcePath)
    # most requests have no query at all: one shared empty Query (never mutated)
    query = Query(request.params) if request.params else _NO_QUERY
    info = resolve(server, parsed)
    verb = verb_of(request.method, parsed, query)
    if verb == "watch":
        raise BadRequest(400, "BadRequest", "a watch needs a streaming request")
    body: Obj | None = None
    options: Obj | None = None
    manager: str | None = None
    if verb == "create" or verb == "update":
        body = decode_body(request)
        manager = field_manager(query, user_agent)
    elif verb == "patch":
        manager = field_manager(query, user_agent)
    elif verb == "delete" or verb == "delete-collection":
        options = delete_options(request, query)
    action = build_action(verb, info, parsed, query, request, body, manager, options)
    server.record(action)
    reactors = server.reactors
    if reactors.any():
        answer = reactors.react(action)
        if answer is not None:
            return _reactor_answer(server, request, action, answer)
    return _serve(server, request, info, parsed, query, action)


_NO_QUERY = Query(())


#: The fields of a discovery action that are always the defaults.
_DISCOVERY_FIELDS: dict[str, Any] = {
    "namespace": None, "name": None, "subresource": None, "object": None, "patch_type": None,
    "patch": None, "field_manager": None, "dry_run": False, "force": False,
    "label_selector": None, "field_selector": None, "resource_version": None,
    "delete_options": None}


def _discovery(server: FakeServer, request: Request, path: DiscoveryPath) -> Response:
    action = _new_action({
        "verb": "discovery", "resource": _discovery_gvr(path), **_DISCOVERY_FIELDS,
        "params": request.params, "path": request.path, "kind": ""})
    server.record(action)
    reactors = server.reactors
    if reactors.any():
        answer = reactors.react(action)
        if answer is not None:
            return _reactor_answer(server, request, action, answer)
    if request.method != "GET":
        raise MethodNotAllowed(405, "MethodNotAllowed", "the server does not allow this "
                               "method on the requested resource")
    doc = discovery.encoded(server.api.resources, server.api.kubernetes_version, path)
    if doc is None:
        raise not_found()
    return json_response(request, 200, doc)


def _serve(server: FakeServer, request: Request, info: ResourceInfo, target: ResourcePath,
           query: Query, action: Action) -> Response:
    tracker = server.tracker
    verb = action.verb
    sub = target.subresource
    tracker.check_verb(info, "deletecollection" if verb == "delete-collection" else verb, sub)
    dry_run = action.dry_run
    if verb == "get":
        assert target.name is not None
        if query.get("resourceVersion") not in (None, "", "0"):
            listing.check_not_newer(str(query.get("resourceVersion")), tracker.current_rv)
        if sub == "scale":
            parent = tracker.get(info, target.name, target.namespace)
            return json_response(request, 200, _encode(
                scale.scale_of(parent, server.api.scale.get((info.group, info.resource))
                               if tracker.is_custom(info) else None)))
        if sub not in (None, "status"):
            raise MethodNotAllowed(405, "MethodNotAllowed", "the fake server does not serve "
                                   f"the {sub} subresource")
        stored = tracker.lookup(info, target.namespace, target.name)
        if stored is None:
            raise _not_found(info, target.name)
        return json_response(request, 200, tracker.raw(info, stored))
    if verb == "list":
        flt = listing.parse_filter(info, tracker.is_custom(info), query.get("labelSelector"),
                                   query.get("fieldSelector"))
        items, meta = listing.list_page(tracker, info, listing.ListQuery(
            target.namespace, flt, query.int("limit"), query.get("continue"),
            query.get("resourceVersion"), query.get("resourceVersionMatch")))
        return json_response(request, 200, listing.list_body(
            info, items, meta, _item_bytes(tracker.is_custom(info), tracker, info)))
    context = writes.WriteContext(server, info, target, action, dry_run)
    if verb == "create":
        assert action.object is not None
        code, obj = writes.create(context, action.object)
        return json_response(request, code, _answer_bytes(obj))
    if verb == "update":
        assert action.object is not None
        code, obj = writes.update(context, action.object)
        return json_response(request, code, _answer_bytes(obj))
    if verb == "patch":
        code, obj = writes.patch(context, request.content_type or "", request.body or b"")
        return json_response(request, code, _answer_bytes(obj))
    if verb == "delete":
        return json_response(request, 200, _answer_bytes(writes.delete(
            context, action.delete_options or {})))
    flt = listing.parse_filter(info, tracker.is_custom(info), query.get("labelSelector"),
                               query.get("fieldSelector"))
    return json_response(request, 200, _encode(writes.delete_collection(
        context, flt, action.delete_options or {})))


def _answer_bytes(obj: Obj) -> bytes:
    """The JSON of a write's answer: the stored bytes when the tracker passed them along
    (:class:`~.store.Presented`), else the object encoded."""
    if type(obj) is Presented:
        return obj.raw
    return _encode(obj)


def _item_bytes(custom: bool, tracker: ObjectTracker,
                info: ResourceInfo) -> Callable[[Stored], bytes]:
    """How a list's items are sent: custom resources keep ``apiVersion``/``kind``,
    built-in lists' items have none (the typed list's items carry no type meta)."""
    if custom:
        return lambda stored: tracker.raw(info, stored)
    return Stored.item_bytes


def _not_found(info: ResourceInfo, name: str) -> ApiError:
    return actions.not_found(info.resource, name, info.group)


# --- watches -----------------------------------------------------------------------


def open_watch(server: FakeServer, request: Request, user_agent: str) -> Response | WatchFeed:
    """Answer a streaming request: a watch feed, or a whole response."""
    try:
        return _open_watch(server, request, user_agent)
    except ApiError as error:
        return error_response(request, error)


def _open_watch(server: FakeServer, request: Request,
                user_agent: str) -> Response | WatchFeed:
    parsed = parse(request.path)
    query = Query(request.params)
    if not isinstance(parsed, ResourcePath) or request.method != "GET" or \
            not query.flag("watch"):
        return _handle(server, request, user_agent)
    info = resolve(server, parsed)
    tracker = server.tracker
    action = build_action("watch", info, parsed, query, request, None, None, None)
    server.record(action)
    events = server.reactors.react_watch(action)
    if events is not None:
        return WatchFeed(FixedEvents(events))
    tracker.check_verb(info, "watch")
    field_selector = query.get("fieldSelector")
    if parsed.name is not None:
        name_term = f"metadata.name={parsed.name}"
        field_selector = f"{field_selector},{name_term}" if field_selector else name_term
    flt = listing.parse_filter(info, tracker.is_custom(info), query.get("labelSelector"),
                               field_selector)
    initial_events = query.get("sendInitialEvents")
    if initial_events is not None:
        refusal = _watch_list_refusal(server, query)
        if refusal is not None:
            raise refusal
    send_initial = query.flag("sendInitialEvents")
    rv_param = query.get("resourceVersion") or ""
    since = None if rv_param in ("", "0") else _rv(rv_param)
    timeout = query.int("timeoutSeconds")

    def bookmark(rv: int, initial_end: bool) -> dict[str, Any]:
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {"kind": info.kind, "apiVersion": info.api_version, "metadata": meta}

    with tracker.lock:
        current = tracker.current_rv
        if since is not None and send_initial:
            listing.check_not_newer(rv_param, current)
        if since is not None and since < tracker.compacted_rv and not send_initial:
            # older than the store's history (its start, or a compaction): what the
            # watch cache answers for a version before it was filled
            expired = ResourceExpired(410, "Expired", f"too old resource version: {since} "
                                      f"({tracker.compacted_rv})")
            return WatchFeed(FixedEvents([{"type": "ERROR", "object": status_body(expired)}]))
        initial = [_presented(info, s)
                   for s in listing.select(tracker, info, parsed.namespace, flt)] \
            if since is None or send_initial else []
        try:
            subscription = tracker.events.subscribe(
                (info.group, info.resource), namespace=parsed.namespace, since=since,
                initial=initial, matches=flt.matches, current_rv=current,
                bookmarks=query.flag("allowWatchBookmarks"), bookmark_object=bookmark,
                send_initial_events=send_initial,
                timeout=float(timeout) if timeout else None)
        except TooOldResourceVersion as exc:
            # kube-apiserver 1.20's watch cache: a 200 stream with one ERROR event.
            expired = ResourceExpired(exc.code, exc.reason, exc.message)
            return WatchFeed(FixedEvents([{"type": "ERROR", "object": status_body(expired)}]))
    return WatchFeed(SubscriptionSource(subscription))


def _presented(info: ResourceInfo, stored: Stored) -> Obj:
    obj = stored.obj
    if obj.get("apiVersion") != info.api_version:
        return {**obj, "apiVersion": info.api_version}
    return obj


def _rv(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise BadRequest(400, "BadRequest", f"invalid resource version: {text}") from None


def _watch_list_refusal(server: FakeServer, query: Query) -> ApiError | None:
    """Watch-lists (``sendInitialEvents``) are served from Kubernetes 1.27 on; an older
    server refuses the options it does not know as 1.20 does."""
    if at_least(server.api.kubernetes_version, (1, 27)):
        if query.flag("sendInitialEvents") and \
                query.get("resourceVersionMatch") != "NotOlderThan":
            return _invalid_list_options(
                "Forbidden: sendInitialEvents requires setting resourceVersionMatch to "
                "NotOlderThan")
        return None
    if query.get("resourceVersionMatch"):
        return _invalid_list_options("Forbidden: resourceVersionMatch is forbidden for watch")
    return None


def _invalid_list_options(message: str) -> ApiError:
    return actions.invalid("ListOptions", "", [
        ("FieldValueForbidden", "resourceVersionMatch", message)], "meta.k8s.io")


class SubscriptionSource:
    """A :class:`~.watch.Subscription` as a feed's event source: each poll is everything
    available, one chunk."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription

    @staticmethod
    def _events(batch: list[WatchEvent] | None) -> list[Mapping[str, Any]] | None:
        if batch is None:
            return None
        return [{"type": e.type, "object": e.object} for e in batch]

    def poll(self, timeout: float | None) -> list[Mapping[str, Any]] | None:
        return self._events(self.subscription.next_batch(timeout))

    async def poll_async(self) -> list[Mapping[str, Any]] | None:
        return self._events(await self.subscription.anext_batch())

    def close(self) -> None:
        self.subscription.close()


__all__ = ["handle", "open_watch"]
