"""The ``scale`` subresource: an ``autoscaling/v1`` Scale view of a workload's replicas.

Reading builds the Scale from the parent (built-in workloads: ``spec.replicas``,
``status.replicas`` and the selector rendered from ``spec.selector``; custom resources:
the CRD's ``subresources.scale`` paths, :class:`~.schema.ScalePaths`). Writing a Scale
(update or patch) sets the parent's replicas, with the parent's resourceVersion as the
precondition, exactly as the real storage does.
"""

from __future__ import annotations

from typing import Any

from ..errors import BadRequest
from ..labels import LabelSelectorError, Selector
from .schema import ScalePaths
from .store import Obj, meta_of

BUILTIN = ScalePaths()


def _path(path: str) -> list[str]:
    return [p for p in path.split(".") if p]


def read_path(obj: Any, path: str) -> Any:
    current = obj
    for part in _path(path):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def write_path(obj: Obj, path: str, value: Any) -> None:
    parts = _path(path)
    current = obj
    for part in parts[:-1]:
        nxt = current.get(part)
        if not isinstance(nxt, dict):
            nxt = current[part] = {}
        current = nxt
    current[parts[-1]] = value


def scale_of(parent: Obj, paths: ScalePaths | None) -> Obj:
    """The Scale of ``parent`` (``paths`` ``None``: a built-in workload)."""
    meta = meta_of(parent)
    scale_meta = {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                       "creationTimestamp") if k in meta}
    use = paths or BUILTIN
    status: dict[str, Any] = {"replicas": _int(read_path(parent, use.status_replicas))}
    if paths is None:
        selector = parent.get("spec", {}).get("selector")
        if isinstance(selector, dict):
            try:
                text = str(Selector.from_label_selector(selector))
            except LabelSelectorError:
                text = ""
            if text:
                status["selector"] = text
    elif use.label_selector:
        text = read_path(parent, use.label_selector)
        if isinstance(text, str) and text:
            status["selector"] = text
    replicas = _int(read_path(parent, use.spec_replicas))
    # ScaleSpec.replicas is omitempty in Go: a Scale at zero has an empty spec
    return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": scale_meta,
            "spec": {"replicas": replicas} if replicas else {}, "status": status}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def apply_scale(parent: Obj, scale: Obj, paths: ScalePaths | None) -> Obj:
    """``parent`` with the replicas ``scale`` asks for; the Scale's resourceVersion (if
    any) becomes the parent's precondition."""
    replicas = scale.get("spec", {}).get("replicas") if isinstance(scale.get("spec"), dict) \
        else None
    if replicas is not None and (not isinstance(replicas, int) or isinstance(replicas, bool)):
        raise BadRequest(400, "BadRequest", "spec.replicas must be an integer")
    write_path(parent, (paths or BUILTIN).spec_replicas, replicas or 0)
    rv = meta_of(scale).get("resourceVersion")
    meta = meta_of(parent)
    if rv:
        meta["resourceVersion"] = rv
    else:
        meta.pop("resourceVersion", None)
    return parent
