"""Rich rendering of one trading day from the journal: phases, strikes, credit, exits, P/L, alerts.

Used by `icbot demo` (and meant for `icbot status`). Pure: builds renderables from store rows; the caller prints.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from icbot.clock import NEW_YORK
from icbot.store.repo import Store

PHASES = (
    "connect",
    "wait_entry",
    "underlying",
    "filter",
    "select",
    "order",
    "fill",
    "exits",
    "done",
    "reconcile",
    "closed",
)
MARK = {"ok": "✅", "fail": "❌", "warn": "⚠️", "skip": "➖", "start": "⏳", "info": "·"}


def _ny(text: str | None) -> str:
    if not text:
        return ""
    return datetime.fromisoformat(text).astimezone(NEW_YORK).strftime("%H:%M:%S")


def _money(value: Any, fmt: str = "{:.2f}") -> str:
    return "" if value is None else fmt.format(float(value))


def phase_table(events: list[dict[str, Any]]) -> Table:
    """The last status of each phase, in the user's order, with the time it was reached and its message."""
    last: dict[str, dict[str, Any]] = {}
    for event in events:
        if event["status"] != "info" or event["phase"] not in last:
            last[event["phase"]] = event
    table = Table(title="Phases", show_lines=False)
    for col in ("", "phase", "ET", "what happened"):
        table.add_column(col)
    for phase in [*PHASES, *(p for p in last if p not in PHASES)]:
        e = last.get(phase)
        if e is None:
            continue
        table.add_row(MARK.get(e["status"], e["status"]), phase, _ny(e["at"]), e["message"])
    return table


def trade_table(trade: dict[str, Any]) -> Table:
    table = Table(title=f"Trade {trade['trade_date']} ({trade['mode']})", show_header=False)
    table.add_column("what")
    table.add_column("value")
    rows = [
        ("status", trade.get("status")),
        (
            "strikes",
            f"{trade.get('long_put'):g} / {trade.get('short_put'):g} P   "
            f"{trade.get('short_call'):g} / {trade.get('long_call'):g} C"
            if trade.get("short_put")
            else "",
        ),
        (
            "short deltas",
            f"put {_money(trade.get('put_delta'), '{:.1f}')}, call {_money(trade.get('call_delta'), '{:.1f}')}"
            if trade.get("put_delta") is not None
            else "",
        ),
        ("SPX at entry", _money(trade.get("spx_at_entry"))),
        (
            "mid / natural at 09:32",
            f"{_money(trade.get('mid_at_decision'))} / {_money(trade.get('natural_at_decision'))}",
        ),
        ("ladder rungs", trade.get("ladder_attempts")),
        ("seconds to fill", _money(trade.get("seconds_to_fill"), "{:.1f}")),
        ("contracts", trade.get("quantity")),
        ("credit (from legs)", _money(trade.get("credit"))),
        ("exit reason", trade.get("exit_reason")),
        ("exit debit (from legs)", _money(trade.get("exit_debit"))),
        ("commissions", _money((trade.get("entry_commission") or 0) + (trade.get("exit_commission") or 0), "${:.2f}")),
        ("minutes in trade", trade.get("minutes_in_trade")),
        ("P/L", _money(trade.get("pnl"), "${:,.2f}")),
        ("no-trade reason", trade.get("no_trade_reason")),
    ]
    for key, value in rows:
        if value not in (None, "", " / "):
            table.add_row(key, str(value))
    return table


def orders_table(orders: list[dict[str, Any]]) -> Table:
    table = Table(title="Orders")
    for col in ("role", "order", "limit", "stop", "from", "status", "filled"):
        table.add_column(col, no_wrap=True)
    for o in orders:
        good_after = o.get("good_after")
        table.add_row(
            o["role"],
            f"{o['action']} {o['quantity']:g} {o['order_type']}",
            _money(o.get("limit_price")),
            _money(o.get("aux_price")),
            _ny(good_after)[:5] if good_after else "",
            o.get("status") or "",
            _money(o.get("filled"), "{:g}"),
        )
    if orders and any(o.get("oca_group") for o in orders):
        groups = sorted({o["oca_group"] for o in orders if o.get("oca_group")})
        table.caption = "OCA group: " + ", ".join(groups)
    return table


def alerts_table(alerts: list[dict[str, Any]]) -> Table:
    table = Table(title="Alerts")
    for col in ("ET", "level", "title", "delivered"):
        table.add_column(col)
    for a in alerts:
        table.add_row(_ny(a["at"]), a["level"], a["title"], "yes" if a["delivered"] else f"no ({a.get('error') or ''})")
    return table


def day_view(store: Store, day: date, mode: str) -> RenderableType:
    trade = store.trade(day, mode)
    parts: list[RenderableType] = [phase_table(store.events(day, mode))]
    if trade:
        parts.append(trade_table(trade))
    orders = store.orders(day, mode)
    if orders:
        parts.append(orders_table(orders))
    alerts = list(reversed(store.alerts(limit=20)))
    if alerts:
        parts.append(alerts_table(alerts))
    if not trade:
        parts.append(Text("no trade recorded for this day"))
    return Group(*parts)
