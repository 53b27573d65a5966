"""port-forward over WebSocket: the kubelet's portforward server side (v4.channel.k8s.io).

As pkg/kubelet/cri/streaming/portforward/websocket.go: the ports come from the ``port`` query
parameter (repeatable, each a comma-separated list); port *i* has data channel ``2i`` and error
channel ``2i+1``, and the kubelet's first frame on each of them is the port as a little-endian
uint16. Client frames on a data channel go to the pod's port as they are (no prefix); what the
pod sends comes back on the data channel; a failure (connection refused) is written as text on
the error channel. When every port's connection has ended the WebSocket is closed.

The "pod" here is an address of this machine (`KubeletPod.ip`); its servers are the test's
(`KubeletPod.listen`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import Mapping, Sequence
from typing import Any

from .kubelet_exec import Cut, OutputBudget
from .kubelet_ws import ServerWebSocket

_log = logging.getLogger("tests.harness.kubelet")

SUPPORTED_PROTOCOLS = ("v4.channel.k8s.io", "")


def parse_ports(query: Mapping[str, Sequence[str]]) -> list[int]:
    """The requested ports, or ValueError with the kubelet's message."""
    values = query.get("port", [])
    if not values:
        raise ValueError('query parameter "port" is required')
    ports: list[int] = []
    for value in values:
        if not value:
            raise ValueError('query parameter "port" cannot be empty')
        for part in value.split(","):
            try:
                port = int(part)
            except ValueError:
                raise ValueError(f"unable to parse {value!r} as a port") from None
            if not 1 <= port <= 65535:
                raise ValueError(f"port {value!r} must be > 0 and < 65536")
            ports.append(port)
    return ports


async def serve_portforward(
    ws: ServerWebSocket,
    ports: Sequence[int],
    host: str,
    pod: str,
    cut_after: int | None = None,
) -> None:
    """Forward each port to ``host``; return when all have ended or the client went away."""
    for index, port in enumerate(ports):
        prefix = struct.pack("<H", port)
        await ws.send_frame(2 * index, prefix)
        await ws.send_frame(2 * index + 1, prefix)
    writers: dict[int, asyncio.StreamWriter] = {}
    pumps: list[asyncio.Task[None]] = []
    budget = OutputBudget(cut_after)
    for index, port in enumerate(ports):
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError as exc:
            message = f"error forwarding port {port} to pod {pod}, uid : {exc}"
            await ws.send_frame(2 * index + 1, message.encode())
            continue
        writers[index] = writer
        pumps.append(asyncio.ensure_future(_to_client(ws, index, reader, budget)))
    inputs = asyncio.ensure_future(_from_client(ws, writers))
    try:
        if pumps:
            done_all: asyncio.Future[Any] = asyncio.ensure_future(asyncio.gather(*pumps))
            waiting: list[asyncio.Future[Any]] = [done_all, inputs]
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if done_all.done() and done_all.exception() is not None:
                error = done_all.exception()
                if isinstance(error, Cut):
                    ws.abort()
                    return
            done_all.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await done_all
        await ws.close()
    finally:
        inputs.cancel()
        for pump in pumps:
            pump.cancel()
        for writer in writers.values():
            writer.close()


async def _to_client(
    ws: ServerWebSocket, index: int, reader: asyncio.StreamReader, budget: OutputBudget
) -> None:
    while True:
        data = await reader.read(32768)
        if not data:
            return
        try:
            data = budget.take(data)
        except Cut as cut:
            if cut.args[0]:
                await ws.send_frame(2 * index, cut.args[0])
            raise
        await ws.send_frame(2 * index, data)


async def _from_client(ws: ServerWebSocket, writers: Mapping[int, asyncio.StreamWriter]) -> None:
    while True:
        frame = await ws.recv_frame()
        if frame is None:
            return
        channel, data = frame
        if channel % 2 or channel // 2 not in writers:
            continue  # error channels are write-only, as the kubelet's
        writer = writers[channel // 2]
        with contextlib.suppress(ConnectionError, OSError):
            writer.write(data)
            await writer.drain()
