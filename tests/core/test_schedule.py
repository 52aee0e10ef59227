"""Session times across holidays, half days and the US/EU DST mismatch weeks of 2026–2027."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from icbot.config import EntryConfig, ExitsConfig
from icbot.core.calendar import CALENDAR_END, CALENDAR_START
from icbot.core.schedule import (
    NEW_YORK,
    OutOfCalendarRange,
    is_session,
    next_sessions,
    session_times,
    skipped_weekdays,
)

BERLIN = ZoneInfo("Europe/Berlin")
ENTRY, EXITS = EntryConfig(), ExitsConfig()

HOLIDAYS_2026 = ["01-01", "01-19", "02-16", "04-03", "05-25", "06-19", "07-03", "09-07", "11-26", "12-25"]
HOLIDAYS_2027 = ["01-01", "01-18", "02-15", "03-26", "05-31", "06-18", "07-05", "09-06", "11-25", "12-24"]
EARLY_CLOSES = [date(2026, 11, 27), date(2026, 12, 24), date(2027, 11, 26)]


def test_calendar_covers_the_documented_range(cal):
    assert cal.first_session.date() <= date(2020, 1, 2)
    assert cal.last_session.date() == date(2035, 12, 31)
    assert (date(2020, 1, 1), date(2035, 12, 31)) == (CALENDAR_START, CALENDAR_END)


@pytest.mark.parametrize("day", [f"2026-{d}" for d in HOLIDAYS_2026] + [f"2027-{d}" for d in HOLIDAYS_2027])
def test_the_verified_holidays_are_not_sessions(cal, day):
    assert not is_session(cal, date.fromisoformat(day))
    assert session_times(cal, date.fromisoformat(day), ENTRY, EXITS) is None


def test_every_session_of_2026_and_2027_enters_at_0932_new_york(cal):
    sessions = next_sessions(cal, date(2026, 1, 1), 502, ENTRY, EXITS)
    assert sessions[-1].date == date(2027, 12, 31)  # 502 sessions exactly fill the two years
    for s in sessions:
        assert s.entry_at.tzinfo == NEW_YORK
        assert s.entry_at.timetz().replace(tzinfo=None) == time(9, 32)
        assert s.deadline_at - s.entry_at == timedelta(minutes=1)
        assert s.open.time() == time(9, 30)
        assert s.is_early_close == (s.date in EARLY_CLOSES)
        assert s.close.time() == (time(13, 0) if s.is_early_close else time(16, 0))
        assert s.time_exit_at.time() == time(11, 30)
        assert not s.time_exit_clamped


@pytest.mark.parametrize(
    ("day", "berlin", "utc_hour"),
    [
        ("2026-03-06", "15:32", 14),  # both on winter time: 6 h apart
        ("2026-03-09", "14:32", 13),  # US on DST, Europe not yet: 5 h
        ("2026-03-27", "14:32", 13),
        ("2026-03-30", "15:32", 13),  # both on summer time
        ("2026-10-23", "15:32", 13),
        ("2026-10-26", "14:32", 13),  # Europe back on winter time, US still on DST
        ("2026-10-30", "14:32", 13),
        ("2026-11-02", "15:32", 14),
        ("2027-03-15", "14:32", 13),
        ("2027-03-25", "14:32", 13),
        ("2027-11-01", "14:32", 13),
        ("2027-11-08", "15:32", 14),
    ],
)
def test_entry_in_berlin_and_utc_follows_both_dst_rules(cal, day, berlin, utc_hour):
    s = session_times(cal, date.fromisoformat(day), ENTRY, EXITS)
    assert s is not None
    assert f"{s.entry_at.astimezone(BERLIN):%H:%M}" == berlin
    assert s.entry_at.astimezone(UTC) == datetime.fromisoformat(f"{day}T{utc_hour:02d}:32:00+00:00")


def test_half_day_clamps_a_late_time_exit_to_close_minus_15(cal):
    late = ExitsConfig(time_exit=time(12, 50))
    s = session_times(cal, date(2026, 11, 27), ENTRY, late)
    assert s is not None and s.is_early_close
    assert s.time_exit_at == datetime(2026, 11, 27, 12, 45, tzinfo=NEW_YORK)
    assert s.time_exit_clamped
    regular = session_times(cal, date(2026, 11, 25), ENTRY, late)
    assert regular is not None and regular.time_exit_at.time() == time(12, 50) and not regular.time_exit_clamped


def test_next_sessions_skips_thanksgiving_and_lists_it(cal):
    sessions = next_sessions(cal, date(2026, 11, 20), 5, ENTRY, EXITS)
    assert [s.date.isoformat() for s in sessions] == [
        "2026-11-20",
        "2026-11-23",
        "2026-11-24",
        "2026-11-25",
        "2026-11-27",
    ]
    skipped = skipped_weekdays(cal, date(2026, 11, 20), sessions[-1].date)
    assert [(d.date, d.name) for d in skipped] == [(date(2026, 11, 26), "Thanksgiving")]


def test_adhoc_closure_is_listed_without_a_rule_name(cal):
    skipped = skipped_weekdays(cal, date(2025, 1, 6), date(2025, 1, 10))
    assert [d.date for d in skipped] == [date(2025, 1, 9)]  # national day of mourning for President Carter


def test_dates_outside_the_calendar_are_refused(cal):
    with pytest.raises(OutOfCalendarRange):
        is_session(cal, date(2036, 1, 2))
    with pytest.raises(OutOfCalendarRange):
        next_sessions(cal, date(2035, 12, 20), 30, ENTRY, EXITS)
