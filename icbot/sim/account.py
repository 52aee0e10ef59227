"""The paper account: cash, per-leg positions, realized P/L, margin and the values IB reports for them.

Margin follows IB's rule for defined-risk option spreads: the requirement is the worst loss the option
positions can reach at expiry (for an iron condor, the wider wing × 100 × quantity); the premium received is
cash, not a margin offset. Positions carry IB's average cost, which includes the multiplier and the
commission (a long bought at 1.20 with 1.05 commission shows avgCost 121.05).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from icbot.sim.conventions import OptionSpec
from icbot.sim.order_messages import WhatIfState
from icbot.sim.protocol import UNSET_DOUBLE

MULTIPLIER = 100


@dataclass(slots=True)
class Position:
    con_id: int
    qty: float = 0.0
    avg_cost: float = 0.0  # per contract, multiplier and commission included, always positive
    realized: float = 0.0


@dataclass(frozen=True, slots=True)
class AccountParams:
    account: str = "DU1234567"
    cash: float = 100_000.0
    commission_per_contract: float = 1.00  # IB tiered-ish per option contract
    fees_per_contract: float = 0.05  # exchange + regulatory fees per contract
    currency: str = "USD"

    @property
    def per_contract(self) -> float:
        return self.commission_per_contract + self.fees_per_contract


@dataclass(slots=True)
class Ledger:
    params: AccountParams
    cash: float = 0.0
    positions: dict[int, Position] = field(default_factory=dict)
    commissions: float = 0.0

    def __post_init__(self) -> None:
        self.cash = self.params.cash

    def commission(self, contracts: float) -> float:
        return round(abs(contracts) * self.params.per_contract, 4)

    def apply_fill(self, con_id: int, qty_signed: float, price: float) -> tuple[float, float | None]:
        """Book one leg execution; returns (commission, realized P/L or None when it only opened)."""
        commission = self.commission(qty_signed)
        self.commissions += commission
        self.cash -= qty_signed * price * MULTIPLIER + commission
        pos = self.positions.setdefault(con_id, Position(con_id))
        per_unit_fee = commission / abs(qty_signed)
        realized: float | None = None
        if pos.qty == 0 or (pos.qty > 0) == (qty_signed > 0):
            # opening or adding: long cost adds the fee, short proceeds subtract it
            unit = price * MULTIPLIER + per_unit_fee if qty_signed > 0 else price * MULTIPLIER - per_unit_fee
            total = abs(pos.qty) * pos.avg_cost + abs(qty_signed) * unit
            pos.qty += qty_signed
            pos.avg_cost = total / abs(pos.qty)
        else:
            closing = min(abs(qty_signed), abs(pos.qty))
            if pos.qty > 0:  # selling a long
                pnl = closing * (price * MULTIPLIER - pos.avg_cost)
            else:  # buying back a short
                pnl = closing * (pos.avg_cost - price * MULTIPLIER)
            realized = pnl - commission * closing / abs(qty_signed)
            pos.realized += realized
            rest = abs(qty_signed) - closing
            pos.qty += math.copysign(closing, qty_signed)
            if rest > 0:  # flipped through zero: the remainder opens the other way
                unit = price * MULTIPLIER + per_unit_fee if qty_signed > 0 else price * MULTIPLIER - per_unit_fee
                pos.qty = math.copysign(rest, qty_signed)
                pos.avg_cost = unit
            elif pos.qty == 0:
                pos.avg_cost = 0.0
        return commission, realized

    def reprice(self, con_id: int, qty_signed: float, old: float, new: float, *, opening: bool) -> float:
        """An execution correction: the booked leg execution's price changes from `old` to `new`. Cash moves by
        the difference; an opening execution's difference goes into the average cost, a closing one's into the
        realized P/L. Returns the realized P/L change (0 for an opening execution)."""
        delta = qty_signed * (new - old) * MULTIPLIER  # what the buyer pays more (negative: the seller gets more)
        self.cash -= delta
        pos = self.positions.setdefault(con_id, Position(con_id))
        if opening:
            if pos.qty:
                pos.avg_cost += abs(qty_signed) * (new - old) * MULTIPLIER / abs(pos.qty)
            return 0.0
        pos.realized -= delta
        return -delta

    # -- valuation --------------------------------------------------------------------------------------
    def market_value(self, mark: Callable[[int], float]) -> float:
        return sum(p.qty * mark(p.con_id) * MULTIPLIER for p in self.positions.values() if p.qty)

    def unrealized(self, mark: Callable[[int], float]) -> float:
        total = 0.0
        for p in self.positions.values():
            if p.qty:
                total += p.qty * mark(p.con_id) * MULTIPLIER - math.copysign(p.avg_cost, p.qty) * abs(p.qty)
        return total

    def realized(self) -> float:
        return sum(p.realized for p in self.positions.values())


def expiry_margin(holdings: Iterable[tuple[OptionSpec, float]]) -> float:
    """Worst loss at expiry of option holdings (spec, signed qty) over all settlement prices, in dollars.

    The payoff is piecewise linear in the settlement price with kinks at the strikes, so checking 0, every
    strike and the slope beyond the highest strike finds the minimum exactly. Unbounded risk (naked calls)
    is capped at a 20 % move above the highest strike, the way IB's naked-option rule caps it in practice.
    """
    items = [(s, q) for s, q in holdings if q]
    if not items:
        return 0.0
    strikes = sorted({s.strike for s, _ in items})

    def payoff(price: float) -> float:
        total = 0.0
        for spec, qty in items:
            intrinsic = max(0.0, price - spec.strike) if spec.right == "C" else max(0.0, spec.strike - price)
            total += qty * intrinsic * MULTIPLIER
        return total

    points = [0.0, *strikes, strikes[-1] * 1.2]
    worst = min(payoff(x) for x in points)
    return max(0.0, -worst)


def account_values(ledger: Ledger, margin: float, mark: Callable[[int], float]) -> dict[str, float]:
    """The account tags IB reports (reqAccountUpdates / reqAccountSummary), derived from cash and positions.

    Initial and maintenance margin are the same expiry-risk figure; available funds and excess liquidity
    are net liquidation minus it; buying power is four times the available funds, as for a margin account.
    """
    mv = ledger.market_value(mark)
    gross = sum(abs(p.qty * mark(c) * MULTIPLIER) for c, p in ledger.positions.items() if p.qty)
    net = ledger.cash + mv
    available = net - margin
    values = {
        "NetLiquidation": net,
        "TotalCashValue": ledger.cash,
        "SettledCash": ledger.cash,
        "AccruedCash": 0.0,
        "BuyingPower": max(0.0, available) * 4.0,
        "EquityWithLoanValue": net,
        "PreviousDayEquityWithLoanValue": ledger.params.cash,
        "GrossPositionValue": gross,
        "OptionMarketValue": mv,
        "RegTEquity": net,
        "RegTMargin": margin,
        "SMA": max(0.0, available),
        "Cushion": available / net if net else 0.0,
        "LookAheadNextChange": 0.0,
        "HighestSeverity": 0.0,
        "DayTradesRemaining": -1.0,
        "Leverage": gross / net if net else 0.0,
        "UnrealizedPnL": ledger.unrealized(mark),
        "RealizedPnL": ledger.realized(),
        "CashBalance": ledger.cash,
    }
    for prefix in ("", "Full", "LookAhead"):
        values[f"{prefix}InitMarginReq"] = margin
        values[f"{prefix}MaintMarginReq"] = margin
        values[f"{prefix}AvailableFunds"] = available
        values[f"{prefix}ExcessLiquidity"] = available
    return values


def what_if_state(
    margin_before: float, margin_after: float, equity: float, commission: float, currency: str
) -> WhatIfState:
    """What IB's whatIf reports: margins before/change/after; equity changes by the commission only."""
    change = margin_after - margin_before
    return WhatIfState(
        margin_before, margin_before, equity,
        change, change, -commission,
        margin_after, margin_after, equity - commission,
        commission, UNSET_DOUBLE, UNSET_DOUBLE, currency, "",
    )  # fmt: skip
