"""Exit prices: docs/strategy.md's 5.00 → −3.75 / −15.00 and rounding toward the safe side."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from icbot.core.exits import ExitPrices, exit_prices


def test_the_spec_example():
    assert exit_prices(5.00, profit_target_pct=25, stop_multiple=3.0, tick=0.05) == ExitPrices(-3.75, -15.00)


@pytest.mark.parametrize(
    ("credit", "take_profit", "stop"),
    [
        (2.33, -1.70, -6.95),  # 1.7475 → pay at most 1.70 ; 6.99 → stop at 6.95, never later
        (2.35, -1.75, -7.05),  # 1.7625 → 1.75 ; 7.05 exactly
        (4.9999999999, -3.75, -15.00),  # leg-fill float noise must not cost a tick
        (0.40, -0.30, -1.20),
    ],
)
def test_rounding_goes_toward_the_safe_side(credit, take_profit, stop):
    prices = exit_prices(credit, profit_target_pct=25, stop_multiple=3.0, tick=0.05)
    assert (prices.take_profit, prices.stop) == (take_profit, stop)
    assert prices.take_profit_debit == -take_profit


def test_a_stop_within_a_tick_of_the_credit_is_raised_one_tick_above_it():
    prices = exit_prices(2.37, profit_target_pct=25, stop_multiple=1.01, tick=0.05)
    assert prices.stop == -2.40
    assert prices.stop_raised


def test_no_negative_zero():
    prices = exit_prices(0.05, profit_target_pct=50, stop_multiple=3, tick=0.05)
    assert str(prices.take_profit) == "0.0"


@pytest.mark.parametrize(
    "kwargs", [dict(credit=0), dict(credit=-1), dict(profit_target_pct=100), dict(stop_multiple=1), dict(tick=0)]
)
def test_nonsense_is_refused(kwargs):
    args = dict(credit=2.0, profit_target_pct=25, stop_multiple=3.0, tick=0.05) | kwargs
    with pytest.raises(ValueError):
        exit_prices(**args)


@given(
    credit_c=st.integers(min_value=5, max_value=5000),
    pct=st.integers(min_value=1, max_value=99),
    mult=st.sampled_from([1.5, 2.0, 2.5, 3.0, 4.0, 10.0]),
    tick=st.sampled_from([0.05, 0.10, 0.01]),
)
def test_take_profit_debit_below_credit_below_stop_debit(credit_c, pct, mult, tick):
    credit = credit_c / 100
    p = exit_prices(credit, profit_target_pct=pct, stop_multiple=mult, tick=tick)
    c, t = Decimal(str(credit)), Decimal(str(tick))
    tp, sl = Decimal(str(p.take_profit_debit)), Decimal(str(p.stop_debit))
    assert tp < c < sl
    assert tp % t == 0 and sl % t == 0
    assert tp <= c * (100 - pct) / 100 < tp + t, "take profit never pays more, by less than a tick"
    if not p.stop_raised:
        assert sl <= c * Decimal(str(mult)) < sl + t, "stop never later, by less than a tick"
