"""Gathering the facts reconciliation decides from — the one place that reads the broker for it.

Gathering also copies what the broker reports into the journal: each icbot order's latest status and every leg
execution of icbot's orders (both idempotent and append-only, so copying twice changes nothing). That is not a
decision, it is the journal keeping up with the broker; the facts handed to `icbot.core.reconcile.assess` are
then the journal as it stands plus the broker's live orders and positions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import TypeVar

from icbot.broker.gateway import Gateway
from icbot.core import refs
from icbot.core.accounting import current_executions
from icbot.core.facts import Execution, OrderState, Position
from icbot.core.journal import EventStatus, Phase, Trade
from icbot.core.reconcile import DayFacts
from icbot.errors import StoreError
from icbot.runner.context import RunContext
from icbot.runner.records import record_executions, record_status

POSITION_SETTLE = 3.0  # virtual seconds for IB's position update to catch up with an execution
POSITION_PATIENCE = 15.0  # virtual seconds positions that disagree with the orders are read again before believed

T = TypeVar("T")


async def broker_orders(ctx: RunContext, gw: Gateway, trade_date: date) -> list[OrderState]:
    """The gateway's orders named for `trade_date` (every client id), their statuses copied into the journal.

    An order the journal never intended (a second installation, an older journal) cannot be recorded; it stays
    in the list, and `assess` names it.
    """
    states = await gw.find_by_ref(refs.day_prefix(trade_date, ctx.mode))
    day_ctx = ctx.for_date(trade_date)
    for s in states:
        try:
            record_status(day_ctx, s)
        except StoreError:
            pass  # a stranger: not ours to journal
    return states


def own_executions(execs: Iterable[Execution], orders: Sequence[OrderState]) -> list[Execution]:
    """Executions with the orderRef of the order they belong to: IB may report an execution without the ref,
    but one matched by orderId is that order's, whatever ref the report carries."""
    by_id = {s.order_id: s.order_ref for s in orders}
    return [replace(e, order_ref=by_id[e.order_id]) if e.order_id in by_id else e for e in execs]


async def copy_executions(ctx: RunContext, gw: Gateway, trade_date: date, orders: Sequence[OrderState]) -> None:
    """Journal the leg executions of icbot's orders of `trade_date` (today's only: IB reports no older ones)."""
    execs = own_executions(await gw.executions(trade_date), orders)
    record_executions(ctx.for_date(trade_date), trade_date, execs)


async def await_entry_executions(ctx: RunContext, gw: Gateway, entry: OrderState, seconds: float) -> list[Execution]:
    """Wait (at most `seconds`) until the entry's four legs have executions for the whole fill, each with its
    commission; journal every revision; return the executions that stand (a corrected one counts once)."""
    deadline = ctx.now() + timedelta(seconds=seconds)
    while True:
        execs = own_executions(await gw.executions(ctx.trade_date), [entry])
        legs = [e for e in execs if e.order_ref == entry.order_ref and e.sec_type != "BAG"]
        standing = current_executions(legs, lambda e: e.exec_id)
        complete = (
            standing
            and all(e.commission is not None for e in standing)
            and sum(e.shares for e in standing) >= 4 * entry.filled
        )
        if complete or ctx.now() >= deadline:
            break
        await ctx.clock.asleep(0.5)
    record_executions(ctx, ctx.trade_date, legs)
    return standing


def day_facts(
    ctx: RunContext, trade: Trade, orders: Sequence[OrderState], positions: Sequence[Position] | None
) -> DayFacts:
    """The journal's side of a day (read after the broker's facts were copied in), with the broker's."""
    day = trade.trade_date
    alerted = {
        str((e.data or {}).get("side"))
        for e in ctx.store.events(day, ctx.mode)
        if e.phase == Phase.TOUCH and (e.data or {}).get("side")
    }
    return DayFacts(
        trade_date=day,
        mode=ctx.mode,
        installation=ctx.installation,
        trade=trade,
        orders=tuple(ctx.store.orders(day, ctx.mode)),
        fills=tuple(ctx.store.fills(day, ctx.mode)),
        broker_orders=tuple(orders),
        positions=None if positions is None else tuple(positions),
        touch_alerted=frozenset(alerted),
    )


async def read_until_settled(
    ctx: RunContext,
    read: Callable[[], Awaitable[T]],
    settled: Callable[[T], bool],
    *,
    again: Callable[[], Awaitable[T]] | None = None,
    patience: float = POSITION_PATIENCE,
) -> tuple[T, float]:
    """`read()`, then `again()` (default: `read`) every POSITION_SETTLE while `settled` says no, for up to
    `patience` virtual seconds; the last reading and the seconds waited.

    IB's position update may trail the execution that caused it: a difference between the positions and the
    orders or executions is read again before it is believed (gathering, check's positions, kill's close)."""
    value = await read()
    waited = 0.0
    while not settled(value) and waited < patience:
        await ctx.clock.asleep(POSITION_SETTLE)
        waited += POSITION_SETTLE
        value = await (again or read)()
    return value, waited


async def gather_day(ctx: RunContext, gw: Gateway, trade: Trade, *, positions: bool = True) -> DayFacts:
    """Read the broker for one trade day, copy it into the journal, and return the facts.

    The positions are read last, so every fill the orders report happened before they were read. A fill whose
    legs are still not among them (`DayFacts.position_unseen`) is read again (`read_until_settled`): a position
    wrongly called gone is a filled condor left without exits (run-today) or a trade journaled as closed by hand
    (check).
    """
    facts, waited = await read_until_settled(
        ctx, lambda: _read_day(ctx, gw, trade, positions), lambda f: not f.position_unseen()
    )
    if waited:
        seen = "still not there" if facts.position_unseen() else "there now"
        ctx.for_date(trade.trade_date).journal(
            Phase.RECONCILE,
            EventStatus.INFO,
            f"the positions did not show the filled legs; read again for {waited:g} s: {seen}",
        )
    return facts


async def _read_day(ctx: RunContext, gw: Gateway, trade: Trade, positions: bool) -> DayFacts:
    day = trade.trade_date
    orders = await broker_orders(ctx, gw, day)
    await copy_executions(ctx, gw, day, orders)
    held = await gw.positions() if positions else None
    fresh = ctx.store.trade(day, ctx.mode)
    return day_facts(ctx, fresh if fresh is not None else trade, orders, held)
