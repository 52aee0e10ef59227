"""How Python values become SQLite values in the journal, and back.

One place decides the textual forms, so every row sorts and compares the same way whoever wrote it:
instants are ISO-8601 in UTC with an explicit offset and microseconds (lexical order = time order), trade
dates are ``YYYY-MM-DD``, money and prices are REAL rounded to 1e-6 (IB quotes to 0.01 and commissions to
1e-4; six places keeps sums exact enough without float noise such as 2.3499999999999996), structured
values are JSON text, flags are 0/1, enum members their text. The way back is rows.py.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

MONEY_PLACES = 6


def iso_at(at: datetime) -> str:
    """An aware instant as UTC text; a naive datetime is refused because its zone would be a guess."""
    if not isinstance(at, datetime):
        raise TypeError(f"expected an aware datetime, got {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()} has no UTC offset; pass an aware datetime")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def iso_instant(value: datetime | str) -> str:
    """`iso_at` for a column that also takes ISO text (older callers journaled ``at.isoformat()``)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return iso_at(value)


def iso_date(day: date) -> str:
    """A trade date as ``YYYY-MM-DD``; a datetime is refused so a time of day never leaks into the key."""
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"trade_date must be a datetime.date, got {type(day).__name__}")
    return day.isoformat()


def money(value: float | int | Decimal | None) -> float | None:
    """REAL rounded to 1e-6; None stays NULL."""
    if value is None:
        return None
    return round(float(value), MONEY_PLACES)


def to_json(value: Any) -> str:
    """Compact, key-sorted JSON so equal data is equal text; dates and Decimals become strings/floats."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_at(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def to_column(value: Any, sqltype: str) -> Any:
    """One Python value as the journal stores it in a column of `sqltype` ."""
    if value is None:
        return None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return iso_at(value)
    if isinstance(value, date):
        return iso_date(value)
    if isinstance(value, dict | list | tuple):
        return to_json(value)
    if sqltype == "REAL" and isinstance(value, int | float | Decimal):
        return money(value)
    if sqltype == "INTEGER" and isinstance(value, float | Decimal) and float(value).is_integer():
        return int(value)
    return value
