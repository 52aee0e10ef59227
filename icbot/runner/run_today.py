"""`icbot run-today`: one trading day, phase by phase, exactly by the rules — and safe to run again.

The broker is the source of truth and the journal records every step. Before anything could send an entry, the
day's facts are gathered (today's icbot orders at the gateway, by orderRef) and `icbot.core.reconcile.assess`
decides, exactly as for `check`: a fresh day, or a rerun that continues the ladder, confirms a cancel or repairs
missing exits. A fresh day is one list of phases (`FreshDay.PHASES`). A phase that ends the day raises
`icbot.errors.NoTrade` or `icbot.errors.Critical`; `run_day` alone turns that into journal, trade row, alert and
exit code (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from icbot.broker.band import Band
from icbot.broker.errors import OrderRejected, ReadOnlyApi
from icbot.broker.gateway import Gateway
from icbot.core import actions as act
from icbot.core import refs
from icbot.core.accounting import LegFill, exit_credit, net_flow
from icbot.core.facts import ComboLeg, ComboOrder, Execution, OrderState, Position
from icbot.core.filters import vix_filter
from icbot.core.journal import AlertLevel, EventStatus, OrderStatus, Phase, Role, TradeStatus
from icbot.core.pricing import LegQuote, combo_prices, entry_ladder
from icbot.core.reconcile import Actor, LadderRules, assess, entry_that_continues, rival_entries
from icbot.core.schedule import SessionTimes
from icbot.core.sizing import contracts_for
from icbot.core.strikes import Condor, select_condor
from icbot.errors import EXIT_OK, Critical, DayEnded, GatewayUnavailable, IcbotError, NoTrade
from icbot.runner.apply import apply
from icbot.runner.close import close_at_market
from icbot.runner.confirm import confirm_exits
from icbot.runner.context import RunContext
from icbot.runner.entry import EntryOutcome, work_entry
from icbot.runner.gather import await_entry_executions, day_facts, gather_day
from icbot.runner.records import record_intent, record_refusal, record_status
from icbot.runner.signals import Stop

# How long before the entry instant a run may start (connect, load the chain, stream greeks). Earlier fires —
# the other DST candidate time of the launchd agent — exit 0 quietly.
EARLY_START = timedelta(minutes=15)
# Deltas must be streaming for at least this many strikes per side before selection.
MIN_GREEKS_PER_SIDE = 3
# Until shortly before the entry instant the band follows the market (icbot.broker.band): it is fitted again
# this often (virtual s) from the deltas streaming, the last time BAND_LAST_REFIT before the instant, so that a
# line it opens has reported by then and nothing is on its way to the gateway at the instant itself.
BAND_REFIT = 0.25
BAND_LAST_REFIT = timedelta(seconds=0.3)
# The check that no other installation's entry works is made this long before the entry instant (one round trip
# to the gateway), and it stands for a send at most RIVAL_CHECK_STANDS after the instant (`no_rival_working`).
RIVAL_LEAD = timedelta(seconds=0.1)
# The last stretch before the entry instant is waited for awake (`wait_entry`): the event loop's timers are
# rounded to the millisecond. Longer would cost more than it saves on a busy machine, whose scheduler favours a
# process that wakes over one that has been running.
ENTRY_SPIN = timedelta(milliseconds=2)
# How long past the entry instant the selection waits for the band to bracket the rule's deltas (see `select`).
COVER_WAIT = timedelta(seconds=2)
RIVAL_CHECK_STANDS = timedelta(milliseconds=50)
# How long the fill waits for the legs' executions and commissions before pricing exits from what is known.
ENTRY_EXECUTIONS_WAIT = 5.0
# Real seconds a stopped run may spend cancelling its working entry before it gives up and says so.
STOP_CLEANUP = 10.0


def should_run(ctx: RunContext, session: SessionTimes | None) -> tuple[bool, str]:
    """Whether this invocation has anything to do, decided without connecting (quiet exits)."""
    if session is None:
        return False, f"{ctx.trade_date} is not a trading session"
    trade = ctx.trade()
    now = ctx.now()
    if trade is not None:
        if trade.status.is_final:
            return False, f"today's trade is already {trade.status}"
        if trade.status is TradeStatus.OPEN and trade.exits_ok:
            return False, "today's trade is open with its exits working; `icbot check` monitors it"
        return True, "resuming today's trade"
    if ctx.store.orders(ctx.trade_date, ctx.mode):
        return True, "resuming: an order intent exists for today"
    if now < session.entry_at - EARLY_START:
        return False, f"too early: entry is at {session.entry_at:%H:%M} ET"
    if now >= session.deadline_at:
        return False, f"too late: the entry deadline {session.deadline_at:%H:%M} ET has passed"
    return True, "entry window"


async def run_day(ctx: RunContext, session: SessionTimes, stop: Stop | None = None) -> int:
    """Run (or resume) today's trade and return the exit code; the one place a day's ending is recorded."""
    try:
        return await _run_day(ctx, session, stop or Stop())
    except NoTrade as ended:
        return await apply(ctx, None, [act.NoTrade(Phase(ended.phase), str(ended))])
    except Critical as ended:
        return await apply(ctx, None, [act.Critical(Phase(ended.phase), str(ended))])
    finally:
        await ctx.flush_alerts()


async def _run_day(ctx: RunContext, session: SessionTimes, stop: Stop) -> int:
    trade = ctx.trade() or ctx.save_trade(status="pending", experiment=ctx.is_experiment)
    # Only a transmitted order can carry risk: an experiment's journaled intent never reached a gateway.
    may_have_risk = any(o.transmitted for o in ctx.store.orders(ctx.trade_date, ctx.mode))
    try:
        gw = await _connect(ctx, session, may_have_risk=may_have_risk)
    except asyncio.CancelledError:
        stop.take()
        raise _stopped_unconnected(ctx, stop) from None
    day = FreshDay(ctx, gw, session)
    try:
        if ctx.is_experiment:
            return await day.run()
        facts = await gather_day(ctx, gw, trade)
        day.positions = facts.positions  # read once: the fresh day's "nothing held" uses the same answer
        entry = facts.broker_entry
        if entry is not None and entry.filled > 0 and (facts.trade.credit or 0) <= 0:
            await await_entry_executions(ctx, gw, entry, ENTRY_EXECUTIONS_WAIT)
            facts = day_facts(ctx, facts.trade, facts.broker_orders, facts.positions)
        entry_rules = ctx.config.entry
        rules = LadderRules(entry_rules.step, ctx.config.strategy.combo_tick, entry_rules.min_credit)
        decided = assess(facts, session=session, now=ctx.now(), actor=Actor.RUN_TODAY, ladder=rules)
        code = await apply(ctx, gw, decided)
        for action in decided:
            if isinstance(action, act.FreshDay):
                code = await day.run()
                break
            if isinstance(action, act.ContinueEntry):
                code = await day.continue_entry(action)
                break
        if code == EXIT_OK:  # the exits are working: stay a while, IB may still reject one (runner/confirm.py)
            day.phase = Phase.EXITS
            code = await confirm_exits(ctx, gw, session)
        return code
    except DayEnded:
        raise
    except IcbotError as exc:
        raise _broker_failure(ctx, exc, phase=day.phase) from exc
    except asyncio.CancelledError:
        return await _stopped(ctx, gw, stop, day.phase)
    finally:
        await gw.close()


def _stopped_unconnected(ctx: RunContext, stop: Stop) -> DayEnded:
    why = f"stopped from outside ({stop.signal or 'cancelled'}) at {ctx.clock.now_ny():%H:%M:%S} ET"
    if _entry_sent(ctx):
        return Critical(
            f"{why} before today's entry could be verified — run `icbot run-today` again", phase=Phase.CONNECT
        )
    return NoTrade(f"{why}, before the entry was sent", phase=Phase.CONNECT)


async def _stopped(ctx: RunContext, gw: Gateway, stop: Stop, phase: Phase) -> int:
    """SIGTERM/SIGINT mid-run: never leave a working entry without an owner; say exactly what is left.

    A working entry that has not filled is cancelled (nobody would manage it after this process); one that
    filled keeps its exits if they are working, else the day is critical: a rerun places the missing exits.
    """
    stop.take()  # the cancellation was the signal's; the cleanup below must be able to wait
    why = f"stopped from outside ({stop.signal or 'cancelled'}) at {ctx.clock.now_ny():%H:%M:%S} ET"
    ctx.journal(phase, EventStatus.WARN, why)
    if not _entry_sent(ctx):
        return await apply(ctx, None, [act.NoTrade(phase, f"{why}, before the entry was sent")])
    ref = ctx.ref(Role.ENTRY)
    try:
        found = [x for x in await asyncio.wait_for(gw.find_by_ref(ref), STOP_CLEANUP) if x.order_ref == ref]
        entry = found[-1] if found else None
        if entry is not None and entry.is_working:
            entry = await asyncio.wait_for(gw.cancel(entry.order_id), STOP_CLEANUP)
            record_status(ctx, entry)
    except (IcbotError, TimeoutError) as exc:
        msg = (
            f"{why}; today's entry could not be confirmed cancelled ({exc}) — check TWS, or run `icbot run-today` again"
        )
        return await apply(ctx, None, [act.Critical(phase, msg)])
    if entry is None:  # sent as far as the journal knows, yet the gateway lists it neither open nor completed
        msg = (
            f"{why}; the gateway lists no order with today's entry orderRef ({ref}) although it was being sent — "
            "it may still arrive: check TWS, or run `icbot run-today` again (it adopts the order by its orderRef)"
        )
        return await apply(ctx, None, [act.Critical(phase, msg)])
    trade = ctx.trade()
    if entry.filled <= 0:
        if not entry.is_done:
            msg = f"{why}; the entry's cancel was not confirmed (last status {entry.status}) — check TWS"
            return await apply(ctx, None, [act.Critical(phase, msg)])
        return await apply(ctx, None, [act.NoTrade(Phase.ORDER, f"{why}; the working entry was cancelled unfilled")])
    if trade is not None and trade.exits_ok:
        ctx.journal(Phase.DONE, EventStatus.INFO, f"{why}; the trade is open with its exits working")
        return EXIT_OK
    msg = (
        f"{why} after the entry filled {entry.filled:g}: its exits are not complete — run `icbot run-today` again "
        "(it places the missing exits) or place them in TWS"
    )
    if trade is not None and not trade.is_open:
        ctx.save_trade(status="open", quantity=int(entry.filled))
    return await apply(ctx, None, [act.Critical(Phase.EXITS, msg)])


async def _connect(ctx: RunContext, session: SessionTimes, *, may_have_risk: bool) -> Gateway:
    ctx.journal(Phase.CONNECT, EventStatus.START, f"connecting to {ctx.config.gateway.host}:{ctx.config.gateway.port}")
    deadline = session.deadline_at if not may_have_risk else ctx.now() + timedelta(minutes=5)
    try:
        gw = await Gateway.connect(
            ctx.config.gateway, clock=ctx.clock, deadline=deadline, mode=ctx.mode, strategy=ctx.config.strategy
        )
    except IcbotError as exc:
        if may_have_risk:
            raise Critical(f"cannot reach the gateway to verify today's order: {exc}", phase=Phase.CONNECT) from exc
        raise NoTrade(str(exc), phase=Phase.CONNECT) from exc
    # The account's net liquidation, journaled every day: `icbot report`'s capital base when
    # report.starting_capital is not configured (docs/report.md). A figure IB has not sent is left out.
    try:
        net_liquidation = (await gw.account_values()).net_liquidation
    except IcbotError:
        net_liquidation = None
    ctx.journal(
        Phase.CONNECT,
        EventStatus.OK,
        f"connected, account {gw.account}",
        account=gw.account,
        net_liquidation=net_liquidation,
    )
    return gw


def _entry_sent(ctx: RunContext) -> bool:
    """Whether today's entry may have reached the gateway: its intent is journaled for transmission."""
    row = ctx.store.entry_order(ctx.trade_date, ctx.mode)
    return bool(row and row.transmitted and row.status is not OrderStatus.REJECTED)


def _broker_failure(ctx: RunContext, exc: IcbotError, *, phase: Phase) -> DayEnded:
    """A broker failure nothing closer handled: a safe no-trade before the entry was sent, critical after."""
    if not _entry_sent(ctx):
        return NoTrade(str(exc), phase=phase)
    return Critical(
        f"{exc}; today's entry was sent and may be working or filled at the gateway — run `icbot run-today` "
        "again (it adopts the order by its orderRef) or check TWS",
        phase=phase,
    )


class FreshDay:
    """A fresh morning as one list of phases; each reads what the previous ones left on `self`."""

    def __init__(self, ctx: RunContext, gw: Gateway, session: SessionTimes) -> None:
        self.ctx, self.gw, self.session = ctx, gw, session
        self.phase = Phase.CONNECT
        self.listed: list[float] = []
        self.spx: float | None = None
        self.vix: float | None = None
        self.condor: Condor | None = None
        self.legs: tuple[ComboLeg, ...] = ()
        self.ladder: list[float] = []
        self.mid = 0.0
        self.order: ComboOrder | None = None
        self.positions: Sequence[Position] | None = None  # the account's positions, when already read this run
        self.band: Band | None = None  # the options streaming for the entry, as last fitted
        self.refits = 0  # times the band moved with the market before the selection
        self.rival_checked_at: datetime | None = None  # when `no_rival_working` last found no rival
        self.decision: list[Callable[[], None]] = []  # the entry instant's journal entries, written after the send

    @property
    def phases(self) -> list[tuple[Phase, Callable[[], Awaitable[None]]]]:
        """The day, in order (the names are the journal's phases, docs/operations.md)."""
        return [
            (Phase.ORDER, self.not_halted),
            (Phase.WAIT_ENTRY, self.before_deadline),
            (Phase.WAIT_ENTRY, self.nothing_held),
            (Phase.UNDERLYING, self.underlying),
            (Phase.FILTER, self.filter),
            (Phase.WAIT_ENTRY, self.wait_entry),
            (Phase.SELECT, self.select),
            (Phase.ORDER, self.size),
        ]

    async def run(self) -> int:
        try:
            for phase, step in self.phases:
                self.phase = phase
                await step()
            self.phase = Phase.ORDER
            return await self.send_entry()
        finally:
            gc.enable()  # `wait_entry` pauses the collector until the send; every other way out ends it too
            self.write_decision()  # a day that ended between the instant and the send still shows what it chose

    # -- the phases -------------------------------------------------------------------------------------------
    async def not_halted(self) -> None:
        halt = self.ctx.store.halt_state()
        if halt is not None:
            raise NoTrade(
                f"halted ({halt.reason or 'kill'}); `icbot resume` clears it (docs/operations.md)", phase=Phase.ORDER
            )

    async def before_deadline(self) -> None:
        if self.ctx.now() >= self.session.deadline_at:
            raise NoTrade(f"the entry deadline {self.session.deadline_at:%H:%M:%S} ET has passed", phase=self.phase)

    async def nothing_held(self) -> None:
        """Never add to a position: options expiring today already held mean no entry (experiments send none)."""
        if self.ctx.is_experiment:
            return
        positions = self.positions if self.positions is not None else await self.gw.positions()
        held = [p for p in positions if p.sec_type == "OPT" and p.quantity != 0 and p.expiry == self.ctx.trade_date]
        if held:
            names = ", ".join(f"{p.local_symbol} {p.quantity:+g}" for p in held)
            raise NoTrade(f"positions expiring today already exist ({names}); never adding", phase=self.phase)

    async def underlying(self) -> None:
        """The index, the listed strikes, and a band of strikes streaming greeks before the entry instant."""
        ctx, gw, session = self.ctx, self.gw, self.session
        ctx.journal(
            Phase.WAIT_ENTRY,
            EventStatus.START,
            f"entry at {session.entry_at:%H:%M:%S} ET, deadline {session.deadline_at:%H:%M:%S} ET",
        )
        product = gw.product
        self.spx = await gw.index_price()
        if self.spx is None:
            raise NoTrade(f"no {product.symbol} price from the gateway", phase=self.phase)
        self.vix = await gw.vix()
        self.listed = await gw.list_strikes(ctx.trade_date)
        if not self.listed:
            raise NoTrade(f"no {product.trading_class} options listed for {ctx.trade_date}", phase=self.phase)
        band = self.fit_band()
        await gw.stream_options(ctx.trade_date, band.keys, settle=3.0)
        vix_text = self.vix if self.vix is not None else "n/a"
        strikes_ = band.strikes
        ctx.journal(
            Phase.UNDERLYING,
            EventStatus.OK,
            f"{product.symbol} {self.spx:.2f}, VIX {vix_text}, streaming {len(band.keys)} options",
            spx=self.spx,
            vix=self.vix,
            band=[strikes_[0], strikes_[-1]] if strikes_ else [],
        )
        ctx.save_trade(spx_at_entry=self.spx, vix=self.vix)

    async def filter(self) -> None:
        verdict = vix_filter(self.vix, self.ctx.config.filters.max_vix)
        if not verdict.trade:
            raise NoTrade(verdict.reason, phase=self.phase)
        self.ctx.journal(Phase.FILTER, EventStatus.OK if verdict.applied else EventStatus.SKIP, verdict.reason)

    async def wait_entry(self) -> None:
        """Until the entry instant: greeks stream in and the band follows the market; just before the instant, the
        check that no other installation's entry works. Whatever can happen before the instant happens before it,
        so that the order leaves at the instant and waits for nothing (docs/architecture.md, "The fresh morning").
        """
        ctx, entry_at = self.ctx, self.session.entry_at
        last_refit = entry_at - BAND_LAST_REFIT
        warmup = (last_refit - ctx.now()).total_seconds()
        if warmup > 1.0:
            # What the run has built so far (the calendar, pandas, ib_async) is never collected again: a full
            # collection of it takes a tenth of a second and must not fall on the entry instant.
            gc.collect()
            gc.freeze()
        try:
            await self.gw.wait_for_greeks(min_per_side=MIN_GREEKS_PER_SIDE, timeout=warmup if warmup > 0 else 1.0)
            while ctx.now() < last_refit:
                await ctx.clock.asleep(min(BAND_REFIT, (last_refit - ctx.now()).total_seconds()))
                await self.follow_band()
        except (TimeoutError, IcbotError) as exc:
            ctx.journal(Phase.WAIT_ENTRY, EventStatus.WARN, f"greeks not complete before the entry time: {exc}")
        gc.disable()  # from here to the send nothing may pause the process (re-enabled right after the send)
        if ctx.now() < entry_at and not ctx.is_experiment:
            await ctx.clock.sleep_until(entry_at - RIVAL_LEAD)
            await self.no_rival_working()
            self.rival_checked_at = ctx.now()
        # The last moments are spent awake, turning the event loop over: a sleeping process wakes late by the
        # timer's granularity and the scheduler's whim, while this one reads every message from the gateway up to
        # the instant and then runs straight through selection to the send.
        await ctx.clock.sleep_until(entry_at - ENTRY_SPIN)
        while ctx.now() < entry_at:
            await asyncio.sleep(0)
        self.decision.append(lambda: ctx.journal(Phase.WAIT_ENTRY, EventStatus.OK, "entry time reached"))

    def fit_band(self) -> Band:
        """The options the entry needs streaming now (icbot.broker.band.entry_band), from the index's level on its
        line and the deltas streaming."""
        strikes = self.ctx.config.strikes
        spx = self.gw.index_now() or self.spx
        assert spx is not None
        return self.gw.entry_band(
            spx,
            self.listed,
            vol=(self.vix / 100.0) if self.vix else None,
            wing=strikes.wing_width,
            min_delta=strikes.min_delta,
            max_delta=strikes.max_delta,
        )

    async def follow_band(self, *, also: Sequence[tuple[str, float]] = ()) -> Band:
        """Fit the band again and stream it when it moved (lines no longer needed are cancelled first)."""
        band = self.band = self.fit_band()
        wanted = {*band.keys, *also}
        if wanted != self.gw.streaming:
            self.refits += 1
            await self.gw.stream_options(self.ctx.trade_date, wanted)
        return band

    async def select(self) -> None:
        """Select at the entry instant from the greeks streaming then; if greeks or wing quotes are missing, or the
        band does not yet prove that no strike outside it could be chosen, keep looking until shortly before the
        deadline. Nothing is journaled here: the order goes first (`send_entry` writes the decision right after)."""
        ctx = self.ctx
        give_up = self.session.deadline_at - timedelta(seconds=ctx.config.entry.reprice_seconds * 2)
        while True:
            snap = self.gw.snapshot()
            band = self.band = self.fit_band()
            choice = select_condor(
                snap.abs_delta_points("P"), snap.abs_delta_points("C"), self.listed, ctx.config.strikes
            )
            # Until the band proves that no strike outside it could be chosen, keep it following the market — at
            # most COVER_WAIT past the instant: a chain that cannot bracket the rule (its edge, missing greeks)
            # is selected from as it streams, as every strike it has is streaming.
            learning = not band.covered and ctx.now() < self.session.entry_at + COVER_WAIT
            if isinstance(choice, Condor):
                legs = _leg_keys(choice)
                quotes = {leg: snap.quote(leg[0], leg[1]) for leg in legs}
                quoted = all(q is not None and q.bid is not None and q.ask is not None for q in quotes.values())
                if quoted and not learning:
                    break
                reason = "the band does not cover the chain yet" if quoted else "wing quotes not streaming yet"
                # e.g. a strike that crossed into the rule's band at the last instant: stream what it needs
                await self.follow_band(also=[leg for leg in legs if leg not in band.keys])
            else:
                reason = choice.reason
                await self.follow_band()
            if ctx.now() >= give_up:
                self.journal_band()
                raise NoTrade(reason, phase=self.phase)
            gc.enable()  # the instant has passed without a selection: no reason to hold the collector
            await ctx.clock.asleep(BAND_REFIT if learning else 1.0)
        put_deltas, call_deltas = snap.abs_delta_points("P"), snap.abs_delta_points("C")
        put_delta, call_delta = put_deltas.get(choice.short_put), call_deltas.get(choice.short_call)
        leg_quotes = [
            LegQuote(bid=q.bid, ask=q.ask) for q in quotes.values() if q and q.bid is not None and q.ask is not None
        ]
        combo = combo_prices(*leg_quotes)
        entry = ctx.config.entry
        self.ladder = entry_ladder(
            combo.mid, combo.natural, step=entry.step, tick=ctx.config.strategy.combo_tick, min_credit=entry.min_credit
        )
        self.condor, self.mid = choice, combo.mid
        actions = ("BUY", "SELL", "SELL", "BUY")
        self.legs = tuple(
            ComboLeg(q.con_id, action, key[0], key[1], q.local_symbol)
            for (key, q), action in zip(quotes.items(), actions, strict=True)
            if q is not None
        )

        def journal() -> None:
            ctx.journal(
                Phase.SELECT,
                EventStatus.OK,
                f"{choice.long_put:g}/{choice.short_put:g}P {choice.short_call:g}/{choice.long_call:g}C, "
                f"short deltas {put_delta:.1f}/{call_delta:.1f}, mid {combo.mid:.2f}, natural {combo.natural:.2f}",
                condor=[choice.long_put, choice.short_put, choice.short_call, choice.long_call],
                put_delta=put_delta,
                call_delta=call_delta,
                mid=combo.mid,
                natural=combo.natural,
                spx=snap.spx,
                chain_at=snap.at.isoformat(),
                band_covered=band.covered,
                band_moves=self.refits,
                put_deltas={f"{k:g}": round(v, 3) for k, v in sorted(put_deltas.items())},
                call_deltas={f"{k:g}": round(v, 3) for k, v in sorted(call_deltas.items())},
            )
            ctx.save_trade(
                long_put=choice.long_put,
                short_put=choice.short_put,
                short_call=choice.short_call,
                long_call=choice.long_call,
                put_delta=put_delta,
                call_delta=call_delta,
                mid_at_decision=combo.mid,
                natural_at_decision=combo.natural,
                spx_at_entry=snap.spx,
            )

        self.decision.append(journal)
        if not self.ladder:
            self.write_decision()
            raise NoTrade(f"mid credit {-combo.mid:.2f} is below min_credit {entry.min_credit:.2f}", phase=Phase.ORDER)

    def write_decision(self) -> None:
        """Journal what the entry instant decided (entry time, selection), once, after the order left."""
        pending, self.decision = self.decision, []
        for write in pending:
            write()

    def journal_band(self) -> None:
        """What the band looked like when no condor could be selected from it (for the alert's reader)."""
        self.write_decision()
        band = self.band
        if band is not None and not band.covered:
            self.ctx.journal(
                Phase.SELECT,
                EventStatus.WARN,
                f"the streamed band ({len(band.keys)} options) did not bracket the rule's deltas on both sides",
                band=[list(k) for k in band.keys],
            )

    async def size(self) -> None:
        cfg = self.ctx.config.size
        ref = self.ctx.ref(Role.ENTRY)
        if cfg.mode == "fixed":
            result = contracts_for(cfg, net_liquidation=None, available_funds=None, margin_per_contract=None)
        else:
            probe = ComboOrder(self.legs, "BUY", 1, "LMT", ref, limit_price=self.ladder[0])
            values = await self.gw.account_values()
            margin = await self.gw.what_if_margin(probe)
            result = contracts_for(
                cfg,
                net_liquidation=values.net_liquidation,
                available_funds=values.available_funds,
                margin_per_contract=margin,
            )
        if result.contracts <= 0:
            raise NoTrade(f"size is 0 contracts: {result.reason}", phase=Phase.ORDER)
        self.order = ComboOrder(self.legs, "BUY", result.contracts, "LMT", ref, limit_price=self.ladder[0])

    async def send_entry(self) -> int:
        """Send the entry (the deadline and the halt flag are checked right before it), then work the ladder."""
        ctx, gw, order = self.ctx, self.gw, self.order
        assert order is not None
        # Selection, sizing and a slow start can all run late: the deadline is checked right before the order.
        if ctx.now() >= self.session.deadline_at:
            self.write_decision()
            raise NoTrade(
                f"the entry deadline {self.session.deadline_at:%H:%M:%S} ET passed before the order was sent",
                phase=Phase.ORDER,
            )
        if ctx.is_experiment:
            self.write_decision()
            return self.experiment_fill(order)
        halt = ctx.store.halt_state()
        if halt is not None:
            self.write_decision()
            raise NoTrade(f"halted ({halt.reason or 'kill'}) just before sending", phase=Phase.ORDER)
        if not self.rival_check_stands():
            await self.no_rival_working()
        record_intent(ctx, order, Role.ENTRY)  # the intent, with its orderRef, is journaled before the send
        started = ctx.now()
        sending = asyncio.ensure_future(gw.place(order))
        try:
            # One turn of the event loop hands the placeOrder to the socket; the decision is journaled while the
            # gateway answers.
            await asyncio.sleep(0)
            gc.enable()
            self.write_decision()
            ctx.journal(
                Phase.ORDER,
                EventStatus.START,
                f"BUY {order.quantity} condor LMT {self.ladder[0]:.2f} "
                f"({len(self.ladder)} rungs to {self.ladder[-1]:.2f})",
                ladder=self.ladder,
                quantity=order.quantity,
                order_ref=order.order_ref,
            )
        except BaseException:
            sending.cancel()
            raise
        try:
            state = await sending
        except GatewayUnavailable as exc:  # includes OrderUnconfirmed: sent, never acknowledged, may be live
            raise Critical(
                f"connection lost while sending the entry; its fate is unknown: {exc}", phase=Phase.ORDER
            ) from exc
        except (OrderRejected, ReadOnlyApi) as exc:
            state = await self.refused_or_live(order, exc)
        ctx.store.record_placed(order.order_ref, order_id=state.order_id, perm_id=state.perm_id, at=ctx.now())
        ctx.save_trade(entry_order_ref=order.order_ref)  # after the send: nothing between 09:32:00 and the order
        record_status(ctx, state)
        state = await self.settle_rivalry(state)
        outcome = await work_entry(
            ctx, gw, state, ladder=self.ladder, rung=0, started_at=started, deadline=self.session.deadline_at
        )
        return await self.after_entry(outcome, self.legs, existing=())

    # -- two installations on one account (docs/operations.md, "Two installations") ---------------------------
    async def no_rival_working(self) -> None:
        """Another installation's entry working at the gateway means no second condor from this one.

        One round trip (open orders), made RIVAL_LEAD before the entry instant on a day that starts on time, and
        again immediately before the send otherwise (`rival_check_stands`). A rival entry that neither check can
        see — sent in the same instant as this one — shows in `settle_rivalry`, right after the acknowledgement."""
        ctx = self.ctx
        rivals = rival_entries(await self.gw.open_orders(), ctx.ref(Role.ENTRY))
        if rivals:
            msg = f"{_names(rivals)} already working at the gateway: this installation ({ctx.installation}) sends none"
            ctx.alert(AlertLevel.FAILURE, "two icbot installations on one account", msg)
            raise NoTrade(msg, phase=Phase.ORDER)

    def rival_check_stands(self) -> bool:
        """Whether the check made before the entry instant stands for the send now.

        No installation sends a new entry before the entry instant (a rerun only works its own), so a rival the
        early check could not see was sent at the instant or later. Sent within RIVAL_CHECK_STANDS after it, the
        rival is as invisible to a check made at this send — the open-orders request and the rival's order cross
        on their way to the gateway, as they always could — and both installations find each other in
        `settle_rivalry`, which leaves one condor. A send later than that (a slow selection, a late start)
        checks again.
        """
        checked = self.rival_checked_at
        entry_at = self.session.entry_at
        return checked is not None and checked < entry_at and self.ctx.now() <= entry_at + RIVAL_CHECK_STANDS

    async def settle_rivalry(self, state: OrderState) -> OrderState:
        """Right after the acknowledgement: if another installation's entry exists too, the one IB accepted first
        continues (`entry_that_continues`); the other cancels itself before it can fill, and closes at once
        what did fill. Both installations apply the same rule, so exactly one condor stays."""
        ctx, gw = self.ctx, self.gw
        everything = await gw.find_by_ref(refs.day_prefix(ctx.trade_date, ctx.mode))
        rivals = rival_entries(everything, state.order_ref)
        if not rivals:
            return state
        mine = next((s for s in everything if s.order_ref == state.order_ref), state)
        winner = entry_that_continues([mine, *rivals])
        both = f"this installation's entry #{mine.order_id} (permId {mine.perm_id}) and {_names(rivals)}"
        if winner.order_ref == mine.order_ref:
            msg = f"two icbot installations sent today's entry: {both}; this one was accepted first and continues"
            ctx.journal(Phase.ORDER, EventStatus.WARN, msg)
            ctx.alert(AlertLevel.FAILURE, "two icbot installations on one account", msg)
            return mine
        final = await gw.cancel(mine.order_id)
        record_status(ctx, final)
        lost = f"two icbot installations sent today's entry: {both}; the other was accepted first"
        if final.filled <= 0:
            ctx.alert(AlertLevel.FAILURE, "two icbot installations on one account", f"{lost}; this one cancelled")
            raise NoTrade(f"{lost}; this one cancelled its own unfilled", phase=Phase.ORDER)
        quantity = int(final.filled)
        ctx.save_trade(
            status="open", quantity=quantity, entry_filled_at=ctx.now(), time_exit_at=self.session.time_exit_at
        )
        await self.credit(final, quantity)
        halted, why = ctx.store.halted()
        if halted:  # `icbot kill` is under way: it closes what is held once this process lets go of its orders
            raise Critical(
                f"{lost}; this one had filled {quantity}; halted ({why}): not closing it here, `icbot kill` closes "
                "what is held — if kill kept the position, close it in TWS",
                phase=Phase.ORDER,
            )
        closed = await close_at_market(ctx, gw, self.legs, quantity, phase=Phase.ORDER)
        if closed.is_filled:
            raise Critical(f"{lost}; this one had filled {quantity} and closed it at market at once", phase=Phase.ORDER)
        raise Critical(
            f"{lost}; this one had filled {quantity} and its close at market is {closed.status}: close it in TWS",
            phase=Phase.ORDER,
        )

    async def refused_or_live(self, order: ComboOrder, exc: IcbotError) -> OrderState:
        """An error before the acknowledgement usually is a refusal — but IB also sends notices (e.g. 10349) for
        orders it accepts. The refusal is believed only once the gateway shows no such order live."""
        ref = order.order_ref
        found = [s for s in await self.gw.find_by_ref(ref) if s.order_ref == ref and (not s.is_done or s.filled > 0)]
        if not found:
            record_refusal(self.ctx, order, exc)
            raise NoTrade(f"entry refused by the gateway: {exc}", phase=Phase.ORDER) from exc
        live = found[-1]
        self.ctx.journal(
            Phase.ORDER,
            EventStatus.WARN,
            f"the gateway answered {exc}, yet the entry is live (#{live.order_id} {live.status})",
        )
        return live

    def experiment_fill(self, order: ComboOrder) -> int:
        """Experiment mode: the same path up to the order; nothing is transmitted; a hypothetical fill at the mid."""
        ctx = self.ctx
        record_intent(ctx, order, Role.ENTRY, transmitted=False)
        credit = round(-self.mid, 6)
        ctx.journal(
            Phase.ORDER,
            EventStatus.SKIP,
            f"experiment: not transmitted (would BUY {order.quantity} at {self.ladder[0]:.2f})",
        )
        ctx.journal(
            Phase.FILL, EventStatus.OK, f"experiment: hypothetical fill at the mid, credit {credit:.2f}", credit=credit
        )
        ctx.save_trade(
            status="open",
            experiment=True,
            entry_order_ref=order.order_ref,
            credit=credit,
            quantity=order.quantity,
            limit_price=self.ladder[0],
            ladder_attempts=0,
            seconds_to_fill=0.0,
            entry_commission=0.0,
            entry_filled_at=ctx.now(),
            exits_ok=True,
            time_exit_at=self.session.time_exit_at,
        )
        ctx.journal(
            Phase.EXITS, EventStatus.SKIP, "experiment: exits are evaluated later from market data by `icbot check`"
        )
        ctx.journal(Phase.DONE, EventStatus.OK, "experiment trade recorded")
        ctx.alert(AlertLevel.INFO, "experiment entry", f"hypothetical credit {credit:.2f}")
        return EXIT_OK

    async def continue_entry(self, action: act.ContinueEntry) -> int:
        """A rerun found the entry still working: step the ladder on; exits already at the gateway (an earlier
        run's, for an earlier part of the fill) go along — a repair adds to them, never a second set."""
        self.phase = Phase.ORDER
        outcome = await work_entry(
            self.ctx,
            self.gw,
            action.entry,
            ladder=list(action.ladder),
            rung=action.rung,
            started_at=self.ctx.now(),
            deadline=self.session.deadline_at,
        )
        return await self.after_entry(outcome, action.legs, existing=action.existing)

    async def after_entry(
        self, outcome: EntryOutcome, legs: tuple[ComboLeg, ...], *, existing: tuple[OrderState, ...]
    ) -> int:
        """What follows the ladder: no trade, or the fill recorded and its exits placed."""
        ctx, state = self.ctx, outcome.state
        self.phase = Phase.FILL
        ctx.save_trade(ladder_attempts=outcome.attempts, limit_price=state.limit_price)
        ctx.journal(
            Phase.ORDER,
            EventStatus.OK if state.filled > 0 else EventStatus.FAIL,
            f"entry {state.status} after {outcome.attempts} rung(s) sent, filled {state.filled:g}/{state.quantity:g}",
            order_status=state.status,
            filled=state.filled,
        )
        # We asked to cancel, but the gateway never confirmed an end: the rest of the order may still fill.
        unconfirmed = outcome.cancelled_at_deadline and not state.is_done
        if state.filled <= 0:
            raise self.unfilled(outcome, unconfirmed)
        quantity = int(state.filled)
        if outcome.cancelled_at_deadline:
            ctx.journal(Phase.FILL, EventStatus.WARN, f"the fill raced the cancel: {quantity} filled", filled=quantity)
        # Risk is open from this instant: record it before anything else can fail.
        ctx.save_trade(
            status="open",
            quantity=quantity,
            entry_filled_at=ctx.now(),
            seconds_to_fill=outcome.seconds_to_fill,
            exits_ok=False,
            time_exit_at=self.session.time_exit_at,
        )
        credit = await self.credit(state, quantity)
        unresolved = None
        if unconfirmed:
            unresolved = (
                f"exits cover the {quantity} filled, but the entry's cancel was not confirmed (last status "
                f"{state.status}, {state.remaining:g} remaining may still fill) — check TWS"
            )
        others: tuple[OrderState, ...] = ()
        if existing:  # read again: an earlier run's exits are completed, never duplicated
            fresh = await self.gw.find_by_ref(refs.day_prefix(ctx.trade_date, ctx.mode))
            others = tuple(s for s in fresh if s.order_ref != state.order_ref)
        self.phase = Phase.EXITS
        place = act.PlaceExits(
            legs, quantity, credit, self.session.time_exit_at, others, repair=False, unresolved=unresolved
        )
        return await apply(ctx, self.gw, [place])

    def unfilled(self, outcome: EntryOutcome, unconfirmed: bool) -> DayEnded:
        state = outcome.state
        if unconfirmed:
            return Critical(
                f"the entry's cancel was not confirmed by the gateway (last status {state.status}); it may still "
                "fill — run `icbot run-today` again (it adopts the order) or check TWS",
                phase=Phase.FILL,
            )
        if outcome.halted is not None:
            return NoTrade(f"halted ({outcome.halted}) while the entry worked; cancelled unfilled", phase=Phase.ORDER)
        if state.status is OrderStatus.INACTIVE or (state.last_error and not outcome.cancelled_at_deadline):
            return NoTrade(f"entry ended {state.status}: {state.last_error or 'no reason given'}", phase=Phase.FILL)
        return NoTrade(
            f"not filled by {self.session.deadline_at:%H:%M:%S} ET (ladder of {outcome.attempts} rungs); cancelled",
            phase=Phase.FILL,
        )

    async def credit(self, state: OrderState, quantity: int) -> float:
        """The credit the exits are priced from: the legs' executions (journaled as the trade's credit), else the
        combo's fill price (`icbot.core.accounting.exit_credit`); critical when neither is known."""
        ctx = self.ctx
        standing = await await_entry_executions(ctx, self.gw, state, ENTRY_EXECUTIONS_WAIT)
        fills = [(e.con_id, _leg_fill(e)) for e in standing]
        flow = net_flow(f for _, f in fills)
        credit, source = exit_credit(fills, filled=state.filled, bag_avg=state.avg_fill_price)
        ctx.save_trade(entry_commission=flow.commissions)
        if source == "legs":
            ctx.save_trade(credit=credit)
        if credit is None:
            raise Critical(
                f"filled {quantity} condor(s) but neither the legs' executions ({len(standing)} reported) nor the "
                "combo's fill price give the credit: exits not placed — place them in TWS",
                phase=Phase.FILL,
            )
        if source != "legs":
            ctx.journal(
                Phase.FILL,
                EventStatus.WARN,
                f"the legs' executions are incomplete ({len(standing)} reported): the exits are priced from the "
                f"combo's fill price, credit {credit:.2f}",
                bag_credit=credit,
            )
        ctx.journal(
            Phase.FILL,
            EventStatus.OK,
            f"filled {quantity} at a credit of {credit:.2f} ({source}), commissions ${flow.commissions:.2f}",
            credit=credit,
            quantity=quantity,
        )
        return float(credit)


def _names(rivals: list[OrderState]) -> str:
    """`another icbot installation's entry #7 (ab12cd, permId 123, Submitted, filled 0)` for each rival."""
    return ", ".join(
        f"another icbot installation's entry #{s.order_id} ({refs.installation_of(s.order_ref) or 'unnamed'}, "
        f"permId {s.perm_id}, {s.status}, filled {s.filled:g})"
        for s in rivals
    )


def _leg_keys(condor: Condor) -> list[tuple[str, float]]:
    """The BAG's legs in order: long put, short put, short call, long call."""
    return [("P", condor.long_put), ("P", condor.short_put), ("C", condor.short_call), ("C", condor.long_call)]


def _leg_fill(e: Execution) -> LegFill:
    return LegFill(e.side, e.shares, e.price, e.commission)
