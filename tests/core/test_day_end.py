"""When check's quiet-day rounds are due, and what the daily summary says (pure tables)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from icbot.core.day_end import END_OF_DAY, MISSED_RUN, day_summary, due_rounds, month_trades
from icbot.core.journal import Event, EventStatus, Mode, Phase, Trade, TradeStatus
from icbot.core.schedule import SessionTimes
from icbot.core.zones import NEW_YORK

DAY = date(2026, 11, 24)
T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def ny(hhmm: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(2026, 11, 24, h, m, tzinfo=NEW_YORK)


SESSION = SessionTimes(DAY, ny("09:30"), ny("16:00"), False, ny("09:32"), ny("09:33"), ny("11:30"))


def trade(status: TradeStatus, day: date = DAY, **kw: Any) -> Trade:
    return Trade(
        id=1, trade_date=day, mode=Mode.PAPER, status=status, experiment=False, created_at=T0, updated_at=T0, **kw
    )


def event(round_: str, status: EventStatus = EventStatus.OK) -> Event:
    return Event(1, 1, DAY, Mode.PAPER, T0, Phase.RECONCILE, status, "", {"round": round_})


class Journal:
    def __init__(self, t: Trade | None, events: list[Event]) -> None:
        self.t, self.e = t, events

    def trade(self, trade_date: date, mode: str) -> Trade | None:
        return self.t

    def events(self, trade_date: date, mode: str) -> list[Event]:
        return self.e


@pytest.mark.parametrize(
    ("t", "events", "now", "due"),
    [
        (None, [], ny("09:32"), []),  # before the deadline nothing can be missed yet
        (None, [], ny("09:40"), [MISSED_RUN]),  # a session without a trade row after the deadline
        (None, [event(MISSED_RUN, EventStatus.FAIL)], ny("10:00"), []),  # said once
        (None, [event(MISSED_RUN, EventStatus.FAIL)], ny("11:40"), [END_OF_DAY]),
        (trade(TradeStatus.CLOSED), [], ny("11:34"), []),  # the exits' last fills get five minutes
        (trade(TradeStatus.CLOSED), [], ny("11:36"), [END_OF_DAY]),
        (trade(TradeStatus.NO_TRADE), [event(END_OF_DAY)], ny("15:00"), []),  # once per session
        (trade(TradeStatus.CLOSED), [event(END_OF_DAY, EventStatus.WARN)], ny("12:00"), [END_OF_DAY]),  # retried
    ],
)
def test_rounds_are_due_once_per_session_at_their_time(t, events, now, due) -> None:
    assert due_rounds(Journal(t, events), "paper", SESSION, now) == due


def test_no_rounds_on_a_day_without_a_session() -> None:
    assert due_rounds(Journal(None, []), "paper", None, ny("12:00")) == []


def test_the_daily_summary_names_the_trade_and_the_month() -> None:
    closed = trade(
        TradeStatus.CLOSED,
        long_put=5900.0,
        short_put=5920.0,
        short_call=6060.0,
        long_call=6080.0,
        quantity=1,
        credit=4.0,
        exit_reason="take_profit",
        exit_debit=3.0,
        pnl=91.6,
    )
    earlier = trade(TradeStatus.CLOSED, day=date(2026, 11, 3), pnl=-223.4)
    other_month = trade(TradeStatus.CLOSED, day=date(2026, 10, 30), pnl=1000.0)
    month = month_trades([other_month, earlier, closed], DAY)
    title, body = day_summary(closed, month, session=SESSION)
    assert title == "day summary: P/L $91.60"
    assert body == (
        "5900/5920P 6060/6080C x1, credit 4.00, closed by take_profit at 3.00; month to date $-131.80 over 2 trade(s)"
    )
    title, body = day_summary(
        trade(TradeStatus.NO_TRADE, no_trade_reason="VIX 31.20 > max_vix 30"), month, session=SESSION
    )
    assert title == "day summary: no trade" and body.startswith("VIX 31.20 > max_vix 30;")
    assert day_summary(None, [], session=SESSION)[1].startswith("no run-today reached the entry window")
