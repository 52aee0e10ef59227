"""`icbot run-today` and `icbot check`: the scheduled trading commands.

The runner (ib_async, the journal, pandas through sqlite-utils) is imported inside each command, so that
`icbot --version`, `config check` and `schedule` do not pay for it at start-up.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import typer

from icbot.clock import Clock
from icbot.errors import EXIT_OK, UsageError

CONFIG_OPTION = typer.Option(
    None,
    "--config",
    "-c",
    help="config.yaml to use (else $ICBOT_CONFIG, ./config.yaml).",
    readable=False,  # icbot reads the file itself and says in one line what is wrong with it
)


def _running(clock: Clock, command: str) -> None:
    """A trading command waits (for the gateway, the entry time, fills): a frozen ICBOT_CLOCK would never end."""
    if clock.speed == 0:
        raise UsageError(
            f"ICBOT_CLOCK: speed 0 freezes virtual time, and {command} has to wait for things; "
            "allowed: a speed above 0 (x0 only suits commands that never wait, e.g. icbot schedule)"
        )


def run_today(
    config_path: Path | None = CONFIG_OPTION,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Say why when there is nothing to do."),
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Run as in experiment mode: everything up to the order, nothing transmitted, journaled as experiment.",
    ),
) -> None:
    """Trade today's iron condor (fired by launchd at 09:31 ET); safe to run again the same day."""
    from icbot.core.schedule import OutOfCalendarRange
    from icbot.runner import run_today as run_mod
    from icbot.runner.setup import load, open_context, today_session
    from icbot.runner.signals import stoppable
    from icbot.store.lock import AlreadyRunning, day_lock

    config, clock = load(config_path)
    if dry_run:  # the experiment path, without editing the config: nothing can be transmitted
        config = replace(config, mode="experiment")
    _running(clock, "run-today")
    try:
        session, today = today_session(config, clock)
    except OutOfCalendarRange as exc:  # a virtual clock far off, or an install older than the trading day
        raise UsageError(f"{exc}; icbot cannot trade outside the exchange calendar it knows") from None
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
                import asyncio  # here, not at import time: most commands never run an event loop

                code = asyncio.run(stoppable(lambda stop: run_mod.run_day(ctx, session, stop)))
        except AlreadyRunning as exc:
            ctx.finish(EXIT_OK, str(exc))
            typer.echo(f"icbot: {exc}", err=True)
            raise typer.Exit(EXIT_OK) from exc
        trade = ctx.trade()
        ctx.finish(code, "" if trade is None else trade.status.value)
    raise typer.Exit(code)


def check(
    config_path: Path | None = CONFIG_OPTION,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Say so when there is nothing to check."),
) -> None:
    """Reconcile the open trade with the broker, account for exits, repair missing exits, alert."""
    # The common case every few minutes is nothing open: learn it from the journal alone (stdlib sqlite3), before
    # importing the broker or the writing store — no connection, no journal row.
    from icbot.config import load_config
    from icbot.runner.candidates import trades_to_check
    from icbot.store.reader import JournalReader, NoJournal

    config, clock = load_config(config_path, os.environ), Clock.from_env(os.environ)
    _running(clock, "check")
    try:
        with JournalReader.open(config.db_path) as reader:
            candidates = trades_to_check(reader, config.mode)
    except NoJournal:
        candidates = []
    if not candidates:
        _record_bars(config, clock)  # what-if bars of today's closed trade (docs/whatif.md); usually nothing
        _quiet_day(config, clock, verbose)
    from icbot.runner import check as check_mod
    from icbot.runner.setup import open_context
    from icbot.runner.signals import stoppable
    from icbot.store.lock import AlreadyRunning, day_lock

    with open_context("check", config, clock, echo=typer.echo) as ctx, ExitStack() as locks:
        trades = []
        for trade in candidates:
            day = trade.trade_date
            try:
                locks.enter_context(day_lock(config.db_path.parent, day, config.mode))
            except AlreadyRunning as exc:
                typer.echo(f"skipping {day}: {exc}")
                continue
            trades.append(trade)
        import asyncio  # here, not at import time: most commands never run an event loop

        code = asyncio.run(stoppable(lambda stop: check_mod.run_check(ctx, trades, stop)))
        ctx.finish(code)
    raise typer.Exit(code)


def _record_bars(config: Any, clock: Clock) -> None:
    """Today's trade is closed but its bars for what-if replays are not complete: record them (never fails)."""
    from icbot.core.whatif.bars import is_complete, recording_due
    from icbot.store.reader import JournalReader, NoJournal

    if not config.whatif.record:
        return
    today = clock.now_ny().date()
    try:
        with JournalReader.open(config.db_path) as reader:
            due = recording_due(reader.trade(today, config.mode), is_complete(reader.events(today, config.mode)))
    except NoJournal:
        return
    if not due:
        return
    import asyncio

    from icbot.runner import check as check_mod
    from icbot.runner.setup import open_context

    with open_context("check", config, clock, echo=typer.echo) as ctx:
        ctx.finish(asyncio.run(check_mod.run_recording(ctx)), "bars")


def _quiet_day(config: Any, clock: Clock, verbose: bool) -> NoReturn:
    """Nothing open: the missed-run alert and the end-of-day sweep when due (icbot/core/day_end.py), else exit 0
    at once — decided from the journal and the cached session table, without the broker."""
    from icbot.core.day_end import due_rounds
    from icbot.core.schedule import OutOfCalendarRange
    from icbot.runner.sessions import day_session
    from icbot.store.reader import JournalReader, NoJournal

    now = clock.now_ny()
    try:
        session = day_session(config, now.date())
        with JournalReader.open(config.db_path) as reader:
            due = due_rounds(reader, config.mode, session, now)
    except (NoJournal, OutOfCalendarRange):
        due = []
    if not due or session is None:
        if verbose:
            typer.echo("no open trade: nothing to check")
        raise typer.Exit(EXIT_OK)
    from icbot.runner.day_end import run_rounds
    from icbot.runner.setup import open_context
    from icbot.runner.signals import stoppable

    with open_context("check", config, clock, echo=typer.echo) as ctx:
        import asyncio  # here, not at import time: most commands never run an event loop

        code = asyncio.run(stoppable(lambda stop: run_rounds(ctx, due, session)))
        ctx.finish(code, ", ".join(due))
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    from icbot.cli.plain_params import PlainCommand

    app.command("run-today", cls=PlainCommand)(run_today)
    app.command("check", cls=PlainCommand)(check)
