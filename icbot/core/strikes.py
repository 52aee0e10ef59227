"""Which strikes to sell: the user's delta rule (docs/strategy.md §3), then fixed-width wings.

Deltas are absolute IB model deltas in points (0.15 → 15). They are compared as decimals on a 1e-6 grid
(icbot.core.numbers), so 16.9 arriving as 16.900000000000002 is still "16.9, allowed", and distances such
as 1.9 vs 2.0 or 0.20 vs 0.25 are compared exactly, not with binary-float noise.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from icbot.core.numbers import dec

if TYPE_CHECKING:
    from icbot.config import StrikesConfig

Side = Literal["put", "call"]


def pick_short_strike(
    deltas: Mapping[float, float],
    *,
    target: float = 15.0,
    max_delta: float = 16.9,
    min_delta: float = 10.0,
    tie_tolerance: float = 0.05,
    side: Side | None = None,
) -> float | None:
    """The short strike for one side, or None when no strike qualifies (no trade today).

    `deltas` maps strike → absolute delta in points; unknown deltas (None, NaN) are skipped and a sign is
    ignored. Among strikes whose delta lies in [min_delta, max_delta], the one closest to `target` wins;
    every strike whose distance is within `tie_tolerance` of the best distance ties with it, and among the
    tied the higher delta wins (the user's "slightly higher delta at a similar distance"). Should two
    strikes carry the very same delta, the one further out of the money wins: the lower strike for
    `side="put"`, the higher for `side="call"`, the lower when the side is not given.
    """
    lo, hi, goal, tol = dec(min_delta), dec(max_delta), dec(target), dec(tie_tolerance)
    candidates: list[tuple[float, Decimal]] = []
    for strike, delta in deltas.items():
        if delta is None or not math.isfinite(delta):
            continue
        d = abs(dec(delta))
        if lo <= d <= hi:
            candidates.append((strike, d))
    if not candidates:
        return None
    best = min(abs(d - goal) for _, d in candidates)
    near = [(strike, d) for strike, d in candidates if abs(d - goal) - best <= tol]
    highest = max(d for _, d in near)
    tied = [strike for strike, d in near if d == highest]
    return max(tied) if side == "call" else min(tied)


@dataclass(frozen=True, slots=True)
class Condor:
    """Four strikes, long put < short put < short call < long call, plus the deltas that chose the shorts."""

    long_put: float
    short_put: float
    short_call: float
    long_call: float
    short_put_delta: float | None = None
    short_call_delta: float | None = None

    @property
    def put_width(self) -> float:
        return self.short_put - self.long_put

    @property
    def call_width(self) -> float:
        return self.long_call - self.short_call


@dataclass(frozen=True, slots=True)
class NoCondor:
    """No condor today, and why, in words fit for the alert."""

    reason: str


def select_condor(
    put_deltas: Mapping[float, float],
    call_deltas: Mapping[float, float],
    listed_strikes: Collection[float],
    strikes_cfg: StrikesConfig,
) -> Condor | NoCondor:
    """Today's condor from the two sides' deltas, or the reason there is none.

    `listed_strikes` are the strikes listed for today's expiry (SPXW lists the same strikes for puts and
    calls). A wing that is not listed is a refusal, never a silent move to a neighbouring strike: that
    would change the risk the user signed up for.
    """
    c = strikes_cfg
    rule = dict(target=c.target_delta, max_delta=c.max_delta, min_delta=c.min_delta, tie_tolerance=c.tie_tolerance)
    band = f"{c.min_delta:g}–{c.max_delta:g}"
    short_put = pick_short_strike(put_deltas, side="put", **rule)
    if short_put is None:
        return NoCondor(f"no put strike with a known delta in {band} ({_known(put_deltas)} put deltas known)")
    short_call = pick_short_strike(call_deltas, side="call", **rule)
    if short_call is None:
        return NoCondor(f"no call strike with a known delta in {band} ({_known(call_deltas)} call deltas known)")
    if dec(short_put) >= dec(short_call):
        return NoCondor(f"short put {short_put:g} is not below short call {short_call:g}; the deltas look wrong")
    listed = {dec(s) for s in listed_strikes}
    width = dec(c.wing_width)
    long_put, long_call = dec(short_put) - width, dec(short_call) + width
    for label, strike in (("short put", dec(short_put)), ("short call", dec(short_call))):
        if strike not in listed:
            return NoCondor(f"{label} {strike.normalize():f} is not a listed strike")
    if long_put not in listed:
        return NoCondor(f"long put wing {long_put.normalize():f} (short put − {c.wing_width:g}) is not a listed strike")
    if long_call not in listed:
        return NoCondor(f"long call wing {long_call.normalize():f} (short call + {c.wing_width:g}) is not listed")
    return Condor(
        long_put=float(long_put),
        short_put=short_put,
        short_call=short_call,
        long_call=float(long_call),
        short_put_delta=abs(float(put_deltas[short_put])),
        short_call_delta=abs(float(call_deltas[short_call])),
    )


def _known(deltas: Mapping[float, float]) -> int:
    return sum(1 for d in deltas.values() if d is not None and math.isfinite(d))
