"""Which strikes to stream: a pure function of the index level, the listed strikes and a volatility guess.

IB allows 100 market-data lines and icbot promises never to use more than 50 (docs/simulator.md, "Benchmarks"),
while a 0DTE SPXW chain lists hundreds of strikes. Strike selection only ever needs the out-of-the-money strikes
whose delta can fall in [min_delta, max_delta] and the wings 20 points beyond them, so the band is two windows —
one below the index for puts, one above for calls — sized from the expected move, with the at-the-money middle
left out. By default one
line per strike is counted, because the gateway streams only the out-of-the-money right of each strike. Whatever
line budget is left widens the windows evenly (in standard deviations), because the volatility guess is only a
guess: 0DTE skew puts the real 10-delta put further out than an at-the-money volatility suggests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

DEFAULT_VOL = 0.25  # annualised; used when no VIX is known (wider than usual on purpose)
# Trading time: 252 sessions of 390 minutes. With VIX as the volatility this over-estimates a 0DTE move a
# little (calendar time would under-estimate it by half), which is the safe side for a band.
MINUTES_PER_YEAR = 252.0 * 390.0
ENTRY_MINUTES_TO_CLOSE = 388.0  # 09:32 → 16:00 ET
PUT_SKEW = 1.3  # the put window reaches as far as a 30 % higher volatility would put the 8-delta put
_N = NormalDist()


def distance_for_delta(delta_points: float, *, spx: float, vol: float, minutes_to_expiry: float) -> float:
    """Points out of the money at which an option has |delta| ≈ delta_points (driftless lognormal approximation)."""
    d = min(max(delta_points / 100.0, 1e-4), 0.5)
    sigma_pts = spx * vol * math.sqrt(max(minutes_to_expiry, 1.0) / MINUTES_PER_YEAR)
    return _N.inv_cdf(1.0 - d) * sigma_pts


def band_strikes(
    spx: float,
    listed: Sequence[float],
    *,
    vol: float | None,
    max_lines: int = 48,
    lines_per_strike: int = 1,
    wing: float = 20.0,
    min_delta: float = 10.0,
    max_delta: float = 16.9,
    minutes_to_expiry: float = ENTRY_MINUTES_TO_CLOSE,
) -> list[float]:
    """Up to max_lines // lines_per_strike listed strikes, ascending, covering both short windows and their wings.

    The essential window per side runs from a strike well inside max_delta (|delta| ≈ max_delta + 8) out to a
    strike beyond min_delta (|delta| ≈ 0.8 × min_delta) plus the wing; on the put side the outer edge assumes
    a volatility PUT_SKEW times higher, because index puts carry skew. Strikes are ranked by how far (in
    standard deviations of the day's move) they lie outside their window, nearest first.
    """
    strikes = sorted({float(k) for k in listed if k and k > 0})
    budget = max(0, int(max_lines) // max(1, int(lines_per_strike)))
    if not strikes or budget == 0 or not spx or spx <= 0:
        return []
    v = vol if vol is not None and vol > 0 else DEFAULT_VOL
    sigma_pts = spx * v * math.sqrt(max(minutes_to_expiry, 1.0) / MINUTES_PER_YEAR)

    def dist(delta_points: float, vol_: float) -> float:
        return distance_for_delta(delta_points, spx=spx, vol=vol_, minutes_to_expiry=minutes_to_expiry)

    inner = dist(max_delta + 8.0, v)
    outer = {"C": dist(0.8 * min_delta, v) + wing, "P": dist(0.8 * min_delta, v * PUT_SKEW) + wing}
    target = {"C": dist(15.0, v), "P": dist(15.0, v * math.sqrt(PUT_SKEW))}

    def rank(k: float) -> tuple[float, float]:
        x = abs(k - spx)
        side = "P" if k < spx else "C"
        if x < inner:
            outside = (inner - x) / sigma_pts
        elif x > outer[side]:
            outside = (x - outer[side]) / sigma_pts
        else:
            outside = 0.0
        # inside the window, keep the likely shorts and their wings first
        near = min(abs(x - target[side]), abs(x - (target[side] + wing)))
        return (round(outside, 9), near)

    chosen = sorted(strikes, key=rank)[:budget]
    return sorted(chosen)
