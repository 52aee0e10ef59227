"""Whole-mode reads for `icbot report`, on the read-only `JournalReader` (no sqlite-utils, hence no pandas).

`JournalReader.fills` reads one day; a report over ten years would ask 2,520 times. These read the same rows into
the same typed records in one query each: a mode's trades, its fills per day (only the latest revision of a
corrected execution), the days whose executions lack a commission, and figures journaled in events' data.

Ten years hold some 20,000 fills, so `fills_by_day` builds them directly rather than through rows.py's general
conversion (which inspects every column of every row and takes several times as long);
tests/store/test_bulk.py holds the two to the same result.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from icbot.core.accounting import current_executions
from icbot.core.journal import Fill, Mode, Role, Trade
from icbot.errors import StoreError
from icbot.store.codec import iso_date
from icbot.store.reader import JournalReader
from icbot.store.rows import field_types, instant

E = TypeVar("E", bound=StrEnum)
_SKIP: Any = object()  # a column the record has no field for (a newer schema's)
_FILL_FIELDS = tuple(f.name for f in dataclasses.fields(Fill))  # selected in this order, passed positionally
_DAY, _MODE, _AT, _ROLE = (_FILL_FIELDS.index(name) for name in ("trade_date", "mode", "at", "role"))


def _between(start: date | None, end: date | None) -> tuple[str, list[Any]]:
    sql, params = "", []
    if start is not None:
        sql += " AND trade_date >= ?"
        params.append(iso_date(start))
    if end is not None:
        sql += " AND trade_date <= ?"
        params.append(iso_date(end))
    return sql, params


@contextmanager
def _reading(reader: JournalReader) -> Iterator[None]:
    """A damaged file reads as one line naming it (StoreError, exit 2), as the reader's own queries do."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot read the icbot database {reader.path}: {exc}") from None


def _word(cls: type[E]) -> Callable[[Any], E]:
    """A stored word as its enum member; a word the enum does not know is its UNKNOWN member, else an error."""
    members = {m.value: m for m in cls}
    unknown = cls.__members__.get("UNKNOWN")

    def convert(value: Any) -> E:
        member = members.get(value, unknown)
        if member is None:
            raise ValueError(f"not a {cls.__name__}: {value!r}")
        return member

    return convert


def _trade_converters() -> dict[str, Callable[[Any], Any] | None]:
    """Per Trade field: how a non-NULL stored value becomes the field's value (None: SQLite's value as it is)."""
    out: dict[str, Callable[[Any], Any] | None] = {}
    for name, tp in field_types(Trade).items():
        if tp is datetime:
            out[name] = instant
        elif tp is date:
            out[name] = date.fromisoformat
        elif tp is bool:
            out[name] = bool
        elif isinstance(tp, type) and issubclass(tp, StrEnum):
            out[name] = _word(tp)
        else:  # int, float, str: SQLite returns them as such
            out[name] = None
    return out


_TRADE_CONVERT = _trade_converters()


def trades_of(reader: JournalReader, mode: str) -> list[Trade]:
    """Every trade row of `mode`, by trade date: the records `JournalReader.trade` would give, read in one query.

    Only the columns that need it are converted (instants, dates, flags, words); ten years are 2,520 rows of 40
    columns, and rows.py's general conversion, which visits every column of every row, takes several times as long.
    """
    with _reading(reader):
        rows = reader.conn.execute("SELECT * FROM trades WHERE mode = ? ORDER BY trade_date", (mode,)).fetchall()
    out = []
    for row in rows:
        try:
            values = {
                k: (v if v is None or conv is None else conv(v))
                for k, v in row.items()
                if (conv := _TRADE_CONVERT.get(k, _SKIP)) is not _SKIP
            }
            out.append(Trade(**values))
        except (TypeError, ValueError) as exc:
            day = row.get("trade_date")
            raise StoreError(f"cannot read the trade of {day} ({mode}) from {reader.path}: {exc}") from None
    return out


def fills_by_day(
    reader: JournalReader, mode: str, start: date | None = None, end: date | None = None
) -> dict[date, list[Fill]]:
    """The mode's leg executions per trade date in [start, end], as `JournalReader.fills(day, mode)` has them."""
    where, params = _between(start, end)
    columns = ", ".join(f'"{name}"' for name in _FILL_FIELDS)
    cursor = reader.conn.cursor()
    cursor.row_factory = None  # plain tuples, in _FILL_FIELDS order
    with _reading(reader):
        rows = cursor.execute(
            f"SELECT {columns} FROM fills WHERE mode = ?{where} ORDER BY id", [mode, *params]
        ).fetchall()
    by_day: dict[date, list[Fill]] = {}
    days: dict[str, date] = {}
    roles = {r.value: r for r in Role}
    the_mode = Mode(mode)
    for values in rows:
        v = list(values)
        day = days.get(v[_DAY]) or days.setdefault(v[_DAY], date.fromisoformat(v[_DAY]))
        v[_DAY], v[_MODE], v[_AT] = day, the_mode, instant(v[_AT])
        v[_ROLE] = roles.get(v[_ROLE], Role.UNKNOWN)  # as rows.py reads it: a word that is no role is UNKNOWN
        by_day.setdefault(day, []).append(Fill(*v))
    return {day: current_executions(by_day[day], lambda f: f.exec_id) for day in sorted(by_day)}


def fills_without_commission(
    reader: JournalReader, mode: str, start: date | None = None, end: date | None = None
) -> set[date]:
    """Trade dates on which an execution (in its latest revision) still lacks IB's commission report."""
    where, params = _between(start, end)
    sql = f"SELECT DISTINCT trade_date FROM fills WHERE mode = ? AND commission IS NULL{where}"
    with _reading(reader):
        days = [date.fromisoformat(row["trade_date"]) for row in reader.conn.execute(sql, [mode, *params])]
    # a NULL on a superseded revision does not count: judge those few days as the day's fills read
    return {day for day in days if any(f.commission is None for f in reader.fills(day, mode))}


def event_figures(
    reader: JournalReader,
    mode: str,
    key: str,
    *,
    phase: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> dict[date, Any]:
    """The first value journaled under `key` in an event's data on each trade date (of `phase`, if given)."""
    where, params = _between(start, end)
    if phase is not None:
        where += " AND phase = ?"
        params.append(phase)
    sql = (
        "SELECT trade_date, json_extract(data, ?) AS value FROM events "
        f"WHERE mode = ? AND data IS NOT NULL AND json_extract(data, ?) IS NOT NULL{where} ORDER BY id"
    )
    path = f"$.{key}"
    out: dict[date, Any] = {}
    with _reading(reader):
        for row in reader.conn.execute(sql, [path, mode, path, *params]):
            out.setdefault(date.fromisoformat(row["trade_date"]), row["value"])
    return out
