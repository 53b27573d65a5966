"""API types the runtime itself provides, shared by every generated package.

* ``meta_v1`` -- apimachinery meta/v1 (ObjectMeta, ListMeta, Status, DeleteOptions, ...),
  generated from the newest Kubernetes spec the generator bundles; the ``models/meta_v1``
  module of each generated package re-exports its classes.
* ``apidiscovery_v2`` -- hand-written wire types of aggregated discovery, an answer the
  runtime reads that no OpenAPI document describes.

Nothing is imported here, so ``import kubecodegen_runtime.apis`` costs nothing until a
module is used.
"""
