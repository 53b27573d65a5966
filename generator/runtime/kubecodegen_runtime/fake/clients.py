"""Real REST clients over a fake server: the transport is the only thing that is fake."""

from __future__ import annotations

import functools
import ssl
from typing import TYPE_CHECKING, cast

from ..client import AsyncRESTClient, RESTClient
from ..config.types import ClientConfig
from ..ratelimit import AsyncRateLimiter, RateLimiter
from ..retry import RetryPolicy
from ..transport import DEFAULT_USER_AGENT, AsyncTransport, Transport
from .transport import AsyncFakeTransport, FakeTransport

if TYPE_CHECKING:
    from .server import FakeServer

#: Where the fake "is": a name that can never resolve (RFC 6761), so a request that
#: escaped the fake transport fails at once instead of reaching a real cluster.
FAKE_SERVER_URL = "https://fake.invalid"
#: The User-Agent of fake clients: the real clients' default, so that the default field
#: manager (its first ``/``-segment) is the one a real server records.
FAKE_USER_AGENT = DEFAULT_USER_AGENT

#: No retries: a test sees the first answer, and a reactor's error is not repeated.
NO_RETRIES = RetryPolicy(max_attempts=1)


@functools.cache
def fake_config() -> ClientConfig:
    """The configuration naming the fake server (one, shared: it is immutable, and its
    TLS context, never used, is costly to make)."""
    return ClientConfig(server=FAKE_SERVER_URL, verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT),
                        user_agent=FAKE_USER_AGENT, qps=0.0)


def rest_client(server: FakeServer) -> RESTClient:
    config = fake_config()
    transport = FakeTransport(server, config)
    return RESTClient(config, transport=cast(Transport, transport), retry=NO_RETRIES,
                      rate_limiter=RateLimiter(0.0, 1))


def async_rest_client(server: FakeServer) -> AsyncRESTClient:
    config = fake_config()
    transport = AsyncFakeTransport(server, config)
    return AsyncRESTClient(config, transport=cast(AsyncTransport, transport), retry=NO_RETRIES,
                           rate_limiter=AsyncRateLimiter(0.0, 1))
