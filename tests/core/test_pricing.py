"""Combo prices (signs, mid, natural) and the entry ladder's rounding toward the safe side."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from icbot.core.pricing import (
    ComboQuote,
    LegQuote,
    QuoteError,
    combo_prices,
    entry_ladder,
)


def test_combo_price_is_long_minus_short_and_a_credit_is_negative():
    lp, sp, sc, lc = LegQuote(0.40, 0.50), LegQuote(1.90, 2.10), LegQuote(1.70, 1.80), LegQuote(0.30, 0.35)
    quote = combo_prices(lp, sp, sc, lc)
    # mid = 0.45 + 0.325 − 2.00 − 1.75 = −2.975 ; natural = 0.50 + 0.35 − 1.90 − 1.70 = −2.75
    assert quote == ComboQuote(mid=-2.975, natural=-2.75)
    assert quote.mid_credit == 2.975
    assert quote.natural_credit == 2.75


@pytest.mark.parametrize(("bid", "ask"), [(-0.05, 0.1), (0.2, 0.1), (float("nan"), 1.0), (1.0, float("inf"))])
def test_unusable_leg_quotes_are_refused(bid, ask):
    with pytest.raises(QuoteError):
        LegQuote(bid, ask)


def test_a_zero_bid_is_a_valid_quote():
    assert LegQuote(0.0, 0.05).mid == 0.025


def test_ladder_from_mid_to_natural_in_steps():
    assert entry_ladder(-2.975, -2.75, step=0.05, tick=0.05, min_credit=0) == [-3.00, -2.95, -2.90, -2.85, -2.80, -2.75]


def test_ladder_rounds_the_mid_toward_more_credit_and_ends_at_natural_rounded_safe():
    # natural −2.73 is off the grid: the last rung is −2.75 (credit 2.75 ≥ 2.73), never −2.70.
    assert entry_ladder(-2.96, -2.73, step=0.10, tick=0.05, min_credit=0) == [-3.00, -2.90, -2.80, -2.75]


def test_ladder_never_goes_below_min_credit():
    assert entry_ladder(-2.975, -2.75, step=0.05, tick=0.05, min_credit=2.87) == [-3.00, -2.95, -2.90]


def test_no_ladder_when_the_mid_is_below_min_credit_or_not_a_credit():
    assert entry_ladder(-1.20, -1.00, step=0.05, tick=0.05, min_credit=1.25) == []
    assert entry_ladder(0.10, 0.30, step=0.05, tick=0.05, min_credit=0) == []
    assert entry_ladder(0.0, 0.05, step=0.05, tick=0.05, min_credit=0) == []


def test_ladder_of_a_zero_spread_combo_is_one_rung():
    assert entry_ladder(-2.50, -2.50, step=0.05, tick=0.05, min_credit=0) == [-2.50]


def test_ladder_survives_float_noise_in_the_mid():
    # 0.1 + 0.2 style noise must not push −3.00 to −3.05.
    assert entry_ladder(-2.9999999999999996, -2.90, step=0.05, tick=0.05, min_credit=0)[0] == -3.00


def test_inconsistent_inputs_are_errors():
    with pytest.raises(ValueError, match="natural"):
        entry_ladder(-2.0, -2.5, step=0.05, tick=0.05, min_credit=0)
    with pytest.raises(ValueError, match="multiple"):
        entry_ladder(-2.0, -1.5, step=0.07, tick=0.05, min_credit=0)


cents = st.integers(min_value=-2000, max_value=500)


@given(
    mid_c=cents,
    spread_c=st.integers(min_value=0, max_value=300),
    step_ticks=st.integers(min_value=1, max_value=5),
    tick=st.sampled_from([0.05, 0.10, 0.01]),
    floor_c=st.integers(min_value=0, max_value=1500),
)
def test_ladder_properties(mid_c, spread_c, step_ticks, tick, floor_c):
    mid = mid_c / 200  # half-cent resolution, like real mids
    natural = (mid_c + spread_c) / 200
    min_credit = floor_c / 100
    step = round(step_ticks * tick, 2)
    ladder = entry_ladder(mid, natural, step=step, tick=tick, min_credit=min_credit)
    if -mid < min_credit:
        assert ladder == []
        return
    assume(ladder)
    t = Decimal(str(tick))
    decs = [Decimal(str(p)) for p in ladder]
    assert all(d % t == 0 for d in decs), "every rung is on the tick grid"
    assert all(a < b for a, b in itertools.pairwise(decs)), "strictly toward natural"
    assert decs[0] <= Decimal(str(mid)), "starts at the mid rounded toward more credit"
    assert decs[0] > Decimal(str(mid)) - t
    assert decs[-1] <= Decimal(str(natural)), "never past natural"
    assert all(-d >= Decimal(str(min_credit)) for d in decs), "never below the credit floor"
    assert all(d < 0 for d in decs), "always a credit"
    steps = [b - a for a, b in itertools.pairwise(decs)]
    assert all(s == Decimal(str(step)) for s in steps[:-1]), "full steps except possibly the last"
    assert all(s <= Decimal(str(step)) for s in steps[-1:]), "the last step is never bigger than a step"
