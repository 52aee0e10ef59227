"""The journal API every command uses: one `Store` over one SQLite file (see docs/storage.md).

Design rules the methods follow:

* Time is always an argument (``at``): the store never reads a clock, so a replayed or simulated day
  journals virtual time, and tests are exact.
* Intent before action: `record_intent` is written before an order leaves the process; the broker's answer
  (`record_placed`, `record_order_status`, `record_fill`) is added after. A crash in between leaves an
  intent with a known ``order_ref`` that the next run looks up at the broker.
* Re-calls are harmless: intents dedupe on ``order_ref``, fills on ``exec_id``, status history only grows
  when something changed. A restarted run can replay everything it sees from the gateway.
* Writes take the database write lock up front (``BEGIN IMMEDIATE``), so a concurrent writer waits on the
  busy timeout instead of failing half-way through a read-then-write.
"""

from __future__ import annotations

import os
import socket
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from icbot import __version__
from icbot.errors import StoreError
from icbot.store.codec import from_row, iso_at, iso_date, to_column, to_json
from icbot.store.db import open_database
from icbot.store.orders import OrderJournal

EVENT_STATUSES = frozenset({"start", "ok", "fail", "skip", "info", "warn"})
ALERT_LEVELS = frozenset({"info", "warning", "failure"})
# Columns save_trade() sets itself; callers may not pass them.
_TRADE_KEYS = frozenset({"id", "trade_date", "mode", "created_at", "updated_at"})
_TRADE_BOOLS = ("experiment", "exits_ok")


class Store(OrderJournal):
    """The icbot journal. Not thread-safe: use it from the thread that opened it (sqlite3's rule)."""

    def __init__(self, db: Database, path: Path) -> None:
        super().__init__(db, path)
        self._trade_types = {c.name: c.type.upper() for c in db["trades"].columns}

    @classmethod
    def open(cls, path: Path, *, readonly: bool = False) -> Store:
        """Open (creating parent dirs and migrating) the journal at `path`; StoreError if it is not usable.

        ``readonly=True`` (for `status`/`report`) never creates or migrates anything and refuses a missing file.
        """
        path = Path(path).expanduser()
        return cls(open_database(path, readonly=readonly), path)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs and events --------------------------------------------------------------------------------
    def start_run(self, *, command: str, mode: str, trade_date: date | None, at: datetime, argv: list[str]) -> int:
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO runs (command, mode, trade_date, started_at, pid, host, version, argv) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    command,
                    mode,
                    None if trade_date is None else iso_date(trade_date),
                    iso_at(at),
                    os.getpid(),
                    socket.gethostname(),
                    __version__,
                    to_json(list(argv)),
                ),
            )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def finish_run(self, run_id: int, *, exit_code: int, at: datetime, summary: str = "") -> None:
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE runs SET finished_at = ?, exit_code = ?, summary = ? WHERE id = ?",
                (iso_at(at), exit_code, summary, run_id),
            )
        if cur.rowcount != 1:
            raise StoreError(f"run {run_id} is not in the journal {self.path}")

    def runs(self, *, limit: int = 50) -> list[dict[str, Any]]:
        """The most recent runs, newest first."""
        rows = self._rows("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))
        return [from_row(r, json_cols=("argv",)) for r in rows]

    def event(
        self,
        run_id: int | None,
        *,
        trade_date: date,
        mode: str,
        phase: str,
        status: str,
        message: str,
        at: datetime,
        data: dict[str, Any] | None = None,
    ) -> None:
        if status not in EVENT_STATUSES:
            raise ValueError(f"event status {status!r} is not one of {', '.join(sorted(EVENT_STATUSES))}")
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO events (run_id, trade_date, mode, at, phase, status, message, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    iso_date(trade_date),
                    mode,
                    iso_at(at),
                    phase,
                    status,
                    message,
                    None if data is None else to_json(data),
                ),
            )

    def events(self, trade_date: date, mode: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT * FROM events WHERE trade_date = ? AND mode = ? ORDER BY id", (iso_date(trade_date), mode)
        )
        return [from_row(r, json_cols=("data",)) for r in rows]

    # -- trades -----------------------------------------------------------------------------------------
    def trade(self, trade_date: date, mode: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM trades WHERE trade_date = ? AND mode = ?", (iso_date(trade_date), mode))
        return None if row is None else from_row(row, bool_cols=_TRADE_BOOLS)

    def save_trade(self, trade_date: date, mode: str, at: datetime, **fields: Any) -> dict[str, Any]:
        """Create or update the day's trade row with `fields` (other columns keep their values)."""
        bad = sorted(k for k in fields if k in _TRADE_KEYS or k not in self._trade_types)
        if bad:
            raise ValueError(f"save_trade cannot set {', '.join(bad)} (unknown or managed by the store)")
        values = {k: to_column(v, self._trade_types[k]) for k, v in fields.items()}
        values.setdefault("experiment", int(mode == "experiment"))
        cols = list(values)
        stamp = iso_at(at)
        updates = ", ".join([f"{c} = excluded.{c}" for c in cols if c in fields] + ["updated_at = excluded.updated_at"])
        sql = (
            f"INSERT INTO trades (trade_date, mode, created_at, updated_at, {', '.join(cols)}) "
            f"VALUES (?, ?, ?, ?, {', '.join('?' for _ in cols)}) "
            f"ON CONFLICT (trade_date, mode) DO UPDATE SET {updates}"
        )
        with self.transaction() as conn:
            conn.execute(sql, (iso_date(trade_date), mode, stamp, stamp, *values.values()))
        row = self.trade(trade_date, mode)
        assert row is not None
        return row

    def trades(self, mode: str | None = None) -> list[dict[str, Any]]:
        if mode is None:
            rows = self._rows("SELECT * FROM trades ORDER BY trade_date, mode")
        else:
            rows = self._rows("SELECT * FROM trades WHERE mode = ? ORDER BY trade_date", (mode,))
        return [from_row(r, bool_cols=_TRADE_BOOLS) for r in rows]

    def open_trades(self, mode: str) -> list[dict[str, Any]]:
        rows = self._rows("SELECT * FROM trades WHERE mode = ? AND status = 'open' ORDER BY trade_date", (mode,))
        return [from_row(r, bool_cols=_TRADE_BOOLS) for r in rows]

    # -- alerts and halts -------------------------------------------------------------------------------
    def record_alert(
        self, *, level: str, title: str, body: str, delivered: bool, error: str | None, at: datetime
    ) -> None:
        if level not in ALERT_LEVELS:
            raise ValueError(f"alert level {level!r} is not one of {', '.join(sorted(ALERT_LEVELS))}")
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO alerts (at, level, title, body, delivered, error) VALUES (?, ?, ?, ?, ?, ?)",
                (iso_at(at), level, title, body, int(bool(delivered)), error),
            )

    def alerts(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """The most recent alerts, newest first."""
        rows = self._rows("SELECT * FROM alerts ORDER BY id DESC LIMIT ?", (limit,))
        return [from_row(r, bool_cols=("delivered",)) for r in rows]

    def halt(self, reason: str, *, at: datetime, by: str = "kill") -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO halts (at, action, reason, \"by\") VALUES (?, 'halt', ?, ?)", (iso_at(at), reason, by)
            )

    def resume(self, *, at: datetime, by: str = "resume") -> None:
        with self.transaction() as conn:
            conn.execute("INSERT INTO halts (at, action, reason, \"by\") VALUES (?, 'resume', '', ?)", (iso_at(at), by))

    def halted(self) -> tuple[bool, str | None]:
        """(True, reason) while the latest halts row is a halt; (False, None) otherwise."""
        row = self._one("SELECT action, reason FROM halts ORDER BY id DESC LIMIT 1")
        if row is None or row["action"] != "halt":
            return False, None
        return True, row["reason"]

    def halts(self) -> list[dict[str, Any]]:
        """The whole halt/resume history, oldest first."""
        return self._rows("SELECT * FROM halts ORDER BY id")
