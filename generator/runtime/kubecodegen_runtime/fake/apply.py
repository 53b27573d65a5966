"""Server-side apply and ``managedFields`` bookkeeping, as kube-apiserver does them.

The semantics are structured-merge-diff's ``Updater`` as the API server's field manager
drives it (read there, written here):

* **Apply** merges the configuration into the live object (struct fields and map keys
  one by one, list-map items by key, set items by value, atomic values replaced), then
  *prunes*: a field the manager applied last time, no longer applies, and nobody else
  owns is removed. The new object is compared with the live one; a field another manager
  owns whose value changes (or appears) is a conflict. Without ``force`` conflicts fail
  the apply; with it they move to the applier. The applier's entry becomes exactly its
  configuration's field set.
* **Update** (create, update, patch) compares the old and new object: every changed or
  added field goes to the manager's ``Update`` entry, taken from whoever owned it; a
  removed field leaves every entry.

In both, ``apiVersion``, ``kind`` and the server-owned ``metadata`` fields are never
owned (the field manager's *strip* set), an entry left empty is dropped, and entries are
written in the server's order (operation, time, manager, apiVersion, subresource).

The field manager's other rules, each in one named place below: an object applied to
without managedFields first gives what it has to ``before-first-apply``; beyond
:data:`MAX_UPDATE_MANAGERS` ``Update`` entries the oldest merge into ``ancient-changes``;
a write keeps what its strategy resets (:func:`reset_paths`). Where the server changed
over releases the package's ``kubernetes_version`` decides: ``subresource`` is recorded
from 1.22 (before, a status apply shares the manager's main entry), reset fields are owned
by nobody from 1.22, empty structs are fields and unowned structs are pruned whole from
1.21 (:func:`~.fieldset.nested_sets`), conflict paths are unaliased from 1.28
(:func:`~.fieldset.iteration_order`). Built-in kinds are compared as the Go objects the
server compares (:func:`_go_zero_level`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from ..managed_fields import APPLY
from .derived import derived
from .fieldset import (
    LEAF,
    FieldSet,
    Path,
    Shape,
    child_shape,
    fields_of,
    item_key,
    iteration_order,
    kube_version,
    nested_sets,
    path_string,
    root_shape,
)
from .gofmt import go_quote
from .schema import PackageApi

UPDATE = "Update"


class _Missing:
    """An absent value (JSON ``null`` is a value; absence is not)."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


class ApplyConflict(Exception):
    """An apply that would change fields other managers own, without ``force``.

    ``conflicts``: ``(manager, path)`` pairs, the path as the server prints it
    (``.spec.replicas``), in the server's order. ``causes``: the ``Status`` causes a real
    server sends (``FieldManagerConflict``, ``conflict with "m"``, the path).
    """

    def __init__(self, conflicts: list[tuple[str, str]], described: list[tuple[str, str]]) -> None:
        self.conflicts = conflicts
        self.described = described  # (manager as the server describes it, path)
        super().__init__(conflict_message(described))

    @property
    def causes(self) -> list[dict[str, str]]:
        return [{"reason": "FieldManagerConflict", "message": f"conflict with {who}", "field": path}
                for who, path in self.described]


class ApplyBadRequest(ValueError):
    """A configuration the server refuses outright (400 BadRequest, this message)."""


def conflict_message(described: list[tuple[str, str]]) -> str:
    """The ``Status`` message of a conflict, worded as the API server words it."""
    if len(described) == 1:
        who, path = described[0]
        return f"Apply failed with 1 conflict: conflict with {who}: {path}"
    by_manager: dict[str, list[str]] = {}
    for who, path in described:
        by_manager.setdefault(who, []).append(path)
    lines: list[str] = []
    for who in sorted(by_manager):
        lines.append(f"conflicts with {who}:")
        lines.extend(f"- {path}" for path in by_manager[who])
    return f"Apply failed with {len(described)} conflicts: " + "\n".join(lines)


# -- managers -------------------------------------------------------------------------

#: What the field manager never records as owned (its ``stripMeta`` set).
_STRIPPED = FieldSet([
    ("f:apiVersion",), ("f:kind",), ("f:metadata",),
    *(("f:metadata", "f:" + name) for name in (
        "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName",
        "generation", "managedFields", "resourceVersion")),
])


@dataclass(slots=True)
class _Entry:
    manager: str
    operation: str
    api_version: str
    subresource: str
    fields: FieldSet
    time: str | None = None

    def key(self, with_subresource: bool) -> tuple[str, str, str, str]:
        # an applier is one manager whatever version it applied with; updaters are not
        version = "" if self.operation == APPLY else self.api_version
        return self.manager, self.operation, version, self.subresource if with_subresource else ""

    def encode(self, with_subresource: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"manager": self.manager, "operation": self.operation,
                               "apiVersion": self.api_version}
        if self.time is not None:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = self.fields.to_fields_v1()
        if with_subresource and self.subresource:
            out["subresource"] = self.subresource
        return out


def records_subresource(api: PackageApi) -> bool:
    """Whether managedFields name the subresource (Kubernetes 1.22 and later; a package
    of unknown version is taken as current)."""
    return kube_version(api) >= (1, 22)


def scale_writes_manage_fields(api: PackageApi) -> bool:
    """Whether a write through ``/scale`` is a write of its manager in the parent's
    managedFields (Kubernetes 1.21 and later, kubernetes/kubernetes#98377 "Track ownership
    of scale subresource"). Before, the field manager saw only the Scale, which carries no
    managedFields, and the storage copied just the replicas and the resourceVersion onto
    the parent: the parent's managedFields stay as they were, so an applier keeps owning
    ``spec.replicas`` and its next apply silently scales back."""
    return kube_version(api) >= (1, 21)


def unchanged_managed_fields(old: Mapping[str, Any] | None, _new: Mapping[str, Any]) -> Any:
    """The bookkeeping of a write no field manager sees (before 1.21, one through
    ``/scale``): the object keeps the managedFields it had."""
    return _copy_json(_managed_fields(old)) if old is not None else None


def _decode_json(encoded: bytes, entries: Any) -> list[_Entry]:
    """``_decode(entries)``, given their JSON ``encoded``: made once per distinct JSON (every
    write reads the stored object's entries again, and they change only when written).
    The memo keeps each entry's parts; the entries returned are fresh (they are edited)."""
    parts = _DECODED.get(encoded)
    if parts is None:
        decoded = _decode(entries)
        parts = tuple((e.manager, e.operation, e.api_version, e.subresource, e.fields, e.time)
                      for e in decoded)
        if any(time is not None and type(time) is not str for *_, time in parts):
            return decoded  # an odd time (a JSON object?) is not shared between answers
        if len(_DECODED) >= _UPDATES_SIZE:
            _DECODED.clear()
        _DECODED[encoded] = parts
        return decoded
    return [_Entry(*part) for part in parts]


_DECODED: dict[bytes, tuple[tuple[Any, ...], ...]] = {}


def _decode(entries: Any) -> list[_Entry]:
    decoded: list[_Entry] = []
    for raw in entries or ():
        if not isinstance(raw, Mapping):
            continue
        decoded.append(_Entry(
            manager=str(raw.get("manager") or ""), operation=str(raw.get("operation") or ""),
            api_version=str(raw.get("apiVersion") or ""),
            subresource=str(raw.get("subresource") or ""),
            fields=FieldSet.from_fields_v1(raw.get("fieldsV1")), time=raw.get("time")))
    return decoded


def _encode(entries: dict[tuple[str, str, str, str], _Entry], with_subresource: bool) -> list[dict[str, Any]]:
    kept = [e for e in entries.values() if e.fields]
    kept.sort(key=lambda e: (e.operation, e.time or "", e.manager, e.api_version, e.subresource))
    return [e.encode(with_subresource) for e in kept]


def _index(entries: list[_Entry], with_subresource: bool) -> dict[tuple[str, str, str, str], _Entry]:
    index: dict[tuple[str, str, str, str], _Entry] = {}
    for entry in entries:
        key = entry.key(with_subresource)
        if key in index:  # two entries of one manager: one set
            index[key].fields = index[key].fields | entry.fields
        else:
            index[key] = entry
    return index


def describe_manager(entry_key: tuple[str, str, str, str], with_subresource: bool) -> str:
    """A manager as a conflict names it: ``"m"``, ``"m" using apps/v1`` for an updater,
    ``"m" with subresource "status"``."""
    manager, operation, version, subresource = entry_key
    text = go_quote(manager)
    if with_subresource and subresource:
        text += f" with subresource {go_quote(subresource)}"
    if operation == UPDATE:
        text += f" using {version}"
    return text


# -- the two operations -----------------------------------------------------------------

def server_side_apply(live: dict[str, Any] | None, config: dict[str, Any], *, manager: str,
                      force: bool, api: PackageApi, type_key: str | None, subresource: str = "",
                      now: str, api_version: str,
                      reset: Iterable[Path] | None = None) -> dict[str, Any]:
    """The object after ``manager`` applies ``config`` to ``live`` (``None``: the apply
    creates it), with ``metadata.managedFields`` updated. Raises :class:`ApplyConflict`,
    or :class:`~.fieldset.FieldSetError` for a configuration the server cannot type (a
    list-map item without its key, two items with one key): its message is what the
    server sends after ``failed to create typed patch object: `` (1.20) or ``failed to
    create typed patch object (<namespace>/<name>; <group>/<version>, Kind=<kind>): ``,
    with a 500 InternalError; :class:`ApplyBadRequest` for a configuration that carries
    ``metadata.managedFields``. Never mutates its inputs.

    ``reset``: the paths this write's strategy keeps from the live object (default
    :func:`reset_paths`); the object keeps the live values there, and from 1.22 on this
    write takes no ownership of them (before, ownership moves as if it had written them).
    """
    if _managed_fields(config) is not None:
        raise ApplyBadRequest("metadata.managedFields must be nil")
    with_sub = records_subresource(api)
    shape = root_shape(type_key)
    live_value = _without_managed_fields(live) if live is not None else {}
    config_value = _without_managed_fields(config)
    ignored = tuple(reset_paths(api, type_key, subresource, _both(live_value, config_value,
                                                                  subresource))
                    if reset is None else reset)
    # first: it refuses a configuration the server cannot type
    recorded = fields_of(config_value, api, type_key, unique=True)
    entries = _index(_decode(_managed_fields(live)), with_sub)
    if live is not None and not entries:
        # an object nobody manages yet: what it has belongs to "before-first-apply"
        first = _Entry(BEFORE_FIRST_APPLY, UPDATE, api_version, "",
                       _update_set(api, None, live_value, type_key), now)
        if first.fields:
            entries[first.key(with_sub)] = first

    config_set = (_without_below(recorded, ignored) if records_reset_fields(api)
                  else recorded)
    merged = _merge(api, live_value, config_value, shape)
    mine = _Entry(manager, APPLY, api_version, subresource, config_set)
    key = mine.key(with_sub)
    previous = entries.get(key)
    entries[key] = mine
    if previous is not None and previous.fields:
        merged = _prune(api, merged, entries, previous.fields, shape)

    comparison = compare(api, live_value, merged, type_key)
    if records_reset_fields(api):
        comparison = _without_reset(comparison, ignored)
    # what the strategy keeps, whatever the apply did (pruning too); before 1.22 ownership
    # moved as if the configuration's values had been written
    for path in ignored:
        _restore_path(merged, live_value, path)
    changed_or_added = comparison.modified | comparison.added
    conflicts = {k: e.fields & changed_or_added for k, e in entries.items() if k != key}
    conflicts = {k: c for k, c in conflicts.items() if c}
    if conflicts and not force:
        aliased = kube_version(api) < (1, 28)
        ordered = [(k, path_string(p)) for k in sorted(conflicts)
                   for p in iteration_order(conflicts[k], aliased=aliased)]
        raise ApplyConflict([(k[0], p) for k, p in ordered],
                            [(describe_manager(k, with_sub), p) for k, p in ordered])
    for k, taken in conflicts.items():
        entries[k].fields = entries[k].fields - taken
    if comparison.removed:
        for k, entry in entries.items():
            if k != key:
                entry.fields = entry.fields - comparison.removed
    mine.fields = mine.fields - _STRIPPED
    changed = live is None or not same(live_value, merged)
    mine.time = now if changed or previous is None or previous.time is None else previous.time
    result: dict[str, Any] = merged
    result.setdefault("metadata", {})["managedFields"] = _encode(_cap_updaters(entries), with_sub)
    return result


def record_update(old: dict[str, Any] | None, new: dict[str, Any], *, manager: str,
                  api: PackageApi, type_key: str | None, subresource: str = "", now: str,
                  api_version: str, reset: Iterable[Path] | None = None) -> list[dict[str, Any]]:
    """``metadata.managedFields`` of ``new`` after a create/update/patch by ``manager``.

    As on the server, managedFields that ``new`` carries replace the old ones (a client may
    edit them), an empty list or a single empty entry drops them all (this write's too), and otherwise the
    old ones are kept.
    ``new`` is the object as stored (the strategy's resets done); from 1.22 the ``reset``
    paths (default :func:`reset_paths`) are owned by nobody through this write.
    """
    version = derived(api).version
    with_sub = version >= (1, 22)  # records_subresource
    requested = _managed_fields(new)
    if isinstance(requested, list) and (requested == [] or requested == [{}]):
        # a reset (``isResetManagedFields``: an empty, non-null list or one empty entry):
        # the write is stored with no managedFields at all, its own neither
        return []
    # managedFields the client sent replace the stored ones (it may edit them directly)
    recorded = requested or _managed_fields(old)
    old_value = _without_managed_fields(old) if old is not None else {}
    new_value = _without_managed_fields(new)
    comparison = _compare_update(api, old_value, new_value, type_key)
    if version >= (1, 22):  # records_reset_fields
        ignored = tuple(reset_paths(api, type_key, subresource, _both(old_value, new_value,
                                                                      subresource))
                        if reset is None else reset)
        if ignored:
            comparison = _without_reset(comparison, ignored)
    changed_or_added = comparison.modified | comparison.added
    current = (changed_or_added - comparison.removed) - _STRIPPED
    if not recorded and not current:
        return []  # nobody manages anything, and this write adds nothing
    taken = changed_or_added | comparison.removed
    # What follows is a function of these alone; a test writing the same fields again and
    # again (within one second) asks it the same question: the answers are memoized.
    try:
        recorded_json: bytes | None = _json_encode(recorded)
    except (TypeError, msgspec.EncodeError):
        recorded_json = None
    memo_key: tuple[Any, ...] | None = None
    if recorded_json is not None:
        memo_key = (recorded_json, taken.paths, current.paths, manager, api_version,
                    subresource, now, with_sub)
        known = _UPDATES.get(memo_key)
        if known is not None:
            result: list[dict[str, Any]] = _json_decode(known)
            return result
    entries = _index(_decode(recorded) if recorded_json is None
                     else _decode_json(recorded_json, recorded), with_sub)
    if taken:
        for entry in entries.values():
            entry.fields = entry.fields - taken
    mine = _Entry(manager, UPDATE, api_version, subresource, current, now)
    key = mine.key(with_sub)
    if current:
        if key in entries:
            mine.fields = entries[key].fields | current
        entries[key] = mine
    encoded = _encode(_cap_updaters(entries), with_sub)
    if memo_key is not None:
        if len(_UPDATES) >= _UPDATES_SIZE:
            _UPDATES.clear()
        _UPDATES[memo_key] = _json_encode(encoded)
    return encoded


#: Answers of :func:`record_update`'s bookkeeping step, by everything they depend on
#: (the managedFields before, the fields taken and written, who, when), as JSON.
_UPDATES: dict[tuple[Any, ...], bytes] = {}
_UPDATES_SIZE = 1024


def _compare_update(api: PackageApi, old: dict[str, Any], new: dict[str, Any],
                    type_key: str | None) -> Comparison:
    """The comparison an update is recorded from: of the Go objects, for built-in kinds."""
    # filled as the walk goes: what is equal is skipped, so never filled nor copied
    return compare(api, old, new, type_key, go_zero=_is_built_in(api, type_key))


def _update_set(api: PackageApi, old: dict[str, Any] | None, new: dict[str, Any],
                type_key: str | None) -> FieldSet:
    comparison = _compare_update(api, old or {}, new, type_key)
    return (comparison.modified | comparison.added) - comparison.removed - _STRIPPED


#: The manager that owns what an object had when it was first applied without managedFields.
BEFORE_FIRST_APPLY = "before-first-apply"
#: The manager the oldest updaters are merged into beyond :data:`MAX_UPDATE_MANAGERS`.
ANCIENT_CHANGES = "ancient-changes"
#: How many ``Update`` entries the server keeps (its ``DefaultMaxUpdateManagers``).
MAX_UPDATE_MANAGERS = 10


def _cap_updaters(entries: dict[tuple[str, str, str, str], _Entry]
                  ) -> dict[tuple[str, str, str, str], _Entry]:
    """Merge the oldest ``Update`` entries into one ``ancient-changes`` entry per API
    version until at most :data:`MAX_UPDATE_MANAGERS` remain (the server's cap)."""
    updaters = [k for k, e in entries.items() if e.operation == UPDATE and e.fields]
    count = len(updaters)
    if count <= MAX_UPDATE_MANAGERS:
        return entries
    updaters.sort(key=lambda k: (entries[k].time or "", k[0]))
    first_of: dict[str, tuple[str, str, str, str]] = {}
    for k in updaters:
        if count <= MAX_UPDATE_MANAGERS:
            break
        entry = entries[k]
        bucket = (ANCIENT_CHANGES, UPDATE, entry.api_version, "")
        if entry.api_version not in first_of:
            first_of[entry.api_version] = k
            continue
        if bucket not in entries:
            first = entries.pop(first_of[entry.api_version])
            entries[bucket] = _Entry(ANCIENT_CHANGES, UPDATE, first.api_version, "",
                                     first.fields, first.time)
        entries[bucket].fields = entries[bucket].fields | entry.fields
        entries[bucket].time = entry.time
        del entries[k]
        count -= 1
    return entries


# -- fields a write's strategy resets ------------------------------------------------------

def records_reset_fields(api: PackageApi) -> bool:
    """Whether the field manager leaves the fields a strategy resets unowned (1.22+)."""
    return kube_version(api) >= (1, 22)


def _both(old: dict[str, Any], new: dict[str, Any], subresource: str) -> dict[str, Any]:
    """What :func:`reset_paths` reads of a write from ``old`` to ``new``: their top-level
    fields together for ``status`` (it names them), else any (it reads none)."""
    return {**old, **new} if subresource == "status" else new


def reset_paths(api: PackageApi, type_key: str | None, subresource: str,
                obj: Mapping[str, Any]) -> list[Path]:
    """The fields a write keeps from the stored object: ``status`` for the main resource
    of a kind with a status subresource; for ``status`` everything but the status (and
    the object's name), labels and annotations included."""
    if subresource == "status":
        top = [("f:" + name,) for name in obj if name not in ("apiVersion", "kind", "metadata",
                                                                "status")]
        return [*top, ("f:metadata", "f:labels"), ("f:metadata", "f:annotations")]
    if subresource == "" and _has_status_subresource(api, type_key):
        return [("f:status",)]
    return []


def _has_status_subresource(api: PackageApi, type_key: str | None) -> bool:
    tables = derived(api)
    found = tables.status_subresource.get(type_key)
    if found is None:
        kinds = {key for key, root in api.roots.items() if root == type_key}
        found = tables.status_subresource[type_key] = any(
            (r.group, r.version, r.kind) in kinds and "status" in r.subresources
            for r in api.resources)
    return found


def _without_reset(comparison: Comparison, ignored: tuple[Path, ...]) -> Comparison:
    return Comparison(*(_without_below(s, ignored) for s in (
        comparison.added, comparison.modified, comparison.removed)))


def _without_below(fields: FieldSet, prefixes: Iterable[Path]) -> FieldSet:
    """``fields`` without the given paths and everything below them."""
    if not fields:
        return fields
    cut = tuple(prefixes)
    if all(len(q) == 1 for q in cut):  # top-level fields (status, spec, ...): the usual case
        heads = {q[0] for q in cut}
        kept = [p for p in fields.paths if not p or p[0] not in heads]
    else:
        kept = [p for p in fields.paths if not any(p[:len(q)] == q for q in cut)]
    return fields if len(kept) == len(fields) else FieldSet._of(frozenset(kept))


def _restore_path(obj: dict[str, Any], source: Mapping[str, Any], path: Path) -> None:
    """Make the field at ``path`` of ``obj`` what it is in ``source`` (absent if absent)."""
    value: Any = source
    for element in path:
        value = value.get(element[2:], MISSING) if isinstance(value, Mapping) else MISSING
    if value is MISSING:
        _drop_path(obj, path)
        return
    node: Any = obj
    for element in path[:-1]:
        if not isinstance(node, dict):
            return
        node = node.setdefault(element[2:], {})
    if isinstance(node, dict):
        node[path[-1][2:]] = _copy_json(value)


def _drop_path(obj: dict[str, Any], path: Path) -> None:
    """Remove the field at ``path`` (``f:`` elements only) from ``obj``, in place."""
    node: Any = obj
    for element in path[:-1]:
        node = node.get(element[2:]) if isinstance(node, dict) else None
    if isinstance(node, dict) and path and path[-1].startswith("f:"):
        node.pop(path[-1][2:], None)


def _managed_fields(obj: Mapping[str, Any] | None) -> Any:
    # ``type(...) is dict`` first: the usual case, without the ABC check of ``Mapping``
    if obj is None:
        return None
    meta = obj.get("metadata") if type(obj) is dict or isinstance(obj, Mapping) else None
    return (meta.get("managedFields") if type(meta) is dict or isinstance(meta, Mapping)
            else None)


def _without_managed_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` without ``metadata.managedFields`` (which is no field). A shallow copy
    (``metadata`` copied too): what reads it never changes it, and :func:`_merge` builds
    its result afresh."""
    out = dict(obj)
    meta = out.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        out["metadata"] = {k: v for k, v in meta.items() if k != "managedFields"}
    return out


# -- Go's zero values -------------------------------------------------------------------

#: Struct fields a built-in Go object always has, even empty (non-pointer structs: the
#: server compares Go objects, so an update that fills ``spec`` does not add ``spec``
#: itself, and fieldsV1 writes no ``.`` for it). Only reached through fields that are
#: themselves always there, from the root.
_GO_VALUE_STRUCTS = frozenset({
    "metadata", "spec", "status", "template", "strategy", "updateStrategy", "jobTemplate",
    "loadBalancer", "roleRef", "scaleTargetRef", "daemonEndpoints", "nodeInfo",
    "kubeletEndpoint",
})
#: ... except where Go has a pointer (ReplicationControllerSpec.template).
_GO_POINTER_STRUCTS = frozenset({("io.k8s.api.core.v1.ReplicationControllerSpec", "template")})
#: Lists a Go object has as ``null`` when empty (no ``omitempty``), inside the structs above.
_GO_NULL_LISTS = frozenset({"containers"})


def _is_built_in(api: PackageApi, type_key: str | None) -> bool:
    if type_key is None:
        return False
    tables = derived(api)
    found = tables.built_in.get(type_key)
    if found is None:
        custom_kinds = tables.custom_kinds
        found = tables.built_in[type_key] = not any(
            key in custom_kinds for key, root in api.roots.items() if root == type_key)
    return found


#: What Go's zero value of one struct type adds: the list fields it has as ``null``, the
#: value-struct fields with their own shapes and zero values (shared: nothing changes
#: them), those fields' names, and the type's whole zero value (a plan per type, made
#: once per api).
_GoZeroPlan = tuple[tuple[str, ...], tuple[tuple[str, Shape, dict[str, Any]], ...],
                    frozenset[str], dict[str, Any]]


def _go_zero_plan(api: PackageApi, plans: dict[str | None, Any], shape: Shape) -> _GoZeroPlan:
    """The plan of ``shape``'s type (``plans``: the api's, ``derived(api).go_zero``)."""
    plan: _GoZeroPlan | None = plans.get(shape.type_key)
    if plan is None:
        lists = tuple(name for name in sorted(_GO_NULL_LISTS)
                      if child_shape(api, shape, name).kind in ("list_map", "set"))
        structs = tuple((name, sub, _go_zero_plan(api, plans, sub)[3])
                        for name in sorted(_GO_VALUE_STRUCTS)
                        for sub in (child_shape(api, shape, name),)
                        if sub.kind == "struct"
                        and (shape.type_key, name) not in _GO_POINTER_STRUCTS)
        zero: dict[str, Any] = {name: None for name in lists}
        zero.update((name, value) for name, _, value in structs)
        plan = plans[shape.type_key] = (lists, structs, frozenset(name for name, *_ in structs),
                                        zero)
    return plan


def _go_zero_level(api: PackageApi, plans: dict[str | None, Any], node: dict[str, Any],
                   shape: Shape) -> tuple[dict[str, Any], frozenset[str]]:
    """One level of Go's zero value: ``node`` with the null lists and the empty value
    structs (themselves filled whole) it lacks, and the names of its value-struct fields
    (those whose own values are filled in turn: the fill goes no deeper). ``node`` is not
    changed: when it gains a field it is copied. :func:`compare` fills an object level by
    level with it as it walks, and so never fills (nor copies) what it skips."""
    lists, structs, names, zero = _go_zero_plan(api, plans, shape)
    if not node:
        return zero, names  # (shared: what holds it only reads it)
    out = node
    for name in lists:
        if name not in node:
            if out is node:
                out = dict(node)
            out[name] = None
    for name, _, value in structs:
        if name not in node:
            if out is node:
                out = dict(node)
            out[name] = value
    return out, names


# -- merge --------------------------------------------------------------------------------

def _is_object_shape(shape: Shape) -> bool:
    return shape.kind in ("struct", "map", "deduced")


def _merge(api: PackageApi, lhs: Any, rhs: Any, shape: Shape) -> Any:
    """``rhs`` (the configuration) merged into ``lhs`` (the live value)."""
    if rhs is MISSING:
        return _copy_json(lhs)
    if lhs is MISSING:
        return _copy_json(rhs)
    if _is_object_shape(shape) and isinstance(lhs, dict) and isinstance(rhs, dict):
        out: dict[str, Any] = {}
        for name in [*lhs, *(k for k in rhs if k not in lhs)]:
            value = _merge(api, lhs.get(name, MISSING), rhs.get(name, MISSING),
                           child_shape(api, shape, name))
            if value is None and name in rhs and rhs[name] is None and shape.kind == "struct":
                continue  # a null in the configuration clears the field (as a Go object would)
            out[name] = value
        return out
    if shape.kind in ("list_map", "set") and isinstance(lhs, list) and isinstance(rhs, list):
        return _merge_list(api, lhs, rhs, shape)
    return _copy_json(rhs)


def _merge_list(api: PackageApi, lhs: list[Any], rhs: list[Any], shape: Shape) -> list[Any]:
    """structured-merge-diff's order: the configuration's items in its order, the live
    list's other items where they were (before the next item both lists share)."""
    item_shape = shape.item or LEAF
    lkeys = [item_key(shape, item) for item in lhs]
    rkeys = [item_key(shape, item) for item in rhs]
    lby = {k: item for k, item in zip(lkeys, lhs, strict=True)}
    rby = {k: item for k, item in zip(rkeys, rhs, strict=True)}
    shared = [k for k in rkeys if k in lby]
    next_shared = 0
    merged_rhs: set[str] = set()
    out: list[Any] = []

    def merge_item(k: str) -> None:
        value = (_copy_json(rby[k]) if shape.kind == "set"
                 else _merge(api, lby.get(k, MISSING), rby.get(k, MISSING), item_shape))
        out.append(value)

    li = ri = 0
    while li < len(lkeys) or ri < len(rkeys):
        if li < len(lkeys) and ri < len(rkeys):
            k = lkeys[li]
            if k == rkeys[ri]:
                merged_rhs.add(k)
                merge_item(k)
                li += 1
                ri += 1
                next_shared += 1  # structured-merge-diff moves on whichever item it was
                continue
            if k in rby and next_shared < len(shared) and shared[next_shared] != k:
                li += 1  # shared, but not the one this round takes
                continue
        if li < len(lkeys):
            k = lkeys[li]
            if k not in rby:
                out.append(_copy_json(lby[k]))
                li += 1
                continue
            if k in merged_rhs:
                li += 1
        if ri < len(rkeys):
            k = rkeys[ri]
            merged_rhs.add(k)
            merge_item(k)
            ri += 1
            if next_shared < len(shared) and shared[next_shared] == k:
                next_shared += 1
    return out


# -- compare ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Comparison:
    """What changed between two values: fields added, modified (leaves only) and
    removed (structured-merge-diff's ``Comparison``)."""

    added: FieldSet
    modified: FieldSet
    removed: FieldSet


def compare(api: PackageApi, lhs: Any, rhs: Any, type_key: str | None, *,
            go_zero: bool = False) -> Comparison:
    """Compare two objects of ``type_key``; ``go_zero``: as their Go objects, Go's zero
    values filled in (:func:`_go_zero_level`, as the walk goes)."""
    added: list[Path] = []
    modified: list[Path] = []
    removed: list[Path] = []
    tables = derived(api)
    _compare(api, tables.children, tables.go_zero if go_zero else None, lhs, rhs,
             root_shape(type_key), (), added, modified, removed)
    return Comparison(FieldSet._of(frozenset(added)), FieldSet._of(frozenset(modified)),
                      FieldSet._of(frozenset(removed)))


_OBJECT_KINDS = frozenset({"struct", "map", "deduced"})
_LIST_KINDS = frozenset({"list_map", "set"})
_NO_NAMES: frozenset[str] = frozenset()


def _compare(api: PackageApi, children: dict[tuple[str | None, str], Any],
             go_zero: dict[str | None, Any] | None, lhs: Any, rhs: Any, shape: Shape,
             path: Path, added: list[Path], modified: list[Path], removed: list[Path]) -> None:
    """One level of :func:`compare`. ``children``: the api's field shapes (the walk's
    hot lookup, see :func:`~.fieldset.child_shape`). Leaf fields are decided in the
    loop, without a call per field. ``go_zero``: the api's Go-zero plans, to fill this
    struct level with Go's zero values first (:func:`_go_zero_level`; its value-struct
    fields are filled in turn); ``None``: compare as is."""
    # a null beside a container is an empty one (structured-merge-diff: nil map or list)
    left_absent = lhs is MISSING or lhs is None
    right_absent = rhs is MISSING or rhs is None
    kind = shape.kind
    if left_absent and right_absent:
        walked = False
    elif kind in _OBJECT_KINDS:
        walked = (left_absent or isinstance(lhs, dict)) and (right_absent or isinstance(rhs, dict))
        if walked:
            left = lhs if isinstance(lhs, dict) else {}
            right = rhs if isinstance(rhs, dict) else {}
            zero_names = _NO_NAMES
            if go_zero is not None and kind == "struct":
                # only a dict is filled (a null stays null, as in the Go object)
                if isinstance(lhs, dict):
                    left, zero_names = _go_zero_level(api, go_zero, left, shape)
                if isinstance(rhs, dict):
                    right, zero_names = _go_zero_level(api, go_zero, right, shape)
            type_key = shape.type_key
            for name, value in left.items():
                other = right.get(name, MISSING)
                # _identical(value, other), its common answers inline (a value from the
                # dict is never MISSING)
                if value is other:
                    continue
                value_type = type(value)
                if value_type is type(other):
                    if value_type is str or value_type is int or value_type is float:
                        if value == other:
                            continue
                    elif _identical(value, other):
                        continue
                sub = (children.get((type_key, name)) if kind == "struct" else None) \
                    or child_shape(api, shape, name)
                if sub.kind == "leaf":  # the leaf rule below, inline
                    if other is MISSING:
                        removed.append((*path, "f:" + name))
                    elif (value_type is str and type(other) is str) or not same(value, other):
                        modified.append((*path, "f:" + name))  # (two strs: they differ)
                    continue
                _compare(api, children, go_zero if name in zero_names else None, value, other,
                         sub, (*path, "f:" + name), added, modified, removed)
            for name, value in right.items():
                if name in left:
                    continue
                sub = (children.get((type_key, name)) if kind == "struct" else None) \
                    or child_shape(api, shape, name)
                if sub.kind == "leaf":
                    added.append((*path, "f:" + name))
                elif name in zero_names:
                    _compare(api, children, go_zero, MISSING, value, sub, (*path, "f:" + name),
                             added, modified, removed)
                else:
                    _all_added(api, children, value, sub, (*path, "f:" + name), added)
    elif kind in _LIST_KINDS:
        walked = (left_absent or isinstance(lhs, list)) and (right_absent or isinstance(rhs, list))
        if walked:
            left_items = _by_key(shape, lhs if isinstance(lhs, list) else [])
            right_items = _by_key(shape, rhs if isinstance(rhs, list) else [])
            item_shape = shape.item or LEAF
            for k, value in left_items.items():
                other = right_items.get(k, MISSING)
                if not _identical(value, other):
                    _compare(api, children, None, value, other, item_shape, (*path, k), added,
                             modified, removed)
            for k, value in right_items.items():
                if k not in left_items:
                    _all_added(api, children, value, item_shape, (*path, k), added)
    else:
        walked = False
    if not walked:  # a leaf: a scalar, an atomic value, or a value not of its schema's form
        if lhs is MISSING:
            added.append(path)
        elif rhs is MISSING:
            removed.append(path)
        elif not same(lhs, rhs):
            modified.append(path)
        return
    if path and lhs is MISSING:
        added.append(path)
    elif path and rhs is MISSING:
        removed.append(path)


def _all_added(api: PackageApi, children: dict[tuple[str | None, str], Any], value: Any,
               shape: Shape, path: Path, added: list[Path]) -> None:
    """``_compare(MISSING, value, ...)`` (no Go-zero fill): everything in ``value`` is
    added. A walk of one side only, without the two-sided one's checks at every level: a
    create, or a new part of an object, is all of it this."""
    kind = shape.kind
    if kind in _OBJECT_KINDS and isinstance(value, dict):
        type_key = shape.type_key
        for name, child in value.items():
            sub = (children.get((type_key, name)) if kind == "struct" else None) \
                or child_shape(api, shape, name)
            if sub.kind == "leaf":
                added.append((*path, "f:" + name))
            else:
                _all_added(api, children, child, sub, (*path, "f:" + name), added)
    elif kind in _LIST_KINDS and isinstance(value, list):
        item_shape = shape.item or LEAF
        for k, item in _by_key(shape, value).items():
            _all_added(api, children, item, item_shape, (*path, k), added)
    elif not path:
        added.append(path)  # (a value not walked is a leaf, at the root too)
        return
    if path:
        added.append(path)


_SCALAR_TYPES = (str, int, float)


def _identical(a: Any, b: Any) -> bool:
    """Whether two values are the same JSON, byte for byte (so that their comparison
    finds nothing and need not walk them); ``False`` when unsure (the walk decides).
    Python's ``==`` alone is not enough: it takes ``True`` for ``1``."""
    if a is b:
        return a is not MISSING
    kind = type(a)
    if kind is not type(b):
        return False
    if kind in _SCALAR_TYPES:
        return bool(a == b)
    if kind is dict or kind is list:
        if a != b:
            return False
        try:
            return _json_encode(a) == _json_encode(b)
        except (TypeError, msgspec.EncodeError):  # not JSON: let the walk decide
            return False
    return False


_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.decode


def _by_key(shape: Shape, items: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        out.setdefault(item_key(shape, item), item)  # a duplicate: the first one counts
    return out


def _copy_json(value: Any) -> Any:
    """A deep copy of a JSON value (dicts and lists copied, scalars shared: they are
    immutable), cheaper than ``copy.deepcopy``, which memoizes every node."""
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value


def same(a: Any, b: Any) -> bool:
    """JSON equality (``True`` is not ``1``, ``1`` is ``1.0``)."""
    kind = type(a)
    if kind is str and type(b) is str:
        return bool(a == b)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return bool(a == b)


# -- prune --------------------------------------------------------------------------------

def _prune(api: PackageApi, merged: dict[str, Any], entries: Mapping[Any, _Entry],
           last: FieldSet, shape: Shape) -> dict[str, Any]:
    """Remove what the applier applied last time, no longer applies, and nobody owns
    (structured-merge-diff's ``prune``: remove the last set, add back everything owned,
    keep whatever the applier never owned)."""
    last_e = ensure_named_fields_are_members(api, last, shape)
    pruned = _remove(api, merged, last_e, shape)
    managed = FieldSet().union(*(e.fields for e in entries.values()))
    merged_set = ensure_named_fields_are_members(api, _fields(api, merged, shape), shape)
    pruned_set = ensure_named_fields_are_members(api, _fields(api, pruned, shape), shape)
    managed_e = ensure_named_fields_are_members(api, managed, shape)
    pruned = _remove(api, merged, merged_set - (pruned_set | managed_e), shape)
    pruned_set = ensure_named_fields_are_members(api, _fields(api, pruned, shape), shape)
    result = _remove(api, merged, (merged_set - pruned_set) & last_e, shape)
    return result if isinstance(result, dict) else {}


def _fields(api: PackageApi, value: Any, shape: Shape) -> FieldSet:
    return fields_of(value, api, shape.type_key) if value is not MISSING else FieldSet()


def ensure_named_fields_are_members(api: PackageApi, fields: FieldSet, shape: Shape) -> FieldSet:
    """``fields`` plus every struct field that has members below it (so that removing it
    removes the field, not only what it held); before 1.21 ``fields`` as they are."""
    if not nested_sets(api):
        return fields
    extra: list[Path] = []

    def walk(node: dict[str, Any], current: Shape, path: Path) -> None:
        for element, below in node.items():
            if element == _MEMBER:
                continue
            is_field = element.startswith("f:")
            child_path = (*path, element)
            if is_field and current.kind == "struct" and len(below) > (_MEMBER in below):
                extra.append(child_path)
            walk(below, child_shape(api, current, element[2:]) if is_field
                 else current.item or LEAF, child_path)

    walk(_trie(fields), shape, ())
    return fields | FieldSet(extra)


def _remove(api: PackageApi, value: Any, remove: FieldSet, shape: Shape) -> Any:
    """``value`` without the members of ``remove`` (a member goes with everything below
    it); a container emptied by the removal goes too (``MISSING``)."""
    if not remove:
        return value
    return _remove_trie(api, value, _trie(remove), shape)


#: The key of a trie node that marks its path a member.
_MEMBER = ""


def _trie(fields: FieldSet) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in fields.paths:
        node = root
        for element in path:
            node = node.setdefault(element, {})
        node[_MEMBER] = True
    return root


def _remove_trie(api: PackageApi, value: Any, trie: dict[str, Any], shape: Shape) -> Any:
    if _is_object_shape(shape) and isinstance(value, dict):
        out: dict[str, Any] = {}
        for name, child in value.items():
            below = trie.get("f:" + name)
            if below is not None:
                if _MEMBER in below:
                    continue
                child = _remove_trie(api, child, below, child_shape(api, shape, name))
                if child is MISSING:
                    continue
            out[name] = child
        return out if out else MISSING
    if shape.kind in ("list_map", "set") and isinstance(value, list):
        items: list[Any] = []
        for item in value:
            below = trie.get(item_key(shape, item))
            if below is not None:
                if _MEMBER in below:
                    continue
                item = _remove_trie(api, item, below, shape.item or LEAF)
                if item is MISSING:
                    continue
            items.append(item)
        return items if items else MISSING
    return value
