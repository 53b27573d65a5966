"""The thread and asyncio shells of :func:`.plan.plan_apply`: they only carry out steps.

Both take a dynamic client (its RESTMapper is used, so kinds it already resolved cost
nothing) or a REST client (a discovery client and mapper are made for the call).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from ..client._async.rest import AsyncRESTClient
from ..client._sync.rest import RESTClient
from ..discovery import AsyncDiscoveryClient, DiscoveryClient
from ..dynamic import AsyncDynamicClient, DynamicClient
from ..errors import ApiError
from ..restmapper import NoMatch
from .plan import ApplyOptions, ApplyResult, Plan, Refresh, Resolve, Send, Sleep, Step, plan_apply
from .reader import ManifestSource, read_manifests

if TYPE_CHECKING:
    from ..restmapper import AsyncDeferredRESTMapper, DeferredRESTMapper
    from ..scheme import Scheme

__all__ = ["ApplyError", "apply_manifests", "apply_manifests_async"]


class ApplyError(Exception):
    """Some objects failed; ``results`` holds every object's result, failed or not."""

    def __init__(self, results: list[ApplyResult]) -> None:
        self.results = results
        failed = [r for r in results if r.error is not None]
        super().__init__(f"{len(failed)} of {len(results)} objects failed:\n  "
                         + "\n  ".join(r.describe() for r in failed))


def _options(default_namespace: str, field_manager: str, namespace: str | None,
             force_conflicts: bool, dry_run: bool, scheme: Scheme | None,
             wait_for_crds: float) -> ApplyOptions:
    if not field_manager:
        raise ValueError("field_manager must be a non-empty string")
    return ApplyOptions(field_manager=field_manager, default_namespace=default_namespace or "default",
                        namespace=namespace, force_conflicts=force_conflicts, dry_run=dry_run,
                        wait_for_crds=wait_for_crds, scheme=scheme, clock=time.monotonic)


def _finish(results: list[ApplyResult], raise_on_error: bool) -> list[ApplyResult]:
    if raise_on_error and any(r.error is not None for r in results):
        raise ApplyError(results)
    return results


def apply_manifests(
    client: DynamicClient | RESTClient,
    source: ManifestSource,
    *,
    field_manager: str,
    namespace: str | None = None,
    force_conflicts: bool = False,
    dry_run: bool = False,
    scheme: Scheme | None = None,
    wait_for_crds: float = 60.0,
    raise_on_error: bool = True,
) -> list[ApplyResult]:
    """``kubectl apply --server-side -f source``: every object, one result each.

    ``source``: a file, a folder (read recursively), several paths, or a text stream.
    ``namespace`` defaults to the client configuration's namespace. Reading problems
    raise :class:`~.reader.ManifestError` before anything is sent; objects that fail
    are recorded and the rest applied, then :class:`ApplyError` is raised (with every
    result) unless ``raise_on_error=False``.
    """
    if isinstance(client, DynamicClient):
        rest, mapper = client._rest, client.mapper
    else:
        rest, mapper = client, DiscoveryClient(client).mapper
    opts = _options(rest.namespace, field_manager, namespace, force_conflicts, dry_run, scheme,
                    wait_for_crds)
    manifests = read_manifests(source)
    return _finish(_run(plan_apply(manifests, opts), rest, mapper), raise_on_error)


def _run(plan: Plan, rest: RESTClient, mapper: DeferredRESTMapper) -> list[ApplyResult]:
    def carry_out(step: Step) -> Any:
        if isinstance(step, Send):
            try:
                return rest.send(step.request)
            except ApiError as exc:
                return exc
        if isinstance(step, Resolve):
            try:
                return mapper.rest_mapping(step.kind, group=step.group, versions=(step.version,))
            except NoMatch as exc:
                return exc
        if isinstance(step, Refresh):
            mapper.reset()
            return None
        assert isinstance(step, Sleep)
        time.sleep(step.seconds)
        return None

    try:
        step = next(plan)
        while True:
            step = plan.send(carry_out(step))
    except StopIteration as done:
        results: list[ApplyResult] = done.value
        return results


async def apply_manifests_async(
    client: AsyncDynamicClient | AsyncRESTClient,
    source: ManifestSource,
    *,
    field_manager: str,
    namespace: str | None = None,
    force_conflicts: bool = False,
    dry_run: bool = False,
    scheme: Scheme | None = None,
    wait_for_crds: float = 60.0,
    raise_on_error: bool = True,
) -> list[ApplyResult]:
    """Async twin of :func:`apply_manifests` (files are read before the first request)."""
    if isinstance(client, AsyncDynamicClient):
        rest, mapper = client._rest, client.mapper
    else:
        rest, mapper = client, AsyncDiscoveryClient(client).mapper
    opts = _options(rest.namespace, field_manager, namespace, force_conflicts, dry_run, scheme,
                    wait_for_crds)
    manifests = read_manifests(source)
    return _finish(await _run_async(plan_apply(manifests, opts), rest, mapper), raise_on_error)


async def _run_async(plan: Plan, rest: AsyncRESTClient,
                     mapper: AsyncDeferredRESTMapper) -> list[ApplyResult]:
    async def carry_out(step: Step) -> Any:
        if isinstance(step, Send):
            try:
                return await rest.send(step.request)
            except ApiError as exc:
                return exc
        if isinstance(step, Resolve):
            try:
                return await mapper.rest_mapping(step.kind, group=step.group,
                                                 versions=(step.version,))
            except NoMatch as exc:
                return exc
        if isinstance(step, Refresh):
            mapper.reset()
            return None
        assert isinstance(step, Sleep)
        await asyncio.sleep(step.seconds)
        return None

    try:
        step = next(plan)
        while True:
            step = plan.send(await carry_out(step))
    except StopIteration as done:
        results: list[ApplyResult] = done.value
        return results

