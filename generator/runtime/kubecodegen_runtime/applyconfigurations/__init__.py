"""Apply configurations of the API types the runtime itself provides.

* ``meta_v1`` -- of apimachinery meta/v1 (ObjectMeta, OwnerReference, LabelSelector, ...),
  generated from the newest Kubernetes spec the generator bundles, like ``apis.meta_v1``;
  the ``applyconfigurations/meta_v1`` module of each generated package re-exports its classes.

Nothing is imported here, so ``import kubecodegen_runtime.applyconfigurations`` costs
nothing until a module is used.
"""
