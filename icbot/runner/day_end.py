"""Running `check`'s quiet-day rounds (icbot/core/day_end.py decides when): the missed-run alert, and after the
time exit the sweep of the account and the daily summary."""

from __future__ import annotations

from datetime import timedelta

from icbot.core.actions import EXIT_CRITICAL, EXIT_OK, Critical
from icbot.core.day_end import END_OF_DAY, MISSED_RUN, day_summary, month_trades
from icbot.core.journal import AlertLevel, EventStatus, Phase
from icbot.core.schedule import SessionTimes
from icbot.core.settlement import legs_held
from icbot.errors import IcbotError
from icbot.runner.apply import critical
from icbot.runner.connect import CHECK_OFFSET, connect_as
from icbot.runner.context import RunContext


async def run_rounds(ctx: RunContext, due: list[str], session: SessionTimes) -> int:
    try:
        return await _rounds(ctx, due, session)
    finally:
        await ctx.flush_alerts()


async def _rounds(ctx: RunContext, due: list[str], session: SessionTimes) -> int:
    code = EXIT_OK
    if MISSED_RUN in due:
        msg = (
            f"no run-today reached the entry window of {session.date} (entry {session.entry_at:%H:%M} ET): the Mac "
            "may have been asleep or off at 09:31, or the scheduler unloaded or set for another time zone — "
            "`icbot schedule show` and `icbot doctor` say which"
        )
        ctx.journal(Phase.RECONCILE, EventStatus.FAIL, msg, round=MISSED_RUN)
        ctx.alert(AlertLevel.WARNING, "missed run", msg)
    if END_OF_DAY in due:
        swept = await _sweep(ctx)
        if swept is None:  # the gateway did not answer: the round is tried again by the next check
            return code
        code = max(code, swept)
        if ctx.config.notify.daily_summary:
            trade = ctx.store.trade(session.date, ctx.mode)
            title, body = day_summary(trade, month_trades(ctx.store.trades(ctx.mode), session.date), session=session)
            ctx.alert(AlertLevel.INFO, title, body)
        ctx.journal(
            Phase.RECONCILE,
            EventStatus.OK if swept == EXIT_OK else EventStatus.FAIL,
            "end of day: account swept" + (", summary sent" if ctx.config.notify.daily_summary else ""),
            round=END_OF_DAY,
        )
    return code


async def _sweep(ctx: RunContext) -> int | None:
    """After the time exit nothing of icbot's should be left: no working icbot order (of any day or installation)
    and none of today's legs held. Anything left is critical; None when the gateway cannot be asked."""
    try:
        gw = await connect_as(ctx, ctx.config.gateway.client_id + CHECK_OFFSET, within=timedelta(seconds=30))
    except IcbotError as exc:
        ctx.journal(Phase.RECONCILE, EventStatus.WARN, f"end-of-day sweep not done: {exc}", round=END_OF_DAY)
        return None
    try:
        working = [s for s in await gw.find_by_ref("icbot:") if s.is_working]
        entry = ctx.store.entry_order(ctx.trade_date, ctx.mode)
        positions = await gw.positions()
    except IcbotError as exc:
        ctx.journal(Phase.RECONCILE, EventStatus.WARN, f"end-of-day sweep broke off: {exc}", round=END_OF_DAY)
        return None
    finally:
        await gw.close()
    left = [f"{s.order_ref} #{s.order_id} {s.status}" for s in working]
    if entry is not None:
        left += legs_held(entry.legs, positions)
    if not left:
        return EXIT_OK
    msg = f"left after the time exit: {'; '.join(left)} — close or cancel in TWS, or `icbot kill`"
    critical(ctx, Critical(Phase.RECONCILE, msg))
    return EXIT_CRITICAL
