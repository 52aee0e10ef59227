"""Reconciliation as one pure decision: what is true now (`DayFacts`) → what to do (`Action`s).

`check` and a `run-today` rerun ask the same questions of the same facts — is today's entry at the broker, did
it fill, is the credit known, is the position still there, are the exits covering it — and differ only in what
they may do about it: run-today may go on working its own entry; check never opens a position and only
repairs exits. Both call `assess`; icbot/runner/gather.py collects the facts (the only place that reads the
broker for reconciliation) and icbot/runner/apply.py performs the actions. docs/operations.md tells the user
what each outcome means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from icbot.core import refs
from icbot.core.accounting import exit_credit, net_flow
from icbot.core.actions import (
    Action,
    ContinueEntry,
    Critical,
    FreshDay,
    Note,
    Notify,
    NoTrade,
    PlaceExits,
    ReprotectRemainder,
    SaveTrade,
    WatchTouch,
)
from icbot.core.facts import ComboLeg, OrderState, Position, options_held
from icbot.core.journal import (
    EXIT_ROLES,
    AlertLevel,
    EventStatus,
    Fill,
    OrderRecord,
    OrderStatus,
    Phase,
    Role,
    Trade,
    TradeStatus,
)
from icbot.core.pricing import entry_ladder
from icbot.core.schedule import SessionTimes
from icbot.core.settlement import closed_quantity, exit_fills, exit_reason, leg_fill, settle
from icbot.core.zones import NEW_YORK


class Actor(StrEnum):
    """Who is reconciling: run-today may work its own entry; check only accounts, repairs and alerts."""

    RUN_TODAY = "run-today"
    CHECK = "check"


@dataclass(frozen=True, slots=True)
class LadderRules:
    """What a resumed entry needs to rebuild its price ladder (the configuration's entry rules)."""

    step: float
    tick: float
    min_credit: float


@dataclass(frozen=True, slots=True)
class DayFacts:
    """Everything reconciliation knows about one trade day, read once.

    `orders`/`fills` are the journal's after the broker's statuses and leg executions were copied into it;
    `broker_orders` are the gateway's orders carrying this day's orderRef prefix, of every client id;
    `positions` the account's positions (None where they were not read).
    """

    trade_date: date
    mode: str
    installation: str
    trade: Trade
    orders: tuple[OrderRecord, ...]
    fills: tuple[Fill, ...]
    broker_orders: tuple[OrderState, ...]
    positions: tuple[Position, ...] | None
    touch_alerted: frozenset[str] = frozenset()

    @property
    def entry_ref(self) -> str:
        return refs.order_ref(self.trade_date, self.mode, Role.ENTRY, installation=self.installation)

    @property
    def broker_entry(self) -> OrderState | None:
        """Today's entry as the gateway reports it (the latest, should there be several)."""
        found = [s for s in self.broker_orders if s.order_ref == self.entry_ref]
        return found[-1] if found else None

    @property
    def journal_entry(self) -> OrderRecord | None:
        return next((o for o in self.orders if o.order_ref == self.entry_ref), None)

    @property
    def strangers(self) -> list[OrderState]:
        """Orders at the gateway that carry this day's icbot name but that this journal never intended."""
        known = {o.order_ref for o in self.orders}
        return [s for s in self.broker_orders if s.order_ref not in known]

    def legs(self) -> tuple[ComboLeg, ...]:
        """The entry's four legs: as the gateway reports the order, else as its intent was journaled."""
        entry = self.broker_entry
        if entry is not None and entry.legs:
            return entry.legs
        journaled = self.journal_entry
        return journaled.legs if journaled is not None else ()

    def exits_at_broker(self) -> list[OrderState]:
        return [s for s in self.broker_orders if refs.role_of(s.order_ref) in EXIT_ROLES]

    def held(self) -> dict[int, float]:
        return options_held(self.positions)

    def position_unseen(self) -> bool:
        """Filled lots no exit closed, and none of their legs among the positions: what `assess` calls a position
        gone (closed by hand, or a critical). Before it is believed the broker is read again (runner/gather.py): IB's
        position update may trail the fill the orders already report."""
        legs = self.legs()
        if self.positions is None or not legs:
            return False
        entry = self.broker_entry
        filled = max(entry.filled if entry is not None else 0.0, float(self.trade.quantity or 0))
        if filled <= 0 or closed_quantity(self.fills) >= filled - 1e-9:
            return False
        held = self.held()
        return not any(held.get(leg.con_id) for leg in legs)


def rival_entries(states: Sequence[OrderState], ours: str) -> list[OrderState]:
    """Entries of the same day and mode at the broker that another icbot installation sent, working or filled
    (`states` are the gateway's orders with the day's prefix; `ours` is this installation's entry ref)."""
    return [
        s
        for s in states
        if refs.role_of(s.order_ref) is Role.ENTRY and s.order_ref != ours and (s.is_working or s.filled > 0)
    ]


def entry_that_continues(entries: Sequence[OrderState]) -> OrderState:
    """When two installations' entries exist for one day, the one IB accepted first continues: the lower permId
    (an order without one yet comes after), then the installation id — every installation computes the same."""
    return min(
        entries,
        key=lambda s: (s.perm_id if s.perm_id > 0 else float("inf"), refs.installation_of(s.order_ref), s.order_id),
    )


def protects(state: OrderState) -> bool:
    """An exit covers the position while it works and nobody is cancelling it."""
    return state.status.is_working and state.status is not OrderStatus.PENDING_CANCEL


class _Plan:
    """The actions decided so far and the trade as they leave it (later decisions read the updated trade)."""

    def __init__(self, trade: Trade) -> None:
        self.trade = trade
        self.actions: list[Action] = []

    def add(self, *actions: Action) -> None:
        self.actions.extend(actions)

    def save(self, **fields: Any) -> None:
        self.actions.append(SaveTrade(fields))
        known = {k: v for k, v in fields.items() if k in Trade.__dataclass_fields__}
        if "status" in known:
            known["status"] = TradeStatus(known["status"])
        self.trade = replace(self.trade, **known)

    def note(self, phase: Phase, status: EventStatus, message: str, **data: Any) -> None:
        self.actions.append(Note(phase, status, message, data))

    def critical(self, phase: Phase, message: str, **kw: Any) -> None:
        self.actions.append(Critical(phase, message, **kw))

    @property
    def has_critical(self) -> bool:
        return any(isinstance(a, Critical) for a in self.actions)


def assess(
    facts: DayFacts,
    *,
    session: SessionTimes | None,
    now: datetime,
    actor: Actor,
    ladder: LadderRules | None = None,
) -> list[Action]:
    """Decide what to do about one live trade day. Pure: the same facts give the same actions."""
    plan = _Plan(facts.trade)
    entry = facts.broker_entry
    if actor is Actor.RUN_TODAY:
        _assess_rerun(plan, facts, entry, session, ladder)
        return plan.actions
    _assess_check(plan, facts, entry, session, now)
    return plan.actions


# -- run-today, run again the same day --------------------------------------------------------------------------
def _assess_rerun(
    plan: _Plan, facts: DayFacts, entry: OrderState | None, session: SessionTimes | None, ladder: LadderRules | None
) -> None:
    if entry is None:
        _rerun_without_entry(plan, facts)
        return
    plan.note(
        Phase.ORDER,
        EventStatus.INFO,
        f"found today's entry at the gateway: #{entry.order_id} {entry.status}, filled {entry.filled:g}",
    )
    legs = facts.legs()
    if not entry.is_done and entry.filled < entry.quantity:  # working, or a cancel not yet confirmed
        ladder_prices = _resume_ladder(plan.trade, entry, ladder)
        rung = rung_for_price(ladder_prices, entry.limit_price)
        plan.add(ContinueEntry(entry, ladder_prices, rung, legs, _others(facts, entry)))
        return
    if entry.filled <= 0:
        if plan.trade.status is TradeStatus.NO_TRADE:
            plan.note(Phase.DONE, EventStatus.INFO, "today's entry did not fill; nothing to do")
        else:
            plan.add(NoTrade(Phase.FILL, f"today's entry ended {entry.status} without a fill"))
        return
    quantity = int(entry.filled)
    credit = plan.trade.credit
    if credit is None or credit <= 0:
        assert session is not None
        plan.save(status="open", quantity=quantity, time_exit_at=session.time_exit_at)
        credit = recover_credit(plan, facts.fills, entry.avg_fill_price, quantity, required=True)
        if credit is None:
            return
        plan.note(
            Phase.FILL, EventStatus.OK, f"recovered the fill: {quantity} at a credit of {credit:.2f}", credit=credit
        )
    held = facts.held()
    if legs and not any(held.get(leg.con_id) for leg in legs):
        if any(s.filled > 0 for s in facts.exits_at_broker()):
            plan.note(
                Phase.DONE, EventStatus.INFO, "the position is already closed by an exit; `icbot check` records it"
            )
            return
        plan.critical(Phase.EXITS, "today's entry filled but the position is gone and no icbot exit filled")
        return
    assert session is not None
    plan.add(PlaceExits(legs, quantity, float(credit), session.time_exit_at, tuple(facts.broker_orders), repair=False))


def _rerun_without_entry(plan: _Plan, facts: DayFacts) -> None:
    """No entry of today's at the gateway: a fresh day — unless the journal says a gateway once acknowledged it."""
    journaled = facts.journal_entry
    if journaled is not None and journaled.transmitted:
        if journaled.acknowledged_once:
            plan.critical(
                Phase.ORDER,
                f"the journal has today's entry acknowledged as order #{journaled.order_id}, but the gateway "
                "reports no such order (open or completed); not sending another — check TWS",
            )
            return
        plan.note(
            Phase.ORDER, EventStatus.INFO, "an entry intent was journaled but the gateway has no such order: not sent"
        )
    plan.add(FreshDay())


def _resume_ladder(trade: Trade, entry: OrderState, rules: LadderRules | None) -> tuple[float, ...]:
    """The ladder the entry was sent with, rebuilt from the journaled mid and natural (else its own price)."""
    ladder: list[float] = []
    if rules is not None and trade.mid_at_decision is not None and trade.natural_at_decision is not None:
        ladder = entry_ladder(
            trade.mid_at_decision,
            trade.natural_at_decision,
            step=rules.step,
            tick=rules.tick,
            min_credit=rules.min_credit,
        )
    return tuple(ladder or [entry.limit_price or 0.0])


def rung_for_price(ladder: Sequence[float], price: float | None) -> int:
    """Index of the rung a resumed order is sitting on (the closest price), so the ladder continues from there."""
    if price is None or not ladder:
        return 0
    return min(range(len(ladder)), key=lambda i: abs(ladder[i] - price))


def _others(facts: DayFacts, entry: OrderState) -> tuple[OrderState, ...]:
    return tuple(s for s in facts.broker_orders if s != entry)


def recover_credit(
    plan: _Plan, fills: Sequence[Fill], bag_avg: float | None, quantity: float, *, required: bool
) -> float | None:
    """The credit to price exits from: the entry's leg executions (then recorded as the trade's credit), else the
    combo's fill price (prices exits, never recorded); with neither, no exit can be priced — critical when the
    caller must place exits now (`required`). Shared by run-today (fresh or rerun) and check."""
    entry_fills = [f for f in fills if f.role is Role.ENTRY]
    credit, source = exit_credit(((f.con_id or 0, leg_fill(f)) for f in entry_fills), filled=quantity, bag_avg=bag_avg)
    if source == "legs":  # only the legs' figure is the trade's credit (docs/strategy.md)
        plan.save(credit=credit, entry_commission=net_flow(leg_fill(f) for f in entry_fills).commissions)
        plan.note(Phase.FILL, EventStatus.OK, f"credit {credit:.2f} recovered from the legs' executions")
    elif source == "bag":
        plan.note(
            Phase.FILL,
            EventStatus.WARN,
            f"credit {credit:.2f} from the combo's fill price for pricing exits (leg executions incomplete: "
            f"{len(entry_fills)} reported)",
            bag_credit=credit,
        )
    elif required:
        plan.critical(
            Phase.FILL,
            f"filled {quantity:g} condor(s) but neither the legs' executions ({len(entry_fills)} reported) nor the "
            "combo's fill price give the credit: exits not placed — place them in TWS",
        )
    return credit


# -- check ------------------------------------------------------------------------------------------------------
def _assess_check(
    plan: _Plan, facts: DayFacts, entry: OrderState | None, session: SessionTimes | None, now: datetime
) -> None:
    # Another installation's (or an older journal's) orders: working ones are risk nobody here manages; ended ones
    # are history (their position, if any, is judged by the account's positions check).
    strangers = [s for s in facts.strangers if s.is_working]
    ended = [s for s in facts.strangers if not s.is_working]
    if ended:
        names = ", ".join(f"{s.order_ref} #{s.order_id} {s.status}" for s in ended)
        plan.note(Phase.RECONCILE, EventStatus.WARN, f"ended order(s) of another icbot at the gateway: {names}")
    if strangers:
        names = ", ".join(f"{s.order_ref} #{s.order_id} {s.status}" for s in strangers)
        plan.critical(
            Phase.RECONCILE,
            f"order(s) at the gateway carry icbot's name but are not in this journal: {names} "
            "(another icbot on this account, or an older copy of the journal?)",
            title="broker and journal disagree",
        )
    # check holds the day's lock, so no run-today is working this order: past the deadline it is an entry
    # attempt nobody manages (none after the deadline), and it may fill at any moment without exits.
    if entry is not None and entry.is_working and (session is None or now >= session.deadline_at):
        by = f"the {session.deadline_at:%H:%M} ET deadline" if session is not None else "its day"
        plan.critical(
            Phase.RECONCILE,
            f"the entry #{entry.order_id} ({entry.filled:g}/{entry.quantity:g} filled) is still working after "
            f"{by} and no run-today is working it: cancel it in TWS; a fill gets exits only at the next check",
        )
    earlier_day = facts.trade_date < now.astimezone(NEW_YORK).date()
    if plan.trade.status is TradeStatus.PENDING:
        if entry is None or entry.filled <= 0:
            _pending_without_fill(plan, facts, entry, session, now, earlier_day)
            return
        plan.save(status="open", quantity=int(entry.filled), exits_ok=False)
        plan.note(
            Phase.RECONCILE, EventStatus.WARN, f"the entry filled {entry.filled:g} but the journal had not recorded it"
        )
    elif entry is not None and entry.filled > float(plan.trade.quantity or 0) + 1e-9:
        # The broker is the truth: exits are sized, and positions judged, by what the entry really filled.
        plan.note(
            Phase.RECONCILE,
            EventStatus.WARN,
            f"the entry filled {entry.filled:g}, the journal had {plan.trade.quantity}",
        )
        plan.save(quantity=int(entry.filled))
    credit = plan.trade.credit
    if credit is None:
        bag_avg = entry.avg_fill_price if entry is not None else None
        credit = recover_credit(plan, facts.fills, bag_avg, float(plan.trade.quantity or 0), required=False)
    if plan.trade.time_exit_at is None and session is not None:
        plan.save(time_exit_at=session.time_exit_at)
    quantity = float(plan.trade.quantity or 0)
    closed = closed_quantity(facts.fills)
    if quantity and closed >= quantity - 1e-9:
        plan.add(*settle(plan.trade, facts.fills, now=now))
        return
    legs = facts.legs()
    held = facts.held()
    position_open = any(held.get(leg.con_id) for leg in legs) if legs else quantity > 0
    if not position_open:
        _position_gone(plan, facts, earlier_day)
        return
    _cover_open_position(plan, facts, quantity, closed, credit, now)
    plan.add(WatchTouch(plan.trade.short_put, plan.trade.short_call, plan.trade.entry_filled_at, facts.touch_alerted))


def _pending_without_fill(
    plan: _Plan,
    facts: DayFacts,
    entry: OrderState | None,
    session: SessionTimes | None,
    now: datetime,
    earlier_day: bool,
) -> None:
    if entry is not None and entry.is_working:
        if not plan.has_critical:
            plan.note(Phase.RECONCILE, EventStatus.INFO, "today's entry is still working; run-today owns it")
        return
    if entry is not None:  # done without a fill
        why = f"the entry ended {entry.status} without a fill"
        plan.note(Phase.RECONCILE, EventStatus.INFO, f"no trade: {why}")
        plan.save(status="no_trade", no_trade_reason=why)
        return
    if earlier_day:
        msg = (
            f"the entry was sent but IB reports only today's orders and executions, so whether it filled "
            f"on {facts.trade_date} is unknown here; take it from the IB statement"
        )
        plan.note(Phase.RECONCILE, EventStatus.WARN, msg)
        plan.save(status="failed", last_problem=msg)
        plan.add(Notify(AlertLevel.WARNING, "outcome unknown", msg))
        return
    journaled = facts.journal_entry
    if journaled is not None and journaled.acknowledged_once:
        plan.critical(
            Phase.RECONCILE,
            f"the journal has the entry acknowledged as order #{journaled.order_id}, but the gateway reports no "
            "such order (open or completed): check TWS for a position or a working order",
            title="broker and journal disagree",
        )
        return
    if session is not None and now < session.deadline_at:
        plan.note(
            Phase.RECONCILE, EventStatus.INFO, "the entry intent has not reached the gateway yet; run-today owns it"
        )
        return
    why = "the entry's intent was journaled but never reached the gateway"
    plan.note(Phase.RECONCILE, EventStatus.INFO, f"no trade: {why}")
    plan.save(status="no_trade", no_trade_reason=why)


def _position_gone(plan: _Plan, facts: DayFacts, earlier_day: bool) -> None:
    """The legs are flat at the broker and icbot's exits did not close them all."""
    live_exits = [s for s in facts.exits_at_broker() if s.is_working]
    if live_exits:
        # Closed outside icbot, but the exits still work: the stop, or the time exit's market order, would now
        # open a new (reversed) condor.
        names = ", ".join(f"{refs.role_of(s.order_ref)} #{s.order_id} {s.status}" for s in live_exits)
        plan.critical(
            Phase.RECONCILE,
            f"the position is gone (no icbot exit filled) but {len(live_exits)} exit order(s) are still working "
            f"at the gateway: {names}; cancel them in TWS now, or they will open a new position",
        )
        return
    if earlier_day:  # the exit may well have been icbot's; IB just no longer reports that day's executions
        msg = (
            f"the position of {facts.trade_date} is gone and the journal has no exit fill; IB reports only today's "
            "executions, so exit reason and P/L are unknown here; take them from the IB statement"
        )
        plan.note(Phase.RECONCILE, EventStatus.WARN, msg)
        plan.save(status="closed", last_problem=msg)
        plan.add(Notify(AlertLevel.WARNING, "exit not seen", msg))
        return
    plan.note(Phase.RECONCILE, EventStatus.WARN, "the position is gone but no icbot exit filled (closed by hand?)")
    plan.save(status="closed", exit_reason="manual")
    plan.add(Notify(AlertLevel.WARNING, "position closed outside icbot", "no icbot exit filled; check TWS"))


def _cover_open_position(
    plan: _Plan, facts: DayFacts, quantity: float, closed: float, credit: float | None, now: datetime
) -> None:
    """The position is open: are the exits covering exactly what is still open? Repair what is missing."""
    open_qty = quantity - closed
    working = [s for s in facts.exits_at_broker() if protects(s)]
    covering = {refs.role_of(s.order_ref) for s in working if abs(s.remaining - open_qty) < 1e-9}
    if covering >= set(EXIT_ROLES):
        plan.note(Phase.RECONCILE, EventStatus.OK, f"position open ({open_qty:g}), {len(working)} exits working")
        return
    legs = facts.legs()
    if closed > 0:
        # Part of the position was closed by an exit; with ocaType 1 that fill cancelled the siblings, so the rest
        # has no stop. The old exits' remainder is cancelled first and a complete set placed for what is open in a
        # fresh group: a new group beside a still-working remainder could close the position twice.
        have = ", ".join(r for r in EXIT_ROLES if r in covering) or "no exit"
        lacking = ", ".join(r for r in EXIT_ROLES if r not in covering)
        gap = (
            f"{closed:g} of {quantity:g} condors closed by {exit_reason(exit_fills(facts.fills))[1]}; "
            f"the remaining {open_qty:g} have {have} working for them and no {lacking}"
        )
        if not legs or credit is None:
            plan.critical(Phase.EXITS, f"{gap}: place those for {open_qty:g} in TWS or close the rest")
            return
        plan.note(Phase.EXITS, EventStatus.WARN, f"{gap}: re-placing a complete set for the open lots")
        time_exit_at = plan.trade.time_exit_at or now
        plan.add(ReprotectRemainder(legs, int(quantity), float(credit), time_exit_at, tuple(working)))
        return
    if not legs or credit is None:
        what = "the legs or the credit of the entry are unknown, so they cannot be re-placed"
        plan.critical(Phase.EXITS, f"exits incomplete: {what}", body=f"position without complete exits: {what}")
        return
    time_exit_at = plan.trade.time_exit_at or now
    plan.add(PlaceExits(legs, int(quantity), float(credit), time_exit_at, tuple(facts.broker_orders), repair=True))


def open_trades(trades: Sequence[Trade], pending_sent: Sequence[date]) -> list[Trade]:
    """Trades that may carry risk: open ones (any date — a crash may have left yesterday's unaccounted) and
    pending ones whose entry order was transmitted (a crash between the fill and the journal)."""
    sent = set(pending_sent)
    return [
        t
        for t in trades
        if t.status is TradeStatus.OPEN
        or (t.status is TradeStatus.PENDING and not t.experiment and t.trade_date in sent)
    ]
