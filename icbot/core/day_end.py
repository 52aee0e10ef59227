"""When `check`'s quiet-day rounds are due, and the daily summary's text (pure; the rounds run in runner/day_end.py).

A missed morning is loud, and once after the time exit the account is swept.

`check` is fired every few minutes whether or not a trade is open. With nothing open it used to stop at once —
so a Mac asleep at 09:31, an unloaded agent or a machine in the wrong zone meant no trade and no alert, and an
icbot order or position left after the day's trade closed was never seen. Two rounds close that gap, each at most
once per session (journaled as a `reconcile` event whose data names the round):

* **missed run** — after the entry deadline, a session without a trade row for this mode means run-today never
  got to the entry window: one warning alert says so, with what to look at.
* **end of day** — after the time exit: the account is swept at the gateway for icbot orders still working
  (any date, any installation) and for today's legs still held (critical: nothing of icbot's should be left),
  and, unless `notify.daily_summary` is off, one alert summarises the day: the trade or why there was none,
  credit, exit, P/L and the month to date.

Deciding whether a round is due reads only the journal and the cached session table (`due_rounds`), so the idle
check stays cheap; the rounds themselves open the writing journal and, for the sweep, the gateway.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol

from icbot.core.journal import Event, EventStatus, Phase, Trade
from icbot.core.schedule import SessionTimes

MISSED_RUN = "missed_run"
END_OF_DAY = "end_of_day"
SETTLE_MARGIN = timedelta(minutes=5)  # after the time exit, give the exits' fills and a last check time to land


class Journal(Protocol):
    def trade(self, trade_date: date, mode: str) -> Trade | None: ...
    def events(self, trade_date: date, mode: str) -> list[Event]: ...


def rounds_done(events: list[Event]) -> set[str]:
    return {
        str((e.data or {}).get("round"))
        for e in events
        if e.phase == Phase.RECONCILE and e.status != EventStatus.WARN and (e.data or {}).get("round")
    }


def due_rounds(journal: Journal, mode: str, session: SessionTimes | None, now: datetime) -> list[str]:
    """The rounds due now for today's session (pure on what the journal says)."""
    if session is None or now < session.deadline_at:
        return []
    done = rounds_done(journal.events(session.date, mode))
    due = []
    if MISSED_RUN not in done and journal.trade(session.date, mode) is None:
        due.append(MISSED_RUN)
    if END_OF_DAY not in done and now >= session.time_exit_at + SETTLE_MARGIN:
        due.append(END_OF_DAY)
    return due


def day_summary(trade: Trade | None, month: list[Trade], *, session: SessionTimes) -> tuple[str, str]:
    """(title, body) of the daily summary alert, from the journal alone."""
    closed = [t for t in month if t.pnl is not None and t.trade_date <= session.date]
    mtd = sum(t.pnl or 0.0 for t in closed)
    month_text = f"month to date ${mtd:,.2f} over {len(closed)} trade(s)"
    if trade is None:
        return "day summary: no trade", f"no run-today reached the entry window; {month_text}"
    if trade.status == "no_trade":
        return "day summary: no trade", f"{trade.no_trade_reason or 'no trade'}; {month_text}"
    strikes = (
        f"{trade.long_put:g}/{trade.short_put:g}P {trade.short_call:g}/{trade.long_call:g}C"
        if None not in (trade.long_put, trade.short_put, trade.short_call, trade.long_call)
        else "condor"
    )
    credit = f"credit {trade.credit:.2f}" if trade.credit is not None else "credit unknown"
    if trade.status == "closed":
        pnl = f"P/L ${trade.pnl:,.2f}" if trade.pnl is not None else "P/L unknown (see the IB statement)"
        exit_text = f"closed by {trade.exit_reason or 'an unknown exit'}"
        if trade.exit_debit is not None:
            exit_text += f" at {trade.exit_debit:.2f}"
        return f"day summary: {pnl}", f"{strikes} x{trade.quantity or 0}, {credit}, {exit_text}; {month_text}"
    return f"day summary: trade {trade.status}", f"{strikes} x{trade.quantity or 0}, {credit}; {month_text}"


def month_trades(all_trades: list[Trade], day: date) -> list[Trade]:
    return [t for t in all_trades if (t.trade_date.year, t.trade_date.month) == (day.year, day.month)]
