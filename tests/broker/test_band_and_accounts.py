"""band_strikes (pure, the connection probe's model-only band) against an independent Black-Scholes delta, and the
account/mode rules. The entry's band (`entry_band`) is proven in test_band_selection.py."""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icbot.broker.accounts import choose_account
from icbot.broker.band import ENTRY_MINUTES_TO_CLOSE, MINUTES_PER_YEAR, band_strikes
from icbot.broker.errors import CompetingSession, OrderRejected, WrongAccount
from icbot.errors import EXIT_NO_TRADE, EXIT_USAGE

N = NormalDist()


def bs_abs_delta(spx: float, strike: float, vol: float, right: str, minutes: float = ENTRY_MINUTES_TO_CLOSE) -> float:
    t = minutes / MINUTES_PER_YEAR
    d1 = (math.log(spx / strike) + 0.5 * vol * vol * t) / (vol * math.sqrt(t))
    return 100.0 * (N.cdf(d1) if right == "C" else 1.0 - N.cdf(d1))


def listed_5pt(spx: float, width: float = 600.0) -> list[float]:
    lo = int((spx - width) // 5 * 5)
    return [float(k) for k in range(lo, int(spx + width), 5)]


def needed(spx: float, listed: list[float], vol: float) -> set[float]:
    """Strikes selection may use: shorts with |delta| in [10, 16.9] and their 20-point wings."""
    out: set[float] = set()
    for k in listed:
        if k < spx and 10.0 <= bs_abs_delta(spx, k, vol, "P") <= 16.9:
            out |= {k, k - 20.0}
        if k > spx and 10.0 <= bs_abs_delta(spx, k, vol, "C") <= 16.9:
            out |= {k, k + 20.0}
    return out


@pytest.mark.parametrize("vol", [0.10, 0.15, 0.20, 0.30, 0.45])
def test_band_contains_every_candidate_short_and_its_wing_within_48_lines(vol):
    spx = 6003.4
    listed = listed_5pt(spx)
    band = band_strikes(spx, listed, vol=vol, max_lines=48)  # one line per strike: the OTM right only
    assert len(band) == 48 and band == sorted(band) and set(band) <= set(listed)
    missing = needed(spx, listed, vol) - set(band)
    assert not missing, f"vol {vol}: band {band[0]}..{band[-1]} misses {sorted(missing)}"
    if vol <= 0.3:  # skew: a put volatility 30 % above the guess still finds its shorts and wings
        skewed = {k for k in needed(spx, listed, vol * 1.3) if k < spx}
        assert skewed <= set(band), f"vol {vol}: skewed puts missing {sorted(skewed - set(band))}"


@pytest.mark.parametrize("vol", [0.10, 0.20])
def test_band_with_both_rights_per_strike_still_covers_a_normal_day(vol):
    spx = 6003.4
    listed = listed_5pt(spx)
    band = band_strikes(spx, listed, vol=vol, max_lines=48, lines_per_strike=2)
    assert len(band) == 24 and not needed(spx, listed, vol) - set(band)


def test_band_leaves_out_the_money_middle_it_does_not_need():
    spx = 6000.0
    band = band_strikes(spx, listed_5pt(spx), vol=0.15)
    assert 6000.0 not in band and 5995.0 not in band and 6005.0 not in band
    assert any(k < spx for k in band) and any(k > spx for k in band)


def test_band_widens_with_volatility_and_has_a_default():
    spx = 6000.0
    listed = listed_5pt(spx)
    calm, wild = band_strikes(spx, listed, vol=0.10), band_strikes(spx, listed, vol=0.40)
    assert max(wild) - min(wild) > max(calm) - min(calm)
    assert band_strikes(spx, listed, vol=None) == band_strikes(spx, listed, vol=0.25)


def test_band_budget_edge_cases():
    assert band_strikes(6000.0, [], vol=0.2) == []
    assert band_strikes(6000.0, listed_5pt(6000.0), vol=0.2, max_lines=0) == []
    assert band_strikes(6000.0, listed_5pt(6000.0), vol=0.2, max_lines=1, lines_per_strike=2) == []
    assert len(band_strikes(6000.0, listed_5pt(6000.0), vol=0.2, max_lines=49, lines_per_strike=2)) == 24
    assert len(band_strikes(6000.0, listed_5pt(6000.0), vol=0.2, max_lines=7)) == 7
    assert band_strikes(6000.0, [5900.0, 6100.0, 5900.0], vol=0.2) == [5900.0, 6100.0]


@settings(max_examples=60, deadline=None)
@given(
    spx=st.floats(3000.0, 8000.0),
    vol=st.floats(0.06, 0.6),
    max_lines=st.integers(0, 60),
    per=st.sampled_from([1, 2]),
)
def test_band_is_a_sorted_subset_within_budget(spx, vol, max_lines, per):
    listed = listed_5pt(spx, 800.0)
    band = band_strikes(spx, listed, vol=vol, max_lines=max_lines, lines_per_strike=per)
    assert band == sorted(set(band)) and set(band) <= set(listed) and len(band) <= max_lines // per


@pytest.mark.parametrize(
    ("mode", "configured", "managed", "expected"),
    [
        ("paper", "", ["DU111"], "DU111"),
        ("paper", "DU222", ["DU111", "DU222"], "DU222"),
        ("live", "U333", ["U333"], "U333"),
        ("experiment", "", ["U9", "U8"], "U9"),
        ("experiment", "", ["DU1"], "DU1"),
    ],
)
def test_account_fits_mode(mode, configured, managed, expected):
    assert choose_account(mode, configured, managed) == expected


@pytest.mark.parametrize(
    ("mode", "configured", "managed", "words"),
    [
        ("paper", "", ["U333"], "paper account"),
        ("paper", "DU9", ["DU1"], "not an account of this gateway"),
        ("paper", "", ["DU1", "DU2"], "set gateway.account"),
        ("live", "", ["U333"], "requires gateway.account"),
        ("live", "DU1", ["DU1"], "is a paper account"),
        ("live", "U1", ["U2"], "not an account of this gateway"),
        ("experiment", "U5", ["U6"], "not an account"),
        ("paper", "", [], "no managed accounts"),
        ("sandbox", "", ["DU1"], "unknown mode"),
    ],
)
def test_wrong_account_is_refused_with_one_clear_line(mode, configured, managed, words):
    with pytest.raises(WrongAccount) as err:
        choose_account(mode, configured, managed)
    assert words in str(err.value) and "\n" not in str(err.value)
    assert err.value.exit_code == EXIT_USAGE


def test_broker_error_classes_keep_the_exit_codes():
    assert CompetingSession("x").exit_code == EXIT_NO_TRADE
    e = OrderRejected(201, "Order rejected - reason: margin", order_id=7, order_ref="icbot:r")
    assert (e.code, e.text, e.order_id) == (201, "Order rejected - reason: margin", 7)
    assert str(e) == "order rejected by IB (order 7, icbot:r): 201 Order rejected - reason: margin"
