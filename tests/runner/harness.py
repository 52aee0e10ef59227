"""The in-process run-today harness: a real RunContext (real SQLite journal, alerts through apprise to a loopback
endpoint and journaled, the simulator's virtual clock) against its own simulator, driven the way `icbot run-today`
drives it. The `harness` fixture (tests/runner/conftest.py) makes them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from icbot.config import Config, load_config
from icbot.core import refs
from icbot.core.journal import Alert, AlertLevel, Trade
from icbot.core.schedule import SessionTimes
from icbot.notify import Notifier
from icbot.runner.context import RunContext
from icbot.runner.run_today import run_day
from icbot.runner.sessions import day_session
from icbot.runner.setup import LOAD_ALERTS_AT_FIRST_USE
from icbot.sim.fixture import SimGateway
from icbot.store.repo import Store
from tests.broker.helpers import write_sim_config
from tests.webhook import Endpoint


@dataclass
class Harness:
    sim: SimGateway
    ctx: RunContext
    session: SessionTimes
    lines: list[str] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return self.ctx.store

    def run_day(self) -> int:
        return asyncio.run(run_day(self.ctx, self.session))

    def entries(self) -> list[Any]:
        return [o for o in self.sim.sim.orders() if o.req.order_ref.endswith(":entry") and not o.req.what_if]

    def icbot_orders(self) -> list[Any]:
        return [o for o in self.sim.sim.orders() if o.req.order_ref.startswith("icbot:") and not o.req.what_if]

    def exits(self) -> list[Any]:
        return [o for o in self.icbot_orders() if refs.role_of(o.req.order_ref) in refs.EXIT_ROLES]

    def alerts(self, level: AlertLevel | None = None) -> list[Alert]:
        return [a for a in self.store.alerts() if level is None or a.level is level]

    def trade(self) -> Trade:
        trade = self.ctx.trade()
        assert trade is not None
        return trade


def run_context(
    config: Config, sim: SimGateway, store: Store, command: str, lines: list[str], sink: Endpoint
) -> RunContext:
    """A trading command's context as open_context builds it, on the simulator's clock, its alerts sent through
    apprise to the loopback `sink` and journaled."""
    notifier = Notifier([sink.url()], store=store, clock=sim.clock, load_now=command not in LOAD_ALERTS_AT_FIRST_USE)
    return RunContext(config, sim.clock, store, notifier, sim.clock.now_ny().date(), command, echo=lines.append)


def halt_from_another_process(h: Harness) -> None:
    """What `icbot kill` does first, from its own process: the halt row in the journal."""
    kill = Store.open(h.ctx.config.db_path)
    try:
        kill.halt("kill", at=h.sim.clock.now())
    finally:
        kill.close()


def make_harness(
    tmp_path: Path,
    sim_gateway_factory: Callable[..., SimGateway],
    stores: list[Store],
    sink: Endpoint,
    *,
    start: str = "2026-11-24T09:31:00",  # 3 real s before the entry: a loaded machine can take 2 to connect
    speed: float = 20.0,
    faults: list[str] | None = None,
    sim_config: dict[str, Any] | None = None,
    mode: str = "paper",
    **config: Any,
) -> Harness:
    sim = sim_gateway_factory(start=start, speed=speed, faults=faults or [], **(sim_config or {}))
    config.setdefault("exits__confirm_seconds", 5)  # run-today's watch of its exits: 30 virtual s by default
    loaded = load_config(write_sim_config(tmp_path, sim, mode=mode, **config), {})
    store = Store.open(loaded.db_path)
    stores.append(store)
    today = sim.clock.now_ny().date()
    session = day_session(loaded, today)  # as `icbot run-today` reads it: the cached session table
    assert session is not None
    lines: list[str] = []
    ctx = run_context(loaded, sim, store, "run-today", lines, sink)
    ctx.run_id = store.start_run(command="run-today", mode=mode, trade_date=today, at=sim.clock.now(), argv=[])
    return Harness(sim, ctx, session, lines)
