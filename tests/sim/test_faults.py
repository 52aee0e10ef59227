"""Each injectable fault, driven through ib_async's public API against a simulator on a real socket."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from ib_async import IB, LimitOrder

from icbot.sim.faults import FaultSpecError, parse_fault
from tests.sim.helpers import IC, collect_errors, condor, connect, qualified_option, run, wait_until


def test_fault_specs_parse_and_bad_ones_say_what_is_allowed():
    d = date(2026, 11, 24)
    f = parse_fault("no-greeks=30@09:31:50", d)
    assert f.kind == "no-greeks" and f.seconds == 30 and f.at is not None and f.at.strftime("%H:%M:%S") == "09:31:50"
    assert parse_fault("reject-next=Insufficient margin", d).reason == "Insufficient margin"
    assert parse_fault("restart-at=09:35:00", d).seconds == 30
    assert parse_fault("restart=45@09:35", d).seconds == 45
    assert parse_fault("pacing", d).count == 50 and parse_fault("pacing=10", d).count == 10
    assert parse_fault("refuse-until=09:31:30", d).until is not None
    assert parse_fault("drop-after-orders=2", d).count == 2
    assert parse_fault("fill-on-cancel@09:32:30", d).kind == "fill-on-cancel"
    assert parse_fault("read-only", d).kind == "read-only"
    for bad in ("bogus", "drop-after-orders=0", "no-greeks=-1", "drop-at=25:00", "restart-at"):
        with pytest.raises(FaultSpecError):
            parse_fault(bad, d)


def test_refuse_until_is_a_real_connection_refusal_then_accepts(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["refuse-until=09:32:00"])  # 60 virtual s = 1 real s at speed 60

    async def go() -> None:
        with pytest.raises(ConnectionRefusedError):
            await IB().connectAsync(gw.host, gw.port, clientId=1, timeout=2)
        for _ in range(60):
            await asyncio.sleep(0.05)
            try:
                ib = await connect(gw.host, gw.port)
                break
            except ConnectionRefusedError:
                continue
        else:
            raise AssertionError("the port never opened")
        assert ib.isConnected() and gw.clock.now_ny().strftime("%H:%M:%S") >= "09:32:00"
        ib.disconnect()

    run(go())


def test_drop_at_closes_every_connection_once(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["drop-at=09:31:40"])

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        dropped = asyncio.Event()
        ib.disconnectedEvent += lambda: dropped.set()
        await asyncio.wait_for(dropped.wait(), 3)
        ib2 = await connect(gw.host, gw.port)  # once only: the next session stays up
        await asyncio.sleep(0.3)
        assert ib2.isConnected()
        ib2.disconnect()

    run(go())


def test_drop_after_the_first_order_loses_the_ack_but_the_order_lives(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["drop-after-orders=1"])

    async def go() -> None:
        ib = await connect(gw.host, gw.port, client_id=31)
        bag, _ = await condor(ib, *IC)
        dropped = asyncio.Event()
        ib.disconnectedEvent += lambda: dropped.set()
        trade = ib.placeOrder(bag, LimitOrder("BUY", 1, -30.0, orderRef="icbot:2026-11-24:paper:entry"))
        await asyncio.wait_for(dropped.wait(), 3)
        assert trade.orderStatus.status == "PendingSubmit"  # never acknowledged
        ib2 = await connect(gw.host, gw.port, client_id=31)
        assert [t.order.orderRef for t in ib2.openTrades()] == ["icbot:2026-11-24:paper:entry"]
        ib2.disconnect()

    run(go())


def test_reject_next_sends_201_with_the_reason_once(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["reject-next=Insufficient margin"])

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        errors = collect_errors(ib)
        bag, _ = await condor(ib, *IC)
        first = ib.placeOrder(bag, LimitOrder("BUY", 1, -30.0))
        assert await wait_until(lambda: first.orderStatus.status == "Cancelled")
        assert (first.order.orderId, 201, "Order rejected - reason:Insufficient margin") in errors
        second = ib.placeOrder(bag, LimitOrder("BUY", 1, -30.0))
        assert await wait_until(lambda: second.orderStatus.status == "Submitted")
        ib.disconnect()

    run(go())
    statuses = [o.status for o in gw.sim.orders()]
    assert statuses == ["Inactive", "Submitted"]


def test_no_greeks_for_a_while_then_greeks(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["no-greeks=60"])

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        ticker = ib.reqMktData(await qualified_option(ib, 5940, "P"))
        assert await wait_until(lambda: ticker.bid > 0)
        assert ticker.modelGreeks is None
        assert await wait_until(lambda: ticker.modelGreeks is not None, timeout=3)
        ib.disconnect()

    run(go())


def test_market_data_not_subscribed_354_or_delayed_10167(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["no-market-data"])

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        errors = collect_errors(ib)
        opt = await qualified_option(ib, 5940, "P")
        ib.reqMktData(opt)
        assert await wait_until(lambda: any(code == 354 for _, code, _ in errors))
        ib.cancelMktData(opt)
        ib.reqMarketDataType(3)
        delayed = ib.reqMktData(opt)
        assert await wait_until(lambda: delayed.bid > 0 and delayed.marketDataType == 3)
        assert any(code == 10167 for _, code, _ in errors)
        ib.disconnect()

    run(go())


def test_competing_session_10197_stops_streams(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["competing-session@09:31:40"])

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        errors = collect_errors(ib)
        ticker = ib.reqMktData(await qualified_option(ib, 5940, "P"))
        assert await wait_until(lambda: ticker.bid > 0)
        assert await wait_until(lambda: any(code == 10197 for _, code, _ in errors), timeout=3)
        ib.disconnect()

    run(go())
    assert gw.sim.call(lambda s: sum(len(c.subs) for c in s.connections)) == 0


def test_pacing_past_the_limit_gives_error_100(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["pacing=20"])

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        errors = collect_errors(ib)
        ib.client.MaxRequests = 0  # switch off ib_async's own throttle to break the rule on purpose
        for _ in range(40):
            ib.client.reqCurrentTime()
        assert await wait_until(lambda: any(code == 100 for _, code, _ in errors))
        ib.disconnect()

    run(go())
    assert gw.sim.stats().pacing_violations > 0


def test_pacing_is_counted_even_without_the_fault(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        ib.client.MaxRequests = 0
        for _ in range(80):
            ib.client.reqCurrentTime()
        await asyncio.sleep(0.2)
        ib.disconnect()

    run(go())
    assert sim_gateway.sim.stats().pacing_violations > 0


def test_gateway_restart_sends_1100_then_1102_and_holds_replies(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["restart=30@09:31:30"])

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        errors = collect_errors(ib)
        assert await wait_until(lambda: any(code == 1100 for _, code, _ in errors), timeout=3)
        reply = asyncio.ensure_future(ib.reqCurrentTimeAsync())  # asked during the outage
        await asyncio.sleep(0.1)
        assert not reply.done()
        assert await wait_until(lambda: any(code == 1102 for _, code, _ in errors), timeout=3)
        assert [c for _, c, _ in errors if c in (1100, 1102)] == [1100, 1102]
        await asyncio.wait_for(reply, 2)
        ib.disconnect()

    run(go())


def test_fill_on_cancel_makes_the_next_cancel_lose_the_race(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["fill-on-cancel"])

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        errors = collect_errors(ib)
        bag, _ = await condor(ib, *IC)
        trade = ib.placeOrder(bag, LimitOrder("BUY", 1, -30.0))  # far beyond the mid: would never fill
        assert await wait_until(lambda: trade.orderStatus.status == "Submitted")
        ib.cancelOrder(trade.order)
        assert await wait_until(lambda: trade.orderStatus.status == "Filled")
        assert await wait_until(lambda: any(code == 10148 for _, code, _ in errors))
        assert len([f for f in trade.fills if f.contract.secType == "OPT"]) == 4
        # The fault fires once: the next cancel is an ordinary cancel.
        second = ib.placeOrder(bag, LimitOrder("BUY", 1, -30.0))
        assert await wait_until(lambda: second.orderStatus.status == "Submitted")
        ib.cancelOrder(second.order)
        assert await wait_until(lambda: second.orderStatus.status == "Cancelled")
        ib.disconnect()

    run(go())
    assert [o.status for o in gw.sim.orders()] == ["Filled", "Cancelled"]


def test_read_only_answers_every_order_with_321_and_keeps_none(sim_gateway_factory):
    gw = sim_gateway_factory(faults=["read-only"])

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        errors = collect_errors(ib)
        bag, _ = await condor(ib, *IC)
        trade = ib.placeOrder(bag, LimitOrder("BUY", 1, -30.0))
        assert await wait_until(lambda: any(code == 321 for _, code, _ in errors))
        (order_id, _, text) = next(e for e in errors if e[1] == 321)
        assert order_id == trade.order.orderId and "Read-Only mode" in text
        ib.disconnect()

    run(go())
    assert gw.sim.orders() == []
