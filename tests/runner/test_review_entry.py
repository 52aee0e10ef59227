"""Review of the run-today money path: the runner driven in-process against the simulated gateway.

Each test builds a real RunContext (real SQLite journal, a notifier that journals its alerts, the simulator's
virtual clock) and calls the runner the way `icbot run-today` does, then asserts against the simulator's own
books — what the gateway really received — as well as against the journal.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from icbot.broker.gateway import Gateway
from icbot.broker.types import ComboOrder, Execution
from icbot.config import load_config
from icbot.core.schedule import SessionTimes, session_times, shared_calendar
from icbot.errors import EXIT_CRITICAL, EXIT_NO_TRADE
from icbot.notify import Notifier
from icbot.runner import refs
from icbot.runner.context import RunContext
from icbot.runner.exits import ensure_exits
from icbot.runner.records import record_intent
from icbot.runner.run_today import DayResult, _prepare, _resume, _select_and_enter, entry_credit, run_day
from icbot.sim import handlers
from icbot.sim.fills import FillParams
from icbot.sim.fixture import SimGateway
from icbot.store.repo import Store
from tests.broker.helpers import condor_legs, write_sim_config

pytestmark = pytest.mark.e2e

NO_FILLS = FillParams(p_mid=0.0, p_near=0.0)


@dataclass
class Harness:
    sim: SimGateway
    ctx: RunContext
    session: SessionTimes
    lines: list[str] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return self.ctx.store

    def run_day(self) -> int:
        return asyncio.run(run_day(self.ctx, self.session))

    def entries(self) -> list[Any]:
        return [o for o in self.sim.sim.orders() if o.req.order_ref.endswith(":entry") and not o.req.what_if]

    def icbot_orders(self) -> list[Any]:
        return [o for o in self.sim.sim.orders() if o.req.order_ref.startswith("icbot:") and not o.req.what_if]

    def exits(self) -> list[Any]:
        return [o for o in self.icbot_orders() if refs.role_of(o.req.order_ref) in refs.EXIT_ROLES]

    def alerts(self, level: str | None = None) -> list[dict[str, Any]]:
        return [a for a in self.store.alerts() if level is None or a["level"] == level]

    def trade(self) -> dict[str, Any]:
        trade = self.ctx.trade()
        assert trade is not None
        return trade


@pytest.fixture
def harness(tmp_path: Path, sim_gateway_factory: Callable[..., SimGateway]) -> Iterator[Callable[..., Harness]]:
    stores: list[Store] = []

    def make(
        *,
        start: str = "2026-11-24T09:31:00",
        speed: float = 20.0,
        faults: list[str] | None = None,
        sim_config: dict[str, Any] | None = None,
        mode: str = "paper",
        **config: Any,
    ) -> Harness:
        sim = sim_gateway_factory(start=start, speed=speed, faults=faults or [], **(sim_config or {}))
        loaded = load_config(write_sim_config(tmp_path, sim, mode=mode, **config), {})
        store = Store.open(loaded.db_path)
        stores.append(store)
        today = sim.clock.now_ny().date()
        session = session_times(shared_calendar(), today, loaded.entry, loaded.exits)
        assert session is not None
        lines: list[str] = []
        ctx = RunContext(
            loaded, sim.clock, store, Notifier([], store=store, clock=sim.clock), today, "run-today", lines.append
        )
        ctx.run_id = store.start_run(command="run-today", mode=mode, trade_date=today, at=sim.clock.now(), argv=[])
        return Harness(sim, ctx, session, lines)

    yield make
    for store in stores:
        store.close()


async def connect(h: Harness) -> Gateway:
    return await Gateway.connect(
        h.ctx.config.gateway, clock=h.ctx.clock, deadline=h.ctx.now() + timedelta(seconds=30), mode=h.ctx.mode
    )


async def resume(h: Harness, gw: Gateway, entry: Any, existing: list[Any]) -> int:
    """A rerun's `_resume`, with its exit code whether it returns or ends the day."""
    try:
        return await _resume(h.ctx, gw, h.session, entry, existing)
    except DayResult as result:
        return result.code


# -- the entry ladder loses its connection ------------------------------------------------------------------
def test_connection_lost_while_the_entry_works_is_critical_not_a_safe_no_trade(harness):
    # Nothing fills; the connection drops while the entry order is working on the ladder.
    h = harness(faults=["drop-at=09:32:20"], sim_config={"fill": NO_FILLS}, entry__reprice_seconds=30)
    code = h.run_day()
    (entry,) = h.entries()
    assert entry.status in ("PreSubmitted", "Submitted")  # it lives on at the gateway and may still fill
    assert code == EXIT_CRITICAL, h.lines
    assert h.alerts("failure"), "an entry of unknown fate is an urgent alert"
    assert h.trade()["status"] == "pending"  # not "no_trade" (never looked at again), not "open" (nothing filled)


def test_a_cancel_the_gateway_never_confirms_at_the_deadline_is_critical(harness):
    # The gateway goes quiet (1100, replies held) just before the deadline: the cancel is sent, never answered.
    h = harness(faults=["restart=600@09:32:58"], sim_config={"fill": NO_FILLS}, entry__reprice_seconds=30)
    code = h.run_day()
    assert code == EXIT_CRITICAL, h.lines  # not "no trade, safely aborted": the entry may still be working
    assert h.trade()["status"] == "pending"  # `check` keeps looking at it
    assert h.alerts("failure")


# -- the deadline and the halt flag, immediately before every transmission -----------------------------------
def test_no_entry_is_sent_after_the_deadline_even_when_the_preparation_ran_late(harness):
    h = harness(start="2026-11-24T09:31:40")

    async def go() -> int:
        gw = await connect(h)
        try:
            listed = await _prepare(h.ctx, gw, h.session)
            # connect retries, a slow chain or a slow what-if can carry the run past 09:33:00
            await h.ctx.clock.sleep_until(h.session.deadline_at + timedelta(seconds=1))
            return await _select_and_enter(h.ctx, gw, h.session, listed)
        except DayResult as result:
            return result.code
        finally:
            await gw.close()

    code = asyncio.run(go())
    assert h.entries() == [], "an entry sent after the deadline"
    assert code == EXIT_NO_TRADE
    assert "deadline" in h.trade()["no_trade_reason"]


def test_kill_during_the_ladder_stops_the_re_pricing_and_cancels_the_entry(harness):
    h = harness(sim_config={"fill": NO_FILLS}, entry__reprice_seconds=5)

    async def go() -> tuple[int, Any]:
        task = asyncio.ensure_future(run_day(h.ctx, h.session))
        while not h.entries():
            await asyncio.sleep(0.02)
        kill = Store.open(h.ctx.config.db_path)  # `icbot kill` in another process: the halt flag first
        kill.halt("kill", at=h.sim.clock.now())
        kill.close()
        halted_at = h.sim.clock.now()
        return await task, halted_at

    code, halted_at = asyncio.run(go())
    (entry,) = h.entries()
    sends = [r for r in h.sim.sim.requests("placeOrder") if any(f.endswith(":entry") for f in r.fields)]
    assert [r.at for r in sends if r.at > halted_at] == [], "re-priced after the kill"
    assert entry.status == "Cancelled"
    cancels = h.sim.sim.requests("cancelOrder")
    assert cancels and min(r.at for r in cancels) < h.session.deadline_at  # at once, not at the deadline
    assert code == EXIT_NO_TRADE and "halted" in h.trade()["no_trade_reason"]


def test_no_exit_is_placed_while_halted(harness):
    h = harness()
    h.store.halt("kill", at=h.sim.clock.now())

    async def go() -> tuple[bool, str]:
        gw = await connect(h)
        try:
            legs = await condor_legs(gw, h.ctx.trade_date)
            return await ensure_exits(
                h.ctx, gw, legs=legs, quantity=1, credit=2.0, time_exit_at=h.session.time_exit_at, existing=[]
            )
        finally:
            await gw.close()

    ok, what = asyncio.run(go())
    assert h.sim.sim.requests("placeOrder") == []
    assert not ok and "halted" in what


def _fill_an_entry(h: Harness) -> None:
    """What a run-today that died right after its entry filled leaves behind: the order, its intent, a fill."""

    async def go() -> None:
        gw = await connect(h)
        try:
            legs = await condor_legs(gw, h.ctx.trade_date, distance=40)
            ref = refs.order_ref(h.ctx.trade_date, h.ctx.mode, refs.ENTRY)
            order = ComboOrder(legs, "BUY", 1, "LMT", ref, limit_price=-0.05)
            lp, sp, sc, lc = (leg.strike for leg in legs)
            h.ctx.save_trade(status="pending", long_put=lp, short_put=sp, short_call=sc, long_call=lc)
            record_intent(h.ctx, order, refs.ENTRY)
            state = await gw.place(order)
            h.store.record_placed(ref, order_id=state.order_id, perm_id=state.perm_id, at=h.ctx.now())
            state = await gw.wait_status(state.order_id, {"Filled"}, timeout=30)
            assert state.status == "Filled"
        finally:
            await gw.close()

    asyncio.run(go())


def test_a_rerun_while_halted_places_no_exits_and_calls_for_action(harness):
    h = harness(start="2026-11-24T09:32:00")
    _fill_an_entry(h)
    h.store.halt("kill", at=h.sim.clock.now())
    code = h.run_day()
    assert h.exits() == [], "exits sent after the kill"
    assert code == EXIT_CRITICAL
    assert h.alerts("failure")


# -- the journal and the broker disagree ------------------------------------------------------------------
def test_an_entry_the_journal_saw_placed_but_the_gateway_does_not_know_is_a_conflict_not_a_new_entry(harness):
    h = harness()
    ref = refs.order_ref(h.ctx.trade_date, h.ctx.mode, refs.ENTRY)
    record_intent(h.ctx, ComboOrder((), "BUY", 1, "LMT", ref, limit_price=-1.0), refs.ENTRY)
    h.store.record_placed(ref, order_id=4242, perm_id=None, at=h.ctx.now())  # acknowledged by a gateway once
    h.ctx.save_trade(status="pending")
    code = h.run_day()
    assert h.entries() == [], "a second entry order today"
    assert code == EXIT_CRITICAL
    assert h.alerts("failure")


# -- the credit the exits are priced from -------------------------------------------------------------------
def _leg(exec_id: str, side: str, qty: float, price: float, con_id: int) -> Execution:
    at = datetime(2026, 11, 24, 14, 32, tzinfo=UTC)
    return Execution(exec_id, 7, 9, "r", con_id, "", "OPT", None, None, side, qty, price, at, 0.65)


def test_exits_are_never_priced_from_an_incomplete_set_of_leg_fills():
    full = [
        _leg("a", "BOT", 1, 0.40, 1),
        _leg("b", "SLD", 1, 3.10, 2),
        _leg("c", "SLD", 1, 2.90, 3),
        _leg("d", "BOT", 1, 0.35, 4),
    ]
    assert entry_credit(full, filled=1, bag_avg=-5.20) == (pytest.approx(5.25), "legs")  # the legs win
    # Only the two sold legs reported so far: the legs alone would claim 12.00 — a take profit paying 9.00.
    assert entry_credit(full[1:3], filled=1, bag_avg=-5.20) == (pytest.approx(5.20), "bag")
    # Only the bought wings: a negative "credit" (exit_prices would raise) — the BAG's fill price instead.
    assert entry_credit([full[0], full[3]], filled=1, bag_avg=-5.20) == (pytest.approx(5.20), "bag")
    # A 2-lot of which one combo's legs arrived: not complete either.
    assert entry_credit(full, filled=2, bag_avg=-5.20) == (pytest.approx(5.20), "bag")
    # Nothing usable at all: no credit — never 0.0, which would be saved and break every later repair.
    assert entry_credit([], filled=1, bag_avg=None) == (None, "none")
    assert entry_credit(full[1:3], filled=1, bag_avg=0.10) == (None, "none")


# -- resuming --------------------------------------------------------------------------------------------
def test_a_rerun_that_finds_the_entry_pending_cancel_sees_the_cancel_through(harness):
    # A run died right after asking to cancel at the deadline; the rerun finds the entry PendingCancel at the
    # gateway. That is not "ended without a fill": it may still fill. The rerun must confirm the end itself.
    h = harness(start="2026-11-24T09:33:05", sim_config={"fill": NO_FILLS})
    ref = refs.order_ref(h.ctx.trade_date, h.ctx.mode, refs.ENTRY)

    async def go() -> int:
        gw = await connect(h)
        try:
            legs = await condor_legs(gw, h.ctx.trade_date, distance=40)
            order = ComboOrder(legs, "BUY", 1, "LMT", ref, limit_price=-30.0)  # far from any fill
            h.ctx.save_trade(status="pending")
            record_intent(h.ctx, order, refs.ENTRY)
            state = await gw.place(order)
            h.store.record_placed(ref, order_id=state.order_id, perm_id=state.perm_id, at=h.ctx.now())
            reported = replace(state, status="PendingCancel")  # what the gateway said when the rerun asked
            return await resume(h, gw, reported, [reported])
        finally:
            await gw.close()

    code = asyncio.run(go())
    (entry,) = h.entries()
    assert entry.status == "Cancelled", "left working at the gateway while the journal says no trade"
    assert code == EXIT_NO_TRADE


def test_an_experiment_rerun_without_a_gateway_is_no_trade_not_an_urgent_alarm(harness):
    # An experiment run died after journaling its (never transmitted) entry; the rerun cannot connect.
    h = harness(mode="experiment", start="2026-11-24T09:32:50", faults=["refuse-until=09:40:00"])
    ref = refs.order_ref(h.ctx.trade_date, h.ctx.mode, refs.ENTRY)
    h.ctx.save_trade(status="pending", experiment=True)
    record_intent(h.ctx, ComboOrder((), "BUY", 1, "LMT", ref, limit_price=-1.0), refs.ENTRY, transmitted=False)
    code = h.run_day()
    assert code == EXIT_NO_TRADE  # nothing can be at risk in experiment mode
    assert h.alerts("failure") == []


# -- a refusal is believed only once the gateway shows no such order ----------------------------------------
INFO_10349 = "Order TIF was set to DAY based on order preset."  # real IB: informational, the order lives on


def test_an_informational_error_on_the_new_entry_is_not_taken_for_a_rejection(harness, monkeypatch):
    # Newer TWS versions answer some new orders with 10349 before acknowledging them (ib_async issues #191,
    # #217): the order is live and fills. Here the simulator says exactly that, first, for the entry.
    original = handlers.HANDLERS[3]

    def place_with_notice(server: Any, conn: Any, fields: list[str], now: Any) -> None:
        req = handlers.parse_place_order(fields, conn.version)
        if (
            req.order_ref.endswith(":entry")
            and not req.what_if
            and server.engine.orders.get((31, req.order_id)) is None
        ):
            conn.error(req.order_id, 10349, INFO_10349)  # the notice goes out first...
            time.sleep(0.1)  # ...and the gateway takes a moment before it acknowledges the order
        original(server, conn, fields, now)

    monkeypatch.setitem(handlers.HANDLERS, 3, place_with_notice)
    h = harness()
    code = h.run_day()
    (entry,) = h.entries()
    trade = h.trade()
    assert trade["status"] != "no_trade", "the live entry was abandoned as refused"
    if entry.filled > 0:
        assert code == 0 and trade["status"] == "open" and trade["exits_ok"] is True
        assert sorted(o.req.order_type for o in h.exits()) == ["LMT", "MKT", "STP"]
    else:
        assert entry.status == "Cancelled"


# -- a rerun that works a partly filled entry completes the exits, never a second set --------------------------
def test_a_rerun_working_a_partly_filled_entry_keeps_the_earlier_exits_and_adds_none(harness):
    # An earlier run: a 2-lot entry filled 1, its exits went out for that 1, then the run died with the entry
    # still working. The rerun works the entry to the deadline; the earlier exits must stay the only ones.
    h = harness(start="2026-11-24T09:32:30", sim_config={"fill": NO_FILLS}, size__contracts=2, size__max_contracts=2)
    ref = refs.order_ref(h.ctx.trade_date, h.ctx.mode, refs.ENTRY)

    def fill_one_of_the_entry(server: Any) -> float:
        now = server.clock.now()
        [order] = [o for o in server.engine.working_orders() if o.req.order_ref == ref]
        quote = server.engine.quote(order, now)
        server.engine._fill(order, 1, quote.ask, now, quote)  # one lot trades at the natural price
        server.deliver()
        return -round(quote.ask, 2)

    async def go() -> int:
        gw = await connect(h)
        try:
            legs = await condor_legs(gw, h.ctx.trade_date, distance=40)
            order = ComboOrder(legs, "BUY", 2, "LMT", ref, limit_price=-30.0)  # far from any natural fill
            h.ctx.save_trade(status="pending")
            record_intent(h.ctx, order, refs.ENTRY)
            state = await gw.place(order)
            h.store.record_placed(ref, order_id=state.order_id, perm_id=state.perm_id, at=h.ctx.now())
            credit = h.sim.sim.call(fill_one_of_the_entry)
            h.ctx.save_trade(status="open", quantity=1, credit=credit)
            ok, what = await ensure_exits(
                h.ctx, gw, legs=legs, quantity=1, credit=credit, time_exit_at=h.session.time_exit_at, existing=[]
            )
            assert ok, what
            existing = await gw.find_by_ref(refs.day_prefix(h.ctx.trade_date, h.ctx.mode))
            [entry] = [s for s in existing if s.order_ref == ref]
            assert entry.filled == 1 and not entry.is_done
            return await resume(h, gw, entry, existing)
        finally:
            await gw.close()

    code = asyncio.run(go())
    (entry,) = h.entries()
    assert entry.status == "Cancelled" and entry.filled == 1
    exits = h.exits()
    assert len(exits) == 3, [o.req.order_ref for o in exits]  # not six: no second, independent OCA group
    assert {o.req.oca_group for o in exits} == {refs.oca_group(h.ctx.trade_date, h.ctx.mode)}
    assert all(o.req.total_qty == 1 for o in exits)
    assert code == 0, h.lines
