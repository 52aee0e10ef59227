"""Small helpers for broker tests against the simulated gateway (real sockets, real ib_async)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import yaml

from icbot.broker.gateway import Gateway
from icbot.broker.types import ComboLeg, ComboOrder
from icbot.sim.fixture import SimGateway

T = TypeVar("T")
PREFIX = "icbot:2026-11-24:paper:"


@dataclass(frozen=True)
class Cfg:
    host: str
    port: int
    client_id: int = 31
    account: str = ""


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def connect(
    sim: SimGateway, *, mode: str = "paper", client_id: int = 31, account: str = "", **kw: Any
) -> Gateway:
    return await Gateway.connect(
        Cfg(sim.host, sim.port, client_id, account),
        clock=sim.clock,
        deadline=sim.clock.now() + timedelta(seconds=60),
        mode=mode,
        **kw,
    )


def session_date(sim: SimGateway) -> date:
    return sim.clock.now_ny().date()


async def condor_legs(gw: Gateway, day: date, *, distance: float = 60.0, wing: float = 20.0) -> tuple[ComboLeg, ...]:
    """An iron condor around SPX: shorts `distance` points out, longs `wing` beyond (5-point strikes)."""
    spx = await gw.spx_price()
    assert spx is not None
    sp = round((spx - distance) / 5) * 5.0
    sc = round((spx + distance) / 5) * 5.0
    lp, sc_, lc = sp - wing, sc, sc + wing
    q = [await gw.qualify_option(day, r, k) for r, k in (("P", lp), ("P", sp), ("C", sc_), ("C", lc))]
    return (q[0].leg("BUY"), q[1].leg("SELL"), q[2].leg("SELL"), q[3].leg("BUY"))


def entry(legs: tuple[ComboLeg, ...], limit: float, role: str = "entry", qty: int = 1) -> ComboOrder:
    return ComboOrder(legs, "BUY", qty, "LMT", PREFIX + role, limit_price=limit)


def write_sim_config(folder: Path, sim: SimGateway, *, mode: str = "paper", **overrides: Any) -> Path:
    """A config.yaml in `folder` pointing at `sim` (client id 31) and a journal beside it.

    `overrides` are `section__key=value`, e.g. `size__contracts=2`.
    """
    cfg: dict[str, Any] = {
        "mode": mode,
        "gateway": {"host": sim.host, "port": sim.port, "client_id": 31},
        "storage": {"db": str(folder / "icbot.db")},
    }
    for key, value in overrides.items():
        section, _, name = key.partition("__")
        cfg.setdefault(section, {})[name] = value
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path
