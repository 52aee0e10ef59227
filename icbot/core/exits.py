"""The two priced exits, computed from the real credit of the fill.

Both are limits/stops for a SELL of the same BAG we bought, so the price is negative: SELL at −3.75 means
"close the condor paying at most 3.75". Rounding goes toward the safe side of each order:

* take profit: the debit is rounded *down* to the tick — we never pay more than (100 − pct)% of the credit;
* stop: the debit is rounded *down* too — the stop never triggers later than `stop_multiple` × the credit.

Example (docs/strategy.md §7): credit 5.00, 25%, 3× → take profit −3.75, stop −15.00.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from icbot.core.numbers import dec, floor_to, to_float


@dataclass(frozen=True, slots=True)
class ExitPrices:
    """Combo prices for SELL orders (negative = we pay that debit to close)."""

    take_profit: float
    stop: float
    stop_raised: bool = False  # True only when rounding down would have put the stop at or below the credit

    @property
    def take_profit_debit(self) -> float:
        return to_float(-dec(self.take_profit))

    @property
    def stop_debit(self) -> float:
        return to_float(-dec(self.stop))


def exit_prices(credit: float, *, profit_target_pct: float, stop_multiple: float, tick: float) -> ExitPrices:
    """Take-profit and stop prices for a condor filled at `credit` (positive, per condor).

    One corner case is resolved toward having a working stop: if rounding `credit × stop_multiple` down
    would land at or below the credit itself (only possible when the multiple is within a tick of 1), the
    stop is placed one tick above the credit instead and `stop_raised` says so. A stop at the entry price
    would fire at once on the spread alone.
    """
    c, t = dec(credit), dec(tick)
    pct, mult = dec(profit_target_pct), dec(stop_multiple)
    if c <= 0:
        raise ValueError(f"credit {credit} must be positive (a condor is sold for a credit)")
    if t <= 0:
        raise ValueError(f"tick {tick} must be positive")
    if not Decimal(0) < pct < Decimal(100):
        raise ValueError(f"profit_target_pct {profit_target_pct} must be between 0 and 100")
    if mult <= 1:
        raise ValueError(f"stop_multiple {stop_multiple} must be above 1")
    tp_debit = floor_to(c * (Decimal(100) - pct) / Decimal(100), t)
    stop_debit = floor_to(c * mult, t)
    raised = False
    if stop_debit <= c:
        stop_debit = floor_to(c, t) + t
        raised = True
    return ExitPrices(take_profit=to_float(-tp_debit), stop=to_float(-stop_debit), stop_raised=raised)
