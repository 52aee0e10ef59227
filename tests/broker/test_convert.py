"""convert.py against REAL ib_async objects (Contract, Order, Trade, Fill, Ticker): no mocks."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest
from ib_async import Bag, Contract, Index, Option, Order, OrderStatus, Ticker, Trade
from ib_async import ComboLeg as IbComboLeg
from ib_async.objects import AccountValue, BarData, CommissionReport, Execution, Fill, OptionComputation, TradeLogEntry
from ib_async.objects import Position as IbPosition
from ib_async.util import UNSET_DOUBLE, UNSET_INTEGER

from icbot.broker import convert
from icbot.broker.types import ComboLeg, ComboOrder, QualifiedOption

T0 = datetime(2026, 11, 24, 14, 32, tzinfo=UTC)
LEGS = (
    ComboLeg(101, "BUY", "P", 5900.0, "SPXW  261124P05900000"),
    ComboLeg(102, "SELL", "P", 5920.0, "SPXW  261124P05920000"),
    ComboLeg(201, "SELL", "C", 6080.0, "SPXW  261124C06080000"),
    ComboLeg(202, "BUY", "C", 6100.0, "SPXW  261124C06100000"),
)


def _order(**kw) -> ComboOrder:
    base = dict(legs=LEGS, action="BUY", quantity=1, order_type="LMT", order_ref="icbot:2026-11-24:paper:entry")
    base.update(kw)
    return ComboOrder(**base)  # type: ignore[arg-type]


def test_num_turns_every_ib_sentinel_into_none():
    for v in (None, "", float("nan"), UNSET_DOUBLE, "1.7976931348623157E308", UNSET_INTEGER, math.inf, "abc"):
        assert convert.num(v) is None, v
    assert convert.num("-2.5") == -2.5
    assert convert.num(0) == 0.0
    assert convert.quote_price(-1) is None
    assert convert.quote_price(0.0) == 0.0


def test_bag_contract_is_a_smart_spx_combo_of_ratio_one_legs():
    bag = convert.to_ib_bag(LEGS)
    assert isinstance(bag, Bag)
    assert (bag.secType, bag.symbol, bag.exchange, bag.currency) == ("BAG", "SPX", "SMART", "USD")
    assert [(leg.conId, leg.ratio, leg.action, leg.exchange) for leg in bag.comboLegs] == [
        (101, 1, "BUY", "SMART"),
        (102, 1, "SELL", "SMART"),
        (201, 1, "SELL", "SMART"),
        (202, 1, "BUY", "SMART"),
    ]


def test_entry_is_a_buy_at_a_negative_limit_with_ref_and_account():
    o = convert.to_ib_order(_order(limit_price=-4.85), account="DU123")
    assert (o.action, o.orderType, o.totalQuantity, o.lmtPrice) == ("BUY", "LMT", 1.0, -4.85)
    assert o.auxPrice == UNSET_DOUBLE  # not 0: 0 would be a real price
    assert (o.orderRef, o.account, o.tif, o.transmit) == ("icbot:2026-11-24:paper:entry", "DU123", "DAY", True)
    assert o.ocaGroup == "" and o.goodAfterTime == ""


def test_stop_sets_aux_price_trigger_method_and_oca():
    o = convert.to_ib_order(
        _order(action="SELL", order_type="STP", aux_price=-15.0, trigger_method=8, oca_group="g1", oca_type=1),
        account="DU1",
    )
    assert (o.orderType, o.auxPrice, o.triggerMethod, o.ocaGroup, o.ocaType) == ("STP", -15.0, 8, "g1", 1)
    assert o.lmtPrice == UNSET_DOUBLE


def test_oca_type_defaults_to_cancel_with_block():
    o = convert.to_ib_order(_order(limit_price=-1.0, oca_group="g"), account="DU1")
    assert o.ocaType == 1


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (datetime(2026, 11, 24, 16, 30, tzinfo=UTC), "20261124 11:30:00 US/Eastern"),  # EST, UTC−5
        (datetime(2026, 7, 15, 15, 30, tzinfo=UTC), "20260715 11:30:00 US/Eastern"),  # EDT, UTC−4
    ],
)
def test_time_exit_good_after_time_is_new_york_wall_time_with_explicit_zone(utc, expected):
    o = convert.to_ib_order(_order(action="SELL", order_type="MKT", good_after=utc), account="DU1")
    assert o.goodAfterTime == expected
    assert o.lmtPrice == UNSET_DOUBLE and o.auxPrice == UNSET_DOUBLE


@pytest.mark.parametrize(
    "kw",
    [
        dict(order_type="LMT", limit_price=None),
        dict(order_type="STP", aux_price=None),
        dict(limit_price=-1.0, quantity=0),
        dict(limit_price=-1.0, order_ref=""),
        dict(order_type="MKT", good_after=datetime(2026, 11, 24, 11, 30)),
    ],
)
def test_malformed_orders_are_refused_before_anything_is_sent(kw):
    with pytest.raises(ValueError):
        convert.to_ib_order(_order(**kw), account="DU1")


def _trade(status="Submitted", log=(), **order_kw) -> Trade:
    order = Order(
        orderId=7,
        clientId=31,
        permId=9001,
        action="BUY",
        totalQuantity=2.0,
        orderType="LMT",
        lmtPrice=-4.8,
        orderRef="icbot:2026-11-24:paper:entry",
        ocaGroup="",
        **order_kw,
    )
    st = OrderStatus(orderId=7, status=status, filled=0.0, remaining=2.0, permId=9001)
    entries = [TradeLogEntry(T0, s, msg, code) for s, msg, code in log]
    return Trade(convert.to_ib_bag(LEGS), order, st, [], entries)


def test_trade_becomes_order_state_with_legs_described_by_known_options():
    known = {leg.con_id: QualifiedOption(leg.con_id, leg.local_symbol, leg.right, leg.strike) for leg in LEGS}
    s = convert.from_ib_trade(_trade(log=[("PendingSubmit", "", 0), ("Submitted", "", 0)]), known=known)
    assert (s.order_id, s.perm_id, s.status, s.limit_price, s.aux_price) == (7, 9001, "Submitted", -4.8, None)
    assert (s.quantity, s.filled, s.remaining, s.avg_fill_price, s.oca_group) == (2.0, 0.0, 2.0, None, None)
    assert s.is_working and not s.is_done and not s.is_filled
    assert s.legs == LEGS


def test_unknown_legs_are_marked_not_invented():
    s = convert.from_ib_trade(_trade(log=[("Submitted", "", 0)]))
    assert s.legs is not None and [leg.right for leg in s.legs] == ["?"] * 4
    assert [leg.con_id for leg in s.legs] == [101, 102, 201, 202]


def test_validation_warning_is_not_a_status():
    t = _trade(
        status="ValidationError",
        log=[("PendingSubmit", "", 0), ("PreSubmitted", "", 0), ("ValidationError", "Warning 399", 399)],
    )
    assert convert.effective_status(t) == "PreSubmitted"
    assert convert.from_ib_trade(t).last_error == "399 Warning 399"


def test_local_cancel_after_a_refused_change_is_not_believed():
    # ib_async marks a trade Cancelled on error 104 (modify refused) although the order still works.
    t = _trade(status="Cancelled", log=[("PendingSubmit", "", 0), ("Submitted", "", 0), ("Cancelled", "104", 104)])
    assert convert.effective_status(t) == "Submitted"


def test_cancel_confirmation_202_and_a_rejected_placement_201_are_final():
    t = _trade(status="Cancelled", log=[("Submitted", "", 0), ("PendingCancel", "", 0), ("Cancelled", "202", 202)])
    assert convert.effective_status(t) == "Cancelled"
    t = _trade(status="Cancelled", log=[("PendingSubmit", "", 0), ("Cancelled", "201 rejected", 201)])
    assert convert.effective_status(t) == "Cancelled"
    t = _trade(status="Cancelled", log=[("PendingSubmit", "", 0), ("Submitted", "", 0), ("Cancelled", "201", 201)])
    assert convert.effective_status(t) == "Submitted"


def test_a_fill_that_raced_the_cancel_wins():
    t = _trade(status="Filled", log=[("Submitted", "", 0), ("PendingCancel", "", 0), ("Filled", "", 0)])
    t.orderStatus.filled, t.orderStatus.remaining, t.orderStatus.avgFillPrice = 2.0, 0.0, -4.85
    s = convert.from_ib_trade(t)
    assert s.is_filled and s.is_done and (s.filled, s.remaining, s.avg_fill_price) == (2.0, 0.0, -4.85)


def test_order_learnt_from_open_order_has_no_log_but_a_real_status():
    t = _trade(status="PreSubmitted")
    t.orderStatus.remaining = 0.0
    s = convert.from_ib_trade(t)
    assert s.status == "PreSubmitted" and s.remaining == 2.0  # no orderStatus yet: nothing known filled


def test_completed_order_carries_its_fill_on_the_order():
    t = _trade(status="Filled", filledQuantity=2.0)
    t.orderStatus.remaining = 0.0
    s = convert.from_ib_trade(t)
    assert (s.status, s.filled, s.remaining) == ("Filled", 2.0, 0.0)


def test_stop_order_state_reports_the_stop_price_not_a_limit():
    t = _trade(log=[("PreSubmitted", "", 0)])
    t.order.orderType, t.order.auxPrice, t.order.lmtPrice, t.order.ocaGroup = "STP", -15.0, 0.0, "oca"
    s = convert.from_ib_trade(t)
    assert (s.order_type, s.aux_price, s.limit_price, s.oca_group) == ("STP", -15.0, None, "oca")


def _fill(contract: Contract, *, commission: float | None, time=T0) -> Fill:
    ex = Execution(
        execId="0001.01",
        time=time,
        acctNumber="DU1",
        side="SLD",
        shares=1.0,
        price=3.1,
        permId=9001,
        clientId=31,
        orderId=7,
        orderRef="icbot:x",
    )
    report = CommissionReport() if commission is None else CommissionReport("0001.01", commission, "USD")
    return Fill(contract, ex, report, time)


def test_leg_fill_with_commission():
    opt = Option("SPX", "20261124", 5920.0, "P", "SMART", conId=102, localSymbol="SPXW  261124P05920000")
    e = convert.from_ib_fill(_fill(opt, commission=1.05))
    assert (e.sec_type, e.right, e.strike, e.side, e.shares, e.price) == ("OPT", "P", 5920.0, "SLD", 1.0, 3.1)
    assert (e.con_id, e.local_symbol, e.order_ref, e.commission, e.at) == (
        102,
        "SPXW  261124P05920000",
        "icbot:x",
        1.05,
        T0,
    )


def test_commission_not_yet_reported_is_none_not_zero():
    bag = Contract(secType="BAG", conId=28812380, symbol="SPX", right="?")
    e = convert.from_ib_fill(_fill(bag, commission=None, time=datetime(2026, 11, 24, 9, 32)))
    assert e.commission is None and e.sec_type == "BAG" and e.right is None and e.strike is None
    assert e.at.tzinfo is not None


def test_position_with_expiry_and_multiplied_avg_cost():
    opt = Option("SPX", "20261124", 6080.0, "C", "SMART", conId=201, localSymbol="SPXW  261124C06080000")
    p = convert.from_ib_position(IbPosition("DU1", opt, -1.0, 310.0))
    assert (p.con_id, p.sec_type, p.right, p.strike, p.expiry, p.quantity, p.avg_cost) == (
        201,
        "OPT",
        "C",
        6080.0,
        date(2026, 11, 24),
        -1.0,
        310.0,
    )


def test_quote_from_ticker_scrubs_missing_sides_and_keeps_the_signed_delta():
    opt = Option("SPX", "20261124", 5920.0, "P", "SMART", conId=102, localSymbol="SPXW  261124P05920000")
    t = Ticker(contract=opt)
    q = convert.quote_from_ticker(t, "P", 5920.0)
    assert (q.bid, q.ask, q.delta, q.implied_vol, q.mid) == (None, None, None, None, None)
    t.bid, t.ask = -1.0, 3.2
    t.modelGreeks = OptionComputation(0, impliedVol=0.18, delta=-0.152, undPrice=6001.5)
    q = convert.quote_from_ticker(t, "P", 5920.0)
    assert (q.con_id, q.bid, q.ask, q.delta, q.implied_vol, q.und_price) == (102, None, 3.2, -0.152, 0.18, 6001.5)
    t.bid = 3.0
    assert convert.quote_from_ticker(t, "P", 5920.0).mid == pytest.approx(3.1)


def test_index_price_prefers_last_then_close():
    t = Ticker(contract=Index("SPX", "CBOE", "USD", conId=416904))
    assert convert.index_price(t) is None
    t.close = 5990.0
    assert convert.index_price(t) == 5990.0
    t.last = 6001.25
    assert convert.index_price(t) == 6001.25


def test_account_values_prefer_usd_and_ignore_other_accounts():
    vals = [
        AccountValue("DU1", "NetLiquidation", "100000.5", "BASE", ""),
        AccountValue("DU1", "NetLiquidation", "101000", "USD", ""),
        AccountValue("DU1", "AvailableFunds", "80000", "USD", ""),
        AccountValue("DU2", "BuyingPower", "1", "USD", ""),
        AccountValue("DU1", "BuyingPower", "", "USD", ""),
    ]
    v = convert.account_values_from(vals, "DU1")
    assert (v.account, v.net_liquidation, v.available_funds, v.buying_power) == ("DU1", 101000.0, 80000.0, None)


def test_bars_naive_times_are_new_york_and_aware_times_are_kept():
    bars = [
        BarData(date=datetime(2026, 11, 24, 9, 31), open=1.0, high=1.2, low=0.9, close=1.1),
        BarData(date=datetime(2026, 11, 24, 14, 32, tzinfo=UTC), open=1.1, high=1.1, low=1.0, close=1.05),
    ]
    out = convert.bars_from_ib(bars)
    assert out[0] == (datetime(2026, 11, 24, 14, 31, tzinfo=UTC), 1.0, 1.2, 0.9, 1.1)
    assert out[1][0] == T0


def test_legs_of_a_bag_only():
    assert convert.legs_of(Option("SPX", "20261124", 1.0, "P", "SMART")) is None
    bag = Bag(symbol="SPX", comboLegs=[IbComboLeg(conId=5, ratio=1, action="SELL", exchange="SMART")])
    assert convert.legs_of(bag) == (ComboLeg(5, "SELL", "?", 0.0, "5"),)
