"""The Gateway against the simulated IB Gateway over a real loopback socket, with real ib_async.

Every test asserts against the simulator's own books (orders, executions, positions, line counts) as well as
against what the Gateway reports, so a Gateway that merely agrees with itself cannot pass.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import socket
from datetime import datetime, timedelta
from typing import Any

import pytest

from icbot import startup
from icbot.broker.band import OPTION_LINES
from icbot.broker.errors import (
    CompetingSession,
    GatewayUnavailable,
    MarketDataUnavailable,
    OrderRejected,
    TransientBrokerError,
    UnknownOrder,
    WrongAccount,
)
from icbot.broker.gateway import Gateway
from icbot.broker.market import MAX_LINES
from icbot.broker.session import MAX_REQUESTS, ROUND_TRIP_FLOOR
from icbot.broker.types import ComboOrder
from icbot.clock import NEW_YORK, Clock, ny_datetime, real_monotonic
from tests.broker.helpers import PREFIX, Cfg, condor_legs, connect, entry, run, session_date
from tests.broker.holdback import HoldBack

pytestmark = pytest.mark.e2e


# -- connecting ---------------------------------------------------------------------------------------
def test_the_connection_ends_the_collector_pause_of_start_up(sim_gateway):
    """Every long-running command reaches the gateway: its connection is the first step of work (icbot/startup.py),
    so a run-today or check watching for hours has the cyclic collector back."""
    was = gc.isenabled()
    startup.starting()
    try:

        async def go():
            gw = await connect(sim_gateway)
            await gw.close()

        run(go())
        assert gc.isenabled()
    finally:
        startup.started()
        gc.unfreeze()
        (gc.enable if was else gc.disable)()


def test_connect_uses_the_paper_account_and_refuses_accounts_that_do_not_fit_the_mode(sim_gateway):
    async def go():
        gw = await connect(sim_gateway)
        assert gw.account == "DU1234567" and gw.mode == "paper"
        await gw.close()
        await gw.close()  # idempotent
        with pytest.raises(WrongAccount, match=r"requires gateway\.account"):
            await connect(sim_gateway, mode="live")
        with pytest.raises(WrongAccount, match="is a paper account"):
            await connect(sim_gateway, mode="live", account="DU1234567")
        with pytest.raises(WrongAccount, match="not an account of this gateway"):
            await connect(sim_gateway, account="DU7654321")
        exp = await connect(sim_gateway, mode="experiment")
        assert exp.account == "DU1234567"
        await exp.close()

    run(go())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connect_gives_up_at_the_deadline_saying_when_how_often_and_why():
    clock = Clock.virtual(ny_datetime("2026-11-24", "09:31"), 60.0)
    deadline = clock.now() + timedelta(seconds=20)

    async def go():
        await Gateway.connect(Cfg("127.0.0.1", _free_port()), clock=clock, deadline=deadline, mode="paper")

    with pytest.raises(GatewayUnavailable) as err:
        run(go())
    text = str(err.value)
    assert text.startswith("IB Gateway at 127.0.0.1:")
    assert "did not accept a connection by 09:31:20 ET (" in text and "connection refused" in text
    attempts = int(text.split(" ET (")[1].split(" attempt")[0])
    assert attempts >= 3
    assert clock.now() >= deadline


def test_connect_keeps_retrying_until_the_gateway_accepts(sim_gateway_factory):
    sim = sim_gateway_factory(faults=["refuse-until=09:31:20"])

    async def go():
        gw = await connect(sim)
        await gw.close()
        return sim.clock.now_ny()

    assert run(go()).strftime("%H:%M:%S") >= "09:31:20"


# -- market data ----------------------------------------------------------------------------------------
def test_chain_streams_within_the_line_budget_with_signed_model_deltas(sim_gateway):
    sim = sim_gateway

    async def go():
        gw = await connect(sim)
        day = session_date(sim)
        spx = await gw.spx_price()
        vix = await gw.vix()
        assert spx is not None and 5000 < spx < 7000 and vix is not None and 5 < vix < 80
        listed = await gw.list_strikes(day)
        assert len(listed) > 100 and all(b - a == 5.0 for a, b in itertools.pairwise(listed))
        band = gw.band_strikes(spx, listed, vol=vix / 100)
        assert len(band) == OPTION_LINES
        await gw.stream_chain(day, band)
        assert gw.lines_in_use <= MAX_LINES
        snap = await gw.wait_for_greeks(min_per_side=12, timeout=120)
        puts, calls = snap.abs_delta_points("P"), snap.abs_delta_points("C")
        assert len(puts) >= 12 and len(calls) >= 12
        assert all(q.delta is not None and q.delta < 0 for (r, _), q in snap.quotes.items() if r == "P" and q.delta)
        assert all(q.delta is not None and q.delta > 0 for (r, _), q in snap.quotes.items() if r == "C" and q.delta)
        assert any(10 <= d <= 16.9 for d in puts.values()) and any(10 <= d <= 16.9 for d in calls.values())
        # further out of the money, smaller delta
        ks = sorted(puts)
        assert all(puts[a] < puts[b] for a, b in itertools.pairwise(ks))
        for q in snap.quotes.values():
            if q.bid is not None and q.ask is not None:
                assert 0 <= q.bid <= q.ask
        assert snap.spx is not None and abs(snap.spx - spx) < 50
        # moving the band cancels the lines no longer wanted before opening new ones
        await gw.stream_chain(day, [k - 50 for k in band if k - 50 in listed])
        assert gw.lines_in_use <= MAX_LINES
        await gw.close()

    run(go())
    stats = sim.sim.stats()
    assert stats.max_md_lines <= 50 and stats.pacing_violations == 0
    assert len(sim.sim.requests("cancelMktData")) >= 10


def test_no_greeks_returns_the_partial_snapshot_instead_of_hanging(sim_gateway_factory):
    sim = sim_gateway_factory(faults=["no-greeks=600"])

    async def go():
        gw = await connect(sim)
        day = session_date(sim)
        spx = await gw.spx_price()
        assert spx is not None
        await gw.stream_chain(day, gw.band_strikes(spx, await gw.list_strikes(day), vol=0.16, max_lines=10))
        snap = await gw.wait_for_greeks(min_per_side=3, timeout=20)
        await gw.close()
        return snap

    snap = run(go())
    assert snap.count_deltas("P") == 0 and snap.count_deltas("C") == 0
    assert sum(1 for q in snap.quotes.values() if q.bid is not None) >= 5  # quotes still stream


def test_market_data_not_subscribed_is_a_clear_error_and_vix_is_optional(sim_gateway_factory):
    sim = sim_gateway_factory(faults=["no-market-data"])

    async def go():
        gw = await connect(sim)
        try:
            assert await gw.vix() is None
            with pytest.raises(MarketDataUnavailable, match="354") as err:
                await gw.spx_price()
            assert err.value.code == 354
        finally:
            await gw.close()

    run(go())


def test_competing_session_is_its_own_error_and_data_comes_back_after_it(sim_gateway_factory):
    sim = sim_gateway_factory(faults=["competing-session=30"])

    async def go():
        gw = await connect(sim)
        try:
            day = session_date(sim)
            await gw.list_strikes(day)
            with pytest.raises(CompetingSession, match="10197"):
                await gw.spx_price()
            with pytest.raises(CompetingSession):
                await gw.stream_chain(day, [5900.0, 6100.0])
            await sim.clock.asleep(40)  # the other session logs out
            spx = await gw.spx_price()
            await gw.stream_chain(day, [5900.0, 6100.0])
            snap = await gw.wait_for_greeks(min_per_side=1, timeout=30)
            return spx, snap
        finally:
            await gw.close()

    spx, snap = run(go())
    assert spx is not None and snap.count_deltas("P") == 1 and snap.count_deltas("C") == 1


def test_mid_bars_are_one_minute_midpoints_inside_the_window(sim_gateway_factory):
    sim = sim_gateway_factory(start="2026-11-24T10:30:00")

    async def go():
        gw = await connect(sim)
        day = session_date(sim)
        legs = await condor_legs(gw, day)
        start = datetime(2026, 11, 24, 9, 35, tzinfo=NEW_YORK)
        end = datetime(2026, 11, 24, 10, 5, tzinfo=NEW_YORK)
        bars = await gw.mid_bars(legs[1].con_id, start, end)
        await gw.close()
        return start, end, bars

    start, end, bars = run(go())
    assert 25 <= len(bars) <= 31
    times = [b[0] for b in bars]
    assert times == sorted(times) and times[0] >= start - timedelta(seconds=1) and times[-1] <= end
    assert all((b[0] - times[0]).total_seconds() % 60 == 0 for b in bars)
    assert all(low <= min(o, c) and max(o, c) <= high and low > 0 for _, o, high, low, c in bars)


def test_the_underlying_at_an_instant_is_the_close_of_the_minute_that_holds_it(sim_gateway_factory):
    sim = sim_gateway_factory(start="2026-11-24T10:30:00")
    instants = [datetime(2026, 11, 24, 9, 47, s, tzinfo=NEW_YORK) for s in (0, 21, 59)]

    async def go() -> list[float | None]:
        gw = await connect(sim)
        try:
            return [await gw.underlying_at(at) for at in instants]
        finally:
            await gw.close()

    levels = run(go())
    last_second = datetime(2026, 11, 24, 9, 47, 59, tzinfo=NEW_YORK)  # the simulator's bar closes on it
    close = sim.sim.call(lambda s: s.market.spx(last_second))
    assert levels == [pytest.approx(close, abs=0.02)] * 3  # mid-minute too: not the bar before it, not None


def test_the_underlying_at_an_instant_whose_minute_is_not_complete_is_the_minute_before(sim_gateway_factory):
    # a kill or run-today close settles seconds after the fill: the bar holding the exit is not complete yet
    sim = sim_gateway_factory(start="2026-11-24T10:30:20", speed=1)

    async def go() -> float | None:
        gw = await connect(sim)
        try:
            return await gw.underlying_at(sim.clock.now())
        finally:
            await gw.close()

    level = run(go())
    assert sim.clock.now() < datetime(2026, 11, 24, 10, 31, tzinfo=NEW_YORK)  # still inside the 10:30 bar
    close = sim.sim.call(lambda s: s.market.spx(datetime(2026, 11, 24, 10, 29, 59, tzinfo=NEW_YORK)))
    assert level == pytest.approx(close, abs=0.02)


# -- orders -----------------------------------------------------------------------------------------------
def test_entry_is_placed_repriced_and_cancelled_with_the_simulator_agreeing(sim_gateway):
    sim = sim_gateway

    async def go():
        gw = await connect(sim)
        legs = await condor_legs(gw, session_date(sim))
        state = await gw.place(entry(legs, -50.0))  # a 50-point credit: never fills
        assert state.is_working and not state.is_done and state.order_ref == PREFIX + "entry"
        assert state.limit_price == -50.0 and state.action == "BUY" and state.quantity == 1
        assert state.legs == legs
        oid = state.order_id
        at_sim = sim.sim.order(oid, 31)
        assert at_sim is not None and at_sim.req.lmt_price == -50.0 and at_sim.req.order_ref == PREFIX + "entry"
        assert [c for c, _ in at_sim.legs] == [leg.con_id for leg in legs]
        moved = await gw.modify_limit(oid, -45.0)
        assert moved.limit_price == -45.0 and moved.is_working
        assert sim.sim.order(oid, 31).req.lmt_price == -45.0
        assert gw.order_state(oid).limit_price == -45.0
        final = await gw.cancel(oid)
        assert final.status == "Cancelled" and final.is_done and final.filled == 0
        assert sim.sim.order(oid, 31).status == "Cancelled"
        assert (await gw.cancel(oid)).status == "Cancelled"  # cancelling a done order is harmless
        assert (await gw.modify_limit(oid, -40.0)).status == "Cancelled"  # and re-pricing it does nothing
        await gw.close()

    run(go())


def test_a_fill_that_beats_the_cancel_is_reported_as_filled(sim_gateway):
    sim = sim_gateway

    async def go():
        gw = await connect(sim)
        legs = await condor_legs(gw, session_date(sim))
        resting = await gw.place(entry(legs, -50.0))
        assert resting.is_working
        # Re-price to a marketable debit and cancel at once: both are on the wire before any answer, the
        # gateway fills on the re-price and then refuses the cancel (10148, state Filled).
        moved, final = await asyncio.gather(gw.modify_limit(resting.order_id, 5.0), gw.cancel(resting.order_id))
        # the refusal of the cancel may arrive just after the Filled status that ended the wait
        await gw.wait_until(lambda: any(c == 10148 for c, _ in gw.errors.get(resting.order_id, [])), 10)
        errors = list(gw.errors.get(resting.order_id, []))
        await gw.close()
        return moved, final, errors

    moved, final, errors = run(go())
    at_sim = sim.sim.order(final.order_id, 31)
    assert at_sim is not None and at_sim.status == "Filled"
    assert len(sim.sim.requests("cancelOrder")) == 1  # the cancel really reached the gateway
    assert any(code == 10148 for code, _ in errors)
    assert final.status == "Filled" and final.filled == 1 and final.remaining == 0 and final.is_done
    assert final.avg_fill_price is not None and final.avg_fill_price == pytest.approx(at_sim.avg_price)
    assert moved.limit_price == 5.0 and moved.status in ("Submitted", "PendingCancel", "Filled")  # acknowledged


def test_repricing_and_cancelling_an_order_of_an_earlier_process_and_an_unknown_one(sim_gateway):
    sim = sim_gateway

    async def first():
        gw = await connect(sim)
        state = await gw.place(entry(await condor_legs(gw, session_date(sim)), -50.0))
        await gw.close()
        return state.order_id

    async def second(oid: int):
        gw = await connect(sim)
        try:
            moved = await gw.modify_limit(oid, -45.0)
            assert moved.is_working and moved.limit_price == -45.0
            assert sim.sim.order(oid, 31).req.lmt_price == -45.0
            final = await gw.cancel(oid)
            with pytest.raises(UnknownOrder):
                await gw.cancel(987654)
            with pytest.raises(UnknownOrder):
                gw.order_state(987654)
            return final
        finally:
            await gw.close()

    oid = run(first())
    final = run(second(oid))
    assert final.status == "Cancelled" and sim.sim.order(oid, 31).status == "Cancelled"


async def _open_orders_abandoned_mid_answer(sim, then) -> Any:
    """A working order, then an open-orders request cancelled once the order and its status are through the relay
    but the end of the list (openOrderEnd, 53) is held; `then(gw, relay, working)` goes on from there."""
    relay = HoldBack(sim.host, sim.port)
    gw = await Gateway.connect(
        Cfg("127.0.0.1", await relay.start(), 31),
        clock=sim.clock,
        deadline=sim.clock.now() + timedelta(seconds=60),
        mode="paper",
    )
    try:
        working = await gw.place(entry(await condor_legs(gw, session_date(sim)), -50.0))
        relay.hold_before(53)
        abandoned = asyncio.ensure_future(gw.open_orders())
        await relay.held.wait()
        await asyncio.sleep(0.1)  # for ib_async to read what came before the held end
        abandoned.cancel()
        result = await then(gw, relay, working)
        assert abandoned.cancelled()  # its caller gave up: only the lane still waited for its answer
        return result
    finally:
        await gw.close()
        await relay.close()


def test_open_orders_asked_again_while_an_abandoned_answer_is_arriving_still_lists_the_working_order(sim_gateway):
    """ib_async files the open orders under one key, not a request id: a second request started while the first's
    answer was half delivered got the first's end message and an empty list. A stop cleanup asking for the open
    orders as the ladder's own request was cancelled read a working entry as gone, and left it working."""
    sim = sim_gateway

    async def ask_again(gw, relay, working):
        again = asyncio.ensure_future(gw.open_orders())
        await asyncio.sleep(0.1)
        relay.release()
        return working, await again

    working, states = run(_open_orders_abandoned_mid_answer(sim, ask_again))
    assert [(s.order_id, s.is_working) for s in states] == [(working.order_id, True)]
    assert len(sim.sim.requests("reqAllOpenOrders")) == 2  # asked again once the abandoned answer had ended


def test_an_abandoned_answer_that_never_ends_holds_the_next_request_only_for_its_timeout(sim_gateway, caplog):
    sim = sim_gateway

    async def lose_the_end_and_ask_again(gw, relay, working):
        relay.release(drop=True)  # the end of that list never comes
        started = real_monotonic()
        states = await gw.open_orders()
        return working, states, real_monotonic() - started

    with caplog.at_level(logging.WARNING, logger="icbot.broker"):
        working, states, took = run(_open_orders_abandoned_mid_answer(sim, lose_the_end_and_ask_again))
    assert [s.order_id for s in states] == [working.order_id]
    assert took >= ROUND_TRIP_FLOOR  # it waited its own timeout (10 virtual s, at least 2 real) for the lost end
    assert "open orders: an earlier request of the same kind was never answered; asking again" in caplog.text


def test_closing_sends_what_the_request_throttle_still_holds(sim_gateway):
    """ib_async sends 40 messages per 1.2 s and queues the rest; a disconnect would drop the queue (a re-price, a
    line's cancel) unsent, or close the socket under messages the gateway has not read yet."""
    sim = sim_gateway

    async def go():
        gw = await connect(sim)
        before = len(sim.sim.requests("reqMarketDataType"))
        throttled: list[bool] = []
        gw.ib.client.throttleStart += lambda: throttled.append(True)
        for _ in range(MAX_REQUESTS + 15):
            gw.ib.client.reqMarketDataType(1)
        assert throttled  # some are held back
        await gw.close()
        return before

    before = run(go())
    # read by the gateway, not merely sent, by the time close() returns
    assert len(sim.sim.requests("reqMarketDataType")) - before == MAX_REQUESTS + 15


def test_a_stop_while_closing_still_disconnects_and_raises_nothing(sim_gateway):
    """run-today's `finally` closes the gateway after its work; a SIGTERM then cancels the flush (signals.py cancels
    the main task): the connection must still be closed, and the command still end with its own exit code."""
    sim = sim_gateway

    async def go():
        gw = await connect(sim)
        for _ in range(MAX_REQUESTS + 15):
            gw.ib.client.reqMarketDataType(1)  # held back by the throttle: close() has to wait for them
        closing = asyncio.ensure_future(gw.close())
        await asyncio.sleep(0)
        closing.cancel()
        await asyncio.wait({closing})
        return closing, gw.ib.isConnected()

    closing, connected = run(go())
    assert not closing.cancelled() and closing.exception() is None
    assert not connected


def test_rejected_order_raises_with_ibs_code_and_reason(sim_gateway):
    sim = sim_gateway
    sim.sim.fault("reject-next=Insufficient margin")

    async def go():
        gw = await connect(sim)
        legs = await condor_legs(gw, session_date(sim))
        try:
            with pytest.raises(OrderRejected) as err:
                await gw.place(entry(legs, -50.0))
            return err.value
        finally:
            await gw.close()

    err = run(go())
    assert err.code == 201 and "Insufficient margin" in err.text and err.order_ref == PREFIX + "entry"
    assert sim.sim.order(err.order_id or -1, 31) is None or sim.sim.order(err.order_id or -1, 31).status != "Submitted"


def test_price_off_the_combo_tick_is_rejected_not_silently_sent(sim_gateway):
    sim = sim_gateway

    async def go():
        gw = await connect(sim)
        legs = await condor_legs(gw, session_date(sim))
        try:
            with pytest.raises(OrderRejected) as err:
                await gw.place(entry(legs, -50.03))
            return err.value
        finally:
            await gw.close()

    assert run(go()).code == 110


def _exits(legs, credit: float, when: datetime, group: str) -> list[ComboOrder]:
    return [
        ComboOrder(legs, "SELL", 1, "LMT", PREFIX + "take_profit", limit_price=20.0, oca_group=group, oca_type=1),
        ComboOrder(
            legs, "SELL", 1, "STP", PREFIX + "stop", aux_price=-50.0, trigger_method=8, oca_group=group, oca_type=1
        ),
        ComboOrder(legs, "SELL", 1, "MKT", PREFIX + "time_exit", good_after=when, oca_group=group, oca_type=1),
    ]


def test_fill_then_oca_exits_then_a_new_process_finds_everything_by_ref(sim_gateway):
    sim = sim_gateway
    day = session_date(sim)
    eleven_thirty = datetime(2026, 11, 24, 11, 30, tzinfo=NEW_YORK)

    async def first_process():
        gw = await connect(sim)
        legs = await condor_legs(gw, day)
        margin = await gw.what_if_margin(entry(legs, -1.0, role="probe"))
        filled = await gw.wait_status((await gw.place(entry(legs, 5.0))).order_id, {"Filled"}, timeout=30)
        assert filled.is_filled and filled.filled == 1
        exits = [await gw.place(o) for o in _exits(legs, 1.0, eleven_thirty, "icbot-2026-11-24-paper")]
        assert all(s.is_working and not s.is_done and s.oca_group == "icbot-2026-11-24-paper" for s in exits)
        execs = await gw.executions(day)
        positions = await gw.positions()
        values = await gw.account_values()
        await gw.close()
        return legs, margin, filled, exits, execs, positions, values

    legs, margin, filled, exits, execs, positions, values = run(first_process())

    # what-if: a margin for the 20-wide condor, and no order created by asking
    assert margin is not None and 0 < margin <= 20 * 100
    assert not [o for o in sim.sim.orders() if o.req.order_ref.endswith(":probe")]

    # the exits at the simulator: one OCA group of type 1, the stop's trigger method, the time exit held
    at_sim = {o.req.order_ref: o for o in sim.sim.orders()}
    stop, time_exit = at_sim[PREFIX + "stop"], at_sim[PREFIX + "time_exit"]
    exit_orders = [at_sim[PREFIX + r] for r in ("take_profit", "stop", "time_exit")]
    assert {o.req.oca_group for o in exit_orders} == {"icbot-2026-11-24-paper"}
    assert {o.req.oca_type for o in exit_orders} == {1}
    assert stop.req.trigger_method == 8 and stop.req.aux_price == -50.0
    assert time_exit.req.good_after_time == "20261124 11:30:00 US/Eastern" and time_exit.good_after == eleven_thirty

    # executions: the BAG at the net price plus four legs, leg commissions attached
    mine = [e for e in execs if e.order_id == filled.order_id]
    assert sorted(e.sec_type for e in mine) == ["BAG", "OPT", "OPT", "OPT", "OPT"]
    leg_execs = [e for e in mine if e.sec_type == "OPT"]
    assert all(e.commission is not None and e.commission > 0 for e in leg_execs)
    assert {(e.con_id, e.side) for e in leg_execs} == {
        (leg.con_id, "BOT" if leg.action == "BUY" else "SLD") for leg in legs
    }
    sim_execs = {x.exec_id: x for x in sim.sim.executions()}
    assert all(e.price == pytest.approx(sim_execs[e.exec_id].price) for e in mine)

    # positions: long wings, short bodies
    held = {p.con_id: p.quantity for p in positions}
    assert held == {leg.con_id: (1.0 if leg.action == "BUY" else -1.0) for leg in legs}
    assert all(p.expiry == day and p.sec_type == "OPT" for p in positions)
    assert values.account == "DU1234567" and values.net_liquidation is not None and values.net_liquidation > 0

    # a new process (new connection, same client id) finds the day's orders by ref, legs described
    async def second_process():
        gw = await connect(sim)
        found = await gw.find_by_ref(PREFIX)
        others = await gw.find_by_ref("icbot:2026-11-25:")
        state = gw.order_state(exits[0].order_id)
        execs = await gw.executions(day)
        await gw.close()
        return found, others, state, execs

    found, others, state, execs_later = run(second_process())
    # executions of the earlier process, commissions included, as a new connection sees them
    assert {e.exec_id: e.commission for e in execs_later} == {e.exec_id: e.commission for e in execs}
    by_ref = {s.order_ref: s for s in found}
    assert set(by_ref) == {PREFIX + r for r in ("entry", "take_profit", "stop", "time_exit")}
    assert by_ref[PREFIX + "entry"].is_filled and by_ref[PREFIX + "entry"].filled == 1
    assert all(by_ref[PREFIX + r].is_working for r in ("take_profit", "stop", "time_exit"))
    assert by_ref[PREFIX + "stop"].aux_price == -50.0 and by_ref[PREFIX + "take_profit"].limit_price == 20.0
    assert by_ref[PREFIX + "stop"].legs == legs
    assert others == []
    assert state.order_ref == PREFIX + "take_profit" and state.is_working


def test_connection_dropped_right_after_an_order_is_unavailable_and_the_order_is_found_later(sim_gateway):
    sim = sim_gateway
    sim.sim.fault("drop-after-orders=1")

    async def first():
        gw = await connect(sim)
        legs = await condor_legs(gw, session_date(sim))
        try:
            with pytest.raises(GatewayUnavailable, match="look it up by orderRef"):
                await gw.place(entry(legs, -50.0))
            with pytest.raises(GatewayUnavailable):
                await gw.positions()
        finally:
            await gw.close()

    async def second():
        gw = await connect(sim)
        found = await gw.find_by_ref(PREFIX)
        await gw.close()
        return found

    run(first())
    found = run(second())
    assert [s.order_ref for s in found] == [PREFIX + "entry"] and found[0].is_working


def test_a_drop_while_waiting_is_gateway_unavailable_not_a_timeout(sim_gateway):
    sim = sim_gateway

    async def go():
        gw = await connect(sim)
        legs = await condor_legs(gw, session_date(sim))
        state = await gw.place(entry(legs, -50.0))
        when = (sim.clock.now_ny() + timedelta(seconds=20)).strftime("%H:%M:%S")
        sim.sim.fault(f"drop-at={when}")
        try:
            with pytest.raises(GatewayUnavailable, match="lost"):
                await gw.wait_status(state.order_id, {"Filled"}, timeout=600)
        finally:
            await gw.close()
        return sim.clock.now_ny()

    assert run(go()).strftime("%H:%M:%S") < "09:40:00"  # it did not sit out the 600 s


def test_gateway_restart_refuses_stale_quotes_then_recovers_with_orders_intact(sim_gateway):
    sim = sim_gateway

    async def go():
        gw = await connect(sim)
        legs = await condor_legs(gw, session_date(sim))
        state = await gw.place(entry(legs, -50.0))
        when = (sim.clock.now_ny() + timedelta(seconds=5)).strftime("%H:%M:%S")
        sim.sim.fault(f"restart=30@{when}")
        await sim.clock.asleep(10)
        try:
            assert gw.connectivity_lost is not None
            with pytest.raises(TransientBrokerError, match="1100"):
                await gw.spx_price(timeout=5)
            with pytest.raises(TransientBrokerError, match="stale"):
                gw.snapshot()
            await sim.clock.asleep(40)
            assert gw.connectivity_lost is None
            spx = await gw.spx_price(timeout=5)
            moved = await gw.modify_limit(state.order_id, -45.0)
            return spx, moved
        finally:
            await gw.close()

    spx, moved = run(go())
    assert spx is not None and moved.is_working and moved.limit_price == -45.0
