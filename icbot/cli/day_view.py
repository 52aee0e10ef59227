"""Drawing one trading day (icbot.core.day_view.StatusView) for a terminal: `icbot status`, and `icbot demo`'s
summary. At most 80 columns, readable without colour: every state is a mark and a word, colour only repeats it.

Pure: builds rich renderables from the view; the caller prints them (with colour, or plain when NO_COLOR is set
or stdout is not a terminal — rich drops the styles then).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from icbot.clock import NEW_YORK
from icbot.core.day_view import ExitLine, StatusView
from icbot.core.journal import OrderRecord

WIDTH = 80

_STATE_STYLE = {
    "ok": "green",
    "start": "yellow",
    "fail": "bold red",
    "crashed": "bold red",
    "warn": "yellow",
    "skip": "dim",
    "info": "",
    "none": "dim",
}


def _ny(at: datetime | None, fmt: str = "%H:%M:%S") -> str:
    return "" if at is None else at.astimezone(NEW_YORK).strftime(fmt)


def _when(at: datetime | None, today: date) -> str:
    """HH:MM:SS for today (New York), else the date too."""
    if at is None:
        return ""
    ny = at.astimezone(NEW_YORK)
    return f"{ny:%H:%M:%S}" if ny.date() == today else f"{ny:%Y-%m-%d %H:%M}"


def _money(value: float | None, fmt: str = "{:.2f}") -> str:
    return "" if value is None else fmt.format(float(value))


def _signed_dollars(value: float) -> str:
    return f"${value:+,.2f}"


def render_status(view: StatusView) -> RenderableType:
    """The whole one-glance screen."""
    parts: list[RenderableType] = [_header(view), _verdict(view)]
    if view.session is not None or any(p.status is not None for p in view.phases):
        parts += [Text(""), phases_table(view)]  # a day without a session and without events has no phases to show
    parts += [Text(""), *_trade(view)]
    exits = _exits(view)
    if exits:
        parts += [Text(""), *exits]
    parts += [Text(""), *_footer(view)]
    return Group(*parts)


def _header(view: StatusView) -> Text:
    text = Text()
    text.append("icbot status", style="bold")
    if view.date == view.now.date():
        text.append(f"  {view.date:%a %Y-%m-%d}  {view.now:%H:%M:%S} ET  {view.mode}")
    else:  # another day from the journal: say when "now" is
        text.append(f"  {view.date:%a %Y-%m-%d} (now {view.now:%Y-%m-%d %H:%M} ET)  {view.mode}")
    if view.account:
        text.append(f"  account {view.account}")
    return text


def _verdict(view: StatusView) -> RenderableType:
    lines: list[RenderableType] = []
    if view.risk:
        for reason in view.risk:
            lines.append(Text(f"❌ RISK: {reason}", style="bold red"))
    else:
        lines.append(Text("✅ no risk seen" + ("" if view.broker == "ok" else " (journal only)"), style="green"))
    if view.halt is not None:
        h = view.halt
        lines.append(
            Text(
                f"⛔ HALTED since {_when(h.at, view.now.date())} ET by {h.by}: {h.reason or '(no reason)'}",
                style="bold red",
            )
        )
    else:
        lines.append(Text("halted: no"))
    return Group(*lines)


def phases_table(view: StatusView) -> Table:
    """The user's phases in order, each with its mark, New York time and what happened."""
    table = Table(title="Phases", title_justify="left", box=None, pad_edge=False, show_header=False, expand=False)
    table.add_column("mark", width=2, no_wrap=True)
    table.add_column("phase", width=10, no_wrap=True)
    table.add_column("ET", width=8, no_wrap=True)
    table.add_column("what happened", no_wrap=True, overflow="ellipsis", max_width=WIDTH - 26)
    session = view.session
    for p in view.phases:
        style = _STATE_STYLE.get(p.state, "")
        message = p.message
        if p.status is None and p.phase == "wait_entry" and session is not None and view.now < session.entry_at:
            message = f"entry at {session.entry_at:%H:%M} ET"
        table.add_row(p.mark, Text(p.phase, style=style), _when(p.at, view.date), Text(message, style=style))
    return table


def _trade(view: StatusView) -> list[RenderableType]:
    t = view.trade
    if t is None:
        if view.session is None:
            why = f" ({view.holiday})" if view.holiday else ""
            return [Text(f"{view.date:%a %Y-%m-%d}: no session{why}, no trade", style="bold")]
        return [Text("Trade: none recorded for this day", style="bold")]
    title = Text("Trade: ", style="bold")
    title.append(str(t.status), style="bold")
    if t.experiment:
        title.append(" (experiment: nothing transmitted)")
    if t.contracts:
        title.append(f"  {t.contracts} contract{'s' if t.contracts != 1 else ''}")
        if t.open_contracts and t.open_contracts != t.contracts:
            title.append(f", {t.open_contracts:g} open")
    lines: list[RenderableType] = [title]
    if t.strikes is not None:
        lp, sp, sc, lc = t.strikes
        row = f"  strikes  {lp:g}/{sp:g}P  {sc:g}/{lc:g}C"
        if t.put_delta is not None or t.call_delta is not None:
            row += f"   short deltas {_money(t.put_delta, '{:.1f}')} / {_money(t.call_delta, '{:.1f}')}"
        lines.append(Text(row))
    money = []
    if t.credit is not None:
        money.append(f"credit {t.credit:.2f} (from the legs)")
    if t.pnl is not None:
        pnl = f"P/L {_signed_dollars(t.pnl)} {t.pnl_kind}"
        if t.pnl_kind == "unrealised" and t.close_debit is not None:
            pnl += f" (mid to close {t.close_debit:.2f})"
        money.append(pnl)
    elif t.status == "open":
        money.append("P/L: needs the gateway's quotes")
    if money:
        lines.append(Text("  " + "   ".join(money)))
    if t.exit_reason or (t.close_debit is not None and t.pnl_kind == "realised"):
        lines.append(
            Text(f"  exit     {t.exit_reason or '?'}" + (f", debit {t.close_debit:.2f}" if t.close_debit else ""))
        )
    if t.no_trade_reason:
        lines.append(Text(f"  no trade: {t.no_trade_reason}", overflow="fold"))
    if t.entry is not None and t.entry.protects:
        e = t.entry
        lines.append(
            Text(
                f"  entry    {e.order_type} {_money(e.limit_price)} {e.status}, "
                f"{e.quantity - e.remaining:g}/{e.quantity:g} filled"
            )
        )
    if t.problem and t.status == "open":
        lines.append(Text(f"  last problem: {t.problem}", style="yellow", overflow="fold"))
    return lines


def _price(e: ExitLine) -> str:
    if e.order_type == "MKT":
        return f"from {datetime.fromisoformat(e.good_after).astimezone(NEW_YORK):%H:%M}" if e.good_after else "MKT"
    return _money(e.price)


def _exits(view: StatusView) -> list[RenderableType]:
    if not view.exits and view.cover is None:
        return []
    where = "at the broker" if view.broker == "ok" else "in the journal"
    groups = sorted({e.oca_group for e in view.exits if e.oca_group})
    title = Text(f"Exit orders {where}", style="bold")
    if groups:
        title.append(f"  OCA {', '.join(groups)}")
    lines: list[RenderableType] = [title]
    if view.exits:
        table = Table(box=None, pad_edge=False, show_header=False)
        for name in ("role", "type", "price", "status", "qty"):
            table.add_column(name, no_wrap=True, justify="right" if name in ("price", "qty") else "left")
        for e in view.exits:
            table.add_row(f"  {e.role}", e.order_type, _price(e), str(e.status), f"{e.remaining:g}")
        lines.append(table)
    else:
        lines.append(Text("  none working"))
    cover = view.cover
    if cover is not None:
        if cover.complete:
            lines.append(
                Text(f"  ✅ cover the {cover.open_quantity:g} open: take profit, stop and time exit", style="green")
            )
        else:
            lines.append(
                Text(
                    f"  ❌ do NOT cover the {cover.open_quantity:g} open: no {', '.join(cover.missing)}",
                    style="bold red",
                )
            )
    return lines


def _footer(view: StatusView) -> list[RenderableType]:
    today = view.now.date()
    lines: list[RenderableType] = []
    check = view.last_check
    if check is None:
        lines.append(Text("last check: none journaled"))
    else:
        result = "running" if check.finished_at is None else f"exit {check.exit_code}"
        summary = f" ({check.summary})" if check.summary else ""
        lines.append(
            Text(
                f"last check: {_when(check.started_at, today)} ET, {result}{summary}", overflow="ellipsis", no_wrap=True
            )
        )
    broker = "offline (journal only)" if view.broker == "offline" else view.broker
    lines.append(Text(f"broker: {broker}", style="" if view.broker in ("ok", "offline") else "yellow", overflow="fold"))
    if view.alerts:
        lines.append(Text("last alerts:"))
        for a in view.alerts:
            delivered = "" if a.delivered else " (not delivered)"
            lines.append(
                Text(f"  {_when(a.at, today)} {a.level:<7} {a.title}{delivered}", overflow="ellipsis", no_wrap=True)
            )
    lines.append(_next_line(view))
    for note in view.notes:
        lines.append(Text(f"note: {note}", style="dim", overflow="fold"))
    return lines


def _next_line(view: StatusView) -> Text:
    text = Text()
    if view.session is None:
        holiday = f" ({view.holiday})" if view.holiday else ""
        day = "today" if view.date == view.now.date() else f"{view.date:%a %Y-%m-%d}"
        text.append(f"{day}: no session{holiday}.  ")
    elif view.session.is_early_close:
        text.append(f"half day: closes {view.session.close:%H:%M} ET.  ")
    n = view.next_session
    if n is None:
        text.append("next entry: unknown")
        return text
    local = n.entry_local
    zone = local.tzname() or "local"
    shift = (local.date() - n.entry_ny.date()).days
    text.append(f"next entry: {n.entry_ny:%a %Y-%m-%d %H:%M} ET = {local:%H:%M} {zone}", style="bold")
    if shift:
        text.append(f" ({shift:+d}d)")
    if n.early_close:
        text.append(f", half day (closes {n.close_ny:%H:%M} ET)")
    return text


def orders_table(orders: Sequence[OrderRecord]) -> Table:
    """Every order of the day as journaled (the demo's detail): role, order, prices, status, fill."""
    table = Table(title="Orders", title_justify="left", box=None, pad_edge=False)
    for col in ("role", "order", "limit", "stop", "from", "status", "filled"):
        table.add_column(col, no_wrap=True)
    for o in orders:
        table.add_row(
            str(o.role),
            f"{o.action} {o.quantity:g} {o.order_type}",
            _money(o.limit_price),
            _money(o.aux_price),
            _ny(datetime.fromisoformat(o.good_after), "%H:%M") if o.good_after else "",
            str(o.status),
            _money(o.filled, "{:g}"),
        )
    groups = sorted({o.oca_group for o in orders if o.oca_group})
    if groups:
        table.caption = "OCA group: " + ", ".join(groups)
    return table
