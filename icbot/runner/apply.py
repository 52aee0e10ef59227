"""Performing what reconciliation decided: the one place its actions journal, save, alert and send.

`icbot.core.reconcile.assess` returns actions as data; `apply` carries them out in order and returns the exit
code they imply (docs/operations.md). Flow actions (`ContinueEntry`, `FreshDay`) are not performed
here: they tell the calling command what to do next, and it reads them from the same list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from icbot.broker.gateway import Gateway
from icbot.core.actions import (
    EXIT_CRITICAL,
    Action,
    Critical,
    Note,
    Notify,
    NoTrade,
    PlaceExits,
    ReprotectRemainder,
    SaveTrade,
    WatchTouch,
    exit_code,
)
from icbot.core.journal import AlertLevel, EventStatus, Phase
from icbot.core.reconcile import protects
from icbot.core.settlement import closed_quantity, touched_sides
from icbot.core.zones import NEW_YORK
from icbot.errors import IcbotError
from icbot.runner.cancel import cancel_as_owner
from icbot.runner.context import RunContext
from icbot.runner.exits import ensure_exits, plan_exits
from icbot.runner.gather import gather_day

REPEAT_URGENT = timedelta(minutes=15)


async def apply(ctx: RunContext, gw: Gateway | None, actions: Sequence[Action]) -> int:
    """Carry out `actions` for `ctx`'s trade date; return the exit code they (and their outcomes) imply."""
    code = exit_code(actions)
    for action in actions:
        match action:
            case Note(phase, status, message, data):
                if phase is Phase.CLOSED and status is EventStatus.OK and gw is not None:
                    data = {**data, **await _underlying_at_exit(ctx, gw)}
                ctx.journal(phase, status, message, **data)
            case SaveTrade(fields):
                ctx.save_trade(**fields)
            case Notify(level, title, body):
                ctx.alert(level, title, body)
            case Critical():
                critical(ctx, action)
            case NoTrade(phase, reason):
                ctx.journal(phase, EventStatus.FAIL, f"no trade today: {reason}")
                ctx.save_trade(status="no_trade", no_trade_reason=reason, experiment=ctx.is_experiment)
                ctx.alert(AlertLevel.WARNING, "no trade", reason)
            case PlaceExits():
                assert gw is not None, "placing exits needs the gateway"
                code = max(code, await place_exits(ctx, gw, action))
            case ReprotectRemainder():
                assert gw is not None, "re-protecting needs the gateway"
                code = max(code, await reprotect(ctx, gw, action))
            case WatchTouch():
                assert gw is not None, "the touch watch needs the gateway"
                await watch_touch(ctx, gw, action)
    return code


async def _underlying_at_exit(ctx: RunContext, gw: Gateway) -> dict[str, float]:
    """{"spx": level} of the underlying at the trade's exit, for the report's move in trade; {} when unknown.

    The closed event is journaled right after the trade row got its exit time. A bar IB cannot give now is no
    reason to hold back the settlement: the report then says the move is not journaled."""
    trade = ctx.trade()
    if trade is None or trade.exited_at is None:
        return {}
    try:
        level = await gw.underlying_at(trade.exited_at)
    except IcbotError as exc:
        ctx.journal(Phase.CLOSED, EventStatus.INFO, f"the index at the exit is not known: {exc}")
        return {}
    return {} if level is None else {"spx": level}


def critical(ctx: RunContext, action: Critical) -> None:
    """Journaled as a failure, kept on the trade as its last problem, sent as an urgent alert — the same urgent
    alert at most once per REPEAT_URGENT (a condition that persists is not re-sent by every check)."""
    ctx.journal(action.phase, EventStatus.FAIL, f"CRITICAL: {action.message}")
    if ctx.trade() is not None:  # an account-wide finding must not create a trade row for the day
        # run-today's criticals leave the day's exits unverified, so a rerun repairs rather than trusts them
        extra = {"exits_ok": False} if ctx.command == "run-today" else {}
        ctx.save_trade(last_problem=action.message, **extra)
    ctx.alert(AlertLevel.FAILURE, action.title, action.body or action.message, repeat_after=REPEAT_URGENT)


def by_hand(ctx: RunContext, action: PlaceExits) -> str:
    """What to place in TWS when icbot cannot (e.g. the API turned read-only after the fill): the three exits
    with their prices, as one OCA group — or close the condor."""
    plan = plan_exits(ctx, action.credit, action.time_exit_at)
    at = action.time_exit_at.astimezone(NEW_YORK).strftime("%H:%M")
    return (
        f"By hand in TWS, one OCA group for {action.quantity} condor(s) {strikes_text(action)}: take profit SELL LMT "
        f"{plan.take_profit:.2f}, stop SELL STP {plan.stop:.2f} (trigger {ctx.config.exits.stop_trigger}), time "
        f"exit SELL MKT good after {at} ET — or close the condor"
    )


async def place_exits(ctx: RunContext, gw: Gateway, action: PlaceExits) -> int:
    """Make the three exits work; a repair is a warning, run-today's first placement ends the day's entry."""
    if not action.repair:
        ctx.journal(Phase.EXITS, EventStatus.START, f"OCA exits for {action.quantity}")
    try:
        ok, what = await ensure_exits(
            ctx,
            gw,
            legs=action.legs,
            quantity=action.quantity,
            credit=action.credit,
            time_exit_at=action.time_exit_at,
            existing=action.existing,
        )
    except IcbotError as exc:
        ok, what = False, str(exc)
        if not action.repair:
            what = f"placing the exits failed: {exc}"
    if not ok:
        hand = by_hand(ctx, action)
        if action.repair:
            body = f"position without complete exits: {what}. {hand}"
            critical(ctx, Critical(Phase.EXITS, f"exits incomplete: {what}", body=body))
        elif what.startswith("placing the exits failed"):
            msg = f"filled {action.quantity} condor(s) but {what}"
            critical(ctx, Critical(Phase.EXITS, msg, body=f"{msg}. {hand}"))
        else:
            msg = f"filled {action.quantity} condor(s) but the exits are not complete: {what}"
            critical(ctx, Critical(Phase.EXITS, msg, body=f"{msg}. {hand}"))
        return EXIT_CRITICAL
    if action.repair:
        ctx.journal(Phase.EXITS, EventStatus.OK, f"repaired: {what}")
        ctx.alert(AlertLevel.WARNING, "exits repaired", what)
        return 0
    ctx.journal(Phase.EXITS, EventStatus.OK, what)
    if action.unresolved:  # the exits work, but something else about the entry stays open
        critical(ctx, Critical(Phase.FILL, action.unresolved))
        return EXIT_CRITICAL
    ctx.save_trade(exits_ok=True)
    ctx.journal(Phase.DONE, EventStatus.OK, "trade open, exits working at the broker")
    ctx.alert(
        AlertLevel.INFO,
        "iron condor filled",
        f"{strikes_text(action)} x{action.quantity}, credit {action.credit:.2f}; {what}",
    )
    return 0


def strikes_text(action: PlaceExits) -> str:
    """`5905/5925P 6060/6080C` from the order's own legs (the journal's strike columns may be empty on a rerun)."""
    puts = "/".join(f"{k:g}" for k in sorted(leg.strike for leg in action.legs if leg.right == "P"))
    calls = "/".join(f"{k:g}" for k in sorted(leg.strike for leg in action.legs if leg.right == "C"))
    return f"{puts}P {calls}C" if puts and calls else "condor (legs unknown)"


async def reprotect(ctx: RunContext, gw: Gateway, action: ReprotectRemainder) -> int:
    """Cancel the old exits' remainder (as whichever client placed them), read the broker again (a fill may have
    raced the cancels), and place a complete set for exactly the lots still open, at the same prices."""

    problems = await cancel_as_owner(ctx, gw, action.working, phase=Phase.EXITS)
    if problems:
        msg = f"the open lots have no stop and the old exits could not be cancelled: {'; '.join(problems)}"
        critical(ctx, Critical(Phase.EXITS, f"{msg} — place a stop in TWS or close the rest"))
        return EXIT_CRITICAL
    trade = ctx.trade()
    assert trade is not None
    facts = await gather_day(ctx, gw, trade, positions=False)
    open_qty = action.quantity - closed_quantity(facts.fills)
    if open_qty <= 0:
        ctx.journal(Phase.EXITS, EventStatus.OK, "the rest closed while its old exits were cancelled")
        return 0
    still = [s for s in facts.exits_at_broker() if protects(s)]
    try:
        ok, what = await ensure_exits(
            ctx,
            gw,
            legs=action.legs,
            quantity=int(open_qty),
            credit=action.credit,
            time_exit_at=action.time_exit_at,
            existing=still,
        )
    except IcbotError as exc:
        ok, what = False, str(exc)
    if not ok:
        critical(ctx, Critical(Phase.EXITS, f"the open {open_qty:g} lot(s) could not be protected again: {what}"))
        return EXIT_CRITICAL
    ctx.journal(Phase.EXITS, EventStatus.OK, f"re-protected the open {open_qty:g} lot(s): {what}")
    ctx.alert(AlertLevel.WARNING, "exits re-placed for the remaining lots", what)
    return 0


async def watch_touch(ctx: RunContext, gw: Gateway, action: WatchTouch) -> None:
    """Alert once per side when the index has reached a short strike since the fill (no order: the stop acts).

    Uses the index's 1-minute bars since the entry, so a touch between two `check` runs is not missed. Without
    index data (a competing session, no subscription) the watch is blind for this run and says so; the exits,
    already verified, are what protect the position.
    """
    try:
        last = await gw.index_price()
        low = high = last
        if action.since is not None:
            span = await gw.underlying_range(action.since, ctx.now())
            if span is not None:
                low = span[0] if low is None else min(low, span[0])
                high = span[1] if high is None else max(high, span[1])
    except IcbotError as exc:
        ctx.journal(Phase.RECONCILE, EventStatus.WARN, f"short-strike touch not checked this time: {exc}")
        return
    if low is None or high is None:
        return
    for side in touched_sides(low, high, action.short_put, action.short_call):
        if side in action.alerted:
            continue
        strike = action.short_put if side == "put" else action.short_call
        extreme = low if side == "put" else high
        now_text = f"{last}" if last is not None else "n/a"
        msg = f"{gw.product.symbol} reached {extreme:.2f}, touching the short {side} {strike:g} (now {now_text})"
        ctx.journal(Phase.TOUCH, EventStatus.WARN, msg, side=side, extreme=extreme, spx=last)
        ctx.alert(AlertLevel.WARNING, f"short {side} touched", msg)
