"""The scheduler's agents as data (icbot.core.agents): local firing times per zone, systemd calendars, comparison."""

from __future__ import annotations

import plistlib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from icbot.config import EntryConfig, ExitsConfig
from icbot.core import agents
from icbot.core.agents import CHECK, DOCTOR, LAUNCHD, RUN_TODAY, SYSTEMD, Firing, Plan
from icbot.core.schedule import NEW_YORK, session_times

START = date(2026, 11, 24)
MON_FRI = {1, 2, 3, 4, 5}
TUE_SAT = {2, 3, 4, 5, 6}


def plan(cal, zone: str, platform: str = LAUNCHD, start: date = START, **kw) -> Plan:
    until = agents.valid_until(start)
    sessions = []
    day = start
    while day <= until:
        s = session_times(cal, day, EntryConfig(), ExitsConfig())
        if s is not None:
            sessions.append(s)
        day += timedelta(days=1)
    args = {"icbot": "/Users/me/icbot/.venv/bin/icbot", "config": "/Users/me/icbot/config.yaml", "log_dir": "/L"}
    args.update(kw)
    return Plan(platform, zone_name=zone, zone=ZoneInfo(zone), generated_on=start, valid_until=until,
                sessions=tuple(sessions), **args)  # fmt: skip


def times(firings) -> dict[str, set[int | None]]:
    out: dict[str, set[int | None]] = {}
    for f in firings:
        out.setdefault(f"{f.hour:02d}:{f.minute:02d}", set()).add(f.weekday)
    return out


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/Berlin", {"14:31": MON_FRI, "15:31": MON_FRI}),
        ("America/New_York", {"09:31": MON_FRI}),
        ("America/Los_Angeles", {"06:31": MON_FRI}),
        ("America/Chicago", {"08:31": MON_FRI}),
        ("Europe/London", {"13:31": MON_FRI, "14:31": MON_FRI}),
        ("Asia/Tokyo", {"22:31": MON_FRI, "23:31": MON_FRI}),
        # Sydney: 23:31 the same day while New York is on summer and Sydney on winter time, else 00:31 or 01:31
        # the next morning — Tuesday to Saturday.
        ("Australia/Sydney", {"23:31": MON_FRI, "00:31": TUE_SAT, "01:31": TUE_SAT}),
    ],
)
def test_run_today_fires_at_every_local_time_0931_new_york_falls_on(cal, zone, expected):
    assert times(plan(cal, zone).firings(RUN_TODAY)) == expected


def test_doctor_fires_at_0915_new_york_in_local_time(cal):
    assert times(plan(cal, "Europe/Berlin").firings(DOCTOR)) == {"14:15": MON_FRI, "15:15": MON_FRI}


def test_check_runs_every_five_minutes_from_the_entry_to_half_an_hour_after_the_close(cal):
    p = plan(cal, "America/New_York")
    firings = p.firings(CHECK)
    assert all(f.weekday is None for f in firings)
    slots = {f"{f.hour:02d}:{f.minute:02d}" for f in firings}
    assert min(slots) == "09:35" and max(slots) == "16:30" and len(slots) == 84
    # Berlin: the union of both offsets
    berlin = {f"{f.hour:02d}:{f.minute:02d}" for f in plan(cal, "Europe/Berlin").firings(CHECK)}
    assert min(berlin) == "14:35" and max(berlin) == "22:30"


def test_the_launchd_plist_is_what_launchd_needs(cal):
    p = plan(cal, "Europe/Berlin")
    files = agents.render(p)
    assert list(files) == ["com.icbot.run-today.plist", "com.icbot.doctor.plist", "com.icbot.check.plist"]
    run_today = plistlib.loads(files["com.icbot.run-today.plist"])
    assert run_today["Label"] == "com.icbot.run-today"
    assert run_today["ProgramArguments"] == ["/Users/me/icbot/.venv/bin/icbot", "run-today"]
    assert run_today["ProcessType"] == "Interactive" and run_today["RunAtLoad"] is False
    assert run_today["EnvironmentVariables"]["ICBOT_CONFIG"] == "/Users/me/icbot/config.yaml"
    assert run_today["EnvironmentVariables"]["ICBOT_SCHEDULE_ZONE"] == "Europe/Berlin"
    assert run_today["EnvironmentVariables"]["ICBOT_SCHEDULE_UNTIL"] == "2027-11-24"
    assert run_today["StandardOutPath"] == "/L/run-today.log"
    doctor = plistlib.loads(files["com.icbot.doctor.plist"])
    assert doctor["ProgramArguments"][1:] == ["doctor", "--scheduled"] and "ProcessType" not in doctor
    check = plistlib.loads(files["com.icbot.check.plist"])
    assert check["RunAtLoad"] is True


def test_systemd_timers_are_new_york_time_and_never_age(cal):
    files = agents.render(plan(cal, "Europe/Berlin", SYSTEMD))
    timer = files["icbot-run-today.timer"].decode()
    assert agents.systemd_values(timer, "OnCalendar") == ["Mon..Fri *-*-* 09:31:00 America/New_York"]
    assert "AccuracySec=1s" in timer and "Persistent=false" in timer
    check = agents.systemd_values(files["icbot-check.timer"].decode(), "OnCalendar")
    assert check == [
        "Mon..Fri *-*-* 09:35/5:00 America/New_York",
        "Mon..Fri *-*-* 10..15:00/5:00 America/New_York",
        "Mon..Fri *-*-* 16:00..30/5:00 America/New_York",
    ]
    service = files["icbot-doctor.service"].decode()
    assert "ExecStart=/Users/me/icbot/.venv/bin/icbot doctor --scheduled" in service
    assert "SuccessExitStatus" not in service  # a no-go (3) leaves the unit failed
    assert "SuccessExitStatus=3" in files["icbot-run-today.service"].decode()
    # the zone changes nothing in a systemd unit
    assert agents.render(plan(cal, "Asia/Tokyo", SYSTEMD)) == files


def test_systemd_quoting_of_paths_with_spaces_and_specifiers():
    assert agents.systemd_quote("/a b/icbot") == '"/a b/icbot"'
    assert agents.systemd_quote("/x/100%") == "/x/100%%"
    assert agents.systemd_quote("ICBOT_CONFIG=/Users/me/My Bot/$c.yaml") == '"ICBOT_CONFIG=/Users/me/My Bot/$$c.yaml"'


def test_a_changed_zone_or_a_moved_icbot_makes_the_files_stale_with_reasons(cal):
    berlin = agents.render(plan(cal, "Europe/Berlin"))["com.icbot.run-today.plist"]
    london = agents.render(plan(cal, "Europe/London"))["com.icbot.run-today.plist"]
    moved = agents.render(plan(cal, "Europe/Berlin", icbot="/opt/icbot/bin/icbot"))["com.icbot.run-today.plist"]
    assert agents.compare_file("r.plist", berlin, berlin).state == agents.CURRENT
    state = agents.compare_file("r.plist", berlin, london)
    assert state.state == agents.STALE
    assert state.reasons == ("written for time zone Europe/Berlin, this machine is in Europe/London",)
    state = agents.compare_file("r.plist", berlin, moved)
    assert state.reasons == ("runs /Users/me/icbot/.venv/bin/icbot, the installed icbot is /opt/icbot/bin/icbot",)
    assert agents.compare_file("r.plist", None, berlin).state == agents.MISSING
    assert agents.compare_file("r.plist", b"garbage", berlin).reasons == ("not a readable plist",)
    unit = agents.render(plan(cal, "Europe/Berlin", SYSTEMD))["icbot-run-today.service"]
    unit_moved = agents.render(plan(cal, "Europe/Berlin", SYSTEMD, icbot="/opt/icbot"))["icbot-run-today.service"]
    assert agents.compare_file("s", unit, unit_moved).reasons == (
        "runs /Users/me/icbot/.venv/bin/icbot, the installed icbot is /opt/icbot",
    )


@pytest.mark.parametrize(
    ("today", "summary", "due"),
    [
        (date(2026, 12, 1), "current (local times for Europe/Berlin through 2027-11-24)", False),
        (date(2027, 10, 24), "current, but the local times run out on 2027-11-24 (in 31 days)", True),
        (date(2027, 11, 25), "stale: the local times were computed for the sessions through 2027-11-24", True),
    ],
)
def test_launchd_local_times_age_and_show_warns_a_month_ahead(today, summary, due):
    status = agents.SchedulerStatus(
        LAUNCHD,
        (agents.FileState("a", agents.CURRENT),),
        valid_until=date(2027, 11, 24),
        zone_now="Europe/Berlin",
    )
    assert status.summary(today) == summary
    assert status.renew_due(today) is due


def test_summary_names_missing_stale_and_inactive_files():
    files = (
        agents.FileState("a.timer", agents.NOT_LOADED),
        agents.FileState("b.service", agents.MISSING),
        agents.FileState("c.plist", agents.STALE, ("written for time zone X, this machine is in Y",)),
    )
    status = agents.SchedulerStatus(SYSTEMD, files)
    assert status.summary(START) == (
        "incomplete, missing b.service; stale: written for time zone X, this machine is in Y; not active: a.timer"
    )
    assert agents.SchedulerStatus(SYSTEMD, (agents.FileState("a", agents.MISSING),)).summary(START) == "not installed"


def test_next_firings_in_a_berlin_mismatch_week_trade_at_1431(cal):
    p = plan(cal, "Europe/Berlin", start=date(2026, 3, 6))
    sessions = {s.date: s for s in p.sessions}
    now = datetime(2026, 3, 6, 16, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    nexts = agents.next_run_today_firings(p.firings(RUN_TODAY), p.zone, now, sessions, count=4)
    assert [(f"{f.local:%a %H:%M}", f"{f.at:%H:%M}", f.trades) for f in nexts] == [
        ("Mon 14:31", "09:31", True),  # 2026-03-09: the US is on summer time, Europe not yet
        ("Mon 15:31", "10:31", False),
        ("Tue 14:31", "09:31", True),
        ("Tue 15:31", "10:31", False),
    ]


def test_next_firings_skip_a_holiday_and_the_weekend(cal):
    p = plan(cal, "America/New_York", start=date(2026, 11, 20))
    sessions = {s.date: s for s in p.sessions}
    now = datetime(2026, 11, 25, 10, 0, tzinfo=NEW_YORK)
    nexts = agents.next_run_today_firings(p.firings(RUN_TODAY), p.zone, now, sessions, count=2)
    assert [(f.at.date().isoformat(), f.trades, f.note) for f in nexts] == [
        ("2026-11-26", False, "no session that day: exits 0"),  # Thanksgiving: launchd fires, run-today exits 0
        ("2026-11-27", True, "trades (entry at 09:32 ET)"),
    ]


def test_covers_tells_whether_an_installed_agent_fires_at_an_instant(cal):
    berlin = plan(cal, "Europe/Berlin").firings(RUN_TODAY)
    at = datetime(2026, 11, 24, 9, 31, tzinfo=NEW_YORK)
    assert agents.covers(berlin, at, ZoneInfo("Europe/Berlin"))
    assert not agents.covers(berlin, at, ZoneInfo("America/Los_Angeles"))  # the Mac moved to California
    assert agents.covers([Firing(6, 31, None)], at, ZoneInfo("America/Los_Angeles"))


def test_read_plist_describes_an_installed_agent(cal):
    data = agents.render(plan(cal, "Australia/Sydney"))["com.icbot.run-today.plist"]
    info = agents.read_plist(data)
    assert info is not None
    assert info.zone_name == "Australia/Sydney" and info.generated_on == START
    assert Firing(0, 31, 6) in info.firings  # Saturday 00:31 = Friday 08:31/09:31 ET
    assert agents.read_plist(b"not a plist") is None
