"""Run the simulated gateway in a background thread with its own event loop — for tests and the demo.

A thread (not the test's own loop) lets the code under test run `asyncio.run()` however it likes, lets
subprocesses (the `icbot` CLI in end-to-end tests) connect to the same port, and keeps the simulator's
clock ticking while a test blocks. Everything that touches simulator state goes through `call()`, which runs
the function on the simulator's loop, so tests never race the ticker.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from icbot.clock import ENV_VAR, NEW_YORK, Clock, ny_datetime
from icbot.sim.faults import Fault
from icbot.sim.market import MarketParams
from icbot.sim.orders import ExecRecord, SimOrder
from icbot.sim.server import RequestRecord, SimConfig, SimServer, Stats
from icbot.sim.sessions import early_close

T = TypeVar("T")
DEFAULT_START = "2026-11-24"


@dataclass(frozen=True)
class PositionView:
    con_id: int
    local_symbol: str
    qty: float
    avg_cost: float
    realized: float


class SimHandle:
    """Thread-safe access to a running simulator: inspection for assertions and fault injection."""

    def __init__(self, gateway: SimGateway) -> None:
        self._gw = gateway

    def call(self, fn: Callable[[SimServer], T], timeout: float = 10.0) -> T:
        """Run `fn(server)` on the simulator's loop and return its result."""
        return self._gw.call(fn, timeout)

    # -- inspection (copies, safe to keep) ----------------------------------------------------------
    def orders(self) -> list[SimOrder]:
        return self.call(lambda s: copy.deepcopy(sorted(s.engine.orders.values(), key=lambda o: o.perm_id)))

    def order(self, order_id: int, client_id: int | None = None) -> SimOrder | None:
        for o in self.orders():
            if o.order_id == order_id and (client_id is None or o.client_id == client_id):
                return o
        return None

    def executions(self) -> list[ExecRecord]:
        return self.call(lambda s: copy.deepcopy(list(s.engine.executions)))

    def positions(self) -> dict[int, PositionView]:
        def read(s: SimServer) -> dict[int, PositionView]:
            out = {}
            for con_id, p in s.engine.ledger.positions.items():
                info = s.engine.catalog.by_con_id(con_id)
                out[con_id] = PositionView(con_id, info.local_symbol if info else "", p.qty, p.avg_cost, p.realized)
            return out

        return self.call(read)

    def account_values(self) -> dict[str, float]:
        return self.call(lambda s: s.engine.account_values(s.clock.now()))

    def requests(self, name: str | None = None) -> list[RequestRecord]:
        return self.call(lambda s: [r for r in s.requests if name is None or r.name == name])

    def stats(self) -> Stats:
        return self.call(lambda s: copy.copy(s.stats))

    def now(self) -> datetime:
        return self._gw.clock.now()

    # -- faults ---------------------------------------------------------------------------------------
    def fault(self, spec: str | Fault) -> Fault:
        """Install a fault now, e.g. ``sim.fault("reject-next=Insufficient margin")`` (see icbot.sim.faults)."""
        return self.call(lambda s: s.add_fault(spec))

    def drop_connections(self) -> int:
        return self.call(lambda s: s.drop_connections())

    def restart(self, outage_s: float = 30.0, *, data_lost: bool = False) -> None:
        """A gateway restart now: 1100, then 1102 (or with `data_lost` 1101 and no subscriptions) after `outage_s`."""
        self.call(lambda s: s.start_outage(outage_s, data_lost=data_lost))


class SimGateway:
    """A simulator on 127.0.0.1 in a daemon thread. Use as a context manager or start()/stop()."""

    def __init__(self, clock: Clock | None = None, config: SimConfig | None = None) -> None:
        self.clock = clock or Clock.virtual(ny_datetime(DEFAULT_START, "09:31"), 60.0)
        self.config = config or SimConfig()
        self.host = self.config.host
        self.port = 0
        self.server: SimServer | None = None
        self.sim = SimHandle(self)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._failure: BaseException | None = None

    def env(self) -> dict[str, str]:
        """Environment for a subprocess that must share this simulator's virtual clock."""
        return {ENV_VAR: self.clock.spec()}

    def start(self, timeout: float = 10.0) -> SimGateway:
        self._thread = threading.Thread(target=self._run, name=f"icbot-sim-{id(self):x}", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("simulated gateway did not start in time")
        if self._failure is not None:
            raise RuntimeError(f"simulated gateway failed to start: {self._failure}") from self._failure
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced to start() or stop()
            self._failure = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.server = SimServer(self.clock, self.config)
        await self.server.start()
        self.port = self.server.port
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.server.stop()

    def call(self, fn: Callable[[SimServer], T], timeout: float = 10.0) -> T:
        if self._loop is None or self.server is None:
            raise RuntimeError("simulated gateway is not running")
        server = self.server
        fut: Future[T] = Future()

        def run() -> None:
            try:
                fut.set_result(fn(server))
            except BaseException as exc:
                fut.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return fut.result(timeout)

    def set_clock(self, clock: Clock) -> None:
        """Switch the running simulator (and `self.clock`, hence `env()`) to another clock, e.g. faster."""
        self.call(lambda s: s.set_clock(clock))
        self.clock = clock

    def set_speed(self, speed: float, not_before: datetime | None = None) -> Clock:
        """Go on at `speed` from the simulator's own current instant (or from `not_before`, if that is later).

        The instant is read on the simulator's loop, where the clock is switched: read from another thread, a fast
        clock can run more than the allowed second ahead before the switch lands (at x2400 a second is 0.4 ms).
        """

        def switch(server: SimServer) -> Clock:
            now = server.clock.now()
            clock = Clock.virtual(now if not_before is None else max(now, not_before), speed)
            server.set_clock(clock)
            return clock

        self.clock = self.call(switch)
        return self.clock

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> SimGateway:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_sim(
    start: str = f"{DEFAULT_START}T09:31:00",
    speed: float = 60.0,
    faults: list[str | Fault] | tuple[str | Fault, ...] = (),
    **config: Any,
) -> SimGateway:
    """Start a simulator on an ephemeral loopback port; `start` is New York time unless it has an offset.

    Extra keyword arguments are SimConfig fields (seed, account, cash, latency_ms, fill, market, ...). Without
    `market`, an early-close day (per the XNYS calendar) closes the 0DTE series at that day's close.
    """
    begin = datetime.fromisoformat(start)
    if begin.tzinfo is None:
        begin = begin.replace(tzinfo=NEW_YORK)
    if "market" not in config:  # follow the XNYS calendar's early closes unless told otherwise
        close = early_close(begin.astimezone(NEW_YORK).date())
        if close is not None:
            config["market"] = MarketParams(seed=config.get("seed", 7), close_time=close)
    cfg = SimConfig(faults=list(faults), **config)
    return SimGateway(Clock.virtual(begin, speed), cfg).start()
