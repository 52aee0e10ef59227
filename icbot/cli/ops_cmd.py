"""`icbot kill` and `icbot resume`: the emergency stop and its undo (docs/operations.md, "Stopping icbot")."""

from __future__ import annotations

from pathlib import Path

import typer

from icbot.cli.trade_cmd import CONFIG_OPTION, _running
from icbot.errors import EXIT_CRITICAL, EXIT_OK


def kill(
    config_path: Path | None = CONFIG_OPTION,
    reason: str = typer.Option("kill", "--reason", help="Why, for the journal and the alert."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before cancelling and closing."),
    keep_position: bool = typer.Option(
        False, "--keep-position", help="Only halt and cancel the entry; the exits stay working."
    ),
) -> None:
    """Emergency stop: halt first, cancel every icbot order, close today's condor at market, confirm flat."""
    from icbot.runner.kill import KillPlan, run_kill
    from icbot.runner.setup import load, open_context

    config, clock = load(config_path)
    _running(clock, "kill")

    def confirm(plan: KillPlan) -> bool:
        if yes or not (plan.cancel or plan.close_quantity):
            return True
        return typer.confirm("Go ahead?", default=False)

    with open_context("kill", config, clock, echo=typer.echo) as ctx:
        import asyncio  # here, not at import time: most commands never run an event loop

        code = asyncio.run(run_kill(ctx, reason=reason, keep_position=keep_position, confirm=confirm))
        ctx.finish(code, "flat" if code == EXIT_OK else "incomplete")
    raise typer.Exit(code)


def resume(
    config_path: Path | None = CONFIG_OPTION,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before clearing the halt."),
) -> None:
    """Clear the halt `icbot kill` set, so the next run may trade again."""
    from icbot.runner.kill import resume as resume_halt
    from icbot.runner.setup import load, open_context

    config, clock = load(config_path)
    with open_context("resume", config, clock, echo=typer.echo) as ctx:
        halt = ctx.store.halt_state()
        if halt is None:
            typer.echo("not halted: nothing to resume")
            ctx.finish(EXIT_OK, "not halted")
            raise typer.Exit(EXIT_OK)
        typer.echo(f"halted since {halt.at:%Y-%m-%d %H:%M} UTC by {halt.by}: {halt.reason}")
        if not yes and not typer.confirm("Clear the halt?", default=False):
            ctx.finish(EXIT_CRITICAL, "halt kept")
            typer.echo("halt kept")
            raise typer.Exit(EXIT_CRITICAL)
        typer.echo(resume_halt(ctx))
        typer.echo(_next_run(ctx))
        ctx.finish(EXIT_OK, "resumed")
    raise typer.Exit(EXIT_OK)


def _next_run(ctx: object) -> str:
    """What the next scheduled run will do, in one line."""
    from icbot.runner.context import RunContext
    from icbot.runner.sessions import table_for

    assert isinstance(ctx, RunContext)
    trade = ctx.trade()
    if trade is not None and trade.is_open:
        return "today's trade is open: `icbot check` monitors it; run-today repairs missing exits if run again"
    now = ctx.clock.now_ny()
    for s in table_for(ctx.config).next_sessions(now.date(), 2, ctx.config.entry, ctx.config.exits):
        if s.deadline_at > now:
            return f"next entry: {s.entry_at:%a %Y-%m-%d %H:%M} ET (run-today trades then unless halted again)"
    return "no session ahead in the exchange calendar"


def register(app: typer.Typer) -> None:
    from icbot.cli.plain_params import PlainCommand

    app.command("kill", cls=PlainCommand)(kill)
    app.command("resume", cls=PlainCommand)(resume)
