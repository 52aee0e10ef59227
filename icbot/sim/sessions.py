"""Which day the simulator trades and when it closes, from the shared XNYS calendar (icbot.core.schedule).

Kept out of the server so tests that pin their own date and close never pay for building the calendar
(about 0.4 s, once per process).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from icbot.clock import NEW_YORK

REGULAR_CLOSE = time(16, 0)


def early_close(day: date) -> time | None:
    """The session's close if it is earlier than 16:00 (day after Thanksgiving, Christmas Eve, ...), else None.

    Outside the bundled calendar's range, or on a non-session day, the day is treated as regular.
    """
    from icbot.core.schedule import shared_calendar

    cal = shared_calendar()
    key = day.isoformat()
    try:
        if not cal.is_session(key):
            return None
        close = cal.session_close(key).to_pydatetime().astimezone(NEW_YORK).time()
    except Exception:  # exchange_calendars raises its own types for out-of-range dates
        return None
    return close if close < REGULAR_CLOSE else None


def next_session_start(now_ny: datetime, at: time = time(9, 31)) -> datetime | None:
    """`at` (New York) on the first XNYS session whose `at` is still ahead of `now_ny`; None within 30 days."""
    from icbot.core.schedule import shared_calendar

    cal = shared_calendar()
    day = now_ny.date()
    for _ in range(30):
        if cal.is_session(day.isoformat()):
            start = datetime.combine(day, at, NEW_YORK)
            if start > now_ny:
                return start
        day += timedelta(days=1)
    return None
