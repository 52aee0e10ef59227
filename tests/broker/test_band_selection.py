"""The entry's band selects exactly what the whole chain selects: the proof over many simulated mornings.

`icbot.broker.band.entry_band` streams a few dozen of a 0DTE chain's hundreds of options. That is only right if
the condor chosen from the band is, every day, the condor the same rule (`icbot.core.strikes.select_condor`, the
bot's own function) would choose from every listed strike. Here the bot's morning is replayed against the
simulator's market (`icbot.sim.market.Market`, deterministic per seed and start price) without a socket:

* the first band from the index and VIX when the run starts (no delta known yet);
* once a second until 09:31:59 the band fitted again from the deltas of the options it streamed a second
  earlier (a line opened by one fit reports at the simulator's next push, so it is seen by the next fit);
* at 09:32:00 the selection from the band's deltas, compared with the selection from the whole chain's, at both
  instants the bot can see then (the last push before the instant, and the instant's own).

Every morning must give the identical condor (or the identical "no condor"), the four legs must be streaming,
the band must already prove itself (`covered`) at the instant, and no morning may need more than the line budget.
`ICBOT_BAND_SWEEP=N` replays N seeds per start price instead of the default (the sweep reported in
docs/simulator.md, "Benchmarks", ran with N=100).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import NormalDist

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icbot.broker.band import ENTRY_MINUTES_TO_CLOSE, MINUTES_PER_YEAR, OPTION_LINES, Band, entry_band
from icbot.broker.market import MAX_LINES
from icbot.clock import NEW_YORK
from icbot.config import StrikesConfig
from icbot.core.strikes import Condor, select_condor
from icbot.sim.market import Market, MarketParams

DAY = date(2026, 11, 24)
SEEDS = range(1, int(os.environ.get("ICBOT_BAND_SWEEP", "4")) + 1)
ENTRY = datetime.combine(DAY, time(9, 32), NEW_YORK)
NORMAL = NormalDist()


@dataclass
class Morning:
    band: Band  # as fitted last before 09:32
    most_lines: int  # the largest band of the morning
    fits: int


def replay(market: Market, symbol: str, start: datetime, strikes: StrikesConfig) -> Morning:
    """The bot's band through one morning (FreshDay.underlying, then wait_entry's fits), one fit per second."""
    listed = market.strikes(symbol)
    index = market.xsp if symbol == "XSP" else market.spx
    con_ids = {(o.right, o.strike): o.con_id for o in market.options(symbol)}
    vol = market.vix(start) / 100.0
    rule = dict(wing=strikes.wing_width, min_delta=strikes.min_delta, max_delta=strikes.max_delta)
    band = entry_band(index(start), listed, vol=vol, deltas={}, **rule)  # type: ignore[arg-type]
    most, fits = len(band.keys), 1
    t = start + timedelta(seconds=1)
    while t < ENTRY:
        seen = {key: abs(market.greeks(con_ids[key], t).delta) * 100.0 for key in band.keys}
        band = entry_band(index(t), listed, vol=vol, deltas=seen, **rule)  # type: ignore[arg-type]
        most, fits = max(most, len(band.keys)), fits + 1
        t += timedelta(seconds=1)
    return Morning(band, most, fits)


def deltas_at(market: Market, symbol: str, keys: object, t: datetime) -> tuple[dict[float, float], dict[float, float]]:
    con_ids = {(o.right, o.strike): o.con_id for o in market.options(symbol)}
    wanted = set(con_ids) if keys is None else set(keys)  # type: ignore[call-overload]
    out: tuple[dict[float, float], dict[float, float]] = ({}, {})
    for (right, strike), con_id in con_ids.items():
        if (right, strike) in wanted:
            out[0 if right == "P" else 1][strike] = abs(market.greeks(con_id, t).delta) * 100.0
    return out


def check_morning(market: Market, symbol: str, start: datetime, strikes: StrikesConfig) -> list[str]:
    """Every way this morning could break the band's promise, in words (empty: none)."""
    problems = []
    morning = replay(market, symbol, start, strikes)
    band = morning.band
    if morning.most_lines > OPTION_LINES or OPTION_LINES + 1 > MAX_LINES:
        problems.append(f"{morning.most_lines} option lines")
    listed = market.strikes(symbol)
    for seen_at in (ENTRY - timedelta(seconds=1), ENTRY):
        whole = select_condor(*deltas_at(market, symbol, None, seen_at), listed, strikes)
        puts, calls = deltas_at(market, symbol, band.keys, seen_at)
        streamed = select_condor(puts, calls, listed, strikes)
        label = f"greeks of {seen_at:%H:%M:%S}"
        if streamed != whole:
            problems.append(f"{label}: band chose {streamed}, whole chain {whole}")
        if isinstance(streamed, Condor):
            legs = {("P", streamed.long_put), ("P", streamed.short_put)}
            legs |= {("C", streamed.short_call), ("C", streamed.long_call)}
            if not legs <= set(band.keys):
                problems.append(f"{label}: legs {sorted(legs - set(band.keys))} not streaming")
        seen = {("P", k): d for k, d in puts.items()} | {("C", k): d for k, d in calls.items()}
        index = market.xsp(seen_at) if symbol == "XSP" else market.spx(seen_at)
        rule = dict(wing=strikes.wing_width, min_delta=strikes.min_delta, max_delta=strikes.max_delta)
        at_select = entry_band(index, listed, vol=market.vix(seen_at) / 100.0, deltas=seen, **rule)  # type: ignore[arg-type]
        if not at_select.covered:
            problems.append(f"{label}: the band does not bracket the rule at the instant (the bot would wait)")
    return problems


@pytest.mark.parametrize(
    ("start_price", "starts_at"),
    [(3000.0, time(9, 31)), (4500.0, time(9, 31, 45)), (6000.0, time(9, 31)), (7500.0, time(9, 31, 45))],
)
def test_band_selects_what_the_whole_chain_selects(start_price: float, starts_at: time) -> None:
    """Started by the scheduler at 09:31 or late at 09:31:45 (the benchmark's start), at four index levels."""
    strikes = StrikesConfig()
    start = datetime.combine(DAY, starts_at, NEW_YORK)
    failures = {}
    for seed in SEEDS:
        market = Market(DAY, MarketParams(seed=seed, spx_start=start_price))
        problems = check_morning(market, "SPX", start, strikes)
        if problems:
            failures[seed] = problems
    assert not failures


@pytest.mark.parametrize("volatility", [0.10, 0.25])
def test_calm_and_wild_mornings(volatility: float) -> None:
    """VIX near 10 and near 25: the band's width follows the deltas, and still fits the budget."""
    strikes = StrikesConfig()
    start = datetime.combine(DAY, time(9, 31, 30), NEW_YORK)
    failures = {}
    for seed in SEEDS:
        market = Market(DAY, MarketParams(seed=seed, spx_start=6000.0, volatility=volatility))
        problems = check_morning(market, "SPX", start, strikes)
        if problems:
            failures[seed] = problems
    assert not failures


def test_xsp_with_its_own_wing() -> None:
    """XSP (strikes a point apart, a 2-point wing): the same promise in the product's own points."""
    strikes = StrikesConfig(wing_width=2.0)
    start = datetime.combine(DAY, time(9, 31, 30), NEW_YORK)
    failures = {}
    for seed in SEEDS:
        problems = check_morning(Market(DAY, MarketParams(seed=seed)), "XSP", start, strikes)
        if problems:
            failures[seed] = problems
    assert not failures


def test_a_band_without_deltas_brackets_nothing() -> None:
    market = Market(DAY, MarketParams(seed=1))
    band = entry_band(market.spx(ENTRY), market.strikes("SPX"), vol=0.16, deltas={})
    assert not band.covered and 0 < len(band.keys) <= OPTION_LINES
    assert {r for r, _ in band.keys} == {"P", "C"}
    assert all((k < market.spx(ENTRY)) == (r == "P") for r, k in band.keys)


def test_unknown_deltas_between_the_markers_still_cover() -> None:
    """IB leaves some deltas uncomputed (the simulator's unset-greeks fault): a strike that reported without a delta
    is unknown to the whole chain too, so the band still covers once the markers around it are known."""
    market = Market(DAY, MarketParams(seed=2))
    t = ENTRY - timedelta(seconds=1)
    morning = replay(market, "SPX", t - timedelta(seconds=20), StrikesConfig())
    puts, calls = deltas_at(market, "SPX", morning.band.keys, t)
    seen: dict[tuple[str, float], float | None] = {("P", k): d for k, d in puts.items()}
    seen |= {("C", k): d for k, d in calls.items()}
    blank = sorted(k for (r, k), d in seen.items() if r == "P" and d is not None and 11.0 < d < 16.0)[:1]
    for k in blank:
        seen[("P", k)] = None
    band = entry_band(market.spx(t), market.strikes("SPX"), vol=0.16, deltas=seen)
    assert band.covered and blank
    # a strike between the markers that never reported at all is another matter
    del seen[("P", blank[0])]
    assert not entry_band(market.spx(t), market.strikes("SPX"), vol=0.16, deltas=seen).covered


def test_another_rule_near_the_money() -> None:
    """A rule near the money (40–46 delta, 45 the target): the band follows the rule, not the defaults."""
    strikes = StrikesConfig(target_delta=45.0, min_delta=40.0, max_delta=46.0)
    market = Market(DAY, MarketParams(seed=3))
    band = replay(market, "SPX", ENTRY - timedelta(seconds=10), strikes).band
    listed = market.strikes("SPX")
    whole = select_condor(*deltas_at(market, "SPX", None, ENTRY), listed, strikes)
    streamed = select_condor(*deltas_at(market, "SPX", band.keys, ENTRY), listed, strikes)
    assert isinstance(whole, Condor) and streamed == whole  # a condor exists there, and the band finds it


@settings(max_examples=80, deadline=None)
@given(spx=st.floats(3000.0, 8000.0), vol=st.floats(0.08, 0.30), skew=st.floats(1.0, 1.4))
def test_fitted_to_any_lognormal_chain_the_band_holds_every_candidate_and_wing(spx, vol, skew):
    """Deltas from an independent Black-Scholes formula (puts at `skew` × the volatility, which the band is not
    told): fitted a few times from what it streams, as the bot does, the band brackets the rule and holds every
    candidate short and its wing — within the budget, which a move of SPX 7500 at VIX 30 outgrows."""
    listed = [float(k) for k in range(int((spx - 800) // 5 * 5), int(spx + 800), 5)]

    def bs(strike: float, right: str) -> float:
        sigma = vol * (skew if right == "P" else 1.0)
        t = ENTRY_MINUTES_TO_CLOSE / MINUTES_PER_YEAR
        d1 = (math.log(spx / strike) + 0.5 * sigma * sigma * t) / (sigma * math.sqrt(t))
        return 100.0 * (NORMAL.cdf(d1) if right == "C" else 1.0 - NORMAL.cdf(d1))

    band = entry_band(spx, listed, vol=vol, deltas={})
    for _ in range(4):
        band = entry_band(spx, listed, vol=vol, deltas={(r, k): bs(k, r) for r, k in band.keys})
    needed = set()
    for k in listed:
        if k < spx and 10.0 <= bs(k, "P") <= 16.9:
            needed |= {("P", k), ("P", k - 20.0)}
        if k > spx and 10.0 <= bs(k, "C") <= 16.9:
            needed |= {("C", k), ("C", k + 20.0)}
    if band.trimmed:  # a wild day at a high index level: the budget is full and says what it left out
        assert len(band.keys) == OPTION_LINES and needed <= set(band.keys) | set(band.trimmed)
    else:
        assert band.covered and needed <= set(band.keys) and len(band.keys) <= OPTION_LINES
