"""The journal API every command uses: one `Store` over one SQLite file (see docs/storage.md).

Design rules the methods follow:

* Time is always an argument (``at``): the store never reads a clock, so a replayed or simulated day
  journals virtual time, and tests are exact.
* Intent before action: `record_intent` is written before an order leaves the process; the broker's answer
  (`record_placed`, `record_order_status`, `record_fill`) is added after. A crash in between leaves an
  intent with a known ``order_ref`` that the next run looks up at the broker.
* Re-calls are harmless: intents dedupe on ``order_ref``, fills on ``exec_id``, status history only grows
  when something changed. A restarted run can replay everything it sees from the gateway.
* Reads return typed records (`icbot.core.journal`), never rows: rows.py converts, codec.py writes.
* Writes take the database write lock up front (``BEGIN IMMEDIATE``), so a concurrent writer waits on the
  busy timeout instead of failing half-way through a read-then-write.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from icbot import __version__
from icbot.core.journal import (
    TRADE_MANAGED,
    Alert,
    AlertLevel,
    Event,
    EventStatus,
    Halt,
    HaltAction,
    Mode,
    Phase,
    Run,
    Trade,
)
from icbot.errors import StoreError
from icbot.store.codec import iso_at, iso_date, iso_instant, to_column, to_json
from icbot.store.db import open_database
from icbot.store.lite import Database
from icbot.store.orders import OrderJournal
from icbot.store.rows import field_types

E = TypeVar("E", bound=StrEnum)

# The Trade fields a caller may set through save_trade(), and those among them that are instants.
TRADE_SETTABLE = frozenset(f.name for f in dataclasses.fields(Trade)) - TRADE_MANAGED
_TRADE_INSTANTS = frozenset(name for name, tp in field_types(Trade).items() if tp is datetime) & TRADE_SETTABLE


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

    def runs(self, *, limit: int = 50) -> list[Run]:
        """The most recent runs, newest first."""
        return self._records(Run, "SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))

    def event(
        self,
        run_id: int | None,
        *,
        trade_date: date,
        mode: str,
        phase: Phase | str,
        status: EventStatus | str,
        message: str,
        at: datetime,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Append one event; `phase` is any non-empty name (the user's phases are `Phase` members)."""
        status = _member(EventStatus, status, "event status")
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO events (run_id, trade_date, mode, at, phase, status, message, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    iso_date(trade_date),
                    mode,
                    iso_at(at),
                    str(phase),
                    status.value,
                    message,
                    None if data is None else to_json(data),
                ),
            )

    def events(self, trade_date: date, mode: str) -> list[Event]:
        return self._records(
            Event, "SELECT * FROM events WHERE trade_date = ? AND mode = ? ORDER BY id", (iso_date(trade_date), mode)
        )

    # -- trades -----------------------------------------------------------------------------------------
    def trade(self, trade_date: date, mode: str) -> Trade | None:
        return self._record(
            Trade, "SELECT * FROM trades WHERE trade_date = ? AND mode = ?", (iso_date(trade_date), mode)
        )

    def save_trade(self, trade_date: date, mode: str, at: datetime, **fields: Any) -> Trade:
        """Create or update the day's trade row with `fields` (other columns keep their values).

        A field is a `Trade` field the store does not manage; an instant may be an aware datetime or ISO text
        with an offset (stored as UTC text either way). Unknown words (a status, an exit reason) are refused
        by the table's CHECK constraints.
        """
        bad = sorted(k for k in fields if k not in TRADE_SETTABLE or k not in self._trade_types)
        if bad:
            raise ValueError(f"save_trade cannot set {', '.join(bad)} (unknown or managed by the store)")
        values = {
            k: iso_instant(v) if k in _TRADE_INSTANTS and v is not None else to_column(v, self._trade_types[k])
            for k, v in fields.items()
        }
        values.setdefault("experiment", int(mode == Mode.EXPERIMENT))
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
        trade = self.trade(trade_date, mode)
        assert trade is not None
        return trade

    def trades(self, mode: str | None = None) -> list[Trade]:
        if mode is None:
            return self._records(Trade, "SELECT * FROM trades ORDER BY trade_date, mode")
        return self._records(Trade, "SELECT * FROM trades WHERE mode = ? ORDER BY trade_date", (mode,))

    def open_trades(self, mode: str) -> list[Trade]:
        return self._records(
            Trade, "SELECT * FROM trades WHERE mode = ? AND status = 'open' ORDER BY trade_date", (mode,)
        )

    # -- alerts and halts -------------------------------------------------------------------------------
    def record_alert(
        self, *, level: AlertLevel | str, title: str, body: str, delivered: bool, error: str | None, at: datetime
    ) -> None:
        level = _member(AlertLevel, level, "alert level")
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO alerts (at, level, title, body, delivered, error) VALUES (?, ?, ?, ?, ?, ?)",
                (iso_at(at), level.value, title, body, int(bool(delivered)), error),
            )

    def alerts(self, *, limit: int = 100) -> list[Alert]:
        """The most recent alerts, newest first."""
        return self._records(Alert, "SELECT * FROM alerts ORDER BY id DESC LIMIT ?", (limit,))

    def halt(self, reason: str, *, at: datetime, by: str = "kill") -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO halts (at, action, reason, \"by\") VALUES (?, 'halt', ?, ?)", (iso_at(at), reason, by)
            )

    def resume(self, *, at: datetime, by: str = "resume") -> None:
        with self.transaction() as conn:
            conn.execute("INSERT INTO halts (at, action, reason, \"by\") VALUES (?, 'resume', '', ?)", (iso_at(at), by))

    def installation_id(self) -> str:
        """This journal's installation id (schema m003), carried by every orderRef and OCA group it sends."""
        row = self._one("SELECT value FROM meta WHERE key = 'installation_id'")
        if row is None:
            raise StoreError(f"{self.path} has no installation id; run any writing icbot command once to migrate it")
        return str(row["value"])

    def halt_state(self) -> Halt | None:
        """The halt in force: the latest halts row when it is a halt; None when trading is allowed."""
        latest = self._record(Halt, "SELECT * FROM halts ORDER BY id DESC LIMIT 1")
        return latest if latest is not None and latest.action is HaltAction.HALT else None

    def halted(self) -> tuple[bool, str | None]:
        """(True, reason) while the latest halts row is a halt; (False, None) otherwise."""
        state = self.halt_state()
        return (False, None) if state is None else (True, state.reason)

    def halts(self) -> list[Halt]:
        """The whole halt/resume history, oldest first."""
        return self._records(Halt, "SELECT * FROM halts ORDER BY id")


def _member(cls: type[E], value: E | str, what: str) -> E:
    """`value` as a `cls` member; ValueError naming the accepted words otherwise."""
    try:
        return cls(value)
    except ValueError:
        raise ValueError(f"{what} {value!r} is not one of {', '.join(sorted(m.value for m in cls))}") from None
