"""`icbot status`: the trader's one-glance view over SSH (docs/operations.md, "icbot status").

Journal first, broker second: on a terminal the journal's view is drawn at once and redrawn when the gateway
has answered (or the timeout passed); `--json`, NO_COLOR and a non-terminal stdout print once, after that.
Everything heavy is imported inside the command, and the journal-only path imports neither sqlite-utils
(pandas) nor exchange_calendars nor ib_async: `status --offline` must answer in well under a third of a second.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from icbot.cli.trade_cmd import CONFIG_OPTION
from icbot.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from icbot.clock import Clock
    from icbot.config import Config


def parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--date: {text!r} is not a date YYYY-MM-DD") from None


def status(
    config_path: Path | None = CONFIG_OPTION,
    day: str | None = typer.Option(
        None, "--date", metavar="YYYY-MM-DD", help="Trade date to show (YYYY-MM-DD); default today in New York."
    ),
    offline: bool = typer.Option(False, "--offline", help="Journal only: do not ask the gateway."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object (keys in docs/operations.md)."),
    watch: float | None = typer.Option(
        None, "--watch", min=1.0, max=3600.0, metavar="SECONDS", help="Redraw every SECONDS until Ctrl-C."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", min=0.5, max=60.0, metavar="SECONDS", help="How long the gateway may answer (default 3)."
    ),
) -> None:
    """Today's phases, the trade, its exit orders, P/L, halt, last check and the next entry, at a glance.

    Exit code 0, or 4 when the view shows risk (a position without complete exits, a broker/journal conflict).
    """
    import os
    import sys

    from rich.console import Console

    from icbot.clock import Clock
    from icbot.config import load_config
    from icbot.runner.status import BROKER_TIMEOUT

    requested = parse_day(day)
    config = load_config(config_path, os.environ)
    clock = Clock.from_env()
    plain = bool(os.environ.get("NO_COLOR")) or not sys.stdout.isatty()
    console = Console(highlight=False, color_system=None if plain else "auto", soft_wrap=False)
    console.width = min(console.width, 80)
    code = 0
    try:
        while True:
            code = _once(
                config,
                clock,
                console,
                requested,
                offline=offline,
                json_out=json_out,
                plain=plain,
                timeout=BROKER_TIMEOUT if timeout is None else timeout,
            )
            if watch is None:
                break
            _pause(watch)
            if not json_out and not plain:
                console.clear()
            elif not json_out:
                typer.echo("")
    except KeyboardInterrupt:
        if watch is None:
            raise
    raise typer.Exit(code)


def _once(
    config: Config,
    clock: Clock,
    console: Console,
    day: date | None,
    *,
    offline: bool,
    json_out: bool,
    plain: bool,
    timeout: float,
) -> int:
    """Gather and show one view; its exit code."""
    from icbot.cli.day_view import render_status
    from icbot.runner.status import views

    stream = views(config, clock, day=day, offline=offline, timeout=timeout)
    if json_out or plain:
        *_, last = stream
        if json_out:
            import json

            from icbot.core.day_view import view_json

            typer.echo(json.dumps(view_json(last), ensure_ascii=False))
        else:  # plain text: no trailing blanks from the table cells' padding
            with console.capture() as drawn:
                console.print(render_status(last))
            typer.echo("\n".join(line.rstrip() for line in drawn.get().splitlines()))
        return last.exit_code
    from rich.live import Live

    first = next(stream)
    with Live(render_status(first), console=console, auto_refresh=False, vertical_overflow="visible") as live:
        last = first
        for later in stream:
            last = later
            live.update(render_status(later), refresh=True)
    return last.exit_code


def _pause(seconds: float) -> None:
    """The --watch interval, in real seconds (a screen refresh, not trading time)."""
    import threading

    from icbot import startup

    startup.started()  # --watch redraws until Ctrl-C: collection resumes (icbot/startup.py)

    threading.Event().wait(seconds)


def register(app: typer.Typer) -> None:
    from icbot.cli.plain_params import PlainCommand

    app.command("status", cls=PlainCommand)(status)
