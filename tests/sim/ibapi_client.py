"""IB's own Python client (ibapi) as a recording test client of the simulator, and the contracts it sends
(tests/sim/test_ibapi_conformance.py, tests/sim/test_ib_order_life.py, tests/sim/test_untidy.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ibapi.client import EClient
from ibapi.contract import ComboLeg, Contract
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
