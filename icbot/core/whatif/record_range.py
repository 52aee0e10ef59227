"""Which strikes `check` records for a day's replays: the legs, and per side the listed strikes a variant could
move to, placed with the volatility the journaled deltas imply (docs/whatif.md, "What is recorded")."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from icbot.core.journal import Trade
from icbot.core.whatif.blackscholes import STANDARD_NORMAL


def strikes_to_record(
    trade: Trade,
    put_deltas: Mapping[float, float],
    call_deltas: Mapping[float, float],
    listed: Iterable[float],
    *,
    wing_width: float,
    low_delta: float = 10.0,
    high_delta: float = 35.0,
) -> list[tuple[str, float]]:
    """The options `check` records for a day: the four legs, and per side every listed strike from the
    `high_delta` strike at entry out to the `low_delta` strike were the index to touch the short strike, plus a
    wing beyond it — what a variant can move to (docs/whatif.md).

    IB gives deltas only for the strikes streamed at entry; further strikes are placed by the volatility those
    deltas imply (a normal model of the log price). The range is a bound, chosen generously.
    """
    out: set[tuple[str, float]] = set()
    legs = (trade.long_put, trade.short_put, trade.short_call, trade.long_call)
    for right, strike in zip(("P", "P", "C", "C"), legs, strict=True):
        if strike is not None:
            out.add((right, float(strike)))
    spot = trade.spx_at_entry
    strikes = sorted(set(float(k) for k in listed))
    if spot is None or not strikes:
        return sorted(out)
    for right, deltas, short in (("P", put_deltas, trade.short_put), ("C", call_deltas, trade.short_call)):
        sd = _sd(right, spot, deltas)
        if sd is None or short is None:
            continue
        z_hi, z_lo = STANDARD_NORMAL.inv_cdf(high_delta / 100), STANDARD_NORMAL.inv_cdf(low_delta / 100)
        # |Δ| ≈ N(ln(K/S)/σ√T) for a put, N(ln(S/K)/σ√T) for a call; z < 0 for deltas under 50
        if right == "P":
            near = spot * math.exp(z_hi * sd)  # the high_delta strike at entry
            far = short * math.exp(z_lo * sd) - wing_width  # the low_delta strike with the index at the short
            lo, hi = far, near
        else:
            near = spot * math.exp(-z_hi * sd)
            far = short * math.exp(-z_lo * sd) + wing_width
            lo, hi = near, far
        for k in strikes:
            if lo - 1e-9 <= k <= hi + 1e-9:
                out.add((right, k))
    return sorted(out)


def _sd(right: str, spot: float, deltas: Mapping[float, float]) -> float | None:
    """σ√T implied by the journaled deltas (median over the strikes between 5 and 45 delta): |Δ| ≈ N(−|ln(K/S)|/σ√T)."""
    values = []
    for k, d in deltas.items():
        d = abs(d)
        if 5.0 <= d <= 45.0 and k > 0 and k != spot:
            z = STANDARD_NORMAL.inv_cdf(d / 100)
            x = abs(math.log(k / spot))
            if z < 0 and x > 0:
                values.append(x / -z)
    if not values:
        return None
    values.sort()
    return values[len(values) // 2]
