"""From the journal to a `Report`: read the mode's trades and fills (read-only), pick the starting capital, compute.

The only part of `icbot report` that touches the journal; everything it computes is `icbot.core.metrics`. It reads
through `icbot.store.reader.JournalReader` (the standard library's sqlite3, read-only) and the whole-mode queries
of `icbot.store.bulk`: `Store` stands on sqlite-utils, whose import pulls in pandas — longer than the whole report
may take (docs/report.md, "Speed": ten years in under a second, start-up included).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from icbot.core.journal import Phase, Trade, TradeStatus
from icbot.core.metrics import Capital, Report, TradeRow, build_report, is_traded, trade_row

if TYPE_CHECKING:
    from icbot.store.reader import JournalReader

# The keys `report` reads from events' data (docs/report.md, "What the journal must hold").
NET_LIQUIDATION_KEY = "net_liquidation"  # any event on the day of the mode's first trade
SPX_AT_EXIT_KEY = "spx"  # the `closed` event of a trade


@dataclass(frozen=True, slots=True)
class CapitalChoice:
    """Where a starting capital may come from, strongest first (docs/report.md, "Capital")."""

    flag: float | None = None  # --starting-capital
    config: float | None = None  # report.starting_capital in config.yaml


def open_journal(path: Path) -> JournalReader | None:
    """The journal at `path`, read-only; None when nothing has been recorded there yet (StoreError, exit 2, when
    the file is not an icbot journal)."""
    from icbot.store.reader import JournalReader, NoJournal

    try:
        return JournalReader.open(path)
    except NoJournal:
        return None


def load_rows(
    store: JournalReader,
    *,
    mode: str,
    target_delta: float,
    start: date | None = None,
    end: date | None = None,
    legs: bool = True,
) -> tuple[list[TradeRow], list[Trade]]:
    """The mode's traded days up to `end` as report rows (those before `start` only move the capital), and all of
    the mode's journal rows. `legs` False leaves the legs' prices out (`with_legs` adds them to the rows shown):
    the terminal shows twenty trades, and ten years hold 20,000 executions.
    """
    from icbot.store.bulk import event_figures, fills_by_day, fills_without_commission, trades_of

    trades = trades_of(store, mode)
    traded = [t for t in trades if is_traded(t) and (end is None or t.trade_date <= end)]
    fills = fills_by_day(store, mode, start, end) if legs else {}
    unreported = fills_without_commission(store, mode, start, end)
    spx_exit = event_figures(store, mode, SPX_AT_EXIT_KEY, phase=Phase.CLOSED.value, start=start, end=end)
    rows = [
        trade_row(
            t,
            fills.get(t.trade_date, ()),
            target_delta=target_delta,
            spx_at_exit=_number(spx_exit.get(t.trade_date)),
            commission_missing=t.trade_date in unreported,
        )
        if start is None or t.trade_date >= start
        else trade_row(t, target_delta=target_delta)
        for t in traded
    ]
    return rows, trades


def with_legs(store: JournalReader, rows: Sequence[TradeRow], *, target_delta: float) -> list[TradeRow]:
    """`rows` again, each with its legs' executions (for the few a terminal shows)."""
    out = []
    for row in rows:
        trade = store.trade(row.trade_date, row.mode)
        if trade is None:  # cannot happen for a row read from this journal; keep the row as it is
            out.append(row)
            continue
        out.append(
            trade_row(
                trade, store.fills(row.trade_date, row.mode), target_delta=target_delta, spx_at_exit=row.spx_at_exit
            )
        )
    return out


def load_report(
    store: JournalReader,
    *,
    mode: str,
    target_delta: float,
    start: date | None = None,
    end: date | None = None,
    capital: CapitalChoice | None = None,
    legs: bool = True,
) -> Report:
    """The report of `mode` over [start, end] from the journal (`legs`: see `load_rows`)."""
    rows, trades = load_rows(store, mode=mode, target_delta=target_delta, start=start, end=end, legs=legs)
    no_trade = sum(
        1
        for t in trades
        if t.status is TradeStatus.NO_TRADE
        and (start is None or t.trade_date >= start)
        and (end is None or t.trade_date <= end)
    )
    first = next((t.trade_date for t in trades if is_traded(t)), None)
    return build_report(
        rows,
        mode=mode,
        target_delta=target_delta,
        start=start,
        end=end,
        capital=choose_capital(store, mode, first, capital or CapitalChoice()),
        no_trade_days=no_trade,
    )


def choose_capital(store: JournalReader, mode: str, first_trade: date | None, choice: CapitalChoice) -> Capital | None:
    """--starting-capital, else report.starting_capital, else the net liquidation journaled at the first trade."""
    if choice.flag is not None:
        return Capital(choice.flag, "--starting-capital")
    if choice.config is not None:
        return Capital(choice.config, "report.starting_capital in the configuration")
    if first_trade is None:
        return None
    from icbot.store.bulk import event_figures

    journaled = _number(
        event_figures(store, mode, NET_LIQUIDATION_KEY, start=first_trade, end=first_trade).get(first_trade)
    )
    if journaled is None or journaled <= 0:
        return None
    return Capital(journaled, f"net liquidation journaled on {first_trade.isoformat()}")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
