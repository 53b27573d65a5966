"""What a proxied answer means (pure): the target's reply, or the apiserver's refusal.

A request through ``pods|services|nodes/{name}/proxy/{path}`` has two servers behind one
answer. Whatever the target (the pod's web server, a node's kubelet) says, 404 and 500
included, is the caller's data and comes back as a :class:`ProxyResponse`. When the
apiserver itself refuses (RBAC 403, no such pod 404, "address not allowed" or a dial
failure 503) it answers with a ``meta/v1`` ``Status`` of ``status: Failure``, and that is
raised as the typed :class:`~..errors.ApiError` every other call raises, so
``except NotFound`` means "no such pod", not "the pod's server has no such page".

A target that itself answers a failure ``Status`` (a proxied apiserver) cannot be told
apart from the apiserver and is raised too; client-go's ``ProxyGet(...).DoRaw`` makes every
non-2xx an error, so this is the stricter of the two readings only for non-Status bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..rest.response import Response, decode_json, error_from, failure_status, is_success


@dataclass(frozen=True, slots=True)
class ProxyResponse:
    """The target's answer: HTTP status, headers (lower-case names, repeats kept), body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)

    @property
    def ok(self) -> bool:
        """Whether the target answered 2xx."""
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        """The body as text (UTF-8 unless the content type names another charset)."""
        content_type = self.header("content-type") or ""
        charset = "utf-8"
        for part in content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.body.decode(charset, "replace")
        except LookupError:
            return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body decoded as JSON (a typed error if it is not JSON)."""
        return decode_json(Response(200, (("content-type", "application/json"),), self.body))

    def __repr__(self) -> str:
        return f"ProxyResponse(status={self.status}, body=<{len(self.body)} bytes>)"


def outcome(resp: Response) -> ProxyResponse:
    """The target's answer in ``resp``, or raise the apiserver's own refusal (see module)."""
    if not is_success(resp.status_code) and failure_status(resp.body) is not None:
        raise error_from(resp.status_code, resp.headers, resp.body,
                         method=resp.method or None, path=resp.path or None)
    return ProxyResponse(resp.status_code, resp.headers, resp.body)
