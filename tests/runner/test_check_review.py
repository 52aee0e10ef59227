"""`icbot check` reconciling against the simulated gateway, in process: run-today's library opens the day's
condor, somebody or something then changes the broker's books (a hand trade, a partial exit fill, a lost
market-data session), and `run_check` must see it and say so with the right exit code and alert.

Real parts throughout: the simulator over a loopback socket, real ib_async, a real SQLite journal; alerts go
through apprise to a loopback endpoint and are read back from the `alerts` table. Orders placed "by hand in TWS"
go through their own ib_async connection and are waited for on ib_async's order events (bounded), never by
polling.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from ib_async import IB, Bag, ComboLeg, LimitOrder, MarketOrder, Option
from ib_async import Trade as IbTrade

from icbot.broker.types import ComboLeg as ComboLegSpec
from icbot.broker.types import ComboOrder
from icbot.config import load_config
from icbot.core import refs
from icbot.core.journal import Alert, AlertLevel, EventStatus, Phase, Trade, TradeStatus
from icbot.errors import EXIT_CRITICAL, EXIT_OK
from icbot.runner import check, recording
from icbot.runner import run_today as run_mod
from icbot.runner.context import RunContext
from icbot.runner.records import record_intent
from icbot.runner.sessions import day_session
from icbot.sim.fixture import SimGateway
from icbot.store.repo import Store
from tests.broker.helpers import condor_legs, connect, entry, write_sim_config
from tests.runner.harness import run_context
from tests.webhook import Endpoint

pytestmark = pytest.mark.e2e

HAND = 77  # the client id of "somebody trading by hand in TWS"
HAND_ORDER_TIMEOUT = 10.0  # real seconds a hand order may take to reach the state it is waited for


@dataclass
class Desk:
    sim: SimGateway
    store: Store
    cfg_path: Path
    sink: Endpoint
    lines: list[str] = field(default_factory=list)

    @property
    def day(self) -> date:
        return self.sim.clock.now_ny().date()

    def ctx(self, command: str) -> RunContext:
        return run_context(load_config(self.cfg_path, {}), self.sim, self.store, command, self.lines, self.sink)

    def run_today(self) -> int:
        ctx = self.ctx("run-today")
        session = day_session(ctx.config, self.day)
        assert session is not None
        return asyncio.run(run_mod.run_day(ctx, session))

    def check(self) -> int:
        ctx = self.ctx("check")
        return asyncio.run(check.run_check(ctx, check.trades_to_check(self.store, ctx.mode)))

    def trade(self) -> Trade:
        trade = self.store.trade(self.day, "paper")
        assert trade is not None
        return trade

    def alerts(self, level: AlertLevel) -> list[Alert]:
        return [a for a in self.store.alerts() if a.level is level]

    def exits_at_sim(self) -> dict[str, Any]:
        return {
            refs.role_of(o.req.order_ref): o
            for o in self.sim.sim.orders()
            if refs.role_of(o.req.order_ref) in refs.EXIT_ROLES
        }

    def held(self) -> dict[int, float]:
        return {c: p.qty for c, p in self.sim.sim.positions().items() if p.qty}


@pytest.fixture
def desk(sim_gateway_factory: Callable[..., SimGateway], tmp_path: Path) -> Iterator[Callable[..., Desk]]:
    stores: list[Store] = []

    def make(
        start: str = "2026-11-24T09:31:00", speed: float = 30, faults: Sequence[str] = (), **overrides: Any
    ) -> Desk:
        sim = sim_gateway_factory(start=start, speed=speed, faults=list(faults))
        path = write_sim_config(tmp_path, sim, **overrides)
        store = Store.open(tmp_path / "icbot.db")
        stores.append(store)
        return Desk(sim, store, path, sink)

    sink = Endpoint()
    yield make
    for s in stores:
        s.close()
    sink.close()


async def _by_hand(sim: SimGateway, fn: Callable[[IB], Any], client_id: int = HAND) -> Any:
    ib = IB()
    await ib.connectAsync(sim.host, sim.port, clientId=client_id)
    try:
        return await fn(ib)
    finally:
        ib.disconnect()


async def _until(trade: IbTrade, done: Callable[[IbTrade], bool], what: str) -> None:
    """Wait on the order's ib_async status events until `done(trade)`; fail after HAND_ORDER_TIMEOUT."""

    async def watch() -> None:
        while not done(trade):
            await trade.statusEvent  # the next orderStatus ib_async applies to this order

    try:
        await asyncio.wait_for(watch(), HAND_ORDER_TIMEOUT)
    except TimeoutError:
        raise AssertionError(f"hand order not {what}: {trade.orderStatus.status}") from None


async def _wait_filled(trade: IbTrade) -> None:
    await _until(trade, lambda t: t.orderStatus.status == "Filled", "filled")


def bag_of(legs: Sequence[ComboLegSpec]) -> Bag:
    """The day's condor as a BAG, from the legs the journal recorded with the entry's intent."""
    return Bag(
        symbol="SPX",
        exchange="SMART",
        currency="USD",
        comboLegs=[ComboLeg(conId=leg.con_id, ratio=1, action=leg.action, exchange="SMART") for leg in legs],
    )


def entry_legs(desk: Desk) -> tuple[ComboLegSpec, ...]:
    order = desk.store.order(refs.order_ref(desk.day, "paper", refs.ENTRY, installation=""))
    assert order is not None
    return order.legs


def sell_condor_by_hand(desk: Desk, quantity: int = 1) -> None:
    """Close the day's condor in "TWS": SELL the same BAG at market."""
    legs = entry_legs(desk)

    async def go(ib: IB) -> None:
        await _wait_filled(ib.placeOrder(bag_of(legs), MarketOrder("SELL", quantity)))

    asyncio.run(_by_hand(desk.sim, go))


def trade_option_by_hand(desk: Desk, right: str, strike: float, action: str, quantity: int = 1) -> None:
    async def go(ib: IB) -> None:
        [contract] = await ib.qualifyContractsAsync(
            Option("SPX", desk.day.strftime("%Y%m%d"), strike, right, "SMART", tradingClass="SPXW")
        )
        await _wait_filled(ib.placeOrder(contract, MarketOrder(action, quantity)))

    asyncio.run(_by_hand(desk.sim, go))


def cancel_exits_in_tws(desk: Desk) -> None:
    """Cancel run-today's working orders (exits, or an entry) as a person would in TWS (its client id may)."""

    async def go(ib: IB) -> None:
        working = ib.openTrades()
        for t in working:
            ib.cancelOrder(t.order)
        await asyncio.gather(*(_until(t, lambda t: t.orderStatus.status == "Cancelled", "cancelled") for t in working))

    asyncio.run(_by_hand(desk.sim, go, client_id=31))


# -- a position closed by hand while its exits still work ---------------------------------------------------
def test_position_closed_by_hand_with_exits_still_working_is_critical_until_they_are_gone(desk):
    d = desk()
    assert d.run_today() == EXIT_OK
    assert d.trade().status is TradeStatus.OPEN and d.trade().exits_ok
    sell_condor_by_hand(d)
    assert d.held() == {}
    assert all(o.status in ("PreSubmitted", "Submitted") for o in d.exits_at_sim().values())

    # The three exits still work at the gateway: the stop or the 11:30 market order would open a new condor.
    assert d.check() == EXIT_CRITICAL
    assert d.trade().status is TradeStatus.OPEN  # still watched by the next check
    [alert] = d.alerts(AlertLevel.FAILURE)
    assert "still working" in alert.body
    assert all(role in alert.body for role in refs.EXIT_ROLES)

    cancel_exits_in_tws(d)  # the user follows the alert
    assert all(o.status == "Cancelled" for o in d.exits_at_sim().values())
    assert d.check() == EXIT_OK
    trade = d.trade()
    assert trade.status is TradeStatus.CLOSED and trade.exit_reason == "manual"


# -- broker trouble while checking ---------------------------------------------------------------------------
def test_market_data_lost_to_a_competing_session_does_not_break_off_the_reconciliation(desk):
    d = desk()
    assert d.run_today() == EXIT_OK
    d.sim.sim.fault("competing-session")  # the user logs into TWS mobile: IB 10197, no quotes for the API
    assert d.check() == EXIT_OK  # exits verified; only the touch watch is blind, and says so
    events = d.store.events(d.day, "paper")
    assert any(e.phase == Phase.RECONCILE and "3 exits working" in e.message for e in events)
    assert any(e.status is EventStatus.WARN and "10197" in e.message for e in events)
    assert d.alerts(AlertLevel.FAILURE) == []


def test_a_defect_in_recording_the_bars_does_not_turn_a_good_check_into_a_crash(desk, monkeypatch):
    d = desk()
    assert d.run_today() == EXIT_OK

    async def broken(*args: Any, **kw: Any) -> None:
        raise KeyError("no such minute")

    monkeypatch.setattr(recording, "record_day", broken)
    assert d.check() == EXIT_OK  # the exits were verified; the bars are evidence, not the trade
    [warned] = [e for e in d.store.events(d.day, "paper") if e.phase == "bars" and e.status is EventStatus.WARN]
    assert warned.message.startswith("bars not recorded: KeyError") and "a defect" in warned.message
    assert d.alerts(AlertLevel.FAILURE) == []


def test_connection_lost_while_repairing_exits_is_critical_not_a_crash(desk):
    d = desk()
    assert d.run_today() == EXIT_OK
    cancel_exits_in_tws(d)  # the exits vanish (cancelled in TWS by mistake)
    assert d.held() and all(o.status == "Cancelled" for o in d.exits_at_sim().values())
    d.sim.sim.fault("drop-after-orders=1")  # the gateway goes away right after check's first repair order
    assert d.check() == EXIT_CRITICAL
    alerts = d.alerts(AlertLevel.FAILURE)
    assert any("ACTION NEEDED" in a.title and "without complete exits" in a.body for a in alerts)


# -- positions that do not match the trade ------------------------------------------------------------------
def test_a_leg_held_beyond_the_trade_is_critical_although_its_strike_is_icbots(desk):
    d = desk()
    assert d.run_today() == EXIT_OK
    short_put = d.trade().short_put
    assert short_put is not None
    trade_option_by_hand(d, "P", short_put, "SELL")  # one more short put: naked below the condor
    assert d.check() == EXIT_CRITICAL
    [alert] = d.alerts(AlertLevel.FAILURE)
    assert "orphan" in alert.title
    assert "-2" in alert.body and "accounts for -1" in alert.body


def test_a_trade_closed_by_hand_is_not_an_orphan_alarm(desk):
    d = desk()
    assert d.run_today() == EXIT_OK
    cancel_exits_in_tws(d)
    sell_condor_by_hand(d)
    assert d.check() == EXIT_OK
    assert d.trade().status is TradeStatus.CLOSED and d.alerts(AlertLevel.FAILURE) == []


# -- quantity > 1: an exit that fills in part -----------------------------------------------------------------
def fill_part_of_exit(desk: Desk, role: str, quantity: float) -> None:
    """Make the simulated market trade `quantity` of a working exit at its limit now (the rest keeps working).

    The simulator's own fill path, as its per-second draws would take it; only the moment is chosen here.
    """

    def go(server: Any) -> None:
        now = server.clock.now()
        engine = server.engine
        engine.advance(now)
        [order] = [o for o in engine.working_orders() if refs.role_of(o.req.order_ref) == role]
        engine.fill_at_limit(order.client_id, order.order_id, now, quantity=quantity)
        server.deliver()

    desk.sim.sim.call(go)


def test_an_exit_filled_in_part_gets_the_open_lots_a_complete_set_of_exits_again(desk):
    d = desk(size__contracts=2, size__max_contracts=2)
    assert d.run_today() == EXIT_OK
    assert d.trade().quantity == 2
    old = d.exits_at_sim()
    fill_part_of_exit(d, refs.TAKE_PROFIT, 1)
    exits = d.exits_at_sim()
    assert exits[refs.TAKE_PROFIT].filled == 1 and exits[refs.TAKE_PROFIT].status == "Submitted"
    assert exits[refs.STOP].status == "Cancelled"  # ocaType 1: any fill cancels the siblings
    assert sorted(abs(q) for q in d.held().values()) == [1, 1, 1, 1]

    assert d.check() == EXIT_OK
    # From the broker's side: the old take profit's remainder is cancelled (it was run-today's: check cancelled it
    # as client 31), and one complete set for the one open lot works in a fresh OCA group at the same prices.
    orders = [o for o in d.sim.sim.orders() if refs.role_of(o.req.order_ref) in refs.EXIT_ROLES]
    working = [o for o in orders if o.status in ("PreSubmitted", "Submitted")]
    assert sorted(str(refs.role_of(o.req.order_ref)) for o in working) == sorted(refs.EXIT_ROLES)
    assert all(o.req.total_qty == 1 and refs.attempt_of(o.req.order_ref) == 2 for o in working)
    assert len({o.req.oca_group for o in working}) == 1
    assert {o.req.oca_group for o in working}.isdisjoint({o.req.oca_group for o in old.values()})
    new = {refs.role_of(o.req.order_ref): o for o in working}
    assert new[refs.TAKE_PROFIT].req.lmt_price == old[refs.TAKE_PROFIT].req.lmt_price
    assert new[refs.STOP].req.aux_price == old[refs.STOP].req.aux_price
    assert next(o for o in orders if o.order_id == old[refs.TAKE_PROFIT].order_id).status == "Cancelled"
    trade = d.trade()
    assert trade.status is TradeStatus.OPEN
    assert not d.alerts(AlertLevel.FAILURE)
    assert any("re-placed" in a.title for a in d.alerts(AlertLevel.WARNING))
    assert any("re-protected the open 1" in e.message for e in d.store.events(d.day, "paper"))
    assert d.check() == EXIT_OK  # covered now: nothing more is placed
    assert len([o for o in d.sim.sim.orders() if o.status in ("PreSubmitted", "Submitted")]) == 3


def test_exits_are_repaired_for_what_the_broker_filled_not_for_a_journal_that_fell_behind(desk):
    d = desk(size__contracts=2, size__max_contracts=2)
    assert d.run_today() == EXIT_OK
    assert d.trade().quantity == 2
    # The journal says 1 (e.g. check adopted the entry while it was still filling after a crash); IB filled 2.
    d.store.save_trade(d.day, "paper", d.sim.clock.now(), quantity=1)
    cancel_exits_in_tws(d)
    assert d.check() == EXIT_OK
    repaired = d.exits_at_sim()
    assert sorted(repaired) == sorted(refs.EXIT_ROLES)
    assert all(o.req.total_qty == 2 and o.status in ("PreSubmitted", "Submitted") for o in repaired.values())
    assert d.trade().quantity == 2
    warnings = [e.message for e in d.store.events(d.day, "paper") if e.status is EventStatus.WARN]
    assert any("filled 2" in m for m in warnings)


# -- an entry nobody works any more ---------------------------------------------------------------------------
def send_entry_and_die(d: Desk, *, limit: float) -> None:
    """What a run-today that died right after sending its entry leaves: the trade pending, the intent journaled
    with the acknowledgement, the order at the gateway."""
    ctx = d.ctx("run-today")

    async def go() -> None:
        gw = await connect(d.sim)
        try:
            legs = await condor_legs(gw, d.day)
            order = entry(legs, limit)
            ctx.save_trade(status="pending", short_put=legs[1].strike, short_call=legs[2].strike)
            record_intent(ctx, order, refs.ENTRY)
            state = await gw.place(order)
            ctx.store.record_placed(order.order_ref, order_id=state.order_id, perm_id=state.perm_id, at=ctx.now())
        finally:
            await gw.close()

    asyncio.run(go())


def test_an_entry_left_working_after_the_deadline_is_critical(desk):
    """run-today died after sending the entry (the journal has the intent, the trade is pending); at 09:40 the
    order still rests at the gateway and may fill at any moment, with no exits until some later check."""
    d = desk(start="2026-11-24T09:40:00")
    send_entry_and_die(d, limit=-19.0)  # a credit far above the market: it rests
    assert [o.status for o in d.sim.sim.orders()] == ["Submitted"]
    assert d.check() == EXIT_CRITICAL
    [alert] = d.alerts(AlertLevel.FAILURE)
    assert "still working" in alert.body and "09:33" in alert.body

    cancel_exits_in_tws(d)  # the user cancels it as told; the day is then a no-trade, no longer checked
    assert d.check() == EXIT_OK
    trade = d.trade()
    assert trade.status is TradeStatus.NO_TRADE
    assert trade.no_trade_reason is not None and "Cancelled without a fill" in trade.no_trade_reason
    assert check.trades_to_check(d.store, "paper") == []


def test_a_rerun_right_after_the_fill_waits_for_positions_that_trail_it_and_places_the_exits(desk):
    """run-today died right after its entry filled; IB's positions trail the fill by 12 s when the rerun reads
    them. Before, the rerun called the position gone — a critical, and a filled condor left without exits."""
    d = desk(start="2026-11-24T09:32:00", speed=5, faults=["positions-late=12"], exits__confirm_seconds=5)
    send_entry_and_die(d, limit=-0.05)  # a credit of 0.05: marketable, it fills at once
    assert [o.status for o in d.sim.sim.orders()] == ["Filled"]
    assert d.run_today() == EXIT_OK, "\n".join(d.lines)
    exits = [o for o in d.sim.sim.orders() if refs.role_of(o.req.order_ref) in refs.EXIT_ROLES]
    assert sorted(str(refs.role_of(o.req.order_ref)) for o in exits) == ["stop", "take_profit", "time_exit"]
    assert all(o.status in ("PreSubmitted", "Submitted") for o in d.exits_at_sim().values())
    notes = [e.message for e in d.store.events(d.day, "paper") if e.phase == Phase.RECONCILE]
    assert any(m.startswith("the positions did not show the filled legs") and m.endswith("there now") for m in notes)
    assert d.trade().status is TradeStatus.OPEN and d.alerts(AlertLevel.FAILURE) == []


# -- an order with icbot's name that the journal does not know ---------------------------------------------------
def test_an_icbot_order_the_journal_does_not_know_is_critical_and_the_rest_is_still_reconciled(desk):
    """E.g. a second icbot installation on the same account, or a journal restored from an older backup."""
    d = desk()
    assert d.run_today() == EXIT_OK
    legs = entry_legs(d)
    foreign = refs.order_ref(d.day, "paper", refs.CLOSE, installation="")

    async def place(ib: IB) -> None:
        t = ib.placeOrder(bag_of(legs), LimitOrder("SELL", 1, 1.0, orderRef=foreign))  # rests: a credit nobody pays
        await _until(t, lambda t: t.orderStatus.status in ("PreSubmitted", "Submitted"), "working")

    asyncio.run(_by_hand(d.sim, place))
    assert d.check() == EXIT_CRITICAL
    assert any(foreign in a.body for a in d.alerts(AlertLevel.FAILURE))
    events = d.store.events(d.day, "paper")
    assert any("3 exits working" in e.message for e in events), [e.message for e in events][-6:]


# -- a trade from an earlier day ------------------------------------------------------------------------------
def test_yesterdays_trade_is_settled_honestly_once_ib_no_longer_reports_its_executions(desk):
    """IB's reqExecutions covers today only. An earlier day's trade the journal never saw close cannot be
    'closed by hand' (a guess) or 'pending' for ever (check would connect every few minutes, every day)."""
    d = desk()
    yesterday = date(2026, 11, 23)
    at = d.sim.clock.now()
    pending = RunContext(d.ctx("run-today").config, d.sim.clock, d.store, d.ctx("x").notifier, yesterday, "run-today")
    pending.save_trade(status="pending")
    ref = refs.order_ref(yesterday, "paper", refs.ENTRY, installation="")
    record_intent(pending, ComboOrder(FAR_LEGS, "BUY", 1, "LMT", ref, limit_price=-2.0), refs.ENTRY)
    d.store.record_placed(ref, order_id=5, perm_id=None, at=at)
    assert [t.trade_date for t in check.trades_to_check(d.store, "paper")] == [yesterday]

    assert d.check() == EXIT_OK
    trade = d.store.trade(yesterday, "paper")
    assert trade is not None
    assert trade.status is TradeStatus.FAILED
    assert trade.last_problem is not None and "statement" in trade.last_problem
    assert check.trades_to_check(d.store, "paper") == []
    assert any("statement" in a.body for a in d.alerts(AlertLevel.WARNING))


# -- today's entry, journaled as sent, unknown to the gateway ----------------------------------------------------
FAR_LEGS = (
    ComboLegSpec(1, "BUY", "P", 6500.0, ""),
    ComboLegSpec(2, "SELL", "P", 6520.0, ""),
    ComboLegSpec(3, "SELL", "C", 6800.0, ""),
    ComboLegSpec(4, "BUY", "C", 6820.0, ""),
)


def journal_entry_intent(d: Desk, *, acknowledged: bool) -> None:
    ctx = d.ctx("run-today")
    ctx.save_trade(status="pending")
    ref = refs.order_ref(d.day, "paper", refs.ENTRY, installation="")
    record_intent(ctx, ComboOrder(FAR_LEGS, "BUY", 1, "LMT", ref, limit_price=-2.0), refs.ENTRY)
    if acknowledged:
        d.store.record_placed(ref, order_id=5, perm_id=None, at=d.sim.clock.now())


@pytest.mark.parametrize(
    ("acknowledged", "code", "status"),
    [(True, EXIT_CRITICAL, TradeStatus.PENDING), (False, EXIT_OK, TradeStatus.NO_TRADE)],
)
def test_todays_entry_the_gateway_does_not_know(desk, acknowledged, code, status):
    # After the deadline. Acknowledged once, then unknown: broker and journal disagree (as run-today says too).
    # Never acknowledged: the send did not reach the gateway, and nothing can come of it any more.
    d = desk(start="2026-11-24T09:40:00")
    journal_entry_intent(d, acknowledged=acknowledged)
    assert d.check() == code
    assert d.trade().status is status
    assert bool(d.alerts(AlertLevel.FAILURE)) is acknowledged
