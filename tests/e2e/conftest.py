"""End-to-end harness: the real `icbot` console script in a subprocess, the simulated gateway over a loopback
socket, a real SQLite journal and real apprise posting to a loopback webhook.

A `Day` bundles one simulated session: its config file, its journal, its alert sink, and `run()` to invoke a
command exactly as launchd would (plus ICBOT_CLOCK so the process shares the simulator's virtual time).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from icbot.core.journal import Event, OrderRecord, Trade
from icbot.sim.fixture import SimGateway, start_sim
from icbot.store.repo import Store
from tests.webhook import Endpoint

ICBOT = str(Path(sys.executable).parent / "icbot")


@dataclass
class Day:
    tmp: Path
    sim: SimGateway | None
    sink: Endpoint
    session: date
    mode: str = "paper"
    config_overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        return self.tmp / "config.yaml"

    @property
    def db_path(self) -> Path:
        return self.tmp / "icbot.db"

    def write_config(self) -> None:
        cfg: dict[str, Any] = {
            "mode": self.mode,
            "gateway": {"host": "127.0.0.1", "port": self.sim.port if self.sim else 9, "client_id": 31},
            "storage": {"db": str(self.db_path)},
            # run-today's watch of the placed exits (runner/confirm.py) runs in every e2e day, shortened from 30
            # virtual seconds to 5; the late-rejection tests set it back to 30
            "exits": {"confirm_seconds": 5},
        }
        for key, value in self.config_overrides.items():
            section, _, name = key.partition(".")
            cfg.setdefault(section, {})[name] = value
        self.config_path.write_text(yaml.safe_dump(cfg), encoding="utf-8")

    def run(
        self, *args: str, clock: str | None = None, extra_env: dict[str, str] | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args),
            env=self.env(clock, extra_env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def argv(self, *args: str) -> list[str]:
        return [ICBOT, *args, "--config", str(self.config_path)]

    def env(self, clock: str | None = None, extra_env: dict[str, str] | None = None) -> dict[str, str]:
        """The environment launchd would give, plus this day's alert sink and the simulator's virtual clock."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("ICBOT_")}
        env["ICBOT_NOTIFY_URLS"] = self.sink.url()
        if clock is not None:
            env["ICBOT_CLOCK"] = clock
        elif self.sim is not None:
            env.update(self.sim.env())
        env.update(extra_env or {})
        return env

    def store(self) -> Store:
        return Store.open(self.db_path, readonly=True)

    def read(self, fn: Callable[[Store], Any]) -> Any:
        store = self.store()
        try:
            return fn(store)
        finally:
            store.close()

    def trade(self) -> Trade | None:
        return self.read(lambda s: s.trade(self.session, self.mode))

    def events(self) -> list[Event]:
        return self.read(lambda s: s.events(self.session, self.mode))

    def orders(self) -> list[OrderRecord]:
        return self.read(lambda s: s.orders(self.session, self.mode))

    def phases(self, status: str = "ok") -> list[str]:
        return [e.phase for e in self.events() if e.status == status]

    def sim_orders(self) -> list[Any]:
        assert self.sim is not None
        return self.sim.sim.orders()

    def alerts_received(self) -> list[dict[str, Any]]:
        return self.sink.bodies()


@pytest.fixture
def sink() -> Iterator[Endpoint]:
    ep = Endpoint()
    yield ep
    ep.close()


@pytest.fixture
def make_day(
    tmp_path: Path, sink: Endpoint, seed_journal_folder: Callable[[Path], Path]
) -> Iterator[Callable[..., Day]]:
    """make_day(start="2026-11-24T09:31:00", speed=20, faults=[...], sim=True, mode="paper", **config_overrides).

    The day starts 60 virtual seconds (3 s real at x20) before the entry. run-today streams its band about 1 real
    second after it starts (its start-up, then the connection's burst, which ib_async's throttle lets through at
    once since the connection no longer fetches orders and executions). Under the whole suite on 2 cores that
    grows: in one run of 1,233 tests the slowest of the days starting at 09:31:00 had its band 17 virtual seconds
    (0.85 s real) before 09:32. Every real second is 20 virtual ones, and a day's timed faults (09:32:05, ...)
    assume the entry at 09:32:00."""
    sims: list[SimGateway] = []
    seed_journal_folder(tmp_path)

    def make(
        start: str = "2026-11-24T09:31:00",
        speed: float = 20.0,
        faults: list[str] | None = None,
        sim: bool = True,
        mode: str = "paper",
        sim_config: dict[str, Any] | None = None,
        **config_overrides: Any,
    ) -> Day:
        gw = None
        if sim:
            gw = start_sim(start=start, speed=speed, faults=faults or [], **(sim_config or {}))
            sims.append(gw)
        overrides = {k.replace("__", "."): v for k, v in config_overrides.items()}
        day = Day(tmp_path, gw, sink, date.fromisoformat(start[:10]), mode, overrides)
        day.write_config()
        return day

    yield make
    for gw in sims:
        gw.stop()
