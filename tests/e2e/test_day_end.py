"""A quiet day is not a silent day: `check` with nothing open says when no run-today reached the entry window.

The other half (once after the time exit, `check` sweeps the account and sends the day's summary) runs on the day
tests/e2e/test_check.py already holds to its time exit:
test_time_exit_closes_the_trade_with_pnl_from_legs_and_commissions_then_the_day_is_swept_once."""

from __future__ import annotations

import time

import pytest

from icbot.store.repo import Store

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
