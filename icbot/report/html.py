"""`icbot report --html FILE`: one self-contained page that opens offline — no request leaves it, ever.

The charts are inline SVG drawn here (icbot/report/svg.py), the styles and the script (icbot/data/report.css,
report.js) are inlined, and the data the script needs (the equity series and the trade log) is embedded as JSON.
A Content-Security-Policy (``default-src 'none'``) makes the browser refuse any fetch the page might attempt.
Why hand-written SVG rather than a charting library: docs/report.md, "The HTML page".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from importlib import resources
from typing import Any

from icbot import __version__
from icbot.core.metrics import EXIT_GROUPS, LEG_NAMES, Report, TradeRow
from icbot.report import fmt, svg
from icbot.report import summary as summary_mod
from icbot.report.terminal import MONTHS

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'"

# The trade log's columns as the page's script receives them (one array per trade, in this order).
LOG_FIELDS = (
    "date",
    "weekday",
    "status",
    "counted",
    "reason",
    "contracts",
    "strikes",  # [long put, short put, short call, long call]
    "open_prices",
    "close_prices",
    "credit",
    "debit",
    "opened",
    "closed",
    "minutes",
    "vix",
    "put_delta",
    "call_delta",
    "fill_vs_mid",
    "slippage_pct",
    "pnl",
    "flags",
)


def _asset(name: str) -> str:
    return (resources.files("icbot") / "data" / name).read_text(encoding="utf-8")


def _log_row(r: TradeRow) -> list[Any]:
    legs = {leg.name: leg for leg in r.legs}
    return [
        r.trade_date.isoformat(),
        r.weekday,
        r.status.value,
        r.counted,
        r.exit_reason or r.status.value,
        r.contracts,
        [getattr(legs.get(n), "strike", None) for n in LEG_NAMES],
        [getattr(legs.get(n), "open_price", None) for n in LEG_NAMES],
        [getattr(legs.get(n), "close_price", None) for n in LEG_NAMES],
        r.credit,
        r.exit_debit,
        None if r.opened_at is None else fmt.hhmm(r.opened_at),
        None if r.closed_at is None else fmt.hhmm(r.closed_at),
        r.minutes_in_trade,
        r.vix,
        r.put_delta,
        r.call_delta,
        r.fill_vs_mid,
        r.slippage_pct,
        r.pnl,
        list(r.flags),
    ]


def page_data(report: Report, initial: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the page's script needs: the equity series, the trade log and the labels."""
    eq = report.equity
    return {
        "mode": report.mode,
        "capital": report.capital is not None,
        "equity": {
            "x": [p.day.toordinal() for p in eq],
            "d": [p.day.isoformat() for p in eq],
            "eq": [p.equity for p in eq],
            "pnl": [p.pnl for p in eq],
            "dd": [p.drawdown for p in eq],
            "ddp": [p.drawdown_pct for p in eq],
            # the drawdown charts plot these (a fall drawn downward)
            "ddpn": [-(p.drawdown_pct or 0.0) for p in eq],
            "ddn": [-p.drawdown for p in eq],
        },
        "fields": list(LOG_FIELDS),
        "log": [_log_row(r) for r in report.rows],
        "reasons": {g: fmt.exit_label(g) for g in (*EXIT_GROUPS, "open", "failed", "pending")},
        "initial": dict(initial or {}),
    }


def json_script(data: Mapping[str, Any]) -> str:
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    # "</" would end the <script> element early; "<!--" could start a comment state in old parsers.
    return text.replace("</", "<\\/").replace("<!--", "<\\u0021--")


def _money_axis(v: float) -> str:
    if abs(v) >= 1_000_000:
        return f"{'-' if v < 0 else ''}${abs(v) / 1_000_000:,.2f}M"
    if abs(v) >= 10_000:
        return fmt.money(v / 1000, cents=False) + "k"
    return fmt.money(v, cents=False)


def _pct_axis(v: float) -> str:
    return f"{v:g}%"


def _sign_class(value: float | None) -> str:
    return "" if value is None or value == 0 else ("pos" if value > 0 else "neg")


def _summary_cards(report: Report) -> str:
    s, dd = report.stats, report.drawdown
    cards = [
        ("Total P/L", fmt.money(s.total_pnl if s.trades else None, sign=True), _sign_class(s.total_pnl)),
        ("Trades", str(s.trades), ""),
        ("Win rate", fmt.pct(s.win_rate), ""),
        ("P/L per trade", fmt.money(s.pnl_per_trade, sign=True), _sign_class(s.pnl_per_trade)),
        ("CAGR", fmt.pct(report.cagr, sign=True), _sign_class(report.cagr)),
        (
            "Max drawdown",
            fmt.pct(dd.max_drawdown_pct) if dd.max_drawdown_pct is not None else fmt.money(-dd.max_drawdown),
            "neg" if dd.max_drawdown else "",
        ),
        ("MAR", fmt.ratio(report.mar), _sign_class(report.mar)),
        ("Capture rate", fmt.pct(s.capture_rate), _sign_class(s.capture_rate)),
        ("Profit factor", fmt.ratio(s.profit_factor, infinite_when=s.wins > 0), ""),
        ("Avg minutes in trade", fmt.num(s.avg_minutes_in_trade, 1), ""),
    ]
    return "".join(
        f'<div class="card"><div class="k">{escape(k)}</div><div class="v {c}">{escape(v)}</div></div>'
        for k, v, c in cards
    )


def _sections(report: Report) -> str:
    out = []
    cls = {1: "pos", -1: "neg", 0: ""}
    for title, figures in summary_mod.sections(report):
        rows = "".join(
            f'<tr><th>{escape(f.label.strip())}</th><td class="{cls[f.sign]}">{escape(f.text)}</td></tr>'
            if not f.label.startswith("  ")
            else f'<tr class="sub"><th>{escape(f.label.strip())}</th><td>{escape(f.text)}</td></tr>'
            for f in figures
        )
        out.append(f'<table class="kv"><caption>{escape(title)}</caption>{rows}</table>')
    return "".join(out)


def _exits_table(report: Report) -> str:
    total = report.stats.trades
    rows = []
    for group, x in report.exit_reasons.items():
        if x.count == 0 and group == "expired":
            continue
        share = fmt.pct(x.count / total * 100 if total else None, 0)
        rows.append(
            f"<tr><th>{escape(fmt.exit_label(group))}</th><td>{x.count}</td><td>{share}</td>"
            f'<td class="{_sign_class(x.pnl)}">{escape(fmt.money(x.pnl, sign=True))}</td></tr>'
        )
    head = "<tr><th>reason</th><th>trades</th><th>share</th><th>P/L</th></tr>"
    return f'<table class="grid-table"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _months_table(report: Report) -> str:
    months = summary_mod.months_by_year(report)
    head = "".join(f"<th>{m}</th>" for m in MONTHS)
    rows = []
    for y in report.by_year:
        cells = []
        for m in range(1, 13):
            month = months.get(y.label, {}).get(m)
            if month is None:
                cells.append("<td></td>")
                continue
            tip = f"{month.label}: {month.stats.trades} trades, win {fmt.pct(month.stats.win_rate, 0)}"
            if month.return_pct is not None:
                tip += f", return {fmt.pct(month.return_pct, 2, sign=True)}"
            cells.append(
                f'<td class="{_sign_class(month.stats.total_pnl)}" data-tip="{escape(tip)}">'
                f"{escape(fmt.money(month.stats.total_pnl, cents=False, sign=True))}</td>"
            )
        dd = fmt.money(-y.max_drawdown if y.max_drawdown else 0.0, cents=False)
        if y.max_drawdown_pct is not None:
            dd += f" ({fmt.pct(y.max_drawdown_pct)})"
        total = escape(fmt.money(y.stats.total_pnl, cents=False, sign=True))
        ret = fmt.pct(y.return_pct, 1, sign=True)
        rows.append(
            f"<tr><th>{y.label}</th>{''.join(cells)}"
            f'<td class="tot {_sign_class(y.stats.total_pnl)}">{total}</td>'
            f"<td>{y.stats.trades}</td><td>{fmt.pct(y.stats.win_rate, 0)}</td>"
            f'<td class="{_sign_class(y.return_pct)}">{ret}</td><td class="neg">{escape(dd)}</td></tr>'
        )
    return (
        f'<table class="grid-table months"><thead><tr><th>year</th>{head}<th>year</th><th>trades</th><th>win %</th>'
        f"<th>return</th><th>max DD</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _weekday_table(report: Report) -> str:
    rows = []
    for p in report.by_weekday:
        if p.stats.trades == 0 and p.label in ("Sat", "Sun"):
            continue
        pnl = fmt.money(p.stats.total_pnl, sign=True) if p.stats.trades else fmt.NONE
        per = fmt.money(p.stats.pnl_per_trade, sign=True)
        rows.append(
            f"<tr><th>{p.label}</th><td>{p.stats.trades}</td><td>{fmt.pct(p.stats.win_rate, 0)}</td>"
            f'<td class="{_sign_class(p.stats.total_pnl)}">{escape(pnl)}</td>'
            f'<td class="{_sign_class(p.stats.pnl_per_trade)}">{escape(per)}</td></tr>'
        )
    head = "<tr><th>day</th><th>trades</th><th>win %</th><th>P/L</th><th>P/L per trade</th></tr>"
    return f'<table class="grid-table"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _charts(report: Report) -> dict[str, str]:
    eq = report.equity
    xs = [p.day.toordinal() for p in eq]
    equity = [p.equity for p in eq]
    label = "capital" if report.capital else "cumulative P/L"
    # Without a starting capital the curve is the cumulative P/L: its zero line is the point of the chart.
    linear = svg.line_chart(
        xs, equity, label=f"{label}, linear", fmt=_money_axis, series="eq", css="lin", zero_line=report.capital is None
    )
    can_log = report.capital is not None and bool(equity) and min(equity) > 0
    log = svg.line_chart(xs, equity, label=f"{label}, log scale", fmt=_money_axis, series="eq", log=True, css="log")
    if report.capital is not None:
        dd_values = [-(p.drawdown_pct or 0.0) for p in eq]
        dd_chart = svg.line_chart(
            xs,
            dd_values,
            label="drawdown, %",
            fmt=_pct_axis,
            series="ddpn",
            area=True,
            css="dd",
            box=svg.Box(height=200),
        )
    else:
        dd_values = [-p.drawdown for p in eq]
        dd_chart = svg.line_chart(
            xs,
            dd_values,
            label="drawdown, $",
            fmt=_money_axis,
            series="ddn",
            area=True,
            css="dd",
            box=svg.Box(height=200),
        )
    annual = _annual_chart(report)
    pnls = [r.pnl for r in report.counted if r.pnl is not None]
    dist = svg.histogram(pnls, label="P/L per trade", fmt=_money_axis)
    total = report.stats.trades
    exits = svg.hbar_chart(
        [
            (
                fmt.exit_label(g),
                float(x.count),
                f"{x.count} ({fmt.pct(x.count / total * 100 if total else None, 0)}), "
                f"{fmt.money(x.pnl, cents=False, sign=True)}",
                "pos" if x.pnl > 0 else ("neg" if x.pnl < 0 else "flat"),
            )
            for g, x in report.exit_reasons.items()
            if x.count or g not in ("expired",)
        ],
        label="exits by reason",
    )
    return {
        "linear": linear,
        "log": log,
        "can_log": "1" if can_log else "",
        "drawdown": dd_chart,
        "annual": annual,
        "dist": dist,
        "exits": exits,
    }


def _annual_chart(report: Report) -> str:
    """Each year's gain beside its max drawdown: in % with a starting capital, else in $."""
    in_pct = report.capital is not None
    groups: list[tuple[str, Sequence[svg.Bar]]] = []
    for y in report.by_year:
        if in_pct:
            gain, dd = y.return_pct or 0.0, -(y.max_drawdown_pct or 0.0)
            gain_text, dd_text = f"return {fmt.pct(gain, 2, sign=True)}", fmt.pct(-dd, 2)
        else:
            gain, dd = y.stats.total_pnl, -y.max_drawdown
            gain_text, dd_text = f"P/L {fmt.money(gain, sign=True)}", fmt.money(dd)
        groups.append(
            (
                y.label,
                [
                    svg.Bar(gain, f"{y.label} {gain_text}", "pos" if gain >= 0 else "neg"),
                    svg.Bar(dd, f"{y.label} max drawdown {dd_text}", "ddbar"),
                ],
            )
        )
    gain_name, unit = ("return", "%") if in_pct else ("P/L", "$")
    return svg.bar_chart(
        groups,
        label=f"annual {gain_name} vs max drawdown, {unit}",
        fmt=_pct_axis if in_pct else _money_axis,
        legend=[("pos", f"{gain_name} {unit}"), ("ddbar", f"max drawdown {unit}")],
    )


def whatif_section(totals: Mapping[str, Mapping[str, Any]], days: Sequence[Mapping[str, Any]], note: str) -> str:
    """The what-if replays (docs/whatif.md) as one panel: each column's figures, then P/L per day.

    `totals` is column → figures (`icbot.runner.whatif.as_json`'s `totals`), `days` its `days`; plain data, so the
    page needs nothing of the replay itself."""
    columns = list(totals)
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    labels = (
        ("total_pnl", "P/L"),
        ("win_rate", "win %"),
        ("max_drawdown", "max drawdown"),
        ("mar", "MAR"),
        ("capture_rate", "capture %"),
        ("trades", "trades"),
        ("unanswered", "no answer"),
    )

    def cell(key: str, value: Any) -> str:
        if value is None:
            return "<td>—</td>"
        if key in ("trades", "unanswered"):
            return f"<td>{value}</td>"
        if key in ("win_rate", "capture_rate"):
            return f"<td>{value:.1f}</td>"
        if key == "mar":
            return f"<td>{value:.2f}</td>"
        return f'<td class="{_sign_class(value)}">{escape(fmt.money(value))}</td>'

    rows = "".join(
        f"<tr><th>{label}</th>{''.join(cell(key, totals[c].get(key)) for c in columns)}</tr>" for key, label in labels
    )
    per_day = "".join(
        f"<tr><th>{escape(str(d['trade_date']))}</th>"
        + "".join(cell("pnl", (d.get(c) or {}).get("pnl")) for c in columns)
        + "</tr>"
        for d in days
    )
    return (
        f'<section class="panel" id="whatif"><h2>What-if replays</h2><p class="sub">{escape(note)}</p>'
        f'<div class="scroll"><table><thead><tr><th></th>{head}</tr></thead><tbody>{rows}</tbody></table>'
        f"<table><thead><tr><th>day</th>{head}</tr></thead><tbody>{per_day}</tbody></table></div></section>"
    )


def render_page(report: Report, *, initial: Mapping[str, Any] | None = None, extra: str = "") -> str:
    """The whole page as one string (UTF-8 when written); `extra` is a finished panel (the what-if section)."""
    charts = _charts(report)
    title = f"icbot report · {report.mode} · {summary_mod.period_text(report)}"
    capital_note = (
        f"starting capital {fmt.money(report.capital.amount, cents=False)} ({report.capital.source})"
        if report.capital
        else "no starting capital: the curve is the cumulative P/L, and CAGR, drawdown % and MAR are not shown"
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in summary_mod.footnotes(report))
    log_toggle = (
        '<div class="toggle" role="group" aria-label="scale">'
        '<button type="button" data-scale="lin" class="on">linear</button>'
        f'<button type="button" data-scale="log"{"" if charts["can_log"] else " disabled"}>log</button></div>'
    )
    body = f"""
<header>
  <h1>icbot report <span class="mode">{escape(report.mode)}</span></h1>
  <p class="sub">{escape(summary_mod.period_text(report))} · {escape(capital_note)}</p>
</header>
<section class="cards">{_summary_cards(report)}</section>
<section class="panel"><h2>Summary</h2><div class="kvs">{_sections(report)}</div></section>
<section class="panel" id="equity"><div class="head"><h2>Equity curve</h2>{log_toggle}</div>
  <div class="scales lin">{charts["linear"]}{charts["log"]}</div></section>
<section class="panel" id="drawdown"><h2>Drawdown</h2>{charts["drawdown"]}</section>
<section class="panel" id="annual"><h2>Annual return vs max drawdown</h2>{charts["annual"]}</section>
<div class="two">
  <section class="panel" id="distribution"><h2>P/L distribution</h2>{charts["dist"]}</section>
  <section class="panel" id="exits"><h2>Exits by reason</h2>{charts["exits"]}{_exits_table(report)}</section>
</div>
<section class="panel" id="months"><h2>By year and month (P/L)</h2>
  <div class="scroll">{_months_table(report)}</div></section>
<section class="panel" id="weekdays"><h2>By weekday</h2>{_weekday_table(report)}</section>
{extra}
<section class="panel" id="log"><h2>Trade log</h2>
  <form class="filters" onsubmit="return false">
    <label>exit <select id="f-reason"><option value="">all</option></select></label>
    <label>weekday <select id="f-weekday"><option value="">all</option><option>Mon</option><option>Tue</option>
      <option>Wed</option><option>Thu</option><option>Fri</option></select></label>
    <label>result <select id="f-result"><option value="">all</option><option value="win">winners</option>
      <option value="loss">losers</option><option value="uncounted">not counted</option></select></label>
    <label>VIX ≥ <input id="f-min-vix" type="number" step="0.1" inputmode="decimal"></label>
    <label>VIX ≤ <input id="f-max-vix" type="number" step="0.1" inputmode="decimal"></label>
    <label>from <input id="f-from" type="date"></label><label>to <input id="f-to" type="date"></label>
    <button type="reset" id="f-reset">reset</button>
  </form>
  <p class="count" id="log-count"></p>
  <div class="scroll"><table class="log" id="log-table"><thead></thead><tbody></tbody></table></div>
  <div class="pager"><button type="button" id="prev">‹ previous</button><span id="page"></span>
    <button type="button" id="next">next ›</button></div>
  <noscript><p>The trade log needs JavaScript; <code>icbot report --csv</code> has every trade.</p></noscript>
</section>
<footer><ul>{notes}</ul>
  <p>icbot {escape(__version__)} · US$ · New York times · every figure is defined in docs/report.md</p></footer>
<div id="tip" role="tooltip" hidden></div>
"""
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_asset('report.css')}</style></head>"
        f"<body>{body}"
        f'<script type="application/json" id="report-data">{json_script(page_data(report, initial))}</script>'
        f"<script>{_asset('report.js')}</script></body></html>\n"
    )
