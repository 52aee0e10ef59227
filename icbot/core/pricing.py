"""Combo prices and the entry ladder.

Sign convention (docs/strategy.md §Signs): the combo is BUY long put, SELL short put, SELL short call, BUY
long call, each ratio 1, and we BUY it. Its price is LP + LC − SP − SC, so a condor that pays us a credit has
a negative price: "−2.35" means we receive 2.35 per condor. A *lower* (more negative) limit asks for more
credit and is the safer, less aggressive one; a *higher* limit gives more away.

Exactness: inputs are snapped to a 1e-6 decimal grid (icbot.core.numbers) and all sums and roundings are
done on Decimals. `ComboQuote` values are exact sums of the leg quotes (a mid may sit on a half cent);
every *limit* price this module returns is an exact multiple of the combo tick, returned as the nearest
float.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from icbot.core.numbers import dec, floor_to, is_multiple, to_float


class QuoteError(ValueError):
    """A quote that cannot be priced (missing, negative, crossed)."""


@dataclass(frozen=True, slots=True)
class LegQuote:
    """One option's bid and ask. A bid of 0 (nobody bids a far wing) is a valid quote; a missing one is not."""

    bid: float
    ask: float

    def __post_init__(self) -> None:
        for name, value in (("bid", self.bid), ("ask", self.ask)):
            if value is None or not math.isfinite(value) or value < 0:
                raise QuoteError(f"{name} {value} is not a usable quote")
        if self.bid > self.ask:
            raise QuoteError(f"crossed quote: bid {self.bid} > ask {self.ask}")

    @property
    def mid(self) -> float:
        return to_float((dec(self.bid) + dec(self.ask)) / 2)


@dataclass(frozen=True, slots=True)
class ComboQuote:
    """The condor's mid and natural price (negative = credit). natural ≥ mid always: crossing costs credit."""

    mid: float
    natural: float

    @property
    def mid_credit(self) -> float:
        return to_float(-dec(self.mid))

    @property
    def natural_credit(self) -> float:
        return to_float(-dec(self.natural))


def combo_prices(lp: LegQuote, sp: LegQuote, sc: LegQuote, lc: LegQuote) -> ComboQuote:
    """Mid = Σ signed leg mids; natural = pay every ask we buy, take every bid we sell."""
    two = Decimal(2)
    mid = (dec(lp.bid) + dec(lp.ask)) / two + (dec(lc.bid) + dec(lc.ask)) / two
    mid -= (dec(sp.bid) + dec(sp.ask)) / two + (dec(sc.bid) + dec(sc.ask)) / two
    natural = dec(lp.ask) + dec(lc.ask) - dec(sp.bid) - dec(sc.bid)
    return ComboQuote(mid=to_float(mid), natural=to_float(natural))


def entry_ladder(mid: float, natural: float, *, step: float, tick: float, min_credit: float) -> list[float]:
    """The limit prices to try, in order: from the mid toward the natural price, never past either bound.

    Rung 0 is the mid rounded toward more credit; each next rung is `step` higher (less credit). The last
    rung is the most we may give: the natural price rounded toward more credit, or the `min_credit` floor
    (rounded to a tick that still meets it), or one tick of credit, whichever asks for the most. A ladder
    never contains a zero or debit price. An empty ladder means no trade: the mid's credit is already
    below `min_credit` (or there is no credit at all).
    """
    m, n, st, t, floor_credit = dec(mid), dec(natural), dec(step), _tick(tick), dec(min_credit)
    if st <= 0 or not is_multiple(st, t):
        raise ValueError(f"step {step} must be a positive multiple of the tick {tick}")
    if floor_credit < 0:
        raise ValueError(f"min_credit {min_credit} must not be negative")
    if n < m:
        raise ValueError(f"natural {natural} is below mid {mid}: the quotes are inconsistent")
    if -m < floor_credit:
        return []
    cap = min(floor_to(n, t), floor_to(-floor_credit, t), -t)
    start = floor_to(m, t)
    if start > cap:
        return []
    rungs = [start]
    while rungs[-1] + st < cap:
        rungs.append(rungs[-1] + st)
    if rungs[-1] < cap:
        rungs.append(cap)
    return [to_float(r) for r in rungs]


def _tick(tick: float) -> Decimal:
    t = dec(tick)
    if t <= 0:
        raise ValueError(f"tick {tick} must be positive")
    return t
