"""The report for programs: `--csv` (one row per trade) and `--json` (the metrics as one object, and the trades).

Numbers are unformatted (4.35, -223.4), dates ISO (2026-11-24), instants ISO-8601 in New York time with their
offset (2026-11-24T09:32:11-05:00). The CSV header names are documented in docs/report.md ("CSV columns").
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import IO, Any

from icbot.core.metrics import LEG_NAMES, PeriodStats, Report, TradeRow
from icbot.core.zones import NEW_YORK

TRADE_COLUMNS = (
    "trade_date",
    "weekday",
    "mode",
    "status",
    "counted",
    "exit_reason",
    "exit_reason_journal",
    "contracts",
    "long_put",
    "short_put",
    "short_call",
    "long_call",
    "put_delta",
    "call_delta",
    "put_delta_vs_target",
    "call_delta_vs_target",
    "spx_at_entry",
    "spx_at_exit",
    "spx_move",
    "vix",
    "mid_credit",
    "natural_credit",
    "credit",
    "fill_vs_mid",
    "fill_vs_mid_usd",
    "slippage_pct",
    "ladder_rungs",
    "seconds_to_fill",
    "opened_at",
    "closed_at",
    "minutes_in_trade",
    "exit_debit",
    "premium",
    "entry_commission",
    "exit_commission",
    "commissions",
    "pnl",
    "flags",
)
LEG_FIELDS = ("open_price", "close_price", "open_commission", "close_commission")
LEG_COLUMNS = tuple(f"{leg}_{name}" for leg in LEG_NAMES for name in LEG_FIELDS)
CSV_COLUMNS = TRADE_COLUMNS + LEG_COLUMNS


def instant(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(NEW_YORK).isoformat(timespec="seconds")


def trade_record(row: TradeRow) -> dict[str, Any]:
    """One trade as plain values under the CSV column names (the JSON trade log uses the same)."""
    strikes = {leg.name: leg.strike for leg in row.legs}
    rec: dict[str, Any] = {
        "trade_date": row.trade_date.isoformat(),
        "weekday": row.weekday,
        "mode": str(row.mode),
        "status": str(row.status),
        "counted": row.counted,
        "exit_reason": row.exit_reason or None,
        "exit_reason_journal": row.exit_reason_raw,
        "contracts": row.contracts,
        **{name: strikes.get(name) for name in LEG_NAMES},
        "put_delta": row.put_delta,
        "call_delta": row.call_delta,
        "put_delta_vs_target": row.put_delta_vs_target,
        "call_delta_vs_target": row.call_delta_vs_target,
        "spx_at_entry": row.spx_at_entry,
        "spx_at_exit": row.spx_at_exit,
        "spx_move": row.spx_move,
        "vix": row.vix,
        "mid_credit": row.mid_credit,
        "natural_credit": row.natural_credit,
        "credit": row.credit,
        "fill_vs_mid": row.fill_vs_mid,
        "fill_vs_mid_usd": row.fill_vs_mid_usd,
        "slippage_pct": row.slippage_pct,
        "ladder_rungs": row.ladder_rungs,
        "seconds_to_fill": row.seconds_to_fill,
        "opened_at": instant(row.opened_at),
        "closed_at": instant(row.closed_at),
        "minutes_in_trade": row.minutes_in_trade,
        "exit_debit": row.exit_debit,
        "premium": row.premium,
        "entry_commission": row.entry_commission,
        "exit_commission": row.exit_commission,
        "commissions": row.commissions,
        "pnl": row.pnl,
        "flags": list(row.flags),
    }
    legs = {leg.name: leg for leg in row.legs}
    for name in LEG_NAMES:
        leg = legs.get(name)
        for fld in LEG_FIELDS:
            rec[f"{name}_{fld}"] = None if leg is None else getattr(leg, fld)
    return rec


def _csv_cell(value: Any) -> Any:
    """A CSV cell: numbers as Python writes them (4.35, a whole 5920.0 as 5920), None empty, flags joined by ';'."""
    kind = type(value)
    if kind is float:
        return int(value) if value.is_integer() else value
    if kind is bool:
        return "true" if value else "false"
    if kind is list:
        return ";".join(value)
    return "" if value is None else value


def write_csv(rows: Iterable[TradeRow], out: IO[str]) -> int:
    """The trades as CSV with a header line; returns how many rows were written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    n = 0
    for row in rows:
        rec = trade_record(row)
        writer.writerow([_csv_cell(rec[c]) for c in CSV_COLUMNS])
        n += 1
    return n


def _plain(value: Any) -> Any:
    """Dataclasses, dates and mappings as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _period(p: PeriodStats) -> dict[str, Any]:
    return {
        "period": p.label,
        **_plain(p.stats),
        "start_equity": p.start_equity,
        "return_pct": p.return_pct,
        "max_drawdown": p.max_drawdown,
        "max_drawdown_pct": p.max_drawdown_pct,
    }


def metrics(report: Report) -> dict[str, Any]:
    """The metrics as one flat-topped object (the keys of docs/report.md, "JSON")."""
    s, dd = report.stats, report.drawdown
    return {
        "mode": report.mode,
        "from": _plain(report.start),
        "to": _plain(report.end),
        "period_days": report.period_days,
        **_plain(s),
        "starting_capital": report.starting_capital,
        "capital_source": None if report.capital is None else report.capital.source,
        "ending_capital": report.ending_capital,
        "cagr": report.cagr,
        "max_drawdown": dd.max_drawdown,
        "max_drawdown_pct": dd.max_drawdown_pct,
        "max_drawdown_peak": _plain(dd.peak_day),
        "max_drawdown_trough": _plain(dd.trough_day),
        "drawdown_recovered": dd.recovered,
        "current_drawdown": dd.current,
        "mar": report.mar,
        "exit_reasons": _plain(report.exit_reasons),
        "fill_quality": _plain(report.fill),
        "deltas": _plain(report.deltas),
        "market": _plain(report.market),
        "by_year": [_period(p) for p in report.by_year],
        "by_month": [_period(p) for p in report.by_month],
        "by_weekday": [_period(p) for p in report.by_weekday],
        "equity": _plain(report.equity),
        "not_counted": dict(report.not_counted),
        "commission_missing": report.commission_missing,
        "no_trade_days": report.no_trade_days,
        "notes": list(report.notes),
    }


def report_json(report: Report, log: Iterable[TradeRow]) -> dict[str, Any]:
    """`--json`: the metrics, and the trade log (the rows the filters keep, in the order asked for)."""
    return {**metrics(report), "trade_log": [trade_record(r) for r in log]}
