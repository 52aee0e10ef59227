"""The Store API the runner calls: runs, events, trades, orders, status history, fills, alerts, halts."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from icbot.core.journal import (
    AlertLevel,
    ComboLeg,
    EventStatus,
    HaltAction,
    Mode,
    OrderStatus,
    Phase,
    Role,
    TradeStatus,
)
from icbot.errors import StoreError
from icbot.store import Store

DAY = date(2026, 11, 24)
T0 = datetime(2026, 11, 24, 14, 32, tzinfo=UTC)
LEGS = (
    ComboLeg(1, "BUY", "P", 5880.0, "SPXW  261124P05880000"),
    ComboLeg(2, "SELL", "P", 5900.0, "SPXW  261124P05900000"),
    ComboLeg(3, "SELL", "C", 6100.0, "SPXW  261124C06100000"),
    ComboLeg(4, "BUY", "C", 6120.0, "SPXW  261124C06120000"),
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "icbot.db")
    yield s
    s.close()


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def entry_intent(store: Store, ref: str = "icbot-20261124-paper-entry", **kw) -> bool:
    args = dict(
        trade_date=DAY,
        mode="paper",
        role="entry",
        order_ref=ref,
        action="BUY",
        order_type="LMT",
        quantity=1,
        legs=LEGS,
        at=t(0),
        limit_price=-2.35,
    )
    args.update(kw)
    return store.record_intent(**args)


def test_a_run_is_started_and_finished(store: Store):
    run = store.start_run(command="run-today", mode="paper", trade_date=DAY, at=t(0), argv=["run-today", "--json"])
    store.finish_run(run, exit_code=0, at=t(90), summary="filled 2.35")
    [row] = store.runs()
    assert row.id == run and row.exit_code == 0 and row.summary == "filled 2.35"
    assert row.argv == ("run-today", "--json")
    assert row.trade_date == DAY and row.command == "run-today" and row.mode == "paper"
    assert row.started_at == T0 and row.finished_at == t(90)
    assert row.pid > 0 and row.host and row.version
    assert store.db.execute("SELECT started_at, finished_at FROM runs").fetchone() == (
        "2026-11-24T14:32:00.000000+00:00",
        "2026-11-24T14:33:30.000000+00:00",
    )
    with pytest.raises(StoreError, match="run 999"):
        store.finish_run(999, exit_code=1, at=t(1))


def test_times_are_stored_as_utc_whatever_zone_they_come_in(store: Store):
    eastern = T0.astimezone(timezone(timedelta(hours=-5)))
    store.event(None, trade_date=DAY, mode="paper", phase="select", status="ok", message="", at=eastern)
    assert store.events(DAY, "paper")[0].at == T0
    assert store.db.execute("SELECT at FROM events").fetchone()[0] == "2026-11-24T14:32:00.000000+00:00"


def test_naive_datetimes_and_datetime_trade_dates_are_refused(store: Store):
    with pytest.raises(ValueError, match="naive"):
        store.halt("x", at=datetime(2026, 11, 24, 9, 32))
    with pytest.raises(TypeError, match="trade_date"):
        store.trade(T0, "paper")  # a datetime is a date subclass; refuse it so no time leaks into the key
    assert store.halts() == []


def test_events_keep_order_phase_status_and_data(store: Store):
    run = store.start_run(command="run-today", mode="paper", trade_date=DAY, at=t(0), argv=[])
    steps = [(Phase.CONNECT, EventStatus.START), (Phase.CONNECT, "ok"), ("select", EventStatus.OK)]
    for i, (phase, status) in enumerate(steps):
        store.event(run, trade_date=DAY, mode="paper", phase=phase, status=status, message=f"m{i}", at=t(i))
    store.event(
        run,
        trade_date=DAY,
        mode="paper",
        phase="select",
        status="info",
        message="",
        at=t(9),
        data={"put": 5900.0, "when": T0, "qty": Decimal("1")},
    )
    store.event(run, trade_date=DAY, mode="experiment", phase="select", status="ok", message="", at=t(9))
    evs = store.events(DAY, "paper")
    assert [(e.phase, e.status) for e in evs] == [
        ("connect", "start"),
        ("connect", "ok"),
        ("select", "ok"),
        ("select", "info"),
    ]
    assert evs[-1].data == {"put": 5900.0, "when": "2026-11-24T14:32:00.000000+00:00", "qty": 1.0}
    assert evs[0].data is None
    assert evs[0].status is EventStatus.START and evs[0].run_id == run and evs[0].message == "m0"
    with pytest.raises(ValueError, match="status 'done'"):
        store.event(run, trade_date=DAY, mode="paper", phase="x", status="done", message="", at=t(1))


def test_save_trade_upserts_one_row_per_day_and_mode(store: Store):
    assert store.trade(DAY, "paper") is None
    row = store.save_trade(DAY, "paper", t(0), status=TradeStatus.PENDING, short_put=5900, put_delta=14.8)
    assert row.status is TradeStatus.PENDING and row.short_put == 5900.0 and row.experiment is False
    row = store.save_trade(
        DAY, "paper", t(5), status="open", credit=2.3499999999999996, quantity=1.0, entry_filled_at=t(4)
    )
    assert row.short_put == 5900.0, "a partial update keeps the other columns"
    assert row.credit == 2.35 and row.quantity == 1 and isinstance(row.quantity, int)
    assert row.entry_filled_at == t(4) and row.created_at == t(0) and row.updated_at == t(5)
    assert store.db.execute("SELECT entry_filled_at, created_at, updated_at FROM trades").fetchone() == (
        "2026-11-24T14:32:04.000000+00:00",
        "2026-11-24T14:32:00.000000+00:00",
        "2026-11-24T14:32:05.000000+00:00",
    )
    assert row.is_open and row.open_quantity == 1
    exp = store.save_trade(DAY, "experiment", t(0), status="open")
    assert exp.experiment is True
    assert [(r.trade_date, r.mode) for r in store.trades()] == [
        (DAY, Mode.EXPERIMENT),
        (DAY, Mode.PAPER),
    ]
    assert [r.mode for r in store.trades("paper")] == ["paper"]
    assert store.db["trades"].count == 2


def test_save_trade_rejects_unknown_columns_and_bad_values(store: Store):
    with pytest.raises(ValueError, match="crdit"):
        store.save_trade(DAY, "paper", t(0), crdit=2.0)
    with pytest.raises(ValueError, match="created_at"):
        store.save_trade(DAY, "paper", t(0), created_at=t(0))
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        store.save_trade(DAY, "paper", t(0), status="filled")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        store.save_trade(DAY, "paper", t(0), exit_reason="panic")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        store.save_trade(DAY, "backtest", t(0))
    assert store.save_trade(DAY, "experiment", t(0), exit_reason="experiment_stop").exit_reason == "experiment_stop"
    assert store.trade(DAY, "paper") is None, "a refused write leaves nothing behind"


def test_open_trades_spans_dates_in_order(store: Store):
    store.save_trade(date(2026, 11, 25), "paper", t(0), status="open")
    store.save_trade(date(2026, 11, 23), "paper", t(0), status="open")
    store.save_trade(DAY, "paper", t(0), status="closed")
    store.save_trade(DAY, "live", t(0), status="open")
    assert [r.trade_date for r in store.open_trades("paper")] == [date(2026, 11, 23), date(2026, 11, 25)]


def test_intent_is_idempotent_and_an_order_ref_cannot_be_reused(store: Store):
    assert entry_intent(store) is True
    assert entry_intent(store) is False
    assert store.db["orders"].count == 1
    with pytest.raises(StoreError, match="reuse"):
        entry_intent(store, role="stop", action="SELL")
    order = store.order("icbot-20261124-paper-entry")
    assert order is not None
    assert order.status is OrderStatus.INTENT and order.order_id is None and order.placed_at is None
    assert order.legs == tuple(replace(leg, local_symbol="") for leg in LEGS), "the journal keeps no local symbol"
    assert order.transmitted is True and order.limit_price == -2.35 and order.role is Role.ENTRY
    assert json.loads(store.db.execute("SELECT legs FROM orders").fetchone()[0])[0] == {
        "action": "BUY",
        "con_id": 1,
        "right": "P",
        "strike": 5880.0,
    }


def test_order_lifecycle_history_is_append_only_and_deduplicated(store: Store):
    ref = "icbot-20261124-paper-entry"
    entry_intent(store, ref)
    store.record_placed(ref, order_id=17, perm_id=None, at=t(0.05))
    store.update_order_prices(ref, limit_price=-2.30, at=t(5))
    store.update_order_prices(ref, limit_price=-2.25, at=t(10))
    assert (
        store.record_order_status(
            ref, status=OrderStatus.SUBMITTED, filled=0, remaining=1, avg_fill_price=None, at=t(0.1), perm_id=99001
        )
        is True
    )
    assert (
        store.record_order_status(ref, status="Submitted", filled=0, remaining=1, avg_fill_price=None, at=t(0.2))
        is False
    )
    assert (
        store.record_order_status(
            ref, status="Filled", filled=Decimal("1"), remaining=0, avg_fill_price=-2.25, at=t(11)
        )
        is True
    )
    order = store.order(ref)
    assert order is not None
    assert (order.status, order.filled, order.avg_fill_price) == (OrderStatus.FILLED, 1.0, -2.25)
    assert (order.order_id, order.perm_id, order.limit_price) == (17, 99001, -2.25)
    assert order.placed_at == t(0.05) and order.acknowledged_once
    history = store.order_history(ref)
    assert [h.status for h in history] == ["intent", "placed", "Submitted", "Filled"]
    assert history[-1].at == t(11) and history[-1].avg_fill_price == -2.25 and history[1].message == "orderId 17"
    assert [p.limit_price for p in store.price_history(ref)] == [-2.3, -2.25]
    # a late duplicate placement report keeps the first placement time and does not add history
    store.record_placed(ref, order_id=17, perm_id=99001, at=t(20))
    assert store.order(ref).placed_at == t(0.05)  # type: ignore[union-attr]
    assert len(store.order_history(ref)) == 4
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.db.execute("UPDATE order_status SET status = 'Cancelled'")


def test_status_for_an_unknown_order_is_refused(store: Store):
    for call in (
        lambda: store.record_placed("nope", order_id=1, perm_id=None, at=t(0)),
        lambda: store.record_order_status(
            "nope", status="Submitted", filled=0, remaining=1, avg_fill_price=None, at=t(0)
        ),
        lambda: store.update_order_prices("nope", limit_price=1.0, at=t(0)),
    ):
        with pytest.raises(StoreError, match="record_intent comes first"):
            call()


def test_orders_of_a_day_in_placement_order_with_experiment_flag(store: Store):
    entry_intent(store)
    for i, role in enumerate((Role.TAKE_PROFIT, Role.STOP, Role.TIME_EXIT)):
        store.record_intent(
            trade_date=DAY,
            mode="paper",
            role=role,
            order_ref=f"x-{role}",
            action="SELL",
            order_type=("LMT", "STP", "MKT")[i],
            quantity=1,
            legs=LEGS,
            at=t(20 + i),
            limit_price=-1.76 if role == "take_profit" else None,
            aux_price=-7.05 if role == "stop" else None,
            trigger_method=8 if role == "stop" else None,
            good_after="20261124 11:30:00 America/New_York" if role == "time_exit" else None,
            oca_group="icbot-20261124-paper-oca",
            transmitted=False,
        )
    rows = store.orders(DAY, "paper")
    assert [r.role for r in rows] == [Role.ENTRY, Role.TAKE_PROFIT, Role.STOP, Role.TIME_EXIT]
    assert {r.oca_group for r in rows[1:]} == {"icbot-20261124-paper-oca"}
    assert rows[2].trigger_method == 8 and rows[2].aux_price == -7.05
    assert rows[3].good_after == "20261124 11:30:00 America/New_York"
    assert [r.transmitted for r in rows] == [True, False, False, False]
    assert store.orders(DAY, "live") == []


def fill(store: Store, exec_id: str, **kw) -> bool:
    args = dict(
        exec_id=exec_id,
        order_ref="icbot-20261124-paper-entry",
        order_id=17,
        perm_id=99001,
        trade_date=DAY,
        mode="paper",
        con_id=2,
        local_symbol="SPXW  261124P05900000",
        right="P",
        strike=5900.0,
        side="SLD",
        quantity=1,
        price=3.1,
        at=t(11),
        role=Role.ENTRY,
    )
    args.update(kw)
    return store.record_fill(**args)


def test_a_corrected_execution_is_kept_but_only_its_latest_revision_stands(store: Store):
    assert fill(store, "0000e0d5.6543.01.01") is True
    assert fill(store, "0000e0d5.6544.01.01", con_id=1, right="P", strike=5880.0, side="BOT", price=2.0) is True
    assert fill(store, "0000e0d5.6543.01.02", price=3.05) is True  # IB's correction of the first
    standing = store.fills(DAY, "paper")
    assert [(r.exec_id, r.price) for r in standing] == [
        ("0000e0d5.6543.01.02", 3.05),
        ("0000e0d5.6544.01.01", 2.0),
    ]
    journal = store.fills(DAY, "paper", superseded=True)
    assert [r.exec_id for r in journal] == ["0000e0d5.6543.01.01", "0000e0d5.6544.01.01", "0000e0d5.6543.01.02"]


def test_fills_dedupe_by_exec_id(store: Store):
    assert fill(store, "0000e0d5.6543.01.01") is True
    assert fill(store, "0000e0d5.6543.01.01", price=9.99) is False
    assert fill(store, "0000e0d5.6544.01.01", con_id=1, right="P", strike=5880.0, side="BOT", price=2.0) is True
    rows = store.fills(DAY, "paper")
    assert [r.exec_id for r in rows] == ["0000e0d5.6543.01.01", "0000e0d5.6544.01.01"]
    assert rows[0].price == 3.1, "the first report wins; a replay never rewrites a fill"
    assert (rows[0].role, rows[0].at, rows[0].trade_date, rows[0].side) == (Role.ENTRY, t(11), DAY, "SLD")
    assert store.fills(DAY, "paper", role=Role.TAKE_PROFIT) == []
    assert len(store.fills(DAY, "paper", role="entry")) == 2


def test_commission_arrives_later_once_and_ib_unset_is_ignored(store: Store):
    fill(store, "e1")
    assert store.fills(DAY, "paper")[0].commission is None
    assert store.set_commission("e1", 1.7976931348623157e308) is False  # IB's UNSET_DOUBLE
    assert store.fills(DAY, "paper")[0].commission is None
    assert store.set_commission("e1", 0.6235000001) is True
    assert store.fills(DAY, "paper")[0].commission == 0.6235
    assert store.set_commission("missing", 1.0) is False
    fill(store, "e2", commission=None)
    assert fill(store, "e2", commission=0.62) is False  # a replay with the report fills in the gap
    assert store.fills(DAY, "paper")[1].commission == 0.62
    with pytest.raises(sqlite3.IntegrityError, match="identity"):
        store.db.execute("UPDATE fills SET price = 0 WHERE exec_id = 'e1'")


def test_fills_of_an_unknown_order_are_still_kept(store: Store):
    """An execution the user made by hand in TWS is evidence, not an error."""
    assert fill(store, "manual-1", order_ref=None, order_id=0, perm_id=None, role=Role.UNKNOWN) is True
    [manual] = store.fills(DAY, "paper")
    assert manual.order_ref is None and manual.role is Role.UNKNOWN
    assert store.fills(DAY, "paper", role=Role.UNKNOWN) == [manual]
    with pytest.raises(ValueError, match="'exit'"):
        fill(store, "manual-2", role="exit")


def test_alerts_are_journaled_delivered_or_not(store: Store):
    store.record_alert(
        level=AlertLevel.FAILURE, title="exits missing", body="b", delivered=False, error="timeout", at=t(0)
    )
    store.record_alert(level="info", title="filled", body="b", delivered=True, error=None, at=t(1))
    rows = store.alerts()
    assert [(r.title, r.level, r.delivered, r.error) for r in rows] == [
        ("filled", AlertLevel.INFO, True, None),
        ("exits missing", AlertLevel.FAILURE, False, "timeout"),
    ]
    assert rows[0].at == t(1)
    with pytest.raises(ValueError, match="level"):
        store.record_alert(level="urgent", title="t", body="b", delivered=True, error=None, at=t(0))


def test_halt_and_resume_follow_the_latest_row(store: Store):
    assert store.halted() == (False, None) and store.halt_state() is None
    store.halt("broker glitch", at=t(0))
    assert store.halted() == (True, "broker glitch")
    state = store.halt_state()
    assert state is not None and (state.action, state.reason, state.by, state.at) == (
        HaltAction.HALT,
        "broker glitch",
        "kill",
        t(0),
    )
    store.halt("second kill", at=t(1), by="kill --yes")
    assert store.halted() == (True, "second kill")
    store.resume(at=t(2))
    assert store.halted() == (False, None) and store.halt_state() is None
    assert [(h.action, h.by) for h in store.halts()] == [
        ("halt", "kill"),
        ("halt", "kill --yes"),
        ("resume", "resume"),
    ]


def test_transaction_groups_writes_and_rolls_back_together(store: Store):
    with pytest.raises(RuntimeError), store.transaction():
        store.event(None, trade_date=DAY, mode="paper", phase="fill", status="ok", message="", at=t(0))
        store.save_trade(DAY, "paper", t(0), status="open")
        raise RuntimeError("crash between two writes")
    assert store.events(DAY, "paper") == [] and store.trade(DAY, "paper") is None
    with store.transaction():
        store.event(None, trade_date=DAY, mode="paper", phase="fill", status="ok", message="", at=t(0))
        store.save_trade(DAY, "paper", t(0), status="open")
    assert len(store.events(DAY, "paper")) == 1 and store.trade(DAY, "paper") is not None
