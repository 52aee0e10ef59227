"""`icbot report`: metrics and the trade log of one mode, in the terminal, as CSV, JSON or a self-contained page.

Reads the journal read-only and never connects to the gateway. The metrics are icbot.core.metrics (defined in
docs/report.md); this module only parses the command line and picks the outputs. Heavy parts (the store, the
HTML page) are imported inside the command, so the other commands do not pay for them at start-up.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from icbot.cli.trade_cmd import CONFIG_OPTION
from icbot.config import MODES
from icbot.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from icbot.core.metrics import LogFilter, Report, TradeRow

EXIT_CHOICES = ("take_profit", "stop", "time_exit", "manual", "expired", "unknown", "open", "failed", "pending")
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_WORDS = {name: n for n, full in enumerate(WEEKDAY_NAMES) for name in (full, full[:3])}
DEFAULT_LAST = 20  # trades the terminal shows unless --last says otherwise


def parse_day(text: str | None, option: str) -> date | None:
    """`--from`/`--to` as a date; one usage line for anything else (report and whatif share it)."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not a date YYYY-MM-DD") from None


def _words(values: list[str] | None) -> list[str]:
    """Repeated options and comma lists alike: --weekday mon --weekday tue == --weekday mon,tue."""
    return [w.strip().lower() for v in values or [] for w in v.split(",") if w.strip()]


def _weekdays(values: list[str] | None) -> frozenset[int]:
    days = set()
    for word in _words(values):
        if word in WEEKDAY_WORDS:
            days.add(WEEKDAY_WORDS[word])
        elif word.isdigit() and 1 <= int(word) <= 7:
            days.add(int(word) - 1)
        else:
            raise UsageError(f"--weekday: {word!r} is not a weekday; allowed: mon, tue, wed, thu, fri (or 1–5)")
    return frozenset(days)


def _exit_reasons(values: list[str] | None) -> frozenset[str]:
    words = _words(values)
    aliases = {"profit_target": "take_profit", "tp": "take_profit", "by_hand": "manual", "time": "time_exit"}
    words = [aliases.get(w.replace("-", "_"), w.replace("-", "_")) for w in words]
    bad = [w for w in words if w not in EXIT_CHOICES]
    if bad:
        raise UsageError(f"--exit-reason: {bad[0]!r} is not an exit reason; allowed: {', '.join(EXIT_CHOICES)}")
    return frozenset(words)


def report(
    config_path: Path | None = CONFIG_OPTION,
    mode: str | None = typer.Option(
        None, "--mode", metavar="MODE", help="paper, live or experiment (default: the configured one)."
    ),
    from_: str | None = typer.Option(
        None, "--from", metavar="DATE", help="First trade date (YYYY-MM-DD); default: the first trade."
    ),
    to: str | None = typer.Option(
        None, "--to", metavar="DATE", help="Last trade date (YYYY-MM-DD); default: the last trade."
    ),
    starting_capital: float | None = typer.Option(
        None,
        "--starting-capital",
        metavar="DOLLARS",
        help="Capital before the mode's first trade, in $ (for CAGR, drawdown %, MAR).",
    ),
    last: int | None = typer.Option(
        None,
        "--last",
        metavar="N",
        min=0,
        help=f"Only the N most recent trades in the log (terminal default {DEFAULT_LAST}; 0: all).",
    ),
    sort: str = typer.Option(
        "date",
        "--sort",
        metavar="KEY",
        help="Order the log by date, pnl, credit, premium, vix, minutes, slippage, fill, reason or weekday.",
    ),
    desc: bool = typer.Option(False, "--desc", help="Sort descending."),
    exit_reason: list[str] | None = typer.Option(
        None,
        "--exit-reason",
        metavar="REASON",
        help="Only these exits: take_profit, stop, time_exit, manual, unknown, open, …",
    ),
    weekday: list[str] | None = typer.Option(None, "--weekday", metavar="DAY", help="Only these weekdays: mon … fri."),
    min_vix: float | None = typer.Option(
        None, "--min-vix", metavar="VIX", help="Only trades entered with VIX at or above this."
    ),
    max_vix: float | None = typer.Option(
        None, "--max-vix", metavar="VIX", help="Only trades entered with VIX at or below this."
    ),
    csv_path: str | None = typer.Option(
        None,
        "--csv",
        metavar="FILE",
        help="Write the trades as CSV to FILE ('-': stdout) instead of the terminal report.",
    ),
    html_path: Path | None = typer.Option(
        None,
        "--html",
        metavar="FILE",
        help="Write a self-contained HTML page with charts to FILE instead of the terminal report.",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the metrics and the trade log as JSON instead of the terminal report."
    ),
) -> None:
    """Metrics and trade log of one mode: terminal, --csv, --json, --html (docs/report.md)."""
    from icbot.config import load_config
    from icbot.core.metrics import SORT_KEYS, LogFilter, build_report, trade_log
    from icbot.report.journal import CapitalChoice, load_report, load_rows, open_journal, with_legs

    if as_json and csv_path == "-":
        raise UsageError("--json and --csv - both write to stdout; choose one (or --csv FILE)")
    if sort not in SORT_KEYS:
        raise UsageError(f"--sort: {sort!r} is not a sort key; allowed: {', '.join(SORT_KEYS)}")
    if mode is not None and mode not in MODES:
        raise UsageError(f"--mode: {mode!r} is not a mode; allowed: {', '.join(MODES)}")
    if starting_capital is not None and starting_capital <= 0:
        raise UsageError(f"--starting-capital: {starting_capital:g} must be above 0")
    start, end = parse_day(from_, "--from"), parse_day(to, "--to")
    if start and end and start > end:
        raise UsageError(f"--from {start} is after --to {end}")
    where = LogFilter(_exit_reasons(exit_reason), _weekdays(weekday), min_vix, max_vix)

    config = load_config(config_path, os.environ)
    the_mode = mode or config.mode
    configured = config.report.starting_capital  # docs/report.md, "Capital"
    choice = CapitalChoice(flag=starting_capital, config=configured)
    target = config.strikes.target_delta
    if last == 0:  # --last 0: every trade
        last = None
    shown_last = DEFAULT_LAST if last is None else last

    def log(rows: Sequence[TradeRow], n: int | None) -> list[TradeRow]:
        return trade_log(rows, where=where, sort=sort, descending=desc, last=n)

    # What is asked for decides what is read: the trades alone for CSV, the metrics for the rest; every leg's
    # executions only when every trade is written out (the terminal shows the legs of the few trades it lists).
    needs_metrics = as_json or html_path is not None or csv_path is None
    every_leg = as_json or csv_path is not None or html_path is not None
    store = open_journal(config.db_path)
    if store is None:  # nothing journaled yet: an empty report, not an error
        result = build_report([], mode=the_mode, target_delta=target, start=start, end=end)
        rows, shown = [], []
    else:
        try:
            if needs_metrics:
                result = load_report(
                    store, mode=the_mode, target_delta=target, start=start, end=end, capital=choice, legs=every_leg
                )
                rows = list(result.rows)
            else:
                rows, _ = load_rows(store, mode=the_mode, target_delta=target, start=start, end=end)
                rows = [r for r in rows if start is None or r.trade_date >= start]
            shown = [] if every_leg else with_legs(store, log(rows, shown_last), target_delta=target)
        finally:
            store.close()

    everything = log(rows, last)
    data_on_stdout = as_json or csv_path == "-"  # then "wrote …" goes to stderr, so stdout holds the data alone

    def say(line: str) -> None:
        typer.echo(line, err=data_on_stdout)

    if as_json:
        from icbot.report.export import report_json

        sys.stdout.write(json.dumps(report_json(result, everything), ensure_ascii=False) + "\n")
    if csv_path == "-":
        from icbot.report.export import write_csv

        write_csv(everything, sys.stdout)
    elif csv_path is not None:
        from icbot.report.export import write_csv

        with _output(Path(csv_path), "--csv") as fh:
            n = write_csv(everything, fh)
        say(f"wrote {n} trade(s) to {csv_path}")
    if html_path is not None:
        from icbot.report.html import render_page
        from icbot.runner.whatif import html_panel  # docs/whatif.md: the configured variants, when bars exist

        page = render_page(
            result, initial=_initial_filter(where, sort, desc), extra=html_panel(config, the_mode, start, end)
        )
        with _output(html_path, "--html") as fh:
            fh.write(page)
        say(f"wrote {html_path} ({len(page.encode()) / 1024:.0f} KiB, opens offline)")
    if not (as_json or csv_path is not None or html_path is not None):
        _terminal(result, shown, where=where)


def _terminal(result: Report, log: Sequence[TradeRow], *, where: LogFilter) -> None:
    from rich.console import Console

    from icbot.core.metrics import WEEKDAYS
    from icbot.report.terminal import full

    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(highlight=False, width=160)  # a file or a pipe: wide enough for the log, no colour
    described = ""
    if where.exit_reasons or where.weekdays or where.min_vix is not None or where.max_vix is not None:
        parts = []
        if where.exit_reasons:
            parts.append("exit " + "/".join(sorted(where.exit_reasons)))
        if where.weekdays:
            parts.append("weekday " + "/".join(WEEKDAYS[d] for d in sorted(where.weekdays)))
        if where.min_vix is not None:
            parts.append(f"VIX ≥ {where.min_vix:g}")
        if where.max_vix is not None:
            parts.append(f"VIX ≤ {where.max_vix:g}")
        described = f" ({', '.join(parts)}; the figures above cover every trade)"
    console.print(full(result, log, described=described))


def _initial_filter(where: LogFilter, sort: str, desc: bool) -> dict[str, Any]:
    return {
        "exit_reasons": sorted(where.exit_reasons),
        "weekdays": sorted(where.weekdays),
        "min_vix": where.min_vix,
        "max_vix": where.max_vix,
        "sort": sort,
        "desc": desc,
    }


class _output:
    """Open an output file, turning an OS error into one usage line (exit 2)."""

    def __init__(self, path: Path, option: str) -> None:
        self.path, self.option = path, option

    def __enter__(self) -> Any:
        try:
            self.fh = self.path.expanduser().open("w", encoding="utf-8", newline="")
        except OSError as exc:
            raise UsageError(f"{self.option}: cannot write {self.path}: {exc.strerror or exc}") from None
        return self.fh

    def __exit__(self, *exc: object) -> None:
        self.fh.close()


def register(app: typer.Typer) -> None:
    from icbot.cli.plain_params import PlainCommand

    app.command("report", cls=PlainCommand)(report)
