"""`icbot check`: reconcile today's trade with the broker, account for exits, repair, alert.

Fired every few minutes while a trade is open. It never opens a position. It copies the broker's truth (order
statuses, leg executions with commissions, positions) into the journal, closes the trade when an exit filled
(P/L from leg fills and all commissions, never the BAG average), re-places missing exits while the position is
open, alerts once on a short strike touched and on positions icbot cannot account for, and resolves
experiment trades from historical bars with the same exit rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from icbot.broker.gateway import Gateway
from icbot.broker.types import Position
from icbot.clock import NEW_YORK
from icbot.config import GatewayConfig
from icbot.core.accounting import exit_credit, net_flow, trade_pnl
from icbot.core.exits import exit_prices
from icbot.core.schedule import SessionTimes, session_times, shared_calendar
from icbot.errors import EXIT_CRITICAL, EXIT_OK, IcbotError, StoreError
from icbot.runner import refs
from icbot.runner.context import RunContext
from icbot.runner.exits import WORKING, ensure_exits
from icbot.runner.positions import intended_positions, position_problems
from icbot.runner.records import entry_legs, record_executions, record_status
from icbot.runner.settle import MULTIPLIER, closed_quantity, exit_reason, leg_fill, settle_trade
from icbot.store.repo import Store

POSITION_SETTLE = 3.0  # virtual seconds for IB's position update to catch up with an execution


def trades_to_check(store: Store, mode: str) -> list[dict[str, Any]]:
    """Trades of this mode that may carry risk: open ones (any date — a crash may have left yesterday's
    unaccounted) and pending ones whose entry order was sent (a crash between the fill and the journal)."""
    out = []
    for t in store.trades(mode):
        if t.get("status") == "open":
            out.append(t)
        elif t.get("status") == "pending" and not t.get("experiment"):
            entry = store.order(refs.order_ref(_trade_date(t), mode, refs.ENTRY))
            if entry is not None and entry.get("transmitted"):
                out.append(t)
    return out


def check_gateway(gateway: GatewayConfig) -> GatewayConfig:
    """`check` connects with the next client id, so it never collides (IB error 326) with a run-today that the
    scheduler started in the same minute. Orders placed by either are visible to both through reqAllOpenOrders."""
    return replace(gateway, client_id=gateway.client_id + 1)


async def run_check(ctx: RunContext, trades: list[dict[str, Any]]) -> int:
    """Reconcile `trades` (from trades_to_check, minus days another process is working on)."""
    if not trades:
        ctx.echo("no open trade: nothing to check")
        return EXIT_OK
    live = [t for t in trades if not t.get("experiment")]
    experiments = [t for t in trades if t.get("experiment")]
    ctx.journal("reconcile", "start", f"{len(trades)} open trade(s)")
    deadline = ctx.now() + timedelta(minutes=2)
    try:
        gw = await Gateway.connect(check_gateway(ctx.config.gateway), clock=ctx.clock, deadline=deadline, mode=ctx.mode)
    except IcbotError as exc:
        if live:
            ctx.journal("reconcile", "fail", f"cannot reach the gateway: {exc}")
            ctx.notifier.failure(f"icbot {ctx.trade_date}: cannot check the open trade", str(exc))
            return EXIT_CRITICAL
        ctx.journal("reconcile", "warn", f"cannot reach the gateway for market data: {exc}")
        return EXIT_OK
    code = EXIT_OK
    try:
        positions: list[Position] = []
        if live:
            try:
                positions = await gw.positions()
            except IcbotError as exc:
                return _broke_off(ctx, ctx.trade_date, exc)
        for trade in live:
            try:
                code = max(code, await _check_trade(ctx, gw, trade, positions))
            except IcbotError as exc:  # the gateway failed mid-way: the trade's risk is not known to be covered
                code = max(code, _broke_off(ctx, _trade_date(trade), exc))
        for trade in experiments:
            try:
                await _resolve_experiment(ctx, gw, trade)
            except IcbotError as exc:  # no risk: an experiment is resolved on a later run
                ctx.for_date(_trade_date(trade)).journal("reconcile", "warn", f"experiment not resolved: {exc}")
        if live:
            try:
                code = max(code, await _check_positions(ctx, gw, live))
            except IcbotError as exc:
                code = max(code, _broke_off(ctx, ctx.trade_date, exc))
    finally:
        await gw.close()
    return code


def _broke_off(ctx: RunContext, trade_date: date, exc: IcbotError) -> int:
    """A live trade could not be reconciled to the end: critical (SPEC §3: risk open, state unknown), alerted."""
    day_ctx = ctx.for_date(trade_date)
    day_ctx.journal("reconcile", "fail", f"CRITICAL: reconciliation broke off: {exc}")
    ctx.notifier.failure(f"icbot {trade_date}: cannot check the open trade", str(exc))
    return EXIT_CRITICAL


def _trade_date(trade: dict[str, Any]) -> date:
    value = trade["trade_date"]
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def _check_trade(ctx: RunContext, gw: Gateway, trade: dict[str, Any], positions: list[Position]) -> int:
    trade_date = _trade_date(trade)
    day_ctx = ctx.for_date(trade_date)
    session = session_times(shared_calendar(), trade_date, ctx.config.entry, ctx.config.exits)
    states = {s.order_ref: s for s in await gw.find_by_ref(refs.day_prefix(trade_date, ctx.mode))}
    code = EXIT_OK
    strangers = []
    for s in states.values():
        try:
            record_status(day_ctx, s)
        except StoreError:  # no intent journaled for this orderRef: not an order this journal sent
            strangers.append(s)
    if strangers:
        names = ", ".join(f"{s.order_ref} #{s.order_id} {s.status}" for s in strangers)
        msg = (
            f"order(s) at the gateway carry icbot's name but are not in this journal: {names} "
            "(another icbot on this account, or an older copy of the journal?)"
        )
        _action_needed(day_ctx, ctx, "reconcile", msg, title="broker and journal disagree")
        code = EXIT_CRITICAL
    execs = await gw.executions(trade_date)
    record_executions(day_ctx, trade_date, execs)
    entry = states.get(refs.order_ref(trade_date, ctx.mode, refs.ENTRY))
    legs = entry_legs(day_ctx, trade_date, entry)
    # check holds the day's lock, so no run-today is working this order: past the deadline it is an entry
    # attempt nobody manages (SPEC: none after 09:33), and it may fill at any moment without exits.
    if entry is not None and entry.is_working and (session is None or ctx.now() >= session.deadline_at):
        by = f"the {session.deadline_at:%H:%M} ET deadline" if session is not None else "its day"
        msg = (
            f"the entry #{entry.order_id} ({entry.filled:g}/{entry.quantity:g} filled) is still working after "
            f"{by} and no run-today is working it: cancel it in TWS; a fill gets exits only at the next check"
        )
        _action_needed(day_ctx, ctx, "reconcile", msg)
        code = EXIT_CRITICAL
    earlier_day = trade_date < ctx.now().astimezone(NEW_YORK).date()
    if trade.get("status") == "pending":
        if entry is None or entry.filled <= 0:
            if code == EXIT_OK and entry is not None and entry.is_working:
                day_ctx.journal("reconcile", "info", "today's entry is still working; run-today owns it")
            elif entry is not None and entry.is_done:
                why = f"the entry ended {entry.status} without a fill"
                day_ctx.journal("reconcile", "info", f"no trade: {why}")
                day_ctx.save_trade(status="no_trade", no_trade_reason=why)
            elif entry is None and earlier_day:
                msg = (
                    f"the entry was sent but IB reports only today's orders and executions, so whether it filled "
                    f"on {trade_date} is unknown here; take it from the IB statement"
                )
                day_ctx.journal("reconcile", "warn", msg)
                day_ctx.save_trade(status="failed", last_problem=msg)
                ctx.notifier.warning(f"icbot {trade_date}: outcome unknown", msg)
            elif entry is None:
                code = max(code, _entry_unknown_today(day_ctx, ctx, session))
            return code
        trade = day_ctx.save_trade(status="open", quantity=int(entry.filled), exits_ok=False)
        day_ctx.journal("reconcile", "warn", f"the entry filled {entry.filled:g} but the journal had not recorded it")
    elif entry is not None and entry.filled > float(trade.get("quantity") or 0) + 1e-9:
        # The broker is the truth: exits are sized, and positions judged, by what the entry really filled.
        day_ctx.journal(
            "reconcile", "warn", f"the entry filled {entry.filled:g}, the journal had {trade.get('quantity')}"
        )
        trade = day_ctx.save_trade(quantity=int(entry.filled))
    credit_for_exits = trade.get("credit")  # what a repair prices the exits from
    if credit_for_exits is None:
        entry_fills = ctx.store.fills(trade_date, ctx.mode, role=refs.ENTRY)
        credit_for_exits, source = exit_credit(
            ((int(f["con_id"] or 0), leg_fill(f)) for f in entry_fills),
            filled=float(trade.get("quantity") or 0),
            bag_avg=entry.avg_fill_price if entry is not None else None,
        )
        if source == "legs":  # only the legs' figure is the trade's credit (SPEC §1)
            flow = net_flow(leg_fill(f) for f in entry_fills)
            trade = day_ctx.save_trade(credit=credit_for_exits, entry_commission=flow.commissions)
            day_ctx.journal("fill", "ok", f"credit {credit_for_exits:.2f} recovered from the legs' executions")
        elif source == "bag":  # prices a repair, but is not stored: the legs' figure is recorded once all are in
            day_ctx.journal(
                "fill",
                "warn",
                f"credit {credit_for_exits:.2f} from the combo's fill price for pricing exits "
                "(leg executions incomplete)",
            )
    if not trade.get("time_exit_at") and session is not None:
        trade = day_ctx.save_trade(time_exit_at=session.time_exit_at.isoformat())
    quantity = float(trade.get("quantity") or 0)
    closed_qty, exit_fills = closed_quantity(ctx, trade_date)
    if quantity and closed_qty >= quantity - 1e-9:
        settle_trade(day_ctx, trade, exit_fills)
        return code
    held = {p.con_id: p.quantity for p in positions if p.sec_type == "OPT"}
    position_open = any(held.get(leg.con_id) for leg in legs) if legs else quantity > 0
    if not position_open:
        live_exits = [s for s in states.values() if refs.role_of(s.order_ref) in refs.EXIT_ROLES and s.is_working]
        if live_exits:
            # Closed outside icbot, but the exits still work: the stop, or the time exit's market order, would
            # now open a new (reversed) condor. check's client id cannot cancel run-today's orders; a person must.
            names = ", ".join(f"{refs.role_of(s.order_ref)} #{s.order_id} {s.status}" for s in live_exits)
            msg = (
                f"the position is gone (no icbot exit filled) but {len(live_exits)} exit order(s) are still working "
                f"at the gateway: {names}; cancel them in TWS now, or they will open a new position"
            )
            _action_needed(day_ctx, ctx, "reconcile", msg)
            return EXIT_CRITICAL
        if earlier_day:  # the exit may well have been icbot's; IB just no longer reports that day's executions
            msg = (
                f"the position of {trade_date} is gone and the journal has no exit fill; IB reports only today's "
                "executions, so exit reason and P/L are unknown here; take them from the IB statement"
            )
            day_ctx.journal("reconcile", "warn", msg)
            day_ctx.save_trade(status="closed", last_problem=msg)
            ctx.notifier.warning(f"icbot {trade_date}: exit not seen", msg)
            return code
        day_ctx.journal("reconcile", "warn", "the position is gone but no icbot exit filled (closed by hand?)")
        day_ctx.save_trade(status="closed", exit_reason="manual")
        ctx.notifier.warning(f"icbot {trade_date}: position closed outside icbot", "no icbot exit filled; check TWS")
        return code
    open_qty = quantity - closed_qty
    working = [s for s in states.values() if refs.role_of(s.order_ref) in refs.EXIT_ROLES and s.status in WORKING]
    # An exit covers the position only if it would close exactly what is still open.
    covering = {refs.role_of(s.order_ref) for s in working if abs(s.remaining - open_qty) < 1e-9}
    if covering >= set(refs.EXIT_ROLES):
        day_ctx.journal("reconcile", "ok", f"position open ({open_qty:g}), {len(working)} exits working")
    elif closed_qty > 0:
        # Part of the position was closed by an exit. With ocaType 1 that fill cancelled the siblings, so the rest
        # has no stop. ensure_exits would take "an exit filled" for "closed", and a fresh OCA group beside the
        # still-working remainder could close the position twice: this needs a person.
        have = ", ".join(r for r in refs.EXIT_ROLES if r in covering) or "no exit"
        lacking = ", ".join(r for r in refs.EXIT_ROLES if r not in covering)
        msg = (
            f"{closed_qty:g} of {quantity:g} condors closed by {exit_reason(exit_fills)[1]}; "
            f"the remaining {open_qty:g} have {have} working for them and no {lacking}: "
            f"place those for {open_qty:g} in TWS or close the rest"
        )
        _action_needed(day_ctx, ctx, "exits", msg)
        code = EXIT_CRITICAL
    else:
        if not legs or credit_for_exits is None:
            ok, what = False, "the legs or the credit of the entry are unknown, so they cannot be re-placed"
        else:
            time_exit_at = datetime.fromisoformat(trade["time_exit_at"]) if trade.get("time_exit_at") else ctx.now()
            try:
                ok, what = await ensure_exits(
                    day_ctx,
                    gw,
                    legs=legs,
                    quantity=int(quantity),
                    credit=float(credit_for_exits),
                    time_exit_at=time_exit_at,
                    existing=list(states.values()),
                )
            except IcbotError as exc:
                ok, what = False, str(exc)
        if ok:
            day_ctx.journal("exits", "ok", f"repaired: {what}")
            ctx.notifier.warning(f"icbot {trade_date}: exits repaired", what)
        else:
            day_ctx.journal("exits", "fail", f"CRITICAL: exits incomplete: {what}")
            ctx.notifier.failure(f"icbot {trade_date}: ACTION NEEDED", f"position without complete exits: {what}")
            code = EXIT_CRITICAL
    await _check_touch(day_ctx, gw, trade)
    return code


def touched_sides(low: float, high: float, short_put: float | None, short_call: float | None) -> list[str]:
    """Which short strikes the index reached within [low, high]: at or below the put, at or above the call."""
    sides = []
    if short_put is not None and low <= short_put:
        sides.append("put")
    if short_call is not None and high >= short_call:
        sides.append("call")
    return sides


async def _check_touch(ctx: RunContext, gw: Gateway, trade: dict[str, Any]) -> None:
    """Alert once per side when the index has reached a short strike since the fill (no action: the stop acts).

    Uses the index's 1-minute bars since the entry, so a touch between two `check` runs is not missed. Without
    index data (a competing session, no subscription) the watch is blind for this run and says so; the exits,
    already verified, are what protect the position.
    """
    try:
        spx = await gw.spx_price()
        low = high = spx
        if trade.get("entry_filled_at"):
            span = await gw.index_range("SPX", datetime.fromisoformat(trade["entry_filled_at"]), ctx.now())
            if span is not None:
                low = span[0] if low is None else min(low, span[0])
                high = span[1] if high is None else max(high, span[1])
    except IcbotError as exc:
        ctx.journal("reconcile", "warn", f"short-strike touch not checked this time: {exc}")
        return
    if low is None or high is None:
        return
    alerted = {
        (e.get("data") or {}).get("side")
        for e in ctx.store.events(ctx.trade_date, ctx.mode)
        if e.get("phase") == "touch"
    }
    short_put, short_call = trade.get("short_put"), trade.get("short_call")
    for side in touched_sides(low, high, short_put, short_call):
        if side in alerted:
            continue
        strike = short_put if side == "put" else short_call
        extreme = low if side == "put" else high
        msg = (
            f"SPX reached {extreme:.2f}, touching the short {side} {strike:g} (now {spx if spx is not None else 'n/a'})"
        )
        ctx.journal("touch", "warn", msg, side=side, extreme=extreme, spx=spx)
        ctx.notifier.warning(f"icbot {ctx.trade_date}: short {side} touched", msg)


async def _check_positions(ctx: RunContext, gw: Gateway, live: list[dict[str, Any]]) -> int:
    """Compare the account's option positions with what icbot's trades mean to hold; critical on any difference.

    Positions are read after the trades were reconciled. IB's position update may trail the execution that
    caused it, so a difference is confirmed once with fresh executions and positions before it is alerted.
    """
    dates = sorted({ctx.trade_date, *(_trade_date(t) for t in live)})
    problems = position_problems(await gw.positions(), intended_positions(ctx, dates))
    if problems:
        await ctx.clock.asleep(POSITION_SETTLE)
        execs = await gw.executions()
        for day in dates:
            record_executions(ctx.for_date(day), day, execs)
        problems = position_problems(await gw.positions(), intended_positions(ctx, dates))
    if not problems:
        return EXIT_OK
    names = "; ".join(problems)
    ctx.journal("reconcile", "fail", f"CRITICAL: positions icbot cannot account for: {names}")
    ctx.notifier.failure(f"icbot {ctx.trade_date}: orphan positions", names)
    return EXIT_CRITICAL


Bar = tuple[datetime, float, float, float, float]


def closing_debits(legs: Sequence[tuple[str, Sequence[Bar]]]) -> dict[datetime, float]:
    """minute → debit to close the condor (Σ short mids − Σ long mids) from each leg's (action, 1-minute bars).

    Only minutes with a bar for every leg count: a minute missing a leg is not the condor's price (without a long
    wing it reads higher — a stop that never was; without a short, lower — a target never reached).
    """
    sums: dict[datetime, float] = {}
    seen: dict[datetime, int] = {}
    for action, bars in legs:
        sign = 1.0 if action == "SELL" else -1.0
        for t, _o, _h, _l, c in bars:
            sums[t] = sums.get(t, 0.0) + sign * c
            seen[t] = seen.get(t, 0) + 1
    return {t: v for t, v in sums.items() if seen[t] == len(legs)}


async def _resolve_experiment(ctx: RunContext, gw: Gateway, trade: dict[str, Any]) -> None:
    """Walk 1-minute mid bars of the four legs from the hypothetical fill; first exit rule hit wins."""
    trade_date = _trade_date(trade)
    day_ctx = ctx.for_date(trade_date)
    credit = float(trade["credit"])
    ex = ctx.config.exits
    prices = exit_prices(
        credit,
        profit_target_pct=ex.profit_target_pct,
        stop_multiple=ex.stop_multiple,
        tick=ctx.config.strategy.combo_tick,
    )
    tp_debit, stop_debit = -prices.take_profit, -prices.stop
    start = datetime.fromisoformat(trade["entry_filled_at"])
    time_exit_at = datetime.fromisoformat(trade["time_exit_at"])
    end = min(ctx.now(), time_exit_at + timedelta(minutes=1))
    series = closing_debits(
        [(leg.action, await gw.mid_bars(leg.con_id, start, end)) for leg in entry_legs(day_ctx, trade_date)]
    )
    for t in sorted(series):
        debit = series[t]
        reason = None
        if debit <= tp_debit:
            reason, debit = "take_profit", tp_debit
        elif debit >= stop_debit:
            reason = "stop"
        elif t >= time_exit_at:
            reason = "time_exit"
        if reason:
            pnl = trade_pnl(
                credit=credit,
                debit=debit,
                quantity=float(trade.get("quantity") or 1),
                multiplier=MULTIPLIER,
                commissions=0.0,
            )
            day_ctx.save_trade(
                status="closed",
                exit_reason=f"experiment_{reason}",
                exit_debit=debit,
                pnl=pnl,
                exited_at=t.isoformat(),
                minutes_in_trade=round((t - start).total_seconds() / 60, 1),
            )
            day_ctx.journal(
                "closed",
                "ok",
                f"experiment closed by {reason} at {t.astimezone(NEW_YORK):%H:%M} ET: "
                f"debit {debit:.2f}, P/L ${pnl:,.2f}",
                reason=reason,
                pnl=pnl,
            )
            ctx.notifier.info(f"icbot {trade_date}: experiment closed by {reason}", f"P/L ${pnl:,.2f}")
            return
    day_ctx.journal("reconcile", "ok", f"experiment open, {len(series)} minutes evaluated")


def _action_needed(day_ctx: RunContext, ctx: RunContext, phase: str, msg: str, *, title: str = "ACTION NEEDED") -> None:
    """A critical finding: journaled, kept on the trade as its last problem, and sent as an urgent alert."""
    day_ctx.journal(phase, "fail", f"CRITICAL: {msg}")
    day_ctx.save_trade(last_problem=msg)
    ctx.notifier.failure(f"icbot {day_ctx.trade_date}: {title}", msg)


def _entry_unknown_today(day_ctx: RunContext, ctx: RunContext, session: SessionTimes | None) -> int:
    """Today's pending trade whose entry the gateway reports neither open nor completed.

    Acknowledged once (the journal has its orderId): the broker and the journal disagree — critical, as run-today
    says too. Never acknowledged: the send did not reach the gateway; after the deadline nothing can come of it.
    """
    journaled = ctx.store.order(refs.order_ref(day_ctx.trade_date, ctx.mode, refs.ENTRY)) or {}
    if journaled.get("order_id") is not None:
        msg = (
            f"the journal has the entry acknowledged as order #{journaled['order_id']}, but the gateway reports no "
            "such order (open or completed): check TWS for a position or a working order"
        )
        _action_needed(day_ctx, ctx, "reconcile", msg, title="broker and journal disagree")
        return EXIT_CRITICAL
    if session is not None and ctx.now() < session.deadline_at:
        day_ctx.journal("reconcile", "info", "the entry intent has not reached the gateway yet; run-today owns it")
        return EXIT_OK
    why = "the entry's intent was journaled but never reached the gateway"
    day_ctx.journal("reconcile", "info", f"no trade: {why}")
    day_ctx.save_trade(status="no_trade", no_trade_reason=why)
    return EXIT_OK
