"""How recorded bars are named and read back, and whether a day's recording is due (docs/whatif.md, "What is
recorded"). Light on purpose: the journal reader (`icbot status`, `icbot report`) and every quiet `icbot check`
import it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from icbot.core.journal import Event, EventStatus, Trade, TradeStatus
from icbot.core.zones import NEW_YORK

MINUTE = timedelta(minutes=1)
INDEX = "SPX"  # the contract name of the underlying's bars (the configured product's index, SPX or XSP)
BARS_PHASE = "bars"  # the events `check` journals while recording; status ok = the day's bars are complete


def recording_due(trade: Trade | None, complete: bool) -> bool:
    """A day still to record: its trade filled (open or closed) and its bars not yet complete."""
    return (
        trade is not None
        and trade.entry_filled_at is not None
        and trade.status in (TradeStatus.OPEN, TradeStatus.CLOSED)
        and not complete
    )


def is_complete(events: Iterable[Event]) -> bool:
    """Whether the day's recording journaled its last, complete round."""
    return any(str(e.phase) == BARS_PHASE and e.status is EventStatus.OK for e in events)


# -- a recorded day ------------------------------------------------------------------------------------------------
def contract_name(right: str, strike: float) -> str:
    """The bars table's name of an option: `P5900`, `C6025`, `P5912.5`."""
    return f"{right}{strike:g}"


@dataclass(frozen=True, slots=True)
class BarRow:
    """One stored 1-minute bar (the `bars` table): `minute` is the bar's start, `HH:MM` New York time.

    Options carry `mid` (IB's MIDPOINT close); `bid`/`ask` stay None unless a source gives them. The index
    carries its TRADES close as `mid` and the minute's `high`/`low` (what a touch is judged from)."""

    contract: str  # "SPX" (the index), "P5900", "C6025"
    minute: str
    mid: float | None
    bid: float | None = None
    ask: float | None = None
    high: float | None = None
    low: float | None = None


def parse_contract(name: str) -> tuple[str, float] | None:
    """(right, strike) of an option's bars name, None for the index."""
    if name[:1] in ("P", "C"):
        try:
            return name[0], float(name[1:])
        except ValueError:
            return None
    return None


def day_bars(trade_date: date, rows: Iterable[BarRow]) -> DayBars:
    """The stored rows of one day as the replay reads them (keyed by the instant each bar closes)."""
    options: dict[tuple[str, float], dict[datetime, float]] = {}
    index: dict[datetime, tuple[float, float, float]] = {}
    for row in rows:
        at = bar_close_instant(trade_date, row.minute)
        key = parse_contract(row.contract)
        if key is not None and row.mid is not None:
            options.setdefault(key, {})[at] = row.mid
        elif key is None and row.mid is not None:
            low = row.low if row.low is not None else row.mid
            high = row.high if row.high is not None else row.mid
            index[at] = (low, high, row.mid)
    return DayBars(options, index)


@dataclass(frozen=True, slots=True)
class DayBars:
    """One day's recorded 1-minute bars: instant of the bar's close (UTC) → mid; the index's (low, high, close)."""

    options: Mapping[tuple[str, float], Mapping[datetime, float]]
    index: Mapping[datetime, tuple[float, float, float]]


def bar_close_instant(trade_date: date, minute: str) -> datetime:
    """A bar stored as its start minute `HH:MM` (New York) closes one minute later: its close is that instant's
    price, so the walk sees a 11:29 bar at 11:30, when the 11:30 time exit would look at the market."""
    start = datetime.combine(trade_date, time.fromisoformat(minute), NEW_YORK)
    return start + MINUTE
