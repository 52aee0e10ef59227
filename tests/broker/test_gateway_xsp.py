"""strategy.symbol XSP / trading_class XSP through the real broker layer: real ib_async, loopback, the simulator.

The configured product is the traded product: the index line, reqSecDefOptParams, every option lookup, the chain
that streams greeks and the BAG that fills all name XSP, and the simulator's own books agree.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from icbot.broker.band import OPTION_LINES
from icbot.broker.errors import BrokerError
from icbot.broker.market import MAX_LINES
from icbot.config import StrategyConfig, StrikesConfig
from icbot.core.products import XSP
from icbot.core.strikes import Condor, select_condor
from icbot.sim.fixture import SimGateway
from tests.broker.helpers import connect, entry, run, session_date

pytestmark = pytest.mark.e2e

XSP_STRATEGY = StrategyConfig(symbol="XSP", trading_class="XSP", combo_tick=0.01)


def test_xsp_config_lists_streams_qualifies_and_fills_an_xsp_condor(sim_gateway: SimGateway) -> None:
    sim = sim_gateway
    day = session_date(sim)

    async def go() -> tuple[Any, ...]:
        gw = await connect(sim, strategy=XSP_STRATEGY)
        assert gw.product == XSP
        xsp = await gw.index_price()
        assert xsp is not None and 500 < xsp < 700
        assert await gw.spx_price() == pytest.approx(xsp, abs=1.0), "the old name reads the configured underlying"
        spx_now = sim.sim.call(lambda s: s.market.spx(s.clock.now()))
        assert xsp == pytest.approx(spx_now / 10, abs=0.5)

        listed = await gw.list_strikes(day)
        assert len(listed) > 100 and all(b - a == 1.0 for a, b in itertools.pairwise(listed))
        assert listed[0] <= xsp - 20 and listed[-1] >= xsp + 20
        assert await gw.strikes_from_secdef(day) == listed

        vix = await gw.vix()
        assert vix is not None and 5 < vix < 80, "VIX stays the VIX"
        band = gw.band_strikes(xsp, listed, vol=vix / 100, wing=2.0)
        assert 20 <= len(band) <= OPTION_LINES and all(k in listed for k in band)
        await gw.stream_chain(day, band)
        assert gw.lines_in_use <= MAX_LINES
        snap = await gw.wait_for_greeks(min_per_side=10, timeout=120)
        assert snap.underlying is not None and abs(snap.underlying - xsp) < 5
        assert all(q.local_symbol.startswith("XSP   ") for q in snap.quotes.values())
        puts, calls = snap.abs_delta_points("P"), snap.abs_delta_points("C")
        assert any(10 <= d <= 16.9 for d in puts.values()) and any(10 <= d <= 16.9 for d in calls.values())

        condor = select_condor(puts, calls, listed, StrikesConfig(wing_width=2.0))
        assert isinstance(condor, Condor), condor
        assert condor.long_put == condor.short_put - 2 and condor.long_call == condor.short_call + 2
        wanted = (
            ("P", condor.long_put, "BUY"),
            ("P", condor.short_put, "SELL"),
            ("C", condor.short_call, "SELL"),
            ("C", condor.long_call, "BUY"),
        )
        legs = tuple([(await gw.qualify_option(day, r, k)).leg(a) for r, k, a in wanted])
        assert all(leg.local_symbol.startswith("XSP   ") for leg in legs)
        with pytest.raises(BrokerError, match=r"XSP .* 602\.5P is not listed"):
            await gw.qualify_option(day, "P", 602.5)

        margin = await gw.what_if_margin(entry(legs, -0.01, role="probe"))
        placed = await gw.place(entry(legs, 0.50))  # a debit limit is marketable: fills at the natural credit
        filled = await gw.wait_status(placed.order_id, {"Filled"}, timeout=30)
        execs = await gw.executions(day)
        positions = await gw.positions()
        start = sim.clock.now() - timedelta(minutes=2)
        span = await gw.underlying_range(start, sim.clock.now())
        mapped = await gw.index_range("SPX", start, sim.clock.now())
        await gw.close()
        return legs, margin, filled, execs, positions, span, mapped

    legs, margin, filled, execs, positions, span, mapped = run(go())

    assert filled.is_filled and filled.filled == 1
    assert filled.avg_fill_price is not None and -2.0 < filled.avg_fill_price < 0, "a credit, in XSP points"
    assert margin is not None and 0 < margin <= 2 * 100
    # the simulator's books: the BAG named XSP, the legs XSP options, all asked for by symbol XSP / class XSP
    [order] = [o for o in sim.sim.orders() if o.req.order_ref.endswith(":entry")]
    assert order.req.contract.symbol == "XSP" and order.info.symbol == "XSP" and order.info.sec_type == "BAG"
    assert {c for c, _ in order.legs} == {leg.con_id for leg in legs}
    secdef = sim.sim.requests("reqSecDefOptParams")
    assert secdef and all(r.fields[2] == "XSP" for r in secdef)
    details = [r.fields for r in sim.sim.requests("reqContractDetails")]
    assert details and all("SPX" not in f and "SPXW" not in f for f in details)
    assert any("XSP" in f for f in details)
    # executions and positions: XSP legs only
    mine = [e for e in execs if e.order_id == filled.order_id]
    assert sorted(e.sec_type for e in mine) == ["BAG", "OPT", "OPT", "OPT", "OPT"]
    assert all(e.local_symbol.startswith("XSP   ") for e in mine if e.sec_type == "OPT")
    held = {p.con_id: p.quantity for p in positions}
    assert held == {leg.con_id: (1.0 if leg.action == "BUY" else -1.0) for leg in legs}
    # the underlying's range is XSP's, whichever name asks
    assert span is not None and 500 < span[0] <= span[1] < 700
    assert mapped == span


def test_spx_stays_the_default_product(sim_gateway: SimGateway) -> None:
    async def go() -> tuple[Any, ...]:
        gw = await connect(sim_gateway)
        listed = await gw.list_strikes(session_date(sim_gateway))
        level = await gw.index_price()
        product = gw.product
        await gw.close()
        return product, listed, level

    product, listed, level = run(go())
    assert product.pair == "SPX/SPXW"
    assert all(b - a == 5.0 for a, b in itertools.pairwise(listed)) and level is not None and level > 5000


def test_a_pair_icbot_does_not_trade_is_refused_before_connecting(sim_gateway: SimGateway) -> None:
    with pytest.raises(ValueError, match="XSP/SPXW is not a product icbot trades"):
        run(connect(sim_gateway, strategy=StrategyConfig(symbol="XSP", trading_class="SPXW")))
    assert not sim_gateway.sim.requests("startApi")
