"""Short names and categories of a live cluster's resources, for ``inspect --from-cluster``.

OpenAPI documents do not carry them (they are discovery's: ``kubectl get po``, ``kubectl get
all``), so the table ``inspect --from-cluster`` prints asks the cluster's RESTMapper
(:mod:`kubecodegen_runtime.restmapper`, through aggregated discovery where served) for
them, as ``kubectl api-resources`` shows them. The JSON output stays the document's own,
so offline and cluster runs of the same CRDs still compare equal.
"""

from __future__ import annotations

from kubecodegen_runtime.client import RESTClient
from kubecodegen_runtime.config import load_config
from kubecodegen_runtime.discovery import DiscoveryClient

Aliases = dict[tuple[str, str, str], tuple[tuple[str, ...], tuple[str, ...]]]
"""(group, version, resource) → (short names, categories)."""


def cluster_aliases(kubeconfig: str | None, context: str | None) -> Aliases:
    """What the cluster's RESTMapper knows of each resource's other names.

    Discovery is not cached on disk here (``cache_dir=None``): ``inspect`` shows the cluster as
    it is now, not the documents an earlier client of the same server left in the cache.
    """
    config = load_config(kubeconfig, context=context)
    with RESTClient(config) as rest:
        mapper = DiscoveryClient(rest, cache_dir=None).mapper.current()
    return {(r.info.group, r.info.version, r.info.resource): (r.short_names, r.categories)
            for r in mapper.discovered}
