"""Leg-level accounting: what a trade really earned, from the legs' executions and commissions.

IB reports a BAG fill with an average price per combo, but that number is rounded and can disagree with what the
four legs actually traded at; the user's P/L is the sum of the legs. So credit and debit are computed here from
leg executions only (sec_type OPT), never from the BAG's average price.

Conventions: a leg execution is (side "BOT"|"SLD", quantity, price); money flows are in option points per
contract-unit (multiply by the multiplier for dollars). Selling brings money in (+), buying pays (−).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LegFill:
    side: str  # "BOT" | "SLD"
    quantity: float
    price: float
    commission: float | None = None


@dataclass(frozen=True, slots=True)
class NetFlow:
    """Net cash of a set of leg fills in points, per combo unit, and the commissions in dollars."""

    per_combo: float  # + means money received (a credit), − money paid (a debit)
    combos: float  # how many combo units the fills amount to
    commissions: float  # dollars, 0 for fills whose commission is not known yet
    commissions_complete: bool


def execution_revision(exec_id: str) -> tuple[str, int]:
    """Split an IB execId into the execution it names and its revision.

    IB corrects an execution (a busted or re-priced trade) by sending it again under an execId that differs only
    in the digits after the last period: `0000e0d5.6573d7a8.01.01` is replaced by `….01.02`. Summing both would
    count the contracts and the money twice. An id without a numeric tail is its own execution, revision 0.
    """
    base, dot, tail = exec_id.rpartition(".")
    if dot and base and tail.isdigit():
        return base, int(tail)
    return exec_id, 0


def current_executions(items: Iterable[T], exec_id: Callable[[T], str]) -> list[T]:
    """The executions that stand: for each execution only its latest revision, in the order first seen."""
    latest: dict[str, tuple[int, T]] = {}
    for item in items:
        base, revision = execution_revision(exec_id(item))
        if base not in latest or revision >= latest[base][0]:
            latest[base] = (revision, item)
    return [item for _, item in latest.values()]


def net_flow(fills: Iterable[LegFill], *, legs_per_combo: int = 4) -> NetFlow:
    """Sum leg fills into a per-combo net flow.

    `combos` is the leg quantity divided by the legs per combo (a 1-lot condor has four 1-contract leg fills).
    """
    total = 0.0
    quantity = 0.0
    commissions = 0.0
    complete = True
    for f in fills:
        sign = 1.0 if f.side == "SLD" else -1.0
        total += sign * f.price * f.quantity
        quantity += f.quantity
        if f.commission is None:
            complete = False
        else:
            commissions += f.commission
    combos = quantity / legs_per_combo if legs_per_combo else 0.0
    per_combo = total / combos if combos else 0.0
    return NetFlow(round(per_combo, 6), combos, round(commissions, 6), complete)


def complete_credit(fills: Iterable[tuple[int, LegFill]], *, filled: float) -> float | None:
    """The condor's credit from its legs, or None while the set of leg fills is incomplete.

    Only when each of the four legs (by conId) has executions for the whole filled quantity: a partial set —
    one report still in flight — misstates the credit (the sold legs alone claim far too much, so a take profit
    priced from it would pay more than 75 % of the real credit; the bought legs alone give a negative one).
    A net of zero or less is no credit either.
    """
    fills = list(fills)
    per_leg: dict[int, float] = {}
    for con_id, f in fills:
        per_leg[con_id] = per_leg.get(con_id, 0.0) + f.quantity
    if filled <= 0 or len(per_leg) != 4 or any(abs(q - filled) > 1e-9 for q in per_leg.values()):
        return None
    credit = net_flow(f for _, f in fills).per_combo
    return credit if credit > 0 else None


def exit_credit(
    fills: Iterable[tuple[int, LegFill]], *, filled: float, bag_avg: float | None
) -> tuple[float | None, str]:
    """The credit to price exits from, and its source: "legs", "bag" or "none" (then the credit is None).

    The legs' net (docs/strategy.md §5) when `complete_credit` has it; else the BAG's own average fill price (a
    real fill, not a quote; negative for a credit); else no credit at all, never 0.
    """
    credit = complete_credit(fills, filled=filled)
    if credit is not None:
        return credit, "legs"
    if bag_avg is not None and bag_avg < 0:
        return round(-bag_avg, 6), "bag"
    return None, "none"


def trade_pnl(*, credit: float, debit: float, quantity: float, multiplier: int, commissions: float) -> float:
    """Net dollars of a closed (or expired) condor: (credit − debit) × 100 × contracts − all commissions."""
    return round((credit - debit) * multiplier * quantity - commissions, 6)
