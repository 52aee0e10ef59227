"""Writing broker facts into the journal: order intents before sending, statuses and executions after.

One place for these so `run-today` and `check` record the same things the same way (docs/storage.md: the intent is
written before an order is sent, the outcome after; executions are keyed by execId and never duplicated).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from icbot.core import refs
from icbot.core.facts import ComboOrder, Execution, OrderState
from icbot.core.journal import OrderStatus, Role
from icbot.runner.context import RunContext


def record_intent(ctx: RunContext, order: ComboOrder, role: Role, *, transmitted: bool = True) -> None:
    """The order as icbot means to send it; written before it is sent."""
    ctx.store.record_intent(
        trade_date=ctx.trade_date,
        mode=ctx.mode,
        role=role,
        order_ref=order.order_ref,
        action=order.action,
        order_type=order.order_type,
        quantity=order.quantity,
        legs=order.legs,
        at=ctx.now(),
        limit_price=order.limit_price,
        aux_price=order.aux_price,
        trigger_method=order.trigger_method,
        good_after=order.good_after.isoformat() if order.good_after else None,
        oca_group=order.oca_group,
        transmitted=transmitted,
    )


def record_status(ctx: RunContext, state: OrderState, message: str = "") -> None:
    """The gateway's latest word on an order (appended to its history only when it changed)."""
    ctx.store.record_order_status(
        state.order_ref,
        status=state.status,
        filled=state.filled,
        remaining=state.remaining,
        avg_fill_price=state.avg_fill_price,
        at=ctx.now(),
        message=message or (state.last_error or ""),
    )


def record_refusal(ctx: RunContext, order: ComboOrder, exc: Exception) -> None:
    """The gateway refused the order (it does not exist there, or is Inactive): journaled as rejected, with why."""
    ctx.store.record_order_status(
        order.order_ref,
        status=OrderStatus.REJECTED,
        filled=0,
        remaining=order.quantity,
        avg_fill_price=None,
        at=ctx.now(),
        message=str(exc),
    )


def record_executions(ctx: RunContext, trade_date: date, execs: Iterable[Execution]) -> list[Execution]:
    """Record the leg executions of icbot's orders of `trade_date`; return them.

    The BAG-level execution IB also reports is skipped: money is accounted from the legs only.
    """
    prefix = refs.day_prefix(trade_date, ctx.mode)
    legs = [e for e in execs if e.sec_type != "BAG" and e.order_ref.startswith(prefix)]
    for e in legs:
        ctx.store.record_fill(
            exec_id=e.exec_id,
            order_ref=e.order_ref,
            order_id=e.order_id,
            perm_id=e.perm_id,
            trade_date=trade_date,
            mode=ctx.mode,
            con_id=e.con_id,
            local_symbol=e.local_symbol,
            right=e.right,
            strike=e.strike,
            side=e.side,
            quantity=e.shares,
            price=e.price,
            at=e.at,
            role=refs.role_of(e.order_ref) or Role.UNKNOWN,
            commission=e.commission,
        )
        if e.commission is not None:
            ctx.store.set_commission(e.exec_id, e.commission)
    return legs
