"""`icbot check`: reconcile the open trades with the broker — gather, assess, apply.

Fired every few minutes while a trade is open. It never opens a position. For each trade it gathers the facts
(icbot/runner/gather.py copies the broker's statuses and executions into the journal), lets the pure
`icbot.core.reconcile.assess` decide (settle, repair exits, alert, critical …) and applies that
(icbot/runner/apply.py). Then it compares the account's positions with what the trades mean to hold, and
resolves experiment trades from historical bars with the same exit rules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta

from icbot.broker.gateway import Gateway
from icbot.config import GatewayConfig
from icbot.core import refs
from icbot.core.actions import EXIT_CRITICAL, EXIT_OK, Critical, PlaceExits, ReprotectRemainder
from icbot.core.journal import AlertLevel, EventStatus, Phase, Trade
from icbot.core.reconcile import Actor, assess
from icbot.core.settlement import ExitRules, Intended, experiment_exit, intended_positions, position_problems
from icbot.errors import IcbotError
from icbot.runner.apply import apply, critical
from icbot.runner.candidates import trades_to_check as trades_to_check
from icbot.runner.confirm import confirm_exits
from icbot.runner.context import RunContext
from icbot.runner.gather import copy_executions, gather_day, read_until_settled
from icbot.runner.recording import record_after_check
from icbot.runner.sessions import day_session
from icbot.runner.signals import Stop

PLACES = (PlaceExits, ReprotectRemainder)  # actions that send new exits, watched for a late rejection


def check_gateway(gateway: GatewayConfig) -> GatewayConfig:
    """`check` connects with the next client id, so it never collides (IB error 326) with a run-today that the
    scheduler started in the same minute. Orders placed by either are visible to both through reqAllOpenOrders."""
    return replace(gateway, client_id=gateway.client_id + 1)


async def run_check(ctx: RunContext, trades: list[Trade], stop: Stop | None = None) -> int:
    """Reconcile `trades` (from trades_to_check, minus days another process is working on)."""
    try:
        return await _run_check(ctx, trades)
    except asyncio.CancelledError:
        # SIGTERM/SIGINT (icbot/runner/signals.py): what this round verified is journaled; the rest is not known.
        if stop is not None:
            stop.take()
        signal = stop.signal if stop is not None else None
        live = any(not t.experiment for t in trades)
        msg = f"stopped from outside ({signal or 'cancelled'}) before the open trade was fully checked"
        ctx.journal(Phase.RECONCILE, EventStatus.WARN, msg)
        if live:
            ctx.alert(AlertLevel.WARNING, "check stopped", f"{msg}; the next check continues")
        return EXIT_CRITICAL if live else EXIT_OK
    finally:
        await ctx.flush_alerts()


async def _run_check(ctx: RunContext, trades: list[Trade]) -> int:
    if not trades:
        ctx.echo("no open trade: nothing to check")
        return EXIT_OK
    live = [t for t in trades if not t.experiment]
    experiments = [t for t in trades if t.experiment]
    ctx.journal(Phase.RECONCILE, EventStatus.START, f"{len(trades)} open trade(s)")
    deadline = ctx.now() + timedelta(minutes=2)
    try:
        gw = await Gateway.connect(
            check_gateway(ctx.config.gateway),
            clock=ctx.clock,
            deadline=deadline,
            mode=ctx.mode,
            strategy=ctx.config.strategy,
        )
    except IcbotError as exc:
        if live:
            ctx.journal(Phase.RECONCILE, EventStatus.FAIL, f"cannot reach the gateway: {exc}")
            ctx.alert(AlertLevel.FAILURE, "cannot check the open trade", str(exc))
            return EXIT_CRITICAL
        ctx.journal(Phase.RECONCILE, EventStatus.WARN, f"cannot reach the gateway for market data: {exc}")
        return EXIT_OK
    try:
        code = max(
            await _check_live(ctx, gw, live) if live else EXIT_OK,
            await _resolve_experiments(ctx, gw, experiments),
        )
        # only after the live work, and never changing its outcome (icbot/runner/recording.py)
        await record_after_check(ctx, gw)
        return code
    finally:
        await gw.close()


async def _check_live(ctx: RunContext, gw: Gateway, live: list[Trade]) -> int:
    """Each live trade: gather → assess → apply; then the account's positions against all of them."""
    code = EXIT_OK
    for trade in live:
        day_ctx = ctx.for_date(trade.trade_date)
        try:
            facts = await gather_day(ctx, gw, trade)
            session = day_session(ctx.config, trade.trade_date)
            actions = assess(facts, session=session, now=ctx.now(), actor=Actor.CHECK)
            done = await apply(day_ctx, gw, actions)
            if done == EXIT_OK and session is not None and any(isinstance(a, PLACES) for a in actions):
                done = await confirm_exits(day_ctx, gw, session)  # IB may reject a new exit late, as at the entry
            code = max(code, done)
        except IcbotError as exc:  # the gateway failed mid-way: the trade's risk is not known to be covered
            code = max(code, _broke_off(ctx, trade.trade_date, exc))
    try:
        code = max(code, await _check_positions(ctx, gw, [t.trade_date for t in live]))
    except IcbotError as exc:
        code = max(code, _broke_off(ctx, ctx.trade_date, exc))
    return code


def _broke_off(ctx: RunContext, trade_date: date, exc: IcbotError) -> int:
    """A live trade could not be reconciled to the end: critical (risk open, state unknown), alerted."""
    day_ctx = ctx.for_date(trade_date)
    day_ctx.journal(Phase.RECONCILE, EventStatus.FAIL, f"CRITICAL: reconciliation broke off: {exc}")
    day_ctx.alert(AlertLevel.FAILURE, "cannot check the open trade", str(exc))
    return EXIT_CRITICAL


async def _check_positions(ctx: RunContext, gw: Gateway, days: Sequence[date]) -> int:
    """Compare the account's option positions with what icbot's trades mean to hold; critical on any difference.

    Positions are read after the trades were reconciled. IB's position update may trail the execution that
    caused it, so a difference is read again — fresh executions, then positions — before it is alerted
    (`read_until_settled`, as gathering does for a fill's legs).
    """
    dates = sorted({ctx.trade_date, *days})

    async def problems_now() -> list[str]:
        return position_problems(await gw.positions(), _intended(ctx, dates))

    async def with_fresh_executions() -> list[str]:
        for day in dates:
            await copy_executions(ctx, gw, day, await gw.find_by_ref(refs.day_prefix(day, ctx.mode)))
        return await problems_now()

    problems, _ = await read_until_settled(ctx, problems_now, lambda found: not found, again=with_fresh_executions)
    if not problems:
        return EXIT_OK
    names = "; ".join(problems)
    critical(ctx, Critical(Phase.RECONCILE, f"positions icbot cannot account for: {names}", title="orphan positions"))
    return EXIT_CRITICAL


def _intended(ctx: RunContext, dates: Sequence[date]) -> dict[int, Intended]:
    days = []
    for day in dates:
        trade = ctx.store.trade(day, ctx.mode)
        if trade is None:
            continue
        entry = ctx.store.entry_order(day, ctx.mode)
        days.append((trade, entry.legs if entry is not None else (), ctx.store.fills(day, ctx.mode)))
    return intended_positions(days)


async def _resolve_experiments(ctx: RunContext, gw: Gateway, trades: list[Trade]) -> int:
    """Walk each experiment's legs' 1-minute mid bars with the live exit rules (no risk: nothing was sent)."""
    ex = ctx.config.exits
    rules = ExitRules(ex.profit_target_pct, ex.stop_multiple, ctx.config.strategy.combo_tick)
    for trade in trades:
        day_ctx = ctx.for_date(trade.trade_date)
        entry = ctx.store.entry_order(trade.trade_date, ctx.mode)
        if trade.entry_filled_at is None or trade.time_exit_at is None or trade.credit is None or entry is None:
            continue
        end = min(ctx.now(), trade.time_exit_at + timedelta(minutes=1))
        try:
            legs = [(leg.action, await gw.mid_bars(leg.con_id, trade.entry_filled_at, end)) for leg in entry.legs]
        except IcbotError as exc:  # no risk: an experiment is resolved on a later run
            day_ctx.journal(Phase.RECONCILE, EventStatus.WARN, f"experiment not resolved: {exc}")
            continue
        await apply(day_ctx, gw, experiment_exit(trade, legs, rules, now=ctx.now()))
    return EXIT_OK


async def run_recording(ctx: RunContext) -> int:
    """`check` with no open trade but today's bars still due for what-if replays (docs/whatif.md): connect,
    record within the request budget, disconnect. Nothing is at risk, so a failure is a warning and exit 0."""
    try:
        gw = await Gateway.connect(
            check_gateway(ctx.config.gateway),
            clock=ctx.clock,
            deadline=ctx.now() + timedelta(minutes=1),
            mode=ctx.mode,
            strategy=ctx.config.strategy,
        )
    except IcbotError as exc:
        ctx.journal("bars", EventStatus.WARN, f"cannot reach the gateway to record bars: {exc}")
        return EXIT_OK
    try:
        await record_after_check(ctx, gw)
    finally:
        await gw.close()
    return EXIT_OK
