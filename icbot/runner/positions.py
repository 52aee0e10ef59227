"""What icbot's trades mean to hold, option by option, against what the account really holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from icbot.broker.types import Position
from icbot.runner.context import RunContext
from icbot.runner.records import entry_legs
from icbot.runner.settle import closed_quantity


@dataclass(frozen=True, slots=True)
class Intended:
    """What icbot means to hold in one option: ± the trade's quantity not yet closed by an icbot exit."""

    trade_date: date
    quantity: float
    label: str


def intended_positions(ctx: RunContext, dates: list[date]) -> dict[int, Intended]:
    """conId → what icbot means to hold, for the legs of the trades of `dates` (0 unless the trade is open)."""
    out: dict[int, Intended] = {}
    for day in dates:
        trade = ctx.store.trade(day, ctx.mode)
        if trade is None:
            continue
        open_qty = 0.0
        if trade.get("status") == "open":
            open_qty = max(0.0, float(trade.get("quantity") or 0) - closed_quantity(ctx, day)[0])
        for leg in entry_legs(ctx.for_date(day), day):
            signed = open_qty if leg.action == "BUY" else -open_qty
            out[leg.con_id] = Intended(day, signed, f"{leg.right}{leg.strike:g}")
    return out


def position_problems(positions: list[Position], intended: dict[int, Intended]) -> list[str]:
    """Option positions that are not exactly what icbot means to hold.

    A trade whose legs are all flat is not a problem (closed by icbot, or by hand: nothing at risk). Otherwise
    every leg must be held in exactly the trade's open quantity — more (a hand trade, an entry that filled more
    than journaled, two exits that both filled) or a missing leg (a broken condor) is risk icbot's exits do not
    cover. Any other SPX option position is an orphan.
    """
    held = {p.con_id: p for p in positions if p.sec_type == "OPT" and p.quantity != 0}
    by_date: dict[date, list[int]] = {}
    for con_id, want in intended.items():
        by_date.setdefault(want.trade_date, []).append(con_id)
    problems = []
    for day, con_ids in sorted(by_date.items()):
        if not any(c in held for c in con_ids):
            continue
        for c in con_ids:
            want = intended[c]
            have = held[c].quantity if c in held else 0.0
            if abs(have - want.quantity) > 1e-9:
                name = held[c].local_symbol if c in held else f"{want.label} (conId {c})"
                problems.append(f"{name} {have:+g} (icbot's {day} trade accounts for {want.quantity:+g})")
    for p in held.values():
        if p.con_id not in intended and "SPX" in p.local_symbol:
            problems.append(f"{p.local_symbol} {p.quantity:+g} (no icbot trade)")
    return problems
