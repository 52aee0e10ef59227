"""`icbot check` end to end: reconciliation after the entry, exit accounting from leg fills, repair of missing
exits, orphan positions, experiment resolution, short-strike touches and the day-end sweep — the real CLI against
the simulator, as launchd fires it."""

from __future__ import annotations

import asyncio
import time

import pytest
from ib_async import IB, LimitOrder, Option

from icbot.clock import ny_datetime
from icbot.core.refs import role_of
from icbot.runner.demo import check_until_closed

pytestmark = pytest.mark.e2e

# The monitoring hours after the entry run at x2400: the tests only wait for the trade to close (09:33 -> 11:30 in
# 3 s real; the engine keeps pace at 3000, tests/sim/test_session.py). Exits fill on the simulator's per-second
# engine whatever the speed; at x2400 a check that takes 4 s on a loaded machine spans 2.7 virtual hours, hence the
# late default `until`. A test that needs a check inside a window of the day jumps the clock to it instead (a race
# through the hours at any speed lets a loaded machine's slow check straddle the window).
FASTER = 2400.0


def open_trade(day) -> None:
    result = day.run("run-today")
    assert result.returncode == 0, result.stdout + result.stderr


def monitor(day, until: str = "15:30", speed: float = FASTER) -> list[int]:
    """Speed the shared clock up and fire `check` every five virtual minutes until the trade is closed."""
    fast = day.sim.set_speed(speed)

    def run_check() -> int:
        r = day.run("check")
        assert r.returncode in (0, 4), r.stdout + r.stderr
        return r.returncode

    return check_until_closed(
        fast,
        run_check=run_check,
        is_open=lambda: getattr(day.trade(), "status", None) == "open",
        give_up=ny_datetime(day.session.isoformat(), until),
    )


def leg_execs(day, role: str) -> list:
    return [
        x for x in day.sim.sim.executions() if role_of(x.order.req.order_ref) == role and x.contract.sec_type == "OPT"
    ]


def signed_sum(execs) -> float:
    return sum(x.price * x.shares * (1 if x.side == "SLD" else -1) for x in execs)


@pytest.mark.slow
def test_time_exit_closes_the_trade_with_pnl_from_legs_and_commissions_then_the_day_is_swept_once(make_day):
    """The time exit closes the trade with P/L from the legs' executions and commissions; past the time exit's margin
    the next check sweeps the account and sends the day's summary, once per session. (One held day; the day-end half
    was tests/e2e/test_day_end.py's own run of this same day.)"""
    # Seed 7 drifts down toward the short put: no 3x stop by 11:30. The target is set out of reach (90 % of the
    # credit kept) so that a credit shifted by a loaded machine's later fill cannot make it close first.
    day = make_day(exits__profit_target_pct=90)
    open_trade(day)
    codes = monitor(day)
    assert set(codes) == {0}
    trade = day.trade()
    assert trade.status == "closed" and trade.exit_reason == "time_exit"
    entry, exit_ = leg_execs(day, "entry"), leg_execs(day, "time_exit")
    assert len(entry) == 4 and len(exit_) == 4
    debit = -signed_sum(exit_)
    commissions = sum(x.commission for x in entry + exit_)
    assert trade.exit_debit == pytest.approx(debit)
    assert trade.pnl == pytest.approx((trade.credit - debit) * 100 - commissions)
    exited = trade.exited_at
    assert ny_datetime(day.session.isoformat(), "11:30") <= exited
    # the index at the exit (its 1-minute bar), for the report's move in trade
    closed = next(e for e in day.events() if e.phase == "closed" and e.status == "ok")
    bar_close = exited.replace(second=59, microsecond=0)  # the simulator's bar closes on its last second
    assert closed.data["spx"] == pytest.approx(day.sim.sim.call(lambda s: s.market.spx(bar_close)), abs=0.01)
    # the siblings were cancelled by OCA at the gateway
    statuses = {str(role_of(o.req.order_ref)): o.status for o in day.sim_orders()}
    assert statuses["take_profit"] == "Cancelled" and statuses["stop"] == "Cancelled"
    alerts = day.alerts_received()
    assert alerts[-1]["type"] == "info" and "time_exit" in alerts[-1]["title"]
    assert "closed" in day.phases("ok") and "reconcile" in [e.phase for e in day.events()]

    # the day's end: a quiet day is not a silent day
    day.sim.set_speed(20.0, not_before=ny_datetime(day.session.isoformat(), "11:40"))  # past the time exit's margin
    swept = day.run("check")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    summary = day.alerts_received()[-1]
    assert summary["type"] == "info" and "day summary: P/L" in summary["title"]
    assert "month to date" in summary["message"]
    assert any(e.data and e.data.get("round") == "end_of_day" for e in day.events())
    count = len(day.alerts_received())
    assert day.run("check").returncode == 0 and len(day.alerts_received()) == count  # once per session


@pytest.mark.slow
def test_stop_exit_is_reported_with_its_reason(make_day):
    # Seed 7's drift reaches 1.3x the credit before 11:30; the target is out of reach (see above).
    day = make_day(exits__stop_multiple=1.3, exits__profit_target_pct=90)
    open_trade(day)
    monitor(day)
    trade = day.trade()
    assert trade.status == "closed" and trade.exit_reason == "stop"
    assert trade.pnl < 0
    assert any(a["type"] == "info" and "stop" in a["title"] for a in day.alerts_received())


def test_check_repairs_exits_missing_after_a_crash(make_day):
    day = make_day()
    crashed = day.run("run-today", extra_env={"ICBOT_CRASH_AT": "fill:ok"})
    assert crashed.returncode == 137
    result = day.run("check")
    assert result.returncode == 0, result.stdout + result.stderr
    exits = [o for o in day.sim_orders() if role_of(o.req.order_ref) in ("take_profit", "stop", "time_exit")]
    assert sorted(o.req.order_type for o in exits) == ["LMT", "MKT", "STP"]
    assert all(o.status in ("PreSubmitted", "Submitted") for o in exits)
    assert len({o.req.oca_group for o in exits}) == 1
    assert any(a["type"] == "warning" and "repaired" in a["title"] for a in day.alerts_received())
    again = day.run("check")
    assert again.returncode == 0
    assert len([o for o in day.sim_orders() if not o.req.what_if]) == 4  # nothing placed twice


def test_orphan_position_is_an_urgent_alert(make_day):
    day = make_day()
    open_trade(day)
    trade = day.trade()

    async def buy_something_by_hand() -> None:
        ib = IB()
        await ib.connectAsync("127.0.0.1", day.sim.port, clientId=77)
        try:
            strike = trade.short_put - 100
            [contract] = await ib.qualifyContractsAsync(
                Option("SPX", day.session.strftime("%Y%m%d"), strike, "P", "SMART", tradingClass="SPXW")
            )
            t = ib.placeOrder(contract, LimitOrder("BUY", 1, 5.0))
            for _ in range(100):
                if t.orderStatus.status == "Filled":
                    break
                await asyncio.sleep(0.05)
        finally:
            ib.disconnect()

    asyncio.run(buy_something_by_hand())
    result = day.run("check")
    assert result.returncode == 4, result.stdout + result.stderr
    alerts = day.alerts_received()
    assert alerts[-1]["type"] == "failure" and "orphan" in alerts[-1]["title"]


@pytest.mark.slow
def test_experiment_trade_is_resolved_from_market_data(make_day):
    day = make_day(mode="experiment")
    open_trade(day)
    monitor(day)
    trade = day.trade()
    assert trade.status == "closed" and trade.exit_reason.startswith("experiment_")
    assert trade.pnl is not None
    assert [r for r in day.sim.sim.requests() if r.name == "placeOrder"] == []


def test_check_with_no_open_trade_is_quick_and_quiet(make_day):
    day = make_day(sim=False)
    result = day.run("check", clock=f"2026-11-24T10:00:00-05:00@{time.time()}x1")
    assert result.returncode == 0
    assert day.alerts_received() == []


@pytest.mark.slow
def test_short_strike_touched_between_checks_alerts_once(make_day):
    # Seed 7 dips through the short put from 11:40 (5933 by 11:45). The stop is out of reach (10x the credit, beyond
    # the wings), so the trade is still open when the checks after the dip run; the clock jumps over the morning
    # instead of racing through it, so that no check on a loaded machine is slow enough to straddle both the dip and
    # the close (at x900, checks an hour apart under load saw the trade only before the dip and after its stop).
    day = make_day(exits__time_exit="13:00", exits__profit_target_pct=90, exits__stop_multiple=10)
    open_trade(day)
    assert day.run("check").returncode == 0
    assert not [a for a in day.alerts_received() if "touched" in a["title"]]  # before the dip: nothing touched
    session = day.session.isoformat()
    day.sim.set_speed(60.0, not_before=ny_datetime(session, "12:00"))  # the engine plays the skipped minutes out
    for _ in range(2):  # the first sees the dip in the index's bars since the entry; the second does not repeat it
        r = day.run("check")
        assert r.returncode == 0, r.stdout + r.stderr
    assert day.trade().status == "open"
    touches = [a for a in day.alerts_received() if "touched" in a["title"]]
    assert [a["title"].split(": ")[1] for a in touches] == ["short put touched"]
    event = next(e for e in day.events() if e.phase == "touch")
    assert event.data["side"] == "put" and event.data["extreme"] <= day.trade().short_put
    monitor(day)  # to the time exit: still the one alert
    assert day.trade().status == "closed" and day.trade().exit_reason == "time_exit"
    assert len([a for a in day.alerts_received() if "touched" in a["title"]]) == 1
