"""API discovery: server version, API groups, and the resources of each group-version.

Vocabulary: a *group-version* (``apps/v1``, or ``v1`` for the core group) is the unit
the server describes in one *resource list* (``/api/v1``, ``/apis/apps/v1``). Entries
named ``parent/sub`` in a list are subresources and are folded into the parent's
:attr:`ResourceInfo.subresources`.

Caching, as kubectl does it: answers are kept in memory and on disk, one JSON file
per document under ``<cache_dir>/<host_port>/`` (``servergroups.json`` and
``<group>/<version>/serverresources.json``), fresh for ``ttl`` seconds (6 hours, as
kubectl's ``--cache-dir`` discovery cache) judged by file modification time.
:meth:`~DiscoveryClient.invalidate` drops the memory copy and makes every disk file
written before it stale. The default directory is ``$KUBECODEGEN_CACHE_DIR`` or
``$XDG_CACHE_HOME/kubecodegen/discovery`` (``~/.cache/kubecodegen/discovery``).

:class:`DiscoveryCore` holds all of that and the parsing, without network I/O;
:class:`DiscoveryClient` and :class:`AsyncDiscoveryClient` only fetch what it lacks.
Disk reads and writes are a few small local files and are done inline in both.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import msgspec

from . import codec
from .client._async.rest import AsyncRESTClient
from .client._sync.rest import RESTClient
from .errors import ApiError, ResponseError, TransportError
from .meta import ResourceInfo
from .rest import request as rq
from .rest.response import Response, malformed

logger = logging.getLogger("kubecodegen_runtime")

#: kubectl's discovery cache lifetime.
DEFAULT_TTL = 6 * 3600.0

GROUPS_FILE = "servergroups.json"
RESOURCES_FILE = "serverresources.json"


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
    """One resource of a group-version: its :class:`ResourceInfo` and its aliases."""

    info: ResourceInfo
    singular_name: str
    short_names: tuple[str, ...]
    categories: tuple[str, ...]

    def matches(self, name: str) -> bool:
        """Whether ``name`` (case-insensitive) is its kind, plural, singular or short name."""
        name = name.lower()
        return name in (
            self.info.kind.lower(),
            self.info.resource,
            self.singular_name,
            *self.short_names,
        )


class ResourceNotFound(LookupError):
    """No served resource matches the requested kind."""


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
        versions = _parse(legacy, _APIVersions, "/api").versions
        if versions:
            out.append(APIGroup("", tuple(versions), versions[0]))
    if groups:
        for group in _parse(groups, _APIGroupList, "/apis").groups:
            served = tuple(v.version for v in group.versions)
            if not served:
                continue
            preferred = group.preferred_version.version if group.preferred_version else served[0]
            out.append(APIGroup(group.name, served, preferred))
    return out


def split_group_version(group_version: str) -> tuple[str, str]:
    group, _, version = group_version.rpartition("/")
    return group, version


def parse_resources(group_version: str, body: bytes) -> list[APIResource]:
    """The resources of one group-version, with ``parent/sub`` entries folded in."""
    group, version = split_group_version(group_version)
    entries = _parse(body, _APIResourceList, resources_path(group_version)).resources
    subs: dict[str, dict[str, frozenset[str]]] = {}
    for entry in entries:
        parent, slash, sub = entry.name.partition("/")
        if slash:
            subs.setdefault(parent, {})[sub] = frozenset(entry.verbs)
    out: list[APIResource] = []
    for entry in entries:
        if "/" in entry.name:
            continue
        info = ResourceInfo(
            group=group,
            version=version,
            resource=entry.name,
            kind=entry.kind,
            namespaced=entry.namespaced,
            verbs=frozenset(entry.verbs),
            subresources=subs.get(entry.name, {}),
        )
        out.append(APIResource(info, entry.singular_name or entry.kind.lower(),
                               tuple(entry.short_names), tuple(entry.categories)))
    return out


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


# --- cache + resolution (no network) ------------------------------------------------


class DiscoveryCore:
    """Memory and disk cache of discovery documents, and lookups over them.

    Documents are keyed by their disk file name relative to the host directory.
    ``cache_dir=None`` keeps everything in memory only.
    """

    def __init__(
        self,
        server: str,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.dir = Path(cache_dir) / host_dir_name(server) if cache_dir is not None else None
        self.ttl = ttl
        self._clock = clock
        self._memory: dict[str, tuple[float, bytes]] = {}
        self._invalidated_at = 0.0
        self.disk_hits = 0

    def invalidate(self) -> None:
        """Forget everything: memory now, disk files written before now."""
        self._memory.clear()
        self._invalidated_at = self._clock()

    def lookup(self, key: str) -> bytes | None:
        """A fresh cached document, from memory or disk, or ``None``."""
        now = self._clock()
        found = self._memory.get(key)
        if found is not None and now - found[0] < self.ttl:
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


def candidate_group_versions(
    groups: Iterable[APIGroup], group: str | None, version: str | None
) -> list[str]:
    """Group-versions to search, preferred versions first, in server group order."""
    selected = [g for g in groups if group is None or g.name == group]
    out: list[str] = []
    for g in selected:
        if version is not None:
            if version in g.versions:
                out.append(g.group_version(version))
        else:
            out.append(g.group_version(g.preferred_version))
    if version is None:
        for g in selected:
            out.extend(g.group_version(v) for v in g.versions if v != g.preferred_version)
    return out


def split_kind(kind: str) -> tuple[str, str | None]:
    """``"Deployment.apps"`` -> ``("Deployment", "apps")``; a bare kind has no group."""
    name, dot, group = kind.partition(".")
    if not name:
        raise ValueError(f"not a kind: {kind!r}")
    return name, (group if dot else None)


def _not_found(kind: str, version: str | None) -> ResourceNotFound:
    where = f" in version {version}" if version else ""
    return ResourceNotFound(f"the server has no resource for kind {kind!r}{where}")


#: A group-version whose discovery fails this way is skipped (as kubectl does), not fatal.
_SKIPPABLE = (ApiError, TransportError, ResponseError)


class DiscoveryClient:
    """Blocking discovery over a :class:`RESTClient`."""

    def __init__(
        self,
        rest: RESTClient,
        *,
        cache_dir: str | os.PathLike[str] | bool | None = True,
        ttl: float = DEFAULT_TTL,
    ) -> None:
        self._rest = rest
        directory = default_cache_dir() if cache_dir is True else (cache_dir or None)
        self.core = DiscoveryCore(rest.config.server, cache_dir=directory, ttl=ttl)

    def invalidate(self) -> None:
        self.core.invalidate()

    def _fetch(self, key: str, path: str) -> bytes:
        body = self.core.lookup(key)
        if body is None:
            body = self._rest.send(rq.raw("GET", path)).body
            self.core.store(key, body)
        return body

    def server_version(self) -> VersionInfo:
        return parse_version(self._rest.send(rq.raw("GET", "/version")).body)

    def server_groups(self) -> list[APIGroup]:
        legacy = self._fetch("api.json", "/api")
        groups = self._fetch(GROUPS_FILE, "/apis")
        return parse_groups(legacy, groups)

    def server_resources(self, group_version: str) -> list[APIResource]:
        key = DiscoveryCore.resources_key(group_version)
        return parse_resources(group_version, self._fetch(key, resources_path(group_version)))

    def resolve_kind(self, kind: str, version: str | None = None) -> ResourceInfo:
        """The resource for a kind (``"Deployment"``, ``"Deployment.apps"``, ``"deploy"``)."""
        name, group = split_kind(kind)
        for gv in candidate_group_versions(self.server_groups(), group, version):
            try:
                resources = self.server_resources(gv)
            except _SKIPPABLE as exc:
                logger.warning("discovery of %s failed, skipped: %s", gv, exc)
                continue
            for res in resources:
                if res.matches(name):
                    return res.info
        raise _not_found(kind, version)


class AsyncDiscoveryClient:
    """Async twin of :class:`DiscoveryClient` over an :class:`AsyncRESTClient`."""

    def __init__(
        self,
        rest: AsyncRESTClient,
        *,
        cache_dir: str | os.PathLike[str] | bool | None = True,
        ttl: float = DEFAULT_TTL,
    ) -> None:
        self._rest = rest
        directory = default_cache_dir() if cache_dir is True else (cache_dir or None)
        self.core = DiscoveryCore(rest.config.server, cache_dir=directory, ttl=ttl)

    def invalidate(self) -> None:
        self.core.invalidate()

    async def _fetch(self, key: str, path: str) -> bytes:
        body = self.core.lookup(key)
        if body is None:
            body = (await self._rest.send(rq.raw("GET", path))).body
            self.core.store(key, body)
        return body

    async def server_version(self) -> VersionInfo:
        return parse_version((await self._rest.send(rq.raw("GET", "/version"))).body)

    async def server_groups(self) -> list[APIGroup]:
        legacy = await self._fetch("api.json", "/api")
        groups = await self._fetch(GROUPS_FILE, "/apis")
        return parse_groups(legacy, groups)

    async def server_resources(self, group_version: str) -> list[APIResource]:
        key = DiscoveryCore.resources_key(group_version)
        return parse_resources(group_version, await self._fetch(key, resources_path(group_version)))

    async def resolve_kind(self, kind: str, version: str | None = None) -> ResourceInfo:
        name, group = split_kind(kind)
        for gv in candidate_group_versions(await self.server_groups(), group, version):
            try:
                resources = await self.server_resources(gv)
            except _SKIPPABLE as exc:
                logger.warning("discovery of %s failed, skipped: %s", gv, exc)
                continue
            for res in resources:
                if res.matches(name):
                    return res.info
        raise _not_found(kind, version)
