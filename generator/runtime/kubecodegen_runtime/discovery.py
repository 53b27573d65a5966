"""API discovery: server version, API groups, and the resources of each group-version.

Vocabulary: a *group-version* (``apps/v1``, or ``v1`` for the core group) is the unit
the server describes in one *resource list* (``/api/v1``, ``/apis/apps/v1``). Entries
named ``parent/sub`` in a list are subresources and are folded into the parent's
:attr:`ResourceInfo.subresources`.

Two ways to learn everything, chosen by the server's answer (as client-go does):

* *aggregated* discovery (Kubernetes 1.26+): ``/api`` and ``/apis``, asked for an
  ``apidiscovery.k8s.io`` ``APIGroupDiscoveryList`` (see :mod:`.apis.apidiscovery_v2`),
  answer with every group, version and resource: two requests in all;
* *legacy* discovery: the server ignored the request for the aggregated form (the
  answer's ``Content-Type`` says so) and sent ``APIVersions``/``APIGroupList``; each
  group-version's resource list is then fetched on its own: N+2 requests.

:meth:`DiscoveryClient.server_groups_and_resources` returns a :class:`ServerResources`
either way; a group-version that could not be discovered (a failed request, or one the
aggregated answer marks ``Stale``) is in its ``failed`` map rather than an error for
the whole call, as client-go's ``ErrGroupDiscoveryFailed`` carries partial results.

Caching, as kubectl does it: answers are kept in memory and on disk, one JSON file
per document under ``<cache_dir>/<host_port>/`` (``servergroups.json`` and
``<group>/<version>/serverresources.json``; the aggregated answers as
``aggregated/api.json`` and ``aggregated/apis.json``), fresh for ``ttl`` seconds (6
hours, as kubectl's ``--cache-dir`` discovery cache) judged by file modification time.
An aggregated answer with a stale version is not cached. :meth:`~DiscoveryClient.invalidate`
drops the memory copy and makes every disk file written before it stale. The default
directory is ``$KUBECODEGEN_CACHE_DIR`` or ``$XDG_CACHE_HOME/kubecodegen/discovery``
(``~/.cache/kubecodegen/discovery``).

:class:`DiscoveryCore` holds all of that, the parsing and the order of requests, without
network I/O: each lookup is a *plan*, a generator that yields the batch of requests it
needs and receives their outcomes. :class:`DiscoveryClient` and
:class:`AsyncDiscoveryClient` only send what a plan asks for (the async one sends a
batch concurrently). Disk reads and writes are a few small local files and are done
inline in both.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

import msgspec

from . import codec
from .apis import apidiscovery_v2 as agg
from .client._async.rest import AsyncRESTClient
from .client._sync.rest import RESTClient
from .errors import (
    ApiError,
    KubernetesError,
    NotFound,
    ResponseError,
    TransportError,
    UnexpectedKind,
)
from .meta import ResourceInfo
from .rest import request as rq
from .rest.request import Request
from .rest.response import Response, malformed

if TYPE_CHECKING:
    from .restmapper import AsyncDeferredRESTMapper, DeferredRESTMapper

logger = logging.getLogger("kubecodegen_runtime")

#: kubectl's discovery cache lifetime.
DEFAULT_TTL = 6 * 3600.0

GROUPS_FILE = "servergroups.json"
RESOURCES_FILE = "serverresources.json"
LEGACY_ROOT_FILE = "api.json"
#: Cache files of the aggregated answers of ``/api`` and ``/apis``.
AGGREGATED_FILES = {"/api": "aggregated/api.json", "/apis": "aggregated/apis.json"}
LEGACY_FILES = {"/api": LEGACY_ROOT_FILE, "/apis": GROUPS_FILE}
ROOTS = ("/api", "/apis")


# --- wire shapes --------------------------------------------------------------------


class VersionInfo(msgspec.Struct, rename="camel", omit_defaults=True):
    """``/version``: the server's build information."""

    major: str = ""
    minor: str = ""
    git_version: str = ""
    git_commit: str = ""
    git_tree_state: str = ""
    build_date: str = ""
    go_version: str = ""
    compiler: str = ""
    platform: str = ""


class _GroupVersionForDiscovery(msgspec.Struct, rename="camel"):
    group_version: str
    version: str


class _APIGroup(msgspec.Struct, rename="camel"):
    name: str
    versions: list[_GroupVersionForDiscovery] = []
    preferred_version: _GroupVersionForDiscovery | None = None


class _APIGroupList(msgspec.Struct):
    groups: list[_APIGroup] = []


class _APIVersions(msgspec.Struct):
    versions: list[str] = []


class _APIResource(msgspec.Struct, rename="camel"):
    name: str
    namespaced: bool = False
    kind: str = ""
    verbs: list[str] = []
    singular_name: str = ""
    short_names: list[str] = []
    categories: list[str] = []
    group: str | None = None
    version: str | None = None


class _APIResourceList(msgspec.Struct, rename="camel"):
    group_version: str = ""
    resources: list[_APIResource] = []


# --- records ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class APIGroup:
    """An API group with its served versions (most preferred first) and preferred one."""

    name: str
    versions: tuple[str, ...]
    preferred_version: str

    def group_version(self, version: str) -> str:
        return f"{self.name}/{version}" if self.name else version


@dataclass(frozen=True, slots=True)
class APIResource:
    """One resource of a group-version: its :class:`ResourceInfo` and its aliases.

    Which names find it, and in what order of preference, is the RESTMapper's business
    (:mod:`.restmapper`), not this record's.
    """

    info: ResourceInfo
    singular_name: str
    short_names: tuple[str, ...]
    categories: tuple[str, ...]


class ResourceNotFound(LookupError):
    """No served resource matches the requested kind or name."""


class StaleGroupVersion(KubernetesError):
    """The aggregated discovery answer marks this group-version ``Stale``: the server
    could not refresh it (typically an aggregated API server that is down)."""

    def __init__(self, group_version: str) -> None:
        super().__init__(f"stale group-version in aggregated discovery: {group_version}")
        self.group_version = group_version


class GroupDiscoveryFailed(KubernetesError):
    """Some group-versions could not be discovered (client-go's ``ErrGroupDiscoveryFailed``).

    ``failed`` maps each group-version to why; ``partial`` is everything that was found.
    """

    def __init__(self, failed: Mapping[str, Exception], partial: ServerResources) -> None:
        reasons = ", ".join(f"{gv}: {exc}" for gv, exc in sorted(failed.items()))
        super().__init__(f"unable to retrieve the complete list of server APIs: {reasons}")
        self.failed = dict(failed)
        self.partial = partial


@dataclass(frozen=True)
class ServerResources:
    """Every group and the resources of every group-version, in the server's order.

    ``resources`` maps a group-version (``apps/v1``, ``v1``) to its resources; a
    group-version in ``failed`` has no entry. ``aggregated`` says which discovery form
    the server answered with.
    """

    groups: tuple[APIGroup, ...]
    resources: Mapping[str, tuple[APIResource, ...]]
    failed: Mapping[str, Exception] = field(default_factory=dict)
    aggregated: bool = False

    def __iter__(self) -> Iterator[APIResource]:
        """Every resource of every discovered group-version, group by group."""
        for group in self.groups:
            for version in group.versions:
                yield from self.resources.get(group.group_version(version), ())

    def raise_for_failed(self) -> None:
        """Raise :class:`GroupDiscoveryFailed` if any group-version failed."""
        if self.failed:
            raise GroupDiscoveryFailed(self.failed, self)

    def preferred(self) -> ServerResources:
        """Each resource once, at the version client-go's ``ServerPreferredResources`` picks.

        That is the group's preferred version when the resource is served there, else the
        first version (in the server's order) that serves it. Group-versions that keep no
        resource stay, empty, as in client-go.
        """
        chosen: dict[tuple[str, str], str] = {}
        for group in self.groups:
            for version in group.versions:
                for res in self.resources.get(group.group_version(version), ()):
                    key = (group.name, res.info.resource)
                    if key not in chosen or version == group.preferred_version:
                        chosen[key] = version
        kept = {
            gv: tuple(r for r in items if chosen.get((r.info.group, r.info.resource)) == r.info.version)
            for gv, items in self.resources.items()
        }
        return ServerResources(self.groups, kept, self.failed, self.aggregated)


# --- pure parsing -------------------------------------------------------------------


T = TypeVar("T")


def _parse(body: bytes, tp: type[T], path: str) -> T:
    """Decode a discovery document; a malformed one (from the server or a corrupt cache
    file) is a :class:`~.errors.MalformedResponse` naming the path and JSON path."""
    try:
        return codec.decode(body, tp)
    except msgspec.DecodeError as exc:
        raise malformed(Response(200, (), body, "GET", path), exc, tp.__name__) from None


def parse_version(body: bytes) -> VersionInfo:
    return _parse(body, VersionInfo, "/version")


def parse_groups(legacy: bytes | None, groups: bytes | None) -> list[APIGroup]:
    """Groups from ``/api`` (the core group, named ``""``) and ``/apis``, in server order."""
    out: list[APIGroup] = []
    if legacy:
        out.extend(_legacy_root_groups("/api", legacy))
    if groups:
        out.extend(_legacy_root_groups("/apis", groups))
    return out


def _legacy_root_groups(path: str, body: bytes) -> list[APIGroup]:
    if path == "/api":
        versions = _parse(body, _APIVersions, "/api").versions
        return [APIGroup("", tuple(versions), versions[0])] if versions else []
    out: list[APIGroup] = []
    for group in _parse(body, _APIGroupList, "/apis").groups:
        served = tuple(v.version for v in group.versions)
        if not served:
            continue
        preferred = group.preferred_version.version if group.preferred_version else served[0]
        out.append(APIGroup(group.name, served, preferred))
    return out


def split_group_version(group_version: str) -> tuple[str, str]:
    group, _, version = group_version.rpartition("/")
    return group, version


def _record(group: str, version: str, name: str, kind: str, namespaced: bool, verbs: Sequence[str],
            subresources: dict[str, frozenset[str]], singular: str, short_names: Sequence[str],
            categories: Sequence[str]) -> APIResource:
    """The one place a discovered resource becomes a record, whichever form described it.

    Servers before 1.22 leave ``singularName`` empty for built-in resources; client-go's
    discovery mapper then uses the lower-cased kind, and so does this.
    """
    info = ResourceInfo(group=group, version=version, resource=name, kind=kind,
                        namespaced=namespaced, verbs=frozenset(verbs), subresources=subresources)
    return APIResource(info, singular or kind.lower(), tuple(short_names), tuple(categories))


def parse_resources(group_version: str, body: bytes) -> list[APIResource]:
    """The resources of one group-version, with ``parent/sub`` entries folded in.

    Parsed once per distinct document: the records are immutable and a pure function of
    ``(group_version, body)``, and a legacy discovery (a 1.20 server, the fake) reads the
    same few dozen documents again for every new client. A failing document raises each
    time (it is never stored).
    """
    key = (group_version, bytes(body))
    found = _PARSED.get(key)
    if found is None:
        found = tuple(_parse_resources(group_version, body))
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[key] = found
    return list(found)


#: The memo of :func:`parse_resources`, bounded (cleared when full).
_PARSED: dict[tuple[str, bytes], tuple[APIResource, ...]] = {}
_PARSED_MAX = 512


def _parse_resources(group_version: str, body: bytes) -> list[APIResource]:
    group, version = split_group_version(group_version)
    entries = _parse(body, _APIResourceList, resources_path(group_version)).resources
    subs: dict[str, dict[str, frozenset[str]]] = {}
    for entry in entries:
        parent, slash, sub = entry.name.partition("/")
        if slash:
            subs.setdefault(parent, {})[sub] = frozenset(entry.verbs)
    return [
        _record(group, version, entry.name, entry.kind, entry.namespaced, entry.verbs,
                subs.get(entry.name, {}), entry.singular_name, entry.short_names, entry.categories)
        for entry in entries if "/" not in entry.name
    ]


@dataclass(frozen=True)
class AggregatedRoot:
    """One aggregated answer (of ``/api`` or ``/apis``), split as client-go's
    ``SplitGroupsAndResources`` does: groups with their non-stale versions (the first one
    preferred), the resources of each, and the stale group-versions."""

    groups: tuple[APIGroup, ...]
    resources: dict[str, tuple[APIResource, ...]]
    stale: tuple[str, ...]


def parse_aggregated(path: str, body: bytes) -> AggregatedRoot:
    """Read an ``APIGroupDiscoveryList`` (v2 or v2beta1: the same fields).

    A resource without a ``responseKind`` is left out (client-go drops it too); a
    subresource's verbs are folded into its parent's :class:`ResourceInfo`. A body of
    another kind under an aggregated Content-Type (a proxy rewriting answers) is refused
    as :class:`~.errors.UnexpectedKind` rather than read as a server with no groups.
    """
    doc = _parse(body, agg.APIGroupDiscoveryList, path)
    if doc.kind != agg.LIST_KIND:
        raise UnexpectedKind(
            f"expected an {agg.LIST_KIND}, got kind {doc.kind!r}", kind=doc.kind or None,
            api_version=doc.api_version or None, method="GET", path=path, expected=agg.LIST_KIND)
    groups: list[APIGroup] = []
    resources: dict[str, tuple[APIResource, ...]] = {}
    stale: list[str] = []
    for item in doc.items:
        name = item.metadata.name
        served: list[str] = []
        for ver in item.versions:
            gv = f"{name}/{ver.version}" if name else ver.version
            if ver.freshness == agg.FRESHNESS_STALE:
                stale.append(gv)
                continue
            served.append(ver.version)
            resources[gv] = tuple(
                _record(name, ver.version, res.resource, res.response_kind.kind,
                        res.scope == "Namespaced", res.verbs,
                        {sub.subresource: frozenset(sub.verbs) for sub in res.subresources},
                        res.singular_resource, res.short_names, res.categories)
                for res in ver.resources if res.response_kind is not None and res.response_kind.kind
            )
        if served:
            groups.append(APIGroup(name, tuple(served), served[0]))
    return AggregatedRoot(tuple(groups), resources, tuple(stale))


def resources_path(group_version: str) -> str:
    group, version = split_group_version(group_version)
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


def host_dir_name(server: str) -> str:
    """A directory name for a server URL (``https://h:6443/x`` -> ``h_6443_x``)."""
    parts = urlsplit(server)
    if parts.hostname:
        text = parts.hostname + (f"_{parts.port}" if parts.port else "") + parts.path.rstrip("/")
    else:
        text = server
    return re.sub(r"[^\w.-]", "_", text).strip("_") or "default"


def default_cache_dir() -> Path:
    explicit = os.environ.get("KUBECODEGEN_CACHE_DIR")
    if explicit:
        return Path(explicit) / "discovery"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kubecodegen" / "discovery"


# --- plans: the order of requests, without I/O --------------------------------------

#: A request's outcome as a plan receives it: the answer, or the error that ended it.
Outcome = Response | KubernetesError
#: A lookup as a generator: it yields batches of requests (sendable in any order, or at
#: once) and is sent the list of their outcomes, in the same order.
Plan = Generator[tuple[Request, ...], list[Outcome], T]

#: A group-version whose discovery fails this way is reported failed (as client-go
#: does), not fatal to the whole discovery.
_SKIPPABLE = (ApiError, TransportError, ResponseError)


def _answer(outcome: Outcome) -> Response:
    if isinstance(outcome, Response):
        return outcome
    raise outcome


@dataclass(frozen=True)
class _Root:
    """What one of ``/api``, ``/apis`` said: always groups; resources if aggregated."""

    groups: tuple[APIGroup, ...]
    aggregated: AggregatedRoot | None


# --- cache + plans (no network) -----------------------------------------------------


class DiscoveryCore:
    """Memory and disk cache of discovery documents, and the plans that read them.

    Documents are keyed by their disk file name relative to the host directory.
    ``cache_dir=None`` keeps everything in memory only. ``requests`` counts the
    requests its plans asked for; ``hits`` the documents answered from the cache.
    ``legacy=True`` never asks for the aggregated form (client-go's ``WithLegacy``).
    """

    def __init__(
        self,
        server: str,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
        legacy: bool = False,
    ) -> None:
        self.legacy = legacy
        self._accept = rq.JSON if legacy else agg.ACCEPT
        self.dir = Path(cache_dir) / host_dir_name(server) if cache_dir is not None else None
        self.ttl = ttl
        self._clock = clock
        self._memory: dict[str, tuple[float, bytes]] = {}
        self._invalidated_at = 0.0
        self.disk_hits = 0
        self.hits = 0
        self.requests = 0

    def invalidate(self) -> None:
        """Forget everything: memory now, disk files written before now."""
        self._memory.clear()
        self._invalidated_at = self._clock()

    def lookup(self, key: str) -> bytes | None:
        """A fresh cached document, from memory or disk, or ``None``."""
        now = self._clock()
        found = self._memory.get(key)
        if found is not None and now - found[0] < self.ttl:
            self.hits += 1
            return found[1]
        if self.dir is None:
            return None
        path = self.dir / key
        try:
            mtime = path.stat().st_mtime
            if mtime <= self._invalidated_at or now - mtime >= self.ttl:
                return None
            body = path.read_bytes()
        except OSError:
            return None
        self._memory[key] = (mtime, body)
        self.disk_hits += 1
        self.hits += 1
        return body

    def store(self, key: str, body: bytes) -> None:
        """Remember a fetched document (atomically written on disk, owner-only)."""
        now = self._clock()
        self._memory[key] = (now, body)
        if self.dir is None:
            return
        path = self.dir / key
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(body)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError as exc:  # a read-only home must not break discovery
            logger.debug("discovery cache not written to %s: %s", path, exc)

    @staticmethod
    def resources_key(group_version: str) -> str:
        group, version = split_group_version(group_version)
        return f"{group or 'core'}/{version}/{RESOURCES_FILE}"

    # --- roots: /api and /apis -------------------------------------------------------

    def _cached_root(self, path: str) -> _Root | None:
        body = None if self.legacy else self.lookup(AGGREGATED_FILES[path])
        if body is not None:
            found = parse_aggregated(path, body)
            return _Root(found.groups, found)
        body = self.lookup(LEGACY_FILES[path])
        if body is not None:
            return _Root(tuple(_legacy_root_groups(path, body)), None)
        return None

    def _read_root(self, path: str, outcome: Outcome) -> _Root:
        """One root's answer; a 404 from ``/api`` is an empty core group (aggregated API
        servers answer so), as client-go tolerates it."""
        if path == "/api" and isinstance(outcome, NotFound):
            return _Root((), AggregatedRoot((), {}, ()))
        resp = _answer(outcome)
        if agg.aggregated_version(resp.header("content-type")) is not None:
            found = parse_aggregated(path, resp.body)
            if not found.stale:  # stale data is asked for again next time
                self.store(AGGREGATED_FILES[path], resp.body)
            return _Root(found.groups, found)
        groups = tuple(_legacy_root_groups(path, resp.body))
        self.store(LEGACY_FILES[path], resp.body)
        return _Root(groups, None)

    def _roots(self) -> Plan[tuple[_Root, _Root]]:
        """``/api`` and ``/apis`` (cached, or asked for together, aggregated form first)."""
        roots = {path: self._cached_root(path) for path in ROOTS}
        missing = tuple(path for path in ROOTS if roots[path] is None)
        if missing:
            self.requests += len(missing)
            outcomes = yield tuple(rq.raw("GET", path, accept=self._accept) for path in missing)
            for path, outcome in zip(missing, outcomes, strict=True):
                roots[path] = self._read_root(path, outcome)
        core, apis = roots["/api"], roots["/apis"]
        assert core is not None and apis is not None
        return core, apis

    # --- plans -----------------------------------------------------------------------

    def plan_groups(self) -> Plan[list[APIGroup]]:
        core, apis = yield from self._roots()
        return [*core.groups, *apis.groups]

    def plan_resources(self, group_version: str) -> Plan[list[APIResource]]:
        """One group-version's resources: from a cached aggregated answer when it has
        them, else from its own resource list (cached, or one request)."""
        group, _ = split_group_version(group_version)
        root = self._cached_root("/apis" if group else "/api")
        if root is not None and root.aggregated is not None:
            found = root.aggregated.resources.get(group_version)
            if found is not None:
                return list(found)
        key = self.resources_key(group_version)
        body = self.lookup(key)
        if body is None:
            self.requests += 1
            (outcome,) = yield (rq.raw("GET", resources_path(group_version)),)
            body = _answer(outcome).body
            self.store(key, body)
        return parse_resources(group_version, body)

    def plan_groups_and_resources(self) -> Plan[ServerResources]:
        """Everything: one aggregated pair of answers, or the legacy N+2 (client-go's
        ``GroupsAndMaybeResources`` then ``fetchGroupVersionResources``).

        Resources are taken from the aggregated answers only when both roots gave one,
        as client-go does "for safety"; otherwise every group-version is read alone.
        """
        core, apis = yield from self._roots()
        groups = (*core.groups, *apis.groups)
        failed: dict[str, Exception] = {}
        if core.aggregated is not None and apis.aggregated is not None:
            resources = {**core.aggregated.resources, **apis.aggregated.resources}
            for gv in (*core.aggregated.stale, *apis.aggregated.stale):
                failed[gv] = StaleGroupVersion(gv)
            return self._finish(ServerResources(groups, resources, failed, aggregated=True))
        bodies: dict[str, bytes] = {}
        wanted = [g.group_version(v) for g in groups for v in g.versions]
        for gv in wanted:
            body = self.lookup(self.resources_key(gv))
            if body is not None:
                bodies[gv] = body
        missing = tuple(gv for gv in wanted if gv not in bodies)
        if missing:
            self.requests += len(missing)
            outcomes = yield tuple(rq.raw("GET", resources_path(gv)) for gv in missing)
            for gv, outcome in zip(missing, outcomes, strict=True):
                if isinstance(outcome, Response):
                    bodies[gv] = outcome.body
                    self.store(self.resources_key(gv), outcome.body)
                elif gv == "v1" and isinstance(outcome, NotFound):
                    bodies[gv] = b"{}"  # client-go tolerates a missing core/v1 list
                else:
                    failed[gv] = outcome
        resources = {}
        for gv in wanted:
            if gv in bodies:
                try:
                    resources[gv] = tuple(parse_resources(gv, bodies[gv]))
                except ResponseError as exc:
                    failed[gv] = exc
        return self._finish(ServerResources(groups, resources, failed, aggregated=False))

    @staticmethod
    def _finish(found: ServerResources) -> ServerResources:
        for gv, exc in found.failed.items():
            logger.warning("discovery of %s failed: %s", gv, exc)
        return found


def split_kind(kind: str) -> tuple[str, str | None]:
    """``"Deployment.apps"`` -> ``("Deployment", "apps")``; a bare kind has no group."""
    name, dot, group = kind.partition(".")
    if not name:
        raise ValueError(f"not a kind: {kind!r}")
    return name, (group if dot else None)


# --- drivers: send what a plan asks for ---------------------------------------------


def _cache_dir(cache_dir: str | os.PathLike[str] | bool | None,
               rest: object = None) -> Path | str | os.PathLike[str] | None:
    """The disk cache to use. The default one is skipped for a client whose transport
    keeps no state outside the process (``memory_only``: the fake API server), whose
    documents would otherwise be shared on disk by every fake cluster."""
    if cache_dir is True:
        transport = getattr(rest, "_transport", None)
        return None if getattr(transport, "memory_only", False) else default_cache_dir()
    return cache_dir or None


class DiscoveryClient:
    """Blocking discovery over a :class:`RESTClient`.

    ``legacy=True`` reads the per-group-version documents even from a server that
    aggregates discovery (to compare both, or past a proxy that mangles the answer).
    """

    def __init__(
        self,
        rest: RESTClient,
        *,
        cache_dir: str | os.PathLike[str] | bool | None = True,
        ttl: float = DEFAULT_TTL,
        legacy: bool = False,
    ) -> None:
        self._rest = rest
        self.core = DiscoveryCore(rest.config.server, cache_dir=_cache_dir(cache_dir, rest), ttl=ttl,
                                  legacy=legacy)
        self._mapper: DeferredRESTMapper | None = None

    def invalidate(self) -> None:
        """Forget every cached document, and the mapper built from them."""
        self.core.invalidate()
        if self._mapper is not None:
            self._mapper.cache.reset()

    @property
    def mapper(self) -> DeferredRESTMapper:
        """This client's RESTMapper: built on first use, re-discovered once on a miss."""
        if self._mapper is None:
            from .restmapper import DeferredRESTMapper  # restmapper builds on this module

            self._mapper = DeferredRESTMapper(self)
        return self._mapper

    def _outcome(self, req: Request) -> Outcome:
        try:
            return self._rest.send(req)
        except _SKIPPABLE as exc:
            return exc

    def _run(self, plan: Plan[T]) -> T:
        try:
            batch = next(plan)
            while True:
                batch = plan.send([self._outcome(req) for req in batch])
        except StopIteration as done:
            result: T = done.value
            return result

    def server_version(self) -> VersionInfo:
        return parse_version(self._rest.send(rq.raw("GET", "/version")).body)

    def server_groups(self) -> list[APIGroup]:
        return self._run(self.core.plan_groups())

    def server_resources(self, group_version: str) -> list[APIResource]:
        return self._run(self.core.plan_resources(group_version))

    def server_groups_and_resources(self) -> ServerResources:
        """Every group and resource; two requests where the server aggregates discovery."""
        return self._run(self.core.plan_groups_and_resources())

    def server_preferred_resources(self) -> ServerResources:
        """Each resource once, at its preferred version (see :meth:`ServerResources.preferred`)."""
        return self.server_groups_and_resources().preferred()

    def resolve_kind(self, kind: str, version: str | None = None) -> ResourceInfo:
        """The resource for a kind (``"Deployment"``, ``"Deployment.apps"``, ``"deploy"``).

        Kubectl's resolution (:meth:`~.restmapper.RESTMapper.find`) through :attr:`mapper`;
        a miss re-discovers once before raising :class:`~.restmapper.NoResourceMatch`
        (a :class:`ResourceNotFound`).
        """
        name, group = split_kind(kind)
        return self.mapper.find(name, group=group, version=version)


class AsyncDiscoveryClient:
    """Async twin of :class:`DiscoveryClient` over an :class:`AsyncRESTClient`."""

    def __init__(
        self,
        rest: AsyncRESTClient,
        *,
        cache_dir: str | os.PathLike[str] | bool | None = True,
        ttl: float = DEFAULT_TTL,
        legacy: bool = False,
    ) -> None:
        self._rest = rest
        self.core = DiscoveryCore(rest.config.server, cache_dir=_cache_dir(cache_dir, rest), ttl=ttl,
                                  legacy=legacy)
        self._mapper: AsyncDeferredRESTMapper | None = None

    def invalidate(self) -> None:
        self.core.invalidate()
        if self._mapper is not None:
            self._mapper.cache.reset()

    @property
    def mapper(self) -> AsyncDeferredRESTMapper:
        if self._mapper is None:
            from .restmapper import AsyncDeferredRESTMapper

            self._mapper = AsyncDeferredRESTMapper(self)
        return self._mapper

    async def _outcome(self, req: Request) -> Outcome:
        try:
            return await self._rest.send(req)
        except _SKIPPABLE as exc:
            return exc

    async def _run(self, plan: Plan[T]) -> T:
        try:
            batch = next(plan)
            while True:
                outcomes = await asyncio.gather(*(self._outcome(req) for req in batch))
                batch = plan.send(list(outcomes))
        except StopIteration as done:
            result: T = done.value
            return result

    async def server_version(self) -> VersionInfo:
        return parse_version((await self._rest.send(rq.raw("GET", "/version"))).body)

    async def server_groups(self) -> list[APIGroup]:
        return await self._run(self.core.plan_groups())

    async def server_resources(self, group_version: str) -> list[APIResource]:
        return await self._run(self.core.plan_resources(group_version))

    async def server_groups_and_resources(self) -> ServerResources:
        return await self._run(self.core.plan_groups_and_resources())

    async def server_preferred_resources(self) -> ServerResources:
        return (await self.server_groups_and_resources()).preferred()

    async def resolve_kind(self, kind: str, version: str | None = None) -> ResourceInfo:
        name, group = split_kind(kind)
        return await self.mapper.find(name, group=group, version=version)
