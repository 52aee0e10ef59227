"""Reading journal rows as typed records: old journals' NULLs, words a newer IB or an older icbot wrote, round trips."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from icbot.core.journal import (
    Alert,
    AlertLevel,
    ComboLeg,
    Event,
    EventStatus,
    ExitReason,
    Fill,
    Halt,
    Mode,
    OrderRecord,
    OrderStatus,
    Role,
    Run,
    StatusChange,
    Trade,
    TradeStatus,
)
from icbot.errors import StoreError
from icbot.store import Store
from icbot.store.rows import field_types, record

DAY = date(2026, 11, 24)
T0 = datetime(2026, 11, 24, 14, 32, tzinfo=UTC)
T0_TEXT = "2026-11-24T14:32:00.000000+00:00"
EASTERN = timezone(timedelta(hours=-5))


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "icbot.db") as s:
        yield s


# -- the conversion itself, one row at a time ------------------------------------------------------------

TRADE_ROW_OF_THE_FIRST_RELEASE = {
    "id": 1,
    "trade_date": "2026-11-23",
    "mode": "paper",
    "status": "closed",
    "experiment": 0,
    "short_put": 5900.0,
    "quantity": 1,
    "credit": None,
    "entry_filled_at": "2026-11-23T09:32:04.120000-05:00",  # as the runner once wrote it: isoformat, not UTC
    "exit_reason": None,
    "created_at": T0_TEXT,
    "updated_at": T0_TEXT,
    # no exits_ok / time_exit_at / last_problem: columns m002 added
}


@pytest.mark.parametrize(
    ("cls", "row", "expected"),
    [
        pytest.param(
            Trade,
            TRADE_ROW_OF_THE_FIRST_RELEASE,
            {
                "trade_date": date(2026, 11, 23),
                "mode": Mode.PAPER,
                "status": TradeStatus.CLOSED,
                "experiment": False,
                "credit": None,
                "exit_reason": None,
                "exits_ok": None,
                "time_exit_at": None,
                "entry_filled_at": datetime(2026, 11, 23, 14, 32, 4, 120000, tzinfo=UTC),
                "quantity": 1,
            },
            id="old-trade-with-nulls-and-missing-columns",
        ),
        pytest.param(
            Fill,
            {
                "id": 3,
                "exec_id": "manual-1",
                "trade_date": "2026-11-24",
                "mode": "live",
                "side": "BOT",
                "quantity": 1.0,
                "price": 2.0,
                "at": T0_TEXT,
                "role": None,
                "order_ref": None,
                "commission": None,
            },
            {"role": Role.UNKNOWN, "mode": Mode.LIVE, "order_ref": None, "at": T0},
            id="fill-without-role",
        ),
        pytest.param(
            Fill,
            {"id": 4, "exec_id": "e", "trade_date": "2026-11-24", "mode": "paper", "side": "SLD", "quantity": 1.0}
            | {"price": 1.0, "at": T0_TEXT, "role": "unknown"},
            {"role": Role.UNKNOWN},
            id="fill-with-unknown-role",
        ),
        pytest.param(
            StatusChange,
            {"id": 1, "order_ref": "r", "at": T0_TEXT, "status": "PendingReplace", "filled": 0.0}
            | {"remaining": 1.0, "avg_fill_price": None, "message": ""},
            {"status": OrderStatus.UNKNOWN},
            id="status-word-ib-never-documented",
        ),
        pytest.param(
            OrderRecord,
            {
                "id": 1,
                "trade_date": "2026-11-24",
                "mode": "experiment",
                "role": "stop",
                "order_ref": "r",
                "action": "SELL",
                "order_type": "STP",
                "quantity": 1.0,
                "legs": '[{"action":"BUY","con_id":1,"ratio":1,"right":"P","strike":5880}]',
                "status": "Submitted",
                "filled": 0.0,
                "intent_at": T0_TEXT,
                "updated_at": T0_TEXT,
                "transmitted": 0,
                "placed_at": None,
            },
            {
                "legs": (ComboLeg(1, "BUY", "P", 5880.0, ""),),
                "status": OrderStatus.SUBMITTED,
                "role": Role.STOP,
                "transmitted": False,
                "placed_at": None,
            },
            id="order-legs-json-extra-key-ignored",
        ),
        pytest.param(
            Event,
            {"id": 1, "run_id": None, "trade_date": "2026-11-24", "mode": "paper", "at": T0_TEXT}
            | {"phase": "kill", "status": "warn", "message": "", "data": '{"put":5900.0}'},
            {"phase": "kill", "status": EventStatus.WARN, "data": {"put": 5900.0}, "run_id": None},
            id="event-free-text-phase-and-json-data",
        ),
        pytest.param(
            Run,
            {"id": 1, "command": "check", "mode": "paper", "trade_date": None, "started_at": T0_TEXT}
            | {"finished_at": None, "exit_code": None, "pid": 9, "host": "h", "version": "0", "argv": '["check"]'}
            | {"summary": ""},
            {"trade_date": None, "finished_at": None, "argv": ("check",)},
            id="crashed-run",
        ),
        pytest.param(
            Alert,
            {"id": 1, "at": T0_TEXT, "level": "failure", "title": "t", "body": "b", "delivered": 1, "error": None},
            {"level": AlertLevel.FAILURE, "delivered": True},
            id="alert",
        ),
    ],
)
def test_a_row_reads_as_its_record(cls: type[Any], row: dict[str, Any], expected: dict[str, Any]):
    rec = record(cls, row)
    for name, value in expected.items():
        got = getattr(rec, name)
        assert got == value, name
        if isinstance(value, StrEnum | bool):
            assert got is value, f"{name} is the member itself"


@pytest.mark.parametrize(
    ("cls", "row", "message"),
    [
        (Trade, TRADE_ROW_OF_THE_FIRST_RELEASE | {"status": "filled"}, "Trade.status = 'filled'"),
        (Trade, TRADE_ROW_OF_THE_FIRST_RELEASE | {"created_at": "2026-11-24T09:32:00"}, "no UTC offset"),
        (Trade, TRADE_ROW_OF_THE_FIRST_RELEASE | {"trade_date": "24/11/2026"}, "Trade.trade_date"),
        (Halt, {"id": 1, "at": T0_TEXT, "action": "halt", "reason": ""}, "by"),
    ],
    ids=["unknown-trade-status", "naive-instant", "bad-date", "missing-required-column"],
)
def test_an_unreadable_row_is_a_store_error_naming_the_column(cls: type[Any], row: dict[str, Any], message: str):
    with pytest.raises(StoreError, match=message):
        record(cls, row)


def test_field_types_drop_none():
    types = field_types(Trade)
    assert types["exited_at"] is datetime and types["exit_reason"] is ExitReason and types["trade_date"] is date


# -- through the store: what is written is read back as the same member ---------------------------------


@pytest.mark.parametrize("status", list(TradeStatus))
def test_trade_status_round_trip(store: Store, status: TradeStatus):
    assert store.save_trade(DAY, "paper", T0, status=status).status is status
    assert store.db.execute("SELECT status FROM trades").fetchone()[0] == status.value


@pytest.mark.parametrize("reason", list(ExitReason))
def test_exit_reason_round_trip(store: Store, reason: ExitReason):
    trade = store.save_trade(DAY, "experiment", T0, status=TradeStatus.CLOSED, exit_reason=reason, exited_at=T0)
    assert trade.exit_reason is reason and trade.exited_at == T0


@pytest.mark.parametrize("status", [s for s in OrderStatus if s is not OrderStatus.INTENT])
def test_order_status_round_trip(store: Store, status: OrderStatus):
    store.record_intent(
        trade_date=DAY, mode=Mode.PAPER, role=Role.ENTRY, order_ref="r", action="BUY", order_type="LMT",
        quantity=1, legs=[], at=T0,
    )  # fmt: skip
    store.record_order_status("r", status=status, filled=0, remaining=1, avg_fill_price=None, at=T0)
    order = store.order("r")
    assert order is not None and order.status is status
    assert store.order_history("r")[-1].status is status


def test_an_order_status_word_icbot_does_not_know_reads_as_unknown(store: Store):
    store.record_intent(
        trade_date=DAY, mode="paper", role="entry", order_ref="r", action="BUY", order_type="LMT", quantity=1,
        legs=[], at=T0,
    )  # fmt: skip
    store.record_order_status("r", status="PendingReplace", filled=0, remaining=1, avg_fill_price=None, at=T0)
    order = store.order("r")
    assert order is not None and order.status is OrderStatus.UNKNOWN is OrderStatus.parse("PendingReplace")
    assert order.status.is_working, "an undocumented status is verified at the broker, never taken as done"
    assert store.db.execute("SELECT status FROM orders").fetchone()[0] == "PendingReplace", "the text is kept"


@pytest.mark.parametrize("role", list(Role))
def test_fill_role_round_trip(store: Store, role: Role):
    store.record_fill(
        exec_id="e1", order_ref=None, order_id=None, perm_id=None, trade_date=DAY, mode="paper", con_id=None,
        local_symbol=None, right=None, strike=None, side="SLD", quantity=1, price=1.0, at=T0, role=role,
    )  # fmt: skip
    [f] = store.fills(DAY, "paper", role=role)
    assert f.role is role


def test_a_fill_an_older_journal_stored_without_role_reads_as_unknown(store: Store):
    store.db.execute(
        "INSERT INTO fills (exec_id, trade_date, mode, side, quantity, price, at, role) "
        f"VALUES ('old', '2026-11-24', 'paper', 'SLD', 1, 1.0, '{T0_TEXT}', NULL)"
    )
    [f] = store.fills(DAY, "paper", role=Role.UNKNOWN)
    assert f.exec_id == "old" and f.role is Role.UNKNOWN


def test_instants_accept_iso_text_and_aware_datetimes_and_read_back_aware(store: Store):
    eastern = T0.astimezone(EASTERN)
    trade = store.save_trade(DAY, "paper", T0, entry_filled_at=eastern.isoformat(), time_exit_at=eastern)
    assert trade.entry_filled_at == T0 and trade.time_exit_at == T0
    assert trade.entry_filled_at is not None and trade.entry_filled_at.utcoffset() == timedelta(0)
    assert store.db.execute("SELECT entry_filled_at, time_exit_at FROM trades").fetchone() == (T0_TEXT, T0_TEXT)
    with pytest.raises(ValueError, match="naive"):
        store.save_trade(DAY, "paper", T0, exited_at="2026-11-24T09:32:00")
