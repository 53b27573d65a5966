"""Iterators over streaming answers: watch events and log lines.

The stream is opened lazily on first iteration and closed when the iterator ends,
raises, or is closed (``aclose()``, ``async with``, or breaking out of ``async with``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from types import TracebackType
from typing import Generic, TypeVar

from ...errors import ResponseError
from ...rest.request import Request
from .rest import AsyncRESTClient

E_co = TypeVar("E_co", covariant=True)


class AsyncEventStream(Generic[E_co]):
    """Items decoded from a streaming response by ``feed``/``finish`` (pure decoders)."""

    def __init__(
        self,
        rest: AsyncRESTClient,
        req: Request,
        feed: Callable[[bytes], list[E_co]],
        finish: Callable[[], list[E_co]],
    ) -> None:
        self._rest = rest
        self._req = req
        self._feed = feed
        self._finish = finish
        self._gen = self._run()

    async def _run(self) -> AsyncGenerator[E_co, None]:
        stream = await self._rest.open(self._req)
        try:
            async for chunk in stream.iter_chunks():
                for item in self._feed(chunk):
                    yield item
            for item in self._finish():
                yield item
        except ResponseError as exc:  # the pure decoders do not know the request
            exc.locate(self._req.method, self._req.path)
            raise
        finally:
            await stream.aclose()

    def __aiter__(self) -> AsyncEventStream[E_co]:
        return self

    async def __anext__(self) -> E_co:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        """Stop iterating and release the connection."""
        await self._gen.aclose()

    async def __aenter__(self) -> AsyncEventStream[E_co]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
