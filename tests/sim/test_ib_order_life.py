"""The finer points of IB's order life and listings, through ib_async (and, at the end, through ibapi).

Stops are held with whyHeld "trigger" and acknowledged twice; a PreSubmitted order cancels straight to Cancelled;
IOC ends PendingCancel then Cancelled with no 202; FOK ends Inactive; a released MKT order goes straight to
Submitted; positions carry no SMART; reqSecDefOptParams lists every SPX chain; snapshots take virtual time; the
line and pacing limits count per account; contract details carry lastTradeTime and a week of trading hours.
"""

from __future__ import annotations

import asyncio
import threading
import time
from decimal import Decimal
from typing import Any

from ib_async import IB, Index, LimitOrder, MarketOrder, Option, StopOrder
from ibapi.order_cancel import OrderCancel

from tests.sim.helpers import IC, SESSION, condor, connect, qualified_option, run, wait_until
from tests.sim.ibapi_client import Recorder, ibapi_condor, option

Event = tuple[str, int, str, str]  # (openOrder | orderStatus, orderId, status, whyHeld)


def record_order_messages(ib: IB) -> list[Event]:
    """Every openOrder and orderStatus as it arrives (ib_async's Trade keeps only the latest state)."""
    seen: list[Event] = []
    w = ib.wrapper
    on_status, on_open = w.orderStatus, w.openOrder

    def order_status(order_id: int, status: str, *rest: Any, **kw: Any) -> None:
        why = rest[7] if len(rest) > 7 else kw.get("whyHeld", "")
        seen.append(("orderStatus", order_id, status, why))
        on_status(order_id, status, *rest, **kw)

    def open_order(order_id: int, contract: Any, order: Any, state: Any) -> None:
        seen.append(("openOrder", order_id, state.status, ""))
        on_open(order_id, contract, order, state)

    w.orderStatus = order_status
    w.openOrder = open_order
    return seen


def of(events: list[Event], order_id: int) -> list[tuple[str, str, str]]:
    return [(kind, status, why) for kind, oid, status, why in events if oid == order_id]


def collect_errors(ib: IB) -> list[tuple[int, int]]:
    errors: list[tuple[int, int]] = []
    ib.errorEvent += lambda req_id, code, text, contract: errors.append((req_id, code))
    return errors


HELD = [
    ("openOrder", "PreSubmitted", ""),
    ("orderStatus", "PreSubmitted", "trigger"),
    ("openOrder", "PreSubmitted", ""),
    ("orderStatus", "PreSubmitted", "trigger"),
]


def test_a_stop_is_held_for_its_trigger_acknowledged_twice_and_cancels_without_pending_cancel(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        events = record_order_messages(ib)
        errors = collect_errors(ib)
        bag, _ = await condor(ib, *IC)
        stop = StopOrder("SELL", 1, -19.5, triggerMethod=8, orderRef="stop")
        trade = ib.placeOrder(bag, stop)
        oid = trade.order.orderId
        assert await wait_until(lambda: len(of(events, oid)) == 4)
        await asyncio.sleep(0.2)
        assert of(events, oid) == HELD
        assert trade.orderStatus.status == "PreSubmitted" and trade.orderStatus.whyHeld == "trigger"

        stop.auxPrice = -19.0  # a modify of the held stop: acknowledged twice as well
        ib.placeOrder(bag, stop)
        assert await wait_until(lambda: len(of(events, oid)) == 8)
        await asyncio.sleep(0.2)
        assert of(events, oid)[4:] == HELD

        open_orders = await ib.reqAllOpenOrdersAsync()  # the working order again, still held for its trigger
        assert [t.order.orderId for t in open_orders] == [oid]
        assert of(events, oid)[8:] == HELD[:2] and trade.orderStatus.whyHeld == "trigger"

        ib.cancelOrder(stop)
        assert await wait_until(lambda: (oid, 202) in errors)
        assert of(events, oid)[10:] == [("orderStatus", "Cancelled", "")]  # no PendingCancel from the gateway
        assert trade.orderStatus.status == "Cancelled"
        ib.disconnect()

    run(go())


def test_a_good_after_time_order_also_cancels_straight_from_presubmitted(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        events = record_order_messages(ib)
        bag, _ = await condor(ib, *IC)
        held = LimitOrder("BUY", 1, -30.0, goodAfterTime="20261124 11:30:00 US/Eastern")
        trade = ib.placeOrder(bag, held)
        assert await wait_until(lambda: trade.orderStatus.status == "PreSubmitted")
        assert trade.orderStatus.whyHeld == ""  # only an un-elected stop says "trigger"
        ib.cancelOrder(held)
        assert await wait_until(lambda: trade.orderStatus.status == "Cancelled")
        assert "PendingCancel" not in [s for k, s, _ in of(events, held.orderId) if k == "orderStatus"]
        ib.disconnect()

    run(go())


def test_ioc_ends_pending_cancel_then_cancelled_without_202_and_fok_ends_inactive(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        events = record_order_messages(ib)
        errors = collect_errors(ib)
        bag, _ = await condor(ib, *IC)
        ioc = ib.placeOrder(bag, LimitOrder("BUY", 1, -30.0, tif="IOC"))  # far from the natural: nothing trades
        assert await wait_until(lambda: ioc.orderStatus.status == "Cancelled")
        statuses = [s for k, s, _ in of(events, ioc.order.orderId) if k == "orderStatus"]
        assert statuses[-2:] == ["PendingCancel", "Cancelled"]
        assert ("openOrder", "PendingCancel", "") in of(events, ioc.order.orderId)

        fok = ib.placeOrder(bag, LimitOrder("BUY", 1, -30.0, tif="FOK"))
        assert await wait_until(lambda: fok.orderStatus.status == "Inactive")
        big = ib.placeOrder(bag, LimitOrder("BUY", 1000, 5.0, tif="FOK"))  # marketable, but not 1000 lots
        assert await wait_until(lambda: big.orderStatus.status == "Inactive")
        assert big.fills == [] and big.orderStatus.filled == 0
        whole = ib.placeOrder(bag, LimitOrder("BUY", 1, 5.0, tif="FOK"))  # marketable for one lot: trades whole
        assert await wait_until(lambda: whole.orderStatus.status == "Filled")
        await asyncio.sleep(0.2)
        ids = {ioc.order.orderId, fok.order.orderId, big.order.orderId, whole.order.orderId}
        assert not [e for e in errors if e[0] in ids and e[1] == 202]
        ib.disconnect()

    run(go())
    assert [o.status for o in sim_gateway.sim.orders()] == ["Cancelled", "Inactive", "Inactive", "Filled"]


def test_a_released_market_order_goes_straight_to_submitted(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        events = record_order_messages(ib)
        opt = await qualified_option(ib, 5940, "P")
        trade = ib.placeOrder(opt, MarketOrder("BUY", 1))
        assert await wait_until(lambda: trade.orderStatus.status == "Filled")
        got = of(events, trade.order.orderId)
        assert got[:2] == [("openOrder", "Submitted", ""), ("orderStatus", "Submitted", "")]
        assert "PreSubmitted" not in {s for _, s, _ in got}
        ib.disconnect()

    run(go())


def test_positions_carry_no_smart_exchange(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        opt = await qualified_option(ib, 5940, "P")
        assert opt.exchange == "SMART"
        trade = ib.placeOrder(opt, MarketOrder("BUY", 1))
        assert await wait_until(lambda: trade.orderStatus.status == "Filled")
        positions = await ib.reqPositionsAsync()
        assert [(p.contract.conId, p.contract.exchange) for p in positions] == [(opt.conId, "")]
        assert await wait_until(lambda: bool(ib.portfolio()))
        assert ib.portfolio()[0].contract.primaryExchange == ""
        ib.disconnect()

    run(go())


def test_sec_def_opt_params_lists_every_spx_chain_and_the_bot_keeps_todays_spxw(sim_gateway):
    from tests.broker.helpers import connect as broker_connect
    from tests.broker.helpers import session_date

    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        chains = await ib.reqSecDefOptParamsAsync("SPX", "", "IND", 416904)
        by = {(c.exchange, c.tradingClass): c for c in chains}
        assert set(by) == {("SMART", "SPX"), ("CBOE", "SPX"), ("SMART", "SPXW"), ("CBOE", "SPXW")}
        spxw, am = by[("SMART", "SPXW")], by[("SMART", "SPX")]
        assert spxw.expirations[:3] == [SESSION, "20261125", "20261127"]  # Thanksgiving (26th) has no session
        assert "20261217" in am.expirations and SESSION not in am.expirations  # AM: the Thursday before the 18th
        assert set(spxw.strikes) != set(am.strikes) and 5940.0 in spxw.strikes and 3000.0 in am.strikes
        assert all(int(c.underlyingConId) == 416904 and c.multiplier == "100" for c in chains)
        ib.disconnect()

        day = session_date(sim_gateway)
        gw = await broker_connect(sim_gateway)
        listed = await gw.list_strikes(day)
        assert listed == sim_gateway.sim.call(lambda s: s.market.strikes("SPX"))
        union = await gw.strikes_from_secdef(day)
        assert set(listed) < set(union) and set(union) == set(spxw.strikes)
        await gw.close()

    run(go())


def test_a_snapshot_answers_after_a_virtual_second_then_ends(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        opt = await qualified_option(ib, 5940, "P")
        clock = sim_gateway.clock
        first_tick: list[float] = []
        ended: list[float] = []
        on_end = ib.wrapper.tickSnapshotEnd

        def on_tickers(tickers: Any) -> None:
            if not first_tick:
                first_tick.append(clock.now().timestamp())

        def snapshot_end(req_id: int) -> None:
            ended.append(clock.now().timestamp())
            on_end(req_id)

        ib.pendingTickersEvent += on_tickers
        ib.wrapper.tickSnapshotEnd = snapshot_end
        t0 = clock.now().timestamp()
        ticker = ib.reqMktData(opt, "", snapshot=True)
        assert await wait_until(lambda: bool(ended))
        assert first_tick and first_tick[0] - t0 >= 0.9
        assert 1.9 <= ended[0] - t0 <= 4.0
        assert ticker.bid > 0 and ticker.ask > ticker.bid and ticker.modelGreeks is not None
        tickers = await ib.reqTickersAsync(opt)  # ib_async's own snapshot helper waits for the end
        assert tickers[0].modelGreeks is not None
        ib.disconnect()

    run(go())


def test_market_data_lines_and_pacing_count_per_account(sim_gateway_factory):
    gw = sim_gateway_factory(max_md_lines=3, faults=["pacing=30"])

    async def go() -> None:
        a = await connect(gw.host, gw.port, client_id=1)
        b = await connect(gw.host, gw.port, client_id=2)
        errors_b = collect_errors(b)
        options = [await qualified_option(a, k, "P") for k in (5900, 5910, 5920)]
        a.reqMktData(options[0])
        a.reqMktData(options[1])
        b.reqMktData(options[2])  # the account's third line
        await asyncio.sleep(0.2)
        spx = Index("SPX", "CBOE")
        await b.qualifyContractsAsync(spx)
        b.reqMktData(spx)  # a fourth: over the account's limit although b holds only one
        assert await wait_until(lambda: any(code == 101 for _, code in errors_b))
        assert gw.sim.stats().max_md_lines == 3

        errors_a = collect_errors(a)
        for ib in (a, b):
            ib.client.MaxRequests = 0
        for _ in range(20):  # 20 each: under 30 per connection, 40 on the account
            a.client.reqCurrentTime()
            b.client.reqCurrentTime()
        assert await wait_until(lambda: any(code == 100 for _, code in errors_a + errors_b))
        a.disconnect()
        b.disconnect()

    run(go())


def test_contract_details_carry_last_trade_time_and_a_week_of_trading_hours(sim_gateway):
    async def go() -> None:
        ib = await connect(sim_gateway.host, sim_gateway.port)
        opt = await qualified_option(ib, 5940, "P")
        [d] = await ib.reqContractDetailsAsync(opt)
        assert d.contract.lastTradeDateOrContractMonth == SESSION and d.lastTradeTime == "16:00:00"
        assert d.tradingHours == "20261123:2015-20261124:0915;20261124:0930-20261124:1600"
        assert d.liquidHours == "20261124:0930-20261124:1600"
        assert len(d.tradingSessions()) == 2 and len(d.liquidSessions()) == 1
        [ix] = await ib.reqContractDetailsAsync(Index("SPX", "CBOE"))
        assert ix.tradingHours.split(";") == [
            "20261124:0930-20261124:1600",
            "20261125:0930-20261125:1600",
            "20261126:CLOSED",  # Thanksgiving
            "20261127:0930-20261127:1300",  # the half day after it
            "20261128:CLOSED",
            "20261129:CLOSED",
            "20261130:0930-20261130:1600",
        ]
        assert len(ix.tradingSessions()) == 4
        ib.disconnect()

    run(go())


def test_a_half_day_option_stops_at_the_early_close(sim_gateway_factory):
    gw = sim_gateway_factory(start="2026-11-27T09:31:00")

    async def go() -> None:
        ib = await connect(gw.host, gw.port)
        opt = Option("SPX", "20261127", 5940, "P", "SMART", tradingClass="SPXW")
        [d] = await ib.reqContractDetailsAsync(opt)
        assert d.lastTradeTime == "13:00:00" and d.liquidHours == "20261127:0930-20261127:1300"
        ib.disconnect()

    run(go())


# -- the same through IB's official client ----------------------------------------------------------------
class OrderLifeRecorder(Recorder):
    """Recorder, plus whyHeld, position exchanges, snapshot ends, current times and chain classes."""

    def orderStatus(  # type: ignore[override]
        self, orderId: int, status: str, filled: Decimal, remaining: Decimal, avgFillPrice: float, *rest: Any
    ) -> None:
        self._add("orderStatus", orderId, status, rest[4] if len(rest) > 4 else "")  # permId … clientId, whyHeld

    def position(self, account: str, contract: Any, position: Decimal, avgCost: float) -> None:
        self._add("position", contract.conId, contract.exchange, position)

    def tickSnapshotEnd(self, reqId: int) -> None:
        self._add("snapshotEnd", reqId)

    def currentTime(self, time: int) -> None:
        self._add("currentTime", time)

    def securityDefinitionOptionParameter(
        self, reqId: int, exchange: str, underlyingConId: int, tradingClass: str, multiplier: str, *rest: Any
    ) -> None:
        self._add("secDef", exchange, tradingClass, *rest)


def test_ibapi_sees_the_same_order_life_listings_and_account_limits(sim_gateway_factory):
    gw = sim_gateway_factory(max_md_lines=2, faults=["pacing=30"])
    app = OrderLifeRecorder()
    app.connect(gw.host, gw.port, 9)
    reader = threading.Thread(target=app.run, daemon=True)
    reader.start()
    try:
        assert app.wait(lambda: bool(app.of("nextValidId")))
        next_id = app.of("nextValidId")[0][1]

        strikes = ((5920, "P"), (5940, "P"), (6065, "C"), (6085, "C"))
        for req_id, (strike, right) in enumerate(strikes, start=100):
            app.reqContractDetails(req_id, option(strike, right))
        assert app.wait(lambda: len(app.of("contractDetailsEnd")) == 4)
        details = [e[2] for e in sorted(app.of("contractDetails"), key=lambda e: e[1])]
        assert all(d.lastTradeTime == "16:00:00" for d in details)
        assert details[0].contract.lastTradeDateOrContractMonth == SESSION
        assert details[0].tradingHours == "20261123:2015-20261124:0915;20261124:0930-20261124:1600"
        con_ids = [d.contract.conId for d in details]

        app.reqSecDefOptParams(7, "SPX", "", "IND", 416904)
        assert app.wait(lambda: bool(app.of("secDefEnd")))
        assert [(e[1], e[2]) for e in app.of("secDef")] == [
            ("SMART", "SPX"),
            ("CBOE", "SPXW"),
            ("SMART", "SPXW"),
            ("CBOE", "SPX"),
        ]

        probe = option(5940, "P")
        app.reqMktData(300, probe, "", True, False, [])  # a snapshot
        assert app.wait(lambda: bool(app.of("snapshotEnd")))
        assert any(e[1] == 300 for e in app.of("tickPrice"))
        assert any(e[1] == 300 and e[2] == 13 for e in app.of("tickOptionComputation"))

        # a released MKT order: straight to Submitted, then Filled; the position carries no SMART
        app.placeOrder(next_id, probe, _ibapi_order("BUY", "MKT"))
        assert app.wait(lambda: any(e[1] == next_id and e[2] == "Filled" for e in app.of("orderStatus")))
        assert next(e[2] for e in app.of("orderStatus") if e[1] == next_id) == "Submitted"
        app.reqPositions()
        assert app.wait(lambda: bool(app.of("positionEnd")))
        assert [(e[2], e[3]) for e in app.of("position")] == [("", Decimal(1))]

        bag = ibapi_condor(con_ids)
        stop = _ibapi_order("SELL", "STP", aux=-19.5)
        stop.triggerMethod = 8
        app.placeOrder(next_id + 1, bag, stop)
        assert app.wait(lambda: len([e for e in app.of("orderStatus") if e[1] == next_id + 1]) == 2)
        time.sleep(0.2)
        assert [e[2:] for e in app.of("orderStatus") if e[1] == next_id + 1] == [("PreSubmitted", "trigger")] * 2
        assert [e[3] for e in app.of("openOrder") if e[1] == next_id + 1] == ["PreSubmitted"] * 2
        app.cancelOrder(next_id + 1, OrderCancel())
        assert app.wait(lambda: any(e[1] == next_id + 1 and e[2] == "Cancelled" for e in app.of("orderStatus")))
        assert [e[2] for e in app.of("orderStatus") if e[1] == next_id + 1][2:] == ["Cancelled"]

        app.placeOrder(next_id + 2, bag, _ibapi_order("BUY", "LMT", lmt=-30.0, tif="IOC"))
        app.placeOrder(next_id + 3, bag, _ibapi_order("BUY", "LMT", lmt=-30.0, tif="FOK"))
        assert app.wait(lambda: any(e[1] == next_id + 3 and e[2] == "Inactive" for e in app.of("orderStatus")))
        assert [e[2] for e in app.of("orderStatus") if e[1] == next_id + 2][-2:] == ["PendingCancel", "Cancelled"]
        assert not [e for e in app.of("error") if e[1] in (next_id + 2, next_id + 3) and e[2] == 202]
        assert [e for e in app.of("error") if e[1] == next_id + 1 and e[2] == 202]

        # per account: a second client's lines and messages count against the same limits
        other = OrderLifeRecorder()
        other.connect(gw.host, gw.port, 10)
        other_reader = threading.Thread(target=other.run, daemon=True)
        other_reader.start()
        try:
            assert other.wait(lambda: bool(other.of("nextValidId")))
            other.reqMktData(400, option(5900, "P"), "", False, False, [])
            other.reqMktData(401, option(5910, "P"), "", False, False, [])  # the account's two lines
            assert other.wait(lambda: {400, 401} <= {e[1] for e in other.of("tickPrice")})
            app.reqMktData(301, option(5920, "P"), "", False, False, [])
            assert app.wait(lambda: any(e[1] == 301 and e[2] == 101 for e in app.of("error")))
            time.sleep(1.1)  # a fresh pacing window
            for _ in range(20):  # 20 each: under 30 per connection, 40 on the account
                app.reqCurrentTime()
                other.reqCurrentTime()
            assert app.wait(lambda: any(e[2] == 100 for e in app.of("error") + other.of("error")))
        finally:
            other.disconnect()
            other_reader.join(5)
    finally:
        app.disconnect()
        reader.join(5)
    assert not [e for e in app.of("error") if 501 <= e[2] < 600]


def _ibapi_order(
    action: str, order_type: str, *, lmt: float | None = None, aux: float | None = None, tif: str = "DAY"
) -> Any:
    from ibapi.order import Order as IbapiOrder

    o = IbapiOrder()
    o.action, o.orderType, o.totalQuantity, o.tif = action, order_type, Decimal(1), tif
    if lmt is not None:
        o.lmtPrice = lmt
    if aux is not None:
        o.auxPrice = aux
    return o
