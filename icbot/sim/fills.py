"""Fill rules: when a working order trades and at what price. Pure functions of the quote and a uniform draw.

The combo's quote comes from its legs (Market.combo_quote): buying the combo pays the BUY legs' asks and
receives the SELL legs' bids, so `ask` is the buyer's natural price and `bid` the seller's. For a buy limit:

* at or through the natural (limit ≥ ask): fills at once, at the natural (the better price);
* between the mid and the natural: fills with a probability per second that rises from `p_mid` at the mid to
  `p_near` just inside the natural, at the limit — so a limit at the mid fills sometimes, not always;
* below the mid (the passive side): never fills.

Sells mirror this around the bid. Draws are keyed by (seed, order, second), never by how often the loop
ran, so the same seed and the same order flow give the same fills at any speed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from icbot.sim.market import Quote

EPS = 1e-6
MASK64 = 0xFFFFFFFFFFFFFFFF


@dataclass(frozen=True, slots=True)
class FillParams:
    p_mid: float = 0.02  # probability per second of a fill for a limit exactly at the mid
    p_near: float = 0.60  # ... for a limit one hair inside the natural
    shape: float = 2.0  # p grows as p_mid + (p_near − p_mid)·x^shape, x = 0 at the mid, 1 at the natural

    def __post_init__(self) -> None:
        if not (0.0 <= self.p_mid <= self.p_near <= 1.0) or self.shape <= 0:
            raise ValueError("need 0 <= p_mid <= p_near <= 1 and shape > 0")


def mix(*parts: int) -> int:
    """splitmix64 over the parts: a stable hash for deterministic draws."""
    h = 0x9E3779B97F4A7C15
    for p in parts:
        h = (h ^ (p & MASK64)) * 0xBF58476D1CE4E5B9 & MASK64
        h = (h ^ (h >> 27)) * 0x94D049BB133111EB & MASK64
        h ^= h >> 31
    return h


def draw(*parts: int) -> float:
    """A uniform number in [0, 1) determined by the parts."""
    return (mix(*parts) >> 11) / float(1 << 53)


def natural(action: str, q: Quote) -> float:
    return q.ask if action == "BUY" else q.bid


def natural_size(action: str, q: Quote) -> int:
    return max(1, q.ask_size if action == "BUY" else q.bid_size)


def is_marketable(action: str, limit: float, q: Quote) -> bool:
    return limit >= q.ask - EPS if action == "BUY" else limit <= q.bid + EPS


def limit_fill_probability(action: str, limit: float, q: Quote, params: FillParams) -> float:
    """Probability per second that a non-marketable limit trades (0 on the passive side of the mid)."""
    mid = (q.bid + q.ask) / 2.0
    nat = natural(action, q)
    span = nat - mid
    if abs(span) < EPS:
        return 0.0
    x = (limit - mid) / span
    if x < -EPS:
        return 0.0
    x = min(max(x, 0.0), 1.0)
    return params.p_mid + (params.p_near - params.p_mid) * x**params.shape


def stop_triggered(
    action: str, stop: float, method: int, q: Quote, is_combo: bool, previous: bool
) -> tuple[bool, bool]:
    """Whether a stop elects now, by IB's trigger method; returns (triggered, condition_met_this_second).

    Sell stops watch prices falling to the stop, buy stops prices rising to it. Methods: 0 default (last
    for combos, double bid/ask for options, as IB documents), 1 double bid/ask, 2 last, 3 double last,
    4 bid/ask, 7 last or bid/ask, 8 midpoint. "Double" needs the condition on two consecutive seconds;
    `previous` says whether it held on the second before.
    """
    sell = action == "SELL"

    def crossed(price: float) -> bool:
        if math.isnan(price):
            return False
        return price <= stop + EPS if sell else price >= stop - EPS

    side_price = q.bid if sell else q.ask
    mid = (q.bid + q.ask) / 2.0
    if method == 0:
        method = 2 if is_combo else 1
    if method == 1:
        met = crossed(side_price)
        return met and previous, met
    if method == 2:
        met = crossed(q.last)
        return met, met
    if method == 3:
        met = crossed(q.last)
        return met and previous, met
    if method == 4:
        met = crossed(side_price)
        return met, met
    if method == 7:
        met = crossed(q.last) or crossed(side_price)
        return met, met
    met = crossed(mid)  # 8 and anything unknown: midpoint
    return met, met


def split_leg_prices(
    signed_ratios: Sequence[int], quotes: Sequence[Quote], action: str, combo_price: float
) -> list[float]:
    """Per-leg execution prices (≥ 0.01, in cents) whose signed sum is exactly the combo price.

    Starts from each leg's own natural for the combo's side (a BUY combo buys its BUY legs at the ask and
    sells its SELL legs at the bid) and spreads the price improvement over the legs, largest first, in cents.
    """
    sign = 1 if action == "BUY" else -1
    cents: list[int] = []
    for ratio, q in zip(signed_ratios, quotes, strict=True):
        buying_leg = ratio * sign > 0
        cents.append(max(1, round((q.ask if buying_leg else q.bid) * 100)))  # no leg trades at zero
    target = round(combo_price * 100)
    current = sum(r * c for r, c in zip(signed_ratios, cents, strict=True))
    diff = target - current  # cents the signed sum must move
    order = sorted(range(len(cents)), key=lambda i: -cents[i])
    guard = 0
    while diff != 0 and guard < 100_000:
        guard += 1
        moved = False
        for i in order:
            r = signed_ratios[i]
            if diff == 0:
                break
            step = 1 if diff * r > 0 else -1  # raising a BUY leg raises the sum; raising a SELL leg lowers it
            if cents[i] + step < 1:
                continue
            if abs(r) > abs(diff):
                continue
            cents[i] += step
            diff -= step * r
            moved = True
        if not moved:
            break
    return [c / 100.0 for c in cents]
