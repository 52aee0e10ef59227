"""A loopback relay between ib_async and the simulated gateway that can hold the gateway's answers back.

IB answers some requests with several messages that may reach the client in separate reads (an open order, its
status, then the end of the list). The relay lets a test stop the gateway's stream in front of one chosen message,
do something in that gap, and let the rest through: the moment a real gateway's answer is half delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct


class HoldBack:
    """Relay every byte both ways; `hold_before(msg_id)` stops the gateway's stream in front of the next message
    with that id (and everything after it) until `release()`, or `release(drop=True)`, which loses that message as
    IB loses a request over its pacing limit."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.held = asyncio.Event()  # set while a message is held back
        self._target: bytes | None = None
        self._go = asyncio.Event()
        self._drop = False
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def hold_before(self, msg_id: int) -> None:
        self._target = str(msg_id).encode()
        self._go.clear()

    def release(self, *, drop: bool = False) -> None:
        self._drop = drop
        self._target = None
        self.held.clear()
        self._go.set()

    async def close(self) -> None:
        self.release()
        if self._server is not None:
            self._server.close()
        for w in self._writers:
            w.close()
        for t in self._tasks:
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await t

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        gw_r, gw_w = await asyncio.open_connection(*self.upstream)
        self._writers += [client_w, gw_w]
        for pump in (self._bytes(client_r, gw_w), self._messages(gw_r, client_w)):
            task = asyncio.ensure_future(pump)
            self._tasks.add(task)

    async def _bytes(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    async def _messages(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """The gateway's side is all length-prefixed messages, from the server version on (docs/simulator.md)."""
        while True:
            try:
                head = await reader.readexactly(4)
            except asyncio.IncompleteReadError:
                writer.close()
                return
            (size,) = struct.unpack(">I", head)
            body = await reader.readexactly(size)
            if self._target is not None and body.split(b"\0", 1)[0] == self._target:
                self.held.set()
                await self._go.wait()
                if self._drop:
                    self._drop = False
                    continue
            writer.write(head + body)
            await writer.drain()
