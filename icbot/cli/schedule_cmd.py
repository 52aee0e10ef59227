"""`icbot schedule`: the coming sessions with entry, deadline and time exit in New York and local time.

The point is to let the user see, before it matters, that 09:32 ET is 15:32 in Berlin most of the year but
14:32 in the weeks when the US and Europe switch daylight saving on different Sundays, and which days
are holidays or half days.

`icbot schedule` (or `icbot schedule list`) lists; `install`, `uninstall` and `show` manage the scheduler's agents
(launchd on macOS, systemd user timers on Linux; icbot/core/agents.py decides what they contain,
icbot/runner/scheduler.py writes them).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console

from icbot.cli.plain_params import PlainCommand, PlainGroup
from icbot.clock import NEW_YORK, Clock
from icbot.config import EntryConfig, ExitsConfig, load_config
from icbot.errors import EXIT_NO_TRADE, UsageError

if TYPE_CHECKING:  # install/uninstall/show import these when they run, not every `icbot` start
    from icbot.core.agents import NextFiring, SchedulerStatus
    from icbot.core.session_table import SessionTable
    from icbot.runner.scheduler import CommandResult, Report, Runner, Setup

MAX_DAYS = 1000


def build_rows(
    table: SessionTable,
    from_day: date,
    n: int,
    entry: EntryConfig,
    exits: ExitsConfig,
    zone: tzinfo | None,
) -> list[dict[str, Any]]:
    """Plain rows for the next `n` sessions from `from_day`, with the skipped weekdays between them.

    `zone` None means the machine's local time zone, resolved per instant by the C library (so each
    date gets that date's daylight-saving offset).
    """
    sessions = table.next_sessions(from_day, n, entry, exits)
    rows: list[dict[str, Any]] = []
    if sessions:
        for skipped in table.skipped_weekdays(from_day, sessions[-1].date):
            rows.append(
                {
                    "kind": "holiday",
                    "date": skipped.date.isoformat(),
                    "weekday": f"{skipped.date:%a}",
                    "name": skipped.name,
                }
            )
    for s in sessions:
        local = {name: _to_local(at, zone) for name, at in (("entry", s.entry_at), ("deadline", s.deadline_at))}
        local["time_exit"] = _to_local(s.time_exit_at, zone)
        rows.append(
            {
                "kind": "session",
                "date": s.date.isoformat(),
                "weekday": f"{s.date:%a}",
                "open": s.open.isoformat(),
                "close": s.close.isoformat(),
                "entry": s.entry_at.isoformat(),
                "deadline": s.deadline_at.isoformat(),
                "time_exit": s.time_exit_at.isoformat(),
                "early_close": s.is_early_close,
                "time_exit_clamped": s.time_exit_clamped,
                "close_et": f"{s.close:%H:%M}",
                "entry_et": f"{s.entry_at:%H:%M}",
                "deadline_et": f"{s.deadline_at:%H:%M}",
                "time_exit_et": f"{s.time_exit_at:%H:%M}",
                "entry_local": _hhmm(local["entry"], s.date),
                "deadline_local": _hhmm(local["deadline"], s.date),
                "time_exit_local": _hhmm(local["time_exit"], s.date),
                "local_abbrev": local["entry"].tzname() or "",
                "local_offset_hours": _hours(_offset(s.entry_at, zone)),
                "usual_offset_hours": _usual_offset(s.date.year, zone),
                "local": {name: at.isoformat() for name, at in local.items()},
            }
        )
    rows.sort(key=lambda r: r["date"])
    return rows


def _to_local(at: datetime, zone: tzinfo | None) -> datetime:
    return at.astimezone(zone) if zone is not None else at.astimezone()


def _hhmm(at: datetime, session_day: date) -> str:
    """HH:MM, with the day shift when the local date is not the New York session date (Asia, Australia)."""
    shift = (at.date() - session_day).days
    return f"{at:%H:%M}" + (f" ({shift:+d}d)" if shift else "")


def _offset(at: datetime, zone: tzinfo | None) -> timedelta:
    """Local wall time minus New York wall time at the instant `at`."""
    return (_to_local(at, zone).utcoffset() or timedelta(0)) - (at.utcoffset() or timedelta(0))


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def _usual_offset(year: int, zone: tzinfo | None) -> float | None:
    """The local−ET offset when mid-winter and mid-summer agree (Berlin: +6 h); None when they do not.

    A session whose offset differs from this falls in a DST mismatch week (the US and Europe switch on
    different Sundays), which is exactly when a fixed local-time alarm would be an hour off.
    """
    winter = _offset(datetime(year, 1, 15, 12, tzinfo=NEW_YORK), zone)
    summer = _offset(datetime(year, 7, 15, 12, tzinfo=NEW_YORK), zone)
    return _hours(winter) if winter == summer else None


def local_zone(environ: Mapping[str, str]) -> tuple[tzinfo | None, str]:
    """The machine's time zone as (ZoneInfo, IANA name) when it can be named, else (None, "local")."""
    from icbot.runner.scheduler import machine_zone

    return machine_zone(environ)


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--tz: {name!r} is not a known IANA time zone (e.g. Europe/Berlin, America/New_York)"
        ) from None


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--from: {text!r} is not a date YYYY-MM-DD") from None


ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="config.yaml to use (else $ICBOT_CONFIG, ./config.yaml).", readable=False),
]
TzOption = Annotated[str | None, typer.Option("--tz", help="Time zone for the local times (default: this machine's).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


class _ScheduleGroup(PlainGroup):
    """`schedule` lists by itself; a word after it that is no subcommand is an extra argument, as it was before
    the subcommands existed (`icbot schedule --json true` says the flag takes no value, not "no such command")."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and self.get_command(ctx, args[0]) is None:
            plural = "s" if len(args) > 1 else ""
            ctx.fail(f"Got unexpected extra argument{plural} ({' '.join(args)})")
        return super().resolve_command(ctx, args)


schedule_app = typer.Typer(
    name="schedule",
    cls=_ScheduleGroup,
    invoke_without_command=True,
    add_completion=False,
    rich_markup_mode=None,  # plain help: typer 0.29's rich help shows flags as "<bool>" (see icbot.cli.app)
)


def _list(from_: str | None, days: int, tz: str | None, as_json: bool, config_path: Path | None) -> None:
    if not 1 <= days <= MAX_DAYS:
        raise UsageError(f"--days: {days} is out of range (1–{MAX_DAYS})")
    zone, label = (parse_zone(tz), tz) if tz else local_zone(os.environ)
    config = load_config(config_path)
    start = parse_day(from_) if from_ else Clock.from_env().now_ny().date()

    from icbot.core.schedule import OutOfCalendarRange
    from icbot.runner.sessions import table_for

    try:
        rows = build_rows(table_for(config), start, days, config.entry, config.exits, zone)
    except OutOfCalendarRange as exc:
        raise UsageError(f"--from/--days: {exc}") from None
    if as_json:
        payload = {"from": start.isoformat(), "sessions": days, "time_zone": label, "days": rows}
        typer.echo(json.dumps(payload, indent=2))
        return
    from icbot.render import schedule_table

    title = f"Next {days} sessions from {start.isoformat()} — America/New_York and {label}"
    console = Console(highlight=False, width=None if _is_tty() else 140)
    console.print(schedule_table(rows, zone_label=label, title=title))


FromOption = Annotated[
    str | None, typer.Option("--from", help="First day to list, YYYY-MM-DD (default: today in New York).")
]
DaysOption = Annotated[int, typer.Option("--days", "-n", help=f"How many sessions to list (1–{MAX_DAYS}).")]


@schedule_app.callback()
def schedule(
    ctx: typer.Context,
    from_: FromOption = None,
    days: DaysOption = 10,
    tz: TzOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """The next sessions' entry, deadline and time exit in New York and local time (holidays, half days and the
    US/EU daylight-saving mismatch weeks marked); `install`, `uninstall` and `show` manage the scheduler."""
    if ctx.invoked_subcommand is None:
        _list(from_, days, tz, as_json, config_path)


@schedule_app.command("list", cls=PlainCommand)
def list_(
    from_: FromOption = None,
    days: DaysOption = 10,
    tz: TzOption = None,
    as_json: JsonOption = False,
    config_path: ConfigOption = None,
) -> None:
    """The next sessions (the same as `icbot schedule` alone)."""
    _list(from_, days, tz, as_json, config_path)


# -- install / uninstall / show ---------------------------------------------------------------------------
PlatformOption = Annotated[
    str | None, typer.Option("--platform", help="launchd or systemd (default: launchd on macOS, systemd on Linux).")
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Print every file and command instead; change nothing.")]
TargetOption = Annotated[
    Path | None,
    typer.Option(
        "--target-dir",
        help="Write the agents here instead of ~/Library/LaunchAgents or ~/.config/systemd/user, and run no "
        "launchctl/systemctl (staging, tests).",
        file_okay=False,
    ),
]
LogDirOption = Annotated[
    Path | None, typer.Option("--log-dir", help="launchd: where the agents append their output (~/Library/Logs/icbot).")
]
IcbotOption = Annotated[
    Path | None, typer.Option("--icbot", help="The icbot program the agents run (default: this one).")
]


def _setup(
    *,
    platform: str | None,
    tz: str | None,
    target_dir: Path | None,
    log_dir: Path | None,
    icbot: Path | None,
    config_path: Path | None,
    dry_run: bool,
) -> Setup:
    """Everything install needs, from the flags and the machine."""
    from icbot.core.agents import LAUNCHD
    from icbot.runner.scheduler import detect_platform, machine_zone, prepare

    plat = _platform(platform)
    zone, zone_name = _zone(tz)
    config = load_config(config_path)
    machine, machine_name = machine_zone(os.environ)
    if tz and target_dir is None and not dry_run and plat == LAUNCHD and machine is not None and machine_name != tz:
        raise UsageError(
            f"--tz: {tz} is not this Mac's time zone ({machine_name}); launchd fires in the Mac's local time, so "
            "these agents would fire at the wrong moments. Use --tz with --dry-run to check another zone"
        )
    if target_dir is None and not dry_run and plat != detect_platform():
        raise UsageError(
            f"{plat} agents cannot be installed on this machine ({detect_platform()}); "
            "use --dry-run to see them, or --target-dir to write them somewhere"
        )
    return prepare(
        config,
        platform=plat,
        zone=zone,
        zone_name=zone_name,
        today=Clock.from_env().now_ny().date(),
        target_dir=target_dir,
        log_dir=log_dir,
        icbot=str(icbot.expanduser().absolute()) if icbot is not None else None,
        dry_run=dry_run,
        runner=None if dry_run or target_dir else make_runner(),
    )


def make_runner() -> Runner:
    """The runner for launchctl/systemctl; tests replace this function, so nothing real is ever run from them."""
    from icbot.runner.scheduler import SystemRunner

    return SystemRunner()


def _platform(platform: str | None) -> str:
    from icbot.core.agents import PLATFORMS
    from icbot.runner.scheduler import detect_platform

    if platform is None:
        return detect_platform()
    if platform not in PLATFORMS:
        raise UsageError(f"--platform: {platform!r} is not one of {', '.join(PLATFORMS)}")
    return platform


def _zone(tz: str | None) -> tuple[tzinfo, str]:
    if tz:
        return parse_zone(tz), tz
    zone, name = local_zone(os.environ)
    if zone is None:
        raise UsageError(
            "cannot name this machine's time zone (TZ unset, /etc/localtime not a zoneinfo link); pass --tz ZONE"
        )
    return zone, name


@schedule_app.command("install", cls=PlainCommand)
def install(
    dry_run: DryRunOption = False,
    tz: TzOption = None,
    platform: PlatformOption = None,
    target_dir: TargetOption = None,
    log_dir: LogDirOption = None,
    icbot: IcbotOption = None,
    config_path: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Install the agents: run-today before each entry, doctor at 09:15 ET, check during the trading window.

    launchd (macOS): writes ~/Library/LaunchAgents/com.icbot.*.plist for this Mac's time zone and bootstraps them;
    systemd (Linux): writes user timers in New York time and enables them. Safe to run again.
    """
    setup = _setup(
        platform=platform,
        tz=tz,
        target_dir=target_dir,
        log_dir=log_dir,
        icbot=icbot,
        config_path=config_path,
        dry_run=dry_run,
    )
    report = setup.scheduler.install(setup.plan)
    nexts = _next_firings(setup)
    if as_json:
        typer.echo(json.dumps(_install_json(setup, report, nexts, dry_run), indent=2))
        return
    _print_install(setup, report, nexts, dry_run)


@schedule_app.command("uninstall", cls=PlainCommand)
def uninstall(
    dry_run: DryRunOption = False,
    platform: PlatformOption = None,
    target_dir: TargetOption = None,
) -> None:
    """Stop and remove exactly what `install` wrote (the agent files; the log folder only when empty)."""
    from icbot.runner.scheduler import RecordingRunner, Scheduler, default_target_dir, detect_platform

    plat = _platform(platform)
    if target_dir is None and not dry_run and plat != detect_platform():
        raise UsageError(f"{plat} agents cannot be removed on this machine ({detect_platform()}); use --dry-run")
    scheduler = Scheduler(
        plat,
        target_dir.expanduser().absolute() if target_dir is not None else default_target_dir(plat),
        RecordingRunner() if dry_run or target_dir else make_runner(),
        dry_run=dry_run,
        run_commands=target_dir is None,
    )
    report = scheduler.uninstall()
    if dry_run:
        typer.echo("--dry-run: nothing was removed and no command was run.")
    for result in report.commands:
        typer.echo(_command_line(result, dry_run, scheduler.run_commands))
    verb = "would remove" if dry_run else "removed"
    for path in report.removed:
        typer.echo(f"{verb} {path}")
    for note in report.notes:
        typer.echo(note)


@schedule_app.command("show", cls=PlainCommand)
def show(
    tz: TzOption = None,
    platform: PlatformOption = None,
    target_dir: TargetOption = None,
    log_dir: LogDirOption = None,
    icbot: IcbotOption = None,
    config_path: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """What is installed, and whether it matches what `install` would write now (exit 3 when not)."""
    setup, status = scheduler_status(
        platform=platform, tz=tz, target_dir=target_dir, log_dir=log_dir, icbot=icbot, config_path=config_path
    )
    summary = status.summary(setup.today)
    renew_due = status.renew_due(setup.today)
    if as_json:
        payload = {
            "platform": status.platform,
            "target_dir": str(setup.scheduler.target_dir),
            "summary": summary,
            "installed": status.installed,
            "current": status.current,
            "valid_until": status.valid_until.isoformat() if status.valid_until else None,
            "renew_due": renew_due,
            "time_zone": setup.plan.zone_name,
            "files": [{"name": f.name, "state": f.state, "reasons": list(f.reasons)} for f in status.files],
        }
        typer.echo(json.dumps(payload, indent=2))
    else:
        typer.echo(f"{status.platform} agents in {setup.scheduler.target_dir}: {summary}")
        for f in status.files:
            why = f" — {'; '.join(f.reasons)}" if f.reasons else ""
            typer.echo(f"  {f.name:<28} {f.state}{why}")
        if not status.current or renew_due:
            typer.echo("Run `icbot schedule install` to bring them up to date.")
    ok = status.installed and status.current and not renew_due
    raise typer.Exit(0 if ok else EXIT_NO_TRADE)


def scheduler_status(
    *,
    platform: str | None = None,
    tz: str | None = None,
    target_dir: Path | None = None,
    log_dir: Path | None = None,
    icbot: Path | None = None,
    config_path: Path | None = None,
) -> tuple[Setup, SchedulerStatus]:
    """The installed agents against what install would write now."""
    from icbot.runner.scheduler import installed_status

    zone, zone_name = _zone(tz)
    return installed_status(
        load_config(config_path),
        platform=_platform(platform),
        zone=zone,
        zone_name=zone_name,
        today=Clock.from_env().now_ny().date(),
        target_dir=target_dir,
        log_dir=log_dir,
        icbot=str(icbot.expanduser().absolute()) if icbot is not None else None,
        runner=None if target_dir else make_runner(),
    )


# -- printing ---------------------------------------------------------------------------------------------
def _next_firings(setup: Setup) -> list[NextFiring]:
    from icbot.core.agents import LAUNCHD, RUN_TODAY, next_calendar_firings, next_run_today_firings

    now = Clock.from_env().now()
    if setup.plan.platform == LAUNCHD:
        return next_run_today_firings(setup.plan.firings(RUN_TODAY), setup.zone, now, setup.sessions)
    return next_calendar_firings(now, setup.zone, setup.sessions)


def _command_line(result: CommandResult, dry_run: bool, run_commands: bool) -> str:
    cmd = " ".join(result.argv)
    if dry_run:
        return f"would run: {cmd}"
    if not run_commands:
        return f"not run (--target-dir): {cmd}"
    suffix = "" if result.returncode == 0 else f"  (exit {result.returncode}: {result.output or 'no output'})"
    return f"ran: {cmd}{suffix}"


def _print_install(setup: Setup, report: Report, nexts: list[NextFiring], dry_run: bool) -> None:
    from icbot.core.agents import CHECK, CHECK_INTERVAL_MINUTES, DOCTOR, LAUNCHD, RENEW_DAYS, RUN_TODAY, on_calendar
    from icbot.runner.scheduler import check_window, describe_firings

    plan, scheduler = setup.plan, setup.scheduler
    echo = typer.echo
    if dry_run:
        echo("--dry-run: nothing is written and no command is run.")
    echo(f"icbot schedule install: {plan.platform} agents in {scheduler.target_dir}, time zone {plan.zone_name}")
    for folder in report.created_dirs:
        echo(f"{'would create' if dry_run else 'created'} {folder}")
    for path, content in report.files.items():
        if dry_run:
            echo(f"--- would write {path} ---")
            echo(content.decode().rstrip("\n"))
            echo(f"--- end of {Path(path).name} ---")
        else:
            echo(f"wrote {path}")
    for path in report.unchanged:
        echo(f"unchanged {path}")
    for result in report.commands:
        echo(_command_line(result, dry_run, scheduler.run_commands))
    for note in report.notes:
        echo(note)
    if plan.platform == LAUNCHD:
        echo(f"run-today fires at {describe_firings(plan.firings(RUN_TODAY))} ({plan.zone_name})")
        echo(f"doctor fires at {describe_firings(plan.firings(DOCTOR))}")
        window = check_window(plan.firings(CHECK))
        echo(f"check fires every {CHECK_INTERVAL_MINUTES} min during the trading window: {window}")
        echo(
            f"These local times are computed for the sessions through {plan.valid_until}; run install again before "
            f"then (`icbot schedule show` and `icbot doctor` warn {RENEW_DAYS} days ahead). Logs: {plan.log_dir}"
        )
    else:
        echo(f"run-today: {'; '.join(on_calendar(plan.instants(RUN_TODAY)))}")
        echo(f"check every {CHECK_INTERVAL_MINUTES} min during the trading window; doctor at 09:15 ET")
        echo("Output: journalctl --user -u icbot-run-today (and icbot-check, icbot-doctor)")
    echo(f"Next run-today firings (New York · {plan.zone_name}):")
    for f in nexts:
        mark = "→" if f.trades else " "
        echo(f" {mark} {f.at:%a %Y-%m-%d %H:%M} ET · {f.local:%a %H:%M %Z}  {f.note}")


def _install_json(setup: Setup, report: Report, nexts: list[NextFiring], dry_run: bool) -> dict[str, Any]:
    from icbot.core.agents import LAUNCHD

    plan = setup.plan
    return {
        "dry_run": dry_run,
        "platform": plan.platform,
        "target_dir": str(setup.scheduler.target_dir),
        "time_zone": plan.zone_name,
        "valid_until": plan.valid_until.isoformat() if plan.platform == LAUNCHD else None,
        "files": {path: content.decode() for path, content in report.files.items()},
        "unchanged": report.unchanged,
        "created_dirs": report.created_dirs,
        "commands": [
            {"argv": list(r.argv), "returncode": r.returncode, "run": not dry_run and setup.scheduler.run_commands}
            for r in report.commands
        ],
        "notes": report.notes,
        "next_run_today": [
            {"new_york": f.at.isoformat(), "local": f.local.isoformat(), "trades": f.trades, "note": f.note}
            for f in nexts
        ],
    }


def _is_tty() -> bool:
    return Console().is_terminal


def register(app: typer.Typer) -> None:
    app.add_typer(schedule_app)
