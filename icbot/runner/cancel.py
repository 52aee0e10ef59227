"""Cancelling icbot's orders whichever client id placed them (kill; check re-protecting a partly closed trade).

IB lets only the client that placed an order cancel it, and `reqGlobalCancel` would cancel the trader's own
orders too. So the orders are grouped by the client id that placed them, and each group is cancelled from a
session opened as that client id (run-today's, check's, …). While a running process still holds that client id
the connection is retried until it lets go (CONNECT_WINDOW). Orders icbot did not place are never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from icbot.broker.errors import UnknownOrder
from icbot.broker.gateway import Gateway
from icbot.core.facts import OrderState
from icbot.core.journal import EventStatus, OrderStatus, Phase
from icbot.errors import IcbotError
from icbot.runner.connect import connect_as
from icbot.runner.context import RunContext
from icbot.runner.records import record_status

CONNECT_WINDOW = timedelta(seconds=45)  # how long to wait for a client id a running process still holds
CANCELLED = frozenset({OrderStatus.CANCELLED, OrderStatus.API_CANCELLED, OrderStatus.INACTIVE})


async def cancel_as_owner(ctx: RunContext, gw: Gateway, orders: Sequence[OrderState], *, phase: Phase) -> list[str]:
    """Cancel each order from the client id that placed it; returns what could not be cancelled (or filled)."""
    problems: list[str] = []
    by_client: dict[int, list[OrderState]] = {}
    for s in orders:
        by_client.setdefault(s.client_id, []).append(s)
    for client_id, states in sorted(by_client.items()):
        owner = gw
        if client_id != gw.ib.client.clientId:
            try:
                owner = await connect_as(ctx, client_id, within=CONNECT_WINDOW)
            except IcbotError as exc:
                problems += [f"{s.order_ref} #{s.order_id} not cancelled (client {client_id}: {exc})" for s in states]
                continue
        try:
            for s in states:
                problem = await _cancel_one(ctx, owner, s, phase)
                if problem:
                    problems.append(problem)
        finally:
            if owner is not gw:
                await owner.close()
    return problems


async def _cancel_one(ctx: RunContext, owner: Gateway, s: OrderState, phase: Phase) -> str | None:
    try:
        final = await owner.cancel(s.order_id)
    except UnknownOrder:  # no longer open: it ended meanwhile (e.g. run-today cancelled it on the halt)
        latest = [x for x in await owner.find_by_ref(s.order_ref) if x.order_id == s.order_id]
        if not latest or not latest[-1].is_done:
            ctx.journal(phase, EventStatus.INFO, f"{s.order_ref} #{s.order_id} is no longer open")
            return None  # a fresh look afterwards says what the gateway holds
        final = latest[-1]
    if ctx.store.order(final.order_ref) is not None:  # another installation's stays out of this journal
        record_status(ctx, final)
    ok = final.status in CANCELLED
    ctx.journal(
        phase, EventStatus.OK if ok else EventStatus.FAIL, f"cancel {s.order_ref} #{s.order_id}: {final.status}"
    )
    return None if final.is_done else f"{s.order_ref} #{s.order_id} still {final.status}"
