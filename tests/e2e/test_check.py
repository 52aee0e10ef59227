"""`icbot check` end to end: reconciliation after the entry, exit accounting from leg fills, repair of missing
exits, orphan positions and experiment resolution — the real CLI against the simulator, as launchd fires it."""

from __future__ import annotations

import asyncio
import time

import pytest
from ib_async import IB, LimitOrder, Option

from icbot.clock import Clock, ny_datetime
from icbot.core.refs import role_of
from icbot.runner.demo import check_until_closed

pytestmark = pytest.mark.e2e

FAST = 900.0


def open_trade(day) -> None:
    result = day.run("run-today")
    assert result.returncode == 0, result.stdout + result.stderr


def monitor(day, until: str = "12:30") -> list[int]:
    """Speed the shared clock up and fire `check` every five virtual minutes until the trade is closed."""
    fast = Clock.virtual(day.sim.clock.now(), FAST)
    day.sim.set_clock(fast)

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


def test_time_exit_closes_the_trade_with_pnl_from_legs_and_commissions(make_day):
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
    # the siblings were cancelled by OCA at the gateway
    statuses = {str(role_of(o.req.order_ref)): o.status for o in day.sim_orders()}
    assert statuses["take_profit"] == "Cancelled" and statuses["stop"] == "Cancelled"
    alerts = day.alerts_received()
    assert alerts[-1]["type"] == "info" and "time_exit" in alerts[-1]["title"]
    assert "closed" in day.phases("ok") and "reconcile" in [e.phase for e in day.events()]


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


def test_short_strike_touched_between_checks_alerts_once(make_day):
    # Seed 7 dips through the short put at about 11:40; a later time exit keeps the trade open through it.
    day = make_day(exits__time_exit="13:00", exits__profit_target_pct=90)
    open_trade(day)
    monitor(day, until="13:30")
    touches = [a for a in day.alerts_received() if "touched" in a["title"]]
    assert [a["title"].split(": ")[1] for a in touches] == ["short put touched"]
    event = next(e for e in day.events() if e.phase == "touch")
    assert event.data["side"] == "put" and event.data["extreme"] <= day.trade().short_put
    assert day.trade().status == "closed"
