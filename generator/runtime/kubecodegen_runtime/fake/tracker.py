"""The object tracker: the fake server's store, and every write semantic of kube-apiserver.

Objects are JSON dicts keyed by ``(group, resource)`` and ``(namespace, name)``; each is
stored with its encoded bytes, so a read is a copy-free answer and a write starts from
a fresh decode (msgspec's decode is a fast deep copy). One lock guards the store, and
one counter hands out resourceVersions (strings of integers, monotonic, shared by all
resources as etcd's revision is).

What the real server does, and this does too: ``generateName``, metadata validation,
uid / creationTimestamp / generation, status dropped on create and kept on update for
resources with a status subresource, optimistic concurrency, no-op updates that write
nothing, finalizers and ``deletionTimestamp``, delete preconditions and propagation
policies, label and field selectors, paging with continue tokens, namespaces that must
exist and may be terminating. What it does not do is listed in docs/testing.md
("Known limits of the fake"): no controllers (no garbage collector, no namespace
controller), no built-in defaulting, no type-specific validation, no admission.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import msgspec

from ..apis.meta_v1 import StatusCause
from ..errors import BadRequest, Invalid, MethodNotAllowed, NotFound
from ..meta import ResourceInfo
from . import actions, crschema, objmeta, quirks
from .gofmt import go_value
from .release import at_least
from .schema import PackageApi
from .store import GR, Obj, Presented, Slot, Snapshots, Stored, copy, meta_of, sort_key
from .watch import EventLog

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode

#: The resourceVersion a fresh store starts at: a real cluster has written that much
#: before a client sees it, and a watch from before it is too old (its watch cache
#: starts there).
FIRST_RV = 100
#: Writes kept to read lists in the past (``resourceVersionMatch=Exact``) and to replay
#: watches: kube-apiserver 1.20's watch cache grows while its events are fresh (to
#: 100 Ki events), so quick test writes are all kept.
HISTORY = 10_000

#: How many generated names are tried before giving up (the server tries once and
#: answers AlreadyExists; retrying makes a collision in a test impossible in practice).
GENERATE_ATTEMPTS = 8


class ObjectTracker:
    """The store of one fake cluster, shared by every client of it.

    Methods take the :class:`~..meta.ResourceInfo` of the resource addressed (the
    version in it decides the ``apiVersion`` of what is returned) and raise
    :class:`~..errors.ApiError` values worded as the real server words them.
    """

    def __init__(self, api: PackageApi, *, seed: int | None = None,
                 window: int = HISTORY) -> None:
        self.api = api
        #: Every write, for watches (``window`` events kept per resource).
        self.events = EventLog(window=window)
        #: Where the store's history starts: older watches, lists and continue tokens
        #: are too old (see :meth:`compact`).
        self.compacted_rv = FIRST_RV
        #: ``(rv, (group, resource), slot, entry before the write)`` of recent writes.
        self._history: deque[tuple[int, GR, Slot, Stored | None]] = deque(maxlen=window)
        self._window = window
        #: The selected objects of recent paged lists (their continue tokens' snapshots).
        self.snapshots = Snapshots()
        self.lock = threading.RLock()
        self._tables: dict[GR, dict[Slot, Stored]] = {}
        self._rv = FIRST_RV
        self._seed = seed
        #: Namespaces carry ``kubernetes.io/metadata.name`` from 1.21 (unreadable: newest).
        self._labels_namespaces = at_least(api.kubernetes_version, (1, 21))
        self._random: random.Random | None = None  # made on first generateName (seeding costs)
        indexes = _indexes(api)
        self._infos, self._kinds = indexes.infos, indexes.kinds
        self._namespaces = self._infos.get(("", "v1", "namespaces"))
        if self._namespaces is not None:
            if indexes.initial is None:
                indexes.initial = self._initial_namespaces(self._namespaces)
            # What _create_initial_namespace makes, from its JSON (one decode of them all:
            # a fast deep copy) with this cluster's own uid and creationTimestamp put in
            # place: their keys are already there, so the key order is the same.
            for obj in _decode(indexes.initial):
                meta = obj["metadata"]
                meta["uid"] = objmeta.new_uid()
                meta["creationTimestamp"] = objmeta.now()
                self._commit(self._namespaces, ("", meta["name"]), obj, "ADDED")

    def _initial_namespaces(self, info: ResourceInfo) -> bytes:
        """The JSON list of the namespaces a fresh cluster has, as
        :meth:`_create_initial_namespace` makes them before their commit (the same for every
        tracker of one PackageApi but for the uid and creationTimestamp each tracker gives
        them)."""
        return _encode([self._create_initial_namespace(info, name)
                        for name in quirks.INITIAL_NAMESPACES])

    def _create_initial_namespace(self, info: ResourceInfo, name: str) -> Obj:
        """One of a fresh cluster's namespaces, ready to commit: what :meth:`create` does,
        without its checks (the names are valid, the store is new) or the copy it returns."""
        obj = self._with_type_meta(info, {"metadata": {"name": name}})
        self._reset_status(info, obj, False)
        self._prepare_create(info, obj, meta_of(obj))
        return obj

    @property
    def _rng(self) -> random.Random:
        if self._random is None:
            self._random = random.Random(self._seed)
        return self._random

    # --- bookkeeping -----------------------------------------------------------------

    @property
    def resource_version(self) -> str:
        """The current resourceVersion of the whole store (what a list carries)."""
        with self.lock:
            return str(self._rv)

    @property
    def current_rv(self) -> int:
        return self._rv

    def compact(self, rv: int | None = None) -> None:
        """Forget history up to ``rv`` (default: now), as an etcd compaction does: watches
        and continue tokens from before it answer 410 Expired."""
        with self.lock:
            target = self._rv if rv is None else min(rv, self._rv)
            self.compacted_rv = max(self.compacted_rv, target)
            self.events.compact(target)

    def info(self, group: str, version: str, resource: str) -> ResourceInfo | None:
        return self._infos.get((group, version, resource))

    def info_for_kind(self, api_version: str, kind: str) -> ResourceInfo | None:
        group, _, version = api_version.rpartition("/")
        return self._kinds.get((group, version, kind))

    def is_custom(self, info: ResourceInfo) -> bool:
        return (info.group, info.resource) in self.api.custom

    def _table(self, info: ResourceInfo) -> dict[Slot, Stored]:
        gr = (info.group, info.resource)
        table = self._tables.get(gr)  # not setdefault: no empty dict made on every call
        if table is None:
            table = self._tables[gr] = {}
        return table

    def _slot(self, info: ResourceInfo, namespace: str | None, name: str) -> Slot:
        return ((namespace or "") if info.namespaced else "", name)

    def _commit(self, info: ResourceInfo, slot: Slot, obj: Obj | None, kind: str,
                deleted: Obj | None = None) -> Stored | None:
        """Store ``obj`` (or remove the slot) at a new resourceVersion, remember what was
        there (lists in the past), and publish the event (watches)."""
        rv = self._rv = self._rv + 1
        gr = (info.group, info.resource)
        table = self._table(info)
        history = self._history
        if self._window and len(history) == self._window:
            self.compacted_rv = max(self.compacted_rv, history[0][0])
        previous = table.get(slot)
        history.append((rv, gr, slot, previous))
        if obj is None:
            assert deleted is not None
            table.pop(slot, None)
            published = copy(deleted)
            meta_of(published)["resourceVersion"] = str(rv)
            stored = None
        else:
            meta_of(obj)["resourceVersion"] = str(rv)
            stored = Stored(obj, _encode(obj), rv)
            table[slot] = stored
            published = obj
        self.events.publish(gr, kind, previous.obj if previous is not None else None,
                            published, rv)
        return stored

    def _with_type_meta(self, info: ResourceInfo, obj: Obj) -> Obj:
        obj["apiVersion"] = info.api_version
        obj["kind"] = info.kind
        return obj

    def _present(self, info: ResourceInfo, stored: Stored) -> Obj:
        """A private copy of a stored object as ``info``'s version shows it."""
        obj = _decode(stored.raw)
        if obj.get("apiVersion") != info.api_version:
            obj["apiVersion"] = info.api_version
        assert isinstance(obj, dict)
        return obj

    def _answer(self, info: ResourceInfo, stored: Stored, presented: bool) -> Obj:
        """What a write returns: :meth:`_present`; for the server's answer
        (``presented``), carrying its JSON when that is the stored bytes (the server then
        sends them as they are, without encoding the copy again; the dict itself is read
        only, so it is made from the stored object without a decode: see
        :class:`~.store.Presented`)."""
        if not presented:
            return self._present(info, stored)
        if stored.obj.get("apiVersion") != info.api_version:
            return self._present(info, stored)
        return Presented(stored.obj, stored.raw)

    def raw(self, info: ResourceInfo, stored: Stored) -> bytes:
        """The stored bytes as ``info``'s version shows them."""
        if stored.obj.get("apiVersion") == info.api_version:
            return stored.raw
        return _encode(self._present(info, stored))

    # --- seeding -----------------------------------------------------------------------

    def add(self, obj: object) -> Obj:
        """Add a typed model or a dict as if created, creating its namespace if needed.

        The object's ``apiVersion`` and ``kind`` (filled from the scheme for typed
        models) say which resource it belongs to.
        """
        if isinstance(obj, msgspec.Struct):
            data = self.api.scheme.to_dict(self.api.scheme.with_type_meta(obj))
        elif isinstance(obj, Mapping):
            data = copy(dict(obj))
        else:
            raise TypeError(f"cannot add {type(obj).__name__}: expected a model or a dict")
        info = self.info_for_kind(str(data.get("apiVersion", "")), str(data.get("kind", "")))
        if info is None:
            raise ValueError(f"the package serves no resource of kind {data.get('kind')!r} "
                             f"in {data.get('apiVersion')!r}")
        namespace = meta_of(data).get("namespace") if info.namespaced else None
        with self.lock:
            if info.namespaced:
                namespace = namespace or "default"
                meta = data.setdefault("metadata", {})
                meta["namespace"] = namespace
                self._ensure_namespace(namespace)
            return self.create(info, data, namespace=namespace, keep_status=True)

    def _ensure_namespace(self, namespace: str) -> None:
        ns_info = self._namespaces
        if ns_info is None or ("", namespace) in self._table(ns_info):
            return
        self.create(ns_info, {"metadata": {"name": namespace}})

    # --- reads -------------------------------------------------------------------------

    def lookup(self, info: ResourceInfo, namespace: str | None, name: str) -> Stored | None:
        with self.lock:
            return self._table(info).get(self._slot(info, namespace, name))

    def get(self, info: ResourceInfo, name: str, namespace: str | None = None) -> Obj:
        """A copy of the object, or 404 NotFound."""
        stored = self.lookup(info, namespace, name)
        if stored is None:
            raise actions.not_found(info.resource, name, info.group)
        return self._present(info, stored)

    def items(self, info: ResourceInfo, namespace: str | None = None) -> list[Stored]:
        """The stored objects of a resource (in one namespace, or all), in etcd order."""
        with self.lock:
            table = self._table(info)
            slots = [s for s in table if namespace is None or s[0] == namespace]
            slots.sort(key=sort_key)
            return [table[s] for s in slots]

    def items_at(self, info: ResourceInfo, namespace: str | None,
                 rv: int) -> list[Stored] | None:
        """The stored objects as they were at ``rv`` (``None``: history does not reach
        back that far), in etcd order: the present with the later writes undone."""
        with self.lock:
            if rv < self.compacted_rv:
                return None
            table = dict(self._table(info))
            gr = (info.group, info.resource)
            for at, where, slot, before in reversed(self._history):
                if at <= rv:
                    break
                if where != gr:
                    continue
                if before is None:
                    table.pop(slot, None)
                else:
                    table[slot] = before
            slots = sorted((s for s in table if namespace is None or s[0] == namespace),
                           key=sort_key)
            return [table[s] for s in slots]

    def objects(self, info: ResourceInfo, namespace: str | None = None) -> list[Obj]:
        """Copies of every object of a resource (in one namespace, or all)."""
        return [self._present(info, s) for s in self.items(info, namespace)]

    # --- create --------------------------------------------------------------------

    def _check_namespace(self, info: ResourceInfo, namespace: str | None, name: str) -> None:
        """The NamespaceLifecycle admission plugin: the namespace must exist and not be
        terminating."""
        if not info.namespaced or self._namespaces is None or namespace is None:
            return
        stored = self._table(self._namespaces).get(("", namespace))
        if stored is None:
            raise actions.not_found("namespaces", namespace)
        if meta_of(stored.obj).get("deletionTimestamp") or \
                stored.obj.get("status", {}).get("phase") == "Terminating":
            error = actions.forbidden(
                info.resource, name,
                f"unable to create new content in namespace {namespace} because it is "
                "being terminated", info.group)
            if error.details is not None:
                error.details.causes = [StatusCause(
                    reason="NamespaceTerminating", field="metadata.namespace",
                    message=f"namespace {namespace} is being terminated")]
                error.causes = list(error.details.causes)
            raise error

    def _scope(self, info: ResourceInfo, obj: Obj, namespace: str | None) -> None:
        """The namespace of the body must be the request's (or absent: it is filled)."""
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise BadRequest(400, "BadRequest", "metadata must be an object")
        if not info.namespaced:
            meta.pop("namespace", None)
            return
        body_ns = meta.get("namespace")
        if body_ns and namespace and body_ns != namespace:
            raise BadRequest(400, "BadRequest", "the namespace of the provided object does "
                             "not match the namespace sent on the request")
        if namespace:
            meta["namespace"] = namespace

    def _validate_meta(self, info: ResourceInfo, meta: Mapping[str, Any], name: str,
                       more: list[objmeta.Cause] | None = None) -> None:
        """The metadata checks every resource shares; ``more``: the type's own causes,
        reported in the same 422 after them (a custom resource's schema)."""
        rule = quirks.name_rule(info.group, info.resource)
        generate = meta.get("generateName")
        causes = objmeta.name_problems(generate, rule, "metadata.generateName", prefix=True) \
            if isinstance(generate, str) and generate else []
        causes += objmeta.name_problems(name, rule) if name else [
            ("FieldValueRequired", "metadata.name",
             "Required value: name or generateName is required")]
        labels = meta.get("labels")
        if labels:  # label_problems finds none in no labels
            causes += objmeta.label_problems(labels)
        if more:
            causes += more
        if causes:
            raise actions.invalid(info.kind, name, causes, info.group)

    # --- custom resources' schemas ------------------------------------------------------

    def _schema(self, info: ResourceInfo) -> crschema.Schema | None:
        """The structural schema of a custom resource version (``None`` for the rest)."""
        return crschema.schema_for(self.api, info) if self.is_custom(info) else None

    def _decode_custom(self, info: ResourceInfo, obj: Obj) -> crschema.Schema | None:
        """What the server's decoder does to a custom resource's body (prune, drop
        nulls, default: :mod:`.crschema`), in place; its schema, if it has one."""
        schema = self._schema(info)
        if schema is not None:
            schema.coerce(obj)
        return schema

    def _custom_problems(self, info: ResourceInfo, schema: crschema.Schema | None, obj: Obj,
                         old: Obj | None = None, subresource: str | None = None
                         ) -> list[objmeta.Cause]:
        """The schema's causes for the object a write stores (``old``: an update's)."""
        if schema is None:
            return []
        scale = self.api.scale.get((info.group, info.resource)) \
            if "scale" in info.subresources else None
        return schema.problems(obj, old=old, scale=scale, status_only=subresource == "status")

    def _invalid(self, info: ResourceInfo, name: str, causes: list[objmeta.Cause]) -> Invalid:
        return actions.invalid(info.kind, name, causes, info.group)

    def create(self, info: ResourceInfo, obj: Obj, *, namespace: str | None = None,
               dry_run: bool = False, manager: str = "", keep_status: bool = False,
               managed: Callable[[Obj | None, Obj], Any] | None = None,
               presented: bool = False) -> Obj:
        """Create ``obj`` (a dict the tracker may keep); the stored object's copy
        (``presented``: a :class:`~.store.Presented` one, for the server's answer).

        ``keep_status`` keeps the body's status (seeding); a real create drops it for
        resources with a status subresource. ``managed(old, new)`` returns the
        managedFields of the new object (server-side apply bookkeeping).
        """
        with self.lock:
            obj = self._with_type_meta(info, obj)
            schema = self._decode_custom(info, obj)
            self._scope(info, obj, namespace)
            meta = meta_of(obj)
            namespace = meta.get("namespace") if info.namespaced else None
            name = meta.get("name") or ""
            generate = meta.get("generateName") or ""
            table = self._table(info)
            if not name and generate:
                for _ in range(GENERATE_ATTEMPTS):
                    name = objmeta.generate_name(generate, self._rng)
                    if self._slot(info, namespace, name) not in table:
                        break
                meta["name"] = name
            self._reset_status(info, obj, keep_status)
            self._validate_meta(info, meta, name, self._custom_problems(info, schema, obj))
            self._check_namespace(info, namespace, name)
            slot = self._slot(info, namespace, name)
            if slot in table:
                raise actions.already_exists(info.resource, name, info.group)
            if meta.get("resourceVersion") and not dry_run and not keep_status:
                # etcd3's store refuses it, and the handler answers that as a 500
                raise actions.internal_error(
                    "resourceVersion should not be set on objects to be created")
            self._prepare_create(info, obj, meta)
            if managed is not None:
                fields = managed(None, obj)
                if fields:
                    meta["managedFields"] = fields
            if dry_run:
                meta.pop("resourceVersion", None)
                return copy(obj)
            stored = self._commit(info, slot, obj, "ADDED")
            assert stored is not None
            return self._answer(info, stored, presented)

    def _reset_status(self, info: ResourceInfo, obj: Obj, keep_status: bool) -> None:
        """PrepareForCreate's status rule, which comes before the strategy validates: a
        resource with a status subresource is created without the body's status (custom
        resources: none; built-in ones: an empty one), unless ``keep_status`` (seeding)."""
        if "status" in info.subresources and not keep_status:
            if self.is_custom(info):
                obj.pop("status", None)
            else:
                obj["status"] = {}

    def _prepare_create(self, info: ResourceInfo, obj: Obj, meta: dict[str, Any]) -> None:
        """What every create sets (``BeforeCreate``) and the rest of each strategy's
        PrepareForCreate (``meta``: ``obj``'s metadata; the status: :meth:`_reset_status`)."""
        for gone in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds",
                     "selfLink"):
            meta.pop(gone, None)
        meta["uid"] = objmeta.new_uid()
        meta["creationTimestamp"] = objmeta.now()
        custom = self.is_custom(info)
        if quirks.tracks_generation(info.group, info.resource, custom):
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        if (info.group, info.resource) == ("", "namespaces"):
            spec = obj.setdefault("spec", {})
            if not spec.get("finalizers"):
                spec["finalizers"] = ["kubernetes"]
            status = obj.setdefault("status", {})
            status["phase"] = "Active"
            if self._labels_namespaces:
                meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]

    # --- update ----------------------------------------------------------------------

    def update(self, info: ResourceInfo, obj: Obj, *, namespace: str | None = None,
               name: str | None = None, subresource: str | None = None,
               dry_run: bool = False, manager: str = "", from_patch: bool = False,
               managed: Callable[[Obj | None, Obj], Any] | None = None,
               presented: bool = False) -> tuple[Obj, bool]:
        """Replace an object (or its status); ``(the stored copy, created)``
        (``presented``: as in :meth:`create`).

        ``from_patch``: the body is the result of a patch of the current object (the
        resourceVersion it carries is the current one unless the patch changed it).
        """
        with self.lock:
            obj = self._with_type_meta(info, obj)
            schema = self._decode_custom(info, obj)
            self._scope(info, obj, namespace)
            meta = meta_of(obj)
            namespace = meta.get("namespace") if info.namespaced else None
            body_name = meta.get("name") or ""
            if name is None:
                name = body_name
            if body_name != name:
                raise BadRequest(400, "BadRequest", f"the name of the object ({body_name}) "
                                 f"does not match the name on the URL ({name})")
            slot = self._slot(info, namespace, name)
            stored = self._table(info).get(slot)
            if stored is None:
                if subresource is None and not from_patch and \
                        (info.group, info.resource) in quirks.CREATE_ON_UPDATE:
                    if meta.get("resourceVersion"):
                        raise actions.not_found(info.resource, name, info.group)
                    return self.create(info, obj, namespace=namespace, dry_run=dry_run,
                                       manager=manager, managed=managed,
                                       presented=presented), True
                raise actions.not_found(info.resource, name, info.group)
            old = stored.obj
            old_meta = meta_of(old)
            self._preconditions(info, meta, old, old_meta, name, from_patch)
            new = self._prepare_update(info, obj, old, old_meta, subresource)
            new_meta = meta_of(new)
            self._validate_meta(info, new_meta, name,
                                self._custom_problems(info, schema, new, old, subresource))
            self._validate_finalizers(info, old_meta, new_meta, name)
            if managed is not None:
                fields = managed(old, new)
                new_meta = meta_of(new)
                if fields:
                    new_meta["managedFields"] = fields
                else:
                    new_meta.pop("managedFields", None)
            return self._write_update(info, slot, old, new, stored, dry_run,
                                      presented, new_meta), False

    def _validate_finalizers(self, info: ResourceInfo, old_meta: Mapping[str, Any],
                             new_meta: Mapping[str, Any], name: str) -> None:
        """An object being deleted takes no new finalizers (``ValidateObjectMetaUpdate``);
        the metadata before and after."""
        if not old_meta.get("deletionTimestamp"):
            return
        before = set(old_meta.get("finalizers") or [])
        added = [f for f in new_meta.get("finalizers") or [] if f not in before]
        if added:
            quoted = ", ".join(f'"{f}"' for f in added)
            raise self._invalid(info, name, [(
                "FieldValueForbidden", "metadata.finalizers",
                "Forbidden: no new finalizers can be added if the object is being deleted, "
                f"found new finalizers []string{{{quoted}}}")])

    def _preconditions(self, info: ResourceInfo, meta: Mapping[str, Any], old: Obj,
                       old_meta: Mapping[str, Any], name: str, from_patch: bool) -> None:
        """Optimistic concurrency: the body's resourceVersion and uid must be current
        (``old_meta``: ``old``'s metadata).

        A PUT's uid is a precondition (Conflict); a patch that changes the uid changes an
        immutable field (Invalid), as ``ValidateObjectMetaUpdate`` says."""
        uid = meta.get("uid")
        if from_patch and uid and uid != old_meta.get("uid"):
            raise self._invalid(info, name, [
                ("FieldValueInvalid", "metadata.uid",
                 f"Invalid value: {go_value(uid)}: field is immutable")])
        rv = meta.get("resourceVersion")
        if rv:
            if rv != old_meta.get("resourceVersion"):
                raise actions.conflict(info.resource, name, info.group)
        elif not from_patch and (self.is_custom(info) or (info.group, info.resource)
                                 in quirks.CONDITIONAL_UPDATE_ONLY):
            # The store's own check: its Invalid names the resource, not the kind.
            raise actions.invalid(info.resource, name, [
                ("FieldValueInvalid", "metadata.resourceVersion",
                 "Invalid value: 0x0: must be specified for an update")], info.group)
        uid = meta.get("uid")
        if uid and uid != old_meta.get("uid"):
            raise actions.conflict(
                info.resource, name, info.group,
                f"StorageError: invalid object, Code: 4, Key: {self._etcd_key(info, old)}, "
                "ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in "
                f"precondition: {uid}, UID in object meta: {old_meta.get('uid')}")

    def _prepare_update(self, info: ResourceInfo, obj: Obj, old: Obj, old_meta: dict[str, Any],
                        subresource: str | None) -> Obj:
        """The object to store: the body with the fields the server owns taken from
        ``old`` (whose metadata is ``old_meta``); for a status update, ``old`` with the
        body's status."""
        if subresource == "status":
            new = copy(old)
            if "status" in obj:
                new["status"] = obj["status"]
            else:
                new.pop("status", None)
            managed = meta_of(obj).get("managedFields")
            if managed is not None:
                meta_of(new)["managedFields"] = managed
        else:
            new = obj
            if "status" in info.subresources:
                if "status" in old:
                    new["status"] = copy({"s": old["status"]})["s"]
                else:
                    new.pop("status", None)
        meta = meta_of(new)
        for kept in ("uid", "creationTimestamp", "deletionTimestamp",
                     "deletionGracePeriodSeconds", "generation", "namespace", "name"):
            if kept in old_meta:
                meta[kept] = old_meta[kept]
            else:
                meta.pop(kept, None)
        meta["resourceVersion"] = old_meta.get("resourceVersion")
        meta.pop("selfLink", None)
        if (info.group, info.resource) == ("", "namespaces") and subresource is None:
            new["spec"] = copy({"s": old.get("spec", {})})["s"]
        if "generation" in old_meta and self._spec_changed(info, old, new):
            meta["generation"] = int(old_meta["generation"]) + 1
        return new

    def _spec_changed(self, info: ResourceInfo, old: Obj, new: Obj) -> bool:
        """Whether an update bumps the generation: any change of ``spec`` (for custom
        resources and CRDs: of anything but metadata and status)."""
        if self.is_custom(info) or \
                (info.group, info.resource) in quirks.GENERATION_OF_WHOLE_OBJECT:
            skip = ("metadata", "status", "apiVersion", "kind")
            return {k: v for k, v in old.items() if k not in skip} != \
                {k: v for k, v in new.items() if k not in skip}
        return bool(old.get("spec") != new.get("spec"))

    def _write_update(self, info: ResourceInfo, slot: Slot, old: Obj, new: Obj,
                      stored: Stored, dry_run: bool, presented: bool = False,
                      meta: dict[str, Any] | None = None) -> Obj:
        """Store an updated object unless nothing changed; finish a deletion whose last
        finalizer went away (``meta``: ``new``'s metadata, when the caller has it)."""
        if meta is None:
            meta = meta_of(new)
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and \
                not self._graceful_pending(info, new):
            if dry_run:
                return copy(new)
            self._commit(info, slot, None, "DELETED", deleted=new)
            result = copy(new)
            return result
        if _same(old, new):
            return self._answer(info, stored, presented)
        if dry_run:
            return copy(new)
        committed = self._commit(info, slot, new, "MODIFIED")
        assert committed is not None
        return self._answer(info, committed, presented)

    def _graceful_pending(self, info: ResourceInfo, obj: Obj) -> bool:
        """A pod being deleted gracefully waits for its kubelet (which never comes)."""
        return (info.group, info.resource) == ("", "pods") and \
            bool(meta_of(obj).get("deletionGracePeriodSeconds"))

    # --- delete ----------------------------------------------------------------------

    def delete(self, info: ResourceInfo, name: str, *, namespace: str | None = None,
               options: Mapping[str, Any] | None = None,
               dry_run: bool = False, presented: bool = False) -> tuple[Obj, bool]:
        """Delete an object: ``(its last state, deleted now)`` (``presented``: as in
        :meth:`create`). With finalizers (or a
        propagation policy that adds one) it is only marked: ``deletionTimestamp`` set,
        kept until an update removes the last finalizer."""
        options = options or {}
        with self.lock:
            slot = self._slot(info, namespace, name)
            stored = self._table(info).get(slot)
            if stored is None:
                raise actions.not_found(info.resource, name, info.group)
            old = stored.obj
            self._delete_preconditions(info, name, old, options.get("preconditions"))
            new = copy(old)
            meta = meta_of(new)
            finalizers = list(meta.get("finalizers") or [])
            orphan = (info.group, info.version, info.resource) in quirks.ORPHAN_BY_DEFAULT
            for finalizer in _gc_finalizers(options, orphan):
                if finalizer not in finalizers:
                    finalizers.append(finalizer)
            grace = self._grace_period(info, new, options)
            is_namespace = (info.group, info.resource) == ("", "namespaces")
            if meta.get("deletionTimestamp"):
                if finalizers != list(meta.get("finalizers") or []):
                    meta["finalizers"] = finalizers
                    return self._write_update(info, slot, old, new, stored, dry_run,
                                      presented), False
                return self._answer(info, stored, presented), False
            if finalizers or grace or is_namespace:
                if finalizers:
                    meta["finalizers"] = finalizers
                if "generation" in meta:
                    meta["generation"] = int(meta["generation"]) + 1
                meta["deletionTimestamp"] = objmeta.now()
                if is_namespace:
                    # The namespace's own storage: phase Terminating, no grace period.
                    new.setdefault("status", {})["phase"] = "Terminating"
                else:
                    meta["deletionGracePeriodSeconds"] = grace
                if dry_run:
                    return new, False
                committed = self._commit(info, slot, new, "MODIFIED")
                assert committed is not None
                return self._answer(info, committed, presented), False
            if dry_run:
                return self._answer(info, stored, presented), True
            result = self._answer(info, stored, presented)
            self._commit(info, slot, None, "DELETED", deleted=old)
            return result, True

    def _etcd_key(self, info: ResourceInfo, obj: Obj) -> str:
        """Where etcd would keep ``obj`` (the server quotes it in storage errors)."""
        meta = meta_of(obj)
        prefix = f"/registry/{info.group}/{info.resource}" if self.is_custom(info) \
            else f"/registry/{info.resource}"
        where = f"{meta.get('namespace')}/{meta.get('name')}" if info.namespaced \
            else str(meta.get("name"))
        return f"{prefix}/{where}"

    def _delete_preconditions(self, info: ResourceInfo, name: str, old: Obj,
                              preconditions: Any) -> None:
        """``BeforeDelete``'s checks; its Conflict names the *kind*, not the resource."""
        if not isinstance(preconditions, dict):
            return
        meta = meta_of(old)
        uid, rv = preconditions.get("uid"), preconditions.get("resourceVersion")
        if uid and uid != meta.get("uid"):
            raise actions.conflict(
                info.kind, name, info.group,
                f"the UID in the precondition ({uid}) does not match the UID in record "
                f"({meta.get('uid')}). The object might have been deleted and then recreated")
        if rv and rv != meta.get("resourceVersion"):
            raise actions.conflict(
                info.kind, name, info.group,
                f"the ResourceVersion in the precondition ({rv}) does not match the "
                f"ResourceVersion in record ({meta.get('resourceVersion')}). The object "
                "might have been modified")

    def _grace_period(self, info: ResourceInfo, obj: Obj, options: Mapping[str, Any]) -> int:
        """Seconds of graceful deletion: only pods bound to a node have one (30 s, or
        the request's); everything else is deleted at once."""
        if (info.group, info.resource) != ("", "pods"):
            return 0
        if not obj.get("spec", {}).get("nodeName"):
            return 0
        grace = options.get("gracePeriodSeconds")
        if isinstance(grace, int):
            return grace
        spec_grace = obj.get("spec", {}).get("terminationGracePeriodSeconds")
        return spec_grace if isinstance(spec_grace, int) else 30

    # --- writes driven by a function of the current object -------------------------

    def mutate(self, info: ResourceInfo, name: str, fn: Callable[[Obj], Obj], *,
               namespace: str | None = None, subresource: str | None = None,
               dry_run: bool = False, manager: str = "",
               managed: Callable[[Obj | None, Obj], Any] | None = None,
               presented: bool = False) -> Obj:
        """Apply ``fn`` to a copy of the current object and store the result as an
        update (patches: the current object is read and written under one lock;
        ``presented``: as in :meth:`create`)."""
        with self.lock:
            current = self.get(info, name, namespace)
            new = fn(current)
            result, _ = self.update(info, new, namespace=namespace, name=name,
                                    subresource=subresource, dry_run=dry_run,
                                    manager=manager, from_patch=True, managed=managed,
                                    presented=presented)
            return result

    def check_verb(self, info: ResourceInfo, verb: str, subresource: str | None = None) -> None:
        """405 MethodNotAllowed unless the resource (or subresource) offers ``verb``."""
        verbs = info.verbs if subresource is None else info.subresources.get(subresource)
        if verbs is None:
            raise NotFound(404, "NotFound", "the server could not find the requested resource")
        if verb not in verbs:
            raise MethodNotAllowed(405, "MethodNotAllowed",
                                   "the server does not allow this method on the requested "
                                   "resource")

    def snapshot(self) -> Iterator[tuple[GR, Slot, Obj]]:
        """Every stored object (for debugging and tests)."""
        with self.lock:
            for gr, table in self._tables.items():
                for slot, stored in table.items():
                    yield gr, slot, stored.obj


class _Indexes:
    """What every tracker of one PackageApi starts from: ``(group, version, resource)``
    and ``(group, version, kind)`` -> ResourceInfo, and the JSON of the initial
    namespaces (made by the first tracker; see :meth:`ObjectTracker._initial_namespaces`).
    Only immutable values: trackers share them, never an object they change."""

    __slots__ = ("api", "infos", "initial", "kinds")

    def __init__(self, api: PackageApi) -> None:
        self.api = api  # kept alive with its indexes, so that its id is never reused
        self.infos: dict[tuple[str, str, str], ResourceInfo] = {}
        self.kinds: dict[tuple[str, str, str], ResourceInfo] = {}
        self.initial: bytes | None = None
        for info in api.resources:
            self.infos.setdefault((info.group, info.version, info.resource), info)
            self.kinds.setdefault((info.group, info.version, info.kind), info)


#: The indexes of each PackageApi seen (a package has one, made once), by id.
_INDEXES: dict[int, _Indexes] = {}


def _indexes(api: PackageApi) -> _Indexes:
    known = _INDEXES.get(id(api))
    if known is not None and known.api is api:
        return known
    made = _Indexes(api)
    if len(_INDEXES) < 64:
        _INDEXES[id(api)] = made
    return made


def _same(old: Obj, new: Obj) -> bool:
    """Whether an update changes nothing: the server then writes nothing (no new
    resourceVersion, no event). A new owner in managedFields is a change; a new
    timestamp alone is not."""
    if old.keys() - _METADATA != new.keys() - _METADATA:
        return False
    for key, value in old.items():
        if key != "metadata" and value != new[key]:
            return False
    old_meta, new_meta = meta_of(old), meta_of(new)  # not a dict: none
    if old_meta.keys() - _VOLATILE != new_meta.keys() - _VOLATILE:
        return False
    for key, value in old_meta.items():
        if key not in _VOLATILE and value != new_meta[key]:
            return False
    return _entries_without_time(old_meta) == _entries_without_time(new_meta)


#: What ``_same`` compares apart: the version changes on every write, and managedFields
#: are compared without their times.
_VOLATILE = frozenset({"resourceVersion", "managedFields"})
_METADATA = frozenset({"metadata"})


def _entries_without_time(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    entries = meta.get("managedFields") or []
    return [{k: v for k, v in e.items() if k != "time"} for e in entries if isinstance(e, dict)]


def _gc_finalizers(options: Mapping[str, Any], orphan_by_default: bool) -> Iterable[str]:
    """The finalizer a propagation policy asks for: the garbage collector would remove
    it after deleting (Foreground) or orphaning (Orphan) the dependents. Without a
    policy, the resource's default decides (:data:`~.quirks.ORPHAN_BY_DEFAULT`)."""
    policy = options.get("propagationPolicy")
    orphan = options.get("orphanDependents")
    if policy == "Foreground":
        return ("foregroundDeletion",)
    if policy == "Orphan" or orphan is True:
        return ("orphan",)
    if policy is None and orphan is None and orphan_by_default:
        return ("orphan",)
    return ()


__all__ = ["ObjectTracker", "Stored", "copy"]
