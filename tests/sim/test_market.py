"""The simulator's market model: determinism, the chain, prices, greeks, quotes and bars."""

from __future__ import annotations

import itertools
import math
import statistics
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icbot.clock import NEW_YORK
from icbot.sim import blackscholes as bs
from icbot.sim.market import (
    SECONDS_PER_YEAR,
    TRADING_SECONDS_PER_YEAR,
    Market,
    MarketDataError,
    MarketParams,
    OptionSpec,
    _day,
    bid_ask,
    ceil_tick,
    floor_tick,
    local_symbol,
    option_tick,
    round_tick,
)

DAY = date(2026, 11, 24)  # a Tuesday, regular session


def et(h: int, m: int, s: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, h, m, s, tzinfo=NEW_YORK)


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(DAY)


def on_grid(price: float) -> bool:
    tick = option_tick(price)
    return abs(price / tick - round(price / tick)) < 1e-6


def side(m: Market, right: str) -> list[OptionSpec]:
    return [o for o in m.options() if o.right == right]


def closest_to_15(m: Market, right: str, t: datetime) -> tuple[float, float]:
    """Strike and |delta| in points nearest 15 within [10, 16.9] (docs/strategy.md §3's rule without the tie nuance)."""
    cands = [(o.strike, abs(m.greeks(o.con_id, t).delta) * 100) for o in side(m, right)]
    ok = [(k, d) for k, d in cands if 10.0 <= d <= 16.9]
    assert ok, f"no {right} strike with delta in [10, 16.9]"
    return min(ok, key=lambda kd: abs(kd[1] - 15.0))


# -- determinism --------------------------------------------------------------------------------------------


def test_same_seed_and_date_give_identical_market() -> None:
    a = Market(DAY, MarketParams(seed=11))
    _day.cache_clear()  # built again, not the first one's cached paths and chains
    b = Market(DAY, MarketParams(seed=11))
    instants = [et(9, 31), et(9, 32, 17), et(11, 30), et(15, 59, 59)]
    assert [a.spx(t) for t in instants] == [b.spx(t) for t in instants]
    assert [a.vix(t) for t in instants] == [b.vix(t) for t in instants]
    o = a.find_option("P", 5950)
    assert o is not None
    assert [a.quote(o.con_id, t) for t in instants] == [b.quote(o.con_id, t) for t in instants]
    assert [a.greeks(o.con_id, t) for t in instants] == [b.greeks(o.con_id, t) for t in instants]


def test_markets_of_one_day_share_what_they_computed_and_a_shared_answer_is_the_fresh_one() -> None:
    """The many simulators of one day in a test process compute each second's quote once (sim/market.py, _Day)."""

    def answers(m: Market, con_id: int) -> list[object]:
        return [f(con_id, t) for t in (et(9, 45), et(12, 0, 1)) for f in (m.quote, m.greeks, m.side_greeks)]

    _day.cache_clear()
    first = Market(DAY, MarketParams(seed=11))
    o = first.find_option("C", 6050)
    assert o is not None
    computed = answers(first, o.con_id)
    second = Market(DAY, MarketParams(seed=11))
    assert second._cache is first._cache and second._side_cache is first._side_cache
    assert all(a is b for a, b in zip(answers(second, o.con_id), computed, strict=True))  # the same objects
    assert Market(DAY, MarketParams(seed=12))._cache is not first._cache
    _day.cache_clear()
    fresh = Market(DAY, MarketParams(seed=11))
    assert fresh._cache is not first._cache and answers(fresh, o.con_id) == computed


def test_different_seed_or_date_give_a_different_path_but_the_same_contract_ids() -> None:
    base = Market(DAY, MarketParams(seed=7))
    other_seed = Market(DAY, MarketParams(seed=8))
    other_day = Market(date(2026, 11, 25), MarketParams(seed=7))
    t = et(12, 0)
    assert base.spx(t) != other_seed.spx(t)
    assert base.spx(t) != other_day.spx(t)
    assert [o.con_id for o in base.options()] == [o.con_id for o in other_seed.options()]
    assert not {o.con_id for o in base.options()} & {o.con_id for o in other_day.options()}


# -- the SPX path and VIX -----------------------------------------------------------------------------------


def test_path_is_flat_before_the_open_and_after_the_close(market: Market) -> None:
    assert market.spx(et(4, 0)) == market.spx(et(9, 0)) == market.spx(et(9, 30)) == 6000.0
    assert market.spx(et(16, 0)) == market.spx(et(17, 30)) == market.spx(et(23, 59))
    assert market.spx(et(9, 31)) != 6000.0


def test_any_time_zone_gives_the_same_answer_and_naive_times_are_refused(market: Market) -> None:
    t = et(10, 15, 30)
    assert market.spx(t) == market.spx(t.astimezone(UTC))
    o = market.options()[100]
    assert market.quote(o.con_id, t) == market.quote(o.con_id, t.astimezone(UTC))
    with pytest.raises(ValueError, match="timezone-aware"):
        market.spx(datetime(2026, 11, 24, 10, 0))


def test_interpolation_between_seconds_stays_between_neighbours(market: Market) -> None:
    a, b = market.spx(et(10, 0, 0)), market.spx(et(10, 0, 1))
    mid = market.spx(et(10, 0, 0) + timedelta(milliseconds=500))
    assert min(a, b) - 0.01 <= mid <= max(a, b) + 0.01


@pytest.mark.parametrize("vol", [0.10, 0.16, 0.30])
def test_realized_volatility_matches_the_parameter(vol: float) -> None:
    m = Market(DAY, MarketParams(seed=3, volatility=vol))
    levels = [m.spx(et(9, 30) + timedelta(seconds=s)) for s in range(0, 23401, 10)]
    rets = [math.log(b / a) for a, b in itertools_pairwise(levels)]
    realized = statistics.pstdev(rets) * math.sqrt(TRADING_SECONDS_PER_YEAR / 10)
    assert realized == pytest.approx(vol, rel=0.08)


def itertools_pairwise(xs: list[float]) -> list[tuple[float, float]]:
    return list(itertools.pairwise(xs))


@pytest.mark.parametrize("vol", [0.12, 0.16, 0.25])
def test_vix_tracks_the_volatility_parameter(vol: float) -> None:
    m = Market(DAY, MarketParams(seed=5, volatility=vol))
    values = [m.vix(et(9, 30) + timedelta(minutes=k)) for k in range(0, 391, 5)]
    assert all(abs(v / (100 * vol) - 1.0) < 0.2 for v in values), values
    assert statistics.mean(values) == pytest.approx(100 * vol, rel=0.1)
    assert len(set(values)) > 10  # it moves


def test_index_quotes_have_last_close_and_session_range_but_no_bid_ask(market: Market) -> None:
    t = et(10, 30)
    q = market.quote(Market.SPX_CON_ID, t)
    assert math.isnan(q.bid) and math.isnan(q.ask) and q.bid_size == q.ask_size == 0
    assert q.last == market.spx(t) and q.mid == q.last
    assert q.close == 6000.0 and q.open == 6000.0
    assert q.low <= q.last <= q.high
    assert q.high == max(market.spx(et(9, 30) + timedelta(seconds=s)) for s in range(3601))
    v = market.index_quote(Market.VIX_CON_ID, t)
    assert v.last == market.vix(t) and v.close == 16.0
    pre = market.index_quote(Market.SPX_CON_ID, et(9, 0))
    assert pre.last == 6000.0 and math.isnan(pre.high)
    with pytest.raises(MarketDataError):
        market.index_quote(12345, t)


# -- the chain ----------------------------------------------------------------------------------------------


def test_chain_covers_plus_minus_ten_percent_on_the_five_point_grid(market: Market) -> None:
    strikes = market.strikes()
    assert strikes[0] == 5400.0 and strikes[-1] == 6600.0
    assert all(b - a == 5.0 for a, b in itertools_pairwise(strikes))
    opts = market.options()
    assert len(opts) == 2 * len(strikes)
    assert opts == sorted(opts, key=lambda o: (o.right, o.strike))
    ids = [o.con_id for o in opts]
    assert len(set(ids)) == len(ids)
    assert Market.SPX_CON_ID not in ids and Market.VIX_CON_ID not in ids
    assert all(0 < i < 2**31 for i in ids)


def test_contract_fields_follow_ib_conventions(market: Market) -> None:
    o = market.find_option("P", 5900)
    assert o is not None
    assert o.local_symbol == "SPXW  261124P05900000"
    assert (o.trading_class, o.multiplier, o.symbol, o.currency) == ("SPXW", 100, "SPX", "USD")
    assert o.last_trade_date == "20261124" and o.expiry == DAY
    assert market.option(o.con_id) == o
    assert market.find_option("PUT", 5900.0) == o
    assert market.find_option("C", 6000)
    assert market.find_option("C", 6002.5) is None
    assert market.option(1) is None
    assert local_symbol(date(2025, 11, 28), "C", 6845) == "SPXW  251128C06845000"


def test_close_time_and_early_close() -> None:
    assert Market(DAY).close_time() == et(16, 0)
    early = Market(date(2026, 11, 27), MarketParams(close_time=time(13, 0)))
    assert early.close_time() == et(13, 0, day=date(2026, 11, 27))
    assert early.spx(et(13, 0, day=date(2026, 11, 27))) == early.spx(et(15, 0, day=date(2026, 11, 27)))


# -- prices and greeks --------------------------------------------------------------------------------------


@pytest.mark.parametrize("when", [(9, 31), (9, 32), (12, 0), (15, 50)])
def test_delta_is_monotone_in_strike_and_within_bounds(market: Market, when: tuple[int, int]) -> None:
    t = et(*when)
    for right in ("C", "P"):
        deltas = [market.greeks(o.con_id, t).delta for o in side(market, right)]
        assert all(b <= a + 1e-12 for a, b in itertools_pairwise(deltas)), right
        lo, hi = (0.0, 1.0) if right == "C" else (-1.0, 0.0)
        assert all(lo <= d <= hi for d in deltas)
        assert deltas[0] != deltas[-1]


def test_put_call_parity(market: Market) -> None:
    t = et(10, 0)
    s = market.spx(t)
    years = (6 * 3600) / SECONDS_PER_YEAR
    for k in market.strikes()[::10]:
        c, p = market.find_option("C", k), market.find_option("P", k)
        assert c is not None and p is not None
        gc, gp = market.greeks(c.con_id, t), market.greeks(p.con_id, t)
        assert gc.implied_vol == gp.implied_vol
        assert gc.opt_price - gp.opt_price == pytest.approx(s - k * math.exp(-0.04 * years), abs=1e-6)
        qc, qp = market.quote(c.con_id, t), market.quote(p.con_id, t)
        slack = (qc.ask - qc.bid + qp.ask - qp.bid) / 2
        assert abs((qc.mid - qp.mid) - (s - k * math.exp(-0.04 * years))) <= slack + 1e-9


def test_put_skew_puts_richer_below_spot_calls_slightly_lower_above(market: Market) -> None:
    t = et(9, 32)
    s = market.spx(t)
    atm = market.atm_vol(t)
    below = market.find_option("P", 5 * round((s - 60) / 5))
    above = market.find_option("C", 5 * round((s + 60) / 5))
    assert below is not None and above is not None
    iv_below = market.greeks(below.con_id, t).implied_vol
    iv_above = market.greeks(above.con_id, t).implied_vol
    assert iv_below > atm * 1.05
    assert atm * 0.85 < iv_above < atm


@pytest.mark.parametrize("seed", [1, 2, 3, 7, 42, 99])
def test_fifteen_delta_shorts_exist_at_sensible_distances_at_0932(seed: int) -> None:
    m = Market(DAY, MarketParams(seed=seed))
    t = et(9, 32)
    s = m.spx(t)
    put_k, put_d = closest_to_15(m, "P", t)
    call_k, call_d = closest_to_15(m, "C", t)
    assert 40 <= s - put_k <= 90, (s, put_k)
    assert 40 <= call_k - s <= 90, (s, call_k)
    assert abs(put_d - 15) < 1.5 and abs(call_d - 15) < 1.5
    assert m.find_option("P", put_k - 20) and m.find_option("C", call_k + 20)


def test_model_greeks_carry_ib_fields(market: Market) -> None:
    t = et(9, 45)
    o = market.find_option("P", 5950)
    assert o is not None
    g = market.greeks(o.con_id, t)
    assert g.pv_dividend == 0.0
    assert g.und_price == market.spx(t)
    assert g.gamma > 0 and g.vega > 0 and g.theta < 0
    assert 0.2 < g.implied_vol < 0.8
    q = market.quote(o.con_id, t)
    assert q.bid <= g.opt_price <= q.ask


def test_bid_and_ask_greeks_bracket_the_model(market: Market) -> None:
    t = et(9, 45)
    o = market.find_option("C", 6080)
    assert o is not None
    bid_g, ask_g = market.side_greeks(o.con_id, t)
    model = market.greeks(o.con_id, t)
    q = market.quote(o.con_id, t)
    assert bid_g is not None and ask_g is not None
    assert bid_g.implied_vol <= model.implied_vol <= ask_g.implied_vol
    assert (bid_g.opt_price, ask_g.opt_price) == (q.bid, q.ask)
    far = market.find_option("C", 6600)
    assert far is not None and market.quote(far.con_id, t).bid == 0.0
    assert market.side_greeks(far.con_id, t)[0] is None


def test_after_the_close_options_are_worth_their_settlement(market: Market) -> None:
    close_spx = market.spx(et(16, 0))
    k = 5 * round(close_spx / 5)
    for right, strike in (("P", k + 10), ("C", k + 10), ("P", k - 10)):
        o = market.find_option(right, strike)
        assert o is not None
        value = market.settlement(o.con_id)
        assert value == round(max(0.0, (close_spx - strike) if right == "C" else (strike - close_spx)), 2)
        q, g = market.quote(o.con_id, et(16, 30)), market.greeks(o.con_id, et(16, 30))
        assert q.bid <= value <= q.ask
        assert g.delta in (-1.0, 0.0, 1.0) and g.gamma == 0.0


def test_options_keep_finite_greeks_just_before_the_close(market: Market) -> None:
    t = et(15, 59, 59)
    for o in market.options():
        g = market.greeks(o.con_id, t)
        assert math.isfinite(g.delta) and math.isfinite(g.gamma) and math.isfinite(g.theta)


# -- quotes -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("when", [(9, 0), (9, 32), (11, 30), (15, 55)])
def test_quotes_on_tick_grid_with_realistic_width(market: Market, when: tuple[int, int]) -> None:
    t = et(*when)
    for o in market.options():
        q, g = market.quote(o.con_id, t), market.greeks(o.con_id, t)
        assert 0.0 <= q.bid <= q.mid <= q.ask and q.bid < q.ask and q.ask >= 0.05
        assert q.bid <= g.opt_price + 1e-9 and g.opt_price <= q.ask + 1e-9
        assert on_grid(q.bid) and on_grid(q.ask) and on_grid(q.last) and on_grid(q.close)
        assert 10 <= q.bid_size <= 200 and 10 <= q.ask_size <= 200
        width = q.ask - q.bid
        if g.opt_price < 1.0:
            assert width <= 0.10 + 1e-9
        elif g.opt_price < 5.0:
            assert width <= 0.25 + 1e-9
        else:
            assert width <= 1.2 + 1e-9


def test_iron_condor_combo_quote_is_a_credit_and_sums_the_legs(market: Market) -> None:
    t = et(9, 32)
    put_k, _ = closest_to_15(market, "P", t)
    call_k, _ = closest_to_15(market, "C", t)
    specs = [
        market.find_option("P", put_k - 20),
        market.find_option("P", put_k),
        market.find_option("C", call_k),
        market.find_option("C", call_k + 20),
    ]
    assert all(specs)
    ids = [o.con_id for o in specs if o]
    legs = [(ids[0], 1), (ids[1], -1), (ids[2], -1), (ids[3], 1)]
    combo = market.combo_quote(legs, t)
    qs = [market.quote(i, t) for i in ids]
    assert combo.bid == pytest.approx(qs[0].bid - qs[1].ask - qs[2].ask + qs[3].bid)
    assert combo.ask == pytest.approx(qs[0].ask - qs[1].bid - qs[2].bid + qs[3].ask)
    assert combo.bid < combo.mid < combo.ask < 0  # BUY at a negative price = credit
    assert combo.bid > -20


# -- bars ---------------------------------------------------------------------------------------------------


def test_bars_complete_by_now_only_ordered_and_consistent(market: Market) -> None:
    o = market.find_option("P", 5950)
    assert o is not None
    now = et(10, 15, 30)
    for what in ("MIDPOINT", "BID", "ASK", "BID_ASK", "TRADES"):
        bars = market.bars(o.con_id, what, et(9, 0), et(16, 0), now)
        assert len(bars) == 45, what  # 09:30 … 10:14; the 10:15 minute is not finished
        assert [b.time for b in bars] == [et(9, 30) + timedelta(minutes=k) for k in range(45)]
        for b in bars:
            assert b.low <= min(b.open, b.close) and max(b.open, b.close) <= b.high
            assert b.time.tzinfo is not None
    mids = market.bars(o.con_id, "MIDPOINT", et(9, 40), et(9, 50), now)
    assert mids[0].time == et(9, 40) and len(mids) == 10
    q0 = market.quote(o.con_id, et(9, 40))
    assert mids[0].open == pytest.approx((q0.bid + q0.ask) / 2)
    assert (mids[0].volume, mids[0].wap, mids[0].bar_count) == (-1.0, -1.0, -1)


def test_bid_ask_bars_use_ib_semantics(market: Market) -> None:
    o = market.find_option("C", 6050)
    assert o is not None
    start, end = et(11, 0), et(11, 1)
    (b,) = market.bars(o.con_id, "BID_ASK", start, end, et(12, 0))
    quotes = [market.quote(o.con_id, start + timedelta(seconds=s)) for s in range(0, 60, 5)]
    assert b.open == pytest.approx(statistics.mean(q.bid for q in quotes), abs=1e-4)
    assert b.close == pytest.approx(statistics.mean(q.ask for q in quotes), abs=1e-4)
    assert b.high == max(q.ask for q in quotes) and b.low == min(q.bid for q in quotes)


def test_index_bars_are_trades_only_and_partial_ranges_are_respected(market: Market) -> None:
    bars = market.bars(Market.SPX_CON_ID, "TRADES", et(9, 30, 30), et(9, 35), et(9, 40))
    assert [b.time for b in bars] == [et(9, 31), et(9, 32), et(9, 33), et(9, 34)]
    levels = [market.spx(et(9, 31) + timedelta(seconds=s)) for s in range(60)]
    assert (bars[0].open, bars[0].high, bars[0].low, bars[0].close) == (
        levels[0],
        max(levels),
        min(levels),
        levels[-1],
    )
    with pytest.raises(MarketDataError):
        market.bars(Market.SPX_CON_ID, "MIDPOINT", et(9, 30), et(10, 0), et(10, 0))
    with pytest.raises(MarketDataError):
        market.bars(12345, "MIDPOINT", et(9, 30), et(10, 0), et(10, 0))
    assert market.bars(Market.VIX_CON_ID, "TRADES", et(8, 0), et(9, 30), et(9, 30)) == []
    assert market.bars(Market.VIX_CON_ID, "TRADES", et(9, 30), et(10, 0), et(9, 30, 59)) == []
    assert len(market.bars(Market.VIX_CON_ID, "TRADES", et(15, 0), et(18, 0), et(18, 0))) == 60


# -- Black-Scholes ------------------------------------------------------------------------------------------


def test_black_scholes_greeks_match_finite_differences() -> None:
    s, k, years, r, vol = 6000.0, 5950.0, 5 * 3600 / SECONDS_PER_YEAR, 0.04, 0.4
    for right in ("P", "C"):
        res = bs.price_and_greeks(right, s, k, years, r, vol)
        h = 0.01
        up, dn = bs.price(right, s + h, k, years, r, vol), bs.price(right, s - h, k, years, r, vol)
        assert res.delta == pytest.approx((up - dn) / (2 * h), rel=1e-4)
        assert res.gamma == pytest.approx((up - 2 * res.price + dn) / h**2, rel=1e-2)
        vega = (bs.price(right, s, k, years, r, vol + 1e-4) - bs.price(right, s, k, years, r, vol - 1e-4)) / 2e-4
        assert res.vega == pytest.approx(vega / 100, rel=1e-4)
        dt = 60 / SECONDS_PER_YEAR
        theta = (bs.price(right, s, k, years - dt, r, vol) - res.price) / dt / 365
        assert res.theta == pytest.approx(theta, rel=1e-2)


def test_implied_vol_round_trips_and_refuses_impossible_prices() -> None:
    years = 3 * 3600 / SECONDS_PER_YEAR
    for vol in (0.1, 0.37, 1.2):
        p = bs.price("P", 6000, 5960, years, 0.04, vol)
        iv = bs.implied_vol("P", p, 6000, 5960, years, 0.04)
        assert iv == pytest.approx(vol, rel=1e-5)
    assert bs.implied_vol("P", 0.0, 6000, 5960, years, 0.04) is None
    assert bs.implied_vol("C", 1.0, 6000, 5900, years, 0.04) is None  # below intrinsic
    with pytest.raises(ValueError):
        bs.price("X", 6000, 5960, years, 0.04, 0.2)


# -- properties and speed -----------------------------------------------------------------------------------

_PROP_MARKET = Market(DAY, MarketParams(seed=13))
_PROP_IDS = [o.con_id for o in _PROP_MARKET.options()]


@settings(max_examples=300, deadline=None)
@given(
    offset=st.integers(min_value=-6 * 3600, max_value=8 * 3600),
    idx=st.integers(min_value=0, max_value=len(_PROP_IDS) - 1),
)
def test_property_quotes_and_deltas_are_sane_at_any_instant(offset: int, idx: int) -> None:
    m = _PROP_MARKET
    t = et(9, 30) + timedelta(seconds=offset)
    con_id = _PROP_IDS[idx]
    spec = m.option(con_id)
    assert spec is not None
    q, g = m.quote(con_id, t), m.greeks(con_id, t)
    assert 0.0 <= q.bid < q.ask and q.ask >= 0.05
    assert on_grid(q.bid) and on_grid(q.ask)
    assert q.bid <= g.opt_price + 1e-9 <= q.ask + 2e-9
    assert (0.0 <= g.delta <= 1.0) if spec.right == "C" else (-1.0 <= g.delta <= 0.0)
    assert g.gamma >= 0.0 and g.vega >= 0.0 and g.implied_vol > 0.0
    assert g.und_price == m.spx(t.replace(microsecond=0))


def test_tick_helpers_respect_the_three_dollar_boundary() -> None:
    assert (floor_tick(2.99), floor_tick(3.04), floor_tick(3.0)) == (2.95, 3.0, 3.0)
    assert (ceil_tick(2.96), ceil_tick(3.01), ceil_tick(3.0)) == (3.0, 3.1, 3.0)
    assert round_tick(3.06) == 3.1 and round_tick(2.97) == 2.95
    assert bid_ask(0.01) == (0.0, 0.05)
    assert bid_ask(2.98) == (2.9, 3.1)
    assert bid_ask(0.0) == (0.0, 0.05)
