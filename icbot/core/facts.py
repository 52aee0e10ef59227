"""What the broker says, as plain frozen values: orders, executions, positions, account figures.

The broker layer converts ib_async's mutable, sentinel-filled objects into these at the edge
(`icbot.broker.convert`); they live in the pure core because reconciliation (`icbot.core.reconcile`) decides
from them without importing the broker. An order's status is an `OrderStatus` member, so "working" and "done"
have one definition (icbot/core/journal.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from icbot.core.journal import ComboLeg, OrderStatus

__all__ = ["AccountValues", "ComboLeg", "ComboOrder", "Execution", "OrderState", "Position"]


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
    status: OrderStatus
    filled: float
    remaining: float
    avg_fill_price: float | None
    oca_group: str | None
    last_error: str | None
    legs: tuple[ComboLeg, ...] | None
    client_id: int = 0  # the API client that placed it: only that client can cancel it (docs/operations.md)

    def __post_init__(self) -> None:
        if not isinstance(self.status, OrderStatus):  # the converter hands IB's word over as text
            object.__setattr__(self, "status", OrderStatus.parse(str(self.status)))

    @property
    def is_done(self) -> bool:
        return self.status.is_done

    @property
    def is_working(self) -> bool:
        return self.status.is_working

    @property
    def is_filled(self) -> bool:
        return self.status is OrderStatus.FILLED


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


def options_held(positions: Iterable[Position] | None) -> dict[int, float]:
    """conId → quantity of the option positions (the account's stocks, futures and indices left out)."""
    return {p.con_id: p.quantity for p in positions or () if p.sec_type == "OPT"}


@dataclass(frozen=True, slots=True)
class AccountValues:
    account: str
    net_liquidation: float | None
    available_funds: float | None
    buying_power: float | None
