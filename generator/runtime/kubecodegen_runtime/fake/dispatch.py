"""Request -> Action -> reactors -> tracker -> Response: the fake server's request handling."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..rest.request import Request
from ..rest.response import Response
from .feed import WatchFeed

if TYPE_CHECKING:
    from .server import FakeServer


def handle(server: FakeServer, request: Request, user_agent: str) -> Response:
    raise NotImplementedError


def open_watch(server: FakeServer, request: Request, user_agent: str) -> Response | WatchFeed:
    raise NotImplementedError
