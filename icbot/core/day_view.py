"""One trading day as the trader sees it at a glance — the model behind `icbot status` (and `icbot demo`'s summary).

Pure: journal records (icbot.core.journal), what the gateway said (icbot.core.facts) and the calendar's
instants in; a `StatusView` out, with the risk verdict and its exit code. No I/O, no clock: `now` is an
argument. icbot/runner/status.py gathers the inputs, icbot/cli/day_view.py draws the view, `view_json` is the
documented `--json` object (docs/operations.md, "icbot status").

Decisions written down here (and in docs/operations.md):

* A phase's mark comes from its latest event that is not `info` (info events are notes — a re-price, an
  acknowledged exit — and never change a phase's state; a phase with only notes shows ``·``). ``warn`` shows
  ❗: the phase went on with a caveat worth reading. ``start`` shows ⏳ only while the run that wrote it is still
  running; left behind by a run that has finished it shows ``·`` (the run ended that phase without a verdict),
  and left behind by a run whose process is gone without finishing its journal row it shows ❌ (it crashed).
* Risk (exit 4) is what check would call critical about the position: open contracts without all three exits
  working for exactly the open quantity; icbot exits still working although the position is gone; positions that
  are not what the day's trade holds; icbot-named orders the journal never sent; an entry still working after the
  deadline. With the gateway's answer these are judged on the broker's facts (its orders' fills, not the
  journal's, which check copies in only every few minutes); without it on the journal's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Literal

from icbot.core import refs
from icbot.core.accounting import trade_pnl
from icbot.core.facts import options_held
from icbot.core.journal import (
    EXIT_ROLES,
    REASON_BY_ROLE,
    Alert,
    ComboLeg,
    Event,
    EventStatus,
    Fill,
    Halt,
    OrderRecord,
    OrderStatus,
    Phase,
    Role,
    Run,
    Trade,
    TradeStatus,
)
from icbot.core.schedule import SessionTimes
from icbot.core.zones import NEW_YORK

if TYPE_CHECKING:
    from icbot.core.facts import OrderState, Position

# icbot.core.settlement (closed_quantity, position_problems) is imported where it is used: it brings the actions
# and exit pricing along, which the journal-only view of a day without an open trade never needs (`icbot status
# --offline` has 0.3 s in all, docs/simulator.md "Benchmarks").

EXIT_OK = 0
EXIT_RISK = 4

# The phases shown to the user, in the order a day passes them (docs/operations.md §3); others seen (touch,
# kill, …) follow them.
PHASES: tuple[Phase, ...] = (
    Phase.CONNECT,
    Phase.WAIT_ENTRY,
    Phase.UNDERLYING,
    Phase.FILTER,
    Phase.SELECT,
    Phase.ORDER,
    Phase.FILL,
    Phase.EXITS,
    Phase.DONE,
    Phase.RECONCILE,
    Phase.CLOSED,
)
MARKS: Mapping[str, str] = {
    "ok": "✅",
    "start": "⏳",
    "fail": "❌",
    "skip": "➖",
    "warn": "❗",
    "info": "·",
    "crashed": "❌",
    "none": " ",
}
RunState = Literal["running", "finished", "gone"]
Source = Literal["broker", "journal"]
# IB account ids (U1234567, DU1234567, DF…, F…): masked wherever a journaled message carries one.
ACCOUNT_ID = re.compile(r"\b(?:DU|DF|U|F)\d{5,}\b")


# -- inputs -------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class JournalDay:
    """What the journal says about one trade day (and the journal-wide halt, last check and alerts)."""

    trade: Trade | None = None
    events: tuple[Event, ...] = ()
    orders: tuple[OrderRecord, ...] = ()
    fills: tuple[Fill, ...] = ()
    alerts: tuple[Alert, ...] = ()  # newest first
    halt: Halt | None = None
    last_check: Run | None = None
    runs: Mapping[int, RunState] = field(default_factory=dict)  # the events' runs: still running, finished, gone


@dataclass(frozen=True, slots=True)
class BrokerDay:
    """What the gateway said, read once by `icbot status` through its read-only client."""

    account: str
    orders: tuple[OrderState, ...]  # the day's icbot orders, of every client id
    positions: tuple[Position, ...]
    mids: Mapping[int, float | None] = field(default_factory=dict)  # conId → mid of the open trade's legs
    quote_problem: str | None = None  # why there is no mid (market data refused, not asked …)


# -- the view -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PhaseLine:
    phase: str
    status: str | None  # the deciding event's status word; None: not reached
    at: datetime | None
    message: str
    state: str = "none"  # a MARKS key: the status, or "crashed"/"none"

    @property
    def mark(self) -> str:
        return MARKS.get(self.state, "·")


@dataclass(frozen=True, slots=True)
class ExitLine:
    """One exit order (or the entry, for the trade's line) as the broker or, offline, the journal reports it."""

    role: str
    order_type: str
    status: OrderStatus
    quantity: float
    remaining: float
    order_ref: str
    source: Source
    order_id: int | None = None
    limit_price: float | None = None
    aux_price: float | None = None
    good_after: str | None = None  # the time exit's activation as journaled (ISO text with an offset)
    oca_group: str | None = None

    @property
    def protects(self) -> bool:
        """Working, nobody cancelling it (icbot.core.reconcile.protects, for a journal record too) and not filled."""
        working = self.status.is_working and self.status is not OrderStatus.PENDING_CANCEL
        return working and self.remaining > 1e-9

    @property
    def price(self) -> float | None:
        """The price that triggers it: the limit of an LMT, the stop of a STP; None for MKT."""
        if self.order_type == "STP":
            return self.aux_price
        return self.limit_price


@dataclass(frozen=True, slots=True)
class Cover:
    """Do the working exits cover what is open? Each of the three roles must work for exactly that quantity."""

    open_quantity: float
    covering: tuple[str, ...]
    missing: tuple[str, ...]
    source: Source

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True, slots=True)
class TradeLine:
    status: TradeStatus
    experiment: bool
    strikes: tuple[float, float, float, float] | None  # long put, short put, short call, long call
    put_delta: float | None
    call_delta: float | None
    credit: float | None  # per condor, from the legs' executions
    contracts: int | None
    open_contracts: float
    pnl: float | None
    pnl_kind: Literal["realised", "unrealised"] | None
    close_debit: float | None  # the exit's debit (closed) or the combo's mid now (open)
    exit_reason: str | None
    no_trade_reason: str | None
    problem: str | None
    entry: ExitLine | None  # the entry order, as the broker or the journal reports it


@dataclass(frozen=True, slots=True)
class NextSession:
    date: date
    entry_ny: datetime
    entry_local: datetime
    early_close: bool
    close_ny: datetime


@dataclass(frozen=True, slots=True)
class StatusView:
    date: date
    now: datetime
    mode: str
    account: str  # masked
    session: SessionTimes | None  # the viewed day's session; None: no session that day
    holiday: str | None  # the viewed day's holiday name, when it is a weekday without a session
    phases: tuple[PhaseLine, ...]
    trade: TradeLine | None
    exits: tuple[ExitLine, ...]  # working exit orders
    cover: Cover | None  # None: nothing open
    halt: Halt | None
    last_check: Run | None
    alerts: tuple[Alert, ...]
    next_session: NextSession | None
    broker: str  # "ok", "offline", or why the broker's view is missing
    positions: tuple[Position, ...] | None  # None: the broker was not read
    risk: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        return EXIT_RISK if self.risk else EXIT_OK

    @property
    def halted(self) -> bool:
        return self.halt is not None


# -- building it --------------------------------------------------------------------------------------------
def build_view(
    *,
    day: date,
    now: datetime,
    mode: str,
    journal: JournalDay,
    session: SessionTimes | None,
    holiday: str | None = None,
    next_session: SessionTimes | None = None,
    local_zone: tzinfo | None = None,
    broker: BrokerDay | None = None,
    broker_state: str = "offline",
    account: str = "",
    hide: Mapping[str, str] | None = None,
    underlying: str = "SPX",
    multiplier: int = 100,
) -> StatusView:
    """The day's view. `broker` is the gateway's answer (None: offline or no answer, `broker_state` says which);
    `account` the masked account; `hide` maps raw strings (the account) to what is shown instead;
    `local_zone` None means the machine's zone."""
    masks = dict(hide or {})
    trade = journal.trade
    # The journal's entry (its orderRef names this installation); the broker's order of that ref is the same one.
    j_entry = next((o for o in journal.orders if o.role is Role.ENTRY), None)
    b_entry = _latest(broker.orders, j_entry.order_ref) if broker is not None and j_entry is not None else None
    legs = (b_entry.legs if b_entry is not None and b_entry.legs else None) or (j_entry.legs if j_entry else ())
    exits = _exit_lines(journal.orders, broker)
    open_qty = _open_quantity(trade, j_entry, b_entry, journal, broker)
    risk: list[str] = []
    notes: list[str] = []
    cover: Cover | None = None
    position_open = open_qty > 1e-9
    if broker is not None and legs:
        held = options_held(broker.positions)
        position_open = any(held.get(leg.con_id) for leg in legs)
    if position_open and open_qty > 1e-9:  # held with nothing open by the orders: a conflict, named below
        cover = _cover(exits, open_qty, "broker" if broker is not None else "journal")
        if not cover.complete:
            have = ", ".join(cover.covering) or "no exit"
            risk.append(
                f"position without complete exits: {open_qty:g} open, {have} working for it, "
                f"no {', '.join(cover.missing)}"
            )
    elif broker is not None and open_qty > 1e-9:
        working = [e for e in exits if e.protects]
        if working:
            names = ", ".join(f"{e.role} #{e.order_id}" for e in working)
            risk.append(
                f"the position is gone but {len(working)} icbot exit(s) still work at the gateway ({names}): "
                "cancel them in TWS, or they open a new position"
            )
        else:
            notes.append("the position is flat at the broker; the next check records how it closed")
    if broker is not None:
        risk.extend(_broker_conflicts(day, mode, journal, broker, legs, open_qty if position_open else 0.0, underlying))
    entry_line = _entry_line(j_entry, b_entry, trade)
    if entry_line is not None and entry_line.protects and session is not None and now >= session.deadline_at:
        risk.append(
            f"the entry #{entry_line.order_id} is still working after the {session.deadline_at:%H:%M} ET deadline "
            f"({entry_line.source}): cancel it in TWS"
        )
    trade_line = (
        None if trade is None else _trade_line(trade, entry_line, legs, open_qty, position_open, broker, multiplier)
    )
    if trade_line is not None and trade_line.status is TradeStatus.OPEN and broker is not None and broker.quote_problem:
        notes.append(f"no unrealised P/L: {broker.quote_problem}")
    if trade is None and session is not None and now >= session.deadline_at:
        notes.append(
            f"missed run: the entry window closed at {session.deadline_at:%H:%M} ET and no run-today reached it "
            "(the Mac asleep or off at 09:31, or the scheduler unloaded? `icbot schedule show`, `icbot doctor`)"
        )
    return StatusView(
        date=day,
        now=now.astimezone(NEW_YORK),
        mode=mode,
        account=account,
        session=session,
        holiday=holiday,
        phases=phase_lines(journal.events, journal.runs, masks),
        trade=trade_line,
        exits=tuple(e for e in exits if e.protects or e.status is OrderStatus.PENDING_CANCEL),
        cover=cover,
        halt=None if journal.halt is None else replace(journal.halt, reason=mask_text(journal.halt.reason, masks)),
        last_check=journal.last_check,
        alerts=tuple(
            replace(a, title=mask_text(a.title, masks), body=mask_text(a.body, masks)) for a in journal.alerts
        ),
        next_session=_next(next_session, local_zone),
        broker=broker_state if broker is None else "ok",
        positions=None if broker is None else broker.positions,
        risk=tuple(mask_text(r, masks) for r in risk),
        notes=tuple(notes),
    )


def mask_text(text: str, hide: Mapping[str, str]) -> str:
    """`text` with every IB account id masked (all but the last 3 characters) and each `hide` key replaced."""
    for raw, shown in hide.items():
        if raw:
            text = text.replace(raw, shown)
    return ACCOUNT_ID.sub(lambda m: "*" * (len(m.group()) - 3) + m.group()[-3:], text)


def phase_lines(
    events: Sequence[Event], runs: Mapping[int, RunState], hide: Mapping[str, str] | None = None
) -> tuple[PhaseLine, ...]:
    """Every user phase (reached or not) in the user's order, then any other phase seen, each with its mark."""
    deciding: dict[str, Event] = {}
    latest: dict[str, Event] = {}
    for event in events:
        latest[event.phase] = event
        if event.status is not EventStatus.INFO:
            deciding[event.phase] = event
    order = [str(p) for p in PHASES] + [p for p in latest if p not in {str(q) for q in PHASES}]
    lines = []
    for phase in order:
        last = latest.get(phase)
        if last is None:
            lines.append(PhaseLine(phase, None, None, ""))
            continue
        decided = deciding.get(phase)
        if decided is None:  # only notes
            lines.append(PhaseLine(phase, "info", last.at, mask_text(last.message, hide or {}), "info"))
            continue
        state = str(decided.status)
        if decided.status is EventStatus.START:
            run = runs.get(decided.run_id, "running") if decided.run_id is not None else "finished"
            state = {"running": "start", "finished": "info", "gone": "crashed"}[run]
        message = last.message if last.id > decided.id and decided.status is EventStatus.START else decided.message
        if state == "crashed":
            message = f"{message} — its run ended without finishing (crashed?)"
        at = last.at if message is last.message else decided.at
        lines.append(PhaseLine(phase, str(decided.status), at, mask_text(message, hide or {}), state))
    return tuple(lines)


def _latest(orders: Sequence[OrderState], ref: str) -> OrderState | None:
    found = [s for s in orders if s.order_ref == ref]
    return found[-1] if found else None


def _exit_lines(journal: Sequence[OrderRecord], broker: BrokerDay | None) -> list[ExitLine]:
    """The day's exit orders: the broker's when it answered (with the journal's good-after time), else the
    journal's. Only this journal's orders count: another installation's exits do not protect this position."""
    by_ref = {o.order_ref: o for o in journal}
    if broker is None:
        return [
            ExitLine(
                role=str(o.role),
                order_type=o.order_type,
                status=o.status,
                quantity=o.quantity,
                remaining=max(0.0, o.quantity - o.filled),
                order_ref=o.order_ref,
                source="journal",
                order_id=o.order_id,
                limit_price=o.limit_price,
                aux_price=o.aux_price,
                good_after=o.good_after,
                oca_group=o.oca_group,
            )
            for o in journal
            if o.role in EXIT_ROLES
        ]
    out = []
    for s in broker.orders:
        role = refs.role_of(s.order_ref)
        j = by_ref.get(s.order_ref)
        if j is None or role not in EXIT_ROLES:
            continue
        out.append(
            ExitLine(
                role=str(role),
                order_type=s.order_type,
                status=s.status,
                quantity=s.quantity,
                remaining=s.remaining,
                order_ref=s.order_ref,
                source="broker",
                order_id=s.order_id or j.order_id,  # IB reports 0 for another client's completed order
                limit_price=s.limit_price,
                aux_price=s.aux_price,
                good_after=j.good_after,
                oca_group=s.oca_group,
            )
        )
    return out


def _entry_line(j_entry: OrderRecord | None, b_entry: OrderState | None, trade: Trade | None) -> ExitLine | None:
    """The entry as the broker reports it, else as journaled. The journal's order row can lag its trade row (a fill
    that raced a re-price is recorded on the trade, the order row keeps `Submitted` until check copies the broker's
    status), so offline an entry whose trade is past `pending` counts as filled for what the trade holds."""
    if b_entry is not None:
        return ExitLine(
            role=str(Role.ENTRY),
            order_type=b_entry.order_type,
            status=b_entry.status,
            quantity=b_entry.quantity,
            remaining=b_entry.remaining,
            order_ref=b_entry.order_ref,
            source="broker",
            order_id=b_entry.order_id or (j_entry.order_id if j_entry is not None else None),
            limit_price=b_entry.limit_price,
            aux_price=b_entry.aux_price,
        )
    if j_entry is not None:
        filled = j_entry.filled
        if trade is not None and trade.status is not TradeStatus.PENDING:
            filled = max(filled, float(trade.quantity or 0))
        return ExitLine(
            role=str(Role.ENTRY),
            order_type=j_entry.order_type,
            status=j_entry.status,
            quantity=j_entry.quantity,
            remaining=max(0.0, j_entry.quantity - filled),
            order_ref=j_entry.order_ref,
            source="journal",
            order_id=j_entry.order_id,
            limit_price=j_entry.limit_price,
            aux_price=j_entry.aux_price,
        )
    return None


def _open_quantity(
    trade: Trade | None,
    j_entry: OrderRecord | None,
    b_entry: OrderState | None,
    journal: JournalDay,
    broker: BrokerDay | None,
) -> float:
    """Condors open by the orders: what the entry filled minus what icbot's exits (and close) filled.

    With the broker's answer both sides are the gateway's order fills (the journal learns them only at the next
    check); offline they are the journal's trade quantity (or the entry's recorded fill) and its exit fills."""
    if broker is not None:
        opened = b_entry.filled if b_entry is not None else float(trade.quantity or 0) if trade is not None else 0.0
        known = {o.order_ref for o in journal.orders}
        closers = [
            s for s in broker.orders if s.order_ref in known and refs.role_of(s.order_ref) in (*EXIT_ROLES, Role.CLOSE)
        ]
        closed = max(sum(s.filled for s in closers), _closed_by_exits(journal.fills))
        return max(0.0, opened - closed)
    if trade is None or trade.status.is_final:
        return 0.0
    if trade.status is TradeStatus.OPEN:
        opened = float(trade.quantity or 0)
    else:  # pending: a fill the run has not turned into an open trade yet
        opened = j_entry.filled if j_entry is not None else 0.0
    return max(0.0, opened - _closed_by_exits(journal.fills))


def _closed_by_exits(fills: Sequence[Fill]) -> float:
    """Condors closed by icbot's exits (icbot.core.settlement.closed_quantity), loaded only when an exit filled."""
    if not any(f.role in REASON_BY_ROLE for f in fills):
        return 0.0
    from icbot.core.settlement import closed_quantity

    return closed_quantity(fills)


def _cover(exits: Sequence[ExitLine], open_qty: float, source: Source) -> Cover:
    covering = {e.role for e in exits if e.protects and abs(e.remaining - open_qty) < 1e-9}
    roles = [str(r) for r in EXIT_ROLES]
    return Cover(
        open_quantity=open_qty,
        covering=tuple(r for r in roles if r in covering),
        missing=tuple(r for r in roles if r not in covering),
        source=source,
    )


def _broker_conflicts(
    day: date,
    mode: str,
    journal: JournalDay,
    broker: BrokerDay,
    legs: Sequence[ComboLeg],
    open_qty: float,
    underlying: str,
) -> list[str]:
    """Where the broker and the journal disagree in a way that leaves risk (as check would call it critical)."""
    from icbot.core.settlement import Intended, position_problems

    problems = []
    known = {o.order_ref for o in journal.orders}
    prefix = refs.day_prefix(day, mode)
    strangers = [s for s in broker.orders if s.order_ref.startswith(prefix) and s.order_ref not in known]
    if strangers:
        names = ", ".join(f"{s.order_ref} #{s.order_id} {s.status}" for s in strangers)
        problems.append(
            f"broker and journal disagree: order(s) carry icbot's name but are not in this journal: {names}"
        )
    intended = {
        leg.con_id: Intended(day, open_qty if leg.action == "BUY" else -open_qty, f"{leg.right}{leg.strike:g}")
        for leg in legs
    }
    for problem in position_problems(broker.positions, intended, underlying=underlying):
        problems.append(f"positions differ from icbot's: {problem}")
    return problems


def _trade_line(
    trade: Trade,
    entry: ExitLine | None,
    legs: Sequence[ComboLeg],
    open_qty: float,
    position_open: bool,
    broker: BrokerDay | None,
    multiplier: int,
) -> TradeLine:
    strikes = None
    if None not in (trade.long_put, trade.short_put, trade.short_call, trade.long_call):
        strikes = (
            float(trade.long_put or 0),
            float(trade.short_put or 0),
            float(trade.short_call or 0),
            float(trade.long_call or 0),
        )
    pnl: float | None = None
    kind: Literal["realised", "unrealised"] | None = None
    debit: float | None = None
    if trade.status is TradeStatus.CLOSED:
        pnl, debit = trade.pnl, trade.exit_debit
        kind = "realised" if pnl is not None else None
    elif broker is not None and position_open and trade.credit is not None and legs:
        debit = combo_mid(legs, broker.mids)
        if debit is not None:
            pnl = trade_pnl(
                credit=float(trade.credit),
                debit=debit,
                quantity=open_qty,
                multiplier=multiplier,
                commissions=float(trade.entry_commission or 0.0),
            )
            kind = "unrealised"
    return TradeLine(
        status=trade.status,
        experiment=trade.experiment,
        strikes=strikes,
        put_delta=trade.put_delta,
        call_delta=trade.call_delta,
        credit=trade.credit,
        contracts=trade.quantity,
        open_contracts=open_qty if position_open else 0.0,
        pnl=pnl,
        pnl_kind=kind,
        close_debit=debit,
        exit_reason=None if trade.exit_reason is None else str(trade.exit_reason),
        no_trade_reason=trade.no_trade_reason,
        problem=trade.last_problem,
        entry=entry,
    )


def combo_mid(legs: Sequence[ComboLeg], mids: Mapping[int, float | None]) -> float | None:
    """What closing one condor costs at the legs' mids: the shorts' mids minus the longs'; None if one is missing."""
    total = 0.0
    for leg in legs:
        mid = mids.get(leg.con_id)
        if mid is None:
            return None
        total += mid if leg.action == "SELL" else -mid
    return round(total, 6)


def _next(times: SessionTimes | None, zone: tzinfo | None) -> NextSession | None:
    if times is None:
        return None
    return NextSession(
        date=times.date,
        entry_ny=times.entry_at,
        entry_local=times.entry_at.astimezone(zone),
        early_close=times.is_early_close,
        close_ny=times.close,
    )


# -- the --json object --------------------------------------------------------------------------------------
def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _ny_iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(NEW_YORK).isoformat()


def view_json(view: StatusView) -> dict[str, Any]:
    """The `icbot status --json` object (docs/operations.md documents every key; scripts rely on them)."""
    s = view.session
    t = view.trade
    return {
        "date": view.date.isoformat(),
        "now": _ny_iso(view.now),
        "mode": view.mode,
        "account": view.account or None,
        "session": None
        if s is None
        else {
            "open": _iso(s.open),
            "close": _iso(s.close),
            "early_close": s.is_early_close,
            "entry": _iso(s.entry_at),
            "deadline": _iso(s.deadline_at),
            "time_exit": _iso(s.time_exit_at),
        },
        "holiday": view.holiday,
        "halted": view.halted,
        "halt": None
        if view.halt is None
        else {"since": _ny_iso(view.halt.at), "by": view.halt.by, "reason": view.halt.reason},
        "phases": [
            {"phase": p.phase, "status": p.status, "mark": p.state, "at": _ny_iso(p.at), "message": p.message}
            for p in view.phases
        ],
        "trade": None
        if t is None
        else {
            "status": str(t.status),
            "experiment": t.experiment,
            "strikes": None
            if t.strikes is None
            else dict(zip(("long_put", "short_put", "short_call", "long_call"), t.strikes, strict=True)),
            "deltas": {"put": t.put_delta, "call": t.call_delta},
            "credit": t.credit,
            "contracts": t.contracts,
            "open_contracts": t.open_contracts,
            "pnl": t.pnl,
            "pnl_kind": t.pnl_kind,
            "close_debit": t.close_debit,
            "exit_reason": t.exit_reason,
            "no_trade_reason": t.no_trade_reason,
            "problem": t.problem,
            "entry": None if t.entry is None else _order_json(t.entry),
        },
        "exits": [_order_json(e) for e in view.exits],
        "exits_cover": None
        if view.cover is None
        else {
            "open_contracts": view.cover.open_quantity,
            "covering": list(view.cover.covering),
            "missing": list(view.cover.missing),
            "complete": view.cover.complete,
            "source": view.cover.source,
        },
        "positions": None
        if view.positions is None
        else [{"local_symbol": p.local_symbol, "con_id": p.con_id, "quantity": p.quantity} for p in view.positions],
        "last_check": None
        if view.last_check is None
        else {
            "at": _ny_iso(view.last_check.started_at),
            "finished_at": _ny_iso(view.last_check.finished_at),
            "exit_code": view.last_check.exit_code,
            "summary": view.last_check.summary,
        },
        "alerts": [
            {"at": _ny_iso(a.at), "level": str(a.level), "title": a.title, "delivered": a.delivered}
            for a in view.alerts
        ],
        "next_session": None
        if view.next_session is None
        else {
            "date": view.next_session.date.isoformat(),
            "entry_ny": _iso(view.next_session.entry_ny),
            "entry_local": _iso(view.next_session.entry_local),
            "early_close": view.next_session.early_close,
            "close_ny": _iso(view.next_session.close_ny),
        },
        "broker": view.broker,
        "risk": list(view.risk),
        "notes": list(view.notes),
        "exit_code": view.exit_code,
    }


def _order_json(e: ExitLine) -> dict[str, Any]:
    return {
        "role": e.role,
        "order_type": e.order_type,
        "price": e.price,
        "limit_price": e.limit_price,
        "aux_price": e.aux_price,
        "good_after": e.good_after,
        "status": str(e.status),
        "oca_group": e.oca_group,
        "quantity": e.quantity,
        "remaining": e.remaining,
        "order_ref": e.order_ref,
        "order_id": e.order_id,
        "source": e.source,
    }
