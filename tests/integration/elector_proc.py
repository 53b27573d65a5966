"""One leader-election candidate in a process of its own, for test_leaderelection_cluster.py.

Usage: ``python elector_proc.py KUBECONFIG NAMESPACE LEASE IDENTITY LEASE_S RENEW_S RETRY_S
[--release-on-cancel] [--asyncio]``.

It prints one line per event, flushed at once, each ``<event> <identity> <monotonic time>``
(Linux's monotonic clock is one clock for every process of the host, so the test can
compare the times of different processes): ``ready``, ``leader`` when
``on_started_leading`` starts, ``follower`` when its stop event is set (or its task is
cancelled), ``new-leader <identity> <time> <holder>``, ``exit``. When leadership is lost
the elector's ``run`` returns and the process stands again, as a restarted pod would.
SIGTERM stops it (with ``--release-on-cancel`` the lease is released on the way out).
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time

from kubecodegen_runtime.client._async.rest import AsyncRESTClient
from kubecodegen_runtime.client._sync.rest import RESTClient
from kubecodegen_runtime.config.kubeconfig import load_kubeconfig
from kubecodegen_runtime.leaderelection import (
    AsyncLeaderCallbacks,
    AsyncLeaderElector,
    AsyncLeaseLock,
    LeaderCallbacks,
    LeaderElector,
    LeaseLock,
)

_print_lock = threading.Lock()


def say(event: str, identity: str, extra: str = "") -> None:
    with _print_lock:
        sys.stdout.write(f"{event} {identity} {time.monotonic():.6f}{' ' + extra if extra else ''}\n")
        sys.stdout.flush()


def run_threads(args: list[str], release: bool) -> None:
    kubeconfig, namespace, lease, identity, lease_s, renew_s, retry_s = args
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def started(work_stop: threading.Event) -> None:
        say("leader", identity)
        work_stop.wait()
        say("follower", identity)

    callbacks = LeaderCallbacks(
        on_started_leading=started,
        on_stopped_leading=lambda: None,
        on_new_leader=lambda holder: say("new-leader", identity, holder or "-"),
    )
    with RESTClient(load_kubeconfig(kubeconfig)) as rest:
        elector = LeaderElector(
            LeaseLock(rest, namespace, lease, identity), callbacks,
            lease_duration=float(lease_s), renew_deadline=float(renew_s),
            retry_period=float(retry_s), release_on_cancel=release, name=identity)
        say("ready", identity)
        while not stop.is_set():
            elector.run(stop)


async def run_asyncio(args: list[str], release: bool) -> None:
    kubeconfig, namespace, lease, identity, lease_s, renew_s, retry_s = args
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def started() -> None:
        say("leader", identity)
        try:
            await asyncio.Event().wait()
        finally:
            say("follower", identity)

    callbacks = AsyncLeaderCallbacks(
        on_started_leading=started,
        on_stopped_leading=lambda: None,
        on_new_leader=lambda holder: say("new-leader", identity, holder or "-"),
    )
    async with AsyncRESTClient(load_kubeconfig(kubeconfig)) as rest:
        elector = AsyncLeaderElector(
            AsyncLeaseLock(rest, namespace, lease, identity), callbacks,
            lease_duration=float(lease_s), renew_deadline=float(renew_s),
            retry_period=float(retry_s), release_on_cancel=release, name=identity)
        say("ready", identity)
        while not stop.is_set():
            await elector.run(stop)


def main(argv: list[str]) -> None:
    flags = {arg for arg in argv if arg.startswith("--")}
    args = [arg for arg in argv if not arg.startswith("--")]
    release = "--release-on-cancel" in flags
    if "--asyncio" in flags:
        asyncio.run(run_asyncio(args, release))
    else:
        run_threads(args, release)
    say("exit", args[3])


if __name__ == "__main__":
    main(sys.argv[1:])
