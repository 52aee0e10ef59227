"""The order engine at explicit virtual instants: fill rules, stops, goodAfterTime, OCA, partial fills, determinism."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from icbot.clock import NEW_YORK
from icbot.sim.account import expiry_margin
from icbot.sim.engine import Engine, EngineParams
from icbot.sim.fills import FillParams, is_marketable, limit_fill_probability, split_leg_prices, stop_triggered
from icbot.sim.market import Market, Quote
from icbot.sim.requests import ContractReq, LegReq, OrderReq

DAY = date(2026, 11, 24)
IC = (("P", 5920, "BUY"), ("P", 5940, "SELL"), ("C", 6065, "SELL"), ("C", 6085, "BUY"))


def at(hh: int, mm: int, ss: float = 0) -> datetime:
    return datetime(2026, 11, 24, hh, mm, tzinfo=NEW_YORK) + timedelta(seconds=ss)


def engine(seed: int = 7) -> Engine:
    e = Engine(Market(DAY), EngineParams(seed=seed))
    e.advance(at(9, 31))
    return e


def ic_order(e: Engine, order_id: int, action: str, order_type: str, **kw: object) -> OrderReq:
    legs = []
    for right, strike, leg_action in IC:
        spec = e.market.find_option(right, strike)
        assert spec is not None
        legs.append(LegReq(spec.con_id, 1, leg_action, "SMART"))
    contract = ContractReq(symbol="SPX", sec_type="BAG", exchange="SMART", currency="USD", legs=legs)
    base = OrderReq(
        order_id, contract, action, 1.0, order_type, None, None, "DAY", "", "", "O", 0, "", True, 0, 0, False
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def combo(e: Engine, t: datetime) -> Quote:
    o = ic_order(e, 0, "BUY", "LMT")
    legs = [(leg.con_id, 1 if leg.action == "BUY" else -1) for leg in o.contract.legs]
    return e.market.combo_quote(legs, t)


def test_a_marketable_buy_fills_at_once_at_the_natural_with_leg_executions():
    e = engine()
    t = at(9, 32, 0.25)
    q = combo(e, t)
    e.place(1, ic_order(e, 10, "BUY", "LMT", lmt_price=q.ask + 1.0), t)
    o = e.orders[(1, 10)]
    assert o.status == "Filled" and o.avg_price == pytest.approx(q.ask)
    assert len(e.executions) == 5
    bag, *legs = e.executions
    assert bag.contract.sec_type == "BAG" and bag.commission is None and bag.time == t
    assert sum((1 if x.side == "BOT" else -1) * x.price for x in legs) == pytest.approx(bag.price)
    assert [x.commission for x in legs] == [1.05] * 4
    assert sorted(p.qty for p in e.ledger.positions.values()) == [-1, -1, 1, 1]
    assert e.account_values(t)["MaintMarginReq"] == 2000.0
    assert e.ledger.cash == pytest.approx(100_000 - q.ask * 100 - 4.2)


def test_fill_probability_rises_from_the_mid_to_the_natural_and_is_zero_on_the_passive_side():
    q = Quote(bid=-6.0, ask=-5.0, bid_size=10, ask_size=10, last=-5.5, close=-5.5)
    p = FillParams(p_mid=0.02, p_near=0.6, shape=2.0)
    assert limit_fill_probability("BUY", -5.5, q, p) == pytest.approx(0.02)
    assert limit_fill_probability("BUY", -5.25, q, p) == pytest.approx(0.02 + 0.58 * 0.25)
    assert limit_fill_probability("BUY", -5.6, q, p) == 0.0
    assert limit_fill_probability("SELL", -5.5, q, p) == pytest.approx(0.02)
    assert limit_fill_probability("SELL", -5.4, q, p) == 0.0
    assert is_marketable("BUY", -5.0, q) and not is_marketable("BUY", -5.05, q)
    assert is_marketable("SELL", -6.0, q) and not is_marketable("SELL", -5.95, q)


def test_a_limit_at_the_mid_fills_sometimes_not_always():
    filled = 0
    for seed in range(24):
        e = engine(seed)
        t = at(9, 32)
        q = combo(e, t)
        mid = round(round((q.bid + q.ask) / 2 / 0.05) * 0.05, 2)
        e.place(1, ic_order(e, 10, "BUY", "LMT", lmt_price=mid), t)
        e.advance(t + timedelta(seconds=30))
        filled += e.orders[(1, 10)].status == "Filled"
    assert 0 < filled < 24


def test_far_beyond_the_mid_never_fills():
    e = engine()
    t = at(9, 32)
    q = combo(e, t)
    e.place(1, ic_order(e, 10, "BUY", "LMT", lmt_price=round(q.bid - 3.0, 2)), t)
    e.advance(t + timedelta(minutes=5))
    assert e.orders[(1, 10)].status == "Submitted" and not e.executions


def test_quantity_above_one_fills_in_parts():
    split = 0
    for seed in range(8):
        e = engine(seed)
        t = at(9, 32)
        q = combo(e, t)
        limit = round(round((q.bid + (q.ask - q.bid) * 0.8) / 0.05) * 0.05, 2)
        e.place(1, ic_order(e, 10, "BUY", "LMT", lmt_price=limit, total_qty=10.0), t)
        e.advance(t + timedelta(minutes=10))
        bag_execs = [x for x in e.executions if x.contract.sec_type == "BAG"]
        if e.orders[(1, 10)].filled == 10:
            assert sum(x.shares for x in bag_execs) == 10 and bag_execs[-1].cum_qty == 10
        split += len(bag_execs) > 1
    assert split >= 2


def test_good_after_time_holds_the_order_until_its_time():
    e = engine()
    e.place(1, ic_order(e, 10, "BUY", "LMT", lmt_price=-2.0), at(9, 32))
    e.place(1, ic_order(e, 11, "SELL", "MKT", good_after_time="20261124 11:30:00 US/Eastern"), at(9, 33))
    o = e.orders[(1, 11)]
    warnings = [out.fields for out in e.outbox if out.fields[:1] == [4] and out.fields[3] == 399]
    assert o.status == "PreSubmitted" and warnings and "11:30:00" in str(warnings[0][4])
    e.advance(at(11, 29, 59))
    assert o.status == "PreSubmitted"
    e.advance(at(11, 30, 1))
    assert o.status == "Filled" and o.done_at == at(11, 30)


@pytest.mark.parametrize(
    ("method", "bid", "ask", "last", "prev", "fires"),
    [
        (8, -15.5, -14.0, -14.0, False, True),  # midpoint -14.75 ≤ -14.5
        (8, -15.0, -15.0 + 1.2, -14.0, False, False),  # midpoint -14.4 above the stop
        (4, -14.6, -13.0, -13.0, False, True),  # a sell stop watches the bid
        (1, -14.6, -13.0, -13.0, False, False),  # double bid/ask needs two seconds ...
        (1, -14.6, -13.0, -13.0, True, True),  # ... and fires on the second
        (2, -16.0, -15.0, -14.0, False, False),  # last only
        (0, -16.0, -15.0, -14.6, False, True),  # default for a combo is last
        (7, -14.0, -13.0, -14.6, False, True),  # last or bid/ask
    ],
)
def test_sell_stop_trigger_methods(method, bid, ask, last, prev, fires):
    q = Quote(bid, ask, 5, 5, last, -5.0)
    assert stop_triggered("SELL", -14.5, method, q, True, prev)[0] is fires


def test_oca_type_1_cancels_the_siblings_when_one_fills():
    e = engine()
    t = at(9, 32)
    q = combo(e, t)
    e.place(1, ic_order(e, 10, "BUY", "LMT", lmt_price=q.ask), t)
    group = dict(oca_group="g1", oca_type=1)
    e.place(1, ic_order(e, 11, "SELL", "STP", aux_price=-19.5, trigger_method=8, **group), t)
    e.place(1, ic_order(e, 12, "SELL", "MKT", good_after_time="20261124 11:30:00 US/Eastern", **group), t)
    e.place(1, ic_order(e, 13, "SELL", "LMT", lmt_price=round(q.bid - 2, 2), **group), t + timedelta(seconds=1))
    assert e.orders[(1, 13)].status == "Filled"
    assert e.orders[(1, 11)].status == "Cancelled" and e.orders[(1, 12)].status == "Cancelled"
    assert e.orders[(1, 11)].completed_status == "Cancelled by OCA"
    assert all(p.qty == 0 for p in e.ledger.positions.values())
    assert e.ledger.realized() != 0.0


def test_oca_type_2_reduces_the_siblings():
    e = engine()
    t = at(9, 32)
    q = combo(e, t)
    e.place(1, ic_order(e, 10, "BUY", "LMT", lmt_price=q.ask, total_qty=2.0), t)
    group = dict(oca_group="g2", oca_type=2)
    e.place(1, ic_order(e, 11, "SELL", "STP", aux_price=-19.5, total_qty=2.0, **group), t)
    e.place(1, ic_order(e, 12, "SELL", "LMT", lmt_price=round(q.bid - 2, 2), total_qty=1.0, **group), t)
    assert e.orders[(1, 12)].status == "Filled"
    assert e.orders[(1, 11)].req.total_qty == 1.0 and e.orders[(1, 11)].status == "PreSubmitted"


def test_working_orders_expire_at_the_close_and_new_ones_are_refused():
    e = engine()
    e.place(1, ic_order(e, 10, "BUY", "LMT", lmt_price=-30.0), at(15, 59))
    e.advance(at(16, 0, 1))
    assert e.orders[(1, 10)].status == "Cancelled"
    e.outbox.clear()
    e.place(1, ic_order(e, 11, "BUY", "LMT", lmt_price=-30.0), at(16, 1))
    assert (1, 11) not in e.orders
    assert any(out.fields[:1] == [4] and out.fields[3] == 201 for out in e.outbox)


def test_modify_cancel_and_their_errors():
    e = engine()
    t = at(9, 32)
    e.place(1, ic_order(e, 10, "BUY", "LMT", lmt_price=-30.0), t)
    e.place(1, ic_order(e, 10, "BUY", "LMT", lmt_price=-29.0), t + timedelta(seconds=1))
    assert e.orders[(1, 10)].req.lmt_price == -29.0
    e.cancel(1, 10, t + timedelta(seconds=2))
    assert e.orders[(1, 10)].status == "Cancelled"
    e.outbox.clear()
    e.cancel(1, 10, t + timedelta(seconds=3))
    e.cancel(1, 99, t + timedelta(seconds=3))
    assert [out.fields[3] for out in e.outbox] == [10148, 10147]


def run_day(seed: int) -> list[tuple[object, ...]]:
    e = engine(seed)
    t = at(9, 32)
    q = combo(e, t)
    mid = round(round((q.bid + q.ask) / 2 / 0.05) * 0.05, 2)
    for k in range(4):  # a ladder from the mid toward the natural, one rung every 5 s
        e.place(
            1,
            ic_order(e, 10, "BUY", "LMT", lmt_price=round(mid + 0.05 * k, 2), total_qty=3.0),
            t + timedelta(seconds=5 * k),
        )
    e.place(1, ic_order(e, 11, "SELL", "LMT", lmt_price=-1.0, total_qty=3.0), at(9, 40))
    e.advance(at(12, 0))
    return [(x.exec_id, x.time, x.price, x.shares, x.side) for x in e.executions]


def test_same_seed_same_fills_and_a_different_seed_differs():
    assert run_day(7) == run_day(7)
    assert run_day(7) != run_day(8)


def test_expiry_margin_of_an_iron_condor_is_the_wider_wing():
    m = Market(DAY)
    specs = [m.find_option(r, k) for r, k, _ in IC]
    assert all(specs)
    holdings = [(s, q) for s, q in zip(specs, (1, -1, -1, 1), strict=True)]
    assert expiry_margin(holdings) == 2000.0  # type: ignore[arg-type]
    assert expiry_margin([(s, 2 * q) for s, q in holdings]) == 4000.0  # type: ignore[arg-type,misc]


@given(
    st.lists(st.tuples(st.sampled_from([1, -1]), st.integers(5, 2000), st.integers(0, 60)), min_size=1, max_size=4),
    st.sampled_from(["BUY", "SELL"]),
    st.integers(-300, 300),
)
def test_leg_prices_always_sum_to_the_combo_price(legs, action, improvement_cents):
    ratios = [r for r, _, _ in legs]
    quotes = [Quote((c - w) / 100 if c > w else 0.0, c / 100, 1, 1, c / 100, c / 100) for _, c, w in legs]
    sign = 1 if action == "BUY" else -1
    natural = sum(r * (q.ask if r * sign > 0 else q.bid) for r, q in zip(ratios, quotes, strict=True))
    target = round(natural - sign * improvement_cents / 100, 2)
    # every leg trades at 0.01 or more, so all-BUY legs cannot sum below 0.01 each (all-SELL: above -0.01 each)
    assume(not all(r > 0 for r in ratios) or target >= 0.01 * len(ratios))
    assume(not all(r < 0 for r in ratios) or target <= -0.01 * len(ratios))
    prices = split_leg_prices(ratios, quotes, action, target)
    assert all(p >= 0.01 for p in prices)
    assert round(sum(r * p for r, p in zip(ratios, prices, strict=True)), 2) == pytest.approx(target)
