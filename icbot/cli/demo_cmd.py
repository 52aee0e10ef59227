"""`icbot demo`: a simulated trading day end to end, then the day as the journal recorded it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.console import Console

from icbot.config import load_config
from icbot.errors import EXIT_OK, UsageError


def demo(
    day: str | None = typer.Option(None, "--date", help="Session day to simulate (YYYY-MM-DD); default the next one."),
    db: Path | None = typer.Option(None, "--db", help="Keep the journal in this SQLite file (default: a temp file)."),
    seed: int = typer.Option(7, "--seed", help="Market seed: same seed, same prices and fills."),
    experiment: bool = typer.Option(False, "--experiment", help="Run in experiment mode (nothing transmitted)."),
) -> None:
    """Run one simulated trading day end to end against the bundled simulator (well under a minute)."""
    from icbot.cli.day_view import day_view
    from icbot.clock import Clock
    from icbot.runner.demo import pick_day, run_demo
    from icbot.store.repo import Store

    console = Console(highlight=False)
    config = load_config(None, {})  # the demo never reads the user's config, database or alert URLs
    try:
        requested = date.fromisoformat(day) if day else None
        session_day = pick_day(Clock.from_env(), config, requested)
    except ValueError as exc:
        raise UsageError(f"--date: {exc}") from exc
    mode = "experiment" if experiment else "paper"
    result = run_demo(config=config, day=session_day, db=db, seed=seed, mode=mode, echo=console.print)
    store = Store.open(result.db, readonly=True)
    try:
        console.print()
        console.print(day_view(store, session_day, mode))
    finally:
        store.close()
    console.print(f"run-today exit {result.run_today_code}; check exits {result.check_codes}; journal: {result.db}")
    worst = max([result.run_today_code, *result.check_codes])
    raise typer.Exit(EXIT_OK if worst == 0 else worst)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
