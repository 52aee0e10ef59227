"""Which trades `icbot check` has to look at — answered from the journal alone, cheaply.

`check` is fired every few minutes all day, and almost always there is nothing open: it must learn that without
paying for the broker (ib_async) or the writing store (sqlite-utils, and pandas under it). So this module needs
only a journal that can list trades and entry orders (the stdlib `icbot.store.reader.JournalReader` or `Store`).
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from icbot.core.journal import OrderRecord, Trade
from icbot.core.reconcile import open_trades


class Journal(Protocol):
    def trades(self, mode: str) -> list[Trade]: ...
    def entry_order(self, trade_date: date, mode: str) -> OrderRecord | None: ...


def trades_to_check(journal: Journal, mode: str) -> list[Trade]:
    """Trades of this mode that may carry risk (`icbot.core.reconcile.open_trades`): open ones and pending ones
    whose entry order was transmitted."""
    trades = journal.trades(mode)
    sent = []
    for t in trades:
        entry = journal.entry_order(t.trade_date, mode)
        if entry is not None and entry.transmitted:
            sent.append(t.trade_date)
    return open_trades(trades, sent)
