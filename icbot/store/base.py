"""What every part of the `Store` shares: the connection, write transactions, reading rows as records.

Rows stay dicts only inside the store; what a query returns to a caller is a typed record (rows.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from icbot.store.lite import Database
from icbot.store.rows import record, records

R = TypeVar("R")


class StoreBase:
    """The connection and its transaction discipline. Not thread-safe: use it from the thread that opened it."""

    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path

    # -- transactions -----------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Group several writes (e.g. an event and a trade update) into one atomic, write-locked step.

        Nested use joins the outer transaction. Keep it short: never hold it across a broker await.
        """
        conn = self.db.conn
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _rows(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params))

    def _one(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> dict[str, Any] | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _records(self, cls: type[R], sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[R]:
        return records(cls, self._rows(sql, params))

    def _record(self, cls: type[R], sql: str, params: tuple[Any, ...] | list[Any] = ()) -> R | None:
        row = self._one(sql, params)
        return None if row is None else record(cls, row)
