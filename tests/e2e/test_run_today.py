"""`icbot run-today` end to end: the real console script against the simulated gateway over a socket, a real
SQLite journal and real apprise alerts to a loopback webhook. Each test is one simulated morning."""

from __future__ import annotations

import subprocess
import time
from datetime import datetime

import pytest

from icbot.clock import NEW_YORK, ny_datetime
from icbot.core.exits import exit_prices
from icbot.core.refs import role_of
from icbot.core.strikes import pick_short_strike
from icbot.sim.fills import FillParams
from icbot.store.repo import Store

pytestmark = pytest.mark.e2e

NO_FILLS = FillParams(p_mid=0.0, p_near=0.0)
ENTRY_PHASES = ["connect", "wait_entry", "underlying", "select", "order", "fill", "exits", "done"]


def icbot_orders(day, suffix: str = "") -> list:
    return [
        o for o in day.sim_orders() if o.req.order_ref.startswith("icbot:") and role_of(o.req.order_ref) is not None
    ]


def entry_orders(day) -> list:
    return [o for o in day.sim_orders() if role_of(o.req.order_ref) == "entry" and not o.req.what_if]


def ny(at: datetime | str) -> datetime:
    return (datetime.fromisoformat(at) if isinstance(at, str) else at).astimezone(NEW_YORK)


def test_happy_path_trades_by_the_rules_and_alerts_success_and_a_rerun_does_nothing(make_day):
    day = make_day()
    result = day.run("run-today")
    assert result.returncode == 0, result.stdout + result.stderr

    trade = day.trade()
    assert trade.status == "open" and trade.exits_ok is True
    installation = day.read(lambda s: s.installation_id())  # every order names the installation that sent it
    assert len(installation) == 6
    assert trade.entry_order_ref == f"icbot:2026-11-24:paper:entry/{installation}"
    assert trade.oca_group == f"icbot-2026-11-24-paper/{installation}"
    # Shorts by the user's delta rule, over exactly the deltas the selection saw at 09:32.
    select = next(e for e in day.events() if e.phase == "select" and e.status == "ok")
    selected = ny(select.at)  # never before 09:32:00, never after the deadline; how soon after: `make bench`
    assert ny("2026-11-24T09:32:00-05:00") <= selected < ny("2026-11-24T09:33:00-05:00")
    puts = {float(k): v for k, v in select.data["put_deltas"].items()}
    calls = {float(k): v for k, v in select.data["call_deltas"].items()}
    assert pick_short_strike(puts) == trade.short_put
    assert pick_short_strike(calls) == trade.short_call
    assert 10 <= trade.put_delta <= 16.9 and 10 <= trade.call_delta <= 16.9
    # No listed strike was closer to 15 within the allowed band (the rule, independently of pick_short_strike).
    for deltas, chosen in ((puts, trade.put_delta), (calls, trade.call_delta)):
        allowed = [d for d in deltas.values() if 10 <= d <= 16.9]
        assert min(abs(d - 15) for d in allowed) >= abs(chosen - 15) - 0.05 - 1e-9
    assert trade.long_put == trade.short_put - 20
    assert trade.long_call == trade.short_call + 20

    # Every phase journaled, in order of first success.
    ok = day.phases("ok")
    assert [p for p in ENTRY_PHASES if p in ok] == ENTRY_PHASES

    # At the gateway: one entry, and three exits in one OCA group at the right prices for the filled credit.
    entries = entry_orders(day)
    assert len(entries) == 1 and entries[0].status == "Filled"
    assert entries[0].req.action == "BUY" and entries[0].req.lmt_price < 0
    exits = {str(role_of(o.req.order_ref)): o for o in icbot_orders(day) if role_of(o.req.order_ref) != "entry"}
    assert set(exits) == {"take_profit", "stop", "time_exit"}
    assert len({o.req.oca_group for o in exits.values()}) == 1 and all(o.req.oca_type == 1 for o in exits.values())
    assert all(o.req.action == "SELL" and o.req.total_qty == 1 for o in exits.values())
    prices = exit_prices(trade.credit, profit_target_pct=25, stop_multiple=3.0, tick=0.05)
    assert exits["take_profit"].req.order_type == "LMT" and exits["take_profit"].req.lmt_price == prices.take_profit
    assert exits["stop"].req.order_type == "STP" and exits["stop"].req.aux_price == prices.stop
    assert exits["stop"].req.trigger_method == 8  # midpoint, set explicitly
    assert exits["time_exit"].req.order_type == "MKT"
    assert exits["time_exit"].good_after is not None
    assert exits["time_exit"].good_after.astimezone(NEW_YORK).strftime("%H:%M") == "11:30"
    assert all(o.status in ("PreSubmitted", "Submitted") for o in exits.values())

    # Credit from the legs' executions equals what the sim's legs traded at.
    legs = [
        x for x in day.sim.sim.executions() if x.order.order_id == entries[0].order_id and x.contract.sec_type == "OPT"
    ]
    assert len(legs) == 4
    leg_credit = sum(x.price * (1 if x.side == "SLD" else -1) for x in legs)
    assert trade.credit == pytest.approx(leg_credit)
    assert trade.entry_commission == pytest.approx(sum(x.commission for x in legs))

    # Success alert delivered through real apprise.
    alerts = day.alerts_received()
    assert [a["type"] for a in alerts] == ["info"]
    assert "filled" in alerts[0]["title"]

    # A rerun after the complete day does nothing: no order, no alert (formerly its own day of the same start).
    before = len(day.sim_orders())
    again = day.run("run-today", "--verbose")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing" in again.stdout or "monitors" in again.stdout
    assert len(day.sim_orders()) == before
    assert len(day.alerts_received()) == 1


def test_no_fill_before_the_deadline_cancels_and_warns(make_day):
    # Nobody fills anything between mid and natural, and the ladder is too slow to reach natural by 09:33.
    day = make_day(sim_config={"fill": NO_FILLS}, entry__reprice_seconds=30)
    result = day.run("run-today")
    assert result.returncode == 3, result.stdout + result.stderr
    trade = day.trade()
    assert trade.status == "no_trade" and "not filled" in trade.no_trade_reason
    (entry,) = entry_orders(day)
    assert entry.status == "Cancelled" and entry.filled == 0
    assert not [o for o in icbot_orders(day) if role_of(o.req.order_ref) != "entry"]
    assert [a["type"] for a in day.alerts_received()] == ["warning"]


def test_a_fill_racing_the_cancel_is_a_trade_with_exits(make_day):
    # Nothing fills on the ladder; the order trades in the very instant the deadline's cancel arrives.
    day = make_day(sim_config={"fill": NO_FILLS}, entry__reprice_seconds=30, faults=["fill-on-cancel"])
    result = day.run("run-today")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "raced the cancel" in result.stdout
    (entry,) = entry_orders(day)
    assert entry.status == "Filled"
    trade = day.trade()
    assert trade.status == "open" and trade.exits_ok is True and trade.quantity == 1
    exits = [o for o in icbot_orders(day) if role_of(o.req.order_ref) != "entry"]
    assert len(exits) == 3 and all(o.status in ("PreSubmitted", "Submitted") for o in exits)
    assert [a["type"] for a in day.alerts_received()] == ["info"]


def test_rejected_entry_is_no_trade_with_the_reason(make_day):
    day = make_day(faults=["reject-next=Insufficient margin"])
    result = day.run("run-today")
    assert result.returncode == 3, result.stdout + result.stderr
    trade = day.trade()
    assert trade.status == "no_trade" and "Insufficient margin" in trade.no_trade_reason
    assert not day.sim.sim.positions() or all(p.qty == 0 for p in day.sim.sim.positions().values())
    alerts = day.alerts_received()
    assert [a["type"] for a in alerts] == ["warning"] and "Insufficient margin" in alerts[0]["message"]


def test_gateway_down_until_after_the_deadline(make_day):
    day = make_day(faults=["refuse-until=09:34:00"])  # 3 virtual minutes of retries, 9 s real at x20
    t0 = time.monotonic()
    result = day.run("run-today")
    assert result.returncode == 3, result.stdout + result.stderr
    assert time.monotonic() - t0 < 60
    trade = day.trade()
    assert trade.status == "no_trade" and "did not accept" in trade.no_trade_reason
    assert not day.sim_orders()
    assert [a["type"] for a in day.alerts_received()] == ["warning"]


CRASH_POINTS = [
    "underlying:ok",  # chain streaming, nothing sent
    "select:ok",  # the entry just sent: the decision is journaled after the send (runner/run_today.py)
    "order:start",  # the entry sent, not yet acknowledged (intent without a send: tests/runner/test_entry_instant.py)
    "order:ok",  # the entry filled; the fill not yet recorded
    "fill:ok",  # the position is open, no exit placed
    "exits:info",  # one exit placed, two missing
    "exits:ok",  # all three placed; the trade not yet marked complete
]


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_killed_at_any_phase_the_rerun_never_doubles_and_never_leaves_risk(make_day, point):
    day = make_day()
    crashed = day.run("run-today", extra_env={"ICBOT_CRASH_AT": point})
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    rerun = day.run("run-today")
    entries = entry_orders(day)
    assert len(entries) <= 1, "never a second entry"
    exits = [o for o in icbot_orders(day) if role_of(o.req.order_ref) != "entry"]
    if entries and entries[0].filled > 0:
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        working = [o for o in exits if o.status in ("PreSubmitted", "Submitted")]
        assert sorted(o.req.order_type for o in working) == ["LMT", "MKT", "STP"]
        assert len({o.req.oca_group for o in working}) == 1
        assert all(o.req.total_qty == entries[0].filled for o in working)
        assert day.trade().status == "open" and day.trade().exits_ok is True
    else:
        assert rerun.returncode == 3, rerun.stdout + rerun.stderr
        assert not exits and day.trade().status == "no_trade"
    before = len(day.sim_orders())
    again = day.run("run-today")  # and a third run sends nothing
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(day.sim_orders()) == before


def test_experiment_mode_sends_no_order(make_day):
    day = make_day(mode="experiment")
    result = day.run("run-today")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [r for r in day.sim.sim.requests() if r.name == "placeOrder"] == []
    trade = day.trade()
    assert trade.experiment is True and trade.status == "open" and trade.credit > 0
    (intent,) = day.orders()
    assert intent.transmitted is False


@pytest.mark.parametrize(
    "when",
    ["2026-11-28T09:31:00-05:00", "2026-11-26T09:31:00-05:00"],  # a Saturday; Thanksgiving
    ids=["weekend", "holiday"],
)
def test_non_session_days_exit_0_silently(make_day, when):
    day = make_day(start=when[:19], sim=False)
    result = day.run("run-today", clock=f"{when}@{time.time()}x1")
    assert result.returncode == 0
    assert result.stdout == "" and result.stderr == ""
    assert not day.db_path.exists()
    assert day.alerts_received() == []


def test_outside_the_window_exits_0_quietly(make_day):
    # The launchd agent also fires at the other DST candidate hour: 08:31 or 10:31 New York.
    day = make_day(sim=False)
    for when in ("2026-11-24T08:31:00-05:00", "2026-11-24T10:31:00-05:00"):
        result = day.run("run-today", clock=f"{when}@{time.time()}x1")
        assert result.returncode == 0 and result.stdout == "" and result.stderr == ""


def test_dst_mismatch_week_enters_at_0932_new_york(make_day):
    # 2026-03-10: New York is already on EDT, Berlin still on CET (a 5-hour gap instead of 6).
    day = make_day(start="2026-03-10T09:31:00")
    result = day.run("run-today", extra_env={"TZ": "Europe/Berlin"})
    assert result.returncode == 0, result.stdout + result.stderr
    places = [r for r in day.sim.sim.requests("placeOrder") if any("entry" in f for f in r.fields)]
    first = min(r.at for r in places).astimezone(NEW_YORK)
    assert ny("2026-03-10T09:32:00-04:00") <= first < ny("2026-03-10T09:33:00-04:00"), first  # not 08:32 or 10:32


def test_competing_session_before_the_entry_is_a_clean_no_trade(make_day):
    day = make_day(faults=["competing-session"])
    result = day.run("run-today")
    assert result.returncode == 3, result.stdout + result.stderr
    trade = day.trade()
    assert trade.status == "no_trade" and trade.no_trade_reason
    assert not entry_orders(day)
    assert [a["type"] for a in day.alerts_received()] == ["warning"]


def test_halt_flag_in_the_journal_stops_any_order(make_day):
    day = make_day()
    store = Store.open(day.db_path)
    store.halt("testing the kill switch", at=ny_datetime("2026-11-24", "09:00"))
    store.close()
    result = day.run("run-today")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "halted" in day.trade().no_trade_reason
    assert [r for r in day.sim.sim.requests() if r.name == "placeOrder"] == []


def test_two_run_today_processes_at_once_send_one_entry(make_day):
    day = make_day()
    procs = [
        subprocess.Popen(
            day.argv("run-today"), env=day.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=180) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 0], outs
    assert sum("already" in out + err for out, err in outs) == 1, outs
    assert len(entry_orders(day)) == 1
    assert day.trade().exits_ok is True


def test_read_only_api_is_a_clear_no_trade(make_day):
    day = make_day(faults=["read-only"])
    result = day.run("run-today")
    assert result.returncode == 3, result.stdout + result.stderr
    reason = day.trade().no_trade_reason
    assert "read-only" in reason and "Read-Only API" in reason  # says what is wrong and where to fix it
    assert not entry_orders(day)
    alerts = day.alerts_received()
    assert [a["type"] for a in alerts] == ["warning"] and "read-only" in alerts[0]["message"]


def test_connection_lost_right_after_sending_is_critical_then_the_rerun_adopts_the_order(make_day):
    day = make_day(faults=["drop-after-orders=1"])
    lost = day.run("run-today")
    assert lost.returncode == 4, lost.stdout + lost.stderr
    assert [a["type"] for a in day.alerts_received()] == ["failure"]  # the order's fate was unknown: urgent
    assert len(entry_orders(day)) == 1  # it lives on at the gateway
    rerun = day.run("run-today")
    assert rerun.returncode in (0, 3), rerun.stdout + rerun.stderr
    (entry,) = entry_orders(day)  # adopted by orderRef, never sent twice
    exits = [o for o in icbot_orders(day) if role_of(o.req.order_ref) != "entry"]
    if entry.filled > 0:
        assert rerun.returncode == 0 and len(exits) == 3
        assert all(o.status in ("PreSubmitted", "Submitted") for o in exits)
    else:
        assert rerun.returncode == 3 and entry.status == "Cancelled" and not exits


def test_dry_run_is_an_experiment_run_without_editing_the_config(make_day):
    day = make_day()  # a paper config
    result = day.run("run-today", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [r for r in day.sim.sim.requests() if r.name == "placeOrder"] == []  # nothing transmitted
    store = day.store()
    try:
        experiment = store.trade(day.session, "experiment")
        paper = store.trade(day.session, "paper")
    finally:
        store.close()
    assert experiment is not None and experiment.status == "open" and experiment.experiment
    assert paper is None  # the paper day is untouched: the scheduled run may still trade it
