"""Conformance: IB's official Python client (ibapi-stable 10.x) connects to the simulator and trades a combo."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ibapi.client import EClient
from ibapi.contract import ComboLeg, Contract
from ibapi.execution import ExecutionFilter
from ibapi.order import Order
from ibapi.wrapper import EWrapper

CLIENT_ERRORS = range(501, 600)  # ibapi's own codes: 505 unknown message id, 507 bad length, 508 bad message


class Recorder(EWrapper, EClient):
    """A plain EWrapper that writes down every callback it gets."""

    def __init__(self) -> None:
        EClient.__init__(self, self)
        self.events: list[tuple[Any, ...]] = []
        self.lock = threading.Lock()

    def _add(self, *event: Any) -> None:
        with self.lock:
            self.events.append(event)

    def of(self, kind: str) -> list[tuple[Any, ...]]:
        with self.lock:
            return [e for e in self.events if e[0] == kind]

    def wait(self, pred: Callable[[], bool], timeout: float = 5.0) -> bool:
        end = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > end:
                return False
            time.sleep(0.01)
        return True

    # callbacks
    def nextValidId(self, orderId: int) -> None:
        self._add("nextValidId", orderId)

    def managedAccounts(self, accountsList: str) -> None:
        self._add("managedAccounts", accountsList)

    def error(
        self, reqId: int, errorTime: int, errorCode: int, errorString: str, advancedOrderRejectJson: str = ""
    ) -> None:
        self._add("error", reqId, errorCode, errorString)

    def contractDetails(self, reqId: int, contractDetails: Any) -> None:
        self._add("contractDetails", reqId, contractDetails)

    def contractDetailsEnd(self, reqId: int) -> None:
        self._add("contractDetailsEnd", reqId)

    def tickPrice(self, reqId: int, tickType: int, price: float, attrib: Any) -> None:
        self._add("tickPrice", reqId, tickType, price)

    def tickOptionComputation(self, reqId: int, tickType: int, tickAttrib: int, *values: Any) -> None:
        self._add("tickOptionComputation", reqId, tickType, *values)

    def openOrder(self, orderId: int, contract: Contract, order: Order, orderState: Any) -> None:
        self._add("openOrder", orderId, contract.secType, orderState.status, order.orderRef)

    def orderStatus(
        self, orderId: int, status: str, filled: Decimal, remaining: Decimal, avgFillPrice: float, *rest: Any
    ) -> None:
        self._add("orderStatus", orderId, status, filled, avgFillPrice)

    def execDetails(self, reqId: int, contract: Contract, execution: Any) -> None:
        self._add(
            "execDetails",
            reqId,
            contract.secType,
            execution.side,
            execution.price,
            execution.execId,
            execution.orderRef,
        )

    def execDetailsEnd(self, reqId: int) -> None:
        self._add("execDetailsEnd", reqId)

    def commissionAndFeesReport(self, commissionAndFeesReport: Any) -> None:
        r = commissionAndFeesReport
        self._add("commission", r.execId, r.commissionAndFees, r.currency)

    def position(self, account: str, contract: Contract, position: Decimal, avgCost: float) -> None:
        self._add("position", contract.conId, position, avgCost)

    def positionEnd(self) -> None:
        self._add("positionEnd")

    def completedOrder(self, contract: Contract, order: Order, orderState: Any) -> None:
        self._add("completedOrder", order.orderRef, orderState.status)

    def completedOrdersEnd(self) -> None:
        self._add("completedOrdersEnd")

    def historicalData(self, reqId: int, bar: Any) -> None:
        self._add("bar", reqId, bar.date, bar.close)

    def historicalDataEnd(self, reqId: int, start: str, end: str) -> None:
        self._add("barsEnd", reqId)

    def accountSummary(self, reqId: int, account: str, tag: str, value: str, currency: str) -> None:
        self._add("accountSummary", tag, value)

    def accountSummaryEnd(self, reqId: int) -> None:
        self._add("accountSummaryEnd", reqId)

    def securityDefinitionOptionParameter(self, reqId: int, exchange: str, *rest: Any) -> None:
        self._add("secDef", exchange, *rest)

    def securityDefinitionOptionParameterEnd(self, reqId: int) -> None:
        self._add("secDefEnd", reqId)


def option(strike: float, right: str) -> Contract:
    c = Contract()
    c.symbol, c.secType, c.lastTradeDateOrContractMonth = "SPX", "OPT", "20261124"
    c.strike, c.right, c.exchange, c.currency, c.tradingClass = strike, right, "SMART", "USD", "SPXW"
    return c


def ibapi_condor(con_ids: list[int]) -> Contract:
    """The condor as an ibapi BAG: long put, short put, short call, long call (con_ids in that order)."""
    bag = Contract()
    bag.symbol, bag.secType, bag.currency, bag.exchange = "SPX", "BAG", "USD", "SMART"
    bag.comboLegs = []
    for con_id, action in zip(con_ids, ("BUY", "SELL", "SELL", "BUY"), strict=True):
        leg = ComboLeg()
        leg.conId, leg.ratio, leg.action, leg.exchange = con_id, 1, action, "SMART"
        bag.comboLegs.append(leg)
    return bag


def test_ibapi_handshake_details_greeks_and_a_combo_fill(sim_gateway):
    app = Recorder()
    app.connect(sim_gateway.host, sim_gateway.port, 9)
    reader = threading.Thread(target=app.run, daemon=True)
    reader.start()
    try:
        assert app.wait(lambda: bool(app.of("nextValidId")) and bool(app.of("managedAccounts")))
        assert app.serverVersion() == 178
        assert app.twsConnectionTime().startswith(b"20261124 09:3")
        assert app.of("managedAccounts")[0][1] == "DU1234567"

        strikes = ((5920, "P"), (5940, "P"), (6065, "C"), (6085, "C"))
        for req_id, (strike, right) in enumerate(strikes, start=100):
            app.reqContractDetails(req_id, option(strike, right))
        assert app.wait(lambda: len(app.of("contractDetailsEnd")) == 4)
        con_ids = [e[2].contract.conId for e in sorted(app.of("contractDetails"), key=lambda e: e[1])]
        assert len(con_ids) == 4 and all(c > 0 for c in con_ids)

        app.reqSecDefOptParams(7, "SPX", "", "IND", 416904)
        assert app.wait(lambda: bool(app.of("secDefEnd")))
        assert {e[1] for e in app.of("secDef")} == {"SMART", "CBOE"}

        short_put = Contract()
        short_put.conId, short_put.exchange = con_ids[1], "SMART"
        app.reqMktData(200, short_put, "", False, False, [])
        assert app.wait(lambda: any(e[1] == 200 and e[2] == 13 for e in app.of("tickOptionComputation")))
        model = next(e for e in app.of("tickOptionComputation") if e[2] == 13)
        implied_vol, delta, opt_price, _pv, gamma, _vega, _theta, und = model[3:]
        assert implied_vol > 0 and -0.3 < delta < 0 and opt_price > 0 and gamma > 0 and und > 5000
        assert app.wait(lambda: {1, 2} <= {e[2] for e in app.of("tickPrice") if e[1] == 200})
        app.cancelMktData(200)

        bag = ibapi_condor(con_ids)
        order = Order()
        order.action, order.orderType, order.totalQuantity = "BUY", "LMT", Decimal(1)
        order.lmtPrice, order.tif, order.orderRef = 5.0, "DAY", "ibapi:combo"  # far through the natural: fills
        order_id = app.of("nextValidId")[0][1]
        app.placeOrder(order_id, bag, order)
        assert app.wait(lambda: any(e[2] == "Filled" for e in app.of("orderStatus")))
        assert app.wait(lambda: len(app.of("commission")) == 4)
        execs = app.of("execDetails")
        assert [e[2] for e in execs] == ["BAG", "OPT", "OPT", "OPT", "OPT"]
        assert [e[3] for e in execs[1:]] == ["BOT", "SLD", "SLD", "BOT"]
        signed = sum((1 if e[3] == "BOT" else -1) * e[4] for e in execs[1:])
        assert abs(signed - execs[0][4]) < 1e-9
        assert {e[1] for e in app.of("commission")} == {e[5] for e in execs[1:]}
        statuses = [e[3] for e in app.of("openOrder")]
        assert statuses[0] == "PreSubmitted" and statuses[-1] == "Filled"

        app.reqPositions()
        app.reqCompletedOrders(False)
        app.reqExecutions(8, ExecutionFilter())
        app.reqAccountSummary(9, "All", "NetLiquidation,AvailableFunds,BuyingPower,MaintMarginReq,Cushion")
        app.reqHistoricalData(10, short_put, "", "1800 S", "1 min", "MIDPOINT", 1, 1, False, [])
        assert app.wait(
            lambda: (
                bool(app.of("positionEnd"))
                and bool(app.of("completedOrdersEnd"))
                and bool(app.of("execDetailsEnd"))
                and bool(app.of("accountSummaryEnd"))
                and bool(app.of("barsEnd"))
            )
        )
        assert len(app.of("position")) == 4
        assert app.of("completedOrder") == [("completedOrder", "ibapi:combo", "Filled")]
        assert len([e for e in app.of("execDetails") if e[1] == 8]) == 5
        assert {e[1] for e in app.of("accountSummary")} == {
            "NetLiquidation",
            "AvailableFunds",
            "BuyingPower",
            "MaintMarginReq",
            "Cushion",
        }
        assert app.of("bar")
    finally:
        app.disconnect()
        reader.join(5)
    client_errors = [e for e in app.of("error") if e[2] in CLIENT_ERRORS]
    assert not client_errors, client_errors
    assert {e[2] for e in app.of("error")} <= {2104, 2106, 2158}
