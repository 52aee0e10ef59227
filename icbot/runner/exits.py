"""Placing, verifying and repairing the three OCA exit orders.

Used by `run-today` right after the fill and by `check` and a same-day rerun when an exit is missing. The three
exits share one OCA group (ocaType 1: the first to fill cancels the rest) and are always sized to the quantity
actually filled. A trade is only "successful" once all three are acknowledged by the gateway (docs/strategy.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from icbot.broker.errors import OrderRejected
from icbot.broker.gateway import Gateway
from icbot.clock import NEW_YORK
from icbot.config import TRIGGER_METHODS
from icbot.core import refs
from icbot.core.exits import exit_prices
from icbot.core.facts import ComboLeg, ComboOrder, OrderState
from icbot.core.journal import EXIT_ROLES, EventStatus, OrderStatus, Phase, Role
from icbot.core.reconcile import protects
from icbot.runner.context import RunContext
from icbot.runner.records import record_intent, record_refusal, record_status

ACKNOWLEDGED = frozenset(s for s in OrderStatus if s.is_acknowledged)
ENDED = frozenset(s for s in OrderStatus if s.is_done)


@dataclass(frozen=True, slots=True)
class ExitPlan:
    take_profit: float  # SELL BAG limit (negative = paying a debit)
    stop: float  # SELL BAG stop trigger price
    time_exit_at: datetime


def plan_exits(ctx: RunContext, credit: float, time_exit_at: datetime) -> ExitPlan:
    ex = ctx.config.exits
    prices = exit_prices(
        credit,
        profit_target_pct=ex.profit_target_pct,
        stop_multiple=ex.stop_multiple,
        tick=ctx.config.strategy.combo_tick,
    )
    return ExitPlan(prices.take_profit, prices.stop, time_exit_at)


def exit_order(
    ctx: RunContext, role: Role, legs: tuple[ComboLeg, ...], quantity: int, plan: ExitPlan, attempt: int, oca: str
) -> ComboOrder:
    """The ComboOrder for one exit role. All three SELL the same BAG the entry bought."""
    ref = ctx.ref(role, attempt)
    if role == refs.TAKE_PROFIT:
        return ComboOrder(legs, "SELL", quantity, "LMT", ref, limit_price=plan.take_profit, oca_group=oca, oca_type=1)
    if role == refs.STOP:
        return ComboOrder(
            legs,
            "SELL",
            quantity,
            "STP",
            ref,
            aux_price=plan.stop,
            trigger_method=TRIGGER_METHODS[ctx.config.exits.stop_trigger],
            oca_group=oca,
            oca_type=1,
        )
    return ComboOrder(
        legs, "SELL", quantity, "MKT", ref, good_after=plan.time_exit_at, oca_group=oca, oca_type=1, tif="DAY"
    )


async def place_exit(ctx: RunContext, gw: Gateway, order: ComboOrder, role: Role) -> OrderState:
    """Journal the intent, send, journal the acknowledgement. Never retried here: a failure is reported, and only
    `ensure_exits` sends a refused exit once more — after IB's final rejection, when the first can never fill."""
    record_intent(ctx, order, role)
    state = await gw.place(order)
    ctx.store.record_placed(order.order_ref, order_id=state.order_id, perm_id=state.perm_id, at=ctx.now())
    record_status(ctx, state)
    return state


async def ensure_exits(
    ctx: RunContext,
    gw: Gateway,
    *,
    legs: tuple[ComboLeg, ...],
    quantity: int,
    credit: float,
    time_exit_at: datetime,
    existing: Sequence[OrderState],
) -> tuple[bool, str]:
    """Make sure the three exits are working for `quantity`; place whichever are missing.

    Returns (complete, description). If exits already filled the whole quantity, the position is closed and
    nothing is placed; a part filled is incomplete (the OCA group cancelled the other exits for the rest).
    Existing working exits are kept (they are in the OCA group already); a missing role is placed into the same
    group; if every earlier exit is dead, a fresh group is used so IB does not treat the new ones as cancelled
    siblings. While the halt flag is set (`icbot kill`), nothing is placed and the result is incomplete.
    """
    exits = [s for s in existing if refs.role_of(s.order_ref) in EXIT_ROLES]
    exited = sum(s.filled for s in exits)
    if exited >= quantity > 0:
        return True, "an exit has already filled; the position is closed"
    if exited > 0:
        # ocaType 1: the first partial fill cancelled the other exits, so what is left has no stop.
        return False, f"exits filled {exited:g} of {quantity}; the rest has no working stop — close it in TWS"
    working = {refs.role_of(s.order_ref): s for s in exits if protects(s) or s.is_filled}
    wrong_size = [s for s in working.values() if s.remaining + s.filled != quantity]
    if wrong_size:
        refs_ = ", ".join(s.order_ref for s in wrong_size)
        return False, f"working exits not sized to the filled quantity {quantity}: {refs_}"
    # With no exit at the broker and none ever acknowledged, nothing of an earlier attempt went out: its journaled
    # intents (if any) are re-sent under the same orderRefs. Otherwise the next attempt is past every exit the
    # broker reports AND every one the journal ever intended, so no orderRef is lent to a different order.
    journaled = [o for o in ctx.store.orders(ctx.trade_date, ctx.mode) if o.role in EXIT_ROLES]
    attempt = 1
    if exits or any(o.acknowledged_once for o in journaled):  # an earlier set did go out (a re-protection)
        known_refs = [s.order_ref for s in exits] + [o.order_ref for o in journaled]
        attempt = max(refs.attempt_of(r) for r in known_refs) + 1
    oca_groups = {s.oca_group for s in working.values() if s.oca_group}
    oca = (
        next(iter(oca_groups))
        if oca_groups
        else refs.oca_group(ctx.trade_date, ctx.mode, attempt, installation=ctx.installation)
    )
    plan = plan_exits(ctx, credit, time_exit_at)
    missing = [role for role in EXIT_ROLES if role not in working]
    if not missing:
        return True, "all three exits are working"
    placed: list[OrderState] = []
    refused: list[str] = []
    for i, role in enumerate(missing):
        halted, why = ctx.store.halted()  # checked immediately before each transmission: never an order after kill
        if halted:
            left = ", ".join(missing[i:])
            return (
                False,
                "".join(f"{r}; " for r in refused)
                + f"halted ({why or 'kill'}): {left} not placed; a `resume` row in the journal's halts table "
                "clears the halt (docs/operations.md)",
            )
        order = exit_order(ctx, role, legs, quantity, plan, attempt, oca)
        try:
            state = await place_exit(ctx, gw, order, role)
        except OrderRejected as exc:
            # IB's final word on that order (it can never fill), maybe after acknowledging it: the other exits are
            # still placed, and this one once more under the next attempt's orderRef (docs/operations.md).
            record_refusal(ctx, order, exc)
            halted, why = ctx.store.halted()  # the retry is a transmission too: never an order after kill
            if halted:
                refused.append(f"{role} refused: {exc}; halted ({why or 'kill'}): not placed again")
                continue
            ctx.journal(Phase.EXITS, EventStatus.WARN, f"{role} refused: {exc}; placing it once more")
            order = exit_order(ctx, role, legs, quantity, plan, attempt + 1, oca)
            try:
                state = await place_exit(ctx, gw, order, role)
            except OrderRejected as again:
                record_refusal(ctx, order, again)
                refused.append(f"{role} refused twice: {again}")
                continue
        ctx.journal(
            Phase.EXITS, EventStatus.INFO, f"{role} #{state.order_id} {state.status}", order_ref=order.order_ref
        )
        placed.append(state)
    ctx.save_trade(oca_group=oca)  # the trade row names the group its exits work in
    # Verify: every placed exit must be acknowledged (PreSubmitted/Submitted, or already Filled).
    problems = list(refused)
    for state in placed:
        final = state
        if state.status not in ACKNOWLEDGED:
            final = await gw.wait_status(state.order_id, set(ACKNOWLEDGED | ENDED), timeout=10.0)
            record_status(ctx, final)
        if final.status not in ACKNOWLEDGED:
            problems.append(f"{final.order_ref} {final.status} {final.last_error or ''}".strip())
    if problems:
        return False, "exit not acknowledged: " + "; ".join(problems)
    what = ", ".join(missing)
    return True, (
        f"placed {what} for {quantity} (TP {plan.take_profit:.2f}, stop {plan.stop:.2f}, "
        f"time exit {plan.time_exit_at.astimezone(NEW_YORK).strftime('%H:%M')} ET)"
    )
