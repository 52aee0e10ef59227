"""A quiet day is not a silent day: `check` with nothing open says when no run-today reached the entry window,
and once after the time exit sweeps the account and sends the day's summary."""

from __future__ import annotations

import time

import pytest

from icbot.clock import Clock, ny_datetime
from icbot.store.repo import Store
from tests.e2e.test_check import monitor, open_trade

pytestmark = pytest.mark.e2e


def test_a_morning_without_run_today_is_alerted_once(make_day):
    day = make_day(sim=False)
    Store.open(day.db_path).close()  # icbot has run here before (an earlier day); today nobody fired run-today
    at_0945 = f"2026-11-24T09:45:00-05:00@{time.time():.3f}x1"
    first = day.run("check", clock=at_0945)
    assert first.returncode == 0, first.stdout + first.stderr
    alerts = day.alerts_received()
    assert [a["type"] for a in alerts] == ["warning"] and "missed run" in alerts[0]["title"]
    assert "schedule show" in alerts[0]["message"]
    again = day.run("check", clock=at_0945)
    assert again.returncode == 0 and len(day.alerts_received()) == 1  # once per session


def test_after_the_time_exit_the_account_is_swept_and_the_day_summarised(make_day):
    day = make_day(exits__profit_target_pct=90)  # no take profit: the time exit closes it at 11:30
    open_trade(day)
    monitor(day)
    assert day.trade().status == "closed"
    later = max(day.sim.clock.now(), ny_datetime(day.session.isoformat(), "11:40"))  # past the time exit's margin
    day.sim.set_clock(Clock.virtual(later, 20.0))
    swept = day.run("check")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    summary = day.alerts_received()[-1]
    assert summary["type"] == "info" and "day summary: P/L" in summary["title"]
    assert "month to date" in summary["message"]
    assert any(e.data and e.data.get("round") == "end_of_day" for e in day.events())
    count = len(day.alerts_received())
    assert day.run("check").returncode == 0 and len(day.alerts_received()) == count  # once per session
