"""Working the entry order: the price ladder from mid toward natural until filled or the deadline.

One order, modified in place (same orderId) — never a second entry. At the deadline the order is cancelled and
the cancel is confirmed; a fill can race the cancel, so the *final* state from the gateway decides whether there
is a position, never the fact that we asked to cancel. The halt flag (`icbot kill`) is read before every re-price:
once it is set, the ladder stops and the order is cancelled at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from icbot.broker.gateway import Gateway
from icbot.core.facts import OrderState
from icbot.core.journal import EventStatus, OrderStatus, Phase
from icbot.runner.context import RunContext
from icbot.runner.records import record_status

FILLED = frozenset({OrderStatus.FILLED})
# Ended without a (further) fill: the ladder has nothing left to work.
DEAD = frozenset({OrderStatus.CANCELLED, OrderStatus.API_CANCELLED, OrderStatus.INACTIVE, OrderStatus.REJECTED})


@dataclass(frozen=True, slots=True)
class EntryOutcome:
    state: OrderState
    attempts: int  # ladder rungs used
    seconds_to_fill: float | None
    cancelled_at_deadline: bool  # we asked to cancel (deadline or halt); `state` is the gateway's final word
    halted: str | None = None  # the halt reason, when `icbot kill` stopped the ladder


async def work_entry(
    ctx: RunContext,
    gw: Gateway,
    state: OrderState,
    *,
    ladder: list[float],
    rung: int,
    started_at: datetime,
    deadline: datetime,
) -> EntryOutcome:
    """Step the ladder on an already placed entry order until it fills or the deadline passes."""
    reprice = timedelta(seconds=ctx.config.entry.reprice_seconds)
    attempts = rung + 1
    halted: str | None = None
    while True:
        if state.status in FILLED or (state.remaining == 0 and state.filled > 0):
            record_status(ctx, state)  # a fill that won the race with a re-price is journaled here, not lost
            return EntryOutcome(state, attempts, (ctx.now() - started_at).total_seconds(), False)
        if state.status in DEAD:
            record_status(ctx, state)
            return EntryOutcome(state, attempts, None, False)
        halted = _halted(ctx)
        if halted is not None:
            break
        next_reprice = ctx.now() + reprice
        wake = min(next_reprice, deadline)
        wait = max(0.0, (wake - ctx.now()).total_seconds())
        state = await gw.wait_status(state.order_id, set(FILLED | DEAD), timeout=wait)
        if state.status in FILLED or state.status in DEAD:
            record_status(ctx, state)
            continue
        if ctx.now() >= deadline:
            break
        state = gw.order_state(state.order_id)  # a fill may have arrived since the wait ended
        if state.filled > 0 or state.status in DEAD:
            continue
        halted = _halted(ctx)  # immediately before the re-price is transmitted
        if halted is not None:
            break
        if rung + 1 < len(ladder):
            rung += 1
            attempts = rung + 1
            price = ladder[rung]
            state = await gw.modify_limit(state.order_id, price)
            if state.filled > 0 and state.limit_price != price:
                ctx.journal(
                    "order", "info", f"filled at {state.limit_price} before the re-price to {price:.2f} applied"
                )
                continue
            ctx.store.update_order_prices(state.order_ref, limit_price=price, at=ctx.now())
            ctx.journal(
                Phase.ORDER,
                EventStatus.INFO,
                f"re-price to {price:.2f} sent (rung {attempts}/{len(ladder)})",
                limit=price,
            )
    # Deadline or halt: cancel and take whatever the gateway says is final (a fill may have raced the cancel).
    if halted is not None:
        ctx.journal(Phase.ORDER, EventStatus.WARN, f"halted ({halted}); cancelling the entry now")
    else:
        ctx.journal(
            Phase.ORDER, EventStatus.INFO, f"deadline {deadline.strftime('%H:%M:%S')} reached; cancelling the entry"
        )
    final = await gw.cancel(state.order_id)
    record_status(ctx, final)
    seconds = (ctx.now() - started_at).total_seconds() if final.filled > 0 else None
    return EntryOutcome(final, attempts, seconds, True, halted)


def _halted(ctx: RunContext) -> str | None:
    halted, why = ctx.store.halted()
    return (why or "kill") if halted else None
