"""When to act on a given day, in New York time, from the exchange calendar and the configuration.

Every instant is an aware America/New_York datetime computed from the calendar's own open and close, so
the machine's time zone and the US/EU daylight-saving mismatch weeks cannot move the entry: 09:32 ET is
09:32 ET, whatever the Mac in Berlin thinks.

Time-exit clamping (docs/strategy.md): the time exit is never later than the session close minus
EXIT_MARGIN (15 minutes). With the configuration's own limit (time_exit ≤ 15:45) this only bites on early
closes: on a 13:00 half day an 11:30 exit stays 11:30, a 13:30 exit becomes 12:45.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from icbot.core.zones import NEW_YORK as NEW_YORK  # re-exported: one definition, many importers

if TYPE_CHECKING:
    from exchange_calendars import ExchangeCalendar

    from icbot.config import EntryConfig, ExitsConfig

REGULAR_CLOSE = time(16, 0)
EXIT_MARGIN = timedelta(minutes=15)


class OutOfCalendarRange(ValueError):
    """A date the bundled calendar does not cover; refusing beats guessing whether the market is open."""


@dataclass(frozen=True, slots=True)
class SessionTimes:
    """One trading day's key instants, all aware America/New_York datetimes."""

    date: date
    open: datetime
    close: datetime
    is_early_close: bool
    entry_at: datetime
    deadline_at: datetime
    time_exit_at: datetime
    time_exit_clamped: bool = False


@dataclass(frozen=True, slots=True)
class SkippedDay:
    """A weekday without a session (a holiday or a special closure)."""

    date: date
    name: str


def shared_calendar() -> ExchangeCalendar:
    """The process-wide XNYS calendar (icbot.core.calendar.load_calendar), built on first use."""
    from icbot.core.calendar import load_calendar

    return load_calendar()


def calendar_range(cal: ExchangeCalendar) -> tuple[date, date]:
    """The first and last session the calendar covers."""
    return cal.first_session.date(), cal.last_session.date()


def _check(cal: ExchangeCalendar, day: date) -> None:
    first, last = calendar_range(cal)
    if not first <= day <= last:
        raise OutOfCalendarRange(f"{day.isoformat()} is outside the exchange calendar's range {first} to {last}")


def is_session(cal: ExchangeCalendar, day: date) -> bool:
    """True when XNYS trades on `day` (a New York calendar date)."""
    _check(cal, day)
    return bool(cal.is_session(day.isoformat()))


def _ny(ts: object) -> datetime:
    """A pandas UTC Timestamp as an aware New York datetime."""
    return ts.to_pydatetime().astimezone(NEW_YORK)  # type: ignore[attr-defined]


def session_times(
    cal: ExchangeCalendar, day: date, entry_cfg: EntryConfig, exits_cfg: ExitsConfig
) -> SessionTimes | None:
    """The day's open, close, entry, deadline and time exit; None when `day` is not a session."""
    if not is_session(cal, day):
        return None
    key = day.isoformat()
    return times_for_session(day, _ny(cal.session_open(key)), _ny(cal.session_close(key)), entry_cfg, exits_cfg)


def times_for_session(
    day: date, open_at: datetime, close_at: datetime, entry_cfg: EntryConfig, exits_cfg: ExitsConfig
) -> SessionTimes:
    """A session's key instants from its open and close (aware datetimes) and the configuration.

    The one place entry, deadline and the clamped time exit are derived, whoever knows the session's hours
    (the exchange calendar here; the cached session table of `icbot status`, icbot.core.session_table).
    """
    open_at, close_at = open_at.astimezone(NEW_YORK), close_at.astimezone(NEW_YORK)
    # Offsets are added in UTC: wall-clock arithmetic on aware datetimes would be wrong across a DST switch.
    open_utc = open_at.astimezone(UTC)
    entry_at = (open_utc + timedelta(minutes=entry_cfg.minutes_after_open)).astimezone(NEW_YORK)
    deadline_at = (open_utc + timedelta(minutes=entry_cfg.deadline_minutes_after_open)).astimezone(NEW_YORK)
    wanted_exit = datetime.combine(day, exits_cfg.time_exit, tzinfo=NEW_YORK)
    latest_exit = (close_at.astimezone(UTC) - EXIT_MARGIN).astimezone(NEW_YORK)
    clamped = wanted_exit > latest_exit
    return SessionTimes(
        date=day,
        open=open_at,
        close=close_at,
        is_early_close=close_at.timetz().replace(tzinfo=None) < REGULAR_CLOSE,
        entry_at=entry_at,
        deadline_at=deadline_at,
        time_exit_at=latest_exit if clamped else wanted_exit,
        time_exit_clamped=clamped,
    )


def next_sessions(
    cal: ExchangeCalendar, from_day: date, n: int, entry_cfg: EntryConfig, exits_cfg: ExitsConfig
) -> list[SessionTimes]:
    """The first `n` sessions on or after `from_day`."""
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    _check(cal, from_day)
    out: list[SessionTimes] = []
    day = from_day
    _, last = calendar_range(cal)
    while len(out) < n:
        if day > last:
            raise OutOfCalendarRange(f"fewer than {n} sessions between {from_day} and the calendar's end {last}")
        times = session_times(cal, day, entry_cfg, exits_cfg)
        if times is not None:
            out.append(times)
        day += timedelta(days=1)
    return out


def skipped_weekdays(cal: ExchangeCalendar, start: date, end: date) -> list[SkippedDay]:
    """Monday–Friday dates in [start, end] on which XNYS does not trade, with the holiday's name if known."""
    _check(cal, start)
    _check(cal, end)
    names: dict[date, str] = {}
    rules = getattr(cal, "regular_holidays", None)
    if rules is not None and end >= start:
        named = rules.holidays(start.isoformat(), end.isoformat(), return_name=True)
        names = {ts.date(): str(name) for ts, name in named.items()}
    out: list[SkippedDay] = []
    day = start
    while day <= end:
        if day.weekday() < 5 and not cal.is_session(day.isoformat()):
            out.append(SkippedDay(day, names.get(day, "market closed")))
        day += timedelta(days=1)
    return out
