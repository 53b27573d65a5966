"""RESTMapper: kind <-> resource over what the server serves, as client-go's restmapper.

A :class:`RESTMapper` is built from one :class:`~.discovery.ServerResources` and answers
without I/O:

* :meth:`~RESTMapper.resource_for` -- a resource name (plural, singular, or short name)
  with an optional group and version -> the resource;
* :meth:`~RESTMapper.rest_mapping` -- a kind with an optional group and versions ->
  the resource that serves it (client-go's ``RESTMapping``);
* :meth:`~RESTMapper.kind_for` -- a resource -> its kind;
* :meth:`~RESTMapper.category` -- ``all`` and the other categories -> resources;
* :meth:`~RESTMapper.find` -- kubectl's reading of a name: a resource name first, a kind
  second.

Partial requests are resolved by client-go's priority: the core group's ``v1`` first,
then the groups in the server's order, each at its preferred version first and its
other versions after. Two distinct resources matching at the same priority are an
:class:`AmbiguousMatch`. ``group=None`` means any group (``""`` is the core group);
a group that matches no group exactly matches the groups it prefixes (``networking``
finds ``networking.k8s.io``), as in kubectl. Short names are expanded only when the
name is not a plural or singular name, as client-go's ``shortcutExpander`` does.

:class:`DeferredRESTMapper` (and :class:`AsyncDeferredRESTMapper`) build the mapper from
a discovery client on first use, cache it, and on a miss re-discover once (a CRD made
after the mapper was built is found) before raising :class:`NoKindMatch` or
:class:`NoResourceMatch` naming what was asked -- client-go's
``DeferredDiscoveryRESTMapper``. A mapper built from the server less than ``fresh_for``
seconds ago is not rebuilt on a miss, so a loop asking for a kind that does not exist
costs at most one discovery per ``fresh_for`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from .discovery import APIGroup, APIResource, ResourceNotFound, ServerResources
from .meta import GroupVersionKind, ResourceInfo

if TYPE_CHECKING:
    from .discovery import AsyncDiscoveryClient, DiscoveryClient


# --- errors -------------------------------------------------------------------------


def _where(group: str | None, version: str | None) -> str:
    parts = []
    if group is not None:
        parts.append(f"group {group!r}" if group else "the core group")
    if version is not None:
        parts.append(f"version {version!r}")
    return (" in " + ", ".join(parts)) if parts else ""


class NoMatch(ResourceNotFound):
    """Nothing the server serves matches the request (client-go's ``NoMatchError``).

    ``failed`` lists group-versions whose discovery failed and that could have matched:
    the answer may be "unknown" rather than "no".
    """

    def __init__(self, message: str, failed: Iterable[str] = ()) -> None:
        self.failed = tuple(sorted(failed))
        if self.failed:
            message += f" (discovery failed for {', '.join(self.failed)})"
        super().__init__(message)


class NoKindMatch(NoMatch):
    """No served resource has this kind."""

    def __init__(self, kind: str, group: str | None, versions: Sequence[str],
                 failed: Iterable[str] = ()) -> None:
        self.kind, self.group, self.versions = kind, group, tuple(versions)
        where = _where(group, None)
        if versions:
            where += f" at {'version' if len(versions) == 1 else 'versions'} {', '.join(versions)}"
        super().__init__(f"the server has no resource for kind {kind!r}{where}", failed)


class NoResourceMatch(NoMatch):
    """No served resource has this name (plural, singular or short name)."""

    def __init__(self, resource: str, group: str | None, version: str | None,
                 failed: Iterable[str] = ()) -> None:
        self.resource, self.group, self.version = resource, group, version
        super().__init__(
            f"the server has no resource type {resource!r}{_where(group, version)}", failed)


class AmbiguousMatch(LookupError):
    """Two or more distinct resources match at the same priority; ``candidates`` lists them."""

    def __init__(self, asked: str, candidates: Sequence[ResourceInfo]) -> None:
        self.candidates = tuple(candidates)
        names = ", ".join(f"{c.resource}.{c.api_version}" for c in self.candidates)
        super().__init__(f"{asked!r} matches more than one resource: {names}")


# --- the mapper (pure) --------------------------------------------------------------


def _priority(groups: Sequence[APIGroup]) -> list[tuple[str, str]]:
    """Group-versions in client-go's ``NewDiscoveryRESTMapper`` priority order."""
    order: list[tuple[str, str]] = []
    if any(g.name == "" and "v1" in g.versions for g in groups):
        order.append(("", "v1"))
    for group in groups:
        order.append((group.name, group.preferred_version))
        order.extend((group.name, v) for v in group.versions if v != group.preferred_version)
    seen: set[tuple[str, str]] = set()
    return [gv for gv in order if not (gv in seen or seen.add(gv))]  # type: ignore[func-returns-value]


def _distinct(entries: Iterable[tuple[int, APIResource]]) -> list[ResourceInfo]:
    """The resources of ``entries`` in order, each (group, version, resource) once."""
    seen: dict[tuple[str, str, str], ResourceInfo] = {}
    for _, res in entries:
        seen.setdefault((res.info.group, res.info.version, res.info.resource), res.info)
    return list(seen.values())


class RESTMapper:
    """Kind and resource lookups over one discovery answer (no I/O, immutable)."""

    def __init__(self, discovered: ServerResources) -> None:
        self.discovered = discovered
        self._failed = tuple(discovered.failed)
        #: (priority rank, resource) for every resource, best first.
        self._entries: list[tuple[int, APIResource]] = []
        for rank, (group, version) in enumerate(_priority(discovered.groups)):
            gv = f"{group}/{version}" if group else version
            self._entries.extend((rank, res) for res in discovered.resources.get(gv, ()))
        self._preferred = {g.name: g.preferred_version for g in discovered.groups}

    # --- filters -----------------------------------------------------------------

    def _in_group(self, group: str | None, version: str | None) -> list[tuple[int, APIResource]]:
        """Entries of ``group`` (exact, else the groups it prefixes) at ``version``."""
        at_version = [e for e in self._entries if version is None or e[1].info.version == version]
        if group is None:
            return at_version
        exact = [e for e in at_version if e[1].info.group == group]
        if exact or not group:
            return exact
        return [e for e in at_version if e[1].info.group.startswith(group)]

    def _failed_in(self, group: str | None) -> list[str]:
        return [gv for gv in self._failed
                if group is None or gv.rpartition("/")[0].startswith(group)]

    @staticmethod
    def _best(entries: list[tuple[int, APIResource]], asked: str, unique: bool) -> ResourceInfo:
        top = min(rank for rank, _ in entries)
        distinct = _distinct(e for e in entries if e[0] == top)
        if unique and len(distinct) > 1:
            raise AmbiguousMatch(asked, distinct)
        return distinct[0]

    # --- resources ---------------------------------------------------------------

    def _resource_hits(self, resource: str, group: str | None,
                       version: str | None) -> list[tuple[int, APIResource]]:
        name = resource.lower()
        hits = [e for e in self._in_group(group, version)
                if name in (e[1].info.resource, e[1].singular_name)]
        if not hits:
            hits = self._expand_short_name(name, group, version)
        if not hits:
            raise NoResourceMatch(resource, group, version, self._failed_in(group))
        return hits

    def _expand_short_name(self, name: str, group: str | None,
                           version: str | None) -> list[tuple[int, APIResource]]:
        """The first resource (in priority order) with this short name, at every version
        of its group that serves it (client-go expands to a group-resource)."""
        for _, res in self._in_group(group, None):
            if name in res.short_names:
                target = (res.info.group, res.info.resource)
                return [e for e in self._in_group(res.info.group, version)
                        if (e[1].info.group, e[1].info.resource) == target]
        return []

    def resources_for(self, resource: str, *, group: str | None = None,
                      version: str | None = None) -> list[ResourceInfo]:
        """Every resource named ``resource`` (any case), best first; short names expanded."""
        return _distinct(self._resource_hits(resource, group, version))

    def resource_for(self, resource: str, *, group: str | None = None,
                     version: str | None = None) -> ResourceInfo:
        """The one resource named ``resource`` (``deployments``, ``deployment``, ``deploy``)."""
        return self._best(self._resource_hits(resource, group, version), resource, unique=True)

    def kind_for(self, resource: str, *, group: str | None = None,
                 version: str | None = None) -> GroupVersionKind:
        """The kind of the resource :meth:`resource_for` finds."""
        return self.resource_for(resource, group=group, version=version).gvk

    # --- kinds -------------------------------------------------------------------

    def rest_mappings(self, kind: str, *, group: str | None = None,
                      versions: Sequence[str] = ()) -> list[ResourceInfo]:
        """Every resource serving ``kind``, best first.

        The kind is matched as client-go does: exactly, or all lower-case
        (``deployment``). With ``versions``, the first of them that serves the kind is
        the only one searched (client-go's ``RESTMappings``).
        """
        def serves(res: APIResource) -> bool:
            return res.info.kind == kind or res.info.kind.lower() == kind

        if versions:
            for version in versions:
                hits = [e for e in self._in_group(group, version) if serves(e[1])]
                if hits:
                    break
        else:
            hits = [e for e in self._in_group(group, None) if serves(e[1])]
        if not hits:
            raise NoKindMatch(kind, group, versions, self._failed_in(group))
        return _distinct(hits)

    def rest_mapping(self, kind: str, *, group: str | None = None,
                     versions: Sequence[str] = ()) -> ResourceInfo:
        """The resource serving ``kind``: in the first of ``versions`` that has it, else
        at the best priority (never ambiguous: the first resource of the best
        group-version, as client-go's ``PriorityRESTMapper.RESTMapping``)."""
        return self.rest_mappings(kind, group=group, versions=versions)[0]

    def kinds(self) -> list[GroupVersionKind]:
        """Every served kind at every version, best first."""
        return list(dict.fromkeys(res.info.gvk for _, res in self._entries))

    # --- both, categories, versions ----------------------------------------------

    def find(self, name: str, *, group: str | None = None, version: str | None = None) -> ResourceInfo:
        """kubectl's reading of ``name``: a resource name, else a kind (any case)."""
        try:
            return self.resource_for(name, group=group, version=version)
        except NoResourceMatch:
            pass
        hits = [e for e in self._in_group(group, version) if e[1].info.kind.lower() == name.lower()]
        if not hits:
            raise NoResourceMatch(name, group, version, self._failed_in(group))
        return self._best(hits, name, unique=False)

    def category(self, name: str) -> list[ResourceInfo]:
        """The resources in a category (``all``), each once at its preferred version."""
        preferred = self.discovered.preferred()
        return [res.info for res in preferred if name in res.categories]

    def preferred_version(self, group: str) -> str:
        """The server's preferred version of ``group``."""
        try:
            return self._preferred[group]
        except KeyError:
            raise NoResourceMatch("*", group, None, self._failed_in(group)) from None


# --- deferred: cached, rebuilt on a miss --------------------------------------------


class MapperCache:
    """When to (re)build: the sans-IO half of the deferred mappers.

    Data from the server is *fresh* for ``fresh_for`` seconds; a miss on data that is
    not fresh (older, or read from a disk cache) asks for one re-discovery.
    """

    def __init__(self, fresh_for: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.fresh_for = fresh_for
        self._clock = clock
        self.mapper: RESTMapper | None = None
        self._built_at: float | None = None
        self.builds = 0

    def install(self, discovered: ServerResources, *, from_server: bool) -> RESTMapper:
        self.mapper = RESTMapper(discovered)
        self._built_at = self._clock() if from_server else None
        self.builds += 1
        return self.mapper

    def fresh(self) -> bool:
        return self._built_at is not None and self._clock() - self._built_at < self.fresh_for

    def reset(self) -> None:
        self.mapper = None
        self._built_at = None


Lookup = Callable[[RESTMapper], ResourceInfo]


class DeferredRESTMapper:
    """A :class:`RESTMapper` built on first use from a :class:`~.discovery.DiscoveryClient`,
    cached, and rebuilt once when a lookup misses (client-go's ``DeferredDiscoveryRESTMapper``)."""

    def __init__(self, discovery: DiscoveryClient, *, fresh_for: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.discovery = discovery
        self.cache = MapperCache(fresh_for, clock)

    def _build(self) -> RESTMapper:
        before = self.discovery.core.hits
        discovered = self.discovery.server_groups_and_resources()
        return self.cache.install(discovered, from_server=self.discovery.core.hits == before)

    def current(self) -> RESTMapper:
        """The cached mapper (built now if there is none)."""
        return self.cache.mapper or self._build()

    def reset(self) -> None:
        """Forget the mapper and the discovery cache: the next lookup re-discovers."""
        self.cache.reset()
        self.discovery.invalidate()

    def _ask(self, lookup: Lookup) -> ResourceInfo:
        try:
            return lookup(self.current())
        except NoMatch:
            if self.cache.fresh():
                raise
        self.reset()
        return lookup(self._build())

    def resource_for(self, resource: str, *, group: str | None = None,
                     version: str | None = None) -> ResourceInfo:
        return self._ask(lambda m: m.resource_for(resource, group=group, version=version))

    def rest_mapping(self, kind: str, *, group: str | None = None,
                     versions: Sequence[str] = ()) -> ResourceInfo:
        return self._ask(lambda m: m.rest_mapping(kind, group=group, versions=versions))

    def find(self, name: str, *, group: str | None = None, version: str | None = None) -> ResourceInfo:
        return self._ask(lambda m: m.find(name, group=group, version=version))

    def kind_for(self, resource: str, *, group: str | None = None,
                 version: str | None = None) -> GroupVersionKind:
        return self.resource_for(resource, group=group, version=version).gvk

    def category(self, name: str) -> list[ResourceInfo]:
        return self.current().category(name)


class AsyncDeferredRESTMapper:
    """Async twin of :class:`DeferredRESTMapper` over an :class:`~.discovery.AsyncDiscoveryClient`."""

    def __init__(self, discovery: AsyncDiscoveryClient, *, fresh_for: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.discovery = discovery
        self.cache = MapperCache(fresh_for, clock)

    async def _build(self) -> RESTMapper:
        before = self.discovery.core.hits
        discovered = await self.discovery.server_groups_and_resources()
        return self.cache.install(discovered, from_server=self.discovery.core.hits == before)

    async def current(self) -> RESTMapper:
        return self.cache.mapper or await self._build()

    def reset(self) -> None:
        self.cache.reset()
        self.discovery.invalidate()

    async def _ask(self, lookup: Lookup) -> ResourceInfo:
        try:
            return lookup(await self.current())
        except NoMatch:
            if self.cache.fresh():
                raise
        self.reset()
        return lookup(await self._build())

    async def resource_for(self, resource: str, *, group: str | None = None,
                           version: str | None = None) -> ResourceInfo:
        return await self._ask(lambda m: m.resource_for(resource, group=group, version=version))

    async def rest_mapping(self, kind: str, *, group: str | None = None,
                           versions: Sequence[str] = ()) -> ResourceInfo:
        return await self._ask(lambda m: m.rest_mapping(kind, group=group, versions=versions))

    async def find(self, name: str, *, group: str | None = None,
                   version: str | None = None) -> ResourceInfo:
        return await self._ask(lambda m: m.find(name, group=group, version=version))

    async def kind_for(self, resource: str, *, group: str | None = None,
                       version: str | None = None) -> GroupVersionKind:
        return (await self.resource_for(resource, group=group, version=version)).gvk

    async def category(self, name: str) -> list[ResourceInfo]:
        return (await self.current()).category(name)
