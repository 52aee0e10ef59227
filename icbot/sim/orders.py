"""One working order at the simulated gateway, and the checks IB applies before accepting one.

A rejected request gets IB's own error code and text (200 unknown contract, 110 price off the tick grid,
201 "Order rejected - reason:…", 434 zero size) so client code meets the same messages it will meet live.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from icbot.clock import NEW_YORK
from icbot.sim import messages as msg
from icbot.sim import order_messages as om
from icbot.sim.catalog import Catalog
from icbot.sim.conventions import ROOT_BY_SYMBOL
from icbot.sim.ibtime import ZONE_NAME, format_ib_time, parse_ib_time
from icbot.sim.market import Market
from icbot.sim.requests import OrderReq

DONE = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive"})
ORDER_TYPES = frozenset({"LMT", "MKT", "STP", "STP LMT"})
TIFS = frozenset({"DAY", "GTC", "GTD", "IOC", "FOK", ""})


class Rejection(NamedTuple):
    """IB's answer to an unacceptable order: the error code and its text."""

    code: int
    text: str


NO_SECURITY = Rejection(200, "No security definition has been found for the request")
BAD_TICK = Rejection(110, "The price does not conform to the minimum price variation for this contract.")


def rejected(reason: str) -> Rejection:
    return Rejection(201, f"Order rejected - reason:{reason}")


@dataclass(slots=True)
class SimOrder:
    order_id: int
    client_id: int
    perm_id: int
    req: OrderReq
    info: msg.ContractInfo
    legs: list[tuple[int, int]]  # (conId, signed ratio): + bought when the combo is bought, − sold
    placed_at: datetime
    status: str = "PendingSubmit"
    transmitted: bool = False
    filled: float = 0.0
    avg_price: float = 0.0
    last_price: float = 0.0
    good_after: datetime | None = None
    activate_at: datetime | None = None  # TimeCondition that submits the order
    cancel_at: datetime | None = None  # TimeCondition with conditionsCancelOrder, or goodTillDate
    triggered: bool = False
    stop_prev: bool = False  # the stop condition held on the previous second ("double" trigger methods)
    last_sec: int = 0
    done_at: datetime | None = None
    completed_status: str = ""
    leg_fills: dict[int, tuple[float, float]] = field(default_factory=dict)  # conId → (cum qty, avg price)

    def held_reason(self) -> str:
        """orderStatus.whyHeld: "trigger" while a stop waits un-elected at IB (IB simulates combo stops)."""
        return "trigger" if self.is_stop and not self.triggered and self.status == "PreSubmitted" else ""

    @property
    def remaining(self) -> float:
        return max(0.0, self.req.total_qty - self.filled)

    @property
    def is_combo(self) -> bool:
        return self.info.sec_type == "BAG"

    @property
    def is_stop(self) -> bool:
        return self.req.order_type in ("STP", "STP LMT")

    @property
    def effective_type(self) -> str:
        """What the order trades as now: a triggered STP is a market order, a triggered STP LMT a limit."""
        t = self.req.order_type
        if t == "STP":
            return "MKT" if self.triggered else "STP"
        if t == "STP LMT":
            return "LMT" if self.triggered else "STP"
        return t

    def apply_times(self, now: datetime) -> None:
        """Read goodAfterTime, goodTillDate and time conditions (already validated) into instants."""
        self.good_after = parse_ib_time(self.req.good_after_time)
        self.activate_at = None
        self.cancel_at = parse_ib_time(self.req.good_till_date) if self.req.tif == "GTD" else None
        for cond in self.req.conditions:
            if cond.cond_type == 3:
                at = parse_ib_time(cond.values[1])
                if self.req.conditions_cancel_order:
                    self.cancel_at = at
                else:
                    self.activate_at = at

    def is_active(self, t: datetime, open_time: datetime) -> bool:
        """Released to the (simulated) exchange: after the open, goodAfterTime and any time condition."""
        if t < open_time:
            return False
        if self.good_after is not None and t < self.good_after:
            return False
        return not (self.activate_at is not None and t < self.activate_at)

    def hold_warning(self) -> str:
        """IB's warning 399 text for an order held until its goodAfterTime."""
        assert self.good_after is not None
        when = self.good_after.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M:%S")
        what = "COMBO" if self.is_combo else self.info.local_symbol
        qty = msg.fmt_qty(self.req.total_qty)
        return (
            f"Order Message:\n{self.req.action} {qty} {self.info.symbol} {what}\n"
            f"Warning: your order will not be placed at the exchange until\n{when} {ZONE_NAME}"
        )

    def view(self, account: str) -> om.OrderView:
        r = self.req
        return om.OrderView(
            order_id=self.order_id,
            client_id=self.client_id,
            perm_id=self.perm_id,
            contract=self.info,
            action=r.action,
            total_qty=r.total_qty,
            order_type=r.order_type,
            lmt_price=r.lmt_price,
            aux_price=r.aux_price,
            tif=r.tif or "DAY",
            oca_group=r.oca_group,
            oca_type=r.oca_type if r.oca_group else 3,
            account=r.account or account,
            open_close=r.open_close,
            order_ref=r.order_ref,
            good_after_time=r.good_after_time,
            good_till_date=r.good_till_date,
            parent_id=r.parent_id,
            trigger_method=r.trigger_method,
            outside_rth=r.outside_rth,
            what_if=r.what_if,
            status=self.status,
            leg_prices=list(r.leg_prices),
            smart_combo_params=list(r.smart_combo_params),
            conditions=[(c.cond_type, c.conjunction, list(c.values)) for c in r.conditions],
            conditions_ignore_rth=r.conditions_ignore_rth,
            conditions_cancel_order=r.conditions_cancel_order,
            filled=self.filled,
            completed_status=self.completed_status,
        )


def _on_grid(price: float, tick: float) -> bool:
    steps = price / tick
    return abs(steps - round(steps)) < 1e-6


def validate_order(
    req: OrderReq, catalog: Catalog, combo_tick: float, now: datetime, market: Market, account: str = ""
) -> tuple[msg.ContractInfo, list[tuple[int, int]]] | Rejection:
    """The contract and signed legs of an acceptable order, or IB's (error code, text) for a bad one."""
    if req.action not in ("BUY", "SELL"):
        return rejected(f"Invalid action {req.action!r}")
    if req.order_type not in ORDER_TYPES:
        return rejected(f"The order type {req.order_type} is not supported by the simulator")
    if req.tif not in TIFS:
        return rejected(f"The time in force {req.tif} is not supported by the simulator")
    if not req.total_qty or req.total_qty <= 0 or math.isnan(req.total_qty):
        return Rejection(434, "The order size cannot be zero.")
    if account and req.account and req.account != account:
        return rejected(f"Invalid account code {req.account}")
    c = req.contract
    spec = None
    if c.sec_type == "BAG":
        if not c.legs:
            return rejected("A combo order needs legs")
        legs: list[tuple[int, int]] = []
        for leg in c.legs:
            if leg.con_id not in catalog.options or leg.ratio <= 0 or leg.action not in ("BUY", "SELL"):
                return NO_SECURITY
            legs.append((leg.con_id, leg.ratio if leg.action == "BUY" else -leg.ratio))
        root = catalog.bag_root(c.legs)
        if root is None or c.symbol.upper() != root:
            return NO_SECURITY  # legs of two underlyings, or a BAG symbol that is not the legs' underlying
        info = catalog.bag_info(c.legs, c.symbol, c.exchange)
        tick = ROOT_BY_SYMBOL[root].combo_tick or combo_tick
    else:
        found = catalog.resolve(c)
        if len(found) != 1:
            return NO_SECURITY
        info = found[0]
        if info.sec_type != "OPT":
            return rejected(f"{info.symbol} {info.sec_type} is not tradable")
        legs = [(info.con_id, 1)]
        tick = 0.0
        spec = catalog.options[info.con_id]
    for name, price in (("limit", req.lmt_price), ("stop", req.aux_price)):
        needed = (name == "limit" and req.order_type in ("LMT", "STP LMT")) or (
            name == "stop" and req.order_type in ("STP", "STP LMT")
        )
        if needed and price is None:
            return rejected(f"The {name} price is missing")
        if needed and price is not None:
            grid = tick if tick or spec is None else spec.root.tick(abs(price))
            if not _on_grid(price, grid):
                return BAD_TICK
    try:
        parse_ib_time(req.good_after_time)
        if req.tif == "GTD" and parse_ib_time(req.good_till_date) is None:
            return rejected("GTD order without goodTillDate")
        for cond in req.conditions:
            if cond.cond_type != 3:
                return rejected(f"order condition type {cond.cond_type} is not supported by the simulator")
            parse_ib_time(cond.values[1])
    except ValueError as exc:
        return rejected(str(exc))
    if now >= market.close_time():
        return rejected("The contract has expired: the 0DTE series stopped trading at the close")
    return info, legs


@dataclass(slots=True)
class ExecRecord:
    """One execution as IB reports it: the BAG-level one (no commission) or a leg's (with its commission)."""

    exec_id: str
    order: SimOrder
    contract: msg.ContractInfo
    time: datetime
    side: str
    shares: float
    price: float
    cum_qty: float
    avg_price: float
    commission: float | None  # None for the BAG-level execution (IB reports commission per leg)
    realized: float | None
    account: str

    def fields(self, req_id: int, server_version: int) -> list[object]:
        o = self.order
        return om.exec_details(
            req_id,
            o.order_id,
            self.contract,
            self.exec_id,
            format_ib_time(self.time),
            self.account,
            "CBOE" if self.contract.sec_type == "OPT" else self.contract.exchange,
            self.side,
            self.shares,
            self.price,
            o.perm_id,
            o.client_id,
            self.cum_qty,
            self.avg_price,
            o.req.order_ref,
            2,  # lastLiquidity: removed
            server_version,
        )

    def commission_fields(self, currency: str) -> list[object] | None:
        if self.commission is None:
            return None
        return om.commission_report(self.exec_id, self.commission, currency, self.realized)
