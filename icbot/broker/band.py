"""Which options to stream: pure functions of the index level, the listed strikes, a volatility guess and, once
they stream, the deltas IB reports.

IB gives an account 100 market-data lines, shared with the trader's own TWS windows, and icbot holds at most 30
at any moment (docs/simulator.md, "Benchmarks"), while a 0DTE SPXW chain lists hundreds of strikes. Selection
only ever chooses a short strike whose delta lies in [min_delta, max_delta] and then needs the wing `wing`
points further out for the combo's mid, so per side (puts below the index, calls above it) the entry streams:

* the candidates — every strike whose delta is in the rule's band;
* the two markers — the first strike inside (|delta| > max_delta) and the first outside (|delta| < min_delta)
  of the candidates, each with MARKER_MARGIN to spare so that the last second's move does not carry it into
  the band. Deltas fall monotonically away from the money, so once a strike on each side of the candidates has
  reported a delta outside the rule, no strike that is not streamed can be a candidate: selection over the band
  is selection over the whole chain (`Band.covered`; tests/broker/test_band_selection.py replays the
  simulator's mornings to show it);
* the wings of the candidates and of the inner marker (the outer marker's own wing is left out: it is chosen
  only if it crossed into the band at the last instant and is the closest to the target, and then the entry
  streams that wing before it prices the combo).

`entry_band` finds the markers from the deltas already streaming and re-centres the band as the market moves;
before any delta is known (or for a marker not yet seen) it estimates the strikes from a lognormal move with a
pad, calibrated by the deltas seen so far. `band_strikes` is the older, model-only band of a given size, kept for
the connection probe.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist, median

DEFAULT_VOL = 0.25  # annualised; used when no VIX is known (wider than usual on purpose)
# Trading time: 252 sessions of 390 minutes. With VIX as the volatility this over-estimates a 0DTE move a
# little (calendar time would under-estimate it by half), which is the safe side for a band.
MINUTES_PER_YEAR = 252.0 * 390.0
ENTRY_MINUTES_TO_CLOSE = 388.0  # 09:32 → 16:00 ET
PUT_SKEW = 1.3  # the put window reaches as far as a 30 % higher volatility would put the 8-delta put
# The entry's option lines: with the index line 29, one under the 30 icbot holds at most (a wing added at the
# last instant, see above, may take the 30th).
OPTION_LINES = 28
# Before a marker has reported, its strike is estimated this many delta points beyond the rule's band: wide
# enough that the first deltas bracket the band on a normal morning, narrow enough for the line budget.
ESTIMATE_PAD = (3.0, 1.5)  # (inside max_delta, outside min_delta)
# Delta points the markers keep beyond the rule's band: in a second a 0DTE delta near 15 moves by a few tenths on
# a normal morning (the simulator's largest over 32 mornings, 09:31–09:32: 0.6). A marker the last second did
# carry into the band leaves the band unproven (`covered` false) and the entry follows the market a moment longer.
MARKER_MARGIN = 0.5
_N = NormalDist()

Key = tuple[str, float]  # (right "P" or "C", strike)


def distance_for_delta(delta_points: float, *, spx: float, vol: float, minutes_to_expiry: float) -> float:
    """Points out of the money at which an option has |delta| ≈ delta_points (driftless lognormal approximation)."""
    d = min(max(delta_points / 100.0, 1e-4), 0.5)
    sigma_pts = spx * vol * math.sqrt(max(minutes_to_expiry, 1.0) / MINUTES_PER_YEAR)
    return _N.inv_cdf(1.0 - d) * sigma_pts


def _z(delta_points: float) -> float:
    return _N.inv_cdf(1.0 - min(max(delta_points / 100.0, 1e-4), 0.5))


@dataclass(frozen=True, slots=True)
class Band:
    """The options to stream for the entry, and whether the deltas already streaming prove them enough.

    `covered`: on both sides a streamed strike inside and one outside the candidates reported a delta beyond
    the rule's band, and every listed strike between them has reported (a quote or a delta; IB leaves some
    deltas uncomputed, and then the whole chain does not know them either), so no option outside the band can
    be a candidate. `trimmed`: options the band
    needed but the line budget left out (then `covered` may still be true, but the wings of some candidates
    are missing).
    """

    keys: tuple[Key, ...]  # puts then calls, each ascending by strike
    covered: bool
    trimmed: tuple[Key, ...] = ()

    @property
    def strikes(self) -> list[float]:
        return sorted({k for _, k in self.keys})


@dataclass(frozen=True, slots=True)
class _Side:
    right: str
    needed: list[float]  # strikes, with their priority (lower first)
    rank: dict[float, float]
    covered: bool


def entry_band(
    spx: float,
    listed: Sequence[float],
    *,
    vol: float | None,
    deltas: Mapping[Key, float | None] | None = None,
    wing: float = 20.0,
    min_delta: float = 10.0,
    max_delta: float = 16.9,
    max_lines: int = OPTION_LINES,
    minutes_to_expiry: float = ENTRY_MINUTES_TO_CLOSE,
) -> Band:
    """The entry's band: per side the candidates, the two markers and the candidates' wings (module docstring).

    `deltas` holds every option line that has reported since it was opened: its absolute model delta in points,
    or None while IB has not computed one. Strikes are in the index's own points (XSP: about SPX / 10). With
    more options needed than `max_lines`, the ones furthest (in standard deviations) from the target delta's
    strike go first, wings before candidates.
    """
    strikes = sorted({float(k) for k in listed if k and k > 0})
    budget = max(0, int(max_lines))
    if not strikes or budget == 0 or not spx or spx <= 0:
        return Band((), False)
    seen = dict(deltas or {})
    v = vol if vol is not None and vol > 0 else DEFAULT_VOL
    sigma = spx * v * math.sqrt(max(minutes_to_expiry, 1.0) / MINUTES_PER_YEAR)
    sides = [
        _side(r, spx, strikes, seen, sigma * skew, wing=wing, min_delta=min_delta, max_delta=max_delta)
        for r, skew in (("P", math.sqrt(PUT_SKEW)), ("C", 1.0))
    ]
    ranked = sorted(((s.rank[k], s.right, k) for s in sides for k in s.needed), key=lambda x: (x[0], x[1], x[2]))
    kept = {(r, k) for _, r, k in ranked[:budget]}
    trimmed = tuple(sorted((r, k) for _, r, k in ranked[budget:]))
    keys = tuple(sorted(kept, key=lambda key: (key[0] != "P", key[1])))
    return Band(keys, all(s.covered for s in sides), trimmed)


def _side(
    right: str,
    spx: float,
    strikes: list[float],
    seen: Mapping[Key, float | None],
    sigma_model: float,
    *,
    wing: float,
    min_delta: float,
    max_delta: float,
) -> _Side:
    sign = -1.0 if right == "P" else 1.0

    def out(k: float) -> float:  # points out of the money on this side
        return sign * (k - spx)

    obs = {k: d for (r, k), d in seen.items() if r == right and d is not None and math.isfinite(d)}
    # Calibrate the move from the deltas seen: each reported delta says how many points one "z" is here.
    fits = [out(k) / _z(d) for k, d in obs.items() if 2.0 <= d <= 40.0 and out(k) > 0]
    sigma = median(fits) if fits else sigma_model
    ordered = sorted(strikes, key=out)  # from the money outwards (strikes on the wrong side of the index first)
    outs = [out(k) for k in ordered]  # ascending: every range below is a slice found by bisection, not a scan
    # The markers the band is fitted to lie MARKER_MARGIN beyond the rule's band, so that the market's move in
    # the last second before the entry does not carry them into it; the proof (`covered`) needs the rule alone.
    inner_seen, outer_seen = _markers(obs, out, min_delta - MARKER_MARGIN, max_delta + MARKER_MARGIN)
    low = min((out(k) for k, d in obs.items() if d <= max_delta + MARKER_MARGIN), default=math.inf)
    high = max((out(k) for k, d in obs.items() if d >= min_delta - MARKER_MARGIN), default=-math.inf)
    if inner_seen is not None:
        inner = inner_seen
    else:  # the outermost strike with out <= x and out < low, else the first
        x = _z(max_delta + ESTIMATE_PAD[0]) * sigma
        n_inside = min(bisect_right(outs, x), bisect_left(outs, low))
        inner = ordered[n_inside - 1] if n_inside else ordered[0]
    if outer_seen is not None:
        outer = outer_seen
    else:  # the innermost strike with out >= x, out > high and out > out(inner), else the last
        x = _z(max(min_delta - ESTIMATE_PAD[1], 0.5)) * sigma
        first = max(bisect_left(outs, x), bisect_right(outs, high), bisect_right(outs, out(inner)))
        outer = ordered[first] if first < len(ordered) else ordered[-1]
    core = ordered[bisect_left(outs, out(inner)) : bisect_right(outs, out(outer))]
    # the wings of every candidate and of the inner marker: up to (not including) the outer marker's own wing
    wings = ordered[bisect_right(outs, out(outer)) : bisect_left(outs, out(outer) + wing)]
    proof_in, proof_out = _markers(obs, out, min_delta, max_delta)
    covered = (
        proof_in is not None
        and proof_out is not None
        and all(
            (right, k) in seen for k in ordered[bisect_right(outs, out(proof_in)) : bisect_left(outs, out(proof_out))]
        )
    )
    target = _z((min_delta + max_delta) / 2.0) * sigma
    scale = sigma if sigma > 0 else 1.0
    rank = {k: abs(out(k) - target) / scale for k in core}
    rank.update({k: abs(out(k) - wing - target) / scale + 0.5 for k in wings})
    return _Side(right, core + wings, rank, covered)


def _markers(
    obs: Mapping[float, float], out: Callable[[float], float], lo: float, hi: float
) -> tuple[float | None, float | None]:
    """The inner marker (the outermost strike reported above `hi` that lies inside every strike reported at or
    below it) and the outer marker (the innermost reported below `lo` outside every one at or above it)."""
    low = min((out(k) for k, d in obs.items() if d <= hi), default=math.inf)
    high = max((out(k) for k, d in obs.items() if d >= lo), default=-math.inf)
    inner = [k for k, d in obs.items() if d > hi and out(k) < low]
    outer = [k for k, d in obs.items() if d < lo and out(k) > high]
    return (max(inner, key=out) if inner else None, min(outer, key=out) if outer else None)


def band_strikes(
    spx: float,
    listed: Sequence[float],
    *,
    vol: float | None,
    max_lines: int = OPTION_LINES,
    lines_per_strike: int = 1,
    wing: float = 20.0,
    min_delta: float = 10.0,
    max_delta: float = 16.9,
    minutes_to_expiry: float = ENTRY_MINUTES_TO_CLOSE,
) -> list[float]:
    """Up to max_lines // lines_per_strike listed strikes, ascending, covering both short windows and their wings.

    A model-only band (no deltas seen), used by the connection probe. The essential window per side runs from a
    strike well inside max_delta (|delta| ≈ max_delta + 8) out to a strike beyond min_delta
    (|delta| ≈ 0.8 × min_delta) plus the wing; on the put side the outer edge assumes a volatility PUT_SKEW
    times higher, because index puts carry skew. Strikes are ranked by how far (in standard deviations of the
    day's move) they lie outside their window, nearest first.
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
