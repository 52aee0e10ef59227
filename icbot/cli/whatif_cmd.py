"""`icbot whatif`: recorded days replayed under variants of the live rules, beside what happened (docs/whatif.md).

A report: it reads the journal read-only and never connects to a gateway (icbot/runner/whatif.py).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import typer

from icbot.cli.report_cmd import parse_day
from icbot.cli.trade_cmd import CONFIG_OPTION
from icbot.config import MODES
from icbot.errors import UsageError


def whatif(
    config_path: Path | None = CONFIG_OPTION,
    from_: str | None = typer.Option(None, "--from", metavar="DATE", help="First trade date (YYYY-MM-DD)."),
    to: str | None = typer.Option(None, "--to", metavar="DATE", help="Last trade date (YYYY-MM-DD)."),
    variant: list[str] | None = typer.Option(
        None,
        "--variant",
        metavar="SPEC",
        help="[name:]key=value,… with keys tp, stop, time, delta, wing, touch (close | roll:N); repeatable. "
        "Default: whatif.variants of the configuration.",
    ),
    mode: str | None = typer.Option(None, "--mode", metavar="MODE", help="paper, live or experiment."),
    slippage: float | None = typer.Option(
        None, "--slippage", metavar="POINTS", help="Per leg, added to the recorded mid (default whatif.slippage)."
    ),
    starting_capital: float | None = typer.Option(
        None, "--starting-capital", metavar="DOLLARS", help="For MAR (as in icbot report)."
    ),
    csv_path: str | None = typer.Option(None, "--csv", metavar="FILE", help="Write CSV to FILE ('-': stdout)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of the table."),
) -> None:
    """Replay recorded days under variants of the live rules; a report, never an order (docs/whatif.md)."""
    from icbot import startup
    from icbot.config import load_config
    from icbot.core.whatif.variants import VariantError
    from icbot.runner import whatif as run
    from icbot.store.reader import JournalReader, NoJournal

    startup.started()  # replays may run long (icbot/startup.py)

    start, end = parse_day(from_, "--from"), parse_day(to, "--to")
    if start and end and start > end:
        raise UsageError(f"--from {start} is after --to {end}")
    if mode is not None and mode not in MODES:
        raise UsageError(f"--mode: {mode!r} is not a mode; allowed: {', '.join(MODES)}")
    if slippage is not None and not 0 <= slippage <= 5:
        raise UsageError(f"--slippage: {slippage:g} must be between 0 and 5 price points")
    if starting_capital is not None and starting_capital <= 0:
        raise UsageError(f"--starting-capital: {starting_capital:g} must be above 0")
    if as_json and csv_path == "-":
        raise UsageError("--json and --csv - both write to stdout; choose one (or --csv FILE)")
    config = load_config(config_path, os.environ)
    try:
        variants = run.choose_variants(config, variant or [])
    except VariantError as exc:
        raise UsageError(f"--variant: {exc}") from None
    try:
        reader = JournalReader.open(config.db_path)
    except NoJournal:
        typer.echo(f"no journal at {config.db_path}: nothing to replay")
        raise typer.Exit(0) from None
    with reader:
        result = run.run_whatif(
            config,
            reader,
            mode=mode or config.mode,
            start=start,
            end=end,
            variants=variants,
            slippage=config.whatif.slippage if slippage is None else slippage,
            starting_capital=starting_capital,
        )
    if as_json:
        sys.stdout.write(json.dumps(run.as_json(result), ensure_ascii=False) + "\n")
    if csv_path is not None:
        if csv_path == "-":
            _write_csv(result, sys.stdout)
        else:
            try:
                with Path(csv_path).open("w", encoding="utf-8", newline="") as fh:
                    _write_csv(result, fh)
            except OSError as exc:
                raise UsageError(f"--csv: cannot write {csv_path}: {exc.strerror or exc}") from None
            typer.echo(f"wrote {csv_path}", err=as_json)
    if not as_json and csv_path is None:
        if not result.days:
            typer.echo("no closed trade with recorded bars in the period: nothing to replay")
        for line in run.table_lines(result):
            typer.echo(line)


def _write_csv(result: object, fh: object) -> None:
    from icbot.runner import whatif as run

    assert isinstance(result, run.WhatifResult)
    writer = csv.DictWriter(fh, fieldnames=list(run.CSV_COLUMNS), lineterminator="\n")  # type: ignore[arg-type]
    writer.writeheader()
    writer.writerows(run.csv_rows(result))


def register(app: typer.Typer) -> None:
    from icbot.cli.plain_params import PlainCommand

    app.command("whatif", cls=PlainCommand)(whatif)
