"""`icbot schedule`: the coming sessions with entry, deadline and time exit in New York and local time.

The point is to let the user see, before it matters, that 09:32 ET is 15:32 in Berlin most of the year but
14:32 in the weeks when the US and Europe switch daylight saving on different Sundays, and which days
are holidays or half days. The command is a group so that installing the launchd agent can later be
added as `icbot schedule install` without changing this invocation.
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

from icbot.clock import NEW_YORK, Clock
from icbot.config import EntryConfig, ExitsConfig, load_config
from icbot.errors import UsageError

if TYPE_CHECKING:
    from exchange_calendars import ExchangeCalendar

MAX_DAYS = 1000

schedule_app = typer.Typer(
    name="schedule",
    help="Show the next sessions' entry, deadline and time exit in New York and local time.",
    add_completion=False,
)


def build_rows(
    cal: ExchangeCalendar,
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
    from icbot.core.schedule import next_sessions, skipped_weekdays

    sessions = next_sessions(cal, from_day, n, entry, exits)
    rows: list[dict[str, Any]] = []
    if sessions:
        for skipped in skipped_weekdays(cal, from_day, sessions[-1].date):
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
    tz = environ.get("TZ", "").lstrip(":").strip()
    candidates = [tz] if tz else []
    if not tz:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    for name in candidates:
        try:
            return ZoneInfo(name), name
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return None, "local"


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


@schedule_app.callback(invoke_without_command=True)
def schedule(
    ctx: typer.Context,
    from_: Annotated[
        str | None, typer.Option("--from", help="First day to list, YYYY-MM-DD (default: today in New York).")
    ] = None,
    days: Annotated[int, typer.Option("--days", "-n", help=f"How many sessions to list (1–{MAX_DAYS}).")] = 10,
    tz: Annotated[
        str | None, typer.Option("--tz", help="Time zone for the local columns (default: this machine's).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    config_path: Annotated[
        Path | None, typer.Option("--config", "-c", help="config.yaml to use (else $ICBOT_CONFIG, ./config.yaml).")
    ] = None,
) -> None:
    """The next sessions with entry, deadline and time exit in ET and local time; holidays and half days marked."""
    if ctx.invoked_subcommand is not None:
        return
    if not 1 <= days <= MAX_DAYS:
        raise UsageError(f"--days: {days} is out of range (1–{MAX_DAYS})")
    zone, label = (parse_zone(tz), tz) if tz else local_zone(os.environ)
    config = load_config(config_path)
    start = parse_day(from_) if from_ else Clock.from_env().now_ny().date()

    from icbot.core.schedule import OutOfCalendarRange, shared_calendar

    try:
        rows = build_rows(shared_calendar(), start, days, config.entry, config.exits, zone)
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


def _is_tty() -> bool:
    return Console().is_terminal


def register(app: typer.Typer) -> None:
    app.add_typer(schedule_app)
