"""Apply a folder (or file, or stream) of YAML manifests like ``kubectl apply --server-side -f``.

:func:`apply_manifests` / :func:`apply_manifests_async` read the manifests
(:mod:`.reader`), plan the apply without I/O (:mod:`.plan`) and carry the plan out over
a REST or dynamic client (:mod:`.apply`)::

    results = apply_manifests(dynamic, "deploy/", field_manager="my-tool")
    for result in results:
        print(result.describe())      # deployment.apps/web in namespace 'prod' configured
"""

from .apply import ApplyError, apply_manifests, apply_manifests_async
from .plan import ApplyResult, CRDNotEstablished, action, order, place, plan_apply
from .reader import EXTENSIONS, Manifest, ManifestError, Problem, Source, read_manifests

__all__ = [
    "EXTENSIONS",
    "ApplyError",
    "ApplyResult",
    "CRDNotEstablished",
    "Manifest",
    "ManifestError",
    "Problem",
    "Source",
    "action",
    "apply_manifests",
    "apply_manifests_async",
    "order",
    "place",
    "plan_apply",
    "read_manifests",
]
