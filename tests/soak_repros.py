"""Deterministic reproductions of what `make soak` found (tests/soak.py), without the soak's randomness.

    python -m tests.soak_repros kill-race          # icbot kill's cancel loses the race to a fill
    python -m tests.soak_repros kill-other         # icbot kill on an installation with no trade
    python -m tests.soak_repros read-only-partial  # a check takes away an exit it cannot replace (read-only API)

Each scenario runs the real console script against the in-process simulator (loopback only, ~15 s), prints the
broker's side, and exits 1 while the problem is there (0 once it is fixed).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import yaml

from icbot.sim.fixture import SimGateway, start_sim
from icbot.store.repo import Store

ICBOT = str(Path(sys.executable).parent / "icbot")
DAY = date(2026, 11, 24)


def install(gw: SimGateway, folder: Path, client_id: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cfg = {
        "mode": "paper",
        "gateway": {"host": "127.0.0.1", "port": gw.port, "client_id": client_id},
        "storage": {"db": str(folder / "icbot.db")},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def icbot(gw: SimGateway, config: Path, *args: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICBOT_")}
    env.update(gw.env())
    r = subprocess.run([ICBOT, *args, "--config", str(config)], env=env, capture_output=True, text=True, timeout=120)
    print(f"$ icbot {' '.join(args)}   ({config.parent.name}) → exit {r.returncode}")
    for line in r.stdout.splitlines()[-8:]:
        print(f"    {line}")
    return r.returncode


def held(gw: SimGateway) -> dict[str, float]:
    return {p.local_symbol: p.qty for p in gw.sim.positions().values() if p.qty}


def working_exits(gw: SimGateway) -> list[str]:
    return [
        f"{o.req.order_ref} {o.status}"
        for o in gw.sim.orders()
        if o.req.order_ref.startswith("icbot:") and o.transmitted and o.status not in ("Filled", "Cancelled")
    ]


def broker_pnl(gw: SimGateway) -> float:
    legs = [x for x in gw.sim.executions() if x.contract.sec_type == "OPT"]
    cash = sum(x.price * x.shares * (1 if x.side == "SLD" else -1) for x in legs) * 100
    return round(cash - sum(x.commission or 0.0 for x in legs), 2)


def kill_race(tmp: Path) -> bool:
    """The kill's first cancel (the take profit) arrives just after that exit traded (the `fill-on-cancel` fault,
    what live trading does when a fill and a cancel cross). Returns True while the problem is there."""
    gw = start_sim(start=f"{DAY}T09:31:00", speed=20)
    try:
        cfg = install(gw, tmp / "a", 31)
        icbot(gw, cfg, "run-today")
        print(f"  held before the kill: {held(gw)}")
        gw.sim.fault("fill-on-cancel")
        icbot(gw, cfg, "kill", "--yes")
        after_kill = held(gw)
        print(f"  held after the kill: {after_kill}")
        gw.set_speed(300)
        code = icbot(gw, cfg, "check")
        print(f"  held after check (exit {code}): {held(gw)}; working icbot orders: {working_exits(gw)}")
        with Store.open(tmp / "a" / "icbot.db", readonly=True) as store:
            trade = store.trade(DAY, "paper")
        assert trade is not None
        print(f"  journal: {trade.status} by {trade.exit_reason}, P/L {trade.pnl}; broker P/L {broker_pnl(gw)}")
        return bool(after_kill) or (code == 0 and bool(held(gw)))
    finally:
        gw.stop()


def kill_other(tmp: Path) -> bool:
    """Installation B trades; `icbot kill --yes` is fired on installation A (its own journal, no trade today)."""
    gw = start_sim(start=f"{DAY}T09:31:00", speed=20)
    try:
        a, b = install(gw, tmp / "a", 31), install(gw, tmp / "b", 41)
        icbot(gw, b, "run-today")
        print(f"  held: {held(gw)}; working: {working_exits(gw)}")
        code = icbot(gw, a, "kill", "--yes")
        left, exits = held(gw), working_exits(gw)
        print(f"  after A's kill (exit {code}): held {left}; working icbot orders: {exits or 'none'}")
        return bool(left) and not exits and code == 0
    finally:
        gw.stop()


def read_only_partial(tmp: Path) -> bool:
    """Two lots; the API turns read-only after the exits are placed; the take profit fills one lot (ocaType 1
    cancels the stop and the time exit). Does a check take away the surviving take profit although it cannot place
    the replacement set? The partial fill is the simulator's (seed 41), so this shows it most runs, not all."""
    gw = start_sim(start="2026-03-30T09:31:00", speed=20, seed=41, faults=["read-only@09:33:13"])
    try:
        cfg = install(gw, tmp / "a", 31)
        text = yaml.safe_load(cfg.read_text())
        text["size"] = {"mode": "fixed", "contracts": 2, "max_contracts": 2}
        cfg.write_text(yaml.safe_dump(text), encoding="utf-8")
        icbot(gw, cfg, "run-today")
        fast = gw.set_speed(300)
        while fast.now_ny().strftime("%H:%M") < "11:45":
            icbot(gw, cfg, "check")
            fast.sleep(300)
        tp = [o for o in gw.sim.orders() if ":take_profit" in o.req.order_ref]
        print(f"  take profits: {[(o.req.order_ref, o.status, o.filled) for o in tp]}; held {held(gw)}")
        return any(o.status == "Cancelled" and 0 < o.filled < o.req.total_qty for o in tp) and bool(held(gw))
    finally:
        gw.stop()


SCENARIOS = {"kill-race": kill_race, "kill-other": kill_other, "read-only-partial": read_only_partial}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak_repros", description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="icbot-repro-") as tmp:
        bad = SCENARIOS[args.scenario](Path(tmp))
    print("REPRODUCED" if bad else "not reproduced (fixed?)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
