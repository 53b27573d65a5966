"""The sample controller: every Foo gets a Deployment of its own, and the Foo's status says how
many of its replicas are available (kubernetes/sample-controller's behaviour on kubecodegen).

Two pieces, as in the Go original:

* :class:`FooReconciler` -- the business logic, one function of a key (``namespace/name`` of a
  Foo) that reads only the informers' caches (typed listers) and writes through the typed
  clientsets. It is idempotent: running it again on an unchanged world writes nothing but an
  Event. It knows nothing about queues or threads.
* :class:`SampleController` -- the wiring: a :class:`~kubecodegen_runtime.controller.Controller`
  whose primary informer is the Foos' and which also watches the Deployments, mapping each to
  the Foo named by its *controller* ownerReference, so a Deployment changed or deleted by
  someone else brings its Foo back into the queue and the reconciler puts it right.
  (Unlike the Go sample's ``handleObject``, the mapping does not look the owner up in the Foo
  cache first: a key of a Foo that is gone costs one cache miss in the reconciler.)

Leader election, flags and the event broadcaster are in :mod:`.main`: the same controller runs
unchanged in a test, against a fake clientset or under a Lease.
"""

from __future__ import annotations

import logging
import threading

import msgspec
from kube_v1_35 import Clientset as KubeClientset
from kube_v1_35 import SharedInformerFactory as KubeInformerFactory
from kube_v1_35.listers.apps_v1 import DeploymentLister
from kube_v1_35.models.apps_v1 import Deployment, DeploymentSpec
from kube_v1_35.models.core_v1 import Container, PodSpec, PodTemplateSpec
from kube_v1_35.models.meta_v1 import LabelSelector, ObjectMeta, OwnerReference

from kubecodegen_runtime.controller import (
    Controller,
    ObjectKey,
    controller_of,
    resource_version_changed,
)
from kubecodegen_runtime.errors import NotFound
from kubecodegen_runtime.events import EventRecorder
from kubecodegen_runtime.workqueue import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    RateLimiter,
)

from .generated.samplecontroller import Clientset as SampleClientset
from .generated.samplecontroller import SharedInformerFactory as SampleInformerFactory
from .generated.samplecontroller.clientset.samplecontroller_k8s_io_v1alpha1 import FOOS
from .generated.samplecontroller.listers.samplecontroller_k8s_io_v1alpha1 import FooLister
from .generated.samplecontroller.models.samplecontroller_k8s_io_v1alpha1 import Foo, FooStatus

#: The controller's name: its field manager, its Events' reporting controller, its queue's name.
CONTROLLER_NAME = "sample-controller"
FIELD_MANAGER = CONTROLLER_NAME

#: Event reasons and notes (the Go sample's, plus one for a Foo without a deployment name).
SUCCESS_SYNCED = "Synced"
MESSAGE_RESOURCE_SYNCED = "Foo synced successfully"
ERR_RESOURCE_EXISTS = "ErrResourceExists"
MESSAGE_RESOURCE_EXISTS = 'Resource "%s" already exists and is not managed by Foo'
INVALID_SPEC = "InvalidSpec"
MESSAGE_NO_DEPLOYMENT_NAME = "spec.deploymentName is empty: nothing to do until it is set"
#: The ``action`` of every Event this controller records (events.k8s.io/v1 asks for one).
ACTION = "Sync"

NORMAL = "Normal"
WARNING = "Warning"

logger = logging.getLogger(__name__)


class ResourceExistsError(Exception):
    """A Deployment of the wanted name exists and is not controlled by the Foo.

    Raised out of the reconcile so the key is retried with backoff: once the other
    Deployment is deleted (or the Foo names another), the retry succeeds.
    """


def meta(obj: Foo | Deployment) -> ObjectMeta:
    """An object's metadata (a server always sends it; the models allow its absence)."""
    return obj.metadata if obj.metadata is not None else ObjectMeta()


def controller_ref(foo: Foo) -> OwnerReference:
    """The ownerReference that makes ``foo`` the controller of what carries it.

    ``controller=True`` is what the Deployment informer's mapping and the garbage collector
    look for; ``block_owner_deletion`` makes a foreground deletion of the Foo wait for it.
    """
    foo_meta = meta(foo)
    return OwnerReference(
        api_version=f"{FOOS.group}/{FOOS.version}", kind=FOOS.kind,
        name=foo_meta.name or "", uid=foo_meta.uid or "",
        controller=True, block_owner_deletion=True,
    )


def is_controlled_by(obj: Deployment, owner: Foo) -> bool:
    """True if ``obj``'s controller ownerReference is ``owner`` (same uid: a Foo deleted and
    created again under the same name is another owner)."""
    ref = controller_of(obj)
    return ref is not None and bool(ref.uid) and ref.uid == meta(owner).uid


def new_deployment(foo: Foo) -> Deployment:
    """The Deployment ``foo`` asks for: ``spec.replicas`` nginx pods, controlled by ``foo``."""
    foo_meta = meta(foo)
    labels = {"app": "nginx", "controller": foo_meta.name or ""}
    return Deployment(
        metadata=ObjectMeta(
            name=foo.spec.deployment_name if foo.spec else None,
            namespace=foo_meta.namespace,
            owner_references=[controller_ref(foo)],
        ),
        spec=DeploymentSpec(
            replicas=foo.spec.replicas if foo.spec else None,
            selector=LabelSelector(match_labels=labels),
            template=PodTemplateSpec(
                metadata=ObjectMeta(labels=labels),
                spec=PodSpec(containers=[Container(name="nginx", image="nginx:latest")]),
            ),
        ),
    )


class FooReconciler:
    """Brings one Foo's Deployment and status in line with the Foo (the Go ``syncHandler``).

    Reads come from the informers' caches through typed listers, never from the API: the
    cache is what the controller was told about, and the queue brings the key back whenever
    it changes. Cached objects are shared, so they are copied (``msgspec.structs.replace``)
    before anything is changed.
    """

    def __init__(self, kube: KubeClientset, sample: SampleClientset, foos: FooLister,
                 deployments: DeploymentLister, recorder: EventRecorder) -> None:
        self._kube = kube
        self._sample = sample
        self._foos = foos
        self._deployments = deployments
        self._recorder = recorder

    def reconcile(self, key: ObjectKey) -> None:
        """Converge the Foo ``key``; raises on any API error (the controller retries the key
        with backoff) and :class:`ResourceExistsError` when the name is taken."""
        try:
            foo = self._foos.foos(key.namespace).get(key.name)
        except NotFound:
            # Deleted since it was queued: the garbage collector removes its Deployment.
            logger.info("Foo %s no longer exists", key)
            return
        name = foo.spec.deployment_name if foo.spec else None
        if not name:
            # Retrying cannot help: the Foo is queued again when someone updates it.
            self._recorder.eventf(foo, None, WARNING, INVALID_SPEC, ACTION,
                                  MESSAGE_NO_DEPLOYMENT_NAME)
            return
        deployments = self._kube.apps_v1.deployments(key.namespace)
        try:
            deployment = self._deployments.deployments(key.namespace).get(name)
        except NotFound:
            logger.info("creating Deployment %s/%s for Foo %s", key.namespace, name, key)
            deployment = deployments.create(new_deployment(foo), field_manager=FIELD_MANAGER)
        if not is_controlled_by(deployment, foo):
            self._recorder.eventf(foo, deployment, WARNING, ERR_RESOURCE_EXISTS, ACTION,
                                  MESSAGE_RESOURCE_EXISTS, name)
            raise ResourceExistsError(MESSAGE_RESOURCE_EXISTS % name)
        wanted = foo.spec.replicas if foo.spec else None
        spec = deployment.spec
        if wanted is not None and spec is not None and spec.replicas != wanted:
            logger.info("Deployment %s/%s: replicas %s -> %s", key.namespace, name,
                        spec.replicas, wanted)
            # The cached copy keeps its resourceVersion: a concurrent change is a Conflict,
            # and the retry starts again from the newer object the informer will have.
            deployment = deployments.update(
                msgspec.structs.replace(deployment, spec=msgspec.structs.replace(
                    spec, replicas=wanted)),
                field_manager=FIELD_MANAGER)
        self._update_status(foo, deployment)
        self._recorder.eventf(foo, None, NORMAL, SUCCESS_SYNCED, ACTION, MESSAGE_RESOURCE_SYNCED)

    def _update_status(self, foo: Foo, deployment: Deployment) -> None:
        """Write ``status.availableReplicas`` through the status subresource (which ignores
        any spec change, so the controller cannot clobber what users write there)."""
        available = (deployment.status.available_replicas if deployment.status else None) or 0
        if foo.status is not None and foo.status.available_replicas == available:
            return  # unchanged: no write, no new resourceVersion, no new watch event
        self._sample.samplecontroller_k8s_io_v1alpha1.foos(meta(foo).namespace or "").update_status(
            msgspec.structs.replace(foo, status=FooStatus(available_replicas=available)),
            field_manager=FIELD_MANAGER)


def default_rate_limiter() -> RateLimiter[ObjectKey]:
    """The Go sample's: per-key exponential backoff 5 ms -> 1000 s, and 50 qps (burst 300)
    overall, whichever asks for the longer wait."""
    return MaxOfRateLimiter(ItemExponentialFailureRateLimiter(0.005, 1000.0),
                            BucketRateLimiter(qps=50.0, burst=300))


class SampleController:
    """The reconciler wired to informers of both factories and a work queue.

    The caller owns the factories: it starts them after constructing this (so the informers
    asked for here are started too) and shuts them down after :meth:`run` returns.
    """

    def __init__(self, kube: KubeClientset, sample: SampleClientset,
                 kube_informers: KubeInformerFactory, sample_informers: SampleInformerFactory,
                 recorder: EventRecorder, *, workers: int = 2,
                 rate_limiter: RateLimiter[ObjectKey] | None = None) -> None:
        foos = sample_informers.samplecontroller_k8s_io_v1alpha1.foos()
        deployments = kube_informers.apps_v1.deployments()
        self.reconciler = FooReconciler(kube, sample, foos.lister(), deployments.lister(),
                                        recorder)
        self.controller = (
            Controller(CONTROLLER_NAME, self.reconciler.reconcile, workers=workers,
                       rate_limiter=rate_limiter or default_rate_limiter())
            .watch_primary(foos.informer())
            # A resync replays every cached Deployment as an update of itself; the Foos are
            # resynced on their own informer, so those replays would only queue them twice.
            .watch_owned(deployments.informer(), FOOS, predicate=resource_version_changed())
        )

    def run(self, stop: threading.Event | None = None) -> None:
        """Wait for both caches, run the workers until ``stop`` is set, drain, return."""
        self.controller.run(stop)

    def stop(self) -> None:
        self.controller.stop()
