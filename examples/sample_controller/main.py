"""Run the sample controller against a cluster, leader-elected through a Lease.

    PYTHONPATH=generated python -m examples.sample_controller --kubeconfig ~/.kube/config

Any number of copies may run: they campaign for the Lease ``--lease-namespace/--lease-name``
(coordination.k8s.io/v1) and only the holder runs the controller. The leader's informers and
workers are created when it starts leading and stopped when it stops, so a standby holds no
cache and writes nothing. A copy that loses the Lease exits with status 1 (a Deployment's pod
is then restarted and campaigns again, as client-go controllers do); SIGINT/SIGTERM stop it
cleanly, giving the Lease up at once so another copy takes over without waiting for it to
expire.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from kube_v1_35 import Clientset as KubeClientset
from kube_v1_35 import SharedInformerFactory as KubeInformerFactory

from kubecodegen_runtime.config import ClientConfig, ConfigOverrides, load_config
from kubecodegen_runtime.events import EventBroadcaster
from kubecodegen_runtime.leaderelection import LeaderCallbacks, LeaderElector, LeaseLock

from .controller import CONTROLLER_NAME, SampleController
from .generated.samplecontroller import Clientset as SampleClientset
from .generated.samplecontroller import SharedInformerFactory as SampleInformerFactory

logger = logging.getLogger(__name__)


def default_identity() -> str:
    """``<hostname>_<random>``: unique per process, and says which host holds the Lease."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


@dataclass(frozen=True)
class Options:
    """How one copy of the controller runs (the flags of :func:`main`)."""

    lease_namespace: str
    identity: str
    #: Watch Foos and Deployments in this namespace only; ``None``: all namespaces.
    namespace: str | None = None
    lease_name: str = CONTROLLER_NAME
    workers: int = 2
    #: Every cached object is handed to the handlers again this often (0: never).
    resync_period: float = 30.0
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0


def run(config: ClientConfig, options: Options, stop: threading.Event) -> bool:
    """Campaign for the Lease and run the controller while leading, until ``stop`` is set or
    leadership is lost (or the controller fails). Returns True if it stopped because
    ``stop`` was set.

    The Lease gets a RESTClient of its own, as kube-controller-manager's leader election
    does: renewals must not wait behind the controller's requests in the client-side rate
    limiter (``config.qps``/``burst``), or a busy leader misses its renew deadline. The
    controller's clients share the other one (one connection pool, one rate limit): the Foo
    clientset of the generated CRD package is built on the same RESTClient.
    """
    with KubeClientset.from_config(config) as kube, \
            KubeClientset.from_config(config) as election:
        return _run(kube, election, options, stop)


def _run(kube: KubeClientset, election: KubeClientset, options: Options,
         stop: threading.Event) -> bool:
    sample = SampleClientset(kube.rest)
    broadcaster = EventBroadcaster(kube.rest)
    recorder = broadcaster.new_recorder(CONTROLLER_NAME, options.identity)
    # Set while no leadership's work runs. ``closed`` (under ``guard``) tells a work thread
    # that starts late -- after run() decided to return -- not to begin at all.
    finished = threading.Event()
    finished.set()
    guard = threading.Lock()
    closed = False

    def lead(leading: threading.Event) -> None:
        with guard:
            if closed:
                return
            finished.clear()
        try:
            kube_informers = KubeInformerFactory(kube, namespace=options.namespace,
                                                 resync_period=options.resync_period)
            sample_informers = SampleInformerFactory(sample, namespace=options.namespace,
                                                     resync_period=options.resync_period)
            controller = SampleController(kube, sample, kube_informers, sample_informers,
                                          recorder, workers=options.workers)
            kube_informers.start()
            sample_informers.start()
            try:
                logger.info("%s: leading, controller started", options.identity)
                controller.run(leading)
            finally:
                kube_informers.shutdown()
                sample_informers.shutdown()
        finally:
            # An exception is logged (with its traceback) and counted by the elector.
            if not leading.is_set():
                # The work ended on its own (it failed): holding the Lease while doing
                # nothing would keep every standby idle, so give it up and exit.
                elector.stop()
            finished.set()

    elector = LeaderElector(
        LeaseLock(election.rest, options.lease_namespace, options.lease_name, options.identity),
        LeaderCallbacks(
            on_started_leading=lead,
            on_stopped_leading=lambda: logger.info("%s: stopped leading", options.identity),
            on_new_leader=lambda holder: logger.info("the leader is now %s", holder),
        ),
        lease_duration=options.lease_duration, renew_deadline=options.renew_deadline,
        retry_period=options.retry_period, release_on_cancel=True, name=CONTROLLER_NAME,
    )
    try:
        elector.run(stop)
    finally:
        with guard:
            closed = True
        # The elector waits for the work only up to renew_deadline; the controller may
        # still be draining its reconciles.
        finished.wait()
        broadcaster.shutdown()
    return stop.is_set()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m examples.sample_controller",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--kubeconfig", help="path to a kubeconfig (default: $KUBECONFIG, "
                        "~/.kube/config, then the pod's service account)")
    parser.add_argument("--master", help="the API server's address; overrides the kubeconfig's")
    parser.add_argument("--context", help="the kubeconfig context to use")
    parser.add_argument("--namespace", help="watch this namespace only (default: all)")
    parser.add_argument("--lease-namespace", help="namespace of the Lease (default: the "
                        "kubeconfig context's namespace)")
    parser.add_argument("--lease-name", default=CONTROLLER_NAME, help="name of the Lease")
    parser.add_argument("--id", default=None, help="this copy's identity in the Lease "
                        "(default: <hostname>_<uuid>)")
    parser.add_argument("--workers", type=int, default=2, help="concurrent reconciles")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_config(args.kubeconfig, context=args.context,
                         overrides=ConfigOverrides(server=args.master))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    options = Options(
        lease_namespace=args.lease_namespace or config.namespace,
        identity=args.id or default_identity(),
        namespace=args.namespace,
        lease_name=args.lease_name,
        workers=args.workers,
    )
    if not run(config, options, stop):
        logger.error("%s: leadership lost or the controller failed; exiting", options.identity)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
