"""`icbot check` closing a trade from its journaled leg executions, through a real SQLite journal: the facts
read back from the store (`day_facts`), the pure decision (`assess` → `settle`), and `apply` writing it.

What only the store can show: a commission report that arrives after its execution (`set_commission`) is what
the next check settles with, and the trade row, events and alerts hold what the actions said. The decisions
themselves are table-tested in tests/core/test_settlement.py. No gateway: the executions are written the way
`record_executions` writes them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from icbot.clock import Clock, ny_datetime
from icbot.config import load_config
from icbot.core import refs
from icbot.core.journal import AlertLevel, EventStatus, ExitReason, Phase, Role, TradeStatus
from icbot.core.reconcile import Actor, assess
from icbot.errors import EXIT_OK
from icbot.notify import Notifier
from icbot.runner.apply import apply
from icbot.runner.context import RunContext
from icbot.runner.gather import day_facts
from icbot.store.repo import Store

DAY = date(2026, 11, 24)
ENTRY = (("BOT", 0.40), ("SLD", 1.60), ("SLD", 1.50), ("BOT", 0.35))  # credit 2.35
EXIT = (("SLD", 0.10), ("BOT", 0.60), ("BOT", 0.70), ("SLD", 0.05))  # debit 1.15


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
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
    role: Role,
    legs: tuple[tuple[str, float], ...],
    at: str,
    *,
    n: int,
    commission: float | None = 1.05,
    late_leg: int | None = None,
) -> None:
    """Journal one order's four leg executions; `late_leg`'s commission report has not arrived."""
    for i, (side, price) in enumerate(legs):
        store.record_fill(
            exec_id=exec_id(n, i),
            order_ref=refs.order_ref(DAY, "paper", role, installation=""),
            order_id=10 + n,
            perm_id=1000 + n,
            trade_date=DAY,
            mode="paper",
            con_id=500 + i,
            local_symbol=f"LEG{i}",
            right="P" if i < 2 else "C",
            strike=6000.0 + i * 20,
            side=side,
            quantity=1.0,
            price=price,
            at=ny_datetime(DAY.isoformat(), at),
            role=role,
            commission=None if i == late_leg else commission,
        )


def open_trade(store: Store) -> None:
    at = ny_datetime(DAY.isoformat(), "09:32")
    store.save_trade(DAY, "paper", at, status="open", quantity=1, credit=2.35, entry_filled_at=at)


def run_check(ctx: RunContext) -> int:
    """What `check` does for the day once the broker's facts are in the journal: assess, apply, deliver."""

    async def go() -> int:
        trade = ctx.trade()
        assert trade is not None
        facts = day_facts(ctx, trade, orders=[], positions=None)
        code = await apply(ctx, None, assess(facts, session=None, now=ctx.now(), actor=Actor.CHECK))
        await ctx.flush_alerts()
        return code

    return asyncio.run(go())


def test_a_commission_reported_late_is_settled_by_the_next_check(store, tmp_path):
    open_trade(store)
    record(store, Role.ENTRY, ENTRY, "09:32", n=1)
    record(store, Role.TAKE_PROFIT, EXIT, "10:15", n=2, late_leg=1)
    assert run_check(make_ctx(store, tmp_path, "10:16")) == EXIT_OK
    assert store.trade(DAY, "paper").status is TradeStatus.OPEN
    [waiting] = [e for e in store.events(DAY, "paper") if e.phase == Phase.RECONCILE]
    assert waiting.status is EventStatus.INFO and "waiting for IB's commission on 1 execution(s)" in waiting.message

    assert store.set_commission(exec_id(2, 1), 1.05)  # the report arrives; the next check closes with it
    assert run_check(make_ctx(store, tmp_path, "10:20")) == EXIT_OK
    closed = store.trade(DAY, "paper")
    assert closed.status is TradeStatus.CLOSED and closed.exit_reason is ExitReason.TAKE_PROFIT
    assert closed.pnl == pytest.approx((2.35 - 1.15) * 100 - 8 * 1.05)
    assert closed.exit_debit == pytest.approx(1.15)
    assert closed.exit_commission == pytest.approx(4.2) and closed.entry_commission == pytest.approx(4.2)
    assert closed.exited_at == ny_datetime(DAY.isoformat(), "10:15") and closed.minutes_in_trade == 43.0
    [alert] = store.alerts()
    assert (alert.level, alert.title) == (AlertLevel.INFO, "icbot 2026-11-24: closed by take_profit")


def test_a_commission_ib_never_reports_is_journaled_as_a_warning_after_the_grace(store, tmp_path):
    open_trade(store)
    record(store, Role.ENTRY, ENTRY, "09:32", n=1)
    record(store, Role.TAKE_PROFIT, EXIT, "10:15", n=2, commission=None)
    assert run_check(make_ctx(store, tmp_path, "10:31")) == EXIT_OK
    closed = store.trade(DAY, "paper")
    assert closed.status is TradeStatus.CLOSED
    assert closed.pnl == pytest.approx((2.35 - 1.15) * 100 - 4 * 1.05)
    warn = [e for e in store.events(DAY, "paper") if e.status is EventStatus.WARN]
    assert any("never reported the commission of 4 execution(s)" in e.message for e in warn)
