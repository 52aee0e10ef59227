"""Closing today's condor at market: `icbot kill`, and the installation that loses to another's entry.

One BAG order for exactly the quantity held, at market — the same order type as the strategy's own time exit:
when icbot must get out, the fill matters more than the price, and a limit that does not fill leaves the risk
on. Its executions are journaled like any exit's (role `close`, exit reason manual), and the trade is settled
once its P/L can be final (else the next `check` settles it).
"""

from __future__ import annotations

from icbot.broker.gateway import Gateway
from icbot.core import refs
from icbot.core.facts import ComboLeg, ComboOrder, OrderState
from icbot.core.journal import EventStatus, OrderStatus, Phase, Role
from icbot.core.settlement import closed_quantity, settle
from icbot.runner.apply import apply
from icbot.runner.context import RunContext
from icbot.runner.gather import copy_executions
from icbot.runner.records import record_intent, record_status

CLOSE_WAIT = 30.0  # virtual seconds for the close order to fill


async def close_at_market(
    ctx: RunContext, gw: Gateway, legs: tuple[ComboLeg, ...], quantity: int, *, phase: Phase
) -> OrderState:
    """Sell `quantity` condors of `legs` at market; the gateway's final word on the order (Filled, or not)."""
    day_orders = [o.order_ref for o in ctx.store.orders(ctx.trade_date, ctx.mode) if o.role is Role.CLOSE]
    attempt = max((refs.attempt_of(r) for r in day_orders), default=0) + 1
    order = ComboOrder(legs, "SELL", quantity, "MKT", ctx.ref(Role.CLOSE, attempt))
    record_intent(ctx, order, Role.CLOSE)
    ctx.journal(phase, EventStatus.START, f"closing {quantity} condor(s) at market ({order.order_ref})")
    state = await gw.place(order)
    ctx.store.record_placed(order.order_ref, order_id=state.order_id, perm_id=state.perm_id, at=ctx.now())
    record_status(ctx, state)
    ended: set[str] = {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.INACTIVE}
    final = await gw.wait_status(state.order_id, ended, timeout=CLOSE_WAIT)
    record_status(ctx, final)
    if final.is_filled:
        ctx.journal(phase, EventStatus.OK, f"closed {quantity} condor(s) at market")
        await settle_if_closed(ctx, gw)
    return final


async def settle_if_closed(ctx: RunContext, gw: Gateway) -> None:
    """Journal the day's executions and close the trade when its exits cover it and the P/L can be final."""
    await copy_executions(ctx, gw, ctx.trade_date, await gw.find_by_ref(refs.day_prefix(ctx.trade_date, ctx.mode)))
    trade = ctx.trade()
    fills = ctx.store.fills(ctx.trade_date, ctx.mode)
    if trade is not None and trade.is_open and closed_quantity(fills) >= (trade.quantity or 0) > 0:
        await apply(ctx, gw, settle(trade, fills, now=ctx.now()))
