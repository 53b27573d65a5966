"""The ``proxy`` subresource of pods, services and nodes.

``pods(ns).proxy("web", "healthz", port=8080)`` is ``GET
/api/v1/namespaces/ns/pods/web:8080/proxy/healthz``: the apiserver forwards the request to
the target and relays its answer. Building the request (escaping, validation) is
``rest.request.proxy``; reading the answer (target's reply or apiserver's refusal) is
``client.proxying.outcome``; this shell only sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ...errors import ApiError
from ...rest import request as rq
from ..proxying import ProxyResponse, outcome
from .resource import _AsyncScope

Pairs = Mapping[str, str] | Iterable[tuple[str, str]]


def _pairs(value: Pairs | None) -> list[tuple[str, str]]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [(str(k), str(v)) for k, v in value.items()]
    return [(str(k), str(v)) for k, v in value]


class AsyncWithProxy(_AsyncScope):
    """``{resource}/{name}/proxy``: HTTP to a pod's or service's port, or a node's kubelet."""

    async def proxy(
        self,
        name: str,
        path: str = "",
        *,
        port: int | str | None = None,
        scheme: str | None = None,
        method: str = "GET",
        params: Pairs | None = None,
        body: bytes | None = None,
        headers: Pairs | None = None,
    ) -> ProxyResponse:
        """Send ``method`` to ``path`` (plain text, escaped here) on ``name``'s ``port``
        (a number or a port name; the default is the target's first port) over ``scheme``
        (``http``/``https``).

        Whatever the target answers, errors included, is the returned
        :class:`ProxyResponse`; a refusal by the apiserver itself (403, no such object,
        "address not allowed", an unreachable target) raises its typed ``ApiError``.
        Requests are not retried: a proxied POST may not be idempotent.
        """
        req = rq.proxy(
            self.info, name, path, namespace=self._namespace, port=port, scheme=scheme,
            method=method, params=_pairs(params), body=body, headers=_pairs(headers),
        )
        rest = self._rest
        await rest.rate_limiter.acquire()
        resp = await rest.transport.send(req)
        try:
            return outcome(resp)
        except ApiError:
            # only the apiserver's own answer carries its warnings; a target's headers
            # (``Warning`` included) are the target's, left in the ProxyResponse
            rest.warnings.handle(resp.headers)
            raise
