"""The status view as tables: phase marks, the risk verdict (exit 0 / 4), P/L and the --json object's shape.

Every row builds journal records (and, where the gateway answered, its orders and positions), calls the pure
`icbot.core.day_view.build_view`, and checks what the trader would see.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from icbot.core.day_view import (
    PHASES,
    BrokerDay,
    JournalDay,
    StatusView,
    build_view,
    combo_mid,
    mask_text,
    phase_lines,
    view_json,
)
from icbot.core.facts import ComboLeg, OrderState, Position
from icbot.core.journal import (
    Alert,
    AlertLevel,
    Event,
    EventStatus,
    ExitReason,
    Fill,
    Halt,
    HaltAction,
    Mode,
    OrderRecord,
    OrderStatus,
    Role,
    Run,
    Trade,
    TradeStatus,
)
from icbot.core.schedule import SessionTimes
from tests.core.day import DAY, SESSION, ny

INST = "abc123"
NEXT = replace(
    SESSION,
    date=date(2026, 11, 25),
    open=ny("09:30", date(2026, 11, 25)),
    close=ny("16:00", date(2026, 11, 25)),
    entry_at=ny("09:32", date(2026, 11, 25)),
    deadline_at=ny("09:33", date(2026, 11, 25)),
    time_exit_at=ny("11:30", date(2026, 11, 25)),
)
LEGS = (
    ComboLeg(101, "BUY", "P", 5900.0),
    ComboLeg(102, "SELL", "P", 5920.0),
    ComboLeg(103, "SELL", "C", 6060.0),
    ComboLeg(104, "BUY", "C", 6080.0),
)
EXIT_TYPES = {Role.TAKE_PROFIT: "LMT", Role.STOP: "STP", Role.TIME_EXIT: "MKT"}


def ref(role: Role) -> str:
    return f"icbot:{DAY}:paper:{role}/{INST}"


def trade(status: TradeStatus = TradeStatus.OPEN, quantity: int | None = 1, **kw: object) -> Trade:
    fields: dict[str, object] = {
        "id": 1,
        "trade_date": DAY,
        "mode": Mode.PAPER,
        "status": status,
        "experiment": False,
        "created_at": ny("09:31"),
        "updated_at": ny("09:33"),
        "long_put": 5900.0,
        "short_put": 5920.0,
        "short_call": 6060.0,
        "long_call": 6080.0,
        "put_delta": 15.1,
        "call_delta": 14.8,
        "quantity": quantity,
        "credit": 4.35,
        "entry_commission": 4.2,
    }
    fields.update(kw)
    return Trade(**fields)  # type: ignore[arg-type]


def record(role: Role, status: OrderStatus, quantity: float = 1, filled: float = 0, order_id: int = 1) -> OrderRecord:
    kind = "LMT" if role is Role.ENTRY else EXIT_TYPES.get(role, "MKT")
    return OrderRecord(
        id=order_id,
        trade_date=DAY,
        mode=Mode.PAPER,
        role=role,
        order_ref=ref(role),
        action="BUY" if role is Role.ENTRY else "SELL",
        order_type=kind,
        quantity=quantity,
        legs=LEGS,
        status=status,
        filled=filled,
        intent_at=ny("09:32"),
        updated_at=ny("09:32"),
        transmitted=True,
        order_id=order_id,
        limit_price=-4.35 if role is Role.ENTRY else -3.25 if role is Role.TAKE_PROFIT else None,
        aux_price=-13.05 if role is Role.STOP else None,
        good_after="2026-11-24T11:30:00-05:00" if role is Role.TIME_EXIT else None,
        oca_group=None if role is Role.ENTRY else f"icbot-{DAY}-paper/{INST}",
    )


def state(role: Role, status: OrderStatus, quantity: float = 1, filled: float = 0, order_id: int = 1) -> OrderState:
    return OrderState(
        order_id=order_id,
        perm_id=1000 + order_id,
        order_ref=ref(role),
        action="BUY" if role is Role.ENTRY else "SELL",
        order_type="LMT" if role is Role.ENTRY else EXIT_TYPES.get(role, "MKT"),
        quantity=quantity,
        limit_price=None,
        aux_price=None,
        status=status,
        filled=filled,
        remaining=quantity - filled,
        avg_fill_price=None,
        oca_group=None if role is Role.ENTRY else f"icbot-{DAY}-paper/{INST}",
        last_error=None,
        legs=LEGS,
    )


def held(quantity: float = 1) -> tuple[Position, ...]:
    return tuple(
        Position(
            leg.con_id,
            f"SPXW {leg.right}{leg.strike:g}",
            "OPT",
            leg.right,
            leg.strike,
            DAY,
            quantity if leg.action == "BUY" else -quantity,
            100.0,
        )
        for leg in LEGS
    )


def exit_fill(role: Role, n: int = 4, quantity: float = 1) -> tuple[Fill, ...]:
    return tuple(
        Fill(i, f"x{role}{i}", DAY, Mode.PAPER, "BOT", quantity, 1.0, ny("10:00"), role, order_ref=ref(role))
        for i in range(n)
    )


WORKING = OrderStatus.SUBMITTED
ENTRY_FILLED = record(Role.ENTRY, OrderStatus.FILLED, filled=1, order_id=1)
ALL_EXITS = tuple(record(r, WORKING, order_id=i) for i, r in enumerate(EXIT_TYPES, start=2))


def view(
    journal: JournalDay,
    broker: BrokerDay | None = None,
    now: datetime | None = None,
    session: SessionTimes | None = SESSION,
) -> StatusView:
    return build_view(
        day=DAY,
        now=now or ny("10:00"),
        mode="paper",
        journal=journal,
        session=session,
        next_session=NEXT,
        local_zone=UTC,
        broker=broker,
        broker_state="offline" if broker is None else "ok",
        account="****567",
        hide={"DU1234567": "****567"},
    )


# -- phases ---------------------------------------------------------------------------------------------------
def ev(n: int, phase: str, status: str, message: str = "", run: int | None = 1) -> Event:
    return Event(n, run, DAY, Mode.PAPER, ny("09:31") + timedelta(seconds=n), phase, EventStatus(status), message)


PHASE_ROWS = [
    # events of one phase, the run's state  ->  state shown, message shown
    ([("ok", "connected")], "running", "ok", "connected"),
    ([("start", "connecting")], "running", "start", "connecting"),
    ([("start", "connecting")], "finished", "info", "connecting"),
    ([("start", "connecting")], "gone", "crashed", "connecting — its run ended without finishing (crashed?)"),
    ([("fail", "refused")], "finished", "fail", "refused"),
    ([("skip", "no VIX filter")], "finished", "skip", "no VIX filter"),
    ([("warn", "greeks late")], "running", "warn", "greeks late"),
    ([("warn", "greeks late"), ("ok", "reached")], "running", "ok", "reached"),
    ([("info", "a note")], "running", "info", "a note"),
    ([("ok", "placed"), ("info", "later note")], "finished", "ok", "placed"),
    ([("start", "BUY 1"), ("info", "re-price rung 2")], "running", "start", "re-price rung 2"),
    ([("start", "BUY 1"), ("info", "rung 2"), ("ok", "filled")], "running", "ok", "filled"),
]


@pytest.mark.parametrize(("events", "run", "shown", "message"), PHASE_ROWS)
def test_a_phase_is_marked_by_its_latest_event_that_is_not_a_note(events, run, shown, message):
    journal = [ev(i, "order", s, m) for i, (s, m) in enumerate(events, start=1)]
    lines = {p.phase: p for p in phase_lines(journal, {1: run})}
    assert lines["order"].state == shown
    assert lines["order"].message == message
    assert lines["order"].status == ([s for s, _ in events if s != "info"] or ["info"])[-1]


def test_every_user_phase_is_listed_in_order_reached_or_not_then_the_others():
    lines = phase_lines([ev(1, "touch", "warn", "short put touched"), ev(2, "connect", "ok", "x")], {1: "finished"})
    assert [p.phase for p in lines] == [*(str(p) for p in PHASES), "touch"]
    assert lines[0].state == "ok" and lines[1].state == "none" and lines[1].mark == " " and lines[1].at is None


def test_marks_are_the_documented_ones():
    marks = {s: phase_lines([ev(1, "fill", s, "")], {1: "running"})[6].mark for s in ("ok", "start", "fail", "skip")}
    assert marks == {"ok": "✅", "start": "⏳", "fail": "❌", "skip": "➖"}


def test_account_ids_are_masked_in_messages():
    lines = phase_lines([ev(1, "connect", "ok", "connected, account DU1234567")], {1: "finished"}, {})
    assert lines[0].message == "connected, account ******567"
    assert mask_text("U7654321 and DU1234567", {"DU1234567": "x"}) == "*****321 and x"


# -- the risk verdict -----------------------------------------------------------------------------------------
def journal(*orders: OrderRecord, t: Trade | None = None, fills: tuple[Fill, ...] = ()) -> JournalDay:
    return JournalDay(trade=t or trade(), orders=(ENTRY_FILLED, *orders), fills=fills)


def broker(
    *orders: OrderState, positions: tuple[Position, ...] = (), mids: dict[int, float] | None = None
) -> BrokerDay:
    return BrokerDay("DU1234567", (state(Role.ENTRY, OrderStatus.FILLED, filled=1), *orders), positions, mids or {})


EXITS_WORKING = tuple(state(r, WORKING, order_id=i) for i, r in enumerate(EXIT_TYPES, start=2))

RISK_ROWS = [
    # (case, journal, broker or None, now, risk expected, words in the reason)
    ("no trade at all", JournalDay(), None, "10:00", False, ""),
    ("open, three exits working (journal)", journal(*ALL_EXITS), None, "10:00", False, ""),
    (
        "open, the time exit missing (journal)",
        journal(*ALL_EXITS[:2]),
        None,
        "10:00",
        True,
        "position without complete exits: 1 open, take_profit, stop working for it, no time_exit",
    ),
    (
        "open, the stop being cancelled (journal)",
        journal(ALL_EXITS[0], replace(ALL_EXITS[1], status=OrderStatus.PENDING_CANCEL), ALL_EXITS[2]),
        None,
        "10:00",
        True,
        "no stop",
    ),
    (
        "two open, exits for one (journal)",
        journal(*ALL_EXITS, t=trade(quantity=2)),
        None,
        "10:00",
        True,
        "2 open",
    ),
    (
        "pending trade whose entry fill the run has not turned into exits yet",
        journal(t=trade(TradeStatus.PENDING)),
        None,
        "09:32",
        True,
        "no take_profit, stop, time_exit",
    ),
    (
        "closed by the take profit (journal)",
        journal(t=trade(TradeStatus.CLOSED, exit_reason=ExitReason.TAKE_PROFIT, pnl=101.3)),
        None,
        "10:00",
        False,
        "",
    ),
    (
        "open, three exits at the broker",
        journal(*ALL_EXITS),
        broker(*EXITS_WORKING, positions=held()),
        "10:00",
        False,
        "",
    ),
    (
        "the broker lost the stop the journal thinks works",
        journal(*ALL_EXITS),
        broker(
            EXITS_WORKING[0],
            replace(EXITS_WORKING[1], status=OrderStatus.CANCELLED),
            EXITS_WORKING[2],
            positions=held(),
        ),
        "10:00",
        True,
        "no stop",
    ),
    (
        "take profit filled at the broker, the journal not yet told: flat, nothing at risk",
        journal(*ALL_EXITS),
        broker(
            replace(EXITS_WORKING[0], status=OrderStatus.FILLED, filled=1, remaining=0),
            replace(EXITS_WORKING[1], status=OrderStatus.CANCELLED),
            replace(EXITS_WORKING[2], status=OrderStatus.CANCELLED),
        ),
        "10:00",
        False,
        "",
    ),
    (
        "position gone by hand while the exits still work",
        journal(*ALL_EXITS),
        broker(*EXITS_WORKING),
        "10:00",
        True,
        "the position is gone but 3 icbot exit(s) still work",
    ),
    (
        "an icbot-named order this journal never sent",
        journal(*ALL_EXITS),
        broker(*EXITS_WORKING, replace(EXITS_WORKING[1], order_ref=f"icbot:{DAY}:paper:stop/zzz999"), positions=held()),
        "10:00",
        True,
        "broker and journal disagree",
    ),
    (
        "the broker holds two condors, the journal one",
        journal(*ALL_EXITS),
        broker(*EXITS_WORKING, positions=held(2)),
        "10:00",
        True,
        "positions differ from icbot's",
    ),
    (
        "an orphan option position on a day without a trade",
        JournalDay(),
        BrokerDay("DU1234567", (), (Position(999, "SPXW  261124P05800000", "OPT", "P", 5800.0, DAY, 1, 50.0),)),
        "10:00",
        True,
        "no icbot trade",
    ),
    (
        "the entry still works after the deadline (broker)",
        JournalDay(trade=trade(TradeStatus.PENDING, quantity=None), orders=(record(Role.ENTRY, WORKING),)),
        BrokerDay("DU1234567", (state(Role.ENTRY, WORKING),), ()),
        "09:34",
        True,
        "still working after the 09:33 ET deadline",
    ),
    (
        "an open trade whose entry row still says Submitted (a fill that raced a re-price): not working",
        JournalDay(trade=trade(), orders=(record(Role.ENTRY, WORKING), *ALL_EXITS)),
        None,
        "09:40",
        False,
        "",
    ),
    (
        "the entry works before the deadline: the ladder, no risk",
        JournalDay(trade=trade(TradeStatus.PENDING, quantity=None), orders=(record(Role.ENTRY, WORKING),)),
        BrokerDay("DU1234567", (state(Role.ENTRY, WORKING),), ()),
        "09:32",
        False,
        "",
    ),
]


@pytest.mark.parametrize(
    ("case", "day", "gateway", "now", "risky", "words"), RISK_ROWS, ids=[row[0] for row in RISK_ROWS]
)
def test_the_risk_verdict(case, day, gateway, now, risky, words):
    v = view(day, gateway, ny(now))
    assert bool(v.risk) is risky, v.risk
    assert v.exit_code == (4 if risky else 0)
    if words:
        assert any(words in reason for reason in v.risk), v.risk


def test_cover_names_what_works_and_what_is_missing():
    v = view(journal(*ALL_EXITS[:2]))
    assert v.cover is not None and not v.cover.complete
    assert v.cover.covering == ("take_profit", "stop") and v.cover.missing == ("time_exit",)
    assert v.cover.source == "journal" and [e.role for e in v.exits] == ["take_profit", "stop"]


def test_an_exit_filled_in_part_leaves_the_rest_uncovered():
    fills = exit_fill(Role.TAKE_PROFIT)  # one of two condors closed by the take profit
    day = journal(*(replace(e, quantity=2) for e in ALL_EXITS), t=trade(quantity=2), fills=fills)
    v = view(day)
    assert v.cover is not None and v.cover.open_quantity == 1 and v.exit_code == 4


# -- P/L -----------------------------------------------------------------------------------------------------
def test_unrealised_pnl_from_the_legs_mids_minus_the_entry_commissions():
    mids = {101: 1.0, 102: 3.0, 103: 2.5, 104: 0.4}  # close: 3.0 + 2.5 − 1.0 − 0.4 = 4.10
    v = view(journal(*ALL_EXITS), broker(*EXITS_WORKING, positions=held(), mids=mids))
    assert combo_mid(LEGS, mids) == pytest.approx(4.10)
    assert v.trade is not None and v.trade.pnl_kind == "unrealised"
    assert v.trade.pnl == pytest.approx((4.35 - 4.10) * 100 - 4.2)
    assert v.trade.close_debit == pytest.approx(4.10)


def test_no_unrealised_pnl_without_every_mid_or_offline():
    partial = view(journal(*ALL_EXITS), broker(*EXITS_WORKING, positions=held(), mids={101: 1.0}))
    offline = view(journal(*ALL_EXITS))
    assert partial.trade is not None and partial.trade.pnl is None
    assert offline.trade is not None and offline.trade.pnl is None and offline.trade.pnl_kind is None


def test_realised_pnl_of_a_closed_trade():
    t = trade(TradeStatus.CLOSED, exit_reason=ExitReason.STOP, exit_debit=13.05, pnl=-878.4)
    v = view(JournalDay(trade=t))
    assert v.trade is not None and v.trade.pnl == -878.4 and v.trade.pnl_kind == "realised"
    assert v.trade.exit_reason == "stop" and v.cover is None


# -- the --json object ------------------------------------------------------------------------------------------
def test_json_has_the_documented_keys_and_types():
    halt = Halt(1, ny("09:50"), HaltAction.HALT, "manual halt", "kill")
    check = Run(7, "check", "paper", ny("09:55"), 4242, "mac", "0.1.0", DAY, ny("09:55"), 0, (), "")
    alert = Alert(3, ny("09:32"), AlertLevel.INFO, "iron condor filled", "", True)
    day = JournalDay(
        trade=trade(),
        events=(ev(1, "connect", "ok", "connected, account DU1234567"),),
        orders=(ENTRY_FILLED, *ALL_EXITS),
        alerts=(alert,),
        halt=halt,
        last_check=check,
        runs={1: "finished"},
    )
    out = json.loads(json.dumps(view_json(view(day, broker(*EXITS_WORKING, positions=held())))))
    required = {"date", "mode", "halted", "phases", "trade", "exits", "next_session", "broker"}
    assert required <= set(out)
    assert out["date"] == "2026-11-24" and out["mode"] == "paper" and out["broker"] == "ok"
    assert out["halted"] is True
    assert out["halt"] == {"since": "2026-11-24T09:50:00-05:00", "by": "kill", "reason": "manual halt"}
    assert [p["phase"] for p in out["phases"]][:3] == ["connect", "wait_entry", "underlying"]
    assert {"phase", "status", "at", "message"} <= set(out["phases"][0])
    assert out["phases"][0]["message"] == "connected, account ****567" and out["phases"][1]["status"] is None
    assert {"status", "strikes", "credit", "contracts", "pnl", "exit_reason"} <= set(out["trade"])
    assert out["trade"]["strikes"] == {"long_put": 5900, "short_put": 5920, "short_call": 6060, "long_call": 6080}
    assert [e["role"] for e in out["exits"]] == ["take_profit", "stop", "time_exit"]
    assert {"role", "order_type", "price", "status", "oca_group"} <= set(out["exits"][0])
    assert out["exits_cover"]["complete"] is True
    assert out["next_session"] == {
        "date": "2026-11-25",
        "entry_ny": "2026-11-25T09:32:00-05:00",
        "entry_local": "2026-11-25T14:32:00+00:00",
        "early_close": False,
        "close_ny": "2026-11-25T16:00:00-05:00",
    }
    assert out["last_check"]["exit_code"] == 0 and out["alerts"][0]["title"] == "iron condor filled"
    assert out["account"] == "****567" and out["exit_code"] == 0 and out["risk"] == []


def test_json_of_a_day_without_anything():
    out = view_json(view(JournalDay(), session=None))
    assert out["trade"] is None and out["exits"] == [] and out["session"] is None
    assert out["broker"] == "offline" and out["positions"] is None and out["halted"] is False
    assert all(p["status"] is None for p in out["phases"])


def test_a_session_past_its_deadline_without_a_trade_says_missed_run():
    assert any("missed run" in n for n in view(JournalDay(), now=ny("10:00")).notes)
    assert not any("missed run" in n for n in view(JournalDay(), now=ny("09:31")).notes)  # not yet
    assert not any("missed run" in n for n in view(journal(), now=ny("10:00")).notes)  # run-today was there
