"""The user's delta rule (docs/strategy.md §3) and the condor built around it."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from icbot.config import StrikesConfig
from icbot.core.strikes import Condor, NoCondor, pick_short_strike, select_condor


def _by_strike(*deltas: float) -> dict[float, float]:
    """Give each delta its own strike, in listing order (the strike values do not matter to the rule)."""
    return {5000.0 + 5 * i: d for i, d in enumerate(deltas)}


@pytest.mark.parametrize(
    ("available", "chosen"),
    [
        ((14.8, 15.3), 14.8),
        ((14.8, 15.2), 15.2),
        ((14, 16), 16),
        ((13, 17), 13),
        ((16.9, 13.0), 16.9),
        ((16.9, 13.2), 13.2),
    ],
)
def test_the_users_six_examples_hold_exactly(available, chosen):
    deltas = _by_strike(*available)
    strike = pick_short_strike(deltas)
    assert strike is not None
    assert deltas[strike] == chosen


def test_delta_of_exactly_max_after_float_noise_is_still_allowed():
    assert 0.169 * 100 != 16.9  # the noise this test is about
    deltas = {5000.0: 0.169 * 100, 4990.0: 13.0}
    assert pick_short_strike(deltas) == 5000.0


def test_distances_equal_up_to_the_tolerance_count_as_a_tie():
    # 0.20 vs 0.25 differ by exactly the tolerance 0.05 (in binary floats: by 0.0500000000000007).
    deltas = {4000.0: 14.8, 4005.0: 15.25}
    assert pick_short_strike(deltas) == 4005.0
    # A hair more than the tolerance: the closer one wins.
    assert pick_short_strike({4000.0: 14.8, 4005.0: 15.26}) == 4000.0


def test_above_max_below_min_unknown_and_nan_are_never_chosen():
    deltas = {1.0: 17.0, 2.0: 9.99, 3.0: math.nan}
    assert pick_short_strike(deltas) is None
    assert pick_short_strike({}) is None


def test_sign_is_ignored_so_raw_put_deltas_work():
    assert pick_short_strike({4800.0: -15.1, 4795.0: -14.0}) == 4800.0


def test_equal_deltas_prefer_the_strike_further_out_of_the_money():
    deltas = {4800.0: 15.0, 4805.0: 15.0}
    assert pick_short_strike(deltas, side="put") == 4800.0
    assert pick_short_strike(deltas, side="call") == 4805.0


def test_configured_bounds_are_honoured():
    deltas = _by_strike(19.0, 21.0, 24.0)
    assert pick_short_strike(deltas, target=20, max_delta=22, min_delta=18) == 5005.0
    assert pick_short_strike(deltas, target=20, max_delta=20.5, min_delta=18) == 5000.0


deltas_maps = st.dictionaries(
    st.integers(min_value=600, max_value=1400).map(lambda k: k * 5.0),
    st.floats(min_value=0, max_value=60, allow_nan=False).map(lambda d: round(d, 2)),
    max_size=30,
)


@given(deltas_maps, st.floats(min_value=0, max_value=0.5).map(lambda t: round(t, 2)))
def test_pick_never_leaves_the_band_and_returns_the_closest_with_ties(deltas, tol):
    strike = pick_short_strike(deltas, tie_tolerance=tol)
    band = {k: d for k, d in deltas.items() if 10.0 <= d <= 16.9}
    if not band:
        assert strike is None
        return
    assert strike is not None
    chosen = deltas[strike]
    assert 10.0 <= chosen <= 16.9
    best = min(abs(d - 15.0) for d in band.values())
    eps = 1e-9
    assert abs(chosen - 15.0) <= best + tol + eps
    tied = [d for d in band.values() if abs(d - 15.0) <= best + tol - eps]
    assert all(d <= chosen + eps for d in tied)


CFG = StrikesConfig()
LISTED = [float(k) for k in range(4000, 6001, 5)]


def test_select_condor_builds_wings_of_the_configured_width():
    puts = {4900.0: 12.0, 4905.0: 14.9, 4910.0: 17.5}
    calls = {5100.0: 16.0, 5105.0: 13.9, 5110.0: 11.0}
    condor = select_condor(puts, calls, LISTED, CFG)
    assert condor == Condor(4885.0, 4905.0, 5100.0, 5120.0, short_put_delta=14.9, short_call_delta=16.0)
    assert isinstance(condor, Condor)
    assert condor.put_width == condor.call_width == 20


@pytest.mark.parametrize(
    ("puts", "calls", "listed", "reason"),
    [
        ({4900.0: 20.0}, {5100.0: 15.0}, LISTED, "no put strike"),
        ({4900.0: 15.0}, {5100.0: 9.0}, LISTED, "no call strike"),
        ({4900.0: 15.0}, {5100.0: 15.0}, [x for x in LISTED if x != 4880.0], "long put wing 4880"),
        ({4900.0: 15.0}, {5100.0: 15.0}, [x for x in LISTED if x != 5120.0], "long call wing 5120"),
        ({5200.0: 15.0}, {5100.0: 15.0}, LISTED, "not below short call"),
        ({4900.0: 15.0}, {5100.0: 15.0}, [4880.0, 5100.0, 5120.0], "short put 4900 is not a listed strike"),
    ],
)
def test_select_condor_refuses_with_a_reason(puts, calls, listed, reason):
    result = select_condor(puts, calls, listed, CFG)
    assert isinstance(result, NoCondor)
    assert reason in result.reason


@given(deltas_maps, deltas_maps)
def test_any_condor_is_ordered(puts, calls):
    result = select_condor(puts, calls, [k * 5.0 for k in range(500, 1500)], CFG)
    if isinstance(result, Condor):
        assert result.long_put < result.short_put < result.short_call < result.long_call
        assert result.short_put - result.long_put == 20 == result.long_call - result.short_call
