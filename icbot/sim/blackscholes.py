"""Black-Scholes for European index options (SPX: cash-settled, European), no dividends.

Kept apart from the market model so the formulas can be checked on their own (put-call parity, the
greeks against finite differences) and so the simulator's order engine can reuse `implied_vol` for
bid/ask greeks. Units follow what IB sends in tickOptionComputation: delta per 1 point of the index,
gamma per point², vega per 1 volatility point (0.01), theta per calendar day.
"""

from __future__ import annotations

import math
from typing import NamedTuple

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def norm_cdf(x: float) -> float:
    """Standard normal CDF; erfc keeps precision deep in the lower tail (far OTM deltas)."""
    return 0.5 * math.erfc(-x / _SQRT2)


def norm_pdf(x: float) -> float:
    return _INV_SQRT_2PI * math.exp(-0.5 * x * x)


class BSResult(NamedTuple):
    price: float
    delta: float
    gamma: float
    vega: float  # per 1 vol point
    theta: float  # per calendar day


def _check(right: str, spot: float, strike: float, years: float, vol: float) -> None:
    if right not in ("P", "C"):
        raise ValueError(f"right must be 'P' or 'C', got {right!r}")
    if spot <= 0 or strike <= 0 or years <= 0 or vol <= 0:
        raise ValueError(f"Black-Scholes needs positive inputs: S={spot} K={strike} T={years} vol={vol}")


def price_and_greeks(right: str, spot: float, strike: float, years: float, rate: float, vol: float) -> BSResult:
    """Price and greeks in one pass: d1/d2 and the exponentials are shared, which is most of the cost."""
    _check(right, spot, strike, years, vol)
    sqrt_t = math.sqrt(years)
    sig_t = vol * sqrt_t
    d1 = (math.log(spot / strike) + (rate + 0.5 * vol * vol) * years) / sig_t
    d2 = d1 - sig_t
    disc_k = strike * math.exp(-rate * years)
    pdf1 = norm_pdf(d1)
    gamma = pdf1 / (spot * sig_t)
    vega = spot * pdf1 * sqrt_t / 100.0
    decay = -spot * pdf1 * vol / (2.0 * sqrt_t)
    if right == "C":
        nd1, nd2 = norm_cdf(d1), norm_cdf(d2)
        price = spot * nd1 - disc_k * nd2
        delta = nd1
        theta = decay - rate * disc_k * nd2
    else:
        nmd1, nmd2 = norm_cdf(-d1), norm_cdf(-d2)
        price = disc_k * nmd2 - spot * nmd1
        delta = -nmd1
        theta = decay + rate * disc_k * nmd2
    return BSResult(max(price, 0.0), delta, gamma, vega, theta / 365.0)


def price(right: str, spot: float, strike: float, years: float, rate: float, vol: float) -> float:
    return price_and_greeks(right, spot, strike, years, rate, vol).price


def implied_vol(
    right: str,
    target: float,
    spot: float,
    strike: float,
    years: float,
    rate: float,
    *,
    lo: float = 1e-4,
    hi: float = 8.0,
) -> float | None:
    """The volatility that reproduces `target`, or None when no volatility in [lo, hi] does.

    None is the honest answer for a bid of 0 or a price below the discounted intrinsic value: IB sends
    its "not computed" sentinels in that case, and the caller should too. Bisection on the monotone
    price-in-vol curve, polished by Newton steps where vega is large enough to trust.
    """
    if target <= 0:
        return None
    p_lo = price(right, spot, strike, years, rate, lo)
    p_hi = price(right, spot, strike, years, rate, hi)
    if not p_lo <= target <= p_hi:
        return None
    a, b = lo, hi
    vol = 0.5 * (a + b)
    for _ in range(100):
        res = price_and_greeks(right, spot, strike, years, rate, vol)
        diff = res.price - target
        if abs(diff) < 1e-7:
            return vol
        if diff > 0:
            b = vol
        else:
            a = vol
        vega_unit = res.vega * 100.0
        newton = vol - diff / vega_unit if vega_unit > 1e-8 else -1.0
        vol = newton if a < newton < b else 0.5 * (a + b)
        if b - a < 1e-10:
            break
    return vol
