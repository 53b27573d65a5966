"""Pure glue between typed objects and the REST core, shared by sync and async clients.

Everything a client method does except the one line that sends lives here or in
``rest/``: turning an object into body bytes (with apiVersion/kind filled in),
finding its name, choosing decoders, decoding list pages, objects-or-Status answers,
and splitting log streams into lines. The sync and async client classes are therefore
only signatures plus a send.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, NamedTuple, TypeVar, cast

import msgspec

from .. import codec, scheme
from ..cache.keys import meta_namespace_key
from ..errors import Status
from ..rest import response as rs
from ..rest.lines import DEFAULT_MAX_LINE, LineSplitter
from ..rest.options import PatchType
from ..rest.response import Response, check, is_status
from ..watch.decode import WatchDecoder, event_union

T = TypeVar("T")

#: What ``patch`` accepts as a body: a JSON-able mapping or list, or pre-encoded bytes/str.
PatchBody = Mapping[str, Any] | Sequence[Any] | bytes | str | msgspec.Struct


class SeenKeys:
    """Keys (``namespace/name``) of the objects a paged list has yielded so far.

    Used by ``list_all`` to fall back to a full list after an expired continue token
    without yielding anything twice.
    """

    __slots__ = ("_keys",)

    def __init__(self) -> None:
        self._keys: set[str] = set()

    def record(self, items: Sequence[T]) -> Sequence[T]:
        self._keys.update(meta_namespace_key(item) for item in items)
        return items

    def unseen(self, items: Sequence[T]) -> list[T]:
        return [item for item in items if meta_namespace_key(item) not in self._keys]

    def __bool__(self) -> bool:
        return bool(self._keys)


class IncompleteWatchList(Exception):
    """``list_all(watch_list=True)`` could not finish with a watch-list: the server refused
    it (``refused``: nothing was yielded, list in pages) or the stream ended before the
    initial-events-end bookmark (finish with a full list). Never reaches callers."""

    def __init__(self, *, refused: bool) -> None:
        super().__init__("refused" if refused else "ended before the initial-events-end bookmark")
        self.refused = refused


def decoder_for(tp: Any) -> Callable[[bytes], Any]:
    """The typed JSON decode function for ``tp`` (the codec builds it once per type).

    Large bodies (lists) decode with the garbage collector paused: see
    :func:`..codec.decode_paused`. Failures are the codec's ``DecodeError`` carrying
    the JSON path.
    """
    return codec.decode_function(tp)


def watch_decoder(tp: Any, *, max_line: int = DEFAULT_MAX_LINE) -> WatchDecoder[Any]:
    """A fresh incremental watch decoder whose objects decode as ``tp`` (and must be of
    its kind when they say)."""
    return WatchDecoder(tp, decode_line=decoder_for(event_union(tp)), max_line=max_line,
                        expect=expected_type_meta(tp))


def encode_object(obj: Any) -> bytes:
    """Body bytes for an object: typed objects get apiVersion/kind from their GVK."""
    if isinstance(obj, (bytes, bytearray)):
        return bytes(obj)
    if isinstance(obj, msgspec.Struct):
        obj = scheme.with_type_meta(obj)
    return codec.encode(obj)


def encode_patch(body: PatchBody, patch_type: PatchType) -> bytes:
    """Body bytes for a patch; ``str`` and ``bytes`` are sent as they are."""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if patch_type is PatchType.JSON and not isinstance(body, Sequence):
        raise TypeError("a JSON patch body is a list of operations")
    return encode_object(body)


def _meta_field(obj: Any, field: str) -> Any:
    if isinstance(obj, Mapping):
        meta = obj.get("metadata")
        return meta.get(field) if isinstance(meta, Mapping) else None
    meta = getattr(obj, "metadata", None)
    return getattr(meta, field, None) if meta is not None else None


def name_of(obj: Any, verb: str) -> str:
    """``metadata.name`` of a typed object or dict; a clear error when it is missing."""
    name = _meta_field(obj, "name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{verb} needs an object with metadata.name set")
    return name


def check_namespace(obj: Any, namespace: str | None, verb: str) -> None:
    """Refuse an object whose metadata.namespace contradicts the client's namespace."""
    ns = _meta_field(obj, "namespace")
    if ns and namespace is not None and ns != namespace:
        raise ValueError(
            f"{verb}: object is in namespace {ns!r} but this client is bound to {namespace!r}"
        )


def type_name(tp: Any) -> str:
    """How errors name the type a request expected (``ConfigMap``, ``Pod list page``)."""
    if typing.get_origin(tp) is Page:
        (item,) = typing.get_args(tp)
        return f"{type_name(item)} list page"
    name = getattr(tp, "__name__", None)
    return name if isinstance(name, str) else repr(tp)


def expected_type_meta(tp: Any) -> tuple[str | None, str | None]:
    """The ``(apiVersion, kind)`` a body decoded as ``tp`` must state, when known.

    A typed object's comes from its ``GVK``; a list page's from its items' (``<Kind>List``).
    """
    if typing.get_origin(tp) is Page:
        (item,) = typing.get_args(tp)
        api_version, kind = expected_type_meta(item)
        return api_version, f"{kind}List" if kind else None
    gvk = getattr(tp, "GVK", None)
    if gvk is None:
        return None, None
    return gvk.api_version, gvk.kind


class _DecodePlan(NamedTuple):
    """What :func:`decode` needs of a type: its error name, decode function and the
    type meta its bodies must state. Depends on the type alone."""

    name: str
    decode: Callable[[bytes], Any]
    api_version: str | None
    kind: str | None


def _make_plan(tp: Any) -> _DecodePlan:
    return _DecodePlan(type_name(tp), decoder_for(tp), *expected_type_meta(tp))


_PLANS: dict[Any, _DecodePlan] = {}


def _plan(tp: Any) -> _DecodePlan:
    """The decode plan of ``tp``, made once per type: ``type_name`` and
    ``expected_type_meta`` (two ``typing.get_origin`` each) are pure functions of the
    type, and were recomputed on every request."""
    try:
        plan = _PLANS.get(tp)
    except TypeError:  # an unhashable type expression: not cached
        return _make_plan(tp)
    if plan is None:
        plan = _PLANS[tp] = _make_plan(tp)
    return plan


def decode(resp: Response, tp: Any) -> Any:
    """Typed body of a success response; every failure is a typed error of ours.

    Refused: an error status, an empty body, a body that is not JSON of the right shape
    (:class:`~..errors.MalformedResponse` naming the request and the JSON path), and an
    object of another kind or apiVersion (:class:`~..errors.UnexpectedKind`; a failure
    Status in a success answer raises its own typed error).
    """
    plan = _plan(tp)
    obj = rs.decode(resp, plan.decode, plan.name)
    if plan.kind is not None:
        rs.check_kind(resp, getattr(obj, "api_version", None), getattr(obj, "kind", None),
                      plan.api_version, plan.kind, plan.name)
    return obj


def decode_or_status(resp: Response, tp: Any) -> Any:
    """The object, or a Status when that is what the server answered (deletes).

    An empty success body (a 204) is a success Status.
    """
    check(resp)
    if not resp.body.strip():
        return rs.success_status(resp)
    if is_status(resp.body):
        return rs.decode_status_response(resp)
    return decode(resp, tp)


def decode_status_body(resp: Response) -> Status:
    """The Status a success answer carries (evictions, bindings)."""
    return rs.decode_status_response(resp)


def decode_text(resp: Response) -> str:
    check(resp)
    return resp.body.decode("utf-8", "replace")


class _PageMeta(msgspec.Struct, rename="camel"):
    continue_: str | None = msgspec.field(default=None, name="continue")
    resource_version: str | None = None


class Page(msgspec.Struct, Generic[T], rename="camel"):
    """Just what paging needs from a list: items and the continue token (and the type
    meta, so that a page of another kind is refused)."""

    items: list[T] | None = None
    metadata: _PageMeta = msgspec.field(default_factory=_PageMeta)
    api_version: str | None = None
    kind: str | None = None

    @property
    def continue_token(self) -> str | None:
        return self.metadata.continue_ or None


def page_type(tp: Any) -> Any:
    """``Page[tp]``: the decoding type of one list page whose items are ``tp``."""
    return cast(Any, Page)[tp]


class LineDecoder:
    """Bytes in, complete text lines out (log streams); UTF-8 safe across chunk splits.

    Lines are split as bytes by :class:`~..rest.lines.LineSplitter` (linear time, at most
    ``max_line`` bytes per line, else :class:`~..errors.LineTooLong`) and each complete
    line is decoded once; invalid UTF-8 becomes U+FFFD, as a terminal would show it.
    """

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        self._lines = LineSplitter(max_line, what="log line")

    def feed(self, chunk: bytes) -> list[str]:
        return [line.decode("utf-8", "replace") for line in self._lines.feed(chunk)]

    def close(self) -> list[str]:
        rest = self._lines.close()
        return [rest.decode("utf-8", "replace")] if rest else []
