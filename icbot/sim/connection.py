"""One client socket: the TWS handshake, framing, simulated latency, the pacing count, and clean teardown.

The handshake follows reference tws-protocol.md §1.2–§1.5: ``API\\0`` plus a framed ``v<min>..<max>``,
answered by exactly two fields ``<version>\\0<time>\\0`` with version = min(client max, 178); nothing else
is sent until the client's startApi (71), which the server answers (managedAccounts, nextValidId, farms).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from icbot.sim import messages as msg
from icbot.sim.marketdata import PendingSnapshot, Subscription
from icbot.sim.protocol import SERVER_VERSION, FrameReader, ProtocolError, encode_fields, parse_hello

if TYPE_CHECKING:
    from icbot.sim.server import SimServer

log = logging.getLogger("icbot.sim")
MIN_SUPPORTED_VERSION = 176  # layouts below this differ in ways the builders do not implement


class Connection:
    def __init__(self, server: SimServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.frames = FrameReader()
        self.version = SERVER_VERSION
        self.client_id: int | None = None
        self.md_type = 1
        self.subs: dict[int, Subscription] = {}
        self.snapshots: dict[int, PendingSnapshot] = {}  # snapshot requests still being answered
        self.data_lost = False  # told 1101: every subscription was forgotten (the client must request again)
        self.positions_sub = False
        self.account_sub = ""
        self.hold: list[bytes] | None = None  # replies held back during a simulated gateway outage
        self.closed = False
        self._in_q: asyncio.Queue[tuple[float, list[str]]] | None = None
        self._out_q: asyncio.Queue[tuple[float, bytes]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    # -- sending --------------------------------------------------------------------------------------
    def send(self, fields: list[object]) -> None:
        self.send_bytes(encode_fields(fields))

    def send_bytes(self, data: bytes) -> None:
        if self.closed:
            return
        if self.hold is not None:
            self.hold.append(data)
            return
        self.server.stats.messages_out += 1
        if self._out_q is not None:
            self._out_q.put_nowait((self.server.real_now() + self.server.one_way_delay(), data))
            return
        self._write(data)

    def _write(self, data: bytes) -> None:
        if self.closed or self.writer.is_closing():
            return
        self.writer.write(data)

    def error(self, req_id: int, code: int, text: str) -> None:
        self.send(msg.error(req_id, code, text, self.version))

    # -- lifecycle ------------------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            if not await self._handshake():
                return
            if self.server.one_way_delay() > 0:
                self._in_q = asyncio.Queue()
                self._out_q = asyncio.Queue()
                self._tasks.append(asyncio.create_task(self._deliver_in()))
                self._tasks.append(asyncio.create_task(self._deliver_out()))
            while not self.closed:
                for fields in self.frames.messages():
                    self._arrive(fields)
                data = await self.reader.read(65536)
                if not data:
                    break
                self.frames.feed(data)
        except (ConnectionError, ProtocolError, asyncio.IncompleteReadError) as exc:
            log.info("connection %s (client %s) ended: %s", self.peer, self.client_id, exc)
        finally:
            await self.close()

    async def _handshake(self) -> bool:
        hello = None
        while hello is None:
            data = await self.reader.read(65536)
            if not data:
                return False
            self.frames.feed(data)
            hello = self.frames.hello()
        low, high, _options = parse_hello(hello)
        version = min(high, SERVER_VERSION)
        if version < MIN_SUPPORTED_VERSION or low > SERVER_VERSION:
            log.warning(
                "client %s offers v%d..%d; the simulator speaks %d..%d",
                self.peer,
                low,
                high,
                MIN_SUPPORTED_VERSION,
                SERVER_VERSION,
            )
            return False
        self.version = version
        self._write(encode_fields(msg.handshake_reply(version, self.server.connection_time_text())))
        return True

    def _arrive(self, fields: list[str]) -> None:
        now = self.server.real_now()
        if not self.server.pacing_ok(self, now):
            return
        if self._in_q is not None:
            self._in_q.put_nowait((now + self.server.one_way_delay(), fields))
        else:
            self.server.dispatch(self, fields)

    async def _deliver_in(self) -> None:
        assert self._in_q is not None
        while True:
            due, fields = await self._in_q.get()
            await _sleep_until(due, self.server.real_now)
            if self.closed:
                return
            self.server.dispatch(self, fields)

    async def _deliver_out(self) -> None:
        assert self._out_q is not None
        while True:
            due, data = await self._out_q.get()
            await _sleep_until(due, self.server.real_now)
            self._write(data)

    def abort(self) -> None:
        """Drop the connection the hard way (a simulated network failure)."""
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            self.writer.transport.abort()
        self.server.forget(self)
        for task in self._tasks:
            task.cancel()

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.server.forget(self)
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            self.writer.close()
            await self.writer.wait_closed()


async def _sleep_until(due: float, now: Callable[[], float]) -> None:
    delay = due - now()
    if delay > 0:
        await asyncio.sleep(delay)
