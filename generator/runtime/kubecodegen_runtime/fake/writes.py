"""The write verbs as the server runs them: create, update, patch, apply, delete.

Each takes the request's :class:`WriteContext` and returns ``(HTTP code, body)``; the
tracker does the storing, :mod:`.patch` and :mod:`.apply` compute patched objects and
managedFields. Subresources: ``status`` (the tracker keeps everything else), ``scale``
(:mod:`.scale`), and for pods ``eviction`` and ``binding``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec
import yaml

from ..apis.meta_v1 import StatusCause, StatusDetails
from ..errors import (
    ApiError,
    BadRequest,
    Conflict,
    Invalid,
    MethodNotAllowed,
    UnsupportedMediaType,
    error_class,
)
from ..meta import ResourceInfo
from . import objmeta, scale
from .actions import Action, internal_error, invalid, not_found
from .apply import (
    ApplyConflict,
    record_update,
    scale_writes_manage_fields,
    server_side_apply,
    unchanged_managed_fields,
)
from .fieldset import FieldSetError
from .listing import Filter, select
from .patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from .paths import ResourcePath
from .quirks import RETURNS_DELETED_OBJECT
from .store import Obj, copy, meta_of
from .tracker import ObjectTracker

if TYPE_CHECKING:
    from .server import FakeServer

PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", "application/apply-patch+yaml")


class WriteContext:
    """What a write request is: the server, the resource, the path, its Action. (A
    plain slotted class, read-only by convention: a frozen dataclass's ``__init__``
    costs one ``object.__setattr__`` per field, a microsecond of every write.)"""

    __slots__ = ("action", "dry_run", "info", "server", "target")

    def __init__(self, server: FakeServer, info: ResourceInfo, target: ResourcePath,
                 action: Action, dry_run: bool) -> None:
        self.server = server
        self.info = info
        self.target = target
        self.action = action
        self.dry_run = dry_run

    @property
    def tracker(self) -> ObjectTracker:
        return self.server.tracker

    @property
    def manager(self) -> str:
        return self.action.field_manager or ""

    @property
    def type_key(self) -> str | None:
        return self.server.api.type_of(self.info.group, self.info.version, self.info.kind)

    def managed(self, subresource: str | None = None) -> Any:
        """The managedFields bookkeeping of a write by this request's manager."""
        api, type_key, manager = self.server.api, self.type_key, self.manager
        api_version = self.info.api_version

        def record(old: Obj | None, new: Obj) -> Any:
            return record_update(old, new, manager=manager, api=api, type_key=type_key,
                                 subresource=subresource or "", now=objmeta.now(),
                                 api_version=api_version)
        return record

    @property
    def scale_paths(self) -> Any:
        if self.tracker.is_custom(self.info):
            return self.server.api.scale.get((self.info.group, self.info.resource))
        return None


def _check_kind(context: WriteContext, body: Obj) -> None:
    """A body of another kind than the resource's is refused, as the decoder does."""
    kind = body.get("kind")
    if kind and kind != context.info.kind:
        raise BadRequest(400, "BadRequest", f"the object provided is unrecognized (must be of "
                         f"type {context.info.kind}): kind {kind!r}")


def create(context: WriteContext, body: Obj) -> tuple[int, Obj]:
    sub = context.target.subresource
    if context.target.name is not None and sub is None:
        raise MethodNotAllowed(405, "MethodNotAllowed", "the server does not allow this "
                               "method on the requested resource")
    if sub is not None:
        return _create_subresource(context, body)
    _check_kind(context, body)
    obj = context.tracker.create(context.info, body, namespace=context.target.namespace,
                                 dry_run=context.dry_run, manager=context.manager,
                                 managed=context.managed(), presented=True)
    return 201, obj


def _create_subresource(context: WriteContext, body: Obj) -> tuple[int, Obj]:
    info, target, tracker = context.info, context.target, context.tracker
    assert target.name is not None
    if (info.group, info.resource, target.subresource) == ("", "pods", "eviction"):
        tracker.get(info, target.name, target.namespace)
        options = body.get("deleteOptions") if isinstance(body.get("deleteOptions"), dict) \
            else {}
        tracker.delete(info, target.name, namespace=target.namespace, options=options,
                       dry_run=context.dry_run)
        return 201, success_status(None)
    if (info.group, info.resource, target.subresource) == ("", "pods", "binding"):
        node = body.get("target", {}).get("name") if isinstance(body.get("target"), dict) \
            else None

        def bind(pod: Obj) -> Obj:
            if pod.get("spec", {}).get("nodeName"):
                raise Conflict(409, "Conflict", f'Operation cannot be fulfilled on pods/binding '
                               f'"{target.name}": pod {target.name} is already assigned to '
                               f'node "{pod["spec"]["nodeName"]}"')
            pod.setdefault("spec", {})["nodeName"] = node
            return pod
        tracker.mutate(info, target.name, bind, namespace=target.namespace,
                       dry_run=context.dry_run, managed=context.managed())
        return 201, success_status(None)
    raise MethodNotAllowed(405, "MethodNotAllowed",
                           f"the fake server does not serve {info.resource}/{target.subresource}")


def update(context: WriteContext, body: Obj) -> tuple[int, Obj]:
    info, target, tracker = context.info, context.target, context.tracker
    assert target.name is not None
    sub = target.subresource
    if sub == "scale":
        return 200, _write_scale(context, lambda _scale: body)
    if sub not in (None, "status"):
        raise MethodNotAllowed(405, "MethodNotAllowed",
                               f"the fake server does not serve {info.resource}/{sub}")
    _check_kind(context, body)
    obj, created = tracker.update(info, body, namespace=target.namespace, name=target.name,
                                  subresource=sub, dry_run=context.dry_run,
                                  manager=context.manager, managed=context.managed(sub),
                                  presented=True)
    return (201 if created else 200), obj


def _write_scale(context: WriteContext, change: Any) -> Obj:
    """Read the parent's Scale, let ``change`` make the new Scale, write its replicas."""
    info, target, tracker = context.info, context.target, context.tracker
    assert target.name is not None
    paths = context.scale_paths
    with tracker.lock:
        parent = tracker.get(info, target.name, target.namespace)
        new_scale = change(scale.scale_of(parent, paths))
        if not isinstance(new_scale, dict):
            raise BadRequest(400, "BadRequest", "the Scale must be an object")
        updated = scale.apply_scale(parent, new_scale, paths)
        managed = context.managed("scale") if scale_writes_manage_fields(context.server.api) \
            else unchanged_managed_fields
        result, _ = tracker.update(info, updated, namespace=target.namespace, name=target.name,
                                   dry_run=context.dry_run, manager=context.manager,
                                   from_patch=True, managed=managed)
        return scale.scale_of(result, paths)


# --- patch -------------------------------------------------------------------------


def _patched(context: WriteContext, content_type: str, body: bytes, current: Obj,
             type_key: str | None, private: bool = False) -> Obj:
    """``current`` with the patch applied (the patch engines of :mod:`.patch`).

    The engines share unchanged subtrees with their inputs, so the result is copied
    before the tracker mutates it in place, except where ``private`` says that
    ``current`` is the caller's own copy: every engine's result then shares nothing with
    anyone (each of its values comes from ``current`` or the freshly decoded patch, at
    one place: a JSON patch's ``copy`` copies deeply, its ``move`` removes first; the
    strategic merge takes each item of a merged list once), and the copy would be an
    identical tree (an encode and a decode of the whole object saved; property tests in
    tests/unit/test_fake_patch.py check each engine)."""
    base = content_type.split(";", 1)[0].strip()
    try:
        decoded = msgspec.json.decode(body) if body.strip() else None
    except msgspec.DecodeError as exc:
        raise BadRequest(400, "BadRequest", f"error decoding patch: {exc}") from None
    try:
        if base == "application/json-patch+json":
            result = json_patch(current, decoded,
                                kubernetes_version=context.server.api.kubernetes_version)
        elif base == "application/merge-patch+json":
            result = merge_patch(current, decoded)
        elif base == "application/strategic-merge-patch+json":
            result = strategic_merge_patch(current, decoded, context.server.api, type_key)
        else:
            raise _unsupported(context)
    except PatchError as exc:
        raise patch_error(exc) from None
    if not isinstance(result, dict):
        raise BadRequest(400, "BadRequest", "the patched document is not an object")
    return result if private else copy(result)


def patch_error(exc: PatchError) -> ApiError:
    """The ApiError a patch engine's refusal is sent as."""
    details = StatusDetails(**{}) if exc.details is not None else None
    if exc.details:
        details = msgspec.convert(dict(exc.details), StatusDetails)
    cls = error_class(exc.status, exc.reason or None)
    error = cls(exc.status, exc.reason, exc.message, details=details)
    return error


def _unsupported(context: WriteContext) -> UnsupportedMediaType:
    accepted = [t for t in PATCH_TYPES if t != "application/strategic-merge-patch+json"
                or not context.tracker.is_custom(context.info)]
    return UnsupportedMediaType(
        415, "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted))


def patch(context: WriteContext, content_type: str, body: bytes) -> tuple[int, Obj]:
    info, target, tracker = context.info, context.target, context.tracker
    assert target.name is not None
    name = target.name
    base = content_type.split(";", 1)[0].strip()
    if base not in PATCH_TYPES:
        raise UnsupportedMediaType(415, "UnsupportedMediaType", "415: Unsupported Media Type",
                                   details=StatusDetails())
    if base == "application/strategic-merge-patch+json" and tracker.is_custom(info):
        raise _unsupported(context)
    sub = target.subresource
    if base == "application/apply-patch+yaml":
        return apply(context, body)
    if sub == "scale":
        return 200, _write_scale(context, lambda current: _patched(
            context, content_type, body, current, None))
    if sub not in (None, "status"):
        raise MethodNotAllowed(405, "MethodNotAllowed",
                               f"the fake server does not serve {info.resource}/{sub}")
    type_key = context.type_key
    # tracker.mutate hands the function a private copy of the current object
    obj = tracker.mutate(info, name, lambda current: _patched(
        context, content_type, body, current, type_key, private=True),
        namespace=target.namespace,
        subresource=sub, dry_run=context.dry_run, manager=context.manager,
        managed=context.managed(sub), presented=True)
    return 200, obj


def apply(context: WriteContext, body: bytes) -> tuple[int, Obj]:
    """Server-side apply: creates the object when it is missing."""
    info, target, tracker = context.info, context.target, context.tracker
    assert target.name is not None
    if not context.action.field_manager or not context.action.param("fieldManager"):
        raise Invalid(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: "
                      "Required value: is required for apply patch",
                      details=StatusDetails(group="meta.k8s.io", kind="PatchOptions",
                                            causes=[StatusCause(reason="FieldValueRequired",
                                                                message="Required value: is "
                                                                "required for apply patch",
                                                                field="fieldManager")]))
    config = decode_apply_configuration(body)
    if not isinstance(config, dict):
        raise BadRequest(400, "BadRequest", "the apply configuration must be an object")
    config_name = meta_of(config).get("name")
    if not config_name:
        raise BadRequest(400, "BadRequest", f"the name of the object ({target.name} based on "
                         "URL) was undeterminable: name must be provided")
    if config_name != target.name:
        raise BadRequest(400, "BadRequest", f"the name of the object ({config_name}) does not "
                         f"match the name on the URL ({target.name})")
    sub = target.subresource
    if sub == "scale":
        raise MethodNotAllowed(405, "MethodNotAllowed",
                               "the fake server does not apply to the scale subresource")
    type_key = context.type_key
    api = context.server.api
    manager = context.manager
    force = context.action.force
    with tracker.lock:
        stored = tracker.lookup(info, target.namespace, target.name)
        live = tracker.get(info, target.name, target.namespace) if stored is not None else None
        if live is None and sub is not None:
            raise not_found(info.resource, target.name, info.group)
        try:
            result = server_side_apply(live, config, manager=manager, force=force, api=api,
                                       type_key=type_key, subresource=sub or "",
                                       now=objmeta.now(), api_version=info.api_version)
        except ApplyConflict as exc:
            raise apply_conflict(exc) from None
        except FieldSetError as exc:
            raise internal_error(f"failed to create typed patch object: {exc}") from None
        result = copy(result)
        if live is None:
            meta = result.setdefault("metadata", {})
            meta.setdefault("name", target.name)
            fields = meta.pop("managedFields", None)
            return 201, tracker.create(info, result, namespace=target.namespace,
                                       dry_run=context.dry_run, manager=manager,
                                       managed=lambda _old, _new: fields, presented=True)
        fields = meta_of(result).get("managedFields")
        meta_of(result)["resourceVersion"] = meta_of(live).get("resourceVersion")
        obj, _ = tracker.update(info, result, namespace=target.namespace, name=target.name,
                                subresource=sub, dry_run=context.dry_run, manager=manager,
                                from_patch=True, managed=lambda _old, _new: fields,
                                presented=True)
        return 200, obj


def decode_apply_configuration(body: bytes) -> Any:
    """An apply body: YAML, of which JSON (what clients send) is the common case. JSON
    text is read as JSON, as the server's YAML-to-JSON conversion reads it (and a hundred
    times faster than a YAML parser); anything else is parsed as YAML."""
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError:
        pass
    try:
        return yaml.safe_load(body.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise BadRequest(400, "BadRequest", f"error decoding YAML: {exc}") from None


def apply_conflict(exc: ApplyConflict) -> Conflict:
    """409 Conflict for apply conflicts, worded as the server's field manager does."""
    causes = [StatusCause(reason=c.get("reason"), message=c.get("message"), field=c.get("field"))
              for c in exc.causes]
    return Conflict(409, "Conflict", str(exc), details=StatusDetails(causes=causes))


# --- delete ------------------------------------------------------------------------


def success_status(info: ResourceInfo | None, obj: Obj | None = None) -> Obj:
    """The ``Status`` a delete answers with (for resources that do not return the object)."""
    status: Obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if info is not None and obj is not None:
        meta = meta_of(obj)
        details: Obj = {"name": meta.get("name", "")}
        if info.group:
            details["group"] = info.group
        details["kind"] = info.resource
        details["uid"] = meta.get("uid", "")
        status["details"] = details
    return status


POLICIES = ("Foreground", "Background", "Orphan")


def check_delete_options(options: Mapping[str, Any]) -> None:
    """``ValidateDeleteOptions``: a known propagation policy, not both it and
    ``orphanDependents``, ``dryRun`` only ``All``."""
    causes: list[tuple[str, str, str]] = []
    policy = options.get("propagationPolicy")
    if policy is not None and policy not in POLICIES:
        causes.append(("FieldValueNotSupported", "propagationPolicy",
                       f'Unsupported value: "{policy}": supported values: "Foreground", '
                       '"Background", "Orphan"'))
    if policy is not None and options.get("orphanDependents") is not None:
        causes.append(("FieldValueInvalid", "propagationPolicy",
                       f'Invalid value: "{policy}": orphanDependents and deletionPropagation '
                       "cannot be both set"))
    dry_run = options.get("dryRun")
    if isinstance(dry_run, list):
        for value in dry_run:
            if value != "All":
                causes.append(("FieldValueNotSupported", "dryRun",
                               f'Unsupported value: "{value}": supported values: "All"'))
    if causes:
        raise invalid("DeleteOptions", "", causes, "meta.k8s.io")


def delete(context: WriteContext, options: Mapping[str, Any]) -> Obj:
    info, target, tracker = context.info, context.target, context.tracker
    check_delete_options(options)
    assert target.name is not None
    if target.subresource is not None:
        raise MethodNotAllowed(405, "MethodNotAllowed", "the server does not allow this "
                               "method on the requested resource")
    dry_run = context.dry_run or options.get("dryRun") == ["All"]
    obj, deleted = tracker.delete(info, target.name, namespace=target.namespace,
                                  options=options, dry_run=dry_run, presented=True)
    if deleted and (info.group, info.resource) not in RETURNS_DELETED_OBJECT:
        return success_status(info, obj)
    return obj


def delete_collection(context: WriteContext, flt: Filter, options: Mapping[str, Any]) -> Obj:
    info, target, tracker = context.info, context.target, context.tracker
    check_delete_options(options)
    dry_run = context.dry_run or options.get("dryRun") == ["All"]
    items: list[Obj] = []
    with tracker.lock:
        for stored in select(tracker, info, target.namespace, flt):
            meta = meta_of(stored.obj)
            obj, _ = tracker.delete(info, str(meta.get("name")), namespace=meta.get("namespace"),
                                    options=options, dry_run=dry_run)
            items.append(copy(obj))
        rv = tracker.resource_version
    custom = tracker.is_custom(info)
    if not custom:
        items = [{k: v for k, v in item.items() if k not in ("apiVersion", "kind")}
                 for item in items]
    return {"kind": f"{info.kind}List", "apiVersion": info.api_version,
            "metadata": {"resourceVersion": rv}, "items": items}
