"""The XNYS sessions as a small table: what `icbot status` asks of the calendar, without loading it.

exchange_calendars (and pandas under it) takes about half a second to import, more than `status --offline` may
take in all. What status needs — is a day a session, its open and close, the next session's entry — fits in a
few hundred lines of data: every Monday–Friday is a 09:30–16:00 session except the days listed. So the table
holds only the exceptions over the whole range the bundled calendar covers (icbot.core.calendar, 2020–2035):

* ``closed``: weekdays without a session (holidays, special closures), with the holiday's name;
* ``hours``: sessions whose New York open or close is not 09:30/16:00 (half days), and any weekend session.

It is built from the exchange calendar itself (`table_from_calendar`), so it answers exactly what
exchange_calendars answers for every day of the range (tests/core/test_session_table.py compares them day by
day); the instants it gives go through the same `icbot.core.schedule.times_for_session` as run-today's. The runner
keeps it in a small cache file keyed by the exchange_calendars version (icbot/runner/sessions.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from icbot.core.schedule import OutOfCalendarRange, SessionTimes, SkippedDay, times_for_session
from icbot.core.zones import NEW_YORK

if TYPE_CHECKING:
    from exchange_calendars import ExchangeCalendar

    from icbot.config import EntryConfig, ExitsConfig

REGULAR_OPEN = time(9, 30)
REGULAR_CLOSE = time(16, 0)
FORMAT = 2  # bump when the JSON form changes: an older cache is then rebuilt (2: with its checksum)


@dataclass(frozen=True, slots=True)
class SessionTable:
    """XNYS sessions from `first` to `last` (both sessions), as exceptions to Monday–Friday 09:30–16:00 ET."""

    first: date
    last: date
    closed: Mapping[date, str] = field(default_factory=dict)
    hours: Mapping[date, tuple[time, time]] = field(default_factory=dict)
    source: str = ""

    def _check(self, day: date) -> None:
        if not self.first <= day <= self.last:
            raise OutOfCalendarRange(
                f"{day.isoformat()} is outside the exchange calendar's range {self.first} to {self.last}"
            )

    def is_session(self, day: date) -> bool:
        self._check(day)
        if day in self.hours:
            return True
        return day.weekday() < 5 and day not in self.closed

    def holiday(self, day: date) -> str | None:
        """The name of the holiday or closure when `day` is a weekday without a session; None otherwise."""
        self._check(day)
        return self.closed.get(day)

    def open_close(self, day: date) -> tuple[datetime, datetime] | None:
        """The session's open and close as aware New York datetimes; None when `day` is not a session."""
        if not self.is_session(day):
            return None
        opens, closes = self.hours.get(day, (REGULAR_OPEN, REGULAR_CLOSE))
        return datetime.combine(day, opens, tzinfo=NEW_YORK), datetime.combine(day, closes, tzinfo=NEW_YORK)

    def session_times(self, day: date, entry_cfg: EntryConfig, exits_cfg: ExitsConfig) -> SessionTimes | None:
        """Like `icbot.core.schedule.session_times` (same instants), from the table."""
        hours = self.open_close(day)
        if hours is None:
            return None
        return times_for_session(day, hours[0], hours[1], entry_cfg, exits_cfg)

    def next_entry(self, now: datetime, entry_cfg: EntryConfig, exits_cfg: ExitsConfig) -> SessionTimes:
        """The first session whose entry instant is at or after `now` (today's while 09:32 ET is still ahead)."""
        day = now.astimezone(NEW_YORK).date()
        while True:
            if day > self.last:
                raise OutOfCalendarRange(
                    f"no session after {now.date()} within the exchange calendar (ends {self.last})"
                )
            if day >= self.first:
                times = self.session_times(day, entry_cfg, exits_cfg)
                if times is not None and times.entry_at >= now:
                    return times
            day += timedelta(days=1)

    def next_sessions(
        self, from_day: date, n: int, entry_cfg: EntryConfig, exits_cfg: ExitsConfig
    ) -> list[SessionTimes]:
        """The first `n` sessions on or after `from_day` (as `icbot.core.schedule.next_sessions` from the calendar)."""
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}")
        self._check(from_day)
        out: list[SessionTimes] = []
        day = from_day
        while len(out) < n:
            if day > self.last:
                raise OutOfCalendarRange(
                    f"fewer than {n} sessions between {from_day} and the calendar's end {self.last}"
                )
            times = self.session_times(day, entry_cfg, exits_cfg)
            if times is not None:
                out.append(times)
            day += timedelta(days=1)
        return out

    def sessions_between(
        self, start: date, end: date, entry_cfg: EntryConfig, exits_cfg: ExitsConfig
    ) -> tuple[SessionTimes, ...]:
        """The sessions in [start, end] with their times, the range clamped to the table's."""
        day, end = max(start, self.first), min(end, self.last)
        out = []
        while day <= end:
            times = self.session_times(day, entry_cfg, exits_cfg)
            if times is not None:
                out.append(times)
            day += timedelta(days=1)
        return tuple(out)

    def skipped_weekdays(self, start: date, end: date) -> list[SkippedDay]:
        """Monday–Friday dates in [start, end] without a session, with the holiday's name (as
        `icbot.core.schedule.skipped_weekdays` from the calendar)."""
        self._check(start)
        self._check(end)
        return [SkippedDay(day, name) for day, name in sorted(self.closed.items()) if start <= day <= end]

    # -- the cache file's form -------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        body = {
            "format": FORMAT,
            "source": self.source,
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "closed": {d.isoformat(): name for d, name in sorted(self.closed.items())},
            "hours": {d.isoformat(): [f"{o:%H:%M}", f"{c:%H:%M}"] for d, (o, c) in sorted(self.hours.items())},
        }
        return body | {"sha256": _digest(body)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SessionTable:
        """The table from `to_json`'s form; ValueError when it is not that form or its content does not match its
        checksum (a truncated or hand-edited file: the cache is then rebuilt, never trusted by run-today)."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ValueError("not a session table of this icbot version")
        body = {k: v for k, v in data.items() if k != "sha256"}
        if data.get("sha256") != _digest(body):
            raise ValueError("the session table does not match its checksum")
        try:
            return cls(
                first=date.fromisoformat(data["first"]),
                last=date.fromisoformat(data["last"]),
                closed={date.fromisoformat(d): str(name) for d, name in data["closed"].items()},
                hours={
                    date.fromisoformat(d): (time.fromisoformat(o), time.fromisoformat(c))
                    for d, (o, c) in data["hours"].items()
                },
                source=str(data.get("source", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"malformed session table: {exc}") from None


def _digest(body: Mapping[str, Any]) -> str:
    """The checksum of a table's JSON form, over a canonical rendering (sorted keys, no spaces)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def table_from_calendar(cal: ExchangeCalendar, source: str = "") -> SessionTable:
    """The exceptions of `cal` (an exchange_calendars calendar) over its whole range."""
    sessions: dict[date, tuple[time, time]] = {}
    for label, opens, closes in zip(cal.sessions, cal.opens, cal.closes, strict=True):
        o = opens.to_pydatetime().astimezone(NEW_YORK)
        c = closes.to_pydatetime().astimezone(NEW_YORK)
        sessions[label.date()] = (time(o.hour, o.minute, o.second), time(c.hour, c.minute, c.second))
    first, last = min(sessions), max(sessions)
    names: dict[date, str] = {}
    rules = getattr(cal, "regular_holidays", None)
    if rules is not None:
        named = rules.holidays(first.isoformat(), last.isoformat(), return_name=True)
        names = {ts.date(): str(name) for ts, name in named.items()}
    closed: dict[date, str] = {}
    day = first
    while day <= last:
        if day.weekday() < 5 and day not in sessions:
            closed[day] = names.get(day, "market closed")
        day += timedelta(days=1)
    hours = {day: span for day, span in sessions.items() if day.weekday() >= 5 or span != (REGULAR_OPEN, REGULAR_CLOSE)}
    return SessionTable(first=first, last=last, closed=closed, hours=hours, source=source)
