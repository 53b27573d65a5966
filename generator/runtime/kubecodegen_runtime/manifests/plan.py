"""The apply planner: ``kubectl apply --server-side -f`` as a sans-IO generator.

:func:`plan_apply` decides everything and performs nothing. It yields *steps* and is
sent each step's outcome; the sync and asyncio shells (:mod:`.apply`) only carry them
out. The steps are:

* :class:`Send` -- send a request; the outcome is the ``Response`` or the ``ApiError``;
* :class:`Resolve` -- map a kind to its resource with the client's RESTMapper; the
  outcome is the ``ResourceInfo`` or the ``NoMatch`` error;
* :class:`Refresh` -- forget the RESTMapper's discovery (a CRD was just established);
* :class:`Sleep` -- wait before polling again.

The specification:

1. **Order.** CustomResourceDefinitions first, then Namespaces, then everything else in
   the order read (:func:`order`; stable, as kubectl keeps its input order).
2. **CRDs.** After the CRDs are applied (and unless ``dry_run``), each is read back
   until its ``Established`` condition is ``True``, for at most ``wait_for_crds``
   seconds in all; ``NamesAccepted=False`` fails at once with the server's message.
   A CRD that does not get there gets a :class:`CRDNotEstablished` error naming it.
   Then the mapper is refreshed, so kinds of those CRDs resolve. A kind that still does
   not resolve and belongs to a CRD of this call is asked again (refresh, short sleep)
   until the same deadline: the discovery documents can trail the condition.
3. **Kinds** are resolved by the RESTMapper at the manifest's own group and version;
   an unknown kind is that object's error (file, document, ``kind``).
4. **Namespaces** (:func:`place`): a namespaced object without one gets ``namespace``
   (the argument) or else the client configuration's namespace; with an explicit
   ``namespace`` argument an object naming another one is an error (kubectl's
   "does not match the namespace"); a cluster-scoped object carrying a namespace is an
   error naming ``metadata.namespace``.
5. **Apply.** Each object is read first (absent: it will be *created*), then applied
   (``application/apply-patch+yaml``, the field manager, ``force``, ``dryRun=All``).
   The action (:func:`action`) compares before and after: no object before is
   ``created``; the same ``resourceVersion`` is ``unchanged``, another ``configured``.
   A dry run stores nothing, so there it compares the content (metadata that only
   records the write -- ``resourceVersion``, ``managedFields`` times -- left out).
6. **Results.** One :class:`ApplyResult` per object, in the order applied. A failed
   object (API error, unknown kind, bad namespace) records its error and the others go
   on, as kubectl continues past a failed object.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from ..config.text import terminal_safe
from ..errors import NotFound
from ..meta import GroupVersionKind, ResourceInfo
from ..rest import request as rq
from ..rest.request import Request
from ..rest.response import Response, decode_json
from ..restmapper import NoMatch
from .reader import Manifest, ManifestError, Problem, Source

if TYPE_CHECKING:
    from ..scheme import Scheme

__all__ = [
    "Action",
    "ApplyOptions",
    "ApplyResult",
    "CRDNotEstablished",
    "Refresh",
    "Resolve",
    "Send",
    "Sleep",
    "Step",
    "action",
    "order",
    "place",
    "plan_apply",
]

logger = logging.getLogger("kubecodegen_runtime.manifests")

CRD_GROUP = "apiextensions.k8s.io"
Action = Literal["created", "configured", "unchanged"]

#: How long to wait between two reads of a CRD that is not established yet.
POLL_INTERVAL = 0.2


# --- steps --------------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    request: Request


@dataclass(frozen=True)
class Resolve:
    kind: str
    group: str
    version: str


@dataclass(frozen=True)
class Refresh:
    pass


@dataclass(frozen=True)
class Sleep:
    seconds: float


Step = Send | Resolve | Refresh | Sleep
Plan = Generator[Step, Any, "list[ApplyResult]"]


# --- results ------------------------------------------------------------------------


class CRDNotEstablished(Exception):
    """A CRD applied by this call did not become Established (timeout, or names refused)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        # the reason quotes the server's condition message: escaped for terminals
        super().__init__(terminal_safe(
            f"CustomResourceDefinition {name!r} is not established: {reason}"))


@dataclass
class ApplyResult:
    """What happened to one object.

    ``action`` is what the server did (None when the apply itself failed; a CRD that was
    applied but never became Established has both an action and an error). ``object`` is
    the object as the server
    returned it: an instance of the scheme's class where the scheme knows the kind, a
    dict otherwise (None on error).
    """

    source: Source
    gvk: GroupVersionKind
    namespace: str | None
    name: str
    action: Action | None = None
    object: Any = None
    error: Exception | None = None
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        """kubectl's line: ``deployment.apps/web configured (server dry run)``, or the error."""
        group = f".{self.gvk.group}" if self.gvk.group else ""
        what = f"{self.gvk.kind.lower()}{group}/{self.name}"
        if self.namespace:
            what += f" in namespace {self.namespace!r}"
        if self.error is not None:
            error = self.error
            if isinstance(error, ManifestError) and len(error.problems) == 1:
                problem = error.problems[0]  # its source is ours: do not say it twice
                return f"{self.source}: {what}: {problem.field + ': ' if problem.field else ''}" \
                       f"{problem.message}"
            return f"{self.source}: {what}: {error}"
        return f"{what} {self.action}{' (server dry run)' if self.dry_run else ''}"


@dataclass(frozen=True)
class ApplyOptions:
    field_manager: str
    default_namespace: str
    namespace: str | None = None
    force_conflicts: bool = False
    dry_run: bool = False
    wait_for_crds: float = 60.0
    scheme: Scheme | None = None
    clock: Callable[[], float] = time.monotonic


# --- pure decisions -----------------------------------------------------------------


def gvk_of(manifest: Manifest) -> GroupVersionKind:
    return GroupVersionKind.from_api_version(manifest.api_version, manifest.kind)


def is_crd(manifest: Manifest) -> bool:
    gvk = gvk_of(manifest)
    return gvk.group == CRD_GROUP and gvk.kind == "CustomResourceDefinition"


def is_namespace(manifest: Manifest) -> bool:
    gvk = gvk_of(manifest)
    return gvk.group == "" and gvk.kind == "Namespace"


def order(manifests: Iterable[Manifest]) -> list[Manifest]:
    """CRDs, then Namespaces, then the rest, each group in the order read."""
    items = list(manifests)
    crds = [m for m in items if is_crd(m)]
    namespaces = [m for m in items if is_namespace(m)]
    rest = [m for m in items if not is_crd(m) and not is_namespace(m)]
    return [*crds, *namespaces, *rest]


def place(manifest: Manifest, info: ResourceInfo, namespace: str | None,
          default_namespace: str) -> tuple[str | None, Problem | None]:
    """The namespace an object is applied in, or the problem that prevents it."""
    own = manifest.object["metadata"].get("namespace") or None
    if not info.namespaced:
        if own is not None:
            return None, Problem(manifest.source, "metadata.namespace",
                                 f"{info.kind} is cluster-scoped and takes no namespace "
                                 f"(found {own!r})")
        return None, None
    if own is not None:
        if namespace is not None and own != namespace:
            return None, Problem(manifest.source, "metadata.namespace",
                                 f"the object's namespace {own!r} does not match the namespace "
                                 f"{namespace!r} given to apply")
        return own, None
    return namespace if namespace is not None else default_namespace, None


_WRITE_ONLY = ("resourceVersion", "generation", "managedFields")


def _content(obj: Mapping[str, Any]) -> dict[str, Any]:
    """An object without the metadata a write changes even when nothing else does."""
    out = dict(obj)
    metadata = dict(out.get("metadata") or {})
    fields = metadata.get("managedFields") or []
    for member in _WRITE_ONLY:
        metadata.pop(member, None)
    metadata["managedFields"] = [{k: v for k, v in entry.items() if k != "time"}
                                 for entry in fields if isinstance(entry, dict)]
    out["metadata"] = metadata
    return out


def action(before: Mapping[str, Any] | None, after: Mapping[str, Any], dry_run: bool) -> Action:
    """created / configured / unchanged, from the object before and after the apply."""
    if before is None:
        return "created"
    if dry_run:
        return "unchanged" if _content(before) == _content(after) else "configured"
    old = (before.get("metadata") or {}).get("resourceVersion")
    new = (after.get("metadata") or {}).get("resourceVersion")
    return "unchanged" if old == new else "configured"


def crd_state(crd: Mapping[str, Any]) -> tuple[bool, str | None]:
    """(established, why it never will be) from a CRD's status conditions."""
    conditions = (crd.get("status") or {}).get("conditions") or []
    by_type = {c.get("type"): c for c in conditions if isinstance(c, dict)}
    established = (by_type.get("Established") or {}).get("status") == "True"
    names = by_type.get("NamesAccepted") or {}
    if names.get("status") == "False":
        return False, f"names not accepted: {names.get('message') or names.get('reason')}"
    return established, None


def typed(obj: dict[str, Any], scheme: Scheme | None) -> Any:
    """The scheme's object for ``obj`` where it knows the kind, else ``obj`` itself."""
    if scheme is None:
        return obj
    from ..codec import DecodeError
    from ..scheme import UnknownKindError

    try:
        return scheme.from_dict(obj, unknown_fields="ignore")
    except UnknownKindError:
        return obj
    except DecodeError as exc:  # applied already: keep the dict, but say why
        logger.warning("%s/%s does not decode into the scheme's class, kept as a dict: %s",
                       obj.get("kind"), (obj.get("metadata") or {}).get("name"), exc)
        return obj


# --- the plan -----------------------------------------------------------------------


def _crd_kinds(manifest: Manifest) -> set[tuple[str, str, str]]:
    """(group, version, kind) a CRD manifest serves (``apiextensions/v1`` and ``v1beta1``)."""
    spec = manifest.object.get("spec")
    if not isinstance(spec, dict):
        return set()
    group, names = spec.get("group"), spec.get("names")
    kind = names.get("kind") if isinstance(names, dict) else None
    if not isinstance(group, str) or not isinstance(kind, str):
        return set()
    versions = {entry.get("name") for entry in spec.get("versions") or []
                if isinstance(entry, dict) and entry.get("served", True) is not False}
    if isinstance(spec.get("version"), str):  # v1beta1's single version
        versions.add(spec["version"])
    return {(group, version, kind) for version in versions if isinstance(version, str)}


def _decode(resp: Response) -> dict[str, Any]:
    value = decode_json(resp)
    if not isinstance(value, dict):
        raise TypeError("the server answered with something other than an object")
    return value


def _apply_one(manifest: Manifest, info: ResourceInfo, opts: ApplyOptions,
               result: ApplyResult) -> Generator[Step, Any, dict[str, Any] | None]:
    """Read, apply and classify one object; the applied object, or None on error."""
    namespace, problem = place(manifest, info, opts.namespace, opts.default_namespace)
    if problem is not None:
        result.error = ManifestError([problem])
        return None
    result.namespace = namespace
    body = copy.deepcopy(manifest.object)
    if namespace is not None:
        body["metadata"]["namespace"] = namespace
    try:
        get = rq.get(info, manifest.name, namespace=namespace)
        request = rq.apply(info, manifest.name, msgspec.json.encode(body),
                           field_manager=opts.field_manager, force=opts.force_conflicts,
                           namespace=namespace, dry_run=opts.dry_run)
    except ValueError as exc:  # a name or namespace that cannot be a path segment
        field_name = "metadata.namespace" if "namespace" in str(exc) else "metadata.name"
        result.error = ManifestError([Problem(manifest.source, field_name, str(exc))])
        return None
    before_outcome = yield Send(get)
    before: dict[str, Any] | None
    if isinstance(before_outcome, NotFound):
        before = None
    elif isinstance(before_outcome, Exception):
        result.error = before_outcome
        return None
    else:
        before = _decode(before_outcome)
    outcome = yield Send(request)
    if isinstance(outcome, Exception):
        result.error = outcome
        return None
    after = _decode(outcome)
    result.action = action(before, after, opts.dry_run)
    result.object = typed(after, opts.scheme)
    return after


def _no_kind(manifest: Manifest, error: Exception, pending: bool, dry_run: bool) -> ManifestError:
    why = str(error)
    if pending and dry_run:
        why += " (its CustomResourceDefinition is in these manifests, but a dry run does not create it)"
    elif pending:
        why += " (its CustomResourceDefinition in these manifests did not become established)"
    return ManifestError([Problem(manifest.source, "kind", why)])


def plan_apply(manifests: Iterable[Manifest], opts: ApplyOptions) -> Plan:
    """Apply ``manifests`` (see the module docstring); returns the results."""
    ordered = order(manifests)
    results: list[ApplyResult] = []
    applied_crds: list[tuple[Manifest, ResourceInfo, ApplyResult]] = []
    defined: set[tuple[str, str, str]] = set()  # (group, version, kind) the CRDs here serve
    deadline: float | None = None

    for manifest in ordered:
        gvk = gvk_of(manifest)
        result = ApplyResult(manifest.source, gvk, manifest.namespace, manifest.name,
                             dry_run=opts.dry_run)
        results.append(result)
        pending = (gvk.group, gvk.version, gvk.kind) in defined
        if not is_crd(manifest) and applied_crds and deadline is None:
            deadline = yield from _establish(applied_crds, opts)
        found = yield Resolve(gvk.kind, gvk.group, gvk.version)
        while isinstance(found, NoMatch) and pending and not opts.dry_run \
                and deadline is not None and opts.clock() < deadline:
            yield Sleep(POLL_INTERVAL)
            yield Refresh()
            found = yield Resolve(gvk.kind, gvk.group, gvk.version)
        if isinstance(found, Exception):
            result.error = _no_kind(manifest, found, pending, opts.dry_run)
            continue
        assert isinstance(found, ResourceInfo)
        after = yield from _apply_one(manifest, found, opts, result)
        logger.debug("%s", result.describe())
        if is_crd(manifest):
            defined |= _crd_kinds(manifest)
            if after is not None and not opts.dry_run:
                applied_crds.append((manifest, found, result))
    if applied_crds and deadline is None:  # only CRDs: still report whether they work
        yield from _establish(applied_crds, opts)
    return results


def _establish(crds: list[tuple[Manifest, ResourceInfo, ApplyResult]],
               opts: ApplyOptions) -> Generator[Step, Any, float]:
    """Wait until every applied CRD is Established; refresh the mapper; the deadline."""
    deadline = opts.clock() + opts.wait_for_crds
    for manifest, info, result in crds:
        last = "no Established condition yet"
        while True:
            outcome = yield Send(rq.get(info, manifest.name))
            if isinstance(outcome, Exception):
                last = str(outcome)
            else:
                crd = _decode(outcome)
                established, never = crd_state(crd)
                if established:
                    result.object = typed(crd, opts.scheme)
                    break
                if never is not None:
                    result.error = CRDNotEstablished(manifest.name, never)
                    break
            if opts.clock() >= deadline:
                result.error = CRDNotEstablished(
                    manifest.name, f"still not Established after {opts.wait_for_crds:g}s ({last})")
                break
            yield Sleep(POLL_INTERVAL)
    yield Refresh()
    return deadline
