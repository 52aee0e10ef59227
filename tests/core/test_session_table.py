"""The session table `icbot status` reads instead of loading exchange_calendars must answer exactly what the
calendar answers — every day of the range, holidays and half days included — and find the next entry."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import pytest

from icbot.config import EntryConfig, ExitsConfig
from icbot.core.schedule import OutOfCalendarRange, next_sessions, session_times, skipped_weekdays
from icbot.core.session_table import SessionTable, table_from_calendar
from icbot.core.zones import NEW_YORK

ENTRY, EXITS = EntryConfig(), ExitsConfig()


@pytest.fixture(scope="module")
def table(cal) -> SessionTable:
    return table_from_calendar(cal, source="test")


def test_every_day_of_the_range_matches_the_exchange_calendar(cal, table):
    assert (table.first, table.last) == (cal.first_session.date(), cal.last_session.date())
    day = table.first
    while day <= table.last:
        assert table.session_times(day, ENTRY, EXITS) == session_times(cal, day, ENTRY, EXITS), day
        day += timedelta(days=1)


def test_the_json_form_round_trips_and_stays_small(table):
    text = json.dumps(table.to_json())
    assert SessionTable.from_json(json.loads(text)) == table
    assert len(text) < 20_000


@pytest.mark.parametrize("bad", [{}, {"format": 0}, {"format": 1, "first": "x"}, [], "text"])
def test_a_malformed_cache_is_refused(bad):
    with pytest.raises(ValueError):
        SessionTable.from_json(bad)


NEXT_ROWS = [
    # now (New York)         -> next entry (New York), half day
    ("2026-11-24 09:00", "2026-11-24 09:32", False),  # before today's entry: today's
    ("2026-11-24 09:32", "2026-11-24 09:32", False),  # at the entry instant: still today's
    ("2026-11-24 09:32:01", "2026-11-25 09:32", False),
    ("2026-11-25 12:00", "2026-11-27 09:32", True),  # Thanksgiving skipped; Black Friday closes at 13:00
    ("2026-11-26 08:00", "2026-11-27 09:32", True),  # on the holiday itself
    ("2026-11-27 10:00", "2026-11-30 09:32", False),  # over the weekend
    ("2026-12-24 10:00", "2026-12-28 09:32", False),  # Christmas Eve half day past; Christmas; weekend
    ("2026-03-06 10:00", "2026-03-09 09:32", False),  # the US DST switch: still 09:32 New York time
]


@pytest.mark.parametrize(("now", "entry", "half_day"), NEXT_ROWS)
def test_next_entry(table, now, entry, half_day):
    at = datetime.fromisoformat(now).replace(tzinfo=NEW_YORK)
    times = table.next_entry(at, ENTRY, EXITS)
    assert times.entry_at == datetime.fromisoformat(entry).replace(tzinfo=NEW_YORK)
    assert times.is_early_close is half_day


def test_holidays_and_half_days_are_named(table):
    assert table.holiday(date(2026, 11, 26)) == "Thanksgiving"
    assert table.holiday(date(2026, 11, 28)) is None  # a Saturday is no holiday
    assert table.open_close(date(2026, 11, 27)) == (
        datetime(2026, 11, 27, 9, 30, tzinfo=NEW_YORK),
        datetime(2026, 11, 27, 13, 0, tzinfo=NEW_YORK),
    )
    assert table.hours[date(2026, 11, 27)] == (time(9, 30), time(13, 0))


def test_outside_the_range_is_refused_not_guessed(table):
    with pytest.raises(OutOfCalendarRange):
        table.is_session(table.last + timedelta(days=1))
    with pytest.raises(OutOfCalendarRange):
        table.next_entry(datetime.combine(table.last, time(12), tzinfo=NEW_YORK), ENTRY, EXITS)


# Start days for the list-like questions: holidays, half days, weekends, the DST switches and the range's ends.
STARTS = [
    date(2020, 1, 2),
    date(2026, 3, 6),
    date(2026, 11, 24),
    date(2026, 11, 26),
    date(2026, 11, 28),
    date(2026, 12, 24),
    date(2027, 3, 26),
    date(2027, 10, 29),
    date(2035, 12, 20),
]


@pytest.mark.parametrize("start", STARTS, ids=str)
def test_next_sessions_skipped_weekdays_and_sessions_between_are_the_calendars(cal, table, start):
    """`icbot schedule`, install, doctor, resume and the demo ask these of the table: each answer must be what
    the calendar functions of icbot.core.schedule give."""
    n = 8 if start < date(2035, 12, 1) else 6
    sessions = table.next_sessions(start, n, ENTRY, EXITS)
    assert sessions == next_sessions(cal, start, n, ENTRY, EXITS)
    end = sessions[-1].date
    assert table.skipped_weekdays(start, end) == skipped_weekdays(cal, start, end)
    until = min(end + timedelta(days=3), table.last)
    days = [start + timedelta(days=k) for k in range((until - start).days + 1)]
    expected = tuple(t for t in (session_times(cal, d, ENTRY, EXITS) for d in days) if t is not None)
    assert table.sessions_between(start, until, ENTRY, EXITS) == expected


def test_the_lists_end_where_the_calendar_ends(cal, table):
    with pytest.raises(OutOfCalendarRange):
        table.next_sessions(table.last - timedelta(days=3), 10, ENTRY, EXITS)
    with pytest.raises(OutOfCalendarRange):
        next_sessions(cal, table.last - timedelta(days=3), 10, ENTRY, EXITS)
    assert (
        table.sessions_between(table.last - timedelta(days=6), table.last + timedelta(days=30), ENTRY, EXITS)[-1].date
        == table.last
    )
    with pytest.raises(OutOfCalendarRange):
        table.skipped_weekdays(table.first, table.last + timedelta(days=1))
