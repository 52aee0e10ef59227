"""Review of the run-today money path: the runner driven in-process against the simulated gateway.

Each test builds a real RunContext (real SQLite journal, a notifier that journals its alerts, the simulator's
virtual clock) and calls the runner the way `icbot run-today` does — `run_day`, or a public `FreshDay` phase
— then asserts against the simulator's own books (what the gateway really received) as well as the journal.
Where a scenario needs a moment chosen inside the day (a slow what-if, a kill while the ladder works), a public
phase is wrapped; nothing waits in real time for the virtual clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from icbot.broker.gateway import Gateway
from icbot.broker.types import ComboOrder
from icbot.core import refs
from icbot.core.accounting import LegFill, exit_credit
from icbot.core.journal import AlertLevel, OrderStatus, Phase, TradeStatus
from icbot.errors import EXIT_CRITICAL, EXIT_NO_TRADE, EXIT_OK
from icbot.runner import exits as exits_mod
from icbot.runner import run_today as run_mod
from icbot.runner.exits import ensure_exits
from icbot.runner.records import record_intent
from icbot.runner.run_today import FreshDay, run_day
from icbot.sim import handlers
from icbot.sim.fills import FillParams
from icbot.sim.server import SimServer
from tests.broker.helpers import condor_legs, connect
from tests.runner.harness import Harness, halt_from_another_process

pytestmark = pytest.mark.e2e

NO_FILLS = FillParams(p_mid=0.0, p_near=0.0)
REAL_TIMEOUT = 30.0  # real seconds a test waits for the day to reach a moment it acts at


# -- the entry ladder loses its connection ------------------------------------------------------------------
def test_connection_lost_while_the_entry_works_is_critical_not_a_safe_no_trade(harness):
    # Nothing fills; the connection drops while the entry order is working on the ladder.
    h = harness(faults=["drop-at=09:32:20"], sim_config={"fill": NO_FILLS}, entry__reprice_seconds=30)
    code = h.run_day()
    (entry,) = h.entries()
    assert entry.status in ("PreSubmitted", "Submitted")  # it lives on at the gateway and may still fill
    assert code == EXIT_CRITICAL, h.lines
    assert h.alerts(AlertLevel.FAILURE), "an entry of unknown fate is an urgent alert"
    # not "no_trade" (never looked at again), not "open" (nothing filled)
    assert h.trade().status is TradeStatus.PENDING


def test_a_cancel_the_gateway_never_confirms_at_the_deadline_is_critical(harness):
    # The gateway goes quiet (1100, replies held) just before the deadline: the cancel is sent, never answered.
    h = harness(faults=["restart=600@09:32:58"], sim_config={"fill": NO_FILLS}, entry__reprice_seconds=30)
    code = h.run_day()
    assert code == EXIT_CRITICAL, h.lines  # not "no trade, safely aborted": the entry may still be working
    assert h.trade().status is TradeStatus.PENDING  # `check` keeps looking at it
    assert h.alerts(AlertLevel.FAILURE)


# -- the deadline and the halt flag, immediately before every transmission -----------------------------------
def test_no_entry_is_sent_after_the_deadline_even_when_the_preparation_ran_late(harness, monkeypatch):
    h = harness(start="2026-11-24T09:31:40")
    size = FreshDay.size

    async def slow_size(day: FreshDay) -> None:
        await size(day)
        # connect retries, a slow chain or a slow what-if can carry the run past 09:33:00
        await day.ctx.clock.sleep_until(day.session.deadline_at + timedelta(seconds=1))

    monkeypatch.setattr(FreshDay, "size", slow_size)
    code = h.run_day()
    assert h.entries() == [], "an entry sent after the deadline"
    assert code == EXIT_NO_TRADE
    trade = h.trade()
    assert trade.status is TradeStatus.NO_TRADE
    assert trade.no_trade_reason is not None and "deadline" in trade.no_trade_reason


def test_kill_during_the_ladder_stops_the_re_pricing_and_cancels_the_entry(harness, monkeypatch):
    h = harness(sim_config={"fill": NO_FILLS}, entry__reprice_seconds=5)
    work_entry = run_mod.work_entry

    async def go() -> tuple[int, Any]:
        ladder = asyncio.Event()  # set once the entry is at the gateway and its ladder starts working

        async def watched(*args: Any, **kw: Any) -> Any:
            ladder.set()
            return await work_entry(*args, **kw)

        monkeypatch.setattr(run_mod, "work_entry", watched)
        task = asyncio.ensure_future(run_day(h.ctx, h.session))
        started = asyncio.ensure_future(ladder.wait())
        await asyncio.wait({task, started}, timeout=REAL_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        assert ladder.is_set(), f"the entry never reached its ladder: {h.lines[-3:]}"
        halt_from_another_process(h)  # `icbot kill` in another process: the halt flag first
        halted_at = h.sim.clock.now()
        return await task, halted_at

    code, halted_at = asyncio.run(go())
    (entry,) = h.entries()
    sends = [r for r in h.sim.sim.requests("placeOrder") if any(f.endswith(":entry") for f in r.fields)]
    assert [r.at for r in sends if r.at > halted_at] == [], "re-priced after the kill"
    assert entry.status == "Cancelled"
    cancels = h.sim.sim.requests("cancelOrder")
    assert cancels and min(r.at for r in cancels) < h.session.deadline_at  # at once, not at the deadline
    assert code == EXIT_NO_TRADE
    reason = h.trade().no_trade_reason
    assert reason is not None and "halted" in reason


def test_stopped_while_the_entry_is_on_its_way_is_critical_when_the_gateway_lists_no_such_order(harness, monkeypatch):
    """The journal says the entry was being sent, the gateway lists it neither open nor completed (its message still
    queued behind ib_async's throttle as the stop came, or an answer that came back empty): nobody can say it will
    not arrive, so the day is not called a safe no-trade."""
    h = harness(sim_config={"fill": NO_FILLS})
    place = Gateway.place

    async def stopped_on_the_way(gw: Gateway, order: ComboOrder) -> Any:
        if refs.role_of(order.order_ref) == "entry":
            raise asyncio.CancelledError  # SIGTERM lands as the entry is being sent; it has not left
        return await place(gw, order)

    monkeypatch.setattr(Gateway, "place", stopped_on_the_way)
    code = h.run_day()
    assert h.entries() == []  # the gateway has none: the fault chosen above
    assert code == EXIT_CRITICAL, h.lines
    (alert,) = h.alerts(AlertLevel.FAILURE)
    assert "the gateway lists no order with today's entry orderRef" in alert.body
    assert h.trade().status is TradeStatus.PENDING  # `check` and a rerun keep looking for it


async def _exits_for_a_condor(h: Harness) -> tuple[bool, str]:
    """`ensure_exits` for one condor around the money, none of its exits working yet."""
    gw = await connect(h.sim, mode=h.ctx.mode)
    try:
        legs = await condor_legs(gw, h.ctx.trade_date)
        return await ensure_exits(
            h.ctx, gw, legs=legs, quantity=1, credit=2.0, time_exit_at=h.session.time_exit_at, existing=[]
        )
    finally:
        await gw.close()


def test_no_exit_is_placed_while_halted(harness):
    h = harness()
    h.store.halt("kill", at=h.sim.clock.now())

    ok, what = asyncio.run(_exits_for_a_condor(h))
    assert h.sim.sim.requests("placeOrder") == []
    assert not ok and "halted" in what


def test_an_exit_ib_refused_is_not_placed_again_once_kill_has_set_the_halt(harness, monkeypatch):
    # the one retry after IB's final rejection is a transmission like any other: it reads the halt first
    h = harness(faults=["reject-next=Simulated refusal"])  # the first exit placed is refused outright
    refusal = exits_mod.record_refusal

    def refused_then_killed(*args: Any, **kw: Any) -> None:
        refusal(*args, **kw)
        halt_from_another_process(h)  # `icbot kill` in another process, in that very moment

    monkeypatch.setattr(exits_mod, "record_refusal", refused_then_killed)

    ok, what = asyncio.run(_exits_for_a_condor(h))
    assert len(h.sim.sim.requests("placeOrder")) == 1  # the refused exit, and nothing after the halt
    assert not ok and "not placed again" in what and "halted" in what


def _fill_an_entry(h: Harness) -> None:
    """What a run-today that died right after its entry filled leaves behind: the order, its intent, a fill."""

    async def go() -> None:
        gw = await connect(h.sim, mode=h.ctx.mode)
        try:
            legs = await condor_legs(gw, h.ctx.trade_date, distance=40)
            ref = refs.order_ref(h.ctx.trade_date, h.ctx.mode, refs.ENTRY, installation="")
            order = ComboOrder(legs, "BUY", 1, "LMT", ref, limit_price=-0.05)
            lp, sp, sc, lc = (leg.strike for leg in legs)
            h.ctx.save_trade(status="pending", long_put=lp, short_put=sp, short_call=sc, long_call=lc)
            record_intent(h.ctx, order, refs.ENTRY)
            state = await gw.place(order)
            h.store.record_placed(ref, order_id=state.order_id, perm_id=state.perm_id, at=h.ctx.now())
            state = await gw.wait_status(state.order_id, {OrderStatus.FILLED}, timeout=30)
            assert state.status is OrderStatus.FILLED
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
    assert h.alerts(AlertLevel.FAILURE)


# -- the journal and the broker disagree ------------------------------------------------------------------
def test_an_entry_the_journal_saw_placed_but_the_gateway_does_not_know_is_a_conflict_not_a_new_entry(harness):
    h = harness()
    ref = refs.order_ref(h.ctx.trade_date, h.ctx.mode, refs.ENTRY, installation="")
    record_intent(h.ctx, ComboOrder((), "BUY", 1, "LMT", ref, limit_price=-1.0), refs.ENTRY)
    h.store.record_placed(ref, order_id=4242, perm_id=None, at=h.ctx.now())  # acknowledged by a gateway once
    h.ctx.save_trade(status="pending")
    code = h.run_day()
    assert h.entries() == [], "a second entry order today"
    assert code == EXIT_CRITICAL
    assert h.alerts(AlertLevel.FAILURE)


# -- the credit the exits are priced from -------------------------------------------------------------------
def _leg(side: str, price: float, con_id: int) -> tuple[int, LegFill]:
    return con_id, LegFill(side, 1, price, 0.65)


def test_exits_are_never_priced_from_an_incomplete_set_of_leg_fills():
    # FreshDay.credit prices the exits from `exit_credit` over the entry's standing leg executions.
    full = [_leg("BOT", 0.40, 1), _leg("SLD", 3.10, 2), _leg("SLD", 2.90, 3), _leg("BOT", 0.35, 4)]
    assert exit_credit(full, filled=1, bag_avg=-5.20) == (pytest.approx(5.25), "legs")  # the legs win
    # Only the two sold legs reported so far: the legs alone would claim 12.00 — a take profit paying 9.00.
    assert exit_credit(full[1:3], filled=1, bag_avg=-5.20) == (pytest.approx(5.20), "bag")
    # Only the bought wings: a negative "credit" (exit_prices would raise) — the BAG's fill price instead.
    assert exit_credit([full[0], full[3]], filled=1, bag_avg=-5.20) == (pytest.approx(5.20), "bag")
    # A 2-lot of which one combo's legs arrived: not complete either.
    assert exit_credit(full, filled=2, bag_avg=-5.20) == (pytest.approx(5.20), "bag")
    # Nothing usable at all: no credit — never 0.0, which would be saved and break every later repair.
    assert exit_credit([], filled=1, bag_avg=None) == (None, "none")
    assert exit_credit(full[1:3], filled=1, bag_avg=0.10) == (None, "none")


# -- resuming --------------------------------------------------------------------------------------------
def test_a_rerun_that_finds_the_entry_pending_cancel_sees_the_cancel_through(harness, monkeypatch):
    # A run died right after asking to cancel at the deadline; the rerun finds the entry PendingCancel at the
    # gateway. That is not "ended without a fill": it may still fill. The rerun must confirm the end itself.
    h = harness(start="2026-11-24T09:33:05", sim_config={"fill": NO_FILLS})
    ref = refs.order_ref(h.ctx.trade_date, h.ctx.mode, refs.ENTRY, installation="")

    async def send_and_die() -> None:
        gw = await connect(h.sim, mode=h.ctx.mode)
        try:
            legs = await condor_legs(gw, h.ctx.trade_date, distance=40)
            order = ComboOrder(legs, "BUY", 1, "LMT", ref, limit_price=-30.0)  # far from any fill
            h.ctx.save_trade(status="pending")
            record_intent(h.ctx, order, refs.ENTRY)
            state = await gw.place(order)
            h.store.record_placed(ref, order_id=state.order_id, perm_id=state.perm_id, at=h.ctx.now())
        finally:
            await gw.close()

    asyncio.run(send_and_die())
    find_by_ref = Gateway.find_by_ref
    asked: list[str] = []

    async def pending_cancel_first(gw: Gateway, prefix: str) -> Any:
        found = await find_by_ref(gw, prefix)
        asked.append(prefix)
        if len(asked) > 1:
            return found
        # what the gateway said when the rerun asked: the earlier run's cancel was still on its way
        return [replace(s, status=OrderStatus.PENDING_CANCEL) if s.order_ref == ref else s for s in found]

    monkeypatch.setattr(Gateway, "find_by_ref", pending_cancel_first)
    code = h.run_day()
    assert asked, "the rerun never looked for today's orders"
    assert any("PendingCancel" in line for line in h.lines), h.lines
    (entry,) = h.entries()
    assert entry.status == "Cancelled", "left working at the gateway while the journal says no trade"
    assert code == EXIT_NO_TRADE


def test_an_experiment_rerun_without_a_gateway_is_no_trade_not_an_urgent_alarm(harness):
    # An experiment run died after journaling its (never transmitted) entry; the rerun cannot connect.
    h = harness(mode="experiment", start="2026-11-24T09:32:50", faults=["refuse-until=09:40:00"])
    ref = refs.order_ref(h.ctx.trade_date, h.ctx.mode, refs.ENTRY, installation="")
    h.ctx.save_trade(status="pending", experiment=True)
    record_intent(h.ctx, ComboOrder((), "BUY", 1, "LMT", ref, limit_price=-1.0), refs.ENTRY, transmitted=False)
    code = h.run_day()
    assert code == EXIT_NO_TRADE  # nothing can be at risk in experiment mode
    assert h.alerts(AlertLevel.FAILURE) == []


# -- a refusal is believed only once the gateway shows no such order ----------------------------------------
INFO_10349 = "Order TIF was set to DAY based on order preset."  # real IB: informational, the order lives on
ACK_DELAY = timedelta(seconds=1)  # virtual: how long the gateway takes to acknowledge after its notice


def test_an_informational_error_on_the_new_entry_is_not_taken_for_a_rejection(harness, monkeypatch):
    # Newer TWS versions answer some new orders with 10349 before acknowledging them (ib_async issues #191,
    # #217): the order is live and fills. Here the simulator says exactly that, first, for the entry — and takes
    # a moment before it acknowledges the order: one virtual second, on its own ticker (nothing blocks).
    place, tick = handlers.HANDLERS[3], SimServer.tick
    held: list[tuple[Any, list[str], datetime]] = []
    noticed: list[int] = []

    def place_with_notice(server: SimServer, conn: Any, fields: list[str], now: datetime) -> None:
        req = handlers.parse_place_order(fields, conn.version)
        if req.order_ref.endswith(":entry") and not req.what_if and not noticed:
            noticed.append(req.order_id)
            conn.error(req.order_id, 10349, INFO_10349)  # the notice goes out first...
            held.append((conn, fields, now + ACK_DELAY))  # ...and the acknowledgement a moment later
            return
        place(server, conn, fields, now)

    async def tick_and_acknowledge(server: SimServer, now: datetime) -> None:
        while held and now >= held[0][2]:
            conn, fields, _ = held.pop(0)
            place(server, conn, fields, now)
            server.deliver()
        await tick(server, now)

    monkeypatch.setitem(handlers.HANDLERS, 3, place_with_notice)
    monkeypatch.setattr(SimServer, "tick", tick_and_acknowledge)
    h = harness()
    code = h.run_day()
    assert noticed, "the entry never got its notice"
    (entry,) = h.entries()
    trade = h.trade()
    assert trade.status is not TradeStatus.NO_TRADE, "the live entry was abandoned as refused"
    if entry.filled > 0:
        assert code == EXIT_OK and trade.status is TradeStatus.OPEN and trade.exits_ok is True
        assert sorted(o.req.order_type for o in h.exits()) == ["LMT", "MKT", "STP"]
    else:
        assert entry.status == "Cancelled"


# -- a rerun that works a partly filled entry completes the exits, never a second set --------------------------
def test_a_rerun_working_a_partly_filled_entry_keeps_the_earlier_exits_and_adds_none(harness):
    # An earlier run: a 2-lot entry filled 1, its exits went out for that 1, then the run died with the entry
    # still working. The rerun works the entry to the deadline; the earlier exits must stay the only ones.
    h = harness(start="2026-11-24T09:32:30", sim_config={"fill": NO_FILLS}, size__contracts=2, size__max_contracts=2)
    ref = refs.order_ref(h.ctx.trade_date, h.ctx.mode, refs.ENTRY, installation="")

    def fill_one_of_the_entry(server: Any) -> float:
        now = server.clock.now()
        [order] = [o for o in server.engine.working_orders() if o.req.order_ref == ref]
        quote = server.engine.quote(order, now)
        server.engine.fill_now(order.client_id, order.order_id, now, 1, quote.ask)  # one lot at the natural price
        server.deliver()
        return -round(quote.ask, 2)

    async def fill_one_and_die() -> None:
        gw = await connect(h.sim, mode=h.ctx.mode)
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
        finally:
            await gw.close()

    asyncio.run(fill_one_and_die())
    code = h.run_day()  # the rerun: finds the entry working, continues its ladder
    assert any(
        e.phase == Phase.ORDER and "found today's entry" in e.message
        for e in h.store.events(h.ctx.trade_date, h.ctx.mode)
    )
    (entry,) = h.entries()
    assert entry.status == "Cancelled" and entry.filled == 1
    exits = h.exits()
    assert len(exits) == 3, [o.req.order_ref for o in exits]  # not six: no second, independent OCA group
    assert {o.req.oca_group for o in exits} == {refs.oca_group(h.ctx.trade_date, h.ctx.mode, installation="")}
    assert all(o.req.total_qty == 1 for o in exits)
    assert code == EXIT_OK, h.lines


# -- two installations' entries cross: the one IB accepted second loses, and its fill is closed -----------------
async def _place_rival(h: Harness) -> None:
    """Another installation's entry, sent in the same instant as this one (after this one's early check): it rests
    at a credit nobody pays, and IB accepted it first (the lower permId)."""
    gw = await connect(h.sim, client_id=41)
    try:
        legs = await condor_legs(gw, h.session.date, distance=100.0)
        ref = refs.order_ref(h.session.date, "paper", refs.Role.ENTRY, installation="rival9")
        await gw.place(ComboOrder(legs, "BUY", 1, "LMT", ref, limit_price=-19.0))
    finally:
        await gw.close()


def _lost_and_filled(
    harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch, *, halt_on_the_way: bool
) -> Harness:
    """This installation's entry loses to a rival's, and its cancel loses the race to a fill (fill-on-cancel)."""
    h = harness(faults=["fill-on-cancel"], sim_config={"fill": NO_FILLS})
    early_check = FreshDay.no_rival_working
    settle = FreshDay.settle_rivalry

    async def rival_after_the_check(day: FreshDay) -> None:
        await early_check(day)
        await _place_rival(h)

    async def halted_first(day: FreshDay, state: Any) -> Any:
        if halt_on_the_way:  # `icbot kill` in another process sets the halt just after the entry left
            halt_from_another_process(h)
        return await settle(day, state)

    monkeypatch.setattr(FreshDay, "no_rival_working", rival_after_the_check)
    monkeypatch.setattr(FreshDay, "rival_check_stands", lambda day: True)  # the two entries crossed on the wire
    monkeypatch.setattr(FreshDay, "settle_rivalry", halted_first)
    code = h.run_day()
    assert code == EXIT_CRITICAL, "\n".join(h.lines)
    (entry,) = h.entries()
    assert entry.status == "Filled" and h.exits() == []
    return h


def test_the_entry_accepted_second_is_cancelled_and_what_filled_is_closed_at_market(harness, monkeypatch):
    # one condor of this installation is open for a moment
    h = _lost_and_filled(harness, monkeypatch, halt_on_the_way=False)
    closes = [o for o in h.icbot_orders() if refs.role_of(o.req.order_ref) is refs.Role.CLOSE]
    assert [(o.req.order_type, o.req.action, o.status) for o in closes] == [("MKT", "SELL", "Filled")]
    assert not any(p.qty for p in h.sim.sim.positions().values())  # flat at the broker: the rival's rests unfilled
    assert any("closed it at market at once" in a.body for a in h.alerts(AlertLevel.FAILURE))


def test_a_lost_entry_that_filled_while_kill_is_under_way_is_left_to_kill(harness, monkeypatch):
    # kill's close reads what is held after this process let go; a close from here as well would reverse it
    h = _lost_and_filled(harness, monkeypatch, halt_on_the_way=True)
    assert [o for o in h.icbot_orders() if refs.role_of(o.req.order_ref) is refs.Role.CLOSE] == []
    assert any(p.qty for p in h.sim.sim.positions().values())  # the condor is still there for kill to close
    [alert] = [a for a in h.alerts(AlertLevel.FAILURE) if "halted" in a.body]
    assert "`icbot kill` closes what is held" in alert.body
