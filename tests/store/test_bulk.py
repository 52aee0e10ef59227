"""The report's whole-mode reads (icbot/store/bulk.py) give exactly the records the per-day reads give."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from icbot.core.journal import Phase, Role
from icbot.errors import StoreError
from icbot.store import Store
from icbot.store.bulk import event_figures, fills_by_day, fills_without_commission, trades_of
from icbot.store.reader import JournalReader

DAYS = [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)]
T0 = datetime(2026, 11, 23, 14, 32, tzinfo=UTC)


def _fill(store: Store, n: int, day: date, mode: str, *, exec_id: str | None = None, **kw: object) -> None:
    values: dict[str, object] = {
        "exec_id": exec_id or f"0000a.{n:04x}.01.01",
        "order_ref": f"icbot:{day}:{mode}:entry",
        "order_id": n,
        "perm_id": None,
        "trade_date": day,
        "mode": mode,
        "con_id": 100 + n,
        "local_symbol": f"SPXW  P{n}",
        "right": "P",
        "strike": 5900.0 + n,
        "side": "SLD",
        "quantity": 1.0,
        "price": 1.25 + n / 100,
        "at": T0 + timedelta(days=(day - DAYS[0]).days, seconds=n),
        "role": Role.ENTRY,
        "commission": 1.05,
    }
    values.update(kw)
    store.record_fill(**values)  # type: ignore[arg-type]


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "icbot.db"
    with Store.open(path) as store:
        for i, day in enumerate(DAYS):
            at = T0 + timedelta(days=i)
            store.save_trade(
                day,
                "paper",
                at,
                status="closed",
                quantity=1,
                credit=4.35,
                exit_reason="time_exit",
                pnl=-10.0 * i,
                entry_filled_at=at,
                exited_at=at + timedelta(hours=2),
                exits_ok=True,
                short_put=5900.0,
            )
            store.save_trade(day, "experiment", at, status="no_trade", no_trade_reason="VIX")
            for n in range(4):
                _fill(store, 10 * i + n, day, "paper")
        _fill(store, 90, DAYS[1], "paper", commission=None)  # IB never reported this one's commission
        # a corrected execution: the first revision lacks its commission, the correction has it
        _fill(store, 91, DAYS[2], "paper", exec_id="0000b.0001.01.01", commission=None, price=2.0)
        _fill(store, 91, DAYS[2], "paper", exec_id="0000b.0001.01.02", commission=1.05, price=2.1)
        _fill(store, 92, DAYS[0], "paper", role=Role.UNKNOWN)
        _fill(store, 93, DAYS[0], "live")
        for day, phase, status, data in (
            (DAYS[0], Phase.CONNECT, "ok", {"net_liquidation": 1_000_000.5}),
            (DAYS[0], Phase.CLOSED, "ok", {"spx": 6001.25}),
            (DAYS[1], Phase.TOUCH, "warn", {"spx": 5900.0}),
        ):
            store.event(None, trade_date=day, mode="paper", phase=phase, status=status, message="x", at=T0, data=data)
    return path


def test_fills_by_day_are_the_per_day_fills(journal: Path) -> None:
    with JournalReader.open(journal) as reader:
        bulk = fills_by_day(reader, "paper")
        assert sorted(bulk) == DAYS
        for day in DAYS:
            assert bulk[day] == reader.fills(day, "paper")  # the same records, corrected executions once
        assert [f.price for f in bulk[DAYS[2]] if f.exec_id.startswith("0000b")] == [2.1]
        assert fills_by_day(reader, "paper", DAYS[1], DAYS[1]) == {DAYS[1]: reader.fills(DAYS[1], "paper")}
        assert list(fills_by_day(reader, "live")) == [DAYS[0]]


def test_trades_of_a_mode_are_the_stores_records(journal: Path) -> None:
    with Store.open(journal) as store:
        expected = store.trades("paper")
    with JournalReader.open(journal) as reader:
        assert trades_of(reader, "paper") == expected
        assert [t.status for t in trades_of(reader, "experiment")] == ["no_trade"] * 3


def test_days_with_an_unreported_commission(journal: Path) -> None:
    with JournalReader.open(journal) as reader:
        assert fills_without_commission(reader, "paper") == {DAYS[1]}  # the corrected one has its commission


def test_event_figures(journal: Path) -> None:
    with JournalReader.open(journal) as reader:
        assert event_figures(reader, "paper", "net_liquidation") == {DAYS[0]: 1_000_000.5}
        assert event_figures(reader, "paper", "spx", phase="closed") == {DAYS[0]: 6001.25}
        assert event_figures(reader, "paper", "spx", start=DAYS[1]) == {DAYS[1]: 5900.0}
        assert event_figures(reader, "live", "spx") == {}


def test_an_unreadable_trade_row_is_one_line(journal: Path) -> None:
    conn = sqlite3.connect(journal)
    triggers = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
    for name in triggers:  # the append-only guards would refuse the broken row this test needs
        if "trades" in name:
            conn.execute(f"DROP TRIGGER {name}")
    conn.execute("UPDATE trades SET entry_filled_at = 'yesterday' WHERE trade_date = '2026-11-24'")
    conn.commit()
    conn.close()
    with JournalReader.open(journal) as reader, pytest.raises(StoreError, match="2026-11-24"):
        trades_of(reader, "paper")
