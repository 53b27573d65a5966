"""Pure request building: one small function per verb, no I/O.

A :class:`Request` is a plain value (method, path, ordered query, headers, body bytes).
The transport sends it; tests compare it. Bodies arrive here already encoded: the
typed clients encode objects with the codec, so this module never sees a model type.

Names and namespaces are validated (non-empty, not ``.``/``..``, no ``/`` or ``%``)
and percent-escaped before they go into a path, so a user-supplied name can never
address a different URL than the object it names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

import msgspec

from ..apis.meta_v1 import DeleteOptions
from ..meta import ResourceInfo
from .options import (
    PatchType,
    Preconditions,
    PropagationPolicy,
    options,
)

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Request:
    """An HTTP request to the API server, relative to the server's base URL.

    ``params`` keeps its order (stable URLs make logs and tests readable). ``stream``
    asks the transport to hand back the body incrementally (watch, log follow).
    """

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    content_type: str | None = None
    stream: bool = False
    accept: str = JSON


def check_segment(value: str, what: str) -> str:
    """Validate one user-supplied path segment (a name or namespace) and escape it."""
    if type(value) is str:
        known = _CHECKED.get(value)
        if known is not None:
            return known
    escaped = _check_segment(value, what)
    if type(value) is str:
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        _CHECKED[value] = escaped
    return escaped


#: Segments that passed :func:`_check_segment`, with their escaped form. Why: every
#: request checks its namespace (twice: the scoped client, then the path) and name, and
#: the answer depends on the text alone (``what`` only words the refusal, and refused
#: values are never stored), so a repeated segment is a dict lookup. Bounded: cleared
#: when full.
_CHECKED: dict[str, str] = {}
_CHECKED_MAX = 4096


def _check_segment(value: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    if value in (".", ".."):
        raise ValueError(f"{what} may not be {value!r}")
    if _UNRESERVED.fullmatch(value):
        return value  # what quote() leaves as it is (names nearly always are)
    for bad in ("/", "%"):
        if bad in value:
            raise ValueError(f"{what} {value!r} may not contain {bad!r}")
    return quote(value, safe="")


#: Characters ``quote(value, safe="")`` never escapes (RFC 3986 unreserved).
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+")


def resource_path(
    info: ResourceInfo,
    namespace: str | None = None,
    name: str | None = None,
    subresource: str | None = None,
) -> str:
    """The escaped path of a collection, object or subresource of ``info``."""
    if info.namespaced and namespace is None and name is not None:
        raise ValueError(f"{info.resource} is namespaced: a namespace is required to address {name!r}")
    if not info.namespaced and namespace is not None:
        raise ValueError(f"{info.resource} is cluster-scoped: it takes no namespace")
    if subresource is not None and name is None:
        raise ValueError(f"subresource {subresource!r} needs an object name")
    return info.path(
        namespace=check_segment(namespace, "namespace") if namespace is not None else None,
        name=check_segment(name, "name") if name is not None else None,
        subresource=check_segment(subresource, "subresource") if subresource is not None else None,
    )


# --- reads ----------------------------------------------------------------------------


def get(
    info: ResourceInfo,
    name: str,
    *,
    namespace: str | None = None,
    subresource: str | None = None,
    resource_version: str | None = None,
    params: tuple[tuple[str, str], ...] = (),
) -> Request:
    """GET one object (or one of its subresources)."""
    return Request(
        "GET",
        resource_path(info, namespace, name, subresource),
        params if resource_version is None else options(resource_version=resource_version) + params,
    )


def list_(
    info: ResourceInfo,
    *,
    namespace: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
    limit: int | None = None,
    continue_: str | None = None,
    resource_version: str | None = None,
    resource_version_match: str | None = None,
    timeout_seconds: int | None = None,
) -> Request:
    """GET a collection: one page when ``limit`` is set."""
    if (label_selector is None and field_selector is None and limit is None
            and continue_ is None and resource_version is None
            and resource_version_match is None and timeout_seconds is None):
        return Request("GET", resource_path(info, namespace))  # options() of all-None: ()
    return Request(
        "GET",
        resource_path(info, namespace),
        options(
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_=continue_,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
            timeout_seconds=timeout_seconds,
        ),
    )


def watch(
    info: ResourceInfo,
    *,
    namespace: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
    resource_version: str | None = None,
    resource_version_match: str | None = None,
    timeout_seconds: int | None = None,
    allow_watch_bookmarks: bool | None = None,
    send_initial_events: bool | None = None,
) -> Request:
    """A streaming GET with ``watch=true``: newline-delimited watch events."""
    return Request(
        "GET",
        resource_path(info, namespace),
        options(
            watch=True,
            label_selector=label_selector,
            field_selector=field_selector,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
            timeout_seconds=timeout_seconds,
            allow_watch_bookmarks=allow_watch_bookmarks,
            send_initial_events=send_initial_events,
        ),
        stream=True,
    )


def watch_list(
    info: ResourceInfo,
    *,
    namespace: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
    resource_version: str | None = None,
    timeout_seconds: int | None = None,
) -> Request:
    """A watch-list (:mod:`..watch.watch_list`): the current state as ``ADDED`` events,
    the initial-events-end bookmark, then changes. ``resource_version`` omitted means the
    most recent state (a consistent read), as client-go asks for it first."""
    return watch(
        info, namespace=namespace, label_selector=label_selector,
        field_selector=field_selector, resource_version=resource_version or None,
        resource_version_match="NotOlderThan", timeout_seconds=timeout_seconds,
        allow_watch_bookmarks=True, send_initial_events=True,
    )


# --- writes ---------------------------------------------------------------------------


def _write_options(
    dry_run: bool, field_manager: str | None, field_validation: str | None
) -> tuple[tuple[str, str], ...]:
    if dry_run is False and field_manager is None and field_validation is None:
        return ()  # what options() makes of them, without building its keywords
    return options(dry_run=dry_run, field_manager=field_manager, field_validation=field_validation)


def create(
    info: ResourceInfo,
    body: bytes,
    *,
    namespace: str | None = None,
    name: str | None = None,
    subresource: str | None = None,
    dry_run: bool = False,
    field_manager: str | None = None,
    field_validation: str | None = None,
) -> Request:
    """POST a new object to a collection, or to an object's subresource (eviction, token)."""
    return Request(
        "POST",
        resource_path(info, namespace, name, subresource),
        _write_options(dry_run, field_manager, field_validation),
        body=body,
        content_type=JSON,
    )


def update(
    info: ResourceInfo,
    name: str,
    body: bytes,
    *,
    namespace: str | None = None,
    subresource: str | None = None,
    dry_run: bool = False,
    field_manager: str | None = None,
    field_validation: str | None = None,
) -> Request:
    """PUT a whole object (or subresource); optimistic concurrency via its resourceVersion."""
    return Request(
        "PUT",
        resource_path(info, namespace, name, subresource),
        _write_options(dry_run, field_manager, field_validation),
        body=body,
        content_type=JSON,
    )


def patch(
    info: ResourceInfo,
    name: str,
    body: bytes,
    patch_type: PatchType,
    *,
    namespace: str | None = None,
    subresource: str | None = None,
    dry_run: bool = False,
    field_manager: str | None = None,
    field_validation: str | None = None,
    force: bool | None = None,
) -> Request:
    """PATCH with the given flavour; ``force`` is only meaningful for apply patches."""
    if patch_type is PatchType.APPLY and not field_manager:
        raise ValueError("server-side apply needs a field_manager")
    if force is not None and patch_type is not PatchType.APPLY:
        raise ValueError("force is only allowed with apply patches")
    return Request(
        "PATCH",
        resource_path(info, namespace, name, subresource),
        _write_options(dry_run, field_manager, field_validation)
        + (options(force=force) if force is not None else ()),
        body=body,
        content_type=patch_type.value,
    )


def apply(
    info: ResourceInfo,
    name: str,
    body: bytes,
    *,
    field_manager: str,
    force: bool = False,
    namespace: str | None = None,
    subresource: str | None = None,
    dry_run: bool = False,
    field_validation: str | None = None,
) -> Request:
    """Server-side apply: a PATCH with ``application/apply-patch+yaml`` (JSON is valid YAML)."""
    return patch(
        info,
        name,
        body,
        PatchType.APPLY,
        namespace=namespace,
        subresource=subresource,
        dry_run=dry_run,
        field_manager=field_manager,
        field_validation=field_validation,
        force=force or None,
    )


def delete_options_body(
    *,
    propagation_policy: PropagationPolicy | None = None,
    grace_period_seconds: int | None = None,
    preconditions: Preconditions | None = None,
    dry_run: bool = False,
) -> bytes | None:
    """The DeleteOptions body (meta/v1 ``DeleteOptions``), or ``None`` when every option is
    at its default. Empty preconditions are not sent."""
    if grace_period_seconds is not None and (
        isinstance(grace_period_seconds, bool) or grace_period_seconds < 0
    ):
        raise ValueError(f"grace_period_seconds must be >= 0, got {grace_period_seconds!r}")
    if preconditions is not None and preconditions.uid is None \
            and preconditions.resource_version is None:
        preconditions = None
    if propagation_policy is None and grace_period_seconds is None and preconditions is None \
            and not dry_run:
        return None
    return msgspec.json.encode(
        DeleteOptions(
            kind="DeleteOptions",
            api_version="v1",
            propagation_policy=propagation_policy,
            grace_period_seconds=grace_period_seconds,
            preconditions=preconditions,
            dry_run=["All"] if dry_run else None,
        )
    )


def delete(
    info: ResourceInfo,
    name: str,
    *,
    namespace: str | None = None,
    propagation_policy: PropagationPolicy | None = None,
    grace_period_seconds: int | None = None,
    preconditions: Preconditions | None = None,
    dry_run: bool = False,
) -> Request:
    """DELETE one object; the options travel in a DeleteOptions body (and dryRun in the query)."""
    body = delete_options_body(
        propagation_policy=propagation_policy,
        grace_period_seconds=grace_period_seconds,
        preconditions=preconditions,
        dry_run=dry_run,
    )
    return Request(
        "DELETE",
        resource_path(info, namespace, name),
        options(dry_run=dry_run),
        body=body,
        content_type=JSON if body is not None else None,
    )


def delete_collection(
    info: ResourceInfo,
    *,
    namespace: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
    limit: int | None = None,
    continue_: str | None = None,
    resource_version: str | None = None,
    resource_version_match: str | None = None,
    timeout_seconds: int | None = None,
    propagation_policy: PropagationPolicy | None = None,
    grace_period_seconds: int | None = None,
    preconditions: Preconditions | None = None,
    dry_run: bool = False,
) -> Request:
    """DELETE a whole (selected) collection."""
    body = delete_options_body(
        propagation_policy=propagation_policy,
        grace_period_seconds=grace_period_seconds,
        preconditions=preconditions,
        dry_run=dry_run,
    )
    return Request(
        "DELETE",
        resource_path(info, namespace),
        options(
            dry_run=dry_run,
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_=continue_,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
            timeout_seconds=timeout_seconds,
        ),
        body=body,
        content_type=JSON if body is not None else None,
    )


def log(
    info: ResourceInfo,
    name: str,
    *,
    namespace: str,
    container: str | None = None,
    follow: bool | None = None,
    previous: bool | None = None,
    since_seconds: int | None = None,
    since_time: str | None = None,
    timestamps: bool | None = None,
    tail_lines: int | None = None,
    limit_bytes: int | None = None,
    insecure_skip_tls_verify_backend: bool | None = None,
) -> Request:
    """GET ``pods/{name}/log`` as text; streamed when following."""
    return Request(
        "GET",
        resource_path(info, namespace, name, "log"),
        options(
            container=container,
            follow=follow,
            previous=previous,
            since_seconds=since_seconds,
            since_time=since_time,
            timestamps=timestamps,
            tail_lines=tail_lines,
            limit_bytes=limit_bytes,
            insecure_skip_tls_verify_backend=insecure_skip_tls_verify_backend,
        ),
        stream=bool(follow),
        accept="text/plain, */*",
    )


def raw(
    method: str,
    path: str,
    *,
    params: Iterable[tuple[str, str]] = (),
    body: bytes | None = None,
    content_type: str | None = None,
    stream: bool = False,
    accept: str = JSON,
) -> Request:
    """A request on an arbitrary absolute API path (``/version``, ``/apis``...)."""
    if not path.startswith("/"):
        raise ValueError(f"API paths are absolute, got {path!r}")
    if body is not None and content_type is None:
        content_type = JSON
    return Request(method.upper(), path, tuple(params), body=body,
                   content_type=content_type, stream=stream, accept=accept)


# --- proxy ----------------------------------------------------------------------------

#: The methods the apiserver's proxy subresources accept (its ``connect`` verbs).
PROXY_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: What a named port may be: an IANA_SVC_NAME (DNS-1035-like, at most 15 characters).
_PORT_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
#: Headers the transport owns (credentials, framing, routing): a caller's value for one of
#: them would either be ignored or change what the request means, so they are refused.
_OWNED_HEADERS = frozenset({
    "authorization", "host", "content-length", "transfer-encoding", "connection",
    "upgrade", "te", "trailer", "proxy-authorization", "impersonate-user", "impersonate-group",
    "impersonate-uid",
})
#: What may stay unescaped in one path segment (RFC 3986 pchar minus ``%``, ``;`` and
#: ``=``, which some servers read as parameters).
_SEGMENT_SAFE = "-._~!$&'()*+,:@"


def proxy_target(name: str, *, port: int | str | None = None, scheme: str | None = None) -> str:
    """The ``[scheme:]name[:port]`` segment that names where the apiserver proxies to.

    Kubernetes reads the segment by splitting on ``:`` (``https:web:8443``), so the name
    may not contain one; ``scheme`` is ``http`` or ``https``; a numeric port is 1-65535,
    a named port an IANA service name (the pod's or service's ``ports[].name``).
    """
    if isinstance(name, str) and ":" in name:
        raise ValueError(f"proxy name {name!r} may not contain ':'")
    target = check_segment(name, "name")
    if port is not None:
        if isinstance(port, bool) or not isinstance(port, (int, str)):
            raise ValueError(f"port must be an int or a port name, got {port!r}")
        if isinstance(port, str) and not (port.isascii() and port.isdigit()):
            if not (len(port) <= 15 and _PORT_NAME.fullmatch(port)):
                raise ValueError(f"port {port!r} is neither 1-65535 nor a port name")
        elif not 1 <= int(port) <= 65535:
            raise ValueError(f"port must be 1-65535, got {port!r}")
        target = f"{target}:{port}"
    if scheme is not None:
        if scheme not in ("http", "https"):
            raise ValueError(f"proxy scheme must be 'http' or 'https', got {scheme!r}")
        if port is None:
            target = f"{target}:"  # "https:name:" : the scheme needs the port field present
        target = f"{scheme}:{target}"
    return target


def proxy_path_suffix(path: str) -> str:
    """``path`` (plain, unescaped text) as the escaped tail after ``/proxy``.

    Every segment is percent-escaped on its own (``%``, ``?`` and ``#`` included), so the
    path can carry no query or fragment of its own and no escape the caller did not mean.
    ``.``/``..`` segments and empty segments (``a//b``) are refused: URL normalisation
    (httpx's, the apiserver's path cleaning) would otherwise resolve them and address
    something outside the proxy prefix, such as another resource of the API itself.
    A leading ``/`` is optional; a trailing one is kept (servers tell ``dir/`` from ``dir``);
    an empty path is the target's root, ``/``.
    """
    if not isinstance(path, str):
        raise ValueError(f"proxy path must be a string, got {path!r}")
    body = path[1:] if path.startswith("/") else path
    if not body:
        return "/"  # the apiserver redirects ".../proxy" there (301), which is not followed
    trailing = body.endswith("/")
    if trailing:
        body = body[:-1]
    parts = []
    for segment in body.split("/"):
        if segment in ("", ".", ".."):
            raise ValueError(f"proxy path {path!r}: segment {segment!r} is not allowed")
        parts.append(quote(segment, safe=_SEGMENT_SAFE))
    return "/" + "/".join(parts) + ("/" if trailing else "")


def proxy(
    info: ResourceInfo,
    name: str,
    path: str = "",
    *,
    namespace: str | None = None,
    port: int | str | None = None,
    scheme: str | None = None,
    method: str = "GET",
    params: Iterable[tuple[str, str]] = (),
    body: bytes | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> Request:
    """A request through ``{resource}/{[scheme:]name[:port]}/proxy/{path}`` (pods, services,
    nodes): the apiserver forwards method, query, body and headers to the target.

    ``params`` become the proxied request's query; ``headers`` go with it (the ones the
    transport owns, such as ``Authorization`` and ``Host``, are refused). A body without a
    ``Content-Type`` header is sent as ``application/octet-stream``.
    """
    verb = method.upper() if isinstance(method, str) else method
    if verb not in PROXY_METHODS:
        raise ValueError(f"proxy method must be one of {sorted(PROXY_METHODS)}, got {method!r}")
    if info.namespaced and namespace is None:
        raise ValueError(f"{info.resource} is namespaced: a namespace is required")
    if not info.namespaced and namespace is not None:
        raise ValueError(f"{info.resource} is cluster-scoped: it takes no namespace")
    ns = check_segment(namespace, "namespace") if namespace is not None else None
    full = info.path(namespace=ns, name=proxy_target(name, port=port, scheme=scheme),
                     subresource="proxy") + proxy_path_suffix(path)
    query = tuple((str(k), str(v)) for k, v in params)
    extra: list[tuple[str, str]] = []
    content_type: str | None = None
    accept = "*/*"
    for key, value in headers:
        lower = key.lower()
        if lower in _OWNED_HEADERS:
            raise ValueError(f"header {key!r} is set by the client and may not be given")
        if any(c in key + value for c in "\r\n\0"):
            raise ValueError(f"header {key!r} contains a line break or NUL")
        if lower == "content-type":
            content_type = value
        elif lower == "accept":
            accept = value
        else:
            extra.append((key, value))
    if body is not None and content_type is None:
        content_type = "application/octet-stream"
    return Request(verb, full, query, tuple(extra), body=body, content_type=content_type,
                   accept=accept)
