"""The `bars` table: 1-minute bars `check` records for what-if replays (docs/whatif.md, docs/storage.md).

Writes are idempotent (the key is trade date, mode, contract and minute; a bar already stored is kept as it
is), append-only (triggers refuse updates and deletes), and come in one transaction per contract so a check
stopped half-way leaves whole requests behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from icbot.core.whatif.bars import BarRow
from icbot.store.base import StoreBase
from icbot.store.codec import iso_date


def record_bars(store: StoreBase, trade_date: date, mode: str, rows: Iterable[BarRow]) -> int:
    """Store `rows` of one day and mode; returns how many were new."""
    values = [
        (iso_date(trade_date), mode, r.contract, r.minute, _r(r.mid), _r(r.bid), _r(r.ask), _r(r.high), _r(r.low))
        for r in rows
    ]
    if not values:
        return 0
    with store.transaction() as conn:
        before = conn.total_changes
        conn.executemany(
            "INSERT OR IGNORE INTO bars (trade_date, mode, contract, minute, mid, bid, ask, high, low) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        return conn.total_changes - before


def last_minutes(store: StoreBase, trade_date: date, mode: str) -> dict[str, str]:
    """contract → the latest minute stored for it that day (`HH:MM`)."""
    rows = store.db.execute(
        "SELECT contract, max(minute) FROM bars WHERE trade_date = ? AND mode = ? GROUP BY contract",
        (iso_date(trade_date), mode),
    ).fetchall()
    return {contract: minute for contract, minute in rows}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
