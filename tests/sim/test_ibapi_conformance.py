"""Conformance: IB's official Python client (ibapi-stable 10.x) connects to the simulator and trades a combo."""

from __future__ import annotations

import threading
from decimal import Decimal

from ibapi.contract import Contract
from ibapi.execution import ExecutionFilter
from ibapi.order import Order

from tests.sim.ibapi_client import CLIENT_ERRORS, Recorder, ibapi_condor, option


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
