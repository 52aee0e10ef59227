"""How the report writes numbers for people (terminal and HTML): one place, so both read alike.

CSV and JSON never use these: they carry the numbers unformatted.
"""

from __future__ import annotations

from datetime import datetime

from icbot.core.zones import NEW_YORK

NONE = "—"

EXIT_LABELS = {
    "take_profit": "profit target",
    "stop": "stop",
    "time_exit": "time exit",
    "manual": "by hand",
    "expired": "expired",
    "unknown": "unknown",
}


def money(value: float | None, *, cents: bool = True, sign: bool = False) -> str:
    """Dollars: -$1,234.56 (or without cents); `sign` adds + to gains."""
    if value is None:
        return NONE
    body = f"${abs(value):,.2f}" if cents else f"${abs(value):,.0f}"
    if value < 0 and round(abs(value), 2 if cents else 0) != 0:
        return "-" + body
    return ("+" + body) if sign and value > 0 else body


def pct(value: float | None, digits: int = 1, *, sign: bool = False) -> str:
    if value is None:
        return NONE
    return f"{value:+.{digits}f}%" if sign else f"{value:.{digits}f}%"


def num(value: float | None, digits: int = 2, *, sign: bool = False) -> str:
    if value is None:
        return NONE
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def ratio(value: float | None, *, infinite_when: bool = False) -> str:
    """A profit factor or MAR: ∞ when it is undefined because nothing was lost."""
    if value is None:
        return "∞" if infinite_when else NONE
    return f"{value:.2f}"


def hhmm(at: datetime | None, *, seconds: bool = True) -> str:
    """An instant as New York wall time."""
    if at is None:
        return NONE
    return at.astimezone(NEW_YORK).strftime("%H:%M:%S" if seconds else "%H:%M")


def exit_label(group: str) -> str:
    return EXIT_LABELS.get(group, group or NONE)


def strike(value: float | None) -> str:
    return NONE if value is None else f"{value:g}"
