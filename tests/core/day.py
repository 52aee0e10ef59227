"""One ordinary session for the pure tables: 2026-11-24, entry 09:32, deadline 09:33, time exit 11:30 ET."""

from __future__ import annotations

from datetime import date, datetime

from icbot.core.schedule import SessionTimes
from icbot.core.zones import NEW_YORK

DAY = date(2026, 11, 24)


def ny(hhmm: str, day: date = DAY) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, tzinfo=NEW_YORK)


SESSION = SessionTimes(
    date=DAY,
    open=ny("09:30"),
    close=ny("16:00"),
    is_early_close=False,
    entry_at=ny("09:32"),
    deadline_at=ny("09:33"),
    time_exit_at=ny("11:30"),
)
