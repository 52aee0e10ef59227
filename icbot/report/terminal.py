"""The report in the terminal (rich): the summary, years × months, weekdays, exits and the trade log.

Pure: builds renderables from a `Report`; the caller prints them. Colour is rich's business: it leaves it out for
NO_COLOR and when the output is not a terminal, and every coloured figure also carries its sign.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.columns import Columns
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from icbot.core.metrics import PeriodStats, Report, TradeRow
from icbot.report import fmt
from icbot.report import summary as summary_mod

_STYLE = {1: "green", -1: "red", 0: ""}

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _pnl(value: float | None, *, cents: bool = True) -> Text:
    style = "" if value is None or value == 0 else ("green" if value > 0 else "red")
    return Text(fmt.money(value, cents=cents, sign=True), style=style)


def _pct_text(value: float | None) -> Text:
    style = "" if value is None or value == 0 else ("green" if value > 0 else "red")
    return Text(fmt.pct(value, sign=True), style=style)


def headline(report: Report) -> Text:
    return Text.assemble(("icbot report", "bold"), f" · {report.mode} · {summary_mod.period_text(report)}")


def summary(report: Report) -> RenderableType:
    """The summary block: trades, capital and execution side by side (they wrap on a narrow terminal), exits."""
    blocks = []
    for title, figures in summary_mod.sections(report):
        table = Table(
            title=title, title_justify="left", title_style="bold", show_header=False, box=None, pad_edge=False
        )
        table.add_column("what", style="dim", no_wrap=True)
        table.add_column("value", justify="right", no_wrap=True)
        for f in figures:
            table.add_row(f.label, Text(f.text, style=_STYLE[f.sign]))
        blocks.append(table)
    return Group(headline(report), Text(""), Columns(blocks, padding=(1, 4)), Text(""), exits_table(report))


def exits_table(report: Report) -> Table:
    table = Table(title="Exits by reason", title_justify="left", title_style="bold", box=None, pad_edge=False)
    table.add_column("reason")
    table.add_column("trades", justify="right")
    table.add_column("share", justify="right")
    table.add_column("P/L", justify="right")
    total = report.stats.trades
    for group, x in report.exit_reasons.items():
        if x.count == 0 and group in ("expired",):
            continue
        table.add_row(
            fmt.exit_label(group), str(x.count), fmt.pct(x.count / total * 100 if total else None, 0), _pnl(x.pnl)
        )
    return table


def _signed(value: float) -> Text:
    """Whole dollars without the $ sign (the column says P/L $), coloured: +2,043 / -603."""
    text = f"{value:+,.0f}" if round(value) else "0"
    return Text(text, style=_STYLE[0 if not round(value) else (1 if value > 0 else -1)])


def _year_cells(y: PeriodStats) -> list[str | Text]:
    return [
        _signed(y.stats.total_pnl),
        str(y.stats.trades),
        fmt.pct(y.stats.win_rate, 0),
        _pct_text(y.return_pct),
        f"{-y.max_drawdown:,.0f}" if y.max_drawdown else "0",
        fmt.pct(y.max_drawdown_pct),
    ]


_YEAR_COLUMNS = ("P/L $", "trades", "win", "return", "max DD $", "DD %")


def periods_table(report: Report) -> Table:
    """Years as rows, months as columns (P/L $), then the year's figures."""
    months = summary_mod.months_by_year(report)
    table = Table(
        title="By year and month (P/L $)", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, padding=0
    )
    table.add_column("year", no_wrap=True)
    for name in MONTHS:
        table.add_column(name, justify="right", no_wrap=True)
    for name in _YEAR_COLUMNS:
        table.add_column(name, justify="right", no_wrap=True, style="bold" if name == "P/L $" else "")
    for y in report.by_year:
        cells: list[str | Text] = [y.label]
        for m in range(1, 13):
            month = months.get(y.label, {}).get(m)
            cells.append(_signed(month.stats.total_pnl) if month else Text(""))
        table.add_row(*cells, *_year_cells(y))
    return table


def years_table(report: Report) -> Table:
    table = Table(title="By year", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("year")
    for name in _YEAR_COLUMNS:
        table.add_column(name, justify="right", no_wrap=True)
    for y in report.by_year:
        table.add_row(y.label, *_year_cells(y))
    return table


def months_table(report: Report, last: int = 12) -> Table:
    table = Table(title=f"By month (the last {last})", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("month")
    for name in ("P/L $", "trades", "win", "return", "max DD $"):
        table.add_column(name, justify="right", no_wrap=True)
    for p in report.by_month[-last:]:
        dd = f"{-p.max_drawdown:,.0f}" if p.max_drawdown else "0"
        table.add_row(
            p.label,
            _signed(p.stats.total_pnl),
            str(p.stats.trades),
            fmt.pct(p.stats.win_rate, 0),
            _pct_text(p.return_pct),
            dd,
        )
    return table


class PeriodsView:
    """By year and month: one grid when the terminal is wide enough, else a years table and the last months."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        grid = periods_table(self.report)
        if console.measure(grid, options=options.update_width(10_000)).minimum <= options.max_width:
            yield grid
        else:
            yield years_table(self.report)
            yield months_table(self.report)


def weekday_table(report: Report) -> Table:
    table = Table(title="By weekday", title_justify="left", title_style="bold")
    for name in ("day", "trades", "win %", "P/L", "P/L per trade"):
        table.add_column(name, justify="right" if name != "day" else "left")
    for p in report.by_weekday:
        if p.stats.trades == 0 and p.label in ("Sat", "Sun"):
            continue
        table.add_row(
            p.label,
            str(p.stats.trades),
            fmt.pct(p.stats.win_rate, 0),
            _pnl(p.stats.total_pnl) if p.stats.trades else Text(fmt.NONE),
            _pnl(p.stats.pnl_per_trade),
        )
    return table


def _legs(row: TradeRow, *, closing: bool) -> str:
    lines = []
    for leg in row.legs:
        sign = "+" if leg.action == "BUY" else "−"
        price = leg.close_price if closing else leg.open_price
        lines.append(f"{sign}{fmt.strike(leg.strike)}{leg.right} {fmt.num(price)}")
    return "\n".join(lines)


def log_table(rows: Sequence[TradeRow], *, title: str) -> Table:
    """The trade log: one trade per row with its four legs, open and close, exit reason and P/L."""
    table = Table(title=title, title_justify="left", title_style="bold", show_lines=True)
    table.add_column("date", no_wrap=True)
    table.add_column("opened", no_wrap=True)
    table.add_column("legs at open", no_wrap=True)
    table.add_column("credit", justify="right")
    table.add_column("closed", no_wrap=True)
    table.add_column("legs at close", no_wrap=True)
    table.add_column("debit", justify="right")
    table.add_column("exit", no_wrap=True)
    table.add_column("P/L", justify="right", no_wrap=True)
    for r in rows:
        exit_text = fmt.exit_label(r.exit_reason) if r.exit_reason else r.status.value
        marks = [f for f in r.flags if f not in ("open",)]
        pnl = _pnl(r.pnl)
        if marks:
            pnl.append("\n" + ", ".join(m.replace("_", " ") for m in marks), style="yellow")
        mins = "" if r.minutes_in_trade is None else f"\n{r.minutes_in_trade:g} min"
        table.add_row(
            f"{r.trade_date}\n{r.weekday}",
            f"{fmt.hhmm(r.opened_at)}\nVIX {fmt.num(r.vix, 1)}",
            _legs(r, closing=False),
            f"{fmt.num(r.credit)}\n×{r.contracts or 0}",
            f"{fmt.hhmm(r.closed_at)}{mins}",
            _legs(r, closing=True),
            fmt.num(r.exit_debit),
            exit_text,
            pnl,
        )
    return table


def footer(report: Report, *, shown: int, total: int, described: str) -> Text:
    lines = [f"trade log: {shown} of {total} traded day(s){described}", *summary_mod.footnotes(report)]
    return Text("\n".join(lines), style="dim")


def full(report: Report, log: Sequence[TradeRow], *, described: str = "") -> RenderableType:
    """Everything: summary, years × months, weekdays, the trade log and the footnotes."""
    parts: list[RenderableType] = [summary(report), Text("")]
    if report.by_year:
        parts += [PeriodsView(report), weekday_table(report), Text("")]
    if log:
        parts.append(log_table(log, title="Trade log"))
    parts.append(footer(report, shown=len(log), total=len(report.rows), described=described))
    return Group(*parts)
