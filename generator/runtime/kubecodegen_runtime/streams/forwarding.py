"""The two port-forward shells under one module, so the async mixin's import of
``AsyncPortForward`` becomes the sync mixin's import of ``PortForward`` by the generic
unasync rules (the shells themselves are not generated: listening differs too much
between asyncio and threads; both drive the one pure core, :mod:`.portforward`)."""

from .portforward_asyncio import AsyncPortForward
from .portforward_threads import PortForward

__all__ = ["AsyncPortForward", "PortForward"]
