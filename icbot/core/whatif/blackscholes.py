"""A delta from a recorded price (IB's historical bars carry no greeks): only replays use it, to place a roll
at delta N and the recorded range; the live bot reads IB's model greeks."""

from __future__ import annotations

import math
from statistics import NormalDist

STANDARD_NORMAL = NormalDist()


def bs_price(right: str, spot: float, strike: float, years: float, vol: float) -> float:
    """Black-Scholes value (no rates, no dividends: a 0DTE option's day)."""
    if years <= 0 or vol <= 0:
        return max(0.0, spot - strike) if right == "C" else max(0.0, strike - spot)
    sd = vol * math.sqrt(years)
    d1 = (math.log(spot / strike) + sd * sd / 2) / sd
    d2 = d1 - sd
    if right == "C":
        return spot * STANDARD_NORMAL.cdf(d1) - strike * STANDARD_NORMAL.cdf(d2)
    return strike * STANDARD_NORMAL.cdf(-d2) - spot * STANDARD_NORMAL.cdf(-d1)


def implied_delta(right: str, spot: float, strike: float, years: float, price: float) -> float | None:
    """|delta| in points implied by an option's mid (the volatility solved by bisection), or None when the price
    says nothing (at or below intrinsic, or above what any volatility explains).

    IB's historical bars carry no greeks, so a roll "to delta 30" at a touch is chosen by this estimate; the live
    bot never uses it (it reads IB's model greeks).
    """
    if years <= 0 or spot <= 0 or strike <= 0:
        return None
    intrinsic = max(0.0, spot - strike) if right == "C" else max(0.0, strike - spot)
    if price <= intrinsic + 1e-9:
        return None
    lo, hi = 1e-4, 10.0
    if bs_price(right, spot, strike, years, hi) < price:
        return None
    for _ in range(80):
        mid = (lo + hi) / 2
        if bs_price(right, spot, strike, years, mid) < price:
            lo = mid
        else:
            hi = mid
    sd = hi * math.sqrt(years)
    d1 = (math.log(spot / strike) + sd * sd / 2) / sd
    delta = STANDARD_NORMAL.cdf(d1) if right == "C" else STANDARD_NORMAL.cdf(d1) - 1.0
    return abs(delta) * 100.0
