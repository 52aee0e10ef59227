"""The API turned read-only right after the fill: nothing can be sent, so the urgent alert says exactly what to
place by hand in TWS, and persisting, it is repeated at most every 15 minutes — not by every check."""

from __future__ import annotations

import pytest

from icbot.clock import Clock, ny_datetime
from icbot.core.exits import exit_prices
from icbot.core.refs import role_of

pytestmark = pytest.mark.e2e


def test_read_only_after_the_fill_says_what_to_place_by_hand_and_does_not_repeat_every_check(make_day):
    day = make_day(faults=["read-only@09:33:30"])
    crashed = day.run("run-today", extra_env={"ICBOT_CRASH_AT": "fill:ok"})  # filled; no exit sent yet
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    # The API is read-only from 09:33:30, after the fill (run-today died before the 09:33 deadline): the checks run
    # from 09:35 on, whenever the machine lets them start.
    assert day.sim.clock.now() < ny_datetime(day.session.isoformat(), "09:33:30")
    day.sim.set_clock(Clock.virtual(ny_datetime(day.session.isoformat(), "09:35"), 60.0))

    first = day.run("check")
    assert first.returncode == 4, first.stdout + first.stderr
    urgent = [a for a in day.alerts_received() if a["type"] == "failure"]
    assert len(urgent) == 1
    text = urgent[0]["message"]
    trade = day.trade()
    prices = exit_prices(trade.credit, profit_target_pct=25, stop_multiple=3.0, tick=0.05)
    assert "read-only" in text.lower() or "321" in text
    assert f"SELL LMT {prices.take_profit:.2f}" in text and f"SELL STP {prices.stop:.2f}" in text
    assert "good after 11:30 ET" in text and "close the condor" in text
    assert not [o for o in day.sim_orders() if role_of(o.req.order_ref) in ("take_profit", "stop", "time_exit")]

    second = day.run("check")  # minutes later: still read-only, still critical, but no second phone alert
    assert second.returncode == 4, second.stdout + second.stderr
    assert len([a for a in day.alerts_received() if a["type"] == "failure"]) == 1
    assert any("alert not repeated" in e.message for e in day.events())
