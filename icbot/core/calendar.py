"""The one shared XNYS exchange calendar.

Building an exchange_calendars calendar costs a few hundred milliseconds and, by default, only covers up
to one year ahead of *today* — a hidden dependency on the wall clock. icbot builds it once per process
with a fixed range, CALENDAR_START..CALENDAR_END (2020-01-01..2035-12-31), and caches it. Dates outside
the range are refused loudly (icbot.core.schedule.OutOfCalendarRange) rather than guessed. NYSE announces
holidays about three years ahead and exchange_calendars encodes the rules, so years far ahead are
projections: upgrade exchange_calendars yearly (ad-hoc closures such as a national day of mourning only
arrive with an update).

XNYS, not a Cboe calendar: exchange_calendars has no Cboe options calendar, and XNYS is the one that gets
the half days right (operations-notes §2). SPXW's own hours are modelled in icbot.core.schedule.
"""

from __future__ import annotations

import functools
import warnings
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from exchange_calendars import ExchangeCalendar

CALENDAR_NAME = "XNYS"
CALENDAR_START = date(2020, 1, 1)
CALENDAR_END = date(2035, 12, 31)


@functools.cache
def load_calendar() -> ExchangeCalendar:
    """The process-wide XNYS calendar for CALENDAR_START..CALENDAR_END (built on first use, then cached)."""
    import exchange_calendars

    # exchange_calendars 4.13 trips pandas 3's deprecation warnings while building; they say nothing about
    # our dates and would land on the stderr of every command, so they are silenced for this call only.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return exchange_calendars.get_calendar(
            CALENDAR_NAME, start=CALENDAR_START.isoformat(), end=CALENDAR_END.isoformat()
        )
