"""`icbot kill` and `icbot resume` end to end: the real console script against the simulator, proven from the
broker's side (what the gateway holds after the kill), not from the journal's."""

from __future__ import annotations

import itertools
import subprocess
import time
from datetime import timedelta

import pytest

from icbot.core.refs import role_of
from icbot.runner.gather import POSITION_SETTLE
from icbot.sim.fills import FillParams
from icbot.store.repo import Store
from tests.e2e.helpers import wait_for

pytestmark = pytest.mark.e2e

NO_FILLS = FillParams(p_mid=0.0, p_near=0.0)


def working_icbot_orders(day) -> list:
    return [
        o
        for o in day.sim_orders()
        if o.req.order_ref.startswith("icbot:") and o.status in ("PreSubmitted", "Submitted", "PendingSubmit")
    ]


def held(day) -> dict[int, float]:
    return {c: p.qty for c, p in day.sim.sim.positions().items() if p.qty}


@pytest.mark.slow
def test_kill_cancels_exits_of_both_client_ids_closes_the_condor_and_leaves_the_account_flat(make_day):
    # run-today dies right after placing its first exit (client 31); check places the two missing ones (client 32).
    day = make_day()
    crashed = day.run("run-today", extra_env={"ICBOT_CRASH_AT": "exits:info"})
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    repaired = day.run("check")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    placed_by = {o.client_id for o in working_icbot_orders(day)}
    assert placed_by == {31, 32} and len(working_icbot_orders(day)) == 3
    assert held(day)

    killed = day.run("kill", "--yes", "--reason", "test")
    assert killed.returncode == 0, killed.stdout + killed.stderr
    assert working_icbot_orders(day) == []  # every exit cancelled, whichever client placed it
    assert held(day) == {}  # flat at the broker
    close = [o for o in day.sim_orders() if role_of(o.req.order_ref) == "close"]
    assert len(close) == 1 and close[0].req.order_type == "MKT" and close[0].status == "Filled"
    trade = day.trade()
    assert trade.status in ("open", "closed")  # closed once IB's commissions are in (or by the next check)
    store = day.store()
    try:
        halt = store.halt_state()
        assert halt is not None and halt.reason == "test"
        kill_events = [e for e in store.events(day.session, day.mode) if e.phase == "kill"]
    finally:
        store.close()
    assert any("flat" in e.message for e in kill_events)
    alerts = [(a["type"], a["title"]) for a in day.alerts_received()]
    (at,) = [n for n, (_, title) in enumerate(alerts) if title.endswith(": KILL")]
    assert alerts[at][0] == "failure", alerts  # urgent: what was done
    # after it, at most the trade's close, when IB's commissions came in while kill still ran
    assert all(kind == "info" and "closed" in title for kind, title in alerts[at + 1 :]), alerts

    again = day.run("kill", "--yes")  # harmless
    assert again.returncode == 0, again.stdout + again.stderr
    assert working_icbot_orders(day) == [] and held(day) == {}


def test_an_exit_that_fills_as_kill_cancels_it_is_not_closed_again_while_the_positions_trail(make_day):
    # kill's first cancel loses the race to the exit's fill (fill-on-cancel), and IB's positions show the condor for
    # 10 more seconds (positions-late): closing what the positions show would open a reversed condor
    day = make_day(faults=["fill-on-cancel", "positions-late=10"], exits__profit_target_pct=90)
    opened = day.run("run-today")
    assert opened.returncode == 0, opened.stdout + opened.stderr
    before_kill = day.sim.clock.now()
    killed = day.run("kill", "--yes", "--reason", "test")
    assert killed.returncode == 0, killed.stdout + killed.stderr
    filled_exits = [o for o in day.sim_orders() if role_of(o.req.order_ref) != "entry" and o.status == "Filled"]
    assert len(filled_exits) == 1  # the exit that won the race closed the condor
    # the race with the trailing positions did happen: while they still showed the condor (10 s after the exit's
    # fill), kill disagreed with its executions and waited to read them again (without the fault: no wait)
    won = max(x.time for x in day.sim.sim.executions() if x.order.perm_id == filled_exits[0].perm_id)
    reads = [r.at for r in day.sim.sim.requests("reqPositions") if won < r.at < won + timedelta(seconds=10)]
    assert before_kill < won
    assert any(b - a >= timedelta(seconds=POSITION_SETTLE) for a, b in itertools.pairwise(reads)), reads
    assert [o for o in day.sim_orders() if role_of(o.req.order_ref) == "close"] == []  # kill closed nothing more
    assert working_icbot_orders(day) == [] and held(day) == {}  # flat, not reversed


def hide_the_fills_for(day, seconds: float):
    """From now on the simulator's positions leave out every execution of the last `seconds` + the time since the
    latest one (positions-late): the day's fills stay out of the positions for `seconds` more virtual seconds."""

    def install(server):
        latest = max(x.time for x in server.engine.executions)
        return server.add_fault(f"positions-late={(server.clock.now() - latest).total_seconds() + seconds:.3f}")

    return day.sim.sim.call(install)


def test_kill_whose_first_look_misses_the_condor_still_closes_it_once_the_positions_show_it(make_day):
    # IB's positions do not show the condor when kill plans (its executions do) and catch up after the cancels
    day = make_day(exits__confirm_seconds=0, exits__profit_target_pct=90)
    opened = day.run("run-today")
    assert opened.returncode == 0, opened.stdout + opened.stderr
    lag = hide_the_fills_for(day, 600.0)
    # kill reads again for 15 virtual s after its cancels; the fault must be lifted inside them: 3 real s at x5
    day.sim.set_speed(5)
    proc = subprocess.Popen(
        day.argv("kill", "--yes", "--reason", "test"), env=day.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_for(lambda: not working_icbot_orders(day))  # planned with the condor unseen, and the exits cancelled
        day.sim.sim.call(lambda s: s.faults.faults.remove(lag))  # the positions catch up
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert b"the positions show 0 condor(s), today's executions leave 1 open" in out  # the plan's look
    closes = [o for o in day.sim_orders() if role_of(o.req.order_ref) == "close"]
    assert [(o.req.order_type, o.status) for o in closes] == [("MKT", "Filled")]
    assert working_icbot_orders(day) == [] and held(day) == {}  # flat at the broker


def test_kill_never_calls_flat_what_the_executions_leave_open(make_day):
    # the positions trail the fill for ten virtual minutes: kill closes nothing it cannot see, and says so
    day = make_day(exits__confirm_seconds=0, exits__profit_target_pct=90)
    opened = day.run("run-today")
    assert opened.returncode == 0, opened.stdout + opened.stderr
    condor = held(day)
    hide_the_fills_for(day, 600.0)
    killed = day.run("kill", "--yes", "--reason", "test")
    assert killed.returncode == 4, killed.stdout + killed.stderr
    assert "executions leave 1 condor(s) open" in killed.stdout
    assert [o for o in day.sim_orders() if role_of(o.req.order_ref) == "close"] == []
    assert held(day) == condor and working_icbot_orders(day) == []  # the condor, not a reversed one


def test_kill_during_the_ladder_stops_the_entry_and_run_today_stays_halted_until_resume(make_day):
    day = make_day(sim_config={"fill": NO_FILLS}, start="2026-11-24T09:31:30", speed=10)
    ladder = subprocess.Popen(
        day.argv("run-today"), env=day.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: any(role_of(o.req.order_ref) == "entry" for o in day.sim_orders()))
        killed = day.run("kill", "--yes")
        out, err = ladder.communicate(timeout=120)
    finally:
        if ladder.poll() is None:
            ladder.kill()
    assert killed.returncode == 0, killed.stdout + killed.stderr + "\n--- run-today:\n" + out + err
    assert ladder.returncode == 3, out + err  # the ladder saw the halt and cancelled its entry
    assert "halted" in out
    (entry,) = [o for o in day.sim_orders() if role_of(o.req.order_ref) == "entry"]
    assert entry.status == "Cancelled" and entry.filled == 0
    assert working_icbot_orders(day) == [] and held(day) == {}

    blocked = day.run("run-today")  # the day is over (no trade); a rerun sends nothing
    assert blocked.returncode == 0, blocked.stdout + blocked.stderr
    assert len([o for o in day.sim_orders() if role_of(o.req.order_ref) == "entry"]) == 1

    resumed = day.run("resume", "--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "halt cleared" in resumed.stdout and "next entry" in resumed.stdout
    store = day.store()
    try:
        assert store.halt_state() is None
    finally:
        store.close()


def test_kill_with_the_gateway_down_sets_the_halt_and_says_what_is_still_open(make_day):
    day = make_day(sim=False)
    fast = f"2026-11-24T10:00:00-05:00@{time.time():.3f}x20"  # the connect window passes in about a second
    killed = day.run("kill", "--yes", clock=fast)
    assert killed.returncode == 4, killed.stdout + killed.stderr
    assert "halted, but the gateway cannot be reached" in killed.stdout
    store = Store.open(day.db_path, readonly=True)
    try:
        assert store.halt_state() is not None
    finally:
        store.close()
    assert [a["type"] for a in day.alerts_received()] == ["failure"]


def test_an_entry_that_fills_as_kill_cancels_it_is_closed(make_day):
    """run-today died with its entry working; kill's cancel arrives just after the entry traded (IB's race). What
    is held is read again after the cancels whenever an entry was among them: the condor is closed, not left
    without exits behind an 'ACTION NEEDED'."""
    day = make_day(sim_config={"fill": NO_FILLS}, faults=["fill-on-cancel"])
    crashed = day.run("run-today", extra_env={"ICBOT_CRASH_AT": "order:start"})
    assert crashed.returncode != 0, crashed.stdout + crashed.stderr
    (entry,) = [o for o in day.sim_orders() if role_of(o.req.order_ref) == "entry" and not o.req.what_if]
    assert entry.status in ("PreSubmitted", "Submitted") and entry.filled == 0  # working when kill starts

    killed = day.run("kill", "--yes")
    assert killed.returncode == 0, killed.stdout + killed.stderr
    entry = day.sim.sim.order(entry.order_id, entry.client_id)
    assert entry is not None and entry.status == "Filled"  # the cancel lost the race
    closes = [o for o in day.sim_orders() if role_of(o.req.order_ref) == "close"]
    assert [o.status for o in closes] == ["Filled"]
    assert working_icbot_orders(day) == [] and held(day) == {}
    assert "flat" in killed.stdout


def test_kill_waits_for_positions_that_trail_its_own_close_before_calling_the_legs_held(make_day):
    """IB's positions trail every fill by 6 virtual s: right after kill's close filled they still show the condor
    that today's executions say is closed. kill reads them again until the two agree, then reports flat."""
    day = make_day(faults=["positions-late=6"], exits__profit_target_pct=90)
    opened = day.run("run-today")
    assert opened.returncode == 0, opened.stdout + opened.stderr
    killed = day.run("kill", "--yes", "--reason", "test")
    assert killed.returncode == 0, killed.stdout + killed.stderr
    closes = [o for o in day.sim_orders() if role_of(o.req.order_ref) == "close"]
    assert [(o.req.order_type, o.status) for o in closes] == [("MKT", "Filled")]
    assert working_icbot_orders(day) == [] and held(day) == {}
    assert "today's legs are flat at the broker" in killed.stdout
