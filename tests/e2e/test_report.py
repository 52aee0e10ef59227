"""`icbot report` over a journal that run-today and check wrote against the simulator — not rows made by hand — agrees
to the cent with the journal's trades and with the executions the (simulated) broker reported.

Two short sessions, one after the other into one journal (a simulator each): each trade closes by its time exit at
09:34, so one `check` after the entry settles it.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from icbot.clock import ny_datetime
from icbot.core.journal import Role
from icbot.core.refs import day_prefix, role_of
from icbot.runner.demo import check_until_closed
from icbot.sim.fills import FillParams
from icbot.sim.fixture import SimGateway, start_sim
from tests.e2e.conftest import Day
from tests.webhook import Endpoint

# Two whole days of real subprocesses (run-today, check, report): 12 s on an idle two-core machine, 28 s under
# load — more than the normal suite affords, so `make report-check` runs it (or ICBOT_REPORT_E2E=1 pytest …).
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("ICBOT_REPORT_E2E") != "1", reason="slow (12-30 s): make report-check runs it"),
]

FAST = 900.0
EXITS = {"exits__time_exit": "09:34", "exits__profit_target_pct": 90}  # out-of-reach target: the time exit closes
# The entry fills at its first rung: a run-today slowed by a loaded machine must not miss the 09:33 deadline.
EAGER = FillParams(p_mid=1.0, p_near=1.0)
START, SPEED = "09:31:45", 6.0  # 2.5 real seconds to 09:32, 12.5 to the deadline: room for a slow start-up


class SharedJournal(Day):
    """A second session whose config and work folder are its own but whose journal is the first day's."""

    def __init__(self, tmp: Path, sim: SimGateway, sink: Endpoint, session: date, journal: Path) -> None:
        super().__init__(tmp, sim, sink, session, "paper", {k.replace("__", "."): v for k, v in EXITS.items()})
        self.journal = journal

    @property
    def db_path(self) -> Path:
        return self.journal


def trade_the_day(day: Day, codes: list[int]) -> None:
    """run-today, then `check` every five virtual minutes on a fast clock until the day's trade is closed."""
    assert day.sim is not None
    entry = day.run("run-today")
    assert entry.returncode == 0, entry.stdout + entry.stderr
    fast = day.sim.set_speed(FAST)
    codes += check_until_closed(
        fast,
        run_check=lambda: day.run("check").returncode,
        is_open=lambda: getattr(day.trade(), "status", None) == "open",
        give_up=ny_datetime(day.session.isoformat(), "12:00"),
    )


def broker_legs(day: Day) -> dict[tuple[str, float, str], tuple[float, float, float]]:
    """(right, strike, entry|exit) → (quantity, quantity-weighted price, commission) from the simulator's leg
    executions of icbot's orders."""
    assert day.sim is not None
    sums: dict[tuple[str, float, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for x in day.sim.sim.executions():
        ref = x.order.req.order_ref
        if x.contract.sec_type != "OPT" or not ref.startswith(day_prefix(day.session, day.mode)) or not role_of(ref):
            continue
        role = "entry" if role_of(ref) is Role.ENTRY else "exit"
        s = sums[(x.contract.right, float(x.contract.strike), role)]
        s[0] += x.shares
        s[1] += x.price * x.shares
        s[2] += x.commission or 0.0
    return {k: (q, v / q, c) for k, (q, v, c) in sums.items()}


def test_report_agrees_with_the_journal_and_the_broker_to_the_cent(make_day, sink, tmp_path):
    # One day after the other, as on a real account: `check` reconciles every open trade of the journal against
    # the gateway it talks to, and each simulator knows only its own day (its clock starts when its day does).
    codes: list[int] = []
    first = make_day(start=f"2026-11-23T{START}", speed=SPEED, sim_config={"fill": EAGER}, **EXITS)
    trade_the_day(first, codes)
    gw = start_sim(start=f"2026-11-24T{START}", speed=SPEED, seed=11, fill=EAGER)
    try:
        (tmp_path / "second").mkdir()
        second = SharedJournal(tmp_path / "second", gw, sink, date(2026, 11, 24), first.db_path)
        second.write_config()
        trade_the_day(second, codes)
        days = (first, second)
        assert set(codes) == {0}, codes
        trades = [d.trade() for d in days]
        assert all(t is not None and t.status == "closed" and t.pnl is not None for t in trades), [
            (t.trade_date, t.status, t.exit_reason, t.pnl, t.last_problem) if t else None for t in trades
        ]

        report = first.run("report", "--json")
        assert report.returncode == 0, report.stdout + report.stderr
        data = json.loads(report.stdout)
        assert data["mode"] == "paper" and data["trades"] == 2
        assert data["total_pnl"] == pytest.approx(sum(t.pnl for t in trades), abs=0.005)
        assert data["exit_reasons"]["time_exit"]["count"] == 2
        by_day = {row["trade_date"]: row for row in data["trade_log"]}
        assert sorted(by_day) == ["2026-11-23", "2026-11-24"]

        for day, trade in zip(days, trades, strict=True):
            row = by_day[day.session.isoformat()]
            legs = broker_legs(day)
            # the broker's executions give the same credit, debit, commissions and P/L as the report, to the cent
            shorts = {("P", trade.short_put), ("C", trade.short_call)}

            def net(role: str, legs=legs, shorts=shorts) -> float:
                """Money of the short legs minus the long legs' (a credit at the entry, a debit at the exit)."""
                return sum(
                    (1 if (r, s) in shorts else -1) * p * q for (r, s, w), (q, p, _) in legs.items() if w == role
                )

            credit, debit = net("entry"), net("exit")
            commissions = sum(c for (_, _, _), (_, _, c) in legs.items())
            contracts = trade.quantity
            assert row["credit"] == pytest.approx(credit / contracts, abs=0.005) == pytest.approx(trade.credit)
            assert row["exit_debit"] == pytest.approx(debit / contracts, abs=0.005)
            assert row["commissions"] == pytest.approx(commissions, abs=0.005)
            assert row["pnl"] == pytest.approx((credit - debit) * 100 - commissions, abs=0.005)
            assert row["pnl"] == pytest.approx(trade.pnl, abs=0.005)
            assert row["premium"] == pytest.approx(trade.credit * 100 * contracts, abs=0.005)
            # and each leg's prices and commissions in the report are the broker's
            for name, right, strike in (
                ("long_put", "P", trade.long_put),
                ("short_put", "P", trade.short_put),
                ("short_call", "C", trade.short_call),
                ("long_call", "C", trade.long_call),
            ):
                _, price, commission = legs[(right, strike, "entry")]
                assert row[f"{name}_open_price"] == pytest.approx(price, abs=0.005)
                assert row[f"{name}_open_commission"] == pytest.approx(commission, abs=0.005)
                _, price, commission = legs[(right, strike, "exit")]
                assert row[f"{name}_close_price"] == pytest.approx(price, abs=0.005)
                assert row[f"{name}_close_commission"] == pytest.approx(commission, abs=0.005)

        table = first.run("report", "--csv", "-")
        assert table.returncode == 0, table.stderr
        rows = list(csv.DictReader(io.StringIO(table.stdout)))
        assert [r["trade_date"] for r in rows] == ["2026-11-23", "2026-11-24"]
        assert [float(r["pnl"]) for r in rows] == [by_day[r["trade_date"]]["pnl"] for r in rows]
        shown = first.run("report")
        assert shown.returncode == 0 and "2026-11-23" in shown.stdout and "2026-11-24" in shown.stdout
        assert f"{data['total_pnl']:+,.2f}".replace("+", "+$").replace("-", "-$") in shown.stdout
    finally:
        gw.stop()
