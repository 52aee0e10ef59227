"""`icbot check` closing a trade from its journaled leg executions: the P/L is final only with every commission,
never invented from a missing credit, and a close by two different orders is journaled, not a crash.

Real SQLite, no gateway: the executions are written the way `record_executions` writes them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from icbot.clock import Clock, ny_datetime
from icbot.config import load_config
from icbot.notify import Notifier
from icbot.runner import check, refs, settle
from icbot.runner.context import RunContext
from icbot.store.repo import Store

DAY = date(2026, 11, 24)
# Leg prices of the entry (long put, short put, short call, long call) and of the exit that sells the BAG back.
ENTRY = (("BOT", 0.40), ("SLD", 1.60), ("SLD", 1.50), ("BOT", 0.35))  # credit 2.35
EXIT = (("SLD", 0.10), ("BOT", 0.60), ("BOT", 0.70), ("SLD", 0.05))  # debit 1.15


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store.open(tmp_path / "icbot.db")
    yield s
    s.close()


def make_ctx(store: Store, tmp_path: Path, at: str) -> RunContext:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"mode: paper\nstorage: {{db: {tmp_path / 'icbot.db'}}}\n", encoding="utf-8")
    clock = Clock.virtual(ny_datetime(DAY.isoformat(), at), 0.0)
    return RunContext(load_config(cfg, {}), clock, store, Notifier([], store=store, clock=clock), DAY, "check")


def exec_id(n: int, leg: int) -> str:
    return f"0000a1b2.{n:08x}.{leg + 2:02d}.01"


def record(
    store: Store,
    role: str,
    legs: tuple[tuple[str, float], ...],
    at: str,
    *,
    n: int,
    qty: float = 1.0,
    commission: float | None = 1.05,
    late_leg: int | None = None,
) -> None:
    """Journal one order's four leg executions; `late_leg`'s commission report has not arrived."""
    for i, (side, price) in enumerate(legs):
        store.record_fill(
            exec_id=exec_id(n, i),
            order_ref=refs.order_ref(DAY, "paper", role),
            order_id=10 + n,
            perm_id=1000 + n,
            trade_date=DAY,
            mode="paper",
            con_id=500 + i,
            local_symbol=f"LEG{i}",
            right="P" if i < 2 else "C",
            strike=6000.0 + i * 20,
            side=side,
            quantity=qty,
            price=price,
            at=ny_datetime(DAY.isoformat(), at),
            role=role,
            commission=None if i == late_leg else commission,
        )


def open_trade(store: Store, *, quantity: int = 1, credit: float | None = 2.35) -> dict[str, Any]:
    return store.save_trade(
        DAY,
        "paper",
        ny_datetime(DAY.isoformat(), "09:32"),
        status="open",
        quantity=quantity,
        credit=credit,
        entry_filled_at=ny_datetime(DAY.isoformat(), "09:32").isoformat(),
    )


def exit_fills(store: Store) -> list[dict[str, Any]]:
    return [f for f in store.fills(DAY, "paper") if f["role"] in settle.REASON_BY_ROLE]


def test_the_pnl_waits_for_a_commission_ib_has_not_reported_yet(store, tmp_path):
    trade = open_trade(store)
    record(store, refs.ENTRY, ENTRY, "09:32", n=1)
    record(store, refs.TAKE_PROFIT, EXIT, "10:15", n=2, late_leg=1)
    assert settle.settle_trade(make_ctx(store, tmp_path, "10:16"), trade, exit_fills(store)) is False
    assert store.trade(DAY, "paper")["status"] == "open"

    store.set_commission(exec_id(2, 1), 1.05)  # the report arrives; the next check closes with it
    assert settle.settle_trade(make_ctx(store, tmp_path, "10:20"), trade, exit_fills(store)) is True
    closed = store.trade(DAY, "paper")
    assert closed["status"] == "closed" and closed["exit_reason"] == "take_profit"
    assert closed["pnl"] == pytest.approx((2.35 - 1.15) * 100 - 8 * 1.05)


def test_a_commission_ib_never_reports_is_named_and_left_out_after_the_grace(store, tmp_path):
    trade = open_trade(store)
    record(store, refs.ENTRY, ENTRY, "09:32", n=1)
    record(store, refs.TAKE_PROFIT, EXIT, "10:15", n=2, commission=None)
    assert timedelta(minutes=15) >= settle.COMMISSION_GRACE
    assert settle.settle_trade(make_ctx(store, tmp_path, "10:31"), trade, exit_fills(store)) is True
    closed = store.trade(DAY, "paper")
    assert closed["pnl"] == pytest.approx((2.35 - 1.15) * 100 - 4 * 1.05)
    warn = [e for e in store.events(DAY, "paper") if e["status"] == "warn"]
    assert any("never reported the commission of 4 execution(s)" in e["message"] for e in warn)


def test_without_the_entrys_executions_the_pnl_is_unknown_not_a_number_from_a_zero_credit(store, tmp_path):
    trade = open_trade(store, credit=None)
    record(store, refs.TAKE_PROFIT, EXIT, "10:15", n=2)
    assert settle.settle_trade(make_ctx(store, tmp_path, "10:20"), trade, exit_fills(store)) is True
    closed = store.trade(DAY, "paper")
    assert closed["status"] == "closed" and closed["pnl"] is None
    assert closed["exit_debit"] == pytest.approx(1.15)


def test_two_contracts_closed_by_two_different_orders_is_journaled_with_one_reason(store, tmp_path):
    trade = open_trade(store, quantity=2)
    record(store, refs.ENTRY, ENTRY, "09:32", n=1, qty=2.0)
    record(store, refs.TAKE_PROFIT, EXIT, "10:15", n=2)  # one condor at the target ...
    record(store, refs.CLOSE, EXIT, "10:40", n=3)  # ... the other closed by `icbot kill`
    assert settle.settle_trade(make_ctx(store, tmp_path, "10:45"), trade, exit_fills(store)) is True
    closed = store.trade(DAY, "paper")
    assert closed["status"] == "closed" and closed["exit_reason"] == "take_profit"  # the first, on a tie
    assert closed["pnl"] == pytest.approx((2.35 - 1.15) * 100 * 2 - 12 * 1.05)
    [event] = [e for e in store.events(DAY, "paper") if e["phase"] == "closed"]
    assert "take_profit 1, manual 1" in event["message"]


def test_the_grace_applies_to_today_only(store, tmp_path):
    trade = open_trade(store)
    record(store, refs.ENTRY, ENTRY, "09:32", n=1)
    record(store, refs.TAKE_PROFIT, EXIT, "10:15", n=2, commission=None)
    ctx = make_ctx(store, tmp_path, "10:16")
    next_day = RunContext(
        ctx.config,
        Clock.virtual(datetime.fromisoformat("2026-11-25T09:40:00-05:00"), 0.0),
        store,
        ctx.notifier,
        DAY,
        "check",
    )
    assert settle.settle_trade(next_day, trade, exit_fills(store)) is True


def test_an_experiment_minute_without_a_bar_for_every_leg_is_not_a_price():
    t0 = ny_datetime(DAY.isoformat(), "10:00")
    t1 = t0 + timedelta(minutes=1)
    bars = [  # (action, [(time, open, high, low, close)]): the long call has no bar at 10:01
        ("BUY", [(t0, 0, 0, 0, 0.40), (t1, 0, 0, 0, 0.40)]),
        ("SELL", [(t0, 0, 0, 0, 1.60), (t1, 0, 0, 0, 1.70)]),
        ("SELL", [(t0, 0, 0, 0, 1.50), (t1, 0, 0, 0, 1.40)]),
        ("BUY", [(t0, 0, 0, 0, 0.35)]),
    ]
    # Without the long call, 10:01 would read 2.70: a debit of more than the real 2.35, a stop that never was.
    assert check.closing_debits(bars) == {t0: pytest.approx(2.35)}
