"""`assess` as decision tables: every decision check and a run-today rerun can take, without a gateway.

Each row builds the facts (journal trade, journal orders and fills, the broker's orders and positions), calls
the pure `icbot.core.reconcile.assess`, and asserts the exact actions and the exit code they imply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icbot.core import actions as act
from icbot.core import refs
from icbot.core.facts import ComboLeg, OrderState, Position
from icbot.core.journal import (
    AlertLevel,
    EventStatus,
    Fill,
    Mode,
    OrderRecord,
    OrderStatus,
    Phase,
    Role,
    Trade,
    TradeStatus,
)
from icbot.core.reconcile import (
    Actor,
    DayFacts,
    LadderRules,
    assess,
    entry_that_continues,
    open_trades,
    rival_entries,
    rung_for_price,
)
from tests.core.day import DAY, SESSION, ny

T0 = datetime(2026, 11, 24, 14, 32, tzinfo=UTC)  # 09:32 ET
LEGS = (
    ComboLeg(101, "BUY", "P", 5900.0, "SPXW P5900"),
    ComboLeg(102, "SELL", "P", 5920.0, "SPXW P5920"),
    ComboLeg(103, "SELL", "C", 6060.0, "SPXW C6060"),
    ComboLeg(104, "BUY", "C", 6080.0, "SPXW C6080"),
)
HELD_ONE = tuple(
    Position(leg.con_id, leg.local_symbol, "OPT", leg.right, leg.strike, DAY, 1.0 if leg.action == "BUY" else -1.0, 0.0)
    for leg in LEGS
)
FLAT: tuple[Position, ...] = ()
RULES = LadderRules(step=0.05, tick=0.05, min_credit=0.0)


def ref(role: Role, attempt: int = 1, day: date = DAY) -> str:
    return refs.order_ref(day, "paper", role, attempt, installation="")


def trade(status: TradeStatus = TradeStatus.OPEN, day: date = DAY, **kw: Any) -> Trade:
    base: dict[str, Any] = {"quantity": 1, "credit": 4.0, "entry_filled_at": T0, "time_exit_at": ny("11:30", day)}
    if status is TradeStatus.PENDING:
        base = {}
    base.update(kw)
    return Trade(
        id=1, trade_date=day, mode=Mode.PAPER, status=status, experiment=False, created_at=T0, updated_at=T0, **base
    )


def broker(
    role: Role, status: str, *, filled: float = 0, quantity: float = 1, attempt: int = 1, day: date = DAY, **kw: Any
) -> OrderState:
    values: dict[str, Any] = {
        "order_id": 11 + list(Role).index(role) + (attempt - 1) * 100,
        "perm_id": 0,
        "order_ref": ref(role, attempt, day),
        "action": "BUY" if role is Role.ENTRY else "SELL",
        "order_type": "LMT",
        "quantity": quantity,
        "limit_price": -4.0 if role is Role.ENTRY else None,
        "aux_price": None,
        "status": OrderStatus(status),
        "filled": filled,
        "remaining": quantity - filled,
        "avg_fill_price": None,
        "oca_group": None if role is Role.ENTRY else "icbot-2026-11-24-paper",
        "last_error": None,
        "legs": LEGS,
    }
    values.update(kw)
    return OrderState(**values)


def journaled(
    role: Role, *, order_id: int | None = 11, transmitted: bool = True, day: date = DAY, attempt: int = 1
) -> OrderRecord:
    return OrderRecord(
        id=1,
        trade_date=day,
        mode=Mode.PAPER,
        role=role,
        order_ref=ref(role, attempt, day),
        action="BUY" if role is Role.ENTRY else "SELL",
        order_type="LMT",
        quantity=1,
        legs=LEGS,
        status=OrderStatus.SUBMITTED,
        filled=0,
        intent_at=T0,
        updated_at=T0,
        transmitted=transmitted,
        order_id=order_id,
    )


def leg_fills(
    role: Role, prices: Sequence[float], *, at: datetime = T0, commission: float | None = 1.05, qty: float = 1
) -> tuple[Fill, ...]:
    """Four leg executions of one BAG order: prices per leg in LEGS order; the entry BUYs the BAG."""
    out = []
    for i, (leg, price) in enumerate(zip(LEGS, prices, strict=True)):
        buy = (leg.action == "BUY") == (role is Role.ENTRY)
        out.append(
            Fill(
                id=i,
                exec_id=f"{role}.{i}.01",
                trade_date=DAY,
                mode=Mode.PAPER,
                side="BOT" if buy else "SLD",
                quantity=qty,
                price=price,
                at=at,
                role=role,
                con_id=leg.con_id,
                commission=commission,
            )
        )
    return tuple(out)


ENTRY_FILLS = leg_fills(Role.ENTRY, [1.0, 3.0, 3.2, 1.2])  # credit 3.0 + 3.2 - 1.0 - 1.2 = 4.00
TP_FILLS = leg_fills(Role.TAKE_PROFIT, [0.5, 2.0, 2.0, 0.5], at=T0 + timedelta(minutes=40))  # debit 3.00

EXITS_WORKING = (
    broker(Role.TAKE_PROFIT, "Submitted"),
    broker(Role.STOP, "PreSubmitted", order_type="STP"),
    broker(Role.TIME_EXIT, "PreSubmitted", order_type="MKT"),
)


def facts(
    t: Trade,
    *,
    orders: Sequence[OrderRecord] = (),
    fills: Sequence[Fill] = (),
    at_broker: Sequence[OrderState] = (),
    positions: Sequence[Position] | None = HELD_ONE,
) -> DayFacts:
    if not orders and at_broker:  # the journal knows what icbot sent, unless a row says otherwise
        orders = tuple(
            journaled(refs.role_of(s.order_ref) or Role.ENTRY, day=t.trade_date, attempt=refs.attempt_of(s.order_ref))
            for s in at_broker
        )
    return DayFacts(
        trade_date=t.trade_date,
        mode="paper",
        installation="",
        trade=t,
        orders=tuple(orders),
        fills=tuple(fills),
        broker_orders=tuple(at_broker),
        positions=None if positions is None else tuple(positions),
    )


@dataclass(frozen=True)
class Starts:
    """Matches a message that starts with `text` (the rest names orders and figures)."""

    text: str

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.startswith(self.text)

    def __hash__(self) -> int:
        return hash(self.text)


def shape(actions: Sequence[act.Action]) -> list[tuple[Any, ...]]:
    """Each action as a tuple of what decides behaviour (type and the fields the applier acts on)."""
    out: list[tuple[Any, ...]] = []
    for a in actions:
        match a:
            case act.Note(phase, status, message, _):
                out.append(("note", phase, status, message))
            case act.SaveTrade(fields):
                out.append(("save", dict(fields)))
            case act.Notify(level, title, _):
                out.append(("notify", level, title))
            case act.Critical(phase, message, title, _):
                out.append(("critical", phase, title, message))
            case act.NoTrade(phase, reason):
                out.append(("no_trade", phase, reason))
            case act.PlaceExits(legs, quantity, credit, time_exit_at, _, repair, unresolved):
                out.append(("place_exits", quantity, credit, time_exit_at, repair, unresolved, legs == LEGS))
            case act.ReprotectRemainder(_, quantity, credit, _, working):
                out.append(("reprotect", quantity, credit, [str(refs.role_of(w.order_ref)) for w in working]))
            case act.WatchTouch():
                out.append(("watch_touch",))
            case act.ContinueEntry(_, ladder, rung, _, _):
                out.append(("continue_entry", ladder, rung))
            case act.FreshDay():
                out.append(("fresh_day",))
            case _:
                out.append((type(a).__name__,))
    return out


RECONCILE, FILL, EXITS, ORDER, DONE = Phase.RECONCILE, Phase.FILL, Phase.EXITS, Phase.ORDER, Phase.DONE
INFO, OK, WARN = EventStatus.INFO, EventStatus.OK, EventStatus.WARN
DISAGREE = "broker and journal disagree"
ACTION = "ACTION NEEDED"
COVERED = ("note", RECONCILE, OK, "position open (1), 3 exits working")

# (name, facts, now, expected actions, exit code) — check.
CHECK_TABLE: list[tuple[str, DayFacts, datetime, list[tuple[Any, ...]], int]] = [
    (
        "open, three exits cover the position: all is well, watch for a touch",
        facts(trade(), fills=ENTRY_FILLS, at_broker=(broker(Role.ENTRY, "Filled", filled=1), *EXITS_WORKING)),
        ny("10:00"),
        [COVERED, ("watch_touch",)],
        0,
    ),
    (
        "an order named for today that this journal never sent (a second installation)",
        facts(
            trade(),
            orders=(journaled(Role.ENTRY), *(journaled(r) for r in (Role.TAKE_PROFIT, Role.STOP, Role.TIME_EXIT))),
            fills=ENTRY_FILLS,
            at_broker=(
                broker(Role.ENTRY, "Filled", filled=1),
                *EXITS_WORKING,
                broker(Role.ENTRY, "Submitted", attempt=2),
            ),
        ),
        ny("10:00"),
        [
            (
                "critical",
                RECONCILE,
                DISAGREE,
                Starts(
                    "order(s) at the gateway carry icbot's name but are not in this journal: "
                    "icbot:2026-11-24:paper:entry:2"
                ),
            ),
            COVERED,
            ("watch_touch",),
        ],
        4,
    ),
    (
        "another installation's entry that ended (cancelled by its own rule) is history, not a conflict",
        facts(
            trade(),
            orders=(journaled(Role.ENTRY), *(journaled(r) for r in (Role.TAKE_PROFIT, Role.STOP, Role.TIME_EXIT))),
            fills=ENTRY_FILLS,
            at_broker=(
                broker(Role.ENTRY, "Filled", filled=1),
                *EXITS_WORKING,
                broker(
                    Role.ENTRY, "Cancelled", attempt=1, order_id=99, order_ref="icbot:2026-11-24:paper:entry/bbbbbb"
                ),
            ),
        ),
        ny("10:00"),
        [
            (
                "note",
                RECONCILE,
                WARN,
                "ended order(s) of another icbot at the gateway: icbot:2026-11-24:paper:entry/bbbbbb #99 Cancelled",
            ),
            COVERED,
            ("watch_touch",),
        ],
        0,
    ),
    (
        "pending, entry still working before the deadline: run-today owns it",
        facts(trade(TradeStatus.PENDING), at_broker=(broker(Role.ENTRY, "Submitted"),), positions=FLAT),
        ny("09:32"),
        [("note", RECONCILE, INFO, "today's entry is still working; run-today owns it")],
        0,
    ),
    (
        "pending, entry still working after the deadline with nobody working it",
        facts(trade(TradeStatus.PENDING), at_broker=(broker(Role.ENTRY, "Submitted"),), positions=FLAT),
        ny("09:40"),
        [
            (
                "critical",
                RECONCILE,
                ACTION,
                Starts("the entry #11 (0/1 filled) is still working after the 09:33 ET deadline"),
            )
        ],
        4,
    ),
    (
        "pending, entry ended without a fill: no trade",
        facts(trade(TradeStatus.PENDING), at_broker=(broker(Role.ENTRY, "Cancelled"),), positions=FLAT),
        ny("09:40"),
        [
            ("note", RECONCILE, INFO, "no trade: the entry ended Cancelled without a fill"),
            ("save", {"status": "no_trade", "no_trade_reason": "the entry ended Cancelled without a fill"}),
        ],
        0,
    ),
    (
        "pending from an earlier day, unknown to the broker: outcome unknown, see the statement",
        facts(
            trade(TradeStatus.PENDING, day=date(2026, 11, 23)),
            orders=(journaled(Role.ENTRY, day=date(2026, 11, 23)),),
            positions=FLAT,
        ),
        ny("10:00"),
        [
            ("note", RECONCILE, WARN, Starts("the entry was sent but IB reports only today's orders")),
            ("save", {"status": "failed", "last_problem": Starts("the entry was sent but IB reports only today's")}),
            ("notify", AlertLevel.WARNING, "outcome unknown"),
        ],
        0,
    ),
    (
        "pending today, acknowledged once, unknown to the gateway now: broker and journal disagree",
        facts(trade(TradeStatus.PENDING), orders=(journaled(Role.ENTRY, order_id=11),), positions=FLAT),
        ny("09:40"),
        [
            (
                "critical",
                RECONCILE,
                DISAGREE,
                Starts("the journal has the entry acknowledged as order #11, but the gateway reports no such order"),
            )
        ],
        4,
    ),
    (
        "pending today, intent never reached the gateway, before the deadline: run-today owns it",
        facts(trade(TradeStatus.PENDING), orders=(journaled(Role.ENTRY, order_id=None),), positions=FLAT),
        ny("09:32"),
        [("note", RECONCILE, INFO, "the entry intent has not reached the gateway yet; run-today owns it")],
        0,
    ),
    (
        "pending today, intent never reached the gateway, after the deadline: no trade",
        facts(trade(TradeStatus.PENDING), orders=(journaled(Role.ENTRY, order_id=None),), positions=FLAT),
        ny("09:40"),
        [
            ("note", RECONCILE, INFO, "no trade: the entry's intent was journaled but never reached the gateway"),
            (
                "save",
                {
                    "status": "no_trade",
                    "no_trade_reason": "the entry's intent was journaled but never reached the gateway",
                },
            ),
        ],
        0,
    ),
    (
        "pending but filled at the broker (a crash before the journal): open it, recover the credit, repair exits",
        facts(trade(TradeStatus.PENDING), fills=ENTRY_FILLS, at_broker=(broker(Role.ENTRY, "Filled", filled=1),)),
        ny("09:40"),
        [
            ("save", {"status": "open", "quantity": 1, "exits_ok": False}),
            ("note", RECONCILE, WARN, "the entry filled 1 but the journal had not recorded it"),
            ("save", {"credit": pytest.approx(4.0), "entry_commission": pytest.approx(4.2)}),
            ("note", FILL, OK, "credit 4.00 recovered from the legs' executions"),
            ("save", {"time_exit_at": ny("11:30")}),
            ("place_exits", 1, pytest.approx(4.0), ny("11:30"), True, None, True),
            ("watch_touch",),
        ],
        0,
    ),
    (
        "the entry filled more than the journal says: the broker is the truth",
        facts(
            trade(quantity=1),
            fills=ENTRY_FILLS,
            at_broker=(broker(Role.ENTRY, "Filled", filled=2, quantity=2), *EXITS_WORKING),
        ),
        ny("10:00"),
        [
            ("note", RECONCILE, WARN, "the entry filled 2, the journal had 1"),
            ("save", {"quantity": 2}),
            ("place_exits", 2, 4.0, ny("11:30"), True, None, True),
            ("watch_touch",),
        ],
        0,
    ),
    (
        "credit unknown and the legs incomplete: the combo's fill price prices the repair but is not recorded",
        facts(
            trade(credit=None),
            fills=ENTRY_FILLS[:2],
            at_broker=(broker(Role.ENTRY, "Filled", filled=1, avg_fill_price=-4.1), *EXITS_WORKING),
        ),
        ny("10:00"),
        [
            ("note", FILL, WARN, Starts("credit 4.10 from the combo's fill price for pricing exits")),
            COVERED,
            ("watch_touch",),
        ],
        0,
    ),
    (
        "exits filled the whole quantity: settled from the legs (P/L after every commission)",
        facts(
            trade(),
            fills=ENTRY_FILLS + TP_FILLS,
            at_broker=(broker(Role.ENTRY, "Filled", filled=1), broker(Role.TAKE_PROFIT, "Filled", filled=1)),
            positions=FLAT,
        ),
        ny("10:20"),
        [
            (
                "save",
                {
                    "status": "closed",
                    "exit_reason": "take_profit",
                    "exit_debit": pytest.approx(3.0),
                    "exit_commission": pytest.approx(4.2),
                    "entry_commission": pytest.approx(4.2),
                    "exited_at": T0 + timedelta(minutes=40),
                    "pnl": pytest.approx(91.6),
                    "minutes_in_trade": 40.0,
                },
            ),
            ("note", Phase.CLOSED, OK, "closed by take_profit: debit 3.00, P/L $91.60 after $8.40 commissions"),
            ("notify", AlertLevel.INFO, "closed by take_profit"),
        ],
        0,
    ),
    (
        "exits filled but a commission is still on its way: wait for the next check",
        facts(
            trade(),
            fills=ENTRY_FILLS + leg_fills(Role.STOP, [0.5, 5.0, 5.0, 0.5], at=ny("10:10"), commission=None),
            at_broker=(broker(Role.ENTRY, "Filled", filled=1),),
            positions=FLAT,
        ),
        ny("10:15"),
        [
            (
                "note",
                RECONCILE,
                INFO,
                "exits filled; waiting for IB's commission on 4 execution(s) before the P/L is final",
            )
        ],
        0,
    ),
    (
        "position gone by hand while the exits still work: they would open a new position",
        facts(
            trade(),
            fills=ENTRY_FILLS,
            at_broker=(broker(Role.ENTRY, "Filled", filled=1), *EXITS_WORKING),
            positions=FLAT,
        ),
        ny("10:00"),
        [
            (
                "critical",
                RECONCILE,
                ACTION,
                Starts("the position is gone (no icbot exit filled) but 3 exit order(s) are still working"),
            )
        ],
        4,
    ),
    (
        "position gone by hand, no exit working: closed outside icbot",
        facts(
            trade(),
            fills=ENTRY_FILLS,
            at_broker=(
                broker(Role.ENTRY, "Filled", filled=1),
                *(broker(r, "Cancelled") for r in (Role.TAKE_PROFIT, Role.STOP, Role.TIME_EXIT)),
            ),
            positions=FLAT,
        ),
        ny("10:00"),
        [
            ("note", RECONCILE, WARN, "the position is gone but no icbot exit filled (closed by hand?)"),
            ("save", {"status": "closed", "exit_reason": "manual"}),
            ("notify", AlertLevel.WARNING, "position closed outside icbot"),
        ],
        0,
    ),
    (
        "an earlier day's position gone with no exit fill: IB no longer reports it, outcome from the statement",
        facts(trade(day=date(2026, 11, 23)), orders=(journaled(Role.ENTRY, day=date(2026, 11, 23)),), positions=FLAT),
        ny("10:00"),
        [
            ("note", RECONCILE, WARN, Starts("the position of 2026-11-23 is gone and the journal has no exit fill")),
            ("save", {"status": "closed", "last_problem": Starts("the position of 2026-11-23 is gone")}),
            ("notify", AlertLevel.WARNING, "exit not seen"),
        ],
        0,
    ),
    (
        "an exit filled in part (ocaType 1 cancelled the others): the open lot gets a complete set again",
        facts(
            trade(quantity=2),
            fills=leg_fills(Role.ENTRY, [1.0, 3.0, 3.2, 1.2], qty=2) + TP_FILLS,
            at_broker=(
                broker(Role.ENTRY, "Filled", filled=2, quantity=2),
                broker(Role.TAKE_PROFIT, "Submitted", filled=1, quantity=2),
                broker(Role.STOP, "Cancelled", quantity=2),
                broker(Role.TIME_EXIT, "Cancelled", quantity=2),
            ),
        ),
        ny("10:20"),
        [
            (
                "note",
                EXITS,
                WARN,
                "1 of 2 condors closed by take_profit; the remaining 1 have take_profit working for them and no "
                "stop, time_exit: re-placing a complete set for the open lots",
            ),
            ("reprotect", 2, 4.0, ["take_profit"]),
            ("watch_touch",),
        ],
        0,
    ),
    (
        "exits missing (one cancelled, one being cancelled): repaired with the credit from the journal",
        facts(
            trade(),
            fills=ENTRY_FILLS,
            at_broker=(
                broker(Role.ENTRY, "Filled", filled=1),
                EXITS_WORKING[0],
                broker(Role.STOP, "PendingCancel"),
                broker(Role.TIME_EXIT, "Cancelled"),
            ),
        ),
        ny("10:00"),
        [("place_exits", 1, 4.0, ny("11:30"), True, None, True), ("watch_touch",)],
        0,
    ),
    (
        "exits missing and no credit known at all: they cannot be priced",
        facts(trade(credit=None), at_broker=(broker(Role.ENTRY, "Filled", filled=1),)),
        ny("10:00"),
        [
            (
                "critical",
                EXITS,
                ACTION,
                "exits incomplete: the legs or the credit of the entry are unknown, so they cannot be re-placed",
            ),
            ("watch_touch",),
        ],
        4,
    ),
]


@pytest.mark.parametrize(
    ("name", "day_facts", "now", "expected", "code"), CHECK_TABLE, ids=[row[0] for row in CHECK_TABLE]
)
def test_check_decides(
    name: str, day_facts: DayFacts, now: datetime, expected: list[tuple[Any, ...]], code: int
) -> None:
    session = SESSION if day_facts.trade_date == DAY else None
    decided = assess(day_facts, session=session, now=now, actor=Actor.CHECK)
    assert shape(decided) == expected
    assert act.exit_code(decided) == code


# (name, facts, expected actions, exit code) — a run-today rerun at 09:32:30.
RERUN_TABLE: list[tuple[str, DayFacts, list[tuple[Any, ...]], int]] = [
    (
        "nothing of today's anywhere: a fresh day",
        facts(trade(TradeStatus.PENDING), positions=FLAT),
        [("fresh_day",)],
        0,
    ),
    (
        "an intent that never reached the gateway: not sent, so a fresh day",
        facts(trade(TradeStatus.PENDING), orders=(journaled(Role.ENTRY, order_id=None),), positions=FLAT),
        [
            ("note", ORDER, INFO, "an entry intent was journaled but the gateway has no such order: not sent"),
            ("fresh_day",),
        ],
        0,
    ),
    (
        "an experiment's intent (never transmitted) is no risk: a fresh day",
        facts(
            trade(TradeStatus.PENDING),
            orders=(journaled(Role.ENTRY, order_id=None, transmitted=False),),
            positions=FLAT,
        ),
        [("fresh_day",)],
        0,
    ),
    (
        "the journal has the entry acknowledged but the gateway does not know it: never a second entry",
        facts(trade(TradeStatus.PENDING), orders=(journaled(Role.ENTRY, order_id=11),), positions=FLAT),
        [
            (
                "critical",
                ORDER,
                ACTION,
                Starts(
                    "the journal has today's entry acknowledged as order #11, but the gateway reports no such order"
                ),
            )
        ],
        4,
    ),
    (
        "the entry still works: the ladder continues from the rung it sits on",
        facts(
            trade(TradeStatus.PENDING, mid_at_decision=-4.2, natural_at_decision=-3.9),
            at_broker=(broker(Role.ENTRY, "Submitted", limit_price=-4.1),),
            positions=FLAT,
        ),
        [
            ("note", ORDER, INFO, "found today's entry at the gateway: #11 Submitted, filled 0"),
            ("continue_entry", (-4.2, -4.15, -4.1, -4.05, -4.0, -3.95, -3.9), 2),
        ],
        0,
    ),
    (
        "the entry ended unfilled and the day is already a no-trade: nothing to do",
        facts(trade(TradeStatus.NO_TRADE), at_broker=(broker(Role.ENTRY, "Cancelled"),), positions=FLAT),
        [
            ("note", ORDER, INFO, "found today's entry at the gateway: #11 Cancelled, filled 0"),
            ("note", DONE, INFO, "today's entry did not fill; nothing to do"),
        ],
        0,
    ),
    (
        "the entry ended unfilled: no trade today",
        facts(trade(TradeStatus.PENDING), at_broker=(broker(Role.ENTRY, "Inactive"),), positions=FLAT),
        [
            ("note", ORDER, INFO, "found today's entry at the gateway: #11 Inactive, filled 0"),
            ("no_trade", FILL, "today's entry ended Inactive without a fill"),
        ],
        3,
    ),
    (
        "filled while nobody watched: the credit from the legs, then the exits",
        facts(trade(TradeStatus.PENDING), fills=ENTRY_FILLS, at_broker=(broker(Role.ENTRY, "Filled", filled=1),)),
        [
            ("note", ORDER, INFO, "found today's entry at the gateway: #11 Filled, filled 1"),
            ("save", {"status": "open", "quantity": 1, "time_exit_at": ny("11:30")}),
            ("save", {"credit": pytest.approx(4.0), "entry_commission": pytest.approx(4.2)}),
            ("note", FILL, OK, "credit 4.00 recovered from the legs' executions"),
            ("note", FILL, OK, "recovered the fill: 1 at a credit of 4.00"),
            ("place_exits", 1, pytest.approx(4.0), ny("11:30"), False, None, True),
        ],
        0,
    ),
    (
        "filled, and neither the legs nor the combo's price give a credit: no exit can be priced",
        facts(trade(TradeStatus.PENDING), at_broker=(broker(Role.ENTRY, "Filled", filled=1),)),
        [
            ("note", ORDER, INFO, "found today's entry at the gateway: #11 Filled, filled 1"),
            ("save", {"status": "open", "quantity": 1, "time_exit_at": ny("11:30")}),
            (
                "critical",
                FILL,
                ACTION,
                Starts("filled 1 condor(s) but neither the legs' executions (0 reported) nor the combo's fill price"),
            ),
        ],
        4,
    ),
    (
        "filled and already closed by an exit: check records it",
        facts(
            trade(),
            fills=ENTRY_FILLS,
            at_broker=(broker(Role.ENTRY, "Filled", filled=1), broker(Role.TAKE_PROFIT, "Filled", filled=1)),
            positions=FLAT,
        ),
        [
            ("note", ORDER, INFO, "found today's entry at the gateway: #11 Filled, filled 1"),
            ("note", DONE, INFO, "the position is already closed by an exit; `icbot check` records it"),
        ],
        0,
    ),
    (
        "filled, position gone, no exit filled: never re-place exits for a position that is not there",
        facts(trade(), fills=ENTRY_FILLS, at_broker=(broker(Role.ENTRY, "Filled", filled=1),), positions=FLAT),
        [
            ("note", ORDER, INFO, "found today's entry at the gateway: #11 Filled, filled 1"),
            ("critical", EXITS, ACTION, "today's entry filled but the position is gone and no icbot exit filled"),
        ],
        4,
    ),
    (
        "filled with the credit journaled: the exits are completed next to what works",
        facts(trade(), fills=ENTRY_FILLS, at_broker=(broker(Role.ENTRY, "Filled", filled=1), EXITS_WORKING[0])),
        [
            ("note", ORDER, INFO, "found today's entry at the gateway: #11 Filled, filled 1"),
            ("place_exits", 1, 4.0, ny("11:30"), False, None, True),
        ],
        0,
    ),
]


@pytest.mark.parametrize(("name", "day_facts", "expected", "code"), RERUN_TABLE, ids=[row[0] for row in RERUN_TABLE])
def test_rerun_decides(name: str, day_facts: DayFacts, expected: list[tuple[Any, ...]], code: int) -> None:
    decided = assess(
        day_facts, session=SESSION, now=ny("09:32") + timedelta(seconds=30), actor=Actor.RUN_TODAY, ladder=RULES
    )
    assert shape(decided) == expected
    assert act.exit_code(decided) == code


def test_every_action_check_or_a_rerun_can_take_has_a_row() -> None:
    seen = {
        row[0]
        for table in (CHECK_TABLE,)
        for r in table
        for row in shape(assess(r[1], session=SESSION if r[1].trade_date == DAY else None, now=r[2], actor=Actor.CHECK))
    }
    seen |= {
        row[0]
        for r in RERUN_TABLE
        for row in shape(assess(r[1], session=SESSION, now=ny("09:32"), actor=Actor.RUN_TODAY, ladder=RULES))
    }
    assert seen == {
        "note",
        "save",
        "notify",
        "critical",
        "no_trade",
        "place_exits",
        "reprotect",
        "watch_touch",
        "continue_entry",
        "fresh_day",
    }


def test_open_trades_are_the_open_ones_and_the_pending_ones_whose_entry_was_sent() -> None:
    sent_day, quiet_day = date(2026, 11, 23), date(2026, 11, 20)
    trades = [
        trade(TradeStatus.OPEN, day=date(2026, 11, 19)),
        trade(TradeStatus.PENDING, day=sent_day),
        trade(TradeStatus.PENDING, day=quiet_day),
        trade(TradeStatus.CLOSED, day=date(2026, 11, 18)),
    ]
    assert [t.trade_date for t in open_trades(trades, [sent_day])] == [date(2026, 11, 19), sent_day]


@pytest.mark.parametrize(("price", "rung"), [(None, 0), (-4.2, 0), (-4.1, 2), (-4.08, 2), (-3.0, 6)])
def test_a_resumed_entry_continues_from_the_closest_rung(price: float | None, rung: int) -> None:
    assert rung_for_price([-4.2, -4.15, -4.1, -4.05, -4.0, -3.95, -3.9], price) == rung


# -- properties over any mix of broker states -------------------------------------------------------------------
STATUSES = [s.value for s in OrderStatus if s not in (OrderStatus.INTENT, OrderStatus.PLACED, OrderStatus.UNKNOWN)]


@st.composite
def any_facts(draw: st.DrawFn) -> DayFacts:
    quantity = draw(st.integers(1, 3))
    status = draw(st.sampled_from([TradeStatus.PENDING, TradeStatus.OPEN]))
    day = draw(st.sampled_from([DAY, DAY - timedelta(days=1)]))  # check also looks after an earlier day's trade
    t = trade(
        status,
        day=day,
        quantity=quantity if status is TradeStatus.OPEN else None,
        credit=draw(st.sampled_from([None, 4.0])),
    )
    at_broker: list[OrderState] = []
    if draw(st.booleans()):
        filled = draw(st.integers(0, quantity))
        entry_status = "Filled" if filled == quantity else draw(st.sampled_from(STATUSES))
        at_broker.append(broker(Role.ENTRY, entry_status, filled=filled, quantity=quantity, day=day))
    for role in (Role.TAKE_PROFIT, Role.STOP, Role.TIME_EXIT):
        if draw(st.booleans()):
            at_broker.append(
                broker(
                    role,
                    draw(st.sampled_from(STATUSES)),
                    quantity=quantity,
                    filled=draw(st.integers(0, quantity)),
                    day=day,
                )
            )
    held = draw(st.sampled_from([HELD_ONE, FLAT]))
    fills = ENTRY_FILLS if draw(st.booleans()) else ()
    entry_id = draw(st.sampled_from([None, 11]))
    orders = (journaled(Role.ENTRY, order_id=entry_id, day=day),) if draw(st.booleans()) else ()
    return facts(
        t,
        orders=orders or tuple(journaled(refs.role_of(s.order_ref) or Role.ENTRY, day=day) for s in at_broker),
        fills=fills,
        at_broker=at_broker,
        positions=held,
    )


@settings(max_examples=300, deadline=None)
@given(day_facts=any_facts(), minute=st.sampled_from(["09:32", "09:40", "11:00"]))
def test_check_never_opens_a_position_and_any_critical_is_exit_4(day_facts: DayFacts, minute: str) -> None:
    decided = assess(day_facts, session=SESSION, now=ny(minute), actor=Actor.CHECK)
    assert not any(isinstance(a, act.ContinueEntry | act.FreshDay | act.NoTrade) for a in decided)
    assert (act.exit_code(decided) == 4) == any(isinstance(a, act.Critical) for a in decided)
    assert (
        assess(day_facts, session=SESSION, now=ny(minute), actor=Actor.CHECK) == decided
    )  # pure: same facts, same actions
    for a in decided:
        if isinstance(a, act.PlaceExits):  # exits only for a position that is there, sized to what filled
            assert a.quantity > 0 and a.credit > 0
            assert any(day_facts.held().values())


@settings(max_examples=300, deadline=None)
@given(day_facts=any_facts())
def test_a_rerun_never_sends_a_second_entry_while_one_is_known(day_facts: DayFacts) -> None:
    decided = assess(day_facts, session=SESSION, now=ny("09:32"), actor=Actor.RUN_TODAY, ladder=RULES)
    flows = [a for a in decided if isinstance(a, act.FreshDay | act.ContinueEntry)]
    assert len(flows) <= 1
    if any(isinstance(a, act.FreshDay) for a in decided):
        entry = day_facts.journal_entry
        assert day_facts.broker_entry is None and (entry is None or not entry.acknowledged_once)
    assert not (
        any(isinstance(a, act.NoTrade) for a in decided) and any(isinstance(a, act.PlaceExits) for a in decided)
    )


GONE = ("the position is gone", "today's entry filled but the position is gone", "the position of ")


def says_gone(decided: Sequence[act.Action]) -> bool:
    texts = [getattr(a, "message", "") for a in decided]
    return any(isinstance(t, str) and t.startswith(GONE) for t in texts)


def test_says_gone_recognises_each_verdict_that_a_position_is_gone() -> None:
    # the property below is only as good as these prefixes: each of assess's four "gone" verdicts, once
    flat = {"fills": ENTRY_FILLS, "positions": FLAT}
    exits = (Role.TAKE_PROFIT, Role.STOP, Role.TIME_EXIT)
    cancelled = tuple(broker(r, "Cancelled") for r in exits)
    working = tuple(broker(r, "Submitted") for r in exits)
    rerun = facts(trade(), at_broker=(broker(Role.ENTRY, "Filled", filled=1),), **flat)
    by_hand = facts(trade(), at_broker=(broker(Role.ENTRY, "Filled", filled=1), *cancelled), **flat)
    exits_left = facts(trade(), at_broker=(broker(Role.ENTRY, "Filled", filled=1), *working), **flat)
    earlier = facts(
        trade(day=DAY - timedelta(days=1)), orders=(journaled(Role.ENTRY, day=DAY - timedelta(days=1)),), positions=FLAT
    )
    assert says_gone(assess(rerun, session=SESSION, now=ny("09:32"), actor=Actor.RUN_TODAY, ladder=RULES))
    assert says_gone(assess(by_hand, session=SESSION, now=ny("10:00"), actor=Actor.CHECK))
    assert says_gone(assess(exits_left, session=SESSION, now=ny("10:00"), actor=Actor.CHECK))
    assert says_gone(assess(earlier, session=SESSION, now=ny("10:00"), actor=Actor.CHECK))


@settings(max_examples=400, deadline=None)
@given(
    day_facts=any_facts(),
    actor=st.sampled_from([Actor.CHECK, Actor.RUN_TODAY]),
    minute=st.sampled_from(["09:32", "09:40", "11:00"]),
)
def test_no_position_is_called_gone_unless_the_facts_say_it_is_unseen(
    day_facts: DayFacts, actor: Actor, minute: str
) -> None:
    # gathering reads the broker again while `position_unseen` holds (runner/gather.py): every verdict that the
    # position is gone must come from facts that would have been read again first
    decided = assess(day_facts, session=SESSION, now=ny(minute), actor=actor, ladder=RULES)
    if says_gone(decided):
        assert day_facts.position_unseen()


@pytest.mark.parametrize(
    ("name", "day_facts", "unseen"),
    [
        ("filled, legs held", facts(trade(), at_broker=(broker(Role.ENTRY, "Filled", filled=1),)), False),
        (
            "filled at the broker, journal still pending, flat",
            facts(trade(TradeStatus.PENDING), at_broker=(broker(Role.ENTRY, "Filled", filled=1),), positions=FLAT),
            True,
        ),
        (
            "open in the journal, flat",
            facts(trade(), orders=(journaled(Role.ENTRY),), fills=ENTRY_FILLS, positions=FLAT),
            True,
        ),
        (
            "flat, positions not read",
            facts(trade(), orders=(journaled(Role.ENTRY),), fills=ENTRY_FILLS, positions=None),
            False,
        ),
        ("open, flat, no legs known", facts(trade(), fills=ENTRY_FILLS, positions=FLAT), False),
        ("nothing filled, flat", facts(trade(TradeStatus.PENDING), positions=FLAT), False),
        (
            "closed by an exit's fills, flat",
            facts(trade(), orders=(journaled(Role.ENTRY),), fills=(*ENTRY_FILLS, *TP_FILLS), positions=FLAT),
            False,
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_position_unseen(name: str, day_facts: DayFacts, unseen: bool) -> None:
    assert day_facts.position_unseen() is unseen


# -- two installations on one account ---------------------------------------------------------------------------
def test_rival_entries_are_the_other_installations_live_entries_of_the_day() -> None:
    mine = broker(Role.ENTRY, "Submitted", order_ref=refs.order_ref(DAY, "paper", Role.ENTRY, installation="aaaaaa"))
    rival = broker(Role.ENTRY, "Submitted", order_ref=refs.order_ref(DAY, "paper", Role.ENTRY, installation="bbbbbb"))
    gone = broker(Role.ENTRY, "Cancelled", order_ref=refs.order_ref(DAY, "paper", Role.ENTRY, installation="cccccc"))
    filled = broker(
        Role.ENTRY, "Filled", filled=1, order_ref=refs.order_ref(DAY, "paper", Role.ENTRY, installation="dddddd")
    )
    their_exit = broker(
        Role.STOP, "Submitted", order_ref=refs.order_ref(DAY, "paper", Role.STOP, installation="bbbbbb")
    )
    assert rival_entries([mine, rival, gone, filled, their_exit], mine.order_ref) == [rival, filled]


@pytest.mark.parametrize(
    ("perms", "winner"),
    [
        ((101, 205), "aaaaaa"),  # accepted first continues
        ((305, 205), "bbbbbb"),
        ((0, 205), "bbbbbb"),  # no permId yet: it comes after
        ((0, 0), "aaaaaa"),  # neither accepted: the installation id decides, the same for both
    ],
)
def test_the_entry_ib_accepted_first_continues_the_same_for_both_installations(
    perms: tuple[int, int], winner: str
) -> None:
    a = broker(
        Role.ENTRY,
        "Submitted",
        perm_id=perms[0],
        order_ref=refs.order_ref(DAY, "paper", Role.ENTRY, installation="aaaaaa"),
    )
    b = broker(
        Role.ENTRY,
        "Submitted",
        perm_id=perms[1],
        order_ref=refs.order_ref(DAY, "paper", Role.ENTRY, installation="bbbbbb"),
    )
    assert refs.installation_of(entry_that_continues([a, b]).order_ref) == winner
    assert entry_that_continues([b, a]) == entry_that_continues([a, b])  # whoever asks


def test_orders_are_named_for_their_installation_and_parsed_back() -> None:
    ref = refs.order_ref(DAY, "paper", Role.STOP, 2, installation="ab12cd")
    assert ref == "icbot:2026-11-24:paper:stop:2/ab12cd" and ref.startswith(refs.day_prefix(DAY, "paper"))
    assert (refs.role_of(ref), refs.attempt_of(ref), refs.installation_of(ref)) == (Role.STOP, 2, "ab12cd")
    assert refs.oca_group(DAY, "paper", installation="ab12cd") != refs.oca_group(DAY, "paper", installation="ef34ab")
    assert refs.installation_of("icbot:2026-11-24:paper:entry") == ""  # written before installations had names
