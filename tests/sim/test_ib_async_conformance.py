"""Conformance: unmodified ib_async 2.1 drives the simulator through its public API only, over a real socket."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, timedelta

import pytest
from ib_async import IB, Index, LimitOrder, MarketOrder, Option, StopOrder
from ib_async.wrapper import RequestError

from icbot.clock import NEW_YORK
from tests.sim.helpers import IC, SESSION, combo_quote, condor, connect, qualified_option, run, wait_until


def test_connect_answers_the_whole_startup_burst(sim_gateway):
    async def go() -> None:
        ib = IB()
        await ib.connectAsync(sim_gateway.host, sim_gateway.port, clientId=3, timeout=4)  # a missed reply times out
        assert ib.managedAccounts() == ["DU1234567"]
        assert ib.client.serverVersion() == 178
        t = await ib.reqCurrentTimeAsync()
        assert abs((t - sim_gateway.clock.now()).total_seconds()) < 5
        ib.disconnect()

    run(go())
    names = [r.name for r in sim_gateway.sim.requests()]
    for expected in ("startApi", "reqPositions", "reqOpenOrders", "reqCompletedOrders", "reqAccountUpdates"):
        assert expected in names
    assert "reqAccountUpdatesMulti" in names and "reqExecutions" in names


def test_qualify_index_option_and_list_the_chain(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        spx = Index("SPX", "CBOE")
        await ib.qualifyContractsAsync(spx)
        assert spx.conId == 416904 and spx.localSymbol == "SPX"
        opt = await qualified_option(ib, 5940, "P")
        assert opt.localSymbol == "SPXW  261124P05940000" and opt.multiplier == "100" and opt.conId > 0
        chains = await ib.reqSecDefOptParamsAsync("SPX", "", "IND", 416904)
        assert [(c.exchange, c.tradingClass) for c in chains] == [
            ("SMART", "SPX"),
            ("CBOE", "SPXW"),
            ("SMART", "SPXW"),
            ("CBOE", "SPX"),
        ]
        spxw = [c for c in chains if c.tradingClass == "SPXW"]
        assert all(SESSION in c.expirations and len(c.expirations) > 20 and 5940.0 in c.strikes for c in spxw)
        details = await ib.reqContractDetailsAsync(Option("SPX", SESSION, exchange="SMART", tradingClass="SPXW"))
        assert len(details) == 2 * len(sim_gateway.sim.call(lambda s: s.market.strikes("SPX")))
        assert {d.contract.right for d in details} == {"P", "C"}
        assert details[0].underConId == 416904 and details[0].minTick == 0.05
        with pytest.raises(RequestError) as err:
            await ib.reqContractDetailsAsync(Option("SPX", "20261125", 5940, "P", "SMART", tradingClass="SPXW"))
        assert err.value.code == 200
        ib.disconnect()

    run(go())


def test_greeks_stream_with_the_underlying_and_move_with_the_index(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        opt = await qualified_option(ib, 5940, "P")
        spx = Index("SPX", "CBOE")
        vix = Index("VIX", "CBOE")
        await ib.qualifyContractsAsync(spx, vix)
        t_opt, t_spx, t_vix = ib.reqMktData(opt), ib.reqMktData(spx), ib.reqMktData(vix)
        assert await wait_until(lambda: t_opt.modelGreeks is not None and not math.isnan(t_spx.last))
        g = t_opt.modelGreeks
        assert -0.25 < g.delta < -0.08 and g.impliedVol > 0 and g.gamma > 0
        assert abs(g.undPrice - t_spx.last) < 5
        assert 0 < t_opt.bid < t_opt.ask and t_opt.bidGreeks is not None and t_opt.askGreeks is not None
        assert 5 < t_vix.last < 60 and t_spx.close == 6000.0
        first = (g.undPrice, g.delta)
        assert await wait_until(lambda: (t_opt.modelGreeks.undPrice, t_opt.modelGreeks.delta) != first, timeout=3)
        assert t_opt.marketDataType == 1
        ib.disconnect()

    run(go())


def test_condor_fills_with_a_bag_execution_four_leg_executions_and_commissions(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port, client_id=31)
        bag, legs = await condor(ib, *IC)
        bid, ask = await combo_quote(ib, bag)
        assert bid < ask < 0, "an iron condor is bought for a credit: a negative price"
        trade = ib.placeOrder(bag, LimitOrder("BUY", 1, ask, orderRef="icbot:2026-11-24:paper:entry", tif="DAY"))
        assert await wait_until(lambda: trade.isDone() and len(trade.fills) == 5)
        assert trade.orderStatus.status == "Filled" and trade.filled() == 1
        bag_fills = [f for f in trade.fills if f.contract.secType == "BAG"]
        leg_fills = [f for f in trade.fills if f.contract.secType == "OPT"]
        assert len(bag_fills) == 1 and len(leg_fills) == 4
        combo_price = bag_fills[0].execution.price
        assert combo_price <= ask + 1e-9  # at or better than the limit
        signed = sum((1 if f.execution.side == "BOT" else -1) * f.execution.price for f in leg_fills)
        assert signed == pytest.approx(combo_price, abs=1e-9)
        assert [f.execution.side for f in leg_fills] == ["BOT", "SLD", "SLD", "BOT"]
        assert all(f.execution.orderRef == "icbot:2026-11-24:paper:entry" for f in trade.fills)
        assert await wait_until(lambda: all(f.commissionReport.commission > 0 for f in leg_fills))
        assert [f.commissionReport.commission for f in leg_fills] == [1.05] * 4
        expected = {legs[0].conId: 1, legs[1].conId: -1, legs[2].conId: -1, legs[3].conId: 1}
        # position messages follow the executions; on a loaded machine they may still be on the wire
        assert await wait_until(lambda: {p.contract.conId: p.position for p in ib.positions()} == expected)
        fills = await ib.reqExecutionsAsync()
        assert len({f.execution.execId for f in fills}) == 5
        ib.disconnect()

    run(go())
    orders = sim_gateway.sim.orders()
    assert len(orders) == 1 and orders[0].status == "Filled" and orders[0].client_id == 31


def test_passive_limit_rests_then_a_modify_to_the_natural_fills(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        bag, _ = await condor(ib, *IC)
        bid, ask = await combo_quote(ib, bag)
        order = LimitOrder("BUY", 1, round(bid - 1.0, 2), orderRef="passive")
        trade = ib.placeOrder(bag, order)
        assert await wait_until(lambda: trade.orderStatus.status == "Submitted")
        await asyncio.sleep(0.4)  # ~24 virtual seconds far below the mid: nothing may trade
        assert trade.orderStatus.status == "Submitted" and not trade.fills
        order.lmtPrice = round(ask + 1.0, 2)
        ib.placeOrder(bag, order)
        assert await wait_until(lambda: trade.orderStatus.status == "Filled")
        assert "Modified" in [e.message for e in trade.log]
        assert trade.orderStatus.avgFillPrice <= order.lmtPrice
        ib.disconnect()

    run(go())


def test_cancel_sends_cancelled_and_error_202(sim_gateway):
    errors: list[int] = []

    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        ib.errorEvent += lambda req_id, code, text, contract: errors.append(code)
        bag, _ = await condor(ib, *IC)
        trade = ib.placeOrder(bag, LimitOrder("BUY", 1, -30.0))
        assert await wait_until(lambda: trade.orderStatus.status == "Submitted")
        ib.cancelOrder(trade.order)
        assert await wait_until(lambda: trade.orderStatus.status == "Cancelled")
        assert await wait_until(lambda: 202 in errors)
        ib.disconnect()

    run(go())
    assert sim_gateway.sim.orders()[0].status == "Cancelled"


def test_oca_exits_one_fill_cancels_the_siblings(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        bag, _ = await condor(ib, *IC)
        _bid, ask = await combo_quote(ib, bag)
        entry = ib.placeOrder(bag, LimitOrder("BUY", 1, ask))
        assert await wait_until(lambda: entry.orderStatus.status == "Filled")
        credit = -entry.orderStatus.avgFillPrice
        group = "icbot:2026-11-24:paper:oca"
        tp_order = LimitOrder("SELL", 1, -round(credit * 0.25, 1), ocaGroup=group, ocaType=1, orderRef="tp")
        stop = StopOrder("SELL", 1, -round(credit * 3, 1), ocaGroup=group, ocaType=1, orderRef="stop", triggerMethod=8)
        gat = "20261124 11:30:00 US/Eastern"
        timed = MarketOrder("SELL", 1, ocaGroup=group, ocaType=1, orderRef="time", goodAfterTime=gat)
        tp, st, te = (ib.placeOrder(bag, o) for o in (tp_order, stop, timed))
        assert await wait_until(
            lambda: tp.orderStatus.status == "Submitted" and te.orderStatus.status == "PreSubmitted"
        )
        assert st.orderStatus.status == "PreSubmitted"  # a simulated stop waits un-elected
        tp_order.lmtPrice = round(credit * -1 - 5.0, 1)  # now marketable: sell at the bid
        ib.placeOrder(bag, tp_order)
        assert await wait_until(lambda: tp.orderStatus.status == "Filled")
        assert await wait_until(lambda: st.orderStatus.status == "Cancelled" and te.orderStatus.status == "Cancelled")
        assert ib.positions() == [] or all(p.position == 0 for p in ib.positions())
        late = ib.placeOrder(bag, LimitOrder("SELL", 1, -1.0, ocaGroup=group, ocaType=1))
        assert await wait_until(lambda: late.orderStatus.status == "Cancelled")
        ib.disconnect()

    run(go())


def test_midpoint_stop_elects_and_fills_at_the_natural(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        bag, _ = await condor(ib, *IC)
        bid, ask = await combo_quote(ib, bag)
        entry = ib.placeOrder(bag, LimitOrder("BUY", 1, ask))
        assert await wait_until(lambda: entry.orderStatus.status == "Filled")
        far = ib.placeOrder(bag, StopOrder("SELL", 1, -19.5, triggerMethod=8))
        near = ib.placeOrder(bag, StopOrder("SELL", 1, round((bid + ask) / 2 + 2.0, 1), triggerMethod=8))
        assert await wait_until(lambda: near.orderStatus.status == "Filled")
        assert far.orderStatus.status == "PreSubmitted"
        ib.disconnect()

    run(go())
    stops = [o for o in sim_gateway.sim.orders() if o.req.order_type == "STP"]
    assert [o.triggered for o in stops] == [False, True]


@pytest.mark.parametrize(
    "gat_format",
    ["{d} {t} US/Eastern", "{d} {t} America/New_York", "{d}-{u}"],
    ids=["US/Eastern", "America/New_York", "UTC-dash"],
)
def test_good_after_time_holds_with_warning_399_then_trades(sim_gateway_factory, gat_format):
    gw = sim_gateway_factory(speed=60)
    codes: list[int] = []

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        ib.errorEvent += lambda req_id, code, text, contract: codes.append(code)
        opt = await qualified_option(ib, 5940, "P")
        release = (gw.clock.now() + timedelta(seconds=40)).astimezone(NEW_YORK).replace(microsecond=0)
        text = gat_format.format(
            d=release.strftime("%Y%m%d"),
            t=release.strftime("%H:%M:%S"),
            u=release.astimezone(UTC).strftime("%H:%M:%S"),
        )
        trade = ib.placeOrder(opt, MarketOrder("BUY", 1, goodAfterTime=text))
        assert await wait_until(lambda: trade.orderStatus.status == "PreSubmitted")
        assert 399 in codes
        assert await wait_until(lambda: trade.orderStatus.status == "Filled", timeout=5)
        fill_time = trade.fills[0].execution.time
        assert fill_time >= release - timedelta(seconds=1)
        ib.disconnect()

    run(go())


def test_what_if_reports_margin_without_creating_an_order(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        bag, _ = await condor(ib, *IC)
        state = await ib.whatIfOrderAsync(bag, LimitOrder("BUY", 2, -5.0))
        assert float(state.initMarginChange) == 2 * 20 * 100  # the wider wing, × 100, × quantity
        assert float(state.maintMarginAfter) == 4000.0
        assert state.commission == pytest.approx(8 * 1.05)
        assert float(state.equityWithLoanBefore) == pytest.approx(100_000.0)
        ib.disconnect()

    run(go())
    assert sim_gateway.sim.orders() == []


def test_historical_midpoint_and_bid_ask_bars_for_a_leg_and_trades_for_the_index(sim_gateway_factory):
    gw = sim_gateway_factory(start="2026-11-24T11:00:00", speed=60)

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        opt = await qualified_option(ib, 5940, "P")
        bars = await ib.reqHistoricalDataAsync(opt, "", "7200 S", "1 min", "MIDPOINT", True)
        assert 90 <= len(bars) <= 91  # from 09:30, completed minutes only
        first = bars[0]
        assert first.date.astimezone(NEW_YORK).strftime("%H:%M") == "09:30"
        assert first.volume == -1 and first.low <= first.open <= first.high
        ba = await ib.reqHistoricalDataAsync(opt, "", "1800 S", "1 min", "BID_ASK", True)
        assert 29 <= len(ba) <= 30 and all(b.low <= b.high for b in ba)
        spx = Index("SPX", "CBOE")
        await ib.qualifyContractsAsync(spx)
        idx = await ib.reqHistoricalDataAsync(spx, "", "600 S", "1 min", "TRADES", True)
        assert 9 <= len(idx) <= 10 and 5000 < idx[-1].close < 7000
        ib.disconnect()

    run(go())


def test_account_summary_and_values(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        summary = {v.tag: v for v in await ib.accountSummaryAsync()}
        for tag in ("NetLiquidation", "AvailableFunds", "BuyingPower", "MaintMarginReq", "ExcessLiquidity"):
            assert tag in summary, tag
        assert float(summary["NetLiquidation"].value) == pytest.approx(100_000.0)
        assert summary["NetLiquidation"].account == "DU1234567" and summary["NetLiquidation"].currency == "USD"
        values = {v.tag for v in ib.accountValues()}
        assert {"NetLiquidation", "AvailableFunds", "TotalCashValue"} <= values
        ib.disconnect()

    run(go())


def test_orders_fills_and_positions_survive_a_reconnect(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port, client_id=31)
        bag, _ = await condor(ib, *IC)
        _bid, ask = await combo_quote(ib, bag)
        entry = ib.placeOrder(bag, LimitOrder("BUY", 1, ask, orderRef="entry"))
        assert await wait_until(lambda: entry.orderStatus.status == "Filled")
        rest = ib.placeOrder(bag, LimitOrder("SELL", 1, -0.5, orderRef="tp"))
        assert await wait_until(lambda: rest.orderStatus.status == "Submitted")
        ib.disconnect()
        ib2 = await connect(sim_gateway.host, sim_gateway.port, client_id=31)
        open_refs = [t.order.orderRef for t in ib2.openTrades()]
        assert open_refs == ["tp"]
        assert ib2.openTrades()[0].contract.secType == "BAG" and len(ib2.openTrades()[0].contract.comboLegs) == 4
        assert len(ib2.fills()) == 5 and sum(f.commissionReport.commission for f in ib2.fills()) == pytest.approx(4.2)
        assert len(ib2.positions()) == 4
        completed = await ib2.reqCompletedOrdersAsync(False)
        assert [(t.order.orderRef, t.orderStatus.status) for t in completed] == [("entry", "Filled")]
        nxt = ib2.client.getReqId()
        assert nxt > rest.order.orderId
        again = ib2.openTrades()[0]  # rebuilt from openOrder: modify it as a restarted bot would
        again.order.lmtPrice = -0.6
        ib2.placeOrder(again.contract, again.order)
        assert await wait_until(lambda: "Modified" in [e.message for e in again.log])
        ib2.disconnect()

    run(go())
    tp = next(o for o in sim_gateway.sim.orders() if o.req.order_ref == "tp")
    assert tp.req.lmt_price == -0.6 and tp.status == "Submitted"


def test_larger_quantity_fills_in_parts(sim_gateway_factory):
    gw = sim_gateway_factory(speed=600)

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        bag, _ = await condor(ib, *IC)
        bid, ask = await combo_quote(ib, bag)
        limit = round(bid + (ask - bid) * 0.85, 2)
        limit = round(round(limit / 0.05) * 0.05, 2)
        trade = ib.placeOrder(bag, LimitOrder("BUY", 6, limit))
        assert await wait_until(lambda: trade.isDone(), timeout=10)
        bag_fills = [f for f in trade.fills if f.contract.secType == "BAG"]
        assert trade.orderStatus.status == "Filled" and trade.filled() == 6
        assert sum(f.execution.shares for f in bag_fills) == 6
        ib.disconnect()
        return len(bag_fills)

    parts = run(go())
    assert parts >= 1
    executions = [e for e in gw.sim.executions() if e.contract.sec_type == "BAG"]
    assert len(executions) == parts


def test_an_unknown_leg_is_rejected_with_error_200(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        bag, _ = await condor(ib, *IC)
        bag.comboLegs[0].conId = 12345
        trade = ib.placeOrder(bag, LimitOrder("BUY", 1, -5.0))
        assert await wait_until(lambda: trade.orderStatus.status == "Cancelled")
        assert any(e.errorCode == 200 for e in trade.log)
        off_tick = ib.placeOrder((await condor(ib, *IC))[0], LimitOrder("BUY", 1, -5.03))
        assert await wait_until(lambda: any(e.errorCode == 110 for e in off_tick.log))
        ib.disconnect()

    run(go())
