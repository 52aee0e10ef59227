"""`check` records the 1-minute bars a what-if replay needs (docs/whatif.md), after its live work and within a
request budget, so recording can never take a historical-data request the live trade needs.

What: the trade's four legs, the strikes a variant could move to (icbot.core.whatif.record_range), and the
underlying index, from the entry until the close. When: a contract is fetched once it has `CHUNK` minutes not
yet stored, or in the last `FINAL_WINDOW` before the close and after it (0DTE options expire at the close: what is
not fetched by then may be gone). How much: IB allows 60 historical requests in any 10 minutes; recording takes
at most `WINDOW_BUDGET` of them (counted from its own journaled `bars` events, so across check processes) and at
most `PER_CHECK` in one run; the rest is left to check's touch watch and experiments.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from icbot.broker.gateway import Gateway
from icbot.core.journal import EventStatus, Trade, selection_deltas
from icbot.core.whatif.bars import BARS_PHASE as PHASE
from icbot.core.whatif.bars import INDEX, BarRow, contract_name, is_complete, recording_due
from icbot.core.whatif.record_range import strikes_to_record
from icbot.core.whatif.variants import variant_from_mapping
from icbot.core.zones import NEW_YORK
from icbot.errors import IcbotError
from icbot.runner.context import RunContext
from icbot.runner.sessions import day_session
from icbot.store.bars import last_minutes, record_bars

log = logging.getLogger("icbot.recording")

CHUNK = timedelta(minutes=60)
FINAL_WINDOW = timedelta(minutes=20)
# After the close, what IB has not given within this is not coming (0DTE options can become unfetchable soon after
# 16:00): the day's recording ends there, so check stops connecting for it; the replay names what is missing.
GIVE_UP_AFTER_CLOSE = timedelta(hours=1)
WINDOW = timedelta(minutes=10)
WINDOW_BUDGET = 40  # of IB's 60 historical requests per 10 minutes
PER_CHECK = 20
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Recorded:
    requests: int
    rows: int
    complete: bool


def _requests_in_window(events: Sequence[Any], now: datetime) -> int:
    total = 0
    for e in events:
        if str(e.phase) == PHASE and e.at > now - WINDOW and isinstance(e.data, Mapping):
            total += int(e.data.get("requests", 0))
    return total


def widest_wing(ctx: RunContext) -> float:
    """The widest wing any configured variant uses (a wider wing needs strikes further out)."""
    widths = [ctx.config.strikes.wing_width]
    for name, body in ctx.config.whatif.variants.items():
        v = variant_from_mapping(name, body)
        if v.wing_width is not None:
            widths.append(v.wing_width)
    return max(widths)


async def record_day(ctx: RunContext, gw: Gateway, trade: Trade) -> Recorded:
    """Fetch what is due of `trade`'s day into the `bars` table; journal one `bars` event with the counts."""
    day = trade.trade_date
    day_ctx = ctx.for_date(day)
    events = ctx.store.events(day, ctx.mode)
    now = ctx.now()
    budget = min(PER_CHECK, WINDOW_BUDGET - _requests_in_window(events, now))
    if budget <= 0 or trade.entry_filled_at is None:
        return Recorded(0, 0, False)
    session = day_session(ctx.config, day)
    if session is None:
        return Recorded(0, 0, False)
    close = session.close
    wing = widest_wing(ctx)
    puts, calls = selection_deltas(events)
    listed = await gw.list_strikes(day)
    options = strikes_to_record(trade, puts, calls, listed, wing_width=wing)
    shorts = [k for k in (trade.short_put, trade.short_call) if k is not None]
    strikes = (trade.long_put, trade.short_put, trade.short_call, trade.long_call)
    legs = set(zip("PPCC", strikes, strict=True))
    order = sorted(options, key=lambda rk: (rk not in legs, min((abs(rk[1] - s) for s in shorts), default=0.0)))
    contracts: list[tuple[str, tuple[str, float] | None]] = [(INDEX, None)]
    contracts += [(contract_name(r, k), (r, k)) for r, k in order]
    last = {
        name: datetime.combine(day, time.fromisoformat(hhmm), NEW_YORK)
        for name, hhmm in last_minutes(ctx.store, day, ctx.mode).items()
    }
    first_start = trade.entry_filled_at.astimezone(NEW_YORK).replace(second=0, microsecond=0) - MINUTE
    end = min(now, close)
    final = now >= close - FINAL_WINDOW
    requests = rows = 0
    for name, option in contracts:
        start = max(first_start, last[name] + MINUTE) if name in last else first_start
        if end - start < MINUTE or (end - start < CHUNK and not final) or requests >= budget:
            continue
        requests += 1
        try:
            if option is None:
                bars = await gw.underlying_bars(start, end)
            else:
                bars = await gw.option_mid_bars(day, option[0], option[1], start, end)
        except IcbotError as exc:
            day_ctx.journal(PHASE, EventStatus.WARN, f"bars of {name} not recorded: {exc}", requests=requests)
            if now < close + GIVE_UP_AFTER_CLOSE:
                return Recorded(requests, rows, False)
            break  # an hour after the close a failing fetch ends the day's recording like a missing one
        got = [_row(name, b, index=option is None) for b in bars]
        rows += record_bars(ctx.store, day, ctx.mode, got)
        if bars:
            last[name] = max(last.get(name, first_start), _minute_of(bars[-1][0]))
    pending = sum(1 for name, _ in contracts if last.get(name, first_start) < close - MINUTE)
    given_up = pending > 0 and now >= close + GIVE_UP_AFTER_CLOSE
    complete = (pending == 0 and now >= close) or given_up
    status = EventStatus.OK if complete else EventStatus.INFO
    if given_up:
        words = f"ended an hour after the close with {pending} of {len(contracts)} contracts incomplete"
    else:
        words = "complete" if complete else f"{pending} of {len(contracts)} contracts still to fetch"
    day_ctx.journal(
        PHASE,
        status,
        f"recorded {rows} bars in {requests} historical requests; {words}",
        requests=requests,
        rows=rows,
        contracts=len(contracts),
        pending=pending,
    )
    return Recorded(requests, rows, complete)


def _minute_of(t: datetime) -> datetime:
    return t.astimezone(NEW_YORK).replace(second=0, microsecond=0)


def _row(name: str, bar: tuple[datetime, float, float, float, float], *, index: bool) -> BarRow:
    t, _o, high, low, close = bar
    minute = t.astimezone(NEW_YORK).strftime("%H:%M")
    if index:
        return BarRow(name, minute, close, high=high, low=low)
    return BarRow(name, minute, close)


def days_to_record(ctx: RunContext) -> list[Trade]:
    """Today's trade, when its bars are still due and recording is on (an expired option's bars may be gone later)."""
    if not ctx.config.whatif.record:
        return []
    trade = ctx.store.trade(ctx.trade_date, ctx.mode)
    if recording_due(trade, is_complete(ctx.store.events(ctx.trade_date, ctx.mode))):
        assert trade is not None
        return [trade]
    return []


async def record_after_check(ctx: RunContext, gw: Gateway) -> None:
    """The hook at the end of `check`: never raises, never changes check's exit code.

    The bars are evidence for what-if replays, never part of the trade: a fault in recording them — the
    gateway's, or a defect here — must not turn a check that reconciled the money into a crash and an urgent
    alert. Any other exception is journaled with its type and logged with its traceback, then the next run
    tries again (the recording is idempotent).
    """
    for trade in days_to_record(ctx):
        try:
            await record_day(ctx, gw, trade)
        except IcbotError as exc:
            ctx.for_date(trade.trade_date).journal(PHASE, EventStatus.WARN, f"bars not recorded: {exc}")
        except Exception as exc:  # a defect in the recording: reported, and kept away from check's outcome
            log.exception("recording the bars of %s failed", trade.trade_date)
            ctx.for_date(trade.trade_date).journal(
                PHASE, EventStatus.WARN, f"bars not recorded: {type(exc).__name__}: {exc} (a defect; see the log)"
            )
