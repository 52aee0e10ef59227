"""The XSP (Mini-SPX) listing: an index at SPX / 10 and a 0DTE chain priced from the same path, a tenth of SPXW."""

from __future__ import annotations

import itertools
import math
from datetime import date, datetime

import pytest
from ib_async import Bag, ComboLeg, Index, LimitOrder, Option
from ib_async.wrapper import RequestError

from icbot.clock import NEW_YORK
from icbot.sim.conventions import XSP, option_con_id
from icbot.sim.fixture import SimGateway
from icbot.sim.market import Market, MarketParams
from tests.sim.helpers import SESSION, connect, run, wait_until

DAY = date(2026, 11, 24)


def et(h: int, m: int, s: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, h, m, s, tzinfo=NEW_YORK)


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(DAY)


INSTANTS = [et(9, 30, 1), et(9, 32), et(10, 17, 33), et(12, 0), et(15, 30), et(15, 59, 30)]


def test_xsp_index_is_spx_over_ten_on_its_penny_tick(market: Market) -> None:
    for t in [*INSTANTS, et(9, 0)]:
        assert market.xsp(t) == pytest.approx(market.spx(t) / 10, abs=0.0051)
        q = market.quote(Market.XSP_CON_ID, t)
        assert q.last == market.xsp(t) == round(q.last, 2)
    q = market.index_quote(Market.XSP_CON_ID, et(11, 0))
    assert q.close == 600.0 and math.isnan(q.bid) and q.low <= q.last <= q.high
    bars = market.bars(Market.XSP_CON_ID, "TRADES", et(9, 30), et(9, 40), et(9, 40))
    spx_bars = market.bars(Market.SPX_CON_ID, "TRADES", et(9, 30), et(9, 40), et(9, 40))
    assert len(bars) == len(spx_bars) == 10
    for x, s in zip(bars, spx_bars, strict=True):
        assert x.high == pytest.approx(s.high / 10, abs=0.0051) and x.low == pytest.approx(s.low / 10, abs=0.0051)


def test_xsp_chain_lists_one_point_strikes_named_as_ib_names_them(market: Market) -> None:
    strikes = market.strikes("XSP")
    assert strikes[0] == 540.0 and strikes[-1] == 660.0
    assert all(b - a == 1.0 for a, b in itertools.pairwise(strikes))
    xsp = market.options("XSP")
    assert len(xsp) == 2 * len(strikes)
    o = market.find_option("P", 600, "XSP")
    assert o is not None and o.local_symbol == "XSP   261124P00600000"
    assert (o.symbol, o.trading_class, o.multiplier, o.root) == ("XSP", "XSP", 100, XSP)
    assert o.con_id == option_con_id(DAY, "P", 600, XSP) and market.option(o.con_id) == o
    assert market.find_option("P", 600) is None, "SPX lists no 600 strike"
    spx_ids = {s.con_id for s in market.options()}
    xsp_ids = {s.con_id for s in xsp}
    assert not spx_ids & xsp_ids and len(market.all_options()) == len(spx_ids) + len(xsp_ids)
    assert Market.XSP_CON_ID not in xsp_ids and all(0 < i < 2**31 for i in xsp_ids)


def test_xsp_options_are_a_tenth_of_spxw_with_the_same_deltas(market: Market) -> None:
    """BS is homogeneous in (spot, strike): XSP at k prices like SPXW at 10·k, divided by ten."""
    compared = 0
    for t in INSTANTS:
        for k in range(560, 641, 5):
            for right in ("P", "C"):
                x, s = market.find_option(right, k, "XSP"), market.find_option(right, 10 * k)
                assert x is not None and s is not None
                gx, gs = market.greeks(x.con_id, t), market.greeks(s.con_id, t)
                # the XSP index is SPX / 10 rounded to 0.01 (half a cent at most): the price is a tenth within 0.006
                assert gx.opt_price == pytest.approx(gs.opt_price / 10, abs=0.006)
                assert gx.delta == pytest.approx(gs.delta, abs=0.01)
                assert gx.implied_vol == pytest.approx(gs.implied_vol, rel=1e-3)
                assert gx.und_price == market.xsp(t)
                q = market.quote(x.con_id, t)
                assert q.bid == round(q.bid, 2) and q.ask == round(q.ask, 2) and q.last == round(q.last, 2)
                assert q.bid <= gx.opt_price <= q.ask and q.ask - q.bid <= 0.12 + 1e-9
                compared += 1
    assert compared == len(INSTANTS) * 17 * 2
    # settlement at the close: intrinsic at the closing XSP level, a tenth of SPXW's
    close = et(16, 0)
    for k in (580, 600, 620):
        x, s = market.find_option("C", k, "XSP"), market.find_option("C", 10 * k)
        assert x is not None and s is not None
        assert market.settlement(x.con_id) == pytest.approx(market.settlement(s.con_id) / 10, abs=0.0051)
        assert market.settlement(x.con_id) == pytest.approx(max(0.0, market.xsp(close) - k), abs=1e-9)


def test_xsp_chain_follows_the_params() -> None:
    m = Market(DAY, MarketParams(spx_start=5000.0, xsp_strike_step=0.5, strike_range=0.02))
    strikes = m.strikes("XSP")
    assert strikes[0] == 490.0 and strikes[-1] == 510.0 and strikes[1] == 490.5
    assert len({o.con_id for o in m.options("XSP")}) == 2 * len(strikes)


def test_ib_async_sees_the_xsp_index_chain_and_trades_an_xsp_bag(sim_gateway: SimGateway) -> None:
    sim = sim_gateway

    async def go() -> None:
        ib = await connect(sim.host, sim.port)
        xsp = Index("XSP", "CBOE")
        await ib.qualifyContractsAsync(xsp)
        assert xsp.conId == Market.XSP_CON_ID and xsp.localSymbol == "XSP"
        chains = await ib.reqSecDefOptParamsAsync("XSP", "", "IND", xsp.conId)
        assert {(c.exchange, c.tradingClass) for c in chains} == {("SMART", "XSP"), ("CBOE", "XSP")}
        assert all(c.expirations == [SESSION] and 600.0 in c.strikes and 601.0 in c.strikes for c in chains)
        details = await ib.reqContractDetailsAsync(Option("XSP", SESSION, 600, "P", "SMART", tradingClass="XSP"))
        [d] = details
        assert d.contract is not None
        assert d.contract.localSymbol == "XSP   261124P00600000" and d.contract.tradingClass == "XSP"
        assert d.underConId == Market.XSP_CON_ID and d.underSymbol == "XSP" and d.minTick == 0.01
        with pytest.raises(RequestError) as err:  # an XSP strike asked for as SPXW does not exist
            await ib.reqContractDetailsAsync(Option("XSP", SESSION, 600, "P", "SMART", tradingClass="SPXW"))
        assert err.value.code == 200
        spx_only = await ib.reqContractDetailsAsync(Option("SPX", SESSION, 6000, "P", "SMART", tradingClass="SPXW"))
        assert [x.contract.symbol if x.contract else None for x in spx_only] == ["SPX"]

        legs = []
        for k, right in ((590, "P"), (592, "P"), (608, "C"), (610, "C")):
            opt = Option("XSP", SESSION, k, right, "SMART", tradingClass="XSP")
            await ib.qualifyContractsAsync(opt)
            legs.append(opt)
        actions = ("BUY", "SELL", "SELL", "BUY")
        combo_legs = [
            ComboLeg(conId=o.conId, ratio=1, action=a, exchange="SMART") for o, a in zip(legs, actions, strict=True)
        ]
        # a BAG must name its legs' underlying: XSP legs in an "SPX" BAG are refused
        wrong = ib.placeOrder(
            Bag(symbol="SPX", exchange="SMART", currency="USD", comboLegs=combo_legs), LimitOrder("BUY", 1, 1.0)
        )
        assert await wait_until(lambda: any(e.errorCode == 200 for e in wrong.log))
        bag = Bag(symbol="XSP", exchange="SMART", currency="USD", comboLegs=combo_legs)
        off_grid = ib.placeOrder(bag, LimitOrder("BUY", 1, -0.333))
        assert await wait_until(lambda: any(e.errorCode == 110 for e in off_grid.log))
        trade = ib.placeOrder(bag, LimitOrder("BUY", 1, 0.5))  # a marketable debit limit: fills at the natural
        assert await wait_until(lambda: trade.orderStatus.status == "Filled", 10)
        assert -2.0 < trade.orderStatus.avgFillPrice < 0, "an iron condor bought at the natural is a credit"
        ib.disconnect()

    run(go())
    [filled] = [o for o in sim.sim.orders() if o.status == "Filled"]
    assert filled.info.symbol == "XSP" and filled.info.sec_type == "BAG"
    held = sim.sim.positions()
    assert sorted(p.local_symbol for p in held.values()) == sorted(
        f"XSP   261124{r}{k * 1000:08d}" for r, k in (("P", 590), ("P", 592), ("C", 608), ("C", 610))
    )
    margin = sim.sim.account_values()["InitMarginReq"]
    assert 0 < margin <= 2 * 100, "the 2-point XSP condor risks at most 2 points × 100"
