"""What the broker layer hands to the rest of icbot: plain frozen values, no ib_async in sight.

The runner, the store and the CLI import only these. ib_async's own objects are mutable, camelCase, full of
sentinels (1.7976931348623157e308, -1, nan) and reset on disconnect; converting them at the edge
(`icbot.broker.convert`) means nothing above the broker has to know any of that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from icbot.core.facts import AccountValues, ComboLeg, ComboOrder, Execution, OrderState, Position
from icbot.core.journal import OrderStatus

__all__ = [
    "DONE_STATUSES",
    "AccountValues",
    "ChainSnapshot",
    "ComboLeg",
    "ComboOrder",
    "Execution",
    "OptionQuote",
    "OrderState",
    "Position",
    "QualifiedOption",
]

Right = Literal["P", "C"]
Action = Literal["BUY", "SELL"]
OrderType = Literal["LMT", "STP", "MKT"]

# The broker's frozen values live in the pure core (reconciliation decides from them); re-exported here.
DONE_STATUSES = frozenset(s for s in OrderStatus if s.is_done)


@dataclass(frozen=True, slots=True)
class OptionQuote:
    """One streaming option line. `delta` is signed as IB gives it (puts negative); None means not yet known."""

    con_id: int
    right: str
    strike: float
    bid: float | None
    ask: float | None
    delta: float | None
    implied_vol: float | None
    und_price: float | None
    local_symbol: str

    @property
    def mid(self) -> float | None:
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2.0


@dataclass(frozen=True, slots=True)
class ChainSnapshot:
    """The streamed chain at one instant: what strike selection and the entry ladder are computed from.

    `spx` is the underlying index of the traded product (SPX, or XSP when trading XSP; see `underlying`).
    """

    at: datetime
    spx: float | None
    quotes: dict[tuple[str, float], OptionQuote]

    @property
    def underlying(self) -> float | None:
        """The underlying index level (SPX or XSP), in the same points as the strikes."""
        return self.spx

    def abs_delta_points(self, right: str) -> dict[float, float]:
        """strike → |delta| in points (0.15 → 15.0) for the strikes of one side whose delta is known."""
        return {
            strike: abs(q.delta) * 100.0 for (r, strike), q in self.quotes.items() if r == right and q.delta is not None
        }

    def quote(self, right: str, strike: float) -> OptionQuote | None:
        return self.quotes.get((right, float(strike)))

    def count_deltas(self, right: str) -> int:
        return sum(1 for (r, _), q in self.quotes.items() if r == right and q.delta is not None)


@dataclass(frozen=True, slots=True)
class QualifiedOption:
    """A single option of the traded product (SPXW or XSP) the gateway knows: what a combo leg needs."""

    con_id: int
    local_symbol: str
    right: str
    strike: float

    def leg(self, action: str) -> ComboLeg:
        return ComboLeg(self.con_id, action, self.right, self.strike, self.local_symbol)
