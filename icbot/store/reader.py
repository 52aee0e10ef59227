"""A read-only view of the journal on the standard library's sqlite3, for `icbot status`.

`Store` (repo.py) is the journal's API for every command that writes; it stands on sqlite-utils, whose import
pulls in pandas — about half a second, more than `icbot status --offline` may take in all (0.3 s, docs/simulator.md
"Benchmarks").
This reader opens the same file read-only (``mode=ro``: it never creates, migrates or locks anything) and
returns the same typed records through the same conversion (`icbot.store.rows`), so a record means the same
whoever read it. It reads every query of one view inside one read transaction: with WAL, the view is one
consistent snapshot even while run-today or check write.

Schema versions: rows.py reads a column an older journal lacks as the field's default and ignores columns a
newer one added, so the reader needs no migration check (a writing command migrates; the reader only reads).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from icbot.core.accounting import current_executions
from icbot.core.journal import Alert, Event, Fill, Halt, HaltAction, OrderRecord, Run, Trade
from icbot.core.whatif.bars import BarRow
from icbot.errors import StoreError
from icbot.store.codec import iso_date
from icbot.store.identity import APPLICATION_ID, ICBOT_TABLES, SQLITE_MAGIC, SYSTEM_TABLES
from icbot.store.rows import record, records

R = TypeVar("R")
BUSY_TIMEOUT_S = 5.0


class NoJournal(StoreError):
    """There is no journal (yet) at the path: nothing has been recorded. Not an error for a reader."""


class JournalReader:
    """Read-only access to one journal file. Use as a context manager; not thread-safe (sqlite3's rule)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path) -> JournalReader:
        """Open `path` read-only; NoJournal when nothing was recorded there, StoreError when it is not a journal."""
        path = Path(path).expanduser()
        _check_file(path)
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the icbot database {path}: {exc}") from None
        conn.row_factory = _dict_row
        try:
            _check_identity(conn, path)
            conn.execute("BEGIN")  # one snapshot for every read of this reader (WAL keeps it while others write)
        except StoreError:
            conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{path} is not a usable icbot database: {exc}") from None
        return cls(conn, path)

    def close(self) -> None:
        try:
            if self.conn.in_transaction:
                self.conn.rollback()
        finally:
            self.conn.close()

    def __enter__(self) -> JournalReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries ----------------------------------------------------------------------------------------
    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        try:
            return list(self.conn.execute(sql, tuple(params)))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot read the icbot database {self.path}: {exc}") from None

    def _records(self, cls: type[R], sql: str, params: Sequence[Any] = ()) -> list[R]:
        return records(cls, self._rows(sql, params))

    def _record(self, cls: type[R], sql: str, params: Sequence[Any] = ()) -> R | None:
        rows = self._rows(sql, params)
        return record(cls, rows[0]) if rows else None

    def trade(self, trade_date: date, mode: str) -> Trade | None:
        return self._record(
            Trade, "SELECT * FROM trades WHERE trade_date = ? AND mode = ?", (iso_date(trade_date), mode)
        )

    def trades(self, mode: str) -> list[Trade]:
        return self._records(Trade, "SELECT * FROM trades WHERE mode = ? ORDER BY trade_date", (mode,))

    def entry_order(self, trade_date: date, mode: str) -> OrderRecord | None:
        """The day's entry as this journal intended it."""
        return self._record(
            OrderRecord,
            "SELECT * FROM orders WHERE trade_date = ? AND mode = ? AND role = 'entry' ORDER BY id LIMIT 1",
            (iso_date(trade_date), mode),
        )

    def bars(self, trade_date: date, mode: str) -> list[BarRow]:
        """The day's recorded 1-minute bars (icbot/store/bars.py); none in a journal older than the table."""
        try:
            rows = list(
                self.conn.execute(
                    "SELECT contract, minute, mid, bid, ask, high, low FROM bars WHERE trade_date = ? AND mode = ? "
                    "ORDER BY contract, minute",
                    (iso_date(trade_date), mode),
                )
            )
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise StoreError(f"cannot read the icbot database {self.path}: {exc}") from None
        return [BarRow(**r) for r in rows]

    def bar_days(self, mode: str) -> dict[str, int]:
        """trade date (ISO) → bars stored, for every day of `mode` with bars."""
        try:
            rows = self.conn.execute(
                "SELECT trade_date, count(*) AS n FROM bars WHERE mode = ? GROUP BY trade_date", (mode,)
            )
            return {r["trade_date"]: r["n"] for r in rows}
        except sqlite3.OperationalError:
            return {}

    def events(self, trade_date: date, mode: str) -> list[Event]:
        return self._records(
            Event, "SELECT * FROM events WHERE trade_date = ? AND mode = ? ORDER BY id", (iso_date(trade_date), mode)
        )

    def orders(self, trade_date: date, mode: str) -> list[OrderRecord]:
        return self._records(
            OrderRecord,
            "SELECT * FROM orders WHERE trade_date = ? AND mode = ? ORDER BY id",
            (iso_date(trade_date), mode),
        )

    def fills(self, trade_date: date, mode: str) -> list[Fill]:
        """The day's leg executions as they stand (a corrected execution once, in its latest revision)."""
        fills = self._records(
            Fill, "SELECT * FROM fills WHERE trade_date = ? AND mode = ? ORDER BY id", (iso_date(trade_date), mode)
        )
        return current_executions(fills, lambda f: f.exec_id)

    def alerts(self, *, limit: int = 100) -> list[Alert]:
        """The most recent alerts, newest first."""
        return self._records(Alert, "SELECT * FROM alerts ORDER BY id DESC LIMIT ?", (limit,))

    def halt_state(self) -> Halt | None:
        """The halt in force (the latest halts row when it is a halt); None when trading is allowed."""
        latest = self._record(Halt, "SELECT * FROM halts ORDER BY id DESC LIMIT 1")
        return latest if latest is not None and latest.action is HaltAction.HALT else None

    def runs(self, ids: Sequence[int]) -> list[Run]:
        """The runs with these ids (in id order)."""
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return []
        marks = ", ".join("?" for _ in wanted)
        return self._records(Run, f"SELECT * FROM runs WHERE id IN ({marks}) ORDER BY id", wanted)

    def last_run(self, command: str, mode: str) -> Run | None:
        """The latest run of `command` in `mode` (started, finished or not)."""
        return self._record(
            Run, "SELECT * FROM runs WHERE command = ? AND mode = ? ORDER BY id DESC LIMIT 1", (command, mode)
        )


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {col[0]: value for col, value in zip(cursor.description, row, strict=True)}


def _check_file(path: Path) -> None:
    if not path.exists():
        raise NoJournal(f"no icbot database at {path} yet (nothing has been recorded)")
    if not path.is_file():
        raise StoreError(f"{path} is not a file (an icbot SQLite database was expected)")
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise StoreError(f"cannot read the icbot database {path}: {exc}") from None
    if not head:
        raise NoJournal(f"the icbot database {path} is empty (nothing has been recorded)")
    if head != SQLITE_MAGIC:
        raise StoreError(f"{path} is not an SQLite database")


def _check_identity(conn: sqlite3.Connection, path: Path) -> None:
    app_id = conn.execute("PRAGMA application_id").fetchone()["application_id"]
    tables = {row["name"] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if app_id == 0 and not (tables - SYSTEM_TABLES):
        raise NoJournal(f"the icbot database {path} has no tables yet (nothing has been recorded)")
    if app_id != APPLICATION_ID:
        foreign = sorted(tables - ICBOT_TABLES - SYSTEM_TABLES) or sorted(tables)
        raise StoreError(
            f"{path} is not an icbot database (application_id {app_id}, tables {', '.join(foreign[:5])}); "
            "point storage.db at another file"
        )
    missing = sorted(ICBOT_TABLES - tables)
    if missing:
        raise StoreError(f"{path} lacks the icbot table(s) {', '.join(missing)}; run any writing icbot command once")
