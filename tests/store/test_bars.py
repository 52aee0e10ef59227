"""The `bars` table: idempotent, append-only writes and the stdlib read path `icbot whatif` uses."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from icbot.core.whatif.bars import BarRow
from icbot.store.bars import last_minutes, record_bars
from icbot.store.reader import JournalReader
from icbot.store.repo import Store

DAY = date(2026, 11, 24)


def test_bars_are_written_once_and_read_back(tmp_path):
    db = tmp_path / "icbot.db"
    rows = [BarRow("P5900", "09:32", 1.2345678), BarRow("SPX", "09:32", 6000.0, high=6001.5, low=5999.25)]
    with Store.open(db) as store:
        assert record_bars(store, DAY, "paper", rows) == 2
        assert record_bars(store, DAY, "paper", [*rows, BarRow("P5900", "09:33", 1.3)]) == 1  # a re-fetch overlaps
        assert last_minutes(store, DAY, "paper") == {"P5900": "09:33", "SPX": "09:32"}
        assert last_minutes(store, DAY, "live") == {}
    with JournalReader.open(db) as reader:
        got = reader.bars(DAY, "paper")
        assert reader.bar_days("paper") == {"2026-11-24": 3}
    assert BarRow("P5900", "09:32", 1.234568) in got  # money and prices on the journal's 1e-6 grid
    assert BarRow("SPX", "09:32", 6000.0, high=6001.5, low=5999.25) in got


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM bars",
        "UPDATE bars SET mid = 0",
        "INSERT INTO bars (trade_date, mode, contract, minute) VALUES ('2026-11-24', 'paper', 'P1', '9:30')",
    ],
)
def test_bars_are_append_only_and_checked(tmp_path, sql):
    db = tmp_path / "icbot.db"
    with Store.open(db) as store:
        record_bars(store, DAY, "paper", [BarRow("P5900", "09:32", 1.0)])
    conn = sqlite3.connect(db)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(sql)
    conn.close()
