"""Settling a trade whose exits filled: which exit closed it, and the P/L from the legs' executions.

Money is accounted from the four legs' executions and every commission, never from a BAG's average price
(SPEC §1); a trade is closed only when its P/L can be final (IB's commission reports come separately).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from icbot.clock import NEW_YORK
from icbot.core.accounting import LegFill, net_flow, trade_pnl
from icbot.runner import refs
from icbot.runner.context import RunContext

REASON_BY_ROLE = {refs.TAKE_PROFIT: "take_profit", refs.STOP: "stop", refs.TIME_EXIT: "time_exit", refs.CLOSE: "manual"}
MULTIPLIER = 100
LEGS_PER_COMBO = 4
COMMISSION_GRACE = timedelta(minutes=15)  # how long a filled exit waits for IB's late commission reports


def leg_fill(row: dict[str, Any]) -> LegFill:
    """A journaled `fills` row as the accounting core reads it."""
    return LegFill(row["side"], float(row["quantity"]), float(row["price"]), row.get("commission"))


def closed_quantity(ctx: RunContext, trade_date: date) -> tuple[float, list[dict[str, Any]]]:
    """Condors closed by icbot's exit (and close) orders of a day, from their leg executions; and those fills."""
    exit_fills = [f for f in ctx.store.fills(trade_date, ctx.mode) if f.get("role") in REASON_BY_ROLE]
    return sum(float(f["quantity"]) for f in exit_fills) / LEGS_PER_COMBO, exit_fills


def exit_reason(exit_fills: list[dict[str, Any]]) -> tuple[str, str]:
    """(reason, breakdown): the reason that closed the most contracts (the earliest on a tie) — the journal
    holds one of take_profit/stop/time_exit/manual — and every role with its quantity, e.g. `take_profit 1,
    manual 1`."""
    closed: dict[str, float] = {}
    first: dict[str, str] = {}
    for f in exit_fills:
        reason = REASON_BY_ROLE.get(f["role"], "manual")
        closed[reason] = closed.get(reason, 0.0) + float(f["quantity"]) / LEGS_PER_COMBO
        first[reason] = min(first.get(reason, str(f["at"])), str(f["at"]))
    main = min(closed, key=lambda r: (-closed[r], first[r]))
    if len(closed) == 1:
        return main, main
    return main, ", ".join(f"{r} {q:g}" for r, q in sorted(closed.items(), key=lambda rq: first[rq[0]]))


def settle_trade(ctx: RunContext, trade: dict[str, Any], exit_fills: list[dict[str, Any]]) -> bool:
    """Close a trade whose exits have filled: reason, debit, commissions and P/L from the legs' executions.

    IB sends each execution's commission in a separate report; one that has not arrived yet would make the P/L
    final without it, and a closed trade is never looked at again. So while today's reports may still come
    (COMMISSION_GRACE after the last exit fill) the trade waits for the next check and False is returned. After
    that the trade is closed with what is known and the gap is journaled as a warning.
    """
    entry_fills = ctx.store.fills(ctx.trade_date, ctx.mode, role=refs.ENTRY)
    unknown = [f["exec_id"] for f in (*entry_fills, *exit_fills) if f.get("commission") is None]
    exited_at = max(str(f["at"]) for f in exit_fills)
    today = ctx.now().astimezone(NEW_YORK).date() == ctx.trade_date
    if unknown and today and ctx.now() - datetime.fromisoformat(exited_at) < COMMISSION_GRACE:
        ctx.journal(
            "reconcile",
            "info",
            f"exits filled; waiting for IB's commission on {len(unknown)} execution(s) before the P/L is final",
        )
        return False
    reason, breakdown = exit_reason(exit_fills)
    flow = net_flow([leg_fill(f) for f in exit_fills])
    debit = -flow.per_combo
    entry_comm = sum(float(f.get("commission") or 0) for f in entry_fills)
    quantity = float(trade.get("quantity") or flow.combos)
    credit = trade.get("credit")
    pnl = None
    if credit is not None:
        pnl = trade_pnl(
            credit=float(credit),
            debit=debit,
            quantity=quantity,
            multiplier=MULTIPLIER,
            commissions=entry_comm + flow.commissions,
        )
    minutes = None
    if trade.get("entry_filled_at"):
        minutes = round(
            (datetime.fromisoformat(exited_at) - datetime.fromisoformat(trade["entry_filled_at"])).total_seconds() / 60,
            1,
        )
    ctx.save_trade(
        status="closed",
        exit_reason=reason,
        exit_debit=debit,
        exit_commission=flow.commissions,
        entry_commission=entry_comm,
        exited_at=exited_at,
        pnl=pnl,
        minutes_in_trade=minutes,
    )
    shown = f"${pnl:,.2f}" if pnl is not None else "unknown"
    ctx.journal(
        "closed",
        "ok",
        f"closed by {breakdown}: debit {debit:.2f}, P/L {shown} after ${entry_comm + flow.commissions:.2f} commissions",
        reason=reason,
        debit=debit,
        pnl=pnl,
    )
    if credit is None:
        ctx.journal("closed", "warn", "P/L unknown: the entry's leg executions (its credit) are not in the journal")
    if unknown:
        ctx.journal(
            "closed",
            "warn",
            f"IB never reported the commission of {len(unknown)} execution(s) ({', '.join(unknown)}); "
            "the P/L leaves them out",
        )
    credit_text = f"{float(credit):.2f}" if credit is not None else "unknown"
    ctx.notifier.info(
        f"icbot {ctx.trade_date}: closed by {reason}", f"credit {credit_text}, debit {debit:.2f}, P/L {shown}"
    )
    return True
