"""The journal's records as typed values: what `icbot.store` returns and takes (docs/storage.md).

Every word the journal stores — a trade's status, an order's role and status, an exit reason, a phase, an alert
level — is a `StrEnum` member here, so the stored text stays exactly what older journals hold while the code
compares members, not string literals. "Working", "done" and "open" are defined once, on the enums.

Rows are frozen dataclasses: a record read from the journal is a fact about the past, never edited in place;
a change is written through the store and read back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    PAPER = "paper"
    LIVE = "live"
    EXPERIMENT = "experiment"


class TradeStatus(StrEnum):
    """A trade day's state. `pending`: the day has begun, no fill known; `open`: risk is on; the rest are final."""

    PENDING = "pending"
    OPEN = "open"
    CLOSED = "closed"
    NO_TRADE = "no_trade"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (TradeStatus.CLOSED, TradeStatus.NO_TRADE, TradeStatus.FAILED)


class Role(StrEnum):
    """What an icbot order is for; encoded in its orderRef and stored on orders and fills."""

    ENTRY = "entry"
    TAKE_PROFIT = "take_profit"
    STOP = "stop"
    TIME_EXIT = "time_exit"
    CLOSE = "close"
    UNKNOWN = "unknown"  # a fill whose orderRef names no role (stored on fills only)

    @property
    def is_exit(self) -> bool:
        return self in EXIT_ROLES


EXIT_ROLES: tuple[Role, ...] = (Role.TAKE_PROFIT, Role.STOP, Role.TIME_EXIT)


class OrderStatus(StrEnum):
    """IB's order statuses (orderStatus.htm) plus the journal's own `intent`, `placed` and `Rejected`."""

    INTENT = "intent"  # journaled, not yet handed to the gateway
    PLACED = "placed"  # handed to the gateway, no status back yet
    PENDING_SUBMIT = "PendingSubmit"
    API_PENDING = "ApiPending"
    PRE_SUBMITTED = "PreSubmitted"
    SUBMITTED = "Submitted"
    PENDING_CANCEL = "PendingCancel"
    API_CANCELLED = "ApiCancelled"
    CANCELLED = "Cancelled"
    FILLED = "Filled"
    INACTIVE = "Inactive"
    REJECTED = "Rejected"  # the journal's word for an error before any acknowledgement
    UNKNOWN = "Unknown"  # a status word IB has not documented

    @classmethod
    def parse(cls, text: str) -> OrderStatus:
        """The member for `text`; an undocumented word is UNKNOWN (treated as working: verify at the broker)."""
        try:
            return cls(text)
        except ValueError:
            return cls.UNKNOWN

    @property
    def is_working(self) -> bool:
        """The order may still execute at the broker (a cancel that is not confirmed yet may still fill)."""
        return self in _WORKING

    @property
    def is_done(self) -> bool:
        """The broker will never execute (more of) this order."""
        return self in _DONE

    @property
    def is_acknowledged(self) -> bool:
        """The gateway has accepted the order (an exit counts as placed only from here on)."""
        return self in (OrderStatus.PRE_SUBMITTED, OrderStatus.SUBMITTED, OrderStatus.FILLED)


_WORKING = frozenset(
    {
        OrderStatus.PLACED,
        OrderStatus.PENDING_SUBMIT,
        OrderStatus.API_PENDING,
        OrderStatus.PRE_SUBMITTED,
        OrderStatus.SUBMITTED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.UNKNOWN,
    }
)
_DONE = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.API_CANCELLED,
        OrderStatus.INACTIVE,
        OrderStatus.REJECTED,
    }
)


class ExitReason(StrEnum):
    TAKE_PROFIT = "take_profit"
    STOP = "stop"
    TIME_EXIT = "time_exit"
    MANUAL = "manual"  # closed outside icbot, or by `icbot kill`'s close order
    EXPIRED = "expired"
    EXPERIMENT_TAKE_PROFIT = "experiment_take_profit"
    EXPERIMENT_STOP = "experiment_stop"
    EXPERIMENT_TIME_EXIT = "experiment_time_exit"


REASON_BY_ROLE: Mapping[Role, ExitReason] = {
    Role.TAKE_PROFIT: ExitReason.TAKE_PROFIT,
    Role.STOP: ExitReason.STOP,
    Role.TIME_EXIT: ExitReason.TIME_EXIT,
    Role.CLOSE: ExitReason.MANUAL,
}


class Phase(StrEnum):
    """The phases shown to the user (the brainstorm's status list), in the order a day passes them."""

    CONNECT = "connect"
    WAIT_ENTRY = "wait_entry"
    UNDERLYING = "underlying"
    FILTER = "filter"
    SELECT = "select"
    ORDER = "order"
    FILL = "fill"
    EXITS = "exits"
    DONE = "done"
    RECONCILE = "reconcile"
    CLOSED = "closed"
    TOUCH = "touch"
    KILL = "kill"  # `icbot kill` and `icbot resume`


class EventStatus(StrEnum):
    START = "start"
    OK = "ok"
    FAIL = "fail"
    SKIP = "skip"
    INFO = "info"
    WARN = "warn"


class AlertLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    FAILURE = "failure"  # urgent


class HaltAction(StrEnum):
    HALT = "halt"
    RESUME = "resume"


@dataclass(frozen=True, slots=True)
class ComboLeg:
    """One leg of the condor's BAG as icbot orders it (and journals it on the order's intent)."""

    con_id: int
    action: str  # "BUY" | "SELL"
    right: str  # "P" | "C"
    strike: float
    local_symbol: str = ""


@dataclass(frozen=True, slots=True)
class Trade:
    """One trade day of one mode (the `trades` row). Money is per condor unless the name says otherwise."""

    id: int
    trade_date: date
    mode: Mode
    status: TradeStatus
    experiment: bool
    created_at: datetime
    updated_at: datetime
    short_put: float | None = None
    long_put: float | None = None
    short_call: float | None = None
    long_call: float | None = None
    put_delta: float | None = None
    call_delta: float | None = None
    spx_at_entry: float | None = None
    vix: float | None = None
    mid_at_decision: float | None = None
    natural_at_decision: float | None = None
    limit_price: float | None = None
    ladder_attempts: int | None = None
    seconds_to_fill: float | None = None
    quantity: int | None = None
    credit: float | None = None
    entry_commission: float | None = None
    entry_filled_at: datetime | None = None
    entry_order_ref: str | None = None
    oca_group: str | None = None
    exit_reason: ExitReason | None = None
    exit_debit: float | None = None
    exit_commission: float | None = None
    exited_at: datetime | None = None
    pnl: float | None = None
    minutes_in_trade: float | None = None
    no_trade_reason: str | None = None
    exits_ok: bool | None = None
    time_exit_at: datetime | None = None
    last_problem: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status is TradeStatus.OPEN

    @property
    def open_quantity(self) -> int:
        return int(self.quantity or 0)


# Trade columns a caller may set through `Store.save_trade` (the rest the store manages itself).
TRADE_MANAGED = frozenset({"id", "trade_date", "mode", "created_at", "updated_at"})


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One icbot order as journaled: the intent, then what the gateway said about it (the `orders` row)."""

    id: int
    trade_date: date
    mode: Mode
    role: Role
    order_ref: str
    action: str
    order_type: str
    quantity: float
    legs: tuple[ComboLeg, ...]
    status: OrderStatus
    filled: float
    intent_at: datetime
    updated_at: datetime
    transmitted: bool
    order_id: int | None = None
    perm_id: int | None = None
    limit_price: float | None = None
    aux_price: float | None = None
    trigger_method: int | None = None
    good_after: str | None = None
    oca_group: str | None = None
    avg_fill_price: float | None = None
    placed_at: datetime | None = None

    @property
    def acknowledged_once(self) -> bool:
        """A gateway gave it an orderId: it was sent, whatever the gateway reports now."""
        return self.order_id is not None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One step of an order's status history (`order_status`)."""

    id: int
    order_ref: str
    at: datetime
    status: OrderStatus
    filled: float
    remaining: float
    avg_fill_price: float | None
    message: str


@dataclass(frozen=True, slots=True)
class PriceChange:
    """One re-price of an order (`order_prices`)."""

    id: int
    order_ref: str
    at: datetime
    limit_price: float | None
    aux_price: float | None


@dataclass(frozen=True, slots=True)
class Fill:
    """One leg execution (`fills`): money is accounted from these, never from a BAG's average price."""

    id: int
    exec_id: str
    trade_date: date
    mode: Mode
    side: str  # "BOT" | "SLD"
    quantity: float
    price: float
    at: datetime
    role: Role
    order_ref: str | None = None
    order_id: int | None = None
    perm_id: int | None = None
    con_id: int | None = None
    local_symbol: str | None = None
    right: str | None = None
    strike: float | None = None
    commission: float | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """One journal event: the user's phase list is built from these."""

    id: int
    run_id: int | None
    trade_date: date
    mode: Mode
    at: datetime
    phase: str  # a Phase member's text (free text is tolerated for old journals)
    status: EventStatus
    message: str
    data: Mapping[str, Any] | None = None


def selection_deltas(events: Sequence[Event]) -> tuple[dict[float, float], dict[float, float]]:
    """The put and call deltas by strike that run-today journaled with its last `select` event ({} without one):
    what the what-if replay and the bar recording need to place a variant's strikes as the day saw them."""
    for e in reversed(events):
        if e.phase == Phase.SELECT and e.status is EventStatus.OK and isinstance(e.data, Mapping):
            puts = {float(k): float(v) for k, v in (e.data.get("put_deltas") or {}).items()}
            calls = {float(k): float(v) for k, v in (e.data.get("call_deltas") or {}).items()}
            return puts, calls
    return {}, {}


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    at: datetime
    level: AlertLevel
    title: str
    body: str
    delivered: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Halt:
    id: int
    at: datetime
    action: HaltAction
    reason: str
    by: str


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    command: str
    mode: str
    started_at: datetime
    pid: int
    host: str
    version: str
    trade_date: date | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    argv: tuple[str, ...] = field(default_factory=tuple)
    summary: str = ""
