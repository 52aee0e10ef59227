"""What the broker layer hands to the rest of icbot: plain frozen values, no ib_async in sight.

The runner, the store and the CLI import only these. ib_async's own objects are mutable, camelCase, full of
sentinels (1.7976931348623157e308, -1, nan) and reset on disconnect; converting them at the edge
(`icbot.broker.convert`) means nothing above the broker has to know any of that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

Right = Literal["P", "C"]
Action = Literal["BUY", "SELL"]
OrderType = Literal["LMT", "STP", "MKT"]

# IB's order statuses (orderStatus.htm). PendingSubmit/PendingCancel are set by the client itself.
DONE_STATUSES = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive"})
WORKING_STATUSES = frozenset({"PendingSubmit", "ApiPending", "PreSubmitted", "Submitted", "PendingCancel"})


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
    """The streamed chain at one instant: what strike selection and the entry ladder are computed from."""

    at: datetime
    spx: float | None
    quotes: dict[tuple[str, float], OptionQuote]

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
class ComboLeg:
    con_id: int
    action: str  # "BUY" | "SELL"
    right: str
    strike: float
    local_symbol: str


@dataclass(frozen=True, slots=True)
class ComboOrder:
    """An order on a BAG of option legs. The entry is a BUY at a negative limit (a credit); exits SELL the BAG."""

    legs: tuple[ComboLeg, ...]
    action: str  # "BUY" | "SELL"
    quantity: int
    order_type: str  # "LMT" | "STP" | "MKT"
    order_ref: str
    limit_price: float | None = None
    aux_price: float | None = None
    trigger_method: int | None = None
    good_after: datetime | None = None
    oca_group: str | None = None
    oca_type: int | None = None
    transmit: bool = True
    tif: str = "DAY"


@dataclass(frozen=True, slots=True)
class OrderState:
    """The gateway's view of one order, as last reported (openOrder / orderStatus / completedOrder)."""

    order_id: int
    perm_id: int
    order_ref: str
    action: str
    order_type: str
    quantity: float
    limit_price: float | None
    aux_price: float | None
    status: str
    filled: float
    remaining: float
    avg_fill_price: float | None
    oca_group: str | None
    last_error: str | None
    legs: tuple[ComboLeg, ...] | None

    @property
    def is_done(self) -> bool:
        return self.status in DONE_STATUSES

    @property
    def is_working(self) -> bool:
        return self.status in WORKING_STATUSES

    @property
    def is_filled(self) -> bool:
        return self.status == "Filled"


@dataclass(frozen=True, slots=True)
class Execution:
    """One execution. A BAG fill comes as one `BAG` execution at the net price plus one `OPT` execution per leg."""

    exec_id: str
    order_id: int
    perm_id: int
    order_ref: str
    con_id: int
    local_symbol: str
    sec_type: str  # "OPT" | "BAG"
    right: str | None
    strike: float | None
    side: str  # "BOT" | "SLD"
    shares: float
    price: float
    at: datetime
    commission: float | None


@dataclass(frozen=True, slots=True)
class Position:
    con_id: int
    local_symbol: str
    sec_type: str
    right: str | None
    strike: float | None
    expiry: date | None
    quantity: float
    avg_cost: float  # IB's avgCost: includes the multiplier (price × 100 for SPX options)


@dataclass(frozen=True, slots=True)
class AccountValues:
    account: str
    net_liquidation: float | None
    available_funds: float | None
    buying_power: float | None


@dataclass(frozen=True, slots=True)
class QualifiedOption:
    """A single SPXW option the gateway knows: what a combo leg needs."""

    con_id: int
    local_symbol: str
    right: str
    strike: float

    def leg(self, action: str) -> ComboLeg:
        return ComboLeg(self.con_id, action, self.right, self.strike, self.local_symbol)
