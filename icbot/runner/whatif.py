"""`icbot whatif`: the recorded days replayed under variants of the live rules, side by side with what happened.

A report, never trading: this module reads the journal read-only (the standard library's sqlite3, through
`icbot.store.reader`), replays with the pure `icbot.core.whatif`, and computes the figures with the report's own
engine (`icbot.core.metrics`). It imports nothing that can reach a gateway — no `icbot.broker`, no ib_async — and
tests/e2e/test_whatif.py runs the command with those imports made impossible (docs/whatif.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any

from icbot.config import Config
from icbot.core.journal import TradeStatus, selection_deltas
from icbot.core.metrics import Report, TradeRow, build_report
from icbot.core.whatif.bars import day_bars
from icbot.core.whatif.replay import Outcome, ReplayDay, replay, report_group
from icbot.core.whatif.variants import LIVE, LiveRules, Variant, parse_variant, variant_from_mapping
from icbot.core.zones import NEW_YORK
from icbot.store.reader import JournalReader

ACTUAL = "actual"


@dataclass(frozen=True, slots=True)
class WhatifResult:
    """Every replayed day under every variant, and each column's report (the actual trades first)."""

    days: tuple[date, ...]
    variants: tuple[Variant, ...]  # the live-rules replay first
    outcomes: Mapping[str, Mapping[date, Outcome]]  # variant name → day → outcome
    actual: Mapping[date, TradeRow]
    reports: Mapping[str, Report]  # ACTUAL and each variant name
    slippage: float
    skipped: Mapping[date, str]  # traded days the replay could not use at all, and why


def live_rules(config: Config) -> LiveRules:
    s, e = config.strikes, config.exits
    return LiveRules(
        profit_target_pct=e.profit_target_pct,
        stop_multiple=e.stop_multiple,
        time_exit=e.time_exit,
        target_delta=s.target_delta,
        max_delta=s.max_delta,
        min_delta=s.min_delta,
        tie_tolerance=s.tie_tolerance,
        wing_width=s.wing_width,
        tick=config.strategy.combo_tick,
    )


def choose_variants(config: Config, texts: Sequence[str]) -> list[Variant]:
    """The live-rules replay, then the command line's variants (if any), else the configuration's."""
    chosen = [parse_variant(t) for t in texts] if texts else []
    if not texts:
        chosen = [variant_from_mapping(n, body) for n, body in config.whatif.variants.items()]
    out = [LIVE]
    seen = {LIVE.name}
    for v in chosen:
        if v.name in seen:
            continue
        seen.add(v.name)
        out.append(v)
    return out


def _close_at(config: Config, day: date) -> datetime:
    """The session's close from the cached session table (16:00 ET when the day is outside it)."""
    from icbot.core.schedule import OutOfCalendarRange
    from icbot.runner.sessions import day_session

    try:
        session = day_session(config, day)
    except OutOfCalendarRange:
        session = None
    if session is None:
        return datetime.combine(day, time(16, 0), NEW_YORK)
    return session.close


def run_whatif(
    config: Config,
    reader: JournalReader,
    *,
    mode: str,
    start: date | None,
    end: date | None,
    variants: Sequence[Variant],
    slippage: float,
    starting_capital: float | None = None,
) -> WhatifResult:
    """Replay every traded day of `mode` in [start, end] that has recorded bars under `variants`."""
    from icbot.report.journal import CapitalChoice, choose_capital, load_rows

    target = config.strikes.target_delta
    rows, trades = load_rows(reader, mode=mode, target_delta=target, start=start, end=end)
    by_date = {t.trade_date: t for t in trades}
    rules = live_rules(config)
    recorded = reader.bar_days(mode)
    days: list[date] = []
    actual: dict[date, TradeRow] = {}
    skipped: dict[date, str] = {}
    outcomes: dict[str, dict[date, Outcome]] = {v.name: {} for v in variants}
    for row in rows:
        day = row.trade_date
        if (start is not None and day < start) or row.status is not TradeStatus.CLOSED:
            continue
        if day.isoformat() not in recorded:
            skipped[day] = "no bars recorded"
            continue
        trade = by_date[day]
        puts, calls = selection_deltas(reader.events(day, mode))
        replay_day = ReplayDay(trade, puts, calls, day_bars(day, reader.bars(day, mode)), _close_at(config, day))
        days.append(day)
        actual[day] = row
        for v in variants:
            outcomes[v.name][day] = replay(replay_day, v, rules, slippage=slippage)
    first = next((t.trade_date for t in trades if t.entry_filled_at is not None), None)
    capital = choose_capital(reader, mode, first, CapitalChoice(starting_capital, config.report.starting_capital))
    reports = {ACTUAL: build_report(list(actual.values()), mode=mode, target_delta=target, capital=capital)}
    for v in variants:
        vrows = [_as_row(actual[d], outcomes[v.name][d]) for d in days]
        reports[v.name] = build_report(vrows, mode=mode, target_delta=target, capital=capital)
    return WhatifResult(tuple(days), tuple(variants), outcomes, actual, reports, slippage, skipped)


def _as_row(row: TradeRow, out: Outcome) -> TradeRow:
    """The actual day's report row with the variant's result in it, so the report's engine computes its figures
    (a day the bars cannot answer is not counted, as the report leaves out a P/L it does not know)."""
    premium = None
    if out.credit is not None and row.contracts:
        premium = round(out.credit * 100 * row.contracts, 6)
    return replace(
        row,
        pnl=out.pnl,
        exit_reason=report_group(out.exit_reason),
        exit_reason_raw=out.exit_reason,
        exit_debit=out.debit,
        credit=out.credit,
        premium=premium,
        minutes_in_trade=out.minutes_in_trade,
        closed_at=out.exited_at,
        status=TradeStatus.CLOSED if out.pnl is not None else TradeStatus.OPEN,
    )


# -- outputs ---------------------------------------------------------------------------------------------------
def summary(result: WhatifResult, name: str) -> dict[str, Any]:
    r = result.reports[name]
    unanswered = 0 if name == ACTUAL else sum(1 for o in result.outcomes[name].values() if o.pnl is None)
    return {
        "trades": r.stats.trades,
        "total_pnl": r.stats.total_pnl,
        "win_rate": r.stats.win_rate,
        "max_drawdown": r.drawdown.max_drawdown,
        "mar": r.mar,
        "capture_rate": r.stats.capture_rate,
        "unanswered": unanswered,
    }


def as_json(result: WhatifResult) -> dict[str, Any]:
    columns = [ACTUAL, *(v.name for v in result.variants)]
    return {
        "slippage_per_leg": result.slippage,
        "variants": [{"name": v.name, "overrides": v.describe()} for v in result.variants],
        "totals": {c: summary(result, c) for c in columns},
        "days": [
            {
                "trade_date": d.isoformat(),
                "actual": {
                    "pnl": result.actual[d].pnl,
                    "exit_reason": result.actual[d].exit_reason,
                    "minutes_in_trade": result.actual[d].minutes_in_trade,
                },
                **{v.name: _outcome_json(result.outcomes[v.name][d]) for v in result.variants},
            }
            for d in result.days
        ],
        "skipped": {d.isoformat(): why for d, why in result.skipped.items()},
    }


def _outcome_json(o: Outcome) -> dict[str, Any]:
    return {
        "pnl": o.pnl,
        "exit_reason": o.exit_reason,
        "exited_at": o.exited_at.astimezone(NEW_YORK).isoformat() if o.exited_at else None,
        "minutes_in_trade": o.minutes_in_trade,
        "credit": o.credit,
        "debit": o.debit,
        "commissions": o.commissions,
        "strikes": list(o.strikes) if o.strikes else None,
        "touch": o.touch,
        "gaps": list(o.gaps),
    }


def csv_rows(result: WhatifResult) -> list[dict[str, Any]]:
    """One row per day and column (actual or a variant): the long form a spreadsheet pivots."""
    out = []
    for d in result.days:
        a = result.actual[d]
        out.append(_csv(d, ACTUAL, a.pnl, a.exit_reason, a.minutes_in_trade, a.credit, a.exit_debit, ""))
        for v in result.variants:
            o = result.outcomes[v.name][d]
            out.append(_csv(d, v.name, o.pnl, o.exit_reason, o.minutes_in_trade, o.credit, o.debit, "; ".join(o.gaps)))
    return out


CSV_COLUMNS = ("trade_date", "variant", "pnl", "exit_reason", "minutes_in_trade", "credit", "debit", "gaps")


def _csv(d: date, name: str, *values: Any) -> dict[str, Any]:
    pnl, reason, minutes, credit, debit, gaps = values
    row = dict(zip(CSV_COLUMNS, (d.isoformat(), name, pnl, reason, minutes, credit, debit, gaps), strict=True))
    return {k: ("" if v is None else v) for k, v in row.items()}


def table_lines(result: WhatifResult) -> list[str]:
    """The side-by-side table for a terminal (and the closing note): days, then the totals."""
    columns = [ACTUAL, *(v.name for v in result.variants)]
    width = max(10, *(len(c) + 1 for c in columns))
    head = f"{'day':<11}" + "".join(f"{c:>{width}}" for c in columns)
    lines = [head, "-" * len(head)]
    for d in result.days:
        cells = [_money(result.actual[d].pnl)]
        cells += [_money(result.outcomes[v.name][d].pnl) for v in result.variants]
        lines.append(f"{d.isoformat():<11}" + "".join(f"{c:>{width}}" for c in cells))
    lines.append("-" * len(head))
    labels = {
        "total_pnl": "P/L",
        "win_rate": "win %",
        "max_drawdown": "max DD",
        "mar": "MAR",
        "capture_rate": "capture %",
        "trades": "trades",
        "unanswered": "no answer",
    }
    for key in ("total_pnl", "win_rate", "max_drawdown", "mar", "capture_rate", "trades", "unanswered"):
        cells = [_figure(key, summary(result, c)[key]) for c in columns]
        lines.append(f"{labels[key]:<11}" + "".join(f"{c:>{width}}" for c in cells))
    lines.append("")
    for v in result.variants:
        lines.append(f"{v.name}: {v.describe()}")
    lines.append(f"fills: recorded mid ± {result.slippage:g} per leg; profit targets at their limit")
    for v in result.variants:
        for d in result.days:
            o = result.outcomes[v.name][d]
            if o.pnl is None:
                lines.append(f"{d} {v.name}: cannot answer — {'; '.join(o.gaps)}")
    for d, why in result.skipped.items():
        lines.append(f"{d}: not replayed — {why}")
    return lines


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _figure(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key in ("trades", "unanswered"):
        return str(value)
    if key in ("win_rate", "capture_rate"):
        return f"{value:.1f}"
    if key == "mar":
        return f"{value:.2f}"
    return f"{value:,.2f}"


def html_panel(config: Config, mode: str, start: date | None, end: date | None) -> str:
    """The what-if section of `report --html`: the configured variants over the period, or "" when there is
    nothing to replay (no variants configured, no journal, no recorded day)."""
    from icbot.report.html import whatif_section
    from icbot.store.reader import NoJournal

    if not config.whatif.variants:
        return ""
    try:
        reader = JournalReader.open(config.db_path)
    except NoJournal:
        return ""
    with reader:
        result = run_whatif(
            config,
            reader,
            mode=mode,
            start=start,
            end=end,
            variants=choose_variants(config, []),
            slippage=config.whatif.slippage,
        )
    if not result.days:
        return ""
    data = as_json(result)
    note = f"fills at the recorded mid ± {result.slippage:g} per leg; " + "; ".join(
        f"{v['name']}: {v['overrides']}" for v in data["variants"]
    )
    return whatif_section(data["totals"], data["days"], note)
