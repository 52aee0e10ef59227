"""`icbot doctor`: a go/no-go for today, one line per check (icbot.core.doctor), what to do for each problem.

Run by the scheduler at 09:15 ET (`--scheduled`: quiet outside its window, an urgent alert on a no-go) and by hand
at any time. Exit 0 go, 3 no-go, 2 usage.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from icbot.clock import Clock
from icbot.errors import ConfigError

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="config.yaml to use (else $ICBOT_CONFIG, ./config.yaml).", readable=False),
]


def doctor(
    config_path: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    test_alert: Annotated[
        bool, typer.Option("--test-alert", help="Send a test alert through every configured service.")
    ] = False,
    scheduled: Annotated[
        bool,
        typer.Option(
            "--scheduled",
            help="As the scheduler runs it: only on a session day between 09:00 ET and the entry (else exit 0 "
            "quietly), and an urgent alert when the verdict is no-go.",
        ),
    ] = False,
    agents_dir: Annotated[
        Path | None,
        typer.Option(
            "--agents-dir",
            help="Where the scheduler's agents are (default ~/Library/LaunchAgents or ~/.config/systemd/user); "
            "with it, launchctl is not asked whether they are loaded.",
            file_okay=False,
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Show the broker's warnings; with --scheduled, say why it did nothing."),
    ] = False,
) -> None:
    """Go/no-go for today: config, journal, session, halt, gateway, account, read-only API, clock, market data,
    leftovers, scheduler and alerts — each one line, with what to do when it fails (exit 0 go, 3 no-go)."""
    from icbot.config import EntryConfig, ExitsConfig, load_config
    from icbot.runner.doctor import run_doctor, scheduled_window
    from icbot.runner.sessions import table_for

    if not verbose:  # "connect attempt 3 failed" and the like: the gateway line says it once
        logging.getLogger("icbot.broker").setLevel(logging.ERROR)
    clock = Clock.from_env()
    config = None
    error = None
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        error = str(exc)
    if scheduled:  # an invalid configuration is judged with the default entry time: it deserves the alert too
        now = clock.now_ny()
        entry, exits = (config.entry, config.exits) if config is not None else (EntryConfig(), ExitsConfig())
        session = table_for(config).session_times(now.date(), entry, exits)
        why = scheduled_window(session, now)
        if why is not None:
            if verbose:
                typer.echo(why)
            raise typer.Exit(0)
    outcome = run_doctor(
        config,
        config_error=error,
        config_source=config_path,
        clock=clock,
        environ=os.environ,
        machine=_machine(agents_dir),
        test_alert=test_alert,
        scheduled=scheduled,
    )
    if as_json:
        typer.echo(json.dumps(_json(outcome, clock), indent=2))
    else:
        _print(outcome, clock)
    raise typer.Exit(outcome.exit_code)


def _machine(agents_dir: Path | None) -> Any:
    from icbot.runner.doctor import Machine
    from icbot.runner.scheduler import detect_platform, machine_zone

    zone, name = machine_zone(os.environ)
    try:
        platform: str | None = detect_platform()
    except Exception:
        platform = None
    target = agents_dir.expanduser().absolute() if agents_dir is not None else None
    return Machine(zone=zone, zone_name=name, platform=platform, target_dir=target)


def _print(outcome: Any, clock: Clock) -> None:
    from icbot.core.doctor import Level, summary_line

    now = clock.now_ny()
    zone = _zone()
    local = f" ({now.astimezone(zone):%H:%M %Z})" if zone is not None else ""
    mode = f", mode {outcome.facts.config.mode}" if outcome.facts.config.error is None else ""
    typer.echo(f"icbot doctor — {now:%a %Y-%m-%d %H:%M:%S} ET{local}{mode}")
    width = max(len(c.key) for c in outcome.checks)
    for c in outcome.checks:
        mark = c.level.mark
        pad = " " if mark == "⚠️" else ""  # the warning sign is one column narrower in most terminals
        typer.echo(f"{mark}{pad} {c.key:<{width}}  {c.message}")
        if c.fix and c.level in (Level.FAIL, Level.WARN):
            typer.echo(f"   {'':<{width}}  → {c.fix}")
    typer.echo(f"{summary_line(outcome.checks)} (exit {outcome.exit_code})")
    if outcome.alert_sent is not None:
        typer.echo("no-go alert " + ("sent" if outcome.alert_sent else "NOT delivered (see the alerts table)"))


def _zone() -> Any:
    from icbot.runner.scheduler import machine_zone

    return machine_zone(os.environ)[0]


def _json(outcome: Any, clock: Clock) -> dict[str, Any]:
    return {
        "at": clock.now_ny().isoformat(),
        "go": outcome.exit_code == 0,
        "exit_code": outcome.exit_code,
        "alert_sent": outcome.alert_sent,
        "checks": [{"key": c.key, "level": str(c.level), "message": c.message, "fix": c.fix} for c in outcome.checks],
    }


def register(app: typer.Typer) -> None:
    from icbot.cli.plain_params import PlainCommand

    app.command("doctor", cls=PlainCommand)(doctor)
