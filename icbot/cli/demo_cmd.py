"""`icbot demo`: a simulated trading day end to end, then the day as the journal recorded it."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Literal

import typer
from rich.console import Console, RenderableType

from icbot.config import Config, load_config
from icbot.core.journal import Mode
from icbot.errors import EXIT_OK, UsageError


def parse_day(text: str) -> date:
    """--date as a date; anything else is one line naming the option and the format (exit 2)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--date: {text!r} is not a date YYYY-MM-DD") from None


def demo(
    day: str | None = typer.Option(None, "--date", help="Session day to simulate (YYYY-MM-DD); default the next one."),
    db: Path | None = typer.Option(None, "--db", help="Keep the journal in this SQLite file (default: a temp file)."),
    seed: int = typer.Option(7, "--seed", help="Market seed: same seed, same prices and fills."),
    experiment: bool = typer.Option(False, "--experiment", help="Run in experiment mode (nothing transmitted)."),
    keep: bool = typer.Option(
        False, "--keep", help="Keep the demo's work folder (its config.yaml and journal) instead of deleting it."
    ),
) -> None:
    """Run one simulated trading day end to end against the bundled simulator (well under a minute)."""
    from icbot import startup
    from icbot.clock import Clock
    from icbot.runner.demo import pick_day, run_demo

    startup.started()  # the demo runs a simulated day in this process (icbot/startup.py)

    console = Console(highlight=False)
    # The empty environ ignores ICBOT_CONFIG, ICBOT_DB and ICBOT_NOTIFY_URLS, so the demo never touches the user's
    # journal or alert URLs. load_config still falls back to ./config.yaml in the current directory: a bad one
    # stops the demo (exit 2), a good one changes nothing, since the simulated day runs on the demo's own
    # config.yaml in the work folder (mode, simulator port, journal; everything else the built-in defaults).
    config = load_config(None, {})
    requested = parse_day(day) if day else None
    try:
        session_day = pick_day(Clock.from_env(), config, requested)
    except ValueError as exc:
        raise UsageError(f"--date: {exc}") from exc
    mode = Mode.EXPERIMENT if experiment else Mode.PAPER
    workdir = Path(tempfile.mkdtemp(prefix="icbot-demo-"))
    try:
        result = run_demo(
            config=config, day=session_day, db=db, seed=seed, mode=mode, echo=console.print, workdir=workdir
        )
        console.print()
        show_day(console, config, result.db, session_day, "experiment" if experiment else "paper")
        day_report = report_of_day(config, result.db, session_day, str(mode))
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if keep:
        where = f"journal: {result.db}; work folder kept: {workdir}"
    elif db is not None:
        where = f"journal: {result.db}"
    else:
        where = "journal deleted with the work folder (--db FILE or --keep keeps it)"
    console.print(f"run-today exit {result.run_today_code}; check exits {result.check_codes}; {where}")
    console.print()
    console.print(day_report)
    worst = max([result.run_today_code, *result.check_codes])
    raise typer.Exit(EXIT_OK if worst == 0 else worst)


def show_day(
    console: Console, config: Config, db: Path, day: date, mode: Literal["paper", "live", "experiment"]
) -> None:
    """The simulated day as `icbot status --offline` would show it at the close, then its orders in full."""
    from dataclasses import replace

    from icbot.cli.day_view import orders_table, render_status
    from icbot.clock import Clock, ny_datetime
    from icbot.runner.status import read_day, view

    shown = replace(config, mode=mode, storage=replace(config.storage, db=db))
    at_close = Clock.virtual(ny_datetime(day.isoformat(), "16:00"), 0.0)  # frozen: the view only reads it
    facts = read_day(shown, at_close, day, cache=False)
    console.print(render_status(view(shown, facts)))
    if facts.journal.orders:
        console.print()
        console.print(orders_table(facts.journal.orders))


def report_of_day(config: Config, db: Path, day: date, mode: str) -> RenderableType:
    """`icbot report`'s summary of the simulated day (docs/report.md), read before the work folder goes."""
    from rich.text import Text

    from icbot.report.journal import load_report, open_journal
    from icbot.report.terminal import summary

    store = open_journal(db)
    if store is None:
        return Text("icbot report: nothing was journaled")
    try:
        report = load_report(store, mode=mode, target_delta=config.strikes.target_delta, start=day, end=day, legs=False)
    finally:
        store.close()
    return summary(report)


def register(app: typer.Typer) -> None:
    from icbot.cli.plain_params import PlainCommand

    app.command("demo", cls=PlainCommand)(demo)
