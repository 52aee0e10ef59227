"""The summary block as labelled, formatted figures: the terminal and the HTML page show the same lines.

Each figure carries its sign (+1 gain, −1 loss, 0 neither) so a renderer can colour it without parsing text.
"""

from __future__ import annotations

from dataclasses import dataclass

from icbot.core.metrics import MULTIPLIER, PeriodStats, Report
from icbot.report import fmt


@dataclass(frozen=True, slots=True)
class Figure:
    label: str
    text: str
    sign: int = 0


def _sign(value: float | None) -> int:
    return 0 if value is None or value == 0 else (1 if value > 0 else -1)


def sections(report: Report) -> list[tuple[str, list[Figure]]]:
    """("Trades" | "Capital" | "Execution", figures) in the order they are shown."""
    s, dd = report.stats, report.drawdown
    trades = [
        Figure("trades", str(s.trades)),
        Figure("wins / losses / scratch", f"{s.wins} / {s.losses} / {s.scratches}"),
        Figure("win rate", fmt.pct(s.win_rate)),
        Figure("total P/L", fmt.money(s.total_pnl if s.trades else None, sign=True), _sign(s.total_pnl)),
        Figure("P/L per trade", fmt.money(s.pnl_per_trade, sign=True), _sign(s.pnl_per_trade)),
        Figure("avg winner / loser", f"{fmt.money(s.avg_winner)} / {fmt.money(s.avg_loser)}"),
        Figure("largest winner / loser", f"{fmt.money(s.largest_winner)} / {fmt.money(s.largest_loser)}"),
        Figure("profit factor", fmt.ratio(s.profit_factor, infinite_when=s.wins > 0)),
        Figure("longest losing streak", str(s.longest_losing_streak)),
        Figure("total premium", fmt.money(s.total_premium if s.trades else None)),
        Figure("capture rate", fmt.pct(s.capture_rate), _sign(s.capture_rate)),
        Figure("avg minutes in trade", fmt.num(s.avg_minutes_in_trade, 1)),
    ]
    recovered = "—" if not dd.max_drawdown else ("yes" if dd.recovered else "no, still below its peak")
    capital = [
        Figure("starting capital", fmt.money(report.starting_capital, cents=False)),
        Figure("  from", report.capital.source if report.capital else "unknown"),
        Figure("ending capital", fmt.money(report.ending_capital, cents=False)),
        Figure("CAGR", fmt.pct(report.cagr, sign=True), _sign(report.cagr)),
        Figure(
            "max drawdown",
            f"{fmt.money(-dd.max_drawdown if dd.max_drawdown else 0.0)} / {fmt.pct(dd.max_drawdown_pct)}",
            -1 if dd.max_drawdown else 0,
        ),
        Figure("  peak → trough", f"{dd.peak_day} → {dd.trough_day}" if dd.max_drawdown else "—"),
        Figure("  recovered", recovered),
        Figure("MAR (CAGR / max DD %)", fmt.ratio(report.mar), _sign(report.mar)),
    ]
    f, d, m = report.fill, report.deltas, report.market
    fill_usd = None if f.avg_fill_vs_mid is None else f.avg_fill_vs_mid * MULTIPLIER
    execution = [
        Figure("credit vs mid at 09:32", f"{fmt.money(fill_usd, sign=True)} / condor", _sign(fill_usd)),
        Figure("  of mid→natural", fmt.pct(f.avg_slippage_pct)),
        Figure("ladder rungs (avg)", fmt.num(f.avg_ladder_rungs, 1)),
        Figure(
            "seconds to fill avg / max", f"{fmt.num(f.avg_seconds_to_fill, 1)} / {fmt.num(f.max_seconds_to_fill, 1)}"
        ),
        Figure(
            f"put Δ (target {d.target:g})",
            f"{fmt.num(d.avg_put_delta, 1)} ({fmt.num(d.avg_put_vs_target, 1, sign=True)})",
        ),
        Figure("call Δ", f"{fmt.num(d.avg_call_delta, 1)} ({fmt.num(d.avg_call_vs_target, 1, sign=True)})"),
        Figure(
            "VIX at entry avg (min–max)", f"{fmt.num(m.avg_vix, 1)} ({fmt.num(m.min_vix, 1)}–{fmt.num(m.max_vix, 1)})"
        ),
        Figure("SPX at entry (avg)", fmt.num(m.avg_spx_at_entry, 0)),
        Figure(
            "SPX move in trade",
            "not journaled" if not m.spx_move_trades else f"{fmt.num(m.avg_abs_spx_move, 1)} pts avg (absolute)",
        ),
    ]
    return [("Trades", trades), ("Capital", capital), ("Execution", execution)]


def footnotes(report: Report) -> list[str]:
    """What the figures leave out, and why (shown under the report)."""
    lines = []
    if report.not_counted:
        parts = ", ".join(f"{n} {why.replace('_', ' ')}" for why, n in sorted(report.not_counted.items()))
        lines.append(f"not counted in the figures (marked in the log, never guessed): {parts}")
    if report.commission_missing:
        lines.append(
            f"{report.commission_missing} counted trade(s) lack an IB commission report: their P/L leaves it out"
        )
    if report.no_trade_days:
        lines.append(f"{report.no_trade_days} journaled session(s) without a trade in the period")
    lines += list(report.notes)
    return lines


def period_text(report: Report) -> str:
    if report.start is None or report.end is None:
        return "no trades"
    days = report.period_days
    return f"{report.start} → {report.end} ({days} calendar day{'s' if days != 1 else ''})"


def months_by_year(report: Report) -> dict[str, dict[int, PeriodStats]]:
    """The by-month figures arranged for a years × months grid: {"2026": {11: November's figures}}."""
    grid: dict[str, dict[int, PeriodStats]] = {}
    for p in report.by_month:
        year, number = p.label.split("-")
        grid.setdefault(year, {})[int(number)] = p
    return grid
