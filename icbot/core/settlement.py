"""How a trade ends, computed from facts: exit reason, P/L from the legs, the experiment's exit walk, touches,
and whether the account holds exactly what icbot's trades mean to hold.

Money is accounted from the four legs' executions and every commission, never from a BAG's average price
(docs/strategy.md). A trade is closed only when its P/L can be final: IB's commission reports come separately,
so a settle waits up to COMMISSION_GRACE for them on the day itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from icbot.core.accounting import LegFill, net_flow, trade_pnl
from icbot.core.actions import Action, Note, Notify, SaveTrade
from icbot.core.exits import exit_prices
from icbot.core.facts import ComboLeg, Position, options_held
from icbot.core.journal import REASON_BY_ROLE, AlertLevel, EventStatus, ExitReason, Fill, Phase, Role, Trade
from icbot.core.zones import NEW_YORK

MULTIPLIER = 100
LEGS_PER_COMBO = 4
COMMISSION_GRACE = timedelta(minutes=15)  # how long a filled exit waits for IB's late commission reports

Bar = tuple[datetime, float, float, float, float]


def leg_fill(fill: Fill) -> LegFill:
    return LegFill(fill.side, fill.quantity, fill.price, fill.commission)


def exit_fills(fills: Iterable[Fill]) -> list[Fill]:
    """The leg executions of icbot's exit and close orders."""
    return [f for f in fills if f.role in REASON_BY_ROLE]


def closed_quantity(fills: Iterable[Fill]) -> float:
    """Condors closed by icbot's exit (and close) orders, from their leg executions."""
    return sum(f.quantity for f in exit_fills(fills)) / LEGS_PER_COMBO


def open_quantity(fills: Iterable[Fill]) -> float:
    """Condors the day's own executions leave open: the entry's legs filled, less what icbot's exits closed."""
    fills = list(fills)
    entered = sum(f.quantity for f in fills if f.role is Role.ENTRY) / LEGS_PER_COMBO
    return max(entered - closed_quantity(fills), 0.0)


def exit_reason(fills: Sequence[Fill]) -> tuple[ExitReason, str]:
    """(reason, breakdown): the reason that closed the most contracts (the earliest on a tie), and every reason
    with its quantity, e.g. `take_profit 1, manual 1`, when more than one order closed the trade."""
    closed: dict[ExitReason, float] = {}
    first: dict[ExitReason, datetime] = {}
    for f in fills:
        reason = REASON_BY_ROLE.get(f.role, ExitReason.MANUAL)
        closed[reason] = closed.get(reason, 0.0) + f.quantity / LEGS_PER_COMBO
        first[reason] = min(first.get(reason, f.at), f.at)
    main = min(closed, key=lambda r: (-closed[r], first[r]))
    if len(closed) == 1:
        return main, str(main)
    return main, ", ".join(f"{r} {q:g}" for r, q in sorted(closed.items(), key=lambda rq: first[rq[0]]))


def settle(trade: Trade, fills: Sequence[Fill], *, now: datetime) -> list[Action]:
    """Close a trade whose exits have filled: reason, debit, commissions and P/L from the legs' executions.

    While today's commission reports may still come (COMMISSION_GRACE after the last exit fill) the trade waits
    for the next check; after that it is closed with what is known and the gap is journaled as a warning.
    """
    entry_fills = [f for f in fills if f.role is Role.ENTRY]
    exits = exit_fills(fills)
    unknown = [f.exec_id for f in (*entry_fills, *exits) if f.commission is None]
    exited_at = max(f.at for f in exits)
    today = now.astimezone(NEW_YORK).date() == trade.trade_date
    if unknown and today and now - exited_at < COMMISSION_GRACE:
        why = f"exits filled; waiting for IB's commission on {len(unknown)} execution(s) before the P/L is final"
        return [Note(Phase.RECONCILE, EventStatus.INFO, why)]
    reason, breakdown = exit_reason(exits)
    flow = net_flow(leg_fill(f) for f in exits)
    debit = -flow.per_combo
    entry_comm = sum(f.commission or 0.0 for f in entry_fills)
    quantity = float(trade.quantity or flow.combos)
    pnl = None
    if trade.credit is not None:
        pnl = trade_pnl(
            credit=trade.credit,
            debit=debit,
            quantity=quantity,
            multiplier=MULTIPLIER,
            commissions=entry_comm + flow.commissions,
        )
    minutes = None
    if trade.entry_filled_at is not None:
        minutes = round((exited_at - trade.entry_filled_at).total_seconds() / 60, 1)
    shown = f"${pnl:,.2f}" if pnl is not None else "unknown"
    actions: list[Action] = [
        SaveTrade(
            {
                "status": "closed",
                "exit_reason": reason,
                "exit_debit": debit,
                "exit_commission": flow.commissions,
                "entry_commission": entry_comm,
                "exited_at": exited_at,
                "pnl": pnl,
                "minutes_in_trade": minutes,
            }
        ),
        Note(
            Phase.CLOSED,
            EventStatus.OK,
            f"closed by {breakdown}: debit {debit:.2f}, P/L {shown} after ${entry_comm + flow.commissions:.2f} "
            "commissions",
            {"reason": str(reason), "debit": debit, "pnl": pnl},
        ),
    ]
    if trade.credit is None:
        actions.append(
            Note(
                Phase.CLOSED,
                EventStatus.WARN,
                "P/L unknown: the entry's leg executions (its credit) are not in the journal",
            )
        )
    if unknown:
        actions.append(
            Note(
                Phase.CLOSED,
                EventStatus.WARN,
                f"IB never reported the commission of {len(unknown)} execution(s) ({', '.join(unknown)}); "
                "the P/L leaves them out",
            )
        )
    credit_text = f"{trade.credit:.2f}" if trade.credit is not None else "unknown"
    actions.append(
        Notify(AlertLevel.INFO, f"closed by {reason}", f"credit {credit_text}, debit {debit:.2f}, P/L {shown}")
    )
    return actions


def touched_sides(low: float, high: float, short_put: float | None, short_call: float | None) -> list[str]:
    """Which short strikes the index reached within [low, high]: at or below the put, at or above the call."""
    sides = []
    if short_put is not None and low <= short_put:
        sides.append("put")
    if short_call is not None and high >= short_call:
        sides.append("call")
    return sides


def closing_debits(legs: Sequence[tuple[str, Sequence[Bar]]]) -> dict[datetime, float]:
    """minute → debit to close the condor (Σ short mids − Σ long mids) from each leg's (action, 1-minute bars).

    Only minutes with a bar for every leg count: a minute missing a leg is not the condor's price (without a long
    wing it reads higher — a stop that never was; without a short, lower — a target never reached).
    """
    sums: dict[datetime, float] = {}
    seen: dict[datetime, int] = {}
    for action, bars in legs:
        sign = 1.0 if action == "SELL" else -1.0
        for t, _o, _h, _l, c in bars:
            sums[t] = sums.get(t, 0.0) + sign * c
            seen[t] = seen.get(t, 0) + 1
    return {t: v for t, v in sums.items() if seen[t] == len(legs)}


@dataclass(frozen=True, slots=True)
class ExitRules:
    """The exit rules an experiment is walked with (the live bot's, from the configuration)."""

    profit_target_pct: float
    stop_multiple: float
    tick: float


def experiment_exit(
    trade: Trade, legs: Sequence[tuple[str, Sequence[Bar]]], rules: ExitRules, *, now: datetime
) -> list[Action]:
    """Walk the four legs' 1-minute mid bars from the hypothetical fill; the first exit rule hit closes it."""
    assert trade.credit is not None and trade.entry_filled_at is not None and trade.time_exit_at is not None
    prices = exit_prices(
        trade.credit, profit_target_pct=rules.profit_target_pct, stop_multiple=rules.stop_multiple, tick=rules.tick
    )
    tp_debit, stop_debit = -prices.take_profit, -prices.stop
    start, time_exit_at = trade.entry_filled_at, trade.time_exit_at
    series = closing_debits(legs)
    for t in sorted(series):
        debit = series[t]
        reason = None
        if debit <= tp_debit:
            reason, debit = "take_profit", tp_debit
        elif debit >= stop_debit:
            reason = "stop"
        elif t >= time_exit_at:
            reason = "time_exit"
        if reason is None:
            continue
        pnl = trade_pnl(
            credit=trade.credit, debit=debit, quantity=float(trade.quantity or 1), multiplier=MULTIPLIER, commissions=0
        )
        return [
            SaveTrade(
                {
                    "status": "closed",
                    "exit_reason": ExitReason(f"experiment_{reason}"),
                    "exit_debit": debit,
                    "pnl": pnl,
                    "exited_at": t,
                    "minutes_in_trade": round((t - start).total_seconds() / 60, 1),
                }
            ),
            Note(
                Phase.CLOSED,
                EventStatus.OK,
                f"experiment closed by {reason} at {t.astimezone(NEW_YORK):%H:%M} ET: "
                f"debit {debit:.2f}, P/L ${pnl:,.2f}",
                {"reason": reason, "pnl": pnl},
            ),
            Notify(AlertLevel.INFO, f"experiment closed by {reason}", f"P/L ${pnl:,.2f}"),
        ]
    return [Note(Phase.RECONCILE, EventStatus.OK, f"experiment open, {len(series)} minutes evaluated")]


@dataclass(frozen=True, slots=True)
class Intended:
    """What icbot means to hold in one option: ± the trade's quantity not yet closed by an icbot exit."""

    trade_date: date
    quantity: float
    label: str


def legs_held(legs: Sequence[ComboLeg], positions: Iterable[Position]) -> list[str]:
    """The legs of `legs` the account still holds, as `P5940 -1`: what must be flat after a kill or the time exit."""
    held = options_held(positions)
    return [f"{leg.right}{leg.strike:g} {held[leg.con_id]:+g}" for leg in legs if held.get(leg.con_id)]


def intended_positions(days: Iterable[tuple[Trade, Sequence[ComboLeg], Sequence[Fill]]]) -> dict[int, Intended]:
    """conId → what icbot means to hold, for the legs of each (trade, entry legs, fills); 0 unless open."""
    out: dict[int, Intended] = {}
    for trade, legs, fills in days:
        open_qty = 0.0
        if trade.is_open:
            open_qty = max(0.0, float(trade.quantity or 0) - closed_quantity(fills))
        for leg in legs:
            signed = open_qty if leg.action == "BUY" else -open_qty
            out[leg.con_id] = Intended(trade.trade_date, signed, f"{leg.right}{leg.strike:g}")
    return out


def position_problems(
    positions: Iterable[Position], intended: Mapping[int, Intended], *, underlying: str = "SPX"
) -> list[str]:
    """Option positions that are not exactly what icbot means to hold.

    A trade whose legs are all flat is not a problem (closed by icbot, or by hand: nothing at risk). Otherwise
    every leg must be held in exactly the trade's open quantity — more (a hand trade, an entry that filled more
    than journaled, two exits that both filled) or a missing leg (a broken condor) is risk icbot's exits do not
    cover. Any other option position on the underlying is an orphan.
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
        if p.con_id not in intended and underlying in p.local_symbol:
            problems.append(f"{p.local_symbol} {p.quantity:+g} (no icbot trade)")
    return problems
