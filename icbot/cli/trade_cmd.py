"""`icbot run-today` and `icbot check`: the scheduled trading commands.

The runner (ib_async, the journal, pandas through sqlite-utils) is imported inside each command, so that
`icbot --version`, `config check` and `schedule` do not pay for it at start-up.
"""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import typer

from icbot.errors import EXIT_OK

CONFIG_OPTION = typer.Option(None, "--config", "-c", help="config.yaml to use (else $ICBOT_CONFIG, ./config.yaml).")


def run_today(
    config_path: Path | None = CONFIG_OPTION,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Say why when there is nothing to do."),
) -> None:
    """Trade today's iron condor (fired by launchd at 09:31 ET); safe to run again the same day."""
    from icbot.runner import run_today as run_mod
    from icbot.runner.setup import load, open_context, today_session
    from icbot.store.lock import AlreadyRunning, day_lock

    config, clock = load(config_path)
    session, today = today_session(config, clock)
    if session is None:
        if verbose:
            typer.echo(f"{today} is not a trading session: nothing to do")
        raise typer.Exit(EXIT_OK)
    with open_context("run-today", config, clock, echo=typer.echo) as ctx:
        go, why = run_mod.should_run(ctx, session)
        if not go:
            ctx.finish(EXIT_OK, why)
            if verbose:
                typer.echo(why)
            raise typer.Exit(EXIT_OK)
        try:
            with day_lock(config.db_path.parent, ctx.trade_date, ctx.mode):
                code = asyncio.run(run_mod.run_day(ctx, session))
        except AlreadyRunning as exc:
            ctx.finish(EXIT_OK, str(exc))
            typer.echo(f"icbot: {exc}", err=True)
            raise typer.Exit(EXIT_OK) from exc
        ctx.finish(code, str((ctx.trade() or {}).get("status", "")))
    raise typer.Exit(code)


def check(
    config_path: Path | None = CONFIG_OPTION,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Say so when there is nothing to check."),
) -> None:
    """Reconcile the open trade with the broker, account for exits, repair missing exits, alert."""
    from icbot.runner import check as check_mod
    from icbot.runner.setup import load, open_context
    from icbot.store.lock import AlreadyRunning, day_lock
    from icbot.store.repo import Store

    config, clock = load(config_path)
    if not config.db_path.exists():
        if verbose:
            typer.echo("no journal yet: nothing to check")
        raise typer.Exit(EXIT_OK)
    reader = Store.open(config.db_path, readonly=True)
    try:
        candidates = check_mod.trades_to_check(reader, config.mode)
    finally:
        reader.close()
    if not candidates:  # the common case every few minutes: no connection, no journal row
        if verbose:
            typer.echo("no open trade: nothing to check")
        raise typer.Exit(EXIT_OK)
    with open_context("check", config, clock, echo=typer.echo) as ctx, ExitStack() as locks:
        trades = []
        for trade in candidates:
            day = date.fromisoformat(str(trade["trade_date"]))
            try:
                locks.enter_context(day_lock(config.db_path.parent, day, config.mode))
            except AlreadyRunning as exc:
                typer.echo(f"skipping {day}: {exc}")
                continue
            trades.append(trade)
        code = asyncio.run(check_mod.run_check(ctx, trades))
        ctx.finish(code)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("run-today")(run_today)
    app.command("check")(check)
