"""Per-resource facts of kube-apiserver that no OpenAPI spec states, in one place.

Each table names the resources by ``(group, resource)`` and says where in the
Kubernetes sources the behaviour comes from (the resource's registry strategy or
storage). Custom resources follow the CRD rules: they track ``generation``, drop
``status`` on create when they have a status subresource, refuse unconditional
updates, support only the metadata field labels and take no strategic-merge patch.
"""

from __future__ import annotations

from collections.abc import Mapping

GR = tuple[str, str]

#: Field labels every resource supports (``DefaultClusterScopedAttr`` /
#: ``DefaultNamespaceScopedAttr`` in apimachinery).
METADATA_FIELDS = ("metadata.name", "metadata.namespace")

#: The extra field labels each built-in resource supports (the ``GetAttrs`` /
#: ``AddFieldLabelConversionFunc`` of its registry), besides :data:`METADATA_FIELDS`.
FIELD_LABELS: Mapping[GR, tuple[str, ...]] = {
    ("", "pods"): ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                   "spec.serviceAccountName", "status.phase", "status.podIP",
                   "status.nominatedNodeName"),
    ("", "events"): ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                     "involvedObject.uid", "involvedObject.apiVersion",
                     "involvedObject.resourceVersion", "involvedObject.fieldPath",
                     "reason", "reportingComponent", "source", "type"),
    ("events.k8s.io", "events"): ("involvedObject.kind", "involvedObject.namespace",
                                  "involvedObject.name", "involvedObject.uid",
                                  "involvedObject.apiVersion",
                                  "involvedObject.resourceVersion",
                                  "involvedObject.fieldPath", "reason",
                                  "reportingComponent", "source", "type"),
    ("", "secrets"): ("type",),
    ("", "nodes"): ("spec.unschedulable",),
    ("", "namespaces"): ("status.phase",),
    ("", "replicationcontrollers"): ("status.replicas",),
    ("apps", "replicasets"): ("status.replicas",),
    ("extensions", "replicasets"): ("status.replicas",),
    ("batch", "jobs"): ("status.successful",),
    ("certificates.k8s.io", "certificatesigningrequests"): ("spec.signerName",),
}

#: Field labels whose value is not the field at the same path: (resource, label) ->
#: path in the object. Core events' ``source`` is ``source.component``; events.k8s.io
#: events store the core field names under new ones.
FIELD_PATHS: Mapping[tuple[GR, str], str] = {
    (("", "events"), "source"): "source.component",
    (("events.k8s.io", "events"), "involvedObject.kind"): "regarding.kind",
    (("events.k8s.io", "events"), "involvedObject.namespace"): "regarding.namespace",
    (("events.k8s.io", "events"), "involvedObject.name"): "regarding.name",
    (("events.k8s.io", "events"), "involvedObject.uid"): "regarding.uid",
    (("events.k8s.io", "events"), "involvedObject.apiVersion"): "regarding.apiVersion",
    (("events.k8s.io", "events"), "involvedObject.resourceVersion"):
        "regarding.resourceVersion",
    (("events.k8s.io", "events"), "involvedObject.fieldPath"): "regarding.fieldPath",
    (("events.k8s.io", "events"), "reportingComponent"): "reportingController",
    (("events.k8s.io", "events"), "source"): "deprecatedSource.component",
}

#: Built-in resources whose strategy sets ``metadata.generation`` (1 on create, +1 on
#: each change of ``spec``). Checked against kube-apiserver 1.20: Jobs, CronJobs and
#: HorizontalPodAutoscalers have none.
TRACKS_GENERATION: frozenset[GR] = frozenset({
    ("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets"),
    ("apps", "daemonsets"), ("extensions", "deployments"), ("extensions", "replicasets"),
    ("extensions", "daemonsets"), ("", "replicationcontrollers"),
    ("policy", "poddisruptionbudgets"),
    ("networking.k8s.io", "networkpolicies"), ("extensions", "networkpolicies"),
    ("networking.k8s.io", "ingresses"), ("extensions", "ingresses"),
    ("networking.k8s.io", "ingressclasses"),
    ("apiextensions.k8s.io", "customresourcedefinitions"),
    ("flowcontrol.apiserver.k8s.io", "flowschemas"),
    ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"),
})

#: Built-in resources that track ``generation`` over the whole object but its metadata
#: (they have no ``spec``): any other change bumps it.
GENERATION_OF_WHOLE_OBJECT: frozenset[GR] = frozenset({
    ("scheduling.k8s.io", "priorityclasses"),
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"),
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
    ("discovery.k8s.io", "endpointslices"),
    ("apiextensions.k8s.io", "customresourcedefinitions"),
})

#: Built-in resources a PUT may create when the object does not exist
#: (``AllowCreateOnUpdate() == true`` in their strategies; checked on 1.20).
CREATE_ON_UPDATE: frozenset[GR] = frozenset({
    ("", "endpoints"), ("", "events"), ("events.k8s.io", "events"), ("", "limitranges"),
    ("coordination.k8s.io", "leases"), ("node.k8s.io", "runtimeclasses"),
    ("rbac.authorization.k8s.io", "roles"), ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
})

#: Built-in resources whose update must carry a resourceVersion
#: (``AllowUnconditionalUpdate() == false``; custom resources too).
CONDITIONAL_UPDATE_ONLY: frozenset[GR] = frozenset({
    ("storage.k8s.io", "csidrivers"), ("storage.k8s.io", "csinodes"),
    ("storage.k8s.io", "volumeattachments"), ("node.k8s.io", "runtimeclasses"),
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"),
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
})

#: Built-in resources whose delete answers with the deleted object rather than a
#: ``Status`` (``ReturnDeletedObject`` in their storage; namespaces answer with the
#: namespace, now Terminating). Checked on 1.20.
RETURNS_DELETED_OBJECT: frozenset[GR] = frozenset({
    ("", "pods"), ("", "namespaces"), ("apiextensions.k8s.io", "customresourcedefinitions"),
    ("storage.k8s.io", "storageclasses"), ("storage.k8s.io", "csidrivers"),
    ("storage.k8s.io", "volumeattachments"), ("policy", "podsecuritypolicies"),
    ("", "persistentvolumes"), ("", "persistentvolumeclaims"), ("", "serviceaccounts"),
})

#: ``(group, version, resource)`` whose default deletion propagation is ``Orphan``
#: (``DefaultGarbageCollectionPolicy``): a delete without a policy adds the ``orphan``
#: finalizer, and with no garbage collector the object stays, being deleted.
ORPHAN_BY_DEFAULT: frozenset[tuple[str, str, str]] = frozenset({
    ("", "v1", "replicationcontrollers"), ("batch", "v1", "jobs"),
    ("batch", "v1beta1", "cronjobs"), ("batch", "v2alpha1", "cronjobs"),
    ("extensions", "v1beta1", "deployments"), ("extensions", "v1beta1", "daemonsets"),
    ("extensions", "v1beta1", "replicasets"), ("apps", "v1beta1", "deployments"),
    ("apps", "v1beta1", "statefulsets"), ("apps", "v1beta2", "deployments"),
    ("apps", "v1beta2", "daemonsets"), ("apps", "v1beta2", "replicasets"),
    ("apps", "v1beta2", "statefulsets"),
})

#: Resources whose names must be DNS-1123 *labels* (63 characters, no dots) rather
#: than subdomains: ``ValidateNamespaceName``, ``ValidateServiceName`` ...
LABEL_NAMED: frozenset[GR] = frozenset({
    ("", "namespaces"), ("", "services"), ("", "replicationcontrollers"),
    ("apps", "deployments"), ("apps", "statefulsets"), ("apps", "daemonsets"),
})

#: Resources whose names are path segments only (``ValidatePathSegmentName``): RBAC
#: names such as ``system:controller:x`` are valid.
PATH_SEGMENT_NAMED: frozenset[GR] = frozenset({
    ("rbac.authorization.k8s.io", "roles"), ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
})

#: The short names built-in resources announce in discovery (each storage's
#: ``ShortNames()``), which kubectl-style lookups (``RESTMapper.find("deploy")``) use.
SHORT_NAMES: Mapping[GR, tuple[str, ...]] = {
    ("", "componentstatuses"): ("cs",), ("", "configmaps"): ("cm",),
    ("", "endpoints"): ("ep",), ("", "events"): ("ev",), ("", "limitranges"): ("limits",),
    ("", "namespaces"): ("ns",), ("", "nodes"): ("no",),
    ("", "persistentvolumeclaims"): ("pvc",), ("", "persistentvolumes"): ("pv",),
    ("", "pods"): ("po",), ("", "replicationcontrollers"): ("rc",),
    ("", "resourcequotas"): ("quota",), ("", "serviceaccounts"): ("sa",),
    ("", "services"): ("svc",),
    ("apps", "daemonsets"): ("ds",), ("apps", "deployments"): ("deploy",),
    ("apps", "replicasets"): ("rs",), ("apps", "statefulsets"): ("sts",),
    ("extensions", "daemonsets"): ("ds",), ("extensions", "deployments"): ("deploy",),
    ("extensions", "replicasets"): ("rs",), ("extensions", "ingresses"): ("ing",),
    ("extensions", "networkpolicies"): ("netpol",),
    ("extensions", "podsecuritypolicies"): ("psp",),
    ("autoscaling", "horizontalpodautoscalers"): ("hpa",),
    ("batch", "cronjobs"): ("cj",),
    ("certificates.k8s.io", "certificatesigningrequests"): ("csr",),
    ("events.k8s.io", "events"): ("ev",),
    ("networking.k8s.io", "ingresses"): ("ing",),
    ("networking.k8s.io", "networkpolicies"): ("netpol",),
    ("policy", "poddisruptionbudgets"): ("pdb",), ("policy", "podsecuritypolicies"): ("psp",),
    ("scheduling.k8s.io", "priorityclasses"): ("pc",),
    ("storage.k8s.io", "storageclasses"): ("sc",),
    ("apiextensions.k8s.io", "customresourcedefinitions"): ("crd", "crds"),
}

#: Namespaces a fresh cluster has.
INITIAL_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")

#: Built-in resources with a ``scale`` subresource: the spec/status replica paths and
#: where the label selector comes from (a built-in's scale reports
#: ``spec.selector`` rendered as a selector string).
BUILTIN_SCALE_SELECTOR = ".spec.selector"


def field_labels(group: str, resource: str, custom: bool) -> tuple[str, ...]:
    """Every field label the resource supports in a field selector."""
    if custom:
        return METADATA_FIELDS
    return METADATA_FIELDS + FIELD_LABELS.get((group, resource), ())


def unsupported_field_label(group: str, resource: str, custom: bool, label: str) -> str:
    """The server's message for a field label the resource does not support: resources
    with a conversion function of their own say so; the others use apimachinery's
    default conversion, which lists the metadata labels."""
    if not custom and (group, resource) in FIELD_LABELS:
        return f"field label not supported: {label}"
    return (f'"{label}" is not a known field selector: only "metadata.name", '
            '"metadata.namespace"')


def field_path(group: str, resource: str, label: str) -> str:
    """Where in the object the value of field label ``label`` is."""
    return FIELD_PATHS.get(((group, resource), label), label)


def tracks_generation(group: str, resource: str, custom: bool) -> bool:
    return custom or (group, resource) in TRACKS_GENERATION \
        or (group, resource) in GENERATION_OF_WHOLE_OBJECT


def name_rule(group: str, resource: str) -> str:
    """``subdomain``, ``label`` or ``path``: how the resource validates names."""
    if (group, resource) in LABEL_NAMED:
        return "label"
    if (group, resource) in PATH_SEGMENT_NAMED:
        return "path"
    return "subdomain"
