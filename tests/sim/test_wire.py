"""Contract test for every message the simulator can send: both clients' own decoders consume it exactly.

ib_async's Decoder runs with a recording wrapper (the decoder, not the IB object, is under test); ibapi's
process functions read from an iterator that must end exactly where the message ends, and its "wrap"
handlers check the field count themselves. A layout drift in either client fails here first.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from ib_async.decoder import Decoder as AsyncDecoder

from icbot.sim import messages as msg
from icbot.sim import order_messages as om
from icbot.sim.catalog import Catalog
from icbot.sim.market import Market
from icbot.sim.requests import LegReq
from tests.sim.wire_decoding import SV, AsyncRecorder, decode_both, wire_fields


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    from datetime import date

    return Catalog(Market(date(2026, 11, 24)))


def _bag(catalog: Catalog) -> msg.ContractInfo:
    m = catalog.market
    ids = [m.find_option(r, k).con_id for r, k in (("P", 5920), ("P", 5940), ("C", 6065), ("C", 6085))]  # type: ignore[union-attr]
    legs = [LegReq(c, 1, a, "SMART") for c, a in zip(ids, ("BUY", "SELL", "SELL", "BUY"), strict=True)]
    return catalog.bag_info(legs)


def _order(contract: msg.ContractInfo, **kw: Any) -> om.OrderView:
    base = dict(
        order_id=12,
        client_id=31,
        perm_id=1234567890,
        contract=contract,
        action="SELL",
        total_qty=2.0,
        order_type="STP",
        lmt_price=None,
        aux_price=-15.0,
        tif="DAY",
        oca_group="icbot:2026-11-24:paper:oca",
        oca_type=1,
        account="DU1234567",
        open_close="",
        order_ref="icbot:2026-11-24:paper:stop",
        good_after_time="20261124 11:30:00 US/Eastern",
        good_till_date="",
        parent_id=0,
        trigger_method=8,
        outside_rth=False,
        what_if=False,
        status="PreSubmitted",
    )
    base.update(kw)
    return om.OrderView(**base)  # type: ignore[arg-type]


def test_session_and_error_messages_decode_exactly():
    for fields in (
        msg.managed_accounts(["DU1234567"]),
        msg.next_valid_id(17),
        msg.error(-1, 2104, "Market data farm connection is OK:usfarm"),
        msg.error(12, 399, "Order Message:\nSELL 1 SPX COMBO\nWarning: your order will not be placed until\nX"),
        msg.current_time(1795000000),
        om.open_order_end(),
        om.completed_orders_end(),
        msg.position_end(),
        om.exec_details_end(5),
        msg.contract_data_end(3),
        msg.sec_def_opt_params_end(4),
        msg.account_time("09:31"),
        msg.account_download_end("DU1234567"),
        msg.account_value("NetLiquidation", "100000.00", "USD", "DU1234567"),
        msg.account_summary(9, "DU1234567", "NetLiquidation", "100000.00", "USD"),
        msg.account_summary_end(9),
        msg.account_update_multi(9, "DU1234567", "", "NetLiquidation", "100000.00", "USD"),
        msg.account_update_multi_end(9),
        msg.market_data_type(5, 1),
        msg.tick_req_params(5, 0.05, "c70003", 3),
        msg.tick_snapshot_end(5),
    ):
        a, w = decode_both(fields)
        assert len(a) == 1 and len(w) >= 1, fields


def test_error_text_survives_both_decoders():
    a, w = decode_both(msg.error(7, 201, "Order rejected - reason:Insufficient margin"))
    assert a[0] == ("error", (7, 201, "Order rejected - reason:Insufficient margin", ""))
    assert w[0][0] == "error" and w[0][1][2:4] == (201, "Order rejected - reason:Insufficient margin")


def test_market_data_ticks_decode_exactly():
    a, w = decode_both(msg.tick_price(5, 1, 4.35, 17))
    assert a == [("priceSizeTick", (5, 1, 4.35, 17.0))]
    assert [c[0] for c in w] == ["tickPrice", "tickSize"]
    decode_both(msg.tick_size(5, 8, 120))
    decode_both(msg.tick_generic(5, 24, 0.18))
    decode_both(msg.tick_string(5, 45, "1795000000"))
    a, w = decode_both(msg.tick_option_computation(5, 13, 0.21, -0.15, 5.8, 0.0, 0.004, 0.9, -12.0, 6007.2))
    assert a[0][0] == "tickOptionComputation" and a[0][1][4] == -0.15 and a[0][1][10] == 6007.2
    assert w[0][0] == "tickOptionComputation" and w[0][1][4] == -0.15


def test_contract_data_for_option_and_index(catalog):
    spec = catalog.market.find_option("P", 5940)
    assert spec is not None
    a, w = decode_both(msg.contract_data(3, catalog.option_info(spec)))
    cd = a[0][1][1]
    assert cd.contract.localSymbol == "SPXW  261124P05940000" and cd.contract.conId == spec.con_id
    assert cd.underConId == 416904 and cd.contract.multiplier == "100" and cd.minTick == 0.05
    assert w[0][1][1].contract.tradingClass == "SPXW"
    a, _ = decode_both(msg.contract_data(4, catalog.spx))
    assert a[0][1][1].contract.conId == 416904 and a[0][1][1].contract.secType == "IND"


def test_sec_def_and_historical(catalog):
    a, _ = decode_both(msg.sec_def_opt_params(4, "SMART", 416904, "SPXW", "100", ["20261124"], [5900.0, 5905.0]))
    assert a[0][1][5:] == (["20261124"], [5900.0, 5905.0])
    rows = [("20261124 09:30:00 US/Eastern", 5.0, 5.2, 4.9, 5.1, -1.0, -1.0, -1)]
    a, w = decode_both(msg.historical_data(6, "20261124 09:00:00 US/Eastern", "20261124 10:00:00 US/Eastern", rows))
    assert [c[0] for c in a] == ["historicalData", "historicalDataEnd"]
    assert [c[0] for c in w] == ["historicalData", "historicalDataEnd"]


@pytest.mark.parametrize("what_if", [False, True])
def test_open_order_for_a_bag_with_oca_gat_and_conditions(catalog, what_if):
    order = _order(
        _bag(catalog),
        what_if=what_if,
        leg_prices=[None, 1.2, None, None],
        smart_combo_params=[("NonGuaranteed", "0")],
        conditions=[(3, "a", ["1", "20261124 11:30:00 US/Eastern"])],
        conditions_cancel_order=False,
    )
    state = om.WhatIfState(0, 0, 1e5, 2000, 2000, -4.2, 2000, 2000, 1e5 - 4.2, 4.2, msg.U, msg.U) if what_if else None
    a, w = decode_both(om.open_order(order, SV, what_if=state))
    name, (order_id, contract, o, st) = a[0]
    assert name == "openOrder" and order_id == 12
    assert contract.secType == "BAG" and len(contract.comboLegs) == 4 and contract.comboLegs[1].action == "SELL"
    assert o.ocaGroup == "icbot:2026-11-24:paper:oca" and o.ocaType == 1 and o.triggerMethod == 8
    assert o.goodAfterTime == "20261124 11:30:00 US/Eastern" and o.auxPrice == -15.0 and o.clientId == 31
    assert o.permId == 1234567890 and o.orderRef == "icbot:2026-11-24:paper:stop" and o.whatIf == what_if
    assert len(o.conditions) == 1 and o.conditions[0].time == "20261124 11:30:00 US/Eastern"
    assert o.smartComboRoutingParams[0].tag == "NonGuaranteed"
    if what_if:
        assert float(st.initMarginChange) == 2000.0 and st.commission == 4.2
    assert w[0][0] == "openOrder" and w[0][1][2].ocaGroup == "icbot:2026-11-24:paper:oca"


def test_open_order_for_a_single_option_at_177_and_176(catalog):
    spec = catalog.market.find_option("C", 6065)
    assert spec is not None
    order = _order(catalog.option_info(spec), order_type="LMT", lmt_price=4.7, aux_price=None, oca_group="")
    for version in (177, 176):
        a = AsyncRecorder()
        AsyncDecoder(a, version).interpret(wire_fields(om.open_order(order, version)))
        assert a.calls[0][1][2].lmtPrice == 4.7
        done = replace(order, status="Filled", filled=2.0, completed_status="Filled")
        AsyncDecoder(a, version).interpret(wire_fields(om.completed_order(done, version)))
        assert a.calls[-1][0] == "completedOrder" and a.calls[-1][1][2].status == "Filled"


def test_completed_order_and_order_status(catalog):
    order = _order(_bag(catalog), status="Filled", filled=2.0, completed_time="20261124 10:01:02 US/Eastern")
    order.completed_status = "Filled"
    a, w = decode_both(om.completed_order(order))
    _, (contract, o, st) = a[0]
    assert contract.secType == "BAG" and o.orderRef == "icbot:2026-11-24:paper:stop" and st.status == "Filled"
    assert st.completedStatus == "Filled" and o.filledQuantity == 2.0
    assert w[0][0] == "completedOrder"
    a, w = decode_both(om.order_status(12, "Filled", 2, 0, -4.85, 1234567890, 0, -4.85, 31))
    assert a[0] == ("orderStatus", (12, "Filled", 2.0, 0.0, -4.85, 1234567890, 0, -4.85, 31, "", 0.0))
    assert w[0][1][1] == "Filled"


def test_executions_commissions_positions_portfolio(catalog):
    spec = catalog.market.find_option("P", 5940)
    assert spec is not None
    info = catalog.option_info(spec)
    for contract, side, price in ((_bag(catalog), "BOT", -4.85), (info, "SLD", 5.6)):
        fields = om.exec_details(
            -1, 12, contract, "0000abcd.00000001.01.01", "20261124 09:32:05 US/Eastern", "DU1234567", "CBOE",
            side, 1, price, 1234567890, 31, 1, price, "icbot:entry", 2,
        )  # fmt: skip
        a, w = decode_both(fields)
        _, (req_id, c, ex) = a[0]
        assert req_id == -1 and ex.side == side and ex.price == price and ex.orderRef == "icbot:entry"
        assert ex.time.tzinfo is not None and c.secType == contract.sec_type
        assert w[0][0] == "execDetails"
    a, w = decode_both(om.commission_report("0000abcd.00000001.02.01", 1.05, "USD", None))
    assert a[0][1][0].commission == 1.05 and w[0][0] == "commissionAndFeesReport"
    decode_both(om.commission_report("0000abcd.00000001.02.01", 1.05, "USD", -120.5))
    a, w = decode_both(msg.position("DU1234567", info, -1, 558.95))
    assert a[0][1][2:] == (-1.0, 558.95) and w[0][0] == "position"
    a, w = decode_both(msg.update_portfolio(info, -1, 5.5, -550.0, 558.95, 8.95, 0.0, "DU1234567"))
    assert a[0][0] == "updatePortfolio" and w[0][0] == "updatePortfolio"
