"""`icbot run-today`: one trading day, phase by phase, exactly by the rules — and safe to run again.

The broker is the source of truth and the journal records every step. Before anything could send an entry, the
gateway is asked for today's icbot orders (by orderRef); if one exists the run resumes it (continues the
ladder, confirms a cancel, repairs missing exits) instead of trading again. Exit codes follow SPEC §3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from icbot.broker.errors import OrderRejected, ReadOnlyApi
from icbot.broker.gateway import Gateway
from icbot.broker.types import ChainSnapshot, ComboLeg, ComboOrder, Execution, OrderState
from icbot.core.accounting import LegFill, current_executions, exit_credit, net_flow
from icbot.core.pricing import LegQuote, combo_prices, entry_ladder
from icbot.core.schedule import SessionTimes
from icbot.core.sizing import contracts_for
from icbot.core.strikes import Condor, select_condor
from icbot.errors import EXIT_CRITICAL, EXIT_NO_TRADE, EXIT_OK, GatewayUnavailable, IcbotError
from icbot.runner import refs
from icbot.runner.context import RunContext
from icbot.runner.entry import EntryOutcome, rung_for_price, work_entry
from icbot.runner.exits import ensure_exits
from icbot.runner.records import entry_legs, record_executions, record_intent, record_status

# How long before the entry instant a run may start (connect, load the chain, stream greeks). Earlier fires —
# the other DST candidate time of the launchd agent — exit 0 quietly.
EARLY_START = timedelta(minutes=15)
# Deltas must be streaming for at least this many strikes per side before selection.
MIN_GREEKS_PER_SIDE = 3


class DayResult(Exception):
    """Ends the day's run with an exit code; the reason has already been journaled and alerted."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def should_run(ctx: RunContext, session: SessionTimes | None) -> tuple[bool, str]:
    """Whether this invocation has anything to do, decided without connecting (quiet exits)."""
    if session is None:
        return False, f"{ctx.trade_date} is not a trading session"
    trade = ctx.trade()
    now = ctx.now()
    if trade is not None:
        if trade.get("status") in ("closed", "no_trade", "failed"):
            return False, f"today's trade is already {trade['status']}"
        if trade.get("status") == "open" and trade.get("exits_ok"):
            return False, "today's trade is open with its exits working; `icbot check` monitors it"
        return True, "resuming today's trade"
    if ctx.store.orders(ctx.trade_date, ctx.mode):
        return True, "resuming: an order intent exists for today"
    if now < session.entry_at - EARLY_START:
        return False, f"too early: entry is at {session.entry_at:%H:%M} ET"
    if now >= session.deadline_at:
        return False, f"too late: the entry deadline {session.deadline_at:%H:%M} ET has passed"
    return True, "entry window"


async def run_day(ctx: RunContext, session: SessionTimes) -> int:
    """Run (or resume) today's trade and return the exit code."""
    try:
        return await _run_day(ctx, session)
    except DayResult as result:
        return result.code


def _no_trade(ctx: RunContext, phase: str, reason: str, *, alert: bool = True) -> DayResult:
    ctx.journal(phase, "fail", f"no trade today: {reason}")
    ctx.save_trade(status="no_trade", no_trade_reason=reason, experiment=ctx.is_experiment)
    if alert:
        ctx.notifier.warning(f"icbot {ctx.trade_date}: no trade", reason)
    return DayResult(EXIT_NO_TRADE, reason)


def _critical(ctx: RunContext, phase: str, reason: str) -> DayResult:
    """Risk is open or unknown. The trade keeps its status: "open" only once a fill is known (with its quantity);
    an entry of unknown fate stays "pending", which `check` reconciles from the broker rather than from us."""
    ctx.journal(phase, "fail", f"CRITICAL: {reason}")
    ctx.save_trade(exits_ok=False, last_problem=reason)
    ctx.notifier.failure(f"icbot {ctx.trade_date}: ACTION NEEDED", reason)
    return DayResult(EXIT_CRITICAL, reason)


async def _connect(ctx: RunContext, session: SessionTimes, *, may_have_risk: bool) -> Gateway:
    ctx.journal("connect", "start", f"connecting to {ctx.config.gateway.host}:{ctx.config.gateway.port}")
    deadline = session.deadline_at if not may_have_risk else ctx.now() + timedelta(minutes=5)
    try:
        gw = await Gateway.connect(ctx.config.gateway, clock=ctx.clock, deadline=deadline, mode=ctx.mode)
    except IcbotError as exc:
        if may_have_risk:
            raise _critical(ctx, "connect", f"cannot reach the gateway to verify today's order: {exc}") from exc
        raise _no_trade(ctx, "connect", str(exc)) from exc
    ctx.journal("connect", "ok", f"connected, account {gw.account}", account=gw.account)
    return gw


async def _run_day(ctx: RunContext, session: SessionTimes) -> int:
    if ctx.trade() is None:  # the day's row exists from the first journaled step on
        ctx.save_trade(status="pending", experiment=ctx.is_experiment)
    # Only a transmitted order can carry risk: an experiment's journaled intent never reached a gateway.
    may_have_risk = any(o.get("transmitted") for o in ctx.store.orders(ctx.trade_date, ctx.mode))
    gw = await _connect(ctx, session, may_have_risk=may_have_risk)
    entries: list[OrderState] = []
    try:
        existing = [] if ctx.is_experiment else await gw.find_by_ref(refs.day_prefix(ctx.trade_date, ctx.mode))
        entries = [s for s in existing if refs.role_of(s.order_ref) == refs.ENTRY]
        if entries:
            return await _resume(ctx, gw, session, entries[-1], existing)
        if may_have_risk and not ctx.is_experiment:
            journaled = ctx.store.order(refs.order_ref(ctx.trade_date, ctx.mode, refs.ENTRY)) or {}
            if journaled.get("order_id") is not None:  # a gateway acknowledged it once: it was sent
                raise _critical(
                    ctx,
                    "order",
                    f"the journal has today's entry acknowledged as order #{journaled['order_id']}, but the gateway "
                    "reports no such order (open or completed); not sending another — check TWS",
                )
            ctx.journal("order", "info", "an entry intent was journaled but the gateway has no such order: not sent")
        return await _fresh_day(ctx, gw, session)
    except IcbotError as exc:
        raise _broker_failure(ctx, exc, sent=bool(entries) or _entry_sent(ctx)) from exc
    finally:
        await gw.close()


def _entry_sent(ctx: RunContext) -> bool:
    """Whether today's entry may have reached the gateway: its intent is journaled for transmission."""
    row = ctx.store.order(refs.order_ref(ctx.trade_date, ctx.mode, refs.ENTRY))
    return bool(row and row.get("transmitted") and row.get("status") != "Rejected")


def _broker_failure(ctx: RunContext, exc: IcbotError, *, sent: bool) -> DayResult:
    """A broker failure nothing closer handled: a safe no-trade before the entry was sent, critical after."""
    phase = ctx.phases_seen[-1] if ctx.phases_seen else "connect"
    if not sent:
        return _no_trade(ctx, phase, str(exc))
    return _critical(
        ctx,
        phase,
        f"{exc}; today's entry was sent and may be working or filled at the gateway — run `icbot run-today` "
        "again (it adopts the order by its orderRef) or check TWS",
    )


async def _fresh_day(ctx: RunContext, gw: Gateway, session: SessionTimes) -> int:
    halted, why = ctx.store.halted()
    if halted:
        raise _no_trade(
            ctx,
            "order",
            f"halted ({why or 'kill'}); a `resume` row in the journal's halts table clears it (docs/operations.md)",
        )
    if ctx.now() >= session.deadline_at:
        raise _no_trade(ctx, "wait_entry", f"the entry deadline {session.deadline_at:%H:%M:%S} ET has passed")
    try:
        listed = await _prepare(ctx, gw, session)
    except IcbotError as exc:  # e.g. a competing session (10197) or no market data (354) before any order
        raise _no_trade(ctx, ctx.phases_seen[-1] if ctx.phases_seen else "connect", str(exc)) from exc
    return await _select_and_enter(ctx, gw, session, listed)


async def _prepare(ctx: RunContext, gw: Gateway, session: SessionTimes) -> list[float]:
    """Everything before 09:32: no position to add to, the index, the listed strikes, greeks streaming."""
    if not ctx.is_experiment:
        held = [
            p for p in await gw.positions() if p.sec_type == "OPT" and p.quantity != 0 and p.expiry == ctx.trade_date
        ]
        if held:
            names = ", ".join(f"{p.local_symbol} {p.quantity:+g}" for p in held)
            raise _no_trade(ctx, "wait_entry", f"positions expiring today already exist ({names}); never adding")

    # underlying: the index, the listed strikes, a band of strikes streaming greeks before 09:32.
    ctx.journal(
        "wait_entry", "start", f"entry at {session.entry_at:%H:%M:%S} ET, deadline {session.deadline_at:%H:%M:%S} ET"
    )
    spx = await gw.spx_price()
    if spx is None:
        raise _no_trade(ctx, "underlying", "no SPX price from the gateway")
    vix = await gw.vix()
    listed = await gw.list_strikes(ctx.trade_date)
    if not listed:
        raise _no_trade(ctx, "underlying", f"no SPXW options listed for {ctx.trade_date}")
    band = gw.band_strikes(spx, listed, vol=(vix / 100.0) if vix else None)
    await gw.stream_chain(ctx.trade_date, band)
    ctx.journal(
        "underlying",
        "ok",
        f"SPX {spx:.2f}, VIX {vix if vix is not None else 'n/a'}, streaming {len(band)} strikes",
        spx=spx,
        vix=vix,
        band=[band[0], band[-1]] if band else [],
    )
    ctx.save_trade(spx_at_entry=spx, vix=vix)

    # filter
    max_vix = ctx.config.filters.max_vix
    if max_vix is not None:
        if vix is None:
            raise _no_trade(ctx, "filter", f"VIX filter is on (max {max_vix}) but no VIX quote arrived")
        if vix > max_vix:
            raise _no_trade(ctx, "filter", f"VIX {vix:.2f} > max_vix {max_vix}")
        ctx.journal("filter", "ok", f"VIX {vix:.2f} ≤ {max_vix}")
    else:
        ctx.journal("filter", "skip", "no VIX filter configured")

    # wait for greeks, then the entry instant.
    warmup = max(1.0, (session.entry_at - ctx.now()).total_seconds())
    try:
        await gw.wait_for_greeks(min_per_side=MIN_GREEKS_PER_SIDE, timeout=warmup)
    except (TimeoutError, IcbotError) as exc:
        ctx.journal("wait_entry", "warn", f"greeks not complete before the entry time: {exc}")
    await ctx.clock.sleep_until(session.entry_at)
    ctx.journal("wait_entry", "ok", "entry time reached")
    return listed


async def _select(
    ctx: RunContext, gw: Gateway, session: SessionTimes, listed: list[float]
) -> tuple[Condor, ChainSnapshot]:
    """Select at the entry instant; if greeks are missing, keep looking until shortly before the deadline."""
    give_up = session.deadline_at - timedelta(seconds=ctx.config.entry.reprice_seconds * 2)
    while True:
        snap = gw.snapshot()
        choice = select_condor(snap.abs_delta_points("P"), snap.abs_delta_points("C"), listed, ctx.config.strikes)
        if isinstance(choice, Condor):
            legs_known = all(
                _has_two_sided_quote(snap, right, strike)
                for right, strike in (
                    ("P", choice.long_put),
                    ("P", choice.short_put),
                    ("C", choice.short_call),
                    ("C", choice.long_call),
                )
            )
            if legs_known:
                return choice, snap
            reason = "wing quotes not streaming yet"
        else:
            reason = choice.reason
        if ctx.now() >= give_up:
            raise _no_trade(ctx, "select", reason)
        await ctx.clock.asleep(1.0)


def _has_two_sided_quote(snap: ChainSnapshot, right: str, strike: float) -> bool:
    q = snap.quote(right, strike)
    return q is not None and q.bid is not None and q.ask is not None


def _combo_legs(condor: Condor, snap: ChainSnapshot) -> tuple[ComboLeg, ...]:
    def leg(right: str, strike: float, action: str) -> ComboLeg:
        q = snap.quote(right, strike)
        assert q is not None  # guaranteed by _select
        return ComboLeg(q.con_id, action, right, strike, q.local_symbol)

    return (
        leg("P", condor.long_put, "BUY"),
        leg("P", condor.short_put, "SELL"),
        leg("C", condor.short_call, "SELL"),
        leg("C", condor.long_call, "BUY"),
    )


def _leg_quote(snap: ChainSnapshot, right: str, strike: float) -> LegQuote:
    q = snap.quote(right, strike)
    assert q is not None and q.bid is not None and q.ask is not None
    return LegQuote(bid=q.bid, ask=q.ask)


async def _size(ctx: RunContext, gw: Gateway, probe: ComboOrder) -> int:
    cfg = ctx.config.size
    if cfg.mode == "fixed":
        result = contracts_for(cfg, net_liquidation=None, available_funds=None, margin_per_contract=None)
    else:
        values = await gw.account_values()
        margin = await gw.what_if_margin(probe)
        result = contracts_for(
            cfg,
            net_liquidation=values.net_liquidation,
            available_funds=values.available_funds,
            margin_per_contract=margin,
        )
    if result.contracts <= 0:
        raise _no_trade(ctx, "order", f"size is 0 contracts: {result.reason}")
    return result.contracts


async def _select_and_enter(ctx: RunContext, gw: Gateway, session: SessionTimes, listed: list[float]) -> int:
    condor, snap = await _select(ctx, gw, session, listed)
    put_deltas, call_deltas = snap.abs_delta_points("P"), snap.abs_delta_points("C")
    put_delta = put_deltas.get(condor.short_put)
    call_delta = call_deltas.get(condor.short_call)
    quotes = [
        _leg_quote(snap, "P", condor.long_put),
        _leg_quote(snap, "P", condor.short_put),
        _leg_quote(snap, "C", condor.short_call),
        _leg_quote(snap, "C", condor.long_call),
    ]
    combo = combo_prices(*quotes)
    ctx.journal(
        "select",
        "ok",
        f"{condor.long_put:g}/{condor.short_put:g}P {condor.short_call:g}/{condor.long_call:g}C, "
        f"short deltas {put_delta:.1f}/{call_delta:.1f}, mid {combo.mid:.2f}, natural {combo.natural:.2f}",
        condor=[condor.long_put, condor.short_put, condor.short_call, condor.long_call],
        put_delta=put_delta,
        call_delta=call_delta,
        mid=combo.mid,
        natural=combo.natural,
        spx=snap.spx,
        put_deltas={f"{k:g}": round(v, 3) for k, v in sorted(put_deltas.items())},
        call_deltas={f"{k:g}": round(v, 3) for k, v in sorted(call_deltas.items())},
    )
    ctx.save_trade(
        long_put=condor.long_put,
        short_put=condor.short_put,
        short_call=condor.short_call,
        long_call=condor.long_call,
        put_delta=put_delta,
        call_delta=call_delta,
        mid_at_decision=combo.mid,
        natural_at_decision=combo.natural,
        spx_at_entry=snap.spx,
    )
    entry = ctx.config.entry
    ladder = entry_ladder(
        combo.mid, combo.natural, step=entry.step, tick=ctx.config.strategy.combo_tick, min_credit=entry.min_credit
    )
    if not ladder:
        raise _no_trade(ctx, "order", f"mid credit {-combo.mid:.2f} is below min_credit {entry.min_credit:.2f}")
    legs = _combo_legs(condor, snap)
    ref = refs.order_ref(ctx.trade_date, ctx.mode, refs.ENTRY)
    probe = ComboOrder(legs, "BUY", 1, "LMT", ref, limit_price=ladder[0])
    quantity = await _size(ctx, gw, probe)
    order = ComboOrder(legs, "BUY", quantity, "LMT", ref, limit_price=ladder[0])
    # Selection, sizing and a slow start can all run late: the deadline is checked right before the order.
    if ctx.now() >= session.deadline_at:
        raise _no_trade(
            ctx, "order", f"the entry deadline {session.deadline_at:%H:%M:%S} ET passed before the order was sent"
        )
    if ctx.is_experiment:
        return _experiment_fill(ctx, session, order, combo.mid, ladder)
    halted, why = ctx.store.halted()
    if halted:
        raise _no_trade(ctx, "order", f"halted ({why or 'kill'}) just before sending")
    record_intent(ctx, order, refs.ENTRY, transmitted=not ctx.is_experiment)
    ctx.journal(
        "order",
        "start",
        f"BUY {quantity} condor LMT {ladder[0]:.2f} ({len(ladder)} rungs to {ladder[-1]:.2f})",
        ladder=ladder,
        quantity=quantity,
        order_ref=ref,
    )
    started = ctx.now()
    try:
        state = await gw.place(order)
    except GatewayUnavailable as exc:  # includes OrderUnconfirmed: sent, never acknowledged, may be live
        raise _critical(ctx, "order", f"connection lost while sending the entry; its fate is unknown: {exc}") from exc
    except (OrderRejected, ReadOnlyApi) as exc:
        # An error before the acknowledgement usually is a refusal — but IB also sends notices (e.g. 10349) for
        # orders it accepts. The refusal is believed only once the gateway shows no such order live.
        live = await _live_entry(gw, ref)
        if live is None:
            ctx.store.record_order_status(
                ref,
                status="Rejected",
                filled=0,
                remaining=quantity,
                avg_fill_price=None,
                at=ctx.now(),
                message=str(exc),
            )
            raise _no_trade(ctx, "order", f"entry refused by the gateway: {exc}") from exc
        ctx.journal(
            "order", "warn", f"the gateway answered {exc}, yet the entry is live (#{live.order_id} {live.status})"
        )
        state = live
    ctx.store.record_placed(ref, order_id=state.order_id, perm_id=state.perm_id, at=ctx.now())
    ctx.save_trade(entry_order_ref=ref)  # after the send: nothing between 09:32:00 and the order but the intent
    record_status(ctx, state)
    outcome = await work_entry(ctx, gw, state, ladder=ladder, rung=0, started_at=started, deadline=session.deadline_at)
    return await _after_entry(ctx, gw, session, outcome, legs)


async def _live_entry(gw: Gateway, ref: str) -> OrderState | None:
    """Today's entry as the gateway knows it, if it is working or has filled; None if it does not live."""
    live = [s for s in await gw.find_by_ref(ref) if s.order_ref == ref and (not s.is_done or s.filled > 0)]
    return live[-1] if live else None


def _experiment_fill(ctx: RunContext, session: SessionTimes, order: ComboOrder, mid: float, ladder: list[float]) -> int:
    """Experiment mode: the same path up to the order; nothing is transmitted; a hypothetical fill at the mid."""
    record_intent(ctx, order, refs.ENTRY, transmitted=not ctx.is_experiment)
    credit = round(-mid, 6)
    ctx.journal("order", "skip", f"experiment: not transmitted (would BUY {order.quantity} at {ladder[0]:.2f})")
    ctx.journal("fill", "ok", f"experiment: hypothetical fill at the mid, credit {credit:.2f}", credit=credit)
    ctx.save_trade(
        status="open",
        experiment=True,
        entry_order_ref=order.order_ref,
        credit=credit,
        quantity=order.quantity,
        limit_price=ladder[0],
        ladder_attempts=0,
        seconds_to_fill=0.0,
        entry_commission=0.0,
        entry_filled_at=ctx.now().isoformat(),
        exits_ok=True,
        time_exit_at=session.time_exit_at.isoformat(),
    )
    ctx.journal("exits", "skip", "experiment: exits are evaluated later from market data by `icbot check`")
    ctx.journal("done", "ok", "experiment trade recorded")
    ctx.notifier.info(f"icbot {ctx.trade_date}: experiment entry", f"hypothetical credit {credit:.2f}")
    return EXIT_OK


async def _entry_fills(
    ctx: RunContext, gw: Gateway, state: OrderState, wait_commissions: float = 5.0
) -> dict[str, Any]:
    """Record the entry's leg executions and compute the credit the exits are priced from (see entry_credit)."""
    deadline = ctx.now() + timedelta(seconds=wait_commissions)
    while True:
        execs = [
            e
            for e in await gw.executions(ctx.trade_date)
            if e.order_id == state.order_id or e.order_ref == state.order_ref
        ]
        # An execution matched by orderId is this order's, whatever ref the report carries.
        legs = [replace(e, order_ref=state.order_ref) for e in execs if e.sec_type != "BAG"]
        standing = current_executions(legs, lambda e: e.exec_id)  # a corrected execution counts once
        complete = (
            standing
            and all(e.commission is not None for e in standing)
            and sum(e.shares for e in standing) >= 4 * state.filled
        )
        if complete or ctx.now() >= deadline:
            break
        await ctx.clock.asleep(0.5)
    record_executions(ctx, ctx.trade_date, legs)  # every revision is journaled
    flow = net_flow([LegFill(e.side, e.shares, e.price, e.commission) for e in standing])
    credit, source = entry_credit(standing, filled=state.filled, bag_avg=state.avg_fill_price)
    return {
        "credit": credit,
        "source": source,
        "commissions": flow.commissions,
        "complete": flow.commissions_complete,
        "legs": len(standing),
    }


def entry_credit(standing: Sequence[Execution], *, filled: float, bag_avg: float | None) -> tuple[float | None, str]:
    """The credit per condor from the entry's executions, and its source (`icbot.core.accounting.exit_credit`).

    A partial set of leg executions (one report still in flight) would misstate the credit — the sold legs alone
    claim far too much, so a take profit priced from it would pay more than 75 % of the real credit.
    """
    return exit_credit(
        ((e.con_id, LegFill(e.side, e.shares, e.price, e.commission)) for e in standing), filled=filled, bag_avg=bag_avg
    )


async def _after_entry(
    ctx: RunContext,
    gw: Gateway,
    session: SessionTimes,
    outcome: EntryOutcome,
    legs: tuple[ComboLeg, ...],
    *,
    existing: list[OrderState] | None = None,
) -> int:
    """What follows the ladder: no trade, or the fill recorded and its exits placed.

    `existing` are today's other icbot orders a resumed run found at the gateway; they are read again before
    the exits are placed, so exits of an earlier run are completed, never duplicated.
    """
    state = outcome.state
    ctx.save_trade(ladder_attempts=outcome.attempts, limit_price=state.limit_price)
    ctx.journal(
        "order",
        "ok" if state.filled > 0 else "fail",
        f"entry {state.status} after {outcome.attempts} rung(s) sent, filled {state.filled:g}/{state.quantity:g}",
        order_status=state.status,
        filled=state.filled,
    )
    # We asked to cancel, but the gateway never confirmed an end: the rest of the order may still fill.
    unconfirmed = outcome.cancelled_at_deadline and not state.is_done
    if state.filled <= 0:
        if unconfirmed:
            raise _critical(
                ctx,
                "fill",
                f"the entry's cancel was not confirmed by the gateway (last status {state.status}); it may still "
                "fill — run `icbot run-today` again (it adopts the order) or check TWS",
            )
        if outcome.halted is not None:
            raise _no_trade(ctx, "order", f"halted ({outcome.halted}) while the entry worked; cancelled unfilled")
        if state.status in ("Inactive",) or (state.last_error and not outcome.cancelled_at_deadline):
            raise _no_trade(ctx, "fill", f"entry ended {state.status}: {state.last_error or 'no reason given'}")
        raise _no_trade(
            ctx,
            "fill",
            f"not filled by {session.deadline_at:%H:%M:%S} ET (ladder of {outcome.attempts} rungs); cancelled",
        )
    quantity = int(state.filled)
    if outcome.cancelled_at_deadline:
        ctx.journal("fill", "warn", f"the fill raced the cancel: {quantity} filled", filled=quantity)
    # Risk is open from this instant: record it before anything else can fail.
    ctx.save_trade(
        status="open",
        quantity=quantity,
        entry_filled_at=ctx.now().isoformat(),
        seconds_to_fill=outcome.seconds_to_fill,
        exits_ok=False,
        time_exit_at=session.time_exit_at.isoformat(),
    )
    fills = await _entry_fills(ctx, gw, state)
    credit = _usable_credit(ctx, quantity, fills)
    ctx.journal(
        "fill",
        "ok",
        f"filled {quantity} at a credit of {credit:.2f} ({fills['source']}), commissions ${fills['commissions']:.2f}",
        credit=credit,
        quantity=quantity,
        seconds_to_fill=outcome.seconds_to_fill,
    )
    unresolved = None
    if unconfirmed:
        unresolved = (
            f"exits cover the {quantity} filled, but the entry's cancel was not confirmed (last status "
            f"{state.status}, {state.remaining:g} remaining may still fill) — check TWS"
        )
    others: list[OrderState] = []
    if existing:
        fresh = await gw.find_by_ref(refs.day_prefix(ctx.trade_date, ctx.mode))
        others = [s for s in fresh if s.order_ref != state.order_ref]
    return await _exits_phase(ctx, gw, session, legs, quantity, credit, existing=others, unresolved=unresolved)


def _usable_credit(ctx: RunContext, quantity: int, fills: dict[str, Any]) -> float:
    """The credit to price the exits from; critical when none is known (no exit can be priced).

    Only the legs' credit is journaled as the trade's credit (SPEC §1); a stand-in from the combo's fill price
    prices the exits but leaves the trade's credit to be recovered from the legs later (`check`, a rerun).
    """
    credit = fills["credit"]
    ctx.save_trade(entry_commission=fills["commissions"])
    if fills["source"] == "legs":
        ctx.save_trade(credit=credit)
    if credit is None:
        raise _critical(
            ctx,
            "fill",
            f"filled {quantity} condor(s) but neither the legs' executions ({fills['legs']} reported) nor the "
            "combo's fill price give the credit: exits not placed — place them in TWS",
        )
    if fills["source"] != "legs":
        ctx.journal(
            "fill",
            "warn",
            f"the legs' executions are incomplete ({fills['legs']} reported): the exits are priced from the "
            f"combo's fill price, credit {credit:.2f}",
            bag_credit=credit,
        )
    return float(credit)


async def _exits_phase(
    ctx: RunContext,
    gw: Gateway,
    session: SessionTimes,
    legs: tuple[ComboLeg, ...],
    quantity: int,
    credit: float,
    existing: list[OrderState],
    unresolved: str | None = None,
) -> int:
    """Place or repair the exits; `unresolved` names a problem that stays critical even once they work."""
    ctx.journal("exits", "start", f"OCA exits for {quantity}")
    try:
        ok, what = await ensure_exits(
            ctx, gw, legs=legs, quantity=quantity, credit=credit, time_exit_at=session.time_exit_at, existing=existing
        )
    except IcbotError as exc:
        raise _critical(ctx, "exits", f"filled {quantity} condor(s) but placing the exits failed: {exc}") from exc
    if not ok:
        raise _critical(ctx, "exits", f"filled {quantity} condor(s) but the exits are not complete: {what}")
    ctx.journal("exits", "ok", what)
    if unresolved:
        raise _critical(ctx, "fill", unresolved)
    ctx.save_trade(exits_ok=True)
    ctx.journal("done", "ok", "trade open, exits working at the broker")
    ctx.notifier.info(
        f"icbot {ctx.trade_date}: iron condor filled",
        f"{_strikes(legs)} x{quantity}, credit {credit:.2f}; {what}",
    )
    return EXIT_OK


def _strikes(legs: tuple[ComboLeg, ...]) -> str:
    """`5905/5925P 6060/6080C` from the order's own legs (the journal's strike columns may be empty on a rerun)."""
    puts = "/".join(f"{k:g}" for k in sorted(leg.strike for leg in legs if leg.right == "P"))
    calls = "/".join(f"{k:g}" for k in sorted(leg.strike for leg in legs if leg.right == "C"))
    return f"{puts}P {calls}C" if puts and calls else "condor (legs unknown)"


async def _resume(
    ctx: RunContext, gw: Gateway, session: SessionTimes, entry: OrderState, existing: list[OrderState]
) -> int:
    """A second run on the same day: continue from what the gateway says about today's entry."""
    ctx.journal(
        "order",
        "info",
        f"found today's entry at the gateway: #{entry.order_id} {entry.status}, filled {entry.filled:g}",
    )
    record_status(ctx, entry)
    legs = entry_legs(ctx, ctx.trade_date, entry)
    if not entry.is_done and entry.filled < entry.quantity:  # working, or a cancel not yet confirmed
        trade = ctx.trade() or {}
        mid, natural = trade.get("mid_at_decision"), trade.get("natural_at_decision")
        ladder: list[float] = []
        if mid is not None and natural is not None:
            ladder = entry_ladder(
                mid,
                natural,
                step=ctx.config.entry.step,
                tick=ctx.config.strategy.combo_tick,
                min_credit=ctx.config.entry.min_credit,
            )
        ladder = ladder or [entry.limit_price or 0.0]
        rung = rung_for_price(ladder, entry.limit_price)
        outcome = await work_entry(
            ctx, gw, entry, ladder=ladder, rung=rung, started_at=ctx.now(), deadline=session.deadline_at
        )
        # The exits already at the gateway (an earlier run's, for an earlier part of the fill) go along: a
        # repair adds to them, it never places a second, independent set.
        return await _after_entry(ctx, gw, session, outcome, legs, existing=[s for s in existing if s != entry])
    if entry.filled <= 0:
        trade = ctx.trade() or {}
        if trade.get("status") == "no_trade":
            ctx.journal("done", "info", "today's entry did not fill; nothing to do")
            return EXIT_OK
        raise _no_trade(ctx, "fill", f"today's entry ended {entry.status} without a fill")
    quantity = int(entry.filled)
    trade = ctx.trade() or {}
    credit = trade.get("credit")
    if credit is None or float(credit) <= 0:
        ctx.save_trade(status="open", quantity=quantity, time_exit_at=session.time_exit_at.isoformat())
        fills = await _entry_fills(ctx, gw, entry)
        credit = _usable_credit(ctx, quantity, fills)
        ctx.journal("fill", "ok", f"recovered the fill: {quantity} at a credit of {credit:.2f}", credit=credit)
    for s in existing:
        if s.order_ref != entry.order_ref:
            record_status(ctx, s)
    # Only repair exits while the position is still there (somebody may have closed it by hand).
    held = {p.con_id: p.quantity for p in await gw.positions() if p.sec_type == "OPT"}
    if legs and not any(held.get(leg.con_id) for leg in legs):
        exits_filled = [s for s in existing if refs.role_of(s.order_ref) in refs.EXIT_ROLES and s.filled > 0]
        if exits_filled:
            ctx.journal("done", "info", "the position is already closed by an exit; `icbot check` records it")
            return EXIT_OK
        raise _critical(ctx, "exits", "today's entry filled but the position is gone and no icbot exit filled")
    return await _exits_phase(ctx, gw, session, legs, quantity, float(credit), existing=existing)
