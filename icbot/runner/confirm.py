"""After the exits are placed: run-today stays a while and catches an exit IB rejects after acknowledging it.

IB can acknowledge an order (PreSubmitted) and reject it later — error 201, then openOrder and orderStatus
`Inactive`, seen up to ~26 s afterwards (ib_insync#554, thetagang PR #709; docs/simulator.md,
"reject-after-ack"). Left alone, the condor would lack that exit until the next `icbot check`. So run-today stays
connected for `exits.confirm_seconds`, wakes on every message from the gateway, and whenever one of today's exits
ends without a fill and without icbot having asked, it reconciles exactly as `check` does (gather → assess →
apply): the missing exit is placed again in the same OCA group, or the day is critical and alerted. An exit that
ended because the position closed (a fill, or the OCA group after a sibling's fill) is settled the same way.
"""

from __future__ import annotations

from datetime import timedelta

from icbot.broker.errors import UnknownOrder
from icbot.broker.gateway import Gateway
from icbot.core import actions as act
from icbot.core.journal import EXIT_ROLES, EventStatus, Phase
from icbot.core.reconcile import Actor, assess
from icbot.core.schedule import SessionTimes
from icbot.errors import EXIT_OK, IcbotError
from icbot.runner.apply import apply
from icbot.runner.context import RunContext
from icbot.runner.gather import gather_day

HALT_POLL = 1.0  # virtual seconds between two looks at the halt flag (`icbot kill` waits for the client id)


def _exit_ids(ctx: RunContext) -> set[int]:
    """Today's exits this installation has placed, by order id (the journal knows every one it sent)."""
    return {o.order_id for o in ctx.store.orders(ctx.trade_date, ctx.mode) if o.role in EXIT_ROLES and o.order_id}


def _ended_unfilled(gw: Gateway, ids: set[int]) -> set[int]:
    """Of `ids`, those the gateway reports done without a fill (Inactive, Cancelled): no longer protecting."""
    out = set()
    for oid in ids:
        try:
            state = gw.order_state(oid)
        except UnknownOrder:  # placed by an earlier connection and not reported to this one: check answers for it
            continue
        if state.is_done and state.filled <= 0:
            out.add(oid)
    return out


async def confirm_exits(ctx: RunContext, gw: Gateway, session: SessionTimes) -> int:
    """Watch today's exits for `exits.confirm_seconds` (virtual); reconcile whenever one ends unasked.

    Returns the exit code of what the reconciliations did (0 when nothing happened)."""
    seconds = ctx.config.exits.confirm_seconds
    trade = ctx.trade()
    if seconds <= 0 or ctx.is_experiment or trade is None or not trade.is_open:
        return EXIT_OK
    until = ctx.now() + timedelta(seconds=seconds)
    # Exits the journal already knows to have ended (an earlier attempt a repair replaced) are no news; one that
    # died after its placement returned — even before this line, in the same read as its acknowledgement — is.
    handled = {
        o.order_id
        for o in ctx.store.orders(ctx.trade_date, ctx.mode)
        if o.role in EXIT_ROLES and o.order_id and o.status.is_done
    }
    code = EXIT_OK
    while (remaining := (until - ctx.now()).total_seconds()) > 0:
        halted, why = ctx.store.halted()
        if halted:  # `icbot kill` cancels the exits as their owner: this process lets go of its client id at once
            ctx.journal(Phase.EXITS, EventStatus.INFO, f"halted ({why or 'kill'}): the exits are left to `icbot kill`")
            break
        ids = _exit_ids(ctx)

        def newly_ended(ids: set[int] = ids) -> bool:
            return bool(_ended_unfilled(gw, ids) - handled)

        try:
            if not await gw.wait_until(newly_ended, min(remaining, HALT_POLL)):
                continue
        except IcbotError as exc:  # the exits were acknowledged; the next check watches them
            ctx.journal(Phase.EXITS, EventStatus.WARN, f"stopped watching the exits: {exc}; `icbot check` goes on")
            break
        gone = sorted(_ended_unfilled(gw, ids) - handled)
        handled.update(gone)
        if ctx.store.halted()[0]:
            continue  # cancelled by `icbot kill`, not rejected: the top of the loop lets go
        states = [gw.order_state(oid) for oid in gone]
        ctx.journal(
            Phase.EXITS,
            EventStatus.WARN,
            "ended at the gateway without a fill, unasked: "
            + "; ".join(f"{s.order_ref} #{s.order_id} {s.status} {s.last_error or ''}".strip() for s in states),
        )
        code = max(code, await _reconcile(ctx, gw, session))
        trade = ctx.trade()
        if code != EXIT_OK or trade is None or not trade.is_open:
            break
    return code


async def _reconcile(ctx: RunContext, gw: Gateway, session: SessionTimes) -> int:
    """As `check` does; a failure here leaves an exit known to be missing, so it is critical."""
    trade = ctx.trade()
    assert trade is not None
    try:
        facts = await gather_day(ctx, gw, trade)
        return await apply(ctx, gw, assess(facts, session=session, now=ctx.now(), actor=Actor.CHECK))
    except IcbotError as exc:
        msg = f"an exit ended unasked and the exits could not be verified again: {exc} — place it in TWS"
        return await apply(ctx, None, [act.Critical(Phase.EXITS, msg)])
